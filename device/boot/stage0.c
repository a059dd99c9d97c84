/* The first stage's bootloader switch and repair (behaviour in stage0.h). */
#include "boot/stage0.h"

#include "core/error.h"

#include <string.h>

enum phase {
    PHASE_LOAD,
    PHASE_HASH_STAGING,
    PHASE_HASH_REGION,
    PHASE_COPY,
    PHASE_DONE,
    PHASE_FAILED
};

void cellota_stage0_init(cellota_stage0 *stage0, const cellota_port *port,
                         const cellota_boot_layout *layout)
{
    memset(stage0, 0, sizeof(*stage0));
    stage0->port = port;
    stage0->layout = layout;
    stage0->bootloader = cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
    stage0->staging = cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
    cellota_boot_gate_init(&stage0->gate, port);
}

static bool switching(const cellota_stage0 *stage0)
{
    return stage0->state.operation == CELLOTA_BOOT_OPERATION_BOOTLOADER_COPY;
}

static void hash(cellota_stage0 *stage0, const cellota_boot_region *region, uint8_t phase)
{
    cellota_boot_hasher_start(&stage0->hasher, region->area.address, stage0->target.size);
    stage0->phase = phase;
}

static int load(cellota_stage0 *stage0)
{
    cellota_boot_state *state = &stage0->state;
    int result = cellota_boot_state_load(&stage0->journal, state, stage0->port, stage0->layout);

    if (result != CELLOTA_OK)
        return result;
    if (!stage0->bootloader || !stage0->staging) {
        stage0->phase = PHASE_DONE;
        return CELLOTA_OK;
    }
    if (switching(stage0)) {
        cellota_boot_image_from(&stage0->target, &state->images[CELLOTA_BOOT_CANDIDATE].info);
        if (stage0->target.size > stage0->bootloader->area.size)
            stage0->target.size = 0; /* cannot be the staged bootloader: fails its check */
        hash(stage0, stage0->staging, PHASE_HASH_STAGING);
        return CELLOTA_IN_PROGRESS;
    }
    stage0->target = state->bootloader;
    if (stage0->target.size == 0 || stage0->target.size > stage0->bootloader->area.size) {
        stage0->phase = PHASE_DONE;
        return CELLOTA_OK;
    }
    hash(stage0, stage0->bootloader, PHASE_HASH_REGION);
    return CELLOTA_IN_PROGRESS;
}

static int commit_done(cellota_stage0 *stage0)
{
    int result = cellota_boot_state_commit(&stage0->journal, &stage0->state);
    stage0->phase = PHASE_DONE;
    return result;
}

static int begin_copy(cellota_stage0 *stage0)
{
    stage0->offset = 0;
    stage0->phase = PHASE_COPY;
    return cellota_boot_gate_allow(&stage0->gate, &stage0->bootloader->area) == CELLOTA_OK
               ? CELLOTA_IN_PROGRESS
               : CELLOTA_FLASH_WRITE_FAILED;
}

static int hashed(cellota_stage0 *stage0, bool matches)
{
    cellota_boot_state *state = &stage0->state;

    if (stage0->phase == PHASE_HASH_STAGING) {
        if (matches) {
            stage0->staged_verified = true;
            if (stage0->region_bad)
                return begin_copy(stage0);
            /* Copy unless the region holds it already (a cut after the copy, before the
             * record). */
            hash(stage0, stage0->bootloader, PHASE_HASH_REGION);
            return CELLOTA_IN_PROGRESS;
        }
        if (!switching(stage0))
            return CELLOTA_BOOT_BOOTLOADER_CORRUPT;
        state->operation = CELLOTA_BOOT_OPERATION_NONE;
        state->flags = 0;
        state->last_error = CELLOTA_BOOT_BOOTLOADER_STAGING_BAD;
        return commit_done(stage0);
    }
    if (matches) {
        if (!switching(stage0)) {
            stage0->phase = PHASE_DONE;
            return CELLOTA_OK;
        }
        state->bootloader = stage0->target;
        if ((state->flags & CELLOTA_BOOT_ALLOW_DOWNGRADE) ||
            stage0->target.version > state->bootloader_security_version)
            state->bootloader_security_version = stage0->target.version;
        state->operation = CELLOTA_BOOT_OPERATION_NONE;
        state->flags = 0;
        state->last_error = CELLOTA_OK;
        memset(&state->images[CELLOTA_BOOT_CANDIDATE], 0, sizeof(state->images[0]));
        return commit_done(stage0);
    }
    if (stage0->copies >= 2) /* copied twice and still wrong: the flash is failing */
        return CELLOTA_BOOT_BOOTLOADER_CORRUPT;
    stage0->region_bad = true;
    if (stage0->staged_verified)
        return begin_copy(stage0);
    /* Repair: only from a staging area that verifies as the recorded bootloader. */
    hash(stage0, stage0->staging, PHASE_HASH_STAGING);
    return CELLOTA_IN_PROGRESS;
}

/* Erases one page of the bootloader region and copies the staged bytes for it. */
static int copy_page(cellota_stage0 *stage0)
{
    const cellota_port *port = stage0->port, *gate = &stage0->gate.port;
    const cellota_flash_area *area = &stage0->bootloader->area;
    uint32_t page_end = stage0->offset + area->erase_size, write_size = area->write_size;
    int result = gate->flash_erase(gate->context, area->address + stage0->offset, area->erase_size);

    while (result == CELLOTA_OK && stage0->offset < page_end &&
           stage0->offset < stage0->target.size) {
        uint32_t take = stage0->target.size - stage0->offset;
        if (take > sizeof(stage0->buffer))
            take = sizeof(stage0->buffer);
        take = (take + write_size - 1) & ~(write_size - 1); /* whole write units */
        result = port->flash_read(port->context, stage0->staging->area.address + stage0->offset,
                                  stage0->buffer, take);
        if (result == CELLOTA_OK)
            result = gate->flash_write(gate->context, area->address + stage0->offset,
                                       stage0->buffer, take);
        stage0->offset += take;
    }
    if (result == CELLOTA_OK)
        result = cellota_boot_gate_flush(&stage0->gate);
    if (result != CELLOTA_OK)
        return result;
    stage0->offset = page_end;
    if (stage0->offset >= stage0->target.size) {
        stage0->copies++;
        hash(stage0, stage0->bootloader, PHASE_HASH_REGION);
    }
    return CELLOTA_IN_PROGRESS;
}

int cellota_stage0_step(cellota_stage0 *stage0)
{
    int result;
    bool matches = false;

    switch (stage0->phase) {
    case PHASE_LOAD:
        result = load(stage0);
        break;
    case PHASE_HASH_STAGING:
    case PHASE_HASH_REGION:
        result = cellota_boot_hasher_step(&stage0->hasher, stage0->port, stage0->buffer,
                                          sizeof(stage0->buffer), stage0->target.sha256, &matches);
        if (result == CELLOTA_OK)
            result = hashed(stage0, matches);
        break;
    case PHASE_COPY:
        result = copy_page(stage0);
        break;
    case PHASE_DONE:
        return CELLOTA_OK;
    default:
        return stage0->error;
    }
    if (stage0->port->watchdog_kick)
        stage0->port->watchdog_kick(stage0->port->context);
    if (result != CELLOTA_OK && result != CELLOTA_IN_PROGRESS) {
        stage0->error = result;
        stage0->phase = PHASE_FAILED;
    }
    return result;
}
