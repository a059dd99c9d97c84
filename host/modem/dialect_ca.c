/*
 * The application network and CA* sockets of the SIM7070 (and of newer SIM7000 firmware):
 *
 *   SIM7070  AT+CNACT=0,1            OK, then +APP PDP: 0,ACTIVE
 *   SIM7000  AT+CNACT=1,"apn"        OK, then +APP PDP: ACTIVE
 *   SIM7070  AT+CAOPEN=0,0,"TCP","host",port     +CAOPEN: 0,<result> then OK (it waits)
 *   SIM7000  AT+CAOPEN=0,"host",port             the same answer
 *   AT+CASEND=0,<len>                 "> ", <len> bytes, OK (SIM7000 adds +CASEND: 0,0,<len>)
 *   +CADATAIND: 0                     data arrived
 *   AT+CARECV=0,<len>                 +CARECV: <read>,<data> OK   (at most 1460)
 *   +CASTATE: 0,0                     the server closed
 *   AT+CACLOSE=0                      OK
 *
 * TLS: AT+CASSLCFG=<cid>,"SSL",1 before AT+CAOPEN; AT+CSSLCFG="sslversion",0,3.
 */
#include "emulator_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define LOCAL_ADDRESS "10.64.12.7"

static bool is_sim7070(const modem_emulator *emulator)
{
    return emulator->model == MODEM_MODEL_SIM7070;
}

static int cid_limit(const modem_emulator *emulator)
{
    return is_sim7070(emulator) ? 13 : 8;
}

static bool valid_cid(const modem_emulator *emulator, const at_command *command, int index,
                      long *cid)
{
    return argument_int(command, index, cid) && *cid >= 0 && *cid < cid_limit(emulator);
}

static void drop(modem_emulator *emulator, int cid)
{
    ca_state *state = &emulator->ca;
    link_close(emulator, state->links[cid]);
    state->links[cid] = NULL;
    state->notified[cid] = false;
}

static void pdp_urc(modem_emulator *emulator, int index, bool active)
{
    if (is_sim7070(emulator))
        out_urc_after_reply(emulator, "+APP PDP: %d,%s", index, active ? "ACTIVE" : "DEACTIVE");
    else
        out_urc_after_reply(emulator, "+APP PDP: %s", active ? "ACTIVE" : "DEACTIVE");
}

/* ---- application network ------------------------------------------------------------------------
 */

static void cnact_done(modem_emulator *emulator, int argument, const char *text)
{
    int index = argument & 0xFF;
    (void)text;
    if (((uint32_t)argument >> 8) != (emulator->generation & 0xFFFFFF))
        return;
    emulator->ca.pdp_active[index] = network_ready(emulator);
    pdp_urc(emulator, index, emulator->ca.pdp_active[index]);
}

static void close_all(modem_emulator *emulator, bool announce)
{
    int cid;
    for (cid = 0; cid < CA_LINKS; cid++) {
        if (emulator->ca.links[cid]) {
            if (announce && link_usable(emulator->ca.links[cid]))
                out_urc(emulator, "+CASTATE: %d,0", cid);
            drop(emulator, cid);
        }
    }
}

static int command_cnact(modem_emulator *emulator, const at_command *command)
{
    ca_state *state = &emulator->ca;
    long index = 0, action;
    int slot;
    if (command->type == COMMAND_READ) {
        if (is_sim7070(emulator)) {
            for (slot = 0; slot < 4; slot++)
                out_line(emulator, "+CNACT: %d,%d,\"%s\"", slot, state->pdp_active[slot] ? 1 : 0,
                         state->pdp_active[slot] ? LOCAL_ADDRESS : "0.0.0.0");
        } else {
            out_line(emulator, "+CNACT: %d,\"%s\"", state->pdp_active[0] ? 1 : 0,
                     state->pdp_active[0] ? LOCAL_ADDRESS : "0.0.0.0");
        }
        return RESULT_OK;
    }
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (command->type != COMMAND_SET)
        return RESULT_ERROR;
    if (is_sim7070(emulator)) {
        if (!argument_int(command, 0, &index) || index < 0 || index > 3 ||
            !argument_int(command, 1, &action) || action < 0 || action > 2)
            return RESULT_ERROR;
    } else if (!argument_int(command, 0, &action) || action < 0 || action > 2) {
        return RESULT_ERROR;
    }
    if (action == 0) {
        if (!state->pdp_active[index])
            return RESULT_ERROR;
        close_all(emulator, false);
        state->pdp_active[index] = false;
        schedule(emulator, 100, cnact_done,
                 (int)(((emulator->generation & 0xFFFFFF) << 8) | (uint32_t)index), NULL);
        /* cnact_done reports the state the network allows: inactive now */
        return RESULT_OK;
    }
    if (state->pdp_active[index])
        return RESULT_ERROR; /* already active */
    schedule(emulator, network_ready(emulator) ? 500 : 2000, cnact_done,
             (int)(((emulator->generation & 0xFFFFFF) << 8) | (uint32_t)index), NULL);
    return RESULT_OK;
}

