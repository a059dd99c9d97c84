/*
 * Flash for many simulated devices in one process, with identical pages stored once.
 *
 * 50,000 devices with 4 MiB of flash each would need 200 GiB; but devices that run the same
 * image hold the same bytes in nearly every page. Here each device's flash is a table of page
 * pointers: an erased page is no memory at all, a page the device is writing is its own
 * (private), and a page it has finished with is looked up by content in a pool shared by every
 * device: when an identical page is there it is shared (reference counted) and the private copy
 * goes. Writing to a shared page copies it first (copy on write). A device keeps at most
 * SHARED_FLASH_PRIVATE_PAGES private pages: writing a further page interns the oldest.
 *
 * The rules are those of flash_sim (ports/sim/flash_sim.h) and of real NOR flash: writes
 * aligned to the write unit, each unit programmed once between erases (the page's written-unit
 * flags are part of what is shared, so a shared page keeps them), erases of whole pages. A
 * write that breaks them is refused and counted as a violation.
 *
 * The bootloader hashes the image it boots at every boot. A region whose pages are all shared
 * holds the same bytes as every other device's region made of the same pages, so its SHA-256
 * (computed with mbedTLS from the bytes, once) is remembered by the pages' identities -- serial
 * numbers a shared page gets when it enters the pool and never gives to another -- and given
 * again through the port's flash_sha256 (shared_flash_sha256). The device's own check of what it
 * downloads (the pipeline's hashes) is never skipped: this is only the bootloader reading bytes
 * that the simulation already holds once and has hashed.
 *
 * Functions with the cellota_port flash signatures take the device's flash as context. One
 * thread: the pool has no locks.
 */
#ifndef CELLOTA_HOST_FLEET_SHARED_FLASH_H
#define CELLOTA_HOST_FLEET_SHARED_FLASH_H

#include "core/flash_area.h"

#include <stddef.h>
#include <stdint.h>

#define SHARED_FLASH_PAGE_MAX 4096u /* largest erase page */
#define SHARED_FLASH_PRIVATE_PAGES 2

typedef struct shared_page shared_page;

#define SHARED_FLASH_DIGESTS 16 /* regions whose SHA-256 the pool remembers */

/* A region's SHA-256, by the serial numbers of its pages (0: erased). */
typedef struct shared_flash_digest {
    uint32_t offset, length;
    uint64_t *serials; /* one per page the region touches; NULL: an unused entry */
    uint8_t sha256[32];
} shared_flash_digest;

/* Pages by content, for every device of one geometry. */
typedef struct shared_flash_pool {
    cellota_flash_area geometry;
    shared_page **buckets;
    size_t bucket_count;
    size_t shared_pages;   /* distinct pages in the pool */
    size_t private_pages;  /* pages some device is writing */
    size_t references;     /* device pages that point at a shared page */
    uint64_t interned;     /* pages looked up in the pool */
    uint64_t copies;       /* copy-on-write copies made */
    uint64_t violations;   /* writes refused for breaking the write-once or alignment rule */
    uint64_t next_serial;  /* the serial number the next shared page gets */
    shared_flash_digest digests[SHARED_FLASH_DIGESTS];
    unsigned digest_next;       /* the entry replaced next */
    uint64_t digests_computed;  /* regions hashed from their bytes */
    uint64_t digests_reused;    /* regions whose digest was known */
} shared_flash_pool;

typedef struct shared_flash {
    shared_flash_pool *pool;
    shared_page **pages; /* one per erase page; NULL: erased */
    uint32_t private_index[SHARED_FLASH_PRIVATE_PAGES]; /* oldest first */
    unsigned private_count;
} shared_flash;

/* A pool for flashes of `geometry` (erase pages up to SHARED_FLASH_PAGE_MAX, write units up to
 * 16 bytes). 0, or -1 for a geometry it cannot hold or no memory. */
int shared_flash_pool_init(shared_flash_pool *pool, const cellota_flash_area *geometry);
/* Every flash of the pool must have been destroyed first. */
void shared_flash_pool_destroy(shared_flash_pool *pool);

/* An erased flash in `pool`. CELLOTA_OK or CELLOTA_INVALID_ARGUMENT (no memory). */
int shared_flash_create(shared_flash *flash, shared_flash_pool *pool);
void shared_flash_destroy(shared_flash *flash);

/* Interns the device's private pages now (a device that will sit idle for long). */
void shared_flash_settle(shared_flash *flash);

/* Port functions; context is the shared_flash. */
int shared_flash_read(void *context, uint32_t address, void *buffer, size_t length);
int shared_flash_write(void *context, uint32_t address, const void *data, size_t length);
int shared_flash_erase(void *context, uint32_t address, size_t length);

/* The port's flash_sha256: the SHA-256 of a region, from the pool's memory when the same pages
 * were hashed before, else from the bytes (and remembered). The device's private pages in the
 * region are interned first (written later, they are copied as always). CELLOTA_OK, or
 * CELLOTA_FLASH_OUT_OF_RANGE, or CELLOTA_CRYPTO_FAILED. */
int shared_flash_sha256(void *context, uint32_t address, size_t length, uint8_t digest[32]);

/* Bytes of page memory the pool and its devices hold (shared and private pages). */
uint64_t shared_flash_pool_bytes(const shared_flash_pool *pool);

#endif
