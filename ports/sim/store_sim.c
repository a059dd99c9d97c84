/* Host key-value store: a fixed table, saved whole to a file on every change. */
#include "store_sim.h"

#include "core/error.h"

#include <stdio.h>
#include <string.h>

static store_sim_entry *find(store_sim *store, const char *key)
{
    size_t index;
    for (index = 0; index < STORE_SIM_KEYS; index++) {
        if (store->entries[index].key[0] && strcmp(store->entries[index].key, key) == 0)
            return &store->entries[index];
    }
    return NULL;
}

static int save(store_sim *store)
{
    char temporary[sizeof(store->path) + 8];
    FILE *file;
    size_t written;

    if (!store->path[0])
        return CELLOTA_OK;
    snprintf(temporary, sizeof(temporary), "%s.tmp", store->path);
    file = fopen(temporary, "wb");
    if (!file)
        return CELLOTA_STORE_FAILED;
    written = fwrite(store->entries, sizeof(store->entries), 1, file);
    if (fflush(file) != 0 || fclose(file) != 0 || written != 1)
        return CELLOTA_STORE_FAILED;
    return rename(temporary, store->path) == 0 ? CELLOTA_OK : CELLOTA_STORE_FAILED;
}

int store_sim_open(store_sim *store, const char *path)
{
    FILE *file;
    memset(store, 0, sizeof(*store));
    if (!path)
        return CELLOTA_OK;
    if (strlen(path) >= sizeof(store->path))
        return CELLOTA_INVALID_ARGUMENT;
    strcpy(store->path, path);
    file = fopen(path, "rb");
    if (!file)
        return CELLOTA_OK; /* a new store */
    if (fread(store->entries, sizeof(store->entries), 1, file) != 1)
        memset(store->entries, 0, sizeof(store->entries)); /* unreadable: start empty */
    fclose(file);
    {
        size_t index;
        for (index = 0; index < STORE_SIM_KEYS; index++) {
            store_sim_entry *entry = &store->entries[index];
            entry->key[STORE_SIM_KEY_LENGTH] = 0;
            if (entry->length > STORE_SIM_VALUE_SIZE)
                memset(entry, 0, sizeof(*entry));
        }
    }
    return CELLOTA_OK;
}

int store_sim_get(void *context, const char *key, void *value, size_t capacity, size_t *length)
{
    store_sim_entry *entry = find(context, key);
    if (!entry)
        return CELLOTA_STORE_NOT_FOUND;
    if (length)
        *length = entry->length;
    if (entry->length > capacity)
        return CELLOTA_BUFFER_TOO_SMALL;
    memcpy(value, entry->value, entry->length);
    return CELLOTA_OK;
}

int store_sim_set(void *context, const char *key, const void *value, size_t length)
{
    store_sim *store = context;
    store_sim_entry *entry;
    if (strlen(key) > STORE_SIM_KEY_LENGTH || length > STORE_SIM_VALUE_SIZE)
        return CELLOTA_INVALID_ARGUMENT;
    entry = find(store, key);
    if (!entry) {
        size_t index;
        for (index = 0; index < STORE_SIM_KEYS && !entry; index++) {
            if (!store->entries[index].key[0])
                entry = &store->entries[index];
        }
        if (!entry)
            return CELLOTA_STORE_FAILED;
        strcpy(entry->key, key);
    }
    memcpy(entry->value, value, length);
    entry->length = (uint32_t)length;
    store->sets++;
    return save(store);
}

int store_sim_erase(store_sim *store, const char *key)
{
    store_sim_entry *entry = find(store, key);
    if (!entry)
        return CELLOTA_OK;
    memset(entry, 0, sizeof(*entry));
    return save(store);
}
