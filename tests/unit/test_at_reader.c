/*
 * The AT engine as the bootloader builds it (CELLOTA_AT_FILE_READER_ONLY, at/engine.h: no URC
 * table, payloads, inline data, SIM states, retries or optional steps) under the reading tests
 * of test_at_sim7600_fs.c. The same engine source is compiled here with that setting; it takes
 * the place of libcellota's engine (a static library's member is only linked for symbols
 * nothing defined first).
 */
#define CELLOTA_AT_FILE_READER_ONLY
#include "at/engine.c"

#define TEST_AT_READER_BUILD
#include "test_at_sim7600_fs.c"
