/*
 * cellota-fleet: N simulated devices in one process, against a real broker and a real server.
 *
 * Each device is the real device code (fleet_device.h) over an in-process modem emulator on
 * virtual time, with its own MQTT connection and its own HTTP downloads; one event loop runs
 * them all (fleet_loop.h). The program starts the devices at a steady rate, shows a progress
 * bar, and ends with a summary: how many confirmed, the failures by error name, image bytes
 * downloaded and re-downloaded, faults injected, wall time and peak memory (the fleet's and, if
 * given, the server's).
 *
 * It ends when every device runs --expect VERSION, confirmed (exit 0), at --timeout (exit 1),
 * or on SIGINT/SIGTERM (exit 0 without --expect). With --request it also plays the server's
 * MQTT part for a test without one (request_publisher.h).
 */
#define _GNU_SOURCE
#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"
#include "core/error.h"
#include "fleet_device.h"
#include "fleet_loop.h"
#include "operator/keys.h"
#include "request_publisher.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const host_option options[] = {
    {"devices", "N", "how many devices to simulate", true},
    {"server", "URL", "the update server (devices poll it at start with --poll)", true},
    {"mqtt", "HOST:PORT", "the MQTT broker every device connects to", true},
    {"models", "LIST",
     "modem models the devices take in turn (default sim7600,sim7000,sim7070,sim800)", false},
    {"faults", "RATE",
     "share of devices (0 to 1) that meet one fault during their download: dropped "
     "connections, a modem reset or a power cut (default 0)",
     false},
    {"seed", "S", "seed of the fault plan and the emulators (default 1)", false},
    {"request", "OTA.JSON",
     "without a server: publish this update request to every device once all are online", false},
    {"expect", "VERSION",
     "end when every device runs VERSION, confirmed (default: the --request's version)", false},
    {"timeout", "SECONDS", "give up after this long (default 3600)", false},
    {"server-pid", "PID", "report this process's peak resident memory (the server's)", false},
    {"id-prefix", "TEXT", "device ids are TEXT and five digits (default fleet-)", false},
    {"first-index", "I",
     "number the devices from I (default 0): several fleet processes make one fleet", false},
    {"index-step", "K",
     "device numbers go up by K (default 1): with K fleet processes started at I = 0 .. K-1 the "
     "fleet's ids interleave, so a campaign in id order keeps every process busy (not with "
     "--request)",
     false},
    {"per-address", "N",
     "devices per loopback source address 127.1.x.y (default 1000; one address has about "
     "28,000 ephemeral ports)",
     false},
    {"start-rate", "N", "devices started per second (default 2000)", false},
    {"time-scale", "S",
     "virtual time while devices wait for the network runs S times real time (default 1)", false},
    {"poll", NULL, "devices check the server at start (GET /version), as seed 000's do", false},
    {"pub", "KEY.pub.pem", "devices install only requests signed by this key", false},
    {"quiet", NULL, "no progress bar", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    NULL,
    "--devices N --server URL --mqtt HOST:PORT [OPTIONS]",
    "Runs N simulated cellota devices in one process against a real broker and server.",
    options,
    NULL,
    0,
    0,
    "Each device runs the real agent, MQTT and HTTP clients, image pipeline and bootloader over\n"
    "an in-process emulated SIMCom modem on virtual time, with real TCP connections. Devices on\n"
    "the same image share identical flash pages. The last line is for scripts:\n"
    "  fleet: devices=N confirmed=C failed=F wall_s=S fleet_rss_mb=M [server_rss_mb=M]\n"
    "Exit status: 0 when every device runs --expect VERSION, confirmed (or, without it, after\n"
    "SIGINT); 1 at the timeout or when a device failed for good; 2 usage; 3 system limits.\n"};

static volatile sig_atomic_t stop_requested;

static void on_signal(int number)
{
    (void)number;
    stop_requested = 1;
}

