/*
 * The MQTT client over the memory socket, the test playing the broker: connecting and every
 * CONNACK refusal, subscriptions, QoS 0/1 both ways (acknowledged after the callback, DUP
 * redelivery, oversized messages dropped and still acknowledged), QoS 1 re-sent with DUP after
 * a reconnect, keep-alive pings and their timeout, back-off with jitter, protocol errors, stop.
 */
#include "test.h"

#include "core/error.h"
#include "net/mqtt.h"
#include "support/memory_socket.h"

#define EVENTS_MAX 64

typedef struct recorded {
    cellota_mqtt_event event;
    char topic[64];
    uint8_t payload[512];
    size_t sent_when_called; /* bytes the client had sent when the callback ran */
} recorded;

typedef struct fixture {
    memory_socket socket;
    cellota_mqtt_client client;
    cellota_mqtt_config config;
    cellota_mqtt_will will;
    uint8_t receive[256], send[256];
    uint32_t now;
    recorded events[EVENTS_MAX];
    size_t event_count;
    size_t read_offset; /* of the client's bytes the broker has looked at */
    bool publish_from_callback;
} fixture;

static void on_event(void *context, const cellota_mqtt_event *event)
{
    fixture *f = context;
    recorded *entry;
    if (f->event_count >= EVENTS_MAX)
        return;
    entry = &f->events[f->event_count++];
    entry->event = *event;
    entry->sent_when_called = f->socket.sent_length;
    if (event->message.topic && event->message.topic_length < sizeof(entry->topic)) {
        memcpy(entry->topic, event->message.topic, event->message.topic_length);
        entry->topic[event->message.topic_length] = '\0';
    }
    if (event->message.payload && event->message.payload_length <= sizeof(entry->payload))
        memcpy(entry->payload, event->message.payload, event->message.payload_length);
    if (f->publish_from_callback && event->type == CELLOTA_MQTT_EVENT_MESSAGE)
        cellota_mqtt_publish(&f->client, "cellota/dev1/status", (const uint8_t *)"seen", 4, 1,
                             false, NULL);
}

static void setup_with(fixture *f, uint16_t keepalive_s, size_t receive_size, size_t send_size)
{
    memset(f, 0, sizeof(*f));
    memory_socket_init(&f->socket);
    f->will.topic = "cellota/dev1/online";
    f->will.payload = (const uint8_t *)"false";
    f->will.payload_length = 5;
    f->will.qos = 1;
    f->will.retain = true;
    cellota_mqtt_config_default(&f->config);
    f->config.host = "broker.example";
    f->config.port = 1883;
    f->config.connect.client_id = "dev1";
    f->config.connect.keepalive_s = keepalive_s;
    f->config.connect.clean_session = true;
    f->config.connect.will = &f->will;
    f->config.receive_buffer = f->receive;
    f->config.receive_size = receive_size;
    f->config.send_buffer = f->send;
    f->config.send_size = send_size;
    f->config.random_seed = 7;
    f->config.on_event = on_event;
    f->config.context = f;
    CHECK_EQ_INT(cellota_mqtt_init(&f->client, &f->socket.socket, &f->config), CELLOTA_OK);
    f->now = 5000;
}

static void setup(fixture *f)
{
    setup_with(f, 60, sizeof(f->receive), sizeof(f->send));
}

static void teardown(fixture *f)
{
    memory_socket_free(&f->socket);
}

static int step(fixture *f, uint32_t ms)
{
    f->now += ms;
    return cellota_mqtt_poll(&f->client, f->now);
}

/* The next whole packet the client sent that the broker has not looked at yet. */
static bool next_sent(fixture *f, const uint8_t **packet, size_t *length)
{
    size_t available = f->socket.sent_length - f->read_offset, size;
    if (available == 0)
        return false;
    size = cellota_mqtt_packet_size(f->socket.sent + f->read_offset, available);
    if (size == 0 || size > available)
        return false;
    *packet = f->socket.sent + f->read_offset;
    *length = size;
    f->read_offset += size;
    return true;
}

