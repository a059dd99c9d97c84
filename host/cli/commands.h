/*
 * The commands of `cellota`. Each takes argv with argv[0] its own name and returns the exit
 * code (common/cli.h): 0 ok, 1 failed check, 2 usage, 3 I/O, 4 internal.
 */
#ifndef CELLOTA_HOST_CLI_COMMANDS_H
#define CELLOTA_HOST_CLI_COMMANDS_H

int command_keygen(int argc, char **argv);
int command_pack(int argc, char **argv);
int command_verify(int argc, char **argv);
int command_inspect(int argc, char **argv);
int command_cost(int argc, char **argv);
int command_bench(int argc, char **argv);
int command_diff(int argc, char **argv);
int command_patch(int argc, char **argv);

#endif
