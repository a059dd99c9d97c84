/* Image keys sealed at rest; see seal.h. */
#include "operator/seal.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"

#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char label_prefix[] = "cellota-sealed-key-v1";

/* The additional data: prefix || label, in a malloc'd buffer. */
static uint8_t *additional_data(const char *label, size_t *length)
{
    size_t label_length = strlen(label);
    uint8_t *data = malloc(sizeof(label_prefix) - 1 + label_length);
    if (!data)
        return NULL;
    memcpy(data, label_prefix, sizeof(label_prefix) - 1);
    memcpy(data + sizeof(label_prefix) - 1, label, label_length);
    *length = sizeof(label_prefix) - 1 + label_length;
    return data;
}

int operator_master_key_create(const char *path, host_random *random)
{
    uint8_t master[OPERATOR_MASTER_KEY_SIZE];
    char text[2 * OPERATOR_MASTER_KEY_SIZE + 2];
    int status = host_random_bytes(random, master, sizeof(master));
    if (status != HOST_EXIT_OK)
        return status;
    host_hex_encode(master, sizeof(master), text);
    text[2 * OPERATOR_MASTER_KEY_SIZE] = '\n';
    text[2 * OPERATOR_MASTER_KEY_SIZE + 1] = '\0';
    status = host_write_file(path, text, 2 * OPERATOR_MASTER_KEY_SIZE + 1,
                             HOST_WRITE_PRIVATE | HOST_WRITE_NO_REPLACE);
    mbedtls_platform_zeroize(master, sizeof(master));
    mbedtls_platform_zeroize(text, sizeof(text));
    return status;
}

int operator_master_key_load(const char *path, uint8_t master[OPERATOR_MASTER_KEY_SIZE])
{
    struct stat info;
    uint8_t *text;
    size_t length;
    int status;
    if (stat(path, &info) == 0 && (info.st_mode & 077))
        return host_error(HOST_EXIT_FAILED,
                          "'%s' is readable by others: a master key must be mode 0600", path);
    status = host_read_file(path, 256, &text, &length);
    if (status != HOST_EXIT_OK)
        return status;
    while (length && (text[length - 1] == '\n' || text[length - 1] == '\r'))
        length--;
    if (length != 2 * OPERATOR_MASTER_KEY_SIZE ||
        !host_hex_decode((const char *)text, length, master, OPERATOR_MASTER_KEY_SIZE))
        status = host_error(HOST_EXIT_FAILED, "'%s' is not a master key (64 hex digits)", path);
    mbedtls_platform_zeroize(text, length);
    free(text);
    return status;
}

int operator_seal_key(const uint8_t master[OPERATOR_MASTER_KEY_SIZE], const char *label,
                      const uint8_t key[16], host_random *random,
                      uint8_t sealed[OPERATOR_SEALED_KEY_SIZE])
{
    mbedtls_gcm_context gcm;
    size_t aad_length = 0;
    uint8_t *aad = additional_data(label, &aad_length);
    int status;
    if (!aad)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    status = host_random_bytes(random, sealed, 12); /* a fresh nonce per seal */
    if (status == HOST_EXIT_OK) {
        mbedtls_gcm_init(&gcm);
        if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, master, 256) != 0 ||
            mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, 16, sealed, 12, aad, aad_length,
                                      key, sealed + 12, 16, sealed + 28) != 0)
            status = host_error(HOST_EXIT_INTERNAL, "sealing the key failed");
        mbedtls_gcm_free(&gcm);
    }
    free(aad);
    return status;
}

int operator_unseal_key(const uint8_t master[OPERATOR_MASTER_KEY_SIZE], const char *label,
                        const uint8_t sealed[OPERATOR_SEALED_KEY_SIZE], uint8_t key[16])
{
    mbedtls_gcm_context gcm;
    size_t aad_length = 0;
    uint8_t *aad = additional_data(label, &aad_length);
    int status = HOST_EXIT_OK;
    if (!aad)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    mbedtls_gcm_init(&gcm);
    if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, master, 256) != 0 ||
        mbedtls_gcm_auth_decrypt(&gcm, 16, sealed, 12, aad, aad_length, sealed + 28, 16,
                                 sealed + 12, key) != 0) {
        memset(key, 0, 16);
        status = host_error(HOST_EXIT_FAILED,
                            "the sealed key of '%s' does not open: another "
                            "master key, another release, or altered",
                            label);
    }
    mbedtls_gcm_free(&gcm);
    free(aad);
    return status;
}
