/* MQTT 3.1.1 packet encoding, incremental reading and decoding (see mqtt_packet.h). */
#include "net/mqtt_packet.h"

#include "core/error.h"
#include "net/text.h"

#include <string.h>

#define REMAINING_LENGTH_BYTES_MAX 4
#define STRING_MAX 65535u

/* --- encoding ---------------------------------------------------------------------------- */

static size_t varint_size(size_t value)
{
    return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;
}

static void put_u16(cellota_writer *writer, uint16_t value)
{
    cellota_writer_byte(writer, (uint8_t)(value >> 8));
    cellota_writer_byte(writer, (uint8_t)(value & 0xFF));
}

static void put_string(cellota_writer *writer, const void *data, size_t length)
{
    put_u16(writer, (uint16_t)length);
    cellota_writer_bytes(writer, data, length);
}

/*
 * Starts a packet whose remaining length is `body`: checks the whole fits and writes the fixed
 * header. Returns CELLOTA_OK or CELLOTA_BUFFER_TOO_SMALL; *length gets the whole size either way.
 */
static int begin_packet(cellota_writer *writer, uint8_t *buffer, size_t size, uint8_t first_byte,
                        size_t body, size_t *length)
{
    size_t value = body;
    *length = 1 + varint_size(body) + body;
    if (*length > size)
        return CELLOTA_BUFFER_TOO_SMALL;
    writer->buffer = buffer;
    writer->size = size;
    writer->length = 0;
    writer->overflow = false;
    cellota_writer_byte(writer, first_byte);
    do {
        uint8_t digit = (uint8_t)(value % 128);
        value /= 128;
        cellota_writer_byte(writer, (uint8_t)(value ? digit | 0x80 : digit));
    } while (value != 0);
    return CELLOTA_OK;
}

static bool string_length(const char *text, size_t *length)
{
    *length = text ? strlen(text) : 0;
    return *length <= STRING_MAX;
}

int cellota_mqtt_encode_connect(uint8_t *buffer, size_t size,
                                const cellota_mqtt_connect_options *options, size_t *length)
{
    static const uint8_t protocol[7] = {0, 4, 'M', 'Q', 'T', 'T', 4}; /* name and level 4 */
    const cellota_mqtt_will *will = options->will;
    size_t id_length, user_length, password_length, will_topic_length = 0, body;
    uint8_t flags = options->clean_session ? 0x02 : 0x00;
    cellota_writer writer;
    int result;

    *length = 0;
    if (!options->client_id || !string_length(options->client_id, &id_length) ||
        !string_length(options->username, &user_length) ||
        !string_length(options->password, &password_length) ||
        (options->password && !options->username) || (id_length == 0 && !options->clean_session))
        return CELLOTA_INVALID_ARGUMENT;
    body = sizeof(protocol) + 1 + 2 + 2 + id_length;
    if (will) {
        if (!will->topic || will->qos > 2 || (will->payload_length && !will->payload))
            return CELLOTA_INVALID_ARGUMENT;
        if (!string_length(will->topic, &will_topic_length) || will_topic_length == 0)
            return CELLOTA_NET_MQTT_BAD_TOPIC;
        flags |= (uint8_t)(0x04 | will->qos << 3 | (will->retain ? 0x20 : 0));
        body += 2 + will_topic_length + 2 + will->payload_length;
    }
    if (options->username) {
        flags |= 0x80;
        body += 2 + user_length;
    }
    if (options->password) {
        flags |= 0x40;
        body += 2 + password_length;
    }
    result = begin_packet(&writer, buffer, size, CELLOTA_MQTT_CONNECT << 4, body, length);
    if (result != CELLOTA_OK)
        return result;
    cellota_writer_bytes(&writer, protocol, sizeof(protocol));
    cellota_writer_byte(&writer, flags);
    put_u16(&writer, options->keepalive_s);
    put_string(&writer, options->client_id, id_length);
    if (will) {
        put_string(&writer, will->topic, will_topic_length);
        put_string(&writer, will->payload, will->payload_length);
    }
    if (options->username)
        put_string(&writer, options->username, user_length);
    if (options->password)
        put_string(&writer, options->password, password_length);
    return CELLOTA_OK;
}

