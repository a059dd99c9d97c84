/*
 * The update agent: the state machine that ties libcellota together on a device. It learns of an
 * update (polling GET <server>/version then /ota.json, or an MQTT request on
 * cellota/<id>/update), checks it (signature, version, anti-rollback, fit), downloads the image
 * with HTTP Range through the image pipeline, stages it (A/B: into the inactive slot; modem:
 * into the modem's file system), reboots into it through the bootloader, runs the application's
 * self-test and confirms it or rolls back, and reports every step on cellota/<id>/status.
 *
 *   STARTING -> (on trial) TESTING -> confirm, or roll back and reboot
 *            -> IDLE <-> CHECKING -> DOWNLOADING <-> WAITING (back-off) -> VERIFYING
 *                                 -> STAGING -> REBOOTING -> (the bootloader) -> STARTING
 *
 * Like every libcellota module: no heap, no globals, never waits. The application calls
 * cellota_agent_poll often with the port's time; the caller owns every buffer.
 *
 * Resuming. The download survives every fault it can meet:
 *   - a closed socket, a modem reset, a registration loss, damaged UART bytes: the socket fails,
 *     the agent backs off and asks for the rest with Range from the byte the pipeline reached
 *     (nothing valid is fetched twice);
 *   - a reset or power cut: the pipeline's checkpoint, saved at every erase page (A/B: in the
 *     install journal through the boot module; modem-staged: in the port's key-value store at
 *     every staging buffer written to the modem), lets the next start go on from there, so at
 *     most one erase page (one staging buffer) is fetched again. The job (URLs, version) is in the
 * key-value store. A download that fails without progress `retries` times in a row ends the job
 * with an error (reported); a later check or request for the same image resumes it.
 *
 * Polling names the device: GET <server>/version?device=<id>, then /ota.json?device=<id> (a
 * cellota server answers for the device's campaign; a plain host ignores the query).
 *
 * Status message (JSON, QoS 1, on cellota/<id>/status), see docs/agent.md:
 *   {"state":"downloading","version":"1.0.0","target":"1.1.0","progress":42,"offset":28672,
 *    "size":67520,"downloaded":28672,"redownloaded":0,"error":0,"error_name":"OK",
 *    "message":"success","model":"sim7600","campaign":"c7",
 *    "image":"67512:<sha256 of the running image>","decodes":true}
 * "image" and "decodes" let a server send the smallest update this device can apply (a patch
 * only from the very image it runs, an encoded image only when it decodes).
 * The last will on cellota/<id>/online is "offline" (retained); "online" is published on
 * connect.
 */
#ifndef CELLOTA_AGENT_AGENT_H
#define CELLOTA_AGENT_AGENT_H

#include "agent/records.h"
#include "boot/control.h"
#include "boot/layout.h"
#include "core/port.h"
#include "core/socket.h"
#include "image/pipeline.h"
#include "image/request.h"
#include "net/http.h"
#include "net/mqtt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_AGENT_ID_MAX 32      /* device id characters */
#define CELLOTA_AGENT_VERSION_MAX 63 /* a semantic version's characters */
#define CELLOTA_AGENT_TOPIC_SIZE (CELLOTA_AGENT_ID_MAX + 16)

/* Defaults for a cellular device. */
#define CELLOTA_AGENT_RETRIES 8u
#define CELLOTA_AGENT_RETRY_MIN_MS 2000u
#define CELLOTA_AGENT_RETRY_MAX_MS 120000u
#define CELLOTA_AGENT_MQTT_KEEPALIVE_S 60u
#define CELLOTA_AGENT_RESUME_DELAY_MS 200u  /* retry after a fault that followed progress */
#define CELLOTA_AGENT_REBOOT_GRACE_MS 5000u /* longest wait for the last status to be acked */

typedef enum cellota_agent_strategy {
    CELLOTA_AGENT_STAGE_AB = 0,   /* decrypt into the inactive slot (seed 000, ESP32) */
    CELLOTA_AGENT_STAGE_MODEM = 1 /* ciphertext into the modem's file system (seed 002) */
} cellota_agent_strategy;

