/*
 * Error codes. Every error a user can hit has a name and a sentence; the agent reports the code,
 * the name and the sentence in its status message, and the server and CLI print them.
 *
 * Each module lists its own errors in <module>/errors.def as
 *     CELLOTA_ERROR(NAME, value, "sentence")
 * and owns a range of values: core 0-99, image 100-199, boot 200-299, at 300-399, net 400-499,
 * agent 500-599. Values are part of the status wire format: never renumber one.
 *
 * Convention: a function returns int, 0 (CELLOTA_OK) on success, CELLOTA_IN_PROGRESS when a
 * non-blocking operation has started or goes on, or an error code.
 *
 * The names and sentences are stored compactly (a dictionary of words, generated at build time
 * from the .def files by scripts/error_text.py), so they are written into the caller's buffer
 * rather than returned as pointers into a table.
 */
#ifndef CELLOTA_CORE_ERROR_H
#define CELLOTA_CORE_ERROR_H

#include <stddef.h>

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

/* A buffer of this size holds any sentence or name with its NUL (the build checks it). */
#define CELLOTA_ERROR_TEXT_SIZE 192

/*
 * Writes the sentence for a code into buffer ("unknown error" for a code no module defines),
 * NUL-terminated and cut to size - 1 characters if the buffer is shorter than
 * CELLOTA_ERROR_TEXT_SIZE. Returns buffer. Precondition: buffer is not NULL and size >= 1.
 */
char *cellota_error_sentence(int code, char *buffer, size_t size);

/* The same for the code's name without the CELLOTA_ prefix ("IMAGE_BAD_PADDING"; "UNKNOWN"). */
char *cellota_error_name_text(int code, char *buffer, size_t size);

/*
 * One-expression forms, for printing: the text is written into an unnamed buffer (a C99
 * compound literal) that lives until the end of the enclosing block, so use the pointer in the
 * same statement or block and never keep or return it.
 */
#define cellota_strerror(code)                                                                     \
    cellota_error_sentence((code), (char[CELLOTA_ERROR_TEXT_SIZE]){0}, CELLOTA_ERROR_TEXT_SIZE)
#define cellota_error_name(code)                                                                   \
    cellota_error_name_text((code), (char[CELLOTA_ERROR_TEXT_SIZE]){0}, CELLOTA_ERROR_TEXT_SIZE)

#endif
