/* A staged image as piece files in the SIM7600's file system (see modem_files.h). */
#include "modem_files.h"

#include "core/error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum {
    WRITE_IDLE = 0,
    WRITE_SWEEP, /* offset 0: delete <name>.0, .1, ... up to the first missing */
    WRITE_SWEEP_WAIT,
    WRITE_DELETE, /* elsewhere: delete the piece about to be written */
    WRITE_DELETE_WAIT,
    WRITE_START,
    WRITE_DATA
};

void modem_files_init(modem_files *files, cellota_sim7600_fs *fs, const cellota_port *port,
                      void (*pump)(void *context, uint32_t now_ms), void *pump_context)
{
    memset(files, 0, sizeof(*files));
    files->fs = fs;
    files->port = port;
    files->pump = pump;
    files->pump_context = pump_context;
}

static uint32_t now(const modem_files *files)
{
    return files->port->now_ms(files->port->context);
}

/* "<name>.<index>" into files->piece. */
static void piece_name(modem_files *files, const char *name, uint32_t index)
{
    snprintf(files->piece, sizeof(files->piece), "%s.%u", name, (unsigned)index);
}

static int files_write(void *context, const char *name, uint32_t offset, const uint8_t *data,
                       size_t length)
{
    modem_files *files = context;
    int result;

    if (files->pump)
        files->pump(files->pump_context, now(files));
    switch (files->phase) {
    case WRITE_IDLE:
        if (offset % MODEM_FILES_PIECE != 0 || length == 0 || length > MODEM_FILES_PIECE ||
            strlen(name) >= sizeof(files->name))
            return CELLOTA_INVALID_ARGUMENT;
        snprintf(files->name, sizeof(files->name), "%s", name);
        files->index = offset / MODEM_FILES_PIECE;
        files->sweep = 0;
        files->phase = offset == 0 ? WRITE_SWEEP : WRITE_DELETE;
        return CELLOTA_IN_PROGRESS;
    case WRITE_SWEEP:
    case WRITE_DELETE:
        piece_name(files, files->name, files->phase == WRITE_SWEEP ? files->sweep : files->index);
        result = cellota_sim7600_fs_delete(files->fs, files->piece, now(files));
        if (result == CELLOTA_IN_PROGRESS)
            files->phase++;
        else if (result != CELLOTA_BUSY) /* could not even start: go on and write */
            files->phase = WRITE_START;
        return CELLOTA_IN_PROGRESS;
    case WRITE_SWEEP_WAIT:
    case WRITE_DELETE_WAIT:
        result = cellota_sim7600_fs_status(files->fs, NULL);
        if (result == CELLOTA_IN_PROGRESS)
            return result;
        if (files->phase == WRITE_SWEEP_WAIT && result == CELLOTA_OK) {
            files->sweep++; /* deleted one: there may be more */
            files->phase = WRITE_SWEEP;
        } else {
            files->phase = WRITE_START; /* the first missing piece, or the one deleted */
        }
        return CELLOTA_IN_PROGRESS;
    case WRITE_START:
        piece_name(files, files->name, files->index);
        result = cellota_sim7600_fs_write(files->fs, files->piece, (uint32_t)length, now(files));
        if (result == CELLOTA_BUSY)
            return CELLOTA_IN_PROGRESS;
        if (result != CELLOTA_IN_PROGRESS) {
            files->phase = WRITE_IDLE;
            return result;
        }
        files->pushed = 0;
        files->phase = WRITE_DATA;
        return CELLOTA_IN_PROGRESS;
    default: /* WRITE_DATA */
        if (files->pushed < length)
            files->pushed += cellota_sim7600_fs_write_data(files->fs, data + files->pushed,
                                                           length - files->pushed);
        result = cellota_sim7600_fs_status(files->fs, NULL);
        if (result == CELLOTA_IN_PROGRESS)
            return result;
        files->phase = WRITE_IDLE;
        return result == CELLOTA_OK && files->pushed != length ? CELLOTA_AT_FILE_FAILED : result;
    }
}

static int source_size(void *context, const char *name, uint32_t *size)
{
    modem_files *files = context;
    uint32_t piece = 0;
    int result;

    if (files->read_phase == 0) {
        files->total = 0;
        files->probe = 0;
        files->read_phase = 1;
    }
    piece_name(files, name, files->probe);
    result = cellota_sim7600_fs_source_size(files->fs, files->piece, &piece);
    if (result == CELLOTA_IN_PROGRESS)
        return result;
    if (result == CELLOTA_OK) {
        files->total += piece;
        files->probe++;
        return CELLOTA_IN_PROGRESS; /* the next piece, at the next call */
    }
    files->read_phase = 0;
    if (files->probe == 0)
        return CELLOTA_BOOT_SOURCE_READ_FAILED;
    *size = files->total;
    return CELLOTA_OK;
}

static int source_read(void *context, const char *name, uint32_t offset, uint8_t *buffer,
                       size_t length)
{
    modem_files *files = context;
    uint32_t within = offset % MODEM_FILES_PIECE, first = MODEM_FILES_PIECE - within;
    int result;

    if (first > length)
        first = (uint32_t)length;
    if (files->read_phase == 0)
        files->read_phase = 1;
    if (files->read_phase == 1) {
        piece_name(files, name, offset / MODEM_FILES_PIECE);
        result = cellota_sim7600_fs_source_read(files->fs, files->piece, within, buffer, first);
        if (result == CELLOTA_OK && first < length) {
            files->read_phase = 2; /* the rest is at the start of the next piece */
            return CELLOTA_IN_PROGRESS;
        }
    } else {
        piece_name(files, name, offset / MODEM_FILES_PIECE + 1);
        result = cellota_sim7600_fs_source_read(files->fs, files->piece, 0, buffer + first,
                                                length - first);
    }
    if (result == CELLOTA_IN_PROGRESS)
        return result;
    files->read_phase = 0;
    return result == CELLOTA_OK ? CELLOTA_OK : CELLOTA_BOOT_SOURCE_READ_FAILED;
}

static void source_cancel(void *context)
{
    modem_files *files = context;
    files->read_phase = 0;
    cellota_sim7600_fs_source_cancel(files->fs);
}

void modem_files_agent(modem_files *files, cellota_agent_files *agent)
{
    agent->context = files;
    agent->write = files_write;
}

void modem_files_source(modem_files *files, cellota_boot_source *source)
{
    source->context = files;
    source->size = source_size;
    source->read = source_read;
    source->cancel = source_cancel;
}

int modem_files_put(modem_files *files, const char *name, const uint8_t *data, uint32_t size)
{
    uint32_t offset;
    for (offset = 0; offset < size; offset += MODEM_FILES_PIECE) {
        uint32_t length = size - offset < MODEM_FILES_PIECE ? size - offset : MODEM_FILES_PIECE;
        int result;
        while ((result = files_write(files, name, offset, data + offset, length)) ==
               CELLOTA_IN_PROGRESS)
            usleep(1000);
        if (result != CELLOTA_OK)
            return result;
    }
    return CELLOTA_OK;
}
