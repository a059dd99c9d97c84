/*
 * The AT engine (see engine.h): a line and length-prefixed-data parser fed from the UART, and a
 * script runner that sends each step's command and waits for the lines it needs.
 *
 * Why the data path is careful: a firmware image crosses this parser. Bytes are only ever
 * counted, never searched for terminators, once a length header has been read; the step that
 * asked for them ends successfully only when the bytes after the data are the CR LF the modem
 * puts there and the final result code follows. Anything the UART flagged, and any line lost,
 * fails the step, and the owner (a socket) turns that into a fault instead of passing data up.
 */
#include "at/engine.h"

#include "core/compiler.h"
#include "core/error.h"

#include <string.h>

enum phase {
    PHASE_IDLE = 0,
    PHASE_BEGIN,   /* the step is next: format its command */
    PHASE_COMMAND, /* writing the command */
    PHASE_PROMPT,  /* waiting for '>' */
    PHASE_PAYLOAD, /* writing the payload */
    PHASE_REPLY,   /* waiting for the reply and the final result */
    PHASE_PAUSE,   /* between two attempts of a step */
    PHASE_SETTLE   /* a step failed mid-reply: waiting for silence before reporting */
};

enum receive_state {
    RECEIVE_LINE = 0,
    RECEIVE_HEADER_LF,  /* the header ended with CR: its LF may follow before the data */
    RECEIVE_HEADER_END, /* (while a header is dispatched) it ended with LF */
    RECEIVE_DATA,
    RECEIVE_TRAILER, /* the CR LF after the data */
    RECEIVE_URC_LINE /* a line where data was expected: a URC, or the framing is lost */
};

enum seen { SEEN_REPLY = 1u << 0, SEEN_FINAL = 1u << 1, SEEN_SUSPECT = 1u << 2 };

enum pushed { PUSHED_NONE = 0, PUSHED_WAITING, PUSHED_READING };

/* A poll moves at most this many UART reads, so one call never runs for long. */
#define READS_PER_POLL 32
/* Bytes taken from the UART at a time while lines are parsed. */
#define LINE_CHUNK 32
/* A waiting pushed block keeps the rest of a chunk in the line buffer. */
typedef char line_holds_a_chunk[LINE_CHUNK <= CELLOTA_AT_LINE_SIZE ? 1 : -1];

static bool step_active(const cellota_at *at)
{
    return at->phase == PHASE_PROMPT || at->phase == PHASE_PAYLOAD || at->phase == PHASE_REPLY;
}

static const cellota_at_step *current_step(const cellota_at *at)
{
    return &at->steps[at->step_index];
}

void cellota_at_init(cellota_at *at, const cellota_port *port, const cellota_at_urc *urcs,
                     uint8_t urc_count, void *urc_user)
{
    memset(at, 0, sizeof(*at));
    at->port = port;
    at->urcs = urcs;
    at->urc_count = urc_count;
    at->urc_user = urc_user;
    at->modem_error = -1;
}

bool cellota_at_busy(const cellota_at *at)
{
    return at->phase != PHASE_IDLE;
}

int cellota_at_start(cellota_at *at, const cellota_at_step *steps, uint8_t count,
                     const cellota_at_parameters *parameters, cellota_at_done done, void *user,
                     uint32_t now)
{
    if (at->phase != PHASE_IDLE)
        return CELLOTA_BUSY;
    if (!steps || count == 0)
        return CELLOTA_INVALID_ARGUMENT;
    at->steps = steps;
    at->step_count = count;
    at->step_index = 0;
    at->attempt = 0;
    at->parameters = parameters;
    at->done = done;
    at->user = user;
    at->now = now;
    at->phase = PHASE_BEGIN;
    return CELLOTA_IN_PROGRESS;
}

void cellota_at_set_payload(cellota_at *at, const uint8_t *payload, uint32_t length)
{
    if (!CELLOTA_AT_PAYLOADS)
        return;
    at->payload = payload;
    at->payload_length = length;
}

void cellota_at_cancel(cellota_at *at)
{
    if (at->phase == PHASE_IDLE)
        return;
    at->done = NULL;
    at->step_result = CELLOTA_TIMEOUT;
    at->phase = PHASE_SETTLE;
    at->deadline = at->now + CELLOTA_AT_SETTLE_MS;
}

/* ---- patterns and numbers -------------------------------------------------------------- */

const char *cellota_at_match(const char *line, const char *pattern)
{
    while (*pattern) {
        if (*pattern == '#') {
            if (*line < '0' || *line > '9')
                return NULL;
            while (*line >= '0' && *line <= '9')
                line++;
        } else if (*pattern == ' ') {
            while (*line == ' ')
                line++;
        } else if (*line++ != *pattern) {
            return NULL;
        }
        pattern++;
    }
    return line;
}

