/*
 * The install state: what the journal's newest record says about the device, and the few rules
 * that both the bootloader and the application apply to it.
 *
 * The record is this struct's bytes (832, little-endian, no padding: every field is naturally
 * aligned). Every change to the state is a whole new record, so a cut leaves either the old
 * state or the new one. Fields:
 *
 *   format                      CELLOTA_BOOT_STATE_FORMAT; a record of another format is not read
 *   security_version            the anti-rollback floor for applications: an image older than it
 *                               is refused unless the operator allowed a downgrade
 *   bootloader_security_version the same for the bootloader
 *   last_error                  the last install or boot failure (a cellota_error), 0 when none
 *   active                      the application slot with the confirmed image
 *   trial, trial_slot           NONE, or PENDING (boot `trial_slot` once on trial next reset),
 *                               or TRYING (booted on trial, not confirmed yet)
 *   operation, operation_slot   what is under way: STAGING (the application writes slot
 *                               `operation_slot`, or the bootloader staging area with
 *                               TARGET_BOOTLOADER), MODEM_VERIFY / MODEM_WRITE (the bootloader
 *                               installs images[operation_slot] from the modem into `active`),
 *                               BOOTLOADER_COPY (the first stage copies the staged bootloader)
 *   flags                       ALLOW_DOWNGRADE, RESTORE, HAS_CHECKPOINT, TARGET_BOOTLOADER
 *   slots[2]                    version, size and SHA-256 of each slot's plain image (size 0:
 *                               nothing bootable there)
 *   bootloader                  the same for the bootloader region
 *   images[3]                   CURRENT (the confirmed image), PREVIOUS (the one before it),
 *                               CANDIDATE (being installed or on trial, or the last that failed):
 *                               each its fw_info and, when staged in the modem, its file name
 *   checkpoint                  the image pipeline's saved state (cellota_pipeline_save)
 */
#ifndef CELLOTA_BOOT_STATE_H
#define CELLOTA_BOOT_STATE_H

#include "boot/journal.h"
#include "boot/layout.h"
#include "boot/source.h"
#include "core/port.h"
#include "image/fw_info.h"
#include "image/pipeline.h"

#include <mbedtls/sha256.h>

#include <stdbool.h>
#include <stdint.h>

#define CELLOTA_BOOT_STATE_FORMAT 0x31534243u /* "CBS1" */

enum { CELLOTA_BOOT_CURRENT = 0, CELLOTA_BOOT_PREVIOUS = 1, CELLOTA_BOOT_CANDIDATE = 2 };

typedef enum cellota_boot_trial {
    CELLOTA_BOOT_TRIAL_NONE = 0,
    CELLOTA_BOOT_TRIAL_PENDING = 1,
    CELLOTA_BOOT_TRIAL_TRYING = 2
} cellota_boot_trial;

typedef enum cellota_boot_operation {
    CELLOTA_BOOT_OPERATION_NONE = 0,
    CELLOTA_BOOT_OPERATION_STAGING = 1,
    CELLOTA_BOOT_OPERATION_MODEM_VERIFY = 2,
    CELLOTA_BOOT_OPERATION_MODEM_WRITE = 3,
    CELLOTA_BOOT_OPERATION_BOOTLOADER_COPY = 4
} cellota_boot_operation;

/* Flags an application passes in. */
#define CELLOTA_BOOT_ALLOW_DOWNGRADE 0x01u   /* the operator allows an older security version */
#define CELLOTA_BOOT_TARGET_BOOTLOADER 0x08u /* the image is a new bootloader */
/* Flags the module keeps for itself. */
#define CELLOTA_BOOT_RESTORE 0x02u        /* reinstalling a confirmed image: no trial */
#define CELLOTA_BOOT_HAS_CHECKPOINT 0x04u /* checkpoint holds the operation's progress */

typedef struct cellota_boot_image {
    uint32_t version;
    uint32_t size; /* plain bytes; 0: nothing valid */
    uint8_t sha256[32];
} cellota_boot_image;

typedef struct cellota_boot_known {
    cellota_fw_info info;
    char name[CELLOTA_BOOT_NAME_MAX + 1]; /* the modem file, NUL-terminated; "" when not staged */
} cellota_boot_known;

typedef struct cellota_boot_state {
    uint32_t format;
    uint32_t security_version;
    uint32_t bootloader_security_version;
    int32_t last_error;
    uint8_t active, trial, trial_slot, operation, operation_slot, flags, reserved[2];
    cellota_boot_image slots[2];
    cellota_boot_image bootloader;
    cellota_boot_known images[3];
    uint8_t checkpoint[CELLOTA_PIPELINE_STATE_SIZE];
} cellota_boot_state;

/* Opens the journal of `layout` and reads the state from it. CELLOTA_OK,
 * CELLOTA_BOOT_NOT_PROVISIONED (no record, or one of another format), a flash error. */
int cellota_boot_state_load(cellota_journal *journal, cellota_boot_state *state,
                            const cellota_port *port, const cellota_boot_layout *layout);

/* Appends `state` as the journal's newest record. */
int cellota_boot_state_commit(cellota_journal *journal, const cellota_boot_state *state);

/* May an image of `version` be installed over the floor `floor`? */
bool cellota_boot_version_allowed(uint32_t floor, uint32_t version, unsigned flags);

/* The descriptor of the plain image `info` describes. */
void cellota_boot_image_from(cellota_boot_image *image, const cellota_fw_info *info);

/*
 * Gives up the image on trial (reset before it confirmed, rejected by the application, or
 * failed to verify), recording `error`. A/B: the trial slot is dropped and `active` boots again.
 * In place (trial slot == active): the confirmed image is reinstalled from the modem.
 */
void cellota_boot_state_reject_trial(cellota_boot_state *state, int error);

/* A region's SHA-256, a bounded piece at a time (the bootloader and first stage kick the
 * watchdog between pieces). */
typedef struct cellota_boot_hasher {
    mbedtls_sha256_context sha;
    uint32_t address, size, done;
} cellota_boot_hasher;

void cellota_boot_hasher_start(cellota_boot_hasher *hasher, uint32_t address, uint32_t size);

/* Hashes up to one erase page of 4 KiB using `buffer` (`capacity` bytes). CELLOTA_IN_PROGRESS
 * until the end; then CELLOTA_OK with the digest compared: *matches = digest == expected. A port
 * whose flash_sha256 gives the whole region's digest ends it at that step. */
int cellota_boot_hasher_step(cellota_boot_hasher *hasher, const cellota_port *port, uint8_t *buffer,
                             size_t capacity, const uint8_t expected[32], bool *matches);

#endif
