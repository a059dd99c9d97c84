/*
 * libFuzzer target for the image-hosting header parsers (host/server/http_range.h).
 *
 * Input: bytes 0-7 = the file size (little-endian; shorter input: the bytes there are), the rest
 * = a header value, then optionally '\n' and an entity tag. Each part is copied into its own
 * exact-size NUL-terminated buffer, so a read past the end is caught by ASan.
 * Checks: a range answered is inside the file (first <= last < size) and nothing is written
 * otherwise; the decision is the same when asked twice; the range answered, written back as
 * "bytes=first-last", is answered the same; whether a header is honoured does not depend on
 * the size (of a non-empty file); If-Range's strong match implies If-None-Match's weak one; a tag
 * always matches itself quoted, in both, when it is made of entity-tag characters.
 */
#include "server/http_range.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *text_copy(const uint8_t *data, size_t length)
{
    char *text = malloc(length + 1);
    memcpy(text, data, length);
    text[length] = '\0';
    return text;
}

static int is_etag_text(const char *tag)
{
    for (; *tag; tag++) {
        unsigned char c = (unsigned char)*tag;
        if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t file_size = 0;
    size_t index, prefix = size < 8 ? size : 8;
    const uint8_t *newline;
    char *header, *tag, *quoted;
    http_range range = {UINT64_MAX, UINT64_MAX}, again = {0, 0}, rendered_range = {0, 0};
    http_range_result result;
    char rendered[64];

    for (index = 0; index < prefix; index++)
        file_size |= (uint64_t)data[index] << (8 * index);
    data += prefix;
    size -= prefix;
    newline = memchr(data, '\n', size);
    header = text_copy(data, newline ? (size_t)(newline - data) : size);
    tag =
        newline ? text_copy(newline + 1, size - (size_t)(newline - data) - 1) : text_copy(data, 0);

    result = http_range_parse(header, file_size, &range);
    if (result == HTTP_RANGE_PARTIAL) {
        if (!(range.first <= range.last && range.last < file_size))
            abort();
        if (http_range_parse(header, file_size, &again) != result || again.first != range.first ||
            again.last != range.last)
            abort();
        snprintf(rendered, sizeof(rendered), "bytes=%" PRIu64 "-%" PRIu64, range.first, range.last);
        if (http_range_parse(rendered, file_size, &rendered_range) != HTTP_RANGE_PARTIAL ||
            rendered_range.first != range.first || rendered_range.last != range.last)
            abort();
    } else {
        if (range.first != UINT64_MAX || range.last != UINT64_MAX)
            abort();
        if (http_range_parse(header, file_size, &again) != result)
            abort();
    }
    /* Whether the header is honoured at all is a matter of its syntax, not of the file's size
     * (an empty file aside: a suffix of it is answered whole). */
    if (file_size > 0 && (result == HTTP_RANGE_WHOLE) !=
                             (http_range_parse(header, UINT64_MAX, &again) == HTTP_RANGE_WHOLE))
        abort();

    if (http_if_range_allows(header, tag) && !http_if_none_match(header, tag))
        abort();
    if (is_etag_text(tag)) {
        size_t length = strlen(tag);
        quoted = malloc(length + 3);
        quoted[0] = '"';
        memcpy(quoted + 1, tag, length);
        quoted[length + 1] = '"';
        quoted[length + 2] = '\0';
        if (!http_if_none_match(quoted, tag) || !http_if_range_allows(quoted, tag))
            abort();
        free(quoted);
    }
    free(header);
    free(tag);
    return 0;
}
