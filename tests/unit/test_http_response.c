/*
 * The HTTP response parser: every case is fed whole, one byte at a time, split in two at every
 * position, in random pieces, and received in place (as the client does, into the parser's own
 * buffer); every way must give the same result, body and headers.
 */
#include "test.h"

#include "core/error.h"
#include "net/http_response.h"

#include <stdbool.h>

#define BODY_MAX 4096

typedef struct outcome {
    int result;
    cellota_http_response response;
    uint8_t body[BODY_MAX];
    size_t body_length;
    size_t consumed;
    int headers_calls;
    char location[128];
    int fail_body_after; /* on_body fails once this many bytes arrived (-1: never) */
} outcome;

static int on_header(void *context, const char *name, size_t name_length, const char *value,
                     size_t value_length)
{
    outcome *out = context;
    if (name_length == 8 && strncasecmp(name, "location", 8) == 0 &&
        value_length < sizeof(out->location)) {
        memcpy(out->location, value, value_length);
        out->location[value_length] = '\0';
    }
    return CELLOTA_OK;
}

static int on_headers(void *context, cellota_http_response *response)
{
    outcome *out = context;
    (void)response;
    out->headers_calls++;
    return CELLOTA_OK;
}

static int on_body(void *context, const uint8_t *data, size_t length)
{
    outcome *out = context;
    if (out->body_length + length > BODY_MAX)
        return CELLOTA_BUFFER_TOO_SMALL;
    memcpy(out->body + out->body_length, data, length);
    out->body_length += length;
    if (out->fail_body_after >= 0 && out->body_length >= (size_t)out->fail_body_after)
        return CELLOTA_IMAGE_TOO_LONG; /* any caller's error */
    return CELLOTA_OK;
}

enum split_mode { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_AT, SPLIT_RANDOM, SPLIT_IN_PLACE };

typedef struct parse_case {
    const char *input;
    size_t length; /* 0: strlen(input) */
    bool head;
    bool closes; /* the connection closes after the input */
    size_t line_size;
    int fail_body_after;
} parse_case;

static uint32_t random_state = 12345;

static uint32_t next_random(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return random_state;
}

static void run(const parse_case *test, enum split_mode mode, size_t split_at, outcome *out)
{
    cellota_http_parser parser;
    cellota_http_response_handler handler = {on_header, on_headers, on_body, NULL};
    char line[1024];
    size_t length = test->length ? test->length : strlen(test->input);
    size_t offset = 0, line_size = test->line_size ? test->line_size : sizeof(line);
    const uint8_t *input = (const uint8_t *)test->input;
    int result = CELLOTA_IN_PROGRESS;

    memset(out, 0, sizeof(*out));
    out->fail_body_after = test->fail_body_after ? test->fail_body_after : -1;
    handler.context = out;
    CHECK_EQ_INT(
        cellota_http_parser_begin(&parser, &out->response, line, line_size, test->head, &handler),
        CELLOTA_OK);
    while (offset < length && result == CELLOTA_IN_PROGRESS) {
        size_t piece = length - offset, consumed = 0;
        if (mode == SPLIT_BYTES)
            piece = 1;
        else if (mode == SPLIT_AT && offset < split_at)
            piece = split_at - offset;
        else if (mode == SPLIT_RANDOM || mode == SPLIT_IN_PLACE)
            piece = 1 + next_random() % (piece < 40 ? piece : 40);
        if (mode == SPLIT_IN_PLACE) {
            size_t room;
            char *space = cellota_http_parser_space(&parser, &room);
            CHECK(room > 0);
            if (piece > room)
                piece = room;
            memcpy(space, input + offset, piece);
            result = cellota_http_parser_feed(&parser, (const uint8_t *)space, piece, &consumed);
        } else {
            result = cellota_http_parser_feed(&parser, input + offset, piece, &consumed);
        }
        CHECK(consumed <= piece);
        if (result == CELLOTA_IN_PROGRESS)
            CHECK_EQ_INT(consumed, piece);
        offset += consumed;
    }
    if (result == CELLOTA_IN_PROGRESS && test->closes)
        result = cellota_http_parser_finish(&parser);
    out->result = result;
    out->consumed = offset;
}

