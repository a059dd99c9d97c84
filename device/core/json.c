/*
 * The bounded JSON reader (contract in json.h). One pass, no recursion: the open containers form
 * a chain through their tokens (an open container's `next` holds its parent's index until it
 * closes and `next` gets its real value), so depth costs no stack and no extra array.
 *
 * String bodies are decoded by one function, next_character, whether the tokenizer is
 * validating them or a helper is copying or comparing them, so what is checked is exactly
 * what is later read.
 */
#include "core/json.h"

#include "core/encoding.h"
#include "core/error.h"

#include <string.h>

#define NO_PARENT 0xFFFFu

enum expect {
    EXPECT_VALUE,       /* the root, after ':', after ',' in an array */
    EXPECT_FIRST_VALUE, /* after '[' */
    EXPECT_KEY,         /* after ',' in an object */
    EXPECT_FIRST_KEY,   /* after '{' */
    EXPECT_AFTER_VALUE  /* ',', the container's end, or (at the root) the end of the text */
};

static bool is_space(char character)
{
    return character == ' ' || character == '\t' || character == '\n' || character == '\r';
}

static bool is_digit(char character)
{
    return character >= '0' && character <= '9';
}

static bool read_hex4(const char *text, size_t end, size_t *position, uint32_t *value)
{
    size_t index;
    *value = 0;
    if (end - *position < 4)
        return false;
    for (index = 0; index < 4; index++) {
        int digit = cellota_hex_digit(text[*position + index]);
        if (digit < 0)
            return false;
        *value = *value << 4 | (uint32_t)digit;
    }
    *position += 4;
    return true;
}

static bool read_escape(const char *text, size_t end, size_t *position, uint32_t *codepoint)
{
    static const char escaped[] = "\"\\/bfnrt", meaning[] = "\"\\/\b\f\n\r\t";
    const char *found;
    uint32_t low;

    if (*position >= end)
        return false;
    if (text[*position] != 'u') {
        found = text[*position] ? strchr(escaped, text[*position]) : NULL;
        if (!found)
            return false;
        *codepoint = (uint8_t)meaning[found - escaped];
        (*position)++;
        return true;
    }
    (*position)++;
    if (!read_hex4(text, end, position, codepoint) ||
        (*codepoint >= 0xDC00 && *codepoint <= 0xDFFF))
        return false;
    if (*codepoint < 0xD800 || *codepoint > 0xDBFF)
        return true;
    /* A high surrogate must be followed by an escaped low one: together one character. */
    if (end - *position < 2 || text[*position] != '\\' || text[*position + 1] != 'u')
        return false;
    *position += 2;
    if (!read_hex4(text, end, position, &low) || low < 0xDC00 || low > 0xDFFF)
        return false;
    *codepoint = 0x10000 + ((*codepoint - 0xD800) << 10) + (low - 0xDC00);
    return true;
}

/* Decodes one character of a string body at *position < end (not the closing quote): an escape
 * or a well-formed UTF-8 sequence (no overlong forms, surrogates or values above U+10FFFF). */
