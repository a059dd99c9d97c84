/*
 * Starting and stopping real nginx and mosquitto for tests; see servers.h. Servers run in the
 * foreground as our children (nginx "daemon off", mosquitto without -d) so we hold their pid,
 * and PR_SET_PDEATHSIG takes them down with a test that crashes.
 */
#define _GNU_SOURCE
#include "support/servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What to clean up at exit: test code, so a small fixed table is fine. */
#define TRACKED_MAX 32
static pid_t tracked_pids[TRACKED_MAX];
static char tracked_directories[TRACKED_MAX][256];
static bool cleanup_registered;

static int remove_entry(const char *path, const struct stat *status, int flag, struct FTW *walk)
{
    (void)status;
    (void)flag;
    (void)walk;
    return remove(path);
}

static void remove_tree(const char *path)
{
    if (path[0] != '\0')
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void stop_pid(pid_t pid)
{
    int waited;
    if (pid <= 0)
        return;
    kill(pid, SIGCONT); /* a frozen server cannot act on SIGTERM */
    kill(pid, SIGTERM);
    for (waited = 0; waited < 500; waited++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        test_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void cleanup_at_exit(void)
{
    int index;
    for (index = 0; index < TRACKED_MAX; index++) {
        stop_pid(tracked_pids[index]);
        tracked_pids[index] = 0;
        remove_tree(tracked_directories[index]);
        tracked_directories[index][0] = '\0';
    }
}

static void register_cleanup(void)
{
    if (!cleanup_registered) {
        atexit(cleanup_at_exit);
        cleanup_registered = true;
    }
}

static void track_pid(pid_t pid, bool add)
{
    int index;
    register_cleanup();
    for (index = 0; index < TRACKED_MAX; index++) {
        if (add ? tracked_pids[index] == 0 : tracked_pids[index] == pid) {
            tracked_pids[index] = add ? pid : 0;
            return;
        }
    }
}

static void track_directory(const char *path, bool add)
{
    int index;
    register_cleanup();
    for (index = 0; index < TRACKED_MAX; index++) {
        if (add ? tracked_directories[index][0] == '\0'
                : strcmp(tracked_directories[index], path) == 0) {
            snprintf(tracked_directories[index], sizeof(tracked_directories[index]), "%s",
                     add ? path : "");
            return;
        }
    }
}

uint32_t test_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u);
}

void test_sleep_ms(uint32_t ms)
{
    struct timespec delay = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
        ;
}

int test_temp_directory(char *path, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(path, size, "%s/cellota-test.XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(path)) {
        fprintf(stderr, "servers: mkdtemp %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* Servers started as root drop to another user for some work: let them read. */
    chmod(path, 0755);
    track_directory(path, true);
    return 0;
}

uint16_t test_free_port(void)
{
    struct sockaddr_in address;
    socklen_t length = sizeof(address);
    uint16_t port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) == 0 &&
        getsockname(fd, (struct sockaddr *)&address, &length) == 0)
        port = ntohs(address.sin_port);
    close(fd);
    return port;
}

static bool port_accepts(uint16_t port)
{
    struct sockaddr_in address;
    bool accepted;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    accepted = connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0;
    close(fd);
    return accepted;
}

/* execvp, then the sbin folders a non-root PATH often lacks. */
static void exec_program(char *const argv[])
{
    static const char *const folders[] = {"/usr/sbin/", "/sbin/", "/usr/local/sbin/"};
    char path[512];
    size_t index;
    execvp(argv[0], argv);
    for (index = 0; index < sizeof(folders) / sizeof(folders[0]); index++) {
        snprintf(path, sizeof(path), "%s%s", folders[index], argv[0]);
        execv(path, argv);
    }
    fprintf(stderr, "servers: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

pid_t test_process_start(char *const argv[], const char *output)
{
    pid_t parent = getpid(), pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "servers: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(output ? output : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1); /* the parent died before prctl */
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        exec_program(argv);
    }
    track_pid(pid, true);
    return pid;
}

void test_process_stop(pid_t pid)
{
    stop_pid(pid);
    track_pid(pid, false);
}

int test_process_run(char *const argv[], uint32_t timeout_ms)
{
    uint32_t start = test_now_ms();
    int status;
    pid_t pid = test_process_start(argv, NULL);
    if (pid < 0)
        return -1;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (test_now_ms() - start >= timeout_ms) {
            fprintf(stderr, "servers: %s timed out\n", argv[0]);
            test_process_stop(pid);
            return -1;
        }
        test_sleep_ms(5);
    }
    track_pid(pid, false);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    char *text;
    long size;
    if (!file)
        return NULL;
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    fseek(file, 0, SEEK_SET);
    text = malloc((size_t)(size > 0 ? size : 0) + 1);
    if (text) {
        size_t got = fread(text, 1, (size_t)(size > 0 ? size : 0), file);
        text[got] = '\0';
    }
    fclose(file);
    return text;
}

int test_file_count(const char *path, const char *text)
{
    char *content = read_file(path), *cursor;
    int count = 0;
    if (!content)
        return 0;
    for (cursor = content; (cursor = strstr(cursor, text)) != NULL; cursor += strlen(text))
        count++;
    free(content);
    return count;
}

bool test_file_wait_for(const char *path, const char *text, uint32_t timeout_ms)
{
    uint32_t start = test_now_ms();
    do {
        if (test_file_count(path, text) > 0)
            return true;
        test_sleep_ms(10);
    } while (test_now_ms() - start < timeout_ms);
    return false;
}

static void print_log(const test_server *server)
{
    char *text = read_file(server->log);
    fprintf(stderr, "servers: %s log (%s):\n%s\n", server->kind, server->log,
            text ? text : "(none)");
    free(text);
}

/* Starts the prepared server and waits until its port accepts connections. */
static int launch(test_server *server, char *const argv[])
{
    uint32_t start = test_now_ms();
    server->pid = test_process_start(argv, server->log);
    if (server->pid < 0) {
        server->pid = 0;
        return -1;
    }
    while (test_now_ms() - start < 10000) {
        int status;
        if (waitpid(server->pid, &status, WNOHANG) == server->pid) {
            fprintf(stderr, "servers: %s exited at start (status %d)\n", server->kind, status);
            track_pid(server->pid, false);
            server->pid = 0;
            print_log(server);
            return -1;
        }
        if (port_accepts(server->port))
            return 0;
        test_sleep_ms(10);
    }
    fprintf(stderr, "servers: %s did not listen on port %u\n", server->kind, server->port);
    print_log(server);
    test_server_stop(server);
    return -1;
}

static int write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (!file || fputs(text, file) < 0) {
        fprintf(stderr, "servers: cannot write %s: %s\n", path, strerror(errno));
        if (file)
            fclose(file);
        return -1;
    }
    return fclose(file) == 0 ? 0 : -1;
}

