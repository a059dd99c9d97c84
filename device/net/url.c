/* URL parsing: splits an http(s) URL into socket kind, host, port and path, copying nothing. */
#include "net/url.h"

#include "core/error.h"
#include "net/text.h"

#include <stdbool.h>
#include <string.h>

/* Host names: letters, digits, '-', '.' and '_' (seen in real names though not in the RFC). */
static bool is_host_character(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

int cellota_url_parse(cellota_url *url, const char *text, size_t length)
{
    size_t index, authority_end;

    for (index = 0; index < length; index++) {
        unsigned char c = (unsigned char)text[index];
        if (c <= ' ' || c == 0x7F)
            return CELLOTA_NET_URL_BAD_PATH;
    }
    if (length >= 7 && cellota_text_equals(text, 7, "http://")) {
        url->kind = CELLOTA_SOCKET_TCP;
        url->port = 80;
        index = 7;
    } else if (length >= 8 && cellota_text_equals(text, 8, "https://")) {
        url->kind = CELLOTA_SOCKET_TLS;
        url->port = 443;
        index = 8;
    } else {
        return CELLOTA_NET_URL_BAD_SCHEME;
    }

    authority_end = index;
    while (authority_end < length && text[authority_end] != '/' && text[authority_end] != '?' &&
           text[authority_end] != '#')
        authority_end++;

    url->host = text + index;
    if (memchr(url->host, '@', authority_end - index))
        return CELLOTA_NET_URL_BAD_HOST; /* credentials in a URL are never sent */
    while (index < authority_end && text[index] != ':') {
        if (!is_host_character(text[index]))
            return CELLOTA_NET_URL_BAD_HOST;
        index++;
    }
    url->host_length = (size_t)(text + index - url->host);
    if (url->host_length == 0)
        return CELLOTA_NET_URL_BAD_HOST;
    if (index < authority_end) {
        uint32_t port;
        index++; /* the ':' */
        if (!cellota_text_to_u32(text + index, authority_end - index, &port) || port == 0 ||
            port > 65535)
            return CELLOTA_NET_URL_BAD_PORT;
        url->port = (uint16_t)port;
    }

    url->path = text + authority_end;
    url->path_length = 0;
    while (authority_end + url->path_length < length && url->path[url->path_length] != '#')
        url->path_length++;
    return CELLOTA_OK;
}
