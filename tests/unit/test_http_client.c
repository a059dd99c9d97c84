/*
 * The HTTP client over the memory socket: what it sends, how it reads answers cut anywhere, and
 * every way a request ends -- ranges, redirects, keep-alive, status errors, timeouts, closes.
 * Also the URL parser it relies on.
 */
#include "test.h"

#include "core/error.h"
#include "net/http.h"
#include "net/url.h"
#include "support/memory_socket.h"

#define BODY_MAX 8192

typedef struct download {
    uint8_t body[BODY_MAX];
    size_t length;
    int response_calls;
    uint32_t body_offset;
    int fail_with; /* on_body returns it when set */
} download;

static int on_response(void *context, const cellota_http_response *response, uint32_t body_offset)
{
    download *target = context;
    (void)response;
    target->response_calls++;
    target->body_offset = body_offset;
    target->length = 0; /* a consumer restarting from body_offset */
    return CELLOTA_OK;
}

static int on_body(void *context, const uint8_t *data, size_t length)
{
    download *target = context;
    if (target->fail_with)
        return target->fail_with;
    if (target->length + length > BODY_MAX)
        return CELLOTA_BUFFER_TOO_SMALL;
    memcpy(target->body + target->length, data, length);
    target->length += length;
    return CELLOTA_OK;
}

/* A scripted server: each complete request on a connection gets the next response. */
typedef struct script {
    const char *responses[8];
    bool close_after[8];
    size_t count, served;
    unsigned connection;
    size_t served_on_connection;
} script;

static size_t count_requests(const memory_socket *socket)
{
    size_t length, index, count = 0;
    const uint8_t *sent = memory_socket_connection_sent(socket, &length);
    for (index = 0; index + 4 <= length; index++)
        count += memcmp(sent + index, "\r\n\r\n", 4) == 0;
    return count;
}

static void serve(memory_socket *socket, script *server)
{
    if (!server)
        return;
    if (socket->opens != server->connection) {
        server->connection = socket->opens;
        server->served_on_connection = 0;
    }
    if (socket->state != CELLOTA_SOCKET_STATE_OPEN)
        return;
    while (count_requests(socket) > server->served_on_connection &&
           server->served < server->count) {
        memory_socket_push_text(socket, server->responses[server->served]);
        if (server->close_after[server->served])
            memory_socket_peer_close(socket);
        server->served++;
        server->served_on_connection++;
    }
}

typedef struct fixture {
    memory_socket socket;
    cellota_http_client client;
    char buffer[256];
    char url[128];
    download target;
    uint32_t now;
} fixture;

static void setup(fixture *f)
{
    cellota_http_config config;
    memset(f, 0, sizeof(*f));
    memory_socket_init(&f->socket);
    cellota_http_config_default(&config, f->buffer, sizeof(f->buffer), f->url, sizeof(f->url));
    config.request_timeout_ms = 600000;
    CHECK_EQ_INT(cellota_http_init(&f->client, &f->socket.socket, &config), CELLOTA_OK);
    f->now = 1000;
}

static void teardown(fixture *f)
{
    memory_socket_free(&f->socket);
}

static cellota_http_request get(fixture *f, const char *url)
{
    cellota_http_request request;
    memset(&request, 0, sizeof(request));
    request.method = CELLOTA_HTTP_GET;
    request.url = url;
    request.on_body = on_body;
    request.context = &f->target;
    return request;
}

/* Begins, then polls every 10 ms of virtual time until the request ends. */
static int run(fixture *f, const cellota_http_request *request, script *server)
{
    int result = cellota_http_begin(&f->client, request, f->now);
    int polls = 0;
    while (result == CELLOTA_IN_PROGRESS && polls++ < 100000) {
        serve(&f->socket, server);
        f->now += 10;
        result = cellota_http_poll(&f->client, f->now);
    }
    return result;
}

static bool sent_contains(const fixture *f, const char *text)
{
    size_t length = strlen(text), index;
    for (index = 0; index + length <= f->socket.sent_length; index++) {
        if (memcmp(f->socket.sent + index, text, length) == 0)
            return true;
    }
    return false;
}

/* --- URLs -------------------------------------------------------------------------------- */

