/*
 * Requests for one device, with the image key wrapped to that device's own key: what the
 * server publishes on cellota/<id>/update when it knows the device's certificate, so that no
 * broker, cloud storage, CDN or plain-HTTP poll ever carries a key that decrypts the image.
 *
 *   operator_key_wrap            ECDH with a fresh ephemeral P-256 key against the device's
 *                                public key, HKDF-SHA-256, AES key wrap (image/key_wrap.h has
 *                                the device's side and the format)
 *   operator_device_public_key   the device's public point from its certificate (ID.crt of
 *                                `cellota certs device`)
 *   operator_request_for_device  a release's request (ota.json as `cellota pack` wrote it,
 *                                key in fw_info) -> the same request for one device: "device"
 *                                set, fw_info's key zeroed, "wrapped_key" added, signed
 *
 * The server calls operator_request_for_device once per targeted device (a few milliseconds of
 * ECDH each) and keeps only the wrapped results; the clear key is needed only while they are
 * made. Functions print their own error and return a HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_OPERATOR_DEVICE_REQUEST_H
#define CELLOTA_HOST_OPERATOR_DEVICE_REQUEST_H

#include "common/random.h"
#include "image/key_wrap.h"
#include "image/signature.h"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <stddef.h>
#include <stdint.h>

int operator_key_wrap(const uint8_t device_public[CELLOTA_PUBLIC_KEY_SIZE], const char *device_id,
                      const uint8_t key[16], host_random *random,
                      uint8_t wrapped[CELLOTA_WRAPPED_KEY_SIZE]);

/* The point of a parsed certificate's key; HOST_EXIT_FAILED (nothing printed) when it is not
 * a P-256 key. */
int operator_certificate_public_key(const mbedtls_x509_crt *certificate,
                                    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE]);

/* From a PEM or DER certificate file; HOST_EXIT_FAILED when it holds no P-256 key. */
int operator_device_public_key(const char *certificate_path,
                               uint8_t point[CELLOTA_PUBLIC_KEY_SIZE]);

/*
 * `release_json` (`length` bytes): a request whose fw_info holds the image key. `sign_key`
 * NULL: unsigned (trust-the-channel devices only). *json: malloc'd, NUL-terminated, checked
 * with the device's parser (and its signature verified) before it is returned.
 */
int operator_request_for_device(const char *release_json, size_t length, const char *device_id,
                                const uint8_t device_public[CELLOTA_PUBLIC_KEY_SIZE],
                                mbedtls_pk_context *sign_key, host_random *random, char **json);

#endif
