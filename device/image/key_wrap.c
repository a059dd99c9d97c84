/* Per-device key wrapping: ECDH P-256, HKDF-SHA-256, AES key wrap (contract in key_wrap.h). */
#include "image/key_wrap.h"

#include "core/error.h"

#include <mbedtls/aes.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include <string.h>

static const char kek_label[] = "cellota-key-wrap-v1";
static const uint8_t default_iv[8] = {0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6};

int cellota_key_wrap_kek(const uint8_t shared_x[32], const uint8_t ephemeral[65],
                         const char *device_id, uint8_t kek[CELLOTA_KEY_WRAP_KEK_SIZE])
{
    uint8_t info[sizeof(kek_label) - 1 + CELLOTA_REQUEST_DEVICE_MAX];
    size_t id_length = strlen(device_id);
    if (id_length > CELLOTA_REQUEST_DEVICE_MAX)
        return CELLOTA_CRYPTO_FAILED;
    memcpy(info, kek_label, sizeof(kek_label) - 1);
    memcpy(info + sizeof(kek_label) - 1, device_id, id_length);
    return mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), ephemeral, 65, shared_x, 32,
                        info, sizeof(kek_label) - 1 + id_length, kek,
                        CELLOTA_KEY_WRAP_KEK_SIZE) == 0
               ? CELLOTA_OK
               : CELLOTA_CRYPTO_FAILED;
}

/* RFC 3394 2.2.1 / 2.2.2 with n = 2 64-bit blocks; t counts the steps 1..12. */
int cellota_aes_key_wrap(const uint8_t kek[CELLOTA_KEY_WRAP_KEK_SIZE], const uint8_t key[16],
                         uint8_t wrapped[24])
{
    mbedtls_aes_context aes;
    uint8_t block[16];
    unsigned step, index;
    int failed;
    mbedtls_aes_init(&aes);
    failed = mbedtls_aes_setkey_enc(&aes, kek, 128);
    memcpy(wrapped, default_iv, 8);
    memcpy(wrapped + 8, key, 16);
    for (step = 0; !failed && step < 6; step++) {
        for (index = 1; !failed && index <= 2; index++) {
            memcpy(block, wrapped, 8);
            memcpy(block + 8, wrapped + 8 * index, 8);
            failed = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, block, block);
            block[7] ^= (uint8_t)(2 * step + index); /* t < 256: only the last byte */
            memcpy(wrapped, block, 8);
            memcpy(wrapped + 8 * index, block + 8, 8);
        }
    }
    mbedtls_platform_zeroize(block, sizeof(block));
    mbedtls_aes_free(&aes);
    return failed ? CELLOTA_CRYPTO_FAILED : CELLOTA_OK;
}

int cellota_aes_key_unwrap(const uint8_t kek[CELLOTA_KEY_WRAP_KEK_SIZE], const uint8_t wrapped[24],
                           uint8_t key[16])
{
    mbedtls_aes_context aes;
    uint8_t a[8], r[16], block[16], difference = 0;
    int step, index, failed;
    mbedtls_aes_init(&aes);
    failed = mbedtls_aes_setkey_dec(&aes, kek, 128);
    memcpy(a, wrapped, 8);
    memcpy(r, wrapped + 8, 16);
    for (step = 5; !failed && step >= 0; step--) {
        for (index = 2; !failed && index >= 1; index--) {
            memcpy(block, a, 8);
            block[7] ^= (uint8_t)(2 * step + index);
            memcpy(block + 8, r + 8 * (index - 1), 8);
            failed = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_DECRYPT, block, block);
            memcpy(a, block, 8);
            memcpy(r + 8 * (index - 1), block + 8, 8);
        }
    }
    mbedtls_aes_free(&aes);
    for (index = 0; index < 8; index++)
        difference |= (uint8_t)(a[index] ^ default_iv[index]); /* in constant time */
    if (failed || difference) {
        memset(key, 0, 16);
        mbedtls_platform_zeroize(r, sizeof(r));
        mbedtls_platform_zeroize(block, sizeof(block));
        return failed ? CELLOTA_CRYPTO_FAILED : CELLOTA_IMAGE_KEY_UNWRAP_FAILED;
    }
    memcpy(key, r, 16);
    mbedtls_platform_zeroize(r, sizeof(r));
    mbedtls_platform_zeroize(block, sizeof(block));
    return CELLOTA_OK;
}

int cellota_key_unwrap(const uint8_t device_key[CELLOTA_DEVICE_KEY_SIZE], const char *device_id,
                       const uint8_t wrapped_key[CELLOTA_WRAPPED_KEY_SIZE], uint8_t key[16])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point ephemeral;
    mbedtls_mpi secret, shared;
    uint8_t shared_x[32], kek[CELLOTA_KEY_WRAP_KEK_SIZE];
    int result = CELLOTA_CRYPTO_FAILED;

    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&ephemeral);
    mbedtls_mpi_init(&secret);
    mbedtls_mpi_init(&shared);
    if (mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) != 0)
        goto done;
    if (wrapped_key[0] != 0x04 ||
        mbedtls_ecp_point_read_binary(&group, &ephemeral, wrapped_key, 65) != 0 ||
        mbedtls_ecp_check_pubkey(&group, &ephemeral) != 0) {
        result = CELLOTA_IMAGE_PUBLIC_KEY_INVALID;
        goto done;
    }
    if (mbedtls_mpi_read_binary(&secret, device_key, CELLOTA_DEVICE_KEY_SIZE) != 0 ||
        mbedtls_ecp_check_privkey(&group, &secret) != 0 ||
        /* no generator: the device's port has none; mbedTLS then blinds with its own */
        mbedtls_ecdh_compute_shared(&group, &shared, &ephemeral, &secret, NULL, NULL) != 0 ||
        mbedtls_mpi_write_binary(&shared, shared_x, sizeof(shared_x)) != 0)
        goto done;
    result = cellota_key_wrap_kek(shared_x, wrapped_key, device_id, kek);
    if (result == CELLOTA_OK)
        result = cellota_aes_key_unwrap(kek, wrapped_key + 65, key);
done:
    mbedtls_platform_zeroize(shared_x, sizeof(shared_x));
    mbedtls_platform_zeroize(kek, sizeof(kek));
    mbedtls_mpi_free(&shared);
    mbedtls_mpi_free(&secret);
    mbedtls_ecp_point_free(&ephemeral);
    mbedtls_ecp_group_free(&group);
    return result;
}
