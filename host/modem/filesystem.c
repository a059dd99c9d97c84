/*
 * The SIM7600's local file system (drive C:), in memory or in a host directory:
 *
 *   AT+FSCD=C:                         current drive (E:, the SD card, is absent)
 *   AT+FSLS                            +FSLS: SUBDIRECTORIES: … +FSLS: FILES: <names> OK
 *   AT+FSDEL="name"                    OK / ERROR
 *   AT+FSRENAME="old","new"            OK
 *   AT+FSATTRI="name"                  +FSATTRI: <size>,<date>
 *   AT+FSMEM                           +FSMEM: C:(<total>,<used>)
 *   AT+CFTRANRX="c:/name",<len>        '>' then <len> bytes written to the file, OK
 *                   [,<offset>]        (with an offset the bytes go into the existing file)
 *   AT+CFTRANTX="c:/name"[,<offset>,<len>]
 *                                      +CFTRANTX: DATA,<n> <n bytes> … +CFTRANTX: 0 OK
 *
 * Only the root of C: is emulated: names are plain file names, "c:/" prefixes accepted.
 */
#include "emulator_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CAPACITY (8ull << 20)
#define READ_BLOCK 2048u

/* ---- names -------------------------------------------------------------------------------------
 */

/* "c:/image.bin", "C:/image.bin", "image.bin" -> "image.bin"; NULL when not a plain name on C: */
static const char *plain_name(const char *path)
{
    size_t length, index;
    if ((path[0] == 'c' || path[0] == 'C') && path[1] == ':') {
        path += 2;
        if (*path == '/' || *path == '\\')
            path++;
    } else if (path[0] && path[1] == ':') {
        return NULL; /* another drive */
    }
    length = strlen(path);
    if (length == 0 || length >= 120 || strcmp(path, ".") == 0 || strcmp(path, "..") == 0)
        return NULL;
    for (index = 0; index < length; index++)
        if (path[index] == '/' || path[index] == '\\' || (unsigned char)path[index] < 32)
            return NULL;
    return path;
}

static void host_path(const modem_emulator *emulator, const char *name, char *out, size_t capacity)
{
    snprintf(out, capacity, "%s/%s", emulator->fs.directory, name);
}

/* ---- the two backends
 * ----------------------------------------------------------------------------- */

static fs_file *memory_find(const modem_emulator *emulator, const char *name)
{
    fs_file *file;
    for (file = emulator->fs.files; file; file = file->next)
        if (strcmp(file->name, name) == 0)
            return file;
    return NULL;
}

static bool file_size(const modem_emulator *emulator, const char *name, uint64_t *size)
{
    if (emulator->fs.directory) {
        char path[4200];
        struct stat status;
        host_path(emulator, name, path, sizeof(path));
        if (stat(path, &status) != 0 || !S_ISREG(status.st_mode))
            return false;
        *size = (uint64_t)status.st_size;
        return true;
    } else {
        fs_file *file = memory_find(emulator, name);
        if (!file)
            return false;
        *size = file->size;
        return true;
    }
}

static uint64_t used_bytes(const modem_emulator *emulator)
{
    uint64_t used = 0;
    if (emulator->fs.directory) {
        DIR *directory = opendir(emulator->fs.directory);
        struct dirent *entry;
        if (!directory)
            return 0;
        while ((entry = readdir(directory))) {
            uint64_t size;
            if (entry->d_name[0] != '.' && file_size(emulator, entry->d_name, &size))
                used += size;
        }
        closedir(directory);
    } else {
        fs_file *file;
        for (file = emulator->fs.files; file; file = file->next)
            used += file->size;
    }
    return used;
}

