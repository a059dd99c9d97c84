/*
 * `cellota certs`: the project's certificates and the broker configuration that enforces them
 * (pki/certificates.h, pki/broker.h).
 *   cellota certs init --dir DIR [--hosts H,...]   CA and the server's certificate
 *   cellota certs device ID --dir DIR              a device's key and certificate
 *   cellota certs mosquitto --dir DIR --port P     mosquitto.conf and its ACL
 *   cellota certs revoke ID --dir DIR              ID's certificate into the CRL (crl.pem)
 */
#include "commands.h"
#include "common/cli.h"
#include "common/number.h"
#include "pki/broker.h"
#include "pki/certificates.h"
#include "pki/revocation.h"

#include <stdio.h>
#include <string.h>

#define SERVER_DAYS 825
#define DEVICE_DAYS 7300 /* a device's life in the field; revocation is the broker's CRL */

static const host_option options[] = {
    {"dir", "DIR", "the project's certificate folder", true},
    {"hosts", "H,...",
     "init: the server's host names and IPv4 addresses (default "
     "localhost,127.0.0.1)",
     false},
    {"port", "P", "mosquitto: the TLS listener's port", false},
    {"bind", "ADDR", "mosquitto: listen on this address only (default: all)", false},
    {NULL, NULL, NULL, false},
};

static const host_command command = {
    .name = "certs",
    .synopsis = "init|device ID|revoke ID|mosquitto --dir DIR [--hosts H,...] [--port P] "
                "[--bind ADDR]",
    .summary = "Makes the project's certificates: a CA and the server's certificate (init), one\n"
               "certificate per device with the device id as its common name (device ID), and\n"
               "a mosquitto configuration with a TLS listener that requires them and an ACL\n"
               "under which each device reads only its own update topic and writes only its\n"
               "own status and online topics (mosquitto). revoke ID puts a device's certificate\n"
               "into the CRL the broker checks (restart or SIGHUP mosquitto afterwards).",
    .options = options,
    .positional = "ACTION [ID]",
    .positional_min = 1,
    .positional_max = 2,
    .details = "Files in DIR: ca.crt ca.key (the CA; keep ca.key offline), server.crt server.key,\n"
               "ID.crt ID.key per device, mosquitto.conf and acl, crl.pem and revoked (the\n"
               "revoked serials). Keys are P-256, mode 0600.\n"
               "Nothing is ever overwritten. Device ids: letters, digits, '-', '_', '.', at most\n"
               "64, not 'cellota-server'.\n",
};

static int run_init(const host_arguments *arguments, const char *folder, host_random *random)
{
    const char *hosts = host_option_value(arguments, "hosts");
    pki_subject server = {PKI_SERVER_NAME, hosts ? hosts : "localhost,127.0.0.1", true,
                          SERVER_DAYS};
    pki_authority authority;
    int status = pki_authority_create(folder, random);
    if (status != HOST_EXIT_OK)
        return status;
    status = pki_authority_load(&authority, folder);
    if (status != HOST_EXIT_OK)
        return status;
    status = pki_issue_files(&authority, random, &server, folder, "server");
    if (status == HOST_EXIT_OK)
        status = pki_write_crl(&authority, random, folder); /* empty: mosquitto needs the file */
    pki_authority_free(&authority);
    if (status == HOST_EXIT_OK)
        printf("CA:     %s/ca.crt (keep %s/ca.key offline)\n"
               "server: %s/server.crt for %s\n",
               folder, folder, folder, server.hosts);
    return status;
}

static int run_device(const char *folder, const char *id, host_random *random)
{
    pki_subject device = {id, NULL, false, DEVICE_DAYS};
    pki_authority authority;
    int status;
    if (!pki_device_id_valid(id))
        return host_usage_error(&command,
                                "'%s' cannot be a device id (letters, digits, '-', '_', '.', "
                                "at most %d, not '%s')",
                                id, PKI_DEVICE_ID_MAX, PKI_SERVER_NAME);
    status = pki_authority_load(&authority, folder);
    if (status != HOST_EXIT_OK)
        return status;
    status = pki_issue_files(&authority, random, &device, folder, id);
    pki_authority_free(&authority);
    if (status == HOST_EXIT_OK)
        printf("device %s: %s/%s.crt %s/%s.key\n", id, folder, id, folder, id);
    return status;
}

static int run_revoke(const char *folder, const char *id, host_random *random)
{
    pki_authority authority;
    int status;
    if (!pki_device_id_valid(id))
        return host_usage_error(&command, "'%s' cannot be a device id", id);
    status = pki_authority_load(&authority, folder);
    if (status != HOST_EXIT_OK)
        return status;
    status = pki_revoke(&authority, random, folder, id);
    pki_authority_free(&authority);
    if (status == HOST_EXIT_OK)
        printf("revoked %s: %s/crl.pem (restart or SIGHUP the broker)\n", id, folder);
    return status;
}

int command_certs(int argc, char **argv)
{
    host_arguments arguments;
    host_random random;
    const char *action, *folder;
    int status;

    if (!host_parse_arguments(&command, argc, argv, &arguments, &status))
        return status;
    action = arguments.positional[0];
    folder = host_option_value(&arguments, "dir");
    if (strcmp(action, "mosquitto") == 0) {
        const char *port_text = host_option_value(&arguments, "port");
        uint64_t port;
        if (arguments.positional_count != 1)
            return host_usage_error(&command, "mosquitto takes no ID");
        if (!port_text)
            return host_usage_error(&command, "mosquitto needs --port");
        if (!host_parse_unsigned(port_text, 65535, &port) || port == 0)
            return host_usage_error(&command, "--port must be 1..65535");
        status = pki_write_mosquitto(folder, (long)port, host_option_value(&arguments, "bind"));
        if (status == HOST_EXIT_OK)
            printf("broker: mosquitto -c %s/mosquitto.conf\n", folder);
        return status;
    }
    if (strcmp(action, "init") != 0 && strcmp(action, "device") != 0 &&
        strcmp(action, "revoke") != 0)
        return host_usage_error(&command, "unknown action '%s' (init, device, revoke, mosquitto)",
                                action);
    if (strcmp(action, "init") != 0 && arguments.positional_count != 2)
        return host_usage_error(&command, "%s needs an ID", action);
    if (strcmp(action, "init") == 0 && arguments.positional_count != 1)
        return host_usage_error(&command, "init takes no ID");
    status = host_random_open(&random, "cellota certs");
    if (status != HOST_EXIT_OK)
        return status;
    if (strcmp(action, "init") == 0)
        status = run_init(&arguments, folder, &random);
    else if (strcmp(action, "device") == 0)
        status = run_device(folder, arguments.positional[1], &random);
    else
        status = run_revoke(folder, arguments.positional[1], &random);
    host_random_close(&random);
    return status;
}
