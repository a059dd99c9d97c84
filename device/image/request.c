/*
 * The update request (ota.json) parser and its canonical digest (contract in request.h).
 *
 * Strict where it matters for safety and lenient where old and new senders differ: unknown
 * members are skipped, but a known member with the wrong type, an over-long value or any member
 * named twice is refused (two parsers that pick different duplicates are how signed messages
 * get forged).
 */
#include "image/request.h"

#include "core/error.h"
#include "core/json.h"
#include "core/encoding.h"
#include "image/delta.h"
#include "image/semver.h"
#include "image/signature.h"

#include <mbedtls/sha256.h>

#include <string.h>

/* 7 known members and a few unknown ones, nested a little. */
#define REQUEST_TOKENS 64
#define REQUEST_DEPTH 8

/* Copies the string member `token` into `out` (capacity bytes, NUL included). */
static int copy_field(const char *json, const cellota_json_token *token, char *out, size_t capacity,
                      size_t *length)
{
    int result;
    if (token->type != CELLOTA_JSON_STRING)
        return CELLOTA_IMAGE_REQUEST_FIELD_TYPE;
    result = cellota_json_string_copy(json, token, out, capacity, length);
    return result == CELLOTA_BUFFER_TOO_SMALL ? CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG : result;
}

static int read_fw_info(cellota_update_request *request, const char *json,
                        const cellota_json_token *token)
{
    char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1];
    size_t length;
    int result = copy_field(json, token, hex, sizeof(hex), &length);
    if (result == CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG)
        return CELLOTA_IMAGE_FW_INFO_HEX;
    return result != CELLOTA_OK ? result
                                : cellota_fw_info_from_hex_unchecked(&request->fw_info, hex, length);
}

static int read_encoding(cellota_update_request *request, const char *json,
                         const cellota_json_token *token)
{
    char text[16];
    int result = copy_field(json, token, text, sizeof(text), NULL);
    if (result == CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG)
        return CELLOTA_IMAGE_REQUEST_BAD_ENCODING;
    if (result != CELLOTA_OK)
        return result;
    if (strcmp(text, "compressed") == 0)
        request->encoding = CELLOTA_DELTA_COMPRESSED;
    else if (strcmp(text, "patch") == 0)
        request->encoding = CELLOTA_DELTA_PATCH;
    else if (text[0] != '\0')
        return CELLOTA_IMAGE_REQUEST_BAD_ENCODING;
    return CELLOTA_OK;
}

/* "<decimal size>:<64 hex digits>": the size without leading zeros, at most 2^32 - 1. */
static int read_base(cellota_update_request *request, const char *json,
                     const cellota_json_token *token, bool *has_base)
{
    char text[11 + 1 + 64 + 1];
    size_t length, digits = 0;
    uint64_t size = 0;
    int result = copy_field(json, token, text, sizeof(text), &length);
    if (result == CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG)
        return CELLOTA_IMAGE_REQUEST_BAD_BASE;
    if (result != CELLOTA_OK)
        return result;
    while (digits < length && text[digits] >= '0' && text[digits] <= '9') {
        size = size * 10 + (uint64_t)(text[digits] - '0');
        digits++;
        if (size > UINT32_MAX)
            return CELLOTA_IMAGE_REQUEST_BAD_BASE;
    }
    if (digits == 0 || (digits > 1 && text[0] == '0') || length != digits + 1 + 64 ||
        text[digits] != ':' ||
        cellota_hex_decode(request->base_sha256, text + digits + 1, 32) != CELLOTA_OK)
        return CELLOTA_IMAGE_REQUEST_BAD_BASE;
    request->base_size = (uint32_t)size;
    *has_base = true;
    return CELLOTA_OK;
}

static int read_signature(cellota_update_request *request, const char *json,
                          const cellota_json_token *token)
{
    char hex[2 * CELLOTA_SIGNATURE_SIZE + 1];
    size_t length;
    int result = copy_field(json, token, hex, sizeof(hex), &length);
    if (result == CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG ||
        (result == CELLOTA_OK && length != 2 * CELLOTA_SIGNATURE_SIZE) ||
        (result == CELLOTA_OK &&
         cellota_hex_decode(request->signature, hex, CELLOTA_SIGNATURE_SIZE) != CELLOTA_OK))
        return CELLOTA_IMAGE_REQUEST_BAD_SIGNATURE_FORMAT;
    request->has_signature = result == CELLOTA_OK;
    return result;
}

