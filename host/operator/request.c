/* Writing update requests; see request.h. */
#include "operator/request.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "core/error.h"
#include "image/delta.h"
#include "operator/keys.h"

#include <cJSON.h>
#include <mbedtls/platform_util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *or_empty(const char *text)
{
    return text ? text : "";
}

/* The JSON text of the fields, with `signature` as sig when not NULL. NULL when out of memory. */
static char *render(const operator_request_fields *fields, const uint8_t *signature)
{
    char fw_info_hex[CELLOTA_FW_INFO_HEX_LENGTH + 1];
    char signature_hex[2 * CELLOTA_SIGNATURE_SIZE + 1];
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    bool ok;

    cellota_fw_info_to_hex(&fields->fw_info, fw_info_hex);
    /* Seed 002's fields first and always present: a device built to the seed reads these. */
    ok = root && cJSON_AddStringToObject(root, "type", "update_fw") &&
         cJSON_AddStringToObject(root, "url", or_empty(fields->url)) &&
         cJSON_AddStringToObject(root, "alt_url", or_empty(fields->alt_url)) &&
         cJSON_AddStringToObject(root, "fw_info", fw_info_hex) &&
         cJSON_AddStringToObject(root, "version", or_empty(fields->version));
    if (ok && fields->id && fields->id[0])
        ok = cJSON_AddStringToObject(root, "id", fields->id) != NULL;
    /* the v2 members in the order of the canonical bytes (image/request.h) */
    if (ok && fields->encoding != CELLOTA_REQUEST_PLAIN)
        ok = cJSON_AddStringToObject(root, "encoding", fields->encoding == CELLOTA_DELTA_PATCH
                                                           ? "patch"
                                                           : "compressed") != NULL;
    if (ok && fields->encoding == CELLOTA_DELTA_PATCH) {
        char base[11 + 1 + 64 + 1];
        int length = snprintf(base, sizeof(base) - 64, "%u:", (unsigned)fields->base_size);
        host_hex_encode(fields->base_sha256, 32, base + length);
        ok = cJSON_AddStringToObject(root, "base", base) != NULL;
    }
    if (ok && fields->device && fields->device[0])
        ok = cJSON_AddStringToObject(root, "device", fields->device) != NULL;
    if (ok && fields->wrapped_key) {
        char wrapped_hex[2 * CELLOTA_WRAPPED_KEY_SIZE + 1];
        host_hex_encode(fields->wrapped_key, CELLOTA_WRAPPED_KEY_SIZE, wrapped_hex);
        ok = cJSON_AddStringToObject(root, "wrapped_key", wrapped_hex) != NULL;
    }
    if (ok && signature) {
        host_hex_encode(signature, CELLOTA_SIGNATURE_SIZE, signature_hex);
        ok = cJSON_AddStringToObject(root, "sig", signature_hex) != NULL;
    }
    if (ok)
        text = cJSON_Print(root);
    cJSON_Delete(root);
    mbedtls_platform_zeroize(fw_info_hex, sizeof(fw_info_hex)); /* it holds the image key */
    return text;
}

/* Parses `text` with the device's parser, as a device would. */
static int parse_as_device(const char *text, cellota_update_request *request)
{
    int status = cellota_request_parse(request, text, strlen(text));
    if (status != CELLOTA_OK)
        return host_cellota_error("a device would refuse this request", status);
    return HOST_EXIT_OK;
}

static char *with_newline(char *text)
{
    size_t length;
    char *longer;
    if (!text)
        return NULL;
    length = strlen(text);
    longer = realloc(text, length + 2);
    if (!longer) {
        free(text);
        return NULL;
    }
    longer[length] = '\n';
    longer[length + 1] = '\0';
    return longer;
}

int operator_request_write(const operator_request_fields *fields, mbedtls_pk_context *key,
                           host_random *random, cellota_update_request *request, char **json)
{
    uint8_t digest[32], signature[CELLOTA_SIGNATURE_SIZE], point[CELLOTA_PUBLIC_KEY_SIZE];
    char *text = render(fields, NULL);
    int status;

    *json = NULL;
    if (!text)
        return host_error(HOST_EXIT_INTERNAL, "out of memory writing the request");
    status = parse_as_device(text, request);
    if (status != HOST_EXIT_OK || !key) {
        if (status == HOST_EXIT_OK)
            *json = with_newline(text);
        else
            free(text);
        if (status == HOST_EXIT_OK && !*json)
            return host_error(HOST_EXIT_INTERNAL, "out of memory writing the request");
        return status;
    }
    free(text);

    status = cellota_request_digest(request, digest);
    if (status != CELLOTA_OK)
        return host_error(HOST_EXIT_INTERNAL, "digest of the request: %s",
                          cellota_strerror(status));
    status = operator_key_sign(key, random, digest, signature);
    if (status == HOST_EXIT_OK)
        status = operator_key_public_point(key, point);
    if (status != HOST_EXIT_OK)
        return status;

    text = render(fields, signature);
    if (!text)
        return host_error(HOST_EXIT_INTERNAL, "out of memory writing the request");
    status = parse_as_device(text, request);
    /* What a device will check, checked here: the signed text parses to the same digest and
     * the signature verifies under the key's public half. */
    if (status == HOST_EXIT_OK) {
        uint8_t again[32];
        if (!request->has_signature || cellota_request_digest(request, again) != CELLOTA_OK ||
            memcmp(again, digest, 32) != 0 ||
            cellota_signature_verify(point, digest, request->signature) != CELLOTA_OK)
            status = host_error(HOST_EXIT_INTERNAL, "the signed request does not verify");
    }
    if (status != HOST_EXIT_OK) {
        free(text);
        return status;
    }
    *json = with_newline(text);
    if (!*json)
        return host_error(HOST_EXIT_INTERNAL, "out of memory writing the request");
    return HOST_EXIT_OK;
}

int operator_request_read(const char *path, cellota_update_request *request)
{
    uint8_t *text;
    size_t length;
    /* Far above what the parser accepts (CELLOTA_REQUEST_JSON_MAX): it refuses, not this. */
    int status = host_read_file(path, 1024 * 1024, &text, &length);
    if (status != HOST_EXIT_OK)
        return status;
    status = cellota_request_parse(request, (const char *)text, length);
    mbedtls_platform_zeroize(text, length); /* it holds the image key */
    free(text);
    return status == CELLOTA_OK ? HOST_EXIT_OK : host_cellota_error(path, status);
}