/* Polls until the client sends a packet of `type` (skipping others); NULL if it never does. */
static const uint8_t *expect_sent(fixture *f, uint8_t type, size_t *length)
{
    const uint8_t *packet;
    size_t size;
    int polls;
    for (polls = 0; polls < 3000; polls++) {
        while (next_sent(f, &packet, &size)) {
            if (packet[0] >> 4 == type) {
                if (length)
                    *length = size;
                return packet;
            }
        }
        step(f, 10);
    }
    return NULL;
}

static const recorded *last_event(const fixture *f, cellota_mqtt_event_type type)
{
    size_t index = f->event_count;
    while (index-- > 0) {
        if (f->events[index].event.type == type)
            return &f->events[index];
    }
    return NULL;
}

static size_t count_events(const fixture *f, cellota_mqtt_event_type type)
{
    size_t index, count = 0;
    for (index = 0; index < f->event_count; index++)
        count += f->events[index].event.type == type;
    return count;
}

static void push(fixture *f, const void *bytes, size_t length)
{
    memory_socket_push(&f->socket, bytes, length);
}

/* Starts (or lets it reconnect) and answers its CONNECT. */
static void connect_client(fixture *f, bool session_present)
{
    uint8_t connack[4] = {0x20, 2, 0, 0};
    size_t connected_before = count_events(f, CELLOTA_MQTT_EVENT_CONNECTED);
    int polls;
    connack[2] = session_present ? 1 : 0;
    cellota_mqtt_start(&f->client, f->now);
    CHECK(expect_sent(f, CELLOTA_MQTT_CONNECT, NULL) != NULL);
    push(f, connack, sizeof(connack));
    for (polls = 0; polls < 10 && step(f, 10) != CELLOTA_OK; polls++)
        ;
    CHECK_EQ_INT(cellota_mqtt_poll(&f->client, f->now), CELLOTA_OK);
    CHECK_EQ_INT(count_events(f, CELLOTA_MQTT_EVENT_CONNECTED), connected_before + 1);
}

/* --- connecting -------------------------------------------------------------------------- */

static void test_connect(void)
{
    static fixture f;
    uint8_t expected[128];
    size_t expected_length, length;
    const uint8_t *packet;
    setup(&f);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_NET_MQTT_NOT_CONNECTED);
    CHECK_EQ_INT(cellota_mqtt_start(&f.client, f.now), CELLOTA_IN_PROGRESS);
    CHECK_EQ_STR(f.socket.host, "broker.example");
    CHECK_EQ_INT(f.socket.port, 1883);
    packet = expect_sent(&f, CELLOTA_MQTT_CONNECT, &length);
    CHECK(packet != NULL);
    cellota_mqtt_encode_connect(expected, sizeof(expected), &f.config.connect, &expected_length);
    CHECK_EQ_INT(length, expected_length);
    if (packet)
        CHECK_EQ_MEM(packet, expected, expected_length);
    CHECK_EQ_INT(step(&f, 10), CELLOTA_IN_PROGRESS);
    push(&f, "\x20\x02\x01\x00", 4);
    CHECK_EQ_INT(step(&f, 10), CELLOTA_OK);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_CONNECTED) != NULL);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_CONNECTED)->event.session_present);
    CHECK_EQ_INT(cellota_mqtt_start(&f.client, f.now), CELLOTA_OK);
    teardown(&f);
}

