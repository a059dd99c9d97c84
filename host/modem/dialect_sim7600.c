/*
 * SIM7600 TCP/IP and SSL, as the SIM7500/SIM7600 TCPIP and SSL application notes describe them
 * and as real logs show them:
 *
 *   AT+NETOPEN            OK, then +NETOPEN: 0          (+IP ERROR: Network is already opened)
 *   AT+CIPRXGET=1         manual receive: +CIPRXGET: 1,<link> when data arrives
 *   AT+CIPOPEN=0,"TCP","host",port     OK, then +CIPOPEN: 0,<err>
 *   AT+CIPSEND=0,<len>    '>' prompt, <len> bytes, OK, +CIPSEND: 0,<len>,<sent>
 *   AT+CIPRXGET=2,0,<len> +CIPRXGET: 2,0,<read>,<rest> <data> OK  (at most 1500; +IP ERROR: No
 * data) AT+CIPRXGET=4,0       +CIPRXGET: 4,0,<held> AT+CIPCLOSE=0         OK, then +CIPCLOSE: 0,0;
 * on a closed link +CIPCLOSE: 0,4 then ERROR +IPCLOSE: 0,1         the server closed; +CIPEVENT:
 * NETWORK CLOSED UNEXPECTEDLY on a drop
 *
 * and the CCH* SSL commands (AT+CCHSTART, AT+CCHOPEN, AT+CCHSEND, AT+CCHRECV, AT+CCHCLOSE) with
 * +CCHEVENT: <s>,RECV EVENT in manual receive mode and +CCH_PEER_CLOSED: <s>.
 */
#include "emulator_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOCAL_ADDRESS "10.64.12.7"

/* ---- helpers
 * ------------------------------------------------------------------------------------- */

static void ip_error(modem_emulator *emulator, const char *text)
{
    out_line(emulator, "+IP ERROR: %s", text);
    out_error(emulator);
}

static bool link_number(const at_command *command, int index, int limit, long *value)
{
    return argument_int(command, index, value) && *value >= 0 && *value < limit;
}

static void drop_socket(modem_emulator *emulator, int number)
{
    sim7600_state *state = &emulator->sim7600;
    link_close(emulator, state->links[number]);
    state->links[number] = NULL;
    state->notified[number] = false;
    state->closing[number] = false;
}

static void drop_session(modem_emulator *emulator, int session)
{
    sim7600_state *state = &emulator->sim7600;
    link_close(emulator, state->ssl[session]);
    state->ssl[session] = NULL;
    state->ssl_notified[session] = false;
    state->ssl_peer_closed[session] = false;
}

/* +CIPOPEN error codes (SIM7500/SIM7600 TCPIP manual, <err>) */
static int open_error(link_failure failure)
{
    switch (failure) {
    case LINK_FAILURE_DNS:
        return 11;
    case LINK_FAILURE_TIMEOUT:
        return 10;
    case LINK_FAILURE_SOCKET:
        return 5;
    default:
        return 1; /* network failure: refused, reset */
    }
}

/* +CCHOPEN error codes */
static int ssl_open_error(link_failure failure)
{
    switch (failure) {
    case LINK_FAILURE_DNS:
        return 13;
    case LINK_FAILURE_TIMEOUT:
        return 5;
    case LINK_FAILURE_TLS:
        return 15;
    case LINK_FAILURE_SOCKET:
        return 12;
    default:
        return 14;
    }
}

/* ---- network service
 * ------------------------------------------------------------------------------ */

static void netopen_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    if (network_ready(emulator)) {
        emulator->sim7600.net_open = true;
        emulator->sim7600.net_broken = false;
        out_urc_after_reply(emulator, "+NETOPEN: 0");
    } else {
        out_urc_after_reply(emulator, "+NETOPEN: 1");
    }
}

