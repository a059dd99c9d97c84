/*
 * libFuzzer target for the install pipeline against the strict flash simulator.
 *
 * Input: a 8-byte header, then the body.
 *   byte 0     mode: bit 0 set = the body is a plain image that is packed here (a valid image,
 *              then damaged at the positions bytes 4..7 give), clear = the body is the download
 *              itself, with fw_info's encrypted hash made to match it (so decryption, padding
 *              and the plain hash are reached) and a plain hash from nowhere
 *              bit 1 = stop halfway, save, "reset" and restore before going on
 *   byte 1     chunk size seed; bytes 2..3 plain size (mode 0; mode 1 uses the body's length)
 *   bytes 4..7 damage: position (16 bits) and xor mask (mode 1)
 * The key and IV are fixed. Checks: no flash rule is broken and nothing outside the area
 * changes; finish says OK only when the flash holds plain_size bytes whose SHA-256 is fw_info's
 * plain hash and the download's SHA-256 is fw_info's encrypted hash.
 */
#include "core/error.h"
#include "flash_sim.h"
#include "image/pipeline.h"

#include "../tests/image_maker.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 1024
#define AREA_OFFSET (2 * PAGE)
#define AREA_SIZE (16 * PAGE)
#define FLASH_SIZE (AREA_OFFSET + AREA_SIZE + 2 * PAGE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int condition)
{
    if (!condition)
        abort();
}

/* Feeds [from, to) in chunks whose sizes follow `seed`. */
static int feed(cellota_pipeline *pipeline, const uint8_t *stream, uint32_t from, uint32_t to,
                uint8_t seed)
{
    uint64_t state = seed;
    while (from < to) {
        uint32_t chunk = 1 + (uint32_t)(test_random(&state) % (seed % 4 == 0 ? 17 : 600));
        int result;
        if (chunk > to - from)
            chunk = to - from;
        result = cellota_pipeline_feed(pipeline, stream + from, chunk);
        if (result != CELLOTA_OK)
            return result;
        from += chunk;
    }
    return CELLOTA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cellota_flash_area geometry = {0x10000, FLASH_SIZE, PAGE, 4, 0xFF};
    cellota_flash_area area = {0x10000 + AREA_OFFSET, AREA_SIZE, PAGE, 4, 0xFF};
    cellota_pipeline pipeline;
    cellota_port port;
    flash_sim flash;
    test_image image;
    const uint8_t *stream;
    uint8_t digest[32], state[CELLOTA_PIPELINE_STATE_SIZE];
    uint32_t stream_size, half;
    size_t index;
    int result;

    if (size < 8 || size > 8 + AREA_SIZE + PAGE)
        return 0;
    memset(&image, 0, sizeof(image));
    if (data[0] & 1) {
        /* A valid image of the body, then one damaged byte (mask 0: undamaged). */
        test_image_make(&image, (uint32_t)(size - 8), data[1]);
        memcpy(image.plain, data + 8, size - 8);
        {
            uint32_t padded = image.info.encrypted_size, plain = image.info.plain_size;
            uint8_t *buffer = malloc(padded);
            memcpy(buffer, image.plain, plain);
            memset(buffer + plain, (int)(padded - plain), padded - plain);
            mbedtls_sha256_ret(image.plain, plain, image.info.plain_sha256, 0);
            test_image_encrypt(&image, buffer, padded);
            free(buffer);
        }
        image.cipher[(data[4] | data[5] << 8) % image.cipher_size] ^= data[6];
        stream = image.cipher;
        stream_size = image.cipher_size;
    } else {
        /* The body is the download; fw_info claims a plain size from the header. */
        stream = data + 8;
        stream_size = (uint32_t)(size - 8);
        image.info.plain_size = (uint32_t)(data[2] | data[3] << 8) % (AREA_SIZE + 64);
        image.info.encrypted_size = cellota_fw_info_padded_size(image.info.plain_size);
        for (index = 0; index < 16; index++)
            image.info.key[index] = image.info.iv[index] = (uint8_t)index;
        mbedtls_sha256_ret(stream, stream_size, image.info.encrypted_sha256, 0);
        memset(image.info.plain_sha256, data[7], 32);
    }

    check(flash_sim_create(&flash, &geometry) == CELLOTA_OK);
    memset(&port, 0, sizeof(port));
    port.context = &flash;
    port.flash_read = flash_sim_read;
    port.flash_write = flash_sim_write;
    port.flash_erase = flash_sim_erase;

    result = cellota_pipeline_begin(&pipeline, &port, &area, &image.info);
    if (result == CELLOTA_OK) {
        half = (data[0] & 2) ? stream_size / 2 : stream_size;
        result = feed(&pipeline, stream, 0, half, data[1]);
        if (result == CELLOTA_OK && half < stream_size) {
            cellota_pipeline_save(&pipeline, state);
            memset(&pipeline, 0x5A, sizeof(pipeline));
            check(cellota_pipeline_restore(&pipeline, &port, &area, &image.info, state) ==
                  CELLOTA_OK);
            check(cellota_pipeline_offset(&pipeline) <= half);
            result =
                feed(&pipeline, stream, cellota_pipeline_offset(&pipeline), stream_size, data[1]);
        }
        if (result == CELLOTA_OK)
            result = cellota_pipeline_finish(&pipeline);
    }

    check(flash.violations == 0);
    for (index = 0; index < FLASH_SIZE; index++) {
        if (index < AREA_OFFSET || index >= AREA_OFFSET + AREA_SIZE)
            check(flash.memory[index] == 0xFF);
    }
    if (result == CELLOTA_OK) {
        check(stream_size == image.info.encrypted_size);
        mbedtls_sha256_ret(stream, stream_size, digest, 0);
        check(memcmp(digest, image.info.encrypted_sha256, 32) == 0);
        mbedtls_sha256_ret(flash.memory + AREA_OFFSET, image.info.plain_size, digest, 0);
        check(memcmp(digest, image.info.plain_sha256, 32) == 0);
        if (data[0] & 1)
            check(memcmp(flash.memory + AREA_OFFSET, data + 8, size - 8) == 0);
    } else if ((data[0] & 1) && data[6] == 0) {
        abort(); /* an undamaged image must install */
    }
    flash_sim_destroy(&flash);
    test_image_free(&image);
    return 0;
}
