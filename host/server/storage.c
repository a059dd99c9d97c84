/*
 * The server's SQL, written once for both drivers (db.h): portable statements with `$N`
 * parameters, INSERT ... ON CONFLICT and RETURNING, which SQLite 3.35+ and PostgreSQL share.
 * What differs (the auto-numbered key, how a write transaction starts, SKIP LOCKED) comes from
 * the driver. Integers travel as decimal text; booleans are 0/1 integers.
 */
#include "storage.h"

#include "db.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 4
/* The version `schema` below makes (its tables have server-scale's lease columns); the
 * migrations go on from it, and bring older databases up from theirs. */
#define SCHEMA_CREATED 2

/* A campaign's counter changes inside the open transaction, written just before it commits. */
typedef struct counter_delta {
    int64_t campaign;
    int64_t states[TARGET_STATE_COUNT];
    int64_t requests;
    int64_t updated_at;
} counter_delta;

struct storage {
    db database;
    pthread_mutex_t lock; /* recursive: a transaction's work calls the public functions */
    int depth;            /* transactions open on the thread holding the lock */
    bool failed;          /* a statement failed inside the open transaction */
    /*
     * Counter changes of the open transaction. The campaign's row is every transaction's hot
     * row: written last, in campaign order, it is locked for the commit only, and two servers'
     * transactions never hold it while they wait for a target's row (a deadlock on
     * PostgreSQL, seen with two servers, when it was written after each target's move).
     */
    counter_delta *deltas;
    size_t delta_count, delta_capacity;
    char error[512];
};

static const char *const state_names[TARGET_STATE_COUNT] = {
    "pending", "notified", "downloading", "installing", "confirmed", "failed", "skipped",
};

const char *target_state_name(target_state state)
{
    return (unsigned)state < TARGET_STATE_COUNT ? state_names[state] : "unknown";
}

bool target_state_parse(const char *name, target_state *state)
{
    for (int i = 0; i < TARGET_STATE_COUNT; i++)
        if (name && strcmp(name, state_names[i]) == 0) {
            *state = (target_state)i;
            return true;
        }
    return false;
}

bool target_state_final(target_state state)
{
    return state == TARGET_CONFIRMED || state == TARGET_FAILED || state == TARGET_SKIPPED;
}

/* --- running statements --------------------------------------------------------------------- */

static void lock(storage *store)
{
    pthread_mutex_lock(&store->lock);
}

static void unlock(storage *store)
{
    pthread_mutex_unlock(&store->lock);
}

/* Runs a statement with `count` text parameters (NULL allowed) under the lock. */
static int run(storage *store, db_result *result, const char *sql, size_t count, ...)
{
    const char *params[24];
    va_list list;
    va_start(list, count);
    for (size_t i = 0; i < count && i < 24; i++)
        params[i] = va_arg(list, const char *);
    va_end(list);
    lock(store);
    int status = store->database.driver->execute(store->database.connection, sql, count, params,
                                                 result, store->error, sizeof(store->error));
    if (status != 0) {
        if (store->depth > 0)
            store->failed = true;
        fprintf(stderr, "cellota-server: storage: %s\n", store->error);
    }
    unlock(store);
    return status;
}

/* Decimal text of a number, in a buffer the caller's expression owns. */
#define NUMBER(value) number_text((char[24]){0}, (int64_t)(value))
static const char *number_text(char *buffer, int64_t value)
{
    snprintf(buffer, 24, "%" PRId64, value);
    return buffer;
}

static int64_t to_int(const char *text)
{
    return text ? strtoll(text, NULL, 10) : 0;
}

static void copy(char *target, size_t size, const char *text)
{
    snprintf(target, size, "%s", text ? text : "");
}

#define COPY(field, text) copy((field), sizeof(field), (text))

const char *storage_error(storage *store)
{
    return store->error;
}

const char *storage_backend(const storage *store)
{
    return store->database.driver->name;
}

static counter_delta *delta_of(storage *store, int64_t campaign)
{
    for (size_t i = 0; i < store->delta_count; i++)
        if (store->deltas[i].campaign == campaign)
            return &store->deltas[i];
    if (store->delta_count == store->delta_capacity) {
        size_t capacity = store->delta_capacity ? store->delta_capacity * 2 : 8;
        counter_delta *grown = realloc(store->deltas, capacity * sizeof(*grown));
        if (!grown)
            return NULL;
        store->deltas = grown;
        store->delta_capacity = capacity;
    }
    counter_delta *delta = &store->deltas[store->delta_count++];
    memset(delta, 0, sizeof(*delta));
    delta->campaign = campaign;
    return delta;
}

static int by_campaign(const void *a, const void *b)
{
    int64_t left = ((const counter_delta *)a)->campaign,
            right = ((const counter_delta *)b)->campaign;
    return left < right ? -1 : left > right;
}

/* The transaction's counter changes, one UPDATE per campaign, in campaign order. */
static int write_deltas(storage *store)
{
    if (store->delta_count == 0)
        return 0;
    qsort(store->deltas, store->delta_count, sizeof(*store->deltas), by_campaign);
    for (size_t i = 0; i < store->delta_count; i++) {
        const counter_delta *delta = &store->deltas[i];
        if (run(store, NULL,
                "UPDATE campaigns SET pending = pending + $2, notified = notified + $3, "
                "downloading = downloading + $4, installing = installing + $5, "
                "confirmed = confirmed + $6, failed = failed + $7, skipped = skipped + $8, "
                "requests_published = requests_published + $9, "
                "updated_at = CASE WHEN $10 > updated_at THEN $10 ELSE updated_at END "
                "WHERE id = $1",
                10, NUMBER(delta->campaign), NUMBER(delta->states[TARGET_PENDING]),
                NUMBER(delta->states[TARGET_NOTIFIED]), NUMBER(delta->states[TARGET_DOWNLOADING]),
                NUMBER(delta->states[TARGET_INSTALLING]), NUMBER(delta->states[TARGET_CONFIRMED]),
                NUMBER(delta->states[TARGET_FAILED]), NUMBER(delta->states[TARGET_SKIPPED]),
                NUMBER(delta->requests), NUMBER(delta->updated_at)) != 0)
            return -1;
    }
    return 0;
}

int storage_transaction(storage *store, int (*work)(storage *store, void *context), void *context)
{
    int status;
    lock(store);
    if (store->depth > 0) { /* joins the outer transaction */
        store->depth++;
        status = work(store, context);
        store->depth--;
        unlock(store);
        return status;
    }
    if (run(store, NULL, store->database.driver->begin, 0) != 0) {
        unlock(store);
        return -1;
    }
    store->depth = 1;
    store->failed = false;
    store->delta_count = 0;
    status = work(store, context);
    if (status == 0 && !store->failed && write_deltas(store) != 0)
        status = -1;
    if (status == 0 && store->failed)
        status = -1;
    store->depth = 0;
    store->delta_count = 0;
    if (status == 0) {
        if (run(store, NULL, "COMMIT", 0) != 0) {
            run(store, NULL, "ROLLBACK", 0);
            status = -1;
        }
    } else {
        run(store, NULL, "ROLLBACK", 0);
    }
    unlock(store);
    return status;
}

