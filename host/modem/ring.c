/*
 * The byte FIFO every buffer of the emulator is made of: the UART buffers on both sides, the
 * modem's output queue, socket buffers. It starts empty, grows by doubling up to its limit (so
 * an idle emulator costs little memory) and can insert in the middle, which the output queue
 * needs to place a URC between two lines of a reply.
 */
#include "emulator_internal.h"

#include <stdlib.h>
#include <string.h>

void ring_init(byte_ring *ring, size_t limit)
{
    memset(ring, 0, sizeof(*ring));
    ring->limit = limit;
}

void ring_free(byte_ring *ring)
{
    free(ring->data);
    ring->data = NULL;
    ring->capacity = 0;
    ring->head = 0;
    ring->length = 0;
}

void ring_clear(byte_ring *ring)
{
    ring->consumed += ring->length;
    ring->head = 0;
    ring->length = 0;
}

size_t ring_room(const byte_ring *ring)
{
    return ring->limit > ring->length ? ring->limit - ring->length : 0;
}

/* Makes room for `needed` bytes in total; the content is made contiguous from index 0. */
static bool ring_reserve(byte_ring *ring, size_t needed)
{
    size_t capacity;
    uint8_t *data;
    if (needed <= ring->capacity)
        return true;
    if (needed > ring->limit)
        return false;
    capacity = ring->capacity ? ring->capacity : 256;
    while (capacity < needed)
        capacity *= 2;
    if (capacity > ring->limit)
        capacity = ring->limit;
    data = malloc(capacity);
    if (!data)
        return false;
    ring_peek(ring, 0, data, ring->length);
    free(ring->data);
    ring->data = data;
    ring->capacity = capacity;
    ring->head = 0;
    return true;
}

size_t ring_push(byte_ring *ring, const void *data, size_t length)
{
    const uint8_t *bytes = data;
    size_t room = ring_room(ring), tail, first;
    if (length > room)
        length = room;
    if (length == 0)
        return 0;
    if (!ring_reserve(ring, ring->length + length)) {
        /* out of memory: take what the current allocation holds */
        length = ring->capacity - ring->length;
        if (length == 0)
            return 0;
    }
    tail = (ring->head + ring->length) % ring->capacity;
    first = ring->capacity - tail;
    if (first > length)
        first = length;
    memcpy(ring->data + tail, bytes, first);
    memcpy(ring->data, bytes + first, length - first);
    ring->length += length;
    return length;
}

size_t ring_peek(const byte_ring *ring, size_t offset, void *out, size_t length)
{
    uint8_t *bytes = out;
    size_t start, first;
    if (offset >= ring->length)
        return 0;
    if (length > ring->length - offset)
        length = ring->length - offset;
    if (length == 0)
        return 0;
    start = (ring->head + offset) % ring->capacity;
    first = ring->capacity - start;
    if (first > length)
        first = length;
    memcpy(bytes, ring->data + start, first);
    memcpy(bytes + first, ring->data, length - first);
    return length;
}

size_t ring_pop(byte_ring *ring, void *out, size_t length)
{
    if (length > ring->length)
        length = ring->length;
    if (out)
        ring_peek(ring, 0, out, length);
    if (length) {
        ring->head = (ring->head + length) % ring->capacity;
        ring->length -= length;
        ring->consumed += length;
    }
    if (ring->length == 0)
        ring->head = 0;
    return length;
}

uint8_t ring_at(const byte_ring *ring, size_t offset)
{
    return ring->data[(ring->head + offset) % ring->capacity];
}

bool ring_insert(byte_ring *ring, size_t offset, const void *data, size_t length)
{
    size_t tail_length, index;
    if (offset > ring->length || length > ring_room(ring))
        return false;
    if (!ring_reserve(ring, ring->length + length))
        return false;
    tail_length = ring->length - offset;
    ring->length += length;
    /* move the tail back by `length`, last byte first */
    for (index = tail_length; index > 0; index--) {
        size_t from = (ring->head + offset + index - 1) % ring->capacity;
        size_t to = (ring->head + offset + length + index - 1) % ring->capacity;
        ring->data[to] = ring->data[from];
    }
    for (index = 0; index < length; index++)
        ring->data[(ring->head + offset + index) % ring->capacity] = ((const uint8_t *)data)[index];
    return true;
}
