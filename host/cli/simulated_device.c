/* The host-side device for verify and bench; see simulated_device.h. */
#include "simulated_device.h"

#include "common/cli.h"
#include "core/error.h"
#include "image/pipeline.h"

#include <mbedtls/sha256.h>

#include <string.h>

int simulated_device_open(simulated_device *device, uint64_t slot_size)
{
    return simulated_device_open_running(device, slot_size, NULL, 0);
}

int simulated_device_open_running(simulated_device *device, uint64_t slot_size,
                                  const uint8_t *running, size_t running_size)
{
    uint64_t pages = (slot_size + SIMULATED_PAGE_SIZE - 1) / SIMULATED_PAGE_SIZE;
    uint64_t running_pages = (running_size + SIMULATED_PAGE_SIZE - 1) / SIMULATED_PAGE_SIZE;
    cellota_flash_area whole;
    int status;

    memset(device, 0, sizeof(*device));
    if (pages == 0)
        pages = 1;
    if ((pages + running_pages) * SIMULATED_PAGE_SIZE > SIMULATED_SLOT_MAX)
        return host_error(HOST_EXIT_FAILED,
                          "a %llu-byte slot is more than cellota simulates (%u bytes)",
                          (unsigned long long)slot_size, SIMULATED_SLOT_MAX);
    device->slot.address = 0;
    device->slot.size = (uint32_t)(pages * SIMULATED_PAGE_SIZE);
    device->slot.erase_size = SIMULATED_PAGE_SIZE;
    device->slot.write_size = SIMULATED_WRITE_SIZE;
    device->slot.erased_value = 0xFF;
    device->running = device->slot;
    device->running.address = device->slot.size;
    device->running.size = (uint32_t)(running_pages * SIMULATED_PAGE_SIZE);
    device->running_size = (uint32_t)running_size;
    whole = device->slot;
    whole.size += device->running.size;
    status = flash_sim_create(&device->flash, &whole);
    if (status != CELLOTA_OK)
        return host_error(HOST_EXIT_INTERNAL, "cannot simulate a %u-byte flash: %s",
                          whole.size, cellota_strerror(status));
    /* The running image is simply there, as the factory or the last update left it. */
    if (running_size)
        memcpy(device->flash.memory + device->running.address, running, running_size);
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

static int install(simulated_device *device, const cellota_fw_info *info,
                   const cellota_pipeline_encoding *encoding, const uint8_t *image,
                   size_t image_size, size_t chunk)
{
    static cellota_pipeline_decoder decoder; /* a device's too is static: about 5 KiB */
    cellota_pipeline pipeline;
    size_t offset = 0;
    int status = cellota_pipeline_begin_encoded(&pipeline, &device->port, &device->slot, info,
                                                encoding, &decoder);

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

int simulated_device_install(simulated_device *device, const cellota_fw_info *info,
                             const uint8_t *image, size_t image_size, size_t chunk)
{
    return install(device, info, NULL, image, image_size, chunk);
}

int simulated_device_install_request(simulated_device *device,
                                     const cellota_update_request *request, const uint8_t *image,
                                     size_t image_size, size_t chunk)
{
    cellota_pipeline_encoding encoding;
    uint8_t running_sha256[32];

    memset(&encoding, 0, sizeof(encoding));
    encoding.kind = request->encoding;
    if (request->encoding == CELLOTA_DELTA_PATCH) {
        /* What the agent checks before downloading: the patch is for the image that runs. */
        if (mbedtls_sha256_ret(device->flash.memory + device->running.address,
                               device->running_size, running_sha256, 0) != 0)
            return CELLOTA_CRYPTO_FAILED;
        if (request->base_size != device->running_size ||
            memcmp(running_sha256, request->base_sha256, 32) != 0)
            return CELLOTA_IMAGE_DELTA_WRONG_BASE;
        encoding.base = &device->running;
        encoding.base_size = request->base_size;
        memcpy(encoding.base_sha256, request->base_sha256, 32);
    }
    return install(device, &request->fw_info, &encoding, image, image_size, chunk);
}
