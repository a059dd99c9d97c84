/*
 * The install pipeline against the strict flash simulator: every way of splitting the input
 * gives the same flash contents, a reset at any flash operation resumes to the same result
 * through save/restore, and every error has its own code.
 */
#include "test.h"

#include "core/error.h"
#include "flash_sim.h"
#include "image/pipeline.h"
#include "image_maker.h"

/* A device flash with an install area in its middle, filled with an "old image" pattern so a
 * write into a page the pipeline has not erased is a violation the simulator counts. */
typedef struct test_rig {
    flash_sim flash;
    cellota_port port;
    cellota_flash_area area;
    uint8_t *old; /* the device's contents before the install */
} test_rig;

static void rig_create(test_rig *rig, const cellota_flash_area *geometry, uint32_t area_offset,
                       uint32_t area_size)
{
    uint32_t index;
    memset(rig, 0, sizeof(*rig));
    CHECK_EQ_INT(flash_sim_create(&rig->flash, geometry), CELLOTA_OK);
    rig->old = malloc(geometry->size);
    for (index = 0; index < geometry->size; index++)
        rig->old[index] = (uint8_t)(index * 7 + 3);
    CHECK_EQ_INT(flash_sim_write(&rig->flash, geometry->address, rig->old, geometry->size),
                 CELLOTA_OK);
    rig->port.context = &rig->flash;
    rig->port.flash_read = flash_sim_read;
    rig->port.flash_write = flash_sim_write;
    rig->port.flash_erase = flash_sim_erase;
    rig->area = *geometry;
    rig->area.address = geometry->address + area_offset;
    rig->area.size = area_size;
}

static void rig_destroy(test_rig *rig)
{
    flash_sim_destroy(&rig->flash);
    free(rig->old);
}

/* What the whole device must hold after installing `image`: the plain image at the area's start,
 * the rest of its last write unit and of every page it touched erased, everything else old. */
static void check_installed(test_rig *rig, const test_image *image)
{
    const cellota_flash_area *geometry = &rig->flash.geometry, *area = &rig->area;
    uint8_t *expected = malloc(geometry->size);
    uint32_t offset = area->address - geometry->address, pages_end;

    memcpy(expected, rig->old, geometry->size);
    if (image->plain_size > 0) {
        pages_end =
            (image->plain_size + area->erase_size - 1) / area->erase_size * area->erase_size;
        memset(expected + offset, area->erased_value, pages_end);
        memcpy(expected + offset, image->plain, image->plain_size);
    }
    CHECK_EQ_MEM(rig->flash.memory, expected, geometry->size);
    CHECK_EQ_INT(rig->flash.violations, 0);
    free(expected);
}

typedef enum split_kind { SPLIT_WHOLE, SPLIT_FIXED, SPLIT_RANDOM } split_kind;

typedef struct splitter {
    split_kind kind;
    size_t size;    /* SPLIT_FIXED: the chunk size; SPLIT_RANDOM: the largest chunk */
    uint64_t state; /* SPLIT_RANDOM */
} splitter;

static size_t next_chunk(splitter *split, size_t remaining)
{
    size_t chunk = remaining;
    if (split->kind == SPLIT_FIXED)
        chunk = split->size;
    else if (split->kind == SPLIT_RANDOM)
        chunk = 1 + (size_t)(test_random(&split->state) % split->size);
    return chunk < remaining ? chunk : remaining;
}

/* Feeds [from, to) of the image; stops at the first error and returns it. */
static int feed_range(cellota_pipeline *pipeline, const test_image *image, uint32_t from,
                      uint32_t to, splitter *split)
{
    while (from < to) {
        size_t chunk = next_chunk(split, to - from);
        int result = cellota_pipeline_feed(pipeline, image->cipher + from, chunk);
        if (result != CELLOTA_OK)
            return result;
        from += (uint32_t)chunk;
    }
    return CELLOTA_OK;
}

static int install(test_rig *rig, const test_image *image, splitter *split)
{
    cellota_pipeline pipeline;
    int result = cellota_pipeline_begin(&pipeline, &rig->port, &rig->area, &image->info);
    if (result == CELLOTA_OK)
        result = feed_range(&pipeline, image, 0, image->cipher_size, split);
    if (result == CELLOTA_OK)
        CHECK_EQ_INT(cellota_pipeline_offset(&pipeline), image->cipher_size);
    return result == CELLOTA_OK ? cellota_pipeline_finish(&pipeline) : result;
}

