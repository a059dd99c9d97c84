/*
 * cellota-server's HTTP front (libmicrohttpd with epoll and a thread pool): the routes are
 * tables (method, path pattern, handler, the token scope it needs, the largest body), as the
 * AT profiles are tables. A pattern's "*" matches one path segment and is handed to the handler.
 * Bodies are read whole up to the route's limit (larger: 413); every error is JSON
 * {"error":"NAME","message":"A sentence."}.
 */
#ifndef CELLOTA_SERVER_HTTP_H
#define CELLOTA_SERVER_HTTP_H

#include "server.h"
#include "tokens.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_JSON_MAX (64u * 1024)
#define HTTP_SEGMENTS_MAX 4

typedef struct http_request {
    server *self;
    struct MHD_Connection *connection;
    const char *method, *path;
    const char *segments[HTTP_SEGMENTS_MAX]; /* what the pattern's "*"s matched */
    const uint8_t *body;
    size_t body_size;
    /* Set by a handler that served image bytes, counted when the answer completed. */
    uint64_t image_bytes;
    int64_t image_campaign;
    variant_encoding image_encoding; /* ?e= of the image's URL: what the campaign sent */
} http_request;

typedef enum MHD_Result (*http_handler)(http_request *request);

typedef struct http_route {
    const char *method;  /* "GET", "POST", ...; "GET" also answers HEAD */
    const char *pattern; /* "/api/campaigns/ * /pause" without the spaces */
    http_handler handler;
    token_scope scope; /* the token it needs: TOKEN_NONE (0), TOKEN_READ, TOKEN_OPERATE */
    size_t body_max;   /* 0: no body expected (anything sent is refused above HTTP_JSON_MAX) */
} http_route;

/* The route tables (api.c: the operator's; public.c: devices, metrics, dashboard). */
extern const http_route api_routes[];
extern const http_route public_routes[];

/* The route a request's method and path take. */
typedef struct http_match {
    const http_route *route;                 /* NULL: no route has this method and path */
    bool path_known;                         /* some route has the path (405 rather than 404) */
    const char *segments[HTTP_SEGMENTS_MAX]; /* the route's "*"s, then NULL */
    char *path_copy;                         /* what segments point into; NULL: out of memory */
} http_match;

/* Finds the route for `method` and `path` in the tables (the API's, then the public ones);
 * free with http_match_free. */
void http_route_find(const char *method, const char *path, http_match *found);
void http_match_free(http_match *found);

typedef struct http_front http_front;

/* Listens on host:port with `threads` threads. 0, or -1 after printing why (a port in use). */
int http_start(server *self, const char *host, int port, unsigned threads, http_front **front);
void http_stop(http_front *front);

/* Answers; each takes what it is given (the JSON object is freed). */
enum MHD_Result http_json(http_request *request, unsigned status, cJSON *body);
enum MHD_Result http_error(http_request *request, unsigned status, const char *name,
                           const char *format, ...) __attribute__((format(printf, 4, 5)));
enum MHD_Result http_api_error(http_request *request, const api_error *error);
enum MHD_Result http_text(http_request *request, unsigned status, const char *content_type,
                          const char *text);

/* A query argument, NULL when absent. */
const char *http_query(http_request *request, const char *name);

/* ?limit=N&offset=M (default 100, at most 1000). false after answering 400. */
/* ?limit= and ?offset= from their texts (NULL: absent): limit 1..1000 (default 100), offset
 * from 0 (default 0), both whole decimal numbers. 0, or which one is bad. */
enum { HTTP_PAGING_BAD_LIMIT = 1, HTTP_PAGING_BAD_OFFSET = 2 };
int http_paging_parse(const char *limit_text, const char *offset_text, size_t *limit,
                      size_t *offset);

bool http_paging(http_request *request, size_t *limit, size_t *offset, enum MHD_Result *answer);

#endif
