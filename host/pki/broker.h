/*
 * The broker's side of the project's certificates: a mosquitto configuration whose TLS
 * listener requires a client certificate signed by the project's CA, takes the client's
 * identity from the certificate's common name (use_identity_as_username), and applies an ACL
 * under which
 *   - a device reads only cellota/<its id>/update and writes only cellota/<its id>/status and
 *     cellota/<its id>/online (its last will),
 *   - the server (CN cellota-server) reads and writes cellota/#,
 *   - nothing else is allowed (no anonymous clients, no other topics),
 * and, when DIR/crl.pem exists (pki/revocation.h), refuses revoked certificates.
 */
#ifndef CELLOTA_HOST_PKI_BROKER_H
#define CELLOTA_HOST_PKI_BROKER_H

/*
 * Writes DIR/mosquitto.conf (listener on `port`, bound to `bind` unless NULL) and DIR/acl,
 * naming DIR's files by absolute path. The certificates need not exist yet; both files are
 * replaced when they exist (they hold no secret). HOST_EXIT_OK, HOST_EXIT_USAGE for a port
 * outside 1..65535, HOST_EXIT_IO.
 */
int pki_write_mosquitto(const char *folder, long port, const char *bind);

/* The ACL's text (static), for tests and the documentation. */
const char *pki_broker_acl(void);

#endif
