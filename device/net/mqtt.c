/*
 * The MQTT 3.1.1 client state machine (see mqtt.h).
 *
 * The send buffer is a queue of whole packets. Packets before `sent` have gone to the socket;
 * once a packet has gone entirely it is removed, unless it is a QoS 1 PUBLISH: those stay, in
 * order, until their PUBACK. So the queue always reads
 *     [QoS 1 publishes sent, not yet acknowledged][packets not yet (wholly) sent]
 * and a reconnect keeps only the QoS 1 publishes, marks those already sent DUP, and sends the
 * queue again from the start.
 */
#include "net/mqtt.h"

#include "core/error.h"

#include <string.h>

enum client_state {
    STATE_STOPPED = 0,
    STATE_WAITING,         /* back-off until retry_at */
    STATE_CLOSING,         /* waiting for the socket to be CLOSED */
    STATE_OPENING,         /* socket open started */
    STATE_SENDING_CONNECT, /* the CONNECT in receive_buffer going out */
    STATE_WAITING_CONNACK,
    STATE_CONNECTED,
    STATE_DISCONNECTING /* the DISCONNECT going out */
};

#define RECEIVES_PER_POLL 8
#define PUBACK_SIZE 4

void cellota_mqtt_config_default(cellota_mqtt_config *config)
{
    memset(config, 0, sizeof(*config));
    config->connect_timeout_ms = CELLOTA_MQTT_CONNECT_TIMEOUT_MS;
    config->ping_timeout_ms = CELLOTA_MQTT_PING_TIMEOUT_MS;
    config->backoff_min_ms = CELLOTA_MQTT_BACKOFF_MIN_MS;
    config->backoff_max_ms = CELLOTA_MQTT_BACKOFF_MAX_MS;
}

int cellota_mqtt_init(cellota_mqtt_client *client, const cellota_socket *socket,
                      const cellota_mqtt_config *config)
{
    size_t connect_length;
    int result;
    if (!client || !socket || !socket->operations || !config || !config->host ||
        config->port == 0 || !config->receive_buffer || config->receive_size < 64 ||
        !config->send_buffer || config->send_size < 64 || config->backoff_min_ms == 0 ||
        config->backoff_min_ms > config->backoff_max_ms)
        return CELLOTA_INVALID_ARGUMENT;
    /* The CONNECT is the same at every attempt: check once that it can be built and fits. */
    result = cellota_mqtt_encode_connect(config->receive_buffer, config->receive_size,
                                         &config->connect, &connect_length);
    if (result != CELLOTA_OK)
        return result == CELLOTA_BUFFER_TOO_SMALL ? CELLOTA_INVALID_ARGUMENT : result;
    memset(client, 0, sizeof(*client));
    client->socket = socket;
    client->config = *config;
    client->backoff_ms = config->backoff_min_ms;
    client->random_state = config->random_seed ? config->random_seed : 0x6d2b79f5u;
    client->next_packet_id = 1;
    return CELLOTA_OK;
}

static void emit(cellota_mqtt_client *client, cellota_mqtt_event *event)
{
    if (client->config.on_event)
        client->config.on_event(client->config.context, event);
}

/* An event without a message; `detail` is the granted QoS (SUBSCRIBED) or session present
 * (CONNECTED). */
static void emit_simple(cellota_mqtt_client *client, cellota_mqtt_event_type type, int error,
                        uint16_t packet_id, uint8_t detail)
{
    cellota_mqtt_event event;
    memset(&event, 0, sizeof(event));
    event.type = type;
    event.error = error;
    event.packet_id = packet_id;
    event.granted_qos = type == CELLOTA_MQTT_EVENT_SUBSCRIBED ? detail : 0;
    event.session_present = type == CELLOTA_MQTT_EVENT_CONNECTED && detail;
    emit(client, &event);
}

/* --- the send queue --------------------------------------------------------------------- */

static bool is_qos1_publish(const uint8_t *packet)
{
    return (packet[0] >> 4) == CELLOTA_MQTT_PUBLISH && ((packet[0] >> 1) & 0x03) == 1;
}