static int read_wrapped_key(cellota_update_request *request, const char *json,
                            const cellota_json_token *token)
{
    char hex[2 * CELLOTA_WRAPPED_KEY_SIZE + 1];
    size_t length;
    int result = copy_field(json, token, hex, sizeof(hex), &length);
    if (result == CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG ||
        (result == CELLOTA_OK && length != 2 * CELLOTA_WRAPPED_KEY_SIZE) ||
        (result == CELLOTA_OK &&
         cellota_hex_decode(request->wrapped_key, hex, CELLOTA_WRAPPED_KEY_SIZE) != CELLOTA_OK))
        return CELLOTA_IMAGE_REQUEST_BAD_WRAPPED_KEY;
    request->has_wrapped_key = result == CELLOTA_OK;
    return result;
}

static int read_version(cellota_update_request *request, const char *json,
                        const cellota_json_token *token)
{
    cellota_semver version;
    size_t length;
    int result = copy_field(json, token, request->version, sizeof(request->version), &length);
    if (result != CELLOTA_OK || length == 0)
        return result;
    return cellota_semver_parse(&version, request->version, length);
}

static int parse_request(cellota_update_request *request, const char *json, size_t length)
{
    cellota_json_token tokens[REQUEST_TOKENS];
    size_t count, member, key = 1;
    bool has_type = false, has_fw_info = false, has_base = false;
    int result;

    memset(request, 0, sizeof(*request));
    if (length > CELLOTA_REQUEST_JSON_MAX)
        return CELLOTA_JSON_TOO_LARGE;
    result = cellota_json_parse(json, length, tokens, REQUEST_TOKENS, REQUEST_DEPTH, &count);
    if (result != CELLOTA_OK)
        return result;
    if (tokens[0].type != CELLOTA_JSON_OBJECT)
        return CELLOTA_IMAGE_REQUEST_NOT_OBJECT;
    if (cellota_json_has_duplicate_keys(json, tokens, 0))
        return CELLOTA_IMAGE_REQUEST_DUPLICATE_KEY;
    for (member = 0; member < tokens[0].size; member++, key = tokens[key + 1].next) {
        const cellota_json_token *name = &tokens[key], *value = &tokens[key + 1];
        if (cellota_json_string_equals(json, name, "type")) {
            result = copy_field(json, value, request->type, sizeof(request->type), NULL);
            if (result == CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG)
                result = CELLOTA_IMAGE_REQUEST_BAD_TYPE; /* too long to be "update_fw" */
            has_type = true;
        } else if (cellota_json_string_equals(json, name, "url")) {
            result = copy_field(json, value, request->url, sizeof(request->url), NULL);
        } else if (cellota_json_string_equals(json, name, "alt_url")) {
            result = copy_field(json, value, request->alt_url, sizeof(request->alt_url), NULL);
        } else if (cellota_json_string_equals(json, name, "fw_info")) {
            result = read_fw_info(request, json, value);
            has_fw_info = true;
        } else if (cellota_json_string_equals(json, name, "version")) {
            result = read_version(request, json, value);
        } else if (cellota_json_string_equals(json, name, "id")) {
            result = copy_field(json, value, request->id, sizeof(request->id), NULL);
        } else if (cellota_json_string_equals(json, name, "device")) {
            result = copy_field(json, value, request->device, sizeof(request->device), NULL);
        } else if (cellota_json_string_equals(json, name, "wrapped_key")) {
            result = read_wrapped_key(request, json, value);
        } else if (cellota_json_string_equals(json, name, "sig")) {
            result = read_signature(request, json, value);
        } else if (cellota_json_string_equals(json, name, "encoding")) {
            result = read_encoding(request, json, value);
        } else if (cellota_json_string_equals(json, name, "base")) {
            result = read_base(request, json, value, &has_base);
        }
        if (result != CELLOTA_OK)
            return result;
    }
    if (!has_type || strcmp(request->type, "update_fw") != 0)
        return CELLOTA_IMAGE_REQUEST_BAD_TYPE;
    if (!has_fw_info)
        return CELLOTA_IMAGE_REQUEST_NO_FW_INFO;
    if ((result = cellota_fw_info_check_sizes(&request->fw_info,
                                              request->encoding != CELLOTA_REQUEST_PLAIN)) !=
        CELLOTA_OK)
        return result;
    if (has_base != (request->encoding == CELLOTA_DELTA_PATCH))
        return CELLOTA_IMAGE_REQUEST_BAD_BASE;
    if (request->url[0] == '\0' && request->alt_url[0] == '\0')
        return CELLOTA_IMAGE_REQUEST_NO_URL;
    return CELLOTA_OK;
}

