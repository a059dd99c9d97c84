/*
 * The install pipeline's decoding of compressed images and patches (contract in pipeline.h):
 * the CLZ1 decoder between decryption and the flash, its dictionary read back from the running
 * slot and the area, and checkpoints where a segment ends on an erase page. A separate file,
 * reached from the plain pipeline only through the hooks cellota_pipeline_begin_encoded sets,
 * so a build that installs plain images only (the bootloader) links none of it.
 */
#include "image/pipeline.h"
#include "image/pipeline_internal.h"

#include "core/encoding.h"
#include "core/error.h"

#include <string.h>

#define fail cellota_pipeline_internal_fail
#define write_output cellota_pipeline_internal_write

static bool is_stream_error(int error)
{
    return error == CELLOTA_IMAGE_DELTA_CORRUPT || error == CELLOTA_IMAGE_DELTA_TRUNCATED ||
           error == CELLOTA_IMAGE_DELTA_WRONG_BASE || error == CELLOTA_IMAGE_DELTA_MISMATCH;
}

/* The decoder's dictionary: the base in its slot, then the new image -- its last bytes from
 * `history` (some are not on flash yet), the rest from the area. */
static int decoder_read(void *context, uint32_t position, uint8_t *buffer, size_t length)
{
    cellota_pipeline *pipeline = context;
    const cellota_port *port = pipeline->port;
    uint32_t base_size = pipeline->decoder->encoding.kind == CELLOTA_DELTA_PATCH
                             ? pipeline->decoder->encoding.base_size
                             : 0;
    uint32_t output = pipeline->decoder->output;
    int result;

    while (length > 0) {
        uint32_t chunk;
        if (position < base_size) {
            chunk = base_size - position;
            if (chunk > length)
                chunk = (uint32_t)length;
            result = port->flash_read(port->context, pipeline->decoder->encoding.base->address + position,
                                      buffer, chunk);
        } else {
            uint32_t offset = position - base_size;
            if (offset >= output)
                return CELLOTA_INVALID_ARGUMENT; /* the decoder never asks for the future */
            if (offset >= pipeline->decoder->history_start && output - offset <= CELLOTA_PIPELINE_HISTORY) {
                uint32_t at = offset % CELLOTA_PIPELINE_HISTORY;
                chunk = output - offset;
                if (chunk > CELLOTA_PIPELINE_HISTORY - at)
                    chunk = CELLOTA_PIPELINE_HISTORY - at;
                if (chunk > length)
                    chunk = (uint32_t)length;
                memcpy(buffer, pipeline->decoder->history + at, chunk);
                result = CELLOTA_OK;
            } else {
                /* On flash: everything before the restart, and all but the last bytes since. */
                chunk = (offset < pipeline->decoder->history_start ? pipeline->decoder->history_start
                                                          : output - CELLOTA_PIPELINE_HISTORY) -
                        offset;
                if (chunk > length)
                    chunk = (uint32_t)length;
                result = port->flash_read(port->context, pipeline->area->address + offset, buffer,
                                          chunk);
            }
        }
        if (result != CELLOTA_OK)
            return result;
        position += chunk;
        buffer += chunk;
        length -= chunk;
    }
    return CELLOTA_OK;
}

/* The new image's next bytes: hashed, kept in `history`, written 16 bytes at a time. */
static int decoder_write(void *context, const uint8_t *data, size_t length)
{
    cellota_pipeline *pipeline = context;
    cellota_pipeline_checkpoint *now = &pipeline->now;
    int result;

    if (length > pipeline->info->plain_size - pipeline->decoder->output)
        return CELLOTA_IMAGE_DELTA_CORRUPT; /* the decoder checks sizes: a guard */
    if (mbedtls_sha256_update_ret(&now->plain_hash, data, length) != 0)
        return CELLOTA_CRYPTO_FAILED;
    while (length > 0) {
        size_t take = 16u - pipeline->decoder->unit_fill;
        if (take > length)
            take = length;
        memcpy(pipeline->decoder->unit + pipeline->decoder->unit_fill, data, take);
        pipeline->decoder->unit_fill = (uint8_t)(pipeline->decoder->unit_fill + take);
        for (result = 0; (size_t)result < take; result++)
            pipeline->decoder->history[(pipeline->decoder->output + (uint32_t)result) % CELLOTA_PIPELINE_HISTORY] =
                data[result];
        pipeline->decoder->output += (uint32_t)take;
        data += take;
        length -= take;
        if (pipeline->decoder->unit_fill == 16) {
            pipeline->decoder->unit_fill = 0;
            if ((result = write_output(pipeline, pipeline->decoder->output - 16, pipeline->decoder->unit, 16)) !=
                CELLOTA_OK)
                return result;
        }
    }
    return CELLOTA_OK;
}

