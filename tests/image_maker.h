/*
 * Builds encrypted test images the way `cellota pack` does (AES-128-CBC, PKCS#7, both
 * SHA-256 values in fw_info), with mbedTLS directly, so the device pipeline is tested against
 * an independent encoder. Reproducible from a seed. Header-only: tests and fuzz targets share it.
 */
#ifndef CELLOTA_TESTS_IMAGE_MAKER_H
#define CELLOTA_TESTS_IMAGE_MAKER_H

#include "image/fw_info.h"

#include <mbedtls/aes.h>
#include <mbedtls/sha256.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_image {
    uint8_t *plain;
    uint32_t plain_size;
    uint8_t *cipher;
    uint32_t cipher_size;
    cellota_fw_info info;
} test_image;

static inline uint64_t test_random(uint64_t *state)
{
    /* splitmix64: good enough and reproducible */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Encrypts `padded` bytes of `padded_plain` (already padded, any padding) into image->cipher and
 * fills the encrypted hash. */
static inline void test_image_encrypt(test_image *image, const uint8_t *padded_plain,
                                      uint32_t padded)
{
    mbedtls_aes_context aes;
    uint8_t iv[16];
    memcpy(iv, image->info.iv, 16);
    free(image->cipher);
    image->cipher = malloc(padded ? padded : 1);
    image->cipher_size = padded;
    mbedtls_aes_init(&aes);
    mbedtls_aes_setkey_enc(&aes, image->info.key, 128);
    mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, padded, iv, padded_plain, image->cipher);
    mbedtls_aes_free(&aes);
    mbedtls_sha256_ret(image->cipher, padded, image->info.encrypted_sha256, 0);
}

/* A valid image of `plain_size` random bytes with a random key and IV. */
static inline void test_image_make(test_image *image, uint32_t plain_size, uint64_t seed)
{
    uint64_t state = seed;
    uint32_t index, padded = cellota_fw_info_padded_size(plain_size);
    uint8_t *padded_plain = malloc(padded);

    memset(image, 0, sizeof(*image));
    image->plain = malloc(plain_size ? plain_size : 1);
    image->plain_size = plain_size;
    for (index = 0; index < plain_size; index++)
        image->plain[index] = (uint8_t)test_random(&state);
    for (index = 0; index < 16; index++) {
        image->info.key[index] = (uint8_t)test_random(&state);
        image->info.iv[index] = (uint8_t)test_random(&state);
    }
    image->info.version = 7;
    image->info.load_address = 0x1000;
    image->info.plain_size = plain_size;
    image->info.encrypted_size = padded;
    memcpy(padded_plain, image->plain, plain_size);
    memset(padded_plain + plain_size, (int)(padded - plain_size), padded - plain_size);
    mbedtls_sha256_ret(image->plain, plain_size, image->info.plain_sha256, 0);
    test_image_encrypt(image, padded_plain, padded);
    free(padded_plain);
}

/* A compressed image or patch (image/delta.h): `stream` encrypted with a random key and IV, and
 * fw_info's plain size and SHA-256 those of the new image `plain` -- as `cellota pack --base`
 * makes them. image->plain holds the new image. */
static inline void test_image_make_encoded(test_image *image, const uint8_t *plain,
                                           uint32_t plain_size, const uint8_t *stream,
                                           uint32_t stream_size, uint64_t seed)
{
    uint32_t padded = cellota_fw_info_padded_size(stream_size), index;
    uint8_t *padded_stream = malloc(padded);

    test_image_make(image, 0, seed); /* key and IV */
    free(image->plain);
    image->plain = malloc(plain_size ? plain_size : 1);
    memcpy(image->plain, plain, plain_size);
    image->plain_size = plain_size;
    image->info.plain_size = plain_size;
    image->info.encrypted_size = padded;
    mbedtls_sha256_ret(plain, plain_size, image->info.plain_sha256, 0);
    memcpy(padded_stream, stream, stream_size);
    for (index = stream_size; index < padded; index++)
        padded_stream[index] = (uint8_t)(padded - stream_size);
    test_image_encrypt(image, padded_stream, padded);
    free(padded_stream);
}

static inline void test_image_free(test_image *image)
{
    free(image->plain);
    free(image->cipher);
    memset(image, 0, sizeof(*image));
}

#endif