static int command_cacid(modem_emulator *emulator, const at_command *command)
{
    long cid;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CACID: %d", emulator->ca.current_cid);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!valid_cid(emulator, command, 0, &cid))
        return RESULT_ERROR;
    emulator->ca.current_cid = (int)cid;
    return RESULT_OK;
}

static int command_casslcfg(modem_emulator *emulator, const at_command *command)
{
    long cid, value;
    const char *what = argument_text(command, 1);
    if (command->type == COMMAND_READ) {
        int index;
        for (index = 0; index < cid_limit(emulator); index++)
            out_line(emulator, "+CASSLCFG: %d,\"SSL\",%d", index, emulator->ca.ssl[index] ? 1 : 0);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!valid_cid(emulator, command, 0, &cid) || !argument_present(command, 2))
        return RESULT_ERROR;
    if (strcasecmp(what, "SSL") == 0) {
        if (!argument_int(command, 2, &value) || value < 0 || value > 1)
            return RESULT_ERROR;
        emulator->ca.ssl[cid] = value == 1;
    } else if (strcasecmp(what, "CLIENTCERT") == 0) {
        /* not a key of AT+CASSLCFG in SIMCom's CA-application manuals (that is the SIM7600's
         * AT+CSSLCFG): a driver that sends it would fail on a real modem */
        return RESULT_ERROR;
    } else if (strcasecmp(what, "CACERT") == 0 || strcasecmp(what, "CERT") == 0) {
        /* a converted file of the store (AT+CFSWFILE, AT+CSSLCFG="convert"): "CACERT" the CA,
         * "CERT" the client's certificate, presented with the key its convert paired it with */
        const char *name = argument_text(command, 2);
        char *slot = strcasecmp(what, "CACERT") == 0 ? emulator->ca.ssl_ca[cid]
                                                     : emulator->ca.ssl_certificate[cid];
        if (strlen(name) >= MODEM_CERTIFICATE_NAME)
            return RESULT_ERROR;
        snprintf(slot, MODEM_CERTIFICATE_NAME, "%s", name);
    }
    /* CRINDEX, PROTOCOL, SNI and friends are accepted */
    return RESULT_OK;
}

/* Parses a stored file as what the convert says it is; false when it is not that. */
static bool parses_as(const modem_certificate *file, bool key)
{
    char *text;
    bool parsed;
    mbedtls_x509_crt certificate;
    mbedtls_pk_context private_key;
    if (!file || !(text = malloc(file->size + 1)))
        return false;
    memcpy(text, file->data, file->size);
    text[file->size] = '\0';
    if (key) {
        mbedtls_pk_init(&private_key);
        parsed =
            mbedtls_pk_parse_key(&private_key, (unsigned char *)text, file->size + 1, NULL, 0) == 0;
        mbedtls_pk_free(&private_key);
    } else {
        mbedtls_x509_crt_init(&certificate);
        parsed = mbedtls_x509_crt_parse(&certificate, (unsigned char *)text, file->size + 1) == 0;
        mbedtls_x509_crt_free(&certificate);
    }
    memset(text, 0, file->size);
    free(text);
    return parsed;
}

/* AT+CSSLCFG="convert",2,"ca" (a CA certificate) or "convert",1,"cert","key" (the client's
 * certificate and its key): the modem turns uploaded files into its own form; here they are
 * checked and the pair remembered. */
