/*
 * The HTTP client against a real nginx on loopback (started here, on a free port, stopped at
 * exit), over the Linux socket port: a 512 KiB random file fetched whole, from the middle, in a
 * range, resumed after a cut, by HEAD, chunked and delimited by close, through redirects; 404,
 * 416, 503, too many redirects, keep-alive reuse, a refused connection and a TLS URL. Bodies are
 * checked byte-exact with SHA-256.
 */
#include "test.h"

#include "core/error.h"
#include "net/http.h"
#include "posix_socket.h"
#include "support/servers.h"

#include <mbedtls/sha256.h>
#include <unistd.h>

#define FILE_SIZE (512u * 1024u)

static uint8_t file_data[FILE_SIZE];
static test_server web;
static char base_url[64];

typedef struct sink {
    mbedtls_sha256_context hash;
    uint32_t received;
    uint32_t body_offset;
    uint32_t stop_after; /* on_body fails once this many bytes arrived (0: never) */
} sink;

static int on_response(void *context, const cellota_http_response *response, uint32_t body_offset)
{
    sink *target = context;
    (void)response;
    target->body_offset = body_offset;
    return CELLOTA_OK;
}

static int on_body(void *context, const uint8_t *data, size_t length)
{
    sink *target = context;
    if (target->stop_after && target->received + length > target->stop_after)
        length = target->stop_after - target->received;
    mbedtls_sha256_update_ret(&target->hash, data, length);
    target->received += (uint32_t)length;
    if (target->stop_after && target->received >= target->stop_after)
        return CELLOTA_TIMEOUT; /* stands for any cut: a link loss, a reset */
    return CELLOTA_OK;
}

static void sink_begin(sink *target)
{
    memset(target, 0, sizeof(*target));
    mbedtls_sha256_init(&target->hash);
    mbedtls_sha256_starts_ret(&target->hash, 0);
}

static bool sink_matches(sink *target, uint32_t first, uint32_t length)
{
    uint8_t got[32], expected[32];
    mbedtls_sha256_finish_ret(&target->hash, got);
    mbedtls_sha256_free(&target->hash);
    mbedtls_sha256_ret(file_data + first, length, expected, 0);
    return target->received == length && memcmp(got, expected, 32) == 0;
}

typedef struct client_setup {
    cellota_posix_socket socket;
    cellota_http_client client;
    char buffer[1024];
    char url[256];
} client_setup;

static void client_begin(client_setup *setup, size_t buffer_size)
{
    cellota_http_config config;
    cellota_posix_socket_init(&setup->socket);
    cellota_http_config_default(&config, setup->buffer, buffer_size, setup->url,
                                sizeof(setup->url));
    config.request_timeout_ms = 30000;
    CHECK_EQ_INT(cellota_http_init(&setup->client, &setup->socket.socket, &config), CELLOTA_OK);
}

static void client_end(client_setup *setup)
{
    cellota_http_close(&setup->client);
    cellota_http_poll(&setup->client, test_now_ms());
}

static cellota_http_request request_for(const char *path, sink *target)
{
    static char url[128];
    cellota_http_request request;
    memset(&request, 0, sizeof(request));
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    request.url = url;
    request.on_response = on_response;
    request.on_body = on_body;
    request.context = target;
    return request;
}

static int run(client_setup *setup, const cellota_http_request *request)
{
    int result = cellota_http_begin(&setup->client, request, test_now_ms());
    while (result == CELLOTA_IN_PROGRESS) {
        result = cellota_http_poll(&setup->client, test_now_ms());
        if (result == CELLOTA_IN_PROGRESS)
            test_sleep_ms(1);
    }
    return result;
}

static int fetch(const char *path, sink *target, client_setup *setup)
{
    cellota_http_request request = request_for(path, target);
    sink_begin(target);
    return run(setup, &request);
}

static void test_whole_file(void)
{
    static client_setup setup;
    static sink target;
    client_begin(&setup, 256);
    CHECK_EQ_INT(fetch("/image.bin", &target, &setup), CELLOTA_OK);
    CHECK(sink_matches(&target, 0, FILE_SIZE));
    CHECK_EQ_INT(setup.client.response.status, 200);
    CHECK_EQ_INT(setup.client.response.content_length, FILE_SIZE);
    CHECK(setup.client.response.etag[0] == '"');
    client_end(&setup);
}