typedef struct fleet {
    fleet_device_settings settings;
    shared_flash_pool pool;
    fleet_loop loop;
    fleet_device *devices;
    uint32_t count, started, first, step; /* devices first, first + step, .. (count of them) */
    modem_model models[4];
    unsigned model_count;
    double fault_rate;
    uint64_t seed;
    uint32_t per_address, start_rate;
    const char *prefix;
    char expect[CELLOTA_AGENT_VERSION_MAX + 1];
    char mqtt_host[256];
    uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE];
    long server_pid;
    bool progress, publishing, test_mode; /* test_mode: --request, no server */
    request_publisher publisher;
    uint64_t faults_planned[FLEET_FAULT_KINDS];
} fleet;

/* --- options ---------------------------------------------------------------------------------- */

static int parse_models(fleet *f, const char *text)
{
    char copy[128], *save = NULL, *name;
    snprintf(copy, sizeof(copy), "%s", text);
    f->model_count = 0;
    for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (f->model_count == 4 || modem_model_from_name(name, &f->models[f->model_count]) != 0)
            return host_usage_error(&command, "--models: unknown or too many models in '%s'",
                                    text);
        f->model_count++;
    }
    return f->model_count ? HOST_EXIT_OK
                          : host_usage_error(&command, "--models: no model in '%s'", text);
}

/* The request's "version", to expect when --expect is not given. */
static int request_version(fleet *f, const char *json, size_t length, const char *path)
{
    cJSON *root = cJSON_ParseWithLength(json, length);
    const cJSON *version = root ? cJSON_GetObjectItemCaseSensitive(root, "version") : NULL;
    if (!cJSON_IsString(version) || !version->valuestring[0] ||
        strlen(version->valuestring) > CELLOTA_AGENT_VERSION_MAX) {
        cJSON_Delete(root);
        return host_error(HOST_EXIT_FAILED, "%s: not an update request with a \"version\"", path);
    }
    if (!f->expect[0])
        snprintf(f->expect, sizeof(f->expect), "%s", version->valuestring);
    cJSON_Delete(root);
    return HOST_EXIT_OK;
}

static int parse_count(const host_arguments *arguments, const char *name, uint64_t max,
                       uint64_t *value)
{
    const char *text = host_option_value(arguments, name);
    if (text && (!host_parse_unsigned(text, max, value) || *value == 0))
        return host_usage_error(&command, "--%s: expected a number from 1 to %llu, not '%s'",
                                name, (unsigned long long)max, text);
    return HOST_EXIT_OK;
}

/* Descriptors for every device's connections and the loop, raised from the program as far as
 * the hard limit allows (root may raise that too, given CAP_SYS_RESOURCE). Each device needs
 * two at once (MQTT, HTTP), a third now and then (a connection still closing). */
static int raise_file_limit(uint64_t devices)
{
    uint64_t wanted = devices * 3 + 256, needed = devices * 2 + 256;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return host_error(HOST_EXIT_IO, "getrlimit: %s", strerror(errno));
    if (limit.rlim_cur >= wanted)
        return HOST_EXIT_OK;
    if (limit.rlim_max < wanted) {
        struct rlimit raised = {wanted, wanted};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            return HOST_EXIT_OK;
    }
    limit.rlim_cur = limit.rlim_max < wanted ? limit.rlim_max : wanted;
    setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < needed)
        return host_error(HOST_EXIT_IO,
                          "%llu devices need %llu open files; the hard limit is %llu: raise it "
                          "(ulimit -Hn as root), or run several fleet processes (--first-index)",
                          (unsigned long long)devices, (unsigned long long)needed,
                          (unsigned long long)limit.rlim_max);
    return HOST_EXIT_OK;
}

