/*
 * Image hosting end to end in one process: a libmicrohttpd daemon configured as cellota-server's
 * (internal epoll threads, a pool, TURBO) on a free loopback port, whose handler calls
 * images_answer for files in a temporary store, and a socket client of our own that sends raw
 * requests and checks the raw answers: status line, every header that matters, the body byte
 * for byte against the file, and -- by sending the next request on the same connection -- that
 * HEAD and 304 answers carry no body and that keep-alive holds.
 */
#define _GNU_SOURCE
#include "server/images.h"
#include "support/servers.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMAGE_SIZE (512u * 1024u + 16u) /* a 512 KiB firmware's encrypted image */
#define IMAGE_TAG "4a1b9c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeef"
#define EMPTY_TAG "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HUGE_TAG "1111111111111111111111111111111111111111111111111111111111111111"
#define HUGE_SIZE 5000000123ull /* past 32 bits: 64-bit offsets, sparse on disk */
#define MISSING_TAG "0000000000000000000000000000000000000000000000000000000000000000"
#define FOLDER_TAG "2222222222222222222222222222222222222222222222222222222222222222"

static char store[256];
static uint8_t image[IMAGE_SIZE];
static uint16_t port;
static atomic_uint_fast64_t last_body_bytes; /* images_transfer of the latest answer */

/* ---- the server side: the handler the server's route is ------------------------------------ */

static enum MHD_Result on_request(void *context, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **request_state)
{
    static int seen;
    char path[512], tag[65];
    images_transfer transfer = {UINT64_MAX};
    enum MHD_Result result;

    (void)context;
    (void)version;
    (void)upload_data;
    if (!*request_state) { /* headers only: answer on the next call (see images.h) */
        *request_state = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* The test asks only for /images/<tag>.ebin with tags it chose. */
    snprintf(path, sizeof(path), "%s%s", store, url);
    snprintf(tag, sizeof(tag), "%.64s", url + strlen("/images/"));
    result = images_answer(connection, method, path, tag, "application/octet-stream", &transfer);
    atomic_store(&last_body_bytes, transfer.body_bytes);
    return result;
}

static struct MHD_Daemon *start_daemon(void)
{
    struct sockaddr_in address = {.sin_family = AF_INET};
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *daemon_handle;

    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_handle = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!daemon_handle)
        return NULL;
    info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    return daemon_handle;
}

/* ---- the client side: raw HTTP/1.1 on one connection ----------------------------------------- */

typedef struct connection {
    int socket;
    char buffer[1 << 16]; /* received, not yet consumed */
    size_t used;
} connection;

typedef struct response {
    int status;
    char head[4096]; /* status line and headers, NUL-terminated */
    uint8_t *body;
    size_t body_size;
} response;

static bool connection_open(connection *client)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval timeout = {.tv_sec = 10};

    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    client->used = 0;
    client->socket = socket(AF_INET, SOCK_STREAM, 0);
    if (client->socket < 0)
        return false;
    setsockopt(client->socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return connect(client->socket, (struct sockaddr *)&address, sizeof(address)) == 0;
}

static void connection_close(connection *client)
{
    close(client->socket);
}

/* Receives more bytes into the buffer; false on close, error or timeout. */
static bool receive_more(connection *client)
{
    ssize_t count;

    if (client->used == sizeof(client->buffer))
        return false;
    count = recv(client->socket, client->buffer + client->used,
                 sizeof(client->buffer) - client->used, 0);
    if (count <= 0)
        return false;
    client->used += (size_t)count;
    return true;
}

static void consume(connection *client, size_t count)
{
    memmove(client->buffer, client->buffer + count, client->used - count);
    client->used -= count;
}

/* The value of header `name` in `head` (case-insensitive name), copied into `value`; false when
 * absent. Fails the check when it appears twice. */
