/*
 * Compressed images and patches (CLZ1): the host encoder and the device decoder agree on
 * generated and real-shaped data whatever the input split; a patch for another base, a cut-short
 * stream and a flipped byte are each refused with their own error; and inside the install
 * pipeline (decrypt -> decode, the base read from the running slot) an install comes out
 * byte-exact, resumes after a power cut at any flash operation from its last checkpoint with at
 * most one segment fetched again, and never leaves a finish that says OK for a bad stream.
 */
#include "test.h"

#include "core/error.h"
#include "delta/delta.h"
#include "firmware_maker.h"
#include "flash_sim.h"
#include "image/delta.h"
#include "image/pipeline.h"
#include "image_maker.h"

#include <mbedtls/sha256.h>

/* --- data --------------------------------------------------------------------------------- */

typedef struct blob {
    uint8_t *data;
    uint32_t size;
} blob;

static blob random_blob(uint32_t size, uint64_t seed)
{
    blob result = {malloc(size ? size : 1), size};
    uint32_t index;
    for (index = 0; index < size; index++)
        result.data[index] = (uint8_t)test_random(&seed);
    return result;
}

/* Text-like: words from a small vocabulary, so it compresses the way strings tables do. */
static blob text_blob(uint32_t size, uint64_t seed)
{
    static const char *words[] = {"update ", "firmware ", "modem ", "cellular ", "slot ",
                                  "bootloader ", "error: ", "version ", "0x0800", "\n"};
    blob result = {malloc(size ? size : 1), size};
    uint32_t index = 0;
    while (index < size) {
        const char *word = words[test_random(&seed) % 10];
        while (*word && index < size)
            result.data[index++] = (uint8_t)*word++;
    }
    return result;
}

static void firmware_pair(size_t functions, uint64_t seed, blob *old, blob *new)
{
    static firmware_plan plan;
    firmware_plan_make(&plan, functions, seed);
    old->size = firmware_build(&plan, &old->data);
    firmware_plan_next(&plan, functions / 3, functions / 2, functions - 5, seed + 1);
    new->size = firmware_build(&plan, &new->data);
}

/* --- the decoder over memory, fed in chunks ----------------------------------------------- */

typedef struct memory_image {
    uint8_t *dictionary; /* base || new */
    uint32_t base_size, written, capacity;
} memory_image;

static int memory_read(void *context, uint32_t position, uint8_t *buffer, size_t length)
{
    memory_image *image = context;
    CHECK(position + length <= image->base_size + image->written);
    memcpy(buffer, image->dictionary + position, length);
    return CELLOTA_OK;
}

static int memory_write(void *context, const uint8_t *data, size_t length)
{
    memory_image *image = context;
    CHECK(image->written + length <= image->capacity);
    if (image->written + length > image->capacity)
        return CELLOTA_FLASH_OUT_OF_RANGE;
    memcpy(image->dictionary + image->base_size + image->written, data, length);
    image->written += (uint32_t)length;
    return CELLOTA_OK;
}

/* Decodes `stream` fed `chunk` bytes at a time; checks the result is `expected`. */
static void decode_in_chunks(const blob *base, const uint8_t *stream, size_t stream_size,
                             const blob *expected, size_t chunk)
{
    static cellota_delta decoder;
    cellota_delta_io io = {NULL, memory_read, memory_write, NULL};
    memory_image image;
    size_t offset;
    int result = CELLOTA_OK;

    image.base_size = base ? base->size : 0;
    image.written = 0;
    image.capacity = expected->size;
    image.dictionary = malloc(image.base_size + expected->size + 1);
    if (base && base->size)
        memcpy(image.dictionary, base->data, base->size);
    io.context = &image;
    cellota_delta_begin(&decoder, &io, NULL);
    for (offset = 0; offset < stream_size && result == CELLOTA_OK; offset += chunk) {
        size_t take = stream_size - offset < chunk ? stream_size - offset : chunk;
        result = cellota_delta_feed(&decoder, stream + offset, take);
    }
    CHECK_EQ_INT(result, CELLOTA_OK);
    CHECK_EQ_INT(cellota_delta_finish(&decoder), CELLOTA_OK);
    CHECK_EQ_INT(image.written, expected->size);
    CHECK_EQ_MEM(image.dictionary + image.base_size, expected->data, expected->size);
    free(image.dictionary);
}