bool cellota_at_is(const char *text, const char *pattern)
{
    const char *rest = cellota_at_match(text, pattern);
    return rest && *rest == '\0';
}

int cellota_at_integers(const char *text, int32_t *values, int capacity)
{
    int count = 0;
    while (count < capacity) {
        int32_t value = 0;
        int digits = 0;
        bool negative = false;
        while (*text == ' ')
            text++;
        if (*text == '-') {
            negative = true;
            text++;
        }
        /* Nine digits at most: larger numbers are not lengths or codes a modem sends. */
        while (*text >= '0' && *text <= '9' && digits < 9) {
            value = value * 10 + (*text++ - '0');
            digits++;
        }
        if (digits == 0 || (*text >= '0' && *text <= '9'))
            break;
        while (*text == ' ')
            text++;
        values[count++] = negative ? -value : value;
        if (*text != ',')
            break;
        text++;
    }
    return count;
}

/* ---- commands --------------------------------------------------------------------------- */

/* A template letter's place: texts first (0..CELLOTA_AT_TEXTS-1), then numbers; -1: none. */
static int letter_index(char letter)
{
    static const char letters[] = CELLOTA_AT_TEXT_LETTERS CELLOTA_AT_NUMBER_LETTERS;
    int index;
    for (index = 0; letters[index]; index++) {
        if (letters[index] == letter)
            return index;
    }
    return -1;
}

/* An OPTIONAL step is skipped when a setting it carries is absent (links, lengths, offsets and
 * ports are never settings, so zero there is a value). */
static bool lacks_setting(const cellota_at_parameters *parameters, const char *template)
{
    for (; *template; template ++) {
        int letter;
        if (*template != '%' || !template[1])
            continue;
        letter = letter_index(*++template);
        if (!parameters)
            return true;
        if (letter >= 0 && letter < CELLOTA_AT_TEXTS &&
            (!parameters->text[letter] || !parameters->text[letter][0]))
            return true;
        if (letter > CELLOTA_AT_TEXTS + CELLOTA_AT_PORT &&
            parameters->number[letter - CELLOTA_AT_TEXTS] == 0)
            return true;
    }
    return false;
}

static int format_command(cellota_at *at, const char *template)
{
    const cellota_at_parameters *parameters = at->parameters;
    size_t used = 0;
    int letter;
    const size_t room = sizeof(at->command) - 1; /* the final CR */

    for (; *template; template ++) {
        char digits[10];
        const char *insert = digits;
        size_t length;

        if (*template != '%') {
            digits[0] = *template;
            length = 1;
        } else if (template[1] == '%' || !template[1]) {
            digits[0] = '%';
            length = 1;
            template += template[1] ? 1 : 0;
        } else if ((letter = letter_index(*++template)) >= CELLOTA_AT_TEXTS) {
            uint32_t value = parameters ? parameters->number[letter - CELLOTA_AT_TEXTS] : 0;
            size_t index = sizeof(digits);
            do {
                digits[--index] = (char)('0' + value % 10);
                value /= 10;
            } while (value);
            insert = digits + index;
            length = sizeof(digits) - index;
        } else if (letter >= 0) {
            const char *scan;
            insert = parameters && parameters->text[letter] ? parameters->text[letter] : "";
            for (scan = insert; *scan; scan++) {
                /* A quote or control character would end or split the command. */
                if (*scan == '"' || (unsigned char)*scan < 0x20 || *scan == 0x7f)
                    return CELLOTA_AT_BAD_PARAMETER;
            }
            length = (size_t)(scan - insert);
        } else {
            return CELLOTA_INVALID_ARGUMENT;
        }
        if (used + length > room)
            return CELLOTA_AT_COMMAND_TOO_LONG;
        memcpy(at->command + used, insert, length);
        used += length;
    }
    at->command[used++] = '\r';
    at->command_length = (uint8_t)used;
    at->command_written = 0;
    return CELLOTA_OK;
}

/* ---- the script ------------------------------------------------------------------------- */

static void finish(cellota_at *at, int result)
{
    cellota_at_done done = at->done;
    void *user = at->user;
    at->phase = PHASE_IDLE;
    at->steps = NULL;
    at->payload = NULL;
    at->payload_length = 0;
    if (done)
        done(user, result);
}

/* Failures worth another attempt of the same step; a handler's own verdict is final. */
static bool retryable(int result)
{
    switch (result) {
    case CELLOTA_AT_AGAIN:
    case CELLOTA_AT_REPLY_TIMEOUT:
    case CELLOTA_AT_COMMAND_FAILED:
    case CELLOTA_AT_MODEM_ERROR:
    case CELLOTA_AT_SIM_BUSY:
    case CELLOTA_AT_SIM_MISSING:
        return true;
    default:
        return false;
    }
}

