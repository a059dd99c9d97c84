/* The CLI's text tables (host/cli/table.h): column widths, UTF-8, blank cells, ages. */
#include "test.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What table_print writes, as a malloc'd string. */
static char *printed(const text_table *table)
{
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    table_print(table, stream);
    fclose(stream);
    return text;
}

static void test_columns(void)
{
    static const char *const headers[] = {"ID", "STATE", "ERROR", NULL};
    const char *first[] = {"dev-1", "confirmed", ""};
    const char *second[] = {"a", NULL, "AGENT_SELF_TEST_FAILED"};
    text_table table;
    char *text;
    table_init(&table, headers);
    table_add(&table, first);
    table_add(&table, second);
    CHECK_EQ_INT(table.rows, 3);
    text = printed(&table);
    /* Each column as wide as its widest cell, two spaces apart; a row whose last cells are
     * blank ends at its last text. */
    CHECK_EQ_STR(text, "ID     STATE      ERROR\n"
                       "dev-1  confirmed\n"
                       "a                 AGENT_SELF_TEST_FAILED\n");
    free(text);
    table_free(&table);
}

static void test_utf8_width(void)
{
    static const char *const headers[] = {"NOTES", "X", NULL};
    const char *row[] = {"\xc3\xa9t\xc3\xa9", "1"}; /* "été": 3 columns, 5 bytes */
    text_table table;
    char *text;
    table_init(&table, headers);
    table_add(&table, row);
    text = printed(&table);
    CHECK_EQ_STR(text, "NOTES  X\n"
                       "\xc3\xa9t\xc3\xa9    1\n");
    free(text);
    table_free(&table);
}

static void test_ages(void)
{
    char text[64], now[32];
    time_t moment = time(NULL);
    struct tm parts;

    table_age("", text, sizeof(text));
    CHECK_EQ_STR(text, "never");
    table_age("yesterday", text, sizeof(text));
    CHECK_EQ_STR(text, "yesterday"); /* not a time: shown as it came */
    table_age("2000-01-01T00:00:00Z", text, sizeof(text));
    CHECK(strstr(text, "d ago") != NULL);
    gmtime_r(&moment, &parts);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &parts);
    table_age(now, text, sizeof(text));
    CHECK(strcmp(text, "0s ago") == 0 || strcmp(text, "1s ago") == 0);
    moment -= 3 * 3600 + 5;
    gmtime_r(&moment, &parts);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &parts);
    table_age(now, text, sizeof(text));
    CHECK_EQ_STR(text, "3h ago");
    moment += 3 * 3600 - 300;
    gmtime_r(&moment, &parts);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &parts);
    table_age(now, text, sizeof(text));
    CHECK_EQ_STR(text, "5m ago");
}

int main(void)
{
    RUN(test_columns);
    RUN(test_utf8_width);
    RUN(test_ages);
    return test_summary();
}
