/* The operator API's tokens, kept as hashes (tokens.h). */
#include "tokens.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "server.h"

#include <mbedtls/sha256.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOKENS_FILE_MAX (4u * 1024 * 1024)
#define TOKEN_RANDOM_BYTES 32

typedef struct token_entry {
    uint8_t hash[32];
    token_scope scope;
    char name[TOKEN_NAME_MAX + 1];
} token_entry;

typedef struct token_list {
    token_entry *items;
    size_t count, capacity;
} token_list;

struct token_book {
    char *path;
    pthread_mutex_t lock;
    token_list stored, secrets;
    host_file_mark mark;
    struct timespec checked_at;
    bool fixed; /* made from text: no file to read again */
};

const char *token_scope_name(token_scope scope)
{
    return scope == TOKEN_OPERATE ? "operate" : scope == TOKEN_READ ? "read" : "none";
}

bool token_scope_parse(const char *text, token_scope *scope)
{
    if (strcmp(text, "read") == 0)
        *scope = TOKEN_READ;
    else if (strcmp(text, "operate") == 0)
        *scope = TOKEN_OPERATE;
    else
        return false;
    return true;
}

static void hash_of(const char *token, uint8_t hash[32])
{
    mbedtls_sha256_ret((const unsigned char *)token, strlen(token), hash, 0);
}

static bool list_add(token_list *list, const token_entry *entry)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        token_entry *grown = realloc(list->items, capacity * sizeof(*grown));
        if (!grown)
            return false;
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count++] = *entry;
    return true;
}

/* One "<sha256 hex> <scope> <name>" line; false for anything else. */
static bool parse_line(char *line, token_entry *entry)
{
    char *scope = strchr(line, ' '), *name;
    if (!scope || scope - line != 64)
        return false;
    *scope++ = '\0';
    name = strchr(scope, ' ');
    if (!name)
        return false;
    *name++ = '\0';
    memset(entry, 0, sizeof(*entry));
    snprintf(entry->name, sizeof(entry->name), "%s", name);
    return host_hex_decode(line, 64, entry->hash, 32) && token_scope_parse(scope, &entry->scope) &&
           strlen(name) <= TOKEN_NAME_MAX && server_valid_name(name);
}

/* The entries of a tokens file's text into `list`. */
static int parse_tokens(const char *text, size_t length, const char *path, token_list *list,
                        char *error, size_t error_size)
{
    size_t number = 0, at = 0;
    memset(list, 0, sizeof(*list));
    while (at < length) {
        const char *end = memchr(text + at, '\n', length - at);
        size_t line_length = end ? (size_t)(end - (text + at)) : length - at;
        char line[256];
        token_entry entry;
        number++;
        if (line_length > 0 && text[at + line_length - 1] == '\r')
            line_length--;
        if (line_length >= sizeof(line) || memchr(text + at, '\0', line_length)) {
            snprintf(error, error_size, "'%s' line %zu is not '<sha256 hex> read|operate NAME'",
                     path, number);
            goto refused;
        }
        memcpy(line, text + at, line_length);
        line[line_length] = '\0';
        at += (end ? (size_t)(end - (text + at)) + 1 : length - at);
        if (line[0] == '\0')
            continue;
        if (!parse_line(line, &entry)) {
            snprintf(error, error_size, "'%s' line %zu is not '<sha256 hex> read|operate NAME'",
                     path, number);
            goto refused;
        }
        if (!list_add(list, &entry)) {
            snprintf(error, error_size, "out of memory");
            goto refused;
        }
    }
    return 0;
refused:
    free(list->items);
    memset(list, 0, sizeof(*list));
    return -1;
}