/* What the status message says the device is doing (its "state"). */
typedef enum cellota_agent_state {
    CELLOTA_AGENT_STARTING = 0, /* reading the install state after boot */
    CELLOTA_AGENT_TESTING,      /* the new image runs on trial: self-test under way */
    CELLOTA_AGENT_IDLE,         /* nothing to do; see the outcome states below */
    CELLOTA_AGENT_CHECKING,     /* asking the server for the newest version / the request */
    CELLOTA_AGENT_DOWNLOADING,
    CELLOTA_AGENT_WAITING, /* backing off before the next attempt */
    CELLOTA_AGENT_VERIFYING,
    CELLOTA_AGENT_STAGING,
    CELLOTA_AGENT_REBOOTING,
    /* idle, with the outcome of the last job or check */
    CELLOTA_AGENT_UP_TO_DATE,
    CELLOTA_AGENT_CONFIRMED,   /* the new version runs and confirmed itself */
    CELLOTA_AGENT_ROLLED_BACK, /* the new version failed on trial; the previous one runs */
    CELLOTA_AGENT_FAILED       /* the job ended with `error` */
} cellota_agent_state;

/* The modem's file system, for the modem-staged strategy (the at module's SIM7600 file system
 * backs it). Polled like a socket: a call that cannot finish now returns CELLOTA_IN_PROGRESS and
 * is made again with the same arguments until it returns CELLOTA_OK or an error. */
typedef struct cellota_agent_files {
    void *context;
    /* Writes `length` bytes at `offset` of file `name`. `offset` is always a multiple of the
     * staging buffer's size and `length` at most that size: the agent writes the image in
     * whole pieces of it (the last may be shorter). A write at `offset` replaces whatever lay at
     * or after it (a resumed download rewrites the pieces after its checkpoint); a write at 0
     * starts the file afresh. */
    int (*write)(void *context, const char *name, uint32_t offset, const uint8_t *data,
                 size_t length);
} cellota_agent_files;

/* Buffers the caller owns (sizes for a microcontroller in brackets). */
typedef struct cellota_agent_buffers {
    char *http; /* HTTP lines and receive batches [1024; 1460 fills a TCP segment] */
    size_t http_size;
    char *url; /* the HTTP target [CELLOTA_REQUEST_URL_MAX + 1] */
    size_t url_size;
    uint8_t *mqtt_receive; /* one incoming MQTT packet: the largest request + topic [1024] */
    size_t mqtt_receive_size;
    uint8_t *mqtt_send; /* outgoing MQTT packets until acknowledged [768] */
    size_t mqtt_send_size;
    char *request; /* an update request's JSON while it is checked [1024] */
    size_t request_size;
    char *status; /* a status message while it is composed [512] */
    size_t status_size;
    uint8_t *staging; /* modem strategy: ciphertext on its way to the modem's file, written
                         whole; a multiple of 1024, >= http_size [4096]; unused for A/B */
    size_t staging_size;
} cellota_agent_buffers;

/* Buffer sizes that suit a cellular device; override any at build time. */
#ifndef CELLOTA_AGENT_HTTP_SIZE
#define CELLOTA_AGENT_HTTP_SIZE 1460 /* one TCP segment per receive */
#endif
#ifndef CELLOTA_AGENT_REQUEST_SIZE
#define CELLOTA_AGENT_REQUEST_SIZE 1024 /* a signed request is about 700 bytes */
#endif
#ifndef CELLOTA_AGENT_STATUS_SIZE
#define CELLOTA_AGENT_STATUS_SIZE 640
#endif
#ifndef CELLOTA_AGENT_MQTT_SEND_SIZE
#define CELLOTA_AGENT_MQTT_SEND_SIZE 1024
#endif
#ifndef CELLOTA_AGENT_STAGING_SIZE
#define CELLOTA_AGENT_STAGING_SIZE 4096
#endif

/* Every buffer at those sizes in one struct, for a caller that does not need to share them. */
typedef struct cellota_agent_memory {
    char http[CELLOTA_AGENT_HTTP_SIZE];
    char url[CELLOTA_REQUEST_URL_MAX + 1];
    char request[CELLOTA_AGENT_REQUEST_SIZE];
    char status[CELLOTA_AGENT_STATUS_SIZE];
    uint8_t mqtt_receive[CELLOTA_AGENT_REQUEST_SIZE + 128]; /* a request and its topic */
    uint8_t mqtt_send[CELLOTA_AGENT_MQTT_SEND_SIZE];
    uint8_t staging[CELLOTA_AGENT_STAGING_SIZE];
} cellota_agent_memory;

/* Points every buffer of `buffers` into `memory` (which must outlive the agent). */
void cellota_agent_use_memory(cellota_agent_buffers *buffers, cellota_agent_memory *memory);

typedef struct cellota_agent_report {
    cellota_agent_state state;
    const char *version;   /* running semver */
    const char *target;    /* the version being installed ("" when none) */
    uint32_t offset;       /* ciphertext bytes in hand */
    uint32_t size;         /* encrypted_size of the target (0 when none) */
    uint32_t downloaded;   /* image bytes received for this job */
    uint32_t redownloaded; /* of which bytes already received once (resumes) */
    int error;             /* of the last failure in this job (CELLOTA_OK when none) */
    const char *model;     /* the configuration's model; NULL: not in the status message */
} cellota_agent_report;

