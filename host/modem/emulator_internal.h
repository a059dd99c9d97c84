/*
 * What the emulator's source files share: the emulator struct, the byte ring, the command line
 * representation, the output queue with its URC insertion points, the timer queue, the network
 * link (socket + radio model) and the per-dialect state. Nothing here is public API; the public
 * contract is modem_emulator.h.
 *
 * Time inside the emulator is microseconds of virtual time (`now_us`); the API speaks
 * milliseconds.
 */
#ifndef CELLOTA_HOST_MODEM_EMULATOR_INTERNAL_H
#define CELLOTA_HOST_MODEM_EMULATOR_INTERNAL_H

#include "modem_emulator.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODEM_LINE_MAX 1100 /* command line buffer; each profile sets its own limit */
#define MODEM_MAX_ARGUMENTS 16
#define MODEM_SAFE_POINTS 64    /* remembered URC insertion points in the output queue */
#define MODEM_EVENTS_LIMIT 256  /* pending timers; more is a runaway and is dropped */
/* the modem's certificate store: entries, largest file, longest name (with its NUL) */
#define MODEM_CERTIFICATES 8
#define MODEM_CERTIFICATE_MAX 8192
#define MODEM_CERTIFICATE_NAME 64
#define MODEM_PAYLOAD_MAX 4096  /* payload collected after a '>' prompt before it is handed on */
#define MODEM_LINKS_LIMIT 32    /* sockets of all kinds in one modem */
#define MODEM_FLAGGED_LIMIT 256 /* remembered positions of parity-flagged bytes */

/* ---- byte ring: a FIFO that grows on demand up to a limit -------------------------------- */

typedef struct byte_ring {
    uint8_t *data;
    size_t capacity; /* allocated */
    size_t limit;    /* never grows past this */
    size_t head;     /* index of the oldest byte */
    size_t length;
    uint64_t consumed; /* bytes ever popped: the stream position of the head */
} byte_ring;

void ring_init(byte_ring *ring, size_t limit);
void ring_free(byte_ring *ring);
void ring_clear(byte_ring *ring);
size_t ring_room(const byte_ring *ring);
/* Appends up to `length` bytes (fewer when the limit is reached or memory runs out). */
size_t ring_push(byte_ring *ring, const void *data, size_t length);
/* Copies up to `length` bytes starting `offset` bytes after the head; does not consume. */
size_t ring_peek(const byte_ring *ring, size_t offset, void *out, size_t length);
/* Removes up to `length` bytes from the head into `out` (NULL discards). */
size_t ring_pop(byte_ring *ring, void *out, size_t length);
/* Inserts bytes `offset` bytes after the head; false when they do not fit. */
bool ring_insert(byte_ring *ring, size_t offset, const void *data, size_t length);
uint8_t ring_at(const byte_ring *ring, size_t offset);

/* ---- commands ------------------------------------------------------------------------------ */

typedef enum command_type {
    COMMAND_EXECUTE = 0, /* AT+X   */
    COMMAND_READ,        /* AT+X?  */
    COMMAND_TEST,        /* AT+X=? */
    COMMAND_SET          /* AT+X=… */
} command_type;

typedef struct command_argument {
    const char *text; /* NUL-terminated, quotes removed */
    bool quoted;
} command_argument;

typedef struct at_command {
    char name[24]; /* upper case: "+CIPOPEN", "E", "&W", "I" */
    command_type type;
    int count; /* arguments given, including empty ones ("1,,3" has 3) */
    command_argument arguments[MODEM_MAX_ARGUMENTS];
    char storage[MODEM_LINE_MAX + MODEM_MAX_ARGUMENTS];
} at_command;

/* Handler results. A handler returns one of these or command_cme(code). */
enum {
    RESULT_OK = 0,      /* the dispatcher writes OK */
    RESULT_ERROR = -1,  /* the dispatcher writes ERROR */
    RESULT_DONE = 1,    /* the handler wrote its own final result */
    RESULT_PENDING = 2, /* the final result comes later (busy, or a '>' prompt) */
    RESULT_CME_BASE = 1000
};
static inline int command_cme(int code)
{
    return RESULT_CME_BASE + code;
}

