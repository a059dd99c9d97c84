/* The power-safe install journal: a ring of record slots (format and rules in journal.h). */
#include "boot/journal.h"

#include "core/encoding.h"
#include "core/error.h"

#include <string.h>

/* Bytes read from flash at a time while checking a slot: a small stack buffer. */
#define CHUNK 64u

uint32_t cellota_journal_crc32(uint32_t crc, const void *data, size_t length)
{
    /* Four bits at a time: a 64-byte table instead of 1 KiB, four times the bitwise speed. */
    static const uint32_t table[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
                                       0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                       0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                       0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    const uint8_t *bytes = data;
    crc = ~crc;
    while (length--) {
        crc ^= *bytes++;
        crc = (crc >> 4) ^ table[crc & 15u];
        crc = (crc >> 4) ^ table[crc & 15u];
    }
    return ~crc;
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

/* Whether `slot`'s header is a record's (magic and length) and, when `check_crc`, whether its
 * CRC matches too; its sequence and length. */
static int check_slot(const cellota_journal *journal, uint32_t slot, bool check_crc, bool *valid,
                      uint32_t *sequence, uint32_t *length)
{
    uint8_t header[CELLOTA_JOURNAL_HEADER_SIZE], chunk[CHUNK];
    uint32_t address = slot_address(journal, slot), crc, done, magic, stored_crc;
    const uint8_t *field = header;
    int result = flash_read(journal, address, header, sizeof(header));

    *valid = false;
    if (result != CELLOTA_OK)
        return result;
    field = cellota_load_u32(field, &magic);
    field = cellota_load_u32(field, sequence);
    field = cellota_load_u32(field, length);
    cellota_load_u32(field, &stored_crc);
    if (magic != CELLOTA_JOURNAL_MAGIC || *length % 16 != 0 ||
        *length > CELLOTA_JOURNAL_PAYLOAD_MAX)
        return CELLOTA_OK;
    if (!check_crc) {
        *valid = true;
        return CELLOTA_OK;
    }
    crc = cellota_journal_crc32(0, header + 4, 8);
    for (done = 0; done < *length; done += CHUNK) {
        uint32_t take = *length - done < CHUNK ? *length - done : CHUNK;
        result = flash_read(journal, address + CELLOTA_JOURNAL_HEADER_SIZE + done, chunk, take);
        if (result != CELLOTA_OK)
            return result;
        crc = cellota_journal_crc32(crc, chunk, take);
    }
    *valid = crc == stored_crc;
    return CELLOTA_OK;
}

/* Record order: serial-number order on sequences (a newer one is ahead by less than half the
 * number space), the later slot on a tie (only a damaged header could make one). */
static bool newer(uint32_t sequence, uint32_t slot, uint32_t than_sequence, uint32_t than_slot)
{
    int32_t ahead = (int32_t)(sequence - than_sequence);
    return ahead > 0 || (ahead == 0 && slot > than_slot);
}

static int slot_erased(const cellota_journal *journal, uint32_t slot, bool *erased)
{
    uint8_t chunk[CHUNK], blank[CHUNK];
    uint32_t done;
    memset(blank, journal->area->erased_value, CHUNK);
    *erased = false;
    for (done = 0; done < CELLOTA_JOURNAL_SLOT_SIZE; done += CHUNK) {
        int result = flash_read(journal, slot_address(journal, slot) + done, chunk, CHUNK);
        if (result != CELLOTA_OK)
            return result;
        if (memcmp(chunk, blank, CHUNK) != 0)
            return CELLOTA_OK;
    }
    *erased = true;
    return CELLOTA_OK;
}

int cellota_journal_open(cellota_journal *journal, const cellota_port *port,
                         const cellota_flash_area *area)
{
    uint32_t bound_sequence = 0, bound_slot = 0;
    bool bounded = false;

    memset(journal, 0, sizeof(*journal));
    journal->port = port;
    journal->area = area;
    if (area->erase_size % CELLOTA_JOURNAL_SLOT_SIZE != 0 || area->size % area->erase_size != 0 ||
        area->size / area->erase_size < 2)
        return CELLOTA_INVALID_ARGUMENT;
    journal->slots = area->size / CELLOTA_JOURNAL_SLOT_SIZE;
    /* Headers newest first; the first whose CRC matches is the newest record. Usually one
     * CRC per open, which keeps a boot fast. Each round rules out one slot. */
    for (;;) {
        uint32_t slot, best = journal->slots, best_sequence = 0, best_length = 0;
        bool valid;
        int result;
        for (slot = 0; slot < journal->slots; slot++) {
            uint32_t sequence, length;
            result = check_slot(journal, slot, false, &valid, &sequence, &length);
            if (result != CELLOTA_OK)
                return result;
            if (!valid || (bounded && !newer(bound_sequence, bound_slot, sequence, slot)) ||
                (best < journal->slots && !newer(sequence, slot, best_sequence, best)))
                continue;
            best = slot;
            best_sequence = sequence;
            best_length = length;
        }
        if (best == journal->slots)
            return CELLOTA_OK; /* no record */
        result = check_slot(journal, best, true, &valid, &best_sequence, &best_length);
        if (result != CELLOTA_OK)
            return result;
        if (valid) {
            journal->has_record = true;
            journal->newest = best;
            journal->sequence = best_sequence;
            journal->length = best_length;
            return CELLOTA_OK;
        }
        bounded = true;
        bound_sequence = best_sequence;
        bound_slot = best;
    }
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

/* CELLOTA_OK when the flash at `address` holds `expected`, CELLOTA_BOOT_JOURNAL_WRITE_FAILED
 * when it differs, or a read error. */
static int same_bytes(const cellota_journal *journal, uint32_t address, const void *expected,
                      uint32_t length)
{
    const uint8_t *bytes = expected;
    uint8_t chunk[CHUNK];
    uint32_t done;
    for (done = 0; done < length; done += CHUNK) {
        uint32_t take = length - done < CHUNK ? length - done : CHUNK;
        int result = flash_read(journal, address + done, chunk, take);
        if (result != CELLOTA_OK)
            return result;
        if (memcmp(chunk, bytes + done, take) != 0)
            return CELLOTA_BOOT_JOURNAL_WRITE_FAILED;
    }
    return CELLOTA_OK;
}

/* Writes the record into `slot` (payload first, the header as its commit) and reads it back.
 * CELLOTA_OK when the slot now holds it; anything else means: try another slot. */
static int write_record(cellota_journal *journal, uint32_t slot, uint32_t sequence,
                        const void *payload, uint32_t length)
{
    const cellota_port *port = journal->port;
    uint8_t header[CELLOTA_JOURNAL_HEADER_SIZE];
    uint32_t address = slot_address(journal, slot);
    int result;

    cellota_store_u32(header, CELLOTA_JOURNAL_MAGIC);
    cellota_store_u32(header + 4, sequence);
    cellota_store_u32(header + 8, length);
    cellota_store_u32(header + 12, cellota_journal_crc32(cellota_journal_crc32(0, header + 4, 8),
                                                         payload, length));
    if (length > 0) {
        result = port->flash_write(port->context, address + CELLOTA_JOURNAL_HEADER_SIZE, payload,
                                   length);
        if (result != CELLOTA_OK)
            return result;
    }
    result = port->flash_write(port->context, address, header, sizeof(header));
    if (result != CELLOTA_OK)
        return result;
    /* Read it back: every byte must be what was meant (a worn cell, a failed program). */
    result = same_bytes(journal, address, header, sizeof(header));
    if (result == CELLOTA_OK)
        result = same_bytes(journal, address + CELLOTA_JOURNAL_HEADER_SIZE, payload, length);
    return result;
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
