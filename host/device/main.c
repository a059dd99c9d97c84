/*
 * cellota-device: libcellota on Linux, the way a microcontroller runs it. The modem is a real
 * serial port (a USB SIM7600 on /dev/ttyUSB* of a Linux gateway) or cellota-modem's pty; the
 * MCU's flash is a file, its key-value store another (FLASH.store). Every (simulated) reset runs
 * the bootloader core on that flash, which decides which image to start; the "application" it
 * starts is the update agent with the modem driver, whose version is that image's.
 *
 *   power on -> bootloader (verify, trial, roll back) -> application: agent + modem
 *      ^                                                     |
 *      \------------------- port reboot ---------------------/
 *
 * A flash file without an install journal is provisioned first, as a factory would: a small
 * built-in image of version 0.0.0 (security version 0) in the first application slot.
 */
#define _GNU_SOURCE
#include "agent/agent.h"
#include "device_boot.h"
#include "modem_files.h"
#include "operator/package.h"
#include "at/modem.h"
#include "boot/boot.h"
#include "common/cli.h"
#include "core/error.h"
#include "linux_port.h"
#include "operator/keys.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cellota-server's own defaults (docs/server.md), so a device started with none talks to a
 * server started with none on the same machine. */
#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define DEFAULT_MQTT "127.0.0.1:1883"

static const host_option options[] = {
    {"port", "TTY", "the modem's serial port: /dev/ttyUSB2, or the pty cellota-modem printed",
     true},
    {"modem", "MODEL", "sim7600, sim7000, sim7070 or sim800", true},
    {"flash", "FILE",
     "the device's flash (created and provisioned when missing); the key-value "
     "store is FILE.store",
     true},
    {"server", "URL",
     "update server for polling: GET URL/version, URL/ota.json (default " DEFAULT_SERVER
     "; none: no polling)",
     false},
    {"mqtt", "HOST:PORT",
     "MQTT broker for update requests and status (default " DEFAULT_MQTT "; none: no MQTT)",
     false},
    {"id", "ID", "device id in the MQTT topics (default cellota-device)", false},
    {"layout", "NAME", "flash layout: esp32-4mb (default) or nrf52840-1mb", false},
    {"strategy", "S", "ab (into the inactive slot; default) or modem (in the modem's files)",
     false},
    {"pub", "KEY.pub.pem", "operator's public key: requests must be signed by it", false},
    {"accept-unsigned", NULL, "with --pub, still install requests that carry no signature", false},
    {"once", NULL,
     "one check (and update, if due), then exit 0 only when running the newest "
     "version, confirmed",
     false},
    {"self-test-fail", NULL, "the new image fails its self-test (to see a rollback)", false},
    {"poll-interval", "SECONDS", "between checks of the server (default 3600; 0: only at start)",
     false},
    {"apn", "APN", "the SIM's access point name (default internet)", false},
    {"baud", "RATE", "UART rate (default 115200)", false},
    {"parity", NULL, "run the UART 8E1, so damaged bytes are flagged (the modem's too)", false},
    {"flow-control", NULL, "RTS/CTS wired (AT+IFC=2,2); a SIM7600 then pushes its data", false},
    {"trace", "FILE", "append every byte to and from the modem to FILE", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    NULL,
    "--port TTY --modem MODEL --flash FILE [--server URL] [--mqtt HOST:PORT] [OPTIONS]",
    "Runs the cellota update agent on this computer over a SIMCom modem, as a device would.",
    options,
    NULL,
    0,
    0,
    "The bootloader runs at every (simulated) reset; the agent learns of updates by polling\n"
    "the server and from MQTT requests on cellota/ID/update, downloads with Range (resuming\n"
    "after any fault), installs through the bootloader, confirms after its self-test or rolls\n"
    "back, and reports on cellota/ID/status (last will on cellota/ID/online).\n"
    "Exit status with --once: 0 when the device runs the newest version, confirmed; 1 with\n"
    "the error's sentence otherwise; 2 usage; 3 a file or the serial port failed.\n"
    "Without --once it runs until SIGINT or SIGTERM.\n"};

static volatile sig_atomic_t stop_requested;

static void on_signal(int number)
{
    (void)number;
    stop_requested = 1;
}

/* --- the device --------------------------------------------------------------------------- */

typedef struct device {
    linux_port linux_port; /* first: the port's context points at both */
    cellota_port port;
    const cellota_boot_layout *layout;
    const cellota_modem_profile *profile;
    cellota_modem_config modem_config;
    cellota_modem modem;
    cellota_modem_socket sockets[2];
    cellota_socket handles[2];
    uint8_t receive_buffers[2][1500];
    uint8_t send_buffers[2][1024];
    cellota_agent_memory memory;
    cellota_agent_config config;
    cellota_agent agent;
    /* modem strategy: the image's pieces in the SIM7600's files, written by the agent through
     * the modem driver's engine and read by the bootloader through an engine of its own */
    cellota_sim7600_fs fs, boot_fs;
    cellota_at boot_at;
    modem_files files, boot_files;
    cellota_agent_files agent_files;
    cellota_boot_source source;
    uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE];
    char mqtt_host[256];
    bool rebooted, once, self_test_fail, checked, announced;
    int check_result;
    FILE *trace;
    int trace_direction;
    /* progress display */
    uint32_t job_started_ms, job_started_bytes, last_print_ms;
    bool progress_open;
} device;

