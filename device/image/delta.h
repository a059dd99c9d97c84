/*
 * The decoder of cellota's compressed images and patches (stream format "CLZ1",
 * docs/image-format.md). One format serves both: the new image is coded as literals and copies
 * from a dictionary that is the old image (a patch's base; empty for a compressed image)
 * followed by the new image decoded so far. Copies are coded by an adaptive binary range coder
 * with LZ77-style repeat distances, and a literal can be coded as its difference from the byte
 * the last copy would have continued with -- what makes a patch small where a new build moved
 * code and every pointer into it changed by the same amount.
 *
 * The dictionary is never held in RAM: the decoder reads it back through `io->read` (the old
 * image in the running slot, the new one from the slot it is being written to), so its state
 * is the model's probabilities, a 128-byte input buffer and a few counters --
 * sizeof(cellota_delta), 4,704 bytes on a Cortex-M4, whatever the image size.
 *
 * Streaming and resuming. Input comes in chunks of any size. The new image is coded in
 * segments, each a whole number of units (2^unit_log2 bytes of output) prefixed with that
 * number and its coded length, and coded from a fresh model, so decoding can restart at any
 * segment boundary from the output written so far: io->segment_done reports each boundary
 * with the stream offset where the next segment starts, and cellota_delta_resume starts there.
 * The encoder closes a segment once its coded bytes would pass a limit (4 KiB by default), so
 * a resume re-reads at most about that much of the stream.
 */
#ifndef CELLOTA_IMAGE_DELTA_H
#define CELLOTA_IMAGE_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_DELTA_MAGIC "CLZ1"
#define CELLOTA_DELTA_HEADER_SIZE 80

/* What the stream holds (the header's kind byte). */
#define CELLOTA_DELTA_COMPRESSED 1 /* the new image alone */
#define CELLOTA_DELTA_PATCH 2      /* the new image from the base (old) image */

/* Segments begin at multiples of 2^unit_log2 bytes of output (a flash erase page, say). */
#define CELLOTA_DELTA_UNIT_LOG2_MIN 9
#define CELLOTA_DELTA_UNIT_LOG2_MAX 16
#define CELLOTA_DELTA_SEGMENT_PREFIX 4 /* units (u16) and coded bytes (u16) */

/* --- the model, shared with the host's encoder so the two can never disagree ------------ */

#define CELLOTA_DELTA_STATES 12       /* the last few operations, as in LZMA */
#define CELLOTA_DELTA_POSITIONS 2     /* contexts from the output position (Thumb: 2-byte code) */
#define CELLOTA_DELTA_MATCH_MIN 2     /* shortest copy */
#define CELLOTA_DELTA_LITERAL_CONTEXTS 2    /* by output position: Thumb code is 2-byte */
#define CELLOTA_DELTA_DIFFERENCE_CONTEXTS 2
#define CELLOTA_DELTA_LENGTH_LOW 8    /* lengths 2..9 */
#define CELLOTA_DELTA_LENGTH_MID 8    /* 10..17 */
#define CELLOTA_DELTA_LENGTH_HIGH 256 /* 18..273 */
#define CELLOTA_DELTA_MATCH_MAX                                                                    \
    (CELLOTA_DELTA_MATCH_MIN + CELLOTA_DELTA_LENGTH_LOW + CELLOTA_DELTA_LENGTH_MID +               \
     CELLOTA_DELTA_LENGTH_HIGH - 1)
#define CELLOTA_DELTA_LENGTH_STATES 4 /* distance slots depend on min(length - 2, 3) */
#define CELLOTA_DELTA_SHIFT_SLOTS CELLOTA_DELTA_LENGTH_STATES        /* slot row of a new shift */
#define CELLOTA_DELTA_SOURCE_SLOTS (CELLOTA_DELTA_LENGTH_STATES + 1) /* a base source */
#define CELLOTA_DELTA_SHIFTS 8 /* the last shifts a word was relocated by */
#define CELLOTA_DELTA_WORD_BYTES 4
#define CELLOTA_DELTA_SLOTS 64
#define CELLOTA_DELTA_END_SLOT 14      /* slots from here code their low 4 bits with `align` */
#define CELLOTA_DELTA_FULL_DISTANCES 128
#define CELLOTA_DELTA_ALIGN_BITS 4
#define CELLOTA_DELTA_PROBABILITY_BITS 11

/* The most coded bytes one operation can take: 48 coded bits, each renormalising at most once. */
#define CELLOTA_DELTA_OPERATION_BYTES_MAX 64
#define CELLOTA_DELTA_INPUT_SIZE 128

