/*
 * The scenarios every modem profile is tested with, each against the model's own transcript
 * (tests/transcripts/<model>_<scenario>.txt) and run with every split of the modem's bytes.
 * A test file sets `model` and RUNs the scenarios its modem has. Include after test.h.
 *
 *   tcp      open, send, a 2000-byte reply in several reads, the peer closes, close
 *   boot     probes unanswered, power key, start-up lines, SIM busy, roaming
 *   denied   registration denied until the allowed time runs out
 *   drop     the network drops: the socket fails, the driver brings the link back, reopen
 *   damaged  bytes of a read flagged by the UART: not passed up, the socket fails
 *   framing  bytes of a read lost: not passed up, the socket fails
 *   tls      a TLS connection in the modem
 *   credentials  the CA, certificate and key written into the modem (at/credentials.h), then
 *            a TLS connection that names them
 *   reset    the modem restarts by itself
 * plus a harmless URC inserted before every entry of the tcp transcript in turn.
 */
#ifndef CELLOTA_TESTS_MODEM_SCENARIOS_H
#define CELLOTA_TESTS_MODEM_SCENARIOS_H

#include "at/credentials.h"
#include "modem_rig.h"

typedef struct scenario_model {
    const char *name; /* transcript prefix */
    const cellota_modem_profile *profile;
    const cellota_modem_config *boot_config; /* for the boot scenario */
    const char *harmless_urc;                /* transcript entry of a URC for an unused link */
} scenario_model;

static const scenario_model *model;
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

static inline bool begin(const char *scenario, const cellota_modem_config *settings, uint8_t split,
                         uint32_t seed, const char *inject, uint32_t inject_at)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_%s", model->name, scenario);
    return rig_begin(&rig, name, model->profile, settings, split, seed, inject, inject_at);
}

/* Runs `scenario` with every split: all at once, one byte per read, five random seeds. */
static inline void every_split(bool (*scenario)(uint8_t split, uint32_t seed))
{
    uint32_t seed;
    CHECK(scenario(SPLIT_ALL, 1));
    CHECK(scenario(SPLIT_ONE, 1));
    for (seed = 1; seed <= 5; seed++)
        CHECK(scenario(SPLIT_RANDOM, seed));
}

static inline bool tcp_session(uint8_t split, uint32_t seed, const char *inject, uint32_t inject_at)
{
    int error;
    EXPECT(begin("tcp", &config, split, seed, inject, inject_at));
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
    EXPECT(rig.modem.at.framing_errors == 0 && rig.modem.at.damaged_lines == 0);
    return true;
}

static inline bool tcp(uint8_t split, uint32_t seed)
{
    return tcp_session(split, seed, NULL, 0);
}

static inline bool boot(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(begin("boot", model->boot_config, split, seed, NULL, 0));
    EXPECT(cellota_modem_start(&rig.modem, 0) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "ready", 120000));
    EXPECT(cellota_modem_status(&rig.modem, &error) == CELLOTA_MODEM_READY);
    EXPECT(rig.t.power_presses == 1 && !rig.t.power_key);
    EXPECT(cellota_modem_roaming(&rig.modem));
    return true;
}

static inline bool denied(uint8_t split, uint32_t seed)
{
    static const cellota_modem_config short_wait = {.apn = "internet", .registration_s = 3};
    int error = 0;
    EXPECT(begin("denied", &short_wait, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "failed", 20000));
    EXPECT(cellota_modem_status(&rig.modem, &error) == CELLOTA_MODEM_FAILED);
    EXPECT(error == CELLOTA_AT_REGISTRATION_DENIED);
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(error == CELLOTA_AT_REGISTRATION_DENIED);
    return true;
}

