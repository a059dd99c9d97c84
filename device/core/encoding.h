/*
 * Byte encodings cellota's formats share: hex text (fw_info and sig in the request) and
 * little-endian 32-bit fields (fw_info, the pipeline's saved state, journal records). One codec
 * for the device library and the host programs alike.
 */
#ifndef CELLOTA_CORE_ENCODING_H
#define CELLOTA_CORE_ENCODING_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1 for any other character. */
int cellota_hex_digit(char character);

/* Fixed lengths only: the caller has checked the text is exactly 2 * size characters.
 * Decodes 2 * size hex digits (either case) into size bytes. CELLOTA_INVALID_ARGUMENT at the
 * first character that is not a hex digit (bytes is then partly written). */
int cellota_hex_decode(uint8_t *bytes, const char *hex, size_t size);

/* Writes 2 * size lowercase hex digits; no terminating NUL. */
void cellota_hex_encode(char *hex, const uint8_t *bytes, size_t size);

/* Little-endian 32-bit fields; each returns the position after the field. */
const uint8_t *cellota_load_u32(const uint8_t *bytes, uint32_t *value);
uint8_t *cellota_store_u32(uint8_t *bytes, uint32_t value);

#endif