static size_t size_at(const cellota_mqtt_client *client, size_t offset)
{
    return cellota_mqtt_packet_size(client->config.send_buffer + offset, client->queued - offset);
}

/* The packet id of a QoS 1 PUBLISH in the queue: after the fixed header and the topic. */
static uint16_t publish_id(const uint8_t *packet)
{
    size_t header = 2, topic_offset;
    while (packet[header - 1] & 0x80)
        header++;
    topic_offset = header + 2 + (size_t)(packet[header] << 8 | packet[header + 1]);
    return (uint16_t)(packet[topic_offset] << 8 | packet[topic_offset + 1]);
}

static void remove_packet(cellota_mqtt_client *client, size_t offset, size_t size)
{
    uint8_t *buffer = client->config.send_buffer;
    memmove(buffer + offset, buffer + offset + size, client->queued - offset - size);
    client->queued -= size;
    if (client->sent >= offset + size)
        client->sent -= size;
    else if (client->sent > offset)
        client->sent = offset;
}

/* Drops the packets the socket has taken in full, except QoS 1 publishes awaiting PUBACK. */
static void drop_sent(cellota_mqtt_client *client)
{
    size_t offset = 0;
    while (offset < client->sent) {
        size_t size = size_at(client, offset);
        if (offset + size > client->sent)
            break;
        if (is_qos1_publish(client->config.send_buffer + offset))
            offset += size;
        else
            remove_packet(client, offset, size);
    }
}

/* After a lost connection: keep only QoS 1 publishes, DUP on those that went out. */
static void prepare_resend(cellota_mqtt_client *client)
{
    size_t offset = 0;
    while (offset < client->queued) {
        uint8_t *packet = client->config.send_buffer + offset;
        size_t size = size_at(client, offset);
        if (!is_qos1_publish(packet)) {
            remove_packet(client, offset, size);
            continue;
        }
        if (offset < client->sent)
            packet[0] |= 0x08;
        offset += size;
    }
    client->sent = 0;
}

/* The offset of the queued QoS 1 publish with `id`, or `queued` when there is none. */
static size_t find_publish(const cellota_mqtt_client *client, uint16_t id)
{
    size_t offset = 0;
    while (offset < client->queued) {
        const uint8_t *packet = client->config.send_buffer + offset;
        if (is_qos1_publish(packet) && publish_id(packet) == id)
            return offset;
        offset += size_at(client, offset);
    }
    return client->queued;
}

static uint16_t take_packet_id(cellota_mqtt_client *client)
{
    uint16_t id;
    do {
        id = client->next_packet_id++;
        if (client->next_packet_id == 0)
            client->next_packet_id = 1;
    } while (find_publish(client, id) != client->queued);
    return id;
}

/* Room for a packet at the queue's end: control packets may use the reserve, others not. */
static size_t room(const cellota_mqtt_client *client, bool control)
{
    size_t free_bytes = client->config.send_size - client->queued;
    if (control)
        return free_bytes;
    return free_bytes > CELLOTA_MQTT_SEND_RESERVE ? free_bytes - CELLOTA_MQTT_SEND_RESERVE : 0;
}

/* Maps an encoder's BUFFER_TOO_SMALL to "not now" or "never"; counts a queued packet. */
static int queued_result(cellota_mqtt_client *client, int result, size_t length)
{
    if (result == CELLOTA_BUFFER_TOO_SMALL)
        return length > client->config.send_size - CELLOTA_MQTT_SEND_RESERVE
                   ? CELLOTA_NET_MQTT_MESSAGE_TOO_LARGE
                   : CELLOTA_BUSY;
    if (result == CELLOTA_OK)
        client->queued += length;
    return result;
}

static bool queue_control(cellota_mqtt_client *client, uint8_t type, uint16_t packet_id)
{
    size_t length;
    if (cellota_mqtt_encode_control(client->config.send_buffer + client->queued, room(client, true),
                                    type, packet_id, &length) != CELLOTA_OK)
        return false;
    client->queued += length;
    return true;
}

/* --- connection life -------------------------------------------------------------------- */

static uint32_t next_random(cellota_mqtt_client *client)
{
    uint32_t x = client->random_state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    client->random_state = x;
    return x;
}