/* --- devices ---------------------------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int start_device(fleet *f, uint32_t slot, uint64_t *random_state)
{
    fleet_device *device = &f->devices[slot];
    uint32_t index = f->first + slot * f->step;
    modem_emulator_options emulator;
    modem_model model = f->models[index % f->model_count];
    /* A SIM7600 is wired with RTS/CTS on every other device (it then pushes its data). */
    bool flow_control = model == MODEM_MODEL_SIM7600 && (index / f->model_count) % 2 == 1;

    modem_emulator_default_options(&emulator);
    emulator.seed = f->seed * 1000003u + index;
    emulator.source_address = (127u << 24) | (1u << 16) | (1u + index / f->per_address);
    if (fleet_device_start(device, &f->settings, index, f->prefix, model, flow_control,
                           &emulator) != 0)
        return -1;
    if (f->fault_rate > 0 &&
        (double)(next_random(random_state) >> 11) / 9007199254740992.0 < f->fault_rate) {
        device->fault = (fleet_fault)(1 + next_random(random_state) % (FLEET_FAULT_KINDS - 1));
        device->fault_fraction = 0.1 + 0.8 * (double)(next_random(random_state) >> 11) /
                                           9007199254740992.0;
        f->faults_planned[device->fault]++;
    }
    fleet_loop_add(&f->loop, device);
    return 0;
}

/* --- progress and summary ------------------------------------------------------------------- */

typedef struct tally {
    uint32_t confirmed, failed, busy, idle, stopped;
    uint64_t downloaded, redownloaded, boots;
    uint64_t faults_done[FLEET_FAULT_KINDS];
} tally;

/* Confirmed on the expected version, and still running it (a repeated request for it since is
 * answered "up_to_date": a server that sends a request again on "online" does that). */
static bool on_expected(const fleet *f, const fleet_device *device)
{
    if (!f->expect[0])
        return device->state == CELLOTA_AGENT_CONFIRMED;
    return strcmp(device->confirmed_version, f->expect) == 0 &&
           strcmp(device->version, f->expect) == 0 &&
           (device->state == CELLOTA_AGENT_CONFIRMED || device->state == CELLOTA_AGENT_UP_TO_DATE);
}

static void count(const fleet *f, tally *t)
{
    uint32_t index;
    memset(t, 0, sizeof(*t));
    for (index = 0; index < f->started; index++) {
        const fleet_device *device = &f->devices[index];
        if (device->fatal != CELLOTA_OK)
            t->stopped++;
        if (on_expected(f, device))
            t->confirmed++;
        else if (device->state == CELLOTA_AGENT_FAILED ||
                 device->state == CELLOTA_AGENT_ROLLED_BACK)
            t->failed++;
        else if (fleet_device_busy(device))
            t->busy++;
        else
            t->idle++;
        t->downloaded += device->downloaded;
        /* a device that confirmed needed one copy; the rest was fetched again */
        if (on_expected(f, device) && device->downloaded > device->image_size)
            t->redownloaded += device->downloaded - device->image_size;
        t->boots += device->boots;
        if (device->fault_done)
            t->faults_done[device->fault]++;
    }
}

static void show_progress(const fleet *f, double seconds, bool final)
{
    tally t;
    unsigned filled, column;
    char bar[41];
    count(f, &t);
    filled = f->count ? (unsigned)((uint64_t)t.confirmed * 40 / f->count) : 0;
    for (column = 0; column < 40; column++)
        bar[column] = column < filled ? '#' : '.';
    bar[40] = '\0';
    fprintf(stderr,
            "\r[%s] %u/%u confirmed, %u updating, %u failed, %u idle, %u started  %.0f MB  %.1f s ",
            bar, t.confirmed, f->count, t.busy, t.failed, t.idle, f->started,
            (double)t.downloaded / 1e6, seconds);
    if (final || !isatty(2))
        fputc('\n', stderr);
    fflush(stderr);
}

/* Peak resident memory of a process in MB (VmHWM), -1 when it cannot be read. */
static double peak_rss_mb(long pid)
{
    char path[64], line[256];
    double result = -1;
    FILE *file;
    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    if (!(file = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), file))
        if (strncmp(line, "VmHWM:", 6) == 0)
            result = strtod(line + 6, NULL) / 1024.0;
    fclose(file);
    return result;
}

/* The first few devices still in the middle of an update, each with its state, its last error and
 * what it downloaded, so a run that ends unfinished says where those devices stopped. */
