/*
 * The SQLite driver: one connection in WAL mode (readers never wait for the writer, and a
 * commit is one fsync of the log), a busy timeout so a second process waits instead of failing,
 * and `$N` parameters bound by name so a statement may use them in any order.
 */
#include "db.h"

#include <sqlite3.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sqlite_close(void *connection)
{
    sqlite3_close_v2(connection);
}

static int fail(sqlite3 *connection, char *error, size_t error_size)
{
    snprintf(error, error_size, "%s", sqlite3_errmsg(connection));
    return -1;
}

/* Decimal integer text in its canonical form ("-12", "0", never "007" or "+1"): bound as an
 * integer, so comparisons with numbers behave as in PostgreSQL (SQLite compares text and
 * integer values as different, and a parameter has no column affinity to convert it). */
static bool canonical_integer(const char *text, sqlite3_int64 *value)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    size_t length = strlen(digits);
    if (length == 0 || length > 18 || (digits[0] == '0' && length > 1) ||
        (text[0] == '-' && digits[0] == '0'))
        return false;
    for (size_t i = 0; i < length; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return false;
    *value = strtoll(text, NULL, 10);
    return true;
}

/* Grows the value array to hold one more row. */
static int add_row(db_result *result, size_t *capacity)
{
    size_t needed = (result->rows + 1) * result->columns;
    if (needed > *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 16 * result->columns;
        while (grown < needed)
            grown *= 2;
        char **values = realloc(result->values, grown * sizeof(char *));
        if (!values)
            return -1;
        result->values = values;
        *capacity = grown;
    }
    result->rows++;
    return 0;
}

static int sqlite_execute(void *handle, const char *sql, size_t count, const char *const *params,
                          db_result *result, char *error, size_t error_size)
{
    sqlite3 *connection = handle;
    sqlite3_stmt *statement = NULL;
    size_t capacity = 0;
    int status;

    if (result)
        memset(result, 0, sizeof(*result));
    /* Several statements in one text (the schema) run one after another. */
    while (sql && *sql) {
        const char *rest = NULL;
        if (sqlite3_prepare_v2(connection, sql, -1, &statement, &rest) != SQLITE_OK)
            return fail(connection, error, error_size);
        sql = rest;
        if (!statement)
            continue; /* whitespace or a comment */
        for (size_t i = 0; i < count; i++) {
            char name[24];
            snprintf(name, sizeof(name), "$%zu", i + 1);
            int index = sqlite3_bind_parameter_index(statement, name), bound = SQLITE_OK;
            sqlite3_int64 number;
            if (index <= 0)
                continue;
            if (!params[i])
                bound = sqlite3_bind_null(statement, index);
            else if (canonical_integer(params[i], &number))
                bound = sqlite3_bind_int64(statement, index, number);
            else
                bound = sqlite3_bind_text(statement, index, params[i], -1, SQLITE_TRANSIENT);
            if (bound != SQLITE_OK) {
                sqlite3_finalize(statement);
                return fail(connection, error, error_size);
            }
        }
        if (result)
            result->columns = (size_t)sqlite3_column_count(statement);
        while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
            if (!result || result->columns == 0)
                continue;
            if (add_row(result, &capacity) != 0) {
                sqlite3_finalize(statement);
                snprintf(error, error_size, "out of memory");
                return -1;
            }
            for (size_t column = 0; column < result->columns; column++) {
                const unsigned char *text = sqlite3_column_text(statement, (int)column);
                char *copy = text ? strdup((const char *)text) : NULL;
                result->values[(result->rows - 1) * result->columns + column] = copy;
            }
        }
        if (status != SQLITE_DONE) {
            fail(connection, error, error_size);
            sqlite3_finalize(statement);
            return -1;
        }
        sqlite3_finalize(statement);
        statement = NULL;
    }
    return 0;
}

static const db_driver sqlite_driver = {
    .name = "sqlite",
    .serial_key = "INTEGER PRIMARY KEY",
    /* IMMEDIATE: take the write lock at once, so two writers never deadlock upgrading. */
    .begin = "BEGIN IMMEDIATE",
    /* One writer at a time already: a transaction that claims rows is alone. */
    .skip_locked = "",
    .execute = sqlite_execute,
    .close = sqlite_close,
};

int db_sqlite_open(const char *path, db *database, char *error, size_t error_size)
{
    sqlite3 *connection = NULL;
    if (sqlite3_open_v2(path, &connection,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(error, error_size, "cannot open sqlite:%s: %s", path,
                 connection ? sqlite3_errmsg(connection) : "out of memory");
        sqlite3_close_v2(connection);
        return -1;
    }
    sqlite3_busy_timeout(connection, 10000);
    /* WAL with synchronous=FULL: a committed transaction survives a power cut, not only a
     * kill -9 (NORMAL would lose the last commits on power loss). secure_delete: what is deleted
     * or overwritten is zeroed in the file, so a retired release's sealed key, or a key an older
     * server kept in a request, does not linger in free pages. */
    if (sqlite_execute(connection,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                       "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
                       0, NULL, NULL, error, error_size) != 0) {
        sqlite3_close_v2(connection);
        return -1;
    }
    database->driver = &sqlite_driver;
    database->connection = connection;
    return 0;
}
