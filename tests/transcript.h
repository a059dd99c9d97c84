/*
 * A test double of the modem's UART that plays a recorded exchange (tests/transcripts/NAME.txt).
 *
 * A transcript is a list of entries, one per line:
 *   > text       the device writes "text" CR (a command)
 *   >> bytes     the device writes these bytes exactly (a payload after the prompt)
 *   < text       the modem sends CR LF "text" CR LF (a line as modems frame them)
 *   << bytes     the modem sends these bytes exactly (binary data, a prompt, an echo)
 *   <! text      like "<", but the UART flags every byte of it as damaged (parity error)
 *   <<! bytes    like "<<", flagged damaged
 *   <<$ count    the modem sends the next `count` bytes of the payload stream (transcript_payload)
 *   >>$ count    the device writes the next `count` bytes of the payload stream
 *   <<$! count   the same, flagged damaged
 *   = name       the entries of tests/transcripts/<name>.txt, here
 *   ~ ms         the modem stays silent up to ms milliseconds (ends early when the device
 *                writes): lets timeouts and retries happen
 *   @ name       a checkpoint the test can play up to
 *   # ...        a comment
 * Text and bytes take escapes: \r \n \t \\ \xHH; everything after the first space is content
 * (trailing spaces included).
 *
 * Two cursors walk the list. Device writes must match the write entries in order; the device
 * may write before it has read modem lines listed earlier (as on a real UART). Modem bytes are
 * handed out in order but never before a command listed earlier has been written: a reply
 * follows the command it answers. They are handed out in pieces of a chosen shape (all at once, one
 * byte per read, or random sizes from a seed), so every test runs against every split. A device
 * write that is not the next expected one is recorded as a failure with both texts.
 */
#ifndef CELLOTA_TESTS_TRANSCRIPT_H
#define CELLOTA_TESTS_TRANSCRIPT_H

#include "core/port.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRANSCRIPT_ENTRIES 400
#define TRANSCRIPT_BYTES 65536

enum transcript_kind {
    ENTRY_WRITE = 0, /* device -> modem */
    ENTRY_READ,      /* modem -> device */
    ENTRY_SILENCE,
    ENTRY_CHECKPOINT
};

enum transcript_split { SPLIT_ALL = 0, SPLIT_ONE, SPLIT_RANDOM };

typedef struct transcript_entry {
    uint8_t kind;
    bool damaged;
    uint32_t offset, length; /* into bytes */
    uint32_t silence_ms;
    char name[32];
} transcript_entry;

typedef struct transcript {
    transcript_entry entries[TRANSCRIPT_ENTRIES];
    uint8_t bytes[TRANSCRIPT_BYTES];
    uint32_t entry_count, byte_count;
    uint32_t payload_count;                /* payload stream bytes the entries hold */
    uint32_t read_position, read_offset;   /* the next modem bytes */
    uint32_t write_position, write_offset; /* the next expected device bytes */
    uint32_t last_written;                 /* the last write entry the device wrote into */
    bool written_any;
    uint32_t now, silence_start;
    bool in_silence;
    uint8_t split;
    uint32_t random;
    uint32_t damaged_pending;
    bool power_key;
    uint32_t power_presses;
    int failures;
    char failure[400];
    char name[64];
} transcript;

/* Byte `index` of the payload stream every `<<$` entry continues: a fixed pseudo-random sequence
 * with every byte value, CR, LF and "OK" among them, so data is never mistaken for text. */
static inline uint8_t transcript_payload(uint32_t index)
{
    uint32_t value = index * 2654435761u;
    value ^= value >> 13;
    value *= 0x5bd1e995u;
    value ^= value >> 15;
    return (uint8_t)value;
}

static inline uint32_t transcript_random(transcript *t)
{
    t->random = t->random * 1103515245u + 12345u;
    return (t->random >> 16) & 0x7fff;
}

static inline uint32_t transcript_unescape(const char *text, uint8_t *out)
{
    uint32_t length = 0;
    while (*text) {
        if (*text == '\\' && text[1]) {
            text++;
            switch (*text) {
            case 'r':
                out[length++] = '\r';
                break;
            case 'n':
                out[length++] = '\n';
                break;
            case 't':
                out[length++] = '\t';
                break;
            case 'x': {
                char hex[3] = {text[1], text[2], 0};
                out[length++] = (uint8_t)strtoul(hex, NULL, 16);
                text += 2;
                break;
            }
            default:
                out[length++] = (uint8_t)*text;
                break;
            }
            text++;
        } else {
            out[length++] = (uint8_t)*text++;
        }
    }
    return length;
}

static inline void transcript_fail(transcript *t, const char *message)
{
    if (t->failures++ == 0)
        snprintf(t->failure, sizeof(t->failure), "%s (entry %u, modem at %u)", message,
                 (unsigned)t->write_position, (unsigned)t->read_position);
}

