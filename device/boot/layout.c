/* The shipped flash layouts as tables, and the checks every layout must pass (see layout.h). */
#include "boot/layout.h"

#include "core/error.h"

#include <string.h>

#define KIB 1024u

/* ESP32: 4 KiB sectors; 16-byte writes because that is the unit flash encryption programs. */
#define ESP32_REGION(name, kind, address, size)                                                    \
    {                                                                                              \
        name, kind,                                                                                \
        {                                                                                          \
            address, size, 4 * KIB, 16, 0xFF                                                       \
        }                                                                                          \
    }

static const cellota_boot_region esp32_4mb_regions[] = {
    /* The ROM loads the second stage from 0x1000: cellota's first stage, never updated. */
    ESP32_REGION("first_stage", CELLOTA_BOOT_REGION_FIRST_STAGE, 0x000000, 32 * KIB),
    ESP32_REGION("partition_table", CELLOTA_BOOT_REGION_RESERVED, 0x008000, 4 * KIB),
    ESP32_REGION("nvs", CELLOTA_BOOT_REGION_RESERVED, 0x009000, 12 * KIB),
    ESP32_REGION("journal", CELLOTA_BOOT_REGION_JOURNAL, 0x00C000, 16 * KIB),
    ESP32_REGION("bootloader", CELLOTA_BOOT_REGION_BOOTLOADER, 0x010000, 32 * KIB),
    ESP32_REGION("bootloader_staging", CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0x018000, 32 * KIB),
    /* Application partitions start on 64 KiB boundaries (the MMU's page). */
    ESP32_REGION("ota_0", CELLOTA_BOOT_REGION_APPLICATION, 0x020000, 1984 * KIB),
    ESP32_REGION("ota_1", CELLOTA_BOOT_REGION_APPLICATION, 0x210000, 1984 * KIB),
};

const cellota_boot_layout cellota_boot_layout_esp32_4mb = {
    "esp32-4mb",
    {0x000000, 4096 * KIB, 4 * KIB, 16, 0xFF},
    esp32_4mb_regions,
    sizeof(esp32_4mb_regions) / sizeof(esp32_4mb_regions[0]),
};

/* nRF52840: 4 KiB pages, the NVMC programs 32-bit words. */
#define NRF_REGION(name, kind, address, size)                                                      \
    {                                                                                              \
        name, kind,                                                                                \
        {                                                                                          \
            address, size, 4 * KIB, 4, 0xFF                                                        \
        }                                                                                          \
    }

static const cellota_boot_region nrf52840_1mb_regions[] = {
    NRF_REGION("mbr", CELLOTA_BOOT_REGION_FIRST_STAGE, 0x00000, 4 * KIB),
    NRF_REGION("application", CELLOTA_BOOT_REGION_APPLICATION, 0x01000, 972 * KIB),
    NRF_REGION("bootloader_staging", CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0xF4000, 16 * KIB),
    NRF_REGION("journal", CELLOTA_BOOT_REGION_JOURNAL, 0xF8000, 16 * KIB),
    NRF_REGION("bootloader", CELLOTA_BOOT_REGION_BOOTLOADER, 0xFC000, 16 * KIB),
};

const cellota_boot_layout cellota_boot_layout_nrf52840_1mb = {
    "nrf52840-1mb",
    {0x00000, 1024 * KIB, 4 * KIB, 4, 0xFF},
    nrf52840_1mb_regions,
    sizeof(nrf52840_1mb_regions) / sizeof(nrf52840_1mb_regions[0]),
};

const cellota_boot_layout *const cellota_boot_layouts[] = {&cellota_boot_layout_esp32_4mb,
                                                           &cellota_boot_layout_nrf52840_1mb};
const size_t cellota_boot_layout_count =
    sizeof(cellota_boot_layouts) / sizeof(cellota_boot_layouts[0]);

const cellota_boot_layout *cellota_boot_layout_find(const char *name)
{
    size_t index;
    for (index = 0; name && index < cellota_boot_layout_count; index++) {
        if (strcmp(cellota_boot_layouts[index]->name, name) == 0)
            return cellota_boot_layouts[index];
    }
    return NULL;
}

const cellota_boot_region *cellota_boot_layout_region(const cellota_boot_layout *layout,
                                                      cellota_boot_region_kind kind, unsigned index)
{
    size_t at;
    for (at = 0; at < layout->region_count; at++) {
        if (layout->regions[at].kind == kind && index-- == 0)
            return &layout->regions[at];
    }
    return NULL;
}

unsigned cellota_boot_layout_count_of(const cellota_boot_layout *layout,
                                      cellota_boot_region_kind kind)
{
    unsigned count = 0;
    while (cellota_boot_layout_region(layout, kind, count))
        count++;
    return count;
}

static int region_valid(const cellota_flash_area *flash, const cellota_flash_area *area)
{
    uint32_t flash_end = flash->address + flash->size;
    return area->size > 0 && area->erase_size == flash->erase_size &&
           area->write_size == flash->write_size && area->erased_value == flash->erased_value &&
           area->address % area->erase_size == 0 && area->size % area->erase_size == 0 &&
           area->address >= flash->address && area->address < flash_end &&
           area->size <= flash_end - area->address;
}

int cellota_boot_layout_check(const cellota_boot_layout *layout)
{
    const cellota_boot_region *journal, *bootloader, *staging;
    unsigned applications;
    size_t first, second;

    for (first = 0; first < layout->region_count; first++) {
        const cellota_flash_area *a = &layout->regions[first].area;
        if (!region_valid(&layout->flash, a))
            return CELLOTA_BOOT_LAYOUT_INVALID;
        for (second = first + 1; second < layout->region_count; second++) {
            const cellota_flash_area *b = &layout->regions[second].area;
            if (a->address < b->address + b->size && b->address < a->address + a->size)
                return CELLOTA_BOOT_LAYOUT_INVALID;
        }
    }
    journal = cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_JOURNAL, 0);
    bootloader = cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
    staging = cellota_boot_layout_region(layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
    applications = cellota_boot_layout_count_of(layout, CELLOTA_BOOT_REGION_APPLICATION);
    if (!journal || cellota_boot_layout_count_of(layout, CELLOTA_BOOT_REGION_JOURNAL) != 1 ||
        journal->area.size < 2 * journal->area.erase_size || applications < 1 || applications > 2 ||
        cellota_boot_layout_count_of(layout, CELLOTA_BOOT_REGION_BOOTLOADER) > 1 ||
        cellota_boot_layout_count_of(layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING) > 1 ||
        (staging && (!bootloader || staging->area.size < bootloader->area.size)))
        return CELLOTA_BOOT_LAYOUT_INVALID;
    return CELLOTA_OK;
}
