/* Hexadecimal text for keys, hashes and signatures. */
#ifndef CELLOTA_HOST_COMMON_HEX_H
#define CELLOTA_HOST_COMMON_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2 * length lowercase hex digits and a NUL into `text`. */
void host_hex_encode(const uint8_t *data, size_t length, char *text);

/* Decodes exactly `length` hex digits (either case) into length / 2 bytes at `data`, which
 * holds `capacity`. false for an odd length, a non-hex character or too little capacity. */
bool host_hex_decode(const char *text, size_t length, uint8_t *data, size_t capacity);

/* true when all `length` characters are hex digits. */
bool host_is_hex(const char *text, size_t length);

#endif