/* --- schema ----------------------------------------------------------------------------- */

/* %1$s: the driver's auto-numbered primary key. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS releases (version TEXT PRIMARY KEY, sha256 TEXT NOT NULL,"
    " plain_sha256 TEXT NOT NULL, size BIGINT NOT NULL, plain_size BIGINT NOT NULL,"
    " load_address BIGINT NOT NULL, security_version BIGINT NOT NULL, notes TEXT NOT NULL,"
    " plain_download INTEGER NOT NULL, request TEXT NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, model TEXT NOT NULL DEFAULT '',"
    " version TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '',"
    " online INTEGER NOT NULL DEFAULT 0, last_seen BIGINT NOT NULL DEFAULT 0,"
    " error INTEGER NOT NULL DEFAULT 0, error_name TEXT NOT NULL DEFAULT 'OK',"
    " message TEXT NOT NULL DEFAULT '', progress INTEGER NOT NULL DEFAULT 0,"
    " tags TEXT NOT NULL DEFAULT ',', last_status TEXT NOT NULL DEFAULT '',"
    " created_at BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS timeline (id %1$s, device TEXT NOT NULL, at BIGINT NOT NULL,"
    " state TEXT NOT NULL, version TEXT NOT NULL, target TEXT NOT NULL,"
    " progress INTEGER NOT NULL, error INTEGER NOT NULL, error_name TEXT NOT NULL,"
    " message TEXT NOT NULL, campaign TEXT NOT NULL, model TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS timeline_device ON timeline (device, id);"
    "CREATE TABLE IF NOT EXISTS campaigns (id %1$s, name TEXT NOT NULL, release TEXT NOT NULL,"
    " state TEXT NOT NULL, stage INTEGER NOT NULL, stages TEXT NOT NULL,"
    " success_percent INTEGER NOT NULL, halt_failure_percent INTEGER NOT NULL,"
    " rate_per_minute INTEGER NOT NULL, timeout_s BIGINT NOT NULL, retries INTEGER NOT NULL,"
    " halt_reason TEXT NOT NULL DEFAULT '', targeted BIGINT NOT NULL,"
    " pending BIGINT NOT NULL DEFAULT 0, notified BIGINT NOT NULL DEFAULT 0,"
    " downloading BIGINT NOT NULL DEFAULT 0, installing BIGINT NOT NULL DEFAULT 0,"
    " confirmed BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0,"
    " skipped BIGINT NOT NULL DEFAULT 0, bytes_served BIGINT NOT NULL DEFAULT 0,"
    " requests_published BIGINT NOT NULL DEFAULT 0, request TEXT NOT NULL DEFAULT '',"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " finished_at BIGINT NOT NULL DEFAULT 0, stage_started_at BIGINT NOT NULL DEFAULT 0,"
    " failures_accepted BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS targets (campaign BIGINT NOT NULL, device TEXT NOT NULL,"
    " position BIGINT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
    " message TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at BIGINT NOT NULL DEFAULT 0, began_at BIGINT NOT NULL DEFAULT 0,"
    " notified_at BIGINT NOT NULL DEFAULT 0, lease_until BIGINT NOT NULL DEFAULT 0,"
    " updated_at BIGINT NOT NULL DEFAULT 0, leased_by TEXT NOT NULL DEFAULT '',"
    " claimed_at BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (campaign, device));"
    "CREATE INDEX IF NOT EXISTS targets_state ON targets (campaign, state, position);"
    "CREATE INDEX IF NOT EXISTS targets_device ON targets (device);"
    "CREATE TABLE IF NOT EXISTS servers (id TEXT PRIMARY KEY, seen_at BIGINT NOT NULL);";

/* Version 2: who holds a target's lease, since when (renewed while its request is in flight). */
#define LEASE_INDEX "CREATE INDEX IF NOT EXISTS targets_lease ON targets (leased_by, state);"

/* Later schema versions add their steps here: { version, statements }. */
static const struct migration {
    int version;
    const char *sql;
} migrations[] = {
    /* 2: leases renewed by their claimer (server-scale). */
    {2, "ALTER TABLE targets ADD COLUMN leased_by TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE targets ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0;"},
    /* 3: keys sealed at rest and a request built per device (issues 11 and 12): a release's
     * variants (full, compressed, deltas) with sealed keys, retirement, what devices report
     * of their running image, their certificates, what each target was sent and the bytes
     * served per encoding. */
    {3, "ALTER TABLE releases ADD COLUMN retired_at BIGINT NOT NULL DEFAULT 0;"
        "CREATE TABLE IF NOT EXISTS release_variants (release TEXT NOT NULL,"
        " encoding TEXT NOT NULL, base_version TEXT NOT NULL DEFAULT '',"
        " base_size BIGINT NOT NULL DEFAULT 0, base_sha256 TEXT NOT NULL DEFAULT '',"
        " sha256 TEXT NOT NULL, size BIGINT NOT NULL, fw_info TEXT NOT NULL,"
        " sealed_key TEXT NOT NULL DEFAULT '', PRIMARY KEY (release, sha256));"
        "ALTER TABLE devices ADD COLUMN image TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE devices ADD COLUMN decodes INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE devices ADD COLUMN certificate TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE targets ADD COLUMN encoding TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE campaigns ADD COLUMN bytes_compressed BIGINT NOT NULL DEFAULT 0;"
        "ALTER TABLE campaigns ADD COLUMN bytes_delta BIGINT NOT NULL DEFAULT 0;"
        /* requests are built when sent now: the stored ones (keys in the clear) go */
        "UPDATE campaigns SET request = '';"},
    /* 4: a device that connected while its request was in flight is sent it again once the
     * broker's acknowledgement is recorded (the broker may have had no session to keep it). */
    {4, "ALTER TABLE targets ADD COLUMN resend INTEGER NOT NULL DEFAULT 0;"},
};

static int create_schema(storage *store)
{
    char *sql = NULL;
    int length = snprintf(NULL, 0, schema, store->database.driver->serial_key);
    if (length < 0 || !(sql = malloc((size_t)length + 1)))
        return -1;
    snprintf(sql, (size_t)length + 1, schema, store->database.driver->serial_key);
    int status = run(store, NULL, sql, 0);
    free(sql);
    if (status != 0)
        return -1;
    if (run(store, NULL,
            "INSERT INTO meta (name, value) VALUES ('schema', $1) ON CONFLICT (name) DO NOTHING", 1,
            NUMBER(SCHEMA_CREATED)) != 0)
        return -1;
    int64_t version = storage_counter_get(store, "schema");
    if (version > SCHEMA_VERSION) {
        snprintf(store->error, sizeof(store->error),
                 "the database has schema version %" PRId64 ", newer than this server's %d",
                 version, SCHEMA_VERSION);
        return -1;
    }
    for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++)
        if (migrations[i].sql && migrations[i].version > version &&
            (run(store, NULL, migrations[i].sql, 0) != 0 ||
             run(store, NULL, "UPDATE meta SET value = $1 WHERE name = 'schema'", 1,
                 NUMBER(migrations[i].version)) != 0))
            return -1;
    return run(store, NULL, LEASE_INDEX, 0);
}

