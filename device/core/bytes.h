/*
 * Little-endian 32-bit numbers in byte arrays: every cellota wire and flash format is
 * little-endian, and spelling the byte order out keeps the code the same on any host or MCU.
 */
#ifndef CELLOTA_CORE_BYTES_H
#define CELLOTA_CORE_BYTES_H

#include <stdint.h>

static inline uint32_t cellota_load_u32le(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

static inline void cellota_store_u32le(uint8_t *bytes, uint32_t value)
{
    bytes[0] = (uint8_t)value;
    bytes[1] = (uint8_t)(value >> 8);
    bytes[2] = (uint8_t)(value >> 16);
    bytes[3] = (uint8_t)(value >> 24);
}

#endif
