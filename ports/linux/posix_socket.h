/*
 * cellota_socket over a non-blocking BSD TCP socket, so the HTTP and MQTT clients run against
 * real servers on Linux (tests, cellota-device with a host network). Plain TCP only: a TLS
 * socket is refused with CELLOTA_NET_SOCKET_TLS_UNSUPPORTED.
 *
 * Name resolution uses getaddrinfo, which may block briefly (fine on Linux; the modem socket
 * resolves inside the modem). Connecting is non-blocking: OPENING until poll sees it complete.
 * The peer's close is noticed by poll (FAILED with CELLOTA_SOCKET_CLOSED) while its last bytes
 * can still be received; receive then reports CELLOTA_SOCKET_CLOSED. Errors map to
 * CELLOTA_SOCKET_REFUSED, CELLOTA_SOCKET_HOST_NOT_FOUND and CELLOTA_SOCKET_LINK_LOST.
 */
#ifndef CELLOTA_PORTS_LINUX_POSIX_SOCKET_H
#define CELLOTA_PORTS_LINUX_POSIX_SOCKET_H

#include "core/socket.h"

typedef struct cellota_posix_socket {
    cellota_socket socket; /* hand &this->socket to a client */
    int fd;                /* -1 when closed; a test may shut it down to cut the connection */
    cellota_socket_state state;
    int error;
} cellota_posix_socket;

/* Prepares a CLOSED socket. */
void cellota_posix_socket_init(cellota_posix_socket *posix);

#endif
