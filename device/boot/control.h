/*
 * What the application (the cellota agent) calls to install, try, confirm and roll back images.
 * Every call that changes something writes one journal record before it returns, so the
 * bootloader sees the change after any reset.
 *
 * A/B (two application slots, seed 000's ESP32 flow):
 *   cellota_boot_begin_install   -> feed the pipeline it began, cellota_boot_save_progress now
 *                                   and then (a reset resumes with cellota_boot_resume_install)
 *   cellota_pipeline_finish OK   -> cellota_boot_mark_ready -> reboot
 *   the bootloader verifies the slot and boots it on trial; the application runs its self-test
 *   and calls cellota_boot_confirm (esp_ota_mark_app_valid_cancel_rollback), or
 *   cellota_boot_request_rollback (esp_ota_mark_app_invalid_rollback_and_reboot) and reboots.
 *   A reset before either rolls back.
 * Modem-staged single slot (seed 002's nRF52840 flow):
 *   download and check the image into the modem's file system -> cellota_boot_stage_modem
 *   -> reboot; the bootloader installs it and boots it on trial, confirmed as above. The
 *   confirmed image's file must stay in the modem: a failed trial reinstalls it from there.
 * New bootloader: cellota_boot_begin_install with CELLOTA_BOOT_TARGET_BOOTLOADER, as A/B into
 *   the staging area, then cellota_boot_mark_ready and reboot: the first stage switches it.
 *
 * Anti-rollback: an image whose fw_info version is below the security version is refused
 * (CELLOTA_BOOT_VERSION_TOO_OLD) unless flags has CELLOTA_BOOT_ALLOW_DOWNGRADE, which only an
 * operator's signed request should set. The security version rises to an image's version when
 * it is confirmed; a confirmed allowed downgrade lowers it to that image's version.
 */
#ifndef CELLOTA_BOOT_CONTROL_H
#define CELLOTA_BOOT_CONTROL_H

#include "boot/gate.h"
#include "boot/journal.h"
#include "boot/layout.h"
#include "boot/state.h"
#include "core/port.h"
#include "image/fw_info.h"
#include "image/pipeline.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cellota_boot_control {
    const cellota_port *port;
    const cellota_boot_layout *layout;
    cellota_journal journal;
    cellota_boot_state state;
    cellota_boot_gate gate; /* every image byte the application writes goes through it */
} cellota_boot_control;

typedef struct cellota_boot_status {
    uint8_t running_slot;             /* the application slot the bootloader started */
    uint32_t running_version;         /* its fw_info version */
    bool on_trial;                    /* confirm after the self-test, or request a rollback */
    cellota_boot_operation operation; /* what is under way, NONE when idle */
    uint32_t security_version;
    int last_error; /* the last install or trial failure, CELLOTA_OK when none */
} cellota_boot_status;

/* Reads the install state. `port` and `layout` must outlive the control, which must not move
 * while a pipeline it began is in use. CELLOTA_BOOT_NOT_PROVISIONED, a flash error. */
int cellota_boot_control_open(cellota_boot_control *control, const cellota_port *port,
                              const cellota_boot_layout *layout);

void cellota_boot_control_status(const cellota_boot_control *control, cellota_boot_status *status);

/* The whole install state (read only), for status reports and tools. */
const cellota_boot_state *cellota_boot_control_state(const cellota_boot_control *control);

/*
 * Starts writing the image `info` describes: into the inactive application slot, or with
 * CELLOTA_BOOT_TARGET_BOOTLOADER into the bootloader staging area. Records the install (the
 * inactive slot stops being a rollback target) and begins `pipeline` there, through the gate:
 * feed it the encrypted image. `flags`: CELLOTA_BOOT_ALLOW_DOWNGRADE,
 * CELLOTA_BOOT_TARGET_BOOTLOADER. CELLOTA_BOOT_OPERATION_IN_PROGRESS (an install or trial is under
 * way), CELLOTA_BOOT_NO_SECOND_SLOT, CELLOTA_BOOT_NO_STAGING_AREA, CELLOTA_BOOT_VERSION_TOO_OLD,
 * CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH (load_address neither 0 nor the area's start),
 * CELLOTA_BOOT_ALREADY_INSTALLED, CELLOTA_IMAGE_TOO_LARGE, CELLOTA_IMAGE_FW_INFO_SIZES, a
 * journal or flash error.
 */
