/*
 * The HTTP/1.1 client: one GET or HEAD at a time over a cellota_socket, as a state machine the
 * caller ticks with the time. It connects (or reuses a kept-alive connection to the same host),
 * sends the request (Host, optional Range, Connection), reads the response with the incremental
 * parser (http_response.h), hands body bytes to the caller as they arrive, follows redirects
 * (301/302/303/307/308, at most max_redirects, re-opening the socket to the new host), and ends
 * with CELLOTA_OK for a 2xx answer or a named error for anything else.
 *
 * Memory: the caller owns everything. `buffer` holds the request while it is sent and then each
 * header line and each batch of received bytes, so its size is both the header-line limit and
 * the receive batch (256-1024 bytes suit a microcontroller). `url` holds the current target as
 * "host\0path\0" (replaced by redirects), so its size bounds the URL.
 *
 * Ranges and resuming. With has_range, the request asks for bytes=first- (or first-last). The
 * answer is checked before any body byte is passed on: a 206 must start exactly at `first`
 * (else CELLOTA_NET_HTTP_RANGE_MISMATCH) and its Content-Range must agree with Content-Length.
 * A server that ignores Range answers 200 with the whole file: on_response is then told
 * body_offset 0, and the caller restarts its consumer from the beginning (or returns an error to
 * stop); with no on_response the request fails with CELLOTA_NET_HTTP_RANGE_IGNORED rather than
 * pass bytes from 0 to a consumer expecting `first`. A 416 (range past the end) fails with
 * CELLOTA_NET_HTTP_RANGE_NOT_SATISFIABLE and response.range_total holds the file's size when
 * the server gave it.
 *
 * The client owns its socket: it polls it, opens and closes it. One client per socket.
 */
#ifndef CELLOTA_NET_HTTP_H
#define CELLOTA_NET_HTTP_H

#include "core/socket.h"
#include "net/http_response.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_HTTP_RANGE_TO_END UINT32_MAX /* range_last for "bytes=first-" */

typedef enum cellota_http_method {
    CELLOTA_HTTP_GET = 0,
    CELLOTA_HTTP_HEAD = 1
} cellota_http_method;

typedef struct cellota_http_request {
    cellota_http_method method;
    const char *url; /* http://host[:port]/path or https://...; copied by begin */
    bool has_range;  /* send Range: bytes=range_first-[range_last] */
    uint32_t range_first;
    uint32_t range_last; /* inclusive, or CELLOTA_HTTP_RANGE_TO_END */
    bool keep_alive;     /* ask to keep the connection open for the next request */
    /* NULL, or whole header lines each ending in "\r\n" (e.g. "If-None-Match: \"x\"\r\n");
     * must stay valid until the request ends (it is re-sent after a redirect). */
    const char *extra_headers;
    /*
     * Optional. Called once for the final 2xx response when its headers are complete (for HEAD
     * too), before any body byte. body_offset is where in the file the body starts: range_first
     * for a 206, 0 for a 200. Return CELLOTA_OK to take the body, or an error to stop with it.
     */
    int (*on_response)(void *context, const cellota_http_response *response, uint32_t body_offset);
    /* Optional: body bytes of the final 2xx response, in order, in pieces of any size. Return
     * CELLOTA_OK to go on or an error (e.g. the image pipeline's) to stop with it. */
    int (*on_body)(void *context, const uint8_t *data, size_t length);
    void *context;
} cellota_http_request;

typedef struct cellota_http_config {
    char *buffer; /* request out, header lines and received bytes in; >= 64 bytes */
    size_t buffer_size;
    char *url; /* the current target; >= 16 bytes */
    size_t url_size;
    uint32_t connect_timeout_ms; /* socket open (and any close before it); 0: no limit */
    uint32_t idle_timeout_ms;    /* longest wait for the next byte in or out; 0: no limit */
    uint32_t request_timeout_ms; /* whole request, redirects included; 0: no limit */
    uint8_t max_redirects;       /* redirects followed before CELLOTA_NET_HTTP_TOO_MANY_REDIRECTS */
} cellota_http_config;

/* Defaults used by cellota_http_config_default: suited to a cellular link. */
#define CELLOTA_HTTP_CONNECT_TIMEOUT_MS 60000u
#define CELLOTA_HTTP_IDLE_TIMEOUT_MS 30000u
#define CELLOTA_HTTP_MAX_REDIRECTS 3u

