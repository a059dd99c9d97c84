/*
 * The update agent's state machine, end to end in one process with virtual time: a flash
 * simulator provisioned with a factory image, the real bootloader core run at every reboot, an
 * HTTP server and an MQTT broker played by the test over memory sockets. Covered: polling and
 * MQTT requests, up to date, signatures, version and fit checks, faults in the download (closed
 * connection, a server that ignores Range, a wrong file at url, 404 then alt_url), a reset in the
 * middle of the download, self-test failure and rollback, the modem-staged strategy and the
 * status message.
 */
#include "test.h"

#include "agent/agent.h"
#include "common/cli.h"
#include "operator/device_request.h"
#include "operator/keys.h"
#include "boot/boot.h"
#include "core/error.h"
#include "delta/delta.h"
#include "flash_sim.h"
#include "image_maker.h"
#include "net/mqtt_packet.h"
#include "store_sim.h"
#include "support/memory_socket.h"

#include <stdio.h>

#define IMAGE_SIZE (40 * 1024 + 123) /* ten erase pages and a bit */
#define PAGE 4096u

/* --- the web server, played over a memory socket ------------------------------------------ */

typedef struct web_file {
    char path[64];
    const uint8_t *data;
    size_t length;
} web_file;

typedef struct fake_web {
    memory_socket socket;
    web_file files[6];
    unsigned file_count;
    unsigned opens_seen;
    size_t handled;     /* request bytes of the current connection answered */
    uint32_t cut_after; /* next response: the connection fails after this many body bytes */
    bool ignore_range;  /* answer 200 with the whole file to a Range request */
    unsigned requests;
    unsigned image_requests;
    uint32_t range_starts[64]; /* where each image request started */
    uint64_t body_bytes;       /* image body bytes sent */
} fake_web;

static void web_put(fake_web *web, const char *path, const void *data, size_t length)
{
    unsigned index;
    for (index = 0; index < web->file_count; index++) {
        if (strcmp(web->files[index].path, path) == 0)
            break;
    }
    if (index == web->file_count)
        web->file_count++;
    snprintf(web->files[index].path, sizeof(web->files[index].path), "%s", path);
    web->files[index].data = data;
    web->files[index].length = length;
}