static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));

static bool progress_on_line;

static void say(const char *format, ...)
{
    va_list arguments;
    if (progress_on_line) {
        fputc('\n', stderr);
        progress_on_line = false;
    }
    va_start(arguments, format);
    printf("cellota-device: ");
    vprintf(format, arguments);
    printf("\n");
    va_end(arguments);
    fflush(stdout);
}

/* --- trace: every UART byte, for debugging a modem conversation ---------------------------- */

static void trace_bytes(device *d, int direction, const uint8_t *data, size_t length)
{
    size_t index;
    if (!d->trace || length == 0)
        return;
    if (direction != d->trace_direction) {
        fprintf(d->trace, "\n%s ", direction ? "<" : ">");
        d->trace_direction = direction;
    }
    for (index = 0; index < length; index++) {
        uint8_t byte = data[index];
        if (byte == '\r')
            fputs("\\r", d->trace);
        else if (byte == '\n')
            fputs("\\n", d->trace);
        else if (byte >= 32 && byte < 127)
            fputc(byte, d->trace);
        else
            fprintf(d->trace, "\\x%02x", byte);
    }
    fflush(d->trace);
}

static size_t traced_read(void *context, uint8_t *buffer, size_t capacity)
{
    device *d = context;
    size_t count = linux_serial_read(&d->linux_port.serial, buffer, capacity);
    trace_bytes(d, 1, buffer, count);
    return count;
}

static size_t traced_write(void *context, const uint8_t *data, size_t length)
{
    device *d = context;
    size_t count = linux_serial_write(&d->linux_port.serial, data, length);
    trace_bytes(d, 0, data, count);
    return count;
}

static uint32_t traced_errors(void *context)
{
    return linux_serial_take_errors(&((device *)context)->linux_port.serial);
}

/* --- the application ---------------------------------------------------------------------- */

static void device_reboot(void *user)
{
    ((device *)user)->rebooted = true;
}

static int self_test(void *context, uint32_t now_ms)
{
    device *d = context;
    (void)now_ms;
    /* A real application checks its peripherals here; this one can only be told to fail. */
    return d->self_test_fail ? CELLOTA_FLASH_READ_FAILED : CELLOTA_OK;
}

static void network_poll(void *context, uint32_t now_ms)
{
    cellota_modem_poll(context, now_ms);
}

static void show_progress(device *d, const cellota_agent_report *report, bool final)
{
    uint32_t now = linux_now_ms(NULL), elapsed = now - d->job_started_ms;
    double rate =
        elapsed ? (double)(report->offset - d->job_started_bytes) * 1000.0 / elapsed : 0.0;
    unsigned percent = report->size ? (unsigned)((uint64_t)report->offset * 100 / report->size) : 0;
    if (!final && now - d->last_print_ms < 250)
        return;
    d->last_print_ms = now;
    fprintf(stderr, "\rdownload %s: %u/%u bytes %3u%% %7.1f kB/s", report->target, report->offset,
            report->size, percent, rate / 1000.0);
    progress_on_line = true;
    if (final) {
        fputc('\n', stderr);
        progress_on_line = false;
    }
    fflush(stderr);
}