static bool header(const response *answer, const char *name, char *value, size_t capacity)
{
    const char *line = strstr(answer->head, "\r\n");
    bool found = false;
    size_t name_length = strlen(name);

    while (line && line[2] != '\0') {
        const char *start = line + 2, *end = strstr(start, "\r\n");
        if (!end)
            break;
        if ((size_t)(end - start) > name_length && start[name_length] == ':' &&
            strncasecmp(start, name, name_length) == 0) {
            const char *text = start + name_length + 1;
            size_t length;
            while (*text == ' ')
                text++;
            length = (size_t)(end - text);
            if (length >= capacity)
                length = capacity - 1;
            CHECK(!found); /* never twice */
            memcpy(value, text, length);
            value[length] = '\0';
            found = true;
        }
        line = end;
    }
    return found;
}

static bool has_header(const response *answer, const char *name)
{
    char value[256];
    return header(answer, name, value, sizeof(value));
}

static void check_header(const response *answer, const char *name, const char *expected)
{
    char value[256];
    if (!header(answer, name, value, sizeof(value))) {
        test_checks++;
        test_failures++;
        fprintf(stderr, "missing header %s in:\n%s\n", name, answer->head);
        return;
    }
    CHECK_EQ_STR(value, expected);
}

/*
 * Sends `request` (with its blank line) and reads one answer. The body is read by its
 * Content-Length unless `no_body` (HEAD, 304), whose headers end the answer.
 */
static bool exchange(connection *client, const char *request, bool no_body, response *answer)
{
    char length_text[32];
    char *end;
    size_t head_size, expected = 0;

    memset(answer, 0, sizeof(*answer));
    if (send(client->socket, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request))
        return false;
    while (!(end = memmem(client->buffer, client->used, "\r\n\r\n", 4)))
        if (!receive_more(client))
            return false;
    head_size = (size_t)(end - client->buffer) + 4;
    if (head_size >= sizeof(answer->head))
        return false;
    memcpy(answer->head, client->buffer, head_size);
    answer->head[head_size] = '\0';
    consume(client, head_size);
    if (sscanf(answer->head, "HTTP/1.1 %d ", &answer->status) != 1)
        return false;
    if (!no_body && header(answer, "Content-Length", length_text, sizeof(length_text)))
        expected = strtoull(length_text, NULL, 10);
    answer->body = malloc(expected ? expected : 1);
    while (answer->body_size < expected) {
        size_t take;
        if (client->used == 0 && !receive_more(client))
            return false;
        take = client->used < expected - answer->body_size ? client->used
                                                           : expected - answer->body_size;
        memcpy(answer->body + answer->body_size, client->buffer, take);
        answer->body_size += take;
        consume(client, take);
    }
    return true;
}

static void response_free(response *answer)
{
    free(answer->body);
    answer->body = NULL;
}

/* One request on a fresh connection. */
static bool ask(const char *request, bool no_body, response *answer)
{
    connection client;
    bool done;

    if (!connection_open(&client))
        return false;
    /* So that a count left by the previous answer cannot pass for this one's. */
    atomic_store(&last_body_bytes, UINT64_MAX);
    done = exchange(&client, request, no_body, answer);
    /* Nothing may follow an answer: a HEAD or a 304 with a body would leave bytes here. */
    CHECK_EQ_INT(client.used, 0);
    connection_close(&client);
    return done;
}

/* "GET /images/<tag>.ebin HTTP/1.1" with `extra` header lines (each ending in \r\n). */
static void request_text(char *text, size_t capacity, const char *method, const char *tag,
                         const char *extra)
{
    snprintf(text, capacity, "%s /images/%s.ebin HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method,
             tag, extra ? extra : "");
}

static bool get(const char *tag, const char *extra, response *answer)
{
    char text[1024];
    request_text(text, sizeof(text), "GET", tag, extra);
    return ask(text, false, answer);
}

static bool head_request(const char *tag, const char *extra, response *answer)
{
    char text[1024];
    request_text(text, sizeof(text), "HEAD", tag, extra);
    return ask(text, true, answer);
}

