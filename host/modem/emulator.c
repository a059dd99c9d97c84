/*
 * The emulator's engine: the UART line in both directions (paced at the baud rate, with the
 * drop/corrupt faults and the buffers at each end), the output queue and where URCs may be
 * inserted into it, the command-line input state machine and the '>' data input, timers, power
 * and boot, registration and its injected loss, and the virtual-time poll loop that ties them
 * together. What the commands do lives in the command and dialect files.
 */
#include "emulator_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OUT_QUEUE_LIMIT (1u << 20)
#define PRODUCER_LOW_WATER 4096u
#define HELD_URC_LIMIT 8192u

/* ---- names and options ------------------------------------------------------------------------
 */

static const char *const model_names[] = {"sim7600", "sim7000", "sim7070", "sim800"};

int modem_model_from_name(const char *name, modem_model *model)
{
    size_t index;
    if (!name || !model)
        return -1;
    for (index = 0; index < sizeof(model_names) / sizeof(model_names[0]); index++) {
        if (strcasecmp(name, model_names[index]) == 0) {
            *model = (modem_model)index;
            return 0;
        }
    }
    if (strcasecmp(name, "sim800l") == 0) {
        *model = MODEM_MODEL_SIM800;
        return 0;
    }
    return -1;
}

const char *modem_model_name(modem_model model)
{
    if ((unsigned)model < sizeof(model_names) / sizeof(model_names[0]))
        return model_names[model];
    return "unknown";
}

int modem_radio_from_name(const char *name, modem_radio *radio)
{
    if (!name || !radio)
        return -1;
    if (strcasecmp(name, "cat1") == 0)
        *radio = MODEM_RADIO_CAT1;
    else if (strcasecmp(name, "catm1") == 0 || strcasecmp(name, "cat-m1") == 0)
        *radio = MODEM_RADIO_CATM1;
    else if (strcasecmp(name, "gprs") == 0)
        *radio = MODEM_RADIO_GPRS;
    else
        return -1;
    return 0;
}

void modem_emulator_default_options(modem_emulator_options *options)
{
    memset(options, 0, sizeof(*options));
    options->baud = 115200;
    options->round_trip_ms = -1;
    options->lose_registration_at_ms = -1;
    options->quirk_rate = 0.1;
    options->seed = 1;
}

/* ---- randomness and notes ---------------------------------------------------------------------
 */

uint64_t emulator_random(modem_emulator *emulator)
{
    /* xorshift64*: small, fast and reproducible from the seed */
    uint64_t x = emulator->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    emulator->random_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

bool emulator_chance(modem_emulator *emulator, double probability)
{
    if (probability <= 0.0)
        return false;
    if (probability >= 1.0)
        return true;
    return (double)(emulator_random(emulator) >> 11) * (1.0 / 9007199254740992.0) < probability;
}

void emulator_note(modem_emulator *emulator, const char *format, ...)
{
    char text[256];
    va_list arguments;
    int length;
    if (!emulator->options.log)
        return;
    va_start(arguments, format);
    length = vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof(text))
        length = sizeof(text) - 1;
    emulator->options.log(emulator->options.log_user, emulator->now_us / 1000, MODEM_LOG_NOTE,
                          (const uint8_t *)text, (size_t)length);
}

/* ---- line timing ------------------------------------------------------------------------------
 */

static uint32_t bits_per_byte(const modem_emulator *emulator)
{
    return emulator->parity ? 11u : 10u;
}

/* Bytes a line can carry in `elapsed_us`. */
static uint64_t line_bytes(const modem_emulator *emulator, uint64_t elapsed_us)
{
    return elapsed_us * emulator->baud / (bits_per_byte(emulator) * 1000000ull);
}

/* Time from the start of a burst until `count` bytes of it have arrived. */
static uint64_t line_time_us(const modem_emulator *emulator, uint64_t count)
{
    uint64_t numerator = count * bits_per_byte(emulator) * 1000000ull;
    return (numerator + emulator->baud - 1) / emulator->baud;
}

/* A byte crossing the line: maybe lost, maybe one bit flipped. Returns false when lost;
 * *flagged says whether the receiving UART notices (a flip while parity is on). */
static bool line_fault(modem_emulator *emulator, bool toward_device, uint8_t *byte, bool *flagged)
{
    modem_fault_direction direction = emulator->options.fault_direction;
    bool applies =
        direction == MODEM_FAULTS_BOTH ||
        (toward_device ? direction == MODEM_FAULTS_TO_DEVICE : direction == MODEM_FAULTS_TO_MODEM);
    *flagged = false;
    if (!applies)
        return true;
    if (emulator_chance(emulator, emulator->options.drop_rate)) {
        emulator->stats.bytes_dropped++;
        return false;
    }
    if (emulator_chance(emulator, emulator->options.corrupt_rate)) {
        *byte ^= (uint8_t)(1u << (emulator_random(emulator) % 8));
        emulator->stats.bytes_corrupted++;
        *flagged = emulator->parity; /* one flipped bit always breaks parity */
    }
    return true;
}

static void log_bytes(modem_emulator *emulator, modem_log_direction direction, const uint8_t *data,
                      size_t length)
{
    if (emulator->options.log && length)
        emulator->options.log(emulator->options.log_user, emulator->now_us / 1000, direction, data,
                              length);
}

/* Device -> modem: deliver what the line has carried by `now_us` into the modem's buffer. */
static void advance_input_line(modem_emulator *emulator)
{
    uint64_t carried, count, index;
    uint8_t chunk[256];
    if (emulator->device_tx.length == 0) {
        emulator->in_epoch_us = emulator->now_us;
        emulator->in_epoch_bytes = 0;
        return;
    }
    carried = line_bytes(emulator, emulator->now_us - emulator->in_epoch_us);
    count = carried > emulator->in_epoch_bytes ? carried - emulator->in_epoch_bytes : 0;
    if (count > emulator->device_tx.length)
        count = emulator->device_tx.length;
    if (emulator->flow_control && emulator->power == POWER_ON &&
        count > ring_room(&emulator->modem_rx)) {
        /* CTS drops: the line stalls and restarts when there is room again */
        count = ring_room(&emulator->modem_rx);
        emulator->in_epoch_us = emulator->now_us;
        emulator->in_epoch_bytes = 0;
    } else {
        emulator->in_epoch_bytes += count;
    }
    while (count > 0) {
        size_t take = count < sizeof(chunk) ? (size_t)count : sizeof(chunk);
        uint8_t kept[256];
        size_t kept_count = 0;
        ring_pop(&emulator->device_tx, chunk, take);
        count -= take;
        emulator->stats.bytes_from_device += take;
        for (index = 0; index < take; index++) {
            uint8_t byte = chunk[index];
            bool flagged;
            if (!line_fault(emulator, false, &byte, &flagged))
                continue;
            if (flagged)
                continue; /* the modem's UART discards a byte with a parity error */
            kept[kept_count++] = byte;
        }
        if (emulator->power != POWER_ON)
            continue; /* nobody listens before RDY */
        log_bytes(emulator, MODEM_LOG_FROM_DEVICE, kept, kept_count);
        emulator->stats.modem_overruns +=
            kept_count - ring_push(&emulator->modem_rx, kept, kept_count);
    }
    if (emulator->device_tx.length == 0) {
        emulator->in_epoch_us = emulator->now_us;
        emulator->in_epoch_bytes = 0;
    }
}

