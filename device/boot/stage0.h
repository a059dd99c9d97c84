/*
 * The first stage: the small, never-updated code that runs before the bootloader at every reset
 * (the MBR region on nRF52840, the ROM-loaded image at 0x1000 on ESP32) and makes a bootloader
 * update power-safe, the way Nordic's MBR finishes its bootloader-copy command.
 *
 * The application stages a new bootloader in the staging area and records BOOTLOADER_COPY in
 * the journal (cellota_boot_mark_ready). Then, at every reset until it is done:
 *   1. verify the staged copy against its fw_info (SHA-256); a bad one cancels the switch;
 *   2. unless the bootloader region already holds it, erase and copy it page by page;
 *   3. verify the region, then record the new bootloader (and its security version) in the
 *      journal. A cut anywhere in 1-3 repeats them at the next reset: the staged copy is never
 *      touched, so the copy is idempotent and the bootloader is never left half written.
 * With no switch pending, the first stage checks the bootloader region against the journal
 * and, if it is damaged while the staging area still holds a verified copy of it (it does
 * after every switch), copies it back.
 *
 * It writes only the bootloader region (through a gate) and the journal.
 */
#ifndef CELLOTA_BOOT_STAGE0_H
#define CELLOTA_BOOT_STAGE0_H

#include "boot/gate.h"
#include "boot/journal.h"
#include "boot/layout.h"
#include "boot/state.h"
#include "core/port.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cellota_stage0 {
    const cellota_port *port;
    const cellota_boot_layout *layout;
    const cellota_boot_region *bootloader, *staging;
    cellota_journal journal;
    cellota_boot_state state;
    cellota_boot_gate gate;
    cellota_boot_hasher hasher;
    cellota_boot_image target; /* what the bootloader region must end up holding */
    uint8_t buffer[256];
    uint8_t phase, copies;
    bool staged_verified, region_bad;
    uint32_t offset;
    int error;
} cellota_stage0;

/* Prepares the first stage. `port` and `layout` must outlive it; it must not move once
 * stepping has begun. */
void cellota_stage0_init(cellota_stage0 *stage0, const cellota_port *port,
                         const cellota_boot_layout *layout);

/*
 * Does the next bounded piece of work (one page copied or 4 KiB hashed).
 * CELLOTA_IN_PROGRESS: call again. CELLOTA_OK: start the bootloader. Otherwise the bootloader
 * is started anyway (there is nothing better to do) but something is wrong:
 * CELLOTA_BOOT_BOOTLOADER_CORRUPT (damaged, no verified copy), CELLOTA_BOOT_NOT_PROVISIONED,
 * a flash or journal error. A cancelled switch is not an error here: it is recorded in the
 * journal's last_error (CELLOTA_BOOT_BOOTLOADER_STAGING_BAD) for the application to report.
 */
int cellota_stage0_step(cellota_stage0 *stage0);

#endif