static const cellota_flash_area geometries[] = {
    {0x00000000, 64 * 4096, 4096, 4, 0xFF},  /* nRF52840: 4 KiB pages, 32-bit words */
    {0x08000000, 128 * 2048, 2048, 8, 0xFF}, /* STM32L4: 2 KiB pages, 64-bit double words */
    {0x00010000, 2048 * 128, 128, 16, 0xFF}, /* small pages, 16-byte writes */
    {0x00000000, 16384 * 16, 16, 1, 0x00},   /* a page per block, byte writes, erased to 0 */
};

static void test_every_split_same_result(void)
{
    static const uint32_t sizes[] = {0, 1, 15, 16, 17, 31, 127, 128, 129, 4095, 4096, 4097, 67512};
    static const size_t fixed[] = {1, 2, 3, 7, 13, 16, 251, 4099};
    size_t g, s, f;
    uint64_t seed;

    for (g = 0; g < sizeof(geometries) / sizeof(geometries[0]); g++) {
        const cellota_flash_area *geometry = &geometries[g];
        for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            test_image image;
            test_rig rig;
            splitter whole = {SPLIT_WHOLE, 0, 0};
            test_image_make(&image, sizes[s], 1000 + s);
            /* The area starts one page in and has a page to spare. */
            rig_create(&rig, geometry, 4 * geometry->erase_size, 128 * 1024);
            CHECK_EQ_INT(install(&rig, &image, &whole), CELLOTA_OK);
            check_installed(&rig, &image);
            rig_destroy(&rig);
            for (f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
                splitter split = {SPLIT_FIXED, fixed[f], 0};
                rig_create(&rig, geometry, 4 * geometry->erase_size, 128 * 1024);
                CHECK_EQ_INT(install(&rig, &image, &split), CELLOTA_OK);
                check_installed(&rig, &image);
                rig_destroy(&rig);
            }
            for (seed = 1; seed <= 3; seed++) {
                splitter split = {SPLIT_RANDOM, seed == 1 ? 40 : 5000, seed};
                rig_create(&rig, geometry, 4 * geometry->erase_size, 128 * 1024);
                CHECK_EQ_INT(install(&rig, &image, &split), CELLOTA_OK);
                check_installed(&rig, &image);
                rig_destroy(&rig);
            }
            test_image_free(&image);
        }
    }
}

static void test_image_fills_area_exactly(void)
{
    const cellota_flash_area *geometry = &geometries[0];
    test_image image;
    test_rig rig;
    splitter split = {SPLIT_RANDOM, 3000, 9};

    test_image_make(&image, 8 * 4096, 77);
    rig_create(&rig, geometry, 4096, 8 * 4096);
    CHECK_EQ_INT(install(&rig, &image, &split), CELLOTA_OK);
    check_installed(&rig, &image); /* and the page after the area still holds the old data */
    rig_destroy(&rig);
    test_image_free(&image);
}

/* --- errors ---------------------------------------------------------------------------------- */

static void test_begin_errors(void)
{
    const cellota_flash_area *geometry = &geometries[0];
    cellota_pipeline pipeline;
    cellota_flash_area bad;
    test_image image;
    test_rig rig;

    test_image_make(&image, 8 * 4096 + 1, 5);
    rig_create(&rig, geometry, 4096, 8 * 4096);
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info),
                 CELLOTA_IMAGE_TOO_LARGE);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, 16), CELLOTA_IMAGE_TOO_LARGE);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_IMAGE_TOO_LARGE);
    /* The same image needs no area to be hashed. */
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, NULL, NULL, &image.info), CELLOTA_OK);

    image.info.encrypted_size += 16;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info),
                 CELLOTA_IMAGE_FW_INFO_SIZES);
    image.info.encrypted_size = image.info.plain_size;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, NULL, NULL, &image.info),
                 CELLOTA_IMAGE_FW_INFO_SIZES);
    image.info.plain_size = 100;
    image.info.encrypted_size = 112;
    bad = rig.area;
    bad.erase_size = 8;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &bad, &image.info),
                 CELLOTA_INVALID_ARGUMENT);
    bad = rig.area;
    bad.write_size = 3;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &bad, &image.info),
                 CELLOTA_INVALID_ARGUMENT);
    bad.write_size = 32;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &bad, &image.info),
                 CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(rig.flash.operations, 1); /* only the rig's own fill: begin touches no flash */
    rig_destroy(&rig);
    test_image_free(&image);
}

