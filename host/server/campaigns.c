/*
 * The campaign engine (campaigns.h). Every event handler is a storage transaction whose writes
 * are conditional on the state it read (storage_target_move, storage_campaign_update), so two
 * servers on one database, or a status racing the clock, can never move a target twice.
 */
#include "campaigns.h"

#include "image/semver.h"
#include "operator/cost.h"
#include "releases.h"
#include "requests.h"

#include <mbedtls/platform_util.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS_MAX 64
/* At most this many targets claimed per campaign and tick (20,480/s at 5 ticks a second): a
 * burst stays below the MQTT link's requests in flight (32,768) and one claim statement short. */
#define CLAIMS_PER_TICK 4096

/* Requests a running campaign may still publish: rate_per_minute refills it, a few seconds'
 * worth at most, so a paused or idle campaign does not save up a burst. */
typedef struct rate_bucket {
    int64_t campaign;
    double tokens;
    double last; /* seconds, monotonic */
} rate_bucket;

typedef struct campaign_engine {
    campaign_publisher publish;
    campaign_resync resync;
    void *context;
    pthread_mutex_t lock;
    rate_bucket buckets[BUCKETS_MAX];
    char id[96];       /* this server among those on the database: leases and the registry */
    int64_t lease_s;   /* CAMPAIGN_LEASE_S, or CELLOTA_LEASE_S for tests */
    int64_t last_beat; /* seconds: the registry and the leases are kept once a second */
    /* The live servers and this one's place among them: which devices it records. */
    atomic_uint members, rank;
} campaign_engine;

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static bool keep_registry(server *self);

int campaign_engine_open(server *self)
{
    campaign_engine *engine = calloc(1, sizeof(*engine));
    char machine[48] = "";
    if (!engine)
        return -1;
    pthread_mutex_init(&engine->lock, NULL);
    gethostname(machine, sizeof(machine) - 1);
    /* Unique across hosts and restarts: a restarted server must not renew its old leases. */
    snprintf(engine->id, sizeof(engine->id), "%s-%ld-%" PRId64, machine, (long)getpid(),
             server_now());
    engine->lease_s = CAMPAIGN_LEASE_S;
    const char *lease = getenv("CELLOTA_LEASE_S");
    if (lease && atoi(lease) >= 3 && atoi(lease) <= 600)
        engine->lease_s = atoi(lease);
    atomic_init(&engine->members, 1);
    atomic_init(&engine->rank, 0);
    self->engine = engine;
    keep_registry(self);
    printf("cellota-server: server id %s, lease %" PRId64 " s\n", engine->id, engine->lease_s);
    fflush(stdout);
    return 0;
}

void campaign_engine_close(server *self)
{
    if (!self->engine)
        return;
    if (self->store)
        storage_server_leave(self->store, self->engine->id);
    pthread_mutex_destroy(&self->engine->lock);
    free(self->engine);
    self->engine = NULL;
}

void campaign_set_publisher(server *self, campaign_publisher publish, campaign_resync resync,
                            void *context)
{
    pthread_mutex_lock(&self->engine->lock);
    self->engine->publish = publish;
    self->engine->resync = resync;
    self->engine->context = context;
    pthread_mutex_unlock(&self->engine->lock);
}

/* FNV-1a: the same on every server, so they agree on who records a device. */
static uint32_t device_hash(const char *device)
{
    uint32_t hash = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)device; *c; c++)
        hash = (hash ^ *c) * 16777619u;
    return hash;
}

bool campaign_records_device(server *self, const char *device)
{
    unsigned members = atomic_load(&self->engine->members);
    return members <= 1 || device_hash(device) % members == atomic_load(&self->engine->rank);
}

/*
 * Marks this server alive and reads which servers are: true when this server's share of the
 * devices changed. Servers whose views differ for a moment (one second at most) may both record
 * a message (the conditional writes keep the counts exact; see docs/operations.md) or neither;
 * the resync that follows a change reads every device's retained status again.
 */
/*
 * A server of this host whose process is gone (an id is "<host>-<pid>-<start>"): a server
 * restarted after a kill -9 need not wait CAMPAIGN_SERVER_GONE_S sharing the devices with its
 * own dead predecessor. A pid in use by another process counts as alive (the timeout decides).
 */