static void test_connack_refusals_are_named_and_retried(void)
{
    static const int expected[] = {
        CELLOTA_NET_MQTT_REFUSED_PROTOCOL,       CELLOTA_NET_MQTT_REFUSED_IDENTIFIER,
        CELLOTA_NET_MQTT_REFUSED_UNAVAILABLE,    CELLOTA_NET_MQTT_REFUSED_CREDENTIALS,
        CELLOTA_NET_MQTT_REFUSED_NOT_AUTHORIZED, CELLOTA_NET_MQTT_REFUSED_UNKNOWN};
    uint8_t code;
    for (code = 1; code <= 6; code++) {
        static fixture f;
        uint8_t connack[4] = {0x20, 2, 0, 0};
        uint32_t refused_at;
        int result = CELLOTA_IN_PROGRESS, polls = 0;
        setup(&f);
        connack[3] = code;
        cellota_mqtt_start(&f.client, f.now);
        CHECK(expect_sent(&f, CELLOTA_MQTT_CONNECT, NULL) != NULL);
        push(&f, connack, sizeof(connack));
        while (result == CELLOTA_IN_PROGRESS && polls++ < 10)
            result = step(&f, 10);
        CHECK_EQ_INT(result, expected[code - 1]);
        CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_CONNECTED), 0);
        refused_at = f.now;
        /* Retried after the back-off: between half and all of the first delay. */
        while (f.socket.opens < 2 && f.now - refused_at < 10000)
            step(&f, 10);
        CHECK_EQ_INT(f.socket.opens, 2);
        CHECK(f.now - refused_at >= CELLOTA_MQTT_BACKOFF_MIN_MS / 2 &&
              f.now - refused_at <= CELLOTA_MQTT_BACKOFF_MIN_MS + 20);
        teardown(&f);
    }
}

static void test_connect_timeout_and_wrong_first_packet(void)
{
    static fixture f;
    uint32_t started;
    int result = CELLOTA_IN_PROGRESS;
    setup(&f);
    started = f.now;
    cellota_mqtt_start(&f.client, f.now);
    while (result == CELLOTA_IN_PROGRESS && f.now - started < 100000)
        result = step(&f, 100);
    CHECK_EQ_INT(result, CELLOTA_NET_MQTT_CONNECT_TIMEOUT);
    CHECK(f.now - started >= CELLOTA_MQTT_CONNECT_TIMEOUT_MS &&
          f.now - started <= CELLOTA_MQTT_CONNECT_TIMEOUT_MS + 100);
    teardown(&f);

    setup(&f);
    cellota_mqtt_start(&f.client, f.now);
    CHECK(expect_sent(&f, CELLOTA_MQTT_CONNECT, NULL) != NULL);
    push(&f, "\x90\x03\x00\x01\x00", 5);
    CHECK_EQ_INT(step(&f, 10), CELLOTA_NET_MQTT_UNEXPECTED_PACKET);
    teardown(&f);

    setup(&f);
    f.socket.connect_error = CELLOTA_SOCKET_REFUSED;
    cellota_mqtt_start(&f.client, f.now);
    CHECK_EQ_INT(step(&f, 10), CELLOTA_SOCKET_REFUSED);
    teardown(&f);
}

/* --- subscriptions and incoming messages -------------------------------------------------- */

static void test_subscribe_and_unsubscribe(void)
{
    static fixture f;
    static const uint8_t subscribe[] = {0x82, 24,  0,   1,   0,   19,  'c', 'e', 'l',
                                        'l',  'o', 't', 'a', '/', 'd', 'e', 'v', '1',
                                        '/',  'u', 'p', 'd', 'a', 't', 'e', 1};
    const uint8_t *packet;
    size_t length;
    uint16_t first, second, third;
    setup(&f);
    CHECK_EQ_INT(cellota_mqtt_subscribe(&f.client, "a", 0, &first), CELLOTA_NET_MQTT_NOT_CONNECTED);
    connect_client(&f, false);
    CHECK_EQ_INT(cellota_mqtt_subscribe(&f.client, "cellota/dev1/update", 1, &first), CELLOTA_OK);
    CHECK_EQ_INT(first, 1);
    packet = expect_sent(&f, CELLOTA_MQTT_SUBSCRIBE, &length);
    CHECK(packet && length == sizeof(subscribe) && memcmp(packet, subscribe, length) == 0);
    push(&f, "\x90\x03\x00\x01\x01", 5);
    step(&f, 10);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_SUBSCRIBED) != NULL);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_SUBSCRIBED)->event.packet_id, 1);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_SUBSCRIBED)->event.granted_qos, 1);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_SUBSCRIBED)->event.error, CELLOTA_OK);

    CHECK_EQ_INT(cellota_mqtt_subscribe(&f.client, "forbidden/#", 1, &second), CELLOTA_OK);
    push(&f, "\x90\x03\x00\x02\x80", 5);
    step(&f, 10);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_SUBSCRIBED)->event.error,
                 CELLOTA_NET_MQTT_SUBSCRIBE_REFUSED);
    CHECK_EQ_INT(cellota_mqtt_unsubscribe(&f.client, "cellota/dev1/update", &third), CELLOTA_OK);
    CHECK(expect_sent(&f, CELLOTA_MQTT_UNSUBSCRIBE, NULL) != NULL);
    push(&f, "\xB0\x02\x00\x03", 4);
    step(&f, 10);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_UNSUBSCRIBED) != NULL);
    CHECK_EQ_INT(third, 3);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_OK);
    teardown(&f);
}