static int convert(modem_emulator *emulator, const at_command *command)
{
    long type;
    modem_certificate *file =
        (modem_certificate *)certificate_find(emulator, argument_text(command, 2));
    if (!argument_int(command, 1, &type) || (type != 1 && type != 2) || !parses_as(file, false))
        return RESULT_ERROR;
    if (type == 1) {
        const char *key_name = argument_text(command, 3);
        if (!parses_as(certificate_find(emulator, key_name), true) ||
            strlen(key_name) >= MODEM_CERTIFICATE_NAME)
            return RESULT_ERROR;
        snprintf(file->key_name, sizeof(file->key_name), "%s", key_name);
    }
    file->converted = true;
    return RESULT_OK;
}

static int command_csslcfg(modem_emulator *emulator, const at_command *command)
{
    const char *what = argument_text(command, 0);
    long value;
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!argument_present(command, 0))
        return RESULT_ERROR;
    if (strcasecmp(what, "sslversion") == 0) {
        if (!argument_int(command, 2, &value) || value < 0 || value > 5)
            return RESULT_ERROR;
        emulator->ca.ssl_version = (int)value;
    } else if (strcasecmp(what, "convert") == 0) {
        return convert(emulator, command);
    } else if (strcasecmp(what, "ctxindex") == 0) {
        long context;
        if (!argument_int(command, 1, &context) || context < 0 || context > 5)
            return RESULT_ERROR;
        out_line(emulator, "+CSSLCFG: %ld,%d,0,\"\",\"\",\"\"", context,
                 emulator->ca.ssl_version ? emulator->ca.ssl_version : 3);
    }
    return RESULT_OK;
}

/* ---- sockets
 * ------------------------------------------------------------------------------------- */

/* +CAOPEN <result> codes */
static int open_error(link_failure failure)
{
    switch (failure) {
    case LINK_FAILURE_DNS:
        return 20;
    case LINK_FAILURE_REFUSED:
        return 23;
    case LINK_FAILURE_SOCKET:
        return 1;
    default:
        return 27; /* connect failed: timeout, TLS */
    }
}

static void open_answer(modem_emulator *emulator, int cid, int result)
{
    out_line(emulator, "+CAOPEN: %d,%d", cid, result);
    out_ok(emulator);
}

static int command_caopen(modem_emulator *emulator, const at_command *command)
{
    ca_state *state = &emulator->ca;
    long cid, pdp = 0, port, receive_mode = 0;
    int host_index;
    link_options options;
    link_failure failure = LINK_FAILURE_NONE;
    modem_link *link;
    if (command->type == COMMAND_READ) {
        int index;
        for (index = 0; index < cid_limit(emulator); index++)
            if (state->links[index] && link_get_state(state->links[index]) == LINK_OPEN)
                out_line(emulator, "+CAOPEN: %d,%ld,\"TCP\",\"%s\",%u", index, (long)0,
                         link_remote_address(state->links[index]),
                         (unsigned)link_remote_port(state->links[index]));
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET || !valid_cid(emulator, command, 0, &cid))
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (is_sim7070(emulator)) {
        /* AT+CAOPEN=<cid>,<pdp_index>,<conn_type>,<server>,<port>[,<recv_mode>] */
        if (!argument_int(command, 1, &pdp) || pdp < 0 || pdp > 3)
            return RESULT_ERROR;
        if (strcasecmp(argument_text(command, 2), "TCP") != 0)
            return RESULT_ERROR;
        host_index = 3;
        if (argument_present(command, 5) &&
            (!argument_int(command, 5, &receive_mode) || receive_mode < 0 || receive_mode > 1))
            return RESULT_ERROR;
    } else if (strcasecmp(argument_text(command, 1), "TCP") == 0) {
        host_index = 2; /* AT+CAOPEN=<cid>,"TCP",<server>,<port> */
    } else {
        host_index = 1; /* AT+CAOPEN=<cid>,<server>,<port> */
    }
    if (!argument_present(command, host_index) || !argument_int(command, host_index + 1, &port) ||
        port < 1 || port > 65535)
        return RESULT_ERROR;
    if (!state->pdp_active[pdp] || !network_ready(emulator)) {
        open_answer(emulator, (int)cid, 21); /* the application network is not active */
        return RESULT_DONE;
    }
    if (link_usable(state->links[cid])) {
        open_answer(emulator, (int)cid, 1);
        return RESULT_DONE;
    }
    if (state->links[cid])
        drop(emulator, (int)cid);
    memset(&options, 0, sizeof(options));
    options.tls = state->ssl[cid];
    options.tls_max_minor = state->ssl_version == 1 ? 1 : state->ssl_version == 2 ? 2 : 3;
    /* A CA set verifies the server (the manuals: without one the server is not verified); a
     * client certificate set is presented with the key its convert paired it with. Files
     * named but never written or converted fail the handshake. */
    if (state->ssl_ca[cid][0]) {
        const modem_certificate *ca = certificate_find(emulator, state->ssl_ca[cid]);
        options.verify = true;
        options.ca = ca && ca->converted ? ca : NULL;
        options.ca_missing = !options.ca;
    }
    if (state->ssl_certificate[cid][0]) {
        const modem_certificate *own = certificate_find(emulator, state->ssl_certificate[cid]);
        options.certificate = own && own->converted ? own : NULL;
        options.key = options.certificate ? certificate_find(emulator, own->key_name) : NULL;
        options.client_missing = !options.certificate || !options.key;
    }
    link = link_open(emulator, OWNER_CA, (int)cid, argument_text(command, host_index),
                     (uint16_t)port, state->ssl[cid] ? &options : NULL, &failure);
    if (!link) {
        open_answer(emulator, (int)cid, open_error(failure));
        return RESULT_DONE;
    }
    state->links[cid] = link;
    state->notified[cid] = false;
    state->receive_mode[cid] = (int)receive_mode;
    /* the command waits for the connection */
    state->opening = (int)cid;
    emulator->busy = true;
    return RESULT_PENDING;
}

