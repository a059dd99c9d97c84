/*
 * The SIM7600's HTTP(S) client:
 *
 *   AT+HTTPINIT                          OK
 *   AT+HTTPPARA="URL","http://host:port/path"   also CONNECTTO, RECVTO, CONTENT, ACCEPT,
 *                                        USERDATA (extra header lines), SSLCFG, READMODE
 *   AT+HTTPDATA=<size>,<time>            DOWNLOAD, <size> bytes, OK (a POST body)
 *   AT+HTTPACTION=0                      OK, then +HTTPACTION: 0,<status>,<length>
 *                                        (7xx status: the modem's own errors, 714 connect failed)
 *   AT+HTTPHEAD                          +HTTPHEAD: <length> and the response header
 *   AT+HTTPREAD?                         +HTTPREAD: LEN,<length>
 *   AT+HTTPREAD=<offset>,<size>          OK, +HTTPREAD: DATA,<n> <n bytes> … +HTTPREAD: 0
 *   AT+HTTPREADFILE="name"               OK, then +HTTPREADFILE: 0 (the body into the file system)
 *   AT+HTTPTERM                          OK
 *
 * The modem fetches the whole response into its own memory (up to 16 MiB here) before it
 * reports +HTTPACTION, as the SIM7600 does; the request goes through the same radio model as
 * sockets.
 */
#include "emulator_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_LIMIT (16u << 20)
#define READ_BLOCK 1024u

enum {
    HTTP_ERROR_BUSY = 703,
    HTTP_ERROR_CLOSED = 704,
    HTTP_ERROR_TIMEOUT = 705,
    HTTP_ERROR_SOCKET = 706,
    HTTP_ERROR_MEMORY = 707,
    HTTP_ERROR_PARAMETER = 708,
    HTTP_ERROR_SSL = 715,
    HTTP_ERROR_DNS = 713,
    HTTP_ERROR_CONNECT = 714,
    HTTP_ERROR_NO_NETWORK = 717
};

static void release(modem_emulator *emulator)
{
    http_state *http = &emulator->http;
    link_close(emulator, http->link);
    http->link = NULL;
    free(http->request);
    http->request = NULL;
    http->request_length = http->request_sent = 0;
    http->deadline_us = 0;
}

static void clear_response(http_state *http)
{
    free(http->body);
    http->body = NULL;
    http->body_length = http->body_capacity = 0;
    http->head_length = 0;
    http->head_done = false;
    http->chunked = false;
    http->content_length = -1;
    http->chunk_phase = 0;
    http->chunk_line_length = 0;
    http->status = 0;
    http->read_offset = 0;
}

static void finish(modem_emulator *emulator, int status)
{
    http_state *http = &emulator->http;
    release(emulator);
    http->phase = HTTP_DONE;
    if (status >= 700) {
        free(http->body);
        http->body = NULL;
        http->body_length = 0;
    }
    http->status = status;
    out_urc_after_reply(emulator, "+HTTPACTION: %d,%d,%zu", http->method, status,
                        http->body_length);
    if (http->read_file_pending) {
        http->read_file_pending = false;
        out_urc_after_reply(
            emulator, "+HTTPREADFILE: %d",
            fs_write_file(emulator, http->read_file_name, http->body, http->body_length) ? 7 : 0);
    }
}

/* ---- response parsing
 * ------------------------------------------------------------------------------ */

static bool body_append(http_state *http, const uint8_t *data, size_t length)
{
    if (http->body_length + length > BODY_LIMIT)
        return false;
    if (http->body_length + length > http->body_capacity) {
        size_t capacity = http->body_capacity ? http->body_capacity : 16384;
        uint8_t *grown;
        while (capacity < http->body_length + length)
            capacity *= 2;
        grown = realloc(http->body, capacity);
        if (!grown)
            return false;
        http->body = grown;
        http->body_capacity = capacity;
    }
    memcpy(http->body + http->body_length, data, length);
    http->body_length += length;
    return true;
}

