/*
 * MQTT packets: the encoders' exact bytes, the reader fed every way a stream can be cut
 * (whole, byte by byte, split at every position, random pieces, received in place), and every
 * malformed packet a broker could send.
 */
#include "test.h"

#include "core/error.h"
#include "net/mqtt_packet.h"

static void test_connect_with_everything(void)
{
    static const uint8_t expected[] = {
        0x10, 52,  0,   4,   'M', 'Q', 'T', 'T', 4,   0xEE, 0,   60,  0,   4,   'd', 'e', 'v', '1',
        0,    19,  'c', 'e', 'l', 'l', 'o', 't', 'a', '/',  'd', 'e', 'v', '1', '/', 'o', 'n', 'l',
        'i',  'n', 'e', 0,   7,   'o', 'f', 'f', 'l', 'i',  'n', 'e', 0,   1,   'u', 0,   1,   'p'};
    cellota_mqtt_will will = {"cellota/dev1/online", (const uint8_t *)"offline", 7, 1, true};
    cellota_mqtt_connect_options options = {"dev1", "u", "p", 60, true, &will};
    uint8_t buffer[128];
    size_t length = 0;
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, sizeof(buffer), &options, &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, sizeof(expected));
    CHECK_EQ_MEM(buffer, expected, sizeof(expected));
    CHECK_EQ_INT(cellota_mqtt_packet_size(buffer, length), sizeof(expected));
    /* Too small: nothing written, the size needed reported. */
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, 53, &options, &length),
                 CELLOTA_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(length, 54);
}

static void test_connect_minimal_and_invalid(void)
{
    static const uint8_t expected[] = {0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x00, 0, 0, 0, 0};
    cellota_mqtt_connect_options options = {"", NULL, NULL, 0, false, NULL};
    cellota_mqtt_will will = {"", NULL, 0, 0, false};
    uint8_t buffer[64];
    size_t length;
    /* An empty client id needs a clean session. */
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, sizeof(buffer), &options, &length),
                 CELLOTA_INVALID_ARGUMENT);
    options.clean_session = true;
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, sizeof(buffer), &options, &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, sizeof(expected));
    CHECK_EQ_INT(buffer[9], 0x02);
    options.clean_session = false;
    options.client_id = "x";
    options.password = "secret"; /* without a user name */
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, sizeof(buffer), &options, &length),
                 CELLOTA_INVALID_ARGUMENT);
    options.password = NULL;
    options.will = &will;
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, sizeof(buffer), &options, &length),
                 CELLOTA_NET_MQTT_BAD_TOPIC);
    will.topic = "t";
    will.qos = 3;
    CHECK_EQ_INT(cellota_mqtt_encode_connect(buffer, sizeof(buffer), &options, &length),
                 CELLOTA_INVALID_ARGUMENT);
}

static void test_publish_encoding(void)
{
    static const uint8_t qos0[] = {0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'};
    static const uint8_t qos1[] = {0x3B, 9, 0, 3, 'a', '/', 'b', 0x12, 0x34, 'h', 'i'};
    static uint8_t payload[20000], buffer[20100];
    cellota_mqtt_message message = {"a/b", 3, (const uint8_t *)"hi", 2, 0, false, false, 0};
    size_t length;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, sizeof(qos0));
    CHECK_EQ_MEM(buffer, qos0, sizeof(qos0));
    message.qos = 1;
    message.duplicate = true;
    message.retain = true;
    message.packet_id = 0x1234;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_OK);
    CHECK_EQ_MEM(buffer, qos1, sizeof(qos1));
    /* Two and three length bytes. */
    message.payload = payload;
    message.payload_length = 200;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, 1 + 2 + 2 + 3 + 2 + 200);
    CHECK_EQ_INT(buffer[1], (207 & 0x7F) | 0x80);
    CHECK_EQ_INT(buffer[2], 1);
    message.payload_length = 20000;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, 1 + 3 + 2 + 3 + 2 + 20000);
    CHECK_EQ_INT(cellota_mqtt_packet_size(buffer, 4), length);
    CHECK_EQ_INT(cellota_mqtt_packet_size(buffer, 3), 0); /* length field incomplete */

    message.topic = "a/+";
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_NET_MQTT_BAD_TOPIC);
    message.topic = "a/#";
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_NET_MQTT_BAD_TOPIC);
    message.topic_length = 0;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_NET_MQTT_BAD_TOPIC);
    message.topic = "a/b";
    message.topic_length = 3;
    message.qos = 2;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(buffer, sizeof(buffer), &message, &length),
                 CELLOTA_INVALID_ARGUMENT);
}