static void send_done(modem_emulator *emulator, const uint8_t *payload, size_t length,
                      bool cancelled)
{
    ca_state *state = &emulator->ca;
    modem_link *link = state->links[state->sending_link];
    size_t sent;
    if (cancelled) {
        out_ok(emulator);
        return;
    }
    if (!link || link_get_state(link) != LINK_OPEN) {
        out_error(emulator);
        return;
    }
    sent = link_send(emulator, link, payload, length);
    out_ok(emulator);
    if (!is_sim7070(emulator))
        out_line(emulator, "+CASEND: %d,%d,%zu", state->sending_link, sent == length ? 0 : 1, sent);
}

static int command_casend(modem_emulator *emulator, const at_command *command)
{
    ca_state *state = &emulator->ca;
    long cid, length, input_time = 0;
    modem_link *link;
    data_sink sink;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!valid_cid(emulator, command, 0, &cid) || !argument_int(command, 1, &length) ||
        length < 1 || (size_t)length > emulator->profile->max_send)
        return RESULT_ERROR;
    if (argument_present(command, 2) &&
        (!argument_int(command, 2, &input_time) || input_time < 0 || input_time > 100000))
        return RESULT_ERROR;
    link = state->links[cid];
    if (!link || link_get_state(link) != LINK_OPEN || link_send_room(link) < (size_t)length)
        return RESULT_ERROR;
    state->sending_link = (int)cid;
    memset(&sink, 0, sizeof(sink));
    sink.expected = (size_t)length;
    sink.on_end = send_done;
    if (input_time)
        sink.deadline_us = emulator->now_us + (uint64_t)input_time * 1000;
    begin_data_input(emulator, &sink, true);
    return RESULT_PENDING;
}

static int command_carecv(modem_emulator *emulator, const at_command *command)
{
    ca_state *state = &emulator->ca;
    long cid, length;
    modem_link *link;
    uint8_t data[1460];
    size_t count;
    char header[32];
    if (command->type == COMMAND_READ) {
        int index;
        for (index = 0; index < cid_limit(emulator); index++)
            if (state->links[index] && link_held(state->links[index]))
                out_line(emulator, "+CARECV: %d,%zu", index, link_held(state->links[index]));
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!valid_cid(emulator, command, 0, &cid) || !argument_int(command, 1, &length) ||
        length < 1 || (size_t)length > emulator->profile->max_read)
        return RESULT_ERROR; /* never more than the modem's maximum */
    link = state->links[cid];
    if (!link)
        return RESULT_ERROR;
    if (emulator_chance(emulator, emulator->options.quirk_rate) && link_held(link))
        out_line(emulator, "+CADATAIND: %ld", cid);
    count = link_read(link, data, (size_t)length);
    /* the data follows the length on the same line */
    snprintf(header, sizeof(header), "%s+CARECV: %zu%s", emulator->verbose ? "\r\n" : "", count,
             count ? "," : "");
    out_text(emulator, header);
    out_raw(emulator, data, count);
    out_text(emulator, "\r\n");
    out_safe_point(emulator);
    if (link_held(link) == 0)
        state->notified[cid] = false;
    return RESULT_OK;
}

