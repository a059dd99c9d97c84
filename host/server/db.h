/*
 * The database drivers under storage.c: one struct of functions per engine (SQLite, PostgreSQL),
 * so the server's SQL is written once. Both take `$1`-style parameters, and every value goes in
 * and comes out as text (NULL for SQL NULL): the storage layer converts, the drivers only carry.
 *
 * A connection is used by one thread at a time; storage.c serialises the calls.
 */
#ifndef CELLOTA_SERVER_DB_H
#define CELLOTA_SERVER_DB_H

#include <stddef.h>

/* The rows a statement returned: values[row * columns + column], NULL for SQL NULL. */
typedef struct db_result {
    size_t rows, columns;
    char **values;
} db_result;

typedef struct db_driver {
    const char *name;        /* "sqlite", "postgres" */
    const char *serial_key;  /* an auto-numbered integer primary key's column type */
    const char *begin;       /* the statement that starts a write transaction */
    const char *skip_locked; /* appended to a SELECT that claims rows: "" or FOR UPDATE ... */
    /* Runs `sql` with `count` text parameters; fills *result when not NULL (free it with
     * db_result_free). 0, or -1 with a sentence in `error`. */
    int (*execute)(void *connection, const char *sql, size_t count, const char *const *params,
                   db_result *result, char *error, size_t error_size);
    void (*close)(void *connection);
} db_driver;

typedef struct db {
    const db_driver *driver;
    void *connection;
} db;

/*
 * Opens "sqlite:PATH" (created if missing; WAL journal) or "postgres://..." / "postgresql://..."
 * (a libpq connection URI). 0, or -1 with a sentence in `error`.
 */
int db_open(const char *spec, db *database, char *error, size_t error_size);
void db_close(db *database);

void db_result_free(db_result *result);

/* The value at (row, column), or NULL. */
const char *db_value(const db_result *result, size_t row, size_t column);

/* The drivers; each opens its connection from the text after its scheme. */
int db_sqlite_open(const char *path, db *database, char *error, size_t error_size);
int db_postgres_open(const char *uri, db *database, char *error, size_t error_size);

#endif