static int start_nginx_once(test_server *server)
{
    char config[8192], config_path[300];
    char *argv[] = {"nginx", "-p", server->directory, "-c", config_path, "-e", server->log, NULL};
    snprintf(config_path, sizeof(config_path), "%s/nginx.conf", server->directory);
    snprintf(server->log, sizeof(server->log), "%s/error.log", server->directory);
    snprintf(config, sizeof(config),
             "%s"
             "daemon off;\n"
             "worker_processes 1;\n"
             "pid %s/nginx.pid;\n"
             "error_log %s/error.log info;\n"
             "events { worker_connections 64; }\n"
             "http {\n"
             /* One line per request: which connection, its request number, the bytes. */
             "  log_format cellota '$connection $connection_requests \"$request\" $status "
             "$body_bytes_sent \"$http_range\"';\n"
             "  access_log %s/access.log cellota;\n"
             "  client_body_temp_path %s/body;\n"
             "  proxy_temp_path %s/proxy;\n"
             "  fastcgi_temp_path %s/fastcgi;\n"
             "  uwsgi_temp_path %s/uwsgi;\n"
             "  scgi_temp_path %s/scgi;\n"
             "  default_type application/octet-stream;\n"
             "  server {\n"
             "    listen 127.0.0.1:%u;\n"
             "    root %s;\n"
             "    %s\n"
             "  }\n"
             "}\n",
             geteuid() == 0 ? "user root root;\n" : "", server->directory, server->directory,
             server->directory, server->directory, server->directory, server->directory,
             server->directory, server->directory, server->port, server->root, server->extra);
    if (write_text(config_path, config) != 0)
        return -1;
    return launch(server, argv);
}

static int start_mosquitto_once(test_server *server)
{
    char config[8192], config_path[300];
    char *argv[] = {"mosquitto", "-c", config_path, NULL};
    snprintf(config_path, sizeof(config_path), "%s/mosquitto.conf", server->directory);
    snprintf(server->log, sizeof(server->log), "%s/mosquitto.log", server->directory);
    snprintf(config, sizeof(config),
             "%s"
             "listener %u 127.0.0.1\n"
             "allow_anonymous true\n"
             "persistence false\n"
             "log_dest file %s\n"
             "log_type all\n"
             "log_timestamp true\n"
             "%s\n",
             geteuid() == 0 ? "user root\n" : "", server->port, server->log, server->extra);
    if (write_text(config_path, config) != 0)
        return -1;
    return launch(server, argv);
}

/* The folder holding PostgreSQL's server programs (Debian: /usr/lib/postgresql/<major>/bin). */
static bool postgres_programs(char *folder, size_t size)
{
    for (int major = 20; major >= 12; major--) {
        snprintf(folder, size, "/usr/lib/postgresql/%d/bin", major);
        char initdb[300];
        snprintf(initdb, sizeof(initdb), "%s/initdb", folder);
        if (access(initdb, X_OK) == 0)
            return true;
    }
    fprintf(stderr, "servers: PostgreSQL is not installed (scripts/install-deps.sh)\n");
    return false;
}