static void test_subscribe_and_control_encoding(void)
{
    static const uint8_t subscribe[] = {0x82, 8, 0, 7, 0, 3, 'a', '/', '#', 1};
    static const uint8_t unsubscribe[] = {0xA2, 7, 0, 8, 0, 3, 'a', '/', '#'};
    static const uint8_t puback[] = {0x40, 2, 0xAB, 0xCD};
    uint8_t buffer[32];
    size_t length;
    CHECK_EQ_INT(cellota_mqtt_encode_subscribe(buffer, sizeof(buffer), 7, "a/#", 1, &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, sizeof(subscribe));
    CHECK_EQ_MEM(buffer, subscribe, sizeof(subscribe));
    CHECK_EQ_INT(cellota_mqtt_encode_subscribe(buffer, sizeof(buffer), 7, "", 1, &length),
                 CELLOTA_NET_MQTT_BAD_TOPIC);
    CHECK_EQ_INT(cellota_mqtt_encode_subscribe(buffer, sizeof(buffer), 7, "a", 2, &length),
                 CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_mqtt_encode_unsubscribe(buffer, sizeof(buffer), 8, "a/#", &length),
                 CELLOTA_OK);
    CHECK_EQ_MEM(buffer, unsubscribe, sizeof(unsubscribe));
    CHECK_EQ_INT(
        cellota_mqtt_encode_control(buffer, sizeof(buffer), CELLOTA_MQTT_PUBACK, 0xABCD, &length),
        CELLOTA_OK);
    CHECK_EQ_MEM(buffer, puback, sizeof(puback));
    CHECK_EQ_INT(
        cellota_mqtt_encode_control(buffer, sizeof(buffer), CELLOTA_MQTT_PINGREQ, 0, &length),
        CELLOTA_OK);
    CHECK_EQ_INT(length, 2);
    CHECK_EQ_INT(buffer[0], 0xC0);
    CHECK_EQ_INT(buffer[1], 0);
    CHECK_EQ_INT(
        cellota_mqtt_encode_control(buffer, sizeof(buffer), CELLOTA_MQTT_DISCONNECT, 0, &length),
        CELLOTA_OK);
    CHECK_EQ_INT(buffer[0], 0xE0);
    CHECK_EQ_INT(cellota_mqtt_encode_control(buffer, 3, CELLOTA_MQTT_PUBACK, 1, &length),
                 CELLOTA_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(
        cellota_mqtt_encode_control(buffer, sizeof(buffer), CELLOTA_MQTT_CONNACK, 0, &length),
        CELLOTA_INVALID_ARGUMENT);
}

/* --- reading ----------------------------------------------------------------------------- */

/* What a stream of packets reads as: a printable trace, the same however it was cut. */
typedef struct trace {
    char text[4096];
    size_t length;
    int final;
} trace;

static void note(trace *out, const char *format, unsigned a, unsigned b)
{
    out->length +=
        (size_t)snprintf(out->text + out->length, sizeof(out->text) - out->length, format, a, b);
}

static void describe(trace *out, int result, const cellota_mqtt_packet *packet)
{
    cellota_mqtt_message message;
    size_t index;
    note(out, "[%u type %u ", (unsigned)result, packet->type);
    note(out, "len %u/%u ", (unsigned)packet->length, packet->remaining_length);
    for (index = 0; index < packet->length; index++)
        note(out, "%02x", packet->body[index], 0);
    if (packet->type == CELLOTA_MQTT_PUBLISH &&
        cellota_mqtt_decode_publish(packet, &message) == CELLOTA_OK)
        note(out, " id %u qos %u", message.packet_id, message.qos);
    note(out, "]", 0, 0);
}

enum cut { CUT_WHOLE, CUT_BYTES, CUT_AT, CUT_RANDOM, CUT_IN_PLACE };

static uint32_t random_state = 99;

static uint32_t next_random(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return random_state;
}

static void read_stream(const uint8_t *stream, size_t length, size_t buffer_size, enum cut cut,
                        size_t at, trace *out)
{
    static uint8_t buffer[1024];
    cellota_mqtt_reader reader;
    cellota_mqtt_packet packet;
    size_t offset = 0;
    memset(out, 0, sizeof(*out));
    cellota_mqtt_reader_init(&reader, buffer, buffer_size);
    out->final = CELLOTA_IN_PROGRESS;
    while (offset < length) {
        size_t piece = length - offset, consumed = 0;
        const uint8_t *data = stream + offset;
        int result;
        if (cut == CUT_BYTES)
            piece = 1;
        else if (cut == CUT_AT && offset < at)
            piece = at - offset;
        else if (cut == CUT_RANDOM)
            piece = 1 + next_random() % (piece < 50 ? piece : 50);
        if (cut == CUT_IN_PLACE) {
            size_t wanted;
            uint8_t *space = cellota_mqtt_reader_space(&reader, &wanted);
            CHECK(wanted > 0);
            piece = piece < wanted ? piece : 1 + next_random() % wanted;
            if (piece > length - offset)
                piece = length - offset;
            memcpy(space, data, piece);
            data = space;
        }
        result = cellota_mqtt_reader_feed(&reader, data, piece, &consumed, &packet);
        CHECK(consumed <= piece);
        if (cut == CUT_IN_PLACE)
            CHECK_EQ_INT(consumed, piece); /* never more wanted than the packet needs */
        offset += consumed;
        if (result == CELLOTA_OK || result == CELLOTA_NET_MQTT_PACKET_TOO_LARGE) {
            describe(out, result, &packet);
        } else if (result != CELLOTA_IN_PROGRESS) {
            out->final = result;
            return;
        }
    }
}

/* Reads the stream every way; all must agree. Returns the whole-stream trace. */
static void read_every_way(const uint8_t *stream, size_t length, size_t buffer_size,
                           trace *expected)
{
    static trace other;
    size_t at;
    int round;
    read_stream(stream, length, buffer_size, CUT_WHOLE, 0, expected);
    for (at = 0; at <= length + 1; at++) {
        enum cut cut = at == 0 ? CUT_BYTES : at == length + 1 ? CUT_RANDOM : CUT_AT;
        for (round = 0; round < (cut == CUT_RANDOM ? 30 : 1); round++) {
            read_stream(stream, length, buffer_size, round % 2 ? CUT_IN_PLACE : cut, at, &other);
            if (other.final != expected->final || strcmp(other.text, expected->text) != 0) {
                CHECK(!"a cut changed what was read");
                fprintf(stderr, "  cut %d at %zu:\n  %s (%d)\n  %s (%d)\n", cut, at, other.text,
                        other.final, expected->text, expected->final);
                return;
            }
        }
    }
}

static void test_reader_any_cut(void)
{
    static const uint8_t stream[] = {
        0x20, 2,    0,    0,                          /* CONNACK */
        0x90, 3,    0,    1, 1,                       /* SUBACK id 1 QoS 1 */
        0x30, 6,    0,    1, 't', 'h', 'i', '!',      /* PUBLISH QoS 0 */
        0x3A, 7,    0,    1, 't', 0,   9,   'o', 'k', /* PUBLISH QoS 1 DUP id 9 */
        0x40, 2,    0,    5,                          /* PUBACK 5 */
        0xD0, 0,                                      /* PINGRESP */
        0xB0, 2,    0,    8,                          /* UNSUBACK 8 */
        0x30, 0x80, 0x00,                             /* PUBLISH, non-minimal length 0 */
    };
    static trace out;
    read_every_way(stream, sizeof(stream), 64, &out);
    CHECK_EQ_INT(out.final, CELLOTA_IN_PROGRESS);
    CHECK(strstr(out.text, "[0 type 2 len 2/2 0000]") != NULL);
    CHECK(strstr(out.text, "id 9 qos 1") != NULL);
    CHECK(strstr(out.text, "[0 type 13 len 0/0 ]") != NULL);
    CHECK(strstr(out.text, "[0 type 3 len 0/0 ]") != NULL);
}

static void test_reader_bad_remaining_length(void)
{
    static const uint8_t five_bytes[] = {0x20, 2, 0, 0, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    static const uint8_t four_bytes[] = {0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0, 1, 't'};
    static trace out;
    read_every_way(five_bytes, sizeof(five_bytes), 64, &out);
    CHECK_EQ_INT(out.final, CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH);
    CHECK(strstr(out.text, "type 2") != NULL); /* the packet before was read */
    /* Four length bytes are the maximum, and legal (268435455): too large, but followable. */
    read_every_way(four_bytes, sizeof(four_bytes), 64, &out);
    CHECK_EQ_INT(out.final, CELLOTA_IN_PROGRESS);
}

static void test_reader_drops_a_packet_too_large_and_stays_in_step(void)
{
    static uint8_t stream[400];
    static trace out;
    cellota_mqtt_message message;
    uint8_t buffer[64], payload[200];
    cellota_mqtt_message big = {
        "cellota/dev1/update", 19, payload, sizeof(payload), 1, false, false, 77};
    cellota_mqtt_reader reader;
    cellota_mqtt_packet packet;
    size_t length, consumed;
    memset(payload, 'x', sizeof(payload));
    CHECK_EQ_INT(cellota_mqtt_encode_publish(stream, sizeof(stream), &big, &length), CELLOTA_OK);
    memcpy(stream + length, "\x40\x02\x00\x05", 4);
    length += 4;
    read_every_way(stream, length, 64, &out);
    CHECK(strstr(out.text, "[451 type 3 len 32/223 ") != NULL);
    CHECK(strstr(out.text, "[0 type 4 len 2/2 0005]") != NULL);
    /* The kept start still names the topic and packet id, so QoS 1 can be acknowledged. */
    cellota_mqtt_reader_init(&reader, buffer, sizeof(buffer));
    CHECK_EQ_INT(cellota_mqtt_reader_feed(&reader, stream, length, &consumed, &packet),
                 CELLOTA_NET_MQTT_PACKET_TOO_LARGE);
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_OK);
    CHECK_EQ_INT(message.packet_id, 77);
    CHECK_EQ_INT(message.topic_length, 19);
    CHECK_EQ_INT(message.payload_length, 32 - 2 - 19 - 2);
}

/* --- decoding ---------------------------------------------------------------------------- */

static int decode(const uint8_t *bytes, size_t length, cellota_mqtt_packet *packet)
{
    static uint8_t buffer[256];
    cellota_mqtt_reader reader;
    size_t consumed;
    cellota_mqtt_reader_init(&reader, buffer, sizeof(buffer));
    return cellota_mqtt_reader_feed(&reader, bytes, length, &consumed, packet);
}

static void test_decoders_refuse_malformed_packets(void)
{
    cellota_mqtt_packet packet;
    cellota_mqtt_message message;
    bool session;
    uint8_t code;
    uint16_t id;

    CHECK_EQ_INT(decode((const uint8_t *)"\x20\x02\x01\x00", 4, &packet), CELLOTA_OK);
    CHECK_EQ_INT(cellota_mqtt_decode_connack(&packet, &session, &code), CELLOTA_OK);
    CHECK(session);
    CHECK_EQ_INT(code, 0);
    decode((const uint8_t *)"\x20\x03\x00\x00\x00", 5, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_connack(&packet, &session, &code),
                 CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x20\x02\x02\x00", 4, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_connack(&packet, &session, &code),
                 CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x21\x02\x00\x00", 4, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_connack(&packet, &session, &code),
                 CELLOTA_NET_MQTT_BAD_PACKET);

    decode((const uint8_t *)"\x90\x03\x00\x01\x80", 5, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_suback(&packet, &id, &code), CELLOTA_OK);
    CHECK_EQ_INT(code, 0x80);
    decode((const uint8_t *)"\x90\x03\x00\x01\x03", 5, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_suback(&packet, &id, &code), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x90\x02\x00\x01", 4, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_suback(&packet, &id, &code), CELLOTA_NET_MQTT_BAD_PACKET);

    decode((const uint8_t *)"\x40\x03\x00\x01\x00", 5, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_ack(&packet, &id), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x42\x02\x00\x01", 4, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_ack(&packet, &id), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\xD0\x01\x00", 3, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_ack(&packet, NULL), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x50\x02\x00\x01", 4, &packet); /* PUBREC is not an ack we take */
    CHECK_EQ_INT(cellota_mqtt_decode_ack(&packet, &id), CELLOTA_NET_MQTT_BAD_PACKET);

    decode((const uint8_t *)"\x36\x05\x00\x01t\x00\x01", 7, &packet); /* QoS 3 */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x34\x05\x00\x01t\x00\x01", 7, &packet); /* QoS 2 */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message),
                 CELLOTA_NET_MQTT_UNEXPECTED_PACKET);
    decode((const uint8_t *)"\x32\x05\x00\x01t\x00\x00", 7, &packet); /* packet id 0 */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x30\x03\x00\x05t", 5, &packet); /* topic past the end */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x30\x02\x00\x00", 4, &packet); /* empty topic */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x30\x03\x00\x01#", 5, &packet); /* wildcard */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x38\x03\x00\x01t", 5, &packet); /* DUP on QoS 0 */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x30\x01\x00", 3, &packet); /* too short for a topic length */
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_NET_MQTT_BAD_PACKET);
    decode((const uint8_t *)"\x31\x05\x00\x01tab", 7, &packet);
    CHECK_EQ_INT(cellota_mqtt_decode_publish(&packet, &message), CELLOTA_OK);
    CHECK(message.retain);
    CHECK_EQ_INT(message.payload_length, 2);
}

int main(void)
{
    RUN(test_connect_with_everything);
    RUN(test_connect_minimal_and_invalid);
    RUN(test_publish_encoding);
    RUN(test_subscribe_and_control_encoding);
    RUN(test_reader_any_cut);
    RUN(test_reader_bad_remaining_length);
    RUN(test_reader_drops_a_packet_too_large_and_stays_in_step);
    RUN(test_decoders_refuse_malformed_packets);
    return test_summary();
}
