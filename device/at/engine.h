/*
 * The AT engine: a non-blocking conversation with a modem over the port's UART.
 *
 * An AT exchange is data, not code (in the spirit of Zephyr's modem_chat). A *script* is an array
 * of *steps*; a step is a command template, the reply line it needs, a handler for that line, a
 * timeout and a few flags. Unsolicited result codes (URCs) are a table of patterns and handlers,
 * dispatched wherever a line arrives: before a reply, in the middle of one, between a length header
 * and its binary data, or after the data. Below the engine is only the byte stream of
 * port.h (uart_read / uart_write / uart_take_errors), so it runs on a UART, a pty or a test double.
 *
 * Lines. The modem's output is split at CR or LF; empty lines are skipped; leading spaces are
 * dropped; a line that starts with "AT" is the echo of a command and is ignored (so echo may be
 * on or off). A line is matched in this order: final result codes (OK, ERROR, +CME ERROR:,
 * +CMS ERROR:), the running step's reply pattern, then the URC table. Anything else is ignored.
 *
 * Patterns. A pattern matches the start of a line. '#' matches one or more digits; ' ' matches
 * any number of spaces, none included (SIMCom firmware differs in "+X: 1" vs "+X:1"); every
 * other character matches itself.
 *
 * Binary data. A handler that parses a length header calls cellota_at_expect_data; the engine
 * then moves exactly that many bytes into the caller's buffer, straight from the UART, and
 * checks that CR LF follows them. The step only succeeds when its final OK (or required reply)
 * arrives after the data, so bytes lost on the line are caught (the trailer is not where the
 * length says, or the final OK never comes) and data is never passed up half-checked.
 *
 * Damage. After every uart_read the engine asks uart_take_errors how many bytes the UART flagged
 * (parity, framing, overrun). Every line and every data block that received a byte from a
 * flagged read is treated as damaged: a damaged line is dropped; a damaged data block fails its
 * step with CELLOTA_AT_DATA_DAMAGED, so its bytes are never handed on.
 *
 * Time. The engine never reads a clock: cellota_at_start and cellota_at_poll are given the
 * port's milliseconds, and every timeout is measured with them.
 */
#ifndef CELLOTA_AT_ENGINE_H
#define CELLOTA_AT_ENGINE_H

#include "core/port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest modem line kept (longer lines are dropped whole). Build-time setting. */
#ifndef CELLOTA_AT_LINE_SIZE
#define CELLOTA_AT_LINE_SIZE 96
#endif

/* Longest command, with its parameters and the final CR. Build-time setting. */
#ifndef CELLOTA_AT_COMMAND_SIZE
#define CELLOTA_AT_COMMAND_SIZE 112
#endif

/*
 * Parts of the engine a build may leave out (build-time settings, 1 = built). The agent needs
 * all of them; a bootloader that only reads the staged image from the modem's file system
 * (sim7600_fs's size and read) needs none, and leaving them out is what fits it in its flash
 * budget (docs/boot.md); CELLOTA_AT_FILE_READER_ONLY defined leaves them all out (the
 * bootloader's build, in scripts/size.sh and tests/unit/test_at_reader.c). Leaving one out
 * changes nothing else:
 *   CELLOTA_AT_URCS         0: the URC table is never consulted (cellota_at_init's urcs are
 *                           ignored), as if its count were 0; bytes after a data block that are
 *                           not its CR LF are a framing error at once (no URC can have come
 *                           between header and data), so the step fails without replaying them
 *   CELLOTA_AT_PAYLOADS     0: a PROMPT step fails its script with CELLOTA_INVALID_ARGUMENT
 *                           before its command is sent, cellota_at_set_payload is ignored and
 *                           cellota_at_write_payload takes nothing
 *   CELLOTA_AT_INLINE       0: INLINE_DATA steps read the reply as a plain line (no data)
 *   CELLOTA_AT_SIM_STATES   0: every +CME ERROR is CELLOTA_AT_MODEM_ERROR (its number is still
 *                           kept in modem_error; the SIM_* codes and AT+CMEE=2's texts are not
 *                           told apart)
 *   CELLOTA_AT_RETRIES      0: a step runs once whatever its attempts; a handler's
 *                           CELLOTA_AT_AGAIN ends it with its give-up error at once
 *   CELLOTA_AT_OPTIONAL_STEPS 0: the OPTIONAL flag is ignored (the step always runs)
 *   CELLOTA_AT_BLANK_CHECK  0: the BLANK_AFTER_DATA flag is ignored (socket reads use it)
 */
