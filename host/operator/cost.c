/* Seed 002's campaign cost model; see cost.h for the model and the billing rule. */
#include "operator/cost.h"

#include <cJSON.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MEGABYTE (1024.0 * 1024.0)
#define GIGABYTE (1024.0 * 1024.0 * 1024.0)

bool operator_prices_default(const char *provider, operator_prices *prices)
{
    /* Seed 002, "Firmware Update Cost", prices of its first publication date. */
    static const operator_prices aws = {
        .provider = "aws",
        .name = "AWS IoT Core + S3 Standard (US East, Ohio)",
        .date = "2020-01-26",
        .source = "seed 002",
        .per_million_messages = 1.0,
        .message_increment_bytes = 5 * 1024,
        .operator_publish_billed = true,
        .storage_per_gb_month = 0.023,
        .month_days = 30,
        .get_price = 0.0004,
        .get_per_requests = 1000,
        .egress_per_gb = 0.09,
    };
    static const operator_prices gcp = {
        .provider = "gcp",
        .name = "GCP IoT Core + Cloud Storage Standard (US multi-region)",
        .date = "2020-01-26",
        .source = "seed 002",
        .per_mb_messages = 0.0045,
        .message_minimum_bytes = 1024,
        .storage_per_gb_month = 0.026,
        .month_days = 30,
        .get_price = 0.004,
        .get_per_requests = 10000,
        .egress_per_gb = 0.165, /* the seed's average over destination regions */
    };
    if (strcmp(provider, "aws") == 0)
        *prices = aws;
    else if (strcmp(provider, "gcp") == 0)
        *prices = gcp;
    else
        return false;
    return true;
}

typedef struct price_field {
    const char *key;
    size_t offset;
} price_field;

static const price_field price_fields[] = {
#define FIELD(name)                                                                                \
    {                                                                                              \
#name, offsetof(operator_prices, name)                                                     \
    }
    FIELD(per_million_messages),
    FIELD(message_increment_bytes),
    FIELD(per_mb_messages),
    FIELD(message_minimum_bytes),
    FIELD(storage_per_gb_month),
    FIELD(month_days),
    FIELD(get_price),
    FIELD(get_per_requests),
    FIELD(egress_per_gb),
#undef FIELD
};

static bool apply_section(operator_prices *prices, const cJSON *section, const char *provider,
                          char *error, size_t error_size)
{
    const cJSON *item;
    size_t index;

    if (!cJSON_IsObject(section)) {
        snprintf(error, error_size, "\"%s\" is not an object", provider);
        return false;
    }
    cJSON_ArrayForEach(item, section)
    {
        if (strcmp(item->string, "operator_publish_billed") == 0) {
            if (!cJSON_IsBool(item)) {
                snprintf(error, error_size, "%s.%s is not true or false", provider, item->string);
                return false;
            }
            prices->operator_publish_billed = cJSON_IsTrue(item);
            continue;
        }
        if (strcmp(item->string, "name") == 0) {
            if (!cJSON_IsString(item)) {
                snprintf(error, error_size, "%s.name is not a string", provider);
                return false;
            }
            snprintf(prices->name, sizeof(prices->name), "%s", item->valuestring);
            continue;
        }
        for (index = 0; index < sizeof(price_fields) / sizeof(price_fields[0]); index++) {
            if (strcmp(item->string, price_fields[index].key) == 0)
                break;
        }
        if (index == sizeof(price_fields) / sizeof(price_fields[0])) {
            snprintf(error, error_size, "unknown price \"%s.%s\"", provider, item->string);
            return false;
        }
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0) {
            snprintf(error, error_size, "%s.%s is not a number >= 0", provider, item->string);
            return false;
        }
        *(double *)((char *)prices + price_fields[index].offset) = item->valuedouble;
    }
    if (prices->month_days <= 0 || prices->get_per_requests <= 0) {
        snprintf(error, error_size, "%s.month_days and %s.get_per_requests must be above 0",
                 provider, provider);
        return false;
    }
    return true;
}

