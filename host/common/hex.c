/* Hexadecimal text; see hex.h. The digits themselves are the device library's codec
 * (core/encoding.h), so host and device can never disagree on a format. */
#include "common/hex.h"

#include "core/encoding.h"
#include "core/error.h"

#include <ctype.h>

void host_hex_encode(const uint8_t *data, size_t length, char *text)
{
    cellota_hex_encode(text, data, length);
    text[2 * length] = '\0';
}

bool host_hex_decode(const char *text, size_t length, uint8_t *data, size_t capacity)
{
    if (length % 2 != 0 || length / 2 > capacity)
        return false;
    return cellota_hex_decode(data, text, length / 2) == CELLOTA_OK;
}

bool host_is_hex(const char *text, size_t length)
{
    size_t index;
    for (index = 0; index < length; index++) {
        if (!isxdigit((unsigned char)text[index]))
            return false;
    }
    return true;
}
