/*
 * What the agent keeps in the port's key-value store, so a reset or power cut loses nothing it
 * needs: the job under way (which image, from where, how far), the semantic version of each
 * image it installed (the boot journal knows images only by hash and security version), and for
 * the modem-staged strategy the pipeline's checkpoint. Internal to the agent module.
 *
 * Values are these structs' bytes: written and read back by the same firmware, with a format
 * tag so a record of another layout is ignored rather than misread.
 */
#ifndef CELLOTA_AGENT_RECORDS_H
#define CELLOTA_AGENT_RECORDS_H

#include "core/port.h"
#include "image/fw_info.h"
#include "image/pipeline.h"
#include "image/request.h"

#include <stdint.h>

#define CELLOTA_AGENT_JOB_KEY "agent.job"
#define CELLOTA_AGENT_URL_KEY "agent.url"
#define CELLOTA_AGENT_ALT_URL_KEY "agent.alt_url"
#define CELLOTA_AGENT_VERSIONS_KEY "agent.versions"
#define CELLOTA_AGENT_CHECKPOINT_KEY "agent.checkpoint"

typedef enum cellota_agent_job_state {
    CELLOTA_AGENT_JOB_NONE = 0,
    CELLOTA_AGENT_JOB_DOWNLOADING = 1, /* interrupted: resume at start */
    CELLOTA_AGENT_JOB_FAILED = 2,      /* gave up; a new check or request may resume it */
    CELLOTA_AGENT_JOB_STAGED = 3,      /* rebooting into it on trial */
    CELLOTA_AGENT_JOB_ROLLBACK = 4,    /* its self-test failed: rolling back */
    CELLOTA_AGENT_JOB_REJECTED = 5     /* it was rolled back: not installed again */
} cellota_agent_job_state;

/* The job in RAM; its image's fw_info is kept beside it (the agent's `info`) and stored with
 * it in one record. */
typedef struct cellota_agent_job {
    uint8_t state, url_index;
    uint8_t encoding, reserved; /* the request's encoding; a patch's base below */
    uint32_t base_size;
    uint8_t base_sha256[32];
    int32_t error;
    uint32_t downloaded, redownloaded;
    char version[CELLOTA_REQUEST_VERSION_MAX + 1];
    char id[CELLOTA_REQUEST_ID_MAX + 1];
} cellota_agent_job;

#define CELLOTA_AGENT_VERSIONS 3

typedef struct cellota_agent_versions {
    uint32_t format;
    uint32_t next; /* the entry the next install replaces */
    struct {
        uint8_t plain_sha256[32];
        char version[CELLOTA_REQUEST_VERSION_MAX + 1];
    } entries[CELLOTA_AGENT_VERSIONS];
} cellota_agent_versions;

/* Reads the job and its image; a missing, foreign or damaged record reads as an empty job (state
 * NONE). CELLOTA_OK or a store error. */
int cellota_agent_job_load(const cellota_port *port, cellota_agent_job *job, cellota_fw_info *info);
int cellota_agent_job_save(const cellota_port *port, const cellota_agent_job *job,
                           const cellota_fw_info *info);

/* A string under `key`; a missing one reads as "". */
int cellota_agent_text_load(const cellota_port *port, const char *key, char *text, size_t size);
int cellota_agent_text_save(const cellota_port *port, const char *key, const char *text);

/* The version recorded for the image with this plain SHA-256, or NULL. */
const char *cellota_agent_versions_find(const cellota_agent_versions *versions,
                                        const uint8_t plain_sha256[32]);
/* Records (or refreshes) an image's version, replacing the oldest entry. */
void cellota_agent_versions_put(cellota_agent_versions *versions, const uint8_t plain_sha256[32],
                                const char *version);
int cellota_agent_versions_load(const cellota_port *port, cellota_agent_versions *versions);
int cellota_agent_versions_save(const cellota_port *port, const cellota_agent_versions *versions);

/* The modem-staged pipeline's checkpoint (CELLOTA_PIPELINE_STATE_SIZE bytes).
 * load: CELLOTA_OK, CELLOTA_STORE_NOT_FOUND, or a store error. */
int cellota_agent_checkpoint_load(const cellota_port *port,
                                  uint8_t state[CELLOTA_PIPELINE_STATE_SIZE]);
int cellota_agent_checkpoint_save(const cellota_port *port,
                                  const uint8_t state[CELLOTA_PIPELINE_STATE_SIZE]);

#endif
