/*
 * cellota-link: fetches a file from an HTTP server through the device's modem driver and the
 * modem emulator, in one process on virtual time (host/link/link_rig.h). The modem layer's
 * end-to-end test and its goodput benchmark run it; it is also a handy way to watch one dialect
 * move real bytes under a chosen fault.
 */
#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"
#include "core/error.h"
#include "link_rig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const host_option fetch_options[] = {
    {"model", "MODEL", "sim7600, sim7000, sim7070 or sim800", true},
    {"url", "URL", "http://HOST:PORT/PATH to fetch (plain HTTP, loopback in tests)", true},
    {"expect", "FILE", "the file the server holds: every byte passed up is compared with it", true},
    {"baud", "B", "UART rate (default 115200)", false},
    {"radio", "R", "cat1, catm1 or gprs (default: the model's usual radio)", false},
    {"parity", NULL, "run the UART 8E1, so the device's UART flags bit errors", false},
    {"flow-control", NULL, "RTS/CTS hardware flow control", false},
    {"drop-rate", "P", "probability a UART byte is lost", false},
    {"corrupt-rate", "P", "probability a UART byte has a bit flipped", false},
    {"close-after", "N", "the server side closes every socket after N bytes", false},
    {"reset-after", "N", "the modem resets after N bytes from the network", false},
    {"lose-registration-at", "MS", "virtual time of a registration loss", false},
    {"lose-registration-for", "MS", "how long the registration stays lost (default 5000)", false},
    {"max-faults", "N", "socket failures to resume from before giving up (default 100)", false},
    {"seed", "S", "fault generator seed (default 1)", false},
    {"log", "FILE", "write the AT exchange to FILE (virtual ms, direction, bytes)", false},
    {NULL, NULL, NULL, false}};

static const host_command fetch_command = {
    "fetch",
    "--model MODEL --url URL --expect FILE [options]",
    "Fetch a file through the device's modem driver and an emulated modem, on virtual time.",
    fetch_options,
    NULL,
    0,
    0,
    "Prints one line for scripts:\n"
    "  fetch: model=M baud=B radio=R bytes=N faults=F elapsed_ms=T goodput=P% result=ok\n"
    "goodput is body bytes per virtual second as a percentage of the UART line rate (10 bits a\n"
    "byte for 8N1, 11 for 8E1). Each fault is a socket failure the driver reported; the fetch\n"
    "resumes it with an HTTP Range request. Exit 0 when the whole file arrived byte-exact, 1\n"
    "when it did not or corrupt data was passed up, 2 for usage errors."};

static bool parse_url(const char *url, char *host, size_t capacity, uint16_t *port,
                      const char **path)
{
    const char *start, *colon, *slash;
    uint64_t number;
    char digits[8];
    if (strncmp(url, "http://", 7) != 0)
        return false;
    start = url + 7;
    slash = strchr(start, '/');
    colon = strchr(start, ':');
    if (!slash || !colon || colon > slash || (size_t)(colon - start) >= capacity ||
        (size_t)(slash - colon - 1) >= sizeof(digits))
        return false;
    memcpy(host, start, (size_t)(colon - start));
    host[colon - start] = 0;
    memcpy(digits, colon + 1, (size_t)(slash - colon - 1));
    digits[slash - colon - 1] = 0;
    if (!host_parse_unsigned(digits, 65535, &number) || number == 0)
        return false;
    *port = (uint16_t)number;
    *path = slash;
    return true;
}

static bool option_number(const host_arguments *arguments, const char *name, uint64_t max,
                          uint64_t *value)
{
    const char *text = host_option_value(arguments, name);
    return !text || host_parse_unsigned(text, max, value);
}

static bool option_rate(const host_arguments *arguments, const char *name, double *value)
{
    const char *text = host_option_value(arguments, name);
    return !text || (host_parse_decimal(text, value) && *value <= 1.0);
}