/* Encodes and decodes both ways (host helper, device decoder in several splits). Returns the
 * stream's size. */
static size_t round_trip(const blob *base, const blob *image)
{
    static const size_t chunks[] = {1, 3, 17, 64, 1000, 1u << 30};
    uint8_t *stream, *decoded;
    size_t stream_size, decoded_size, index;

    CHECK_EQ_INT(delta_encode(base ? base->data : NULL, base ? base->size : 0, image->data,
                              image->size, NULL, &stream, &stream_size),
                 0);
    CHECK_EQ_INT(delta_decode(base ? base->data : NULL, base ? base->size : 0, stream,
                              stream_size, &decoded, &decoded_size),
                 CELLOTA_OK);
    CHECK_EQ_INT(decoded_size, image->size);
    CHECK_EQ_MEM(decoded, image->data, image->size);
    for (index = 0; index < sizeof(chunks) / sizeof(chunks[0]); index++) {
        if (chunks[index] == 1 && stream_size > 20000)
            continue; /* byte by byte only for the small ones: the split is covered */
        decode_in_chunks(base, stream, stream_size, image, chunks[index]);
    }
    free(stream);
    free(decoded);
    return stream_size;
}

static void test_round_trips(void)
{
    blob empty = {malloc(1), 0}, one = random_blob(1, 1), random = random_blob(100000, 2);
    blob zeros = {calloc(70000, 1), 70000}, text = text_blob(50000, 3), old, new;
    size_t size;

    CHECK_EQ_INT(round_trip(NULL, &empty), CELLOTA_DELTA_HEADER_SIZE);
    round_trip(NULL, &one);
    size = round_trip(NULL, &zeros);
    CHECK(size < CELLOTA_DELTA_HEADER_SIZE + 200);
    size = round_trip(NULL, &random);
    CHECK(size < random.size + random.size / 200); /* stored segments: 4 bytes a segment */ /* incompressible: a little overhead */
    size = round_trip(NULL, &text);
    CHECK(size < text.size / 4);

    firmware_pair(300, 4, &old, &new);
    size = round_trip(NULL, &new);
    CHECK(size < new.size * 3 / 4);
    size = round_trip(&old, &new);
    /* a release's patch: much smaller than the image; without relocated words (calls and
     * pointers into moved code as a shift) it is 7,389 bytes of 62,600, with them 5,938 */
    CHECK(size < new.size / 9);
    size = round_trip(&new, &new);
    CHECK(size < CELLOTA_DELTA_HEADER_SIZE + 400); /* the same image: a few bytes a segment */
    round_trip(&empty, &new);                      /* a patch from nothing: compression */
    round_trip(&random, &new);                     /* from something unrelated */
    round_trip(&new, &empty);                      /* to nothing */

    free(empty.data);
    free(one.data);
    free(random.data);
    free(zeros.data);
    free(text.data);
    free(old.data);
    free(new.data);
}

/* The relocated words' arithmetic (delta.h), by hand: a Thumb-2 BL and a pointer. */
static void test_relocated_words(void)
{
    /* BL from 0x100 to 0x2000: offset (0x2000 - 0x104) / 2 = 0xF7E halfwords. */
    static const uint8_t branch[4] = {0x01, 0xF0, 0x7E, 0xFF};
    static const uint8_t pointer[4] = {0x35, 0x12, 0x00, 0x08};
    uint8_t word[4];

    CHECK_EQ_INT(cellota_delta_word_kind(branch, 0x100), CELLOTA_DELTA_WORD_BRANCH);
    CHECK_EQ_INT(cellota_delta_word_kind(branch, 0x102), CELLOTA_DELTA_WORD_BRANCH);
    CHECK_EQ_INT(cellota_delta_word_kind(branch, 0x101), CELLOTA_DELTA_WORD_NONE);
    CHECK_EQ_INT(cellota_delta_word_kind(pointer, 0x100), CELLOTA_DELTA_WORD_VALUE);
    CHECK_EQ_INT(cellota_delta_word_kind(pointer, 0x102), CELLOTA_DELTA_WORD_NONE);

    /* The call moved 8 bytes later and its target 0x40: the offset grows by 0x38 / 2. */
    cellota_delta_relocate(branch, CELLOTA_DELTA_WORD_BRANCH, 0x40, 8, word);
    CHECK_EQ_MEM(word, ((const uint8_t[]){0x01, 0xF0, 0x9A, 0xFF}), 4);
    /* Target moved back past an imm11 boundary: 0xF7E - 0x400 = 0xB7E, the high bits change. */
    cellota_delta_relocate(branch, CELLOTA_DELTA_WORD_BRANCH, 0u - 0x800, 0, word);
    CHECK_EQ_MEM(word, ((const uint8_t[]){0x01, 0xF0, 0x7E, 0xFB}), 4);
    /* Both moved alike: the same bytes. */
    cellota_delta_relocate(branch, CELLOTA_DELTA_WORD_BRANCH, 0x1234, 0x1234, word);
    CHECK_EQ_MEM(word, branch, 4);
    /* A pointer moved 0x100 bytes, with the carry into its next byte. */
    cellota_delta_relocate(pointer, CELLOTA_DELTA_WORD_VALUE, 0xFF00, 0, word);
    CHECK_EQ_MEM(word, ((const uint8_t[]){0x35, 0x11, 0x01, 0x08}), 4);
}

