/* The SIM7600 emulation, driven with raw AT text: boot, SIM busy, registration, NETOPEN,
 * sockets against a real TCP server on 127.0.0.1, and the replies real logs show. */
#include "modem_harness.h"

static void test_boot_lines_and_sim_busy(void)
{
    harness h;
    modem_emulator_options options = exact_options();
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    /* nothing answers before RDY */
    harness_send(&h, "AT\r");
    harness_advance(&h, 500);
    CHECK_EQ_INT(h.length, 0);
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n", 10000));
    /* right after RDY the SIM is still busy */
    CHECK(harness_command(&h, "AT+CPIN?", "\r\n+CME ERROR: SIM busy\r\n", 1000));
    CHECK(harness_command(&h, "AT", "AT\r\r\nOK\r\n", 1000)); /* echo is on after boot */
    CHECK(harness_wait_for(&h, "\r\n+CPIN: READY\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\nSMS DONE\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\nPB DONE\r\n", 5000));
    CHECK(harness_command(&h, "AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "ATE0", "ATE0\r\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT", "\r\nOK\r\n", 1000));
    CHECK(h.output[h.cursor - 7] != 'T'); /* no echo any more */
    CHECK(harness_command(&h, "AT+CMEE=1;+CPIN=1234", "\r\n+CME ERROR: 3\r\n", 1000));
    CHECK(harness_command(&h, "AT+CMEE=0;+CPIN=1234", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+BOGUS", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CMEE?", "\r\n+CMEE: 0\r\n\r\nOK\r\n", 1000));
    harness_stop(&h);
}

static void test_registration(void)
{
    harness h;
    modem_emulator_options options = exact_options();
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    CHECK(harness_wait_for(&h, "RDY", 10000));
    CHECK(harness_command(&h, "ATE0", "OK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CREG?", "\r\n+CREG: 0,0\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CREG=1;+CGREG=2;+CEREG=1", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "+CPIN: READY", 5000));
    CHECK(harness_wait_for(&h, "\r\n+CREG: 2\r\n", 1000));
    CHECK(harness_command(&h, "AT+CREG?", "\r\n+CREG: 1,2\r\n\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CREG: 1\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\n+CGREG: 1,\"1A2B\",\"01C3D4E5\",7\r\n", 100));
    CHECK(harness_wait_for(&h, "\r\n+CEREG: 1\r\n", 100));
    CHECK(harness_command(&h, "AT+CGREG?", "\r\n+CGREG: 2,1,\"1A2B\",\"01C3D4E5\",7\r\n", 1000));
    CHECK(harness_command(&h, "AT+CSQ", "\r\n+CSQ: 21,99\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+COPS?", "+COPS: 0,0,\"CELLOTA NET\",7", 1000));
    harness_stop(&h);
}

static void test_socket_round_trip(void)
{
    harness h;
    test_server server;
    char line[160];
    uint8_t data[64];
    modem_emulator_options options = exact_options();
    server_start(&server);
    server.payload = (const uint8_t *)"hello from the server, 40 bytes long!!\r\n";
    server.payload_length = 40;
    server.wait_for_request = true;
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    h.server = &server;
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CIPRXGET=1", "OK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",80",
                          "\r\n+CIPOPEN: 0,2\r\n\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+NETOPEN", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+NETOPEN: 0\r\n", 2000));
    CHECK(harness_command(&h, "AT+NETOPEN",
                          "\r\n+IP ERROR: Network is already opened\r\n\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+IPADDR", "\r\n+IPADDR: 10.64.12.7\r\n\r\nOK\r\n", 1000));
    snprintf(line, sizeof(line), "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CIPOPEN: 0,0\r\n", 2000));
    CHECK(harness_command(&h, "AT+CIPSEND=0,5", "\r\n>", 1000));
    harness_send(&h, "hello");
    CHECK(harness_wait_for(&h, "\r\nOK\r\n\r\n+CIPSEND: 0,5,5\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CIPRXGET: 1,0\r\n", 2000));
    CHECK(harness_command(&h, "AT+CIPRXGET=4,0", "\r\n+CIPRXGET: 4,0,40\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPRXGET=2,0,1501",
                          "\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPRXGET=2,0,10", "\r\n+CIPRXGET: 2,0,10,30\r\n", 1000));
    CHECK(harness_take(&h, data, 10, 1000));
    CHECK_EQ_MEM(data, "hello from", 10);
    CHECK(harness_wait_for(&h, "\r\n\r\nOK\r\n", 100));
    CHECK(harness_command(&h, "AT+CIPRXGET=2,0,1500", "\r\n+CIPRXGET: 2,0,30,0\r\n", 1000));
    CHECK(harness_take(&h, data, 30, 1000));
    CHECK_EQ_MEM(data, " the server, 40 bytes long!!\r\n", 30);
    CHECK(harness_command(&h, "AT+CIPRXGET=2,0,1500", "\r\n+IP ERROR: No data\r\n\r\nERROR\r\n",
                          1000));
    CHECK(server.received_length == 5 && memcmp(server.received, "hello", 5) == 0);
    CHECK(harness_command(&h, "AT+CIPCLOSE=0", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CIPCLOSE: 0,0\r\n", 1000));
    /* a second close: the code for "not open", then ERROR */
    CHECK(harness_command(&h, "AT+CIPCLOSE=0", "\r\n+CIPCLOSE: 0,4\r\n\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+NETCLOSE", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+NETCLOSE: 0\r\n", 1000));
    harness_stop(&h);
    server_stop(&server);
}

int main(void)
{
    RUN(test_boot_lines_and_sim_busy);
    RUN(test_registration);
    RUN(test_socket_round_trip);
    return test_summary();
}
