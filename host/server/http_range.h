/*
 * The request headers that make a download resumable and cacheable -- Range, If-None-Match and
 * If-Range (RFC 9110 sections 13.1 and 14.2) -- parsed by pure functions: no I/O, no heap, any
 * bytes in, a decision out. images.c turns the decisions into 200/206/304/416 answers; the
 * functions are exported so the unit tests and fuzz/fuzz_http_range.c can reach every edge.
 *
 * Entity tags are passed without their quotes: the image's tag is its SHA-256 in hex, sent as
 * ETag: "<tag>". A header value is what libmicrohttpd hands over: NUL-terminated, may be NULL
 * (absent), leading and trailing whitespace already trimmed (these functions trim again).
 */
#ifndef CELLOTA_HOST_SERVER_HTTP_RANGE_H
#define CELLOTA_HOST_SERVER_HTTP_RANGE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum http_range_result {
    /* Answer 200 with the whole file: no Range header, or one the server may ignore (RFC 9110
     * 14.2) -- another unit than bytes, several ranges, a malformed or invalid range set
     * (last-pos below first-pos), or a suffix range of an empty file (a 206 cannot describe an
     * empty range). */
    HTTP_RANGE_WHOLE,
    /* Answer 206 with bytes range.first..range.last (inclusive, both below the size). */
    HTTP_RANGE_PARTIAL,
    /* Answer 416 with Content-Range: bytes * / size: first-pos at or beyond the size, or a
     * suffix of length 0. */
    HTTP_RANGE_UNSATISFIABLE,
} http_range_result;

typedef struct http_range {
    uint64_t first; /* inclusive */
    uint64_t last;  /* inclusive */
} http_range;

/*
 * Decides how to answer `header` (the Range value, NULL when absent) for a file of `size` bytes.
 * Accepts "bytes=A-B", "bytes=A-", "bytes=-N" (the unit in any case, optional whitespace around
 * the range as around any list element, empty list elements); numbers too large for 64 bits
 * saturate, so a huge first-pos is unsatisfiable and a huge last-pos or suffix means "to the
 * end". *range is written only for HTTP_RANGE_PARTIAL.
 */
http_range_result http_range_parse(const char *header, uint64_t size, http_range *range);

/*
 * If-None-Match: true when `header` is "*" or a list of entity tags one of which equals `tag`
 * by weak comparison (W/"x" matches "x"). An absent or malformed header matches nothing, so
 * the answer is the normal one -- ignoring a precondition only costs bytes.
 */
bool http_if_none_match(const char *header, const char *tag);

/*
 * If-Range: true when the range may be honoured -- `header` is absent, or is exactly the strong
 * entity tag "<tag>". A weak tag, another tag, an HTTP-date (the server sends no Last-Modified to
 * validate it against) or anything malformed is false: answer the whole file.
 */
bool http_if_range_allows(const char *header, const char *tag);

#endif
