/* Release upload: validate, pack with host/operator, store the image, then the row. */
#include "releases.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/number.h"
#include "core/error.h"
#include "image/semver.h"
#include "delta/delta.h"
#include "operator/package.h"
#include "operator/request.h"
#include "operator/seal.h"

#include <mbedtls/aes.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <inttypes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *release_image_path(const server *self, const char *name)
{
    return host_path_join(self->images_folder, name);
}

static int store_file(const server *self, const char *name, const void *data, size_t size)
{
    char *path = release_image_path(self, name);
    if (!path)
        return -1;
    /* host_write_file: a temporary file, fsync, rename: never half an image under its name. */
    int status = host_write_file(path, data, size, 0);
    free(path);
    return status == HOST_EXIT_OK ? 0 : -1;
}

int release_check_upload(const release_upload *upload, uint32_t *security_version,
                         uint64_t *address, api_error *error)
{
    cellota_semver semver;

    *security_version = 0;
    *address = OPERATOR_LOAD_ADDRESS_DEFAULT;
    if (!upload->version || !upload->version[0] ||
        strlen(upload->version) >= STORAGE_ID_SIZE ||
        cellota_semver_parse(&semver, upload->version, strlen(upload->version)) != 0 ||
        operator_security_version(upload->version, security_version) != HOST_EXIT_OK) {
        api_error_set(error, 400, "BAD_VERSION",
                      "The version must be a semantic version (MAJOR.MINOR.PATCH, minor and "
                      "patch below 1000).");
        return -1;
    }
    if (upload->load_address && !host_parse_unsigned(upload->load_address, UINT32_MAX, address)) {
        api_error_set(error, 400, "BAD_LOAD_ADDRESS",
                      "The load address must be a 32-bit number (decimal or 0x-hexadecimal).");
        return -1;
    }
    if (upload->notes && strlen(upload->notes) >= STORAGE_TEXT_SIZE) {
        api_error_set(error, 400, "BAD_NOTES", "The notes are longer than %zu characters.",
                      (size_t)STORAGE_TEXT_SIZE - 1);
        return -1;
    }
    if (upload->size == 0) {
        api_error_set(error, 400, "EMPTY_IMAGE", "The image is empty.");
        return -1;
    }
    if (upload->size > RELEASE_IMAGE_MAX) {
        api_error_set(error, 413, "IMAGE_TOO_LARGE", "The image is larger than %u bytes.",
                      RELEASE_IMAGE_MAX);
        return -1;
    }
    return 0;
}

/* A variant of the release being made: its image file and its row, key sealed. */
typedef struct packing {
    server *self;
    release_record *release;
    release_variant variants[2 + RELEASE_DELTA_BASES];
    size_t count;
} packing;

static int add_variant(packing *work, variant_encoding encoding, const cellota_fw_info *info,
                       const uint8_t *encrypted, const release_record *base)
{
    release_variant *variant = &work->variants[work->count];
    cellota_fw_info stored = *info;
    uint8_t sealed[OPERATOR_SEALED_KEY_SIZE];
    char name[80];

    memset(variant, 0, sizeof(*variant));
    snprintf(variant->release, sizeof(variant->release), "%s", work->release->version);
    variant->encoding = encoding;
    host_hex_encode(info->encrypted_sha256, 32, variant->sha256);
    variant->size = info->encrypted_size;
    if (base) {
        snprintf(variant->base_version, sizeof(variant->base_version), "%s", base->version);
        variant->base_size = (uint32_t)base->plain_size;
        snprintf(variant->base_sha256, sizeof(variant->base_sha256), "%s", base->plain_sha256);
    }
    /* Stored: fw_info without its key, and the key sealed under the master key. */
    memset(stored.key, 0, sizeof(stored.key));
    cellota_fw_info_to_hex(&stored, variant->fw_info);
    pthread_mutex_lock(&work->self->crypto_lock);
    int status = operator_seal_key(work->self->master_key, variant->sha256, info->key,
                                   &work->self->random, sealed);
    pthread_mutex_unlock(&work->self->crypto_lock);
    if (status != HOST_EXIT_OK)
        return -1;
    host_hex_encode(sealed, sizeof(sealed), variant->sealed_key);
    snprintf(name, sizeof(name), "%s.ebin", variant->sha256);
    if (store_file(work->self, name, encrypted, info->encrypted_size) != 0)
        return -1;
    work->count++;
    return 0;
}