static void test_incoming_messages_are_acknowledged_after_the_callback(void)
{
    static fixture f;
    const recorded *message;
    const uint8_t *packet;
    size_t length, sent_before;
    setup(&f);
    connect_client(&f, false);
    next_sent(&f, &packet, &length); /* nothing pending */

    push(&f, "\x30\x0C\x00\x03t/a{\"q\":0}", 14);
    step(&f, 10);
    message = last_event(&f, CELLOTA_MQTT_EVENT_MESSAGE);
    CHECK(message != NULL);
    CHECK_EQ_STR(message->topic, "t/a");
    CHECK_EQ_INT(message->event.message.payload_length, 7);
    CHECK_EQ_MEM(message->payload, "{\"q\":0}", 7);
    CHECK_EQ_INT(message->event.message.qos, 0);
    CHECK(!next_sent(&f, &packet, &length)); /* QoS 0: no acknowledgement */

    sent_before = f.socket.sent_length;
    push(&f, "\x32\x07\x00\x01u\x12\x34ok", 9);
    step(&f, 10);
    message = last_event(&f, CELLOTA_MQTT_EVENT_MESSAGE);
    CHECK_EQ_INT(message->event.message.qos, 1);
    CHECK_EQ_INT(message->event.message.packet_id, 0x1234);
    CHECK(!message->event.message.duplicate);
    CHECK_EQ_INT(message->sent_when_called, sent_before); /* not acknowledged before */
    packet = expect_sent(&f, CELLOTA_MQTT_PUBACK, &length);
    CHECK(packet && length == 4 && memcmp(packet, "\x40\x02\x12\x34", 4) == 0);

    /* The broker did not get that PUBACK and sends it again: delivered again, marked. */
    push(&f, "\x3A\x07\x00\x01u\x12\x34ok", 9);
    step(&f, 10);
    message = last_event(&f, CELLOTA_MQTT_EVENT_MESSAGE);
    CHECK(message->event.message.duplicate);
    CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_MESSAGE), 3);
    packet = expect_sent(&f, CELLOTA_MQTT_PUBACK, &length);
    CHECK(packet && memcmp(packet, "\x40\x02\x12\x34", 4) == 0);

    /* Publishing from inside the callback is allowed. */
    f.publish_from_callback = true;
    push(&f, "\x32\x07\x00\x01u\x00\x09ok", 9);
    step(&f, 10);
    CHECK(expect_sent(&f, CELLOTA_MQTT_PUBLISH, NULL) != NULL);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_OK);
    teardown(&f);
}

static void test_oversized_message_is_dropped_acknowledged_and_reported(void)
{
    static fixture f;
    static uint8_t big[400];
    cellota_mqtt_message message = {"cellota/dev1/update", 19, NULL, 300, 1, false, false, 6};
    static uint8_t payload[300];
    const recorded *dropped;
    const uint8_t *packet;
    size_t length;
    setup_with(&f, 60, 128, 256);
    connect_client(&f, false);
    message.payload = payload;
    cellota_mqtt_encode_publish(big, sizeof(big), &message, &length);
    push(&f, big, length);
    push(&f, "\x30\x05\x00\x01tok", 7);
    step(&f, 10);
    step(&f, 10);
    dropped = last_event(&f, CELLOTA_MQTT_EVENT_MESSAGE_DROPPED);
    CHECK(dropped != NULL);
    if (dropped) {
        CHECK_EQ_INT(dropped->event.error, CELLOTA_NET_MQTT_PACKET_TOO_LARGE);
        CHECK_EQ_STR(dropped->topic, "cellota/dev1/update");
        CHECK_EQ_INT(dropped->event.packet_id, 6);
    }
    packet = expect_sent(&f, CELLOTA_MQTT_PUBACK, &length);
    CHECK(packet && memcmp(packet, "\x40\x02\x00\x06", 4) == 0);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_MESSAGE) != NULL); /* the next one got through */
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_OK);
    teardown(&f);
}

