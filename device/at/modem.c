/*
 * The modem driver (see modem.h): bring-up stages and the socket scheduler, the same for every
 * SIMCom dialect. Everything dialect-specific is in the profile tables; the profiles' handlers
 * report back through the event functions of profile.h, which only change state here -- the
 * next command is always chosen by cellota_modem_poll when the engine is idle.
 */
#include "at/modem.h"

#include "core/error.h"

#include <string.h>

enum stage {
    STAGE_OFF = 0,
    STAGE_PROBE, /* is it on? */
    STAGE_PRESS, /* power key held */
    STAGE_BOOT,  /* waiting for it to answer after the power key */
    STAGE_SETUP,
    STAGE_REGISTER,      /* a round of registration queries */
    STAGE_REGISTER_WAIT, /* pause between two rounds */
    STAGE_DETACH,        /* releasing a context the network dropped */
    STAGE_ATTACH,
    STAGE_READY,
    STAGE_FAILED
};

enum operation {
    OPERATION_NONE = 0,
    OPERATION_BRING_UP, /* the script of the current stage */
    OPERATION_OPEN,
    OPERATION_SEND,
    OPERATION_RECEIVE,
    OPERATION_QUERY,
    OPERATION_CLOSE
};

enum socket_flags {
    SOCKET_LINK_USED = 1u << 0,    /* the modem may hold a connection on the link */
    SOCKET_PEER_CLOSED = 1u << 1,  /* the modem said the connection closed: read what is left */
    SOCKET_DATA_HINT = 1u << 2,    /* data announced while a read or query was in flight */
    SOCKET_COUNT_UNSURE = 1u << 3, /* the last read did not say what is left */
    SOCKET_FLUSHING = 1u << 4      /* closing: what `send` accepted goes out first */
};

/* Registration: how often to ask, how long a denial may last before it counts. */
#define REGISTRATION_POLL_MS 1000u
#define DENIAL_MS 10000u
/* An open socket with nothing known pending asks the modem this often, so a lost
 * "data waiting" URC costs a pause, never a stall. */
#define CHECK_MS 5000u
/* Commands in a row that get no answer before the modem counts as gone. */
#define TIMEOUTS_BEFORE_RESTART 3

static void fail_socket(cellota_modem_socket *socket, int error)
{
    if (socket->state == CELLOTA_SOCKET_STATE_CLOSED ||
        socket->state == CELLOTA_SOCKET_STATE_CLOSING)
        return;
    if (socket->state != CELLOTA_SOCKET_STATE_FAILED) {
        socket->state = CELLOTA_SOCKET_STATE_FAILED;
        socket->error = error;
    }
}

static cellota_modem_socket *find_socket(cellota_modem *modem, int kind, int32_t link)
{
    uint8_t index;
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        cellota_modem_socket *socket = modem->sockets[index];
        if (socket && socket->link == link &&
            (kind < 0 || socket->kind == kind ||
             (modem->profile->flags & CELLOTA_MODEM_PUSHED_DATA)) &&
            socket->state != CELLOTA_SOCKET_STATE_CLOSED)
            return socket;
    }
    return NULL;
}

/* The received stream has a hole or damage: the socket fails with `error` even if the peer had
 * closed cleanly -- never "closed", which would mean everything arrived. */
static void break_stream(cellota_modem_socket *socket, int error)
{
    if (socket->state != CELLOTA_SOCKET_STATE_CLOSING &&
        socket->state != CELLOTA_SOCKET_STATE_CLOSED) {
        socket->state = CELLOTA_SOCKET_STATE_FAILED;
        socket->error = error;
    }
    socket->flags &= (uint8_t)~SOCKET_PEER_CLOSED;
    socket->pending = 0;
}

/* Every socket whose link the modem may hold fails with `error`; the links are gone. */
static void fail_links(cellota_modem *modem, int error)
{
    uint8_t index;
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        cellota_modem_socket *socket = modem->sockets[index];
        if (socket && (socket->flags & SOCKET_LINK_USED)) {
            fail_socket(socket, error);
            socket->flags &= (uint8_t) ~(SOCKET_LINK_USED | SOCKET_PEER_CLOSED);
            socket->pending = 0;
        }
    }
}

static void fail_bring_up(cellota_modem *modem, int error)
{
    uint8_t index;
    modem->stage = STAGE_FAILED;
    modem->error = error;
    modem->wanted = false;
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        cellota_modem_socket *socket = modem->sockets[index];
        if (socket && socket->state == CELLOTA_SOCKET_STATE_OPENING)
            fail_socket(socket, error);
    }
}

static void restart(cellota_modem *modem, int error)
{
    fail_links(modem, error);
    modem->stage = STAGE_BOOT;
    modem->timeouts = 0;
}

/* ---- events from the profiles ----------------------------------------------------------- */

