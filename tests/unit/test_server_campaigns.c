/*
 * The campaign engine (host/server/campaigns.h) on a real SQLite database, driven event by
 * event as the MQTT link and the clock drive it, with the requests it publishes recorded: the
 * rate limit, staged starts, forward-only moves and the dedupe of a repeated status, retries
 * with back-off, success only on `confirmed` with the release's version, skipping devices on
 * the release or newer, one active campaign per device, halts and resume.
 */
#include "operator/keys.h"
#include "server/campaigns.h"
#include "server/releases.h"
#include "support/servers.h"
#include "test.h"

#include <string.h>
#include <time.h>

#define PUBLISHED_MAX 64

static server self;
static struct {
    int64_t campaign;
    char device[STORAGE_ID_SIZE];
} published[PUBLISHED_MAX];
static size_t published_count;

static bool record(void *context, int64_t campaign, const char *device, const char *request)
{
    (void)context;
    CHECK(strstr(request, "\"sig\"") != NULL); /* every request is signed */
    if (published_count < PUBLISHED_MAX) {
        published[published_count].campaign = campaign;
        snprintf(published[published_count].device, STORAGE_ID_SIZE, "%s", device);
        published_count++;
    }
    return true;
}

static bool was_published(const char *device)
{
    for (size_t i = 0; i < published_count; i++)
        if (strcmp(published[i].device, device) == 0)
            return true;
    return false;
}

/* A status message as an agent sends it. */
static void status(const char *device, const char *state, const char *version, int64_t campaign,
                   const char *error_name)
{
    device_status parsed;
    char raw[512];
    memset(&parsed, 0, sizeof(parsed));
    snprintf(parsed.state, sizeof(parsed.state), "%s", state);
    snprintf(parsed.version, sizeof(parsed.version), "%s", version);
    snprintf(parsed.target, sizeof(parsed.target), "1.1.0");
    snprintf(parsed.error_name, sizeof(parsed.error_name), "%s", error_name);
    snprintf(parsed.message, sizeof(parsed.message), "%s sentence", error_name);
    if (campaign > 0)
        snprintf(parsed.campaign, sizeof(parsed.campaign), "%lld", (long long)campaign);
    snprintf(raw, sizeof(raw),
             "{\"state\":\"%s\",\"version\":\"%s\",\"error_name\":\"%s\",\"campaign\":\"%lld\"}",
             state, version, error_name, (long long)campaign);
    campaign_status(&self, device, &parsed, raw);
}

static campaign_record show(int64_t id)
{
    campaign_record campaign;
    memset(&campaign, 0, sizeof(campaign));
    CHECK_EQ_INT(storage_campaign_get(self.store, id, &campaign), 0);
    storage_campaign_free(&campaign);
    return campaign;
}

static target_state target_of(int64_t campaign, const char *device)
{
    target_record target;
    memset(&target, 0, sizeof(target));
    CHECK_EQ_INT(storage_target_get(self.store, campaign, device, &target), 0);
    return target.state;
}

static int64_t create(char **devices, size_t count, const int *stages, size_t stage_count, int rate,
                      int retries, int halt, api_error *error)
{
    campaign_spec spec;
    int64_t id = 0;
    memset(&spec, 0, sizeof(spec));
    spec.release = "1.1.0";
    spec.devices = devices;
    spec.device_count = count;
    memcpy(spec.stages, stages, sizeof(int) * stage_count);
    spec.stage_count = stage_count;
    spec.success_percent = 100;
    spec.halt_failure_percent = halt;
    spec.rate_per_minute = rate;
    spec.timeout_s = 3600;
    spec.retries = retries;
    return campaign_create(&self, &spec, &id, error) == 0 ? id : -1;
}

static void setup(void)
{
    char folder[256], spec[300], error[256];
    release_record release;
    api_error failure;
    uint8_t image[3000];
    CHECK_EQ_INT(test_temp_directory(folder, sizeof(folder)), 0);
    snprintf(self.store_folder, sizeof(self.store_folder), "%s", folder);
    snprintf(self.images_folder, sizeof(self.images_folder), "%s", folder);
    snprintf(self.public_url, sizeof(self.public_url), "http://127.0.0.1:1");
    pthread_mutex_init(&self.crypto_lock, NULL);
    mbedtls_pk_init(&self.key);
    CHECK_EQ_INT(host_random_open(&self.random, "test"), 0);
    CHECK_EQ_INT(operator_key_generate(&self.key, &self.random), 0);
    CHECK_EQ_INT(host_random_bytes(&self.random, self.master_key, sizeof(self.master_key)), 0);
    snprintf(spec, sizeof(spec), "sqlite:%s/cellota.db", folder);
    CHECK_EQ_INT(storage_open(spec, &self.store, error, sizeof(error)), 0);
    CHECK_EQ_INT(campaign_engine_open(&self), 0);
    campaign_set_publisher(&self, record, NULL, NULL);
    memset(image, 0x5A, sizeof(image));
    release_upload upload = {"1.1.0", NULL, NULL, false, image, sizeof(image)};
    CHECK_EQ_INT(release_create(&self, &upload, &release, &failure), 0);
    storage_release_free(&release);
}

