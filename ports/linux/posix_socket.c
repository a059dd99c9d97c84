/* cellota_socket over non-blocking BSD sockets; see posix_socket.h. */
#define _GNU_SOURCE
#include "posix_socket.h"

#include "core/error.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int error_from_errno(int number)
{
    switch (number) {
    case ECONNREFUSED:
        return CELLOTA_SOCKET_REFUSED;
    case EPIPE:
        return CELLOTA_SOCKET_CLOSED;
    default:
        return CELLOTA_SOCKET_LINK_LOST; /* reset, unreachable, timed out */
    }
}

static void fail(cellota_posix_socket *posix, int error)
{
    posix->state = CELLOTA_SOCKET_STATE_FAILED;
    posix->error = error;
}

static int posix_open(void *context, cellota_socket_kind kind, const char *host, uint16_t port)
{
    cellota_posix_socket *posix = context;
    struct addrinfo hints, *addresses = NULL;
    char service[8];
    int one = 1, result;

    if (posix->state != CELLOTA_SOCKET_STATE_CLOSED)
        return CELLOTA_BUSY;
    if (kind != CELLOTA_SOCKET_TCP)
        return CELLOTA_NET_SOCKET_TLS_UNSUPPORTED;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", port);
    if (getaddrinfo(host, service, &hints, &addresses) != 0 || !addresses)
        return CELLOTA_SOCKET_HOST_NOT_FOUND;
    posix->fd = socket(addresses->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (posix->fd < 0) {
        freeaddrinfo(addresses);
        return CELLOTA_SOCKET_LINK_LOST;
    }
    /* Small MQTT packets and HTTP requests should leave at once, not wait for more. */
    setsockopt(posix->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    result = connect(posix->fd, addresses->ai_addr, addresses->ai_addrlen);
    freeaddrinfo(addresses);
    posix->error = CELLOTA_OK;
    if (result == 0)
        posix->state = CELLOTA_SOCKET_STATE_OPEN;
    else if (errno == EINPROGRESS)
        posix->state = CELLOTA_SOCKET_STATE_OPENING;
    else
        fail(posix, error_from_errno(errno));
    return CELLOTA_IN_PROGRESS;
}

static int posix_send(void *context, const uint8_t *data, size_t length, size_t *accepted)
{
    cellota_posix_socket *posix = context;
    ssize_t count;
    *accepted = 0;
    if (posix->state != CELLOTA_SOCKET_STATE_OPEN)
        return posix->state == CELLOTA_SOCKET_STATE_FAILED ? posix->error : CELLOTA_SOCKET_NOT_OPEN;
    if (length == 0)
        return CELLOTA_OK;
    count = send(posix->fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (count < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return CELLOTA_OK;
        fail(posix, error_from_errno(errno));
        return posix->error;
    }
    *accepted = (size_t)count;
    return CELLOTA_OK;
}

static int posix_receive(void *context, uint8_t *buffer, size_t capacity, size_t *received)
{
    cellota_posix_socket *posix = context;
    ssize_t count;
    *received = 0;
    if (posix->fd < 0 ||
        (posix->state != CELLOTA_SOCKET_STATE_OPEN && posix->state != CELLOTA_SOCKET_STATE_FAILED))
        return CELLOTA_SOCKET_NOT_OPEN;
    if (capacity == 0)
        return CELLOTA_OK;
    count = recv(posix->fd, buffer, capacity, MSG_DONTWAIT);
    if (count > 0) {
        *received = (size_t)count;
        return CELLOTA_OK;
    }
    if (count == 0) {
        fail(posix, CELLOTA_SOCKET_CLOSED);
        return CELLOTA_SOCKET_CLOSED;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return posix->state == CELLOTA_SOCKET_STATE_FAILED ? posix->error : CELLOTA_OK;
    fail(posix, error_from_errno(errno));
    return posix->error;
}

static int posix_close(void *context)
{
    cellota_posix_socket *posix = context;
    if (posix->fd >= 0)
        close(posix->fd);
    posix->fd = -1;
    posix->state = CELLOTA_SOCKET_STATE_CLOSED;
    posix->error = CELLOTA_OK;
    return CELLOTA_OK;
}

static void posix_poll(void *context, uint32_t now_ms)
{
    cellota_posix_socket *posix = context;
    struct pollfd entry;
    (void)now_ms;
    if (posix->fd < 0 ||
        (posix->state != CELLOTA_SOCKET_STATE_OPENING && posix->state != CELLOTA_SOCKET_STATE_OPEN))
        return;
    entry.fd = posix->fd;
    entry.events = (short)(posix->state == CELLOTA_SOCKET_STATE_OPENING ? POLLOUT : POLLRDHUP);
    entry.revents = 0;
    if (poll(&entry, 1, 0) <= 0)
        return;
    if (posix->state == CELLOTA_SOCKET_STATE_OPENING) {
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(posix->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error == 0)
            posix->state = CELLOTA_SOCKET_STATE_OPEN;
        else
            fail(posix, error_from_errno(error));
    } else if (entry.revents & POLLERR) {
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(posix->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        fail(posix, error ? error_from_errno(error) : CELLOTA_SOCKET_LINK_LOST);
    } else if (entry.revents & (POLLRDHUP | POLLHUP)) {
        fail(posix, CELLOTA_SOCKET_CLOSED); /* its last bytes can still be received */
    }
}

static cellota_socket_state posix_state(void *context, int *error)
{
    cellota_posix_socket *posix = context;
    *error = posix->error;
    return posix->state;
}

static const cellota_socket_operations posix_operations = {posix_open,  posix_send, posix_receive,
                                                           posix_close, posix_poll, posix_state};

void cellota_posix_socket_init(cellota_posix_socket *posix)
{
    memset(posix, 0, sizeof(*posix));
    posix->fd = -1;
    posix->state = CELLOTA_SOCKET_STATE_CLOSED;
    posix->socket.operations = &posix_operations;
    posix->socket.context = posix;
}