/* 3GPP TS 27.007 +CME ERROR codes the emulator uses. */
enum {
    CME_NOT_ALLOWED = 3,
    CME_NOT_SUPPORTED = 4,
    CME_SIM_NOT_INSERTED = 10,
    CME_SIM_FAILURE = 13,
    CME_SIM_BUSY = 14,
    CME_MEMORY_FULL = 20,
    CME_NOT_FOUND = 22,
    CME_TEXT_TOO_LONG = 24,
    CME_NO_NETWORK = 30,
    CME_INVALID_PARAMETERS = 50,
    CME_UNKNOWN = 100
};

typedef struct modem_emulator modem_emulator;
typedef struct modem_certificate modem_certificate;
typedef int (*command_handler)(modem_emulator *emulator, const at_command *command);

#define COMMAND_NEEDS_SIM 1u /* answers +CME ERROR: SIM busy until the SIM is ready */

typedef struct command_entry {
    const char *name;
    command_handler handler;
    unsigned flags;
} command_entry;

bool argument_present(const at_command *command, int index);
/* Handlers shared by several tables (commands_general.c). */
int command_accept(modem_emulator *emulator, const at_command *command); /* OK, nothing else */
/* A setting of which only mode 0 exists here (AT+CIPMODE, AT+CCHMODE: no transparent mode). */
int command_mode_zero_only(modem_emulator *emulator, const at_command *command, const char *name);
bool argument_int(const at_command *command, int index, long *value);
/* The argument's text, "" when absent. */
const char *argument_text(const at_command *command, int index);
/* Parses "AT…" command line text after the AT into commands and runs them; writes results. */
void command_line_execute(modem_emulator *emulator, const char *line, size_t length);
/* Parses one command at `text` (after AT or ';'); returns characters used, 0 on a syntax error. */
size_t command_parse(const char *text, size_t length, at_command *out);

/* ---- model profiles ------------------------------------------------------------------------ */

typedef enum dialect {
    DIALECT_SIM7600 = 1u, /* NETOPEN / CIPOPEN / CIPRXGET, CCH*, HTTP, file system */
    DIALECT_CIP = 2u,     /* SIM800 / SIM7000: CSTT / CIICR / CIPSTART */
    DIALECT_CA = 4u       /* SIM7000 / SIM7070: CNACT / CAOPEN */
} dialect;

typedef struct model_profile {
    modem_model model;
    const char *name;     /* "SIM7600" */
    const char *product;  /* AT+CGMM */
    const char *revision; /* AT+CGMR */
    unsigned dialects;
    modem_radio radio;
    uint32_t boot_ms;               /* power on -> RDY */
    uint32_t sim_ready_ms;          /* RDY -> +CPIN: READY */
    uint32_t ready_lines_ms;        /* +CPIN: READY -> SMS DONE / Call Ready … */
    uint32_t registration_ms;       /* +CPIN: READY -> registered */
    const char *const *after_rdy;   /* lines right after RDY (+CFUN: 1) */
    const char *const *ready_lines; /* lines once the SIM is read */
    int default_cmee;
    size_t line_limit;     /* longest command line */
    size_t rx_buffer;      /* modem UART receive buffer */
    size_t socket_buffer;  /* per-socket receive buffer */
    size_t max_read;       /* largest CIPRXGET=2 / CARECV / CCHRECV */
    size_t max_send;       /* largest CIPSEND / CASEND */
    int links;             /* sockets: SIM7600 10, SIM800 6, SIM7000 8, SIM7070 13 */
    const char *prompt;    /* the data prompt, "\r\n>" or "\r\n> " */
    uint32_t power_on_ms;  /* power key press that turns it on */
    uint32_t power_off_ms; /* press that turns it off */
    int access_technology; /* AT+COPS AcT: 7 E-UTRAN, 0 GSM */
    bool has_cereg;
    const command_entry *const *tables; /* NULL-terminated */
} model_profile;

const model_profile *profile_for_model(modem_model model);

