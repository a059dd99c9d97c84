/*
 * A simulated NOR flash for the host, strict the way real flash is strict:
 *   - writes must be aligned to write_size and may only program a write unit once between
 *     erases (a second write is refused and counted as a violation);
 *   - erase takes whole erase pages;
 *   - power can be cut at the Nth write or erase. The cut operation is torn the way real flash
 *     tears: a write programs a random prefix of its units and leaves the next unit with random
 *     bits programmed; an erase leaves each byte of the page erased, untouched or random.
 *     After the cut every operation fails until flash_sim_power_on(), and the optional
 *     power_cut callback runs (a harness longjmps out of the device code from it, because a
 *     real CPU does not get to handle a power cut).
 *
 * The read/write/erase functions have the cellota_port signatures, so a port can point at them
 * with the flash_sim as context. Memory can be private or a file mapped with MAP_SHARED, which
 * is how cellota-device's flash persists across runs.
 */
#ifndef CELLOTA_PORT_SIM_FLASH_SIM_H
#define CELLOTA_PORT_SIM_FLASH_SIM_H

#include "core/flash_area.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct flash_sim {
    cellota_flash_area geometry; /* the whole device: address is the base of flash */
    uint8_t *memory;
    uint8_t *unit_written; /* one flag per write unit: programmed since its last erase */
    bool mapped;           /* memory is a file mapping */

    uint64_t operations;   /* writes + erases performed (a torn one counts) */
    uint64_t writes, erases, bytes_written;
    uint64_t violations;   /* writes refused for breaking the write-once or alignment rule */

    uint64_t cut_at;       /* cut power during operation number cut_at (1-based); 0 = never */
    bool powered;
    uint64_t random_state; /* for torn contents; set by flash_sim_seed */
    void (*power_cut)(void *user); /* called after a cut, may not return */
    void *power_cut_user;
} flash_sim;

/* A flash of `geometry` in private memory, every byte erased. 0 or an error code. */
int flash_sim_create(flash_sim *flash, const cellota_flash_area *geometry);

/* A flash of `geometry` backed by the file at `path` (created erased if missing or the wrong
 * size). Units that do not read as erased count as written. 0 or an error code. */
int flash_sim_open_file(flash_sim *flash, const cellota_flash_area *geometry, const char *path);

void flash_sim_destroy(flash_sim *flash);

/* Cut power during operation `operations + after` (after >= 1), or never when after == 0. */
void flash_sim_schedule_cut(flash_sim *flash, uint64_t after);
void flash_sim_power_on(flash_sim *flash);
void flash_sim_seed(flash_sim *flash, uint64_t seed);

/* Port functions; context is the flash_sim. */
int flash_sim_read(void *context, uint32_t address, void *buffer, size_t length);
int flash_sim_write(void *context, uint32_t address, const void *data, size_t length);
int flash_sim_erase(void *context, uint32_t address, size_t length);

#endif
