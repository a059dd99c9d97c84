/*
 * Image keys sealed at rest (operator/seal.h): a sealed key opens only with its master key and
 * its release's label, and not after any byte changed; the master key file is created once,
 * mode 0600, never replaced, and refused when others can read it.
 */
#define _GNU_SOURCE /* memmem */
#include "test.h"

#include "common/cli.h"
#include "operator/seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_seal_unseal(void)
{
    host_random random;
    uint8_t master[OPERATOR_MASTER_KEY_SIZE], other[OPERATOR_MASTER_KEY_SIZE];
    uint8_t key[16] = "release 1.4.0 k", out[16], sealed[OPERATOR_SEALED_KEY_SIZE];
    uint8_t again[OPERATOR_SEALED_KEY_SIZE];
    size_t index;

    CHECK_EQ_INT(host_random_open(&random, "test_operator_seal"), HOST_EXIT_OK);
    CHECK_EQ_INT(host_random_bytes(&random, master, sizeof(master)), HOST_EXIT_OK);
    CHECK_EQ_INT(host_random_bytes(&random, other, sizeof(other)), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_seal_key(master, "1.4.0", key, &random, sealed), HOST_EXIT_OK);
    CHECK(memmem(sealed, sizeof(sealed), key, 16) == NULL);
    CHECK_EQ_INT(operator_unseal_key(master, "1.4.0", sealed, out), HOST_EXIT_OK);
    CHECK_EQ_MEM(out, key, 16);
    CHECK_EQ_INT(operator_seal_key(master, "1.4.0", key, &random, again), HOST_EXIT_OK);
    CHECK(memcmp(again, sealed, sizeof(sealed)) != 0); /* a fresh nonce each time */

    CHECK_EQ_INT(operator_unseal_key(other, "1.4.0", sealed, out), HOST_EXIT_FAILED);
    CHECK_EQ_INT(operator_unseal_key(master, "1.5.0", sealed, out), HOST_EXIT_FAILED);
    for (index = 0; index < sizeof(sealed); index += 7) {
        sealed[index] ^= 0x10;
        CHECK_EQ_INT(operator_unseal_key(master, "1.4.0", sealed, out), HOST_EXIT_FAILED);
        CHECK(memcmp(out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
        sealed[index] ^= 0x10;
    }
    host_random_close(&random);
}

static void test_master_key_file(void)
{
    host_random random;
    char folder[] = "/tmp/cellota-seal-XXXXXX", path[64];
    uint8_t master[OPERATOR_MASTER_KEY_SIZE], loaded[OPERATOR_MASTER_KEY_SIZE];
    struct stat info;

    CHECK(mkdtemp(folder) != NULL);
    snprintf(path, sizeof(path), "%s/master.key", folder);
    CHECK_EQ_INT(host_random_open(&random, "test_operator_seal"), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_master_key_create(path, &random), HOST_EXIT_OK);
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0600);
    CHECK_EQ_INT(operator_master_key_load(path, master), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_master_key_create(path, &random), HOST_EXIT_IO); /* never replaced */
    CHECK_EQ_INT(operator_master_key_load(path, loaded), HOST_EXIT_OK);
    CHECK_EQ_MEM(loaded, master, sizeof(master));
    CHECK(chmod(path, 0644) == 0);
    CHECK_EQ_INT(operator_master_key_load(path, loaded), HOST_EXIT_FAILED);
    unlink(path);
    rmdir(folder);
    host_random_close(&random);
}

int main(void)
{
    RUN(test_seal_unseal);
    RUN(test_master_key_file);
    return test_summary();
}