static const char *header_value(const char *head, const char *name)
{
    const char *line = strstr(head, "\r\n");
    size_t name_length = strlen(name);
    while (line) {
        line += 2;
        if (strncasecmp(line, name, name_length) == 0 && line[name_length] == ':') {
            const char *value = line + name_length + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            return value;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

/* Parses the head once it is complete; false on a malformed one. */
static bool parse_head(http_state *http)
{
    const char *value;
    if (sscanf(http->head, "HTTP/%*d.%*d %d", &http->status) != 1 || http->status < 100 ||
        http->status > 999)
        return false;
    value = header_value(http->head, "Transfer-Encoding");
    http->chunked = value && strncasecmp(value, "chunked", 7) == 0;
    value = header_value(http->head, "Content-Length");
    http->content_length = value && !http->chunked ? strtoll(value, NULL, 10) : -1;
    if (http->method == 2 || http->status == 204 || http->status == 304 || http->status < 200)
        http->content_length = 0;
    return true;
}

/* Feeds response bytes; returns 0 while more is needed, a status when the response is complete,
 * or a 7xx error. */
static int feed(http_state *http, const uint8_t *data, size_t length)
{
    size_t position = 0;
    while (position < length) {
        if (!http->head_done) {
            if (http->head_length + 1 >= sizeof(http->head))
                return HTTP_ERROR_SOCKET;
            http->head[http->head_length++] = (char)data[position++];
            http->head[http->head_length] = 0;
            if (http->head_length >= 4 &&
                memcmp(http->head + http->head_length - 4, "\r\n\r\n", 4) == 0) {
                http->head_done = true;
                if (!parse_head(http))
                    return HTTP_ERROR_SOCKET;
                if (http->content_length == 0)
                    return http->status;
            }
            continue;
        }
        if (!http->chunked) {
            size_t take = length - position;
            if (http->content_length >= 0 &&
                (int64_t)take > http->content_length - (int64_t)http->body_length)
                take = (size_t)(http->content_length - (int64_t)http->body_length);
            if (!body_append(http, data + position, take))
                return HTTP_ERROR_MEMORY;
            position += take;
            if (http->content_length >= 0 && (int64_t)http->body_length == http->content_length)
                return http->status;
            continue;
        }
        switch (http->chunk_phase) {
        case 0: /* size line */
        case 3: /* trailer lines after the last chunk */
        {
            char byte = (char)data[position++];
            if (byte != '\n') {
                if (http->chunk_line_length + 1 < sizeof(http->chunk_line))
                    http->chunk_line[http->chunk_line_length++] = byte;
                continue;
            }
            http->chunk_line[http->chunk_line_length] = 0;
            if (http->chunk_phase == 3) {
                if (http->chunk_line_length <= 1)
                    return http->status; /* the empty line ends the message */
                http->chunk_line_length = 0;
                continue;
            }
            if (!isxdigit((unsigned char)http->chunk_line[0]))
                return HTTP_ERROR_SOCKET;
            http->chunk_remaining = (size_t)strtoul(http->chunk_line, NULL, 16);
            http->chunk_line_length = 0;
            http->chunk_phase = http->chunk_remaining ? 1 : 3;
            break;
        }
        case 1: {
            size_t take = length - position;
            if (take > http->chunk_remaining)
                take = http->chunk_remaining;
            if (!body_append(http, data + position, take))
                return HTTP_ERROR_MEMORY;
            position += take;
            http->chunk_remaining -= take;
            if (http->chunk_remaining == 0)
                http->chunk_phase = 2;
            break;
        }
        default: /* the CRLF after a chunk's data */
            if (data[position++] == '\n')
                http->chunk_phase = 0;
            break;
        }
    }
    return 0;
}

/* ---- the action
 * ---------------------------------------------------------------------------------- */

static bool split_url(const char *url, bool *tls, char *host, size_t host_capacity, uint16_t *port,
                      const char **path)
{
    const char *start, *end, *colon;
    long number;
    size_t length;
    if (strncasecmp(url, "http://", 7) == 0) {
        *tls = false;
        start = url + 7;
        *port = 80;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        *tls = true;
        start = url + 8;
        *port = 443;
    } else {
        /* the SIM7600 takes a URL without a scheme as http */
        *tls = false;
        start = url;
        *port = 80;
    }
    end = strchr(start, '/');
    *path = end ? end : "/";
    if (!end)
        end = start + strlen(start);
    colon = memchr(start, ':', (size_t)(end - start));
    length = (size_t)((colon ? colon : end) - start);
    if (length == 0 || length >= host_capacity)
        return false;
    memcpy(host, start, length);
    host[length] = 0;
    if (colon) {
        char *stop;
        number = strtol(colon + 1, &stop, 10);
        if (stop != end || number < 1 || number > 65535)
            return false;
        *port = (uint16_t)number;
    }
    return true;
}

static const char *method_name(int method)
{
    static const char *const names[] = {"GET", "POST", "HEAD", "DELETE", "PUT"};
    return names[method];
}

static bool build_request(modem_emulator *emulator, const char *host, uint16_t port, bool tls,
                          const char *path)
{
    http_state *http = &emulator->http;
    size_t capacity = 2048 + strlen(http->user_data) + http->post_length, used;
    char *request = malloc(capacity);
    if (!request)
        return false;
    used = (size_t)snprintf(request, capacity, "%s %s HTTP/1.1\r\nHost: %s",
                            method_name(http->method), path, host);
    if (port != (tls ? 443 : 80))
        used += (size_t)snprintf(request + used, capacity - used, ":%u", (unsigned)port);
    used += (size_t)snprintf(request + used, capacity - used,
                             "\r\nUser-Agent: SIMCOM_MODULE\r\nAccept: %s\r\n",
                             http->accept[0] ? http->accept : "*/*");
    if (http->method == 1 || http->method == 4) {
        used += (size_t)snprintf(request + used, capacity - used, "Content-Length: %zu\r\n",
                                 http->post_length);
        if (http->content_type[0])
            used += (size_t)snprintf(request + used, capacity - used, "Content-Type: %s\r\n",
                                     http->content_type);
    }
    if (http->user_data[0])
        used += (size_t)snprintf(request + used, capacity - used, "%s\r\n", http->user_data);
    used += (size_t)snprintf(request + used, capacity - used, "\r\n");
    if ((http->method == 1 || http->method == 4) && http->post_length) {
        memcpy(request + used, http->post_data, http->post_length);
        used += http->post_length;
    }
    http->request = (uint8_t *)request;
    http->request_length = used;
    http->request_sent = 0;
    return true;
}

static void fail_later(modem_emulator *emulator, int argument, const char *text)
{
    (void)text;
    if (emulator->http.phase == HTTP_REQUESTING && emulator->http.link == NULL)
        finish(emulator, argument);
}

static int command_httpaction(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    long method;
    bool tls;
    char host[256];
    uint16_t port;
    const char *path;
    link_options options;
    link_failure failure = LINK_FAILURE_NONE;
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+HTTPACTION: (0-4)");
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET || !http->initialized || !argument_int(command, 0, &method) ||
        method < 0 || method > 4)
        return RESULT_ERROR;
    if (http->phase == HTTP_REQUESTING || http->phase == HTTP_RECEIVING)
        return RESULT_ERROR;
    http->method = (int)method;
    clear_response(http);
    http->phase = HTTP_REQUESTING;
    http->deadline_us =
        emulator->now_us +
        (uint64_t)(http->receive_timeout_s > 0 ? http->receive_timeout_s : 120) * 1000000ull;
    if (!split_url(http->url, &tls, host, sizeof(host), &port, &path)) {
        schedule(emulator, 10, fail_later, HTTP_ERROR_PARAMETER, NULL);
        return RESULT_OK;
    }
    if (!network_ready(emulator)) {
        schedule(emulator, 10, fail_later, HTTP_ERROR_NO_NETWORK, NULL);
        return RESULT_OK;
    }
    if (!build_request(emulator, host, port, tls, path)) {
        schedule(emulator, 10, fail_later, HTTP_ERROR_MEMORY, NULL);
        return RESULT_OK;
    }
    memset(&options, 0, sizeof(options));
    options.tls = tls;
    options.tls_max_minor = 3;
    options.verify = emulator->sim7600.ssl_authmode[http->ssl_context] == 1 ||
                     emulator->sim7600.ssl_authmode[http->ssl_context] == 2;
    http->link = link_open(emulator, OWNER_HTTP, 0, host, port, tls ? &options : NULL, &failure);
    if (!http->link)
        schedule(emulator, 10, fail_later, HTTP_ERROR_CONNECT, NULL);
    return RESULT_OK;
}

static void drain(modem_emulator *emulator)
{
    http_state *http = &emulator->http;
    uint8_t chunk[4096];
    size_t count;
    while (http->link && (count = link_read(http->link, chunk, sizeof(chunk))) > 0) {
        int result = feed(http, chunk, count);
        if (result) {
            finish(emulator, result);
            return;
        }
    }
}

void http_link_event(modem_emulator *emulator, modem_link *link, unsigned events)
{
    http_state *http = &emulator->http;
    if (link != http->link)
        return;
    if (events & LINK_EVENT_FAILED) {
        link_failure failure = link_get_failure(link);
        finish(emulator, failure == LINK_FAILURE_DNS   ? HTTP_ERROR_DNS
                         : failure == LINK_FAILURE_TLS ? HTTP_ERROR_SSL
                                                       : HTTP_ERROR_CONNECT);
        return;
    }
    if (events & LINK_EVENT_CONNECTED)
        http->phase = HTTP_REQUESTING;
    if (events & LINK_EVENT_DATA) {
        http->phase = HTTP_RECEIVING;
        drain(emulator);
    }
    if ((events & LINK_EVENT_PEER_CLOSED) && http->link == link) {
        drain(emulator);
        if (http->link != link)
            return;
        /* a body without a length ends with the connection */
        if (http->head_done && !http->chunked && http->content_length < 0)
            finish(emulator, http->status);
        else
            finish(emulator, HTTP_ERROR_CLOSED);
    }
}

void http_poll(modem_emulator *emulator)
{
    http_state *http = &emulator->http;
    if (http->phase != HTTP_REQUESTING && http->phase != HTTP_RECEIVING)
        return;
    if (http->link && link_get_state(http->link) == LINK_OPEN &&
        http->request_sent < http->request_length) {
        http->request_sent += link_send(emulator, http->link, http->request + http->request_sent,
                                        http->request_length - http->request_sent);
    }
    if (http->deadline_us && emulator->now_us >= http->deadline_us)
        finish(emulator, HTTP_ERROR_TIMEOUT);
}

void http_network_lost(modem_emulator *emulator)
{
    if (emulator->http.phase == HTTP_REQUESTING || emulator->http.phase == HTTP_RECEIVING)
        finish(emulator, HTTP_ERROR_NO_NETWORK);
}

void http_reset(modem_emulator *emulator)
{
    http_state *http = &emulator->http;
    free(http->request);
    free(http->body);
    free(http->post_data);
    memset(http, 0, sizeof(*http));
}

/* ---- commands
 * ------------------------------------------------------------------------------------- */

static int command_httpinit(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    (void)command;
    if (http->initialized || !network_ready(emulator))
        return RESULT_ERROR;
    http_reset(emulator);
    http->initialized = true;
    http->receive_timeout_s = 120;
    http->content_length = -1;
    return RESULT_OK;
}

static int command_httpterm(modem_emulator *emulator, const at_command *command)
{
    (void)command;
    if (!emulator->http.initialized)
        return RESULT_ERROR;
    release(emulator);
    http_reset(emulator);
    return RESULT_OK;
}

/* USERDATA may carry "\r\n" written as text between header lines */
static void copy_unescaped(char *out, size_t capacity, const char *text)
{
    size_t used = 0;
    while (*text && used + 1 < capacity) {
        if (text[0] == '\\' && (text[1] == 'r' || text[1] == 'n')) {
            out[used++] = text[1] == 'r' ? '\r' : '\n';
            text += 2;
        } else {
            out[used++] = *text++;
        }
    }
    out[used] = 0;
    /* no trailing line break: the request adds its own */
    while (used >= 1 && (out[used - 1] == '\n' || out[used - 1] == '\r'))
        out[--used] = 0;
}

static int command_httppara(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    const char *name = argument_text(command, 0), *value = argument_text(command, 1);
    long number;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+HTTPPARA: \"URL\",\"%s\"", http->url);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!http->initialized || !argument_present(command, 1))
        return RESULT_ERROR;
    if (strcasecmp(name, "URL") == 0) {
        if (strlen(value) >= sizeof(http->url))
            return RESULT_ERROR;
        snprintf(http->url, sizeof(http->url), "%s", value);
    } else if (strcasecmp(name, "USERDATA") == 0) {
        copy_unescaped(http->user_data, sizeof(http->user_data), value);
    } else if (strcasecmp(name, "CONTENT") == 0) {
        snprintf(http->content_type, sizeof(http->content_type), "%s", value);
    } else if (strcasecmp(name, "ACCEPT") == 0) {
        snprintf(http->accept, sizeof(http->accept), "%s", value);
    } else if (strcasecmp(name, "RECVTO") == 0 || strcasecmp(name, "CONNECTTO") == 0) {
        if (!argument_int(command, 1, &number) || number < 20 || number > 120)
            return RESULT_ERROR;
        if (strcasecmp(name, "RECVTO") == 0)
            http->receive_timeout_s = (int)number;
    } else if (strcasecmp(name, "SSLCFG") == 0) {
        if (!argument_int(command, 1, &number) || number < 0 || number > 9)
            return RESULT_ERROR;
        http->ssl_context = (int)number;
    } else if (strcasecmp(name, "READMODE") == 0) {
        if (!argument_int(command, 1, &number) || number < 0 || number > 1)
            return RESULT_ERROR;
    } else {
        return RESULT_ERROR;
    }
    return RESULT_OK;
}

