/*
 * The server's state, in domain terms: releases, devices and their timelines, campaigns and
 * their targets (a device in a campaign). The campaign logic never sees a connection or SQL;
 * the SQL is written once in storage.c over the two drivers of db.h (SQLite, PostgreSQL).
 *
 * Every function is safe from any thread (one lock per storage). Functions return 0, or
 * STORAGE_NOT_FOUND / STORAGE_EXISTS / STORAGE_CONFLICT where they say so, or -1 after a
 * database error (storage_error says which). Several calls that must happen together run in
 * storage_transaction: a target's move and its campaign's counters are one UPDATE pair inside
 * one transaction, so a crash between them is impossible.
 *
 * Times are seconds since the epoch.
 */
#ifndef CELLOTA_SERVER_STORAGE_H
#define CELLOTA_SERVER_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORAGE_NOT_FOUND 1
#define STORAGE_EXISTS 2
#define STORAGE_CONFLICT 3

#define STORAGE_ID_SIZE 64    /* device ids, versions, names of states and errors */
#define STORAGE_TEXT_SIZE 512 /* messages, notes, tags, reasons */
#define STORAGE_STAGES_MAX 16

typedef struct storage storage;

/* A device's state in one campaign. The order is the order of progress: a status moves a
 * target forward only, so a status delivered twice, or late, changes nothing. */
typedef enum target_state {
    TARGET_PENDING = 0, /* its stage has not started, or it waits for the rate or a retry */
    TARGET_NOTIFIED,    /* its request was handed to the broker (or answered to its poll) */
    TARGET_DOWNLOADING,
    TARGET_INSTALLING, /* verifying, staging, rebooting, testing */
    TARGET_CONFIRMED,  /* reported confirmed on the campaign's version */
    TARGET_FAILED,     /* with a reason: the device's error name, ROLLED_BACK or SILENT */
    TARGET_SKIPPED,    /* already on the release or newer */
    TARGET_STATE_COUNT
} target_state;

const char *target_state_name(target_state state);
bool target_state_parse(const char *name, target_state *state);
bool target_state_final(target_state state);

typedef struct release_record {
    char version[STORAGE_ID_SIZE];
    char sha256[65], plain_sha256[65]; /* of the encrypted and of the plain image */
    uint64_t size, plain_size;
    uint32_t load_address, security_version;
    char notes[STORAGE_TEXT_SIZE];
    bool plain_download;
    int64_t created_at;
    int64_t retired_at; /* 0 while it may be offered; else its keys are destroyed */
    char *request; /* releases of schema v1 only: their request; "" since keys are sealed */
} release_record;

/* The release's encodings (docs/server.md, "Releases"): a release is stored as its full image,
 * compressed, and as patches from a few earlier releases, each image.ebin encrypted under its
 * own key. The key is kept only sealed (operator/seal.h, labelled with the variant's sha256),
 * and fw_info with its key zeroed. */
typedef enum variant_encoding {
    VARIANT_FULL = 0,
    VARIANT_COMPRESSED,
    VARIANT_DELTA,
    VARIANT_ENCODING_COUNT
} variant_encoding;

const char *variant_encoding_name(variant_encoding encoding); /* "full", "compressed", "delta" */
bool variant_encoding_parse(const char *name, variant_encoding *encoding);

typedef struct release_variant {
    char release[STORAGE_ID_SIZE];
    variant_encoding encoding;
    char base_version[STORAGE_ID_SIZE]; /* a delta's base release ("" otherwise) */
    uint32_t base_size;                 /* a delta's base: plain size and SHA-256 (hex) */
    char base_sha256[65];
    char sha256[65]; /* of its image.ebin, stored as images/<sha256>.ebin */
    uint64_t size;   /* bytes a device downloads */
    char fw_info[225];    /* hex, the key field zeroed */
    char sealed_key[89];  /* hex of the 44 sealed bytes; "" once the release is retired */
} release_variant;