int storage_open(const char *spec, storage **result, char *error, size_t error_size)
{
    storage *store = calloc(1, sizeof(*store));
    pthread_mutexattr_t attributes;
    if (!store) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&store->lock, &attributes);
    pthread_mutexattr_destroy(&attributes);
    if (db_open(spec, &store->database, error, error_size) != 0) {
        pthread_mutex_destroy(&store->lock);
        free(store);
        return -1;
    }
    if (create_schema(store) != 0) {
        snprintf(error, error_size, "cannot create the schema: %s", store->error);
        storage_close(store);
        return -1;
    }
    *result = store;
    return 0;
}

void storage_close(storage *store)
{
    if (!store)
        return;
    db_close(&store->database);
    pthread_mutex_destroy(&store->lock);
    free(store->deltas);
    free(store);
}

/* --- counters --------------------------------------------------------------------------- */

int storage_counter_add(storage *store, const char *name, int64_t amount)
{
    return run(store, NULL,
               "INSERT INTO meta (name, value) VALUES ($1, $2) "
               "ON CONFLICT (name) DO UPDATE SET value = meta.value + excluded.value",
               2, name, NUMBER(amount));
}

int64_t storage_counter_get(storage *store, const char *name)
{
    db_result result;
    if (run(store, &result, "SELECT value FROM meta WHERE name = $1", 1, name) != 0)
        return -1;
    int64_t value = to_int(db_value(&result, 0, 0));
    db_result_free(&result);
    return value;
}

/* --- releases --------------------------------------------------------------------------- */

#define RELEASE_COLUMNS                                                                            \
    "version, sha256, plain_sha256, size, plain_size, load_address, security_version, notes, "     \
    "plain_download, created_at, request, retired_at"

static void read_release(const db_result *result, size_t row, release_record *release,
                         bool with_request)
{
    memset(release, 0, sizeof(*release));
    COPY(release->version, db_value(result, row, 0));
    COPY(release->sha256, db_value(result, row, 1));
    COPY(release->plain_sha256, db_value(result, row, 2));
    release->size = (uint64_t)to_int(db_value(result, row, 3));
    release->plain_size = (uint64_t)to_int(db_value(result, row, 4));
    release->load_address = (uint32_t)to_int(db_value(result, row, 5));
    release->security_version = (uint32_t)to_int(db_value(result, row, 6));
    COPY(release->notes, db_value(result, row, 7));
    release->plain_download = to_int(db_value(result, row, 8)) != 0;
    release->created_at = to_int(db_value(result, row, 9));
    if (with_request && db_value(result, row, 10))
        release->request = strdup(db_value(result, row, 10));
    release->retired_at = to_int(db_value(result, row, 11));
}

int storage_release_add(storage *store, const release_record *release)
{
    db_result result;
    if (run(store, &result,
            "INSERT INTO releases (" RELEASE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
            "$9, $10, $11, $12) ON CONFLICT (version) DO NOTHING RETURNING version",
            12, release->version, release->sha256, release->plain_sha256, NUMBER(release->size),
            NUMBER(release->plain_size), NUMBER(release->load_address),
            NUMBER(release->security_version), release->notes,
            NUMBER(release->plain_download ? 1 : 0), NUMBER(release->created_at),
            release->request ? release->request : "", NUMBER(release->retired_at)) != 0)
        return -1;
    int status = result.rows == 1 ? 0 : STORAGE_EXISTS;
    db_result_free(&result);
    return status;
}

int storage_release_get(storage *store, const char *version, release_record *release)
{
    db_result result;
    if (run(store, &result, "SELECT " RELEASE_COLUMNS " FROM releases WHERE version = $1", 1,
            version) != 0)
        return -1;
    int status = STORAGE_NOT_FOUND;
    if (result.rows == 1) {
        read_release(&result, 0, release, true);
        status = 0;
    }
    db_result_free(&result);
    return status;
}

/* SELECT count(*) ... as a number. */
static int count_of(storage *store, int64_t *total, const char *sql, size_t count, const char *a,
                    const char *b, const char *c, const char *d)
{
    db_result result;
    if (run(store, &result, sql, count, a, b, c, d) != 0)
        return -1;
    *total = to_int(db_value(&result, 0, 0));
    db_result_free(&result);
    return 0;
}

int storage_release_list(storage *store, size_t limit, size_t offset, release_record **items,
                         size_t *count, int64_t *total)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (count_of(store, total, "SELECT count(*) FROM releases", 0, NULL, NULL, NULL, NULL) != 0)
        return -1;
    if (run(store, &result,
            "SELECT " RELEASE_COLUMNS " FROM releases ORDER BY created_at DESC, version DESC "
            "LIMIT $1 OFFSET $2",
            2, NUMBER(limit), NUMBER(offset)) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++)
        read_release(&result, row, &(*items)[row], false);
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

void storage_release_free(release_record *release)
{
    if (release && release->request) {
        /* the request holds the image key */
        memset(release->request, 0, strlen(release->request));
        free(release->request);
        release->request = NULL;
    }
}

static const char *const encoding_names[VARIANT_ENCODING_COUNT] = {"full", "compressed",
                                                                    "delta"};

const char *variant_encoding_name(variant_encoding encoding)
{
    return (unsigned)encoding < VARIANT_ENCODING_COUNT ? encoding_names[encoding] : "unknown";
}

bool variant_encoding_parse(const char *name, variant_encoding *encoding)
{
    for (int i = 0; i < VARIANT_ENCODING_COUNT; i++)
        if (name && strcmp(name, encoding_names[i]) == 0) {
            *encoding = (variant_encoding)i;
            return true;
        }
    return false;
}

int storage_release_clear_request(storage *store, const char *version)
{
    return run(store, NULL, "UPDATE releases SET request = '' WHERE version = $1", 1, version);
}

typedef struct retirement {
    const char *version;
    int64_t now;
} retirement;

static int retire_work(storage *store, void *context)
{
    const retirement *work = context;
    db_result result;
    if (run(store, &result,
            "UPDATE releases SET retired_at = CASE WHEN retired_at = 0 THEN $2 ELSE retired_at "
            "END, request = '' WHERE version = $1 RETURNING version",
            2, work->version, NUMBER(work->now)) != 0)
        return -1;
    int status = result.rows == 1 ? 0 : STORAGE_NOT_FOUND;
    db_result_free(&result);
    if (status != 0)
        return status;
    /* The sealed keys go: nothing left anywhere decrypts the release's images. */
    return run(store, NULL, "UPDATE release_variants SET sealed_key = '' WHERE release = $1", 1,
               work->version);
}

int storage_release_retire(storage *store, const char *version, int64_t now)
{
    retirement work = {version, now};
    return storage_transaction(store, retire_work, &work);
}

