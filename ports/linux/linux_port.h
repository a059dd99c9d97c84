/*
 * libcellota's Linux port: one cellota_port (core/port.h) made of
 *   - a serial line (linux_serial.h): a real UART or cellota-modem's pty, with damaged bytes
 * counted;
 *   - a monotonic millisecond clock;
 *   - flash in a file (the host flash simulator, ports/sim/flash_sim.h, mapped MAP_SHARED, so
 *     what was written survives the process -- and a kill -9 is a power cut);
 *   - the key-value store in a file (ports/sim/store_sim.h, replaced atomically on every set);
 *   - reboot: a callback the program handles (cellota-device runs the bootloader again). It
 *     returns, as a simulator's reboot may; the caller unwinds to its boot loop.
 * No modem power key or watchdog: a USB modem is powered by its bus, the emulator boots itself.
 */
#ifndef CELLOTA_PORTS_LINUX_PORT_H
#define CELLOTA_PORTS_LINUX_PORT_H

#include "core/flash_area.h"
#include "core/port.h"
#include "flash_sim.h"
#include "linux_serial.h"
#include "store_sim.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct linux_port_options {
    const char *tty;                 /* NULL: no UART (the port's UART functions move nothing) */
    uint32_t baud;                   /* 0: 115200 */
    bool parity;                     /* 8E1 */
    bool flow_control;               /* RTS/CTS */
    const cellota_flash_area *flash; /* the whole device's flash */
    const char *flash_path;          /* required */
    const char *store_path;          /* NULL: a store in memory only */
    void (*reboot)(void *user);      /* NULL: reboot only counts */
    void *reboot_user;
} linux_port_options;

typedef struct linux_port {
    linux_serial serial;
    flash_sim flash;
    store_sim store;
    void (*reboot)(void *user);
    void *reboot_user;
    uint32_t reboots;  /* times the device asked to reboot */
    char message[256]; /* why open failed, for the user */
} linux_port;

/* Opens the line, the flash file and the store file. 0, or -1 with port->message saying what
 * failed and why. On failure nothing stays open. */
int linux_port_open(linux_port *port, const linux_port_options *options);

void linux_port_close(linux_port *port);

/* Fills `cellota` with the Linux functions, `port` as their context. `port` must outlive it. */
void linux_port_fill(linux_port *port, cellota_port *cellota);

/* Milliseconds of CLOCK_MONOTONIC (wrapping at 2^32); `context` is unused. */
uint32_t linux_now_ms(void *context);

#endif