static int run_fetch(int argc, char **argv)
{
    host_arguments arguments;
    modem_emulator_options options;
    modem_model model;
    link_rig *rig;
    link_fetch_result result;
    char host[128];
    const char *path;
    uint16_t port;
    uint8_t *expected = NULL;
    size_t length = 0;
    uint64_t baud = 115200, close_after = 0, reset_after = 0, max_faults = 100, seed = 1;
    uint64_t lose_at = 0, lose_for = 5000;
    int status;
    double line_rate, goodput;
    FILE *log_file = NULL;

    if (!host_parse_arguments(&fetch_command, argc, argv, &arguments, &status))
        return status;
    modem_emulator_default_options(&options);
    if (modem_model_from_name(host_option_value(&arguments, "model"), &model) != 0)
        return host_usage_error(&fetch_command, "unknown model '%s'",
                                host_option_value(&arguments, "model"));
    if (!parse_url(host_option_value(&arguments, "url"), host, sizeof(host), &port, &path))
        return host_usage_error(&fetch_command, "--url must be http://HOST:PORT/PATH");
    if (host_option_given(&arguments, "radio") &&
        modem_radio_from_name(host_option_value(&arguments, "radio"), &options.radio) != 0)
        return host_usage_error(&fetch_command, "--radio must be cat1, catm1 or gprs");
    if (!option_number(&arguments, "baud", 4000000, &baud) ||
        !option_number(&arguments, "close-after", UINT64_MAX, &close_after) ||
        !option_number(&arguments, "reset-after", UINT64_MAX, &reset_after) ||
        !option_number(&arguments, "max-faults", 100000, &max_faults) ||
        !option_number(&arguments, "seed", UINT64_MAX, &seed) ||
        !option_number(&arguments, "lose-registration-at", INT64_MAX, &lose_at) ||
        !option_number(&arguments, "lose-registration-for", UINT32_MAX, &lose_for) ||
        !option_rate(&arguments, "drop-rate", &options.drop_rate) ||
        !option_rate(&arguments, "corrupt-rate", &options.corrupt_rate))
        return host_usage_error(&fetch_command, "a numeric option is malformed or out of range");
    options.baud = (uint32_t)baud;
    options.parity = host_option_given(&arguments, "parity");
    options.hardware_flow_control = host_option_given(&arguments, "flow-control");
    options.close_after_bytes = close_after;
    options.reset_after_bytes = reset_after;
    options.seed = seed;
    if (host_option_given(&arguments, "lose-registration-at")) {
        options.lose_registration_at_ms = (int64_t)lose_at;
        options.lose_registration_for_ms = (uint32_t)lose_for;
    }
    if (host_option_given(&arguments, "log")) {
        log_file = fopen(host_option_value(&arguments, "log"), "w");
        if (!log_file)
            return host_error(HOST_EXIT_IO, "cannot write %s",
                              host_option_value(&arguments, "log"));
        options.log = link_rig_log;
        options.log_user = log_file;
    }
    status = host_read_file(host_option_value(&arguments, "expect"), 0, &expected, &length);
    if (status != HOST_EXIT_OK)
        return status;
    rig = calloc(1, sizeof(*rig));
    if (!rig || link_rig_create(rig, model, &options) != 0) {
        free(rig);
        free(expected);
        return host_error(HOST_EXIT_INTERNAL, "cannot set up the link");
    }
    status = link_rig_fetch(rig, host, port, path, expected, length, (uint32_t)max_faults, 600000,
                            &result);
    line_rate = (double)modem_emulator_baud(rig->emulator) /
                (modem_emulator_parity(rig->emulator) ? 11.0 : 10.0);
    goodput = result.elapsed_ms ? 100.0 * (double)result.body_bytes * 1000.0 /
                                      (double)result.elapsed_ms / line_rate
                                : 0.0;
    printf("fetch: model=%s baud=%" PRIu64 " radio=%s bytes=%" PRIu64
           " faults=%u elapsed_ms=%" PRIu64 " goodput=%.1f%% result=%s",
           modem_model_name(model), baud,
           host_option_value(&arguments, "radio") ? host_option_value(&arguments, "radio")
                                                  : "default",
           result.body_bytes, result.faults, result.elapsed_ms, goodput,
           status == 0 ? "ok" : (result.corrupt ? "corrupt" : "failed"));
    if (result.faults)
        printf(" last_fault=%s", cellota_error_name(result.last_fault));
    printf("\n");
    link_rig_destroy(rig);
    free(rig);
    free(expected);
    if (log_file)
        fclose(log_file);
    return status == 0 ? HOST_EXIT_OK : HOST_EXIT_FAILED;
}

int main(int argc, char **argv)
{
    host_set_program("cellota-link");
    if (argc >= 2 && strcmp(argv[1], "fetch") == 0)
        return run_fetch(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: cellota-link fetch --model MODEL --url URL --expect FILE [options]\n\n");
        host_print_help(&fetch_command, stdout);
        return HOST_EXIT_OK;
    }
    return host_error(HOST_EXIT_USAGE, "usage: cellota-link fetch ... (see cellota-link --help)");
}
