/*
 * The bootloader core's state machine (behaviour in boot.h). Every decision that changes what
 * a later reset must do is committed to the journal before it is acted on; everything else is
 * recomputed from the journal at every reset, so the machine holds nothing across resets.
 */
#include "boot/boot.h"

#include "core/error.h"

#include <string.h>

enum phase {
    PHASE_LOAD,
    PHASE_DECIDE,
    PHASE_HASH,
    PHASE_MODEM_SIZE,
    PHASE_MODEM_VERIFY,
    PHASE_MODEM_WRITE,
    PHASE_DONE,
    PHASE_FAILED
};

enum purpose { PURPOSE_TRIAL, PURPOSE_ACTIVE };

/* A state that keeps changing without booting is a defect; stop instead of looping. */
#define DECISIONS_MAX 8

void cellota_boot_init(cellota_boot *boot, const cellota_port *port,
                       const cellota_boot_layout *layout, const cellota_boot_source *source)
{
    memset(boot, 0, sizeof(*boot));
    boot->port = port;
    boot->layout = layout;
    boot->source = source;
    cellota_boot_gate_init(&boot->gate, port);
}

const cellota_boot_decision *cellota_boot_result(const cellota_boot *boot)
{
    return &boot->decision;
}

static void kick(const cellota_boot *boot)
{
    if (boot->port->watchdog_kick)
        boot->port->watchdog_kick(boot->port->context);
}

static const cellota_boot_region *application(const cellota_boot *boot, unsigned slot)
{
    return cellota_boot_layout_region(boot->layout, CELLOTA_BOOT_REGION_APPLICATION, slot);
}

static cellota_boot_known *installing(cellota_boot *boot)
{
    return &boot->state.images[boot->state.operation_slot % 3];
}

static int commit_and_decide(cellota_boot *boot)
{
    int result = cellota_boot_state_commit(&boot->journal, &boot->state);
    if (result != CELLOTA_OK)
        return result;
    boot->phase = PHASE_DECIDE;
    return CELLOTA_IN_PROGRESS;
}

static int start(cellota_boot *boot, uint8_t slot, bool trial)
{
    const cellota_boot_image *image = &boot->state.slots[slot];
    boot->decision.slot = slot;
    boot->decision.address = application(boot, slot)->area.address;
    boot->decision.size = image->size;
    boot->decision.version = image->version;
    boot->decision.trial = trial;
    boot->phase = PHASE_DONE;
    return CELLOTA_OK;
}

/* Installs the current image again from the modem (the slot that held it is unusable). */
static int reinstall(cellota_boot *boot)
{
    boot->state.operation = CELLOTA_BOOT_OPERATION_MODEM_VERIFY;
    boot->state.operation_slot = CELLOTA_BOOT_CURRENT;
    boot->state.flags = CELLOTA_BOOT_RESTORE;
    return commit_and_decide(boot);
}

/* --- verifying a slot before it is started ------------------------------------------------ */

static int verified(cellota_boot *boot, bool matches)
{
    cellota_boot_state *state = &boot->state;
    uint8_t other = (uint8_t)(state->active ^ 1u);

    if (boot->purpose == PURPOSE_TRIAL) {
        const cellota_boot_image *image = &state->slots[state->trial_slot];
        if (matches &&
            cellota_boot_version_allowed(state->security_version, image->version, state->flags)) {
            int result;
            state->trial = CELLOTA_BOOT_TRIAL_TRYING;
            result = cellota_boot_state_commit(&boot->journal, state);
            return result == CELLOTA_OK ? start(boot, state->trial_slot, true) : result;
        }
        cellota_boot_state_reject_trial(state, matches ? CELLOTA_BOOT_VERSION_TOO_OLD
                                                       : CELLOTA_BOOT_TRIAL_HASH_MISMATCH);
        return commit_and_decide(boot);
    }
    if (matches)
        return start(boot, state->active, false);

    /* The confirmed image is damaged: fall back on the other slot, or reinstall it. */
    state->last_error = CELLOTA_BOOT_APP_HASH_MISMATCH;
    state->slots[state->active].size = 0;
    if (application(boot, other) && state->slots[other].size != 0 &&
        cellota_boot_version_allowed(state->security_version, state->slots[other].version, 0)) {
        state->active = other;
        return commit_and_decide(boot);
    }
    if (state->images[CELLOTA_BOOT_CURRENT].name[0] != '\0')
        return reinstall(boot);
    return CELLOTA_BOOT_NO_BOOTABLE_IMAGE;
}

