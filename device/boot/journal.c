/* The power-safe install journal: a ring of record slots (format and rules in journal.h). */
#include "boot/journal.h"

#include "core/error.h"

#include <string.h>

/* Bytes read from flash at a time while checking a slot: a small stack buffer. */
#define CHUNK 64u

uint32_t cellota_journal_crc32(uint32_t crc, const void *data, size_t length)
{
    const uint8_t *bytes = data;
    crc = ~crc;
    while (length--) {
        unsigned bit;
        crc ^= *bytes++;
        for (bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t get_u32(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

static void put_u32(uint8_t *bytes, uint32_t value)
{
    bytes[0] = (uint8_t)value;
    bytes[1] = (uint8_t)(value >> 8);
    bytes[2] = (uint8_t)(value >> 16);
    bytes[3] = (uint8_t)(value >> 24);
}

static uint32_t slot_address(const cellota_journal *journal, uint32_t slot)
{
    return journal->area->address + slot * CELLOTA_JOURNAL_SLOT_SIZE;
}

static uint32_t slots_per_page(const cellota_journal *journal)
{
    return journal->area->erase_size / CELLOTA_JOURNAL_SLOT_SIZE;
}

static int flash_read(const cellota_journal *journal, uint32_t address, void *buffer, size_t length)
{
    return journal->port->flash_read(journal->port->context, address, buffer, length);
}

/* Whether `slot` holds a record whose magic, length and CRC are right; its sequence and length. */
static int check_slot(const cellota_journal *journal, uint32_t slot, bool *valid,
                      uint32_t *sequence, uint32_t *length)
{
    uint8_t header[CELLOTA_JOURNAL_HEADER_SIZE], chunk[CHUNK];
    uint32_t address = slot_address(journal, slot), crc, done;
    int result = flash_read(journal, address, header, sizeof(header));

    *valid = false;
    if (result != CELLOTA_OK)
        return result;
    *sequence = get_u32(header + 4);
    *length = get_u32(header + 8);
    if (get_u32(header) != CELLOTA_JOURNAL_MAGIC || *length % 16 != 0 ||
        *length > CELLOTA_JOURNAL_PAYLOAD_MAX)
        return CELLOTA_OK;
    crc = cellota_journal_crc32(0, header + 4, 8);
    for (done = 0; done < *length; done += CHUNK) {
        uint32_t take = *length - done < CHUNK ? *length - done : CHUNK;
        result = flash_read(journal, address + CELLOTA_JOURNAL_HEADER_SIZE + done, chunk, take);
        if (result != CELLOTA_OK)
            return result;
        crc = cellota_journal_crc32(crc, chunk, take);
    }
    *valid = crc == get_u32(header + 12);
    return CELLOTA_OK;
}

static int slot_erased(const cellota_journal *journal, uint32_t slot, bool *erased)
{
    uint8_t chunk[CHUNK];
    uint32_t done;
    *erased = false;
    for (done = 0; done < CELLOTA_JOURNAL_SLOT_SIZE; done += CHUNK) {
        size_t index;
        int result = flash_read(journal, slot_address(journal, slot) + done, chunk, CHUNK);
        if (result != CELLOTA_OK)
            return result;
        for (index = 0; index < CHUNK; index++) {
            if (chunk[index] != journal->area->erased_value)
                return CELLOTA_OK;
        }
    }
    *erased = true;
    return CELLOTA_OK;
}

int cellota_journal_open(cellota_journal *journal, const cellota_port *port,
                         const cellota_flash_area *area)
{
    uint32_t slot;

    memset(journal, 0, sizeof(*journal));
    journal->port = port;
    journal->area = area;
    if (area->erase_size % CELLOTA_JOURNAL_SLOT_SIZE != 0 || area->size % area->erase_size != 0 ||
        area->size / area->erase_size < 2)
        return CELLOTA_INVALID_ARGUMENT;
    journal->slots = area->size / CELLOTA_JOURNAL_SLOT_SIZE;
    for (slot = 0; slot < journal->slots; slot++) {
        uint32_t sequence, length;
        bool valid;
        int result = check_slot(journal, slot, &valid, &sequence, &length);
        if (result != CELLOTA_OK)
            return result;
        /* Serial-number order: a newer sequence is ahead by less than half the number space. */
        if (valid && (!journal->has_record || (int32_t)(sequence - journal->sequence) > 0)) {
            journal->has_record = true;
            journal->newest = slot;
            journal->sequence = sequence;
            journal->length = length;
        }
    }
    return CELLOTA_OK;
}

int cellota_journal_read(const cellota_journal *journal, void *payload, size_t capacity,
                         size_t *length)
{
    if (!journal->has_record)
        return CELLOTA_BOOT_NOT_PROVISIONED;
    if (capacity < journal->length)
        return CELLOTA_BUFFER_TOO_SMALL;
    *length = journal->length;
    return flash_read(journal, slot_address(journal, journal->newest) + CELLOTA_JOURNAL_HEADER_SIZE,
                      payload, journal->length);
}

/* Writes the record into `slot` (payload first, the header as its commit) and reads it back.
 * CELLOTA_OK when the slot now holds it; anything else means: try another slot. */
static int write_record(cellota_journal *journal, uint32_t slot, uint32_t sequence,
                        const void *payload, uint32_t length)
{
    const cellota_port *port = journal->port;
    uint8_t header[CELLOTA_JOURNAL_HEADER_SIZE];
    uint32_t address = slot_address(journal, slot), read_sequence, read_length;
    bool valid;
    int result;

    put_u32(header, CELLOTA_JOURNAL_MAGIC);
    put_u32(header + 4, sequence);
    put_u32(header + 8, length);
    put_u32(header + 12,
            cellota_journal_crc32(cellota_journal_crc32(0, header + 4, 8), payload, length));
    if (length > 0) {
        result = port->flash_write(port->context, address + CELLOTA_JOURNAL_HEADER_SIZE, payload,
                                   length);
        if (result != CELLOTA_OK)
            return result;
    }
    result = port->flash_write(port->context, address, header, sizeof(header));
    if (result != CELLOTA_OK)
        return result;
    result = check_slot(journal, slot, &valid, &read_sequence, &read_length);
    if (result != CELLOTA_OK)
        return result;
    return valid && read_sequence == sequence && read_length == length
               ? CELLOTA_OK
               : CELLOTA_BOOT_JOURNAL_WRITE_FAILED;
}

/* Tries the erased slots in [first, end) in order. CELLOTA_OK once one holds the record,
 * CELLOTA_BOOT_JOURNAL_WRITE_FAILED when none would, or a flash read error. */
static int write_in_slots(cellota_journal *journal, uint32_t first, uint32_t end,
                          const void *payload, uint32_t length)
{
    uint32_t sequence = journal->has_record ? journal->sequence + 1 : 1, slot;
    for (slot = first; slot < end; slot++) {
        bool erased;
        int result = slot_erased(journal, slot, &erased);
        if (result != CELLOTA_OK)
            return result;
        /* A slot with anything programmed may hold a torn record: never program it twice. */
        if (!erased || write_record(journal, slot, sequence, payload, length) != CELLOTA_OK)
            continue;
        journal->has_record = true;
        journal->newest = slot;
        journal->sequence = sequence;
        journal->length = length;
        return CELLOTA_OK;
    }
    return CELLOTA_BOOT_JOURNAL_WRITE_FAILED;
}

int cellota_journal_append(cellota_journal *journal, const void *payload, size_t length)
{
    const cellota_port *port = journal->port;
    uint32_t per_page = slots_per_page(journal), pages = journal->slots / per_page;
    uint32_t page, step, last_step;
    int result;

    if (length % 16 != 0 || length > CELLOTA_JOURNAL_PAYLOAD_MAX)
        return CELLOTA_INVALID_ARGUMENT;
    if (journal->has_record) {
        page = journal->newest / per_page;
        result = write_in_slots(journal, journal->newest + 1, (page + 1) * per_page, payload,
                                (uint32_t)length);
        if (result != CELLOTA_BOOT_JOURNAL_WRITE_FAILED)
            return result;
        last_step = pages - 1; /* every page but the newest record's */
    } else {
        page = pages - 1;
        last_step = pages;
    }
    for (step = 1; step <= last_step; step++) {
        uint32_t next = (page + step) % pages;
        /* Never trust a page to be erased: it may hold old records or a torn erase. */
        result = port->flash_erase(port->context,
                                   journal->area->address + next * journal->area->erase_size,
                                   journal->area->erase_size);
        if (result != CELLOTA_OK)
            continue;
        result = write_in_slots(journal, next * per_page, (next + 1) * per_page, payload,
                                (uint32_t)length);
        if (result != CELLOTA_BOOT_JOURNAL_WRITE_FAILED)
            return result;
    }
    return CELLOTA_BOOT_JOURNAL_WRITE_FAILED;
}
