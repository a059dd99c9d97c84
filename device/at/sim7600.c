/*
 * SIMCom SIM7600 (and SIM7500/SIM7800) profile.
 *
 * Sources: SIM7500_SIM7600 Series AT Command Manual (V2.00) and SIM7500_SIM7600_SIM7800 Series
 * TCPIP AT Command Manual (V1.00) -- AT+NETOPEN, AT+CIPOPEN, AT+CIPSEND, AT+CIPRXGET,
 * AT+CIPCLOSE, +IPCLOSE, +CIPEVENT; SIM7500_SIM7600 Series SSL AT Command Manual -- AT+CSSLCFG,
 * AT+CCHSET, AT+CCHSTART, AT+CCHOPEN, AT+CCHSEND, AT+CCHRECV, AT+CCHCLOSE, +CCHEVENT,
 * +CCH_PEER_CLOSED; and what logs of real modems show (the "+IP ERROR:" line before ERROR, several
 * "+CIPRXGET: 1,<link>" before a reply, "+CIPCLOSE: <link>,4" then ERROR on a closed link).
 *
 * Reading: manual receive mode (AT+CIPRXGET=1). The modem keeps received bytes and says so once
 * ("+CIPRXGET: 1,<link>"); AT+CIPRXGET=4 tells how many; AT+CIPRXGET=2,<link>,<n> with n up to
 * 1500 returns "+CIPRXGET: 2,<link>,<n>,<left>", CR LF, the n bytes, CR LF, OK -- the left count
 * keeps the driver exact without another query. TLS runs on the CCH sessions 0 and 1 in their
 * manual receive mode (AT+CCHSET=1,1), read with AT+CCHRECV.
 *
 * cellota_sim7600_pushed, for a UART with RTS/CTS: every connection on a CCH session (client
 * type 1 TCP, 2 TLS) in the service's push mode (AT+CCHSET=1,0), where the modem sends
 * "+CCHRECV: DATA,<session>,<len>", CR LF, the bytes, as they come. No read command, no
 * "data waits" notice and no reply framing per 1500 bytes: about 26 bytes of header per block
 * instead of about 75 and a command's turnaround. The price: the device must hold the modem
 * back when it has no room (RTS), and a block's header lost on the line leaves no trace but
 * the bytes parsed as text -- the driver fails the streams then (modem.h).
 */
#include "at/modem.h"

#include "core/error.h"

#include <string.h>

/* The TCP/IP manual's <err> values of +CIPOPEN, as far as a device can act on them. */
static int open_error(int32_t code)
{
    switch (code) {
    case 0:
        return CELLOTA_OK;
    case 1:
    case 2:
        return CELLOTA_AT_NETWORK_LOST; /* network failure / not opened */
    case 9:
        return CELLOTA_AT_LINK_UNAVAILABLE; /* the link is already in use */
    case 10:
        return CELLOTA_AT_OPEN_TIMEOUT;
    case 11:
        return CELLOTA_SOCKET_HOST_NOT_FOUND;
    default:
        return CELLOTA_SOCKET_REFUSED;
    }
}

/* "+CIPOPEN: <link>,<err>" after AT+CIPOPEN's OK. */
static int on_open(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) == 2) {
        cellota_modem_opened(modem, CELLOTA_SOCKET_TCP, values[0], open_error(values[1]));
        if (values[1] == 2)
            cellota_modem_network_lost(modem);
    }
    return CELLOTA_OK;
}

/* "+IPCLOSE: <link>,<reason>": 1 closed by the peer, 2 send timeout, 0 closed here. */
static int on_close(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) == 2)
        cellota_modem_closed(modem, CELLOTA_SOCKET_TCP, values[0],
                             values[1] == 2 ? CELLOTA_SOCKET_LINK_LOST : CELLOTA_SOCKET_CLOSED);
    return CELLOTA_OK;
}