#ifdef CELLOTA_AT_FILE_READER_ONLY
#define CELLOTA_AT_URCS 0
#define CELLOTA_AT_PAYLOADS 0
#define CELLOTA_AT_INLINE 0
#define CELLOTA_AT_SIM_STATES 0
#define CELLOTA_AT_RETRIES 0
#define CELLOTA_AT_OPTIONAL_STEPS 0
#define CELLOTA_AT_BLANK_CHECK 0
#endif
#ifndef CELLOTA_AT_URCS
#define CELLOTA_AT_URCS 1
#endif
#ifndef CELLOTA_AT_PAYLOADS
#define CELLOTA_AT_PAYLOADS 1
#endif
#ifndef CELLOTA_AT_INLINE
#define CELLOTA_AT_INLINE 1
#endif
#ifndef CELLOTA_AT_SIM_STATES
#define CELLOTA_AT_SIM_STATES 1
#endif
#ifndef CELLOTA_AT_RETRIES
#define CELLOTA_AT_RETRIES 1
#endif
#ifndef CELLOTA_AT_OPTIONAL_STEPS
#define CELLOTA_AT_OPTIONAL_STEPS 1
#endif
#ifndef CELLOTA_AT_BLANK_CHECK
#define CELLOTA_AT_BLANK_CHECK 1
#endif

/* A handler's answer meaning "ask again later": the step repeats after CELLOTA_AT_RETRY_MS
 * while it has attempts left (see cellota_at_retry). Never returned by a public function. */
#define CELLOTA_AT_AGAIN (-1)

/* Pause between two attempts of a step. */
#define CELLOTA_AT_RETRY_MS 1000u

/* Silence the engine waits for after a step failed mid-reply, before the next command, so late
 * output of the failed command cannot be taken for the reply to the next one. */
#define CELLOTA_AT_SETTLE_MS 200u

/* Silence after which a step that lost a line to damage ends, instead of at its timeout. */
#define CELLOTA_AT_SUSPECT_QUIET_MS 1000u

/* Silence after a pushed data block's last byte after which it counts as whole although the
 * CR LF that starts the modem's next output has not come (the modem had nothing more to say). */
#ifndef CELLOTA_AT_PUSH_QUIET_MS
#define CELLOTA_AT_PUSH_QUIET_MS 50u
#endif

typedef struct cellota_at cellota_at;

/*
 * Called with the text after the matched pattern (NUL-terminated, valid only during the call).
 * `user` is the script's user for step handlers and the engine's URC user for URC handlers.
 * A step handler returns:
 *   CELLOTA_OK            the step's reply has arrived (the step ends once its final OK has too)
 *   CELLOTA_IN_PROGRESS   the line was taken but the reply is not complete (more lines follow)
 *   CELLOTA_AT_AGAIN      the answer is "not yet": retry the step (cellota_at_retry)
 *   an error code         the step fails with it (after the modem's final result code)
 * URC handlers' return values are ignored.
 */
typedef int (*cellota_at_handler)(void *user, cellota_at *at, const char *arguments);

typedef struct cellota_at_urc {
    const char *pattern;
    cellota_at_handler handler;
} cellota_at_urc;

