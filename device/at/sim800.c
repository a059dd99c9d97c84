/*
 * SIMCom SIM800L (SIM800 series, GSM/GPRS) profile, on its multi-connection TCP/IP stack.
 *
 * Sources: SIM800 Series AT Command Manual (V1.09/V1.10) -- AT+CIPSHUT, AT+CIPMUX, AT+CSTT,
 * AT+CIICR, AT+CIFSR, AT+CIPSTART, AT+CIPQSEND, AT+CIPSEND, AT+CIPRXGET, AT+CIPCLOSE,
 * "<n>, CONNECT OK", "<n>, CLOSED", +PDP: DEACT; SIM800 Series TCPIP Application Note.
 *
 * Reading: manual receive mode (AT+CIPRXGET=1): "+CIPRXGET: 1,<n>" says data waits,
 * AT+CIPRXGET=4,<n> how much, AT+CIPRXGET=2,<n>,<len> (up to 1460) returns
 * "+CIPRXGET: 2,<n>,<len>,<left>", CR LF, the bytes, CR LF, OK. With AT+CIPMUX=0 the modem
 * leaves out <n>: both forms are read. Sending uses quick send (AT+CIPQSEND=1): "DATA ACCEPT:"
 * once the modem took the bytes, instead of "SEND OK" after the server acknowledged them.
 *
 * No TLS: the SIM800's SSL (AT+CIPSSL) offers SSL 3.0 / TLS 1.0 with old cipher suites that
 * current servers refuse; opening a TLS socket fails with CELLOTA_AT_TLS_UNSUPPORTED.
 */
#include "at/modem.h"

#include "core/error.h"

#include <string.h>

/* "<n>, CONNECT OK", "<n>, CONNECT FAIL", "<n>, ALREADY CONNECT", "<n>, CLOSED". */
static int on_link_event(void *modem, cellota_at *at, const char *arguments)
{
    int32_t link;
    if (cellota_at_integers(cellota_at_line(at), &link, 1) != 1)
        return CELLOTA_OK;
    if (cellota_at_is(arguments, "CONNECT OK"))
        cellota_modem_opened(modem, CELLOTA_SOCKET_TCP, link, CELLOTA_OK);
    else if (cellota_at_is(arguments, "CONNECT FAIL"))
        cellota_modem_opened(modem, CELLOTA_SOCKET_TCP, link, CELLOTA_SOCKET_REFUSED);
    else if (cellota_at_is(arguments, "ALREADY CONNECT"))
        cellota_modem_opened(modem, CELLOTA_SOCKET_TCP, link, CELLOTA_AT_LINK_UNAVAILABLE);
    else if (cellota_at_is(arguments, "CLOSED"))
        cellota_modem_closed(modem, CELLOTA_SOCKET_TCP, link, CELLOTA_SOCKET_CLOSED);
    return CELLOTA_OK;
}

/* "+CIPRXGET: 1,<n>" (multi-connection) or "+CIPRXGET: 1" (single). */
static int on_data(void *user, cellota_at *at, const char *arguments)
{
    cellota_modem *modem = user;
    int32_t link = (int32_t)modem->parameters.number[CELLOTA_AT_LINK];
    (void)at;
    if (*arguments == ',' && cellota_at_integers(arguments + 1, &link, 1) != 1)
        return CELLOTA_OK;
    cellota_modem_data_ready(modem, CELLOTA_SOCKET_TCP, link, -1);
    return CELLOTA_OK;
}

static int on_network(void *modem, cellota_at *at, const char *arguments)
{
    (void)at;
    (void)arguments;
    cellota_modem_network_lost(modem);
    return CELLOTA_OK;
}

/* "+CIPRXGET: 2,<n>,<len>,<left>", or "+CIPRXGET: 2,<len>,<left>" without AT+CIPMUX=1. */
static int on_read(void *user, cellota_at *at, const char *arguments)
{
    cellota_modem *modem = user;
    int32_t values[3];
    int count = cellota_at_integers(arguments, values, 3);
    (void)at;
    if (count == 3)
        return cellota_modem_data_header(modem, values[0], values[1], values[2]);
    if (count == 2)
        return cellota_modem_data_header(modem, (int32_t)modem->parameters.number[CELLOTA_AT_LINK],
                                         values[0], values[1]);
    return CELLOTA_AT_UNEXPECTED_REPLY;
}