/* Ends the connection or attempt with `error`; retries after a back-off unless stopping. */
static void connection_lost(cellota_mqtt_client *client, int error)
{
    uint32_t half = client->backoff_ms / 2;
    bool was_connected = client->state == STATE_CONNECTED;
    client->last_error = error;
    client->state = STATE_CLOSING;
    client->packet_pending = false;
    client->ping_outstanding = false;
    prepare_resend(client);
    client->socket->operations->close(client->socket->context);
    client->retry_at = client->now + half + next_random(client) % (half + 1);
    client->backoff_ms = client->backoff_ms > client->config.backoff_max_ms / 2
                             ? client->config.backoff_max_ms
                             : client->backoff_ms * 2;
    if (was_connected)
        emit_simple(client, CELLOTA_MQTT_EVENT_DISCONNECTED, error, 0, 0);
}

static void open_socket(cellota_mqtt_client *client)
{
    int result = client->socket->operations->open(client->socket->context, client->config.kind,
                                                  client->config.host, client->config.port);
    client->attempt_started = client->now;
    client->state = STATE_OPENING;
    if (result != CELLOTA_OK && result != CELLOTA_IN_PROGRESS)
        connection_lost(client, result);
}

static void became_connected(cellota_mqtt_client *client, bool session_present)
{
    client->state = STATE_CONNECTED;
    client->ever_connected = true;
    client->last_error = CELLOTA_OK;
    client->backoff_ms = client->config.backoff_min_ms;
    client->last_sent = client->now;
    client->last_received = client->now;
    emit_simple(client, CELLOTA_MQTT_EVENT_CONNECTED, CELLOTA_OK, 0, session_present);
}

/* Hands queued bytes to the socket. False when the connection failed. */
static bool flush(cellota_mqtt_client *client)
{
    while (client->sent < client->queued) {
        size_t accepted = 0;
        int result = client->socket->operations->send(client->socket->context,
                                                      client->config.send_buffer + client->sent,
                                                      client->queued - client->sent, &accepted);
        if (result != CELLOTA_OK) {
            connection_lost(client, result);
            return false;
        }
        if (accepted == 0)
            break;
        client->sent += accepted;
        client->last_sent = client->now;
    }
    drop_sent(client);
    return true;
}

/* --- incoming packets ------------------------------------------------------------------- */

static void handle_publish(cellota_mqtt_client *client)
{
    cellota_mqtt_event event;
    bool too_large = client->packet_result == CELLOTA_NET_MQTT_PACKET_TOO_LARGE;
    int result;
    memset(&event, 0, sizeof(event));
    result = cellota_mqtt_decode_publish(&client->packet, &event.message);
    if (result != CELLOTA_OK) {
        /* A too-large packet whose topic and id were not kept cannot even be acknowledged. */
        connection_lost(client, too_large ? CELLOTA_NET_MQTT_PACKET_TOO_LARGE : result);
        return;
    }
    if (event.message.qos == 1 && room(client, true) < PUBACK_SIZE)
        return; /* stays pending until the queue drains */
    client->packet_pending = false;
    event.type = too_large ? CELLOTA_MQTT_EVENT_MESSAGE_DROPPED : CELLOTA_MQTT_EVENT_MESSAGE;
    event.error = too_large ? CELLOTA_NET_MQTT_PACKET_TOO_LARGE : CELLOTA_OK;
    event.packet_id = event.message.packet_id;
    emit(client, &event);
    /* Acknowledged after the application has it; not if it stopped the client meanwhile. */
    if (event.message.qos == 1 && client->state == STATE_CONNECTED)
        queue_control(client, CELLOTA_MQTT_PUBACK, event.message.packet_id);
}

