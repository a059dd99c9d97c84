/*
 * The bootloader core, the first stage and the application's control API on a simulated
 * device (host/sim/sim_device): layouts, write protection, a damaged image is never started,
 * trial / confirm / rollback in both strategies, anti-rollback, the bootloader switch and its
 * repair, a modem that fails or stops answering. Power cuts are cellota-sim powerfail's job.
 */
#include "test.h"

#include "boot/control.h"
#include "boot/stage0.h"
#include "core/error.h"
#include "image_maker.h"
#include "sim_device.h"

#define IMAGE_SIZE 20000u /* five pages and a bit: not a multiple of anything */
#define LOADER_SIZE 9000u

typedef struct fixture {
    sim_device device;
    const cellota_boot_layout *layout;
    bool modem;
    test_image apps[3];    /* versions 1, 2, 3 */
    test_image loaders[2]; /* bootloader versions 1, 2 */
    uint8_t *factory;      /* the flash right after provisioning */
} fixture;

static const char *const app_files[] = {"v1.ebin", "v2.ebin", "v3.ebin"};

static const cellota_flash_area *region(const fixture *f, cellota_boot_region_kind kind,
                                        unsigned index)
{
    const cellota_boot_region *found = cellota_boot_layout_region(f->layout, kind, index);
    return found ? &found->area : NULL;
}

