/*
 * Whole-file reads and atomic writes, with the error printed the one way every program prints
 * it ("cellota: cannot read 'x': No such file or directory"). "-" means standard input or
 * output.
 */
#ifndef CELLOTA_HOST_COMMON_FILE_H
#define CELLOTA_HOST_COMMON_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flags for host_write_file. */
#define HOST_WRITE_PRIVATE 1    /* mode 0600 instead of 0644 (keys) */
#define HOST_WRITE_NO_REPLACE 2 /* fail if the file exists (never overwrite a key) */

/*
 * Reads the whole file into a malloc'd buffer followed by one NUL byte (not counted in
 * *length), so text can be handed to string functions. A file larger than `max_size` bytes
 * (0: no limit) is refused. HOST_EXIT_OK, or HOST_EXIT_IO after printing why.
 * The caller frees *data.
 */
int host_read_file(const char *path, size_t max_size, uint8_t **data, size_t *length);

/*
 * Writes `length` bytes to `path` atomically: a temporary file in the same folder, flushed,
 * then renamed over `path` (or linked, with HOST_WRITE_NO_REPLACE), so a reader never sees
 * half a file. HOST_EXIT_OK, or HOST_EXIT_IO after printing why.
 */
int host_write_file(const char *path, const void *data, size_t length, int flags);

/* Creates the folder (one level) unless it exists. HOST_EXIT_OK or HOST_EXIT_IO. */
int host_make_folder(const char *path);

/* Joins folder and name with one '/' into a malloc'd string; NULL when out of memory. */
char *host_path_join(const char *folder, const char *name);

/* What tells one version of a file from another, for a reader that reads it again only when it
 * changed: a rewrite by rename (host_write_file) changes the inode, an edit in place the size
 * or the time. All zero when the file does not exist. */
typedef struct host_file_mark {
    bool exists;
    uint64_t inode;
    int64_t size, modified_seconds, modified_nanoseconds;
} host_file_mark;

void host_file_mark_of(const char *path, host_file_mark *mark);
bool host_file_mark_same(const host_file_mark *a, const host_file_mark *b);

#endif
