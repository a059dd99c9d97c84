/* The mosquitto configuration that enforces the project's certificates; see broker.h. */
#define _GNU_SOURCE /* asprintf */
#include "pki/broker.h"

#include "common/cli.h"
#include "common/file.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Patterns apply to every client; %u is the identity the certificate gave (its common name).
 * mosquitto refuses to substitute a %u holding '+', '#' or '/', and `cellota certs device`
 * issues no such name (pki_device_id_valid). */
static const char acl[] =
    "# cellota's topic ACL (written by `cellota certs mosquitto`). The client's name is the\n"
    "# common name of its certificate (use_identity_as_username).\n"
    "\n"
    "# The server publishes update requests and reads every device's status.\n"
    "user cellota-server\n"
    "topic readwrite cellota/#\n"
    "\n"
    "# A device reads only its own update requests and writes only its own status and will.\n"
    "pattern read cellota/%u/update\n"
    "pattern write cellota/%u/status\n"
    "pattern write cellota/%u/online\n";

const char *pki_broker_acl(void)
{
    return acl;
}

int pki_write_mosquitto(const char *folder, long port, const char *bind)
{
    char absolute[PATH_MAX], *text = NULL, *conf_path = NULL, *acl_path = NULL;
    int status, length;

    if (port < 1 || port > 65535)
        return host_error(HOST_EXIT_USAGE, "--port must be 1..65535");
    if (!realpath(folder, absolute))
        return host_error(HOST_EXIT_IO, "cannot open folder '%s'", folder);
    conf_path = host_path_join(absolute, "mosquitto.conf");
    acl_path = host_path_join(absolute, "acl");
    if (!conf_path || !acl_path) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    length = asprintf(
        &text,
        "# cellota's broker (written by `cellota certs mosquitto`): one TLS listener; a client\n"
        "# needs a certificate from the project's CA, and its common name is its user name,\n"
        "# which the ACL names. Start with: mosquitto -c %s/mosquitto.conf\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        "acl_file %s/acl\n"
        "\n"
        "listener %ld%s%s\n"
        "protocol mqtt\n"
        "cafile %s/ca.crt\n"
        "certfile %s/server.crt\n"
        "keyfile %s/server.key\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "tls_version tlsv1.2\n",
        absolute, absolute, port, bind ? " " : "", bind ? bind : "", absolute, absolute, absolute);
    if (length < 0) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    {
        /* the CRL `cellota certs init` and `revoke` write: revoked devices cannot connect */
        char *crl_path = host_path_join(absolute, "crl.pem");
        if (crl_path && access(crl_path, F_OK) == 0) {
            char *longer = NULL;
            int more = asprintf(&longer, "%scrlfile %s\n", text, crl_path);
            if (more > 0) {
                free(text);
                text = longer;
                length = more;
            }
        }
        free(crl_path);
    }
    status = host_write_file(conf_path, text, (size_t)length, 0);
    if (status == HOST_EXIT_OK)
        status = host_write_file(acl_path, acl, strlen(acl), 0);
done:
    free(text);
    free(conf_path);
    free(acl_path);
    return status;
}
