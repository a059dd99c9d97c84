/* The operator's API (docs/server.md): releases, campaigns, devices, summary. Token needed. */
#include "api.h"
#include "campaigns.h"
#include "http.h"
#include "releases.h"
#include "requests.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"total":N,"items":[...]} */
static cJSON *list_of(int64_t total, cJSON *items)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddNumberToObject(object, "total", (double)total);
    cJSON_AddItemToObject(object, "items", items);
    return object;
}

static enum MHD_Result storage_failed(http_request *request)
{
    return http_error(request, 500, "STORAGE_FAILED", "The database could not be read.");
}

static bool parse_id(const char *text, int64_t *id)
{
    char *end;
    long long value = strtoll(text, &end, 10);
    if (*end || value < 1 || text[0] == '\0')
        return false;
    *id = value;
    return true;
}

/* --- releases ----------------------------------------------------------------------------- */

static enum MHD_Result releases_upload(http_request *request)
{
    release_record release;
    api_error error;
    const char *plain = http_query(request, "plain");
    release_upload upload = {
        .version = http_query(request, "version"),
        .load_address = http_query(request, "load_address"),
        .notes = http_query(request, "notes"),
        .plain_download = plain && (strcmp(plain, "1") == 0 || strcmp(plain, "true") == 0),
        .image = request->body,
        .size = request->body_size,
    };
    if (release_create(request->self, &upload, &release, &error) != 0)
        return http_api_error(request, &error);
    printf("release %s: uploaded, %" PRIu64 " bytes, image %s.ebin\n", release.version,
           release.plain_size, release.sha256);
    fflush(stdout);
    cJSON *body = release_json(request->self, &release);
    storage_release_free(&release);
    return http_json(request, 201, body);
}

static enum MHD_Result releases_retire(http_request *request)
{
    api_error error;
    release_record release;
    if (release_retire(request->self, request->segments[0], &error) != 0)
        return http_api_error(request, &error);
    if (storage_release_get(request->self->store, request->segments[0], &release) != 0)
        return storage_failed(request);
    cJSON *body = release_json(request->self, &release);
    storage_release_free(&release);
    return http_json(request, 200, body);
}

static enum MHD_Result releases_list(http_request *request)
{
    release_record *items;
    size_t limit, offset, count;
    int64_t total;
    enum MHD_Result answer;
    if (!http_paging(request, &limit, &offset, &answer))
        return answer;
    if (storage_release_list(request->self->store, limit, offset, &items, &count, &total) != 0)
        return storage_failed(request);
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(array, release_json(request->self, &items[i]));
    free(items);
    return http_json(request, 200, list_of(total, array));
}

static enum MHD_Result releases_show(http_request *request)
{
    release_record release;
    int status = storage_release_get(request->self->store, request->segments[0], &release);
    if (status == STORAGE_NOT_FOUND)
        return http_error(request, 404, "UNKNOWN_RELEASE", "There is no release %s.",
                          request->segments[0]);
    if (status != 0)
        return storage_failed(request);
    cJSON *body = release_json(request->self, &release);
    storage_release_free(&release);
    return http_json(request, 200, body);
}

/* --- campaigns ---------------------------------------------------------------------------- */

/* A member that must be a whole number in [low, high] when present. */
static bool number_member(cJSON *object, const char *name, int64_t low, int64_t high,
                          int64_t *value, api_error *error)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (!item)
        return true;
    /* The range first: converting a double outside int64_t's (1e19, inf) is undefined. */
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= (double)low) ||
        !(item->valuedouble <= (double)high) ||
        item->valuedouble != (double)(int64_t)item->valuedouble) {
        api_error_set(error, 400, "BAD_CAMPAIGN",
                      "\"%s\" must be a whole number from %" PRId64 " to %" PRId64 ".", name, low,
                      high);
        return false;
    }
    *value = (int64_t)item->valuedouble;
    return true;
}

