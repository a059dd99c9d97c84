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
 *
 * Compressed images and patches (cellota_pipeline_begin_encoded). The decrypted bytes are a
 * CLZ1 stream (image/delta.h) that a caller-owned decoder turns into the new image on the way
 * to flash: download -> decrypt -> decode (reading a patch's base from the running slot, and
 * the new image written so far back from the area) -> write. fw_info's plain size and
 * plain SHA-256 are the NEW image's, so what finish checks and the bootloader verifies at every
 * boot is unchanged; its encrypted size is the padded stream's. A checkpoint is then taken where
 * a segment of the stream ends on an erase-page boundary of the output: the ciphertext block it
 * falls in (with how many of that block's bytes were decoded already), the output offset and
 * the hashes, so a resumed download re-fetches at most one segment (4 KiB by default) plus one
 * block. A stream the decoder refuses is reported by finish as that error, unless the
 * ciphertext's hash shows the download itself was damaged.
 */
#ifndef CELLOTA_IMAGE_PIPELINE_H
#define CELLOTA_IMAGE_PIPELINE_H

#include "core/flash_area.h"
#include "core/port.h"
#include "image/delta.h"
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

/* Output kept in RAM for a decoder's copies: at least what the boot gate may hold unwritten. */
#define CELLOTA_PIPELINE_HISTORY 256

/* What the download holds: the update request's `encoding` and `base`. */
typedef struct cellota_pipeline_encoding {
    uint8_t kind;                   /* 0: the plain image; CELLOTA_DELTA_COMPRESSED; _PATCH */
    const cellota_flash_area *base; /* a patch's base: the running image's slot */
    uint32_t base_size;             /* the base image's bytes and SHA-256 */
    uint8_t base_sha256[32];
} cellota_pipeline_encoding;

typedef struct cellota_pipeline_checkpoint {
    uint32_t offset;   /* ciphertext bytes in whole blocks processed; at a checkpoint a multiple
                          of the erase size (the hash-only interval without an area) */
    uint8_t chain[16]; /* the CBC chaining block: the last ciphertext block before offset */
    mbedtls_sha256_context encrypted_hash, plain_hash;
} cellota_pipeline_checkpoint;

struct cellota_pipeline;

/* Memory for decoding a compressed image or patch: the CLZ1 decoder and the pipeline's state
 * around it. Caller-owned (a device that takes plain images only needs none); its fields are
 * private. */
typedef struct cellota_pipeline_decoder {
    int (*process_block)(struct cellota_pipeline *pipeline, const uint8_t *cipher);
    int (*finish)(struct cellota_pipeline *pipeline);
    cellota_pipeline_encoding encoding; /* begin's, copied */
    cellota_delta_io io;
    int decode_error;       /* the stream's error, kept for finish */
    uint32_t output;        /* new-image bytes written (the plain hash covers them) */
    uint32_t checkpoint_output; /* the checkpoint's output offset */
    uint8_t checkpoint_skip;    /* bytes of the checkpoint's block decoded before it */
    uint8_t skip;           /* bytes of the next block decoded before a restore */
    uint8_t unit_fill;      /* bytes in `unit` */
    bool candidate;         /* a segment ended on a page boundary in the block being decoded */
    uint32_t stream_origin; /* stream offset the decoder started at */
    uint32_t history_start; /* output offset `history` starts at (a restore starts it again) */
    uint32_t candidate_stream, candidate_output;
    mbedtls_sha256_context candidate_hash;
    uint8_t unit[16];       /* output not yet written: less than one 16-byte write */
    uint8_t history[CELLOTA_PIPELINE_HISTORY]; /* the last output bytes, by offset modulo */
    cellota_delta delta;    /* last: the decoder's own (reset separately) */
} cellota_pipeline_decoder;

/* RAM decoding adds to a device: the decoder memory, the pipeline's pointer to it, and the
 * decoder's copy buffer on the stack. What `make size` and
 * `cellota diff` report against the 8 KiB budget. */
#define CELLOTA_PIPELINE_DECODE_RAM (sizeof(cellota_pipeline_decoder) + sizeof(void *) + 32)

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
    struct cellota_pipeline_decoder *decoder; /* NULL: the plain image */
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

/*
 * As cellota_pipeline_begin for a compressed image or a patch (`encoding`, copied; NULL or
 * kind 0 is the plain image), decoded in `decoder`, which must outlive the pipeline.
 * CELLOTA_IMAGE_ENCODING_UNSUPPORTED without a decoder, CELLOTA_INVALID_ARGUMENT without an
 * area or (a patch) a base, CELLOTA_IMAGE_FW_INFO_SIZES for an encrypted size that cannot hold
 * a stream. The stream's header must then name the same kind, new size and SHA-256 as fw_info
 * (else CELLOTA_IMAGE_DELTA_MISMATCH) and the same base (else CELLOTA_IMAGE_DELTA_WRONG_BASE);
 * finish also reports CELLOTA_IMAGE_DELTA_CORRUPT and CELLOTA_IMAGE_DELTA_TRUNCATED.
 */
int cellota_pipeline_begin_encoded(cellota_pipeline *pipeline, const cellota_port *port,
                                   const cellota_flash_area *area, const cellota_fw_info *info,
                                   const cellota_pipeline_encoding *encoding,
                                   cellota_pipeline_decoder *decoder);

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

/* The same for a compressed image or a patch: a state saved by a pipeline begun with the same
 * encoding. */
int cellota_pipeline_restore_encoded(cellota_pipeline *pipeline, const cellota_port *port,
                                     const cellota_flash_area *area, const cellota_fw_info *info,
                                     const cellota_pipeline_encoding *encoding,
                                     cellota_pipeline_decoder *decoder,
                                     const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE]);

#endif
