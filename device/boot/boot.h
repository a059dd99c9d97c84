/*
 * The bootloader core: what runs at every reset (after the first stage) and decides what to
 * start. A state machine: the target calls cellota_boot_step until it stops returning
 * CELLOTA_IN_PROGRESS, kicking nothing itself -- the core kicks the watchdog after every bounded
 * piece of work (4 KiB hashed, 256 bytes read from the modem, a page installed).
 *
 * What a step sequence does, from the journal's newest record:
 *   1. An install from the modem under way (MODEM_VERIFY, MODEM_WRITE): finish it. VERIFY reads
 *      the whole staged file once to check its size and its ciphertext SHA-256, touching no
 *      flash; then WRITE erases and rewrites the application page by page through the image
 *      pipeline, decrypting as it goes, and records the pipeline's checkpoint in the journal
 *      after every page, so a reset resumes at the page it stopped in. A failed check keeps the
 *      running image; an image that fails after the slot was erased is replaced by the
 *      confirmed image's file from the modem.
 *   2. A trial pending: verify the new image's SHA-256 and security version, record TRYING,
 *      boot it. A trial still TRYING at reset was never confirmed: roll back (A/B: boot the
 *      previous slot; in place: reinstall the previous image from the modem, as in 1).
 *   3. Otherwise verify the confirmed image's SHA-256 and boot it; if it fails, fall back on
 *      the other slot (when it holds an image not below the security version) or reinstall it
 *      from the modem; if nothing is left, CELLOTA_BOOT_NO_BOOTABLE_IMAGE.
 * Nothing is ever started without its SHA-256 verified in this boot.
 *
 * The core writes only the application slot it installs (through a gate) and the journal.
 */
#ifndef CELLOTA_BOOT_BOOT_H
#define CELLOTA_BOOT_BOOT_H

#include "boot/gate.h"
#include "boot/journal.h"
#include "boot/layout.h"
#include "boot/source.h"
#include "boot/state.h"
#include "core/port.h"
#include "image/pipeline.h"

#include <stdbool.h>
#include <stdint.h>

/* How long one modem read may stay in progress before it is cancelled and retried, and how
 * many retries a read gets. The watchdog's timeout must be longer than this wait. */
#define CELLOTA_BOOT_SOURCE_TIMEOUT_MS 3000u
#define CELLOTA_BOOT_SOURCE_RETRIES 3u

typedef struct cellota_boot_decision {
    uint8_t slot;     /* the application slot to start */
    uint32_t address; /* where it starts */
    uint32_t size;    /* plain image bytes, all verified */
    uint32_t version;
    bool trial; /* started on trial: the application must confirm it */
} cellota_boot_decision;

typedef struct cellota_boot {
    const cellota_port *port;
    const cellota_boot_layout *layout;
    const cellota_boot_source *source;
    cellota_journal journal;
    cellota_boot_state state;
    cellota_boot_gate gate;
    cellota_pipeline pipeline;
    cellota_boot_hasher hasher;
    uint8_t buffer[256];
    uint8_t phase, purpose, decisions, retries;
    uint32_t offset;        /* ciphertext bytes read in the modem phases */
    uint32_t checkpointed;  /* the pipeline checkpoint last recorded */
    uint32_t waiting_since; /* when the outstanding source call started */
    bool waiting;
    int error;
    cellota_boot_decision decision;
} cellota_boot;

/* Prepares a boot. `source` may be NULL when images are never staged in a modem. All must
 * outlive `boot`, which must not move once stepping has begun. */
void cellota_boot_init(cellota_boot *boot, const cellota_port *port,
                       const cellota_boot_layout *layout, const cellota_boot_source *source);

/*
 * Does the next bounded piece of work. CELLOTA_IN_PROGRESS: call again. CELLOTA_OK: start the
 * application cellota_boot_result describes. An error: nothing can be started now --
 * CELLOTA_BOOT_NOT_PROVISIONED, CELLOTA_BOOT_NO_BOOTABLE_IMAGE, a modem source error while the
 * application slot is half written (reset and the install resumes), a flash or journal error.
 * After CELLOTA_OK or an error, every call returns the same.
 */
int cellota_boot_step(cellota_boot *boot);

/* What to start, once cellota_boot_step returned CELLOTA_OK. */
const cellota_boot_decision *cellota_boot_result(const cellota_boot *boot);

#endif