typedef struct device_record {
    char id[STORAGE_ID_SIZE], model[STORAGE_ID_SIZE], version[STORAGE_ID_SIZE];
    char state[STORAGE_ID_SIZE], error_name[STORAGE_ID_SIZE];
    char message[STORAGE_TEXT_SIZE];
    char tags[STORAGE_TEXT_SIZE]; /* ",a,b," (",": none) */
    bool online;
    int64_t last_seen;
    int error, progress;
    int64_t campaign; /* its newest campaign, 0 when none */
    char campaign_state[STORAGE_ID_SIZE];
    /* What it reported of its running image ("SIZE:SHA256", "" unknown) and whether it decodes
     * compressed images and patches: what the smallest update is chosen by. */
    char image[80];
    bool decodes;
} device_record;

/* One status message as a device sent it (docs/agent.md). */
typedef struct device_status {
    char state[STORAGE_ID_SIZE], version[STORAGE_ID_SIZE], target[STORAGE_ID_SIZE];
    char error_name[STORAGE_ID_SIZE], model[STORAGE_ID_SIZE], campaign[STORAGE_ID_SIZE];
    char message[STORAGE_TEXT_SIZE];
    int error, progress;
    char image[80]; /* "SIZE:SHA256" of the running image; "" when not reported */
    int decodes;    /* -1 not reported, 0, 1 */
} device_status;

typedef struct timeline_entry {
    int64_t at;
    device_status status;
} timeline_entry;

typedef struct device_filter {
    const char *state, *version, *tag; /* NULL: any */
    int online;                        /* -1 any, 0, 1 */
} device_filter;

typedef struct campaign_record {
    int64_t id;
    char name[STORAGE_TEXT_SIZE], release[STORAGE_ID_SIZE], state[STORAGE_ID_SIZE];
    int stage; /* index into stages of the stage running */
    int stages[STORAGE_STAGES_MAX];
    size_t stage_count;
    int success_percent, halt_failure_percent, rate_per_minute, retries;
    int64_t timeout_s;
    char halt_reason[STORAGE_TEXT_SIZE];
    int64_t targeted, counts[TARGET_STATE_COUNT];
    uint64_t bytes_served, requests_published;
    uint64_t bytes_by_encoding[VARIANT_ENCODING_COUNT]; /* full = bytes_served - the others */
    int64_t created_at, updated_at, finished_at, stage_started_at;
    int64_t failures_accepted; /* failures the operator accepted by resuming a halt */
    char *request;             /* the campaign's signed request (malloc'd; NULL in lists) */
} campaign_record;

typedef struct target_record {
    int64_t campaign;
    char device[STORAGE_ID_SIZE];
    int64_t position; /* order of the targets: stage k takes positions below its share */
    target_state state;
    char reason[STORAGE_ID_SIZE], message[STORAGE_TEXT_SIZE];
    int attempts;
    int64_t next_at;     /* not published again before */
    int64_t began_at;    /* when it began downloading: the SILENT timeout runs from here */
    int64_t notified_at; /* when its request was last handed out */
    int64_t lease_until; /* claimed for publishing by a server until then */
    int64_t updated_at;
    char encoding[16]; /* what it was last sent: "full", "compressed", "delta"; "" nothing */
} target_record;

typedef struct failure_group {
    char reason[STORAGE_ID_SIZE], message[STORAGE_TEXT_SIZE];
    int64_t count;
} failure_group;

typedef struct count_group {
    char name[STORAGE_ID_SIZE];
    int64_t count;
} count_group;

/* Opens "sqlite:PATH" or "postgres://..." and creates or migrates the schema. */
int storage_open(const char *spec, storage **store, char *error, size_t error_size);
void storage_close(storage *store);
const char *storage_backend(const storage *store); /* "sqlite", "postgres" */
const char *storage_error(storage *store);         /* the last database error of this thread */

/* Runs work(store, context) in one transaction: committed when it returns 0, rolled back
 * otherwise. Returns work's result (or -1 when the commit failed). Nested calls join the outer
 * transaction. */
int storage_transaction(storage *store, int (*work)(storage *store, void *context), void *context);

/* --- releases --------------------------------------------------------------------------- */
int storage_release_add(storage *store, const release_record *release); /* or STORAGE_EXISTS */
int storage_release_get(storage *store, const char *version, release_record *release);
/* Newest first; request left NULL. *items malloc'd. */
int storage_release_list(storage *store, size_t limit, size_t offset, release_record **items,
                         size_t *count, int64_t *total);
