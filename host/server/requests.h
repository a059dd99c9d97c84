/*
 * The update request each device is sent, built at the moment it is sent (issues 11 and 12).
 * No table holds a usable image key: a release's variants (full, compressed, deltas; see
 * storage.h) keep fw_info with its key zeroed and the key sealed under the master key. To send
 * a request the server chooses the variant the device can apply that is smallest (a delta only
 * from the very image it reports running, an encoded one only when it reports it decodes:
 * host/delta's delta_choose), unseals that variant's key, and either wraps it to the device's
 * own key (when it holds the device's certificate, not revoked) or puts it into fw_info, signs,
 * and zeroes the clear key.
 */
#ifndef CELLOTA_SERVER_REQUESTS_H
#define CELLOTA_SERVER_REQUESTS_H

#include "server.h"

#include "image/signature.h"

#include <stdbool.h>
#include <stdint.h>

/* Returned when the device's certificate is revoked: it is sent nothing. */
#define REQUEST_REVOKED 2

typedef struct request_sent {
    variant_encoding encoding;
    bool wrapped;
    uint64_t size; /* bytes of the image it will download */
} request_sent;

/*
 * Requests without a device (key in fw_info) are the same for every device sent one variant of
 * a campaign: a batch of publishes builds each once (one signature instead of one per device).
 * The cache lives for one batch only, so a clear key stays in memory no longer than that.
 */
#define REQUEST_CACHE_SIZE 8
typedef struct request_cache {
    struct {
        char sha256[65];
        char *json;
    } entries[REQUEST_CACHE_SIZE];
    size_t count;
} request_cache;

/* Zeroes and frees what the cache holds. */
void request_cache_clear(request_cache *cache);

/*
 * The request of `release` for `device` in `campaign` (> 0): *json malloc'd (zero it before
 * freeing when not wrapped), *sent says what was chosen. `cache` may be NULL. 0;
 * REQUEST_REVOKED; -1 when the release is retired, unknown or cannot be built (printed).
 */
int request_for_device(server *self, const char *release, int64_t campaign, const char *device,
                       request_cache *cache, char **json, request_sent *sent);

/* The release's full image for anyone (seed 000's GET /ota.json without a device): the key in
 * fw_info, signed. 0 or -1. */
int request_for_anyone(server *self, const release_record *release, char **json);

/*
 * The device's public key: from the certificate registered through the API, else
 * <device-certs>/ID.crt. 0 (found), STORAGE_NOT_FOUND (none: it gets the key in the clear),
 * REQUEST_REVOKED (that certificate is in the CRL: revoked.h), -1.
 */
int request_device_key(server *self, const char *device, uint8_t point[CELLOTA_PUBLIC_KEY_SIZE]);

/* Checks a certificate offered for `device` through the API: PEM, a P-256 key, common name the
 * device's id, and issued by <device-certs>/ca.crt when that file exists. 0, or -1 with *error
 * (400 BAD_CERTIFICATE). */
int request_check_certificate(server *self, const char *device, const char *pem,
                              api_error *error);

#endif