static void device_rx_push(modem_emulator *emulator, uint8_t byte, bool flagged)
{
    uint64_t position = emulator->device_rx.consumed + emulator->device_rx.length;
    if (ring_push(&emulator->device_rx, &byte, 1) == 0) {
        emulator->stats.device_overruns++;
        emulator->device_errors++;
        return;
    }
    emulator->stats.bytes_to_device++;
    if (flagged) {
        emulator->device_errors++;
        if (emulator->flagged_count < MODEM_FLAGGED_LIMIT) {
            emulator->flagged[(emulator->flagged_head + emulator->flagged_count) %
                              MODEM_FLAGGED_LIMIT] = position;
            emulator->flagged_count++;
        }
    }
}

static void apply_line_change(modem_emulator *emulator)
{
    if (emulator->pending_baud) {
        emulator->baud = emulator->pending_baud;
        emulator_note(emulator, "line now %u baud", (unsigned)emulator->baud);
    }
    if (emulator->pending_parity >= 0)
        emulator->parity = emulator->pending_parity != 0;
    emulator->pending_baud = 0;
    emulator->pending_parity = -1;
    emulator->out_epoch_us = emulator->now_us;
    emulator->out_epoch_bytes = 0;
    emulator->in_epoch_us = emulator->now_us;
    emulator->in_epoch_bytes = 0;
}

/* Modem -> device: move what the line has carried by `now_us` into the device's buffer. */
static void advance_output_line(modem_emulator *emulator)
{
    uint64_t carried, count, overruns = emulator->stats.device_overruns;
    uint8_t chunk[256];
    if (emulator->out.length == 0) {
        emulator->out_idle = true;
        return;
    }
    carried = line_bytes(emulator, emulator->now_us - emulator->out_epoch_us);
    count = carried > emulator->out_epoch_bytes ? carried - emulator->out_epoch_bytes : 0;
    if (count > emulator->out.length)
        count = emulator->out.length;
    if (emulator->pending_baud || emulator->pending_parity >= 0) {
        uint64_t until = emulator->pending_line_at > emulator->out.consumed
                             ? emulator->pending_line_at - emulator->out.consumed
                             : 0;
        if (count > until)
            count = until;
    }
    if (emulator->flow_control && count > ring_room(&emulator->device_rx)) {
        count = ring_room(&emulator->device_rx); /* RTS: the device holds the modem back */
        emulator->out_epoch_us = emulator->now_us;
        emulator->out_epoch_bytes = 0;
    } else {
        emulator->out_epoch_bytes += count;
    }
    while (count > 0) {
        size_t take = count < sizeof(chunk) ? (size_t)count : sizeof(chunk), index;
        ring_pop(&emulator->out, chunk, take);
        count -= take;
        log_bytes(emulator, MODEM_LOG_TO_DEVICE, chunk, take);
        if (emulator->options.drop_rate <= 0.0 && emulator->options.corrupt_rate <= 0.0) {
            /* No line faults: the chunk in one piece, as the loop below would (once the
             * device's buffer is full every further byte is an overrun). */
            size_t pushed = ring_push(&emulator->device_rx, chunk, take);
            emulator->stats.bytes_to_device += pushed;
            emulator->stats.device_overruns += take - pushed;
            emulator->device_errors += (uint32_t)(take - pushed);
            continue;
        }
        for (index = 0; index < take; index++) {
            uint8_t byte = chunk[index];
            bool flagged;
            if (line_fault(emulator, true, &byte, &flagged))
                device_rx_push(emulator, byte, flagged);
        }
    }
    if (emulator->stats.device_overruns > overruns)
        /* the lines above were logged as sent: say which of them the device never got */
        emulator_note(emulator, "device receive buffer full: %llu bytes lost (overrun)",
                      (unsigned long long)(emulator->stats.device_overruns - overruns));
    if ((emulator->pending_baud || emulator->pending_parity >= 0) &&
        emulator->out.consumed >= emulator->pending_line_at)
        apply_line_change(emulator);
    if (emulator->out.length == 0)
        emulator->out_idle = true;
}

void schedule_line_change(modem_emulator *emulator, uint32_t baud, int parity)
{
    emulator->pending_baud = baud;
    emulator->pending_parity = parity;
    /* the final OK is written after the handler returns: the change applies once the queue
     * written so far plus that OK has left (6 bytes "\r\nOK\r\n", or "0\r" with ATV0) */
    emulator->pending_line_at =
        emulator->out.consumed + emulator->out.length + (emulator->verbose ? 6 : 2);
}

/* ---- the UART as the device sees it ------------------------------------------------------------
 */

size_t modem_emulator_uart_write(void *context, const uint8_t *data, size_t length)
{
    modem_emulator *emulator = context;
    if (emulator->device_tx.length == 0) {
        emulator->in_epoch_us = emulator->now_us;
        emulator->in_epoch_bytes = 0;
    }
    return ring_push(&emulator->device_tx, data, length);
}

size_t modem_emulator_uart_read_flagged(modem_emulator *emulator, uint8_t *buffer, bool *flags,
                                        size_t capacity)
{
    uint64_t start = emulator->device_rx.consumed;
    size_t count = ring_pop(&emulator->device_rx, buffer, capacity), index;
    if (flags)
        memset(flags, 0, count * sizeof(bool));
    while (emulator->flagged_count > 0) {
        uint64_t position = emulator->flagged[emulator->flagged_head];
        if (position >= start + count)
            break;
        if (flags && position >= start)
            flags[position - start] = true;
        emulator->flagged_head = (emulator->flagged_head + 1) % MODEM_FLAGGED_LIMIT;
        emulator->flagged_count--;
    }
    (void)index;
    return count;
}

