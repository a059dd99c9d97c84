/* Simulated NOR flash with torn-operation power cuts; see flash_sim.h for the rules. */
#include "flash_sim.h"

#include "core/error.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t next_random(flash_sim *flash)
{
    /* xorshift64*: reproducible torn contents for a given seed. */
    uint64_t x = flash->random_state ? flash->random_state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    flash->random_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int allocate_flags(flash_sim *flash)
{
    size_t units = flash->geometry.size / flash->geometry.write_size;
    flash->unit_written = calloc(units, 1);
    return flash->unit_written ? CELLOTA_OK : CELLOTA_INVALID_ARGUMENT;
}

static bool geometry_valid(const cellota_flash_area *geometry)
{
    uint32_t write_size = geometry->write_size;
    return geometry->size && geometry->erase_size && write_size && write_size <= 16 &&
           (write_size & (write_size - 1)) == 0 && geometry->size % geometry->erase_size == 0 &&
           geometry->erase_size % write_size == 0 && geometry->address % geometry->erase_size == 0;
}

int flash_sim_create(flash_sim *flash, const cellota_flash_area *geometry)
{
    memset(flash, 0, sizeof(*flash));
    if (!geometry_valid(geometry))
        return CELLOTA_INVALID_ARGUMENT;
    flash->geometry = *geometry;
    flash->memory = malloc(geometry->size);
    if (!flash->memory)
        return CELLOTA_INVALID_ARGUMENT;
    memset(flash->memory, geometry->erased_value, geometry->size);
    flash->powered = true;
    return allocate_flags(flash);
}

int flash_sim_open_file(flash_sim *flash, const cellota_flash_area *geometry, const char *path)
{
    struct stat status;
    bool fresh;
    int descriptor;
    size_t unit, units;

    memset(flash, 0, sizeof(*flash));
    if (!geometry_valid(geometry))
        return CELLOTA_INVALID_ARGUMENT;
    flash->geometry = *geometry;
    descriptor = open(path, O_RDWR | O_CREAT, 0644);
    if (descriptor < 0)
        return CELLOTA_FLASH_READ_FAILED;
    fresh = fstat(descriptor, &status) != 0 || (uint64_t)status.st_size != geometry->size;
    if (fresh && ftruncate(descriptor, 0) != 0) {
        close(descriptor);
        return CELLOTA_FLASH_WRITE_FAILED;
    }
    if (fresh && ftruncate(descriptor, geometry->size) != 0) {
        close(descriptor);
        return CELLOTA_FLASH_WRITE_FAILED;
    }
    flash->memory = mmap(NULL, geometry->size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0);
    close(descriptor);
    if (flash->memory == MAP_FAILED) {
        flash->memory = NULL;
        return CELLOTA_FLASH_READ_FAILED;
    }
    flash->mapped = true;
    flash->powered = true;
    if (fresh)
        memset(flash->memory, geometry->erased_value, geometry->size);
    if (allocate_flags(flash) != CELLOTA_OK)
        return CELLOTA_INVALID_ARGUMENT;
    units = geometry->size / geometry->write_size;
    for (unit = 0; unit < units; unit++) {
        const uint8_t *bytes = flash->memory + unit * geometry->write_size;
        uint32_t index;
        for (index = 0; index < geometry->write_size; index++) {
            if (bytes[index] != geometry->erased_value) {
                flash->unit_written[unit] = 1;
                break;
            }
        }
    }
    return CELLOTA_OK;
}

void flash_sim_destroy(flash_sim *flash)
{
    if (flash->memory) {
        if (flash->mapped) {
            msync(flash->memory, flash->geometry.size, MS_SYNC);
            munmap(flash->memory, flash->geometry.size);
        } else {
            free(flash->memory);
        }
    }
    free(flash->unit_written);
    memset(flash, 0, sizeof(*flash));
}

void flash_sim_schedule_cut(flash_sim *flash, uint64_t after)
{
    flash->cut_at = after ? flash->operations + after : 0;
}

void flash_sim_power_on(flash_sim *flash)
{
    flash->powered = true;
    flash->cut_at = 0;
}

void flash_sim_seed(flash_sim *flash, uint64_t seed)
{
    flash->random_state = seed * 2 + 1;
}

static bool in_range(const flash_sim *flash, uint32_t address, size_t length)
{
    uint32_t base = flash->geometry.address;
    return address >= base && length <= flash->geometry.size &&
           address - base <= flash->geometry.size - length;
}

/* Counts the operation; true when power is cut during it. */
static bool begin_operation(flash_sim *flash)
{
    flash->operations++;
    return flash->cut_at && flash->operations == flash->cut_at;
}

static int finish_cut(flash_sim *flash)
{
    flash->powered = false;
    if (flash->power_cut)
        flash->power_cut(flash->power_cut_user);
    return CELLOTA_FLASH_WRITE_FAILED;
}

int flash_sim_read(void *context, uint32_t address, void *buffer, size_t length)
{
    flash_sim *flash = context;
    if (!flash->powered)
        return CELLOTA_FLASH_READ_FAILED;
    if (!in_range(flash, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    memcpy(buffer, flash->memory + (address - flash->geometry.address), length);
    return CELLOTA_OK;
}

/* Programs `length` bytes at memory offset `at`: programming only clears bits (0xFF-erased
 * flash) or only sets them. Eight bytes at a time: the power-fail campaign writes gigabytes. */
static void program(flash_sim *flash, size_t at, const uint8_t *data, size_t length)
{
    uint8_t *memory = flash->memory + at;
    bool clears = flash->geometry.erased_value == 0xFF;
    size_t index = 0;
    for (; index + 8 <= length; index += 8) {
        uint64_t now, with;
        memcpy(&now, memory + index, 8);
        memcpy(&with, data + index, 8);
        now = clears ? now & with : now | with;
        memcpy(memory + index, &now, 8);
    }
    for (; index < length; index++)
        memory[index] = clears ? memory[index] & data[index] : memory[index] | data[index];
}

int flash_sim_write(void *context, uint32_t address, const void *data, size_t length)
{
    flash_sim *flash = context;
    const uint8_t *bytes = data;
    uint32_t write_size = flash->geometry.write_size;
    size_t offset, first_unit, units, torn_units;
    bool cut;

    if (!flash->powered)
        return CELLOTA_FLASH_WRITE_FAILED;
    if (!in_range(flash, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    if ((address - flash->geometry.address) % write_size || length % write_size) {
        flash->violations++;
        return CELLOTA_FLASH_MISALIGNED;
    }
    offset = address - flash->geometry.address;
    first_unit = offset / write_size;
    units = length / write_size;
    if (memchr(flash->unit_written + first_unit, 1, units)) {
        flash->violations++;
        return CELLOTA_FLASH_WRITE_FAILED;
    }
    cut = begin_operation(flash);
    flash->writes++;
    torn_units = cut ? (size_t)(next_random(flash) % (units + 1)) : units;
    program(flash, offset, bytes, torn_units * write_size);
    memset(flash->unit_written + first_unit, 1, torn_units);
    flash->bytes_written += torn_units * write_size;
    if (!cut)
        return CELLOTA_OK;
    if (torn_units < units) {
        /* The unit being programmed when power went: some of its bits made it. */
        size_t index;
        for (index = 0; index < write_size; index++) {
            size_t at = (first_unit + torn_units) * write_size + index;
            uint8_t target = bytes[torn_units * write_size + index];
            uint8_t mask = (uint8_t)next_random(flash);
            if (flash->geometry.erased_value == 0xFF)
                flash->memory[at] &= (uint8_t)(target | ~mask);
            else
                flash->memory[at] |= (uint8_t)(target & mask);
        }
        flash->unit_written[first_unit + torn_units] = 1;
    }
    return finish_cut(flash);
}

int flash_sim_erase(void *context, uint32_t address, size_t length)
{
    flash_sim *flash = context;
    uint32_t erase_size = flash->geometry.erase_size;
    size_t offset, page, pages;

    if (!flash->powered)
        return CELLOTA_FLASH_ERASE_FAILED;
    if (!in_range(flash, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    offset = address - flash->geometry.address;
    if (offset % erase_size || length % erase_size || length == 0) {
        flash->violations++;
        return CELLOTA_FLASH_MISALIGNED;
    }
    pages = length / erase_size;
    /* Each page is one operation: a multi-page erase can be cut between pages, as on hardware. */
    for (page = 0; page < pages; page++) {
        uint8_t *start = flash->memory + offset + page * erase_size;
        size_t first_unit = (offset + page * erase_size) / flash->geometry.write_size;
        size_t units = erase_size / flash->geometry.write_size;
        bool cut = begin_operation(flash);
        flash->erases++;
        if (!cut) {
            memset(start, flash->geometry.erased_value, erase_size);
            memset(flash->unit_written + first_unit, 0, units);
            continue;
        }
        {
            size_t index;
            for (index = 0; index < erase_size; index++) {
                uint64_t choice = next_random(flash) % 3;
                if (choice == 0)
                    start[index] = flash->geometry.erased_value;
                else if (choice == 1)
                    start[index] = (uint8_t)next_random(flash);
            }
            /* A half-erased unit cannot be trusted to take a write: mark all as written so
             * the only thing the device can do with the page is erase it again. */
            memset(flash->unit_written + first_unit, 1, units);
        }
        return finish_cut(flash);
    }
    return CELLOTA_OK;
}
