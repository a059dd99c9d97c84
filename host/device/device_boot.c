/* Factory provisioning and the bootloader at power-on, for host devices (see device_boot.h). */
#include "device_boot.h"

#include "boot/control.h"
#include "core/error.h"

#include <mbedtls/sha256.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void device_factory_image(uint8_t image[DEVICE_FACTORY_SIZE])
{
    uint32_t index, state = 0x00c0ffeeu;
    memset(image, 0, DEVICE_FACTORY_SIZE);
    snprintf((char *)image, DEVICE_FACTORY_SIZE,
             "cellota-device factory application, version " DEVICE_FACTORY_VERSION "\n");
    for (index = 64; index < DEVICE_FACTORY_SIZE; index++) {
        state = state * 1664525u + 1013904223u;
        image[index] = (uint8_t)(state >> 24);
    }
}

int device_provision(const cellota_port *port, const cellota_boot_layout *layout,
                     const cellota_boot_known *modem_image)
{
    /* The same bytes for every device: made and hashed once in a process (cellota-fleet
     * provisions tens of thousands). */
    static uint8_t image[DEVICE_FACTORY_SIZE], sha256[32];
    static bool made;
    const cellota_boot_region *slot =
        cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_APPLICATION, 0);
    cellota_boot_image application;
    uint32_t offset;
    int result;

    if (!slot)
        return CELLOTA_BOOT_LAYOUT_INVALID;
    if (!made) {
        device_factory_image(image);
        if (mbedtls_sha256_ret(image, DEVICE_FACTORY_SIZE, sha256, 0) != 0)
            return CELLOTA_CRYPTO_FAILED;
        made = true;
    }
    for (offset = 0; offset < DEVICE_FACTORY_SIZE; offset += slot->area.erase_size) {
        result =
            port->flash_erase(port->context, slot->area.address + offset, slot->area.erase_size);
        if (result != CELLOTA_OK)
            return result;
    }
    result = port->flash_write(port->context, slot->area.address, image, DEVICE_FACTORY_SIZE);
    if (result != CELLOTA_OK)
        return result;
    memset(&application, 0, sizeof(application));
    application.version = 0;
    application.size = DEVICE_FACTORY_SIZE;
    memcpy(application.sha256, sha256, 32);
    return cellota_boot_provision(port, layout, &application, NULL, modem_image);
}

int device_run_bootloader(const cellota_port *port, const cellota_boot_layout *layout,
                          const cellota_boot_source *source, cellota_boot_decision *decision)
{
    static cellota_boot boot; /* large, and one at a time */
    int result;
    cellota_boot_init(&boot, port, layout, source);
    do {
        result = cellota_boot_step(&boot);
    } while (result == CELLOTA_IN_PROGRESS);
    if (result == CELLOTA_OK)
        *decision = *cellota_boot_result(&boot);
    return result;
}