static void fixture_create(fixture *f, const char *layout_name, bool modem)
{
    const cellota_flash_area *slot0, *loader, *staging;
    cellota_boot_image application, bootloader;
    cellota_boot_known known;
    unsigned index;

    memset(f, 0, sizeof(*f));
    f->layout = cellota_boot_layout_find(layout_name);
    f->modem = modem;
    CHECK_EQ_INT(sim_device_create(&f->device, f->layout), CELLOTA_OK);
    f->device.watchdog_ms = 0;
    slot0 = region(f, CELLOTA_BOOT_REGION_APPLICATION, 0);
    loader = region(f, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
    staging = region(f, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
    for (index = 0; index < 3; index++) {
        test_image_make(&f->apps[index], IMAGE_SIZE, 100 + index);
        f->apps[index].info.version = index + 1;
        f->apps[index].info.load_address = modem ? slot0->address : 0;
        CHECK_EQ_INT(modem_files_sim_put(&f->device.modem, app_files[index], f->apps[index].cipher,
                                         f->apps[index].cipher_size),
                     CELLOTA_OK);
    }
    for (index = 0; index < 2; index++) {
        test_image_make(&f->loaders[index], LOADER_SIZE, 200 + index);
        f->loaders[index].info.version = index + 1;
        f->loaders[index].info.load_address = loader->address;
    }
    CHECK_EQ_INT(sim_device_factory_write(&f->device, slot0->address, f->apps[0].plain, IMAGE_SIZE),
                 CELLOTA_OK);
    CHECK_EQ_INT(
        sim_device_factory_write(&f->device, loader->address, f->loaders[0].plain, LOADER_SIZE),
        CELLOTA_OK);
    CHECK_EQ_INT(
        sim_device_factory_write(&f->device, staging->address, f->loaders[0].plain, LOADER_SIZE),
        CELLOTA_OK);
    cellota_boot_image_from(&application, &f->apps[0].info);
    cellota_boot_image_from(&bootloader, &f->loaders[0].info);
    memset(&known, 0, sizeof(known));
    known.info = f->apps[0].info;
    strcpy(known.name, app_files[0]);
    CHECK_EQ_INT(cellota_boot_provision(&f->device.port, f->layout, &application, &bootloader,
                                        modem ? &known : NULL),
                 CELLOTA_OK);
    f->factory = malloc(f->layout->flash.size);
    memcpy(f->factory, f->device.flash.memory, f->layout->flash.size);
}

static void fixture_destroy(fixture *f)
{
    unsigned index;
    for (index = 0; index < 3; index++)
        test_image_free(&f->apps[index]);
    for (index = 0; index < 2; index++)
        test_image_free(&f->loaders[index]);
    free(f->factory);
    sim_device_destroy(&f->device);
}

/* A reset: the first stage, then the bootloader. Returns the bootloader's result. */
static int boot(fixture *f, cellota_boot_decision *decision)
{
    int stage0_result;
    int result = sim_device_boot(&f->device, decision, &stage0_result);
    CHECK_EQ_INT(stage0_result, CELLOTA_OK);
    return result;
}

static bool area_holds(const fixture *f, const cellota_flash_area *area, const test_image *image)
{
    return memcmp(f->device.flash.memory + (area->address - f->layout->flash.address), image->plain,
                  image->plain_size) == 0;
}

/* The application started: slot `slot` with image `image`, on trial or not. */
static void expect_started(fixture *f, int slot, const test_image *image, bool trial)
{
    cellota_boot_decision decision;
    memset(&decision, 0, sizeof(decision));
    CHECK_EQ_INT(boot(f, &decision), CELLOTA_OK);
    CHECK_EQ_INT(decision.slot, slot);
    CHECK_EQ_INT(decision.trial, trial);
    CHECK_EQ_INT(decision.version, image->info.version);
    CHECK_EQ_INT(decision.size, image->plain_size);
    CHECK(area_holds(f, region(f, CELLOTA_BOOT_REGION_APPLICATION, (unsigned)slot), image));
}

static void open_control(fixture *f, cellota_boot_control *control)
{
    CHECK_EQ_INT(cellota_boot_control_open(control, &f->device.port, f->layout), CELLOTA_OK);
}

/* The agent's A/B (or bootloader staging) download, whole. */
static int install(fixture *f, const test_image *image, unsigned flags)
{
    cellota_boot_control control;
    cellota_pipeline pipeline;
    int result;
    open_control(f, &control);
    result = cellota_boot_begin_install(&control, &image->info, flags, &pipeline);
    if (result == CELLOTA_OK)
        result = cellota_pipeline_feed(&pipeline, image->cipher, image->cipher_size);
    if (result == CELLOTA_OK)
        result = cellota_pipeline_finish(&pipeline);
    if (result == CELLOTA_OK)
        result = cellota_boot_mark_ready(&control);
    return result;
}

static int confirm(fixture *f)
{
    cellota_boot_control control;
    open_control(f, &control);
    return cellota_boot_confirm(&control);
}

static void status_of(fixture *f, cellota_boot_status *status)
{
    cellota_boot_control control;
    open_control(f, &control);
    cellota_boot_control_status(&control, status);
}

static int stage_modem(fixture *f, const test_image *image, const char *name, unsigned flags)
{
    cellota_boot_control control;
    open_control(f, &control);
    return cellota_boot_stage_modem(&control, &image->info, name, flags);
}

/* The first stage, the reserved regions and the bootloader are as the factory left them. */
static void expect_protected_untouched(fixture *f, bool bootloader_too)
{
    size_t index;
    for (index = 0; index < f->layout->region_count; index++) {
        const cellota_boot_region *r = &f->layout->regions[index];
        uint32_t offset = r->area.address - f->layout->flash.address;
        if (r->kind == CELLOTA_BOOT_REGION_FIRST_STAGE || r->kind == CELLOTA_BOOT_REGION_RESERVED ||
            (bootloader_too && r->kind == CELLOTA_BOOT_REGION_BOOTLOADER))
            CHECK_EQ_MEM(f->device.flash.memory + offset, f->factory + offset, r->area.size);
    }
}

/* --- layouts and protection --------------------------------------------------------------- */

static void test_layouts(void)
{
    static const cellota_boot_region overlapping[] = {
        {"journal", CELLOTA_BOOT_REGION_JOURNAL, {0x0000, 0x2000, 0x1000, 4, 0xFF}},
        {"app", CELLOTA_BOOT_REGION_APPLICATION, {0x1000, 0x2000, 0x1000, 4, 0xFF}},
    };
    static const cellota_boot_region misaligned[] = {
        {"journal", CELLOTA_BOOT_REGION_JOURNAL, {0x0000, 0x2000, 0x1000, 4, 0xFF}},
        {"app", CELLOTA_BOOT_REGION_APPLICATION, {0x2800, 0x2000, 0x1000, 4, 0xFF}},
    };
    static const cellota_boot_region no_journal[] = {
        {"app", CELLOTA_BOOT_REGION_APPLICATION, {0x2000, 0x2000, 0x1000, 4, 0xFF}},
    };
    cellota_boot_layout bad = {"bad", {0, 0x10000, 0x1000, 4, 0xFF}, overlapping, 2};
    const cellota_boot_layout *esp32 = cellota_boot_layout_find("esp32-4mb");
    const cellota_boot_layout *nrf = cellota_boot_layout_find("nrf52840-1mb");
    size_t index;

    CHECK(esp32 && nrf);
    CHECK(cellota_boot_layout_find("esp32") == NULL);
    CHECK(cellota_boot_layout_find(NULL) == NULL);
    for (index = 0; index < cellota_boot_layout_count; index++)
        CHECK_EQ_INT(cellota_boot_layout_check(cellota_boot_layouts[index]), CELLOTA_OK);
    CHECK_EQ_INT(cellota_boot_layout_count_of(esp32, CELLOTA_BOOT_REGION_APPLICATION), 2);
    CHECK_EQ_INT(cellota_boot_layout_count_of(nrf, CELLOTA_BOOT_REGION_APPLICATION), 1);
    /* seed 002's device: MBR 4 KiB at 0, the application from 0x1000, bootloader at the top */
    CHECK_EQ_INT(cellota_boot_layout_region(nrf, CELLOTA_BOOT_REGION_FIRST_STAGE, 0)->area.size,
                 0x1000);
    CHECK_EQ_INT(cellota_boot_layout_region(nrf, CELLOTA_BOOT_REGION_APPLICATION, 0)->area.address,
                 0x1000);
    {
        const cellota_flash_area *top =
            &cellota_boot_layout_region(nrf, CELLOTA_BOOT_REGION_BOOTLOADER, 0)->area;
        CHECK_EQ_INT(top->address + top->size, 0x100000);
    }
    CHECK_EQ_INT(cellota_boot_layout_check(&bad), CELLOTA_BOOT_LAYOUT_INVALID);
    bad.regions = misaligned;
    CHECK_EQ_INT(cellota_boot_layout_check(&bad), CELLOTA_BOOT_LAYOUT_INVALID);
    bad.regions = no_journal;
    bad.region_count = 1;
    CHECK_EQ_INT(cellota_boot_layout_check(&bad), CELLOTA_BOOT_LAYOUT_INVALID);
}

static void test_gate_refuses_protected_regions(void)
{
    fixture f;
    cellota_boot_gate gate;
    const cellota_port *port;
    uint8_t block[256];
    uint64_t operations;
    size_t index;

    fixture_create(&f, "nrf52840-1mb", true);
    memset(block, 0x5A, sizeof(block));
    cellota_boot_gate_init(&gate, &f.device.port);
    port = &gate.port;
    /* Nothing allowed yet. */
    CHECK_EQ_INT(port->flash_write(port->context, 0xF000, block, 16),
                 CELLOTA_BOOT_REGION_PROTECTED);
    CHECK_EQ_INT(cellota_boot_gate_allow(&gate, region(&f, CELLOTA_BOOT_REGION_APPLICATION, 0)),
                 CELLOTA_OK);
    for (index = 0; index < f.layout->region_count; index++) {
        const cellota_boot_region *r = &f.layout->regions[index];
        if (r->kind == CELLOTA_BOOT_REGION_APPLICATION)
            continue;
        CHECK_EQ_INT(port->flash_write(port->context, r->area.address, block, 16),
                     CELLOTA_BOOT_REGION_PROTECTED);
        CHECK_EQ_INT(port->flash_erase(port->context, r->area.address, r->area.erase_size),
                     CELLOTA_BOOT_REGION_PROTECTED);
    }
    /* Straddling the slot's end into the staging area. */
    CHECK_EQ_INT(port->flash_write(port->context, 0xF4000 - 16, block, 32),
                 CELLOTA_BOOT_REGION_PROTECTED);
    CHECK_EQ_INT(port->flash_erase(port->context, 0xF3000, 0x2000), CELLOTA_BOOT_REGION_PROTECTED);
    expect_protected_untouched(&f, true);
    CHECK_EQ_MEM(f.device.flash.memory, f.factory, f.layout->flash.size);

    /* Inside the slot: 16 writes of 16 bytes become one program operation of 256. */
    CHECK_EQ_INT(port->flash_erase(port->context, 0x10000, 0x1000), CELLOTA_OK);
    operations = f.device.flash.operations;
    for (index = 0; index < 15; index++)
        CHECK_EQ_INT(port->flash_write(port->context, 0x10000 + 16 * (uint32_t)index, block, 16),
                     CELLOTA_OK);
    CHECK_EQ_INT(f.device.flash.operations, operations); /* still collected */
    CHECK_EQ_INT(port->flash_write(port->context, 0x10000 + 240, block, 16), CELLOTA_OK);
    CHECK_EQ_INT(f.device.flash.operations, operations + 1);
    CHECK_EQ_MEM(f.device.flash.memory + 0x10000, block, 256);
    /* A partial chunk reaches the flash on flush, and before a read. */
    CHECK_EQ_INT(port->flash_write(port->context, 0x10100, block, 16), CELLOTA_OK);
    CHECK_EQ_INT(f.device.flash.memory[0x10100], 0xFF);
    CHECK_EQ_INT(port->flash_read(port->context, 0x10100, block + 128, 16), CELLOTA_OK);
    CHECK_EQ_INT(f.device.flash.memory[0x10100], 0x5A);
    CHECK_EQ_INT(f.device.flash.violations, 0);
    fixture_destroy(&f);
}

static void test_refusals(void)
{
    fixture f;
    cellota_boot_control control;
    cellota_pipeline pipeline;
    test_image image;

    /* nRF52840: one slot, images built for 0x1000. */
    fixture_create(&f, "nrf52840-1mb", true);
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &f.apps[1].info, 0, &pipeline),
                 CELLOTA_BOOT_NO_SECOND_SLOT);
    image = f.apps[1];
    image.info.load_address = 0xFC000; /* the bootloader's region */
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &image.info, "v2.ebin", 0),
                 CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH);
    image.info.load_address = 0x1000;
    image.info.plain_size = 972 * 1024 + 1;
    image.info.encrypted_size = cellota_fw_info_padded_size(image.info.plain_size);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &image.info, "v2.ebin", 0),
                 CELLOTA_IMAGE_TOO_LARGE);
    image.info.encrypted_size += 16;
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &image.info, "v2.ebin", 0),
                 CELLOTA_IMAGE_FW_INFO_SIZES);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &f.apps[0].info, "v1.ebin", 0),
                 CELLOTA_BOOT_ALREADY_INSTALLED);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &f.apps[1].info, "", 0),
                 CELLOTA_BOOT_NAME_INVALID);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &f.apps[1].info,
                                          "a-name-longer-than-thirty-one-chars", 0),
                 CELLOTA_BOOT_NAME_INVALID);
    CHECK_EQ_INT(cellota_boot_confirm(&control), CELLOTA_BOOT_NOT_IN_TRIAL);
    CHECK_EQ_INT(cellota_boot_mark_ready(&control), CELLOTA_BOOT_NOTHING_STAGED);
    CHECK_EQ_INT(cellota_boot_request_rollback(&control, 0), CELLOTA_BOOT_NO_ROLLBACK_IMAGE);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &f.apps[1].info, "v2.ebin", 0), CELLOTA_OK);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &f.apps[2].info, "v3.ebin", 0),
                 CELLOTA_BOOT_OPERATION_IN_PROGRESS);
    fixture_destroy(&f);

    /* ESP32: position independent images go to the inactive slot; a bootloader must fit. */
    fixture_create(&f, "esp32-4mb", false);
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_stage_modem(&control, &f.apps[1].info, "v2.ebin", 0),
                 CELLOTA_BOOT_NO_ROLLBACK_IMAGE); /* the running image is not in the modem */
    image = f.loaders[1];
    image.info.plain_size = 32 * 1024 + 16;
    image.info.encrypted_size = cellota_fw_info_padded_size(image.info.plain_size);
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &image.info, CELLOTA_BOOT_TARGET_BOOTLOADER,
                                            &pipeline),
                 CELLOTA_IMAGE_TOO_LARGE);
    image = f.loaders[1];
    image.info.load_address = 0x20000;
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &image.info, CELLOTA_BOOT_TARGET_BOOTLOADER,
                                            &pipeline),
                 CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH);
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &f.loaders[0].info,
                                            CELLOTA_BOOT_TARGET_BOOTLOADER, &pipeline),
                 CELLOTA_BOOT_ALREADY_INSTALLED);
    CHECK_EQ_INT(cellota_boot_resume_install(&control, &pipeline), CELLOTA_BOOT_NOTHING_STAGED);
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &f.apps[1].info, 0, &pipeline), CELLOTA_OK);
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &f.apps[2].info, 0, &pipeline),
                 CELLOTA_BOOT_OPERATION_IN_PROGRESS);
    CHECK_EQ_INT(cellota_boot_cancel(&control), CELLOTA_OK);
    CHECK_EQ_INT(cellota_boot_cancel(&control), CELLOTA_BOOT_NOTHING_STAGED);
    fixture_destroy(&f);

    /* Nothing provisioned: neither stage has anything to go on. */
    {
        sim_device device;
        cellota_boot_decision decision;
        int stage0_result;
        CHECK_EQ_INT(sim_device_create(&device, cellota_boot_layout_find("esp32-4mb")), CELLOTA_OK);
        CHECK_EQ_INT(sim_device_boot(&device, &decision, &stage0_result),
                     CELLOTA_BOOT_NOT_PROVISIONED);
        CHECK_EQ_INT(stage0_result, CELLOTA_BOOT_NOT_PROVISIONED);
        sim_device_destroy(&device);
    }
}

