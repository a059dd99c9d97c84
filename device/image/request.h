/*
 * The update request (ota.json), as MQTT carries it on cellota/<id>/update and GET /ota.json
 * serves it. Seed 002's fields, unchanged: "type" ("update_fw"), "url", "alt_url" (tried when
 * url is empty or fails), "fw_info" (hex). cellota's additions, which seed-built devices ignore:
 * "version" (semver string), "id" (campaign) and "sig" (hex of the 64-byte r||s ECDSA P-256
 * signature over the SHA-256 of the canonical bytes below).
 *
 * Canonical bytes, so the device needs no JSON canonicaliser: each field's decoded value
 * followed by a newline, in this order, after a fixed header line:
 *   "cellota-request-v1\n" type "\n" url "\n" alt_url "\n" fw_info-hex-lowercase "\n"
 *   version "\n" id "\n"
 * (absent fields are empty strings).
 */
#ifndef CELLOTA_IMAGE_REQUEST_H
#define CELLOTA_IMAGE_REQUEST_H

#include "image/fw_info.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_REQUEST_TYPE_MAX 15
#define CELLOTA_REQUEST_URL_MAX 255
#define CELLOTA_REQUEST_VERSION_MAX 63
#define CELLOTA_REQUEST_ID_MAX 63
#define CELLOTA_REQUEST_JSON_MAX 4096 /* longer requests are refused, not truncated */

typedef struct cellota_update_request {
    char type[CELLOTA_REQUEST_TYPE_MAX + 1];
    char url[CELLOTA_REQUEST_URL_MAX + 1];
    char alt_url[CELLOTA_REQUEST_URL_MAX + 1];
    char version[CELLOTA_REQUEST_VERSION_MAX + 1];
    char id[CELLOTA_REQUEST_ID_MAX + 1];
    cellota_fw_info fw_info;
    bool has_signature;
    uint8_t signature[64];
} cellota_update_request;

/*
 * Parses a request. Unknown fields are ignored (forward compatibility). Errors, each its own
 * code: malformed JSON, not an object, type missing or not "update_fw", fw_info missing or bad,
 * neither url nor alt_url, a string over its limit, a duplicated key, sig not 128 hex digits.
 */
int cellota_request_parse(cellota_update_request *request, const char *json, size_t length);

/* The SHA-256 of the canonical bytes (what `sig` signs). */
int cellota_request_digest(const cellota_update_request *request, uint8_t digest[32]);

#endif