static bool dead_here(const campaign_engine *engine, const char *id)
{
    const char *start = strrchr(id, '-'), *pid_at;
    const char *own = strrchr(engine->id, '-');
    if (!start || !own || strcmp(id, engine->id) == 0)
        return false;
    for (pid_at = start - 1; pid_at > id && *pid_at != '-'; pid_at--)
        ;
    const char *own_pid = own - 1;
    while (own_pid > engine->id && *own_pid != '-')
        own_pid--;
    if (pid_at == id || own_pid == engine->id || pid_at - id != own_pid - engine->id ||
        strncmp(id, engine->id, (size_t)(pid_at - id)) != 0)
        return false; /* another host's */
    long pid = strtol(pid_at + 1, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static bool keep_registry(server *self)
{
    campaign_engine *engine = self->engine;
    int64_t now = server_now();
    char **ids;
    size_t count, live = 0;
    unsigned rank = 0;
    if (storage_server_beat(self->store, engine->id, now) != 0 ||
        storage_server_ids(self->store, now - CAMPAIGN_SERVER_GONE_S, &ids, &count) != 0)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (dead_here(engine, ids[i])) {
            storage_server_leave(self->store, ids[i]);
            continue;
        }
        if (strcmp(ids[i], engine->id) == 0)
            rank = (unsigned)live;
        live++;
    }
    storage_free_ids(ids, count);
    unsigned members = live ? (unsigned)live : 1;
    bool changed = members != atomic_load(&engine->members) || rank != atomic_load(&engine->rank);
    atomic_store(&engine->members, members);
    atomic_store(&engine->rank, rank);
    if (changed) {
        printf("cellota-server: %u server%s on the database; this one records its share %u\n",
               members, members == 1 ? "" : "s", rank + 1);
        fflush(stdout);
    }
    return changed;
}

/* --- helpers ------------------------------------------------------------------------------ */

static bool is_active(const char *state)
{
    return strcmp(state, "running") == 0 || strcmp(state, "paused") == 0 ||
           strcmp(state, "halted") == 0;
}

/* Targets in stages 0..stage: the stage's cumulative share of the campaign, at least one. */
static int64_t stage_positions(const campaign_record *campaign, int stage)
{
    if (campaign->stage_count == 0 || campaign->targeted == 0)
        return 0;
    if (stage >= (int)campaign->stage_count)
        stage = (int)campaign->stage_count - 1;
    int64_t positions = (campaign->targeted * campaign->stages[stage] + 99) / 100;
    return positions < 1 ? 1 : positions;
}

/* a vs b by semantic-version precedence; false when either is no semantic version. */
static bool compare_versions(const char *a, const char *b, int *order)
{
    cellota_semver left, right;
    if (!a || !b || cellota_semver_parse(&left, a, strlen(a)) != 0 ||
        cellota_semver_parse(&right, b, strlen(b)) != 0)
        return false;
    *order = cellota_semver_compare(&left, &right);
    return true;
}

static int rank(target_state state)
{
    switch (state) {
    case TARGET_PENDING:
        return 0;
    case TARGET_NOTIFIED:
        return 1;
    case TARGET_DOWNLOADING:
        return 2;
    case TARGET_INSTALLING:
        return 3;
    default:
        return 4;
    }
}

static void log_move(const target_record *target, target_state from)
{
    printf("campaign %" PRId64 ": device %s %s -> %s%s%s\n", target->campaign, target->device,
           target_state_name(from), target_state_name(target->state), target->reason[0] ? " " : "",
           target->reason);
    fflush(stdout);
}

static int move(storage *store, target_record *target, target_state from)
{
    target->updated_at = server_now();
    int status = storage_target_move(store, target, from);
    if (status == 0 && from != target->state)
        log_move(target, from);
    return status;
}

/* --- creation ----------------------------------------------------------------------------- */

typedef struct creation {
    server *self;
    const campaign_spec *spec;
    release_record release;
    char **ids;
    size_t count;
    campaign_record campaign;
    char busy[STORAGE_ID_SIZE];
    api_error *error;
} creation;

static int create_work(storage *store, void *context)
{
    creation *work = context;
    campaign_record *campaign = &work->campaign;
    int64_t now = server_now();
    target_state *states = calloc(work->count, sizeof(*states));
    bool *revoked = calloc(work->count, sizeof(*revoked));
    if (!states || !revoked) {
        free(states);
        free(revoked);
        return -1;
    }
    for (size_t i = 0; i < work->count; i++) {
        device_record device;
        int order;
        states[i] = TARGET_PENDING;
        if (storage_device_get(store, work->ids[i], &device) == STORAGE_NOT_FOUND)
            storage_device_seen(store, work->ids[i], -1, now); /* named before it was heard of */
        else if (compare_versions(device.version, work->release.version, &order) && order >= 0)
            states[i] = TARGET_SKIPPED; /* on the release or newer: never sent an older one */
        if (states[i] == TARGET_PENDING && server_device_revoked(work->self, work->ids[i])) {
            states[i] = TARGET_SKIPPED; /* out of the fleet: sent nothing, not a failure */
            revoked[i] = true;
        }
        campaign->counts[states[i]]++;
    }
    campaign->targeted = (int64_t)work->count;
    campaign->created_at = now;
    if (storage_campaign_insert(store, campaign) != 0) {
        free(states);
        free(revoked);
        return -1;
    }
    for (size_t i = 0; i < work->count; i++) {
        target_record target;
        memset(&target, 0, sizeof(target));
        target.campaign = campaign->id;
        snprintf(target.device, sizeof(target.device), "%s", work->ids[i]);
        target.position = (int64_t)i;
        target.state = states[i];
        if (states[i] == TARGET_SKIPPED)
            snprintf(target.reason, sizeof(target.reason), "%s",
                     revoked[i] ? "REVOKED" : "ALREADY_ON_RELEASE");
        target.updated_at = now;
        if (storage_target_insert(store, &target) != 0) {
            free(states);
            free(revoked);
            return -1;
        }
    }
    free(states);
    free(revoked);
    int busy = storage_target_busy(store, campaign->id, work->busy);
    if (busy == 0) {
        api_error_set(work->error, 409, "DEVICE_BUSY", "Device %s is in another active campaign.",
                      work->busy);
        return STORAGE_CONFLICT;
    }
    /* No request is stored: each device's is built when it is sent (requests.h). */
    return busy == STORAGE_NOT_FOUND ? 0 : -1;
}

int campaign_create(server *self, const campaign_spec *spec, int64_t *id, api_error *error)
{
    creation work;
    memset(&work, 0, sizeof(work));
    work.self = self;
    work.spec = spec;
    work.error = error;
    if (!spec->release || storage_release_get(self->store, spec->release, &work.release) != 0) {
        api_error_set(error, 404, "UNKNOWN_RELEASE", "There is no release %s.",
                      spec->release ? spec->release : "(none given)");
        return -1;
    }
    if (work.release.retired_at != 0) {
        api_error_set(error, 409, "RELEASE_RETIRED",
                      "Release %s is retired: its keys are destroyed and it cannot be offered.",
                      work.release.version);
        goto fail;
    }
    release_variant *variants = NULL;
    size_t variant_count = 0;
    int listed = storage_variant_list(self->store, work.release.version, &variants, &variant_count);
    if (variants)
        mbedtls_platform_zeroize(variants, variant_count * sizeof(*variants));
    free(variants);
    if (listed == 0 && variant_count == 0) {
        /* stored by a server before keys were sealed (schema 1 or 2): it has no variants */
        api_error_set(error, 409, "RELEASE_NOT_SEALED",
                      "Release %s was stored before image keys were sealed: upload it again "
                      "under a new version.",
                      work.release.version);
        goto fail;
    }
    if (spec->stage_count == 0 || spec->stage_count > STORAGE_STAGES_MAX) {
        api_error_set(error, 400, "BAD_STAGES", "Give 1 to %d stages.", STORAGE_STAGES_MAX);
        goto fail;
    }
    for (size_t i = 0; i < spec->stage_count; i++)
        if (spec->stages[i] < 1 || spec->stages[i] > 100 ||
            (i > 0 && spec->stages[i] <= spec->stages[i - 1])) {
            api_error_set(error, 400, "BAD_STAGES",
                          "Stages are rising percentages from 1 to 100, such as [1,10,100].");
            goto fail;
        }
    if (spec->success_percent < 0 || spec->success_percent > 100 ||
        spec->halt_failure_percent < 0 || spec->halt_failure_percent > 100 ||
        spec->rate_per_minute < 1 || spec->timeout_s < 1 || spec->retries < 0 ||
        spec->retries > 100) {
        api_error_set(error, 400, "BAD_CAMPAIGN",
                      "Percentages are 0 to 100, rate_per_minute and timeout_s at least 1, "
                      "retries 0 to 100.");
        goto fail;
    }
    if (spec->devices) {
        work.ids = spec->devices;
        work.count = spec->device_count;
        for (size_t i = 0; i < work.count; i++) {
            if (!server_valid_name(work.ids[i])) {
                api_error_set(error, 400, "BAD_DEVICE",
                              "Device ids are 1 to 32 letters, digits, '-', '_' or '.'.");
                goto fail;
            }
            for (size_t j = 0; j < i; j++)
                if (strcmp(work.ids[i], work.ids[j]) == 0) {
                    api_error_set(error, 400, "BAD_DEVICE", "Device %s is listed twice.",
                                  work.ids[i]);
                    goto fail;
                }
        }
    } else if (storage_device_ids(self->store, spec->tag, &work.ids, &work.count) != 0) {
        api_error_set(error, 500, "STORAGE_FAILED", "The devices could not be read.");
        goto fail;
    }
    if (work.count == 0) {
        api_error_set(error, 400, "NO_DEVICES", "The campaign targets no device.");
        goto fail;
    }
    campaign_record *campaign = &work.campaign;
    snprintf(campaign->name, sizeof(campaign->name), "%s", spec->name ? spec->name : "");
    snprintf(campaign->release, sizeof(campaign->release), "%s", work.release.version);
    snprintf(campaign->state, sizeof(campaign->state), "running");
    memcpy(campaign->stages, spec->stages, sizeof(int) * spec->stage_count);
    campaign->stage_count = spec->stage_count;
    campaign->success_percent = spec->success_percent;
    campaign->halt_failure_percent = spec->halt_failure_percent;
    campaign->rate_per_minute = spec->rate_per_minute;
    campaign->timeout_s = spec->timeout_s;
    campaign->retries = spec->retries;
    int status = storage_transaction(self->store, create_work, &work);
    if (status != 0) {
        if (status != STORAGE_CONFLICT)
            api_error_set(error, 500, "STORAGE_FAILED", "The campaign could not be stored.");
        goto fail;
    }
    *id = campaign->id;
    printf("campaign %" PRId64 ": created for release %s, %zu devices, stages", campaign->id,
           campaign->release, work.count);
    for (size_t i = 0; i < spec->stage_count; i++)
        printf(" %d%%", spec->stages[i]);
    printf("\n");
    fflush(stdout);
    if (!spec->devices)
        storage_free_ids(work.ids, work.count);
    storage_release_free(&work.release);
    return 0;
fail:
    if (!spec->devices)
        storage_free_ids(work.ids, work.count);
    storage_release_free(&work.release);
    return -1;
}

/* --- operator commands -------------------------------------------------------------------- */

typedef struct command_work {
    int64_t id;
    const char *command;
    api_error *error;
} command_work;

static int command_work_run(storage *store, void *context)
{
    command_work *work = context;
    campaign_record campaign;
    char from[STORAGE_ID_SIZE];
    int status = storage_campaign_get(store, work->id, &campaign);
    if (status == STORAGE_NOT_FOUND) {
        api_error_set(work->error, 404, "UNKNOWN_CAMPAIGN", "There is no campaign %" PRId64 ".",
                      work->id);
        return STORAGE_NOT_FOUND;
    }
    if (status != 0)
        return -1;
    storage_campaign_free(&campaign);
    snprintf(from, sizeof(from), "%s", campaign.state);
    const char *to = NULL;
    if (strcmp(work->command, "pause") == 0 && strcmp(from, "running") == 0)
        to = "paused";
    else if (strcmp(work->command, "resume") == 0 &&
             (strcmp(from, "paused") == 0 || strcmp(from, "halted") == 0))
        to = "running";
    else if (strcmp(work->command, "abort") == 0 && is_active(from))
        to = "aborted";
    if (!to) {
        api_error_set(work->error, 409, "BAD_STATE", "A %s campaign cannot %s.", from,
                      work->command);
        return STORAGE_CONFLICT;
    }
    int64_t now = server_now();
    snprintf(campaign.state, sizeof(campaign.state), "%s", to);
    campaign.updated_at = now;
    if (strcmp(from, "halted") == 0) {
        /* Resuming a halt accepts the failures so far: the threshold counts new ones only. */
        int64_t counts[TARGET_STATE_COUNT];
        if (storage_target_counts(store, campaign.id, stage_positions(&campaign, campaign.stage),
                                  counts) != 0)
            return -1;
        campaign.failures_accepted = counts[TARGET_FAILED];
        campaign.halt_reason[0] = '\0';
    }
    if (strcmp(to, "aborted") == 0)
        campaign.finished_at = now;
    status = storage_campaign_update(store, &campaign, from);
    if (status == 0) {
        printf("campaign %" PRId64 ": %s -> %s (operator)\n", campaign.id, from, to);
        fflush(stdout);
    } else if (status == STORAGE_CONFLICT) {
        api_error_set(work->error, 409, "BAD_STATE", "The campaign changed state meanwhile.");
    }
    return status;
}

int campaign_command(server *self, int64_t id, const char *command, api_error *error)
{
    command_work work = {id, command, error};
    error->status = 0;
    int status = storage_transaction(self->store, command_work_run, &work);
    if (status != 0 && error->status == 0)
        api_error_set(error, 500, "STORAGE_FAILED", "The campaign could not be changed.");
    return status == 0 ? 0 : -1;
}

/* --- device events ------------------------------------------------------------------------ */

typedef struct status_work {
    server *self;
    const char *device;
    const device_status *status;
    const char *raw;
} status_work;

/* Where a status moves the target (false: nowhere). */
static bool decide(const campaign_record *campaign, const target_record *target,
                   const device_status *status, target_record *next)
{
    int order = 0;
    bool comparable = compare_versions(status->version, campaign->release, &order);
    bool ours = status->campaign[0] || strcmp(status->target, campaign->release) == 0;
    const char *state = status->state;
    *next = *target;
    if (target_state_final(target->state))
        return false;
    /*
     * Running the release past its trial is success however the agent words it: its
     * `confirmed` can be overtaken (a reboot's start-up check reports `failed` or `up_to_date`
     * while the broker is away, and the request sent again is answered `up_to_date`). The
     * version is the image the device booted; before its trial ends the state is starting or
     * testing, and a failed trial reports the old version.
     */
    if (strcmp(status->version, campaign->release) == 0 && strcmp(state, "starting") != 0 &&
        strcmp(state, "testing") != 0 && strcmp(state, "rebooting") != 0 &&
        strcmp(state, "rolled_back") != 0) {
        if (target->state == TARGET_PENDING && strcmp(state, "confirmed") != 0) {
            next->state = TARGET_SKIPPED; /* it got there without this campaign */
            snprintf(next->reason, sizeof(next->reason), "ALREADY_ON_RELEASE");
            return true;
        }
        next->state = TARGET_CONFIRMED;
        next->reason[0] = '\0';
        next->message[0] = '\0';
        return true;
    }
    if (strcmp(state, "confirmed") == 0 || strcmp(state, "up_to_date") == 0) {
        if (comparable && order > 0) {
            next->state = TARGET_SKIPPED;
            snprintf(next->reason, sizeof(next->reason), "NEWER_VERSION");
        } else {
            return false;
        }
        return true;
    }
    if (!ours)
        return false;
    if (strcmp(state, "downloading") == 0 || strcmp(state, "waiting") == 0) {
        next->state = TARGET_DOWNLOADING;
    } else if (strcmp(state, "verifying") == 0 || strcmp(state, "staging") == 0 ||
               strcmp(state, "rebooting") == 0 || strcmp(state, "testing") == 0) {
        next->state = TARGET_INSTALLING;
    } else if (strcmp(state, "rolled_back") == 0) {
        next->state = TARGET_FAILED;
        snprintf(next->reason, sizeof(next->reason), "ROLLED_BACK");
        snprintf(next->message, sizeof(next->message), "%s", status->message);
        return true;
    } else if (strcmp(state, "failed") == 0) {
        if (comparable && order > 0) {
            next->state = TARGET_SKIPPED;
            snprintf(next->reason, sizeof(next->reason), "NEWER_VERSION");
            return true;
        }
        snprintf(next->reason, sizeof(next->reason), "%s", status->error_name);
        snprintf(next->message, sizeof(next->message), "%s", status->message);
        if (target->state != TARGET_PENDING && target->attempts <= campaign->retries) {
            /* It failed to get going: send it again after a back-off. */
            int shift = target->attempts < 7 ? target->attempts : 7;
            int64_t delay = (int64_t)CAMPAIGN_RETRY_BASE_S << shift;
            next->state = TARGET_PENDING;
            next->next_at =
                server_now() + (delay < CAMPAIGN_RETRY_MAX_S ? delay : CAMPAIGN_RETRY_MAX_S);
            next->began_at = 0;
            next->lease_until = 0;
            return true;
        }
        next->state = TARGET_FAILED;
        return true;
    } else {
        return false;
    }
    if (rank(next->state) <= rank(target->state))
        return false; /* forward only: a late or repeated status changes nothing */
    if (next->began_at == 0)
        next->began_at = server_now();
    return true;
}

static int status_work_run(storage *store, void *context)
{
    status_work *work = context;
    target_record target, next;
    campaign_record campaign;
    bool fresh;
    int status;
    if (storage_device_status(store, work->device, work->status, work->raw, server_now(), &fresh) !=
        0)
        return -1;
    if (!fresh)
        return 0; /* the same message again: counted once */
    char *end = NULL;
    long long named = work->status->campaign[0] ? strtoll(work->status->campaign, &end, 10) : 0;
    if (named > 0 && end && *end == '\0')
        status = storage_target_get(store, named, work->device, &target);
    else if (work->status->campaign[0])
        return 0; /* a request not from this server */
    else
        status = storage_target_active(store, work->device, &target);
    if (status == STORAGE_NOT_FOUND)
        return 0;
    if (status != 0)
        return -1;
    if ((status = storage_campaign_get(store, target.campaign, &campaign)) != 0)
        return status == STORAGE_NOT_FOUND ? 0 : -1;
    storage_campaign_free(&campaign);
    if (!is_active(campaign.state))
        return 0;
    if (!decide(&campaign, &target, work->status, &next))
        return 0;
    status = move(store, &next, target.state);
    return status == STORAGE_CONFLICT ? 0 : status;
}

typedef struct notify_work {
    int64_t campaign;
    const char *device;
    bool *resend; /* out, may be NULL: the device connected while the request was in flight */
} notify_work;

static int notify_work_run(storage *store, void *context);

/* Defined below; campaign_status is a batch of one. */
static void record_batch(server *self, campaign_event *events, size_t count);
static void send_again(server *self, const campaign_event *events, size_t count);

void campaign_status(server *self, const char *device, const device_status *status, const char *raw)
{
    campaign_event event;
    memset(&event, 0, sizeof(event));
    event.kind = CAMPAIGN_EVENT_STATUS;
    snprintf(event.device, sizeof(event.device), "%s", device);
    event.status = *status;
    event.raw = (char *)raw; /* only read */
    record_batch(self, &event, 1);
}

/* One status or acknowledgement, inside the caller's transaction. */
static int record_one(storage *store, server *self, campaign_event *event)
{
    if (event->kind == CAMPAIGN_EVENT_PUBLISHED) {
        notify_work work = {event->campaign, event->device, &event->resend};
        event->resend = false; /* a batch that failed is recorded again one by one */
        return notify_work_run(store, &work);
    }
    status_work work = {self, event->device, &event->status, event->raw};
    return status_work_run(store, &work);
}

typedef struct batch_work {
    server *self;
    campaign_event *events;
    size_t count;
} batch_work;

static int batch_work_run(storage *store, void *context)
{
    batch_work *batch = context;
    for (size_t i = 0; i < batch->count; i++)
        if (record_one(store, batch->self, &batch->events[i]) != 0)
            return -1;
    return 0;
}

static int single_work_run(storage *store, void *context)
{
    batch_work *single = context;
    return record_one(store, single->self, single->events);
}

/*
 * Consecutive statuses and acknowledgements: one transaction, or one each when that fails. An
 * acknowledgement recorded in the batch of statuses (not in a transaction of its own, as first
 * written) is what lets a burst of thousands of requests be recorded within their leases.
 */
static void record_batch(server *self, campaign_event *events, size_t count)
{
    batch_work batch = {self, events, count};
    if (count == 0)
        return;
    for (size_t i = 0; i < count; i++)
        if (events[i].kind == CAMPAIGN_EVENT_STATUS)
            atomic_fetch_add(&self->status_messages, 1);
    if (storage_transaction(self->store, batch_work_run, &batch) == 0) {
        send_again(self, events, count);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        batch_work single = {self, &events[i], 1};
        /* Twice more: on PostgreSQL a transaction can lose a deadlock to another server's. */
        int attempts = 0;
        while (storage_transaction(self->store, single_work_run, &single) != 0 && ++attempts < 3)
            ;
        if (attempts == 3)
            fprintf(stderr, "cellota-server: device %s: the %s could not be recorded\n",
                    events[i].device,
                    events[i].kind == CAMPAIGN_EVENT_STATUS ? "status" : "acknowledgement");
        else
            send_again(self, &events[i], 1);
    }
}

void campaign_record_batch(server *self, campaign_event *events, size_t count)
{
    size_t first = 0;
    for (size_t i = 0; i < count; i++) {
        if (events[i].kind != CAMPAIGN_EVENT_ONLINE)
            continue;
        /* An online message keeps its place: the events before it first. */
        record_batch(self, events + first, i - first);
        /* A retained "online" says the device connected some time ago, not that it came back
         * now: no request is sent again for it (a resync delivers every device's). */
        if (events[i].retained)
            storage_device_seen(self->store, events[i].device, events[i].online ? 1 : 0,
                                server_now());
        else
            campaign_online(self, events[i].device, events[i].online);
        first = i + 1;
    }
    record_batch(self, events + first, count - first);
}

/* The target the device's running campaign has for it now, with the campaign. */
static bool offered_target(server *self, const char *device, target_record *target,
                           campaign_record *campaign)
{
    if (storage_target_active(self->store, device, target) != 0)
        return false;
    if (storage_campaign_get(self->store, target->campaign, campaign) != 0)
        return false;
    if (strcmp(campaign->state, "running") != 0 || target_state_final(target->state) ||
        target->position >= stage_positions(campaign, campaign->stage) ||
        server_device_revoked(self, device)) {
        storage_campaign_free(campaign);
        return false;
    }
    return true;
}

/* true when the request is in flight to the broker. */
static bool publish(server *self, int64_t campaign, const char *device, const char *request)
{
    pthread_mutex_lock(&self->engine->lock);
    campaign_publisher publisher = self->engine->publish;
    void *context = self->engine->context;
    pthread_mutex_unlock(&self->engine->lock);
    return publisher && publisher(context, campaign, device, request);
}

typedef struct revocation_work {
    int64_t campaign;
    const char *device;
} revocation_work;

static int revocation_work_run(storage *store, void *context)
{
    revocation_work *work = context;
    target_record target, next;
    int status = storage_target_get(store, work->campaign, work->device, &target);
    if (status != 0)
        return status == STORAGE_NOT_FOUND ? 0 : -1;
    if (target_state_final(target.state))
        return 0;
    /* As at creation (create_work): skipped, never sent a request. */
    next = target;
    next.state = TARGET_SKIPPED;
    next.lease_until = 0;
    snprintf(next.reason, sizeof(next.reason), "REVOKED");
    status = move(store, &next, target.state);
    return status == STORAGE_CONFLICT ? 0 : status;
}

/* The request built for the device now (requests.h): *json malloc'd, NULL when nothing is to
 * be sent -- a revoked device's target (revoked.h, or its certificate in the CRL) is skipped
 * instead. */
static char *device_request(server *self, const campaign_record *campaign, const char *device,
                            request_cache *cache, request_sent *sent)
{
    char *json = NULL;
    int status = server_device_revoked(self, device)
                     ? REQUEST_REVOKED
                     : request_for_device(self, campaign->release, campaign->id, device, cache,
                                          &json, sent);
    if (status == REQUEST_REVOKED) {
        revocation_work work = {campaign->id, device};
        storage_transaction(self->store, revocation_work_run, &work);
        return NULL;
    }
    if (status != 0) {
        fprintf(stderr, "cellota-server: campaign %" PRId64 ": no request for device %s\n",
                campaign->id, device);
        return NULL;
    }
    return json;
}

static void free_request(char *json)
{
    if (json) {
        mbedtls_platform_zeroize(json, strlen(json)); /* it may carry the image key */
        free(json);
    }
}

/* The request published again to a device that may not have it (why: for the log). */
static void request_again(server *self, const campaign_record *campaign, const char *device,
                          const char *why)
{
    request_sent sent;
    char *json = device_request(self, campaign, device, NULL, &sent);
    if (json) {
        printf("campaign %" PRId64 ": device %s %s: request sent again\n", campaign->id, device,
               why);
        fflush(stdout);
        storage_target_set_encoding(self->store, campaign->id, device,
                                    variant_encoding_name(sent.encoding));
        publish(self, campaign->id, device, json);
    }
    free_request(json);
}

void campaign_online(server *self, const char *device, bool online)
{
    target_record target;
    campaign_record campaign;
    storage_device_seen(self->store, device, online ? 1 : 0, server_now());
    if (!online || !offered_target(self, device, &target, &campaign))
        return;
    /* Its request in flight (claimed, the broker's acknowledgement not yet recorded): the
     * broker may have taken it before the device's session existed, and dropped it. Marked,
     * the acknowledgement's recording sends it again; when that was recorded first, the
     * target is notified now and is sent it below. */
    if (target.state == TARGET_PENDING && target.lease_until >= server_now() &&
        storage_target_mark_resend(self->store, campaign.id, device) == STORAGE_CONFLICT) {
        if (storage_target_get(self->store, campaign.id, device, &target) != 0)
            target.state = TARGET_PENDING; /* unknown now: nothing sent */
    }
    /* Offline when it was notified (and its broker session may not have kept the request):
     * send it again now it is back. A request it already has is answered "up to date". */
    if (target.state == TARGET_NOTIFIED)
        request_again(self, &campaign, device, "online again");
    storage_campaign_free(&campaign);
}

/* Acknowledged requests whose devices connected while they were in flight, sent again. */
static void send_again(server *self, const campaign_event *events, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        target_record target;
        campaign_record campaign;
        if (events[i].kind != CAMPAIGN_EVENT_PUBLISHED || !events[i].resend ||
            !offered_target(self, events[i].device, &target, &campaign))
            continue;
        if (target.campaign == events[i].campaign && target.state == TARGET_NOTIFIED)
            request_again(self, &campaign, events[i].device,
                          "connected while its request was in flight");
        storage_campaign_free(&campaign);
    }
}