static int verify(cellota_boot *boot, uint8_t slot, uint8_t purpose)
{
    const cellota_boot_region *region = application(boot, slot);
    const cellota_boot_image *image = &boot->state.slots[slot];

    boot->purpose = purpose;
    if (!region || image->size == 0 || image->size > region->area.size)
        return verified(boot, false);
    cellota_boot_hasher_start(&boot->hasher, region->area.address, image->size);
    boot->phase = PHASE_HASH;
    return CELLOTA_IN_PROGRESS;
}

static int hash_step(cellota_boot *boot)
{
    const cellota_boot_state *state = &boot->state;
    uint8_t slot = boot->purpose == PURPOSE_TRIAL ? state->trial_slot : state->active;
    bool matches = false;
    int result =
        cellota_boot_hasher_step(&boot->hasher, boot->port, boot->buffer, sizeof(boot->buffer),
                                 state->slots[slot].sha256, &matches);
    kick(boot);
    return result == CELLOTA_OK ? verified(boot, matches) : result;
}

/* --- installing from the modem ------------------------------------------------------------ */

/*
 * One poll of the source, with a deadline per call and a bounded number of retries.
 * `size` non-NULL asks for the file's size, otherwise reads `length` bytes at boot->offset.
 */
static int poll_source(cellota_boot *boot, uint32_t *size, size_t length)
{
    const cellota_boot_source *source = boot->source;
    const char *name = installing(boot)->name;
    uint32_t now = boot->port->now_ms(boot->port->context);
    int result = size ? source->size(source->context, name, size)
                      : source->read(source->context, name, boot->offset, boot->buffer, length);

    if (result == CELLOTA_IN_PROGRESS) {
        if (!boot->waiting) {
            boot->waiting = true;
            boot->waiting_since = now;
        }
        if (now - boot->waiting_since < CELLOTA_BOOT_SOURCE_TIMEOUT_MS)
            return CELLOTA_IN_PROGRESS;
        if (source->cancel)
            source->cancel(source->context);
        result = CELLOTA_BOOT_SOURCE_TIMEOUT;
    }
    boot->waiting = false;
    if (result == CELLOTA_OK) {
        boot->retries = 0;
        return CELLOTA_OK;
    }
    if (boot->retries < CELLOTA_BOOT_SOURCE_RETRIES) {
        boot->retries++;
        kick(boot); /* a bounded retry is progress; a modem that never answers still ends */
        return CELLOTA_IN_PROGRESS;
    }
    boot->retries = 0;
    return result;
}

/* The staged image failed before the application slot was touched. */
static int verify_failed(cellota_boot *boot, int error)
{
    cellota_boot_state *state = &boot->state;
    state->last_error = error;
    if (state->flags & CELLOTA_BOOT_RESTORE) {
        /* Nothing else to boot: keep the operation so the next reset tries the modem again. */
        if (state->slots[state->active].size == 0)
            return error;
        /* Rolling back: the image on trial is intact and verified; keep it. */
        state->last_error = CELLOTA_BOOT_ROLLBACK_IMAGE_BAD;
    }
    state->operation = CELLOTA_BOOT_OPERATION_NONE;
    state->flags = 0;
    return commit_and_decide(boot);
}

