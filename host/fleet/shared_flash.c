/* Flash pages shared by content between simulated devices; see shared_flash.h. */
#include "shared_flash.h"

#include "core/error.h"

#include <mbedtls/sha256.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct shared_page {
    shared_page *next; /* hash chain (shared pages only) */
    uint64_t hash;
    uint64_t serial; /* shared: its number in the pool, never reused; private: 0 */
    uint32_t references; /* shared: devices pointing here; private: 1 */
    bool shared;
    /* the page's bytes, then one bit per write unit: programmed since the last erase */
    uint8_t data[];
};

#define WRITTEN(pool, page) ((page)->data + (pool)->geometry.erase_size)

static size_t flags_size(const shared_flash_pool *pool)
{
    return (pool->geometry.erase_size / pool->geometry.write_size + 7) / 8;
}

static size_t page_bytes(const shared_flash_pool *pool)
{
    return sizeof(shared_page) + pool->geometry.erase_size + flags_size(pool);
}

/* 64-bit multiply-xor over words: the pool compares contents anyway, this only spreads them. */
static uint64_t page_hash(const shared_flash_pool *pool, const shared_page *page)
{
    uint64_t hash = 0x9E3779B97F4A7C15ull;
    size_t index;
    for (index = 0; index + 8 <= pool->geometry.erase_size; index += 8) {
        uint64_t word;
        memcpy(&word, page->data + index, 8);
        hash = (hash ^ word) * 0x100000001B3ull;
        hash ^= hash >> 29;
    }
    for (index = 0; index < flags_size(pool); index++)
        hash = (hash ^ WRITTEN(pool, page)[index]) * 0x100000001B3ull;
    return hash ^ (hash >> 32);
}

static bool same_page(const shared_flash_pool *pool, const shared_page *a, const shared_page *b)
{
    return a->hash == b->hash && memcmp(WRITTEN(pool, a), WRITTEN(pool, b), flags_size(pool)) == 0 &&
           memcmp(a->data, b->data, pool->geometry.erase_size) == 0;
}

int shared_flash_pool_init(shared_flash_pool *pool, const cellota_flash_area *geometry)
{
    uint32_t write_size = geometry->write_size;
    memset(pool, 0, sizeof(*pool));
    if (!geometry->erase_size || geometry->erase_size > SHARED_FLASH_PAGE_MAX || !write_size ||
        write_size > 16 || (write_size & (write_size - 1)) != 0 ||
        geometry->erase_size % write_size || geometry->size % geometry->erase_size)
        return -1;
    pool->geometry = *geometry;
    pool->bucket_count = 1u << 12;
    pool->buckets = calloc(pool->bucket_count, sizeof(*pool->buckets));
    return pool->buckets ? 0 : -1;
}

void shared_flash_pool_destroy(shared_flash_pool *pool)
{
    size_t index;
    for (index = 0; pool->buckets && index < pool->bucket_count; index++) {
        shared_page *page = pool->buckets[index];
        while (page) {
            shared_page *next = page->next;
            free(page);
            page = next;
        }
    }
    free(pool->buckets);
    for (index = 0; index < SHARED_FLASH_DIGESTS; index++)
        free(pool->digests[index].serials);
    memset(pool, 0, sizeof(*pool));
}

uint64_t shared_flash_pool_bytes(const shared_flash_pool *pool)
{
    return (uint64_t)(pool->shared_pages + pool->private_pages) * page_bytes(pool);
}

/* Doubles the table when chains grow past two pages on average. */
static void grow(shared_flash_pool *pool)
{
    size_t count = pool->bucket_count * 2, index;
    shared_page **buckets = calloc(count, sizeof(*buckets));
    if (!buckets)
        return; /* longer chains, still correct */
    for (index = 0; index < pool->bucket_count; index++) {
        shared_page *page = pool->buckets[index];
        while (page) {
            shared_page *next = page->next;
            size_t bucket = (size_t)(page->hash & (count - 1));
            page->next = buckets[bucket];
            buckets[bucket] = page;
            page = next;
        }
    }
    free(pool->buckets);
    pool->buckets = buckets;
    pool->bucket_count = count;
}

