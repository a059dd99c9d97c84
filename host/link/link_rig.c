/* The link rig: device modem driver against the modem emulator on virtual time; see link_rig.h. */
#include "link_rig.h"

#include "core/error.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* Iterations at one virtual instant before time is pushed on anyway (a descriptor that stays
 * readable because the emulator is holding back must not stop the clock for ever). */
#define SAME_INSTANT_LIMIT 64
#define REAL_WAIT_MS 1

static uint32_t rig_now(void *context)
{
    const link_rig *rig = context;
    return (uint32_t)rig->now;
}

static size_t rig_uart_read(void *context, uint8_t *buffer, size_t capacity)
{
    return modem_emulator_uart_read(((link_rig *)context)->emulator, buffer, capacity);
}

static size_t rig_uart_write(void *context, const uint8_t *data, size_t length)
{
    return modem_emulator_uart_write(((link_rig *)context)->emulator, data, length);
}

static uint32_t rig_uart_take_errors(void *context)
{
    return modem_emulator_uart_take_errors(((link_rig *)context)->emulator);
}

static void rig_power_key(void *context, bool pressed)
{
    modem_emulator_power_key(((link_rig *)context)->emulator, pressed);
}

const cellota_modem_profile *link_rig_profile(modem_model model, bool flow_control)
{
    switch (model) {
    case MODEM_MODEL_SIM7600:
        /* With RTS/CTS the SIM7600 can push its data (docs/agent.md, Link efficiency). */
        return flow_control ? &cellota_sim7600_pushed : &cellota_sim7600;
    case MODEM_MODEL_SIM7000:
        return &cellota_sim7000;
    case MODEM_MODEL_SIM7070:
        return &cellota_sim7070;
    case MODEM_MODEL_SIM800:
        return &cellota_sim800;
    }
    return NULL;
}

int link_rig_create(link_rig *rig, modem_model model, const modem_emulator_options *options)
{
    unsigned index;
    int status;

    memset(rig, 0, sizeof(*rig));
    rig->emulator = modem_emulator_create(model, options, 0);
    if (!rig->emulator) {
        fprintf(stderr, "link: cannot create the %s emulator\n", modem_model_name(model));
        return -1;
    }
    rig->port.context = rig;
    rig->port.uart_read = rig_uart_read;
    rig->port.uart_write = rig_uart_write;
    rig->port.uart_take_errors = rig_uart_take_errors;
    rig->port.modem_power_key = rig_power_key;
    rig->port.now_ms = rig_now;
    rig->config.apn = "internet";
    rig->config.flow_control = options && options->hardware_flow_control;
    status = cellota_modem_init(&rig->modem, &rig->port,
                                link_rig_profile(model, rig->config.flow_control), &rig->config);
    for (index = 0; status == CELLOTA_OK && index < CELLOTA_MODEM_SOCKETS; index++)
        status = cellota_modem_socket_init(&rig->sockets[index], &rig->modem, (uint8_t)index,
                                           rig->receive_buffers[index], LINK_RIG_RECEIVE_SIZE,
                                           rig->send_buffers[index], LINK_RIG_SEND_SIZE);
    if (status != CELLOTA_OK) {
        fprintf(stderr, "link: modem driver: %s\n", cellota_strerror(status));
        link_rig_destroy(rig);
        return -1;
    }
    return 0;
}

void link_rig_destroy(link_rig *rig)
{
    if (rig->emulator)
        modem_emulator_destroy(rig->emulator);
    rig->emulator = NULL;
}

cellota_socket link_rig_socket(link_rig *rig, unsigned index)
{
    return cellota_modem_socket_handle(&rig->sockets[index]);
}

/* True when a server has sent something the emulator has yet to take. */
static bool network_ready(link_rig *rig, int wait_ms)
{
    struct pollfd descriptors[16];
    size_t count = modem_emulator_poll_fds(rig->emulator, descriptors, 16);
    return count && poll(descriptors, (nfds_t)count, wait_ms) > 0;
}