typedef uint16_t cellota_delta_probability;

/*
 * A probability's low 11 bits are the probability of a 0; its top 5 count the bits it has coded
 * (to 31). It adapts by 1/2 of the distance to 0 or 1 after its first bit, 1/4 after the next
 * two, 1/8 after the next four, then by 1/2^CELLOTA_DELTA_ADAPT_LIMIT: a model that starts
 * afresh every segment learns about as fast as counting would, then settles. (On the Pybricks
 * releases a fixed 1/16 made the one-release patch 4.5 % larger, a limit of 1/32 2.3 %:
 * docs/performance.md.)
 */
#define CELLOTA_DELTA_ADAPT_LIMIT 4
#define CELLOTA_DELTA_PROBABILITY_MASK ((1u << CELLOTA_DELTA_PROBABILITY_BITS) - 1)
#define CELLOTA_DELTA_SEEN_MAX 31u

static inline uint32_t cellota_delta_probability_of(cellota_delta_probability probability)
{
    return probability & CELLOTA_DELTA_PROBABILITY_MASK;
}

/* The probability after coding `bit` with it. */

static inline cellota_delta_probability cellota_delta_update(cellota_delta_probability probability,
                                                             unsigned bit)
{
    uint32_t seen = (uint32_t)probability >> CELLOTA_DELTA_PROBABILITY_BITS;
    uint32_t value = probability & CELLOTA_DELTA_PROBABILITY_MASK, shift = 1;
    while (shift < CELLOTA_DELTA_ADAPT_LIMIT && (seen + 1) >> shift)
        shift++;
    if (bit)
        value -= value >> shift;
    else
        value += ((1u << CELLOTA_DELTA_PROBABILITY_BITS) - value) >> shift;
    if (seen < CELLOTA_DELTA_SEEN_MAX)
        seen++;
    return (cellota_delta_probability)(seen << CELLOTA_DELTA_PROBABILITY_BITS | value);
}

typedef struct cellota_delta_lengths {
    cellota_delta_probability choice, choice2;
    cellota_delta_probability low[CELLOTA_DELTA_LENGTH_LOW], mid[CELLOTA_DELTA_LENGTH_MID];
    cellota_delta_probability high[CELLOTA_DELTA_LENGTH_HIGH];
} cellota_delta_lengths;

typedef struct cellota_delta_model {
    cellota_delta_probability is_match[CELLOTA_DELTA_STATES][CELLOTA_DELTA_POSITIONS];
    cellota_delta_probability is_rep[CELLOTA_DELTA_STATES];
    cellota_delta_probability is_rep0[CELLOTA_DELTA_STATES];
    cellota_delta_probability is_rep1[CELLOTA_DELTA_STATES];
    cellota_delta_probability is_rep2[CELLOTA_DELTA_STATES];
    cellota_delta_probability is_rep0_long[CELLOTA_DELTA_STATES][CELLOTA_DELTA_POSITIONS];
    cellota_delta_probability is_difference[CELLOTA_DELTA_STATES];
    cellota_delta_probability is_from_base; /* a patch's match: its source given in the base */
    cellota_delta_probability is_word[2];   /* by the predicted word's kind: branch, word */
    cellota_delta_probability is_new_shift;
    cellota_delta_probability shift_index[CELLOTA_DELTA_SHIFTS];
    /* bit trees of a byte: a literal as it is, or its difference from the predicted byte */
    cellota_delta_probability literal[CELLOTA_DELTA_LITERAL_CONTEXTS][256];
    cellota_delta_probability difference[CELLOTA_DELTA_DIFFERENCE_CONTEXTS][256];
    cellota_delta_probability slot[CELLOTA_DELTA_LENGTH_STATES + 2][CELLOTA_DELTA_SLOTS];
    cellota_delta_probability special[CELLOTA_DELTA_FULL_DISTANCES - CELLOTA_DELTA_END_SLOT];
    cellota_delta_probability align[1 << CELLOTA_DELTA_ALIGN_BITS];
    cellota_delta_lengths match_length, rep_length;
} cellota_delta_model;

/* Every probability to one half. */
void cellota_delta_model_reset(cellota_delta_model *model);

