/*
 * The update agent's state machine (see agent.h for the states and the guarantees). One poll
 * advances the network, the MQTT client, the step under way and the status message; nothing in
 * here waits, and everything an update needs after a reset is in the boot journal or the port's
 * key-value store (records.h) before the step that relies on it begins.
 */
#include "agent/agent.h"

#include "image/key_wrap.h"

#include "agent/records.h"
#include "core/error.h"
#include "image/semver.h"
#include "net/text.h"

#include <string.h>

enum step {
    STEP_START = 0, /* first poll: read the install state and the job */
    STEP_TESTING,   /* the image on trial runs its self-test */
    STEP_IDLE,
    STEP_CHECK,    /* GET /version, then GET /ota.json */
    STEP_DOWNLOAD, /* GET the image (Range) into the pipeline */
    STEP_WAIT,     /* back-off before resume_step */
    STEP_FINISH,   /* all bytes in: verify, stage */
    STEP_REBOOT,   /* last status out, MQTT closed, then the port's reboot */
    STEP_STOP,     /* the same, without the reboot */
    STEP_DONE,
    STEP_FATAL
};

enum http_step { HTTP_NONE = 0, HTTP_VERSION, HTTP_REQUEST, HTTP_IMAGE };

/* Modem-staged files: the new image goes into the one the confirmed image does not use. */
static const char *const file_names[2] = {"cellota_a.bin", "cellota_b.bin"};

#define STOP_LINGER_MS 2000u
#define PROGRESS_STATUS_MS 2000u /* progress-only status messages at most this often */

/* --- small helpers ------------------------------------------------------------------------ */

static void emit(cellota_agent *agent, cellota_agent_event_type type, int result, uint32_t delay_ms)
{
    cellota_agent_event event;
    if (!agent->config->on_event)
        return;
    event.type = type;
    event.result = result;
    event.delay_ms = delay_ms;
    event.report = &agent->report;
    agent->config->on_event(agent->config->context, &event);
}

static void set_state(cellota_agent *agent, cellota_agent_state state)
{
    if (agent->report.state == state)
        return;
    agent->report.state = state;
    agent->status_dirty = true;
    agent->status_urgent = true;
    emit(agent, CELLOTA_AGENT_EVENT_STATE, agent->report.error, 0);
}

static bool valid_id(const char *id)
{
    size_t length = 0;
    if (!id)
        return false;
    for (; id[length]; length++) {
        char c = id[length];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok || length >= CELLOTA_AGENT_ID_MAX)
            return false;
    }
    return length > 0;
}

/* "cellota/<id>/<leaf>" into a CELLOTA_AGENT_TOPIC_SIZE buffer (the id was checked). */
static void topic(const cellota_agent *agent, const char *leaf, char *out)
{
    size_t length = strlen(agent->config->device_id);
    memcpy(out, "cellota/", 8);
    memcpy(out + 8, agent->config->device_id, length);
    out[8 + length] = '/';
    strcpy(out + 9 + length, leaf);
}

static uint32_t next_random(cellota_agent *agent)
{
    uint32_t x = agent->random_state ? agent->random_state : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    agent->random_state = x;
    return x;
}

/* Exponential back-off with jitter: [delay/2, delay], delay = min * 2^(failures-1) <= max. */
static uint32_t backoff(cellota_agent *agent)
{
    uint32_t delay = agent->retry_min_ms;
    uint8_t doubling;
    for (doubling = 1; doubling < agent->failures && delay < agent->retry_max_ms; doubling++)
        delay *= 2;
    if (delay > agent->retry_max_ms)
        delay = agent->retry_max_ms;
    return delay / 2 + next_random(agent) % (delay / 2 + 1);
}

static bool is_semver(const char *text, cellota_semver *version)
{
    return text[0] && cellota_semver_parse(version, text, strlen(text)) == CELLOTA_OK;
}

/* A CELLOTA_AGENT_VERSION_MAX string copy that always terminates. */
static void copy_text(char *out, size_t size, const char *text)
{
    size_t length = strlen(text);
    if (length >= size)
        length = size - 1;
    memcpy(out, text, length);
    out[length] = '\0';
}

static const cellota_flash_area *slot_area(const cellota_agent *agent, unsigned slot)
{
    const cellota_boot_region *region =
        cellota_boot_layout_region(agent->config->layout, CELLOTA_BOOT_REGION_APPLICATION, slot);
    return region ? &region->area : NULL;
}

static const cellota_boot_state *boot_state(const cellota_agent *agent)
{
    return cellota_boot_control_state(&agent->control);
}

/* The plain SHA-256 of the image running now (the trial slot while on trial). */
static unsigned running_slot(const cellota_agent *agent);

static const uint8_t *running_sha256(const cellota_agent *agent)
{
    return boot_state(agent)->slots[running_slot(agent)].sha256;
}

/* The slot of the image running now (the trial slot while on trial). */
static unsigned running_slot(const cellota_agent *agent)
{
    cellota_boot_status status;
    cellota_boot_control_status(&agent->control, &status);
    return status.running_slot;
}

/* A compressed image or patch: this device must decode it into its other slot, and a patch
 * must be for the very image that runs -- refused before a byte is downloaded. */
static int check_encoding(const cellota_agent *agent, const cellota_update_request *request)
{
    const cellota_boot_image *running = &boot_state(agent)->slots[running_slot(agent)];
    if (request->encoding == CELLOTA_REQUEST_PLAIN)
        return CELLOTA_OK;
    /* Modem staging overwrites the only slot while a patch would read it as its base, and the
     * bootloader installs the modem's file without a decoder. */
    if (agent->config->strategy == CELLOTA_AGENT_STAGE_MODEM)
        return request->encoding == CELLOTA_DELTA_PATCH ? CELLOTA_IMAGE_DELTA_SINGLE_SLOT
                                                        : CELLOTA_IMAGE_ENCODING_UNSUPPORTED;
    if (!agent->config->decoder)
        return CELLOTA_IMAGE_ENCODING_UNSUPPORTED;
    if (request->encoding == CELLOTA_DELTA_PATCH &&
        (running->size != request->base_size ||
         memcmp(running->sha256, request->base_sha256, 32) != 0))
        return CELLOTA_IMAGE_DELTA_WRONG_BASE;
    return CELLOTA_OK;
}

/* The job's encoding for the pipeline (which copies it): a patch's base is the running slot. */
static void job_encoding(const cellota_agent *agent, cellota_pipeline_encoding *encoding)
{
    encoding->kind = agent->job.encoding;
    encoding->base = slot_area(agent, running_slot(agent));
    encoding->base_size = agent->job.base_size;
    memcpy(encoding->base_sha256, agent->job.base_sha256, 32);
}

static const char *modem_file(const cellota_agent *agent)
{
    return strcmp(boot_state(agent)->images[CELLOTA_BOOT_CURRENT].name, file_names[0]) == 0
               ? file_names[1]
               : file_names[0];
}