void cellota_modem_opened(cellota_modem *modem, int kind, int32_t link, int error)
{
    cellota_modem_socket *socket = find_socket(modem, kind, link);
    if (!socket || socket->state != CELLOTA_SOCKET_STATE_OPENING ||
        !(socket->flags & SOCKET_LINK_USED))
        return;
    if (error) {
        fail_socket(socket, error);
        return;
    }
    socket->state = CELLOTA_SOCKET_STATE_OPEN;
    socket->pending = 0;
    socket->checked = modem->now;
}

void cellota_modem_closed(cellota_modem *modem, int kind, int32_t link, int error)
{
    cellota_modem_socket *socket = find_socket(modem, kind, link);
    if (!socket || !(socket->flags & SOCKET_LINK_USED))
        return;
    if (socket->state == CELLOTA_SOCKET_STATE_OPEN && error == CELLOTA_SOCKET_CLOSED) {
        /* Bytes the peer sent before closing may still wait in the modem: ask. (A modem that
         * pushes has sent them all before saying so.) */
        socket->flags |= SOCKET_PEER_CLOSED;
        socket->pending = (modem->profile->flags & CELLOTA_MODEM_PUSHED_DATA) ? 0 : -1;
    }
    fail_socket(socket, error ? error : CELLOTA_SOCKET_CLOSED);
}

void cellota_modem_data_ready(cellota_modem *modem, int kind, int32_t link, int32_t amount)
{
    cellota_modem_socket *socket = find_socket(modem, kind, link);
    if (!socket || !(socket->flags & SOCKET_LINK_USED))
        return;
    if (modem->operation_socket == socket &&
        (modem->operation == OPERATION_RECEIVE ||
         (modem->operation == OPERATION_QUERY && amount < 0))) {
        socket->flags |= SOCKET_DATA_HINT; /* the command's own count may be older */
        return;
    }
    /* "Data waits" adds nothing to a count already known: the modem holds at least that much,
     * and the next read's "left" says the rest. Asking again would cost a command per read. */
    if (amount < 0 && socket->pending > 0)
        return;
    socket->pending = amount;
}

void cellota_modem_send_result(cellota_modem *modem, int kind, int32_t link, int error)
{
    cellota_modem_socket *socket = find_socket(modem, kind, link);
    if (socket && error)
        fail_socket(socket, error);
}

int cellota_modem_data_header(cellota_modem *modem, int32_t link, int32_t length, int32_t rest)
{
    cellota_modem_socket *socket = modem->operation_socket;
    if (modem->operation != OPERATION_RECEIVE || !socket || socket->link != link || length < 0 ||
        (uint32_t)length > (uint32_t)(socket->reading - socket->received)) {
        /* Skip what the modem announced so it is not read as text, unless the length is not
         * one a modem could mean. */
        if (length > 0 && length <= 65535)
            cellota_at_expect_data(&modem->at, NULL, (uint32_t)length);
        return CELLOTA_AT_UNEXPECTED_REPLY;
    }
    cellota_at_expect_data(&modem->at,
                           socket->receive_buffer + socket->receive_end + socket->received,
                           (uint32_t)length);
    socket->received = (uint16_t)(socket->received + length);
    if (rest >= 0) {
        socket->pending = rest;
    } else {
        socket->flags |= SOCKET_COUNT_UNSURE;
        socket->pending = socket->pending >= length ? socket->pending - length : -1;
    }
    return CELLOTA_OK;
}

/* Moves a socket's unread bytes to the start of its buffer, so the room is in one piece. */
static void compact(cellota_modem_socket *socket)
{
    if (socket->receive_start == socket->receive_end) {
        socket->receive_start = socket->receive_end = 0;
    } else if (socket->receive_start > 0) {
        memmove(socket->receive_buffer, socket->receive_buffer + socket->receive_start,
                (size_t)(socket->receive_end - socket->receive_start));
        socket->receive_end = (uint16_t)(socket->receive_end - socket->receive_start);
        socket->receive_start = 0;
    }
}

static bool reading_state(const cellota_modem_socket *socket)
{
    return socket->state == CELLOTA_SOCKET_STATE_OPEN ||
           (socket->state == CELLOTA_SOCKET_STATE_FAILED && (socket->flags & SOCKET_PEER_CLOSED));
}

/* The engine finished a pushed block: its bytes count only if it came whole and undamaged. */
static void pushed_block_end(void *user, int result)
{
    cellota_modem *modem = user;
    cellota_modem_socket *socket = modem->pushed_socket;
    modem->pushed_socket = NULL;
    if (!socket)
        return; /* skipped */
    if (result == CELLOTA_OK)
        socket->receive_end = (uint16_t)(socket->receive_end + modem->pushed_length);
    else
        break_stream(socket, result);
}

/* The pushed block on the line goes into its socket's buffer once there is room for all of it;
 * a socket closed or failed meanwhile no longer wants it. */
static void take_pushed_block(cellota_modem *modem)
{
    cellota_modem_socket *socket = modem->pushed_socket;
    if (!cellota_at_pushed_waiting(&modem->at))
        return;
    if (socket && !reading_state(socket)) {
        modem->pushed_socket = socket = NULL;
    } else if (socket) {
        compact(socket);
        if ((uint32_t)(socket->receive_size - socket->receive_end) < modem->pushed_length)
            return;
    }
    cellota_at_take_pushed_data(&modem->at,
                                socket ? socket->receive_buffer + socket->receive_end : NULL);
}

