/* The application's side of installs: stage, mark ready, confirm, roll back (see control.h). */
#include "boot/control.h"

#include "core/error.h"

#include <string.h>

int cellota_boot_control_open(cellota_boot_control *control, const cellota_port *port,
                              const cellota_boot_layout *layout)
{
    memset(control, 0, sizeof(*control));
    control->port = port;
    control->layout = layout;
    cellota_boot_gate_init(&control->gate, port);
    return cellota_boot_state_load(&control->journal, &control->state, port, layout);
}

const cellota_boot_state *cellota_boot_control_state(const cellota_boot_control *control)
{
    return &control->state;
}

void cellota_boot_control_status(const cellota_boot_control *control, cellota_boot_status *status)
{
    const cellota_boot_state *state = &control->state;
    bool trying = state->trial == CELLOTA_BOOT_TRIAL_TRYING;

    status->running_slot = trying ? state->trial_slot : state->active;
    status->running_version = state->slots[status->running_slot].version;
    status->on_trial = trying;
    status->operation = (cellota_boot_operation)state->operation;
    status->security_version = state->security_version;
    status->last_error = state->last_error;
}

static int commit(cellota_boot_control *control)
{
    return cellota_boot_state_commit(&control->journal, &control->state);
}

static bool idle(const cellota_boot_state *state)
{
    return state->operation == CELLOTA_BOOT_OPERATION_NONE &&
           state->trial == CELLOTA_BOOT_TRIAL_NONE;
}

static const cellota_flash_area *application_area(const cellota_boot_control *control,
                                                  unsigned slot)
{
    const cellota_boot_region *region =
        cellota_boot_layout_region(control->layout, CELLOTA_BOOT_REGION_APPLICATION, slot);
    return region ? &region->area : NULL;
}

