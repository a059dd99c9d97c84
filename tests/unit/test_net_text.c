/*
 * net/text.h's helpers: the 32-bit scaled share (progress in percent without a 64-bit
 * division) against 64-bit arithmetic, and decimal parsing at its limits.
 */
#include "net/text.h"

#include "test.h"

static uint32_t reference(uint32_t part, uint32_t whole, uint32_t scale)
{
    return whole ? (uint32_t)((uint64_t)part * scale / whole) : 0;
}

static void test_scaled_share(void)
{
    static const uint32_t edges[] = {
        0,    1,     2,        3,        9,          10,          99,          100,        101,
        4095, 67520, 42949672, 42949673, 2147483647, 2147483648u, 4294967294u, 4294967295u};
    static const uint32_t scales[] = {1, 10, 100};
    size_t a, b, s;
    uint64_t random = 0x9E3779B97F4A7C15u;
    int index;

    for (a = 0; a < sizeof(edges) / sizeof(edges[0]); a++)
        for (b = 0; b < sizeof(edges) / sizeof(edges[0]); b++)
            for (s = 0; s < 3; s++) {
                uint32_t part = edges[a], whole = edges[b];
                if (part > whole)
                    continue; /* the result might not fit 32 bits */
                CHECK_EQ_INT(cellota_text_scaled_share(part, whole, scales[s]),
                             reference(part, whole, scales[s]));
            }
    for (index = 0; index < 100000; index++) {
        uint32_t whole, part;
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        whole = (uint32_t)(random >> 32) >> (random & 31);
        part = whole ? (uint32_t)random % whole : 0;
        CHECK_EQ_INT(cellota_text_scaled_share(part, whole, 100), reference(part, whole, 100));
        CHECK_EQ_INT(cellota_text_scaled_share(whole, whole, 10), whole ? 10 : 0);
    }
    CHECK_EQ_INT(cellota_text_scaled_share(250, 100, 10), 25); /* more than the whole */
}

static void test_decimal(void)
{
    uint32_t value = 7;
    CHECK(cellota_text_to_u32("4294967295", 10, &value));
    CHECK_EQ_INT(value, 4294967295u);
    CHECK(!cellota_text_to_u32("4294967296", 10, &value));
    CHECK(!cellota_text_to_u32("", 0, &value));
    CHECK(!cellota_text_to_u32("12a", 3, &value));
    CHECK(cellota_text_to_u32("0042", 4, &value));
    CHECK_EQ_INT(value, 42);
}

int main(void)
{
    RUN(test_scaled_share);
    RUN(test_decimal);
    return test_summary();
}
