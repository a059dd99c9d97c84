/*
 * A staged image in the SIM7600's file system, as a series of piece files.
 *
 * The modem writes a file only whole: AT+CFTRANRX="c:/<name>",<length>, then exactly <length>
 * bytes, during which the UART carries nothing else -- no socket data, no replies. A download
 * that arrives over a socket on the same UART therefore cannot stream into one file. So the
 * image "<name>" is kept as the files "<name>.0", "<name>.1", ... of MODEM_FILES_PIECE bytes
 * each (the last shorter): the agent buffers one piece (its staging buffer), writes it as one
 * file, and downloads the next.
 *
 * The same naming is read back two ways:
 *   - the agent's cellota_agent_files (write a piece; a write at offset 0 first deletes the
 *     old pieces of that name, so a shorter image never inherits a longer one's tail);
 *   - the bootloader's cellota_boot_source (size: the pieces' sizes summed up to the first
 *     missing one; read: from the piece that holds the offset, across two when it must).
 * Everything goes through the at module's SIM7600 file system (device/at/sim7600_fs.h) and is
 * polled like it: a call that cannot finish returns CELLOTA_IN_PROGRESS and is made again.
 */
#ifndef CELLOTA_HOST_DEVICE_MODEM_FILES_H
#define CELLOTA_HOST_DEVICE_MODEM_FILES_H

#include "agent/agent.h"
#include "at/sim7600_fs.h"
#include "boot/source.h"
#include "core/port.h"

#include <stdbool.h>
#include <stdint.h>

/* Bytes of one piece file: the agent's staging buffer must be exactly this. */
#define MODEM_FILES_PIECE 4096u

typedef struct modem_files {
    cellota_sim7600_fs *fs;
    const cellota_port *port; /* its clock */
    /* Advances the engine when nothing else does (NULL when the agent's modem driver does). */
    void (*pump)(void *context, uint32_t now_ms);
    void *pump_context;
    /* the write under way */
    uint8_t phase;
    char name[CELLOTA_BOOT_NAME_MAX + 1];
    char piece[CELLOTA_BOOT_NAME_MAX + 8];
    uint32_t index, sweep;
    size_t pushed;
    /* the source call under way */
    uint32_t total, probe;
    uint8_t read_phase;
} modem_files;

/* Binds to a file system on an engine. `pump` (may be NULL) is called with `pump_context` at
 * every agent write call, when no modem driver polls the engine (provisioning). The bootloader's
 * source calls pump the engine themselves. */
void modem_files_init(modem_files *files, cellota_sim7600_fs *fs, const cellota_port *port,
                      void (*pump)(void *context, uint32_t now_ms), void *pump_context);

/* The agent's and the bootloader's views (context: the modem_files). */
void modem_files_agent(modem_files *files, cellota_agent_files *agent);
void modem_files_source(modem_files *files, cellota_boot_source *source);

/* Writes a whole image as pieces, blocking (provisioning; needs `pump`). CELLOTA_OK or the file
 * system's error. */
int modem_files_put(modem_files *files, const char *name, const uint8_t *data, uint32_t size);

#endif
