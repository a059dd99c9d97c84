/*
 * cellota-fleet without a server: a publisher that plays the server's MQTT part for a test. It
 * watches cellota/+/online and, as each device of the fleet says "online", publishes one update
 * request (an ota.json made by `cellota pack`) to its cellota/<id>/update with QoS 1, as
 * cellota-server does for a campaign. It is a separate MQTT client (libmosquitto), so
 * what the devices receive went through the broker like any request.
 *
 * Driven from the fleet's loop without blocking: request_publisher_poll() does its network work
 * and returns at once.
 */
#ifndef CELLOTA_HOST_FLEET_REQUEST_PUBLISHER_H
#define CELLOTA_HOST_FLEET_REQUEST_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mosquitto;

typedef struct request_publisher {
    struct mosquitto *client;
    char *payload;
    size_t payload_length;
    const char *prefix; /* device ids: prefix + 5 digits (first .. first + devices - 1) */
    uint32_t first, devices;
    uint8_t *online, *sent; /* by device index */
    uint32_t *due;           /* indices online and not sent yet, in order */
    uint32_t due_count, due_head;
    uint32_t online_count;
    uint32_t published;
    bool connected, subscribed;
} request_publisher;

/* Connects to the broker (host, port) with the request in `payload` (copied). 0, or -1 with
 * the reason on stderr. */
int request_publisher_start(request_publisher *publisher, const char *host, uint16_t port,
                            const char *payload, size_t length, const char *prefix,
                            uint32_t first, uint32_t devices);

/* Network work, and the requests of devices that came online. -1 when the connection is lost,
 * else 0. */
int request_publisher_poll(request_publisher *publisher);

/* Sends the request to every device not sent one yet, online or not (the broker keeps it for a
 * device with a session): for devices whose "online" the publisher missed. */
void request_publisher_send_rest(request_publisher *publisher);

/* Sends the request again to device `index` (of this publisher's range), as a server retries a
 * device that did not start (a request sent before its subscription existed went nowhere). */
void request_publisher_resend(request_publisher *publisher, uint32_t index);

void request_publisher_stop(request_publisher *publisher);

#endif