static int command_netopen(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+NETOPEN: %d", state->net_open ? 1 : 0);
        return RESULT_OK;
    }
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (state->net_open) {
        ip_error(emulator, "Network is already opened");
        return RESULT_DONE;
    }
    /* activating the PDP context takes a moment; without a network it fails the same way */
    schedule(emulator, network_ready(emulator) ? 300 : 1000, netopen_done,
             (int)emulator->generation, NULL);
    return RESULT_OK;
}

static void netclose_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation == emulator->generation)
        out_urc_after_reply(emulator, "+NETCLOSE: 0");
}

static int command_netclose(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    int index;
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (!state->net_open) {
        ip_error(emulator, "Network is already closed");
        return RESULT_DONE;
    }
    for (index = 0; index < SIM7600_LINKS; index++)
        if (state->links[index])
            drop_socket(emulator, index);
    state->net_open = false;
    state->net_broken = false;
    schedule(emulator, 100, netclose_done, (int)emulator->generation, NULL);
    return RESULT_OK;
}

static int command_ipaddr(modem_emulator *emulator, const at_command *command)
{
    (void)command;
    if (!emulator->sim7600.net_open || emulator->sim7600.net_broken) {
        ip_error(emulator, "Network not opened");
        return RESULT_DONE;
    }
    out_line(emulator, "+IPADDR: %s", LOCAL_ADDRESS);
    return RESULT_OK;
}

/* ---- sockets
 * -------------------------------------------------------------------------------------- */

static int command_cipopen(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    long number, port;
    int index;
    modem_link *link;
    link_failure failure = LINK_FAILURE_NONE;
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+CIPOPEN: (0-9),(\"TCP\",\"UDP\")");
        return RESULT_OK;
    }
    if (command->type == COMMAND_READ) {
        for (index = 0; index < SIM7600_LINKS; index++) {
            modem_link *open = state->links[index];
            if (open && link_get_state(open) == LINK_OPEN)
                out_line(emulator, "+CIPOPEN: %d,\"TCP\",\"%s\",%u,-1", index,
                         link_remote_address(open), (unsigned)link_remote_port(open));
            else
                out_line(emulator, "+CIPOPEN: %d", index);
        }
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET || !link_number(command, 0, SIM7600_LINKS, &number) ||
        !argument_int(command, 3, &port) || port < 1 || port > 65535 ||
        !argument_present(command, 2))
        return RESULT_ERROR;
    if (strcasecmp(argument_text(command, 1), "TCP") != 0) {
        /* UDP and server sockets are not emulated */
        out_line(emulator, "+CIPOPEN: %ld,4", number);
        out_error(emulator);
        return RESULT_DONE;
    }
    if (!state->net_open || state->net_broken) {
        out_line(emulator, "+CIPOPEN: %ld,%d", number, state->net_broken ? 1 : 2);
        out_error(emulator);
        return RESULT_DONE;
    }
    if (link_usable(state->links[number])) {
        out_line(emulator, "+CIPOPEN: %ld,4", number);
        out_error(emulator);
        return RESULT_DONE;
    }
    if (state->links[number])
        drop_socket(emulator, (int)number);
    link = link_open(emulator, OWNER_SIM7600_SOCKET, (int)number, argument_text(command, 2),
                     (uint16_t)port, NULL, &failure);
    if (!link) {
        out_line(emulator, "+CIPOPEN: %ld,%d", number, open_error(failure));
        out_error(emulator);
        return RESULT_DONE;
    }
    state->links[number] = link;
    state->notified[number] = false;
    return RESULT_OK;
}

static void send_done(modem_emulator *emulator, const uint8_t *payload, size_t length,
                      bool cancelled)
{
    sim7600_state *state = &emulator->sim7600;
    modem_link *link =
        state->sending_ssl ? state->ssl[state->sending_link] : state->links[state->sending_link];
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
    if (state->sending_ssl) {
        if (state->ssl_report_send)
            out_line(emulator, "+CCHSEND: %d,%d", state->sending_link, sent == length ? 0 : 6);
    } else {
        out_line(emulator, "+CIPSEND: %d,%zu,%zu", state->sending_link, length, sent);
    }
}