/* A segment ended: a checkpoint can go there when it is on an erase-page boundary (everything
 * before it is then written) and not the end. */
static void decoder_segment_done(void *context, uint32_t output, uint32_t stream_offset)
{
    cellota_pipeline *pipeline = context;
    if (output % pipeline->area->erase_size != 0 || output >= pipeline->info->plain_size)
        return;
    pipeline->decoder->candidate = true;
    pipeline->decoder->candidate_output = output;
    pipeline->decoder->candidate_stream = pipeline->decoder->stream_origin + stream_offset;
    pipeline->decoder->candidate_hash = pipeline->now.plain_hash;
}

/* Feeds stream bytes to the decoder. A stream error is kept for finish (the ciphertext hash
 * decides whether the download or the stream is at fault) and decoding stops; a flash or
 * crypto error is returned. */
static int decode(cellota_pipeline *pipeline, const uint8_t *data, size_t length)
{
    int result;
    if (pipeline->decoder->decode_error != CELLOTA_OK || length == 0)
        return CELLOTA_OK;
    result = cellota_delta_feed(&pipeline->decoder->delta, data, length);
    if (is_stream_error(result)) {
        pipeline->decoder->decode_error = result;
        return CELLOTA_OK;
    }
    return result;
}

/* One ciphertext block of a compressed image or patch: decrypt, decode, hash; and a checkpoint
 * when a segment ended inside it on a page boundary. */
static int process_encoded_block(cellota_pipeline *pipeline, const uint8_t *cipher)
{
    cellota_pipeline_checkpoint *now = &pipeline->now, *checkpoint = &pipeline->checkpoint;
    uint32_t offset = now->offset;
    uint8_t plain[16], chain[16], skip = pipeline->decoder->skip;
    int result;

    memcpy(chain, now->chain, 16);
    if (mbedtls_aes_crypt_cbc(&pipeline->aes, MBEDTLS_AES_DECRYPT, 16, now->chain, cipher,
                              plain) != 0)
        return CELLOTA_CRYPTO_FAILED;
    if (offset == pipeline->info->encrypted_size - 16) {
        memcpy(pipeline->pending, plain, 16); /* the padding's block: decoded by finish */
    } else {
        pipeline->decoder->skip = 0;
        pipeline->decoder->candidate = false;
        if ((result = decode(pipeline, plain + skip, 16u - skip)) != CELLOTA_OK)
            return result;
        /* A segment that ended inside this block: resume at this block, skipping its start. */
        if (pipeline->decoder->candidate && pipeline->decoder->candidate_stream < offset + 16) {
            checkpoint->offset = offset;
            memcpy(checkpoint->chain, chain, 16);
            checkpoint->encrypted_hash = now->encrypted_hash;
            pipeline->decoder->checkpoint_skip = (uint8_t)(pipeline->decoder->candidate_stream - offset);
            checkpoint->plain_hash = pipeline->decoder->candidate_hash;
            pipeline->decoder->checkpoint_output = pipeline->decoder->candidate_output;
        }
    }
    if (mbedtls_sha256_update_ret(&now->encrypted_hash, cipher, 16) != 0)
        return CELLOTA_CRYPTO_FAILED;
    now->offset += 16;
    /* One that ended with it: resume at the next block. */
    if (pipeline->decoder->candidate && pipeline->decoder->candidate_stream == now->offset) {
        checkpoint->offset = now->offset;
        memcpy(checkpoint->chain, now->chain, 16);
        checkpoint->encrypted_hash = now->encrypted_hash;
        pipeline->decoder->checkpoint_skip = 0;
        checkpoint->plain_hash = pipeline->decoder->candidate_hash;
        pipeline->decoder->checkpoint_output = pipeline->decoder->candidate_output;
    }
    pipeline->decoder->candidate = false;
    return CELLOTA_OK;
}

