/*
 * The update request (ota.json), as MQTT carries it on cellota/<id>/update and GET /ota.json
 * serves it. Seed 002's fields, unchanged: "type" ("update_fw"), "url", "alt_url" (tried when
 * url is empty or fails), "fw_info" (hex). cellota's additions, which seed-built devices ignore:
 * "version" (semver string), "id" (campaign) and "sig" (hex of the 64-byte r||s ECDSA P-256
 * signature over the SHA-256 of the canonical bytes below).
 *
 * Requests for one device (docs/image-format.md, "Requests for one device") add "device" (the
 * device id it is for: any other device refuses it) and "wrapped_key" (hex of the image key
 * wrapped to that device's own key, image/key_wrap.h; fw_info's key field is then zero).
 * Compressed images and patches add "encoding" ("compressed" or "patch"; absent or "" is the
 * plain image) and, for a patch, "base" ("<size>:<sha256 hex>" of the exact image it applies
 * to). fw_info's plain size and plain SHA-256 are then the NEW image's, and its encrypted size
 * the padded stream's.
 *
 * Canonical bytes, so the device needs no JSON canonicaliser: each field's decoded value
 * followed by a newline, in this order, after a fixed header line:
 *   "cellota-request-v1\n" type "\n" url "\n" alt_url "\n" fw_info-hex-lowercase "\n"
 *   version "\n" id "\n"
 * (absent fields are empty strings). When any of "encoding", "base", "device" or "wrapped_key"
 * is present (not empty) the header line is "cellota-request-v2" and four lines follow id's:
 *   encoding "\n" base "\n" device "\n" wrapped_key-hex-lowercase "\n"
 * (base as "<decimal size>:<lowercase hex>"; each empty when absent). So a device that knows
 * only v1 computes other bytes and refuses the signature, stripping any of them from a signed
 * request breaks it, a signature cannot be moved from one device's request to another's, and a
 * wrapped key cannot be swapped. Requests without them keep their v1 digest.
 */
#ifndef CELLOTA_IMAGE_REQUEST_H
#define CELLOTA_IMAGE_REQUEST_H

#include "image/fw_info.h"
#include "image/signature.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_REQUEST_TYPE_MAX 15
#define CELLOTA_REQUEST_URL_MAX 255
#define CELLOTA_REQUEST_VERSION_MAX 63
#define CELLOTA_REQUEST_ID_MAX 63
#define CELLOTA_REQUEST_DEVICE_MAX 32
#define CELLOTA_REQUEST_JSON_MAX 4096 /* longer requests are refused, not truncated */
/* An ephemeral P-256 public key (65 bytes, uncompressed) and the RFC 3394 wrap of the 16-byte
 * image key (24 bytes): image/key_wrap.h. */
#define CELLOTA_WRAPPED_KEY_SIZE 89

/* The request's "encoding" (CELLOTA_DELTA_COMPRESSED / _PATCH in image/delta.h). */
#define CELLOTA_REQUEST_PLAIN 0

typedef struct cellota_update_request {
    char type[CELLOTA_REQUEST_TYPE_MAX + 1];
    char url[CELLOTA_REQUEST_URL_MAX + 1];
    char alt_url[CELLOTA_REQUEST_URL_MAX + 1];
    char version[CELLOTA_REQUEST_VERSION_MAX + 1];
    char id[CELLOTA_REQUEST_ID_MAX + 1];
    char device[CELLOTA_REQUEST_DEVICE_MAX + 1]; /* "" : any device */
    cellota_fw_info fw_info;
    uint8_t encoding;   /* CELLOTA_REQUEST_PLAIN, CELLOTA_DELTA_COMPRESSED or _PATCH */
    uint32_t base_size; /* a patch's base: its size and SHA-256 */
    uint8_t base_sha256[32];
    bool has_wrapped_key;
    uint8_t wrapped_key[CELLOTA_WRAPPED_KEY_SIZE];
    bool has_signature;
    uint8_t signature[64];
} cellota_update_request;

/*
 * Parses a request of `length` bytes (no NUL needed). Unknown members are ignored (forward
 * compatibility); known ones must be strings. Errors, each its own code:
 *   CELLOTA_JSON_INVALID / _TOO_DEEP / _TOO_LARGE  malformed JSON, nested deeper than 8, more than
 *       CELLOTA_REQUEST_JSON_MAX bytes or 64 tokens; also a value holding a control character
 *   CELLOTA_IMAGE_REQUEST_NOT_OBJECT           the text is JSON but not an object
 *   CELLOTA_IMAGE_REQUEST_DUPLICATE_KEY        a member named twice (any member)
 *   CELLOTA_IMAGE_REQUEST_FIELD_TYPE           a known member that is not a string
 *   CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG       url, alt_url, version or id over its limit
 *   CELLOTA_IMAGE_REQUEST_BAD_TYPE             type missing or not "update_fw"
 *   CELLOTA_IMAGE_REQUEST_NO_FW_INFO           fw_info missing
 *   CELLOTA_IMAGE_FW_INFO_HEX / _SIZES         fw_info not 224 hex digits / sizes inconsistent
 *   CELLOTA_IMAGE_REQUEST_NO_URL               url and alt_url both missing or empty
 *   CELLOTA_IMAGE_REQUEST_BAD_SIGNATURE_FORMAT sig present but not 128 hex digits
 *   CELLOTA_IMAGE_REQUEST_BAD_WRAPPED_KEY      wrapped_key present but not 178 hex digits
 *   CELLOTA_IMAGE_SEMVER_INVALID / _TOO_LONG   version present, not empty and not a semver
 *   CELLOTA_IMAGE_REQUEST_BAD_ENCODING         encoding not "", "compressed" or "patch"
 *   CELLOTA_IMAGE_REQUEST_BAD_BASE             base not "<size>:<64 hex digits>", missing for a
 *                                              patch or present for anything else
 * Member errors are reported in document order, then the missing-member checks in the order
 * above. On any error *request is left without a signature and may hold some fields.
 */
int cellota_request_parse(cellota_update_request *request, const char *json, size_t length);

/* The SHA-256 of the canonical bytes (what `sig` signs). CELLOTA_OK or CELLOTA_CRYPTO_FAILED. */
int cellota_request_digest(const cellota_update_request *request, uint8_t digest[32]);

/* Checks the request's signature under the operator's public key: CELLOTA_OK,
 * CELLOTA_IMAGE_SIGNATURE_MISSING for an unsigned request, or as cellota_signature_verify. */
int cellota_request_verify(const cellota_update_request *request,
                           const uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE]);

#endif
