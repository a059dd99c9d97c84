/*
 * `cellota wrap`: a release's update request made for one device -- its image key wrapped to
 * the device's own key (ECDH P-256, HKDF-SHA-256, AES key wrap), fw_info's key zeroed, the
 * device id added, and signed (operator/device_request.h). What the server publishes per
 * device; here for scripts, tests and a look at the format.
 */
#include "commands.h"
#include "common/cli.h"
#include "common/file.h"
#include "operator/device_request.h"
#include "operator/keys.h"

#include <stdlib.h>
#include <string.h>

static const host_option options[] = {
    {"device", "ID", "the device the request is for", true},
    {"cert", "ID.crt", "the device's certificate (cellota certs device): its public key", true},
    {"sign", "KEY.pem", "sign the request (devices refuse unsigned requests by default)", false},
    {"out", "FILE", "where the request goes ('-': standard output)", true},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "wrap",
    .synopsis = "ota.json --device ID --cert ID.crt [--sign KEY.pem] --out FILE",
    .summary = "Makes a release's update request for one device: the image key wrapped to the\n"
               "device's key, so only that device can decrypt the image.",
    .options = options,
    .positional = "ota.json",
    .positional_min = 1,
    .positional_max = 1,
    .details = "The result carries \"device\" and \"wrapped_key\" (docs/image-format.md); its\n"
               "fw_info's key is zero. Any other device refuses it.\n",
};

int command_wrap(int argc, char **argv)
{
    host_arguments arguments;
    host_random random;
    mbedtls_pk_context key;
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE], *release = NULL;
    const char *sign;
    char *json = NULL;
    size_t length;
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    sign = host_option_value(&arguments, "sign");
    mbedtls_pk_init(&key);
    status = host_read_file(arguments.positional[0], 64 * 1024, &release, &length);
    if (status == HOST_EXIT_OK)
        status = operator_device_public_key(host_option_value(&arguments, "cert"), point);
    if (status == HOST_EXIT_OK && sign)
        status = operator_key_load_private(&key, sign);
    if (status == HOST_EXIT_OK)
        status = host_random_open(&random, "cellota wrap");
    if (status == HOST_EXIT_OK) {
        status = operator_request_for_device((const char *)release, length,
                                             host_option_value(&arguments, "device"), point,
                                             sign ? &key : NULL, &random, &json);
        host_random_close(&random);
    }
    if (status == HOST_EXIT_OK)
        status = host_write_file(host_option_value(&arguments, "out"), json, strlen(json), 0);
    free(json);
    if (release) {
        memset(release, 0, length); /* it holds the image key */
        free(release);
    }
    mbedtls_pk_free(&key);
    return status;
}
