/* Building each device's request: choose, unseal, wrap or not, sign, zero. See requests.h. */
#include "requests.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "core/error.h"
#include "delta/delta.h"
#include "operator/device_request.h"
#include "operator/request.h"
#include "revoked.h"

#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CERTIFICATE_MAX (64 * 1024)

static uint8_t request_encoding(variant_encoding encoding)
{
    return encoding == VARIANT_COMPRESSED ? CELLOTA_DELTA_COMPRESSED
           : encoding == VARIANT_DELTA    ? CELLOTA_DELTA_PATCH
                                          : CELLOTA_REQUEST_PLAIN;
}

/* "SIZE:SHA256" as a device reports its running image (and a patch names its base). */
static bool parse_image(const char *text, uint32_t *size, uint8_t sha256[32])
{
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (end == text || *end != ':' || value > UINT32_MAX || strlen(end + 1) != 64)
        return false;
    *size = (uint32_t)value;
    return host_hex_decode(end + 1, 64, sha256, 32);
}

/* Signs the variant's request with its key unsealed, wrapped to `device_public` when given. */
static int build(server *self, const release_record *release, const release_variant *variant,
                 int64_t campaign, const char *device, const uint8_t *device_public, char **json)
{
    operator_request_fields fields;
    cellota_update_request parsed;
    uint8_t sealed[OPERATOR_SEALED_KEY_SIZE], key[16], wrapped[CELLOTA_WRAPPED_KEY_SIZE];
    char url[512], alt_url[512], id[24];
    int status = -1;

    *json = NULL;
    memset(&fields, 0, sizeof(fields));
    if (strlen(variant->sealed_key) != 2 * OPERATOR_SEALED_KEY_SIZE ||
        !host_hex_decode(variant->sealed_key, 2 * OPERATOR_SEALED_KEY_SIZE, sealed,
                         sizeof(sealed))) {
        fprintf(stderr, "cellota-server: release %s: its key was destroyed (retired)\n",
                release->version);
        return -1;
    }
    if (cellota_fw_info_from_hex_unchecked(&fields.fw_info, variant->fw_info,
                                           strlen(variant->fw_info)) != CELLOTA_OK)
        return -1;
    /* The label is the variant's image hash: a sealed key copied to another row does not open. */
    if (operator_unseal_key(self->master_key, variant->sha256, sealed, key) != HOST_EXIT_OK)
        return -1;
    if (campaign > 0) {
        snprintf(url, sizeof(url), "%s/images/%s.ebin?c=%" PRId64 "%s%s", self->public_url,
                 variant->sha256, campaign, variant->encoding == VARIANT_FULL ? "" : "&e=",
                 variant->encoding == VARIANT_FULL ? "" : variant_encoding_name(variant->encoding));
        snprintf(id, sizeof(id), "%" PRId64, campaign);
        fields.id = id;
    } else {
        snprintf(url, sizeof(url), "%s/images/%s.ebin", self->public_url, variant->sha256);
    }
    snprintf(alt_url, sizeof(alt_url), "%s/%s.ebin", self->mirror, variant->sha256);
    fields.url = url;
    fields.alt_url = self->mirror[0] ? alt_url : NULL;
    fields.version = release->version;
    fields.encoding = request_encoding(variant->encoding);
    if (variant->encoding == VARIANT_DELTA) {
        fields.base_size = variant->base_size;
        if (!host_hex_decode(variant->base_sha256, 64, fields.base_sha256, 32))
            goto done;
    }
    pthread_mutex_lock(&self->crypto_lock);
    if (device_public) {
        fields.device = device;
        fields.wrapped_key = wrapped;
        status = operator_key_wrap(device_public, device, key, &self->random, wrapped);
    } else {
        memcpy(fields.fw_info.key, key, sizeof(key));
        status = HOST_EXIT_OK;
    }
    if (status == HOST_EXIT_OK)
        status = operator_request_write(&fields, &self->key, &self->random, &parsed, json);
    pthread_mutex_unlock(&self->crypto_lock);
    status = status == HOST_EXIT_OK ? 0 : -1;
done:
    mbedtls_platform_zeroize(key, sizeof(key));
    mbedtls_platform_zeroize(&fields, sizeof(fields));
    mbedtls_platform_zeroize(&parsed, sizeof(parsed));
    return status;
}

