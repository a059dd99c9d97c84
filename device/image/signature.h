/*
 * Request signatures: ECDSA P-256 over a SHA-256 digest, verified with mbedTLS. The device holds
 * the operator's public key (65 bytes, uncompressed point 0x04||X||Y) in its firmware; the
 * private key never leaves the operator's machine (`cellota keygen`).
 */
#ifndef CELLOTA_IMAGE_SIGNATURE_H
#define CELLOTA_IMAGE_SIGNATURE_H

#include <stdint.h>

#define CELLOTA_PUBLIC_KEY_SIZE 65
#define CELLOTA_SIGNATURE_SIZE 64

/* CELLOTA_OK when `signature` (r||s, 32 bytes each, big-endian) signs `digest` under
 * `public_key`; CELLOTA_IMAGE_SIGNATURE_INVALID when it does not; CELLOTA_IMAGE_PUBLIC_KEY_INVALID
 * for a key that is not a point on P-256. */
int cellota_signature_verify(const uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE],
                             const uint8_t digest[32],
                             const uint8_t signature[CELLOTA_SIGNATURE_SIZE]);

#endif
