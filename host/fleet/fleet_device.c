/* One simulated device of cellota-fleet; see fleet_device.h. */
#include "fleet_device.h"

#include "core/error.h"
#include "device_boot.h"
#include "link_rig.h"

#include <stdio.h>
#include <string.h>

/* Polls at one virtual instant before time must move (a socket whose bytes the agent does not
 * take yet must not stop the clock). */
#define SAME_INSTANT_LIMIT 64

/* --- the port: UART to the emulator, flash in the shared pool, store in memory ------------- */

static uint32_t port_now(void *context)
{
    return (uint32_t)((fleet_device *)context)->now;
}

static size_t port_uart_read(void *context, uint8_t *buffer, size_t capacity)
{
    return modem_emulator_uart_read(((fleet_device *)context)->emulator, buffer, capacity);
}

static size_t port_uart_write(void *context, const uint8_t *data, size_t length)
{
    return modem_emulator_uart_write(((fleet_device *)context)->emulator, data, length);
}

static uint32_t port_uart_take_errors(void *context)
{
    return modem_emulator_uart_take_errors(((fleet_device *)context)->emulator);
}

static void port_power_key(void *context, bool pressed)
{
    modem_emulator_power_key(((fleet_device *)context)->emulator, pressed);
}

static int port_flash_read(void *context, uint32_t address, void *buffer, size_t length)
{
    return shared_flash_read(&((fleet_device *)context)->flash, address, buffer, length);
}

static int port_flash_write(void *context, uint32_t address, const void *data, size_t length)
{
    return shared_flash_write(&((fleet_device *)context)->flash, address, data, length);
}

static int port_flash_erase(void *context, uint32_t address, size_t length)
{
    return shared_flash_erase(&((fleet_device *)context)->flash, address, length);
}

static int port_flash_sha256(void *context, uint32_t address, size_t length, uint8_t digest[32])
{
    return shared_flash_sha256(&((fleet_device *)context)->flash, address, length, digest);
}

static int port_store_get(void *context, const char *key, void *value, size_t capacity,
                          size_t *length)
{
    return store_sim_get(&((fleet_device *)context)->store, key, value, capacity, length);
}

static int port_store_set(void *context, const char *key, const void *value, size_t length)
{
    return store_sim_set(&((fleet_device *)context)->store, key, value, length);
}

static void port_reboot(void *context)
{
    ((fleet_device *)context)->rebooted = true;
}

static void fill_port(fleet_device *device)
{
    cellota_port *port = &device->port;
    memset(port, 0, sizeof(*port));
    port->context = device;
    port->uart_read = port_uart_read;
    port->uart_write = port_uart_write;
    port->uart_take_errors = port_uart_take_errors;
    port->flash_read = port_flash_read;
    port->flash_write = port_flash_write;
    port->flash_erase = port_flash_erase;
    port->flash_sha256 = port_flash_sha256;
    port->now_ms = port_now;
    port->store_get = port_store_get;
    port->store_set = port_store_set;
    port->modem_power_key = port_power_key;
    port->reboot = port_reboot;
}

/* --- the application ------------------------------------------------------------------------ */

static void network_poll(void *context, uint32_t now_ms)
{
    cellota_modem_poll(context, now_ms);
}

/* Image bytes received, over every job and boot. The agent's own counters belong to the job and
 * are restored from its last save after a reset, so only their growth while bytes arrive
 * (progress events) is counted; anything beyond one copy of the image was fetched again. */
static void count_bytes(fleet_device *device, const cellota_agent_event *event)
{
    const cellota_agent_report *report = event->report;
    if (event->type == CELLOTA_AGENT_EVENT_PROGRESS && report->downloaded > device->last_downloaded)
        device->downloaded += report->downloaded - device->last_downloaded;
    device->last_downloaded = report->downloaded;
    if (report->size)
        device->image_size = report->size;
}

static void on_event(void *context, const cellota_agent_event *event)
{
    fleet_device *device = context;
    const cellota_agent_report *report = event->report;
    count_bytes(device, event);
    snprintf(device->version, sizeof(device->version), "%s", report->version);
    switch (event->type) {
    case CELLOTA_AGENT_EVENT_STATE:
        device->state = report->state;
        device->error = report->error;
        if (report->state == CELLOTA_AGENT_CONFIRMED)
            snprintf(device->confirmed_version, sizeof(device->confirmed_version), "%s",
                     report->version);
        break;
    case CELLOTA_AGENT_EVENT_PROGRESS:
        if (device->fault != FLEET_FAULT_NONE && !device->fault_done && report->size &&
            report->offset >= device->fault_fraction * report->size)
            device->fault_due = true;
        break;
    default:
        break;
    }
}

