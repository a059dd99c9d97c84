/* `cellota pack`: encrypt a firmware image and write the update request that describes it. */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/number.h"
#include "operator/keys.h"
#include "operator/package.h"
#include "operator/request.h"

#include <mbedtls/platform_util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRMWARE_FILE_MAX (256u * 1024 * 1024)

static const host_option options[] = {
    {"version", "V", "the release's semantic version (MAJOR.MINOR.PATCH[-PRE][+BUILD])", true},
    {"out", "DIR", "folder for image.ebin and ota.json (created if missing)", true},
    {"sign", "KEY.pem", "sign the request with this private key (cellota keygen)", false},
    {"url", "URL", "where devices download image.ebin", false},
    {"alt-url", "URL", "tried when url is empty or fails (seed 002's alt_url)", false},
    {"load-addr", "ADDR", "the application's load address (default 0: the slot's own)", false},
    {"security-version", "N", "fw_info's version (default: from --version, see below)", false},
    {"id", "ID", "campaign id carried in the request", false},
    {"base", "OLD", "make a delta image against OLD (not supported yet)", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "pack",
    .synopsis = "FIRMWARE --version V --out DIR [--sign KEY.pem] [--url URL] [--alt-url URL]\n"
                "                    [--load-addr ADDR] [--security-version N] [--id ID]",
    .summary = "Encrypts FIRMWARE (AES-128-CBC, PKCS#7, a fresh random key and IV) into\n"
               "DIR/image.ebin and writes DIR/ota.json, the update request devices act on.",
    .options = options,
    .positional = "FIRMWARE",
    .positional_min = 1,
    .positional_max = 1,
    .details =
        "At least one of --url and --alt-url is needed: a device must know where to download.\n"
        "\n"
        "fw_info's version is the security version a device's anti-rollback check compares.\n"
        "By default it is MAJOR*1000000 + MINOR*1000 + PATCH of --version (minor and patch\n"
        "below 1000); --security-version N sets it directly.\n"
        "\n"
        "ota.json holds the image key: it is written with mode 0600 and must travel only over\n"
        "an authenticated, encrypted channel (the MQTT connection to the devices).\n",
};

static int pack(const host_arguments *arguments, mbedtls_pk_context *key, host_random *random)
{
    const char *firmware_path = arguments->positional[0];
    const char *folder = host_option_value(arguments, "out");
    const char *text;
    operator_request_fields fields;
    cellota_update_request request;
    uint8_t *firmware = NULL, *encrypted = NULL;
    size_t firmware_size;
    char *json = NULL, *image_path = NULL, *request_path = NULL;
    char hash_hex[65];
    uint64_t number;
    int status;

    memset(&fields, 0, sizeof(fields));
    fields.url = host_option_value(arguments, "url");
    fields.alt_url = host_option_value(arguments, "alt-url");
    fields.version = host_option_value(arguments, "version");
    fields.id = host_option_value(arguments, "id");
    if ((!fields.url || !fields.url[0]) && (!fields.alt_url || !fields.alt_url[0]))
        return host_usage_error(&command, "give --url or --alt-url: where devices download "
                                          "image.ebin");
    status = operator_security_version(fields.version, &fields.fw_info.version);
    if (status != HOST_EXIT_OK)
        return status;
    text = host_option_value(arguments, "security-version");
    if (text) {
        if (!host_parse_unsigned(text, UINT32_MAX, &number))
            return host_usage_error(&command,
                                    "--security-version '%s' is not a number from 0 "
                                    "to 4294967295",
                                    text);
        fields.fw_info.version = (uint32_t)number;
    }
    fields.fw_info.load_address = OPERATOR_LOAD_ADDRESS_DEFAULT;
    text = host_option_value(arguments, "load-addr");
    if (text) {
        if (!host_parse_unsigned(text, UINT32_MAX, &number))
            return host_usage_error(&command, "--load-addr '%s' is not a 32-bit address", text);
        fields.fw_info.load_address = (uint32_t)number;
    }
    image_path = host_path_join(folder, "image.ebin");
    request_path = host_path_join(folder, "ota.json");
    if (!image_path || !request_path) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }

    status = host_read_file(firmware_path, FIRMWARE_FILE_MAX, &firmware, &firmware_size);
    if (status == HOST_EXIT_OK)
        status = operator_package(random, firmware, firmware_size, &fields.fw_info, &encrypted);
    if (status == HOST_EXIT_OK)
        status = operator_request_write(&fields, key, random, &request, &json);
    if (status == HOST_EXIT_OK)
        status = host_make_folder(folder);
    /* The image first: a request never points at an image that is not there yet. */
    if (status == HOST_EXIT_OK)
        status = host_write_file(image_path, encrypted, fields.fw_info.encrypted_size, 0);
    if (status == HOST_EXIT_OK)
        status = host_write_file(request_path, json, strlen(json), HOST_WRITE_PRIVATE);
    if (status == HOST_EXIT_OK) {
        host_hex_encode(fields.fw_info.encrypted_sha256, 32, hash_hex);
        printf("packed %s (%zu bytes), version %s, security version %u\n", firmware_path,
               firmware_size, fields.version, (unsigned)fields.fw_info.version);
        printf("  %s  %u bytes, sha256 %s\n", image_path, (unsigned)fields.fw_info.encrypted_size,
               hash_hex);
        printf("  %s  %s\n", request_path,
               key ? "signed" : "unsigned (devices that require a signature will refuse it)");
    }

done:
    mbedtls_platform_zeroize(&fields.fw_info, sizeof(fields.fw_info));
    mbedtls_platform_zeroize(&request, sizeof(request));
    if (json) {
        mbedtls_platform_zeroize(json, strlen(json));
        free(json);
    }
    free(firmware);
    free(encrypted);
    free(image_path);
    free(request_path);
    return status;
}

int command_pack(int argc, char **argv)
{
    host_arguments arguments;
    mbedtls_pk_context key;
    host_random random;
    const char *key_path;
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    if (host_option_given(&arguments, "base"))
        return host_usage_error(&command, "delta images (--base) are not supported yet");

    key_path = host_option_value(&arguments, "sign");
    mbedtls_pk_init(&key);
    status = key_path ? operator_key_load_private(&key, key_path) : HOST_EXIT_OK;
    if (status == HOST_EXIT_OK)
        status = host_random_open(&random, "cellota pack");
    if (status == HOST_EXIT_OK) {
        status = pack(&arguments, key_path ? &key : NULL, &random);
        host_random_close(&random);
    }
    mbedtls_pk_free(&key);
    return status;
}