typedef struct cellota_http_client {
    /* Private but socket, config, request, parser, response, body_offset and redirects. Bytes
     * first, then words, then the large parts: Thumb reaches a byte field in the first 32 bytes,
     * or a word in the first 128, with a 2-byte instruction instead of a 4-byte one. */
    uint8_t state;
    uint8_t redirects;  /* followed in this request */
    bool reusable;      /* the socket is open and kept alive with the server it reached */
    bool reused;        /* this attempt runs on a kept-alive connection */
    bool same_endpoint; /* the current URL names the server the socket is open to */
    bool redirect_pending;
    uint16_t port;
    cellota_socket_kind kind;
    size_t host_length; /* the host is url[0..host_length), the path starts at host_length + 1 */
    size_t send_length, sent;
    uint32_t now, started, connect_started, last_activity;
    int result;
    uint32_t body_offset; /* see on_response */
    const cellota_socket *socket;
    cellota_http_config config;
    cellota_http_request request;
    cellota_http_parser parser;
    cellota_http_response response; /* of the last response read; valid after poll ends */
} cellota_http_client;

/* Fills `config` with the buffers given, the default timeouts above, no request time limit and
 * CELLOTA_HTTP_MAX_REDIRECTS. */
void cellota_http_config_default(cellota_http_config *config, char *buffer, size_t buffer_size,
                                 char *url, size_t url_size);

/* Binds a client to a socket (which must be CLOSED or unused) and its buffers. CELLOTA_OK, or
 * CELLOTA_INVALID_ARGUMENT for NULL pointers or buffers below the minimum sizes. */
int cellota_http_init(cellota_http_client *client, const cellota_socket *socket,
                      const cellota_http_config *config);

/*
 * Starts a request; the structure is copied, its strings are not (url is copied into the URL
 * buffer; extra_headers must outlive the request). Returns CELLOTA_IN_PROGRESS, or at once:
 * CELLOTA_BUSY (a request is running), CELLOTA_INVALID_ARGUMENT, a CELLOTA_NET_URL_* error,
 * CELLOTA_NET_URL_TOO_LONG (does not fit the URL buffer).
 */
int cellota_http_begin(cellota_http_client *client, const cellota_http_request *request,
                       uint32_t now_ms);

/*
 * Advances the request; never waits. CELLOTA_IN_PROGRESS until it ends, then, on every later
 * call until the next begin, its result:
 *   CELLOTA_OK: a 2xx answer, body (if any) wholly delivered; `response` describes it;
 *   a status error: CELLOTA_NET_HTTP_NOT_MODIFIED, _BAD_REQUEST, _UNAUTHORIZED, _FORBIDDEN,
 *     _NOT_FOUND, _GONE, _RANGE_NOT_SATISFIABLE, _CLIENT_ERROR, _SERVER_ERROR,
 *     _SERVICE_UNAVAILABLE, _GATEWAY_TIMEOUT, _UNEXPECTED_STATUS (response.status says which);
 *   a range error: CELLOTA_NET_HTTP_RANGE_MISMATCH, _RANGE_IGNORED, _BAD_CONTENT_RANGE;
 *   CELLOTA_NET_HTTP_TOO_MANY_REDIRECTS, _BAD_REDIRECT, CELLOTA_NET_URL_TOO_LONG (a Location);
 *   CELLOTA_NET_HTTP_CONNECT_TIMEOUT, _IDLE_TIMEOUT, _REQUEST_TIMEOUT;
 *   CELLOTA_NET_HTTP_REQUEST_TOO_LONG (the request does not fit `buffer`);
 *   a parser error (http_response.h), e.g. CELLOTA_NET_HTTP_BODY_TRUNCATED when the connection
 *     closed early -- response.body_received says how much arrived;
 *   a socket error (CELLOTA_SOCKET_REFUSED, _HOST_NOT_FOUND, _LINK_LOST, ...);
 *   an error returned by on_response or on_body.
 * A kept-alive connection the server had closed meanwhile is re-opened once, transparently.
 * After the end the socket may still be closing; keep polling or just begin the next request.
 */
int cellota_http_poll(cellota_http_client *client, uint32_t now_ms);

/* Ends any request (its result becomes CELLOTA_SOCKET_CLOSED if it was running) and starts
 * closing the socket, kept-alive or not. */
void cellota_http_close(cellota_http_client *client);

#endif
