/*
 * The HTTP/1.1 client state machine (see http.h):
 *
 *   begin --> CLOSING --(socket CLOSED)--> CONNECTING --(OPEN)--> SENDING --> RECEIVING --> DONE
 *         \------------(kept-alive connection to the same server)--^            |
 *                                         ^--------(redirect)------------------/
 */
#include "net/http.h"

#include "core/error.h"
#include "core/port.h"
#include "net/text.h"
#include "net/url.h"

#include <string.h>

enum client_state {
    STATE_IDLE = 0,
    STATE_CLOSING,    /* waiting for the socket to be CLOSED before opening it */
    STATE_CONNECTING, /* open started, waiting for OPEN */
    STATE_SENDING,    /* the request is in the buffer, going out */
    STATE_RECEIVING,
    STATE_DONE
};

/* Receive calls per poll: enough to drain a socket, few enough to let other work run. */
#define RECEIVES_PER_POLL 8

void cellota_http_config_default(cellota_http_config *config, char *buffer, size_t buffer_size,
                                 char *url, size_t url_size)
{
    memset(config, 0, sizeof(*config));
    config->buffer = buffer;
    config->buffer_size = buffer_size;
    config->url = url;
    config->url_size = url_size;
    config->connect_timeout_ms = CELLOTA_HTTP_CONNECT_TIMEOUT_MS;
    config->idle_timeout_ms = CELLOTA_HTTP_IDLE_TIMEOUT_MS;
    config->max_redirects = CELLOTA_HTTP_MAX_REDIRECTS;
}

int cellota_http_init(cellota_http_client *client, const cellota_socket *socket,
                      const cellota_http_config *config)
{
    if (!client || !socket || !socket->operations || !config || !config->buffer ||
        config->buffer_size < 64 || !config->url || config->url_size < 16)
        return CELLOTA_INVALID_ARGUMENT;
    memset(client, 0, sizeof(*client));
    client->socket = socket;
    client->config = *config;
    return CELLOTA_OK;
}

static cellota_socket_state socket_state(const cellota_http_client *client, int *error)
{
    int ignored;
    return client->socket->operations->state(client->socket->context, error ? error : &ignored);
}

static bool elapsed(uint32_t now, uint32_t since, uint32_t limit)
{
    return limit != 0 && now - since >= limit;
}

/*
 * Makes `url` the current target ("host\0path\0" in the URL buffer). Notes first whether it
 * names the server of the last connection, so a kept-alive connection can be reused.
 */
static int store_url(cellota_http_client *client, const cellota_url *url)
{
    char *storage = client->config.url;
    bool slash = url->path_length == 0 || url->path[0] != '/';
    size_t needed = url->host_length + 1 + (slash ? 1 : 0) + url->path_length + 1;
    if (needed > client->config.url_size)
        return CELLOTA_NET_URL_TOO_LONG;
    client->same_endpoint = url->kind == client->kind && url->port == client->port &&
                            url->host_length == client->host_length &&
                            memcmp(url->host, storage, url->host_length) == 0;
    client->kind = url->kind;
    client->port = url->port;
    client->host_length = url->host_length;
    memmove(storage, url->host, url->host_length);
    storage += url->host_length;
    *storage++ = '\0';
    if (slash)
        *storage++ = '/';
    memmove(storage, url->path, url->path_length);
    storage[url->path_length] = '\0';
    return CELLOTA_OK;
}

/* A Location: an absolute URL, or an absolute path on the same server. */
static int store_location(cellota_http_client *client, const char *value, size_t length)
{
    cellota_url url;
    if (length > 0 && value[0] == '/' && (length == 1 || value[1] != '/')) {
        url.kind = client->kind;
        url.port = client->port;
        url.host = client->config.url;
        url.host_length = client->host_length;
        url.path = value;
        url.path_length = length;
        if (memchr(value, ' ', length) || memchr(value, '\t', length))
            return CELLOTA_NET_HTTP_BAD_REDIRECT;
        if (memchr(value, '#', length))
            url.path_length = (size_t)((const char *)memchr(value, '#', length) - value);
    } else if (cellota_url_parse(&url, value, length) != CELLOTA_OK) {
        return CELLOTA_NET_HTTP_BAD_REDIRECT;
    }
    return store_url(client, &url);
}