extern const command_entry general_commands[];
extern const command_entry lte_commands[];
extern const command_entry band_commands[];
extern const command_entry sim7600_general_commands[];
extern const command_entry sim7600_commands[];
extern const command_entry cip_commands[];
extern const command_entry ca_commands[];
extern const command_entry filesystem_commands[];
extern const command_entry sim7600_certificate_commands[];
extern const command_entry ca_certificate_commands[];
extern const command_entry http_commands[];

/* ---- network links: a socket behind the modem, with the radio model ------------------------ */

typedef enum link_owner {
    OWNER_SIM7600_SOCKET = 0,
    OWNER_SIM7600_SSL,
    OWNER_HTTP,
    OWNER_CIP,
    OWNER_CA
} link_owner;

typedef enum link_state {
    LINK_CONNECTING = 0, /* TCP connect (and TLS handshake) in progress */
    LINK_OPEN,
    LINK_CLOSED, /* the peer closed; held data may still be read */
    LINK_FAILED  /* never connected, or broke; see `failure` */
} link_state;

typedef enum link_failure {
    LINK_FAILURE_NONE = 0,
    LINK_FAILURE_DNS,
    LINK_FAILURE_REFUSED,
    LINK_FAILURE_TIMEOUT,
    LINK_FAILURE_TLS,
    LINK_FAILURE_RESET, /* the connection broke after it was open */
    LINK_FAILURE_SOCKET /* no socket could be made */
} link_failure;

/* Events link_poll reports. */
enum {
    LINK_EVENT_CONNECTED = 1u,
    LINK_EVENT_FAILED = 2u,
    LINK_EVENT_DATA = 4u,       /* more bytes became readable */
    LINK_EVENT_PEER_CLOSED = 8u /* the peer's close reached the modem */
};

typedef struct modem_link modem_link;

typedef struct link_options {
    bool tls;
    int tls_max_minor; /* TLS 1.x ceiling as mbedTLS minor: 1 = TLS 1.0 … 3 = TLS 1.2 */
    bool verify;       /* verify the server: against `ca`, else options.tls_ca_file */
    const char *server_name;
    /* certificates from the modem's store (NULL: none); copied at open. ca_missing: the
     * device named a CA the store does not hold -- the handshake then fails, as a modem's
     * would */
    const modem_certificate *ca, *certificate, *key;
    bool ca_missing, client_missing;
} link_options;

/* Starts connecting; NULL and *failure when it cannot even start (bad host, no socket). */
modem_link *link_open(modem_emulator *emulator, link_owner owner, int index, const char *host,
                      uint16_t port, const link_options *options, link_failure *failure);
/* Closes a link as its owner's close command does: bytes still on their way to the server go
 * out first (the link lingers, ownerless, until they have, at most 10 s). */
void link_close(modem_emulator *emulator, modem_link *link);
/* Drops a link at once, with whatever it holds (a modem reset, a lost network). */
void link_abort(modem_emulator *emulator, modem_link *link);
/* True for a closed link still sending what was written before its close. */
bool link_lingering(const modem_link *link);
/* A lingering link has sent everything (or failed, or ran out of time): it can go. */
bool link_finished_sending(const modem_emulator *emulator, const modem_link *link);
link_state link_get_state(const modem_link *link);
link_failure link_get_failure(const modem_link *link);
size_t link_held(const modem_link *link); /* readable bytes the modem holds */
size_t link_read(modem_link *link, uint8_t *buffer, size_t capacity);
size_t link_send_room(const modem_link *link);
size_t link_send(modem_emulator *emulator, modem_link *link, const uint8_t *data, size_t length);
size_t link_unacknowledged(const modem_link *link); /* sent bytes not yet delivered */
uint64_t link_bytes_sent(const modem_link *link);
const char *link_remote_address(const modem_link *link);
uint16_t link_remote_port(const modem_link *link);
link_owner link_get_owner(const modem_link *link);
bool link_usable(const modem_link *link); /* connecting or open */
int link_get_index(const modem_link *link);
/* Breaks a link now, as a network that drops it: the server sees it end, the modem reports the
 * connection lost after the usual delay. */
