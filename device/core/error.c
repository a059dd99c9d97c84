/*
 * Every module's error names and sentences, decoded from the compact table that
 * scripts/error_text.py generates from the same .def files as the enum (its header comment
 * describes the format). The plain table of strings was 16 KB of a device's flash; this one is
 * about a third of that and gives back the same texts (tests/unit/test_error.c checks each).
 */
#include "core/error.h"

#include <stdbool.h>
#include <stdint.h>

#include "core/error_text.h"

/* Fails to compile when a text is longer than the size callers are told to provide. */
typedef char error_text_fits[ERROR_TEXT_LONGEST <= CELLOTA_ERROR_TEXT_SIZE ? 1 : -1];

typedef struct text_out {
    char *buffer;
    size_t size;
    size_t length;
} text_out;

static void put(text_out *out, char character)
{
    if (out->length + 1 < out->size)
        out->buffer[out->length++] = character;
}

/* The 5-bit symbol at this place of the packed words. */
static unsigned symbol_at(size_t place)
{
    size_t bit = place * 5;
    unsigned pair = error_words[bit / 8] | (unsigned)error_words[bit / 8 + 1] << 8;
    return (pair >> (bit % 8)) & 31u;
}

/* Decodes the word with this index into word (ERROR_LONGEST_WORD + 1 bytes); its length. */
static size_t word_at(unsigned index, char *word)
{
    const error_word_count *counts = error_word_counts; /* counts[0]: words of 1 symbol */
    size_t place = 0, units, length = 0, end;

    if (index >= ERROR_SHORT_WORDS) {
        index -= ERROR_SHORT_WORDS;
        counts += ERROR_LONG_WORD_COUNTS;
        place = ERROR_SHORT_WORD_UNITS;
    }
    for (units = 1; index >= counts[units - 1]; units++) {
        index -= counts[units - 1];
        place += (size_t)counts[units - 1] * units;
    }
    place += (size_t)index * units;
    for (end = place + units; place < end; place++) {
        unsigned symbol = symbol_at(place);
        if (symbol >= ERROR_DIRECT_CHARACTERS)
            symbol = ERROR_DIRECT_CHARACTERS + (symbol - ERROR_DIRECT_CHARACTERS) * 32u +
                     symbol_at(++place);
        word[length++] = error_characters[symbol];
    }
    return length;
}

/* The entry's bytes after a list of words and its end mark. */
static const uint8_t *skip_words(const uint8_t *entry)
{
    while (*entry != ERROR_END)
        entry += *entry >= ERROR_SHORT_WORDS ? 2 : 1;
    return entry + 1;
}

/* The words of the code's name (its sentence follows), or NULL for a code no module defines. */
static const uint8_t *find_entry(int code)
{
    const uint8_t *entry = error_entries;
    int value = 0;

    while (entry < error_entries + sizeof(error_entries)) {
        value += *entry++;
        if (value == code)
            return entry;
        entry = skip_words(skip_words(entry));
    }
    return NULL;
}

/* Writes the name (joined by '_', upper case) or the sentence (by spaces) of an entry. */
static char *write_text(int code, bool name, const char *unknown, char *buffer, size_t size)
{
    text_out out = {buffer, size, 0};
    const uint8_t *entry = find_entry(code);
    bool glue = true;    /* no separator before the first word or after a "(" */
    unsigned prefix = 0; /* 1 + the word the name starts with, when its range leaves it out */

    if (!entry) {
        for (; *unknown; unknown++)
            put(&out, *unknown);
        buffer[out.length] = '\0';
        return buffer;
    }
    if (!name) {
        entry = skip_words(entry);
    } else if (code / 100 < ERROR_RANGES) {
        prefix = error_range_prefixes[code / 100];
    }
    while (prefix || *entry != ERROR_END) {
        char word[ERROR_LONGEST_WORD + 1];
        unsigned index = prefix ? prefix - 1 : *entry++;
        size_t length, at;

        if (!prefix && index >= ERROR_SHORT_WORDS)
            index = ERROR_SHORT_WORDS + (index - ERROR_SHORT_WORDS) * 256u + *entry++;
        prefix = 0;
        length = word_at(index, word);
        /* ",", ":", ";", ")", "?" and "'s" were split off the word before them */
        if (!glue &&
            (name || !((length == 1 && (word[0] == ',' || word[0] == ':' || word[0] == ';' ||
                                        word[0] == ')' || word[0] == '?')) ||
                       (length == 2 && word[0] == '\'' && word[1] == 's'))))
            put(&out, name ? '_' : ' ');
        glue = !name && length == 1 && word[0] == '(';
        for (at = 0; at < length; at++) {
            char character = word[at];
            put(&out, name && character >= 'a' && character <= 'z' ? (char)(character - 'a' + 'A')
                                                                   : character);
        }
    }
    buffer[out.length] = '\0';
    return buffer;
}

char *cellota_error_sentence(int code, char *buffer, size_t size)
{
    return write_text(code, false, "unknown error", buffer, size);
}

char *cellota_error_name_text(int code, char *buffer, size_t size)
{
    return write_text(code, true, "UNKNOWN", buffer, size);
}