size_t modem_emulator_uart_read(void *context, uint8_t *buffer, size_t capacity)
{
    return modem_emulator_uart_read_flagged(context, buffer, NULL, capacity);
}

uint32_t modem_emulator_uart_take_errors(void *context)
{
    modem_emulator *emulator = context;
    uint32_t errors = emulator->device_errors;
    emulator->device_errors = 0;
    return errors;
}

uint32_t modem_emulator_baud(const modem_emulator *emulator)
{
    return emulator->baud;
}

bool modem_emulator_parity(const modem_emulator *emulator)
{
    return emulator->parity;
}

bool modem_emulator_powered(const modem_emulator *emulator)
{
    return emulator->power != POWER_OFF;
}

void modem_emulator_get_stats(const modem_emulator *emulator, modem_emulator_stats *stats)
{
    *stats = emulator->stats;
}

/* ---- output queue ------------------------------------------------------------------------------
 */

size_t out_pending(const modem_emulator *emulator)
{
    return emulator->out.length;
}

static void prune_safe_points(modem_emulator *emulator)
{
    int index = 0, kept = 0;
    for (; index < emulator->safe_point_count; index++)
        if (emulator->safe_points[index] >= emulator->out.consumed)
            emulator->safe_points[kept++] = emulator->safe_points[index];
    emulator->safe_point_count = kept;
}

static void add_safe_point(modem_emulator *emulator, uint64_t position)
{
    int index;
    prune_safe_points(emulator);
    for (index = 0; index < emulator->safe_point_count; index++)
        if (emulator->safe_points[index] == position)
            return;
    if (emulator->safe_point_count == MODEM_SAFE_POINTS) {
        /* forget the oldest: fewer places to insert a URC, never a wrong one */
        memmove(emulator->safe_points, emulator->safe_points + 1,
                (MODEM_SAFE_POINTS - 1) * sizeof(uint64_t));
        emulator->safe_point_count--;
    }
    index = emulator->safe_point_count;
    while (index > 0 && emulator->safe_points[index - 1] > position) {
        emulator->safe_points[index] = emulator->safe_points[index - 1];
        index--;
    }
    emulator->safe_points[index] = position;
    emulator->safe_point_count++;
}

void out_raw(modem_emulator *emulator, const void *data, size_t length)
{
    if (emulator->power == POWER_OFF || length == 0)
        return;
    if (emulator->out.length == 0 && emulator->out_idle) {
        emulator->out_epoch_us = emulator->now_us;
        emulator->out_epoch_bytes = 0;
        emulator->out_idle = false;
    }
    if (ring_push(&emulator->out, data, length) < length)
        emulator_note(emulator, "output queue full: reply truncated");
}

void out_text(modem_emulator *emulator, const char *text)
{
    out_raw(emulator, text, strlen(text));
}

void out_safe_point(modem_emulator *emulator)
{
    add_safe_point(emulator, emulator->out.consumed + emulator->out.length);
}

static size_t frame_line(const modem_emulator *emulator, char *framed, size_t capacity,
                         const char *text)
{
    int length = emulator->verbose ? snprintf(framed, capacity, "\r\n%s\r\n", text)
                                   : snprintf(framed, capacity, "%s\r\n", text);
    if (length < 0)
        return 0;
    return (size_t)length < capacity ? (size_t)length : capacity - 1;
}

void out_line_break(modem_emulator *emulator)
{
    emulator->line_end = UINT64_MAX;
}

void out_line(modem_emulator *emulator, const char *format, ...)
{
    char text[1200], framed[1210];
    va_list arguments;
    uint64_t tail = emulator->out.consumed + emulator->out.length;
    va_start(arguments, format);
    vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    if (emulator->line_end == tail && emulator->out.length) {
        /* the next line of a list: "+CNACT: 0,…\r\n+CNACT: 1,…\r\n" */
        out_text(emulator, text);
        out_text(emulator, "\r\n");
    } else {
        out_raw(emulator, framed, frame_line(emulator, framed, sizeof(framed), text));
    }
    out_safe_point(emulator);
    emulator->line_end = emulator->out.consumed + emulator->out.length;
}

static void out_final(modem_emulator *emulator, const char *text, int numeric)
{
    char framed[80];
    if (emulator->quiet)
        return;
    if (emulator->verbose) {
        snprintf(framed, sizeof(framed), "\r\n%s\r\n", text);
    } else {
        snprintf(framed, sizeof(framed), "%d\r", numeric);
    }
    out_text(emulator, framed);
    out_safe_point(emulator);
    emulator->final_end = emulator->out.consumed + emulator->out.length;
}

void out_ok(modem_emulator *emulator)
{
    out_final(emulator, "OK", 0);
}

void out_error(modem_emulator *emulator)
{
    out_final(emulator, "ERROR", 4);
}

static const char *cme_text(int code)
{
    switch (code) {
    case CME_NOT_ALLOWED:
        return "operation not allowed";
    case CME_NOT_SUPPORTED:
        return "operation not supported";
    case CME_SIM_NOT_INSERTED:
        return "SIM not inserted";
    case CME_SIM_FAILURE:
        return "SIM failure";
    case CME_SIM_BUSY:
        return "SIM busy";
    case CME_MEMORY_FULL:
        return "memory full";
    case CME_NOT_FOUND:
        return "not found";
    case CME_TEXT_TOO_LONG:
        return "text string too long";
    case CME_NO_NETWORK:
        return "no network service";
    case CME_INVALID_PARAMETERS:
        return "Incorrect parameters";
    default:
        return "unknown";
    }
}

void out_cme(modem_emulator *emulator, int code)
{
    char text[64];
    if (emulator->cmee == 0) {
        out_error(emulator);
        return;
    }
    if (emulator->cmee == 1)
        snprintf(text, sizeof(text), "+CME ERROR: %d", code);
    else
        snprintf(text, sizeof(text), "+CME ERROR: %s", cme_text(code));
    out_line(emulator, "%s", text);
}

