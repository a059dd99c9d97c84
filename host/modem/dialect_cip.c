/*
 * The SIM800 TCP/IP toolkit, which the SIM7000 keeps: the IP state machine driven by
 * AT+CSTT (APN), AT+CIICR (bring the context up) and AT+CIFSR (the local address), then
 * AT+CIPSTART / AT+CIPSEND / AT+CIPRXGET / AT+CIPCLOSE, in single-connection or multi-connection
 * (AT+CIPMUX=1) form:
 *
 *   AT+CIPSTART=0,"TCP","host","80"   OK, then "0, CONNECT OK" or "0, CONNECT FAIL"
 *   AT+CIPSEND=0,<len>                "> ", <len> bytes, then "0, SEND OK" (DATA ACCEPT with
 *                                     AT+CIPQSEND=1)
 *   +CIPRXGET: 1,0                    data arrived (AT+CIPRXGET=1)
 *   AT+CIPRXGET=2,0,<len>             +CIPRXGET: 2,0,<read>,<rest> <data> OK (at most 1460)
 *   "0, CLOSED"                       the server closed; "+PDP: DEACT" when the network drops
 *   AT+CIPCLOSE=0                     "0, CLOSE OK";  AT+CIPSHUT  "SHUT OK"
 *
 * Without AT+CIPRXGET=1 received data is pushed as "+RECEIVE,0,<len>:" and the data.
 */
#include "emulator_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOCAL_ADDRESS "10.64.12.7"

static int link_limit(const modem_emulator *emulator)
{
    return emulator->cip.multi ? emulator->profile->links : 1;
}

static void drop(modem_emulator *emulator, int number)
{
    cip_state *state = &emulator->cip;
    link_close(emulator, state->links[number]);
    state->links[number] = NULL;
    state->notified[number] = false;
}

/* "0, CONNECT OK" in multi-connection mode, "CONNECT OK" in single */
static void connection_urc(modem_emulator *emulator, int number, const char *text)
{
    if (emulator->cip.multi)
        out_urc(emulator, "%d, %s", number, text);
    else
        out_urc(emulator, "%s", text);
}

/* CONNECT OK / CONNECT FAIL answer an AT+CIPSTART: after its OK */
static void connect_urc(modem_emulator *emulator, int number, const char *text)
{
    if (emulator->cip.multi)
        out_urc_after_reply(emulator, "%d, %s", number, text);
    else
        out_urc_after_reply(emulator, "%s", text);
}

static void connection_line(modem_emulator *emulator, int number, const char *text)
{
    if (emulator->cip.multi)
        out_line(emulator, "%d, %s", number, text);
    else
        out_line(emulator, "%s", text);
}

static bool context_up(const cip_state *state)
{
    return state->ip_state == CIP_IP_GPRSACT || state->ip_state == CIP_IP_STATUS;
}

static bool any_connection(const modem_emulator *emulator)
{
    int index;
    for (index = 0; index < CIP_LINKS; index++)
        if (link_usable(emulator->cip.links[index]))
            return true;
    return false;
}

static const char *state_name(const modem_emulator *emulator)
{
    const cip_state *state = &emulator->cip;
    switch (state->ip_state) {
    case CIP_IP_INITIAL:
        return "IP INITIAL";
    case CIP_IP_START:
        return "IP START";
    case CIP_IP_CONFIG:
        return "IP CONFIG";
    case CIP_IP_GPRSACT:
        return "IP GPRSACT";
    case CIP_PDP_DEACT:
        return "PDP DEACT";
    default:
        break;
    }
    if (state->multi)
        return any_connection(emulator) ? "IP PROCESSING" : "IP STATUS";
    if (state->links[0]) {
        switch (link_get_state(state->links[0])) {
        case LINK_CONNECTING:
            return "TCP CONNECTING";
        case LINK_OPEN:
            return "CONNECT OK";
        default:
            return "TCP CLOSED";
        }
    }
    return "IP STATUS";
}

/* ---- context ------------------------------------------------------------------------------------
 */