static void test_range_from_the_middle_and_a_bounded_range(void)
{
    static client_setup setup;
    static sink target;
    cellota_http_request request;
    client_begin(&setup, 512);
    request = request_for("/image.bin", &target);
    request.has_range = true;
    request.range_first = 200000;
    request.range_last = CELLOTA_HTTP_RANGE_TO_END;
    sink_begin(&target);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_OK);
    CHECK_EQ_INT(setup.client.response.status, 206);
    CHECK_EQ_INT(target.body_offset, 200000);
    CHECK_EQ_INT(setup.client.response.range_total, FILE_SIZE);
    CHECK(sink_matches(&target, 200000, FILE_SIZE - 200000));

    request.range_first = 1000;
    request.range_last = 1999;
    sink_begin(&target);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_OK);
    CHECK(sink_matches(&target, 1000, 1000));
    client_end(&setup);
}

/* What the agent does: the download is cut, and goes on with Range from where it stopped. */
static void test_resume_after_a_cut(void)
{
    static client_setup setup;
    static sink target;
    cellota_http_request request;
    uint8_t got[32], expected[32];
    uint32_t offset = 0;
    int attempts = 0;
    client_begin(&setup, 256);
    sink_begin(&target);
    request = request_for("/image.bin", &target);
    while (offset < FILE_SIZE && attempts++ < 10) {
        int result;
        request.has_range = offset > 0;
        request.range_first = offset;
        request.range_last = CELLOTA_HTTP_RANGE_TO_END;
        target.stop_after = offset + 150000 < FILE_SIZE ? offset + 150000 : 0;
        result = run(&setup, &request);
        CHECK(result == (target.stop_after ? CELLOTA_TIMEOUT : CELLOTA_OK));
        CHECK_EQ_INT(target.body_offset, offset);
        offset = target.received;
    }
    CHECK_EQ_INT(attempts, 4);
    mbedtls_sha256_finish_ret(&target.hash, got);
    mbedtls_sha256_ret(file_data, FILE_SIZE, expected, 0);
    CHECK_EQ_MEM(got, expected, 32);
    client_end(&setup);
}

static void test_head(void)
{
    static client_setup setup;
    static sink target;
    cellota_http_request request;
    char etag[CELLOTA_HTTP_ETAG_MAX + 1];
    client_begin(&setup, 256);
    CHECK_EQ_INT(fetch("/image.bin", &target, &setup), CELLOTA_OK);
    sink_matches(&target, 0, FILE_SIZE);
    snprintf(etag, sizeof(etag), "%s", setup.client.response.etag);
    request = request_for("/image.bin", &target);
    request.method = CELLOTA_HTTP_HEAD;
    sink_begin(&target);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_OK);
    CHECK_EQ_INT(setup.client.response.content_length, FILE_SIZE);
    CHECK_EQ_STR(setup.client.response.etag, etag);
    CHECK_EQ_INT(target.received, 0);
    mbedtls_sha256_free(&target.hash);
    client_end(&setup);
}

static void test_status_errors(void)
{
    static client_setup setup;
    static sink target;
    cellota_http_request request;
    client_begin(&setup, 256);
    CHECK_EQ_INT(fetch("/missing.bin", &target, &setup), CELLOTA_NET_HTTP_NOT_FOUND);
    CHECK_EQ_INT(setup.client.response.status, 404);
    CHECK_EQ_INT(target.received, 0);
    CHECK_EQ_INT(fetch("/unavailable", &target, &setup), CELLOTA_NET_HTTP_SERVICE_UNAVAILABLE);
    request = request_for("/image.bin", &target);
    request.has_range = true;
    request.range_first = FILE_SIZE;
    request.range_last = CELLOTA_HTTP_RANGE_TO_END;
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_NET_HTTP_RANGE_NOT_SATISFIABLE);
    CHECK_EQ_INT(setup.client.response.range_total, FILE_SIZE);
    mbedtls_sha256_free(&target.hash);
    client_end(&setup);
}

static void test_redirects(void)
{
    static client_setup setup;
    static sink target;
    client_begin(&setup, 256);
    CHECK_EQ_INT(fetch("/old.bin", &target, &setup), CELLOTA_OK);
    CHECK(sink_matches(&target, 0, FILE_SIZE));
    CHECK_EQ_INT(setup.client.redirects, 1);
    CHECK_EQ_INT(fetch("/hop1", &target, &setup), CELLOTA_NET_HTTP_TOO_MANY_REDIRECTS);
    CHECK_EQ_INT(setup.client.redirects, 3);
    mbedtls_sha256_free(&target.hash);
    client_end(&setup);
}