/* "+CIPRXGET: 1,<link>": data waits (how much: AT+CIPRXGET=4). */
static int on_data(void *modem, cellota_at *at, const char *arguments)
{
    int32_t link;
    (void)at;
    if (cellota_at_integers(arguments, &link, 1) == 1)
        cellota_modem_data_ready(modem, CELLOTA_SOCKET_TCP, link, -1);
    return CELLOTA_OK;
}

/* "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY": the data context is gone. */
static int on_network(void *modem, cellota_at *at, const char *arguments)
{
    (void)at;
    (void)arguments;
    cellota_modem_network_lost(modem);
    return CELLOTA_OK;
}

/* "+CIPSEND: <link>,<requested>,<confirmed>" after the send's OK; -1 when the link broke. */
static int on_sent(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[3];
    (void)at;
    if (cellota_at_integers(arguments, values, 3) == 3)
        cellota_modem_send_result(modem, CELLOTA_SOCKET_TCP, values[0],
                                  values[2] == values[1] ? CELLOTA_OK : CELLOTA_AT_SEND_FAILED);
    return CELLOTA_OK;
}

/* "+CIPRXGET: 2,<link>,<read>,<left>" then the data. */
static int on_read(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[3];
    (void)at;
    if (cellota_at_integers(arguments, values, 3) != 3)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    return cellota_modem_data_header(modem, values[0], values[1], values[2]);
}

/* "+CIPRXGET: 4,<link>,<left>". */
static int on_pending(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) != 2)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    cellota_modem_data_ready(modem, CELLOTA_SOCKET_TCP, values[0], values[1]);
    return CELLOTA_OK;
}

/* "+NETOPEN: 1" to AT+NETOPEN?: the context is up already, skip AT+NETOPEN. */
static int on_network_state(void *modem, cellota_at *at, const char *arguments)
{
    (void)modem;
    if (arguments[0] == '1')
        cellota_at_skip(at, 1);
    return CELLOTA_OK;
}

/* "+NETOPEN: <err>" after AT+NETOPEN's OK. */
static int on_network_open(void *modem, cellota_at *at, const char *arguments)
{
    (void)modem;
    (void)at;
    return arguments[0] == '0' && arguments[1] == '\0' ? CELLOTA_OK : CELLOTA_AT_CONTEXT_FAILED;
}

/* ---- TLS: the CCH sessions -------------------------------------------------------------- */

/* "+CCHOPEN: <session>,<err>". */
static int on_tls_open(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    int error;
    (void)at;
    if (cellota_at_integers(arguments, values, 2) != 2)
        return CELLOTA_OK;
    switch (values[1]) {
    case 0:
        error = CELLOTA_OK;
        break;
    case 5:
        error = CELLOTA_AT_OPEN_TIMEOUT;
        break;
    case 9:
    case 17:
        error = CELLOTA_AT_NETWORK_LOST;
        break; /* network error, no network */
    case 13:
        error = CELLOTA_SOCKET_HOST_NOT_FOUND;
        break;
    case 14:
        error = CELLOTA_SOCKET_REFUSED;
        break;
    default:
        error = CELLOTA_AT_TLS_FAILED;
        break; /* handshake, certificates, ... */
    }
    cellota_modem_opened(modem, CELLOTA_SOCKET_TLS, values[0], error);
    return CELLOTA_OK;
}

/* "+CCHEVENT: <session>,RECV EVENT": data waits in manual receive mode. */
static int on_tls_data(void *modem, cellota_at *at, const char *arguments)
{
    int32_t session;
    (void)at;
    if (cellota_at_integers(arguments, &session, 1) == 1 &&
        cellota_at_is(arguments, "#,RECV EVENT"))
        cellota_modem_data_ready(modem, CELLOTA_SOCKET_TLS, session, -1);
    return CELLOTA_OK;
}

