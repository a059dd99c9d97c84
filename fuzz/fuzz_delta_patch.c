/*
 * libFuzzer target for the patch decoder (image/delta.h, kind PATCH) against a fixed 6 KiB
 * base; input layout and checks in delta_harness.h. The corpus holds real patches made by
 * `cellota diff` from this base (scripts/fuzz-corpus-delta.sh).
 */
#include "delta_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The base: what scripts/fuzz-corpus-delta.sh writes too. */
#define BASE_SIZE 6144

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t base[BASE_SIZE];
    uint32_t index;
    for (index = 0; index < BASE_SIZE; index++)
        base[index] = (uint8_t)((index * 7 + 3) ^ (index >> 8));
    for (index = 32; index + 4 <= BASE_SIZE; index += 64) { /* Thumb BLs, for relocated words */
        base[index] = (uint8_t)(index >> 3);
        base[index + 1] = 0xF0;
        base[index + 2] = (uint8_t)index;
        base[index + 3] = 0xF8;
    }
    harness_run(data, size, CELLOTA_DELTA_PATCH, base, BASE_SIZE);
    return 0;
}