static int parse_url(const char *text, cellota_url *url)
{
    return cellota_url_parse(url, text, strlen(text));
}

static void test_url_parsing(void)
{
    cellota_url url;
    CHECK_EQ_INT(parse_url("http://example.com/fw/image.ebin?x=1#frag", &url), CELLOTA_OK);
    CHECK_EQ_INT(url.kind, CELLOTA_SOCKET_TCP);
    CHECK_EQ_INT(url.port, 80);
    CHECK_EQ_INT(url.host_length, 11);
    CHECK_EQ_MEM(url.host, "example.com", 11);
    CHECK_EQ_INT(url.path_length, strlen("/fw/image.ebin?x=1"));
    CHECK_EQ_INT(parse_url("HTTPS://a-b.example_x.org:8443", &url), CELLOTA_OK);
    CHECK_EQ_INT(url.kind, CELLOTA_SOCKET_TLS);
    CHECK_EQ_INT(url.port, 8443);
    CHECK_EQ_INT(url.path_length, 0);
    CHECK_EQ_INT(parse_url("https://h", &url), CELLOTA_OK);
    CHECK_EQ_INT(url.port, 443);
    CHECK_EQ_INT(parse_url("http://127.0.0.1:65535?q", &url), CELLOTA_OK);
    CHECK_EQ_INT(url.path_length, 2);

    CHECK_EQ_INT(parse_url("ftp://example.com/", &url), CELLOTA_NET_URL_BAD_SCHEME);
    CHECK_EQ_INT(parse_url("example.com/x", &url), CELLOTA_NET_URL_BAD_SCHEME);
    CHECK_EQ_INT(parse_url("http:/example.com", &url), CELLOTA_NET_URL_BAD_SCHEME);
    CHECK_EQ_INT(parse_url("http://", &url), CELLOTA_NET_URL_BAD_HOST);
    CHECK_EQ_INT(parse_url("http:///path", &url), CELLOTA_NET_URL_BAD_HOST);
    CHECK_EQ_INT(parse_url("http://user:pw@example.com/", &url), CELLOTA_NET_URL_BAD_HOST);
    CHECK_EQ_INT(parse_url("http://[::1]:80/", &url), CELLOTA_NET_URL_BAD_HOST);
    CHECK_EQ_INT(parse_url("http://:80/", &url), CELLOTA_NET_URL_BAD_HOST);
    CHECK_EQ_INT(parse_url("http://h:/", &url), CELLOTA_NET_URL_BAD_PORT);
    CHECK_EQ_INT(parse_url("http://h:0/", &url), CELLOTA_NET_URL_BAD_PORT);
    CHECK_EQ_INT(parse_url("http://h:65536/", &url), CELLOTA_NET_URL_BAD_PORT);
    CHECK_EQ_INT(parse_url("http://h:8o/", &url), CELLOTA_NET_URL_BAD_PORT);
    CHECK_EQ_INT(parse_url("http://h:4294967297/", &url), CELLOTA_NET_URL_BAD_PORT);
    CHECK_EQ_INT(parse_url("http://h:65535/", &url), CELLOTA_OK);
    CHECK_EQ_INT(parse_url("http://h/a b", &url), CELLOTA_NET_URL_BAD_PATH);
    CHECK_EQ_INT(parse_url("http://h/a\nb", &url), CELLOTA_NET_URL_BAD_PATH);
    CHECK_EQ_INT(cellota_url_parse(&url, "http://h/\0", 10), CELLOTA_NET_URL_BAD_PATH);
}

/* --- requests ---------------------------------------------------------------------------- */

static const char *const OK_HELLO = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";

