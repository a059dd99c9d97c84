/* Image hosting from the store with sendfile; see images.h for the answers it gives. */
#include "server/images.h"

#include "server/http_range.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Content-addressed: the bytes behind a name never change, so any cache may keep them for a
 * year without asking again (RFC 8246). */
#define IMMUTABLE_CACHE_CONTROL "public, max-age=31536000, immutable"

/* Queues `response` with `status` and releases our reference; MHD keeps its own. */
static enum MHD_Result queue(struct MHD_Connection *connection, unsigned status,
                             struct MHD_Response *response)
{
    enum MHD_Result result;

    if (!response)
        return MHD_NO;
    result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

/* A JSON error as docs/server.md has every error: {"error":NAME,"message":SENTENCE}. Both are
 * our own text (no quotes or backslashes), so no escaping is needed. */
static struct MHD_Response *error_response(const char *name, const char *message)
{
    char body[256];
    int length =
        snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}\n", name, message);
    struct MHD_Response *response;

    if (length < 0 || (size_t)length >= sizeof(body))
        length = 0;
    response = MHD_create_response_from_buffer((size_t)length, body, MHD_RESPMEM_MUST_COPY);
    if (response)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return response;
}

static enum MHD_Result answer_error(struct MHD_Connection *connection, unsigned status,
                                    const char *name, const char *message)
{
    return queue(connection, status, error_response(name, message));
}

/* The headers every answer about an existing image carries, whatever its status. */
static bool add_validators(struct MHD_Response *response, const char *quoted_etag)
{
    return MHD_add_response_header(response, MHD_HTTP_HEADER_ETAG, quoted_etag) == MHD_YES &&
           MHD_add_response_header(response, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes") == MHD_YES &&
           MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
                                   IMMUTABLE_CACHE_CONTROL) == MHD_YES;
}

/* A response whose body is `length` bytes of the file from `offset`, sent by MHD with sendfile;
 * it owns `fd` from here (closed now for an empty body or on failure, else when MHD destroys the
 * response). */
static struct MHD_Response *file_response(int fd, uint64_t offset, uint64_t length)
{
    struct MHD_Response *response;

    if (length == 0) {
        close(fd);
        return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    response = MHD_create_response_from_fd_at_offset64(length, fd, offset);
    if (!response)
        close(fd);
    return response;
}

/* RFC 9110 8.6: a 304 may carry Content-Length only as the length a 200 would have had. MHD
 * sends no body with a 304 but does announce the response's size, so the response is the file
 * itself (never read) rather than an empty buffer, which would announce "Content-Length: 0". */
static enum MHD_Result answer_not_modified(struct MHD_Connection *connection,
                                           const char *quoted_etag, int fd, uint64_t size)
{
    struct MHD_Response *response = file_response(fd, 0, size);

    if (response && !add_validators(response, quoted_etag)) {
        MHD_destroy_response(response);
        return MHD_NO;
    }
    return queue(connection, MHD_HTTP_NOT_MODIFIED, response);
}

static enum MHD_Result answer_unsatisfiable(struct MHD_Connection *connection, uint64_t size)
{
    char content_range[48], message[96];
    struct MHD_Response *response;

    snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64, size);
    snprintf(message, sizeof(message), "The range asks for bytes past the image's %" PRIu64 ".",
             size);
    response = error_response("RANGE_NOT_SATISFIABLE", message);
    if (response &&
        (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_RANGE, content_range) !=
             MHD_YES ||
         MHD_add_response_header(response, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes") != MHD_YES)) {
        MHD_destroy_response(response);
        return MHD_NO;
    }
    return queue(connection, MHD_HTTP_RANGE_NOT_SATISFIABLE, response);
}

/* Opens the image; on failure queues the error answer and returns -1 with *result set. */
static int open_image(struct MHD_Connection *connection, const char *path, uint64_t *size,
                      enum MHD_Result *result)
{
    struct stat status;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0 && fstat(fd, &status) == 0 && S_ISREG(status.st_mode)) {
        *size = (uint64_t)status.st_size;
        return fd;
    }
    if (fd >= 0) {
        /* A folder or a device under an image's name is no image. */
        close(fd);
        errno = ENOENT;
    }
    if (errno == ENOENT || errno == ENOTDIR) {
        *result = answer_error(connection, MHD_HTTP_NOT_FOUND, "UNKNOWN_IMAGE",
                               "No image with this name is stored on this server.");
    } else {
        char message[160];
        snprintf(message, sizeof(message), "The stored image could not be opened: %s.",
                 strerror(errno));
        *result =
            answer_error(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "STORE_UNREADABLE", message);
    }
    return -1;
}

enum MHD_Result images_answer(struct MHD_Connection *connection, const char *method,
                              const char *path, const char *etag, const char *content_type,
                              images_transfer *transfer)
{
    char quoted_etag[160], content_range[80];
    enum MHD_Result result = MHD_NO;
    http_range range = {0, 0};
    http_range_result decision = HTTP_RANGE_WHOLE;
    struct MHD_Response *response;
    const char *range_header;
    uint64_t size, length;
    unsigned status;
    bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int fd;

    transfer->body_bytes = 0;
    if (!head && strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        response = error_response("METHOD_NOT_ALLOWED", "Images answer GET and HEAD only.");
        if (response)
            MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return queue(connection, MHD_HTTP_METHOD_NOT_ALLOWED, response);
    }
    if ((size_t)snprintf(quoted_etag, sizeof(quoted_etag), "\"%s\"", etag) >= sizeof(quoted_etag))
        return answer_error(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "BAD_ETAG",
                            "The image's entity tag is too long.");
    fd = open_image(connection, path, &size, &result);
    if (fd < 0)
        return result;

    /* RFC 9110 13.2.2: If-None-Match first, then Range (with If-Range) for GET and HEAD. */
    if (http_if_none_match(
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
            etag))
        return answer_not_modified(connection, quoted_etag, fd, size);
    range_header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    if (range_header &&
        http_if_range_allows(
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE),
            etag))
        decision = http_range_parse(range_header, size, &range);

    switch (decision) {
    case HTTP_RANGE_UNSATISFIABLE:
        close(fd);
        return answer_unsatisfiable(connection, size);
    case HTTP_RANGE_PARTIAL:
        status = MHD_HTTP_PARTIAL_CONTENT;
        length = range.last - range.first + 1;
        snprintf(content_range, sizeof(content_range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                 range.first, range.last, size);
        break;
    case HTTP_RANGE_WHOLE:
    default:
        status = MHD_HTTP_OK;
        range.first = 0;
        length = size;
        break;
    }

    response = file_response(fd, range.first, length);
    if (!response)
        return MHD_NO;
    if (!add_validators(response, quoted_etag) ||
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
        (status == MHD_HTTP_PARTIAL_CONTENT &&
         MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_RANGE, content_range) !=
             MHD_YES)) {
        MHD_destroy_response(response);
        return MHD_NO;
    }
    result = queue(connection, status, response);
    if (result == MHD_YES && !head)
        transfer->body_bytes = length;
    return result;
}
