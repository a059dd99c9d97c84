/* cellota-fleet's shared flash: flash rules as strict as flash_sim's, identical pages stored
 * once, copy on write, and each device still reading its own bytes. */
#include "test.h"

#include "core/error.h"
#include "shared_flash.h"

#include <mbedtls/sha256.h>
#include <stdlib.h>

static const cellota_flash_area geometry = {0x1000, 8 * 4096, 4096, 16, 0xFF};

static void fill(uint8_t *page, uint8_t seed)
{
    size_t index;
    for (index = 0; index < 4096; index++)
        page[index] = (uint8_t)(seed + index * 7);
}

static void test_rules(void)
{
    shared_flash_pool pool;
    shared_flash flash;
    uint8_t data[32], back[32];
    memset(data, 0x5A, sizeof(data));
    CHECK_EQ_INT(shared_flash_pool_init(&pool, &geometry), 0);
    CHECK_EQ_INT(shared_flash_create(&flash, &pool), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_read(&flash, 0x1000, back, 32), CELLOTA_OK);
    CHECK_EQ_INT(back[0], 0xFF);
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1000, data, 32), CELLOTA_OK);
    /* programmed once between erases; aligned to the 16-byte unit; inside the flash */
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1010, data, 16), CELLOTA_FLASH_WRITE_FAILED);
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1008, data, 16), CELLOTA_FLASH_MISALIGNED);
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1020, data, 8), CELLOTA_FLASH_MISALIGNED);
    CHECK_EQ_INT(shared_flash_write(&flash, 0x0FF0, data, 16), CELLOTA_FLASH_OUT_OF_RANGE);
    CHECK_EQ_INT(shared_flash_erase(&flash, 0x1800, 4096), CELLOTA_FLASH_MISALIGNED);
    CHECK_EQ_INT(pool.violations, 4);
    /* programming clears bits only, as NOR flash does */
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1020, (const uint8_t[16]){0x0F, 0xF0}, 16),
                 CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_read(&flash, 0x1020, back, 2), CELLOTA_OK);
    CHECK_EQ_INT(back[0], 0x0F);
    CHECK_EQ_INT(back[1], 0xF0);
    CHECK_EQ_INT(shared_flash_erase(&flash, 0x1000, 4096), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1010, data, 16), CELLOTA_OK);
    /* a write across a page boundary lands in both pages */
    CHECK_EQ_INT(shared_flash_write(&flash, 0x1FF0, data, 32), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_read(&flash, 0x1FF0, back, 32), CELLOTA_OK);
    CHECK_EQ_MEM(back, data, 32);
    shared_flash_destroy(&flash);
    CHECK_EQ_INT(pool.shared_pages + pool.private_pages, 0);
    shared_flash_pool_destroy(&pool);
}

static void test_identical_pages_are_stored_once(void)
{
    enum { DEVICES = 50, PAGES = 6 };
    shared_flash_pool pool;
    shared_flash *flashes = calloc(DEVICES, sizeof(*flashes));
    uint8_t page[4096], back[4096];
    unsigned device, index;
    CHECK_EQ_INT(shared_flash_pool_init(&pool, &geometry), 0);
    for (device = 0; device < DEVICES; device++) {
        CHECK_EQ_INT(shared_flash_create(&flashes[device], &pool), CELLOTA_OK);
        for (index = 0; index < PAGES; index++) {
            fill(page, (uint8_t)index);
            /* in two halves, as a pipeline writes a page in pieces */
            CHECK_EQ_INT(shared_flash_write(&flashes[device], 0x1000 + index * 4096, page, 2048),
                         CELLOTA_OK);
            CHECK_EQ_INT(shared_flash_write(&flashes[device], 0x1000 + index * 4096 + 2048,
                                            page + 2048, 2048),
                         CELLOTA_OK);
        }
        shared_flash_settle(&flashes[device]);
    }
    /* one copy of each page for the whole fleet */
    CHECK_EQ_INT(pool.shared_pages, PAGES);
    CHECK_EQ_INT(pool.private_pages, 0);
    CHECK_EQ_INT(pool.references, DEVICES * PAGES);

    /* one device rewrites a page: it gets its own copy, the others keep theirs */
    CHECK_EQ_INT(shared_flash_erase(&flashes[3], 0x1000 + 2 * 4096, 4096), CELLOTA_OK);
    fill(page, 99);
    CHECK_EQ_INT(shared_flash_write(&flashes[3], 0x1000 + 2 * 4096, page, 4096), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_read(&flashes[3], 0x1000 + 2 * 4096, back, 4096), CELLOTA_OK);
    CHECK_EQ_MEM(back, page, 4096);
    fill(page, 2);
    CHECK_EQ_INT(shared_flash_read(&flashes[4], 0x1000 + 2 * 4096, back, 4096), CELLOTA_OK);
    CHECK_EQ_MEM(back, page, 4096);
    /* writing the rest of a shared page copies it first; the write-once flags travel with it */
    CHECK_EQ_INT(shared_flash_write(&flashes[5], 0x1000 + 7 * 4096, page, 16), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_write(&flashes[5], 0x1000, page, 16), CELLOTA_FLASH_WRITE_FAILED);
    CHECK_EQ_INT(shared_flash_erase(&flashes[6], 0x1000, 4096), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_write(&flashes[6], 0x1000, page, 16), CELLOTA_OK);
    CHECK(pool.copies == 0); /* erased, not copied: nothing to copy */
    /* a half-written page is shared too; writing its other half copies it first */
    fill(page, 42);
    CHECK_EQ_INT(shared_flash_write(&flashes[8], 0x1000 + 6 * 4096, page, 1024), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_write(&flashes[9], 0x1000 + 6 * 4096, page, 1024), CELLOTA_OK);
    shared_flash_settle(&flashes[8]);
    shared_flash_settle(&flashes[9]);
    CHECK_EQ_INT(pool.shared_pages, PAGES + 1);
    CHECK_EQ_INT(shared_flash_write(&flashes[9], 0x1000 + 6 * 4096, page, 16),
                 CELLOTA_FLASH_WRITE_FAILED);
    CHECK_EQ_INT(shared_flash_write(&flashes[9], 0x1000 + 6 * 4096 + 1024, page + 1024, 3072),
                 CELLOTA_OK);
    CHECK_EQ_INT(pool.copies, 1);
    CHECK_EQ_INT(shared_flash_read(&flashes[8], 0x1000 + 6 * 4096 + 1024, back, 16), CELLOTA_OK);
    CHECK_EQ_INT(back[0], 0xFF);
    CHECK_EQ_INT(shared_flash_read(&flashes[9], 0x1000 + 6 * 4096, back, 4096), CELLOTA_OK);
    CHECK_EQ_MEM(back, page, 4096);
    shared_flash_settle(&flashes[9]);
    shared_flash_settle(&flashes[6]);
    shared_flash_settle(&flashes[3]);
    CHECK_EQ_INT(pool.shared_pages, PAGES + 4);
    CHECK_EQ_INT(shared_flash_read(&flashes[7], 0x1000, back, 4096), CELLOTA_OK);
    fill(page, 0);
    CHECK_EQ_MEM(back, page, 4096);

    for (device = 0; device < DEVICES; device++)
        shared_flash_destroy(&flashes[device]);
    CHECK_EQ_INT(pool.shared_pages + pool.private_pages + pool.references, 0);
    shared_flash_pool_destroy(&pool);
    free(flashes);
}

