/*
 * A modem profile: one SIMCom dialect as tables. The modem driver (modem.c) runs the same
 * state machine for every modem; what differs is here: the scripts of steps (commands, replies,
 * timeouts), the table of unsolicited lines, a few limits, and small handlers that turn the
 * dialect's replies into the driver's events below.
 *
 * Each profile is its own object file (sim7600.c, sim7000.c, sim7070.c, sim800.c) and is
 * linked only when the application names it, so a device carries one dialect.
 */
#ifndef CELLOTA_AT_PROFILE_H
#define CELLOTA_AT_PROFILE_H

#include "at/engine.h"
#include "core/socket.h"

typedef struct cellota_modem cellota_modem;

typedef struct cellota_at_script {
    const cellota_at_step *steps;
    uint8_t count;
} cellota_at_script;

#define CELLOTA_AT_SCRIPT(array)                                                                   \
    {                                                                                              \
        array, (uint8_t)(sizeof(array) / sizeof((array)[0]))                                       \
    }
#define CELLOTA_AT_NO_SCRIPT                                                                       \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

enum cellota_modem_profile_flags {
    /* The modem pushes received data unasked (a URC line with the link and length, then the
     * bytes: cellota_modem_pushed) instead of holding it for read commands, so the profile has
     * no receive or query scripts; its TCP and TLS connections share one numbering. A device
     * holds such a modem back through RTS/CTS when it has no room: use it only with hardware
     * flow control wired (docs/agent.md, Link efficiency). */
    CELLOTA_MODEM_PUSHED_DATA = 1u << 0
};

typedef struct cellota_modem_profile {
    const char *name;
    const cellota_at_urc *urcs;
    uint8_t urc_count;
    uint8_t flags;         /* cellota_modem_profile_flags */
    uint8_t links;         /* TCP link numbers 0..links-1 */
    uint8_t tls_links;     /* link numbers 0..tls_links-1 can carry TLS; 0: no TLS */
    uint16_t power_key_ms; /* how long the power key is held to switch the modem on */
    uint16_t max_send;     /* largest payload of one send command */
    uint16_t max_read;     /* largest read one receive command may ask for */
    uint16_t open_s;       /* seconds a connection may take to open, after its command */

    cellota_at_script probe;        /* does the modem answer? (a few quick AT) */
    cellota_at_script boot;         /* AT until it answers, after the power key */
    cellota_at_script setup;        /* echo off, verbose errors, SIM, mode and bands */
    cellota_at_script registration; /* one round of registration queries */
    cellota_at_script attach;       /* APN and data context */
    cellota_at_script detach;       /* after the network dropped: release the context */
    /* per connection, indexed by cellota_socket_kind (TCP, TLS) */
    cellota_at_script open[2], send[2], receive[2], query[2], close[2];
    /* TLS credentials (at/credentials.h): write one file (%f name, %n length, the payload),
     * then make the written files usable (%k CA, %x certificate, %y key); none: no TLS */
    cellota_at_script store_file, install_files;
} cellota_modem_profile;

/*
 * Events for the profiles' handlers (`user` of every handler is the cellota_modem). `kind` is
 * a cellota_socket_kind, or -1 when the modem numbers TCP and TLS connections alike (the CA*
 * commands of SIM7000/SIM7070); `link` the modem's link, session or connection number.
 */

/* A connection opened (error 0) or failed to (a cellota_error code). */
void cellota_modem_opened(cellota_modem *modem, int kind, int32_t link, int error);

/* The modem closed a connection: `error` is CELLOTA_SOCKET_CLOSED when the peer closed it,
 * otherwise why it broke. Bytes still in the modem remain readable. */
void cellota_modem_closed(cellota_modem *modem, int kind, int32_t link, int error);

/* Data waits in the modem: `amount` bytes, or an unknown amount when negative. */
void cellota_modem_data_ready(cellota_modem *modem, int kind, int32_t link, int32_t amount);

/* A send was confirmed (error 0) or failed afterwards. */
void cellota_modem_send_result(cellota_modem *modem, int kind, int32_t link, int error);

/*
 * From the receive script's handler: the modem announces `length` bytes of the link being read,
 * with `rest` bytes left after them (negative: it did not say; the driver then asks once the
 * bytes it knew of are read). May come several times for one read. Sets up the transfer into
 * the socket's buffer; returns CELLOTA_OK, or an error when the header does not fit the request
 * (the bytes are then skipped, never passed up).
 */
int cellota_modem_data_header(cellota_modem *modem, int32_t link, int32_t length, int32_t rest);

/*
 * From a URC handler of a CELLOTA_MODEM_PUSHED_DATA profile: `length` bytes of link `link`
 * follow the URC's line. The driver puts them into the socket's buffer when it has room for all
 * of them (holding the line back until then) and hands them on only once they arrived whole and
 * undamaged; a block for no open socket is skipped. A header whose numbers cannot be read
 * (negative `length`) breaks every pushed stream: its bytes would be taken for text.
 */
void cellota_modem_pushed(cellota_modem *modem, int kind, int32_t link, int32_t length);

/* The modem's data context went down (all connections are lost). */
void cellota_modem_network_lost(cellota_modem *modem);

/*
 * Steps every SIMCom dialect shares (3GPP TS 27.007 commands and SIMCom's common ones), so each
 * is written once; a profile takes the first N of an array.
 *   probe:        AT (three quick tries)
 *   boot:         AT until it answers (about a minute)
 *   setup:        ATE0, AT+CMEE=2, AT+IFC=2,2 (if set), AT+CPIN? (SIM busy retried),
 *                 AT+CNMP=<mode>, AT+CMNB=<category>, AT+CBANDCFG="CAT-M" / "NB-IOT" (if set)
 *   registration: AT+CREG?, AT+CGREG?, AT+CEREG?
 */
extern const cellota_at_step cellota_modem_probe_steps[1];
extern const cellota_at_step cellota_modem_boot_steps[1];
extern const cellota_at_step cellota_modem_setup_steps[8];
extern const cellota_at_step cellota_modem_registration_steps[3];
#define CELLOTA_MODEM_SETUP_BASIC 4 /* up to AT+CPIN? */
#define CELLOTA_MODEM_SETUP_MODE 5  /* and AT+CNMP */
#define CELLOTA_MODEM_SETUP_BANDS 8 /* and AT+CMNB, AT+CBANDCFG */

/* Generic handlers the profiles' tables share. */
int cellota_modem_on_boot_line(void *modem, cellota_at *at, const char *arguments);
int cellota_modem_on_restart(void *modem, cellota_at *at, const char *arguments);
int cellota_modem_on_sim(void *modem, cellota_at *at, const char *arguments);
int cellota_modem_on_registration(void *modem, cellota_at *at, const char *arguments);

#endif
