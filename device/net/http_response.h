/*
 * The HTTP/1.1 response parser: fed the bytes of one response in pieces of any size, it reads
 * the status line and headers one line at a time into a buffer the caller owns (its size is the
 * header-line limit), fills a cellota_http_response with the headers a download needs, and
 * hands the body to a callback exactly as it arrives -- Content-Length, chunked (extensions and
 * trailers skipped) or until the connection closes. It never reads past a length, never stores
 * more than one line, and rejects malformed input with its own code.
 *
 * The body rules (RFC 9112 section 6.3): no body for HEAD, 1xx, 204 and 304; otherwise chunked
 * when Transfer-Encoding ends in chunked, else Content-Length, else everything until close.
 * Interim 1xx responses (100 Continue) are skipped; the parser then reads the real one.
 */
#ifndef CELLOTA_NET_HTTP_RESPONSE_H
#define CELLOTA_NET_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_HTTP_ETAG_MAX 47         /* longer entity tags are not kept (etag stays "") */
#define CELLOTA_HTTP_HEADER_LINES_MAX 64 /* header and trailer lines per response */
#define CELLOTA_HTTP_UNKNOWN UINT32_MAX  /* a Content-Range total given as '*' */

/* What a response said. Filled as headers arrive; complete when on_headers is called. */
typedef struct cellota_http_response {
    uint16_t status;       /* 100-999 */
    uint8_t minor_version; /* HTTP/1.x */
    bool has_content_length;
    bool chunked;
    bool has_content_range;
    bool connection_close; /* the server closes after this response */
    bool has_body;         /* decided when the headers end */
    uint32_t content_length;
    uint32_t range_first, range_last; /* Content-Range: bytes first-last/total (206) */
    uint32_t range_total;             /* or bytes * / total (416); CELLOTA_HTTP_UNKNOWN for '*' */
    uint32_t body_received;           /* body bytes handed to on_body so far */
    char etag[CELLOTA_HTTP_ETAG_MAX + 1]; /* with its quotes and any W/ prefix; "" when none */
} cellota_http_response;

/*
 * Callbacks, each optional (NULL). Each returns CELLOTA_OK to go on, or an error code, which
 * stops the parser and becomes what feed returns from then on.
 *   on_header:  every header line of the final response (not of 1xx or trailers), the name
 *               and the value without surrounding whitespace; neither is NUL-terminated and
 *               both point into the line buffer, valid only during the call.
 *   on_headers: once, when the header block of the final response ends, before any body.
 *   on_body:    body bytes in order, in whatever pieces they arrived; no copy is made.
 */
typedef struct cellota_http_response_handler {
    int (*on_header)(void *context, const char *name, size_t name_length, const char *value,
                     size_t value_length);
    int (*on_headers)(void *context, cellota_http_response *response);
    int (*on_body)(void *context, const uint8_t *data, size_t length);
    void *context;
} cellota_http_response_handler;

typedef struct cellota_http_parser {
    cellota_http_response *response;
    cellota_http_response_handler handler;
    char *line;         /* the caller's line buffer */
    size_t line_size;   /* its capacity: the longest line accepted */
    size_t line_length; /* bytes of the current line so far */
    uint32_t remaining; /* body or chunk bytes still to come */
    uint16_t lines;     /* header and trailer lines seen */
    uint8_t state;
    bool head_request;
    bool keep_alive; /* the response said Connection: keep-alive (matters for HTTP/1.0) */
    bool seen_byte;
    int error; /* sticky once set */
} cellota_http_parser;

/*
 * Starts parsing one response. `response` is cleared. `line`/`line_size` is the line buffer
 * (at least 16 bytes); a longer status line, header line or chunk-size line is refused with
 * CELLOTA_NET_HTTP_HEADER_TOO_LONG (or CELLOTA_NET_HTTP_BAD_CHUNK for a chunk line).
 * `head_request`: the response answers HEAD, so it has no body whatever its headers say.
 * Returns CELLOTA_OK, or CELLOTA_INVALID_ARGUMENT for a NULL or too small buffer.
 */
int cellota_http_parser_begin(cellota_http_parser *parser, cellota_http_response *response,
                              char *line, size_t line_size, bool head_request,
                              const cellota_http_response_handler *handler);

/*
 * Consumes bytes of the response. `data` may point into the line buffer itself, at or after
 * line + line_length (the client receives straight into its free tail).
 * Returns CELLOTA_IN_PROGRESS when all bytes were used and more are needed; CELLOTA_OK when the
 * response is complete (*consumed says how many bytes it used; any rest is not part of it); or
 * an error: CELLOTA_NET_HTTP_BAD_STATUS_LINE, _BAD_HEADER, _HEADER_TOO_LONG, _TOO_MANY_HEADERS,
 * _BAD_CONTENT_LENGTH, _UNSUPPORTED_TRANSFER_ENCODING, _BAD_CHUNK, _BAD_CONTENT_RANGE, or a
 * callback's error. Once complete or failed, it returns the same result and consumes nothing.
 * `consumed` may be NULL.
 */
int cellota_http_parser_feed(cellota_http_parser *parser, const uint8_t *data, size_t length,
                             size_t *consumed);

/*
 * The connection closed: CELLOTA_OK when that ends the response (a body delimited by close, or
 * a response already complete), else CELLOTA_NET_HTTP_NO_RESPONSE (no byte at all),
 * CELLOTA_NET_HTTP_HEADERS_TRUNCATED, CELLOTA_NET_HTTP_BODY_TRUNCATED, or the earlier error.
 */
int cellota_http_parser_finish(cellota_http_parser *parser);

/* Where the next received bytes can go in the line buffer so that feed needs no copy: the end of
 * the line being collected, or the whole buffer while a body is read. *room is never 0. */
char *cellota_http_parser_space(const cellota_http_parser *parser, size_t *room);

#endif
