/* Bounded text helpers for the net module; see text.h. */
#include "net/text.h"

#include <string.h>

bool cellota_text_equals(const char *text, size_t length, const char *lower)
{
    size_t index;
    for (index = 0; index < length; index++) {
        char c = text[index];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (lower[index] == '\0' || c != lower[index])
            return false;
    }
    return lower[length] == '\0';
}

uint32_t cellota_text_scaled_share(uint32_t part, uint32_t whole, uint32_t scale)
{
    uint32_t quotient, remainder = 0, step;
    if (whole == 0)
        return 0;
    quotient = part / whole * scale;
    part %= whole;
    /* Adds part to remainder scale times, keeping remainder below whole: counts the wholes. */
    for (step = 0; step < scale; step++) {
        if (remainder >= whole - part) {
            remainder -= whole - part;
            quotient++;
        } else {
            remainder += part;
        }
    }
    return quotient;
}

bool cellota_text_to_u32(const char *text, size_t length, uint32_t *value)
{
    uint32_t result = 0;
    size_t index;
    if (length == 0)
        return false;
    for (index = 0; index < length; index++) {
        uint32_t digit = (uint32_t)(text[index] - '0');
        if (digit > 9 || result > (UINT32_MAX - digit) / 10)
            return false;
        result = result * 10 + digit;
    }
    *value = result;
    return true;
}

void cellota_writer_bytes(cellota_writer *writer, const void *data, size_t length)
{
    if (writer->overflow || length > writer->size - writer->length) {
        writer->overflow = true;
        return;
    }
    if (length > 0)
        memcpy(writer->buffer + writer->length, data, length);
    writer->length += length;
}

void cellota_writer_text(cellota_writer *writer, const char *text)
{
    cellota_writer_bytes(writer, text, strlen(text));
}

void cellota_writer_decimal(cellota_writer *writer, uint32_t value)
{
    char digits[10];
    size_t count = 0;
    do {
        digits[sizeof(digits) - 1 - count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    cellota_writer_bytes(writer, digits + sizeof(digits) - count, count);
}

void cellota_writer_byte(cellota_writer *writer, uint8_t value)
{
    cellota_writer_bytes(writer, &value, 1);
}
