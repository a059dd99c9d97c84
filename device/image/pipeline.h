/*
 * The streaming install pipeline: fed the encrypted image in chunks of any size, it hashes the
 * ciphertext, decrypts AES-128-CBC, strips the PKCS#7 padding, hashes the plaintext and writes it
 * into a flash area through the port, erasing each erase page as the write reaches it. Only
 * cellota_pipeline_finish returning CELLOTA_OK means the area holds the image fw_info describes
 * (both SHA-256 values matched); nothing may be marked bootable before that.
 *
 * Resuming. The pipeline keeps a checkpoint at the last erase-page boundary it passed (offset,
 * CBC chaining block, both SHA-256 states). cellota_pipeline_save serialises that checkpoint at
 * any moment; after a reset, cellota_pipeline_restore continues from it: the page at the
 * checkpoint is erased again before it is written, so bytes written after the checkpoint and
 * before the reset do no harm, and the download re-fetches from cellota_pipeline_offset() on.
 * A resumed download therefore re-fetches less than one erase page plus one 16-byte block.
 *
 * With area == NULL the pipeline only hashes and checks the ciphertext (the modem-staged
 * strategy downloads into the modem's file system and installs later from there).
 */
#ifndef CELLOTA_IMAGE_PIPELINE_H
#define CELLOTA_IMAGE_PIPELINE_H

#include "core/flash_area.h"
#include "core/port.h"
#include "image/fw_info.h"

#include <mbedtls/aes.h>
#include <mbedtls/sha256.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a saved checkpoint (see cellota_pipeline_save). */
#define CELLOTA_PIPELINE_STATE_SIZE 256

/* Without an area there are no erase pages; the hash-only pipeline checkpoints this often. */
#define CELLOTA_PIPELINE_HASH_ONLY_INTERVAL 1024

typedef struct cellota_pipeline_checkpoint {
    uint32_t offset;   /* ciphertext bytes in whole blocks processed; at a checkpoint a multiple
                          of the erase size (the hash-only interval without an area) */
    uint8_t chain[16]; /* the CBC chaining block: the last ciphertext block before offset */
    mbedtls_sha256_context encrypted_hash, plain_hash;
} cellota_pipeline_checkpoint;

/* Everything is inside: no heap, no globals. Do not copy or move one after begin (mbedTLS's AES
 * context points into itself). */
typedef struct cellota_pipeline {
    /* Scalars first, the large parts last: Thumb reaches a byte field in the first 32 bytes, or
     * a word in the first 128, with a 2-byte instruction instead of a 4-byte one. */
    uint8_t buffered; /* how many bytes of block */
    bool finished;    /* finish has given its final answer (in error) */
    const cellota_port *port;
    const cellota_flash_area *area; /* NULL: hash and check only */
    const cellota_fw_info *info;
    uint32_t interval;   /* bytes between checkpoints */
    uint32_t erased_end; /* area offset up to which pages are erased in this run */
    int error;           /* sticky: once failed (or finished), every call returns it */
    uint8_t block[16];   /* ciphertext bytes of an incomplete block */
    uint8_t pending[16]; /* the last block, decrypted and held back: it carries the padding */
    cellota_pipeline_checkpoint now;        /* running state */
    cellota_pipeline_checkpoint checkpoint; /* as of the last erase-page boundary */
    mbedtls_aes_context aes;
} cellota_pipeline;

/*
 * Starts an install of the image `info` describes into `area` (or hash-only when area is NULL).
 * CELLOTA_IMAGE_TOO_LARGE when plain_size exceeds the area; CELLOTA_IMAGE_FW_INFO_SIZES when the
 * sizes disagree; CELLOTA_INVALID_ARGUMENT for an area whose erase size is not a multiple of 16
 * or whose write size is not a power of two <= 16, or no port. Touches no flash: each erase
 * page is erased when the first write enters it. `port`, `area` and `info` must outlive the
 * pipeline; `port` may be NULL when `area` is.
 */
int cellota_pipeline_begin(cellota_pipeline *pipeline, const cellota_port *port,
                           const cellota_flash_area *area, const cellota_fw_info *info);

/* Consumes all `length` bytes. CELLOTA_OK, CELLOTA_IMAGE_TOO_LONG when the stream runs past
 * encrypted_size (nothing of this call is consumed then), or a flash or crypto error. Every error
 * is sticky. After finish, feeding more is CELLOTA_IMAGE_TOO_LONG. */
int cellota_pipeline_feed(cellota_pipeline *pipeline, const uint8_t *data, size_t length);

/* After exactly encrypted_size bytes: CELLOTA_OK when the padding is valid and both hashes match.
 * Otherwise, each its own code: CELLOTA_IMAGE_TRUNCATED, CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH
 * (checked first), CELLOTA_IMAGE_BAD_PADDING, CELLOTA_IMAGE_SIZE_MISMATCH (padding leaves a
 * different plain size), CELLOTA_IMAGE_PLAIN_HASH_MISMATCH, or a flash or crypto error.
 * TRUNCATED is not final: feed the rest and finish again. Any other answer is final, and
 * calling finish again returns it. Only here is the held-back last block written (its plain
 * bytes, padded to the write size with the erased value). Hash-only pipelines stop after the
 * encrypted hash. The AES key schedule is wiped at any final answer. */
int cellota_pipeline_finish(cellota_pipeline *pipeline);

/* Ciphertext bytes consumed so far (where a download goes on from). */
uint32_t cellota_pipeline_offset(const cellota_pipeline *pipeline);

/* Serialises the last checkpoint into `state` (CELLOTA_PIPELINE_STATE_SIZE bytes, with a
 * checksum and the fw_info's encrypted SHA-256 so it cannot be applied to another image).
 * Works at any moment, also after an error: the checkpoint only ever holds a state whose flash
 * pages are completely written. Layout in docs/image-format.md. */
void cellota_pipeline_save(const cellota_pipeline *pipeline,
                           uint8_t state[CELLOTA_PIPELINE_STATE_SIZE]);

/* Begins like cellota_pipeline_begin, then continues from a saved checkpoint: feed from
 * cellota_pipeline_offset() on. CELLOTA_IMAGE_STATE_INVALID for a corrupt state, one saved for a
 * different image, or one whose offset is not a page boundary of this area. */
int cellota_pipeline_restore(cellota_pipeline *pipeline, const cellota_port *port,
                             const cellota_flash_area *area, const cellota_fw_info *info,
                             const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE]);

#endif
