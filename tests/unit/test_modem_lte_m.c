/* The SIM7000 and SIM7070 emulations: boot lines, band and mode selection, the application
 * network (AT+CNACT) and CA* sockets in each model's syntax, and the SIM7000's CIP toolkit. */
#include "modem_harness.h"

static const char payload[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD"; /* 40 bytes */

static void start(harness *h, test_server *server, modem_model model)
{
    modem_emulator_options options = exact_options();
    harness_start_served(h, server, model, &options, payload, 40, true);
    server->close_after = true;
}

static void test_boot_and_bands(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_default_options(&options);
    harness_start(&h, MODEM_MODEL_SIM7070, &options);
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n\r\n+CFUN: 1\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\n+CPIN: READY\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\nSMS Ready\r\n", 5000));
    CHECK(harness_command(&h, "ATE0", "OK", 1000));
    CHECK(harness_command(&h, "AT+CNMP=38", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CNMP?", "\r\n+CNMP: 38\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CNMP=7", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CMNB=1", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CMNB?", "\r\n+CMNB: 1\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CMNB=4", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CBANDCFG=\"CAT-M\",3,8,20", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CBANDCFG?", "\r\n+CBANDCFG: \"CAT-M\",3,8,20\r\n", 1000));
    CHECK(harness_command(&h, "AT+CBANDCFG=\"CAT-M\",99", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CMNB=2", "\r\nOK\r\n", 1000));
    harness_advance(&h, 5000);
    CHECK(harness_command(&h, "AT+COPS?", "\r\n+COPS: 0,0,\"CELLOTA NET\",9\r\n", 1000));
    CHECK(harness_command(&h, "AT+CPSI?", "+CPSI: LTE NB-IOT,Online", 1000));
    harness_stop(&h);
}

static void test_sim7070_sockets(void)
{
    harness h;
    test_server server;
    char line[128];
    start(&h, &server, MODEM_MODEL_SIM7070);
    CHECK(harness_ready(&h));
    snprintf(line, sizeof(line), "AT+CAOPEN=0,0,\"TCP\",\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\n+CAOPEN: 0,21\r\n\r\nOK\r\n", 1000)); /* no network yet */
    CHECK(harness_command(&h, "AT+CNACT=0,1", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+APP PDP: 0,ACTIVE\r\n", 2000));
    CHECK(harness_command(&h, "AT+CNACT?", "\r\n+CNACT: 0,1,\"10.64.12.7\"\r\n+CNACT: 1,0,", 1000));
    /* AT+CAOPEN waits for the connection before it answers */
    CHECK(harness_command(&h, line, "\r\n+CAOPEN: 0,0\r\n\r\nOK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CASTATE?", "\r\n+CASTATE: 0,1\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CASEND=0,1461", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CASEND=0,5", "> ", 1000));
    harness_send(&h, "hello");
    CHECK(harness_wait_for(&h, "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CADATAIND: 0\r\n", 3000));
    CHECK(harness_wait_for(&h, "\r\n+CASTATE: 0,0\r\n", 3000));
    CHECK(harness_command(&h, "AT+CARECV=0,1461", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CARECV=0,10", "\r\n+CARECV: 10,0123456789\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CARECV?", "\r\n+CARECV: 0,30\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CARECV=0,1460",
                          "\r\n+CARECV: 30,abcdefghijklmnopqrstuvwxyzABCD\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CARECV=0,100", "\r\n+CARECV: 0\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CACLOSE=0", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CACLOSE=0", "\r\nERROR\r\n", 1000));
    CHECK(server.received_length == 5 && memcmp(server.received, "hello", 5) == 0);
    harness_stop(&h);
    server_stop(&server);
}

static void test_sim7070_refused(void)
{
    harness h;
    test_server server;
    char line[128];
    uint16_t port;
    start(&h, &server, MODEM_MODEL_SIM7070);
    port = server.port;
    server_stop(&server); /* nobody listens any more */
    h.server = NULL;
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CNACT=0,1", "+APP PDP: 0,ACTIVE", 2000));
    snprintf(line, sizeof(line), "AT+CAOPEN=1,0,\"TCP\",\"127.0.0.1\",%u", port);
    CHECK(harness_command(&h, line, "\r\n+CAOPEN: 1,23\r\n\r\nOK\r\n", 3000));
    harness_stop(&h);
}

static void test_sim7000_ca_sockets(void)
{
    harness h;
    test_server server;
    char line[128];
    start(&h, &server, MODEM_MODEL_SIM7000);
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CNACT=1,\"iot\"", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+APP PDP: ACTIVE\r\n", 2000));
    CHECK(harness_command(&h, "AT+CNACT?", "\r\n+CNACT: 1,\"10.64.12.7\"\r\n", 1000));
    snprintf(line, sizeof(line), "AT+CAOPEN=0,\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\n+CAOPEN: 0,0\r\n\r\nOK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CASEND=0,3", "> ", 1000));
    harness_send(&h, "hey");
    CHECK(harness_wait_for(&h, "\r\nOK\r\n\r\n+CASEND: 0,0,3\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CADATAIND: 0\r\n", 3000));
    CHECK(harness_command(&h, "AT+CARECV=0,40", "\r\n+CARECV: 40,0123456789", 1000));
    harness_stop(&h);
    server_stop(&server);
}

static void test_sim7000_cip_toolkit(void)
{
    harness h;
    test_server server;
    char line[128];
    uint8_t data[40];
    start(&h, &server, MODEM_MODEL_SIM7000);
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CIPMUX=1;+CIPRXGET=1;+CSTT=\"iot\"", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIICR", "\r\nOK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIFSR", "\r\n10.64.12.7\r\n", 1000));
    snprintf(line, sizeof(line), "AT+CIPSTART=2,\"TCP\",\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\n2, CONNECT OK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIPSEND=2,2", "\r\n> ", 1000));
    harness_send(&h, "hi");
    CHECK(harness_wait_for(&h, "\r\n2, SEND OK\r\n", 3000));
    CHECK(harness_wait_for(&h, "\r\n+CIPRXGET: 1,2\r\n", 3000));
    CHECK(harness_wait_for(&h, "\r\n2, CLOSED\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIPRXGET=2,2,1460", "\r\n+CIPRXGET: 2,2,40,0\r\n", 1000));
    CHECK(harness_take(&h, data, 40, 1000));
    CHECK_EQ_MEM(data, payload, 40);
    harness_stop(&h);
    server_stop(&server);
}

int main(void)
{
    RUN(test_boot_and_bands);
    RUN(test_sim7070_sockets);
    RUN(test_sim7070_refused);
    RUN(test_sim7000_ca_sockets);
    RUN(test_sim7000_cip_toolkit);
    return test_summary();
}