static void insert_urc(modem_emulator *emulator, const void *data, size_t length, uint64_t floor)
{
    int index;
    uint64_t start, tail;
    if (emulator->power == POWER_OFF || length == 0)
        return;
    if (emulator->input_mode == INPUT_DATA) {
        /* the '>' prompt is out: URCs wait until the payload is in */
        if (ring_push(&emulator->held_urcs, data, length) < length)
            emulator_note(emulator, "held URCs overflow: one lost");
        return;
    }
    prune_safe_points(emulator);
    start = emulator->out.consumed;
    tail = start + emulator->out.length;
    for (index = 0; index < emulator->safe_point_count; index++) {
        uint64_t point = emulator->safe_points[index], offset;
        int later;
        if (point < start || point >= tail || point < floor)
            continue; /* URCs keep their order */
        offset = point - start;
        if (!ring_insert(&emulator->out, (size_t)offset, data, length))
            break;
        for (later = 0; later < emulator->safe_point_count; later++)
            if (emulator->safe_points[later] > point)
                emulator->safe_points[later] += length;
        if ((emulator->pending_baud || emulator->pending_parity >= 0) &&
            emulator->pending_line_at > point)
            emulator->pending_line_at += length;
        add_safe_point(emulator, point + length);
        emulator->urc_floor = point + length;
        return;
    }
    out_raw(emulator, data, length);
    out_safe_point(emulator);
    emulator->urc_floor = emulator->out.consumed + emulator->out.length;
}

void out_urc_bytes(modem_emulator *emulator, const void *data, size_t length)
{
    insert_urc(emulator, data, length, emulator->urc_floor);
}

static void format_urc(modem_emulator *emulator, uint64_t floor, const char *format,
                       va_list arguments)
{
    char text[1200], framed[1210];
    vsnprintf(text, sizeof(text), format, arguments);
    insert_urc(emulator, framed, frame_line(emulator, framed, sizeof(framed), text), floor);
}

void out_urc_after_reply(modem_emulator *emulator, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    format_urc(emulator,
               emulator->final_end > emulator->urc_floor ? emulator->final_end
                                                         : emulator->urc_floor,
               format, arguments);
    va_end(arguments);
}

void out_urc(modem_emulator *emulator, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    format_urc(emulator, emulator->urc_floor, format, arguments);
    va_end(arguments);
}

void out_hex(modem_emulator *emulator, const uint8_t *data, size_t length)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t index;
    for (index = 0; index < length; index++) {
        char pair[2] = {digits[data[index] >> 4], digits[data[index] & 15]};
        out_raw(emulator, pair, 2);
    }
}

bool data_notice_due(modem_emulator *emulator, bool *notified, bool repeats)
{
    if (!*notified) {
        *notified = true;
        return true;
    }
    return repeats && emulator_chance(emulator, emulator->options.quirk_rate);
}

void out_read_header(modem_emulator *emulator, const char *quirk_urc, const char *format, ...)
{
    char text[200], framed[210];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    out_raw(emulator, framed, frame_line(emulator, framed, sizeof(framed), text));
    if (quirk_urc) {
        out_raw(emulator, framed, frame_line(emulator, framed, sizeof(framed), quirk_urc));
        emulator_note(emulator, "quirk: URC between a read header and its data");
    }
}

/* ---- timers ------------------------------------------------------------------------------------
 */

void schedule_us(modem_emulator *emulator, uint64_t delay_us, event_function fire, int argument,
                 const char *text)
{
    scheduled_event *event;
    if (emulator->event_count == emulator->event_capacity) {
        size_t capacity = emulator->event_capacity ? emulator->event_capacity * 2 : 16;
        scheduled_event *events;
        if (capacity > MODEM_EVENTS_LIMIT)
            capacity = MODEM_EVENTS_LIMIT;
        if (emulator->event_count >= capacity) {
            emulator_note(emulator, "too many timers: one dropped");
            return;
        }
        events = realloc(emulator->events, capacity * sizeof(*events));
        if (!events)
            return;
        emulator->events = events;
        emulator->event_capacity = capacity;
    }
    event = &emulator->events[emulator->event_count++];
    memset(event, 0, sizeof(*event));
    event->at_us = emulator->now_us + delay_us;
    event->sequence = emulator->event_sequence++;
    event->fire = fire;
    event->argument = argument;
    if (text)
        snprintf(event->text, sizeof(event->text), "%s", text);
}

void schedule(modem_emulator *emulator, uint32_t delay_ms, event_function fire, int argument,
              const char *text)
{
    schedule_us(emulator, (uint64_t)delay_ms * 1000, fire, argument, text);
}

void event_urc(modem_emulator *emulator, int argument, const char *text)
{
    if ((uint32_t)argument == emulator->generation && emulator->power == POWER_ON)
        out_urc_after_reply(emulator, "%s", text);
}

static int next_event_index(const modem_emulator *emulator)
{
    size_t index;
    int best = -1;
    for (index = 0; index < emulator->event_count; index++) {
        const scheduled_event *event = &emulator->events[index];
        if (best < 0 || event->at_us < emulator->events[best].at_us ||
            (event->at_us == emulator->events[best].at_us &&
             event->sequence < emulator->events[best].sequence))
            best = (int)index;
    }
    return best;
}

static bool fire_due_event(modem_emulator *emulator)
{
    int index = next_event_index(emulator);
    scheduled_event event;
    if (index < 0 || emulator->events[index].at_us > emulator->now_us)
        return false;
    event = emulator->events[index];
    emulator->events[index] = emulator->events[--emulator->event_count];
    event.fire(emulator, event.argument, event.text);
    return true;
}

/* ---- input: command lines and '>' payloads -----------------------------------------------------
 */

void begin_data_input(modem_emulator *emulator, const data_sink *sink, bool prompt)
{
    emulator->sink = *sink;
    emulator->sink.received = 0;
    if (prompt)
        out_text(emulator, emulator->profile->prompt);
    emulator->input_mode = INPUT_DATA;
}

void command_finished(modem_emulator *emulator)
{
    emulator->busy = false;
}

static void end_data_input(modem_emulator *emulator, bool cancelled)
{
    data_sink sink = emulator->sink;
    size_t collected = sink.received < MODEM_PAYLOAD_MAX ? sink.received : MODEM_PAYLOAD_MAX;
    uint8_t held[1024];
    emulator->input_mode = INPUT_COMMAND;
    emulator->command_phase = 0;
    out_safe_point(emulator);
    /* URCs that arrived during the payload go out now */
    while (emulator->held_urcs.length) {
        size_t count = ring_pop(&emulator->held_urcs, held, sizeof(held));
        out_raw(emulator, held, count);
    }
    out_safe_point(emulator);
    if (sink.on_end)
        sink.on_end(emulator, sink.on_data ? NULL : emulator->payload,
                    sink.on_data ? sink.received : collected, cancelled);
}

