/*
 * A bounded JSON reader (RFC 8259) that needs no heap: it tokenizes a whole text into an array
 * the caller provides, validating everything on the way (grammar, string escapes, UTF-8, depth),
 * and a few helpers read what it found. The update request parser uses it, and so can any
 * module that receives JSON (the agent's commands).
 *
 * Tokens are in document order. An object's token is followed by its members as key, value,
 * key, value...; an array's by its elements; `next` skips a whole value, so members are walked
 * as `key = object + 1; value = key + 1; key = tokens[value].next`. Offsets are 16-bit: texts
 * are at most CELLOTA_JSON_TEXT_MAX bytes, which keeps a token at 10 bytes on a small MCU.
 */
#ifndef CELLOTA_CORE_JSON_H
#define CELLOTA_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_JSON_TEXT_MAX 65535u
#define CELLOTA_JSON_TOKENS_MAX 65535u

typedef enum cellota_json_type {
    CELLOTA_JSON_OBJECT = 1,
    CELLOTA_JSON_ARRAY,
    CELLOTA_JSON_STRING,
    CELLOTA_JSON_NUMBER,
    CELLOTA_JSON_TRUE,
    CELLOTA_JSON_FALSE,
    CELLOTA_JSON_NULL
} cellota_json_type;

typedef struct cellota_json_token {
    uint8_t type;   /* a cellota_json_type */
    uint16_t start; /* first byte; for a string the first byte inside the quotes */
    uint16_t end;   /* one past the last byte; for a string the closing quote */
    uint16_t size;  /* members of an object, elements of an array, else 0 */
    uint16_t next;  /* index of the first token after this value and everything inside it */
} cellota_json_token;

/*
 * Tokenizes `length` bytes holding exactly one JSON value (white space around it allowed).
 * Stores *count tokens. CELLOTA_OK; CELLOTA_JSON_INVALID for anything RFC 8259 does not allow
 * (including invalid UTF-8, lone surrogate escapes, raw control characters in strings, trailing
 * commas or text); CELLOTA_JSON_TOO_DEEP when arrays and objects nest deeper than `max_depth`;
 * CELLOTA_JSON_TOO_LARGE when the text is longer than CELLOTA_JSON_TEXT_MAX or needs more than
 * `capacity` tokens. Never reads past `length`; the text need not be NUL-terminated.
 */
int cellota_json_parse(const char *text, size_t length, cellota_json_token *tokens, size_t capacity,
                       unsigned max_depth, size_t *count);

/* Does the string token `token` decode to exactly the NUL-terminated UTF-8 `key`? */
bool cellota_json_string_equals(const char *text, const cellota_json_token *token, const char *key);

/* Do two string tokens decode to the same characters (escapes resolved)? */
bool cellota_json_strings_equal(const char *text, const cellota_json_token *a,
                                const cellota_json_token *b);

/* The value of the first member named `key` of the object at tokens[object]: true and its index
 * in *value, or false when the object has no such member. */
bool cellota_json_find(const char *text, const cellota_json_token *tokens, size_t object,
                       const char *key, size_t *value);

/* Does the object at tokens[object] name a member twice (compared after unescaping)? */
bool cellota_json_has_duplicate_keys(const char *text, const cellota_json_token *tokens,
                                     size_t object);

/*
 * Copies a string token's value, unescaped (\uXXXX and surrogate pairs to UTF-8), into `out`
 * with a terminating NUL; *length (may be NULL) gets the bytes before the NUL. CELLOTA_OK;
 * CELLOTA_INVALID_ARGUMENT when the token is not a string; CELLOTA_BUFFER_TOO_SMALL when the
 * value and its NUL do not fit `capacity`; CELLOTA_JSON_INVALID when the value holds a control
 * character (U+0000-U+001F, U+007F; allowed escaped in JSON, but no field a device keeps may
 * carry one: a NUL would cut it short, a newline would forge a line of a signed text).
 */
int cellota_json_string_copy(const char *text, const cellota_json_token *token, char *out,
                             size_t capacity, size_t *length);

#endif
