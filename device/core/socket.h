/*
 * The socket interface: a byte stream to a host and port, the one thing the HTTP and MQTT clients
 * see of the network. The `at` module implements it over a modem's AT commands; the Linux port
 * implements it over BSD sockets so the clients can be tested against real servers directly.
 *
 * Everything is non-blocking and polled. The owner of a socket calls `poll` with the time, then
 * reads `state`; `open` and `close` only start their work. Data is never passed up unless the
 * layer below delivered it whole and in order: a fault is a state, not garbage in the stream.
 *
 *   CLOSED --open--> OPENING --(connected)--> OPEN --close--> CLOSING --> CLOSED
 *                       \                       \--(peer closed, link lost, modem reset)--> FAILED
 *                        \--(refused, timeout, no network)--> FAILED
 *
 * In FAILED, `error` says why (a cellota_error code); bytes the peer sent before it closed may
 * still be received until `receive` reports CELLOTA_SOCKET_CLOSED. `close` from any state returns
 * the socket to CLOSED and makes it reusable.
 */
#ifndef CELLOTA_CORE_SOCKET_H
#define CELLOTA_CORE_SOCKET_H

#include <stddef.h>
#include <stdint.h>

typedef enum cellota_socket_kind {
    CELLOTA_SOCKET_TCP = 0,
    CELLOTA_SOCKET_TLS = 1 /* TLS terminated in the modem, where the modem can */
} cellota_socket_kind;

typedef enum cellota_socket_state {
    CELLOTA_SOCKET_STATE_CLOSED = 0,
    CELLOTA_SOCKET_STATE_OPENING,
    CELLOTA_SOCKET_STATE_OPEN,
    CELLOTA_SOCKET_STATE_CLOSING,
    CELLOTA_SOCKET_STATE_FAILED
} cellota_socket_state;

typedef struct cellota_socket_operations {
    /* Starts connecting. CELLOTA_IN_PROGRESS, or an error if it cannot start (busy, bad host). */
    int (*open)(void *context, cellota_socket_kind kind, const char *host, uint16_t port);

    /* Queues up to `length` bytes; *accepted says how many (0 when the send path is full).
     * Returns CELLOTA_OK, or an error when the socket is not OPEN. */
    int (*send)(void *context, const uint8_t *data, size_t length, size_t *accepted);

    /* Moves up to `capacity` received bytes into `buffer`; *received says how many (0: none yet).
     * Returns CELLOTA_OK while the stream may still deliver, CELLOTA_SOCKET_CLOSED once the peer
     * has closed and every byte before the close has been received, or an error. */
    int (*receive)(void *context, uint8_t *buffer, size_t capacity, size_t *received);

    /* Starts closing; always succeeds in returning the socket to CLOSED eventually. As a TCP
     * close, bytes `send` accepted on an OPEN socket go out before the connection closes. */
    int (*close)(void *context);

    /* Advances the socket's work. Call it often; it never waits. */
    void (*poll)(void *context, uint32_t now_ms);

    /* The current state, and in FAILED the reason. */
    cellota_socket_state (*state)(void *context, int *error);
} cellota_socket_operations;

typedef struct cellota_socket {
    const cellota_socket_operations *operations;
    void *context;
} cellota_socket;

#endif
