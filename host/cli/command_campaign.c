/*
 * `cellota campaign create|list|show|pause|resume|abort|wait`: staged rollouts on
 * cellota-server (docs/server.md, Campaigns). `wait` is for release pipelines and the demo: it
 * follows a campaign until it ends and exits 0 only when every targeted device confirmed the
 * release (or already ran it).
 */
#include "api_client.h"
#include "commands.h"
#include "common/cli.h"
#include "common/number.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A device's states in a campaign, in the order a rollout moves through them. */
static const char *const target_states[] = {"pending",   "notified", "downloading", "installing",
                                            "confirmed", "failed",   "skipped"};
#define TARGET_STATE_COUNT (sizeof(target_states) / sizeof(target_states[0]))

#define ID_MAX 1000000000000ull
#define WAIT_OUTAGE_S                                                                              \
    60 /* a server away this long ends `campaign wait` (a restart takes seconds) */

static const host_option create_options[] = {
    {"release", "V", "the release to roll out", true},
    {"tag", "T", "every device with this tag (default: every device)", false},
    {"devices", "A,B,...", "these devices (instead of --tag)", false},
    {"stages", "P,P,...", "cumulative percent of the devices per stage (default 100)", false},
    {"success-percent", "P", "a stage's confirmed share before the next starts (default 100)",
     false},
    {"halt-failure-percent", "P", "halt when a stage's failures pass P% (default 5)", false},
    {"rate", "R", "update requests published per minute at most (default 600)", false},
    {"timeout", "S", "a device silent this long after it began has failed (default 3600)", false},
    {"retries", "N", "requests re-sent to a device that did not start (default 2)", false},
    {"name", "TEXT", "a name for people", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command create_command = {
    .name = "campaign create",
    .synopsis = "--release V [--tag T | --devices A,B] [--stages 1,10,100]\n"
                "                               [--success-percent P] [--halt-failure-percent P]\n"
                "                               [--rate R] [--timeout S] [--retries N] [--name "
                "TEXT]\n"
                "                               [--server URL] [--json]",
    .summary = "Starts a staged rollout of a release: each stage starts when the previous one\n"
               "reached its success share; failures above the halt share stop the campaign.",
    .options = create_options,
    .details = "Success is a device reporting \"confirmed\" on the release after its reboot and\n"
               "self-test. A device already on the release or newer is skipped (counts as done).\n"
               "\n" API_CLIENT_DETAILS,
};

static const host_option list_options[] = {
    {"limit", "N", "show at most N campaigns, newest first (default 100, at most 1000)", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command list_command = {
    .name = "campaign list",
    .synopsis = "[--limit N] [--server URL] [--json]",
    .summary = "Lists the server's campaigns, newest first.",
    .options = list_options,
    .details = API_CLIENT_DETAILS,
};

static const host_option show_options[] = {
    {"devices", NULL, "also list every targeted device with its state", false},
    {"state", "S", "with --devices: only devices in this state", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command show_command = {
    .name = "campaign show",
    .synopsis = "ID [--devices [--state S]] [--server URL] [--json]",
    .summary = "Shows a campaign: its stage, devices by state, failures by reason, bytes served\n"
               "and cost.",
    .options = show_options,
    .positional = "ID",
    .positional_min = 1,
    .positional_max = 1,
    .details = "Device states: pending, notified, downloading, installing, confirmed, failed,\n"
               "skipped. Campaign states: running, paused, halted, aborted, completed.\n"
               "\n" API_CLIENT_DETAILS,
};

static const host_option action_options[] = {
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command pause_command = {
    .name = "campaign pause",
    .synopsis = "ID [--server URL] [--json]",
    .summary = "Pauses a running campaign: no new requests are sent; devices already updating\n"
               "carry on and are counted.",
    .options = action_options,
    .positional = "ID",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static const host_command resume_command = {
    .name = "campaign resume",
    .synopsis = "ID [--server URL] [--json]",
    .summary = "Resumes a paused or halted campaign.",
    .options = action_options,
    .positional = "ID",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static const host_command abort_command = {
    .name = "campaign abort",
    .synopsis = "ID [--server URL] [--json]",
    .summary = "Ends a campaign for good: no more requests; its devices are free for another.",
    .options = action_options,
    .positional = "ID",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static const host_option wait_options[] = {
    {"interval", "S", "seconds between looks at the campaign (default 2)", false},
    {"timeout", "S", "give up after S seconds (exit 1; default: wait as long as it runs)", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command wait_command = {
    .name = "campaign wait",
    .synopsis = "ID [--interval S] [--timeout S] [--server URL] [--json]",
    .summary = "Follows a campaign until it is completed, halted or aborted, its progress on\n"
               "standard error; then prints it as `campaign show` does.",
    .options = wait_options,
    .positional = "ID",
    .positional_min = 1,
    .positional_max = 1,
    .details = "Exit 0 only when the campaign completed with every device confirmed or skipped;\n"
               "1 when it completed with failures, was halted or aborted, or --timeout passed.\n"
               "A paused campaign is waited for (someone may resume it). A server that goes away\n"
               "after the campaign was seen (a restart) is looked at again for up to 60 s;\n"
               "one that cannot be reached at the start ends the wait at once (5).\n"
               "\n" API_CLIENT_DETAILS,
};

/* --- reading a campaign ------------------------------------------------------------------- */

static double count_of(const cJSON *campaign, const char *state)
{
    return api_number(cJSON_GetObjectItemCaseSensitive(campaign, "counts"), state);
}

/* "1,10,100" from a JSON array of numbers. */
static void numbers_text(const cJSON *array, char *text, size_t capacity)
{
    const cJSON *item;
    size_t used = 0;
    text[0] = '\0';
    cJSON_ArrayForEach(item, array)
    {
        int written = snprintf(text + used, capacity - used, "%s%.0f", used ? "," : "",
                               cJSON_IsNumber(item) ? item->valuedouble : 0);
        if (written < 0 || (size_t)written >= capacity - used)
            break;
        used += (size_t)written;
    }
}

/* One line: "campaign 7 running, stage 2/3 (10%, 2 devices): 1/12 confirmed, 1 downloading". */
static void progress_line(const cJSON *campaign, char *line, size_t capacity)
{
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(campaign, "stages");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(campaign, "stage_targets");
    int stage = (int)api_number(campaign, "stage");
    const cJSON *percent = cJSON_GetArrayItem(stages, stage - 1);
    const cJSON *stage_target = cJSON_GetArrayItem(targets, stage - 1);
    size_t used, index;

    used = (size_t)snprintf(line, capacity,
                            "campaign %.0f %s, stage %d/%d (%.0f%%, %.0f devices): "
                            "%.0f/%.0f confirmed",
                            api_number(campaign, "id"), api_text(campaign, "state"), stage,
                            cJSON_GetArraySize(stages),
                            cJSON_IsNumber(percent) ? percent->valuedouble : 0,
                            cJSON_IsNumber(stage_target) ? stage_target->valuedouble : 0,
                            count_of(campaign, "confirmed"), api_number(campaign, "targeted"));
    for (index = 0; index < TARGET_STATE_COUNT && used < capacity; index++) {
        const char *state = target_states[index];
        double count = count_of(campaign, state);
        if (strcmp(state, "confirmed") == 0 || (count == 0 && strcmp(state, "failed") != 0))
            continue;
        used += (size_t)snprintf(line + used, capacity - used, ", %.0f %s", count, state);
    }
}

static void print_campaign(const cJSON *campaign)
{
    const cJSON *failures = cJSON_GetObjectItemCaseSensitive(campaign, "failures");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(campaign, "cost");
    const cJSON *failure;
    char stages[128], targets[128], line[512], bytes[32];
    size_t index;

    progress_line(campaign, line, sizeof(line));
    numbers_text(cJSON_GetObjectItemCaseSensitive(campaign, "stages"), stages, sizeof(stages));
    numbers_text(cJSON_GetObjectItemCaseSensitive(campaign, "stage_targets"), targets,
                 sizeof(targets));
    printf("campaign %.0f%s%s: release %s, %s\n", api_number(campaign, "id"),
           api_text(campaign, "name")[0] ? " " : "", api_text(campaign, "name"),
           api_text(campaign, "release"), api_text(campaign, "state"));
    printf("  progress    %s\n", strchr(line, ':') ? strchr(line, ':') + 2 : line);
    printf("  stages      %s (%% of %.0f devices: %s); now stage %.0f of %d\n", stages,
           api_number(campaign, "targeted"), targets, api_number(campaign, "stage"),
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(campaign, "stages")));
    printf("  rules       next stage at %.0f%% confirmed, halt above %.0f%% failed, %.0f "
           "requests/min, %.0f s timeout, %.0f retries\n",
           api_number(campaign, "success_percent"), api_number(campaign, "halt_failure_percent"),
           api_number(campaign, "rate_per_minute"), api_number(campaign, "timeout_s"),
           api_number(campaign, "retries"));
    printf("  devices    ");
    for (index = 0; index < TARGET_STATE_COUNT; index++)
        printf(" %s %.0f", target_states[index], count_of(campaign, target_states[index]));
    printf("\n");
    if (api_text(campaign, "halt_reason")[0])
        printf("  halted      %s\n", api_text(campaign, "halt_reason"));
    cJSON_ArrayForEach(failure, failures)
    {
        printf("  failed      %.0f x %s: %s\n", api_number(failure, "count"),
               api_text(failure, "reason"), api_text(failure, "message"));
    }
    host_format_size((uint64_t)api_number(campaign, "bytes_served"), bytes, sizeof(bytes));
    printf("  served      %s (%.0f bytes), %.0f requests published\n", bytes,
           api_number(campaign, "bytes_served"), api_number(campaign, "requests_published"));
    /* What was really sent: devices and bytes per variant (full, compressed, delta). */
    const cJSON *sent = cJSON_GetObjectItemCaseSensitive(campaign, "sent");
    if (sent) {
        static const char *const variants[] = {"full", "compressed", "delta"};
        printf("  sent       ");
        for (size_t i = 0; i < 3; i++) {
            const cJSON *part = cJSON_GetObjectItemCaseSensitive(sent, variants[i]);
            char part_bytes[32];
            host_format_size((uint64_t)api_number(part, "bytes"), part_bytes, sizeof(part_bytes));
            printf("%s %s %.0f devices, %s", i ? ";" : "", variants[i],
                   api_number(part, "devices"), part_bytes);
        }
        printf("\n");
    }
    if (cost)
        printf("  cost        %s: $%.2f so far (requests $%.2f, data $%.2f), $%.2f projected\n",
               api_text(cost, "provider"), api_number(cost, "total_usd"),
               api_number(cost, "requests_usd"), api_number(cost, "data_usd"),
               api_number(cost, "projected_total_usd"));
    printf("  created     %s\n", api_text(campaign, "created_at"));
    if (api_text(campaign, "finished_at")[0])
        printf("  finished    %s\n", api_text(campaign, "finished_at"));
}

static void print_targets(const cJSON *list)
{
    static const char *const headers[] = {"DEVICE",  "STATE",  "STAGE",   "ATTEMPTS",
                                          "UPDATED", "REASON", "MESSAGE", NULL};
    const cJSON *target;
    text_table rows;
    table_init(&rows, headers);
    cJSON_ArrayForEach(target, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        char stage[16], attempts[16], updated[32];
        const char *cells[7];
        snprintf(stage, sizeof(stage), "%.0f", api_number(target, "stage"));
        snprintf(attempts, sizeof(attempts), "%.0f", api_number(target, "attempts"));
        table_age(api_text(target, "updated_at"), updated, sizeof(updated));
        cells[0] = api_text(target, "device");
        cells[1] = api_text(target, "state");
        cells[2] = stage;
        cells[3] = attempts;
        cells[4] = updated;
        cells[5] = api_text(target, "reason");
        cells[6] = api_text(target, "message");
        table_add(&rows, cells);
    }
    table_print(&rows, stdout);
    api_print_shown(rows.rows - 1, list, "devices");
    table_free(&rows);
}

/* --- commands ----------------------------------------------------------------------------- */

/* A campaign id from the command line. */
static int parse_campaign_id(const host_command *command, const char *text, uint64_t *id)
{
    if (!host_parse_unsigned(text, ID_MAX, id) || *id == 0)
        return host_usage_error(command, "expected a campaign number, not '%s'", text);
    return HOST_EXIT_OK;
}

/* "a,b,c" as a JSON array of strings, or of whole numbers up to `max` (max > 0). NULL after
 * printing a usage error. */
static cJSON *list_option(const host_command *command, const char *option, const char *text,
                          uint64_t max)
{
    cJSON *array = cJSON_CreateArray();
    const char *start = text;
    if (!array) {
        host_error(HOST_EXIT_INTERNAL, "out of memory");
        return NULL;
    }
    for (;;) {
        const char *end = strchr(start, ',');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        char item[128];
        uint64_t number;
        if (length == 0 || length >= sizeof(item)) {
            host_usage_error(command, "--%s: expected a comma-separated list, not '%s'", option,
                             text);
            cJSON_Delete(array);
            return NULL;
        }
        memcpy(item, start, length);
        item[length] = '\0';
        if (max > 0) {
            if (!host_parse_unsigned(item, max, &number)) {
                host_usage_error(command, "--%s: '%s' is not a number from 0 to %llu", option, item,
                                 (unsigned long long)max);
                cJSON_Delete(array);
                return NULL;
            }
            cJSON_AddItemToArray(array, cJSON_CreateNumber((double)number));
        } else {
            cJSON_AddItemToArray(array, cJSON_CreateString(item));
        }
        if (!end)
            return array;
        start = end + 1;
    }
}

/* Adds option `option` as the whole number member `member`, when given. */
static bool number_option(const host_command *command, const host_arguments *arguments,
                          const char *option, uint64_t max, cJSON *body, const char *member)
{
    const char *text = host_option_value(arguments, option);
    uint64_t number;
    if (!text)
        return true;
    if (!host_parse_unsigned(text, max, &number)) {
        host_usage_error(command, "--%s: expected a whole number up to %llu, not '%s'", option,
                         (unsigned long long)max, text);
        return false;
    }
    cJSON_AddNumberToObject(body, member, (double)number);
    return true;
}

static int run_create(int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer;
    const char *tag, *devices, *stages, *name;
    cJSON *body, *list;
    int status;

    if (!host_parse_arguments(&create_command, argc, argv, &arguments, &status))
        return status;
    tag = host_option_value(&arguments, "tag");
    devices = host_option_value(&arguments, "devices");
    stages = host_option_value(&arguments, "stages");
    name = host_option_value(&arguments, "name");
    if (tag && devices)
        return host_usage_error(&create_command, "--tag and --devices: give one of them");
    if (!(body = cJSON_CreateObject()))
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    cJSON_AddStringToObject(body, "release", host_option_value(&arguments, "release"));
    status = HOST_EXIT_USAGE;
    if (tag) {
        cJSON_AddStringToObject(body, "tag", tag);
    } else if (devices) {
        if (!(list = list_option(&create_command, "devices", devices, 0)))
            goto done;
        cJSON_AddItemToObject(body, "devices", list);
    } else {
        cJSON_AddStringToObject(body, "devices", "all");
    }
    if (stages) {
        if (!(list = list_option(&create_command, "stages", stages, 100)))
            goto done;
        cJSON_AddItemToObject(body, "stages", list);
    }
    if (!number_option(&create_command, &arguments, "success-percent", 100, body,
                       "success_percent") ||
        !number_option(&create_command, &arguments, "halt-failure-percent", 100, body,
                       "halt_failure_percent") ||
        !number_option(&create_command, &arguments, "rate", 1000000, body, "rate_per_minute") ||
        !number_option(&create_command, &arguments, "timeout", 365ull * 86400, body, "timeout_s") ||
        !number_option(&create_command, &arguments, "retries", 100, body, "retries"))
        goto done;
    if (name)
        cJSON_AddStringToObject(body, "name", name);
    if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) !=
        HOST_EXIT_OK)
        goto done;
    status = api_client_post_json(&client, "/api/campaigns", body, &answer);
    if (status == HOST_EXIT_OK) {
        if (host_option_given(&arguments, "json"))
            api_answer_print(&answer);
        else
            print_campaign(answer.json);
        api_answer_free(&answer);
    }
    api_client_close(&client);
done:
    cJSON_Delete(body);
    return status;
}

static void print_campaigns(const cJSON *list)
{
    static const char *const headers[] = {"ID",        "RELEASE", "STATE",   "STAGE", "TARGETED",
                                          "CONFIRMED", "FAILED",  "CREATED", "NAME",  NULL};
    const cJSON *campaign;
    text_table rows;
    table_init(&rows, headers);
    cJSON_ArrayForEach(campaign, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        char id[24], stage[24], targeted[24], confirmed[24], failed[24];
        const char *cells[9];
        snprintf(id, sizeof(id), "%.0f", api_number(campaign, "id"));
        snprintf(stage, sizeof(stage), "%.0f/%d", api_number(campaign, "stage"),
                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(campaign, "stages")));
        snprintf(targeted, sizeof(targeted), "%.0f", api_number(campaign, "targeted"));
        snprintf(confirmed, sizeof(confirmed), "%.0f", count_of(campaign, "confirmed"));
        snprintf(failed, sizeof(failed), "%.0f", count_of(campaign, "failed"));
        cells[0] = id;
        cells[1] = api_text(campaign, "release");
        cells[2] = api_text(campaign, "state");
        cells[3] = stage;
        cells[4] = targeted;
        cells[5] = confirmed;
        cells[6] = failed;
        cells[7] = api_text(campaign, "created_at");
        cells[8] = api_text(campaign, "name");
        table_add(&rows, cells);
    }
    table_print(&rows, stdout);
    api_print_shown(rows.rows - 1, list, "campaigns");
    table_free(&rows);
}

static int run_list(int argc, char **argv)
{
    host_arguments arguments;
    char *path;
    int status;
    if (!host_parse_arguments(&list_command, argc, argv, &arguments, &status))
        return status;
    if ((status = api_list_path(&list_command, &arguments, "/api/campaigns", &path)) !=
        HOST_EXIT_OK)
        return status;
    status = api_get_and_print(&arguments, path, print_campaigns);
    free(path);
    return status;
}

static int run_show(int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer, devices;
    char path[64], *devices_path = NULL;
    uint64_t id;
    int status;

    if (!host_parse_arguments(&show_command, argc, argv, &arguments, &status))
        return status;
    if ((status = parse_campaign_id(&show_command, arguments.positional[0], &id)) != HOST_EXIT_OK)
        return status;
    snprintf(path, sizeof(path), "/api/campaigns/%llu", (unsigned long long)id);
    if (!host_option_given(&arguments, "devices")) {
        if (host_option_given(&arguments, "state"))
            return host_usage_error(&show_command, "--state filters --devices: give both");
        return api_get_and_print(&arguments, path, print_campaign);
    }
    /* With its devices: two requests, one answer. */
    if (!(devices_path = malloc(96)))
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    snprintf(devices_path, 96, "%s/devices?limit=1000", path);
    if ((status = api_query(&devices_path, "state", host_option_value(&arguments, "state"))) !=
        HOST_EXIT_OK) {
        free(devices_path);
        return status;
    }
    if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) !=
        HOST_EXIT_OK) {
        free(devices_path);
        return status;
    }
    status = api_client_get(&client, path, &answer);
    if (status == HOST_EXIT_OK &&
        (status = api_client_get(&client, devices_path, &devices)) != HOST_EXIT_OK)
        api_answer_free(&answer);
    if (status == HOST_EXIT_OK) {
        if (host_option_given(&arguments, "json")) {
            /* One JSON document: the campaign with its devices' list inside. */
            char *text;
            cJSON_AddItemToObject(answer.json, "targets", devices.json);
            devices.json = NULL;
            if ((text = cJSON_PrintUnformatted(answer.json)))
                printf("%s\n", text);
            else
                status = host_error(HOST_EXIT_INTERNAL, "out of memory");
            free(text);
        } else {
            print_campaign(answer.json);
            printf("\n");
            print_targets(devices.json);
        }
        api_answer_free(&devices);
        api_answer_free(&answer);
    }
    free(devices_path);
    api_client_close(&client);
    return status;
}

static int run_action(const host_command *command, const char *action, int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer;
    char path[80];
    uint64_t id;
    int status;

    if (!host_parse_arguments(command, argc, argv, &arguments, &status))
        return status;
    if ((status = parse_campaign_id(command, arguments.positional[0], &id)) != HOST_EXIT_OK)
        return status;
    if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) !=
        HOST_EXIT_OK)
        return status;
    snprintf(path, sizeof(path), "/api/campaigns/%llu/%s", (unsigned long long)id, action);
    status = api_client_post_json(&client, path, NULL, &answer);
    if (status == HOST_EXIT_OK) {
        if (host_option_given(&arguments, "json")) {
            api_answer_print(&answer);
        } else {
            char line[512];
            progress_line(answer.json, line, sizeof(line));
            printf("%s\n", line);
        }
        api_answer_free(&answer);
    }
    api_client_close(&client);
    return status;
}

static int run_pause(int argc, char **argv)
{
    return run_action(&pause_command, "pause", argc, argv);
}

static int run_resume(int argc, char **argv)
{
    return run_action(&resume_command, "resume", argc, argv);
}

static int run_abort(int argc, char **argv)
{
    return run_action(&abort_command, "abort", argc, argv);
}

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* How a campaign that stopped moving ended: HOST_EXIT_OK only when every device is done. */
static int outcome(const cJSON *campaign)
{
    const char *state = api_text(campaign, "state");
    double failed = count_of(campaign, "failed");
    double done = count_of(campaign, "confirmed") + count_of(campaign, "skipped");
    double id = api_number(campaign, "id");
    if (strcmp(state, "completed") == 0 && failed == 0 && done == api_number(campaign, "targeted"))
        return HOST_EXIT_OK;
    if (strcmp(state, "halted") == 0)
        return host_error(HOST_EXIT_FAILED, "campaign %.0f halted: %s", id,
                          api_text(campaign, "halt_reason")[0] ? api_text(campaign, "halt_reason")
                                                               : "failures passed the threshold");
    if (strcmp(state, "aborted") == 0)
        return host_error(HOST_EXIT_FAILED, "campaign %.0f was aborted (%.0f of %.0f devices done)",
                          id, done, api_number(campaign, "targeted"));
    return host_error(HOST_EXIT_FAILED, "campaign %.0f %s: %.0f of %.0f devices failed", id, state,
                      failed, api_number(campaign, "targeted"));
}

/* Ends a progress line left open on a terminal, so what follows starts on a line of its own. */
static void end_line(bool *line_open)
{
    if (*line_open)
        fputc('\n', stderr);
    *line_open = false;
}

static int run_wait(int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer;
    const char *text;
    char path[64], line[512], shown[512] = "";
    uint64_t id, interval = 2, timeout = 0;
    bool terminal = isatty(STDERR_FILENO), ended = false, line_open = false;
    double started = seconds_now(), away_since = -1;
    int status;

    if (!host_parse_arguments(&wait_command, argc, argv, &arguments, &status))
        return status;
    if ((status = parse_campaign_id(&wait_command, arguments.positional[0], &id)) != HOST_EXIT_OK)
        return status;
    text = host_option_value(&arguments, "interval");
    if (text && (!host_parse_unsigned(text, 3600, &interval) || interval == 0))
        return host_usage_error(&wait_command, "--interval: expected 1 to 3600 seconds, not '%s'",
                                text);
    text = host_option_value(&arguments, "timeout");
    if (text && !host_parse_unsigned(text, 365ull * 86400, &timeout))
        return host_usage_error(&wait_command, "--timeout: expected seconds, not '%s'", text);
    if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) !=
        HOST_EXIT_OK)
        return status;
    snprintf(path, sizeof(path), "/api/campaigns/%llu", (unsigned long long)id);
    for (;;) {
        char state[32] = "unreachable"; /* kept past the answer, for the timeout's message */
        status = api_client_get(&client, path, &answer);
        if (status == API_EXIT_UNREACHABLE && client.quiet) {
            /* The campaign was seen before: the server restarts, or the network blinked. A
             * pipeline's wait should outlive that; a server gone for good ends it. */
            end_line(&line_open);
            if (away_since < 0) {
                away_since = seconds_now();
                fprintf(stderr, "%s: %s; looking again for up to %d s\n", host_program(),
                        client.message, WAIT_OUTAGE_S);
            } else if (seconds_now() - away_since >= WAIT_OUTAGE_S) {
                status = host_error(status, "%s (for %d s)", client.message, WAIT_OUTAGE_S);
                break;
            }
        } else if (status != HOST_EXIT_OK) {
            end_line(&line_open);
            if (client.quiet)
                host_error(status, "%s", client.message);
            break;
        } else {
            client.quiet = true; /* from here on this loop says what failed, and when */
            away_since = -1;
            snprintf(state, sizeof(state), "%s", api_text(answer.json, "state"));
            ended = strcmp(state, "completed") == 0 || strcmp(state, "halted") == 0 ||
                    strcmp(state, "aborted") == 0;
            progress_line(answer.json, line, sizeof(line));
            /* On a terminal one line rewritten in place; in a log a line per change. */
            if (terminal) {
                fprintf(stderr, "\r%s\033[K", line);
                line_open = true;
                if (ended)
                    end_line(&line_open);
            } else if (strcmp(line, shown) != 0) {
                fprintf(stderr, "%s\n", line);
            }
            snprintf(shown, sizeof(shown), "%s", line);
            if (ended)
                break; /* `answer` is the last look: printed below */
        }
        api_answer_free(&answer); /* (a failed request left it empty) */
        if (timeout && seconds_now() - started >= (double)timeout) {
            end_line(&line_open);
            status = host_error(HOST_EXIT_FAILED, "campaign %llu still %s after %llu s",
                                (unsigned long long)id, state, (unsigned long long)timeout);
            break;
        }
        sleep((unsigned)interval);
    }
    if (ended) {
        if (host_option_given(&arguments, "json"))
            api_answer_print(&answer);
        else
            print_campaign(answer.json);
        status = outcome(answer.json);
        api_answer_free(&answer);
    }
    api_client_close(&client);
    return status;
}

static const command_entry subcommands[] = {
    {"create", "start a staged rollout of a release", run_create},
    {"list", "list campaigns", run_list},
    {"show", "show a campaign's progress, failures and cost", run_show},
    {"pause", "stop sending requests for a while", run_pause},
    {"resume", "go on with a paused or halted campaign", run_resume},
    {"abort", "end a campaign for good", run_abort},
    {"wait", "follow a campaign until it ends; exit 0 when every device confirmed", run_wait},
};

int command_campaign(int argc, char **argv)
{
    return command_dispatch("campaign", "Staged rollouts of a release on cellota-server.",
                            subcommands, sizeof(subcommands) / sizeof(subcommands[0]), NULL, argc,
                            argv);
}
