/*
 * The MQTT client against a real mosquitto on loopback (started here on a free port, stopped at
 * exit), over the Linux socket port, observed with mosquitto_sub and fed with mosquitto_pub:
 * connect with a last will, subscribe, receive QoS 1, publish QoS 0 and 1, keep-alive pings,
 * the will published when the socket is cut, a dead (frozen) broker noticed by the ping
 * timeout, reconnecting after the broker restarts, and a QoS 1 message re-sent with DUP to the
 * restarted broker until acknowledged; and against a broker that wants credentials, a refusal
 * as a named error without them and a session with them.
 */
#include "test.h"

#include "core/error.h"
#include "net/mqtt.h"
#include "posix_socket.h"
#include "support/servers.h"

#include <signal.h>
#include <sys/socket.h>

#define KEEPALIVE_S 2

static test_server broker;
static char port_text[8];
static char observed[400]; /* mosquitto_sub's output */
static pid_t observer;

typedef struct device {
    cellota_posix_socket socket;
    cellota_mqtt_client client;
    cellota_mqtt_will will;
    uint8_t receive[512], send[512];
    int connected, disconnected, messages, published, subscribed;
    int last_disconnect_error;
    bool last_session_present;
    char last_topic[64], last_payload[128];
    bool last_duplicate;
    uint8_t last_qos;
} device;

static device unit;

static void on_event(void *context, const cellota_mqtt_event *event)
{
    device *d = context;
    switch (event->type) {
    case CELLOTA_MQTT_EVENT_CONNECTED:
        d->connected++;
        d->last_session_present = event->session_present;
        /* A clean session forgets subscriptions: subscribe at every connect. */
        cellota_mqtt_subscribe(&d->client, "cellota/dev1/update", 1, NULL);
        break;
    case CELLOTA_MQTT_EVENT_DISCONNECTED:
        d->disconnected++;
        d->last_disconnect_error = event->error;
        break;
    case CELLOTA_MQTT_EVENT_MESSAGE:
        d->messages++;
        snprintf(d->last_topic, sizeof(d->last_topic), "%.*s", (int)event->message.topic_length,
                 event->message.topic);
        snprintf(d->last_payload, sizeof(d->last_payload), "%.*s",
                 (int)event->message.payload_length, (const char *)event->message.payload);
        d->last_duplicate = event->message.duplicate;
        d->last_qos = event->message.qos;
        break;
    case CELLOTA_MQTT_EVENT_PUBLISHED:
        d->published++;
        break;
    case CELLOTA_MQTT_EVENT_SUBSCRIBED:
        if (event->error == CELLOTA_OK && event->granted_qos == 1)
            d->subscribed++;
        break;
    default:
        break;
    }
}

static void device_init(device *d)
{
    cellota_mqtt_config config;
    memset(d, 0, sizeof(*d));
    cellota_posix_socket_init(&d->socket);
    d->will.topic = "cellota/dev1/online";
    d->will.payload = (const uint8_t *)"offline";
    d->will.payload_length = 7;
    d->will.qos = 1;
    cellota_mqtt_config_default(&config);
    config.host = "127.0.0.1";
    config.port = broker.port;
    config.connect.client_id = "dev1";
    config.connect.keepalive_s = KEEPALIVE_S;
    config.connect.clean_session = true;
    config.connect.will = &d->will;
    config.receive_buffer = d->receive;
    config.receive_size = sizeof(d->receive);
    config.send_buffer = d->send;
    config.send_size = sizeof(d->send);
    config.ping_timeout_ms = 2000;
    config.backoff_min_ms = 200;
    config.backoff_max_ms = 1000;
    config.random_seed = 42;
    config.on_event = on_event;
    config.context = d;
    CHECK_EQ_INT(cellota_mqtt_init(&d->client, &d->socket.socket, &config), CELLOTA_OK);
}

/* Polls the client in real time until `*counter` reaches `target` or timeout_ms passes. */
static bool pump_until(const int *counter, int target, uint32_t timeout_ms)
{
    uint32_t start = test_now_ms();
    while (test_now_ms() - start < timeout_ms) {
        cellota_mqtt_poll(&unit.client, test_now_ms());
        if (counter && *counter >= target)
            return true;
        test_sleep_ms(2);
    }
    return counter == NULL;
}