static void test_get_sends_a_minimal_request(void)
{
    static fixture f;
    script server = {{OK_HELLO}, {false}, 1, 0, 0, 0};
    cellota_http_request request;
    size_t length;
    const char *expected = "GET /fw/image.ebin?v=2 HTTP/1.1\r\nHost: example.com\r\n"
                           "Connection: close\r\n\r\n";
    setup(&f);
    request = get(&f, "http://example.com/fw/image.ebin?v=2");
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.target.length, 11);
    CHECK_EQ_MEM(f.target.body, "hello world", 11);
    CHECK_EQ_STR(f.socket.host, "example.com");
    CHECK_EQ_INT(f.socket.port, 80);
    CHECK_EQ_INT(f.socket.kind, CELLOTA_SOCKET_TCP);
    memory_socket_connection_sent(&f.socket, &length);
    CHECK_EQ_INT(length, strlen(expected));
    CHECK_EQ_MEM(f.socket.sent, expected, strlen(expected));
    CHECK_EQ_INT(f.client.response.status, 200);
    /* Not kept alive: closed at the end. */
    CHECK(f.socket.state == CELLOTA_SOCKET_STATE_CLOSING ||
          f.socket.state == CELLOTA_SOCKET_STATE_CLOSED);
    CHECK_EQ_INT(cellota_http_poll(&f.client, f.now + 10), CELLOTA_OK); /* the result stays */
    teardown(&f);
}

static void test_any_cut_of_the_stream_gives_the_same_body(void)
{
    static fixture f;
    static char response[8192];
    uint8_t expected[4000];
    size_t index, header;
    unsigned seed;
    header = (size_t)snprintf(response, sizeof(response),
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (index = 0; index < sizeof(expected); index++)
        expected[index] = (uint8_t)('a' + (index * 7) % 26);
    /* Chunks of 1000 bytes. */
    for (index = 0; index < sizeof(expected); index += 1000) {
        header += (size_t)snprintf(response + header, sizeof(response) - header, "3e8\r\n");
        memcpy(response + header, expected + index, 1000);
        header += 1000;
        header += (size_t)snprintf(response + header, sizeof(response) - header, "\r\n");
    }
    snprintf(response + header, sizeof(response) - header, "0\r\n\r\n");
    for (seed = 1; seed <= 40; seed++) {
        script server = {{response}, {false}, 1, 0, 0, 0};
        cellota_http_request request;
        setup(&f);
        f.socket.receive_limit = seed < 10 ? seed : 300;
        f.socket.random_receive = seed >= 10;
        f.socket.send_limit = seed % 5 + 1;
        f.socket.seed = seed;
        f.socket.open_delay_polls = seed % 3;
        request = get(&f, "http://h/chunked");
        CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
        CHECK_EQ_INT(f.target.length, sizeof(expected));
        CHECK_EQ_MEM(f.target.body, expected, sizeof(expected));
        teardown(&f);
    }
}

static void test_body_until_close(void)
{
    static fixture f;
    script server = {{"HTTP/1.0 200 OK\r\n\r\n1.4.0\n"}, {true}, 1, 0, 0, 0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/version");
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.target.length, 6);
    CHECK_EQ_MEM(f.target.body, "1.4.0\n", 6);
    teardown(&f);
}

static void test_host_header_names_a_non_default_port_and_extra_headers_go_out(void)
{
    static fixture f;
    script server = {{OK_HELLO}, {false}, 1, 0, 0, 0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://10.0.0.2:8080");
    request.extra_headers = "If-None-Match: \"abc\"\r\nUser-Agent: cellota\r\n";
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK(sent_contains(&f, "GET / HTTP/1.1\r\nHost: 10.0.0.2:8080\r\n"));
    CHECK(sent_contains(&f, "If-None-Match: \"abc\"\r\nUser-Agent: cellota\r\n\r\n"));
    CHECK_EQ_INT(f.socket.port, 8080);
    teardown(&f);
}

static void test_head_reports_size_without_body(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 200 OK\r\nContent-Length: 524288\r\nETag: \"x-1\"\r\n\r\n"},
                     {false},
                     1,
                     0,
                     0,
                     0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/image.ebin");
    request.method = CELLOTA_HTTP_HEAD;
    request.on_response = on_response;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK(sent_contains(&f, "HEAD /image.ebin HTTP/1.1\r\n"));
    CHECK_EQ_INT(f.target.response_calls, 1);
    CHECK_EQ_INT(f.client.response.content_length, 524288);
    CHECK_EQ_STR(f.client.response.etag, "\"x-1\"");
    CHECK_EQ_INT(f.target.length, 0);
    teardown(&f);
}

/* --- ranges ------------------------------------------------------------------------------ */

static int ranged(const char *response, uint32_t first, uint32_t last, bool with_on_response,
                  download *result)
{
    static fixture f;
    script server = {{response}, {false}, 1, 0, 0, 0};
    cellota_http_request request;
    int code;
    setup(&f);
    request = get(&f, "http://h/image.ebin");
    request.has_range = true;
    request.range_first = first;
    request.range_last = last;
    if (with_on_response)
        request.on_response = on_response;
    code = run(&f, &request, &server);
    *result = f.target;
    result->body_offset = f.client.body_offset;
    if (last == CELLOTA_HTTP_RANGE_TO_END)
        CHECK(sent_contains(&f, "\r\nRange: bytes=100-\r\n") || first != 100);
    teardown(&f);
    return code;
}

static void test_range_requests(void)
{
    static download result;
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-104/105\r\n"
                        "Content-Length: 5\r\n\r\nabcde",
                        100, CELLOTA_HTTP_RANGE_TO_END, false, &result),
                 CELLOTA_OK);
    CHECK_EQ_INT(result.body_offset, 100);
    CHECK_EQ_INT(result.length, 5);
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\n"
                        "Content-Length: 10\r\n\r\n0123456789",
                        0, 9, true, &result),
                 CELLOTA_OK);
    CHECK_EQ_INT(result.body_offset, 0);
    CHECK_EQ_INT(result.length, 10);
    /* A shorter range than asked is legal (the file ends). */
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-12/13\r\n"
                        "Content-Length: 3\r\n\r\nabc",
                        10, 99, false, &result),
                 CELLOTA_OK);
}