static void web_serve(fake_web *web)
{
    size_t length;
    const uint8_t *sent;
    if (web->socket.opens != web->opens_seen) {
        web->opens_seen = web->socket.opens;
        web->handled = 0;
    }
    if (web->socket.state != CELLOTA_SOCKET_STATE_OPEN)
        return;
    sent = memory_socket_connection_sent(&web->socket, &length);
    while (web->handled < length) {
        const char *request = (const char *)sent + web->handled;
        size_t rest = length - web->handled, end;
        char path[64] = "", header[256];
        uint32_t first = 0;
        const web_file *file = NULL;
        const char *range;
        unsigned index;
        for (end = 0; end + 3 < rest; end++) {
            if (memcmp(request + end, "\r\n\r\n", 4) == 0)
                break;
        }
        if (end + 3 >= rest)
            return; /* not complete yet */
        sscanf(request, "GET %63s", path);
        range = NULL;
        {
            char copy[1024];
            size_t count = end < sizeof(copy) - 1 ? end : sizeof(copy) - 1;
            memcpy(copy, request, count);
            copy[count] = '\0';
            range = strstr(copy, "Range: bytes=");
            if (range)
                first = (uint32_t)strtoul(range + 13, NULL, 10);
        }
        web->handled += end + 4;
        web->requests++;
        for (index = 0; index < web->file_count; index++) {
            if (strcmp(web->files[index].path, path) == 0)
                file = &web->files[index];
        }
        if (!file) {
            memory_socket_push_text(&web->socket,
                                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            continue;
        }
        if (strstr(path, ".ebin")) {
            if (web->image_requests < 64)
                web->range_starts[web->image_requests] = range ? first : 0;
            web->image_requests++;
        }
        if (!range || web->ignore_range)
            first = 0;
        if (first > 0) {
            snprintf(header, sizeof(header),
                     "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
                     "Content-Range: bytes %u-%zu/%zu\r\n\r\n",
                     file->length - first, first, file->length - 1, file->length);
        } else {
            snprintf(header, sizeof(header), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     file->length);
        }
        memory_socket_push_text(&web->socket, header);
        if (web->cut_after && web->cut_after < file->length - first) {
            memory_socket_push(&web->socket, file->data + first, web->cut_after);
            if (strstr(path, ".ebin"))
                web->body_bytes += web->cut_after;
            web->cut_after = 0;
            memory_socket_fail(&web->socket, CELLOTA_SOCKET_LINK_LOST);
            return;
        }
        memory_socket_push(&web->socket, file->data + first, file->length - first);
        if (strstr(path, ".ebin"))
            web->body_bytes += file->length - first;
    }
}

/* --- the MQTT broker ---------------------------------------------------------------------- */

typedef struct fake_broker {
    memory_socket socket;
    cellota_mqtt_reader reader;
    uint8_t buffer[2048];
    unsigned opens_seen;
    size_t handled;
    bool subscribed; /* the session remembers the subscription */
    uint16_t next_id;
    char log[16384]; /* "topic payload\n" of every PUBLISH from the device */
    size_t log_length;
    unsigned publishes, pubacks_in;
} fake_broker;

static void broker_push(fake_broker *broker, const uint8_t *packet, size_t length)
{
    memory_socket_push(&broker->socket, packet, length);
}

static void broker_answer(fake_broker *broker, const cellota_mqtt_packet *packet)
{
    uint8_t reply[8];
    cellota_mqtt_message message;
    switch (packet->type) {
    case CELLOTA_MQTT_CONNECT:
        reply[0] = 0x20;
        reply[1] = 2;
        reply[2] = broker->subscribed ? 1 : 0;
        reply[3] = 0;
        broker_push(broker, reply, 4);
        break;
    case CELLOTA_MQTT_SUBSCRIBE:
        reply[0] = 0x90;
        reply[1] = 3;
        reply[2] = packet->body[0];
        reply[3] = packet->body[1];
        reply[4] = 1;
        broker_push(broker, reply, 5);
        broker->subscribed = true;
        break;
    case CELLOTA_MQTT_PUBLISH:
        if (cellota_mqtt_decode_publish(packet, &message) != CELLOTA_OK)
            break;
        broker->publishes++;
        if (broker->log_length + message.topic_length + message.payload_length + 2 <
            sizeof(broker->log)) {
            memcpy(broker->log + broker->log_length, message.topic, message.topic_length);
            broker->log_length += message.topic_length;
            broker->log[broker->log_length++] = ' ';
            memcpy(broker->log + broker->log_length, message.payload, message.payload_length);
            broker->log_length += message.payload_length;
            broker->log[broker->log_length++] = '\n';
            broker->log[broker->log_length] = '\0';
        }
        if (message.qos == 1) {
            reply[0] = 0x40;
            reply[1] = 2;
            reply[2] = (uint8_t)(message.packet_id >> 8);
            reply[3] = (uint8_t)message.packet_id;
            broker_push(broker, reply, 4);
        }
        break;
    case CELLOTA_MQTT_PINGREQ:
        reply[0] = 0xD0;
        reply[1] = 0;
        broker_push(broker, reply, 2);
        break;
    case CELLOTA_MQTT_PUBACK:
        broker->pubacks_in++;
        break;
    default:
        break;
    }
}

static void broker_serve(fake_broker *broker)
{
    size_t length;
    const uint8_t *sent;
    if (broker->socket.opens != broker->opens_seen) {
        broker->opens_seen = broker->socket.opens;
        broker->handled = 0;
        cellota_mqtt_reader_init(&broker->reader, broker->buffer, sizeof(broker->buffer));
    }
    if (broker->socket.state != CELLOTA_SOCKET_STATE_OPEN)
        return;
    sent = memory_socket_connection_sent(&broker->socket, &length);
    while (broker->handled < length) {
        cellota_mqtt_packet packet;
        size_t consumed = 0;
        int result = cellota_mqtt_reader_feed(&broker->reader, sent + broker->handled,
                                              length - broker->handled, &consumed, &packet);
        broker->handled += consumed;
        if (result == CELLOTA_OK)
            broker_answer(broker, &packet);
        else
            break;
    }
}

/* The operator publishes an update request to the device at QoS 1. */
static void broker_send_request(fake_broker *broker, const char *json)
{
    uint8_t packet[2048];
    size_t length = 0;
    cellota_mqtt_message message;
    memset(&message, 0, sizeof(message));
    message.topic = "cellota/dev-1/update";
    message.topic_length = strlen(message.topic);
    message.payload = (const uint8_t *)json;
    message.payload_length = strlen(json);
    message.qos = 1;
    message.packet_id = ++broker->next_id;
    CHECK_EQ_INT(cellota_mqtt_encode_publish(packet, sizeof(packet), &message, &length),
                 CELLOTA_OK);
    broker_push(broker, packet, length);
}

/* --- modem files for the modem-staged strategy -------------------------------------------- */

typedef struct fake_files {
    char names[2][32];
    uint8_t *data[2];
    uint32_t sizes[2];
    unsigned busy_polls; /* each write stays in progress this many calls */
    unsigned waited;
    uint64_t writes, misaligned;
    cellota_agent_files files;
    cellota_boot_source source;
} fake_files;

static int files_find(fake_files *files, const char *name, bool create)
{
    int index;
    for (index = 0; index < 2; index++) {
        if (strcmp(files->names[index], name) == 0)
            return index;
    }
    for (index = 0; create && index < 2; index++) {
        if (!files->names[index][0]) {
            snprintf(files->names[index], sizeof(files->names[index]), "%s", name);
            files->data[index] = calloc(1, 1 << 20);
            files->sizes[index] = 0;
            return index;
        }
    }
    return -1;
}

static int files_write(void *context, const char *name, uint32_t offset, const uint8_t *data,
                       size_t length)
{
    fake_files *files = context;
    int index;
    if (files->waited < files->busy_polls) {
        files->waited++;
        return CELLOTA_IN_PROGRESS;
    }
    files->waited = 0;
    index = files_find(files, name, true);
    if (offset % 2048 != 0 || length > 2048) /* whole staging buffers only */
        files->misaligned++;
    if (index < 0 || offset > files->sizes[index] || offset + length > (1u << 20))
        return CELLOTA_INVALID_ARGUMENT;
    memcpy(files->data[index] + offset, data, length);
    files->sizes[index] = offset + (uint32_t)length;
    files->writes++;
    return CELLOTA_OK;
}

static int source_size(void *context, const char *name, uint32_t *size)
{
    int index = files_find(context, name, false);
    if (index < 0)
        return CELLOTA_BOOT_SOURCE_READ_FAILED;
    *size = ((fake_files *)context)->sizes[index];
    return CELLOTA_OK;
}

static int source_read(void *context, const char *name, uint32_t offset, uint8_t *buffer,
                       size_t length)
{
    fake_files *files = context;
    int index = files_find(files, name, false);
    if (index < 0 || offset + length > files->sizes[index])
        return CELLOTA_BOOT_SOURCE_READ_FAILED;
    memcpy(buffer, files->data[index] + offset, length);
    return CELLOTA_OK;
}

/* --- the device --------------------------------------------------------------------------- */

typedef struct device {
    flash_sim flash;
    store_sim store;
    cellota_port port;
    uint32_t now;
    bool rebooted;
    const cellota_boot_layout *layout;
    fake_web web;
    fake_broker broker;
    fake_files files;
    cellota_agent_memory memory;
    uint8_t staging[2048];
    cellota_agent_config config;
    cellota_agent agent;
    int self_test_result;
    unsigned checked;
    int checked_result;
    unsigned resumed, retries, progress_events;
    uint32_t resumed_at;
    test_image factory;
} device;

static uint32_t device_now(void *context)
{
    return ((device *)context)->now;
}

static void device_reboot(void *context)
{
    ((device *)context)->rebooted = true;
}

static int device_flash_read(void *context, uint32_t address, void *buffer, size_t length)
{
    return flash_sim_read(&((device *)context)->flash, address, buffer, length);
}

static int device_flash_write(void *context, uint32_t address, const void *data, size_t length)
{
    return flash_sim_write(&((device *)context)->flash, address, data, length);
}

static int device_flash_erase(void *context, uint32_t address, size_t length)
{
    return flash_sim_erase(&((device *)context)->flash, address, length);
}

static int device_store_get(void *context, const char *key, void *value, size_t capacity,
                            size_t *length)
{
    return store_sim_get(&((device *)context)->store, key, value, capacity, length);
}

static int device_store_set(void *context, const char *key, const void *value, size_t length)
{
    return store_sim_set(&((device *)context)->store, key, value, length);
}

static int device_self_test(void *context, uint32_t now_ms)
{
    (void)now_ms;
    return ((device *)context)->self_test_result;
}

static void device_event(void *context, const cellota_agent_event *event)
{
    device *d = context;
    switch (event->type) {
    case CELLOTA_AGENT_EVENT_CHECKED:
        d->checked++;
        d->checked_result = event->result;
        break;
    case CELLOTA_AGENT_EVENT_RESUMED:
        d->resumed++;
        d->resumed_at = event->report->offset;
        break;
    case CELLOTA_AGENT_EVENT_RETRY:
        d->retries++;
        break;
    case CELLOTA_AGENT_EVENT_PROGRESS:
        d->progress_events++;
        break;
    default:
        break;
    }
}

/* A device with `layout`, its factory image (version 1, semver 1.0.0) provisioned in slot 0. */
static device *device_create(const char *layout_name, cellota_agent_strategy strategy)
{
    device *d = calloc(1, sizeof(*d));
    cellota_boot_image application;
    cellota_boot_known modem_image;
    const cellota_flash_area *slot;

    d->layout = cellota_boot_layout_find(layout_name);
    CHECK(d->layout != NULL);
    CHECK_EQ_INT(flash_sim_create(&d->flash, &d->layout->flash), CELLOTA_OK);
    store_sim_open(&d->store, NULL);
    d->port.context = d;
    d->port.flash_read = device_flash_read;
    d->port.flash_write = device_flash_write;
    d->port.flash_erase = device_flash_erase;
    d->port.now_ms = device_now;
    d->port.store_get = device_store_get;
    d->port.store_set = device_store_set;
    d->port.reboot = device_reboot;
    d->now = 1000;
    memory_socket_init(&d->web.socket);
    memory_socket_init(&d->broker.socket);
    d->web.socket.receive_limit = 700; /* like a modem's reads */
    d->self_test_result = CELLOTA_OK;

    /* Factory: a plain image in slot 0 and its record in the journal. */
    test_image_make(&d->factory, 20000, 99);
    d->factory.info.version = 1;
    slot = &cellota_boot_layout_region(d->layout, CELLOTA_BOOT_REGION_APPLICATION, 0)->area;
    CHECK_EQ_INT(flash_sim_erase(&d->flash, slot->address, 20480), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_write(&d->flash, slot->address, d->factory.plain, 20000), CELLOTA_OK);
    cellota_boot_image_from(&application, &d->factory.info);
    memset(&modem_image, 0, sizeof(modem_image));
    modem_image.info = d->factory.info;
    snprintf(modem_image.name, sizeof(modem_image.name), "factory.bin");
    CHECK_EQ_INT(
        cellota_boot_provision(&d->port, d->layout, &application, NULL,
                               strategy == CELLOTA_AGENT_STAGE_MODEM ? &modem_image : NULL),
        CELLOTA_OK);

    d->files.files.context = &d->files;
    d->files.files.write = files_write;
    d->files.source.context = &d->files;
    d->files.source.size = source_size;
    d->files.source.read = source_read;
    if (strategy == CELLOTA_AGENT_STAGE_MODEM) {
        int index = files_find(&d->files, "factory.bin", true);
        memcpy(d->files.data[index], d->factory.cipher, d->factory.cipher_size);
        d->files.sizes[index] = d->factory.cipher_size;
    }

    memset(&d->config, 0, sizeof(d->config));
    d->config.port = &d->port;
    d->config.layout = d->layout;
    d->config.strategy = strategy;
    d->config.device_id = "dev-1";
    d->config.model = "sim7600";
    d->config.server = "http://updates.example:8080";
    d->config.mqtt_host = "broker.example";
    d->config.mqtt_port = 1883;
    d->config.factory_version = "1.0.0";
    d->config.http_socket = &d->web.socket.socket;
    d->config.mqtt_socket = &d->broker.socket.socket;
    d->config.files = &d->files.files;
    d->config.self_test = device_self_test;
    d->config.on_event = device_event;
    d->config.context = d;
    d->config.retry_min_ms = 100;
    d->config.retry_max_ms = 1000;
    /* Trust the channel: most tests here are about other things; the signature and
     * per-device tests turn it off (test_security). */
    d->config.accept_unsigned = true;
    cellota_agent_use_memory(&d->config.buffers, &d->memory);
    d->config.buffers.staging = d->staging; /* smaller pieces: more of them in a test image */
    d->config.buffers.staging_size = sizeof(d->staging);
    return d;
}

static void device_destroy(device *d)
{
    int index;
    flash_sim_destroy(&d->flash);
    memory_socket_free(&d->web.socket);
    memory_socket_free(&d->broker.socket);
    for (index = 0; index < 2; index++)
        free(d->files.data[index]);
    test_image_free(&d->factory);
    free(d);
}

/* Power on: the bootloader decides, then the agent starts (a fresh one, as after a reset). */
static cellota_boot_decision device_boot(device *d)
{
    static cellota_boot boot; /* large; one at a time */
    int result, steps = 0;
    cellota_boot_init(&boot, &d->port, d->layout,
                      d->config.strategy == CELLOTA_AGENT_STAGE_MODEM ? &d->files.source : NULL);
    do {
        result = cellota_boot_step(&boot);
    } while (result == CELLOTA_IN_PROGRESS && ++steps < 100000);
    CHECK_EQ_INT(result, CELLOTA_OK);
    d->rebooted = false;
    /* The sockets lose their connections with the MCU's reset (the modem closes them). */
    d->web.socket.socket.operations->close(d->web.socket.socket.context);
    d->broker.socket.socket.operations->close(d->broker.socket.socket.context);
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &d->config), CELLOTA_OK);
    return *cellota_boot_result(&boot);
}

