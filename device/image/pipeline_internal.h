/*
 * What pipeline.c shares with pipeline_decode.c, and nothing else uses: the pipeline is one
 * module in two files so that a build installing plain images only (the bootloader) links no
 * decoding. Not part of the module's contract (pipeline.h is).
 */
#ifndef CELLOTA_IMAGE_PIPELINE_INTERNAL_H
#define CELLOTA_IMAGE_PIPELINE_INTERNAL_H

#include "image/pipeline.h"

#include <stdbool.h>

/* Records a sticky error (wiping the key schedule) and returns it. */
int cellota_pipeline_internal_fail(cellota_pipeline *pipeline, int error);

/* What begin does for either kind of image: sizes by fw_info's rule for `encoded`, the area's
 * geometry, the key schedule, both hashes started. */
int cellota_pipeline_internal_start(cellota_pipeline *pipeline, const cellota_port *port,
                                    const cellota_flash_area *area, const cellota_fw_info *info,
                                    bool encoded);

/* Writes `length` (<= 16) bytes at area offset `position` (a multiple of 16), erasing each page
 * as the first write enters it. */
int cellota_pipeline_internal_write(cellota_pipeline *pipeline, uint32_t position,
                                    const uint8_t *data, size_t length);

/* The held-back last block's PKCS#7 padding: CELLOTA_OK with the bytes it leaves in *kept, or
 * CELLOTA_IMAGE_BAD_PADDING. */
int cellota_pipeline_internal_unpad(const cellota_pipeline *pipeline, uint32_t *kept);

/* The encoded part of a restore: checks bytes 232..239 of a state (`rest`) against the
 * checkpoint read so far, starts the decoder there, and says from where pages are erased again.
 * CELLOTA_OK or CELLOTA_IMAGE_STATE_INVALID. */
typedef int (*cellota_pipeline_restore_hook)(cellota_pipeline *pipeline, const uint8_t *rest,
                                              uint32_t *erased_end);

/* Continues a begun pipeline from a saved state: the common part (checksum, image, offset,
 * chaining block, hashes), then the plain image's rules, or `encoded`'s. */
int cellota_pipeline_internal_restore(cellota_pipeline *pipeline,
                                      const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE],
                                      cellota_pipeline_restore_hook encoded);

#endif