/* --- A/B: trial, confirm, rollback, anti-rollback ----------------------------------------- */

static void test_ab_trial_confirm_rollback(void)
{
    fixture f;
    cellota_boot_status status;
    cellota_boot_control control;

    fixture_create(&f, "esp32-4mb", false);
    expect_started(&f, 0, &f.apps[0], false);
    CHECK_EQ_INT(install(&f, &f.apps[1], 0), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], true);
    status_of(&f, &status);
    CHECK(status.on_trial);
    CHECK_EQ_INT(status.running_slot, 1);
    CHECK_EQ_INT(confirm(&f), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.security_version, 2);
    CHECK_EQ_INT(status.running_version, 2);

    /* v3 never confirms: the next reset goes back to v2, and v3's slot is not bootable. */
    CHECK_EQ_INT(install(&f, &f.apps[2], 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[2], true);
    expect_started(&f, 1, &f.apps[1], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_TRIAL_NOT_CONFIRMED);
    expect_started(&f, 1, &f.apps[1], false);

    /* v3 again; its self-test fails and it asks for the rollback. */
    CHECK_EQ_INT(install(&f, &f.apps[2], 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[2], true);
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_request_rollback(&control, 0), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], false);

    /* Back to v1 needs the operator's downgrade: v1 is older than the security version. */
    CHECK_EQ_INT(install(&f, &f.apps[0], 0), CELLOTA_BOOT_VERSION_TOO_OLD);
    CHECK_EQ_INT(install(&f, &f.apps[0], CELLOTA_BOOT_ALLOW_DOWNGRADE), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], true);
    CHECK_EQ_INT(confirm(&f), CELLOTA_OK);
    status_of(&f, &status);
    CHECK_EQ_INT(status.security_version, 1); /* an allowed downgrade lowers it */
    expect_started(&f, 0, &f.apps[0], false);

    /* Rolling back to the previous confirmed image (v2 in slot 1). */
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_request_rollback(&control, 0), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], true);
    CHECK_EQ_INT(confirm(&f), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], false);
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_request_rollback(&control, 0), CELLOTA_BOOT_VERSION_TOO_OLD);
    expect_protected_untouched(&f, true);
    CHECK_EQ_INT(f.device.flash.violations, 0);
    fixture_destroy(&f);
}