/* Runs until the agent settles a check (or reboots, or `limit_ms` pass). */
static int device_run(device *d, uint32_t limit_ms)
{
    uint32_t end = d->now + limit_ms;
    unsigned checked = d->checked;
    int result = CELLOTA_IN_PROGRESS;
    while (d->now != end && d->checked == checked && !d->rebooted) {
        d->now += 5;
        web_serve(&d->web);
        broker_serve(&d->broker);
        result = cellota_agent_poll(&d->agent, d->now);
        if (result != CELLOTA_IN_PROGRESS)
            break;
    }
    /* Let the last status messages go out, as the device keeps running after a check. */
    for (end = d->now + 500; !d->rebooted && result == CELLOTA_IN_PROGRESS && d->now != end;) {
        d->now += 5;
        web_serve(&d->web);
        broker_serve(&d->broker);
        result = cellota_agent_poll(&d->agent, d->now);
    }
    return result;
}

/* Runs until the agent is downloading at or past `offset`. */
static void device_run_until_offset(device *d, uint32_t offset)
{
    unsigned guard = 0;
    while (cellota_agent_report_now(&d->agent)->offset < offset && !d->rebooted &&
           ++guard < 200000) {
        d->now += 5;
        web_serve(&d->web);
        broker_serve(&d->broker);
        cellota_agent_poll(&d->agent, d->now);
    }
}

static bool slot_holds(device *d, unsigned slot, const test_image *image)
{
    const cellota_flash_area *area =
        &cellota_boot_layout_region(d->layout, CELLOTA_BOOT_REGION_APPLICATION, slot)->area;
    uint8_t *bytes = malloc(image->plain_size);
    bool same;
    flash_sim_read(&d->flash, area->address, bytes, image->plain_size);
    same = memcmp(bytes, image->plain, image->plain_size) == 0;
    free(bytes);
    return same;
}

/* --- releases ----------------------------------------------------------------------------- */

typedef struct release {
    test_image image;
    char json[2048];
    char version[16];
} release;

static void release_make(release *r, const char *version, uint32_t security, uint64_t seed,
                         const char *url, const char *alt_url)
{
    char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1];
    test_image_make(&r->image, IMAGE_SIZE, seed);
    r->image.info.version = security;
    r->image.info.load_address = 0;
    cellota_fw_info_to_hex(&r->image.info, hex);
    snprintf(r->version, sizeof(r->version), "%s", version);
    snprintf(r->json, sizeof(r->json),
             "{\"type\":\"update_fw\",\"url\":\"%s\",\"alt_url\":\"%s\",\"fw_info\":\"%s\","
             "\"version\":\"%s\",\"id\":\"campaign-7\"}",
             url, alt_url, hex, version);
}

/* Serves `r` the polling way: /version, /ota.json and the image at /image.ebin. The fake
 * matches paths exactly, so every polling test also checks that the agent names itself. */
