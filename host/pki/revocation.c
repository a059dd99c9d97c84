/* Revocation: the project's CRL; see revocation.h. */
#include "pki/revocation.h"

#include "common/cli.h"
#include "common/file.h"
#include "common/hex.h"

#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CRL_MAX 65536
#define CRL_DAYS 3650
#define REVOKED_MAX 4096 /* serials in one CRL */

/* The asn1write functions return a length or a negative error; CHECK adds the length. */
#define ADD(total, call)                                                                           \
    do {                                                                                           \
        int added_ = (call);                                                                       \
        if (added_ < 0)                                                                            \
            return added_;                                                                         \
        (total) += (size_t)added_;                                                                 \
    } while (0)

/* UTCTime "YYMMDDHHMMSSZ" (RFC 5280 until 2049), `offset` seconds from now. */
static int write_time(unsigned char **cursor, unsigned char *start, long long offset)
{
    char text[16];
    time_t when = time(NULL) + (time_t)offset;
    struct tm parts;
    gmtime_r(&when, &parts);
    strftime(text, sizeof(text), "%y%m%d%H%M%SZ", &parts);
    return mbedtls_asn1_write_tagged_string(cursor, start, MBEDTLS_ASN1_UTC_TIME, text, 13);
}

/* AlgorithmIdentifier ecdsa-with-SHA256, parameters absent (RFC 5758). */
static int write_algorithm(unsigned char **cursor, unsigned char *start)
{
    size_t length = 0;
    ADD(length, mbedtls_asn1_write_oid(cursor, start, MBEDTLS_OID_ECDSA_SHA256,
                                       MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256)));
    ADD(length, mbedtls_asn1_write_len(cursor, start, length));
    ADD(length,
        mbedtls_asn1_write_tag(cursor, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)length;
}