void link_rig_step(link_rig *rig, uint32_t max_step)
{
    uint64_t next;
    unsigned same_instant = 0, index;

    for (;;) {
        modem_emulator_stats before, after;
        modem_emulator_get_stats(rig->emulator, &before);
        cellota_modem_poll(&rig->modem, (uint32_t)rig->now);
        modem_emulator_poll(rig->emulator, rig->now);
        modem_emulator_get_stats(rig->emulator, &after);
        if (same_instant++ >= SAME_INSTANT_LIMIT)
            break;
        /* A device polls its driver continuously: bytes the line delivered at this instant are
         * read at this instant, not at the next step. Network traffic is real: take it now
         * rather than let virtual time pass while a loopback server answers. */
        if (after.bytes_to_device != before.bytes_to_device || network_ready(rig, 0))
            continue;
        break;
    }
    /* Received bytes wait for the application: it takes them before time moves on. */
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++)
        if (rig->sockets[index].receive_end != rig->sockets[index].receive_start &&
            rig->sockets[index].state == CELLOTA_SOCKET_STATE_OPEN &&
            rig->idle_steps++ < SAME_INSTANT_LIMIT)
            return;
    rig->idle_steps = 0;
    next = modem_emulator_next_event_ms(rig->emulator);
    if (next > rig->now + max_step) {
        /* Nothing scheduled soon: give a server a moment, for real, before time moves. */
        if (same_instant < SAME_INSTANT_LIMIT && network_ready(rig, REAL_WAIT_MS))
            return;
        next = rig->now + max_step;
    }
    rig->now = next > rig->now ? next : rig->now + 1;
}

/* --- fetch ------------------------------------------------------------------------------ */

typedef struct fetch {
    char request[512];
    size_t request_length, request_sent;
    char header[2048];
    size_t header_length;
    bool in_body;
    uint64_t offset; /* body bytes received and checked */
} fetch;

static bool wait_state(link_rig *rig, cellota_socket socket, cellota_socket_state wanted,
                       uint64_t deadline, int *error)
{
    while (rig->now < deadline) {
        cellota_socket_state state = socket.operations->state(socket.context, error);
        if (state == wanted)
            return true;
        if (state == CELLOTA_SOCKET_STATE_FAILED || state == CELLOTA_SOCKET_STATE_CLOSED)
            return false;
        link_rig_step(rig, 10);
    }
    *error = CELLOTA_TIMEOUT;
    return false;
}

/* Parses the response head; returns the body bytes to skip (0) or -1 on a bad status. */
static int check_head(const fetch *request, uint64_t offset)
{
    const char *status = request->header;
    if (strncmp(status, "HTTP/1.", 7) != 0 || request->header_length < 12)
        return -1;
    if (offset == 0 && strncmp(status + 9, "200", 3) == 0)
        return 0;
    if (strncmp(status + 9, "206", 3) == 0) {
        char expected[64];
        snprintf(expected, sizeof(expected), "Content-Range: bytes %" PRIu64 "-", offset);
        return strstr(request->header, expected) ? 0 : -1;
    }
    return -1;
}

/* One connection: returns 1 when the body completed, 0 when the socket failed (fault), -1 on a
 * fatal problem (bad response, corrupt data, timeout). */
static int fetch_once(link_rig *rig, const char *host, uint16_t port, const char *path,
                      const uint8_t *expected, size_t length, uint64_t deadline,
                      link_fetch_result *result)
{
    cellota_socket socket = link_rig_socket(rig, 0);
    fetch request;
    int error = CELLOTA_OK, status;
    uint8_t buffer[1500];

    memset(&request, 0, sizeof(request));
    request.offset = result->body_bytes;
    request.request_length = (size_t)snprintf(
        request.request, sizeof(request.request),
        "GET %s HTTP/1.1\r\nHost: %s:%u\r\nRange: bytes=%" PRIu64 "-\r\nConnection: close\r\n\r\n",
        path, host, port, request.offset);

    status = socket.operations->open(socket.context, CELLOTA_SOCKET_TCP, host, port);
    if (status != CELLOTA_IN_PROGRESS && status != CELLOTA_OK) {
        fprintf(stderr, "link: open: %s\n", cellota_strerror(status));
        return -1;
    }
    if (!wait_state(rig, socket, CELLOTA_SOCKET_STATE_OPEN, deadline, &error))
        goto failed;
    while (rig->now < deadline) {
        size_t received = 0, used = 0;
        if (request.request_sent < request.request_length) {
            size_t accepted = 0;
            status = socket.operations->send(
                socket.context, (const uint8_t *)request.request + request.request_sent,
                request.request_length - request.request_sent, &accepted);
            if (status != CELLOTA_OK) {
                error = status;
                goto failed;
            }
            request.request_sent += accepted;
        }
        status = socket.operations->receive(socket.context, buffer, sizeof(buffer), &received);
        while (used < received) {
            if (!request.in_body) {
                if (request.header_length + 1 >= sizeof(request.header)) {
                    fprintf(stderr, "link: response head too long\n");
                    return -1;
                }
                request.header[request.header_length++] = (char)buffer[used++];
                request.header[request.header_length] = 0;
                if (request.header_length >= 4 &&
                    memcmp(request.header + request.header_length - 4, "\r\n\r\n", 4) == 0) {
                    if (check_head(&request, request.offset) != 0) {
                        fprintf(stderr, "link: unexpected response: %.*s\n",
                                (int)strcspn(request.header, "\r"), request.header);
                        return -1;
                    }
                    request.in_body = true;
                }
                continue;
            }
            {
                size_t take = received - used;
                if (request.offset + take > length) {
                    fprintf(stderr, "link: body longer than the file\n");
                    result->corrupt = true;
                    return -1;
                }
                if (memcmp(buffer + used, expected + request.offset, take) != 0) {
                    result->corrupt = true;
                    fprintf(stderr, "link: corrupt data passed up at offset %" PRIu64 "\n",
                            request.offset);
                    return -1;
                }
                request.offset += take;
                result->body_bytes = request.offset;
                used = received;
            }
        }
        if (request.in_body && request.offset == length) {
            socket.operations->close(socket.context);
            wait_state(rig, socket, CELLOTA_SOCKET_STATE_CLOSED, deadline, &error);
            return 1;
        }
        if (status != CELLOTA_OK) {
            error = status;
            goto failed;
        }
        /* A FAILED socket may still deliver what the peer sent before it closed: receive says
         * when it is over (core/socket.h), so its status, not the state, ends the stream. */
        if (received == 0)
            link_rig_step(rig, 10);
    }
    error = CELLOTA_TIMEOUT;
failed:
    socket.operations->close(socket.context);
    {
        int ignored;
        uint64_t close_deadline = rig->now + 120000;
        while (rig->now < close_deadline &&
               socket.operations->state(socket.context, &ignored) != CELLOTA_SOCKET_STATE_CLOSED)
            link_rig_step(rig, 10);
    }
    if (error == CELLOTA_TIMEOUT && rig->now >= deadline) {
        fprintf(stderr, "link: timed out after %" PRIu64 " body bytes\n", result->body_bytes);
        return -1;
    }
    result->last_fault = error;
    return 0;
}