static inline bool drop(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(begin("drop", &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_play(&rig, "up-again", 60000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(error == CELLOTA_SOCKET_LINK_LOST);
    EXPECT(rig.receive_result[0] == CELLOTA_SOCKET_LINK_LOST);
    EXPECT(cellota_modem_status(&rig.modem, NULL) == CELLOTA_MODEM_READY);
    EXPECT(rig_close(&rig, 0) == CELLOTA_OK);
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "reopened", 60000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_OPEN);
    return true;
}

static inline bool damaged(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(begin("damaged", &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "failed", 60000));
    rig_wait(&rig, 1500); /* a hit header or OK makes the engine wait for silence */
    EXPECT(rig_received_payload(&rig, 0, 0, 50));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(error == CELLOTA_AT_DATA_DAMAGED);
    EXPECT(rig.receive_result[0] == CELLOTA_AT_DATA_DAMAGED);
    EXPECT(rig_close(&rig, 0) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "closed", 5000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_CLOSED);
    return true;
}

static inline bool framing(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(begin("framing", &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "failed", 60000));
    rig_wait(&rig, 1500);
    EXPECT(rig_received_payload(&rig, 0, 0, 50));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(error == CELLOTA_AT_DATA_FRAMING);
    EXPECT(rig.receive_result[0] == CELLOTA_AT_DATA_FRAMING);
    return true;
}

static inline bool tls(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(begin("tls", &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TLS, "broker.example.com", 8883) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_OPEN);
    EXPECT(rig_send(&rig, 0, "hello") == CELLOTA_OK);
    EXPECT(rig_play(&rig, "received", 60000));
    EXPECT(rig_received_payload(&rig, 0, 0, 300));
    EXPECT(rig.receive_result[0] == CELLOTA_SOCKET_CLOSED);
    EXPECT(rig_close(&rig, 0) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "closed", 5000));
    return true;
}

static const cellota_modem_config mutual = {
    .apn = "internet", .ca_file = "ca.pem", .certificate_file = "dev.pem", .key_file = "key.pem"};
static const cellota_modem_credentials credentials = {
    {"ca.pem", (const uint8_t *)"CA-BYTES", 8},
    {"dev.pem", (const uint8_t *)"CERT-BYTES", 10},
    {"key.pem", (const uint8_t *)"KEY-BYTES", 9}};

static inline bool credentials_scenario(uint8_t split, uint32_t seed)
{
    cellota_credentials_writer writer;
    int error, result = CELLOTA_IN_PROGRESS;
    uint32_t start;
    EXPECT(begin("credentials", &mutual, split, seed, NULL, 0));
    EXPECT(cellota_modem_start(&rig.modem, rig.t.now) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "ready", 60000));
    EXPECT(cellota_credentials_writer_init(&writer, &rig.modem, &credentials) == CELLOTA_OK);
    for (start = rig.t.now; result == CELLOTA_IN_PROGRESS && rig.t.now - start < 60000;) {
        rig_step(&rig);
        result = cellota_credentials_writer_poll(&writer, rig.t.now);
    }
    EXPECT(result == CELLOTA_OK);
    EXPECT(rig_play(&rig, "written", 1000));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TLS, "broker.example.com", 8883) ==
           CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_OPEN);
    return true;
}

static inline void test_credentials(void)
{
    cellota_credentials_writer writer;
    static const cellota_modem_credentials half = {
        {NULL, NULL, 0}, {"dev.pem", (const uint8_t *)"CERT-BYTES", 10}, {NULL, NULL, 0}};
    every_split(credentials_scenario);
    /* a certificate without its key is refused before anything is sent */
    CHECK(begin("credentials", &mutual, SPLIT_ALL, 1, NULL, 0));
    CHECK_EQ_INT(cellota_credentials_writer_init(&writer, &rig.modem, &half),
                 CELLOTA_INVALID_ARGUMENT);
}

static inline bool reset(uint8_t split, uint32_t seed)
{
    int error;
    EXPECT(begin("reset", &config, split, seed, NULL, 0));
    EXPECT(rig_open(&rig, 0, CELLOTA_SOCKET_TCP, "example.com", 80) == CELLOTA_IN_PROGRESS);
    EXPECT(rig_play(&rig, "open", 60000));
    EXPECT(rig_play(&rig, "ready-again", 60000));
    EXPECT(rig_state(&rig, 0, &error) == CELLOTA_SOCKET_STATE_FAILED);
    EXPECT(error == CELLOTA_AT_MODEM_RESET);
    EXPECT(cellota_modem_status(&rig.modem, NULL) == CELLOTA_MODEM_READY);
    return true;
}

static inline void test_tcp_session(void)
{
    every_split(tcp);
}

/* A URC for a link nobody uses, inserted before every entry in turn: before a reply, in the
 * middle of one, between a length header and its data, between the data and OK. */
static inline void test_urc_everywhere(void)
{
    uint32_t index, count, failures = 0;
    char name[64];
    snprintf(name, sizeof(name), "%s_tcp", model->name);
    CHECK(transcript_load(&rig.t, name));
    count = rig.t.entry_count;
    for (index = 1; index < count && failures < 3; index++) {
        bool good = tcp_session(SPLIT_ALL, 1, model->harmless_urc, index) &&
                    tcp_session(SPLIT_ONE, 1, model->harmless_urc, index) &&
                    tcp_session(SPLIT_RANDOM, index, model->harmless_urc, index);
        if (!good)
            fprintf(stderr, "  (URC inserted before entry %u)\n", (unsigned)index);
        failures += !good;
        CHECK(good);
    }
}

static inline void test_boot(void)
{
    every_split(boot);
}

static inline void test_registration_denied(void)
{
    every_split(denied);
}

static inline void test_network_drop(void)
{
    every_split(drop);
}

static inline void test_damaged_data(void)
{
    every_split(damaged);
}

static inline void test_lost_bytes(void)
{
    every_split(framing);
}

static inline void test_tls(void)
{
    every_split(tls);
}

static inline void test_modem_restart(void)
{
    every_split(reset);
}

#endif
