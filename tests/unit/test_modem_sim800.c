/* The SIM800L emulation: boot lines, the IP state machine (CSTT/CIICR/CIFSR), multi- and
 * single-connection sockets with manual and pushed receive, against a TCP server on 127.0.0.1. */
#include "modem_harness.h"

static const char payload[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD"; /* 40 bytes */

static void start(harness *h, test_server *server)
{
    modem_emulator_options options = exact_options();
    harness_start_served(h, server, MODEM_MODEL_SIM800, &options, payload, 40, true);
}

static void test_boot(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_default_options(&options);
    harness_start(&h, MODEM_MODEL_SIM800, &options);
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n\r\n+CFUN: 1\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\n+CPIN: READY\r\n", 5000));
    CHECK(harness_wait_for(&h, "\r\nCall Ready\r\n\r\nSMS Ready\r\n", 5000));
    CHECK(harness_command(&h, "ATI", "\r\nSIM800 R14.18\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CEREG?", "\r\nERROR\r\n", 1000)); /* a GSM modem */
    CHECK(harness_command(&h, "AT+CGMR", "Revision:1418B04SIM800L24", 1000));
    harness_stop(&h);
}

static void test_multi_connection(void)
{
    harness h;
    test_server server;
    char line[128];
    uint8_t data[64];
    start(&h, &server);
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CIPMUX=1", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPRXGET=1", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIFSR", "\r\nERROR\r\n", 1000)); /* no context yet */
    CHECK(harness_command(&h, "AT+CSTT=\"internet\",\"\",\"\"", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPSTATUS", "\r\nOK\r\n\r\nSTATE: IP START\r\n", 1000));
    harness_send(&h, "AT+CIICR\r");
    harness_advance(&h, 300);
    CHECK(!find_bytes(h.output + h.cursor, h.length - h.cursor, "OK")); /* it takes a while */
    CHECK(harness_wait_for(&h, "\r\nOK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIFSR", "\r\n10.64.12.7\r\n", 1000));
    snprintf(line, sizeof(line), "AT+CIPSTART=0,\"TCP\",\"127.0.0.1\",\"%u\"", server.port);
    CHECK(harness_command(&h, line, "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n0, CONNECT OK\r\n", 3000));
    CHECK(harness_command(&h, line, "\r\n0, ALREADY CONNECT\r\n\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPSEND=0,1461", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPSEND=0,4", "\r\n> ", 1000));
    harness_send(&h, "ping");
    CHECK(harness_wait_for(&h, "\r\n0, SEND OK\r\n", 3000));
    CHECK(harness_wait_for(&h, "\r\n+CIPRXGET: 1,0\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIPRXGET=4,0", "\r\n+CIPRXGET: 4,0,40\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPRXGET=2,0,1461", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPRXGET=2,0,16", "\r\n+CIPRXGET: 2,0,16,24\r\n", 1000));
    CHECK(harness_take(&h, data, 16, 1000));
    CHECK_EQ_MEM(data, payload, 16);
    CHECK(harness_wait_for(&h, "\r\nOK\r\n", 100));
    CHECK(harness_command(&h, "AT+CIPRXGET=3,0,4", "\r\n+CIPRXGET: 3,0,4,20\r\n6768696A\r\nOK\r\n",
                          1000));
    CHECK(harness_command(&h, "AT+CIPSTATUS=0", "+CIPSTATUS: 0,0,\"TCP\",\"127.0.0.1\"", 1000));
    CHECK(harness_command(&h, "AT+CIPCLOSE=0", "\r\n0, CLOSE OK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPCLOSE=0", "\r\nERROR\r\n", 1000));
    CHECK(server.received_length == 4 && memcmp(server.received, "ping", 4) == 0);
    harness_send(&h, "AT+CIPSHUT\r");
    CHECK(harness_wait_for(&h, "\r\nSHUT OK\r\n", 2000));
    CHECK(harness_command(&h, "AT+CIPSTATUS", "STATE: IP INITIAL", 1000));
    harness_stop(&h);
    server_stop(&server);
}

static void test_server_close_keeps_data(void)
{
    harness h;
    test_server server;
    char line[128];
    uint8_t data[64];
    start(&h, &server);
    server.close_after = true;
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CIPMUX=1;+CIPRXGET=1;+CSTT=\"internet\"", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIICR", "\r\nOK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIFSR", "10.64.12.7", 1000));
    snprintf(line, sizeof(line), "AT+CIPSTART=3,\"TCP\",\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\n3, CONNECT OK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIPSEND=3,2", "> ", 1000));
    harness_send(&h, "go");
    CHECK(harness_wait_for(&h, "\r\n+CIPRXGET: 1,3\r\n", 3000));
    CHECK(harness_wait_for(&h, "\r\n3, CLOSED\r\n", 3000));
    /* what the server sent before closing can still be read */
    CHECK(harness_command(&h, "AT+CIPRXGET=2,3,1460", "\r\n+CIPRXGET: 2,3,40,0\r\n", 1000));
    CHECK(harness_take(&h, data, 40, 1000));
    CHECK_EQ_MEM(data, payload, 40);
    harness_stop(&h);
    server_stop(&server);
}

static void test_single_connection_push(void)
{
    harness h;
    test_server server;
    char line[128];
    start(&h, &server);
    CHECK(harness_ready(&h));
    /* a single connection from IP INITIAL brings the context up by itself */
    snprintf(line, sizeof(line), "AT+CIPSTART=\"TCP\",\"127.0.0.1\",\"%u\"", server.port);
    CHECK(harness_command(&h, line, "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\nCONNECT OK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIPSTATUS", "STATE: CONNECT OK", 1000));
    CHECK(harness_command(&h, "AT+CIPQSEND=1", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIPSEND", "\r\n> ", 1000));
    harness_send(&h, "abc\x1A");
    CHECK(harness_wait_for(&h, "\r\nDATA ACCEPT:3\r\n", 2000));
    /* without AT+CIPRXGET=1 the data is pushed as it comes */
    CHECK(harness_wait_for(&h, payload, 3000));
    CHECK(harness_command(&h, "AT+CIPCLOSE", "\r\nCLOSE OK\r\n", 1000));
    harness_stop(&h);
    server_stop(&server);
}

static void test_push_with_header_in_multi_mode(void)
{
    harness h;
    test_server server;
    char line[128];
    start(&h, &server);
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CIPMUX=1;+CSTT", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CIICR", "\r\nOK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIFSR", "10.64.12.7", 1000));
    snprintf(line, sizeof(line), "AT+CIPSTART=1,\"TCP\",\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\n1, CONNECT OK\r\n", 3000));
    CHECK(harness_command(&h, "AT+CIPSEND=1,1", "> ", 1000));
    harness_send(&h, "x");
    CHECK(harness_wait_for(&h, "\r\n+RECEIVE,1,40:\r\n0123456789", 3000));
    harness_stop(&h);
    server_stop(&server);
}

int main(void)
{
    RUN(test_boot);
    RUN(test_multi_connection);
    RUN(test_server_close_keeps_data);
    RUN(test_single_connection_push);
    RUN(test_push_with_header_in_multi_mode);
    return test_summary();
}