int cellota_mqtt_encode_publish(uint8_t *buffer, size_t size, const cellota_mqtt_message *message,
                                size_t *length)
{
    size_t body = 2 + message->topic_length + (message->qos ? 2 : 0) + message->payload_length;
    uint8_t first_byte = (uint8_t)(CELLOTA_MQTT_PUBLISH << 4 | message->qos << 1 |
                                   (message->duplicate ? 0x08 : 0) | (message->retain ? 0x01 : 0));
    cellota_writer writer;
    int result;
    *length = 0;
    if (message->qos > 1 || (message->payload_length && !message->payload))
        return CELLOTA_INVALID_ARGUMENT;
    if (!message->topic || message->topic_length == 0 || message->topic_length > STRING_MAX ||
        memchr(message->topic, '+', message->topic_length) ||
        memchr(message->topic, '#', message->topic_length) ||
        memchr(message->topic, '\0', message->topic_length))
        return CELLOTA_NET_MQTT_BAD_TOPIC;
    result = begin_packet(&writer, buffer, size, first_byte, body, length);
    if (result != CELLOTA_OK)
        return result;
    put_string(&writer, message->topic, message->topic_length);
    if (message->qos)
        put_u16(&writer, message->packet_id);
    cellota_writer_bytes(&writer, message->payload, message->payload_length);
    return CELLOTA_OK;
}

/* SUBSCRIBE and UNSUBSCRIBE: a packet id and one topic filter (with a QoS for SUBSCRIBE). */
static int encode_filter_packet(uint8_t *buffer, size_t size, uint8_t type, uint16_t packet_id,
                                const char *filter, int qos, size_t *length)
{
    size_t filter_length;
    cellota_writer writer;
    int result;
    *length = 0;
    if (qos > 1)
        return CELLOTA_INVALID_ARGUMENT;
    if (!filter || !string_length(filter, &filter_length) || filter_length == 0)
        return CELLOTA_NET_MQTT_BAD_TOPIC;
    result = begin_packet(&writer, buffer, size, (uint8_t)(type << 4 | 0x02),
                          2 + 2 + filter_length + (qos >= 0 ? 1 : 0), length);
    if (result != CELLOTA_OK)
        return result;
    put_u16(&writer, packet_id);
    put_string(&writer, filter, filter_length);
    if (qos >= 0)
        cellota_writer_byte(&writer, (uint8_t)qos);
    return CELLOTA_OK;
}

int cellota_mqtt_encode_subscribe(uint8_t *buffer, size_t size, uint16_t packet_id,
                                  const char *filter, uint8_t qos, size_t *length)
{
    return encode_filter_packet(buffer, size, CELLOTA_MQTT_SUBSCRIBE, packet_id, filter, qos,
                                length);
}

int cellota_mqtt_encode_unsubscribe(uint8_t *buffer, size_t size, uint16_t packet_id,
                                    const char *filter, size_t *length)
{
    return encode_filter_packet(buffer, size, CELLOTA_MQTT_UNSUBSCRIBE, packet_id, filter, -1,
                                length);
}

int cellota_mqtt_encode_control(uint8_t *buffer, size_t size, uint8_t type, uint16_t packet_id,
                                size_t *length)
{
    cellota_writer writer;
    bool with_id = type == CELLOTA_MQTT_PUBACK;
    int result;
    *length = 0;
    if (type != CELLOTA_MQTT_PUBACK && type != CELLOTA_MQTT_PINGREQ &&
        type != CELLOTA_MQTT_DISCONNECT)
        return CELLOTA_INVALID_ARGUMENT;
    result = begin_packet(&writer, buffer, size, (uint8_t)(type << 4), with_id ? 2 : 0, length);
    if (result == CELLOTA_OK && with_id)
        put_u16(&writer, packet_id);
    return result;
}

