/*
 * URL parsing for the HTTP client: http://host[:port][/path][?query][#fragment], and https://
 * which asks the socket for TLS. Nothing is copied: the parts point into the caller's text.
 *
 * Refused, each with its own code: another scheme, user credentials (user@host), IPv6 literals
 * ([::1]), an empty host, a port outside 1-65535, spaces or control characters anywhere. The
 * fragment is dropped (it is never sent to a server); an empty path means "/".
 */
#ifndef CELLOTA_NET_URL_H
#define CELLOTA_NET_URL_H

#include "core/socket.h"

#include <stddef.h>
#include <stdint.h>

typedef struct cellota_url {
    cellota_socket_kind kind; /* TCP for http, TLS for https */
    uint16_t port;            /* 80 or 443 unless the URL gives one */
    const char *host;         /* not NUL-terminated: host_length bytes */
    size_t host_length;
    const char *path; /* from the first '/' with the query, without the fragment; may be empty */
    size_t path_length;
} cellota_url;

/*
 * Parses `length` bytes of `text` (no NUL needed). CELLOTA_OK, CELLOTA_NET_URL_BAD_SCHEME,
 * CELLOTA_NET_URL_BAD_HOST, CELLOTA_NET_URL_BAD_PORT or CELLOTA_NET_URL_BAD_PATH. On an error
 * *url is left in an unspecified state.
 */
int cellota_url_parse(cellota_url *url, const char *text, size_t length);

#endif