static void end_step(cellota_at *at)
{
    const cellota_at_step *step = current_step(at);
    int result = at->step_result;
    bool quiet = (at->seen & SEEN_FINAL) && !(at->seen & SEEN_SUSPECT);

    if (result == CELLOTA_OK) {
        at->step_index = (uint8_t)(at->step_index + 1 + at->skip);
        at->attempt = 0;
        at->phase = PHASE_BEGIN;
        if (at->step_index >= at->step_count)
            finish(at, CELLOTA_OK);
        return;
    }
    if (CELLOTA_AT_RETRIES && retryable(result) &&
        at->attempt + 1 < (step->attempts ? step->attempts : 1)) {
        at->attempt++;
        at->phase = PHASE_PAUSE;
        at->deadline = at->now + CELLOTA_AT_RETRY_MS;
        return;
    }
    if (result == CELLOTA_AT_AGAIN)
        result = at->retry_error ? at->retry_error : CELLOTA_AT_REPLY_TIMEOUT;
    if (quiet) {
        finish(at, result);
        return;
    }
    /* The modem may still be talking about the failed command: let it finish first. */
    at->step_result = result;
    at->phase = PHASE_SETTLE;
    at->deadline = at->now + CELLOTA_AT_SETTLE_MS;
}

static CELLOTA_OUT_OF_LINE void record(cellota_at *at, int result)
{
    if (at->step_result == CELLOTA_OK || at->step_result == CELLOTA_AT_AGAIN)
        at->step_result = result;
}

static CELLOTA_OUT_OF_LINE void begin_step(cellota_at *at)
{
    while (at->step_index < at->step_count) {
        const cellota_at_step *step = current_step(at);
        if (CELLOTA_AT_OPTIONAL_STEPS && (step->flags & CELLOTA_AT_OPTIONAL) && step->command &&
            lacks_setting(at->parameters, step->command)) {
            at->step_index++;
            continue;
        }
        at->seen = 0;
        at->skip = 0;
        at->step_result = CELLOTA_OK;
        at->retry_error = 0;
        at->payload_written = 0;
        at->blank_due = false;
        at->deadline = at->now + (uint32_t)step->timeout * 100u;
        if (step->command) {
            /* Without payloads a PROMPT step cannot run: fail it before anything is sent. */
            int result = !CELLOTA_AT_PAYLOADS && (step->flags & CELLOTA_AT_PROMPT)
                             ? CELLOTA_INVALID_ARGUMENT
                             : format_command(at, step->command);
            if (result != CELLOTA_OK) {
                finish(at, result);
                return;
            }
            at->phase = PHASE_COMMAND;
        } else {
            at->phase = PHASE_REPLY;
        }
        return;
    }
    finish(at, CELLOTA_OK);
}

static int modem_error(cellota_at *at, const char *text)
{
    /* Numeric codes of 3GPP TS 27.007 and the verbose texts of AT+CMEE=2 for the SIM states
     * a device meets in the field; everything else is a plain equipment error. */
    static const struct {
        uint8_t number;
        const char *text;
    } known[] = {{10, "SIM not inserted"}, {11, "SIM PIN required"}, {12, "SIM PUK required"},
                 {13, "SIM failure"},      {14, "SIM busy"},         {15, "SIM wrong"}};
    int32_t number = -1;
    size_t index;

    if (!CELLOTA_AT_SIM_STATES) {
        at->modem_error = (int16_t)(cellota_at_integers(text, &number, 1) == 1 ? number : -1);
        return CELLOTA_AT_MODEM_ERROR;
    }
    if (cellota_at_integers(text, &number, 1) != 1) {
        number = -1;
        for (index = 0; index < sizeof(known) / sizeof(known[0]); index++) {
            if (cellota_at_is(text, known[index].text))
                number = known[index].number;
        }
    }
    at->modem_error = (int16_t)number;
    switch (number) {
    case 10:
        return CELLOTA_AT_SIM_MISSING;
    case 11:
    case 12:
    case 17:
    case 18:
        return CELLOTA_AT_SIM_LOCKED;
    case 13:
    case 15:
        return CELLOTA_AT_SIM_FAILURE;
    case 14:
        return CELLOTA_AT_SIM_BUSY;
    default:
        return CELLOTA_AT_MODEM_ERROR;
    }
}