/* The MCU side from reset: bootloader, then driver, sockets and agent. The emulator is kept. */
static int start_application(fleet_device *device)
{
    cellota_boot_decision decision;
    int result = device_run_bootloader(&device->port, device->settings->layout, NULL, &decision);
    if (result == CELLOTA_BOOT_NOT_PROVISIONED) {
        result = device_provision(&device->port, device->settings->layout, NULL);
        if (result == CELLOTA_OK)
            result = device_run_bootloader(&device->port, device->settings->layout, NULL,
                                           &decision);
    }
    if (result != CELLOTA_OK)
        return result;
    device->boots++;
    device->rebooted = false;
    device->last_downloaded = 0;

    result = cellota_modem_init(&device->modem, &device->port,
                                link_rig_profile(device->model, device->flow_control),
                                &device->modem_config);
    if (result == CELLOTA_OK)
        result = cellota_modem_socket_init(&device->sockets[0], &device->modem, 0,
                                           device->receive_buffers[0], 1500,
                                           device->send_buffers[0], 1024);
    if (result == CELLOTA_OK)
        result = cellota_modem_socket_init(&device->sockets[1], &device->modem, 1,
                                           device->receive_buffers[1], 1500,
                                           device->send_buffers[1], 1024);
    if (result != CELLOTA_OK)
        return result;
    device->handles[0] = cellota_modem_socket_handle(&device->sockets[0]);
    device->handles[1] = cellota_modem_socket_handle(&device->sockets[1]);

    memset(&device->config, 0, sizeof(device->config));
    device->config.port = &device->port;
    device->config.layout = device->settings->layout;
    device->config.strategy = CELLOTA_AGENT_STAGE_AB;
    device->config.device_id = device->id;
    device->config.model = modem_model_name(device->model); /* the server shows it */
    device->config.server = device->settings->server;
    device->config.mqtt_host = device->settings->mqtt_host;
    device->config.mqtt_port = device->settings->mqtt_port;
    device->config.public_key = device->settings->public_key;
    device->config.factory_version = DEVICE_FACTORY_VERSION;
    device->config.http_socket = &device->handles[1];
    device->config.mqtt_socket = device->settings->mqtt_host ? &device->handles[0] : NULL;
    device->config.network_poll = network_poll;
    device->config.network_context = &device->modem;
    device->config.on_event = on_event;
    device->config.context = device;
    cellota_agent_use_memory(&device->config.buffers, &device->memory);
    result = cellota_agent_init(&device->agent, &device->config);
    if (result != CELLOTA_OK)
        return result;
    result = cellota_modem_start(&device->modem, (uint32_t)device->now);
    return result == CELLOTA_IN_PROGRESS ? CELLOTA_OK : result;
}

static int power_on_modem(fleet_device *device)
{
    device->emulator = modem_emulator_create(device->model, &device->emulator_options, device->now);
    return device->emulator ? CELLOTA_OK : CELLOTA_INVALID_ARGUMENT;
}

int fleet_device_start(fleet_device *device, const fleet_device_settings *settings,
                       uint32_t index, const char *prefix, modem_model model, bool flow_control,
                       const modem_emulator_options *emulator_options)
{
    int result;
    memset(device, 0, sizeof(*device));
    device->settings = settings;
    device->index = index;
    device->model = model;
    device->flow_control = flow_control;
    device->emulator_options = *emulator_options;
    device->emulator_options.hardware_flow_control = flow_control;
    device->modem_config.apn = settings->apn;
    device->modem_config.flow_control = flow_control;
    snprintf(device->id, sizeof(device->id), "%s%05u", prefix, (unsigned)index);
    snprintf(device->version, sizeof(device->version), "%s", DEVICE_FACTORY_VERSION);
    fill_port(device);
    if (shared_flash_create(&device->flash, settings->pool) != CELLOTA_OK ||
        store_sim_open(&device->store, NULL) != CELLOTA_OK) {
        fprintf(stderr, "cellota-fleet: %s: out of memory\n", device->id);
        return -1;
    }
    if ((result = power_on_modem(device)) != CELLOTA_OK ||
        (result = start_application(device)) != CELLOTA_OK) {
        fprintf(stderr, "cellota-fleet: %s cannot start: %s\n", device->id,
                cellota_strerror(result));
        return -1;
    }
    /* The factory pages and the journal are the same on every device: share them now. */
    shared_flash_settle(&device->flash);
    return 0;
}

