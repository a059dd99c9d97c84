/*
 * Image bytes served: added up in memory by the HTTP threads as answers complete, and written
 * to the database by a thread of its own every SERVED_FLUSH_MS -- the total (`bytes_served`,
 * /metrics) and each campaign's, in one transaction for everything that accumulated.
 *
 * Why not one write per answer: on SQLite every commit is an fdatasync under the storage's one
 * lock, so writing at the end of each image answer made the HTTP threads queue behind the disk
 * (bench/images.sh measured 763 answers/s and 182 us of CPU each, against about 10,000/s and
 * 38 us without the write). The price: the counters shown lag by up to SERVED_FLUSH_MS, and a
 * `kill -9` loses at most that long's worth of bytes -- a statistic for the cost estimate, not a
 * campaign's state, which is still written in the transaction that changes it.
 */
#ifndef CELLOTA_SERVER_SERVED_H
#define CELLOTA_SERVER_SERVED_H

#include "storage.h"

#include <stdint.h>

#define SERVED_FLUSH_MS 100

typedef struct served_counter served_counter;

/* Starts the counter and its writer thread over `store`. NULL when out of memory or threads. */
served_counter *served_open(storage *store);

/* Adds `bytes` to the total and, when `campaign` > 0, to that campaign's share in `encoding`
 * (the variant the image is: full, compressed, delta). Any thread; no I/O. */
void served_add(served_counter *counter, int64_t campaign, variant_encoding encoding,
                uint64_t bytes);

/* Writes what accumulated now (also what the thread does every SERVED_FLUSH_MS). 0, or -1 when
 * the database refused (the amounts are kept for the next try). */
int served_flush(served_counter *counter);

/* Stops the thread, writes what is left and frees the counter. Call after the HTTP daemon has
 * stopped, so that no answer completes later. NULL is allowed. */
void served_close(served_counter *counter);

#endif
