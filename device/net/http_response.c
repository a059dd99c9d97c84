/*
 * The incremental HTTP/1.1 response parser (see http_response.h). Lines are collected into the
 * caller's line buffer one byte at a time and parsed when their LF arrives; body bytes go to the
 * callback straight from the input, so the only copy is of header lines.
 */
#include "net/http_response.h"

#include "core/encoding.h"
#include "core/error.h"
#include "net/text.h"

#include <string.h>

enum parser_state {
    STATE_STATUS = 0,
    STATE_HEADERS,
    STATE_BODY_LENGTH, /* `remaining` bytes of a Content-Length body */
    STATE_BODY_CLOSE,  /* everything until the connection closes */
    STATE_CHUNK_SIZE,
    STATE_CHUNK_DATA, /* `remaining` bytes of the current chunk */
    STATE_CHUNK_END,  /* the CRLF after a chunk's data */
    STATE_TRAILERS,
    STATE_DONE
};

static bool is_token_character(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Drops spaces and tabs at both ends of [*text, *text + *length). */
static void trim(const char **text, size_t *length)
{
    while (*length > 0 && is_space(**text)) {
        (*text)++;
        (*length)--;
    }
    while (*length > 0 && is_space((*text)[*length - 1]))
        (*length)--;
}

/* Splits the next comma-separated element off a list; false when none is left. */
static bool next_element(const char **list, size_t *list_length, const char **element,
                         size_t *element_length)
{
    size_t index = 0;
    while (*list_length > 0 && (**list == ',' || is_space(**list))) {
        (*list)++;
        (*list_length)--;
    }
    if (*list_length == 0)
        return false;
    while (index < *list_length && (*list)[index] != ',')
        index++;
    *element = *list;
    *element_length = index;
    trim(element, element_length);
    *list += index;
    *list_length -= index;
    return true;
}

/* Parses a decimal number that ends at `stop` (or the end); advances *text past it. */
static bool take_number(const char **text, const char *end, char stop, uint32_t *value)
{
    const char *start = *text;
    while (*text < end && **text != stop)
        (*text)++;
    return cellota_text_to_u32(start, (size_t)(*text - start), value);
}

/* Content-Range: "bytes FIRST-LAST/TOTAL" (TOTAL may be '*'), or "bytes '*'/TOTAL" from a 416. */
static int parse_content_range(cellota_http_response *response, const char *value, size_t length)
{
    const char *cursor = value, *end = value + length;
    if (length < 6 || !cellota_text_equals(value, 6, "bytes "))
        return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE;
    cursor += 6;
    if (cursor < end && *cursor == '*') {
        cursor++;
        response->range_first = CELLOTA_HTTP_UNKNOWN;
        response->range_last = CELLOTA_HTTP_UNKNOWN;
    } else {
        if (!take_number(&cursor, end, '-', &response->range_first) || cursor == end)
            return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE;
        cursor++;
        if (!take_number(&cursor, end, '/', &response->range_last) ||
            response->range_last < response->range_first)
            return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE;
    }
    if (cursor == end || *cursor != '/')
        return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE;
    cursor++;
    if (end - cursor == 1 && *cursor == '*') {
        if (response->range_first == CELLOTA_HTTP_UNKNOWN)
            return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE; /* "* / *" says nothing */
        response->range_total = CELLOTA_HTTP_UNKNOWN;
    } else if (!take_number(&cursor, end, '\0', &response->range_total) ||
               (response->range_first != CELLOTA_HTTP_UNKNOWN &&
                response->range_last >= response->range_total)) {
        return CELLOTA_NET_HTTP_BAD_CONTENT_RANGE;
    }
    response->has_content_range = true;
    return CELLOTA_OK;
}

/* The headers a download needs; every header then goes to on_header. */
static int parse_header(cellota_http_parser *parser, const char *line, size_t length)
{
    cellota_http_response *response = parser->response;
    const char *value;
    size_t name_length = 0, value_length;
    uint32_t number;

    while (name_length < length && is_token_character(line[name_length]))
        name_length++;
    if (name_length == 0 || name_length == length || line[name_length] != ':')
        return CELLOTA_NET_HTTP_BAD_HEADER;
    value = line + name_length + 1;
    value_length = length - name_length - 1;
    trim(&value, &value_length);

    if (cellota_text_equals(line, name_length, "content-length")) {
        if (!cellota_text_to_u32(value, value_length, &number) ||
            (response->has_content_length && number != response->content_length))
            return CELLOTA_NET_HTTP_BAD_CONTENT_LENGTH;
        response->has_content_length = true;
        response->content_length = number;
    } else if (cellota_text_equals(line, name_length, "transfer-encoding")) {
        /* Only chunked alone: a body compressed by a coding ("gzip, chunked") is not usable. */
        if (cellota_text_equals(value, value_length, "chunked"))
            response->chunked = true;
        else if (!cellota_text_equals(value, value_length, "identity"))
            return CELLOTA_NET_HTTP_UNSUPPORTED_TRANSFER_ENCODING;
    } else if (cellota_text_equals(line, name_length, "connection")) {
        const char *list = value, *element;
        size_t list_length = value_length, element_length;
        while (next_element(&list, &list_length, &element, &element_length)) {
            if (cellota_text_equals(element, element_length, "close"))
                response->connection_close = true;
            else if (cellota_text_equals(element, element_length, "keep-alive"))
                parser->keep_alive = true;
        }
    } else if (cellota_text_equals(line, name_length, "content-range")) {
        int result = parse_content_range(response, value, value_length);
        if (result != CELLOTA_OK)
            return result;
    } else if (cellota_text_equals(line, name_length, "etag")) {
        if (value_length <= CELLOTA_HTTP_ETAG_MAX) {
            memcpy(response->etag, value, value_length);
            response->etag[value_length] = '\0';
        }
    }
    if (parser->handler.on_header)
        return parser->handler.on_header(parser->handler.context, line, name_length, value,
                                         value_length);
    return CELLOTA_OK;
}

/* "HTTP/1.x SSS[ reason]" */
static int parse_status_line(cellota_http_parser *parser, const char *line, size_t length)
{
    cellota_http_response *response = parser->response;
    size_t index;
    uint16_t status = 0;
    if (length < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ' || (length > 12 && line[12] != ' '))
        return CELLOTA_NET_HTTP_BAD_STATUS_LINE;
    for (index = 9; index < 12; index++) {
        if (line[index] < '0' || line[index] > '9')
            return CELLOTA_NET_HTTP_BAD_STATUS_LINE;
        status = (uint16_t)(status * 10 + (uint16_t)(line[index] - '0'));
    }
    if (status < 100)
        return CELLOTA_NET_HTTP_BAD_STATUS_LINE;
    for (index = 13; index < length; index++) {
        if ((unsigned char)line[index] < ' ' && line[index] != '\t')
            return CELLOTA_NET_HTTP_BAD_STATUS_LINE;
    }
    memset(response, 0, sizeof(*response));
    response->status = status;
    response->minor_version = (uint8_t)(line[7] - '0');
    parser->keep_alive = false;
    return CELLOTA_OK;
}

/* The header block ended: skip an interim response, or decide how the body is delimited. */
static int end_of_headers(cellota_http_parser *parser)
{
    cellota_http_response *response = parser->response;
    uint16_t status = response->status;
    if (status < 200 && status != 101) {
        parser->state = STATE_STATUS;
        return CELLOTA_OK;
    }
    if (response->minor_version == 0 && !parser->keep_alive)
        response->connection_close = true;
    response->has_body = !(parser->head_request || status < 200 || status == 204 || status == 304);
    if (!response->has_body) {
        parser->state = STATE_DONE;
    } else if (response->chunked) {
        parser->state = STATE_CHUNK_SIZE;
    } else if (response->has_content_length) {
        parser->remaining = response->content_length;
        parser->state = response->content_length ? STATE_BODY_LENGTH : STATE_DONE;
    } else {
        parser->state = STATE_BODY_CLOSE;
        response->connection_close = true;
    }
    if (parser->handler.on_headers)
        return parser->handler.on_headers(parser->handler.context, response);
    return CELLOTA_OK;
}

/* "1a2b[ ;extension]" */
static int parse_chunk_size(cellota_http_parser *parser, const char *line, size_t length)
{
    uint32_t size = 0;
    size_t index = 0;
    int digit;
    if (length == 0 || cellota_hex_digit(line[0]) < 0)
        return CELLOTA_NET_HTTP_BAD_CHUNK;
    for (; index < length && (digit = cellota_hex_digit(line[index])) >= 0; index++) {
        if (size > (UINT32_MAX >> 4))
            return CELLOTA_NET_HTTP_BAD_CHUNK;
        size = (size << 4) | (uint32_t)digit;
    }
    while (index < length && is_space(line[index]))
        index++;
    if (index < length && line[index] != ';')
        return CELLOTA_NET_HTTP_BAD_CHUNK;
    parser->remaining = size;
    parser->state = size ? STATE_CHUNK_DATA : STATE_TRAILERS;
    return CELLOTA_OK;
}

/* A whole line (without its LF, and without a CR before it) in the state that collected it. */
static int parse_line(cellota_http_parser *parser, const char *line, size_t length)
{
    switch (parser->state) {
    case STATE_STATUS:
        if (++parser->lines > CELLOTA_HTTP_HEADER_LINES_MAX)
            return CELLOTA_NET_HTTP_TOO_MANY_HEADERS; /* endless interim responses */
        parser->state = STATE_HEADERS;
        return parse_status_line(parser, line, length);
    case STATE_HEADERS:
        if (length == 0)
            return end_of_headers(parser);
        if (++parser->lines > CELLOTA_HTTP_HEADER_LINES_MAX)
            return CELLOTA_NET_HTTP_TOO_MANY_HEADERS;
        if (is_space(line[0]))
            return CELLOTA_NET_HTTP_BAD_HEADER; /* obsolete line folding */
        if (parser->response->status < 200)
            return CELLOTA_OK; /* headers of an interim response are of no use */
        return parse_header(parser, line, length);
    case STATE_CHUNK_SIZE:
        return parse_chunk_size(parser, line, length);
    case STATE_CHUNK_END:
        parser->state = STATE_CHUNK_SIZE;
        return length == 0 ? CELLOTA_OK : CELLOTA_NET_HTTP_BAD_CHUNK;
    default: /* STATE_TRAILERS */
        if (length == 0)
            parser->state = STATE_DONE;
        else if (++parser->lines > CELLOTA_HTTP_HEADER_LINES_MAX)
            return CELLOTA_NET_HTTP_TOO_MANY_HEADERS;
        return CELLOTA_OK;
    }
}

/* The code for a line that is malformed (too long: `too_long`) in the current state. */
static int line_error(const cellota_http_parser *parser, bool too_long)
{
    if (parser->state == STATE_CHUNK_SIZE || parser->state == STATE_CHUNK_END)
        return CELLOTA_NET_HTTP_BAD_CHUNK;
    if (too_long)
        return CELLOTA_NET_HTTP_HEADER_TOO_LONG;
    return parser->state == STATE_STATUS ? CELLOTA_NET_HTTP_BAD_STATUS_LINE
                                         : CELLOTA_NET_HTTP_BAD_HEADER;
}

static bool collects_lines(const cellota_http_parser *parser)
{
    return parser->state == STATE_STATUS || parser->state == STATE_HEADERS ||
           parser->state == STATE_CHUNK_SIZE || parser->state == STATE_CHUNK_END ||
           parser->state == STATE_TRAILERS;
}

int cellota_http_parser_begin(cellota_http_parser *parser, cellota_http_response *response,
                              char *line, size_t line_size, bool head_request,
                              const cellota_http_response_handler *handler)
{
    if (!parser || !response || !line || line_size < 16)
        return CELLOTA_INVALID_ARGUMENT;
    memset(parser, 0, sizeof(*parser));
    memset(response, 0, sizeof(*response));
    parser->response = response;
    parser->line = line;
    parser->line_size = line_size;
    parser->head_request = head_request;
    if (handler)
        parser->handler = *handler;
    return CELLOTA_OK;
}

/* Body bytes: to on_body straight from the input. Returns how many were used. */
static size_t take_body(cellota_http_parser *parser, const uint8_t *data, size_t length)
{
    size_t count = length;
    if (parser->state != STATE_BODY_CLOSE && count > parser->remaining)
        count = parser->remaining;
    if (count == 0)
        return 0;
    if (parser->handler.on_body) {
        int result = parser->handler.on_body(parser->handler.context, data, count);
        if (result != CELLOTA_OK) {
            parser->error = result;
            return count;
        }
    }
    if (parser->response->body_received <= UINT32_MAX - count)
        parser->response->body_received += (uint32_t)count;
    else
        parser->response->body_received = UINT32_MAX;
    if (parser->state != STATE_BODY_CLOSE) {
        parser->remaining -= (uint32_t)count;
        if (parser->remaining == 0)
            parser->state = parser->state == STATE_CHUNK_DATA ? STATE_CHUNK_END : STATE_DONE;
    }
    return count;
}

int cellota_http_parser_feed(cellota_http_parser *parser, const uint8_t *data, size_t length,
                             size_t *consumed)
{
    size_t used = 0;
    if (length > 0)
        parser->seen_byte = true;
    while (used < length && parser->error == CELLOTA_OK && parser->state != STATE_DONE) {
        if (!collects_lines(parser)) {
            used += take_body(parser, data + used, length - used);
            continue;
        }
        while (used < length) {
            char c = (char)data[used++];
            if (c == '\n') {
                size_t line_length = parser->line_length;
                if (line_length > 0 && parser->line[line_length - 1] == '\r')
                    line_length--;
                parser->line_length = 0;
                if (memchr(parser->line, '\r', line_length) ||
                    memchr(parser->line, '\0', line_length))
                    parser->error = line_error(parser, false);
                else
                    parser->error = parse_line(parser, parser->line, line_length);
                break;
            }
            /* A line must end inside the buffer: at most line_size - 1 bytes and its LF. */
            if (parser->line_length + 1 >= parser->line_size) {
                parser->error = line_error(parser, true);
                break;
            }
            parser->line[parser->line_length++] = c; /* may be a copy onto itself */
        }
    }
    if (consumed)
        *consumed = used;
    if (parser->error != CELLOTA_OK)
        return parser->error;
    return parser->state == STATE_DONE ? CELLOTA_OK : CELLOTA_IN_PROGRESS;
}

int cellota_http_parser_finish(cellota_http_parser *parser)
{
    if (parser->error != CELLOTA_OK)
        return parser->error;
    if (parser->state == STATE_BODY_CLOSE)
        parser->state = STATE_DONE;
    if (parser->state == STATE_DONE)
        return CELLOTA_OK;
    if (!parser->seen_byte)
        parser->error = CELLOTA_NET_HTTP_NO_RESPONSE;
    else if (parser->state == STATE_STATUS || parser->state == STATE_HEADERS)
        parser->error = CELLOTA_NET_HTTP_HEADERS_TRUNCATED;
    else
        parser->error = CELLOTA_NET_HTTP_BODY_TRUNCATED;
    return parser->error;
}

char *cellota_http_parser_space(const cellota_http_parser *parser, size_t *room)
{
    if (collects_lines(parser)) {
        *room = parser->line_size - parser->line_length;
        return parser->line + parser->line_length;
    }
    *room = parser->line_size;
    return parser->line;
}
