/*
 * SIM7600 profile against recorded transcripts (tests/transcripts/sim7600_NAME.txt), each run with
 * the modem's bytes split every way: all at once, one byte per read, random pieces.
 */
#include "test.h"

#include "modem_rig.h"

static modem_rig rig;
static const cellota_modem_config config = {.apn = "internet"};

#define EXPECT(condition)                                                                          \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: %s failed (%s, split %d)\n", __FILE__, __LINE__, #condition,   \
                    rig.t.name, rig.t.split);                                                      \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

static bool tcp_session(uint8_t split, uint32_t seed, const char *inject, uint32_t inject_at)
{
    int error;
    EXPECT(
        rig_begin(&rig, "sim7600_tcp", &cellota_sim7600, &config, split, seed, inject, inject_at));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_OPEN);
    EXPECT(rig_send(&rig, 0, "GET / HTTP/1.0\r\n\r\n") == CELLOTA_OK);
    EXPECT(rig_play(&rig, "received", 60000));
    EXPECT(rig_received_payload(&rig, 0, 0, 2000));
    EXPECT(rig.receive_result[0] == CELLOTA_SOCKET_CLOSED);
    EXPECT(rig_close(&rig, 0) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "closed", 5000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_CLOSED);
    return true;
}

static void test_tcp_session(void)
{
    uint32_t seed;
    CHECK(tcp_session(SPLIT_ALL, 1, NULL, 0));
    CHECK(tcp_session(SPLIT_ONE, 1, NULL, 0));
    for (seed = 1; seed <= 20; seed++)
        CHECK(tcp_session(SPLIT_RANDOM, seed, NULL, 0));
}

/* A URC for a link nobody uses, inserted before every entry in turn: before a reply, in the
 * middle of one, between a length header and its data, between the data and OK. */
static void test_urc_everywhere(void)
{
    uint32_t index, count, failures = 0;
    CHECK(transcript_load(&rig.t, "sim7600_tcp"));
    count = rig.t.entry_count;
    for (index = 1; index < count && failures < 3; index++) {
        bool good = tcp_session(SPLIT_ALL, 1, "< +CIPRXGET: 1,5", index) &&
                    tcp_session(SPLIT_ONE, 1, "< +CIPRXGET: 1,5", index) &&
                    tcp_session(SPLIT_RANDOM, index, "< +CIPRXGET: 1,5", index);
        if (!good)
            fprintf(stderr, "  (URC inserted before entry %u)\n", (unsigned)index);
        failures += !good;
        CHECK(good);
    }
}

int main(void)
{
    RUN(test_tcp_session);
    RUN(test_urc_everywhere);
    return test_summary();
}