static bool next_character(const char *text, size_t end, size_t *position, uint32_t *codepoint)
{
    size_t at = *position, extra, index;
    uint8_t lead = (uint8_t)text[at];
    uint32_t value, minimum;

    if (lead < 0x20) /* raw control characters must be escaped */
        return false;
    if (lead == '\\') {
        *position = at + 1;
        return read_escape(text, end, position, codepoint);
    }
    if (lead < 0x80) {
        value = lead, extra = 0, minimum = 0;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        value = lead & 0x1Fu, extra = 1, minimum = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        value = lead & 0x0Fu, extra = 2, minimum = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        value = lead & 0x07u, extra = 3, minimum = 0x10000;
    } else {
        return false;
    }
    if (end - at - 1 < extra)
        return false;
    for (index = 1; index <= extra; index++) {
        uint8_t byte = (uint8_t)text[at + index];
        if ((byte & 0xC0) != 0x80)
            return false;
        value = value << 6 | (byte & 0x3Fu);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return false;
    *position = at + 1 + extra;
    *codepoint = value;
    return true;
}

static size_t encode_utf8(uint32_t codepoint, uint8_t bytes[4])
{
    if (codepoint < 0x80) {
        bytes[0] = (uint8_t)codepoint;
        return 1;
    }
    if (codepoint < 0x800) {
        bytes[0] = (uint8_t)(0xC0 | codepoint >> 6);
        bytes[1] = (uint8_t)(0x80 | (codepoint & 0x3F));
        return 2;
    }
    if (codepoint < 0x10000) {
        bytes[0] = (uint8_t)(0xE0 | codepoint >> 12);
        bytes[1] = (uint8_t)(0x80 | (codepoint >> 6 & 0x3F));
        bytes[2] = (uint8_t)(0x80 | (codepoint & 0x3F));
        return 3;
    }
    bytes[0] = (uint8_t)(0xF0 | codepoint >> 18);
    bytes[1] = (uint8_t)(0x80 | (codepoint >> 12 & 0x3F));
    bytes[2] = (uint8_t)(0x80 | (codepoint >> 6 & 0x3F));
    bytes[3] = (uint8_t)(0x80 | (codepoint & 0x3F));
    return 4;
}

/* *position is at the opening quote; on success it is at the closing one. */
static bool scan_string(const char *text, size_t length, size_t *position)
{
    uint32_t codepoint;
    (*position)++;
    for (;;) {
        if (*position >= length)
            return false;
        if (text[*position] == '"')
            return true;
        if (!next_character(text, length, position, &codepoint))
            return false;
    }
}

static size_t skip_digits(const char *text, size_t length, size_t *position)
{
    size_t start = *position;
    while (*position < length && is_digit(text[*position]))
        (*position)++;
    return *position - start;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(const char *text, size_t length, size_t *position)
{
    if (text[*position] == '-')
        (*position)++;
    if (*position < length && text[*position] == '0')
        (*position)++;
    else if (skip_digits(text, length, position) == 0)
        return false;
    if (*position < length && text[*position] == '.') {
        (*position)++;
        if (skip_digits(text, length, position) == 0)
            return false;
    }
    if (*position < length && (text[*position] == 'e' || text[*position] == 'E')) {
        (*position)++;
        if (*position < length && (text[*position] == '+' || text[*position] == '-'))
            (*position)++;
        if (skip_digits(text, length, position) == 0)
            return false;
    }
    return true;
}

static bool scan_literal(const char *text, size_t length, size_t *position, const char *word,
                         size_t word_length)
{
    if (length - *position < word_length || memcmp(text + *position, word, word_length) != 0)
        return false;
    *position += word_length;
    return true;
}

/* Scans a scalar value starting at *position and sets the token's type; false if malformed. */
static bool scan_scalar(const char *text, size_t length, size_t *position,
                        cellota_json_token *token)
{
    switch (text[*position]) {
    case '"':
        token->type = CELLOTA_JSON_STRING;
        token->start = (uint16_t)(*position + 1);
        if (!scan_string(text, length, position))
            return false;
        token->end = (uint16_t)(*position)++;
        return true;
    case 't':
        token->type = CELLOTA_JSON_TRUE;
        return scan_literal(text, length, position, "true", 4);
    case 'f':
        token->type = CELLOTA_JSON_FALSE;
        return scan_literal(text, length, position, "false", 5);
    case 'n':
        token->type = CELLOTA_JSON_NULL;
        return scan_literal(text, length, position, "null", 4);
    default:
        token->type = CELLOTA_JSON_NUMBER;
        return scan_number(text, length, position);
    }
}

int cellota_json_parse(const char *text, size_t length, cellota_json_token *tokens, size_t capacity,
                       unsigned max_depth, size_t *count)
{
    size_t position = 0, used = 0;
    unsigned depth = 0;
    uint16_t parent = NO_PARENT;
    enum expect expect = EXPECT_VALUE;

    *count = 0;
    if (length > CELLOTA_JSON_TEXT_MAX)
        return CELLOTA_JSON_TOO_LARGE;
    if (capacity > CELLOTA_JSON_TOKENS_MAX) /* indexes must stay below NO_PARENT */
        capacity = CELLOTA_JSON_TOKENS_MAX;
    for (;;) {
        cellota_json_token *token;
        char character;

        while (position < length && is_space(text[position]))
            position++;
        if (position == length) {
            if (expect != EXPECT_AFTER_VALUE || parent != NO_PARENT)
                return CELLOTA_JSON_INVALID;
            *count = used;
            return CELLOTA_OK;
        }
        character = text[position];
        if (expect == EXPECT_AFTER_VALUE && parent == NO_PARENT)
            return CELLOTA_JSON_INVALID; /* text after the root value */
        if (expect == EXPECT_AFTER_VALUE && character == ',') {
            expect = tokens[parent].type == CELLOTA_JSON_OBJECT ? EXPECT_KEY : EXPECT_VALUE;
            position++;
            continue;
        }
        if (expect == EXPECT_AFTER_VALUE || expect == EXPECT_FIRST_KEY ||
            expect == EXPECT_FIRST_VALUE) {
            uint16_t grandparent;
            if (character != (tokens[parent].type == CELLOTA_JSON_OBJECT ? '}' : ']')) {
                if (expect == EXPECT_AFTER_VALUE)
                    return CELLOTA_JSON_INVALID;
            } else {
                grandparent = tokens[parent].next;
                tokens[parent].end = (uint16_t)++position;
                tokens[parent].next = (uint16_t)used;
                parent = grandparent;
                depth--;
                expect = EXPECT_AFTER_VALUE;
                continue;
            }
        }

        /* A key or a value starts here. */
        if (used == capacity)
            return CELLOTA_JSON_TOO_LARGE;
        token = &tokens[used];
        token->start = (uint16_t)position;
        token->size = 0;
        token->next = (uint16_t)(used + 1);
        used++;
        if (expect == EXPECT_KEY || expect == EXPECT_FIRST_KEY) {
            if (character != '"' || !scan_scalar(text, length, &position, token))
                return CELLOTA_JSON_INVALID;
            tokens[parent].size++;
            while (position < length && is_space(text[position]))
                position++;
            if (position == length || text[position] != ':')
                return CELLOTA_JSON_INVALID;
            position++;
            expect = EXPECT_VALUE;
            continue;
        }
        if (parent != NO_PARENT && tokens[parent].type == CELLOTA_JSON_ARRAY)
            tokens[parent].size++;
        if (character == '{' || character == '[') {
            if (depth == max_depth)
                return CELLOTA_JSON_TOO_DEEP;
            depth++;
            token->type = character == '{' ? CELLOTA_JSON_OBJECT : CELLOTA_JSON_ARRAY;
            token->next = parent; /* until it closes */
            parent = (uint16_t)(used - 1);
            position++;
            expect = character == '{' ? EXPECT_FIRST_KEY : EXPECT_FIRST_VALUE;
            continue;
        }
        if (!scan_scalar(text, length, &position, token))
            return CELLOTA_JSON_INVALID;
        if (token->type != CELLOTA_JSON_STRING)
            token->end = (uint16_t)position;
        expect = EXPECT_AFTER_VALUE;
    }
}

bool cellota_json_string_equals(const char *text, const cellota_json_token *token, const char *key)
{
    size_t position = token->start, matched = 0;
    if (token->type != CELLOTA_JSON_STRING)
        return false;
    while (position < token->end) {
        uint8_t bytes[4];
        uint32_t codepoint;
        size_t count, index;
        if (!next_character(text, token->end, &position, &codepoint) || codepoint == 0)
            return false;
        count = encode_utf8(codepoint, bytes);
        for (index = 0; index < count; index++) {
            if (key[matched] == '\0' || (uint8_t)key[matched] != bytes[index])
                return false;
            matched++;
        }
    }
    return key[matched] == '\0';
}

bool cellota_json_strings_equal(const char *text, const cellota_json_token *a,
                                const cellota_json_token *b)
{
    size_t a_position = a->start, b_position = b->start;
    if (a->type != CELLOTA_JSON_STRING || b->type != CELLOTA_JSON_STRING)
        return false;
    while (a_position < a->end && b_position < b->end) {
        uint32_t a_codepoint, b_codepoint;
        if (!next_character(text, a->end, &a_position, &a_codepoint) ||
            !next_character(text, b->end, &b_position, &b_codepoint) || a_codepoint != b_codepoint)
            return false;
    }
    return a_position == a->end && b_position == b->end;
}

bool cellota_json_find(const char *text, const cellota_json_token *tokens, size_t object,
                       const char *key, size_t *value)
{
    size_t member, index = object + 1;
    if (tokens[object].type != CELLOTA_JSON_OBJECT)
        return false;
    for (member = 0; member < tokens[object].size; member++) {
        if (cellota_json_string_equals(text, &tokens[index], key)) {
            *value = index + 1;
            return true;
        }
        index = tokens[index + 1].next;
    }
    return false;
}

bool cellota_json_has_duplicate_keys(const char *text, const cellota_json_token *tokens,
                                     size_t object)
{
    size_t member, other, key = object + 1;
    if (tokens[object].type != CELLOTA_JSON_OBJECT)
        return false;
    for (member = 0; member < tokens[object].size; member++) {
        size_t later = tokens[key + 1].next;
        for (other = member + 1; other < tokens[object].size; other++) {
            if (cellota_json_strings_equal(text, &tokens[key], &tokens[later]))
                return true;
            later = tokens[later + 1].next;
        }
        key = tokens[key + 1].next;
    }
    return false;
}

int cellota_json_string_copy(const char *text, const cellota_json_token *token, char *out,
                             size_t capacity, size_t *length)
{
    size_t position = token->start, used = 0;
    if (token->type != CELLOTA_JSON_STRING)
        return CELLOTA_INVALID_ARGUMENT;
    if (capacity == 0)
        return CELLOTA_BUFFER_TOO_SMALL;
    out[0] = '\0'; /* on any error the caller holds an empty string, not a fragment */
    while (position < token->end) {
        uint8_t bytes[4];
        uint32_t codepoint;
        size_t count;
        if (!next_character(text, token->end, &position, &codepoint) || codepoint < 0x20 ||
            codepoint == 0x7F) {
            out[0] = '\0';
            return CELLOTA_JSON_INVALID;
        }
        count = encode_utf8(codepoint, bytes);
        if (capacity - used <= count) {
            out[0] = '\0';
            return CELLOTA_BUFFER_TOO_SMALL;
        }
        memcpy(out + used, bytes, count);
        used += count;
    }
    out[used] = '\0';
    if (length)
        *length = used;
    return CELLOTA_OK;
}