static void post_data_done(modem_emulator *emulator, const uint8_t *payload, size_t length,
                           bool cancelled)
{
    (void)payload;
    (void)length;
    if (cancelled)
        out_error(emulator);
    else
        out_ok(emulator);
}

static void post_data_chunk(modem_emulator *emulator, const uint8_t *data, size_t length)
{
    http_state *http = &emulator->http;
    memcpy(http->post_data + http->post_length, data, length);
    http->post_length += length;
}

static int command_httpdata(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    long size, time_s = 10;
    data_sink sink;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!http->initialized || !argument_int(command, 0, &size) || size < 1 || size > 153600 ||
        (argument_present(command, 1) &&
         (!argument_int(command, 1, &time_s) || time_s < 1 || time_s > 65535)))
        return RESULT_ERROR;
    free(http->post_data);
    http->post_data = malloc((size_t)size);
    http->post_length = 0;
    if (!http->post_data)
        return RESULT_ERROR;
    memset(&sink, 0, sizeof(sink));
    sink.expected = (size_t)size;
    sink.on_data = post_data_chunk;
    sink.on_end = post_data_done;
    sink.deadline_us = emulator->now_us + (uint64_t)time_s * 1000000ull;
    out_line(emulator, "DOWNLOAD");
    begin_data_input(emulator, &sink, false);
    return RESULT_PENDING;
}

