/*
 * cellota-update-bench: one whole update, measured. The agent, the modem driver and the
 * bootloader core of a device (flash and store simulated in memory, esp32-4mb layout) talk to
 * the modem emulator in one process on virtual time (host/link/link_rig.h), with a real HTTP
 * server on loopback behind the emulator's sockets. The device is provisioned, boots, checks
 * the server (GET /version, GET /ota.json), downloads the image with Range through the image
 * pipeline into its inactive slot, verifies and stages it; the time from the start of the check
 * to the staged image is the update's.
 *
 * Link efficiency = image bytes per virtual second over that time, as a percentage of what the
 * link could carry: min(UART line rate, radio downlink rate), the UART at 10 bits a byte (8N1;
 * 11 with --parity, 8E1). It is printed as one line for scripts:
 *     link: model=M baud=B radio=R efficiency=P%
 * with the details on standard error.
 */
#include "agent/agent.h"
#include "common/cli.h"
#include "core/error.h"
#include "device_boot.h"
#include "flash_sim.h"
#include "link_rig.h"
#include "store_sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const host_option options[] = {
    {"model", "MODEL", "sim7600, sim7000, sim7070 or sim800", true},
    {"server", "URL", "update server: URL/version, URL/ota.json and the image they name", true},
    {"baud", "B", "UART rate (default 115200)", false},
    {"radio", "R", "cat1, catm1 or gprs (default: the model's usual radio)", false},
    {"parity", NULL, "run the UART 8E1", false},
    {"flow-control", NULL, "RTS/CTS hardware flow control (a SIM7600 then pushes its data)", false},
    {"timeout", "SECONDS", "virtual seconds before giving up (default 3600)", false},
    {"log", "FILE", "write the AT exchange to FILE (virtual ms, direction, bytes)", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    NULL,
    "--model MODEL --server URL [--baud B] [--radio R] [--parity] [--flow-control] [--log FILE]",
    "Measures one whole update over an emulated modem on virtual time: link efficiency.",
    options,
    NULL,
    0,
    0,
    "Prints: link: model=M baud=B radio=R efficiency=P%\n"
    "P = image bytes per second from the start of the check to the staged image, as a percentage\n"
    "of min(UART line rate at 8N1 (8E1 with --parity), radio downlink rate).\n"
    "Exit 0 when the update was staged, 1 when it failed, 2 for usage errors."};

typedef struct bench {
    link_rig rig; /* its port is the device's: UART, flash, store, clock, reboot */
    flash_sim flash;
    store_sim store;
    const cellota_boot_layout *layout;
    cellota_socket http_socket;
    cellota_agent_memory memory;
    cellota_agent agent;
    bool checked, failed;
    int result;
    uint64_t check_started, download_started, download_ended;
    uint32_t image_size;
} bench;

static void on_event(void *context, const cellota_agent_event *event)
{
    bench *b = context;
    switch (event->type) {
    case CELLOTA_AGENT_EVENT_STATE:
        if (event->report->state == CELLOTA_AGENT_CHECKING && !b->check_started)
            b->check_started = b->rig.now;
        else if (event->report->state == CELLOTA_AGENT_DOWNLOADING && !b->download_started)
            b->download_started = b->rig.now;
        else if (event->report->state == CELLOTA_AGENT_VERIFYING && !b->download_ended) {
            b->download_ended = b->rig.now;
            b->image_size = event->report->size;
        }
        break;
    case CELLOTA_AGENT_EVENT_RETRY:
        fprintf(stderr, "update-bench: attempt failed at byte %u: %s\n", event->report->offset,
                cellota_strerror(event->result));
        break;
    case CELLOTA_AGENT_EVENT_CHECKED:
        b->checked = true;
        b->result = event->result;
        break;
    default:
        break;
    }
}

/* Line rate of the UART in bytes per second. */
static double uart_rate(uint32_t baud, bool parity)
{
    return (double)baud / (parity ? 11.0 : 10.0);
}

/* The emulator's radio defaults (modem_emulator.h), downlink bytes per second. */
static double radio_rate(modem_radio radio)
{
    switch (radio) {
    case MODEM_RADIO_CAT1:
        return 10e6 / 8;
    case MODEM_RADIO_CATM1:
        return 300e3 / 8;
    default:
        return 60e3 / 8;
    }
}

static modem_radio default_radio(modem_model model)
{
    switch (model) {
    case MODEM_MODEL_SIM7600:
        return MODEM_RADIO_CAT1;
    case MODEM_MODEL_SIM800:
        return MODEM_RADIO_GPRS;
    default:
        return MODEM_RADIO_CATM1;
    }
}

static const char *radio_name(modem_radio radio)
{
    return radio == MODEM_RADIO_CAT1 ? "cat1" : radio == MODEM_RADIO_CATM1 ? "catm1" : "gprs";
}

