/* The test-mode request publisher of cellota-fleet; see request_publisher.h. */
#include "request_publisher.h"

#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Publishes at most this many requests per poll: the fleet's loop keeps turning meanwhile. */
#define PUBLISH_BATCH 2000

static void on_connect(struct mosquitto *client, void *user, int result)
{
    request_publisher *publisher = user;
    if (result != 0) {
        fprintf(stderr, "cellota-fleet: publisher: the broker refused the connection: %s\n",
                mosquitto_connack_string(result));
        return;
    }
    publisher->connected = true;
    /* QoS 0: a burst of 50,000 "online" messages must not wait in the broker's per-client
     * queue of QoS 1 messages (max_queued_messages), which drops what does not fit. */
    mosquitto_subscribe(client, NULL, "cellota/+/online", 0);
}

static void on_subscribe(struct mosquitto *client, void *user, int mid, int count,
                         const int *granted)
{
    (void)client, (void)mid, (void)count, (void)granted;
    ((request_publisher *)user)->subscribed = true;
}

/* Puts a device's request in line (twice the fleet's size: resends come on top). */
static void queue(request_publisher *publisher, uint32_t index)
{
    uint32_t capacity = publisher->devices * 2;
    if (publisher->due_count == capacity)
        return;
    publisher->due[(publisher->due_head + publisher->due_count++) % capacity] = index;
}

/* cellota/<prefix><index>/online: "online" or "offline" */
static void on_message(struct mosquitto *client, void *user,
                       const struct mosquitto_message *message)
{
    request_publisher *publisher = user;
    size_t prefix_length = strlen(publisher->prefix);
    const char *id;
    char *end;
    unsigned long index;
    bool online;
    (void)client;
    if (strncmp(message->topic, "cellota/", 8) != 0)
        return;
    id = message->topic + 8;
    if (strncmp(id, publisher->prefix, prefix_length) != 0)
        return;
    index = strtoul(id + prefix_length, &end, 10);
    if (end == id + prefix_length || strcmp(end, "/online") != 0 || index < publisher->first ||
        index - publisher->first >= publisher->devices)
        return;
    index -= publisher->first;
    online = message->payloadlen == 6 && memcmp(message->payload, "online", 6) == 0;
    if (online && !publisher->online[index])
        publisher->online_count++;
    else if (!online && publisher->online[index])
        publisher->online_count--;
    publisher->online[index] = online;
    if (online && !publisher->sent[index]) {
        publisher->sent[index] = 1;
        queue(publisher, (uint32_t)index);
    }
}

void request_publisher_resend(request_publisher *publisher, uint32_t index)
{
    if (index >= publisher->first && index - publisher->first < publisher->devices)
        queue(publisher, index - publisher->first);
}

void request_publisher_send_rest(request_publisher *publisher)
{
    uint32_t index;
    for (index = 0; index < publisher->devices; index++) {
        if (publisher->sent[index])
            continue;
        publisher->sent[index] = 1;
        queue(publisher, index);
    }
}

int request_publisher_start(request_publisher *publisher, const char *host, uint16_t port,
                            const char *payload, size_t length, const char *prefix,
                            uint32_t first, uint32_t devices)
{
    char client_id[64];
    int result;
    memset(publisher, 0, sizeof(*publisher));
    mosquitto_lib_init();
    publisher->prefix = prefix;
    publisher->first = first;
    publisher->devices = devices;
    publisher->online = calloc(devices ? devices : 1, 1);
    publisher->sent = calloc(devices ? devices : 1, 1);
    publisher->due = calloc(devices ? 2 * (size_t)devices : 1, sizeof(*publisher->due));
    publisher->payload = malloc(length + 1);
    snprintf(client_id, sizeof(client_id), "cellota-fleet-publisher-%ld", (long)getpid());
    publisher->client = mosquitto_new(client_id, true, publisher);
    if (!publisher->online || !publisher->sent || !publisher->due || !publisher->payload ||
        !publisher->client) {
        fprintf(stderr, "cellota-fleet: publisher: out of memory\n");
        request_publisher_stop(publisher);
        return -1;
    }
    memcpy(publisher->payload, payload, length);
    publisher->payload_length = length;
    /* Every request in flight at once: the broker, not this client, sets the pace. */
    mosquitto_max_inflight_messages_set(publisher->client, 0);
    mosquitto_connect_callback_set(publisher->client, on_connect);
    mosquitto_subscribe_callback_set(publisher->client, on_subscribe);
    mosquitto_message_callback_set(publisher->client, on_message);
    result = mosquitto_connect(publisher->client, host, port, 60);
    if (result != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "cellota-fleet: publisher: cannot connect to %s:%u: %s\n", host,
                (unsigned)port, mosquitto_strerror(result));
        request_publisher_stop(publisher);
        return -1;
    }
    return 0;
}

static int lost(int result)
{
    fprintf(stderr, "cellota-fleet: publisher: %s\n", mosquitto_strerror(result));
    return -1;
}

int request_publisher_poll(request_publisher *publisher)
{
    /* Not mosquitto_loop: it uses select(), which cannot hold the descriptor numbers of a
     * process with 100,000 sockets. */
    struct pollfd descriptor = {mosquitto_socket(publisher->client), POLLIN, 0};
    int count = 0, result;
    if (descriptor.fd < 0)
        return -1;
    /* everything the broker has sent so far (one packet a read), then what is to be written */
    while (count++ < 10000 && poll(&descriptor, 1, 0) > 0 &&
           (descriptor.revents & (POLLIN | POLLHUP | POLLERR))) {
        if ((result = mosquitto_loop_read(publisher->client, 1)) != MOSQ_ERR_SUCCESS)
            return lost(result);
        descriptor.events = POLLIN;
    }
    count = 0;
    if (mosquitto_want_write(publisher->client) &&
        (result = mosquitto_loop_write(publisher->client, 1)) != MOSQ_ERR_SUCCESS)
        return lost(result);
    if ((result = mosquitto_loop_misc(publisher->client)) != MOSQ_ERR_SUCCESS)
        return lost(result);
    while (publisher->due_count && count++ < PUBLISH_BATCH) {
        char topic[96];
        uint32_t index = publisher->due[publisher->due_head];
        snprintf(topic, sizeof(topic), "cellota/%s%05u/update", publisher->prefix,
                 (unsigned)(publisher->first + index));
        if (mosquitto_publish(publisher->client, NULL, topic, (int)publisher->payload_length,
                              publisher->payload, 1, false) != MOSQ_ERR_SUCCESS)
            break;
        publisher->due_head = (publisher->due_head + 1) % (publisher->devices * 2);
        publisher->due_count--;
        if (publisher->published < publisher->devices)
            publisher->published++;
    }
    return 0;
}

void request_publisher_stop(request_publisher *publisher)
{
    if (publisher->client) {
        mosquitto_disconnect(publisher->client);
        mosquitto_destroy(publisher->client);
    }
    free(publisher->online);
    free(publisher->sent);
    free(publisher->due);
    free(publisher->payload);
    memset(publisher, 0, sizeof(*publisher));
    mosquitto_lib_cleanup();
}
