/*
 * cellota-images-harness: images_answer alone on a libmicrohttpd daemon configured as
 * cellota-server's (internal epoll threads, a pool of one thread per core, TURBO), serving
 * <store>/images/<sha256>.ebin. It exists so the image path can be tested with curl and measured
 * against nginx (bench/images.sh) without a database or a broker behind it; the server's route
 * calls the same function.
 *
 * It prints "listening on http://HOST:PORT" as its first line (with --http HOST:0 the port is
 * one the kernel chose) and, after SIGINT or SIGTERM, one line with the requests it completed
 * and the image bytes they sent, for tests to compare with what the client received.
 */
#define _GNU_SOURCE
#include "common/cli.h"
#include "common/number.h"
#include "server/images.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const host_option harness_options[] = {
    {"http", "HOST:PORT", "where to listen (IPv4; port 0: any free one); 127.0.0.1:8080", false},
    {"store", "DIR", "serve DIR/images/<sha256>.ebin (required)", true},
    {"http-threads", "N", "libmicrohttpd's thread pool (default: the number of cores)", false},
    {NULL, NULL, NULL, false},
};

static const host_command harness_command = {
    .name = NULL,
    .synopsis = "--store DIR [--http HOST:PORT] [--http-threads N]",
    .summary = "Serves the store's images as cellota-server does, and nothing else.",
    .options = harness_options,
    .details = "GET|HEAD /images/<sha256>.ebin with Range, ETag, If-None-Match and If-Range.\n"
               "Runs until SIGINT or SIGTERM, then prints requests completed and image bytes "
               "sent.\n",
};

typedef struct harness {
    char images_folder[4096];
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t bytes; /* image bytes of answers completed in full */
} harness;

/* Per-request state: the answer's image bytes, counted when MHD says it was sent in full. */
typedef struct request {
    uint64_t body_bytes;
} request;

static volatile sig_atomic_t stopping;

static void on_signal(int number)
{
    (void)number;
    stopping = 1;
}

/* "<64 lower-case hex>.ebin" and nothing else: no traversal, one name per image. */
static bool image_name(const char *url, char *sha256)
{
    static const char prefix[] = "/images/";
    const char *name;
    size_t index;

    if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
        return false;
    name = url + sizeof(prefix) - 1;
    for (index = 0; index < 64; index++) {
        char c = name[index];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        sha256[index] = c;
    }
    sha256[64] = '\0';
    return strcmp(name + 64, ".ebin") == 0;
}

static enum MHD_Result answer_not_found(struct MHD_Connection *connection)
{
    static const char body[] =
        "{\"error\":\"NOT_FOUND\",\"message\":\"This server has no such path.\"}\n";
    struct MHD_Response *response =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result result;

    if (!response)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    result = MHD_queue_response(connection, MHD_HTTP_NOT_FOUND, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result on_request(void *context, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **request_state)
{
    harness *self = context;
    char sha256[65], path[4200];
    images_transfer transfer;
    request *state = *request_state;
    enum MHD_Result result;

    (void)version;
    (void)upload_data;
    /* The first call only sees the headers. An answer queued now, before MHD has read the whole
     * request, makes it close the connection afterwards (no keep-alive), so answer on the next
     * call, as the server does; a body a client sent anyway is skipped. */
    if (!state) {
        state = calloc(1, sizeof(*state));
        if (!state)
            return MHD_NO;
        *request_state = state;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!image_name(url, sha256))
        return answer_not_found(connection);
    snprintf(path, sizeof(path), "%s/%s.ebin", self->images_folder, sha256);
    result = images_answer(connection, method, path, sha256, "application/octet-stream", &transfer);
    state->body_bytes = transfer.body_bytes;
    return result;
}

static void on_completed(void *context, struct MHD_Connection *connection, void **request_state,
                         enum MHD_RequestTerminationCode code)
{
    harness *self = context;
    request *state = *request_state;

    (void)connection;
    atomic_fetch_add(&self->requests, 1);
    if (state && code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        atomic_fetch_add(&self->bytes, state->body_bytes);
    free(state);
    *request_state = NULL;
}

/* "HOST:PORT" with an IPv4 host. */
static bool parse_address(const char *text, struct sockaddr_in *address)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    uint64_t port;

    if (!colon || (size_t)(colon - text) >= sizeof(host) ||
        !host_parse_unsigned(colon + 1, 65535, &port))
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    memset(address, 0, sizeof(*address));
    address->sin_family = AF_INET;
    address->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &address->sin_addr) == 1;
}

int main(int argc, char **argv)
{
    static harness self;
    host_arguments arguments;
    struct sockaddr_in address;
    const char *http, *threads_text;
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *daemon_handle;
    sigset_t stop_signals, waiting_mask;
    uint64_t threads;
    int status;

    host_set_program("cellota-images-harness");
    if (!host_parse_arguments(&harness_command, argc, argv, &arguments, &status))
        return status;
    http = host_option_value(&arguments, "http");
    if (!parse_address(http ? http : "127.0.0.1:8080", &address))
        return host_usage_error(&harness_command, "--http: expected IPv4-HOST:PORT, got '%s'",
                                http);
    threads_text = host_option_value(&arguments, "http-threads");
    threads = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads_text && (!host_parse_unsigned(threads_text, 1024, &threads) || threads == 0))
        return host_usage_error(&harness_command, "--http-threads: expected 1 to 1024, got '%s'",
                                threads_text);
    snprintf(self.images_folder, sizeof(self.images_folder), "%s/images",
             host_option_value(&arguments, "store"));
    if (access(self.images_folder, R_OK | X_OK) != 0)
        return host_error(HOST_EXIT_IO, "%s: not a readable folder", self.images_folder);

    /* SIGINT and SIGTERM stay blocked (MHD's threads inherit that) except in sigsuspend below,
     * so the stop cannot slip in between the check and the wait. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, &waiting_mask);
    sigdelset(&waiting_mask, SIGINT);
    sigdelset(&waiting_mask, SIGTERM);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* The daemon cellota-server runs: epoll in MHD's own threads (which block SIGPIPE, so MHD
     * may use sendfile), one pool thread per core each with its own epoll set on the shared
     * listening socket, and TURBO (no per-connection accept/close bookkeeping syscalls beyond
     * the needed ones, a non-blocking listen socket). */
    daemon_handle = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, &self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)10000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, &self, MHD_OPTION_END);
    if (!daemon_handle)
        return host_error(HOST_EXIT_IO, "could not listen on %s", http ? http : "127.0.0.1:8080");
    info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://%s:%u\n", inet_ntoa(address.sin_addr),
           info ? (unsigned)info->port : (unsigned)ntohs(address.sin_port));
    fflush(stdout);
    while (!stopping)
        sigsuspend(&waiting_mask);
    MHD_stop_daemon(daemon_handle);
    printf("requests=%" PRIuFAST64 " image_bytes=%" PRIuFAST64 "\n", atomic_load(&self.requests),
           atomic_load(&self.bytes));
    return HOST_EXIT_OK;
}
