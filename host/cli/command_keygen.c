/* `cellota keygen`: a fresh ECDSA P-256 key pair for signing update requests. */
#include "commands.h"
#include "common/cli.h"
#include "common/hex.h"
#include "operator/keys.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const host_option options[] = {
    {"out", "KEY.pem", "the private key's file; the public key goes to KEY.pub.pem", true},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "keygen",
    .synopsis = "--out KEY.pem",
    .summary = "Makes an ECDSA P-256 key pair for signing update requests (cellota pack --sign).",
    .options = options,
    .details = "The private key (PEM, mode 0600) stays on the operator's machine; devices hold\n"
               "the public key, printed as the 65-byte point their firmware embeds. Existing\n"
               "files are never overwritten.\n",
};

/* KEY.pem -> KEY.pub.pem; any other name gains ".pub.pem". */
static char *public_path_for(const char *private_path)
{
    size_t length = strlen(private_path);
    char *path = malloc(length + sizeof(".pub.pem"));
    if (!path)
        return NULL;
    if (length > 4 && strcmp(private_path + length - 4, ".pem") == 0)
        length -= 4;
    memcpy(path, private_path, length);
    strcpy(path + length, ".pub.pem");
    return path;
}

int command_keygen(int argc, char **argv)
{
    host_arguments arguments;
    mbedtls_pk_context key;
    host_random random;
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
    char point_hex[2 * CELLOTA_PUBLIC_KEY_SIZE + 1];
    const char *private_path;
    char *public_path;
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    private_path = host_option_value(&arguments, "out");
    if (strcmp(private_path, "-") == 0)
        return host_usage_error(&command, "--out must name a file");
    public_path = public_path_for(private_path);
    if (!public_path)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");

    /* Checked before anything is written, so a refused run leaves no half pair behind. */
    if (access(private_path, F_OK) == 0 || access(public_path, F_OK) == 0) {
        status = host_error(HOST_EXIT_IO, "'%s' exists already: not overwriting a key",
                            access(private_path, F_OK) == 0 ? private_path : public_path);
        free(public_path);
        return status;
    }
    status = host_random_open(&random, "cellota keygen");
    if (status != HOST_EXIT_OK) {
        free(public_path);
        return status;
    }
    mbedtls_pk_init(&key);
    status = operator_key_generate(&key, &random);
    if (status == HOST_EXIT_OK)
        status = operator_key_public_point(&key, point);
    if (status == HOST_EXIT_OK)
        status = operator_key_save(&key, private_path, public_path);
    if (status == HOST_EXIT_OK) {
        host_hex_encode(point, sizeof(point), point_hex);
        printf("private key: %s (keep it secret; cellota pack --sign)\n"
               "public key:  %s (cellota verify --pub)\n"
               "public point for device firmware (65 bytes, uncompressed):\n%s\n",
               private_path, public_path, point_hex);
    }
    mbedtls_pk_free(&key);
    host_random_close(&random);
    free(public_path);
    return status;
}