static void test_stages_rate_and_success(void)
{
    char *devices[] = {"s1", "s2", "s3", "s4"};
    static const int stages[] = {25, 100};
    api_error error;
    int64_t id = create(devices, 4, stages, 2, 60, 2, 50, &error);
    CHECK(id > 0);
    published_count = 0;
    campaign_tick(&self);
    /* Stage 1 is one device (the rate would allow two). */
    CHECK_EQ_INT(published_count, 1);
    CHECK(was_published("s1"));
    /* The broker's PUBACK, as the MQTT link queues it: in one batch with a status. */
    campaign_event batch[2];
    memset(batch, 0, sizeof(batch));
    batch[0].kind = CAMPAIGN_EVENT_PUBLISHED;
    batch[0].campaign = id;
    snprintf(batch[0].device, sizeof(batch[0].device), "s1");
    batch[1].kind = CAMPAIGN_EVENT_STATUS;
    snprintf(batch[1].device, sizeof(batch[1].device), "s9");
    snprintf(batch[1].status.state, sizeof(batch[1].status.state), "idle");
    batch[1].raw = "{\"state\":\"idle\"}";
    campaign_record_batch(&self, batch, 2);
    CHECK_EQ_INT(target_of(id, "s1"), TARGET_NOTIFIED);
    CHECK_EQ_INT(show(id).requests_published, 1);

    status("s1", "downloading", "0.0.0", id, "OK");
    status("s1", "downloading", "0.0.0", id, "OK"); /* redelivered: counted once */
    CHECK_EQ_INT(target_of(id, "s1"), TARGET_DOWNLOADING);
    status("s1", "staging", "0.0.0", id, "OK");
    CHECK_EQ_INT(target_of(id, "s1"), TARGET_INSTALLING);
    status("s1", "waiting", "0.0.0", id, "OK"); /* late: never moves a target back */
    CHECK_EQ_INT(target_of(id, "s1"), TARGET_INSTALLING);
    status("s1", "confirmed", "1.0.9", id, "OK"); /* confirmed, but not on the release */
    CHECK_EQ_INT(target_of(id, "s1"), TARGET_INSTALLING);
    status("s1", "confirmed", "1.1.0", id, "OK");
    CHECK_EQ_INT(target_of(id, "s1"), TARGET_CONFIRMED);
    CHECK_EQ_INT(show(id).counts[TARGET_CONFIRMED], 1);
    CHECK_EQ_INT(show(id).counts[TARGET_INSTALLING], 0);

    /* Stage 2 starts. 60 a minute saves up two seconds' worth: one left after s1, then one a
     * second. */
    published_count = 0;
    campaign_tick(&self);
    CHECK_EQ_INT(show(id).stage, 1);
    CHECK_EQ_INT(published_count, 1);
    CHECK(was_published("s2"));
    campaign_tick(&self);
    CHECK_EQ_INT(published_count, 1);
    CHECK_EQ_INT(target_of(id, "s4"), TARGET_PENDING);
    test_sleep_ms(1100);
    campaign_tick(&self);
    CHECK_EQ_INT(published_count, 2);
    CHECK(was_published("s3"));
    CHECK_EQ_INT(target_of(id, "s4"), TARGET_PENDING);
}

static void test_retries_and_failure(void)
{
    char *devices[] = {"r1"};
    static const int stages[] = {100};
    api_error error;
    int64_t id = create(devices, 1, stages, 1, 6000, 1, 100, &error);
    CHECK(id > 0);
    published_count = 0;
    campaign_tick(&self);
    CHECK(was_published("r1"));
    campaign_published(&self, id, "r1");
    status("r1", "failed", "0.0.0", id, "NET_HTTP_NOT_FOUND");
    /* attempts 1 <= retries 1: pending again, after a back-off */
    target_record target;
    CHECK_EQ_INT(storage_target_get(self.store, id, "r1", &target), 0);
    CHECK_EQ_INT(target.state, TARGET_PENDING);
    CHECK(target.next_at >= server_now() + CAMPAIGN_RETRY_BASE_S);
    CHECK_EQ_STR(target.reason, "NET_HTTP_NOT_FOUND");
    published_count = 0;
    campaign_tick(&self);
    CHECK_EQ_INT(published_count, 0);    /* not before its back-off ends */
    campaign_published(&self, id, "r1"); /* sent again (as after the back-off) */
    CHECK_EQ_INT(target_of(id, "r1"), TARGET_NOTIFIED);
    status("r1", "failed", "0.0.0", id, "NET_SOCKET_CLOSED");
    CHECK_EQ_INT(target_of(id, "r1"), TARGET_FAILED);
    campaign_record campaign = show(id);
    CHECK_EQ_INT(campaign.counts[TARGET_FAILED], 1);
    CHECK_EQ_INT(campaign.counts[TARGET_PENDING], 0);
    CHECK_EQ_INT(campaign.requests_published, 2);
    campaign_tick(&self);
    /* 1 of 1 failed is not above 100%, but every target finished below success_percent */
    CHECK_EQ_STR(show(id).state, "halted");
}

