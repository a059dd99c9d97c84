/*
 * The server's MQTT link (libmosquitto on its own thread): subscribes cellota/+/status and
 * cellota/+/online at QoS 1 and hands each message to the campaign engine; publishes update
 * requests on cellota/<id>/update at QoS 1 and tells the engine when the broker acknowledged
 * one (only then is the device "notified"). Reconnects and subscribes again after the broker
 * goes away; a request whose acknowledgement was lost is published again when its lease ends.
 */
#ifndef CELLOTA_SERVER_MQTT_H
#define CELLOTA_SERVER_MQTT_H

#include "server.h"

#include <stdbool.h>

typedef struct mqtt_link mqtt_link;

/* Connects (in the background: a broker that is not up yet is retried). 0 or -1. */
int mqtt_link_start(server *self, const char *host, int port, mqtt_link **link);
void mqtt_link_stop(mqtt_link *link);
bool mqtt_link_connected(mqtt_link *link);

/* Parses a status message (docs/agent.md). false for one that is not a JSON object with a
 * string "state". */
bool mqtt_parse_status(const char *payload, device_status *status);

/* "cellota/<id>/<kind>": the id into `device` (NUL-terminated); false when the topic is not of
 * that form or the id is not a valid name (server_valid_name). */
bool mqtt_topic_device(const char *topic, const char *kind, char device[STORAGE_ID_SIZE]);

#endif