static void test_range_answers_that_do_not_match(void)
{
    static download result;
    /* Starts elsewhere. */
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-104/105\r\n"
                        "Content-Length: 105\r\n\r\n",
                        100, CELLOTA_HTTP_RANGE_TO_END, false, &result),
                 CELLOTA_NET_HTTP_RANGE_MISMATCH);
    CHECK_EQ_INT(result.length, 0);
    /* Goes past the asked end. */
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-20/100\r\n"
                        "Content-Length: 21\r\n\r\n",
                        0, 9, false, &result),
                 CELLOTA_NET_HTTP_RANGE_MISMATCH);
    /* No Content-Range. */
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n\r\nabcde", 100,
                        CELLOTA_HTTP_RANGE_TO_END, false, &result),
                 CELLOTA_NET_HTTP_BAD_CONTENT_RANGE);
    /* Content-Range and Content-Length disagree. */
    CHECK_EQ_INT(ranged("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-104/105\r\n"
                        "Content-Length: 4\r\n\r\nabcd",
                        100, CELLOTA_HTTP_RANGE_TO_END, false, &result),
                 CELLOTA_NET_HTTP_BAD_CONTENT_RANGE);
    /* 416: asked past the end; the total comes back. */
    {
        static fixture f;
        script server = {{"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */105\r\n"
                          "Content-Length: 0\r\n\r\n"},
                         {false},
                         1,
                         0,
                         0,
                         0};
        cellota_http_request request;
        setup(&f);
        request = get(&f, "http://h/image.ebin");
        request.has_range = true;
        request.range_first = 105;
        request.range_last = CELLOTA_HTTP_RANGE_TO_END;
        CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_NET_HTTP_RANGE_NOT_SATISFIABLE);
        CHECK_EQ_INT(f.client.response.range_total, 105);
        teardown(&f);
    }
}

static void test_partial_content_without_a_range_request(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/10\r\n"
                      "Content-Length: 5\r\n\r\nabcde"},
                     {false},
                     1,
                     0,
                     0,
                     0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/x");
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_NET_HTTP_RANGE_MISMATCH);
    teardown(&f);
}

static void test_whole_file_answering_a_range(void)
{
    static download result;
    const char *whole = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    /* Without on_response nobody could restart: refused before any byte is passed on. */
    CHECK_EQ_INT(ranged(whole, 4, CELLOTA_HTTP_RANGE_TO_END, false, &result),
                 CELLOTA_NET_HTTP_RANGE_IGNORED);
    CHECK_EQ_INT(result.length, 0);
    /* With it, the caller learns the body starts at 0 and takes it all. */
    CHECK_EQ_INT(ranged(whole, 4, CELLOTA_HTTP_RANGE_TO_END, true, &result), CELLOTA_OK);
    CHECK_EQ_INT(result.body_offset, 0);
    CHECK_EQ_INT(result.response_calls, 1);
    CHECK_EQ_INT(result.length, 10);
    CHECK_EQ_MEM(result.body, "0123456789", 10);
    /* A range from 0 answered whole is what was asked for. */
    CHECK_EQ_INT(ranged(whole, 0, CELLOTA_HTTP_RANGE_TO_END, false, &result), CELLOTA_OK);
}

