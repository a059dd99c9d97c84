/*
 * What the two CLZ1 fuzz targets share: the decoder run over memory with a bounded output, fed
 * in chunks chosen by the input, with every contract of cellota_delta_io checked -- it never
 * reads a dictionary byte that is not there yet, never writes past the header's new size, a
 * segment_done names a boundary it has reached, and OK from finish means exactly new_size bytes
 * were written.
 *
 * Input: byte 0 chooses the chunk sizes; bit 7 of byte 1 set means the rest is a whole stream
 * (header included), clear means the header is made here (kind, unit 2^10, new size from
 * bytes 2..3, the base's real size and hash, the new hash all zero so only the structure is
 * tested) and the rest are its segments.
 */
#ifndef CELLOTA_FUZZ_DELTA_HARNESS_H
#define CELLOTA_FUZZ_DELTA_HARNESS_H

#include "core/error.h"
#include "image/delta.h"

#include "../tests/image_maker.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HARNESS_OUTPUT_MAX (256u * 1024)

typedef struct harness {
    const uint8_t *base;
    uint32_t base_size, written, capacity, last_segment;
    uint8_t *output;
} harness;

static void harness_check(int condition)
{
    if (!condition)
        abort();
}

static int harness_read(void *context, uint32_t position, uint8_t *buffer, size_t length)
{
    harness *state = context;
    size_t index;
    harness_check(length > 0 && position + length <= state->base_size + state->written &&
                  position + length > position);
    for (index = 0; index < length; index++, position++)
        buffer[index] = position < state->base_size ? state->base[position]
                                                    : state->output[position - state->base_size];
    return CELLOTA_OK;
}

static int harness_write(void *context, const uint8_t *data, size_t length)
{
    harness *state = context;
    harness_check(length <= state->capacity - state->written);
    memcpy(state->output + state->written, data, length);
    state->written += (uint32_t)length;
    return CELLOTA_OK;
}

static void harness_segment_done(void *context, uint32_t output, uint32_t stream_offset)
{
    harness *state = context;
    (void)stream_offset;
    harness_check(output == state->written && output > state->last_segment);
    state->last_segment = output;
}

static void harness_run(const uint8_t *data, size_t size, uint8_t kind, const uint8_t *base,
                        uint32_t base_size)
{
    static cellota_delta decoder;
    cellota_delta_io io = {NULL, harness_read, harness_write, harness_segment_done};
    cellota_delta_header header;
    uint8_t header_bytes[CELLOTA_DELTA_HEADER_SIZE];
    harness state;
    uint64_t chunks;
    bool made_header = !(size >= 2 && (data[1] & 0x80));
    int result = CELLOTA_OK;

    if (size < 4)
        return;
    chunks = data[0];
    memset(&state, 0, sizeof(state));
    state.base = base;
    state.base_size = kind == CELLOTA_DELTA_PATCH ? base_size : 0;
    memset(&header, 0, sizeof(header));
    if (!made_header) {
        data += 2;
        size -= 2;
        if (size < CELLOTA_DELTA_HEADER_SIZE ||
            cellota_delta_header_decode(data, &header) != CELLOTA_OK)
            return;
        if (header.new_size > HARNESS_OUTPUT_MAX || header.kind != kind ||
            header.base_size != state.base_size)
            return; /* another target's input, or more output than the harness holds */
    } else {
        header.kind = kind;
        header.unit_log2 = 10;
        header.new_size = (uint32_t)data[2] | (uint32_t)(data[3] & 0x3F) << 8;
        header.base_size = state.base_size;
        if (kind == CELLOTA_DELTA_PATCH)
            mbedtls_sha256_ret(base, base_size, header.base_sha256, 0);
        cellota_delta_header_encode(&header, header_bytes);
        data += 4;
        size -= 4;
    }
    state.capacity = header.new_size;
    state.output = malloc(header.new_size ? header.new_size : 1);
    io.context = &state;
    cellota_delta_begin(&decoder, &io, &header);
    if (made_header) /* the stream starts with it */
        result = cellota_delta_feed(&decoder, header_bytes, sizeof(header_bytes));
    while (size > 0 && result == CELLOTA_OK) {
        size_t chunk = 1 + (size_t)(test_random(&chunks) % (chunks % 3 == 0 ? 7 : 900));
        if (chunk > size)
            chunk = size;
        result = cellota_delta_feed(&decoder, data, chunk);
        harness_check(cellota_delta_feed(&decoder, data, 0) == result); /* sticky */
        data += chunk;
        size -= chunk;
    }
    result = cellota_delta_finish(&decoder);
    harness_check(result == CELLOTA_OK || result == CELLOTA_IMAGE_DELTA_CORRUPT ||
                  result == CELLOTA_IMAGE_DELTA_TRUNCATED ||
                  result == CELLOTA_IMAGE_DELTA_MISMATCH ||
                  result == CELLOTA_IMAGE_DELTA_WRONG_BASE);
    if (result == CELLOTA_OK)
        harness_check(state.written == header.new_size);
    free(state.output);
}

#endif