static void serve_release(device *d, release *r)
{
    static char version_body[32];
    snprintf(version_body, sizeof(version_body), "%s\n", r->version);
    web_put(&d->web, "/version?device=dev-1", version_body, strlen(version_body));
    web_put(&d->web, "/ota.json?device=dev-1", r->json, strlen(r->json));
    web_put(&d->web, "/image.ebin", r->image.cipher, r->image.cipher_size);
}

#define IMAGE_URL "http://updates.example:8080/image.ebin"

/* --- tests -------------------------------------------------------------------------------- */

static void test_poll_update_confirm_and_up_to_date(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    cellota_boot_decision decision;

    release_make(&r, "1.1.0", 2, 5, IMAGE_URL, "");
    serve_release(d, &r);
    decision = device_boot(d);
    CHECK_EQ_INT(decision.slot, 0);
    CHECK(!decision.trial);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK_EQ_INT(d->checked, 0); /* a check that finds an update settles after the reboot */
    CHECK_EQ_INT(d->web.image_requests, 1);
    CHECK_EQ_INT(d->web.body_bytes, r.image.cipher_size);
    CHECK(strstr(d->broker.log, "cellota/dev-1/online online") != NULL);
    CHECK(strstr(d->broker.log, "\"state\":\"downloading\"") != NULL);
    CHECK(strstr(d->broker.log, "\"state\":\"rebooting\"") != NULL);
    CHECK(strstr(d->broker.log, "\"target\":\"1.1.0\"") != NULL);
    CHECK(strstr(d->broker.log, "\"campaign\":\"campaign-7\"") != NULL);
    CHECK(strstr(d->broker.log, "\"model\":\"sim7600\"") != NULL);
    CHECK(strstr(d->broker.log, "cellota/dev-1/online offline") != NULL);

    /* The bootloader starts it on trial; the agent tests, confirms, checks: up to date. */
    decision = device_boot(d);
    CHECK_EQ_INT(decision.slot, 1);
    CHECK(decision.trial);
    CHECK(slot_holds(d, 1, &r.image));
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked, 1);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "1.1.0");
    CHECK_EQ_INT(cellota_agent_report_now(&d->agent)->state, CELLOTA_AGENT_UP_TO_DATE);
    CHECK(strstr(d->broker.log, "\"state\":\"testing\"") != NULL);
    CHECK(strstr(d->broker.log, "\"state\":\"confirmed\",\"version\":\"1.1.0\"") != NULL);
    CHECK(strstr(d->broker.log, "\"state\":\"up_to_date\"") != NULL);
    CHECK_EQ_INT(d->web.image_requests, 1);

    /* Next power-on: runs confirmed, downloads nothing. */
    decision = device_boot(d);
    CHECK_EQ_INT(decision.slot, 1);
    CHECK(!decision.trial);
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_INT(d->web.image_requests, 1);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "1.1.0");
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_up_to_date_downloads_nothing(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    release_make(&r, "1.0.0", 1, 5, IMAGE_URL, "");
    serve_release(d, &r);
    device_boot(d);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked, 1);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_INT(d->web.requests, 1); /* /version only */
    CHECK_EQ_INT(d->web.image_requests, 0);
    /* An older release is not newer either. */
    snprintf(r.version, sizeof(r.version), "0.9.0");
    serve_release(d, &r);
    cellota_agent_check(&d->agent);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked, 2);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_INT(d->web.image_requests, 0);
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_mqtt_request(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r, old;
    release_make(&r, "2.0.0", 3, 6, IMAGE_URL, "");
    release_make(&old, "0.5.0", 1, 7, IMAGE_URL, "");
    web_put(&d->web, "/image.ebin", r.image.cipher, r.image.cipher_size);
    d->config.server = NULL; /* MQTT only */
    device_boot(d);
    device_run(d, 2000); /* connected, subscribed */
    CHECK(d->broker.subscribed);

    /* An older version is refused and reported. */
    broker_send_request(&d->broker, old.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_AGENT_NOT_NEWER);
    CHECK(strstr(d->broker.log, "\"error_name\":\"AGENT_NOT_NEWER\"") != NULL);
    CHECK_EQ_INT(d->broker.pubacks_in, 1);

    broker_send_request(&d->broker, r.json);
    device_run(d, 600000);
    CHECK(d->rebooted);
    device_boot(d);
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "2.0.0");
    CHECK(slot_holds(d, 1, &r.image));
    CHECK(strstr(d->broker.log, "\"state\":\"confirmed\",\"version\":\"2.0.0\"") != NULL);

    /* The same request again (QoS 1 redelivery): already running, up to date. */
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_INT(d->web.image_requests, 1);
    test_image_free(&r.image);
    test_image_free(&old.image);
    device_destroy(d);
}

/* --- compressed images and patches ------------------------------------------------------- */

/* `r` as a patch from the device's factory image (encoding "patch", base its size and hash), or
 * compressed: the new image is the factory's with bytes changed and some inserted. */
static void release_make_encoded(release *r, device *d, const char *version, bool patch,
                                 const uint8_t *base_sha256)
{
    char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1], base_hex[65];
    uint8_t *plain = malloc(20500), *stream;
    size_t stream_size, index;

    memcpy(plain, d->factory.plain, 8000);
    memset(plain + 8000, 0x5A, 500);
    memcpy(plain + 8500, d->factory.plain + 8000, 12000);
    for (index = 100; index < 20500; index += 333)
        plain[index] = (uint8_t)(plain[index] + 8);
    CHECK_EQ_INT(delta_encode(patch ? d->factory.plain : NULL, 20000, plain, 20500, NULL, &stream,
                              &stream_size),
                 0);
    test_image_make_encoded(&r->image, plain, 20500, stream, (uint32_t)stream_size, 41);
    r->image.info.version = 3;
    r->image.info.load_address = 0;
    cellota_fw_info_to_hex(&r->image.info, hex);
    for (index = 0; index < 32; index++)
        snprintf(base_hex + 2 * index, 3, "%02x", base_sha256[index]);
    snprintf(r->version, sizeof(r->version), "%s", version);
    if (patch)
        snprintf(r->json, sizeof(r->json),
                 "{\"type\":\"update_fw\",\"url\":\"%s\",\"fw_info\":\"%s\",\"version\":\"%s\","
                 "\"encoding\":\"patch\",\"base\":\"20000:%s\"}",
                 IMAGE_URL, hex, version, base_hex);
    else
        snprintf(r->json, sizeof(r->json),
                 "{\"type\":\"update_fw\",\"url\":\"%s\",\"fw_info\":\"%s\",\"version\":\"%s\","
                 "\"encoding\":\"compressed\"}",
                 IMAGE_URL, hex, version);
    free(plain);
    free(stream);
}

/* Serves r's image, sends its request, and checks it is fetched once, installed into slot 1
 * through a reboot and confirmed as 2.0.0. */
static void install_encoded(device *d, release *r)
{
    web_put(&d->web, "/image.ebin", r->image.cipher, r->image.cipher_size);
    broker_send_request(&d->broker, r->json);
    device_run(d, 600000);
    CHECK(d->rebooted);
    device_boot(d);
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "2.0.0");
    CHECK(slot_holds(d, 1, &r->image));
    CHECK_EQ_INT(d->web.image_requests, 1);
}