static int modem_begin(cellota_boot *boot)
{
    cellota_boot_state *state = &boot->state;
    const cellota_fw_info *info = &installing(boot)->info;
    const cellota_flash_area *area = &application(boot, state->active)->area;
    int result;

    boot->offset = 0;
    boot->retries = 0;
    boot->waiting = false;
    if (!boot->source)
        return CELLOTA_BOOT_NO_SOURCE;
    if (state->operation == CELLOTA_BOOT_OPERATION_MODEM_VERIFY) {
        if (info->load_address != 0 && info->load_address != area->address)
            return verify_failed(boot, CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH);
        if (info->plain_size > area->size)
            return verify_failed(boot, CELLOTA_IMAGE_TOO_LARGE);
        result = cellota_pipeline_begin(&boot->pipeline, NULL, NULL, info);
        if (result != CELLOTA_OK)
            return verify_failed(boot, result);
        boot->phase = PHASE_MODEM_SIZE;
        return CELLOTA_IN_PROGRESS;
    }
    if ((result = cellota_boot_gate_allow(&boot->gate, area)) != CELLOTA_OK)
        return result;
    result = CELLOTA_IMAGE_STATE_INVALID;
    if (state->flags & CELLOTA_BOOT_HAS_CHECKPOINT)
        result = cellota_pipeline_restore(&boot->pipeline, &boot->gate.port, area, info,
                                          state->checkpoint);
    if (result == CELLOTA_IMAGE_STATE_INVALID)
        result = cellota_pipeline_begin(&boot->pipeline, &boot->gate.port, area, info);
    if (result != CELLOTA_OK)
        return result;
    boot->offset = cellota_pipeline_offset(&boot->pipeline);
    boot->checkpointed = boot->pipeline.checkpoint.offset;
    boot->phase = PHASE_MODEM_WRITE;
    return CELLOTA_IN_PROGRESS;
}

static int modem_finish(cellota_boot *boot)
{
    cellota_boot_state *state = &boot->state;
    int result = cellota_pipeline_finish(&boot->pipeline), flushed;

    if (boot->phase == PHASE_MODEM_VERIFY) {
        if (result != CELLOTA_OK)
            return verify_failed(boot, result);
        /* Checked: from here the slot is rewritten, and only finishing makes it bootable. */
        state->operation = CELLOTA_BOOT_OPERATION_MODEM_WRITE;
        state->flags &= (uint8_t)~CELLOTA_BOOT_HAS_CHECKPOINT;
        state->slots[state->active].size = 0;
        return commit_and_decide(boot);
    }
    if ((flushed = cellota_boot_gate_flush(&boot->gate)) != CELLOTA_OK)
        return flushed;
    state->operation = CELLOTA_BOOT_OPERATION_NONE;
    state->flags &= (uint8_t)~CELLOTA_BOOT_HAS_CHECKPOINT;
    if (result == CELLOTA_OK) {
        cellota_boot_image_from(&state->slots[state->active], &installing(boot)->info);
        if (state->flags & CELLOTA_BOOT_RESTORE) {
            state->flags = 0;
        } else {
            state->trial = CELLOTA_BOOT_TRIAL_PENDING;
            state->trial_slot = state->active;
        }
        return commit_and_decide(boot);
    }
    /* Checked ciphertext that does not decrypt to its plain hash: a wrong key. */
    state->last_error = result;
    if (state->flags & CELLOTA_BOOT_RESTORE) {
        state->flags = 0;
        result = commit_and_decide(boot);
        return result == CELLOTA_IN_PROGRESS ? CELLOTA_BOOT_NO_BOOTABLE_IMAGE : result;
    }
    return reinstall(boot);
}

