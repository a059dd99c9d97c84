/*
 * Releases: an uploaded plain image becomes a release the way `cellota pack` makes one (the
 * same host/operator code): encrypted under a fresh key and IV, its request signed with the
 * server's key, the encrypted image stored content-addressed at images/<sha256>.ebin (and the
 * plain one at images/<plain sha256>.bin when devices may download it plainly). The key lives
 * only inside the stored request JSON, never in a log.
 */
#ifndef CELLOTA_SERVER_RELEASES_H
#define CELLOTA_SERVER_RELEASES_H

#include "server.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELEASE_IMAGE_MAX (16u * 1024 * 1024)

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

/* The newest release by semantic-version precedence. 0, STORAGE_NOT_FOUND or -1. */
int release_newest(server *self, release_record *release);

/* The release's request for `campaign` (0: none): url = <public-url>/images/<sha256>.ebin
 * [?c=campaign], alt_url from --mirror, id = the campaign's number, signed. *json malloc'd. */
int release_request(server *self, const release_record *release, int64_t campaign, char **json);

/* The release as the API shows it. */
cJSON *release_json(const server *self, const release_record *release);

/* images/<name> in the store: a malloc'd path. */
char *release_image_path(const server *self, const char *name);

#endif