/* A patch from the running image is installed and confirmed; a patch for another base, an
 * encoded image on a device without decoder memory and either one with modem staging are
 * refused, each with its name, before a byte is fetched. */
/* Steps the device for `ms` of its time, whatever it does. */
static void device_step(device *d, uint32_t ms)
{
    uint32_t end = d->now + ms;
    while (d->now != end && !d->rebooted) {
        d->now += 5;
        web_serve(&d->web);
        broker_serve(&d->broker);
        CHECK_EQ_INT(cellota_agent_poll(&d->agent, d->now), CELLOTA_IN_PROGRESS);
    }
}

/* A device that cannot reach the broker for a while queues its statuses (QoS 1) as its state
 * changes -- here its polls keep failing. At the CONNACK they fill the send buffer; the
 * subscription to its update topic must wait for room, not be dropped: a device connected and
 * reporting but subscribed to nothing never hears a request (seen in the fleet, on SIM800s). */
static void test_subscribes_behind_queued_statuses(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    release_make(&r, "2.0.0", 3, 6, IMAGE_URL, "");
    web_put(&d->web, "/image.ebin", r.image.cipher, r.image.cipher_size);
    d->config.poll_interval_ms = 50; /* no /version here: each check fails, the state changes */
    d->broker.socket.connect_error = CELLOTA_SOCKET_REFUSED;
    device_boot(d);
    device_step(d, 20000);
    CHECK(!d->broker.subscribed);
    CHECK(d->agent.mqtt.queued > 0); /* statuses wait for the broker */

    d->broker.socket.connect_error = CELLOTA_OK;
    device_step(d, 120000);
    CHECK(d->broker.subscribed);
    CHECK(strstr(d->broker.log, "cellota/dev-1/online online") != NULL);

    d->config.poll_interval_ms = 0;
    broker_send_request(&d->broker, r.json);
    device_run(d, 600000);
    CHECK(d->rebooted);
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_encoded_updates(void)
{
    static cellota_pipeline_decoder decoder;
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    uint8_t other[32];
    release r;

    d->config.server = NULL;
    device_boot(d);
    device_run(d, 2000);

    /* No decoder memory: not even a compressed image. */
    release_make_encoded(&r, d, "2.0.0", false, d->factory.info.plain_sha256);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_ENCODING_UNSUPPORTED);
    CHECK(strstr(d->broker.log, "\"error_name\":\"IMAGE_ENCODING_UNSUPPORTED\"") != NULL);
    test_image_free(&r.image);

    /* With it: a patch for another base is refused before downloading. */
    d->config.decoder = &decoder;
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &d->config), CELLOTA_OK);
    device_run(d, 2000);
    memcpy(other, d->factory.info.plain_sha256, 32);
    other[0] ^= 1;
    release_make_encoded(&r, d, "2.0.0", true, other);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_DELTA_WRONG_BASE);
    CHECK_EQ_INT(d->web.image_requests, 0);
    test_image_free(&r.image);

    /* The patch from the image it runs: downloaded, decoded into slot 1, confirmed. */
    release_make_encoded(&r, d, "2.0.0", true, d->factory.info.plain_sha256);
    install_encoded(d, &r);
    CHECK(r.image.cipher_size < 20500 / 4); /* what was downloaded: the patch */
    test_image_free(&r.image);
    device_destroy(d);

    /* Modem staging: the one slot is overwritten while a patch would read it. */
    d = device_create("nrf52840-1mb", CELLOTA_AGENT_STAGE_MODEM);
    d->config.server = NULL;
    d->config.decoder = &decoder;
    device_boot(d);
    device_run(d, 2000);
    release_make_encoded(&r, d, "2.0.0", true, d->factory.info.plain_sha256);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_DELTA_SINGLE_SLOT);
    test_image_free(&r.image);
    release_make_encoded(&r, d, "2.0.0", false, d->factory.info.plain_sha256);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_ENCODING_UNSUPPORTED);
    CHECK_EQ_INT(d->web.image_requests, 0);
    test_image_free(&r.image);
    device_destroy(d);
}

/* --- signatures --------------------------------------------------------------------------- */

static void release_sign_with(release *r, mbedtls_pk_context *key, host_random *random);

/* Signs r->json's request with a fresh key; the public key goes to `public_key`. */
static void release_sign(release *r, uint8_t public_key[CELLOTA_PUBLIC_KEY_SIZE])
{
    host_random random;
    mbedtls_pk_context key;
    CHECK_EQ_INT(host_random_open(&random, "test_agent"), HOST_EXIT_OK);
    mbedtls_pk_init(&key);
    CHECK_EQ_INT(operator_key_generate(&key, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&key, public_key), HOST_EXIT_OK);
    release_sign_with(r, &key, &random);
    mbedtls_pk_free(&key);
    host_random_close(&random);
}

static void test_signatures(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    uint8_t key[CELLOTA_PUBLIC_KEY_SIZE];
    release unsigned_release, signed_release;
    char *tamper;

    release_make(&unsigned_release, "1.2.0", 2, 8, IMAGE_URL, "");
    release_make(&signed_release, "1.2.0", 2, 8, IMAGE_URL, "");
    release_sign(&signed_release, key);
    d->config.public_key = key;
    d->config.accept_unsigned = false;
    d->config.server = NULL;
    web_put(&d->web, "/image.ebin", signed_release.image.cipher, signed_release.image.cipher_size);
    device_boot(d);
    device_run(d, 2000);

    broker_send_request(&d->broker, unsigned_release.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_SIGNATURE_MISSING);

    /* Tampered: another URL under the same signature. */
    {
        char tampered[sizeof(signed_release.json)];
        snprintf(tampered, sizeof(tampered), "%s", signed_release.json);
        tamper = strstr(tampered, "image.ebin");
        tamper[0] = 'j';
        broker_send_request(&d->broker, tampered);
        device_run(d, 60000);
        CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_SIGNATURE_INVALID);
    }
    CHECK_EQ_INT(d->web.image_requests, 0);

    broker_send_request(&d->broker, signed_release.json);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK_EQ_INT(d->web.image_requests, 1);
    test_image_free(&unsigned_release.image);
    test_image_free(&signed_release.image);
    device_destroy(d);
}

