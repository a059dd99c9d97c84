/*
 * The install journal against the strict flash simulator: records survive reopening, a torn
 * record or a damaged one is ignored, sequence numbers wrap, the ring moves across pages
 * without ever erasing the page with the newest record, and a power cut at every flash
 * operation of a long series of appends leaves the newest record or the one before it.
 */
#include "test.h"

#include "boot/journal.h"
#include "core/encoding.h"
#include "core/error.h"
#include "flash_sim.h"

#include <setjmp.h>

typedef struct rig {
    flash_sim flash;
    cellota_port port;
    cellota_flash_area area;
    jmp_buf landing;
} rig;

static void on_cut(void *user)
{
    longjmp(((rig *)user)->landing, 1);
}

/* A flash of `pages` 4 KiB pages (write unit `write_size`) that is all journal. */
static void rig_create(rig *r, uint32_t pages, uint32_t write_size, uint8_t erased)
{
    cellota_flash_area geometry = {0x8000, pages * 4096, 4096, write_size, erased};
    memset(r, 0, sizeof(*r));
    CHECK_EQ_INT(flash_sim_create(&r->flash, &geometry), CELLOTA_OK);
    r->flash.power_cut = on_cut;
    r->flash.power_cut_user = r;
    r->port.context = &r->flash;
    r->port.flash_read = flash_sim_read;
    r->port.flash_write = flash_sim_write;
    r->port.flash_erase = flash_sim_erase;
    r->area = geometry;
}

/* Record number `n`: a payload that says which record it is, of a length that varies. */
static size_t make_payload(uint8_t *payload, uint32_t n)
{
    size_t length = 16 * (1 + n % 40), index;
    for (index = 0; index < length; index++)
        payload[index] = (uint8_t)(n * 31 + index);
    return length;
}

/* Opens the journal and checks its newest record is record `n`. */
static void expect_newest(rig *r, uint32_t n)
{
    cellota_journal journal;
    uint8_t expected[CELLOTA_JOURNAL_PAYLOAD_MAX], actual[CELLOTA_JOURNAL_PAYLOAD_MAX];
    size_t expected_length = make_payload(expected, n), length = 0;

    CHECK_EQ_INT(cellota_journal_open(&journal, &r->port, &r->area), CELLOTA_OK);
    CHECK(journal.has_record);
    CHECK_EQ_INT(cellota_journal_read(&journal, actual, sizeof(actual), &length), CELLOTA_OK);
    CHECK_EQ_INT(length, expected_length);
    CHECK_EQ_MEM(actual, expected, expected_length);
}

static int append_record(rig *r, uint32_t n)
{
    cellota_journal journal;
    uint8_t payload[CELLOTA_JOURNAL_PAYLOAD_MAX];
    size_t length = make_payload(payload, n);
    int result = cellota_journal_open(&journal, &r->port, &r->area);
    return result == CELLOTA_OK ? cellota_journal_append(&journal, payload, length) : result;
}

static void test_empty_then_records(void)
{
    rig r;
    cellota_journal journal;
    uint8_t buffer[16];
    size_t length;
    uint32_t n;

    rig_create(&r, 4, 4, 0xFF);
    CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
    CHECK(!journal.has_record);
    CHECK_EQ_INT(cellota_journal_read(&journal, buffer, sizeof(buffer), &length),
                 CELLOTA_BOOT_NOT_PROVISIONED);
    /* 4 pages of 4 slots: 50 records go round the ring three times. */
    for (n = 1; n <= 50; n++) {
        CHECK_EQ_INT(append_record(&r, n), CELLOTA_OK);
        expect_newest(&r, n);
    }
    CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
    CHECK_EQ_INT(journal.sequence, 50);
    CHECK_EQ_INT(cellota_journal_read(&journal, buffer, sizeof(buffer), &length),
                 CELLOTA_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(r.flash.violations, 0);
    flash_sim_destroy(&r.flash);
}

static void test_rejects_bad_arguments(void)
{
    rig r;
    cellota_journal journal;
    uint8_t payload[CELLOTA_JOURNAL_SLOT_SIZE] = {0};
    cellota_flash_area one_page;

    rig_create(&r, 2, 4, 0xFF);
    one_page = r.area;
    one_page.size = 4096;
    CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &one_page), CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
    CHECK_EQ_INT(cellota_journal_append(&journal, payload, 15), CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_journal_append(&journal, payload, CELLOTA_JOURNAL_PAYLOAD_MAX + 16),
                 CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_journal_append(&journal, payload, CELLOTA_JOURNAL_PAYLOAD_MAX),
                 CELLOTA_OK);
    flash_sim_destroy(&r.flash);
}