static void test_ab_download_resumes(void)
{
    fixture f;
    cellota_boot_control control;
    cellota_pipeline pipeline;
    uint32_t half = 3 * 4096 + 100;

    fixture_create(&f, "esp32-4mb", false);
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_begin_install(&control, &f.apps[1].info, 0, &pipeline), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, f.apps[1].cipher, half), CELLOTA_OK);
    CHECK_EQ_INT(cellota_boot_save_progress(&control, &pipeline), CELLOTA_OK);
    /* A reset: the old image runs on, and the download resumes from the last page passed. */
    expect_started(&f, 0, &f.apps[0], false);
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_resume_install(&control, &pipeline), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_offset(&pipeline), 3 * 4096);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, f.apps[1].cipher + 3 * 4096,
                                       f.apps[1].cipher_size - 3 * 4096),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    CHECK_EQ_INT(cellota_boot_mark_ready(&control), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], true);
    fixture_destroy(&f);
}

/* --- a damaged image is never started ----------------------------------------------------- */

static void corrupt(fixture *f, const cellota_flash_area *area, uint32_t offset)
{
    f->device.flash.memory[area->address - f->layout->flash.address + offset] ^= 0x04;
}

static void test_bad_hash_not_started(void)
{
    fixture f;
    cellota_boot_decision decision;
    cellota_boot_status status;

    /* A pending image damaged after it was written: rejected, the running one goes on. */
    fixture_create(&f, "esp32-4mb", false);
    CHECK_EQ_INT(install(&f, &f.apps[1], 0), CELLOTA_OK);
    corrupt(&f, region(&f, CELLOTA_BOOT_REGION_APPLICATION, 1), IMAGE_SIZE - 1);
    expect_started(&f, 0, &f.apps[0], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_TRIAL_HASH_MISMATCH);
    /* The confirmed image damaged, nothing to fall back on (A/B, no modem copy). */
    corrupt(&f, region(&f, CELLOTA_BOOT_REGION_APPLICATION, 0), 5);
    CHECK_EQ_INT(boot(&f, &decision), CELLOTA_BOOT_NO_BOOTABLE_IMAGE);
    fixture_destroy(&f);

    /* A/B with an older image in the other slot: not started either (anti-rollback). */
    fixture_create(&f, "esp32-4mb", false);
    CHECK_EQ_INT(install(&f, &f.apps[1], 0), CELLOTA_OK);
    expect_started(&f, 1, &f.apps[1], true);
    CHECK_EQ_INT(confirm(&f), CELLOTA_OK);
    corrupt(&f, region(&f, CELLOTA_BOOT_REGION_APPLICATION, 1), 4096);
    CHECK_EQ_INT(boot(&f, &decision), CELLOTA_BOOT_NO_BOOTABLE_IMAGE);
    fixture_destroy(&f);

    /* Modem staged: the damaged application is reinstalled from its file in the modem. */
    fixture_create(&f, "nrf52840-1mb", true);
    corrupt(&f, region(&f, CELLOTA_BOOT_REGION_APPLICATION, 0), 12345);
    expect_started(&f, 0, &f.apps[0], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_APP_HASH_MISMATCH);
    expect_protected_untouched(&f, true);
    fixture_destroy(&f);
}