static bool same_image(const cellota_fw_info *a, const cellota_fw_info *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static int save_job(cellota_agent *agent)
{
    return cellota_agent_job_save(agent->config->port, &agent->job, &agent->info);
}

/* --- outcomes ----------------------------------------------------------------------------- */

/* A check or request is settled: tell the application, plan the next check. */
static void settle(cellota_agent *agent, int result)
{
    agent->step = STEP_IDLE;
    agent->http_step = HTTP_NONE;
    agent->failures = 0;
    if (agent->config->server && agent->config->poll_interval_ms)
        agent->check_at = agent->now + agent->config->poll_interval_ms;
    emit(agent, CELLOTA_AGENT_EVENT_CHECKED, result, 0);
}

/* Refused before any download: the job record is not touched. */
static void refuse(cellota_agent *agent, int error)
{
    agent->report.error = error;
    agent->status_dirty = agent->status_urgent = true; /* also when already FAILED */
    set_state(agent, CELLOTA_AGENT_FAILED);
    settle(agent, error);
}

static void up_to_date(cellota_agent *agent)
{
    agent->report.error = CELLOTA_OK;
    agent->report.target = "";
    agent->report.size = agent->report.offset = 0;
    set_state(agent, CELLOTA_AGENT_UP_TO_DATE);
    settle(agent, CELLOTA_OK);
}

/* The job ends with `error`; what was downloaded stays resumable (journal / checkpoint). */
static void fail_job(cellota_agent *agent, int error)
{
    agent->job.state = CELLOTA_AGENT_JOB_FAILED;
    agent->job.error = error;
    agent->job.downloaded = agent->report.downloaded;
    agent->job.redownloaded = agent->report.redownloaded;
    save_job(agent); /* best effort: the failure is reported either way */
    refuse(agent, error);
}

static void fatal(cellota_agent *agent, int error)
{
    agent->report.error = error;
    agent->result = error;
    agent->step = STEP_FATAL;
    set_state(agent, CELLOTA_AGENT_FAILED);
    emit(agent, CELLOTA_AGENT_EVENT_CHECKED, error, 0);
}

/* --- HTTP --------------------------------------------------------------------------------- */

static int on_response(void *context, const cellota_http_response *response, uint32_t body_offset)
{
    cellota_agent *agent = context;
    (void)response;
    agent->skip = 0;
    if (agent->http_step == HTTP_IMAGE) {
        uint32_t offset = cellota_pipeline_offset(&agent->pipeline);
        /* A server that ignores Range sends the file from 0: drop what is already in hand. */
        if (body_offset < offset)
            agent->skip = offset - body_offset;
    } else {
        agent->answer_length = 0;
        agent->request_length = 0;
    }
    return CELLOTA_OK;
}

static void count_bytes(cellota_agent *agent, uint32_t before, size_t length)
{
    uint32_t after = before + (uint32_t)length;
    agent->report.downloaded += (uint32_t)length;
    if (before < agent->reached)
        agent->report.redownloaded += (after < agent->reached ? after : agent->reached) - before;
    if (after > agent->reached)
        agent->reached = after;
}

/* Image bytes, in order from cellota_pipeline_offset(). */
static int take_image(cellota_agent *agent, const uint8_t *data, size_t length)
{
    uint32_t before = cellota_pipeline_offset(&agent->pipeline);
    uint32_t size = agent->report.size, percent_before, percent_after;
    int result;

    if (agent->config->strategy == CELLOTA_AGENT_STAGE_MODEM) {
        /* The throttled socket never lets in more than the staging buffer has room for. */
        if (length > agent->config->buffers.staging_size - agent->staging_length)
            return CELLOTA_BUFFER_TOO_SMALL;
        memcpy(agent->config->buffers.staging + agent->staging_length, data, length);
        agent->staging_length += (uint32_t)length;
    }
    result = cellota_pipeline_feed(&agent->pipeline, data, length);
    if (result != CELLOTA_OK)
        return result;
    count_bytes(agent, before, length);
    if (agent->config->strategy == CELLOTA_AGENT_STAGE_AB &&
        agent->pipeline.checkpoint.offset != agent->saved_offset) {
        /* One journal record per erase page: a reset costs at most a page. */
        result = cellota_boot_save_progress(&agent->control, &agent->pipeline);
        if (result != CELLOTA_OK)
            return result;
        agent->saved_offset = agent->pipeline.checkpoint.offset;
    }
    agent->report.offset = before + (uint32_t)length;
    percent_before = cellota_text_scaled_share(before, size, 10);
    percent_after = cellota_text_scaled_share(agent->report.offset, size, 10);
    if (percent_after != percent_before)
        agent->status_dirty = true; /* every 10% */
    emit(agent, CELLOTA_AGENT_EVENT_PROGRESS, CELLOTA_OK, 0);
    return CELLOTA_OK;
}

static int on_body(void *context, const uint8_t *data, size_t length)
{
    cellota_agent *agent = context;
    switch (agent->http_step) {
    case HTTP_VERSION:
        if (agent->answer_length + length >= sizeof(agent->answer))
            return CELLOTA_AGENT_BAD_VERSION_ANSWER;
        memcpy(agent->answer + agent->answer_length, data, length);
        agent->answer_length += length;
        agent->answer[agent->answer_length] = '\0';
        return CELLOTA_OK;
    case HTTP_REQUEST:
        if (agent->request_length + length > agent->config->buffers.request_size)
            return CELLOTA_AGENT_REQUEST_TOO_LARGE;
        memcpy(agent->config->buffers.request + agent->request_length, data, length);
        agent->request_length += length;
        return CELLOTA_OK;
    case HTTP_IMAGE:
        if (agent->skip) {
            size_t dropped = length < agent->skip ? length : agent->skip;
            agent->skip -= (uint32_t)dropped;
            agent->report.downloaded += (uint32_t)dropped;
            agent->report.redownloaded += (uint32_t)dropped;
            data += dropped;
            length -= dropped;
            if (length == 0)
                return CELLOTA_OK;
        }
        return take_image(agent, data, length);
    default:
        return CELLOTA_OK;
    }
}

static int http_get(cellota_agent *agent, const char *url, uint32_t first)
{
    cellota_http_request request;
    memset(&request, 0, sizeof(request));
    request.method = CELLOTA_HTTP_GET;
    request.url = url;
    request.has_range = first > 0;
    request.range_first = first;
    request.range_last = CELLOTA_HTTP_RANGE_TO_END;
    request.keep_alive = true;
    request.on_response = on_response;
    request.on_body = on_body;
    request.context = agent;
    return cellota_http_begin(&agent->http, &request, agent->now);
}

/* GET <server><path>?device=<id>, for /version and /ota.json. The id tells a cellota server
 * which campaign answers this device; a plain seed-000 host ignores the query. The id needs no
 * escaping: valid_id allows only letters, digits, - _ and . */
static int server_get(cellota_agent *agent, const char *path)
{
    static const char query[] = "?device=";
    char url[CELLOTA_REQUEST_URL_MAX + 1];
    const char *id = agent->config->device_id;
    size_t length = strlen(agent->config->server), extra = strlen(path), id_length = strlen(id);
    while (length > 0 && agent->config->server[length - 1] == '/')
        length--;
    if (length + extra + sizeof(query) - 1 + id_length >= sizeof(url))
        return CELLOTA_NET_URL_TOO_LONG;
    memcpy(url, agent->config->server, length);
    memcpy(url + length, path, extra);
    length += extra;
    memcpy(url + length, query, sizeof(query) - 1);
    length += sizeof(query) - 1;
    memcpy(url + length, id, id_length + 1);
    return http_get(agent, url, 0);
}

/* Errors that say the URL itself is wrong: retrying it cannot help, its alternative may. */
static bool url_fault(int error)
{
    return (error >= CELLOTA_NET_URL_BAD_SCHEME && error <= CELLOTA_NET_URL_BAD_PATH) ||
           (error >= CELLOTA_NET_HTTP_BAD_REQUEST && error <= CELLOTA_NET_HTTP_CLIENT_ERROR) ||
           error == CELLOTA_NET_HTTP_TOO_MANY_REDIRECTS || error == CELLOTA_NET_HTTP_BAD_REDIRECT ||
           error == CELLOTA_NET_HTTP_REQUEST_TOO_LONG || error == CELLOTA_NET_HTTP_RANGE_IGNORED ||
           error == CELLOTA_SOCKET_HOST_NOT_FOUND || error == CELLOTA_NET_SOCKET_TLS_UNSUPPORTED ||
           error == CELLOTA_AGENT_REQUEST_TOO_LARGE || error == CELLOTA_AGENT_BAD_VERSION_ANSWER;
}

/* Errors no retry can fix: the device itself failed (flash, journal, store, crypto). */
static bool device_fault(int error)
{
    return (error >= CELLOTA_FLASH_READ_FAILED && error <= CELLOTA_CRYPTO_FAILED) ||
           (error >= 200 && error < 300) || error == CELLOTA_BUFFER_TOO_SMALL;
}

/* --- the job: download, verify, stage ----------------------------------------------------- */

static void start_download(cellota_agent *agent);

static void wait_then(cellota_agent *agent, uint8_t step, int error)
{
    /* A fault after progress (a dropped connection, a modem reset) is retried at once; back-off
     * grows only while attempts fail without getting anywhere. */
    uint32_t delay = agent->progressed ? CELLOTA_AGENT_RESUME_DELAY_MS : backoff(agent);
    agent->progressed = false;
    agent->report.error = error;
    agent->resume_step = step;
    agent->timer = agent->now + delay;
    agent->step = STEP_WAIT;
    agent->http_step = HTTP_NONE;
    set_state(agent, CELLOTA_AGENT_WAITING);
    agent->status_dirty = true; /* the error changed even if the state did not */
    emit(agent, CELLOTA_AGENT_EVENT_RETRY, error, delay);
}

/* Opens the pipeline for the job's image: resuming from the saved checkpoint when there is one
 * for this image, otherwise from the start. */
static int open_pipeline(cellota_agent *agent, bool fresh)
{
    const cellota_boot_state *state = boot_state(agent);
    const cellota_fw_info *info = &agent->info;
    int result;

    agent->pipeline_ready = false;
    if (agent->config->strategy == CELLOTA_AGENT_STAGE_AB) {
        cellota_pipeline_encoding encoding;
        cellota_pipeline_decoder *decoder = agent->config->decoder;
        job_encoding(agent, &encoding);
        if (state->operation == CELLOTA_BOOT_OPERATION_STAGING) {
            if (!fresh &&
                memcmp(&state->images[CELLOTA_BOOT_CANDIDATE].info, info, sizeof(*info)) == 0)
                result = cellota_boot_resume_install_encoded(&agent->control, &agent->pipeline,
                                                             &encoding, decoder);
            else if ((result = cellota_boot_cancel(&agent->control)) == CELLOTA_OK)
                result = cellota_boot_begin_install_encoded(&agent->control, info, 0,
                                                            &agent->pipeline, &encoding, decoder);
        } else {
            result = cellota_boot_begin_install_encoded(&agent->control, info, 0,
                                                        &agent->pipeline, &encoding, decoder);
        }
    } else {
        uint8_t saved[CELLOTA_PIPELINE_STATE_SIZE];
        result = CELLOTA_IMAGE_STATE_INVALID;
        if (!fresh && cellota_agent_checkpoint_load(agent->config->port, saved) == CELLOTA_OK)
            result = cellota_pipeline_restore(&agent->pipeline, NULL, NULL, info, saved);
        if (result == CELLOTA_IMAGE_STATE_INVALID)
            result = cellota_pipeline_begin(&agent->pipeline, NULL, NULL, info);
        agent->staged_offset = cellota_pipeline_offset(&agent->pipeline);
        agent->staging_length = 0;
    }
    if (result != CELLOTA_OK)
        return result;
    agent->pipeline_ready = true;
    agent->saved_offset = agent->pipeline.checkpoint.offset;
    agent->report.offset = cellota_pipeline_offset(&agent->pipeline);
    agent->reached = agent->report.offset;
    if (agent->report.downloaded < agent->report.offset)
        agent->report.downloaded = agent->report.offset;
    if (agent->report.offset > 0)
        emit(agent, CELLOTA_AGENT_EVENT_RESUMED, CELLOTA_OK, 0);
    return CELLOTA_OK;
}

/* Starts the job `request` (checked) describes; NULL: the saved job (after a reset). The URLs
 * live in the store from here on: only the image's fw_info stays in RAM. */
static void begin_job(cellota_agent *agent, const cellota_update_request *request)
{
    cellota_agent_job *job = &agent->job;
    int result = CELLOTA_OK;

    if (request) {
        if (job->state == CELLOTA_AGENT_JOB_NONE || !same_image(&request->fw_info, &agent->info))
            memset(job, 0, sizeof(*job));
        job->url_index = request->url[0] ? 0 : 1;
        job->encoding = request->encoding;
        job->base_size = request->base_size;
        memcpy(job->base_sha256, request->base_sha256, 32);
        copy_text(job->version, sizeof(job->version), request->version);
        copy_text(job->id, sizeof(job->id), request->id);
        agent->urls_present =
            (uint8_t)((request->url[0] ? 1u : 0u) | (request->alt_url[0] ? 2u : 0u));
        agent->info = request->fw_info;
        if ((result = cellota_agent_text_save(agent->config->port, CELLOTA_AGENT_URL_KEY,
                                              request->url)) == CELLOTA_OK)
            result = cellota_agent_text_save(agent->config->port, CELLOTA_AGENT_ALT_URL_KEY,
                                             request->alt_url);
    }
    job->state = CELLOTA_AGENT_JOB_DOWNLOADING;
    job->error = CELLOTA_OK;
    agent->report.downloaded = job->downloaded;
    agent->report.redownloaded = job->redownloaded;
    agent->report.target = job->version;
    agent->report.size = agent->info.encrypted_size;
    agent->report.error = CELLOTA_OK;
    if (result != CELLOTA_OK || (result = save_job(agent)) != CELLOTA_OK) {
        refuse(agent, result);
        return;
    }
    agent->url_index = job->url_index;
    agent->failures = 0;
    agent->failed_at = 0;
    agent->urls_failed = 0;
    result = open_pipeline(agent, false);
    if (result != CELLOTA_OK) {
        fail_job(agent, result);
        return;
    }
    start_download(agent);
}

/* Moves to the other URL when it exists and has not failed too; false when none is left. */
static bool switch_url(cellota_agent *agent)
{
    uint8_t other = (uint8_t)(agent->url_index ^ 1u);
    agent->urls_failed |= (uint8_t)(1u << agent->url_index);
    if (!(agent->urls_present & (1u << other)) || (agent->urls_failed & (1u << other)))
        return false;
    agent->url_index = other;
    agent->failures = 0;
    return true;
}

static void start_download(cellota_agent *agent)
{
    char url[CELLOTA_REQUEST_URL_MAX + 1];
    uint32_t offset = cellota_pipeline_offset(&agent->pipeline);
    int result;

    agent->step = STEP_DOWNLOAD;
    set_state(agent, CELLOTA_AGENT_DOWNLOADING);
    if (offset >= agent->info.encrypted_size) {
        agent->step = STEP_FINISH;
        return;
    }
    agent->http_step = HTTP_IMAGE;
    agent->skip = 0;
    result = cellota_agent_text_load(agent->config->port,
                                     agent->url_index == 0 ? CELLOTA_AGENT_URL_KEY
                                                           : CELLOTA_AGENT_ALT_URL_KEY,
                                     url, sizeof(url));
    if (result == CELLOTA_OK)
        result = http_get(agent, url, offset);
    if (result != CELLOTA_IN_PROGRESS) {
        agent->http_step = HTTP_NONE;
        /* The URL cannot even be requested: try the other one. */
        if (switch_url(agent))
            wait_then(agent, STEP_DOWNLOAD, result);
        else
            fail_job(agent, result);
    }
}

/* Starts again from byte 0 (the bytes so far came from a wrong or damaged file). */
static void restart_download(cellota_agent *agent, int error)
{
    int result = open_pipeline(agent, true);
    if (result != CELLOTA_OK) {
        fail_job(agent, result);
        return;
    }
    wait_then(agent, STEP_DOWNLOAD, error);
}

static void download_ended(cellota_agent *agent, int result)
{
    uint32_t offset = cellota_pipeline_offset(&agent->pipeline);

    agent->progressed = false;
    agent->http_step = HTTP_NONE;
    if (result == CELLOTA_OK) {
        if (offset >= agent->info.encrypted_size) {
            agent->step = STEP_FINISH;
            return;
        }
        result = CELLOTA_IMAGE_TRUNCATED; /* the file ended early: the server's is shorter */
    }
    if (device_fault(result)) {
        fail_job(agent, result);
        return;
    }
    if (result == CELLOTA_IMAGE_TOO_LONG || result == CELLOTA_IMAGE_TRUNCATED ||
        url_fault(result)) {
        /* This URL serves something else than fw_info describes, or nothing. */
        if (!switch_url(agent)) {
            fail_job(agent, result);
            return;
        }
        if (result == CELLOTA_IMAGE_TOO_LONG || offset > 0)
            restart_download(agent, result);
        else
            wait_then(agent, STEP_DOWNLOAD, result);
        return;
    }
    /* A fault on the way (socket closed, modem reset, link lost, damaged bytes, timeout, 5xx):
     * retry from where the pipeline is; give up only after `retries` tries with no progress. */
    agent->progressed = offset > agent->failed_at;
    if (agent->progressed)
        agent->failures = 0;
    agent->failed_at = offset;
    agent->failures++;
    if (agent->failures > agent->retries && !switch_url(agent)) {
        fail_job(agent, result);
        return;
    }
    wait_then(agent, STEP_DOWNLOAD, result);
}

/* Modem strategy: moves staged ciphertext into the modem's file one whole staging buffer at a
 * time (the last one when the image is complete), so every write starts at a multiple of the
 * buffer's size; records the checkpoint once the file holds every byte before it and it falls on
 * such a boundary, so a resumed download rewrites whole pieces. True when nothing waits. */
static bool pump_staging(cellota_agent *agent)
{
    const cellota_agent_files *files = agent->config->files;
    uint32_t size = (uint32_t)agent->config->buffers.staging_size;
    uint32_t checkpoint = agent->pipeline.checkpoint.offset;
    bool whole = cellota_pipeline_offset(&agent->pipeline) >= agent->info.encrypted_size;
    int result;

    if (agent->config->strategy != CELLOTA_AGENT_STAGE_MODEM || !agent->pipeline_ready)
        return true;
    if (agent->staging_length > 0 && (agent->staging_length == size || whole)) {
        result = files->write(files->context, modem_file(agent), agent->staged_offset,
                              agent->config->buffers.staging, agent->staging_length);
        if (result == CELLOTA_IN_PROGRESS)
            return false;
        if (result != CELLOTA_OK) {
            agent->staging_error = result;
            return false;
        }
        agent->staged_offset += agent->staging_length;
        agent->staging_length = 0;
    }
    if (checkpoint != agent->saved_offset && checkpoint <= agent->staged_offset &&
        checkpoint % size == 0) {
        uint8_t state[CELLOTA_PIPELINE_STATE_SIZE];
        cellota_pipeline_save(&agent->pipeline, state);
        if (cellota_agent_checkpoint_save(agent->config->port, state) == CELLOTA_OK)
            agent->saved_offset = checkpoint;
    }
    return agent->staging_length == 0;
}

/* Drops the saved progress of a download whose bytes turned out bad. */
static void forget_download(cellota_agent *agent)
{
    uint8_t nothing[CELLOTA_PIPELINE_STATE_SIZE];
    agent->pipeline_ready = false;
    if (agent->config->strategy == CELLOTA_AGENT_STAGE_AB) {
        cellota_boot_cancel(&agent->control);
    } else {
        memset(nothing, 0, sizeof(nothing)); /* fails restore's checksum: starts afresh */
        cellota_agent_checkpoint_save(agent->config->port, nothing);
    }
}

static void finish(cellota_agent *agent)
{
    const cellota_fw_info *info = &agent->info;
    cellota_agent_versions versions;
    int result;

    if (!pump_staging(agent)) {
        if (agent->staging_error != CELLOTA_OK) {
            int error = agent->staging_error;
            agent->staging_error = CELLOTA_OK;
            agent->failures++;
            if (agent->failures > agent->retries)
                fail_job(agent, CELLOTA_AGENT_STAGING_FAILED);
            else
                wait_then(agent, STEP_FINISH, error);
        }
        return;
    }
    set_state(agent, CELLOTA_AGENT_VERIFYING);
    result = cellota_pipeline_finish(&agent->pipeline);
    if (result == CELLOTA_IMAGE_TRUNCATED) {
        start_download(agent);
        return;
    }
    if (result != CELLOTA_OK) {
        /* Never staged: the bytes do not hash to fw_info. Another URL may serve the right file;
         * otherwise nothing of this download is worth resuming. */
        if (!device_fault(result) && switch_url(agent)) {
            restart_download(agent, result);
            return;
        }
        forget_download(agent);
        fail_job(agent, result);
        return;
    }
    set_state(agent, CELLOTA_AGENT_STAGING);
    if (agent->config->strategy == CELLOTA_AGENT_STAGE_AB)
        result = cellota_boot_mark_ready(&agent->control);
    else
        result = cellota_boot_stage_modem(&agent->control, info, modem_file(agent), 0);
    if (result != CELLOTA_OK) {
        fail_job(agent, result);
        return;
    }
    /* The journal now boots it on trial: remember its version for when it runs. */
    if (cellota_agent_versions_load(agent->config->port, &versions) == CELLOTA_OK) {
        cellota_agent_versions_put(&versions, info->plain_sha256, agent->job.version);
        cellota_agent_versions_save(agent->config->port, &versions);
    }
    agent->job.state = CELLOTA_AGENT_JOB_STAGED;
    agent->job.downloaded = agent->report.downloaded;
    agent->job.redownloaded = agent->report.redownloaded;
    save_job(agent);
    agent->pipeline_ready = false;
    agent->step = STEP_REBOOT;
    agent->stop_step = 0;
}

/* --- checks and requests ------------------------------------------------------------------ */

/* Is `target` newer than what runs? A running version that is no semver counts as oldest. */
static bool newer_than_running(const cellota_agent *agent, const cellota_semver *target)
{
    cellota_semver running;
    if (!is_semver(agent->running_version, &running))
        return true;
    return cellota_semver_compare(target, &running) > 0;
}

/* Checks a parsed request before anything is downloaded. CELLOTA_OK with *current set when it
 * describes the running image; otherwise an error. */
static int check_request(cellota_agent *agent, cellota_update_request *request, bool polled,
                         bool *current)
{
    const cellota_fw_info *info = &request->fw_info;
    const cellota_boot_state *state = boot_state(agent);
    const cellota_flash_area *area;
    cellota_semver target, announced;
    int result;

    *current = false;
    if (agent->config->public_key && (request->has_signature || !agent->accept_unsigned)) {
        result = cellota_request_verify(request, agent->config->public_key);
        if (result != CELLOTA_OK)
            return result;
    }
    /* Both inside what was signed: a request cannot be moved to another device. */
    if (request->device[0] && strcmp(request->device, agent->config->device_id) != 0)
        return CELLOTA_IMAGE_REQUEST_OTHER_DEVICE;
    if (request->has_wrapped_key) {
        if (!agent->config->device_key)
            return CELLOTA_IMAGE_KEY_NO_DEVICE_KEY;
        result = cellota_key_unwrap(agent->config->device_key, agent->config->device_id,
                                    request->wrapped_key, request->fw_info.key);
        if (result != CELLOTA_OK)
            return result;
    } else if (agent->config->require_wrapped_key) {
        return CELLOTA_IMAGE_KEY_NOT_WRAPPED;
    }
    if (memcmp(info->plain_sha256, running_sha256(agent), 32) == 0) {
        *current = true;
        return CELLOTA_OK;
    }
    if (request->version[0]) {
        if ((result = cellota_semver_parse(&target, request->version, strlen(request->version))) !=
            CELLOTA_OK)
            return result;
        if (polled &&
            cellota_semver_parse(&announced, agent->answer, agent->answer_length) == CELLOTA_OK &&
            cellota_semver_compare(&target, &announced) != 0)
            return CELLOTA_AGENT_VERSION_MISMATCH;
        if (!newer_than_running(agent, &target))
            return CELLOTA_AGENT_NOT_NEWER;
    }
    if (agent->job.state == CELLOTA_AGENT_JOB_REJECTED && same_image(info, &agent->info))
        return CELLOTA_AGENT_VERSION_REJECTED;
    if (!cellota_boot_version_allowed(state->security_version, info->version, 0))
        return CELLOTA_BOOT_VERSION_TOO_OLD;
    if ((result = check_encoding(agent, request)) != CELLOTA_OK)
        return result;
    if (agent->config->strategy == CELLOTA_AGENT_STAGE_AB) {
        area = slot_area(agent, state->active ^ 1u);
        if (!area)
            return CELLOTA_BOOT_NO_SECOND_SLOT;
    } else {
        area = slot_area(agent, state->active);
    }
    if (!area)
        return CELLOTA_BOOT_LAYOUT_INVALID;
    if (info->plain_size > area->size)
        return CELLOTA_IMAGE_TOO_LARGE;
    if (info->load_address != 0 && info->load_address != area->address)
        return CELLOTA_BOOT_LOAD_ADDRESS_MISMATCH;
    return CELLOTA_OK;
}

/* An update request sits in the request buffer: check it and start its job. */
/* The version on offer is one this device rolled back: say why, once more. Rolled back in this
 * run, the reason is the trial's failure; later it is that the version was rejected. */
static void reject(cellota_agent *agent)
{
    agent->report.target = agent->job.version;
    if (agent->rejected_now) {
        agent->report.error = agent->job.error;
        set_state(agent, CELLOTA_AGENT_ROLLED_BACK);
        settle(agent, agent->job.error);
    } else {
        refuse(agent, CELLOTA_AGENT_VERSION_REJECTED);
    }
}

static void take_request(cellota_agent *agent, bool polled)
{
    cellota_update_request request; /* on the stack: only its fw_info outlives the check */
    bool current;
    int result =
        cellota_request_parse(&request, agent->config->buffers.request, agent->request_length);
    agent->request_pending = false;
    if (result == CELLOTA_OK)
        result = check_request(agent, &request, polled, &current);
    if (result == CELLOTA_AGENT_VERSION_REJECTED) {
        reject(agent);
        return;
    }
    if (result != CELLOTA_OK) {
        refuse(agent, result);
        return;
    }
    if (current) {
        up_to_date(agent);
        return;
    }
    begin_job(agent, &request);
}

static void start_check(cellota_agent *agent)
{
    int result;
    agent->check_wanted = false;
    agent->step = STEP_CHECK;
    agent->http_step = HTTP_VERSION;
    agent->answer_length = 0;
    agent->answer[0] = '\0';
    set_state(agent, CELLOTA_AGENT_CHECKING);
    result = server_get(agent, "/version");
    if (result != CELLOTA_IN_PROGRESS) {
        agent->http_step = HTTP_NONE;
        refuse(agent, result);
    }
}

static void check_ended(cellota_agent *agent, int result)
{
    cellota_semver announced, rejected;
    uint8_t http_step = agent->http_step;

    agent->http_step = HTTP_NONE;
    if (result != CELLOTA_OK) {
        if (url_fault(result) || device_fault(result) || ++agent->failures > agent->retries)
            refuse(agent, result);
        else
            wait_then(agent, STEP_CHECK, result);
        return;
    }
    agent->failures = 0;
    if (http_step == HTTP_REQUEST) {
        take_request(agent, true);
        return;
    }
    if (cellota_semver_parse(&announced, agent->answer, agent->answer_length) != CELLOTA_OK) {
        refuse(agent, CELLOTA_AGENT_BAD_VERSION_ANSWER);
        return;
    }
    if (!newer_than_running(agent, &announced)) {
        up_to_date(agent);
        return;
    }
    if (agent->job.state == CELLOTA_AGENT_JOB_REJECTED &&
        is_semver(agent->job.version, &rejected) &&
        cellota_semver_compare(&announced, &rejected) == 0) {
        reject(agent);
        return;
    }
    agent->http_step = HTTP_REQUEST;
    agent->request_length = 0;
    result = server_get(agent, "/ota.json");
    if (result != CELLOTA_IN_PROGRESS) {
        agent->http_step = HTTP_NONE;
        refuse(agent, result);
    }
}

/* --- after boot --------------------------------------------------------------------------- */

/* Derived from the configuration when needed rather than kept: the agent's RAM budget. */
static const char *factory_version(const cellota_agent_config *config)
{
    return config->factory_version ? config->factory_version : "0.0.0";
}

static void load_running_version(cellota_agent *agent)
{
    cellota_agent_versions versions;
    const char *version = NULL;
    if (cellota_agent_versions_load(agent->config->port, &versions) == CELLOTA_OK)
        version = cellota_agent_versions_find(&versions, running_sha256(agent));
    copy_text(agent->running_version, sizeof(agent->running_version),
              version ? version : factory_version(agent->config));
}

/* The saved job's image and URLs, for a job resumed after a reset. */
static int reload_job(cellota_agent *agent)
{
    char url[CELLOTA_REQUEST_URL_MAX + 1];
    int result = CELLOTA_OK;
    agent->urls_present = 0;
    if (result == CELLOTA_OK &&
        (result = cellota_agent_text_load(agent->config->port, CELLOTA_AGENT_URL_KEY, url,
                                          sizeof(url))) == CELLOTA_OK &&
        url[0])
        agent->urls_present |= 1u;
    if (result == CELLOTA_OK &&
        (result = cellota_agent_text_load(agent->config->port, CELLOTA_AGENT_ALT_URL_KEY, url,
                                          sizeof(url))) == CELLOTA_OK &&
        url[0])
        agent->urls_present |= 2u;
    if (result == CELLOTA_OK && !agent->urls_present)
        result = CELLOTA_IMAGE_REQUEST_NO_URL;
    return result;
}

static void start(cellota_agent *agent)
{
    cellota_agent_job *job = &agent->job;
    cellota_boot_status status;
    int result =
        cellota_boot_control_open(&agent->control, agent->config->port, agent->config->layout);
    if (result == CELLOTA_OK)
        result = cellota_agent_job_load(agent->config->port, job, &agent->info);
    if (result != CELLOTA_OK) {
        fatal(agent, result);
        return;
    }
    cellota_boot_control_status(&agent->control, &status);
    load_running_version(agent);
    if (agent->config->mqtt_socket)
        cellota_mqtt_start(&agent->mqtt, agent->now);
    agent->check_wanted = agent->config->server != NULL;

    if (status.on_trial) {
        agent->report.target = agent->running_version;
        agent->step = STEP_TESTING;
        set_state(agent, CELLOTA_AGENT_TESTING);
        return;
    }
    agent->step = STEP_IDLE;
    if (job->state == CELLOTA_AGENT_JOB_STAGED || job->state == CELLOTA_AGENT_JOB_ROLLBACK) {
        if (job->state == CELLOTA_AGENT_JOB_STAGED &&
            memcmp(agent->info.plain_sha256, running_sha256(agent), 32) == 0) {
            /* Confirmed, then reset before the job was closed: close it now. */
            job->state = CELLOTA_AGENT_JOB_NONE;
            save_job(agent);
            set_state(agent, CELLOTA_AGENT_CONFIRMED);
        } else {
            /* Booted back into the previous image: the new one failed on trial. */
            if (job->state == CELLOTA_AGENT_JOB_STAGED)
                job->error = status.last_error != CELLOTA_OK ? status.last_error
                                                             : CELLOTA_BOOT_TRIAL_NOT_CONFIRMED;
            job->state = CELLOTA_AGENT_JOB_REJECTED;
            save_job(agent);
            agent->rejected_now = true;
            agent->report.error = job->error;
            agent->report.target = job->version;
            set_state(agent, CELLOTA_AGENT_ROLLED_BACK);
            if (!agent->config->server)
                settle(agent, job->error);
        }
        return;
    }
    if (job->state == CELLOTA_AGENT_JOB_DOWNLOADING) {
        /* Reset in the middle of a download: go on from its checkpoint at once. */
        result = reload_job(agent);
        if (result == CELLOTA_OK) {
            agent->check_wanted = false;
            begin_job(agent, NULL);
            return;
        }
        job->state = CELLOTA_AGENT_JOB_FAILED;
        save_job(agent);
    }
    set_state(agent, CELLOTA_AGENT_IDLE);
}

static void self_test(cellota_agent *agent)
{
    int result = agent->config->self_test
                     ? agent->config->self_test(agent->config->context, agent->now)
                     : CELLOTA_OK;
    if (result == CELLOTA_IN_PROGRESS)
        return;
    if (result == CELLOTA_OK) {
        result = cellota_boot_confirm(&agent->control);
        if (result != CELLOTA_OK) {
            fatal(agent, result);
            return;
        }
        agent->job.state = CELLOTA_AGENT_JOB_NONE;
        save_job(agent);
        agent->report.error = CELLOTA_OK;
        agent->report.target = "";
        agent->report.offset = agent->report.size = 0;
        agent->step = STEP_IDLE;
        set_state(agent, CELLOTA_AGENT_CONFIRMED);
        if (!agent->config->server)
            settle(agent, CELLOTA_OK);
        return;
    }
    /* Failed: give the image up; the bootloader restores the previous one at the reboot. */
    agent->job.state = CELLOTA_AGENT_JOB_ROLLBACK;
    agent->job.error = CELLOTA_AGENT_SELF_TEST_FAILED;
    save_job(agent);
    result = cellota_boot_request_rollback(&agent->control, 0);
    if (result != CELLOTA_OK) {
        fatal(agent, result);
        return;
    }
    agent->report.error = CELLOTA_AGENT_SELF_TEST_FAILED;
    set_state(agent, CELLOTA_AGENT_ROLLED_BACK);
    agent->step = STEP_REBOOT;
    agent->stop_step = 0;
}

/* --- MQTT --------------------------------------------------------------------------------- */

static bool request_buffer_free(const cellota_agent *agent)
{
    if (agent->request_pending)
        return false;
    switch (agent->step) {
    case STEP_IDLE:
        return true;
    case STEP_CHECK:
        return agent->http_step != HTTP_REQUEST;
    case STEP_WAIT:
        return agent->resume_step == STEP_CHECK;
    default:
        return false;
    }
}

enum announce { ANNOUNCE_NONE = 0, ANNOUNCE_SUBSCRIBE, ANNOUNCE_ONLINE };

/*
 * After a CONNACK: the update topic subscribed (a new session has no subscription), then
 * "online", in that order, so a server that answers "online" with a request finds the
 * subscription in place. Either may find the send buffer full -- after a reconnection the QoS 1
 * statuses queued while offline go out first -- and is tried again at every poll until taken: a
 * subscription given up on BUSY left a device connected, reporting, and deaf to every request.
 */
static void announce(cellota_agent *agent)
{
    char update[CELLOTA_AGENT_TOPIC_SIZE];
    int result;

    if (agent->announce == ANNOUNCE_SUBSCRIBE) {
        topic(agent, "update", update);
        result = cellota_mqtt_subscribe(&agent->mqtt, update, 1, NULL);
        if (result == CELLOTA_BUSY)
            return;
        /* Not connected: the next CONNACK starts again. */
        agent->announce =
            result == CELLOTA_NET_MQTT_NOT_CONNECTED ? ANNOUNCE_NONE : ANNOUNCE_ONLINE;
    }
    if (agent->announce == ANNOUNCE_ONLINE) {
        result = cellota_mqtt_publish(&agent->mqtt, agent->online_topic, (const uint8_t *)"online",
                                      6, 1, true, NULL);
        if (result != CELLOTA_BUSY)
            agent->announce = ANNOUNCE_NONE;
    }
}

static void on_mqtt_event(void *context, const cellota_mqtt_event *event)
{
    cellota_agent *agent = context;
    char update[CELLOTA_AGENT_TOPIC_SIZE];

    switch (event->type) {
    case CELLOTA_MQTT_EVENT_CONNECTED:
        agent->announce = event->session_present ? ANNOUNCE_ONLINE : ANNOUNCE_SUBSCRIBE;
        announce(agent);
        agent->status_dirty = true;
        agent->status_urgent = true;
        break;
    case CELLOTA_MQTT_EVENT_MESSAGE:
        topic(agent, "update", update);
        if (event->message.topic_length != strlen(update) ||
            memcmp(event->message.topic, update, event->message.topic_length) != 0)
            break;
        /* A request while a job runs is not taken: requests are idempotent, and the operator
         * sees the busy device's status. */
        if (!request_buffer_free(agent))
            break;
        if (event->message.payload_length > agent->config->buffers.request_size) {
            agent->request_too_large = true;
            break;
        }
        memcpy(agent->config->buffers.request, event->message.payload,
               event->message.payload_length);
        agent->request_length = event->message.payload_length;
        agent->request_pending = true;
        break;
    default:
        break;
    }
}

static void publish_status(cellota_agent *agent)
{
    char status_topic[CELLOTA_AGENT_TOPIC_SIZE];
    size_t length;
    int result;

    /* State changes are queued even while disconnected (QoS 1 goes out after the CONNACK), so
     * the broker hears "confirmed" even if the next check is done before it connects; progress
     * alone waits for a connection. */
    if (!agent->config->mqtt_socket || !agent->status_dirty ||
        (!agent->mqtt_connected && !agent->status_urgent))
        return;
    if (!agent->status_urgent &&
        !cellota_time_reached(agent->now, agent->status_sent_at + PROGRESS_STATUS_MS))
        return;
    /* A status too long for the buffer with the running image's hash still goes out without
     * it: the server then sends a full image, never nothing. */
    const cellota_boot_image *image = &boot_state(agent)->slots[running_slot(agent)];
    cellota_agent_running running = {
        image->size, image->sha256,
        agent->config->decoder && agent->config->strategy == CELLOTA_AGENT_STAGE_AB};
    if (cellota_agent_status_json(&agent->report, agent->job.id, &running,
                                  agent->config->buffers.status,
                                  agent->config->buffers.status_size, &length) != CELLOTA_OK &&
        cellota_agent_status_json(&agent->report, agent->job.id, NULL,
                                  agent->config->buffers.status,
                                  agent->config->buffers.status_size, &length) != CELLOTA_OK) {
        agent->status_dirty = false;
        return;
    }
    topic(agent, "status", status_topic);
    result =
        cellota_mqtt_publish(&agent->mqtt, status_topic,
                             (const uint8_t *)agent->config->buffers.status, length, 1, true, NULL);
    if (result == CELLOTA_BUSY)
        return; /* the send buffer is full: try again at the next poll */
    agent->status_dirty = false;
    agent->status_urgent = false;
    agent->status_sent_at = agent->now;
}

/* Last status out, "offline" published, MQTT and HTTP closed. True when done. */
static bool shut_down(cellota_agent *agent)
{
    bool mqtt = agent->config->mqtt_socket != NULL;
    switch (agent->stop_step) {
    case 0:
        agent->timer = agent->now + CELLOTA_AGENT_REBOOT_GRACE_MS;
        agent->stop_step = 1;
        return false;
    case 1: /* the last status acknowledged (or the grace time over) */
        if (mqtt && !cellota_time_reached(agent->now, agent->timer) &&
            (agent->status_dirty || cellota_mqtt_unacknowledged(&agent->mqtt) > 0))
            return false;
        if (mqtt && agent->mqtt_connected)
            cellota_mqtt_publish(&agent->mqtt, agent->online_topic, (const uint8_t *)"offline", 7,
                                 1, true, NULL);
        agent->timer = agent->now + STOP_LINGER_MS;
        agent->stop_step = 2;
        return false;
    case 2:
        if (mqtt && agent->mqtt_connected && !cellota_time_reached(agent->now, agent->timer) &&
            cellota_mqtt_unacknowledged(&agent->mqtt) > 0)
            return false;
        if (mqtt)
            cellota_mqtt_stop(&agent->mqtt);
        cellota_http_close(&agent->http);
        agent->timer = agent->now + STOP_LINGER_MS;
        agent->stop_step = 3;
        return false;
    default: { /* both sockets closed, so a reset does not leave the modem holding them */
        int error;
        const cellota_socket *http = agent->config->http_socket;
        bool http_closed =
            http->operations->state(http->context, &error) == CELLOTA_SOCKET_STATE_CLOSED;
        return ((!mqtt || !agent->mqtt_running) && http_closed) ||
               cellota_time_reached(agent->now, agent->timer);
    }
    }
}

/* --- the socket the HTTP client sees in the modem strategy -------------------------------- */

/* It lets in no more than the staging buffer can take, so the download waits (the modem holds
 * the bytes, TCP slows the server) while the modem's file system catches up. */
static const cellota_socket *inner_socket(void *context)
{
    return ((cellota_agent *)context)->config->http_socket;
}

static int throttle_open(void *context, cellota_socket_kind kind, const char *host, uint16_t port)
{
    const cellota_socket *inner = inner_socket(context);
    return inner->operations->open(inner->context, kind, host, port);
}

static int throttle_send(void *context, const uint8_t *data, size_t length, size_t *accepted)
{
    const cellota_socket *inner = inner_socket(context);
    return inner->operations->send(inner->context, data, length, accepted);
}

static int throttle_receive(void *context, uint8_t *buffer, size_t capacity, size_t *received)
{
    cellota_agent *agent = context;
    const cellota_socket *inner = inner_socket(context);
    size_t room = agent->config->buffers.staging_size - agent->staging_length;
    if (capacity > room)
        capacity = room;
    if (capacity == 0) {
        *received = 0;
        return CELLOTA_OK;
    }
    return inner->operations->receive(inner->context, buffer, capacity, received);
}

static int throttle_close(void *context)
{
    const cellota_socket *inner = inner_socket(context);
    return inner->operations->close(inner->context);
}

static void throttle_poll(void *context, uint32_t now_ms)
{
    const cellota_socket *inner = inner_socket(context);
    inner->operations->poll(inner->context, now_ms);
}

static cellota_socket_state throttle_state(void *context, int *error)
{
    cellota_agent *agent = context;
    const cellota_socket *inner = inner_socket(context);
    cellota_socket_state state = inner->operations->state(inner->context, error);
    /* While the staging buffer is full, a closed peer's last bytes are still to be read. */
    if (state == CELLOTA_SOCKET_STATE_FAILED &&
        agent->staging_length >= agent->config->buffers.staging_size)
        return CELLOTA_SOCKET_STATE_OPEN;
    return state;
}

static const cellota_socket_operations throttle_operations = {
    throttle_open, throttle_send, throttle_receive, throttle_close, throttle_poll, throttle_state,
};

/* --- public ------------------------------------------------------------------------------- */

int cellota_agent_init(cellota_agent *agent, const cellota_agent_config *config)
{
    const cellota_agent_buffers *buffers = &config->buffers;
    cellota_http_config http;
    cellota_mqtt_config mqtt;
    cellota_semver factory;
    int result;

    memset(agent, 0, sizeof(*agent));
    if (!config->port || !config->layout || !config->http_socket || !buffers->http ||
        buffers->http_size < 256 || !buffers->url || buffers->url_size < 64 || !buffers->request ||
        buffers->request_size < 256 || !buffers->status || buffers->status_size < 256)
        return CELLOTA_INVALID_ARGUMENT;
    if (config->mqtt_socket &&
        (!config->mqtt_host || !config->mqtt_port || !buffers->mqtt_receive || !buffers->mqtt_send))
        return CELLOTA_INVALID_ARGUMENT;
    if (!valid_id(config->device_id))
        return CELLOTA_AGENT_BAD_DEVICE_ID;
    if (config->model && !valid_id(config->model)) /* short and plain: it fits every status */
        return CELLOTA_INVALID_ARGUMENT;
    if (!config->server && !config->mqtt_socket)
        return CELLOTA_AGENT_NOT_CONFIGURED;
    if (config->strategy == CELLOTA_AGENT_STAGE_MODEM &&
        (!config->files || !buffers->staging || buffers->staging_size < buffers->http_size ||
         buffers->staging_size % CELLOTA_PIPELINE_HASH_ONLY_INTERVAL != 0))
        return config->files ? CELLOTA_INVALID_ARGUMENT : CELLOTA_AGENT_NO_MODEM_FILES;
    agent->config = config;
    if (!is_semver(factory_version(config), &factory))
        return CELLOTA_IMAGE_SEMVER_INVALID;
    agent->retries = config->retries ? config->retries : CELLOTA_AGENT_RETRIES;
    agent->retry_min_ms = config->retry_min_ms ? config->retry_min_ms : CELLOTA_AGENT_RETRY_MIN_MS;
    agent->retry_max_ms = config->retry_max_ms;
    if (agent->retry_max_ms < agent->retry_min_ms)
        agent->retry_max_ms = agent->retry_min_ms > CELLOTA_AGENT_RETRY_MAX_MS
                                  ? agent->retry_min_ms
                                  : CELLOTA_AGENT_RETRY_MAX_MS;
    /* Signed requests by default: taking them as they come (seed 002's trust in the channel)
     * is asked for explicitly, never implied by a missing key. */
    if (!config->public_key && !config->accept_unsigned)
        return CELLOTA_AGENT_NO_PUBLIC_KEY;
    agent->accept_unsigned = config->accept_unsigned;
    {
        /* FNV-1a of the id: each device draws different back-off jitter. */
        const char *c;
        agent->random_state = 2166136261u;
        for (c = config->device_id; *c; c++)
            agent->random_state = (agent->random_state ^ (uint8_t)*c) * 16777619u;
    }

    agent->throttle.operations = &throttle_operations;
    agent->throttle.context = agent;
    cellota_http_config_default(&http, buffers->http, buffers->http_size, buffers->url,
                                buffers->url_size);
    result = cellota_http_init(&agent->http,
                               config->strategy == CELLOTA_AGENT_STAGE_MODEM ? &agent->throttle
                                                                             : config->http_socket,
                               &http);
    if (result != CELLOTA_OK)
        return result;

    topic(agent, "online", agent->online_topic);
    if (config->mqtt_socket) {
        agent->will.topic = agent->online_topic;
        agent->will.payload = (const uint8_t *)"offline";
        agent->will.payload_length = 7;
        agent->will.qos = 1;
        agent->will.retain = true;
        cellota_mqtt_config_default(&mqtt);
        mqtt.kind = config->mqtt_tls ? CELLOTA_SOCKET_TLS : CELLOTA_SOCKET_TCP;
        mqtt.host = config->mqtt_host;
        mqtt.port = config->mqtt_port;
        mqtt.connect.client_id = agent->config->device_id;
        mqtt.connect.keepalive_s =
            (config->mqtt_keepalive_s ? config->mqtt_keepalive_s : CELLOTA_AGENT_MQTT_KEEPALIVE_S);
        mqtt.connect.clean_session = false; /* requests sent while it reboots wait for it */
        mqtt.connect.will = &agent->will;
        mqtt.receive_buffer = buffers->mqtt_receive;
        mqtt.receive_size = buffers->mqtt_receive_size;
        mqtt.send_buffer = buffers->mqtt_send;
        mqtt.send_size = buffers->mqtt_send_size;
        mqtt.random_seed = agent->random_state;
        mqtt.on_event = on_mqtt_event;
        mqtt.context = agent;
        result = cellota_mqtt_init(&agent->mqtt, config->mqtt_socket, &mqtt);
        if (result != CELLOTA_OK)
            return result;
    }
    agent->report.state = CELLOTA_AGENT_STARTING;
    agent->report.version = agent->running_version;
    agent->report.target = "";
    agent->report.model = config->model;
    agent->step = STEP_START;
    return CELLOTA_OK;
}

void cellota_agent_use_memory(cellota_agent_buffers *buffers, cellota_agent_memory *memory)
{
    buffers->http = memory->http;
    buffers->http_size = sizeof(memory->http);
    buffers->url = memory->url;
    buffers->url_size = sizeof(memory->url);
    buffers->request = memory->request;
    buffers->request_size = sizeof(memory->request);
    buffers->status = memory->status;
    buffers->status_size = sizeof(memory->status);
    buffers->mqtt_receive = memory->mqtt_receive;
    buffers->mqtt_receive_size = sizeof(memory->mqtt_receive);
    buffers->mqtt_send = memory->mqtt_send;
    buffers->mqtt_send_size = sizeof(memory->mqtt_send);
    buffers->staging = memory->staging;
    buffers->staging_size = sizeof(memory->staging);
}

void cellota_agent_check(cellota_agent *agent)
{
    agent->check_wanted = agent->config->server != NULL;
}

int cellota_agent_submit(cellota_agent *agent, const char *json, size_t length)
{
    if (!request_buffer_free(agent))
        return CELLOTA_AGENT_BUSY;
    if (length > agent->config->buffers.request_size)
        return CELLOTA_AGENT_REQUEST_TOO_LARGE;
    memcpy(agent->config->buffers.request, json, length);
    agent->request_length = length;
    agent->request_pending = true;
    return CELLOTA_OK;
}

void cellota_agent_stop(cellota_agent *agent)
{
    if (agent->step == STEP_DONE || agent->step == STEP_STOP || agent->step == STEP_FATAL)
        return;
    if (agent->step == STEP_REBOOT) /* let the reboot finish its own shut-down */
        return;
    agent->step = STEP_STOP;
    agent->stop_step = 0;
}

const cellota_agent_report *cellota_agent_report_now(const cellota_agent *agent)
{
    return &agent->report;
}

int cellota_agent_poll(cellota_agent *agent, uint32_t now_ms)
{
    int result;

    agent->now = now_ms;
    if (agent->config->port->watchdog_kick)
        agent->config->port->watchdog_kick(agent->config->port->context);
    if (agent->step == STEP_DONE)
        return CELLOTA_OK;
    if (agent->step == STEP_FATAL)
        return agent->result;
    if (agent->config->network_poll)
        agent->config->network_poll(agent->config->network_context, now_ms);
    if (agent->config->mqtt_socket && agent->step != STEP_START) {
        result = cellota_mqtt_poll(&agent->mqtt, now_ms);
        agent->mqtt_connected = result == CELLOTA_OK;
        agent->mqtt_running = result != CELLOTA_NET_MQTT_NOT_CONNECTED;
        if (agent->mqtt_connected && agent->announce != ANNOUNCE_NONE)
            announce(agent);
    }
    result = cellota_http_poll(&agent->http, now_ms);
    if (agent->request_too_large) {
        agent->request_too_large = false;
        if (agent->step == STEP_IDLE)
            refuse(agent, CELLOTA_AGENT_REQUEST_TOO_LARGE);
    }

    switch (agent->step) {
    case STEP_START:
        start(agent);
        break;
    case STEP_TESTING:
        self_test(agent);
        break;
    case STEP_IDLE:
        if (agent->request_pending) {
            take_request(agent, false);
        } else if (agent->config->server &&
                   (agent->check_wanted || (agent->config->poll_interval_ms &&
                                            cellota_time_reached(agent->now, agent->check_at)))) {
            start_check(agent);
        }
        break;
    case STEP_CHECK:
        if (agent->request_pending) { /* a request wins over a check */
            cellota_http_close(&agent->http);
            agent->http_step = HTTP_NONE;
            take_request(agent, false);
        } else if (result != CELLOTA_IN_PROGRESS) {
            check_ended(agent, result);
        }
        break;
    case STEP_DOWNLOAD:
        pump_staging(agent);
        if (result != CELLOTA_IN_PROGRESS)
            download_ended(agent, result);
        break;
    case STEP_WAIT:
        pump_staging(agent);
        if (agent->request_pending && agent->resume_step == STEP_CHECK) {
            take_request(agent, false);
        } else if (cellota_time_reached(agent->now, agent->timer)) {
            if (agent->resume_step == STEP_CHECK)
                start_check(agent);
            else if (agent->resume_step == STEP_FINISH)
                agent->step = STEP_FINISH;
            else
                start_download(agent);
        }
        break;
    case STEP_FINISH:
        finish(agent);
        break;
    case STEP_REBOOT:
        if (agent->report.state != CELLOTA_AGENT_ROLLED_BACK)
            set_state(agent, CELLOTA_AGENT_REBOOTING);
        if (shut_down(agent)) {
            agent->step = STEP_DONE;
            agent->config->port->reboot(agent->config->port->context);
            return CELLOTA_OK; /* a simulator's reboot returned: this agent is finished */
        }
        break;
    case STEP_STOP:
        if (shut_down(agent)) {
            agent->step = STEP_DONE;
            return CELLOTA_OK;
        }
        break;
    default:
        break;
    }
    publish_status(agent);
    return agent->step == STEP_FATAL ? agent->result : CELLOTA_IN_PROGRESS;
}
