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
#include "image/pipeline_internal.h"

#include "core/compiler.h"
#include "core/error.h"
#include "core/encoding.h"

#include <string.h>

#define STATE_MAGIC "CLP1"
/* Checkpoint offsets are multiples of 16, so a SHA-256 context holds at most 48 buffered bytes. */
#define HASH_BUFFER_SAVED 48
#define STATE_CHECKSUM_AT (CELLOTA_PIPELINE_STATE_SIZE - 16)

CELLOTA_OUT_OF_LINE int cellota_pipeline_internal_fail(cellota_pipeline *pipeline, int error)
{
    pipeline->error = error;
    mbedtls_aes_free(&pipeline->aes); /* wipes the key schedule */
    return error;
}

#define fail cellota_pipeline_internal_fail

static int hash_starts(mbedtls_sha256_context *hash)
{
    mbedtls_sha256_init(hash);
    return mbedtls_sha256_starts_ret(hash, 0) ? CELLOTA_CRYPTO_FAILED : CELLOTA_OK;
}

int cellota_pipeline_internal_start(cellota_pipeline *pipeline, const cellota_port *port,
                                   const cellota_flash_area *area, const cellota_fw_info *info,
                                   bool encoded)
{
    memset(pipeline, 0, sizeof(*pipeline));
    mbedtls_aes_init(&pipeline->aes);
    pipeline->port = port;
    pipeline->area = area;
    pipeline->info = info;
    pipeline->interval = CELLOTA_PIPELINE_HASH_ONLY_INTERVAL;
    if (cellota_fw_info_check_sizes(info, encoded) != CELLOTA_OK)
        return fail(pipeline, CELLOTA_IMAGE_FW_INFO_SIZES);
    if (area) {
        uint32_t write_size = area->write_size;
        if (!port || area->erase_size == 0 || area->erase_size % 16 != 0 || write_size == 0 ||
            write_size > 16 || (write_size & (write_size - 1)) != 0)
            return fail(pipeline, CELLOTA_INVALID_ARGUMENT);
        if (info->plain_size > area->size)
            return fail(pipeline, CELLOTA_IMAGE_TOO_LARGE);
        /* Encoded: checkpoints come from the stream's segments, found block by block. */
        pipeline->interval = encoded ? 16 : area->erase_size;
        if (mbedtls_aes_setkey_dec(&pipeline->aes, info->key, 128) != 0)
            return fail(pipeline, CELLOTA_CRYPTO_FAILED);
    }
    memcpy(pipeline->now.chain, info->iv, 16);
    if (hash_starts(&pipeline->now.encrypted_hash) != CELLOTA_OK ||
        hash_starts(&pipeline->now.plain_hash) != CELLOTA_OK)
        return fail(pipeline, CELLOTA_CRYPTO_FAILED);
    pipeline->checkpoint = pipeline->now;
    return CELLOTA_OK;
}

int cellota_pipeline_begin(cellota_pipeline *pipeline, const cellota_port *port,
                           const cellota_flash_area *area, const cellota_fw_info *info)
{
    return cellota_pipeline_internal_start(pipeline, port, area, info, false);
}

/* Writes `length` (<= 16) plain bytes at area offset `position`, a multiple of 16, erasing the
 * erase page first when this is the first write into it. A block never straddles two pages
 * because the erase size is a multiple of 16. */
int cellota_pipeline_internal_write(cellota_pipeline *pipeline, uint32_t position,
                                    const uint8_t *data, size_t length)
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

/* Runs `count` whole ciphertext blocks through the pipeline. The caller keeps them within one
 * checkpoint interval, so a checkpoint can only fall after the last of them. */