int storage_release_in_use(storage *store, const char *version, int64_t *campaign)
{
    db_result result;
    if (run(store, &result,
            "SELECT id FROM campaigns WHERE release = $1 AND state IN ('running', 'paused', "
            "'halted') ORDER BY id LIMIT 1",
            1, version) != 0)
        return -1;
    int status = STORAGE_NOT_FOUND;
    if (result.rows == 1) {
        *campaign = to_int(db_value(&result, 0, 0));
        status = 0;
    }
    db_result_free(&result);
    return status;
}

int storage_variant_add(storage *store, const release_variant *variant)
{
    return run(store, NULL,
               "INSERT INTO release_variants (release, encoding, base_version, base_size, "
               "base_sha256, sha256, size, fw_info, sealed_key) VALUES ($1, $2, $3, $4, $5, $6, "
               "$7, $8, $9)",
               9, variant->release, variant_encoding_name(variant->encoding),
               variant->base_version, NUMBER(variant->base_size), variant->base_sha256,
               variant->sha256, NUMBER(variant->size), variant->fw_info, variant->sealed_key);
}

int storage_variant_list(storage *store, const char *release, release_variant **items,
                         size_t *count)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (run(store, &result,
            "SELECT release, encoding, base_version, base_size, base_sha256, sha256, size, "
            "fw_info, sealed_key FROM release_variants WHERE release = $1 "
            "ORDER BY CASE encoding WHEN 'full' THEN 0 WHEN 'compressed' THEN 1 ELSE 2 END, "
            "base_version",
            1, release) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++) {
        release_variant *variant = &(*items)[row];
        COPY(variant->release, db_value(&result, row, 0));
        if (!variant_encoding_parse(db_value(&result, row, 1), &variant->encoding))
            variant->encoding = VARIANT_ENCODING_COUNT; /* never chosen */
        COPY(variant->base_version, db_value(&result, row, 2));
        variant->base_size = (uint32_t)to_int(db_value(&result, row, 3));
        COPY(variant->base_sha256, db_value(&result, row, 4));
        COPY(variant->sha256, db_value(&result, row, 5));
        variant->size = (uint64_t)to_int(db_value(&result, row, 6));
        COPY(variant->fw_info, db_value(&result, row, 7));
        COPY(variant->sealed_key, db_value(&result, row, 8));
    }
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

/* --- devices ---------------------------------------------------------------------------- */

int storage_device_seen(storage *store, const char *id, int online, int64_t now)
{
    return run(store, NULL,
               "INSERT INTO devices (id, online, last_seen, created_at) "
               "VALUES ($1, CASE WHEN $2 = 1 THEN 1 ELSE 0 END, $3, $3) "
               "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, "
               "online = CASE WHEN $2 < 0 THEN devices.online ELSE $2 END",
               3, id, NUMBER(online), NUMBER(now));
}

/* The device's row takes the status unless it is the very message last recorded (the
 * deduplication), and is marked heard from and online; false in *fresh when no row changed. */
static int take_status(storage *store, const char *id, const device_status *status, const char *raw,
                       int64_t now, bool *fresh)
{
    db_result result;
    if (run(store, &result,
            "UPDATE devices SET state = $2, version = $3, error = $4, error_name = $5, "
            "message = $6, progress = $7, model = CASE WHEN $8 = '' THEN model ELSE $8 END, "
            "last_status = $9, image = CASE WHEN $10 = '' THEN image ELSE $10 END, "
            "decodes = CASE WHEN $11 < 0 THEN decodes ELSE $11 END, last_seen = $12, online = 1 "
            "WHERE id = $1 AND last_status <> $9 RETURNING id",
            12, id, status->state, status->version, NUMBER(status->error), status->error_name,
            status->message, NUMBER(status->progress), status->model, raw, status->image,
            NUMBER(status->decodes), NUMBER(now)) != 0)
        return -1;
    *fresh = result.rows == 1;
    db_result_free(&result);
    return 0;
}

int storage_device_status(storage *store, const char *id, const device_status *status,
                          const char *raw, int64_t now, bool *fresh)
{
    *fresh = false;
    /* One statement for the usual case, a known device with a new status (on PostgreSQL a
     * status costs its round trips); a new device or a repeated message takes two more. */
    if (take_status(store, id, status, raw, now, fresh) != 0)
        return -1;
    if (!*fresh && (storage_device_seen(store, id, 1, now) != 0 ||
                    take_status(store, id, status, raw, now, fresh) != 0))
        return -1;
    if (!*fresh)
        return 0;
    return run(store, NULL,
               "INSERT INTO timeline (device, at, state, version, target, progress, error, "
               "error_name, message, campaign, model) "
               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
               11, id, NUMBER(now), status->state, status->version, status->target,
               NUMBER(status->progress), NUMBER(status->error), status->error_name, status->message,
               status->campaign, status->model);
}

/* The device's newest campaign and its state there come along with every device read. */
#define DEVICE_COLUMNS                                                                             \
    "d.id, d.model, d.version, d.state, d.online, d.last_seen, d.error, d.error_name, "            \
    "d.message, d.progress, d.tags, t.campaign, t.state, d.image, d.decodes "                      \
    "FROM devices d LEFT JOIN targets t "                                                           \
    "ON t.device = d.id AND t.campaign = (SELECT max(campaign) FROM targets WHERE device = d.id)"

static void read_device(const db_result *result, size_t row, device_record *device)
{
    memset(device, 0, sizeof(*device));
    COPY(device->id, db_value(result, row, 0));
    COPY(device->model, db_value(result, row, 1));
    COPY(device->version, db_value(result, row, 2));
    COPY(device->state, db_value(result, row, 3));
    device->online = to_int(db_value(result, row, 4)) != 0;
    device->last_seen = to_int(db_value(result, row, 5));
    device->error = (int)to_int(db_value(result, row, 6));
    COPY(device->error_name, db_value(result, row, 7));
    COPY(device->message, db_value(result, row, 8));
    device->progress = (int)to_int(db_value(result, row, 9));
    COPY(device->tags, db_value(result, row, 10));
    device->campaign = to_int(db_value(result, row, 11));
    COPY(device->campaign_state, db_value(result, row, 12));
    COPY(device->image, db_value(result, row, 13));
    device->decodes = to_int(db_value(result, row, 14)) != 0;
}

int storage_device_get(storage *store, const char *id, device_record *device)
{
    db_result result;
    if (run(store, &result, "SELECT " DEVICE_COLUMNS " WHERE d.id = $1", 1, id) != 0)
        return -1;
    int status = STORAGE_NOT_FOUND;
    if (result.rows == 1) {
        read_device(&result, 0, device);
        status = 0;
    }
    db_result_free(&result);
    return status;
}

#define DEVICE_FILTER                                                                              \
    " WHERE ($1 = '' OR d.state = $1) AND ($2 = '' OR d.version = $2) AND "                        \
    "($3 = '' OR d.tags LIKE '%,' || $3 || ',%') AND ($4 < 0 OR d.online = $4)"

