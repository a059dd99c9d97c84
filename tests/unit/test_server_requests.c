/*
 * Each device's request (host/server/requests.h) over releases made by release_create on a real
 * SQLite database: the variants a release keeps (full, compressed, deltas from the three newest
 * earlier releases only), the variant chosen from what a device reported (delta only for its
 * exact running image and only when it decodes; compressed when it decodes; else full), every
 * request signed by the server and decrypting to the release, one signature per variant within
 * a batch (the cache), and retirement: nothing is offered afterwards and no key is left sealed.
 */
#include "common/file.h"
#include "common/hex.h"
#include "core/error.h"
#include "image/delta.h"
#include "image/request.h"
#include "operator/keys.h"
#include "server/releases.h"
#include "server/requests.h"
#include "support/servers.h"
#include "test.h"

#include <mbedtls/aes.h>
#include <mbedtls/sha256.h>

#include <stdlib.h>
#include <string.h>

#define IMAGE_SIZE 12000
#define RELEASES 5

static server self;
static uint8_t images[RELEASES][IMAGE_SIZE];
static const char *const versions[RELEASES] = {"1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"};
static uint8_t server_point[CELLOTA_PUBLIC_KEY_SIZE];

/* Releases of one product: text-like bytes, each a few changes from the one before. */
static void make_images(void)
{
    uint32_t state = 12345;
    for (size_t i = 0; i < IMAGE_SIZE; i++) {
        state = state * 1103515245u + 12345u;
        images[0][i] = (uint8_t)("cellota firmware release "[(state >> 16) % 25] ^ (i % 7 == 0));
    }
    for (size_t r = 1; r < RELEASES; r++) {
        memcpy(images[r], images[r - 1], IMAGE_SIZE);
        for (size_t k = 0; k < 24; k++)
            images[r][(r * 2039 + k * 97) % IMAGE_SIZE] ^= (uint8_t)(0x5A + k);
    }
}

static void setup(void)
{
    char folder[256], spec[300], error[256];
    CHECK_EQ_INT(test_temp_directory(folder, sizeof(folder)), 0);
    snprintf(self.store_folder, sizeof(self.store_folder), "%s", folder);
    snprintf(self.images_folder, sizeof(self.images_folder), "%s", folder);
    snprintf(self.public_url, sizeof(self.public_url), "http://127.0.0.1:1");
    pthread_mutex_init(&self.crypto_lock, NULL);
    mbedtls_pk_init(&self.key);
    CHECK_EQ_INT(host_random_open(&self.random, "test"), 0);
    CHECK_EQ_INT(operator_key_generate(&self.key, &self.random), 0);
    CHECK_EQ_INT(operator_key_public_point(&self.key, server_point), 0);
    CHECK_EQ_INT(host_random_bytes(&self.random, self.master_key, sizeof(self.master_key)), 0);
    snprintf(spec, sizeof(spec), "sqlite:%s/cellota.db", folder);
    CHECK_EQ_INT(storage_open(spec, &self.store, error, sizeof(error)), 0);
}

/* A status reporting the running image (release `index`, or -1: none) and decoding. */
static void report(const char *device, int index, int decodes)
{
    device_status status;
    char raw[256];
    bool fresh;
    memset(&status, 0, sizeof(status));
    snprintf(status.state, sizeof(status.state), "up_to_date");
    snprintf(status.version, sizeof(status.version), "%s", index >= 0 ? versions[index] : "0.0.0");
    status.decodes = decodes;
    if (index >= 0) {
        uint8_t hash[32];
        char hex[65];
        mbedtls_sha256_ret(images[index], IMAGE_SIZE, hash, 0);
        host_hex_encode(hash, 32, hex);
        snprintf(status.image, sizeof(status.image), "%d:%s", IMAGE_SIZE, hex);
    }
    snprintf(raw, sizeof(raw), "{\"state\":\"up_to_date\",\"n\":\"%s%d%d\"}", device, index,
             decodes);
    CHECK_EQ_INT(storage_device_status(self.store, device, &status, raw, server_now(), &fresh), 0);
}

/* The device's request parsed, its signature checked, its image decrypted and compared with
 * the release (a delta's stream is only checked by hash: the device pipeline decodes it). */