static void take_data_bytes(modem_emulator *emulator)
{
    data_sink *sink = &emulator->sink;
    uint8_t chunk[512];
    while (emulator->input_mode == INPUT_DATA && emulator->modem_rx.length > 0) {
        size_t want = sizeof(chunk), count, index;
        if (!sink->ctrl_z) {
            if (sink->expected - sink->received < want)
                want = sink->expected - sink->received;
            count = ring_pop(&emulator->modem_rx, chunk, want);
            if (emulator->echo)
                out_raw(emulator, chunk, count);
            if (sink->on_data) {
                sink->on_data(emulator, chunk, count);
            } else {
                size_t room =
                    sink->received < MODEM_PAYLOAD_MAX ? MODEM_PAYLOAD_MAX - sink->received : 0;
                memcpy(emulator->payload + sink->received, chunk, count < room ? count : room);
            }
            sink->received += count;
            if (sink->received >= sink->expected)
                end_data_input(emulator, false);
            continue;
        }
        /* Ctrl-Z ends the payload, ESC cancels it; what follows is the next command line */
        count = ring_peek(&emulator->modem_rx, 0, chunk, want);
        for (index = 0; index < count; index++)
            if (chunk[index] == 0x1A || chunk[index] == 0x1B)
                break;
        ring_pop(&emulator->modem_rx, NULL, index < count ? index + 1 : count);
        if (emulator->echo)
            out_raw(emulator, chunk, index < count ? index + 1 : count);
        {
            size_t keep = index,
                   room = sink->limit > sink->received ? sink->limit - sink->received : 0;
            if (keep > room)
                keep = room;
            if (keep > MODEM_PAYLOAD_MAX - sink->received)
                keep = MODEM_PAYLOAD_MAX - sink->received;
            memcpy(emulator->payload + sink->received, chunk, keep);
            sink->received += keep;
        }
        if (index < count)
            end_data_input(emulator, chunk[index] == 0x1B);
    }
}

static void execute_line(modem_emulator *emulator)
{
    emulator->line[emulator->line_length] = 0;
    out_safe_point(emulator);
    if (emulator->line_overflow) {
        out_error(emulator);
        return;
    }
    memcpy(emulator->last_line, emulator->line, emulator->line_length + 1);
    emulator->last_line_length = emulator->line_length;
    command_line_execute(emulator, emulator->line, emulator->line_length);
}

static void take_command_byte(modem_emulator *emulator, uint8_t byte)
{
    if (emulator->echo)
        out_raw(emulator, &byte, 1);
    switch (emulator->command_phase) {
    case 0:
        if (byte == 'A' || byte == 'a')
            emulator->command_phase = 1;
        break;
    case 1:
        if (byte == 'T' || byte == 't') {
            emulator->command_phase = 2;
            emulator->line_length = 0;
            emulator->line_overflow = false;
        } else if (byte == '/') {
            /* A/ repeats the previous command line */
            emulator->command_phase = 0;
            memcpy(emulator->line, emulator->last_line, emulator->last_line_length + 1);
            emulator->line_length = emulator->last_line_length;
            emulator->line_overflow = false;
            if (emulator->echo)
                out_text(emulator, "\r");
            execute_line(emulator);
        } else if (byte != 'A' && byte != 'a') {
            emulator->command_phase = 0;
        }
        break;
    default:
        if (byte == '\r') {
            emulator->command_phase = 0;
            execute_line(emulator);
        } else if (byte == 0x08) {
            if (emulator->line_length)
                emulator->line_length--;
        } else if (byte == '\n' || byte == 0) {
            /* not part of a command */
        } else if (emulator->line_length < emulator->profile->line_limit &&
                   emulator->line_length < MODEM_LINE_MAX) {
            emulator->line[emulator->line_length++] = (char)byte;
        } else {
            emulator->line_overflow = true;
        }
        break;
    }
}

static void process_input(modem_emulator *emulator)
{
    while (emulator->power == POWER_ON && !emulator->busy && !emulator->producer &&
           emulator->modem_rx.length > 0) {
        if (emulator->input_mode == INPUT_DATA) {
            take_data_bytes(emulator);
        } else {
            uint8_t byte;
            ring_pop(&emulator->modem_rx, &byte, 1);
            take_command_byte(emulator, byte);
        }
    }
}

/* ---- power, boot and registration ---------------------------------------------------------------
 */

int registration_stat(const modem_emulator *emulator)
{
    return emulator->registration;
}

bool network_ready(const modem_emulator *emulator)
{
    return emulator->power == POWER_ON && emulator->cfun == 1 && !emulator->registration_lost &&
           (emulator->registration == 1 || emulator->registration == 5);
}

static void registration_urc(modem_emulator *emulator, const char *name, int mode, bool lte)
{
    int stat = emulator->registration;
    if (mode <= 0)
        return;
    if (mode >= 2 && (stat == 1 || stat == 5)) {
        if (lte)
            out_urc(emulator, "%s: %d,\"1A2B\",\"01C3D4E5\",%d", name, stat,
                    emulator->profile->access_technology);
        else
            out_urc(emulator, "%s: %d,\"1A2B\",\"3C4D\"", name, stat);
    } else {
        out_urc(emulator, "%s: %d", name, stat);
    }
}

void registration_changed(modem_emulator *emulator)
{
    bool lte = emulator->profile->access_technology != 0;
    registration_urc(emulator, "+CREG", emulator->creg_mode, lte);
    registration_urc(emulator, "+CGREG", emulator->cgreg_mode, lte);
    if (emulator->profile->has_cereg)
        registration_urc(emulator, "+CEREG", emulator->cereg_mode, lte);
}

static void set_registration(modem_emulator *emulator, int stat)
{
    bool was_ready = network_ready(emulator);
    if (emulator->registration == stat)
        return;
    emulator->registration = stat;
    registration_changed(emulator);
    if (was_ready && !network_ready(emulator))
        dialects_network_lost(emulator);
}

static void boot_registered(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation || emulator->cfun != 1 ||
        emulator->registration_lost)
        return;
    emulator->attached = true;
    set_registration(emulator, emulator->options.roaming ? 5 : 1);
}

static void boot_ready_lines(modem_emulator *emulator, int generation, const char *text)
{
    const char *const *line;
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    for (line = emulator->profile->ready_lines; line && *line; line++)
        out_urc(emulator, "%s", *line);
}