/* Every stream a modem pushes is broken (its framing was lost on the line). */
static void break_pushed_streams(cellota_modem *modem, int error)
{
    uint8_t index;
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        cellota_modem_socket *socket = modem->sockets[index];
        if (socket && (socket->flags & SOCKET_LINK_USED) && reading_state(socket))
            break_stream(socket, error);
    }
}

/* A pushed block's header lost to damage leaves only a damaged, binary or unframed line behind:
 * after any such line no pushed stream can be trusted to be whole. */
static void watch_pushed_line(cellota_modem *modem)
{
    const cellota_at *at = &modem->at;
    uint32_t faults = at->damaged_lines + at->binary_lines + at->framing_errors;
    if (faults == modem->line_faults)
        return;
    modem->line_faults = faults;
    if (modem->profile->flags & CELLOTA_MODEM_PUSHED_DATA)
        break_pushed_streams(modem, CELLOTA_AT_DATA_DAMAGED);
}

void cellota_modem_pushed(cellota_modem *modem, int kind, int32_t link, int32_t length)
{
    cellota_modem_socket *socket;
    /* A hole may have opened since the last poll: no block after it may pass. */
    watch_pushed_line(modem);
    socket = find_socket(modem, kind, link);
    if (length <= 0 || length > 65535 ||
        !cellota_at_expect_pushed_data(&modem->at, (uint32_t)length, pushed_block_end, modem)) {
        break_pushed_streams(modem, CELLOTA_AT_DATA_FRAMING);
        return;
    }
    if (socket && (!(socket->flags & SOCKET_LINK_USED) || !reading_state(socket)))
        socket = NULL;
    if (socket && (uint32_t)length > socket->receive_size) {
        break_stream(socket, CELLOTA_AT_UNEXPECTED_REPLY); /* can never fit: skip it */
        socket = NULL;
    }
    modem->pushed_socket = socket;
    modem->pushed_length = (uint16_t)length;
    take_pushed_block(modem);
}

void cellota_modem_network_lost(cellota_modem *modem)
{
    if (modem->stage != STAGE_READY)
        return;
    fail_links(modem, CELLOTA_SOCKET_LINK_LOST);
    modem->stage = STAGE_DETACH;
}

int cellota_modem_on_boot_line(void *user, cellota_at *at, const char *arguments)
{
    /* SMS DONE, PB DONE, Call Ready, SMS Ready, +CPIN: READY, +CFUN: 1: the modem's start-up
     * progress. Readiness is checked with AT and AT+CPIN? instead, which also work when these
     * lines were printed before the MCU listened; the table entries keep them from being
     * mistaken for anything else. */
    (void)user;
    (void)at;
    (void)arguments;
    return CELLOTA_OK;
}

int cellota_modem_on_restart(void *user, cellota_at *at, const char *arguments)
{
    cellota_modem *modem = user;
    (void)at;
    (void)arguments;
    /* RDY: the modem (re)started. Expected while it boots; afterwards it lost everything. */
    if (modem->stage >= STAGE_SETUP && modem->stage != STAGE_FAILED)
        restart(modem, CELLOTA_AT_MODEM_RESET);
    return CELLOTA_OK;
}

int cellota_modem_on_sim(void *user, cellota_at *at, const char *arguments)
{
    (void)user;
    if (cellota_at_is(arguments, "READY"))
        return CELLOTA_OK;
    if (cellota_at_match(arguments, "SIM P") || cellota_at_match(arguments, "PH-SIM"))
        return CELLOTA_AT_SIM_LOCKED;
    if (cellota_at_match(arguments, "NOT INSERTED"))
        return cellota_at_retry(at, CELLOTA_AT_SIM_MISSING);
    return cellota_at_retry(at, CELLOTA_AT_SIM_BUSY);
}

int cellota_modem_on_registration(void *user, cellota_at *at, const char *arguments)
{
    cellota_modem *modem = user;
    int32_t values[2];
    int count = cellota_at_integers(arguments, values, 2);
    int32_t status;
    (void)at;
    if (count == 0)
        return CELLOTA_AT_UNEXPECTED_REPLY;
    /* "+CREG: <n>,<stat>[,...]" answers the query; "+CREG: <stat>" is the URC form. */
    status = count >= 2 ? values[1] : values[0];
    /* Home beats roaming beats denied beats anything else, over CREG, CGREG and CEREG. */
    if (status == 1 || (status == 5 && modem->registration != 1) ||
        (status == 3 && modem->registration != 1 && modem->registration != 5))
        modem->registration = (uint8_t)status;
    return CELLOTA_OK;
}

/* An echo after ATE0 means the modem started again with its defaults (SIM800 in autobaud mode
 * says nothing else when it restarts). */
