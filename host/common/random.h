/*
 * Cryptographic randomness for host programs: mbedTLS CTR-DRBG seeded from the system's
 * entropy source. Image keys and IVs, signing-key generation and tokens come from here.
 */
#ifndef CELLOTA_HOST_COMMON_RANDOM_H
#define CELLOTA_HOST_COMMON_RANDOM_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include <stddef.h>

typedef struct host_random {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context generator; /* pass mbedtls_ctr_drbg_random, &generator to mbedTLS */
} host_random;

/* Seeds a generator; `purpose` personalises it ("cellota pack"). HOST_EXIT_OK or
 * HOST_EXIT_INTERNAL after printing why. */
int host_random_open(host_random *random, const char *purpose);

/* Fills `buffer`. HOST_EXIT_OK or HOST_EXIT_INTERNAL after printing why. */
int host_random_bytes(host_random *random, void *buffer, size_t length);

void host_random_close(host_random *random);

#endif
