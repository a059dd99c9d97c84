/*
 * A cellota_socket in memory, for deterministic tests of the HTTP and MQTT clients: the test
 * plays the server by pushing the bytes it "sends" and reading what the client sent, and
 * chooses how the stream is cut (bytes per receive, fixed or random; bytes accepted per send),
 * how connecting goes (delay, refusal), and when the peer closes or the link fails.
 *
 * It keeps the socket contract of core/socket.h: open only from CLOSED, OPENING for
 * open_delay_polls polls, send only when OPEN, bytes pushed before a close or failure still
 * received before CELLOTA_SOCKET_CLOSED (or the failure's error), close -> CLOSING -> CLOSED at
 * the next poll. Host test code: it uses the heap.
 */
#ifndef CELLOTA_TESTS_MEMORY_SOCKET_H
#define CELLOTA_TESTS_MEMORY_SOCKET_H

#include "core/socket.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct memory_socket {
    cellota_socket socket; /* hand &this->socket to a client */

    /* Behaviour, set by the test. */
    size_t receive_limit;      /* most bytes per receive call; 0: no limit */
    bool random_receive;       /* receive 1..receive_limit bytes, drawn from `seed` */
    size_t send_limit;         /* most bytes accepted per send call; 0: no limit */
    bool send_blocked;         /* the send path is full: nothing is accepted */
    unsigned open_delay_polls; /* polls spent OPENING */
    int open_error;            /* returned by open (and nothing opens) when not CELLOTA_OK */
    int connect_error;         /* the connection fails with it instead of opening */
    bool never_connect;        /* stays OPENING forever (for connect timeouts) */
    uint32_t seed;

    /* What happened, read by the test. */
    cellota_socket_state state;
    int error;
    unsigned opens, closes, polls;
    char host[256];
    uint16_t port;
    cellota_socket_kind kind;
    uint8_t *sent; /* everything the client sent, over all connections */
    size_t sent_length;
    size_t connection_sent_start; /* where the current connection's bytes start in `sent` */

    /* Server to client bytes of the current connection. */
    uint8_t *incoming;
    size_t incoming_length, incoming_read, incoming_capacity;
    bool peer_closing; /* once incoming is read, the peer has closed */
    int failure;       /* once incoming is read, the link has failed with this */
    size_t sent_capacity;
    unsigned delay_left;
} memory_socket;

void memory_socket_init(memory_socket *socket);
void memory_socket_free(memory_socket *socket);

/* The server sends bytes (appended to what the client has yet to receive). */
void memory_socket_push(memory_socket *socket, const void *data, size_t length);
void memory_socket_push_text(memory_socket *socket, const char *text);

/* The server closes after the bytes pushed so far. */
void memory_socket_peer_close(memory_socket *socket);

/* The link fails with `error` (e.g. CELLOTA_SOCKET_LINK_LOST) after the bytes pushed so far. */
void memory_socket_fail(memory_socket *socket, int error);

/* Bytes pushed but not yet received by the client. */
size_t memory_socket_unread(const memory_socket *socket);

/* The bytes the client sent on the current connection (not NUL-terminated). */
const uint8_t *memory_socket_connection_sent(const memory_socket *socket, size_t *length);

#endif
