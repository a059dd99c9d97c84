/*
 * A staged image source: where the bootloader reads an encrypted image that waits outside the
 * MCU's flash -- in the modem's own file system, for the modem-staged single-slot install
 * (seed 002). Two non-blocking calls, polled: a call that cannot finish now returns
 * CELLOTA_IN_PROGRESS and is made again with the same arguments until it returns CELLOTA_OK or
 * an error. Only one call is outstanding at a time; the bootloader never interleaves two.
 *
 * On a SIM7600 the at module provides the three calls (at/sim7600_fs.h:
 * cellota_sim7600_fs_source_size/_read/_cancel, the cellota_sim7600_fs as context), with
 *   size  AT+FSATTRI="<name>"                       -> +FSATTRI: <size>,...
 *   read  AT+CFTRANTX="c:/<name>",<offset>,<length>  -> +CFTRANTX: DATA,<n> <n raw bytes> ...
 *                                                       +CFTRANTX: 0  OK
 * each poll pumping the AT engine with the bytes the UART has. The host simulator backs it with
 * files in memory (ports/sim/modem_files_sim.h).
 */
#ifndef CELLOTA_BOOT_SOURCE_H
#define CELLOTA_BOOT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

/* The longest staged file name, without its terminating NUL. */
#define CELLOTA_BOOT_NAME_MAX 31

typedef struct cellota_boot_source {
    void *context;

    /* The size in bytes of file `name`. CELLOTA_OK with *size set, CELLOTA_IN_PROGRESS, or an
     * error: CELLOTA_BOOT_SOURCE_READ_FAILED or the reader's own code (no such file, the modem
     * answered with an error, damaged bytes). */
    int (*size)(void *context, const char *name, uint32_t *size);

    /* Reads exactly `length` bytes (1..256) at `offset` of file `name` into `buffer`.
     * CELLOTA_OK once all are there, CELLOTA_IN_PROGRESS, or an error as for size (past the
     * end of the file, a UART error, the modem answered with an error). */
    int (*read)(void *context, const char *name, uint32_t offset, uint8_t *buffer, size_t length);

    /* Abandons the outstanding call (the bootloader gave up waiting) so the next one starts
     * afresh. May be NULL when calls cannot hang. */
    void (*cancel)(void *context);
} cellota_boot_source;

#endif
