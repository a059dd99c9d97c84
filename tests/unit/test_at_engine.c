/*
 * The AT engine on its own: patterns, numbers, command templates, final result codes and their
 * errors, retries, prompts and payloads, data blocks and their checks, timeouts, long lines.
 * Each case is a short exchange on the transcript double, run with every split of the bytes.
 */
#include "test.h"

#include "at/engine.h"
#include "core/error.h"
#include "transcript.h"

static transcript t;
static cellota_at at;
static cellota_port port;
static int result;
static int done_count;
static int urc_count;
static char urc_text[64];
static uint8_t data[64];
static int handler_calls;

static void done(void *user, int value)
{
    (void)user;
    result = value;
    done_count++;
}

static int on_urc(void *user, cellota_at *engine, const char *arguments)
{
    (void)user;
    (void)engine;
    urc_count++;
    snprintf(urc_text, sizeof(urc_text), "%s", arguments);
    return CELLOTA_OK;
}

/* Pushed data ("+P: <length>" then the bytes): where the blocks go, how each ended. */
static uint8_t pushed[64];
static uint32_t pushed_filled, pushed_length;
static int pushed_results[8], pushed_ends;
static uint32_t take_after_ms; /* 0: the handler gives the destination at once */
static uint32_t header_at;

static void on_pushed_end(void *user, int value)
{
    (void)user;
    if (pushed_ends < 8)
        pushed_results[pushed_ends] = value;
    pushed_ends++;
    if (value == CELLOTA_OK)
        pushed_filled += pushed_length;
}

static int on_pushed(void *user, cellota_at *engine, const char *arguments)
{
    int32_t length;
    (void)user;
    if (cellota_at_integers(arguments, &length, 1) != 1 ||
        !cellota_at_expect_pushed_data(engine, (uint32_t)length, on_pushed_end, NULL)) {
        on_pushed_end(NULL, -1);
        return CELLOTA_OK;
    }
    pushed_length = (uint32_t)length;
    header_at = t.now;
    if (take_after_ms == 0)
        cellota_at_take_pushed_data(engine, pushed + pushed_filled);
    return CELLOTA_OK;
}

static const cellota_at_urc urcs[] = {{"+URC: ", on_urc}, {"RING", on_urc}, {"+P: ", on_pushed}};

/* Loads an inline transcript (lines separated by '|') and starts the engine on it. */
static void begin(const char *lines, uint8_t split, uint32_t seed)
{
    char copy[2048], *line, *save = NULL;
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "inline");
    snprintf(copy, sizeof(copy), "%s", lines);
    for (line = strtok_r(copy, "|", &save); line; line = strtok_r(NULL, "|", &save))
        transcript_add(&t, line);
    transcript_reset(&t, split, seed);
    port = transcript_port(&t);
    cellota_at_init(&at, &port, urcs, 3, NULL);
    result = CELLOTA_IN_PROGRESS;
    done_count = urc_count = handler_calls = 0;
    urc_text[0] = '\0';
    memset(data, 0, sizeof(data));
    memset(pushed, 0, sizeof(pushed));
    pushed_filled = pushed_length = 0;
    pushed_ends = 0;
}

/* Polls for `ms` of virtual time, giving a waiting pushed block its destination
 * take_after_ms after its header. */
static void pump(uint32_t ms)
{
    uint32_t end = t.now + ms;
    while (t.now < end) {
        t.now += 1;
        if (cellota_at_pushed_waiting(&at) && t.now - header_at >= take_after_ms)
            cellota_at_take_pushed_data(&at, pushed + pushed_filled);
        cellota_at_poll(&at, t.now);
    }
}

/* Runs a script to its end (or 60 s of virtual time); returns its result. */
static int run(const cellota_at_step *steps, uint8_t count, const cellota_at_parameters *p)
{
    uint32_t start = t.now;
    int started;
    done_count = 0;
    started = cellota_at_start(&at, steps, count, p, done, NULL, t.now);
    if (started != CELLOTA_IN_PROGRESS)
        return started;
    while (!done_count && t.now - start < 60000) {
        t.now += 10;
        if (cellota_at_pushed_waiting(&at) && t.now - header_at >= take_after_ms)
            cellota_at_take_pushed_data(&at, pushed + pushed_filled);
        cellota_at_poll(&at, t.now);
    }
    return done_count == 1 ? result : -9999;
}

