/*
 * `cellota devices [filters]`, `cellota devices show ID`, `cellota devices tag ID TAGS`: the
 * fleet as cellota-server knows it (docs/server.md, Devices). A device is registered the first
 * time it is heard from: a status, its online message, or a poll naming it.
 */
#include "api_client.h"
#include "commands.h"
#include "common/cli.h"
#include "common/number.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const host_option list_options[] = {
    {"state", "S", "only devices whose last status is S (idle, downloading, confirmed, ...)",
     false},
    {"tag", "T", "only devices with tag T", false},
    {"version", "V", "only devices running version V", false},
    {"online", "yes|no", "only devices online (or offline)", false},
    {"limit", "N", "show at most N devices (default 100, at most 1000)", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command list_command = {
    .name = "devices",
    .synopsis = "[--state S] [--tag T] [--version V] [--online yes|no] [--limit N]\n"
                "                       [--server URL] [--json]\n"
                "       cellota devices show ID [--server URL] [--json]\n"
                "       cellota devices tag ID [TAG,...] [--server URL] [--json]",
    .summary = "Lists the devices the server has heard from: model, version, state, when last\n"
               "seen, online, and the campaign each is in.",
    .options = list_options,
    .details = "`devices show ID` prints one device with its status timeline (newest first);\n"
               "`devices tag ID a,b` sets its tags (none: removes them), for campaigns --tag.\n"
               "\n" API_CLIENT_DETAILS,
};

static const host_option show_options[] = {
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command show_command = {
    .name = "devices show",
    .synopsis = "ID [--server URL] [--json]",
    .summary = "Shows one device and its status timeline, newest first.",
    .options = show_options,
    .positional = "ID",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static const host_command tag_command = {
    .name = "devices tag",
    .synopsis = "ID [TAG,...] [--server URL] [--json]",
    .summary = "Sets a device's tags (replacing the ones it had; none given: removes them all).",
    .options = show_options,
    .positional = "ID [TAG,...]",
    .positional_min = 1,
    .positional_max = 2,
    .details = API_CLIENT_DETAILS,
};

static void print_devices(const cJSON *list)
{
    static const char *const headers[] = {"ID",   "MODEL",    "VERSION",  "STATE", "ONLINE",
                                          "SEEN", "CAMPAIGN", "PROGRESS", "ERROR", NULL};
    const cJSON *device;
    text_table rows;
    table_init(&rows, headers);
    cJSON_ArrayForEach(device, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        char seen[32], campaign[48] = "", progress[16] = "";
        const cJSON *number = cJSON_GetObjectItemCaseSensitive(device, "campaign");
        const char *cells[9];
        table_age(api_text(device, "last_seen"), seen, sizeof(seen));
        if (cJSON_IsNumber(number))
            snprintf(campaign, sizeof(campaign), "%.0f %s", number->valuedouble,
                     api_text(device, "campaign_state"));
        if (strcmp(api_text(device, "state"), "downloading") == 0)
            snprintf(progress, sizeof(progress), "%.0f%%", api_number(device, "progress"));
        cells[0] = api_text(device, "id");
        cells[1] = api_text(device, "model");
        cells[2] = api_text(device, "version");
        cells[3] = api_text(device, "state");
        cells[4] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(device, "online")) ? "yes" : "no";
        cells[5] = seen;
        cells[6] = campaign;
        cells[7] = progress;
        cells[8] = api_number(device, "error") != 0 ? api_text(device, "error_name") : "";
        table_add(&rows, cells);
    }
    table_print(&rows, stdout);
    api_print_shown(rows.rows - 1, list, "devices");
    table_free(&rows);
}

static void print_device(const cJSON *device)
{
    static const char *const headers[] = {"AT",       "STATE",    "VERSION", "TARGET",
                                          "PROGRESS", "CAMPAIGN", "ERROR",   NULL};
    const cJSON *entry, *tag, *campaign = cJSON_GetObjectItemCaseSensitive(device, "campaign");
    char seen[32];
    text_table rows;

    table_age(api_text(device, "last_seen"), seen, sizeof(seen));
    printf("device %s\n", api_text(device, "id"));
    printf("  model       %s\n", api_text(device, "model"));
    printf("  version     %s\n", api_text(device, "version"));
    printf("  state       %s\n", api_text(device, "state"));
    /* what the server chooses the smallest update by (docs/server.md, Requests per device) */
    if (api_text(device, "image")[0])
        printf("  image       %s (%s)\n", api_text(device, "image"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(device, "decodes"))
                   ? "decodes compressed images and patches"
                   : "full images only");
    printf("  online      %s, last seen %s\n",
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(device, "online")) ? "yes" : "no", seen);
    if (api_number(device, "error") != 0)
        printf("  error       %s: %s\n", api_text(device, "error_name"),
               api_text(device, "message"));
    printf("  tags       ");
    cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(device, "tags"))
    {
        printf(" %s", cJSON_IsString(tag) ? tag->valuestring : "?");
    }
    printf("\n");
    if (cJSON_IsNumber(campaign))
        printf("  campaign    %.0f, %s\n", campaign->valuedouble,
               api_text(device, "campaign_state"));
    printf("\n");
    table_init(&rows, headers);
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(device, "timeline"))
    {
        char progress[16], error[192] = "";
        const char *cells[7];
        snprintf(progress, sizeof(progress), "%.0f%%", api_number(entry, "progress"));
        if (api_number(entry, "error") != 0)
            snprintf(error, sizeof(error), "%s: %s", api_text(entry, "error_name"),
                     api_text(entry, "message"));
        cells[0] = api_text(entry, "at");
        cells[1] = api_text(entry, "state");
        cells[2] = api_text(entry, "version");
        cells[3] = api_text(entry, "target");
        cells[4] = progress;
        cells[5] = api_text(entry, "campaign");
        cells[6] = error;
        table_add(&rows, cells);
    }
    table_print(&rows, stdout);
    table_free(&rows);
}

