/*
 * The MQTT 3.1.1 client: keeps one connection to a broker over a cellota_socket, as a state
 * machine the caller ticks with the time. It connects (CONNECT with client id, keep-alive,
 * clean-session flag, optional user name and password, optional last will), reports CONNACK
 * refusals as named errors, subscribes and unsubscribes, publishes and receives at QoS 0 and 1,
 * pings to keep the connection alive and to notice a dead one, and when the connection fails it
 * reconnects with exponential back-off and jitter -- forever, until stopped.
 *
 *   STOPPED --start--> OPENING --> SENDING_CONNECT --> WAITING_CONNACK --> CONNECTED
 *      ^                  ^                                                   |
 *      |                  \-- WAITING (back-off) <-- CLOSING <--(any failure)--/
 *      \--------------------------- stop (DISCONNECT, no will) ---------------/
 *
 * Memory: the caller owns both buffers.
 *   receive_buffer: one incoming packet at a time (its size is the largest message accepted;
 *     a larger PUBLISH is dropped and reported, never truncated) and, before each CONNACK, the
 *     CONNECT packet being sent (so it must hold that too).
 *   send_buffer: outgoing packets waiting for the socket, and every outgoing QoS 1 PUBLISH until
 *     its PUBACK arrives. On reconnect those are sent again with DUP set, in order, until acked
 *     (also after a clean-session reconnect: a status message must arrive at least once).
 *     A few bytes stay reserved so acknowledgements and pings always fit.
 *
 * Delivery: an incoming QoS 1 message is acknowledged after on_event returns for it. QoS 1 may
 * deliver a message twice (message.duplicate is set when the broker says it may have sent it
 * before); the application makes handling idempotent -- cellota's update requests are.
 *
 * Every callback runs inside cellota_mqtt_poll; it may call publish, subscribe, unsubscribe and
 * stop, but not init.
 */
#ifndef CELLOTA_NET_MQTT_H
#define CELLOTA_NET_MQTT_H

#include "core/socket.h"
#include "net/mqtt_packet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cellota_mqtt_event_type {
    CELLOTA_MQTT_EVENT_CONNECTED,       /* session_present: the broker kept the old session
                                           (subscriptions); if false, subscribe again */
    CELLOTA_MQTT_EVENT_DISCONNECTED,    /* error: why a connected session ended */
    CELLOTA_MQTT_EVENT_MESSAGE,         /* message: an incoming application message */
    CELLOTA_MQTT_EVENT_MESSAGE_DROPPED, /* error CELLOTA_NET_MQTT_PACKET_TOO_LARGE; message has the
                                           topic, QoS and packet id, payload_length what was kept */
    CELLOTA_MQTT_EVENT_PUBLISHED,       /* packet_id: the broker acknowledged a QoS 1 publish */
    CELLOTA_MQTT_EVENT_SUBSCRIBED,      /* packet_id, granted_qos; or error
                                           CELLOTA_NET_MQTT_SUBSCRIBE_REFUSED */
    CELLOTA_MQTT_EVENT_UNSUBSCRIBED     /* packet_id */
} cellota_mqtt_event_type;

typedef struct cellota_mqtt_event {
    cellota_mqtt_event_type type;
    int error;
    uint16_t packet_id;
    uint8_t granted_qos;
    bool session_present;
    cellota_mqtt_message message; /* pointers valid only during the callback */
} cellota_mqtt_event;

typedef struct cellota_mqtt_config {
    cellota_socket_kind kind;
    const char *host; /* must outlive the client, like every pointer here */
    uint16_t port;
    cellota_mqtt_connect_options connect;
    uint8_t *receive_buffer; /* >= 64 bytes and >= the CONNECT packet */
    size_t receive_size;
    uint8_t *send_buffer; /* >= 64 bytes */
    size_t send_size;
    uint32_t connect_timeout_ms; /* socket open + CONNECT + CONNACK; 0: no limit */
    uint32_t ping_timeout_ms;    /* PINGREQ to PINGRESP */
    uint32_t backoff_min_ms;     /* first retry delay; doubles per failure ... */
    uint32_t backoff_max_ms;     /* ... up to this; each delay is drawn from [delay/2, delay] */
    uint32_t random_seed;        /* for the jitter: differ per device (e.g. a hash of its id) */
    void (*on_event)(void *context, const cellota_mqtt_event *event); /* NULL: none */
    void *context;
} cellota_mqtt_config;

#define CELLOTA_MQTT_CONNECT_TIMEOUT_MS 60000u
#define CELLOTA_MQTT_PING_TIMEOUT_MS 20000u
#define CELLOTA_MQTT_BACKOFF_MIN_MS 2000u
#define CELLOTA_MQTT_BACKOFF_MAX_MS 300000u
#define CELLOTA_MQTT_SEND_RESERVE 8u /* bytes of send_buffer kept for PUBACK and PINGREQ */

