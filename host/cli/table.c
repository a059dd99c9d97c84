/* Text tables (see table.h). */
#define _GNU_SOURCE /* strptime, timegm */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void append_row(text_table *table, const char *const *cells)
{
    size_t column;
    if (table->out_of_memory)
        return;
    if (table->rows == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        char **grown = realloc(table->cells, capacity * table->columns * sizeof(*grown));
        if (!grown) {
            table->out_of_memory = true;
            return;
        }
        table->cells = grown;
        table->capacity = capacity;
    }
    for (column = 0; column < table->columns; column++) {
        const char *text = cells[column] ? cells[column] : "";
        char *copy = strdup(text);
        if (!copy)
            table->out_of_memory = true;
        table->cells[table->rows * table->columns + column] = copy;
    }
    table->rows++;
}

void table_init(text_table *table, const char *const *headers)
{
    memset(table, 0, sizeof(*table));
    while (headers[table->columns] && table->columns < TABLE_MAX_COLUMNS)
        table->columns++;
    append_row(table, headers);
}

void table_add(text_table *table, const char *const *cells)
{
    append_row(table, cells);
}

/* Characters on screen: UTF-8 continuation bytes take no column. */
static size_t width_of(const char *text)
{
    size_t width = 0;
    for (; *text; text++)
        width += ((unsigned char)*text & 0xC0) != 0x80;
    return width;
}

void table_print(const text_table *table, FILE *stream)
{
    size_t widths[TABLE_MAX_COLUMNS] = {0}, row, column;
    if (table->out_of_memory) {
        fprintf(stream, "(out of memory)\n");
        return;
    }
    for (row = 0; row < table->rows; row++) {
        for (column = 0; column < table->columns; column++) {
            const char *cell = table->cells[row * table->columns + column];
            size_t width = cell ? width_of(cell) : 0;
            if (width > widths[column])
                widths[column] = width;
        }
    }
    for (row = 0; row < table->rows; row++) {
        for (column = 0; column < table->columns; column++) {
            const char *cell = table->cells[row * table->columns + column];
            if (!cell)
                cell = "";
            if (column + 1 == table->columns) {
                fprintf(stream, "%s\n", cell);
            } else {
                fputs(cell, stream);
                fprintf(stream, "%*s", (int)(widths[column] - width_of(cell) + 2), "");
            }
        }
    }
}

void table_free(text_table *table)
{
    size_t index;
    for (index = 0; index < table->rows * table->columns; index++)
        free(table->cells[index]);
    free(table->cells);
    memset(table, 0, sizeof(*table));
}

void table_age(const char *time_text, char *text, size_t capacity)
{
    struct tm parts;
    const char *end;
    time_t then;
    long long seconds;

    if (!time_text || !time_text[0]) {
        snprintf(text, capacity, "never");
        return;
    }
    memset(&parts, 0, sizeof(parts));
    end = strptime(time_text, "%Y-%m-%dT%H:%M:%S", &parts);
    if (!end || (*end != 'Z' && *end != '.')) {
        snprintf(text, capacity, "%s", time_text);
        return;
    }
    then = timegm(&parts);
    seconds = (long long)(time(NULL) - then);
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        snprintf(text, capacity, "%llds ago", seconds);
    else if (seconds < 7200)
        snprintf(text, capacity, "%lldm ago", seconds / 60);
    else if (seconds < 172800)
        snprintf(text, capacity, "%lldh ago", seconds / 3600);
    else
        snprintf(text, capacity, "%lldd ago", seconds / 86400);
}
