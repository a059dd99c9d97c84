/*
 * The modem-staged install end to end over a UART: the bootloader core reads the encrypted image
 * back from an emulated SIM7600's file system (host/modem, in-process, virtual time) with the at
 * module's file reader (AT+FSATTRI, AT+CFTRANTX by offset), checks the ciphertext hash first,
 * then writes the application page by page; the new image boots on trial and confirms. Then a
 * reset before confirming the next image rolls back to the previous one, read from the modem again.
 * Power cuts during this path are cellota-sim powerfail's job (with the in-memory file system);
 * this test is the proof that the same bootloader speaks the modem's real dialect.
 */
#include "test.h"

#include "at/engine.h"
#include "at/sim7600_fs.h"
#include "boot/boot.h"
#include "boot/control.h"
#include "core/error.h"
#include "flash_sim.h"
#include "image_maker.h"
#include "link_rig.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define IMAGE_SIZE 30000u

typedef struct rig {
    link_rig link; /* its port: UART to the emulated SIM7600, the flash below, virtual time */
    flash_sim flash;
    const cellota_boot_layout *layout;
    char directory[64];
} rig;

static void put_file(rig *r, const char *name, const test_image *image)
{
    char path[128];
    FILE *file;
    snprintf(path, sizeof(path), "%s/%s", r->directory, name);
    file = fopen(path, "wb");
    CHECK(file != NULL);
    if (!file)
        return;
    CHECK_EQ_INT(fwrite(image->cipher, 1, image->cipher_size, file), image->cipher_size);
    fclose(file);
}

static const cellota_flash_area *application_area(const rig *r)
{
    return &cellota_boot_layout_region(r->layout, CELLOTA_BOOT_REGION_APPLICATION, 0)->area;
}

/* A reset: the bootloader runs to its decision, the modem answering over the UART. */
static int boot(rig *r, cellota_boot_decision *decision)
{
    cellota_at at;
    cellota_sim7600_fs files;
    cellota_boot_source source;
    cellota_boot boot_core;
    int result;
    uint64_t give_up = r->link.now + 30u * 60u * 1000u;

    cellota_at_init(&at, &r->link.port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&files, &at);
    source.context = &files;
    source.size = cellota_sim7600_fs_source_size;
    source.read = cellota_sim7600_fs_source_read;
    source.cancel = cellota_sim7600_fs_source_cancel;
    cellota_boot_init(&boot_core, &r->link.port, r->layout, &source);
    do {
        result = cellota_boot_step(&boot_core);
        modem_emulator_poll(r->link.emulator, r->link.now);
        if (result == CELLOTA_IN_PROGRESS) {
            uint64_t next = modem_emulator_next_event_ms(r->link.emulator);
            r->link.now = next > r->link.now && next < r->link.now + 5 ? next : r->link.now + 1;
        }
    } while (result == CELLOTA_IN_PROGRESS && r->link.now < give_up);
    if (result == CELLOTA_OK)
        *decision = *cellota_boot_result(&boot_core);
    return result;
}

static bool application_holds(rig *r, const test_image *image)
{
    const cellota_flash_area *area = application_area(r);
    return memcmp(r->flash.memory + (area->address - r->layout->flash.address), image->plain,
                  image->plain_size) == 0;
}

static int stage(rig *r, const test_image *image, const char *name)
{
    cellota_boot_control control;
    int result = cellota_boot_control_open(&control, &r->link.port, r->layout);
    return result == CELLOTA_OK ? cellota_boot_stage_modem(&control, &image->info, name, 0)
                                : result;
}

static int confirm(rig *r)
{
    cellota_boot_control control;
    int result = cellota_boot_control_open(&control, &r->link.port, r->layout);
    return result == CELLOTA_OK ? cellota_boot_confirm(&control) : result;
}