static int start_send(modem_emulator *emulator, const at_command *command, bool ssl)
{
    sim7600_state *state = &emulator->sim7600;
    long number, length = 0;
    bool variable;
    modem_link *link;
    data_sink sink;
    if (command->type == COMMAND_TEST) {
        out_line(emulator, ssl ? "+CCHSEND: (0-1),(1-2048)" : "+CIPSEND: (0-9),(1-1500)");
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET ||
        !link_number(command, 0, ssl ? SIM7600_SSL_SESSIONS : SIM7600_LINKS, &number))
        return RESULT_ERROR;
    variable = !argument_present(command, 1);
    if (!variable && (!argument_int(command, 1, &length) || length < 1 ||
                      (size_t)length > (ssl ? 2048u : emulator->profile->max_send)))
        return RESULT_ERROR;
    link = ssl ? state->ssl[number] : state->links[number];
    if (!link || link_get_state(link) != LINK_OPEN)
        return RESULT_ERROR;
    if (link_send_room(link) < (size_t)(variable ? 1 : length))
        return RESULT_ERROR; /* the send buffer is full: TCP busy */
    state->sending_link = (int)number;
    state->sending_ssl = ssl;
    memset(&sink, 0, sizeof(sink));
    sink.expected = variable ? 0 : (size_t)length;
    sink.ctrl_z = variable;
    sink.limit = emulator->profile->max_send;
    sink.on_end = send_done;
    begin_data_input(emulator, &sink, true);
    return RESULT_PENDING;
}

static int command_cipsend(modem_emulator *emulator, const at_command *command)
{
    return start_send(emulator, command, false);
}

static int command_ciprxget(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    long mode, number, length;
    modem_link *link;
    size_t held, count, limit;
    uint8_t data[1500];
    char quirk[40];
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CIPRXGET: %d", state->receive_mode);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CIPRXGET: (0-4),(0-9),(1-1500)");
        return RESULT_OK;
    case COMMAND_SET:
        break;
    default:
        return RESULT_ERROR;
    }
    if (!argument_int(command, 0, &mode) || mode < 0 || mode > 4)
        return RESULT_ERROR;
    if (mode <= 1) {
        state->receive_mode = (int)mode;
        return RESULT_OK;
    }
    if (!link_number(command, 1, SIM7600_LINKS, &number))
        return RESULT_ERROR;
    link = state->links[number];
    if (!link) {
        ip_error(emulator, "No data");
        return RESULT_DONE;
    }
    held = link_held(link);
    if (mode == 4) {
        out_line(emulator, "+CIPRXGET: 4,%ld,%zu", number, held);
        return RESULT_OK;
    }
    limit = mode == 3 ? emulator->profile->max_read / 2 : emulator->profile->max_read;
    length = (long)limit;
    if (argument_present(command, 2) &&
        (!argument_int(command, 2, &length) || length < 1 || (size_t)length > limit)) {
        /* the modem refuses a read larger than its maximum */
        ip_error(emulator, "Invalid parameter");
        return RESULT_DONE;
    }
    if (held == 0) {
        ip_error(emulator, "No data");
        return RESULT_DONE;
    }
    count = (size_t)length < held ? (size_t)length : held;
    /* real logs: more "+CIPRXGET: 1" lines before the reply, and now and then one between the
     * header and its data */
    if (emulator_chance(emulator, emulator->options.quirk_rate))
        out_line(emulator, "+CIPRXGET: 1,%ld", number);
    snprintf(quirk, sizeof(quirk), "+CIPRXGET: 1,%ld", number);
    count = link_read(link, data, count);
    out_read_header(emulator,
                    emulator_chance(emulator, emulator->options.quirk_rate) ? quirk : NULL,
                    "+CIPRXGET: %ld,%ld,%zu,%zu", mode, number, count, held - count);
    if (mode == 3)
        out_hex(emulator, data, count);
    else
        out_raw(emulator, data, count);
    out_text(emulator, "\r\n");
    out_safe_point(emulator);
    state->notified[number] = false;
    return RESULT_OK;
}

