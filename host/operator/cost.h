/*
 * Seed 002's cost model of one update campaign: the update request sent over MQTT to every
 * device, the encrypted image stored for a few days, one GET per device, and the egress of one
 * image per device. Prices have a built-in dated default (the seed's, 2020-01-26) that a JSON
 * file can override.
 *
 * Sizes are binary, as the seed counts them: KB = 1024 bytes, MB = 2^20, GB = 2^30
 * (512 KB x 50,000 = 24.4141 GB).
 *
 * Messaging is metered two ways and a price table may use either or both:
 *   by count  (AWS IoT Core): a message is billed as ceil(size / message_increment_bytes)
 *             messages at per_million_messages;
 *   by volume (GCP IoT Core): a message is billed as max(size, message_minimum_bytes) bytes at
 *             per_mb_messages.
 * Every device receives the request (one PUBLISH) and answers with one PUBACK, both billed;
 * with operator_publish_billed the operator's own PUBLISH of the request and the broker's
 * PUBACK to it are billed too (AWS; on GCP the configuration message is sent through the API).
 *
 * Billing rule, worked out from the seed's figures: each line item is rounded to the nearest
 * cent (half a cent up), except that an amount above zero but under a cent is billed as $0.01
 * ("cost won't be zero"); subtotals and the total are sums of the billed items.
 */
#ifndef CELLOTA_HOST_OPERATOR_COST_H
#define CELLOTA_HOST_OPERATOR_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPERATOR_PUBACK_BYTES 4         /* MQTT 3.1.1 PUBACK: fixed header and packet identifier */
#define OPERATOR_SEED_REQUEST_BYTES 379 /* seed 002's update request (Listing-1) */

typedef struct operator_prices {
    char provider[8];               /* "aws" or "gcp" */
    char name[64];                  /* the services priced, for people */
    char date[32];                  /* when the prices were taken */
    char source[128];               /* where they come from: "seed 002" or the prices file */
    double per_million_messages;    /* by count; 0 when not metered by count */
    double message_increment_bytes; /* a message is billed as ceil(size / this) messages */
    double per_mb_messages;         /* by volume; 0 when not metered by volume */
    double message_minimum_bytes;   /* a message counts at least this many bytes */
    bool operator_publish_billed;
    double storage_per_gb_month;
    double month_days; /* a storage month, in days */
    double get_price;  /* get_price per get_per_requests GET requests */
    double get_per_requests;
    double egress_per_gb;
} operator_prices;

typedef struct operator_cost_input {
    uint64_t devices;
    uint64_t image_bytes;   /* the hosted (encrypted) image */
    uint64_t request_bytes; /* the update request as published */
    double days;            /* how long the image stays stored */
} operator_cost_input;

typedef struct operator_cost_item {
    double exact;          /* dollars, unrounded */
    uint64_t billed_cents; /* by the billing rule; whole cents so sums are exact */
} operator_cost_item;

typedef struct operator_cost {
    /* What was metered. */
    uint64_t billed_messages; /* by-count messages */
    double billed_message_mb; /* by-volume megabytes of messages */
    double transfer_gb;       /* devices x image */
    double stored_gb;
    /* Dollars. */
    operator_cost_item messages, storage, gets, egress;
    operator_cost_item requests, data, total; /* billed: sums of billed items */
} operator_cost;

/* The seed's prices for "aws" or "gcp". false for another provider. */
bool operator_prices_default(const char *provider, operator_prices *prices);

/*
 * Overrides prices from a JSON text of the form
 *   {"date": "...", "aws": {"egress_per_gb": 0.085, ...}, "gcp": {...}}
 * (any subset; the keys are the operator_prices field names). `prices` holds the provider's
 * current prices and only its own section applies. false, with a sentence in `error`, for
 * malformed JSON, an unknown key, a negative number or a wrong type.
 */
bool operator_prices_override(operator_prices *prices, const char *json, const char *source,
                              char *error, size_t error_size);

/* Applies the billing rule to one amount of dollars: the cents billed. */
uint64_t operator_bill_cents(double dollars);

/* Computes the campaign's cost. */
void operator_cost_compute(const operator_prices *prices, const operator_cost_input *input,
                           operator_cost *cost);

#endif
