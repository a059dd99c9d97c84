/*
 * Per-device key wrapping: the image key of an update request encrypted to one device's own
 * P-256 key, so the broker, the cloud, a CDN and a poll over plain HTTP never carry a usable
 * key -- only the device that holds the private key can install the image.
 *
 *   wrapped_key (89 bytes) = E (65: ephemeral public key, uncompressed) || W (24)
 *   Z   = ECDH(device private key, E): the shared point's x coordinate (32 bytes)
 *   KEK = HKDF-SHA-256(salt = E, IKM = Z, info = "cellota-key-wrap-v1" || device id), 16 bytes
 *   W   = AES-128 key wrap (RFC 3394, default IV A6A6A6A6A6A6A6A6) of the 16-byte image key
 *
 * The device id in HKDF's info binds the wrap to the device the server meant: the same key
 * pair moved under another id does not unwrap. A fresh ephemeral key per wrap means two
 * wraps of one image key look unrelated. The sender's side (ephemeral key, ECDH, wrap) is
 * host/operator/key_wrap.h; both use cellota_key_wrap_kek and the RFC 3394 functions below.
 *
 * mbedTLS: MBEDTLS_ECDH_C, MBEDTLS_HKDF_C, MBEDTLS_AES_C (ESP-IDF and nRF Connect enable the
 * first and last; HKDF is one option in their mbedTLS configuration).
 */
#ifndef CELLOTA_IMAGE_KEY_WRAP_H
#define CELLOTA_IMAGE_KEY_WRAP_H

#include "image/request.h"

#include <stddef.h>
#include <stdint.h>

#define CELLOTA_DEVICE_KEY_SIZE 32 /* the private scalar, big-endian */
#define CELLOTA_KEY_WRAP_KEK_SIZE 16

/* KEK from the ECDH secret's x coordinate, the ephemeral public key and the device id.
 * CELLOTA_OK or CELLOTA_CRYPTO_FAILED. */
int cellota_key_wrap_kek(const uint8_t shared_x[32], const uint8_t ephemeral[65],
                         const char *device_id, uint8_t kek[CELLOTA_KEY_WRAP_KEK_SIZE]);

/* RFC 3394 with a 16-byte key-encryption key, for a 16-byte key (24 bytes wrapped). */
int cellota_aes_key_wrap(const uint8_t kek[CELLOTA_KEY_WRAP_KEK_SIZE], const uint8_t key[16],
                         uint8_t wrapped[24]);
/* CELLOTA_OK, or CELLOTA_IMAGE_KEY_UNWRAP_FAILED when the integrity check fails (wrong KEK or
 * altered bytes); `key` is zeroed then. */
int cellota_aes_key_unwrap(const uint8_t kek[CELLOTA_KEY_WRAP_KEK_SIZE], const uint8_t wrapped[24],
                           uint8_t key[16]);

/*
 * The device's side: recovers the image key from a request's wrapped_key with the device's
 * private scalar and id. CELLOTA_OK; CELLOTA_IMAGE_KEY_UNWRAP_FAILED for a key wrapped to
 * another device (key or id) or altered; CELLOTA_IMAGE_PUBLIC_KEY_INVALID for an ephemeral
 * key not on the curve; CELLOTA_CRYPTO_FAILED.
 */
int cellota_key_unwrap(const uint8_t device_key[CELLOTA_DEVICE_KEY_SIZE], const char *device_id,
                       const uint8_t wrapped_key[CELLOTA_WRAPPED_KEY_SIZE], uint8_t key[16]);

#endif
