/* TLS credentials into the modem; see credentials.h. */
#include "at/credentials.h"

#include "core/error.h"

#include <string.h>

enum { STAGE_CA = 0, STAGE_CERTIFICATE, STAGE_KEY, STAGE_INSTALL, STAGE_DONE };

static void script_done(void *user, int result)
{
    ((cellota_credentials_writer *)user)->result = result;
}

static bool named(const cellota_modem_file *file)
{
    return file->data && file->length && file->name && file->name[0];
}

int cellota_credentials_writer_init(cellota_credentials_writer *writer, cellota_modem *modem,
                                    const cellota_modem_credentials *credentials)
{
    const cellota_modem_file *files;
    uint8_t index;
    if (!writer || !modem || !credentials)
        return CELLOTA_INVALID_ARGUMENT;
    if (!modem->profile->store_file.count)
        return CELLOTA_AT_TLS_UNSUPPORTED;
    files = &credentials->ca;
    for (index = 0; index < 3; index++)
        if (files[index].data && !named(&files[index]))
            return CELLOTA_INVALID_ARGUMENT;
    if (named(&credentials->certificate) != named(&credentials->key))
        return CELLOTA_INVALID_ARGUMENT;
    memset(writer, 0, sizeof(*writer));
    writer->modem = modem;
    writer->credentials = credentials;
    writer->result = CELLOTA_OK;
    return CELLOTA_OK;
}

int cellota_credentials_writer_poll(cellota_credentials_writer *writer, uint32_t now)
{
    const cellota_modem_profile *profile = writer->modem->profile;
    const cellota_modem_credentials *credentials = writer->credentials;
    cellota_at *at = cellota_modem_at(writer->modem);
    int result;

    if (writer->result == CELLOTA_IN_PROGRESS)
        return CELLOTA_IN_PROGRESS;
    if (writer->result != CELLOTA_OK) {
        result = writer->result;
        writer->stage = STAGE_CA; /* called again: from the start */
        writer->result = CELLOTA_OK;
        return result;
    }
    while (writer->stage < STAGE_INSTALL && !named(&(&credentials->ca)[writer->stage]))
        writer->stage++;
    if (writer->stage == STAGE_INSTALL && !profile->install_files.count)
        writer->stage = STAGE_DONE;
    if (writer->stage == STAGE_DONE)
        return CELLOTA_OK;

    memset(&writer->parameters, 0, sizeof(writer->parameters));
    if (writer->stage < STAGE_INSTALL) {
        const cellota_modem_file *file = &(&credentials->ca)[writer->stage];
        writer->parameters.text[CELLOTA_AT_FILE] = file->name;
        writer->parameters.number[CELLOTA_AT_LENGTH] = file->length;
        result = cellota_at_start(at, profile->store_file.steps, profile->store_file.count,
                                  &writer->parameters, script_done, writer, now);
        if (result == CELLOTA_IN_PROGRESS)
            cellota_at_set_payload(at, file->data, file->length);
    } else {
        writer->parameters.text[CELLOTA_AT_CA_FILE] =
            named(&credentials->ca) ? credentials->ca.name : NULL;
        writer->parameters.text[CELLOTA_AT_CERTIFICATE_FILE] =
            named(&credentials->certificate) ? credentials->certificate.name : NULL;
        writer->parameters.text[CELLOTA_AT_KEY_FILE] =
            named(&credentials->key) ? credentials->key.name : NULL;
        result = cellota_at_start(at, profile->install_files.steps, profile->install_files.count,
                                  &writer->parameters, script_done, writer, now);
    }
    if (result == CELLOTA_BUSY)
        return CELLOTA_IN_PROGRESS; /* the driver's script first */
    if (result != CELLOTA_IN_PROGRESS)
        return result;
    writer->result = CELLOTA_IN_PROGRESS;
    writer->stage++;
    return CELLOTA_IN_PROGRESS;
}