/* A request reached the device (broker acknowledgement or its own poll): count it, and a
 * pending target is now notified. */
static int notify_work_run(storage *store, void *context)
{
    notify_work *work = context;
    target_record target, next;
    int status = storage_target_get(store, work->campaign, work->device, &target);
    if (status != 0)
        return status == STORAGE_NOT_FOUND ? 0 : -1;
    if (storage_campaign_count_request(store, work->campaign) != 0)
        return -1;
    if (target.state != TARGET_PENDING)
        return 0;
    next = target;
    next.state = TARGET_NOTIFIED;
    next.attempts++;
    next.notified_at = server_now();
    next.lease_until = 0;
    status = move(store, &next, TARGET_PENDING);
    if (status != 0)
        return status == STORAGE_CONFLICT ? 0 : status;
    /* Marked by campaign_online while the request was in flight: sent again after the commit. */
    status = storage_target_take_resend(store, work->campaign, work->device);
    if (status < 0)
        return -1;
    if (work->resend)
        *work->resend = status == 1;
    return 0;
}

void campaign_published(server *self, int64_t campaign, const char *device)
{
    notify_work work = {campaign, device, NULL};
    if (storage_transaction(self->store, notify_work_run, &work) != 0)
        fprintf(stderr, "cellota-server: campaign %" PRId64 ": device %s: not recorded\n", campaign,
                device);
}