/* --- status codes -------------------------------------------------------------------------- */

static void test_status_codes_are_named_errors(void)
{
    static const struct {
        const char *status;
        int expected;
    } cases[] = {
        {"304 Not Modified", CELLOTA_NET_HTTP_NOT_MODIFIED},
        {"400 Bad Request", CELLOTA_NET_HTTP_BAD_REQUEST},
        {"401 Unauthorized", CELLOTA_NET_HTTP_UNAUTHORIZED},
        {"403 Forbidden", CELLOTA_NET_HTTP_FORBIDDEN},
        {"404 Not Found", CELLOTA_NET_HTTP_NOT_FOUND},
        {"410 Gone", CELLOTA_NET_HTTP_GONE},
        {"429 Too Many Requests", CELLOTA_NET_HTTP_CLIENT_ERROR},
        {"500 Internal Server Error", CELLOTA_NET_HTTP_SERVER_ERROR},
        {"502 Bad Gateway", CELLOTA_NET_HTTP_GATEWAY_TIMEOUT},
        {"503 Service Unavailable", CELLOTA_NET_HTTP_SERVICE_UNAVAILABLE},
        {"504 Gateway Timeout", CELLOTA_NET_HTTP_GATEWAY_TIMEOUT},
        {"599 Odd", CELLOTA_NET_HTTP_SERVER_ERROR},
        {"300 Multiple Choices", CELLOTA_NET_HTTP_UNEXPECTED_STATUS},
        {"101 Switching Protocols", CELLOTA_NET_HTTP_UNEXPECTED_STATUS},
        {"700 Odd", CELLOTA_NET_HTTP_UNEXPECTED_STATUS},
    };
    size_t index;
    for (index = 0; index < sizeof(cases) / sizeof(cases[0]); index++) {
        static fixture f;
        static char response[256];
        script server = {{response}, {false}, 1, 0, 0, 0};
        cellota_http_request request;
        setup(&f);
        snprintf(response, sizeof(response),
                 "HTTP/1.1 %s\r\nContent-Length: 20\r\n\r\n<html>error</html>\r\n",
                 cases[index].status);
        request = get(&f, "http://h/x");
        request.keep_alive = true;
        CHECK_EQ_INT(run(&f, &request, &server), cases[index].expected);
        CHECK_EQ_INT(f.target.length, 0); /* an error page is never passed on */
        CHECK_EQ_INT(f.socket.closes, 1); /* nor downloaded: the connection is dropped */
        teardown(&f);
    }
}

/* --- redirects --------------------------------------------------------------------------- */

static void test_redirect_to_another_host(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 302 Found\r\nLocation: http://cdn.example:8080/b/image.ebin\r\n"
                      "Content-Length: 5\r\n\r\nmoved",
                      OK_HELLO},
                     {false, false},
                     2,
                     0,
                     0,
                     0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://example.com/a/image.ebin");
    request.has_range = true;
    request.range_first = 0;
    request.range_last = CELLOTA_HTTP_RANGE_TO_END;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.opens, 2);
    CHECK_EQ_STR(f.socket.host, "cdn.example");
    CHECK_EQ_INT(f.socket.port, 8080);
    CHECK(sent_contains(&f, "GET /b/image.ebin HTTP/1.1\r\nHost: cdn.example:8080\r\n"
                            "Range: bytes=0-\r\n"));
    CHECK_EQ_INT(f.client.redirects, 1);
    CHECK_EQ_INT(f.target.length, 11); /* the redirect's own body is not passed on */
    teardown(&f);
}

