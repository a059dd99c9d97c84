/*
 * Flash layouts: where the first stage, the bootloader, the install journal and the application
 * slots live on a device, as data. Two ship with cellota:
 *
 *   esp32-4mb      4 MiB SPI NOR, 4 KiB sectors, 16-byte writes (the flash-encryption unit):
 *                  first stage at 0x1000 (what the ROM loads), partition table, nvs, journal,
 *                  bootloader, bootloader staging, ota_0, ota_1.
 *   nrf52840-1mb   1 MiB internal flash, 4 KiB pages, 4-byte writes: MBR 4 KiB at 0, the
 *                  application from 0x1000, bootloader staging, journal, bootloader at the top.
 *                  One application slot: images are staged in the modem (seed 002).
 *
 * A region's kind says who may write it: nobody (first stage, reserved), the first stage's copier
 * (bootloader), the bootloader and the application (journal, staging, application slots).
 * cellota_boot_gate enforces it for every write an update makes.
 */
#ifndef CELLOTA_BOOT_LAYOUT_H
#define CELLOTA_BOOT_LAYOUT_H

#include "core/flash_area.h"

#include <stddef.h>
#include <stdint.h>

typedef enum cellota_boot_region_kind {
    CELLOTA_BOOT_REGION_FIRST_STAGE = 1, /* MBR / ROM-loaded first stage: never written */
    CELLOTA_BOOT_REGION_RESERVED,        /* partition table, nvs...: not cellota's, never written */
    CELLOTA_BOOT_REGION_JOURNAL,         /* the install journal */
    CELLOTA_BOOT_REGION_BOOTLOADER,      /* written only by the first stage's copier */
    CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, /* a new bootloader waits here, then stays as backup */
    CELLOTA_BOOT_REGION_APPLICATION         /* an application slot; slot 0 first */
} cellota_boot_region_kind;

typedef struct cellota_boot_region {
    const char *name;
    cellota_boot_region_kind kind;
    cellota_flash_area area;
} cellota_boot_region;

typedef struct cellota_boot_layout {
    const char *name;
    cellota_flash_area flash; /* the whole device */
    const cellota_boot_region *regions;
    size_t region_count;
} cellota_boot_layout;

/* The shipped layouts one by one (a target links only its own)... */
extern const cellota_boot_layout cellota_boot_layout_esp32_4mb;
extern const cellota_boot_layout cellota_boot_layout_nrf52840_1mb;

/* ...and all of them, and how many. */
extern const cellota_boot_layout *const cellota_boot_layouts[];
extern const size_t cellota_boot_layout_count;

/* The layout called `name`, or NULL. */
const cellota_boot_layout *cellota_boot_layout_find(const char *name);

/* The index-th region (0-based) of `kind`, or NULL when there are not that many. */
const cellota_boot_region *cellota_boot_layout_region(const cellota_boot_layout *layout,
                                                      cellota_boot_region_kind kind,
                                                      unsigned index);

/* How many regions of `kind` the layout has. */
unsigned cellota_boot_layout_count_of(const cellota_boot_layout *layout,
                                      cellota_boot_region_kind kind);

/*
 * Checks a layout: every region inside the flash, aligned to its pages and with the flash's
 * rules, no two overlapping, one journal of at least two pages, one or two application slots,
 * at most one bootloader and one staging area (at least as large as the bootloader).
 * CELLOTA_OK or CELLOTA_BOOT_LAYOUT_INVALID.
 */
int cellota_boot_layout_check(const cellota_boot_layout *layout);

#endif
