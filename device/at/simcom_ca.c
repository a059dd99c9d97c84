/*
 * The CA* TCP/SSL application commands SIM7000 and SIM7070 share (see simcom_ca.h).
 *
 * Reading: "+CADATAIND: <cid>" says data waits; AT+CARECV? lists "+CARECV: <cid>,<len>" for the
 * connections holding data (none listed: nothing waits); AT+CARECV=<cid>,<n> answers
 * "+CARECV: <len>,<len bytes>", CR LF, OK -- the data on the header's own line, and no count of
 * what is left, so the driver asks again with AT+CARECV? before the next read.
 */
#include "at/simcom_ca.h"

#include "at/modem.h"
#include "core/error.h"

#include <string.h>

/* Timeouts in tenths of a second. */
const cellota_at_step cellota_simcom_ca_send[1] = {
    {"AT+CASEND=%l,%n", NULL, NULL, 150, CELLOTA_AT_PROMPT, 0},
};

static int on_read(void *user, cellota_at *at, const char *arguments);
static int on_pending(void *user, cellota_at *at, const char *arguments);

/* "+CARECV: 0" (nothing) is a complete line: REPLY_OPTIONAL lets OK end the step without it. */
const cellota_at_step cellota_simcom_ca_receive[1] = {
    {"AT+CARECV=%l,%n", "+CARECV: ", on_read, 150,
     CELLOTA_AT_INLINE_DATA | CELLOTA_AT_REPLY_OPTIONAL | CELLOTA_AT_BLANK_AFTER_DATA, 0},
};

const cellota_at_step cellota_simcom_ca_query[1] = {
    {"AT+CARECV?", "+CARECV: ", on_pending, 50, CELLOTA_AT_REPLY_OPTIONAL, 0},
};

const cellota_at_step cellota_simcom_ca_close[1] = {
    {"AT+CACLOSE=%l", NULL, NULL, 150, CELLOTA_AT_ERROR_OK, 0},
};

/* "DOWNLOAD": AT+CFSWFILE wants its bytes now (a line, not the '>' of other commands). */
static int on_download(void *user, cellota_at *at, const char *arguments)
{
    (void)user;
    (void)arguments;
    cellota_at_begin_payload(at);
    return CELLOTA_OK;
}

/* AT+CFSINIT answers ERROR while a previous AT+CFSINIT's buffer is still held: taken as done.
 * Directory 3 is "customer", where the SSL commands look; mode 0 replaces the file; the modem
 * waits 10 s for the bytes. */
const cellota_at_step cellota_simcom_ca_store_file[3] = {
    {"AT+CFSINIT", NULL, NULL, 50, CELLOTA_AT_ERROR_OK, 0},
    {"AT+CFSWFILE=3,\"%f\",0,%n,10000", "DOWNLOAD", on_download, 300, CELLOTA_AT_PROMPT, 0},
    {"AT+CFSTERM", NULL, NULL, 50, 0, 0},
};

/* Type 2: a CA certificate; type 1: the client's certificate and its key. */
const cellota_at_step cellota_simcom_ca_install_files[2] = {
    {"AT+CSSLCFG=\"convert\",2,\"%k\"", NULL, NULL, 100, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CSSLCFG=\"convert\",1,\"%x\",\"%y\"", NULL, NULL, 100, CELLOTA_AT_OPTIONAL, 0},
};

/* "+CARECV: <len>," with the data following on the same line. */
static int on_read(void *user, cellota_at *at, const char *arguments)
{
    cellota_modem *modem = user;
    int32_t length;
    (void)at;
    if (cellota_at_integers(arguments, &length, 1) != 1)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    if (length == 0)
        return CELLOTA_OK;
    return cellota_modem_data_header(modem, (int32_t)modem->parameters.number[CELLOTA_AT_LINK],
                                     length, -1);
}

/* "+CARECV: <cid>,<len>" to AT+CARECV?. */
static int on_pending(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) == 2)
        cellota_modem_data_ready(modem, -1, values[0], values[1]);
    return CELLOTA_IN_PROGRESS; /* one line per connection with data; OK ends the list */
}

int cellota_simcom_ca_on_data(void *modem, cellota_at *at, const char *arguments)
{
    int32_t cid;
    (void)at;
    if (cellota_at_integers(arguments, &cid, 1) == 1)
        cellota_modem_data_ready(modem, -1, cid, -1);
    return CELLOTA_OK;
}

/* "+CASTATE: <cid>,<state>": 0 closed by the server (or an internal error), 1 connected. */
int cellota_simcom_ca_on_state(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) == 2 && values[1] == 0)
        cellota_modem_closed(modem, -1, values[0], CELLOTA_SOCKET_CLOSED);
    return CELLOTA_OK;
}

/* "+CAOPEN: <cid>,<result>", result codes of the manuals. */
int cellota_simcom_ca_on_open(void *modem, cellota_at *at, const char *arguments)
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
    case 3:
        error = CELLOTA_AT_LINK_UNAVAILABLE;
        break; /* connection limit */
    case 20:
        error = CELLOTA_SOCKET_HOST_NOT_FOUND;
        break;
    case 21:
        error = CELLOTA_AT_NETWORK_LOST;
        break; /* network not active */
    case 24:
    case 25:
    case 26:
        error = CELLOTA_AT_TLS_FAILED;
        break; /* certificate time / common name */
    default:
        error = CELLOTA_SOCKET_REFUSED;
        break; /* 23 remote refuse, 27 connect failed */
    }
    cellota_modem_opened(modem, -1, values[0], error);
    if (values[1] == 21)
        cellota_modem_network_lost(modem);
    return CELLOTA_OK;
}

/* "+CASEND: <cid>,<result>,<sent>" (SIM7000 reports each send). */
int cellota_simcom_ca_on_sent(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)at;
    if (cellota_at_integers(arguments, values, 2) == 2)
        cellota_modem_send_result(modem, -1, values[0],
                                  values[1] ? CELLOTA_AT_SEND_FAILED : CELLOTA_OK);
    return CELLOTA_OK;
}

/* "+APP PDP: [<pdp>,]DEACTIVE": the network dropped the context. */
int cellota_simcom_ca_on_network(void *modem, cellota_at *at, const char *arguments)
{
    (void)at;
    /* SIM7000 says "DEACTIVE", SIM7070 "<pdp>,DEACTIVE". */
    if (cellota_at_is(arguments, "DEACTIVE") || cellota_at_is(arguments, "#,DEACTIVE"))
        cellota_modem_network_lost(modem);
    return CELLOTA_OK;
}
