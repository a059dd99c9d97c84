/*
 * Image hosting: the answer to GET or HEAD /images/<sha256>.ebin, straight from the store file.
 *
 * The file is never read into memory: libmicrohttpd sends it with sendfile(2) from an open
 * descriptor at an offset, so a download costs the server a descriptor and a few hundred bytes
 * of headers however large the image is. Images are content-addressed (the name is the SHA-256
 * of the bytes), so the ETag is that hash and the answer may be cached forever.
 *
 * What the answer does (RFC 9110; http_range.h parses the headers):
 *   If-None-Match matching the tag (weak comparison, a list, or "*")  -> 304, no body
 *   Range "bytes=A-B", "A-", "-N", satisfiable (and If-Range absent
 *     or the strong tag)                                              -> 206, Content-Range
 *   Range unsatisfiable (A at or past the size, "-0")                 -> 416, Content-Range with
 *                                                                        "*" and the size (JSON)
 *   no Range, several ranges, a malformed one, If-Range not the tag   -> 200, the whole file
 *   no such file                                                      -> 404 UNKNOWN_IMAGE (JSON)
 *   a method other than GET or HEAD                                   -> 405 (JSON, Allow)
 *   HEAD: the same status and headers as GET, no body.
 * Every 200/206/304 carries ETag, Accept-Ranges: bytes, and Cache-Control for immutable content;
 * 200/206 carry Content-Type and Content-Length.
 *
 * The daemon the server runs images on: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
 * MHD_USE_TURBO with MHD_OPTION_THREAD_POOL_SIZE = cores; see docs/server.md, "Images".
 * images_answer is safe to call from any of the pool's threads at once (it keeps no state).
 */
#ifndef CELLOTA_HOST_SERVER_IMAGES_H
#define CELLOTA_HOST_SERVER_IMAGES_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <microhttpd.h>

typedef struct images_transfer {
    /* Image bytes this answer will send: the range's or the file's length for GET 200/206, 0 for
     * HEAD, 304, 416 and errors (whose small JSON body is not image data). A client that hangs
     * up early receives fewer; MHD_OPTION_NOTIFY_COMPLETED says whether it completed. */
    uint64_t body_bytes;
} images_transfer;

/*
 * Answers GET or HEAD for the file at `path` (opened read-only, sent with sendfile), whose
 * strong ETag is "\"<etag>\"": Range (single, suffix), If-None-Match, If-Range, 206/304/416.
 * Queues the response on `connection`; fills *transfer. `path` is trusted: the caller has
 * already checked the request's name (no traversal). Returns what MHD_queue_response returned
 * (MHD_NO: the connection is closed), as the access handler should.
 *
 * Call it from the access handler's second call for the request, not the first (the one that
 * only sees the headers): libmicrohttpd 0.9.75 closes the connection after an answer queued
 * before it has read the whole request, and a device resuming a download wants keep-alive.
 */
enum MHD_Result images_answer(struct MHD_Connection *connection, const char *method,
                              const char *path, const char *etag, const char *content_type,
                              images_transfer *transfer);

#endif