static void test_redirect_on_the_same_kept_alive_connection(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 301 Moved Permanently\r\nLocation: /new?x=1#top\r\n"
                      "Content-Length: 0\r\n\r\n",
                      "HTTP/1.1 308 Permanent Redirect\r\nLocation: http://example.com/final\r\n"
                      "Content-Length: 0\r\n\r\n",
                      OK_HELLO},
                     {false, false, false},
                     3,
                     0,
                     0,
                     0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://example.com/old");
    request.keep_alive = true;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.opens, 1);
    CHECK(sent_contains(&f, "GET /new?x=1 HTTP/1.1\r\nHost: example.com\r\n"));
    CHECK(sent_contains(&f, "GET /final HTTP/1.1\r\n"));
    CHECK_EQ_INT(f.client.redirects, 2);
    teardown(&f);
}

static void test_redirect_to_https_asks_for_tls(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 307 Temporary Redirect\r\nLocation: https://secure.example/x\r\n"
                      "Content-Length: 0\r\n\r\n",
                      OK_HELLO},
                     {false, false},
                     2,
                     0,
                     0,
                     0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://example.com/x");
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.kind, CELLOTA_SOCKET_TLS);
    CHECK_EQ_INT(f.socket.port, 443);
    CHECK(sent_contains(&f, "Host: secure.example\r\n"));
    teardown(&f);
}

static void test_redirect_limits_and_bad_locations(void)
{
    static const struct {
        const char *response;
        int expected;
    } cases[] = {
        {"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", CELLOTA_NET_HTTP_BAD_REDIRECT},
        {"HTTP/1.1 302 Found\r\nLocation: ftp://x/y\r\nContent-Length: 0\r\n\r\n",
         CELLOTA_NET_HTTP_BAD_REDIRECT},
        {"HTTP/1.1 302 Found\r\nLocation: relative/path\r\nContent-Length: 0\r\n\r\n",
         CELLOTA_NET_HTTP_BAD_REDIRECT},
        {"HTTP/1.1 302 Found\r\nLocation: /a b\r\nContent-Length: 0\r\n\r\n",
         CELLOTA_NET_HTTP_BAD_REDIRECT},
        {"HTTP/1.1 302 Found\r\nLocation: http://h/"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nContent-Length: 0\r\n\r\n",
         CELLOTA_NET_URL_TOO_LONG},
    };
    size_t index;
    for (index = 0; index < sizeof(cases) / sizeof(cases[0]); index++) {
        static fixture f;
        script server = {{cases[index].response}, {false}, 1, 0, 0, 0};
        cellota_http_request request;
        setup(&f);
        request = get(&f, "http://h/x");
        CHECK_EQ_INT(run(&f, &request, &server), cases[index].expected);
        teardown(&f);
    }
    {
        static fixture f;
        const char *hop = "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n";
        script server = {{hop, hop, hop, hop, hop}, {false}, 5, 0, 0, 0};
        cellota_http_request request;
        setup(&f);
        request = get(&f, "http://h/x");
        CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_NET_HTTP_TOO_MANY_REDIRECTS);
        CHECK_EQ_INT(f.client.redirects, CELLOTA_HTTP_MAX_REDIRECTS);
        CHECK_EQ_INT(f.socket.opens, CELLOTA_HTTP_MAX_REDIRECTS + 1);
        teardown(&f);
    }
}

/* --- keep-alive -------------------------------------------------------------------------- */

static void test_keep_alive_reuses_the_connection(void)
{
    static fixture f;
    script server = {
        {OK_HELLO, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye"}, {false, false}, 2, 0, 0, 0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/one");
    request.keep_alive = true;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK(sent_contains(&f, "Connection: keep-alive\r\n"));
    CHECK(f.socket.state == CELLOTA_SOCKET_STATE_OPEN);
    f.target.length = 0;
    request = get(&f, "http://h/two");
    request.keep_alive = true;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.opens, 1);
    CHECK_EQ_MEM(f.target.body, "bye", 3);
    /* Another host: a new connection. */
    request = get(&f, "http://other/three");
    server.responses[2] = OK_HELLO;
    server.count = 3;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.opens, 2);
    CHECK_EQ_STR(f.socket.host, "other");
    teardown(&f);
}

static void test_kept_alive_connection_closed_by_the_server_is_reopened(void)
{
    static fixture f;
    script server = {{OK_HELLO, OK_HELLO}, {true, false}, 2, 0, 0, 0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/one");
    request.keep_alive = true;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    /* The server closed after answering, while idle: the next request re-opens once. */
    f.target.length = 0;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.opens, 2);
    CHECK_EQ_INT(f.target.length, 11);
    teardown(&f);
}