int link_rig_fetch(link_rig *rig, const char *host, uint16_t port, const char *path,
                   const uint8_t *expected, size_t length, uint32_t max_faults, uint64_t timeout_ms,
                   link_fetch_result *result)
{
    uint64_t deadline, started;
    memset(result, 0, sizeof(*result));

    /* Bring the modem up first: the measured time is the transfer, not the modem's boot. */
    deadline = rig->now + timeout_ms;
    cellota_modem_start(&rig->modem, (uint32_t)rig->now);
    for (;;) {
        int error = CELLOTA_OK;
        cellota_modem_state state = cellota_modem_status(&rig->modem, &error);
        if (state == CELLOTA_MODEM_READY)
            break;
        if (state == CELLOTA_MODEM_FAILED || rig->now >= deadline) {
            fprintf(stderr, "link: modem bring-up failed: %s\n",
                    cellota_strerror(state == CELLOTA_MODEM_FAILED ? error : CELLOTA_TIMEOUT));
            return -1;
        }
        link_rig_step(rig, 10);
    }
    started = rig->now;
    for (;;) {
        int outcome = fetch_once(rig, host, port, path, expected, length, deadline, result);
        result->elapsed_ms = rig->now - started;
        if (outcome == 1)
            return 0;
        if (outcome < 0)
            return -1;
        result->faults++;
        if (result->faults > max_faults) {
            fprintf(stderr, "link: gave up after %u faults (last: %s)\n", result->faults,
                    cellota_strerror(result->last_fault));
            return -1;
        }
    }
}

/* The emulator's tap, as text: ">" device to modem, "<" modem to device, "#" notes. Payload
 * runs are shown by their length so a 512 KiB transfer stays readable. */
void link_rig_log(void *user, uint64_t now_ms, modem_log_direction direction, const uint8_t *data,
                  size_t length)
{
    FILE *file = user;
    size_t index, binary = 0;
    fprintf(file, "%8" PRIu64 " %c ", now_ms,
            direction == MODEM_LOG_FROM_DEVICE ? '>'
            : direction == MODEM_LOG_TO_DEVICE ? '<'
                                               : '#');
    for (index = 0; index <= length; index++) {
        bool text = index < length && ((data[index] >= 0x20 && data[index] < 0x7f) ||
                                       data[index] == '\r' || data[index] == '\n');
        if (index < length && !text) {
            binary++;
            continue;
        }
        if (binary)
            fprintf(file, "[%zu bytes]", binary);
        binary = 0;
        if (index == length)
            break;
        if (data[index] == '\r')
            fputs("\\r", file);
        else if (data[index] == '\n')
            fputs("\\n", file);
        else
            fputc(data[index], file);
    }
    fputc('\n', file);
}
