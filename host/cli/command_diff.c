/* `cellota diff` and `cellota patch`: make a patch (or a compressed image) and apply one, with
 * the same code the server packs releases with and the device's own decoder. */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "delta/delta.h"
#include "image/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FIRMWARE_FILE_MAX (256u * 1024 * 1024)

static const host_option diff_options[] = {
    {"out", "PATCH", "where to write the patch (or the compressed image)", true},
    {"compress", NULL, "compress the one FIRMWARE given instead of diffing two", false},
    {"unit", "LOG2", "segments start at multiples of 2^LOG2 output bytes, 9..16 (default 12)",
     false},
    {"segment-bytes", "N", "coded bytes a segment stays under (default 4096)", false},
    {"depth", "N", "match candidates tried per position (default 256; more: smaller, slower)",
     false},
    {NULL, NULL, NULL, false},
};

static const host_command diff_command = {
    .name = "diff",
    .synopsis = "OLD NEW --out PATCH | --compress FIRMWARE --out FILE",
    .summary = "Makes a patch that turns OLD into NEW (or, with --compress, a compressed image),\n"
               "in the CLZ1 format devices decode while they download (docs/image-format.md).",
    .options = diff_options,
    .positional = "OLD NEW",
    .positional_min = 1,
    .positional_max = 2,
    .details = "A patch names its base by size and SHA-256: it applies to that exact OLD only.\n"
               "Prints the sizes and the time taken. `cellota pack --base OLD` packs a patch\n"
               "as a release; this command is for looking at sizes and for tests.\n",
};

static const host_option patch_options[] = {
    {"out", "NEW", "where to write the new image", true},
    {NULL, NULL, NULL, false},
};

static const host_command patch_command = {
    .name = "patch",
    .synopsis = "OLD PATCH --out NEW | COMPRESSED --out NEW",
    .summary = "Applies a patch made by 'cellota diff' to OLD (or decompresses a compressed\n"
               "image) with the device's decoder, and checks the result's SHA-256.",
    .options = patch_options,
    .positional = "OLD PATCH",
    .positional_min = 1,
    .positional_max = 2,
    .details = "Exit status 1 with the device's error name when the patch is for another base\n"
               "(IMAGE_DELTA_WRONG_BASE), cut short (IMAGE_DELTA_TRUNCATED) or damaged\n"
               "(IMAGE_DELTA_CORRUPT, IMAGE_PLAIN_HASH_MISMATCH).\n",
};

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int command_diff(int argc, char **argv)
{
    host_arguments arguments;
    delta_options options = {0, 0, 0};
    uint8_t *base = NULL, *image = NULL, *stream = NULL;
    size_t base_size = 0, image_size = 0, stream_size = 0;
    bool compress;
    const char *text;
    struct timespec start;
    int status;

    if (!host_parse_arguments(&diff_command, argc, argv, &arguments, &status))
        return status;
    compress = host_option_given(&arguments, "compress");
    if (compress != (arguments.positional_count == 1))
        return host_usage_error(&diff_command, compress ? "--compress takes one FIRMWARE"
                                                        : "give OLD and NEW (or --compress)");
    if ((text = host_option_value(&arguments, "unit")) != NULL) {
        char *end;
        unsigned long value = strtoul(text, &end, 10);
        if (*end || value < CELLOTA_DELTA_UNIT_LOG2_MIN || value > CELLOTA_DELTA_UNIT_LOG2_MAX)
            return host_usage_error(&diff_command, "--unit '%s' is not a number from %u to %u",
                                    text, CELLOTA_DELTA_UNIT_LOG2_MIN, CELLOTA_DELTA_UNIT_LOG2_MAX);
        options.unit_log2 = (uint8_t)value;
    }
    if ((text = host_option_value(&arguments, "segment-bytes")) != NULL) {
        char *end;
        unsigned long value = strtoul(text, &end, 10);
        if (*end || value < 64 || value > 60000)
            return host_usage_error(&diff_command,
                                    "--segment-bytes '%s' is not a number from 64 to 60000", text);
        options.segment_bytes = value;
    }
    if ((text = host_option_value(&arguments, "depth")) != NULL) {
        char *end;
        unsigned long value = strtoul(text, &end, 10);
        if (*end || value < 1 || value > 1000000)
            return host_usage_error(&diff_command, "--depth '%s' is not a number from 1 to 1000000",
                                    text);
        options.search_depth = (unsigned)value;
    }
    status = host_read_file(arguments.positional[0], FIRMWARE_FILE_MAX, compress ? &image : &base,
                            compress ? &image_size : &base_size);
    if (status == HOST_EXIT_OK && !compress)
        status = host_read_file(arguments.positional[1], FIRMWARE_FILE_MAX, &image, &image_size);
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (status == HOST_EXIT_OK)
        status = delta_encode(compress ? NULL : base, base_size, image, image_size, &options,
                              &stream, &stream_size);
    if (status == HOST_EXIT_OK) {
        double seconds = seconds_since(&start);
        status = host_write_file(host_option_value(&arguments, "out"), stream, stream_size, 0);
        if (status == HOST_EXIT_OK)
            printf("%s: %zu bytes -> %zu bytes (%.2f%% of the new image) in %.2f s; a device "
                   "decodes it in %zu bytes of RAM\n",
                   compress ? "compressed" : "patch", image_size, stream_size,
                   image_size ? 100.0 * (double)stream_size / (double)image_size : 0.0, seconds,
                   (size_t)CELLOTA_PIPELINE_DECODE_RAM);
    }
    free(base);
    free(image);
    free(stream);
    return status;
}

int command_patch(int argc, char **argv)
{
    host_arguments arguments;
    uint8_t *base = NULL, *stream = NULL, *image = NULL;
    size_t base_size = 0, stream_size = 0, image_size = 0;
    bool compressed;
    struct timespec start;
    int status, result;

    if (!host_parse_arguments(&patch_command, argc, argv, &arguments, &status))
        return status;
    compressed = arguments.positional_count == 1;
    status = host_read_file(arguments.positional[compressed ? 0 : 1], FIRMWARE_FILE_MAX, &stream,
                            &stream_size);
    if (status == HOST_EXIT_OK && !compressed)
        status = host_read_file(arguments.positional[0], FIRMWARE_FILE_MAX, &base, &base_size);
    if (status != HOST_EXIT_OK)
        goto done;
    clock_gettime(CLOCK_MONOTONIC, &start);
    result = delta_decode(compressed ? NULL : base, base_size, stream, stream_size, &image,
                          &image_size);
    if (result < 0) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
    } else if (result != 0) {
        status = host_cellota_error(arguments.positional[compressed ? 0 : 1], result);
    } else {
        double seconds = seconds_since(&start);
        status = host_write_file(host_option_value(&arguments, "out"), image, image_size, 0);
        if (status == HOST_EXIT_OK)
            printf("applied: %zu bytes -> %zu bytes, SHA-256 checked, in %.3f s\n", stream_size,
                   image_size, seconds);
    }
done:
    free(base);
    free(stream);
    free(image);
    return status;
}