bool campaign_poll(server *self, const char *device, char version[STORAGE_ID_SIZE], char **request)
{
    target_record target;
    campaign_record campaign;
    storage_device_seen(self->store, device, 1, server_now());
    if (!offered_target(self, device, &target, &campaign))
        return false;
    snprintf(version, STORAGE_ID_SIZE, "%s", campaign.release);
    if (request) {
        request_sent sent;
        *request = device_request(self, &campaign, device, NULL, &sent);
        if (!*request) {
            storage_campaign_free(&campaign);
            return false;
        }
        storage_target_set_encoding(self->store, campaign.id, device,
                                    variant_encoding_name(sent.encoding));
        campaign_published(self, campaign.id, device);
    }
    storage_campaign_free(&campaign);
    return true;
}

/* --- the clock ---------------------------------------------------------------------------- */

typedef struct evaluation {
    int64_t id;
    bool running; /* still running afterwards */
} evaluation;

/* Stages, halts and completion of one running campaign. */
static int evaluate_work(storage *store, void *context)
{
    evaluation *work = context;
    campaign_record campaign;
    int64_t counts[TARGET_STATE_COUNT];
    int status = storage_campaign_get(store, work->id, &campaign);
    work->running = false;
    if (status != 0)
        return status == STORAGE_NOT_FOUND ? 0 : -1;
    storage_campaign_free(&campaign);
    if (strcmp(campaign.state, "running") != 0)
        return 0;
    int64_t now = server_now();
    int first_stage = campaign.stage;
    for (;;) {
        int64_t positions = stage_positions(&campaign, campaign.stage);
        if (storage_target_counts(store, campaign.id, positions, counts) != 0)
            return -1;
        int64_t accepted = campaign.failures_accepted;
        /* Accepted failures leave the stage's count: resuming a halt lets the rest decide. */
        int64_t size = positions - accepted > 0 ? positions - accepted : 0;
        int64_t failed = counts[TARGET_FAILED] - accepted;
        int64_t success = counts[TARGET_CONFIRMED] + counts[TARGET_SKIPPED];
        int64_t finished = success + counts[TARGET_FAILED];
        bool last = campaign.stage + 1 >= (int)campaign.stage_count;
        if (failed * 100 > (int64_t)campaign.halt_failure_percent * size) {
            snprintf(campaign.state, sizeof(campaign.state), "halted");
            snprintf(campaign.halt_reason, sizeof(campaign.halt_reason),
                     "%" PRId64 " of %" PRId64 " devices in stage %d (%d%%) failed, above "
                     "halt_failure_percent %d%%",
                     failed, size, campaign.stage + 1, campaign.stages[campaign.stage],
                     campaign.halt_failure_percent);
            break;
        }
        if (success * 100 >= (int64_t)campaign.success_percent * size) {
            if (!last) {
                campaign.stage++;
                campaign.stage_started_at = now;
                continue; /* the next stage may be done already (skipped devices) */
            }
            if (finished >= positions) {
                snprintf(campaign.state, sizeof(campaign.state), "completed");
                campaign.finished_at = now;
            }
            break;
        }
        if (finished >= positions) {
            snprintf(campaign.state, sizeof(campaign.state), "halted");
            snprintf(campaign.halt_reason, sizeof(campaign.halt_reason),
                     "stage %d (%d%%) finished with %" PRId64 " of %" PRId64 " devices "
                     "confirmed, below success_percent %d%%",
                     campaign.stage + 1, campaign.stages[campaign.stage], success, size,
                     campaign.success_percent);
        }
        break;
    }
    if (strcmp(campaign.state, "running") == 0 && campaign.stage == first_stage) {
        work->running = true;
        return 0;
    }
    campaign.updated_at = now;
    status = storage_campaign_update(store, &campaign, "running");
    if (status != 0)
        return status == STORAGE_CONFLICT ? 0 : -1;
    work->running = strcmp(campaign.state, "running") == 0;
    if (campaign.stage != first_stage)
        printf("campaign %" PRId64 ": stage %d (%d%%) started\n", campaign.id, campaign.stage + 1,
               campaign.stages[campaign.stage]);
    if (!work->running)
        printf("campaign %" PRId64 ": %s%s%s\n", campaign.id, campaign.state,
               campaign.halt_reason[0] ? ": " : "", campaign.halt_reason);
    fflush(stdout);
    return 0;
}

