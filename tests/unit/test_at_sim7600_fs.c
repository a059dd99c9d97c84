/*
 * The SIM7600 file system API on the bare AT engine (as the bootloader uses it), against
 * tests/transcripts/sim7600_fs.txt, with the modem's bytes split every way.
 */
#include "test.h"

#include "at/sim7600_fs.h"
#include "core/error.h"
#include "transcript.h"

static transcript t;
static cellota_at at;
static cellota_sim7600_fs fs;
static cellota_port port;
static uint8_t buffer[1500];

#define EXPECT(condition)                                                                          \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: %s failed (split %d) %s\n", __FILE__, __LINE__, #condition,    \
                    t.split, t.failure);                                                           \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

#ifndef TEST_AT_READER_BUILD
/* Names the listing reported (the reader build has no listing). */
static char names[4][32];
static int name_count;

static void entry(void *user, const char *name)
{
    (void)user;
    if (name_count < 4)
        snprintf(names[name_count++], sizeof(names[0]), "%s", name);
}
#endif

/* Polls until the operation ends; returns its status. */
static int wait_for_end(uint32_t *count)
{
    int result, steps;
    for (steps = 0; steps < 100000; steps++) {
        t.now += 10;
        cellota_at_poll(&at, t.now);
        result = cellota_sim7600_fs_status(&fs, count);
        if (result != CELLOTA_IN_PROGRESS || t.failures)
            return t.failures ? -1000 : result;
    }
    return CELLOTA_TIMEOUT;
}

static bool payload_matches(const uint8_t *bytes, uint32_t first, uint32_t count)
{
    uint32_t index;
    for (index = 0; index < count; index++) {
        if (bytes[index] != transcript_payload(first + index))
            return false;
    }
    return true;
}

