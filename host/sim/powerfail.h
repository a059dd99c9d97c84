/*
 * The power-fail campaign: an update performed on a simulated device with power cut at every
 * one of its flash operations in turn, at random points several times in one update, and during
 * rollbacks, each time rebooting through the first stage and the bootloader until the device
 * settles, then checking what it runs. docs/boot.md describes the method and the figures.
 */
#ifndef CELLOTA_HOST_SIM_POWERFAIL_H
#define CELLOTA_HOST_SIM_POWERFAIL_H

/* `cellota-sim powerfail ...`: argv[0] is "powerfail". Returns the process exit status:
 * 0 all recovered, 1 something bricked or failed, 2 bad usage or a combination that does not
 * apply to the layout. */
int powerfail_main(int argc, char **argv);

/* Prints the powerfail usage. */
void powerfail_usage(void);

#endif
