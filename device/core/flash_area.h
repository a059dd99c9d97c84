/*
 * A flash area: a contiguous, page-aligned region of internal flash and the rules of the flash
 * it lives in. The boot module's layouts are made of these; the image pipeline writes into one.
 */
#ifndef CELLOTA_CORE_FLASH_AREA_H
#define CELLOTA_CORE_FLASH_AREA_H

#include <stdint.h>

typedef struct cellota_flash_area {
    uint32_t address;     /* absolute start, a multiple of erase_size */
    uint32_t size;        /* bytes, a multiple of erase_size */
    uint32_t erase_size;  /* smallest erasable unit (page or sector) */
    uint32_t write_size;  /* write alignment and granularity, a power of two <= 16 */
    uint8_t erased_value; /* what an erased byte reads as (0xFF on NOR flash) */
} cellota_flash_area;

#endif