/* --- errors ------------------------------------------------------------------------------- */

static void test_wrong_base(void)
{
    blob old, new, other;
    uint8_t *stream, *decoded;
    size_t stream_size, decoded_size;

    firmware_pair(120, 5, &old, &new);
    CHECK_EQ_INT(delta_encode(old.data, old.size, new.data, new.size, NULL, &stream, &stream_size),
                 0);
    other = random_blob(old.size, 6);
    CHECK_EQ_INT(delta_decode(other.data, other.size, stream, stream_size, &decoded, &decoded_size),
                 CELLOTA_IMAGE_DELTA_WRONG_BASE);
    CHECK(decoded == NULL);
    CHECK_EQ_INT(delta_decode(old.data, old.size - 1, stream, stream_size, &decoded, &decoded_size),
                 CELLOTA_IMAGE_DELTA_WRONG_BASE);
    CHECK_EQ_INT(delta_decode(NULL, 0, stream, stream_size, &decoded, &decoded_size),
                 CELLOTA_IMAGE_DELTA_WRONG_BASE);
    free(stream);
    free(old.data);
    free(new.data);
    free(other.data);
}

static void test_truncated(void)
{
    blob old, new;
    uint8_t *stream, *decoded;
    size_t stream_size, decoded_size, length;

    firmware_pair(60, 7, &old, &new);
    CHECK_EQ_INT(delta_encode(old.data, old.size, new.data, new.size, NULL, &stream, &stream_size),
                 0);
    for (length = 0; length < stream_size; length += 1 + length / 64)
        CHECK_EQ_INT(delta_decode(old.data, old.size, stream, length, &decoded, &decoded_size),
                     CELLOTA_IMAGE_DELTA_TRUNCATED);
    CHECK_EQ_INT(delta_decode(old.data, old.size, stream, stream_size - 1, &decoded, &decoded_size),
                 CELLOTA_IMAGE_DELTA_TRUNCATED);
    free(stream);
    free(old.data);
    free(new.data);
}

/* A flipped bit anywhere never yields OK, and each refusal is one of the stream's errors. */
static void test_flipped_bytes(void)
{
    blob old, new;
    uint8_t *stream, *decoded;
    size_t stream_size, decoded_size, offset;
    uint64_t seed = 8;
    unsigned corrupt = 0, hash = 0, unused = 0;

    firmware_pair(60, 9, &old, &new);
    CHECK_EQ_INT(delta_encode(old.data, old.size, new.data, new.size, NULL, &stream, &stream_size),
                 0);
    for (offset = 0; offset < stream_size; offset++) {
        uint8_t bit = (uint8_t)(1u << (test_random(&seed) % 8));
        int result;
        stream[offset] ^= bit;
        result = delta_decode(old.data, old.size, stream, stream_size, &decoded, &decoded_size);
        stream[offset] ^= bit;
        if (result == CELLOTA_OK) {
            /* A bit of a segment's flush the decoder never needs: the output is still exact
             * (its SHA-256 was checked), so the flip changed nothing. */
            CHECK_EQ_MEM(decoded, new.data, new.size);
            free(decoded);
            unused++;
            continue;
        }
        CHECK(result == CELLOTA_IMAGE_DELTA_CORRUPT || result == CELLOTA_IMAGE_DELTA_TRUNCATED ||
              result == CELLOTA_IMAGE_DELTA_WRONG_BASE ||
              result == CELLOTA_IMAGE_PLAIN_HASH_MISMATCH);
        corrupt += result == CELLOTA_IMAGE_DELTA_CORRUPT;
        hash += result == CELLOTA_IMAGE_PLAIN_HASH_MISMATCH;
    }
    CHECK(corrupt > 0 && hash > 0); /* both kinds of refusal happen */
    CHECK(unused < stream_size / 50);
    free(stream);
    free(old.data);
    free(new.data);
}