/* --- outgoing messages ------------------------------------------------------------------- */

static void test_publish_qos0_and_qos1(void)
{
    static fixture f;
    const uint8_t *packet;
    size_t length;
    uint16_t id;
    setup(&f);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "s", (const uint8_t *)"x", 1, 0, false, &id),
                 CELLOTA_NET_MQTT_NOT_CONNECTED);
    connect_client(&f, false);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "cellota/dev1/status", (const uint8_t *)"{}", 2, 0,
                                      true, &id),
                 CELLOTA_OK);
    CHECK_EQ_INT(id, 0);
    packet = expect_sent(&f, CELLOTA_MQTT_PUBLISH, &length);
    CHECK(packet && packet[0] == 0x31 && length == 2 + 2 + 19 + 2);
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&f.client), 0);

    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "cellota/dev1/status", (const uint8_t *)"{}", 2, 1,
                                      false, &id),
                 CELLOTA_OK);
    CHECK(id != 0);
    packet = expect_sent(&f, CELLOTA_MQTT_PUBLISH, &length);
    CHECK(packet && packet[0] == 0x32 && packet[2 + 2 + 19] == id >> 8 &&
          packet[2 + 2 + 19 + 1] == (id & 0xFF));
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&f.client), 1);
    {
        uint8_t puback[4] = {0x40, 2, 0, 0};
        puback[2] = (uint8_t)(id >> 8);
        puback[3] = (uint8_t)id;
        push(&f, "\x40\x02\x7F\x7F", 4); /* an id never used: ignored */
        push(&f, puback, 4);
    }
    step(&f, 10);
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&f.client), 0);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_PUBLISHED) != NULL);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_PUBLISHED)->event.packet_id, id);
    CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_PUBLISHED), 1);
    teardown(&f);
}

static void test_qos1_is_sent_again_with_dup_after_a_reconnect(void)
{
    static fixture f;
    const uint8_t *packet;
    size_t length;
    uint16_t first, second;
    uint8_t puback[4] = {0x40, 2, 0, 0};
    setup(&f);
    connect_client(&f, false);
    CHECK_EQ_INT(
        cellota_mqtt_publish(&f.client, "s/1", (const uint8_t *)"one", 3, 1, false, &first),
        CELLOTA_OK);
    packet = expect_sent(&f, CELLOTA_MQTT_PUBLISH, &length);
    CHECK(packet && !(packet[0] & 0x08));
    memory_socket_fail(&f.socket, CELLOTA_SOCKET_LINK_LOST);
    CHECK_EQ_INT(step(&f, 10), CELLOTA_SOCKET_LINK_LOST);
    CHECK(last_event(&f, CELLOTA_MQTT_EVENT_DISCONNECTED) != NULL);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_DISCONNECTED)->event.error,
                 CELLOTA_SOCKET_LINK_LOST);
    /* While disconnected: QoS 1 is queued, QoS 0 is refused. */
    CHECK_EQ_INT(
        cellota_mqtt_publish(&f.client, "s/2", (const uint8_t *)"two", 3, 1, false, &second),
        CELLOTA_OK);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "s/0", (const uint8_t *)"zero", 4, 0, false, NULL),
                 CELLOTA_NET_MQTT_NOT_CONNECTED);
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&f.client), 2);
    /* Reconnect after the back-off: CONNECT first, then the first with DUP, the second without. */
    while (f.socket.opens < 2 && f.now < 100000)
        step(&f, 10);
    CHECK(expect_sent(&f, CELLOTA_MQTT_CONNECT, NULL) != NULL);
    CHECK(!next_sent(&f, &packet, &length)); /* nothing before CONNACK */
    push(&f, "\x20\x02\x00\x00", 4);
    step(&f, 10);
    packet = expect_sent(&f, CELLOTA_MQTT_PUBLISH, &length);
    CHECK(packet && (packet[0] & 0x08) && memcmp(packet + 4, "s/1", 3) == 0);
    packet = expect_sent(&f, CELLOTA_MQTT_PUBLISH, &length);
    CHECK(packet && !(packet[0] & 0x08) && memcmp(packet + 4, "s/2", 3) == 0);
    puback[3] = (uint8_t)first;
    push(&f, puback, 4);
    puback[3] = (uint8_t)second;
    push(&f, puback, 4);
    step(&f, 10);
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&f.client), 0);
    CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_PUBLISHED), 2);
    teardown(&f);
}