/* The bootloader's hash through the port: the digest of the bytes as read, computed once for
 * identical pages and known for the next device; a page written since (copied on write, a new
 * identity) or a different region is hashed again. */
static void check_digest(shared_flash *flash, uint32_t address, size_t length)
{
    uint8_t *bytes = malloc(length), expected[32], digest[32];
    CHECK(bytes != NULL);
    CHECK_EQ_INT(shared_flash_read(flash, address, bytes, length), CELLOTA_OK);
    CHECK_EQ_INT(mbedtls_sha256_ret(bytes, length, expected, 0), 0);
    CHECK_EQ_INT(shared_flash_sha256(flash, address, length, digest), CELLOTA_OK);
    CHECK_EQ_MEM(digest, expected, 32);
    free(bytes);
}

static void test_region_digests(void)
{
    shared_flash_pool pool;
    shared_flash a, b;
    uint8_t page[4096], digest[32];
    unsigned index;
    CHECK_EQ_INT(shared_flash_pool_init(&pool, &geometry), 0);
    CHECK_EQ_INT(shared_flash_create(&a, &pool), CELLOTA_OK);
    CHECK_EQ_INT(shared_flash_create(&b, &pool), CELLOTA_OK);
    for (index = 0; index < 3; index++) {
        fill(page, (uint8_t)index);
        CHECK_EQ_INT(shared_flash_write(&a, 0x1000 + index * 4096, page, 4096), CELLOTA_OK);
        CHECK_EQ_INT(shared_flash_write(&b, 0x1000 + index * 4096, page, 4096), CELLOTA_OK);
    }
    /* a region ending inside a page, and an erased page after it */
    check_digest(&a, 0x1000, 3 * 4096 - 100);
    CHECK_EQ_INT(pool.digests_computed, 1);
    check_digest(&b, 0x1000, 3 * 4096 - 100); /* b's private pages interned: the same pages */
    CHECK_EQ_INT(pool.digests_computed, 1);
    CHECK_EQ_INT(pool.digests_reused, 1);
    check_digest(&b, 0x1000, 4 * 4096);
    CHECK_EQ_INT(pool.digests_computed, 2);
    /* b writes into the erased unit at the end of its last page: new bytes, a new digest */
    CHECK_EQ_INT(shared_flash_write(&b, 0x1000 + 3 * 4096 - 16, (const uint8_t[16]){0}, 16),
                 CELLOTA_FLASH_WRITE_FAILED); /* programmed already by fill */
    CHECK_EQ_INT(shared_flash_erase(&b, 0x1000 + 2 * 4096, 4096), CELLOTA_OK);
    fill(page, 9);
    CHECK_EQ_INT(shared_flash_write(&b, 0x1000 + 2 * 4096, page, 4096), CELLOTA_OK);
    check_digest(&b, 0x1000, 3 * 4096 - 100);
    CHECK_EQ_INT(pool.digests_computed, 3);
    check_digest(&a, 0x1000, 3 * 4096 - 100); /* a's pages did not change: still known */
    CHECK_EQ_INT(pool.digests_computed, 3);
    CHECK_EQ_INT(shared_flash_sha256(&a, 0x0F00, 4096, digest), CELLOTA_FLASH_OUT_OF_RANGE);
    CHECK_EQ_INT(pool.violations, 1);
    shared_flash_destroy(&a);
    shared_flash_destroy(&b);
    shared_flash_pool_destroy(&pool);
}

static void test_bad_geometry(void)
{
    shared_flash_pool pool;
    cellota_flash_area large = {0, 8 * 8192, 8192, 4, 0xFF}, odd = {0, 4096, 4096, 3, 0xFF};
    CHECK_EQ_INT(shared_flash_pool_init(&pool, &large), -1);
    CHECK_EQ_INT(shared_flash_pool_init(&pool, &odd), -1);
}

int main(void)
{
    RUN(test_rules);
    RUN(test_identical_pages_are_stored_once);
    RUN(test_region_digests);
    RUN(test_bad_geometry);
    return test_summary();
}
