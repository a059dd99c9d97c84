/*
 * A SIMCom modem emulator: SIM7600, SIM7000, SIM7070 and SIM800L answering AT commands the way
 * the real modems do, with real TCP (and TLS) sockets behind them.
 *
 * One emulator is one modem. It runs on VIRTUAL time: nothing in it reads a clock or waits. The
 * owner advances it with modem_emulator_poll(now_ms) and talks to it through three functions with
 * the shapes of cellota_port's UART functions (core/port.h), so a port can point straight at them
 * with the emulator as context:
 *
 *     port.context = emulator;                 // or a struct that forwards to it
 *     port.uart_read = modem_emulator_uart_read;
 *     port.uart_write = modem_emulator_uart_write;
 *     port.uart_take_errors = modem_emulator_uart_take_errors;
 *
 * Bytes written are paced onto the line at the configured baud rate (10 bits a byte for 8N1, 11
 * for 8E1 once AT+ICF turns parity on); bytes become readable only when the line has carried them.
 * Faults (dropped or bit-flipped bytes, a socket closed after N bytes, a modem reset after N bytes,
 * a registration loss) are injected from a seeded generator, so a run is reproducible.
 *
 * There is no global state: a process may run thousands of emulators. Sockets are non-blocking;
 * an event loop that drives many emulators can wait on the descriptors from
 * modem_emulator_poll_fds() and step virtual time to modem_emulator_next_event_ms().
 * docs/modem-emulator.md describes what is emulated, the timing model and the fault model.
 */
#ifndef CELLOTA_HOST_MODEM_EMULATOR_H
#define CELLOTA_HOST_MODEM_EMULATOR_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum modem_model {
    MODEM_MODEL_SIM7600 = 0,
    MODEM_MODEL_SIM7000,
    MODEM_MODEL_SIM7070,
    MODEM_MODEL_SIM800
} modem_model;

/* The radio access technology, which sets the default bandwidth and latency. */
typedef enum modem_radio {
    MODEM_RADIO_DEFAULT = 0, /* the model's usual one: SIM7600 cat1, SIM7000/SIM7070 catm1,
                                SIM800 gprs */
    MODEM_RADIO_CAT1,        /* LTE Cat-1: 10 Mbit/s down, 5 Mbit/s up, 50 ms round trip */
    MODEM_RADIO_CATM1,       /* LTE Cat-M1: 300 kbit/s down, 300 kbit/s up, 150 ms */
    MODEM_RADIO_GPRS         /* GPRS class 10: 60 kbit/s down, 30 kbit/s up, 600 ms */
} modem_radio;

/* Which way the UART faults (drop, corrupt) apply. */
typedef enum modem_fault_direction {
    MODEM_FAULTS_TO_DEVICE = 0, /* modem -> device only (the default) */
    MODEM_FAULTS_TO_MODEM,      /* device -> modem only */
    MODEM_FAULTS_BOTH
} modem_fault_direction;

/* For the log callback: which way the logged bytes went. */
typedef enum modem_log_direction {
    MODEM_LOG_FROM_DEVICE = 0, /* bytes the modem received (after faults) */
    MODEM_LOG_TO_DEVICE,       /* bytes the modem sent (before faults) */
    MODEM_LOG_NOTE             /* a text note: boot, fault injected, socket event */
} modem_log_direction;

typedef struct modem_emulator_options {
    uint32_t baud;              /* UART rate; AT+IPR changes it later. Default 115200 */
    bool parity;                /* start with 8E1 (AT+ICF=2,1) instead of 8N1 */
    bool hardware_flow_control; /* start with RTS/CTS on (AT+IFC=2,2): no overruns */
    modem_radio radio;          /* default: the model's usual radio */
    uint32_t downlink_bps;      /* 0: the radio's default */
    uint32_t uplink_bps;        /* 0: the radio's default */
    int32_t round_trip_ms;      /* network round-trip time; negative: the radio's default */

    double drop_rate;    /* probability that a UART byte is lost */
    double corrupt_rate; /* probability that a UART byte has one bit flipped */
    modem_fault_direction fault_direction;
    uint64_t close_after_bytes;      /* every socket is closed by the "server" after carrying this
                                        many bytes from the network; 0 = never */
    uint64_t reset_after_bytes;      /* the modem resets itself after this many bytes from the
                                        network since it booted; 0 = never */
    int64_t lose_registration_at_ms; /* virtual time (since create) of a registration loss; <0 =
                                        never */
    uint32_t lose_registration_for_ms;
    uint64_t lose_registration_after_bytes; /* or once the modem has carried this many bytes from
                                               the network since it booted (a loss placed in a
                                               download whatever the host's speed); 0 = never */
    double quirk_rate; /* probability of the optional quirks real modems show (extra
                          +CIPRXGET: 1 lines, a URC between a read header and its
                          data); 0 disables them. Default 0.1 */

    uint32_t boot_ms;         /* power-on to RDY; 0: the model's default */
    uint32_t sim_ready_ms;    /* RDY to +CPIN: READY (SIM busy meanwhile); 0: default */
    uint32_t registration_ms; /* SIM ready to registered (+CREG: 0,2 meanwhile); 0: default */
    bool roaming;             /* register as roaming (stat 5) instead of home (stat 1) */
    bool start_powered_off;   /* wait for the power key instead of booting at create */

    size_t device_rx_capacity; /* the device UART's receive buffer: bytes arriving while it
                                  is full are lost and flagged as overruns (unless flow
                                  control is on). 0: 4096 */
    size_t device_tx_capacity; /* the device UART's transmit buffer; 0: 4096 */

    const char *fs_dir;      /* SIM7600 file system in this directory; NULL: in memory */
    uint64_t fs_capacity;    /* bytes; 0: 8 MiB */
    const char *tls_ca_file; /* PEM bundle to verify servers with when the device asks the
                                modem to verify; NULL: the modem never verifies */
    bool network_disabled;   /* sockets fail at once (fuzzing: no real connections) */
    uint32_t source_address; /* IPv4 address (host byte order) IPv4 connections leave from;
                                0: the kernel's choice. One loopback address has about 28,000
                                ephemeral ports: a simulator running more connections spreads
                                them over 127.x.y.z (cellota-fleet) */
    uint64_t seed;           /* fault and quirk generator seed */

    /* Optional tap on everything the modem sends and receives. */
    void (*log)(void *user, uint64_t now_ms, modem_log_direction direction, const uint8_t *data,
                size_t length);
    void *log_user;
} modem_emulator_options;

