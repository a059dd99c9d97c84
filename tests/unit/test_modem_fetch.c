/*
 * A 512 KiB download through each emulated model's own socket commands, byte-exact, at 115200
 * and 921600 baud, by a simple driver that reads as fast as the modem lets it. It prints the
 * goodput as a share of the UART line rate; that is the ceiling the device's AT driver can
 * approach (the real one is measured by `make bench`).
 */
#include "modem_harness.h"

#ifndef SIZE
#define SIZE (512u * 1024u)
#endif

typedef struct dialect_driver {
    modem_model model;
    const char *read_command; /* one read of at most the modem's maximum */
    const char *header;       /* the read reply's header, up to the length field */
} dialect_driver;

static const dialect_driver drivers[] = {
    {MODEM_MODEL_SIM7600, "AT+CIPRXGET=2,0,1500\r", "+CIPRXGET: 2,0,"},
    {MODEM_MODEL_SIM7000, "AT+CIPRXGET=2,0,1460\r", "+CIPRXGET: 2,0,"},
    {MODEM_MODEL_SIM7070, "AT+CARECV=0,1460\r", "+CARECV: "},
    {MODEM_MODEL_SIM800, "AT+CIPRXGET=2,0,1460\r", "+CIPRXGET: 2,0,"},
};

static bool connect_socket(harness *h, const dialect_driver *driver, uint16_t port)
{
    char line[128];
    if (!harness_ready(h))
        return false;
    switch (driver->model) {
    case MODEM_MODEL_SIM7600:
        snprintf(line, sizeof(line), "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",%u", port);
        return harness_command(h, "AT+CIPRXGET=1", "OK\r\n", 1000) &&
               harness_command(h, "AT+NETOPEN", "+NETOPEN: 0\r\n", 3000) &&
               harness_command(h, line, "+CIPOPEN: 0,0\r\n", 5000) &&
               harness_command(h, "AT+CIPSEND=0,4", ">", 1000) &&
               (harness_send(h, "GET\n"), harness_wait_for(h, "+CIPSEND: 0,4,4\r\n", 2000));
    case MODEM_MODEL_SIM7070:
        snprintf(line, sizeof(line), "AT+CAOPEN=0,0,\"TCP\",\"127.0.0.1\",%u", port);
        return harness_command(h, "AT+CNACT=0,1", "+APP PDP: 0,ACTIVE\r\n", 3000) &&
               harness_command(h, line, "+CAOPEN: 0,0\r\n\r\nOK\r\n", 5000) &&
               harness_command(h, "AT+CASEND=0,4", ">", 1000) &&
               (harness_send(h, "GET\n"), harness_wait_for(h, "OK\r\n", 2000));
    default:
        snprintf(line, sizeof(line), "AT+CIPSTART=0,\"TCP\",\"127.0.0.1\",%u", port);
        return harness_command(h, "AT+CIPMUX=1;+CIPRXGET=1;+CSTT=\"internet\"", "OK\r\n", 1000) &&
               harness_command(h, "AT+CIICR", "OK\r\n", 5000) &&
               harness_command(h, "AT+CIFSR", "10.64.12.7\r\n", 1000) &&
               harness_command(h, line, "0, CONNECT OK\r\n", 5000) &&
               harness_command(h, "AT+CIPSEND=0,4", ">", 1000) &&
               (harness_send(h, "GET\n"), harness_wait_for(h, "0, SEND OK\r\n", 5000));
    }
}

/* Reads until SIZE bytes came; returns the virtual milliseconds it took, 0 on failure. */
static uint64_t download(harness *h, const dialect_driver *driver, uint8_t *out)
{
    size_t got = 0;
    uint64_t start = h->now;
    while (got < SIZE) {
        unsigned count;
        int answer;
        if (h->now - start > 600000)
            return 0;
        h->cursor = h->length;
        harness_send(h, driver->read_command);
        answer = harness_wait_either(h, driver->header, "ERROR\r\n", 5000);
        if (answer == 2) {
            harness_advance(h, 5); /* "+IP ERROR: No data": nothing held yet */
            continue;
        }
        if (answer != 1)
            return 0;
        {
            /* the length is complete once its line (SIM7070: its comma) is */
            size_t header = h->cursor;
            int ending = harness_wait_either(h, ",", "\r\n", 1000);
            if (ending == 0 || sscanf((const char *)h->output + header, "%u", &count) != 1)
                return 0;
            if (ending == 1 && driver->model != MODEM_MODEL_SIM7070 &&
                !harness_wait_for(h, "\r\n", 1000))
                return 0;
        }
        if (count == 0) {
            /* nothing held yet: wait for the modem's notice */
            harness_wait_for(h, "OK\r\n", 1000);
            harness_advance(h, 5);
            continue;
        }
        /* a notice may sit between the header and the data (a quirk of real modems) */
        harness_advance(h, 2);
        while (h->length - h->cursor >= 16 &&
               memcmp(h->output + h->cursor, "\r\n+CIPRXGET: 1", 14) == 0) {
            h->cursor += 2;
            if (!harness_wait_for(h, "\r\n", 100))
                return 0;
        }
        if (!harness_take(h, out + got, count, 5000))
            return 0;
        got += count;
        if (!harness_wait_for(h, "OK\r\n", 1000))
            return 0;
    }
    return h->now - start;
}

static void test_downloads(void)
{
    static const uint32_t rates[] = {115200, 921600};
    uint8_t *data = malloc(SIZE), *back = malloc(SIZE);
    size_t index, model, rate;
    for (index = 0; index < SIZE; index++)
        data[index] = (uint8_t)((index * 2654435761u) >> 13);
    for (model = 0; model < sizeof(drivers) / sizeof(drivers[0]); model++) {
        for (rate = 0; rate < 2; rate++) {
            harness h;
            test_server server;
            modem_emulator_options options;
            uint64_t took;
            modem_emulator_default_options(&options);
            options.baud = rates[rate];
            options.quirk_rate = 0.1;
            server_start(&server);
            server.payload = data;
            server.payload_length = SIZE;
            server.wait_for_request = true;
            harness_start(&h, drivers[model].model, &options);
            h.server = &server;
            memset(back, 0, SIZE);
            CHECK(connect_socket(&h, &drivers[model], server.port));
            took = download(&h, &drivers[model], back);
            CHECK(took > 0);
            CHECK_EQ_MEM(back, data, SIZE);
            if (took)
                printf(
                    "fetch: model=%s baud=%u radio-limited=%s goodput=%.1f%% (%.1f s)\n",
                    modem_model_name(drivers[model].model), (unsigned)rates[rate],
                    drivers[model].model == MODEM_MODEL_SIM800 ||
                            (rates[rate] == 921600 && drivers[model].model != MODEM_MODEL_SIM7600)
                        ? "yes"
                        : "no",
                    100.0 * SIZE * 10.0 / ((double)rates[rate] * (double)took / 1000.0),
                    (double)took / 1000.0);
            harness_stop(&h);
            server_stop(&server);
        }
    }
    free(data);
    free(back);
}

int main(void)
{
    RUN(test_downloads);
    return test_summary();
}