static void cipclose_done(modem_emulator *emulator, int argument, const char *text)
{
    int number = argument & 0xFF;
    uint32_t generation = (uint32_t)argument >> 8;
    (void)text;
    if ((generation & 0xFFFFFF) != (emulator->generation & 0xFFFFFF))
        return;
    out_urc_after_reply(emulator, "+CIPCLOSE: %d,0", number);
}

static int command_cipclose(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    long number;
    int index;
    if (command->type == COMMAND_READ) {
        char list[64] = "+CIPCLOSE: ";
        for (index = 0; index < SIM7600_LINKS; index++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof(list) - used, "%s%d", index ? "," : "",
                     state->links[index] && link_get_state(state->links[index]) == LINK_OPEN);
        }
        out_line(emulator, "%s", list);
        return RESULT_OK;
    }
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (command->type != COMMAND_SET || !link_number(command, 0, SIM7600_LINKS, &number))
        return RESULT_ERROR;
    if (!link_usable(state->links[number])) {
        /* closing a link that is not open: the error code, then ERROR (real logs) */
        if (state->links[number])
            drop_socket(emulator, (int)number);
        out_line(emulator, "+CIPCLOSE: %ld,4", number);
        out_error(emulator);
        return RESULT_DONE;
    }
    drop_socket(emulator, (int)number);
    schedule_us(emulator, emulator->one_way_us + 10000, cipclose_done,
                (int)(((emulator->generation & 0xFFFFFF) << 8) | (uint32_t)number), NULL);
    return RESULT_OK;
}

static int command_cipack(modem_emulator *emulator, const at_command *command)
{
    long number;
    modem_link *link;
    if (command->type != COMMAND_SET || !link_number(command, 0, SIM7600_LINKS, &number))
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    link = emulator->sim7600.links[number];
    if (!link) {
        ip_error(emulator, "Connection is not created");
        return RESULT_DONE;
    }
    out_line(emulator, "+CIPACK: %llu,%llu,%zu", (unsigned long long)link_bytes_sent(link),
             (unsigned long long)(link_bytes_sent(link) - link_unacknowledged(link)),
             link_held(link));
    return RESULT_OK;
}

static int command_cipmode(modem_emulator *emulator, const at_command *command)
{
    return command_mode_zero_only(emulator, command, "+CIPMODE");
}

static int command_cdnsgip(modem_emulator *emulator, const at_command *command)
{
    char address[64];
    if (command->type != COMMAND_SET || !argument_present(command, 0))
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!network_ready(emulator) ||
        !emulator_resolve(emulator, argument_text(command, 0), address, sizeof(address))) {
        out_line(emulator, "+CDNSGIP: 0,10");
        out_error(emulator);
        return RESULT_DONE;
    }
    out_line(emulator, "+CDNSGIP: 1,\"%s\",\"%s\"", argument_text(command, 0), address);
    return RESULT_OK;
}

/* ---- SSL (CCH*)
 * ------------------------------------------------------------------------------------ */

