/* The flash gate: write protection and write combining in front of a port (see gate.h). */
#include "boot/gate.h"

#include "core/error.h"

#include <string.h>

static int inside_allowed(const cellota_boot_gate *gate, uint32_t address, size_t length)
{
    const cellota_flash_area *area = gate->allowed;
    return area && address >= area->address && length <= area->size &&
           address - area->address <= area->size - length;
}

int cellota_boot_gate_flush(cellota_boot_gate *gate)
{
    const cellota_port *inner = gate->inner;
    uint32_t length = gate->collected_length;
    if (length == 0)
        return CELLOTA_OK;
    gate->collected_length = 0;
    return inner->flash_write(inner->context, gate->collected_address, gate->collected, length);
}

static int gate_write(void *context, uint32_t address, const void *data, size_t length)
{
    cellota_boot_gate *gate = context;
    const uint8_t *bytes = data;
    int result;

    if (!inside_allowed(gate, address, length))
        return CELLOTA_BOOT_REGION_PROTECTED;
    while (length > 0) {
        uint32_t end, take;
        if (gate->collected_length > 0 &&
            address != gate->collected_address + gate->collected_length) {
            if ((result = cellota_boot_gate_flush(gate)) != CELLOTA_OK)
                return result;
        }
        if (gate->collected_length == 0)
            gate->collected_address = address;
        /* A chunk never crosses a program-page boundary, as a SPI NOR page program cannot. */
        end = gate->collected_address - gate->collected_address % CELLOTA_BOOT_GATE_PROGRAM_SIZE +
              CELLOTA_BOOT_GATE_PROGRAM_SIZE;
        take = end - address;
        if (take > length)
            take = (uint32_t)length;
        memcpy(gate->collected + gate->collected_length, bytes, take);
        gate->collected_length += take;
        address += take;
        bytes += take;
        length -= take;
        if (address == end && (result = cellota_boot_gate_flush(gate)) != CELLOTA_OK)
            return result;
    }
    return CELLOTA_OK;
}

static int gate_erase(void *context, uint32_t address, size_t length)
{
    cellota_boot_gate *gate = context;
    int result;
    if (!inside_allowed(gate, address, length))
        return CELLOTA_BOOT_REGION_PROTECTED;
    if ((result = cellota_boot_gate_flush(gate)) != CELLOTA_OK)
        return result;
    return gate->inner->flash_erase(gate->inner->context, address, length);
}

static int gate_read(void *context, uint32_t address, void *buffer, size_t length)
{
    cellota_boot_gate *gate = context;
    int result;
    /* Only a read of collected bytes needs them programmed first: a patch reads the running
     * slot, and output older than the chunk, between every few writes. */
    if (gate->collected_length > 0 && address < gate->collected_address + gate->collected_length &&
        gate->collected_address < address + length &&
        (result = cellota_boot_gate_flush(gate)) != CELLOTA_OK)
        return result;
    return gate->inner->flash_read(gate->inner->context, address, buffer, length);
}

void cellota_boot_gate_init(cellota_boot_gate *gate, const cellota_port *inner)
{
    memset(gate, 0, sizeof(*gate));
    gate->inner = inner;
    /* Only the flash functions: the others would be handed the gate as their context. */
    gate->port.context = gate;
    gate->port.flash_read = gate_read;
    gate->port.flash_write = gate_write;
    gate->port.flash_erase = gate_erase;
}

int cellota_boot_gate_allow(cellota_boot_gate *gate, const cellota_flash_area *area)
{
    int result = cellota_boot_gate_flush(gate);
    gate->allowed = area;
    return result;
}