int api_parse_campaign_body(const char *text, size_t size, api_campaign_body *parsed,
                            api_error *error)
{
    campaign_spec *spec = &parsed->spec;
    int64_t success = 100, halt = 5, rate = 600, timeout = 3600, retries = 2;
    char **devices = NULL;
    size_t device_count = 0;
    cJSON *body = cJSON_ParseWithLength(text, size);
    memset(parsed, 0, sizeof(*parsed));
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        api_error_set(error, 400, "BAD_JSON", "The body must be a JSON object.");
        return -1;
    }
    cJSON *release = cJSON_GetObjectItemCaseSensitive(body, "release");
    cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    cJSON *tag = cJSON_GetObjectItemCaseSensitive(body, "tag");
    cJSON *targets = cJSON_GetObjectItemCaseSensitive(body, "devices");
    cJSON *stages = cJSON_GetObjectItemCaseSensitive(body, "stages");
    if (!cJSON_IsString(release)) {
        api_error_set(error, 400, "BAD_CAMPAIGN", "\"release\" (a version) is required.");
        goto refuse;
    }
    if ((name && !cJSON_IsString(name)) ||
        (tag && (!cJSON_IsString(tag) || !server_valid_name(tag->valuestring)))) {
        api_error_set(error, 400, "BAD_CAMPAIGN",
                      "\"name\" is a string; \"tag\" a tag (letters, digits, '-', '_', '.').");
        goto refuse;
    }
    if (tag && targets) {
        api_error_set(error, 400, "BAD_CAMPAIGN", "Give \"devices\" or \"tag\", not both.");
        goto refuse;
    }
    if (targets && !(cJSON_IsString(targets) && strcmp(targets->valuestring, "all") == 0)) {
        if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) == 0) {
            api_error_set(error, 400, "BAD_CAMPAIGN",
                          "\"devices\" is \"all\" or a list of device ids.");
            goto refuse;
        }
        device_count = (size_t)cJSON_GetArraySize(targets);
        devices = calloc(device_count, sizeof(char *));
        size_t i = 0;
        cJSON *item;
        cJSON_ArrayForEach(item, targets)
        {
            if (!cJSON_IsString(item)) {
                api_error_set(error, 400, "BAD_DEVICE", "Device ids are strings.");
                goto refuse;
            }
            devices[i++] = item->valuestring;
        }
    }
    if (stages) {
        cJSON *item;
        if (!cJSON_IsArray(stages) || cJSON_GetArraySize(stages) == 0 ||
            cJSON_GetArraySize(stages) > STORAGE_STAGES_MAX) {
            api_error_set(error, 400, "BAD_STAGES",
                          "\"stages\" is a list of 1 to %d percentages, such as [1,10,100].",
                          STORAGE_STAGES_MAX);
            goto refuse;
        }
        cJSON_ArrayForEach(item, stages)
        {
            if (!cJSON_IsNumber(item) || item->valuedouble != (double)item->valueint) {
                api_error_set(error, 400, "BAD_STAGES", "Stages are whole percentages.");
                goto refuse;
            }
            spec->stages[spec->stage_count++] = item->valueint;
        }
    } else {
        spec->stages[spec->stage_count++] = 100;
    }
    if (!number_member(body, "success_percent", 0, 100, &success, error) ||
        !number_member(body, "halt_failure_percent", 0, 100, &halt, error) ||
        !number_member(body, "rate_per_minute", 1, 1000000, &rate, error) ||
        !number_member(body, "timeout_s", 1, 31536000, &timeout, error) ||
        !number_member(body, "retries", 0, 100, &retries, error))
        goto refuse;
    spec->release = release->valuestring;
    spec->name = name ? name->valuestring : "";
    spec->tag = tag ? tag->valuestring : NULL;
    spec->devices = devices;
    spec->device_count = device_count;
    spec->success_percent = (int)success;
    spec->halt_failure_percent = (int)halt;
    spec->rate_per_minute = (int)rate;
    spec->timeout_s = timeout;
    spec->retries = (int)retries;
    parsed->json = body;
    return 0;
refuse:
    free(devices);
    cJSON_Delete(body);
    memset(parsed, 0, sizeof(*parsed));
    return -1;
}

void api_campaign_body_free(api_campaign_body *parsed)
{
    free(parsed->spec.devices);
    cJSON_Delete(parsed->json);
    memset(parsed, 0, sizeof(*parsed));
}

static enum MHD_Result campaigns_create(http_request *request)
{
    api_campaign_body parsed;
    api_error error;
    int64_t id;
    if (api_parse_campaign_body((const char *)request->body, request->body_size, &parsed,
                                &error) != 0)
        return http_api_error(request, &error);
    if (campaign_create(request->self, &parsed.spec, &id, &error) != 0) {
        api_campaign_body_free(&parsed);
        return http_api_error(request, &error);
    }
    api_campaign_body_free(&parsed);
    campaign_record campaign;
    if (storage_campaign_get(request->self->store, id, &campaign) != 0)
        return storage_failed(request);
    cJSON *answer_body = campaign_json(request->self, &campaign);
    storage_campaign_free(&campaign);
    return http_json(request, 201, answer_body);
}

