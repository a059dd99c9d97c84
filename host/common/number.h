/*
 * Numbers and sizes on command lines and in config files, parsed strictly: no sign, no
 * trailing characters, no silent overflow.
 *
 * Sizes take a unit: B, KiB, MiB, GiB, and also K/KB, M/MB, G/GB in the same binary meaning,
 * because that is how seed 002 counts (512 KB x 50,000 = 24.4141 GB).
 */
#ifndef CELLOTA_HOST_COMMON_NUMBER_H
#define CELLOTA_HOST_COMMON_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An unsigned integer, decimal or 0x-hexadecimal, not above `max`. */
bool host_parse_unsigned(const char *text, uint64_t max, uint64_t *value);

/* A byte count with an optional unit (see above), not above `max`. */
bool host_parse_size(const char *text, uint64_t max, uint64_t *value);

/* A finite, non-negative decimal number ("7", "0.5", "1e3"). */
bool host_parse_decimal(const char *text, double *value);

/* Formats a byte count for people: "379 B", "512 KiB", "24.41 GiB". */
void host_format_size(uint64_t bytes, char *text, size_t capacity);

#endif