/* "+CCH_PEER_CLOSED: <session>" (clean) and "+CCH_RECV_CLOSED: <session>,<err>" (broken). */
static int on_tls_peer_close(void *modem, cellota_at *at, const char *arguments)
{
    int32_t session;
    (void)at;
    if (cellota_at_integers(arguments, &session, 1) == 1)
        cellota_modem_closed(modem, CELLOTA_SOCKET_TLS, session, CELLOTA_SOCKET_CLOSED);
    return CELLOTA_OK;
}

static int on_tls_lost(void *modem, cellota_at *at, const char *arguments)
{
    int32_t session;
    (void)at;
    if (cellota_at_integers(arguments, &session, 1) == 1)
        cellota_modem_closed(modem, CELLOTA_SOCKET_TLS, session, CELLOTA_SOCKET_LINK_LOST);
    return CELLOTA_OK;
}

/* "+CCHSEND: <session>,<err>" (AT+CCHSET=1 reports every send). */
static int on_tls_sent(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) == 2)
        cellota_modem_send_result(modem, CELLOTA_SOCKET_TLS, values[0],
                                  values[1] ? CELLOTA_AT_SEND_FAILED : CELLOTA_OK);
    return CELLOTA_OK;
}

/* AT+CCHRECV=<session>,<n>: OK, "+CCHRECV: DATA,<session>,<len>", CR LF, the bytes (possibly
 * several such blocks), then "+CCHRECV: <session>,<err>" ends the read. */
static int on_tls_read(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    const char *data = cellota_at_match(arguments, "DATA,");
    (void)at;
    if (data) {
        int result;
        if (cellota_at_integers(data, values, 2) != 2)
            return CELLOTA_AT_UNEXPECTED_REPLY;
        result = cellota_modem_data_header(modem, values[0], values[1], -1);
        return result == CELLOTA_OK ? CELLOTA_IN_PROGRESS : result;
    }
    if (cellota_at_integers(arguments, values, 2) != 2)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    return values[1] == 0 ? CELLOTA_OK : CELLOTA_AT_RECEIVE_FAILED;
}

/* "+CCHRECV: DATA,<session>,<len>" outside a read: the modem pushes the bytes after it. */
static int on_tls_pushed(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) != 2)
        values[1] = -1; /* a header it cannot read: the stream is broken */
    cellota_modem_pushed(modem, CELLOTA_SOCKET_TLS, values[0], values[1]);
    return CELLOTA_OK;
}

/* "+CCHRECV: LEN,<bytes of session 0>,<bytes of session 1>". */
static int on_tls_pending(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) != 2)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    cellota_modem_data_ready(modem, CELLOTA_SOCKET_TLS, 0, values[0]);
    cellota_modem_data_ready(modem, CELLOTA_SOCKET_TLS, 1, values[1]);
    return CELLOTA_OK;
}

/* ---- the tables --------------------------------------------------------------------------- */

static const cellota_at_urc urcs[] = {
    {"+CIPRXGET: 1,", on_data},
    {"+CIPOPEN: ", on_open},
    {"+IPCLOSE: ", on_close},
    {"+CIPEVENT: ", on_network},
    {"+CIPSEND: ", on_sent},
    {"+CIPCLOSE: ", NULL}, /* the close's own confirmation */
    {"+CCHEVENT: ", on_tls_data},
    {"+CCHRECV: DATA,", on_tls_pushed},
    {"+CCHOPEN: ", on_tls_open},
    {"+CCH_PEER_CLOSED: ", on_tls_peer_close},
    {"+CCH_RECV_CLOSED: ", on_tls_lost},
    {"+CCHSEND: ", on_tls_sent},
    {"+CCHCLOSE: ", NULL},
    {"+NETCLOSE: ", NULL},
    {"RDY", cellota_modem_on_restart},
    {"+CPIN: ", cellota_modem_on_boot_line},
    {"SMS DONE", cellota_modem_on_boot_line},
    {"PB DONE", cellota_modem_on_boot_line},
};

