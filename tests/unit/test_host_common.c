/* The shared host library: option parsing, numbers and sizes, hex, and whole-file I/O. */
#include "test.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/number.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const host_option options[] = {
    {"out", "DIR", "output", true},
    {"json", NULL, "json", false},
    {"count", "N", "count", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "try",
    .synopsis = "FILE --out DIR",
    .summary = "A test command.",
    .options = options,
    .positional = "FILE",
    .positional_min = 1,
    .positional_max = 1,
};

/* The exit code a command would return, or -1 when it would go on. */
static int parse(host_arguments *arguments, int argc, const char **argv)
{
    int status = -2;
    if (host_parse_arguments(&command, argc, (char **)argv, arguments, &status))
        return -1;
    return status;
}

static void test_options(void)
{
    host_arguments arguments;
    const char *both[] = {"try", "firmware.bin", "--out", "dir", "--json"};
    const char *equals[] = {"try", "--out=d=2", "--", "--json"};
    CHECK_EQ_INT(parse(&arguments, 5, both), -1);
    CHECK_EQ_STR(host_option_value(&arguments, "out"), "dir");
    CHECK(host_option_given(&arguments, "json"));
    CHECK(!host_option_given(&arguments, "count"));
    CHECK_EQ_INT(arguments.positional_count, 1);
    CHECK_EQ_STR(arguments.positional[0], "firmware.bin");
    /* "--" ends the options: a file may be called --json. */
    CHECK_EQ_INT(parse(&arguments, 4, equals), -1);
    CHECK_EQ_STR(host_option_value(&arguments, "out"), "d=2");
    CHECK_EQ_STR(arguments.positional[0], "--json");
    CHECK(!host_option_given(&arguments, "json"));
}

static void test_usage_errors(void)
{
    host_arguments arguments;
    const char *unknown[] = {"try", "f", "--out", "d", "--nope"};
    const char *twice[] = {"try", "f", "--out", "d", "--out", "e"};
    const char *no_value[] = {"try", "f", "--out", "--json"};
    const char *missing_required[] = {"try", "f"};
    const char *missing_positional[] = {"try", "--out", "d"};
    const char *extra_positional[] = {"try", "f", "g", "--out", "d"};
    const char *flag_value[] = {"try", "f", "--out", "d", "--json=1"};
    const char *short_option[] = {"try", "f", "--out", "d", "-x"};
    const char *help[] = {"try", "--nope", "-h"};
    CHECK_EQ_INT(parse(&arguments, 5, unknown), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 6, twice), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 4, no_value), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 2, missing_required), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 3, missing_positional), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 5, extra_positional), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 5, flag_value), HOST_EXIT_USAGE);
    CHECK_EQ_INT(parse(&arguments, 5, short_option), HOST_EXIT_USAGE);
    /* Help wins over everything else on the line, and the command then ends well. */
    CHECK_EQ_INT(parse(&arguments, 3, help), HOST_EXIT_OK);
}

static void test_numbers(void)
{
    uint64_t value = 0;
    double decimal = 0;
    CHECK(host_parse_unsigned("4096", UINT32_MAX, &value) && value == 4096);
    CHECK(host_parse_unsigned("0x1000", UINT32_MAX, &value) && value == 0x1000);
    CHECK(host_parse_unsigned("4294967295", UINT32_MAX, &value) && value == UINT32_MAX);
    CHECK(!host_parse_unsigned("4294967296", UINT32_MAX, &value));
    CHECK(!host_parse_unsigned("-1", UINT64_MAX, &value));
    CHECK(!host_parse_unsigned(" 1", UINT64_MAX, &value));
    CHECK(!host_parse_unsigned("1 ", UINT64_MAX, &value));
    CHECK(!host_parse_unsigned("", UINT64_MAX, &value));
    CHECK(!host_parse_unsigned("0x", UINT64_MAX, &value));
    CHECK(!host_parse_unsigned("99999999999999999999999", UINT64_MAX, &value));
    CHECK(host_parse_decimal("7", &decimal) && decimal == 7);
    CHECK(host_parse_decimal("0.5", &decimal) && decimal == 0.5);
    CHECK(!host_parse_decimal("-1", &decimal));
    CHECK(!host_parse_decimal("nan", &decimal));
    CHECK(!host_parse_decimal("1e999", &decimal));
    CHECK(!host_parse_decimal("7days", &decimal));
}