/* One revokedCertificates entry: SEQUENCE { serial INTEGER, revocationDate Time }. */
static int write_entry(unsigned char **cursor, unsigned char *start, const uint8_t *serial,
                       size_t serial_length)
{
    size_t length = 0;
    ADD(length, write_time(cursor, start, 0));
    ADD(length, mbedtls_asn1_write_raw_buffer(cursor, start, serial, serial_length));
    ADD(length, mbedtls_asn1_write_len(cursor, start, serial_length));
    ADD(length, mbedtls_asn1_write_tag(cursor, start, MBEDTLS_ASN1_INTEGER));
    ADD(length, mbedtls_asn1_write_len(cursor, start, length));
    ADD(length,
        mbedtls_asn1_write_tag(cursor, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)length;
}

typedef struct serial_list {
    uint8_t bytes[REVOKED_MAX][20];
    size_t lengths[REVOKED_MAX];
    size_t count;
} serial_list;

/* TBSCertList (RFC 5280 5.1), written backwards from `end`. */
static int write_tbs(unsigned char **cursor, unsigned char *start, pki_authority *authority,
                     const serial_list *serials)
{
    size_t length = 0, entries = 0, index;
    if (serials->count) {
        for (index = serials->count; index-- > 0;)
            ADD(entries,
                write_entry(cursor, start, serials->bytes[index], serials->lengths[index]));
        ADD(entries, mbedtls_asn1_write_len(cursor, start, entries));
        ADD(entries, mbedtls_asn1_write_tag(cursor, start,
                                            MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    }
    length += entries;
    ADD(length, write_time(cursor, start, (long long)CRL_DAYS * 86400)); /* nextUpdate */
    ADD(length, write_time(cursor, start, -3600));                       /* thisUpdate */
    ADD(length, mbedtls_asn1_write_raw_buffer(cursor, start, authority->certificate.subject_raw.p,
                                              authority->certificate.subject_raw.len));
    ADD(length, write_algorithm(cursor, start));
    ADD(length, mbedtls_asn1_write_int(cursor, start, 1)); /* v2 */
    ADD(length, mbedtls_asn1_write_len(cursor, start, length));
    ADD(length,
        mbedtls_asn1_write_tag(cursor, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)length;
}

/* Reads DIR/revoked into `serials`; a missing file is an empty list. */
static int read_revoked(const char *path, serial_list *serials)
{
    FILE *file = fopen(path, "r");
    char line[256];
    serials->count = 0;
    if (!file)
        return HOST_EXIT_OK;
    while (fgets(line, sizeof(line), file)) {
        char *space = strchr(line, ' ');
        size_t hex_length = space ? (size_t)(space - line) : strcspn(line, "\r\n");
        if (hex_length == 0)
            continue;
        if (serials->count == REVOKED_MAX || hex_length % 2 || hex_length > 40 ||
            !host_hex_decode(line, hex_length, serials->bytes[serials->count], hex_length / 2)) {
            fclose(file);
            return host_error(HOST_EXIT_FAILED, "'%s' is damaged (line '%.40s')", path, line);
        }
        serials->lengths[serials->count++] = hex_length / 2;
    }
    fclose(file);
    return HOST_EXIT_OK;
}

int pki_write_crl(pki_authority *authority, host_random *random, const char *folder)
{
    static serial_list serials; /* large; one at a time */
    unsigned char *tbs_buffer = malloc(CRL_MAX), *crl_buffer = malloc(CRL_MAX), *cursor;
    unsigned char hash[32], signature[MBEDTLS_ECDSA_MAX_LEN], pem[2 * CRL_MAX];
    char *revoked_path = host_path_join(folder, "revoked"),
         *crl_path = host_path_join(folder, "crl.pem");
    size_t signature_length = 0, pem_length = 0, total = 0;
    int tbs_length, status = HOST_EXIT_OK, written;
    const unsigned char *tbs;

    if (!tbs_buffer || !crl_buffer || !revoked_path || !crl_path) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    if ((status = read_revoked(revoked_path, &serials)) != HOST_EXIT_OK)
        goto done;
    cursor = tbs_buffer + CRL_MAX;
    tbs_length = write_tbs(&cursor, tbs_buffer, authority, &serials);
    if (tbs_length < 0) {
        status = host_error(HOST_EXIT_INTERNAL, "writing the CRL failed (-0x%04x)",
                            (unsigned)-tbs_length);
        goto done;
    }
    tbs = cursor;
    if (mbedtls_sha256_ret(tbs, (size_t)tbs_length, hash, 0) != 0 ||
        mbedtls_pk_sign(&authority->key, MBEDTLS_MD_SHA256, hash, sizeof(hash), signature,
                        &signature_length, mbedtls_ctr_drbg_random, &random->generator) != 0) {
        status = host_error(HOST_EXIT_INTERNAL, "signing the CRL failed");
        goto done;
    }
    /* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } */
    cursor = crl_buffer + CRL_MAX;
    if ((written = mbedtls_asn1_write_bitstring(&cursor, crl_buffer, signature,
                                                signature_length * 8)) < 0 ||
        (total += (size_t)written, (written = write_algorithm(&cursor, crl_buffer)) < 0) ||
        (total += (size_t)written, (written = mbedtls_asn1_write_raw_buffer(
                                        &cursor, crl_buffer, tbs, (size_t)tbs_length)) < 0) ||
        (total += (size_t)written,
         (written = mbedtls_asn1_write_len(&cursor, crl_buffer, total)) < 0) ||
        (total += (size_t)written,
         (written = mbedtls_asn1_write_tag(
              &cursor, crl_buffer, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0) ||
        (total += (size_t)written,
         mbedtls_pem_write_buffer("-----BEGIN X509 CRL-----\n", "-----END X509 CRL-----\n", cursor,
                                  total, pem, sizeof(pem), &pem_length) != 0)) {
        status = host_error(HOST_EXIT_INTERNAL, "writing the CRL failed");
        goto done;
    }
    status = host_write_file(crl_path, pem, strlen((char *)pem), 0);
done:
    free(tbs_buffer);
    free(crl_buffer);
    free(revoked_path);
    free(crl_path);
    return status;
}

int pki_revoke(pki_authority *authority, host_random *random, const char *folder, const char *id)
{
    char name[PKI_DEVICE_ID_MAX + 8], serial_hex[41], line[PKI_DEVICE_ID_MAX + 64];
    char *certificate_path, *revoked_path = host_path_join(folder, "revoked");
    mbedtls_x509_crt certificate;
    uint8_t *text = NULL;
    size_t length;
    FILE *file;
    int status;

    snprintf(name, sizeof(name), "%s.crt", id);
    certificate_path = host_path_join(folder, name);
    mbedtls_x509_crt_init(&certificate);
    if (!certificate_path || !revoked_path) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    if ((status = host_read_file(certificate_path, 65536, &text, &length)) != HOST_EXIT_OK)
        goto done;
    if (mbedtls_x509_crt_parse(&certificate, text, length + 1) != 0 ||
        certificate.issuer_raw.len != authority->certificate.subject_raw.len ||
        memcmp(certificate.issuer_raw.p, authority->certificate.subject_raw.p,
               certificate.issuer_raw.len) != 0 ||
        certificate.serial.len > 20) {
        status =
            host_error(HOST_EXIT_FAILED, "'%s' is not a certificate of this CA", certificate_path);
        goto done;
    }
    host_hex_encode(certificate.serial.p, certificate.serial.len, serial_hex);
    serial_hex[2 * certificate.serial.len] = '\0';
    /* once: a second revocation of the same certificate changes nothing but the CRL's date */
    file = fopen(revoked_path, "r");
    while (file && fgets(line, sizeof(line), file)) {
        if (strncmp(line, serial_hex, strlen(serial_hex)) == 0 && line[strlen(serial_hex)] == ' ') {
            fclose(file);
            file = NULL;
            goto write;
        }
    }
    if (file)
        fclose(file);
    file = fopen(revoked_path, "a");
    if (!file || fprintf(file, "%s %s\n", serial_hex, id) < 0 || fclose(file) != 0) {
        status = host_error(HOST_EXIT_IO, "cannot write '%s'", revoked_path);
        goto done;
    }
write:
    status = pki_write_crl(authority, random, folder);
done:
    mbedtls_x509_crt_free(&certificate);
    free(text);
    free(certificate_path);
    free(revoked_path);
    return status;
}