/* The bootloader's build (test_at_reader.c) has no file writes: it runs the reading tests. */
#ifndef TEST_AT_READER_BUILD
static bool file_system(uint8_t split, uint32_t seed)
{
    uint8_t payload[100];
    uint32_t count, index, written = 0;

    EXPECT(transcript_load(&t, "sim7600_fs"));
    transcript_reset(&t, split, seed);
    port = transcript_port(&t);
    cellota_at_init(&at, &port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&fs, &at);
    name_count = 0;

    EXPECT(cellota_sim7600_fs_list(&fs, entry, NULL, t.now) == CELLOTA_IN_PROGRESS);
    EXPECT(wait_for_end(&count) == CELLOTA_OK);
    EXPECT(name_count == 2);
    EXPECT(strcmp(names[0], "image.ebin") == 0 && strcmp(names[1], "old.ebin") == 0);

    EXPECT(cellota_sim7600_fs_delete(&fs, "old.ebin", t.now) == CELLOTA_IN_PROGRESS);
    EXPECT(wait_for_end(&count) == CELLOTA_OK);

    for (index = 0; index < sizeof(payload); index++)
        payload[index] = transcript_payload(index);
    EXPECT(cellota_sim7600_fs_write(&fs, "new.ebin", sizeof(payload), t.now) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(cellota_sim7600_fs_write_data(&fs, payload, sizeof(payload)) == 0); /* no prompt yet */
    while (cellota_sim7600_fs_status(&fs, NULL) == CELLOTA_IN_PROGRESS && !t.failures &&
           t.now < 1000000) {
        t.now += 10;
        cellota_at_poll(&at, t.now);
        /* A client hands over what it has, a few bytes at a time. */
        written += (uint32_t)cellota_sim7600_fs_write_data(
            &fs, payload + written, written + 7 < sizeof(payload) ? 7 : sizeof(payload) - written);
    }
    EXPECT(cellota_sim7600_fs_status(&fs, NULL) == CELLOTA_OK && written == sizeof(payload));

    EXPECT(cellota_sim7600_fs_size(&fs, "image.ebin", t.now) == CELLOTA_IN_PROGRESS);
    EXPECT(wait_for_end(&count) == CELLOTA_OK && count == 3000);

    EXPECT(cellota_sim7600_fs_read(&fs, "image.ebin", 1000, buffer, 1500, t.now) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(wait_for_end(&count) == CELLOTA_OK && count == 1500);
    EXPECT(payload_matches(buffer, 100, 1500));

    EXPECT(cellota_sim7600_fs_read(&fs, "image.ebin", 2500, buffer, 500, t.now) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(wait_for_end(&count) == CELLOTA_OK && count == 500);
    EXPECT(payload_matches(buffer, 1600, 500));

    EXPECT(cellota_sim7600_fs_read(&fs, "missing.ebin", 0, buffer, 100, t.now) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(wait_for_end(&count) == CELLOTA_AT_FILE_FAILED && count == 0);
    EXPECT(transcript_reached(&t, NULL));
    return true;
}

static void test_file_system(void)
{
    uint32_t seed;
    CHECK(file_system(SPLIT_ALL, 1));
    CHECK(file_system(SPLIT_ONE, 1));
    for (seed = 1; seed <= 10; seed++)
        CHECK(file_system(SPLIT_RANDOM, seed));
}
#endif

/* A read the modem answers with more than was asked: the bytes are skipped, not stored. */
static void test_read_too_long(void)
{
    uint32_t count;
    CHECK(transcript_load(&t, "sim7600_fs"));
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "inline");
    transcript_add(&t, "> AT+CFTRANTX=\"c:/image.ebin\",0,10");
    transcript_add(&t, "< +CFTRANTX: DATA,20");
    transcript_add(&t, "<<$ 20");
    transcript_add(&t, "< +CFTRANTX: 0");
    transcript_add(&t, "< OK");
    transcript_reset(&t, SPLIT_ALL, 1);
    port = transcript_port(&t);
    cellota_at_init(&at, &port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&fs, &at);
    memset(buffer, 0, sizeof(buffer));
    CHECK_EQ_INT(cellota_sim7600_fs_read(&fs, "image.ebin", 0, buffer, 10, t.now),
                 CELLOTA_IN_PROGRESS);
    CHECK_EQ_INT(wait_for_end(&count), CELLOTA_AT_FILE_TOO_LARGE);
    CHECK_EQ_INT(count, 0);
    CHECK_EQ_INT(buffer[0], 0);
    CHECK(transcript_reached(&t, NULL));
}

/* Calls repeated with the same arguments until done, as the bootloader makes them. */
static int until_done(int (*call)(void))
{
    int result = CELLOTA_IN_PROGRESS, calls;
    for (calls = 0; calls < 100000 && result == CELLOTA_IN_PROGRESS && !t.failures; calls++) {
        t.now += 10;
        result = call();
    }
    return result;
}

static uint32_t source_size;

static int call_size(void)
{
    return cellota_sim7600_fs_source_size(&fs, "image.ebin", &source_size);
}

static uint32_t source_offset;

static int call_read(void)
{
    return cellota_sim7600_fs_source_read(&fs, "image.ebin", source_offset, buffer, 256);
}

static bool staged_source(uint8_t split, uint32_t seed)
{
    EXPECT(transcript_load(&t, "sim7600_source"));
    transcript_reset(&t, split, seed);
    port = transcript_port(&t);
    cellota_at_init(&at, &port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&fs, &at);

    EXPECT(until_done(call_size) == CELLOTA_OK && source_size == 600);
    source_offset = 0;
    EXPECT(until_done(call_read) == CELLOTA_OK && payload_matches(buffer, 0, 256));
    source_offset = 512; /* only 88 bytes left: not the 256 asked */
    EXPECT(until_done(call_read) == CELLOTA_AT_FILE_FAILED);
    /* The bootloader gives up on a read the modem answers only later. */
    source_offset = 256;
    EXPECT(call_read() == CELLOTA_IN_PROGRESS);
    cellota_sim7600_fs_source_cancel(&fs);
    EXPECT(until_done(call_read) == CELLOTA_OK && payload_matches(buffer, 600, 256));
    EXPECT(transcript_reached(&t, NULL));
    return true;
}

static void test_staged_source(void)
{
    uint32_t seed;
    CHECK(staged_source(SPLIT_ALL, 1));
    CHECK(staged_source(SPLIT_ONE, 1));
    for (seed = 1; seed <= 10; seed++)
        CHECK(staged_source(SPLIT_RANDOM, seed));
}

int main(void)
{
#ifndef TEST_AT_READER_BUILD
    RUN(test_file_system);
#else
    RUN(test_reader_framing);
#endif
    RUN(test_staged_source);
    RUN(test_read_too_long);
    return test_summary();
}