void link_break(modem_emulator *emulator, modem_link *link);
/* Does due network work; returns LINK_EVENT_* bits. */
unsigned link_poll(modem_emulator *emulator, modem_link *link);
uint64_t link_next_event_us(const modem_link *link);
int link_fd(const modem_link *link, short *events);
/* Resolves a host name or address to its text form (AT+CDNSGIP). */
bool emulator_resolve(const modem_emulator *emulator, const char *host, char *address,
                      size_t capacity);

/* ---- dialect and feature state --------------------------------------------------------------- */

#define SIM7600_LINKS 10
#define SIM7600_SSL_SESSIONS 2
#define CIP_LINKS 8
#define CA_LINKS 13

typedef struct sim7600_state {
    bool net_open;
    bool net_broken;  /* the network dropped; NETCLOSE is due */
    int receive_mode; /* AT+CIPRXGET: 0 push, 1 manual */
    modem_link *links[SIM7600_LINKS];
    bool notified[SIM7600_LINKS]; /* a +CIPRXGET: 1 went out since the last read */
    bool closing[SIM7600_LINKS];
    bool ssl_started;
    int ssl_report_send; /* AT+CCHSET */
    int ssl_receive_mode;
    modem_link *ssl[SIM7600_SSL_SESSIONS];
    bool ssl_notified[SIM7600_SSL_SESSIONS];
    bool ssl_peer_closed[SIM7600_SSL_SESSIONS]; /* push mode: said once the data is out */
    int ssl_context[SIM7600_SSL_SESSIONS];
    int ssl_authmode[10]; /* AT+CSSLCFG="authmode",ctx,mode */
    int ssl_version[10];
    /* AT+CSSLCFG="cacert" / "clientcert" / "clientkey",ctx,"name": names in the store */
    char ssl_ca[10][MODEM_CERTIFICATE_NAME];
    char ssl_certificate[10][MODEM_CERTIFICATE_NAME];
    char ssl_key[10][MODEM_CERTIFICATE_NAME];
    int sending_link; /* link a '>' prompt belongs to */
    bool sending_ssl;
} sim7600_state;

typedef enum cip_ip_state {
    CIP_IP_INITIAL = 0,
    CIP_IP_START,
    CIP_IP_CONFIG,
    CIP_IP_GPRSACT,
    CIP_IP_STATUS,
    CIP_PDP_DEACT
} cip_ip_state;

typedef struct cip_state {
    bool multi; /* AT+CIPMUX=1 */
    cip_ip_state ip_state;
    bool ip_shown; /* AT+CIFSR was issued: IP STATUS */
    char apn[64];
    int receive_mode; /* AT+CIPRXGET: 0 push, 1 manual */
    bool quick_send;  /* AT+CIPQSEND=1: DATA ACCEPT instead of SEND OK */
    bool header;      /* AT+CIPHEAD=1 */
    bool ssl;         /* AT+CIPSSL=1 (SIM800, single connection) */
    modem_link *links[CIP_LINKS];
    bool notified[CIP_LINKS];
    bool connect_reported[CIP_LINKS];
    int sending_link;
} cip_state;

typedef struct ca_state {
    bool pdp_active[4];
    int current_cid; /* AT+CACID */
    modem_link *links[CA_LINKS];
    bool notified[CA_LINKS];
    bool ssl[CA_LINKS]; /* AT+CASSLCFG=cid,"SSL",1 */
    int receive_mode[CA_LINKS];
    int sending_link;
    int opening;     /* cid whose AT+CAOPEN waits for the connection, -1 none */
    int ssl_version; /* AT+CSSLCFG="sslversion": 3 TLS 1.2, 4 all */
    /* AT+CASSLCFG=cid,"CACERT" / "CERT","name" (any case) */
    char ssl_ca[CA_LINKS][MODEM_CERTIFICATE_NAME];
    char ssl_certificate[CA_LINKS][MODEM_CERTIFICATE_NAME];
} ca_state;

typedef enum http_phase {
    HTTP_IDLE = 0,
    HTTP_REQUESTING, /* connecting and sending */
    HTTP_RECEIVING,  /* reading the response */
    HTTP_DONE
} http_phase;

