/* `cellota cost`: seed 002's price of one update campaign (operator/cost.h has the model). */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"
#include "operator/cost.h"

#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 1000000000ull
#define MAX_IMAGE_SIZE (1ull << 40)

static const host_option options[] = {
    {"devices", "N", "devices in the campaign", true},
    {"image-size", "SIZE", "the hosted image (512KiB, 67520, 1MB...)", true},
    {"provider", "aws|gcp", "whose prices and metering", true},
    {"days", "D", "how long the image stays stored (default 7)", false},
    {"prices", "FILE", "JSON file overriding any of the built-in prices", false},
    {"request-size", "BYTES", "the update request's size (default 379, seed 002's)", false},
    {"json", NULL, "print JSON for scripts instead of text", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "cost",
    .synopsis = "--devices N --image-size SIZE --provider aws|gcp [--days D] [--prices FILE]\n"
                "                    [--request-size BYTES] [--json]",
    .summary = "Prices an update campaign with seed 002's model: the MQTT update request to every\n"
               "device (AWS: per message in 5 KB units, PUBACKs and the operator's publish\n"
               "included; GCP: per MB, 1 KB minimum a message), the image stored for D days,\n"
               "one GET per device, and one image of egress per device.",
    .options = options,
    .details =
        "Sizes are binary as in the seed: KB = KiB = 1024 bytes, MB = MiB, GB = GiB.\n"
        "Built-in prices: seed 002's, of 2020-01-26 (AWS IoT Core $1.0/million messages,\n"
        "S3 $0.023/GB-month, $0.0004/1000 GETs, $0.09/GB egress; GCP IoT Core $0.0045/MB,\n"
        "Cloud Storage $0.026/GB-month, $0.004/10000 GETs, $0.165/GB egress; 30-day month).\n"
        "--prices FILE overrides any of them: {\"date\": \"...\", \"aws\": {\"egress_per_gb\": "
        "0.085}}\n"
        "with the keys per_million_messages, message_increment_bytes, per_mb_messages,\n"
        "message_minimum_bytes, operator_publish_billed, storage_per_gb_month, month_days,\n"
        "get_price, get_per_requests, egress_per_gb, name.\n"
        "\n"
        "Each line item is rounded to the nearest cent; an amount above zero but under a cent\n"
        "is billed as $0.01. Totals are sums of the billed items; exact amounts are shown too.\n",
};

static void add_item(cJSON *parent, const char *name, const operator_cost_item *item)
{
    cJSON *object = cJSON_AddObjectToObject(parent, name);
    cJSON_AddNumberToObject(object, "exact", item->exact);
    cJSON_AddNumberToObject(object, "billed", (double)item->billed_cents / 100);
}

static int print_json(const operator_prices *prices, const operator_cost_input *input,
                      const operator_cost *cost)
{
    cJSON *root = cJSON_CreateObject(), *object;
    char *text;

    if (!root)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    cJSON_AddStringToObject(root, "provider", prices->provider);
    object = cJSON_AddObjectToObject(root, "prices");
    cJSON_AddStringToObject(object, "name", prices->name);
    cJSON_AddStringToObject(object, "date", prices->date);
    cJSON_AddStringToObject(object, "source", prices->source);
    cJSON_AddNumberToObject(object, "per_million_messages", prices->per_million_messages);
    cJSON_AddNumberToObject(object, "message_increment_bytes", prices->message_increment_bytes);
    cJSON_AddNumberToObject(object, "per_mb_messages", prices->per_mb_messages);
    cJSON_AddNumberToObject(object, "message_minimum_bytes", prices->message_minimum_bytes);
    cJSON_AddBoolToObject(object, "operator_publish_billed", prices->operator_publish_billed);
    cJSON_AddNumberToObject(object, "storage_per_gb_month", prices->storage_per_gb_month);
    cJSON_AddNumberToObject(object, "month_days", prices->month_days);
    cJSON_AddNumberToObject(object, "get_price", prices->get_price);
    cJSON_AddNumberToObject(object, "get_per_requests", prices->get_per_requests);
    cJSON_AddNumberToObject(object, "egress_per_gb", prices->egress_per_gb);
    object = cJSON_AddObjectToObject(root, "input");
    cJSON_AddNumberToObject(object, "devices", (double)input->devices);
    cJSON_AddNumberToObject(object, "image_bytes", (double)input->image_bytes);
    cJSON_AddNumberToObject(object, "request_bytes", (double)input->request_bytes);
    cJSON_AddNumberToObject(object, "days", input->days);
    object = cJSON_AddObjectToObject(root, "metered");
    cJSON_AddNumberToObject(object, "billed_messages", (double)cost->billed_messages);
    cJSON_AddNumberToObject(object, "billed_message_mb", cost->billed_message_mb);
    cJSON_AddNumberToObject(object, "stored_gb", cost->stored_gb);
    cJSON_AddNumberToObject(object, "transfer_gb", cost->transfer_gb);
    object = cJSON_AddObjectToObject(root, "items");
    add_item(object, "messages", &cost->messages);
    add_item(object, "storage", &cost->storage);
    add_item(object, "gets", &cost->gets);
    add_item(object, "egress", &cost->egress);
    add_item(root, "requests", &cost->requests);
    add_item(root, "data", &cost->data);
    add_item(root, "total", &cost->total);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    printf("%s\n", text);
    free(text);
    return HOST_EXIT_OK;
}

/* "$1234.56" from whole cents. */
static void format_dollars(uint64_t cents, char *text, size_t capacity)
{
    snprintf(text, capacity, "$%llu.%02llu", (unsigned long long)(cents / 100),
             (unsigned long long)(cents % 100));
}

static void print_line(const char *label, const char *detail, const operator_cost_item *item)
{
    char billed[32];
    format_dollars(item->billed_cents, billed, sizeof(billed));
    printf("  %-14s %-46s %12.8f %10s\n", label, detail, item->exact, billed);
}

static void print_total(const char *label, const operator_cost_item *item)
{
    char billed[32];
    format_dollars(item->billed_cents, billed, sizeof(billed));
    printf("  %-61s %12.8f %10s\n", label, item->exact, billed);
}

static void print_text(const operator_prices *prices, const operator_cost_input *input,
                       const operator_cost *cost)
{
    char size_text[32], detail[128];

    host_format_size(input->image_bytes, size_text, sizeof(size_text));
    printf("%s\nprices of %s, from %s\n", prices->name, prices->date, prices->source);
    printf("campaign: %llu devices, image %llu bytes (%s), request %llu bytes, stored %g days\n\n",
           (unsigned long long)input->devices, (unsigned long long)input->image_bytes, size_text,
           (unsigned long long)input->request_bytes, input->days);
    printf("  %-14s %-46s %12s %10s\n", "item", "metered", "exact $", "billed");
    printf("requests\n");
    if (prices->per_million_messages > 0 && prices->per_mb_messages > 0)
        snprintf(detail, sizeof(detail), "%llu msgs x $%g/M + %.5f MB x $%g/MB",
                 (unsigned long long)cost->billed_messages, prices->per_million_messages,
                 cost->billed_message_mb, prices->per_mb_messages);
    else if (prices->per_mb_messages > 0)
        snprintf(detail, sizeof(detail), "%.5f MB x $%g/MB", cost->billed_message_mb,
                 prices->per_mb_messages);
    else
        snprintf(detail, sizeof(detail), "%llu messages x $%g/million",
                 (unsigned long long)cost->billed_messages, prices->per_million_messages);
    print_line("messages", detail, &cost->messages);
    print_total("total requests", &cost->requests);
    printf("data\n");
    snprintf(detail, sizeof(detail), "%s x %g days x $%g/GB-month", size_text, input->days,
             prices->storage_per_gb_month);
    print_line("storage", detail, &cost->storage);
    snprintf(detail, sizeof(detail), "%llu GETs x $%g/%g", (unsigned long long)input->devices,
             prices->get_price, prices->get_per_requests);
    print_line("GET requests", detail, &cost->gets);
    snprintf(detail, sizeof(detail), "%.4f GB x $%g/GB", cost->transfer_gb, prices->egress_per_gb);
    print_line("transfer", detail, &cost->egress);
    print_total("total data", &cost->data);
    printf("\n");
    print_total("total", &cost->total);
}

int command_cost(int argc, char **argv)
{
    host_arguments arguments;
    operator_prices prices;
    operator_cost_input input = {0, 0, OPERATOR_SEED_REQUEST_BYTES, 7};
    operator_cost cost;
    const char *text, *provider;
    char error[256];
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    provider = host_option_value(&arguments, "provider");
    if (!operator_prices_default(provider, &prices))
        return host_usage_error(&command, "--provider '%s': expected aws or gcp", provider);
    text = host_option_value(&arguments, "devices");
    if (!host_parse_unsigned(text, MAX_DEVICES, &input.devices))
        return host_usage_error(&command, "--devices '%s' is not a count up to %llu", text,
                                MAX_DEVICES);
    text = host_option_value(&arguments, "image-size");
    if (!host_parse_size(text, MAX_IMAGE_SIZE, &input.image_bytes))
        return host_usage_error(&command, "--image-size '%s' is not a size (512KiB, 67520)", text);
    text = host_option_value(&arguments, "request-size");
    if (text && !host_parse_size(text, 1ull << 30, &input.request_bytes))
        return host_usage_error(&command, "--request-size '%s' is not a size", text);
    text = host_option_value(&arguments, "days");
    if (text && (!host_parse_decimal(text, &input.days) || input.days > 36500))
        return host_usage_error(&command, "--days '%s' is not a number of days", text);

    text = host_option_value(&arguments, "prices");
    if (text) {
        uint8_t *json;
        size_t length;
        bool ok;
        status = host_read_file(text, 1024 * 1024, &json, &length);
        if (status != HOST_EXIT_OK)
            return status;
        ok = operator_prices_override(&prices, (const char *)json, text, error, sizeof(error));
        free(json);
        if (!ok)
            return host_error(HOST_EXIT_FAILED, "%s: %s", text, error);
    }

    operator_cost_compute(&prices, &input, &cost);
    if (host_option_given(&arguments, "json"))
        return print_json(&prices, &input, &cost);
    print_text(&prices, &input, &cost);
    return HOST_EXIT_OK;
}