static void test_header_checks(void)
{
    cellota_delta_header header, decoded;
    uint8_t bytes[CELLOTA_DELTA_HEADER_SIZE];

    memset(&header, 0, sizeof(header));
    header.kind = CELLOTA_DELTA_PATCH;
    header.unit_log2 = 12;
    header.new_size = 1000;
    header.base_size = 2000;
    header.base_sha256[0] = 1;
    cellota_delta_header_encode(&header, bytes);
    memset(&decoded, 0, sizeof(decoded));
    CHECK_EQ_INT(cellota_delta_header_decode(bytes, &decoded), CELLOTA_OK);
    CHECK_EQ_MEM(&decoded, &header, sizeof(header));
    bytes[0] = 'X';
    CHECK_EQ_INT(cellota_delta_header_decode(bytes, &decoded), CELLOTA_IMAGE_DELTA_CORRUPT);
    bytes[0] = 'C';
    bytes[4] = 3; /* unknown kind */
    CHECK_EQ_INT(cellota_delta_header_decode(bytes, &decoded), CELLOTA_IMAGE_DELTA_CORRUPT);
    bytes[4] = CELLOTA_DELTA_COMPRESSED; /* compressed, yet with a base */
    CHECK_EQ_INT(cellota_delta_header_decode(bytes, &decoded), CELLOTA_IMAGE_DELTA_CORRUPT);
    bytes[4] = CELLOTA_DELTA_PATCH;
    bytes[5] = CELLOTA_DELTA_UNIT_LOG2_MAX + 1;
    CHECK_EQ_INT(cellota_delta_header_decode(bytes, &decoded), CELLOTA_IMAGE_DELTA_CORRUPT);
    bytes[5] = 12;
    bytes[6] = 1; /* reserved */
    CHECK_EQ_INT(cellota_delta_header_decode(bytes, &decoded), CELLOTA_IMAGE_DELTA_CORRUPT);
}

/* --- inside the install pipeline ----------------------------------------------------------- */

/* A device flash of 4 KiB pages: the running slot holds the base at 0, the install area is the
 * second half. */
static const cellota_flash_area device_flash = {0x00000000, 128 * 4096, 4096, 4, 0xFF};

typedef struct device_rig {
    flash_sim flash;
    cellota_port port;
    cellota_flash_area running, install;
    cellota_pipeline_encoding encoding;
    test_image image; /* plain: the new image; cipher: the encrypted stream */
    uint8_t *stream;
    size_t stream_size;
    size_t largest_segment; /* coded bytes, prefix included */
} device_rig;

/* The encrypted release `cellota pack` makes of a stream (image_maker.h). */
static void encrypt_stream(test_image *image, const blob *new, const uint8_t *stream,
                           size_t stream_size, uint64_t seed)
{
    test_image_free(image);
    test_image_make_encoded(image, new->data, new->size, stream, (uint32_t)stream_size, seed);
}

static void rig_create(device_rig *rig, const blob *old, const blob *new, bool patch)
{
    const uint8_t *segment;
    memset(rig, 0, sizeof(*rig));
    CHECK_EQ_INT(flash_sim_create(&rig->flash, &device_flash), CELLOTA_OK);
    rig->port.context = &rig->flash;
    rig->port.flash_read = flash_sim_read;
    rig->port.flash_write = flash_sim_write;
    rig->port.flash_erase = flash_sim_erase;
    rig->running = device_flash;
    rig->running.size = device_flash.size / 2;
    rig->install = rig->running;
    rig->install.address = rig->running.size;
    {
        uint8_t *padded = calloc(1, old->size + 4);
        memcpy(padded, old->data, old->size);
        CHECK_EQ_INT(flash_sim_write(&rig->flash, 0, padded, (old->size + 3) & ~3u), CELLOTA_OK);
        free(padded);
    }
    rig->encoding.kind = patch ? CELLOTA_DELTA_PATCH : CELLOTA_DELTA_COMPRESSED;
    rig->encoding.base = &rig->running;
    rig->encoding.base_size = old->size;
    mbedtls_sha256_ret(old->data, old->size, rig->encoding.base_sha256, 0);
    CHECK_EQ_INT(delta_encode(patch ? old->data : NULL, old->size, new->data, new->size, NULL,
                              &rig->stream, &rig->stream_size),
                 0);
    for (segment = rig->stream + CELLOTA_DELTA_HEADER_SIZE; segment < rig->stream + rig->stream_size;) {
        size_t coded = CELLOTA_DELTA_SEGMENT_PREFIX + (segment[2] | (size_t)segment[3] << 8);
        if (coded > rig->largest_segment)
            rig->largest_segment = coded;
        segment += coded;
    }
    encrypt_stream(&rig->image, new, rig->stream, rig->stream_size, 10);
}