typedef struct http_state {
    bool initialized;
    http_phase phase;
    int method; /* AT+HTTPACTION: 0 GET, 1 POST, 2 HEAD, 3 DELETE */
    char url[512];
    char user_data[512];
    char content_type[96];
    char accept[96];
    int receive_timeout_s;
    int ssl_context;
    modem_link *link;
    uint64_t deadline_us;
    /* request being sent */
    uint8_t *request;
    size_t request_length, request_sent;
    uint8_t *post_data;
    size_t post_length;
    /* response parsing */
    char head[4096];
    size_t head_length;
    bool head_done;
    bool chunked;
    int64_t content_length; /* -1: until close */
    size_t chunk_remaining;
    int chunk_phase; /* chunked decoder: 0 size line, 1 data, 2 CRLF after data, 3 trailer */
    char chunk_line[32];
    size_t chunk_line_length;
    int status;
    uint8_t *body;
    size_t body_length, body_capacity;
    uint64_t read_offset;   /* AT+HTTPREAD=<size> reads on from here */
    bool read_file_pending; /* AT+HTTPREADFILE waits for the action to end */
    char read_file_name[128];
} http_state;

/* ---- certificates the device wrote into the modem (non-volatile: they survive resets) ---- */

struct modem_certificate {
    char name[MODEM_CERTIFICATE_NAME]; /* "" : a free entry */
    uint8_t *data;
    size_t size;
    char key_name[MODEM_CERTIFICATE_NAME]; /* CA dialect: the key AT+CSSLCFG="convert",1 paired */
    bool converted;                        /* CA dialect: AT+CSSLCFG="convert" accepted it */
};

typedef struct certificate_store {
    modem_certificate entries[MODEM_CERTIFICATES];
    char writing[MODEM_CERTIFICATE_NAME]; /* the file AT+CCERTDOWN / AT+CFSWFILE is taking */
    bool fs_open;                         /* CA dialect: AT+CFSINIT ... AT+CFSTERM */
    uint8_t *incoming; /* the bytes of that write so far (kept apart until whole) */
    size_t incoming_size, incoming_expected;
} certificate_store;

/* The entry named `name` (NULL: none). */
const modem_certificate *certificate_find(const modem_emulator *emulator, const char *name);
/* Frees every entry (the emulator's end). */
void certificates_free(modem_emulator *emulator);
/* Data-input sink that stores the payload as certificate `store.writing`, then OK or ERROR. */
void certificate_begin_write(modem_emulator *emulator, const char *name, size_t length,
                             bool prompt);

typedef struct fs_file {
    struct fs_file *next;
    char name[128];
    uint8_t *data;
    size_t size, capacity;
} fs_file;

typedef struct fs_state {
    const char *directory; /* NULL: in memory */
    fs_file *files;        /* in memory */
    uint64_t capacity;
    /* the file AT+CFTRANRX is writing */
    char writing[128];
    uint64_t write_offset;
    bool write_failed;
} fs_state;

/* ---- timers ---------------------------------------------------------------------------------- */

typedef void (*event_function)(modem_emulator *emulator, int argument, const char *text);

typedef struct scheduled_event {
    uint64_t at_us;
    uint64_t sequence; /* keeps same-time events in scheduling order */
    event_function fire;
    int argument;
    char text[72];
} scheduled_event;

/* ---- the emulator ---------------------------------------------------------------------------- */

typedef enum power_state { POWER_OFF = 0, POWER_BOOTING, POWER_ON } power_state;

typedef struct data_sink {
    size_t expected; /* fixed length; 0 with ctrl_z */
    size_t received;
    bool ctrl_z;  /* ends at 0x1A; 0x1B cancels */
    size_t limit; /* most bytes accepted in ctrl_z mode */
    /* streaming consumer (optional); without it the payload is collected for on_end */
    void (*on_data)(modem_emulator *emulator, const uint8_t *data, size_t length);
    void (*on_end)(modem_emulator *emulator, const uint8_t *payload, size_t length, bool cancelled);
    uint64_t deadline_us; /* 0: none; on expiry the input ends as received so far */
} data_sink;

struct modem_emulator {
    modem_model model;
    const model_profile *profile;
    modem_emulator_options options;
    char *fs_dir_copy, *ca_file_copy;
    uint64_t now_us;
    uint64_t created_us;
    uint64_t random_state;

