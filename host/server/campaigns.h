/*
 * The campaign engine: a campaign's and each target's states, moved by events.
 *
 *   campaign: running <-> paused; running -> halted (failures in a stage above
 *             halt_failure_percent, or a stage finished below success_percent) -> running
 *             (resume: the failures so far are accepted); running|paused|halted -> aborted;
 *             running -> completed (the last stage finished at its success share).
 *   target:   pending -> notified -> downloading -> installing -> confirmed | failed
 *             (pending -> skipped at creation: already on the release or newer).
 *
 * Events: a device's status (campaign_status), its online message (campaign_online), its poll
 * (campaign_poll), the broker's acknowledgement of a request (campaign_published), the
 * operator (campaign_command) and the clock (campaign_tick: stages, timeouts, the rate-limited
 * publishing of due targets, lease renewal). Each event's writes are one storage transaction
 * (a batch of statuses and acknowledgements shares one). A status moves a target forward only,
 * so a status delivered twice counts once.
 */
#ifndef CELLOTA_SERVER_CAMPAIGNS_H
#define CELLOTA_SERVER_CAMPAIGNS_H

#include "server.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Retries wait RETRY_BASE_S << attempt, at most RETRY_MAX_S. */
#define CAMPAIGN_RETRY_BASE_S 5
#define CAMPAIGN_RETRY_MAX_S 600
/*
 * A target claimed for publishing is not claimed again (here or by another server) while its
 * lease lasts. The claiming server renews the lease while the request is in flight (handed to
 * the broker, its PUBACK not yet recorded), for at most CAMPAIGN_IN_FLIGHT_MAX_S; a server that
 * dies stops renewing, so its claims end within a lease and another server takes them.
 * The environment's CELLOTA_LEASE_S (1 to 600) sets another lease, for tests.
 */
#define CAMPAIGN_LEASE_S 10
#define CAMPAIGN_IN_FLIGHT_MAX_S 300
/* Servers on one database mark themselves alive every second; one not seen for this long is
 * gone, and the others share its devices' messages. */
#define CAMPAIGN_SERVER_GONE_S 10

typedef struct campaign_spec {
    const char *release, *name;
    const char *tag; /* NULL: not by tag */
    char **devices;  /* NULL: every device (or the tag's) */
    size_t device_count;
    int stages[STORAGE_STAGES_MAX];
    size_t stage_count;
    int success_percent, halt_failure_percent, rate_per_minute, retries;
    int64_t timeout_s;
} campaign_spec;

/* Hands a request to the broker: true when it is in flight (its PUBACK is reported with
 * campaign_published, through campaign_record_batch), false when it could not be sent. */
typedef bool (*campaign_publisher)(void *context, int64_t campaign, const char *device,
                                   const char *request);
/* Asks for every device's retained status again (servers joined or left: the devices this
 * server records changed). */
typedef void (*campaign_resync)(void *context);

int campaign_engine_open(server *self);
void campaign_engine_close(server *self);
/* Where requests go (the MQTT link); without one nothing is published. */
void campaign_set_publisher(server *self, campaign_publisher publish, campaign_resync resync,
                            void *context);
/*
 * Whether this server records the device's messages. Every server subscribes to every device;
 * the live servers (storage_server_ids) share the devices by a hash of the id, so each message
 * is recorded by one server, in the order the broker delivered it. One server records all.
 */
bool campaign_records_device(server *self, const char *device);

/* 0 and *id, or -1 with *error (404 UNKNOWN_RELEASE, 400 BAD_CAMPAIGN, 409 DEVICE_BUSY). */
int campaign_create(server *self, const campaign_spec *spec, int64_t *id, api_error *error);
/* "pause", "resume", "abort": 0, or -1 with *error (404, 409 BAD_STATE). */
int campaign_command(server *self, int64_t id, const char *command, api_error *error);

void campaign_status(server *self, const char *device, const device_status *status,
                     const char *raw);

typedef enum campaign_event_kind {
    CAMPAIGN_EVENT_STATUS,    /* cellota/<id>/status */
    CAMPAIGN_EVENT_ONLINE,    /* cellota/<id>/online */
    CAMPAIGN_EVENT_PUBLISHED, /* the broker acknowledged the request sent to the device */
} campaign_event_kind;

/* One message from a device or the broker, for campaign_record_batch. */
typedef struct campaign_event {
    campaign_event_kind kind;
    char device[STORAGE_ID_SIZE];
    bool online;          /* ONLINE: "online" (else "offline") */
    bool retained;        /* ONLINE: a retained message sent again by a resync */
    int64_t campaign;     /* PUBLISHED: the request's campaign */
    bool resend;          /* PUBLISHED: set when recorded: the device connected meanwhile */
    device_status status; /* STATUS */
    char *raw;            /* STATUS: the message as received (malloc'd; the caller frees it) */
} campaign_event;

/*
 * Records events in their order, consecutive statuses and acknowledgements in one transaction
 * (one commit for many: SQLite's fsync per commit is what limits the rate of single ones). When
 * a batch fails, its events are recorded one by one, so one bad message loses no other.
 */
void campaign_record_batch(server *self, campaign_event *events, size_t count);
void campaign_online(server *self, const char *device, bool online);
/* The request for `campaign` reached `device` (broker acknowledgement, or a poll): counted, and
 * a pending target becomes notified. One transaction. */
void campaign_published(server *self, int64_t campaign, const char *device);
/*
 * A device polled. What its campaign offers it: true with the version (and, when `request` is
 * not NULL, the signed request, malloc'd; handing it out counts as notifying the device).
 * false when it has nothing to offer.
 */
bool campaign_poll(server *self, const char *device, char version[STORAGE_ID_SIZE], char **request);
/* The clock: advances stages, halts, times out silent devices, publishes due requests. */
void campaign_tick(server *self);

/* The campaign as the API shows it (counts, stage targets, failures, cost). */
cJSON *campaign_json(server *self, const campaign_record *campaign);
cJSON *target_json(const target_record *target);

#endif
