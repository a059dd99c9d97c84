/*
 * libFuzzer target for the query arguments cellota-server reads itself (libmicrohttpd splits
 * and unescapes the query; these are what our code then makes of the values): ?limit= and
 * ?offset= (http_paging_parse), a campaign target's ?state= (target_state_parse), a release
 * upload's ?load_address= (host_parse_unsigned). Input: the four values separated by NUL bytes
 * (a missing value is absent). Checks: an accepted limit is 1..1000 and an accepted offset was
 * a whole non-negative decimal; a refused value leaves the defaults; an accepted state's name
 * is exactly the text; an accepted load address fits in 32 bits and prints back to a number
 * equal to the text's.
 */
#include "common/number.h"
#include "server/http.h"
#include "server/storage.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    const char *values[4] = {NULL, NULL, NULL, NULL};
    size_t count = 0;
    for (char *p = text; count < 4 && p <= text + size; p += strlen(p) + 1)
        values[count++] = p;

    size_t limit, offset;
    int paging = http_paging_parse(values[0], values[1], &limit, &offset);
    if (paging == 0) {
        if (limit < 1 || limit > 1000)
            abort();
        if (!values[0] && limit != 100)
            abort();
        if (values[1] && strchr(values[1], '-') && offset != 0)
            abort(); /* a minus sign is never a large offset */
        if (!values[1] && offset != 0)
            abort();
    } else if (paging != HTTP_PAGING_BAD_LIMIT && paging != HTTP_PAGING_BAD_OFFSET) {
        abort();
    } else if (paging == HTTP_PAGING_BAD_LIMIT && !values[0]) {
        abort(); /* an absent limit is never the bad one */
    }

    target_state state;
    if (values[2] && target_state_parse(values[2], &state) &&
        strcmp(target_state_name(state), values[2]) != 0)
        abort();

    uint64_t address;
    if (values[3] && host_parse_unsigned(values[3], UINT32_MAX, &address)) {
        if (address > UINT32_MAX)
            abort();
        char printed[32];
        snprintf(printed, sizeof(printed), "%" PRIu64, address);
        uint64_t again;
        if (!host_parse_unsigned(printed, UINT32_MAX, &again) || again != address)
            abort();
    }
    free(text);
    return 0;
}
