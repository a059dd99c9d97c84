/*
 * Command-line conventions every cellota program shares: exit codes, one-line errors prefixed
 * with the program's name, and a small option parser driven by a table, so `--help` and the
 * parser can never disagree about what a command accepts.
 *
 * Options are long only ("--out DIR" or "--out=DIR"); "-h" and "--help" anywhere print the
 * help; "--" ends the options. A value may not start with "--" (so a forgotten value is caught
 * instead of eating the next option).
 */
#ifndef CELLOTA_HOST_COMMON_CLI_H
#define CELLOTA_HOST_COMMON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes, the same in every program. */
enum {
    HOST_EXIT_OK = 0,
    HOST_EXIT_FAILED = 1,   /* the input was checked and found wrong (verification, validation) */
    HOST_EXIT_USAGE = 2,    /* the command line is wrong: unknown option, missing or bad value */
    HOST_EXIT_IO = 3,       /* a file or the system could not be read or written */
    HOST_EXIT_INTERNAL = 4, /* a library failed (crypto, out of memory): a bug or a broken system */
};

#define HOST_MAX_OPTIONS 32
#define HOST_MAX_POSITIONAL 8

typedef struct host_option {
    const char *name;  /* long name without the dashes: "out" */
    const char *value; /* placeholder of its value ("DIR"), or NULL for a flag */
    const char *help;  /* one line */
    bool required;
} host_option;

typedef struct host_command {
    const char *name;           /* "pack" (NULL for a program without commands) */
    const char *synopsis;       /* what follows the name in the usage line */
    const char *summary;        /* one sentence */
    const host_option *options; /* ends with an entry whose name is NULL */
    const char *positional;     /* names of the positional arguments for messages ("FIRMWARE") */
    size_t positional_min, positional_max;
    const char *details; /* free text printed after the options, or NULL */
} host_command;

typedef struct host_arguments {
    const host_command *command;
    const char *values[HOST_MAX_OPTIONS]; /* by option index: NULL absent, "" a given flag */
    const char *positional[HOST_MAX_POSITIONAL];
    size_t positional_count;
} host_arguments;

/* The name printed before every error ("cellota"); set once at the start of main. */
void host_set_program(const char *name);
const char *host_program(void);

/* Prints "program: message" on stderr and returns `exit_code`, so `return host_error(...)`. */
int host_error(int exit_code, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Prints "program: subject: sentence [NAME]" for a cellota_error code from the device
 * library (the sentence for people, the name for scripts) and returns HOST_EXIT_FAILED. */
int host_cellota_error(const char *subject, int code);

/* Like host_error with HOST_EXIT_USAGE, and adds where to find the command's help. */
int host_usage_error(const host_command *command, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the command's help (usage line, summary, options, details). */
void host_print_help(const host_command *command, FILE *stream);

/*
 * Parses argv[1..argc-1] (argv[0] is the command's own name) against the command's table.
 * true when the command should go on. false when it should return *exit_code: HOST_EXIT_OK
 * after printing the help on stdout, or HOST_EXIT_USAGE after printing what is wrong (unknown
 * or repeated option, missing value or required option, too few or too many positional
 * arguments). So a command starts with
 *     if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
 *         return status;
 */
bool host_parse_arguments(const host_command *command, int argc, char **argv,
                          host_arguments *arguments, int *exit_code);

/* The value of option `name` (NULL when absent). `name` must be in the command's table. */
const char *host_option_value(const host_arguments *arguments, const char *name);
bool host_option_given(const host_arguments *arguments, const char *name);

#endif