static int command_caclose(modem_emulator *emulator, const at_command *command)
{
    long cid;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!valid_cid(emulator, command, 0, &cid) || !emulator->ca.links[cid])
        return RESULT_ERROR;
    drop(emulator, (int)cid);
    return RESULT_OK;
}

static int command_castate(modem_emulator *emulator, const at_command *command)
{
    int index;
    if (command->type != COMMAND_READ)
        return RESULT_OK;
    for (index = 0; index < cid_limit(emulator); index++) {
        modem_link *link = emulator->ca.links[index];
        if (link)
            out_line(emulator, "+CASTATE: %d,%d", index, link_get_state(link) == LINK_OPEN ? 1 : 0);
    }
    return RESULT_OK;
}

/* ---- events
 * --------------------------------------------------------------------------------------- */

static void finish_open(modem_emulator *emulator, int cid, int result)
{
    if (emulator->ca.opening != cid)
        return;
    emulator->ca.opening = -1;
    open_answer(emulator, cid, result);
    command_finished(emulator);
}

void ca_link_event(modem_emulator *emulator, modem_link *link, unsigned events)
{
    ca_state *state = &emulator->ca;
    int cid = link_get_index(link);
    if (events & LINK_EVENT_CONNECTED)
        finish_open(emulator, cid, 0);
    if (events & LINK_EVENT_FAILED) {
        finish_open(emulator, cid, open_error(link_get_failure(link)));
        drop(emulator, cid);
        return;
    }
    if (events & LINK_EVENT_DATA) {
        if (state->receive_mode[cid] == 1) {
            while (link_held(link)) {
                uint8_t block[1600];
                int length =
                    snprintf((char *)block, 120, "\r\n+CAURC: \"recv\",%d,%zu,\"%s\",%u\r\n", cid,
                             link_held(link) < 1460 ? link_held(link) : 1460,
                             link_remote_address(link), (unsigned)link_remote_port(link));
                size_t count = link_read(link, block + length, 1460);
                out_urc_bytes(emulator, block, (size_t)length + count);
            }
        } else if (data_notice_due(emulator, &state->notified[cid], true)) {
            out_urc(emulator, "+CADATAIND: %d", cid);
        }
    }
    if (events & LINK_EVENT_PEER_CLOSED)
        out_urc(emulator, "+CASTATE: %d,0", cid);
}

void ca_network_lost(modem_emulator *emulator)
{
    ca_state *state = &emulator->ca;
    int index;
    if (state->opening >= 0)
        finish_open(emulator, state->opening, 27);
    close_all(emulator, true);
    for (index = 0; index < 4; index++) {
        if (state->pdp_active[index]) {
            state->pdp_active[index] = false;
            pdp_urc(emulator, index, false);
        }
    }
}

void ca_reset(modem_emulator *emulator)
{
    memset(&emulator->ca, 0, sizeof(emulator->ca));
    emulator->ca.opening = -1;
}

const command_entry ca_commands[] = {
    {"+CNACT", command_cnact, 0},     {"+CNCFG", command_accept, 0},
    {"+CACID", command_cacid, 0},     {"+CASSLCFG", command_casslcfg, 0},
    {"+CSSLCFG", command_csslcfg, 0}, {"+CACFG", command_accept, 0},
    {"+CAOPEN", command_caopen, 0},   {"+CASEND", command_casend, 0},
    {"+CARECV", command_carecv, 0},   {"+CACLOSE", command_caclose, 0},
    {"+CASTATE", command_castate, 0}, {NULL, NULL, 0}};