static void test_refusals_before_download(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    char json[1024];
    d->config.server = NULL;
    device_boot(d);
    device_run(d, 2000);

    /* Anti-rollback: security version 0 is below the device's 1. */
    release_make(&r, "3.0.0", 0, 9, IMAGE_URL, "");
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_BOOT_VERSION_TOO_OLD);
    test_image_free(&r.image);

    /* Too large for the slot (1984 KiB on esp32-4mb). */
    release_make(&r, "3.0.0", 2, 9, IMAGE_URL, "");
    r.image.info.plain_size = 3u << 20;
    r.image.info.encrypted_size = cellota_fw_info_padded_size(r.image.info.plain_size);
    {
        char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1];
        cellota_fw_info_to_hex(&r.image.info, hex);
        snprintf(json, sizeof(json),
                 "{\"type\":\"update_fw\",\"url\":\"%s\",\"fw_info\":\"%s\",\"version\":\"3.0.0\"}",
                 IMAGE_URL, hex);
    }
    broker_send_request(&d->broker, json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_TOO_LARGE);

    /* Malformed. */
    broker_send_request(&d->broker, "{\"type\":\"update_fw\"");
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_JSON_INVALID);
    CHECK(strstr(d->broker.log, "\"error_name\":\"JSON_INVALID\"") != NULL);
    CHECK_EQ_INT(d->web.image_requests, 0);
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_faults_resume_without_refetching(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    unsigned index;
    release_make(&r, "1.1.0", 2, 10, IMAGE_URL, "");
    serve_release(d, &r);
    device_boot(d);
    /* The link drops after 5000 bytes of the image. */
    d->web.cut_after = 5000;
    device_run_until_offset(d, 5000);
    d->web.cut_after = 7777; /* and again in the next response */
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK(d->web.image_requests >= 3);
    CHECK_EQ_INT(d->web.range_starts[0], 0);
    CHECK_EQ_INT(d->web.range_starts[1], 5000); /* exactly where it stopped */
    CHECK_EQ_INT(d->web.range_starts[2], 12777);
    CHECK_EQ_INT(d->web.body_bytes, r.image.cipher_size); /* nothing fetched twice */
    CHECK_EQ_INT(d->agent.report.redownloaded, 0);
    CHECK(d->retries >= 2);
    CHECK(strstr(d->broker.log, "\"state\":\"waiting\"") != NULL);
    CHECK(strstr(d->broker.log, "\"error_name\":\"SOCKET_LINK_LOST\"") != NULL);
    device_boot(d);
    CHECK(slot_holds(d, 1, &r.image));

    /* A server that ignores Range: the bytes in hand are skipped, counted as re-downloaded. */
    {
        device *e = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
        serve_release(e, &r);
        e->web.ignore_range = true;
        device_boot(e);
        e->web.cut_after = 9000;
        device_run(e, 600000);
        CHECK(e->rebooted);
        CHECK_EQ_INT(e->agent.report.redownloaded, 9000);
        device_boot(e);
        CHECK(slot_holds(e, 1, &r.image));
        device_destroy(e);
    }
    for (index = 0; index < d->web.image_requests && index < 4; index++)
        printf("  fault resume: request %u from byte %u\n", index, d->web.range_starts[index]);
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_reset_mid_download_resumes_from_checkpoint(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    uint32_t reached;
    release_make(&r, "1.1.0", 2, 11, IMAGE_URL, "");
    serve_release(d, &r);
    device_boot(d);
    device_run_until_offset(d, 6 * PAGE + 1000);
    reached = cellota_agent_report_now(&d->agent)->offset;
    /* Power cut: the agent's RAM is gone; the flash and the store stay. */
    memset(&d->agent, 0xA5, sizeof(d->agent));
    device_boot(d);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK_EQ_INT(d->resumed, 1);
    CHECK(d->resumed_at <= reached);
    CHECK(reached - d->resumed_at < PAGE + 16);
    CHECK_EQ_INT(d->resumed_at % PAGE, 0);
    printf("  reset at byte %u, resumed at %u: %u bytes fetched again\n", reached, d->resumed_at,
           reached - d->resumed_at);
    CHECK_EQ_INT(d->web.range_starts[d->web.image_requests - 1], d->resumed_at);
    CHECK_EQ_INT(d->checked, 0); /* resumed at once, without asking the server again */
    device_boot(d);
    CHECK(slot_holds(d, 1, &r.image));
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "1.1.0");
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_bad_url_then_alt_url(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    uint8_t *damaged;
    /* url serves a damaged copy; alt_url the real one. */
    release_make(&r, "1.1.0", 2, 12, IMAGE_URL, "http://mirror.example/good.ebin");
    serve_release(d, &r);
    damaged = malloc(r.image.cipher_size);
    memcpy(damaged, r.image.cipher, r.image.cipher_size);
    damaged[3000] ^= 0x40;
    web_put(&d->web, "/image.ebin", damaged, r.image.cipher_size);
    web_put(&d->web, "/good.ebin", r.image.cipher, r.image.cipher_size);
    device_boot(d);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK(strstr(d->broker.log, "IMAGE_ENCRYPTED_HASH_MISMATCH") != NULL);
    CHECK_EQ_INT(d->web.image_requests, 2);
    CHECK_EQ_INT(d->web.range_starts[1], 0); /* from scratch */
    device_boot(d);
    CHECK(slot_holds(d, 1, &r.image));
    device_destroy(d);

    /* Only the damaged copy: fails, nothing is marked bootable. */
    test_image_free(&r.image);
    d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release_make(&r, "1.1.0", 2, 12, IMAGE_URL, "");
    serve_release(d, &r);
    web_put(&d->web, "/image.ebin", damaged, r.image.cipher_size);
    device_boot(d);
    device_run(d, 600000);
    CHECK(!d->rebooted);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH);
    CHECK_EQ_INT(d->agent.control.state.trial, CELLOTA_BOOT_TRIAL_NONE);
    CHECK_EQ_INT(d->agent.control.state.operation, CELLOTA_BOOT_OPERATION_NONE);
    CHECK(device_boot(d).slot == 0);
    device_destroy(d);
    test_image_free(&r.image);

    /* url 404: alt_url. */
    d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release_make(&r, "1.1.0", 2, 12, "http://updates.example:8080/missing.ebin",
                 "http://mirror.example/good.ebin");
    serve_release(d, &r);
    web_put(&d->web, "/good.ebin", r.image.cipher, r.image.cipher_size);
    device_boot(d);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK(strstr(d->broker.log, "NET_HTTP_NOT_FOUND") != NULL);
    free(damaged);
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_self_test_failure_rolls_back(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    release r;
    cellota_boot_decision decision;
    release_make(&r, "1.1.0", 2, 13, IMAGE_URL, "");
    serve_release(d, &r);
    device_boot(d);
    device_run(d, 600000);
    CHECK(d->rebooted);
    d->self_test_result = CELLOTA_FLASH_READ_FAILED; /* the new firmware finds itself broken */
    decision = device_boot(d);
    CHECK(decision.trial);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK(strstr(d->broker.log, "\"state\":\"rolled_back\"") != NULL);
    CHECK(strstr(d->broker.log, "AGENT_SELF_TEST_FAILED") != NULL);
    d->self_test_result = CELLOTA_OK;
    decision = device_boot(d);
    CHECK_EQ_INT(decision.slot, 0);
    CHECK(!decision.trial);
    device_run(d, 600000);
    /* Back on 1.0.0; the server still offers 1.1.0: not taken again, and said why. */
    CHECK_EQ_INT(d->checked_result, CELLOTA_AGENT_SELF_TEST_FAILED);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "1.0.0");
    CHECK_EQ_INT(cellota_agent_report_now(&d->agent)->state, CELLOTA_AGENT_ROLLED_BACK);
    CHECK_EQ_INT(d->web.image_requests, 1);
    device_boot(d);
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_AGENT_VERSION_REJECTED);
    CHECK_EQ_INT(d->web.image_requests, 1);
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_modem_staged(void)
{
    device *d = device_create("nrf52840-1mb", CELLOTA_AGENT_STAGE_MODEM);
    release r;
    cellota_boot_decision decision;
    uint32_t reached;
    int index;
    release_make(&r, "1.1.0", 2, 14, IMAGE_URL, "");
    serve_release(d, &r);
    d->files.busy_polls = 3; /* the modem's file system is slower than the download */
    decision = device_boot(d);
    CHECK_EQ_INT(decision.slot, 0);
    device_run_until_offset(d, 5 * 1024 + 300);
    reached = cellota_agent_report_now(&d->agent)->offset;
    memset(&d->agent, 0x5A, sizeof(d->agent)); /* reset in the middle */
    device_boot(d);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK_EQ_INT(d->resumed, 1);
    CHECK(d->resumed_at <= reached && reached - d->resumed_at < 2048 + 16);
    CHECK_EQ_INT(d->files.misaligned, 0);
    CHECK(d->files.writes >= r.image.cipher_size / 2048);
    index = files_find(&d->files, "cellota_a.bin", false);
    CHECK(index >= 0);
    if (index >= 0) {
        CHECK_EQ_INT(d->files.sizes[index], r.image.cipher_size);
        CHECK_EQ_MEM(d->files.data[index], r.image.cipher, r.image.cipher_size);
    }
    /* The bootloader installs it from the modem into the one slot, on trial. */
    decision = device_boot(d);
    CHECK_EQ_INT(decision.slot, 0);
    CHECK(decision.trial);
    CHECK(slot_holds(d, 0, &r.image));
    device_run(d, 600000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_OK);
    CHECK_EQ_STR(cellota_agent_report_now(&d->agent)->version, "1.1.0");
    test_image_free(&r.image);
    device_destroy(d);
}