/* Drops one device's reference to a page. */
static void release(shared_flash_pool *pool, shared_page *page)
{
    if (!page)
        return;
    if (!page->shared) {
        pool->private_pages--;
        free(page);
        return;
    }
    pool->references--;
    if (--page->references)
        return;
    {
        shared_page **link = &pool->buckets[page->hash & (pool->bucket_count - 1)];
        while (*link != page)
            link = &(*link)->next;
        *link = page->next;
    }
    pool->shared_pages--;
    free(page);
}

/* A private page becomes shared: the pool's copy if it has one, else this page itself. */
static shared_page *intern(shared_flash_pool *pool, shared_page *page)
{
    size_t bucket;
    shared_page *found;
    pool->interned++;
    page->hash = page_hash(pool, page);
    bucket = (size_t)(page->hash & (pool->bucket_count - 1));
    for (found = pool->buckets[bucket]; found; found = found->next) {
        if (same_page(pool, found, page)) {
            found->references++;
            pool->references++;
            pool->private_pages--;
            free(page);
            return found;
        }
    }
    page->shared = true;
    page->serial = ++pool->next_serial;
    page->references = 1;
    page->next = pool->buckets[bucket];
    pool->buckets[bucket] = page;
    pool->private_pages--;
    pool->shared_pages++;
    pool->references++;
    if (pool->shared_pages > 2 * pool->bucket_count)
        grow(pool);
    return page;
}

int shared_flash_create(shared_flash *flash, shared_flash_pool *pool)
{
    memset(flash, 0, sizeof(*flash));
    flash->pool = pool;
    flash->pages = calloc(pool->geometry.size / pool->geometry.erase_size, sizeof(*flash->pages));
    return flash->pages ? CELLOTA_OK : CELLOTA_INVALID_ARGUMENT;
}

void shared_flash_destroy(shared_flash *flash)
{
    size_t index, count;
    if (!flash->pages)
        return;
    count = flash->pool->geometry.size / flash->pool->geometry.erase_size;
    for (index = 0; index < count; index++)
        release(flash->pool, flash->pages[index]);
    free(flash->pages);
    memset(flash, 0, sizeof(*flash));
}

static void intern_oldest(shared_flash *flash)
{
    uint32_t index = flash->private_index[0];
    flash->pages[index] = intern(flash->pool, flash->pages[index]);
    memmove(flash->private_index, flash->private_index + 1,
            (flash->private_count - 1) * sizeof(flash->private_index[0]));
    flash->private_count--;
}

void shared_flash_settle(shared_flash *flash)
{
    while (flash->private_count)
        intern_oldest(flash);
}

static void forget_private(shared_flash *flash, uint32_t index)
{
    unsigned at;
    for (at = 0; at < flash->private_count; at++) {
        if (flash->private_index[at] == index) {
            memmove(flash->private_index + at, flash->private_index + at + 1,
                    (flash->private_count - at - 1) * sizeof(flash->private_index[0]));
            flash->private_count--;
            return;
        }
    }
}

/* The page at `index` as the device's own, to write into (NULL: no memory). */
static shared_page *writable(shared_flash *flash, uint32_t index)
{
    shared_flash_pool *pool = flash->pool;
    shared_page *page = flash->pages[index], *copy;
    if (page && !page->shared)
        return page;
    if (flash->private_count == SHARED_FLASH_PRIVATE_PAGES)
        intern_oldest(flash);
    copy = malloc(page_bytes(pool));
    if (!copy)
        return NULL;
    if (page) {
        memcpy(copy->data, page->data, pool->geometry.erase_size + flags_size(pool));
        pool->copies++;
        release(pool, page);
    } else {
        memset(WRITTEN(pool, copy), 0, flags_size(pool));
        memset(copy->data, pool->geometry.erased_value, pool->geometry.erase_size);
    }
    copy->next = NULL;
    copy->serial = 0;
    copy->shared = false;
    copy->references = 1;
    pool->private_pages++;
    flash->pages[index] = copy;
    flash->private_index[flash->private_count++] = index;
    return copy;
}