/* The end of a compressed image or patch: the padding, the stream's last bytes, the decoder's
 * verdict, the last partial write and the new image's hash. */
static int finish_encoded(cellota_pipeline *pipeline)
{
    const cellota_flash_area *area = pipeline->area;
    cellota_pipeline_checkpoint *now = &pipeline->now;
    uint8_t digest[32], skip = pipeline->decoder->skip;
    uint32_t kept, written;
    int result;

    if ((result = cellota_pipeline_internal_unpad(pipeline, &kept)) != CELLOTA_OK)
        return result;
    if (skip > kept)
        return CELLOTA_IMAGE_DELTA_CORRUPT; /* a checkpoint past the stream's end */
    if ((result = decode(pipeline, pipeline->pending + skip, kept - skip)) != CELLOTA_OK)
        return result;
    if (pipeline->decoder->decode_error == CELLOTA_OK)
        pipeline->decoder->decode_error = cellota_delta_finish(&pipeline->decoder->delta);
    if (pipeline->decoder->decode_error != CELLOTA_OK)
        return pipeline->decoder->decode_error;
    if (pipeline->decoder->output != pipeline->info->plain_size)
        return CELLOTA_IMAGE_SIZE_MISMATCH;
    /* The last bytes go out in whole write units, the rest of the last one left erased. */
    written = (pipeline->decoder->unit_fill + area->write_size - 1) & ~(area->write_size - 1);
    if (written > 0) {
        memset(pipeline->decoder->unit + pipeline->decoder->unit_fill, area->erased_value,
               written - pipeline->decoder->unit_fill);
        result = write_output(pipeline, pipeline->decoder->output - pipeline->decoder->unit_fill, pipeline->decoder->unit, written);
        if (result != CELLOTA_OK)
            return result;
    }
    if (mbedtls_sha256_finish_ret(&now->plain_hash, digest) != 0)
        return CELLOTA_CRYPTO_FAILED;
    return memcmp(digest, pipeline->info->plain_sha256, 32) == 0 ? CELLOTA_OK
                                                                 : CELLOTA_IMAGE_PLAIN_HASH_MISMATCH;
}

/* Checks the encoded part of a restored checkpoint (bytes 232..239) and starts the decoder at
 * it: from the header at offset 0, else at the segment the checkpoint begins. */
static int restore_decoder(cellota_pipeline *pipeline, const uint8_t *in)
{
    const cellota_pipeline_encoding *encoding = &pipeline->decoder->encoding;
    const cellota_fw_info *info = pipeline->info;
    cellota_pipeline_checkpoint *checkpoint = &pipeline->checkpoint;
    cellota_delta_header header;
    uint8_t unit_log2 = in[2];

    cellota_load_u32(in + 4, &pipeline->decoder->checkpoint_output);
    pipeline->decoder->checkpoint_skip = in[1];
    if (in[0] != encoding->kind || in[3] != 0 || pipeline->decoder->checkpoint_skip >= 16 ||
        checkpoint->plain_hash.total[0] != pipeline->decoder->checkpoint_output ||
        checkpoint->plain_hash.total[1] != 0)
        return CELLOTA_IMAGE_STATE_INVALID;
    if (checkpoint->offset == 0 && pipeline->decoder->checkpoint_output == 0)
        return pipeline->decoder->checkpoint_skip == 0 ? CELLOTA_OK : CELLOTA_IMAGE_STATE_INVALID;
    if (pipeline->decoder->checkpoint_output % pipeline->area->erase_size != 0 ||
        pipeline->decoder->checkpoint_output >= info->plain_size || unit_log2 < CELLOTA_DELTA_UNIT_LOG2_MIN ||
        unit_log2 > CELLOTA_DELTA_UNIT_LOG2_MAX || pipeline->decoder->checkpoint_output % (1u << unit_log2) != 0 ||
        checkpoint->offset + pipeline->decoder->checkpoint_skip < CELLOTA_DELTA_HEADER_SIZE)
        return CELLOTA_IMAGE_STATE_INVALID;
    memset(&header, 0, sizeof(header));
    header.kind = encoding->kind;
    header.unit_log2 = unit_log2;
    header.new_size = info->plain_size;
    memcpy(header.new_sha256, info->plain_sha256, 32);
    if (encoding->kind == CELLOTA_DELTA_PATCH) {
        header.base_size = encoding->base_size;
        memcpy(header.base_sha256, encoding->base_sha256, 32);
    }
    pipeline->decoder->stream_origin = checkpoint->offset + pipeline->decoder->checkpoint_skip;
    pipeline->decoder->history_start = pipeline->decoder->checkpoint_output;
    pipeline->decoder->skip = pipeline->decoder->checkpoint_skip;
    return cellota_delta_resume(&pipeline->decoder->delta, &pipeline->decoder->io, &header, pipeline->decoder->checkpoint_output) ==
                   CELLOTA_OK
               ? CELLOTA_OK
               : CELLOTA_IMAGE_STATE_INVALID;
}

