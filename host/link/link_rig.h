/*
 * A link rig: the device's modem driver (device/at) talking to the modem emulator
 * (host/modem) in one process on virtual time, with the emulator's real TCP sockets behind it.
 * Tests and benchmarks use it to drive real bytes from a real server on loopback through an
 * emulated UART and modem into a device socket, deterministically and faster than real time.
 *
 * Virtual time advances to the next moment either side has work; while sockets wait for a
 * server, the rig waits on the emulator's descriptors for real (a few milliseconds at most) and
 * lets no virtual time pass for it, so loopback latency never shows up in a measured goodput.
 * Like a device that polls its driver in a loop, the rig polls the driver again at the same
 * instant while the line delivers bytes, and returns to the application (without moving time)
 * while a socket holds received bytes, so neither side waits for the next step. Time moves in
 * whole milliseconds (the driver's clock), which rounds each command's turnaround up to the
 * next millisecond; the emulator itself answers a command the moment its CR arrives.
 */
#ifndef CELLOTA_HOST_LINK_RIG_H
#define CELLOTA_HOST_LINK_RIG_H

#include "at/modem.h"
#include "core/port.h"
#include "modem_emulator.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_RIG_RECEIVE_SIZE 1500
#define LINK_RIG_SEND_SIZE 1024

typedef struct link_rig {
    modem_emulator *emulator;
    cellota_port port;
    cellota_modem_config config;
    cellota_modem modem;
    cellota_modem_socket sockets[CELLOTA_MODEM_SOCKETS];
    uint8_t receive_buffers[CELLOTA_MODEM_SOCKETS][LINK_RIG_RECEIVE_SIZE];
    uint8_t send_buffers[CELLOTA_MODEM_SOCKETS][LINK_RIG_SEND_SIZE];
    uint64_t now;        /* virtual milliseconds */
    unsigned idle_steps; /* steps in a row that left time alone for the application */
} link_rig;

/* The emulator's log tap (modem_emulator_options.log, user a FILE *), as text: ">" device to
 * modem, "<" modem to device, "#" notes, each line with its virtual milliseconds; runs of binary
 * bytes are shown by their length, so a whole transfer stays readable. */
void link_rig_log(void *user, uint64_t now_ms, modem_log_direction direction, const uint8_t *data,
                  size_t length);

/* The driver profile for an emulator model. */
const cellota_modem_profile *link_rig_profile(modem_model model, bool flow_control);

/* Creates the emulator (options may be NULL) and the driver with sockets on links 0 and 1.
 * 0, or -1 with the reason on stderr. */
int link_rig_create(link_rig *rig, modem_model model, const modem_emulator_options *options);
void link_rig_destroy(link_rig *rig);

/* Polls both sides once and advances virtual time to the next event (at most `max_step` ms). */
void link_rig_step(link_rig *rig, uint32_t max_step);

/* Socket on link `index` as the clients see it. */
cellota_socket link_rig_socket(link_rig *rig, unsigned index);

/* What a fetch did. */
typedef struct link_fetch_result {
    uint64_t body_bytes; /* body bytes received (across resumes) */
    uint64_t elapsed_ms; /* virtual time from the first open to the last byte */
    uint32_t faults;     /* socket failures reported, each resumed with a Range request */
    int last_fault;      /* the cellota_error of the last one */
    bool corrupt;        /* a byte passed up differed from `expected` */
} link_fetch_result;

/*
 * Fetches http://host:port/path through socket 0 with plain HTTP/1.1 GETs and compares every
 * body byte passed up with `expected` (`length` bytes). When the socket fails mid-way, the
 * failure is counted and the fetch resumes with `Range: bytes=N-` from the bytes received so
 * far, up to `max_faults` times. 0 when the whole body arrived equal to `expected`; -1 with the
 * reason on stderr otherwise (result filled either way).
 */
int link_rig_fetch(link_rig *rig, const char *host, uint16_t port, const char *path,
                   const uint8_t *expected, size_t length, uint32_t max_faults, uint64_t timeout_ms,
                   link_fetch_result *result);

#endif
