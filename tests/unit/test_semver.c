/* Semver 2.0.0: the grammar (valid and invalid forms) and section 11's precedence. */
#include "test.h"

#include "core/error.h"
#include "image/semver.h"

static int parse(cellota_semver *version, const char *text)
{
    return cellota_semver_parse(version, text, strlen(text));
}

static void test_valid_forms(void)
{
    static const char *const valid[] = {
        "0.0.0",
        "1.2.3",
        "10.20.30",
        "1.1.2-prerelease+meta",
        "1.1.2+meta",
        "1.1.2+meta-valid",
        "1.0.0-alpha",
        "1.0.0-beta",
        "1.0.0-alpha.beta",
        "1.0.0-alpha.beta.1",
        "1.0.0-alpha.1",
        "1.0.0-alpha0.valid",
        "1.0.0-alpha.0valid",
        "1.0.0-rc.1+build.1",
        "2.0.0-rc.1+build.123",
        "1.2.3-beta",
        "10.2.3-DEV-SNAPSHOT",
        "1.2.3-SNAPSHOT-123",
        "2.0.0+build.1848",
        "2.0.1-alpha.1227",
        "1.0.0-0A.is.legal",
        "1.0.0--",
        "1.0.0-x-y-z.--",
        "1.0.0+0.build.007",
        "4294967295.4294967295.4294967295",
        "1.0.0-99999999999999999999999",
        " 1.2.3\n",
        "1.2.3\r\n",
    };
    cellota_semver version;
    size_t index;
    for (index = 0; index < sizeof(valid) / sizeof(valid[0]); index++) {
        int result = parse(&version, valid[index]);
        if (result != CELLOTA_OK)
            fprintf(stderr, "valid version refused: \"%s\"\n", valid[index]);
        CHECK_EQ_INT(result, CELLOTA_OK);
    }
    CHECK_EQ_INT(parse(&version, "10.20.30-rc.1+build.5"), CELLOTA_OK);
    CHECK_EQ_INT(version.major, 10);
    CHECK_EQ_INT(version.minor, 20);
    CHECK_EQ_INT(version.patch, 30);
    CHECK_EQ_STR(version.prerelease, "rc.1");
    CHECK_EQ_INT(parse(&version, "4294967295.0.1"), CELLOTA_OK);
    CHECK_EQ_INT(version.major, 4294967295u);
    CHECK_EQ_STR(version.prerelease, "");
    /* Not NUL-terminated: only `length` bytes are read. */
    CHECK_EQ_INT(cellota_semver_parse(&version, "1.2.3-rc.4garbage", 8), CELLOTA_OK);
    CHECK_EQ_STR(version.prerelease, "rc");
}

static void test_invalid_forms(void)
{
    static const char *const invalid[] = {
        "",
        "1",
        "1.2",
        "1.2.3.4",
        "01.1.1",
        "1.01.1",
        "1.1.01",
        "1.2.3-0123",
        "1.2.3-0123.0123",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-+",
        "1.2.3-+123",
        "+invalid",
        "-invalid",
        "alpha",
        "1.2.3.DEV",
        "1.2-SNAPSHOT",
        "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
        "1.0.0-alpha..1",
        "1.0.0-alpha.",
        "1.0.0+build..1",
        "1.0.0-alpha_beta",
        "-1.0.0",
        "1.-0.0",
        " ",
        "v1.2.3",
        "1.2.3 4",
        "1.2.3-rc 1",
        "1.2.3+b+c",
        "1.2.3-a+b-c+d",
    };
    cellota_semver version;
    size_t index;
    for (index = 0; index < sizeof(invalid) / sizeof(invalid[0]); index++) {
        int result = parse(&version, invalid[index]);
        if (result != CELLOTA_IMAGE_SEMVER_INVALID)
            fprintf(stderr, "invalid version not refused: \"%s\"\n", invalid[index]);
        CHECK_EQ_INT(result, CELLOTA_IMAGE_SEMVER_INVALID);
    }
    CHECK_EQ_INT(cellota_semver_parse(&version, "1.2.3\0", 6), CELLOTA_IMAGE_SEMVER_INVALID);
    CHECK_EQ_INT(cellota_semver_parse(&version, "1.2.3", 0), CELLOTA_IMAGE_SEMVER_INVALID);
}