typedef struct cellota_mqtt_client {
    /* Private but socket and config. Bytes first, then words, then the large parts: Thumb
     * reaches a byte field in the first 32 bytes, or a word in the first 128, with a 2-byte
     * instruction instead of a 4-byte one. */
    bool packet_pending;
    bool ping_outstanding;
    bool stopping;
    bool ever_connected;
    uint8_t state;
    uint16_t next_packet_id;
    int packet_result;
    size_t queued;                       /* bytes of packets in send_buffer */
    size_t sent;                         /* of which handed to the socket */
    size_t connect_length, connect_sent; /* the CONNECT in receive_buffer */
    uint32_t now, attempt_started, last_sent, last_received, ping_sent, retry_at;
    uint32_t backoff_ms, random_state;
    int last_error;
    const cellota_socket *socket;
    cellota_mqtt_config config;
    cellota_mqtt_reader reader;
    cellota_mqtt_packet packet; /* a received packet waiting for room for its PUBACK */
} cellota_mqtt_client;

/* Fills the timeouts and back-off of `config` with the defaults above (the rest is zeroed). */
void cellota_mqtt_config_default(cellota_mqtt_config *config);

/* Binds a client to a socket and its configuration (copied; its pointers are kept). CELLOTA_OK,
 * or CELLOTA_INVALID_ARGUMENT for NULL pointers, buffers under 64 bytes, no host, a zero
 * port, backoff_min_ms 0 or over backoff_max_ms. Starts STOPPED. */
int cellota_mqtt_init(cellota_mqtt_client *client, const cellota_socket *socket,
                      const cellota_mqtt_config *config);

/* Starts connecting now (and reconnecting after failures). CELLOTA_IN_PROGRESS, or CELLOTA_OK
 * when already started. */
int cellota_mqtt_start(cellota_mqtt_client *client, uint32_t now_ms);

/*
 * Advances the client; never waits. Returns CELLOTA_OK while connected; otherwise
 * CELLOTA_NET_MQTT_NOT_CONNECTED when stopped, CELLOTA_IN_PROGRESS while connecting with no
 * failure yet, or the error that ended the last attempt or connection while it retries:
 * a socket error, CELLOTA_NET_MQTT_CONNECT_TIMEOUT, CELLOTA_NET_MQTT_PING_TIMEOUT, a CONNACK
 * refusal (CELLOTA_NET_MQTT_REFUSED_*), CELLOTA_NET_MQTT_BAD_PACKET,
 * CELLOTA_NET_MQTT_UNEXPECTED_PACKET, CELLOTA_NET_MQTT_BAD_REMAINING_LENGTH,
 * CELLOTA_NET_MQTT_PACKET_TOO_LARGE (a too-large packet that could not be skipped cleanly), or
 * CELLOTA_BUFFER_TOO_SMALL (the CONNECT packet does not fit receive_buffer).
 */
int cellota_mqtt_poll(cellota_mqtt_client *client, uint32_t now_ms);

/*
 * Queues a PUBLISH of `length` bytes of `payload` to `topic` (NUL-terminated) at QoS 0 or 1.
 * QoS 1 may be queued while disconnected: it goes out after the next CONNACK. *packet_id (may
 * be NULL) gets the id a later PUBLISHED event carries (0 for QoS 0). Returns CELLOTA_OK, or:
 *   CELLOTA_NET_MQTT_NOT_CONNECTED   QoS 0 while not connected;
 *   CELLOTA_BUSY                     the send buffer is too full now (retry after a poll);
 *   CELLOTA_NET_MQTT_MESSAGE_TOO_LARGE  the packet could never fit the send buffer;
 *   CELLOTA_NET_MQTT_BAD_TOPIC, CELLOTA_INVALID_ARGUMENT (QoS over 1).
 */
int cellota_mqtt_publish(cellota_mqtt_client *client, const char *topic, const uint8_t *payload,
                         size_t length, uint8_t qos, bool retain, uint16_t *packet_id);

/* Queues a SUBSCRIBE to one topic filter at QoS 0 or 1 (the SUBSCRIBED event answers it), or an
 * UNSUBSCRIBE. CELLOTA_OK, CELLOTA_NET_MQTT_NOT_CONNECTED, CELLOTA_BUSY,
 * CELLOTA_NET_MQTT_MESSAGE_TOO_LARGE, CELLOTA_NET_MQTT_BAD_TOPIC, CELLOTA_INVALID_ARGUMENT. */
int cellota_mqtt_subscribe(cellota_mqtt_client *client, const char *filter, uint8_t qos,
                           uint16_t *packet_id);
int cellota_mqtt_unsubscribe(cellota_mqtt_client *client, const char *filter, uint16_t *packet_id);

/* Ends the session cleanly: sends DISCONNECT when connected (so the broker does not publish
 * the will), closes the socket and stays STOPPED. Unacknowledged QoS 1 messages are kept and
 * go out after the next start. Always CELLOTA_OK; poll until it returns NOT_CONNECTED. */
int cellota_mqtt_stop(cellota_mqtt_client *client);

/* Outgoing QoS 1 messages not yet acknowledged by the broker. */
size_t cellota_mqtt_unacknowledged(const cellota_mqtt_client *client);

#endif