static void rig_destroy(device_rig *rig)
{
    flash_sim_destroy(&rig->flash);
    test_image_free(&rig->image);
    free(rig->stream);
}

static void check_new_image(device_rig *rig, const blob *new)
{
    CHECK_EQ_MEM(rig->flash.memory + rig->install.address, new->data, new->size);
    CHECK_EQ_INT(rig->flash.violations, 0);
}

static int install(device_rig *rig, size_t chunk)
{
    static cellota_pipeline_decoder decoder;
    cellota_pipeline pipeline;
    size_t offset;
    int result = cellota_pipeline_begin_encoded(&pipeline, &rig->port, &rig->install,
                                                &rig->image.info, &rig->encoding, &decoder);
    for (offset = 0; offset < rig->image.cipher_size && result == CELLOTA_OK; offset += chunk) {
        size_t take = rig->image.cipher_size - offset < chunk ? rig->image.cipher_size - offset
                                                              : chunk;
        result = cellota_pipeline_feed(&pipeline, rig->image.cipher + offset, take);
    }
    return result == CELLOTA_OK ? cellota_pipeline_finish(&pipeline) : result;
}

static void test_pipeline_installs(void)
{
    static const size_t chunks[] = {1, 16, 100, 1460, 1u << 30};
    blob old, new;
    device_rig rig;
    size_t index;
    int patch;

    firmware_pair(160, 11, &old, &new);
    for (patch = 0; patch < 2; patch++) {
        for (index = patch; index < sizeof(chunks) / sizeof(chunks[0]); index++) {
            rig_create(&rig, &old, &new, patch);
            CHECK_EQ_INT(install(&rig, chunks[index]), CELLOTA_OK);
            check_new_image(&rig, &new);
            rig_destroy(&rig);
        }
    }
    free(old.data);
    free(new.data);
}

static void test_pipeline_refusals(void)
{
    static cellota_pipeline_decoder decoder;
    cellota_pipeline pipeline;
    blob old, new;
    device_rig rig;

    firmware_pair(100, 12, &old, &new);

    /* The request names another base than the stream (a release packed wrong). */
    rig_create(&rig, &old, &new, true);
    rig.encoding.base_sha256[5] ^= 1;
    CHECK_EQ_INT(install(&rig, 1460), CELLOTA_IMAGE_DELTA_WRONG_BASE);
    rig_destroy(&rig);

    /* A device that cannot decode. */
    rig_create(&rig, &old, &new, true);
    CHECK_EQ_INT(cellota_pipeline_begin_encoded(&pipeline, &rig.port, &rig.install,
                                                &rig.image.info, &rig.encoding, NULL),
                 CELLOTA_IMAGE_ENCODING_UNSUPPORTED);
    rig_destroy(&rig);

    /* A flipped byte in transit: the ciphertext's hash says so, whatever the decoder made of it. */
    rig_create(&rig, &old, &new, true);
    rig.image.cipher[rig.image.cipher_size / 2] ^= 0x10;
    CHECK_EQ_INT(install(&rig, 1460), CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH);
    rig_destroy(&rig);

    /* A stream cut short before it was packed: complete download, incomplete stream. */
    rig_create(&rig, &old, &new, true);
    encrypt_stream(&rig.image, &new, rig.stream, rig.stream_size - 3, 13);
    CHECK_EQ_INT(install(&rig, 1460), CELLOTA_IMAGE_DELTA_TRUNCATED);
    rig_destroy(&rig);

    /* A stream damaged before it was packed. */
    rig_create(&rig, &old, &new, true);
    rig.stream[rig.stream_size / 2] ^= 0x55;
    encrypt_stream(&rig.image, &new, rig.stream, rig.stream_size, 14);
    {
        int result = install(&rig, 1460);
        CHECK(result == CELLOTA_IMAGE_DELTA_CORRUPT ||
              result == CELLOTA_IMAGE_PLAIN_HASH_MISMATCH);
    }
    rig_destroy(&rig);

    /* A compressed image offered as a patch, and the other way round. */
    rig_create(&rig, &old, &new, false);
    rig.encoding.kind = CELLOTA_DELTA_PATCH;
    CHECK_EQ_INT(install(&rig, 1460), CELLOTA_IMAGE_DELTA_MISMATCH);
    rig_destroy(&rig);

    /* An encrypted size that cannot hold a stream. */
    rig_create(&rig, &old, &new, true);
    rig.image.info.encrypted_size = 64;
    CHECK_EQ_INT(cellota_pipeline_begin_encoded(&pipeline, &rig.port, &rig.install,
                                                &rig.image.info, &rig.encoding, &decoder),
                 CELLOTA_IMAGE_FW_INFO_SIZES);
    rig_destroy(&rig);

    free(old.data);
    free(new.data);
}