static void test_limits(void)
{
    cellota_semver version;
    char long_prerelease[80];
    CHECK_EQ_INT(parse(&version, "4294967296.0.0"), CELLOTA_IMAGE_SEMVER_TOO_LONG);
    CHECK_EQ_INT(parse(&version, "0.99999999999.0"), CELLOTA_IMAGE_SEMVER_TOO_LONG);
    CHECK_EQ_INT(parse(&version, "0.0.42949672950"), CELLOTA_IMAGE_SEMVER_TOO_LONG);
    /* A leading zero is a grammar error even when the number is also too large. */
    CHECK_EQ_INT(parse(&version, "0.0.042949672950"), CELLOTA_IMAGE_SEMVER_INVALID);

    memset(long_prerelease, 0, sizeof(long_prerelease));
    memcpy(long_prerelease, "1.0.0-", 6);
    memset(long_prerelease + 6, 'a', CELLOTA_SEMVER_PRERELEASE_MAX);
    CHECK_EQ_INT(parse(&version, long_prerelease), CELLOTA_OK);
    CHECK_EQ_INT(strlen(version.prerelease), CELLOTA_SEMVER_PRERELEASE_MAX);
    long_prerelease[6 + CELLOTA_SEMVER_PRERELEASE_MAX] = 'a';
    CHECK_EQ_INT(parse(&version, long_prerelease), CELLOTA_IMAGE_SEMVER_TOO_LONG);
}

static int compare(const char *a, const char *b)
{
    cellota_semver first, second;
    CHECK_EQ_INT(parse(&first, a), CELLOTA_OK);
    CHECK_EQ_INT(parse(&second, b), CELLOTA_OK);
    return cellota_semver_compare(&first, &second);
}

static void test_precedence(void)
{
    /* semver.org section 11's examples, in ascending order, and a few of ours. */
    static const char *const ascending[] = {
        "0.9.99",     "1.0.0-0",      "1.0.0-1",       "1.0.0-2",
        "1.0.0-10",   "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
        "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
        "1.0.0",      "1.0.1",        "1.1.0",         "1.9.0",
        "1.10.0",     "1.11.0",       "2.0.0-rc.1",    "2.0.0",
        "2.1.0",      "2.1.1",        "10.0.0",        "4294967295.0.0",
    };
    size_t count = sizeof(ascending) / sizeof(ascending[0]), i, j;
    for (i = 0; i < count; i++) {
        for (j = 0; j < count; j++) {
            int order = compare(ascending[i], ascending[j]);
            int expected = (i > j) - (i < j);
            if ((order > 0) - (order < 0) != expected)
                fprintf(stderr, "compare(%s, %s) = %d\n", ascending[i], ascending[j], order);
            CHECK_EQ_INT((order > 0) - (order < 0), expected);
        }
    }
    CHECK_EQ_INT(compare("1.0.0+build.1", "1.0.0+build.2"), 0); /* build metadata ignored */
    CHECK_EQ_INT(compare("1.0.0-rc.1+a", "1.0.0-rc.1"), 0);
    CHECK(compare("1.0.0-99999999999999999999999", "1.0.0-100000000000000000000000") < 0);
    CHECK(compare("1.0.0-99999999999999999999999", "1.0.0-a") < 0);
    CHECK(compare("1.0.0-a.b.c", "1.0.0-a.b") > 0);
    CHECK(compare("1.0.0-A", "1.0.0-a") < 0); /* ASCII order */
    CHECK(compare("1.0.0-alpha-1", "1.0.0-alpha") > 0);
}

int main(void)
{
    RUN(test_valid_forms);
    RUN(test_invalid_forms);
    RUN(test_limits);
    RUN(test_precedence);
    return test_summary();
}