/* "+CIPRXGET: 4,<n>,<left>", or "+CIPRXGET: 4,<left>". */
static int on_pending(void *user, cellota_at *at, const char *arguments)
{
    cellota_modem *modem = user;
    int32_t values[2];
    int count = cellota_at_integers(arguments, values, 2);
    (void)at;
    if (count == 2)
        cellota_modem_data_ready(modem, CELLOTA_SOCKET_TCP, values[0], values[1]);
    else if (count == 1)
        cellota_modem_data_ready(modem, CELLOTA_SOCKET_TCP,
                                 (int32_t)modem->parameters.number[CELLOTA_AT_LINK], values[0]);
    else
        return CELLOTA_AT_UNEXPECTED_REPLY;
    return CELLOTA_OK;
}

static const cellota_at_urc urcs[] = {
    {"+CIPRXGET: 1", on_data},
    {"#, ", on_link_event},
    {"+PDP: DEACT", on_network},
    {"RDY", cellota_modem_on_restart},
    {"+CPIN: ", cellota_modem_on_boot_line},
    {"+CFUN: ", cellota_modem_on_boot_line},
    {"Call Ready", cellota_modem_on_boot_line},
    {"SMS Ready", cellota_modem_on_boot_line},
};

/* Timeouts in tenths of a second: the manual allows 65 s for CIPSHUT and 85 s for CIICR. */
static const cellota_at_step attach[] = {
    {"AT+CIPSHUT", "SHUT OK", NULL, 650, CELLOTA_AT_NO_OK, 0},
    {"AT+CIPMUX=1", NULL, NULL, 50, 0, 0},
    {"AT+CIPRXGET=1", NULL, NULL, 50, 0, 0},
    {"AT+CIPQSEND=1", NULL, NULL, 50, 0, 0},
    {"AT+CSTT=\"%a\",\"%u\",\"%w\"", NULL, NULL, 50, 0, 0},
    {"AT+CIICR", NULL, NULL, 850, 0, 0},
    {"AT+CIFSR", "#.", NULL, 100, CELLOTA_AT_NO_OK, 0}, /* the local IP address, no OK */
};

static const cellota_at_step detach[] = {
    {"AT+CIPSHUT", "SHUT OK", NULL, 650, CELLOTA_AT_NO_OK, 0},
};

static const cellota_at_step open_tcp[] = {
    {"AT+CIPSTART=%l,\"TCP\",\"%h\",%p", NULL, NULL, 100, 0, 0},
};

static const cellota_at_step send_tcp[] = {
    {"AT+CIPSEND=%l,%n", "DATA ACCEPT:", NULL, 150, CELLOTA_AT_PROMPT | CELLOTA_AT_NO_OK, 0},
};

static const cellota_at_step receive_tcp[] = {
    {"AT+CIPRXGET=2,%l,%n", "+CIPRXGET: 2,", on_read, 150, 0, 0},
};

static const cellota_at_step query_tcp[] = {
    {"AT+CIPRXGET=4,%l", "+CIPRXGET: 4,", on_pending, 50, 0, 0},
};

/* Quick close; "<n>, CLOSE OK" instead of OK, ERROR when the link is closed already. */
static const cellota_at_step close_tcp[] = {
    {"AT+CIPCLOSE=%l,1", "#, CLOSE OK", NULL, 150, CELLOTA_AT_NO_OK | CELLOTA_AT_ERROR_OK, 0},
};

const cellota_modem_profile cellota_sim800 = {
    .name = "sim800",
    .urcs = urcs,
    .urc_count = sizeof(urcs) / sizeof(urcs[0]),
    .links = 6,
    .tls_links = 0,
    .power_key_ms = 1100,
    .max_send = 1460,
    .max_read = 1460,
    .open_s = 80,
    .probe = {cellota_modem_probe_steps, 1},
    .boot = {cellota_modem_boot_steps, 1},
    .setup = {cellota_modem_setup_steps, CELLOTA_MODEM_SETUP_BASIC},
    .registration = {cellota_modem_registration_steps, 2},
    .attach = CELLOTA_AT_SCRIPT(attach),
    .detach = CELLOTA_AT_SCRIPT(detach),
    .open = {CELLOTA_AT_SCRIPT(open_tcp), CELLOTA_AT_NO_SCRIPT},
    .send = {CELLOTA_AT_SCRIPT(send_tcp), CELLOTA_AT_NO_SCRIPT},
    .receive = {CELLOTA_AT_SCRIPT(receive_tcp), CELLOTA_AT_NO_SCRIPT},
    .query = {CELLOTA_AT_SCRIPT(query_tcp), CELLOTA_AT_NO_SCRIPT},
    .close = {CELLOTA_AT_SCRIPT(close_tcp), CELLOTA_AT_NO_SCRIPT},
};
