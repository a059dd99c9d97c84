/*
 * What every part of cellota-server shares: the storage, the signing key, the settings from the
 * command line, and the MQTT link. One instance per process, built by main.c.
 */
#ifndef CELLOTA_SERVER_SERVER_H
#define CELLOTA_SERVER_SERVER_H

#include "common/random.h"
#include "operator/seal.h"
#include "storage.h"

#include <mbedtls/pk.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

struct mqtt_link;
struct campaign_engine;
struct revocations;
struct token_book;

typedef struct server {
    storage *store;
    char store_folder[512], images_folder[600];
    char public_url[256]; /* no trailing slash */
    char mirror[256];     /* "" when none */
    char dashboard[512];
    struct token_book *tokens; /* the API's tokens, as hashes (tokens.h) */
    /* The request-signing key and the random generator behind image keys; one user at a time. */
    mbedtls_pk_context key;
    host_random random;
    pthread_mutex_t crypto_lock;
    /* Image keys are kept sealed under it (operator/seal.h): --master-key, else
     * <store>/master.key, made on first start. */
    uint8_t master_key[OPERATOR_MASTER_KEY_SIZE];
    /* --device-certs: ID.crt of `cellota certs device` and the CA's crl.pem; "" when none. */
    char device_certs[512];
    struct mqtt_link *mqtt;
    struct campaign_engine *engine;
    /* The project's certificates (--certs): the broker's TLS and what is revoked. */
    char mqtt_ca[512], mqtt_certificate[512], mqtt_key[512]; /* "" when MQTT is plain */
    struct revocations *revocations;                         /* NULL without --certs */
    atomic_uint_fast64_t status_messages;                    /* since start */
} server;

/* An answer that went wrong, for the HTTP layer: status, NAME and a sentence. */
typedef struct api_error {
    int status;
    char name[48];
    char message[STORAGE_TEXT_SIZE];
} api_error;

void api_error_set(api_error *error, int status, const char *name, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* A device id or a tag: 1 to 32 letters, digits, '-', '_' or '.' (safe in a topic, a URL, a
 * LIKE pattern and a log line). */
bool server_valid_name(const char *text);

/* True when device `id`'s certificate is revoked (revoked.h); false without --certs. A revoked
 * device is sent no request, is not answered one when it polls, and campaigns skip it
 * (reason REVOKED). */
bool server_device_revoked(server *self, const char *id);

/* Adds `name`: the RFC 3339 time, or null for 0. */
struct cJSON;
void server_add_time(struct cJSON *object, const char *name, int64_t seconds);

/* Seconds since the epoch. */
int64_t server_now(void);

/* RFC 3339 UTC ("2026-12-07T09:30:00Z") of a time in seconds; "" for 0. */
void server_time_text(int64_t seconds, char text[32]);

#endif
