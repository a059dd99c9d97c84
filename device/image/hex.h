/*
 * Hex text <-> bytes, shared by fw_info and the request's signature. Fixed lengths only: the
 * caller has already checked the text is exactly 2 * size characters.
 */
#ifndef CELLOTA_IMAGE_HEX_H
#define CELLOTA_IMAGE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes 2 * size hex digits (either case) into size bytes. CELLOTA_INVALID_ARGUMENT at the
 * first character that is not a hex digit (bytes is then partly written). */
int cellota_hex_decode(uint8_t *bytes, const char *hex, size_t size);

/* Writes 2 * size lowercase hex digits; no terminating NUL. */
void cellota_hex_encode(char *hex, const uint8_t *bytes, size_t size);

#endif