int request_device_key(server *self, const char *device, uint8_t point[CELLOTA_PUBLIC_KEY_SIZE])
{
    mbedtls_x509_crt certificate;
    char *pem = NULL;
    uint8_t *text = NULL;
    size_t length = 0;
    int status;

    if (storage_device_certificate(self->store, device, &pem) != 0)
        return -1;
    if (pem) {
        text = (uint8_t *)pem;
        length = strlen(pem);
    } else {
        if (!self->device_certs[0])
            return STORAGE_NOT_FOUND;
        char name[STORAGE_ID_SIZE + 8];
        snprintf(name, sizeof(name), "%s.crt", device);
        char *path = host_path_join(self->device_certs, name);
        if (!path)
            return -1;
        bool present = access(path, F_OK) == 0;
        status = present ? host_read_file(path, CERTIFICATE_MAX, &text, &length) : HOST_EXIT_OK;
        free(path);
        if (!present)
            return STORAGE_NOT_FOUND;
        if (status != HOST_EXIT_OK)
            return -1;
    }
    mbedtls_x509_crt_init(&certificate);
    status = -1;
    if (mbedtls_x509_crt_parse(&certificate, text, length + 1) != 0 ||
        operator_certificate_public_key(&certificate, point) != HOST_EXIT_OK)
        fprintf(stderr, "cellota-server: device %s: its certificate holds no P-256 key\n", device);
    else
        /* the very certificate wrapped to, whatever list names it (revoked.h) */
        status = self->revocations && revocations_certificate(self->revocations, &certificate)
                     ? REQUEST_REVOKED
                     : 0;
    mbedtls_x509_crt_free(&certificate);
    free(text);
    return status;
}

int request_check_certificate(server *self, const char *device, const char *pem,
                              api_error *error)
{
    mbedtls_x509_crt certificate, authority;
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
    char name[STORAGE_ID_SIZE + 8];
    int status = -1;

    mbedtls_x509_crt_init(&certificate);
    mbedtls_x509_crt_init(&authority);
    if (mbedtls_x509_crt_parse(&certificate, (const uint8_t *)pem, strlen(pem) + 1) != 0 ||
        operator_certificate_public_key(&certificate, point) != HOST_EXIT_OK) {
        api_error_set(error, 400, "BAD_CERTIFICATE",
                      "The body must be a PEM certificate with a P-256 key.");
        goto done;
    }
    snprintf(name, sizeof(name), "CN=%s", device);
    char subject[256];
    if (mbedtls_x509_dn_gets(subject, sizeof(subject), &certificate.subject) < 0 ||
        strcmp(subject, name) != 0) {
        api_error_set(error, 400, "BAD_CERTIFICATE",
                      "The certificate's subject must be CN=%s (the device's id).", device);
        goto done;
    }
    if (self->device_certs[0]) {
        char *path = host_path_join(self->device_certs, "ca.crt");
        uint32_t flags = 0;
        if (path && access(path, F_OK) == 0 &&
            (mbedtls_x509_crt_parse_file(&authority, path) != 0 ||
             mbedtls_x509_crt_verify(&certificate, &authority, NULL, NULL, &flags, NULL, NULL) !=
                 0)) {
            free(path);
            api_error_set(error, 400, "BAD_CERTIFICATE",
                          "The certificate is not issued by the project's CA (ca.crt).");
            goto done;
        }
        free(path);
    }
    status = 0;
done:
    mbedtls_x509_crt_free(&certificate);
    mbedtls_x509_crt_free(&authority);
    return status;
}

static void clear_variants(release_variant *items, size_t count)
{
    if (items)
        mbedtls_platform_zeroize(items, count * sizeof(*items));
    free(items);
}

void request_cache_clear(request_cache *cache)
{
    for (size_t i = 0; i < cache->count; i++) {
        mbedtls_platform_zeroize(cache->entries[i].json, strlen(cache->entries[i].json));
        free(cache->entries[i].json);
    }
    cache->count = 0;
}

/*
 * Polls come one by one from the HTTP threads, without a batch: a fleet polling at once would
 * make each thread sign the same request in turn. So the requests without a device of the last
 * REQUEST_MEMO_S are kept for every thread (a few entries, zeroed when they expire): an image key
 * stays in memory that long after its last use, never on disk.
 */
#define REQUEST_MEMO_S 2.0
#define REQUEST_MEMO_SIZE 16
static struct {
    int64_t campaign;
    char sha256[65];
    char *json;
    double expires;
} memo[REQUEST_MEMO_SIZE];
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static double memo_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* The memo's copy (strdup'd into *json), expired entries dropped; false when there is none. */
static bool memo_find(int64_t campaign, const char *sha256, char **json)
{
    double now = memo_now();
    bool found = false;
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < REQUEST_MEMO_SIZE; i++) {
        if (memo[i].json && memo[i].expires < now) {
            mbedtls_platform_zeroize(memo[i].json, strlen(memo[i].json));
            free(memo[i].json);
            memo[i].json = NULL;
        }
        if (!found && memo[i].json && memo[i].campaign == campaign &&
            strcmp(memo[i].sha256, sha256) == 0)
            found = (*json = strdup(memo[i].json)) != NULL;
    }
    pthread_mutex_unlock(&memo_lock);
    return found;
}

