/*
 * libFuzzer target for the one credential cellota-server reads from the network: the
 * Authorization header of an operator API request (tokens_check_header, server/tokens.h),
 * against a book holding a read token, an operate token (both only as hashes in a tokens file)
 * and a --token secret. The oracle is exact: the header is granted a scope only when it is
 * "Bearer " followed by exactly one of those tokens, and then exactly that token's scope; any
 * other text is TOKEN_NONE. After a NUL byte, the rest of the input is a tokens file
 * (<store>/tokens): reading it must refuse or accept it without reading out of bounds, and an
 * accepted book must still grant nothing to a header it holds no token for.
 */
#include "common/cli.h"
#include "common/random.h"
#include "server/tokens.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static token_book *book;
static char read_token[TOKEN_TEXT_SIZE], operate_token[TOKEN_TEXT_SIZE];
static const char secret[] = "given-on-the-command-line";

static char folder_path[64], book_path[96];

/* The scratch folder goes when the run ends. */
static void clean_up(void)
{
    unlink(book_path);
    rmdir(folder_path);
}

static void set_up(void)
{
    char folder[] = "/tmp/cellota-fuzz-auth-XXXXXX", path[96], error[256];
    host_random random;
    if (!mkdtemp(folder) || host_random_open(&random, "fuzz_server_auth") != HOST_EXIT_OK)
        abort();
    snprintf(path, sizeof(path), "%s/tokens", folder);
    snprintf(folder_path, sizeof(folder_path), "%s", folder);
    snprintf(book_path, sizeof(book_path), "%s", path);
    atexit(clean_up);
    if (tokens_create(path, TOKEN_READ, "viewer", &random, read_token) != HOST_EXIT_OK ||
        tokens_create(path, TOKEN_OPERATE, "pipeline", &random, operate_token) != HOST_EXIT_OK ||
        !(book = tokens_open(path, error, sizeof(error))))
        abort();
    tokens_add_secret(book, secret, TOKEN_OPERATE);
    host_random_close(&random);
}

static token_scope expected(const char *header)
{
    if (strncmp(header, "Bearer ", 7) != 0)
        return TOKEN_NONE;
    header += 7;
    if (strcmp(header, read_token) == 0)
        return TOKEN_READ;
    if (strcmp(header, operate_token) == 0 || strcmp(header, secret) == 0)
        return TOKEN_OPERATE;
    return TOKEN_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!book)
        set_up();
    const uint8_t *nul = memchr(data, 0, size);
    size_t header_length = nul ? (size_t)(nul - data) : size;
    char *header = malloc(header_length + 1);
    if (!header)
        return 0;
    memcpy(header, data, header_length);
    header[header_length] = '\0';
    if (tokens_check_header(book, header) != expected(header))
        abort();
    token_scope direct = strcmp(header, read_token) == 0 ? TOKEN_READ
                         : strcmp(header, operate_token) == 0 || strcmp(header, secret) == 0
                             ? TOKEN_OPERATE
                             : TOKEN_NONE;
    if (tokens_check(book, header) != direct)
        abort();
    if (nul) {
        /* a tokens file: refused with a sentence, or read into no more tokens than it has
         * lines; an empty token is never granted anything */
        const uint8_t *text = nul + 1;
        size_t length = size - header_length - 1, lines = 0;
        char error[256] = "";
        for (size_t i = 0; i < length; i++)
            lines += text[i] == '\n';
        lines += length > 0 && text[length - 1] != '\n';
        token_book *other = tokens_from_text((const char *)text, length, error, sizeof(error));
        if (!other) {
            if (!error[0] || strnlen(error, sizeof(error)) == sizeof(error))
                abort();
        } else {
            if (tokens_count(other) > lines || tokens_check_header(other, "Bearer ") != TOKEN_NONE ||
                tokens_check(other, "") != TOKEN_NONE)
                abort();
            tokens_close(other);
        }
    }
    free(header);
    return 0;
}
