/* Range, If-None-Match and If-Range, parsed; see http_range.h for the decisions. */
#include "server/http_range.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Optional whitespace (OWS): spaces and horizontal tabs. */
static const char *skip_spaces(const char *cursor)
{
    while (*cursor == ' ' || *cursor == '\t')
        cursor++;
    return cursor;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1*DIGIT at *cursor, saturating at UINT64_MAX: a position past any file is still a position,
 * and "to the end" stays "to the end". False when there is no digit. */
static bool read_number(const char **cursor, uint64_t *value)
{
    const char *text = *cursor;
    uint64_t number = 0;

    if (!is_digit(*text))
        return false;
    for (; is_digit(*text); text++) {
        unsigned digit = (unsigned)(*text - '0');
        if (number > (UINT64_MAX - digit) / 10)
            number = UINT64_MAX;
        else
            number = number * 10 + digit;
    }
    *cursor = text;
    *value = number;
    return true;
}

typedef struct range_spec {
    bool suffix;    /* "-N" */
    bool open;      /* "A-" */
    uint64_t first; /* A, or N for a suffix */
    uint64_t last;  /* B */
} range_spec;

/* int-range = first-pos "-" [ last-pos ] / suffix-range = "-" suffix-length (RFC 9110 14.1.1).
 * No whitespace inside: "0 - 5" is malformed. */
static bool read_range_spec(const char **cursor, range_spec *spec)
{
    const char *text = *cursor;

    memset(spec, 0, sizeof(*spec));
    if (*text == '-') {
        text++;
        spec->suffix = true;
        if (!read_number(&text, &spec->first))
            return false;
    } else {
        if (!read_number(&text, &spec->first) || *text != '-')
            return false;
        text++;
        if (is_digit(*text)) {
            read_number(&text, &spec->last);
            if (spec->last < spec->first)
                return false; /* invalid, so the whole header may be ignored */
        } else {
            spec->open = true;
        }
    }
    *cursor = text;
    return true;
}

http_range_result http_range_parse(const char *header, uint64_t size, http_range *range)
{
    const char *cursor;
    range_spec spec = {0};
    int count = 0;

    if (!header)
        return HTTP_RANGE_WHOLE;
    cursor = skip_spaces(header);
    if (strncasecmp(cursor, "bytes", 5) != 0 || cursor[5] != '=')
        return HTTP_RANGE_WHOLE;
    cursor += 6;
    /* range-set = 1#range-spec: a list, whose empty elements a recipient skips (RFC 9110 5.6.1). */
    for (;;) {
        cursor = skip_spaces(cursor);
        if (*cursor == ',') {
            cursor++;
            continue;
        }
        if (*cursor == '\0')
            break;
        /* Several ranges would need multipart/byteranges; a device resuming asks for one, and
         * RFC 9110 lets a server answer the whole instead. */
        if (count == 1 || !read_range_spec(&cursor, &spec))
            return HTTP_RANGE_WHOLE;
        count++;
        cursor = skip_spaces(cursor);
        if (*cursor != ',' && *cursor != '\0')
            return HTTP_RANGE_WHOLE;
    }
    if (count == 0)
        return HTTP_RANGE_WHOLE;

    if (spec.suffix) {
        if (spec.first == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        if (size == 0)
            return HTTP_RANGE_WHOLE;
        range->first = spec.first >= size ? 0 : size - spec.first;
        range->last = size - 1;
        return HTTP_RANGE_PARTIAL;
    }
    if (spec.first >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    range->first = spec.first;
    range->last = spec.open || spec.last >= size ? size - 1 : spec.last;
    return HTTP_RANGE_PARTIAL;
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text (RFC 9110
 * 8.8.3). On success *cursor is past the closing quote and opaque/length name the inside. */
static bool read_entity_tag(const char **cursor, bool *weak, const char **opaque, size_t *length)
{
    const char *text = *cursor;
    const char *start;

    *weak = text[0] == 'W' && text[1] == '/';
    if (*weak)
        text += 2;
    if (*text != '"')
        return false;
    start = ++text;
    for (;; text++) {
        unsigned char c = (unsigned char)*text;
        if (c == '"')
            break;
        if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80))
            return false; /* includes the terminating NUL */
    }
    *opaque = start;
    *length = (size_t)(text - start);
    *cursor = text + 1;
    return true;
}

static bool opaque_equals(const char *opaque, size_t length, const char *tag)
{
    return strlen(tag) == length && memcmp(opaque, tag, length) == 0;
}

bool http_if_none_match(const char *header, const char *tag)
{
    const char *cursor, *opaque;
    size_t length;
    bool weak, matched = false;

    if (!header)
        return false;
    cursor = skip_spaces(header);
    if (*cursor == '*')
        return *skip_spaces(cursor + 1) == '\0';
    for (;;) {
        cursor = skip_spaces(cursor);
        if (*cursor == ',') {
            cursor++;
            continue;
        }
        if (*cursor == '\0')
            return matched;
        if (!read_entity_tag(&cursor, &weak, &opaque, &length))
            return false;
        /* Weak comparison: the W/ prefix does not matter (RFC 9110 8.8.3.2). */
        if (opaque_equals(opaque, length, tag))
            matched = true;
        cursor = skip_spaces(cursor);
        if (*cursor != ',' && *cursor != '\0')
            return false;
    }
}

bool http_if_range_allows(const char *header, const char *tag)
{
    const char *cursor, *opaque;
    size_t length;
    bool weak;

    if (!header)
        return true;
    cursor = skip_spaces(header);
    /* A date fails here (it does not start with a quote), and so do a list and trailing text. */
    if (!read_entity_tag(&cursor, &weak, &opaque, &length))
        return false;
    return !weak && *skip_spaces(cursor) == '\0' && opaque_equals(opaque, length, tag);
}
