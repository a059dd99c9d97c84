/* The install state record and the rules the bootloader and the application share (state.h). */
#include "boot/state.h"

#include "core/error.h"

#include <string.h>

/* The record is the struct's bytes: fixed-width fields, none needing padding. */
typedef char state_size_is_fixed[sizeof(cellota_boot_state) == 832 ? 1 : -1];
typedef char fw_info_has_no_padding[sizeof(cellota_fw_info) == CELLOTA_FW_INFO_SIZE ? 1 : -1];

int cellota_boot_state_load(cellota_journal *journal, cellota_boot_state *state,
                            const cellota_port *port, const cellota_boot_layout *layout)
{
    const cellota_boot_region *region =
        cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_JOURNAL, 0);
    size_t length;
    int result;

    if (!region)
        return CELLOTA_BOOT_LAYOUT_INVALID;
    result = cellota_journal_open(journal, port, &region->area);
    if (result == CELLOTA_OK)
        result = cellota_journal_read(journal, state, sizeof(*state), &length);
    if (result == CELLOTA_BUFFER_TOO_SMALL ||
        (result == CELLOTA_OK &&
         (length != sizeof(*state) || state->format != CELLOTA_BOOT_STATE_FORMAT)))
        result = CELLOTA_BOOT_NOT_PROVISIONED;
    return result;
}

int cellota_boot_state_commit(cellota_journal *journal, const cellota_boot_state *state)
{
    return cellota_journal_append(journal, state, sizeof(*state));
}

bool cellota_boot_version_allowed(uint32_t floor, uint32_t version, unsigned flags)
{
    return version >= floor || (flags & CELLOTA_BOOT_ALLOW_DOWNGRADE);
}

void cellota_boot_image_from(cellota_boot_image *image, const cellota_fw_info *info)
{
    image->version = info->version;
    image->size = info->plain_size;
    memcpy(image->sha256, info->plain_sha256, 32);
}

void cellota_boot_state_reject_trial(cellota_boot_state *state, int error)
{
    uint8_t slot = state->trial_slot;

    state->trial = CELLOTA_BOOT_TRIAL_NONE;
    state->last_error = error;
    if (slot != state->active) {
        state->slots[slot].size = 0;
        state->flags = 0;
        return;
    }
    /* The image on trial overwrote the confirmed one: put that back from the modem. A trial
     * image that failed its hash cannot be fallen back on if the modem copy fails too. */
    if (error == CELLOTA_BOOT_TRIAL_HASH_MISMATCH)
        state->slots[slot].size = 0;
    if (state->images[CELLOTA_BOOT_CURRENT].name[0] == '\0') {
        state->flags = 0;
        return;
    }
    state->operation = CELLOTA_BOOT_OPERATION_MODEM_VERIFY;
    state->operation_slot = CELLOTA_BOOT_CURRENT;
    state->flags = CELLOTA_BOOT_RESTORE;
}

void cellota_boot_hasher_start(cellota_boot_hasher *hasher, uint32_t address, uint32_t size)
{
    hasher->address = address;
    hasher->size = size;
    hasher->done = 0;
    mbedtls_sha256_init(&hasher->sha);
    mbedtls_sha256_starts_ret(&hasher->sha, 0);
}

int cellota_boot_hasher_step(cellota_boot_hasher *hasher, const cellota_port *port, uint8_t *buffer,
                             size_t capacity, const uint8_t expected[32], bool *matches)
{
    uint32_t budget = 4096;
    uint8_t digest[32];
    /* a port that knows the whole region's digest (hash engine, simulator) spares the reading */
    bool given = port->flash_sha256 &&
                 port->flash_sha256(port->context, hasher->address, hasher->size, digest) ==
                     CELLOTA_OK;

    while (!given && hasher->done < hasher->size && budget > 0) {
        uint32_t take = hasher->size - hasher->done;
        int result;
        if (take > capacity)
            take = (uint32_t)capacity;
        if (take > budget)
            take = budget;
        result = port->flash_read(port->context, hasher->address + hasher->done, buffer, take);
        if (result != CELLOTA_OK)
            return result;
        if (mbedtls_sha256_update_ret(&hasher->sha, buffer, take) != 0)
            return CELLOTA_CRYPTO_FAILED;
        hasher->done += take;
        budget -= take;
    }
    if (!given) {
        if (hasher->done < hasher->size)
            return CELLOTA_IN_PROGRESS;
        if (mbedtls_sha256_finish_ret(&hasher->sha, digest) != 0)
            return CELLOTA_CRYPTO_FAILED;
    }
    *matches = memcmp(digest, expected, 32) == 0;
    return CELLOTA_OK;
}