static int command_csslcfg(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    const char *what = argument_text(command, 0);
    long context, value;
    if (command->type == COMMAND_READ || command->type == COMMAND_TEST)
        return RESULT_OK;
    if (command->type != COMMAND_SET || !argument_int(command, 1, &context) || context < 0 ||
        context > 9)
        return RESULT_ERROR;
    if (strcasecmp(what, "sslversion") == 0) {
        if (!argument_int(command, 2, &value) || value < 0 || value > 4)
            return RESULT_ERROR;
        state->ssl_version[context] = (int)value;
    } else if (strcasecmp(what, "authmode") == 0) {
        if (!argument_int(command, 2, &value) || value < 0 || value > 3)
            return RESULT_ERROR;
        state->ssl_authmode[context] = (int)value;
    } else if (!argument_present(command, 2)) {
        return RESULT_ERROR;
    } else if (strcasecmp(what, "cacert") == 0 || strcasecmp(what, "clientcert") == 0 ||
               strcasecmp(what, "clientkey") == 0) {
        /* a name in the certificate store (AT+CCERTDOWN); checked when a session uses it */
        char *slot = strcasecmp(what, "cacert") == 0       ? state->ssl_ca[context]
                     : strcasecmp(what, "clientcert") == 0 ? state->ssl_certificate[context]
                                                           : state->ssl_key[context];
        const char *name = argument_text(command, 2);
        if (strlen(name) >= MODEM_CERTIFICATE_NAME)
            return RESULT_ERROR;
        snprintf(slot, MODEM_CERTIFICATE_NAME, "%s", name);
    }
    /* enableSNI, ignorelocaltime, negotiatetime: accepted */
    return RESULT_OK;
}

static int command_cchset(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    long report, mode = 0;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CCHSET: %d,%d", state->ssl_report_send, state->ssl_receive_mode);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!argument_int(command, 0, &report) || report < 0 || report > 1 ||
        (argument_present(command, 1) &&
         (!argument_int(command, 1, &mode) || mode < 0 || mode > 1)))
        return RESULT_ERROR;
    state->ssl_report_send = (int)report;
    state->ssl_receive_mode = (int)mode;
    return RESULT_OK;
}

static void cchstart_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation == emulator->generation)
        out_urc_after_reply(emulator, "+CCHSTART: 0");
}

static int command_cchstart(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (emulator->sim7600.ssl_started)
        return RESULT_ERROR;
    emulator->sim7600.ssl_started = true;
    schedule(emulator, 50, cchstart_done, (int)emulator->generation, NULL);
    return RESULT_OK;
}

static void cchstop_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation == emulator->generation)
        out_urc_after_reply(emulator, "+CCHSTOP: 0");
}

static int command_cchstop(modem_emulator *emulator, const at_command *command)
{
    int session;
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (!emulator->sim7600.ssl_started)
        return RESULT_ERROR;
    for (session = 0; session < SIM7600_SSL_SESSIONS; session++)
        if (emulator->sim7600.ssl[session])
            drop_session(emulator, session);
    emulator->sim7600.ssl_started = false;
    schedule(emulator, 50, cchstop_done, (int)emulator->generation, NULL);
    return RESULT_OK;
}

static int command_cchsslcfg(modem_emulator *emulator, const at_command *command)
{
    long session, context;
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!link_number(command, 0, SIM7600_SSL_SESSIONS, &session) ||
        !argument_int(command, 1, &context) || context < 0 || context > 9)
        return RESULT_ERROR;
    emulator->sim7600.ssl_context[session] = (int)context;
    return RESULT_OK;
}

static int command_cchmode(modem_emulator *emulator, const at_command *command)
{
    return command_mode_zero_only(emulator, command, "+CCHMODE");
}

