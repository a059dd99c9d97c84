/*
 * The CLI's client of cellota-server's operator API (docs/server.md): one HTTP request at a
 * time over libcurl, the bearer token, and the server's answers turned into the CLI's exit
 * codes. Every failure is printed here, once, the way the rest of `cellota` prints it:
 *   cellota: http://127.0.0.1:8080/api/releases: version 1.1.0 exists [VERSION_EXISTS] (409)
 *
 * Exit codes (docs/cli.md): the server refused the request (4xx other than 401/403) -> 1; the
 * token is missing or refused (401), or may not do this (403: a read token) -> API_EXIT_AUTH; the server cannot be reached, times out, answers
 * something that is not its API, or fails (5xx) -> API_EXIT_UNREACHABLE.
 */
#ifndef CELLOTA_HOST_CLI_API_CLIENT_H
#define CELLOTA_HOST_CLI_API_CLIENT_H

#include "common/cli.h"

#include <cJSON.h>

#include <stdbool.h>
#include <stddef.h>

#define API_EXIT_UNREACHABLE 5 /* the server cannot be reached or failed */
#define API_EXIT_AUTH 6        /* no token, or the server refused it */

#define API_DEFAULT_SERVER "http://127.0.0.1:8080"
#define API_DEFAULT_TOKEN_FILE "cellota-store/token" /* relative to the working folder */

/* The options every server command takes, for its host_option table. */
#define API_CLIENT_OPTIONS                                                                         \
    {"server", "URL", "cellota-server's address (default " API_DEFAULT_SERVER ")", false},         \
    {                                                                                              \
        "json", NULL, "print the API's JSON as it came, for scripts", false                        \
    }

/* The lines every server command's help ends with. */
#define API_CLIENT_DETAILS                                                                         \
    "The token is CELLOTA_TOKEN, else the file ./" API_DEFAULT_TOKEN_FILE " (where\n"              \
    "cellota-server keeps it when started in this folder).\n"                                      \
    "Exit codes: 0 done, 1 the server refused the request (its reason is printed), 2 usage,\n"     \
    "3 a file cannot be read, 5 the server cannot be reached or failed, 6 no token or a\n"         \
    "wrong one.\n"

typedef struct api_client {
    char *server; /* the base URL, without a trailing '/' */
    char *token;
    void *curl; /* CURL *, reused so one connection serves every request */
    char *error_buffer;
    bool quiet;        /* a failed request is not printed, only kept in `message` */
    char message[768]; /* why the last request failed, as printed */
} api_client;

/* An answer: the HTTP status and the body (NUL-terminated); `json` is the body parsed when it
 * is JSON (NULL otherwise). */
typedef struct api_answer {
    long status;
    char *body;
    size_t length;
    cJSON *json;
} api_answer;

/*
 * Prepares a client for `server` (NULL: API_DEFAULT_SERVER) with the token from CELLOTA_TOKEN,
 * else ./cellota-store/token. HOST_EXIT_OK; HOST_EXIT_USAGE for a server that is not an http://
 * or https:// URL; API_EXIT_AUTH when there is no token; HOST_EXIT_INTERNAL. Errors printed.
 */
int api_client_open(api_client *client, const char *server);
void api_client_close(api_client *client);

/*
 * One request: `method` to <server><path> (`path` starts with "/api/" and is already escaped)
 * with an optional body of `content_type`. HOST_EXIT_OK when the server answered 2xx with
 * JSON, the answer filled in (free it with api_answer_free); otherwise the exit code above,
 * the reason printed, and nothing to free.
 */
int api_client_request(api_client *client, const char *method, const char *path, const void *body,
                       size_t length, const char *content_type, api_answer *answer);

/* Shorthands: GET, and POST of a JSON body (NULL: none). */
int api_client_get(api_client *client, const char *path, api_answer *answer);
int api_client_post_json(api_client *client, const char *path, const cJSON *body,
                         api_answer *answer);

void api_answer_free(api_answer *answer);

/* `text` escaped for a URL's path or query (malloc'd; NULL when out of memory). */
char *api_escape(const char *text);

/* Appends "?name=<value escaped>" ("&..." after the first) to the malloc'd path *path; does
 * nothing when `value` is NULL. HOST_EXIT_OK, or HOST_EXIT_INTERNAL (printed; *path kept). */
int api_query(char **path, const char *name, const char *value);

/* `base` with "?limit=N" from the command's --limit (default 100, 1 to 1000), malloc'd into
 * *path. HOST_EXIT_OK, HOST_EXIT_USAGE for a bad --limit, HOST_EXIT_INTERNAL; printed. */
int api_list_path(const host_command *command, const host_arguments *arguments, const char *base,
                  char **path);

/* What most commands do: open a client for the command's --server, GET `path`, print the
 * answer with `print` (or as it came with --json), close. The exit code. */
int api_get_and_print(const host_arguments *arguments, const char *path,
                      void (*print)(const cJSON *answer));

/* Under a list's table: "(100 of 250 releases shown: --limit)" when the list was cut. */
void api_print_shown(size_t shown, const cJSON *list, const char *noun);

/* Prints the answer's body as it came (for --json), with a final newline. */
void api_answer_print(const api_answer *answer);

/* A member of an answer's object: as text ("" when absent, null or not a string), as a number
 * (0 when absent or not a number). */
const char *api_text(const cJSON *object, const char *name);
double api_number(const cJSON *object, const char *name);

#endif