void storage_release_free(release_record *release);
/* Empties the release's stored request (schema 1 and 2 kept one, its key in the clear). */
int storage_release_clear_request(storage *store, const char *version);
/* Marks the release retired and destroys its variants' sealed keys, in one transaction. */
int storage_release_retire(storage *store, const char *version, int64_t now);
/* The oldest active campaign (running, paused, halted) of the release: 0 and its id, or
 * STORAGE_NOT_FOUND. */
int storage_release_in_use(storage *store, const char *version, int64_t *campaign);
int storage_variant_add(storage *store, const release_variant *variant);
/* The release's variants, full first. *items malloc'd (zero them: they hold sealed keys). */
int storage_variant_list(storage *store, const char *release, release_variant **items,
                         size_t *count);

/* --- devices ---------------------------------------------------------------------------- */
/* Registers the device if new and marks it heard from; online: -1 unchanged, 0, 1. */
int storage_device_seen(storage *store, const char *id, int online, int64_t now);
/*
 * Records a status message: the device's row and a timeline entry. *fresh false (and nothing
 * written) when `raw` is the very message last recorded for it: a QoS 1 redelivery, or the
 * retained message again after a reconnect.
 */
int storage_device_status(storage *store, const char *id, const device_status *status,
                          const char *raw, int64_t now, bool *fresh);
int storage_device_get(storage *store, const char *id, device_record *device);
int storage_device_list(storage *store, const device_filter *filter, size_t limit, size_t offset,
                        device_record **items, size_t *count, int64_t *total);
int storage_device_timeline(storage *store, const char *id, size_t limit, timeline_entry **items,
                            size_t *count);
int storage_device_set_tags(storage *store, const char *id, const char *tags);
/* The device's certificate (PEM, "" to remove); storage_device_certificate gives it malloc'd
 * in *pem, NULL when none. */
int storage_device_set_certificate(storage *store, const char *id, const char *pem);
int storage_device_certificate(storage *store, const char *id, char **pem);
/* Every device id (tag NULL) or those with the tag, in id order; *ids malloc'd, each too. */
int storage_device_ids(storage *store, const char *tag, char ***ids, size_t *count);
void storage_free_ids(char **ids, size_t count);
/* Devices by state or by version (`column` "state" or "version"). *items malloc'd. */
int storage_device_groups(storage *store, const char *column, count_group **items, size_t *count);
int storage_device_totals(storage *store, int64_t *devices, int64_t *online);

/* --- campaigns -------------------------------------------------------------------------- */
/* Inserts a campaign (state, counts, targeted as given) and sets campaign->id. */
int storage_campaign_insert(storage *store, campaign_record *campaign);
int storage_campaign_set_request(storage *store, int64_t id, const char *request);
int storage_campaign_get(storage *store, int64_t id, campaign_record *campaign);
int storage_campaign_list(storage *store, size_t limit, size_t offset, campaign_record **items,
                          size_t *count, int64_t *total);
void storage_campaign_free(campaign_record *campaign);
/* Ids of the campaigns in `state`, oldest first. */
int storage_campaign_ids(storage *store, const char *state, int64_t **ids, size_t *count);
/*
 * Writes state, stage, halt_reason, stage_started_at, finished_at, failures_accepted and updated_at
 * of the campaign if its state is still `expected` (another server may have moved it). 0 after the
 * write, STORAGE_CONFLICT when the state had changed.
 */
int storage_campaign_update(storage *store, const campaign_record *campaign, const char *expected);
/* One more request handed to the broker or to a polling device (inside a transaction: written
 * when it commits, with the counters). */
int storage_campaign_count_request(storage *store, int64_t id);
/* Image bytes served for the campaign, in the encoding they were sent in. */
int storage_campaign_add_bytes(storage *store, int64_t id, variant_encoding encoding,
                               uint64_t bytes);
/* Targets of the campaign by what they were last sent (full, compressed, delta). A scan of the
 * campaign's targets: for showing a campaign, never on the path of every status (it was, through
 * storage_campaign_get, and 50,000 targets made each status cost a scan). */
int storage_campaign_sent(storage *store, int64_t id, int64_t sent[VARIANT_ENCODING_COUNT]);
int storage_campaign_failures(storage *store, int64_t id, failure_group **items, size_t *count);
int64_t storage_campaigns_active(storage *store); /* running, paused or halted; -1 on error */

