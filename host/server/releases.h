/*
 * Releases: an uploaded plain image becomes a release the way `cellota pack` makes one (the
 * same host/operator and host/delta code), in several variants, each encrypted under a fresh
 * key and IV and stored content-addressed at images/<sha256>.ebin: the full image, the image
 * compressed, and a patch from each of the RELEASE_DELTA_BASES newest earlier releases (their
 * plain images decrypted back from their own full images; the plain upload is stored only when
 * devices may download it plainly, images/<plain sha256>.bin). Each variant's key is sealed
 * under the master key (operator/seal.h) and its fw_info stored with the key zeroed: no table
 * holds a usable key, and requests are built when sent (requests.h). Retiring a release
 * destroys its sealed keys.
 */
#ifndef CELLOTA_SERVER_RELEASES_H
#define CELLOTA_SERVER_RELEASES_H

#include "server.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELEASE_IMAGE_MAX (16u * 1024 * 1024)
#define RELEASE_DELTA_BASES 3 /* earlier releases a new one keeps a patch from */

typedef struct release_upload {
    const char *version;      /* semantic version */
    const char *load_address; /* NULL: OPERATOR_LOAD_ADDRESS_DEFAULT (the slot's own) */
    const char *notes;        /* NULL: none */
    bool plain_download;
    const uint8_t *image;
    size_t size;
} release_upload;

/* Makes and stores the release. 0 (release filled), or -1 with *error (400 BAD_VERSION,
 * EMPTY_IMAGE, BAD_LOAD_ADDRESS; 409 VERSION_EXISTS; 413 IMAGE_TOO_LARGE; 500). */
int release_create(server *self, const release_upload *upload, release_record *release,
                   api_error *error);

/* The checks of an upload that need no storage, release_create's first: the version (with its
 * security version out), the load address (OPERATOR_LOAD_ADDRESS_DEFAULT when not given), the
 * notes' length and the image's size. 0, or -1 with *error (400 BAD_VERSION, BAD_LOAD_ADDRESS,
 * BAD_NOTES, EMPTY_IMAGE; 413 IMAGE_TOO_LARGE). */
int release_check_upload(const release_upload *upload, uint32_t *security_version,
                         uint64_t *address, api_error *error);

/* The newest release not retired, by semantic-version precedence. 0, STORAGE_NOT_FOUND, -1. */
int release_newest(server *self, release_record *release);

/* Releases stored before keys were sealed (schema 1 and 2) kept their signed request, key in
 * the clear: each becomes a full-image variant with its key sealed, and the request is cleared,
 * in one transaction per release. Run at start; returns how many were sealed, or -1. */
int release_seal_stored(server *self);

/* Destroys the release's sealed keys: it can no longer be offered, nor be a delta's base.
 * 0, or -1 with *error (404 UNKNOWN_RELEASE; 409 RELEASE_IN_USE while an active campaign
 * offers it; 500). Retiring twice is allowed. */
int release_retire(server *self, const char *version, api_error *error);

/* The release as the API shows it. */
cJSON *release_json(const server *self, const release_record *release);

/* images/<name> in the store: a malloc'd path. */
char *release_image_path(const server *self, const char *name);

#endif