/* The image's validators and caching, on every 200/206/304. */
static void check_validators(const response *answer, const char *tag)
{
    char etag[80];
    snprintf(etag, sizeof(etag), "\"%s\"", tag);
    check_header(answer, "ETag", etag);
    check_header(answer, "Accept-Ranges", "bytes");
    check_header(answer, "Cache-Control", "public, max-age=31536000, immutable");
}

/* A 206 for bytes first..last of the image, with the right body. */
static void check_partial(const char *range_header, uint64_t first, uint64_t last)
{
    char extra[256], content_range[96], length[32];
    response answer;

    snprintf(extra, sizeof(extra), "Range: %s\r\n", range_header);
    CHECK(get(IMAGE_TAG, extra, &answer));
    CHECK_EQ_INT(answer.status, 206);
    snprintf(content_range, sizeof(content_range), "bytes %" PRIu64 "-%" PRIu64 "/%u", first, last,
             IMAGE_SIZE);
    snprintf(length, sizeof(length), "%" PRIu64, last - first + 1);
    check_header(&answer, "Content-Range", content_range);
    check_header(&answer, "Content-Length", length);
    check_header(&answer, "Content-Type", "application/octet-stream");
    check_validators(&answer, IMAGE_TAG);
    CHECK_EQ_INT(answer.body_size, last - first + 1);
    if (answer.body_size == last - first + 1)
        CHECK_EQ_MEM(answer.body, image + first, answer.body_size);
    CHECK_EQ_INT(atomic_load(&last_body_bytes), last - first + 1);
    response_free(&answer);
}

/* A 200 with the whole image. */
static void check_whole(const char *extra)
{
    char length[32];
    response answer;

    CHECK(get(IMAGE_TAG, extra, &answer));
    CHECK_EQ_INT(answer.status, 200);
    snprintf(length, sizeof(length), "%u", IMAGE_SIZE);
    check_header(&answer, "Content-Length", length);
    check_header(&answer, "Content-Type", "application/octet-stream");
    CHECK(!has_header(&answer, "Content-Range"));
    check_validators(&answer, IMAGE_TAG);
    CHECK_EQ_INT(answer.body_size, IMAGE_SIZE);
    if (answer.body_size == IMAGE_SIZE)
        CHECK_EQ_MEM(answer.body, image, IMAGE_SIZE);
    CHECK_EQ_INT(atomic_load(&last_body_bytes), IMAGE_SIZE);
    response_free(&answer);
}

static void check_unsatisfiable(const char *tag, const char *range_header, uint64_t size)
{
    char extra[256], content_range[64];
    response answer;

    snprintf(extra, sizeof(extra), "Range: %s\r\n", range_header);
    CHECK(get(tag, extra, &answer));
    CHECK_EQ_INT(answer.status, 416);
    snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64, size);
    check_header(&answer, "Content-Range", content_range);
    check_header(&answer, "Content-Type", "application/json");
    CHECK(answer.body_size > 0 &&
          strstr((char *)answer.body, "\"error\":\"RANGE_NOT_SATISFIABLE\"") != NULL);
    CHECK_EQ_INT(atomic_load(&last_body_bytes), 0);
    response_free(&answer);
}

static void check_not_modified(const char *extra)
{
    char length[32], text[1024];
    response answer;

    request_text(text, sizeof(text), "GET", IMAGE_TAG, extra);
    CHECK(ask(text, true, &answer));
    CHECK_EQ_INT(answer.status, 304);
    check_validators(&answer, IMAGE_TAG);
    /* RFC 9110 8.6: if present, the length a 200 would have had -- never 0. */
    snprintf(length, sizeof(length), "%u", IMAGE_SIZE);
    if (has_header(&answer, "Content-Length"))
        check_header(&answer, "Content-Length", length);
    CHECK_EQ_INT(atomic_load(&last_body_bytes), 0);
    response_free(&answer);
}

/* ---- the cases ------------------------------------------------------------------------------ */

static void test_whole_image(void)
{
    check_whole(NULL);
}

