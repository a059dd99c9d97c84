/* The emulator's faults and its line model: dropped and corrupted UART bytes (flagged when
 * parity is on), sockets closed after N bytes, modem resets after N bytes, registration loss,
 * the power key, overruns of the device's receive buffer, and the baud-rate pacing itself. */
#include "modem_harness.h"

/* Reads the socket with CIPRXGET=2 until `total` bytes came or the modem holds nothing more
 * after the server closed; returns how many were read. */
static size_t read_all(harness *h, uint8_t *out, size_t total)
{
    size_t got = 0;
    int rounds = 0;
    while (got < total && rounds++ < 5000) {
        unsigned number, count, rest;
        h->cursor = h->length;
        harness_send(h, "AT+CIPRXGET=2,0,1500\r");
        if (harness_wait_either(h, "+CIPRXGET: 2,", "ERROR\r\n", 3000) != 1) {
            if (find_bytes(h->output, h->length, "+IPCLOSE: 0,1"))
                break; /* closed and empty */
            harness_advance(h, 20);
            continue;
        }
        if (sscanf((const char *)h->output + h->cursor, "%u,%u,%u\r\n", &number, &count, &rest) !=
            3)
            break;
        if (!harness_wait_for(h, "\r\n", 100) || !harness_take(h, out + got, count, 1000))
            break;
        got += count;
        harness_wait_for(h, "\r\nOK\r\n", 1000);
    }
    return got;
}

static void test_line_pacing(void)
{
    static const uint32_t rates[] = {115200, 921600};
    size_t index;
    for (index = 0; index < 2; index++) {
        harness h;
        modem_emulator_options options;
        uint8_t *data = test_pattern(11520);
        uint64_t start, took;
        size_t before;
        modem_emulator_default_options(&options);
        options.baud = rates[index];
        harness_start(&h, MODEM_MODEL_SIM7600, &options);
        CHECK(harness_wait_for(&h, "PB DONE", 10000));
        CHECK(harness_command(&h, "ATE0", "OK\r\n", 1000));
        /* device -> modem: 11520 bytes into a file take ~1 s at 115200 (10 bits a byte) */
        CHECK(harness_command(&h, "AT+CFTRANRX=\"c:/pace.bin\",11520", ">", 1000));
        start = h.now;
        harness_send_bytes(&h, data, 11520);
        CHECK(harness_wait_for(&h, "\r\nOK\r\n", 3000));
        took = h.now - start;
        CHECK(took >= 1000 * 115200 / rates[index] && took <= 1000 * 115200 / rates[index] + 20);
        /* modem -> device: the same bytes back; halfway through about half have arrived */
        harness_send(&h, "AT+CFTRANTX=\"c:/pace.bin\"\r");
        start = h.now;
        before = h.length;
        harness_advance(&h, 500 * 115200 / rates[index]);
        CHECK(h.length - before > 5400 && h.length - before < 6000);
        CHECK(harness_wait_for(&h, "+CFTRANTX: 0\r\n\r\nOK\r\n", 3000));
        took = h.now - start;
        /* 11520 data bytes, 6 block headers and the ending: ~11700 bytes on the line */
        CHECK(took >= 1010 * 115200 / rates[index] && took <= 1040 * 115200 / rates[index] + 3);
        free(data);
        harness_stop(&h);
    }
}

static void test_parity_slows_the_line(void)
{
    harness h;
    modem_emulator_options options;
    uint8_t *data = test_pattern(11000);
    uint64_t start;
    modem_emulator_default_options(&options);
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    CHECK(harness_wait_for(&h, "PB DONE", 10000));
    CHECK(harness_command(&h, "ATE0;+ICF=2,1", "OK\r\n", 1000));
    harness_advance(&h, 5);
    CHECK(modem_emulator_parity(h.emulator));
    CHECK(harness_command(&h, "AT+ICF?", "\r\n+ICF: 2,1\r\n", 1000));
    CHECK(harness_command(&h, "AT+CFTRANRX=\"c:/p\",11000", ">", 1000));
    start = h.now;
    harness_send_bytes(&h, data, 11000);
    CHECK(harness_wait_for(&h, "OK\r\n", 3000));
    /* 11 bits a byte: 11000 bytes take 1.05 s */
    CHECK(h.now - start >= 1050 && h.now - start <= 1070);
    CHECK(harness_command(&h, "AT+IPR=921600", "OK\r\n", 1000));
    harness_advance(&h, 2);
    CHECK_EQ_INT(modem_emulator_baud(h.emulator), 921600);
    free(data);
    harness_stop(&h);
}