/* argv with "setpriv ... --" in front when running as root: PostgreSQL refuses root. */
static void as_postgres(char **argv, char **command, size_t count)
{
    size_t used = 0;
    if (geteuid() == 0) {
        static char *prefix[] = {"setpriv", "--reuid=postgres", "--regid=postgres",
                                 "--init-groups", "--"};
        for (size_t i = 0; i < 5; i++)
            argv[used++] = prefix[i];
    }
    for (size_t i = 0; i < count; i++)
        argv[used++] = command[i];
    argv[used] = NULL;
}

static int start_postgres_once(test_server *server)
{
    char folder[256], program[300], data[300], port[16], *argv[24];
    struct stat status;
    if (!postgres_programs(folder, sizeof(folder)))
        return -1;
    snprintf(data, sizeof(data), "%s/data", server->directory);
    snprintf(server->log, sizeof(server->log), "%s/postgres.log", server->directory);
    if (geteuid() == 0) {
        struct passwd *user = getpwnam("postgres");
        if (!user || chown(server->directory, user->pw_uid, user->pw_gid) != 0) {
            fprintf(stderr, "servers: no user 'postgres' to run PostgreSQL as\n");
            return -1;
        }
    }
    if (stat(data, &status) != 0) {
        char *initdb[] = {program, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
                          "-E", "UTF8", "--locale=C"};
        snprintf(program, sizeof(program), "%s/initdb", folder);
        as_postgres(argv, initdb, sizeof(initdb) / sizeof(initdb[0]));
        if (test_process_run(argv, 60000) != 0) {
            fprintf(stderr, "servers: initdb failed\n");
            return -1;
        }
    }
    snprintf(port, sizeof(port), "%u", server->port);
    snprintf(program, sizeof(program), "%s/postgres", folder);
    char *postgres[] = {program, "-D", data, "-p", port, "-h", "127.0.0.1", "-k",
                        server->directory, "-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"};
    as_postgres(argv, postgres, sizeof(postgres) / sizeof(postgres[0]));
    if (launch(server, argv) != 0)
        return -1;
    /* The port opens a moment before the server takes connections: wait for its log line. */
    return test_file_wait_for(server->log, "ready to accept connections", 10000) ? 0 : -1;
}

/* Prepares the folder, then tries a few free ports: another process may take one first. */
static int start(test_server *server, const char *kind, uint16_t port, const char *extra,
                 int (*start_once)(test_server *))
{
    int attempt;
    char root[256];
    snprintf(root, sizeof(root), "%s", server->root);
    memset(server, 0, sizeof(*server));
    snprintf(server->root, sizeof(server->root), "%s", root);
    snprintf(server->kind, sizeof(server->kind), "%s", kind);
    snprintf(server->extra, sizeof(server->extra), "%s", extra ? extra : "");
    if (test_temp_directory(server->directory, sizeof(server->directory)) != 0)
        return -1;
    for (attempt = 0; attempt < (port ? 1 : 3); attempt++) {
        server->port = port ? port : test_free_port();
        if (server->port != 0 && start_once(server) == 0)
            return 0;
    }
    remove_tree(server->directory);
    track_directory(server->directory, false);
    server->directory[0] = '\0';
    return -1;
}

int test_postgres_start(test_server *server)
{
    server->root[0] = '\0';
    return start(server, "postgres", 0, NULL, start_postgres_once);
}

void test_postgres_url(const test_server *server, char *url, size_t size)
{
    snprintf(url, size, "postgresql://postgres@127.0.0.1:%u/postgres", server->port);
}

int test_nginx_start(test_server *server, const char *root, const char *extra)
{
    snprintf(server->root, sizeof(server->root), "%s", root);
    return start(server, "nginx", 0, extra, start_nginx_once);
}

int test_mosquitto_start(test_server *server, uint16_t port, const char *extra)
{
    server->root[0] = '\0';
    return start(server, "mosquitto", port, extra, start_mosquitto_once);
}

void test_server_stop(test_server *server)
{
    /* PostgreSQL's SIGTERM waits for every client to leave; SIGINT is its fast shutdown. */
    if (server->pid > 0 && strcmp(server->kind, "postgres") == 0)
        kill(server->pid, SIGINT);
    if (server->pid > 0) {
        test_process_stop(server->pid);
        server->pid = 0;
    }
    if (server->directory[0] != '\0') {
        remove_tree(server->directory);
        track_directory(server->directory, false);
        server->directory[0] = '\0';
    }
}

int test_server_restart(test_server *server)
{
    test_server old = *server;
    test_server_stop(server);
    *server = old;
    if (strcmp(old.kind, "nginx") == 0) {
        int result = start(server, "nginx", old.port, old.extra, start_nginx_once);
        return result;
    }
    if (strcmp(old.kind, "postgres") == 0) /* a fresh cluster on the same port */
        return start(server, "postgres", old.port, NULL, start_postgres_once);
    return start(server, "mosquitto", old.port, old.extra, start_mosquitto_once);
}

void test_server_freeze(test_server *server, bool frozen)
{
    if (server->pid > 0)
        kill(server->pid, frozen ? SIGSTOP : SIGCONT);
}
