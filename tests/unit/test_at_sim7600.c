/*
 * SIM7600 profile against recorded transcripts (tests/transcripts/sim7600_NAME.txt): the shared
 * scenarios of modem_scenarios.h, and two connections at once.
 */
#include "test.h"

#include "modem_scenarios.h"

static const scenario_model sim7600 = {"sim7600", &cellota_sim7600, &config, "< +CIPRXGET: 1,5"};

static bool two_sockets(uint8_t split, uint32_t seed)
{
    EXPECT(begin("two", &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "broker.example.com", 1883) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(rig_open(&rig, 1, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_play(&rig, "received", 60000));
    EXPECT(rig_received_payload(&rig, 1, 0, 3000));
    EXPECT(rig_received_payload(&rig, 0, 3000, 20));
    return true;
}

static void test_two_sockets(void)
{
    every_split(two_sockets);
}

/* Only links 0 and 1 carry TLS (the CCH sessions); there are ten TCP links. */
static void test_links(void)
{
    cellota_socket handle;
    CHECK(begin("tcp", &config, SPLIT_ALL, 1, NULL, 0));
    CHECK_EQ_INT(cellota_modem_init(&rig.modem, &rig.port, &cellota_sim7600, &config), CELLOTA_OK);
    CHECK_EQ_INT(cellota_modem_socket_init(&rig.sockets[0], &rig.modem, 10, rig.receive_buffers[0],
                                           10, rig.send_buffers[0], 10),
                 CELLOTA_AT_LINK_UNAVAILABLE);
    CHECK_EQ_INT(cellota_modem_socket_init(&rig.sockets[0], &rig.modem, 2, rig.receive_buffers[0],
                                           10, rig.send_buffers[0], 10),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_modem_socket_init(&rig.sockets[1], &rig.modem, 2, rig.receive_buffers[1],
                                           10, rig.send_buffers[1], 10),
                 CELLOTA_BUSY);
    handle = cellota_modem_socket_handle(&rig.sockets[0]);
    CHECK_EQ_INT(handle.operations->open(handle.context, CELLOTA_SOCKET_TLS, "example.com", 443),
                 CELLOTA_AT_TLS_UNSUPPORTED);
    CHECK_EQ_INT(handle.operations->state(handle.context, NULL), CELLOTA_SOCKET_STATE_CLOSED);
}

/* With RTS/CTS (cellota_sim7600_pushed): pushed blocks for both sockets, TCP and TLS. */
static bool pushed(uint8_t split, uint32_t seed)
{
    uint32_t index;
    int error;
    EXPECT(
        rig_begin(&rig, "sim7600_pushed", &cellota_sim7600_pushed, &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "broker.example.com", 1883) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(rig_open(&rig, 1, CELLOTA_SOCKET_TLS, "example.com", 443) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_play(&rig, "received", 60000));
    rig_wait(&rig, 200);
    EXPECT(rig_received_payload(&rig, 0, 1500, 20));
    EXPECT(rig.received_count[1] == 2980);
    for (index = 0; index < 2980; index++) /* the payload stream but MQTT's 20 bytes */
        EXPECT(rig.received[1][index] == transcript_payload(index < 1500 ? index : index + 20));
    EXPECT(rig_state(&rig, 1, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(rig.receive_result[1] == CELLOTA_SOCKET_CLOSED); /* all of it, then the close */
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_OPEN);
    EXPECT(rig.modem.at.framing_errors == 0 && rig.modem.at.binary_lines == 0);
    return true;
}

/* A lost block header fails both pushed streams; what came before it stays delivered. */
static bool pushed_lost(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(rig_begin(&rig, "sim7600_pushed_lost", &cellota_sim7600_pushed, &config, split, seed,
                     NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "broker.example.com", 1883) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(rig_open(&rig, 1, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_play(&rig, "received", 60000));
    rig_wait(&rig, 200);
    EXPECT(rig_received_payload(&rig, 1, 0, 100)); /* exactly: never the 50 after the hole */
    EXPECT(rig_state(&rig, 1, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(error == CELLOTA_AT_DATA_DAMAGED);
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(rig.modem.at.binary_lines == 1);
    return true;
}

static void test_pushed(void)
{
    every_split(pushed);
    every_split(pushed_lost);
}

int main(void)
{
    model = &sim7600;
    RUN(test_tcp_session);
    RUN(test_urc_everywhere);
    RUN(test_boot);
    RUN(test_registration_denied);
    RUN(test_network_drop);
    RUN(test_damaged_data);
    RUN(test_lost_bytes);
    RUN(test_tls);
    RUN(test_credentials);
    RUN(test_modem_restart);
    RUN(test_two_sockets);
    RUN(test_links);
    RUN(test_pushed);
    return test_summary();
}