bool operator_prices_override(operator_prices *prices, const char *json, const char *source,
                              char *error, size_t error_size)
{
    cJSON *root = cJSON_Parse(json);
    const cJSON *item;
    operator_prices scratch, updated = *prices;
    bool ok = true;

    if (!root || !cJSON_IsObject(root)) {
        snprintf(error, error_size, "not a JSON object");
        cJSON_Delete(root);
        return false;
    }
    cJSON_ArrayForEach(item, root)
    {
        if (strcmp(item->string, "comment") == 0)
            continue;
        if (strcmp(item->string, "date") == 0) {
            if (!cJSON_IsString(item)) {
                snprintf(error, error_size, "\"date\" is not a string");
                ok = false;
                break;
            }
            snprintf(updated.date, sizeof(updated.date), "%s", item->valuestring);
        } else if (strcmp(item->string, "aws") == 0 || strcmp(item->string, "gcp") == 0) {
            /* The other provider's section is checked too, so a typo never passes silently. */
            bool own = strcmp(item->string, prices->provider) == 0;
            operator_prices_default(item->string, &scratch);
            if (!apply_section(own ? &updated : &scratch, item, item->string, error, error_size)) {
                ok = false;
                break;
            }
        } else {
            snprintf(error, error_size, "unknown key \"%s\" (expected date, aws, gcp, comment)",
                     item->string);
            ok = false;
            break;
        }
    }
    cJSON_Delete(root);
    if (!ok)
        return false;
    snprintf(updated.source, sizeof(updated.source), "%s", source);
    *prices = updated;
    return true;
}

uint64_t operator_bill_cents(double dollars)
{
    double cents;
    if (!(dollars > 0))
        return 0;
    /* The tiny bias keeps an exact half cent (0.005 is 0.00499999... in binary) rounding up. */
    cents = floor(dollars * 100 + 0.5 + 1e-9);
    return cents < 1 ? 1 : (uint64_t)cents;
}

static uint64_t billed_count(const operator_prices *prices, uint64_t bytes)
{
    uint64_t increment = (uint64_t)prices->message_increment_bytes;
    if (increment == 0 || bytes == 0)
        return 1;
    return (bytes + increment - 1) / increment;
}

static double billed_volume(const operator_prices *prices, uint64_t bytes)
{
    return (double)bytes > prices->message_minimum_bytes ? (double)bytes
                                                         : prices->message_minimum_bytes;
}

static void set_item(operator_cost_item *item, double exact)
{
    item->exact = exact;
    item->billed_cents = operator_bill_cents(exact);
}

void operator_cost_compute(const operator_prices *prices, const operator_cost_input *input,
                           operator_cost *cost)
{
    /* Who publishes and acknowledges: every device, and the operator when billed. */
    double parties = (double)input->devices + (prices->operator_publish_billed ? 1 : 0);

    memset(cost, 0, sizeof(*cost));
    if (prices->per_million_messages > 0)
        cost->billed_messages = (uint64_t)parties * (billed_count(prices, input->request_bytes) +
                                                     billed_count(prices, OPERATOR_PUBACK_BYTES));
    if (prices->per_mb_messages > 0)
        cost->billed_message_mb = parties *
                                  (billed_volume(prices, input->request_bytes) +
                                   billed_volume(prices, OPERATOR_PUBACK_BYTES)) /
                                  MEGABYTE;
    set_item(&cost->messages, (double)cost->billed_messages * prices->per_million_messages / 1e6 +
                                  cost->billed_message_mb * prices->per_mb_messages);

    cost->stored_gb = (double)input->image_bytes / GIGABYTE;
    set_item(&cost->storage,
             cost->stored_gb * input->days / prices->month_days * prices->storage_per_gb_month);
    set_item(&cost->gets, (double)input->devices * prices->get_price / prices->get_per_requests);
    cost->transfer_gb = (double)input->devices * (double)input->image_bytes / GIGABYTE;
    set_item(&cost->egress, cost->transfer_gb * prices->egress_per_gb);

    cost->requests = cost->messages;
    cost->data.exact = cost->storage.exact + cost->gets.exact + cost->egress.exact;
    cost->data.billed_cents =
        cost->storage.billed_cents + cost->gets.billed_cents + cost->egress.billed_cents;
    cost->total.exact = cost->requests.exact + cost->data.exact;
    cost->total.billed_cents = cost->requests.billed_cents + cost->data.billed_cents;
}