static int process_blocks(cellota_pipeline *pipeline, const uint8_t *cipher, size_t count)
{
    cellota_pipeline_checkpoint *now = &pipeline->now;
    uint32_t final_offset = pipeline->info->encrypted_size - 16;
    size_t index;
    int result;

    if (pipeline->decoder) { /* through the decoder's hooks: the bootloader links none */
        for (index = 0; index < count; index++, cipher += 16) {
            if ((result = pipeline->decoder->process_block(pipeline, cipher)) != CELLOTA_OK)
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
        if ((result = cellota_pipeline_internal_write(pipeline, now->offset, plain, 16)) != CELLOTA_OK)
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

int cellota_pipeline_internal_unpad(const cellota_pipeline *pipeline, uint32_t *kept)
{
    uint8_t padding = pipeline->pending[15];
    uint32_t index;
    if (padding == 0 || padding > 16)
        return CELLOTA_IMAGE_BAD_PADDING;
    for (index = 16u - padding; index < 16; index++) {
        if (pipeline->pending[index] != padding)
            return CELLOTA_IMAGE_BAD_PADDING;
    }
    *kept = 16u - padding;
    return CELLOTA_OK;
}

/* Checks the held-back last block's padding and size, then hashes and writes its plain bytes. */
static int finish_plain(cellota_pipeline *pipeline)
{
    const cellota_fw_info *info = pipeline->info;
    const cellota_flash_area *area = pipeline->area;
    uint8_t tail[16], digest[32];
    uint32_t position = info->encrypted_size - 16, kept, written;
    int result;

    if ((result = cellota_pipeline_internal_unpad(pipeline, &kept)) != CELLOTA_OK)
        return result;
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
        if ((result = cellota_pipeline_internal_write(pipeline, position, tail, written)) != CELLOTA_OK)
            return result;
    }
    if (memcmp(digest, info->plain_sha256, 32) != 0)
        return CELLOTA_IMAGE_PLAIN_HASH_MISMATCH;
    return CELLOTA_OK;
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
        result = pipeline->decoder ? pipeline->decoder->finish(pipeline) : finish_plain(pipeline);
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
    if (pipeline->decoder) {
        out[0] = pipeline->decoder->encoding.kind;
        out[1] = pipeline->decoder->checkpoint_skip;
        out[2] = pipeline->decoder->delta.header.unit_log2; /* 0 until the header is read */
        cellota_store_u32(out + 4, pipeline->decoder->checkpoint_output);
    }
    /* A checksum that cannot be computed leaves the state zero: restore refuses it. */
    if (state_checksum(state, checksum) == CELLOTA_OK)
        memcpy(state + STATE_CHECKSUM_AT, checksum, 16);
}

int cellota_pipeline_internal_restore(cellota_pipeline *pipeline,
                                      const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE],
                                      cellota_pipeline_restore_hook encoded)
{
    cellota_pipeline_checkpoint *checkpoint = &pipeline->checkpoint;
    const cellota_fw_info *info = pipeline->info;
    const uint8_t *in = state + 4;
    uint8_t checksum[32];
    uint32_t erased_end = 0;
    size_t index;
    int result;

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
    if (encoded) {
        /* Bytes 232..239: the decoder's part, checked and applied by the hook. */
        if ((result = encoded(pipeline, in, &erased_end)) != CELLOTA_OK)
            return fail(pipeline, result);
        in += 8;
    } else {
        /* Both hashes have consumed exactly the whole blocks before the checkpoint (the plain
         * one nothing when there is no area). */
        if (checkpoint->offset % pipeline->interval != 0 ||
            checkpoint->plain_hash.total[0] != (pipeline->area ? checkpoint->offset : 0) ||
            checkpoint->plain_hash.total[1] != 0)
            return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
        erased_end = checkpoint->offset;
    }
    for (index = (size_t)(in - state); index < STATE_CHECKSUM_AT; index++) {
        if (state[index] != 0)
            return fail(pipeline, CELLOTA_IMAGE_STATE_INVALID);
    }
    pipeline->now = *checkpoint;
    /* Pages from the checkpoint on may hold bytes written before the reset: erase each again
     * as the write enters it. */
    pipeline->erased_end = erased_end;
    return CELLOTA_OK;
}

int cellota_pipeline_restore(cellota_pipeline *pipeline, const cellota_port *port,
                             const cellota_flash_area *area, const cellota_fw_info *info,
                             const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    int result = cellota_pipeline_internal_start(pipeline, port, area, info, false);
    return result != CELLOTA_OK ? result : cellota_pipeline_internal_restore(pipeline, state, NULL);
}