static void test_patterns(void)
{
    CHECK_EQ_STR(cellota_at_match("+CIPRXGET: 2,0,5,0", "+CIPRXGET: 2,"), "0,5,0");
    CHECK_EQ_STR(cellota_at_match("+CIPRXGET:2,0", "+CIPRXGET: 2,"), "0");
    CHECK_EQ_STR(cellota_at_match("+CIPRXGET:   2,0", "+CIPRXGET: 2,"), "0");
    CHECK(cellota_at_match("+CIPRXGET: 1,0", "+CIPRXGET: 2,") == NULL);
    CHECK_EQ_STR(cellota_at_match("12, CLOSED", "#, "), "CLOSED");
    CHECK_EQ_STR(cellota_at_match("0,CONNECT OK", "#, "), "CONNECT OK");
    CHECK(cellota_at_match("x, CLOSED", "#, ") == NULL);
    CHECK(cellota_at_match(", CLOSED", "#, ") == NULL);
    CHECK_EQ_STR(cellota_at_match("10.64.1.2", "#."), "64.1.2");
    CHECK(cellota_at_match("OK", "OK ") != NULL);
    CHECK(cellota_at_match("O", "OK") == NULL);
    CHECK_EQ_STR(cellota_at_match("anything", ""), "anything");
}

static void test_integers(void)
{
    int32_t values[4];
    CHECK_EQ_INT(cellota_at_integers("2,0,1500,500", values, 4), 4);
    CHECK_EQ_INT(values[2], 1500);
    CHECK_EQ_INT(values[3], 500);
    CHECK_EQ_INT(cellota_at_integers(" 3 , -1,x", values, 4), 2);
    CHECK_EQ_INT(values[1], -1);
    CHECK_EQ_INT(cellota_at_integers("015", values, 4), 1);
    CHECK_EQ_INT(values[0], 15);
    CHECK_EQ_INT(cellota_at_integers("DATA,5", values, 4), 0);
    CHECK_EQ_INT(cellota_at_integers("1234567890", values, 4), 0); /* too long to be a length */
    CHECK_EQ_INT(cellota_at_integers("7,", values, 4), 1);
    CHECK_EQ_INT(cellota_at_integers("1,2,3,4,5", values, 2), 2);
    CHECK_EQ_INT(cellota_at_integers("", values, 4), 0);
    CHECK_EQ_INT(cellota_at_integers("-", values, 4), 0);
}

static void test_templates(void)
{
    static const cellota_at_step steps[] = {
        {"AT+X=%l,%n,%o,%p,%m,%c,%r,%v,\"%h\",\"%a\",\"%u\",\"%w\",\"%f\",\"%k\",%t,%b,%%", NULL,
         NULL, 10, 0, 0},
        {"AT+SKIPPED=%t", NULL, NULL, 10, CELLOTA_AT_OPTIONAL, 0},
        {"AT+SKIPPED=%m", NULL, NULL, 10, CELLOTA_AT_OPTIONAL, 0},
        {"AT+KEPT=%l", NULL, NULL, 10, CELLOTA_AT_OPTIONAL, 0},
    };
    cellota_at_parameters p = {{"host", "apn", "user", "pw", "file", "ca", "t1", "b1"},
                               {0, 1500, 4096, 8883, 38, 1, 2, 1}};
    begin("> AT+X=0,1500,4096,8883,38,1,2,1,\"host\",\"apn\",\"user\",\"pw\",\"file\",\"ca\","
          "t1,b1,%|< OK|> AT+KEPT=0|< OK",
          SPLIT_ALL, 1);
    p.text[CELLOTA_AT_TEXT] = "t1";
    CHECK_EQ_INT(run(steps, 1, &p), CELLOTA_OK);
    p.text[CELLOTA_AT_TEXT] = "";
    p.number[CELLOTA_AT_MODE] = 0;
    CHECK_EQ_INT(run(steps + 1, 3, &p), CELLOTA_OK);
    CHECK(transcript_reached(&t, NULL) && t.failures == 0);
}

