/*
 * A device on the host for `verify` and `bench`: the device library's own pipeline writing
 * into the strict flash simulator (ports/sim), with nRF52840 flash rules (4 KiB pages, 4-byte
 * writes), so what passes here is what a device would accept.
 */
#ifndef CELLOTA_HOST_CLI_SIMULATED_DEVICE_H
#define CELLOTA_HOST_CLI_SIMULATED_DEVICE_H

#include "core/port.h"
#include "flash_sim.h"
#include "image/fw_info.h"
#include "image/request.h"

#include <stddef.h>
#include <stdint.h>

#define SIMULATED_PAGE_SIZE 4096
#define SIMULATED_WRITE_SIZE 4
#define SIMULATED_SLOT_MAX (256u * 1024 * 1024) /* far above any microcontroller's flash */

typedef struct simulated_device {
    flash_sim flash;
    cellota_flash_area slot;
    cellota_flash_area running; /* after the slot: the image running now (a patch's base) */
    uint32_t running_size;
    cellota_port port;
} simulated_device;

/* A device whose application slot holds `slot_size` bytes, rounded up to whole pages (at least
 * one). HOST_EXIT_OK, or HOST_EXIT_FAILED after printing why when above SIMULATED_SLOT_MAX. */
int simulated_device_open(simulated_device *device, uint64_t slot_size);

/* The same, with `running` (a patch's base) in a second slot after the first. */
int simulated_device_open_running(simulated_device *device, uint64_t slot_size,
                                  const uint8_t *running, size_t running_size);
void simulated_device_close(simulated_device *device);

/* Installs `image` into the slot through the device pipeline, fed `chunk` bytes at a time.
 * The device library's status: CELLOTA_OK only when the slot holds the image fw_info
 * describes. */
int simulated_device_install(simulated_device *device, const cellota_fw_info *info,
                             const uint8_t *image, size_t image_size, size_t chunk);

/* As simulated_device_install for what `request` describes: a compressed image or a patch
 * (against the running image) is decoded on the way, as a device does; a patch for another
 * base than the running one is refused before any byte is fed (CELLOTA_IMAGE_DELTA_WRONG_BASE). */
int simulated_device_install_request(simulated_device *device,
                                     const cellota_update_request *request, const uint8_t *image,
                                     size_t image_size, size_t chunk);

#endif