static uint32_t option_or(uint32_t value, uint32_t fallback)
{
    return value ? value : fallback;
}

static void boot_sim_ready(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    emulator->sim_ready = true;
    out_urc(emulator, "+CPIN: READY");
    schedule(emulator, emulator->profile->ready_lines_ms, boot_ready_lines, generation, NULL);
    if (emulator->cfun == 1) {
        set_registration(emulator, 2);
        schedule(emulator,
                 option_or(emulator->options.registration_ms, emulator->profile->registration_ms),
                 boot_registered, generation, NULL);
    }
}

static void boot_rdy(modem_emulator *emulator, int generation, const char *text)
{
    const char *const *line;
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    emulator->power = POWER_ON;
    emulator->out_idle = true;
    emulator_note(emulator, "%s ready", emulator->profile->name);
    out_urc(emulator, "RDY");
    for (line = emulator->profile->after_rdy; line && *line; line++)
        out_urc(emulator, "%s", *line);
    schedule(emulator, option_or(emulator->options.sim_ready_ms, emulator->profile->sim_ready_ms),
             boot_sim_ready, generation, NULL);
}

static void reset_settings(modem_emulator *emulator)
{
    emulator->echo = true;
    emulator->verbose = true;
    emulator->quiet = false;
    emulator->cmee = emulator->profile->default_cmee;
    emulator->creg_mode = emulator->cgreg_mode = emulator->cereg_mode = 0;
    emulator->cfun = 1;
    emulator->attached = false;
    emulator->sim_ready = false;
    emulator->registration = 0;
    emulator->input_mode = INPUT_COMMAND;
    emulator->command_phase = 0;
    emulator->line_length = 0;
    emulator->busy = false;
    emulator->producer = NULL;
    emulator->bytes_since_boot = 0;
    emulator->network_mode = emulator->model == MODEM_MODEL_SIM800 ? 13 : 2;
    emulator->cat_mode = 1;
    snprintf(emulator->apn, sizeof(emulator->apn), "%s", "");
    if (!emulator->bands_catm[0]) {
        /* band configuration lives in the modem's NVM: it survives resets */
        snprintf(emulator->bands_catm, sizeof(emulator->bands_catm), "%s",
                 "1,2,3,4,5,8,12,13,18,19,20,25,26,28,66,85");
        snprintf(emulator->bands_nb, sizeof(emulator->bands_nb), "%s",
                 "1,2,3,4,5,8,12,13,18,19,20,25,26,28,66,71,85");
    }
    snprintf(emulator->pdp_type, sizeof(emulator->pdp_type), "%s", "IP");
}

/* Everything the modem held is gone: sockets, buffers, timers, the settings not saved. */
static void wipe(modem_emulator *emulator)
{
    links_close_all(emulator);
    dialects_reset(emulator);
    ring_clear(&emulator->out);
    ring_clear(&emulator->modem_rx);
    ring_clear(&emulator->held_urcs);
    emulator->safe_point_count = 0;
    emulator->event_count = 0;
    emulator->pending_baud = 0;
    emulator->pending_parity = -1;
    emulator->out_idle = true;
    emulator->generation++;
    reset_settings(emulator);
}

static void power_on(modem_emulator *emulator)
{
    wipe(emulator);
    emulator->power = POWER_BOOTING;
    emulator->boot_started_us = emulator->now_us;
    emulator->stats.boots++;
    emulator_note(emulator, "%s powering on", emulator->profile->name);
    schedule(emulator, option_or(emulator->options.boot_ms, emulator->profile->boot_ms), boot_rdy,
             (int)emulator->generation, NULL);
}

void emulator_reboot(modem_emulator *emulator, bool announce)
{
    (void)announce;
    emulator_note(emulator, "%s resets", emulator->profile->name);
    power_on(emulator);
}

void emulator_power_off(modem_emulator *emulator, bool announce)
{
    if (announce && emulator->power == POWER_ON)
        out_urc(emulator, "NORMAL POWER DOWN");
    /* the announcement leaves the line before the power goes */
    links_close_all(emulator);
    dialects_reset(emulator);
    ring_clear(&emulator->modem_rx);
    emulator->event_count = 0;
    emulator->generation++;
    reset_settings(emulator);
    emulator->power = POWER_OFF;
    emulator_note(emulator, "%s powered off", emulator->profile->name);
}

void modem_emulator_power_key(void *context, bool pressed)
{
    modem_emulator *emulator = context;
    if (pressed && emulator->power_key_pressed_us == 0) {
        emulator->power_key_pressed_us = emulator->now_us + 1; /* 0 means released */
        emulator->power_key_acted = false;
    } else if (!pressed) {
        emulator->power_key_pressed_us = 0;
    }
}

static void check_power_key(modem_emulator *emulator)
{
    uint64_t held;
    if (emulator->power_key_pressed_us == 0 || emulator->power_key_acted)
        return;
    held = emulator->now_us + 1 - emulator->power_key_pressed_us;
    if (emulator->power == POWER_OFF && held >= emulator->profile->power_on_ms * 1000ull) {
        emulator->power_key_acted = true;
        power_on(emulator);
    } else if (emulator->power != POWER_OFF && held >= emulator->profile->power_off_ms * 1000ull) {
        emulator->power_key_acted = true;
        emulator_power_off(emulator, true);
    }
}

static void check_registration_loss(modem_emulator *emulator)
{
    if (emulator->loss_phase == 0 && emulator->options.lose_registration_after_bytes &&
        emulator->bytes_since_boot >= emulator->options.lose_registration_after_bytes) {
        emulator->loss_start_us = emulator->now_us;
        emulator->loss_end_us =
            emulator->now_us + (uint64_t)emulator->options.lose_registration_for_ms * 1000;
    } else if (emulator->loss_phase == 0 && (emulator->options.lose_registration_at_ms < 0 ||
                                             emulator->now_us < emulator->loss_start_us)) {
        return;
    }
    if (emulator->loss_phase == 0) {
        emulator->loss_phase = 1;
        emulator->stats.registration_losses++;
        emulator_note(emulator, "fault: registration lost for %u ms",
                      (unsigned)emulator->options.lose_registration_for_ms);
        if (emulator->registration == 1 || emulator->registration == 5) {
            bool was_ready = network_ready(emulator);
            emulator->registration_lost = true;
            emulator->registration = 2;
            registration_changed(emulator);
            if (was_ready)
                dialects_network_lost(emulator);
        } else {
            emulator->registration_lost = true;
        }
    }
    if (emulator->loss_phase == 1 && emulator->now_us >= emulator->loss_end_us) {
        emulator->loss_phase = 2;
        emulator->registration_lost = false;
        emulator_note(emulator, "registration back");
        if (emulator->power == POWER_ON && emulator->sim_ready && emulator->cfun == 1 &&
            emulator->registration == 2)
            set_registration(emulator, emulator->options.roaming ? 5 : 1);
    }
}

