/*
 * The CLZ1 decoder (contract in delta.h, format in docs/image-format.md).
 *
 * Input is gathered in a 128-byte buffer and one operation (a literal or a copy) is decoded
 * only when the buffer holds every byte it could need: CELLOTA_DELTA_OPERATION_BYTES_MAX, or
 * the rest of the segment when that is less. So the range decoder never stops halfway through a
 * symbol, and its state between calls is just range and code. Reading past the segment's coded
 * length means the stream is corrupt, and is caught after the operation.
 */
#include "image/delta.h"

#include "core/compiler.h"
#include "core/error.h"

#include <string.h>

enum { PHASE_HEADER, PHASE_LENGTH, PHASE_INIT, PHASE_OPERATIONS, PHASE_STORED, PHASE_DONE };

#define TOP_VALUE (1u << 24)
#define PROBABILITY_ONE (1u << CELLOTA_DELTA_PROBABILITY_BITS)
#define COPY_CHUNK 32

void cellota_delta_model_reset(cellota_delta_model *model)
{
    cellota_delta_probability *probability = (cellota_delta_probability *)(void *)model;
    size_t index, count = sizeof(*model) / sizeof(*probability);
    for (index = 0; index < count; index++)
        probability[index] = PROBABILITY_ONE / 2;
}

/* --- header --------------------------------------------------------------------------- */

