/*
 * A whole device application, for `make size`'s extra "application" line (not the budget
 * line): what an ESP32-style A/B device with a SIM7600 really links and holds -- the modem
 * driver with two sockets (MQTT on link 0, HTTP on link 1, buffers as cellota-device sizes
 * them), the agent with its buffers at agent.h's sizes, polling and MQTT both on. The board's
 * port, clock and self-test are the target's (unresolved here).
 */
#include "agent/agent.h"
#include "at/modem.h"
#include "core/error.h"

#ifndef SIZE_PROFILE /* the modem profile size.sh counts (MODEM_PROFILE) */
#define SIZE_PROFILE cellota_sim7600
#endif

extern const cellota_port size_board_port;
uint32_t size_now(void);
int size_self_test(void *context, uint32_t now_ms);

static const cellota_modem_config modem_config = {"internet", NULL, NULL, NULL,  NULL,
                                                  NULL,       0,    0,    false, 0};
static cellota_modem modem;
static cellota_modem_socket sockets[2];
static cellota_socket handles[2];
static uint8_t receive_buffers[2][1500];
static uint8_t send_buffers[2][1024];
/* The agent's buffers at agent.h's sizes (cellota_agent_memory without the modem strategy's
 * staging buffer, which A/B does not use). */
static char http_buffer[CELLOTA_AGENT_HTTP_SIZE];
static char url_buffer[CELLOTA_REQUEST_URL_MAX + 1];
static char request_buffer[CELLOTA_AGENT_REQUEST_SIZE];
static char status_buffer[CELLOTA_AGENT_STATUS_SIZE];
static uint8_t mqtt_receive_buffer[CELLOTA_AGENT_REQUEST_SIZE + 128];
static uint8_t mqtt_send_buffer[CELLOTA_AGENT_MQTT_SEND_SIZE];
static cellota_agent_config config;
static cellota_agent agent;

static void network_poll(void *context, uint32_t now_ms)
{
    cellota_modem_poll(context, now_ms);
}

void size_application_main(void);
void size_application_main(void)
{
    int link;
    if (cellota_modem_init(&modem, &size_board_port, &SIZE_PROFILE, &modem_config) != CELLOTA_OK)
        return;
    for (link = 0; link < 2; link++) {
        if (cellota_modem_socket_init(&sockets[link], &modem, (uint8_t)link, receive_buffers[link],
                                      sizeof(receive_buffers[link]), send_buffers[link],
                                      sizeof(send_buffers[link])) != CELLOTA_OK)
            return;
        handles[link] = cellota_modem_socket_handle(&sockets[link]);
    }
    cellota_modem_start(&modem, size_now());
    config.port = &size_board_port;
    config.layout = &cellota_boot_layout_esp32_4mb;
    config.strategy = CELLOTA_AGENT_STAGE_AB;
    config.device_id = "device";
    config.model = "sim7600";
    config.server = "http://updates.example.com";
    config.mqtt_host = "broker.example.com";
    config.mqtt_port = 1883;
    config.http_socket = &handles[1];
    config.mqtt_socket = &handles[0];
    config.network_poll = network_poll;
    config.network_context = &modem;
    config.self_test = size_self_test;
    config.buffers.http = http_buffer;
    config.buffers.http_size = sizeof(http_buffer);
    config.buffers.url = url_buffer;
    config.buffers.url_size = sizeof(url_buffer);
    config.buffers.request = request_buffer;
    config.buffers.request_size = sizeof(request_buffer);
    config.buffers.status = status_buffer;
    config.buffers.status_size = sizeof(status_buffer);
    config.buffers.mqtt_receive = mqtt_receive_buffer;
    config.buffers.mqtt_receive_size = sizeof(mqtt_receive_buffer);
    config.buffers.mqtt_send = mqtt_send_buffer;
    config.buffers.mqtt_send_size = sizeof(mqtt_send_buffer);
    if (cellota_agent_init(&agent, &config) != CELLOTA_OK)
        return;
    while (cellota_agent_poll(&agent, size_now()) == CELLOTA_IN_PROGRESS)
        ;
}
