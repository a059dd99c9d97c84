/* Hexadecimal text; see hex.h. (The device library's hex codec is internal to its image
 * module, so the host keeps this small one of its own.) */
#include "common/hex.h"

static int digit_value(char digit)
{
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    if (digit >= 'a' && digit <= 'f')
        return digit - 'a' + 10;
    if (digit >= 'A' && digit <= 'F')
        return digit - 'A' + 10;
    return -1;
}

void host_hex_encode(const uint8_t *data, size_t length, char *text)
{
    static const char digits[] = "0123456789abcdef";
    size_t index;
    for (index = 0; index < length; index++) {
        text[2 * index] = digits[data[index] >> 4];
        text[2 * index + 1] = digits[data[index] & 15];
    }
    text[2 * length] = '\0';
}

bool host_hex_decode(const char *text, size_t length, uint8_t *data, size_t capacity)
{
    size_t index;
    if (length % 2 != 0 || length / 2 > capacity || !host_is_hex(text, length))
        return false;
    for (index = 0; index < length / 2; index++)
        data[index] =
            (uint8_t)(digit_value(text[2 * index]) << 4 | digit_value(text[2 * index + 1]));
    return true;
}

bool host_is_hex(const char *text, size_t length)
{
    size_t index;
    for (index = 0; index < length; index++) {
        if (digit_value(text[index]) < 0)
            return false;
    }
    return true;
}
