/* What answers without the token: device polling (seed 000), images, the public key, metrics
 * and the dashboard's files. */
#include "campaigns.h"
#include "common/file.h"
#include "http.h"
#include "images.h"
#include "releases.h"
#include "requests.h"

#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The polling device's id, NULL when it gave none (a seed-000 device); false after answering
 * 400 for an id that is not one. */
static bool polling_device(http_request *request, const char **device, enum MHD_Result *answer)
{
    /* /d/<id>/version: the id in the path, for an agent configured with --server <url>/d/<id> */
    *device = request->segments[0] ? request->segments[0] : http_query(request, "device");
    if (!*device)
        return true;
    bool valid = server_valid_name(*device);
    if (!valid)
        *answer = http_error(request, 400, "BAD_DEVICE",
                             "device is 1 to 32 letters, digits, '-', '_' or '.'.");
    return valid;
}

static enum MHD_Result no_release(http_request *request, int status)
{
    if (status == STORAGE_NOT_FOUND)
        return http_error(request, 404, "NO_RELEASE", "There is no release yet.");
    return http_error(request, 500, "STORAGE_FAILED", "The database could not be read.");
}

static enum MHD_Result version_show(http_request *request)
{
    const char *device;
    enum MHD_Result answer;
    char version[STORAGE_ID_SIZE + 1];
    if (!polling_device(request, &device, &answer))
        return answer;
    if (device) {
        device_record record;
        if (!campaign_poll(request->self, device, version, NULL)) {
            /* Nothing on offer: the version it runs, so it stays up to date ("0.0.0" before it
             * has ever said). */
            if (storage_device_get(request->self->store, device, &record) == 0 && record.version[0])
                snprintf(version, sizeof(version), "%s", record.version);
            else
                snprintf(version, sizeof(version), "0.0.0");
        }
        strcat(version, "\n");
        return http_text(request, 200, "text/plain", version);
    }
    release_record release;
    int status = release_newest(request->self, &release);
    if (status != 0)
        return no_release(request, status);
    snprintf(version, sizeof(version), "%s\n", release.version);
    storage_release_free(&release);
    return http_text(request, 200, "text/plain", version);
}

static enum MHD_Result request_show(http_request *request)
{
    const char *device;
    enum MHD_Result answer;
    char version[STORAGE_ID_SIZE], *json = NULL;
    if (!polling_device(request, &device, &answer))
        return answer;
    if (device) {
        if (!campaign_poll(request->self, device, version, &json))
            return http_error(request, 404, "NO_UPDATE", "No update is on offer for device %s.",
                              device);
    } else {
        release_record release;
        int status = release_newest(request->self, &release);
        if (status != 0)
            return no_release(request, status);
        status = request_for_anyone(request->self, &release, &json);
        storage_release_free(&release);
        if (status != 0)
            return http_error(request, 500, "REQUEST_FAILED",
                              "The release's request could not be built.");
    }
    answer = http_text(request, 200, "application/json", json);
    memset(json, 0, strlen(json)); /* it carries the image key */
    free(json);
    return answer;
}

static enum MHD_Result firmware_show(http_request *request)
{
    release_record release;
    images_transfer transfer = {0};
    char name[80];
    int status = release_newest(request->self, &release);
    if (status != 0)
        return no_release(request, status);
    storage_release_free(&release);
    if (!release.plain_download)
        return http_error(request, 404, "NO_PLAIN_IMAGE",
                          "Release %s was not uploaded for plain download (plain=1).",
                          release.version);
    snprintf(name, sizeof(name), "%s.bin", release.plain_sha256);
    char *path = release_image_path(request->self, name);
    if (!path)
        return MHD_NO;
    enum MHD_Result result =
        images_answer(request->connection, request->method, path, release.plain_sha256,
                      "application/octet-stream", &transfer);
    free(path);
    request->image_bytes = transfer.body_bytes;
    return result;
}

