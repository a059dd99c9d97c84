/*
 * libFuzzer target for the HTTP response parser and the HTTP client around it.
 *
 * Input: byte 0 = options (bit 0 HEAD, bit 1 the connection closes after the input, bits 2-7
 * the line-buffer size), byte 1 = seed for the cuts, the rest = what the server sends.
 * Checks: nothing crashes or reads out of bounds (ASan); the parser gives exactly the same
 * result, body and headers whether fed whole or cut at random and received in place; a body
 * never exceeds the input nor a Content-Length; the client over the memory socket, given the
 * input as the answer on every connection (so redirects loop), always ends.
 */
#include "core/error.h"
#include "net/http.h"
#include "net/http_response.h"
#include "support/memory_socket.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
    int result;
    cellota_http_response response;
    uint64_t body_hash;
    size_t body_length, consumed;
} outcome;

static int on_body(void *context, const uint8_t *data, size_t length)
{
    outcome *out = context;
    size_t index;
    for (index = 0; index < length; index++)
        out->body_hash = (out->body_hash ^ data[index]) * 0x100000001b3ull;
    out->body_length += length;
    return CELLOTA_OK;
}

static void parse(const uint8_t *input, size_t length, bool head, bool closes, size_t line_size,
                  uint32_t seed, outcome *out)
{
    static char line[600];
    cellota_http_parser parser;
    cellota_http_response_handler handler = {NULL, NULL, on_body, NULL};
    size_t offset = 0;
    int result = CELLOTA_IN_PROGRESS;
    memset(out, 0, sizeof(*out));
    out->body_hash = 0xcbf29ce484222325ull;
    handler.context = out;
    if (cellota_http_parser_begin(&parser, &out->response, line, line_size, head, &handler) !=
        CELLOTA_OK)
        abort();
    while (offset < length && result == CELLOTA_IN_PROGRESS) {
        size_t piece = length - offset, consumed = 0;
        if (seed != 0) {
            size_t room;
            char *space = cellota_http_parser_space(&parser, &room);
            seed = seed * 1103515245u + 12345u;
            piece = 1 + (seed >> 16) % (piece < 64 ? piece : 64);
            if (room == 0)
                abort();
            if (piece > room)
                piece = room;
            memcpy(space, input + offset, piece);
            result = cellota_http_parser_feed(&parser, (const uint8_t *)space, piece, &consumed);
        } else {
            result = cellota_http_parser_feed(&parser, input + offset, piece, &consumed);
        }
        if (consumed > piece || (result == CELLOTA_IN_PROGRESS && consumed != piece))
            abort();
        offset += consumed;
    }
    if (result == CELLOTA_IN_PROGRESS && closes)
        result = cellota_http_parser_finish(&parser);
    out->result = result;
    out->consumed = offset;
}

static void run_client(const uint8_t *input, size_t length, bool head)
{
    static memory_socket socket;
    static cellota_http_client client;
    static char buffer[256], url[96];
    cellota_http_config config;
    cellota_http_request request;
    unsigned served = 0;
    uint32_t now = 0;
    int result, polls = 0;
    memory_socket_init(&socket);
    socket.receive_limit = 97;
    cellota_http_config_default(&config, buffer, sizeof(buffer), url, sizeof(url));
    config.request_timeout_ms = 100000;
    cellota_http_init(&client, &socket.socket, &config);
    memset(&request, 0, sizeof(request));
    request.method = head ? CELLOTA_HTTP_HEAD : CELLOTA_HTTP_GET;
    request.url = "http://fuzz.example/image.ebin";
    request.has_range = length & 1;
    request.range_first = 100;
    request.range_last = CELLOTA_HTTP_RANGE_TO_END;
    request.keep_alive = true;
    result = cellota_http_begin(&client, &request, now);
    while (result == CELLOTA_IN_PROGRESS) {
        if (socket.state == CELLOTA_SOCKET_STATE_OPEN && socket.opens != served) {
            served = socket.opens;
            memory_socket_push(&socket, input, length);
            memory_socket_peer_close(&socket);
        }
        now += 1000;
        result = cellota_http_poll(&client, now);
        if (++polls > 100000)
            abort(); /* the request timeout must have ended it */
    }
    memory_socket_free(&socket);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static outcome whole, cut;
    bool head, closes;
    size_t line_size;
    if (size < 2)
        return 0;
    head = data[0] & 1;
    closes = (data[0] & 2) != 0;
    line_size = 16 + (size_t)(data[0] >> 2) * 8;
    parse(data + 2, size - 2, head, closes, line_size, 0, &whole);
    parse(data + 2, size - 2, head, closes, line_size, (uint32_t)data[1] + 1, &cut);
    if (whole.result != cut.result || whole.body_length != cut.body_length ||
        whole.body_hash != cut.body_hash || whole.consumed != cut.consumed ||
        memcmp(&whole.response, &cut.response, sizeof(whole.response)) != 0)
        abort();
    if (whole.body_length > size || whole.body_length != whole.response.body_received)
        abort();
    if (whole.response.has_content_length && !whole.response.chunked &&
        whole.body_length > whole.response.content_length)
        abort();
    if (head && whole.body_length != 0)
        abort();
    run_client(data + 2, size - 2, head);
    return 0;
}
