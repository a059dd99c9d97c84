/*
 * libFuzzer target for the AT line and data parser: arbitrary modem output through the engine
 * and, above it, a profile's driver with two open sockets (or the SIM7600 file-system reader),
 * cut into pieces whose sizes the input chooses, with reads flagged as damaged where it says.
 * Nothing may crash, touch memory outside a buffer, loop without end, or hand a socket more
 * bytes than its buffer holds.
 *
 * Input: byte 0 picks the target (a profile, or the file reader), bytes 1-4 seed the piece
 * sizes, byte 5 is the chance a read is flagged damaged; the rest is what the modem says.
 */
#include "at/modem.h"
#include "at/sim7600_fs.h"
#include "core/error.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct feed {
    const uint8_t *data;
    size_t size, offset;
    uint32_t random, now, damaged;
    uint8_t damage_chance;
} feed;

static uint32_t next_random(feed *f)
{
    f->random = f->random * 1103515245u + 12345u;
    return f->random >> 16;
}

static size_t feed_read(void *context, uint8_t *buffer, size_t capacity)
{
    feed *f = context;
    size_t count = 1 + next_random(f) % 80;
    if (count > capacity)
        count = capacity;
    if (count > f->size - f->offset)
        count = f->size - f->offset;
    memcpy(buffer, f->data + f->offset, count);
    f->offset += count;
    if (count && (next_random(f) & 0xff) < f->damage_chance)
        f->damaged += (uint32_t)count;
    return count;
}

static size_t feed_write(void *context, const uint8_t *data, size_t length)
{
    feed *f = context;
    (void)data;
    /* Sometimes the UART is full: writes must resume where they stopped. */
    return (next_random(f) & 7) == 0 ? 0 : length;
}

static uint32_t feed_errors(void *context)
{
    feed *f = context;
    uint32_t count = f->damaged;
    f->damaged = 0;
    return count;
}

static uint32_t feed_now(void *context)
{
    return ((feed *)context)->now;
}

static void power_key(void *context, bool pressed)
{
    (void)context;
    (void)pressed;
}

static void check(bool condition)
{
    if (!condition)
        __builtin_trap();
}

static void drive_modem(feed *f, const cellota_port *port, const cellota_modem_profile *profile,
                        bool tls)
{
    static const cellota_modem_config config = {.apn = "internet", .ca_file = "ca.pem"};
    cellota_modem modem;
    cellota_modem_socket sockets[2];
    cellota_socket handles[2];
    uint8_t receive_buffers[2][300], send_buffers[2][64], sink[97];
    int index, step, idle;

    cellota_modem_init(&modem, port, profile, &config);
    for (index = 0; index < 2; index++) {
        cellota_modem_socket_init(&sockets[index], &modem, (uint8_t)index, receive_buffers[index],
                                  sizeof(receive_buffers[index]), send_buffers[index],
                                  sizeof(send_buffers[index]));
        handles[index] = cellota_modem_socket_handle(&sockets[index]);
        handles[index].operations->open(handles[index].context,
                                        tls && index == 0 ? CELLOTA_SOCKET_TLS : CELLOTA_SOCKET_TCP,
                                        "example.com", 80);
    }
    /* While there is input, small steps; then big ones, so every timeout fires. */
    for (step = 0, idle = 0; step < 20000 && idle < 300; step++) {
        bool exhausted = f->offset >= f->size;
        idle += exhausted;
        f->now += exhausted ? 700 : 7;
        cellota_modem_poll(&modem, f->now);
        for (index = 0; index < 2; index++) {
            size_t got = 0, accepted = 0;
            int state = handles[index].operations->state(handles[index].context, NULL);
            handles[index].operations->receive(handles[index].context, sink, sizeof(sink), &got);
            check(got <= sizeof(sink));
            check(sockets[index].receive_start <= sockets[index].receive_end);
            check(sockets[index].receive_end <= sockets[index].receive_size);
            check(sockets[index].send_length <= sockets[index].send_size);
            if (state == CELLOTA_SOCKET_STATE_OPEN && step % 37 == 0)
                handles[index].operations->send(handles[index].context, (const uint8_t *)"ping", 4,
                                                &accepted);
            if (state == CELLOTA_SOCKET_STATE_FAILED && step % 53 == 0)
                handles[index].operations->close(handles[index].context);
            if (state == CELLOTA_SOCKET_STATE_CLOSED && step % 61 == 0)
                handles[index].operations->open(handles[index].context, CELLOTA_SOCKET_TCP,
                                                "example.com", 80);
        }
    }
}

static void entry(void *user, const char *name)
{
    (void)user;
    check(strlen(name) < CELLOTA_AT_LINE_SIZE);
}

static void drive_files(feed *f, const cellota_port *port)
{
    cellota_at at;
    cellota_sim7600_fs fs;
    uint8_t buffer[200];
    uint32_t count;
    int round, step;

    cellota_at_init(&at, port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&fs, &at);
    for (round = 0; round < 3; round++) {
        if (round == 0)
            cellota_sim7600_fs_read(&fs, "image.ebin", 100, buffer, sizeof(buffer), f->now);
        else if (round == 1)
            cellota_sim7600_fs_list(&fs, entry, NULL, f->now);
        else
            cellota_sim7600_fs_size(&fs, "image.ebin", f->now);
        for (step = 0; step < 5000 && cellota_sim7600_fs_status(&fs, &count) == CELLOTA_IN_PROGRESS;
             step++) {
            f->now += f->offset < f->size ? 7 : 700;
            cellota_at_poll(&at, f->now);
        }
        check(round != 0 || count <= sizeof(buffer));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cellota_modem_profile *const profiles[] = {&cellota_sim7600, &cellota_sim7000,
                                                            &cellota_sim7070, &cellota_sim800,
                                                            &cellota_sim7600_pushed};
    feed f;
    cellota_port port;
    uint8_t target;

    if (size < 6)
        return 0;
    memset(&f, 0, sizeof(f));
    target = data[0];
    f.random = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
               (uint32_t)data[4] << 24;
    f.damage_chance = data[5];
    f.data = data + 6;
    f.size = size - 6;

    memset(&port, 0, sizeof(port));
    port.context = &f;
    port.uart_read = feed_read;
    port.uart_write = feed_write;
    port.uart_take_errors = feed_errors;
    port.now_ms = feed_now;
    port.modem_power_key = power_key;

    if (target % 6 == 5)
        drive_files(&f, &port);
    else
        drive_modem(&f, &port, profiles[target % 6], (target & 0x80) != 0);
    return 0;
}
