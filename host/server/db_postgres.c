/*
 * The PostgreSQL driver: one libpq connection, text parameters and text results. Claiming rows
 * uses FOR UPDATE SKIP LOCKED, so two servers sharing a database take disjoint devices.
 */
#include "db.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void postgres_close(void *connection)
{
    PQfinish(connection);
}

/* A message without its trailing newline. */
static void copy_message(const char *message, char *error, size_t error_size)
{
    snprintf(error, error_size, "%s", message ? message : "unknown error");
    size_t length = strlen(error);
    while (length > 0 && (error[length - 1] == '\n' || error[length - 1] == ' '))
        error[--length] = '\0';
}

static int postgres_execute(void *handle, const char *sql, size_t count, const char *const *params,
                            db_result *result, char *error, size_t error_size)
{
    PGconn *connection = handle;
    PGresult *answer;
    if (result)
        memset(result, 0, sizeof(*result));
    /* A lost connection (the server restarted) is reopened once before giving up. */
    if (PQstatus(connection) != CONNECTION_OK)
        PQreset(connection);
    if (count == 0)
        answer = PQexec(connection, sql); /* may hold several statements (the schema) */
    else
        answer = PQexecParams(connection, sql, (int)count, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(answer);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        copy_message(PQresultErrorMessage(answer), error, error_size);
        PQclear(answer);
        return -1;
    }
    if (result && status == PGRES_TUPLES_OK) {
        result->rows = (size_t)PQntuples(answer);
        result->columns = (size_t)PQnfields(answer);
        if (result->rows * result->columns > 0) {
            result->values = calloc(result->rows * result->columns, sizeof(char *));
            if (!result->values) {
                PQclear(answer);
                snprintf(error, error_size, "out of memory");
                return -1;
            }
        }
        for (size_t row = 0; row < result->rows; row++)
            for (size_t column = 0; column < result->columns; column++)
                if (!PQgetisnull(answer, (int)row, (int)column))
                    result->values[row * result->columns + column] =
                        strdup(PQgetvalue(answer, (int)row, (int)column));
    }
    PQclear(answer);
    return 0;
}

static const db_driver postgres_driver = {
    .name = "postgres",
    .serial_key = "BIGSERIAL PRIMARY KEY",
    .begin = "BEGIN",
    .skip_locked = " FOR UPDATE SKIP LOCKED",
    .execute = postgres_execute,
    .close = postgres_close,
};

static void quiet_notice(void *context, const char *message)
{
    (void)context;
    (void)message; /* "relation already exists, skipping" on every start */
}

int db_postgres_open(const char *uri, db *database, char *error, size_t error_size)
{
    PGconn *connection = PQconnectdb(uri);
    if (PQstatus(connection) != CONNECTION_OK) {
        char message[512];
        copy_message(PQerrorMessage(connection), message, sizeof(message));
        snprintf(error, error_size, "cannot connect to PostgreSQL: %s", message);
        PQfinish(connection);
        return -1;
    }
    PQsetNoticeProcessor(connection, quiet_notice, NULL);
    database->driver = &postgres_driver;
    database->connection = connection;
    return 0;
}