/* "/api/devices/<id escaped><suffix>" (malloc'd), or NULL after printing why. */
static char *device_path(const char *id, const char *suffix)
{
    char *path;
    size_t index;
    /* Device ids are plain (letters, digits, - _ .): refuse anything else before it becomes a
     * path the server would read differently. */
    for (index = 0; id[index]; index++) {
        char c = id[index];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            host_usage_error(&show_command, "'%s' is not a device id (letters, digits, - _ .)", id);
            return NULL;
        }
    }
    if (index == 0 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) {
        host_usage_error(&show_command, "'%s' is not a device id", id);
        return NULL;
    }
    path = malloc(strlen(id) + strlen(suffix) + 16);
    if (!path)
        host_error(HOST_EXIT_INTERNAL, "out of memory");
    else
        sprintf(path, "/api/devices/%s%s", id, suffix);
    return path;
}

static int run_show(int argc, char **argv)
{
    host_arguments arguments;
    char *path;
    int status;
    if (!host_parse_arguments(&show_command, argc, argv, &arguments, &status))
        return status;
    if (!(path = device_path(arguments.positional[0], "")))
        return HOST_EXIT_USAGE;
    status = api_get_and_print(&arguments, path, print_device);
    free(path);
    return status;
}

static int run_tag(int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer;
    cJSON *body, *tags;
    char *path, *text = NULL;
    int status;

    if (!host_parse_arguments(&tag_command, argc, argv, &arguments, &status))
        return status;
    if (!(path = device_path(arguments.positional[0], "/tags")))
        return HOST_EXIT_USAGE;
    body = cJSON_CreateObject();
    tags = cJSON_AddArrayToObject(body, "tags");
    if (tags && arguments.positional_count > 1) {
        const char *start = arguments.positional[1];
        for (;;) {
            const char *end = strchr(start, ',');
            size_t length = end ? (size_t)(end - start) : strlen(start);
            char tag[64];
            if (length == 0 || length >= sizeof(tag)) {
                free(path);
                cJSON_Delete(body);
                return host_usage_error(&tag_command, "expected tags as a,b,c, not '%s'",
                                        arguments.positional[1]);
            }
            memcpy(tag, start, length);
            tag[length] = '\0';
            cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
            if (!end)
                break;
            start = end + 1;
        }
    }
    if (!tags || !(text = cJSON_PrintUnformatted(body))) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
    } else if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) ==
               HOST_EXIT_OK) {
        status = api_client_request(&client, "PUT", path, text, strlen(text), "application/json",
                                    &answer);
        if (status == HOST_EXIT_OK) {
            if (host_option_given(&arguments, "json"))
                api_answer_print(&answer);
            else
                print_device(answer.json);
            api_answer_free(&answer);
        }
        api_client_close(&client);
    }
    free(text);
    free(path);
    cJSON_Delete(body);
    return status;
}

static int run_list(int argc, char **argv)
{
    host_arguments arguments;
    const char *online;
    char *path;
    int status;

    if (!host_parse_arguments(&list_command, argc, argv, &arguments, &status))
        return status;
    online = host_option_value(&arguments, "online");
    if (online) {
        if (strcmp(online, "yes") == 0 || strcmp(online, "true") == 0)
            online = "true";
        else if (strcmp(online, "no") == 0 || strcmp(online, "false") == 0)
            online = "false";
        else
            return host_usage_error(&list_command, "--online: expected yes or no, not '%s'",
                                    online);
    }
    if ((status = api_list_path(&list_command, &arguments, "/api/devices", &path)) != HOST_EXIT_OK)
        return status;
    status = api_query(&path, "state", host_option_value(&arguments, "state"));
    if (status == HOST_EXIT_OK)
        status = api_query(&path, "tag", host_option_value(&arguments, "tag"));
    if (status == HOST_EXIT_OK)
        status = api_query(&path, "version", host_option_value(&arguments, "version"));
    if (status == HOST_EXIT_OK)
        status = api_query(&path, "online", online);
    if (status == HOST_EXIT_OK)
        status = api_get_and_print(&arguments, path, print_devices);
    free(path);
    return status;
}

static const command_entry subcommands[] = {
    {"show", "show one device and its status timeline", run_show},
    {"tag", "set a device's tags", run_tag},
};

int command_devices(int argc, char **argv)
{
    return command_dispatch("devices", "The devices cellota-server knows.", subcommands,
                            sizeof(subcommands) / sizeof(subcommands[0]), run_list, argc, argv);
}