enum cellota_at_step_flags {
    CELLOTA_AT_NO_OK = 1u << 0,          /* the reply line ends the step; no final OK follows */
    CELLOTA_AT_PROMPT = 1u << 1,         /* wait for '>' after the command, then send the payload */
    CELLOTA_AT_INLINE_DATA = 1u << 2,    /* data follows the reply's last comma on the same line */
    CELLOTA_AT_OPTIONAL = 1u << 3,       /* skipped when a parameter it uses is empty or zero */
    CELLOTA_AT_ERROR_OK = 1u << 4,       /* ERROR and +CME ERROR end the step successfully */
    CELLOTA_AT_REPLY_OPTIONAL = 1u << 5, /* OK ends the step even if the reply never came */
    CELLOTA_AT_SETTLE_FIRST = 1u << 6,   /* wait for CELLOTA_AT_SETTLE_MS of silence first */
    CELLOTA_AT_BLANK_AFTER_DATA = 1u << 7 /* the data's CR LF is followed by the CR LF that
                                             starts the next line: a block that ends in CR LF
                                             with no CR LF after it lost two bytes */
};

/*
 * One step. `command` is a template (NULL: send nothing, only wait for `reply`):
 *   %l link   %n length   %o offset   %p port   %m mode   %c category   %r flow control
 *   %v number %h host     %a APN      %u user   %w password   %f file   %k CA file
 *   %x client certificate file          %y client key file
 *   %t text   %b text     %% percent
 * (see cellota_at_parameters; an unknown letter fails the step with CELLOTA_INVALID_ARGUMENT).
 * Strings are inserted as they are; a string holding a quote or a control character fails the step
 * with CELLOTA_AT_BAD_PARAMETER.
 */
typedef struct cellota_at_step {
    const char *command;
    const char *reply;          /* pattern of the line the step needs; NULL: only OK */
    cellota_at_handler handler; /* called for each line matching `reply`; NULL: none */
    uint16_t timeout;           /* tenths of a second, from the command to the step's end */
    uint8_t flags;              /* cellota_at_step_flags */
    uint8_t attempts;           /* how often the step may run (0 counts as 1) */
} cellota_at_step;

/* The template letters, in the order of cellota_at_parameters' arrays. */
#define CELLOTA_AT_TEXT_LETTERS "hauwfktbxy"
#define CELLOTA_AT_NUMBER_LETTERS "lnopmcrv"

enum cellota_at_text {
    CELLOTA_AT_HOST = 0,         /* %h */
    CELLOTA_AT_APN,              /* %a */
    CELLOTA_AT_USER,             /* %u */
    CELLOTA_AT_PASSWORD,         /* %w */
    CELLOTA_AT_FILE,             /* %f */
    CELLOTA_AT_CA_FILE,          /* %k */
    CELLOTA_AT_TEXT,             /* %t */
    CELLOTA_AT_TEXT2,            /* %b */
    CELLOTA_AT_CERTIFICATE_FILE, /* %x */
    CELLOTA_AT_KEY_FILE,         /* %y */
    CELLOTA_AT_TEXTS
};

enum cellota_at_number {
    CELLOTA_AT_LINK = 0, /* %l */
    CELLOTA_AT_LENGTH,   /* %n */
    CELLOTA_AT_OFFSET,   /* %o */
    CELLOTA_AT_PORT,     /* %p */
    CELLOTA_AT_MODE,     /* %m */
    CELLOTA_AT_CATEGORY, /* %c */
    CELLOTA_AT_FLOW,     /* %r */
    CELLOTA_AT_NUMBER,   /* %v */
    CELLOTA_AT_NUMBERS
};

/* Values the templates refer to; owned by the caller for as long as its script runs. */
typedef struct cellota_at_parameters {
    const char *text[CELLOTA_AT_TEXTS];
    uint32_t number[CELLOTA_AT_NUMBERS];
} cellota_at_parameters;

/* Called once when a script ends: CELLOTA_OK or the failing step's error. */
typedef void (*cellota_at_done)(void *user, int result);