/* Runs every split and checks they agree; `expected` gets the whole-input outcome. */
static void run_all(const parse_case *test, outcome *expected)
{
    static outcome other;
    size_t length = test->length ? test->length : strlen(test->input), at;
    int round;
    run(test, SPLIT_WHOLE, 0, expected);
    for (at = 0; at <= length + 1; at++) {
        enum split_mode mode = at == 0 ? SPLIT_BYTES : at == length + 1 ? SPLIT_RANDOM : SPLIT_AT;
        for (round = 0; round < (mode == SPLIT_RANDOM ? 20 : 1); round++) {
            run(test, round % 2 ? SPLIT_IN_PLACE : mode, at, &other);
            if (other.result != expected->result || other.body_length != expected->body_length ||
                memcmp(other.body, expected->body, other.body_length) != 0 ||
                memcmp(&other.response, &expected->response, sizeof(other.response)) != 0 ||
                other.consumed != expected->consumed ||
                strcmp(other.location, expected->location)) {
                CHECK(!"a split changed the outcome");
                fprintf(stderr, "  input %.60s... mode %d at %zu: result %s vs %s\n", test->input,
                        mode, at, cellota_error_name(other.result),
                        cellota_error_name(expected->result));
                return;
            }
        }
    }
}

static int parse_result(const char *input, bool closes)
{
    parse_case test = {input, 0, false, closes, 0, 0};
    static outcome out;
    run_all(&test, &out);
    return out.result;
}

static void test_content_length_body(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"5f3-abc\"\r\n"
                       "Server: nginx\r\n\r\nhello",
                       0,
                       false,
                       false,
                       0,
                       0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.response.status, 200);
    CHECK_EQ_INT(out.response.minor_version, 1);
    CHECK(out.response.has_content_length);
    CHECK_EQ_INT(out.response.content_length, 5);
    CHECK_EQ_INT(out.body_length, 5);
    CHECK_EQ_MEM(out.body, "hello", 5);
    CHECK_EQ_STR(out.response.etag, "\"5f3-abc\"");
    CHECK(!out.response.connection_close);
    CHECK_EQ_INT(out.headers_calls, 1);
    CHECK_EQ_INT(out.response.body_received, 5);
}

static void test_bytes_after_the_response_are_left(void)
{
    static outcome out;
    parse_case test = {
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n", 0, false, false, 0, 0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.consumed, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
}

static void test_chunked_body_with_extensions_and_trailers(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;name=value\r\nhello\r\n6 \r\n world\r\n000\r\nX-Checksum: 1\r\n\r\n",
                       0,
                       false,
                       false,
                       0,
                       0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK(out.response.chunked);
    CHECK_EQ_INT(out.body_length, 11);
    CHECK_EQ_MEM(out.body, "hello world", 11);
}

static void test_chunked_overrides_content_length(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: "
                       "Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
                       0,
                       false,
                       false,
                       0,
                       0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.body_length, 10);
}

