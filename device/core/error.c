/* One table for every module's errors, built from the same .def files as the enum. */
#include "core/error.h"

#include <stddef.h>

typedef struct error_entry {
    int code;
    const char *name;
    const char *sentence;
} error_entry;

static const error_entry error_table[] = {
#define CELLOTA_ERROR(name, value, sentence) {value, #name, sentence},
#include "core/errors.def"
#include "image/errors.def"
#include "boot/errors.def"
#include "at/errors.def"
#include "net/errors.def"
#include "agent/errors.def"
#undef CELLOTA_ERROR
};

static const error_entry *find_entry(int code)
{
    size_t index;
    for (index = 0; index < sizeof(error_table) / sizeof(error_table[0]); index++) {
        if (error_table[index].code == code)
            return &error_table[index];
    }
    return NULL;
}

const char *cellota_strerror(int code)
{
    const error_entry *entry = find_entry(code);
    return entry ? entry->sentence : "unknown error";
}

const char *cellota_error_name(int code)
{
    const error_entry *entry = find_entry(code);
    return entry ? entry->name : "UNKNOWN";
}