static void test_status_json(void)
{
    cellota_agent_report report;
    char buffer[640];
    size_t length = 0;
    memset(&report, 0, sizeof(report));
    report.state = CELLOTA_AGENT_DOWNLOADING;
    report.version = "1.0.0";
    report.target = "1.1.0-rc.1";
    report.offset = 28672;
    report.size = 67520;
    report.downloaded = 30000;
    report.redownloaded = 1328;
    report.error = CELLOTA_IMAGE_REQUEST_BAD_TYPE;
    CHECK_EQ_INT(
        cellota_agent_status_json(&report, "c\"7", NULL, buffer, sizeof(buffer), &length),
        CELLOTA_OK);
    CHECK_EQ_INT(length, strlen(buffer));
    CHECK_EQ_STR(buffer,
                 "{\"state\":\"downloading\",\"version\":\"1.0.0\",\"target\":\"1.1.0-rc.1\","
                 "\"progress\":42,\"offset\":28672,\"size\":67520,\"downloaded\":30000,"
                 "\"redownloaded\":1328,\"error\":131,\"error_name\":\"IMAGE_REQUEST_BAD_TYPE\","
                 "\"message\":\"the update request's type is missing or not \\\"update_fw\\\"\","
                 "\"campaign\":\"c\\\"7\"}");
    /* With a model: after the message, before the campaign. */
    report.model = "sim7070";
    report.error = CELLOTA_OK;
    CHECK_EQ_INT(cellota_agent_status_json(&report, "7", NULL, buffer, sizeof(buffer), &length),
                 CELLOTA_OK);
    CHECK(strstr(buffer, "\"message\":\"success\",\"model\":\"sim7070\",\"campaign\":\"7\"}") !=
          NULL);
    /* The running image and decoding, last: what a server chooses the smallest update by. */
    uint8_t hash[32];
    for (size_t i = 0; i < sizeof(hash); i++)
        hash[i] = (uint8_t)((i % 16) * 17);
    cellota_agent_running running = {67512, hash, true};
    CHECK_EQ_INT(
        cellota_agent_status_json(&report, "7", &running, buffer, sizeof(buffer), &length),
        CELLOTA_OK);
    CHECK(strstr(buffer, "\"campaign\":\"7\",\"image\":\"67512:00112233445566778899aabbccddeeff"
                         "00112233445566778899aabbccddeeff\",\"decodes\":true}") != NULL);
    running.size = 0; /* unknown: no image, still whether it decodes */
    running.decodes = false;
    CHECK_EQ_INT(
        cellota_agent_status_json(&report, "7", &running, buffer, sizeof(buffer), &length),
        CELLOTA_OK);
    CHECK(strstr(buffer, "\"campaign\":\"7\",\"decodes\":false}") != NULL);
    report.model = NULL;
    CHECK_EQ_INT(cellota_agent_status_json(&report, NULL, NULL, buffer, 64, &length),
                 CELLOTA_BUFFER_TOO_SMALL);
    CHECK_EQ_STR(cellota_agent_state_name(CELLOTA_AGENT_ROLLED_BACK), "rolled_back");
}

static void test_configuration_checks(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    cellota_agent_config config = d->config;
    config.device_id = "bad/id";
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_AGENT_BAD_DEVICE_ID);
    config.device_id = "abcdefghijklmnopqrstuvwxyz0123456"; /* 33 */
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_AGENT_BAD_DEVICE_ID);
    config = d->config;
    config.server = NULL;
    config.mqtt_socket = NULL;
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_AGENT_NOT_CONFIGURED);
    config = d->config;
    config.strategy = CELLOTA_AGENT_STAGE_MODEM;
    config.files = NULL;
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_AGENT_NO_MODEM_FILES);
    config = d->config;
    config.model = "sim 7600"; /* a model is as plain as an id: it fits every status message */
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_INVALID_ARGUMENT);
    config = d->config;
    config.factory_version = "one";
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_IMAGE_SEMVER_INVALID);
    config = d->config;
    config.buffers.http_size = 16;
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_INVALID_ARGUMENT);
    printf("  sizeof(cellota_agent) = %zu bytes\n", sizeof(cellota_agent));
    device_destroy(d);
}