/* --- modem staged: install, trial, rollback, bad files ------------------------------------ */

static void test_modem_install_and_rollback(void)
{
    fixture f;
    cellota_boot_status status;
    cellota_boot_control control;

    fixture_create(&f, "nrf52840-1mb", true);
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "v2.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[1], true);
    CHECK_EQ_INT(confirm(&f), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[1], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.security_version, 2);

    /* v3 is reset before it confirms: v2 is written back from the modem. */
    CHECK_EQ_INT(stage_modem(&f, &f.apps[2], "v3.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[2], true);
    expect_started(&f, 0, &f.apps[1], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_TRIAL_NOT_CONFIRMED);
    CHECK_EQ_INT(status.security_version, 2);

    /* The operator rolls back to v1 (kept in the modem as the previous image). */
    open_control(&f, &control);
    CHECK_EQ_INT(cellota_boot_request_rollback(&control, 0), CELLOTA_BOOT_VERSION_TOO_OLD);
    CHECK_EQ_INT(cellota_boot_request_rollback(&control, CELLOTA_BOOT_ALLOW_DOWNGRADE), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], true);
    CHECK_EQ_INT(confirm(&f), CELLOTA_OK);
    status_of(&f, &status);
    CHECK_EQ_INT(status.security_version, 1);
    expect_protected_untouched(&f, true);
    CHECK_EQ_INT(f.device.flash.violations, 0);
    fixture_destroy(&f);
}

static void test_modem_bad_files(void)
{
    fixture f;
    cellota_boot_status status;
    test_image wrong_key;

    fixture_create(&f, "nrf52840-1mb", true);
    /* Damaged in the modem: the ciphertext check fails before any flash operation. */
    f.apps[1].cipher[777] ^= 1;
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "v2.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], false);
    CHECK_EQ_MEM(f.device.flash.memory + 0x1000, f.factory + 0x1000, 972 * 1024);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH);
    f.apps[1].cipher[777] ^= 1;

    /* A file of the wrong size. */
    CHECK_EQ_INT(modem_files_sim_put(&f.device.modem, "short.ebin", f.apps[1].cipher,
                                     f.apps[1].cipher_size - 16),
                 CELLOTA_OK);
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "short.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_SOURCE_SIZE_MISMATCH);

    /* No such file. */
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "missing.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_SOURCE_READ_FAILED);

    /* Right ciphertext, wrong key: found only after the slot was rewritten, so the running
     * image is written back from the modem. */
    wrong_key = f.apps[1];
    wrong_key.info.key[0] ^= 1;
    CHECK_EQ_INT(stage_modem(&f, &wrong_key, "v2.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], false);
    status_of(&f, &status);
    CHECK(status.last_error == CELLOTA_IMAGE_BAD_PADDING ||
          status.last_error == CELLOTA_IMAGE_PLAIN_HASH_MISMATCH);
    fixture_destroy(&f);
}

static void test_modem_faults_and_watchdog(void)
{
    fixture f;
    cellota_boot_decision decision;
    cellota_boot_status status;
    jmp_buf landing;

    /* Reads that fail a few times are retried. */
    fixture_create(&f, "nrf52840-1mb", true);
    f.device.watchdog_ms = 4000;
    f.device.modem.fail_calls = 3;
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "v2.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[1], true);
    CHECK_EQ_INT(f.device.watchdog_bites, 0);
    fixture_destroy(&f);

    /* A modem that stops answering before the install: the bootloader gives up waiting (each
     * wait shorter than the watchdog) and keeps the running image. */
    fixture_create(&f, "nrf52840-1mb", true);
    f.device.watchdog_ms = 4000;
    f.device.modem.hang = true;
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "v2.ebin", 0), CELLOTA_OK);
    expect_started(&f, 0, &f.apps[0], false);
    status_of(&f, &status);
    CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_SOURCE_TIMEOUT);
    CHECK_EQ_INT(f.device.watchdog_bites, 0);
    fixture_destroy(&f);

    /* Stops answering halfway through writing the slot: the boot fails (the target resets);
     * once the modem answers again the install resumes from the journal. */
    fixture_create(&f, "nrf52840-1mb", true);
    f.device.watchdog_ms = 4000;
    f.device.modem.latency = 0;
    CHECK_EQ_INT(stage_modem(&f, &f.apps[1], "v2.ebin", 0), CELLOTA_OK);
    /* The read pass is 78 reads; 10 more and the slot is being rewritten. */
    f.device.modem.fail_calls = 0;
    {
        cellota_stage0 stage0;
        cellota_boot core;
        int result;
        cellota_stage0_init(&stage0, &f.device.port, f.layout);
        while (cellota_stage0_step(&stage0) == CELLOTA_IN_PROGRESS)
            ;
        cellota_boot_init(&core, &f.device.port, f.layout, &f.device.source);
        while ((result = cellota_boot_step(&core)) == CELLOTA_IN_PROGRESS) {
            if (f.device.modem.calls == 1 + 79 + 10)
                f.device.modem.hang = true;
        }
        CHECK_EQ_INT(result, CELLOTA_BOOT_SOURCE_TIMEOUT);
    }
    f.device.modem.hang = false;
    CHECK_EQ_INT(f.device.watchdog_bites, 0);
    expect_started(&f, 0, &f.apps[1], true);
    fixture_destroy(&f);

    /* A bootloader that never kicked would be reset by the watchdog, which the simulator
     * delivers like a clean reset between flash operations. */
    fixture_create(&f, "nrf52840-1mb", true);
    f.device.watchdog_ms = 1;
    f.device.landing = &landing;
    if (setjmp(landing) == 0) {
        boot(&f, &decision);
        CHECK(0); /* not reached */
    }
    f.device.landing = NULL;
    CHECK_EQ_INT(f.device.watchdog_bites, 1);
    fixture_destroy(&f);
}

