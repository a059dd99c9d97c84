/*
 * The operator's request-signing key: ECDSA P-256, stored as PEM the way mbedTLS writes it
 * (SEC1 "EC PRIVATE KEY"; the public half as SubjectPublicKeyInfo), which openssl reads too.
 * Devices hold the public key as the 65-byte uncompressed point (image/signature.h).
 * Every function prints its own error and returns a HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_OPERATOR_KEYS_H
#define CELLOTA_HOST_OPERATOR_KEYS_H

#include "common/random.h"
#include "image/signature.h"

#include <mbedtls/pk.h>

#include <stdint.h>

/* Generates a fresh P-256 key pair into an initialised context. */
int operator_key_generate(mbedtls_pk_context *key, host_random *random);

/* Writes the private key (mode 0600) and the public key as PEM. Neither file may exist yet:
 * a signing key is never overwritten. */
int operator_key_save(mbedtls_pk_context *key, const char *private_path, const char *public_path);

/* Loads a P-256 private key from a PEM or DER file into an initialised context. */
int operator_key_load_private(mbedtls_pk_context *key, const char *path);

/* Loads the public point from a public-key file (or from a private-key file). */
int operator_key_load_public(const char *path, uint8_t point[CELLOTA_PUBLIC_KEY_SIZE]);

/* The public point of a loaded key. */
int operator_key_public_point(const mbedtls_pk_context *key,
                              uint8_t point[CELLOTA_PUBLIC_KEY_SIZE]);

/* Signs a SHA-256 digest (deterministic ECDSA, RFC 6979): r||s, 32 bytes each, big-endian. */
int operator_key_sign(mbedtls_pk_context *key, host_random *random, const uint8_t digest[32],
                      uint8_t signature[CELLOTA_SIGNATURE_SIZE]);

#endif
