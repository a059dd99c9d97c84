/*
 * The AT engine as the bootloader builds it (CELLOTA_AT_FILE_READER_ONLY, at/engine.h: no URC
 * table, payloads, inline data, SIM states, retries or optional steps) under the reading tests
 * of test_at_sim7600_fs.c. The same engine source is compiled here with that setting; it takes
 * the place of libcellota's engine (a static library's member is only linked for symbols
 * nothing defined first).
 */
#define CELLOTA_AT_FILE_READER_ONLY
#include "at/engine.c"

#define TEST_AT_READER_BUILD
static void test_reader_framing(void);
#include "test_at_sim7600_fs.c"

/* Two bytes of a block lost: the reader build has no URC to replay the block for, so the wrong
 * trailer is a framing error at once; the read fails, nothing of it counts, and the engine is
 * free for the next read. */
static void test_reader_framing(void)
{
    uint32_t count = 1;
    /* This binary links the reader build, not libcellota's engine: payloads are not kept. */
    cellota_at_init(&at, &port, NULL, 0, NULL);
    cellota_at_set_payload(&at, buffer, 5);
    CHECK(at.payload == NULL);
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "framing");
    transcript_add(&t, "> AT+CFTRANTX=\"c:/image.ebin\",0,10");
    transcript_add(&t, "< +CFTRANTX: DATA,10");
    transcript_add(&t, "<<$ 8");
    transcript_add(&t, "< +CFTRANTX: 0");
    transcript_add(&t, "< OK");
    transcript_add(&t, "> AT+CFTRANTX=\"c:/image.ebin\",8,4");
    transcript_add(&t, "< +CFTRANTX: DATA,4");
    transcript_add(&t, "<<$ 4");
    transcript_add(&t, "< +CFTRANTX: 0");
    transcript_add(&t, "< OK");
    transcript_reset(&t, SPLIT_ALL, 1);
    port = transcript_port(&t);
    cellota_at_init(&at, &port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&fs, &at);
    CHECK_EQ_INT(cellota_sim7600_fs_read(&fs, "image.ebin", 0, buffer, 10, t.now),
                 CELLOTA_IN_PROGRESS);
    CHECK_EQ_INT(wait_for_end(&count), CELLOTA_AT_DATA_FRAMING);
    CHECK_EQ_INT(count, 0);
    CHECK(at.framing_errors == 1);
    CHECK_EQ_INT(cellota_sim7600_fs_read(&fs, "image.ebin", 8, buffer, 4, t.now),
                 CELLOTA_IN_PROGRESS);
    CHECK_EQ_INT(wait_for_end(&count), CELLOTA_OK);
    CHECK_EQ_INT(count, 4);
    CHECK(payload_matches(buffer, 8, 4));
    CHECK(transcript_reached(&t, NULL));
}
