/*
 * Request signatures: a key made here with mbedTLS (deterministically seeded) signs digests and
 * whole requests; the device-side verifier accepts exactly those and names what is wrong.
 */
#include "test.h"

#include "core/error.h"
#include "image/request.h"
#include "image/signature.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>

typedef struct test_signer {
    mbedtls_ctr_drbg_context random;
    mbedtls_ecdsa_context key;
    uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE];
} test_signer;

/* Entropy that is the same every run, so a failure reproduces. Tests only. */
static int fixed_entropy(void *context, unsigned char *output, size_t length)
{
    unsigned *counter = context;
    size_t index;
    for (index = 0; index < length; index++)
        output[index] = (unsigned char)(*counter * 31 + index);
    (*counter)++;
    return 0;
}

static void signer_create(test_signer *signer, unsigned seed)
{
    static unsigned counter;
    size_t length = 0;
    counter = seed;
    mbedtls_ctr_drbg_init(&signer->random);
    mbedtls_ecdsa_init(&signer->key);
    CHECK_EQ_INT(mbedtls_ctr_drbg_seed(&signer->random, fixed_entropy, &counter,
                                       (const unsigned char *)"cellota-test", 12),
                 0);
    CHECK_EQ_INT(mbedtls_ecdsa_genkey(&signer->key, MBEDTLS_ECP_DP_SECP256R1,
                                      mbedtls_ctr_drbg_random, &signer->random),
                 0);
    CHECK_EQ_INT(mbedtls_ecp_point_write_binary(&signer->key.grp, &signer->key.Q,
                                                MBEDTLS_ECP_PF_UNCOMPRESSED, &length,
                                                signer->public_key, sizeof(signer->public_key)),
                 0);
    CHECK_EQ_INT(length, CELLOTA_PUBLIC_KEY_SIZE);
}

static void signer_destroy(test_signer *signer)
{
    mbedtls_ecdsa_free(&signer->key);
    mbedtls_ctr_drbg_free(&signer->random);
}

static void sign(test_signer *signer, const uint8_t digest[32], uint8_t signature[64])
{
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    CHECK_EQ_INT(mbedtls_ecdsa_sign(&signer->key.grp, &r, &s, &signer->key.d, digest, 32,
                                    mbedtls_ctr_drbg_random, &signer->random),
                 0);
    CHECK_EQ_INT(mbedtls_mpi_write_binary(&r, signature, 32), 0);
    CHECK_EQ_INT(mbedtls_mpi_write_binary(&s, signature + 32, 32), 0);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
}

static void test_verify(void)
{
    test_signer signer, other;
    uint8_t digest[32], signature[64], key[CELLOTA_PUBLIC_KEY_SIZE];
    size_t bit;

    signer_create(&signer, 1);
    signer_create(&other, 2);
    for (bit = 0; bit < 32; bit++)
        digest[bit] = (uint8_t)(bit * 13);
    sign(&signer, digest, signature);
    CHECK_EQ_INT(cellota_signature_verify(signer.public_key, digest, signature), CELLOTA_OK);

    /* Any flipped bit of the signature or the digest fails (a sample of positions). */
    for (bit = 0; bit < 512; bit += 37) {
        signature[bit / 8] ^= (uint8_t)(1 << bit % 8);
        CHECK_EQ_INT(cellota_signature_verify(signer.public_key, digest, signature),
                     CELLOTA_IMAGE_SIGNATURE_INVALID);
        signature[bit / 8] ^= (uint8_t)(1 << bit % 8);
    }
    digest[31] ^= 1;
    CHECK_EQ_INT(cellota_signature_verify(signer.public_key, digest, signature),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);
    digest[31] ^= 1;
    CHECK_EQ_INT(cellota_signature_verify(other.public_key, digest, signature),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);

    /* r = 0 and s = all ones (above the group order) are out of range. */
    memset(key, 0, 32);
    memcpy(key + 32, signature + 32, 32);
    CHECK_EQ_INT(cellota_signature_verify(signer.public_key, digest, key),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);
    memcpy(key, signature, 32);
    memset(key + 32, 0xFF, 32);
    CHECK_EQ_INT(cellota_signature_verify(signer.public_key, digest, key),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);

    /* Keys that are not P-256 points. */
    memcpy(key, signer.public_key, sizeof(key));
    key[20] ^= 1; /* off the curve */
    CHECK_EQ_INT(cellota_signature_verify(key, digest, signature),
                 CELLOTA_IMAGE_PUBLIC_KEY_INVALID);
    memcpy(key, signer.public_key, sizeof(key));
    key[0] = 0x02; /* a compressed prefix on 65 bytes */
    CHECK_EQ_INT(cellota_signature_verify(key, digest, signature),
                 CELLOTA_IMAGE_PUBLIC_KEY_INVALID);
    memset(key, 0, sizeof(key));
    CHECK_EQ_INT(cellota_signature_verify(key, digest, signature),
                 CELLOTA_IMAGE_PUBLIC_KEY_INVALID);
    key[0] = 0x04;
    memset(key + 1, 0xFF, 64); /* coordinates above the field prime */
    CHECK_EQ_INT(cellota_signature_verify(key, digest, signature),
                 CELLOTA_IMAGE_PUBLIC_KEY_INVALID);

    signer_destroy(&signer);
    signer_destroy(&other);
}

static void test_signed_request(void)
{
    static const char fw_info[] =
        "0000000000100000b8070100c0070100000102030405060708090a0b0c0d0e0f00112233445566778899aabbcc"
        "ddeeffba40d96777aeaf3901e3d3eb7db8b9939938c981e18286bd61b3350d00ff6816dd10918635ca7bf00c3d"
        "afe76f2a280891f107f4569b11b5d732d630819abebf";
    cellota_update_request request;
    test_signer signer;
    uint8_t digest[32], signature[64];
    char json[1024], sig_hex[129], *url;
    size_t index;

    signer_create(&signer, 3);
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://a/i.ebin\",\"alt_url\":\"http://b/i.ebin\","
             "\"fw_info\":\"%s\",\"version\":\"1.4.0\",\"id\":\"c9\"}",
             fw_info);
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_verify(&request, signer.public_key),
                 CELLOTA_IMAGE_SIGNATURE_MISSING);
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    sign(&signer, digest, signature);
    for (index = 0; index < 64; index++)
        snprintf(sig_hex + 2 * index, 3, "%02x", signature[index]);

    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://a/i.ebin\",\"alt_url\":\"http://b/i.ebin\","
             "\"fw_info\":\"%s\",\"version\":\"1.4.0\",\"id\":\"c9\",\"sig\":\"%s\"}",
             fw_info, sig_hex);
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_verify(&request, signer.public_key), CELLOTA_OK);

    /* A broker that rewrites the URL, version or campaign breaks the signature. */
    url = strstr(json, "http://a/");
    url[7] = 'x';
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_verify(&request, signer.public_key),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);
    url[7] = 'a';
    strstr(json, "1.4.0")[2] = '5';
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_verify(&request, signer.public_key),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);
    signer_destroy(&signer);
}

int main(void)
{
    RUN(test_verify);
    RUN(test_signed_request);
    return test_summary();
}