typedef enum cellota_agent_event_type {
    CELLOTA_AGENT_EVENT_STATE,    /* report.state changed */
    CELLOTA_AGENT_EVENT_PROGRESS, /* image bytes arrived (offset moved) */
    CELLOTA_AGENT_EVENT_RESUMED,  /* a download continues at report.offset */
    CELLOTA_AGENT_EVENT_RETRY,    /* attempt failed with `result`; next one in delay_ms */
    CELLOTA_AGENT_EVENT_CHECKED   /* a check or request is settled: `result` is CELLOTA_OK when
                                     the device runs the newest version, confirmed; otherwise
                                     why not. A check that finds an update ends only when the
                                     update fails, or after it reboots. */
} cellota_agent_event_type;

typedef struct cellota_agent_event {
    cellota_agent_event_type type;
    int result;
    uint32_t delay_ms;
    const cellota_agent_report *report;
} cellota_agent_event;

typedef struct cellota_agent_config {
    const cellota_port *port;
    const cellota_boot_layout *layout;
    cellota_agent_strategy strategy;
    const char *device_id;     /* letters, digits, - _ . ; at most CELLOTA_AGENT_ID_MAX */
    const char *model;         /* the modem for the status ("sim7600"); as an id; NULL: none */
    const char *server;        /* "http://host[:port][/prefix]" for polling; NULL: none */
    uint32_t poll_interval_ms; /* between checks; 0: only at start and when asked */
    const char *mqtt_host;     /* NULL: no MQTT */
    uint16_t mqtt_port;
    bool mqtt_tls;                     /* MQTT over the modem's TLS (its CA and client certificate:
                                          cellota_modem_config, at/credentials.h) */
    uint16_t mqtt_keepalive_s;         /* 0: CELLOTA_AGENT_MQTT_KEEPALIVE_S */
    const uint8_t *public_key;         /* CELLOTA_PUBLIC_KEY_SIZE bytes; NULL: none held */
    /* Seed 002's trust-the-channel mode: install unsigned requests (a signed one is still
     * checked when a key is held). Off by default: without public_key and without this,
     * cellota_agent_init refuses with CELLOTA_AGENT_NO_PUBLIC_KEY. */
    bool accept_unsigned;
    /* Per-device key wrapping (image/key_wrap.h): the device's private P-256 scalar
     * (CELLOTA_DEVICE_KEY_SIZE bytes; NULL: none) to unwrap a request's wrapped_key with, and
     * whether a request with its image key in the clear is refused */
    const uint8_t *device_key;
    bool require_wrapped_key;
    const char *factory_version;       /* semver of an image the agent never installed; "0.0.0" */
    const cellota_socket *http_socket; /* two sockets of the modem (at module) */
    const cellota_socket *mqtt_socket; /* NULL when there is no MQTT */
    /* Advances the modem driver (cellota_modem_poll); NULL when the sockets need nothing. */
    void (*network_poll)(void *context, uint32_t now_ms);
    void *network_context;
    const cellota_agent_files *files; /* modem strategy only */
    /* Memory for decoding (image/pipeline.h, about 5 KiB): with it the agent installs
     * compressed images and patches (A/B only); NULL: plain images only, and an encoded
     * request is refused with CELLOTA_IMAGE_ENCODING_UNSUPPORTED. */
    cellota_pipeline_decoder *decoder;
    /* The application's self-test of a new image on trial: CELLOTA_IN_PROGRESS (asked again),
     * CELLOTA_OK (confirm) or an error (roll back). NULL: the image is confirmed at once. */
    int (*self_test)(void *context, uint32_t now_ms);
    void (*on_event)(void *context, const cellota_agent_event *event); /* NULL: none */
    void *context;
    uint8_t retries;       /* failed attempts without progress before giving up; 0: default */
    uint32_t retry_min_ms; /* first back-off; doubles per failure up to retry_max_ms */
    uint32_t retry_max_ms;
    cellota_agent_buffers buffers;
} cellota_agent_config;