static void test_drop_and_corrupt(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_stats stats;
    int index;
    modem_emulator_default_options(&options);
    options.drop_rate = 0.05;
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    harness_advance(&h, 6000);
    for (index = 0; index < 200; index++) {
        harness_send(&h, "AT+CGMR\r");
        harness_advance(&h, 10);
    }
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK(stats.bytes_dropped > 200); /* ~5% of ~8000 bytes */
    CHECK(stats.bytes_dropped < 700);
    CHECK_EQ_INT(h.errors, 0); /* a lost byte is not flagged */
    CHECK_EQ_INT(stats.bytes_to_device + stats.bytes_dropped, h.length + stats.bytes_dropped);
    harness_stop(&h);

    /* corruption without parity: bytes change silently */
    modem_emulator_default_options(&options);
    options.corrupt_rate = 0.05;
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    harness_advance(&h, 6000);
    for (index = 0; index < 100; index++) {
        harness_send(&h, "AT+CGMR\r");
        harness_advance(&h, 10);
    }
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK(stats.bytes_corrupted > 100);
    CHECK_EQ_INT(h.errors, 0);
    harness_stop(&h);

    /* with parity on, every flipped byte is flagged by the device's UART */
    modem_emulator_default_options(&options);
    options.corrupt_rate = 0.05;
    options.parity = true;
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    harness_advance(&h, 6000);
    for (index = 0; index < 100; index++) {
        harness_send(&h, "AT+CGMR\r");
        harness_advance(&h, 10);
    }
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK(stats.bytes_corrupted > 100);
    CHECK_EQ_INT(h.errors, stats.bytes_corrupted);
    harness_stop(&h);
}

static void test_flagged_positions(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_stats stats;
    uint8_t bytes[8192];
    bool flags[8192];
    size_t count, index, flagged = 0, differing = 0;
    const char *clean = "\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n";
    modem_emulator_default_options(&options);
    options.corrupt_rate = 0.2;
    options.parity = true;
    options.seed = 42;
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    for (index = 0; index < 8000; index++)
        modem_emulator_poll(h.emulator, h.now + index);
    count = modem_emulator_uart_read_flagged(h.emulator, bytes, flags, sizeof(bytes));
    CHECK_EQ_INT(count, strlen(clean));
    for (index = 0; index < count && index < strlen(clean); index++) {
        flagged += flags[index];
        differing += bytes[index] != (uint8_t)clean[index];
        if (bytes[index] != (uint8_t)clean[index])
            CHECK(flags[index]); /* every damaged byte is flagged, exactly those */
    }
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK(flagged > 0);
    CHECK_EQ_INT(flagged, differing);
    CHECK_EQ_INT(flagged, stats.bytes_corrupted);
    harness_stop(&h);
}

static void test_close_after_bytes(void)
{
    harness h;
    test_server server;
    modem_emulator_options options;
    uint8_t *data = test_pattern(20000), got[20000];
    options = exact_options();
    options.close_after_bytes = 7000;
    harness_start_served(&h, &server, MODEM_MODEL_SIM7600, &options, data, 20000, false);
    CHECK(harness_open_sim7600_socket(&h, server.port));
    CHECK(harness_wait_for(&h, "\r\n+IPCLOSE: 0,1\r\n", 5000));
    CHECK_EQ_INT(read_all(&h, got, 20000), 7000);
    CHECK_EQ_MEM(got, data, 7000);
    free(data);
    harness_stop(&h);
    server_stop(&server);
}

static void test_reset_after_bytes(void)
{
    harness h;
    test_server server;
    modem_emulator_options options;
    modem_emulator_stats stats;
    uint8_t *data = test_pattern(20000);
    options = exact_options();
    options.reset_after_bytes = 5000;
    harness_start_served(&h, &server, MODEM_MODEL_SIM7600, &options, data, 20000, false);
    CHECK(harness_open_sim7600_socket(&h, server.port));
    /* the modem resets on its own: boot lines again, the socket gone, echo back on */
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n", 10000));
    CHECK(harness_command(&h, "AT+CIPRXGET=4,0", "AT+CIPRXGET=4,0\r\r\n+IP ERROR: No data\r\n",
                          1000));
    CHECK(harness_wait_for(&h, "PB DONE", 10000));
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK_EQ_INT(stats.fault_resets, 1);
    CHECK_EQ_INT(stats.boots, 2);
    free(data);
    harness_stop(&h);
    server_stop(&server);
}

