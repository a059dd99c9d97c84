/*
 * The modem driver: brings a SIMCom modem from power-off to a data connection and runs
 * connections over it, each exposed as a cellota_socket (core/socket.h) -- the only thing the
 * HTTP and MQTT clients see.
 *
 * One cellota_modem per modem; it owns the AT engine. Up to CELLOTA_MODEM_SOCKETS sockets share
 * it, each on its own link number (e.g. MQTT on link 0, HTTP on link 1); their commands are
 * interleaved one at a time, round robin, so a long download does not starve the other.
 *
 * Bring-up, started by cellota_modem_start or by the first open:
 *   probe (AT) -> [power key, boot wait] -> setup (ATE0, AT+CMEE=2, SIM, mode, bands)
 *   -> registration (home or roaming) -> attach (APN, data context) -> ready
 * A failure stops there with an error the sockets waiting to open report; the next open starts
 * again. Network loss and modem restarts are detected (URCs, an echo after ATE0, repeated
 * silence); the sockets fail with the reason and the driver brings the link back up.
 *
 * Receiving uses each modem's manual receive mode: the driver tracks how many bytes the modem
 * holds for each link and never asks for more (some firmware hangs when asked), reads up to the
 * modem's largest read into the socket's buffer, and only hands on bytes whose read completed
 * undamaged (see engine.h). A damaged or truncated read fails the socket with
 * CELLOTA_AT_DATA_DAMAGED or CELLOTA_AT_DATA_FRAMING: the client resumes from its checkpoint.
 * With hardware flow control a modem may push its data instead (cellota_sim7600_pushed): no
 * read commands at all; a block is taken only when the socket has room for it (until then the
 * UART holds the modem back), handed on only once whole and undamaged, and any line the engine
 * could not account for (damaged, binary, unframed: possibly a lost block header) fails every
 * pushed stream, since a block lost without trace would leave a hole in it.
 */
#ifndef CELLOTA_AT_MODEM_H
#define CELLOTA_AT_MODEM_H

#include "at/engine.h"
#include "at/profile.h"
#include "core/port.h"
#include "core/socket.h"

/* Sockets one modem runs at once. Build-time setting. */
#ifndef CELLOTA_MODEM_SOCKETS
#define CELLOTA_MODEM_SOCKETS 2
#endif

/* Longest host name a socket keeps (with its NUL). Build-time setting. */
#ifndef CELLOTA_MODEM_HOST_SIZE
#define CELLOTA_MODEM_HOST_SIZE 64
#endif

/* The profiles (each linked only when named). cellota_sim7600_pushed: the SIM7600 with every
 * connection on its CCH service and received data pushed (AT+CCHSET=1,0), for a UART with
 * RTS/CTS wired -- no read command per 1500 bytes; two connections (sessions 0 and 1). */
extern const cellota_modem_profile cellota_sim7600;
extern const cellota_modem_profile cellota_sim7600_pushed;
extern const cellota_modem_profile cellota_sim7000;
extern const cellota_modem_profile cellota_sim7070;
extern const cellota_modem_profile cellota_sim800;

/* Settings; the strings must outlive the modem. NULL or 0 leaves the modem's own setting. */
typedef struct cellota_modem_config {
    const char *apn;  /* access point name; required */
    const char *user; /* APN user name and password, when the operator wants them */
    const char *password;
    const char *ca_file;     /* TLS: CA certificate file already in the modem; NULL: the
                              * server is not verified by the modem (the image and the update
                              * request are verified by the device anyway) */
    /* TLS client authentication: the device's certificate and key files in the modem
     * (at/credentials.h writes them); both or neither */
    const char *certificate_file;
    const char *key_file;
    const char *catm_bands;  /* SIM7000/SIM7070: AT+CBANDCFG="CAT-M",<bands>, e.g. "3,8,20" */
    const char *nbiot_bands; /* SIM7000/SIM7070: AT+CBANDCFG="NB-IOT",<bands> */
    uint8_t network_mode;    /* AT+CNMP: 2 automatic, 13 GSM only, 38 LTE only, 51 GSM+LTE */
    uint8_t lte_category;    /* SIM7000/SIM7070 AT+CMNB: 1 Cat-M, 2 NB-IoT, 3 both */
    bool flow_control;       /* RTS/CTS wired: AT+IFC=2,2 */
    uint16_t registration_s; /* how long to wait for registration; 0: 180 seconds */
} cellota_modem_config;

typedef enum cellota_modem_state {
    CELLOTA_MODEM_OFF = 0,     /* not started */
    CELLOTA_MODEM_STARTING,    /* probing, powering on, setting up */
    CELLOTA_MODEM_REGISTERING, /* waiting for the network */
    CELLOTA_MODEM_ATTACHING,   /* activating the data context */
    CELLOTA_MODEM_READY,       /* connections can open */
    CELLOTA_MODEM_FAILED       /* bring-up stopped; cellota_modem_state's error says why */
} cellota_modem_state;