static void print_unfinished(const fleet *f)
{
    uint32_t index, shown = 0;
    for (index = 0; index < f->started && shown < 10; index++) {
        const fleet_device *device = &f->devices[index];
        if (on_expected(f, device) || !fleet_device_busy(device))
            continue;
        printf("    %s (%s): %s%s, last error %s, %u of %u image bytes, %u boots\n", device->id,
               modem_model_name(device->model), cellota_agent_state_name(device->state),
               device->stopping ? " (stopping)" : "", cellota_error_name(device->error),
               (unsigned)device->last_downloaded, (unsigned)device->image_size,
               (unsigned)device->boots);
        shown++;
    }
}

/* The failures grouped by error name. */
static void print_failures(const fleet *f)
{
    const char *names[64];
    uint32_t counts[64];
    unsigned kinds = 0, kind;
    uint32_t index;
    for (index = 0; index < f->started; index++) {
        const fleet_device *device = &f->devices[index];
        const char *name;
        if (on_expected(f, device))
            continue;
        if (device->state == CELLOTA_AGENT_ROLLED_BACK)
            name = "ROLLED_BACK";
        else if (device->state == CELLOTA_AGENT_FAILED)
            name = cellota_error_name(device->error);
        else
            name = fleet_device_busy(device) ? "UNFINISHED" : "NOT_UPDATED";
        for (kind = 0; kind < kinds && strcmp(names[kind], name) != 0; kind++)
            ;
        if (kind == kinds && kinds < 64) {
            names[kinds] = name;
            counts[kinds++] = 0;
        }
        if (kind < kinds)
            counts[kind]++;
    }
    if (!kinds)
        return;
    printf("  not confirmed:");
    for (kind = 0; kind < kinds; kind++)
        printf(" %s %u%s", names[kind], counts[kind], kind + 1 < kinds ? "," : "");
    printf("\n");
    print_unfinished(f);
}