static void check_echo(cellota_modem *modem)
{
    if (modem->stage > STAGE_SETUP && modem->stage != STAGE_FAILED &&
        modem->at.echoes != modem->echoes)
        restart(modem, CELLOTA_AT_MODEM_RESET);
}

/* ---- scripts ---------------------------------------------------------------------------- */

static void script_done(void *user, int result);

static void run(cellota_modem *modem, const cellota_at_script *script, uint8_t operation,
                cellota_modem_socket *socket)
{
    modem->operation = operation;
    modem->operation_socket = socket;
    modem->script_stage = modem->stage;
    if (socket) {
        modem->parameters.number[CELLOTA_AT_LINK] = socket->link;
        modem->parameters.text[CELLOTA_AT_HOST] = socket->host;
        modem->parameters.number[CELLOTA_AT_PORT] = socket->port;
    }
    if (!script->count) {
        modem->operation = OPERATION_NONE;
        return;
    }
    cellota_at_start(&modem->at, script->steps, script->count, &modem->parameters, script_done,
                     modem, modem->now);
}

static void bring_up_done(cellota_modem *modem, int result)
{
    const cellota_modem_profile *profile = modem->profile;
    switch (modem->stage) {
    case STAGE_PROBE:
        if (result == CELLOTA_OK) {
            modem->stage = STAGE_SETUP;
        } else if (modem->at.port->modem_power_key) {
            modem->at.port->modem_power_key(modem->at.port->context, true);
            modem->stage = STAGE_PRESS;
            modem->timer = modem->now + profile->power_key_ms;
        } else {
            fail_bring_up(modem, CELLOTA_AT_NO_RESPONSE);
        }
        break;
    case STAGE_BOOT:
        if (result == CELLOTA_OK)
            modem->stage = STAGE_SETUP;
        else
            fail_bring_up(modem, CELLOTA_AT_NO_RESPONSE);
        break;
    case STAGE_SETUP:
        if (result != CELLOTA_OK) {
            fail_bring_up(modem, result);
            break;
        }
        modem->echoes = modem->at.echoes;
        modem->stage = STAGE_REGISTER;
        modem->deadline =
            modem->now +
            1000u * (modem->config->registration_s ? modem->config->registration_s : 180u);
        modem->denied_since = 0;
        break;
    case STAGE_REGISTER:
        if (modem->registration == 1 || modem->registration == 5) {
            modem->roaming = modem->registration == 5;
            modem->stage = STAGE_ATTACH;
            break;
        }
        if (modem->registration != 3)
            modem->denied_since = 0;
        else if (!modem->denied_since)
            modem->denied_since = modem->now | 1u;
        else if (modem->now - modem->denied_since >= DENIAL_MS) {
            fail_bring_up(modem, CELLOTA_AT_REGISTRATION_DENIED);
            break;
        }
        if (cellota_time_reached(modem->now, modem->deadline)) {
            fail_bring_up(modem, modem->registration == 3 ? CELLOTA_AT_REGISTRATION_DENIED
                                                          : CELLOTA_AT_REGISTRATION_TIMEOUT);
            break;
        }
        modem->stage = STAGE_REGISTER_WAIT;
        modem->timer = modem->now + REGISTRATION_POLL_MS;
        break;
    case STAGE_DETACH:
        modem->stage = STAGE_REGISTER;
        modem->deadline =
            modem->now +
            1000u * (modem->config->registration_s ? modem->config->registration_s : 180u);
        break;
    case STAGE_ATTACH:
        if (result == CELLOTA_OK) {
            modem->stage = STAGE_READY;
            modem->timeouts = 0;
        } else {
            fail_bring_up(modem,
                          result == CELLOTA_AT_COMMAND_FAILED || result == CELLOTA_AT_MODEM_ERROR
                              ? CELLOTA_AT_CONTEXT_FAILED
                              : result);
        }
        break;
    default:
        break; /* superseded by a restart or network loss while it ran */
    }
}