/* Polls until the observer's output contains `text`. */
static bool pump_until_observed(const char *text, uint32_t timeout_ms)
{
    uint32_t start = test_now_ms();
    while (test_now_ms() - start < timeout_ms) {
        cellota_mqtt_poll(&unit.client, test_now_ms());
        if (test_file_count(observed, text) > 0)
            return true;
        test_sleep_ms(2);
    }
    return false;
}

static bool start_observer(void)
{
    char *argv[] = {"mosquitto_sub",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    port_text,
                    "-i",
                    "observer",
                    "-q",
                    "1",
                    "-v",
                    "-t",
                    "cellota/dev1/status",
                    "-t",
                    "cellota/dev1/online",
                    NULL};
    int before = test_file_count(broker.log, "Sending SUBACK to observer");
    observer = test_process_start(argv, observed);
    if (observer < 0)
        return false;
    /* Subscribed once the broker says so: no sleeping and hoping. */
    {
        uint32_t start = test_now_ms();
        while (test_file_count(broker.log, "Sending SUBACK to observer") <= before) {
            if (test_now_ms() - start > 5000)
                return false;
            test_sleep_ms(5);
        }
    }
    return true;
}

static int publish_with_mosquitto_pub(const char *topic, const char *message)
{
    char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port_text,     "-i",
                    "operator",      "-q", "1",         "-t", (char *)topic, "-m",
                    (char *)message, NULL};
    return test_process_run(argv, 10000);
}

static void test_connect_subscribe_and_receive_qos1(void)
{
    device_init(&unit);
    CHECK_EQ_INT(cellota_mqtt_start(&unit.client, test_now_ms()), CELLOTA_IN_PROGRESS);
    CHECK(pump_until(&unit.subscribed, 1, 5000));
    CHECK_EQ_INT(unit.connected, 1);
    CHECK(test_file_count(broker.log, "as dev1 (p2, c1, k2)") == 1); /* 3.1.1, clean, keepalive */
    CHECK_EQ_INT(publish_with_mosquitto_pub("cellota/dev1/update", "{\"type\":\"update_fw\"}"), 0);
    CHECK(pump_until(&unit.messages, 1, 5000));
    CHECK_EQ_STR(unit.last_topic, "cellota/dev1/update");
    CHECK_EQ_STR(unit.last_payload, "{\"type\":\"update_fw\"}");
    CHECK_EQ_INT(unit.last_qos, 1);
    pump_until(NULL, 0, 100);
    CHECK(test_file_wait_for(broker.log, "Received PUBACK from dev1", 2000));
}

static void test_publish_qos0_and_qos1_seen_by_a_subscriber(void)
{
    CHECK_EQ_INT(cellota_mqtt_publish(&unit.client, "cellota/dev1/status",
                                      (const uint8_t *)"{\"state\":\"idle\"}", 16, 0, false, NULL),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_mqtt_publish(&unit.client, "cellota/dev1/status",
                                      (const uint8_t *)"{\"progress\":50}", 15, 1, false, NULL),
                 CELLOTA_OK);
    CHECK(pump_until(&unit.published, 1, 5000));
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&unit.client), 0);
    CHECK(pump_until_observed("cellota/dev1/status {\"state\":\"idle\"}", 5000));
    CHECK(pump_until_observed("cellota/dev1/status {\"progress\":50}", 5000));
}

static void test_keepalive_pings(void)
{
    int before = test_file_count(broker.log, "Sending PINGRESP to dev1");
    pump_until(NULL, 0, (KEEPALIVE_S * 1000) * 2 + 500);
    CHECK(test_file_count(broker.log, "Sending PINGRESP to dev1") >= before + 2);
    CHECK_EQ_INT(unit.disconnected, 0);
    CHECK_EQ_INT(cellota_mqtt_poll(&unit.client, test_now_ms()), CELLOTA_OK);
}