static void test_ranges(void)
{
    check_partial("bytes=0-0", 0, 0);
    check_partial("bytes=0-1023", 0, 1023);
    check_partial("bytes=1000-200000", 1000, 200000);
    check_partial("bytes=524288-", 524288, IMAGE_SIZE - 1);
    check_partial("bytes=524300-999999", 524300, IMAGE_SIZE - 1);
    check_partial("bytes=-16", IMAGE_SIZE - 16, IMAGE_SIZE - 1);
    check_partial("bytes=-1", IMAGE_SIZE - 1, IMAGE_SIZE - 1);
    check_partial("bytes=-9999999", 0, IMAGE_SIZE - 1); /* suffix longer than the file */
    check_partial("bytes=0-99999999999999999999999", 0, IMAGE_SIZE - 1);
    check_partial("Bytes= 7-7 ,", 7, 7);
}

static void test_unsatisfiable(void)
{
    check_unsatisfiable(IMAGE_TAG, "bytes=524304-", IMAGE_SIZE);
    check_unsatisfiable(IMAGE_TAG, "bytes=524304-524400", IMAGE_SIZE);
    check_unsatisfiable(IMAGE_TAG, "bytes=99999999999999999999999999-", IMAGE_SIZE);
    check_unsatisfiable(IMAGE_TAG, "bytes=-0", IMAGE_SIZE);
}

static void test_ignored_ranges(void)
{
    /* several ranges, malformed, invalid (A > B), another unit: the whole image */
    check_whole("Range: bytes=0-9,20-29\r\n");
    check_whole("Range: bytes=0 - 9\r\n");
    check_whole("Range: bytes=9-0\r\n");
    check_whole("Range: items=0-9\r\n");
    check_whole("Range: \r\n");
}

static void test_if_none_match(void)
{
    check_not_modified("If-None-Match: \"" IMAGE_TAG "\"\r\n");
    check_not_modified("If-None-Match: W/\"" IMAGE_TAG "\"\r\n");
    check_not_modified("If-None-Match: \"old\", \"" IMAGE_TAG "\"\r\n");
    check_not_modified("If-None-Match: *\r\n");
    /* It comes before Range (RFC 9110 13.2.2). */
    check_not_modified("If-None-Match: \"" IMAGE_TAG "\"\r\nRange: bytes=0-9\r\n");
    check_whole("If-None-Match: \"old\"\r\n");
    check_whole("If-None-Match: " IMAGE_TAG "\r\n"); /* unquoted: malformed, ignored */
}

static void test_if_range(void)
{
    response answer;

    /* the ETag: the range holds */
    CHECK(get(IMAGE_TAG, "Range: bytes=100-199\r\nIf-Range: \"" IMAGE_TAG "\"\r\n", &answer));
    CHECK_EQ_INT(answer.status, 206);
    check_header(&answer, "Content-Range", "bytes 100-199/524304");
    CHECK(answer.body_size == 100 && memcmp(answer.body, image + 100, 100) == 0);
    response_free(&answer);
    /* anything else: the whole image */
    check_whole("Range: bytes=100-199\r\nIf-Range: \"old\"\r\n");
    check_whole("Range: bytes=100-199\r\nIf-Range: W/\"" IMAGE_TAG "\"\r\n");
    check_whole("Range: bytes=100-199\r\nIf-Range: Mon, 07 Dec 2026 09:30:00 GMT\r\n");
    /* an If-Range that does not match also turns a 416 into the whole image */
    check_whole("Range: bytes=999999-\r\nIf-Range: \"old\"\r\n");
}

static void test_head(void)
{
    response answer;

    CHECK(head_request(IMAGE_TAG, NULL, &answer));
    CHECK_EQ_INT(answer.status, 200);
    check_header(&answer, "Content-Length", "524304");
    check_header(&answer, "Content-Type", "application/octet-stream");
    check_validators(&answer, IMAGE_TAG);
    CHECK_EQ_INT(atomic_load(&last_body_bytes), 0);
    response_free(&answer);

    CHECK(head_request(IMAGE_TAG, "Range: bytes=10-19\r\n", &answer));
    CHECK_EQ_INT(answer.status, 206);
    check_header(&answer, "Content-Length", "10");
    check_header(&answer, "Content-Range", "bytes 10-19/524304");
    CHECK_EQ_INT(atomic_load(&last_body_bytes), 0);
    response_free(&answer);

    CHECK(head_request(IMAGE_TAG, "Range: bytes=600000-\r\n", &answer));
    CHECK_EQ_INT(answer.status, 416);
    check_header(&answer, "Content-Range", "bytes */524304");
    response_free(&answer);

    CHECK(head_request(MISSING_TAG, NULL, &answer));
    CHECK_EQ_INT(answer.status, 404);
    response_free(&answer);
}

