/* Hex text <-> bytes without tables or locale: see hex.h. */
#include "image/hex.h"

#include "core/error.h"

static int digit_value(char character)
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
        int high = digit_value(hex[2 * index]), low = digit_value(hex[2 * index + 1]);
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