static int status_error(uint16_t status)
{
    /* The statuses a user can act on have their own code; the rest go by class. */
    static const uint16_t named[][2] = {{304, CELLOTA_NET_HTTP_NOT_MODIFIED},
                                        {400, CELLOTA_NET_HTTP_BAD_REQUEST},
                                        {401, CELLOTA_NET_HTTP_UNAUTHORIZED},
                                        {403, CELLOTA_NET_HTTP_FORBIDDEN},
                                        {404, CELLOTA_NET_HTTP_NOT_FOUND},
                                        {410, CELLOTA_NET_HTTP_GONE},
                                        {416, CELLOTA_NET_HTTP_RANGE_NOT_SATISFIABLE},
                                        {502, CELLOTA_NET_HTTP_GATEWAY_TIMEOUT},
                                        {503, CELLOTA_NET_HTTP_SERVICE_UNAVAILABLE},
                                        {504, CELLOTA_NET_HTTP_GATEWAY_TIMEOUT}};
    size_t index;
    for (index = 0; index < sizeof(named) / sizeof(named[0]); index++) {
        if (named[index][0] == status)
            return named[index][1];
    }
    if (status >= 400 && status < 500)
        return CELLOTA_NET_HTTP_CLIENT_ERROR;
    if (status >= 500 && status < 600)
        return CELLOTA_NET_HTTP_SERVER_ERROR;
    return CELLOTA_NET_HTTP_UNEXPECTED_STATUS;
}