/* Many answers on one connection, HEAD and 304 among them: each must end exactly where its
 * headers and Content-Length say, or the next status line would be read from the middle. */
static void test_keep_alive(void)
{
    static const struct {
        const char *method, *extra;
        bool no_body;
        int status;
        size_t body_size;
    } steps[] = {
        {"GET", "Range: bytes=0-99\r\n", false, 206, 100},
        {"HEAD", NULL, true, 200, 0},
        {"GET", "If-None-Match: \"" IMAGE_TAG "\"\r\n", true, 304, 0},
        {"GET", "Range: bytes=-50\r\n", false, 206, 50},
        {"GET", "Range: bytes=9999999-\r\n", false, 416, 0},
        {"GET", NULL, false, 200, IMAGE_SIZE},
        {"HEAD", "Range: bytes=5-6\r\n", true, 206, 0},
        {"GET", "Range: bytes=524000-\r\n", false, 206, IMAGE_SIZE - 524000},
    };
    connection client;
    size_t index;

    CHECK(connection_open(&client));
    for (index = 0; index < sizeof(steps) / sizeof(steps[0]); index++) {
        char text[1024];
        response answer;
        request_text(text, sizeof(text), steps[index].method, IMAGE_TAG, steps[index].extra);
        CHECK(exchange(&client, text, steps[index].no_body, &answer));
        CHECK_EQ_INT(answer.status, steps[index].status);
        CHECK(!strstr(answer.head, "Connection: close"));
        if (steps[index].status != 416)
            CHECK_EQ_INT(answer.body_size, steps[index].body_size);
        response_free(&answer);
    }
    CHECK_EQ_INT(client.used, 0);
    connection_close(&client);
}

static void test_unknown_image(void)
{
    response answer;

    CHECK(get(MISSING_TAG, "Range: bytes=0-9\r\n", &answer));
    CHECK_EQ_INT(answer.status, 404);
    check_header(&answer, "Content-Type", "application/json");
    CHECK(!has_header(&answer, "ETag"));
    CHECK(answer.body_size > 0 &&
          strstr((char *)answer.body, "{\"error\":\"UNKNOWN_IMAGE\",\"message\":\"") ==
              (char *)answer.body);
    CHECK_EQ_INT(atomic_load(&last_body_bytes), 0);
    response_free(&answer);

    /* A folder where an image would be is no image. */
    CHECK(get(FOLDER_TAG, NULL, &answer));
    CHECK_EQ_INT(answer.status, 404);
    response_free(&answer);
}

static void test_other_method(void)
{
    char text[1024];
    response answer;

    request_text(text, sizeof(text), "DELETE", IMAGE_TAG, NULL);
    CHECK(ask(text, false, &answer));
    CHECK_EQ_INT(answer.status, 405);
    check_header(&answer, "Allow", "GET, HEAD");
    CHECK(answer.body_size > 0 && strstr((char *)answer.body, "METHOD_NOT_ALLOWED") != NULL);
    response_free(&answer);
}

static void test_empty_image(void)
{
    response answer;

    CHECK(get(EMPTY_TAG, NULL, &answer));
    CHECK_EQ_INT(answer.status, 200);
    check_header(&answer, "Content-Length", "0");
    check_validators(&answer, EMPTY_TAG);
    response_free(&answer);
    check_unsatisfiable(EMPTY_TAG, "bytes=0-0", 0);
    check_unsatisfiable(EMPTY_TAG, "bytes=0-", 0);
    /* a suffix of nothing: no 206 can say "no bytes", so the (empty) whole */
    CHECK(get(EMPTY_TAG, "Range: bytes=-5\r\n", &answer));
    CHECK_EQ_INT(answer.status, 200);
    check_header(&answer, "Content-Length", "0");
    response_free(&answer);
}