static int modem_step(cellota_boot *boot)
{
    cellota_boot_state *state = &boot->state;
    uint32_t encrypted_size = installing(boot)->info.encrypted_size, chunk, page;
    bool writing = boot->phase == PHASE_MODEM_WRITE;
    int result;

    if (boot->phase == PHASE_MODEM_SIZE) {
        uint32_t size = 0;
        result = poll_source(boot, &size, 0);
        if (result == CELLOTA_OK && size != encrypted_size)
            result = CELLOTA_BOOT_SOURCE_SIZE_MISMATCH;
        if (result == CELLOTA_OK)
            boot->phase = PHASE_MODEM_VERIFY;
        return result == CELLOTA_OK || result == CELLOTA_IN_PROGRESS ? CELLOTA_IN_PROGRESS
                                                                     : verify_failed(boot, result);
    }
    if (boot->offset == encrypted_size)
        return modem_finish(boot);
    chunk = encrypted_size - boot->offset;
    if (chunk > sizeof(boot->buffer))
        chunk = sizeof(boot->buffer);
    /* Writing: a chunk ends at the erase page's end, where the pipeline takes a checkpoint. */
    page = application(boot, state->active)->area.erase_size;
    if (writing && chunk > page - boot->offset % page)
        chunk = page - boot->offset % page;
    result = poll_source(boot, NULL, chunk);
    if (result == CELLOTA_OK)
        result = cellota_pipeline_feed(&boot->pipeline, boot->buffer, chunk);
    if (result != CELLOTA_OK)
        return result == CELLOTA_IN_PROGRESS || writing ? result : verify_failed(boot, result);
    boot->offset += chunk;
    kick(boot);
    if (writing && boot->pipeline.checkpoint.offset != boot->checkpointed) {
        if ((result = cellota_boot_gate_flush(&boot->gate)) != CELLOTA_OK)
            return result;
        cellota_pipeline_save(&boot->pipeline, state->checkpoint);
        state->flags |= CELLOTA_BOOT_HAS_CHECKPOINT;
        if ((result = cellota_boot_state_commit(&boot->journal, state)) != CELLOTA_OK)
            return result;
        boot->checkpointed = boot->pipeline.checkpoint.offset;
    }
    return CELLOTA_IN_PROGRESS;
}

/* --- what to do next ---------------------------------------------------------------------- */

static int decide(cellota_boot *boot)
{
    cellota_boot_state *state = &boot->state;

    if (++boot->decisions > DECISIONS_MAX)
        return CELLOTA_BOOT_NO_BOOTABLE_IMAGE;
    if (state->operation == CELLOTA_BOOT_OPERATION_MODEM_VERIFY ||
        state->operation == CELLOTA_BOOT_OPERATION_MODEM_WRITE)
        return modem_begin(boot);
    /* STAGING is the application's to finish; BOOTLOADER_COPY the first stage's. */
    if (state->trial == CELLOTA_BOOT_TRIAL_PENDING)
        return verify(boot, state->trial_slot, PURPOSE_TRIAL);
    if (state->trial == CELLOTA_BOOT_TRIAL_TRYING) {
        cellota_boot_state_reject_trial(state, CELLOTA_BOOT_TRIAL_NOT_CONFIRMED);
        return commit_and_decide(boot);
    }
    return verify(boot, state->active, PURPOSE_ACTIVE);
}

int cellota_boot_step(cellota_boot *boot)
{
    int result;

    switch (boot->phase) {
    case PHASE_LOAD:
        result = cellota_boot_state_load(&boot->journal, &boot->state, boot->port, boot->layout);
        if (result == CELLOTA_OK) {
            boot->phase = PHASE_DECIDE;
            result = CELLOTA_IN_PROGRESS;
        }
        break;
    case PHASE_DECIDE:
        result = decide(boot);
        break;
    case PHASE_HASH:
        result = hash_step(boot);
        break;
    case PHASE_MODEM_SIZE:
    case PHASE_MODEM_VERIFY:
    case PHASE_MODEM_WRITE:
        result = modem_step(boot);
        break;
    case PHASE_DONE:
        return CELLOTA_OK;
    default:
        return boot->error;
    }
    if (result != CELLOTA_OK && result != CELLOTA_IN_PROGRESS) {
        boot->error = result;
        boot->phase = PHASE_FAILED;
    }
    return result;
}
