/*
 * The streaming verify-decrypt-write pipeline (contract in pipeline.h).
 *
 * Data path per 16-byte ciphertext block: SHA-256 of the ciphertext, AES-128-CBC decrypt, and
 * unless it is the last block, SHA-256 of the plaintext and a flash write at the same offset
 * (CBC keeps plain and cipher offsets equal until the padding). The last block is known by
 * encrypted_size; it is held back until finish, which checks the padding and writes only the
 * plain bytes. Whole blocks coming in one chunk are hashed with one call, up to the next
 * checkpoint, so the cost per byte stays close to that of AES and SHA-256 alone.
 *
 * A checkpoint is a copy of the running state taken at each erase-page boundary, after the page
 * before it is completely written; save serialises it and restore starts from it.
 */
#include "image/pipeline.h"

#include "core/compiler.h"
#include "core/error.h"
#include "core/encoding.h"

#include <string.h>

#define STATE_MAGIC "CLP1"
/* Checkpoint offsets are multiples of 16, so a SHA-256 context holds at most 48 buffered bytes. */
#define HASH_BUFFER_SAVED 48
#define STATE_CHECKSUM_AT (CELLOTA_PIPELINE_STATE_SIZE - 16)

static CELLOTA_OUT_OF_LINE int fail(cellota_pipeline *pipeline, int error)
{
    pipeline->error = error;
    mbedtls_aes_free(&pipeline->aes); /* wipes the key schedule */
    return error;
}

static int hash_starts(mbedtls_sha256_context *hash)
{
    mbedtls_sha256_init(hash);
    return mbedtls_sha256_starts_ret(hash, 0) ? CELLOTA_CRYPTO_FAILED : CELLOTA_OK;
}

static bool encoded(const cellota_pipeline *pipeline)
{
    return pipeline->encoding != NULL;
}

static int decoder_read(void *context, uint32_t position, uint8_t *buffer, size_t length);
static int decoder_write(void *context, const uint8_t *data, size_t length);
static void decoder_segment_done(void *context, uint32_t output, uint32_t stream_offset);

int cellota_pipeline_begin_encoded(cellota_pipeline *pipeline, const cellota_port *port,
                                   const cellota_flash_area *area, const cellota_fw_info *info,
                                   const cellota_pipeline_encoding *encoding,
                                   cellota_delta *decoder)
{
    memset(pipeline, 0, sizeof(*pipeline));
    mbedtls_aes_init(&pipeline->aes);
    pipeline->port = port;
    pipeline->area = area;
    pipeline->info = info;
    pipeline->interval = CELLOTA_PIPELINE_HASH_ONLY_INTERVAL;
    if (encoding && encoding->kind != 0) {
        if (!decoder)
            return fail(pipeline, CELLOTA_IMAGE_ENCODING_UNSUPPORTED);
        if (!area || (encoding->kind != CELLOTA_DELTA_COMPRESSED &&
                      (encoding->kind != CELLOTA_DELTA_PATCH || !encoding->base ||
                       encoding->base_size > encoding->base->size)))
            return fail(pipeline, CELLOTA_INVALID_ARGUMENT);
        /* Whole blocks holding at least a stream header and the padding. */
        if (info->encrypted_size % 16 != 0 ||
            info->encrypted_size < CELLOTA_DELTA_HEADER_SIZE + 16)
            return fail(pipeline, CELLOTA_IMAGE_FW_INFO_SIZES);
        pipeline->encoding = encoding;
        pipeline->decoder = decoder;
    } else if (info->encrypted_size <= info->plain_size ||
               info->encrypted_size != cellota_fw_info_padded_size(info->plain_size)) {
        return fail(pipeline, CELLOTA_IMAGE_FW_INFO_SIZES);
    }
    if (area) {
        uint32_t write_size = area->write_size;
        if (!port || area->erase_size == 0 || area->erase_size % 16 != 0 || write_size == 0 ||
            write_size > 16 || (write_size & (write_size - 1)) != 0)
            return fail(pipeline, CELLOTA_INVALID_ARGUMENT);
        if (info->plain_size > area->size)
            return fail(pipeline, CELLOTA_IMAGE_TOO_LARGE);
        /* Encoded: checkpoints come from the stream's segments, found block by block. */
        pipeline->interval = encoded(pipeline) ? 16 : area->erase_size;
        if (mbedtls_aes_setkey_dec(&pipeline->aes, info->key, 128) != 0)
            return fail(pipeline, CELLOTA_CRYPTO_FAILED);
    }
    memcpy(pipeline->now.chain, info->iv, 16);
    if (hash_starts(&pipeline->now.encrypted_hash) != CELLOTA_OK ||
        hash_starts(&pipeline->now.plain_hash) != CELLOTA_OK)
        return fail(pipeline, CELLOTA_CRYPTO_FAILED);
    pipeline->checkpoint = pipeline->now;
    if (encoded(pipeline)) {
        cellota_delta_header expected;
        memset(&expected, 0, sizeof(expected));
        expected.kind = encoding->kind;
        expected.new_size = info->plain_size;
        memcpy(expected.new_sha256, info->plain_sha256, 32);
        if (encoding->kind == CELLOTA_DELTA_PATCH) {
            expected.base_size = encoding->base_size;
            memcpy(expected.base_sha256, encoding->base_sha256, 32);
        }
        pipeline->io.context = pipeline;
        pipeline->io.read = decoder_read;
        pipeline->io.write = decoder_write;
        pipeline->io.segment_done = decoder_segment_done;
        cellota_delta_begin(decoder, &pipeline->io, &expected);
    }
    return CELLOTA_OK;
}

