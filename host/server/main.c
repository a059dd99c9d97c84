/*
 * cellota-server: the update server (docs/server.md). Opens the store (images, signing key,
 * token) and the database, starts the HTTP front and the MQTT link, and runs the campaign
 * engine's clock until SIGINT or SIGTERM.
 */
#include "campaigns.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/number.h"
#include "http.h"
#include "mqtt.h"
#include "operator/keys.h"
#include "releases.h"
#include "revoked.h"
#include "server.h"
#include "tokens.h"

#include <cjson/cJSON.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 200

static const host_option options[] = {
    {"http", "HOST:PORT", "where the HTTP server listens (default 127.0.0.1:8080)", false},
    {"mqtt", "HOST:PORT", "the MQTT broker (default 127.0.0.1:1883)", false},
    {"db", "SPEC", "sqlite:PATH or postgres://... (default sqlite:<store>/cellota.db)", false},
    {"store", "DIR", "images, signing key and token (default ./cellota-store)", false},
    {"token", "TOKEN",
     "an operate token (default CELLOTA_TOKEN, else <store>/token); others: <store>/tokens", false},
    {"new-token", "SCOPE",
     "make a token (read or operate), print it, keep its hash in <store>/tokens, exit", false},
    {"token-name", "NAME", "the new token's name (default SCOPE-<time>)", false},
    {"revoke-token", "NAME", "remove the token NAME from <store>/tokens, exit", false},
    {"public-url", "URL", "how devices reach this server (default http://<--http>)", false},
    {"mirror", "URL", "a second host with the same <sha256>.ebin files: each request's alt_url",
     false},
    {"dashboard", "DIR", "the dashboard's files (default <bin>/../share/cellota/dashboard)", false},
    {"http-threads", "N", "HTTP threads (default: the number of cores)", false},
    {"master-key", "FILE", "the key image keys are sealed under (default <store>/master.key, made "
                           "on first start, mode 0600)",
     false},
    {"device-certs", "DIR", "devices' certificates (ID.crt) and the CA's crl.pem: their requests' "
                            "keys are wrapped to them",
     false},
    {"certs", "DIR",
     "the project's certificates (cellota certs init): MQTT over TLS as DIR/server.crt, the "
     "broker verified against DIR/ca.crt, revoked devices from DIR/crl.pem",
     false},
    {"mqtt-ca", "FILE", "the CA the broker's certificate must chain to (default DIR/ca.crt)",
     false},
    {"mqtt-cert", "FILE", "the server's client certificate (default DIR/server.crt)", false},
    {"mqtt-key", "FILE", "its private key (default DIR/server.key)", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    NULL,
    "[--http HOST:PORT] [--mqtt HOST:PORT] [--db SPEC] [--store DIR] [--token TOKEN]\n"
    "                      [--public-url URL] [--mirror URL] [--dashboard DIR] [--http-threads N]\n"
    "                      [--master-key FILE] [--device-certs DIR]\n"
    "                      [--certs DIR] [--mqtt-ca FILE] [--mqtt-cert FILE] [--mqtt-key FILE]\n"
    "       cellota-server --new-token read|operate [--token-name NAME] [--store DIR]\n"
    "       cellota-server --revoke-token NAME [--store DIR]",
    "Hosts firmware images, answers polling devices, publishes update requests over MQTT, runs "
    "staged campaigns and serves the operator's API, the dashboard and /metrics.",
    options,
    "",
    0,
    0,
    "Exit codes: 0 after SIGINT or SIGTERM, 2 usage, 3 the store, a file or the database could\n"
    "not be opened, 4 a port could not be bound. Log lines go to stdout, errors to stderr, one\n"
    "line each. The API and states are described in docs/server.md.\n",
};

static volatile sig_atomic_t stopping;

static void on_signal(int number)
{
    (void)number;
    stopping = 1;
}

/* "HOST:PORT" into its parts. */
static bool split_address(const char *text, char *host, size_t size, int *port)
{
    const char *colon = strrchr(text, ':');
    uint64_t number;
    if (!colon || colon == text || (size_t)(colon - text) >= size ||
        !host_parse_unsigned(colon + 1, 65535, &number))
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (int)number;
    return true;
}

/* The signing key: <store>/server.pem, made on first start. */
static int open_key(server *self)
{
    char *private_path = host_path_join(self->store_folder, "server.pem");
    char *public_path = host_path_join(self->store_folder, "server.pub.pem");
    int status = HOST_EXIT_INTERNAL;
    if (!private_path || !public_path)
        goto done;
    if (access(private_path, F_OK) == 0) {
        status = operator_key_load_private(&self->key, private_path);
    } else {
        status = operator_key_generate(&self->key, &self->random);
        if (status == HOST_EXIT_OK)
            status = operator_key_save(&self->key, private_path, public_path);
        if (status == HOST_EXIT_OK)
            printf("store: made the signing key %s (devices verify with %s)\n", private_path,
                   public_path);
    }
done:
    free(private_path);
    free(public_path);
    return status == HOST_EXIT_OK ? HOST_EXIT_OK : HOST_EXIT_IO;
}

/* The master key image keys are sealed under: --master-key, else <store>/master.key, made on
 * first start. Outside the database, so a copy of the database holds no usable key. */
static int open_master_key(server *self, const char *path_option)
{
    char *path = path_option ? strdup(path_option)
                             : host_path_join(self->store_folder, "master.key");
    int status = HOST_EXIT_INTERNAL;
    if (!path)
        return status;
    if (access(path, F_OK) != 0) {
        status = operator_master_key_create(path, &self->random);
        if (status == HOST_EXIT_OK)
            printf("store: made the master key %s (keep it with the database's backups)\n", path);
    }
    if (access(path, F_OK) == 0)
        status = operator_master_key_load(path, self->master_key);
    free(path);
    return status == HOST_EXIT_OK ? HOST_EXIT_OK : HOST_EXIT_IO;
}

/*
 * The API's tokens (tokens.h): the hashes in <store>/tokens, and the token given by --token or
 * CELLOTA_TOKEN (operate). Without either, an existing <store>/token (the first start's, for a
 * CLI on this machine) counts as given; with none of these and no token in <store>/tokens, this
 * is the first start: an operate token named "first" is made, its hash kept in <store>/tokens,
 * the token printed and written to <store>/token (0600) for the CLI -- delete that file once the
 * token is kept elsewhere; the server needs only the hash.
 */
static int open_tokens(server *self, const char *given)
{
    const char *environment = getenv("CELLOTA_TOKEN");
    char *path = host_path_join(self->store_folder, "token");
    char *book_path = host_path_join(self->store_folder, "tokens");
    char secret[160] = "", error[600];
    uint8_t *data = NULL;
    size_t length;
    int status = HOST_EXIT_OK;
    if (!path || !book_path) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    if (!(self->tokens = tokens_open(book_path, error, sizeof(error)))) {
        status = host_error(HOST_EXIT_IO, "%s", error);
        goto done;
    }
    if (given || (environment && environment[0])) {
        snprintf(secret, sizeof(secret), "%s", given ? given : environment);
    } else if (access(path, F_OK) == 0) {
        status = host_read_file(path, sizeof(secret) - 1, &data, &length);
        if (status == HOST_EXIT_OK) {
            while (length > 0 && (data[length - 1] == '\n' || data[length - 1] == '\r'))
                length--;
            snprintf(secret, sizeof(secret), "%.*s", (int)length, (char *)data);
        }
        free(data);
    } else if (tokens_count(self->tokens) == 0) {
        char token[TOKEN_TEXT_SIZE], line[TOKEN_TEXT_SIZE + 1];
        status = tokens_create(book_path, TOKEN_OPERATE, "first", &self->random, token);
        if (status == HOST_EXIT_OK) {
            snprintf(line, sizeof(line), "%s\n", token);
            status = host_write_file(path, line, strlen(line),
                                     HOST_WRITE_PRIVATE | HOST_WRITE_NO_REPLACE);
        }
        if (status == HOST_EXIT_OK)
            printf("store: made the API token (operate) %s: %s\n", path, token);
        memset(token, 0, sizeof(token));
        memset(line, 0, sizeof(line));
        tokens_close(self->tokens); /* read again with the new hash */
        self->tokens = status == HOST_EXIT_OK ? tokens_open(book_path, error, sizeof(error)) : NULL;
        if (status == HOST_EXIT_OK && !self->tokens)
            status = host_error(HOST_EXIT_IO, "%s", error);
    }
    if (status == HOST_EXIT_OK && secret[0]) {
        if (strlen(secret) < 8)
            status = host_error(HOST_EXIT_USAGE, "the token must have at least 8 characters");
        else
            tokens_add_secret(self->tokens, secret, TOKEN_OPERATE);
    }
done:
    memset(secret, 0, sizeof(secret));
    free(path);
    free(book_path);
    return status;
}

/* --new-token SCOPE [--token-name NAME] and --revoke-token NAME: change <store>/tokens and exit;
 * a running server sees the change within a second. The new token alone goes to stdout. */
static int manage_tokens(server *self, const host_arguments *arguments)
{
    const char *scope_text = host_option_value(arguments, "new-token");
    const char *name = host_option_value(arguments, "token-name");
    const char *revoked = host_option_value(arguments, "revoke-token");
    char *path, token[TOKEN_TEXT_SIZE], default_name[TOKEN_NAME_MAX + 1];
    token_scope scope;
    int status;
    if (scope_text && revoked)
        return host_usage_error(&command, "--new-token and --revoke-token: one at a time");
    if (scope_text && !token_scope_parse(scope_text, &scope))
        return host_usage_error(&command, "--new-token '%s': read or operate", scope_text);
    if (host_make_folder(self->store_folder) != HOST_EXIT_OK)
        return HOST_EXIT_IO;
    chmod(self->store_folder, 0700);
    if (!(path = host_path_join(self->store_folder, "tokens")))
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    if (revoked) {
        status = tokens_revoke(path, revoked);
        if (status == HOST_EXIT_OK)
            fprintf(stderr, "cellota-server: token '%s' revoked\n", revoked);
        free(path);
        return status;
    }
    if (!name) {
        snprintf(default_name, sizeof(default_name), "%s-%ld", token_scope_name(scope),
                 (long)time(NULL));
        name = default_name;
    }
    if ((status = host_random_open(&self->random, "cellota-server")) == HOST_EXIT_OK &&
        (status = tokens_create(path, scope, name, &self->random, token)) == HOST_EXIT_OK) {
        printf("%s\n", token);
        fprintf(stderr, "cellota-server: made the %s token '%s' (%s keeps only its hash)\n",
                token_scope_name(scope), name, path);
        memset(token, 0, sizeof(token));
    }
    free(path);
    return status;
}

/* --certs DIR and --mqtt-ca/-cert/-key: the files MQTT over TLS uses, checked now so a wrong
 * path or a key that is not the certificate's fails at start with its name, not at every
 * reconnection; and, with --certs, what is revoked (revoked.h). */
static int open_certificates(server *self, const host_arguments *arguments)
{
    const char *folder = host_option_value(arguments, "certs");
    const char *given[3] = {host_option_value(arguments, "mqtt-ca"),
                            host_option_value(arguments, "mqtt-cert"),
                            host_option_value(arguments, "mqtt-key")};
    static const char *const names[3] = {"ca.crt", "server.crt", "server.key"};
    char *paths[3] = {self->mqtt_ca, self->mqtt_certificate, self->mqtt_key};
    mbedtls_x509_crt certificate;
    mbedtls_pk_context key;
    char error[600];
    int result, status = HOST_EXIT_OK;

    for (int i = 0; i < 3; i++) {
        if (given[i])
            snprintf(paths[i], sizeof(self->mqtt_ca), "%s", given[i]);
        else if (folder)
            snprintf(paths[i], sizeof(self->mqtt_ca), "%s/%s", folder, names[i]);
    }
    if (!self->mqtt_ca[0] && (self->mqtt_certificate[0] || self->mqtt_key[0]))
        return host_usage_error(&command, "--mqtt-cert and --mqtt-key need --mqtt-ca (or --certs)");
    if (!self->mqtt_certificate[0] != !self->mqtt_key[0])
        return host_usage_error(&command, "--mqtt-cert and --mqtt-key go together");
    mbedtls_x509_crt_init(&certificate);
    mbedtls_pk_init(&key);
    if (self->mqtt_ca[0] && (result = mbedtls_x509_crt_parse_file(&certificate, self->mqtt_ca))) {
        status = host_error(HOST_EXIT_IO,
                            "--mqtt-ca '%s' is not a readable PEM certificate "
                            "(mbedTLS -0x%04x)",
                            self->mqtt_ca, (unsigned)-result);
        goto done;
    }
    mbedtls_x509_crt_free(&certificate);
    mbedtls_x509_crt_init(&certificate);
    if (self->mqtt_certificate[0]) {
        if ((result = mbedtls_x509_crt_parse_file(&certificate, self->mqtt_certificate))) {
            status = host_error(HOST_EXIT_IO,
                                "--mqtt-cert '%s' is not a readable PEM "
                                "certificate (mbedTLS -0x%04x)",
                                self->mqtt_certificate, (unsigned)-result);
            goto done;
        }
        if ((result = mbedtls_pk_parse_keyfile(&key, self->mqtt_key, NULL))) {
            status = host_error(HOST_EXIT_IO,
                                "--mqtt-key '%s' is not a readable PEM key "
                                "(mbedTLS -0x%04x)",
                                self->mqtt_key, (unsigned)-result);
            goto done;
        }
        if (mbedtls_pk_check_pair(&certificate.pk, &key) != 0) {
            status = host_error(HOST_EXIT_IO, "--mqtt-key '%s' is not the key of '%s'",
                                self->mqtt_key, self->mqtt_certificate);
            goto done;
        }
    }
    if (folder) {
        self->revocations = revocations_open(folder, error, sizeof(error));
        if (!self->revocations) {
            status = host_error(HOST_EXIT_IO, "--certs: %s", error);
            goto done;
        }
        printf("certs: %s: %zu devices revoked\n", folder, revocations_count(self->revocations));
    }
done:
    mbedtls_x509_crt_free(&certificate);
    mbedtls_pk_free(&key);
    return status;
}

/* The devices' certificates image keys are wrapped to: --device-certs, else the --certs folder
 * (`cellota certs device` writes ID.crt there). Revocations come from --certs; with
 * --device-certs alone, from that folder's CA and CRL when it has a CA (ca.crt). */
static int open_device_certificates(server *self, const host_arguments *arguments)
{
    const char *folder = host_option_value(arguments, "device-certs");
    const char *certs = host_option_value(arguments, "certs");
    char error[600];
    if (!folder)
        folder = certs;
    if (!folder)
        return HOST_EXIT_OK;
    snprintf(self->device_certs, sizeof(self->device_certs), "%s", folder);
    char *authority = host_path_join(folder, "ca.crt");
    bool has_authority = authority && access(authority, F_OK) == 0;
    free(authority);
    if (!has_authority) {
        /* ID.crt files alone: keys are wrapped to them, but nothing can say one is revoked */
        printf("device certificates: %s has no ca.crt: no revocation list is read\n", folder);
        return HOST_EXIT_OK;
    }
    if (!self->revocations) {
        self->revocations = revocations_open(folder, error, sizeof(error));
        if (!self->revocations)
            return host_error(HOST_EXIT_IO, "--device-certs: %s", error);
    }
    return HOST_EXIT_OK;
}

/* <bin>/../share/cellota/dashboard */
static void default_dashboard(char *folder, size_t size)
{
    char executable[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
    if (length <= 0) {
        snprintf(folder, size, "share/cellota/dashboard");
        return;
    }
    executable[length] = '\0';
    char *slash = strrchr(executable, '/');
    if (slash)
        *slash = '\0';
    snprintf(folder, size, "%.450s/../share/cellota/dashboard", executable);
}

static int run(server *self, const host_arguments *arguments)
{
    const char *http = host_option_value(arguments, "http");
    const char *mqtt = host_option_value(arguments, "mqtt");
    const char *store = host_option_value(arguments, "store");
    const char *database = host_option_value(arguments, "db");
    const char *threads_text = host_option_value(arguments, "http-threads");
    const char *text;
    char http_host[256], mqtt_host[256], spec[700], error[512];
    int http_port, mqtt_port, status;
    uint64_t threads = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
    http_front *front = NULL;
    mqtt_link *link = NULL;

    if (!split_address(http ? http : "127.0.0.1:8080", http_host, sizeof(http_host), &http_port))
        return host_usage_error(&command, "--http '%s' is not HOST:PORT", http);
    if (!split_address(mqtt ? mqtt : "127.0.0.1:1883", mqtt_host, sizeof(mqtt_host), &mqtt_port))
        return host_usage_error(&command, "--mqtt '%s' is not HOST:PORT", mqtt);
    if (threads_text && (!host_parse_unsigned(threads_text, 1024, &threads) || threads == 0))
        return host_usage_error(&command, "--http-threads '%s' is not a number from 1 to 1024",
                                threads_text);
    if (threads == 0)
        threads = 1;
    snprintf(self->store_folder, sizeof(self->store_folder), "%s", store ? store : "cellota-store");
    snprintf(self->images_folder, sizeof(self->images_folder), "%s/images", self->store_folder);
    text = host_option_value(arguments, "public-url");
    if (text)
        snprintf(self->public_url, sizeof(self->public_url), "%s", text);
    else
        snprintf(self->public_url, sizeof(self->public_url), "http://%s",
                 http ? http : "127.0.0.1:8080");
    if (strncmp(self->public_url, "http://", 7) != 0 &&
        strncmp(self->public_url, "https://", 8) != 0)
        return host_usage_error(&command, "--public-url '%s' is not an http(s) URL",
                                self->public_url);
    text = host_option_value(arguments, "mirror");
    snprintf(self->mirror, sizeof(self->mirror), "%s", text ? text : "");
    for (char *url = self->public_url; url; url = url == self->mirror ? NULL : self->mirror) {
        size_t length = strlen(url);
        while (length > 0 && url[length - 1] == '/')
            url[--length] = '\0';
    }
    text = host_option_value(arguments, "dashboard");
    if (text)
        snprintf(self->dashboard, sizeof(self->dashboard), "%s", text);
    else
        default_dashboard(self->dashboard, sizeof(self->dashboard));

    if (host_option_value(arguments, "new-token") || host_option_value(arguments, "revoke-token"))
        return manage_tokens(self, arguments);
    if (host_make_folder(self->store_folder) != HOST_EXIT_OK ||
        host_make_folder(self->images_folder) != HOST_EXIT_OK)
        return HOST_EXIT_IO;
    chmod(self->store_folder, 0700); /* the signing key and the token live here */
    if ((status = host_random_open(&self->random, "cellota-server")) != HOST_EXIT_OK)
        return status;
    if ((status = open_key(self)) != HOST_EXIT_OK)
        return status;
    if ((status = open_master_key(self, host_option_value(arguments, "master-key"))) !=
        HOST_EXIT_OK)
        return status;
    if ((status = open_tokens(self, host_option_value(arguments, "token"))) != HOST_EXIT_OK)
        return status;
    if ((status = open_certificates(self, arguments)) != HOST_EXIT_OK)
        return status;
    if ((status = open_device_certificates(self, arguments)) != HOST_EXIT_OK)
        return status;
    if (database)
        snprintf(spec, sizeof(spec), "%s", database);
    else
        snprintf(spec, sizeof(spec), "sqlite:%s/cellota.db", self->store_folder);
    if (storage_open(spec, &self->store, error, sizeof(error)) != 0)
        return host_error(HOST_EXIT_IO, "database: %s", error);
    if (release_seal_stored(self) < 0)
        return host_error(HOST_EXIT_IO, "database: the stored releases could not be read");
    if (campaign_engine_open(self) != 0)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    if (http_start(self, http_host, http_port, (unsigned)threads, &front) != 0)
        return HOST_EXIT_INTERNAL; /* 4: a port could not be bound */
    if (mqtt_link_start(self, mqtt_host, mqtt_port, &link) != 0) {
        http_stop(front);
        return host_error(HOST_EXIT_INTERNAL, "mqtt: cannot start the client");
    }
    printf("cellota-server: http on %s:%d (%u threads), mqtt%s %s:%d, database %s, store %s\n",
           http_host, http_port, (unsigned)threads, self->mqtt_ca[0] ? " over TLS" : "", mqtt_host,
           mqtt_port, storage_backend(self->store), self->store_folder);
    fflush(stdout);

    while (!stopping) {
        campaign_tick(self);
        struct timespec pause = {0, TICK_MS * 1000000L};
        nanosleep(&pause, NULL);
    }
    printf("cellota-server: stopping\n");
    fflush(stdout);
    mqtt_link_stop(link);
    http_stop(front);
    return HOST_EXIT_OK;
}

int main(int argc, char **argv)
{
    host_arguments arguments;
    server self;
    int status;
    struct sigaction action;

    host_set_program("cellota-server");
    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    memset(&self, 0, sizeof(self));
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    mbedtls_pk_init(&self.key);
    pthread_mutex_init(&self.crypto_lock, NULL);
    atomic_init(&self.status_messages, 0);
    status = run(&self, &arguments);
    campaign_engine_close(&self);
    storage_close(self.store);
    revocations_close(self.revocations);
    tokens_close(self.tokens);
    mbedtls_pk_free(&self.key);
    host_random_close(&self.random);
    pthread_mutex_destroy(&self.crypto_lock);
    return status;
}