static void test_length_errors(void)
{
    const cellota_flash_area *geometry = &geometries[0];
    cellota_pipeline pipeline;
    test_image image;
    uint8_t extra[17] = {0};
    test_rig rig;

    test_image_make(&image, 5000, 6);
    rig_create(&rig, geometry, 4096, 16 * 4096);

    /* One byte too many, whether in the last chunk or after it. */
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, image.cipher_size - 16),
                 CELLOTA_OK);
    memcpy(extra, image.cipher + image.cipher_size - 16, 16);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, extra, 17), CELLOTA_IMAGE_TOO_LONG);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, extra, 16), CELLOTA_IMAGE_TOO_LONG); /* sticky */
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_IMAGE_TOO_LONG);

    /* Truncated: not final; the rest makes it whole. */
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_IMAGE_TRUNCATED);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, image.cipher_size - 1), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_IMAGE_TRUNCATED);
    CHECK_EQ_INT(cellota_pipeline_offset(&pipeline), image.cipher_size - 1);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher + image.cipher_size - 1, 1),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK); /* the answer is kept */
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, extra, 1), CELLOTA_IMAGE_TOO_LONG);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, extra, 0), CELLOTA_IMAGE_TOO_LONG);
    check_installed(&rig, &image);
    rig_destroy(&rig);
    test_image_free(&image);
}

/* Installs `image` whole into a fresh rig and returns finish's answer. */
static int install_fresh(const test_image *image)
{
    test_rig rig;
    splitter split = {SPLIT_RANDOM, 700, 3};
    int result;
    rig_create(&rig, &geometries[0], 4096, 32 * 4096);
    result = install(&rig, image, &split);
    CHECK_EQ_INT(rig.flash.violations, 0);
    rig_destroy(&rig);
    return result;
}

/* Re-encrypts `image` from a plain buffer of `padded` bytes ending in custom padding. */
static void reencrypt_with_tail(test_image *image, const uint8_t tail[16])
{
    uint32_t padded = image->cipher_size;
    uint8_t *buffer = malloc(padded);
    memcpy(buffer, image->plain, padded - 16);
    memcpy(buffer + padded - 16, tail, 16);
    test_image_encrypt(image, buffer, padded);
    free(buffer);
}

static void test_content_errors(void)
{
    test_image image;
    uint8_t tail[16];
    int index;

    test_image_make(&image, 10000, 8); /* 10000 % 16 == 0: the last block is all padding */
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_OK);

    image.cipher[5000] ^= 0x01;
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH);
    image.cipher[5000] ^= 0x01;

    image.info.plain_sha256[31] ^= 0x80;
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_PLAIN_HASH_MISMATCH);
    image.info.plain_sha256[31] ^= 0x80;

    /* The ciphertext's hash matches (it was made for these bytes) but the padding is wrong. */
    memset(tail, 16, 16);
    tail[3] = 15; /* not all padding bytes equal */
    reencrypt_with_tail(&image, tail);
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_BAD_PADDING);
    memset(tail, 0, 16); /* a padding byte of 0 */
    reencrypt_with_tail(&image, tail);
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_BAD_PADDING);
    memset(tail, 17, 16); /* larger than a block */
    reencrypt_with_tail(&image, tail);
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_BAD_PADDING);
    /* Valid padding of 4, but fw_info says the last block is all padding (16). */
    memset(tail, 4, 16);
    for (index = 0; index < 12; index++)
        tail[index] = (uint8_t)index;
    reencrypt_with_tail(&image, tail);
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_SIZE_MISMATCH);
    test_image_free(&image);

    /* The wrong key decrypts to garbage: its padding (or else its hash) gives it away. */
    test_image_make(&image, 4000, 9);
    image.info.key[0] ^= 1;
    index = install_fresh(&image);
    CHECK(index == CELLOTA_IMAGE_BAD_PADDING || index == CELLOTA_IMAGE_SIZE_MISMATCH ||
          index == CELLOTA_IMAGE_PLAIN_HASH_MISMATCH);
    image.info.key[0] ^= 1;
    image.info.iv[0] ^= 1; /* a wrong IV only damages the first block: the hash catches it */
    CHECK_EQ_INT(install_fresh(&image), CELLOTA_IMAGE_PLAIN_HASH_MISMATCH);
    test_image_free(&image);
}