static uint32_t load_u32(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

static void store_u32(uint8_t *bytes, uint32_t value)
{
    bytes[0] = (uint8_t)value;
    bytes[1] = (uint8_t)(value >> 8);
    bytes[2] = (uint8_t)(value >> 16);
    bytes[3] = (uint8_t)(value >> 24);
}

int cellota_delta_header_decode(const uint8_t bytes[CELLOTA_DELTA_HEADER_SIZE],
                                cellota_delta_header *header)
{
    static const uint8_t zero[32];
    header->kind = bytes[4];
    header->unit_log2 = bytes[5];
    header->new_size = load_u32(bytes + 8);
    header->base_size = load_u32(bytes + 12);
    memcpy(header->base_sha256, bytes + 16, 32);
    memcpy(header->new_sha256, bytes + 48, 32);
    if (memcmp(bytes, CELLOTA_DELTA_MAGIC, 4) != 0 || bytes[6] != 0 || bytes[7] != 0 ||
        (header->kind != CELLOTA_DELTA_COMPRESSED && header->kind != CELLOTA_DELTA_PATCH) ||
        header->unit_log2 < CELLOTA_DELTA_UNIT_LOG2_MIN ||
        header->unit_log2 > CELLOTA_DELTA_UNIT_LOG2_MAX)
        return CELLOTA_IMAGE_DELTA_CORRUPT;
    if (header->kind == CELLOTA_DELTA_COMPRESSED &&
        (header->base_size != 0 || memcmp(header->base_sha256, zero, 32) != 0))
        return CELLOTA_IMAGE_DELTA_CORRUPT;
    /* The dictionary's positions are 32-bit. */
    if (header->new_size > UINT32_MAX - header->base_size)
        return CELLOTA_IMAGE_DELTA_CORRUPT;
    return CELLOTA_OK;
}

void cellota_delta_header_encode(const cellota_delta_header *header,
                                 uint8_t bytes[CELLOTA_DELTA_HEADER_SIZE])
{
    memset(bytes, 0, CELLOTA_DELTA_HEADER_SIZE);
    memcpy(bytes, CELLOTA_DELTA_MAGIC, 4);
    bytes[4] = header->kind;
    bytes[5] = header->unit_log2;
    store_u32(bytes + 8, header->new_size);
    store_u32(bytes + 12, header->base_size);
    memcpy(bytes + 16, header->base_sha256, 32);
    memcpy(bytes + 48, header->new_sha256, 32);
}

/* --- range decoder -------------------------------------------------------------------- */

/* The next coded byte of the segment. Past the segment's length (or the buffer, which the
 * caller filled with all of the segment an operation can need) the stream is corrupt: 0 is
 * returned and the overrun found after the operation. */
static uint8_t next_byte(cellota_delta *decoder)
{
    if (decoder->segment_left == 0 || decoder->input_count == 0) {
        decoder->error = CELLOTA_IMAGE_DELTA_CORRUPT;
        return 0;
    }
    decoder->segment_left--;
    decoder->stream_offset++;
    decoder->input_count--;
    return decoder->input[decoder->input_start++];
}

static unsigned decode_bit(cellota_delta *decoder, cellota_delta_probability *probability)
{
    uint32_t bound = (decoder->range >> CELLOTA_DELTA_PROBABILITY_BITS) *
                     cellota_delta_probability_of(*probability);
    unsigned bit = decoder->code >= bound;
    if (!bit) {
        decoder->range = bound;
    } else {
        decoder->range -= bound;
        decoder->code -= bound;
    }
    *probability = cellota_delta_update(*probability, bit);
    if (decoder->range < TOP_VALUE) {
        decoder->range <<= 8;
        decoder->code = decoder->code << 8 | next_byte(decoder);
    }
    return bit;
}

/* Bits with probability one half, most significant first. */
static uint32_t decode_direct(cellota_delta *decoder, unsigned count)
{
    uint32_t value = 0;
    while (count-- > 0) {
        decoder->range >>= 1;
        value <<= 1;
        if (decoder->code >= decoder->range) {
            decoder->code -= decoder->range;
            value |= 1;
        }
        if (decoder->range < TOP_VALUE) {
            decoder->range <<= 8;
            decoder->code = decoder->code << 8 | next_byte(decoder);
        }
    }
    return value;
}

/* A `bits`-bit number from a bit tree (probabilities[1 .. 2^bits - 1]), top bit first. */
static CELLOTA_OUT_OF_LINE uint32_t decode_tree(cellota_delta *decoder,
                                                cellota_delta_probability *probabilities,
                                                unsigned bits)
{
    uint32_t node = 1;
    unsigned index;
    for (index = 0; index < bits; index++)
        node = node << 1 | decode_bit(decoder, &probabilities[node]);
    return node - (1u << bits);
}

/* The same, lowest bit first, with the tree's node n at probabilities[first + n - 1]. */
static uint32_t decode_reverse_tree(cellota_delta *decoder,
                                    cellota_delta_probability *probabilities, uint32_t first,
                                    unsigned bits)
{
    uint32_t node = 1, value = 0;
    unsigned index;
    for (index = 0; index < bits; index++) {
        unsigned bit = decode_bit(decoder, &probabilities[first + node - 1]);
        node = node << 1 | bit;
        value |= (uint32_t)bit << index;
    }
    return value;
}

/* --- operations ----------------------------------------------------------------------- */

static uint32_t decode_length(cellota_delta *decoder, cellota_delta_lengths *lengths)
{
    if (!decode_bit(decoder, &lengths->choice))
        return CELLOTA_DELTA_MATCH_MIN + decode_tree(decoder, lengths->low, 3);
    if (!decode_bit(decoder, &lengths->choice2))
        return CELLOTA_DELTA_MATCH_MIN + CELLOTA_DELTA_LENGTH_LOW +
               decode_tree(decoder, lengths->mid, 3);
    return CELLOTA_DELTA_MATCH_MIN + CELLOTA_DELTA_LENGTH_LOW + CELLOTA_DELTA_LENGTH_MID +
           decode_tree(decoder, lengths->high, 8);
}

/* A number coded as a slot (through the 64-entry `slot_tree`) and the bits below its top one:
 * distances, a new shift's size, a match's offset in the base. */
static uint32_t decode_number(cellota_delta *decoder, cellota_delta_probability *slot_tree)
{
    cellota_delta_model *model = &decoder->model;
    uint32_t slot = decode_tree(decoder, slot_tree, 6), footer, value;

    if (slot < 4)
        return slot;
    footer = (slot >> 1) - 1;
    value = (2u | (slot & 1)) << footer;
    if (slot < CELLOTA_DELTA_END_SLOT) {
        /* Slots 4..13 share `special`: each one's footer tree starts at value - slot. */
        return value + decode_reverse_tree(decoder, model->special, value - slot, footer);
    }
    value += decode_direct(decoder, footer - CELLOTA_DELTA_ALIGN_BITS) << CELLOTA_DELTA_ALIGN_BITS;
    return value + decode_reverse_tree(decoder, model->align, 1, CELLOTA_DELTA_ALIGN_BITS);
}

static uint32_t decode_distance(cellota_delta *decoder, uint32_t length)
{
    uint32_t length_state = length - CELLOTA_DELTA_MATCH_MIN;
    if (length_state > CELLOTA_DELTA_LENGTH_STATES - 1)
        length_state = CELLOTA_DELTA_LENGTH_STATES - 1;
    return decode_number(decoder, decoder->model.slot[length_state]);
}

/* A match's distance. In a patch, `is_from_base` 1 gives its source instead as an offset in
 * the base from the output position (a sign and a magnitude): code that moved a little is a
 * short number there, where its distance back from the new image is as long as the base. */
static uint32_t decode_match_distance(cellota_delta *decoder, uint32_t length)
{
    uint32_t base_size = decoder->header.base_size, source;
    unsigned negative;

    if (decoder->header.kind != CELLOTA_DELTA_PATCH ||
        !decode_bit(decoder, &decoder->model.is_from_base))
        return decode_distance(decoder, length);
    negative = (unsigned)decode_direct(decoder, 1);
    source = decode_number(decoder, decoder->model.slot[CELLOTA_DELTA_SOURCE_SLOTS]);
    source = negative ? decoder->output - source : decoder->output + source;
    if (source >= base_size) {
        decoder->error = CELLOTA_IMAGE_DELTA_CORRUPT;
        return 0;
    }
    return base_size + decoder->output - source - 1;
}

/* Copies `length` bytes from `distance` + 1 bytes back in the dictionary into the output. */
static int copy(cellota_delta *decoder, uint32_t distance, uint32_t length)
{
    const cellota_delta_io *io = decoder->io;
    uint32_t current = decoder->header.base_size + decoder->output, source;
    uint8_t buffer[COPY_CHUNK];
    int result;

    if (distance >= current || length > decoder->segment_end - decoder->output)
        return CELLOTA_IMAGE_DELTA_CORRUPT;
    source = current - distance - 1;
    while (length > 0) {
        /* An overlapping copy reads only what is written already: at most distance + 1. */
        uint32_t chunk = length < COPY_CHUNK ? length : COPY_CHUNK;
        if (chunk > distance + 1)
            chunk = distance + 1;
        if ((result = io->read(io->context, source, buffer, chunk)) != CELLOTA_OK ||
            (result = io->write(io->context, buffer, chunk)) != CELLOTA_OK)
            return result;
        source += chunk;
        decoder->output += chunk;
        length -= chunk;
    }
    return CELLOTA_OK;
}

/* A relocated word (delta.h): which shift, then the word written. */
static int decode_word(cellota_delta *decoder, const uint8_t *predicted, unsigned kind,
                       uint32_t source)
{
    cellota_delta_model *model = &decoder->model;
    uint32_t *shifts = decoder->shifts, shift, index;
    uint8_t word[CELLOTA_DELTA_WORD_BYTES];

    if (decode_bit(decoder, &model->is_new_shift)) {
        uint32_t negative = decode_direct(decoder, 1);
        shift = decode_number(decoder, model->slot[CELLOTA_DELTA_SHIFT_SLOTS]);
        if (negative)
            shift = 0u - shift;
        index = CELLOTA_DELTA_SHIFTS - 1;
    } else {
        index = decode_tree(decoder, model->shift_index, 3);
        shift = shifts[index];
    }
    for (; index > 0; index--) /* the shift moves to the front */
        shifts[index] = shifts[index - 1];
    shifts[0] = shift;
    decoder->state = cellota_delta_after_short_rep(decoder->state);
    if (decoder->error != CELLOTA_OK) /* read past the segment */
        return decoder->error;
    if (source >= decoder->header.base_size)
        source -= decoder->header.base_size;
    cellota_delta_relocate(predicted, kind, shift, decoder->output - source, word);
    decoder->output += CELLOTA_DELTA_WORD_BYTES;
    return decoder->io->write(decoder->io->context, word, CELLOTA_DELTA_WORD_BYTES);
}

static int decode_literal(cellota_delta *decoder, unsigned position)
{
    cellota_delta_model *model = &decoder->model;
    const cellota_delta_io *io = decoder->io;
    uint32_t current = decoder->header.base_size + decoder->output, source;
    uint32_t unit = 1u << decoder->header.unit_log2;
    uint8_t byte, predicted[CELLOTA_DELTA_WORD_BYTES];
    unsigned difference = 0;
    int result;

    if (decoder->reps[0] < current) {
        /* The byte the last copy would have continued with, or its whole word. */
        size_t length = 1;
        unsigned kind;
        source = current - decoder->reps[0] - 1;
        /* A word may start where it stays within the unit (so within the segment) and the
         * image. */
        if (decoder->header.kind == CELLOTA_DELTA_PATCH &&
            decoder->reps[0] >= CELLOTA_DELTA_WORD_BYTES - 1 &&
            (decoder->output & (unit - 1)) + CELLOTA_DELTA_WORD_BYTES <= unit &&
            decoder->segment_end - decoder->output >= CELLOTA_DELTA_WORD_BYTES)
            length = CELLOTA_DELTA_WORD_BYTES;
        result = io->read(io->context, source, predicted, length);
        if (result != CELLOTA_OK)
            return result;
        kind = length > 1 ? cellota_delta_word_kind(predicted, decoder->output)
                          : CELLOTA_DELTA_WORD_NONE;
        if (kind != CELLOTA_DELTA_WORD_NONE && decode_bit(decoder, &model->is_word[kind - 1]))
            return decode_word(decoder, predicted, kind, source);
        difference = decode_bit(decoder, &model->is_difference[decoder->state]);
    }
    if (difference)
        byte = (uint8_t)(predicted[0] +
                         decode_tree(
                             decoder,
                             model->difference[position % CELLOTA_DELTA_DIFFERENCE_CONTEXTS], 8));
    else
        byte = (uint8_t)decode_tree(decoder,
                                    model->literal[position % CELLOTA_DELTA_LITERAL_CONTEXTS], 8);
    decoder->state = cellota_delta_after_literal(decoder->state);
    if (decoder->error != CELLOTA_OK) /* read past the segment */
        return decoder->error;
    decoder->output++;
    return io->write(io->context, &byte, 1);
}

static int decode_operation(cellota_delta *decoder)
{
    cellota_delta_model *model = &decoder->model;
    uint8_t state = decoder->state;
    unsigned position = decoder->output & (CELLOTA_DELTA_POSITIONS - 1);
    uint32_t *reps = decoder->reps, distance, length;

    if (!decode_bit(decoder, &model->is_match[state][position]))
        return decode_literal(decoder, position);
    if (!decode_bit(decoder, &model->is_rep[state])) {
        length = decode_length(decoder, &model->match_length);
        distance = decode_match_distance(decoder, length);
        reps[3] = reps[2];
        reps[2] = reps[1];
        reps[1] = reps[0];
        reps[0] = distance;
        decoder->state = cellota_delta_after_match(state);
    } else {
        if (!decode_bit(decoder, &model->is_rep0[state])) {
            if (!decode_bit(decoder, &model->is_rep0_long[state][position])) {
                decoder->state = cellota_delta_after_short_rep(state);
                return decoder->error != CELLOTA_OK ? decoder->error : copy(decoder, reps[0], 1);
            }
        } else {
            if (!decode_bit(decoder, &model->is_rep1[state])) {
                distance = reps[1];
            } else {
                if (!decode_bit(decoder, &model->is_rep2[state])) {
                    distance = reps[2];
                } else {
                    distance = reps[3];
                    reps[3] = reps[2];
                }
                reps[2] = reps[1];
            }
            reps[1] = reps[0];
            reps[0] = distance;
        }
        length = decode_length(decoder, &model->rep_length);
        decoder->state = cellota_delta_after_rep(state);
    }
    if (decoder->error != CELLOTA_OK)
        return decoder->error;
    return copy(decoder, reps[0], length);
}

/* --- the stream ----------------------------------------------------------------------- */

static void start_segment(cellota_delta *decoder)
{
    uint32_t rep = cellota_delta_initial_rep(decoder->header.kind, decoder->header.base_size);
    decoder->reps[0] = decoder->reps[1] = decoder->reps[2] = decoder->reps[3] = rep;
    memset(decoder->shifts, 0, sizeof(decoder->shifts));
    decoder->state = 0;
    cellota_delta_model_reset(&decoder->model);
    decoder->phase = PHASE_LENGTH;
}

static int read_header(cellota_delta *decoder)
{
    cellota_delta_header header;
    int result = cellota_delta_header_decode(decoder->input + decoder->input_start, &header);
    if (result != CELLOTA_OK)
        return result;
    decoder->input_start += CELLOTA_DELTA_HEADER_SIZE;
    decoder->input_count -= CELLOTA_DELTA_HEADER_SIZE;
    decoder->stream_offset += CELLOTA_DELTA_HEADER_SIZE;
    if (decoder->check_header) {
        const cellota_delta_header *expected = &decoder->header;
        if (header.kind != expected->kind || header.new_size != expected->new_size ||
            memcmp(header.new_sha256, expected->new_sha256, 32) != 0)
            return CELLOTA_IMAGE_DELTA_MISMATCH;
        if (header.base_size != expected->base_size ||
            memcmp(header.base_sha256, expected->base_sha256, 32) != 0)
            return CELLOTA_IMAGE_DELTA_WRONG_BASE;
    }
    decoder->header = header;
    decoder->output = 0;
    if (header.new_size == 0)
        decoder->phase = PHASE_DONE;
    else
        start_segment(decoder);
    return CELLOTA_OK;
}

/* A segment's prefix: its units of output (the last may be cut short by the image's end) and
 * its coded bytes (at least the range decoder's first 4). */
static int read_prefix(cellota_delta *decoder)
{
    const uint8_t *in = decoder->input + decoder->input_start;
    uint32_t units = (uint32_t)in[0] | (uint32_t)in[1] << 8, unit = 1u << decoder->header.unit_log2;
    uint32_t left = decoder->header.new_size - decoder->output;

    decoder->segment_left = (uint32_t)in[2] | (uint32_t)in[3] << 8;
    decoder->input_start += CELLOTA_DELTA_SEGMENT_PREFIX;
    decoder->input_count -= CELLOTA_DELTA_SEGMENT_PREFIX;
    decoder->stream_offset += CELLOTA_DELTA_SEGMENT_PREFIX;
    if (units == 0 || (decoder->segment_left > 0 && decoder->segment_left < 4) ||
        (units - 1) * (uint64_t)unit >= left)
        return CELLOTA_IMAGE_DELTA_CORRUPT;
    decoder->segment_end = units * (uint64_t)unit < left ? decoder->output + units * unit
                                                         : decoder->header.new_size;
    /* Coded length 0: the segment is stored, its output bytes as they are. */
    if (decoder->segment_left == 0) {
        decoder->segment_left = decoder->segment_end - decoder->output;
        decoder->phase = PHASE_STORED;
    } else {
        decoder->phase = PHASE_INIT;
    }
    return CELLOTA_OK;
}

static int end_segment(cellota_delta *decoder)
{
    /* The encoder's flush leaves nothing: a segment's coded length is exact. */
    if (decoder->segment_left != 0)
        return CELLOTA_IMAGE_DELTA_CORRUPT;
    if (decoder->io->segment_done)
        decoder->io->segment_done(decoder->io->context, decoder->output, decoder->stream_offset);
    if (decoder->output == decoder->header.new_size)
        decoder->phase = PHASE_DONE;
    else
        start_segment(decoder);
    return CELLOTA_OK;
}

/* Decodes what the buffered input allows. */
static int process(cellota_delta *decoder)
{
    int result;
    for (;;) {
        switch (decoder->phase) {
        case PHASE_HEADER:
            if (decoder->input_count < CELLOTA_DELTA_HEADER_SIZE)
                return CELLOTA_OK;
            if ((result = read_header(decoder)) != CELLOTA_OK)
                return result;
            break;
        case PHASE_LENGTH:
            if (decoder->input_count < CELLOTA_DELTA_SEGMENT_PREFIX)
                return CELLOTA_OK;
            if ((result = read_prefix(decoder)) != CELLOTA_OK)
                return result;
            break;
        case PHASE_INIT:
            if (decoder->input_count < 4)
                return CELLOTA_OK;
            decoder->range = 0xFFFFFFFFu;
            decoder->code = 0;
            for (result = 0; result < 4; result++)
                decoder->code = decoder->code << 8 | next_byte(decoder);
            decoder->phase = PHASE_OPERATIONS;
            break;
        case PHASE_OPERATIONS:
            while (decoder->output < decoder->segment_end) {
                uint32_t needed = decoder->segment_left < CELLOTA_DELTA_OPERATION_BYTES_MAX
                                      ? decoder->segment_left
                                      : CELLOTA_DELTA_OPERATION_BYTES_MAX;
                if (decoder->input_count < needed)
                    return CELLOTA_OK;
                if ((result = decode_operation(decoder)) != CELLOTA_OK)
                    return result;
            }
            if ((result = end_segment(decoder)) != CELLOTA_OK)
                return result;
            break;
        case PHASE_STORED:
            if (decoder->input_count == 0)
                return CELLOTA_OK;
            {
                uint32_t take = decoder->segment_left < decoder->input_count
                                    ? decoder->segment_left
                                    : decoder->input_count;
                const cellota_delta_io *io = decoder->io;
                result = io->write(io->context, decoder->input + decoder->input_start, take);
                if (result != CELLOTA_OK)
                    return result;
                decoder->input_start = (uint8_t)(decoder->input_start + take);
                decoder->input_count = (uint8_t)(decoder->input_count - take);
                decoder->stream_offset += take;
                decoder->segment_left -= take;
                decoder->output += take;
            }
            if (decoder->segment_left == 0 && (result = end_segment(decoder)) != CELLOTA_OK)
                return result;
            break;
        default: /* PHASE_DONE */
            return decoder->input_count > 0 ? CELLOTA_IMAGE_DELTA_CORRUPT : CELLOTA_OK;
        }
    }
}

void cellota_delta_begin(cellota_delta *decoder, const cellota_delta_io *io,
                         const cellota_delta_header *expected)
{
    memset(decoder, 0, sizeof(*decoder) - sizeof(decoder->model));
    decoder->io = io;
    decoder->phase = PHASE_HEADER;
    decoder->check_header = expected != NULL;
    if (expected)
        decoder->header = *expected;
}

int cellota_delta_resume(cellota_delta *decoder, const cellota_delta_io *io,
                         const cellota_delta_header *header, uint32_t output)
{
    uint8_t bytes[CELLOTA_DELTA_HEADER_SIZE];
    cellota_delta_header checked;

    cellota_delta_begin(decoder, io, NULL);
    cellota_delta_header_encode(header, bytes);
    if (cellota_delta_header_decode(bytes, &checked) != CELLOTA_OK ||
        output % (1u << header->unit_log2) != 0 || output >= header->new_size) {
        decoder->error = CELLOTA_INVALID_ARGUMENT;
        return decoder->error;
    }
    decoder->header = checked;
    decoder->output = output;
    start_segment(decoder);
    return CELLOTA_OK;
}

int cellota_delta_feed(cellota_delta *decoder, const uint8_t *data, size_t length)
{
    while (length > 0 && decoder->error == CELLOTA_OK) {
        size_t space, take;
        if (decoder->input_start > 0) {
            memmove(decoder->input, decoder->input + decoder->input_start, decoder->input_count);
            decoder->input_start = 0;
        }
        space = CELLOTA_DELTA_INPUT_SIZE - decoder->input_count;
        take = length < space ? length : space;
        memcpy(decoder->input + decoder->input_count, data, take);
        decoder->input_count = (uint8_t)(decoder->input_count + take);
        data += take;
        length -= take;
        {
            int result = process(decoder);
            if (result != CELLOTA_OK)
                decoder->error = result;
        }
    }
    return decoder->error;
}

int cellota_delta_finish(const cellota_delta *decoder)
{
    if (decoder->error != CELLOTA_OK)
        return decoder->error;
    return decoder->phase == PHASE_DONE ? CELLOTA_OK : CELLOTA_IMAGE_DELTA_TRUNCATED;
}

bool cellota_delta_header_known(const cellota_delta *decoder)
{
    return decoder->phase != PHASE_HEADER;
}
