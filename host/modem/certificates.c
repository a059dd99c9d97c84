/*
 * Certificates and keys a device writes into the modem for TLS, kept in a store that survives
 * resets (the modems keep them in flash), and the commands that write them:
 *
 *   SIM7600 (SSL AT manual)                  SIM7000 / SIM7070 (file system + SSL app notes)
 *   AT+CCERTDOWN="name",<len>  '>' bytes OK  AT+CFSINIT                                OK
 *   AT+CCERTLIST  +CCERTLIST: "name" ... OK  AT+CFSWFILE=3,"name",0,<len>,<ms>  DOWNLOAD bytes OK
 *   AT+CCERTDELE="name"        OK | ERROR    AT+CFSTERM                                OK
 *                                            AT+CFSDFILE=3,"name"                      OK | ERROR
 *
 * Which of them a TLS connection uses is the dialects' business (AT+CSSLCFG "cacert",
 * "clientcert", "clientkey" on the SIM7600; AT+CSSLCFG="convert" and AT+CASSLCFG on the CA
 * dialect); link.c does the TLS with them.
 */
#include "emulator_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static modem_certificate *find(modem_emulator *emulator, const char *name)
{
    int index;
    for (index = 0; index < MODEM_CERTIFICATES; index++) {
        modem_certificate *entry = &emulator->certificates.entries[index];
        if (entry->name[0] && strcmp(entry->name, name) == 0)
            return entry;
    }
    return NULL;
}

const modem_certificate *certificate_find(const modem_emulator *emulator, const char *name)
{
    return name && name[0] ? find((modem_emulator *)emulator, name) : NULL;
}

static void drop_incoming(certificate_store *store);

static void release(modem_certificate *entry)
{
    free(entry->data);
    memset(entry, 0, sizeof(*entry));
}

void certificates_free(modem_emulator *emulator)
{
    int index;
    for (index = 0; index < MODEM_CERTIFICATES; index++)
        release(&emulator->certificates.entries[index]);
    drop_incoming(&emulator->certificates);
}

/* The payload arrives in pieces; it is kept apart until whole, so a cancelled or timed-out
 * write leaves the old certificate in place. */
static void take_piece(modem_emulator *emulator, const uint8_t *data, size_t length)
{
    certificate_store *store = &emulator->certificates;
    if (store->incoming && store->incoming_size + length <= MODEM_CERTIFICATE_MAX) {
        memcpy(store->incoming + store->incoming_size, data, length);
        store->incoming_size += length;
    }
}

static void drop_incoming(certificate_store *store)
{
    free(store->incoming);
    store->incoming = NULL;
    store->incoming_size = 0;
}

static void write_done(modem_emulator *emulator, const uint8_t *payload, size_t length,
                       bool cancelled)
{
    certificate_store *store = &emulator->certificates;
    modem_certificate *entry = find(emulator, store->writing);
    int index;
    (void)payload;
    if (cancelled || !store->incoming || store->incoming_size != length ||
        length != store->incoming_expected) {
        drop_incoming(store);
        out_error(emulator);
        return;
    }
    for (index = 0; !entry && index < MODEM_CERTIFICATES; index++)
        if (!store->entries[index].name[0])
            entry = &store->entries[index];
    if (!entry) {
        drop_incoming(store);
        out_error(emulator);
        return;
    }
    release(entry);
    snprintf(entry->name, sizeof(entry->name), "%s", store->writing);
    entry->data = store->incoming;
    entry->size = store->incoming_size;
    store->incoming = NULL;
    store->incoming_size = 0;
    out_ok(emulator);
}

void certificate_begin_write(modem_emulator *emulator, const char *name, size_t length, bool prompt)
{
    certificate_store *store = &emulator->certificates;
    data_sink sink;
    snprintf(store->writing, sizeof(store->writing), "%s", name);
    drop_incoming(store);
    store->incoming = malloc(MODEM_CERTIFICATE_MAX);
    store->incoming_expected = length;
    memset(&sink, 0, sizeof(sink));
    sink.expected = length;
    sink.on_data = take_piece;
    sink.on_end = write_done;
    begin_data_input(emulator, &sink, prompt);
}

