/*
 * The storage conformance suite (host/server/storage.h): the same checks against SQLite (a
 * temporary file) and PostgreSQL (a cluster the test starts on loopback), so the SQL written once
 * behaves the same on both: schema creation and reopening, releases, devices and the dedupe of
 * a repeated status, campaigns and targets with their counters moved in one transaction,
 * conditional moves, leases for claiming, rollback.
 */
#include "server/storage.h"
#include "support/servers.h"
#include "test.h"

#include <string.h>

static storage *store;
static const char *backend;

static release_record sample_release(const char *version, int64_t created_at)
{
    release_record release;
    memset(&release, 0, sizeof(release));
    snprintf(release.version, sizeof(release.version), "%s", version);
    memset(release.sha256, 'a', 64);
    memset(release.plain_sha256, 'b', 64);
    release.size = 1024;
    release.plain_size = 1000;
    release.load_address = 4096;
    release.security_version = 1001000;
    snprintf(release.notes, sizeof(release.notes), "notes with 'quotes' and %%");
    release.plain_download = true;
    release.created_at = created_at;
    release.request = "{\"type\":\"update_fw\"}";
    return release;
}

static void test_releases(void)
{
    release_record release = sample_release("1.0.0", 100), read, *items;
    size_t count;
    int64_t total;
    CHECK_EQ_INT(storage_release_add(store, &release), 0);
    CHECK_EQ_INT(storage_release_add(store, &release), STORAGE_EXISTS);
    release = sample_release("1.1.0", 200);
    release.plain_download = false;
    CHECK_EQ_INT(storage_release_add(store, &release), 0);
    CHECK_EQ_INT(storage_release_get(store, "1.0.0", &read), 0);
    CHECK_EQ_STR(read.version, "1.0.0");
    CHECK_EQ_INT(read.size, 1024);
    CHECK_EQ_INT(read.load_address, 4096);
    CHECK_EQ_INT(read.security_version, 1001000);
    CHECK(read.plain_download);
    CHECK_EQ_STR(read.notes, "notes with 'quotes' and %");
    CHECK_EQ_STR(read.request, "{\"type\":\"update_fw\"}");
    storage_release_free(&read);
    CHECK_EQ_INT(storage_release_get(store, "9.9.9", &read), STORAGE_NOT_FOUND);
    CHECK_EQ_INT(storage_release_list(store, 10, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(total, 2);
    CHECK_EQ_INT(count, 2);
    if (count == 2) {
        CHECK_EQ_STR(items[0].version, "1.1.0"); /* newest first */
        CHECK(!items[0].plain_download);
        CHECK(items[0].request == NULL);
    }
    free(items);
    CHECK_EQ_INT(storage_release_list(store, 1, 1, &items, &count, &total), 0);
    CHECK_EQ_INT(count, 1);
    if (count == 1)
        CHECK_EQ_STR(items[0].version, "1.0.0");
    free(items);
}

static device_status status_of(const char *state, const char *version, int progress)
{
    device_status status;
    memset(&status, 0, sizeof(status));
    snprintf(status.state, sizeof(status.state), "%s", state);
    snprintf(status.version, sizeof(status.version), "%s", version);
    snprintf(status.target, sizeof(status.target), "1.1.0");
    snprintf(status.error_name, sizeof(status.error_name), "OK");
    snprintf(status.message, sizeof(status.message), "success");
    snprintf(status.model, sizeof(status.model), "sim7600");
    status.progress = progress;
    return status;
}

static void test_devices(void)
{
    device_status status = status_of("downloading", "1.0.0", 42);
    device_record device, *items;
    timeline_entry *timeline;
    count_group *groups;
    size_t count;
    int64_t total, devices, online;
    bool fresh;
    device_filter any = {NULL, NULL, NULL, -1};

    CHECK_EQ_INT(storage_device_seen(store, "007", 1, 1000), 0); /* an id that looks numeric */
    CHECK_EQ_INT(storage_device_seen(store, "dev-b", 0, 1000), 0);
    CHECK_EQ_INT(storage_device_status(store, "dev-a", &status, "raw-1", 1001, &fresh), 0);
    CHECK(fresh);
    /* The same message again (QoS 1 redelivery, a retained message): not recorded twice. */
    CHECK_EQ_INT(storage_device_status(store, "dev-a", &status, "raw-1", 1002, &fresh), 0);
    CHECK(!fresh);
    status = status_of("confirmed", "1.1.0", 100);
    CHECK_EQ_INT(storage_device_status(store, "dev-a", &status, "raw-2", 1003, &fresh), 0);
    CHECK(fresh);
    CHECK_EQ_INT(storage_device_get(store, "dev-a", &device), 0);
    CHECK_EQ_STR(device.state, "confirmed");
    CHECK_EQ_STR(device.version, "1.1.0");
    CHECK_EQ_STR(device.model, "sim7600");
    CHECK(device.online);
    CHECK_EQ_INT(device.last_seen, 1003);
    CHECK_EQ_INT(storage_device_get(store, "007", &device), 0);
    CHECK_EQ_STR(device.id, "007");
    CHECK_EQ_INT(storage_device_get(store, "nobody", &device), STORAGE_NOT_FOUND);
    CHECK_EQ_INT(storage_device_timeline(store, "dev-a", 10, &timeline, &count), 0);
    CHECK_EQ_INT(count, 2);
    if (count == 2) {
        CHECK_EQ_STR(timeline[0].status.state, "confirmed"); /* newest first */
        CHECK_EQ_STR(timeline[1].status.state, "downloading");
        CHECK_EQ_INT(timeline[1].status.progress, 42);
    }
    free(timeline);

    CHECK_EQ_INT(storage_device_set_tags(store, "dev-b", ",north,beta,"), 0);
    CHECK_EQ_INT(storage_device_set_tags(store, "nobody", ",x,"), STORAGE_NOT_FOUND);
    CHECK_EQ_INT(storage_device_list(store, &any, 100, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(total, 3);
    free(items);
    device_filter tagged = {NULL, NULL, "beta", -1};
    CHECK_EQ_INT(storage_device_list(store, &tagged, 100, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(count, 1);
    if (count == 1)
        CHECK_EQ_STR(items[0].id, "dev-b");
    free(items);
    device_filter partial_tag = {NULL, NULL, "bet", -1}; /* a tag is matched whole */
    CHECK_EQ_INT(storage_device_list(store, &partial_tag, 100, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(count, 0);
    free(items);
    device_filter by_version = {"confirmed", "1.1.0", NULL, 1};
    CHECK_EQ_INT(storage_device_list(store, &by_version, 100, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(count, 1);
    free(items);
    device_filter offline = {NULL, NULL, NULL, 0};
    CHECK_EQ_INT(storage_device_list(store, &offline, 100, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(count, 1);
    if (count == 1)
        CHECK_EQ_STR(items[0].id, "dev-b");
    free(items);
    /* online -1 leaves it as it was */
    CHECK_EQ_INT(storage_device_seen(store, "dev-b", -1, 1010), 0);
    CHECK_EQ_INT(storage_device_get(store, "dev-b", &device), 0);
    CHECK(!device.online);
    CHECK_EQ_INT(device.last_seen, 1010);

    char **ids;
    CHECK_EQ_INT(storage_device_ids(store, NULL, &ids, &count), 0);
    CHECK_EQ_INT(count, 3);
    if (count == 3)
        CHECK_EQ_STR(ids[0], "007");
    storage_free_ids(ids, count);
    CHECK_EQ_INT(storage_device_ids(store, "north", &ids, &count), 0);
    CHECK_EQ_INT(count, 1);
    storage_free_ids(ids, count);
    CHECK_EQ_INT(storage_device_groups(store, "state", &groups, &count), 0);
    CHECK_EQ_INT(count, 2); /* "" (never reported) and confirmed */
    free(groups);
    CHECK_EQ_INT(storage_device_totals(store, &devices, &online), 0);
    CHECK_EQ_INT(devices, 3);
    CHECK_EQ_INT(online, 2);
}

static int64_t make_campaign(const char *state, int64_t targeted)
{
    campaign_record campaign;
    memset(&campaign, 0, sizeof(campaign));
    snprintf(campaign.name, sizeof(campaign.name), "rollout");
    snprintf(campaign.release, sizeof(campaign.release), "1.1.0");
    snprintf(campaign.state, sizeof(campaign.state), "%s", state);
    campaign.stages[0] = 10;
    campaign.stages[1] = 100;
    campaign.stage_count = 2;
    campaign.success_percent = 90;
    campaign.halt_failure_percent = 5;
    campaign.rate_per_minute = 600;
    campaign.timeout_s = 3600;
    campaign.retries = 2;
    campaign.targeted = targeted;
    campaign.counts[TARGET_PENDING] = targeted;
    campaign.created_at = 2000;
    CHECK_EQ_INT(storage_campaign_insert(store, &campaign), 0);
    CHECK(campaign.id > 0);
    return campaign.id;
}

static void add_target(int64_t campaign, const char *device, int64_t position)
{
    target_record target;
    memset(&target, 0, sizeof(target));
    target.campaign = campaign;
    snprintf(target.device, sizeof(target.device), "%s", device);
    target.position = position;
    target.state = TARGET_PENDING;
    target.updated_at = 2000;
    CHECK_EQ_INT(storage_target_insert(store, &target), 0);
}

typedef struct move_work {
    target_record target;
    target_state from;
    bool fail_after;
} move_work;

static int move_then(storage *context_store, void *context)
{
    move_work *work = context;
    int status = storage_target_move(context_store, &work->target, work->from);
    return work->fail_after ? -5 : status;
}

static void test_campaigns(void)
{
    campaign_record campaign, *items;
    target_record target, *claimed, *list;
    failure_group *failures;
    int64_t counts[TARGET_STATE_COUNT], total, *ids;
    size_t count;
    char busy[STORAGE_ID_SIZE];

    int64_t first = make_campaign("running", 3);
    add_target(first, "dev-a", 0);
    add_target(first, "dev-b", 1);
    add_target(first, "007", 2);
    CHECK_EQ_INT(storage_campaign_set_request(store, first, "{\"id\":\"1\"}"), 0);
    CHECK_EQ_INT(storage_campaign_get(store, first, &campaign), 0);
    CHECK_EQ_STR(campaign.state, "running");
    CHECK_EQ_INT(campaign.stage_count, 2);
    CHECK_EQ_INT(campaign.stages[1], 100);
    CHECK_EQ_INT(campaign.counts[TARGET_PENDING], 3);
    CHECK_EQ_STR(campaign.request, "{\"id\":\"1\"}");
    storage_campaign_free(&campaign);
    CHECK_EQ_INT(storage_campaign_get(store, 999999, &campaign), STORAGE_NOT_FOUND);
    CHECK_EQ_INT(storage_target_busy(store, first, busy), STORAGE_NOT_FOUND);

    /* A second active campaign with dev-b: dev-b is busy. */
    int64_t second = make_campaign("running", 1);
    add_target(second, "dev-b", 0);
    CHECK_EQ_INT(storage_target_busy(store, second, busy), 0);
    CHECK_EQ_STR(busy, "dev-b");
    CHECK_EQ_INT(storage_target_active(store, "dev-a", &target), 0);
    CHECK_EQ_INT(target.campaign, first);
    CHECK_EQ_INT(storage_campaign_ids(store, "running", &ids, &count), 0);
    CHECK_EQ_INT(count, 2);
    free(ids);
    CHECK_EQ_INT(storage_campaigns_active(store), 2);

    /* Claims: the first stage's positions only, each claimed once while its lease lasts. */
    CHECK_EQ_INT(
        storage_target_claim(store, first, 2, 3000, 3010, "server-a", 10, &claimed, &count), 0);
    CHECK_EQ_INT(count, 2);
    free(claimed);
    CHECK_EQ_INT(
        storage_target_claim(store, first, 2, 3005, 3015, "server-b", 10, &claimed, &count), 0);
    CHECK_EQ_INT(count, 0);
    free(claimed);
    /* In flight: server-a renews its leases (dev-b's request was not sent: given up). */
    CHECK_EQ_INT(storage_target_unclaim(store, first, "dev-b", "server-a"), 0);
    CHECK_EQ_INT(storage_target_renew(store, "server-a", 3008, 3018, 3013, 2900), 0);
    CHECK_EQ_INT(storage_target_get(store, first, "dev-a", &target), 0);
    CHECK_EQ_INT(target.lease_until, 3018);
    CHECK_EQ_INT(storage_target_get(store, first, "dev-b", &target), 0);
    CHECK_EQ_INT(target.lease_until, 3010);
    /* Not renewed: another owner's, a lease not near its end, one claimed too long ago. */
    CHECK_EQ_INT(storage_target_renew(store, "server-b", 3009, 3030, 3030, 2900), 0);
    CHECK_EQ_INT(storage_target_renew(store, "server-a", 3009, 3030, 3015, 2900), 0);
    CHECK_EQ_INT(storage_target_renew(store, "server-a", 3009, 3030, 3030, 3001), 0);
    CHECK_EQ_INT(storage_target_get(store, first, "dev-a", &target), 0);
    CHECK_EQ_INT(target.lease_until, 3018);
    CHECK_EQ_INT(
        storage_target_claim(store, first, 3, 3011, 3021, "server-b", 10, &claimed, &count), 0);
    CHECK_EQ_INT(count, 2); /* dev-b's lease ended and "007" was never claimed; dev-a is held */
    if (count == 2)         /* RETURNING has no order */
        CHECK(claimed[0].position + claimed[1].position == 3);
    free(claimed);
    CHECK_EQ_INT(storage_target_claim(store, first, 3, 3019, 3029, "server-b", 1, &claimed, &count),
                 0);
    CHECK_EQ_INT(count, 1);
    if (count == 1)
        CHECK_EQ_INT(claimed[0].position, 0); /* its owner stopped renewing: claimed again */
    free(claimed);

    /* Servers sharing the database: the live ones, in id order. */
    char **servers;
    CHECK_EQ_INT(storage_server_beat(store, "server-b", 3000), 0);
    CHECK_EQ_INT(storage_server_beat(store, "server-a", 3001), 0);
    CHECK_EQ_INT(storage_server_beat(store, "server-b", 3004), 0);
    CHECK_EQ_INT(storage_server_ids(store, 3002, &servers, &count), 0);
    CHECK_EQ_INT(count, 1);
    if (count == 1)
        CHECK_EQ_STR(servers[0], "server-b");
    storage_free_ids(servers, count);
    CHECK_EQ_INT(storage_server_ids(store, 3001, &servers, &count), 0);
    CHECK_EQ_INT(count, 2);
    if (count == 2)
        CHECK_EQ_STR(servers[0], "server-a");
    storage_free_ids(servers, count);
    CHECK_EQ_INT(storage_server_leave(store, "server-a"), 0);
    CHECK_EQ_INT(storage_server_ids(store, 0, &servers, &count), 0);
    CHECK_EQ_INT(count, 1);
    storage_free_ids(servers, count);

    /* A move and its counters in one transaction; the same move again changes nothing. */
    move_work work;
    CHECK_EQ_INT(storage_target_get(store, first, "dev-a", &work.target), 0);
    work.from = TARGET_PENDING;
    work.fail_after = false;
    work.target.state = TARGET_NOTIFIED;
    work.target.attempts = 1;
    work.target.notified_at = 3001;
    work.target.updated_at = 3001;
    CHECK_EQ_INT(storage_transaction(store, move_then, &work), 0);
    CHECK_EQ_INT(storage_transaction(store, move_then, &work), STORAGE_CONFLICT);
    CHECK_EQ_INT(storage_campaign_get(store, first, &campaign), 0);
    CHECK_EQ_INT(campaign.counts[TARGET_PENDING], 2);
    CHECK_EQ_INT(campaign.counts[TARGET_NOTIFIED], 1);
    storage_campaign_free(&campaign);

    /* A transaction that fails after its move leaves nothing behind. */
    CHECK_EQ_INT(storage_target_get(store, first, "dev-b", &work.target), 0);
    work.from = TARGET_PENDING;
    work.target.state = TARGET_FAILED;
    snprintf(work.target.reason, sizeof(work.target.reason), "ROLLED_BACK");
    work.fail_after = true;
    CHECK_EQ_INT(storage_transaction(store, move_then, &work), -5);
    CHECK_EQ_INT(storage_target_get(store, first, "dev-b", &target), 0);
    CHECK_EQ_INT(target.state, TARGET_PENDING);
    CHECK_EQ_INT(storage_campaign_get(store, first, &campaign), 0);
    CHECK_EQ_INT(campaign.counts[TARGET_FAILED], 0);
    storage_campaign_free(&campaign);
    work.fail_after = false;
    CHECK_EQ_INT(storage_transaction(store, move_then, &work), 0);

    CHECK_EQ_INT(storage_target_get(store, first, "dev-a", &work.target), 0);
    work.from = TARGET_NOTIFIED;
    work.target.state = TARGET_DOWNLOADING;
    work.target.began_at = 3002;
    CHECK_EQ_INT(storage_transaction(store, move_then, &work), 0);
    CHECK_EQ_INT(storage_target_overdue(store, first, TARGET_DOWNLOADING, 3003, &list, &count), 0);
    CHECK_EQ_INT(count, 1);
    free(list);
    CHECK_EQ_INT(storage_target_overdue(store, first, TARGET_DOWNLOADING, 3002, &list, &count), 0);
    CHECK_EQ_INT(count, 0);
    free(list);

    CHECK_EQ_INT(storage_target_counts(store, first, 2, counts), 0);
    CHECK_EQ_INT(counts[TARGET_DOWNLOADING], 1);
    CHECK_EQ_INT(counts[TARGET_FAILED], 1);
    CHECK_EQ_INT(counts[TARGET_PENDING], 0);
    CHECK_EQ_INT(storage_target_list(store, first, "failed", 10, 0, &list, &count, &total), 0);
    CHECK_EQ_INT(total, 1);
    if (count == 1) {
        CHECK_EQ_STR(list[0].device, "dev-b");
        CHECK_EQ_STR(list[0].reason, "ROLLED_BACK");
    }
    free(list);
    CHECK_EQ_INT(storage_target_list(store, first, NULL, 10, 0, &list, &count, &total), 0);
    CHECK_EQ_INT(total, 3);
    free(list);
    CHECK_EQ_INT(storage_campaign_failures(store, first, &failures, &count), 0);
    CHECK_EQ_INT(count, 1);
    if (count == 1)
        CHECK_EQ_INT(failures[0].count, 1);
    free(failures);

    /* Counting and conditional campaign updates. */
    CHECK_EQ_INT(storage_campaign_count_request(store, first), 0);
    CHECK_EQ_INT(storage_campaign_add_bytes(store, first, VARIANT_COMPRESSED, 5000000000ull), 0);
    CHECK_EQ_INT(storage_campaign_get(store, first, &campaign), 0);
    CHECK_EQ_INT(campaign.requests_published, 1);
    CHECK_EQ_INT(campaign.bytes_served, 5000000000ull);
    /* the split by variant (docs/server.md): compressed counted, full the rest */
    CHECK_EQ_INT(campaign.bytes_by_encoding[VARIANT_COMPRESSED], 5000000000ull);
    CHECK_EQ_INT(campaign.bytes_by_encoding[VARIANT_DELTA], 0);
    CHECK_EQ_INT(campaign.bytes_by_encoding[VARIANT_FULL], 0);
    snprintf(campaign.state, sizeof(campaign.state), "paused");
    campaign.failures_accepted = 1;
    CHECK_EQ_INT(storage_campaign_update(store, &campaign, "running"), 0);
    CHECK_EQ_INT(storage_campaign_update(store, &campaign, "running"), STORAGE_CONFLICT);
    storage_campaign_free(&campaign);
    CHECK_EQ_INT(storage_campaign_get(store, first, &campaign), 0);
    CHECK_EQ_STR(campaign.state, "paused");
    CHECK_EQ_INT(campaign.failures_accepted, 1);
    storage_campaign_free(&campaign);
    CHECK_EQ_INT(storage_campaign_list(store, 10, 0, &items, &count, &total), 0);
    CHECK_EQ_INT(total, 2);
    if (count == 2)
        CHECK_EQ_INT(items[0].id, second); /* newest first */
    free(items);

    CHECK_EQ_INT(storage_counter_add(store, "bytes_served", 10), 0);
    CHECK_EQ_INT(storage_counter_add(store, "bytes_served", 32), 0);
    CHECK_EQ_INT(storage_counter_get(store, "bytes_served"), 42);
}

static int add_many_targets(storage *unused, void *context)
{
    int64_t campaign = *(int64_t *)context;
    char device[32];
    (void)unused;
    for (int i = 0; i < 400; i++) {
        snprintf(device, sizeof(device), "many-%03d", i);
        add_target(campaign, device, i);
    }
    return 0;
}

/* A claim takes at most its limit however many targets wait (PostgreSQL once claimed 398 for a
 * limit of 20: the rate limit undone), and the resend mark of a target whose device connected
 * while its request was in flight: set only while pending, taken once. */
static void test_claim_limit_and_resend(void)
{
    target_record *claimed, target;
    size_t count;
    int64_t campaign = make_campaign("running", 400);
    CHECK_EQ_INT(storage_transaction(store, add_many_targets, &campaign), 0);
    for (int round = 0; round < 3; round++) {
        CHECK_EQ_INT(storage_target_claim(store, campaign, 400, 5000 + round, 5100, "server-a", 20,
                                          &claimed, &count),
                     0);
        CHECK_EQ_INT(count, 20);
        free(claimed);
    }
    CHECK_EQ_INT(storage_target_mark_resend(store, campaign, "many-000"), 0);
    CHECK_EQ_INT(storage_target_take_resend(store, campaign, "many-000"), 1);
    CHECK_EQ_INT(storage_target_take_resend(store, campaign, "many-000"), 0);
    CHECK_EQ_INT(storage_target_get(store, campaign, "many-001", &target), 0);
    target.state = TARGET_NOTIFIED;
    CHECK_EQ_INT(storage_target_move(store, &target, TARGET_PENDING), 0);
    CHECK_EQ_INT(storage_target_mark_resend(store, campaign, "many-001"), STORAGE_CONFLICT);
    CHECK_EQ_INT(storage_target_take_resend(store, campaign, "many-001"), 0);
}

static void run_suite(const char *spec)
{
    char error[512];
    printf("backend %s\n", spec);
    CHECK_EQ_INT(storage_open(spec, &store, error, sizeof(error)), 0);
    if (!store) {
        fprintf(stderr, "%s\n", error);
        return;
    }
    backend = storage_backend(store);
    test_releases();
    test_devices();
    test_campaigns();
    test_claim_limit_and_resend();
    storage_close(store);
    /* Reopening an existing database finds its schema and data. */
    store = NULL;
    CHECK_EQ_INT(storage_open(spec, &store, error, sizeof(error)), 0);
    if (store) {
        release_record release;
        CHECK_EQ_INT(storage_release_get(store, "1.0.0", &release), 0);
        storage_release_free(&release);
        storage_close(store);
    }
    store = NULL;
}

static void test_sqlite(void)
{
    char folder[256], spec[300];
    CHECK_EQ_INT(test_temp_directory(folder, sizeof(folder)), 0);
    snprintf(spec, sizeof(spec), "sqlite:%s/cellota.db", folder);
    run_suite(spec);
}

static void test_postgres(void)
{
    test_server postgres;
    char url[256];
    memset(&postgres, 0, sizeof(postgres));
    CHECK_EQ_INT(test_postgres_start(&postgres), 0);
    if (postgres.pid <= 0)
        return;
    test_postgres_url(&postgres, url, sizeof(url));
    run_suite(url);
    test_server_stop(&postgres);
}

static void test_bad_specs(void)
{
    char error[512];
    storage *none = NULL;
    CHECK(storage_open("mysql://x", &none, error, sizeof(error)) != 0);
    CHECK(strstr(error, "neither") != NULL);
    CHECK(storage_open("sqlite:/nonexistent-folder/x.db", &none, error, sizeof(error)) != 0);
    CHECK(storage_open("postgresql://postgres@127.0.0.1:1/none", &none, error, sizeof(error)) != 0);
    CHECK(strstr(error, "PostgreSQL") != NULL);
}

int main(void)
{
    RUN(test_sqlite);
    RUN(test_postgres);
    RUN(test_bad_specs);
    return test_summary();
}
