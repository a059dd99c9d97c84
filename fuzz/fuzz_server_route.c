/*
 * libFuzzer target for cellota-server's routing of every HTTP request it takes (the method and
 * the path, before any handler runs): http_route_find over the API's and the public route
 * tables (server/http.h). Input: the method, a NUL byte, the path. Checks that a route found
 * takes that method (HEAD also takes GET's), that its pattern with the "*" segments put back is
 * exactly the path (a segment is never empty and never holds a '/', so no segment can reach
 * another folder), that the entries after the pattern's segments are NULL, that a path no
 * route has is never given one, and that routing is deterministic.
 */
#include "server/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The pattern with its "*"s replaced by the segments; NULL when a segment is missing. */
static char *rebuild(const http_match *found)
{
    size_t length = 1, count = 0;
    const char *p;
    for (p = found->route->pattern; *p; p++) {
        if (*p != '*') {
            length++;
            continue;
        }
        if (count >= HTTP_SEGMENTS_MAX || !found->segments[count])
            return NULL;
        length += strlen(found->segments[count++]);
    }
    for (size_t i = count; i < HTTP_SEGMENTS_MAX; i++)
        if (found->segments[i])
            abort(); /* a segment the pattern does not have */
    char *text = malloc(length), *out = text;
    if (!text)
        abort();
    count = 0;
    for (p = found->route->pattern; *p; p++) {
        if (*p != '*') {
            *out++ = *p;
            continue;
        }
        const char *segment = found->segments[count++];
        if (!segment[0] || strchr(segment, '/'))
            abort();
        memcpy(out, segment, strlen(segment));
        out += strlen(segment);
    }
    *out = '\0';
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return 0;
    size_t method_length = (size_t)(nul - data), path_length = size - method_length - 1;
    char *method = malloc(method_length + 1), *path = malloc(path_length + 1);
    if (!method || !path)
        abort();
    memcpy(method, data, method_length);
    method[method_length] = '\0';
    memcpy(path, nul + 1, path_length);
    path[path_length] = '\0'; /* a NUL inside ends the path, as it would in libmicrohttpd */
    http_match found, again;
    http_route_find(method, path, &found);
    http_route_find(method, path, &again);
    if (!found.path_copy || found.route != again.route || found.path_known != again.path_known)
        abort();
    if (found.route) {
        if (!found.path_known ||
            (strcmp(found.route->method, method) != 0 &&
             !(strcmp(method, "HEAD") == 0 && strcmp(found.route->method, "GET") == 0)))
            abort();
        char *rebuilt = rebuild(&found);
        if (!rebuilt || strcmp(rebuilt, path) != 0)
            abort();
        free(rebuilt);
        for (size_t i = 0; i < HTTP_SEGMENTS_MAX; i++)
            if ((found.segments[i] == NULL) != (again.segments[i] == NULL) ||
                (found.segments[i] && strcmp(found.segments[i], again.segments[i]) != 0))
                abort();
    } else {
        for (size_t i = 0; i < HTTP_SEGMENTS_MAX; i++)
            if (found.segments[i])
                abort();
    }
    http_match_free(&found);
    http_match_free(&again);
    free(method);
    free(path);
    return 0;
}
