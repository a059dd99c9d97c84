/*
 * libFuzzer target for the MQTT packet reader, the decoders and the client around them.
 *
 * Input: byte 0 = reader buffer size (16 + byte), byte 1 = seed for the cuts, the rest = what
 * the broker sends. Checks: nothing crashes or reads out of bounds (ASan); the reader finds the
 * same packets whether fed whole or cut at random and received in place, never wants more bytes
 * than the packet needs, and never keeps more than its buffer; every decoder copes with every
 * packet; the client, given the input after a valid CONNACK, never crashes, keeps its send queue
 * consistent, and stays within its buffers.
 */
#include "core/error.h"
#include "net/mqtt.h"
#include "net/mqtt_packet.h"
#include "support/memory_socket.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct trace {
    uint64_t hash;
    unsigned packets;
    int final;
} trace;

static void mix(trace *out, uint64_t value)
{
    out->hash = (out->hash ^ value) * 0x100000001b3ull;
}

static void note_packet(trace *out, int result, const cellota_mqtt_packet *packet, size_t size)
{
    cellota_mqtt_message message;
    bool session;
    uint8_t code;
    uint16_t id;
    size_t index;
    if (packet->length > size || packet->length > packet->remaining_length)
        abort();
    if (result == CELLOTA_OK && packet->length != packet->remaining_length)
        abort();
    mix(out, (uint64_t)result << 40 | (uint64_t)packet->type << 32 | packet->remaining_length);
    for (index = 0; index < packet->length; index++)
        mix(out, packet->body[index]);
    if (cellota_mqtt_decode_publish(packet, &message) == CELLOTA_OK) {
        if (message.topic_length + message.payload_length > packet->length)
            abort();
        mix(out, message.packet_id);
    }
    if (cellota_mqtt_decode_connack(packet, &session, &code) == CELLOTA_OK)
        mix(out, code);
    if (cellota_mqtt_decode_suback(packet, &id, &code) == CELLOTA_OK)
        mix(out, id);
    if (cellota_mqtt_decode_ack(packet, &id) == CELLOTA_OK)
        mix(out, 1);
    out->packets++;
}

static void read_all(const uint8_t *input, size_t length, size_t size, uint32_t seed, trace *out)
{
    static uint8_t buffer[272];
    cellota_mqtt_reader reader;
    cellota_mqtt_packet packet;
    size_t offset = 0;
    memset(out, 0, sizeof(*out));
    out->final = CELLOTA_IN_PROGRESS;
    cellota_mqtt_reader_init(&reader, buffer, size);
    while (offset < length) {
        size_t piece = length - offset, consumed = 0;
        const uint8_t *from = input + offset;
        int result;
        if (seed != 0) {
            size_t wanted;
            uint8_t *space = cellota_mqtt_reader_space(&reader, &wanted);
            if (wanted == 0 || space < buffer || space + wanted > buffer + size)
                abort();
            seed = seed * 1103515245u + 12345u;
            piece = 1 + (seed >> 16) % wanted;
            if (piece > length - offset)
                piece = length - offset;
            memcpy(space, from, piece);
            from = space;
        }
        result = cellota_mqtt_reader_feed(&reader, from, piece, &consumed, &packet);
        if (consumed > piece || (seed != 0 && consumed != piece))
            abort();
        offset += consumed;
        if (result == CELLOTA_OK || result == CELLOTA_NET_MQTT_PACKET_TOO_LARGE) {
            note_packet(out, result, &packet, size);
        } else if (result != CELLOTA_IN_PROGRESS) {
            out->final = result;
            return;
        }
    }
}

static void on_event(void *context, const cellota_mqtt_event *event)
{
    cellota_mqtt_client *client = context;
    /* Answer like an application would, to exercise the queue from inside callbacks. */
    if (event->type == CELLOTA_MQTT_EVENT_CONNECTED)
        cellota_mqtt_subscribe(client, "cellota/dev1/update", 1, NULL);
    if (event->type == CELLOTA_MQTT_EVENT_MESSAGE && event->message.payload_length > 3)
        cellota_mqtt_publish(client, "cellota/dev1/status", event->message.payload, 3, 1, false,
                             NULL);
}

static void run_client(const uint8_t *input, size_t length)
{
    static memory_socket socket;
    static cellota_mqtt_client client;
    static uint8_t receive[128], send[128];
    cellota_mqtt_config config;
    uint32_t now = 0;
    unsigned served = 0;
    int round;
    memory_socket_init(&socket);
    socket.receive_limit = 13;
    cellota_mqtt_config_default(&config);
    config.host = "broker";
    config.port = 1883;
    config.connect.client_id = "dev1";
    config.connect.keepalive_s = 5;
    config.connect.clean_session = true;
    config.receive_buffer = receive;
    config.receive_size = sizeof(receive);
    config.send_buffer = send;
    config.send_size = sizeof(send);
    config.backoff_min_ms = 100;
    config.backoff_max_ms = 400;
    config.on_event = on_event;
    config.context = &client;
    if (cellota_mqtt_init(&client, &socket.socket, &config) != CELLOTA_OK)
        abort();
    cellota_mqtt_start(&client, now);
    cellota_mqtt_publish(&client, "cellota/dev1/status", (const uint8_t *)"boot", 4, 1, false,
                         NULL);
    for (round = 0; round < 400; round++) {
        if (socket.state == CELLOTA_SOCKET_STATE_OPEN && socket.opens != served && served < 3) {
            served = socket.opens;
            memory_socket_push(&socket, "\x20\x02\x00\x00", 4);
            memory_socket_push(&socket, input, length);
        }
        now += 250;
        cellota_mqtt_poll(&client, now);
        if (round % 7 == 0)
            cellota_mqtt_publish(&client, "s", input, length % 40, (uint8_t)(round & 1), false,
                                 NULL);
        if (client.queued > sizeof(send) || client.sent > client.queued)
            abort();
    }
    cellota_mqtt_unacknowledged(&client);
    memory_socket_free(&socket);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static trace whole, cut;
    size_t buffer_size;
    if (size < 2)
        return 0;
    buffer_size = 16 + (size_t)data[0];
    read_all(data + 2, size - 2, buffer_size, 0, &whole);
    read_all(data + 2, size - 2, buffer_size, (uint32_t)data[1] + 1, &cut);
    if (whole.hash != cut.hash || whole.packets != cut.packets || whole.final != cut.final)
        abort();
    run_client(data + 2, size - 2);
    return 0;
}