/*
 * An install cut by power failures: the cut falls at flash operation `first_cut` and then at
 * random ones, `resets` times. After each, RAM is garbage; the pipeline and decoder are restored
 * from the last saved state and the download goes on from the pipeline's offset, which must
 * re-fetch at most one segment plus one block.
 */
static void install_with_resets(const blob *old, const blob *new, bool patch, uint64_t seed,
                                int resets, uint64_t first_cut)
{
    static cellota_pipeline_decoder decoder;
    device_rig rig;
    cellota_pipeline pipeline;
    uint8_t saved[CELLOTA_PIPELINE_STATE_SIZE];
    uint64_t random = seed;
    uint32_t saved_at = 0;
    int run, result;

    rig_create(&rig, old, new, patch);
    flash_sim_seed(&rig.flash, seed);
    CHECK_EQ_INT(cellota_pipeline_begin_encoded(&pipeline, &rig.port, &rig.install,
                                                &rig.image.info, &rig.encoding, &decoder),
                 CELLOTA_OK);
    cellota_pipeline_save(&pipeline, saved);
    for (run = 0;; run++) {
        uint32_t offset = cellota_pipeline_offset(&pipeline);
        uint64_t operations = rig.image.plain_size / 16 + rig.image.plain_size / 4096 + 4;
        flash_sim_schedule_cut(&rig.flash, run >= resets ? 0
                                           : run == 0 && first_cut
                                               ? first_cut
                                               : 1 + test_random(&random) % operations);
        result = CELLOTA_OK;
        while (offset < rig.image.cipher_size && result == CELLOTA_OK) {
            size_t chunk = 1 + (size_t)(test_random(&random) % 2000);
            if (chunk > rig.image.cipher_size - offset)
                chunk = rig.image.cipher_size - offset;
            result = cellota_pipeline_feed(&pipeline, rig.image.cipher + offset, chunk);
            offset += (uint32_t)chunk;
            if (result == CELLOTA_OK) {
                cellota_pipeline_save(&pipeline, saved);
                saved_at = offset;
            }
        }
        if (result == CELLOTA_OK)
            result = cellota_pipeline_finish(&pipeline);
        if (result == CELLOTA_OK)
            break;
        CHECK_EQ_INT(result, CELLOTA_FLASH_WRITE_FAILED);
        if (result != CELLOTA_FLASH_WRITE_FAILED || run > resets)
            break;
        flash_sim_power_on(&rig.flash);
        memset(&pipeline, 0xA5, sizeof(pipeline));
        memset(&decoder, 0x5A, sizeof(decoder));
        CHECK_EQ_INT(cellota_pipeline_restore_encoded(&pipeline, &rig.port, &rig.install,
                                                      &rig.image.info, &rig.encoding, &decoder,
                                                      saved),
                     CELLOTA_OK);
        offset = cellota_pipeline_offset(&pipeline);
        CHECK_EQ_INT(offset % 16, 0);
        CHECK(offset <= saved_at);
        CHECK(saved_at - offset <=
              rig.largest_segment + CELLOTA_DELTA_HEADER_SIZE + 16 + 2000);
    }
    CHECK_EQ_INT(result, CELLOTA_OK);
    check_new_image(&rig, new);
    rig_destroy(&rig);
}

