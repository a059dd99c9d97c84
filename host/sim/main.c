/* cellota-sim: host simulations of cellota devices. Subcommands: powerfail. */
#include "powerfail.h"

#include <stdio.h>
#include <string.h>

static void usage(void)
{
    printf("usage: cellota-sim COMMAND [options]\n"
           "\n"
           "Commands:\n"
           "  powerfail   cut power at every flash operation of an update and check that the\n"
           "              device always boots a verified image (see powerfail --help)\n");
    powerfail_usage();
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "powerfail") == 0)
        return powerfail_main(argc - 1, argv + 1);
    fprintf(stderr, "cellota-sim: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