static void test_install_over_uart(void)
{
    rig r;
    test_image apps[3];
    modem_emulator_options options;
    cellota_boot_image application;
    cellota_boot_known known;
    cellota_boot_decision decision;
    const cellota_flash_area *area;
    uint32_t offset;
    unsigned index;
    uint64_t reads_before;
    modem_emulator_stats stats;

    memset(&r, 0, sizeof(r));
    r.layout = cellota_boot_layout_find("nrf52840-1mb");
    CHECK(r.layout != NULL);
    if (!r.layout)
        return;
    CHECK_EQ_INT(flash_sim_create(&r.flash, &r.layout->flash), CELLOTA_OK);
    snprintf(r.directory, sizeof(r.directory), "/tmp/cellota-boot-uart.XXXXXX");
    CHECK(mkdtemp(r.directory) != NULL);
    area = application_area(&r);
    for (index = 0; index < 3; index++) {
        char name[16];
        test_image_make(&apps[index], IMAGE_SIZE + index * 1000, 300 + index);
        apps[index].info.version = index + 1;
        apps[index].info.load_address = area->address;
        snprintf(name, sizeof(name), "v%u.ebin", index + 1);
        put_file(&r, name, &apps[index]);
    }

    modem_emulator_default_options(&options);
    options.fs_dir = r.directory;
    options.network_disabled = true; /* only the file system is used: no sockets */
    CHECK_EQ_INT(link_rig_create(&r.link, MODEM_MODEL_SIM7600, &options), 0);
    if (!r.link.emulator)
        return;
    link_rig_attach_storage(&r.link, &r.flash, NULL);

    /* The factory: v1 in the application slot and kept in the modem. */
    for (offset = 0; offset < apps[0].plain_size; offset += 256) {
        uint8_t page[256];
        size_t length = apps[0].plain_size - offset < 256 ? apps[0].plain_size - offset : 256;
        memset(page, 0xFF, sizeof(page));
        memcpy(page, apps[0].plain + offset, length);
        CHECK_EQ_INT(flash_sim_write(&r.flash, area->address + offset, page, 256), CELLOTA_OK);
    }
    cellota_boot_image_from(&application, &apps[0].info);
    memset(&known, 0, sizeof(known));
    known.info = apps[0].info;
    strcpy(known.name, "v1.ebin");
    CHECK_EQ_INT(cellota_boot_provision(&r.link.port, r.layout, &application, NULL, &known),
                 CELLOTA_OK);

    /* v2 is staged in the modem; the bootloader installs it over the UART and starts it on
     * trial; the application confirms. */
    CHECK_EQ_INT(stage(&r, &apps[1], "v2.ebin"), CELLOTA_OK);
    modem_emulator_get_stats(r.link.emulator, &stats);
    reads_before = stats.bytes_to_device;
    CHECK_EQ_INT(boot(&r, &decision), CELLOTA_OK);
    CHECK_EQ_INT(decision.version, 2);
    CHECK(decision.trial);
    CHECK(application_holds(&r, &apps[1]));
    modem_emulator_get_stats(r.link.emulator, &stats);
    /* The ciphertext crossed the UART twice: once to check its hash, once to install it. */
    CHECK(stats.bytes_to_device - reads_before >= 2u * apps[1].cipher_size);
    printf("modem-staged install over the UART: %u-byte image, %llu bytes from the modem, "
           "%llu ms virtual\n",
           (unsigned)apps[1].cipher_size,
           (unsigned long long)(stats.bytes_to_device - reads_before),
           (unsigned long long)r.link.now);
    CHECK_EQ_INT(confirm(&r), CELLOTA_OK);
    CHECK_EQ_INT(boot(&r, &decision), CELLOTA_OK);
    CHECK(!decision.trial);
    CHECK_EQ_INT(decision.version, 2);

    /* v3 is staged, boots on trial, and the device resets before confirming: the bootloader
     * reinstalls v2 from the modem. */
    CHECK_EQ_INT(stage(&r, &apps[2], "v3.ebin"), CELLOTA_OK);
    CHECK_EQ_INT(boot(&r, &decision), CELLOTA_OK);
    CHECK_EQ_INT(decision.version, 3);
    CHECK(decision.trial);
    CHECK(application_holds(&r, &apps[2]));
    CHECK_EQ_INT(boot(&r, &decision), CELLOTA_OK);
    CHECK_EQ_INT(decision.version, 2);
    CHECK(!decision.trial);
    CHECK(application_holds(&r, &apps[1]));

    /* A tampered file in the modem is refused before the application is touched. */
    apps[2].cipher[100] ^= 1;
    put_file(&r, "v3.ebin", &apps[2]);
    apps[2].cipher[100] ^= 1;
    CHECK_EQ_INT(stage(&r, &apps[2], "v3.ebin"), CELLOTA_OK);
    CHECK_EQ_INT(boot(&r, &decision), CELLOTA_OK);
    CHECK_EQ_INT(decision.version, 2);
    CHECK(application_holds(&r, &apps[1]));
    CHECK_EQ_INT(r.flash.violations, 0);

    link_rig_destroy(&r.link);
    for (index = 0; index < 3; index++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/v%u.ebin", r.directory, index + 1);
        unlink(path);
        test_image_free(&apps[index]);
    }
    rmdir(r.directory);
    flash_sim_destroy(&r.flash);
}

int main(void)
{
    RUN(test_install_over_uart);
    return test_summary();
}
