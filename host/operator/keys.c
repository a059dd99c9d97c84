/* The operator's signing key; see keys.h. */
#include "operator/keys.h"

#include "common/cli.h"
#include "common/file.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/platform_util.h>

#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (64 * 1024)

static int crypto_error(const char *what, int status)
{
    return host_error(HOST_EXIT_INTERNAL, "%s failed (mbedTLS -0x%04x)", what, (unsigned)-status);
}

static bool is_p256(mbedtls_pk_context *key)
{
    return mbedtls_pk_get_type(key) == MBEDTLS_PK_ECKEY &&
           mbedtls_pk_ec(*key)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

int operator_key_generate(mbedtls_pk_context *key, host_random *random)
{
    int status = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (status != 0)
        return crypto_error("setting up the key", status);
    status = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                                 mbedtls_ctr_drbg_random, &random->generator);
    if (status != 0)
        return crypto_error("generating the key", status);
    return HOST_EXIT_OK;
}

int operator_key_save(mbedtls_pk_context *key, const char *private_path, const char *public_path)
{
    unsigned char pem[2048];
    int status = mbedtls_pk_write_key_pem(key, pem, sizeof(pem));
    if (status != 0)
        return crypto_error("writing the private key", status);
    status = host_write_file(private_path, pem, strlen((char *)pem),
                             HOST_WRITE_PRIVATE | HOST_WRITE_NO_REPLACE);
    mbedtls_platform_zeroize(pem, sizeof(pem));
    if (status != HOST_EXIT_OK)
        return status;
    status = mbedtls_pk_write_pubkey_pem(key, pem, sizeof(pem));
    if (status != 0)
        return crypto_error("writing the public key", status);
    return host_write_file(public_path, pem, strlen((char *)pem), HOST_WRITE_NO_REPLACE);
}

int operator_key_load_private(mbedtls_pk_context *key, const char *path)
{
    uint8_t *text;
    size_t length;
    int status = host_read_file(path, KEY_FILE_MAX, &text, &length);
    if (status != HOST_EXIT_OK)
        return status;
    /* PEM must be given with its terminating NUL counted; host_read_file adds one. */
    status = mbedtls_pk_parse_key(key, text, length + 1, NULL, 0);
    mbedtls_platform_zeroize(text, length);
    free(text);
    if (status == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
        return host_error(HOST_EXIT_FAILED, "'%s' is encrypted with a password: not supported",
                          path);
    if (status != 0)
        return host_error(HOST_EXIT_FAILED, "'%s' is not a private key (mbedTLS -0x%04x)", path,
                          (unsigned)-status);
    if (!is_p256(key))
        return host_error(HOST_EXIT_FAILED, "'%s' is not an ECDSA P-256 key", path);
    return HOST_EXIT_OK;
}

int operator_key_public_point(const mbedtls_pk_context *key, uint8_t point[CELLOTA_PUBLIC_KEY_SIZE])
{
    mbedtls_ecp_keypair *pair = mbedtls_pk_ec(*key);
    size_t written = 0;
    int status = mbedtls_ecp_point_write_binary(&pair->grp, &pair->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                &written, point, CELLOTA_PUBLIC_KEY_SIZE);
    if (status != 0 || written != CELLOTA_PUBLIC_KEY_SIZE)
        return crypto_error("writing the public point", status);
    return HOST_EXIT_OK;
}

int operator_key_load_public(const char *path, uint8_t point[CELLOTA_PUBLIC_KEY_SIZE])
{
    mbedtls_pk_context key;
    uint8_t *text;
    size_t length;
    int status = host_read_file(path, KEY_FILE_MAX, &text, &length);
    if (status != HOST_EXIT_OK)
        return status;
    mbedtls_pk_init(&key);
    status = mbedtls_pk_parse_public_key(&key, text, length + 1);
    if (status != 0) {
        /* A private key holds its public half: accept it too. */
        mbedtls_pk_free(&key);
        mbedtls_pk_init(&key);
        status = mbedtls_pk_parse_key(&key, text, length + 1, NULL, 0);
    }
    mbedtls_platform_zeroize(text, length);
    free(text);
    if (status != 0)
        status = host_error(HOST_EXIT_FAILED, "'%s' is not a public key (mbedTLS -0x%04x)", path,
                            (unsigned)-status);
    else if (!is_p256(&key))
        status = host_error(HOST_EXIT_FAILED, "'%s' is not an ECDSA P-256 key", path);
    else
        status = operator_key_public_point(&key, point);
    mbedtls_pk_free(&key);
    return status;
}

int operator_key_sign(mbedtls_pk_context *key, host_random *random, const uint8_t digest[32],
                      uint8_t signature[CELLOTA_SIGNATURE_SIZE])
{
    mbedtls_ecp_keypair *pair = mbedtls_pk_ec(*key);
    mbedtls_mpi r, s;
    int status;

    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    /* Deterministic nonces: a weak random generator can never leak the key through them. The
     * generator only blinds the computation against side channels. */
    status = mbedtls_ecdsa_sign_det_ext(&pair->grp, &r, &s, &pair->d, digest, 32, MBEDTLS_MD_SHA256,
                                        mbedtls_ctr_drbg_random, &random->generator);
    if (status == 0)
        status = mbedtls_mpi_write_binary(&r, signature, 32);
    if (status == 0)
        status = mbedtls_mpi_write_binary(&s, signature + 32, 32);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    if (status != 0)
        return crypto_error("signing", status);
    return HOST_EXIT_OK;
}
