/*
 * Text tables for people: rows of strings printed in columns as wide as their widest cell,
 * the header first. The `--json` output of the same commands is for scripts.
 */
#ifndef CELLOTA_HOST_CLI_TABLE_H
#define CELLOTA_HOST_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLUMNS 12

typedef struct text_table {
    size_t columns, rows, capacity;
    char **cells; /* rows x columns, each malloc'd; row 0 is the header */
    bool out_of_memory;
} text_table;

/* A table with these column headers (a NULL-terminated list). */
void table_init(text_table *table, const char *const *headers);

/* Adds a row: one string per column (NULL: an empty cell), copied. */
void table_add(text_table *table, const char *const *cells);

/* Prints the header and rows, two spaces between columns, the last column unpadded. */
void table_print(const text_table *table, FILE *stream);

void table_free(text_table *table);

/* How long ago an RFC 3339 UTC time ("2026-12-07T09:30:00Z") was, for people: "12s ago",
 * "3m ago", "5h ago", "2d ago"; "never" for an empty text; the text itself when it does not
 * parse. */
void table_age(const char *time, char *text, size_t capacity);

#endif
