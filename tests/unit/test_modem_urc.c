/* Where URCs land: the quirks real modems show (more "+CIPRXGET: 1" lines before a read reply,
 * one between a read header and its data), URCs between the blocks of a long reply but never
 * inside data, URCs held back while a '>' prompt takes a payload, and the order of URCs. */
#include "modem_harness.h"

static const char payload[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD"; /* 40 bytes */

static void test_read_quirks(void)
{
    harness h;
    test_server server;
    modem_emulator_options options;
    uint8_t data[16];
    modem_emulator_default_options(&options);
    options.quirk_rate = 1.0;
    harness_start_served(&h, &server, MODEM_MODEL_SIM7600, &options, payload, 40, false);
    CHECK(harness_open_sim7600_socket(&h, server.port));
    CHECK(harness_wait_for(&h, "\r\n+CIPRXGET: 1,0\r\n", 2000));
    harness_advance(&h, 100);
    h.cursor = h.length;
    /* a notice before the reply, and one between its header and its data */
    CHECK(harness_command(
        &h, "AT+CIPRXGET=2,0,16",
        "\r\n+CIPRXGET: 1,0\r\n\r\n+CIPRXGET: 2,0,16,24\r\n\r\n+CIPRXGET: 1,0\r\n", 1000));
    CHECK(harness_take(&h, data, 16, 1000));
    CHECK_EQ_MEM(data, payload, 16);
    CHECK(harness_wait_for(&h, "\r\n\r\nOK\r\n", 100));
    harness_stop(&h);
    server_stop(&server);
}

static void test_urc_between_blocks_of_a_long_reply(void)
{
    harness h;
    modem_emulator_options options;
    uint8_t *file = malloc(20000), *back = malloc(20000);
    size_t got = 0, index;
    bool urc_inside = false;
    modem_emulator_default_options(&options);
    options.quirk_rate = 0;
    options.lose_registration_at_ms = 9000;
    options.lose_registration_for_ms = 300;
    for (index = 0; index < 20000; index++)
        file[index] = (uint8_t)(index % 251);
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    CHECK(harness_ready(&h));
    CHECK(harness_command(&h, "AT+CREG=1", "OK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CFTRANRX=\"c:/f\",20000", ">", 1000));
    harness_send_bytes(&h, file, 20000);
    CHECK(harness_wait_for(&h, "OK\r\n", 5000));
    /* 20000 bytes take 1.8 s to come back: the registration drop at 9 s falls inside */
    while (h.now < 8500)
        harness_advance(&h, 1);
    harness_send(&h, "AT+CFTRANTX=\"c:/f\"\r");
    while (got < 20000) {
        unsigned count;
        int which = harness_wait_either(&h, "+CFTRANTX: DATA,", "\r\n+CREG: ", 5000);
        if (which == 2) {
            urc_inside = true;
            continue;
        }
        if (which != 1 || sscanf((const char *)h.output + h.cursor, "%u", &count) != 1)
            break;
        CHECK(harness_wait_for(&h, "\r\n", 100));
        CHECK(harness_take(&h, back + got, count, 1000));
        got += count;
    }
    CHECK_EQ_INT(got, 20000);
    CHECK_EQ_MEM(back, file, 20000);
    CHECK(urc_inside); /* "+CREG: 2" and "+CREG: 1" arrived between blocks */
    CHECK(harness_wait_for(&h, "+CFTRANTX: 0\r\n\r\nOK\r\n", 1000));
    free(file);
    free(back);
    harness_stop(&h);
}

static void test_urcs_wait_for_the_payload(void)
{
    harness h;
    test_server server;
    modem_emulator_options options;
    size_t prompt;
    options = exact_options();
    harness_start_served(&h, &server, MODEM_MODEL_SIM7600, &options, payload, 40, false);
    CHECK(harness_open_sim7600_socket(&h, server.port));
    CHECK(harness_command(&h, "AT+CIPSEND=0,4", "\r\n>", 1000));
    prompt = h.cursor;
    harness_advance(&h, 300); /* the server's data arrives meanwhile */
    CHECK_EQ_INT(h.length, prompt);
    harness_send(&h, "data");
    CHECK(harness_wait_for(&h, "\r\n+CIPRXGET: 1,0\r\n\r\nOK\r\n\r\n+CIPSEND: 0,4,4\r\n", 1000));
    harness_stop(&h);
    server_stop(&server);
}

static void test_urc_order_and_causality(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_default_options(&options);
    options.baud = 1200; /* a slow line keeps replies queued while timers fire */
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n", 10000));
    CHECK(harness_wait_for(&h, "\r\n+CPIN: READY\r\n", 10000));
    CHECK(harness_wait_for(&h, "\r\nSMS DONE\r\n", 10000));
    CHECK(harness_wait_for(&h, "\r\nPB DONE\r\n", 10000));
    harness_advance(&h, 3000);
    /* NETOPEN's answer comes after its OK even when the OK is still on the line */
    CHECK(harness_command(&h, "AT+NETOPEN", "AT+NETOPEN\r\r\nOK\r\n\r\n+NETOPEN: 0\r\n", 5000));
    harness_stop(&h);
}

int main(void)
{
    RUN(test_read_quirks);
    RUN(test_urc_between_blocks_of_a_long_reply);
    RUN(test_urcs_wait_for_the_payload);
    RUN(test_urc_order_and_causality);
    return test_summary();
}