/* A final result code for the running step: true when the line was one. */
static bool final_result(cellota_at *at, const char *line)
{
    const cellota_at_step *step = current_step(at);
    const char *rest;
    int error;

    if (cellota_at_is(line, "OK")) {
        at->seen |= SEEN_FINAL;
        if (at->phase != PHASE_REPLY) {
            record(at, CELLOTA_AT_UNEXPECTED_REPLY); /* OK instead of the prompt */
            end_step(at);
        } else if ((at->seen & SEEN_SUSPECT) || at->step_result != CELLOTA_OK ||
                   (!(step->flags & CELLOTA_AT_NO_OK) &&
                    ((at->seen & SEEN_REPLY) || !step->reply ||
                     (step->flags & CELLOTA_AT_REPLY_OPTIONAL)))) {
            end_step(at);
        }
        return true;
    }
    if (cellota_at_is(line, "ERROR"))
        error = CELLOTA_AT_COMMAND_FAILED;
    else if ((rest = cellota_at_match(line, "+CME ERROR:")) != NULL)
        error = modem_error(at, rest + (*rest == ' '));
    else if (cellota_at_match(line, "+CMS ERROR:"))
        error = CELLOTA_AT_MODEM_ERROR;
    else
        return false;
    at->seen |= SEEN_FINAL;
    if (!(step->flags & CELLOTA_AT_ERROR_OK) || (at->seen & SEEN_SUSPECT))
        record(at, error);
    end_step(at);
    return true;
}

static void reply(cellota_at *at, const char *arguments)
{
    const cellota_at_step *step = current_step(at);
    int result = step->handler ? step->handler(at->user, at, arguments) : CELLOTA_OK;

    if (result == CELLOTA_IN_PROGRESS)
        return;
    if (result == CELLOTA_OK)
        at->seen |= SEEN_REPLY;
    else
        record(at, result);
    if ((step->flags & CELLOTA_AT_NO_OK) || (at->seen & SEEN_FINAL))
        end_step(at);
}

const char *cellota_at_line(const cellota_at *at)
{
    return at->line;
}

void cellota_at_dispatch_urc(cellota_at *at, const char *line)
{
    uint8_t index;
    for (index = 0; CELLOTA_AT_URCS && index < at->urc_count; index++) {
        const char *rest = cellota_at_match(line, at->urcs[index].pattern);
        if (rest) {
            if (at->urcs[index].handler)
                at->urcs[index].handler(at->urc_user, at, rest);
            return;
        }
    }
}

static bool is_echo(const char *line)
{
    return (line[0] == 'A' || line[0] == 'a') && (line[1] == 'T' || line[1] == 't');
}

static CELLOTA_OUT_OF_LINE void dispatch(cellota_at *at, const char *line, bool damaged)
{
    if (damaged) {
        at->damaged_lines++;
        /* The lost line may have been the reply or a length header: nothing until this step's
         * end can be trusted, and the step cannot succeed. */
        if (step_active(at)) {
            at->seen |= SEEN_SUSPECT;
            record(at, CELLOTA_AT_DATA_DAMAGED);
        }
        return;
    }
    if (step_active(at)) {
        const cellota_at_step *step = current_step(at);
        const char *rest;
        if (final_result(at, line) || (at->seen & SEEN_SUSPECT))
            return; /* after a lost line, only the final result code counts */
        if (!is_echo(line) && step->reply && (rest = cellota_at_match(line, step->reply))) {
            reply(at, rest);
            return;
        }
    } else if (at->phase == PHASE_SETTLE) {
        return; /* leftovers of a failed step, possibly binary: not URCs */
    }
    if (is_echo(line)) {
        at->echoes++;
        return;
    }
    cellota_at_dispatch_urc(at, line);
}

/* ---- input ------------------------------------------------------------------------------ */

void cellota_at_expect_data(cellota_at *at, uint8_t *destination, uint32_t length)
{
    /* The receive state says where the header ended: mid-line (an inline header, state LINE),
     * at CR (its LF may follow) or at LF. A complete-line header of an INLINE_DATA step is
     * malformed: its data would be taken from the wrong place. */
    if (length == 0)
        return;
    if (CELLOTA_AT_INLINE && at->receive_state != RECEIVE_LINE && step_active(at) &&
        (current_step(at)->flags & CELLOTA_AT_INLINE_DATA)) {
        record(at, CELLOTA_AT_UNEXPECTED_REPLY);
        return;
    }
    at->data = destination;
    at->data_length = length;
    at->data_filled = 0;
    at->data_damaged = false;
    at->trailer = 0;
}

bool cellota_at_expect_pushed_data(cellota_at *at, uint32_t length, cellota_at_data_end end,
                                   void *user)
{
    /* data_length is cleared before every line is dispatched: it is set here only when this
     * header arrived between another block's header and its data. */
    if (!CELLOTA_AT_URCS || length == 0 || at->data_length != 0 || at->pushed != PUSHED_NONE)
        return false;
    at->data = NULL;
    at->data_length = length;
    at->data_filled = 0;
    at->data_damaged = false;
    at->trailer = 0;
    at->pushed = PUSHED_WAITING;
    at->pushed_end = end;
    at->pushed_user = user;
    return true;
}