static enum MHD_Result campaigns_list(http_request *request)
{
    campaign_record *items;
    size_t limit, offset, count;
    int64_t total;
    enum MHD_Result answer;
    if (!http_paging(request, &limit, &offset, &answer))
        return answer;
    if (storage_campaign_list(request->self->store, limit, offset, &items, &count, &total) != 0)
        return storage_failed(request);
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(array, campaign_json(request->self, &items[i]));
    free(items);
    return http_json(request, 200, list_of(total, array));
}

/* The campaign named by the first segment, or an answer already queued. */
static bool find_campaign(http_request *request, campaign_record *campaign, enum MHD_Result *answer)
{
    int64_t id;
    if (!parse_id(request->segments[0], &id)) {
        *answer = http_error(request, 404, "UNKNOWN_CAMPAIGN", "There is no campaign %s.",
                             request->segments[0]);
        return false;
    }
    int status = storage_campaign_get(request->self->store, id, campaign);
    if (status == STORAGE_NOT_FOUND) {
        *answer = http_error(request, 404, "UNKNOWN_CAMPAIGN", "There is no campaign %s.",
                             request->segments[0]);
        return false;
    }
    if (status != 0) {
        *answer = storage_failed(request);
        return false;
    }
    return true;
}

static enum MHD_Result campaigns_show(http_request *request)
{
    campaign_record campaign;
    enum MHD_Result answer;
    if (!find_campaign(request, &campaign, &answer))
        return answer;
    cJSON *body = campaign_json(request->self, &campaign);
    storage_campaign_free(&campaign);
    return http_json(request, 200, body);
}

static enum MHD_Result campaigns_devices(http_request *request)
{
    campaign_record campaign;
    target_record *items;
    size_t limit, offset, count;
    int64_t total;
    target_state state;
    enum MHD_Result answer;
    const char *filter = http_query(request, "state");
    if (!find_campaign(request, &campaign, &answer))
        return answer;
    storage_campaign_free(&campaign);
    if (filter && !target_state_parse(filter, &state))
        return http_error(request, 400, "BAD_STATE",
                          "state is pending, notified, downloading, installing, confirmed, "
                          "failed or skipped.");
    if (!http_paging(request, &limit, &offset, &answer))
        return answer;
    if (storage_target_list(request->self->store, campaign.id, filter, limit, offset, &items,
                            &count, &total) != 0)
        return storage_failed(request);
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(array, target_json(&items[i]));
    free(items);
    return http_json(request, 200, list_of(total, array));
}

static enum MHD_Result campaigns_command(http_request *request, const char *command)
{
    campaign_record campaign;
    api_error error;
    enum MHD_Result answer;
    if (!find_campaign(request, &campaign, &answer))
        return answer;
    storage_campaign_free(&campaign);
    if (campaign_command(request->self, campaign.id, command, &error) != 0)
        return http_api_error(request, &error);
    return campaigns_show(request);
}

static enum MHD_Result campaigns_pause(http_request *request)
{
    return campaigns_command(request, "pause");
}

static enum MHD_Result campaigns_resume(http_request *request)
{
    return campaigns_command(request, "resume");
}

static enum MHD_Result campaigns_abort(http_request *request)
{
    return campaigns_command(request, "abort");
}

/* --- devices ------------------------------------------------------------------------------ */

static cJSON *tags_json(const char *tags)
{
    cJSON *array = cJSON_CreateArray();
    const char *start = tags;
    while (start && *start) {
        if (*start == ',') {
            start++;
            continue;
        }
        const char *end = strchr(start, ',');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        char tag[64];
        snprintf(tag, sizeof(tag), "%.*s", (int)length, start);
        cJSON_AddItemToArray(array, cJSON_CreateString(tag));
        start += length;
    }
    return array;
}

static cJSON *device_json(server *self, const device_record *device)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddStringToObject(object, "id", device->id);
    cJSON_AddStringToObject(object, "model", device->model);
    cJSON_AddStringToObject(object, "version", device->version);
    cJSON_AddStringToObject(object, "state", device->state);
    cJSON_AddBoolToObject(object, "online", device->online);
    cJSON_AddBoolToObject(object, "revoked", server_device_revoked(self, device->id));
    server_add_time(object, "last_seen", device->last_seen);
    cJSON_AddNumberToObject(object, "error", device->error);
    cJSON_AddStringToObject(object, "error_name", device->error_name);
    cJSON_AddStringToObject(object, "message", device->message);
    cJSON_AddItemToObject(object, "tags", tags_json(device->tags));
    if (device->campaign > 0)
        cJSON_AddNumberToObject(object, "campaign", (double)device->campaign);
    else
        cJSON_AddNullToObject(object, "campaign");
    cJSON_AddStringToObject(object, "campaign_state", device->campaign_state);
    cJSON_AddNumberToObject(object, "progress", device->progress);
    cJSON_AddStringToObject(object, "image", device->image);
    cJSON_AddBoolToObject(object, "decodes", device->decodes);
    return object;
}

