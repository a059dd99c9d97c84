/* The shared command-line conventions: errors, help and the table-driven option parser. */
#include "common/cli.h"

#include "core/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* parse_arguments' result after printing the help: the command ends with HOST_EXIT_OK. */
#define HELP_SHOWN (-1)

static const char *program_name = "cellota";

void host_set_program(const char *name)
{
    program_name = name;
}

const char *host_program(void)
{
    return program_name;
}

static void print_message(const char *format, va_list list)
{
    fprintf(stderr, "%s: ", program_name);
    vfprintf(stderr, format, list);
    fputc('\n', stderr);
}

int host_error(int exit_code, const char *format, ...)
{
    va_list list;
    va_start(list, format);
    print_message(format, list);
    va_end(list);
    return exit_code;
}

int host_cellota_error(const char *subject, int code)
{
    return host_error(HOST_EXIT_FAILED, "%s: %s [%s]", subject, cellota_strerror(code),
                      cellota_error_name(code));
}

int host_usage_error(const host_command *command, const char *format, ...)
{
    va_list list;
    va_start(list, format);
    print_message(format, list);
    va_end(list);
    if (command && command->name)
        fprintf(stderr, "Try '%s %s --help'.\n", program_name, command->name);
    else
        fprintf(stderr, "Try '%s --help'.\n", program_name);
    return HOST_EXIT_USAGE;
}

void host_print_help(const host_command *command, FILE *stream)
{
    const host_option *option;
    char left[64];

    fprintf(stream, "usage: %s%s%s %s\n\n%s\n", program_name, command->name ? " " : "",
            command->name ? command->name : "", command->synopsis, command->summary);
    fprintf(stream, "\noptions:\n");
    for (option = command->options; option && option->name; option++) {
        snprintf(left, sizeof(left), "--%s%s%s", option->name, option->value ? " " : "",
                 option->value ? option->value : "");
        fprintf(stream, "  %-24s %s%s\n", left, option->help,
                option->required ? " (required)" : "");
    }
    fprintf(stream, "  %-24s %s\n", "-h, --help", "print this help and exit");
    if (command->details)
        fprintf(stream, "\n%s", command->details);
}

static int find_option(const host_command *command, const char *name, size_t length)
{
    int index;
    for (index = 0; command->options && command->options[index].name; index++) {
        if (strlen(command->options[index].name) == length &&
            strncmp(command->options[index].name, name, length) == 0)
            return index;
    }
    return -1;
}

static int parse_option(const host_command *command, int argc, char **argv, int *position,
                        host_arguments *arguments)
{
    const char *word = argv[*position] + 2, *equals = strchr(word, '=');
    size_t length = equals ? (size_t)(equals - word) : strlen(word);
    int index = find_option(command, word, length);
    const host_option *option;
    const char *value;

    if (index < 0)
        return host_usage_error(command, "unknown option '--%.*s'", (int)length, word);
    option = &command->options[index];
    if (arguments->values[index])
        return host_usage_error(command, "--%s given twice", option->name);
    if (!option->value) {
        if (equals)
            return host_usage_error(command, "--%s takes no value", option->name);
        arguments->values[index] = "";
        return HOST_EXIT_OK;
    }
    if (equals) {
        value = equals + 1;
    } else {
        if (*position + 1 >= argc || strncmp(argv[*position + 1], "--", 2) == 0)
            return host_usage_error(command, "--%s needs a value (%s)", option->name,
                                    option->value);
        value = argv[++*position];
    }
    arguments->values[index] = value;
    return HOST_EXIT_OK;
}

static int parse_arguments(const host_command *command, int argc, char **argv,
                           host_arguments *arguments)
{
    int position, status;
    bool options_ended = false;
    size_t index;

    memset(arguments, 0, sizeof(*arguments));
    arguments->command = command;
    for (index = 0; command->options && command->options[index].name; index++) {
        if (index >= HOST_MAX_OPTIONS) {
            fprintf(stderr, "%s: internal error: more than %d options\n", program_name,
                    HOST_MAX_OPTIONS);
            abort();
        }
    }
    for (position = 1; position < argc; position++) {
        if (!options_ended &&
            (strcmp(argv[position], "--help") == 0 || strcmp(argv[position], "-h") == 0)) {
            host_print_help(command, stdout);
            return HELP_SHOWN;
        }
    }
    for (position = 1; position < argc; position++) {
        const char *word = argv[position];
        if (!options_ended && strcmp(word, "--") == 0) {
            options_ended = true;
        } else if (!options_ended && strncmp(word, "--", 2) == 0) {
            status = parse_option(command, argc, argv, &position, arguments);
            if (status != HOST_EXIT_OK)
                return status;
        } else if (!options_ended && word[0] == '-' && word[1] != '\0') {
            return host_usage_error(command, "unknown option '%s' (options are long: --name)",
                                    word);
        } else if (arguments->positional_count >= command->positional_max ||
                   arguments->positional_count >= HOST_MAX_POSITIONAL) {
            return host_usage_error(command, "unexpected argument '%s'", word);
        } else {
            arguments->positional[arguments->positional_count++] = word;
        }
    }
    if (arguments->positional_count < command->positional_min)
        return host_usage_error(command, "missing %s", command->positional);
    for (index = 0; command->options && command->options[index].name; index++) {
        if (command->options[index].required && !arguments->values[index])
            return host_usage_error(command, "missing --%s %s", command->options[index].name,
                                    command->options[index].value ? command->options[index].value
                                                                  : "");
    }
    return HOST_EXIT_OK;
}

bool host_parse_arguments(const host_command *command, int argc, char **argv,
                          host_arguments *arguments, int *exit_code)
{
    int status = parse_arguments(command, argc, argv, arguments);
    *exit_code = status == HELP_SHOWN ? HOST_EXIT_OK : status;
    return status == HOST_EXIT_OK;
}

const char *host_option_value(const host_arguments *arguments, const char *name)
{
    int index = find_option(arguments->command, name, strlen(name));
    if (index < 0) {
        /* A name missing from the table is a bug in the program, not a user error. */
        fprintf(stderr, "%s: internal error: no option '--%s' in '%s'\n", program_name, name,
                arguments->command->name ? arguments->command->name : program_name);
        abort();
    }
    return arguments->values[index];
}

bool host_option_given(const host_arguments *arguments, const char *name)
{
    return host_option_value(arguments, name) != NULL;
}