static void test_flash_errors(void)
{
    cellota_pipeline pipeline;
    test_image image;
    test_rig rig;
    uint64_t after;

    test_image_make(&image, 3 * 4096, 10);
    /* The first, an erase, and a write a page later. */
    for (after = 1; after <= 300; after += 299) {
        rig_create(&rig, &geometries[0], 4096, 8 * 4096);
        CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info),
                     CELLOTA_OK);
        flash_sim_schedule_cut(&rig.flash, after);
        /* The simulator reports a cut erase as a failed write, too. */
        CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, image.cipher_size),
                     CELLOTA_FLASH_WRITE_FAILED);
        CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, 1), CELLOTA_FLASH_WRITE_FAILED);
        CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_FLASH_WRITE_FAILED); /* sticky */
        CHECK_EQ_INT(rig.flash.violations, 0);
        rig_destroy(&rig);
    }
    test_image_free(&image);
}

static void test_hash_only(void)
{
    cellota_pipeline pipeline;
    test_image image;
    splitter split = {SPLIT_RANDOM, 100, 4};

    test_image_make(&image, 3000, 11);
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, NULL, NULL, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(feed_range(&pipeline, &image, 0, image.cipher_size, &split), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    image.cipher[2999] ^= 4;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, NULL, NULL, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(feed_range(&pipeline, &image, 0, image.cipher_size, &split), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_IMAGE_ENCRYPTED_HASH_MISMATCH);
    test_image_free(&image);
}

/* --- checkpoints: save, reset, restore ------------------------------------------------------- */

/*
 * Installs `image` while power is cut `resets` times at random flash operations (torn writes and
 * erases included). The device saves the pipeline state after every successful feed (or, when
 * `stale`, only now and then) and, after each reset, restores it into a pipeline made from
 * garbage memory and downloads again from cellota_pipeline_offset(). The result must be the
 * flash an uninterrupted install leaves, with no flash rule broken.
 */
static void install_with_resets(const cellota_flash_area *geometry, const test_image *image,
                                uint64_t seed, int resets, bool stale, uint64_t first_cut)
{
    test_rig rig;
    cellota_pipeline pipeline;
    uint8_t saved[CELLOTA_PIPELINE_STATE_SIZE];
    uint64_t random = seed;
    uint32_t saved_at = 0, erase_size = geometry->erase_size;
    int run, result;

    rig_create(&rig, geometry, 4 * erase_size, 128 * 1024);
    flash_sim_seed(&rig.flash, seed);
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image->info), CELLOTA_OK);
    cellota_pipeline_save(&pipeline, saved);
    for (run = 0;; run++) {
        splitter split = {SPLIT_RANDOM, 1 + (size_t)(seed % 3000), seed + (uint64_t)run};
        uint32_t offset = cellota_pipeline_offset(&pipeline);
        uint64_t operations = (image->cipher_size - offset) / 16 + 4;

        flash_sim_schedule_cut(&rig.flash, run >= resets ? 0
                                           : run == 0 && first_cut
                                               ? first_cut
                                               : 1 + test_random(&random) % operations);
        result = CELLOTA_OK;
        while (offset < image->cipher_size && result == CELLOTA_OK) {
            size_t chunk = next_chunk(&split, image->cipher_size - offset);
            result = cellota_pipeline_feed(&pipeline, image->cipher + offset, chunk);
            offset += (uint32_t)chunk;
            if (result == CELLOTA_OK && (!stale || test_random(&random) % 16 == 0)) {
                cellota_pipeline_save(&pipeline, saved);
                saved_at = offset;
            }
        }
        if (result == CELLOTA_OK)
            result = cellota_pipeline_finish(&pipeline);
        if (result == CELLOTA_OK)
            break;
        CHECK_EQ_INT(result, CELLOTA_FLASH_WRITE_FAILED); /* the cut, nothing else */
        if (result != CELLOTA_FLASH_WRITE_FAILED || run > resets)
            break;
        /* Reset: power comes back, RAM is garbage, only the flash and the saved state remain. */
        flash_sim_power_on(&rig.flash);
        memset(&pipeline, 0xA5, sizeof(pipeline));
        CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image->info, saved),
                     CELLOTA_OK);
        offset = cellota_pipeline_offset(&pipeline);
        CHECK_EQ_INT(offset % erase_size, 0);
        CHECK(offset <= saved_at && saved_at - offset < erase_size + 16);
    }
    CHECK_EQ_INT(result, CELLOTA_OK);
    check_installed(&rig, image);
    rig_destroy(&rig);
}