bool cellota_at_pushed_waiting(const cellota_at *at)
{
    return at->pushed == PUSHED_WAITING;
}

static void consume(cellota_at *at, const uint8_t *bytes, size_t count);

void cellota_at_take_pushed_data(cellota_at *at, uint8_t *destination)
{
    uint8_t carried[LINE_CHUNK];
    size_t count = at->carried;
    bool damaged = at->chunk_damaged;
    if (at->pushed != PUSHED_WAITING)
        return;
    at->data = destination;
    at->pushed = PUSHED_READING;
    at->last_byte = at->now; /* the block's silence counts from here */
    if (count == 0)
        return; /* (also when called from a handler, in the middle of a chunk) */
    /* The bytes read past the header while it waited come first, flagged as their read was. */
    at->carried = 0;
    memcpy(carried, at->line, count);
    at->chunk_damaged = at->carried_damaged;
    consume(at, carried, count);
    at->chunk_damaged = damaged;
}

/* A pushed block ended: its owner learns how, once. */
static void pushed_end(cellota_at *at, int result)
{
    cellota_at_data_end end = at->pushed_end;
    at->pushed = PUSHED_NONE;
    at->pushed_end = NULL;
    if (end)
        end(at->pushed_user, result);
}

void cellota_at_skip(cellota_at *at, uint8_t count)
{
    at->skip = count;
}

int cellota_at_retry(cellota_at *at, int give_up_error)
{
    at->retry_error = give_up_error;
    return CELLOTA_AT_AGAIN;
}

static void reset_line(cellota_at *at)
{
    at->line_length = 0;
    at->line_damaged = false;
    at->line_overflow = false;
}

/* True when the line has a byte no modem's text has: data being parsed as text. */
static bool binary_line(const char *line)
{
    for (; *line; line++) {
        unsigned char byte = (unsigned char)*line;
        if (byte < 0x20u || byte > 0x7eu)
            return true;
    }
    return false;
}

static CELLOTA_OUT_OF_LINE void end_line(cellota_at *at, uint8_t terminator)
{
    bool damaged = at->line_damaged;
    bool overflow = at->line_overflow;
    at->line[at->line_length] = '\0';
    reset_line(at);
    if (overflow && !damaged) {
        at->damaged_lines++; /* too long to be a reply or URC this engine knows */
        if (CELLOTA_AT_URCS)
            at->binary_lines++;
        return;
    }
    if (CELLOTA_AT_URCS && binary_line(at->line))
        at->binary_lines++;
    at->receive_state = terminator == '\r' ? RECEIVE_HEADER_LF : RECEIVE_HEADER_END;
    at->data_length = 0;
    dispatch(at, at->line, damaged);
    if (at->data_length == 0)
        at->receive_state = RECEIVE_LINE;
    else if (at->receive_state == RECEIVE_HEADER_END)
        at->receive_state = RECEIVE_DATA;
}

/* On a ',' in a reply of an INLINE_DATA step: the header is complete when the line is the
 * reply pattern followed by one number and this comma. */
static void check_inline_header(cellota_at *at)
{
    const cellota_at_step *step;
    const char *rest, *after;

    if (!CELLOTA_AT_INLINE || at->phase != PHASE_REPLY)
        return;
    step = current_step(at);
    if (!(step->flags & CELLOTA_AT_INLINE_DATA) || !step->reply || at->line_damaged ||
        at->line_overflow || (at->seen & SEEN_SUSPECT))
        return;
    at->line[at->line_length] = '\0';
    rest = cellota_at_match(at->line, step->reply);
    after = rest ? cellota_at_match(rest, "#,") : NULL;
    if (!after || *after != '\0')
        return;
    reset_line(at);
    at->data_length = 0;
    reply(at, rest);
    if (at->data_length != 0)
        at->receive_state = RECEIVE_DATA;
}

static void line_byte(cellota_at *at, uint8_t byte)
{
    if (at->blank_due) {
        at->blank_due = false;
        if (byte != '\r' && byte != '\n' && step_active(at)) {
            at->framing_errors++;
            record(at, CELLOTA_AT_DATA_FRAMING);
        }
    }
    if (byte == '\r' || byte == '\n') {
        if (at->line_length > 0)
            end_line(at, byte);
        else
            reset_line(at);
        return;
    }
    if (at->line_length == 0) {
        if (byte == ' ')
            return;
        if (CELLOTA_AT_PAYLOADS && byte == '>' && at->phase == PHASE_PROMPT) {
            at->phase = PHASE_PAYLOAD;
            return;
        }
    }
    if (at->chunk_damaged)
        at->line_damaged = true;
    if (at->line_length < sizeof(at->line) - 1)
        at->line[at->line_length++] = (char)byte;
    else
        at->line_overflow = true;
    if (CELLOTA_AT_INLINE && byte == ',')
        check_inline_header(at);
}

