/* Hexadecimal text; see hex.h. Encoding and decoding are the device library's (image/hex.h),
 * so there is one hex codec in cellota; this adds the length and capacity checks a host caller
 * wants and a NUL-terminated result. */
#include "common/hex.h"

#include "core/error.h"
#include "image/hex.h"

void host_hex_encode(const uint8_t *data, size_t length, char *text)
{
    cellota_hex_encode(text, data, length);
    text[2 * length] = '\0';
}

bool host_hex_decode(const char *text, size_t length, uint8_t *data, size_t capacity)
{
    if (length % 2 != 0 || length / 2 > capacity || !host_is_hex(text, length))
        return false;
    return cellota_hex_decode(data, text, length / 2) == CELLOTA_OK;
}

bool host_is_hex(const char *text, size_t length)
{
    size_t index;
    for (index = 0; index < length; index++) {
        char digit = text[index];
        if (!((digit >= '0' && digit <= '9') || (digit >= 'a' && digit <= 'f') ||
              (digit >= 'A' && digit <= 'F')))
            return false;
    }
    return true;
}