static enum MHD_Result devices_list(http_request *request)
{
    device_record *items;
    size_t limit, offset, count;
    int64_t total;
    enum MHD_Result answer;
    const char *online = http_query(request, "online");
    device_filter filter = {http_query(request, "state"), http_query(request, "version"),
                            http_query(request, "tag"), -1};
    if (online && strcmp(online, "true") == 0)
        filter.online = 1;
    else if (online && strcmp(online, "false") == 0)
        filter.online = 0;
    else if (online)
        return http_error(request, 400, "BAD_FILTER", "online is true or false.");
    if (!http_paging(request, &limit, &offset, &answer))
        return answer;
    if (storage_device_list(request->self->store, &filter, limit, offset, &items, &count, &total) !=
        0)
        return storage_failed(request);
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(array, device_json(request->self, &items[i]));
    free(items);
    return http_json(request, 200, list_of(total, array));
}

static enum MHD_Result devices_show(http_request *request)
{
    device_record device;
    timeline_entry *entries;
    size_t count;
    int status = storage_device_get(request->self->store, request->segments[0], &device);
    if (status == STORAGE_NOT_FOUND)
        return http_error(request, 404, "UNKNOWN_DEVICE", "There is no device %s.",
                          request->segments[0]);
    if (status != 0 ||
        storage_device_timeline(request->self->store, device.id, 200, &entries, &count) != 0)
        return storage_failed(request);
    cJSON *body = device_json(request->self, &device), *timeline = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++) {
        cJSON *entry = cJSON_CreateObject();
        const device_status *s = &entries[i].status;
        server_add_time(entry, "at", entries[i].at);
        cJSON_AddStringToObject(entry, "state", s->state);
        cJSON_AddStringToObject(entry, "version", s->version);
        cJSON_AddStringToObject(entry, "target", s->target);
        cJSON_AddNumberToObject(entry, "progress", s->progress);
        cJSON_AddNumberToObject(entry, "error", s->error);
        cJSON_AddStringToObject(entry, "error_name", s->error_name);
        cJSON_AddStringToObject(entry, "message", s->message);
        cJSON_AddStringToObject(entry, "campaign", s->campaign);
        cJSON_AddItemToArray(timeline, entry);
    }
    free(entries);
    cJSON_AddItemToObject(body, "timeline", timeline);
    return http_json(request, 200, body);
}

int api_parse_tags(const char *text, size_t size, char tags[STORAGE_TEXT_SIZE], api_error *error)
{
    size_t length = 1;
    cJSON *body = cJSON_ParseWithLength(text, size), *item;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "tags");
    snprintf(tags, STORAGE_TEXT_SIZE, ",");
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(body);
        api_error_set(error, 400, "BAD_JSON", "The body must be {\"tags\":[...]}.");
        return -1;
    }
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsString(item) || !server_valid_name(item->valuestring) ||
            length + strlen(item->valuestring) + 2 > STORAGE_TEXT_SIZE) {
            cJSON_Delete(body);
            snprintf(tags, STORAGE_TEXT_SIZE, ",");
            api_error_set(error, 400, "BAD_TAG",
                          "Tags are 1 to 32 letters, digits, '-', '_' or '.'.");
            return -1;
        }
        length += (size_t)snprintf(tags + length, STORAGE_TEXT_SIZE - length, "%s,",
                                   item->valuestring);
    }
    cJSON_Delete(body);
    return 0;
}

static enum MHD_Result devices_tags(http_request *request)
{
    char tags[STORAGE_TEXT_SIZE];
    api_error error;
    if (api_parse_tags((const char *)request->body, request->body_size, tags, &error) != 0)
        return http_api_error(request, &error);
    int status = storage_device_set_tags(request->self->store, request->segments[0], tags);
    if (status == STORAGE_NOT_FOUND)
        return http_error(request, 404, "UNKNOWN_DEVICE", "There is no device %s.",
                          request->segments[0]);
    if (status != 0)
        return storage_failed(request);
    device_record device;
    if (storage_device_get(request->self->store, request->segments[0], &device) != 0)
        return storage_failed(request);
    return http_json(request, 200, device_json(request->self, &device));
}

