/* The bounded JSON reader: token layout, every kind of malformed text, limits, and the helpers. */
#include "test.h"

#include "core/error.h"
#include "core/json.h"

static cellota_json_token tokens[64];
static size_t count;

static int parse_text(const char *text, size_t capacity, unsigned depth)
{
    return cellota_json_parse(text, strlen(text), tokens, capacity, depth, &count);
}

static int parse(const char *text)
{
    return parse_text(text, 64, 16);
}

static void test_token_layout(void)
{
    static const char text[] = " {\"a\" : [1, -2.5e3, {\"b\": null}], \"c\":\"d\\n\", \"e\":true} ";
    CHECK_EQ_INT(parse(text), CELLOTA_OK);
    CHECK_EQ_INT(count, 12);
    CHECK_EQ_INT(tokens[0].type, CELLOTA_JSON_OBJECT);
    CHECK_EQ_INT(tokens[0].size, 3);
    CHECK_EQ_INT(tokens[0].next, 12);
    CHECK_EQ_INT(tokens[0].start, 1);
    CHECK_EQ_INT(tokens[0].end, sizeof(text) - 2);
    CHECK_EQ_INT(tokens[1].type, CELLOTA_JSON_STRING);
    CHECK_EQ_INT(tokens[1].start, 3);
    CHECK_EQ_INT(tokens[1].end, 4);
    CHECK_EQ_INT(tokens[2].type, CELLOTA_JSON_ARRAY);
    CHECK_EQ_INT(tokens[2].size, 3);
    CHECK_EQ_INT(tokens[2].next, 8);
    CHECK_EQ_INT(tokens[3].type, CELLOTA_JSON_NUMBER);
    CHECK_EQ_INT(tokens[4].type, CELLOTA_JSON_NUMBER);
    CHECK_EQ_INT(tokens[4].end - tokens[4].start, 6);
    CHECK_EQ_INT(tokens[5].type, CELLOTA_JSON_OBJECT);
    CHECK_EQ_INT(tokens[5].size, 1);
    CHECK_EQ_INT(tokens[5].next, 8);
    CHECK_EQ_INT(tokens[7].type, CELLOTA_JSON_NULL);
    CHECK_EQ_INT(tokens[9].type, CELLOTA_JSON_STRING);
    CHECK_EQ_INT(tokens[9].end - tokens[9].start, 3); /* d\n as written */
    CHECK_EQ_INT(tokens[11].type, CELLOTA_JSON_TRUE);
    CHECK_EQ_INT(tokens[11].next, 12);

    CHECK_EQ_INT(parse("[]"), CELLOTA_OK);
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(tokens[0].size, 0);
    CHECK_EQ_INT(parse("{ }"), CELLOTA_OK);
    CHECK_EQ_INT(tokens[0].end, 3);
    CHECK_EQ_INT(parse("-0"), CELLOTA_OK);
    CHECK_EQ_INT(parse("\"\""), CELLOTA_OK);
    CHECK_EQ_INT(tokens[0].start, tokens[0].end);
    CHECK_EQ_INT(parse("[[],{},[[]],false]"), CELLOTA_OK);
    CHECK_EQ_INT(count, 6);
    CHECK_EQ_INT(tokens[0].size, 4);
}

static void test_valid_texts(void)
{
    static const char *const valid[] = {
        "0",
        "-0",
        "12",
        "-1.5",
        "1e5",
        "1E+5",
        "1e-05",
        "0.0e0",
        "true",
        "false",
        "null",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"\\u0041\\u00e9\\uD83D\\uDE00\"",
        "\"caf\xC3\xA9\"",
        "\"\xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"",
        "\t\r\n[1]\n",
        "[\"a\",{\"b\":[]}]",
        "{\"\":0}",
        "{\"a\":1,\"a\":2}", /* duplicates are valid JSON; callers decide */
    };
    size_t index;
    for (index = 0; index < sizeof(valid) / sizeof(valid[0]); index++) {
        int result = parse(valid[index]);
        if (result != CELLOTA_OK)
            fprintf(stderr, "valid JSON refused: %s\n", valid[index]);
        CHECK_EQ_INT(result, CELLOTA_OK);
    }
}