int storage_device_list(storage *store, const device_filter *filter, size_t limit, size_t offset,
                        device_record **items, size_t *count, int64_t *total)
{
    const char *state = filter->state ? filter->state : "";
    const char *version = filter->version ? filter->version : "";
    const char *tag = filter->tag ? filter->tag : "";
    db_result result;
    *items = NULL;
    *count = 0;
    if (count_of(store, total, "SELECT count(*) FROM devices d" DEVICE_FILTER, 4, state, version,
                 tag, NUMBER(filter->online)) != 0)
        return -1;
    if (run(store, &result,
            "SELECT " DEVICE_COLUMNS DEVICE_FILTER " ORDER BY d.id LIMIT $5 OFFSET $6", 6, state,
            version, tag, NUMBER(filter->online), NUMBER(limit), NUMBER(offset)) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++)
        read_device(&result, row, &(*items)[row]);
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

int storage_device_timeline(storage *store, const char *id, size_t limit, timeline_entry **items,
                            size_t *count)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (run(store, &result,
            "SELECT at, state, version, target, progress, error, error_name, message, campaign, "
            "model FROM timeline WHERE device = $1 ORDER BY id DESC LIMIT $2",
            2, id, NUMBER(limit)) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++) {
        timeline_entry *entry = &(*items)[row];
        entry->at = to_int(db_value(&result, row, 0));
        COPY(entry->status.state, db_value(&result, row, 1));
        COPY(entry->status.version, db_value(&result, row, 2));
        COPY(entry->status.target, db_value(&result, row, 3));
        entry->status.progress = (int)to_int(db_value(&result, row, 4));
        entry->status.error = (int)to_int(db_value(&result, row, 5));
        COPY(entry->status.error_name, db_value(&result, row, 6));
        COPY(entry->status.message, db_value(&result, row, 7));
        COPY(entry->status.campaign, db_value(&result, row, 8));
        COPY(entry->status.model, db_value(&result, row, 9));
    }
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

int storage_device_set_tags(storage *store, const char *id, const char *tags)
{
    db_result result;
    if (run(store, &result, "UPDATE devices SET tags = $2 WHERE id = $1 RETURNING id", 2, id,
            tags) != 0)
        return -1;
    int status = result.rows == 1 ? 0 : STORAGE_NOT_FOUND;
    db_result_free(&result);
    return status;
}

int storage_device_set_certificate(storage *store, const char *id, const char *pem)
{
    db_result result;
    if (run(store, &result, "UPDATE devices SET certificate = $2 WHERE id = $1 RETURNING id", 2,
            id, pem) != 0)
        return -1;
    int status = result.rows == 1 ? 0 : STORAGE_NOT_FOUND;
    db_result_free(&result);
    return status;
}

int storage_device_certificate(storage *store, const char *id, char **pem)
{
    db_result result;
    *pem = NULL;
    if (run(store, &result, "SELECT certificate FROM devices WHERE id = $1", 1, id) != 0)
        return -1;
    const char *text = result.rows == 1 ? db_value(&result, 0, 0) : NULL;
    int status = 0;
    if (text && text[0] && !(*pem = strdup(text)))
        status = -1;
    db_result_free(&result);
    return status;
}

void storage_free_ids(char **ids, size_t count)
{
    for (size_t i = 0; ids && i < count; i++)
        free(ids[i]);
    free(ids);
}

int storage_device_ids(storage *store, const char *tag, char ***ids, size_t *count)
{
    db_result result;
    *ids = NULL;
    *count = 0;
    if (run(store, &result,
            "SELECT id FROM devices WHERE $1 = '' OR tags LIKE '%,' || $1 || ',%' ORDER BY id", 1,
            tag ? tag : "") != 0)
        return -1;
    if (result.rows && !(*ids = calloc(result.rows, sizeof(char *)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++) {
        (*ids)[row] = result.values[row]; /* taken over from the result */
        result.values[row] = NULL;
    }
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

int storage_device_groups(storage *store, const char *column, count_group **items, size_t *count)
{
    db_result result;
    const char *sql =
        strcmp(column, "version") == 0
            ? "SELECT version, count(*) FROM devices GROUP BY version ORDER BY version"
            : "SELECT state, count(*) FROM devices GROUP BY state ORDER BY state";
    *items = NULL;
    *count = 0;
    if (run(store, &result, sql, 0) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++) {
        COPY((*items)[row].name, db_value(&result, row, 0));
        (*items)[row].count = to_int(db_value(&result, row, 1));
    }
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

int storage_device_totals(storage *store, int64_t *devices, int64_t *online)
{
    db_result result;
    if (run(store, &result, "SELECT count(*), coalesce(sum(online), 0) FROM devices", 0) != 0)
        return -1;
    *devices = to_int(db_value(&result, 0, 0));
    *online = to_int(db_value(&result, 0, 1));
    db_result_free(&result);
    return 0;
}

/* --- campaigns -------------------------------------------------------------------------- */

#define CAMPAIGN_COLUMNS                                                                           \
    "id, name, release, state, stage, stages, success_percent, halt_failure_percent, "             \
    "rate_per_minute, timeout_s, retries, halt_reason, targeted, pending, notified, "              \
    "downloading, installing, confirmed, failed, skipped, bytes_served, requests_published, "      \
    "created_at, updated_at, finished_at, stage_started_at, failures_accepted, "                  \
    "bytes_compressed, bytes_delta"

static void stages_text(const campaign_record *campaign, char *text, size_t size)
{
    size_t length = 0;
    text[0] = '\0';
    for (size_t i = 0; i < campaign->stage_count && length < size; i++)
        length += (size_t)snprintf(text + length, size - length, "%s%d", i ? "," : "",
                                   campaign->stages[i]);
}

static void read_campaign(const db_result *result, size_t row, campaign_record *campaign)
{
    memset(campaign, 0, sizeof(*campaign));
    campaign->id = to_int(db_value(result, row, 0));
    COPY(campaign->name, db_value(result, row, 1));
    COPY(campaign->release, db_value(result, row, 2));
    COPY(campaign->state, db_value(result, row, 3));
    campaign->stage = (int)to_int(db_value(result, row, 4));
    const char *stages = db_value(result, row, 5);
    while (stages && *stages && campaign->stage_count < STORAGE_STAGES_MAX) {
        char *end;
        campaign->stages[campaign->stage_count++] = (int)strtol(stages, &end, 10);
        stages = *end == ',' ? end + 1 : end;
        if (end == stages && *end)
            break;
    }
    campaign->success_percent = (int)to_int(db_value(result, row, 6));
    campaign->halt_failure_percent = (int)to_int(db_value(result, row, 7));
    campaign->rate_per_minute = (int)to_int(db_value(result, row, 8));
    campaign->timeout_s = to_int(db_value(result, row, 9));
    campaign->retries = (int)to_int(db_value(result, row, 10));
    COPY(campaign->halt_reason, db_value(result, row, 11));
    campaign->targeted = to_int(db_value(result, row, 12));
    for (int i = 0; i < TARGET_STATE_COUNT; i++)
        campaign->counts[i] = to_int(db_value(result, row, 13 + (size_t)i));
    campaign->bytes_served = (uint64_t)to_int(db_value(result, row, 20));
    campaign->requests_published = (uint64_t)to_int(db_value(result, row, 21));
    campaign->created_at = to_int(db_value(result, row, 22));
    campaign->updated_at = to_int(db_value(result, row, 23));
    campaign->finished_at = to_int(db_value(result, row, 24));
    campaign->stage_started_at = to_int(db_value(result, row, 25));
    campaign->failures_accepted = to_int(db_value(result, row, 26));
    campaign->bytes_by_encoding[VARIANT_COMPRESSED] = (uint64_t)to_int(db_value(result, row, 27));
    campaign->bytes_by_encoding[VARIANT_DELTA] = (uint64_t)to_int(db_value(result, row, 28));
    uint64_t encoded = campaign->bytes_by_encoding[VARIANT_COMPRESSED] +
                       campaign->bytes_by_encoding[VARIANT_DELTA];
    campaign->bytes_by_encoding[VARIANT_FULL] =
        campaign->bytes_served > encoded ? campaign->bytes_served - encoded : 0;
}

/* How many targets were sent each encoding. */
int storage_campaign_sent(storage *store, int64_t id, int64_t sent[VARIANT_ENCODING_COUNT])
{
    db_result result;
    memset(sent, 0, sizeof(int64_t) * VARIANT_ENCODING_COUNT);
    if (run(store, &result,
            "SELECT encoding, count(*) FROM targets WHERE campaign = $1 AND encoding <> '' "
            "GROUP BY encoding",
            1, NUMBER(id)) != 0)
        return -1;
    for (size_t row = 0; row < result.rows; row++) {
        variant_encoding encoding;
        if (variant_encoding_parse(db_value(&result, row, 0), &encoding))
            sent[encoding] = to_int(db_value(&result, row, 1));
    }
    db_result_free(&result);
    return 0;
}

int storage_campaign_insert(storage *store, campaign_record *campaign)
{
    char stages[STORAGE_STAGES_MAX * 5];
    db_result result;
    stages_text(campaign, stages, sizeof(stages));
    if (run(store, &result,
            "INSERT INTO campaigns (name, release, state, stage, stages, success_percent, "
            "halt_failure_percent, rate_per_minute, timeout_s, retries, targeted, pending, "
            "skipped, created_at, updated_at, stage_started_at) VALUES ($1, $2, $3, $4, $5, $6, "
            "$7, $8, $9, $10, $11, $12, $13, $14, $14, $14) RETURNING id",
            14, campaign->name, campaign->release, campaign->state, NUMBER(campaign->stage), stages,
            NUMBER(campaign->success_percent), NUMBER(campaign->halt_failure_percent),
            NUMBER(campaign->rate_per_minute), NUMBER(campaign->timeout_s),
            NUMBER(campaign->retries), NUMBER(campaign->targeted),
            NUMBER(campaign->counts[TARGET_PENDING]), NUMBER(campaign->counts[TARGET_SKIPPED]),
            NUMBER(campaign->created_at)) != 0)
        return -1;
    campaign->id = to_int(db_value(&result, 0, 0));
    db_result_free(&result);
    return campaign->id > 0 ? 0 : -1;
}

int storage_campaign_set_request(storage *store, int64_t id, const char *request)
{
    return run(store, NULL, "UPDATE campaigns SET request = $2 WHERE id = $1", 2, NUMBER(id),
               request);
}

int storage_campaign_get(storage *store, int64_t id, campaign_record *campaign)
{
    db_result result;
    if (run(store, &result, "SELECT " CAMPAIGN_COLUMNS ", request FROM campaigns WHERE id = $1", 1,
            NUMBER(id)) != 0)
        return -1;
    int status = STORAGE_NOT_FOUND;
    if (result.rows == 1) {
        read_campaign(&result, 0, campaign);
        const char *request = db_value(&result, 0, 29);
        campaign->request = request ? strdup(request) : NULL;
        status = 0;
    }
    db_result_free(&result);
    return status;
}

int storage_campaign_list(storage *store, size_t limit, size_t offset, campaign_record **items,
                          size_t *count, int64_t *total)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (count_of(store, total, "SELECT count(*) FROM campaigns", 0, NULL, NULL, NULL, NULL) != 0)
        return -1;
    if (run(store, &result,
            "SELECT " CAMPAIGN_COLUMNS " FROM campaigns ORDER BY id DESC LIMIT $1 OFFSET $2", 2,
            NUMBER(limit), NUMBER(offset)) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++)
        read_campaign(&result, row, &(*items)[row]);
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

void storage_campaign_free(campaign_record *campaign)
{
    if (campaign && campaign->request) {
        memset(campaign->request, 0, strlen(campaign->request));
        free(campaign->request);
        campaign->request = NULL;
    }
}

int storage_campaign_ids(storage *store, const char *state, int64_t **ids, size_t *count)
{
    db_result result;
    *ids = NULL;
    *count = 0;
    if (run(store, &result, "SELECT id FROM campaigns WHERE state = $1 ORDER BY id", 1, state) != 0)
        return -1;
    if (result.rows && !(*ids = calloc(result.rows, sizeof(int64_t)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++)
        (*ids)[row] = to_int(db_value(&result, row, 0));
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

int storage_campaign_update(storage *store, const campaign_record *campaign, const char *expected)
{
    db_result result;
    if (run(store, &result,
            "UPDATE campaigns SET state = $2, stage = $3, halt_reason = $4, "
            "stage_started_at = $5, finished_at = $6, updated_at = $7, failures_accepted = $9 "
            "WHERE id = $1 AND state = $8 RETURNING id",
            9, NUMBER(campaign->id), campaign->state, NUMBER(campaign->stage),
            campaign->halt_reason, NUMBER(campaign->stage_started_at),
            NUMBER(campaign->finished_at), NUMBER(campaign->updated_at), expected,
            NUMBER(campaign->failures_accepted)) != 0)
        return -1;
    int status = result.rows == 1 ? 0 : STORAGE_CONFLICT;
    db_result_free(&result);
    return status;
}

int storage_campaign_add_bytes(storage *store, int64_t id, variant_encoding encoding,
                               uint64_t bytes)
{
    /* Full bytes are the total less the others: one column per encoding would be redundant. */
    return run(store, NULL,
               "UPDATE campaigns SET bytes_served = bytes_served + $2, "
               "bytes_compressed = bytes_compressed + CASE WHEN $3 = 'compressed' THEN $2 "
               "ELSE 0 END, bytes_delta = bytes_delta + CASE WHEN $3 = 'delta' THEN $2 ELSE 0 "
               "END WHERE id = $1",
               3, NUMBER(id), NUMBER(bytes), variant_encoding_name(encoding));
}

int storage_campaign_count_request(storage *store, int64_t id)
{
    lock(store);
    counter_delta *delta = store->depth > 0 ? delta_of(store, id) : NULL;
    if (delta)
        delta->requests++;
    unlock(store);
    if (delta)
        return 0; /* written when the transaction commits */
    return run(store, NULL,
               "UPDATE campaigns SET requests_published = requests_published + 1 WHERE id = $1", 1,
               NUMBER(id));
}

int storage_campaign_failures(storage *store, int64_t id, failure_group **items, size_t *count)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (run(store, &result,
            "SELECT reason, message, count(*) FROM targets WHERE campaign = $1 AND state = "
            "'failed' GROUP BY reason, message ORDER BY count(*) DESC, reason",
            1, NUMBER(id)) != 0)
        return -1;
    if (result.rows && !(*items = calloc(result.rows, sizeof(**items)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++) {
        COPY((*items)[row].reason, db_value(&result, row, 0));
        COPY((*items)[row].message, db_value(&result, row, 1));
        (*items)[row].count = to_int(db_value(&result, row, 2));
    }
    *count = result.rows;
    db_result_free(&result);
    return 0;
}

int64_t storage_campaigns_active(storage *store)
{
    int64_t total;
    if (count_of(store, &total,
                 "SELECT count(*) FROM campaigns WHERE state IN ('running', 'paused', 'halted')", 0,
                 NULL, NULL, NULL, NULL) != 0)
        return -1;
    return total;
}

/* --- targets ---------------------------------------------------------------------------- */

#define TARGET_COLUMNS                                                                             \
    "t.campaign, t.device, t.position, t.state, t.reason, t.message, t.attempts, t.next_at, "      \
    "t.began_at, t.notified_at, t.lease_until, t.updated_at, t.encoding"

static void read_target(const db_result *result, size_t row, target_record *target)
{
    memset(target, 0, sizeof(*target));
    target->campaign = to_int(db_value(result, row, 0));
    COPY(target->device, db_value(result, row, 1));
    target->position = to_int(db_value(result, row, 2));
    if (!target_state_parse(db_value(result, row, 3), &target->state))
        target->state = TARGET_PENDING;
    COPY(target->reason, db_value(result, row, 4));
    COPY(target->message, db_value(result, row, 5));
    target->attempts = (int)to_int(db_value(result, row, 6));
    target->next_at = to_int(db_value(result, row, 7));
    target->began_at = to_int(db_value(result, row, 8));
    target->notified_at = to_int(db_value(result, row, 9));
    target->lease_until = to_int(db_value(result, row, 10));
    target->updated_at = to_int(db_value(result, row, 11));
    COPY(target->encoding, db_value(result, row, 12));
}

int storage_target_set_encoding(storage *store, int64_t campaign, const char *device,
                                const char *encoding)
{
    return run(store, NULL,
               "UPDATE targets SET encoding = $3 WHERE campaign = $1 AND device = $2 AND "
               "encoding <> $3",
               3, NUMBER(campaign), device, encoding);
}

static int read_targets(db_result *result, target_record **items, size_t *count)
{
    if (result->rows && !(*items = calloc(result->rows, sizeof(**items)))) {
        db_result_free(result);
        return -1;
    }
    for (size_t row = 0; row < result->rows; row++)
        read_target(result, row, &(*items)[row]);
    *count = result->rows;
    db_result_free(result);
    return 0;
}

int storage_target_insert(storage *store, const target_record *target)
{
    return run(store, NULL,
               "INSERT INTO targets (campaign, device, position, state, reason, updated_at) "
               "VALUES ($1, $2, $3, $4, $5, $6)",
               6, NUMBER(target->campaign), target->device, NUMBER(target->position),
               target_state_name(target->state), target->reason, NUMBER(target->updated_at));
}

int storage_target_busy(storage *store, int64_t campaign, char device[STORAGE_ID_SIZE])
{
    db_result result;
    if (run(store, &result,
            "SELECT t.device FROM targets t JOIN targets other ON other.device = t.device AND "
            "other.campaign <> t.campaign JOIN campaigns c ON c.id = other.campaign "
            "WHERE t.campaign = $1 AND t.state <> 'skipped' AND c.state IN ('running', 'paused', "
            "'halted') AND other.state NOT IN ('confirmed', 'failed', 'skipped') "
            "ORDER BY t.device LIMIT 1",
            1, NUMBER(campaign)) != 0)
        return -1;
    int status = STORAGE_NOT_FOUND;
    if (result.rows == 1) {
        copy(device, STORAGE_ID_SIZE, db_value(&result, 0, 0));
        status = 0;
    }
    db_result_free(&result);
    return status;
}

static int one_target(storage *store, db_result *result, target_record *target)
{
    int status = STORAGE_NOT_FOUND;
    if (result->rows >= 1) {
        read_target(result, 0, target);
        status = 0;
    }
    db_result_free(result);
    (void)store;
    return status;
}

int storage_target_get(storage *store, int64_t campaign, const char *device, target_record *target)
{
    db_result result;
    if (run(store, &result,
            "SELECT " TARGET_COLUMNS " FROM targets t WHERE t.campaign = $1 AND t.device = $2", 2,
            NUMBER(campaign), device) != 0)
        return -1;
    return one_target(store, &result, target);
}

int storage_target_active(storage *store, const char *device, target_record *target)
{
    db_result result;
    if (run(store, &result,
            "SELECT " TARGET_COLUMNS " FROM targets t JOIN campaigns c ON c.id = t.campaign "
            "WHERE t.device = $1 AND c.state IN ('running', 'paused', 'halted') "
            "ORDER BY t.campaign DESC LIMIT 1",
            1, device) != 0)
        return -1;
    return one_target(store, &result, target);
}

int storage_target_move(storage *store, const target_record *target, target_state from)
{
    db_result result;
    char sql[256];
    if (run(store, &result,
            "UPDATE targets SET state = $3, reason = $4, message = $5, attempts = $6, "
            "next_at = $7, began_at = $8, notified_at = $9, lease_until = $10, updated_at = $11 "
            "WHERE campaign = $1 AND device = $2 AND state = $12 RETURNING device",
            12, NUMBER(target->campaign), target->device, target_state_name(target->state),
            target->reason, target->message, NUMBER(target->attempts), NUMBER(target->next_at),
            NUMBER(target->began_at), NUMBER(target->notified_at), NUMBER(target->lease_until),
            NUMBER(target->updated_at), target_state_name(from)) != 0)
        return -1;
    bool moved = result.rows == 1;
    db_result_free(&result);
    if (!moved)
        return STORAGE_CONFLICT;
    if (from == target->state)
        return 0;
    lock(store);
    counter_delta *delta = store->depth > 0 ? delta_of(store, target->campaign) : NULL;
    if (delta) {
        delta->states[from]--;
        delta->states[target->state]++;
        if (target->updated_at > delta->updated_at)
            delta->updated_at = target->updated_at;
    }
    unlock(store);
    if (delta)
        return 0; /* written when the transaction commits */
    /* Column names come from the fixed table of state names, never from input. */
    snprintf(sql, sizeof(sql),
             "UPDATE campaigns SET %s = %s - 1, %s = %s + 1, updated_at = $2 WHERE id = $1",
             target_state_name(from), target_state_name(from), target_state_name(target->state),
             target_state_name(target->state));
    return run(store, NULL, sql, 2, NUMBER(target->campaign), NUMBER(target->updated_at));
}

int storage_target_claim(storage *store, int64_t campaign, int64_t positions, int64_t now,
                         int64_t lease_until, const char *owner, size_t limit,
                         target_record **items, size_t *count)
{
    db_result result;
    char sql[1024];
    *items = NULL;
    *count = 0;
    /* The chosen targets are picked once, in a materialized CTE: as a plain `IN (SELECT ...
     * LIMIT n FOR UPDATE SKIP LOCKED)`, PostgreSQL may run the subquery again for every row the
     * UPDATE visits (a nested loop, chosen once the table's statistics say it is small), each
     * run skipping what the last one locked -- it claimed 398 targets for a limit of 20, which
     * undid the rate limit and the cap per tick. */
    snprintf(sql, sizeof(sql),
             "WITH picked AS MATERIALIZED (SELECT device FROM targets WHERE campaign = $1 AND "
             "state = 'pending' AND position < $2 AND next_at <= $3 AND lease_until < $3 "
             "ORDER BY position LIMIT $4%s) "
             "UPDATE targets SET lease_until = $5, leased_by = $6, claimed_at = $3 "
             "WHERE campaign = $1 AND device IN (SELECT device FROM picked) "
             "RETURNING campaign, device, position, state, reason, message, attempts, next_at, "
             "began_at, notified_at, lease_until, updated_at",
             store->database.driver->skip_locked);
    if (run(store, &result, sql, 6, NUMBER(campaign), NUMBER(positions), NUMBER(now), NUMBER(limit),
            NUMBER(lease_until), owner) != 0)
        return -1;
    return read_targets(&result, items, count);
}

int storage_target_renew(storage *store, const char *owner, int64_t now, int64_t lease_until,
                         int64_t renew_before, int64_t claimed_since)
{
    return run(store, NULL,
               "UPDATE targets SET lease_until = $3 WHERE leased_by = $1 AND state = 'pending' "
               "AND lease_until >= $2 AND lease_until < $4 AND claimed_at >= $5",
               5, owner, NUMBER(now), NUMBER(lease_until), NUMBER(renew_before),
               NUMBER(claimed_since));
}

int storage_target_unclaim(storage *store, int64_t campaign, const char *device, const char *owner)
{
    return run(store, NULL,
               "UPDATE targets SET leased_by = '' WHERE campaign = $1 AND device = $2 AND "
               "leased_by = $3",
               3, NUMBER(campaign), device, owner);
}

/* Runs an UPDATE of one target that ends in RETURNING: 1 when it changed the row, 0 when its
 * condition did not hold, -1 on error. */
static int update_target(storage *store, const char *sql, int64_t campaign, const char *device)
{
    db_result result;
    if (run(store, &result, sql, 2, NUMBER(campaign), device) != 0)
        return -1;
    int changed = result.rows == 1;
    db_result_free(&result);
    return changed;
}

int storage_target_mark_resend(storage *store, int64_t campaign, const char *device)
{
    int changed = update_target(store,
                                "UPDATE targets SET resend = 1 WHERE campaign = $1 AND "
                                "device = $2 AND state = 'pending' RETURNING device",
                                campaign, device);
    return changed < 0 ? -1 : changed ? 0 : STORAGE_CONFLICT;
}

int storage_target_take_resend(storage *store, int64_t campaign, const char *device)
{
    return update_target(store,
                         "UPDATE targets SET resend = 0 WHERE campaign = $1 AND device = $2 AND "
                         "resend = 1 RETURNING device",
                         campaign, device);
}

int storage_target_overdue(storage *store, int64_t campaign, target_state state, int64_t before,
                           target_record **items, size_t *count)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (run(store, &result,
            "SELECT " TARGET_COLUMNS " FROM targets t WHERE t.campaign = $1 AND t.state = $2 AND "
            "(CASE WHEN $2 = 'notified' THEN t.notified_at ELSE t.began_at END) < $3 "
            "ORDER BY t.position",
            3, NUMBER(campaign), target_state_name(state), NUMBER(before)) != 0)
        return -1;
    return read_targets(&result, items, count);
}

int storage_target_counts(storage *store, int64_t campaign, int64_t positions,
                          int64_t counts[TARGET_STATE_COUNT])
{
    db_result result;
    memset(counts, 0, sizeof(int64_t) * TARGET_STATE_COUNT);
    if (run(store, &result,
            "SELECT state, count(*) FROM targets WHERE campaign = $1 AND position < $2 "
            "GROUP BY state",
            2, NUMBER(campaign), NUMBER(positions)) != 0)
        return -1;
    for (size_t row = 0; row < result.rows; row++) {
        target_state state;
        if (target_state_parse(db_value(&result, row, 0), &state))
            counts[state] = to_int(db_value(&result, row, 1));
    }
    db_result_free(&result);
    return 0;
}

int storage_target_list(storage *store, int64_t campaign, const char *state, size_t limit,
                        size_t offset, target_record **items, size_t *count, int64_t *total)
{
    db_result result;
    *items = NULL;
    *count = 0;
    if (count_of(store, total,
                 "SELECT count(*) FROM targets WHERE campaign = $1 AND ($2 = '' OR state = $2)", 2,
                 NUMBER(campaign), state ? state : "", NULL, NULL) != 0)
        return -1;
    if (run(store, &result,
            "SELECT " TARGET_COLUMNS " FROM targets t WHERE t.campaign = $1 AND "
            "($2 = '' OR t.state = $2) ORDER BY t.position LIMIT $3 OFFSET $4",
            4, NUMBER(campaign), state ? state : "", NUMBER(limit), NUMBER(offset)) != 0)
        return -1;
    return read_targets(&result, items, count);
}

/* --- servers sharing the database ------------------------------------------------------- */

int storage_server_beat(storage *store, const char *id, int64_t now)
{
    return run(store, NULL,
               "INSERT INTO servers (id, seen_at) VALUES ($1, $2) "
               "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
               2, id, NUMBER(now));
}

int storage_server_leave(storage *store, const char *id)
{
    return run(store, NULL, "DELETE FROM servers WHERE id = $1", 1, id);
}

int storage_server_ids(storage *store, int64_t since, char ***ids, size_t *count)
{
    db_result result;
    *ids = NULL;
    *count = 0;
    if (run(store, &result, "SELECT id FROM servers WHERE seen_at >= $1 ORDER BY id", 1,
            NUMBER(since)) != 0)
        return -1;
    if (result.rows && !(*ids = calloc(result.rows, sizeof(char *)))) {
        db_result_free(&result);
        return -1;
    }
    for (size_t row = 0; row < result.rows; row++) {
        const char *id = db_value(&result, row, 0);
        if (!((*ids)[row] = strdup(id ? id : ""))) {
            storage_free_ids(*ids, row);
            *ids = NULL;
            db_result_free(&result);
            return -1;
        }
    }
    *count = result.rows;
    db_result_free(&result);
    return 0;
}