static void test_skips_and_busy(void)
{
    char *devices[] = {"k1", "k2"};
    char *busy[] = {"k2"};
    static const int stages[] = {100};
    api_error error;
    /* k1 already runs 1.2.0: skipped at creation, never sent the older 1.1.0. */
    status("k1", "up_to_date", "1.2.0", 0, "OK");
    int64_t id = create(devices, 2, stages, 1, 6000, 0, 100, &error);
    CHECK(id > 0);
    CHECK_EQ_INT(target_of(id, "k1"), TARGET_SKIPPED);
    CHECK_EQ_INT(create(busy, 1, stages, 1, 6000, 0, 100, &error), -1);
    CHECK_EQ_INT(error.status, 409);
    CHECK_EQ_STR(error.name, "DEVICE_BUSY");
    published_count = 0;
    campaign_tick(&self);
    CHECK(!was_published("k1"));
    CHECK(was_published("k2"));
    /* k2 turns out to run something newer: skipped too, and the campaign is done. */
    status("k2", "failed", "2.0.0", id, "AGENT_NOT_NEWER");
    CHECK_EQ_INT(target_of(id, "k2"), TARGET_SKIPPED);
    campaign_tick(&self);
    CHECK_EQ_STR(show(id).state, "completed");
}

/* The agent's `confirmed` overtaken: a device that runs the release past its trial is a
 * success whatever state word its newest status has; one still on trial is not. */
static void test_running_the_release(void)
{
    char *devices[] = {"u1", "u2"};
    static const int stages[] = {100};
    api_error error;
    int64_t id = create(devices, 2, stages, 1, 6000, 2, 100, &error);
    CHECK(id > 0);
    campaign_tick(&self);
    campaign_published(&self, id, "u1");
    campaign_published(&self, id, "u2");
    status("u1", "testing", "1.1.0", id, "OK");
    CHECK_EQ_INT(target_of(id, "u1"), TARGET_INSTALLING);
    status("u1", "failed", "1.1.0", id, "NET_HTTP_NOT_FOUND"); /* a later check failed */
    CHECK_EQ_INT(target_of(id, "u1"), TARGET_CONFIRMED);
    status("u2", "up_to_date", "1.1.0", id, "OK"); /* the request again, answered */
    CHECK_EQ_INT(target_of(id, "u2"), TARGET_CONFIRMED);
    CHECK_EQ_INT(show(id).counts[TARGET_CONFIRMED], 2);
}

static void test_halt_and_resume(void)
{
    char *devices[] = {"h1", "h2"};
    static const int stages[] = {50, 100};
    api_error error;
    int64_t id = create(devices, 2, stages, 2, 6000, 0, 0, &error);
    CHECK(id > 0);
    campaign_tick(&self);
    campaign_published(&self, id, "h1");
    status("h1", "rolled_back", "0.0.0", id, "AGENT_SELF_TEST_FAILED");
    CHECK_EQ_INT(target_of(id, "h1"), TARGET_FAILED);
    campaign_tick(&self);
    campaign_record campaign = show(id);
    CHECK_EQ_STR(campaign.state, "halted");
    CHECK(strstr(campaign.halt_reason, "halt_failure_percent") != NULL);
    published_count = 0;
    campaign_tick(&self);
    CHECK_EQ_INT(published_count, 0); /* a halted campaign publishes nothing */
    CHECK_EQ_INT(campaign_command(&self, id, "pause", &error), -1);
    CHECK_EQ_INT(error.status, 409);
    CHECK_EQ_INT(campaign_command(&self, id, "resume", &error), 0);
    campaign_tick(&self);
    CHECK_EQ_INT(show(id).stage, 1); /* the failure accepted: stage 2 goes on */
    CHECK(was_published("h2"));
    CHECK_EQ_INT(campaign_command(&self, id, "abort", &error), 0);
    CHECK_EQ_STR(show(id).state, "aborted");
    CHECK_EQ_INT(campaign_command(&self, 99999, "abort", &error), -1);
    CHECK_EQ_INT(error.status, 404);
}