/* A file past 4 GiB (sparse: nothing on disk): 64-bit sizes and offsets end to end. */
static void test_huge_image(void)
{
    response answer;

    CHECK(head_request(HUGE_TAG, NULL, &answer));
    CHECK_EQ_INT(answer.status, 200);
    check_header(&answer, "Content-Length", "5000000123");
    response_free(&answer);

    CHECK(get(HUGE_TAG, "Range: bytes=5000000000-5000000009\r\n", &answer));
    CHECK_EQ_INT(answer.status, 206);
    check_header(&answer, "Content-Range", "bytes 5000000000-5000000009/5000000123");
    CHECK(answer.body_size == 10 && memcmp(answer.body, "tail-bytes", 10) == 0);
    response_free(&answer);

    CHECK(get(HUGE_TAG, "Range: bytes=-3\r\n", &answer));
    CHECK_EQ_INT(answer.status, 206);
    check_header(&answer, "Content-Range", "bytes 5000000120-5000000122/5000000123");
    CHECK(answer.body_size == 3 && memcmp(answer.body, "END", 3) == 0);
    response_free(&answer);
    check_unsatisfiable(HUGE_TAG, "bytes=5000000123-", HUGE_SIZE);
}

/* ---- the store ------------------------------------------------------------------------------ */

static bool write_file(const char *tag, const void *data, size_t size)
{
    char path[512];
    FILE *file;
    bool written;

    snprintf(path, sizeof(path), "%s/images/%s.ebin", store, tag);
    file = fopen(path, "wb");
    if (!file)
        return false;
    written = fwrite(data, 1, size, file) == size;
    return fclose(file) == 0 && written;
}

static bool make_store(void)
{
    char path[512];
    size_t index;
    uint32_t state = 2463534242u;
    int fd;
    bool made;

    for (index = 0; index < IMAGE_SIZE; index++) { /* xorshift: every byte position differs */
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image[index] = (uint8_t)state;
    }
    if (test_temp_directory(store, sizeof(store)) != 0)
        return false;
    snprintf(path, sizeof(path), "%s/images", store);
    if (mkdir(path, 0755) != 0)
        return false;
    snprintf(path, sizeof(path), "%s/images/%s.ebin", store, FOLDER_TAG);
    if (mkdir(path, 0755) != 0)
        return false;
    if (!write_file(IMAGE_TAG, image, IMAGE_SIZE) || !write_file(EMPTY_TAG, "", 0))
        return false;
    snprintf(path, sizeof(path), "%s/images/%s.ebin", store, HUGE_TAG);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return false;
    made = ftruncate(fd, (off_t)HUGE_SIZE) == 0 && pwrite(fd, "tail-bytes", 10, 5000000000) == 10 &&
           pwrite(fd, "END", 3, (off_t)HUGE_SIZE - 3) == 3;
    return close(fd) == 0 && made;
}

int main(void)
{
    struct MHD_Daemon *daemon_handle;

    if (!make_store()) {
        fprintf(stderr, "test_server_images: could not make the store: %s\n", strerror(errno));
        return 1;
    }
    daemon_handle = start_daemon();
    if (!daemon_handle || port == 0) {
        fprintf(stderr, "test_server_images: the daemon did not start\n");
        return 1;
    }
    RUN(test_whole_image);
    RUN(test_ranges);
    RUN(test_unsatisfiable);
    RUN(test_ignored_ranges);
    RUN(test_if_none_match);
    RUN(test_if_range);
    RUN(test_head);
    RUN(test_keep_alive);
    RUN(test_unknown_image);
    RUN(test_other_method);
    RUN(test_empty_image);
    RUN(test_huge_image);
    MHD_stop_daemon(daemon_handle);
    return test_summary();
}