typedef struct modem_emulator modem_emulator;

/* Counters for tests and benchmarks. */
typedef struct modem_emulator_stats {
    uint64_t bytes_to_device;    /* bytes the line carried to the device (after faults) */
    uint64_t bytes_from_device;  /* bytes the line carried from the device */
    uint64_t bytes_dropped;      /* lost to the drop fault */
    uint64_t bytes_corrupted;    /* bit-flipped by the corrupt fault */
    uint64_t device_overruns;    /* lost because the device's receive buffer was full */
    uint64_t modem_overruns;     /* lost because the modem's receive buffer was full */
    uint64_t network_bytes_down; /* payload bytes sockets received from servers */
    uint64_t network_bytes_up;   /* payload bytes sockets sent to servers */
    uint32_t boots;              /* times the modem booted (power on, resets) */
    uint32_t fault_resets;       /* resets injected by reset_after_bytes */
    uint32_t fault_closes;       /* sockets closed by close_after_bytes */
    uint32_t registration_losses;
} modem_emulator_stats;

/* Fills `options` with the defaults documented above. */
void modem_emulator_default_options(modem_emulator_options *options);

/* "sim7600", "sim7000", "sim7070", "sim800" (also "sim800l"); 0 or -1 for an unknown name. */
int modem_model_from_name(const char *name, modem_model *model);
const char *modem_model_name(modem_model model);
int modem_radio_from_name(const char *name, modem_radio *radio); /* "cat1", "catm1", "gprs" */

/*
 * A new emulator at virtual time `now_ms`; `options` may be NULL for the defaults and is copied
 * (strings too). Unless start_powered_off is set, the modem is powering on: RDY follows after the
 * boot time. NULL when memory runs out or an option is invalid (fs_dir not a directory,
 * tls_ca_file unreadable).
 */
modem_emulator *modem_emulator_create(modem_model model, const modem_emulator_options *options,
                                      uint64_t now_ms);
void modem_emulator_destroy(modem_emulator *emulator);

/*
 * The UART as the device sees it (signatures of cellota_port). `context` is the emulator.
 * uart_write queues bytes in the device's transmit buffer and returns how many fit; the line
 * carries them at the baud rate. uart_read returns bytes the line has delivered. take_errors
 * returns how many delivered bytes were damaged in a way the device's UART detects (a bit flip
 * while parity is on, an overrun of its receive buffer) since the last call, and resets it.
 */
size_t modem_emulator_uart_read(void *context, uint8_t *buffer, size_t capacity);
size_t modem_emulator_uart_write(void *context, const uint8_t *data, size_t length);
uint32_t modem_emulator_uart_take_errors(void *context);

/*
 * uart_read that also says which bytes were flagged by the receiving UART: flags[i] is true for
 * a byte received with a parity error. cellota-modem uses it to mark them on the pty the way
 * Linux termios PARMRK does. `flags` may be NULL.
 */
size_t modem_emulator_uart_read_flagged(modem_emulator *emulator, uint8_t *buffer, bool *flags,
                                        size_t capacity);

/* The modem's power key line (true = pressed). Held long enough it powers the modem on, or off
 * when it is on; timing uses the time of the last poll. */
void modem_emulator_power_key(void *context, bool pressed);

/* Advances the emulator to virtual time `now_ms` (never backwards) and does all due work:
 * line transfer, commands, timers, socket I/O without blocking. */
void modem_emulator_poll(modem_emulator *emulator, uint64_t now_ms);

/*
 * The earliest virtual time at which polling will change something that does not depend on the
 * network (line transfer, timers, a data delay), UINT64_MAX when nothing is scheduled. Data from
 * servers arrives in real time: while sockets are open, also wait on modem_emulator_poll_fds() or
 * poll at a bounded interval.
 */
uint64_t modem_emulator_next_event_ms(const modem_emulator *emulator);

/* The emulator's socket descriptors with the events worth waiting for; returns how many were
 * written (at most `capacity`). */
size_t modem_emulator_poll_fds(const modem_emulator *emulator, struct pollfd *fds, size_t capacity);

/* Parameters the device changed with AT commands, for a pty program or a harness that must
 * follow them (AT+IPR, AT+ICF). */
uint32_t modem_emulator_baud(const modem_emulator *emulator);
bool modem_emulator_parity(const modem_emulator *emulator);
bool modem_emulator_powered(const modem_emulator *emulator);

void modem_emulator_get_stats(const modem_emulator *emulator, modem_emulator_stats *stats);

/* Faults injected from outside at a moment the owner picks (cellota-fleet), beside the ones the
 * options schedule: the modem resets itself now (counted in fault_resets), or every connection
 * it holds is broken now, as a network that drops them (counted in fault_closes). */
void modem_emulator_reset(modem_emulator *emulator);
void modem_emulator_drop_connections(modem_emulator *emulator);

#endif