static void socket_done(cellota_modem *modem, cellota_modem_socket *socket, uint8_t operation,
                        int result)
{
    switch (operation) {
    case OPERATION_OPEN:
        if (result != CELLOTA_OK)
            fail_socket(socket, result);
        else if (socket->state == CELLOTA_SOCKET_STATE_OPENING)
            socket->deadline = modem->now + 1000u * modem->profile->open_s;
        break;
    case OPERATION_SEND:
        if (result != CELLOTA_OK) {
            fail_socket(socket,
                        result == CELLOTA_AT_COMMAND_FAILED ? CELLOTA_AT_SEND_FAILED : result);
            if (socket->state == CELLOTA_SOCKET_STATE_CLOSING)
                socket->send_length = 0; /* nothing more goes out: close */
            break;
        }
        if (socket->send_in_flight > socket->send_length) {
            socket->send_length = 0; /* the buffer was let go meanwhile */
            break;
        }
        memmove(socket->send_buffer, socket->send_buffer + socket->send_in_flight,
                socket->send_length - socket->send_in_flight);
        socket->send_length = (uint16_t)(socket->send_length - socket->send_in_flight);
        break;
    case OPERATION_RECEIVE:
        if (result == CELLOTA_OK && socket->received == 0)
            result = CELLOTA_AT_RECEIVE_FAILED; /* it held less than it said: a hole */
        if (result != CELLOTA_OK) {
            break_stream(socket,
                         result == CELLOTA_AT_COMMAND_FAILED ? CELLOTA_AT_RECEIVE_FAILED : result);
        } else {
            socket->receive_end = (uint16_t)(socket->receive_end + socket->received);
            /* The modem holds at least what it said is left, so the next read goes out at once;
             * only when that is nothing and data came in meanwhile (or the count was a guess)
             * is it asked. */
            if (socket->pending == 0 && (socket->flags & (SOCKET_DATA_HINT | SOCKET_COUNT_UNSURE)))
                socket->pending = -1;
        }
        socket->flags &= (uint8_t) ~(SOCKET_DATA_HINT | SOCKET_COUNT_UNSURE);
        socket->reading = 0;
        socket->received = 0;
        break;
    case OPERATION_QUERY:
        socket->checked = modem->now;
        if (result == CELLOTA_AT_DATA_DAMAGED || result == CELLOTA_AT_DATA_FRAMING) {
            socket->pending = -1; /* a query takes no data: ask again */
        } else if (result != CELLOTA_OK || socket->pending < 0) {
            /* No answer for this link: after a close that means nothing is left; refused on
             * an open link, the link is gone. */
            if (socket->flags & SOCKET_PEER_CLOSED)
                socket->pending = 0;
            else if (result == CELLOTA_AT_COMMAND_FAILED || result == CELLOTA_AT_MODEM_ERROR)
                fail_socket(socket, CELLOTA_SOCKET_LINK_LOST);
            else
                socket->pending = 0;
        }
        /* Data announced while the answer was on its way: the answer may predate it. */
        if (socket->pending == 0 && (socket->flags & SOCKET_DATA_HINT) &&
            socket->state != CELLOTA_SOCKET_STATE_CLOSING)
            socket->pending = -1;
        socket->flags &= (uint8_t)~SOCKET_DATA_HINT;
        break;
    case OPERATION_CLOSE:
        socket->state = CELLOTA_SOCKET_STATE_CLOSED;
        socket->flags = 0;
        break;
    default:
        break;
    }
}

static void script_done(void *user, int result)
{
    cellota_modem *modem = user;
    uint8_t operation = modem->operation;
    cellota_modem_socket *socket = modem->operation_socket;

    modem->operation = OPERATION_NONE;
    modem->operation_socket = NULL;
    check_echo(modem); /* a restart explains this script's failure better than the failure */
    if (operation == OPERATION_BRING_UP && modem->script_stage != modem->stage)
        return; /* a restart or network loss changed the plan while it ran */
    if (result == CELLOTA_AT_REPLY_TIMEOUT && modem->stage == STAGE_READY) {
        if (++modem->timeouts >= TIMEOUTS_BEFORE_RESTART) {
            restart(modem, CELLOTA_AT_NO_RESPONSE);
            return;
        }
    } else if (result == CELLOTA_OK) {
        modem->timeouts = 0;
    }
    if (operation == OPERATION_BRING_UP)
        bring_up_done(modem, result);
    else if (socket)
        socket_done(modem, socket, operation, result);
}

/* ---- scheduling ------------------------------------------------------------------------- */

/* Sends what the socket's send buffer holds, up to the modem's largest send. */
static void send_pending(cellota_modem *modem, cellota_modem_socket *socket)
{
    uint16_t length = socket->send_length;
    if (length > modem->profile->max_send)
        length = modem->profile->max_send;
    socket->send_in_flight = length;
    modem->parameters.number[CELLOTA_AT_LENGTH] = length;
    cellota_at_set_payload(&modem->at, socket->send_buffer, length);
    run(modem, &modem->profile->send[socket->kind], OPERATION_SEND, socket);
}