static void framing_error(cellota_at *at)
{
    at->framing_errors++;
    if (step_active(at)) {
        at->seen |= SEEN_SUSPECT;
        record(at, CELLOTA_AT_DATA_FRAMING);
    }
    at->data = NULL;
    at->data_length = 0;
    at->receive_state = RECEIVE_LINE;
    reset_line(at);
}

/* A line that arrived where data was expected is complete: if it is a URC, it came between
 * the length header and its data -- dispatch it and start the data after it. */
static bool unsolicited_line_done(cellota_at *at, uint8_t terminator)
{
    uint8_t index;
    at->line[at->line_length] = '\0';
    if (!CELLOTA_AT_URCS)
        return false;
    for (index = 0; index < at->urc_count; index++) {
        if (cellota_at_match(at->line, at->urcs[index].pattern))
            break;
    }
    if (index == at->urc_count || at->line_overflow || at->data_damaged)
        return false;
    reset_line(at);
    cellota_at_dispatch_urc(at, at->line);
    at->data_filled = 0;
    at->trailer = 0;
    at->receive_state = terminator == '\r' ? RECEIVE_HEADER_LF : RECEIVE_DATA;
    return true;
}

static void unsolicited_byte(cellota_at *at, uint8_t byte)
{
    if (byte == '\r' || byte == '\n') {
        if (at->line_length > 0 && !unsolicited_line_done(at, byte))
            framing_error(at);
        return;
    }
    if (at->line_length < sizeof(at->line) - 1)
        at->line[at->line_length++] = (char)byte;
    else
        at->line_overflow = true;
}

/*
 * The bytes after a data block were not CR LF. Either a URC came between the length header and
 * its data (the block then starts with that line), or bytes were lost or added on the line.
 * The block's bytes are replayed as a line: a URC is dispatched and the data read again after
 * it; anything else is a framing error, and the rest is parsed as lines (the final OK ends the
 * step, which fails).
 */
static void trailer_mismatch(cellota_at *at)
{
    uint32_t stored = at->data_filled, count = stored + at->trailer, index;
    uint8_t *block = at->data;

    /* A pushed block's header and data travel together: nothing comes between them. */
    if (CELLOTA_AT_URCS && at->pushed) {
        framing_error(at);
        pushed_end(at, CELLOTA_AT_DATA_FRAMING);
        return;
    }

    /* Without URCs the block cannot have started with one: the framing is lost. */
    if (!CELLOTA_AT_URCS || !block || at->data_damaged) {
        framing_error(at);
        return;
    }
    at->receive_state = RECEIVE_URC_LINE;
    at->data_filled = 0;
    reset_line(at);
    /* Bytes move only towards the start (a URC line and its terminator come first), so the
     * block is rewritten in place. */
    for (index = 0; index < count; index++) {
        uint8_t byte = index < stored ? block[index] : '\r';
        switch (at->receive_state) {
        case RECEIVE_URC_LINE:
            unsolicited_byte(at, byte);
            break;
        case RECEIVE_HEADER_LF:
            at->receive_state = RECEIVE_DATA;
            if (byte == '\n')
                break;
            /* fall through */
        case RECEIVE_DATA:
            block[at->data_filled++] = byte;
            break;
        default:
            line_byte(at, byte);
            break;
        }
    }
}

/*
 * The trailer matched, but the block may still be a URC that came between the length header and
 * its data and filled the requested length exactly: "\r\n+CIPRXGET: 1,0" is 16 bytes, as many as
 * four MQTT PUBACKs, and its own CR LF then passes for the trailer. A block that is CR LF and a
 * line the URC table knows is taken for that URC (data that genuinely reads so is far less
 * likely than the quirk): it is dispatched and the data read again after it. True when it was.
 */
static bool block_was_urc(cellota_at *at)
{
    uint32_t length = at->data_length, index;
    uint8_t urc;
    if (!CELLOTA_AT_URCS || at->pushed || !at->data || at->data_damaged || length < 3 ||
        length - 2 >= sizeof(at->line) || at->data[0] != '\r' || at->data[1] != '\n')
        return false;
    for (index = 2; index < length; index++) {
        if (at->data[index] == '\r' || at->data[index] == '\n')
            return false;
        at->line[index - 2] = (char)at->data[index];
    }
    at->line[length - 2] = '\0';
    for (urc = 0; urc < at->urc_count; urc++) {
        if (cellota_at_match(at->line, at->urcs[urc].pattern))
            break;
    }
    if (urc == at->urc_count)
        return false;
    reset_line(at);
    cellota_at_dispatch_urc(at, at->line);
    at->data_filled = 0;
    at->trailer = 0;
    at->receive_state = RECEIVE_DATA;
    return true;
}