/* The state after each kind of operation (the state says what the last ones were). */
static inline uint8_t cellota_delta_after_literal(uint8_t state)
{
    return (uint8_t)(state < 4 ? 0 : state < 10 ? state - 3 : state - 6);
}
static inline uint8_t cellota_delta_after_match(uint8_t state)
{
    return (uint8_t)(state < 7 ? 7 : 10);
}
static inline uint8_t cellota_delta_after_rep(uint8_t state)
{
    return (uint8_t)(state < 7 ? 8 : 11);
}
static inline uint8_t cellota_delta_after_short_rep(uint8_t state)
{
    return (uint8_t)(state < 7 ? 9 : 11);
}

/* The slot of a distance: its bit length, doubled, plus the bit below the top one. */
static inline uint32_t cellota_delta_slot(uint32_t distance)
{
    uint32_t bits = 0;
    if (distance < 4)
        return distance;
    while ((distance >> bits) > 1)
        bits++;
    return 2 * bits + ((distance >> (bits - 1)) & 1);
}

/* The repeat distances a segment starts with: for a patch, "the same offset in the base", so an
 * unchanged region costs almost nothing even at the start of a segment; for a compressed image,
 * the previous byte. */
static inline uint32_t cellota_delta_initial_rep(uint8_t kind, uint32_t base_size)
{
    return kind == CELLOTA_DELTA_PATCH && base_size > 0 ? base_size - 1 : 0;
}

/* --- relocated words -------------------------------------------------------------------
 * Where a new build moved code, every branch into it and every pointer to it changed by the
 * distance it moved, while the bytes around them are the old ones. So where the last copy's
 * source continues with a word, a literal can instead be that whole word relocated by a shift
 * (one of the last CELLOTA_DELTA_SHIFTS, or a new one): a Thumb-2 BL (first halfword 11110...,
 * second 11111..., at an even output position) gets its target moved by the shift, any other
 * word at a multiple of 4 its value. */
#define CELLOTA_DELTA_WORD_NONE 0
#define CELLOTA_DELTA_WORD_BRANCH 1
#define CELLOTA_DELTA_WORD_VALUE 2

static inline unsigned cellota_delta_word_kind(const uint8_t predicted[CELLOTA_DELTA_WORD_BYTES],
                                               uint32_t output)
{
    if (output & 1)
        return CELLOTA_DELTA_WORD_NONE;
    if ((predicted[1] & 0xF8) == 0xF0 && (predicted[3] & 0xF8) == 0xF8)
        return CELLOTA_DELTA_WORD_BRANCH;
    return (output & 3) == 0 ? CELLOTA_DELTA_WORD_VALUE : CELLOTA_DELTA_WORD_NONE;
}

/* A BL's 22-bit offset in halfwords: S:imm10 from the first halfword's low bits, imm11 from
 * the second's (bits 21..19 from byte 1, 18..11 byte 0, 10..8 byte 3, 7..0 byte 2). */
static inline uint32_t cellota_delta_branch_offset(const uint8_t bytes[CELLOTA_DELTA_WORD_BYTES])
{
    return (bytes[1] & 7u) << 19 | (uint32_t)bytes[0] << 11 | (bytes[3] & 7u) << 8 | bytes[2];
}

/* The predicted word relocated by `shift` bytes. `moved` is how far the word itself moved: the
 * output position less the source's position in its own image (a BL's offset is relative to
 * where it is, so its target moves by shift while the offset changes by shift - moved). */
static inline void cellota_delta_relocate(const uint8_t predicted[CELLOTA_DELTA_WORD_BYTES],
                                          unsigned kind, uint32_t shift, uint32_t moved,
                                          uint8_t word[CELLOTA_DELTA_WORD_BYTES])
{
    uint32_t value;
    if (kind == CELLOTA_DELTA_WORD_BRANCH) {
        value = cellota_delta_branch_offset(predicted) + ((shift - moved) >> 1);
        word[0] = (uint8_t)(value >> 11);
        word[1] = (uint8_t)(0xF0 | ((value >> 19) & 7));
        word[2] = (uint8_t)value;
        word[3] = (uint8_t)((predicted[3] & 0xF8) | ((value >> 8) & 7));
        return;
    }
    value = ((uint32_t)predicted[0] | (uint32_t)predicted[1] << 8 | (uint32_t)predicted[2] << 16 |
             (uint32_t)predicted[3] << 24) +
            shift;
    word[0] = (uint8_t)value;
    word[1] = (uint8_t)(value >> 8);
    word[2] = (uint8_t)(value >> 16);
    word[3] = (uint8_t)(value >> 24);
}

/* --- the header ------------------------------------------------------------------------- */

