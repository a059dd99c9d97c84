/* Commands with subcommands (`cellota release upload`, `cellota campaign show`): see commands.h. */
#include "commands.h"
#include "common/cli.h"

#include <stdio.h>
#include <string.h>

static void print_group_help(const char *group, const char *summary, const command_entry *entries,
                             size_t count, FILE *stream)
{
    size_t index;
    fprintf(stream, "usage: %s %s SUBCOMMAND [OPTIONS]\n\n%s\n\nsubcommands:\n", host_program(),
            group, summary);
    for (index = 0; index < count; index++)
        fprintf(stream, "  %-8s %s\n", entries[index].name, entries[index].summary);
    fprintf(stream, "\nRun '%s %s SUBCOMMAND --help' for its options.\n", host_program(), group);
}

int command_dispatch(const char *group, const char *summary, const command_entry *entries,
                     size_t count, int (*fallback)(int argc, char **argv), int argc, char **argv)
{
    size_t index;
    if (argc >= 2) {
        for (index = 0; index < count; index++) {
            if (strcmp(argv[1], entries[index].name) == 0)
                return entries[index].run(argc - 1, argv + 1);
        }
    }
    if (fallback)
        return fallback(argc, argv);
    /* --help wins over anything else on the line, as for every other command. */
    for (index = 1; index < (size_t)argc; index++) {
        if (strcmp(argv[index], "--") == 0)
            break;
        if (strcmp(argv[index], "--help") == 0 || strcmp(argv[index], "-h") == 0) {
            print_group_help(group, summary, entries, count, stdout);
            return HOST_EXIT_OK;
        }
    }
    if (argc < 2) {
        print_group_help(group, summary, entries, count, stderr);
        return host_error(HOST_EXIT_USAGE, "%s: missing SUBCOMMAND", group);
    }
    fprintf(stderr, "%s: %s: unknown subcommand '%s'\n", host_program(), group, argv[1]);
    fprintf(stderr, "Try '%s %s --help'.\n", host_program(), group);
    return HOST_EXIT_USAGE;
}
