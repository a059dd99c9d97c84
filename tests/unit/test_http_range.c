/*
 * The header decisions behind image hosting (host/server/http_range.h), edge by edge: Range
 * forms and their limits (empty file, A > B, A at or past the size, suffixes longer than the
 * file, bytes=0-0, numbers past 64 bits, whitespace, case, lists), If-None-Match (weak
 * comparison, lists, "*") and If-Range (strong comparison only, dates refused).
 */
#include "server/http_range.h"
#include "test.h"

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aull

typedef struct range_case {
    const char *header;
    uint64_t size;
    http_range_result result;
    uint64_t first, last; /* for HTTP_RANGE_PARTIAL */
} range_case;

#define WHOLE HTTP_RANGE_WHOLE
#define PARTIAL HTTP_RANGE_PARTIAL
#define UNSATISFIABLE HTTP_RANGE_UNSATISFIABLE
#define MAX UINT64_MAX

static const range_case range_cases[] = {
    /* the three forms */
    {"bytes=0-499", 1000, PARTIAL, 0, 499},
    {"bytes=0-0", 1000, PARTIAL, 0, 0},
    {"bytes=999-999", 1000, PARTIAL, 999, 999},
    {"bytes=500-", 1000, PARTIAL, 500, 999},
    {"bytes=0-", 1000, PARTIAL, 0, 999},
    {"bytes=-100", 1000, PARTIAL, 900, 999},
    {"bytes=-1", 1000, PARTIAL, 999, 999},
    /* last-pos past the end is cut to the end; a suffix longer than the file is the file */
    {"bytes=999-5000", 1000, PARTIAL, 999, 999},
    {"bytes=0-1000", 1000, PARTIAL, 0, 999},
    {"bytes=-1000", 1000, PARTIAL, 0, 999},
    {"bytes=-5000", 1000, PARTIAL, 0, 999},
    /* unsatisfiable: first-pos at or past the size, a zero-length suffix */
    {"bytes=1000-", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=1000-2000", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=1000-1000", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=-0", 1000, UNSATISFIABLE, 0, 0},
    /* invalid (last-pos below first-pos): the header is ignored */
    {"bytes=5-3", 1000, WHOLE, 0, 0},
    {"bytes=2000-1000", 1000, WHOLE, 0, 0},
    /* several ranges: the whole, even when each is satisfiable */
    {"bytes=0-5,10-20", 1000, WHOLE, 0, 0},
    {"bytes=0-5, 10-20", 1000, WHOLE, 0, 0},
    {"bytes=-5,0-1", 1000, WHOLE, 0, 0},
    {"bytes=0-5,2000-", 1000, WHOLE, 0, 0},
    /* empty list elements and optional whitespace around elements are allowed */
    {"bytes=0-5,", 1000, PARTIAL, 0, 5},
    {"bytes=,0-5", 1000, PARTIAL, 0, 5},
    {"bytes=, ,0-5, ,", 1000, PARTIAL, 0, 5},
    {"bytes= 0-5 ", 1000, PARTIAL, 0, 5},
    {"bytes=\t0-5\t", 1000, PARTIAL, 0, 5},
    {"  bytes=0-5", 1000, PARTIAL, 0, 5},
    /* the unit in any case */
    {"Bytes=0-5", 1000, PARTIAL, 0, 5},
    {"BYTES=-5", 1000, PARTIAL, 995, 999},
    /* malformed: ignored, the whole */
    {"", 1000, WHOLE, 0, 0},
    {"bytes=", 1000, WHOLE, 0, 0},
    {"bytes=,", 1000, WHOLE, 0, 0},
    {"bytes", 1000, WHOLE, 0, 0},
    {"bytes0-5", 1000, WHOLE, 0, 0},
    {"bytes =0-5", 1000, WHOLE, 0, 0},
    {"bytes= =0-5", 1000, WHOLE, 0, 0},
    {"bytes=0 -5", 1000, WHOLE, 0, 0},
    {"bytes=0- 5", 1000, WHOLE, 0, 0},
    {"bytes=- 5", 1000, WHOLE, 0, 0},
    {"bytes=0-5x", 1000, WHOLE, 0, 0},
    {"bytes=0-5 6", 1000, WHOLE, 0, 0},
    {"bytes=a-b", 1000, WHOLE, 0, 0},
    {"bytes=-", 1000, WHOLE, 0, 0},
    {"bytes=--5", 1000, WHOLE, 0, 0},
    {"bytes=-5-", 1000, WHOLE, 0, 0},
    {"bytes=+1-2", 1000, WHOLE, 0, 0},
    {"bytes=0x10-20", 1000, WHOLE, 0, 0},
    {"bytes=1.5-2", 1000, WHOLE, 0, 0},
    {"bytes=5", 1000, WHOLE, 0, 0},
    {"items=0-5", 1000, WHOLE, 0, 0},
    {"bytesx=0-5", 1000, WHOLE, 0, 0},
    /* numbers past 64 bits saturate: a huge first-pos is past any file, a huge last-pos or
     * suffix reaches the end */
    {"bytes=18446744073709551615-", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=18446744073709551616-", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=99999999999999999999999999999999999999-", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=0-99999999999999999999999999999999999999", 1000, PARTIAL, 0, 999},
    {"bytes=5-18446744073709551615", 1000, PARTIAL, 5, 999},
    {"bytes=-99999999999999999999999999999999999999", 1000, PARTIAL, 0, 999},
    {"bytes=18446744073709551616-18446744073709551615", 1000, UNSATISFIABLE, 0, 0},
    {"bytes=00000000000000000000000000000000000000005-6", 1000, PARTIAL, 5, 6},
    /* files as large as 64 bits allow */
    {"bytes=-1", MAX, PARTIAL, MAX - 1, MAX - 1},
    {"bytes=18446744073709551614-", MAX, PARTIAL, MAX - 1, MAX - 1},
    {"bytes=18446744073709551615-", MAX, UNSATISFIABLE, 0, 0},
    {"bytes=5000000000-5000000009", 6000000000ull, PARTIAL, 5000000000ull, 5000000009ull},
    /* an empty file: no int-range is satisfiable; a suffix cannot be answered with a 206 */
    {"bytes=0-0", 0, UNSATISFIABLE, 0, 0},
    {"bytes=0-", 0, UNSATISFIABLE, 0, 0},
    {"bytes=-5", 0, WHOLE, 0, 0},
    {"bytes=-0", 0, UNSATISFIABLE, 0, 0},
    {"bytes=5-3", 0, WHOLE, 0, 0},
    /* a one-byte file */
    {"bytes=0-0", 1, PARTIAL, 0, 0},
    {"bytes=-1", 1, PARTIAL, 0, 0},
    {"bytes=1-", 1, UNSATISFIABLE, 0, 0},
};

static void test_range_cases(void)
{
    size_t index;

    for (index = 0; index < sizeof(range_cases) / sizeof(range_cases[0]); index++) {
        const range_case *expected = &range_cases[index];
        http_range range = {UNTOUCHED, UNTOUCHED};
        http_range_result result = http_range_parse(expected->header, expected->size, &range);
        int failures_before = test_failures;

        CHECK_EQ_INT(result, expected->result);
        if (expected->result == PARTIAL) {
            CHECK(range.first == expected->first);
            CHECK(range.last == expected->last);
        } else {
            /* Nothing is written unless there is a range to send. */
            CHECK(range.first == UNTOUCHED && range.last == UNTOUCHED);
        }
        if (test_failures != failures_before)
            fprintf(stderr, "  for Range \"%s\" on %" PRIu64 " bytes\n", expected->header,
                    expected->size);
    }
}

static void test_range_absent(void)
{
    http_range range = {UNTOUCHED, UNTOUCHED};

    CHECK_EQ_INT(http_range_parse(NULL, 1000, &range), WHOLE);
    CHECK_EQ_INT(http_range_parse(NULL, 0, &range), WHOLE);
    CHECK(range.first == UNTOUCHED);
}

typedef struct match_case {
    const char *header;
    bool matches;
} match_case;

#define TAG "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const match_case none_match_cases[] = {
    {"\"" TAG "\"", true},
    {"W/\"" TAG "\"", true}, /* weak comparison */
    {"\"other\", \"" TAG "\"", true},
    {"\"other\",W/\"" TAG "\"", true},
    {"\"" TAG "\", \"other\"", true},
    {" \"" TAG "\" ", true},
    {",,\"" TAG "\",,", true},
    {"*", true},
    {" * ", true},
    {"\"other\"", false},
    {"\"" TAG "0\"", false},
    {"\"9f86d081\"", false},
    {"\"\"", false},
    {"", false},
    {TAG, false},                     /* not quoted */
    {"\"" TAG, false},                /* not closed */
    {"w/\"" TAG "\"", false},         /* the W is upper case */
    {"\"" TAG "\" x", false},         /* trailing text */
    {"\"" TAG "\" \"other\"", false}, /* no comma */
    {"*, \"" TAG "\"", false},        /* "*" stands alone */
    {"\"a b\", \"" TAG "\"", false},  /* a space is no etagc: malformed, ignored */
    {"\"other\", garbage, \"" TAG "\"", false},
};

static void test_if_none_match(void)
{
    size_t index;

    CHECK(!http_if_none_match(NULL, TAG));
    for (index = 0; index < sizeof(none_match_cases) / sizeof(none_match_cases[0]); index++) {
        int failures_before = test_failures;
        CHECK_EQ_INT(http_if_none_match(none_match_cases[index].header, TAG),
                     none_match_cases[index].matches);
        if (test_failures != failures_before)
            fprintf(stderr, "  for If-None-Match '%s'\n", none_match_cases[index].header);
    }
    /* obs-text is allowed inside a tag */
    CHECK(http_if_none_match("\"caf\xc3\xa9\"", "caf\xc3\xa9"));
}

static const match_case if_range_cases[] = {
    {"\"" TAG "\"", true},
    {"  \"" TAG "\"  ", true},
    {"W/\"" TAG "\"", false}, /* If-Range compares strongly */
    {"\"other\"", false},
    {"\"" TAG "\", \"other\"", false},
    {"Sun, 06 Nov 1994 08:49:37 GMT", false}, /* a date: no Last-Modified to compare with */
    {"Mon, 07 Dec 2026 09:30:00 GMT", false},
    {"*", false},
    {"", false},
    {TAG, false},
    {"\"" TAG, false},
};

static void test_if_range(void)
{
    size_t index;

    CHECK(http_if_range_allows(NULL, TAG));
    for (index = 0; index < sizeof(if_range_cases) / sizeof(if_range_cases[0]); index++) {
        int failures_before = test_failures;
        CHECK_EQ_INT(http_if_range_allows(if_range_cases[index].header, TAG),
                     if_range_cases[index].matches);
        if (test_failures != failures_before)
            fprintf(stderr, "  for If-Range '%s'\n", if_range_cases[index].header);
    }
}

int main(void)
{
    RUN(test_range_cases);
    RUN(test_range_absent);
    RUN(test_if_none_match);
    RUN(test_if_range);
    return test_summary();
}
