/*
 * libFuzzer target for the update request parser and the JSON reader under it. The input is
 * parsed as a request (then digested when it parses), and as plain JSON with a small token
 * array and depth, walking every object with the helpers. Checks that what comes out stays
 * within its bounds and that parsing is deterministic.
 */
#include "core/error.h"
#include "core/json.h"
#include "image/request.h"

#include <stdlib.h>
#include <string.h>

static void check_string(const char *text, size_t capacity)
{
    if (strnlen(text, capacity) >= capacity)
        abort(); /* not terminated within its buffer */
}

static void walk_json(const char *text, size_t length)
{
    cellota_json_token tokens[24];
    size_t count, index, value;
    char copy[32];

    if (cellota_json_parse(text, length, tokens, 24, 6, &count) != CELLOTA_OK)
        return;
    if (count == 0 || count > 24 || tokens[0].next != count)
        abort();
    for (index = 0; index < count; index++) {
        const cellota_json_token *token = &tokens[index];
        size_t copied = 0;
        if (token->start > token->end || token->end > length || token->next <= index ||
            token->next > count)
            abort();
        if (cellota_json_string_copy(text, token, copy, sizeof(copy), &copied) == CELLOTA_OK &&
            (copied >= sizeof(copy) || strlen(copy) != copied))
            abort();
        if (token->type == CELLOTA_JSON_OBJECT) {
            (void)cellota_json_has_duplicate_keys(text, tokens, index);
            if (cellota_json_find(text, tokens, index, "url", &value) &&
                (value <= index || value >= token->next))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so reading a byte past `size` is caught by AddressSanitizer. */
    char *text = malloc(size ? size : 1);
    cellota_update_request request, again;
    uint8_t digest[32], digest_again[32];
    int result;

    memcpy(text, data, size);
    result = cellota_request_parse(&request, text, size);
    if (result == CELLOTA_OK) {
        check_string(request.type, sizeof(request.type));
        check_string(request.url, sizeof(request.url));
        check_string(request.alt_url, sizeof(request.alt_url));
        check_string(request.version, sizeof(request.version));
        check_string(request.id, sizeof(request.id));
        if (strcmp(request.type, "update_fw") != 0 || (!request.url[0] && !request.alt_url[0]))
            abort();
        if (cellota_request_digest(&request, digest) != CELLOTA_OK)
            abort();
        if (cellota_request_parse(&again, text, size) != CELLOTA_OK ||
            cellota_request_digest(&again, digest_again) != CELLOTA_OK ||
            memcmp(digest, digest_again, 32) != 0)
            abort();
    } else if (request.has_signature) {
        abort();
    }
    walk_json(text, size);
    free(text);
    return 0;
}
