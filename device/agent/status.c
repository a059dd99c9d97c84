/* The agent's status message and state names (see agent.h and docs/agent.md). */
#include "agent/agent.h"

#include "core/error.h"
#include "net/text.h"

#include <string.h>

static const char *const state_names[] = {
    "starting", "testing",   "idle",       "checking",  "downloading", "waiting", "verifying",
    "staging",  "rebooting", "up_to_date", "confirmed", "rolled_back", "failed",
};

const char *cellota_agent_state_name(cellota_agent_state state)
{
    if ((size_t)state >= sizeof(state_names) / sizeof(state_names[0]))
        return "unknown";
    return state_names[state];
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void write_string(cellota_writer *writer, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    cellota_writer_byte(writer, '"');
    for (; text && *text; text++) {
        uint8_t byte = (uint8_t)*text;
        if (byte == '"' || byte == '\\') {
            cellota_writer_byte(writer, '\\');
            cellota_writer_byte(writer, byte);
        } else if (byte < 0x20 || byte == 0x7F) {
            cellota_writer_text(writer, "\\u00");
            cellota_writer_byte(writer, (uint8_t)hex[byte >> 4]);
            cellota_writer_byte(writer, (uint8_t)hex[byte & 15]);
        } else {
            cellota_writer_byte(writer, byte);
        }
    }
    cellota_writer_byte(writer, '"');
}

static void write_member(cellota_writer *writer, const char *name, bool first)
{
    if (!first)
        cellota_writer_byte(writer, ',');
    write_string(writer, name);
    cellota_writer_byte(writer, ':');
}

static void write_number(cellota_writer *writer, const char *name, uint32_t value)
{
    write_member(writer, name, false);
    cellota_writer_decimal(writer, value);
}

int cellota_agent_status_json(const cellota_agent_report *report, const char *campaign,
                              const cellota_agent_running *running, char *buffer, size_t size,
                              size_t *length)
{
    cellota_writer writer = {(uint8_t *)buffer, size, 0, false};
    char text[CELLOTA_ERROR_TEXT_SIZE];
    uint32_t progress;

    if (!buffer || size == 0)
        return CELLOTA_BUFFER_TOO_SMALL;
    progress = cellota_text_scaled_share(report->offset, report->size, 100);
    cellota_writer_byte(&writer, '{');
    write_member(&writer, "state", true);
    write_string(&writer, cellota_agent_state_name(report->state));
    write_member(&writer, "version", false);
    write_string(&writer, report->version);
    write_member(&writer, "target", false);
    write_string(&writer, report->target);
    write_number(&writer, "progress", progress);
    write_number(&writer, "offset", report->offset);
    write_number(&writer, "size", report->size);
    write_number(&writer, "downloaded", report->downloaded);
    write_number(&writer, "redownloaded", report->redownloaded);
    write_member(&writer, "error", false);
    if (report->error < 0) { /* codes are never negative; keep the JSON valid anyway */
        cellota_writer_byte(&writer, '-');
        cellota_writer_decimal(&writer, (uint32_t) - (int64_t)report->error);
    } else {
        cellota_writer_decimal(&writer, (uint32_t)report->error);
    }
    write_member(&writer, "error_name", false);
    write_string(&writer, cellota_error_name_text(report->error, text, sizeof(text)));
    write_member(&writer, "message", false);
    write_string(&writer, cellota_error_sentence(report->error, text, sizeof(text)));
    if (report->model) {
        write_member(&writer, "model", false);
        write_string(&writer, report->model);
    }
    if (campaign && campaign[0]) {
        write_member(&writer, "campaign", false);
        write_string(&writer, campaign);
    }
    if (running && running->size > 0 && running->sha256) {
        static const char hex[] = "0123456789abcdef";
        write_member(&writer, "image", false);
        cellota_writer_byte(&writer, '"');
        cellota_writer_decimal(&writer, running->size);
        cellota_writer_byte(&writer, ':');
        for (size_t i = 0; i < 32; i++) {
            cellota_writer_byte(&writer, (uint8_t)hex[running->sha256[i] >> 4]);
            cellota_writer_byte(&writer, (uint8_t)hex[running->sha256[i] & 15]);
        }
        cellota_writer_byte(&writer, '"');
    }
    if (running) {
        write_member(&writer, "decodes", false);
        cellota_writer_text(&writer, running->decodes ? "true" : "false");
    }
    cellota_writer_byte(&writer, '}');
    if (writer.overflow || writer.length >= size) {
        buffer[0] = '\0';
        return CELLOTA_BUFFER_TOO_SMALL;
    }
    buffer[writer.length] = '\0';
    if (length)
        *length = writer.length;
    return CELLOTA_OK;
}
