/*
 * ECDSA P-256 verification with mbedTLS (contract in signature.h). The key and signature come
 * in fixed binary forms, so nothing here parses ASN.1.
 *
 * mbedTLS's bignum code allocates; on an MCU, configure it with MBEDTLS_MEMORY_BUFFER_ALLOC_C
 * (a static arena) so cellota itself stays heap-free.
 */
#include "image/signature.h"

#include "core/error.h"

#include <mbedtls/ecdsa.h>

int cellota_signature_verify(const uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE],
                             const uint8_t digest[32],
                             const uint8_t signature[CELLOTA_SIGNATURE_SIZE])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point point;
    mbedtls_mpi r, s;
    int result = CELLOTA_CRYPTO_FAILED, status;

    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&point);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) != 0)
        goto done;
    /* Only the uncompressed form: a point that is not on the curve is refused here. */
    if (public_key[0] != 0x04 ||
        mbedtls_ecp_point_read_binary(&group, &point, public_key, CELLOTA_PUBLIC_KEY_SIZE) != 0 ||
        mbedtls_ecp_check_pubkey(&group, &point) != 0) {
        result = CELLOTA_IMAGE_PUBLIC_KEY_INVALID;
        goto done;
    }
    if (mbedtls_mpi_read_binary(&r, signature, 32) != 0 ||
        mbedtls_mpi_read_binary(&s, signature + 32, 32) != 0)
        goto done;
    /* r or s out of range (0, or >= the group order) also ends in VERIFY_FAILED. */
    status = mbedtls_ecdsa_verify(&group, digest, 32, &point, &r, &s);
    if (status == 0)
        result = CELLOTA_OK;
    else if (status == MBEDTLS_ERR_ECP_VERIFY_FAILED || status == MBEDTLS_ERR_ECP_BAD_INPUT_DATA)
        result = CELLOTA_IMAGE_SIGNATURE_INVALID;
done:
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&point);
    mbedtls_ecp_group_free(&group);
    return result;
}
