/*
 * The SIM7600 file system (see sim7600_fs.h): scripts on the AT engine and their handlers.
 * Source: SIM7500_SIM7600 Series AT Command Manual -- AT+FSCD, AT+FSLS, AT+FSATTRI, AT+FSDEL,
 * AT+CFTRANRX, AT+CFTRANTX; logs of real modems (CFTRANTX lengths may be zero-padded:
 * "+CFTRANTX: DATA,015"; a whole-file read comes as several DATA blocks).
 */
#include "at/sim7600_fs.h"

#include "core/error.h"

#include <string.h>

static void done(void *user, int result)
{
    cellota_sim7600_fs *fs = user;
    /* The modem's plain refusals (no such file, no room) say nothing more specific. */
    if (result == CELLOTA_AT_COMMAND_FAILED || result == CELLOTA_AT_MODEM_ERROR)
        result = CELLOTA_AT_FILE_FAILED;
    if (result != CELLOTA_OK)
        fs->count = 0; /* nothing of a failed read is to be used */
    fs->result = result;
}

/* AT+FSLS=2: "+FSLS: FILES:", one name per line, OK. */
static int on_list_line(void *user, cellota_at *at, const char *line)
{
    cellota_sim7600_fs *fs = user;
    if (cellota_at_match(line, "+FSLS:"))
        return CELLOTA_IN_PROGRESS;
    if (line[0] == '+') {
        cellota_at_dispatch_urc(at, line); /* a URC, not a file name */
        return CELLOTA_IN_PROGRESS;
    }
    if (fs->entry)
        fs->entry(fs->entry_user, line);
    return CELLOTA_IN_PROGRESS;
}

/* "+FSATTRI: <size>, <date>". */
static int on_size(void *user, cellota_at *at, const char *arguments)
{
    cellota_sim7600_fs *fs = user;
    int32_t size;
    (void)at;
    if (cellota_at_integers(arguments, &size, 1) != 1 || size < 0)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    fs->count = (uint32_t)size;
    return CELLOTA_OK;
}

/* "+CFTRANTX: DATA,<n>" and its bytes, as often as the modem cuts them; "+CFTRANTX: 0" ends. */
static int on_read(void *user, cellota_at *at, const char *arguments)
{
    cellota_sim7600_fs *fs = user;
    const char *data = cellota_at_match(arguments, "DATA,");
    int32_t value;
    if (!data)
        return cellota_at_integers(arguments, &value, 1) == 1 && value == 0
                   ? CELLOTA_OK
                   : CELLOTA_AT_FILE_FAILED;
    if (cellota_at_integers(data, &value, 1) != 1 || value < 0)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    if ((uint32_t)value > fs->capacity - fs->count) {
        if (value <= 65535)
            cellota_at_expect_data(at, NULL, (uint32_t)value); /* skipped, never passed up */
        return CELLOTA_AT_FILE_TOO_LARGE;
    }
    cellota_at_expect_data(at, fs->buffer + fs->count, (uint32_t)value);
    fs->count += (uint32_t)value;
    return CELLOTA_IN_PROGRESS;
}

/* Timeouts in tenths of a second; a file write takes as long as its bytes take on the UART. */
static const cellota_at_step list_steps[] = {
    {"AT+FSCD=C:", NULL, NULL, 50, 0, 0},
    {"AT+FSLS=2", "", on_list_line, 100, CELLOTA_AT_REPLY_OPTIONAL, 0},
};

static const cellota_at_step size_steps[] = {
    {"AT+FSCD=C:", NULL, NULL, 50, 0, 0},
    {"AT+FSATTRI=\"%f\"", "+FSATTRI: ", on_size, 50, 0, 0},
};

static const cellota_at_step delete_steps[] = {
    {"AT+FSCD=C:", NULL, NULL, 50, 0, 0},
    {"AT+FSDEL=\"%f\"", NULL, NULL, 100, 0, 0},
};

static const cellota_at_step write_steps[] = {
    {"AT+CFTRANRX=\"c:/%f\",%n", NULL, NULL, 6000, CELLOTA_AT_PROMPT, 0},
};

static const cellota_at_step read_steps[] = {
    {"AT+CFTRANTX=\"c:/%f\",%o,%n", "+CFTRANTX: ", on_read, 300, 0, 0},
};

static int start(cellota_sim7600_fs *fs, const cellota_at_step *steps, uint8_t count, uint32_t now)
{
    int result;
    if (fs->result == CELLOTA_IN_PROGRESS)
        return CELLOTA_BUSY;
    fs->count = 0;
    result = cellota_at_start(fs->at, steps, count, &fs->parameters, done, fs, now);
    if (result == CELLOTA_IN_PROGRESS)
        fs->result = CELLOTA_IN_PROGRESS;
    return result;
}

void cellota_sim7600_fs_init(cellota_sim7600_fs *fs, cellota_at *at)
{
    memset(fs, 0, sizeof(*fs));
    fs->at = at;
}