/* The file's entries into `list` (empty when the file does not exist). */
static int read_tokens(const char *path, token_list *list, char *error, size_t error_size)
{
    FILE *file = fopen(path, "rb");
    char *text = NULL;
    size_t length = 0, capacity = 0, got;
    memset(list, 0, sizeof(*list));
    if (!file) {
        if (errno == ENOENT)
            return 0;
        snprintf(error, error_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    do {
        if (length == capacity) {
            char *grown = capacity < TOKENS_FILE_MAX ? realloc(text, capacity ? capacity * 2 : 4096)
                                                     : NULL;
            if (!grown) {
                snprintf(error, error_size, "'%s' is too large", path);
                free(text);
                fclose(file);
                return -1;
            }
            text = grown;
            capacity = capacity ? capacity * 2 : 4096;
        }
        got = fread(text + length, 1, capacity - length, file);
        length += got;
    } while (got > 0);
    fclose(file);
    int status = parse_tokens(text, length, path, list, error, error_size);
    free(text);
    return status;
}

token_book *tokens_from_text(const char *text, size_t length, char *error, size_t error_size)
{
    token_book *book = calloc(1, sizeof(*book));
    if (!book || !(book->path = strdup(""))) {
        free(book);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&book->lock, NULL);
    if (parse_tokens(text, length, "(text)", &book->stored, error, error_size) != 0) {
        tokens_close(book);
        return NULL;
    }
    book->fixed = true;
    return book;
}

token_book *tokens_open(const char *path, char *error, size_t error_size)
{
    token_book *book = calloc(1, sizeof(*book));
    if (!book || !(book->path = strdup(path))) {
        free(book);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&book->lock, NULL);
    host_file_mark_of(path, &book->mark);
    if (read_tokens(path, &book->stored, error, error_size) != 0) {
        tokens_close(book);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &book->checked_at);
    return book;
}

void tokens_close(token_book *book)
{
    if (!book)
        return;
    free(book->stored.items);
    free(book->secrets.items);
    pthread_mutex_destroy(&book->lock);
    free(book->path);
    free(book);
}

void tokens_add_secret(token_book *book, const char *token, token_scope scope)
{
    token_entry entry;
    memset(&entry, 0, sizeof(entry));
    hash_of(token, entry.hash);
    entry.scope = scope;
    snprintf(entry.name, sizeof(entry.name), "--token");
    pthread_mutex_lock(&book->lock);
    list_add(&book->secrets, &entry);
    pthread_mutex_unlock(&book->lock);
}

/* Under the lock: the file read again when it changed (once a second at most). A file that
 * turned bad keeps the tokens known before, and says so once. */
static void refresh(token_book *book)
{
    struct timespec now;
    host_file_mark mark;
    token_list fresh;
    char error[512];
    if (book->fixed)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - book->checked_at.tv_sec < 1)
        return;
    book->checked_at = now;
    host_file_mark_of(book->path, &mark);
    if (host_file_mark_same(&mark, &book->mark))
        return;
    book->mark = mark;
    if (read_tokens(book->path, &fresh, error, sizeof(error)) != 0) {
        fprintf(stderr, "cellota-server: tokens: %s; keeping the tokens known before\n", error);
        return;
    }
    free(book->stored.items);
    book->stored = fresh;
    printf("tokens: %zu in %s (read again)\n", fresh.count, book->path);
    fflush(stdout);
}

/* The highest scope among the list's entries whose hash is `hash`, looking at every entry. */
static token_scope match(const token_list *list, const uint8_t hash[32], token_scope found)
{
    for (size_t i = 0; i < list->count; i++) {
        uint8_t difference = 0;
        for (size_t b = 0; b < 32; b++)
            difference |= (uint8_t)(list->items[i].hash[b] ^ hash[b]);
        if (difference == 0 && list->items[i].scope > found)
            found = list->items[i].scope;
    }
    return found;
}

token_scope tokens_check(token_book *book, const char *presented)
{
    uint8_t hash[32];
    if (!book || !presented || !presented[0])
        return TOKEN_NONE;
    hash_of(presented, hash);
    pthread_mutex_lock(&book->lock);
    refresh(book);
    token_scope scope = match(&book->secrets, hash, match(&book->stored, hash, TOKEN_NONE));
    pthread_mutex_unlock(&book->lock);
    return scope;
}

token_scope tokens_check_header(token_book *book, const char *authorization)
{
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
        return TOKEN_NONE;
    return tokens_check(book, authorization + 7);
}

size_t tokens_count(token_book *book)
{
    pthread_mutex_lock(&book->lock);
    refresh(book);
    size_t count = book->stored.count + book->secrets.count;
    pthread_mutex_unlock(&book->lock);
    return count;
}

/* The file's text ("" when it does not exist), malloc'd. */
static int file_text(const char *path, char **text)
{
    uint8_t *data = NULL;
    size_t length;
    if (access(path, F_OK) != 0) {
        *text = strdup("");
        return *text ? HOST_EXIT_OK : host_error(HOST_EXIT_INTERNAL, "out of memory");
    }
    int status = host_read_file(path, TOKENS_FILE_MAX, &data, &length);
    *text = (char *)data;
    return status;
}

/* The line of token `name` in `text`, NULL when there is none. */
static char *line_named(char *text, const char *name)
{
    size_t name_length = strlen(name);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t length = strcspn(line, "\n");
        char *last_space = NULL;
        for (char *c = line; c < line + length; c++)
            if (*c == ' ')
                last_space = c;
        if (last_space && (size_t)(line + length - last_space - 1) == name_length &&
            memcmp(last_space + 1, name, name_length) == 0)
            return line;
    }
    return NULL;
}