int cellota_boot_begin_install(cellota_boot_control *control, const cellota_fw_info *info,
                               unsigned flags, cellota_pipeline *pipeline);

/* The same for a compressed image or a patch (image/pipeline.h): `encoding` (its base the
 * running slot) and `decoder` must outlive the pipeline. */
int cellota_boot_begin_install_encoded(cellota_boot_control *control, const cellota_fw_info *info,
                                       unsigned flags, cellota_pipeline *pipeline,
                                       const cellota_pipeline_encoding *encoding,
                                       cellota_pipeline_decoder *decoder);

/* After a reset: begins `pipeline` again for the install under way, from its last saved
 * progress (or from the start); feed it from cellota_pipeline_offset(). CELLOTA_BOOT_NOTHING_STAGED
 * when no install is under way. */
int cellota_boot_resume_install(cellota_boot_control *control, cellota_pipeline *pipeline);

/* The same for an install begun with cellota_boot_begin_install_encoded (the same encoding). */
int cellota_boot_resume_install_encoded(cellota_boot_control *control, cellota_pipeline *pipeline,
                                        const cellota_pipeline_encoding *encoding,
                                        cellota_pipeline_decoder *decoder);

/* Records the pipeline's checkpoint so a reset resumes from it (nothing is written when it has
 * not moved since the last call). Call it as the pipeline passes erase pages. */
int cellota_boot_save_progress(cellota_boot_control *control, const cellota_pipeline *pipeline);

/* Call after cellota_pipeline_finish returned CELLOTA_OK: makes the written image boot on trial
 * at the next reset (a bootloader: be switched by the first stage). The bootloader verifies it
 * again first. CELLOTA_BOOT_NOTHING_STAGED, a flash or journal error. */
int cellota_boot_mark_ready(cellota_boot_control *control);

/* Abandons the install under way. CELLOTA_BOOT_NOTHING_STAGED, a journal error. */
int cellota_boot_cancel(cellota_boot_control *control);

/*
 * Asks the bootloader to install, at the next reset, the encrypted image `info` describes from
 * the modem's file `name` into the application slot, in place. The confirmed image's own file
 * must be known (cellota_boot_provision or an earlier stage) and stay in the modem. `flags`:
 * CELLOTA_BOOT_ALLOW_DOWNGRADE. CELLOTA_BOOT_OPERATION_IN_PROGRESS, CELLOTA_BOOT_NAME_INVALID,
 * CELLOTA_BOOT_NO_ROLLBACK_IMAGE, CELLOTA_BOOT_VERSION_TOO_OLD, CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH,
 * CELLOTA_BOOT_ALREADY_INSTALLED, CELLOTA_IMAGE_TOO_LARGE, CELLOTA_IMAGE_FW_INFO_SIZES, a journal
 * error.
 */
int cellota_boot_stage_modem(cellota_boot_control *control, const cellota_fw_info *info,
                             const char *name, unsigned flags);

/* The image on trial passed its self-test: it becomes the confirmed image and the security
 * version rises to its version. CELLOTA_BOOT_NOT_IN_TRIAL, a journal error. */
int cellota_boot_confirm(cellota_boot_control *control);

/*
 * On trial: gives the image up (the previous one boots, or is reinstalled, at the next reset).
 * Otherwise: boots the previous confirmed image on trial at the next reset -- from the other
 * slot, or reinstalled from the modem. `flags`: CELLOTA_BOOT_ALLOW_DOWNGRADE (needed when it is
 * older than the security version). The caller reboots. CELLOTA_BOOT_NO_ROLLBACK_IMAGE,
 * CELLOTA_BOOT_VERSION_TOO_OLD, CELLOTA_BOOT_OPERATION_IN_PROGRESS, a journal error.
 */
int cellota_boot_request_rollback(cellota_boot_control *control, unsigned flags);

/*
 * Factory provisioning: erases the journal and records the images flashed at the factory:
 * `application` in slot 0 (its version becomes the security version), `bootloader` (NULL: not
 * tracked, never repaired) and, for modem staging, the application's encrypted file kept in the
 * modem (`modem_image`, NULL when none). A flash or journal error.
 */
int cellota_boot_provision(const cellota_port *port, const cellota_boot_layout *layout,
                           const cellota_boot_image *application,
                           const cellota_boot_image *bootloader,
                           const cellota_boot_known *modem_image);

#endif