static void on_event(void *context, const cellota_agent_event *event)
{
    device *d = context;
    const cellota_agent_report *report = event->report;
    if (!d->announced) {
        d->announced = true;
        say("application: version %s, device %s", report->version, d->config.device_id);
    }
    switch (event->type) {
    case CELLOTA_AGENT_EVENT_STATE:
        if (report->state == CELLOTA_AGENT_DOWNLOADING) {
            if (!d->progress_open) {
                d->progress_open = true;
                d->job_started_ms = linux_now_ms(NULL);
                d->job_started_bytes = report->offset;
                say("downloading %s (%u bytes)", report->target, report->size);
            }
            break;
        }
        if (d->progress_open && report->state == CELLOTA_AGENT_VERIFYING) {
            show_progress(d, report, true);
            d->progress_open = false;
            say("downloaded: %u bytes received, %u of them re-downloaded", report->downloaded,
                report->redownloaded);
        }
        if (report->state == CELLOTA_AGENT_WAITING)
            break; /* the RETRY event says more */
        if (report->error != CELLOTA_OK &&
            (report->state == CELLOTA_AGENT_FAILED || report->state == CELLOTA_AGENT_ROLLED_BACK))
            say("state: %s (%s) [%s]", cellota_agent_state_name(report->state),
                cellota_strerror(report->error), cellota_error_name(report->error));
        else
            say("state: %s%s%s", cellota_agent_state_name(report->state),
                report->target[0] ? " " : "", report->target);
        break;
    case CELLOTA_AGENT_EVENT_PROGRESS:
        show_progress(d, report, false);
        break;
    case CELLOTA_AGENT_EVENT_RESUMED:
        say("resuming the download of %s at byte %u of %u", report->target, report->offset,
            report->size);
        d->job_started_bytes = report->offset;
        break;
    case CELLOTA_AGENT_EVENT_RETRY:
        say("attempt failed at byte %u: %s [%s]; retrying in %u ms", report->offset,
            cellota_strerror(event->result), cellota_error_name(event->result), event->delay_ms);
        break;
    case CELLOTA_AGENT_EVENT_CHECKED:
        d->checked = true;
        d->check_result = event->result;
        if (event->result == CELLOTA_OK)
            say("running %s, the newest version, confirmed", report->version);
        else
            say("check: %s [%s]", cellota_strerror(event->result),
                cellota_error_name(event->result));
        break;
    }
}

/* Sets up the modem driver and its two sockets (MQTT on link 0, HTTP on link 1). */
static int start_modem(device *d)
{
    int result = cellota_modem_init(&d->modem, &d->port, d->profile, &d->modem_config);
    if (result == CELLOTA_OK)
        result = cellota_modem_socket_init(&d->sockets[0], &d->modem, 0, d->receive_buffers[0],
                                           sizeof(d->receive_buffers[0]), d->send_buffers[0],
                                           sizeof(d->send_buffers[0]));
    if (result == CELLOTA_OK)
        result = cellota_modem_socket_init(&d->sockets[1], &d->modem, 1, d->receive_buffers[1],
                                           sizeof(d->receive_buffers[1]), d->send_buffers[1],
                                           sizeof(d->send_buffers[1]));
    if (result != CELLOTA_OK)
        return result;
    d->handles[0] = cellota_modem_socket_handle(&d->sockets[0]);
    d->handles[1] = cellota_modem_socket_handle(&d->sockets[1]);
    cellota_sim7600_fs_init(&d->fs, cellota_modem_at(&d->modem));
    modem_files_init(&d->files, &d->fs, &d->port, network_poll, &d->modem);
    result = cellota_modem_start(&d->modem, linux_now_ms(NULL));
    return result == CELLOTA_IN_PROGRESS ? CELLOTA_OK : result;
}