static int insert_work(storage *store, void *context)
{
    packing *work = context;
    int added = storage_release_add(store, work->release);
    if (added != 0)
        return added;
    for (size_t i = 0; i < work->count; i++)
        if (storage_variant_add(store, &work->variants[i]) != 0)
            return -1;
    return 0;
}

/* The plain image of an earlier release, decrypted from its full image with its unsealed key
 * (the server keeps no plain images): a delta's base. 0, or -1 when it is retired or its
 * image does not check. */
static int release_plain(server *self, const release_record *release, uint8_t **plain)
{
    release_variant *items = NULL;
    size_t count = 0, size = 0;
    uint8_t sealed[OPERATOR_SEALED_KEY_SIZE], hash[32], chain[16], *encrypted = NULL;
    cellota_fw_info info;
    mbedtls_aes_context aes;
    int status = -1;

    *plain = NULL;
    mbedtls_aes_init(&aes);
    if (release->retired_at || storage_variant_list(self->store, release->version, &items,
                                                    &count) != 0)
        return -1;
    if (count == 0 || items[0].encoding != VARIANT_FULL ||
        !host_hex_decode(items[0].sealed_key, 2 * OPERATOR_SEALED_KEY_SIZE, sealed,
                         sizeof(sealed)) ||
        cellota_fw_info_from_hex(&info, items[0].fw_info, strlen(items[0].fw_info)) != 0 ||
        operator_unseal_key(self->master_key, items[0].sha256, sealed, info.key) != HOST_EXIT_OK)
        goto done;
    char name[80];
    snprintf(name, sizeof(name), "%s.ebin", items[0].sha256);
    char *path = release_image_path(self, name);
    int read = path ? host_read_file(path, RELEASE_IMAGE_MAX + 16, &encrypted, &size) : -1;
    free(path);
    if (read != HOST_EXIT_OK || size != info.encrypted_size || !(*plain = malloc(size)))
        goto done;
    memcpy(chain, info.iv, sizeof(chain));
    if (mbedtls_aes_setkey_dec(&aes, info.key, 128) != 0 ||
        mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, size, chain, encrypted, *plain) != 0 ||
        mbedtls_sha256_ret(*plain, info.plain_size, hash, 0) != 0 ||
        memcmp(hash, info.plain_sha256, 32) != 0)
        goto done;
    status = 0;
done:
    mbedtls_aes_free(&aes);
    mbedtls_platform_zeroize(&info, sizeof(info));
    if (items)
        mbedtls_platform_zeroize(items, count * sizeof(*items));
    free(items);
    free(encrypted);
    if (status != 0) {
        free(*plain);
        *plain = NULL;
    }
    return status;
}

/* Compressed, and patches from the newest few earlier releases (each under its own key). */
static int add_encoded(packing *work, const release_upload *upload, const cellota_fw_info *full)
{
    release_record *items = NULL;
    size_t count = 0, bases = 0;
    int64_t total;
    host_random random; /* its own: encoding takes seconds, and the server's is shared */
    int status = -1;

    if (host_random_open(&random, "cellota-server release") != HOST_EXIT_OK)
        return -1;
    for (size_t round = 0; round <= RELEASE_DELTA_BASES; round++) {
        const release_record *base = NULL;
        uint8_t *plain = NULL, *encrypted = NULL;
        size_t stream_size;
        if (round > 0) {
            if (!items && storage_release_list(work->self->store, 64, 0, &items, &count,
                                               &total) != 0)
                goto done;
            /* the next earlier release whose image can be read back */
            while (bases < count &&
                   (strcmp(items[bases].plain_sha256, work->release->plain_sha256) == 0 ||
                    release_plain(work->self, &items[bases], &plain) != 0))
                bases++;
            if (bases >= count)
                break;
            base = &items[bases++];
        }
        operator_request_fields fields;
        memset(&fields, 0, sizeof(fields));
        fields.fw_info.version = full->version;
        fields.fw_info.load_address = full->load_address;
        int packed = delta_package(&random, plain, base ? base->plain_size : 0, upload->image,
                                   upload->size, NULL, &fields, &encrypted, &stream_size);
        if (plain)
            mbedtls_platform_zeroize(plain, base->plain_size);
        free(plain);
        int added = packed == HOST_EXIT_OK
                        ? add_variant(work, base ? VARIANT_DELTA : VARIANT_COMPRESSED,
                                      &fields.fw_info, encrypted, base)
                        : -1;
        mbedtls_platform_zeroize(&fields, sizeof(fields));
        free(encrypted);
        if (added != 0)
            goto done;
    }
    status = 0;
done:
    free(items);
    host_random_close(&random);
    return status;
}