static void print_summary(const fleet *f, double seconds)
{
    tally t;
    double fleet_rss = peak_rss_mb(0), server_rss = f->server_pid ? peak_rss_mb(f->server_pid) : -1;
    unsigned model;
    count(f, &t);
    printf("cellota-fleet: %u devices (", f->count);
    for (model = 0; model < f->model_count; model++)
        printf("%s%s", modem_model_name(f->models[model]), model + 1 < f->model_count ? ", " : "");
    printf(") in %.1f s\n", seconds);
    printf("  confirmed %u%s%s, failed %u, still updating %u, idle %u\n", t.confirmed,
           f->expect[0] ? " on " : "", f->expect, t.failed, t.busy, t.idle);
    print_failures(f);
    printf("  image bytes downloaded %llu, of them fetched again %llu (%.3f%%)\n",
           (unsigned long long)t.downloaded, (unsigned long long)t.redownloaded,
           t.downloaded ? 100.0 * (double)t.redownloaded / (double)t.downloaded : 0.0);
    printf("  faults injected: dropped connections %llu, modem resets %llu, power cuts %llu "
           "(planned %llu); boots %llu\n",
           (unsigned long long)t.faults_done[FLEET_FAULT_DROP],
           (unsigned long long)t.faults_done[FLEET_FAULT_RESET],
           (unsigned long long)t.faults_done[FLEET_FAULT_POWER],
           (unsigned long long)(f->faults_planned[1] + f->faults_planned[2] +
                                f->faults_planned[3]),
           (unsigned long long)t.boots);
    printf("  flash: %zu distinct shared pages, %zu private, %.1f MB for %u devices' %.0f MB; "
           "%llu copies on write, %llu rule violations; boot hashes of shared pages: %llu "
           "computed, %llu known\n",
           f->pool.shared_pages, f->pool.private_pages,
           (double)shared_flash_pool_bytes(&f->pool) / 1e6, f->started,
           (double)f->started * f->settings.layout->flash.size / 1e6,
           (unsigned long long)f->pool.copies, (unsigned long long)f->pool.violations,
           (unsigned long long)f->pool.digests_computed,
           (unsigned long long)f->pool.digests_reused);
    printf("  loop: %llu services, %llu waits for the network (woken by it %llu, by time %llu)\n",
           (unsigned long long)f->loop.services, (unsigned long long)f->loop.parks,
           (unsigned long long)f->loop.wakes_by_network, (unsigned long long)f->loop.wakes_by_timer);
    {
        struct rusage usage;
        double user = 0, system = 0;
        if (getrusage(RUSAGE_SELF, &usage) == 0) {
            user = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
            system = (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
        }
        printf("  processor time: user %.1f s, system %.1f s (%.1f ms a device)\n", user, system,
               f->started ? 1000.0 * (user + system) / f->started : 0.0);
    }
    printf("  peak memory: fleet %.0f MB", fleet_rss);
    if (f->server_pid)
        printf(", server %.0f MB", server_rss);
    printf("\n");
    printf("fleet: devices=%u confirmed=%u failed=%u wall_s=%.1f fleet_rss_mb=%.0f", f->count,
           t.confirmed, t.failed, seconds, fleet_rss);
    if (f->server_pid)
        printf(" server_rss_mb=%.0f", server_rss);
    printf("\n");
    fflush(stdout);
}

/* --- main ------------------------------------------------------------------------------------- */

static int configure(fleet *f, const host_arguments *arguments, uint64_t *timeout_s,
                     double *time_scale)
{
    const char *value, *colon;
    uint64_t number;
    int status;

    memset(f, 0, sizeof(*f));
    if ((status = parse_count(arguments, "devices", 1000000, &number)) != HOST_EXIT_OK)
        return status;
    f->count = (uint32_t)number;
    value = host_option_value(arguments, "mqtt");
    colon = strrchr(value, ':');
    if (!colon || colon == value || (size_t)(colon - value) >= sizeof(f->mqtt_host) ||
        !host_parse_unsigned(colon + 1, 65535, &number) || number == 0)
        return host_usage_error(&command, "--mqtt: expected HOST:PORT, not '%s'", value);
    memcpy(f->mqtt_host, value, (size_t)(colon - value));
    f->settings.mqtt_host = f->mqtt_host;
    f->settings.mqtt_port = (uint16_t)number;
    value = host_option_value(arguments, "server");
    if (strncmp(value, "http://", 7) != 0)
        return host_usage_error(&command, "--server: expected http://HOST[:PORT], not '%s'",
                                value);
    f->settings.server = host_option_given(arguments, "poll") ? value : NULL;
    f->settings.apn = "internet";
    f->settings.layout = cellota_boot_layout_find("esp32-4mb");

    if ((status = parse_models(f, host_option_value(arguments, "models")
                                      ? host_option_value(arguments, "models")
                                      : "sim7600,sim7000,sim7070,sim800")) != HOST_EXIT_OK)
        return status;
    value = host_option_value(arguments, "faults");
    if (value && (!host_parse_decimal(value, &f->fault_rate) || f->fault_rate < 0 ||
                  f->fault_rate > 1))
        return host_usage_error(&command, "--faults: expected a share from 0 to 1, not '%s'",
                                value);
    f->seed = 1;
    if (host_option_value(arguments, "seed") &&
        !host_parse_unsigned(host_option_value(arguments, "seed"), UINT64_MAX, &f->seed))
        return host_usage_error(&command, "--seed: expected a number");
    number = 3600;
    if ((status = parse_count(arguments, "timeout", 1000000, &number)) != HOST_EXIT_OK)
        return status;
    *timeout_s = number;
    number = 0;
    if (host_option_value(arguments, "server-pid") &&
        (!host_parse_unsigned(host_option_value(arguments, "server-pid"), 4194304, &number) ||
         number == 0 || kill((pid_t)number, 0) != 0))
        return host_usage_error(&command, "--server-pid: no process '%s'",
                                host_option_value(arguments, "server-pid"));
    f->server_pid = (long)number;
    f->prefix = host_option_value(arguments, "id-prefix") ? host_option_value(arguments, "id-prefix")
                                                           : "fleet-";
    if (strlen(f->prefix) + 5 > CELLOTA_AGENT_ID_MAX ||
        strspn(f->prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            strlen(f->prefix))
        return host_usage_error(&command,
                                "--id-prefix: letters, digits, - _ . and at most %d of them",
                                CELLOTA_AGENT_ID_MAX - 5);
    number = 0;
    if (host_option_value(arguments, "first-index") &&
        !host_parse_unsigned(host_option_value(arguments, "first-index"), 10000000, &number))
        return host_usage_error(&command, "--first-index: expected a number");
    f->first = (uint32_t)number;
    number = 1;
    if ((status = parse_count(arguments, "index-step", 1000, &number)) != HOST_EXIT_OK)
        return status;
    f->step = (uint32_t)number;
    if (f->step > 1 && host_option_value(arguments, "request"))
        return host_usage_error(&command, "--index-step: the fleet's own publisher (--request) "
                                          "numbers its devices one by one");
    number = 1000;
    if ((status = parse_count(arguments, "per-address", 28000, &number)) != HOST_EXIT_OK)
        return status;
    f->per_address = (uint32_t)number;
    if ((f->first + (uint64_t)f->count * f->step) / f->per_address >= 65000)
        return host_usage_error(&command, "--per-address: too few for %u devices", f->count);
    number = 2000;
    if ((status = parse_count(arguments, "start-rate", 1000000, &number)) != HOST_EXIT_OK)
        return status;
    f->start_rate = (uint32_t)number;
    *time_scale = 1;
    value = host_option_value(arguments, "time-scale");
    if (value && (!host_parse_decimal(value, time_scale) || *time_scale < 0.01 ||
                  *time_scale > 1000))
        return host_usage_error(&command, "--time-scale: expected 0.01 to 1000, not '%s'", value);
    value = host_option_value(arguments, "expect");
    if (value)
        snprintf(f->expect, sizeof(f->expect), "%s", value);
    value = host_option_value(arguments, "pub");
    if (value) {
        if (operator_key_load_public(value, f->public_key) != HOST_EXIT_OK)
            return HOST_EXIT_IO;
        f->settings.public_key = f->public_key;
    }
    f->progress = !host_option_given(arguments, "quiet");
    return HOST_EXIT_OK;
}

int main(int argc, char **argv)
{
    static fleet f;
    host_arguments arguments;
    uint64_t timeout_s = 0, started_ms, last_progress = 0, last_check = 0, last_start_ms;
    uint64_t last_resend = 0;
    uint64_t random_state;
    double time_scale = 1, seconds = 0;
    int status;
    bool stopping = false;
    uint64_t stop_deadline = 0;

    host_set_program("cellota-fleet");
    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    if ((status = configure(&f, &arguments, &timeout_s, &time_scale)) != HOST_EXIT_OK)
        return status;
    if ((status = raise_file_limit(f.count)) != HOST_EXIT_OK)
        return status;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    if (host_option_value(&arguments, "request")) {
        const char *path = host_option_value(&arguments, "request");
        uint8_t *json = NULL;
        size_t length = 0;
        if (host_read_file(path, 64 * 1024, &json, &length) != HOST_EXIT_OK)
            return HOST_EXIT_IO;
        status = request_version(&f, (const char *)json, length, path);
        /* Connected before the devices: its descriptor stays a small number. */
        if (status == HOST_EXIT_OK &&
            request_publisher_start(&f.publisher, f.mqtt_host, f.settings.mqtt_port,
                                    (const char *)json, length, f.prefix, f.first,
                                    f.count) != 0)
            status = HOST_EXIT_IO;
        free(json);
        if (status != HOST_EXIT_OK)
            return status;
        f.publishing = f.test_mode = true;
    }

    if (shared_flash_pool_init(&f.pool, &f.settings.layout->flash) != 0)
        return host_error(HOST_EXIT_INTERNAL, "cannot make the flash page pool");
    f.settings.pool = &f.pool;
    f.devices = calloc(f.count, sizeof(*f.devices));
    if (!f.devices || fleet_loop_init(&f.loop, f.count, (size_t)f.count * 3 + 4096, time_scale))
        return host_error(HOST_EXIT_INTERNAL, "out of memory for %u devices", f.count);

    random_state = f.seed * 0x9E3779B97F4A7C15ull + 1;
    started_ms = last_start_ms = fleet_real_ms();
    for (;;) {
        uint64_t now = fleet_real_ms();
        /* Devices start at a steady rate: a broker takes a burst of connections badly. */
        if (f.started < f.count) {
            uint64_t due = (now - started_ms) * f.start_rate / 1000 + 1;
            while (f.started < f.count && f.started < due) {
                if (start_device(&f, f.started, &random_state) != 0)
                    return HOST_EXIT_INTERNAL;
                f.started++;
            }
            last_start_ms = now;
        }
        fleet_loop_run_once(&f.loop, 10);
        /* "online" messages the publisher missed: a device with a session gets its request
         * anyway, 30 s after the last device started */
        if (f.test_mode && f.started == f.count && now - last_start_ms > 30000 &&
            now - last_resend >= 30000) {
            /* Every 30 s, as a server retries: the request for devices whose "online" the
             * publisher missed, and again for devices still idle on their first version (a
             * request that came before their subscription went nowhere). */
            uint32_t index;
            last_resend = now;
            if (f.publisher.published < f.count)
                request_publisher_send_rest(&f.publisher);
            else
                for (index = 0; index < f.started; index++)
                    if (f.devices[index].state == CELLOTA_AGENT_IDLE && !f.devices[index].stopping)
                        request_publisher_resend(&f.publisher, f.first + index);
        }
        if (f.publishing && !stopping && request_publisher_poll(&f.publisher) != 0) {
            if (f.publisher.published < f.count)
                return host_error(HOST_EXIT_IO, "publisher: lost the broker before every "
                                                "request was sent");
            f.publishing = false;
        }
        now = fleet_real_ms();
        if (now - last_progress >= 1000 || (isatty(2) && now - last_progress >= 250)) {
            last_progress = now;
            if (f.progress)
                show_progress(&f, (double)(now - started_ms) / 1000.0, false);
        }
        if (!stopping && (now - last_check >= 1000 || stop_requested)) {
            /* counting walks every device: once a second, not every turn (at 200 ms it was 7 %
             * of a process's time with 8,000 devices, most of them idle) */
            tally t;
            bool done = false;
            last_check = now;
            count(&f, &t);
            if (f.expect[0] && f.started == f.count && t.confirmed == f.count)
                done = true;
            /* Without a server nobody sends a failed device its request again: once every
             * device has confirmed or failed, the run is over. */
            if (f.test_mode && f.publisher.published == f.count &&
                t.confirmed + t.failed == f.count)
                done = true;
            if (stop_requested || now - started_ms >= timeout_s * 1000u)
                done = true;
            if (done) {
                /* A clean stop: each agent sends its last status and "offline", then
                 * disconnects, so the broker holds what the devices last said. */
                uint32_t index;
                stopping = true;
                stop_deadline = now + 15000;
                seconds = (double)(now - started_ms) / 1000.0;
                for (index = 0; index < f.started; index++) {
                    fleet_device_stop(&f.devices[index]);
                    fleet_loop_wake(&f.loop, &f.devices[index]);
                }
            }
        } else if (stopping) {
            uint32_t index, running = 0;
            for (index = 0; index < f.started; index++)
                running += !f.devices[index].stopped;
            if (!running || now >= stop_deadline)
                break;
        }
    }
    if (f.progress)
        show_progress(&f, seconds, true);
    print_summary(&f, seconds);
    {
        tally t;
        count(&f, &t);
        status = f.expect[0] ? (t.confirmed == f.count ? HOST_EXIT_OK : HOST_EXIT_FAILED)
                             : HOST_EXIT_OK;
    }
    if (f.publishing || f.publisher.client)
        request_publisher_stop(&f.publisher);
    {
        uint32_t index;
        for (index = 0; index < f.started; index++)
            fleet_device_destroy(&f.devices[index]);
    }
    free(f.devices);
    fleet_loop_destroy(&f.loop);
    shared_flash_pool_destroy(&f.pool);
    return status;
}
