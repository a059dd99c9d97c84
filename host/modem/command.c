/*
 * The AT command line: splitting "AT+CREG?;+CGREG?" into commands (V.250 syntax: basic commands
 * like E0 and &W run together, extended ones start with '+' and end at ';'), their arguments
 * (comma separated, quoted strings may hold commas and semicolons), and running each through
 * the model's command tables. The final result is written once for the whole line, as real
 * modems do: the first failing command ends the line with its error.
 */
#include "emulator_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool argument_present(const at_command *command, int index)
{
    return index >= 0 && index < command->count && command->arguments[index].text &&
           (command->arguments[index].text[0] != 0 || command->arguments[index].quoted);
}

const char *argument_text(const at_command *command, int index)
{
    if (index < 0 || index >= command->count || !command->arguments[index].text)
        return "";
    return command->arguments[index].text;
}

bool argument_int(const at_command *command, int index, long *value)
{
    const char *text = argument_text(command, index);
    char *end;
    long parsed;
    if (!argument_present(command, index) || command->arguments[index].quoted)
        return false;
    if (!isdigit((unsigned char)text[0]) && !(text[0] == '-' && isdigit((unsigned char)text[1])))
        return false;
    parsed = strtol(text, &end, 10);
    if (*end != 0)
        return false;
    *value = parsed;
    return true;
}

static bool is_name_character(char character)
{
    return isalnum((unsigned char)character) || character == '_';
}

/* Splits "a,"b,c",,d" into arguments inside command->storage. */
static bool parse_arguments(const char *text, size_t length, at_command *out)
{
    size_t position = 0, stored = 0;
    out->count = 0;
    for (;;) {
        command_argument *argument;
        char *start;
        if (out->count == MODEM_MAX_ARGUMENTS)
            return false;
        argument = &out->arguments[out->count++];
        start = out->storage + stored;
        argument->text = start;
        argument->quoted = false;
        while (position < length && text[position] == ' ')
            position++;
        if (position < length && text[position] == '"') {
            argument->quoted = true;
            position++;
            while (position < length && text[position] != '"')
                out->storage[stored++] = text[position++];
            if (position == length)
                return false; /* unterminated string */
            position++;
            while (position < length && text[position] == ' ')
                position++;
        } else {
            size_t last = stored;
            while (position < length && text[position] != ',') {
                if (text[position] == '"')
                    return false;
                out->storage[stored++] = text[position++];
                if (text[position - 1] != ' ')
                    last = stored;
            }
            stored = last; /* trailing spaces are not part of the value */
        }
        out->storage[stored++] = 0;
        if (position == length)
            return true;
        if (text[position] != ',')
            return false;
        position++;
    }
}

size_t command_parse(const char *text, size_t length, at_command *out)
{
    size_t position = 0, name_length = 0, end;
    bool in_quotes = false;
    memset(out, 0, sizeof(*out) - sizeof(out->storage));
    out->storage[0] = 0;
    if (length == 0)
        return 0;
    if (strchr("+$^*#%", text[0])) {
        out->name[name_length++] = text[position++];
        while (position < length && is_name_character(text[position]) &&
               name_length < sizeof(out->name) - 1)
            out->name[name_length++] = (char)toupper((unsigned char)text[position++]);
        if (name_length == 1)
            return 0;
    } else if (text[0] == '&') {
        out->name[name_length++] = text[position++];
        if (position == length || !isalpha((unsigned char)text[position]))
            return 0;
        out->name[name_length++] = (char)toupper((unsigned char)text[position++]);
    } else if (isalpha((unsigned char)text[0])) {
        out->name[name_length++] = (char)toupper((unsigned char)text[position++]);
        if (out->name[0] == 'S') {
            /* S-registers: S3=13, S3? */
            while (position < length && isdigit((unsigned char)text[position]) &&
                   name_length < sizeof(out->name) - 1)
                out->name[name_length++] = text[position++];
        }
    } else {
        return 0;
    }
    out->name[name_length] = 0;

    if (out->name[0] != '+' && out->name[0] != '$' && out->name[0] != '^' && out->name[0] != '*' &&
        out->name[0] != '#' && out->name[0] != '%' && !(out->name[0] == 'S' && name_length > 1)) {
        /* basic command: an optional number follows (E0, V1, &W0, I) */
        size_t start = position;
        while (position < length && isdigit((unsigned char)text[position]))
            position++;
        if (position > start) {
            out->type = COMMAND_SET;
            memcpy(out->storage, text + start, position - start);
            out->storage[position - start] = 0;
            out->arguments[0].text = out->storage;
            out->count = 1;
        } else if (position < length && text[position] == '?') {
            out->type = COMMAND_READ;
            position++;
        } else {
            out->type = COMMAND_EXECUTE;
        }
        return position;
    }

    if (position + 1 < length && text[position] == '=' && text[position + 1] == '?') {
        out->type = COMMAND_TEST;
        position += 2;
    } else if (position < length && text[position] == '?') {
        out->type = COMMAND_READ;
        position++;
    } else if (position < length && text[position] == '=') {
        out->type = COMMAND_SET;
        position++;
        for (end = position; end < length; end++) {
            if (text[end] == '"')
                in_quotes = !in_quotes;
            else if (text[end] == ';' && !in_quotes)
                break;
        }
        if (in_quotes)
            return 0;
        if (!parse_arguments(text + position, end - position, out))
            return 0;
        position = end;
    } else {
        out->type = COMMAND_EXECUTE;
    }
    /* an extended command ends at ';' or the end of the line */
    if (position < length && text[position] == ';')
        position++;
    else if (position < length)
        return 0;
    return position;
}

static const command_entry *find_command(const modem_emulator *emulator, const char *name)
{
    const command_entry *const *table;
    for (table = emulator->profile->tables; *table; table++) {
        const command_entry *entry;
        for (entry = *table; entry->name; entry++)
            if (strcmp(entry->name, name) == 0)
                return entry;
    }
    return NULL;
}

static int dispatch(modem_emulator *emulator, const at_command *command)
{
    const command_entry *entry = find_command(emulator, command->name);
    if (!entry)
        return RESULT_ERROR;
    if ((entry->flags & COMMAND_NEEDS_SIM) && !emulator->sim_ready)
        return command_cme(CME_SIM_BUSY);
    return entry->handler(emulator, command);
}

void command_line_execute(modem_emulator *emulator, const char *line, size_t length)
{
    size_t position = 0;
    static const size_t command_size = sizeof(at_command);
    at_command *parsed = malloc(command_size);
    if (!parsed) {
        out_error(emulator);
        return;
    }
    while (position < length) {
        size_t used;
        int result;
        while (position < length && (line[position] == ' ' || line[position] == ';'))
            position++;
        if (position == length)
            break;
        used = command_parse(line + position, length - position, parsed);
        if (used == 0) {
            out_error(emulator);
            free(parsed);
            return;
        }
        position += used;
        out_line_break(emulator); /* each command's answer is its own block */
        result = dispatch(emulator, parsed);
        if (result == RESULT_OK)
            continue;
        if (result == RESULT_ERROR)
            out_error(emulator);
        else if (result >= RESULT_CME_BASE)
            out_cme(emulator, result - RESULT_CME_BASE);
        free(parsed);
        return;
    }
    free(parsed);
    out_ok(emulator);
}