static int command_cchopen(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    long session, port, client_type = 2;
    link_options options;
    link_failure failure = LINK_FAILURE_NONE;
    modem_link *link;
    int context, version;
    if (command->type == COMMAND_READ) {
        for (session = 0; session < SIM7600_SSL_SESSIONS; session++) {
            modem_link *open = state->ssl[session];
            if (open && link_get_state(open) == LINK_OPEN)
                out_line(emulator, "+CCHOPEN: %ld,\"%s\",%u,2", session, link_remote_address(open),
                         (unsigned)link_remote_port(open));
            else
                out_line(emulator, "+CCHOPEN: %ld", session);
        }
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!link_number(command, 0, SIM7600_SSL_SESSIONS, &session) || !argument_present(command, 1) ||
        !argument_int(command, 2, &port) || port < 1 || port > 65535 ||
        (argument_present(command, 3) &&
         (!argument_int(command, 3, &client_type) || client_type < 1 || client_type > 2)))
        return RESULT_ERROR;
    if (!state->ssl_started || link_usable(state->ssl[session]))
        return RESULT_ERROR;
    if (!network_ready(emulator)) {
        out_ok(emulator);
        out_line(emulator, "+CCHOPEN: %ld,17", session); /* no network */
        return RESULT_DONE;
    }
    if (state->ssl[session])
        drop_session(emulator, (int)session);
    context = state->ssl_context[session];
    version = state->ssl_version[context];
    memset(&options, 0, sizeof(options));
    options.tls = client_type == 2;
    options.tls_max_minor = version == 2 ? 2 : version <= 1 ? 1 : 3;
    if (version == 0 || version == 4)
        options.tls_max_minor = 3;
    /* authmode 0 none, 1 server, 2 server and client, 3 client only */
    options.verify = state->ssl_authmode[context] == 1 || state->ssl_authmode[context] == 2;
    if (options.tls && options.verify && state->ssl_ca[context][0]) {
        options.ca = certificate_find(emulator, state->ssl_ca[context]);
        options.ca_missing = !options.ca;
    }
    if (options.tls && state->ssl_authmode[context] >= 2) {
        options.certificate = certificate_find(emulator, state->ssl_certificate[context]);
        options.key = certificate_find(emulator, state->ssl_key[context]);
        options.client_missing = !options.certificate || !options.key;
    }
    link = link_open(emulator, OWNER_SIM7600_SSL, (int)session, argument_text(command, 1),
                     (uint16_t)port, &options, &failure);
    if (!link) {
        out_ok(emulator);
        out_line(emulator, "+CCHOPEN: %ld,%d", session, ssl_open_error(failure));
        return RESULT_DONE;
    }
    state->ssl[session] = link;
    state->ssl_notified[session] = false;
    return RESULT_OK;
}

static int command_cchsend(modem_emulator *emulator, const at_command *command)
{
    return start_send(emulator, command, true);
}

static void write_ssl_data(modem_emulator *emulator, int session, modem_link *link, size_t limit,
                           bool as_urc)
{
    uint8_t data[1500];
    char header[48];
    size_t count = link_held(link);
    if (count > limit)
        count = limit;
    if (count > sizeof(data))
        count = sizeof(data);
    count = link_read(link, data, count);
    if (count == 0)
        return;
    if (as_urc) {
        /* push mode: the header and the data travel as one unsolicited block */
        uint8_t block[1600];
        int length =
            snprintf(header, sizeof(header), "\r\n+CCHRECV: DATA,%d,%zu\r\n", session, count);
        memcpy(block, header, (size_t)length);
        memcpy(block + length, data, count);
        out_urc_bytes(emulator, block, (size_t)length + count);
        return;
    }
    out_read_header(emulator, NULL, "+CCHRECV: DATA,%d,%zu", session, count);
    out_raw(emulator, data, count);
    out_text(emulator, "\r\n");
    out_safe_point(emulator);
}

static int command_cchrecv(modem_emulator *emulator, const at_command *command)
{
    sim7600_state *state = &emulator->sim7600;
    long session, length = (long)emulator->profile->max_read;
    modem_link *link;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CCHRECV: LEN,%zu,%zu", state->ssl[0] ? link_held(state->ssl[0]) : 0,
                 state->ssl[1] ? link_held(state->ssl[1]) : 0);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!link_number(command, 0, SIM7600_SSL_SESSIONS, &session))
        return RESULT_ERROR;
    if (argument_present(command, 1) && (!argument_int(command, 1, &length) || length < 0 ||
                                         (size_t)length > emulator->profile->max_read))
        return RESULT_ERROR;
    if (length == 0)
        length = (long)emulator->profile->max_read;
    link = state->ssl[session];
    if (!link || state->ssl_receive_mode != 1)
        return RESULT_ERROR;
    out_ok(emulator);
    write_ssl_data(emulator, (int)session, link, (size_t)length, false);
    out_line(emulator, "+CCHRECV: %ld,0", session);
    state->ssl_notified[session] = false;
    return RESULT_DONE;
}

