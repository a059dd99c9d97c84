/*
 * Image keys at rest on the server: seed 002 says they "should not be preserved outside field
 * devices". The server needs a release's key until every targeted device has its (wrapped)
 * request, so it keeps it sealed -- AES-256-GCM under a master key that lives in a file
 * outside the database (mode 0600) -- never in the database in the clear; retiring a release
 * deletes the sealed key, and with key wrapping only the wrapped per-device requests remain.
 *
 *   sealed (44 bytes) = nonce (12, random) || AES-256-GCM(master, nonce, key) (16) || tag (16)
 *   additional data   = "cellota-sealed-key-v1" || label   (label: the release, e.g. its
 *                        version or sha256 -- a sealed key moved to another release's row does
 *                        not open)
 *
 * How the server calls it: at start operator_master_key_load (or _create on first start);
 * when a release is uploaded, operator_seal_key(master, version, fw_info.key, ...) and store
 * the 44 bytes (hex) with the release; when a per-device request is due, operator_unseal_key
 * then operator_request_for_device (operator/device_request.h); zero the clear key after use.
 * Functions print their own error and return a HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_OPERATOR_SEAL_H
#define CELLOTA_HOST_OPERATOR_SEAL_H

#include "common/random.h"

#include <stdint.h>

#define OPERATOR_MASTER_KEY_SIZE 32
#define OPERATOR_SEALED_KEY_SIZE 44

/* Writes a fresh master key (32 random bytes as 64 hex digits and a newline) to `path`, mode
 * 0600; refuses to replace an existing file: losing the master key loses every sealed key. */
int operator_master_key_create(const char *path, host_random *random);

/* Reads it back; HOST_EXIT_FAILED when the file is not 64 hex digits or is readable by others
 * (group or world permission bits). */
int operator_master_key_load(const char *path, uint8_t master[OPERATOR_MASTER_KEY_SIZE]);

int operator_seal_key(const uint8_t master[OPERATOR_MASTER_KEY_SIZE], const char *label,
                      const uint8_t key[16], host_random *random,
                      uint8_t sealed[OPERATOR_SEALED_KEY_SIZE]);

/* HOST_EXIT_FAILED (with `key` zeroed) when the master key or label is not the sealing one, or
 * the sealed bytes were altered. */
int operator_unseal_key(const uint8_t master[OPERATOR_MASTER_KEY_SIZE], const char *label,
                        const uint8_t sealed[OPERATOR_SEALED_KEY_SIZE], uint8_t key[16]);

#endif
