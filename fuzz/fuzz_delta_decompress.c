/*
 * libFuzzer target for the decompressor (image/delta.h, kind COMPRESSED); input layout and
 * checks in delta_harness.h. The corpus holds real compressed images made by `cellota diff
 * --compress` (scripts/fuzz-corpus-delta.sh).
 */
#include "delta_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_run(data, size, CELLOTA_DELTA_COMPRESSED, NULL, 0);
    return 0;
}