/* A restart the agent asked for, or the power back after a cut. */
static void restart(fleet_device *device)
{
    int result = start_application(device);
    if (result != CELLOTA_OK) {
        device->fatal = result;
        device->stopped = true;
        device->state = CELLOTA_AGENT_FAILED;
        device->error = result;
    }
}

/* What moves when any part of the device did something: the line in both directions, the
 * sockets' buffers and states, the image offset. */
static uint64_t activity(const fleet_device *device)
{
    modem_emulator_stats stats;
    uint64_t sum;
    unsigned index;
    modem_emulator_get_stats(device->emulator, &stats);
    sum = stats.bytes_to_device * 3 + stats.bytes_from_device * 5 + device->agent.report.offset;
    for (index = 0; index < 2; index++) {
        const cellota_modem_socket *socket = &device->sockets[index];
        sum = sum * 31 + socket->receive_start + socket->receive_end * 7u +
              socket->send_length * 11u + socket->state * 13u;
    }
    return sum;
}

void fleet_device_service(fleet_device *device)
{
    unsigned same_instant;
    if (device->stopped)
        return;
    /* A device polls its code continuously: whatever one part did at this instant (the line
     * delivered bytes, the agent took a socket's bytes, the driver sent a command) the others
     * see at this instant, not at the next event. */
    for (same_instant = 0; same_instant < SAME_INSTANT_LIMIT; same_instant++) {
        uint64_t before = activity(device);
        int result = cellota_agent_poll(&device->agent, (uint32_t)device->now);
        if (device->rebooted) {
            restart(device);
            if (device->stopped)
                return;
            continue;
        }
        if (result == CELLOTA_OK && device->stopping) {
            device->stopped = true;
            return;
        }
        if (result != CELLOTA_IN_PROGRESS) {
            /* the agent stopped for good: a flash or journal error */
            device->fatal = result == CELLOTA_OK ? CELLOTA_AGENT_BUSY : result;
            device->stopped = true;
            device->state = CELLOTA_AGENT_FAILED;
            device->error = device->fatal;
            return;
        }
        modem_emulator_poll(device->emulator, device->now);
        if (activity(device) == before)
            break;
    }
    if (device->fault_due && !device->fault_done) {
        device->fault_done = true;
        fleet_device_inject(device, device->fault);
    }
}

uint64_t fleet_device_next_event(const fleet_device *device)
{
    return device->stopped ? UINT64_MAX : modem_emulator_next_event_ms(device->emulator);
}

size_t fleet_device_poll_fds(const fleet_device *device, struct pollfd *fds, size_t capacity)
{
    return device->emulator ? modem_emulator_poll_fds(device->emulator, fds, capacity) : 0;
}

bool fleet_device_busy(const fleet_device *device)
{
    if (device->stopping)
        return true; /* its last messages are on their way */
    switch (device->state) {
    case CELLOTA_AGENT_STARTING:
    case CELLOTA_AGENT_IDLE:
    case CELLOTA_AGENT_UP_TO_DATE:
    case CELLOTA_AGENT_CONFIRMED:
    case CELLOTA_AGENT_ROLLED_BACK:
    case CELLOTA_AGENT_FAILED:
        return false;
    default:
        return true;
    }
}

void fleet_device_stop(fleet_device *device)
{
    if (device->stopped || device->stopping)
        return;
    device->stopping = true;
    cellota_agent_stop(&device->agent);
}

void fleet_device_inject(fleet_device *device, fleet_fault fault)
{
    switch (fault) {
    case FLEET_FAULT_DROP:
        modem_emulator_drop_connections(device->emulator);
        break;
    case FLEET_FAULT_RESET:
        modem_emulator_reset(device->emulator);
        break;
    case FLEET_FAULT_POWER:
        /* RAM and the modem are gone; the flash and the key-value store stay. */
        modem_emulator_destroy(device->emulator);
        device->emulator = NULL;
        if (power_on_modem(device) != CELLOTA_OK) {
            device->fatal = CELLOTA_INVALID_ARGUMENT;
            device->stopped = true;
            return;
        }
        restart(device);
        break;
    default:
        break;
    }
}

void fleet_device_destroy(fleet_device *device)
{
    if (device->emulator)
        modem_emulator_destroy(device->emulator);
    device->emulator = NULL;
    shared_flash_destroy(&device->flash);
}

const char *fleet_fault_name(fleet_fault fault)
{
    static const char *const names[] = {"none", "drop", "reset", "power"};
    return fault < FLEET_FAULT_KINDS ? names[fault] : "?";
}