typedef struct silence_work {
    const campaign_record *campaign;
    target_record *target;
} silence_work;

static int silence_work_run(storage *store, void *context)
{
    silence_work *work = context;
    target_record next = *work->target;
    next.state = TARGET_FAILED;
    snprintf(next.reason, sizeof(next.reason), "SILENT");
    snprintf(next.message, sizeof(next.message),
             "No confirmation within %" PRId64 " s after the device began.",
             work->campaign->timeout_s);
    int status = move(store, &next, work->target->state);
    return status == STORAGE_CONFLICT ? 0 : status;
}

static void time_out_silent(server *self, const campaign_record *campaign)
{
    static const target_state started[] = {TARGET_DOWNLOADING, TARGET_INSTALLING};
    for (size_t s = 0; s < 2; s++) {
        target_record *items;
        size_t count;
        if (storage_target_overdue(self->store, campaign->id, started[s],
                                   server_now() - campaign->timeout_s, &items, &count) != 0)
            continue;
        for (size_t i = 0; i < count; i++) {
            silence_work work = {campaign, &items[i]};
            storage_transaction(self->store, silence_work_run, &work);
        }
        free(items);
    }
}

/* How many requests the campaign may publish now. */
static size_t take_tokens(campaign_engine *engine, const campaign_record *campaign)
{
    double now = monotonic_seconds(), per_second = campaign->rate_per_minute / 60.0;
    double capacity = per_second * 2 > 1 ? per_second * 2 : 1;
    rate_bucket *bucket = NULL, *oldest = &engine->buckets[0];
    pthread_mutex_lock(&engine->lock);
    for (size_t i = 0; i < BUCKETS_MAX; i++) {
        if (engine->buckets[i].campaign == campaign->id)
            bucket = &engine->buckets[i];
        if (engine->buckets[i].last < oldest->last)
            oldest = &engine->buckets[i];
    }
    if (!bucket) {
        bucket = oldest;
        bucket->campaign = campaign->id;
        bucket->tokens = capacity; /* a campaign (or a restarted server) starts with its burst */
        bucket->last = now;
    }
    bucket->tokens += (now - bucket->last) * per_second;
    if (bucket->tokens > capacity)
        bucket->tokens = capacity;
    bucket->last = now;
    size_t whole = bucket->tokens > 0 ? (size_t)bucket->tokens : 0; /* never below 0 */
    pthread_mutex_unlock(&engine->lock);
    return whole;
}