/* ---- create, destroy ---------------------------------------------------------------------------
 */

static void radio_defaults(modem_emulator *emulator)
{
    modem_radio radio = emulator->options.radio;
    uint32_t down, up, round_trip;
    if (radio == MODEM_RADIO_DEFAULT)
        radio = emulator->profile->radio;
    switch (radio) {
    case MODEM_RADIO_CAT1:
        down = 10000000;
        up = 5000000;
        round_trip = 50;
        break;
    case MODEM_RADIO_CATM1:
        down = 300000;
        up = 300000;
        round_trip = 150;
        break;
    default:
        down = 60000;
        up = 30000;
        round_trip = 600;
        break;
    }
    emulator->downlink_bps = emulator->options.downlink_bps ? emulator->options.downlink_bps : down;
    emulator->uplink_bps = emulator->options.uplink_bps ? emulator->options.uplink_bps : up;
    if (emulator->options.round_trip_ms >= 0)
        round_trip = (uint32_t)emulator->options.round_trip_ms;
    emulator->one_way_us = round_trip * 500u;
}

modem_emulator *modem_emulator_create(modem_model model, const modem_emulator_options *options,
                                      uint64_t now_ms)
{
    modem_emulator *emulator;
    const model_profile *profile = profile_for_model(model);
    if (!profile)
        return NULL;
    emulator = calloc(1, sizeof(*emulator));
    if (!emulator)
        return NULL;
    if (options)
        emulator->options = *options;
    else
        modem_emulator_default_options(&emulator->options);
    if (emulator->options.fs_dir) {
        emulator->fs_dir_copy = strdup(emulator->options.fs_dir);
        emulator->options.fs_dir = emulator->fs_dir_copy;
    }
    if (emulator->options.tls_ca_file) {
        emulator->ca_file_copy = strdup(emulator->options.tls_ca_file);
        emulator->options.tls_ca_file = emulator->ca_file_copy;
    }
    emulator->model = model;
    emulator->profile = profile;
    emulator->now_us = now_ms * 1000;
    emulator->created_us = emulator->now_us;
    emulator->random_state = emulator->options.seed * 0x9E3779B97F4A7C15ull + 0x1234567u;
    if (emulator->random_state == 0)
        emulator->random_state = 1;
    emulator->baud = emulator->options.baud ? emulator->options.baud : 115200;
    emulator->parity = emulator->options.parity;
    emulator->flow_control = emulator->options.hardware_flow_control;
    emulator->pending_parity = -1;
    radio_defaults(emulator);
    ring_init(&emulator->device_tx,
              emulator->options.device_tx_capacity ? emulator->options.device_tx_capacity : 4096);
    ring_init(&emulator->device_rx,
              emulator->options.device_rx_capacity ? emulator->options.device_rx_capacity : 4096);
    ring_init(&emulator->modem_rx, profile->rx_buffer);
    ring_init(&emulator->out, OUT_QUEUE_LIMIT);
    ring_init(&emulator->held_urcs, HELD_URC_LIMIT);
    emulator->out_idle = true;
    if (emulator->options.lose_registration_at_ms >= 0) {
        emulator->loss_start_us =
            emulator->created_us + (uint64_t)emulator->options.lose_registration_at_ms * 1000;
        emulator->loss_end_us =
            emulator->loss_start_us + (uint64_t)emulator->options.lose_registration_for_ms * 1000;
    }
    if (fs_init(emulator) != 0) {
        modem_emulator_destroy(emulator);
        return NULL;
    }
    reset_settings(emulator);
    if (emulator->options.start_powered_off)
        emulator->power = POWER_OFF;
    else
        power_on(emulator);
    return emulator;
}

void modem_emulator_destroy(modem_emulator *emulator)
{
    if (!emulator)
        return;
    links_close_all(emulator);
    dialects_reset(emulator);
    fs_free(emulator);
    certificates_free(emulator);
    ring_free(&emulator->device_tx);
    ring_free(&emulator->device_rx);
    ring_free(&emulator->modem_rx);
    ring_free(&emulator->out);
    ring_free(&emulator->held_urcs);
    free(emulator->events);
    free(emulator->fs_dir_copy);
    free(emulator->ca_file_copy);
    free(emulator);
}

/* ---- the poll loop -----------------------------------------------------------------------------
 */

static void poll_network(modem_emulator *emulator)
{
    int index;
    for (index = 0; index < emulator->link_count; index++) {
        modem_link *link = emulator->links[index];
        unsigned events = link_poll(emulator, link);
        if (link_lingering(link)) {
            /* closed by its owner: only what was written before the close still goes out */
            if (link_finished_sending(emulator, link)) {
                link_abort(emulator, link);
                index--;
            }
            continue;
        }
        if (events) {
            dialect_link_event(emulator, link, events);
            /* the handler may have closed links: the list may have shifted */
            if (index < emulator->link_count && emulator->links[index] != link)
                index--;
        }
    }
    http_poll(emulator);
    if (emulator->profile->dialects & DIALECT_SIM7600)
        sim7600_push_pending(emulator);
    if (emulator->options.reset_after_bytes &&
        emulator->bytes_since_boot >= emulator->options.reset_after_bytes &&
        emulator->power != POWER_OFF) {
        emulator->stats.fault_resets++;
        emulator_note(emulator, "fault: reset after %llu network bytes",
                      (unsigned long long)emulator->bytes_since_boot);
        emulator_reboot(emulator, false);
    }
}

static void run_producer(modem_emulator *emulator)
{
    while (emulator->producer && out_pending(emulator) < PRODUCER_LOW_WATER) {
        if (emulator->producer(emulator)) {
            emulator->producer = NULL;
            emulator->busy = false;
        }
    }
}

