/*
 * MQTT 3.1.1 packets: encoders that write a packet into a caller's buffer, an incremental reader
 * that collects one incoming packet at a time from pieces of any size into a caller's buffer,
 * and decoders that check a collected packet and split it into fields. No state beyond the
 * reader's; the client (mqtt.h) builds the protocol on these.
 *
 * Bounds: the remaining-length field has at most 4 bytes (a 5th is
 * CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH); an incoming packet larger than the reader's buffer is
 * not truncated silently: the reader keeps its first half-buffer (enough for a PUBLISH's topic
 * and packet id, so a QoS 1 message can still be acknowledged), drops the rest as it arrives,
 * stays in step with the stream, and reports CELLOTA_NET_MQTT_PACKET_TOO_LARGE.
 * Only QoS 0 and 1 are supported; QoS 2 packets from a broker are refused.
 */
#ifndef CELLOTA_NET_MQTT_PACKET_H
#define CELLOTA_NET_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Control packet types (the high nibble of the first byte). */
enum {
    CELLOTA_MQTT_CONNECT = 1,
    CELLOTA_MQTT_CONNACK = 2,
    CELLOTA_MQTT_PUBLISH = 3,
    CELLOTA_MQTT_PUBACK = 4,
    CELLOTA_MQTT_PUBREC = 5,
    CELLOTA_MQTT_PUBREL = 6,
    CELLOTA_MQTT_PUBCOMP = 7,
    CELLOTA_MQTT_SUBSCRIBE = 8,
    CELLOTA_MQTT_SUBACK = 9,
    CELLOTA_MQTT_UNSUBSCRIBE = 10,
    CELLOTA_MQTT_UNSUBACK = 11,
    CELLOTA_MQTT_PINGREQ = 12,
    CELLOTA_MQTT_PINGRESP = 13,
    CELLOTA_MQTT_DISCONNECT = 14
};

typedef struct cellota_mqtt_will {
    const char *topic;      /* NUL-terminated, not empty */
    const uint8_t *payload; /* may be NULL when payload_length is 0 */
    uint16_t payload_length;
    uint8_t qos; /* 0-2 (the broker publishes it; the device never sees it) */
    bool retain;
} cellota_mqtt_will;

typedef struct cellota_mqtt_connect_options {
    const char *client_id; /* NUL-terminated; "" lets the broker pick one (needs clean_session) */
    const char *username;  /* NULL: none */
    const char *password;  /* NULL: none; MQTT 3.1.1 allows a password only with a user name */
    uint16_t keepalive_s;  /* 0: no keep-alive */
    bool clean_session;
    const cellota_mqtt_will *will; /* NULL: none */
} cellota_mqtt_connect_options;

/* An application message, incoming (pointers into the reader's buffer) or outgoing. */
typedef struct cellota_mqtt_message {
    const char *topic; /* not NUL-terminated */
    size_t topic_length;
    const uint8_t *payload;
    size_t payload_length;
    uint8_t qos; /* 0 or 1 */
    bool retain;
    bool duplicate;     /* DUP: the broker may have delivered this message before */
    uint16_t packet_id; /* QoS 1 only */
} cellota_mqtt_message;

/*
 * Encoders. Each writes one packet at `buffer` and sets *length to the packet's size -- also when
 * it does not fit, so a caller can tell "not now" from "never". Returns CELLOTA_OK, or:
 *   CELLOTA_BUFFER_TOO_SMALL    the packet needs *length bytes and `size` is less (nothing
 * written); CELLOTA_NET_MQTT_BAD_TOPIC  an empty topic, one over 65535 bytes, or (publish) with + #
 * or NUL; CELLOTA_INVALID_ARGUMENT    QoS over 1 (2 for a will), a password without a user name, an
 * empty client id without clean_session, a string over 65535 bytes.
 */
int cellota_mqtt_encode_connect(uint8_t *buffer, size_t size,
                                const cellota_mqtt_connect_options *options, size_t *length);
int cellota_mqtt_encode_publish(uint8_t *buffer, size_t size, const cellota_mqtt_message *message,
                                size_t *length);
