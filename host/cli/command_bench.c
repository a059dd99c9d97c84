/*
 * `cellota bench`: times the device pipeline in this process (no process start-up or file
 * reads in the figure), beside the same work done with mbedTLS calls directly (SHA-256 of the
 * ciphertext, AES-128-CBC decrypt, SHA-256 of the plaintext). bench/pipeline.sh reads its
 * key=value lines.
 */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"
#include "core/error.h"
#include "operator/request.h"
#include "simulated_device.h"

#include <mbedtls/aes.h>
#include <mbedtls/sha256.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 1000

static const host_option options[] = {
    {"request", "ota.json", "the update request", true},
    {"image", "image.ebin", "the encrypted image", true},
    {"runs", "N", "timed runs of each (default 21); the median is reported", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "bench",
    .synopsis = "--request ota.json --image image.ebin [--runs N]",
    .summary = "Times the device pipeline (as cellota verify runs it, into simulated flash, in\n"
               "4 KiB pieces) and the same hashing and decryption done with mbedTLS directly.\n"
               "Prints key=value lines: seconds are medians, MB is 10^6 bytes.",
    .options = options,
};

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, size_t count)
{
    qsort(values, count, sizeof(values[0]), compare_doubles);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* The pipeline's work, straight through mbedTLS: the reference the pipeline is measured by. */
static int direct(const cellota_fw_info *info, const uint8_t *image, size_t size, uint8_t *plain)
{
    mbedtls_aes_context aes;
    uint8_t hash[32], chain[16];
    int status;

    mbedtls_aes_init(&aes);
    memcpy(chain, info->iv, 16);
    status = mbedtls_sha256_ret(image, size, hash, 0);
    if (status == 0)
        status = mbedtls_aes_setkey_dec(&aes, info->key, 128);
    if (status == 0)
        status = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, size, chain, image, plain);
    if (status == 0)
        status = mbedtls_sha256_ret(plain, info->plain_size, hash, 0);
    mbedtls_aes_free(&aes);
    return status == 0 && memcmp(hash, info->plain_sha256, 32) == 0 ? 0 : -1;
}

int command_bench(int argc, char **argv)
{
    host_arguments arguments;
    cellota_update_request request;
    simulated_device device;
    uint8_t *image = NULL, *plain = NULL;
    size_t image_size, run;
    uint64_t runs = 21;
    double *pipeline_times = NULL, *direct_times = NULL, pipeline_median, direct_median;
    const char *runs_text;
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    runs_text = host_option_value(&arguments, "runs");
    if (runs_text && (!host_parse_unsigned(runs_text, MAX_RUNS, &runs) || runs == 0))
        return host_usage_error(&command, "--runs '%s' is not a count from 1 to %d", runs_text,
                                MAX_RUNS);
    status = operator_request_read(host_option_value(&arguments, "request"), &request);
    if (status != HOST_EXIT_OK)
        return status;
    status = host_read_file(host_option_value(&arguments, "image"), SIMULATED_SLOT_MAX, &image,
                            &image_size);
    if (status != HOST_EXIT_OK)
        return status;
    status = simulated_device_open(&device, request.fw_info.plain_size);
    if (status != HOST_EXIT_OK) {
        free(image);
        return status;
    }
    plain = malloc(image_size ? image_size : 1);
    pipeline_times = calloc(runs, sizeof(double));
    direct_times = calloc(runs, sizeof(double));
    if (!plain || !pipeline_times || !direct_times) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    for (run = 0; run < runs; run++) {
        double start = seconds_now();
        int result = simulated_device_install(&device, &request.fw_info, image, image_size, 4096);
        pipeline_times[run] = seconds_now() - start;
        if (result != CELLOTA_OK) {
            status = host_cellota_error("the pipeline failed", result);
            goto done;
        }
        start = seconds_now();
        if (direct(&request.fw_info, image, image_size, plain) != 0) {
            status = host_error(HOST_EXIT_FAILED, "the direct mbedTLS run failed");
            goto done;
        }
        direct_times[run] = seconds_now() - start;
    }
    pipeline_median = median(pipeline_times, runs);
    direct_median = median(direct_times, runs);
    printf("bytes=%zu\nruns=%llu\n", image_size, (unsigned long long)runs);
    printf("pipeline_seconds=%.9f\npipeline_mb_per_second=%.1f\n", pipeline_median,
           (double)image_size / pipeline_median / 1e6);
    printf("direct_seconds=%.9f\ndirect_mb_per_second=%.1f\n", direct_median,
           (double)image_size / direct_median / 1e6);
done:
    simulated_device_close(&device);
    free(direct_times);
    free(pipeline_times);
    free(plain);
    free(image);
    return status;
}
