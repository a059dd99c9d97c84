/*
 * The unit-test harness: a few macros and nothing else. A test file defines test functions,
 * lists them in main with RUN(name), and returns test_summary(). A failed CHECK prints where
 * and what, and the test goes on so one run shows every failure; the exit status is 1.
 */
#ifndef CELLOTA_TESTS_TEST_H
#define CELLOTA_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(condition)) {                                                                        \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition);          \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                                             \
    do {                                                                                           \
        long long actual_value_ = (long long)(actual), expected_value_ = (long long)(expected);    \
        test_checks++;                                                                             \
        if (actual_value_ != expected_value_) {                                                    \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #actual,     \
                    actual_value_, expected_value_);                                               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(actual, expected)                                                             \
    do {                                                                                           \
        const char *actual_text_ = (actual), *expected_text_ = (expected);                         \
        test_checks++;                                                                             \
        if (!actual_text_ || strcmp(actual_text_, expected_text_) != 0) {                          \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
                    actual_text_ ? actual_text_ : "(null)", expected_text_);                       \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_MEM(actual, expected, length)                                                     \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (memcmp((actual), (expected), (length)) != 0) {                                         \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s differs from %s\n", __FILE__, __LINE__, #actual,            \
                    #expected);                                                                    \
        }                                                                                          \
    } while (0)

#define RUN(test_function)                                                                         \
    do {                                                                                           \
        int failures_before_ = test_failures;                                                      \
        test_function();                                                                           \
        printf("%s %s\n", test_failures == failures_before_ ? "ok  " : "FAIL", #test_function);    \
    } while (0)

static inline int test_summary(void)
{
    printf("%d checks, %d failed\n", test_checks, test_failures);
    return test_failures ? 1 : 0;
}

#endif