static void test_sizes(void)
{
    uint64_t value = 0;
    char text[32];
    CHECK(host_parse_size("512KiB", UINT64_MAX, &value) && value == 512 * 1024);
    CHECK(host_parse_size("512KB", UINT64_MAX, &value) && value == 512 * 1024);
    CHECK(host_parse_size("512k", UINT64_MAX, &value) && value == 512 * 1024);
    CHECK(host_parse_size("1MiB", UINT64_MAX, &value) && value == 1024 * 1024);
    CHECK(host_parse_size("2GB", UINT64_MAX, &value) && value == 2ull << 30);
    CHECK(host_parse_size("379", UINT64_MAX, &value) && value == 379);
    CHECK(host_parse_size("379B", UINT64_MAX, &value) && value == 379);
    CHECK(host_parse_size("0x10", UINT64_MAX, &value) && value == 16);
    CHECK(host_parse_size("0x1B", UINT64_MAX, &value) && value == 0x1B); /* hex, not bytes */
    CHECK(!host_parse_size("0x10KiB", UINT64_MAX, &value));
    CHECK(!host_parse_size("512 KiB", UINT64_MAX, &value));
    CHECK(!host_parse_size("512KiBs", UINT64_MAX, &value));
    CHECK(!host_parse_size("KiB", UINT64_MAX, &value));
    CHECK(!host_parse_size("5GiB", 4ull << 30, &value));
    CHECK(!host_parse_size("99999999999GiB", UINT64_MAX, &value));
    host_format_size(512 * 1024, text, sizeof(text));
    CHECK_EQ_STR(text, "512 KiB");
    host_format_size(379, text, sizeof(text));
    CHECK_EQ_STR(text, "379 B");
    host_format_size(1536, text, sizeof(text));
    CHECK_EQ_STR(text, "1.50 KiB");
}

static void test_hex(void)
{
    const uint8_t bytes[] = {0x00, 0x1f, 0xa0, 0xff};
    uint8_t back[4];
    char text[9];
    host_hex_encode(bytes, 4, text);
    CHECK_EQ_STR(text, "001fa0ff");
    CHECK(host_hex_decode("001FA0ff", 8, back, sizeof(back)));
    CHECK_EQ_MEM(back, bytes, 4);
    CHECK(!host_hex_decode("001fa0f", 7, back, sizeof(back)));
    CHECK(!host_hex_decode("001fa0fg", 8, back, sizeof(back)));
    CHECK(!host_hex_decode("001fa0ff00", 10, back, sizeof(back)));
    CHECK(host_is_hex("", 0));
    CHECK(!host_is_hex("12 4", 4));
}

static void test_files(void)
{
    char folder[] = "/tmp/cellota-host-test.XXXXXX";
    char *path, *missing;
    uint8_t *data;
    size_t length;
    struct stat status;

    CHECK(mkdtemp(folder) != NULL);
    path = host_path_join(folder, "a.bin");
    missing = host_path_join(folder, "missing/a.bin");
    CHECK_EQ_INT(host_write_file(path, "hello", 5, HOST_WRITE_PRIVATE), HOST_EXIT_OK);
    CHECK(stat(path, &status) == 0 && (status.st_mode & 0777) == 0600);
    CHECK_EQ_INT(host_read_file(path, 0, &data, &length), HOST_EXIT_OK);
    CHECK_EQ_INT(length, 5);
    CHECK_EQ_STR((char *)data, "hello"); /* NUL-terminated */
    free(data);
    CHECK_EQ_INT(host_read_file(path, 4, &data, &length), HOST_EXIT_IO);
    CHECK(data == NULL);
    CHECK_EQ_INT(host_write_file(path, "x", 1, HOST_WRITE_NO_REPLACE), HOST_EXIT_IO);
    CHECK_EQ_INT(host_write_file(path, "", 0, 0), HOST_EXIT_OK); /* replaces */
    CHECK_EQ_INT(host_read_file(path, 0, &data, &length), HOST_EXIT_OK);
    CHECK_EQ_INT(length, 0);
    free(data);
    CHECK_EQ_INT(host_read_file(missing, 0, &data, &length), HOST_EXIT_IO);
    CHECK_EQ_INT(host_write_file(missing, "x", 1, 0), HOST_EXIT_IO);
    CHECK_EQ_INT(host_read_file(folder, 0, &data, &length), HOST_EXIT_IO);
    CHECK_EQ_INT(host_make_folder(folder), HOST_EXIT_OK);
    CHECK_EQ_INT(host_make_folder(path), HOST_EXIT_IO);
    unlink(path);
    rmdir(folder);
    free(path);
    free(missing);
}

int main(void)
{
    RUN(test_options);
    RUN(test_usage_errors);
    RUN(test_numbers);
    RUN(test_sizes);
    RUN(test_hex);
    RUN(test_files);
    return test_summary();
}
