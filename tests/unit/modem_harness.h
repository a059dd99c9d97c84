/*
 * A harness for the modem emulator's unit tests: an emulator stepped in virtual time one
 * millisecond at a time, everything it sends collected in a buffer the test searches, and a
 * small TCP server on 127.0.0.1 (non-blocking, served from the same loop) that sends a payload
 * to each client, optionally after the client's first request bytes, and records what it got.
 */
#ifndef CELLOTA_TESTS_MODEM_HARNESS_H
#define CELLOTA_TESTS_MODEM_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif

#include "modem_emulator.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_CLIENTS 8
#define MODEM_LINKS_FOR_HARNESS 32 /* MODEM_LINKS_LIMIT: every socket of one emulator */

typedef struct test_server {
    int listener;
    uint16_t port;
    const uint8_t *payload; /* sent to every client */
    size_t payload_length;
    bool wait_for_request; /* send only after the client sent something */
    bool close_after;      /* close once the payload is out (and has reached the client) */
    bool echo;             /* send back what the client sends */
    int clients[SERVER_CLIENTS];
    size_t sent[SERVER_CLIENTS];
    bool heard[SERVER_CLIENTS];
    bool finishing[SERVER_CLIENTS]; /* close_after: payload delivered, FIN sent (shutdown) */
    char received[8192]; /* what clients sent, all together */
    size_t received_length;
    int accepted;
} test_server;

static inline void server_start(test_server *server)
{
    struct sockaddr_in address;
    socklen_t length = sizeof(address);
    int one = 1, index;
    memset(server, 0, sizeof(*server));
    for (index = 0; index < SERVER_CLIENTS; index++)
        server->clients[index] = -1;
    server->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (server->listener < 0) {
        fprintf(stderr, "test server: socket: %s\n", strerror(errno));
        exit(2);
    }
    setsockopt(server->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(server->listener, (struct sockaddr *)&address, sizeof(address)) != 0 ||
        listen(server->listener, 8) != 0) {
        fprintf(stderr, "test server: %s\n", strerror(errno));
        exit(2);
    }
    getsockname(server->listener, (struct sockaddr *)&address, &length);
    server->port = ntohs(address.sin_port);
}