/* --- keep-alive -------------------------------------------------------------------------- */

static void test_keepalive_ping_and_dead_broker(void)
{
    static fixture f;
    uint32_t connected_at, pinged_at;
    const uint8_t *packet;
    size_t length;
    setup_with(&f, 10, 256, 256);
    connect_client(&f, false);
    connected_at = f.now;
    packet = expect_sent(&f, CELLOTA_MQTT_PINGREQ, &length);
    CHECK(packet && length == 2 && packet[1] == 0);
    CHECK(f.now - connected_at >= 10000 && f.now - connected_at <= 10020);
    push(&f, "\xD0\x00", 2);
    step(&f, 10);
    /* Answered: the next ping comes a keep-alive later; unanswered, the connection is dead. */
    pinged_at = f.now;
    CHECK(expect_sent(&f, CELLOTA_MQTT_PINGREQ, NULL) != NULL);
    CHECK(f.now - pinged_at >= 9980 && f.now - pinged_at <= 10020);
    pinged_at = f.now;
    while (cellota_mqtt_poll(&f.client, f.now) == CELLOTA_OK && f.now - pinged_at < 100000)
        step(&f, 100);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_NET_MQTT_PING_TIMEOUT);
    CHECK(f.now - pinged_at >= CELLOTA_MQTT_PING_TIMEOUT_MS &&
          f.now - pinged_at <= CELLOTA_MQTT_PING_TIMEOUT_MS + 200);
    CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_DISCONNECTED)->event.error,
                 CELLOTA_NET_MQTT_PING_TIMEOUT);
    /* And it comes back. */
    connect_client(&f, false);
    teardown(&f);
}

/* --- failures and limits ----------------------------------------------------------------- */

static void test_broker_protocol_errors_drop_the_connection(void)
{
    static const struct {
        const char *bytes;
        size_t length;
        int expected;
    } cases[] = {
        {"\x30\xFF\xFF\xFF\xFF\x01", 6, CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH},
        {"\x20\x02\x00\x00", 4, CELLOTA_NET_MQTT_UNEXPECTED_PACKET},
        {"\x62\x02\x00\x01", 4, CELLOTA_NET_MQTT_UNEXPECTED_PACKET},
        {"\x40\x03\x00\x01\x00", 5, CELLOTA_NET_MQTT_BAD_PACKET},
        {"\x36\x05\x00\x01t\x00\x01", 7, CELLOTA_NET_MQTT_BAD_PACKET},
        {"\x34\x05\x00\x01t\x00\x01", 7, CELLOTA_NET_MQTT_UNEXPECTED_PACKET},
        {"\x82\x02\x00\x01", 4, CELLOTA_NET_MQTT_UNEXPECTED_PACKET},
    };
    size_t index;
    for (index = 0; index < sizeof(cases) / sizeof(cases[0]); index++) {
        static fixture f;
        setup(&f);
        connect_client(&f, false);
        push(&f, cases[index].bytes, cases[index].length);
        CHECK_EQ_INT(step(&f, 10), cases[index].expected);
        CHECK_EQ_INT(last_event(&f, CELLOTA_MQTT_EVENT_DISCONNECTED)->event.error,
                     cases[index].expected);
        teardown(&f);
    }
    {
        static fixture f;
        setup(&f);
        connect_client(&f, false);
        memory_socket_peer_close(&f.socket);
        CHECK_EQ_INT(step(&f, 10), CELLOTA_SOCKET_CLOSED);
        connect_client(&f, false);
        teardown(&f);
    }
}