/* Everything is inside; do not move an agent after init. Fields are private. */
typedef struct cellota_agent {
    /* Bytes first, then words, then the large parts: Thumb reaches a byte field in the first 32
     * bytes, or a word in the first 128, with a 2-byte instruction instead of a 4-byte one. */
    uint8_t step, resume_step, http_step, stop_step, url_index, urls_present, urls_failed;
    uint8_t failures, retries;
    uint8_t announce; /* after a CONNACK: ANNOUNCE_SUBSCRIBE, then ANNOUNCE_ONLINE, then none */
    bool accept_unsigned;
    bool pipeline_ready, check_wanted, request_pending, request_too_large, rejected_now;
    /* one byte for five flags: the agent's RAM budget (make size) is within a few bytes */
    bool status_dirty : 1, status_urgent : 1, mqtt_connected : 1, mqtt_running : 1, progressed : 1;
    const cellota_agent_config *config; /* the caller's, kept as given */
    uint32_t retry_min_ms, retry_max_ms;
    uint32_t now, timer, check_at, status_sent_at;
    uint32_t reached, skip, saved_offset, failed_at; /* download: bytes of the image */
    uint32_t staged_offset, staging_length;          /* modem strategy: the file so far */
    uint32_t random_state;
    int staging_error, result;
    size_t answer_length, request_length;
    cellota_agent_report report;
    cellota_agent_job job;
    cellota_fw_info info; /* the job's image */
    char running_version[CELLOTA_AGENT_VERSION_MAX + 1];
    char online_topic[CELLOTA_AGENT_TOPIC_SIZE];
    char answer[CELLOTA_AGENT_VERSION_MAX + 2]; /* body of GET /version */
    cellota_mqtt_will will;
    cellota_socket throttle; /* what the HTTP client reads through in the modem strategy */
    cellota_boot_control control;
    cellota_pipeline pipeline;
    cellota_http_client http;
    cellota_mqtt_client mqtt;
} cellota_agent;

/*
 * Prepares an agent. `config` and everything it points to must outlive the agent (it is not
 * copied). Checks the configuration: CELLOTA_INVALID_ARGUMENT (no port, layout,
 * http_socket or buffers below their minimums, a model that is not like a device id),
 * CELLOTA_AGENT_BAD_DEVICE_ID,
 * CELLOTA_AGENT_NOT_CONFIGURED (neither server nor MQTT), CELLOTA_AGENT_NO_PUBLIC_KEY (no
 * public_key and accept_unsigned off), CELLOTA_AGENT_NO_MODEM_FILES (modem
 * strategy without files), CELLOTA_IMAGE_SEMVER_INVALID (factory_version). Touches nothing.
 */
int cellota_agent_init(cellota_agent *agent, const cellota_agent_config *config);

/*
 * Does the agent's work; never waits. Call it often (every few milliseconds while downloading).
 * Returns CELLOTA_IN_PROGRESS while it runs; CELLOTA_OK once cellota_agent_stop has finished;
 * or a fatal error after which it does nothing: CELLOTA_BOOT_NOT_PROVISIONED, a flash or journal
 * error. When it asks the port to reboot and the port's reboot returns (a simulator), it stops
 * and returns CELLOTA_OK.
 */
int cellota_agent_poll(cellota_agent *agent, uint32_t now_ms);

/* Asks for a check of the server now (when idle; otherwise after the current job). */
void cellota_agent_check(cellota_agent *agent);

/* Hands an update request to the agent as if it came over MQTT (e.g. from a local console).
 * CELLOTA_OK when it is accepted for checking, CELLOTA_AGENT_BUSY during a job,
 * CELLOTA_AGENT_REQUEST_TOO_LARGE. The checks' outcome is reported like any request's. */
int cellota_agent_submit(cellota_agent *agent, const char *json, size_t length);

/* Ends cleanly: publishes "offline" on the online topic, disconnects MQTT, closes HTTP; an
 * install under way stays resumable. Poll until it returns CELLOTA_OK. */
void cellota_agent_stop(cellota_agent *agent);

/* The current report (valid until the next poll). */
const cellota_agent_report *cellota_agent_report_now(const cellota_agent *agent);

/* What the status says of the running image, for a server choosing the smallest update. Made
 * when a status is written, never kept in the agent (its RAM budget). */
typedef struct cellota_agent_running {
    uint32_t size;         /* plain bytes of the running image (0: unknown, "image" left out) */
    const uint8_t *sha256; /* its SHA-256, as the boot journal holds it */
    bool decodes;          /* it installs compressed images and patches (A/B with a decoder) */
} cellota_agent_running;

/* The status message for `report`, as published (NUL-terminated); `running` NULL leaves out
 * "image" and "decodes". CELLOTA_OK or CELLOTA_BUFFER_TOO_SMALL. Public so tools and tests can
 * check the format. */
int cellota_agent_status_json(const cellota_agent_report *report, const char *campaign,
                              const cellota_agent_running *running, char *buffer, size_t size,
                              size_t *length);

/* The lower-case name of a state, as in the status message ("downloading"). */
const char *cellota_agent_state_name(cellota_agent_state state);

#endif