static inline void server_poll(test_server *server)
{
    int index, client;
    /* 0 is a descriptor like any other: a test started with stdin closed gets it for the
     * listener, and skipping it left every client unanswered. Only -1 means stopped. */
    if (!server || server->listener < 0)
        return;
    while ((client = accept4(server->listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        for (index = 0; index < SERVER_CLIENTS && server->clients[index] >= 0; index++)
            ;
        if (index == SERVER_CLIENTS) {
            close(client);
            continue;
        }
        server->clients[index] = client;
        server->sent[index] = 0;
        server->heard[index] = false;
        server->finishing[index] = false;
        server->accepted++;
    }
    for (index = 0; index < SERVER_CLIENTS; index++) {
        uint8_t buffer[4096];
        ssize_t count;
        if (server->clients[index] < 0)
            continue;
        while ((count = recv(server->clients[index], buffer, sizeof(buffer), 0)) > 0) {
            size_t room = sizeof(server->received) - server->received_length;
            memcpy(server->received + server->received_length, buffer,
                   (size_t)count < room ? (size_t)count : room);
            server->received_length += (size_t)count < room ? (size_t)count : room;
            server->heard[index] = true;
            if (server->echo)
                send(server->clients[index], buffer, (size_t)count, MSG_NOSIGNAL);
        }
        if (count == 0 && (!server->payload || server->finishing[index])) {
            close(server->clients[index]);
            server->clients[index] = -1;
            continue;
        }
        if (server->finishing[index])
            continue;
        if (server->payload && (!server->wait_for_request || server->heard[index])) {
            while (server->sent[index] < server->payload_length) {
                ssize_t written =
                    send(server->clients[index], server->payload + server->sent[index],
                         server->payload_length - server->sent[index], MSG_NOSIGNAL);
                if (written <= 0)
                    break;
                server->sent[index] += (size_t)written;
            }
            if (server->close_after && server->sent[index] == server->payload_length) {
                /* Not close() at once: a closed socket's unacknowledged bytes and its FIN are
                 * out of the harness's sight (harness_settle), and on a slow kernel virtual
                 * seconds passed before they landed. So the end is sent once every byte is
                 * acknowledged, and the socket is closed when the client closes its side. */
                int unacknowledged = 0;
                if (ioctl(server->clients[index], TIOCOUTQ, &unacknowledged) == 0 &&
                    unacknowledged == 0) {
                    shutdown(server->clients[index], SHUT_WR);
                    server->finishing[index] = true;
                }
            }
        }
    }
}

static inline void server_stop(test_server *server)
{
    int index;
    for (index = 0; index < SERVER_CLIENTS; index++)
        if (server->clients[index] >= 0)
            close(server->clients[index]);
    close(server->listener);
    server->listener = -1;
}

typedef struct harness {
    modem_emulator *emulator;
    uint64_t now;
    uint8_t *output;
    size_t length, capacity;
    size_t cursor; /* searches start here */
    uint32_t errors;
    test_server *server;
} harness;

static inline void harness_start(harness *h, modem_model model,
                                 const modem_emulator_options *options)
{
    memset(h, 0, sizeof(*h));
    h->now = 1000;
    h->emulator = modem_emulator_create(model, options, h->now);
    if (!h->emulator) {
        fprintf(stderr, "harness: no emulator\n");
        exit(2);
    }
}

/* The default options without the random quirks: for tests that compare exact transcripts. */
static inline modem_emulator_options exact_options(void)
{
    modem_emulator_options options;
    modem_emulator_default_options(&options);
    options.quirk_rate = 0;
    return options;
}

/* Starts `server` serving `payload` (after the client's first bytes when `on_request`) and a
 * harness on `model` wired to it. */
static inline void harness_start_served(harness *h, test_server *server, modem_model model,
                                        const modem_emulator_options *options, const void *payload,
                                        size_t length, bool on_request)
{
    server_start(server);
    server->payload = payload;
    server->payload_length = length;
    server->wait_for_request = on_request;
    harness_start(h, model, options);
    h->server = server;
}

/* Test data that is not all the same byte. */
static inline uint8_t *test_pattern(size_t length)
{
    uint8_t *data = malloc(length);
    size_t index;
    for (index = 0; index < length; index++)
        data[index] = (uint8_t)(index * 7 + index / 251);
    return data;
}

static inline void harness_collect(harness *h)
{
    uint8_t buffer[4096];
    size_t count;
    while ((count = modem_emulator_uart_read(h->emulator, buffer, sizeof(buffer))) > 0) {
        if (h->length + count + 1 > h->capacity) {
            h->capacity = (h->length + count + 1) * 2;
            h->output = realloc(h->output, h->capacity);
        }
        memcpy(h->output + h->length, buffer, count);
        h->length += count;
        h->output[h->length] = 0;
    }
    h->errors += modem_emulator_uart_take_errors(h->emulator);
}

/* ---- keeping virtual time behind the kernel
 *
 * Virtual time runs about 150 times faster than real time here (5000 ms in ~30 ms), but the
 * bytes between the emulator's sockets and the test server cross a real kernel, which takes
 * real time: on this sandbox's network stack (gVisor, /etc/hosts names it runsc) loopback
 * segments and handshakes are handed over asynchronously, and under load that takes tens of
 * milliseconds. Virtual seconds then passed with the bytes still on their way, and a test's
 * "within 5000 ms" really meant "within 30-150 ms of real time, whatever the machine's load".
 * So before each virtual millisecond the harness waits (in real time, bounded) until nothing
 * is in flight between two sockets of this process: a connect not yet answered, or bytes one
 * socket sent (not yet acknowledged) that its peer here has not received. A peer that is full
 * holds bytes, so a sender blocked by flow control does not count as in flight. */

#define HARNESS_SETTLE_MS 2000 /* a kernel that takes longer is broken, not slow */

typedef struct harness_socket {
    int fd;
    struct sockaddr_storage local, remote;
    bool connected;
    bool finishing; /* the test server sent its FIN */
} harness_socket;

static inline bool harness_same_address(const struct sockaddr_storage *a,
                                        const struct sockaddr_storage *b)
{
    const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
    return a->ss_family == AF_INET && b->ss_family == AF_INET && x->sin_port == y->sin_port &&
           x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static inline size_t harness_sockets(const harness *h, harness_socket *sockets, size_t capacity)
{
    struct pollfd fds[MODEM_LINKS_FOR_HARNESS];
    size_t count = 0, index, links = modem_emulator_poll_fds(h->emulator, fds,
                                                              MODEM_LINKS_FOR_HARNESS);
    int fd;
    for (index = 0; index < links + SERVER_CLIENTS && count < capacity; index++) {
        socklen_t length = sizeof(sockets[count].local);
        if (index < links)
            fd = fds[index].fd;
        else if (h->server && h->server->listener >= 0)
            fd = h->server->clients[index - links];
        else
            continue;
        if (fd < 0)
            continue;
        memset(&sockets[count], 0, sizeof(sockets[count]));
        sockets[count].fd = fd;
        getsockname(fd, (struct sockaddr *)&sockets[count].local, &length);
        length = sizeof(sockets[count].remote);
        sockets[count].connected =
            getpeername(fd, (struct sockaddr *)&sockets[count].remote, &length) == 0;
        sockets[count].finishing = index >= links && h->server->finishing[index - links];
        count++;
    }
    return count;
}

/* Something in flight: fills `wait` with what will change when it lands. */
static inline bool harness_in_flight(const harness *h, struct pollfd *wait)
{
    harness_socket sockets[MODEM_LINKS_FOR_HARNESS + SERVER_CLIENTS];
    struct sockaddr_storage listener;
    socklen_t length = sizeof(listener);
    size_t count = harness_sockets(h, sockets, sizeof(sockets) / sizeof(sockets[0])), index, peer;
    bool have_listener = h->server && h->server->listener >= 0 &&
                         getsockname(h->server->listener, (struct sockaddr *)&listener, &length) == 0;
    for (index = 0; index < count; index++) {
        int unacknowledged = 0, held = 0;
        struct pollfd probe = {sockets[index].fd, POLLOUT, 0};
        if (!sockets[index].connected) {
            /* a connect on its way (or its refusal): the socket becomes writable or failed */
            if (poll(&probe, 1, 0) == 0) {
                *wait = probe;
                return true;
            }
            continue;
        }
        for (peer = 0; peer < count; peer++)
            if (harness_same_address(&sockets[peer].local, &sockets[index].remote))
                break;
        if (sockets[index].finishing && peer < count) {
            /* the server's FIN: on its way until the peer sees the end of the stream */
            struct pollfd end = {sockets[peer].fd, POLLRDHUP, 0};
            if (poll(&end, 1, 0) == 0) {
                *wait = end;
                return true;
            }
            continue;
        }
        if (ioctl(sockets[index].fd, TIOCOUTQ, &unacknowledged) != 0 || unacknowledged == 0)
            continue;
        if (peer < count) {
            if (ioctl(sockets[peer].fd, FIONREAD, &held) == 0 && held == 0) {
                *wait = (struct pollfd){sockets[peer].fd, POLLIN, 0};
                return true;
            }
        } else if (have_listener && harness_same_address(&listener, &sockets[index].remote)) {
            /* sent to the test server before it accepted: wait for the accept */
            struct pollfd pending = {h->server->listener, POLLIN, 0};
            if (poll(&pending, 1, 0) == 0) {
                *wait = pending;
                return true;
            }
        }
    }
    return false;
}

static inline void harness_settle(const harness *h)
{
    struct pollfd wait;
    int waited = 0;
    while (waited < HARNESS_SETTLE_MS && harness_in_flight(h, &wait)) {
        /* ready yet still counted in flight (a peer at its end of stream): nothing to wait for */
        if (poll(&wait, 1, 1) > 0)
            return;
        waited++;
    }
}

static inline void harness_advance(harness *h, uint64_t milliseconds)
{
    uint64_t end = h->now + milliseconds;
    while (h->now < end) {
        harness_settle(h);
        h->now++;
        server_poll(h->server);
        modem_emulator_poll(h->emulator, h->now);
        harness_collect(h);
    }
}

static inline void harness_send_bytes(harness *h, const void *data, size_t length)
{
    const uint8_t *bytes = data;
    size_t done = 0;
    int guard = 0;
    while (done < length && guard++ < 100000) {
        done += modem_emulator_uart_write(h->emulator, bytes + done, length - done);
        if (done < length)
            harness_advance(h, 1);
    }
}

static inline void harness_send(harness *h, const char *text)
{
    harness_send_bytes(h, text, strlen(text));
}

static inline const uint8_t *find_bytes(const uint8_t *haystack, size_t length, const char *needle)
{
    size_t needle_length = strlen(needle), index;
    if (needle_length > length)
        return NULL;
    for (index = 0; index + needle_length <= length; index++)
        if (memcmp(haystack + index, needle, needle_length) == 0)
            return haystack + index;
    return NULL;
}

/* Runs until `needle` appears after the cursor (then the cursor moves past it) or the time is
 * up; returns whether it appeared. */
static inline bool harness_wait_for(harness *h, const char *needle, uint64_t timeout_ms)
{
    uint64_t end = h->now + timeout_ms;
    for (;;) {
        const uint8_t *found =
            h->length > h->cursor ? find_bytes(h->output + h->cursor, h->length - h->cursor, needle)
                                  : NULL;
        if (found) {
            h->cursor = (size_t)(found - h->output) + strlen(needle);
            return true;
        }
        if (h->now >= end) {
            fprintf(stderr, "harness: \"%s\" did not come; after the cursor: \"%.*s\"\n", needle,
                    (int)(h->length - h->cursor > 600 ? 600 : h->length - h->cursor),
                    h->output ? (const char *)h->output + h->cursor : "");
            return false;
        }
        harness_advance(h, 1);
    }
}

/* Waits for whichever of two texts comes first after the cursor: 1 or 2, 0 on time out. */
static inline int harness_wait_either(harness *h, const char *first, const char *second,
                                      uint64_t timeout_ms)
{
    uint64_t end = h->now + timeout_ms;
    for (;;) {
        const uint8_t *a = NULL, *b = NULL;
        if (h->length > h->cursor) {
            a = find_bytes(h->output + h->cursor, h->length - h->cursor, first);
            b = find_bytes(h->output + h->cursor, h->length - h->cursor, second);
        }
        if (a && (!b || a <= b)) {
            h->cursor = (size_t)(a - h->output) + strlen(first);
            return 1;
        }
        if (b) {
            h->cursor = (size_t)(b - h->output) + strlen(second);
            return 2;
        }
        if (h->now >= end)
            return 0;
        harness_advance(h, 1);
    }
}

/* Sends a command line and waits for `reply` (typically "OK" framed). */
static inline bool harness_command(harness *h, const char *line, const char *reply,
                                   uint64_t timeout_ms)
{
    harness_send(h, line);
    harness_send(h, "\r");
    return harness_wait_for(h, reply, timeout_ms);
}

/* Boots, turns echo off and waits for registration. */
static inline bool harness_ready(harness *h)
{
    bool ready = harness_wait_for(h, "RDY", 20000);
    uint64_t end = h->now + 30000;
    ready = ready && harness_command(h, "ATE0", "\r\nOK\r\n", 2000);
    while (ready && h->now < end) {
        size_t mark = h->length;
        harness_command(h, "AT+CGREG?", "OK\r\n", 2000);
        if (find_bytes(h->output + mark, h->length - mark, "+CGREG: 0,1") ||
            find_bytes(h->output + mark, h->length - mark, "+CGREG: 0,5"))
            return true;
        harness_advance(h, 200);
    }
    return false;
}

/* A SIM7600 socket 0 to 127.0.0.1:`port` with manual receive, once the modem is registered. */
static inline bool harness_open_sim7600_socket(harness *h, uint16_t port)
{
    char line[128];
    snprintf(line, sizeof(line), "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",%u", port);
    return harness_ready(h) && harness_command(h, "AT+CIPRXGET=1", "OK\r\n", 1000) &&
           harness_command(h, "AT+NETOPEN", "+NETOPEN: 0\r\n", 3000) &&
           harness_command(h, line, "+CIPOPEN: 0,0\r\n", 3000);
}

static inline void harness_stop(harness *h)
{
    modem_emulator_destroy(h->emulator);
    free(h->output);
    h->output = NULL;
}

/* Reads exactly `length` raw bytes following the cursor (waiting for them). */
static inline bool harness_take(harness *h, uint8_t *out, size_t length, uint64_t timeout_ms)
{
    uint64_t end = h->now + timeout_ms;
    while (h->length - h->cursor < length) {
        if (h->now >= end)
            return false;
        harness_advance(h, 1);
    }
    memcpy(out, h->output + h->cursor, length);
    h->cursor += length;
    return true;
}

#endif
