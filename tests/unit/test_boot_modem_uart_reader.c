/*
 * The modem-staged install over a UART (test_boot_modem_uart.c) with the AT engine as the
 * bootloader builds it (CELLOTA_AT_FILE_READER_ONLY, at/engine.h; the figure make size counts).
 * The same engine source, compiled here with that setting, takes the place of libcellota's (a
 * static library's member is only linked for symbols nothing defined first).
 */
#define CELLOTA_AT_FILE_READER_ONLY
#include "at/engine.c"

#include "test_boot_modem_uart.c"