static void handle_packet(cellota_mqtt_client *client)
{
    const cellota_mqtt_packet *packet = &client->packet;
    uint16_t id = 0;
    uint8_t code;
    bool session_present;
    int result = CELLOTA_OK;

    if (client->state == STATE_WAITING_CONNACK) {
        client->packet_pending = false;
        if (packet->type != CELLOTA_MQTT_CONNACK)
            result = CELLOTA_NET_MQTT_UNEXPECTED_PACKET;
        else
            result = cellota_mqtt_decode_connack(packet, &session_present, &code);
        if (result == CELLOTA_OK && code != 0)
            result = code <= 5 ? CELLOTA_NET_MQTT_REFUSED_PROTOCOL + code - 1
                               : CELLOTA_NET_MQTT_REFUSED_UNKNOWN;
        if (result == CELLOTA_OK)
            became_connected(client, session_present);
        else
            connection_lost(client, result);
        return;
    }
    if (packet->type == CELLOTA_MQTT_PUBLISH) {
        handle_publish(client);
        return;
    }
    client->packet_pending = false;
    if (client->packet_result != CELLOTA_OK) {
        connection_lost(client, client->packet_result);
        return;
    }
    switch (packet->type) {
    case CELLOTA_MQTT_PUBACK:
        result = cellota_mqtt_decode_ack(packet, &id);
        if (result == CELLOTA_OK) {
            size_t offset = find_publish(client, id);
            /* Only a publish that went out can be acknowledged; others are stale ids. */
            if (offset < client->queued && offset + size_at(client, offset) <= client->sent) {
                remove_packet(client, offset, size_at(client, offset));
                emit_simple(client, CELLOTA_MQTT_EVENT_PUBLISHED, CELLOTA_OK, id, 0);
            }
        }
        break;
    case CELLOTA_MQTT_SUBACK:
        result = cellota_mqtt_decode_suback(packet, &id, &code);
        if (result == CELLOTA_OK)
            emit_simple(client, CELLOTA_MQTT_EVENT_SUBSCRIBED,
                        code == 0x80 ? CELLOTA_NET_MQTT_SUBSCRIBE_REFUSED : CELLOTA_OK, id,
                        code == 0x80 ? 0 : code);
        break;
    case CELLOTA_MQTT_UNSUBACK:
        result = cellota_mqtt_decode_ack(packet, &id);
        if (result == CELLOTA_OK)
            emit_simple(client, CELLOTA_MQTT_EVENT_UNSUBSCRIBED, CELLOTA_OK, id, 0);
        break;
    case CELLOTA_MQTT_PINGRESP:
        result = cellota_mqtt_decode_ack(packet, NULL);
        client->ping_outstanding = false;
        break;
    default:
        result = CELLOTA_NET_MQTT_UNEXPECTED_PACKET;
        break;
    }
    if (result != CELLOTA_OK)
        connection_lost(client, result);
}

/* Reads and handles packets while connected or waiting for CONNACK. */
static void receive_packets(cellota_mqtt_client *client)
{
    int round;
    uint8_t state = client->state;
    for (round = 0; round < RECEIVES_PER_POLL && client->state == state; round++) {
        size_t wanted, received = 0, consumed;
        uint8_t *space;
        int error, result;
        if (client->packet_pending) {
            handle_packet(client);
            if (client->packet_pending)
                return; /* waiting for room for a PUBACK */
            continue;
        }
        space = cellota_mqtt_reader_space(&client->reader, &wanted);
        result =
            client->socket->operations->receive(client->socket->context, space, wanted, &received);
        if (result != CELLOTA_OK) {
            connection_lost(client, result);
            return;
        }
        if (received == 0) {
            if (client->socket->operations->state(client->socket->context, &error) ==
                CELLOTA_SOCKET_STATE_FAILED)
                connection_lost(client, error != CELLOTA_OK ? error : CELLOTA_SOCKET_CLOSED);
            return;
        }
        client->last_received = client->now;
        result =
            cellota_mqtt_reader_feed(&client->reader, space, received, &consumed, &client->packet);
        if (result == CELLOTA_OK || result == CELLOTA_NET_MQTT_PACKET_TOO_LARGE) {
            client->packet_result = result;
            client->packet_pending = true;
        } else if (result != CELLOTA_IN_PROGRESS) {
            connection_lost(client, result);
        }
    }
}

