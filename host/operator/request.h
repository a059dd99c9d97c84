/*
 * Writing update requests (ota.json) that devices read with image/request.h. The request is
 * built, then parsed back with the device's own parser, and the signature is made over the
 * device's own digest of what it parsed (cellota_request_digest), so the operator's side and
 * the device can never disagree about what was signed. Functions print their own error and
 * return a HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_OPERATOR_REQUEST_H
#define CELLOTA_HOST_OPERATOR_REQUEST_H

#include "common/random.h"
#include "image/request.h"

#include <mbedtls/pk.h>

typedef struct operator_request_fields {
    const char *url;     /* NULL or "" when the image is only at alt_url */
    const char *alt_url; /* NULL or "" when none */
    const char *version; /* semantic version */
    const char *id;      /* campaign id, NULL when none */
    cellota_fw_info fw_info;
    uint8_t encoding;           /* CELLOTA_REQUEST_PLAIN, CELLOTA_DELTA_COMPRESSED or _PATCH */
    uint32_t base_size;         /* a patch's base */
    uint8_t base_sha256[32];
    const char *device;         /* for one device only (its id), NULL for any */
    const uint8_t *wrapped_key; /* CELLOTA_WRAPPED_KEY_SIZE bytes, NULL when the key is in
                                   fw_info (operator/key_wrap.h) */
} operator_request_fields;

/*
 * Writes the request as JSON into a malloc'd, NUL-terminated *json (seed 002's fields first,
 * then version, id, encoding and base for a compressed image or patch, device and wrapped_key
 * for one device, and sig when `key` is not NULL) and the parsed result into *request.
 * HOST_EXIT_FAILED, with the device's sentence, when a device would refuse the request (no
 * URL, a field longer than a device holds).
 */
int operator_request_write(const operator_request_fields *fields, mbedtls_pk_context *key,
                           host_random *random, cellota_update_request *request, char **json);

/* Reads and parses the request file at `path` ("-": standard input) with the device's
 * parser. HOST_EXIT_OK; HOST_EXIT_IO when it cannot be read; HOST_EXIT_FAILED, with the
 * device's sentence and error name, when a device would refuse it. */
int operator_request_read(const char *path, cellota_update_request *request);

#endif