static int command_cipmux(modem_emulator *emulator, const at_command *command)
{
    long value;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CIPMUX: %d", emulator->cip.multi ? 1 : 0);
        return RESULT_OK;
    }
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+CIPMUX: (0,1)");
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET || !argument_int(command, 0, &value) || value < 0 || value > 1)
        return RESULT_ERROR;
    /* only before the context is brought up */
    if (emulator->cip.ip_state != CIP_IP_INITIAL && (value != 0) != emulator->cip.multi)
        return RESULT_ERROR;
    emulator->cip.multi = value == 1;
    return RESULT_OK;
}

static int command_cstt(modem_emulator *emulator, const at_command *command)
{
    cip_state *state = &emulator->cip;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CSTT: \"%s\",\"\",\"\"", state->apn);
        return RESULT_OK;
    }
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+CSTT: \"APN\",\"USER\",\"PWD\"");
        return RESULT_OK;
    }
    if (state->ip_state != CIP_IP_INITIAL)
        return RESULT_ERROR;
    snprintf(state->apn, sizeof(state->apn), "%s",
             command->type == COMMAND_SET ? argument_text(command, 0) : "CMNET");
    state->ip_state = CIP_IP_START;
    return RESULT_OK;
}

static void ciicr_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    if (network_ready(emulator) && emulator->cip.ip_state == CIP_IP_CONFIG) {
        emulator->cip.ip_state = CIP_IP_GPRSACT;
        out_ok(emulator);
    } else {
        emulator->cip.ip_state = CIP_IP_START;
        out_error(emulator);
    }
    command_finished(emulator);
}

static int command_ciicr(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (emulator->cip.ip_state != CIP_IP_START)
        return RESULT_ERROR;
    emulator->cip.ip_state = CIP_IP_CONFIG;
    /* bringing up the wireless connection takes a while; the modem answers nothing meanwhile */
    emulator->busy = true;
    schedule(emulator, network_ready(emulator) ? 800 : 5000, ciicr_done, (int)emulator->generation,
             NULL);
    return RESULT_PENDING;
}

static int command_cifsr(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (!context_up(&emulator->cip))
        return RESULT_ERROR;
    emulator->cip.ip_state = CIP_IP_STATUS;
    out_line(emulator, "%s", LOCAL_ADDRESS); /* the address is the whole answer: no OK */
    return RESULT_DONE;
}

static int command_cipstatus(modem_emulator *emulator, const at_command *command)
{
    cip_state *state = &emulator->cip;
    long number;
    int index;
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (command->type == COMMAND_SET) {
        modem_link *link;
        if (!state->multi || !argument_int(command, 0, &number) || number < 0 ||
            number >= link_limit(emulator))
            return RESULT_ERROR;
        link = state->links[number];
        if (link)
            out_line(emulator, "+CIPSTATUS: %ld,0,\"TCP\",\"%s\",\"%u\",\"%s\"", number,
                     link_remote_address(link), (unsigned)link_remote_port(link),
                     link_get_state(link) == LINK_OPEN         ? "CONNECTED"
                     : link_get_state(link) == LINK_CONNECTING ? "CONNECTING"
                                                               : "CLOSED");
        else
            out_line(emulator, "+CIPSTATUS: %ld,,\"\",\"\",\"\",\"INITIAL\"", number);
        return RESULT_OK;
    }
    /* the state comes after the OK */
    out_ok(emulator);
    out_line(emulator, "STATE: %s", state_name(emulator));
    out_line_break(emulator);
    if (state->multi && state->ip_state == CIP_IP_STATUS) {
        for (index = 0; index < link_limit(emulator); index++) {
            modem_link *link = state->links[index];
            if (link)
                out_line(emulator, "C: %d,0,\"TCP\",\"%s\",\"%u\",\"%s\"", index,
                         link_remote_address(link), (unsigned)link_remote_port(link),
                         link_get_state(link) == LINK_OPEN         ? "CONNECTED"
                         : link_get_state(link) == LINK_CONNECTING ? "CONNECTING"
                                                                   : "CLOSED");
            else
                out_line(emulator, "C: %d,,\"\",\"\",\"\",\"INITIAL\"", index);
        }
    }
    return RESULT_DONE;
}

