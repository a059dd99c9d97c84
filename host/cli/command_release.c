/*
 * `cellota release upload|list|show|retire`: releases on cellota-server (docs/server.md,
 * Releases).
 * The server packs and signs the image with the same library code as `cellota pack`; this
 * command only carries the plain image and its version there.
 */
#include "api_client.h"
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server refuses more (413); reading a larger file to learn that would be a waste. */
#define UPLOAD_READ_MAX (64u * 1024 * 1024)

static const host_option upload_options[] = {
    {"version", "V", "the release's semantic version (1.4.2)", true},
    {"load-addr", "ADDR", "where the application runs (default: the server's, as cellota pack)",
     false},
    {"notes", "TEXT", "release notes shown with the release", false},
    {"plain", NULL, "also serve the plain image at /firmware.bin (seed 000 devices)", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command upload_command = {
    .name = "release upload",
    .synopsis = "FIRMWARE --version V [--load-addr ADDR] [--notes TEXT] [--plain]\n"
                "                              [--server URL] [--json]",
    .summary = "Uploads a plain firmware image as a release: the server encrypts it, signs its\n"
               "update request with the server's key and hosts the image.",
    .options = upload_options,
    .positional = "FIRMWARE",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static const host_option list_options[] = {
    {"limit", "N", "show at most N releases, newest first (default 100, at most 1000)", false},
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command list_command = {
    .name = "release list",
    .synopsis = "[--limit N] [--server URL] [--json]",
    .summary = "Lists the server's releases, newest first.",
    .options = list_options,
    .details = API_CLIENT_DETAILS,
};

static const host_option show_options[] = {
    API_CLIENT_OPTIONS,
    {NULL, NULL, NULL, false},
};

static const host_command show_command = {
    .name = "release show",
    .synopsis = "VERSION [--server URL] [--json]",
    .summary = "Shows one release.",
    .options = show_options,
    .positional = "VERSION",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static const host_command retire_command = {
    .name = "release retire",
    .synopsis = "VERSION [--server URL] [--json]",
    .summary = "Retires a release: the server destroys its sealed image keys, so it can no longer\n"
               "be offered (nor be a delta's base). Refused while an active campaign offers it.",
    .options = show_options,
    .positional = "VERSION",
    .positional_min = 1,
    .positional_max = 1,
    .details = API_CLIENT_DETAILS,
};

static void print_release(const cJSON *release)
{
    char size[32], plain_size[32];
    host_format_size((uint64_t)api_number(release, "plain_size"), plain_size, sizeof(plain_size));
    host_format_size((uint64_t)api_number(release, "size"), size, sizeof(size));
    printf("release %s\n", api_text(release, "version"));
    printf("  image       %s plain, %s encrypted, load address 0x%08llx\n", plain_size, size,
           (unsigned long long)api_number(release, "load_address"));
    printf("  security    version %.0f (anti-rollback)\n", api_number(release, "security_version"));
    printf("  sha256      %s (encrypted)\n", api_text(release, "sha256"));
    printf("  url         %s\n", api_text(release, "url"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(release, "plain_download")))
        printf("  plain       served at /firmware.bin\n");
    if (api_text(release, "notes")[0])
        printf("  notes       %s\n", api_text(release, "notes"));
    printf("  created     %s\n", api_text(release, "created_at"));
    const cJSON *variant;
    cJSON_ArrayForEach(variant, cJSON_GetObjectItemCaseSensitive(release, "variants"))
    {
        host_format_size((uint64_t)api_number(variant, "size"), size, sizeof(size));
        if (strcmp(api_text(variant, "encoding"), "delta") == 0)
            printf("  variant     delta from %s, %s\n", api_text(variant, "base"), size);
        else
            printf("  variant     %s, %s\n", api_text(variant, "encoding"), size);
    }
    if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(release, "retired_at")) &&
        cJSON_GetObjectItemCaseSensitive(release, "retired_at"))
        printf("  retired     %s (its keys are destroyed)\n", api_text(release, "retired_at"));
}

static int run_upload(int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer;
    uint8_t *image = NULL;
    size_t length = 0;
    char *path = NULL;
    int status;

    if (!host_parse_arguments(&upload_command, argc, argv, &arguments, &status))
        return status;
    if ((status = host_read_file(arguments.positional[0], UPLOAD_READ_MAX, &image, &length)) !=
        HOST_EXIT_OK)
        return status;
    if (length == 0) {
        free(image);
        return host_error(HOST_EXIT_FAILED, "%s is empty: nothing to upload",
                          arguments.positional[0]);
    }
    if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) !=
        HOST_EXIT_OK) {
        free(image);
        return status;
    }
    path = strdup("/api/releases");
    status = path ? HOST_EXIT_OK : host_error(HOST_EXIT_INTERNAL, "out of memory");
    if (status == HOST_EXIT_OK)
        status = api_query(&path, "version", host_option_value(&arguments, "version"));
    if (status == HOST_EXIT_OK)
        status = api_query(&path, "load_address", host_option_value(&arguments, "load-addr"));
    if (status == HOST_EXIT_OK)
        status = api_query(&path, "notes", host_option_value(&arguments, "notes"));
    if (status == HOST_EXIT_OK && host_option_given(&arguments, "plain"))
        status = api_query(&path, "plain", "1");
    if (status == HOST_EXIT_OK)
        status = api_client_request(&client, "POST", path, image, length,
                                    "application/octet-stream", &answer);
    if (status == HOST_EXIT_OK) {
        if (host_option_given(&arguments, "json"))
            api_answer_print(&answer);
        else
            print_release(answer.json);
        api_answer_free(&answer);
    }
    free(path);
    free(image);
    api_client_close(&client);
    return status;
}

static void print_releases(const cJSON *list)
{
    static const char *const headers[] = {"VERSION", "SIZE",    "LOAD",  "SECURITY",
                                          "PLAIN",   "CREATED", "NOTES", NULL};
    const cJSON *release;
    text_table rows;
    table_init(&rows, headers);
    cJSON_ArrayForEach(release, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        char size[32], load[16], security[16];
        const char *cells[7];
        host_format_size((uint64_t)api_number(release, "plain_size"), size, sizeof(size));
        snprintf(load, sizeof(load), "0x%llx",
                 (unsigned long long)api_number(release, "load_address"));
        snprintf(security, sizeof(security), "%.0f", api_number(release, "security_version"));
        cells[0] = api_text(release, "version");
        cells[1] = size;
        cells[2] = load;
        cells[3] = security;
        cells[4] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(release, "plain_download")) ? "yes"
                                                                                             : "no";
        cells[5] = api_text(release, "created_at");
        cells[6] = api_text(release, "notes");
        table_add(&rows, cells);
    }
    table_print(&rows, stdout);
    api_print_shown(rows.rows - 1, list, "releases");
    table_free(&rows);
}