/* Work due at `now_us` (the time is already set). */
static void step(modem_emulator *emulator)
{
    advance_output_line(emulator);
    advance_input_line(emulator);
    check_power_key(emulator);
    check_registration_loss(emulator);
    while (fire_due_event(emulator))
        process_input(emulator);
    process_input(emulator);
    if (emulator->input_mode == INPUT_DATA && emulator->sink.deadline_us &&
        emulator->now_us >= emulator->sink.deadline_us) {
        emulator->sink.deadline_us = 0;
        end_data_input(emulator, false);
    }
    if (emulator->power != POWER_OFF)
        poll_network(emulator);
    run_producer(emulator);
    process_input(emulator);
}

/* Arrival time of the next input byte that makes the modem act: a command line's '\r', or the
 * byte that completes (or ends) a payload. */
static uint64_t next_input_us(const modem_emulator *emulator)
{
    const byte_ring *tx = &emulator->device_tx;
    size_t index, limit = tx->length < 4096 ? tx->length : 4096;
    uint64_t base = emulator->in_epoch_us, done = emulator->in_epoch_bytes;
    if (tx->length == 0)
        return UINT64_MAX;
    if (emulator->input_mode == INPUT_DATA && !emulator->sink.ctrl_z) {
        size_t needed = emulator->sink.expected - emulator->sink.received;
        size_t waiting = emulator->modem_rx.length;
        size_t from_line = needed > waiting ? needed - waiting : 1;
        if (from_line > tx->length)
            from_line = tx->length;
        return base + line_time_us(emulator, done + from_line);
    }
    for (index = 0; index < limit; index++) {
        uint8_t byte = ring_at(tx, index);
        if (byte == '\r' || byte == 0x1A || byte == 0x1B)
            return base + line_time_us(emulator, done + index + 1);
    }
    return base + line_time_us(emulator, done + limit);
}

/* The earliest moment after now at which something is due. Work due at or before now was done
 * by the last step; a candidate that claims otherwise waits for the network, not for time. */
static uint64_t internal_next_us(const modem_emulator *emulator)
{
    uint64_t next = UINT64_MAX, candidate;
    int index = next_event_index(emulator), link;
    if (index >= 0 && emulator->events[index].at_us <= emulator->now_us)
        return emulator->now_us; /* a timer set during the last step for "now" */
    if (index >= 0)
        next = emulator->events[index].at_us;
    candidate = next_input_us(emulator);
    if (candidate < next)
        next = candidate;
    if (emulator->producer && emulator->out.length >= PRODUCER_LOW_WATER) {
        candidate = emulator->out_epoch_us +
                    line_time_us(emulator, emulator->out_epoch_bytes + emulator->out.length -
                                               PRODUCER_LOW_WATER + 1);
        if (candidate < next)
            next = candidate;
    }
    if (emulator->pending_baud || emulator->pending_parity >= 0) {
        uint64_t remaining = emulator->pending_line_at > emulator->out.consumed
                                 ? emulator->pending_line_at - emulator->out.consumed
                                 : 0;
        candidate =
            emulator->out_epoch_us + line_time_us(emulator, emulator->out_epoch_bytes + remaining);
        if (candidate < next)
            next = candidate;
    }
    if (emulator->input_mode == INPUT_DATA && emulator->sink.deadline_us &&
        emulator->sink.deadline_us < next)
        next = emulator->sink.deadline_us;
    if (emulator->loss_phase == 0 && emulator->options.lose_registration_at_ms >= 0 &&
        emulator->loss_start_us < next)
        next = emulator->loss_start_us;
    if (emulator->loss_phase == 1 && emulator->loss_end_us < next)
        next = emulator->loss_end_us;
    if (emulator->power_key_pressed_us && !emulator->power_key_acted) {
        uint32_t threshold = emulator->power == POWER_OFF ? emulator->profile->power_on_ms
                                                          : emulator->profile->power_off_ms;
        candidate = emulator->power_key_pressed_us - 1 + threshold * 1000ull;
        if (candidate < next)
            next = candidate;
    }
    if (emulator->http.deadline_us && emulator->http.deadline_us < next)
        next = emulator->http.deadline_us;
    for (link = 0; link < emulator->link_count; link++) {
        candidate = link_next_event_us(emulator->links[link]);
        if (candidate < next)
            next = candidate;
    }
    if (next <= emulator->now_us)
        next = emulator->now_us + 1000; /* due now but blocked: look again in a millisecond */
    return next;
}

void modem_emulator_poll(modem_emulator *emulator, uint64_t now_ms)
{
    uint64_t target = now_ms * 1000;
    int guard = 0;
    if (target < emulator->now_us)
        target = emulator->now_us;
    for (;;) {
        uint64_t next = internal_next_us(emulator);
        if (next > target)
            next = target;
        emulator->now_us = next;
        step(emulator);
        if (next >= target)
            break;
        if (++guard > 1000000) /* a bug, never a hang */
            break;
    }
}

void modem_emulator_reset(modem_emulator *emulator)
{
    if (emulator->power == POWER_OFF)
        return;
    emulator->stats.fault_resets++;
    emulator_note(emulator, "fault: reset");
    emulator_reboot(emulator, false);
}

void modem_emulator_drop_connections(modem_emulator *emulator)
{
    int index;
    for (index = 0; index < emulator->link_count; index++)
        link_break(emulator, emulator->links[index]);
}

uint64_t modem_emulator_next_event_ms(const modem_emulator *emulator)
{
    uint64_t next = internal_next_us(emulator), candidate;
    if (emulator->out.length) {
        /* the device should read once the queue is through or its buffer is about to fill */
        uint64_t count = emulator->out.length, room = ring_room(&emulator->device_rx);
        if (!emulator->flow_control && room < count)
            count = room ? room : 1;
        candidate =
            emulator->out_epoch_us + line_time_us(emulator, emulator->out_epoch_bytes + count);
        if (candidate < next)
            next = candidate;
    }
    if (next == UINT64_MAX)
        return UINT64_MAX;
    if (next <= emulator->now_us)
        return emulator->now_us / 1000 + 1;
    return (next + 999) / 1000;
}

size_t modem_emulator_poll_fds(const modem_emulator *emulator, struct pollfd *fds, size_t capacity)
{
    size_t count = 0;
    int index;
    for (index = 0; index < emulator->link_count && count < capacity; index++) {
        short events;
        int fd = link_fd(emulator->links[index], &events);
        if (fd >= 0) {
            fds[count].fd = fd;
            fds[count].events = events;
            fds[count].revents = 0;
            count++;
        }
    }
    return count;
}
