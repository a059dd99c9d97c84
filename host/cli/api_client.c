/* The operator API's client over libcurl (see api_client.h for the exit codes it maps to). */
#include "api_client.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"

#include <curl/curl.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10L
/* Long enough for a 16 MiB upload the server packs and signs before it answers. */
#define REQUEST_TIMEOUT_S 120L
#define TOKEN_MAX 4096

/* A body growing as libcurl hands it over. */
typedef struct received {
    char *data;
    size_t length, capacity;
    bool out_of_memory;
} received;

static size_t on_data(char *data, size_t size, size_t count, void *context)
{
    received *body = context;
    size_t length = size * count;
    if (body->length + length + 1 > body->capacity) {
        size_t capacity = body->capacity ? body->capacity : 4096;
        char *grown;
        while (capacity < body->length + length + 1)
            capacity *= 2;
        grown = realloc(body->data, capacity);
        if (!grown) {
            body->out_of_memory = true;
            return 0; /* libcurl stops the transfer */
        }
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->length, data, length);
    body->length += length;
    body->data[body->length] = '\0';
    return length;
}

static char *trimmed_copy(const char *text, size_t length)
{
    char *copy;
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r' ||
                          text[length - 1] == ' ' || text[length - 1] == '\t'))
        length--;
    while (length > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        length--;
    }
    copy = malloc(length + 1);
    if (copy) {
        memcpy(copy, text, length);
        copy[length] = '\0';
    }
    return copy;
}

/* CELLOTA_TOKEN, else ./cellota-store/token. */
static int load_token(api_client *client)
{
    const char *variable = getenv("CELLOTA_TOKEN");
    uint8_t *data;
    size_t length;
    int status;

    if (variable && variable[0]) {
        client->token = trimmed_copy(variable, strlen(variable));
    } else {
        if (access(API_DEFAULT_TOKEN_FILE, F_OK) != 0)
            return host_error(API_EXIT_AUTH,
                              "no token: set CELLOTA_TOKEN, or run where cellota-server keeps "
                              "./" API_DEFAULT_TOKEN_FILE);
        status = host_read_file(API_DEFAULT_TOKEN_FILE, TOKEN_MAX, &data, &length);
        if (status != HOST_EXIT_OK)
            return status;
        client->token = trimmed_copy((const char *)data, length);
        free(data);
    }
    if (!client->token)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    if (!client->token[0] || strpbrk(client->token, "\r\n"))
        return host_error(API_EXIT_AUTH, "the token (%s) is empty or more than one line",
                          variable && variable[0] ? "CELLOTA_TOKEN" : API_DEFAULT_TOKEN_FILE);
    return HOST_EXIT_OK;
}

int api_client_open(api_client *client, const char *server)
{
    size_t length;
    int status;

    memset(client, 0, sizeof(*client));
    if (!server)
        server = API_DEFAULT_SERVER;
    if (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0)
        return host_usage_error(NULL, "--server: expected http://HOST:PORT, not '%s'", server);
    length = strlen(server);
    while (length > 0 && server[length - 1] == '/')
        length--;
    client->server = trimmed_copy(server, length);
    client->error_buffer = calloc(1, CURL_ERROR_SIZE);
    if (!client->server || !client->error_buffer) {
        api_client_close(client);
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    }
    if ((status = load_token(client)) != HOST_EXIT_OK) {
        api_client_close(client);
        return status;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(client->curl = curl_easy_init())) {
        api_client_close(client);
        return host_error(HOST_EXIT_INTERNAL, "libcurl failed to start");
    }
    return HOST_EXIT_OK;
}

void api_client_close(api_client *client)
{
    if (client->curl)
        curl_easy_cleanup(client->curl);
    free(client->server);
    free(client->token);
    free(client->error_buffer);
    memset(client, 0, sizeof(*client));
}

void api_answer_free(api_answer *answer)
{
    cJSON_Delete(answer->json);
    free(answer->body);
    memset(answer, 0, sizeof(*answer));
}

char *api_escape(const char *text)
{
    /* libcurl ignores the handle here (7.82 and later) and never needed one for escaping. */
    char *escaped = curl_easy_escape(NULL, text, 0), *copy;
    if (!escaped)
        return NULL;
    copy = strdup(escaped); /* so the caller frees it with free() like everything else */
    curl_free(escaped);
    return copy;
}

int api_query(char **path, const char *name, const char *value)
{
    char *escaped, *longer;
    if (!value)
        return HOST_EXIT_OK;
    escaped = api_escape(value);
    longer = escaped ? realloc(*path, strlen(*path) + strlen(name) + strlen(escaped) + 3) : NULL;
    if (!longer) {
        free(escaped);
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    }
    sprintf(longer + strlen(longer), "%c%s=%s", strchr(longer, '?') ? '&' : '?', name, escaped);
    free(escaped);
    *path = longer;
    return HOST_EXIT_OK;
}

int api_list_path(const host_command *command, const host_arguments *arguments, const char *base,
                  char **path)
{
    const char *text = host_option_value(arguments, "limit");
    uint64_t limit = 100;
    if (text && (!host_parse_unsigned(text, 1000, &limit) || limit == 0))
        return host_usage_error(command, "--limit: expected 1 to 1000, not '%s'", text);
    if (!(*path = malloc(strlen(base) + 32)))
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    sprintf(*path, "%s?limit=%llu", base, (unsigned long long)limit);
    return HOST_EXIT_OK;
}

