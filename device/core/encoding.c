/* Hex text and little-endian fields, without tables or locale: see encoding.h. */
#include "core/encoding.h"

#include "core/error.h"

int cellota_hex_digit(char character)
{
    if (character >= '0' && character <= '9')
        return character - '0';
    if (character >= 'a' && character <= 'f')
        return character - 'a' + 10;
    if (character >= 'A' && character <= 'F')
        return character - 'A' + 10;
    return -1;
}

int cellota_hex_decode(uint8_t *bytes, const char *hex, size_t size)
{
    size_t index;
    for (index = 0; index < size; index++) {
        int high = cellota_hex_digit(hex[2 * index]), low = cellota_hex_digit(hex[2 * index + 1]);
        if (high < 0 || low < 0)
            return CELLOTA_INVALID_ARGUMENT;
        bytes[index] = (uint8_t)(high << 4 | low);
    }
    return CELLOTA_OK;
}

void cellota_hex_encode(char *hex, const uint8_t *bytes, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t index;
    for (index = 0; index < size; index++) {
        hex[2 * index] = digits[bytes[index] >> 4];
        hex[2 * index + 1] = digits[bytes[index] & 15];
    }
}

const uint8_t *cellota_load_u32(const uint8_t *bytes, uint32_t *value)
{
    *value = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
             (uint32_t)bytes[3] << 24;
    return bytes + 4;
}

uint8_t *cellota_store_u32(uint8_t *bytes, uint32_t value)
{
    bytes[0] = (uint8_t)value;
    bytes[1] = (uint8_t)(value >> 8);
    bytes[2] = (uint8_t)(value >> 16);
    bytes[3] = (uint8_t)(value >> 24);
    return bytes + 4;
}