static int command_httphead(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    (void)command;
    if (!http->initialized || http->phase != HTTP_DONE || !http->head_done)
        return RESULT_ERROR;
    out_line(emulator, "+HTTPHEAD: %zu", http->head_length);
    out_raw(emulator, http->head, http->head_length);
    out_safe_point(emulator);
    return RESULT_OK;
}

static bool read_block(modem_emulator *emulator)
{
    http_state *http = &emulator->http;
    size_t count = emulator->producer_remaining < READ_BLOCK ? (size_t)emulator->producer_remaining
                                                             : READ_BLOCK;
    if (count == 0 || !http->body) {
        out_line(emulator, "+HTTPREAD: 0");
        return true;
    }
    out_read_header(emulator, NULL, "+HTTPREAD: DATA,%zu", count);
    out_raw(emulator, http->body + emulator->producer_offset, count);
    out_safe_point(emulator);
    emulator->producer_offset += count;
    emulator->producer_remaining -= count;
    return false;
}

static int command_httpread(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    long start, size;
    if (command->type == COMMAND_READ) {
        if (!http->initialized || http->phase != HTTP_DONE)
            return RESULT_ERROR;
        out_line(emulator, "+HTTPREAD: LEN,%zu", http->body_length);
        return RESULT_OK;
    }
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!http->initialized || http->phase != HTTP_DONE || http->body_length == 0)
        return RESULT_ERROR;
    if (argument_present(command, 1)) {
        if (!argument_int(command, 0, &start) || !argument_int(command, 1, &size) || start < 0 ||
            size < 1 || (size_t)start >= http->body_length)
            return RESULT_ERROR;
    } else {
        if (!argument_int(command, 0, &size) || size < 1 || http->read_offset >= http->body_length)
            return RESULT_ERROR;
        start = (long)http->read_offset;
    }
    if ((size_t)size > http->body_length - (size_t)start)
        size = (long)(http->body_length - (size_t)start);
    http->read_offset = (uint64_t)start + (uint64_t)size;
    out_ok(emulator);
    emulator->producer_offset = (uint64_t)start;
    emulator->producer_remaining = (uint64_t)size;
    emulator->producer = read_block;
    return RESULT_DONE;
}

