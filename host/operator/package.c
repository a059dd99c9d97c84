/* Packaging a plain image: encrypt, pad, hash, describe; see package.h. */
#include "operator/package.h"

#include "common/cli.h"
#include "core/error.h"
#include "image/semver.h"

#include <mbedtls/aes.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <stdlib.h>
#include <string.h>

int operator_security_version(const char *version, uint32_t *security_version)
{
    cellota_semver parsed;
    uint64_t number;
    int status = cellota_semver_parse(&parsed, version, strlen(version));

    if (status != CELLOTA_OK)
        return host_error(HOST_EXIT_USAGE, "'%s': %s", version, cellota_strerror(status));
    number = (uint64_t)parsed.major * 1000000u + (uint64_t)parsed.minor * 1000u + parsed.patch;
    if (parsed.minor > 999 || parsed.patch > 999 || number > UINT32_MAX)
        return host_error(HOST_EXIT_USAGE,
                          "'%s' does not map to a security version (minor and patch must be "
                          "below 1000, major below 4295): give --security-version N",
                          version);
    *security_version = (uint32_t)number;
    return HOST_EXIT_OK;
}

int operator_encrypt(const uint8_t *plain, size_t plain_size, const uint8_t key[16],
                     const uint8_t iv[16], cellota_fw_info *info, uint8_t **encrypted)
{
    mbedtls_aes_context aes;
    uint8_t chain[16];
    uint8_t *output;
    uint32_t padded;
    size_t whole = plain_size - plain_size % 16;
    int status;

    *encrypted = NULL;
    if (plain_size > OPERATOR_PLAIN_SIZE_MAX)
        return host_error(HOST_EXIT_FAILED,
                          "the image is %zu bytes; fw_info can describe at most %u", plain_size,
                          (unsigned)OPERATOR_PLAIN_SIZE_MAX);
    padded = cellota_fw_info_padded_size((uint32_t)plain_size);
    output = malloc(padded);
    if (!output)
        return host_error(HOST_EXIT_INTERNAL, "out of memory for a %u-byte image", padded);

    /* PKCS#7: always 1 to 16 bytes, each holding the count, so a multiple of 16 gains a block. */
    if (whole)
        memcpy(output, plain, whole);
    if (plain_size > whole)
        memcpy(output + whole, plain + whole, plain_size - whole);
    memset(output + plain_size, (int)(padded - plain_size), padded - plain_size);

    mbedtls_aes_init(&aes);
    memcpy(chain, iv, 16);
    status = mbedtls_aes_setkey_enc(&aes, key, 128);
    if (status == 0)
        status = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, padded, chain, output, output);
    mbedtls_aes_free(&aes);
    if (status == 0)
        status = mbedtls_sha256_ret(plain, plain_size, info->plain_sha256, 0);
    if (status == 0)
        status = mbedtls_sha256_ret(output, padded, info->encrypted_sha256, 0);
    if (status != 0) {
        free(output);
        return host_error(HOST_EXIT_INTERNAL, "encrypting the image failed (mbedTLS -0x%04x)",
                          (unsigned)-status);
    }
    info->plain_size = (uint32_t)plain_size;
    info->encrypted_size = padded;
    memcpy(info->key, key, 16);
    memcpy(info->iv, iv, 16);
    *encrypted = output;
    return HOST_EXIT_OK;
}

int operator_package(host_random *random, const uint8_t *plain, size_t plain_size,
                     cellota_fw_info *info, uint8_t **encrypted)
{
    uint8_t key_and_iv[32];
    int status = host_random_bytes(random, key_and_iv, sizeof(key_and_iv));
    if (status == HOST_EXIT_OK)
        status = operator_encrypt(plain, plain_size, key_and_iv, key_and_iv + 16, info, encrypted);
    mbedtls_platform_zeroize(key_and_iv, sizeof(key_and_iv));
    return status;
}