static bool in_range(const shared_flash_pool *pool, uint32_t address, size_t length)
{
    uint32_t base = pool->geometry.address;
    return address >= base && length <= pool->geometry.size &&
           address - base <= pool->geometry.size - length;
}

int shared_flash_read(void *context, uint32_t address, void *buffer, size_t length)
{
    shared_flash *flash = context;
    const cellota_flash_area *geometry = &flash->pool->geometry;
    uint8_t *out = buffer;
    size_t offset;
    if (!in_range(flash->pool, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    offset = address - geometry->address;
    while (length) {
        size_t index = offset / geometry->erase_size, within = offset % geometry->erase_size;
        size_t take = geometry->erase_size - within;
        const shared_page *page = flash->pages[index];
        if (take > length)
            take = length;
        if (page)
            memcpy(out, page->data + within, take);
        else
            memset(out, geometry->erased_value, take);
        out += take;
        offset += take;
        length -= take;
    }
    return CELLOTA_OK;
}

static bool unit_written(const shared_flash_pool *pool, const shared_page *page, size_t unit)
{
    return (WRITTEN(pool, page)[unit / 8] >> (unit % 8)) & 1u;
}

int shared_flash_write(void *context, uint32_t address, const void *data, size_t length)
{
    shared_flash *flash = context;
    shared_flash_pool *pool = flash->pool;
    const cellota_flash_area *geometry = &pool->geometry;
    const uint8_t *bytes = data;
    uint32_t write_size = geometry->write_size;
    size_t offset, check;
    bool clears = geometry->erased_value == 0xFF;

    if (!in_range(pool, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    offset = address - geometry->address;
    if (offset % write_size || length % write_size) {
        pool->violations++;
        return CELLOTA_FLASH_MISALIGNED;
    }
    /* Every unit must be unwritten before anything is programmed, as flash_sim checks. */
    for (check = offset; check < offset + length; check += write_size) {
        const shared_page *page = flash->pages[check / geometry->erase_size];
        if (page && unit_written(pool, page, (check % geometry->erase_size) / write_size)) {
            pool->violations++;
            return CELLOTA_FLASH_WRITE_FAILED;
        }
    }
    while (length) {
        uint32_t index = (uint32_t)(offset / geometry->erase_size);
        size_t within = offset % geometry->erase_size, take = geometry->erase_size - within, i;
        shared_page *page = writable(flash, index);
        if (!page)
            return CELLOTA_FLASH_WRITE_FAILED;
        if (take > length)
            take = length;
        /* programming only clears bits (0xFF-erased flash) or only sets them; eight bytes at
         * a time (write units are multiples of them or smaller than a word) */
        for (i = 0; i + 8 <= take; i += 8) {
            uint64_t now, with;
            memcpy(&now, page->data + within + i, 8);
            memcpy(&with, bytes + i, 8);
            now = clears ? now & with : now | with;
            memcpy(page->data + within + i, &now, 8);
        }
        for (; i < take; i++)
            page->data[within + i] =
                clears ? page->data[within + i] & bytes[i] : page->data[within + i] | bytes[i];
        for (i = within / write_size; i < (within + take) / write_size; i++)
            WRITTEN(pool, page)[i / 8] |= (uint8_t)(1u << (i % 8));
        bytes += take;
        offset += take;
        length -= take;
    }
    return CELLOTA_OK;
}

int shared_flash_erase(void *context, uint32_t address, size_t length)
{
    shared_flash *flash = context;
    shared_flash_pool *pool = flash->pool;
    uint32_t erase_size = pool->geometry.erase_size;
    size_t offset, index;
    if (!in_range(pool, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    offset = address - pool->geometry.address;
    if (offset % erase_size || length % erase_size || length == 0) {
        pool->violations++;
        return CELLOTA_FLASH_MISALIGNED;
    }
    for (index = offset / erase_size; index < (offset + length) / erase_size; index++) {
        if (flash->pages[index] && !flash->pages[index]->shared)
            forget_private(flash, (uint32_t)index);
        release(pool, flash->pages[index]);
        flash->pages[index] = NULL;
    }
    return CELLOTA_OK;
}

/* --- the bootloader's hash of page-shared regions ------------------------------------------- */

static bool digest_matches(const shared_flash *flash, const shared_flash_digest *entry,
                           size_t offset, size_t length)
{
    size_t first = offset / flash->pool->geometry.erase_size, page;
    if (!entry->serials || entry->offset != offset || entry->length != length)
        return false;
    for (page = 0; first + page <= (offset + length - 1) / flash->pool->geometry.erase_size;
         page++) {
        const shared_page *held = flash->pages[first + page];
        if (entry->serials[page] != (held ? held->serial : 0))
            return false;
    }
    return true;
}

/* Hashes the region's bytes from the pages themselves, and remembers the digest. */
static int digest_compute(shared_flash *flash, size_t offset, size_t length, uint8_t digest[32])
{
    shared_flash_pool *pool = flash->pool;
    uint32_t erase_size = pool->geometry.erase_size;
    size_t first = offset / erase_size, count = (offset + length - 1) / erase_size - first + 1;
    size_t page, position = offset, left = length;
    uint8_t erased[SHARED_FLASH_PAGE_MAX];
    shared_flash_digest *entry = &pool->digests[pool->digest_next];
    uint64_t *serials = malloc(count * sizeof(*serials));
    mbedtls_sha256_context hash;
    int failed;

    memset(erased, pool->geometry.erased_value, erase_size);
    mbedtls_sha256_init(&hash);
    failed = mbedtls_sha256_starts_ret(&hash, 0);
    for (page = 0; page < count && !failed; page++) {
        const shared_page *held = flash->pages[first + page];
        size_t within = position % erase_size, take = erase_size - within;
        if (take > left)
            take = left;
        failed = mbedtls_sha256_update_ret(&hash, (held ? held->data : erased) + within, take);
        if (serials)
            serials[page] = held ? held->serial : 0;
        position += take;
        left -= take;
    }
    failed = failed || mbedtls_sha256_finish_ret(&hash, digest);
    mbedtls_sha256_free(&hash);
    pool->digests_computed++;
    if (failed) {
        free(serials);
        return CELLOTA_CRYPTO_FAILED;
    }
    if (serials) { /* without memory it is only not remembered */
        free(entry->serials);
        entry->serials = serials;
        entry->offset = (uint32_t)offset;
        entry->length = (uint32_t)length;
        memcpy(entry->sha256, digest, 32);
        pool->digest_next = (pool->digest_next + 1) % SHARED_FLASH_DIGESTS;
    }
    return CELLOTA_OK;
}

int shared_flash_sha256(void *context, uint32_t address, size_t length, uint8_t digest[32])
{
    shared_flash *flash = context;
    shared_flash_pool *pool = flash->pool;
    size_t offset, index, last;
    unsigned entry;
    if (length == 0 || !in_range(pool, address, length))
        return CELLOTA_FLASH_OUT_OF_RANGE;
    offset = address - pool->geometry.address;
    last = (offset + length - 1) / pool->geometry.erase_size;
    /* A private page has no identity yet: intern it (a later write copies it, as for any
     * shared page). */
    for (index = offset / pool->geometry.erase_size; index <= last; index++) {
        if (flash->pages[index] && !flash->pages[index]->shared) {
            forget_private(flash, (uint32_t)index);
            flash->pages[index] = intern(pool, flash->pages[index]);
        }
    }
    for (entry = 0; entry < SHARED_FLASH_DIGESTS; entry++) {
        if (digest_matches(flash, &pool->digests[entry], offset, length)) {
            memcpy(digest, pool->digests[entry].sha256, 32);
            pool->digests_reused++;
            return CELLOTA_OK;
        }
    }
    return digest_compute(flash, offset, length, digest);
}