static void spend_tokens(campaign_engine *engine, int64_t campaign, size_t spent)
{
    pthread_mutex_lock(&engine->lock);
    for (size_t i = 0; i < BUCKETS_MAX; i++)
        if (engine->buckets[i].campaign == campaign)
            engine->buckets[i].tokens -= (double)spent;
    pthread_mutex_unlock(&engine->lock);
}

static void keep_leases(server *self);

typedef struct sent_work {
    int64_t campaign;
    const target_record *items;
    const request_sent *sent;
    const bool *went_out; /* its request was handed to the broker */
    size_t count;
} sent_work;

/* What each claimed target was sent, in one transaction for the batch. */
static int sent_work_run(storage *store, void *context)
{
    sent_work *work = context;
    for (size_t i = 0; i < work->count; i++) {
        const char *encoding = variant_encoding_name(work->sent[i].encoding);
        if (work->went_out[i] && strcmp(work->items[i].encoding, encoding) != 0 &&
            storage_target_set_encoding(store, work->campaign, work->items[i].device,
                                        encoding) != 0)
            return -1;
    }
    return 0;
}

static void publish_due(server *self, const campaign_record *campaign)
{
    target_record *items;
    size_t count, allowed = take_tokens(self->engine, campaign);
    if (allowed > CLAIMS_PER_TICK)
        allowed = CLAIMS_PER_TICK;
    if (allowed == 0 || !self->engine->publish)
        return;
    int64_t now = server_now();
    campaign_engine *engine = self->engine;
    if (storage_target_claim(self->store, campaign->id, stage_positions(campaign, campaign->stage),
                             now, now + engine->lease_s, engine->id, allowed, &items, &count) != 0)
        return;
    /* Each device's own request, built and published one after the other: the smallest
     * variant it can apply, its key wrapped to the device when its certificate is known; a
     * revoked device is skipped instead. Building takes time (a few queries, and a signature per
     * variant or per wrapped device), so a batch stops after a quarter of a lease (at most 1 s)
     * and renews the leases of what is in flight as it goes: a claim whose lease ran out before
     * its request went out, or while it was in flight, would be claimed (and published) again,
     * and the clock's other work must not wait behind a long batch. In flight: the
     * lease is renewed until the PUBACK is recorded (keep_leases). Not sent (revoked, no request,
     * out of time): no longer renewed, so it is claimed again when the lease ends. */
    request_sent *sent = calloc(count ? count : 1, sizeof(*sent));
    bool *went_out = calloc(count ? count : 1, sizeof(*went_out));
    request_cache cache = {.count = 0};
    double started = monotonic_seconds();
    double budget = engine->lease_s / 4.0 < 1.0 ? engine->lease_s / 4.0 : 1.0;
    size_t published = 0;
    for (size_t i = 0; i < count; i++) {
        char *json = NULL;
        keep_leases(self); /* the ones already in flight stay claimed while the batch goes on */
        if (sent && went_out && monotonic_seconds() - started < budget)
            json = device_request(self, campaign, items[i].device, &cache, &sent[i]);
        if (json && publish(self, campaign->id, items[i].device, json)) {
            went_out[i] = true;
            published++;
        } else {
            storage_target_unclaim(self->store, campaign->id, items[i].device, engine->id);
        }
        free_request(json);
    }
    request_cache_clear(&cache);
    if (published > 0) {
        sent_work work = {campaign->id, items, sent, went_out, count};
        storage_transaction(self->store, sent_work_run, &work);
    }
    free(sent);
    free(went_out);
    spend_tokens(self->engine, campaign->id, published);
    free(items);
}