/* Sets up the agent for one run of the application (the modem started). */
static int start_application(device *d)
{
    d->config.http_socket = &d->handles[1];
    d->config.mqtt_socket = d->config.mqtt_host ? &d->handles[0] : NULL;
    d->config.network_context = &d->modem;
    /* The agent's modem driver polls the engine: the files need not. */
    d->files.pump = NULL;
    modem_files_agent(&d->files, &d->agent_files);
    d->config.files = d->config.strategy == CELLOTA_AGENT_STAGE_MODEM ? &d->agent_files : NULL;
    return cellota_agent_init(&d->agent, &d->config);
}

/* A blank flash: the factory image into the first slot, and for the modem strategy its
 * encrypted copy into the modem's files (the image a failed trial is restored from). */
static int provision(device *d)
{
    static uint8_t plain[DEVICE_FACTORY_SIZE];
    static const uint8_t key[16] = "cellota factory", iv[16] = "factory image iv";
    cellota_boot_known known;
    uint8_t *cipher = NULL;
    uint32_t started;
    int result;

    if (d->config.strategy == CELLOTA_AGENT_STAGE_AB)
        return device_provision(&d->port, d->layout, NULL);
    memset(&known, 0, sizeof(known));
    device_factory_image(plain);
    if (operator_encrypt(plain, sizeof(plain), key, iv, &known.info, &cipher) != HOST_EXIT_OK)
        return CELLOTA_CRYPTO_FAILED;
    snprintf(known.name, sizeof(known.name), "cellota_f.bin");
    result = start_modem(d);
    started = linux_now_ms(NULL);
    while (result == CELLOTA_OK &&
           cellota_modem_status(&d->modem, &result) != CELLOTA_MODEM_READY) {
        if (linux_now_ms(NULL) - started > 180000)
            result = CELLOTA_TIMEOUT;
        if (result == CELLOTA_OK)
            network_poll(&d->modem, linux_now_ms(NULL));
    }
    if (result == CELLOTA_OK) {
        d->files.pump = network_poll;
        result = modem_files_put(&d->files, known.name, cipher, known.info.encrypted_size);
    }
    free(cipher);
    if (result == CELLOTA_OK)
        result = device_provision(&d->port, d->layout, &known);
    return result;
}

/* Waits for the modem's bytes (or a few milliseconds): the agent never blocks, this loop may. */
static void wait_for_input(device *d)
{
    struct pollfd descriptor = {d->linux_port.serial.fd, POLLIN, 0};
    poll(&descriptor, 1, 2);
}

/* Runs the application until it reboots (true) or the program should end (false). */
static bool run_application(device *d, int *exit_code)
{
    bool stopping = false;
    for (;;) {
        int result = cellota_agent_poll(&d->agent, linux_now_ms(NULL));
        if (d->rebooted)
            return true;
        if (result == CELLOTA_OK) { /* stopped */
            *exit_code = d->once ? (d->check_result == CELLOTA_OK ? HOST_EXIT_OK : HOST_EXIT_FAILED)
                                 : HOST_EXIT_OK;
            return false;
        }
        if (result != CELLOTA_IN_PROGRESS) {
            host_cellota_error("the device cannot go on", result);
            *exit_code = HOST_EXIT_FAILED;
            return false;
        }
        if (!stopping && (stop_requested || (d->once && d->checked))) {
            stopping = true;
            cellota_agent_stop(&d->agent);
        }
        wait_for_input(d);
    }
}

/* --- options ------------------------------------------------------------------------------ */

static bool parse_number(const char *text, uint32_t *value)
{
    char *end;
    unsigned long number;
    errno = 0;
    number = strtoul(text, &end, 10);
    if (errno || end == text || *end || number > UINT32_MAX)
        return false;
    *value = (uint32_t)number;
    return true;
}