size_t cellota_mqtt_packet_size(const uint8_t *packet, size_t available)
{
    size_t remaining = 0, index;
    for (index = 1; index < available && index <= REMAINING_LENGTH_BYTES_MAX; index++) {
        remaining |= (size_t)(packet[index] & 0x7F) << (7 * (index - 1));
        if (!(packet[index] & 0x80))
            return 1 + index + remaining;
    }
    return 0;
}

/* --- reading ----------------------------------------------------------------------------- */

enum reader_state { READ_TYPE = 0, READ_LENGTH, READ_BODY };

void cellota_mqtt_reader_init(cellota_mqtt_reader *reader, uint8_t *buffer, size_t size)
{
    memset(reader, 0, sizeof(*reader));
    reader->buffer = buffer;
    reader->size = size;
}

/* The bytes of a packet's body kept in the buffer: all, or the first half when too large. */
static size_t kept_size(const cellota_mqtt_reader *reader)
{
    return reader->remaining <= reader->size ? reader->remaining : reader->size / 2;
}

uint8_t *cellota_mqtt_reader_space(const cellota_mqtt_reader *reader, size_t *wanted)
{
    size_t kept;
    if (reader->state == READ_TYPE) {
        *wanted = 2; /* the type byte and the first length byte are always there */
        return reader->buffer;
    }
    if (reader->state == READ_LENGTH) {
        *wanted = 1;
        return reader->buffer;
    }
    kept = kept_size(reader);
    if (reader->received < kept) {
        *wanted = kept - reader->received;
        return reader->buffer + reader->received;
    }
    /* Dropping the rest of a too-large packet: the second half of the buffer is scratch. */
    *wanted = reader->size - kept;
    if (*wanted > reader->remaining - reader->received)
        *wanted = reader->remaining - reader->received;
    return reader->buffer + kept;
}

static int complete(cellota_mqtt_reader *reader, cellota_mqtt_packet *packet)
{
    packet->type = (uint8_t)(reader->first_byte >> 4);
    packet->flags = (uint8_t)(reader->first_byte & 0x0F);
    packet->body = reader->buffer;
    packet->length = kept_size(reader);
    packet->remaining_length = reader->remaining;
    reader->state = READ_TYPE;
    return packet->length < reader->remaining ? CELLOTA_NET_MQTT_PACKET_TOO_LARGE : CELLOTA_OK;
}

int cellota_mqtt_reader_feed(cellota_mqtt_reader *reader, const uint8_t *data, size_t length,
                             size_t *consumed, cellota_mqtt_packet *packet)
{
    size_t used = 0;
    int result = CELLOTA_IN_PROGRESS;
    while (used < length && result == CELLOTA_IN_PROGRESS && reader->error == CELLOTA_OK) {
        if (reader->state == READ_TYPE) {
            reader->first_byte = data[used++];
            reader->remaining = 0;
            reader->received = 0;
            reader->multiplier = 1;
            reader->state = READ_LENGTH;
        } else if (reader->state == READ_LENGTH) {
            uint8_t digit = data[used++];
            reader->remaining += (uint32_t)(digit & 0x7F) * reader->multiplier;
            if (digit & 0x80) {
                if (reader->multiplier == 128u * 128u * 128u)
                    reader->error = CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH;
                reader->multiplier *= 128;
            } else if (reader->remaining == 0) {
                result = complete(reader, packet);
            } else {
                reader->state = READ_BODY;
            }
        } else {
            size_t kept = kept_size(reader), count = length - used;
            if (count > reader->remaining - reader->received)
                count = reader->remaining - reader->received;
            if (reader->received < kept) {
                if (count > kept - reader->received)
                    count = kept - reader->received;
                memmove(reader->buffer + reader->received, data + used, count);
            }
            used += count;
            reader->received += (uint32_t)count;
            if (reader->received == reader->remaining)
                result = complete(reader, packet);
        }
    }
    if (consumed)
        *consumed = used;
    return reader->error != CELLOTA_OK ? reader->error : result;
}

