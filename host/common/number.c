/* Strict number and size parsing; see number.h. */
#include "common/number.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses the leading digits of `text`; *end points after them. */
static bool parse_leading(const char *text, uint64_t max, uint64_t *value, const char **end)
{
    int base = 10;
    char *stop;
    unsigned long long parsed;

    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
        if (!isxdigit((unsigned char)text[0]))
            return false;
    } else if (!isdigit((unsigned char)text[0])) {
        return false; /* also refuses the sign and white space strtoull would accept */
    }
    errno = 0;
    parsed = strtoull(text, &stop, base);
    if (errno == ERANGE || parsed > max)
        return false;
    *value = parsed;
    *end = stop;
    return true;
}

bool host_parse_unsigned(const char *text, uint64_t max, uint64_t *value)
{
    const char *end;
    uint64_t parsed;
    if (!parse_leading(text, max, &parsed, &end) || *end != '\0')
        return false;
    *value = parsed;
    return true;
}

bool host_parse_size(const char *text, uint64_t max, uint64_t *value)
{
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {
        {"", 0},    {"B", 0},    {"K", 10}, {"KB", 10}, {"KiB", 10}, {"M", 20},
        {"MB", 20}, {"MiB", 20}, {"G", 30}, {"GB", 30}, {"GiB", 30},
    };
    const char *end;
    uint64_t count;
    size_t index;

    if (!parse_leading(text, UINT64_MAX, &count, &end))
        return false;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && *end != '\0')
        return false; /* "0x1B" is a number, not 1 byte-unit */
    for (index = 0; index < sizeof(units) / sizeof(units[0]); index++) {
        if (strcasecmp(end, units[index].unit) == 0) {
            if (count > (max >> units[index].shift))
                return false;
            *value = count << units[index].shift;
            return true;
        }
    }
    return false;
}

bool host_parse_decimal(const char *text, double *value)
{
    char *end;
    double parsed;
    if (!isdigit((unsigned char)text[0]) && !(text[0] == '.' && isdigit((unsigned char)text[1])))
        return false;
    errno = 0;
    parsed = strtod(text, &end);
    if (errno == ERANGE || *end != '\0' || !isfinite(parsed) || parsed < 0)
        return false;
    *value = parsed;
    return true;
}

void host_format_size(uint64_t bytes, char *text, size_t capacity)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double scaled = (double)bytes;
    size_t unit = 0;

    while (scaled >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
        scaled /= 1024;
        unit++;
    }
    if (unit == 0 || scaled == floor(scaled))
        snprintf(text, capacity, "%.0f %s", scaled, units[unit]);
    else
        snprintf(text, capacity, "%.2f %s", scaled, units[unit]);
}