static void test_will_when_the_socket_is_cut(void)
{
    int connected = unit.connected;
    /* The connection ends without DISCONNECT, as when a device loses power or its link. */
    shutdown(unit.socket.fd, SHUT_RDWR);
    CHECK(pump_until_observed("cellota/dev1/online offline", 5000));
    CHECK(pump_until(&unit.connected, connected + 1, 5000));
    CHECK_EQ_INT(unit.last_disconnect_error, CELLOTA_SOCKET_CLOSED);
    CHECK(!unit.last_session_present);
    CHECK(pump_until(&unit.subscribed, 2, 5000));
}

static void test_frozen_broker_is_noticed_by_the_ping_timeout(void)
{
    int disconnected = unit.disconnected, connected = unit.connected;
    uint32_t frozen_at = test_now_ms();
    test_server_freeze(&broker, true);
    CHECK(pump_until(&unit.disconnected, disconnected + 1, 10000));
    CHECK_EQ_INT(unit.last_disconnect_error, CELLOTA_NET_MQTT_PING_TIMEOUT);
    /* At most a keep-alive until the ping, and the ping timeout after it. */
    CHECK(test_now_ms() - frozen_at <= KEEPALIVE_S * 1000 + 2000 + 500);
    test_server_freeze(&broker, false);
    CHECK(pump_until(&unit.connected, connected + 1, 10000));
    CHECK(pump_until(&unit.subscribed, 3, 5000));
}

static void test_reconnect_after_broker_restart(void)
{
    int connected = unit.connected, messages = unit.messages;
    test_process_stop(observer);
    CHECK_EQ_INT(test_server_restart(&broker), 0);
    CHECK(pump_until(&unit.connected, connected + 1, 10000));
    CHECK(pump_until(&unit.subscribed, 4, 5000));
    CHECK_EQ_INT(publish_with_mosquitto_pub("cellota/dev1/update", "after-restart"), 0);
    CHECK(pump_until(&unit.messages, messages + 1, 5000));
    CHECK_EQ_STR(unit.last_payload, "after-restart");
}

static void test_qos1_resent_to_a_restarted_broker(void)
{
    int published = unit.published, connected = unit.connected;
    /* The broker stops answering, then dies: the message went out but was never acknowledged. */
    test_server_freeze(&broker, true);
    CHECK_EQ_INT(cellota_mqtt_publish(&unit.client, "cellota/dev1/status",
                                      (const uint8_t *)"{\"state\":\"confirmed\"}", 21, 1, false,
                                      NULL),
                 CELLOTA_OK);
    pump_until(NULL, 0, 200);
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&unit.client), 1);
    kill(broker.pid, SIGKILL);
    CHECK_EQ_INT(test_server_restart(&broker), 0);
    CHECK(start_observer());
    CHECK(pump_until(&unit.published, published + 1, 10000));
    CHECK(unit.connected > connected);
    CHECK_EQ_INT(cellota_mqtt_unacknowledged(&unit.client), 0);
    CHECK(pump_until_observed("cellota/dev1/status {\"state\":\"confirmed\"}", 5000));
    CHECK(test_file_count(broker.log, "Received PUBLISH from dev1 (d1, q1") >= 1);
}

static void test_clean_stop_sends_no_will(void)
{
    uint32_t start = test_now_ms();
    int wills = test_file_count(observed, "cellota/dev1/online offline");
    CHECK_EQ_INT(cellota_mqtt_stop(&unit.client), CELLOTA_OK);
    while (cellota_mqtt_poll(&unit.client, test_now_ms()) != CELLOTA_NET_MQTT_NOT_CONNECTED &&
           test_now_ms() - start < 2000)
        test_sleep_ms(2);
    CHECK(test_file_wait_for(broker.log, "Received DISCONNECT from dev1", 2000));
    pump_until(NULL, 0, 300);
    CHECK(test_file_wait_for(broker.log, "Client dev1 disconnected.", 2000));
    CHECK_EQ_INT(test_file_count(observed, "cellota/dev1/online offline"), wills);
}

