/*
 * The install journal: a log of records in its own flash area that survives a power cut at any
 * instant. The newest valid record is the device's install state; older ones are history.
 *
 * On flash. The area is a ring of erase pages, each cut into slots of CELLOTA_JOURNAL_SLOT_SIZE
 * bytes. A record fills one slot:
 *
 *   offset 0   u32 magic "CJR1"          written last: the record's commit
 *   offset 4   u32 sequence              one more than the record before it (wraps)
 *   offset 8   u32 payload length        a multiple of 16, at most SLOT_SIZE - 16
 *   offset 12  u32 CRC-32 (IEEE) of sequence, length and payload
 *   offset 16  payload
 *
 * The payload is written first and the 16-byte header after it, so a cut during either write
 * leaves a slot without a valid magic and CRC: it is ignored, and never written again until its
 * page is erased. The newest record is the valid one with the highest sequence (compared with
 * wrap-around). A record goes into the next erased slot after the newest; when its page is
 * full, the next page of the ring is erased first. The page holding the newest record is never
 * erased, so an erase cut short never loses the last good record. Every write is read back and
 * checked; a slot that fails is skipped.
 *
 * All numbers little-endian (every cellota target is).
 */
#ifndef CELLOTA_BOOT_JOURNAL_H
#define CELLOTA_BOOT_JOURNAL_H

#include "core/flash_area.h"
#include "core/port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_JOURNAL_SLOT_SIZE 1024u
#define CELLOTA_JOURNAL_HEADER_SIZE 16u
#define CELLOTA_JOURNAL_PAYLOAD_MAX (CELLOTA_JOURNAL_SLOT_SIZE - CELLOTA_JOURNAL_HEADER_SIZE)
#define CELLOTA_JOURNAL_MAGIC 0x31524A43u /* "CJR1" */

typedef struct cellota_journal {
    const cellota_port *port;
    const cellota_flash_area *area;
    uint32_t slots;    /* in the whole area */
    uint32_t newest;   /* slot of the newest valid record (when has_record) */
    uint32_t sequence; /* its sequence number */
    uint32_t length;   /* its payload length */
    bool has_record;
} cellota_journal;

/*
 * Scans the journal in `area` (through `port`, which must outlive the journal) for its newest
 * valid record. CELLOTA_OK whether or not one exists (see has_record); CELLOTA_INVALID_ARGUMENT
 * when the area has fewer than two pages or its pages are not a multiple of the slot size; a
 * flash read error.
 */
int cellota_journal_open(cellota_journal *journal, const cellota_port *port,
                         const cellota_flash_area *area);

/* Copies the newest record's payload (up to `capacity` bytes) and sets *length to its length.
 * CELLOTA_BOOT_NOT_PROVISIONED when the journal holds no valid record; a flash read error. */
int cellota_journal_read(const cellota_journal *journal, void *payload, size_t capacity,
                         size_t *length);

/*
 * Appends a record; when it returns CELLOTA_OK the record is on flash and is the newest.
 * `length` must be a multiple of 16 and at most CELLOTA_JOURNAL_PAYLOAD_MAX
 * (CELLOTA_INVALID_ARGUMENT). CELLOTA_BOOT_JOURNAL_WRITE_FAILED when no slot takes the record
 * (every one failed its read-back: the flash is worn out); a flash read or erase error.
 */
int cellota_journal_append(cellota_journal *journal, const void *payload, size_t length);

/* The journal's CRC-32 (IEEE 802.3, reflected, initial and final XOR 0xFFFFFFFF), continued
 * from `crc` (start with 0). Public so tools and tests can build records. */
uint32_t cellota_journal_crc32(uint32_t crc, const void *data, size_t length);

#endif