/* A power cut at every single flash operation of an install, each followed by a resume. */
static void test_resume_after_cut_at_every_operation(void)
{
    test_image image;
    uint64_t cut, operations;

    test_image_make(&image, 3 * 4096 + 100, 21); /* 4 pages, 782 writes */
    operations = 4 + (image.cipher_size + 15) / 16;
    for (cut = 1; cut <= operations; cut++)
        install_with_resets(&geometries[0], &image, cut, 1, false, cut);
    test_image_free(&image);

    test_image_make(&image, 40 * 16 + 5, 22); /* a page per block: a checkpoint per block */
    operations = 2 * (image.cipher_size / 16);
    for (cut = 1; cut <= operations; cut++)
        install_with_resets(&geometries[3], &image, cut, 1, false, cut);
    test_image_free(&image);
}

static void test_resume_after_many_resets(void)
{
    test_image image;
    uint64_t seed;
    size_t g;

    test_image_make(&image, 67512, 23);
    for (g = 0; g < sizeof(geometries) / sizeof(geometries[0]); g++) {
        for (seed = 1; seed <= 6; seed++) {
            install_with_resets(&geometries[g], &image, seed * 7919 + g, 5, false, 0);
            install_with_resets(&geometries[g], &image, seed * 104729 + g, 5, true, 0);
        }
    }
    test_image_free(&image);
}

static void test_checkpoint_position(void)
{
    test_rig rig;
    cellota_pipeline pipeline, resumed;
    test_image image;
    uint8_t state[CELLOTA_PIPELINE_STATE_SIZE];

    test_image_make(&image, 5 * 4096, 24);
    rig_create(&rig, &geometries[0], 4096, 16 * 4096);
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, 2 * 4096 + 100), CELLOTA_OK);
    cellota_pipeline_save(&pipeline, state);
    CHECK_EQ_MEM(state, "CLP1", 4);
    CHECK_EQ_INT(state[4] | state[5] << 8 | state[6] << 16 | state[7] << 24, 2 * 4096);
    CHECK_EQ_MEM(state + 8, image.info.encrypted_sha256, 32);
    CHECK_EQ_MEM(state + 40, image.cipher + 2 * 4096 - 16, 16); /* the chaining block */
    /* Exactly at a page boundary the checkpoint is that boundary. */
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher + 2 * 4096 + 100, 4096 - 100),
                 CELLOTA_OK);
    cellota_pipeline_save(&pipeline, state);
    CHECK_EQ_INT(cellota_pipeline_restore(&resumed, &rig.port, &rig.area, &image.info, state),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_offset(&resumed), 3 * 4096);
    /* The last page boundary of an image that fills its pages exactly is never a checkpoint: the
     * last block is still held back there. */
    CHECK_EQ_INT(
        cellota_pipeline_feed(&resumed, image.cipher + 3 * 4096, image.cipher_size - 3 * 4096),
        CELLOTA_OK);
    cellota_pipeline_save(&resumed, state);
    CHECK_EQ_INT(state[4] | state[5] << 8 | state[6] << 16 | state[7] << 24, 5 * 4096);
    CHECK_EQ_INT(cellota_pipeline_finish(&resumed), CELLOTA_OK);
    cellota_pipeline_save(&resumed, state); /* still works after finishing */
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, state),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_offset(&pipeline), 5 * 4096);
    rig_destroy(&rig);
    test_image_free(&image);
}