static void check_request(const char *json, int release, const char *encoding, int base)
{
    cellota_update_request request;
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_verify(&request, server_point), CELLOTA_OK);
    CHECK_EQ_STR(request.version, versions[release]);
    uint8_t plain_hash[32];
    mbedtls_sha256_ret(images[release], IMAGE_SIZE, plain_hash, 0);
    CHECK(memcmp(request.fw_info.plain_sha256, plain_hash, 32) == 0);
    uint8_t expected = strcmp(encoding, "patch") == 0        ? CELLOTA_DELTA_PATCH
                       : strcmp(encoding, "compressed") == 0 ? CELLOTA_DELTA_COMPRESSED
                                                             : CELLOTA_REQUEST_PLAIN;
    CHECK_EQ_INT(request.encoding, expected);
    if (base >= 0) {
        uint8_t base_hash[32];
        mbedtls_sha256_ret(images[base], IMAGE_SIZE, base_hash, 0);
        CHECK(memcmp(request.base_sha256, base_hash, 32) == 0);
    }
    /* The image at its URL decrypts with the request's key to what fw_info says. */
    const char *name = strstr(request.url, "/images/");
    CHECK(name != NULL);
    if (!name)
        return;
    char file[80];
    snprintf(file, sizeof(file), "%.69s", name + 8);
    char *path = release_image_path(&self, file);
    uint8_t *encrypted = NULL, hash[32], chain[16];
    size_t size = 0;
    CHECK_EQ_INT(host_read_file(path, 1 << 20, &encrypted, &size), 0);
    free(path);
    CHECK_EQ_INT(size, request.fw_info.encrypted_size);
    mbedtls_sha256_ret(encrypted, size, hash, 0);
    CHECK(memcmp(hash, request.fw_info.encrypted_sha256, 32) == 0);
    uint8_t *plain = malloc(size);
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    memcpy(chain, request.fw_info.iv, 16);
    CHECK_EQ_INT(mbedtls_aes_setkey_dec(&aes, request.fw_info.key, 128), 0);
    CHECK_EQ_INT(mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, size, chain, encrypted, plain),
                 0);
    mbedtls_aes_free(&aes);
    if (expected == CELLOTA_REQUEST_PLAIN)
        CHECK(memcmp(plain, images[release], IMAGE_SIZE) == 0);
    else
        CHECK(memcmp(plain, "CLZ1", 4) == 0); /* the stream the device decodes */
    free(plain);
    free(encrypted);
}

static void test_variants(void)
{
    for (int r = 0; r < RELEASES; r++) {
        release_record release;
        api_error error;
        release_upload upload = {versions[r], NULL, NULL, false, images[r], IMAGE_SIZE};
        CHECK_EQ_INT(release_create(&self, &upload, &release, &error), 0);
        storage_release_free(&release);
    }
    release_variant *items;
    size_t count;
    CHECK_EQ_INT(storage_variant_list(self.store, "1.4.0", &items, &count), 0);
    CHECK_EQ_INT(count, 2 + RELEASE_DELTA_BASES); /* full, compressed, 1.3.0, 1.2.0, 1.1.0 */
    if (count == 2 + RELEASE_DELTA_BASES) {
        CHECK_EQ_INT(items[0].encoding, VARIANT_FULL);
        CHECK_EQ_INT(items[1].encoding, VARIANT_COMPRESSED);
        CHECK_EQ_STR(items[2].base_version, "1.1.0");
        CHECK_EQ_STR(items[3].base_version, "1.2.0");
        CHECK_EQ_STR(items[4].base_version, "1.3.0");
        CHECK(items[1].size < items[0].size);
        CHECK(items[4].size < items[1].size);
        /* stored without a key: fw_info's key field is zero, the key only sealed */
        for (size_t i = 0; i < count; i++) {
            CHECK_EQ_INT(strncmp(items[i].fw_info + 32, "00000000000000000000000000000000", 32),
                         0);
            CHECK_EQ_INT(strlen(items[i].sealed_key), 88);
        }
    }
    free(items);
    CHECK_EQ_INT(storage_variant_list(self.store, "1.0.0", &items, &count), 0);
    CHECK_EQ_INT(count, 2); /* nothing earlier to patch from */
    free(items);
}

