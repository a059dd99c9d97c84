/* Whole-file reads and atomic writes; see file.h. */
#include "common/file.h"

#include "common/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int host_read_file(const char *path, size_t max_size, uint8_t **data, size_t *length)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int descriptor = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    size_t capacity = 4096, used = 0;
    uint8_t *buffer;
    struct stat status;

    *data = NULL;
    *length = 0;
    if (descriptor < 0)
        return host_error(HOST_EXIT_IO, "cannot read '%s': %s", path, strerror(errno));
    if (fstat(descriptor, &status) == 0 && S_ISDIR(status.st_mode)) {
        close(descriptor);
        return host_error(HOST_EXIT_IO, "cannot read '%s': it is a folder", path);
    }
    if (fstat(descriptor, &status) == 0 && S_ISREG(status.st_mode) && status.st_size > 0)
        capacity = (size_t)status.st_size + 1;
    buffer = malloc(capacity);
    for (;;) {
        ssize_t got;
        if (!buffer)
            break;
        if (used + 1 >= capacity) {
            uint8_t *larger = realloc(buffer, capacity * 2);
            if (!larger) {
                free(buffer);
                buffer = NULL;
                break;
            }
            buffer = larger;
            capacity *= 2;
        }
        got = read(descriptor, buffer + used, capacity - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            free(buffer);
            if (!is_stdin)
                close(descriptor);
            return host_error(HOST_EXIT_IO, "cannot read '%s': %s", path, strerror(saved));
        }
        if (got == 0)
            break;
        used += (size_t)got;
        if (max_size && used > max_size) {
            free(buffer);
            if (!is_stdin)
                close(descriptor);
            return host_error(HOST_EXIT_IO, "cannot read '%s': longer than %zu bytes", path,
                              max_size);
        }
    }
    if (!is_stdin)
        close(descriptor);
    if (!buffer)
        return host_error(HOST_EXIT_INTERNAL, "cannot read '%s': out of memory", path);
    buffer[used] = 0;
    *data = buffer;
    *length = used;
    return HOST_EXIT_OK;
}

static int write_all(int descriptor, const uint8_t *data, size_t length)
{
    while (length) {
        ssize_t done = write(descriptor, data, length);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            return -1;
        data += done;
        length -= (size_t)done;
    }
    return 0;
}

int host_write_file(const char *path, const void *data, size_t length, int flags)
{
    size_t path_length = strlen(path);
    char *temporary;
    int descriptor, status = 0, saved;

    if (strcmp(path, "-") == 0) {
        if (write_all(STDOUT_FILENO, data, length) != 0)
            return host_error(HOST_EXIT_IO, "cannot write to standard output: %s", strerror(errno));
        return HOST_EXIT_OK;
    }
    temporary = malloc(path_length + 16);
    if (!temporary)
        return host_error(HOST_EXIT_INTERNAL, "cannot write '%s': out of memory", path);
    snprintf(temporary, path_length + 16, "%s.tmp-XXXXXX", path);
    descriptor = mkstemp(temporary);
    if (descriptor < 0) {
        saved = errno;
        free(temporary);
        return host_error(HOST_EXIT_IO, "cannot write '%s': %s", path, strerror(saved));
    }
    if (fchmod(descriptor, (flags & HOST_WRITE_PRIVATE) ? 0600 : 0644) != 0 ||
        write_all(descriptor, data, length) != 0 || fsync(descriptor) != 0)
        status = -1;
    saved = errno;
    if (close(descriptor) != 0 && status == 0) {
        status = -1;
        saved = errno;
    }
    if (status == 0) {
        if (flags & HOST_WRITE_NO_REPLACE) {
            /* link() fails when the name exists, so an existing file is never replaced. */
            status = link(temporary, path);
            saved = errno;
            unlink(temporary);
        } else {
            status = rename(temporary, path);
            saved = errno;
        }
    }
    if (status != 0) {
        unlink(temporary);
        free(temporary);
        if (saved == EEXIST)
            return host_error(HOST_EXIT_IO, "'%s' exists already: not overwriting it", path);
        return host_error(HOST_EXIT_IO, "cannot write '%s': %s", path, strerror(saved));
    }
    free(temporary);
    return HOST_EXIT_OK;
}

int host_make_folder(const char *path)
{
    struct stat status;
    if (mkdir(path, 0755) == 0)
        return HOST_EXIT_OK;
    if (errno == EEXIST && stat(path, &status) == 0 && S_ISDIR(status.st_mode))
        return HOST_EXIT_OK;
    if (errno == EEXIST)
        return host_error(HOST_EXIT_IO, "cannot create folder '%s': a file has that name", path);
    return host_error(HOST_EXIT_IO, "cannot create folder '%s': %s", path, strerror(errno));
}

char *host_path_join(const char *folder, const char *name)
{
    size_t folder_length = strlen(folder);
    size_t size = folder_length + strlen(name) + 2;
    char *path = malloc(size);
    if (!path)
        return NULL;
    while (folder_length > 1 && folder[folder_length - 1] == '/')
        folder_length--;
    snprintf(path, size, "%.*s/%s", (int)folder_length, folder, name);
    return path;
}

void host_file_mark_of(const char *path, host_file_mark *mark)
{
    struct stat info;
    memset(mark, 0, sizeof(*mark));
    if (stat(path, &info) != 0)
        return;
    mark->exists = true;
    mark->inode = (uint64_t)info.st_ino;
    mark->size = (int64_t)info.st_size;
    mark->modified_seconds = (int64_t)info.st_mtim.tv_sec;
    mark->modified_nanoseconds = (int64_t)info.st_mtim.tv_nsec;
}

bool host_file_mark_same(const host_file_mark *a, const host_file_mark *b)
{
    return a->exists == b->exists && a->inode == b->inode && a->size == b->size &&
           a->modified_seconds == b->modified_seconds &&
           a->modified_nanoseconds == b->modified_nanoseconds;
}