    /* power and boot */
    power_state power;
    uint64_t power_key_pressed_us; /* 0: released */
    bool power_key_acted;
    uint64_t boot_started_us;
    uint32_t generation; /* bumped at every boot: stale timers check it */

    /* UART line */
    uint32_t baud;
    bool parity;
    bool flow_control;
    uint32_t pending_baud;    /* AT+IPR: applies once the OK has left */
    int pending_parity;       /* -1 none, else the AT+ICF parity setting */
    uint64_t pending_line_at; /* output stream position after which they apply */
    byte_ring device_tx;      /* written by the device, not yet on the line */
    uint64_t in_epoch_us;     /* device -> modem line: start of the current burst */
    uint64_t in_epoch_bytes;
    byte_ring modem_rx;                      /* the modem's UART receive buffer */
    byte_ring out;                           /* the modem's output queue */
    uint64_t safe_points[MODEM_SAFE_POINTS]; /* stream positions where a URC may go */
    int safe_point_count;
    uint64_t urc_floor;    /* end of the last URC: the next one goes after it */
    uint64_t final_end;    /* end of the last final result code (OK, ERROR, …) */
    uint64_t line_end;     /* where the last information line ended: a line written
                              right there continues the list without a blank line */
    uint64_t out_epoch_us; /* modem -> device line: start of the current burst */
    uint64_t out_epoch_bytes;
    bool out_idle;
    byte_ring device_rx;                   /* the device UART's receive buffer */
    uint64_t flagged[MODEM_FLAGGED_LIMIT]; /* stream positions of flagged bytes in device_rx */
    size_t flagged_head, flagged_count;
    uint32_t device_errors;
    byte_ring held_urcs; /* URCs waiting while a '>' prompt takes data */

    /* command input */
    enum { INPUT_COMMAND = 0, INPUT_DATA } input_mode;
    int command_phase; /* 0 wait 'A', 1 after 'A', 2 collecting */
    char line[MODEM_LINE_MAX + 1];
    size_t line_length;
    bool line_overflow;
    char last_line[MODEM_LINE_MAX + 1];
    size_t last_line_length;
    data_sink sink;
    uint8_t payload[MODEM_PAYLOAD_MAX];
    bool busy;                                  /* a command runs; input waits in modem_rx */
    bool (*producer)(modem_emulator *emulator); /* writes a long reply piece by piece */

    /* settings the device can change */
    bool echo;
    bool verbose;
    bool quiet;
    int cmee;
    int creg_mode, cgreg_mode, cereg_mode;
    int cfun;
    bool attached;
    int network_mode; /* AT+CNMP */
    int cat_mode;     /* AT+CMNB */
    char bands_catm[96], bands_nb[96];
    char apn[64]; /* AT+CGDCONT cid 1 */
    char pdp_type[16];

    /* SIM and network */
    bool sim_ready;
    int registration;       /* 0 idle, 1 home, 2 searching, 5 roaming */
    bool registration_lost; /* inside the injected loss window */
    int loss_phase;         /* 0 pending (or none), 1 inside the window, 2 over */
    uint64_t loss_start_us, loss_end_us;
    uint64_t bytes_since_boot; /* network bytes, for reset_after_bytes */

    /* timers */
    scheduled_event *events;
    size_t event_count, event_capacity;
    uint64_t event_sequence;

    /* network */
    modem_link *links[MODEM_LINKS_LIMIT];
    int link_count;
    uint32_t downlink_bps, uplink_bps;
    uint32_t one_way_us;

    sim7600_state sim7600;
    cip_state cip;
    ca_state ca;
    http_state http;
    fs_state fs;
    certificate_store certificates;
    uint64_t producer_offset, producer_remaining;
    char producer_name[140];
    bool producer_header_done;

    modem_emulator_stats stats;
};

/* ---- shared helpers (emulator.c) --------------------------------------------------------------
 */

