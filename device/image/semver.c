/*
 * Semantic versions 2.0.0 (https://semver.org): a parser for the whole grammar and the
 * precedence rules of its section 11. Pre-release numeric identifiers may be longer than any
 * integer type, so they are compared as digit strings (no leading zeros makes that exact).
 */
#include "image/semver.h"

#include "core/error.h"

#include <stdbool.h>
#include <string.h>

static bool is_digit(char character)
{
    return character >= '0' && character <= '9';
}

static bool is_identifier_character(char character)
{
    return is_digit(character) || (character >= 'a' && character <= 'z') ||
           (character >= 'A' && character <= 'Z') || character == '-';
}

static bool is_space(char character)
{
    return character == ' ' || character == '\t' || character == '\r' || character == '\n';
}

/* A numeric field of the version core: "0" or a digit string without a leading zero. */
static int parse_number(const char *text, size_t end, size_t *position, uint32_t *value)
{
    size_t start = *position;
    uint32_t result = 0;
    bool too_big = false;
    while (*position < end && is_digit(text[*position])) {
        uint32_t digit = (uint32_t)(text[*position] - '0');
        if (result > (UINT32_MAX - digit) / 10)
            too_big = true;
        result = result * 10 + digit;
        (*position)++;
    }
    if (*position == start || (text[start] == '0' && *position - start > 1))
        return CELLOTA_IMAGE_SEMVER_INVALID;
    if (too_big)
        return CELLOTA_IMAGE_SEMVER_TOO_LONG;
    *value = result;
    return CELLOTA_OK;
}

/* Dot-separated non-empty identifiers from *position up to `end` or the first character that
 * cannot continue them. Pre-release identifiers that are all digits may not have leading zeros;
 * build identifiers may. */
static int parse_identifiers(const char *text, size_t end, size_t *position, bool prerelease)
{
    for (;;) {
        size_t start = *position;
        bool numeric = true;
        while (*position < end && is_identifier_character(text[*position])) {
            numeric = numeric && is_digit(text[*position]);
            (*position)++;
        }
        if (*position == start)
            return CELLOTA_IMAGE_SEMVER_INVALID;
        if (prerelease && numeric && text[start] == '0' && *position - start > 1)
            return CELLOTA_IMAGE_SEMVER_INVALID;
        if (*position == end || text[*position] != '.')
            return CELLOTA_OK;
        (*position)++;
    }
}

int cellota_semver_parse(cellota_semver *version, const char *text, size_t length)
{
    size_t position = 0, end = length, prerelease_start;
    int result;

    memset(version, 0, sizeof(*version));
    while (position < end && is_space(text[position]))
        position++;
    while (end > position && is_space(text[end - 1]))
        end--;
    if ((result = parse_number(text, end, &position, &version->major)) != CELLOTA_OK)
        return result;
    if (position == end || text[position++] != '.')
        return CELLOTA_IMAGE_SEMVER_INVALID;
    if ((result = parse_number(text, end, &position, &version->minor)) != CELLOTA_OK)
        return result;
    if (position == end || text[position++] != '.')
        return CELLOTA_IMAGE_SEMVER_INVALID;
    if ((result = parse_number(text, end, &position, &version->patch)) != CELLOTA_OK)
        return result;
    if (position < end && text[position] == '-') {
        prerelease_start = ++position;
        if ((result = parse_identifiers(text, end, &position, true)) != CELLOTA_OK)
            return result;
        if (position - prerelease_start > CELLOTA_SEMVER_PRERELEASE_MAX)
            return CELLOTA_IMAGE_SEMVER_TOO_LONG;
        memcpy(version->prerelease, text + prerelease_start, position - prerelease_start);
    }
    if (position < end && text[position] == '+') {
        position++;
        if ((result = parse_identifiers(text, end, &position, false)) != CELLOTA_OK)
            return result;
    }
    return position == end ? CELLOTA_OK : CELLOTA_IMAGE_SEMVER_INVALID;
}

static int compare_numbers(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

/* One pre-release identifier of each version, by section 11.4. */
static int compare_identifiers(const char *a, size_t a_length, const char *b, size_t b_length)
{
    size_t index;
    bool a_numeric = true, b_numeric = true;
    int order;
    for (index = 0; index < a_length; index++)
        a_numeric = a_numeric && is_digit(a[index]);
    for (index = 0; index < b_length; index++)
        b_numeric = b_numeric && is_digit(b[index]);
    if (a_numeric != b_numeric)
        return a_numeric ? -1 : 1; /* numeric identifiers have lower precedence */
    if (a_numeric && a_length != b_length)
        return a_length < b_length ? -1 : 1; /* no leading zeros: longer is larger */
    /* Equal-length digits compare as numbers; alphanumerics compare in ASCII order. */
    order = memcmp(a, b, a_length < b_length ? a_length : b_length);
    if (order != 0)
        return order < 0 ? -1 : 1;
    return compare_numbers((uint32_t)a_length, (uint32_t)b_length);
}

int cellota_semver_compare(const cellota_semver *a, const cellota_semver *b)
{
    const char *a_field = a->prerelease, *b_field = b->prerelease;
    int order;

    if ((order = compare_numbers(a->major, b->major)) != 0 ||
        (order = compare_numbers(a->minor, b->minor)) != 0 ||
        (order = compare_numbers(a->patch, b->patch)) != 0)
        return order;
    /* A version without pre-release has higher precedence than one with. */
    if (!*a_field || !*b_field)
        return (*a_field == '\0') - (*b_field == '\0');
    for (;;) {
        size_t a_length = strcspn(a_field, "."), b_length = strcspn(b_field, ".");
        if ((order = compare_identifiers(a_field, a_length, b_field, b_length)) != 0)
            return order;
        a_field += a_length;
        b_field += b_length;
        if (!*a_field || !*b_field) /* a shorter list of equal fields is lower */
            return (*a_field != '\0') - (*b_field != '\0');
        a_field++;
        b_field++;
    }
}