/* <64 lower-case hex>.ebin and nothing else: no traversal, no other file of the store. */
static bool image_name(const char *name)
{
    if (strlen(name) != 69 || strcmp(name + 64, ".ebin") != 0)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

static enum MHD_Result image_show(http_request *request)
{
    images_transfer transfer = {0};
    char etag[65];
    const char *name = request->segments[0], *campaign = http_query(request, "c");
    if (!image_name(name))
        return http_error(request, 404, "UNKNOWN_IMAGE",
                          "Images are named <sha256 in lower-case hex>.ebin.");
    memcpy(etag, name, 64);
    etag[64] = '\0';
    char *path = release_image_path(request->self, name);
    if (!path)
        return MHD_NO;
    enum MHD_Result result = images_answer(request->connection, request->method, path, etag,
                                           "application/octet-stream", &transfer);
    free(path);
    request->image_bytes = transfer.body_bytes;
    if (campaign) {
        char *end;
        long long id = strtoll(campaign, &end, 10);
        if (*end == '\0' && id > 0)
            request->image_campaign = id;
        /* the variant the campaign sent (requests.c writes it into the URL): for the split */
        const char *encoding = http_query(request, "e");
        if (!encoding || !variant_encoding_parse(encoding, &request->image_encoding))
            request->image_encoding = VARIANT_FULL;
    }
    return result;
}

/* A file answered from a descriptor (the public key, the dashboard). */
static enum MHD_Result file_answer(http_request *request, const char *path,
                                   const char *content_type)
{
    struct stat info;
    int descriptor = open(path, O_RDONLY | O_CLOEXEC);
    if (descriptor < 0 || fstat(descriptor, &info) != 0 || !S_ISREG(info.st_mode)) {
        if (descriptor >= 0)
            close(descriptor);
        return http_error(request, 404, "NOT_FOUND", "There is nothing at this path.");
    }
    struct MHD_Response *response = MHD_create_response_from_fd((uint64_t)info.st_size, descriptor);
    if (!response) {
        close(descriptor);
        return MHD_NO;
    }
    MHD_add_response_header(response, "Content-Type", content_type);
    /* The dashboard holds the operator's token in the page: no other site may frame it (a
     * clicked-through pause or abort), load scripts into it, or have a file taken for another
     * type. */
    MHD_add_response_header(response, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    enum MHD_Result result = MHD_queue_response(request->connection, 200, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result key_show(http_request *request)
{
    char *path = host_path_join(request->self->store_folder, "server.pub.pem");
    if (!path)
        return MHD_NO;
    enum MHD_Result result = file_answer(request, path, "application/x-pem-file");
    free(path);
    return result;
}

/* --- metrics ------------------------------------------------------------------------------ */

typedef struct text_buffer {
    char *data;
    size_t length, capacity;
} text_buffer;

static void append(text_buffer *text, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void append(text_buffer *text, const char *format, ...)
{
    va_list list;
    for (;;) {
        va_start(list, format);
        int needed = vsnprintf(text->data ? text->data + text->length : NULL,
                               text->data ? text->capacity - text->length : 0, format, list);
        va_end(list);
        if (needed < 0)
            return;
        if (text->data && text->length + (size_t)needed < text->capacity) {
            text->length += (size_t)needed;
            return;
        }
        size_t capacity = text->capacity ? text->capacity * 2 : 4096;
        while (capacity < text->length + (size_t)needed + 1)
            capacity *= 2;
        char *grown = realloc(text->data, capacity);
        if (!grown)
            return;
        text->data = grown;
        text->capacity = capacity;
    }
}

static enum MHD_Result metrics_show(http_request *request)
{
    storage *store = request->self->store;
    text_buffer text = {0};
    count_group *groups;
    campaign_record *campaigns;
    size_t count;
    int64_t devices = 0, online = 0, total;
    append(&text, "# HELP cellota_devices Devices by their last reported state.\n"
                  "# TYPE cellota_devices gauge\n");
    if (storage_device_groups(store, "state", &groups, &count) == 0) {
        for (size_t i = 0; i < count; i++)
            append(&text, "cellota_devices{state=\"%s\"} %" PRId64 "\n",
                   groups[i].name[0] ? groups[i].name : "unknown", groups[i].count);
        free(groups);
    }
    storage_device_totals(store, &devices, &online);
    append(&text,
           "# HELP cellota_devices_online Devices whose MQTT session is up.\n"
           "# TYPE cellota_devices_online gauge\ncellota_devices_online %" PRId64 "\n",
           online);
    append(&text, "# HELP cellota_campaign_devices A campaign's devices by state.\n"
                  "# TYPE cellota_campaign_devices gauge\n");
    uint64_t published = 0;
    if (storage_campaign_list(store, 1000, 0, &campaigns, &count, &total) == 0) {
        for (size_t i = 0; i < count; i++) {
            for (int s = 0; s < TARGET_STATE_COUNT; s++)
                append(&text,
                       "cellota_campaign_devices{campaign=\"%" PRId64 "\",state=\"%s\"} %" PRId64
                       "\n",
                       campaigns[i].id, target_state_name((target_state)s), campaigns[i].counts[s]);
            published += campaigns[i].requests_published;
        }
        free(campaigns);
    }
    append(&text,
           "# HELP cellota_bytes_served_total Image bytes served.\n"
           "# TYPE cellota_bytes_served_total counter\ncellota_bytes_served_total %" PRId64 "\n"
           "# HELP cellota_requests_published_total Update requests handed to devices.\n"
           "# TYPE cellota_requests_published_total counter\n"
           "cellota_requests_published_total %" PRIu64 "\n"
           "# HELP cellota_status_messages_total Status messages received since start.\n"
           "# TYPE cellota_status_messages_total counter\n"
           "cellota_status_messages_total %" PRIu64 "\n",
           storage_counter_get(store, "bytes_served"), published,
           (uint64_t)atomic_load(&request->self->status_messages));
    if (!text.data)
        return MHD_NO;
    enum MHD_Result result =
        http_text(request, 200, "text/plain; version=0.0.4; charset=utf-8", text.data);
    free(text.data);
    return result;
}

/* --- the dashboard ------------------------------------------------------------------------ */

static const char *content_type_of(const char *path)
{
    static const struct {
        const char *extension, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".map", "application/json"},
        {".txt", "text/plain"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].extension) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A file under the dashboard folder; `relative` has no "..", no hidden parts. */
static enum MHD_Result dashboard_file(http_request *request, const char *relative)
{
    char path[1024];
    if (strstr(relative, "..") || strstr(relative, "/.") || relative[0] == '.' ||
        strchr(relative, '\\'))
        return http_error(request, 404, "NOT_FOUND", "There is nothing at this path.");
    snprintf(path, sizeof(path), "%s/%s", request->self->dashboard, relative);
    return file_answer(request, path, content_type_of(path));
}

static enum MHD_Result dashboard_index(http_request *request)
{
    return dashboard_file(request, "index.html");
}

static enum MHD_Result dashboard_path(http_request *request)
{
    const char *prefix = "/dashboard/";
    const char *relative = request->path;
    if (strncmp(relative, prefix, strlen(prefix)) == 0)
        relative += strlen(prefix);
    else
        relative++;
    return dashboard_file(request, *relative ? relative : "index.html");
}

const http_route public_routes[] = {
    {"GET", "/version", version_show, false, 0},
    {"GET", "/ota.json", request_show, false, 0},
    {"GET", "/d/*/version", version_show, false, 0},
    {"GET", "/d/*/ota.json", request_show, false, 0},
    {"GET", "/firmware.bin", firmware_show, false, 0},
    {"GET", "/images/*", image_show, false, 0},
    {"GET", "/keys/server.pub.pem", key_show, false, 0},
    {"GET", "/metrics", metrics_show, false, 0},
    {"GET", "/", dashboard_index, false, 0},
    {"GET", "/dashboard/", dashboard_index, false, 0},
    {"GET", "/dashboard/*", dashboard_path, false, 0},
    {"GET", "/dashboard/*/*", dashboard_path, false, 0},
    {"GET", "/dashboard/*/*/*", dashboard_path, false, 0},
    {"GET", "/*", dashboard_path, false, 0},
    {NULL, NULL, NULL, false, 0},
};
