/*
 * Real servers for tests: nginx and mosquitto started by the test itself on 127.0.0.1, on a
 * free port, as the current user, with every file (configuration, pid, logs) in a private
 * temporary folder, and stopped again -- by test_server_stop, at exit, or, if the test process
 * dies, by the kernel (the server gets SIGTERM when its parent goes). Traffic stays on loopback.
 *
 *   test_server web;
 *   if (test_nginx_start(&web, "/path/to/files", "location /old { return 302 /new; }") != 0)
 *       ... fail: the reason and the server's log were printed ...
 *   ... http://127.0.0.1:<web.port>/file ...
 *   test_server_stop(&web);
 *
 * Also: start any helper process with its output in a file (mosquitto_sub), run one to the end
 * (mosquitto_pub), and wait for a text to appear in a file (a log line, a received message).
 * Every function prints why it failed on stderr. Host test code: uses fork/exec and the heap.
 */
#ifndef CELLOTA_TESTS_SERVERS_H
#define CELLOTA_TESTS_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct test_server {
    pid_t pid;           /* 0 when not running */
    uint16_t port;       /* where it listens on 127.0.0.1 */
    char directory[256]; /* its private folder: configuration, logs, pid file */
    char log[300];       /* its main log file (mosquitto logs every packet: wait on it) */
    char kind[16];       /* "nginx", "mosquitto", "postgres" */
    char extra[4096];    /* the extra configuration it was started with (for restarts) */
    char root[256];      /* nginx: the folder served */
} test_server;

/* A TCP port on 127.0.0.1 that was free a moment ago. 0 on failure. */
uint16_t test_free_port(void);

/*
 * nginx serving the files under `root` on a free port, HTTP/1.1 with keep-alive, Range and
 * ETag as it does by default. `extra` (may be NULL) is inserted in the server block:
 * locations, returns, etc. Its access log (directory/access.log) has one line per request:
 *     CONNECTION-NUMBER REQUEST-NUMBER-ON-IT "REQUEST LINE" STATUS BODY-BYTES "RANGE"
 * so a test can see connection reuse and bytes sent. Returns 0 when it accepts connections,
 * -1 otherwise.
 */
int test_nginx_start(test_server *server, const char *root, const char *extra);

/*
 * mosquitto on 127.0.0.1: `port` 0 picks a free one (a restart passes the old one), anonymous
 * clients allowed, no persistence, every packet logged to server->log. `extra` (may be NULL)
 * is appended to its configuration. Returns 0 when it accepts connections, -1 otherwise.
 */
int test_mosquitto_start(test_server *server, uint16_t port, const char *extra);

/*
 * PostgreSQL on 127.0.0.1: a fresh cluster (initdb, trust authentication, no fsync) in the
 * server's private folder, run as the "postgres" user when the test runs as root (PostgreSQL
 * refuses root). Connect with test_postgres_url. Returns 0 when it accepts connections.
 */
int test_postgres_start(test_server *server);

/* "postgresql://postgres@127.0.0.1:<port>/postgres" for a server test_postgres_start began. */
void test_postgres_url(const test_server *server, char *url, size_t size);

/* Stops the server (SIGTERM, SIGKILL after 5 s), waits for it and removes its folder. Safe to
 * call twice. */
void test_server_stop(test_server *server);

/* Stops it keeping nothing but its port and configuration, then starts it again there. */
int test_server_restart(test_server *server);

/* Freezes or thaws the server (SIGSTOP/SIGCONT): it keeps its sockets but answers nothing. */
void test_server_freeze(test_server *server, bool frozen);

/* Starts `argv` (argv[0] looked up in PATH, /usr/sbin, /sbin) with stdout and stderr appended
 * to `output`; stopped at exit if still running. Returns its pid, or -1. */
pid_t test_process_start(char *const argv[], const char *output);

/* SIGTERM then waits. */
void test_process_stop(pid_t pid);

/* Runs `argv` to its end (at most timeout_ms, then it is killed). Returns its exit status, or
 * -1 when it could not run, was killed or timed out. */
int test_process_run(char *const argv[], uint32_t timeout_ms);

/* Waits until `path` contains `text` (at most timeout_ms). True when it does. */
bool test_file_wait_for(const char *path, const char *text, uint32_t timeout_ms);

/* How often `path` contains `text` now. */
int test_file_count(const char *path, const char *text);

/* Creates a fresh temporary folder for a test's own files (removed at exit). 0 or -1. */
int test_temp_directory(char *path, size_t size);

/* Milliseconds from a monotonic clock. */
uint32_t test_now_ms(void);

/* Sleeps `ms` milliseconds. */
void test_sleep_ms(uint32_t ms);

#endif
