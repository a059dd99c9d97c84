/* The MQTT link (mqtt.h). */
#include "mqtt.h"

#include "campaigns.h"

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Requests handed to libmosquitto and not yet acknowledged, by message id (16 bits). At most
 * IN_FLIGHT_MAX at a time, so a message id is not reused while its request is in flight. */
#define IN_FLIGHT_MAX 32768
typedef struct pending_publish {
    int64_t campaign;
    char device[STORAGE_ID_SIZE];
} pending_publish;

/* Device messages wait here for the recorder thread, which writes them in batches; the
 * network thread only parses, so the broker's queue for this client drains at once. */
#define EVENTS_MAX 100000 /* beyond it the network thread waits: back-pressure to the broker */
#define BATCH_MAX 512

struct mqtt_link {
    server *self;
    struct mosquitto *client;
    pthread_mutex_t lock;
    bool connected;
    pending_publish pending[65536];
    size_t in_flight;
    pthread_mutex_t events_lock;
    pthread_cond_t events_ready, events_room;
    campaign_event *events;
    size_t event_count, event_capacity;
    bool stopping;
    pthread_t recorder;
};

static void queue_event(mqtt_link *link, const campaign_event *event)
{
    pthread_mutex_lock(&link->events_lock);
    while (link->event_count >= EVENTS_MAX && !link->stopping)
        pthread_cond_wait(&link->events_room, &link->events_lock);
    if (link->event_count == link->event_capacity) {
        size_t capacity = link->event_capacity ? link->event_capacity * 2 : 256;
        campaign_event *grown = realloc(link->events, capacity * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&link->events_lock);
            free(event->raw);
            return;
        }
        link->events = grown;
        link->event_capacity = capacity;
    }
    link->events[link->event_count++] = *event;
    pthread_cond_signal(&link->events_ready);
    pthread_mutex_unlock(&link->events_lock);
}

/* The recorder: takes what is queued (at most BATCH_MAX at a time) and records it in order. */
static void *record_events(void *context)
{
    mqtt_link *link = context;
    campaign_event *batch = malloc(BATCH_MAX * sizeof(*batch));
    if (!batch)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&link->events_lock);
        while (link->event_count == 0 && !link->stopping)
            pthread_cond_wait(&link->events_ready, &link->events_lock);
        if (link->event_count == 0 && link->stopping) {
            pthread_mutex_unlock(&link->events_lock);
            break;
        }
        size_t count = link->event_count < BATCH_MAX ? link->event_count : BATCH_MAX;
        memcpy(batch, link->events, count * sizeof(*batch));
        memmove(link->events, link->events + count, (link->event_count - count) * sizeof(*batch));
        link->event_count -= count;
        pthread_cond_broadcast(&link->events_room);
        pthread_mutex_unlock(&link->events_lock);
        campaign_record_batch(link->self, batch, count);
        for (size_t i = 0; i < count; i++)
            free(batch[i].raw);
    }
    free(batch);
    return NULL;
}

static void copy_string(cJSON *object, const char *name, char *target, size_t size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    snprintf(target, size, "%s", cJSON_IsString(item) ? item->valuestring : "");
}

static int number_of(cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsNumber(item) ? item->valueint : 0;
}

bool mqtt_parse_status(const char *payload, device_status *status)
{
    cJSON *object = cJSON_Parse(payload);
    memset(status, 0, sizeof(*status));
    if (!cJSON_IsObject(object) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(object, "state"))) {
        cJSON_Delete(object);
        return false;
    }
    copy_string(object, "state", status->state, sizeof(status->state));
    copy_string(object, "version", status->version, sizeof(status->version));
    copy_string(object, "target", status->target, sizeof(status->target));
    copy_string(object, "error_name", status->error_name, sizeof(status->error_name));
    copy_string(object, "message", status->message, sizeof(status->message));
    copy_string(object, "model", status->model, sizeof(status->model));
    copy_string(object, "campaign", status->campaign, sizeof(status->campaign));
    status->error = number_of(object, "error");
    status->progress = number_of(object, "progress");
    cJSON_Delete(object);
    return true;
}

bool mqtt_topic_device(const char *topic, const char *kind, char device[STORAGE_ID_SIZE])
{
    const char *start = topic + 8, *slash;
    if (strncmp(topic, "cellota/", 8) != 0 || !(slash = strchr(start, '/')) || slash == start ||
        strcmp(slash + 1, kind) != 0 || (size_t)(slash - start) >= STORAGE_ID_SIZE)
        return false;
    memcpy(device, start, (size_t)(slash - start));
    device[slash - start] = '\0';
    /* Any byte but '/' can stand in a topic level; the id goes on into logs, URLs and LIKE
     * patterns like one that came over HTTP, so it must be as safe (server_valid_name). */
    return server_valid_name(device);
}