/* Called once when a pushed data block ends (cellota_at_expect_pushed_data). */
typedef void (*cellota_at_data_end)(void *user, int result);

struct cellota_at {
    /* Bytes first, then words, the two buffers last: Thumb code reaches a field near the start
     * of the struct with a 2-byte instruction, one further on with a 4-byte one (the
     * bootloader's flash budget, docs/boot.md). */

    /* the running script */
    uint8_t step_count, step_index, attempt, phase;
    uint8_t seen; /* reply and final result of the current step */
    uint8_t skip; /* steps to skip after the current one (cellota_at_skip) */
    uint8_t urc_count;
    /* input */
    uint8_t receive_state;
    bool line_damaged, line_overflow, chunk_damaged;
    bool data_damaged;
    bool blank_due;  /* the next line must start with CR or LF (CELLOTA_AT_BLANK_AFTER_DATA) */
    uint8_t trailer; /* CR LF bytes after the data already checked */
    uint8_t pushed;  /* the block is pushed data: 0 no, 1 waiting for its destination, 2 read */
    uint8_t carried; /* bytes read past a waiting pushed block's header, kept in `line` */
    bool carried_damaged; /* ... from a read the UART flagged */
    /* output */
    uint8_t command_length, command_written;
    uint16_t line_length;
    int16_t modem_error; /* number of the last +CME ERROR (-1 when it had none) */

    const cellota_port *port;
    const cellota_at_urc *urcs;
    void *urc_user;

    const cellota_at_step *steps;
    const cellota_at_parameters *parameters;
    cellota_at_done done;
    void *user;
    int step_result; /* first error a handler or a damaged block recorded */
    int retry_error; /* the error a step ends with when its retries run out */
    uint32_t now, deadline, last_byte;

    /* the payload after the prompt */
    const uint8_t *payload; /* NULL: the owner pushes it with cellota_at_write_payload */
    uint32_t payload_length, payload_written;

    /* the data block being read */
    uint8_t *data; /* NULL: data of this length is skipped */
    uint32_t data_length, data_filled;

    /* a data block the modem pushed (a URC with data): who is told when it ends */
    cellota_at_data_end pushed_end;
    void *pushed_user;

    /* what went by, for diagnostics and tests; binary_lines: lines with bytes no modem text
     * has (control or 8-bit bytes) -- data parsed as text, e.g. after a lost data header */
    uint32_t damaged_lines, framing_errors, echoes, binary_lines;

    char command[CELLOTA_AT_COMMAND_SIZE]; /* the command being written */
    char line[CELLOTA_AT_LINE_SIZE];       /* the line being read */
};

/*
 * Prepares the engine. `urcs` (may be NULL with count 0) stays in use for the engine's life;
 * `urc_user` is given to URC handlers.
 */
void cellota_at_init(cellota_at *at, const cellota_port *port, const cellota_at_urc *urcs,
                     uint8_t urc_count, void *urc_user);

/*
 * Starts a script. `parameters` and `steps` must stay valid until `done` is called; `done` is
 * called from cellota_at_poll (never from this function).
 * Returns CELLOTA_IN_PROGRESS, CELLOTA_BUSY while another script runs, or
 * CELLOTA_INVALID_ARGUMENT for an empty script.
 */
int cellota_at_start(cellota_at *at, const cellota_at_step *steps, uint8_t count,
                     const cellota_at_parameters *parameters, cellota_at_done done, void *user,
                     uint32_t now);

/* Moves bytes both ways, dispatches lines, advances the script, runs timeouts. Never waits. */
void cellota_at_poll(cellota_at *at, uint32_t now);

/* True while a script runs. */
bool cellota_at_busy(const cellota_at *at);

/*
 * Abandons the running script without calling its `done`: what the modem still sends of it is
 * absorbed during CELLOTA_AT_SETTLE_MS of silence before the next script can start (busy until
 * then). Nothing happens when no script runs.
 */
void cellota_at_cancel(cellota_at *at);