static size_t file_read(const modem_emulator *emulator, const char *name, uint64_t offset,
                        uint8_t *buffer, size_t length)
{
    if (emulator->fs.directory) {
        char path[4200];
        FILE *stream;
        size_t count;
        host_path(emulator, name, path, sizeof(path));
        stream = fopen(path, "rb");
        if (!stream)
            return 0;
        if (fseeko(stream, (off_t)offset, SEEK_SET) != 0) {
            fclose(stream);
            return 0;
        }
        count = fread(buffer, 1, length, stream);
        fclose(stream);
        return count;
    } else {
        fs_file *file = memory_find(emulator, name);
        if (!file || offset >= file->size)
            return 0;
        if (length > file->size - offset)
            length = (size_t)(file->size - offset);
        memcpy(buffer, file->data + offset, length);
        return length;
    }
}

/* Writes at `offset`; `truncate` starts the file empty first. */
static bool file_write(modem_emulator *emulator, const char *name, uint64_t offset,
                       const uint8_t *data, size_t length, bool truncate)
{
    if (emulator->fs.directory) {
        char path[4200];
        FILE *stream;
        bool done;
        host_path(emulator, name, path, sizeof(path));
        stream = fopen(path, truncate ? "wb" : "r+b");
        if (!stream)
            return false;
        done = fseeko(stream, (off_t)offset, SEEK_SET) == 0 &&
               fwrite(data, 1, length, stream) == length;
        return fclose(stream) == 0 && done;
    } else {
        fs_file *file = memory_find(emulator, name);
        if (!file) {
            file = calloc(1, sizeof(*file));
            if (!file)
                return false;
            snprintf(file->name, sizeof(file->name), "%s", name);
            file->next = emulator->fs.files;
            emulator->fs.files = file;
        }
        if (truncate)
            file->size = 0;
        if (offset > file->size)
            return false;
        if (offset + length > file->capacity) {
            size_t capacity = file->capacity ? file->capacity : 4096;
            uint8_t *grown;
            while (capacity < offset + length)
                capacity *= 2;
            grown = realloc(file->data, capacity);
            if (!grown)
                return false;
            file->data = grown;
            file->capacity = capacity;
        }
        if (length)
            memcpy(file->data + offset, data, length);
        if (offset + length > file->size)
            file->size = offset + length;
        return true;
    }
}

static bool file_delete(modem_emulator *emulator, const char *name)
{
    if (emulator->fs.directory) {
        char path[4200];
        uint64_t size;
        if (!file_size(emulator, name, &size))
            return false;
        host_path(emulator, name, path, sizeof(path));
        return unlink(path) == 0;
    } else {
        fs_file **link = &emulator->fs.files;
        while (*link) {
            if (strcmp((*link)->name, name) == 0) {
                fs_file *gone = *link;
                *link = gone->next;
                free(gone->data);
                free(gone);
                return true;
            }
            link = &(*link)->next;
        }
        return false;
    }
}

static bool file_rename(modem_emulator *emulator, const char *from, const char *to)
{
    uint64_t size;
    if (!file_size(emulator, from, &size) || file_size(emulator, to, &size))
        return false;
    if (emulator->fs.directory) {
        char old_path[4200], new_path[4200];
        host_path(emulator, from, old_path, sizeof(old_path));
        host_path(emulator, to, new_path, sizeof(new_path));
        return rename(old_path, new_path) == 0;
    }
    snprintf(memory_find(emulator, from)->name, sizeof(((fs_file *)0)->name), "%s", to);
    return true;
}

int fs_init(modem_emulator *emulator)
{
    emulator->fs.directory = emulator->options.fs_dir;
    emulator->fs.capacity =
        emulator->options.fs_capacity ? emulator->options.fs_capacity : DEFAULT_CAPACITY;
    if (emulator->fs.directory) {
        struct stat status;
        if (stat(emulator->fs.directory, &status) != 0 || !S_ISDIR(status.st_mode))
            return -1;
    }
    return 0;
}

void fs_free(modem_emulator *emulator)
{
    while (emulator->fs.files) {
        fs_file *file = emulator->fs.files;
        emulator->fs.files = file->next;
        free(file->data);
        free(file);
    }
}

