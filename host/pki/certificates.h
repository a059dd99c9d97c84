/*
 * The project's public-key infrastructure, written with mbedTLS's X.509 writer: one CA per
 * project, the server's certificate (the broker's TLS identity and the server's own MQTT client
 * identity) and one certificate per device whose common name is the device id -- the broker
 * takes the client's identity from it (use_identity_as_username), so the topic ACL can name it.
 *
 * Files in the project's folder DIR (keys P-256, PEM, mode 0600; certificates PEM):
 *   ca.crt, ca.key            the CA (self-signed, CA:true, pathlen 0)
 *   server.crt, server.key    CN "cellota-server"; subjectAltName the --hosts names/addresses;
 *                             extendedKeyUsage serverAuth and clientAuth
 *   ID.crt, ID.key            CN ID; extendedKeyUsage clientAuth only, so a device's stolen
 *                             certificate cannot pose as the broker or the server to another
 *                             device
 * Nothing is ever overwritten: a second `init` or the same device twice is refused.
 * Functions print their own error and return a HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_PKI_CERTIFICATES_H
#define CELLOTA_HOST_PKI_CERTIFICATES_H

#include "common/random.h"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <stdbool.h>
#include <stddef.h>

/* The server's common name: the ACL gives it every topic, so no device may carry it. */
#define PKI_SERVER_NAME "cellota-server"

/* Longest device id (the MQTT topic level and the certificate's common name). */
#define PKI_DEVICE_ID_MAX 64

/* A loaded CA: what issuing needs. */
typedef struct pki_authority {
    mbedtls_pk_context key;
    mbedtls_x509_crt certificate;
} pki_authority;

/* What one certificate says. */
typedef struct pki_subject {
    const char *common_name;
    const char *hosts; /* server: comma-separated names and IPv4 addresses for subjectAltName;
                          NULL for a device */
    bool server;       /* serverAuth + clientAuth; otherwise clientAuth only */
    unsigned days;     /* validity from now (an hour earlier, for clocks slightly behind) */
} pki_subject;

/*
 * True when `id` can be a device id: 1..PKI_DEVICE_ID_MAX characters of letters, digits, '-',
 * '_' and '.', not "." or "..", and not PKI_SERVER_NAME -- it becomes a topic level and a file
 * name, so '/', '+', '#' and the rest are refused.
 */
bool pki_device_id_valid(const char *id);

/* Creates DIR (one level) if needed and writes ca.key and ca.crt; refuses when either exists. */
int pki_authority_create(const char *folder, host_random *random);

/* Loads DIR/ca.key and DIR/ca.crt into an authority (free it with pki_authority_free). */
int pki_authority_load(pki_authority *authority, const char *folder);
void pki_authority_free(pki_authority *authority);

/*
 * Issues a certificate for a fresh P-256 key: malloc'd NUL-terminated PEM texts in
 * *certificate_pem and *key_pem (the caller frees them; the key's memory should be zeroed).
 */
int pki_issue(pki_authority *authority, host_random *random, const pki_subject *subject,
              char **certificate_pem, char **key_pem);

/* pki_issue into DIR/STEM.crt and DIR/STEM.key; refuses when either exists. */
int pki_issue_files(pki_authority *authority, host_random *random, const pki_subject *subject,
                    const char *folder, const char *stem);

#endif
