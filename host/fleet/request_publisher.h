/*
 * cellota-fleet without a server: a publisher that plays the server's MQTT part for a test. It
 * watches cellota/+/online and, once every device of the fleet has said "online", publishes one
 * update request (an ota.json made by `cellota pack`) to each device's cellota/<id>/update with
 * QoS 1, as cellota-server does for a campaign. It is a separate MQTT client (libmosquitto), so
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
    const char *prefix; /* device ids: prefix + 5 digits */
    uint32_t devices;
    uint8_t *online; /* by device index */
    uint32_t online_count;
    uint32_t published;
    bool connected, subscribed;
} request_publisher;

/* Connects to the broker (host, port) with the request in `payload` (copied). 0, or -1 with
 * the reason on stderr. */
int request_publisher_start(request_publisher *publisher, const char *host, uint16_t port,
                            const char *payload, size_t length, const char *prefix,
                            uint32_t devices);

/* Network work; publishes once every device is online. -1 when the connection is lost for
 * good, else 0. */
int request_publisher_poll(request_publisher *publisher);

void request_publisher_stop(request_publisher *publisher);

#endif