int fs_write_file(modem_emulator *emulator, const char *path, const uint8_t *data, size_t length)
{
    const char *name = plain_name(path);
    uint64_t old = 0;
    if (!name)
        return CME_INVALID_PARAMETERS;
    file_size(emulator, name, &old);
    if (used_bytes(emulator) - old + length > emulator->fs.capacity)
        return CME_MEMORY_FULL;
    return file_write(emulator, name, 0, data, length, true) ? 0 : CME_UNKNOWN;
}

/* ---- commands
 * ------------------------------------------------------------------------------------ */

static int command_fscd(modem_emulator *emulator, const at_command *command)
{
    const char *drive = argument_text(command, 0);
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+FSCD: C:/");
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (strcasecmp(drive, "C:") == 0 || strcasecmp(drive, "C:/") == 0) {
        out_line(emulator, "+FSCD: C:/");
        return RESULT_OK;
    }
    return RESULT_ERROR; /* no SD card, no subdirectories */
}

static int command_fsls(modem_emulator *emulator, const at_command *command)
{
    long type = 0;
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+FSLS: (0-2)");
        return RESULT_OK;
    }
    if (command->type == COMMAND_SET && (!argument_int(command, 0, &type) || type < 0 || type > 2))
        return RESULT_ERROR;
    if (type != 2)
        out_line(emulator, "+FSLS: SUBDIRECTORIES:");
    if (type != 1) {
        if (emulator->verbose)
            out_text(emulator, "\r\n");
        out_text(emulator, "+FSLS: FILES:\r\n");
        if (emulator->fs.directory) {
            DIR *directory = opendir(emulator->fs.directory);
            struct dirent *entry;
            uint64_t size;
            while (directory && (entry = readdir(directory))) {
                if (entry->d_name[0] == '.' || !file_size(emulator, entry->d_name, &size))
                    continue;
                out_text(emulator, entry->d_name);
                out_text(emulator, "\r\n");
            }
            if (directory)
                closedir(directory);
        } else {
            fs_file *file;
            for (file = emulator->fs.files; file; file = file->next) {
                out_text(emulator, file->name);
                out_text(emulator, "\r\n");
            }
        }
        out_safe_point(emulator);
    }
    return RESULT_OK;
}

static int command_fsdel(modem_emulator *emulator, const at_command *command)
{
    const char *name;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    name = plain_name(argument_text(command, 0));
    if (!name || !file_delete(emulator, name))
        return RESULT_ERROR;
    return RESULT_OK;
}

static int command_fsrename(modem_emulator *emulator, const at_command *command)
{
    const char *from, *to;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    from = plain_name(argument_text(command, 0));
    to = plain_name(argument_text(command, 1));
    if (!from || !to || !file_rename(emulator, from, to))
        return RESULT_ERROR;
    return RESULT_OK;
}

static int command_fsattri(modem_emulator *emulator, const at_command *command)
{
    const char *name;
    uint64_t size;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    name = plain_name(argument_text(command, 0));
    if (!name || !file_size(emulator, name, &size))
        return RESULT_ERROR;
    out_line(emulator, "+FSATTRI: %llu,2024/06/01 12:00:00", (unsigned long long)size);
    return RESULT_OK;
}

static int command_fsmem(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "+FSMEM: C:(%llu,%llu)", (unsigned long long)emulator->fs.capacity,
             (unsigned long long)used_bytes(emulator));
    return RESULT_OK;
}

static void receive_chunk(modem_emulator *emulator, const uint8_t *data, size_t length)
{
    fs_state *fs = &emulator->fs;
    if (fs->write_failed)
        return;
    if (!file_write(emulator, fs->writing, fs->write_offset, data, length, false))
        fs->write_failed = true;
    fs->write_offset += length;
}

static void receive_done(modem_emulator *emulator, const uint8_t *payload, size_t length,
                         bool cancelled)
{
    (void)payload;
    (void)length;
    if (cancelled || emulator->fs.write_failed)
        out_error(emulator);
    else
        out_ok(emulator);
}