static void keep_alive(cellota_mqtt_client *client)
{
    uint32_t interval = (uint32_t)client->config.connect.keepalive_s * 1000u;
    if (interval == 0)
        return;
    /* A send path that has taken nothing for so long is as dead as a silent broker. */
    if (client->sent < client->queued &&
        client->now - client->last_sent >= interval + client->config.ping_timeout_ms) {
        connection_lost(client, CELLOTA_NET_MQTT_PING_TIMEOUT);
        return;
    }
    if (client->ping_outstanding) {
        if (client->now - client->ping_sent >= client->config.ping_timeout_ms)
            connection_lost(client, CELLOTA_NET_MQTT_PING_TIMEOUT);
        return;
    }
    /* Silence either way: we must send within the interval, and a broker that has said
     * nothing for as long may be gone without a word (a half-open connection). */
    if ((client->now - client->last_sent >= interval ||
         client->now - client->last_received >= interval) &&
        queue_control(client, CELLOTA_MQTT_PINGREQ, 0)) {
        client->ping_outstanding = true;
        client->ping_sent = client->now;
    }
}

/* --- public functions ------------------------------------------------------------------- */

int cellota_mqtt_start(cellota_mqtt_client *client, uint32_t now_ms)
{
    int ignored;
    client->now = now_ms;
    client->stopping = false;
    if (client->state != STATE_STOPPED)
        return client->state == STATE_CONNECTED ? CELLOTA_OK : CELLOTA_IN_PROGRESS;
    client->last_error = CELLOTA_OK;
    client->backoff_ms = client->config.backoff_min_ms;
    client->retry_at = now_ms;
    if (client->socket->operations->state(client->socket->context, &ignored) !=
        CELLOTA_SOCKET_STATE_CLOSED) {
        client->socket->operations->close(client->socket->context);
        client->state = STATE_CLOSING;
    } else {
        open_socket(client);
    }
    return CELLOTA_IN_PROGRESS;
}

int cellota_mqtt_poll(cellota_mqtt_client *client, uint32_t now_ms)
{
    int error = CELLOTA_OK;
    cellota_socket_state socket_state;
    client->now = now_ms;
    client->socket->operations->poll(client->socket->context, now_ms);
    socket_state = client->socket->operations->state(client->socket->context, &error);

    switch (client->state) {
    case STATE_CLOSING:
        if (socket_state == CELLOTA_SOCKET_STATE_CLOSED)
            client->state = client->stopping ? STATE_STOPPED : STATE_WAITING;
        break;
    case STATE_OPENING:
        if (socket_state == CELLOTA_SOCKET_STATE_OPEN) {
            cellota_mqtt_encode_connect(client->config.receive_buffer, client->config.receive_size,
                                        &client->config.connect, &client->connect_length);
            client->connect_sent = 0;
            client->state = STATE_SENDING_CONNECT;
        } else if (socket_state != CELLOTA_SOCKET_STATE_OPENING) {
            connection_lost(client, error != CELLOTA_OK ? error : CELLOTA_SOCKET_NOT_OPEN);
        }
        break;
    default:
        break;
    }

    if (client->state == STATE_WAITING && (int32_t)(now_ms - client->retry_at) >= 0)
        open_socket(client);
    if (client->state == STATE_SENDING_CONNECT) {
        size_t accepted = 0;
        int result = client->socket->operations->send(
            client->socket->context, client->config.receive_buffer + client->connect_sent,
            client->connect_length - client->connect_sent, &accepted);
        client->connect_sent += accepted;
        if (result != CELLOTA_OK) {
            connection_lost(client, result);
        } else if (client->connect_sent == client->connect_length) {
            cellota_mqtt_reader_init(&client->reader, client->config.receive_buffer,
                                     client->config.receive_size);
            client->state = STATE_WAITING_CONNACK;
        }
    }
    if (client->state == STATE_WAITING_CONNACK)
        receive_packets(client);
    if ((client->state == STATE_OPENING || client->state == STATE_SENDING_CONNECT ||
         client->state == STATE_WAITING_CONNACK) &&
        client->config.connect_timeout_ms != 0 &&
        now_ms - client->attempt_started >= client->config.connect_timeout_ms)
        connection_lost(client, CELLOTA_NET_MQTT_CONNECT_TIMEOUT);

    if (client->state == STATE_CONNECTED && flush(client)) {
        receive_packets(client);
        if (client->state == STATE_CONNECTED)
            keep_alive(client);
        if (client->state == STATE_CONNECTED)
            flush(client);
    }
    if (client->state == STATE_DISCONNECTING && flush(client) &&
        client->state == STATE_DISCONNECTING &&
        (client->sent == client->queued ||
         now_ms - client->attempt_started >= client->config.ping_timeout_ms)) {
        prepare_resend(client);
        client->socket->operations->close(client->socket->context);
        client->state = STATE_CLOSING;
    }

    if (client->state == STATE_CONNECTED)
        return CELLOTA_OK;
    if (client->state == STATE_STOPPED)
        return CELLOTA_NET_MQTT_NOT_CONNECTED;
    return client->last_error != CELLOTA_OK ? client->last_error : CELLOTA_IN_PROGRESS;
}

