/*
 * The SIM7600's own file system (drive C:), for the modem-staged update (design.md): the
 * encrypted image waits in the modem, and the bootloader reads it back over the UART by offset,
 * a block at a time, with nothing but the AT engine (no network, no sockets).
 *
 * Every operation starts a short script on the engine and returns CELLOTA_IN_PROGRESS (or
 * CELLOTA_BUSY while the engine runs another script: try again later). Progress happens in
 * cellota_at_poll -- or cellota_modem_poll when the engine belongs to a modem, whose sockets
 * then wait. cellota_sim7600_fs_status says when it is done.
 *
 * Commands (SIM7500_SIM7600 Series AT Command Manual, file system and file transmission
 * chapters): AT+FSCD=C: then AT+FSLS=2 (list files), AT+FSATTRI (size), AT+FSDEL (delete),
 * AT+CFTRANRX="c:/<name>",<length> (write: '>' then exactly <length> bytes; the modem does not
 * overwrite, delete first), AT+CFTRANTX="c:/<name>",<offset>,<length> (read: one or more
 * "+CFTRANTX: DATA,<n>" blocks of raw bytes, then "+CFTRANTX: 0" and OK).
 *
 * Reads are exact: the bytes come through the same checked data path as socket data (damaged
 * or missing bytes fail the read with CELLOTA_AT_DATA_DAMAGED / CELLOTA_AT_DATA_FRAMING, never
 * a short buffer that looks whole). Ask the size first and never read past it: like its sockets,
 * a modem asked for more than there is may not answer well.
 *
 * The bootloader's staged image source (boot/source.h: size, read, cancel; each call repeated
 * with the same arguments until it returns CELLOTA_OK or an error) is the three
 * cellota_sim7600_fs_source_* functions below, with the cellota_sim7600_fs as context.
 */
#ifndef CELLOTA_AT_SIM7600_FS_H
#define CELLOTA_AT_SIM7600_FS_H

#include "at/engine.h"

#include <stddef.h>
#include <stdint.h>

/* Called once per file name during a listing; `name` is valid only during the call. */
typedef void (*cellota_sim7600_fs_entry)(void *user, const char *name);

typedef struct cellota_sim7600_fs {
    uint8_t polled; /* which source call runs (0: none), for the polled calls */
    int result;
    cellota_at *at;
    uint8_t *buffer;
    uint32_t capacity, count;
    cellota_sim7600_fs_entry entry;
    void *entry_user;
    cellota_at_parameters parameters; /* last: scalars first reach with 2-byte Thumb code */
} cellota_sim7600_fs;

/* Binds the file system to an engine (a modem's: cellota_modem_at). */
void cellota_sim7600_fs_init(cellota_sim7600_fs *fs, cellota_at *at);

/* Lists the files of C:/, calling `entry` for each name. */
int cellota_sim7600_fs_list(cellota_sim7600_fs *fs, cellota_sim7600_fs_entry entry, void *user,
                            uint32_t now);

/* Asks the size of C:/<name>; the status's count is the size. */
int cellota_sim7600_fs_size(cellota_sim7600_fs *fs, const char *name, uint32_t now);

/* Deletes C:/<name>. */
int cellota_sim7600_fs_delete(cellota_sim7600_fs *fs, const char *name, uint32_t now);

/*
 * Starts writing C:/<name> with exactly `length` bytes (a new file: delete an old one first).
 * Then push the bytes with cellota_sim7600_fs_write_data as they come; the status is OK once
 * the modem confirmed the whole file. `name` must stay valid until the write ends.
 */
int cellota_sim7600_fs_write(cellota_sim7600_fs *fs, const char *name, uint32_t length,
                             uint32_t now);

/* Gives the write more bytes; returns how many were taken (0 before the modem's prompt or when
 * the UART is full: call again after polling). */
size_t cellota_sim7600_fs_write_data(cellota_sim7600_fs *fs, const uint8_t *data, size_t length);

/*
 * Reads up to `length` bytes of C:/<name> from `offset` into `buffer` (the caller's, valid until
 * the read ends; `name` too). The status's count is how many came: fewer than asked only at the
 * end of the file.
 */
int cellota_sim7600_fs_read(cellota_sim7600_fs *fs, const char *name, uint32_t offset,
                            uint8_t *buffer, uint32_t length, uint32_t now);

/*
 * Polled calls in the style of the bootloader's staged image source (boot/source.h), `context`
 * being the cellota_sim7600_fs: each call starts its operation if it is not already running with
 * these arguments, pumps the engine once (with the port's clock), and returns
 * CELLOTA_IN_PROGRESS until it returns CELLOTA_OK or an error. A read succeeds only with exactly
 * `length` bytes (fewer: CELLOTA_AT_FILE_FAILED, past the end of the file). Cancel abandons
 * the running call.
 */
int cellota_sim7600_fs_source_size(void *context, const char *name, uint32_t *size);
int cellota_sim7600_fs_source_read(void *context, const char *name, uint32_t offset,
                                   uint8_t *buffer, size_t length);
void cellota_sim7600_fs_source_cancel(void *context);

/*
 * CELLOTA_IN_PROGRESS while the last operation runs; then CELLOTA_OK or its error
 * (CELLOTA_AT_FILE_FAILED for the modem's refusals: missing file, full, busy;
 * CELLOTA_AT_FILE_TOO_LARGE when the modem sent more than asked; the engine's errors).
 * `count` (may be NULL) gets the bytes read, or the size asked.
 */
int cellota_sim7600_fs_status(const cellota_sim7600_fs *fs, uint32_t *count);

#endif