/*
 * Once a second: the registry of servers, and the leases of this server's requests in flight
 * renewed every two seconds, for at most
 * CAMPAIGN_IN_FLIGHT_MAX_S after the claim. A slow broker or a long queue of acknowledgements
 * then never lets another claim (and a second publish) in while the first is in flight.
 */
static void keep_leases(server *self)
{
    campaign_engine *engine = self->engine;
    int64_t now = server_now();
    if (now == engine->last_beat)
        return;
    engine->last_beat = now;
    if (keep_registry(self)) {
        pthread_mutex_lock(&engine->lock);
        campaign_resync resync = engine->resync;
        void *context = engine->context;
        pthread_mutex_unlock(&engine->lock);
        if (resync)
            resync(context);
    }
    /* Renewed two seconds into the lease: a main loop held up for most of a lease (a long
     * transaction of the recorder holds the storage) must not let a claim lapse. */
    int64_t margin = engine->lease_s - 2 > 1 ? engine->lease_s - 2 : 1;
    storage_target_renew(self->store, engine->id, now, now + engine->lease_s, now + margin,
                         now - CAMPAIGN_IN_FLIGHT_MAX_S);
}

void campaign_tick(server *self)
{
    int64_t *ids;
    size_t count;
    keep_leases(self);
    if (storage_campaign_ids(self->store, "running", &ids, &count) != 0)
        return;
    for (size_t i = 0; i < count; i++) {
        evaluation work = {ids[i], false};
        campaign_record campaign;
        if (storage_transaction(self->store, evaluate_work, &work) != 0 || !work.running)
            continue;
        if (storage_campaign_get(self->store, ids[i], &campaign) != 0)
            continue;
        time_out_silent(self, &campaign);
        publish_due(self, &campaign);
        storage_campaign_free(&campaign);
    }
    free(ids);
}

/* --- JSON --------------------------------------------------------------------------------- */

static double dollars(uint64_t cents)
{
    return (double)cents / 100.0;
}

/* Seed 002's model (host/operator/cost.c): what was spent with the bytes actually served, and
 * the projection for every target. */
