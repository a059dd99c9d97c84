/* Cryptographic randomness; see random.h. */
#include "common/random.h"

#include "common/cli.h"

#include <string.h>

int host_random_open(host_random *random, const char *purpose)
{
    int status;
    mbedtls_entropy_init(&random->entropy);
    mbedtls_ctr_drbg_init(&random->generator);
    status = mbedtls_ctr_drbg_seed(&random->generator, mbedtls_entropy_func, &random->entropy,
                                   (const unsigned char *)purpose, strlen(purpose));
    if (status != 0) {
        host_random_close(random);
        return host_error(HOST_EXIT_INTERNAL, "cannot seed the random generator (mbedTLS -0x%04x)",
                          (unsigned)-status);
    }
    return HOST_EXIT_OK;
}

int host_random_bytes(host_random *random, void *buffer, size_t length)
{
    unsigned char *bytes = buffer;
    while (length) {
        /* CTR-DRBG hands out at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes per call. */
        size_t part = length < MBEDTLS_CTR_DRBG_MAX_REQUEST ? length : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        int status = mbedtls_ctr_drbg_random(&random->generator, bytes, part);
        if (status != 0)
            return host_error(HOST_EXIT_INTERNAL, "the random generator failed (mbedTLS -0x%04x)",
                              (unsigned)-status);
        bytes += part;
        length -= part;
    }
    return HOST_EXIT_OK;
}

void host_random_close(host_random *random)
{
    mbedtls_ctr_drbg_free(&random->generator);
    mbedtls_entropy_free(&random->entropy);
}