int main(int argc, char **argv)
{
    static bench b;
    host_arguments arguments;
    modem_emulator_options emulator;
    cellota_agent_config config;
    cellota_boot_decision decision;
    modem_model model;
    modem_radio radio;
    const char *value;
    uint64_t deadline;
    uint32_t baud = 115200, timeout_s = 3600;
    double seconds, rate, limit;
    FILE *log_file = NULL;
    int status, result;

    host_set_program("cellota-update-bench");
    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    if (modem_model_from_name(host_option_value(&arguments, "model"), &model) != 0)
        return host_usage_error(&command, "--model: unknown model");
    radio = default_radio(model);
    value = host_option_value(&arguments, "radio");
    if (value && (modem_radio_from_name(value, &radio) != 0 || radio == MODEM_RADIO_DEFAULT))
        return host_usage_error(&command, "--radio: expected cat1, catm1 or gprs");
    value = host_option_value(&arguments, "baud");
    if (value && (sscanf(value, "%u", &baud) != 1 || baud == 0))
        return host_usage_error(&command, "--baud: expected a rate in bit/s");
    value = host_option_value(&arguments, "timeout");
    if (value && (sscanf(value, "%u", &timeout_s) != 1 || timeout_s == 0))
        return host_usage_error(&command, "--timeout: expected seconds");

    modem_emulator_default_options(&emulator);
    emulator.baud = baud;
    emulator.radio = radio;
    emulator.parity = host_option_given(&arguments, "parity");
    emulator.hardware_flow_control = host_option_given(&arguments, "flow-control");
    value = host_option_value(&arguments, "log");
    if (value) {
        if (!(log_file = fopen(value, "w")))
            return host_error(HOST_EXIT_IO, "%s: %s", value, strerror(errno));
        emulator.log = link_rig_log;
        emulator.log_user = log_file;
    }
    if (link_rig_create(&b.rig, model, &emulator) != 0)
        return HOST_EXIT_INTERNAL;

    b.layout = cellota_boot_layout_find("esp32-4mb");
    if (flash_sim_create(&b.flash, &b.layout->flash) != CELLOTA_OK ||
        store_sim_open(&b.store, NULL) != CELLOTA_OK)
        return host_error(HOST_EXIT_INTERNAL, "cannot create the simulated flash");
    link_rig_attach_storage(&b.rig, &b.flash, &b.store);
    if ((result = device_provision(&b.rig.port, b.layout, NULL)) != CELLOTA_OK ||
        (result = device_run_bootloader(&b.rig.port, b.layout, NULL, &decision)) != CELLOTA_OK)
        return host_cellota_error("provisioning", result);

    b.http_socket = link_rig_socket(&b.rig, 1);
    memset(&config, 0, sizeof(config));
    config.port = &b.rig.port;
    config.layout = b.layout;
    config.strategy = CELLOTA_AGENT_STAGE_AB;
    config.device_id = "bench";
    config.server = host_option_value(&arguments, "server");
    config.factory_version = DEVICE_FACTORY_VERSION;
    config.http_socket = &b.http_socket;
    /* the bench measures the link: its releases are packed unsigned (trust the channel) */
    config.accept_unsigned = true;
    config.on_event = on_event;
    config.context = &b;
    cellota_agent_use_memory(&config.buffers, &b.memory);
    if ((result = cellota_agent_init(&b.agent, &config)) != CELLOTA_OK)
        return host_cellota_error("agent", result);

    /* The modem comes up first (boot, SIM, registration, data context): not the update's time. */
    cellota_modem_start(&b.rig.modem, (uint32_t)b.rig.now);
    deadline = b.rig.now + (uint64_t)timeout_s * 1000u;
    while (cellota_modem_status(&b.rig.modem, NULL) != CELLOTA_MODEM_READY && b.rig.now < deadline)
        link_rig_step(&b.rig, 10);

    while (!b.rig.rebooted && !b.checked && b.rig.now < deadline) {
        result = cellota_agent_poll(&b.agent, (uint32_t)b.rig.now);
        if (result != CELLOTA_IN_PROGRESS && result != CELLOTA_OK)
            break;
        link_rig_step(&b.rig, 5);
    }
    if (!b.rig.rebooted || !b.download_ended) {
        int error = b.checked ? b.result : CELLOTA_TIMEOUT;
        if (b.checked && error == CELLOTA_OK)
            return host_error(HOST_EXIT_FAILED, "the device is already up to date: nothing "
                                                "measured (serve a newer /version)");
        return host_cellota_error("update", error);
    }

    seconds = (double)(b.download_ended - b.check_started) / 1000.0;
    rate = b.image_size / seconds;
    limit = uart_rate(baud, emulator.parity);
    if (radio_rate(radio) < limit)
        limit = radio_rate(radio);
    fprintf(stderr,
            "update-bench: %s %u baud %s: %u image bytes; check to staged %.3f s (download "
            "%.3f s): %.0f B/s of a %.0f B/s limit (UART %.0f B/s %s, radio %.0f B/s)\n",
            modem_model_name(model), baud, radio_name(radio), b.image_size, seconds,
            (double)(b.download_ended - b.download_started) / 1000.0, rate, limit,
            uart_rate(baud, emulator.parity), emulator.parity ? "8E1" : "8N1", radio_rate(radio));
    printf("link: model=%s baud=%u radio=%s efficiency=%.1f%%\n", modem_model_name(model), baud,
           radio_name(radio), 100.0 * rate / limit);
    link_rig_destroy(&b.rig);
    flash_sim_destroy(&b.flash);
    if (log_file)
        fclose(log_file);
    return HOST_EXIT_OK;
}