static int configure(device *d, const host_arguments *arguments)
{
    const char *value, *model;
    uint32_t number;

    value = host_option_value(arguments, "modem");
    if (strcmp(value, "sim7600") == 0)
        d->profile = &cellota_sim7600;
    else if (strcmp(value, "sim7000") == 0)
        d->profile = &cellota_sim7000;
    else if (strcmp(value, "sim7070") == 0)
        d->profile = &cellota_sim7070;
    else if (strcmp(value, "sim800") == 0 || strcmp(value, "sim800l") == 0)
        d->profile = &cellota_sim800;
    else
        return host_usage_error(&command, "--modem: unknown model '%s'", value);
    /* Before the pushed SIM7600 profile may replace it below: the model is the hardware's. */
    model = d->profile->name;

    value = host_option_value(arguments, "layout");
    d->layout = cellota_boot_layout_find(value ? value : "esp32-4mb");
    if (!d->layout)
        return host_usage_error(&command, "--layout: unknown layout '%s'", value);

    memset(&d->config, 0, sizeof(d->config));
    d->config.model = model; /* reported in every status: the server lists devices by model */
    value = host_option_value(arguments, "strategy");
    if (!value || strcmp(value, "ab") == 0)
        d->config.strategy = CELLOTA_AGENT_STAGE_AB;
    else if (strcmp(value, "modem") == 0)
        d->config.strategy = CELLOTA_AGENT_STAGE_MODEM;
    else
        return host_usage_error(&command, "--strategy: expected ab or modem, not '%s'", value);
    if (d->config.strategy == CELLOTA_AGENT_STAGE_MODEM && d->profile != &cellota_sim7600)
        return host_usage_error(&command, "--strategy modem keeps the image in the modem's file "
                                          "system, which only the SIM7600 has");
    if (d->config.strategy == CELLOTA_AGENT_STAGE_AB &&
        cellota_boot_layout_count_of(d->layout, CELLOTA_BOOT_REGION_APPLICATION) < 2)
        return host_usage_error(&command,
                                "layout %s has one application slot: use --strategy "
                                "modem",
                                d->layout->name);

    value = host_option_value(arguments, "mqtt");
    if (!value)
        value = DEFAULT_MQTT;
    if (strcmp(value, "none") != 0) {
        const char *colon = strrchr(value, ':');
        if (!colon || colon == value || (size_t)(colon - value) >= sizeof(d->mqtt_host) ||
            !parse_number(colon + 1, &number) || number == 0 || number > 65535)
            return host_usage_error(&command, "--mqtt: expected HOST:PORT, not '%s'", value);
        memcpy(d->mqtt_host, value, (size_t)(colon - value));
        d->config.mqtt_host = d->mqtt_host;
        d->config.mqtt_port = (uint16_t)number;
    }
    value = host_option_value(arguments, "pub");
    if (value) {
        if (operator_key_load_public(value, d->public_key) != HOST_EXIT_OK)
            return HOST_EXIT_IO;
        d->config.public_key = d->public_key;
        d->config.accept_unsigned = host_option_given(arguments, "accept-unsigned");
    }
    number = 3600;
    value = host_option_value(arguments, "poll-interval");
    if (value && !parse_number(value, &number))
        return host_usage_error(&command, "--poll-interval: expected seconds, not '%s'", value);
    d->config.poll_interval_ms = number * 1000u;

    d->config.port = &d->port;
    d->config.layout = d->layout;
    d->config.device_id = host_option_value(arguments, "id");
    if (!d->config.device_id)
        d->config.device_id = "cellota-device";
    value = host_option_value(arguments, "server");
    if (!value)
        value = DEFAULT_SERVER;
    d->config.server = strcmp(value, "none") == 0 ? NULL : value;
    if (!d->config.server && host_option_given(arguments, "once"))
        return host_usage_error(&command, "--once checks the server: not with --server none");
    if (!d->config.server && !d->config.mqtt_host)
        return host_usage_error(&command, "--server none and --mqtt none: the device would never "
                                          "hear of an update");
    d->config.factory_version = DEVICE_FACTORY_VERSION;
    d->config.network_poll = network_poll;
    d->config.self_test = self_test;
    d->config.on_event = on_event;
    d->config.context = d;
    cellota_agent_use_memory(&d->config.buffers, &d->memory);

    memset(&d->modem_config, 0, sizeof(d->modem_config));
    d->modem_config.apn = host_option_value(arguments, "apn");
    if (!d->modem_config.apn)
        d->modem_config.apn = "internet";
    d->modem_config.flow_control = host_option_given(arguments, "flow-control");
    /* With RTS/CTS the SIM7600 pushes its data (docs/agent.md, Link efficiency) -- not while
     * the image goes into the modem's own files: each 4 KiB piece written there stops the
     * download's reading, and pushed data would hold the line, the write's reply behind it. */
    if (d->modem_config.flow_control && d->profile == &cellota_sim7600 &&
        d->config.strategy == CELLOTA_AGENT_STAGE_AB)
        d->profile = &cellota_sim7600_pushed;
    d->once = host_option_given(arguments, "once");
    d->self_test_fail = host_option_given(arguments, "self-test-fail");
    return HOST_EXIT_OK;
}