static void test_invalid_texts(void)
{
    static const char *const invalid[] = {
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{a:1}",
        "{'a':1}",
        "{\"a\" 1}",
        "{1:2}",
        "[\"a\":1]",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "1 2",
        "[]]",
        "{}}",
        "[}",
        "{]",
        "01",
        "-01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "0x10",
        "NaN",
        "Infinity",
        "tru",
        "truex",
        "nul",
        "False",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"\\uD800\"",
        "\"\\uDC00\"",
        "\"\\uD800\\u0041\"",
        "\"\\uD800\\n\"",
        "\"a\x01\"",
        "\"tab\there\"",
        "\"\xC0\x80\"",
        "\"\xC1\xBF\"",
        "\"\xE0\x80\x80\"",
        "\"\xED\xA0\x80\"",
        "\"\xF4\x90\x80\x80\"",
        "\"\xF5\x80\x80\x80\"",
        "\"\xE2\x82\"",
        "\"\x80\"",
        "\"\xFF\"",
        "\xEF\xBB\xBF{}",
        "[1]x",
        "\"a\"\"b\"",
        "/* */ 1",
        "[1,,2]",
    };
    size_t index;
    for (index = 0; index < sizeof(invalid) / sizeof(invalid[0]); index++) {
        int result = parse(invalid[index]);
        if (result != CELLOTA_JSON_INVALID)
            fprintf(stderr, "invalid JSON not refused (%d): %s\n", result, invalid[index]);
        CHECK_EQ_INT(result, CELLOTA_JSON_INVALID);
    }
    /* A NUL is not white space, and nothing past `length` is read. */
    CHECK_EQ_INT(cellota_json_parse("[1]\0", 4, tokens, 64, 8, &count), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_parse("[1]]", 3, tokens, 64, 8, &count), CELLOTA_OK);
    CHECK_EQ_INT(cellota_json_parse("\"ab\"", 3, tokens, 64, 8, &count), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_parse("\"\\u00", 5, tokens, 64, 8, &count), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_parse("\"\xC3", 2, tokens, 64, 8, &count), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_parse("tr", 2, tokens, 64, 8, &count), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_parse("-", 1, tokens, 64, 8, &count), CELLOTA_JSON_INVALID);
}

static void test_limits(void)
{
    static char deep[20001];
    char *large;
    CHECK_EQ_INT(parse_text("[[[[1]]]]", 64, 4), CELLOTA_OK);
    CHECK_EQ_INT(parse_text("[[[[1]]]]", 64, 3), CELLOTA_JSON_TOO_DEEP);
    CHECK_EQ_INT(parse_text("{\"a\":{\"b\":{}}}", 64, 2), CELLOTA_JSON_TOO_DEEP);
    CHECK_EQ_INT(parse_text("1", 64, 0), CELLOTA_OK);
    CHECK_EQ_INT(parse_text("[]", 64, 0), CELLOTA_JSON_TOO_DEEP);
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    CHECK_EQ_INT(parse_text(deep, 64, 32), CELLOTA_JSON_TOO_DEEP); /* no recursion to overflow */
    CHECK_EQ_INT(parse_text(deep, 64, 20000), CELLOTA_JSON_TOO_LARGE);

    CHECK_EQ_INT(parse_text("[1,2,3]", 4, 8), CELLOTA_OK);
    CHECK_EQ_INT(parse_text("[1,2,3]", 3, 8), CELLOTA_JSON_TOO_LARGE);
    CHECK_EQ_INT(parse_text("{\"a\":1}", 2, 8), CELLOTA_JSON_TOO_LARGE);
    CHECK_EQ_INT(parse_text("1", 0, 8), CELLOTA_JSON_TOO_LARGE);

    large = malloc(CELLOTA_JSON_TEXT_MAX + 1);
    memset(large, ' ', CELLOTA_JSON_TEXT_MAX + 1);
    large[0] = '1';
    CHECK_EQ_INT(cellota_json_parse(large, CELLOTA_JSON_TEXT_MAX, tokens, 64, 8, &count),
                 CELLOTA_OK);
    CHECK_EQ_INT(cellota_json_parse(large, CELLOTA_JSON_TEXT_MAX + 1, tokens, 64, 8, &count),
                 CELLOTA_JSON_TOO_LARGE);
    /* The last byte of the longest text is still reachable by a token. */
    large[0] = ' ';
    large[CELLOTA_JSON_TEXT_MAX - 2] = '[';
    large[CELLOTA_JSON_TEXT_MAX - 1] = ']';
    CHECK_EQ_INT(cellota_json_parse(large, CELLOTA_JSON_TEXT_MAX, tokens, 64, 8, &count),
                 CELLOTA_OK);
    CHECK_EQ_INT(tokens[0].end, CELLOTA_JSON_TEXT_MAX);
    free(large);
}