static int command_cftranrx(modem_emulator *emulator, const at_command *command)
{
    fs_state *fs = &emulator->fs;
    const char *name;
    long length, offset = -1;
    uint64_t size = 0;
    bool exists;
    data_sink sink;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    name = plain_name(argument_text(command, 0));
    if (!name || !argument_int(command, 1, &length) || length < 0 || length > 0x7FFFFFFF)
        return RESULT_ERROR;
    if (argument_present(command, 2) && (!argument_int(command, 2, &offset) || offset < 0))
        return RESULT_ERROR;
    exists = file_size(emulator, name, &size);
    if (offset >= 0 && (!exists || (uint64_t)offset > size))
        return RESULT_ERROR;
    {
        uint64_t after = offset >= 0 && (uint64_t)offset + (uint64_t)length < size
                             ? size
                             : (uint64_t)(offset >= 0 ? offset : 0) + (uint64_t)length;
        if (used_bytes(emulator) - (exists ? size : 0) + after > fs->capacity)
            return command_cme(CME_MEMORY_FULL);
    }
    snprintf(fs->writing, sizeof(fs->writing), "%s", name);
    fs->write_offset = offset >= 0 ? (uint64_t)offset : 0;
    fs->write_failed = !file_write(emulator, name, fs->write_offset, NULL, 0, offset < 0);
    if (length == 0)
        return fs->write_failed ? RESULT_ERROR : RESULT_OK;
    memset(&sink, 0, sizeof(sink));
    sink.expected = (size_t)length;
    sink.on_data = receive_chunk;
    sink.on_end = receive_done;
    begin_data_input(emulator, &sink, true);
    return RESULT_PENDING;
}

/* AT+CFTRANTX writes its blocks as the line drains. */
static bool transmit_block(modem_emulator *emulator)
{
    uint8_t data[READ_BLOCK];
    size_t want = emulator->producer_remaining < READ_BLOCK ? (size_t)emulator->producer_remaining
                                                            : READ_BLOCK;
    size_t count =
        want ? file_read(emulator, emulator->producer_name, emulator->producer_offset, data, want)
             : 0;
    if (count == 0) {
        out_line(emulator, "+CFTRANTX: 0");
        out_ok(emulator);
        return true;
    }
    out_read_header(emulator, NULL, "+CFTRANTX: DATA,%zu", count);
    out_raw(emulator, data, count);
    out_text(emulator, "\r\n");
    out_safe_point(emulator);
    emulator->producer_offset += count;
    emulator->producer_remaining -= count;
    return false;
}

static int command_cftrantx(modem_emulator *emulator, const at_command *command)
{
    const char *name;
    long offset = 0, length = -1;
    uint64_t size;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    name = plain_name(argument_text(command, 0));
    if (!name || !file_size(emulator, name, &size))
        return RESULT_ERROR;
    if (argument_present(command, 1) &&
        (!argument_int(command, 1, &offset) || offset < 0 || (uint64_t)offset > size))
        return RESULT_ERROR;
    if (argument_present(command, 2) && (!argument_int(command, 2, &length) || length < 0))
        return RESULT_ERROR;
    emulator->producer_offset = (uint64_t)offset;
    emulator->producer_remaining = size - (uint64_t)offset;
    if (length >= 0 && (uint64_t)length < emulator->producer_remaining)
        emulator->producer_remaining = (uint64_t)length;
    snprintf(emulator->producer_name, sizeof(emulator->producer_name), "%s", name);
    emulator->producer = transmit_block;
    return RESULT_PENDING;
}

const command_entry filesystem_commands[] = {{"+FSCD", command_fscd, 0},
                                             {"+FSLS", command_fsls, 0},
                                             {"+FSDEL", command_fsdel, 0},
                                             {"+FSRENAME", command_fsrename, 0},
                                             {"+FSATTRI", command_fsattri, 0},
                                             {"+FSMEM", command_fsmem, 0},
                                             {"+CFTRANRX", command_cftranrx, 0},
                                             {"+CFTRANTX", command_cftrantx, 0},
                                             {NULL, NULL, 0}};