/* ---- connections --------------------------------------------------------------------------------
 */

static int command_cipstart(modem_emulator *emulator, const at_command *command)
{
    cip_state *state = &emulator->cip;
    int first = state->multi ? 1 : 0;
    long number = 0, port;
    modem_link *link;
    link_options options;
    link_failure failure = LINK_FAILURE_NONE;
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+CIPSTART: (\"TCP\",\"UDP\"),(\"(0-255).(0-255).(0-255).(0-255)\"),"
                           "(1-65535)");
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_ERROR;
    if (state->multi &&
        (!argument_int(command, 0, &number) || number < 0 || number >= link_limit(emulator)))
        return RESULT_ERROR;
    if (!argument_present(command, first + 1) || !argument_present(command, first + 2))
        return RESULT_ERROR;
    {
        /* the port may be quoted */
        char *end;
        port = strtol(argument_text(command, first + 2), &end, 10);
        if (*end || port < 1 || port > 65535)
            return RESULT_ERROR;
    }
    if (strcasecmp(argument_text(command, first), "TCP") != 0)
        return RESULT_ERROR; /* UDP is not emulated */
    if (link_usable(state->links[number])) {
        connection_line(emulator, (int)number, "ALREADY CONNECT");
        out_error(emulator);
        return RESULT_DONE;
    }
    if (state->ip_state == CIP_PDP_DEACT)
        return RESULT_ERROR;
    if (state->multi && state->ip_state != CIP_IP_STATUS)
        return RESULT_ERROR;
    if (!state->multi && state->ip_state != CIP_IP_STATUS) {
        /* single connection from IP INITIAL: the modem brings the context up itself */
        if (state->ip_state != CIP_IP_INITIAL && state->ip_state != CIP_IP_GPRSACT)
            return RESULT_ERROR;
        if (!network_ready(emulator)) {
            out_ok(emulator);
            out_line(emulator, "STATE: IP INITIAL");
            out_line(emulator, "CONNECT FAIL");
            return RESULT_DONE;
        }
        state->ip_state = CIP_IP_STATUS;
    }
    if (state->links[number])
        drop(emulator, (int)number);
    memset(&options, 0, sizeof(options));
    if (state->ssl) {
        options.tls = true;
        /* the SIM800's SSL stack stops at TLS 1.0: modern servers refuse it */
        options.tls_max_minor = emulator->model == MODEM_MODEL_SIM800 ? 1 : 3;
    }
    link = link_open(emulator, OWNER_CIP, (int)number, argument_text(command, first + 1),
                     (uint16_t)port, state->ssl ? &options : NULL, &failure);
    if (!link) {
        out_ok(emulator);
        connection_line(emulator, (int)number, "CONNECT FAIL");
        return RESULT_DONE;
    }
    state->links[number] = link;
    state->notified[number] = false;
    return RESULT_OK;
}

static void send_ok_event(modem_emulator *emulator, int argument, const char *text)
{
    (void)text;
    if (((uint32_t)argument >> 8) != (emulator->generation & 0xFFFFFF))
        return;
    connection_line(emulator, argument & 0xFF, "SEND OK");
    command_finished(emulator);
}

static void send_done(modem_emulator *emulator, const uint8_t *payload, size_t length,
                      bool cancelled)
{
    cip_state *state = &emulator->cip;
    int number = state->sending_link;
    modem_link *link = state->links[number];
    size_t sent;
    if (cancelled) {
        out_ok(emulator);
        return;
    }
    if (!link || link_get_state(link) != LINK_OPEN || length == 0) {
        connection_line(emulator, number, "SEND FAIL");
        return;
    }
    sent = link_send(emulator, link, payload, length);
    if (sent < length) {
        connection_line(emulator, number, "SEND FAIL");
        return;
    }
    if (state->quick_send) {
        if (state->multi)
            out_line(emulator, "DATA ACCEPT:%d,%zu", number, length);
        else
            out_line(emulator, "DATA ACCEPT:%zu", length);
        return;
    }
    /* SEND OK waits for the server's acknowledgement: air time and a round trip */
    emulator->busy = true;
    schedule_us(emulator,
                2ull * emulator->one_way_us + (uint64_t)length * 8000000ull / emulator->uplink_bps,
                send_ok_event, (int)(((emulator->generation & 0xFFFFFF) << 8) | (uint32_t)number),
                NULL);
}

