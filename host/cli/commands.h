/*
 * The commands of `cellota`. Each takes argv with argv[0] its own name and returns the exit
 * code (common/cli.h): 0 ok, 1 failed check, 2 usage, 3 I/O, 4 internal; the commands that talk
 * to cellota-server add 5 and 6 (api_client.h).
 */
#ifndef CELLOTA_HOST_CLI_COMMANDS_H
#define CELLOTA_HOST_CLI_COMMANDS_H

#include <stddef.h>

typedef struct command_entry {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} command_entry;

/*
 * Runs the subcommand argv[1] of `group` ("campaign") from `entries` with argv shifted by one
 * (so its argv[0] is the subcommand's name). Without a subcommand, or with "--help", prints the
 * group's subcommands. `fallback`, when not NULL, runs with the whole argv when argv[1] is not a
 * subcommand (`cellota devices --state idle` lists, `cellota devices show ID` shows).
 */
int command_dispatch(const char *group, const char *summary, const command_entry *entries,
                     size_t count, int (*fallback)(int argc, char **argv), int argc, char **argv);

int command_keygen(int argc, char **argv);
int command_pack(int argc, char **argv);
int command_verify(int argc, char **argv);
int command_inspect(int argc, char **argv);
int command_cost(int argc, char **argv);
int command_bench(int argc, char **argv);
int command_release(int argc, char **argv);
int command_campaign(int argc, char **argv);
int command_devices(int argc, char **argv);

#endif
