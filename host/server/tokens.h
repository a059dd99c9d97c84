/*
 * The operator API's bearer tokens and what each may do. Two scopes:
 *   read     every GET of /api/ (the dashboard's views, `cellota devices`, `campaign show`);
 *   operate  also what changes something: uploads, campaigns and their pause/resume/abort,
 *            tags (every other method).
 * The server keeps only tokens' SHA-256, never a token: in <store>/tokens (mode 0600), one
 * "<sha256 hex> <scope> <name>" line each, written by `cellota-server --new-token SCOPE`
 * (which prints the token once) and `--revoke-token NAME`; and in memory for the token given
 * by --token or CELLOTA_TOKEN (operate). The file is read again when it changes (looked at no
 * more than once a second), so a token made or revoked while the server runs counts at once.
 *
 * Thread-safe: the HTTP threads ask at once.
 */
#ifndef CELLOTA_SERVER_TOKENS_H
#define CELLOTA_SERVER_TOKENS_H

#include "common/random.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum token_scope {
    TOKEN_NONE = 0, /* no token needed (a route) / no token matched (a request) */
    TOKEN_READ = 1,
    TOKEN_OPERATE = 2,
} token_scope;

/* A token is 64 hex digits (32 random bytes); presented tokens of any length are hashed. */
#define TOKEN_TEXT_SIZE 65
#define TOKEN_NAME_MAX 32

typedef struct token_book token_book;

/* "read" / "operate". */
const char *token_scope_name(token_scope scope);
bool token_scope_parse(const char *text, token_scope *scope);

/* Opens the book of `path` (<store>/tokens; missing: no tokens yet). NULL after writing why
 * into `error` (a damaged line). */
token_book *tokens_open(const char *path, char *error, size_t error_size);
void tokens_close(token_book *book);

/* A book from a tokens file's text, never read again (the fuzz target and tests). */
token_book *tokens_from_text(const char *text, size_t length, char *error, size_t error_size);

/* Adds a token known only to this process (--token): its hash, in memory. */
void tokens_add_secret(token_book *book, const char *token, token_scope scope);

/* The scope of a presented token; TOKEN_NONE when it matches none. Every stored hash is
 * compared in full, in constant time. */
token_scope tokens_check(token_book *book, const char *presented);

/* The scope of an Authorization header's value: "Bearer <token>" (the scheme as RFC 6750
 * writes it, one space); anything else, NULL included, is TOKEN_NONE. The only place a
 * request's credential is read: cookies and query arguments never are (docs/security.md). */
token_scope tokens_check_header(token_book *book, const char *authorization);

/* How many tokens the book holds (file and memory). */
size_t tokens_count(token_book *book);

/*
 * Makes a token of `scope` named `name` (1 to TOKEN_NAME_MAX letters, digits, '-', '_', '.'),
 * appends its hash to `path` and writes the token into `token`. HOST_EXIT_OK; HOST_EXIT_USAGE
 * for a bad name or one in use; HOST_EXIT_IO. Prints its own error.
 */
int tokens_create(const char *path, token_scope scope, const char *name, host_random *random,
                  char token[TOKEN_TEXT_SIZE]);

/* Removes the token named `name` from `path`. HOST_EXIT_OK; HOST_EXIT_FAILED when there is no
 * such token; HOST_EXIT_IO. Prints its own error. */
int tokens_revoke(const char *path, const char *name);

#endif
