/*
 * Applying a CLZ1 stream on the host with the device's own decoder: the dictionary and the new
 * image live in one buffer (base, then the image as it is written), so `io->read` is a copy.
 */
#include "delta/delta.h"

#include "core/error.h"

#include <mbedtls/sha256.h>

#include <stdlib.h>
#include <string.h>

typedef struct memory_target {
    uint8_t *dictionary; /* base || new image */
    uint32_t base_size, written, capacity;
} memory_target;

static int memory_read(void *context, uint32_t position, uint8_t *buffer, size_t length)
{
    memory_target *target = context;
    if (position > target->base_size + target->written ||
        length > target->base_size + target->written - position)
        return CELLOTA_INVALID_ARGUMENT; /* the decoder never asks: a bug if it does */
    memcpy(buffer, target->dictionary + position, length);
    return CELLOTA_OK;
}

static int memory_write(void *context, const uint8_t *data, size_t length)
{
    memory_target *target = context;
    if (length > target->capacity - target->written)
        return CELLOTA_IMAGE_DELTA_CORRUPT; /* the decoder checks sizes; kept as a guard */
    memcpy(target->dictionary + target->base_size + target->written, data, length);
    target->written += (uint32_t)length;
    return CELLOTA_OK;
}

int delta_decode(const uint8_t *base, size_t base_size, const uint8_t *stream,
                 size_t stream_size, uint8_t **image, size_t *image_size)
{
    cellota_delta_io io = {NULL, memory_read, memory_write, NULL};
    cellota_delta_header header;
    memory_target target;
    cellota_delta *decoder;
    uint8_t digest[32];
    int result;

    *image = NULL;
    *image_size = 0;
    if (!base)
        base_size = 0;
    if (stream_size < CELLOTA_DELTA_HEADER_SIZE)
        return CELLOTA_IMAGE_DELTA_TRUNCATED;
    if ((result = cellota_delta_header_decode(stream, &header)) != CELLOTA_OK)
        return result;
    /* The base this patch was made for: size and SHA-256, before anything is decoded. */
    if (header.kind == CELLOTA_DELTA_PATCH) {
        if (!base || header.base_size != base_size)
            return CELLOTA_IMAGE_DELTA_WRONG_BASE;
        if (mbedtls_sha256_ret(base, base_size, digest, 0) != 0)
            return CELLOTA_CRYPTO_FAILED;
        if (memcmp(digest, header.base_sha256, 32) != 0)
            return CELLOTA_IMAGE_DELTA_WRONG_BASE;
    } else {
        base_size = 0;
    }
    memset(&target, 0, sizeof(target));
    target.base_size = (uint32_t)base_size;
    target.capacity = header.new_size;
    target.dictionary = malloc((size_t)base_size + header.new_size + 1);
    decoder = malloc(sizeof(*decoder));
    if (!target.dictionary || !decoder) {
        free(target.dictionary);
        free(decoder);
        return -1;
    }
    if (base_size)
        memcpy(target.dictionary, base, base_size);
    io.context = &target;
    cellota_delta_begin(decoder, &io, &header);
    result = cellota_delta_feed(decoder, stream, stream_size);
    if (result == CELLOTA_OK)
        result = cellota_delta_finish(decoder);
    free(decoder);
    if (result == CELLOTA_OK &&
        mbedtls_sha256_ret(target.dictionary + base_size, header.new_size, digest, 0) != 0)
        result = CELLOTA_CRYPTO_FAILED;
    if (result == CELLOTA_OK && memcmp(digest, header.new_sha256, 32) != 0)
        result = CELLOTA_IMAGE_PLAIN_HASH_MISMATCH;
    if (result != CELLOTA_OK) {
        free(target.dictionary);
        return result;
    }
    memmove(target.dictionary, target.dictionary + base_size, header.new_size);
    *image = target.dictionary;
    *image_size = header.new_size;
    return CELLOTA_OK;
}