int cellota_sim7600_fs_list(cellota_sim7600_fs *fs, cellota_sim7600_fs_entry entry, void *user,
                            uint32_t now)
{
    fs->entry = entry;
    fs->entry_user = user;
    return start(fs, list_steps, 2, now);
}

int cellota_sim7600_fs_size(cellota_sim7600_fs *fs, const char *name, uint32_t now)
{
    fs->parameters.text[CELLOTA_AT_FILE] = name;
    return start(fs, size_steps, 2, now);
}

int cellota_sim7600_fs_delete(cellota_sim7600_fs *fs, const char *name, uint32_t now)
{
    fs->parameters.text[CELLOTA_AT_FILE] = name;
    return start(fs, delete_steps, 2, now);
}

int cellota_sim7600_fs_write(cellota_sim7600_fs *fs, const char *name, uint32_t length,
                             uint32_t now)
{
    if (length == 0)
        return CELLOTA_INVALID_ARGUMENT;
    fs->parameters.text[CELLOTA_AT_FILE] = name;
    fs->parameters.number[CELLOTA_AT_LENGTH] = length;
    return start(fs, write_steps, 1, now);
}

size_t cellota_sim7600_fs_write_data(cellota_sim7600_fs *fs, const uint8_t *data, size_t length)
{
    if (fs->result != CELLOTA_IN_PROGRESS)
        return 0;
    return cellota_at_write_payload(fs->at, data, length);
}

int cellota_sim7600_fs_read(cellota_sim7600_fs *fs, const char *name, uint32_t offset,
                            uint8_t *buffer, uint32_t length, uint32_t now)
{
    if (!buffer || length == 0)
        return CELLOTA_INVALID_ARGUMENT;
    fs->parameters.text[CELLOTA_AT_FILE] = name;
    fs->parameters.number[CELLOTA_AT_OFFSET] = offset;
    fs->parameters.number[CELLOTA_AT_LENGTH] = length;
    fs->buffer = buffer;
    fs->capacity = length;
    return start(fs, read_steps, 1, now);
}

/* ---- the staged image source ------------------------------------------------------------ */

enum polled { POLLED_NONE = 0, POLLED_SIZE, POLLED_READ };

static uint32_t port_now(const cellota_sim7600_fs *fs)
{
    const cellota_port *port = fs->at->port;
    return port->now_ms ? port->now_ms(port->context) : fs->at->now;
}

/*
 * One poll of a source call: starts the call (`polled`: its size, or a read of `length` bytes at
 * `offset` into `buffer`) unless it is the one already running, then pumps the engine. When the
 * call ended, returns its result and forgets it.
 */
static int source_call(cellota_sim7600_fs *fs, uint8_t polled, const char *name, uint32_t offset,
                       uint8_t *buffer, size_t length, uint32_t *count)
{
    int result;
    if (fs->polled != polled || fs->parameters.text[CELLOTA_AT_FILE] != name ||
        (polled == POLLED_READ && (fs->parameters.number[CELLOTA_AT_OFFSET] != offset ||
                                   fs->buffer != buffer || fs->capacity != length))) {
        if (fs->polled != POLLED_NONE)
            cellota_sim7600_fs_source_cancel(fs);
        if (polled == POLLED_SIZE)
            result = cellota_sim7600_fs_size(fs, name, port_now(fs));
        else if (length > UINT32_MAX)
            result = CELLOTA_INVALID_ARGUMENT;
        else
            result =
                cellota_sim7600_fs_read(fs, name, offset, buffer, (uint32_t)length, port_now(fs));
        if (result == CELLOTA_BUSY) {
            cellota_at_poll(fs->at, port_now(fs)); /* a cancelled call still settling */
            return CELLOTA_IN_PROGRESS;
        }
        if (result != CELLOTA_IN_PROGRESS)
            return result;
        fs->polled = polled;
    }
    cellota_at_poll(fs->at, port_now(fs));
    result = cellota_sim7600_fs_status(fs, count);
    if (result != CELLOTA_IN_PROGRESS)
        fs->polled = POLLED_NONE;
    return result;
}

int cellota_sim7600_fs_source_size(void *context, const char *name, uint32_t *size)
{
    return source_call(context, POLLED_SIZE, name, 0, NULL, 0, size);
}

int cellota_sim7600_fs_source_read(void *context, const char *name, uint32_t offset,
                                   uint8_t *buffer, size_t length)
{
    uint32_t count = 0;
    int result = source_call(context, POLLED_READ, name, offset, buffer, length, &count);
    if (result == CELLOTA_OK && count != length)
        result = CELLOTA_AT_FILE_FAILED; /* past the end of the file */
    return result;
}

void cellota_sim7600_fs_source_cancel(void *context)
{
    cellota_sim7600_fs *fs = context;
    if (fs->result == CELLOTA_IN_PROGRESS) {
        cellota_at_cancel(fs->at);
        fs->result = CELLOTA_TIMEOUT;
    }
    fs->polled = POLLED_NONE;
}

int cellota_sim7600_fs_status(const cellota_sim7600_fs *fs, uint32_t *count)
{
    if (count)
        *count = fs->count;
    return fs->result;
}
