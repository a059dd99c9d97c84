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
 * publishing of due targets). Each event's writes are one storage transaction. A status moves
 * a target forward only, so a status delivered twice counts once.
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
/* A target claimed for publishing is not claimed again (here or by another server) before. */
#define CAMPAIGN_LEASE_S 10

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

typedef void (*campaign_publisher)(void *context, int64_t campaign, const char *device,
                                   const char *request);

int campaign_engine_open(server *self);
void campaign_engine_close(server *self);
/* Where requests go (the MQTT link); without one nothing is published. */
void campaign_set_publisher(server *self, campaign_publisher publish, void *context);

/* 0 and *id, or -1 with *error (404 UNKNOWN_RELEASE, 400 BAD_CAMPAIGN, 409 DEVICE_BUSY). */
int campaign_create(server *self, const campaign_spec *spec, int64_t *id, api_error *error);
/* "pause", "resume", "abort": 0, or -1 with *error (404, 409 BAD_STATE). */
int campaign_command(server *self, int64_t id, const char *command, api_error *error);

void campaign_status(server *self, const char *device, const device_status *status,
                     const char *raw);
void campaign_online(server *self, const char *device, bool online);
/* The broker acknowledged the request sent to `device` for `campaign`. */
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
