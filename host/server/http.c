/* The HTTP front (http.h): the daemon, routing, bodies, the token, and the answer helpers. */
#include "http.h"
#include "served.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct http_front {
    server *self;
    struct MHD_Daemon *daemon;
    served_counter *served; /* image bytes, batched into the database (served.h) */
};

/* What one request carries between libmicrohttpd's calls. */
typedef struct request_state {
    http_match found;
    uint8_t *body;
    size_t size, capacity, limit;
    bool too_large;
    unsigned refused; /* 401 or 403, decided before the body is read (and then dropped) */
    uint64_t image_bytes;
    int64_t image_campaign;
    variant_encoding image_encoding;
} request_state;

static const http_route *const tables[] = {api_routes, public_routes};

/* Matches `path` against `pattern`: true with the "*" segments in `segments` (pointing into
 * `copy`, a copy of path the segments cut with NULs), and all other entries NULL. */
static bool match(const char *pattern, const char *path, char *copy,
                  const char *segments[HTTP_SEGMENTS_MAX])
{
    const char *found[HTTP_SEGMENTS_MAX] = {NULL};
    size_t count = 0;
    strcpy(copy, path);
    char *cursor = copy;
    const char *p = pattern;
    while (*p && *cursor) {
        if (*p == '*') {
            char *end = strchr(cursor, '/');
            size_t length = end ? (size_t)(end - cursor) : strlen(cursor);
            if (length == 0 || count >= HTTP_SEGMENTS_MAX)
                return false;
            found[count++] = cursor;
            cursor += length;
            if (*cursor == '/') {
                *cursor = '\0';
                cursor++;
                if (p[1] != '/')
                    return false;
                p += 2;
                continue;
            }
            p++;
            continue;
        }
        if (*p != *cursor)
            return false;
        p++;
        cursor++;
    }
    if (*p != '\0' || *cursor != '\0')
        return false;
    memcpy(segments, found, sizeof(found));
    return true;
}

void http_route_find(const char *method, const char *path, http_match *found)
{
    memset(found, 0, sizeof(*found));
    if (!(found->path_copy = malloc(strlen(path) + 1)))
        return;
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const http_route *route = tables[t]; route->pattern; route++) {
            if (!match(route->pattern, path, found->path_copy, found->segments))
                continue;
            found->path_known = true;
            if (strcmp(route->method, method) == 0 ||
                (strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0)) {
                found->route = route;
                return;
            }
        }
    memset(found->segments, 0, sizeof(found->segments));
}

void http_match_free(http_match *found)
{
    free(found->path_copy);
    memset(found, 0, sizeof(*found));
}

static enum MHD_Result queue(struct MHD_Connection *connection, unsigned status,
                             const char *content_type, char *text)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(response, "Content-Type", content_type);
    MHD_add_response_header(response, "Cache-Control", "no-store");
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

enum MHD_Result http_json(http_request *request, unsigned status, cJSON *body)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text)
        return MHD_NO;
    size_t length = strlen(text);
    char *line = realloc(text, length + 2);
    if (!line) {
        free(text);
        return MHD_NO;
    }
    line[length] = '\n';
    line[length + 1] = '\0';
    return queue(request->connection, status, "application/json", line);
}

static enum MHD_Result error_on(struct MHD_Connection *connection, unsigned status,
                                const char *name, const char *message)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "error", name);
    cJSON_AddStringToObject(body, "message", message);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text)
        return MHD_NO;
    return queue(connection, status, "application/json", text);
}

enum MHD_Result http_error(http_request *request, unsigned status, const char *name,
                           const char *format, ...)
{
    char message[STORAGE_TEXT_SIZE];
    va_list list;
    va_start(list, format);
    vsnprintf(message, sizeof(message), format, list);
    va_end(list);
    return error_on(request->connection, status, name, message);
}

enum MHD_Result http_api_error(http_request *request, const api_error *error)
{
    return error_on(request->connection, (unsigned)error->status, error->name, error->message);
}

enum MHD_Result http_text(http_request *request, unsigned status, const char *content_type,
                          const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return MHD_NO;
    return queue(request->connection, status, content_type, copy);
}