int tokens_create(const char *path, token_scope scope, const char *name, host_random *random,
                  char token[TOKEN_TEXT_SIZE])
{
    uint8_t secret[TOKEN_RANDOM_BYTES], hash[32];
    char hash_hex[65], *text = NULL, *grown;
    int status;
    if (scope != TOKEN_READ && scope != TOKEN_OPERATE)
        return host_error(HOST_EXIT_USAGE, "a token's scope is read or operate");
    if (!server_valid_name(name) || strlen(name) > TOKEN_NAME_MAX)
        return host_error(HOST_EXIT_USAGE,
                          "token name '%s': 1 to %d letters, digits, '-', '_' or '.'", name,
                          TOKEN_NAME_MAX);
    if ((status = file_text(path, &text)) != HOST_EXIT_OK)
        return status;
    if (line_named(text, name)) {
        free(text);
        return host_error(HOST_EXIT_USAGE, "a token named '%s' exists already in '%s'", name,
                          path);
    }
    if ((status = host_random_bytes(random, secret, sizeof(secret))) != HOST_EXIT_OK) {
        free(text);
        return status;
    }
    host_hex_encode(secret, sizeof(secret), token);
    token[2 * TOKEN_RANDOM_BYTES] = '\0';
    memset(secret, 0, sizeof(secret));
    hash_of(token, hash);
    host_hex_encode(hash, sizeof(hash), hash_hex);
    hash_hex[64] = '\0';
    size_t length = strlen(text);
    size_t added = 64 + 2 + strlen(token_scope_name(scope)) + strlen(name) + 2;
    if (!(grown = realloc(text, length + added + 1))) {
        free(text);
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    }
    text = grown;
    if (length > 0 && text[length - 1] != '\n')
        text[length++] = '\n';
    snprintf(text + length, added + 1, "%s %s %s\n", hash_hex, token_scope_name(scope), name);
    status = host_write_file(path, text, strlen(text), HOST_WRITE_PRIVATE);
    free(text);
    if (status != HOST_EXIT_OK)
        memset(token, 0, TOKEN_TEXT_SIZE);
    return status;
}

int tokens_revoke(const char *path, const char *name)
{
    char *text = NULL, *line;
    int status = file_text(path, &text);
    if (status != HOST_EXIT_OK)
        return status;
    if (!(line = line_named(text, name))) {
        free(text);
        return host_error(HOST_EXIT_FAILED, "no token named '%s' in '%s'", name, path);
    }
    size_t length = strcspn(line, "\n");
    if (line[length] == '\n')
        length++;
    memmove(line, line + length, strlen(line + length) + 1);
    status = host_write_file(path, text, strlen(text), HOST_WRITE_PRIVATE);
    free(text);
    return status;
}
