/*
 * A modem driver on the transcript double (transcript.h), with two sockets (links 0 and 1) and
 * virtual time, for the profile tests. Include after test.h.
 *
 * Every poll also drains both sockets into `received`, as a client would, and remembers the last
 * result other than CELLOTA_OK, so a test can check both what arrived and how the stream ended.
 */
#ifndef CELLOTA_TESTS_MODEM_RIG_H
#define CELLOTA_TESTS_MODEM_RIG_H

#include "at/modem.h"
#include "core/error.h"
#include "transcript.h"

#define RIG_STEP_MS 10

typedef struct modem_rig {
    transcript t;
    cellota_port port;
    cellota_modem modem;
    cellota_modem_socket sockets[2];
    cellota_socket handles[2];
    uint8_t receive_buffers[2][1500];
    uint8_t send_buffers[2][512];
    uint8_t received[2][32768];
    size_t received_count[2];
    int receive_result[2];
    size_t receive_capacity; /* bytes a drain takes at most (to test a slow client) */
} modem_rig;

/*
 * Loads transcript `name`, optionally inserts `inject` (an entry in transcript syntax) before
 * entry `inject_at`, and starts a modem with `profile` on it. Returns false when the
 * transcript cannot be loaded.
 */
static inline bool rig_begin(modem_rig *r, const char *name, const cellota_modem_profile *profile,
                             const cellota_modem_config *config, uint8_t split, uint32_t seed,
                             const char *inject, uint32_t inject_at)
{
    memset(r->received_count, 0, sizeof(r->received_count));
    r->receive_result[0] = r->receive_result[1] = CELLOTA_OK;
    r->receive_capacity = sizeof(r->received[0]);
    if (!transcript_load(&r->t, name))
        return false;
    if (inject)
        transcript_insert(&r->t, inject_at, inject);
    transcript_reset(&r->t, split, seed);
    r->port = transcript_port(&r->t);
    if (cellota_modem_init(&r->modem, &r->port, profile, config) != CELLOTA_OK)
        return false;
    cellota_modem_socket_init(&r->sockets[0], &r->modem, 0, r->receive_buffers[0],
                              sizeof(r->receive_buffers[0]), r->send_buffers[0],
                              sizeof(r->send_buffers[0]));
    cellota_modem_socket_init(&r->sockets[1], &r->modem, 1, r->receive_buffers[1],
                              sizeof(r->receive_buffers[1]), r->send_buffers[1],
                              sizeof(r->send_buffers[1]));
    r->handles[0] = cellota_modem_socket_handle(&r->sockets[0]);
    r->handles[1] = cellota_modem_socket_handle(&r->sockets[1]);
    return true;
}

static inline void rig_step(modem_rig *r)
{
    int index;
    r->t.now += RIG_STEP_MS;
    r->handles[0].operations->poll(r->handles[0].context, r->t.now);
    for (index = 0; index < 2; index++) {
        cellota_socket *handle = &r->handles[index];
        size_t got = 0;
        size_t room = sizeof(r->received[index]) - r->received_count[index];
        int result;
        if (room > r->receive_capacity)
            room = r->receive_capacity;
        result = handle->operations->receive(
            handle->context, r->received[index] + r->received_count[index], room, &got);
        r->received_count[index] += got;
        if (result != CELLOTA_OK && result != CELLOTA_SOCKET_NOT_OPEN)
            r->receive_result[index] = result;
    }
}

/* Plays until checkpoint `name` (NULL: the end) is reached and a few more steps, at most
 * `limit_ms` of virtual time. False when the device strayed from the transcript or time ran out. */
static inline bool rig_play(modem_rig *r, const char *name, uint32_t limit_ms)
{
    uint32_t start = r->t.now;
    int index;
    while (!transcript_reached(&r->t, name)) {
        if (r->t.failures || r->t.now - start > limit_ms)
            break;
        rig_step(r);
    }
    for (index = 0; index < 5 && !r->t.failures; index++)
        rig_step(r);
    if (r->t.failures || !transcript_reached(&r->t, name)) {
        fprintf(stderr, "%s (split %d seed %u): %s at %s\n", r->t.name, r->t.split,
                (unsigned)r->t.random, r->t.failures ? r->t.failure : "did not reach",
                name ? name : "the end");
        return false;
    }
    return true;
}

/* Steps for `ms` of virtual time. */
static inline void rig_wait(modem_rig *r, uint32_t ms)
{
    uint32_t start = r->t.now;
    while (r->t.now - start < ms && !r->t.failures)
        rig_step(r);
}

static inline int rig_state(modem_rig *r, int socket, int *error)
{
    return r->handles[socket].operations->state(r->handles[socket].context, error);
}

static inline int rig_open(modem_rig *r, int socket, cellota_socket_kind kind, const char *host,
                           uint16_t port)
{
    return r->handles[socket].operations->open(r->handles[socket].context, kind, host, port);
}

static inline int rig_send(modem_rig *r, int socket, const char *text)
{
    size_t accepted = 0;
    int result = r->handles[socket].operations->send(
        r->handles[socket].context, (const uint8_t *)text, strlen(text), &accepted);
    return result == CELLOTA_OK && accepted != strlen(text) ? CELLOTA_BUFFER_TOO_SMALL : result;
}

static inline int rig_close(modem_rig *r, int socket)
{
    return r->handles[socket].operations->close(r->handles[socket].context);
}

/* True when socket `socket` received exactly payload stream bytes [first, first + count). */
static inline bool rig_received_payload(modem_rig *r, int socket, uint32_t first, uint32_t count)
{
    uint32_t index;
    if (r->received_count[socket] != count) {
        fprintf(stderr, "%s: socket %d received %zu bytes, expected %u\n", r->t.name, socket,
                r->received_count[socket], (unsigned)count);
        return false;
    }
    for (index = 0; index < count; index++) {
        if (r->received[socket][index] != transcript_payload(first + index)) {
            fprintf(stderr, "%s: socket %d byte %u differs\n", r->t.name, socket, (unsigned)index);
            return false;
        }
    }
    return true;
}

#endif