typedef struct cellota_delta_header {
    uint8_t kind;         /* CELLOTA_DELTA_COMPRESSED or CELLOTA_DELTA_PATCH */
    uint8_t unit_log2;    /* segments start at multiples of 2^unit_log2 bytes of output */
    uint32_t new_size;    /* bytes of the new image */
    uint32_t base_size;   /* bytes of the base image (0 when compressed) */
    uint8_t base_sha256[32]; /* SHA-256 of the base image (zero when compressed) */
    uint8_t new_sha256[32];  /* SHA-256 of the new image */
} cellota_delta_header;

/* CELLOTA_OK, or CELLOTA_IMAGE_DELTA_CORRUPT for another magic, an unknown kind, a unit size
 * out of range, non-zero reserved bytes or a compressed image with a base. */
int cellota_delta_header_decode(const uint8_t bytes[CELLOTA_DELTA_HEADER_SIZE],
                                cellota_delta_header *header);
void cellota_delta_header_encode(const cellota_delta_header *header,
                                 uint8_t bytes[CELLOTA_DELTA_HEADER_SIZE]);

/* --- the decoder ------------------------------------------------------------------------ */

/* Where the decoder reads its dictionary and writes the new image. Each returns CELLOTA_OK or
 * an error (a flash error, say), which the decoder passes up and keeps. */
typedef struct cellota_delta_io {
    void *context;
    /* `length` bytes of the dictionary from `position`: the base image at [0, base_size), the
     * new image at [base_size, base_size + bytes written). Never asks for bytes not there yet. */
    int (*read)(void *context, uint32_t position, uint8_t *buffer, size_t length);
    /* The next `length` bytes of the new image. */
    int (*write)(void *context, const uint8_t *data, size_t length);
    /* A segment ended: `output` bytes of the new image are written, and the next segment starts
     * at `stream_offset` of the stream. May be NULL. */
    void (*segment_done)(void *context, uint32_t output, uint32_t stream_offset);
} cellota_delta_io;

typedef struct cellota_delta {
    /* Scalars first (short Thumb encodings reach them). */
    uint8_t phase;
    uint8_t state;
    uint8_t input_start, input_count; /* the unread bytes of `input` */
    int error;                        /* sticky */
    uint32_t range, code;             /* the range decoder */
    uint32_t reps[4];                 /* the last four distances */
    uint32_t shifts[CELLOTA_DELTA_SHIFTS]; /* the last shifts words were relocated by */
    uint32_t output;                  /* bytes of the new image written */
    uint32_t segment_end;             /* where the current segment's output ends */
    uint32_t segment_left;            /* coded bytes of the current segment not read yet */
    uint32_t stream_offset;           /* stream bytes consumed (header included) */
    const cellota_delta_io *io;
    bool check_header;
    cellota_delta_header header; /* expected before the header arrives, then the one read */
    uint8_t input[CELLOTA_DELTA_INPUT_SIZE];
    cellota_delta_model model;
} cellota_delta;

/*
 * Starts decoding a whole stream, header first. `expected`, when not NULL, is what the stream
 * must describe: its header is compared when it arrives, and a different base is
 * CELLOTA_IMAGE_DELTA_WRONG_BASE, a different kind, size or new SHA-256
 * CELLOTA_IMAGE_DELTA_MISMATCH. `io` must outlive the decoder.
 */
void cellota_delta_begin(cellota_delta *decoder, const cellota_delta_io *io,
                         const cellota_delta_header *expected);

/* Starts at a segment boundary of the stream `header` describes: `output` bytes of the new
 * image are already written (where a segment began: a multiple of the unit, below new_size). Feed the
 * stream from the offset segment_done gave for it. CELLOTA_INVALID_ARGUMENT for a header
 * that does not decode or an output that is not such a boundary. */
int cellota_delta_resume(cellota_delta *decoder, const cellota_delta_io *io,
                         const cellota_delta_header *header, uint32_t output);

/* Consumes all `length` bytes: CELLOTA_OK, or CELLOTA_IMAGE_DELTA_CORRUPT (a stream no encoder
 * makes: a copy from before the dictionary or past a segment, a segment whose coded length is
 * wrong, bytes after the end), a header error above, or an error io returned. Sticky. */
int cellota_delta_feed(cellota_delta *decoder, const uint8_t *data, size_t length);

/* After the last byte: CELLOTA_OK when the whole new image was written,
 * CELLOTA_IMAGE_DELTA_TRUNCATED when the stream stopped before, or the sticky error. */
int cellota_delta_finish(const cellota_delta *decoder);

/* True once the header has been read and checked (or on a resumed decoder). */
bool cellota_delta_header_known(const cellota_delta *decoder);

#endif