static int run_list(int argc, char **argv)
{
    host_arguments arguments;
    char *path;
    int status;
    if (!host_parse_arguments(&list_command, argc, argv, &arguments, &status))
        return status;
    if ((status = api_list_path(&list_command, &arguments, "/api/releases", &path)) != HOST_EXIT_OK)
        return status;
    status = api_get_and_print(&arguments, path, print_releases);
    free(path);
    return status;
}

/* /api/releases/<VERSION><suffix>, the version escaped; NULL when out of memory. */
static char *release_path(const char *version_text, const char *suffix)
{
    char *version = api_escape(version_text);
    char *path = version ? malloc(strlen(version) + strlen(suffix) + 16) : NULL;
    if (path)
        sprintf(path, "/api/releases/%s%s", version, suffix);
    free(version);
    return path;
}

static int run_retire(int argc, char **argv)
{
    host_arguments arguments;
    api_client client;
    api_answer answer;
    int status;
    if (!host_parse_arguments(&retire_command, argc, argv, &arguments, &status))
        return status;
    char *path = release_path(arguments.positional[0], "/retire");
    if (!path)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    if ((status = api_client_open(&client, host_option_value(&arguments, "server"))) !=
        HOST_EXIT_OK) {
        free(path);
        return status;
    }
    status = api_client_request(&client, "POST", path, NULL, 0, NULL, &answer);
    if (status == HOST_EXIT_OK) {
        if (host_option_given(&arguments, "json"))
            api_answer_print(&answer);
        else
            print_release(answer.json);
        api_answer_free(&answer);
    }
    free(path);
    api_client_close(&client);
    return status;
}

static int run_show(int argc, char **argv)
{
    host_arguments arguments;
    char *path;
    int status;
    if (!host_parse_arguments(&show_command, argc, argv, &arguments, &status))
        return status;
    path = release_path(arguments.positional[0], "");
    if (!path)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    status = api_get_and_print(&arguments, path, print_release);
    free(path);
    return status;
}

static const command_entry subcommands[] = {
    {"upload", "upload a firmware image as a new release (packed and signed by the server)",
     run_upload},
    {"list", "list the server's releases", run_list},
    {"show", "show one release", run_show},
    {"retire", "destroy a release's keys: it can no longer be offered", run_retire},
};

int command_release(int argc, char **argv)
{
    return command_dispatch("release", "Releases on cellota-server.", subcommands,
                            sizeof(subcommands) / sizeof(subcommands[0]), NULL, argc, argv);
}
