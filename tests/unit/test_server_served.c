/*
 * Image bytes served, batched (host/server/served.h), over a real SQLite store: additions from
 * several threads at once all arrive, per campaign and in the total; the writer thread writes
 * within its period without being asked; closing writes what is left; an addition of nothing
 * or to no campaign touches no campaign.
 */
#include "server/served.h"
#include "support/servers.h"
#include "test.h"

#include <pthread.h>
#include <string.h>

#define THREADS 4
#define ADDITIONS 5000

static storage *store;
static served_counter *counter;
static int64_t campaigns[2];

static int64_t make_campaign(const char *name)
{
    campaign_record campaign;
    memset(&campaign, 0, sizeof(campaign));
    snprintf(campaign.name, sizeof(campaign.name), "%s", name);
    snprintf(campaign.release, sizeof(campaign.release), "1.0.0");
    snprintf(campaign.state, sizeof(campaign.state), "running");
    campaign.stages[0] = 100;
    campaign.stage_count = 1;
    campaign.success_percent = 100;
    campaign.halt_failure_percent = 5;
    campaign.rate_per_minute = 600;
    campaign.timeout_s = 3600;
    campaign.created_at = 1000;
    CHECK_EQ_INT(storage_campaign_insert(store, &campaign), 0);
    return campaign.id;
}

static uint64_t campaign_bytes(int64_t id)
{
    campaign_record campaign;
    uint64_t bytes;
    if (storage_campaign_get(store, id, &campaign) != 0)
        return UINT64_MAX;
    bytes = campaign.bytes_served;
    storage_campaign_free(&campaign);
    return bytes;
}

/* Each thread: ADDITIONS answers, alternating the two campaigns and none. */
static void *answer(void *context)
{
    uint64_t bytes = (uint64_t)(uintptr_t)context;
    for (int index = 0; index < ADDITIONS; index++)
        served_add(counter, index % 3 == 2 ? 0 : campaigns[index % 3], VARIANT_FULL, bytes);
    return NULL;
}

static void test_concurrent_additions(void)
{
    pthread_t threads[THREADS];
    uint64_t per_thread_sum = 0;
    uint32_t started = test_now_ms();

    for (uintptr_t index = 0; index < THREADS; index++) {
        CHECK_EQ_INT(pthread_create(&threads[index], NULL, answer, (void *)(index + 1)), 0);
        per_thread_sum += index + 1;
    }
    for (int index = 0; index < THREADS; index++)
        pthread_join(threads[index], NULL);
    /* Nobody flushes: the writer thread must, within a few of its periods. */
    while (storage_counter_get(store, "bytes_served") != (int64_t)(per_thread_sum * ADDITIONS) &&
           test_now_ms() - started < 5000)
        test_sleep_ms(SERVED_FLUSH_MS / 2);
    CHECK_EQ_INT(storage_counter_get(store, "bytes_served"), per_thread_sum * ADDITIONS);
    /* index % 3: 0 -> campaigns[0], 1 -> campaigns[1], 2 -> none */
    CHECK_EQ_INT(campaign_bytes(campaigns[0]), per_thread_sum * ((ADDITIONS + 2) / 3));
    CHECK_EQ_INT(campaign_bytes(campaigns[1]), per_thread_sum * ((ADDITIONS + 1) / 3));
}

static void test_nothing_added(void)
{
    int64_t before = storage_counter_get(store, "bytes_served");
    served_add(counter, campaigns[0], VARIANT_FULL, 0);
    served_add(NULL, campaigns[0], VARIANT_FULL, 100);
    CHECK_EQ_INT(served_flush(counter), 0);
    CHECK_EQ_INT(storage_counter_get(store, "bytes_served"), before);
}

static void test_close_writes_the_rest(void)
{
    int64_t before = storage_counter_get(store, "bytes_served");
    uint64_t campaign_before = campaign_bytes(campaigns[1]);

    served_add(counter, campaigns[1], VARIANT_DELTA, 524304);
    served_close(counter); /* right away: well inside the period */
    counter = NULL;
    CHECK_EQ_INT(storage_counter_get(store, "bytes_served"), before + 524304);
    CHECK_EQ_INT(campaign_bytes(campaigns[1]), campaign_before + 524304);
}

int main(void)
{
    char folder[256], spec[300], error[256];

    if (test_temp_directory(folder, sizeof(folder)) != 0)
        return 1;
    snprintf(spec, sizeof(spec), "sqlite:%s/cellota.db", folder);
    if (storage_open(spec, &store, error, sizeof(error)) != 0) {
        fprintf(stderr, "test_server_served: %s\n", error);
        return 1;
    }
    campaigns[0] = make_campaign("first");
    campaigns[1] = make_campaign("second");
    counter = served_open(store);
    CHECK(counter != NULL);
    RUN(test_concurrent_additions);
    RUN(test_nothing_added);
    RUN(test_close_writes_the_rest);
    storage_close(store);
    return test_summary();
}