static void test_send_buffer_limits(void)
{
    static fixture f;
    static uint8_t payload[300];
    int result, published = 0;
    size_t events_before;
    setup_with(&f, 60, 256, 128);
    connect_client(&f, false);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "t", payload, 200, 1, false, NULL),
                 CELLOTA_NET_MQTT_MESSAGE_TOO_LARGE);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "t", payload, 1, 2, false, NULL),
                 CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "t/+", payload, 1, 1, false, NULL),
                 CELLOTA_NET_MQTT_BAD_TOPIC);
    /* The socket takes nothing: the queue fills to the reserve, then BUSY. */
    f.socket.send_blocked = true;
    do {
        result = cellota_mqtt_publish(&f.client, "t", payload, 23, 1, false, NULL); /* 30 bytes */
        published += result == CELLOTA_OK;
    } while (result == CELLOTA_OK && published < 100);
    CHECK_EQ_INT(result, CELLOTA_BUSY);
    CHECK_EQ_INT(published, (128 - CELLOTA_MQTT_SEND_RESERVE) / 30);
    /* The reserve still takes two PUBACKs; a third incoming QoS 1 waits, unannounced. */
    events_before = count_events(&f, CELLOTA_MQTT_EVENT_MESSAGE);
    push(&f, "\x32\x05\x00\x01t\x00\x01", 7);
    push(&f, "\x32\x05\x00\x01t\x00\x02", 7);
    push(&f, "\x32\x05\x00\x01t\x00\x03", 7);
    push(&f, "\x32\x05\x00\x01t\x00\x04", 7);
    step(&f, 10);
    step(&f, 10);
    CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_MESSAGE), events_before + 2);
    f.socket.send_blocked = false;
    step(&f, 10);
    step(&f, 10);
    CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_MESSAGE), events_before + 4);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_OK);
    teardown(&f);
}

/* A send path that takes nothing, with the queue too full even for a PINGREQ, is a dead
 * connection once keep-alive and ping timeout have passed. */
static void test_stuck_send_path_is_noticed(void)
{
    static fixture f;
    static uint8_t payload[32];
    uint32_t blocked_at;
    setup_with(&f, 60, 256, 128);
    connect_client(&f, false);
    f.socket.send_blocked = true;
    blocked_at = f.now;
    while (cellota_mqtt_publish(&f.client, "t", payload, 23, 1, false, NULL) == CELLOTA_OK)
        ;
    push(&f, "\x32\x05\x00\x01t\x00\x01", 7);
    push(&f, "\x32\x05\x00\x01t\x00\x02", 7);
    step(&f, 10);
    while (cellota_mqtt_poll(&f.client, f.now) == CELLOTA_OK && f.now - blocked_at < 200000)
        step(&f, 10);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_NET_MQTT_PING_TIMEOUT);
    CHECK(f.now - blocked_at >= 60000 + CELLOTA_MQTT_PING_TIMEOUT_MS - 20 &&
          f.now - blocked_at <= 60000 + CELLOTA_MQTT_PING_TIMEOUT_MS + 20);
    teardown(&f);
}

static void test_stop_disconnects_cleanly(void)
{
    static fixture f;
    const uint8_t *packet;
    size_t length;
    int polls = 0;
    setup(&f);
    connect_client(&f, false);
    CHECK_EQ_INT(cellota_mqtt_publish(&f.client, "s", (const uint8_t *)"bye", 3, 0, false, NULL),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_mqtt_stop(&f.client), CELLOTA_OK);
    while (cellota_mqtt_poll(&f.client, f.now) != CELLOTA_NET_MQTT_NOT_CONNECTED && polls++ < 10)
        step(&f, 10);
    CHECK_EQ_INT(cellota_mqtt_poll(&f.client, f.now), CELLOTA_NET_MQTT_NOT_CONNECTED);
    CHECK(expect_sent(&f, CELLOTA_MQTT_PUBLISH, NULL) != NULL); /* what was queued went first */
    packet = expect_sent(&f, CELLOTA_MQTT_DISCONNECT, &length);
    CHECK(packet && length == 2);
    CHECK_EQ_INT(f.socket.state, CELLOTA_SOCKET_STATE_CLOSED);
    CHECK_EQ_INT(count_events(&f, CELLOTA_MQTT_EVENT_DISCONNECTED), 0);
    /* Stopped means stopped: no reconnect. */
    step(&f, 600000);
    CHECK_EQ_INT(f.socket.opens, 1);
    connect_client(&f, false);
    CHECK_EQ_INT(f.socket.opens, 2);
    teardown(&f);
}

