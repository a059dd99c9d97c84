/*
 * libFuzzer target for the request bodies and parameters cellota-server's operator API takes
 * (docs/server.md): the campaign creation body (api_parse_campaign_body), the device tags body
 * (api_parse_tags), the release upload's query parameters (release_check_upload) and a device
 * certificate's PEM body (request_check_certificate). The whole
 * input is each body; for the upload it is split at NUL bytes into version, load_address and
 * notes (a missing one is not given). Checks that a refusal always sets a 4xx error with a
 * name, that what is accepted stays within the bounds the storage and the engine rely on, that
 * every string is NUL-terminated within its buffer, and that parsing is deterministic.
 */
#include "common/number.h"
#include "image/semver.h"
#include "operator/package.h"
#include "server/api.h"
#include "server/releases.h"
#include "server/requests.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_string(const char *text, size_t capacity)
{
    if (strnlen(text, capacity) >= capacity)
        abort(); /* not terminated within its buffer */
}

/* A refusal: a client error with a name and a message, both terminated. */
static void check_refusal(const api_error *error)
{
    check_string(error->name, sizeof(error->name));
    check_string(error->message, sizeof(error->message));
    if (error->status < 400 || error->status > 499 || !error->name[0] || !error->message[0])
        abort();
}

static void check_campaign(const char *text, size_t size)
{
    static const api_campaign_body zero;
    api_campaign_body parsed, again;
    api_error error = {0}, error_again = {0};
    int result = api_parse_campaign_body(text, size, &parsed, &error);
    if (api_parse_campaign_body(text, size, &again, &error_again) != result)
        abort();
    if (result != 0) {
        check_refusal(&error);
        if (memcmp(&parsed, &zero, sizeof(parsed)) != 0 || memcmp(&error, &error_again, sizeof(error)))
            abort();
        return;
    }
    const campaign_spec *spec = &parsed.spec;
    if (!parsed.json || !spec->release || !spec->name || spec->stage_count < 1 ||
        spec->stage_count > STORAGE_STAGES_MAX || spec->success_percent < 0 ||
        spec->success_percent > 100 || spec->halt_failure_percent < 0 ||
        spec->halt_failure_percent > 100 || spec->rate_per_minute < 1 ||
        spec->rate_per_minute > 1000000 || spec->timeout_s < 1 || spec->timeout_s > 31536000 ||
        spec->retries < 0 || spec->retries > 100 || (spec->tag && spec->devices) ||
        (spec->tag && !server_valid_name(spec->tag)) || (!spec->devices) != (!spec->device_count))
        abort();
    (void)strlen(spec->release); /* read to the end: AddressSanitizer checks it is terminated */
    (void)strlen(spec->name);
    for (size_t i = 0; i < spec->device_count; i++)
        if (!spec->devices[i] || strlen(spec->devices[i]) != strlen(again.spec.devices[i]))
            abort();
    if (strcmp(spec->release, again.spec.release) != 0 || strcmp(spec->name, again.spec.name) ||
        spec->stage_count != again.spec.stage_count ||
        memcmp(spec->stages, again.spec.stages, sizeof(spec->stages)) != 0 ||
        spec->device_count != again.spec.device_count)
        abort();
    api_campaign_body_free(&again);
    api_campaign_body_free(&parsed);
    if (parsed.json || parsed.spec.devices)
        abort();
}

static void check_tags(const char *text, size_t size)
{
    char tags[STORAGE_TEXT_SIZE], again[STORAGE_TEXT_SIZE], copy[STORAGE_TEXT_SIZE];
    api_error error = {0}, error_again = {0};
    int result = api_parse_tags(text, size, tags, &error);
    check_string(tags, sizeof(tags));
    if (api_parse_tags(text, size, again, &error_again) != result || strcmp(tags, again) != 0)
        abort();
    if (result != 0) {
        check_refusal(&error);
        if (strcmp(tags, ",") != 0)
            abort();
        return;
    }
    /* ",a,b,": starts and ends with a comma, and every tag between is a valid name. */
    size_t length = strlen(tags);
    if (tags[0] != ',' || tags[length - 1] != ',')
        abort();
    memcpy(copy, tags, length + 1);
    for (char *tag = strtok(copy, ","); tag; tag = strtok(NULL, ","))
        if (!server_valid_name(tag))
            abort();
    if (length > 1 && strstr(tags, ",,"))
        abort(); /* an empty tag */
}

static void check_upload(const char *text, size_t size)
{
    /* Up to three NUL-separated parameters; the input is NUL-terminated by the caller. */
    const char *fields[3] = {NULL, NULL, NULL};
    size_t count = 0, at = 0;
    while (count < 3 && at <= size) {
        fields[count++] = text + at;
        at += strlen(text + at) + 1;
    }
    release_upload upload = {
        .version = fields[0],
        .load_address = fields[1],
        .notes = fields[2],
        .image = (const uint8_t *)text,
        .size = size,
    };
    api_error error = {0};
    uint32_t security_version;
    uint64_t address;
    if (release_check_upload(&upload, &security_version, &address, &error) != 0) {
        check_string(error.name, sizeof(error.name));
        check_string(error.message, sizeof(error.message));
        if ((error.status != 400 && error.status != 413) || !error.name[0])
            abort();
        return;
    }
    cellota_semver semver;
    size_t length = strlen(upload.version);
    if (length == 0 || length >= STORAGE_ID_SIZE || address > UINT32_MAX ||
        cellota_semver_parse(&semver, upload.version, length) != 0 ||
        (upload.notes && strlen(upload.notes) >= STORAGE_TEXT_SIZE) || size == 0 ||
        size > RELEASE_IMAGE_MAX)
        abort();
    if (!upload.load_address && address != OPERATOR_LOAD_ADDRESS_DEFAULT)
        abort();
}

/* PUT /api/devices/ID/certificate: the PEM as the route hands it over (terminated). Without
 * --device-certs nothing but the bytes is read. */
static void check_certificate(const char *text)
{
    static server self; /* no folder of certificates: only the body is checked */
    api_error error = {0};
    if (request_check_certificate(&self, "dev-1", text, &error) != 0) {
        check_refusal(&error);
        if (strcmp(error.name, "BAD_CERTIFICATE") != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The body as the server has it: exactly `size` bytes, no terminator, so reading past it
     * is caught by AddressSanitizer; the parameters as C strings, terminated. */
    char *body = malloc(size ? size : 1), *text = malloc(size + 1);
    memcpy(body, data, size);
    memcpy(text, data, size);
    text[size] = '\0';
    check_campaign(body, size);
    check_tags(body, size);
    check_upload(text, size);
    check_certificate(text);
    free(text);
    free(body);
    return 0;
}
