/* Image bytes served, batched into the database; see served.h for why. */
#include "served.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What accumulated since the last write: the total and one entry per campaign. */
typedef struct campaign_bytes {
    int64_t campaign;
    variant_encoding encoding;
    uint64_t bytes;
} campaign_bytes;

typedef struct pending {
    uint64_t total;
    campaign_bytes *campaigns;
    size_t count, capacity;
} pending;

struct served_counter {
    storage *store;
    pthread_mutex_t lock; /* guards pending and stopping; held for additions, never for I/O */
    pthread_cond_t wake;
    pending pending;
    bool stopping;
    pthread_mutex_t flushing; /* one writer at a time: the thread, or a caller of served_flush */
    pthread_t thread;
};

/* Adds to one campaign's entry (the total is counted apart). */
static void add_to_campaign(pending *into, int64_t campaign, variant_encoding encoding,
                            uint64_t bytes)
{
    if (campaign <= 0)
        return;
    for (size_t index = 0; index < into->count; index++) {
        if (into->campaigns[index].campaign == campaign &&
            into->campaigns[index].encoding == encoding) {
            into->campaigns[index].bytes += bytes;
            return;
        }
    }
    if (into->count == into->capacity) {
        size_t capacity = into->capacity ? into->capacity * 2 : 8;
        campaign_bytes *grown = realloc(into->campaigns, capacity * sizeof(*grown));
        if (!grown)
            return; /* the total still counts; the campaign's share of this answer is lost */
        into->campaigns = grown;
        into->capacity = capacity;
    }
    into->campaigns[into->count++] = (campaign_bytes){campaign, encoding, bytes};
}

void served_add(served_counter *counter, int64_t campaign, variant_encoding encoding,
                uint64_t bytes)
{
    if (!counter || bytes == 0)
        return;
    pthread_mutex_lock(&counter->lock);
    counter->pending.total += bytes;
    add_to_campaign(&counter->pending, campaign, encoding, bytes);
    pthread_mutex_unlock(&counter->lock);
}

static int write_pending(storage *store, void *context)
{
    const pending *batch = context;
    if (batch->total && storage_counter_add(store, "bytes_served", (int64_t)batch->total) != 0)
        return -1;
    for (size_t index = 0; index < batch->count; index++)
        if (storage_campaign_add_bytes(store, batch->campaigns[index].campaign,
                                       batch->campaigns[index].encoding,
                                       batch->campaigns[index].bytes) != 0)
            return -1;
    return 0;
}

int served_flush(served_counter *counter)
{
    pending batch;
    int status = 0;

    pthread_mutex_lock(&counter->flushing);
    pthread_mutex_lock(&counter->lock);
    batch = counter->pending;
    memset(&counter->pending, 0, sizeof(counter->pending));
    pthread_mutex_unlock(&counter->lock);
    if (batch.total || batch.count)
        status = storage_transaction(counter->store, write_pending, &batch);
    if (status != 0) {
        /* Keep the amounts for the next try rather than lose them. */
        pthread_mutex_lock(&counter->lock);
        counter->pending.total += batch.total;
        for (size_t index = 0; index < batch.count; index++)
            add_to_campaign(&counter->pending, batch.campaigns[index].campaign,
                            batch.campaigns[index].encoding, batch.campaigns[index].bytes);
        pthread_mutex_unlock(&counter->lock);
    }
    free(batch.campaigns);
    pthread_mutex_unlock(&counter->flushing);
    return status;
}

static void *writer(void *context)
{
    served_counter *counter = context;
    bool stopping = false;

    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += SERVED_FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
        }
        pthread_mutex_lock(&counter->lock);
        if (!counter->stopping)
            pthread_cond_timedwait(&counter->wake, &counter->lock, &until);
        stopping = counter->stopping;
        pthread_mutex_unlock(&counter->lock);
        served_flush(counter);
    }
    return NULL;
}

served_counter *served_open(storage *store)
{
    served_counter *counter = calloc(1, sizeof(*counter));

    if (!counter)
        return NULL;
    counter->store = store;
    pthread_mutex_init(&counter->lock, NULL);
    pthread_mutex_init(&counter->flushing, NULL);
    pthread_cond_init(&counter->wake, NULL);
    if (pthread_create(&counter->thread, NULL, writer, counter) != 0) {
        pthread_cond_destroy(&counter->wake);
        pthread_mutex_destroy(&counter->flushing);
        pthread_mutex_destroy(&counter->lock);
        free(counter);
        return NULL;
    }
    return counter;
}

void served_close(served_counter *counter)
{
    if (!counter)
        return;
    pthread_mutex_lock(&counter->lock);
    counter->stopping = true;
    pthread_cond_signal(&counter->wake);
    pthread_mutex_unlock(&counter->lock);
    pthread_join(counter->thread, NULL); /* its last round wrote what was left */
    free(counter->pending.campaigns);
    pthread_cond_destroy(&counter->wake);
    pthread_mutex_destroy(&counter->flushing);
    pthread_mutex_destroy(&counter->lock);
    free(counter);
}