/* Timeouts in tenths of a second; NETOPEN and CIPOPEN can take as long as the network does. */
static const cellota_at_step attach[] = {
    {"AT+CGDCONT=1,\"IP\",\"%a\"", NULL, NULL, 50, 0, 0},
    {"AT+CGAUTH=1,1,\"%w\",\"%u\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},
    {"AT+NETOPEN?", "+NETOPEN: ", on_network_state, 50, 0, 0},
    {"AT+NETOPEN", "+NETOPEN: ", on_network_open, 1200, 0, 0},
    {"AT+CIPRXGET=1", NULL, NULL, 50, 0, 0},
};

static const cellota_at_step detach[] = {
    {"AT+NETCLOSE", "+NETCLOSE: ", NULL, 600, CELLOTA_AT_ERROR_OK, 0},
};

static const cellota_at_step open_tcp[] = {
    {"AT+CIPOPEN=%l,\"TCP\",\"%h\",%p", NULL, NULL, 100, 0, 0},
};

/* The SSL service (CCH): receive mode and start -- AT+CCHSET=1,<mode> reports each send's
 * result, and is only taken before AT+CCHSTART, which answers ERROR when the service runs
 * already -- then the TLS context of a session. */
/* clang-format off */
#define CCH_START(mode)                                                                            \
    {"AT+CCHSET=1," mode, NULL, NULL, 50, CELLOTA_AT_ERROR_OK, 0},                                 \
    {"AT+CCHSTART", "+CCHSTART: ", NULL, 1200, CELLOTA_AT_ERROR_OK, 0}
#define CCH_TLS_CONTEXT                                                                            \
    {"AT+CSSLCFG=\"sslversion\",0,4", NULL, NULL, 50, 0, 0},                                       \
    {"AT+CSSLCFG=\"authmode\",0,%v", NULL, NULL, 50, 0, 0},                                        \
    {"AT+CSSLCFG=\"cacert\",0,\"%k\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},                    \
    {"AT+CSSLCFG=\"clientcert\",0,\"%x\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},                \
    {"AT+CSSLCFG=\"clientkey\",0,\"%y\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},                 \
    {"AT+CSSLCFG=\"enableSNI\",0,1", NULL, NULL, 50, 0, 0},                                        \
    {"AT+CCHSSLCFG=%l,0", NULL, NULL, 50, 0, 0}
/* clang-format on */

static const cellota_at_step open_tls[] = {
    CCH_START("1"), /* manual receive */
    CCH_TLS_CONTEXT,
    {"AT+CCHOPEN=%l,\"%h\",%p,2", NULL, NULL, 100, 0, 0},
};

/* The pushed profile: the CCH service in push mode (only taken before AT+CCHSTART, so a modem
 * whose service a manual-mode run started keeps manual mode until it restarts: the driver then
 * sees "+CCHEVENT: <session>,RECV EVENT" and nothing pushed -- restart the modem to switch). */
static const cellota_at_step open_pushed_tcp[] = {
    CCH_START("0"), /* push */
    {"AT+CCHOPEN=%l,\"%h\",%p,1", NULL, NULL, 100, 0, 0},
};

static const cellota_at_step open_pushed_tls[] = {
    CCH_START("0"),
    CCH_TLS_CONTEXT,
    {"AT+CCHOPEN=%l,\"%h\",%p,2", NULL, NULL, 100, 0, 0},
};

static const cellota_at_step send_tcp[] = {
    {"AT+CIPSEND=%l,%n", NULL, NULL, 150, CELLOTA_AT_PROMPT, 0},
};

static const cellota_at_step send_tls[] = {
    {"AT+CCHSEND=%l,%n", NULL, NULL, 150, CELLOTA_AT_PROMPT, 0},
};

static const cellota_at_step receive_tcp[] = {
    {"AT+CIPRXGET=2,%l,%n", "+CIPRXGET: 2,", on_read, 150, CELLOTA_AT_BLANK_AFTER_DATA, 0},
};

static const cellota_at_step receive_tls[] = {
    {"AT+CCHRECV=%l,%n", "+CCHRECV: ", on_tls_read, 150, 0, 0},
};

static const cellota_at_step query_tcp[] = {
    {"AT+CIPRXGET=4,%l", "+CIPRXGET: 4,", on_pending, 50, 0, 0},
};

static const cellota_at_step query_tls[] = {
    {"AT+CCHRECV?", "+CCHRECV: LEN,", on_tls_pending, 50, 0, 0},
};

/* Closing a link the modem closed already answers "+CIPCLOSE: <link>,4" and ERROR. */
static const cellota_at_step close_tcp[] = {
    {"AT+CIPCLOSE=%l", NULL, NULL, 150, CELLOTA_AT_ERROR_OK, 0},
};

static const cellota_at_step close_tls[] = {
    {"AT+CCHCLOSE=%l", NULL, NULL, 150, CELLOTA_AT_ERROR_OK, 0},
};

/* A certificate or key into the SSL service's store (it replaces one of the same name). */
static const cellota_at_step store_file[] = {
    {"AT+CCERTDOWN=\"%f\",%n", NULL, NULL, 300, CELLOTA_AT_PROMPT, 0},
};

/* What both SIM7600 profiles share. */
#define SIM7600_PROFILE                                                                            \
    .urcs = urcs, .urc_count = sizeof(urcs) / sizeof(urcs[0]), .tls_links = 2,                     \
    .power_key_ms = 500, .max_send = 1500, .max_read = 1500, .open_s = 120,                        \
    .probe = {cellota_modem_probe_steps, 1}, .boot = {cellota_modem_boot_steps, 1},                \
    .setup = {cellota_modem_setup_steps, CELLOTA_MODEM_SETUP_MODE},                                \
    .registration = {cellota_modem_registration_steps, 3}, .attach = CELLOTA_AT_SCRIPT(attach),    \
    .detach = CELLOTA_AT_SCRIPT(detach), .store_file = CELLOTA_AT_SCRIPT(store_file)

const cellota_modem_profile cellota_sim7600 = {
    SIM7600_PROFILE,
    .name = "sim7600",
    .links = 10,
    .open = {CELLOTA_AT_SCRIPT(open_tcp), CELLOTA_AT_SCRIPT(open_tls)},
    .send = {CELLOTA_AT_SCRIPT(send_tcp), CELLOTA_AT_SCRIPT(send_tls)},
    .receive = {CELLOTA_AT_SCRIPT(receive_tcp), CELLOTA_AT_SCRIPT(receive_tls)},
    .query = {CELLOTA_AT_SCRIPT(query_tcp), CELLOTA_AT_SCRIPT(query_tls)},
    .close = {CELLOTA_AT_SCRIPT(close_tcp), CELLOTA_AT_SCRIPT(close_tls)},
};

/* No receive or query scripts: the modem pushes (CELLOTA_MODEM_PUSHED_DATA). */
const cellota_modem_profile cellota_sim7600_pushed = {
    SIM7600_PROFILE,
    .name = "sim7600-pushed",
    .flags = CELLOTA_MODEM_PUSHED_DATA,
    .links = 2, /* the CCH sessions */
    .open = {CELLOTA_AT_SCRIPT(open_pushed_tcp), CELLOTA_AT_SCRIPT(open_pushed_tls)},
    .send = {CELLOTA_AT_SCRIPT(send_tls), CELLOTA_AT_SCRIPT(send_tls)},
    .receive = {CELLOTA_AT_NO_SCRIPT, CELLOTA_AT_NO_SCRIPT},
    .query = {CELLOTA_AT_NO_SCRIPT, CELLOTA_AT_NO_SCRIPT},
    .close = {CELLOTA_AT_SCRIPT(close_tls), CELLOTA_AT_SCRIPT(close_tls)},
};