static void cchclose_done(modem_emulator *emulator, int argument, const char *text)
{
    (void)text;
    if (((uint32_t)argument >> 8) == (emulator->generation & 0xFFFFFF))
        out_urc_after_reply(emulator, "+CCHCLOSE: %d,0", argument & 0xFF);
}

static int command_cchclose(modem_emulator *emulator, const at_command *command)
{
    long session;
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!link_number(command, 0, SIM7600_SSL_SESSIONS, &session) || !emulator->sim7600.ssl[session])
        return RESULT_ERROR;
    drop_session(emulator, (int)session);
    schedule_us(emulator, emulator->one_way_us + 10000, cchclose_done,
                (int)(((emulator->generation & 0xFFFFFF) << 8) | (uint32_t)session), NULL);
    return RESULT_OK;
}

/* ---- events
 * ------------------------------------------------------------------------------------------ */

static void push_socket_data(modem_emulator *emulator, int number, modem_link *link)
{
    /* push mode (AT+CIPRXGET=0): the data goes out as it comes, with its origin */
    while (link_held(link) > 0) {
        uint8_t block[1700];
        int length = snprintf((char *)block, 200, "\r\nRECV FROM:%s:%u\r\n+IPD%zu\r\n",
                              link_remote_address(link), (unsigned)link_remote_port(link),
                              link_held(link) < 1500 ? link_held(link) : 1500);
        size_t count = link_read(link, block + length, 1500);
        out_urc_bytes(emulator, block, (size_t)length + count);
    }
    (void)number;
}

/* Push mode sends what the sessions hold as the UART drains, a block at a time: like the
 * modem's own transmit buffer the output queue takes only a few blocks, so a device holding the
 * line back (RTS) holds the sessions back, and through their full buffers the servers (TCP's
 * window) -- and a session closed or lost has little left on its way. */
#define PUSH_QUEUE_LIMIT 3200

void sim7600_push_pending(modem_emulator *emulator)
{
    sim7600_state *state = &emulator->sim7600;
    int session;
    /* While a '>' prompt takes a payload the modem's output waits, pushed data with it: it
     * stays in the sessions (and the servers' windows) rather than in a buffer that could
     * overflow. */
    if (state->ssl_receive_mode != 0 || emulator->input_mode == INPUT_DATA)
        return;
    for (session = 0; session < SIM7600_SSL_SESSIONS; session++) {
        modem_link *link = state->ssl[session];
        while (link && link_held(link) > 0 && out_pending(emulator) < PUSH_QUEUE_LIMIT)
            write_ssl_data(emulator, session, link, 1500, true);
        /* the close comes after the last of the data, as on the air */
        if (link && link_held(link) == 0 && state->ssl_peer_closed[session]) {
            state->ssl_peer_closed[session] = false;
            out_urc(emulator, "+CCH_PEER_CLOSED: %d", session);
        }
    }
}