/* Starts the next command for `socket`, if it has one; true when it did. */
static bool socket_work(cellota_modem *modem, cellota_modem_socket *socket)
{
    const cellota_modem_profile *profile = modem->profile;
    uint8_t kind = socket->kind;

    if (socket->state == CELLOTA_SOCKET_STATE_CLOSING && (socket->flags & SOCKET_FLUSHING) &&
        socket->send_length > 0) {
        send_pending(modem, socket);
        return true;
    }
    if (socket->state == CELLOTA_SOCKET_STATE_CLOSING) {
        run(modem, &profile->close[kind], OPERATION_CLOSE, socket);
        if (modem->operation == OPERATION_NONE) {
            socket->state = CELLOTA_SOCKET_STATE_CLOSED;
            socket->flags = 0;
        }
        return true;
    }
    if (socket->state == CELLOTA_SOCKET_STATE_OPENING && !(socket->flags & SOCKET_LINK_USED)) {
        socket->flags |= SOCKET_LINK_USED;
        run(modem, &profile->open[kind], OPERATION_OPEN, socket);
        return true;
    }
    if (socket->state == CELLOTA_SOCKET_STATE_OPENING &&
        cellota_time_reached(modem->now, socket->deadline) && socket->deadline) {
        fail_socket(socket, CELLOTA_AT_OPEN_TIMEOUT);
        return false;
    }
    if (socket->state == CELLOTA_SOCKET_STATE_OPEN && socket->send_length > 0) {
        send_pending(modem, socket);
        return true;
    }
    if (!reading_state(socket) || (profile->flags & CELLOTA_MODEM_PUSHED_DATA))
        return false;
    if (socket->pending > 0) {
        uint32_t space, wanted = (uint32_t)socket->pending;
        compact(socket);
        space = (uint32_t)(socket->receive_size - socket->receive_end);
        if (wanted > profile->max_read)
            wanted = profile->max_read;
        /* Wait for room for a worthwhile read rather than asking for crumbs. */
        if (space == 0 || (space < wanted && space < socket->receive_size / 2u))
            return false;
        if (wanted > space)
            wanted = space;
        socket->reading = (uint16_t)wanted;
        socket->received = 0;
        modem->parameters.number[CELLOTA_AT_LENGTH] = wanted;
        run(modem, &profile->receive[kind], OPERATION_RECEIVE, socket);
        return true;
    }
    if (socket->pending < 0 || (socket->state == CELLOTA_SOCKET_STATE_OPEN &&
                                cellota_time_reached(modem->now, socket->checked + CHECK_MS))) {
        run(modem, &profile->query[kind], OPERATION_QUERY, socket);
        if (modem->operation == OPERATION_NONE)
            socket->pending = 0; /* no way to ask: nothing known is waiting */
        return modem->operation != OPERATION_NONE;
    }
    return false;
}

static void schedule(cellota_modem *modem)
{
    const cellota_modem_profile *profile = modem->profile;
    const cellota_at_script *script = NULL;
    uint8_t index;

    if (cellota_at_busy(&modem->at))
        return;
    check_echo(modem);

    switch (modem->stage) {
    case STAGE_OFF:
    case STAGE_FAILED:
        if (!modem->wanted)
            return;
        modem->stage = STAGE_PROBE;
        script = &profile->probe;
        break;
    case STAGE_PROBE:
        script = &profile->probe;
        break;
    case STAGE_PRESS:
        if (!cellota_time_reached(modem->now, modem->timer))
            return;
        modem->at.port->modem_power_key(modem->at.port->context, false);
        modem->stage = STAGE_BOOT;
        return;
    case STAGE_BOOT:
        script = &profile->boot;
        break;
    case STAGE_SETUP:
        script = &profile->setup;
        break;
    case STAGE_REGISTER_WAIT:
        if (!cellota_time_reached(modem->now, modem->timer))
            return;
        modem->stage = STAGE_REGISTER;
        /* fall through */
    case STAGE_REGISTER:
        modem->registration = 0;
        script = &profile->registration;
        break;
    case STAGE_DETACH:
        script = &profile->detach;
        break;
    case STAGE_ATTACH:
        script = &profile->attach;
        break;
    default:
        break;
    }
    if (script) {
        run(modem, script, OPERATION_BRING_UP, NULL);
        if (modem->operation == OPERATION_NONE)
            bring_up_done(modem, CELLOTA_OK); /* an empty script has nothing to fail */
        return;
    }

    /* Ready: sockets in turn, so one busy socket does not starve the others. */
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        uint8_t slot = (uint8_t)((modem->next_socket + index) % CELLOTA_MODEM_SOCKETS);
        cellota_modem_socket *socket = modem->sockets[slot];
        if (socket && socket_work(modem, socket)) {
            modem->next_socket = (uint8_t)(slot + 1);
            return;
        }
    }
}

/* Sockets the driver cannot serve now: closing ones need no command when the modem lost the
 * link anyway; opening ones wait for the bring-up they asked for. */
static void settle_sockets(cellota_modem *modem)
{
    uint8_t index;
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        cellota_modem_socket *socket = modem->sockets[index];
        if (!socket)
            continue;
        if (socket->state == CELLOTA_SOCKET_STATE_CLOSING &&
            (modem->stage != STAGE_READY || !(socket->flags & SOCKET_LINK_USED)) &&
            modem->operation_socket != socket) {
            socket->state = CELLOTA_SOCKET_STATE_CLOSED;
            socket->flags = 0;
        }
        if (socket->state == CELLOTA_SOCKET_STATE_OPENING && modem->stage != STAGE_READY)
            modem->wanted = true;
    }
}

void cellota_modem_poll(cellota_modem *modem, uint32_t now)
{
    modem->now = now;
    take_pushed_block(modem);
    cellota_at_poll(&modem->at, now);
    watch_pushed_line(modem);
    settle_sockets(modem);
    schedule(modem);
    /* A command chosen now goes out in this call, not the next. */
    cellota_at_poll(&modem->at, now);
}

/* ---- the modem's public functions ------------------------------------------------------- */