static int command_cipsend(modem_emulator *emulator, const at_command *command)
{
    cip_state *state = &emulator->cip;
    long number = 0, length = 0;
    int length_index = state->multi ? 1 : 0;
    bool variable;
    modem_link *link;
    data_sink sink;
    if (command->type == COMMAND_TEST) {
        if (state->multi)
            out_line(emulator, "+CIPSEND: (0-%d),(1-%zu)", link_limit(emulator) - 1,
                     emulator->profile->max_send);
        else
            out_line(emulator, "+CIPSEND: (1-%zu)", emulator->profile->max_send);
        return RESULT_OK;
    }
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CIPSEND: %zu", emulator->profile->max_send);
        return RESULT_OK;
    }
    if (state->multi && (command->type != COMMAND_SET || !argument_int(command, 0, &number) ||
                         number < 0 || number >= link_limit(emulator)))
        return RESULT_ERROR;
    variable = !argument_present(command, length_index);
    if (!variable && (!argument_int(command, length_index, &length) || length < 1 ||
                      (size_t)length > emulator->profile->max_send))
        return RESULT_ERROR;
    link = state->links[number];
    if (!link || link_get_state(link) != LINK_OPEN ||
        link_send_room(link) < (size_t)(variable ? 1 : length))
        return RESULT_ERROR;
    state->sending_link = (int)number;
    memset(&sink, 0, sizeof(sink));
    sink.expected = (size_t)length;
    sink.ctrl_z = variable;
    sink.limit = emulator->profile->max_send;
    sink.on_end = send_done;
    begin_data_input(emulator, &sink, true);
    return RESULT_PENDING;
}

static int command_cipqsend(modem_emulator *emulator, const at_command *command)
{
    long value;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CIPQSEND: %d", emulator->cip.quick_send ? 1 : 0);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!argument_int(command, 0, &value) || value < 0 || value > 1)
        return RESULT_ERROR;
    emulator->cip.quick_send = value == 1;
    return RESULT_OK;
}

static int command_ciprxget(modem_emulator *emulator, const at_command *command)
{
    cip_state *state = &emulator->cip;
    long mode, number = 0, length;
    int next;
    modem_link *link;
    size_t held, count, limit;
    uint8_t data[1460];
    char quirk[40];
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CIPRXGET: %d", state->receive_mode);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CIPRXGET: (0-4),(0-%d),(1-%zu)", link_limit(emulator) - 1,
                 emulator->profile->max_read);
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
    next = 1;
    if (state->multi) {
        if (!argument_int(command, 1, &number) || number < 0 || number >= link_limit(emulator))
            return RESULT_ERROR;
        next = 2;
    }
    link = state->links[number];
    if (!link || state->receive_mode != 1)
        return RESULT_ERROR;
    held = link_held(link);
    if (mode == 4) {
        if (state->multi)
            out_line(emulator, "+CIPRXGET: 4,%ld,%zu", number, held);
        else
            out_line(emulator, "+CIPRXGET: 4,%zu", held);
        return RESULT_OK;
    }
    limit = mode == 3 ? emulator->profile->max_read / 2 : emulator->profile->max_read;
    if (!argument_int(command, next, &length) || length < 1 || (size_t)length > limit)
        return RESULT_ERROR; /* the length is required and bounded */
    count = (size_t)length < held ? (size_t)length : held;
    if (emulator->model == MODEM_MODEL_SIM7000 &&
        emulator_chance(emulator, emulator->options.quirk_rate)) {
        if (state->multi)
            out_line(emulator, "+CIPRXGET: 1,%ld", number);
        else
            out_line(emulator, "+CIPRXGET: 1");
    }
    if (state->multi)
        snprintf(quirk, sizeof(quirk), "+CIPRXGET: 1,%ld", number);
    else
        snprintf(quirk, sizeof(quirk), "+CIPRXGET: 1");
    count = link_read(link, data, count);
    {
        const char *between = count && emulator->model == MODEM_MODEL_SIM7000 &&
                                      emulator_chance(emulator, emulator->options.quirk_rate)
                                  ? quirk
                                  : NULL;
        if (state->multi)
            out_read_header(emulator, between, "+CIPRXGET: %ld,%ld,%zu,%zu", mode, number, count,
                            held - count);
        else
            out_read_header(emulator, between, "+CIPRXGET: %ld,%zu,%zu", mode, count, held - count);
    }
    if (mode == 3)
        out_hex(emulator, data, count);
    else
        out_raw(emulator, data, count);
    out_safe_point(emulator);
    if (link_held(link) == 0)
        state->notified[number] = false;
    return RESULT_OK;
}

