/* Choosing a driver by the --db text, and the result helpers both drivers share. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_open(const char *spec, db *database, char *error, size_t error_size)
{
    memset(database, 0, sizeof(*database));
    if (strncmp(spec, "sqlite:", 7) == 0 && spec[7])
        return db_sqlite_open(spec + 7, database, error, error_size);
    if (strncmp(spec, "postgres://", 11) == 0 || strncmp(spec, "postgresql://", 13) == 0)
        return db_postgres_open(spec, database, error, error_size);
    snprintf(error, error_size, "'%s' is neither sqlite:PATH nor postgres://...", spec);
    return -1;
}

void db_close(db *database)
{
    if (database->driver && database->connection)
        database->driver->close(database->connection);
    database->connection = NULL;
}

void db_result_free(db_result *result)
{
    if (!result || !result->values)
        return;
    for (size_t i = 0; i < result->rows * result->columns; i++)
        free(result->values[i]);
    free(result->values);
    memset(result, 0, sizeof(*result));
}

const char *db_value(const db_result *result, size_t row, size_t column)
{
    if (row >= result->rows || column >= result->columns)
        return NULL;
    return result->values[row * result->columns + column];
}
