/* Seed 002's cost model: its own figures, the billing rule, and price overrides. */
#include "test.h"

#include "operator/cost.h"

static operator_cost seed_campaign(const char *provider)
{
    operator_prices prices;
    operator_cost cost;
    operator_cost_input input = {50000, 512 * 1024, OPERATOR_SEED_REQUEST_BYTES, 7};
    CHECK(operator_prices_default(provider, &prices));
    operator_cost_compute(&prices, &input, &cost);
    return cost;
}

static void test_seed_aws(void)
{
    operator_cost cost = seed_campaign("aws");
    /* "Total update request cost = 100,002 messages x ($1 / 1000,000 messages) = $0.10" */
    CHECK_EQ_INT(cost.billed_messages, 100002);
    CHECK_EQ_INT(cost.requests.billed_cents, 10);
    /* Storage $0.00000262 billed as $0.01, GETs $0.02, transfer 24.4141 GB x $0.09 = $2.20 */
    CHECK(cost.storage.exact > 0.00000261 && cost.storage.exact < 0.00000263);
    CHECK_EQ_INT(cost.storage.billed_cents, 1);
    CHECK_EQ_INT(cost.gets.billed_cents, 2);
    CHECK(cost.transfer_gb > 24.41406 && cost.transfer_gb < 24.41407);
    CHECK_EQ_INT(cost.egress.billed_cents, 220);
    CHECK_EQ_INT(cost.data.billed_cents, 223);
    CHECK_EQ_INT(cost.total.billed_cents, 233);
}

static void test_seed_gcp(void)
{
    operator_cost cost = seed_campaign("gcp");
    /* "50,000 devices x (1 KB PUBLISH + 1 KB PUBACK) = 97.65625 MB" x $0.0045 = $0.44 */
    CHECK(cost.billed_message_mb > 97.656249 && cost.billed_message_mb < 97.656251);
    CHECK_EQ_INT(cost.billed_messages, 0);
    CHECK_EQ_INT(cost.requests.billed_cents, 44);
    CHECK(cost.storage.exact > 0.000002961 && cost.storage.exact < 0.000002963);
    CHECK_EQ_INT(cost.storage.billed_cents, 1);
    CHECK_EQ_INT(cost.gets.billed_cents, 2);
    CHECK_EQ_INT(cost.egress.billed_cents, 403);
    CHECK_EQ_INT(cost.data.billed_cents, 406);
}

static void test_billing_rule(void)
{
    CHECK_EQ_INT(operator_bill_cents(0), 0);
    CHECK_EQ_INT(operator_bill_cents(-1), 0);
    CHECK_EQ_INT(operator_bill_cents(0.0000001), 1);
    CHECK_EQ_INT(operator_bill_cents(0.004), 1);
    CHECK_EQ_INT(operator_bill_cents(0.005), 1);
    CHECK_EQ_INT(operator_bill_cents(0.014), 1);
    CHECK_EQ_INT(operator_bill_cents(0.015), 2);
    CHECK_EQ_INT(operator_bill_cents(2.197265625), 220);
    CHECK_EQ_INT(operator_bill_cents(1234.5649), 123456);
}

static void test_message_metering(void)
{
    operator_prices prices;
    operator_cost cost;
    operator_cost_input input = {10, 1024, 5 * 1024 + 1, 7};
    /* AWS: a 5 KB + 1 byte request is two metered messages, its PUBACK one: 3 per party. */
    CHECK(operator_prices_default("aws", &prices));
    operator_cost_compute(&prices, &input, &cost);
    CHECK_EQ_INT(cost.billed_messages, 11 * 3);
    /* GCP: a request above the 1 KB minimum counts its real size. */
    CHECK(operator_prices_default("gcp", &prices));
    input.request_bytes = 2048;
    operator_cost_compute(&prices, &input, &cost);
    CHECK(cost.billed_message_mb * 1024 * 1024 == 10.0 * (2048 + 1024));
    /* No devices, nothing stored: nothing but the operator's own publish (not billed on GCP). */
    input.devices = 0;
    input.image_bytes = 0;
    operator_cost_compute(&prices, &input, &cost);
    CHECK_EQ_INT(cost.total.billed_cents, 0);
}

static void test_price_overrides(void)
{
    operator_prices prices;
    operator_cost cost;
    operator_cost_input input = {50000, 512 * 1024, 379, 7};
    char error[128];

    CHECK(operator_prices_default("aws", &prices));
    CHECK(operator_prices_override(&prices,
                                   "{\"date\": \"2024-05-01\", \"aws\": {\"egress_per_gb\": 0.05},"
                                   " \"gcp\": {\"egress_per_gb\": 1}}",
                                   "test", error, sizeof(error)));
    CHECK_EQ_STR(prices.date, "2024-05-01");
    CHECK_EQ_STR(prices.source, "test");
    CHECK(prices.egress_per_gb == 0.05);
    CHECK(prices.storage_per_gb_month == 0.023); /* untouched */
    operator_cost_compute(&prices, &input, &cost);
    CHECK_EQ_INT(cost.egress.billed_cents, 122); /* 24.4140625 x 0.05 = 1.2207 */

    CHECK(!operator_prices_override(&prices, "{\"aws\": {\"egres_per_gb\": 1}}", "t", error,
                                    sizeof(error)));
    CHECK(strstr(error, "egres_per_gb") != NULL);
    CHECK(!operator_prices_override(&prices, "{\"gcp\": {\"egress_per_gb\": -1}}", "t", error,
                                    sizeof(error)));
    CHECK(!operator_prices_override(&prices, "{\"aws\": {\"egress_per_gb\": \"1\"}}", "t", error,
                                    sizeof(error)));
    CHECK(!operator_prices_override(&prices, "{\"aws\": {\"month_days\": 0}}", "t", error,
                                    sizeof(error)));
    CHECK(!operator_prices_override(&prices, "[1]", "t", error, sizeof(error)));
    CHECK(!operator_prices_override(&prices, "{\"aws\": ", "t", error, sizeof(error)));
    CHECK(!operator_prices_override(&prices, "{\"azure\": {}}", "t", error, sizeof(error)));
    CHECK(prices.egress_per_gb == 0.05); /* a refused file changes nothing */
}

int main(void)
{
    RUN(test_seed_aws);
    RUN(test_seed_gcp);
    RUN(test_billing_rule);
    RUN(test_message_metering);
    RUN(test_price_overrides);
    return test_summary();
}