int cellota_modem_init(cellota_modem *modem, const cellota_port *port,
                       const cellota_modem_profile *profile, const cellota_modem_config *config)
{
    if (!modem || !port || !profile || !config || !port->uart_read || !port->uart_write)
        return CELLOTA_INVALID_ARGUMENT;
    memset(modem, 0, sizeof(*modem));
    cellota_at_init(&modem->at, port, profile->urcs, profile->urc_count, modem);
    modem->profile = profile;
    modem->config = config;
    modem->parameters.text[CELLOTA_AT_APN] = config->apn;
    modem->parameters.text[CELLOTA_AT_USER] = config->user;
    modem->parameters.text[CELLOTA_AT_PASSWORD] = config->password;
    modem->parameters.text[CELLOTA_AT_CA_FILE] = config->ca_file;
    modem->parameters.text[CELLOTA_AT_TEXT] = config->catm_bands;
    modem->parameters.text[CELLOTA_AT_TEXT2] = config->nbiot_bands;
    modem->parameters.number[CELLOTA_AT_MODE] = config->network_mode;
    modem->parameters.number[CELLOTA_AT_CATEGORY] = config->lte_category;
    modem->parameters.number[CELLOTA_AT_FLOW] = config->flow_control ? 2 : 0;
    modem->parameters.text[CELLOTA_AT_CERTIFICATE_FILE] = config->certificate_file;
    modem->parameters.text[CELLOTA_AT_KEY_FILE] = config->key_file;
    /* The SIM7600's authmode: server authentication only when there is a CA to check against
     * (1), and the client's too when it has a certificate (2; 3 client only). */
    modem->parameters.number[CELLOTA_AT_NUMBER] =
        (config->ca_file && config->ca_file[0] ? 1u : 0u) +
        (config->certificate_file && config->certificate_file[0] ? 2u : 0u);
    if (modem->parameters.number[CELLOTA_AT_NUMBER] == 3)
        modem->parameters.number[CELLOTA_AT_NUMBER] = 2;
    else if (modem->parameters.number[CELLOTA_AT_NUMBER] == 2)
        modem->parameters.number[CELLOTA_AT_NUMBER] = 3;
    return CELLOTA_OK;
}

int cellota_modem_start(cellota_modem *modem, uint32_t now)
{
    modem->now = now;
    if (modem->stage == STAGE_READY)
        return CELLOTA_OK;
    modem->wanted = true;
    return CELLOTA_IN_PROGRESS;
}

cellota_modem_state cellota_modem_status(const cellota_modem *modem, int *error)
{
    if (error)
        *error = modem->stage == STAGE_FAILED ? modem->error : CELLOTA_OK;
    switch (modem->stage) {
    case STAGE_OFF:
        return CELLOTA_MODEM_OFF;
    case STAGE_REGISTER:
    case STAGE_REGISTER_WAIT:
    case STAGE_DETACH:
        return CELLOTA_MODEM_REGISTERING;
    case STAGE_ATTACH:
        return CELLOTA_MODEM_ATTACHING;
    case STAGE_READY:
        return CELLOTA_MODEM_READY;
    case STAGE_FAILED:
        return CELLOTA_MODEM_FAILED;
    default:
        return CELLOTA_MODEM_STARTING;
    }
}

bool cellota_modem_roaming(const cellota_modem *modem)
{
    return modem->roaming;
}

cellota_at *cellota_modem_at(cellota_modem *modem)
{
    return &modem->at;
}

/* ---- sockets ---------------------------------------------------------------------------- */

int cellota_modem_socket_init(cellota_modem_socket *socket, cellota_modem *modem, uint8_t link,
                              uint8_t *receive_buffer, size_t receive_size, uint8_t *send_buffer,
                              size_t send_size)
{
    uint8_t index, free_slot = CELLOTA_MODEM_SOCKETS;
    if (!socket || !modem || !receive_buffer || !send_buffer || receive_size == 0 ||
        send_size == 0 || receive_size > 65535u || send_size > 65535u)
        return CELLOTA_INVALID_ARGUMENT;
    if (link >= modem->profile->links)
        return CELLOTA_AT_LINK_UNAVAILABLE;
    for (index = 0; index < CELLOTA_MODEM_SOCKETS; index++) {
        if (modem->sockets[index] && modem->sockets[index]->link == link)
            return CELLOTA_BUSY;
        if (!modem->sockets[index] && free_slot == CELLOTA_MODEM_SOCKETS)
            free_slot = index;
    }
    if (free_slot == CELLOTA_MODEM_SOCKETS)
        return CELLOTA_BUSY;
    memset(socket, 0, sizeof(*socket));
    socket->modem = modem;
    socket->link = link;
    socket->receive_buffer = receive_buffer;
    socket->receive_size = (uint16_t)receive_size;
    socket->send_buffer = send_buffer;
    socket->send_size = (uint16_t)send_size;
    modem->sockets[free_slot] = socket;
    return CELLOTA_OK;
}

