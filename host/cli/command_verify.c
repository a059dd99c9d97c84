/*
 * `cellota verify`: checks a request and its image exactly as a device does -- the device
 * library's request parser, signature check and streaming pipeline, writing into simulated
 * flash -- and hands back the plain image the device would boot.
 */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/number.h"
#include "core/error.h"
#include "image/delta.h"
#include "image/request.h"
#include "image/semver.h"
#include "image/signature.h"
#include "operator/keys.h"
#include "operator/request.h"
#include "simulated_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_FILE_MAX (SIMULATED_SLOT_MAX + 1024u)
#define DEFAULT_CHUNK 4096

static const host_option options[] = {
    {"request", "ota.json", "the update request", true},
    {"image", "image.ebin", "the encrypted image", true},
    {"pub", "KEY.pub.pem", "require a valid signature by this key", false},
    {"out", "PLAIN", "write the decrypted image here ('-': standard output)", false},
    {"current", "VERSION", "refuse, as a device running VERSION would, an older release", false},
    {"slot-size", "SIZE", "the device's application slot (default: the image's size)", false},
    {"chunk", "BYTES", "feed the image in pieces of this size (default 4096)", false},
    {"base", "OLD", "a patch's base: the image the simulated device runs", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "verify",
    .synopsis = "--request ota.json --image image.ebin [--pub KEY.pub.pem] [--out PLAIN]",
    .summary = "Checks an update request and its image with the device library's own code:\n"
               "the request parser, the signature check (with --pub), and the streaming\n"
               "pipeline that hashes, decrypts and writes the image into simulated flash.\n"
               "Exit 0 and the plain image, or 1 and the device's error sentence.",
    .options = options,
    .details = "Sizes take B, KiB, MiB (KB and MB mean the same binary units).\n",
};

static int check_request(const host_arguments *arguments, cellota_update_request *request,
                         const char **signature_note)
{
    const char *request_path = host_option_value(arguments, "request");
    const char *public_path = host_option_value(arguments, "pub");
    const char *current = host_option_value(arguments, "current");
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
    int status = operator_request_read(request_path, request);

    if (status != HOST_EXIT_OK)
        return status;

    *signature_note = request->has_signature ? "present, not checked (no --pub)" : "absent";
    if (public_path) {
        status = operator_key_load_public(public_path, point);
        if (status != HOST_EXIT_OK)
            return status;
        status = cellota_request_verify(request, point);
        if (status != CELLOTA_OK)
            return host_cellota_error(request_path, status);
        *signature_note = "valid";
    }

    if (current) {
        cellota_semver running, offered;
        status = cellota_semver_parse(&running, current, strlen(current));
        if (status != CELLOTA_OK)
            return host_usage_error(&command, "--current '%s': %s", current,
                                    cellota_strerror(status));
        status = cellota_semver_parse(&offered, request->version, strlen(request->version));
        if (status != CELLOTA_OK)
            return host_cellota_error(request_path, status);
        if (cellota_semver_compare(&offered, &running) < 0)
            return host_cellota_error(request_path, CELLOTA_IMAGE_DOWNGRADE);
    }
    return HOST_EXIT_OK;
}

static int parse_sizes(const host_arguments *arguments, const cellota_fw_info *info,
                       uint64_t *slot_size, uint64_t *chunk)
{
    const char *text = host_option_value(arguments, "slot-size");
    *slot_size = info->plain_size;
    if (text && !host_parse_size(text, UINT32_MAX, slot_size))
        return host_usage_error(&command, "--slot-size '%s' is not a size", text);
    *chunk = DEFAULT_CHUNK;
    text = host_option_value(arguments, "chunk");
    if (text && (!host_parse_size(text, SIMULATED_SLOT_MAX, chunk) || *chunk == 0))
        return host_usage_error(&command, "--chunk '%s' is not a size above 0", text);
    return HOST_EXIT_OK;
}

int command_verify(int argc, char **argv)
{
    host_arguments arguments;
    cellota_update_request request;
    simulated_device device;
    const char *image_path, *out_path, *signature_note = "";
    uint8_t *image = NULL, *plain = NULL, *base = NULL;
    size_t image_size, base_size = 0;
    const char *base_path;
    uint64_t slot_size, chunk;
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    image_path = host_option_value(&arguments, "image");
    out_path = host_option_value(&arguments, "out");

    status = check_request(&arguments, &request, &signature_note);
    if (status != HOST_EXIT_OK)
        return status;
    status = parse_sizes(&arguments, &request.fw_info, &slot_size, &chunk);
    if (status != HOST_EXIT_OK)
        return status;
    status = host_read_file(image_path, IMAGE_FILE_MAX, &image, &image_size);
    if (status != HOST_EXIT_OK)
        return status;
    base_path = host_option_value(&arguments, "base");
    if (request.encoding == CELLOTA_DELTA_PATCH && !base_path) {
        free(image);
        return host_usage_error(&command, "the request is a patch: give --base, the image it "
                                          "applies to");
    }
    if (base_path && (status = host_read_file(base_path, IMAGE_FILE_MAX, &base, &base_size)) !=
                         HOST_EXIT_OK) {
        free(image);
        return status;
    }
    status = simulated_device_open_running(&device, slot_size, base, base_size);
    if (status != HOST_EXIT_OK) {
        free(image);
        free(base);
        return status;
    }

    status = simulated_device_install_request(&device, &request, image, image_size, chunk);
    if (status != CELLOTA_OK) {
        status = host_cellota_error(image_path, status);
    } else if (out_path) {
        plain = malloc(request.fw_info.plain_size ? request.fw_info.plain_size : 1);
        if (!plain)
            status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        else if (flash_sim_read(&device.flash, device.slot.address, plain,
                                request.fw_info.plain_size) != CELLOTA_OK)
            status = host_error(HOST_EXIT_INTERNAL, "reading the simulated flash failed");
        else
            status = host_write_file(out_path, plain, request.fw_info.plain_size, 0);
    }
    if (status == HOST_EXIT_OK) {
        /* With the image on standard output, the report goes to standard error. */
        FILE *report = out_path && strcmp(out_path, "-") == 0 ? stderr : stdout;
        fprintf(report,
                "verified: %s (%zu bytes) decrypts to %u bytes; both SHA-256 match fw_info\n"
                "  version %s, security version %u, signature %s\n",
                image_path, image_size, (unsigned)request.fw_info.plain_size, request.version,
                (unsigned)request.fw_info.version, signature_note);
        if (out_path && strcmp(out_path, "-") != 0)
            fprintf(report, "  plain image written to %s\n", out_path);
    }
    simulated_device_close(&device);
    free(plain);
    free(image);
    free(base);
    return status;
}