static void test_crc_mismatch_is_ignored(void)
{
    rig r;
    cellota_journal journal;
    uint32_t slot_offset;

    rig_create(&r, 2, 4, 0xFF);
    CHECK_EQ_INT(append_record(&r, 1), CELLOTA_OK);
    CHECK_EQ_INT(append_record(&r, 2), CELLOTA_OK);
    CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
    slot_offset = journal.newest * CELLOTA_JOURNAL_SLOT_SIZE;
    /* One bit of the payload flipped (as bit rot would), then one of the sequence number. */
    r.flash.memory[slot_offset + CELLOTA_JOURNAL_HEADER_SIZE + 5] ^= 0x10;
    expect_newest(&r, 1);
    r.flash.memory[slot_offset + CELLOTA_JOURNAL_HEADER_SIZE + 5] ^= 0x10;
    expect_newest(&r, 2);
    r.flash.memory[slot_offset + 4] ^= 0x01;
    expect_newest(&r, 1);
    /* The damaged slot is never written again: the next record goes after it. */
    CHECK_EQ_INT(append_record(&r, 3), CELLOTA_OK);
    expect_newest(&r, 3);
    CHECK_EQ_INT(r.flash.violations, 0);
    flash_sim_destroy(&r.flash);
}

/* Writes record `n` with `sequence` into `slot` by hand, the format journal.h documents. */
static void craft_record(rig *r, uint32_t slot, uint32_t sequence, uint32_t n)
{
    uint8_t record[CELLOTA_JOURNAL_SLOT_SIZE];
    uint32_t length = (uint32_t)make_payload(record + CELLOTA_JOURNAL_HEADER_SIZE, n);
    cellota_store_u32(record, CELLOTA_JOURNAL_MAGIC);
    cellota_store_u32(record + 4, sequence);
    cellota_store_u32(record + 8, length);
    cellota_store_u32(record + 12,
                      cellota_journal_crc32(cellota_journal_crc32(0, record + 4, 8),
                                            record + CELLOTA_JOURNAL_HEADER_SIZE, length));
    CHECK_EQ_INT(flash_sim_write(&r->flash, r->area.address + slot * CELLOTA_JOURNAL_SLOT_SIZE,
                                 record, CELLOTA_JOURNAL_HEADER_SIZE + length),
                 CELLOTA_OK);
}

static void test_sequence_wraps(void)
{
    rig r;
    cellota_journal journal;
    uint32_t n;

    rig_create(&r, 2, 4, 0xFF);
    /* A device that has written almost 2^32 records. */
    craft_record(&r, 0, 0xFFFFFFFCu, 1);
    expect_newest(&r, 1);
    for (n = 2; n <= 9; n++) {
        CHECK_EQ_INT(append_record(&r, n), CELLOTA_OK);
        /* 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 0, 1...: each newer than the last */
        expect_newest(&r, n);
    }
    CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
    CHECK_EQ_INT(journal.sequence, 4);
    /* Across the wrap in both pages: 0xFFFFFFFF in page 0 is older than 2 in page 1. */
    flash_sim_destroy(&r.flash);
    rig_create(&r, 2, 4, 0xFF);
    craft_record(&r, 1, 0xFFFFFFFFu, 1);
    craft_record(&r, 4, 2, 2);
    expect_newest(&r, 2);
    flash_sim_destroy(&r.flash);
}

/* Two pages: when the first fills, the second is erased and used; when the second fills, the
 * first is erased. A cut during that erase, or during the first write after it, keeps the
 * newest record, which is in the other page. */