static void test_server_asking_to_close_is_not_reused(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                      "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", OK_HELLO},
                     {false, false, false},
                     3,
                     0,
                     0,
                     0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/one");
    request.keep_alive = true;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_OK);
    CHECK_EQ_INT(f.socket.opens, 3);
    teardown(&f);
}

/* --- failures ----------------------------------------------------------------------------- */

static void test_early_close_and_link_loss(void)
{
    static fixture f;
    script server = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"}, {true}, 1, 0, 0, 0};
    cellota_http_request request;
    setup(&f);
    request = get(&f, "http://h/x");
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_NET_HTTP_BODY_TRUNCATED);
    CHECK_EQ_INT(f.client.response.body_received, 9);
    CHECK_EQ_INT(f.target.length, 9);
    teardown(&f);

    setup(&f);
    memset(&server, 0, sizeof(server));
    server.responses[0] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part";
    server.count = 1;
    f.socket.receive_limit = 7;
    request = get(&f, "http://h/x");
    CHECK_EQ_INT(cellota_http_begin(&f.client, &request, f.now), CELLOTA_IN_PROGRESS);
    while (f.target.length < 5 && f.now < 100000) {
        serve(&f.socket, &server);
        f.now += 10;
        CHECK_EQ_INT(cellota_http_poll(&f.client, f.now), CELLOTA_IN_PROGRESS);
    }
    memory_socket_fail(&f.socket, CELLOTA_SOCKET_LINK_LOST);
    CHECK_EQ_INT(cellota_http_begin(&f.client, &request, f.now), CELLOTA_BUSY);
    {
        int result, polls = 0;
        do {
            f.now += 10;
            result = cellota_http_poll(&f.client, f.now);
        } while (result == CELLOTA_IN_PROGRESS && polls++ < 100);
        CHECK_EQ_INT(result, CELLOTA_SOCKET_LINK_LOST);
    }
    CHECK_EQ_INT(f.target.length, 9); /* what arrived before the loss was passed on */
    teardown(&f);

    setup(&f);
    request = get(&f, "http://h/x");
    f.socket.connect_error = CELLOTA_SOCKET_REFUSED;
    CHECK_EQ_INT(run(&f, &request, NULL), CELLOTA_SOCKET_REFUSED);
    teardown(&f);

    setup(&f);
    request = get(&f, "http://h/x");
    f.socket.open_error = CELLOTA_SOCKET_HOST_NOT_FOUND;
    CHECK_EQ_INT(run(&f, &request, NULL), CELLOTA_SOCKET_HOST_NOT_FOUND);
    teardown(&f);

    setup(&f);
    request = get(&f, "http://h/x");
    memset(&server, 0, sizeof(server));
    server.responses[0] = "";
    server.close_after[0] = true;
    server.count = 1;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_NET_HTTP_NO_RESPONSE);
    teardown(&f);
}

static void test_timeouts(void)
{
    static fixture f;
    cellota_http_request request;
    uint32_t started;

    setup(&f);
    f.socket.never_connect = true;
    request = get(&f, "http://h/x");
    started = f.now;
    CHECK_EQ_INT(run(&f, &request, NULL), CELLOTA_NET_HTTP_CONNECT_TIMEOUT);
    CHECK(f.now - started >= CELLOTA_HTTP_CONNECT_TIMEOUT_MS &&
          f.now - started <= CELLOTA_HTTP_CONNECT_TIMEOUT_MS + 20);
    teardown(&f);

    setup(&f);
    request = get(&f, "http://h/x"); /* the server never answers */
    started = f.now;
    CHECK_EQ_INT(run(&f, &request, NULL), CELLOTA_NET_HTTP_IDLE_TIMEOUT);
    CHECK(f.now - started >= CELLOTA_HTTP_IDLE_TIMEOUT_MS &&
          f.now - started <= CELLOTA_HTTP_IDLE_TIMEOUT_MS + 40);
    teardown(&f);

    /* A server trickling one byte per poll never trips the idle timeout, only the total. */
    {
        static char response[512];
        script server = {{response}, {false}, 1, 0, 0, 0};
        setup(&f);
        f.client.config.request_timeout_ms = 500;
        f.socket.receive_limit = 1;
        snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n%0400d",
                 0);
        request = get(&f, "http://h/x");
        started = f.now;
        CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_NET_HTTP_REQUEST_TIMEOUT);
        CHECK(f.now - started >= 500 && f.now - started <= 520);
        teardown(&f);
    }
}