static void on_message(struct mosquitto *client, void *context,
                       const struct mosquitto_message *message)
{
    mqtt_link *link = context;
    char device[STORAGE_ID_SIZE];
    char *payload;
    (void)client;
    if (message->payloadlen <= 0 || message->payloadlen > 8192)
        return;
    payload = malloc((size_t)message->payloadlen + 1);
    if (!payload)
        return;
    memcpy(payload, message->payload, (size_t)message->payloadlen);
    payload[message->payloadlen] = '\0';
    campaign_event event;
    memset(&event, 0, sizeof(event));
    bool status = mqtt_topic_device(message->topic, "status", device);
    if ((status || mqtt_topic_device(message->topic, "online", device)) &&
        !campaign_records_device(link->self, device)) {
        free(payload); /* another server on the database records this device */
        return;
    }
    if (status) {
        if (!mqtt_parse_status(payload, &event.status)) {
            fprintf(stderr, "cellota-server: device %s: a status that is not JSON, ignored\n",
                    device);
            free(payload);
            return;
        }
        event.kind = CAMPAIGN_EVENT_STATUS;
        event.raw = payload; /* the recorder frees it */
    } else if (mqtt_topic_device(message->topic, "online", device)) {
        event.kind = CAMPAIGN_EVENT_ONLINE;
        event.online = strcmp(payload, "online") == 0;
        free(payload);
    } else {
        free(payload);
        return;
    }
    snprintf(event.device, sizeof(event.device), "%s", device);
    queue_event(link, &event);
}

static char *const topics[] = {"cellota/+/status", "cellota/+/online"};

/* Subscribing again to a topic one is subscribed to has the broker send its retained messages
 * again: every device's newest status, of which this server records its share. */
static void resync(void *context)
{
    mqtt_link *link = context;
    if (mosquitto_subscribe_multiple(link->client, NULL, 2, topics, 1, 0, NULL) == MOSQ_ERR_SUCCESS)
        printf("mqtt: subscribed again: every device's retained status read again\n");
    fflush(stdout);
}

static void on_connect(struct mosquitto *client, void *context, int result)
{
    mqtt_link *link = context;
    if (result != 0) {
        fprintf(stderr, "cellota-server: mqtt: the broker refused the connection: %s\n",
                mosquitto_connack_string(result));
        return;
    }
    pthread_mutex_lock(&link->lock);
    link->connected = true;
    pthread_mutex_unlock(&link->lock);
    if (mosquitto_subscribe_multiple(client, NULL, 2, (char *const *)topics, 1, 0, NULL) !=
        MOSQ_ERR_SUCCESS)
        fprintf(stderr, "cellota-server: mqtt: cannot subscribe\n");
    printf("mqtt: connected, subscribed to cellota/+/status and cellota/+/online\n");
    fflush(stdout);
}

static void on_disconnect(struct mosquitto *client, void *context, int result)
{
    mqtt_link *link = context;
    (void)client;
    pthread_mutex_lock(&link->lock);
    link->connected = false;
    pthread_mutex_unlock(&link->lock);
    if (result != 0) {
        printf("mqtt: connection lost; reconnecting\n");
        fflush(stdout);
    }
}

/* The PUBACK goes to the recorder with the statuses: recorded in their batches, in order. */
static void on_publish(struct mosquitto *client, void *context, int mid)
{
    mqtt_link *link = context;
    campaign_event event;
    (void)client;
    memset(&event, 0, sizeof(event));
    pthread_mutex_lock(&link->lock);
    pending_publish *done = &link->pending[mid & 0xFFFF];
    if (done->campaign > 0) {
        event.kind = CAMPAIGN_EVENT_PUBLISHED;
        event.campaign = done->campaign;
        snprintf(event.device, sizeof(event.device), "%s", done->device);
        done->campaign = 0;
        link->in_flight--;
    }
    pthread_mutex_unlock(&link->lock);
    if (event.campaign > 0)
        queue_event(link, &event);
}