int api_get_and_print(const host_arguments *arguments, const char *path,
                      void (*print)(const cJSON *answer))
{
    api_client client;
    api_answer answer;
    int status = api_client_open(&client, host_option_value(arguments, "server"));
    if (status != HOST_EXIT_OK)
        return status;
    status = api_client_get(&client, path, &answer);
    if (status == HOST_EXIT_OK) {
        if (host_option_given(arguments, "json"))
            api_answer_print(&answer);
        else
            print(answer.json);
        api_answer_free(&answer);
    }
    api_client_close(&client);
    return status;
}

void api_print_shown(size_t shown, const cJSON *list, const char *noun)
{
    double total = api_number(list, "total");
    if ((double)shown < total)
        printf("(%zu of %.0f %s shown: --limit)\n", shown, total, noun);
}

void api_answer_print(const api_answer *answer)
{
    fwrite(answer->body, 1, answer->length, stdout);
    if (answer->length == 0 || answer->body[answer->length - 1] != '\n')
        fputc('\n', stdout);
}

const char *api_text(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsString(item) ? item->valuestring : "";
}

double api_number(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* A request's failure: kept in client->message, and printed unless the caller asked for quiet.
 * Returns `code`. */
static int request_failed(api_client *client, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int request_failed(api_client *client, int code, const char *format, ...)
{
    va_list list;
    va_start(list, format);
    vsnprintf(client->message, sizeof(client->message), format, list);
    va_end(list);
    if (client->quiet)
        return code;
    return host_error(code, "%s", client->message);
}

/* Why a non-2xx answer was refused; returns the exit code it maps to. */
static int refused(api_client *client, const char *url, const api_answer *answer)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(answer->json, "error");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(answer->json, "message");
    int code = answer->status == 401 || answer->status == 403 ? API_EXIT_AUTH
               : answer->status >= 500 ? API_EXIT_UNREACHABLE
               : answer->status >= 400 ? HOST_EXIT_FAILED
                                       : API_EXIT_UNREACHABLE; /* 1xx, 3xx: not our API */
    if (cJSON_IsString(name) && cJSON_IsString(message))
        return request_failed(client, code, "%s: %s [%s] (%ld)", url, message->valuestring,
                              name->valuestring, answer->status);
    return request_failed(client, code, "%s: HTTP %ld, not an answer of cellota-server's API", url,
                          answer->status);
}

int api_client_request(api_client *client, const char *method, const char *path, const void *body,
                       size_t length, const char *content_type, api_answer *answer)
{
    CURL *curl = client->curl;
    struct curl_slist *headers = NULL;
    received data = {NULL, 0, 0, false};
    char *url, *authorization, *type = NULL;
    CURLcode result;
    int status = HOST_EXIT_OK;

    memset(answer, 0, sizeof(*answer));
    url = malloc(strlen(client->server) + strlen(path) + 1);
    authorization = malloc(strlen(client->token) + 32);
    if (content_type && (type = malloc(strlen(content_type) + 16)))
        sprintf(type, "Content-Type: %s", content_type);
    if (!url || !authorization || (content_type && !type)) {
        free(url);
        free(authorization);
        free(type);
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    }
    sprintf(url, "%s%s", client->server, path);
    sprintf(authorization, "Authorization: Bearer %s", client->token);
    headers = curl_slist_append(headers, authorization);
    headers = curl_slist_append(headers, "Accept: application/json");
    /* libcurl would send "Expect: 100-continue" before a large body: a round trip for nothing. */
    headers = curl_slist_append(headers, "Expect:");
    if (type)
        headers = curl_slist_append(headers, type);

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &data);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, client->error_buffer);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    /* The token goes to this server only: never follow a redirect elsewhere with it. */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)length);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    client->error_buffer[0] = '\0';
    result = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    free(authorization);
    free(type);

    if (!data.out_of_memory && result == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer->status);
        answer->body = data.data ? data.data : strdup("");
        answer->length = data.length;
        data.data = NULL;
    }
    if (data.out_of_memory || (result == CURLE_OK && !answer->body)) {
        status = request_failed(client, HOST_EXIT_INTERNAL, "out of memory");
    } else if (result != CURLE_OK) {
        status = request_failed(client, API_EXIT_UNREACHABLE, "cannot reach %s: %s", client->server,
                                client->error_buffer[0] ? client->error_buffer
                                                        : curl_easy_strerror(result));
    } else {
        answer->json = cJSON_ParseWithLength(answer->body, answer->length);
        if (answer->status < 200 || answer->status > 299)
            status = refused(client, url, answer);
        else if (!answer->json)
            status = request_failed(client, API_EXIT_UNREACHABLE,
                                    "%s: HTTP %ld without JSON: not cellota-server's API?", url,
                                    answer->status);
    }
    if (status != HOST_EXIT_OK)
        api_answer_free(answer);
    free(data.data);
    free(url);
    return status;
}

int api_client_get(api_client *client, const char *path, api_answer *answer)
{
    return api_client_request(client, "GET", path, NULL, 0, NULL, answer);
}

int api_client_post_json(api_client *client, const char *path, const cJSON *body,
                         api_answer *answer)
{
    char *text = NULL;
    int status;
    if (body && !(text = cJSON_PrintUnformatted(body)))
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    status = api_client_request(client, "POST", path, text, text ? strlen(text) : 0,
                                text ? "application/json" : NULL, answer);
    free(text);
    return status;
}
