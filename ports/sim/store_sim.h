/*
 * A persistent key-value store for the host: a small table in memory, optionally kept in a file
 * that is replaced atomically (write a temporary, rename) on every set, the way NVS or FDS
 * commit a record. Functions have the cellota_port signatures with the store_sim as context.
 */
#ifndef CELLOTA_PORT_SIM_STORE_SIM_H
#define CELLOTA_PORT_SIM_STORE_SIM_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SIM_KEYS 32
#define STORE_SIM_KEY_LENGTH 31
#define STORE_SIM_VALUE_SIZE 512

typedef struct store_sim_entry {
    char key[STORE_SIM_KEY_LENGTH + 1];
    uint32_t length;
    uint8_t value[STORE_SIM_VALUE_SIZE];
} store_sim_entry;

typedef struct store_sim {
    store_sim_entry entries[STORE_SIM_KEYS];
    char path[512]; /* empty: memory only */
    uint64_t sets;
} store_sim;

/* An empty store in memory, or one loaded from `path` (NULL: memory only). 0 or an error. */
int store_sim_open(store_sim *store, const char *path);

int store_sim_get(void *context, const char *key, void *value, size_t capacity, size_t *length);
int store_sim_set(void *context, const char *key, const void *value, size_t length);

/* Removes a key; missing keys are not an error. */
int store_sim_erase(store_sim *store, const char *key);

#endif