static void test_body_until_close(void)
{
    static outcome out;
    parse_case test = {
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n1.2.3\n", 0, false, true, 0, 0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK(out.response.connection_close);
    CHECK_EQ_INT(out.body_length, 6);
    CHECK_EQ_INT(out.response.minor_version, 0);
}

static void test_bare_line_feeds(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", 0, false, false, 0, 0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_MEM(out.body, "abc", 3);
}

static void test_partial_content_and_range_headers(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-199/524288\r\n"
                       "Content-Length: 100\r\nConnection: close\r\n\r\n",
                       0,
                       true,
                       false,
                       0,
                       0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK(out.response.has_content_range);
    CHECK_EQ_INT(out.response.range_first, 100);
    CHECK_EQ_INT(out.response.range_last, 199);
    CHECK_EQ_INT(out.response.range_total, 524288);
    CHECK(out.response.connection_close);
    CHECK(!out.response.has_body); /* HEAD */

    test.input = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1000\r\n"
                 "Content-Length: 0\r\n\r\n";
    test.head = false;
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.response.status, 416);
    CHECK_EQ_INT(out.response.range_total, 1000);
    CHECK_EQ_INT(out.response.range_first, CELLOTA_HTTP_UNKNOWN);

    test.input = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/*\r\n"
                 "Content-Length: 10\r\n\r\n0123456789";
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.response.range_total, CELLOTA_HTTP_UNKNOWN);
    CHECK_EQ_INT(out.body_length, 10);
}

static void test_responses_without_body(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 200 OK\r\nContent-Length: 524288\r\n\r\n", 0, true, false, 0, 0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.response.content_length, 524288);
    CHECK_EQ_INT(out.body_length, 0);
    CHECK_EQ_INT(parse_result("HTTP/1.1 204 No Content\r\n\r\n", false), CELLOTA_OK);
    CHECK_EQ_INT(parse_result("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false),
                 CELLOTA_OK);
}

static void test_interim_responses_are_skipped(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 100 Continue\r\nX-Ignored: yes\r\n\r\n"
                       "HTTP/1.1 102 Processing\r\n\r\n"
                       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                       0,
                       false,
                       false,
                       0,
                       0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_INT(out.response.status, 200);
    CHECK_EQ_INT(out.headers_calls, 1);
    CHECK_EQ_MEM(out.body, "ok", 2);
}

static void test_location_reaches_the_header_callback(void)
{
    static outcome out;
    parse_case test = {"HTTP/1.1 302 Found\r\nLocation:   http://b.example/x  \r\n"
                       "Content-Length: 0\r\n\r\n",
                       0,
                       false,
                       false,
                       0,
                       0};
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_STR(out.location, "http://b.example/x");
}

static void test_long_etag_is_not_kept(void)
{
    static outcome out;
    char input[512];
    char tag[100];
    parse_case test = {input, 0, false, false, 0, 0};
    memset(tag, 'e', sizeof(tag) - 1);
    tag[sizeof(tag) - 1] = '\0';
    snprintf(input, sizeof(input), "HTTP/1.1 200 OK\r\nETag: \"%s\"\r\nContent-Length: 0\r\n\r\n",
             tag);
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    CHECK_EQ_STR(out.response.etag, "");
}

static void test_malformed_status_lines(void)
{
    CHECK_EQ_INT(parse_result("HTTP/2 200 OK\r\n\r\n", false), CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("HTTP/1.1 20 OK\r\n\r\n", false), CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200OK\r\n\r\n", false), CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("HTTP/1.1 099 Low\r\n\r\n", false), CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("http/1.1 200 OK\r\n\r\n", false), CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("\r\nHTTP/1.1 200 OK\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("SSH-2.0-OpenSSH_9.2\r\n", false), CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 O\x01K\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\rX\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_STATUS_LINE);
    /* A reason phrase may be empty, with or without its space. */
    CHECK_EQ_INT(parse_result("HTTP/1.1 204\r\n\r\n", false), CELLOTA_OK);
    CHECK_EQ_INT(parse_result("HTTP/1.1 204 \r\n\r\n", false), CELLOTA_OK);
}

static void test_malformed_headers(void)
{
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_HEADER);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_HEADER);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_HEADER);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_HEADER);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_HEADER);
    {
        static const char with_nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
        static outcome out;
        parse_case test = {with_nul, sizeof(with_nul) - 1, false, false, 0, 0};
        run_all(&test, &out);
        CHECK_EQ_INT(out.result, CELLOTA_NET_HTTP_BAD_HEADER);
    }
}

static void test_header_line_limit(void)
{
    static outcome out;
    char input[400];
    parse_case test = {input, 0, false, false, 64, 0};
    /* 63 bytes plus its LF fit a 64-byte buffer; 64 do not. */
    snprintf(input, sizeof(input), "HTTP/1.1 200 OK\r\nX-Long: %0*d\r\nContent-Length: 0\r\n\r\n",
             63 - 8 - 1, 0);
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_OK);
    snprintf(input, sizeof(input), "HTTP/1.1 200 OK\r\nX-Long: %0*d\r\nContent-Length: 0\r\n\r\n",
             63 - 8, 0);
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_NET_HTTP_HEADER_TOO_LONG);
    snprintf(input, sizeof(input), "HTTP/1.1 200 %0200d\r\n\r\n", 0);
    run_all(&test, &out);
    CHECK_EQ_INT(out.result, CELLOTA_NET_HTTP_HEADER_TOO_LONG);
}