static cJSON *cost_json(server *self, const campaign_record *campaign)
{
    operator_prices prices;
    operator_cost spent, projected;
    release_record release;
    uint64_t image = 0;
    if (storage_release_get(self->store, campaign->release, &release) == 0) {
        image = release.size;
        storage_release_free(&release);
    }
    operator_prices_default("aws", &prices);
    operator_cost_input input = {(uint64_t)campaign->requests_published, image,
                                 OPERATOR_SEED_REQUEST_BYTES, 1.0};
    operator_cost_compute(&prices, &input, &spent);
    /* egress: the bytes served, not one whole image per request */
    spent.transfer_gb = (double)campaign->bytes_served / (1024.0 * 1024 * 1024);
    spent.egress.exact = spent.transfer_gb * prices.egress_per_gb;
    spent.egress.billed_cents = operator_bill_cents(spent.egress.exact);
    spent.data.billed_cents =
        spent.storage.billed_cents + spent.gets.billed_cents + spent.egress.billed_cents;
    spent.total.billed_cents = spent.requests.billed_cents + spent.data.billed_cents;
    /* The whole campaign at the bytes a confirmed device has cost so far (deltas and compressed
     * images are smaller than the release), at the full image before any is confirmed. */
    if (campaign->counts[TARGET_CONFIRMED] > 0 && campaign->bytes_served > 0)
        input.image_bytes = (uint64_t)(campaign->bytes_served / campaign->counts[TARGET_CONFIRMED]);
    input.devices = (uint64_t)campaign->targeted;
    operator_cost_compute(&prices, &input, &projected);
    cJSON *cost = cJSON_CreateObject();
    cJSON_AddStringToObject(cost, "provider", prices.provider);
    cJSON_AddNumberToObject(cost, "requests_usd", dollars(spent.requests.billed_cents));
    cJSON_AddNumberToObject(cost, "data_usd", dollars(spent.data.billed_cents));
    cJSON_AddNumberToObject(cost, "total_usd", dollars(spent.total.billed_cents));
    cJSON_AddNumberToObject(cost, "projected_total_usd", dollars(projected.total.billed_cents));
    return cost;
}

cJSON *campaign_json(server *self, const campaign_record *campaign)
{
    cJSON *object = cJSON_CreateObject(), *counts = cJSON_CreateObject();
    cJSON *stages = cJSON_CreateArray(), *targets = cJSON_CreateArray();
    cJSON *failures = cJSON_CreateArray();
    failure_group *groups;
    size_t group_count;
    cJSON_AddNumberToObject(object, "id", (double)campaign->id);
    cJSON_AddStringToObject(object, "name", campaign->name);
    cJSON_AddStringToObject(object, "release", campaign->release);
    cJSON_AddStringToObject(object, "state", campaign->state);
    cJSON_AddNumberToObject(object, "stage", campaign->stage + 1);
    for (size_t i = 0; i < campaign->stage_count; i++) {
        cJSON_AddItemToArray(stages, cJSON_CreateNumber(campaign->stages[i]));
        cJSON_AddItemToArray(targets,
                             cJSON_CreateNumber((double)stage_positions(campaign, (int)i)));
    }
    cJSON_AddItemToObject(object, "stages", stages);
    cJSON_AddNumberToObject(object, "success_percent", campaign->success_percent);
    cJSON_AddNumberToObject(object, "halt_failure_percent", campaign->halt_failure_percent);
    cJSON_AddNumberToObject(object, "rate_per_minute", campaign->rate_per_minute);
    cJSON_AddNumberToObject(object, "timeout_s", (double)campaign->timeout_s);
    cJSON_AddNumberToObject(object, "retries", campaign->retries);
    cJSON_AddStringToObject(object, "halt_reason", campaign->halt_reason);
    cJSON_AddNumberToObject(object, "targeted", (double)campaign->targeted);
    for (int i = 0; i < TARGET_STATE_COUNT; i++)
        cJSON_AddNumberToObject(counts, target_state_name((target_state)i),
                                (double)campaign->counts[i]);
    cJSON_AddItemToObject(object, "counts", counts);
    /* The top-level counts design.md lists, for scripts. */
    for (int i = 0; i < TARGET_STATE_COUNT; i++)
        cJSON_AddNumberToObject(object, target_state_name((target_state)i),
                                (double)campaign->counts[i]);
    cJSON_AddItemToObject(object, "stage_targets", targets);
    if (storage_campaign_failures(self->store, campaign->id, &groups, &group_count) == 0) {
        for (size_t i = 0; i < group_count; i++) {
            cJSON *group = cJSON_CreateObject();
            cJSON_AddStringToObject(group, "reason", groups[i].reason);
            cJSON_AddStringToObject(group, "message", groups[i].message);
            cJSON_AddNumberToObject(group, "count", (double)groups[i].count);
            cJSON_AddItemToArray(failures, group);
        }
        free(groups);
    }
    cJSON_AddItemToObject(object, "failures", failures);
    cJSON_AddNumberToObject(object, "bytes_served", (double)campaign->bytes_served);
    /* What was really sent: devices by the variant chosen for them, bytes by variant. */
    int64_t sent[VARIANT_ENCODING_COUNT];
    if (storage_campaign_sent(self->store, campaign->id, sent) != 0)
        memset(sent, 0, sizeof(sent));
    cJSON *split = cJSON_CreateObject();
    for (int i = 0; i < VARIANT_ENCODING_COUNT; i++) {
        cJSON *part = cJSON_CreateObject();
        cJSON_AddNumberToObject(part, "devices", (double)sent[i]);
        cJSON_AddNumberToObject(part, "bytes", (double)campaign->bytes_by_encoding[i]);
        cJSON_AddItemToObject(split, variant_encoding_name((variant_encoding)i), part);
    }
    cJSON_AddItemToObject(object, "sent", split);
    cJSON_AddNumberToObject(object, "requests_published", (double)campaign->requests_published);
    cJSON_AddItemToObject(object, "cost", cost_json(self, campaign));
    server_add_time(object, "created_at", campaign->created_at);
    server_add_time(object, "updated_at", campaign->updated_at);
    server_add_time(object, "finished_at", campaign->finished_at);
    return object;
}

cJSON *target_json(const target_record *target)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddStringToObject(object, "device", target->device);
    cJSON_AddStringToObject(object, "state", target_state_name(target->state));
    cJSON_AddStringToObject(object, "reason", target->reason);
    cJSON_AddStringToObject(object, "message", target->message);
    cJSON_AddNumberToObject(object, "attempts", target->attempts);
    cJSON_AddNumberToObject(object, "position", (double)target->position);
    cJSON_AddStringToObject(object, "sent", target->encoding);
    server_add_time(object, "updated_at", target->updated_at);
    return object;
}