static void memo_keep(int64_t campaign, const char *sha256, const char *json)
{
    double now = memo_now();
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < REQUEST_MEMO_SIZE; i++) {
        if (!memo[i].json || memo[i].expires < now) {
            if (memo[i].json) {
                mbedtls_platform_zeroize(memo[i].json, strlen(memo[i].json));
                free(memo[i].json);
            }
            memo[i].json = strdup(json);
            memo[i].campaign = campaign;
            snprintf(memo[i].sha256, sizeof(memo[i].sha256), "%s", sha256);
            memo[i].expires = now + REQUEST_MEMO_S;
            break;
        }
    }
    pthread_mutex_unlock(&memo_lock);
}

/* The variant's shared request from the batch's cache (or, for a poll, the memo), or built and
 * kept there. */
static int build_shared(server *self, const release_record *release,
                        const release_variant *variant, int64_t campaign, request_cache *cache,
                        char **json)
{
    for (size_t i = 0; cache && i < cache->count; i++)
        if (strcmp(cache->entries[i].sha256, variant->sha256) == 0)
            return (*json = strdup(cache->entries[i].json)) ? 0 : -1;
    if (!cache && campaign > 0 && memo_find(campaign, variant->sha256, json))
        return 0;
    if (build(self, release, variant, campaign, NULL, NULL, json) != 0)
        return -1;
    if (!cache && campaign > 0)
        memo_keep(campaign, variant->sha256, *json);
    if (cache && cache->count < REQUEST_CACHE_SIZE) {
        char *copy = strdup(*json);
        if (copy) {
            snprintf(cache->entries[cache->count].sha256, 65, "%s", variant->sha256);
            cache->entries[cache->count++].json = copy;
        }
    }
    return 0;
}

int request_for_device(server *self, const char *version, int64_t campaign, const char *device,
                       request_cache *cache, char **json, request_sent *sent)
{
    release_record release;
    release_variant *items = NULL;
    delta_variant *choices = NULL;
    device_record record;
    delta_device known;
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
    size_t count = 0;
    int status = -1;

    *json = NULL;
    memset(sent, 0, sizeof(*sent));
    memset(&known, 0, sizeof(known));
    if (storage_release_get(self->store, version, &release) != 0)
        return -1;
    storage_release_free(&release);
    if (release.retired_at != 0 || storage_variant_list(self->store, version, &items, &count) != 0)
        return -1;
    if (count == 0 || !(choices = calloc(count, sizeof(*choices))))
        goto done;
    for (size_t i = 0; i < count; i++) {
        choices[i].encoding = request_encoding(items[i].encoding);
        choices[i].size = items[i].size;
        choices[i].base_size = items[i].base_size;
        if (items[i].encoding == VARIANT_DELTA &&
            !host_hex_decode(items[i].base_sha256, 64, choices[i].base_sha256, 32))
            choices[i].base_size = UINT32_MAX; /* never matches a running image */
    }
    if (storage_device_get(self->store, device, &record) == 0) {
        known.decodes = record.decodes;
        if (!parse_image(record.image, &known.running_size, known.running_sha256)) {
            known.running_size = 0; /* unknown: no patch can be for it */
            memset(known.running_sha256, 0, sizeof(known.running_sha256));
        }
    }
    ptrdiff_t chosen = delta_choose(choices, count, &known);
    if (chosen < 0)
        goto done;
    int key = request_device_key(self, device, point);
    if (key == REQUEST_REVOKED) {
        status = REQUEST_REVOKED;
        goto done;
    }
    if (key != 0 && key != STORAGE_NOT_FOUND)
        goto done;
    if ((key == 0 ? build(self, &release, &items[chosen], campaign, device, point, json)
                  : build_shared(self, &release, &items[chosen], campaign, cache, json)) != 0)
        goto done;
    sent->encoding = items[chosen].encoding;
    sent->wrapped = key == 0;
    sent->size = items[chosen].size;
    status = 0;
done:
    free(choices);
    clear_variants(items, count);
    return status;
}

int request_for_anyone(server *self, const release_record *release, char **json)
{
    release_variant *items = NULL;
    size_t count = 0;
    int status = -1;
    *json = NULL;
    if (release->retired_at != 0 ||
        storage_variant_list(self->store, release->version, &items, &count) != 0)
        return -1;
    /* Listed full first. */
    if (count > 0 && items[0].encoding == VARIANT_FULL)
        status = build(self, release, &items[0], 0, NULL, NULL, json);
    clear_variants(items, count);
    return status;
}
