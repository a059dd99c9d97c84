/*
 * The CLZ1 encoder: the new image as literals and copies from a dictionary made of the base
 * image followed by the new image, coded with the model the device's decoder shares
 * (device/image/delta.h) under an adaptive binary range coder.
 *
 * Parsing is optimal within blocks of OPTIMUM_SIZE bytes, under the prices the adapted model
 * gives at the start of the block (in 1/16 bits): every literal, every relocated word, every
 * length of every repeat distance, the one-byte repeat and every length of the matches the hash
 * chains find is a step, and the cheapest path through the block wins. A literal is coded as
 * itself or as its difference from the byte at the last distance, whichever the model prices
 * lower; a word whose source is a BL or a pointer in code that moved, as the predicted word
 * relocated by a shift (one of the last 8: the sections a release moved are few), and a match
 * from the base by its offset from the output position where that is cheaper than its
 * distance. Format: docs/image-format.md.
 */
#include "delta/delta.h"

#include "common/cli.h"
#include "core/error.h"

#include <mbedtls/sha256.h>

#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BITS 20
#define HASH_MIN 4 /* the match finder's shortest match; repeats go down to 2 */
#define PRICE_SHIFT 4 /* prices in 1/16 bits */
#define OPTIMUM_SIZE 512  /* positions one optimal parse looks at (fresh prices each) */
#define NICE_LENGTH 128   /* a copy this long is taken without weighing the alternatives */
#define MATCHES_MAX 64    /* ever longer matches the chains report at one position */
#define STATE_AFTER_COPY 7     /* states from here follow a copy (delta.h's state rules) */
#define SHIFT_PLAIN_MAX 65536u /* a plain word's new shift is tried below this (see word_shift) */
#define DEFAULT_UNIT_LOG2 12        /* 4 KiB: the erase page of the ESP32 and the nRF52840 */
#define DEFAULT_SEGMENT_BYTES 4096  /* what a resume may fetch again */
#define DEFAULT_SEARCH_DEPTH 256
#define PROBABILITY_ONE (1u << CELLOTA_DELTA_PROBABILITY_BITS)

/* --- output and range encoder ----------------------------------------------------------- */

typedef struct byte_buffer {
    uint8_t *data;
    size_t size, capacity;
    bool failed;
} byte_buffer;

static void buffer_put(byte_buffer *buffer, uint8_t byte)
{
    if (buffer->size == buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 4096;
        uint8_t *data = realloc(buffer->data, capacity);
        if (!data) {
            buffer->failed = true;
            return;
        }
        buffer->data = data;
        buffer->capacity = capacity;
    }
    buffer->data[buffer->size++] = byte;
}

typedef struct range_encoder {
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t pending; /* bytes waiting for a possible carry: the cache and 0xFFs after it */
    bool first;       /* the first byte out is always 0: the format leaves it out */
    byte_buffer *out;
} range_encoder;

static void encoder_start(range_encoder *encoder, byte_buffer *out)
{
    encoder->low = 0;
    encoder->range = 0xFFFFFFFFu;
    encoder->cache = 0;
    encoder->pending = 1;
    encoder->first = true;
    encoder->out = out;
}

static void emit(range_encoder *encoder, uint8_t byte)
{
    if (encoder->first)
        encoder->first = false;
    else
        buffer_put(encoder->out, byte);
}

