/* The modem's file system in memory, behind the staged image source (see modem_files_sim.h). */
#include "modem_files_sim.h"

#include "core/error.h"

#include <string.h>

void modem_files_sim_init(modem_files_sim *modem)
{
    memset(modem, 0, sizeof(*modem));
}

int modem_files_sim_put(modem_files_sim *modem, const char *name, const uint8_t *data,
                        uint32_t size)
{
    size_t length = strlen(name), index;
    modem_files_sim_file *free_entry = NULL;

    if (length == 0 || length > CELLOTA_BOOT_NAME_MAX)
        return CELLOTA_INVALID_ARGUMENT;
    for (index = 0; index < MODEM_FILES_SIM_FILES; index++) {
        modem_files_sim_file *file = &modem->files[index];
        if (strcmp(file->name, name) == 0) {
            free_entry = file;
            break;
        }
        if (!free_entry && file->name[0] == '\0')
            free_entry = file;
    }
    if (!free_entry)
        return CELLOTA_INVALID_ARGUMENT;
    memcpy(free_entry->name, name, length + 1);
    free_entry->data = data;
    free_entry->size = size;
    return CELLOTA_OK;
}

static const modem_files_sim_file *find(const modem_files_sim *modem, const char *name)
{
    size_t index;
    for (index = 0; index < MODEM_FILES_SIM_FILES; index++) {
        if (modem->files[index].name[0] != '\0' && strcmp(modem->files[index].name, name) == 0)
            return &modem->files[index];
    }
    return NULL;
}

static void elapse(modem_files_sim *modem, uint64_t microseconds)
{
    if (modem->elapse && microseconds)
        modem->elapse(modem->user, (uint32_t)microseconds);
}

/* One poll of a call: CELLOTA_IN_PROGRESS while it waits, CELLOTA_OK when it may complete,
 * or the injected failure. */
static int poll(modem_files_sim *modem)
{
    elapse(modem, modem->poll_us);
    if (modem->hang)
        return CELLOTA_IN_PROGRESS;
    if (modem->polls < modem->latency) {
        modem->polls++;
        return CELLOTA_IN_PROGRESS;
    }
    modem->polls = 0;
    modem->calls++;
    if (modem->fail_calls > 0) {
        modem->fail_calls--;
        return CELLOTA_BOOT_SOURCE_READ_FAILED;
    }
    return CELLOTA_OK;
}

static int sim_size(void *context, const char *name, uint32_t *size)
{
    modem_files_sim *modem = context;
    const modem_files_sim_file *file;
    int result = poll(modem);
    if (result != CELLOTA_OK)
        return result;
    elapse(modem, modem->command_us);
    if (!(file = find(modem, name)))
        return CELLOTA_BOOT_SOURCE_READ_FAILED;
    *size = file->size;
    return CELLOTA_OK;
}

static int sim_read(void *context, const char *name, uint32_t offset, uint8_t *buffer,
                    size_t length)
{
    modem_files_sim *modem = context;
    const modem_files_sim_file *file;
    int result = poll(modem);
    if (result != CELLOTA_OK)
        return result;
    elapse(modem, modem->command_us + (uint64_t)modem->byte_us * length);
    file = find(modem, name);
    if (!file || length == 0 || offset > file->size || length > file->size - offset)
        return CELLOTA_BOOT_SOURCE_READ_FAILED;
    memcpy(buffer, file->data + offset, length);
    modem->bytes_read += length;
    return CELLOTA_OK;
}

static void sim_cancel(void *context)
{
    modem_files_sim *modem = context;
    modem->polls = 0;
    modem->cancels++;
}

void modem_files_sim_source(modem_files_sim *modem, cellota_boot_source *source)
{
    source->context = modem;
    source->size = sim_size;
    source->read = sim_read;
    source->cancel = sim_cancel;
}
