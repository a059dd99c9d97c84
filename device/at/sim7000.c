/*
 * SIMCom SIM7000 (E/G/A, LTE Cat-M1 / NB-IoT, GSM fallback) profile, on the application network
 * (AT+CNACT) and its TCP/SSL application commands (AT+CAOPEN, AT+CASEND, AT+CARECV), which are
 * also the only way this modem does TLS.
 *
 * Sources: SIM7000 Series AT Command Manual (V1.04/V1.05) -- AT+CNMP, AT+CMNB, AT+CBANDCFG,
 * AT+CNACT, +APP PDP; SIM7000 Series TCP/IP and SSL Application Notes -- AT+CACID, AT+CAOPEN,
 * AT+CASEND, AT+CARECV, AT+CACLOSE, +CADATAIND, +CASTATE, AT+CSSLCFG, AT+CASSLCFG; and logs of
 * real modems: AT+CNACT=1,"<apn>" answers OK then "+APP PDP: ACTIVE"; AT+CAOPEN takes no "TCP"
 * argument on this modem; the CSSLCFG/CASSLCFG keys are accepted in lower case; AT+CARECV
 * answers "+CARECV: <len>,<data>" (no connection number); the modem hangs when asked for more
 * bytes than it holds, so the driver only asks for what AT+CARECV? reported.
 * TLS credentials (docs/security.md): files written with AT+CFSWFILE into the "customer" folder
 * (3), AT+CSSLCFG="convert",2,<ca> and "convert",1,<cert>,<key>, then per connection
 * AT+CASSLCFG=<cid>,"cacert",<ca> and "cert",<cert> -- the CA-application syntax the SIM7070
 * manual gives and TinyGSM's SIM7000SSL client uses for this modem.
 */
#include "at/modem.h"
#include "at/simcom_ca.h"

#include "core/error.h"

#include <string.h>

/* "+CNACT: <status>,"<ip>"" to AT+CNACT?: 1 is active, skip the activation. */
static int on_network_state(void *modem, cellota_at *at, const char *arguments)
{
    (void)modem;
    if (arguments[0] == '1')
        cellota_at_skip(at, 1);
    return CELLOTA_OK;
}

/* "+APP PDP: ACTIVE" after AT+CNACT's OK (DEACTIVE when it failed). */
static int on_network_open(void *modem, cellota_at *at, const char *arguments)
{
    (void)modem;
    (void)at;
    return cellota_at_is(arguments, "ACTIVE") ? CELLOTA_OK : CELLOTA_AT_CONTEXT_FAILED;
}

static const cellota_at_urc urcs[] = {
    {"+CADATAIND: ", cellota_simcom_ca_on_data},  {"+CASTATE: ", cellota_simcom_ca_on_state},
    {"+CAOPEN: ", cellota_simcom_ca_on_open},     {"+CASEND: ", cellota_simcom_ca_on_sent},
    {"+APP PDP: ", cellota_simcom_ca_on_network}, {"RDY", cellota_modem_on_restart},
    {"+CPIN: ", cellota_modem_on_boot_line},      {"+CFUN: ", cellota_modem_on_boot_line},
    {"SMS Ready", cellota_modem_on_boot_line},
};

static const cellota_at_step attach[] = {
    {"AT+CGDCONT=1,\"IP\",\"%a\"", NULL, NULL, 50, 0, 0},
    {"AT+CNACT?", "+CNACT: ", on_network_state, 50, 0, 0},
    {"AT+CNACT=1,\"%a\"", "+APP PDP: ", on_network_open, 600, 0, 0},
};

static const cellota_at_step detach[] = {
    {"AT+CNACT=0", NULL, NULL, 600, CELLOTA_AT_ERROR_OK, 0},
};

static const cellota_at_step open_tcp[] = {
    {"AT+CASSLCFG=%l,\"ssl\",0", NULL, NULL, 50, CELLOTA_AT_ERROR_OK, 0},
    {"AT+CAOPEN=%l,\"%h\",%p", NULL, NULL, 1200, 0, 0},
};

static const cellota_at_step open_tls[] = {
    {"AT+CSSLCFG=\"sslversion\",%l,3", NULL, NULL, 50, 0, 0},
    {"AT+CSSLCFG=\"sni\",%l,\"%h\"", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"ssl\",1", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"crindex\",%l", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"protocol\",0", NULL, NULL, 50, 0, 0},
    {"AT+CASSLCFG=%l,\"cacert\",\"%k\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},
    /* the client certificate by the name its convert gave it (with its key): "cert", as on
     * the SIM7070 -- no SIMCom document or public code names a "clientcert" key here */
    {"AT+CASSLCFG=%l,\"cert\",\"%x\"", NULL, NULL, 50, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CAOPEN=%l,\"%h\",%p", NULL, NULL, 1200, 0, 0},
};

const cellota_modem_profile cellota_sim7000 = {
    .name = "sim7000",
    .urcs = urcs,
    .urc_count = sizeof(urcs) / sizeof(urcs[0]),
    .links = 8,
    .tls_links = 8,
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