/* Adds one entry from its text form (the syntax above). */
static inline void transcript_add(transcript *t, const char *line)
{
    transcript_entry *entry;
    const char *content;
    uint8_t scratch[4096];
    uint32_t length = 0;

    if (line[0] == '#' || line[0] == '\0')
        return;
    if (t->entry_count >= TRANSCRIPT_ENTRIES) {
        transcript_fail(t, "transcript too long");
        return;
    }
    entry = &t->entries[t->entry_count];
    memset(entry, 0, sizeof(*entry));
    content = strchr(line, ' ');
    content = content ? content + 1 : "";
    if (line[0] == '~') {
        entry->kind = ENTRY_SILENCE;
        entry->silence_ms = (uint32_t)strtoul(content, NULL, 10);
    } else if (line[0] == '@') {
        entry->kind = ENTRY_CHECKPOINT;
        snprintf(entry->name, sizeof(entry->name), "%s", content);
    } else if ((line[0] == '<' || line[0] == '>') && line[1] == line[0] && line[2] == '$') {
        uint32_t count = (uint32_t)strtoul(content, NULL, 10), index;
        entry->kind = line[0] == '<' ? ENTRY_READ : ENTRY_WRITE;
        entry->damaged = line[3] == '!';
        if (count > sizeof(scratch))
            count = sizeof(scratch);
        for (index = 0; index < count; index++)
            scratch[length++] = transcript_payload(t->payload_count++);
    } else if (line[0] == '>') {
        entry->kind = ENTRY_WRITE;
        length = transcript_unescape(content, scratch);
        if (line[1] != '>')
            scratch[length++] = '\r';
    } else if (line[0] == '<') {
        bool raw = line[1] == '<';
        entry->kind = ENTRY_READ;
        entry->damaged = line[raw ? 2 : 1] == '!';
        if (!raw) {
            scratch[length++] = '\r';
            scratch[length++] = '\n';
        }
        length += transcript_unescape(content, scratch + length);
        if (!raw) {
            scratch[length++] = '\r';
            scratch[length++] = '\n';
        }
    } else {
        transcript_fail(t, "bad transcript line");
        return;
    }
    if (t->byte_count + length > TRANSCRIPT_BYTES) {
        transcript_fail(t, "transcript bytes full");
        return;
    }
    entry->offset = t->byte_count;
    entry->length = length;
    memcpy(t->bytes + t->byte_count, scratch, length);
    t->byte_count += length;
    t->entry_count++;
}

/* Inserts an entry before entry `index` (for the URC-in-every-position runs). */
static inline void transcript_insert(transcript *t, uint32_t index, const char *line)
{
    transcript_entry added;
    uint32_t count = t->entry_count;
    transcript_add(t, line);
    if (t->entry_count == count)
        return;
    added = t->entries[count];
    memmove(&t->entries[index + 1], &t->entries[index], (count - index) * sizeof(added));
    t->entries[index] = added;
}

static inline void transcript_reset(transcript *t, uint8_t split, uint32_t seed)
{
    t->read_position = t->read_offset = 0;
    t->write_position = t->write_offset = 0;
    t->last_written = 0;
    t->written_any = false;
    t->now = 0;
    t->in_silence = false;
    t->split = split;
    t->random = seed;
    t->damaged_pending = 0;
    t->failures = 0;
    t->failure[0] = '\0';
    t->power_key = false;
    t->power_presses = 0;
}

static inline bool transcript_read_file(transcript *t, const char *name, int depth)
{
    char path[512], line[4200];
    const char *source = getenv("CELLOTA_SOURCE");
    FILE *file;
    snprintf(path, sizeof(path), "%.300s/tests/transcripts/%.100s.txt", source ? source : ".",
             name);
    file = fopen(path, "r");
    if (!file || depth > 4) {
        fprintf(stderr, "cannot open %s\n", path);
        if (file)
            fclose(file);
        return false;
    }
    while (fgets(line, sizeof(line), file)) {
        size_t length = strlen(line);
        while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
            line[--length] = '\0';
        if (line[0] == '=' && line[1] == ' ') {
            if (!transcript_read_file(t, line + 2, depth + 1)) {
                fclose(file);
                return false;
            }
            continue;
        }
        transcript_add(t, line);
    }
    fclose(file);
    return true;
}

/* Loads tests/transcripts/<name>.txt (from CELLOTA_SOURCE, or the working directory). */
static inline bool transcript_load(transcript *t, const char *name)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    if (!transcript_read_file(t, name, 0))
        return false;
    transcript_reset(t, SPLIT_ALL, 1);
    return t->failures == 0;
}

/* The next device write is matched against the next write entry at or after write_position. */
static inline void transcript_next_write(transcript *t)
{
    while (t->write_position < t->entry_count && t->entries[t->write_position].kind != ENTRY_WRITE)
        t->write_position++;
}

/* The read cursor steps over what needs nothing more: checkpoints, silences that are over
 * (by time or because the device wrote something after them), and commands already written. */