static void test_header_count_limit(void)
{
    static char input[4096];
    size_t length;
    int line;
    length = (size_t)snprintf(input, sizeof(input), "HTTP/1.1 200 OK\r\n");
    for (line = 0; line < CELLOTA_HTTP_HEADER_LINES_MAX; line++)
        length += (size_t)snprintf(input + length, sizeof(input) - length, "X-%d: y\r\n", line);
    snprintf(input + length, sizeof(input) - length, "\r\n");
    CHECK_EQ_INT(parse_result(input, true), CELLOTA_NET_HTTP_TOO_MANY_HEADERS);
    /* One fewer (the status line counts) is fine. */
    snprintf(input + length - strlen("X-63: y\r\n"), sizeof(input), "\r\n");
    CHECK_EQ_INT(parse_result(input, true), CELLOTA_OK);
    /* Endless interim responses are bounded too. */
    length = 0;
    for (line = 0; line < CELLOTA_HTTP_HEADER_LINES_MAX + 1; line++)
        length += (size_t)snprintf(input + length, sizeof(input) - length,
                                   "HTTP/1.1 100 Continue\r\n\r\n");
    CHECK_EQ_INT(parse_result(input, true), CELLOTA_NET_HTTP_TOO_MANY_HEADERS);
}

static void test_bad_content_length(void)
{
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_CONTENT_LENGTH);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_CONTENT_LENGTH);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_CONTENT_LENGTH);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false),
                 CELLOTA_NET_HTTP_BAD_CONTENT_LENGTH);
    CHECK_EQ_INT(
        parse_result("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", false),
        CELLOTA_NET_HTTP_BAD_CONTENT_LENGTH);
    CHECK_EQ_INT(
        parse_result("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false),
        CELLOTA_OK);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length: 4294967295\r\n\r\n", false),
                 CELLOTA_IN_PROGRESS);
}

static void test_unsupported_transfer_encoding(void)
{
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false),
                 CELLOTA_NET_HTTP_UNSUPPORTED_TRANSFER_ENCODING);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n"
                              "Content-Length: 1\r\n\r\nx",
                              false),
                 CELLOTA_OK);
}

static void test_bad_chunks(void)
{
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char input[256];
    static const char *const bodies[] = {
        "zz\r\n",           /* not hexadecimal */
        "\r\n",             /* empty size */
        "5\r\nhelloXX\r\n", /* no CRLF after the data */
        "100000000\r\n",    /* more than 32 bits */
        "5 x\r\nhello\r\n", /* junk after the size */
        ";ext\r\n",         /* extension without size */
        "-5\r\n",
    };
    size_t index;
    for (index = 0; index < sizeof(bodies) / sizeof(bodies[0]); index++) {
        snprintf(input, sizeof(input), "%s%s", head, bodies[index]);
        CHECK_EQ_INT(parse_result(input, true), CELLOTA_NET_HTTP_BAD_CHUNK);
    }
    /* Leading zeros beyond 8 digits are fine; the value is what counts. */
    snprintf(input, sizeof(input), "%s0000000000001\r\nx\r\n0\r\n\r\n", head);
    CHECK_EQ_INT(parse_result(input, false), CELLOTA_OK);
    /* A chunk-size line longer than the buffer. */
    {
        static outcome out;
        char long_line[300];
        parse_case test = {long_line, 0, false, true, 64, 0};
        snprintf(long_line, sizeof(long_line), "%s5;%0100d\r\nhello\r\n0\r\n\r\n", head, 0);
        run_all(&test, &out);
        CHECK_EQ_INT(out.result, CELLOTA_NET_HTTP_BAD_CHUNK);
    }
}