static void shift_low(range_encoder *encoder)
{
    if ((uint32_t)encoder->low < 0xFF000000u || (encoder->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(encoder->low >> 32), byte = encoder->cache;
        do {
            emit(encoder, (uint8_t)(byte + carry));
            byte = 0xFF;
        } while (--encoder->pending != 0);
        encoder->cache = (uint8_t)(encoder->low >> 24);
    }
    encoder->pending++;
    encoder->low = (encoder->low & 0x00FFFFFFu) << 8;
}

static void encode_bit(range_encoder *encoder, cellota_delta_probability *probability, unsigned bit)
{
    uint32_t bound = (encoder->range >> CELLOTA_DELTA_PROBABILITY_BITS) *
                     cellota_delta_probability_of(*probability);
    if (!bit) {
        encoder->range = bound;
    } else {
        encoder->low += bound;
        encoder->range -= bound;
    }
    *probability = cellota_delta_update(*probability, bit);
    if (encoder->range < (1u << 24)) {
        encoder->range <<= 8;
        shift_low(encoder);
    }
}

static void encode_direct(range_encoder *encoder, uint32_t value, unsigned count)
{
    while (count-- > 0) {
        encoder->range >>= 1;
        if ((value >> count) & 1)
            encoder->low += encoder->range;
        if (encoder->range < (1u << 24)) {
            encoder->range <<= 8;
            shift_low(encoder);
        }
    }
}

static void encoder_flush(range_encoder *encoder)
{
    int index;
    for (index = 0; index < 5; index++)
        shift_low(encoder);
}

static void encode_tree(range_encoder *encoder, cellota_delta_probability *probabilities,
                        unsigned bits, uint32_t value)
{
    uint32_t node = 1;
    while (bits-- > 0) {
        unsigned bit = (value >> bits) & 1;
        encode_bit(encoder, &probabilities[node], bit);
        node = node << 1 | bit;
    }
}

static void encode_reverse_tree(range_encoder *encoder, cellota_delta_probability *probabilities,
                                uint32_t first, unsigned bits, uint32_t value)
{
    uint32_t node = 1;
    unsigned index;
    for (index = 0; index < bits; index++) {
        unsigned bit = (value >> index) & 1;
        encode_bit(encoder, &probabilities[first + node - 1], bit);
        node = node << 1 | bit;
    }
}

/* --- prices ---------------------------------------------------------------------------- */

static uint32_t price_table[PROBABILITY_ONE >> 4];

static void prices_init(void)
{
    size_t index;
    if (price_table[0] != 0)
        return;
    for (index = 0; index < sizeof(price_table) / sizeof(price_table[0]); index++) {
        double probability = ((double)(index << 4) + 8.0) / PROBABILITY_ONE;
        price_table[index] = (uint32_t)(-log2(probability) * (1 << PRICE_SHIFT) + 0.5);
    }
}

static uint32_t price_bit(cellota_delta_probability probability, unsigned bit)
{
    uint32_t value = cellota_delta_probability_of(probability);
    return price_table[(bit ? PROBABILITY_ONE - value : value) >> 4];
}

static uint32_t price_tree(const cellota_delta_probability *probabilities, unsigned bits,
                           uint32_t value)
{
    uint32_t node = 1, price = 0;
    while (bits-- > 0) {
        unsigned bit = (value >> bits) & 1;
        price += price_bit(probabilities[node], bit);
        node = node << 1 | bit;
    }
    return price;
}

static uint32_t price_reverse_tree(const cellota_delta_probability *probabilities, uint32_t first,
                                   unsigned bits, uint32_t value)
{
    uint32_t node = 1, price = 0;
    unsigned index;
    for (index = 0; index < bits; index++) {
        unsigned bit = (value >> index) & 1;
        price += price_bit(probabilities[first + node - 1], bit);
        node = node << 1 | bit;
    }
    return price;
}

/* --- the encoder's state ---------------------------------------------------------------- */

/* What the coding of the next operation depends on besides the probabilities. */
typedef struct coding_context {
    uint8_t state;
    uint32_t reps[4];
    uint32_t shifts[CELLOTA_DELTA_SHIFTS];
} coding_context;

/* An operation: length 0 is a literal; rep 0..3 a repeat distance (length 1 with rep 0: the
 * one-byte repeat); rep -1 a match at `distance`; rep -2 (length 4) a relocated word, with the
 * shift in `distance`. */
#define OPERATION_WORD (-2)
typedef struct operation {
    uint32_t length, distance;
    int rep;
} operation;

/* One position of the optimal parse: the cheapest way found to reach it. */
typedef struct parse_node {
    uint32_t price, from;
    operation last;
    coding_context context;
} parse_node;

typedef struct encoder_state {
    const uint8_t *dictionary; /* base || image */
    uint32_t base_size, total;
    uint32_t image_size, unit;
    uint8_t kind;
    unsigned search_depth;
    int32_t *head, *previous; /* hash chains over the dictionary */
    uint32_t inserted;        /* positions below this are in the chains */
    cellota_delta_model model;
    coding_context context;
    range_encoder coder;
    parse_node nodes[OPTIMUM_SIZE + 1];
    operation path[OPTIMUM_SIZE];
    uint32_t rep_length_price[CELLOTA_DELTA_MATCH_MAX + 1];
    uint32_t match_length_price[CELLOTA_DELTA_MATCH_MAX + 1];
    uint32_t matches_length[MATCHES_MAX], matches_distance[MATCHES_MAX];
} encoder_state;

static uint32_t hash_at(const uint8_t *bytes)
{
    uint32_t value = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                     (uint32_t)bytes[3] << 24;
    return (value * 2654435761u) >> (32 - HASH_BITS);
}

static void insert_until(encoder_state *encoder, uint32_t end)
{
    for (; encoder->inserted < end; encoder->inserted++) {
        uint32_t position = encoder->inserted, hash;
        if (position + HASH_MIN > encoder->total)
            continue;
        hash = hash_at(encoder->dictionary + position);
        encoder->previous[position] = encoder->head[hash];
        encoder->head[hash] = (int32_t)position;
    }
}

static uint32_t common_length(const uint8_t *a, const uint8_t *b, uint32_t limit)
{
    uint32_t length = 0;
    while (length < limit && a[length] == b[length])
        length++;
    return length;
}

/* --- prices under the current model ------------------------------------------------------ */

static uint32_t price_length(const cellota_delta_lengths *lengths, uint32_t length)
{
    length -= CELLOTA_DELTA_MATCH_MIN;
    if (length < CELLOTA_DELTA_LENGTH_LOW)
        return price_bit(lengths->choice, 0) + price_tree(lengths->low, 3, length);
    length -= CELLOTA_DELTA_LENGTH_LOW;
    if (length < CELLOTA_DELTA_LENGTH_MID)
        return price_bit(lengths->choice, 1) + price_bit(lengths->choice2, 0) +
               price_tree(lengths->mid, 3, length);
    return price_bit(lengths->choice, 1) + price_bit(lengths->choice2, 1) +
           price_tree(lengths->high, 8, length - CELLOTA_DELTA_LENGTH_MID);
}

static void price_lengths(encoder_state *encoder)
{
    uint32_t length;
    for (length = CELLOTA_DELTA_MATCH_MIN; length <= CELLOTA_DELTA_MATCH_MAX; length++) {
        encoder->rep_length_price[length] = price_length(&encoder->model.rep_length, length);
        encoder->match_length_price[length] = price_length(&encoder->model.match_length, length);
    }
}

static uint32_t length_state(uint32_t length)
{
    uint32_t state = length - CELLOTA_DELTA_MATCH_MIN;
    return state < CELLOTA_DELTA_LENGTH_STATES ? state : CELLOTA_DELTA_LENGTH_STATES - 1;
}

static uint32_t price_number(const cellota_delta_model *model,
                             const cellota_delta_probability *slot_tree, uint32_t value)
{
    uint32_t slot = cellota_delta_slot(value), footer, base;
    uint32_t price = price_tree(slot_tree, 6, slot);
    if (slot < 4)
        return price;
    footer = (slot >> 1) - 1;
    base = (2u | (slot & 1)) << footer;
    if (slot < CELLOTA_DELTA_END_SLOT)
        return price + price_reverse_tree(model->special, base - slot, footer, value - base);
    return price + ((footer - CELLOTA_DELTA_ALIGN_BITS) << PRICE_SHIFT) +
           price_reverse_tree(model->align, 1, CELLOTA_DELTA_ALIGN_BITS,
                              (value - base) & ((1u << CELLOTA_DELTA_ALIGN_BITS) - 1));
}

static uint32_t price_distance(const cellota_delta_model *model, uint32_t distance, uint32_t length)
{
    return price_number(model, model->slot[length_state(length)], distance);
}

/* In a patch, a match from the base may give its source as an offset from the output position
 * instead of its distance (delta.h): that form's price, UINT32_MAX where it does not exist. */
static uint32_t price_source(const encoder_state *encoder, uint32_t current, uint32_t distance)
{
    const cellota_delta_model *model = &encoder->model;
    uint32_t source = current - distance - 1, output = current - encoder->base_size;
    if (encoder->kind != CELLOTA_DELTA_PATCH || source >= encoder->base_size)
        return UINT32_MAX;
    return price_bit(model->is_from_base, 1) + (1 << PRICE_SHIFT) +
           price_number(model, model->slot[CELLOTA_DELTA_SOURCE_SLOTS],
                        source >= output ? source - output : output - source);
}

/* A match's distance in the cheaper form, given price_source's. */
static uint32_t price_match_distance(const encoder_state *encoder, uint32_t distance,
                                     uint32_t length, uint32_t source_price)
{
    uint32_t price = price_distance(&encoder->model, distance, length);
    if (encoder->kind != CELLOTA_DELTA_PATCH)
        return price;
    price += price_bit(encoder->model.is_from_base, 0);
    return price < source_price ? price : source_price;
}

/* The matches at `current` the hash chains find, each longer than the one before (and so
 * farther): returns how many, into matches_length / matches_distance. */
static size_t find_matches(encoder_state *encoder, uint32_t current, uint32_t limit)
{
    const uint8_t *dictionary = encoder->dictionary;
    int32_t candidate;
    uint32_t tries = encoder->search_depth, best = HASH_MIN - 1;
    size_t count = 0;

    if (limit < HASH_MIN || current + HASH_MIN > encoder->total)
        return 0;
    insert_until(encoder, current);
    candidate = encoder->head[hash_at(dictionary + current)];
    while (candidate >= 0 && tries-- > 0 && count < MATCHES_MAX) {
        /* Positions at or after `current` are in the chains when a unit is coded again. */
        /* In a patch a source in the base as long as the best so far may be cheaper: its
         * offset from the output position is often short where the distance is not. */
        bool tie = count > 0 && (uint32_t)candidate < encoder->base_size &&
                   encoder->kind == CELLOTA_DELTA_PATCH;
        uint32_t probe = tie ? best - 1 : best; /* where a long enough match must agree */
        if ((uint32_t)candidate < current &&
            dictionary[candidate + probe] == dictionary[current + probe]) {
            uint32_t length = common_length(dictionary + candidate, dictionary + current, limit);
            uint32_t distance = current - (uint32_t)candidate - 1;
            if (length > best) {
                best = length;
                encoder->matches_length[count] = length;
                encoder->matches_distance[count] = distance;
                count++;
                if (length == limit)
                    break;
            } else if (length == best && tie) {
                uint32_t *kept = &encoder->matches_distance[count - 1];
                if (price_match_distance(encoder, distance, length,
                                         price_source(encoder, current, distance)) <
                    price_match_distance(encoder, *kept, length,
                                         price_source(encoder, current, *kept)))
                    *kept = distance;
            }
        }
        candidate = encoder->previous[candidate];
    }
    return count;
}

/* The word the decoder would predict at dictionary position `current` (delta.h): its kind
 * (CELLOTA_DELTA_WORD_NONE where it reads a single byte) and, in `predicted`, its bytes. */
static unsigned predicted_word(const encoder_state *encoder, const coding_context *context,
                               uint32_t current, const uint8_t **predicted)
{
    uint32_t output = current - encoder->base_size;
    *predicted = encoder->dictionary + current - context->reps[0] - 1;
    if (encoder->kind != CELLOTA_DELTA_PATCH || context->reps[0] < CELLOTA_DELTA_WORD_BYTES - 1 ||
        (output & (encoder->unit - 1)) + CELLOTA_DELTA_WORD_BYTES > encoder->unit ||
        encoder->image_size - output < CELLOTA_DELTA_WORD_BYTES)
        return CELLOTA_DELTA_WORD_NONE;
    return cellota_delta_word_kind(*predicted, output);
}

/* The shift that relocates the predicted word at `current` into the new image's word there,
 * if one does: true with it in *shift. */
static bool word_shift(const encoder_state *encoder, const coding_context *context,
                       uint32_t current, uint32_t *shift)
{
    const uint8_t *predicted, *actual = encoder->dictionary + current;
    unsigned kind = context->reps[0] < current
                        ? predicted_word(encoder, context, current, &predicted)
                        : CELLOTA_DELTA_WORD_NONE;
    uint32_t source, moved;
    uint8_t word[CELLOTA_DELTA_WORD_BYTES];

    if (kind == CELLOTA_DELTA_WORD_NONE)
        return false;
    source = current - context->reps[0] - 1;
    moved = current - (source < encoder->base_size ? source + encoder->base_size : source);
    if (kind == CELLOTA_DELTA_WORD_BRANCH) {
        uint32_t change =
            (cellota_delta_branch_offset(actual) - cellota_delta_branch_offset(predicted)) &
            0x3FFFFFu;
        if (change & 0x200000u) /* negative: sign-extend the 22 bits */
            change |= 0xFFC00000u;
        *shift = 2 * change + moved;
    } else {
        *shift = ((uint32_t)actual[0] | (uint32_t)actual[1] << 8 | (uint32_t)actual[2] << 16 |
                  (uint32_t)actual[3] << 24) -
                 ((uint32_t)predicted[0] | (uint32_t)predicted[1] << 8 |
                  (uint32_t)predicted[2] << 16 | (uint32_t)predicted[3] << 24);
    }
    cellota_delta_relocate(predicted, kind, *shift, moved, word);
    if (memcmp(word, actual, CELLOTA_DELTA_WORD_BYTES) != 0)
        return false;
    /* A new shift for a plain word only where the word follows a copy and moved by less than
     * 64 KiB: elsewhere (new code and data) a word is as often just different, and coding it
     * as a shift would take the literals' model the bytes it learns from. */
    if (kind == CELLOTA_DELTA_WORD_VALUE &&
        (context->state < STATE_AFTER_COPY || *shift + SHIFT_PLAIN_MAX > 2 * SHIFT_PLAIN_MAX)) {
        unsigned index;
        for (index = 0; index < CELLOTA_DELTA_SHIFTS; index++)
            if (context->shifts[index] == *shift)
                return true;
        return false;
    }
    return true;
}

/* A relocated word's price after its literal bits, the shift's choice. */
static uint32_t price_shift(const cellota_delta_model *model, const coding_context *context,
                            uint32_t shift)
{
    uint32_t index, magnitude;
    for (index = 0; index < CELLOTA_DELTA_SHIFTS; index++)
        if (context->shifts[index] == shift)
            return price_bit(model->is_new_shift, 0) + price_tree(model->shift_index, 3, index);
    magnitude = shift & 0x80000000u ? 0u - shift : shift;
    return price_bit(model->is_new_shift, 1) + (1 << PRICE_SHIFT) +
           price_number(model, model->slot[CELLOTA_DELTA_SHIFT_SLOTS], magnitude);
}

/* A literal at dictionary position `current` in `context`, is_match bit included, in the
 * cheaper of its two forms (which one in *difference). */
static uint32_t price_literal(const encoder_state *encoder, const coding_context *context,
                              uint32_t current, bool *difference)
{
    const cellota_delta_model *model = &encoder->model;
    unsigned position = (current - encoder->base_size) & (CELLOTA_DELTA_POSITIONS - 1);
    uint8_t byte = encoder->dictionary[current];
    uint32_t plain = price_tree(model->literal[position % CELLOTA_DELTA_LITERAL_CONTEXTS], 8, byte);
    uint32_t price = price_bit(model->is_match[context->state][position], 0);

    *difference = false;
    if (context->reps[0] < current) {
        const uint8_t *predicted;
        unsigned kind = predicted_word(encoder, context, current, &predicted);
        uint32_t as_difference =
            price_bit(model->is_difference[context->state], 1) +
            price_tree(model->difference[position % CELLOTA_DELTA_DIFFERENCE_CONTEXTS], 8,
                       (uint8_t)(byte - predicted[0]));
        if (kind != CELLOTA_DELTA_WORD_NONE)
            price += price_bit(model->is_word[kind - 1], 0);
        plain += price_bit(model->is_difference[context->state], 0);
        if (as_difference < plain) {
            *difference = true;
            return price + as_difference;
        }
    }
    return price + plain;
}

/* A relocated word at `current` with `shift`, is_match bit included. */
static uint32_t price_word(const encoder_state *encoder, const coding_context *context,
                           uint32_t current, uint32_t shift)
{
    const cellota_delta_model *model = &encoder->model;
    unsigned position = (current - encoder->base_size) & (CELLOTA_DELTA_POSITIONS - 1);
    const uint8_t *predicted;
    unsigned kind = predicted_word(encoder, context, current, &predicted);
    return price_bit(model->is_match[context->state][position], 0) +
           price_bit(model->is_word[kind - 1], 1) + price_shift(model, context, shift);
}

/* A repeat's price without its length (the one-byte repeat: complete). */
static uint32_t price_rep(const encoder_state *encoder, const coding_context *context, int rep,
                          bool short_rep, unsigned position)
{
    const cellota_delta_model *model = &encoder->model;
    uint8_t state = context->state;
    uint32_t price = price_bit(model->is_match[state][position], 1) +
                     price_bit(model->is_rep[state], 1);
    if (rep == 0)
        return price + price_bit(model->is_rep0[state], 0) +
               price_bit(model->is_rep0_long[state][position], !short_rep);
    price += price_bit(model->is_rep0[state], 1);
    if (rep == 1)
        return price + price_bit(model->is_rep1[state], 0);
    return price + price_bit(model->is_rep1[state], 1) + price_bit(model->is_rep2[state], rep == 3);
}

/* The context after `op` (the decoder's rules). */
static void context_after(coding_context *context, const operation *op)
{
    uint32_t *reps = context->reps;
    if (op->length == 0) {
        context->state = cellota_delta_after_literal(context->state);
    } else if (op->rep == OPERATION_WORD) {
        uint32_t index = 0, *shifts = context->shifts;
        while (index < CELLOTA_DELTA_SHIFTS - 1 && shifts[index] != op->distance)
            index++;
        for (; index > 0; index--) /* the shift moves to the front */
            shifts[index] = shifts[index - 1];
        shifts[0] = op->distance;
        context->state = cellota_delta_after_short_rep(context->state);
    } else if (op->rep < 0) {
        reps[3] = reps[2];
        reps[2] = reps[1];
        reps[1] = reps[0];
        reps[0] = op->distance;
        context->state = cellota_delta_after_match(context->state);
    } else if (op->rep == 0 && op->length == 1) {
        context->state = cellota_delta_after_short_rep(context->state);
    } else {
        uint32_t distance = reps[op->rep];
        int index;
        for (index = op->rep; index > 0; index--)
            reps[index] = reps[index - 1];
        reps[0] = distance;
        context->state = cellota_delta_after_rep(context->state);
    }
}

/* --- emitting operations ------------------------------------------------------------------ */

static void encode_length(encoder_state *encoder, cellota_delta_lengths *lengths, uint32_t length)
{
    range_encoder *coder = &encoder->coder;
    length -= CELLOTA_DELTA_MATCH_MIN;
    if (length < CELLOTA_DELTA_LENGTH_LOW) {
        encode_bit(coder, &lengths->choice, 0);
        encode_tree(coder, lengths->low, 3, length);
        return;
    }
    encode_bit(coder, &lengths->choice, 1);
    length -= CELLOTA_DELTA_LENGTH_LOW;
    if (length < CELLOTA_DELTA_LENGTH_MID) {
        encode_bit(coder, &lengths->choice2, 0);
        encode_tree(coder, lengths->mid, 3, length);
        return;
    }
    encode_bit(coder, &lengths->choice2, 1);
    encode_tree(coder, lengths->high, 8, length - CELLOTA_DELTA_LENGTH_MID);
}

static void encode_number(encoder_state *encoder, cellota_delta_probability *slot_tree,
                          uint32_t value)
{
    cellota_delta_model *model = &encoder->model;
    range_encoder *coder = &encoder->coder;
    uint32_t slot = cellota_delta_slot(value), footer, base;

    encode_tree(coder, slot_tree, 6, slot);
    if (slot < 4)
        return;
    footer = (slot >> 1) - 1;
    base = (2u | (slot & 1)) << footer;
    if (slot < CELLOTA_DELTA_END_SLOT) {
        encode_reverse_tree(coder, model->special, base - slot, footer, value - base);
        return;
    }
    encode_direct(coder, (value - base) >> CELLOTA_DELTA_ALIGN_BITS,
                  footer - CELLOTA_DELTA_ALIGN_BITS);
    encode_reverse_tree(coder, model->align, 1, CELLOTA_DELTA_ALIGN_BITS,
                        (value - base) & ((1u << CELLOTA_DELTA_ALIGN_BITS) - 1));
}

static void encode_distance(encoder_state *encoder, uint32_t distance, uint32_t length)
{
    encode_number(encoder, encoder->model.slot[length_state(length)], distance);
}

/* A match's distance, in a patch in the cheaper of its two forms. */
static void encode_match_distance(encoder_state *encoder, uint32_t distance, uint32_t length,
                                  uint32_t current)
{
    cellota_delta_model *model = &encoder->model;
    uint32_t source_price = price_source(encoder, current, distance), source, output;

    if (encoder->kind != CELLOTA_DELTA_PATCH) {
        encode_distance(encoder, distance, length);
        return;
    }
    if (source_price >=
        price_bit(model->is_from_base, 0) + price_distance(model, distance, length)) {
        encode_bit(&encoder->coder, &model->is_from_base, 0);
        encode_distance(encoder, distance, length);
        return;
    }
    source = current - distance - 1;
    output = current - encoder->base_size;
    encode_bit(&encoder->coder, &model->is_from_base, 1);
    encode_direct(&encoder->coder, source < output, 1);
    encode_number(encoder, model->slot[CELLOTA_DELTA_SOURCE_SLOTS],
                  source >= output ? source - output : output - source);
}

/* A relocated word at `current`: the literal's bits, then its shift. */
static void encode_word(encoder_state *encoder, const operation *op, uint32_t current)
{
    cellota_delta_model *model = &encoder->model;
    range_encoder *coder = &encoder->coder;
    const coding_context *context = &encoder->context;
    unsigned position = (current - encoder->base_size) & (CELLOTA_DELTA_POSITIONS - 1);
    const uint8_t *predicted;
    unsigned kind = predicted_word(encoder, context, current, &predicted);
    uint32_t index;

    encode_bit(coder, &model->is_match[context->state][position], 0);
    encode_bit(coder, &model->is_word[kind - 1], 1);
    for (index = 0; index < CELLOTA_DELTA_SHIFTS; index++)
        if (context->shifts[index] == op->distance)
            break;
    encode_bit(coder, &model->is_new_shift, index == CELLOTA_DELTA_SHIFTS);
    if (index < CELLOTA_DELTA_SHIFTS) {
        encode_tree(coder, model->shift_index, 3, index);
        return;
    }
    encode_direct(coder, op->distance >> 31, 1);
    encode_number(encoder, model->slot[CELLOTA_DELTA_SHIFT_SLOTS],
                  op->distance & 0x80000000u ? 0u - op->distance : op->distance);
}

static void encode_operation(encoder_state *encoder, const operation *op, uint32_t current)
{
    cellota_delta_model *model = &encoder->model;
    range_encoder *coder = &encoder->coder;
    coding_context *context = &encoder->context;
    uint8_t state = context->state;
    unsigned position = (current - encoder->base_size) & (CELLOTA_DELTA_POSITIONS - 1);

    if (op->length == 0) {
        uint8_t byte = encoder->dictionary[current];
        bool difference;
        price_literal(encoder, context, current, &difference);
        encode_bit(coder, &model->is_match[state][position], 0);
        if (context->reps[0] < current) {
            const uint8_t *predicted;
            unsigned kind = predicted_word(encoder, context, current, &predicted);
            if (kind != CELLOTA_DELTA_WORD_NONE)
                encode_bit(coder, &model->is_word[kind - 1], 0);
            encode_bit(coder, &model->is_difference[state], difference);
            if (difference)
                encode_tree(coder, model->difference[position % CELLOTA_DELTA_DIFFERENCE_CONTEXTS],
                            8, (uint8_t)(byte - predicted[0]));
        }
        if (!difference)
            encode_tree(coder, model->literal[position % CELLOTA_DELTA_LITERAL_CONTEXTS], 8, byte);
    } else if (op->rep == OPERATION_WORD) {
        encode_word(encoder, op, current);
    } else if (op->rep < 0) {
        encode_bit(coder, &model->is_match[state][position], 1);
        encode_bit(coder, &model->is_rep[state], 0);
        encode_length(encoder, &model->match_length, op->length);
        encode_match_distance(encoder, op->distance, op->length, current);
    } else {
        encode_bit(coder, &model->is_match[state][position], 1);
        encode_bit(coder, &model->is_rep[state], 1);
        encode_bit(coder, &model->is_rep0[state], op->rep != 0);
        if (op->rep == 0) {
            encode_bit(coder, &model->is_rep0_long[state][position], op->length > 1);
        } else {
            encode_bit(coder, &model->is_rep1[state], op->rep != 1);
            if (op->rep != 1)
                encode_bit(coder, &model->is_rep2[state], op->rep == 3);
        }
        if (op->length > 1)
            encode_length(encoder, &model->rep_length, op->length);
    }
    context_after(context, op);
}

/* --- the optimal parse -------------------------------------------------------------------- */

static void relax(parse_node *nodes, uint32_t from, uint32_t to, uint32_t price, operation op)
{
    if (price < nodes[to].price) {
        nodes[to].price = price;
        nodes[to].from = from;
        nodes[to].last = op;
    }
}

/*
 * Chooses the operations for the bytes from `current` (at most OPTIMUM_SIZE, not past `stop`)
 * by the cheapest path under the model's present prices, and encodes them. A copy of
 * NICE_LENGTH or more ends the block where it starts and is taken as it is: long copies leave
 * little to choose, and the chains need not be searched inside them. Returns the bytes coded.
 */
static uint32_t encode_block(encoder_state *encoder, uint32_t current, uint32_t stop)
{
    parse_node *nodes = encoder->nodes;
    uint32_t size = stop - current < OPTIMUM_SIZE ? stop - current : OPTIMUM_SIZE;
    uint32_t index, end = size, count, coded;
    operation long_copy = {0, 0, 0};

    price_lengths(encoder);
    nodes[0].price = 0;
    nodes[0].context = encoder->context;
    for (index = 1; index <= size; index++)
        nodes[index].price = UINT32_MAX;

    for (index = 0; index < end; index++) {
        parse_node *node = &nodes[index];
        uint32_t position = current + index, limit = size - index, base_price, length;
        unsigned parity = (position - encoder->base_size) & (CELLOTA_DELTA_POSITIONS - 1);
        size_t matches, match;
        bool difference;
        uint32_t shift;
        int rep;

        if (node->price == UINT32_MAX)
            continue;
        if (index > 0) {
            node->context = nodes[node->from].context;
            context_after(&node->context, &node->last);
        }
        if (limit > CELLOTA_DELTA_MATCH_MAX)
            limit = CELLOTA_DELTA_MATCH_MAX;

        relax(nodes, index, index + 1,
              node->price + price_literal(encoder, &node->context, position, &difference),
              (operation){0, 0, 0});
        if (index + CELLOTA_DELTA_WORD_BYTES <= size &&
            word_shift(encoder, &node->context, position, &shift))
            relax(nodes, index, index + CELLOTA_DELTA_WORD_BYTES,
                  node->price + price_word(encoder, &node->context, position, shift),
                  (operation){CELLOTA_DELTA_WORD_BYTES, shift, OPERATION_WORD});

        for (rep = 0; rep < 4; rep++) {
            uint32_t distance = node->context.reps[rep];
            if (distance >= position)
                continue;
            length = common_length(encoder->dictionary + position - distance - 1,
                                   encoder->dictionary + position, limit);
            if (rep == 0 && length >= 1)
                relax(nodes, index, index + 1,
                      node->price + price_rep(encoder, &node->context, 0, true, parity),
                      (operation){1, distance, 0});
            if (length >= NICE_LENGTH && length > long_copy.length)
                long_copy = (operation){length, distance, rep};
            base_price = node->price + price_rep(encoder, &node->context, rep, false, parity);
            for (; length >= CELLOTA_DELTA_MATCH_MIN; length--)
                relax(nodes, index, index + length, base_price + encoder->rep_length_price[length],
                      (operation){length, distance, rep});
        }

        if (long_copy.length == 0) {
            uint32_t from_length = HASH_MIN;
            matches = find_matches(encoder, position, limit);
            base_price = node->price + price_bit(encoder->model.is_match[node->context.state][parity], 1) +
                         price_bit(encoder->model.is_rep[node->context.state], 0);
            for (match = 0; match < matches; match++) {
                uint32_t distance = encoder->matches_distance[match];
                uint32_t source_price = price_source(encoder, position, distance);
                for (length = from_length; length <= encoder->matches_length[match]; length++)
                    relax(nodes, index, index + length,
                          base_price + encoder->match_length_price[length] +
                              price_match_distance(encoder, distance, length, source_price),
                          (operation){length, distance, -1});
                from_length = encoder->matches_length[match] + 1;
                if (encoder->matches_length[match] >= NICE_LENGTH && match + 1 == matches)
                    long_copy = (operation){encoder->matches_length[match], distance, -1};
            }
        }
        if (long_copy.length > 0) {
            end = index; /* the block ends here; the long copy follows it */
            break;
        }
    }

    /* Walk back from the end, then encode forwards. */
    count = 0;
    for (index = end; index > 0; index = nodes[index].from)
        encoder->path[count++] = nodes[index].last;
    coded = 0;
    while (count > 0) {
        const operation *op = &encoder->path[--count];
        encode_operation(encoder, op, current + coded);
        coded += op->length ? op->length : 1;
    }
    if (long_copy.length > 0) {
        if (long_copy.rep >= 0) /* the repeat's index in the context it is coded in */
            for (long_copy.rep = 0; encoder->context.reps[long_copy.rep] != long_copy.distance;)
                long_copy.rep++;
        encode_operation(encoder, &long_copy, current + coded);
        coded += long_copy.length;
    }
    return coded;
}

/* What coding one more unit changes, kept to take it back. */
typedef struct encoder_snapshot {
    cellota_delta_model model;
    coding_context context;
    range_encoder coder;
    size_t output;
} encoder_snapshot;

static void snapshot_take(const encoder_state *encoder, const byte_buffer *out,
                          encoder_snapshot *snapshot)
{
    snapshot->model = encoder->model;
    snapshot->context = encoder->context;
    snapshot->coder = encoder->coder;
    snapshot->output = out->size;
}

static void snapshot_restore(encoder_state *encoder, byte_buffer *out,
                             const encoder_snapshot *snapshot)
{
    encoder->model = snapshot->model;
    encoder->context = snapshot->context;
    encoder->coder = snapshot->coder;
    out->size = snapshot->output;
}

/* Codes one segment from the new image's byte `start`: whole units until the coded bytes
 * would pass the limit (but at least one unit) or the image ends. Returns where it ended, 0
 * after an error. */
static uint32_t encode_segment(encoder_state *encoder, byte_buffer *out, uint32_t start,
                               uint32_t image_size, uint32_t unit, size_t limit,
                               encoder_snapshot *snapshot)
{
    uint32_t rep = cellota_delta_initial_rep(encoder->kind, encoder->base_size);
    uint32_t end = start, units = 0;
    size_t prefix = out->size, index, coded;

    for (index = 0; index < CELLOTA_DELTA_SEGMENT_PREFIX; index++)
        buffer_put(out, 0);
    cellota_delta_model_reset(&encoder->model);
    encoder->context.state = 0;
    for (index = 0; index < 4; index++)
        encoder->context.reps[index] = rep;
    memset(encoder->context.shifts, 0, sizeof(encoder->context.shifts));
    encoder_start(&encoder->coder, out);
    while (end < image_size && units < 0xFFFF) {
        uint32_t current = encoder->base_size + end;
        uint32_t stop = image_size - end < unit ? image_size : end + unit;
        snapshot_take(encoder, out, snapshot);
        while (current < encoder->base_size + stop)
            current += encode_block(encoder, current, encoder->base_size + stop);
        /* What the segment would take if it ended here: its bytes, those waiting for a carry,
         * and the flush's. */
        coded = out->size - prefix - CELLOTA_DELTA_SEGMENT_PREFIX + encoder->coder.pending + 4;
        if (units > 0 && coded > limit) {
            snapshot_restore(encoder, out, snapshot);
            break;
        }
        end = stop;
        units++;
    }
    encoder_flush(&encoder->coder);
    if (out->failed)
        return 0;
    coded = out->size - prefix - CELLOTA_DELTA_SEGMENT_PREFIX;
    if (coded >= end - start) {
        /* Coding does not pay (random data): store the bytes, coded length 0. */
        out->size = prefix + CELLOTA_DELTA_SEGMENT_PREFIX;
        for (index = start; index < end; index++)
            buffer_put(out, encoder->dictionary[encoder->base_size + index]);
        coded = 0;
    }
    if (coded > 0xFFFF) {
        host_error(HOST_EXIT_INTERNAL, "a segment coded to %zu bytes, more than the format's 65535",
                   coded);
        return 0;
    }
    out->data[prefix] = (uint8_t)units;
    out->data[prefix + 1] = (uint8_t)(units >> 8);
    out->data[prefix + 2] = (uint8_t)coded;
    out->data[prefix + 3] = (uint8_t)(coded >> 8);
    return end;
}

int delta_encode(const uint8_t *base, size_t base_size, const uint8_t *image, size_t image_size,
                 const delta_options *options, uint8_t **stream, size_t *stream_size)
{
    static const delta_options defaults = {DEFAULT_UNIT_LOG2, DEFAULT_SEGMENT_BYTES,
                                           DEFAULT_SEARCH_DEPTH};
    cellota_delta_header header;
    encoder_state *encoder = NULL;
    byte_buffer out = {NULL, 0, 0, false};
    uint8_t *dictionary = NULL, header_bytes[CELLOTA_DELTA_HEADER_SIZE];
    encoder_snapshot *snapshot = NULL;
    size_t limit = options && options->segment_bytes ? options->segment_bytes : DEFAULT_SEGMENT_BYTES;
    uint32_t start;
    size_t index;
    int status = HOST_EXIT_OK;

    *stream = NULL;
    *stream_size = 0;
    if (!options)
        options = &defaults;
    if (!base)
        base_size = 0;
    if (image_size > UINT32_MAX / 2 || base_size > UINT32_MAX / 2)
        return host_error(HOST_EXIT_USAGE, "images over 2 GiB cannot be compressed or patched");
    memset(&header, 0, sizeof(header));
    header.kind = base ? CELLOTA_DELTA_PATCH : CELLOTA_DELTA_COMPRESSED;
    header.unit_log2 = options->unit_log2 ? options->unit_log2 : DEFAULT_UNIT_LOG2;
    if (header.unit_log2 < CELLOTA_DELTA_UNIT_LOG2_MIN ||
        header.unit_log2 > CELLOTA_DELTA_UNIT_LOG2_MAX)
        return host_error(HOST_EXIT_USAGE, "unit 2^%u is outside 2^%u..2^%u", header.unit_log2,
                          CELLOTA_DELTA_UNIT_LOG2_MIN, CELLOTA_DELTA_UNIT_LOG2_MAX);
    header.new_size = (uint32_t)image_size;
    header.base_size = (uint32_t)base_size;
    if ((base && mbedtls_sha256_ret(base, base_size, header.base_sha256, 0) != 0) ||
        mbedtls_sha256_ret(image, image_size, header.new_sha256, 0) != 0)
        return host_error(HOST_EXIT_INTERNAL, "SHA-256 failed");

    prices_init();
    encoder = calloc(1, sizeof(*encoder));
    dictionary = malloc(base_size + image_size + 1);
    if (encoder) {
        encoder->head = malloc(sizeof(int32_t) << HASH_BITS);
        encoder->previous = malloc(sizeof(int32_t) * (base_size + image_size + 1));
    }
    if (!encoder || !dictionary || !encoder->head || !encoder->previous) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    if (base_size)
        memcpy(dictionary, base, base_size);
    if (image_size)
        memcpy(dictionary + base_size, image, image_size);
    for (index = 0; index < ((size_t)1 << HASH_BITS); index++)
        encoder->head[index] = -1;
    encoder->dictionary = dictionary;
    encoder->base_size = (uint32_t)base_size;
    encoder->total = (uint32_t)(base_size + image_size);
    encoder->image_size = (uint32_t)image_size;
    encoder->unit = 1u << header.unit_log2;
    encoder->kind = header.kind;
    encoder->search_depth = options->search_depth ? options->search_depth : DEFAULT_SEARCH_DEPTH;

    cellota_delta_header_encode(&header, header_bytes);
    for (index = 0; index < CELLOTA_DELTA_HEADER_SIZE; index++)
        buffer_put(&out, header_bytes[index]);
    snapshot = malloc(sizeof(*snapshot));
    if (!snapshot) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    for (start = 0; start < header.new_size;) {
        uint32_t end = encode_segment(encoder, &out, start, header.new_size,
                                      1u << header.unit_log2, limit, snapshot);
        if (end == 0) {
            status = out.failed ? host_error(HOST_EXIT_INTERNAL, "out of memory")
                                : HOST_EXIT_INTERNAL;
            break;
        }
        start = end;
    }
    if (status == HOST_EXIT_OK && out.failed)
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");

done:
    if (encoder) {
        free(encoder->head);
        free(encoder->previous);
    }
    free(encoder);
    free(dictionary);
    free(snapshot);
    if (status != HOST_EXIT_OK) {
        free(out.data);
        return status;
    }
    *stream = out.data;
    *stream_size = out.size;
    return HOST_EXIT_OK;
}