static void test_chunked_and_close_delimited_bodies(void)
{
    static client_setup setup;
    static sink target;
    client_begin(&setup, 256);
    CHECK_EQ_INT(fetch("/chunked/image.bin", &target, &setup), CELLOTA_OK);
    CHECK(setup.client.response.chunked);
    CHECK(!setup.client.response.has_content_length);
    CHECK(sink_matches(&target, 0, FILE_SIZE));
    CHECK_EQ_INT(fetch("/close/image.bin", &target, &setup), CELLOTA_OK);
    CHECK(!setup.client.response.chunked);
    CHECK(!setup.client.response.has_content_length);
    CHECK(setup.client.response.connection_close);
    CHECK(sink_matches(&target, 0, FILE_SIZE));
    client_end(&setup);
}

static void test_keep_alive_uses_one_connection(void)
{
    static client_setup setup;
    static sink target;
    char log[400];
    cellota_http_request request;
    int before;
    client_begin(&setup, 256);
    snprintf(log, sizeof(log), "%s/access.log", web.directory);
    before = test_file_count(log, "GET /version.txt");
    request = request_for("/version.txt", &target);
    request.keep_alive = true;
    sink_begin(&target);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_OK);
    sink_begin(&target);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_OK);
    CHECK_EQ_INT(target.received, 6);
    mbedtls_sha256_free(&target.hash);
    CHECK(setup.client.reused);
    CHECK(test_file_wait_for(log, " 2 \"GET /version.txt HTTP/1.1\" 200", 2000));
    CHECK_EQ_INT(test_file_count(log, "GET /version.txt"), before + 2);
    client_end(&setup);
}

static void test_connection_failures(void)
{
    static client_setup setup;
    static sink target;
    cellota_http_request request;
    char url[64];
    int holder;
    client_begin(&setup, 256);
    request = request_for("/", &target);
    /* held, not merely free: another test's server could take a free port before the connect */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", test_refusing_port(&holder));
    request.url = url;
    sink_begin(&target);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_SOCKET_REFUSED);
    close(holder);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/", web.port);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_NET_SOCKET_TLS_UNSUPPORTED);
    /* A name, resolved locally. */
    snprintf(url, sizeof(url), "http://localhost:%u/version.txt", web.port);
    CHECK_EQ_INT(run(&setup, &request), CELLOTA_OK);
    mbedtls_sha256_free(&target.hash);
    client_end(&setup);
}

static int write_file(const char *path, const void *data, size_t length)
{
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    if (fwrite(data, 1, length, file) != length) {
        fclose(file);
        return -1;
    }
    return fclose(file);
}

int main(void)
{
    static char files[300], path[400], extra[2048];
    uint32_t state = 0x12345678u, index;
    for (index = 0; index < FILE_SIZE; index++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        file_data[index] = (uint8_t)(state >> 24);
    }
    if (test_temp_directory(files, sizeof(files)) != 0)
        return 1;
    snprintf(path, sizeof(path), "%s/image.bin", files);
    CHECK_EQ_INT(write_file(path, file_data, FILE_SIZE), 0);
    snprintf(path, sizeof(path), "%s/version.txt", files);
    CHECK_EQ_INT(write_file(path, "1.4.0\n", 6), 0);
    /* sub_filter with a pattern that never occurs drops Content-Length and leaves the body as
     * it is: nginx then sends it chunked, or (chunked_transfer_encoding off) until close. */
    snprintf(extra, sizeof(extra),
             "location = /old.bin { return 302 /image.bin; }\n"
             "location = /hop1 { return 301 /hop2; }\n"
             "location = /hop2 { return 302 /hop3; }\n"
             "location = /hop3 { return 307 /hop4; }\n"
             "location = /hop4 { return 308 /image.bin; }\n"
             "location = /unavailable { return 503; }\n"
             "location /chunked/ { alias %s/; sub_filter_types *; "
             "sub_filter 'cellota-pattern-never-present' ''; }\n"
             "location /close/ { alias %s/; sub_filter_types *; "
             "sub_filter 'cellota-pattern-never-present' ''; chunked_transfer_encoding off; }\n",
             files, files);
    if (test_nginx_start(&web, files, extra) != 0) {
        fprintf(stderr, "test_http_nginx: nginx did not start (scripts/install-deps.sh)\n");
        return 1;
    }
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", web.port);
    RUN(test_whole_file);
    RUN(test_range_from_the_middle_and_a_bounded_range);
    RUN(test_resume_after_a_cut);
    RUN(test_head);
    RUN(test_status_errors);
    RUN(test_redirects);
    RUN(test_chunked_and_close_delimited_bodies);
    RUN(test_keep_alive_uses_one_connection);
    RUN(test_connection_failures);
    test_server_stop(&web);
    return test_summary();
}