static void test_string_copy(void)
{
    static const char text[] = "[\"caf\\u00e9 \\uD83D\\uDE00 \\\" \\\\ \\/ \xE2\x82\xAC\", "
                               "\"abc\", \"a\\nb\", \"\\u0000\","
                               " \"\\u007f\", 5, \"\\t\"]";
    char out[32];
    size_t length = 99;

    CHECK_EQ_INT(parse(text), CELLOTA_OK);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[1], out, sizeof(out), &length), CELLOTA_OK);
    CHECK_EQ_STR(out, "caf\xC3\xA9 \xF0\x9F\x98\x80 \" \\ / \xE2\x82\xAC");
    CHECK_EQ_INT(length, strlen(out));
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[2], out, 4, &length), CELLOTA_OK);
    CHECK_EQ_STR(out, "abc");
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[2], out, 3, &length),
                 CELLOTA_BUFFER_TOO_SMALL);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[2], out, 0, &length),
                 CELLOTA_BUFFER_TOO_SMALL);
    /* A 4-byte character never goes in half. */
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[1], out, 8, NULL),
                 CELLOTA_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[3], out, sizeof(out), NULL),
                 CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[4], out, sizeof(out), NULL),
                 CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[5], out, sizeof(out), NULL),
                 CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[6], out, sizeof(out), NULL),
                 CELLOTA_INVALID_ARGUMENT);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[7], out, sizeof(out), NULL),
                 CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(cellota_json_string_copy(text, &tokens[0], out, sizeof(out), NULL),
                 CELLOTA_INVALID_ARGUMENT);
}

static void test_find_and_duplicates(void)
{
    static const char text[] =
        "{\"url\":1, \"\\u0075rl2\":2, \"nested\":{\"url\":3, \"deep\":[4]}, \"caf\\u00e9\":5}";
    size_t value = 0;
    CHECK_EQ_INT(parse(text), CELLOTA_OK);
    CHECK(cellota_json_find(text, tokens, 0, "url", &value));
    CHECK_EQ_INT(text[tokens[value].start], '1');
    CHECK(cellota_json_find(text, tokens, 0, "url2", &value));
    CHECK_EQ_INT(text[tokens[value].start], '2');
    CHECK(cellota_json_find(text, tokens, 0, "caf\xC3\xA9", &value));
    CHECK_EQ_INT(text[tokens[value].start], '5');
    CHECK(!cellota_json_find(text, tokens, 0, "deep", &value)); /* members only, not nested */
    CHECK(!cellota_json_find(text, tokens, 0, "ur", &value));
    CHECK(!cellota_json_find(text, tokens, 0, "url22", &value));
    CHECK(!cellota_json_find(text, tokens, 0, "", &value));
    CHECK(cellota_json_find(text, tokens, 0, "nested", &value));
    CHECK(cellota_json_find(text, tokens, value, "deep", &value));
    CHECK_EQ_INT(tokens[value].type, CELLOTA_JSON_ARRAY);
    CHECK(!cellota_json_find(text, tokens, value, "deep", &value)); /* not an object */
    CHECK(!cellota_json_has_duplicate_keys(text, tokens, 0));

    CHECK_EQ_INT(parse("{\"a\":1,\"b\":[1,{\"a\":2}],\"\\u0061\":3}"), CELLOTA_OK);
    CHECK(
        cellota_json_has_duplicate_keys("{\"a\":1,\"b\":[1,{\"a\":2}],\"\\u0061\":3}", tokens, 0));
    CHECK_EQ_INT(parse("{\"a\":{\"a\":1},\"ab\":2,\"b\":3}"), CELLOTA_OK);
    CHECK(!cellota_json_has_duplicate_keys("{\"a\":{\"a\":1},\"ab\":2,\"b\":3}", tokens, 0));
    CHECK_EQ_INT(parse("{\"\\u0000\":1}"), CELLOTA_OK);
    CHECK(!cellota_json_find("{\"\\u0000\":1}", tokens, 0, "", &value));
}

int main(void)
{
    RUN(test_token_layout);
    RUN(test_valid_texts);
    RUN(test_invalid_texts);
    RUN(test_limits);
    RUN(test_string_copy);
    RUN(test_find_and_duplicates);
    return test_summary();
}