/* Signs r's request with `key` (one key for several requests, unlike release_sign). */
static void release_sign_with(release *r, mbedtls_pk_context *key, host_random *random)
{
    cellota_update_request request;
    uint8_t digest[32], signature[CELLOTA_SIGNATURE_SIZE];
    char hex[2 * CELLOTA_SIGNATURE_SIZE + 1], *end;
    size_t index;
    CHECK_EQ_INT(cellota_request_parse(&request, r->json, strlen(r->json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    CHECK_EQ_INT(operator_key_sign(key, random, digest, signature), HOST_EXIT_OK);
    for (index = 0; index < CELLOTA_SIGNATURE_SIZE; index++)
        snprintf(hex + 2 * index, 3, "%02x", signature[index]);
    end = strrchr(r->json, '}');
    snprintf(end, sizeof(r->json) - (size_t)(end - r->json), ",\"sig\":\"%s\"}", hex);
}

/* r's request made for one device by the host library the server uses: key wrapped to
 * `device_point`, signed with `key`. */
static void release_for_device(release *r, const char *device_id,
                               const uint8_t device_point[CELLOTA_PUBLIC_KEY_SIZE],
                               mbedtls_pk_context *key, host_random *random)
{
    char *json = NULL;
    CHECK_EQ_INT(operator_request_for_device(r->json, strlen(r->json), device_id, device_point, key,
                                             random, &json),
                 HOST_EXIT_OK);
    CHECK(json && strlen(json) < sizeof(r->json));
    snprintf(r->json, sizeof(r->json), "%s", json);
    free(json);
}

/*
 * Issue 12's refusals, each with its own error, and the wrapped-key update: signed requests by
 * default; an old, validly signed request replayed; a request signed for another device; a key
 * wrapped to another device's key; a clear key where wrapping is required; then a request
 * wrapped for this device installs.
 */
static void test_security(void)
{
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    host_random random;
    mbedtls_pk_context operator_key, device_key, other_key;
    uint8_t operator_point[CELLOTA_PUBLIC_KEY_SIZE], device_point[CELLOTA_PUBLIC_KEY_SIZE];
    uint8_t other_point[CELLOTA_PUBLIC_KEY_SIZE], device_secret[CELLOTA_DEVICE_KEY_SIZE];
    release r;
    cellota_agent_config config = d->config;

    CHECK_EQ_INT(host_random_open(&random, "test_agent"), HOST_EXIT_OK);
    mbedtls_pk_init(&operator_key);
    mbedtls_pk_init(&device_key);
    mbedtls_pk_init(&other_key);
    CHECK_EQ_INT(operator_key_generate(&operator_key, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_generate(&device_key, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_generate(&other_key, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&operator_key, operator_point), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&device_key, device_point), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&other_key, other_point), HOST_EXIT_OK);
    CHECK_EQ_INT(mbedtls_mpi_write_binary(&mbedtls_pk_ec(device_key)->d, device_secret, 32), 0);

    /* signed requests by default: no key and no trust-the-channel mode is refused at init */
    config.accept_unsigned = false;
    config.public_key = NULL;
    CHECK_EQ_INT(cellota_agent_init(&d->agent, &config), CELLOTA_AGENT_NO_PUBLIC_KEY);

    d->config.accept_unsigned = false;
    d->config.public_key = operator_point;
    d->config.device_key = device_secret;
    d->config.server = NULL;
    device_boot(d);
    device_run(d, 2000);

    /* unsigned */
    release_make(&r, "1.2.0", 2, 21, IMAGE_URL, "");
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_SIGNATURE_MISSING);
    test_image_free(&r.image);

    /* replayed: an older release, validly signed (anti-rollback, by version and security) */
    release_make(&r, "0.9.0", 0, 22, IMAGE_URL, "");
    release_sign_with(&r, &operator_key, &random);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_AGENT_NOT_NEWER);
    test_image_free(&r.image);

    /* signed for another device (its own key and id) */
    release_make(&r, "1.2.0", 2, 23, IMAGE_URL, "");
    release_for_device(&r, "dev-2", other_point, &operator_key, &random);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_REQUEST_OTHER_DEVICE);
    test_image_free(&r.image);

    /* this device's id, but the key wrapped to another device's key */
    release_make(&r, "1.2.0", 2, 24, IMAGE_URL, "");
    release_for_device(&r, "dev-1", other_point, &operator_key, &random);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_KEY_UNWRAP_FAILED);
    test_image_free(&r.image);
    CHECK_EQ_INT(d->web.image_requests, 0);

    /* a clear key, signed, where wrapping is required */
    d->config.require_wrapped_key = true;
    release_make(&r, "1.2.0", 2, 25, IMAGE_URL, "");
    release_sign_with(&r, &operator_key, &random);
    broker_send_request(&d->broker, r.json);
    device_run(d, 60000);
    CHECK_EQ_INT(d->checked_result, CELLOTA_IMAGE_KEY_NOT_WRAPPED);
    CHECK_EQ_INT(d->web.image_requests, 0);

    /* wrapped for this device: downloads, decrypts with the unwrapped key, installs */
    release_for_device(&r, "dev-1", device_point, &operator_key, &random);
    CHECK(strstr(r.json, "\"wrapped_key\"") != NULL);
    web_put(&d->web, "/image.ebin", r.image.cipher, r.image.cipher_size);
    broker_send_request(&d->broker, r.json);
    device_run(d, 600000);
    CHECK(d->rebooted);
    CHECK_EQ_INT(d->web.image_requests, 1);
    test_image_free(&r.image);

    mbedtls_pk_free(&operator_key);
    mbedtls_pk_free(&device_key);
    mbedtls_pk_free(&other_key);
    host_random_close(&random);
    device_destroy(d);
}

/* Both branches' v2 fields in one request: a patch from the running image made for this device
 * (encoding, base, device and wrapped_key all signed) is unwrapped, downloaded, decoded against
 * the running slot, installed and confirmed on a device that requires signed, wrapped keys. */
static void test_wrapped_patch(void)
{
    static cellota_pipeline_decoder decoder;
    device *d = device_create("esp32-4mb", CELLOTA_AGENT_STAGE_AB);
    host_random random;
    mbedtls_pk_context operator_key, device_key;
    uint8_t operator_point[CELLOTA_PUBLIC_KEY_SIZE], device_point[CELLOTA_PUBLIC_KEY_SIZE];
    uint8_t device_secret[CELLOTA_DEVICE_KEY_SIZE];
    release r;

    CHECK_EQ_INT(host_random_open(&random, "test_agent wrapped patch"), HOST_EXIT_OK);
    mbedtls_pk_init(&operator_key);
    mbedtls_pk_init(&device_key);
    CHECK_EQ_INT(operator_key_generate(&operator_key, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_generate(&device_key, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&operator_key, operator_point), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&device_key, device_point), HOST_EXIT_OK);
    CHECK_EQ_INT(mbedtls_mpi_write_binary(&mbedtls_pk_ec(device_key)->d, device_secret, 32), 0);
    d->config.accept_unsigned = false;
    d->config.public_key = operator_point;
    d->config.device_key = device_secret;
    d->config.require_wrapped_key = true;
    d->config.decoder = &decoder;
    d->config.server = NULL;
    device_boot(d);
    device_run(d, 2000);

    release_make_encoded(&r, d, "2.0.0", true, d->factory.info.plain_sha256);
    release_for_device(&r, d->config.device_id, device_point, &operator_key, &random);
    CHECK(strstr(r.json, "\"patch\"") != NULL); /* the encoding kept */
    CHECK(strstr(r.json, "\"wrapped_key\"") != NULL);
    install_encoded(d, &r);
    test_image_free(&r.image);

    mbedtls_pk_free(&operator_key);
    mbedtls_pk_free(&device_key);
    host_random_close(&random);
    device_destroy(d);
}

int main(void)
{
    RUN(test_status_json);
    RUN(test_security);
    RUN(test_configuration_checks);
    RUN(test_poll_update_confirm_and_up_to_date);
    RUN(test_up_to_date_downloads_nothing);
    RUN(test_mqtt_request);
    RUN(test_subscribes_behind_queued_statuses);
    RUN(test_signatures);
    RUN(test_refusals_before_download);
    RUN(test_faults_resume_without_refetching);
    RUN(test_reset_mid_download_resumes_from_checkpoint);
    RUN(test_bad_url_then_alt_url);
    RUN(test_self_test_failure_rolls_back);
    RUN(test_modem_staged);
    RUN(test_encoded_updates);
    RUN(test_wrapped_patch);
    return test_summary();
}
