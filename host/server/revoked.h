/*
 * What the server knows of revoked devices: the project's certificates folder (`cellota certs`,
 * `--certs DIR`) holds the CA (ca.crt), its CRL (crl.pem, signed by the CA) and the list
 * `cellota certs revoke` keeps of which device each revoked serial belonged to (revoked: one
 * "serial-hex id" line each). A device is revoked when its line's serial is in the CRL and the
 * CRL's signature verifies against the CA: the CRL is the authority (it is what the broker
 * enforces), the list only names the serials.
 *
 * The files are read again when either changes (looked at no more than once a second), so a
 * `cellota certs revoke` while the server runs takes effect without a restart. A CRL that no
 * longer verifies, or a damaged list, keeps what was known before (a damaged file never
 * un-revokes a device) and says so on stderr once per change.
 *
 * Thread-safe: the HTTP threads, the MQTT thread and the campaign engine ask at once.
 */
#ifndef CELLOTA_SERVER_REVOKED_H
#define CELLOTA_SERVER_REVOKED_H

#include <mbedtls/x509_crt.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct revocations revocations;

/* Reads DIR/ca.crt, DIR/crl.pem and DIR/revoked (both may be missing: nothing revoked).
 * NULL after writing why into `error` (no CA, a CRL not signed by it, a damaged list). */
revocations *revocations_open(const char *folder, char *error, size_t error_size);
void revocations_close(revocations *list);

/* True when device `id` is revoked. */
bool revocations_device(revocations *list, const char *id);

/* True when `certificate` (a device's ID.crt, e.g. before wrapping a key to it) is in the CRL;
 * also for a certificate revoked with other tools than `cellota certs revoke`. */
bool revocations_certificate(revocations *list, const mbedtls_x509_crt *certificate);

/* How many devices are revoked now. */
size_t revocations_count(revocations *list);

#endif