typedef struct cellota_modem_socket cellota_modem_socket;

struct cellota_modem {
    /* Bytes first, then words, then the engine: Thumb reaches a byte field in the first 32
     * bytes, or a word in the first 128, with a 2-byte instruction instead of a 4-byte one. */
    uint8_t stage, operation, script_stage, next_socket, registration, timeouts;
    bool wanted, roaming;
    const cellota_modem_profile *profile;
    const cellota_modem_config *config;
    cellota_modem_socket *operation_socket; /* the socket the running script works for */
    uint32_t now, timer, deadline, denied_since;
    int error;
    uint32_t echoes; /* engine echo count when the modem was set up */
    /* pushed data (CELLOTA_MODEM_PUSHED_DATA): the socket the block on the line is for (NULL:
     * skipped), its length, and the engine's count of damaged, binary and unframed lines when
     * last looked at -- a lost block header shows only as such a line */
    cellota_modem_socket *pushed_socket;
    uint32_t line_faults;
    uint16_t pushed_length;
    cellota_modem_socket *sockets[CELLOTA_MODEM_SOCKETS];
    cellota_at_parameters parameters;
    cellota_at at;
};

struct cellota_modem_socket {
    cellota_modem *modem;
    uint8_t link, kind, state, flags;
    int error;
    uint16_t port;
    char host[CELLOTA_MODEM_HOST_SIZE];
    uint8_t *receive_buffer;
    uint8_t *send_buffer;
    uint16_t receive_size, receive_start, receive_end;
    uint16_t send_size, send_length, send_in_flight;
    uint16_t reading;  /* bytes the read in flight asked for */
    uint16_t received; /* bytes it brought so far */
    int32_t pending;   /* bytes the modem holds for this link; negative: unknown */
    uint32_t deadline, checked;
};

/*
 * Prepares the modem: `profile` is one of the cellota_sim* profiles; `port` gives the UART,
 * the power key (may be NULL: then the modem must already be on) and nothing else. Nothing is
 * sent before cellota_modem_start or an open. Returns CELLOTA_OK or CELLOTA_INVALID_ARGUMENT.
 */
int cellota_modem_init(cellota_modem *modem, const cellota_port *port,
                       const cellota_modem_profile *profile, const cellota_modem_config *config);

/* Starts (or restarts after a failure) the bring-up. Returns CELLOTA_IN_PROGRESS, or
 * CELLOTA_OK when the modem is already ready. */
int cellota_modem_start(cellota_modem *modem, uint32_t now);

/* Advances everything: the engine, bring-up, every socket. Call often; it never waits. */
void cellota_modem_poll(cellota_modem *modem, uint32_t now);

/* Where the bring-up is; in CELLOTA_MODEM_FAILED *error (may be NULL) says why. */
cellota_modem_state cellota_modem_status(const cellota_modem *modem, int *error);

/* True when registered on a visited network (roaming). */
bool cellota_modem_roaming(const cellota_modem *modem);

/* The engine, for other users of the modem's commands (the SIM7600 file system). Scripts they
 * start run whenever the driver is idle. */
cellota_at *cellota_modem_at(cellota_modem *modem);

/*
 * Prepares a socket on link `link` with the caller's buffers: `receive_buffer` holds received
 * bytes until read (reads from the modem are at most its size: 1500 lets a SIM7600 fill every
 * read), `send_buffer` holds bytes until sent (one send command at most its size).
 * Returns CELLOTA_OK; CELLOTA_AT_LINK_UNAVAILABLE when the modem has no such link;
 * CELLOTA_BUSY when the modem already runs CELLOTA_MODEM_SOCKETS sockets or one on this link;
 * CELLOTA_INVALID_ARGUMENT for missing buffers or sizes above 65535.
 */
int cellota_modem_socket_init(cellota_modem_socket *socket, cellota_modem *modem, uint8_t link,
                              uint8_t *receive_buffer, size_t receive_size, uint8_t *send_buffer,
                              size_t send_size);

/*
 * The socket as the clients see it (core/socket.h). Beyond that contract, open may return
 * CELLOTA_AT_TLS_UNSUPPORTED (no TLS on this modem or link), CELLOTA_INVALID_ARGUMENT (host
 * longer than CELLOTA_MODEM_HOST_SIZE - 1, or empty), CELLOTA_BUSY (not CLOSED); receive and
 * state report the AT errors that failed the socket (CELLOTA_AT_DATA_DAMAGED, ...).
 */
cellota_socket cellota_modem_socket_handle(cellota_modem_socket *socket);

#endif