static bool publish_request(void *context, int64_t campaign, const char *device,
                            const char *request)
{
    mqtt_link *link = context;
    char topic[STORAGE_ID_SIZE + 24];
    int mid = 0, result = MOSQ_ERR_NO_CONN;
    bool crowded;
    snprintf(topic, sizeof(topic), "cellota/%s/update", device);
    /* The lock spans the call, so on_publish cannot look for the id before it is recorded. */
    pthread_mutex_lock(&link->lock);
    crowded = link->in_flight >= IN_FLIGHT_MAX;
    if (!crowded && link->connected)
        result =
            mosquitto_publish(link->client, &mid, topic, (int)strlen(request), request, 1, false);
    if (result == MOSQ_ERR_SUCCESS) {
        pending_publish *slot = &link->pending[mid & 0xFFFF];
        if (slot->campaign == 0)
            link->in_flight++;
        /* else an older request with this id was never acknowledged: its lease ends when its
         * renewals stop (CAMPAIGN_IN_FLIGHT_MAX_S) and it is claimed again */
        slot->campaign = campaign;
        snprintf(slot->device, STORAGE_ID_SIZE, "%s", device);
    }
    pthread_mutex_unlock(&link->lock);
    /* Not sent: the target stays pending and is claimed again when its lease ends. */
    if (result != MOSQ_ERR_SUCCESS)
        fprintf(stderr, "cellota-server: mqtt: request to %s not sent (%s); retried later\n",
                device, crowded ? "too many in flight" : mosquitto_strerror(result));
    return result == MOSQ_ERR_SUCCESS;
}

int mqtt_link_start(server *self, const char *host, int port, mqtt_link **result)
{
    mqtt_link *link = calloc(1, sizeof(*link));
    char id[80];
    if (!link)
        return -1;
    link->self = self;
    pthread_mutex_init(&link->lock, NULL);
    pthread_mutex_init(&link->events_lock, NULL);
    pthread_cond_init(&link->events_ready, NULL);
    pthread_cond_init(&link->events_room, NULL);

    mosquitto_lib_init();
    /* Unique per process, also across hosts: two servers may share one broker (issue 10). */
    char machine[32] = "";
    gethostname(machine, sizeof(machine) - 1);
    snprintf(id, sizeof(id), "cellota-server-%.24s-%ld", machine, (long)getpid());
    link->client = mosquitto_new(id, true, link);
    if (!link->client) {
        fprintf(stderr, "cellota-server: mqtt: %s\n", strerror(errno));
        free(link);
        return -1;
    }
    mosquitto_int_option(link->client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(link->client, 1000);
    mosquitto_reconnect_delay_set(link->client, 1, 5, false);
    mosquitto_connect_callback_set(link->client, on_connect);
    mosquitto_disconnect_callback_set(link->client, on_disconnect);
    mosquitto_message_callback_set(link->client, on_message);
    mosquitto_publish_callback_set(link->client, on_publish);
    /* connect_async: the loop thread connects, and keeps trying while the broker is down. */
    int status = mosquitto_connect_async(link->client, host, port, 30);
    if (status != MOSQ_ERR_SUCCESS && status != MOSQ_ERR_ERRNO)
        fprintf(stderr, "cellota-server: mqtt: %s:%d: %s; retrying\n", host, port,
                mosquitto_strerror(status));
    if ((status = mosquitto_loop_start(link->client)) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "cellota-server: mqtt: %s\n", mosquitto_strerror(status));
        mosquitto_destroy(link->client);
        free(link);
        return -1;
    }
    if (pthread_create(&link->recorder, NULL, record_events, link) != 0) {
        mosquitto_loop_stop(link->client, true);
        mosquitto_destroy(link->client);
        free(link);
        return -1;
    }
    campaign_set_publisher(self, publish_request, resync, link);
    self->mqtt = link;
    *result = link;
    return 0;
}

bool mqtt_link_connected(mqtt_link *link)
{
    pthread_mutex_lock(&link->lock);
    bool connected = link->connected;
    pthread_mutex_unlock(&link->lock);
    return connected;
}

void mqtt_link_stop(mqtt_link *link)
{
    if (!link)
        return;
    campaign_set_publisher(link->self, NULL, NULL, NULL);
    mosquitto_disconnect(link->client);
    mosquitto_loop_stop(link->client, false);
    /* What arrived is recorded before the server stops. */
    pthread_mutex_lock(&link->events_lock);
    link->stopping = true;
    pthread_cond_broadcast(&link->events_ready);
    pthread_cond_broadcast(&link->events_room);
    pthread_mutex_unlock(&link->events_lock);
    pthread_join(link->recorder, NULL);
    for (size_t i = 0; i < link->event_count; i++)
        free(link->events[i].raw);
    free(link->events);
    mosquitto_destroy(link->client);
    mosquitto_lib_cleanup();
    pthread_cond_destroy(&link->events_ready);
    pthread_cond_destroy(&link->events_room);
    pthread_mutex_destroy(&link->events_lock);
    pthread_mutex_destroy(&link->lock);
    free(link);
}