static int command_cipclose(modem_emulator *emulator, const at_command *command)
{
    cip_state *state = &emulator->cip;
    long number = 0;
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (state->multi && (command->type != COMMAND_SET || !argument_int(command, 0, &number) ||
                         number < 0 || number >= link_limit(emulator)))
        return RESULT_ERROR;
    if (!link_usable(state->links[number])) {
        if (state->links[number])
            drop(emulator, (int)number);
        return RESULT_ERROR;
    }
    drop(emulator, (int)number);
    connection_line(emulator, (int)number, "CLOSE OK");
    return RESULT_DONE;
}

static void shut_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    out_line(emulator, "SHUT OK");
    command_finished(emulator);
}

static int command_cipshut(modem_emulator *emulator, const at_command *command)
{
    int index;
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    for (index = 0; index < CIP_LINKS; index++)
        if (emulator->cip.links[index])
            drop(emulator, index);
    emulator->cip.ip_state = CIP_IP_INITIAL;
    emulator->busy = true;
    schedule(emulator, 200, shut_done, (int)emulator->generation, NULL);
    return RESULT_PENDING;
}

static int command_cipssl(modem_emulator *emulator, const at_command *command)
{
    long value;
    if (emulator->model != MODEM_MODEL_SIM800)
        return RESULT_ERROR;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CIPSSL: %d", emulator->cip.ssl ? 1 : 0);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    /* SSL only for the single connection */
    if (!argument_int(command, 0, &value) || value < 0 || value > 1 ||
        (value == 1 && emulator->cip.multi))
        return RESULT_ERROR;
    emulator->cip.ssl = value == 1;
    return RESULT_OK;
}

static int command_ciphead(modem_emulator *emulator, const at_command *command)
{
    long value;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CIPHEAD: %d", emulator->cip.header ? 1 : 0);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!argument_int(command, 0, &value) || value < 0 || value > 1)
        return RESULT_ERROR;
    emulator->cip.header = value == 1;
    return RESULT_OK;
}

static int command_cipmode(modem_emulator *emulator, const at_command *command)
{
    return command_mode_zero_only(emulator, command, "+CIPMODE");
}

static void dns_done(modem_emulator *emulator, int generation, const char *text)
{
    char address[64];
    if ((uint32_t)generation != emulator->generation)
        return;
    if (network_ready(emulator) && emulator_resolve(emulator, text, address, sizeof(address)))
        out_urc_after_reply(emulator, "+CDNSGIP: 1,\"%s\",\"%s\"", text, address);
    else
        out_urc_after_reply(emulator, "+CDNSGIP: 0,8");
}

static int command_cdnsgip(modem_emulator *emulator, const at_command *command)
{
    if (command->type != COMMAND_SET || !argument_present(command, 0))
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!context_up(&emulator->cip))
        return RESULT_ERROR;
    schedule_us(emulator, 2ull * emulator->one_way_us, dns_done, (int)emulator->generation,
                argument_text(command, 0));
    return RESULT_OK;
}