void sim7600_link_event(modem_emulator *emulator, modem_link *link, unsigned events)
{
    sim7600_state *state = &emulator->sim7600;
    int number = link_get_index(link);
    if (link_get_owner(link) == OWNER_SIM7600_SSL) {
        if (events & LINK_EVENT_CONNECTED)
            out_urc_after_reply(emulator, "+CCHOPEN: %d,0", number);
        if (events & LINK_EVENT_FAILED) {
            out_urc_after_reply(emulator, "+CCHOPEN: %d,%d", number,
                                ssl_open_error(link_get_failure(link)));
            drop_session(emulator, number);
            return;
        }
        if (events & LINK_EVENT_DATA) {
            if (state->ssl_receive_mode == 0) {
                sim7600_push_pending(emulator);
            } else if (data_notice_due(emulator, &state->ssl_notified[number], false)) {
                out_urc(emulator, "+CCHEVENT: %d,RECV EVENT", number);
            }
        }
        if (events & LINK_EVENT_PEER_CLOSED) {
            if (state->ssl_receive_mode == 0) {
                state->ssl_peer_closed[number] = true;
                sim7600_push_pending(emulator);
            } else {
                out_urc(emulator, "+CCH_PEER_CLOSED: %d", number);
            }
        }
        return;
    }
    if (events & LINK_EVENT_CONNECTED)
        out_urc_after_reply(emulator, "+CIPOPEN: %d,0", number);
    if (events & LINK_EVENT_FAILED) {
        out_urc_after_reply(emulator, "+CIPOPEN: %d,%d", number,
                            open_error(link_get_failure(link)));
        drop_socket(emulator, number);
        return;
    }
    if (events & LINK_EVENT_DATA) {
        if (state->receive_mode == 0) {
            push_socket_data(emulator, number, link);
        } else if (data_notice_due(emulator, &state->notified[number], true)) {
            out_urc(emulator, "+CIPRXGET: 1,%d", number);
        }
    }
    if (events & LINK_EVENT_PEER_CLOSED)
        out_urc(emulator, "+IPCLOSE: %d,1", number);
}

void sim7600_network_lost(modem_emulator *emulator)
{
    sim7600_state *state = &emulator->sim7600;
    int index;
    for (index = 0; index < SIM7600_SSL_SESSIONS; index++) {
        if (state->ssl[index]) {
            out_urc(emulator, "+CCH_PEER_CLOSED: %d", index);
            drop_session(emulator, index);
        }
    }
    if (!state->net_open)
        return;
    for (index = 0; index < SIM7600_LINKS; index++)
        if (state->links[index])
            drop_socket(emulator, index);
    state->net_broken = true;
    out_urc(emulator, "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY");
}

void sim7600_reset(modem_emulator *emulator)
{
    /* the links themselves are closed by links_close_all */
    memset(&emulator->sim7600, 0, sizeof(emulator->sim7600));
}

const command_entry sim7600_commands[] = {{"+NETOPEN", command_netopen, 0},
                                          {"+NETCLOSE", command_netclose, 0},
                                          {"+IPADDR", command_ipaddr, 0},
                                          {"+CIPOPEN", command_cipopen, 0},
                                          {"+CIPSEND", command_cipsend, 0},
                                          {"+CIPRXGET", command_ciprxget, 0},
                                          {"+CIPCLOSE", command_cipclose, 0},
                                          {"+CIPACK", command_cipack, 0},
                                          {"+CIPMODE", command_cipmode, 0},
                                          {"+CIPHEAD", command_accept, 0},
                                          {"+CIPSRIP", command_accept, 0},
                                          {"+CIPCCFG", command_accept, 0},
                                          {"+CIPTIMEOUT", command_accept, 0},
                                          {"+CIPSENDMODE", command_accept, 0},
                                          {"+CTCPKA", command_accept, 0},
                                          {"+CSOCKSETPN", command_accept, 0},
                                          {"+CGSOCKCONT", command_accept, 0},
                                          {"+CDNSGIP", command_cdnsgip, 0},
                                          {"+CSSLCFG", command_csslcfg, 0},
                                          {"+CCHSET", command_cchset, 0},
                                          {"+CCHSTART", command_cchstart, 0},
                                          {"+CCHSTOP", command_cchstop, 0},
                                          {"+CCHSSLCFG", command_cchsslcfg, 0},
                                          {"+CCHMODE", command_cchmode, 0},
                                          {"+CCHOPEN", command_cchopen, 0},
                                          {"+CCHSEND", command_cchsend, 0},
                                          {"+CCHRECV", command_cchrecv, 0},
                                          {"+CCHCLOSE", command_cchclose, 0},
                                          {NULL, NULL, 0}};