int cellota_request_parse(cellota_update_request *request, const char *json, size_t length)
{
    int result = parse_request(request, json, length);
    if (result != CELLOTA_OK)
        request->has_signature = false; /* nothing of a refused request may look verified */
    return result;
}

static int hash_line(mbedtls_sha256_context *hash, const char *text, size_t length)
{
    return mbedtls_sha256_update_ret(hash, (const unsigned char *)text, length) ||
           mbedtls_sha256_update_ret(hash, (const unsigned char *)"\n", 1);
}

/* The base as the canonical bytes carry it: "<decimal size>:<lowercase hex>", or "". */
static size_t base_text(const cellota_update_request *request, char text[11 + 1 + 64 + 1])
{
    char digits[10];
    size_t count = 0, length = 0;
    uint32_t size = request->base_size;
    if (request->encoding != CELLOTA_DELTA_PATCH) {
        text[0] = '\0';
        return 0;
    }
    do {
        digits[count++] = (char)('0' + size % 10);
        size /= 10;
    } while (size > 0);
    while (count > 0)
        text[length++] = digits[--count];
    text[length++] = ':';
    cellota_hex_encode(text + length, request->base_sha256, 32);
    length += 64;
    text[length] = '\0';
    return length;
}

int cellota_request_digest(const cellota_update_request *request, uint8_t digest[32])
{
    static const char *const encodings[] = {"", "compressed", "patch"};
    const char *encoding = request->encoding <= CELLOTA_DELTA_PATCH ? encodings[request->encoding]
                                                                     : "";
    /* v2 only when a v2 field is there: every request signed before them keeps its digest */
    bool v2 = encoding[0] || request->device[0] || request->has_wrapped_key;
    const char *header = v2 ? "cellota-request-v2" : "cellota-request-v1";
    char fw_info[CELLOTA_FW_INFO_HEX_LENGTH + 1], base[11 + 1 + 64 + 1];
    char wrapped[2 * CELLOTA_WRAPPED_KEY_SIZE + 1];
    size_t base_length = base_text(request, base);
    mbedtls_sha256_context hash;
    int failed;

    cellota_fw_info_to_hex(&request->fw_info, fw_info);
    wrapped[0] = '\0';
    if (request->has_wrapped_key) {
        cellota_hex_encode(wrapped, request->wrapped_key, CELLOTA_WRAPPED_KEY_SIZE);
        wrapped[2 * CELLOTA_WRAPPED_KEY_SIZE] = '\0';
    }
    mbedtls_sha256_init(&hash);
    failed = mbedtls_sha256_starts_ret(&hash, 0) || hash_line(&hash, header, 18) ||
             hash_line(&hash, request->type, strlen(request->type)) ||
             hash_line(&hash, request->url, strlen(request->url)) ||
             hash_line(&hash, request->alt_url, strlen(request->alt_url)) ||
             hash_line(&hash, fw_info, CELLOTA_FW_INFO_HEX_LENGTH) ||
             hash_line(&hash, request->version, strlen(request->version)) ||
             hash_line(&hash, request->id, strlen(request->id)) ||
             (v2 && (hash_line(&hash, encoding, strlen(encoding)) ||
                     hash_line(&hash, base, base_length) ||
                     hash_line(&hash, request->device, strlen(request->device)) ||
                     hash_line(&hash, wrapped, strlen(wrapped)))) ||
             mbedtls_sha256_finish_ret(&hash, digest);
    mbedtls_sha256_free(&hash);
    return failed ? CELLOTA_CRYPTO_FAILED : CELLOTA_OK;
}

int cellota_request_verify(const cellota_update_request *request,
                           const uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE])
{
    uint8_t digest[32];
    int result;
    if (!request->has_signature)
        return CELLOTA_IMAGE_SIGNATURE_MISSING;
    if ((result = cellota_request_digest(request, digest)) != CELLOTA_OK)
        return result;
    return cellota_signature_verify(public_key, digest, request->signature);
}