const char *http_query(http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

int http_paging_parse(const char *limit_text, const char *offset_text, size_t *limit,
                      size_t *offset)
{
    char *end;
    *limit = 100;
    *offset = 0;
    if (limit_text) {
        errno = 0;
        long value = strtol(limit_text, &end, 10);
        if (!limit_text[0] || *end || errno || value < 1 || value > 1000)
            return HTTP_PAGING_BAD_LIMIT;
        *limit = (size_t)value;
    }
    if (offset_text) {
        errno = 0;
        long long value = strtoll(offset_text, &end, 10);
        if (!offset_text[0] || *end || errno || value < 0)
            return HTTP_PAGING_BAD_OFFSET;
        *offset = (size_t)value;
    }
    return 0;
}

bool http_paging(http_request *request, size_t *limit, size_t *offset, enum MHD_Result *answer)
{
    switch (http_paging_parse(http_query(request, "limit"), http_query(request, "offset"), limit,
                              offset)) {
    case HTTP_PAGING_BAD_LIMIT:
        *answer = http_error(request, 400, "BAD_LIMIT", "limit is a number from 1 to 1000.");
        return false;
    case HTTP_PAGING_BAD_OFFSET:
        *answer = http_error(request, 400, "BAD_OFFSET", "offset is a number from 0.");
        return false;
    default:
        return true;
    }
}

/* The scope of the request's bearer token (tokens_check_header: the Authorization header only,
 * never a cookie or a query argument, so another site cannot make a browser send it). */
static token_scope presented_scope(server *self, struct MHD_Connection *connection)
{
    return tokens_check_header(
        self->tokens,
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

static enum MHD_Result on_request(void *context, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **slot)
{
    http_front *front = context;
    request_state *state = *slot;
    (void)version;
    if (!state) {
        state = calloc(1, sizeof(*state));
        if (!state)
            return MHD_NO;
        *slot = state;
        http_route_find(method, url, &state->found);
        if (!state->found.path_copy)
            return MHD_NO;
        const http_route *route = state->found.route;
        state->limit = route && route->body_max ? route->body_max : HTTP_JSON_MAX;
        if (route && route->scope != TOKEN_NONE) {
            /* Before the body: nobody without the right token makes the server hold 16 MiB. */
            token_scope scope = presented_scope(front->self, connection);
            state->refused = scope == TOKEN_NONE ? 401 : scope < route->scope ? 403 : 0;
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* Keep reading a body that is too large (and drop it), then answer 413 once. */
        if (!state->too_large && state->size + *upload_size > state->limit)
            state->too_large = true;
        if (!state->too_large && !state->refused) {
            if (state->size + *upload_size > state->capacity) {
                size_t capacity = state->capacity ? state->capacity : 4096;
                while (capacity < state->size + *upload_size)
                    capacity *= 2;
                uint8_t *grown = realloc(state->body, capacity);
                if (!grown)
                    return MHD_NO;
                state->body = grown;
                state->capacity = capacity;
            }
            memcpy(state->body + state->size, upload_data, *upload_size);
            state->size += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    http_request request;
    memset(&request, 0, sizeof(request));
    request.self = front->self;
    request.connection = connection;
    request.method = method;
    request.path = url;
    const http_route *route = state->found.route;
    if (!route) {
        if (state->found.path_known)
            return error_on(connection, 405, "METHOD_NOT_ALLOWED",
                            "This path does not take that method.");
        return error_on(connection, 404, "NOT_FOUND", "There is nothing at this path.");
    }
    if (state->refused == 401)
        return error_on(connection, 401, "UNAUTHORIZED",
                        "Send the operator's token: Authorization: Bearer <token>.");
    if (state->refused == 403)
        return error_on(connection, 403, "FORBIDDEN",
                        "This token may only read; uploads, campaigns and changes need an "
                        "operate token (cellota-server --new-token operate).");
    if (state->too_large)
        return error_on(connection, 413,
                        route->body_max > HTTP_JSON_MAX ? "IMAGE_TOO_LARGE" : "BODY_TOO_LARGE",
                        "The request body is larger than this path takes.");
    memcpy(request.segments, state->found.segments, sizeof(request.segments));
    request.body = state->body;
    request.body_size = state->size;
    enum MHD_Result result = route->handler(&request);
    state->image_bytes = request.image_bytes;
    state->image_campaign = request.image_campaign;
    state->image_encoding = request.image_encoding;
    return result;
}

/* Counts image bytes only for an answer that went out whole. */
static void on_completed(void *context, struct MHD_Connection *connection, void **slot,
                         enum MHD_RequestTerminationCode code)
{
    http_front *front = context;
    request_state *state = *slot;
    (void)connection;
    if (!state)
        return;
    if (code == MHD_REQUEST_TERMINATED_COMPLETED_OK && state->image_bytes > 0)
        served_add(front->served, state->image_campaign, state->image_encoding,
                   state->image_bytes);
    free(state->body);
    http_match_free(&state->found);
    free(state);
    *slot = NULL;
}

int http_start(server *self, const char *host, int port, unsigned threads, http_front **result)
{
    struct sockaddr_in address;
    http_front *front = calloc(1, sizeof(*front));
    if (!front)
        return -1;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        fprintf(stderr, "cellota-server: --http: '%s' is not an IPv4 address\n", host);
        free(front);
        return -1;
    }
    front->self = self;
    front->served = served_open(self->store);
    if (!front->served) {
        free(front);
        return -1;
    }
    front->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, front, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)10000,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
        /* 64 KiB per connection. MHD zeroes a connection's whole pool between two requests
         * of a kept-alive connection, so the pool is what an open download costs: with 256 KiB
         * (once needed for uploads, no longer: a 16 MiB upload takes 0.55 s with 32, 64 or
         * 256 KiB) 300 kept-alive downloads cost 33 kB each, with 64 KiB 1 kB. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned int)1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, front, MHD_OPTION_END);
    if (!front->daemon) {
        fprintf(stderr, "cellota-server: cannot listen on %s:%d\n", host, port);
        served_close(front->served);
        free(front);
        return -1;
    }
    *result = front;
    return 0;
}

void http_stop(http_front *front)
{
    if (!front)
        return;
    MHD_stop_daemon(front->daemon);
    served_close(front->served); /* after the daemon: no answer completes any more */
    free(front);
}
