/* Requests for one device with a wrapped image key; see device_request.h. */
#include "operator/device_request.h"

#include "common/cli.h"
#include "common/file.h"
#include "core/error.h"
#include "operator/keys.h"
#include "operator/request.h"

#include <mbedtls/ecdh.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include <stdlib.h>
#include <string.h>

#define CERTIFICATE_FILE_MAX (64 * 1024)

static int crypto_error(const char *what, int status)
{
    return host_error(HOST_EXIT_INTERNAL, "%s failed (mbedTLS -0x%04x)", what, (unsigned)-status);
}

int operator_key_wrap(const uint8_t device_public[CELLOTA_PUBLIC_KEY_SIZE], const char *device_id,
                      const uint8_t key[16], host_random *random,
                      uint8_t wrapped[CELLOTA_WRAPPED_KEY_SIZE])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point device, ephemeral_public;
    mbedtls_mpi ephemeral_secret, shared;
    uint8_t shared_x[32], kek[CELLOTA_KEY_WRAP_KEK_SIZE];
    size_t written = 0;
    int status = HOST_EXIT_OK, crypto;

    if (strlen(device_id) > CELLOTA_REQUEST_DEVICE_MAX)
        return host_error(HOST_EXIT_USAGE, "device id '%s' is longer than %d", device_id,
                          CELLOTA_REQUEST_DEVICE_MAX);
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&device);
    mbedtls_ecp_point_init(&ephemeral_public);
    mbedtls_mpi_init(&ephemeral_secret);
    mbedtls_mpi_init(&shared);
    if ((crypto = mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1)) != 0) {
        status = crypto_error("loading P-256", crypto);
        goto done;
    }
    if (mbedtls_ecp_point_read_binary(&group, &device, device_public, CELLOTA_PUBLIC_KEY_SIZE) !=
            0 ||
        mbedtls_ecp_check_pubkey(&group, &device) != 0) {
        status = host_error(HOST_EXIT_FAILED, "the device's public key is not a P-256 point");
        goto done;
    }
    /* a fresh ephemeral key per wrap */
    if ((crypto = mbedtls_ecdh_gen_public(&group, &ephemeral_secret, &ephemeral_public,
                                          mbedtls_ctr_drbg_random, &random->generator)) != 0 ||
        (crypto = mbedtls_ecp_point_write_binary(
             &group, &ephemeral_public, MBEDTLS_ECP_PF_UNCOMPRESSED, &written, wrapped, 65)) != 0 ||
        (crypto = mbedtls_ecdh_compute_shared(&group, &shared, &device, &ephemeral_secret,
                                              mbedtls_ctr_drbg_random, &random->generator)) != 0 ||
        (crypto = mbedtls_mpi_write_binary(&shared, shared_x, sizeof(shared_x))) != 0) {
        status = crypto_error("ECDH with the device's key", crypto);
        goto done;
    }
    if (cellota_key_wrap_kek(shared_x, wrapped, device_id, kek) != CELLOTA_OK ||
        cellota_aes_key_wrap(kek, key, wrapped + 65) != CELLOTA_OK)
        status = host_error(HOST_EXIT_INTERNAL, "wrapping the image key failed");
done:
    mbedtls_platform_zeroize(shared_x, sizeof(shared_x));
    mbedtls_platform_zeroize(kek, sizeof(kek));
    mbedtls_mpi_free(&shared);
    mbedtls_mpi_free(&ephemeral_secret);
    mbedtls_ecp_point_free(&ephemeral_public);
    mbedtls_ecp_point_free(&device);
    mbedtls_ecp_group_free(&group);
    return status;
}

int operator_certificate_public_key(const mbedtls_x509_crt *certificate,
                                    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE])
{
    if (mbedtls_pk_get_type(&certificate->pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(certificate->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return HOST_EXIT_FAILED;
    return operator_key_public_point(&certificate->pk, point);
}

int operator_device_public_key(const char *certificate_path, uint8_t point[CELLOTA_PUBLIC_KEY_SIZE])
{
    mbedtls_x509_crt certificate;
    uint8_t *text;
    size_t length;
    int status = host_read_file(certificate_path, CERTIFICATE_FILE_MAX, &text, &length);
    if (status != HOST_EXIT_OK)
        return status;
    mbedtls_x509_crt_init(&certificate);
    if (mbedtls_x509_crt_parse(&certificate, text, length + 1) != 0)
        status = host_error(HOST_EXIT_FAILED, "'%s' is not a certificate", certificate_path);
    else if (operator_certificate_public_key(&certificate, point) != HOST_EXIT_OK)
        status = host_error(HOST_EXIT_FAILED, "'%s' does not hold a P-256 key", certificate_path);
    mbedtls_x509_crt_free(&certificate);
    free(text);
    return status;
}

int operator_request_for_device(const char *release_json, size_t length, const char *device_id,
                                const uint8_t device_public[CELLOTA_PUBLIC_KEY_SIZE],
                                mbedtls_pk_context *sign_key, host_random *random, char **json)
{
    cellota_update_request release, written;
    operator_request_fields fields;
    uint8_t wrapped[CELLOTA_WRAPPED_KEY_SIZE];
    int status = cellota_request_parse(&release, release_json, length);

    *json = NULL;
    if (status != CELLOTA_OK)
        return host_cellota_error("the release's request", status);
    if (release.device[0] || release.has_wrapped_key)
        return host_error(HOST_EXIT_FAILED, "the release's request is already for one device");
    status = operator_key_wrap(device_public, device_id, release.fw_info.key, random, wrapped);
    if (status != HOST_EXIT_OK)
        return status;
    memset(&fields, 0, sizeof(fields));
    fields.url = release.url;
    fields.alt_url = release.alt_url;
    fields.version = release.version;
    fields.id = release.id;
    fields.fw_info = release.fw_info;
    memset(fields.fw_info.key, 0, sizeof(fields.fw_info.key)); /* only the wrapped form leaves */
    /* a compressed image or patch stays one: the device needs them to decode what it fetches */
    fields.encoding = release.encoding;
    fields.base_size = release.base_size;
    memcpy(fields.base_sha256, release.base_sha256, sizeof(fields.base_sha256));
    fields.device = device_id;
    fields.wrapped_key = wrapped;
    status = operator_request_write(&fields, sign_key, random, &written, json);
    mbedtls_platform_zeroize(&release, sizeof(release));
    mbedtls_platform_zeroize(&fields, sizeof(fields));
    return status;
}
