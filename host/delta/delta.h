/*
 * cellota_delta: making and applying compressed images and patches (the CLZ1 stream,
 * docs/image-format.md) on the host. Making one is this library's encoder; applying one runs
 * the device's own decoder (device/image/delta.h) over memory, so `cellota patch` checks exactly
 * what a device would. Shared by the CLI (`cellota diff`, `cellota patch`, `cellota pack
 * --base`) and, later, the server's releases.
 */
#ifndef CELLOTA_HOST_DELTA_DELTA_H
#define CELLOTA_HOST_DELTA_DELTA_H

#include "common/random.h"
#include "image/delta.h"
#include "operator/package.h"
#include "operator/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct delta_options {
    uint8_t unit_log2;     /* segments start at multiples of 2^unit_log2 output bytes, which
                              must be a multiple of the device's erase page; 0: 12 (4 KiB) */
    size_t segment_bytes;  /* a segment ends before its coded bytes pass this (a resume fetches
                              at most about this much again); 0: 4096 */
    unsigned search_depth; /* candidates the match finder tries per position; 0: 256 */
} delta_options;

/*
 * Encodes `image` as a CLZ1 stream into a malloc'd *stream: a patch against `base` when
 * `base` is not NULL (base_size may then be 0 only if the base is empty), a compressed image
 * when it is NULL. `options` may be NULL. HOST_EXIT_OK, HOST_EXIT_USAGE (an image or base
 * larger than the format allows) or HOST_EXIT_INTERNAL (out of memory, crypto), after
 * printing why.
 */
int delta_encode(const uint8_t *base, size_t base_size, const uint8_t *image, size_t image_size,
                 const delta_options *options, uint8_t **stream, size_t *stream_size);

/*
 * Decodes a CLZ1 stream with the device's decoder: against `base` for a patch (NULL for a
 * compressed image), checking the base's size and SHA-256 and the new image's SHA-256. CELLOTA_OK
 * with the new image in a malloc'd *image, else the device's error code
 * (CELLOTA_IMAGE_DELTA_WRONG_BASE, _CORRUPT, _TRUNCATED, CELLOTA_IMAGE_PLAIN_HASH_MISMATCH) --
 * or -1 when out of memory. Nothing is returned in *image on error.
 */
int delta_decode(const uint8_t *base, size_t base_size, const uint8_t *stream,
                 size_t stream_size, uint8_t **image, size_t *image_size);

/*
 * Packs `image` for devices as a compressed image (`base` NULL) or a patch against `base`: the
 * CLZ1 stream, encrypted as operator_package does (a fresh key and IV), into a malloc'd
 * *encrypted of fields->fw_info.encrypted_size bytes. Fills fw_info (plain size and plain
 * SHA-256 are the NEW image's; version and load address are left as they are), encoding, base
 * size and base SHA-256; *stream_size is the stream's size before padding. HOST_EXIT_* after
 * printing why.
 */
int delta_package(host_random *random, const uint8_t *base, size_t base_size,
                  const uint8_t *image, size_t image_size, const delta_options *options,
                  operator_request_fields *fields, uint8_t **encrypted, size_t *stream_size);

/* One form a release can be sent in: the plain image, compressed, or a patch from one base. */
typedef struct delta_variant {
    uint8_t encoding;        /* CELLOTA_REQUEST_PLAIN, CELLOTA_DELTA_COMPRESSED or _PATCH */
    uint32_t base_size;      /* a patch's base: size and SHA-256 */
    uint8_t base_sha256[32];
    uint64_t size;           /* bytes a device downloads (image.ebin) */
} delta_variant;

/* What the server knows of a device. */
typedef struct delta_device {
    bool decodes;            /* it can decode compressed images and patches (A/B with decoder memory) */
    uint32_t running_size;   /* the image it runs: size and SHA-256 */
    uint8_t running_sha256[32];
} delta_device;

/*
 * For a campaign (issue 11: the smallest update a device can apply): the index of the smallest
 * variant `device` can apply -- the plain image always, encoded ones only when it decodes, a
 * patch only from the very image it runs -- or -1 when none applies.
 */
ptrdiff_t delta_choose(const delta_variant *variants, size_t count, const delta_device *device);

#endif