static int socket_open(void *context, cellota_socket_kind kind, const char *host, uint16_t port)
{
    cellota_modem_socket *socket = context;
    const cellota_modem_profile *profile = socket->modem->profile;
    size_t length = host ? strlen(host) : 0;

    if (socket->state != CELLOTA_SOCKET_STATE_CLOSED)
        return CELLOTA_BUSY;
    if (kind != CELLOTA_SOCKET_TCP && kind != CELLOTA_SOCKET_TLS)
        return CELLOTA_INVALID_ARGUMENT;
    if (kind == CELLOTA_SOCKET_TLS && socket->link >= profile->tls_links)
        return CELLOTA_AT_TLS_UNSUPPORTED;
    if (length == 0 || length >= sizeof(socket->host))
        return CELLOTA_INVALID_ARGUMENT;
    memcpy(socket->host, host, length + 1);
    socket->port = port;
    socket->kind = (uint8_t)kind;
    socket->state = CELLOTA_SOCKET_STATE_OPENING;
    socket->flags = 0;
    socket->error = CELLOTA_OK;
    socket->deadline = 0;
    socket->pending = 0;
    socket->reading = 0;
    socket->receive_start = socket->receive_end = 0;
    socket->send_length = 0;
    if (socket->modem->pushed_socket == socket)
        socket->modem->pushed_socket = NULL; /* a block of the last connection: not this one's */
    if (socket->modem->stage != STAGE_READY)
        socket->modem->wanted = true;
    return CELLOTA_IN_PROGRESS;
}

static int socket_send(void *context, const uint8_t *data, size_t length, size_t *accepted)
{
    cellota_modem_socket *socket = context;
    size_t room;
    *accepted = 0;
    if (socket->state != CELLOTA_SOCKET_STATE_OPEN)
        return socket->state == CELLOTA_SOCKET_STATE_FAILED ? socket->error
                                                            : CELLOTA_SOCKET_NOT_OPEN;
    room = (size_t)(socket->send_size - socket->send_length);
    if (length > room)
        length = room;
    memcpy(socket->send_buffer + socket->send_length, data, length);
    socket->send_length = (uint16_t)(socket->send_length + length);
    *accepted = length;
    return CELLOTA_OK;
}

static int socket_receive(void *context, uint8_t *buffer, size_t capacity, size_t *received)
{
    cellota_modem_socket *socket = context;
    size_t available = (size_t)(socket->receive_end - socket->receive_start);
    *received = 0;
    if (socket->state == CELLOTA_SOCKET_STATE_CLOSED ||
        socket->state == CELLOTA_SOCKET_STATE_CLOSING)
        return CELLOTA_SOCKET_NOT_OPEN;
    if (available > 0) {
        if (available > capacity)
            available = capacity;
        memcpy(buffer, socket->receive_buffer + socket->receive_start, available);
        socket->receive_start = (uint16_t)(socket->receive_start + available);
        *received = available;
        return CELLOTA_OK;
    }
    if (socket->state != CELLOTA_SOCKET_STATE_FAILED)
        return CELLOTA_OK;
    /* Failed: what the peer sent before closing is delivered first, then the reason. */
    if ((socket->flags & SOCKET_PEER_CLOSED) &&
        (socket->pending != 0 || socket->modem->operation_socket == socket))
        return CELLOTA_OK;
    return socket->error;
}

static int socket_close(void *context)
{
    cellota_modem_socket *socket = context;
    if (socket->state == CELLOTA_SOCKET_STATE_CLOSED)
        return CELLOTA_OK;
    if (!(socket->flags & SOCKET_LINK_USED) || socket->modem->stage != STAGE_READY) {
        if (socket->modem->operation_socket != socket) {
            socket->state = CELLOTA_SOCKET_STATE_CLOSED;
            socket->flags = 0;
            return CELLOTA_OK;
        }
    }
    /* As a TCP close: what was accepted for sending goes out first (an MQTT DISCONNECT), unless
     * the connection is broken. */
    if (socket->state == CELLOTA_SOCKET_STATE_OPEN && socket->send_length > 0)
        socket->flags |= SOCKET_FLUSHING;
    else
        socket->send_length = 0;
    socket->state = CELLOTA_SOCKET_STATE_CLOSING;
    return CELLOTA_IN_PROGRESS;
}

static void socket_poll(void *context, uint32_t now_ms)
{
    cellota_modem_socket *socket = context;
    cellota_modem_poll(socket->modem, now_ms);
}

static cellota_socket_state socket_state(void *context, int *error)
{
    cellota_modem_socket *socket = context;
    if (error)
        *error = socket->state == CELLOTA_SOCKET_STATE_FAILED ? socket->error : CELLOTA_OK;
    return (cellota_socket_state)socket->state;
}

static const cellota_socket_operations socket_operations = {
    socket_open, socket_send, socket_receive, socket_close, socket_poll, socket_state};

cellota_socket cellota_modem_socket_handle(cellota_modem_socket *socket)
{
    cellota_socket handle;
    handle.operations = &socket_operations;
    handle.context = socket;
    return handle;
}