static void test_both_pages(void)
{
    volatile uint32_t cut;
    for (cut = 1; cut <= 3; cut++) {
        rig r;
        cellota_journal journal;
        uint32_t n;

        rig_create(&r, 2, 4, 0xFF);
        flash_sim_seed(&r.flash, cut);
        for (n = 1; n <= 8; n++)
            CHECK_EQ_INT(append_record(&r, n), CELLOTA_OK); /* both pages full */
        CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
        CHECK_EQ_INT(journal.newest, 7); /* last slot of page 1 */
        /* The next append erases page 0 (operation 1) and writes payload and header (2, 3). */
        flash_sim_schedule_cut(&r.flash, cut);
        if (setjmp(r.landing) == 0) {
            append_record(&r, 9);
            CHECK(0); /* not reached: the cut comes first */
        }
        flash_sim_power_on(&r.flash);
        expect_newest(&r, 8);
        CHECK_EQ_INT(append_record(&r, 10), CELLOTA_OK);
        expect_newest(&r, 10);
        CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
        CHECK(journal.newest < 4); /* in page 0 */
        flash_sim_destroy(&r.flash);
    }
}

/* A cut at every flash operation of 60 appends (around a 3-page ring twice and more), each
 * followed by the rest of the appends: the newest record is always the last one that
 * returned, or the one being appended, and nothing is ever lost. */
static void check_every_cut(uint32_t pages, uint32_t write_size, uint8_t erased)
{
    const uint32_t records = 60;
    rig reference;
    uint64_t total, cut;

    rig_create(&reference, pages, write_size, erased);
    for (uint32_t n = 1; n <= records; n++)
        append_record(&reference, n);
    total = reference.flash.operations;
    flash_sim_destroy(&reference.flash);

    for (cut = 1; cut <= total; cut++) {
        rig r;
        volatile uint32_t n = 1, completed = 0;
        rig_create(&r, pages, write_size, erased);
        flash_sim_seed(&r.flash, cut * 7919);
        flash_sim_schedule_cut(&r.flash, cut);
        if (setjmp(r.landing) == 0) {
            for (; n <= records; n++) {
                append_record(&r, n);
                completed = n;
            }
        }
        flash_sim_power_on(&r.flash);
        {
            cellota_journal journal;
            uint8_t actual[CELLOTA_JOURNAL_PAYLOAD_MAX], expected[CELLOTA_JOURNAL_PAYLOAD_MAX];
            size_t length = 0;
            CHECK_EQ_INT(cellota_journal_open(&journal, &r.port, &r.area), CELLOTA_OK);
            if (completed > 0 || journal.has_record) {
                uint32_t newest;
                CHECK_EQ_INT(cellota_journal_read(&journal, actual, sizeof(actual), &length),
                             CELLOTA_OK);
                newest = actual[0] == (uint8_t)(completed * 31) ? completed : completed + 1;
                CHECK(newest == completed || newest == completed + 1);
                CHECK_EQ_INT(length, make_payload(expected, newest));
                CHECK_EQ_MEM(actual, expected, length);
            }
        }
        for (n = completed + 1; n <= records; n++)
            CHECK_EQ_INT(append_record(&r, n), CELLOTA_OK);
        expect_newest(&r, records);
        flash_sim_destroy(&r.flash);
    }
}

static void test_cut_at_every_operation(void)
{
    check_every_cut(3, 4, 0xFF);  /* nRF52840-like */
    check_every_cut(2, 16, 0xFF); /* ESP32 with flash encryption, two pages */
    check_every_cut(2, 8, 0x00);  /* a flash that erases to zeros */
}

static void test_crc32_known_answers(void)
{
    /* The check value of CRC-32/ISO-HDLC, and continuing a CRC across two calls. */
    CHECK_EQ_INT(cellota_journal_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(cellota_journal_crc32(cellota_journal_crc32(0, "1234", 4), "56789", 5),
                 0xCBF43926u);
    CHECK_EQ_INT(cellota_journal_crc32(0, "", 0), 0);
}

int main(void)
{
    RUN(test_crc32_known_answers);
    RUN(test_empty_then_records);
    RUN(test_rejects_bad_arguments);
    RUN(test_crc_mismatch_is_ignored);
    RUN(test_sequence_wraps);
    RUN(test_both_pages);
    RUN(test_cut_at_every_operation);
    return test_summary();
}