/* --- targets ---------------------------------------------------------------------------- */
int storage_target_insert(storage *store, const target_record *target);
/* A device of `campaign` that is in another active campaign, not finished there: 0 and its id
 * in `device` when there is one, STORAGE_NOT_FOUND when none. */
int storage_target_busy(storage *store, int64_t campaign, char device[STORAGE_ID_SIZE]);
int storage_target_get(storage *store, int64_t campaign, const char *device, target_record *target);
/* The device's target in an active campaign (running, paused, halted), else NOT_FOUND. */
int storage_target_active(storage *store, const char *device, target_record *target);
/*
 * Writes the target (state, reason, message, attempts, times) if its state is still `from`,
 * and moves the campaign's counters from `from` to target->state in the same transaction
 * (inside storage_transaction the counters of all its moves are written once, just before it
 * commits; campaign reads inside it see them unchanged). 0, or STORAGE_CONFLICT when the
 * target was no longer in `from` (nothing written). Call it inside storage_transaction.
 */
int storage_target_move(storage *store, const target_record *target, target_state from);
/*
 * Claims up to `limit` targets of the campaign that are due: pending, position below
 * `positions`, next_at <= now, not leased by another server; leases them to `owner` until
 * `lease_until` (claimed_at = now). On PostgreSQL rows another transaction holds are skipped.
 * *items malloc'd.
 */
int storage_target_claim(storage *store, int64_t campaign, int64_t positions, int64_t now,
                         int64_t lease_until, const char *owner, size_t limit,
                         target_record **items, size_t *count);
/*
 * Extends to `lease_until` the leases `owner` holds on targets still pending whose lease has not
 * ended at `now`, runs out before `renew_before`, and was claimed at or after `claimed_since`:
 * the requests the owner handed to the broker and has not yet recorded as acknowledged. A
 * server that dies stops renewing, so its leases end and another claims the targets.
 */
int storage_target_renew(storage *store, const char *owner, int64_t now, int64_t lease_until,
                         int64_t renew_before, int64_t claimed_since);
/* Gives up renewing a target whose request was not sent (its lease runs out as it is). */
int storage_target_unclaim(storage *store, int64_t campaign, const char *device, const char *owner);
/*
 * The device connected while its pending target's request was in flight: marks the target so
 * that whoever records the broker's acknowledgement sends the request again (the broker may
 * have dropped it, having had no session for the device then). STORAGE_CONFLICT when the
 * target is no longer pending: the acknowledgement was recorded first, so the caller sends it.
 * The mark and the acknowledgement's move write the same row, so one of them sees the other
 * on either engine.
 */
int storage_target_mark_resend(storage *store, int64_t campaign, const char *device);
/* Clears the mark: 1 when it was set (send the request again), 0 when not, -1 on error. */
int storage_target_take_resend(storage *store, int64_t campaign, const char *device);
/* Targets of the campaign in `state` whose `began_at` (or for NOTIFIED `notified_at`) is
 * before `before`. *items malloc'd. */
int storage_target_overdue(storage *store, int64_t campaign, target_state state, int64_t before,
                           target_record **items, size_t *count);
/* Counts by state of the targets with position below `positions`. */
int storage_target_counts(storage *store, int64_t campaign, int64_t positions,
                          int64_t counts[TARGET_STATE_COUNT]);
/* What the target was sent last (variant_encoding_name). */
int storage_target_set_encoding(storage *store, int64_t campaign, const char *device,
                                const char *encoding);
/* Targets of a campaign (state NULL: any), in position order. */
int storage_target_list(storage *store, int64_t campaign, const char *state, size_t limit,
                        size_t offset, target_record **items, size_t *count, int64_t *total);

/* --- servers sharing the database ----------------------------------------------------- */
/* Each server marks itself alive (every second); the live ones share the devices' messages. */
int storage_server_beat(storage *store, const char *id, int64_t now);
int storage_server_leave(storage *store, const char *id);
/* Ids of the servers seen at or after `since`, in id order; *ids malloc'd, each too. */
int storage_server_ids(storage *store, int64_t since, char ***ids, size_t *count);

/* --- counters that outlive a restart ---------------------------------------------------- */
int storage_counter_add(storage *store, const char *name, int64_t amount);
int64_t storage_counter_get(storage *store, const char *name); /* -1 on error */

#endif