/* A broker that wants a user name and password: refused without, accepted with. */
static void test_credentials_against_a_locked_broker(void)
{
    static test_server locked;
    static char passwords[420], extra[700];
    static device guest;
    char *argv[] = {"mosquitto_passwd", "-b", "-c", passwords, "fleet", "s3cret", NULL};
    cellota_mqtt_config config;
    uint32_t start;
    int result = CELLOTA_IN_PROGRESS;
    snprintf(passwords, sizeof(passwords), "%s.passwords", observed);
    CHECK_EQ_INT(test_process_run(argv, 10000), 0);
    snprintf(extra, sizeof(extra), "allow_anonymous false\npassword_file %s\n", passwords);
    if (test_mosquitto_start(&locked, 0, extra) != 0) {
        CHECK(!"the locked mosquitto did not start");
        return;
    }

    memset(&guest, 0, sizeof(guest));
    cellota_posix_socket_init(&guest.socket);
    cellota_mqtt_config_default(&config);
    config.host = "127.0.0.1";
    config.port = locked.port;
    config.connect.client_id = "dev2";
    config.connect.clean_session = true;
    config.receive_buffer = guest.receive;
    config.receive_size = sizeof(guest.receive);
    config.send_buffer = guest.send;
    config.send_size = sizeof(guest.send);
    CHECK_EQ_INT(cellota_mqtt_init(&guest.client, &guest.socket.socket, &config), CELLOTA_OK);
    cellota_mqtt_start(&guest.client, test_now_ms());
    start = test_now_ms();
    while (result == CELLOTA_IN_PROGRESS && test_now_ms() - start < 5000) {
        result = cellota_mqtt_poll(&guest.client, test_now_ms());
        test_sleep_ms(2);
    }
    CHECK_EQ_INT(result, CELLOTA_NET_MQTT_REFUSED_NOT_AUTHORIZED);
    cellota_mqtt_stop(&guest.client);
    cellota_mqtt_poll(&guest.client, test_now_ms());

    config.connect.username = "fleet";
    config.connect.password = "s3cret";
    CHECK_EQ_INT(cellota_mqtt_init(&guest.client, &guest.socket.socket, &config), CELLOTA_OK);
    cellota_mqtt_start(&guest.client, test_now_ms());
    start = test_now_ms();
    do {
        result = cellota_mqtt_poll(&guest.client, test_now_ms());
        test_sleep_ms(2);
    } while (result != CELLOTA_OK && test_now_ms() - start < 5000);
    CHECK_EQ_INT(result, CELLOTA_OK);
    CHECK(test_file_count(locked.log, "as dev2 (p2, c1, k0, u'fleet')") == 1);
    cellota_mqtt_stop(&guest.client);
    cellota_mqtt_poll(&guest.client, test_now_ms());
    test_server_stop(&locked);
}

int main(void)
{
    static char directory[300];
    signal(SIGPIPE, SIG_IGN);
    if (test_temp_directory(directory, sizeof(directory)) != 0)
        return 1;
    snprintf(observed, sizeof(observed), "%s/observed.txt", directory);
    if (test_mosquitto_start(&broker, 0, NULL) != 0) {
        fprintf(stderr, "test_mqtt_mosquitto: mosquitto did not start (scripts/install-deps.sh)\n");
        return 1;
    }
    snprintf(port_text, sizeof(port_text), "%u", broker.port);
    if (!start_observer()) {
        fprintf(stderr, "test_mqtt_mosquitto: mosquitto_sub did not subscribe\n");
        return 1;
    }
    RUN(test_connect_subscribe_and_receive_qos1);
    RUN(test_publish_qos0_and_qos1_seen_by_a_subscriber);
    RUN(test_keepalive_pings);
    RUN(test_will_when_the_socket_is_cut);
    RUN(test_frozen_broker_is_noticed_by_the_ping_timeout);
    RUN(test_reconnect_after_broker_restart);
    RUN(test_qos1_resent_to_a_restarted_broker);
    RUN(test_clean_stop_sends_no_will);
    RUN(test_credentials_against_a_locked_broker);
    test_process_stop(observer);
    test_server_stop(&broker);
    return test_summary();
}
