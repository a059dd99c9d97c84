/* An in-memory cellota_socket for deterministic client tests; see memory_socket.h. */
#include "support/memory_socket.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(uint8_t **buffer, size_t *length, size_t *capacity, const void *data,
                   size_t count)
{
    if (*length + count > *capacity) {
        size_t wanted = (*length + count) * 2 + 64;
        uint8_t *grown = realloc(*buffer, wanted);
        if (!grown) {
            fprintf(stderr, "memory_socket: out of memory\n");
            abort();
        }
        *buffer = grown;
        *capacity = wanted;
    }
    if (count)
        memcpy(*buffer + *length, data, count);
    *length += count;
}

static uint32_t next_random(memory_socket *socket)
{
    uint32_t x = socket->seed ? socket->seed : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    socket->seed = x;
    return x;
}

static void reset_connection(memory_socket *socket)
{
    socket->incoming_length = 0;
    socket->incoming_read = 0;
    socket->peer_closing = false;
    socket->failure = CELLOTA_OK;
}

static int socket_open(void *context, cellota_socket_kind kind, const char *host, uint16_t port)
{
    memory_socket *socket = context;
    if (socket->state != CELLOTA_SOCKET_STATE_CLOSED)
        return CELLOTA_BUSY;
    if (socket->open_error != CELLOTA_OK)
        return socket->open_error;
    socket->opens++;
    snprintf(socket->host, sizeof(socket->host), "%s", host);
    socket->port = port;
    socket->kind = kind;
    socket->state = CELLOTA_SOCKET_STATE_OPENING;
    socket->error = CELLOTA_OK;
    socket->delay_left = socket->open_delay_polls;
    socket->connection_sent_start = socket->sent_length;
    return CELLOTA_IN_PROGRESS;
}

static int socket_send(void *context, const uint8_t *data, size_t length, size_t *accepted)
{
    memory_socket *socket = context;
    *accepted = 0;
    if (socket->state != CELLOTA_SOCKET_STATE_OPEN)
        return socket->state == CELLOTA_SOCKET_STATE_FAILED ? socket->error
                                                            : CELLOTA_SOCKET_NOT_OPEN;
    if (socket->send_blocked)
        return CELLOTA_OK;
    if (socket->send_limit && length > socket->send_limit)
        length = socket->send_limit;
    append(&socket->sent, &socket->sent_length, &socket->sent_capacity, data, length);
    *accepted = length;
    return CELLOTA_OK;
}

static int socket_receive(void *context, uint8_t *buffer, size_t capacity, size_t *received)
{
    memory_socket *socket = context;
    size_t available = socket->incoming_length - socket->incoming_read, count;
    *received = 0;
    if (socket->state != CELLOTA_SOCKET_STATE_OPEN && socket->state != CELLOTA_SOCKET_STATE_FAILED)
        return CELLOTA_SOCKET_NOT_OPEN;
    if (available == 0) {
        if (socket->peer_closing || socket->failure != CELLOTA_OK) {
            socket->state = CELLOTA_SOCKET_STATE_FAILED;
            socket->error = socket->failure != CELLOTA_OK ? socket->failure : CELLOTA_SOCKET_CLOSED;
            return socket->error;
        }
        return socket->state == CELLOTA_SOCKET_STATE_FAILED ? socket->error : CELLOTA_OK;
    }
    count = available < capacity ? available : capacity;
    if (socket->receive_limit && count > socket->receive_limit)
        count = socket->receive_limit;
    if (socket->random_receive && count > 1)
        count = 1 + next_random(socket) % count;
    memcpy(buffer, socket->incoming + socket->incoming_read, count);
    socket->incoming_read += count;
    *received = count;
    return CELLOTA_OK;
}

static int socket_close(void *context)
{
    memory_socket *socket = context;
    if (socket->state != CELLOTA_SOCKET_STATE_CLOSED) {
        socket->closes++;
        socket->state = CELLOTA_SOCKET_STATE_CLOSING;
    }
    reset_connection(socket);
    return CELLOTA_OK;
}

static void socket_poll(void *context, uint32_t now_ms)
{
    memory_socket *socket = context;
    (void)now_ms;
    socket->polls++;
    if (socket->state == CELLOTA_SOCKET_STATE_CLOSING) {
        socket->state = CELLOTA_SOCKET_STATE_CLOSED;
    } else if (socket->state == CELLOTA_SOCKET_STATE_OPENING && !socket->never_connect) {
        if (socket->delay_left > 0) {
            socket->delay_left--;
        } else if (socket->connect_error != CELLOTA_OK) {
            socket->state = CELLOTA_SOCKET_STATE_FAILED;
            socket->error = socket->connect_error;
        } else {
            socket->state = CELLOTA_SOCKET_STATE_OPEN;
        }
    }
}

static cellota_socket_state socket_state(void *context, int *error)
{
    memory_socket *socket = context;
    *error = socket->error;
    return socket->state;
}

static const cellota_socket_operations memory_operations = {
    socket_open, socket_send, socket_receive, socket_close, socket_poll, socket_state};

void memory_socket_init(memory_socket *socket)
{
    memset(socket, 0, sizeof(*socket));
    socket->socket.operations = &memory_operations;
    socket->socket.context = socket;
}

void memory_socket_free(memory_socket *socket)
{
    free(socket->incoming);
    free(socket->sent);
    memset(socket, 0, sizeof(*socket));
}

void memory_socket_push(memory_socket *socket, const void *data, size_t length)
{
    append(&socket->incoming, &socket->incoming_length, &socket->incoming_capacity, data, length);
}

void memory_socket_push_text(memory_socket *socket, const char *text)
{
    memory_socket_push(socket, text, strlen(text));
}

/* Like a modem that reports the close at once: FAILED while bytes are still to be read. */
void memory_socket_peer_close(memory_socket *socket)
{
    socket->peer_closing = true;
    if (socket->state == CELLOTA_SOCKET_STATE_OPEN) {
        socket->state = CELLOTA_SOCKET_STATE_FAILED;
        socket->error = CELLOTA_SOCKET_CLOSED;
    }
}

void memory_socket_fail(memory_socket *socket, int error)
{
    socket->failure = error;
    if (socket->state == CELLOTA_SOCKET_STATE_OPEN) {
        socket->state = CELLOTA_SOCKET_STATE_FAILED;
        socket->error = error;
    }
}

size_t memory_socket_unread(const memory_socket *socket)
{
    return socket->incoming_length - socket->incoming_read;
}

const uint8_t *memory_socket_connection_sent(const memory_socket *socket, size_t *length)
{
    *length = socket->sent_length - socket->connection_sent_start;
    return socket->sent + socket->connection_sent_start;
}
