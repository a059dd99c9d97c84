/* The host-side device for verify and bench; see simulated_device.h. */
#include "simulated_device.h"

#include "common/cli.h"
#include "core/error.h"
#include "image/pipeline.h"

#include <string.h>

int simulated_device_open(simulated_device *device, uint64_t slot_size)
{
    uint64_t pages = (slot_size + SIMULATED_PAGE_SIZE - 1) / SIMULATED_PAGE_SIZE;
    int status;

    memset(device, 0, sizeof(*device));
    if (pages == 0)
        pages = 1;
    if (pages * SIMULATED_PAGE_SIZE > SIMULATED_SLOT_MAX)
        return host_error(HOST_EXIT_FAILED,
                          "a %llu-byte slot is more than cellota simulates (%u bytes)",
                          (unsigned long long)slot_size, SIMULATED_SLOT_MAX);
    device->slot.address = 0;
    device->slot.size = (uint32_t)(pages * SIMULATED_PAGE_SIZE);
    device->slot.erase_size = SIMULATED_PAGE_SIZE;
    device->slot.write_size = SIMULATED_WRITE_SIZE;
    device->slot.erased_value = 0xFF;
    status = flash_sim_create(&device->flash, &device->slot);
    if (status != CELLOTA_OK)
        return host_error(HOST_EXIT_INTERNAL, "cannot simulate a %u-byte flash: %s",
                          device->slot.size, cellota_strerror(status));
    device->port.context = &device->flash;
    device->port.flash_read = flash_sim_read;
    device->port.flash_write = flash_sim_write;
    device->port.flash_erase = flash_sim_erase;
    return HOST_EXIT_OK;
}

void simulated_device_close(simulated_device *device)
{
    flash_sim_destroy(&device->flash);
}

int simulated_device_install(simulated_device *device, const cellota_fw_info *info,
                             const uint8_t *image, size_t image_size, size_t chunk)
{
    cellota_pipeline pipeline;
    size_t offset = 0;
    int status = cellota_pipeline_begin(&pipeline, &device->port, &device->slot, info);

    if (chunk == 0)
        chunk = image_size ? image_size : 1;
    while (status == CELLOTA_OK && offset < image_size) {
        size_t part = image_size - offset < chunk ? image_size - offset : chunk;
        status = cellota_pipeline_feed(&pipeline, image + offset, part);
        offset += part;
    }
    if (status == CELLOTA_OK)
        status = cellota_pipeline_finish(&pipeline);
    return status;
}