/*
 * Payload for the next PROMPT step of the running script (a socket's send buffer). Without
 * one, the owner pushes the payload with cellota_at_write_payload once the prompt came.
 */
void cellota_at_set_payload(cellota_at *at, const uint8_t *payload, uint32_t length);

/*
 * Writes payload bytes straight to the UART while a PROMPT step without a payload buffer is
 * past its prompt (the modem's file write). Returns how many bytes were taken: 0 before the
 * prompt, when the UART is full, or when the step's length (%n) is complete.
 */
size_t cellota_at_write_payload(cellota_at *at, const uint8_t *data, size_t length);

/*
 * From the reply handler of a PROMPT step whose modem asks for the payload with a line rather
 * than '>' (SIM7000/SIM7070 AT+CFSWFILE answers "DOWNLOAD"): the payload goes now. Nothing
 * happens outside a PROMPT step waiting for its prompt.
 */
void cellota_at_begin_payload(cellota_at *at);

/*
 * From a handler of a length header: the next `length` bytes are data for `destination`
 * (NULL: skip them). For an INLINE_DATA step the data starts right after the header's comma,
 * otherwise after the header line's CR LF.
 */
void cellota_at_expect_data(cellota_at *at, uint8_t *destination, uint32_t length);

/*
 * From a URC handler of a modem that pushes received data unasked (a header line, then `length`
 * bytes): those bytes are the next data block. The engine reads none of them until
 * cellota_at_take_pushed_data says where they go, so a receiver without room holds the line
 * back -- with RTS/CTS the modem waits; without, the UART overruns and the block is flagged
 * damaged. `end` is called once, from cellota_at_poll (or take): CELLOTA_OK when every byte
 * arrived unflagged and the CR LF after them came (or the line stayed quiet for
 * CELLOTA_AT_PUSH_QUIET_MS after the last byte: nothing followed); CELLOTA_AT_DATA_DAMAGED when
 * the UART flagged a byte; CELLOTA_AT_DATA_FRAMING when the bytes after the block were not CR LF
 * or the block never completed (bytes lost). Only an OK block's bytes may be used.
 * Returns false, and takes nothing, when a data block is already being read (the header is
 * then data parsed as text or a modem fault: the caller treats its stream as broken).
 */
bool cellota_at_expect_pushed_data(cellota_at *at, uint32_t length, cellota_at_data_end end,
                                   void *user);

/* True while a pushed block waits for cellota_at_take_pushed_data. */
bool cellota_at_pushed_waiting(const cellota_at *at);

/* Where the waiting pushed block goes (room for its whole length), or NULL to skip it. */
void cellota_at_take_pushed_data(cellota_at *at, uint8_t *destination);

/* From a handler: skip the next `count` steps of the script (e.g. "already connected"). */
void cellota_at_skip(cellota_at *at, uint8_t count);

/* From a handler: returns CELLOTA_AT_AGAIN and sets the error the step ends with when its
 * attempts run out. */
int cellota_at_retry(cellota_at *at, int give_up_error);

/* From a handler: the whole line being dispatched (for patterns that begin with the number
 * a handler needs, like SIM800's "0, CLOSED"). */
const char *cellota_at_line(const cellota_at *at);

/* Hands a line to the URC table as if it had arrived on its own (for a handler whose pattern
 * took a line that is not its own). */
void cellota_at_dispatch_urc(cellota_at *at, const char *line);

/*
 * Matches `pattern` (see above) against the start of `line`. Returns the text after the
 * matched part, or NULL when it does not match.
 */
const char *cellota_at_match(const char *line, const char *pattern);

/* True when `pattern` matches the whole of `text`. */
bool cellota_at_is(const char *text, const char *pattern);

/*
 * Parses up to `capacity` comma-separated integers (spaces allowed around them) from `text`.
 * Stops at the first field that is not an integer. Returns how many were parsed.
 */
int cellota_at_integers(const char *text, int32_t *values, int capacity);

#endif
