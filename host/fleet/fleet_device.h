/*
 * One simulated device of cellota-fleet: what cellota-device runs on a Linux gateway, in a
 * struct. The bootloader core on the device's flash (pages shared with every other device on the
 * same image: shared_flash.h), then the application -- the update agent with its MQTT and HTTP
 * clients and image pipeline, over the modem driver -- talking through the port's UART to an
 * in-process modem emulator whose sockets are real TCP connections to the broker and the server.
 *
 * The device runs on its own virtual clock (`now`). fleet_device_service() does all the work due
 * at that instant (the agent, the driver and the emulator polled until the line is quiet), then
 * says what the device waits for: an emulated event (UART or radio pacing, a modem timer), which
 * the scheduler jumps to at once, or the network, which it waits for for real (fleet_loop.h).
 *
 * Faults are injected by the owner between services: a modem reset, dropped connections, or a
 * power cut (RAM and the modem lost, flash and the key-value store kept, the bootloader runs).
 * A reboot the agent asks for restarts the MCU side (bootloader, driver, agent) and keeps the
 * modem powered, as cellota-device does.
 */
#ifndef CELLOTA_HOST_FLEET_DEVICE_H
#define CELLOTA_HOST_FLEET_DEVICE_H

#include "agent/agent.h"
#include "at/modem.h"
#include "modem_emulator.h"
#include "shared_flash.h"
#include "store_sim.h"

#include <stdbool.h>
#include <stdint.h>

#define FLEET_DEVICE_ID_SIZE 33
#define FLEET_DEVICE_FDS 8

/* What every device of a fleet shares; owned by the caller, outlives the devices. */
typedef struct fleet_device_settings {
    const cellota_boot_layout *layout;
    shared_flash_pool *pool;
    const char *mqtt_host;
    uint16_t mqtt_port;
    const char *server;        /* devices poll it at start; NULL: MQTT requests only */
    const uint8_t *public_key; /* NULL: requests are not checked for a signature */
    const char *apn;
} fleet_device_settings;

typedef enum fleet_fault {
    FLEET_FAULT_NONE = 0,
    FLEET_FAULT_DROP,  /* every connection of the modem dropped */
    FLEET_FAULT_RESET, /* the modem resets itself */
    FLEET_FAULT_POWER, /* power cut: MCU and modem */
    FLEET_FAULT_KINDS
} fleet_fault;

typedef struct fleet_device {
    cellota_port port; /* context: this device */
    const fleet_device_settings *settings;
    uint32_t index;
    char id[FLEET_DEVICE_ID_SIZE];
    modem_model model;
    bool flow_control;
    modem_emulator_options emulator_options;
    modem_emulator *emulator;
    cellota_modem_config modem_config;
    cellota_modem modem;
    cellota_modem_socket sockets[2]; /* link 0: MQTT, link 1: HTTP */
    cellota_socket handles[2];
    uint8_t receive_buffers[2][1500];
    uint8_t send_buffers[2][1024];
    shared_flash flash;
    store_sim store;
    cellota_agent_config config;
    cellota_agent_memory memory;
    cellota_agent agent;

    uint64_t now; /* virtual milliseconds */
    bool rebooted, stopping, stopped;
    int fatal; /* the agent stopped with this error (CELLOTA_OK while it runs) */

    /* what the device reports: the agent's state and the version it runs */
    cellota_agent_state state;
    int error;
    char version[CELLOTA_AGENT_VERSION_MAX + 1];
    /* the version it last reported "confirmed" on: a request for it repeated later is answered
     * "up_to_date", and the device is still confirmed on it */
    char confirmed_version[CELLOTA_AGENT_VERSION_MAX + 1];
    uint32_t last_downloaded;
    uint64_t downloaded; /* image bytes received, over every job and boot */
    uint32_t image_size; /* the encrypted size of the image of the last job */
    uint32_t boots;

    /* one planned fault: injected once the download passes fault_fraction of the image */
    fleet_fault fault;
    double fault_fraction;
    bool fault_due, fault_done;

    /* the scheduler's: descriptors registered, park state, heap generation */
    int fds[FLEET_DEVICE_FDS];
    unsigned fd_count;
    bool ready, parked;
    uint64_t park_real_ms;
    uint32_t park_limit_ms; /* virtual time that may pass while parked */
    uint32_t generation;
} fleet_device;

/*
 * Sets up device `index` (id "<prefix><index>") and powers it on at virtual time 0: a blank
 * flash is provisioned with the factory image (0.0.0), the bootloader runs, the application
 * starts and the modem boots. `emulator_options` is copied (model-independent settings: source
 * address, seed, baud). 0, or -1 with the reason on stderr.
 */
int fleet_device_start(fleet_device *device, const fleet_device_settings *settings,
                       uint32_t index, const char *prefix, modem_model model, bool flow_control,
                       const modem_emulator_options *emulator_options);

/* Does everything due at the device's current virtual instant. */
void fleet_device_service(fleet_device *device);

/* The next virtual instant the emulator has work (UINT64_MAX: none scheduled). */
uint64_t fleet_device_next_event(const fleet_device *device);

/* The emulator's sockets and the events worth waiting for. */
size_t fleet_device_poll_fds(const fleet_device *device, struct pollfd *fds, size_t capacity);

/* True while the agent has a job or a check under way (the scheduler looks more often). */
bool fleet_device_busy(const fleet_device *device);

/* Asks the agent to end cleanly (last status, "offline", MQTT DISCONNECT); `stopped` is set
 * once it has. */
void fleet_device_stop(fleet_device *device);

/* Injects a fault now. */
void fleet_device_inject(fleet_device *device, fleet_fault fault);

/* Frees everything (the emulator's connections close). */
void fleet_device_destroy(fleet_device *device);

const char *fleet_fault_name(fleet_fault fault);

#endif