static void test_caller_errors_and_limits(void)
{
    static fixture f;
    script server = {{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"}, {false}, 1, 0, 0, 0};
    cellota_http_request request;
    cellota_http_config config;
    char small_buffer[64], small_url[16];
    char long_url[200];

    setup(&f);
    request = get(&f, "http://h/x");
    f.target.fail_with = CELLOTA_IMAGE_TOO_LONG;
    CHECK_EQ_INT(run(&f, &request, &server), CELLOTA_IMAGE_TOO_LONG);
    CHECK_EQ_INT(f.socket.closes, 1);
    teardown(&f);

    setup(&f);
    request = get(&f, "gopher://h/x");
    CHECK_EQ_INT(cellota_http_begin(&f.client, &request, f.now), CELLOTA_NET_URL_BAD_SCHEME);
    snprintf(long_url, sizeof(long_url), "http://h/%0150d", 0);
    request = get(&f, long_url);
    CHECK_EQ_INT(cellota_http_begin(&f.client, &request, f.now), CELLOTA_NET_URL_TOO_LONG);
    request = get(&f, "http://h/x");
    CHECK_EQ_INT(cellota_http_begin(&f.client, &request, f.now), CELLOTA_IN_PROGRESS);
    CHECK_EQ_INT(cellota_http_begin(&f.client, &request, f.now), CELLOTA_BUSY);
    cellota_http_close(&f.client);
    CHECK_EQ_INT(cellota_http_poll(&f.client, f.now), CELLOTA_SOCKET_CLOSED);
    teardown(&f);

    /* A request that does not fit the buffer. */
    memory_socket_init(&f.socket);
    cellota_http_config_default(&config, small_buffer, sizeof(small_buffer), f.url, sizeof(f.url));
    CHECK_EQ_INT(cellota_http_init(&f.client, &f.socket.socket, &config), CELLOTA_OK);
    request = get(&f, "http://a-rather-long-host-name.example.com/some/long/path/image.ebin");
    CHECK_EQ_INT(run(&f, &request, NULL), CELLOTA_NET_HTTP_REQUEST_TOO_LONG);
    teardown(&f);

    cellota_http_config_default(&config, small_buffer, 63, small_url, sizeof(small_url));
    CHECK_EQ_INT(cellota_http_init(&f.client, &f.socket.socket, &config), CELLOTA_INVALID_ARGUMENT);
    cellota_http_config_default(&config, small_buffer, 64, small_url, 15);
    CHECK_EQ_INT(cellota_http_init(&f.client, &f.socket.socket, &config), CELLOTA_INVALID_ARGUMENT);
}

int main(void)
{
    RUN(test_url_parsing);
    RUN(test_get_sends_a_minimal_request);
    RUN(test_any_cut_of_the_stream_gives_the_same_body);
    RUN(test_body_until_close);
    RUN(test_host_header_names_a_non_default_port_and_extra_headers_go_out);
    RUN(test_head_reports_size_without_body);
    RUN(test_range_requests);
    RUN(test_range_answers_that_do_not_match);
    RUN(test_partial_content_without_a_range_request);
    RUN(test_whole_file_answering_a_range);
    RUN(test_status_codes_are_named_errors);
    RUN(test_redirect_to_another_host);
    RUN(test_redirect_on_the_same_kept_alive_connection);
    RUN(test_redirect_to_https_asks_for_tls);
    RUN(test_redirect_limits_and_bad_locations);
    RUN(test_keep_alive_reuses_the_connection);
    RUN(test_kept_alive_connection_closed_by_the_server_is_reopened);
    RUN(test_server_asking_to_close_is_not_reused);
    RUN(test_early_close_and_link_loss);
    RUN(test_timeouts);
    RUN(test_caller_errors_and_limits);
    return test_summary();
}