/* Re-seals a state whose fields a test edited: the checksum is the first 16 bytes of the
 * SHA-256 of everything before it. */
static void reseal(uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    uint8_t checksum[32];
    mbedtls_sha256_ret(state, CELLOTA_PIPELINE_STATE_SIZE - 16, checksum, 0);
    memcpy(state + CELLOTA_PIPELINE_STATE_SIZE - 16, checksum, 16);
}

static void test_restore_refuses_bad_states(void)
{
    test_rig rig;
    cellota_pipeline pipeline;
    test_image image, other;
    cellota_flash_area bigger_pages;
    uint8_t state[CELLOTA_PIPELINE_STATE_SIZE], edited[CELLOTA_PIPELINE_STATE_SIZE];
    size_t index;

    test_image_make(&image, 6 * 4096, 25);
    test_image_make(&other, 6 * 4096, 26);
    rig_create(&rig, &geometries[0], 4096, 16 * 4096);
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, 3 * 4096 + 50), CELLOTA_OK);
    cellota_pipeline_save(&pipeline, state);
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, state),
                 CELLOTA_OK);

    /* Any single damaged byte. */
    for (index = 0; index < CELLOTA_PIPELINE_STATE_SIZE; index++) {
        memcpy(edited, state, sizeof(edited));
        edited[index] ^= 0x10;
        CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, edited),
                     CELLOTA_IMAGE_STATE_INVALID);
    }
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, 16), CELLOTA_IMAGE_STATE_INVALID);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_IMAGE_STATE_INVALID);
    memset(edited, 0, sizeof(edited));
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, edited),
                 CELLOTA_IMAGE_STATE_INVALID);
    memset(edited, 0xFF, sizeof(edited)); /* an erased flash record */
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, edited),
                 CELLOTA_IMAGE_STATE_INVALID);

    /* Another image's state. */
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &other.info, state),
                 CELLOTA_IMAGE_STATE_INVALID);
    /* An area whose pages do not end where the checkpoint is (3 * 4096 is not a multiple of 8192).
     */
    bigger_pages = rig.area;
    bigger_pages.erase_size = 8192;
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &bigger_pages, &image.info, state),
                 CELLOTA_IMAGE_STATE_INVALID);
    /* Sealed but inconsistent: the offset disagrees with what the hashes have consumed. */
    memcpy(edited, state, sizeof(edited));
    edited[5] = 0x40; /* offset 4 * 4096 */
    reseal(edited);
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, edited),
                 CELLOTA_IMAGE_STATE_INVALID);
    /* Sealed but past the end of the image. */
    memcpy(edited, state, sizeof(edited));
    edited[4] = edited[5] = edited[6] = 0, edited[7] = 0x10;
    reseal(edited);
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, edited),
                 CELLOTA_IMAGE_STATE_INVALID);
    /* Sealed, with data in the reserved bytes. */
    memcpy(edited, state, sizeof(edited));
    edited[CELLOTA_PIPELINE_STATE_SIZE - 17] = 1;
    reseal(edited);
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &image.info, edited),
                 CELLOTA_IMAGE_STATE_INVALID);
    /* A restore still checks what begin checks. */
    other.info.encrypted_size += 16;
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, &rig.port, &rig.area, &other.info, state),
                 CELLOTA_IMAGE_FW_INFO_SIZES);
    CHECK_EQ_INT(rig.flash.violations, 0);
    rig_destroy(&rig);
    test_image_free(&image);
    test_image_free(&other);
}

static void test_hash_only_resume(void)
{
    cellota_pipeline pipeline;
    test_image image;
    uint8_t state[CELLOTA_PIPELINE_STATE_SIZE];
    uint32_t offset;

    test_image_make(&image, 5000, 27);
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, NULL, NULL, &image.info), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, image.cipher, 3000), CELLOTA_OK);
    cellota_pipeline_save(&pipeline, state);
    memset(&pipeline, 0xA5, sizeof(pipeline));
    CHECK_EQ_INT(cellota_pipeline_restore(&pipeline, NULL, NULL, &image.info, state), CELLOTA_OK);
    offset = cellota_pipeline_offset(&pipeline);
    CHECK_EQ_INT(offset, 2 * CELLOTA_PIPELINE_HASH_ONLY_INTERVAL);
    CHECK_EQ_INT(
        cellota_pipeline_feed(&pipeline, image.cipher + offset, image.cipher_size - offset),
        CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    test_image_free(&image);
}