/* The area an install under way writes. */
static const cellota_flash_area *staging_area(const cellota_boot_control *control)
{
    const cellota_boot_region *region;
    if (!(control->state.flags & CELLOTA_BOOT_TARGET_BOOTLOADER))
        return application_area(control, control->state.operation_slot);
    region = cellota_boot_layout_region(control->layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
    return region ? &region->area : NULL;
}

/* The checks every new image passes before anything is recorded for it. */
static int check_image(const cellota_fw_info *info, const cellota_flash_area *area, uint32_t limit,
                       uint32_t floor, unsigned flags, const cellota_boot_image *running,
                       bool encoded)
{
    if (cellota_fw_info_check_sizes(info, encoded) != CELLOTA_OK)
        return CELLOTA_IMAGE_FW_INFO_SIZES;
    if (!cellota_boot_version_allowed(floor, info->version, flags))
        return CELLOTA_BOOT_VERSION_TOO_OLD;
    if (info->load_address != 0 && info->load_address != area->address)
        return CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH;
    if (info->plain_size > limit)
        return CELLOTA_IMAGE_TOO_LARGE;
    if (running && running->size == info->plain_size &&
        memcmp(running->sha256, info->plain_sha256, 32) == 0)
        return CELLOTA_BOOT_ALREADY_INSTALLED;
    return CELLOTA_OK;
}

int cellota_boot_begin_install(cellota_boot_control *control, const cellota_fw_info *info,
                               unsigned flags, cellota_pipeline *pipeline)
{
    return cellota_boot_begin_install_encoded(control, info, flags, pipeline, NULL, NULL);
}

int cellota_boot_begin_install_encoded(cellota_boot_control *control, const cellota_fw_info *info,
                                       unsigned flags, cellota_pipeline *pipeline,
                                       const cellota_pipeline_encoding *encoding,
                                       cellota_pipeline_decoder *decoder)
{
    cellota_boot_state *state = &control->state;
    const cellota_flash_area *area;
    bool encoded = encoding && encoding->kind != 0;
    uint8_t slot = 0;
    int result;

    if (!idle(state))
        return CELLOTA_BOOT_OPERATION_IN_PROGRESS;
    flags &= CELLOTA_BOOT_ALLOW_DOWNGRADE | CELLOTA_BOOT_TARGET_BOOTLOADER;
    if (flags & CELLOTA_BOOT_TARGET_BOOTLOADER) {
        const cellota_boot_region *staging =
            cellota_boot_layout_region(control->layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
        const cellota_boot_region *bootloader =
            cellota_boot_layout_region(control->layout, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
        if (!staging || !bootloader)
            return CELLOTA_BOOT_NO_STAGING_AREA;
        area = &staging->area;
        /* A bootloader's load address is where it runs: the bootloader region. */
        result = check_image(info, &bootloader->area, bootloader->area.size,
                             state->bootloader_security_version, flags, &state->bootloader,
                             encoded);
    } else {
        slot = (uint8_t)(state->active ^ 1u);
        area = application_area(control, slot);
        if (!area)
            return CELLOTA_BOOT_NO_SECOND_SLOT;
        result = check_image(info, area, area->size, state->security_version, flags,
                             &state->slots[state->active], encoded);
    }
    if (result != CELLOTA_OK)
        return result;

    state->operation = CELLOTA_BOOT_OPERATION_STAGING;
    state->operation_slot = slot;
    state->flags = (uint8_t)flags;
    state->last_error = CELLOTA_OK;
    memset(&state->images[CELLOTA_BOOT_CANDIDATE], 0, sizeof(state->images[0]));
    state->images[CELLOTA_BOOT_CANDIDATE].info = *info;
    if (!(flags & CELLOTA_BOOT_TARGET_BOOTLOADER))
        state->slots[slot].size = 0; /* about to be overwritten: no longer a rollback target */
    if ((result = commit(control)) != CELLOTA_OK)
        return result;
    return cellota_boot_resume_install_encoded(control, pipeline, encoding, decoder);
}

int cellota_boot_resume_install(cellota_boot_control *control, cellota_pipeline *pipeline)
{
    return cellota_boot_resume_install_encoded(control, pipeline, NULL, NULL);
}

int cellota_boot_resume_install_encoded(cellota_boot_control *control, cellota_pipeline *pipeline,
                                        const cellota_pipeline_encoding *encoding,
                                        cellota_pipeline_decoder *decoder)
{
    cellota_boot_state *state = &control->state;
    const cellota_fw_info *info = &state->images[CELLOTA_BOOT_CANDIDATE].info;
    const cellota_flash_area *area;
    int result;

    if (state->operation != CELLOTA_BOOT_OPERATION_STAGING || !(area = staging_area(control)))
        return CELLOTA_BOOT_NOTHING_STAGED;
    if ((result = cellota_boot_gate_allow(&control->gate, area)) != CELLOTA_OK)
        return result;
    if (state->flags & CELLOTA_BOOT_HAS_CHECKPOINT) {
        result = cellota_pipeline_restore_encoded(pipeline, &control->gate.port, area, info,
                                                  encoding, decoder, state->checkpoint);
        if (result != CELLOTA_IMAGE_STATE_INVALID)
            return result;
    }
    return cellota_pipeline_begin_encoded(pipeline, &control->gate.port, area, info, encoding,
                                          decoder);
}

int cellota_boot_save_progress(cellota_boot_control *control, const cellota_pipeline *pipeline)
{
    cellota_boot_state *state = &control->state;
    uint8_t checkpoint[CELLOTA_PIPELINE_STATE_SIZE];
    int result;

    if (state->operation != CELLOTA_BOOT_OPERATION_STAGING)
        return CELLOTA_BOOT_NOTHING_STAGED;
    /* The checkpoint counts on every byte before it being on flash. */
    if ((result = cellota_boot_gate_flush(&control->gate)) != CELLOTA_OK)
        return result;
    cellota_pipeline_save(pipeline, checkpoint);
    if ((state->flags & CELLOTA_BOOT_HAS_CHECKPOINT) &&
        memcmp(checkpoint, state->checkpoint, sizeof(checkpoint)) == 0)
        return CELLOTA_OK;
    memcpy(state->checkpoint, checkpoint, sizeof(checkpoint));
    state->flags |= CELLOTA_BOOT_HAS_CHECKPOINT;
    return commit(control);
}

int cellota_boot_mark_ready(cellota_boot_control *control)
{
    cellota_boot_state *state = &control->state;
    uint8_t slot = state->operation_slot;
    int result;

    if (state->operation != CELLOTA_BOOT_OPERATION_STAGING)
        return CELLOTA_BOOT_NOTHING_STAGED;
    if ((result = cellota_boot_gate_flush(&control->gate)) != CELLOTA_OK)
        return result;
    state->flags &= (uint8_t)~CELLOTA_BOOT_HAS_CHECKPOINT;
    if (state->flags & CELLOTA_BOOT_TARGET_BOOTLOADER) {
        state->operation = CELLOTA_BOOT_OPERATION_BOOTLOADER_COPY;
    } else {
        cellota_boot_image_from(&state->slots[slot], &state->images[CELLOTA_BOOT_CANDIDATE].info);
        state->operation = CELLOTA_BOOT_OPERATION_NONE;
        state->trial = CELLOTA_BOOT_TRIAL_PENDING;
        state->trial_slot = slot;
    }
    return commit(control);
}

int cellota_boot_cancel(cellota_boot_control *control)
{
    cellota_boot_state *state = &control->state;
    if (state->operation != CELLOTA_BOOT_OPERATION_STAGING)
        return CELLOTA_BOOT_NOTHING_STAGED;
    cellota_boot_gate_allow(&control->gate, NULL); /* anything collected is abandoned anyway */
    state->operation = CELLOTA_BOOT_OPERATION_NONE;
    state->flags = 0;
    return commit(control);
}

int cellota_boot_stage_modem(cellota_boot_control *control, const cellota_fw_info *info,
                             const char *name, unsigned flags)
{
    cellota_boot_state *state = &control->state;
    cellota_boot_known *candidate = &state->images[CELLOTA_BOOT_CANDIDATE];
    const cellota_flash_area *area = application_area(control, state->active);
    size_t length = name ? strlen(name) : 0;
    int result;

    if (!idle(state))
        return CELLOTA_BOOT_OPERATION_IN_PROGRESS;
    if (length == 0 || length > CELLOTA_BOOT_NAME_MAX)
        return CELLOTA_BOOT_NAME_INVALID;
    if (state->images[CELLOTA_BOOT_CURRENT].name[0] == '\0')
        return CELLOTA_BOOT_NO_ROLLBACK_IMAGE;
    /* The bootloader installs the modem's file as it is: only a plain image. */
    result = check_image(info, area, area->size, state->security_version, flags,
                         &state->slots[state->active], false);
    if (result != CELLOTA_OK)
        return result;
    memset(candidate, 0, sizeof(*candidate));
    candidate->info = *info;
    memcpy(candidate->name, name, length);
    state->operation = CELLOTA_BOOT_OPERATION_MODEM_VERIFY;
    state->operation_slot = CELLOTA_BOOT_CANDIDATE;
    state->flags = (uint8_t)(flags & CELLOTA_BOOT_ALLOW_DOWNGRADE);
    state->last_error = CELLOTA_OK;
    return commit(control);
}

int cellota_boot_confirm(cellota_boot_control *control)
{
    cellota_boot_state *state = &control->state;
    const cellota_boot_image *image = &state->slots[state->trial_slot];

    if (state->trial != CELLOTA_BOOT_TRIAL_TRYING)
        return CELLOTA_BOOT_NOT_IN_TRIAL;
    if ((state->flags & CELLOTA_BOOT_ALLOW_DOWNGRADE) || image->version > state->security_version)
        state->security_version = image->version;
    state->active = state->trial_slot;
    state->trial = CELLOTA_BOOT_TRIAL_NONE;
    state->flags = 0;
    state->last_error = CELLOTA_OK;
    state->images[CELLOTA_BOOT_PREVIOUS] = state->images[CELLOTA_BOOT_CURRENT];
    state->images[CELLOTA_BOOT_CURRENT] = state->images[CELLOTA_BOOT_CANDIDATE];
    memset(&state->images[CELLOTA_BOOT_CANDIDATE], 0, sizeof(state->images[0]));
    return commit(control);
}

int cellota_boot_request_rollback(cellota_boot_control *control, unsigned flags)
{
    cellota_boot_state *state = &control->state;
    const cellota_boot_known *previous = &state->images[CELLOTA_BOOT_PREVIOUS];
    uint8_t other = (uint8_t)(state->active ^ 1u);

    if (state->trial == CELLOTA_BOOT_TRIAL_TRYING) {
        cellota_boot_state_reject_trial(state, CELLOTA_BOOT_TRIAL_NOT_CONFIRMED);
        return commit(control);
    }
    if (!idle(state))
        return CELLOTA_BOOT_OPERATION_IN_PROGRESS;
    flags &= CELLOTA_BOOT_ALLOW_DOWNGRADE;
    if (previous->name[0] != '\0') {
        /* Modem staged: reinstall the previous image's file, on trial like any install. */
        if (!cellota_boot_version_allowed(state->security_version, previous->info.version, flags))
            return CELLOTA_BOOT_VERSION_TOO_OLD;
        state->images[CELLOTA_BOOT_CANDIDATE] = *previous;
        state->operation = CELLOTA_BOOT_OPERATION_MODEM_VERIFY;
        state->operation_slot = CELLOTA_BOOT_CANDIDATE;
    } else {
        if (!application_area(control, other) || state->slots[other].size == 0)
            return CELLOTA_BOOT_NO_ROLLBACK_IMAGE;
        if (!cellota_boot_version_allowed(state->security_version, state->slots[other].version,
                                          flags))
            return CELLOTA_BOOT_VERSION_TOO_OLD;
        state->images[CELLOTA_BOOT_CANDIDATE] = *previous;
        state->trial = CELLOTA_BOOT_TRIAL_PENDING;
        state->trial_slot = other;
    }
    state->flags = (uint8_t)flags;
    state->last_error = CELLOTA_OK;
    return commit(control);
}

int cellota_boot_provision(const cellota_port *port, const cellota_boot_layout *layout,
                           const cellota_boot_image *application,
                           const cellota_boot_image *bootloader,
                           const cellota_boot_known *modem_image)
{
    const cellota_boot_region *region =
        cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_JOURNAL, 0);
    cellota_journal journal;
    cellota_boot_state state;
    int result;

    if (!region)
        return CELLOTA_BOOT_LAYOUT_INVALID;
    result = port->flash_erase(port->context, region->area.address, region->area.size);
    if (result == CELLOTA_OK)
        result = cellota_journal_open(&journal, port, &region->area);
    if (result != CELLOTA_OK)
        return result;
    memset(&state, 0, sizeof(state));
    state.format = CELLOTA_BOOT_STATE_FORMAT;
    state.slots[0] = *application;
    state.security_version = application->version;
    if (bootloader) {
        state.bootloader = *bootloader;
        state.bootloader_security_version = bootloader->version;
    }
    if (modem_image)
        state.images[CELLOTA_BOOT_CURRENT] = *modem_image;
    return cellota_boot_state_commit(&journal, &state);
}
