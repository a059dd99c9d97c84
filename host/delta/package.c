/* Packing a compressed image or a patch for devices; see delta.h. */
#include "delta/delta.h"

#include "common/cli.h"

#include <mbedtls/sha256.h>

#include <stdlib.h>

int delta_package(host_random *random, const uint8_t *base, size_t base_size,
                  const uint8_t *image, size_t image_size, const delta_options *options,
                  operator_request_fields *fields, uint8_t **encrypted, size_t *stream_size)
{
    uint8_t *stream = NULL;
    int status;

    *encrypted = NULL;
    status = delta_encode(base, base_size, image, image_size, options, &stream, stream_size);
    if (status == HOST_EXIT_OK && *stream_size > OPERATOR_PLAIN_SIZE_MAX)
        status = host_error(HOST_EXIT_USAGE, "the stream is too large for fw_info's sizes");
    /* Compress, then encrypt: ciphertext does not compress. */
    if (status == HOST_EXIT_OK)
        status = operator_package(random, stream, *stream_size, &fields->fw_info, encrypted);
    free(stream);
    if (status != HOST_EXIT_OK)
        return status;
    /* What the device ends up with, and checks after writing and at every boot. */
    fields->fw_info.plain_size = (uint32_t)image_size;
    fields->encoding = base ? CELLOTA_DELTA_PATCH : CELLOTA_DELTA_COMPRESSED;
    fields->base_size = base ? (uint32_t)base_size : 0;
    if (mbedtls_sha256_ret(image, image_size, fields->fw_info.plain_sha256, 0) != 0 ||
        (base && mbedtls_sha256_ret(base, base_size, fields->base_sha256, 0) != 0)) {
        free(*encrypted);
        *encrypted = NULL;
        return host_error(HOST_EXIT_INTERNAL, "SHA-256 failed");
    }
    return HOST_EXIT_OK;
}
