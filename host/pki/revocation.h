/*
 * Revoking a device: its certificate's serial goes into DIR/revoked (one "serial-hex id" line
 * per revoked certificate) and DIR/crl.pem is written again -- an X.509 v2 CRL signed by the
 * project CA (ECDSA with SHA-256), which mosquitto reads through `crlfile` (pki/broker.h) and
 * checks at every TLS handshake: a revoked device can no longer connect. mbedTLS 2.28 parses
 * CRLs but does not write them, so the DER is written here with its ASN.1 writer.
 *
 * Every entry's revocationDate is the time the CRL was written (nothing else reads it).
 * `cellota certs init` writes an empty CRL (mosquitto needs the file); its nextUpdate is 10
 * years on, as the CRL is written again at each revocation rather than on a schedule. Restart
 * (or SIGHUP) mosquitto after a revocation. Functions print their own error and return a
 * HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_PKI_REVOCATION_H
#define CELLOTA_HOST_PKI_REVOCATION_H

#include "common/random.h"
#include "pki/certificates.h"

/* Writes DIR/crl.pem from DIR/revoked (missing: nothing revoked). */
int pki_write_crl(pki_authority *authority, host_random *random, const char *folder);

/* Adds DIR/ID.crt's serial to DIR/revoked (once) and writes DIR/crl.pem. HOST_EXIT_FAILED
 * when ID.crt is not a certificate of this CA. */
int pki_revoke(pki_authority *authority, host_random *random, const char *folder, const char *id);

#endif
