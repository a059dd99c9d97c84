/* The simulated device: flash, modem files, virtual time, watchdog, resets (sim_device.h). */
#include "sim_device.h"

#include "boot/stage0.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* Every IN_PROGRESS bootloader step the device takes, at most, before a boot counts as hung. */
#define STEPS_MAX 50000000u

void sim_device_reset(sim_device *device, int kind)
{
    if (kind == SIM_RESET_WATCHDOG)
        device->watchdog_bites++;
    else if (kind == SIM_RESET_INJECTED)
        device->injected_resets++;
    else if (kind == SIM_RESET_REBOOT)
        device->reboots++;
    device->reset_at = 0;
    device->last_kick_us = device->now_us; /* the watchdog restarts with the CPU */
    if (device->landing)
        longjmp(*device->landing, kind);
}

static void elapse(sim_device *device, uint64_t microseconds)
{
    device->now_us += microseconds;
    if (device->watchdog_ms &&
        device->now_us - device->last_kick_us > (uint64_t)device->watchdog_ms * 1000)
        sim_device_reset(device, SIM_RESET_WATCHDOG);
}

static void modem_elapse(void *user, uint32_t microseconds)
{
    elapse(user, microseconds);
}

static void power_cut(void *user)
{
    sim_device *device = user;
    device->power_cuts++;
    device->last_kick_us = device->now_us;
    if (device->landing)
        longjmp(*device->landing, SIM_RESET_POWER_CUT);
}

/* Before each flash operation: an injected reset takes its place; otherwise time passes. */
static void before_operation(sim_device *device, uint32_t microseconds)
{
    if (device->before_operation)
        device->before_operation(device->before_operation_user);
    if (device->reset_at && device->flash.operations + 1 == device->reset_at)
        sim_device_reset(device, SIM_RESET_INJECTED);
    elapse(device, microseconds);
}

static int port_read(void *context, uint32_t address, void *buffer, size_t length)
{
    sim_device *device = context;
    elapse(device, (uint64_t)length * device->read_ns_per_byte / 1000);
    return flash_sim_read(&device->flash, address, buffer, length);
}

static int port_write(void *context, uint32_t address, const void *data, size_t length)
{
    sim_device *device = context;
    const uint8_t *bytes = data;
    while (length > 0) {
        uint32_t chunk = SIM_PROGRAM_SIZE - address % SIM_PROGRAM_SIZE;
        int result;
        if (chunk > length)
            chunk = (uint32_t)length;
        before_operation(device, device->program_us);
        result = flash_sim_write(&device->flash, address, bytes, chunk);
        if (result != CELLOTA_OK)
            return result;
        address += chunk;
        bytes += chunk;
        length -= chunk;
    }
    return CELLOTA_OK;
}

static int port_erase(void *context, uint32_t address, size_t length)
{
    sim_device *device = context;
    uint32_t page = device->flash.geometry.erase_size;
    if (address % page != 0 || length % page != 0 || length == 0)
        return flash_sim_erase(&device->flash, address, length); /* its error */
    while (length > 0) {
        int result;
        before_operation(device, device->erase_us);
        result = flash_sim_erase(&device->flash, address, page);
        if (result != CELLOTA_OK)
            return result;
        address += page;
        length -= page;
    }
    return CELLOTA_OK;
}

static uint32_t port_now(void *context)
{
    sim_device *device = context;
    elapse(device, 1);
    return (uint32_t)(device->now_us / 1000);
}

static void port_kick(void *context)
{
    sim_device *device = context;
    device->last_kick_us = device->now_us;
}

static void port_reboot(void *context)
{
    sim_device_reset(context, SIM_RESET_REBOOT);
}

int sim_device_create(sim_device *device, const cellota_boot_layout *layout)
{
    bool nrf = strncmp(layout->name, "nrf", 3) == 0;
    int result;

    memset(device, 0, sizeof(*device));
    device->layout = layout;
    result = flash_sim_create(&device->flash, &layout->flash);
    if (result != CELLOTA_OK)
        return result;
    device->flash.power_cut = power_cut;
    device->flash.power_cut_user = device;
    /* Datasheet figures: nRF52840 page erase 85 ms, 64 words at 41 us; ESP32's SPI NOR sector
     * erase 45 ms, page program 0.7 ms. Reading and hashing on the MCU ~1 us a byte. */
    device->erase_us = nrf ? 85000 : 45000;
    device->program_us = nrf ? 2624 : 700;
    device->read_ns_per_byte = 1000;

    modem_files_sim_init(&device->modem);
    device->modem.latency = 2;
    device->modem.poll_us = 1000;
    device->modem.command_us = 20000;
    device->modem.byte_us = 87; /* 10 bits at 115200 baud */
    device->modem.elapse = modem_elapse;
    device->modem.user = device;
    modem_files_sim_source(&device->modem, &device->source);

    device->port.context = device;
    device->port.flash_read = port_read;
    device->port.flash_write = port_write;
    device->port.flash_erase = port_erase;
    device->port.now_ms = port_now;
    device->port.watchdog_kick = port_kick;
    device->port.reboot = port_reboot;
    return CELLOTA_OK;
}

void sim_device_destroy(sim_device *device)
{
    flash_sim_destroy(&device->flash);
}

void sim_device_copy_flash(sim_device *to, const sim_device *from)
{
    size_t units = from->flash.geometry.size / from->flash.geometry.write_size;
    memcpy(to->flash.memory, from->flash.memory, from->flash.geometry.size);
    memcpy(to->flash.unit_written, from->flash.unit_written, units);
    to->flash.operations = from->flash.operations;
}

int sim_device_boot(sim_device *device, cellota_boot_decision *decision, int *stage0_result)
{
    cellota_stage0 stage0;
    cellota_boot boot;
    uint32_t steps = 0;
    int result;

    cellota_stage0_init(&stage0, &device->port, device->layout);
    while ((result = cellota_stage0_step(&stage0)) == CELLOTA_IN_PROGRESS && ++steps < STEPS_MAX)
        ;
    *stage0_result = result;
    cellota_boot_init(&boot, &device->port, device->layout, &device->source);
    steps = 0;
    while ((result = cellota_boot_step(&boot)) == CELLOTA_IN_PROGRESS && ++steps < STEPS_MAX)
        ;
    if (result == CELLOTA_IN_PROGRESS)
        return CELLOTA_TIMEOUT;
    if (result == CELLOTA_OK)
        *decision = *cellota_boot_result(&boot);
    return result;
}

int sim_device_factory_write(sim_device *device, uint32_t address, const uint8_t *data,
                             uint32_t size)
{
    uint32_t page = device->flash.geometry.erase_size;
    uint32_t write_size = device->flash.geometry.write_size;
    uint32_t pages = (size + page - 1) / page * page, whole = size - size % write_size;
    int result = size ? flash_sim_erase(&device->flash, address, pages) : CELLOTA_OK;

    if (result == CELLOTA_OK && whole)
        result = flash_sim_write(&device->flash, address, data, whole);
    if (result == CELLOTA_OK && whole < size) {
        uint8_t tail[16];
        memset(tail, device->flash.geometry.erased_value, sizeof(tail));
        memcpy(tail, data + whole, size - whole);
        result = flash_sim_write(&device->flash, address + whole, tail, write_size);
    }
    return result;
}