/* --- the bootloader switch ---------------------------------------------------------------- */

static void test_bootloader_switch_and_repair(void)
{
    fixture f;
    cellota_boot_control control;
    cellota_boot_status status;
    const cellota_flash_area *loader, *staging;
    const char *layouts[] = {"esp32-4mb", "nrf52840-1mb"};
    unsigned index;

    for (index = 0; index < 2; index++) {
        fixture_create(&f, layouts[index], index == 1);
        loader = region(&f, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
        staging = region(&f, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
        CHECK_EQ_INT(install(&f, &f.loaders[1], CELLOTA_BOOT_TARGET_BOOTLOADER), CELLOTA_OK);
        CHECK(area_holds(&f, loader, &f.loaders[0])); /* not before the reset */
        expect_started(&f, 0, &f.apps[0], false);
        CHECK(area_holds(&f, loader, &f.loaders[1]));
        open_control(&f, &control);
        CHECK_EQ_MEM(cellota_boot_control_state(&control)->bootloader.sha256,
                     f.loaders[1].info.plain_sha256, 32);
        CHECK_EQ_INT(cellota_boot_control_state(&control)->bootloader_security_version, 2);

        /* Damaged in place: the first stage copies it back from the staging area. */
        corrupt(&f, loader, 100);
        expect_started(&f, 0, &f.apps[0], false);
        CHECK(area_holds(&f, loader, &f.loaders[1]));

        /* An older bootloader needs the operator's downgrade. */
        CHECK_EQ_INT(install(&f, &f.loaders[0], CELLOTA_BOOT_TARGET_BOOTLOADER),
                     CELLOTA_BOOT_VERSION_TOO_OLD);

        /* Staged, then damaged before the switch: the switch is cancelled, nothing copied. */
        CHECK_EQ_INT(install(&f, &f.loaders[0],
                             CELLOTA_BOOT_TARGET_BOOTLOADER | CELLOTA_BOOT_ALLOW_DOWNGRADE),
                     CELLOTA_OK);
        corrupt(&f, staging, 8999);
        expect_started(&f, 0, &f.apps[0], false);
        CHECK(area_holds(&f, loader, &f.loaders[1]));
        status_of(&f, &status);
        CHECK_EQ_INT(status.last_error, CELLOTA_BOOT_BOOTLOADER_STAGING_BAD);
        fixture_destroy(&f);
    }
}

int main(void)
{
    RUN(test_layouts);
    RUN(test_gate_refuses_protected_regions);
    RUN(test_refusals);
    RUN(test_ab_trial_confirm_rollback);
    RUN(test_ab_download_resumes);
    RUN(test_bad_hash_not_started);
    RUN(test_modem_install_and_rollback);
    RUN(test_modem_bad_files);
    RUN(test_modem_faults_and_watchdog);
    RUN(test_bootloader_switch_and_repair);
    return test_summary();
}
