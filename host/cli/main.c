/*
 * `cellota`, the operator's tool: make a signing key, pack a firmware image for devices, check
 * a packed image exactly as a device would, look inside requests and images, price a campaign,
 * and drive cellota-server (releases, campaigns, devices) from a terminal or a release pipeline.
 * main only dispatches; each command lives in its own command_*.c.
 */
#include "commands.h"
#include "common/cli.h"

#include <stdio.h>
#include <string.h>

static const command_entry commands[] = {
    {"keygen", "make an ECDSA P-256 key pair for signing update requests", command_keygen},
    {"pack", "encrypt a firmware image and write its signed update request", command_pack},
    {"verify", "check a packed image as a device would, and write the plain image", command_verify},
    {"inspect", "show what is in an update request, a fw_info hex string, an image or a key",
     command_inspect},
    {"cost", "price an update campaign (seed 002's model: MQTT requests, storage, GETs, egress)",
     command_cost},
    {"bench", "time the device pipeline in this process (diagnostic; used by make bench)",
     command_bench},
    {"release", "upload a firmware to cellota-server as a release; list releases", command_release},
    {"campaign", "start, follow, pause, resume or abort a staged rollout on cellota-server",
     command_campaign},
    {"devices", "list the devices cellota-server knows, show one with its history",
     command_devices},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *stream)
{
    size_t index;
    fprintf(stream, "usage: cellota COMMAND [OPTIONS]\n\n"
                    "cellota's operator tool: over-the-air firmware updates for cellular devices.\n"
                    "\ncommands:\n");
    for (index = 0; index < COMMAND_COUNT; index++)
        fprintf(stream, "  %-9s %s\n", commands[index].name, commands[index].summary);
    fprintf(stream,
            "\nRun 'cellota COMMAND --help' for a command's options.\n"
            "\nexit codes:\n"
            "  0  success\n"
            "  1  a check failed: the image, request, signature or another input is wrong,\n"
            "     or cellota-server refused the request (its reason is printed)\n"
            "  2  usage error: unknown command or option, missing or malformed value\n"
            "  3  input/output error: a file cannot be read or written\n"
            "  4  internal error: the crypto library or memory failed\n"
            "  5  cellota-server cannot be reached, or failed (release, campaign, devices)\n"
            "  6  no token, or cellota-server refused it (release, campaign, devices)\n"
            "\nErrors are one line on standard error: 'cellota: what happened'.\n");
}

int main(int argc, char **argv)
{
    size_t index;
    const char *name;

    host_set_program("cellota");
    if (argc < 2)
        return host_usage_error(NULL, "missing COMMAND");
    name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_help(stdout);
        return HOST_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return HOST_EXIT_OK;
        }
        for (index = 0; index < COMMAND_COUNT; index++) {
            if (strcmp(argv[2], commands[index].name) == 0) {
                char *help_argv[] = {argv[2], "--help", NULL};
                return commands[index].run(2, help_argv);
            }
        }
        return host_usage_error(NULL, "unknown command '%s'", argv[2]);
    }
    for (index = 0; index < COMMAND_COUNT; index++) {
        if (strcmp(name, commands[index].name) == 0)
            return commands[index].run(argc - 1, argv + 1);
    }
    if (strcmp(name, "diff") == 0 || strcmp(name, "patch") == 0)
        return host_usage_error(NULL, "'%s' is not supported yet: delta updates come later", name);
    return host_usage_error(NULL, "unknown command '%s'", name);
}