static inline void transcript_settle(transcript *t)
{
    transcript_next_write(t);
    while (t->read_position < t->entry_count) {
        transcript_entry *entry = &t->entries[t->read_position];
        if (entry->kind == ENTRY_CHECKPOINT) {
            t->read_position++;
        } else if (entry->kind == ENTRY_WRITE) {
            if (t->write_position <= t->read_position)
                return; /* a reply never comes before its command */
            t->read_position++;
        } else if (entry->kind == ENTRY_SILENCE) {
            if (!t->in_silence) {
                t->in_silence = true;
                t->silence_start = t->now;
            }
            if (t->now - t->silence_start < entry->silence_ms &&
                !(t->written_any && t->last_written > t->read_position))
                return;
            t->in_silence = false;
            t->read_position++;
        } else {
            return;
        }
    }
}

static inline size_t transcript_uart_read(void *context, uint8_t *buffer, size_t capacity)
{
    transcript *t = context;
    size_t moved = 0, budget = capacity;

    if (t->split == SPLIT_ONE)
        budget = 1;
    else if (t->split == SPLIT_RANDOM)
        budget = 1 + transcript_random(t) % 48;
    if (budget > capacity)
        budget = capacity;
    transcript_settle(t);
    while (moved < budget && t->read_position < t->entry_count) {
        transcript_entry *entry = &t->entries[t->read_position];
        size_t run;
        if (entry->kind != ENTRY_READ)
            break;
        run = entry->length - t->read_offset;
        if (run > budget - moved)
            run = budget - moved;
        memcpy(buffer + moved, t->bytes + entry->offset + t->read_offset, run);
        if (entry->damaged)
            t->damaged_pending += (uint32_t)run;
        moved += run;
        t->read_offset += (uint32_t)run;
        if (t->read_offset == entry->length) {
            t->read_position++;
            t->read_offset = 0;
            transcript_settle(t);
        }
    }
    return moved;
}

static inline size_t transcript_uart_write(void *context, const uint8_t *data, size_t length)
{
    transcript *t = context;
    size_t index;
    for (index = 0; index < length; index++) {
        transcript_entry *entry;
        transcript_next_write(t);
        entry = t->write_position < t->entry_count ? &t->entries[t->write_position] : NULL;
        if (!entry) {
            char message[200];
            size_t shown = length - index < 60 ? length - index : 60;
            snprintf(message, sizeof(message), "unexpected device write \"%.*s\"", (int)shown,
                     (const char *)data + index);
            transcript_fail(t, message);
            return length;
        }
        if (t->bytes[entry->offset + t->write_offset] != data[index]) {
            char message[300];
            size_t shown = length - index < 60 ? length - index : 60;
            snprintf(
                message, sizeof(message), "device wrote \"%.*s\", transcript expects \"%.*s\"",
                (int)shown, (const char *)data + index,
                (int)(entry->length - t->write_offset > 60 ? 60 : entry->length - t->write_offset),
                (const char *)t->bytes + entry->offset + t->write_offset);
            transcript_fail(t, message);
            return length;
        }
        t->last_written = t->write_position;
        t->written_any = true;
        if (++t->write_offset == entry->length) {
            t->write_position++;
            t->write_offset = 0;
        }
    }
    return length;
}

static inline uint32_t transcript_take_errors(void *context)
{
    transcript *t = context;
    uint32_t count = t->damaged_pending;
    t->damaged_pending = 0;
    return count;
}

static inline uint32_t transcript_now(void *context)
{
    return ((transcript *)context)->now;
}

static inline void transcript_power_key(void *context, bool pressed)
{
    transcript *t = context;
    if (pressed && !t->power_key)
        t->power_presses++;
    t->power_key = pressed;
}

static inline cellota_port transcript_port(transcript *t)
{
    cellota_port port;
    memset(&port, 0, sizeof(port));
    port.context = t;
    port.uart_read = transcript_uart_read;
    port.uart_write = transcript_uart_write;
    port.uart_take_errors = transcript_take_errors;
    port.now_ms = transcript_now;
    port.modem_power_key = transcript_power_key;
    return port;
}

/* True once every entry before checkpoint `name` is done (NULL: the whole transcript). */
static inline bool transcript_reached(transcript *t, const char *name)
{
    uint32_t index, end = t->entry_count;
    transcript_settle(t);
    if (name) {
        for (index = 0; index < t->entry_count; index++) {
            if (t->entries[index].kind == ENTRY_CHECKPOINT &&
                strcmp(t->entries[index].name, name) == 0)
                break;
        }
        if (index == t->entry_count)
            return false;
        end = index;
    }
    return t->read_position >= end && t->write_position >= end;
}

/* Entries (by index) where a modem line may be inserted: every boundary after a write or a
 * modem entry, none inside the first probe. */
static inline bool transcript_boundary(const transcript *t, uint32_t index)
{
    return index > 0 && index < t->entry_count &&
           (t->entries[index - 1].kind == ENTRY_READ || t->entries[index - 1].kind == ENTRY_WRITE);
}

#endif
