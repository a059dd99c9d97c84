/*
 * `cellota inspect`: what is in an update request, a fw_info hex string, an encrypted image or
 * a key, read with the device library's own decoders. Text for people, --json for scripts.
 */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "core/error.h"
#include "image/delta.h"
#include "image/request.h"
#include "operator/keys.h"
#include "operator/request.h"

#include <cJSON.h>
#include <mbedtls/sha256.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INSPECT_FILE_MAX (512u * 1024 * 1024)

static const host_option options[] = {
    {"json", NULL, "print JSON for scripts instead of text", false},
    {"request", "ota.json", "for an image: check its size and SHA-256 against this request", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "inspect",
    .synopsis = "FILE-OR-HEX [--json] [--request ota.json]",
    .summary = "Shows what is in an update request (ota.json), a fw_info hex string (224 hex\n"
               "digits, given on the command line or in a file), an encrypted image, or a key.",
    .options = options,
    .positional = "FILE-OR-HEX",
    .positional_min = 1,
    .positional_max = 1,
    .details = "Anything that is not JSON, hex or PEM is taken as an image: its size, whether\n"
               "the size is a valid AES-CBC length (a non-zero multiple of 16), and its SHA-256.\n"
               "The output shows the image key: treat it as secret.\n",
};

typedef struct report {
    bool json;
    cJSON *root; /* the JSON being built, when json */
} report;

static void hex_text(const uint8_t *data, size_t length, char *text)
{
    host_hex_encode(data, length, text);
}

static void add_hex(cJSON *object, const char *name, const uint8_t *data, size_t length)
{
    char text[2 * 65 + 1];
    hex_text(data, length, text);
    cJSON_AddStringToObject(object, name, text);
}

static void show_fw_info(report *out, cJSON *parent, const cellota_fw_info *info)
{
    char text[65];
    if (out->json) {
        cJSON *object = cJSON_AddObjectToObject(parent, "fw_info");
        cJSON_AddNumberToObject(object, "security_version", info->version);
        cJSON_AddNumberToObject(object, "load_address", info->load_address);
        cJSON_AddNumberToObject(object, "plain_size", info->plain_size);
        cJSON_AddNumberToObject(object, "encrypted_size", info->encrypted_size);
        add_hex(object, "key", info->key, 16);
        add_hex(object, "iv", info->iv, 16);
        add_hex(object, "encrypted_sha256", info->encrypted_sha256, 32);
        add_hex(object, "plain_sha256", info->plain_sha256, 32);
        return;
    }
    printf("fw_info\n");
    printf("  security version  %u\n", (unsigned)info->version);
    printf("  load address      0x%08x\n", (unsigned)info->load_address);
    printf("  plain size        %u bytes\n", (unsigned)info->plain_size);
    printf("  encrypted size    %u bytes\n", (unsigned)info->encrypted_size);
    hex_text(info->key, 16, text);
    printf("  key               %s\n", text);
    hex_text(info->iv, 16, text);
    printf("  iv                %s\n", text);
    hex_text(info->encrypted_sha256, 32, text);
    printf("  encrypted sha256  %s\n", text);
    hex_text(info->plain_sha256, 32, text);
    printf("  plain sha256      %s\n", text);
}

static int show_request(report *out, const char *path, const uint8_t *text, size_t length)
{
    cellota_update_request request;
    uint8_t digest[32];
    char digest_hex[65];
    int status = cellota_request_parse(&request, (const char *)text, length);

    if (status != CELLOTA_OK)
        return host_cellota_error(path, status);
    status = cellota_request_digest(&request, digest);
    if (status != CELLOTA_OK)
        return host_error(HOST_EXIT_INTERNAL, "%s: %s", path, cellota_strerror(status));
    hex_text(digest, 32, digest_hex);
    if (out->json) {
        cJSON_AddStringToObject(out->root, "kind", "request");
        cJSON_AddStringToObject(out->root, "type", request.type);
        cJSON_AddStringToObject(out->root, "url", request.url);
        cJSON_AddStringToObject(out->root, "alt_url", request.alt_url);
        cJSON_AddStringToObject(out->root, "version", request.version);
        cJSON_AddStringToObject(out->root, "id", request.id);
        cJSON_AddStringToObject(out->root, "device", request.device);
        if (request.has_wrapped_key)
            add_hex(out->root, "wrapped_key", request.wrapped_key, CELLOTA_WRAPPED_KEY_SIZE);
        cJSON_AddBoolToObject(out->root, "signed", request.has_signature);
        if (request.has_signature)
            add_hex(out->root, "sig", request.signature, CELLOTA_SIGNATURE_SIZE);
        cJSON_AddStringToObject(out->root, "digest", digest_hex);
    } else {
        printf("update request %s\n", path);
        printf("  type              %s\n", request.type);
        printf("  url               %s\n", request.url[0] ? request.url : "(empty)");
        printf("  alt_url           %s\n", request.alt_url[0] ? request.alt_url : "(empty)");
        printf("  version           %s\n", request.version[0] ? request.version : "(none)");
        printf("  id                %s\n", request.id[0] ? request.id : "(none)");
        printf("  device            %s\n", request.device[0] ? request.device : "(any)");
        printf("  image key         %s\n",
               request.has_wrapped_key ? "wrapped to the device's key (fw_info's key is zero)"
                                       : "in fw_info, in the clear");
        if (request.encoding != CELLOTA_REQUEST_PLAIN) {
            char base_hex[65];
            host_hex_encode(request.base_sha256, 32, base_hex);
            printf("  encoding          %s\n",
                   request.encoding == CELLOTA_DELTA_PATCH ? "patch" : "compressed");
            if (request.encoding == CELLOTA_DELTA_PATCH)
                printf("  base              %u bytes, sha256 %s\n", (unsigned)request.base_size,
                       base_hex);
        }
        printf("  signature         %s\n",
               request.has_signature ? "present (check it: cellota verify --pub)" : "absent");
        printf("  signed digest     %s\n", digest_hex);
    }
    show_fw_info(out, out->root, &request.fw_info);
    return HOST_EXIT_OK;
}

static int show_fw_info_hex(report *out, const char *what, const char *hex, size_t length)
{
    cellota_fw_info info;
    int status = cellota_fw_info_from_hex(&info, hex, length);
    if (status != CELLOTA_OK)
        return host_cellota_error(what, status);
    if (out->json)
        cJSON_AddStringToObject(out->root, "kind", "fw_info");
    show_fw_info(out, out->root, &info);
    return HOST_EXIT_OK;
}

static int show_key(report *out, const char *path)
{
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
    char point_hex[2 * CELLOTA_PUBLIC_KEY_SIZE + 1];
    int status = operator_key_load_public(path, point);
    if (status != HOST_EXIT_OK)
        return status;
    hex_text(point, sizeof(point), point_hex);
    if (out->json) {
        cJSON_AddStringToObject(out->root, "kind", "key");
        cJSON_AddStringToObject(out->root, "public_point", point_hex);
    } else {
        printf("ECDSA P-256 key %s\n  public point (65 bytes, for device firmware)\n  %s\n", path,
               point_hex);
    }
    return HOST_EXIT_OK;
}

/* Checks an image against a request's fw_info; HOST_EXIT_FAILED when it does not match. */
static int check_against(report *out, const char *request_path, size_t size, const uint8_t hash[32])
{
    cellota_update_request request;
    const char *verdict = "matches";
    int status = operator_request_read(request_path, &request);

    if (status != HOST_EXIT_OK)
        return status;
    if (size < request.fw_info.encrypted_size)
        verdict = "shorter than fw_info's encrypted size";
    else if (size > request.fw_info.encrypted_size)
        verdict = "longer than fw_info's encrypted size";
    else if (memcmp(hash, request.fw_info.encrypted_sha256, 32) != 0)
        verdict = "SHA-256 differs from fw_info's";
    if (out->json)
        cJSON_AddStringToObject(out->root, "request_check", verdict);
    else
        printf("  against request   %s (%s)\n", verdict, request_path);
    return strcmp(verdict, "matches") == 0
               ? HOST_EXIT_OK
               : host_error(HOST_EXIT_FAILED, "the image does not match %s: %s", request_path,
                            verdict);
}

static int show_image(report *out, const char *path, const uint8_t *data, size_t size,
                      const char *request_path)
{
    uint8_t hash[32];
    char hash_hex[65];
    bool cbc_valid = size > 0 && size % 16 == 0;

    if (mbedtls_sha256_ret(data, size, hash, 0) != 0)
        return host_error(HOST_EXIT_INTERNAL, "SHA-256 failed");
    hex_text(hash, 32, hash_hex);
    if (out->json) {
        cJSON_AddStringToObject(out->root, "kind", "image");
        cJSON_AddStringToObject(out->root, "path", path);
        cJSON_AddNumberToObject(out->root, "size", (double)size);
        cJSON_AddBoolToObject(out->root, "cbc_length_valid", cbc_valid);
        cJSON_AddStringToObject(out->root, "sha256", hash_hex);
    } else {
        printf("image %s\n", path);
        printf("  size              %zu bytes\n", size);
        printf("  AES-CBC length    %s\n",
               cbc_valid ? "valid (a non-zero multiple of 16)"
                         : "INVALID: not a non-zero multiple of 16, no device accepts it");
        printf("  sha256            %s\n", hash_hex);
    }
    if (request_path)
        return check_against(out, request_path, size, hash);
    return HOST_EXIT_OK;
}

/* The text with white space trimmed from both ends, as a [start, start+length) view. */
static const char *trim(const char *text, size_t *length)
{
    while (*length && isspace((unsigned char)text[0])) {
        text++;
        (*length)--;
    }
    while (*length && isspace((unsigned char)text[*length - 1]))
        (*length)--;
    return text;
}

static int inspect(report *out, const char *subject, const char *request_path)
{
    struct stat status_buffer;
    uint8_t *data;
    size_t length, trimmed_length;
    const char *trimmed;
    int status;

    /* Not a file: a fw_info hex string on the command line. */
    if (stat(subject, &status_buffer) != 0 && strcmp(subject, "-") != 0) {
        if (strlen(subject) >= 32 && host_is_hex(subject, strlen(subject)))
            return show_fw_info_hex(out, "fw_info", subject, strlen(subject));
        return host_read_file(subject, 1, &data, &length); /* prints why it cannot be read */
    }
    status = host_read_file(subject, INSPECT_FILE_MAX, &data, &length);
    if (status != HOST_EXIT_OK)
        return status;
    trimmed_length = length;
    trimmed = trim((const char *)data, &trimmed_length);
    if (request_path &&
        (trimmed_length == 0 || trimmed[0] == '{' || strncmp(trimmed, "-----BEGIN", 10) == 0))
        status = host_usage_error(&command, "--request checks an image; '%s' is not one", subject);
    else if (trimmed_length && trimmed[0] == '{')
        status = show_request(out, subject, data, length);
    else if (strncmp(trimmed, "-----BEGIN", 10) == 0)
        status = show_key(out, subject);
    else if (trimmed_length >= 32 && host_is_hex(trimmed, trimmed_length))
        status = show_fw_info_hex(out, subject, trimmed, trimmed_length);
    else
        status = show_image(out, subject, data, length, request_path);
    free(data);
    return status;
}

int command_inspect(int argc, char **argv)
{
    host_arguments arguments;
    report out = {0};
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    out.json = host_option_given(&arguments, "json");
    if (out.json && !(out.root = cJSON_CreateObject()))
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    status = inspect(&out, arguments.positional[0], host_option_value(&arguments, "request"));
    if (out.json) {
        /* A failed check still prints what was found, so a script can see why. */
        char *text = cJSON_GetArraySize(out.root) ? cJSON_Print(out.root) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(out.root);
    }
    return status;
}