static void data_complete(cellota_at *at)
{
    if (CELLOTA_AT_URCS && at->pushed) {
        bool damaged = at->data_damaged;
        at->data = NULL;
        at->data_length = 0;
        at->receive_state = RECEIVE_LINE;
        pushed_end(at, damaged ? CELLOTA_AT_DATA_DAMAGED : CELLOTA_OK);
        return;
    }
    /* The trailer is intact, so the framing holds: the block is bad, the lines around it not. */
    if (at->data_damaged && step_active(at))
        record(at, CELLOTA_AT_DATA_DAMAGED);
    /* Unless two bytes of the block were lost and its own CR LF became its end: then the CR LF
     * taken as the trailer was the one starting the next line, and that line comes without. */
    at->blank_due = CELLOTA_AT_BLANK_CHECK && at->data && at->data_length >= 2 && step_active(at) &&
                    (current_step(at)->flags & CELLOTA_AT_BLANK_AFTER_DATA) &&
                    at->data[at->data_length - 2] == '\r' && at->data[at->data_length - 1] == '\n';
    at->data = NULL;
    at->data_length = 0;
    at->receive_state = RECEIVE_LINE;
}

static CELLOTA_OUT_OF_LINE void consume(cellota_at *at, const uint8_t *bytes, size_t count)
{
    size_t index = 0;
    while (index < count) {
        if (CELLOTA_AT_URCS && at->pushed == PUSHED_WAITING) {
            /* The rest of this chunk belongs to a pushed block without a destination yet: keep
             * it in the line buffer (unused while data is read) until there is one. */
            at->carried = (uint8_t)(count - index);
            at->carried_damaged = at->chunk_damaged;
            memcpy(at->line, bytes + index, count - index);
            return;
        }
        switch (at->receive_state) {
        case RECEIVE_HEADER_LF:
            at->receive_state = RECEIVE_DATA;
            if (bytes[index] == '\n')
                index++;
            break;
        case RECEIVE_DATA: {
            size_t run = count - index;
            if (run > at->data_length - at->data_filled)
                run = at->data_length - at->data_filled;
            if (at->data)
                memcpy(at->data + at->data_filled, bytes + index, run);
            if (at->chunk_damaged)
                at->data_damaged = true;
            at->data_filled += (uint32_t)run;
            index += run;
            if (at->data_filled == at->data_length) {
                at->receive_state = RECEIVE_TRAILER;
                at->trailer = 0;
            }
            break;
        }
        case RECEIVE_TRAILER:
            if (at->chunk_damaged)
                at->data_damaged = true;
            if (bytes[index] == (at->trailer == 0 ? '\r' : '\n')) {
                index++;
                if (++at->trailer == 2 && !block_was_urc(at))
                    data_complete(at);
            } else {
                trailer_mismatch(at); /* the byte is looked at again in the new state */
            }
            break;
        case RECEIVE_URC_LINE: /* only ever entered with URCs */
            if (CELLOTA_AT_URCS)
                unsolicited_byte(at, bytes[index]);
            index++;
            break;
        default:
            line_byte(at, bytes[index++]);
            break;
        }
    }
}

static void receive(cellota_at *at)
{
    const cellota_port *port = at->port;
    int reads;

    for (reads = 0; reads < READS_PER_POLL; reads++) {
        uint8_t chunk[LINE_CHUNK];
        size_t count;
        if (CELLOTA_AT_URCS && at->pushed == PUSHED_WAITING)
            break; /* no room for the pushed block yet: the UART holds the modem back */
        if (at->receive_state == RECEIVE_DATA && at->data) {
            /* Straight into the destination: no copy, no per-byte work. */
            count = port->uart_read(port->context, at->data + at->data_filled,
                                    at->data_length - at->data_filled);
            if (count == 0)
                break;
            if (port->uart_take_errors && port->uart_take_errors(port->context))
                at->data_damaged = true;
            at->last_byte = at->now;
            at->data_filled += (uint32_t)count;
            if (at->data_filled == at->data_length) {
                at->receive_state = RECEIVE_TRAILER;
                at->trailer = 0;
            }
            continue;
        }
        count = port->uart_read(port->context, chunk, sizeof(chunk));
        if (count == 0)
            break;
        at->chunk_damaged = port->uart_take_errors && port->uart_take_errors(port->context) != 0;
        at->last_byte = at->now;
        consume(at, chunk, count);
        at->chunk_damaged = false;
    }
}

/* ---- output and time -------------------------------------------------------------------- */