static void test_backoff_doubles_to_its_cap_with_jitter(void)
{
    static fixture f, g;
    uint32_t last_open, delays[8], other_delays[8];
    unsigned opens, index;
    int run;
    for (run = 0; run < 2; run++) {
        fixture *h = run ? &g : &f;
        setup(h);
        h->config.backoff_min_ms = 1000;
        h->config.backoff_max_ms = 8000;
        h->config.random_seed = run ? 12345 : 7;
        CHECK_EQ_INT(cellota_mqtt_init(&h->client, &h->socket.socket, &h->config), CELLOTA_OK);
        h->socket.connect_error = CELLOTA_SOCKET_REFUSED;
        cellota_mqtt_start(&h->client, h->now);
        last_open = h->now;
        opens = h->socket.opens;
        for (index = 0; index < 8;) {
            step(h, 10);
            if (h->socket.opens != opens) {
                (run ? other_delays : delays)[index++] = h->now - last_open;
                last_open = h->now;
                opens = h->socket.opens;
            }
        }
    }
    for (index = 0; index < 8; index++) {
        uint32_t cap = index < 3 ? 1000u << index : 8000u;
        CHECK(delays[index] >= cap / 2 && delays[index] <= cap + 20);
    }
    CHECK(memcmp(delays, other_delays, sizeof(delays)) != 0); /* devices do not retry in step */
    teardown(&f);
    teardown(&g);
}

static void test_init_checks(void)
{
    static fixture f;
    cellota_mqtt_client client;
    setup(&f);
    f.config.receive_size = 40; /* the CONNECT would not fit */
    CHECK_EQ_INT(cellota_mqtt_init(&client, &f.socket.socket, &f.config), CELLOTA_INVALID_ARGUMENT);
    f.config.receive_size = 64;
    CHECK_EQ_INT(cellota_mqtt_init(&client, &f.socket.socket, &f.config), CELLOTA_OK);
    f.config.connect.password = "p"; /* without a user name */
    CHECK_EQ_INT(cellota_mqtt_init(&client, &f.socket.socket, &f.config), CELLOTA_INVALID_ARGUMENT);
    f.config.connect.password = NULL;
    f.config.port = 0;
    CHECK_EQ_INT(cellota_mqtt_init(&client, &f.socket.socket, &f.config), CELLOTA_INVALID_ARGUMENT);
    f.config.port = 1883;
    f.config.backoff_min_ms = 0;
    CHECK_EQ_INT(cellota_mqtt_init(&client, &f.socket.socket, &f.config), CELLOTA_INVALID_ARGUMENT);
    teardown(&f);
}

int main(void)
{
    RUN(test_connect);
    RUN(test_connack_refusals_are_named_and_retried);
    RUN(test_connect_timeout_and_wrong_first_packet);
    RUN(test_subscribe_and_unsubscribe);
    RUN(test_incoming_messages_are_acknowledged_after_the_callback);
    RUN(test_oversized_message_is_dropped_acknowledged_and_reported);
    RUN(test_publish_qos0_and_qos1);
    RUN(test_qos1_is_sent_again_with_dup_after_a_reconnect);
    RUN(test_keepalive_ping_and_dead_broker);
    RUN(test_broker_protocol_errors_drop_the_connection);
    RUN(test_send_buffer_limits);
    RUN(test_stuck_send_path_is_noticed);
    RUN(test_stop_disconnects_cleanly);
    RUN(test_backoff_doubles_to_its_cap_with_jitter);
    RUN(test_init_checks);
    return test_summary();
}