/* --- decoding ---------------------------------------------------------------------------- */

static uint16_t get_u16(const uint8_t *data)
{
    return (uint16_t)(data[0] << 8 | data[1]);
}

int cellota_mqtt_decode_publish(const cellota_mqtt_packet *packet, cellota_mqtt_message *message)
{
    size_t offset;
    if (packet->type != CELLOTA_MQTT_PUBLISH || packet->length < 2)
        return CELLOTA_NET_MQTT_BAD_PACKET;
    memset(message, 0, sizeof(*message));
    message->qos = (uint8_t)((packet->flags >> 1) & 0x03);
    message->retain = (packet->flags & 0x01) != 0;
    message->duplicate = (packet->flags & 0x08) != 0;
    if (message->qos == 3 || (message->qos == 0 && message->duplicate))
        return CELLOTA_NET_MQTT_BAD_PACKET;
    if (message->qos == 2)
        return CELLOTA_NET_MQTT_UNEXPECTED_PACKET;
    message->topic_length = get_u16(packet->body);
    message->topic = (const char *)packet->body + 2;
    offset = 2 + message->topic_length + (message->qos ? 2 : 0);
    if (message->topic_length == 0 || offset > packet->length ||
        memchr(message->topic, '\0', message->topic_length) ||
        memchr(message->topic, '+', message->topic_length) ||
        memchr(message->topic, '#', message->topic_length))
        return CELLOTA_NET_MQTT_BAD_PACKET;
    if (message->qos) {
        message->packet_id = get_u16(packet->body + offset - 2);
        if (message->packet_id == 0)
            return CELLOTA_NET_MQTT_BAD_PACKET;
    }
    message->payload = packet->body + offset;
    message->payload_length = packet->length - offset;
    return CELLOTA_OK;
}

int cellota_mqtt_decode_connack(const cellota_mqtt_packet *packet, bool *session_present,
                                uint8_t *return_code)
{
    if (packet->type != CELLOTA_MQTT_CONNACK || packet->flags != 0 ||
        packet->remaining_length != 2 || (packet->body[0] & 0xFE) != 0)
        return CELLOTA_NET_MQTT_BAD_PACKET;
    *session_present = packet->body[0] & 0x01;
    *return_code = packet->body[1];
    return CELLOTA_OK;
}

int cellota_mqtt_decode_suback(const cellota_mqtt_packet *packet, uint16_t *packet_id,
                               uint8_t *return_code)
{
    size_t index;
    if (packet->type != CELLOTA_MQTT_SUBACK || packet->flags != 0 || packet->length < 3 ||
        packet->length != packet->remaining_length)
        return CELLOTA_NET_MQTT_BAD_PACKET;
    for (index = 2; index < packet->length; index++) {
        if (packet->body[index] > 2 && packet->body[index] != 0x80)
            return CELLOTA_NET_MQTT_BAD_PACKET;
    }
    *packet_id = get_u16(packet->body);
    *return_code = packet->body[2];
    return CELLOTA_OK;
}

int cellota_mqtt_decode_ack(const cellota_mqtt_packet *packet, uint16_t *packet_id)
{
    if (packet->flags != 0)
        return CELLOTA_NET_MQTT_BAD_PACKET;
    if (packet->type == CELLOTA_MQTT_PINGRESP)
        return packet->remaining_length == 0 ? CELLOTA_OK : CELLOTA_NET_MQTT_BAD_PACKET;
    if ((packet->type != CELLOTA_MQTT_PUBACK && packet->type != CELLOTA_MQTT_UNSUBACK) ||
        packet->remaining_length != 2)
        return CELLOTA_NET_MQTT_BAD_PACKET;
    if (packet_id)
        *packet_id = get_u16(packet->body);
    return CELLOTA_OK;
}
