/* The power-safe install journal: a ring of record slots (format and rules in journal.h). */
#include "boot/journal.h"

#include "core/encoding.h"
#include "core/error.h"

#include <string.h>

/* Bytes read from flash at a time while checking a slot: a small stack buffer. */
#define CHUNK 64u

uint32_t cellota_journal_crc32(uint32_t crc, const void *data, size_t length)
{
    /* A bit at a time: no table in the bootloader's flash; a record is a few hundred bytes
     * (at most 1008), checked once per boot and once per commit: well under a millisecond. */
    const uint8_t *bytes = data;
    crc = ~crc;
    while (length--) {
        int bit;
        crc ^= *bytes++;
        for (bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
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

/* CELLOTA_OK when the flash at `address` holds `expected` (`stride` 0: its first CHUNK bytes
 * over and over, else the whole of it), CELLOTA_BOOT_JOURNAL_WRITE_FAILED when it differs, or a
 * read error. */
static int same_bytes(const cellota_journal *journal, uint32_t address, const void *expected,
                      uint32_t length, uint32_t stride)
{
    const uint8_t *bytes = expected;
    uint8_t chunk[CHUNK];
    uint32_t done;
    for (done = 0; done < length; done += CHUNK, bytes += stride) {
        uint32_t take = length - done < CHUNK ? length - done : CHUNK;
        int result = flash_read(journal, address + done, chunk, take);
        if (result != CELLOTA_OK)
            return result;
        if (memcmp(chunk, bytes, take) != 0)
            return CELLOTA_BOOT_JOURNAL_WRITE_FAILED;
    }
    return CELLOTA_OK;
}

static int slot_erased(const cellota_journal *journal, uint32_t slot, bool *erased)
{
    uint8_t blank[CHUNK];
    int result;
    memset(blank, journal->area->erased_value, CHUNK);
    result = same_bytes(journal, slot_address(journal, slot), blank, CELLOTA_JOURNAL_SLOT_SIZE, 0);
    *erased = result == CELLOTA_OK;
    return result == CELLOTA_BOOT_JOURNAL_WRITE_FAILED ? CELLOTA_OK : result;
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
    result = same_bytes(journal, address, header, sizeof(header), CHUNK);
    if (result == CELLOTA_OK)
        result = same_bytes(journal, address + CELLOTA_JOURNAL_HEADER_SIZE, payload, length, CHUNK);
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
