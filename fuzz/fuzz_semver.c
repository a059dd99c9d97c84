/*
 * libFuzzer target for semver: the input is two versions separated by the first '|'. Parsing
 * never reads past its length, and comparison is a total order on what parses: antisymmetric,
 * reflexive, and consistent with the numeric fields.
 */
#include "core/error.h"
#include "image/semver.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int value)
{
    return (value > 0) - (value < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    const char *bar;
    size_t first;
    cellota_semver a, b;
    int a_result, b_result;

    memcpy(text, data, size);
    bar = memchr(text, '|', size);
    first = bar ? (size_t)(bar - text) : size;
    a_result = cellota_semver_parse(&a, text, first);
    b_result = bar ? cellota_semver_parse(&b, bar + 1, size - first - 1) : -1;
    if (a_result == CELLOTA_OK) {
        if (strnlen(a.prerelease, sizeof(a.prerelease)) >= sizeof(a.prerelease))
            abort();
        if (cellota_semver_compare(&a, &a) != 0)
            abort();
    }
    if (a_result == CELLOTA_OK && b_result == CELLOTA_OK) {
        int order = cellota_semver_compare(&a, &b);
        if (sign(order) != -sign(cellota_semver_compare(&b, &a)))
            abort();
        if (a.major != b.major && sign(order) != (a.major > b.major ? 1 : -1))
            abort();
        if (order == 0 && (a.major != b.major || a.minor != b.minor || a.patch != b.patch ||
                           strcmp(a.prerelease, b.prerelease) != 0))
            abort();
    }
    free(text);
    return 0;
}