static void release_reboot_hook(device *d)
{
    d->linux_port.reboot = device_reboot;
    d->linux_port.reboot_user = d;
}

int main(int argc, char **argv)
{
    static device d; /* large buffers: not on the stack */
    host_arguments arguments;
    linux_port_options port_options;
    cellota_boot_decision decision;
    char store_path[4096];
    const char *value;
    uint32_t baud = 115200;
    int status, result;

    host_set_program("cellota-device");
    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    if ((status = configure(&d, &arguments)) != HOST_EXIT_OK)
        return status;
    value = host_option_value(&arguments, "baud");
    if (value && (!parse_number(value, &baud) || baud == 0))
        return host_usage_error(&command, "--baud: expected a rate in bit/s, not '%s'", value);
    value = host_option_value(&arguments, "trace");
    if (value && !(d.trace = fopen(value, "a")))
        return host_error(HOST_EXIT_IO, "cannot open '%s': %s", value, strerror(errno));
    d.trace_direction = -1;

    memset(&port_options, 0, sizeof(port_options));
    port_options.tty = host_option_value(&arguments, "port");
    port_options.baud = baud;
    port_options.parity = host_option_given(&arguments, "parity");
    port_options.flow_control = host_option_given(&arguments, "flow-control");
    port_options.flash = &d.layout->flash;
    port_options.flash_path = host_option_value(&arguments, "flash");
    snprintf(store_path, sizeof(store_path), "%s.store", port_options.flash_path);
    port_options.store_path = store_path;
    if (linux_port_open(&d.linux_port, &port_options) != 0)
        return host_error(HOST_EXIT_IO, "%s", d.linux_port.message);
    release_reboot_hook(&d);
    linux_port_fill(&d.linux_port, &d.port);
    /* The port's context is the linux_port, the device's first member: the traced UART
     * functions find the device from it. */
    d.port.uart_read = traced_read;
    d.port.uart_write = traced_write;
    d.port.uart_take_errors = traced_errors;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    /* The bootloader reads staged images over the UART with an AT engine of its own. */
    cellota_at_init(&d.boot_at, &d.port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&d.boot_fs, &d.boot_at);
    modem_files_init(&d.boot_files, &d.boot_fs, &d.port, NULL, NULL);
    modem_files_source(&d.boot_files, &d.source);
    for (;;) {
        const cellota_boot_source *source =
            d.config.strategy == CELLOTA_AGENT_STAGE_MODEM ? &d.source : NULL;
        result = device_run_bootloader(&d.port, d.layout, source, &decision);
        if (result == CELLOTA_BOOT_NOT_PROVISIONED) {
            say("flash %s is blank: provisioning the factory image (" DEVICE_FACTORY_VERSION ")",
                port_options.flash_path);
            if ((result = provision(&d)) == CELLOTA_OK)
                result = device_run_bootloader(&d.port, d.layout, source, &decision);
        }
        if (result != CELLOTA_OK) {
            linux_port_close(&d.linux_port);
            return host_cellota_error("bootloader", result);
        }
        say("boot: starting the image in slot %u (security version %u)%s", decision.slot,
            decision.version, decision.trial ? " on trial" : "");
        d.rebooted = false;
        d.checked = false;
        d.announced = false;
        d.progress_open = false;
        result = start_modem(&d);
        if (result == CELLOTA_OK)
            result = start_application(&d);
        if (result != CELLOTA_OK) {
            linux_port_close(&d.linux_port);
            return host_cellota_error("cannot start the agent", result);
        }
        if (!run_application(&d, &status))
            break;
        say("reboot");
    }
    if (status == HOST_EXIT_FAILED && d.once && d.check_result != CELLOTA_OK)
        host_cellota_error("update", d.check_result);
    linux_port_close(&d.linux_port);
    if (d.trace)
        fclose(d.trace);
    return status;
}