/* ---- events -------------------------------------------------------------------------------------
 */

static void push_data(modem_emulator *emulator, int number, modem_link *link)
{
    /* without AT+CIPRXGET=1 the data goes out as it arrives */
    while (link_held(link) > 0) {
        uint8_t block[1600];
        size_t count = link_held(link) < 1460 ? link_held(link) : 1460;
        int length;
        if (emulator->cip.multi)
            length = snprintf((char *)block, 64, "\r\n+RECEIVE,%d,%zu:\r\n", number, count);
        else if (emulator->cip.header)
            length = snprintf((char *)block, 64, "\r\n+IPD,%zu:", count);
        else
            length = 0;
        count = link_read(link, block + length, count);
        out_urc_bytes(emulator, block, (size_t)length + count);
    }
}

void cip_link_event(modem_emulator *emulator, modem_link *link, unsigned events)
{
    cip_state *state = &emulator->cip;
    int number = link_get_index(link);
    if (events & LINK_EVENT_CONNECTED)
        connect_urc(emulator, number, "CONNECT OK");
    if (events & LINK_EVENT_FAILED) {
        connect_urc(emulator, number, "CONNECT FAIL");
        drop(emulator, number);
        return;
    }
    if (events & LINK_EVENT_DATA) {
        if (state->receive_mode == 0) {
            push_data(emulator, number, link);
        } else if (data_notice_due(emulator, &state->notified[number],
                                   /* the SIM7000 repeats it while data keeps coming */
                                   emulator->model == MODEM_MODEL_SIM7000)) {
            if (state->multi)
                out_urc(emulator, "+CIPRXGET: 1,%d", number);
            else
                out_urc(emulator, "+CIPRXGET: 1");
        }
    }
    if (events & LINK_EVENT_PEER_CLOSED)
        connection_urc(emulator, number, "CLOSED");
}

void cip_network_lost(modem_emulator *emulator)
{
    cip_state *state = &emulator->cip;
    int index;
    if (state->ip_state == CIP_IP_INITIAL || state->ip_state == CIP_IP_START ||
        state->ip_state == CIP_PDP_DEACT)
        return;
    for (index = 0; index < CIP_LINKS; index++) {
        if (state->links[index]) {
            if (link_usable(state->links[index]))
                connection_urc(emulator, index, "CLOSED");
            drop(emulator, index);
        }
    }
    state->ip_state = CIP_PDP_DEACT;
    out_urc(emulator, "+PDP: DEACT");
}

void cip_reset(modem_emulator *emulator)
{
    memset(&emulator->cip, 0, sizeof(emulator->cip));
}

const command_entry cip_commands[] = {{"+CIPMUX", command_cipmux, 0},
                                      {"+CSTT", command_cstt, 0},
                                      {"+CIICR", command_ciicr, 0},
                                      {"+CIFSR", command_cifsr, 0},
                                      {"+CIPSTATUS", command_cipstatus, 0},
                                      {"+CIPSTART", command_cipstart, 0},
                                      {"+CIPSEND", command_cipsend, 0},
                                      {"+CIPQSEND", command_cipqsend, 0},
                                      {"+CIPRXGET", command_ciprxget, 0},
                                      {"+CIPCLOSE", command_cipclose, 0},
                                      {"+CIPSHUT", command_cipshut, 0},
                                      {"+CIPSSL", command_cipssl, 0},
                                      {"+CIPHEAD", command_ciphead, 0},
                                      {"+CIPMODE", command_cipmode, 0},
                                      {"+CIPSRIP", command_accept, 0},
                                      {"+CIPSPRT", command_accept, 0},
                                      {"+CIPATS", command_accept, 0},
                                      {"+CIPSHOWTP", command_accept, 0},
                                      {"+CIPTKA", command_accept, 0},
                                      {"+CIPSCONT", command_accept, 0},
                                      {"+CDNSCFG", command_accept, 0},
                                      {"+CDNSGIP", command_cdnsgip, 0},
                                      {NULL, NULL, 0}};