/* --- interop with the openssl command ----------------------------------------------------------
 */

static void hex_of(char *out, const uint8_t *bytes, size_t size)
{
    size_t index;
    for (index = 0; index < size; index++)
        sprintf(out + 2 * index, "%02x", bytes[index]);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    uint8_t *data = malloc(1 << 20);
    *size = file ? fread(data, 1, 1 << 20, file) : 0;
    if (file)
        fclose(file);
    return data;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL);
    if (file) {
        CHECK_EQ_INT(fwrite(data, 1, size, file), size);
        fclose(file);
    }
}

/* An image encrypted by `openssl enc -aes-128-cbc` installs with a fw_info made by hand (sizes,
 * key, IV and both hashes), and openssl decrypts what this test's encoder makes. */
static void test_openssl_interop(void)
{
    static const uint32_t sizes[] = {0, 1000, 4096, 67512};
    char directory[] = "/tmp/cellota-openssl-XXXXXX", command[1024], key[33], iv[33];
    char plain_path[256], cipher_path[256], back_path[256];
    size_t s;

    CHECK(mkdtemp(directory) != NULL);
    snprintf(plain_path, sizeof(plain_path), "%s/plain.bin", directory);
    snprintf(cipher_path, sizeof(cipher_path), "%s/image.ebin", directory);
    snprintf(back_path, sizeof(back_path), "%s/back.bin", directory);
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        test_image image;
        cellota_fw_info info;
        size_t size;
        uint8_t *data;

        test_image_make(&image, sizes[s], 300 + s);
        hex_of(key, image.info.key, 16);
        hex_of(iv, image.info.iv, 16);
        write_file(plain_path, image.plain, image.plain_size);
        snprintf(command, sizeof(command), "openssl enc -aes-128-cbc -K %s -iv %s -in %s -out %s",
                 key, iv, plain_path, cipher_path);
        CHECK_EQ_INT(system(command), 0);
        data = read_file(cipher_path, &size);
        CHECK_EQ_INT(size, image.cipher_size);

        /* The hand-made fw_info: nothing from the test encoder but the plain image. */
        memset(&info, 0, sizeof(info));
        info.plain_size = image.plain_size;
        info.encrypted_size = (uint32_t)size;
        memcpy(info.key, image.info.key, 16);
        memcpy(info.iv, image.info.iv, 16);
        mbedtls_sha256_ret(data, size, info.encrypted_sha256, 0);
        mbedtls_sha256_ret(image.plain, image.plain_size, info.plain_sha256, 0);
        {
            test_rig rig;
            cellota_pipeline pipeline;
            rig_create(&rig, &geometries[0], 4096, 32 * 4096);
            CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &rig.port, &rig.area, &info),
                         CELLOTA_OK);
            CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, data, size), CELLOTA_OK);
            CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
            check_installed(&rig, &image);
            rig_destroy(&rig);
        }
        free(data);

        write_file(cipher_path, image.cipher, image.cipher_size);
        snprintf(command, sizeof(command),
                 "openssl enc -d -aes-128-cbc -K %s -iv %s -in %s -out %s", key, iv, cipher_path,
                 back_path);
        CHECK_EQ_INT(system(command), 0);
        data = read_file(back_path, &size);
        CHECK_EQ_INT(size, image.plain_size);
        CHECK_EQ_MEM(data, image.plain, image.plain_size);
        free(data);
        test_image_free(&image);
    }
    remove(plain_path);
    remove(cipher_path);
    remove(back_path);
    remove(directory);
}

int main(void)
{
    RUN(test_every_split_same_result);
    RUN(test_image_fills_area_exactly);
    RUN(test_begin_errors);
    RUN(test_length_errors);
    RUN(test_content_errors);
    RUN(test_flash_errors);
    RUN(test_hash_only);
    RUN(test_resume_after_cut_at_every_operation);
    RUN(test_resume_after_many_resets);
    RUN(test_checkpoint_position);
    RUN(test_restore_refuses_bad_states);
    RUN(test_hash_only_resume);
    RUN(test_openssl_interop);
    return test_summary();
}