static int command_httpreadfile(modem_emulator *emulator, const at_command *command)
{
    http_state *http = &emulator->http;
    if (command->type != COMMAND_SET || !http->initialized || !argument_present(command, 0))
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    snprintf(http->read_file_name, sizeof(http->read_file_name), "%s", argument_text(command, 0));
    if (http->phase == HTTP_REQUESTING || http->phase == HTTP_RECEIVING) {
        http->read_file_pending = true; /* written when the action ends */
        return RESULT_OK;
    }
    if (http->phase != HTTP_DONE)
        return RESULT_ERROR;
    out_ok(emulator);
    out_urc_after_reply(
        emulator, "+HTTPREADFILE: %d",
        fs_write_file(emulator, http->read_file_name, http->body, http->body_length) ? 7 : 0);
    return RESULT_DONE;
}

const command_entry http_commands[] = {{"+HTTPINIT", command_httpinit, 0},
                                       {"+HTTPTERM", command_httpterm, 0},
                                       {"+HTTPPARA", command_httppara, 0},
                                       {"+HTTPDATA", command_httpdata, 0},
                                       {"+HTTPACTION", command_httpaction, 0},
                                       {"+HTTPHEAD", command_httphead, 0},
                                       {"+HTTPREAD", command_httpread, 0},
                                       {"+HTTPREADFILE", command_httpreadfile, 0},
                                       {NULL, NULL, 0}};