int cellota_mqtt_encode_subscribe(uint8_t *buffer, size_t size, uint16_t packet_id,
                                  const char *filter, uint8_t qos, size_t *length);
int cellota_mqtt_encode_unsubscribe(uint8_t *buffer, size_t size, uint16_t packet_id,
                                    const char *filter, size_t *length);
/* PUBACK (with a packet id), PINGREQ or DISCONNECT (without). */
int cellota_mqtt_encode_control(uint8_t *buffer, size_t size, uint8_t type, uint16_t packet_id,
                                size_t *length);

/* Bytes of a whole packet that starts at `packet` (type byte, length field, rest); 0 when its
 * length field is incomplete or malformed within `available` bytes. */
size_t cellota_mqtt_packet_size(const uint8_t *packet, size_t available);

/* One packet as collected by the reader. */
typedef struct cellota_mqtt_packet {
    uint8_t type;        /* CELLOTA_MQTT_* */
    uint8_t flags;       /* the low nibble of the first byte */
    const uint8_t *body; /* variable header and payload, in the reader's buffer */
    size_t length;       /* bytes at body: remaining_length, or fewer when too large */
    uint32_t remaining_length;
} cellota_mqtt_packet;

typedef struct cellota_mqtt_reader {
    uint8_t *buffer;
    size_t size;
    uint32_t remaining;  /* the packet's remaining length */
    uint32_t received;   /* body bytes so far */
    uint32_t multiplier; /* of the next remaining-length byte */
    uint8_t first_byte;
    uint8_t state;
    int error; /* sticky: CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH */
} cellota_mqtt_reader;

/* Starts reading packets into `buffer` (at least 16 bytes); its size is the packet limit. */
void cellota_mqtt_reader_init(cellota_mqtt_reader *reader, uint8_t *buffer, size_t size);

/*
 * Consumes bytes until a packet is complete. `data` may be the space cellota_mqtt_reader_space
 * gave. Returns CELLOTA_IN_PROGRESS (all used, no packet yet); CELLOTA_OK with *packet filled
 * and *consumed bytes used -- feed the rest afterwards; *packet stays valid until the next feed;
 * CELLOTA_NET_MQTT_PACKET_TOO_LARGE likewise, with packet->length < remaining_length (the
 * packet's start; the rest was dropped); or CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH, after which
 * the stream cannot be followed (sticky until init).
 */
int cellota_mqtt_reader_feed(cellota_mqtt_reader *reader, const uint8_t *data, size_t length,
                             size_t *consumed, cellota_mqtt_packet *packet);

/* Where to receive the next bytes and how many are wanted: never more than the current packet
 * still needs, so receiving straight into it leaves nothing over. */
uint8_t *cellota_mqtt_reader_space(const cellota_mqtt_reader *reader, size_t *wanted);

/*
 * Decoders for packets a client receives. Each checks the fixed-header flags and the length and
 * returns CELLOTA_OK or CELLOTA_NET_MQTT_BAD_PACKET. decode_publish also refuses QoS 2 and 3
 * (CELLOTA_NET_MQTT_UNEXPECTED_PACKET for 2, which a QoS 0/1 client never subscribes to) and
 * works on a too-large packet's kept start when it holds the topic and packet id (the payload
 * is then partial).
 */
int cellota_mqtt_decode_publish(const cellota_mqtt_packet *packet, cellota_mqtt_message *message);
int cellota_mqtt_decode_connack(const cellota_mqtt_packet *packet, bool *session_present,
                                uint8_t *return_code);
/* SUBACK: the packet id and the first return code (0-2 granted QoS, 0x80 failure). */
int cellota_mqtt_decode_suback(const cellota_mqtt_packet *packet, uint16_t *packet_id,
                               uint8_t *return_code);
/* PUBACK and UNSUBACK: the packet id. PINGRESP: no content (packet_id may be NULL). */
int cellota_mqtt_decode_ack(const cellota_mqtt_packet *packet, uint16_t *packet_id);

#endif