int cellota_pipeline_begin_encoded(cellota_pipeline *pipeline, const cellota_port *port,
                                   const cellota_flash_area *area, const cellota_fw_info *info,
                                   const cellota_pipeline_encoding *encoding,
                                   cellota_pipeline_decoder *decoder)
{
    cellota_delta_header expected;
    int result;

    if (!encoding || encoding->kind == 0)
        return cellota_pipeline_begin(pipeline, port, area, info);
    result = cellota_pipeline_internal_start(pipeline, port, area, info, true);
    if (result != CELLOTA_OK)
        return result;
    if (!decoder)
        return fail(pipeline, CELLOTA_IMAGE_ENCODING_UNSUPPORTED);
    if (!area || (encoding->kind != CELLOTA_DELTA_COMPRESSED &&
                  (encoding->kind != CELLOTA_DELTA_PATCH || !encoding->base ||
                   encoding->base_size > encoding->base->size)))
        return fail(pipeline, CELLOTA_INVALID_ARGUMENT);
    pipeline->decoder = decoder;
    memset(decoder, 0, sizeof(*decoder) - sizeof(decoder->delta));
    decoder->encoding = *encoding;
    decoder->process_block = process_encoded_block;
    decoder->finish = finish_encoded;
    decoder->io.context = pipeline;
    decoder->io.read = decoder_read;
    decoder->io.write = decoder_write;
    decoder->io.segment_done = decoder_segment_done;
    memset(&expected, 0, sizeof(expected));
    expected.kind = encoding->kind;
    expected.new_size = info->plain_size;
    memcpy(expected.new_sha256, info->plain_sha256, 32);
    if (encoding->kind == CELLOTA_DELTA_PATCH) {
        expected.base_size = encoding->base_size;
        memcpy(expected.base_sha256, encoding->base_sha256, 32);
    }
    cellota_delta_begin(&decoder->delta, &decoder->io, &expected);
    return CELLOTA_OK;
}

/* The restore hook: the decoder's part of the state, and the decoder started at it. */
static int restore_hook(cellota_pipeline *pipeline, const uint8_t *rest, uint32_t *erased_end)
{
    int result = restore_decoder(pipeline, rest);
    pipeline->decoder->output = pipeline->decoder->checkpoint_output;
    *erased_end = pipeline->decoder->checkpoint_output;
    return result;
}

int cellota_pipeline_restore_encoded(cellota_pipeline *pipeline, const cellota_port *port,
                                     const cellota_flash_area *area, const cellota_fw_info *info,
                                     const cellota_pipeline_encoding *encoding,
                                     cellota_pipeline_decoder *decoder,
                                     const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    int result;
    if (!encoding || encoding->kind == 0)
        return cellota_pipeline_restore(pipeline, port, area, info, state);
    result = cellota_pipeline_begin_encoded(pipeline, port, area, info, encoding, decoder);
    return result != CELLOTA_OK ? result
                                : cellota_pipeline_internal_restore(pipeline, state, restore_hook);
}