static bool is_redirect(uint16_t status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* --- parser callbacks ------------------------------------------------------------------- */

static int on_header(void *context, const char *name, size_t name_length, const char *value,
                     size_t value_length)
{
    cellota_http_client *client = context;
    if (!is_redirect(client->response.status) ||
        !cellota_text_equals(name, name_length, "location"))
        return CELLOTA_OK;
    if (client->redirects >= client->config.max_redirects)
        return CELLOTA_NET_HTTP_TOO_MANY_REDIRECTS;
    client->redirect_pending = true;
    return store_location(client, value, value_length);
}

/* The answer is known before its body: check it, and stop early on anything but 2xx. */
static int check_range(const cellota_http_client *client, const cellota_http_response *response)
{
    const cellota_http_request *request = &client->request;
    if (response->status != 206)
        return CELLOTA_OK;
    if (!request->has_range)
        return CELLOTA_NET_HTTP_RANGE_MISMATCH;
    if (!response->has_content_range || response->range_first == CELLOTA_HTTP_UNKNOWN ||
        (response->has_content_length &&
         response->content_length != response->range_last - response->range_first + 1))
        return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE;
    if (response->range_first != request->range_first ||
        (request->range_last != CELLOTA_HTTP_RANGE_TO_END &&
         response->range_last > request->range_last))
        return CELLOTA_NET_HTTP_RANGE_MISMATCH;
    return CELLOTA_OK;
}

static int on_headers(void *context, cellota_http_response *response)
{
    cellota_http_client *client = context;
    const cellota_http_request *request = &client->request;
    int result;
    if (is_redirect(response->status)) {
        if (!client->redirect_pending)
            return CELLOTA_NET_HTTP_BAD_REDIRECT;
        return CELLOTA_OK; /* the (short) redirect body is read and dropped */
    }
    client->redirect_pending = false;
    if (response->status < 200 || response->status > 299)
        return status_error(response->status);
    result = check_range(client, response);
    if (result != CELLOTA_OK)
        return result;
    client->body_offset = response->status == 206 ? response->range_first : 0;
    if (request->has_range && client->body_offset != request->range_first && response->has_body &&
        !request->on_response)
        return CELLOTA_NET_HTTP_RANGE_IGNORED;
    if (request->on_response)
        return request->on_response(request->context, response, client->body_offset);
    return CELLOTA_OK;
}

static int on_body(void *context, const uint8_t *data, size_t length)
{
    cellota_http_client *client = context;
    if (client->redirect_pending || !client->request.on_body)
        return CELLOTA_OK;
    return client->request.on_body(client->request.context, data, length);
}

/* --- the request ------------------------------------------------------------------------ */

/* Writes the request into the buffer. */
static int write_request(cellota_http_client *client)
{
    const cellota_http_request *request = &client->request;
    const char *host = client->config.url;
    cellota_writer writer;
    writer.buffer = (uint8_t *)client->config.buffer;
    writer.size = client->config.buffer_size;
    writer.length = 0;
    writer.overflow = false;

    cellota_writer_text(&writer, request->method == CELLOTA_HTTP_HEAD ? "HEAD " : "GET ");
    cellota_writer_text(&writer, host + client->host_length + 1);
    cellota_writer_text(&writer, " HTTP/1.1\r\nHost: ");
    cellota_writer_text(&writer, host);
    if (client->port != (client->kind == CELLOTA_SOCKET_TLS ? 443 : 80)) {
        cellota_writer_text(&writer, ":");
        cellota_writer_decimal(&writer, client->port);
    }
    if (request->has_range) {
        cellota_writer_text(&writer, "\r\nRange: bytes=");
        cellota_writer_decimal(&writer, request->range_first);
        cellota_writer_text(&writer, "-");
        if (request->range_last != CELLOTA_HTTP_RANGE_TO_END)
            cellota_writer_decimal(&writer, request->range_last);
    }
    cellota_writer_text(&writer, request->keep_alive ? "\r\nConnection: keep-alive\r\n"
                                                     : "\r\nConnection: close\r\n");
    if (request->extra_headers)
        cellota_writer_text(&writer, request->extra_headers);
    cellota_writer_text(&writer, "\r\n");
    if (writer.overflow)
        return CELLOTA_NET_HTTP_REQUEST_TOO_LONG;
    client->send_length = writer.length;
    client->sent = 0;
    return CELLOTA_OK;
}

static void finish(cellota_http_client *client, int result)
{
    client->result = result;
    client->state = STATE_DONE;
    client->redirect_pending = false;
    if (result != CELLOTA_OK || !client->reusable) {
        client->reusable = false;
        client->socket->operations->close(client->socket->context);
    }
}

static int start_sending(cellota_http_client *client)
{
    int result = write_request(client);
    if (result != CELLOTA_OK)
        return result;
    client->state = STATE_SENDING;
    client->last_activity = client->now;
    return CELLOTA_OK;
}

/* Goes on to the current URL: over the kept-alive connection when it leads there. */
static void connect(cellota_http_client *client)
{
    int result;
    client->reused = client->reusable && client->same_endpoint &&
                     socket_state(client, NULL) == CELLOTA_SOCKET_STATE_OPEN;
    client->reusable = false;
    client->connect_started = client->now;
    if (client->reused) {
        result = start_sending(client);
        if (result != CELLOTA_OK)
            finish(client, result);
        return;
    }
    if (socket_state(client, NULL) != CELLOTA_SOCKET_STATE_CLOSED) {
        client->socket->operations->close(client->socket->context);
        client->state = STATE_CLOSING;
        return;
    }
    result = client->socket->operations->open(client->socket->context, client->kind,
                                              client->config.url, client->port);
    if (result != CELLOTA_OK && result != CELLOTA_IN_PROGRESS)
        finish(client, result);
    else
        client->state = STATE_CONNECTING;
}

/* A kept-alive connection may have been closed by the server while idle: that costs one
 * re-open, not the request. Only when nothing of a response has arrived. */
static bool retry_fresh(cellota_http_client *client)
{
    if (!client->reused || client->parser.seen_byte)
        return false;
    client->reused = false;
    client->reusable = false;
    client->same_endpoint = false;
    connect(client);
    return true;
}

int cellota_http_begin(cellota_http_client *client, const cellota_http_request *request,
                       uint32_t now_ms)
{
    cellota_url url;
    int result;
    if (!client || !request || !request->url)
        return CELLOTA_INVALID_ARGUMENT;
    if (client->state != STATE_IDLE && client->state != STATE_DONE)
        return CELLOTA_BUSY;
    result = cellota_url_parse(&url, request->url, strlen(request->url));
    if (result == CELLOTA_OK)
        result = store_url(client, &url);
    if (result != CELLOTA_OK)
        return result;
    client->request = *request;
    client->now = now_ms;
    client->started = now_ms;
    client->redirects = 0;
    client->redirect_pending = false;
    client->body_offset = 0;
    client->result = CELLOTA_IN_PROGRESS;
    memset(&client->parser, 0, sizeof(client->parser));
    memset(&client->response, 0, sizeof(client->response));
    connect(client);
    return client->state == STATE_DONE ? client->result : CELLOTA_IN_PROGRESS;
}

/* The response ended well: done, or on to where a redirect points. */
static void response_complete(cellota_http_client *client, bool exact)
{
    client->reusable = exact && client->request.keep_alive && !client->response.connection_close &&
                       socket_state(client, NULL) == CELLOTA_SOCKET_STATE_OPEN;
    if (!client->redirect_pending) {
        finish(client, CELLOTA_OK);
        return;
    }
    client->redirects++;
    client->redirect_pending = false;
    memset(&client->parser, 0, sizeof(client->parser));
    connect(client);
}

static void poll_sending(cellota_http_client *client)
{
    size_t accepted = 0;
    cellota_http_response_handler handler;
    int result = client->socket->operations->send(
        client->socket->context, (const uint8_t *)client->config.buffer + client->sent,
        client->send_length - client->sent, &accepted);
    if (result != CELLOTA_OK) {
        if (!retry_fresh(client))
            finish(client, result);
        return;
    }
    if (accepted > 0) {
        client->sent += accepted;
        client->last_activity = client->now;
    }
    if (client->sent < client->send_length)
        return;
    handler.on_header = on_header;
    handler.on_headers = on_headers;
    handler.on_body = on_body;
    handler.context = client;
    cellota_http_parser_begin(&client->parser, &client->response, client->config.buffer,
                              client->config.buffer_size,
                              client->request.method == CELLOTA_HTTP_HEAD, &handler);
    client->state = STATE_RECEIVING;
}

/* The stream ended: the peer closed (CELLOTA_SOCKET_CLOSED) or the socket failed (`error`). */
static void stream_ended(cellota_http_client *client, int error)
{
    int result = cellota_http_parser_finish(&client->parser);
    if (result == CELLOTA_NET_HTTP_NO_RESPONSE && retry_fresh(client))
        return;
    if (error != CELLOTA_SOCKET_CLOSED)
        result = error; /* a fault, not a clean close: its reason says more than "truncated" */
    if (result == CELLOTA_OK)
        response_complete(client, false);
    else
        finish(client, result);
}

static void poll_receiving(cellota_http_client *client)
{
    int round;
    for (round = 0; round < RECEIVES_PER_POLL && client->state == STATE_RECEIVING; round++) {
        size_t room, received = 0, consumed = 0;
        char *space = cellota_http_parser_space(&client->parser, &room);
        int result = client->socket->operations->receive(client->socket->context, (uint8_t *)space,
                                                         room, &received);
        if (result == CELLOTA_SOCKET_CLOSED) {
            stream_ended(client, CELLOTA_SOCKET_CLOSED);
            return;
        }
        if (result != CELLOTA_OK) {
            stream_ended(client, result);
            return;
        }
        /* Nothing now. A failed socket may still deliver what the peer sent before it closed
         * (a modem reads it out of its buffer): receive itself reports the end (socket.h). */
        if (received == 0)
            return;
        client->last_activity = client->now;
        result =
            cellota_http_parser_feed(&client->parser, (const uint8_t *)space, received, &consumed);
        if (result == CELLOTA_OK)
            response_complete(client, consumed == received);
        else if (result != CELLOTA_IN_PROGRESS)
            finish(client, result);
    }
}

int cellota_http_poll(cellota_http_client *client, uint32_t now_ms)
{
    int error;
    cellota_socket_state state;
    client->now = now_ms;
    client->socket->operations->poll(client->socket->context, now_ms);
    if (client->state == STATE_IDLE || client->state == STATE_DONE)
        return client->state == STATE_DONE ? client->result : CELLOTA_OK;
    if (elapsed(now_ms, client->started, client->config.request_timeout_ms)) {
        finish(client, CELLOTA_NET_HTTP_REQUEST_TIMEOUT);
        return client->result;
    }
    state = socket_state(client, &error);
    switch (client->state) {
    case STATE_CLOSING:
        if (state == CELLOTA_SOCKET_STATE_CLOSED)
            connect(client);
        else if (elapsed(now_ms, client->connect_started, client->config.connect_timeout_ms))
            finish(client, CELLOTA_NET_HTTP_CONNECT_TIMEOUT);
        break;
    case STATE_CONNECTING:
        if (state == CELLOTA_SOCKET_STATE_OPEN) {
            error = start_sending(client);
            if (error != CELLOTA_OK)
                finish(client, error);
            else
                poll_sending(client);
        } else if (state == CELLOTA_SOCKET_STATE_FAILED || state == CELLOTA_SOCKET_STATE_CLOSED) {
            finish(client, error != CELLOTA_OK ? error : CELLOTA_SOCKET_NOT_OPEN);
        } else if (elapsed(now_ms, client->connect_started, client->config.connect_timeout_ms)) {
            finish(client, CELLOTA_NET_HTTP_CONNECT_TIMEOUT);
        }
        break;
    case STATE_SENDING:
        poll_sending(client);
        if (client->state == STATE_RECEIVING)
            poll_receiving(client);
        break;
    default: /* STATE_RECEIVING */
        poll_receiving(client);
        break;
    }
    if ((client->state == STATE_SENDING || client->state == STATE_RECEIVING) &&
        elapsed(now_ms, client->last_activity, client->config.idle_timeout_ms))
        finish(client, CELLOTA_NET_HTTP_IDLE_TIMEOUT);
    return client->state == STATE_DONE ? client->result : CELLOTA_IN_PROGRESS;
}

void cellota_http_close(cellota_http_client *client)
{
    if (client->state != STATE_IDLE && client->state != STATE_DONE)
        client->result = CELLOTA_SOCKET_CLOSED;
    client->state = client->state == STATE_IDLE ? STATE_IDLE : STATE_DONE;
    client->reusable = false;
    client->redirect_pending = false;
    client->socket->operations->close(client->socket->context);
}
