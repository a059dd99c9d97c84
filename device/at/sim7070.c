/*
 * SIMCom SIM7070 (and SIM7080/SIM7090, LTE Cat-M1 / NB-IoT) profile, on the application
 * network (AT+CNACT=0,1) and the CA* TCP/SSL application commands.
 *
 * Sources: SIM7070_SIM7080_SIM7090 Series AT Command Manual (V1.02-V1.05) -- AT+CNMP, AT+CMNB,
 * AT+CBANDCFG, AT+CNCFG, AT+CNACT, +APP PDP, AT+CAOPEN, AT+CASEND, AT+CARECV, AT+CACLOSE,
 * +CADATAIND, +CASTATE, AT+CSSLCFG, AT+CASSLCFG; SIM7070_SIM7080_SIM7090 Series TCPIP and SSL
 * Application Notes; logs of real modems (the CSSLCFG keys "sslversion" and "sni" must be
 * lower case; AT+CARECV answers "+CARECV: <len>,<data>").
 */
#include "at/modem.h"
#include "at/simcom_ca.h"

#include "core/error.h"

#include <string.h>

/* "+CNACT: <pdp>,<status>,"<ip>"" lines to AT+CNACT?: PDP 0 active: skip its activation. */
static int on_network_state(void *modem, cellota_at *at, const char *arguments)
{
    int32_t values[2];
    (void)modem;
    if (cellota_at_integers(arguments, values, 2) == 2 && values[0] == 0 && values[1] == 1)
        cellota_at_skip(at, 1);
    return CELLOTA_IN_PROGRESS; /* one line per PDP context; OK ends the list */
}

/* "+APP PDP: 0,ACTIVE" after AT+CNACT=0,1's OK ("0,DEACTIVE" when it failed). */
static int on_network_open(void *modem, cellota_at *at, const char *arguments)
{
    (void)modem;
    (void)at;
    if (arguments[0] != '0')
        return CELLOTA_IN_PROGRESS; /* another context */
    return cellota_at_is(arguments, "0,ACTIVE") ? CELLOTA_OK : CELLOTA_AT_CONTEXT_FAILED;
}

static const cellota_at_urc urcs[] = {
    {"+CADATAIND: ", cellota_simcom_ca_on_data}, {"+CASTATE: ", cellota_simcom_ca_on_state},
    {"+CAOPEN: ", cellota_simcom_ca_on_open},    {"+APP PDP: ", cellota_simcom_ca_on_network},
    {"RDY", cellota_modem_on_restart},           {"+CPIN: ", cellota_modem_on_boot_line},
    {"+CFUN: ", cellota_modem_on_boot_line},     {"SMS Ready", cellota_modem_on_boot_line},
};

static const cellota_at_step attach[] = {
    {"AT+CGDCONT=1,\"IP\",\"%a\"", NULL, NULL, 50, 0, 0},
    {"AT+CNCFG=0,1,\"%a\"", NULL, NULL, 50, 0, 0},
    {"AT+CNCFG=0,1,\"%a\",\"%u\",\"%w\",3", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CNACT?", "+CNACT: ", on_network_state, 50, CELLOTA_AT_REPLY_OPTIONAL, 0},
    {"AT+CNACT=0,1", "+APP PDP: ", on_network_open, 600, 0, 0},
};

static const cellota_at_step detach[] = {
    {"AT+CNACT=0,0", NULL, NULL, 600, CELLOTA_AT_ERROR_OK, 0},
};

static const cellota_at_step open_tcp[] = {
    {"AT+CASSLCFG=%l,\"SSL\",0", NULL, NULL, 50, CELLOTA_AT_ERROR_OK, 0},
    {"AT+CAOPEN=%l,0,\"TCP\",\"%h\",%p", NULL, NULL, 1200, 0, 0},
};

static const cellota_at_step open_tls[] = {
    {"AT+CSSLCFG=\"sslversion\",%l,3", NULL, NULL, 50, 0, 0},
    {"AT+CSSLCFG=\"sni\",%l,\"%h\"", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"SSL\",1", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"CRINDEX\",%l", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"CACERT\",\"%k\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CASSLCFG=%l,\"CERT\",\"%x\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CAOPEN=%l,0,\"TCP\",\"%h\",%p", NULL, NULL, 1200, 0, 0},
};

const cellota_modem_profile cellota_sim7070 = {
    .name = "sim7070",
    .urcs = urcs,
    .urc_count = sizeof(urcs) / sizeof(urcs[0]),
    .links = 13,
    .tls_links = 13,
    .power_key_ms = 1000,
    .max_send = 1460,
    .max_read = 1460,
    .open_s = 120,
    .probe = {cellota_modem_probe_steps, 1},
    .boot = {cellota_modem_boot_steps, 1},
    .setup = {cellota_modem_setup_steps, CELLOTA_MODEM_SETUP_BANDS},
    .registration = {cellota_modem_registration_steps, 3},
    .attach = CELLOTA_AT_SCRIPT(attach),
    .detach = CELLOTA_AT_SCRIPT(detach),
    .open = {CELLOTA_AT_SCRIPT(open_tcp), CELLOTA_AT_SCRIPT(open_tls)},
    .send = {CELLOTA_SIMCOM_CA_SEND, CELLOTA_SIMCOM_CA_SEND},
    .receive = {CELLOTA_SIMCOM_CA_RECEIVE, CELLOTA_SIMCOM_CA_RECEIVE},
    .query = {CELLOTA_SIMCOM_CA_QUERY, CELLOTA_SIMCOM_CA_QUERY},
    .close = {CELLOTA_SIMCOM_CA_CLOSE, CELLOTA_SIMCOM_CA_CLOSE},
    CELLOTA_SIMCOM_CA_CREDENTIALS,
};
