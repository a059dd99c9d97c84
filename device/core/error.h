/*
 * Error codes. Every error a user can hit has a name and a sentence; the agent reports the code
 * and the server and CLI print the sentence.
 *
 * Each module lists its own errors in <module>/errors.def as
 *     CELLOTA_ERROR(NAME, value, "sentence")
 * and owns a range of values: core 0-99, image 100-199, boot 200-299, at 300-399, net 400-499,
 * agent 500-599. Values are part of the status wire format: never renumber one.
 *
 * Convention: a function returns int, 0 (CELLOTA_OK) on success, CELLOTA_IN_PROGRESS when a
 * non-blocking operation has started or goes on, or an error code.
 */
#ifndef CELLOTA_CORE_ERROR_H
#define CELLOTA_CORE_ERROR_H

typedef enum cellota_error {
#define CELLOTA_ERROR(name, value, sentence) CELLOTA_##name = value,
#include "core/errors.def"
#include "image/errors.def"
#include "boot/errors.def"
#include "at/errors.def"
#include "net/errors.def"
#include "agent/errors.def"
#undef CELLOTA_ERROR
    CELLOTA_ERROR_END_
} cellota_error;

/* The sentence for a code; "unknown error" for a code no module defines. Never NULL. */
const char *cellota_strerror(int code);

/* The code's name without the CELLOTA_ prefix ("IMAGE_BAD_PADDING"); "UNKNOWN" if undefined. */
const char *cellota_error_name(int code);

#endif