size_t cellota_at_write_payload(cellota_at *at, const uint8_t *data, size_t length)
{
    size_t written;
    uint32_t total;
    if (!CELLOTA_AT_PAYLOADS || at->phase != PHASE_PAYLOAD || at->payload || !at->parameters)
        return 0;
    total = at->parameters->number[CELLOTA_AT_LENGTH];
    if (length > total - at->payload_written)
        length = total - at->payload_written;
    written = length ? at->port->uart_write(at->port->context, data, length) : 0;
    at->payload_written += (uint32_t)written;
    if (at->payload_written == total)
        at->phase = PHASE_REPLY;
    return written;
}

void cellota_at_begin_payload(cellota_at *at)
{
    if (CELLOTA_AT_PAYLOADS && at->phase == PHASE_PROMPT)
        at->phase = PHASE_PAYLOAD;
}

static void abandon_data(cellota_at *at)
{
    if (at->receive_state != RECEIVE_LINE) {
        at->data = NULL;
        at->data_length = 0;
        at->receive_state = RECEIVE_LINE;
        at->framing_errors++;
        if (CELLOTA_AT_URCS && at->pushed)
            pushed_end(at, CELLOTA_AT_DATA_FRAMING);
    }
}

/* A pushed block being read, and the line quiet: whole if only its CR LF is missing (nothing
 * followed it), broken if its bytes stopped coming. */
static void pushed_quiet(cellota_at *at)
{
    if (at->pushed != PUSHED_READING ||
        !cellota_time_reached(at->now, at->last_byte + CELLOTA_AT_PUSH_QUIET_MS))
        return;
    if (at->receive_state == RECEIVE_TRAILER)
        data_complete(at);
    else if (cellota_time_reached(at->now, at->last_byte + CELLOTA_AT_SUSPECT_QUIET_MS))
        abandon_data(at);
}

/* Advances the script as far as it goes without input; true when something changed. */
static bool advance(cellota_at *at)
{
    const cellota_port *port = at->port;
    uint8_t phase = at->phase;

    switch (at->phase) {
    case PHASE_BEGIN:
        begin_step(at);
        break;
    case PHASE_COMMAND: {
        size_t written =
            port->uart_write(port->context, (const uint8_t *)at->command + at->command_written,
                             (size_t)(at->command_length - at->command_written));
        at->command_written = (uint8_t)(at->command_written + written);
        if (at->command_written == at->command_length)
            at->phase = (current_step(at)->flags & CELLOTA_AT_PROMPT) ? PHASE_PROMPT : PHASE_REPLY;
        else if (!written)
            break;
        return true;
    }
    case PHASE_PAYLOAD:
        if (CELLOTA_AT_PAYLOADS && at->payload && at->parameters &&
            at->payload_written < at->parameters->number[CELLOTA_AT_LENGTH]) {
            uint32_t wanted = at->parameters->number[CELLOTA_AT_LENGTH] - at->payload_written;
            size_t written;
            if (wanted > at->payload_length - at->payload_written)
                wanted = at->payload_length - at->payload_written;
            written = port->uart_write(port->context, at->payload + at->payload_written, wanted);
            at->payload_written += (uint32_t)written;
            if (at->payload_written == at->parameters->number[CELLOTA_AT_LENGTH])
                at->phase = PHASE_REPLY;
            if (written)
                return true;
        }
        break;
    case PHASE_PAUSE: /* only ever entered with retries */
        if (CELLOTA_AT_RETRIES && cellota_time_reached(at->now, at->deadline))
            at->phase = PHASE_BEGIN;
        break;
    case PHASE_SETTLE:
        if (cellota_time_reached(at->now, at->deadline) &&
            cellota_time_reached(at->now, at->last_byte + CELLOTA_AT_SETTLE_MS)) {
            abandon_data(at);
            finish(at, at->step_result);
        }
        break;
    default:
        break;
    }
    /* A step that lost a line cannot succeed; when the modem has gone quiet its final result
     * was probably the line lost: do not wait for the whole timeout. */
    if (step_active(at) && (at->seen & SEEN_SUSPECT) &&
        cellota_time_reached(at->now, at->last_byte + CELLOTA_AT_SUSPECT_QUIET_MS)) {
        abandon_data(at);
        end_step(at);
        return true;
    }
    if (step_active(at) && cellota_time_reached(at->now, at->deadline)) {
        abandon_data(at);
        record(at, CELLOTA_AT_REPLY_TIMEOUT);
        at->seen &= (uint8_t)~SEEN_FINAL;
        end_step(at);
    }
    return at->phase != phase;
}

void cellota_at_poll(cellota_at *at, uint32_t now)
{
    int rounds;
    at->now = now;
    for (rounds = 0; rounds < 8 && advance(at); rounds++) {
    }
    receive(at);
    if (CELLOTA_AT_URCS)
        pushed_quiet(at);
    for (rounds = 0; rounds < 8 && advance(at); rounds++) {
    }
}