static void test_bad_parameters(void)
{
    static const cellota_at_step step[] = {
        {"AT+CIPOPEN=0,\"TCP\",\"%h\",80", NULL, NULL, 10, 0, 0}};
    cellota_at_parameters p;
    char long_host[200];
    memset(&p, 0, sizeof(p));
    begin("< RING", SPLIT_ALL, 1);
    p.text[CELLOTA_AT_HOST] = "evil\",\"x";
    CHECK_EQ_INT(run(step, 1, &p), CELLOTA_AT_BAD_PARAMETER);
    p.text[CELLOTA_AT_HOST] = "line\rbreak";
    CHECK_EQ_INT(run(step, 1, &p), CELLOTA_AT_BAD_PARAMETER);
    memset(long_host, 'a', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    p.text[CELLOTA_AT_HOST] = long_host;
    CHECK_EQ_INT(run(step, 1, &p), CELLOTA_AT_COMMAND_TOO_LONG);
    CHECK(!t.written_any); /* nothing was sent */
}

static void test_final_results(void)
{
    static const cellota_at_step plain[] = {{"AT+Y", NULL, NULL, 10, 0, 0}};
    static const cellota_at_step tolerant[] = {{"AT+Y", NULL, NULL, 10, CELLOTA_AT_ERROR_OK, 0}};
    begin("> AT+Y|< ERROR|> AT+Y|< +CME ERROR: 10|> AT+Y|< +CME ERROR: SIM PIN required|"
          "> AT+Y|< +CMS ERROR: 500|> AT+Y|< +CME ERROR: operation not allowed|> AT+Y|< ERROR",
          SPLIT_ONE, 1);
    CHECK_EQ_INT(run(plain, 1, NULL), CELLOTA_AT_COMMAND_FAILED);
    CHECK_EQ_INT(run(plain, 1, NULL), CELLOTA_AT_SIM_MISSING);
    CHECK_EQ_INT(at.modem_error, 10);
    CHECK_EQ_INT(run(plain, 1, NULL), CELLOTA_AT_SIM_LOCKED);
    CHECK_EQ_INT(at.modem_error, 11);
    CHECK_EQ_INT(run(plain, 1, NULL), CELLOTA_AT_MODEM_ERROR);
    CHECK_EQ_INT(run(plain, 1, NULL), CELLOTA_AT_MODEM_ERROR);
    CHECK_EQ_INT(at.modem_error, -1);
    CHECK_EQ_INT(run(tolerant, 1, NULL), CELLOTA_OK);
}

static int on_value(void *user, cellota_at *engine, const char *arguments)
{
    (void)user;
    (void)engine;
    handler_calls++;
    return strcmp(arguments, "1") == 0 ? CELLOTA_OK : cellota_at_retry(engine, CELLOTA_TIMEOUT);
}

/* "SIM busy" and "not yet" answers are retried; the attempts are bounded. */
static void test_retries(void)
{
    static const cellota_at_step step[] = {{"AT+Q?", "+Q: ", on_value, 10, 0, 3}};
    begin("> AT+Q?|< +CME ERROR: SIM busy|~ 3000|> AT+Q?|< +Q: 0|< OK|~ 3000|> AT+Q?|< +Q: 1|< OK",
          SPLIT_ALL, 1);
    CHECK_EQ_INT(run(step, 1, NULL), CELLOTA_OK);
    CHECK_EQ_INT(handler_calls, 2);
    begin("> AT+Q?|< +Q: 0|< OK|~ 3000|> AT+Q?|< +Q: 0|< OK|~ 3000|> AT+Q?|< +Q: 0|< OK", SPLIT_ALL,
          1);
    CHECK_EQ_INT(run(step, 1, NULL), CELLOTA_TIMEOUT); /* the handler's give-up error */
    CHECK(transcript_reached(&t, NULL));
}

static int on_skip(void *user, cellota_at *engine, const char *arguments)
{
    (void)user;
    (void)arguments;
    cellota_at_skip(engine, 1);
    return CELLOTA_OK;
}

/* Echo on, a reply after OK, a URC in the middle, a skipped step, a NO_OK step. */
static void test_replies(void)
{
    static const cellota_at_step steps[] = {
        {"AT+A", "+A: ", NULL, 10, 0, 0},
        {"AT+B", "+B: ", on_skip, 10, 0, 0},
        {"AT+SKIPPED", NULL, NULL, 10, 0, 0},
        {"AT+C", "C OK", NULL, 10, CELLOTA_AT_NO_OK, 0},
    };
    uint32_t seed;
    for (seed = 0; seed < 8; seed++) {
        begin("> AT+A|<< AT+A\\r|< OK|< +URC: 7|< +A: 1|> AT+B|< +B: 2|< OK|> AT+C|< C OK",
              seed == 0   ? SPLIT_ALL
              : seed == 1 ? SPLIT_ONE
                          : SPLIT_RANDOM,
              seed);
        CHECK_EQ_INT(run(steps, 4, NULL), CELLOTA_OK);
        CHECK_EQ_INT(urc_count, 1);
        CHECK_EQ_STR(urc_text, "7");
        CHECK_EQ_INT(at.echoes, 1);
        CHECK(transcript_reached(&t, NULL) && t.failures == 0);
    }
}

/* A step that gets no answer times out, and the engine waits for silence before reporting. */
static void test_timeout(void)
{
    static const cellota_at_step step[] = {{"AT", NULL, NULL, 5, 0, 0}};
    begin("> AT|~ 3000", SPLIT_ALL, 1);
    CHECK_EQ_INT(run(step, 1, NULL), CELLOTA_AT_REPLY_TIMEOUT);
    CHECK(t.now >= 500 + CELLOTA_AT_SETTLE_MS);
    CHECK_EQ_INT(cellota_at_start(&at, step, 0, NULL, done, NULL, t.now), CELLOTA_INVALID_ARGUMENT);
}

static void test_busy(void)
{
    static const cellota_at_step step[] = {{"AT", NULL, NULL, 5, 0, 0}};
    begin("> AT|< OK", SPLIT_ALL, 1);
    CHECK_EQ_INT(cellota_at_start(&at, step, 1, NULL, done, NULL, 0), CELLOTA_IN_PROGRESS);
    CHECK(cellota_at_busy(&at));
    CHECK_EQ_INT(cellota_at_start(&at, step, 1, NULL, done, NULL, 0), CELLOTA_BUSY);
    while (!done_count && t.now < 5000) {
        t.now += 10;
        cellota_at_poll(&at, t.now);
    }
    CHECK_EQ_INT(result, CELLOTA_OK);
    CHECK(!cellota_at_busy(&at));
}

/* The payload after '>' comes from a buffer, or is pushed by the owner as it has it. */
static void test_prompt(void)
{
    static const cellota_at_step step[] = {{"AT+S=%n", NULL, NULL, 50, CELLOTA_AT_PROMPT, 0}};
    cellota_at_parameters p;
    const uint8_t hello[] = "hello";
    memset(&p, 0, sizeof(p));
    p.number[CELLOTA_AT_LENGTH] = 5;
    begin("> AT+S=5|<< \\r\\n>\\x20|>> hello|< OK|> AT+S=5|<< >|>> hello|< OK", SPLIT_ONE, 1);
    CHECK_EQ_INT(cellota_at_start(&at, step, 1, &p, done, NULL, t.now), CELLOTA_IN_PROGRESS);
    cellota_at_set_payload(&at, hello, 5);
    while (!done_count && t.now < 5000) {
        t.now += 10;
        cellota_at_poll(&at, t.now);
    }
    CHECK_EQ_INT(result, CELLOTA_OK);
    done_count = 0;
    CHECK_EQ_INT(cellota_at_start(&at, step, 1, &p, done, NULL, t.now), CELLOTA_IN_PROGRESS);
    CHECK_EQ_INT(cellota_at_write_payload(&at, hello, 5), 0); /* before the prompt */
    {
        size_t written = 0;
        while (!done_count && t.now < 10000) {
            t.now += 10;
            cellota_at_poll(&at, t.now);
            written += cellota_at_write_payload(&at, hello + written, written < 5 ? 2 : 0);
        }
        CHECK_EQ_INT(written, 5);
    }
    CHECK_EQ_INT(result, CELLOTA_OK);
    CHECK(transcript_reached(&t, NULL) && t.failures == 0);
}

static int on_header(void *user, cellota_at *engine, const char *arguments)
{
    int32_t length;
    (void)user;
    handler_calls++;
    if (cellota_at_integers(arguments, &length, 1) != 1 || length > (int32_t)sizeof(data))
        return CELLOTA_AT_UNEXPECTED_REPLY;
    cellota_at_expect_data(engine, data, (uint32_t)length);
    return CELLOTA_OK;
}

/* Data blocks: clean, with a URC between header and data and between data and OK, bytes lost,
 * bytes damaged, and an inline header whose data follows its comma. */
static void test_data(void)
{
    static const cellota_at_step read[] = {{"AT+R", "+R: ", on_header, 50, 0, 0}};
    static const cellota_at_step inline_read[] = {
        {"AT+R", "+R: ", on_header, 50, CELLOTA_AT_INLINE_DATA, 0}};
    static const cellota_at_step blank_read[] = {
        {"AT+R", "+R: ", on_header, 50, CELLOTA_AT_BLANK_AFTER_DATA, 0}};
    uint32_t seed;
    for (seed = 0; seed < 10; seed++) {
        uint8_t split = seed == 0 ? SPLIT_ALL : seed == 1 ? SPLIT_ONE : SPLIT_RANDOM;
        begin("> AT+R|< +R: 5|<< a\\r\\nOK|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "a\r\nOK", 5);

        begin("> AT+R|< +R: 3|< +URC: 1|< RING|<< xyz|< +URC: 2|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "xyz", 3);
        CHECK_EQ_INT(urc_count, 3);

        /* The URC line with its CR LF is exactly as long as the data asked for ("\r\n+URC: 1"
         * is 9 bytes): its own CR LF passes for the trailer, yet it is the URC, not the data.
         * (A SIM7600's "+CIPRXGET: 1,0" and a 16-byte read of four MQTT PUBACKs.) */
        begin("> AT+R|< +R: 9|< +URC: 1|<< abcdefghi|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "abcdefghi", 9);
        CHECK_EQ_INT(urc_count, 1);
        begin("> AT+R|< +R: 9|< +URC: 1|<< abcdefghi\r\n|< OK", split, seed);
        CHECK_EQ_INT(run(blank_read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "abcdefghi", 9);
        CHECK_EQ_INT(urc_count, 1);
        /* the same bytes unasked for are a block: no URC the table knows */
        begin("> AT+R|< +R: 11|<< \r\nnot-a-urc|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "\r\nnot-a-urc", 11);

        begin("> AT+R|< +R: 8|<< abcde|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_AT_DATA_FRAMING);
        CHECK_EQ_INT(at.framing_errors, 1);

        begin("> AT+R|< +R: 40|<<! 0123456789012345678901234567890123456789|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_AT_DATA_DAMAGED);

        begin("> AT+R|<< \\r\\n+R: 4,a,\\r\\n|< OK", split, seed);
        CHECK_EQ_INT(run(inline_read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "a,\r\n", 4);

        begin("> AT+R|< +R: 0|< OK", split, seed);
        CHECK_EQ_INT(run(inline_read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_INT(handler_calls, 1);

        begin("> AT+R|< +R: 500|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_AT_UNEXPECTED_REPLY);

        /* Modems that end the data with its own CR LF before the final result's: two bytes
         * lost from "abcdefg" make "acdfg" + CR LF a 7-byte block and the blank line its
         * trailer. Only the missing blank line before OK tells; a block that really ends in
         * CR LF is followed by one. */
        begin("> AT+R|< +R: 7|<< acdfg\r\n|< OK", split, seed);
        CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_OK); /* without the flag it goes unnoticed */
        begin("> AT+R|< +R: 7|<< acdfg\r\n|< OK", split, seed);
        CHECK_EQ_INT(run(blank_read, 1, NULL), CELLOTA_AT_DATA_FRAMING);
        begin("> AT+R|< +R: 5|<< abc\r\n\r\n|< +URC: 3|< OK", split, seed);
        CHECK_EQ_INT(run(blank_read, 1, NULL), CELLOTA_OK);
        CHECK_EQ_MEM(data, "abc\r\n", 5);
        CHECK_EQ_INT(urc_count, 1);
        begin("> AT+R|< +R: 5|<< hello\r\n|< OK", split, seed);
        CHECK_EQ_INT(run(blank_read, 1, NULL), CELLOTA_OK);
    }
}

/* Data the modem pushes unasked: taken at once or after a wait (the line is held meanwhile, and
 * the bytes already read past the header are kept), damaged, short (a byte lost), a header lost
 * (its bytes show as a binary line), never completed, and in the middle of a command's reply. */
static void test_pushed_data(void)
{
    static const cellota_at_step step[] = {{"AT+X", NULL, NULL, 50, 0, 0}};
    uint32_t seed, wait;
    for (wait = 0; wait <= 30; wait += 30) {
        take_after_ms = wait;
        for (seed = 0; seed < 10; seed++) {
            uint8_t split = seed == 0 ? SPLIT_ALL : seed == 1 ? SPLIT_ONE : SPLIT_RANDOM;
            begin("<< \r\n+P: 5\r\nhello\r\n+P: 3\r\nabc", split, seed);
            pump(300);
            CHECK_EQ_INT(pushed_ends, 2);
            CHECK_EQ_INT(pushed_results[0], CELLOTA_OK);
            CHECK_EQ_INT(pushed_results[1], CELLOTA_OK); /* nothing after it: quiet is its end */
            CHECK_EQ_MEM(pushed, "helloabc", 8);

            /* The UART flags a whole read: the header may go down with the block (a damaged
             * line, which the driver watches), but the bytes are never taken as good. */
            begin("<< \r\n+P: 5\r\n|<<! hello|<< \r\n+P: 3\r\nabc", split, seed);
            pump(300);
            CHECK(memcmp(pushed, "hello", 5) != 0);
            CHECK((pushed_ends >= 1 && pushed_results[0] == CELLOTA_AT_DATA_DAMAGED) ||
                  at.damaged_lines > 0);

            /* the header's own text clean, its CR LF and the data flagged (the bytes kept
             * while the block waits keep their flag) */
            begin("<< \r\n+P: 5|<<! \r\nhello|<< \r\n+P: 3\r\nabc", split, seed);
            pump(300);
            CHECK(memcmp(pushed, "hello", 5) != 0);
            CHECK((pushed_ends >= 1 && pushed_results[0] == CELLOTA_AT_DATA_DAMAGED) ||
                  at.damaged_lines > 0);

            /* "hello" lost its 'e': the block takes the next header's CR, its LF is no trailer */
            begin("<< \r\n+P: 5\r\nhllo\r\n+P: 3\r\nabc", split, seed);
            pump(300);
            CHECK_EQ_INT(pushed_ends, 2);
            CHECK_EQ_INT(pushed_results[0], CELLOTA_AT_DATA_FRAMING);
            CHECK_EQ_INT(pushed_results[1], CELLOTA_OK);
            CHECK_EQ_MEM(pushed, "abc", 3);
            CHECK(at.framing_errors >= 1);

            /* a lost header leaves its bytes to the line parser: a binary line says so */
            begin("<< \r\n+Q: 5\r\nh\x01llo\r\n+P: 3\r\nabc", split, seed);
            pump(300);
            CHECK_EQ_INT(pushed_ends, 1);
            CHECK_EQ_INT(at.binary_lines, 1);

            begin("<< \r\n+P: 9\r\nabc", split, seed);
            pump(CELLOTA_AT_SUSPECT_QUIET_MS + 200);
            CHECK_EQ_INT(pushed_ends, 1);
            CHECK_EQ_INT(pushed_results[0], CELLOTA_AT_DATA_FRAMING);

            begin("> AT+X|<< \r\n+P: 4\r\nwx\r\n|< OK", split, seed);
            CHECK_EQ_INT(run(step, 1, NULL), CELLOTA_OK);
            CHECK_EQ_INT(pushed_ends, 1);
            CHECK_EQ_INT(pushed_results[0], CELLOTA_OK);
            CHECK_EQ_MEM(pushed, "wx\r\n", 4);
        }
    }
    take_after_ms = 0;
}

/* The UART as a list of reads, each flagged or not: lets a test put a read boundary exactly
 * where it wants one. */
typedef struct fake_read {
    const char *bytes;
    bool flagged;
} fake_read;
static const fake_read *fake_reads;
static size_t fake_index, fake_offset;
static uint32_t fake_errors;

static size_t fake_uart_read(void *context, uint8_t *buffer, size_t capacity)
{
    const fake_read *read = &fake_reads[fake_index];
    size_t left, count;
    (void)context;
    if (!read->bytes)
        return 0;
    left = strlen(read->bytes) - fake_offset;
    count = left < capacity ? left : capacity;
    memcpy(buffer, read->bytes + fake_offset, count);
    fake_offset += count;
    if (read->flagged)
        fake_errors += (uint32_t)count;
    if (fake_offset == strlen(read->bytes)) {
        fake_index++;
        fake_offset = 0;
    }
    return count;
}

static uint32_t fake_take_errors(void *context)
{
    uint32_t errors = fake_errors;
    (void)context;
    fake_errors = 0;
    return errors;
}

/* A pushed block whose header's text arrived clean and whose CR LF and data came in one flagged
 * read, while the block had to wait for room: the bytes kept meanwhile keep their flag. */
static void test_pushed_data_kept_flagged(void)
{
    static const fake_read reads[] = {{"\r\n+P: 5", false},
                                      {"\r\nhello\r\n+P: 3\r\nabc", true},
                                      {"\r\n+P: 2\r\nok\r\n", false},
                                      {NULL, false}};
    cellota_port fake;
    memset(&fake, 0, sizeof(fake));
    fake.uart_read = fake_uart_read;
    fake.uart_take_errors = fake_take_errors;
    fake_reads = reads;
    fake_index = fake_offset = 0;
    fake_errors = 0;
    cellota_at_init(&at, &fake, urcs, 3, NULL);
    memset(pushed, 0, sizeof(pushed));
    pushed_filled = pushed_length = 0;
    pushed_ends = 0;
    take_after_ms = 20;
    t.now = 0;
    pump(300);
    take_after_ms = 0;
    CHECK(pushed_ends >= 2);
    CHECK_EQ_INT(pushed_results[0], CELLOTA_AT_DATA_DAMAGED); /* "hello" */
    CHECK(memcmp(pushed, "hello", 5) != 0);
    CHECK_EQ_MEM(pushed, "ok", 2); /* the clean block after it */
}

/* A line longer than the engine keeps is dropped whole; a damaged line outside a script is
 * only counted; neither disturbs what follows. */
static void test_long_and_damaged_lines(void)
{
    static const cellota_at_step step[] = {{"AT", NULL, NULL, 10, 0, 0}};
    char lines[1024];
    char long_line[300];
    memset(long_line, 'x', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = '\0';
    memcpy(long_line, "+URC: ", 6);
    snprintf(lines, sizeof(lines), "< %s|<! +URC: 9|> AT|< +URC: 3|< OK", long_line);
    begin(lines, SPLIT_RANDOM, 3);
    t.now += 10;
    cellota_at_poll(&at, t.now);
    CHECK_EQ_INT(run(step, 1, NULL), CELLOTA_OK);
    CHECK_EQ_INT(urc_count, 1);
    CHECK_EQ_STR(urc_text, "3");
    CHECK(at.damaged_lines >= 2);
}

/* Lost bytes leave the final OK buried in a line: the step ends after a quiet second, not the
 * step's whole timeout. */
static void test_quiet_after_damage(void)
{
    static const cellota_at_step read[] = {{"AT+R", "+R: ", on_header, 300, 0, 0}};
    begin("> AT+R|<! +R: 5|<< abcde|< OK", SPLIT_ALL, 1);
    CHECK_EQ_INT(run(read, 1, NULL), CELLOTA_AT_DATA_DAMAGED);
    CHECK(t.now < 5000);
}

int main(void)
{
    RUN(test_patterns);
    RUN(test_integers);
    RUN(test_templates);
    RUN(test_bad_parameters);
    RUN(test_final_results);
    RUN(test_retries);
    RUN(test_replies);
    RUN(test_timeout);
    RUN(test_busy);
    RUN(test_prompt);
    RUN(test_data);
    RUN(test_pushed_data);
    RUN(test_pushed_data_kept_flagged);
    RUN(test_long_and_damaged_lines);
    RUN(test_quiet_after_damage);
    return test_summary();
}
