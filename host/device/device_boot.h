/*
 * What every simulated device on the host does around the agent: provision a blank flash the
 * way a factory would, and run the bootloader core at power-on. cellota-device and the update
 * benchmark share it.
 */
#ifndef CELLOTA_HOST_DEVICE_BOOT_H
#define CELLOTA_HOST_DEVICE_BOOT_H

#include "boot/boot.h"
#include "boot/layout.h"
#include "core/port.h"

/* The factory image's size and semantic version (security version 0). */
#define DEVICE_FACTORY_SIZE 16384u
#define DEVICE_FACTORY_VERSION "0.0.0"

/* The built-in factory application: a text line, then reproducible pseudo-random bytes. */
void device_factory_image(uint8_t image[DEVICE_FACTORY_SIZE]);

/* Writes the factory application into the first application slot and records it in the install
 * journal, with `modem_image` (NULL: none) as its encrypted copy kept in the modem for the
 * modem-staged strategy. CELLOTA_OK or a flash or journal error. */
int device_provision(const cellota_port *port, const cellota_boot_layout *layout,
                     const cellota_boot_known *modem_image);

/* Runs the bootloader core to its decision, reading staged images from `source` (NULL: none).
 * CELLOTA_OK with *decision filled, or its error (CELLOTA_BOOT_NOT_PROVISIONED for a blank
 * flash). */
int device_run_bootloader(const cellota_port *port, const cellota_boot_layout *layout,
                          const cellota_boot_source *source, cellota_boot_decision *decision);

#endif
