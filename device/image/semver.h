/*
 * Semantic versions (semver 2.0.0): parse, and compare by precedence. Pre-release identifiers
 * compare field by field (numeric < alphanumeric, numbers numerically, a shorter list first when
 * equal so far) and a pre-release sorts before its release; build metadata is checked for form
 * and ignored. The seed's `remote != current` would "update" to an older version; this will not.
 */
#ifndef CELLOTA_IMAGE_SEMVER_H
#define CELLOTA_IMAGE_SEMVER_H

#include <stddef.h>
#include <stdint.h>

#define CELLOTA_SEMVER_PRERELEASE_MAX 47

typedef struct cellota_semver {
    uint32_t major, minor, patch;
    char prerelease[CELLOTA_SEMVER_PRERELEASE_MAX + 1]; /* "" when none */
} cellota_semver;

/* Parses `length` bytes (no NUL needed). Surrounding white space (the body of GET /version may
 * end in a newline) is allowed; anything else not in the grammar is CELLOTA_IMAGE_SEMVER_INVALID,
 * a field above 2^32-1 or a pre-release longer than the limit CELLOTA_IMAGE_SEMVER_TOO_LONG. */
int cellota_semver_parse(cellota_semver *version, const char *text, size_t length);

/* Negative, zero or positive as a has lower, equal or higher precedence than b. */
int cellota_semver_compare(const cellota_semver *a, const cellota_semver *b);

#endif
