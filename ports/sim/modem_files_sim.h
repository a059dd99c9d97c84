/*
 * The modem's file system for the host: named files in memory behind the bootloader's staged
 * image source (device/boot/source.h), the way a SIM7600 keeps a downloaded image in its own
 * storage. Polled like the real thing: every call stays CELLOTA_IN_PROGRESS for `latency` polls
 * before it completes, and each poll and each byte moved report the time they take (the UART
 * at its baud rate) through `elapse`, so a simulator can run a virtual clock and a watchdog.
 * Faults: `fail_calls` makes the next calls fail, `hang` makes calls never complete.
 * Files are not copied: their bytes must outlive the simulator.
 */
#ifndef CELLOTA_PORT_SIM_MODEM_FILES_SIM_H
#define CELLOTA_PORT_SIM_MODEM_FILES_SIM_H

#include "boot/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODEM_FILES_SIM_FILES 4

typedef struct modem_files_sim_file {
    char name[CELLOTA_BOOT_NAME_MAX + 1];
    const uint8_t *data;
    uint32_t size;
} modem_files_sim_file;

typedef struct modem_files_sim {
    modem_files_sim_file files[MODEM_FILES_SIM_FILES];
    unsigned latency;    /* polls a call stays in progress */
    unsigned polls;      /* of the outstanding call */
    unsigned fail_calls; /* this many next calls fail (fault injection) */
    bool hang;           /* calls never complete (a modem that stopped answering) */
    uint32_t poll_us;    /* time one poll takes */
    uint32_t command_us; /* time a completed command takes besides its bytes */
    uint32_t byte_us;    /* time one byte takes on the UART (10 bits at the baud rate) */
    void (*elapse)(void *user, uint32_t microseconds);
    void *user;
    uint64_t calls, bytes_read, cancels;
} modem_files_sim;

/* An empty file system answering at once, taking no time. */
void modem_files_sim_init(modem_files_sim *modem);

/* Adds or replaces file `name` (data referenced, not copied). 0, or CELLOTA_INVALID_ARGUMENT
 * for a bad name or a full table. */
int modem_files_sim_put(modem_files_sim *modem, const char *name, const uint8_t *data,
                        uint32_t size);

/* Fills `source` with calls into `modem`. */
void modem_files_sim_source(modem_files_sim *modem, cellota_boot_source *source);

#endif