/* PUT /api/devices/ID/certificate: requests for it are then wrapped to its key (requests.h). */
static enum MHD_Result devices_certificate(http_request *request)
{
    const char *device = request->segments[0];
    api_error error;
    if (!server_valid_name(device))
        return http_error(request, 400, "BAD_DEVICE",
                          "Device ids are 1 to 32 letters, digits, '-', '_' or '.'.");
    char *pem = malloc(request->body_size + 1);
    if (!pem)
        return MHD_NO;
    memcpy(pem, request->body, request->body_size);
    pem[request->body_size] = '\0';
    error.status = 0;
    if (strlen(pem) != request->body_size ||
        request_check_certificate(request->self, device, pem, &error) != 0) {
        free(pem);
        if (error.status == 0) /* a NUL inside the body */
            api_error_set(&error, 400, "BAD_CERTIFICATE", "The body must be a PEM certificate.");
        return http_api_error(request, &error);
    }
    int status = storage_device_seen(request->self->store, device, -1, server_now());
    if (status == 0)
        status = storage_device_set_certificate(request->self->store, device, pem);
    free(pem);
    device_record record;
    if (status != 0 || storage_device_get(request->self->store, device, &record) != 0)
        return storage_failed(request);
    printf("device %s: certificate registered; its requests are wrapped to it\n", device);
    fflush(stdout);
    return http_json(request, 200, device_json(request->self, &record));
}

/* --- summary ------------------------------------------------------------------------------ */

static cJSON *groups_json(server *self, const char *column)
{
    count_group *groups;
    size_t count;
    cJSON *object = cJSON_CreateObject();
    if (storage_device_groups(self->store, column, &groups, &count) == 0) {
        for (size_t i = 0; i < count; i++)
            cJSON_AddNumberToObject(object, groups[i].name[0] ? groups[i].name : "unknown",
                                    (double)groups[i].count);
        free(groups);
    }
    return object;
}

static enum MHD_Result summary_show(http_request *request)
{
    int64_t devices = 0, online = 0, releases = 0;
    release_record *items;
    size_t count;
    if (storage_device_totals(request->self->store, &devices, &online) != 0 ||
        storage_release_list(request->self->store, 1, 0, &items, &count, &releases) != 0)
        return storage_failed(request);
    free(items);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "devices", (double)devices);
    cJSON_AddNumberToObject(body, "online", (double)online);
    cJSON_AddItemToObject(body, "by_state", groups_json(request->self, "state"));
    cJSON_AddItemToObject(body, "by_version", groups_json(request->self, "version"));
    cJSON_AddNumberToObject(body, "releases", (double)releases);
    cJSON_AddNumberToObject(body, "campaigns_active",
                            (double)storage_campaigns_active(request->self->store));
    cJSON_AddNumberToObject(body, "bytes_served",
                            (double)storage_counter_get(request->self->store, "bytes_served"));
    return http_json(request, 200, body);
}

const http_route api_routes[] = {
    {"POST", "/api/releases", releases_upload, TOKEN_OPERATE, 16u * 1024 * 1024},
    {"GET", "/api/releases", releases_list, TOKEN_READ, 0},
    {"GET", "/api/releases/*", releases_show, TOKEN_READ, 0},
    {"POST", "/api/releases/*/retire", releases_retire, TOKEN_OPERATE, 0},
    {"POST", "/api/campaigns", campaigns_create, TOKEN_OPERATE, HTTP_JSON_MAX},
    {"GET", "/api/campaigns", campaigns_list, TOKEN_READ, 0},
    {"GET", "/api/campaigns/*", campaigns_show, TOKEN_READ, 0},
    {"GET", "/api/campaigns/*/devices", campaigns_devices, TOKEN_READ, 0},
    {"POST", "/api/campaigns/*/pause", campaigns_pause, TOKEN_OPERATE, 0},
    {"POST", "/api/campaigns/*/resume", campaigns_resume, TOKEN_OPERATE, 0},
    {"POST", "/api/campaigns/*/abort", campaigns_abort, TOKEN_OPERATE, 0},
    {"GET", "/api/devices", devices_list, TOKEN_READ, 0},
    {"GET", "/api/devices/*", devices_show, TOKEN_READ, 0},
    {"PUT", "/api/devices/*/tags", devices_tags, TOKEN_OPERATE, HTTP_JSON_MAX},
    {"PUT", "/api/devices/*/certificate", devices_certificate, TOKEN_OPERATE, HTTP_JSON_MAX},
    {"GET", "/api/summary", summary_show, TOKEN_READ, 0},
    {NULL, NULL, NULL, TOKEN_NONE, 0},
};
