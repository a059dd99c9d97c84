/*
 * Small bounded text and buffer helpers shared inside the net module (URL, HTTP, MQTT): case-
 * insensitive comparison, decimal parsing without overflow, and a writer that appends into a
 * caller's buffer and remembers when it ran out of room instead of writing past it.
 */
#ifndef CELLOTA_NET_TEXT_H
#define CELLOTA_NET_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when `text` (length bytes) equals `lower` (NUL-terminated, lower case), ignoring case. */
bool cellota_text_equals(const char *text, size_t length, const char *lower);

/* Parses all `length` bytes as a decimal number <= UINT32_MAX; false for empty, non-digits or
 * overflow. */
bool cellota_text_to_u32(const char *text, size_t length, uint32_t *value);

/* Appends to a caller's buffer; `overflow` becomes true (and stays) once something did not fit,
 * and nothing is written past `size`. */
typedef struct cellota_writer {
    uint8_t *buffer;
    size_t size;
    size_t length;
    bool overflow;
} cellota_writer;

/* floor(part * scale / whole), exact, in 32-bit arithmetic (a 64-bit division would bring
 * 0.75 KB of libgcc into a Cortex-M build); 0 when whole is 0. Precondition: the result fits in
 * 32 bits (it does whenever part <= whole and scale <= 100). For progress in percent. */
uint32_t cellota_text_scaled_share(uint32_t part, uint32_t whole, uint32_t scale);

void cellota_writer_bytes(cellota_writer *writer, const void *data, size_t length);
void cellota_writer_text(cellota_writer *writer, const char *text);
void cellota_writer_decimal(cellota_writer *writer, uint32_t value);
void cellota_writer_byte(cellota_writer *writer, uint8_t value);

#endif