static void test_registration_loss(void)
{
    harness h;
    test_server server;
    modem_emulator_options options;
    char line[128];
    options = exact_options();
    options.lose_registration_at_ms = 12000;
    options.lose_registration_for_ms = 5000;
    harness_start_served(&h, &server, MODEM_MODEL_SIM7600, &options, "x", 1, false);
    CHECK(harness_open_sim7600_socket(&h, server.port));
    CHECK(harness_command(&h, "AT+CREG=1", "OK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CREG: 2\r\n", 15000));
    CHECK(harness_wait_for(&h, "\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n", 100));
    CHECK(harness_command(&h, "AT+CGREG?", "+CGREG: 0,2", 1000));
    CHECK(harness_command(&h, "AT+CSQ", "+CSQ: 99,99", 1000));
    snprintf(line, sizeof(line), "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",%u", server.port);
    CHECK(harness_command(&h, line, "\r\n+CIPOPEN: 0,1\r\n\r\nERROR\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CREG: 1\r\n", 6000));
    /* the application closes the network and opens it again */
    CHECK(harness_command(&h, "AT+NETCLOSE", "+NETCLOSE: 0", 1000));
    CHECK(harness_command(&h, "AT+NETOPEN", "+NETOPEN: 0", 2000));
    CHECK(harness_command(&h, line, "+CIPOPEN: 0,0", 3000));
    harness_stop(&h);
    server_stop(&server);
}

static void test_power_key(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_default_options(&options);
    options.start_powered_off = true;
    harness_start(&h, MODEM_MODEL_SIM800, &options);
    harness_advance(&h, 5000);
    CHECK_EQ_INT(h.length, 0);
    CHECK(!modem_emulator_powered(h.emulator));
    modem_emulator_power_key(h.emulator, true);
    harness_advance(&h, 500);
    modem_emulator_power_key(h.emulator, false); /* too short */
    harness_advance(&h, 3000);
    CHECK(!modem_emulator_powered(h.emulator));
    modem_emulator_power_key(h.emulator, true);
    harness_advance(&h, 1100);
    modem_emulator_power_key(h.emulator, false);
    CHECK(modem_emulator_powered(h.emulator));
    CHECK(harness_wait_for(&h, "RDY", 5000));
    CHECK(harness_wait_for(&h, "SMS Ready", 5000));
    modem_emulator_power_key(h.emulator, true);
    harness_advance(&h, 1100);
    modem_emulator_power_key(h.emulator, false);
    CHECK(harness_wait_for(&h, "\r\nNORMAL POWER DOWN\r\n", 100));
    CHECK(!modem_emulator_powered(h.emulator));
    harness_stop(&h);
}

static void test_device_overrun(void)
{
    harness h;
    modem_emulator_options options;
    modem_emulator_stats stats;
    modem_emulator_default_options(&options);
    options.device_rx_capacity = 16;
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    /* nobody reads while the boot lines arrive */
    modem_emulator_poll(h.emulator, h.now + 8000);
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK(stats.device_overruns > 0);
    CHECK_EQ_INT(modem_emulator_uart_take_errors(h.emulator), stats.device_overruns);
    CHECK_EQ_INT(modem_emulator_uart_take_errors(h.emulator), 0);
    harness_stop(&h);
}

static void test_next_event(void)
{
    harness h;
    modem_emulator_options options;
    uint64_t next;
    modem_emulator_default_options(&options);
    harness_start(&h, MODEM_MODEL_SIM7600, &options);
    /* stepping from event to event reaches the boot lines without a millisecond loop */
    next = modem_emulator_next_event_ms(h.emulator);
    CHECK_EQ_INT(next, h.now + 2500);
    modem_emulator_poll(h.emulator, next);
    next = modem_emulator_next_event_ms(h.emulator);
    CHECK(next > h.now + 2500 && next < h.now + 2510); /* "RDY" leaving the line */
    harness_stop(&h);
}

int main(void)
{
    RUN(test_line_pacing);
    RUN(test_parity_slows_the_line);
    RUN(test_drop_and_corrupt);
    RUN(test_flagged_positions);
    RUN(test_close_after_bytes);
    RUN(test_reset_after_bytes);
    RUN(test_registration_loss);
    RUN(test_power_key);
    RUN(test_device_overrun);
    RUN(test_next_event);
    return test_summary();
}
