/* The agent's records in the port's key-value store (see records.h). */
#include "agent/records.h"

#include "core/error.h"

#include <string.h>

#define JOB_FORMAT 0x324a4143u      /* "CAJ2": with the encoding and base */
#define VERSIONS_FORMAT 0x31564143u /* "CAV1" */

/* Reads exactly `size` bytes under `key` into `value`; anything else (missing, another size)
 * leaves it zeroed and is not an error: a record of another layout is as good as none. */
static int load_exact(const cellota_port *port, const char *key, void *value, size_t size)
{
    size_t length = 0;
    int result = port->store_get(port->context, key, value, size, &length);
    if (result == CELLOTA_OK && length == size)
        return CELLOTA_OK;
    memset(value, 0, size);
    if (result == CELLOTA_OK || result == CELLOTA_STORE_NOT_FOUND ||
        result == CELLOTA_BUFFER_TOO_SMALL)
        return CELLOTA_STORE_NOT_FOUND;
    return result;
}

/* The stored job: the RAM job and its image's encoded fw_info. */
typedef struct job_record {
    uint32_t format;
    cellota_agent_job job;
    uint8_t fw_info[CELLOTA_FW_INFO_SIZE];
} job_record;

int cellota_agent_job_load(const cellota_port *port, cellota_agent_job *job, cellota_fw_info *info)
{
    job_record record;
    int result = load_exact(port, CELLOTA_AGENT_JOB_KEY, &record, sizeof(record));
    if (result == CELLOTA_OK && record.format == JOB_FORMAT &&
        cellota_fw_info_decode(info, record.fw_info) == CELLOTA_OK) {
        *job = record.job;
        job->version[sizeof(job->version) - 1] = '\0';
        job->id[sizeof(job->id) - 1] = '\0';
        return CELLOTA_OK;
    }
    memset(job, 0, sizeof(*job));
    memset(info, 0, sizeof(*info));
    return result == CELLOTA_STORE_NOT_FOUND || result == CELLOTA_OK ? CELLOTA_OK : result;
}

int cellota_agent_job_save(const cellota_port *port, const cellota_agent_job *job,
                           const cellota_fw_info *info)
{
    job_record record;
    memset(&record, 0, sizeof(record));
    record.format = JOB_FORMAT;
    record.job = *job;
    cellota_fw_info_encode(info, record.fw_info);
    return port->store_set(port->context, CELLOTA_AGENT_JOB_KEY, &record, sizeof(record));
}

int cellota_agent_text_load(const cellota_port *port, const char *key, char *text, size_t size)
{
    size_t length = 0;
    int result = port->store_get(port->context, key, text, size - 1, &length);
    if (result != CELLOTA_OK || length >= size) {
        text[0] = '\0';
        return result == CELLOTA_STORE_NOT_FOUND ? CELLOTA_OK : result;
    }
    text[length] = '\0';
    return CELLOTA_OK;
}

int cellota_agent_text_save(const cellota_port *port, const char *key, const char *text)
{
    return port->store_set(port->context, key, text, strlen(text));
}

const char *cellota_agent_versions_find(const cellota_agent_versions *versions,
                                        const uint8_t plain_sha256[32])
{
    unsigned index;
    for (index = 0; index < CELLOTA_AGENT_VERSIONS; index++) {
        if (versions->entries[index].version[0] &&
            memcmp(versions->entries[index].plain_sha256, plain_sha256, 32) == 0)
            return versions->entries[index].version;
    }
    return NULL;
}

void cellota_agent_versions_put(cellota_agent_versions *versions, const uint8_t plain_sha256[32],
                                const char *version)
{
    unsigned index, slot = versions->next % CELLOTA_AGENT_VERSIONS;
    size_t length = strlen(version);
    for (index = 0; index < CELLOTA_AGENT_VERSIONS; index++) {
        if (memcmp(versions->entries[index].plain_sha256, plain_sha256, 32) == 0) {
            slot = index; /* the same image again: refresh its entry, keep the others */
            break;
        }
    }
    if (index == CELLOTA_AGENT_VERSIONS)
        versions->next = (slot + 1) % CELLOTA_AGENT_VERSIONS;
    if (length >= sizeof(versions->entries[slot].version))
        length = sizeof(versions->entries[slot].version) - 1;
    memcpy(versions->entries[slot].plain_sha256, plain_sha256, 32);
    memset(versions->entries[slot].version, 0, sizeof(versions->entries[slot].version));
    memcpy(versions->entries[slot].version, version, length);
}

int cellota_agent_versions_load(const cellota_port *port, cellota_agent_versions *versions)
{
    unsigned index;
    int result = load_exact(port, CELLOTA_AGENT_VERSIONS_KEY, versions, sizeof(*versions));
    if (result != CELLOTA_OK || versions->format != VERSIONS_FORMAT) {
        memset(versions, 0, sizeof(*versions));
        return result == CELLOTA_STORE_NOT_FOUND || result == CELLOTA_OK ? CELLOTA_OK : result;
    }
    for (index = 0; index < CELLOTA_AGENT_VERSIONS; index++)
        versions->entries[index].version[CELLOTA_REQUEST_VERSION_MAX] = '\0';
    return CELLOTA_OK;
}

int cellota_agent_versions_save(const cellota_port *port, const cellota_agent_versions *versions)
{
    cellota_agent_versions copy = *versions;
    copy.format = VERSIONS_FORMAT;
    return port->store_set(port->context, CELLOTA_AGENT_VERSIONS_KEY, &copy, sizeof(copy));
}

int cellota_agent_checkpoint_load(const cellota_port *port,
                                  uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    return load_exact(port, CELLOTA_AGENT_CHECKPOINT_KEY, state, CELLOTA_PIPELINE_STATE_SIZE);
}

int cellota_agent_checkpoint_save(const cellota_port *port,
                                  const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE])
{
    return port->store_set(port->context, CELLOTA_AGENT_CHECKPOINT_KEY, state,
                           CELLOTA_PIPELINE_STATE_SIZE);
}