int cellota_pipeline_begin(cellota_pipeline *pipeline, const cellota_port *port,
                           const cellota_flash_area *area, const cellota_fw_info *info)
{
    return cellota_pipeline_begin_encoded(pipeline, port, area, info, NULL, NULL);
}

/* Writes `length` (<= 16) plain bytes at area offset `position`, a multiple of 16, erasing the
 * erase page first when this is the first write into it. A block never straddles two pages
 * because the erase size is a multiple of 16. */
static int write_plain(cellota_pipeline *pipeline, uint32_t position, const uint8_t *data,
                       size_t length)
{
    const cellota_flash_area *area = pipeline->area;
    const cellota_port *port = pipeline->port;
    uint32_t page = position - position % area->erase_size;
    int result;

    if (page >= pipeline->erased_end) {
        result = port->flash_erase(port->context, area->address + page, area->erase_size);
        if (result != CELLOTA_OK)
            return result;
        pipeline->erased_end = page + area->erase_size;
    }
    return port->flash_write(port->context, area->address + position, data, length);
}

/* --- compressed images and patches ------------------------------------------------------ */

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
    uint32_t base_size = pipeline->encoding->kind == CELLOTA_DELTA_PATCH
                             ? pipeline->encoding->base_size
                             : 0;
    uint32_t output = pipeline->now.output;
    int result;

    while (length > 0) {
        uint32_t chunk;
        if (position < base_size) {
            chunk = base_size - position;
            if (chunk > length)
                chunk = (uint32_t)length;
            result = port->flash_read(port->context, pipeline->encoding->base->address + position,
                                      buffer, chunk);
        } else {
            uint32_t offset = position - base_size;
            if (offset >= output)
                return CELLOTA_INVALID_ARGUMENT; /* the decoder never asks for the future */
            if (offset >= pipeline->history_start && output - offset <= CELLOTA_PIPELINE_HISTORY) {
                uint32_t at = offset % CELLOTA_PIPELINE_HISTORY;
                chunk = output - offset;
                if (chunk > CELLOTA_PIPELINE_HISTORY - at)
                    chunk = CELLOTA_PIPELINE_HISTORY - at;
                if (chunk > length)
                    chunk = (uint32_t)length;
                memcpy(buffer, pipeline->history + at, chunk);
                result = CELLOTA_OK;
            } else {
                /* On flash: everything before the restart, and all but the last bytes since. */
                chunk = (offset < pipeline->history_start ? pipeline->history_start
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

    if (length > pipeline->info->plain_size - now->output)
        return CELLOTA_IMAGE_DELTA_CORRUPT; /* the decoder checks sizes: a guard */
    if (mbedtls_sha256_update_ret(&now->plain_hash, data, length) != 0)
        return CELLOTA_CRYPTO_FAILED;
    while (length > 0) {
        size_t take = 16u - pipeline->unit_fill;
        if (take > length)
            take = length;
        memcpy(pipeline->unit + pipeline->unit_fill, data, take);
        pipeline->unit_fill = (uint8_t)(pipeline->unit_fill + take);
        for (result = 0; (size_t)result < take; result++)
            pipeline->history[(now->output + (uint32_t)result) % CELLOTA_PIPELINE_HISTORY] =
                data[result];
        now->output += (uint32_t)take;
        data += take;
        length -= take;
        if (pipeline->unit_fill == 16) {
            pipeline->unit_fill = 0;
            if ((result = write_plain(pipeline, now->output - 16, pipeline->unit, 16)) !=
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
    pipeline->candidate = true;
    pipeline->candidate_output = output;
    pipeline->candidate_stream = pipeline->stream_origin + stream_offset;
    pipeline->candidate_hash = pipeline->now.plain_hash;
}

/* Feeds stream bytes to the decoder. A stream error is kept for finish (the ciphertext hash
 * decides whether the download or the stream is at fault) and decoding stops; a flash or
 * crypto error is returned. */
static int decode(cellota_pipeline *pipeline, const uint8_t *data, size_t length)
{
    int result;
    if (pipeline->decode_error != CELLOTA_OK || length == 0)
        return CELLOTA_OK;
    result = cellota_delta_feed(pipeline->decoder, data, length);
    if (is_stream_error(result)) {
        pipeline->decode_error = result;
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
    uint8_t plain[16], chain[16], skip = pipeline->skip;
    int result;

    memcpy(chain, now->chain, 16);
    if (mbedtls_aes_crypt_cbc(&pipeline->aes, MBEDTLS_AES_DECRYPT, 16, now->chain, cipher,
                              plain) != 0)
        return CELLOTA_CRYPTO_FAILED;
    if (offset == pipeline->info->encrypted_size - 16) {
        memcpy(pipeline->pending, plain, 16); /* the padding's block: decoded by finish */
    } else {
        pipeline->skip = 0;
        pipeline->candidate = false;
        if ((result = decode(pipeline, plain + skip, 16u - skip)) != CELLOTA_OK)
            return result;
        /* A segment that ended inside this block: resume at this block, skipping its start. */
        if (pipeline->candidate && pipeline->candidate_stream < offset + 16) {
            checkpoint->offset = offset;
            memcpy(checkpoint->chain, chain, 16);
            checkpoint->encrypted_hash = now->encrypted_hash;
            checkpoint->skip = (uint8_t)(pipeline->candidate_stream - offset);
            checkpoint->plain_hash = pipeline->candidate_hash;
            checkpoint->output = pipeline->candidate_output;
        }
    }
    if (mbedtls_sha256_update_ret(&now->encrypted_hash, cipher, 16) != 0)
        return CELLOTA_CRYPTO_FAILED;
    now->offset += 16;
    /* One that ended with it: resume at the next block. */
    if (pipeline->candidate && pipeline->candidate_stream == now->offset) {
        checkpoint->offset = now->offset;
        memcpy(checkpoint->chain, now->chain, 16);
        checkpoint->encrypted_hash = now->encrypted_hash;
        checkpoint->skip = 0;
        checkpoint->plain_hash = pipeline->candidate_hash;
        checkpoint->output = pipeline->candidate_output;
    }
    pipeline->candidate = false;
    return CELLOTA_OK;
}

/* Runs `count` whole ciphertext blocks through the pipeline. The caller keeps them within one
 * checkpoint interval, so a checkpoint can only fall after the last of them. */
static int process_blocks(cellota_pipeline *pipeline, const uint8_t *cipher, size_t count)
{
    cellota_pipeline_checkpoint *now = &pipeline->now;
    uint32_t final_offset = pipeline->info->encrypted_size - 16;
    size_t index;
    int result;

    if (encoded(pipeline)) {
        for (index = 0; index < count; index++, cipher += 16) {
            if ((result = process_encoded_block(pipeline, cipher)) != CELLOTA_OK)
                return result;
        }
        return CELLOTA_OK;
    }
    if (mbedtls_sha256_update_ret(&now->encrypted_hash, cipher, count * 16) != 0)
        return CELLOTA_CRYPTO_FAILED;
    for (index = 0; index < count; index++, cipher += 16, now->offset += 16) {
        uint8_t plain[16];
        if (!pipeline->area) {
            memcpy(now->chain, cipher, 16);
            continue;
        }
        /* Decrypting updates the chaining block to this ciphertext block. */
        if (mbedtls_aes_crypt_cbc(&pipeline->aes, MBEDTLS_AES_DECRYPT, 16, now->chain, cipher,
                                  plain) != 0)
            return CELLOTA_CRYPTO_FAILED;
        if (now->offset == final_offset) {
            memcpy(pipeline->pending, plain, 16);
            continue;
        }
        if (mbedtls_sha256_update_ret(&now->plain_hash, plain, 16) != 0)
            return CELLOTA_CRYPTO_FAILED;
        if ((result = write_plain(pipeline, now->offset, plain, 16)) != CELLOTA_OK)
            return result;
    }
    if (now->offset % pipeline->interval == 0 && now->offset < pipeline->info->encrypted_size)
        pipeline->checkpoint = *now;
    return CELLOTA_OK;
}

int cellota_pipeline_feed(cellota_pipeline *pipeline, const uint8_t *data, size_t length)
{
    int result = CELLOTA_OK;

    if (pipeline->error != CELLOTA_OK)
        return pipeline->error;
    if (pipeline->finished) /* keeps finish's answer */
        return CELLOTA_IMAGE_TOO_LONG;
    if (length > pipeline->info->encrypted_size - cellota_pipeline_offset(pipeline))
        return fail(pipeline, CELLOTA_IMAGE_TOO_LONG);
    while (length > 0 && result == CELLOTA_OK) {
        if (pipeline->buffered > 0 || length < 16) {
            size_t take = 16u - pipeline->buffered;
            if (take > length)
                take = length;
            memcpy(pipeline->block + pipeline->buffered, data, take);
            pipeline->buffered = (uint8_t)(pipeline->buffered + take);
            data += take;
            length -= take;
            if (pipeline->buffered == 16) {
                pipeline->buffered = 0;
                result = process_blocks(pipeline, pipeline->block, 1);
            }
        } else {
            /* Whole blocks straight from the caller's buffer, up to the next checkpoint. */
            size_t to_checkpoint = pipeline->interval - pipeline->now.offset % pipeline->interval;
            size_t bytes = length - length % 16;
            if (bytes > to_checkpoint)
                bytes = to_checkpoint;
            result = process_blocks(pipeline, data, bytes / 16);
            data += bytes;
            length -= bytes;
        }
    }
    return result == CELLOTA_OK ? CELLOTA_OK : fail(pipeline, result);
}

/* Checks the held-back last block's padding and size, then hashes and writes its plain bytes. */
static int finish_plain(cellota_pipeline *pipeline)
{
    const cellota_fw_info *info = pipeline->info;
    const cellota_flash_area *area = pipeline->area;
    uint8_t padding = pipeline->pending[15], tail[16], digest[32];
    uint32_t position = info->encrypted_size - 16, kept, written;
    int result;

    if (padding == 0 || padding > 16)
        return CELLOTA_IMAGE_BAD_PADDING;
    for (kept = 16u - padding; kept < 16; kept++) {
        if (pipeline->pending[kept] != padding)
            return CELLOTA_IMAGE_BAD_PADDING;
    }
    kept = 16u - padding;
    if (position + kept != info->plain_size)
        return CELLOTA_IMAGE_SIZE_MISMATCH;
    if (mbedtls_sha256_update_ret(&pipeline->now.plain_hash, pipeline->pending, kept) != 0 ||
        mbedtls_sha256_finish_ret(&pipeline->now.plain_hash, digest) != 0)
        return CELLOTA_CRYPTO_FAILED;
    /* The tail goes out in whole write units, the rest of the last one left erased. */
    written = (kept + area->write_size - 1) & ~(area->write_size - 1);
    if (written > 0) {
        memcpy(tail, pipeline->pending, kept);
        memset(tail + kept, area->erased_value, written - kept);
        if ((result = write_plain(pipeline, position, tail, written)) != CELLOTA_OK)
            return result;
    }
    if (memcmp(digest, info->plain_sha256, 32) != 0)
        return CELLOTA_IMAGE_PLAIN_HASH_MISMATCH;
    return CELLOTA_OK;
}

/* The end of a compressed image or patch: the padding, the stream's last bytes, the decoder's
 * verdict, the last partial write and the new image's hash. */
static int finish_encoded(cellota_pipeline *pipeline)
{
    const cellota_flash_area *area = pipeline->area;
    cellota_pipeline_checkpoint *now = &pipeline->now;
    uint8_t padding = pipeline->pending[15], digest[32], skip = pipeline->skip;
    uint32_t kept, written;
    int result;

    if (padding == 0 || padding > 16)
        return CELLOTA_IMAGE_BAD_PADDING;
    for (kept = 16u - padding; kept < 16; kept++) {
        if (pipeline->pending[kept] != padding)
            return CELLOTA_IMAGE_BAD_PADDING;
    }
    kept = 16u - padding;
    if (skip > kept)
        return CELLOTA_IMAGE_DELTA_CORRUPT; /* a checkpoint past the stream's end */
    if ((result = decode(pipeline, pipeline->pending + skip, kept - skip)) != CELLOTA_OK)
        return result;
    if (pipeline->decode_error == CELLOTA_OK)
        pipeline->decode_error = cellota_delta_finish(pipeline->decoder);
    if (pipeline->decode_error != CELLOTA_OK)
        return pipeline->decode_error;
    if (now->output != pipeline->info->plain_size)
        return CELLOTA_IMAGE_SIZE_MISMATCH;
    /* The last bytes go out in whole write units, the rest of the last one left erased. */
    written = (pipeline->unit_fill + area->write_size - 1) & ~(area->write_size - 1);
    if (written > 0) {
        memset(pipeline->unit + pipeline->unit_fill, area->erased_value,
               written - pipeline->unit_fill);
        result = write_plain(pipeline, now->output - pipeline->unit_fill, pipeline->unit, written);
        if (result != CELLOTA_OK)
            return result;
    }
    if (mbedtls_sha256_finish_ret(&now->plain_hash, digest) != 0)
        return CELLOTA_CRYPTO_FAILED;
    return memcmp(digest, pipeline->info->plain_sha256, 32) == 0 ? CELLOTA_OK
                                                                 : CELLOTA_IMAGE_PLAIN_HASH_MISMATCH;
}

int cellota_pipeline_finish(cellota_pipeline *pipeline)
{
    uint8_t digest[32];
    int result;

    if (pipeline->error != CELLOTA_OK || pipeline->finished)
        return pipeline->error;
    if (cellota_pipeline_offset(pipeline) != pipeline->info->encrypted_size)
        return CELLOTA_IMAGE_TRUNCATED;
    pipeline->finished = true;
    if (mbedtls_sha256_finish_ret(&pipeline->now.encrypted_hash, digest) != 0)
        return fail(pipeline, CELLOTA_CRYPTO_FAILED);
    if (memcmp(digest, pipeline->info->encrypted_sha256, 32) != 0)
        return fail(pipeline, CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH);
    if (!pipeline->area)
        result = CELLOTA_OK;
    else
        result = encoded(pipeline) ? finish_encoded(pipeline) : finish_plain(pipeline);
    return fail(pipeline, result);
}

uint32_t cellota_pipeline_offset(const cellota_pipeline *pipeline)
{
    return pipeline->now.offset + pipeline->buffered;
}

/* --- checkpoint serialisation: explicit little-endian fields, never a struct's memory ------- */

static uint8_t *put_hash(uint8_t *out, const mbedtls_sha256_context *hash)
{
    size_t index;
    /* total[0], total[1], then state[0..7] */
    for (index = 0; index < 10; index++)
        out = cellota_store_u32(out, index < 2 ? hash->total[index] : hash->state[index - 2]);
    memcpy(out, hash->buffer, HASH_BUFFER_SAVED);
    return out + HASH_BUFFER_SAVED;
}

static const uint8_t *get_hash(const uint8_t *in, mbedtls_sha256_context *hash)
{
    size_t index;
    mbedtls_sha256_init(hash);
    for (index = 0; index < 10; index++)
        in = cellota_load_u32(in, index < 2 ? &hash->total[index] : &hash->state[index - 2]);
    memcpy(hash->buffer, in, HASH_BUFFER_SAVED);
    return in + HASH_BUFFER_SAVED;
}

static int state_checksum(const uint8_t *state, uint8_t checksum[32])
{
    return mbedtls_sha256_ret(state, STATE_CHECKSUM_AT, checksum, 0) ? CELLOTA_CRYPTO_FAILED
                                                                     : CELLOTA_OK;
}

void cellota_pipeline_save(const cellota_pipeline *pipeline,
                           uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    const cellota_pipeline_checkpoint *checkpoint = &pipeline->checkpoint;
    uint8_t *out = state, checksum[32];

    memset(state, 0, CELLOTA_PIPELINE_STATE_SIZE);
    memcpy(out, STATE_MAGIC, 4);
    out = cellota_store_u32(out + 4, checkpoint->offset);
    memcpy(out, pipeline->info->encrypted_sha256, 32);
    memcpy(out + 32, checkpoint->chain, 16);
    out = put_hash(out + 48, &checkpoint->encrypted_hash);
    out = put_hash(out, &checkpoint->plain_hash);
    if (encoded(pipeline)) {
        out[0] = pipeline->encoding->kind;
        out[1] = checkpoint->skip;
        out[2] = cellota_delta_header_known(pipeline->decoder) ? pipeline->decoder->header.unit_log2
                                                               : 0;
        cellota_store_u32(out + 4, checkpoint->output);
    }
    /* A checksum that cannot be computed leaves the state zero: restore refuses it. */
    if (state_checksum(state, checksum) == CELLOTA_OK)
        memcpy(state + STATE_CHECKSUM_AT, checksum, 16);
}

/* Checks the encoded part of a restored checkpoint (bytes 232..239) and starts the decoder at
 * it: from the header at offset 0, else at the segment the checkpoint begins. */
static int restore_decoder(cellota_pipeline *pipeline, const uint8_t *in)
{
    const cellota_pipeline_encoding *encoding = pipeline->encoding;
    const cellota_fw_info *info = pipeline->info;
    cellota_pipeline_checkpoint *checkpoint = &pipeline->checkpoint;
    cellota_delta_header header;
    uint8_t unit_log2 = in[2];

    cellota_load_u32(in + 4, &checkpoint->output);
    checkpoint->skip = in[1];
    if (in[0] != encoding->kind || in[3] != 0 || checkpoint->skip >= 16 ||
        checkpoint->plain_hash.total[0] != checkpoint->output ||
        checkpoint->plain_hash.total[1] != 0)
        return CELLOTA_IMAGE_STATE_INVALID;
    if (checkpoint->offset == 0 && checkpoint->output == 0)
        return checkpoint->skip == 0 ? CELLOTA_OK : CELLOTA_IMAGE_STATE_INVALID;
    if (checkpoint->output % pipeline->area->erase_size != 0 ||
        checkpoint->output >= info->plain_size || unit_log2 < CELLOTA_DELTA_UNIT_LOG2_MIN ||
        unit_log2 > CELLOTA_DELTA_UNIT_LOG2_MAX || checkpoint->output % (1u << unit_log2) != 0 ||
        checkpoint->offset + checkpoint->skip < CELLOTA_DELTA_HEADER_SIZE)
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
    pipeline->stream_origin = checkpoint->offset + checkpoint->skip;
    pipeline->history_start = checkpoint->output;
    pipeline->skip = checkpoint->skip;
    return cellota_delta_resume(pipeline->decoder, &pipeline->io, &header, checkpoint->output) ==
                   CELLOTA_OK
               ? CELLOTA_OK
               : CELLOTA_IMAGE_STATE_INVALID;
}

int cellota_pipeline_restore_encoded(cellota_pipeline *pipeline, const cellota_port *port,
                                     const cellota_flash_area *area, const cellota_fw_info *info,
                                     const cellota_pipeline_encoding *encoding,
                                     cellota_delta *decoder,
                                     const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    cellota_pipeline_checkpoint *checkpoint = &pipeline->checkpoint;
    const uint8_t *in = state + 4;
    uint8_t checksum[32];
    size_t index;
    int result = cellota_pipeline_begin_encoded(pipeline, port, area, info, encoding, decoder);

    if (result != CELLOTA_OK)
        return result;
    if (state_checksum(state, checksum) != CELLOTA_OK)
        return fail(pipeline, CELLOTA_CRYPTO_FAILED);
    if (memcmp(state, STATE_MAGIC, 4) != 0 || memcmp(checksum, state + STATE_CHECKSUM_AT, 16) != 0)
        return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
    in = cellota_load_u32(in, &checkpoint->offset);
    if (memcmp(in, info->encrypted_sha256, 32) != 0)
        return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
    memcpy(checkpoint->chain, in + 32, 16);
    in = get_hash(in + 48, &checkpoint->encrypted_hash);
    in = get_hash(in, &checkpoint->plain_hash);
    if (checkpoint->offset % 16 != 0 || checkpoint->offset >= info->encrypted_size ||
        checkpoint->encrypted_hash.total[0] != checkpoint->offset ||
        checkpoint->encrypted_hash.total[1] != 0)
        return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
    if (encoded(pipeline)) {
        if ((result = restore_decoder(pipeline, in)) != CELLOTA_OK)
            return fail(pipeline, result);
        in += 8;
    } else if (checkpoint->offset % pipeline->interval != 0 ||
               checkpoint->plain_hash.total[0] != (area ? checkpoint->offset : 0) ||
               checkpoint->plain_hash.total[1] != 0) {
        /* Both hashes have consumed exactly the whole blocks before the checkpoint (the plain
         * one nothing when there is no area). */
        return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
    }
    for (index = (size_t)(in - state); index < STATE_CHECKSUM_AT; index++) {
        if (state[index] != 0)
            return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
    }
    pipeline->now = *checkpoint;
    /* Pages from the checkpoint on may hold bytes written before the reset: erase each again
     * as the write enters it. */
    pipeline->erased_end = encoded(pipeline) ? checkpoint->output : checkpoint->offset;
    return CELLOTA_OK;
}

int cellota_pipeline_restore(cellota_pipeline *pipeline, const cellota_port *port,
                             const cellota_flash_area *area, const cellota_fw_info *info,
                             const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    return cellota_pipeline_restore_encoded(pipeline, port, area, info, NULL, NULL, state);
}