static bool valid_name(const char *name)
{
    return name[0] && strlen(name) < MODEM_CERTIFICATE_NAME && !strpbrk(name, "/\\");
}

/* ---- SIM7600 ---------------------------------------------------------------------------- */

static int command_ccertdown(modem_emulator *emulator, const at_command *command)
{
    const char *name = argument_text(command, 0);
    long length;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!valid_name(name) || !argument_int(command, 1, &length) || length < 1 ||
        length > MODEM_CERTIFICATE_MAX)
        return RESULT_ERROR;
    certificate_begin_write(emulator, name, (size_t)length, true);
    return RESULT_PENDING;
}

static int command_ccertlist(modem_emulator *emulator, const at_command *command)
{
    int index;
    if (command->type != COMMAND_EXECUTE)
        return RESULT_OK;
    for (index = 0; index < MODEM_CERTIFICATES; index++)
        if (emulator->certificates.entries[index].name[0])
            out_line(emulator, "+CCERTLIST: \"%s\"", emulator->certificates.entries[index].name);
    return RESULT_OK;
}

static int command_ccertdele(modem_emulator *emulator, const at_command *command)
{
    modem_certificate *entry;
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    entry = find(emulator, argument_text(command, 0));
    if (!entry)
        return RESULT_ERROR;
    release(entry);
    return RESULT_OK;
}

const command_entry sim7600_certificate_commands[] = {
    {"+CCERTDOWN", command_ccertdown, 0},
    {"+CCERTLIST", command_ccertlist, 0},
    {"+CCERTDELE", command_ccertdele, 0},
    {NULL, NULL, 0},
};

/* ---- SIM7000 / SIM7070 file system (only what certificates need) ---------------------------- */

static int command_cfsinit(modem_emulator *emulator, const at_command *command)
{
    if (command->type != COMMAND_EXECUTE)
        return RESULT_OK;
    if (emulator->certificates.fs_open)
        return RESULT_ERROR; /* the buffer is allocated already: AT+CFSTERM first */
    emulator->certificates.fs_open = true;
    return RESULT_OK;
}

static int command_cfsterm(modem_emulator *emulator, const at_command *command)
{
    if (command->type != COMMAND_EXECUTE)
        return RESULT_OK;
    emulator->certificates.fs_open = false;
    return RESULT_OK;
}

/* AT+CFSWFILE=<dir>,"name",<mode 0 overwrite, 1 append>,<len>,<timeout ms>: "DOWNLOAD", then
 * the bytes. Only directory 3 ("customer", where certificates go) and mode 0. */
static int command_cfswfile(modem_emulator *emulator, const at_command *command)
{
    const char *name = argument_text(command, 1);
    long directory, mode, length, timeout;
    if (command->type != COMMAND_SET)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!emulator->certificates.fs_open || !argument_int(command, 0, &directory) ||
        directory != 3 || !valid_name(name) || !argument_int(command, 2, &mode) || mode != 0 ||
        !argument_int(command, 3, &length) || length < 1 || length > MODEM_CERTIFICATE_MAX ||
        !argument_int(command, 4, &timeout) || timeout < 100 || timeout > 10000)
        return RESULT_ERROR;
    out_line(emulator, "DOWNLOAD");
    certificate_begin_write(emulator, name, (size_t)length, false);
    emulator->sink.deadline_us = emulator->now_us + (uint64_t)timeout * 1000u;
    return RESULT_PENDING;
}

static int command_cfsdfile(modem_emulator *emulator, const at_command *command)
{
    modem_certificate *entry;
    long directory;
    if (command->type != COMMAND_SET)
        return RESULT_OK;
    if (!emulator->certificates.fs_open || !argument_int(command, 0, &directory) || directory != 3)
        return RESULT_ERROR;
    entry = find(emulator, argument_text(command, 1));
    if (!entry)
        return RESULT_ERROR;
    release(entry);
    return RESULT_OK;
}

const command_entry ca_certificate_commands[] = {
    {"+CFSINIT", command_cfsinit, 0},
    {"+CFSTERM", command_cfsterm, 0},
    {"+CFSWFILE", command_cfswfile, 0},
    {"+CFSDFILE", command_cfsdfile, 0},
    {NULL, NULL, 0},
};