static int resyncs;
static void count_resync(void *context)
{
    (void)context;
    resyncs++;
}

/* Ticks (the registry is kept once a second) until the resync count reaches `count`. */
static bool tick_until_resyncs(int count)
{
    for (int i = 0; i < 40 && resyncs < count; i++) {
        struct timespec pause = {0, 100000000L};
        campaign_tick(&self);
        nanosleep(&pause, NULL);
    }
    return resyncs == count;
}

/* Servers on one database share the devices' messages by a hash of the id; a change of the live
 * servers has each read the retained statuses again. */
static void test_servers_share_devices(void)
{
    char device[16];
    int recorded = 0;
    resyncs = 0;
    campaign_set_publisher(&self, record, count_resync, NULL);
    CHECK(campaign_records_device(&self, "any-device")); /* alone: every device */
    /* A peer (its id sorts after this server's "<host>-<pid>-<start>"). */
    CHECK_EQ_INT(storage_server_beat(self.store, "~peer", server_now() + 1), 0);
    CHECK(tick_until_resyncs(1));
    for (int i = 0; i < 200; i++) {
        snprintf(device, sizeof(device), "share-%d", i);
        recorded += campaign_records_device(&self, device) ? 1 : 0;
    }
    CHECK(recorded > 60 && recorded < 140); /* about half */
    /* The peer left: every device again, after another resync. */
    CHECK_EQ_INT(storage_server_leave(self.store, "~peer"), 0);
    CHECK(tick_until_resyncs(2));
    CHECK(campaign_records_device(&self, "share-0") && campaign_records_device(&self, "share-1") &&
          campaign_records_device(&self, "share-2") && campaign_records_device(&self, "share-3"));
    campaign_set_publisher(&self, record, NULL, NULL);
}

/* The broker's acknowledgement of a request, as the MQTT link queues it. */
static void acknowledged(int64_t campaign, const char *device)
{
    campaign_event event;
    memset(&event, 0, sizeof(event));
    event.kind = CAMPAIGN_EVENT_PUBLISHED;
    event.campaign = campaign;
    snprintf(event.device, sizeof(event.device), "%s", device);
    campaign_record_batch(&self, &event, 1);
}

static void came_online(const char *device)
{
    campaign_event event;
    memset(&event, 0, sizeof(event));
    event.kind = CAMPAIGN_EVENT_ONLINE;
    event.online = true;
    snprintf(event.device, sizeof(event.device), "%s", device);
    campaign_record_batch(&self, &event, 1);
}

/* A device whose first connection comes while its request is in flight: the broker may have
 * taken the request before the device's session existed (and dropped it). Its "online" marks
 * the target; the acknowledgement's recording sends the request again, once. A device already
 * notified when it comes online is sent it again at once; one online before the claim is not. */
static void test_online_while_in_flight(void)
{
    char *devices[] = {"o1", "o2", "o3"};
    static const int stages[] = {100};
    api_error error;
    int64_t id = create(devices, 3, stages, 1, 6000, 1, 100, &error);
    CHECK(id > 0);
    came_online("o3"); /* before the claim: subscribed by the time it is published */
    published_count = 0;
    campaign_tick(&self);
    CHECK_EQ_INT(published_count, 3);

    came_online("o1"); /* in flight: marked */
    CHECK_EQ_INT(published_count, 3);
    acknowledged(id, "o1");
    CHECK_EQ_INT(target_of(id, "o1"), TARGET_NOTIFIED);
    CHECK_EQ_INT(published_count, 4); /* sent again */
    acknowledged(id, "o1");           /* the second one's acknowledgement */
    CHECK_EQ_INT(published_count, 4);

    acknowledged(id, "o2");
    CHECK_EQ_INT(published_count, 4);
    came_online("o2"); /* notified already: sent again now */
    CHECK_EQ_INT(published_count, 5);

    acknowledged(id, "o3");
    CHECK_EQ_INT(published_count, 5);
    CHECK_EQ_INT(show(id).counts[TARGET_NOTIFIED], 3);
    target_record target;
    CHECK_EQ_INT(storage_target_get(self.store, id, "o1", &target), 0);
    CHECK_EQ_INT(target.attempts, 1); /* sent again is not another attempt */
}

int main(void)
{
    setup();
    RUN(test_stages_rate_and_success);
    RUN(test_retries_and_failure);
    RUN(test_online_while_in_flight);
    RUN(test_skips_and_busy);
    RUN(test_halt_and_resume);
    RUN(test_running_the_release);
    RUN(test_servers_share_devices);
    campaign_engine_close(&self);
    storage_close(self.store);
    mbedtls_pk_free(&self.key);
    host_random_close(&self.random);
    return test_summary();
}
