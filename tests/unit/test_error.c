/*
 * The error texts: core/error.c decodes a compact table generated from the errors.def files;
 * every name and sentence it gives back must be exactly the .def's, whatever the buffer.
 */
#include "core/error.h"

#include "test.h"

typedef struct def_entry {
    int code;
    const char *name;
    const char *sentence;
} def_entry;

/* The .def files read here as plain strings, independently of the generated table. */
static const def_entry defs[] = {
#define CELLOTA_ERROR(name, value, sentence) {value, #name, sentence},
#include "core/errors.def"
#include "image/errors.def"
#include "boot/errors.def"
#include "at/errors.def"
#include "net/errors.def"
#include "agent/errors.def"
#undef CELLOTA_ERROR
};
#define DEF_COUNT (sizeof(defs) / sizeof(defs[0]))

static void test_every_text_is_the_defs(void)
{
    size_t index;
    for (index = 0; index < DEF_COUNT; index++) {
        char buffer[CELLOTA_ERROR_TEXT_SIZE];
        CHECK(strlen(defs[index].sentence) < CELLOTA_ERROR_TEXT_SIZE);
        CHECK_EQ_STR(cellota_error_sentence(defs[index].code, buffer, sizeof(buffer)),
                     defs[index].sentence);
        CHECK_EQ_STR(cellota_error_name_text(defs[index].code, buffer, sizeof(buffer)),
                     defs[index].name);
        CHECK_EQ_STR(cellota_strerror(defs[index].code), defs[index].sentence);
        CHECK_EQ_STR(cellota_error_name(defs[index].code), defs[index].name);
    }
    CHECK(DEF_COUNT > 100);
}

static void test_unknown_codes(void)
{
    static const int unknown[] = {-12345, -1, 6, 99, 600, 100000};
    size_t index, other;
    for (index = 0; index < sizeof(unknown) / sizeof(unknown[0]); index++) {
        int defined = 0;
        for (other = 0; other < DEF_COUNT; other++)
            defined |= defs[other].code == unknown[index];
        if (defined)
            continue; /* a module took this code since; the other codes still check */
        CHECK_EQ_STR(cellota_strerror(unknown[index]), "unknown error");
        CHECK_EQ_STR(cellota_error_name(unknown[index]), "UNKNOWN");
    }
}

/* A short buffer gets the text's beginning, NUL-terminated, and nothing past its end. */
static void test_short_buffers(void)
{
    size_t index, size;
    for (index = 0; index < DEF_COUNT; index += 7) {
        const char *sentence = defs[index].sentence;
        for (size = 1; size <= strlen(sentence) + 1; size += 5) {
            char buffer[CELLOTA_ERROR_TEXT_SIZE + 1];
            memset(buffer, '#', sizeof(buffer));
            CHECK(cellota_error_sentence(defs[index].code, buffer, size) == buffer);
            CHECK_EQ_INT(strlen(buffer), size - 1);
            CHECK(strncmp(buffer, sentence, size - 1) == 0);
            CHECK(buffer[size] == '#');
        }
    }
    {
        char buffer[4];
        CHECK_EQ_STR(cellota_error_name_text(CELLOTA_FLASH_MISALIGNED, buffer, sizeof(buffer)),
                     "FLA");
        CHECK_EQ_STR(cellota_error_sentence(-5, buffer, sizeof(buffer)), "unk");
    }
}

int main(void)
{
    RUN(test_every_text_is_the_defs);
    RUN(test_unknown_codes);
    RUN(test_short_buffers);
    return test_summary();
}