static void test_pipeline_resumes(void)
{
    blob old, new;
    uint64_t seed;

    firmware_pair(200, 15, &old, &new);
    for (seed = 1; seed <= 4; seed++) {
        install_with_resets(&old, &new, true, seed * 7919, 4, 0);
        install_with_resets(&old, &new, false, seed * 104729, 4, 0);
    }
    free(old.data);
    free(new.data);
}

/* The checkpoint lands on segment ends: resuming there re-fetches less than a segment. */
static void test_checkpoint_distance(void)
{
    static cellota_pipeline_decoder decoder;
    blob old, new;
    device_rig rig;
    cellota_pipeline pipeline;
    uint32_t offset, worst = 0, checkpoints = 0, last = 0;

    firmware_pair(400, 16, &old, &new);
    rig_create(&rig, &old, &new, false);
    CHECK_EQ_INT(cellota_pipeline_begin_encoded(&pipeline, &rig.port, &rig.install,
                                                &rig.image.info, &rig.encoding, &decoder),
                 CELLOTA_OK);
    for (offset = 0; offset < rig.image.cipher_size; offset += 16) {
        CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, rig.image.cipher + offset, 16), CELLOTA_OK);
        if (pipeline.checkpoint.offset != last) {
            checkpoints++;
            last = pipeline.checkpoint.offset;
        }
        if (offset + 16 - pipeline.checkpoint.offset > worst)
            worst = offset + 16 - pipeline.checkpoint.offset;
    }
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    CHECK(checkpoints >= rig.image.cipher_size / 4200);
    CHECK(worst <= rig.largest_segment + CELLOTA_DELTA_HEADER_SIZE + 32);
    printf("  compressed %u -> %u bytes, %u checkpoints, worst re-fetch %u (largest segment %zu)\n",
           (unsigned)new.size, (unsigned)rig.stream_size, (unsigned)checkpoints, (unsigned)worst,
           rig.largest_segment);
    rig_destroy(&rig);
    free(old.data);
    free(new.data);
}

/* A campaign sends each device the smallest form it can apply. */
static void test_choose(void)
{
    delta_variant variants[4];
    delta_device device;

    memset(variants, 0, sizeof(variants));
    memset(&device, 0, sizeof(device));
    variants[0].encoding = CELLOTA_REQUEST_PLAIN;
    variants[0].size = 300000;
    variants[1].encoding = CELLOTA_DELTA_COMPRESSED;
    variants[1].size = 210000;
    variants[2].encoding = CELLOTA_DELTA_PATCH; /* from 1.1.0 */
    variants[2].base_size = 290000;
    variants[2].base_sha256[0] = 0x11;
    variants[2].size = 40000;
    variants[3].encoding = CELLOTA_DELTA_PATCH; /* from 1.0.0 */
    variants[3].base_size = 280000;
    variants[3].base_sha256[0] = 0x10;
    variants[3].size = 90000;

    CHECK_EQ_INT(delta_choose(variants, 4, &device), 0); /* cannot decode: the plain image */
    device.decodes = true;
    CHECK_EQ_INT(delta_choose(variants, 4, &device), 1); /* runs something else: compressed */
    device.running_size = 290000;
    device.running_sha256[0] = 0x11;
    CHECK_EQ_INT(delta_choose(variants, 4, &device), 2); /* runs 1.1.0 */
    device.running_size = 280000;
    device.running_sha256[0] = 0x10;
    CHECK_EQ_INT(delta_choose(variants, 4, &device), 3); /* runs 1.0.0 */
    device.running_sha256[1] = 1; /* same size, another image */
    CHECK_EQ_INT(delta_choose(variants, 4, &device), 1);
    CHECK_EQ_INT(delta_choose(variants + 2, 2, &device), -1); /* only patches, none applies */
}

int main(void)
{
    RUN(test_round_trips);
    RUN(test_relocated_words);
    RUN(test_wrong_base);
    RUN(test_truncated);
    RUN(test_flipped_bytes);
    RUN(test_header_checks);
    RUN(test_pipeline_installs);
    RUN(test_pipeline_refusals);
    RUN(test_pipeline_resumes);
    RUN(test_checkpoint_distance);
    RUN(test_choose);
    return test_summary();
}