static void test_bad_content_range(void)
{
    static const char *const values[] = {
        "bytes 5-4/10",  "bytes 0-10/10", "bytes 0-/10",   "bytes -5/10",
        "bytes 0-5",     "items 0-5/10",  "bytes */*",     "bytes 0-5/x",
        "bytes 0-5/1 0", "bytes=0-5/10",  "bytes 0 -5/10",
    };
    char input[256];
    size_t index;
    for (index = 0; index < sizeof(values) / sizeof(values[0]); index++) {
        snprintf(input, sizeof(input), "HTTP/1.1 206 Partial Content\r\nContent-Range: %s\r\n\r\n",
                 values[index]);
        if (parse_result(input, true) != CELLOTA_NET_HTTP_BAD_CONTENT_RANGE) {
            CHECK(!"a bad Content-Range was accepted");
            fprintf(stderr, "  Content-Range: %s\n", values[index]);
        }
    }
}

static void test_early_close(void)
{
    CHECK_EQ_INT(parse_result("", true), CELLOTA_NET_HTTP_NO_RESPONSE);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Le", true),
                 CELLOTA_NET_HTTP_HEADERS_TRUNCATED);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", true),
                 CELLOTA_NET_HTTP_BODY_TRUNCATED);
    CHECK_EQ_INT(
        parse_result("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true),
        CELLOTA_NET_HTTP_BODY_TRUNCATED);
    CHECK_EQ_INT(
        parse_result("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true),
        CELLOTA_NET_HTTP_BODY_TRUNCATED);
    CHECK_EQ_INT(parse_result("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", true),
                 CELLOTA_NET_HTTP_BODY_TRUNCATED);
}

static void test_callback_errors_stop_the_parser(void)
{
    static outcome out;
    parse_case test = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 0, false, false, 0, 4};
    enum split_mode mode;
    for (mode = SPLIT_WHOLE; mode <= SPLIT_IN_PLACE; mode++) {
        run(&test, mode, 40, &out);
        CHECK_EQ_INT(out.result, CELLOTA_IMAGE_TOO_LONG);
        CHECK(out.body_length >= 4 && out.body_length <= 10);
    }
}

static void test_finish_and_feed_after_the_end(void)
{
    cellota_http_parser parser;
    cellota_http_response response;
    char line[64];
    size_t consumed = 99;
    const char *input = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ_INT(cellota_http_parser_begin(&parser, &response, line, 8, false, NULL),
                 CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_http_parser_begin(&parser, &response, line, sizeof(line), false, NULL),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_http_parser_feed(&parser, (const uint8_t *)input, strlen(input), NULL),
                 CELLOTA_OK);
    CHECK_EQ_INT(response.status, 404);
    CHECK_EQ_INT(cellota_http_parser_feed(&parser, (const uint8_t *)"x", 1, &consumed), CELLOTA_OK);
    CHECK_EQ_INT(consumed, 0);
    CHECK_EQ_INT(cellota_http_parser_finish(&parser), CELLOTA_OK);
}

int main(void)
{
    RUN(test_content_length_body);
    RUN(test_bytes_after_the_response_are_left);
    RUN(test_chunked_body_with_extensions_and_trailers);
    RUN(test_chunked_overrides_content_length);
    RUN(test_body_until_close);
    RUN(test_bare_line_feeds);
    RUN(test_partial_content_and_range_headers);
    RUN(test_responses_without_body);
    RUN(test_interim_responses_are_skipped);
    RUN(test_location_reaches_the_header_callback);
    RUN(test_long_etag_is_not_kept);
    RUN(test_malformed_status_lines);
    RUN(test_malformed_headers);
    RUN(test_header_line_limit);
    RUN(test_header_count_limit);
    RUN(test_bad_content_length);
    RUN(test_unsupported_transfer_encoding);
    RUN(test_bad_chunks);
    RUN(test_bad_content_range);
    RUN(test_early_close);
    RUN(test_callback_errors_stop_the_parser);
    RUN(test_finish_and_feed_after_the_end);
    return test_summary();
}