uint64_t emulator_random(modem_emulator *emulator);
bool emulator_chance(modem_emulator *emulator, double probability);
void emulator_note(modem_emulator *emulator, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Output. Lines are framed "\r\n<text>\r\n" (ATV1) and leave an insertion point behind. */
void out_raw(modem_emulator *emulator, const void *data, size_t length);
void out_text(modem_emulator *emulator, const char *text);
void out_line(modem_emulator *emulator, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void out_safe_point(modem_emulator *emulator);
/* The next out_line starts a new block (a blank line) even right after another line. */
void out_line_break(modem_emulator *emulator);
void out_ok(modem_emulator *emulator);
void out_error(modem_emulator *emulator);
void out_cme(modem_emulator *emulator, int code);
/* A URC goes in at the earliest insertion point that has not left yet. */
void out_urc(modem_emulator *emulator, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void out_urc_bytes(modem_emulator *emulator, const void *data, size_t length);
/* A URC that a command caused (+NETOPEN: 0, +CIPOPEN: 0,0): never before that command's final
 * result, which has been written by the time it fires. */
void out_urc_after_reply(modem_emulator *emulator, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
size_t out_pending(const modem_emulator *emulator);
/* The payload prompt; input switches to data until the sink is satisfied. */
void begin_data_input(modem_emulator *emulator, const data_sink *sink, bool prompt);
/* A busy command finishes: input processing resumes. */
void command_finished(modem_emulator *emulator);
/* Switch the line after the final result has been sent (AT+IPR, AT+ICF). */
void schedule_line_change(modem_emulator *emulator, uint32_t baud, int parity);

void schedule(modem_emulator *emulator, uint32_t delay_ms, event_function fire, int argument,
              const char *text);
void schedule_us(modem_emulator *emulator, uint64_t delay_us, event_function fire, int argument,
                 const char *text);
/* Fires: writes `text` as a URC if the modem has not rebooted since (argument = generation). */
void event_urc(modem_emulator *emulator, int argument, const char *text);

void emulator_reboot(modem_emulator *emulator, bool announce);
void emulator_power_off(modem_emulator *emulator, bool announce);
bool network_ready(const modem_emulator *emulator); /* registered and radio on */
int registration_stat(const modem_emulator *emulator);
void registration_changed(modem_emulator *emulator);

/* Registration lost or radio off: every dialect drops its data context. */
void dialects_network_lost(modem_emulator *emulator);
void dialects_reset(modem_emulator *emulator);
void dialect_link_event(modem_emulator *emulator, modem_link *link, unsigned events);
/* Frees every link and dialect resource (reboot, destroy). */
void links_close_all(modem_emulator *emulator);

void sim7600_link_event(modem_emulator *emulator, modem_link *link, unsigned events);
/* Push mode: more of what the sessions hold, as far as the output queue has room. */
void sim7600_push_pending(modem_emulator *emulator);
void sim7600_network_lost(modem_emulator *emulator);
void sim7600_reset(modem_emulator *emulator);
void cip_link_event(modem_emulator *emulator, modem_link *link, unsigned events);
void cip_network_lost(modem_emulator *emulator);
void cip_reset(modem_emulator *emulator);
void ca_link_event(modem_emulator *emulator, modem_link *link, unsigned events);
void ca_network_lost(modem_emulator *emulator);
void ca_reset(modem_emulator *emulator);
void http_link_event(modem_emulator *emulator, modem_link *link, unsigned events);
void http_network_lost(modem_emulator *emulator);
void http_reset(modem_emulator *emulator);
void http_poll(modem_emulator *emulator);

int fs_init(modem_emulator *emulator);
void fs_free(modem_emulator *emulator);
/* For HTTPREADFILE: replaces the file with `data`. 0 or a CME code. */
int fs_write_file(modem_emulator *emulator, const char *path, const uint8_t *data, size_t length);

/* Data as upper-case hex digits (the hex read modes). */
void out_hex(modem_emulator *emulator, const uint8_t *data, size_t length);
/* Whether a "data arrived" notice is due: the first arrival since the device last read, and,
 * where the model repeats itself (`repeats`), now and then another one (the quirk rate). */
bool data_notice_due(modem_emulator *emulator, bool *notified, bool repeats);

/* A read reply's header line; `quirk_urc` (may be NULL) goes out right after it, between the
 * header and its data, the way real modems sometimes place a URC. */
void out_read_header(modem_emulator *emulator, const char *quirk_urc, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
