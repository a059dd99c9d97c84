/*
 * The flash gate: a port that lets writes and erases through only into the areas an update is
 * allowed to change, and combines small sequential writes into program-page-sized ones.
 *
 * Protection. Every image an update writes (the application through the image pipeline, a new
 * bootloader into its staging area, the first stage's bootloader copy) goes through a gate
 * whose allowed area is exactly the one that step may change. A write or erase that is not
 * wholly inside it -- the MBR or first stage, the bootloader, the running slot -- is
 * refused with CELLOTA_BOOT_REGION_PROTECTED and never reaches the flash. Reads pass through.
 *
 * Combining. The image pipeline writes one 16-byte AES block at a time. The gate collects
 * consecutive writes into one CELLOTA_BOOT_GATE_PROGRAM_SIZE-aligned chunk (the 256-byte page
 * program of SPI NOR flash) and programs it when it is full, when a write goes elsewhere, before
 * any erase or a read of collected bytes, and on cellota_boot_gate_flush. Bytes still collected are not on flash:
 * a caller flushes before it records progress that counts on them (cellota_boot_* do).
 * A write error can therefore surface from the later call that flushes.
 *
 * The gate's `port` has only the three flash functions, with the gate as their context: do not
 * move a gate after init.
 */
#ifndef CELLOTA_BOOT_GATE_H
#define CELLOTA_BOOT_GATE_H

#include "core/flash_area.h"
#include "core/port.h"

#include <stdint.h>

#define CELLOTA_BOOT_GATE_PROGRAM_SIZE 256u

typedef struct cellota_boot_gate {
    cellota_port port; /* hand this to whatever writes: the flash calls go through the gate */
    const cellota_port *inner;
    const cellota_flash_area *allowed; /* NULL: nothing may be written */
    uint32_t collected_address;        /* flash address of collected[0] */
    uint32_t collected_length;
    uint8_t collected[CELLOTA_BOOT_GATE_PROGRAM_SIZE];
} cellota_boot_gate;

/* A gate in front of `inner` (which must outlive it) that allows nothing yet. */
void cellota_boot_gate_init(cellota_boot_gate *gate, const cellota_port *inner);

/* Makes `area` the one allowed area (NULL: none). Flushes first and returns its result. */
int cellota_boot_gate_allow(cellota_boot_gate *gate, const cellota_flash_area *area);

/* Programs whatever is collected. CELLOTA_OK or the flash's write error. */
int cellota_boot_gate_flush(cellota_boot_gate *gate);

#endif