int release_create(server *self, const release_upload *upload, release_record *release,
                   api_error *error)
{
    cellota_fw_info info;
    uint8_t *encrypted = NULL;
    uint64_t address;
    char name[80];
    int status = -1;
    packing work;

    memset(release, 0, sizeof(*release));
    memset(&info, 0, sizeof(info));
    memset(&work, 0, sizeof(work));
    if (release_check_upload(upload, &info.version, &address, error) != 0)
        return -1;
    if (storage_release_get(self->store, upload->version, release) == 0) {
        storage_release_free(release);
        api_error_set(error, 409, "VERSION_EXISTS", "Release %s exists already.", upload->version);
        return -1;
    }
    info.load_address = (uint32_t)address;
    pthread_mutex_lock(&self->crypto_lock);
    status = operator_package(&self->random, upload->image, upload->size, &info, &encrypted);
    pthread_mutex_unlock(&self->crypto_lock);
    if (status != HOST_EXIT_OK) {
        api_error_set(error, 500, "PACK_FAILED", "The image could not be encrypted.");
        return -1;
    }
    snprintf(release->version, sizeof(release->version), "%s", upload->version);
    host_hex_encode(info.encrypted_sha256, 32, release->sha256);
    host_hex_encode(info.plain_sha256, 32, release->plain_sha256);
    release->size = info.encrypted_size;
    release->plain_size = info.plain_size;
    release->load_address = info.load_address;
    release->security_version = info.version;
    snprintf(release->notes, sizeof(release->notes), "%s", upload->notes ? upload->notes : "");
    release->plain_download = upload->plain_download;
    release->created_at = server_now();
    work.self = self;
    work.release = release;

    /* The files first: a release row never points at an image that is not there. */
    status = -1;
    if (add_variant(&work, VARIANT_FULL, &info, encrypted, NULL) != 0) {
        api_error_set(error, 500, "STORE_FAILED", "The image could not be sealed and stored.");
        goto done;
    }
    snprintf(name, sizeof(name), "%s.bin", release->plain_sha256);
    if (upload->plain_download && store_file(self, name, upload->image, upload->size) != 0) {
        api_error_set(error, 500, "STORE_FAILED", "The image could not be written to the store.");
        goto done;
    }
    if (add_encoded(&work, upload, &info) != 0) {
        api_error_set(error, 500, "PACK_FAILED",
                      "The compressed image or a patch could not be made and stored.");
        goto done;
    }
    int added = storage_transaction(self->store, insert_work, &work);
    if (added == STORAGE_EXISTS) {
        api_error_set(error, 409, "VERSION_EXISTS", "Release %s exists already.", upload->version);
        goto done;
    }
    if (added != 0) {
        api_error_set(error, 500, "STORAGE_FAILED", "The release could not be stored.");
        goto done;
    }
    status = 0;
done:
    if (status != 0)
        storage_release_free(release);
    mbedtls_platform_zeroize(&info, sizeof(info));
    mbedtls_platform_zeroize(&work, sizeof(work));
    free(encrypted);
    return status;
}

typedef struct legacy_work {
    const char *version;
    const release_variant *variant;
} legacy_work;

static int legacy_work_run(storage *store, void *context)
{
    legacy_work *work = context;
    if (storage_variant_add(store, work->variant) != 0)
        return -1;
    return storage_release_clear_request(store, work->version);
}

int release_seal_stored(server *self)
{
    release_record *items;
    size_t count;
    int64_t total;
    int sealed = 0;
    if (storage_release_list(self->store, 100000, 0, &items, &count, &total) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        release_record release;
        cellota_update_request request;
        uint8_t key[OPERATOR_SEALED_KEY_SIZE];
        release_variant variant;
        if (storage_release_get(self->store, items[i].version, &release) != 0)
            continue;
        bool legacy = release.request && release.request[0] &&
                      cellota_request_parse(&request, release.request,
                                            strlen(release.request)) == CELLOTA_OK;
        storage_release_free(&release);
        if (!legacy)
            continue;
        memset(&variant, 0, sizeof(variant));
        snprintf(variant.release, sizeof(variant.release), "%s", release.version);
        variant.encoding = VARIANT_FULL;
        snprintf(variant.sha256, sizeof(variant.sha256), "%s", release.sha256);
        variant.size = release.size;
        pthread_mutex_lock(&self->crypto_lock);
        int status = operator_seal_key(self->master_key, variant.sha256, request.fw_info.key,
                                       &self->random, key);
        pthread_mutex_unlock(&self->crypto_lock);
        memset(request.fw_info.key, 0, sizeof(request.fw_info.key));
        cellota_fw_info_to_hex(&request.fw_info, variant.fw_info);
        host_hex_encode(key, sizeof(key), variant.sealed_key);
        legacy_work work = {release.version, &variant};
        if (status == HOST_EXIT_OK && storage_transaction(self->store, legacy_work_run, &work) == 0) {
            printf("release %s: stored before keys were sealed: its key is sealed now\n",
                   release.version);
            sealed++;
        }
        mbedtls_platform_zeroize(&request, sizeof(request));
        mbedtls_platform_zeroize(&variant, sizeof(variant));
        mbedtls_platform_zeroize(key, sizeof(key));
    }
    free(items);
    fflush(stdout);
    return sealed;
}