static void test_choice(void)
{
    static const struct {
        const char *device;
        int running, decodes;
        const char *encoding;
        int base;
    } cases[] = {
        {"on-1.3", 3, 1, "patch", 3},        /* the newest delta base */
        {"on-1.1", 1, 1, "patch", 1},        /* the oldest one kept */
        {"on-1.0", 0, 1, "compressed", -1},  /* too old for a delta */
        {"no-image", -1, 1, "compressed", -1},
        {"no-decoder", 3, 0, "", -1},        /* on a base, but cannot decode */
        {"never-said", -2, 0, "", -1},       /* never reported: full */
    };
    request_cache cache = {.count = 0};
    char *first_shared = NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *json = NULL;
        request_sent sent;
        if (cases[i].running > -2)
            report(cases[i].device, cases[i].running, cases[i].decodes);
        CHECK_EQ_INT(request_for_device(&self, "1.4.0", 7, cases[i].device, &cache, &json, &sent),
                     0);
        if (!json)
            continue;
        CHECK(!sent.wrapped);
        check_request(json, 4, cases[i].encoding, cases[i].base);
        cellota_update_request parsed;
        CHECK_EQ_INT(cellota_request_parse(&parsed, json, strlen(json)), CELLOTA_OK);
        CHECK_EQ_STR(parsed.id, "7"); /* the campaign */
        if (strcmp(cases[i].encoding, "patch") == 0)
            CHECK(strstr(json, "?c=7&e=delta") != NULL);
        if (strcmp(cases[i].encoding, "") == 0) {
            /* the same variant in one batch: built and signed once */
            if (first_shared)
                CHECK_EQ_STR(json, first_shared);
            else
                first_shared = strdup(json);
        }
        free(json);
    }
    CHECK(cache.count >= 3);
    request_cache_clear(&cache);
    CHECK_EQ_INT(cache.count, 0);
    free(first_shared);
    /* seed 000's poll without a device: the full image, key in fw_info */
    release_record release;
    char *json = NULL;
    CHECK_EQ_INT(release_newest(&self, &release), 0);
    CHECK_EQ_STR(release.version, "1.4.0");
    CHECK_EQ_INT(request_for_anyone(&self, &release, &json), 0);
    if (json)
        check_request(json, 4, "", -1);
    free(json);
    storage_release_free(&release);
    /* no certificate anywhere: not wrapped, found nothing */
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
    CHECK_EQ_INT(request_device_key(&self, "on-1.3", point), STORAGE_NOT_FOUND);
}

static void test_retire(void)
{
    api_error error;
    char *json = NULL;
    request_sent sent;
    release_record release;
    CHECK_EQ_INT(release_retire(&self, "1.4.0", &error), 0);
    CHECK_EQ_INT(request_for_device(&self, "1.4.0", 7, "on-1.3", NULL, &json, &sent), -1);
    CHECK(json == NULL);
    release_variant *items;
    size_t count;
    CHECK_EQ_INT(storage_variant_list(self.store, "1.4.0", &items, &count), 0);
    for (size_t i = 0; i < count; i++)
        CHECK_EQ_STR(items[i].sealed_key, "");
    free(items);
    CHECK_EQ_INT(release_newest(&self, &release), 0);
    CHECK_EQ_STR(release.version, "1.3.0"); /* the newest one still offered */
    storage_release_free(&release);
    CHECK_EQ_INT(release_retire(&self, "9.9.9", &error), -1);
    CHECK_EQ_INT(error.status, 404);
    /* a release made after a retirement keeps no delta from the retired one */
    static uint8_t image[IMAGE_SIZE];
    memcpy(image, images[4], IMAGE_SIZE);
    image[100] ^= 1;
    release_upload upload = {"1.5.0", NULL, NULL, false, image, IMAGE_SIZE};
    CHECK_EQ_INT(release_create(&self, &upload, &release, &error), 0);
    storage_release_free(&release);
    CHECK_EQ_INT(storage_variant_list(self.store, "1.5.0", &items, &count), 0);
    CHECK_EQ_INT(count, 2 + RELEASE_DELTA_BASES);
    for (size_t i = 0; i < count; i++)
        CHECK(strcmp(items[i].base_version, "1.4.0") != 0);
    free(items);
}

int main(void)
{
    make_images();
    setup();
    test_variants();
    test_choice();
    test_retire();
    storage_close(self.store);
    mbedtls_pk_free(&self.key);
    host_random_close(&self.random);
    return test_summary();
}
