/* Release upload: validate, pack with host/operator, store the image, then the row. */
#include "releases.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/number.h"
#include "image/semver.h"
#include "operator/package.h"
#include "operator/request.h"

#include <mbedtls/platform_util.h>

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

/* The stored request without a campaign gives fw_info back (the device's own parser reads it). */
static int release_fw_info(const release_record *release, cellota_fw_info *info)
{
    cellota_update_request request;
    if (!release->request ||
        cellota_request_parse(&request, release->request, strlen(release->request)) != 0)
        return -1;
    *info = request.fw_info;
    mbedtls_platform_zeroize(&request, sizeof(request));
    return 0;
}

static int write_request(server *self, const char *sha256, const char *version,
                         const cellota_fw_info *info, int64_t campaign, char **json)
{
    operator_request_fields fields;
    cellota_update_request parsed;
    char url[512], alt_url[512], id[24];
    memset(&fields, 0, sizeof(fields));
    if (campaign > 0) {
        snprintf(url, sizeof(url), "%s/images/%s.ebin?c=%lld", self->public_url, sha256,
                 (long long)campaign);
        snprintf(id, sizeof(id), "%lld", (long long)campaign);
        fields.id = id;
    } else {
        snprintf(url, sizeof(url), "%s/images/%s.ebin", self->public_url, sha256);
    }
    snprintf(alt_url, sizeof(alt_url), "%s/%s.ebin", self->mirror, sha256);
    fields.url = url;
    fields.alt_url = self->mirror[0] ? alt_url : NULL;
    fields.version = version;
    fields.fw_info = *info;
    pthread_mutex_lock(&self->crypto_lock);
    int status = operator_request_write(&fields, &self->key, &self->random, &parsed, json);
    pthread_mutex_unlock(&self->crypto_lock);
    mbedtls_platform_zeroize(&fields.fw_info, sizeof(fields.fw_info));
    mbedtls_platform_zeroize(&parsed, sizeof(parsed));
    return status == HOST_EXIT_OK ? 0 : -1;
}

int release_request(server *self, const release_record *release, int64_t campaign, char **json)
{
    cellota_fw_info info;
    if (release_fw_info(release, &info) != 0)
        return -1;
    int status = write_request(self, release->sha256, release->version, &info, campaign, json);
    mbedtls_platform_zeroize(&info, sizeof(info));
    return status;
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

int release_create(server *self, const release_upload *upload, release_record *release,
                   api_error *error)
{
    cellota_fw_info info;
    uint8_t *encrypted = NULL;
    uint64_t address;
    char name[80];
    int status = -1;

    memset(release, 0, sizeof(*release));
    memset(&info, 0, sizeof(info));
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

    /* The files first: a release row never points at an image that is not there. */
    status = -1;
    snprintf(name, sizeof(name), "%s.ebin", release->sha256);
    if (store_file(self, name, encrypted, info.encrypted_size) != 0) {
        api_error_set(error, 500, "STORE_FAILED", "The image could not be written to the store.");
        goto done;
    }
    snprintf(name, sizeof(name), "%s.bin", release->plain_sha256);
    if (upload->plain_download && store_file(self, name, upload->image, upload->size) != 0) {
        api_error_set(error, 500, "STORE_FAILED", "The image could not be written to the store.");
        goto done;
    }
    if (write_request(self, release->sha256, release->version, &info, 0, &release->request) != 0) {
        api_error_set(error, 500, "SIGN_FAILED", "The update request could not be signed.");
        goto done;
    }
    int added = storage_release_add(self->store, release);
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
    free(encrypted);
    return status;
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
        if (cellota_semver_parse(&candidate, items[i].version, strlen(items[i].version)) != 0)
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
    return object;
}