int cellota_mqtt_publish(cellota_mqtt_client *client, const char *topic, const uint8_t *payload,
                         size_t length, uint8_t qos, bool retain, uint16_t *packet_id)
{
    cellota_mqtt_message message;
    size_t packet_length;
    int result;
    if (qos > 1 || !topic)
        return qos > 1 ? CELLOTA_INVALID_ARGUMENT : CELLOTA_NET_MQTT_BAD_TOPIC;
    if (qos == 0 && client->state != STATE_CONNECTED)
        return CELLOTA_NET_MQTT_NOT_CONNECTED;
    memset(&message, 0, sizeof(message));
    message.topic = topic;
    message.topic_length = strlen(topic);
    message.payload = payload;
    message.payload_length = length;
    message.qos = qos;
    message.retain = retain;
    message.packet_id = qos ? take_packet_id(client) : 0;
    result = cellota_mqtt_encode_publish(client->config.send_buffer + client->queued,
                                         room(client, false), &message, &packet_length);
    result = queued_result(client, result, packet_length);
    if (packet_id)
        *packet_id = result == CELLOTA_OK ? message.packet_id : 0;
    return result;
}

static int queue_filter(cellota_mqtt_client *client, const char *filter, int qos,
                        uint16_t *packet_id)
{
    uint16_t id;
    size_t length;
    int result;
    if (client->state != STATE_CONNECTED)
        return CELLOTA_NET_MQTT_NOT_CONNECTED;
    id = take_packet_id(client);
    if (qos >= 0)
        result =
            cellota_mqtt_encode_subscribe(client->config.send_buffer + client->queued,
                                          room(client, false), id, filter, (uint8_t)qos, &length);
    else
        result = cellota_mqtt_encode_unsubscribe(client->config.send_buffer + client->queued,
                                                 room(client, false), id, filter, &length);
    result = queued_result(client, result, length);
    if (packet_id)
        *packet_id = result == CELLOTA_OK ? id : 0;
    return result;
}

int cellota_mqtt_subscribe(cellota_mqtt_client *client, const char *filter, uint8_t qos,
                           uint16_t *packet_id)
{
    return queue_filter(client, filter, qos, packet_id);
}

int cellota_mqtt_unsubscribe(cellota_mqtt_client *client, const char *filter, uint16_t *packet_id)
{
    return queue_filter(client, filter, -1, packet_id);
}

int cellota_mqtt_stop(cellota_mqtt_client *client)
{
    client->stopping = true;
    if (client->state == STATE_CONNECTED) {
        /* What is queued goes out first, then the DISCONNECT. */
        client->attempt_started = client->now;
        client->state = STATE_DISCONNECTING;
        if (queue_control(client, CELLOTA_MQTT_DISCONNECT, 0))
            return CELLOTA_OK;
    }
    if (client->state != STATE_STOPPED) {
        prepare_resend(client);
        client->socket->operations->close(client->socket->context);
        client->state = STATE_CLOSING;
    }
    return CELLOTA_OK;
}

size_t cellota_mqtt_unacknowledged(const cellota_mqtt_client *client)
{
    size_t offset = 0, count = 0;
    while (offset < client->queued) {
        count += is_qos1_publish(client->config.send_buffer + offset);
        offset += size_at(client, offset);
    }
    return count;
}