int release_retire(server *self, const char *version, api_error *error)
{
    release_record release;
    int64_t campaign;
    int status = storage_release_get(self->store, version, &release);
    if (status == STORAGE_NOT_FOUND) {
        api_error_set(error, 404, "UNKNOWN_RELEASE", "There is no release %s.", version);
        return -1;
    }
    if (status != 0)
        goto failed;
    storage_release_free(&release);
    status = storage_release_in_use(self->store, version, &campaign);
    if (status == 0) {
        api_error_set(error, 409, "RELEASE_IN_USE",
                      "Release %s is offered by active campaign %" PRId64
                      ": abort it (or let it finish) first.",
                      version, campaign);
        return -1;
    }
    if (status != STORAGE_NOT_FOUND || storage_release_retire(self->store, version, server_now()))
        goto failed;
    printf("release %s: retired, its keys destroyed\n", version);
    fflush(stdout);
    return 0;
failed:
    api_error_set(error, 500, "STORAGE_FAILED", "The release could not be retired.");
    return -1;
}

int release_newest(server *self, release_record *newest)
{
    release_record *items;
    size_t count;
    int64_t total;
    cellota_semver best, candidate;
    int chosen = -1;
    if (storage_release_list(self->store, 100000, 0, &items, &count, &total) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (items[i].retired_at != 0 ||
            cellota_semver_parse(&candidate, items[i].version, strlen(items[i].version)) != 0)
            continue;
        if (chosen < 0 || cellota_semver_compare(&candidate, &best) > 0) {
            best = candidate;
            chosen = (int)i;
        }
    }
    int status = STORAGE_NOT_FOUND;
    if (chosen >= 0)
        status = storage_release_get(self->store, items[chosen].version, newest);
    free(items);
    return status;
}

cJSON *release_json(const server *self, const release_record *release)
{
    cJSON *object = cJSON_CreateObject();
    char url[512], created[32];
    snprintf(url, sizeof(url), "%s/images/%s.ebin", self->public_url, release->sha256);
    server_time_text(release->created_at, created);
    cJSON_AddStringToObject(object, "version", release->version);
    cJSON_AddStringToObject(object, "sha256", release->sha256);
    cJSON_AddStringToObject(object, "plain_sha256", release->plain_sha256);
    cJSON_AddNumberToObject(object, "size", (double)release->size);
    cJSON_AddNumberToObject(object, "plain_size", (double)release->plain_size);
    cJSON_AddNumberToObject(object, "load_address", release->load_address);
    cJSON_AddNumberToObject(object, "security_version", release->security_version);
    cJSON_AddStringToObject(object, "notes", release->notes);
    cJSON_AddBoolToObject(object, "plain_download", release->plain_download);
    cJSON_AddStringToObject(object, "url", url);
    cJSON_AddStringToObject(object, "created_at", created);
    server_add_time(object, "retired_at", release->retired_at);
    /* The forms it is sent in (requests.h chooses one per device). */
    release_variant *items;
    size_t count;
    cJSON *variants = cJSON_CreateArray();
    if (storage_variant_list(self->store, release->version, &items, &count) == 0) {
        for (size_t i = 0; i < count; i++) {
            cJSON *variant = cJSON_CreateObject();
            cJSON_AddStringToObject(variant, "encoding", variant_encoding_name(items[i].encoding));
            if (items[i].encoding == VARIANT_DELTA)
                cJSON_AddStringToObject(variant, "base", items[i].base_version);
            cJSON_AddNumberToObject(variant, "size", (double)items[i].size);
            cJSON_AddStringToObject(variant, "sha256", items[i].sha256);
            cJSON_AddItemToArray(variants, variant);
        }
        mbedtls_platform_zeroize(items, count * sizeof(*items));
        free(items);
    }
    cJSON_AddItemToObject(object, "variants", variants);
    return object;
}
