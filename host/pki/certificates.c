/* The project's CA, server and device certificates; see certificates.h. */
#include "pki/certificates.h"

#include "common/cli.h"
#include "common/file.h"

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PKI_CA_NAME "CN=cellota project CA"
#define PKI_CA_DAYS 3650
#define PKI_FILE_MAX (64 * 1024)
#define PKI_PEM_MAX 4096

/* Extended key usage purposes (RFC 5280 4.2.1.12), as DER OID contents. */
static const char oid_server_auth[] = MBEDTLS_OID_SERVER_AUTH;
static const char oid_client_auth[] = MBEDTLS_OID_CLIENT_AUTH;

static int crypto_error(const char *what, int status)
{
    return host_error(HOST_EXIT_INTERNAL, "%s failed (mbedTLS -0x%04x)", what, (unsigned)-status);
}

bool pki_device_id_valid(const char *id)
{
    size_t length = strlen(id), index;
    if (length == 0 || length > PKI_DEVICE_ID_MAX || strcmp(id, ".") == 0 ||
        strcmp(id, "..") == 0 || strcmp(id, PKI_SERVER_NAME) == 0)
        return false;
    for (index = 0; index < length; index++) {
        char c = id[index];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* "YYYYMMDDhhmmss" in UTC, `offset` seconds from now. */
static void validity_time(char text[16], long long offset)
{
    time_t when = time(NULL) + (time_t)offset;
    struct tm parts;
    gmtime_r(&when, &parts);
    strftime(text, 16, "%Y%m%d%H%M%S", &parts);
}

/* A random positive 128-bit serial number (RFC 5280 allows up to 20 octets). */
static int random_serial(mbedtls_mpi *serial, host_random *random)
{
    uint8_t bytes[16];
    int status = host_random_bytes(random, bytes, sizeof(bytes));
    if (status != HOST_EXIT_OK)
        return status;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40; /* positive, and never shorter than 16 octets */
    if (mbedtls_mpi_read_binary(serial, bytes, sizeof(bytes)) != 0)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    return HOST_EXIT_OK;
}

/* subjectAltName from "name,1.2.3.4,...": dNSName for names, iPAddress for IPv4 addresses. */
static int write_alt_names(mbedtls_x509write_cert *writer, const char *hosts)
{
    unsigned char buffer[1024];
    unsigned char *end = buffer + sizeof(buffer), *cursor = end;
    size_t total = 0;
    char *copy = strdup(hosts), *save = NULL, *name;
    int length, status;
    if (!copy)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        struct in_addr address;
        unsigned char tag;
        if (inet_pton(AF_INET, name, &address) == 1) {
            length = mbedtls_asn1_write_raw_buffer(&cursor, buffer, (unsigned char *)&address, 4);
            tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
        } else {
            length =
                mbedtls_asn1_write_raw_buffer(&cursor, buffer, (unsigned char *)name, strlen(name));
            tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
        }
        if (length < 0 || (status = mbedtls_asn1_write_len(&cursor, buffer, (size_t)length)) < 0 ||
            mbedtls_asn1_write_tag(&cursor, buffer, tag) < 0) {
            free(copy);
            return host_error(HOST_EXIT_USAGE, "--hosts is too long");
        }
        total += (size_t)length + (size_t)status + 1;
    }
    free(copy);
    if (total == 0)
        return host_error(HOST_EXIT_USAGE, "--hosts names no host");
    if (mbedtls_asn1_write_len(&cursor, buffer, total) < 0 ||
        mbedtls_asn1_write_tag(&cursor, buffer, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) <
            0)
        return host_error(HOST_EXIT_USAGE, "--hosts is too long");
    status = mbedtls_x509write_crt_set_extension(writer, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                 cursor, (size_t)(end - cursor));
    return status == 0 ? HOST_EXIT_OK : crypto_error("writing subjectAltName", status);
}

/* extendedKeyUsage: clientAuth, and serverAuth for the server. */
static int write_key_purposes(mbedtls_x509write_cert *writer, bool server)
{
    unsigned char buffer[64];
    unsigned char *cursor = buffer + sizeof(buffer);
    int length = 0, written;
    written = mbedtls_asn1_write_oid(&cursor, buffer, oid_client_auth,
                                     MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH));
    if (written < 0)
        return crypto_error("writing extendedKeyUsage", written);
    length += written;
    if (server) {
        written = mbedtls_asn1_write_oid(&cursor, buffer, oid_server_auth,
                                         MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
        if (written < 0)
            return crypto_error("writing extendedKeyUsage", written);
        length += written;
    }
    if ((written = mbedtls_asn1_write_len(&cursor, buffer, (size_t)length)) < 0 ||
        mbedtls_asn1_write_tag(&cursor, buffer, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) <
            0)
        return crypto_error("writing extendedKeyUsage", written);
    written = mbedtls_x509write_crt_set_extension(
        writer, MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
        cursor, (size_t)(buffer + sizeof(buffer) - cursor));
    return written == 0 ? HOST_EXIT_OK : crypto_error("writing extendedKeyUsage", written);
}

static int generate_key(mbedtls_pk_context *key, host_random *random)
{
    int status = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (status == 0)
        status = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                                     mbedtls_ctr_drbg_random, &random->generator);
    return status == 0 ? HOST_EXIT_OK : crypto_error("generating a key", status);
}

/*
 * Writes one certificate for `subject_key`, signed by `issuer_key` under `issuer_name` (the
 * same key and name for the CA itself). `subject` NULL: the CA.
 */
static int write_certificate(mbedtls_pk_context *subject_key, const char *subject_name,
                             mbedtls_pk_context *issuer_key, const char *issuer_name,
                             const pki_subject *subject, host_random *random, char **pem)
{
    mbedtls_x509write_cert writer;
    mbedtls_mpi serial;
    char not_before[16], not_after[16];
    unsigned days = subject ? subject->days : PKI_CA_DAYS;
    int status;

    *pem = calloc(1, PKI_PEM_MAX);
    if (!*pem)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    mbedtls_x509write_crt_init(&writer);
    mbedtls_mpi_init(&serial);
    validity_time(not_before, -3600);
    validity_time(not_after, (long long)days * 86400);
    mbedtls_x509write_crt_set_version(&writer, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&writer, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&writer, subject_key);
    mbedtls_x509write_crt_set_issuer_key(&writer, issuer_key);
    status = random_serial(&serial, random);
    if (status != HOST_EXIT_OK)
        goto done;
    if ((status = mbedtls_x509write_crt_set_serial(&writer, &serial)) != 0 ||
        (status = mbedtls_x509write_crt_set_validity(&writer, not_before, not_after)) != 0 ||
        (status = mbedtls_x509write_crt_set_subject_name(&writer, subject_name)) != 0 ||
        (status = mbedtls_x509write_crt_set_issuer_name(&writer, issuer_name)) != 0 ||
        (status = mbedtls_x509write_crt_set_subject_key_identifier(&writer)) != 0 ||
        (status = mbedtls_x509write_crt_set_authority_key_identifier(&writer)) != 0) {
        status = crypto_error("writing the certificate's fields", status);
        goto done;
    }
    if (!subject) {
        if ((status = mbedtls_x509write_crt_set_basic_constraints(&writer, 1, 0)) != 0 ||
            (status = mbedtls_x509write_crt_set_key_usage(
                 &writer, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)) != 0) {
            status = crypto_error("writing the CA's constraints", status);
            goto done;
        }
    } else {
        if ((status = mbedtls_x509write_crt_set_basic_constraints(&writer, 0, -1)) != 0 ||
            (status = mbedtls_x509write_crt_set_key_usage(
                 &writer, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0) {
            status = crypto_error("writing the certificate's constraints", status);
            goto done;
        }
        status = write_key_purposes(&writer, subject->server);
        if (status == HOST_EXIT_OK && subject->hosts)
            status = write_alt_names(&writer, subject->hosts);
        if (status != HOST_EXIT_OK)
            goto done;
    }
    status = mbedtls_x509write_crt_pem(&writer, (unsigned char *)*pem, PKI_PEM_MAX,
                                       mbedtls_ctr_drbg_random, &random->generator);
    status = status == 0 ? HOST_EXIT_OK : crypto_error("signing the certificate", status);
done:
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&writer);
    if (status != HOST_EXIT_OK) {
        free(*pem);
        *pem = NULL;
    }
    return status;
}

static int key_pem(mbedtls_pk_context *key, char **pem)
{
    int status;
    *pem = calloc(1, PKI_PEM_MAX);
    if (!*pem)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    status = mbedtls_pk_write_key_pem(key, (unsigned char *)*pem, PKI_PEM_MAX);
    if (status != 0) {
        free(*pem);
        *pem = NULL;
        return crypto_error("writing a key", status);
    }
    return HOST_EXIT_OK;
}

static void free_secret(char *text)
{
    if (text) {
        mbedtls_platform_zeroize(text, strlen(text));
        free(text);
    }
}

/* Refuses when DIR/a or DIR/b exists; fills the two joined paths. */
static int fresh_paths(const char *folder, const char *first, const char *second, char **first_path,
                       char **second_path)
{
    *first_path = host_path_join(folder, first);
    *second_path = host_path_join(folder, second);
    if (!*first_path || !*second_path)
        return host_error(HOST_EXIT_INTERNAL, "out of memory");
    if (access(*first_path, F_OK) == 0 || access(*second_path, F_OK) == 0)
        return host_error(HOST_EXIT_IO, "'%s' exists already: not overwriting it",
                          access(*first_path, F_OK) == 0 ? *first_path : *second_path);
    return HOST_EXIT_OK;
}

/* Writes the key first (private, never replaced), then the certificate. */
static int write_pair(const char *certificate_path, const char *key_path, const char *certificate,
                      const char *key)
{
    int status =
        host_write_file(key_path, key, strlen(key), HOST_WRITE_PRIVATE | HOST_WRITE_NO_REPLACE);
    if (status == HOST_EXIT_OK)
        status = host_write_file(certificate_path, certificate, strlen(certificate),
                                 HOST_WRITE_NO_REPLACE);
    return status;
}

int pki_authority_create(const char *folder, host_random *random)
{
    mbedtls_pk_context key;
    char *certificate_path = NULL, *key_path = NULL, *certificate = NULL, *private_key = NULL;
    int status = host_make_folder(folder);
    if (status != HOST_EXIT_OK)
        return status;
    mbedtls_pk_init(&key);
    status = fresh_paths(folder, "ca.crt", "ca.key", &certificate_path, &key_path);
    if (status == HOST_EXIT_OK)
        status = generate_key(&key, random);
    if (status == HOST_EXIT_OK)
        status =
            write_certificate(&key, PKI_CA_NAME, &key, PKI_CA_NAME, NULL, random, &certificate);
    if (status == HOST_EXIT_OK)
        status = key_pem(&key, &private_key);
    if (status == HOST_EXIT_OK)
        status = write_pair(certificate_path, key_path, certificate, private_key);
    free_secret(private_key);
    free(certificate);
    free(certificate_path);
    free(key_path);
    mbedtls_pk_free(&key);
    return status;
}

int pki_authority_load(pki_authority *authority, const char *folder)
{
    char *certificate_path = host_path_join(folder, "ca.crt");
    char *key_path = host_path_join(folder, "ca.key");
    uint8_t *text = NULL;
    size_t length;
    int status;

    mbedtls_pk_init(&authority->key);
    mbedtls_x509_crt_init(&authority->certificate);
    if (!certificate_path || !key_path) {
        status = host_error(HOST_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    status = host_read_file(certificate_path, PKI_FILE_MAX, &text, &length);
    if (status != HOST_EXIT_OK)
        goto done;
    if (mbedtls_x509_crt_parse(&authority->certificate, text, length + 1) != 0 ||
        !authority->certificate.ca_istrue) {
        status = host_error(HOST_EXIT_FAILED, "'%s' is not a CA certificate", certificate_path);
        goto done;
    }
    free(text);
    text = NULL;
    status = host_read_file(key_path, PKI_FILE_MAX, &text, &length);
    if (status != HOST_EXIT_OK)
        goto done;
    if (mbedtls_pk_parse_key(&authority->key, text, length + 1, NULL, 0) != 0 ||
        mbedtls_pk_check_pair(&authority->certificate.pk, &authority->key) != 0) {
        status =
            host_error(HOST_EXIT_FAILED, "'%s' is not the key of '%s'", key_path, certificate_path);
        goto done;
    }
    status = HOST_EXIT_OK;
done:
    if (text) {
        mbedtls_platform_zeroize(text, length);
        free(text);
    }
    free(certificate_path);
    free(key_path);
    if (status != HOST_EXIT_OK)
        pki_authority_free(authority);
    return status;
}

void pki_authority_free(pki_authority *authority)
{
    mbedtls_pk_free(&authority->key);
    mbedtls_x509_crt_free(&authority->certificate);
}

int pki_issue(pki_authority *authority, host_random *random, const pki_subject *subject,
              char **certificate_pem, char **key_pem_out)
{
    mbedtls_pk_context key;
    char issuer[256], name[PKI_DEVICE_ID_MAX + 8];
    int status;

    *certificate_pem = NULL;
    *key_pem_out = NULL;
    if (mbedtls_x509_dn_gets(issuer, sizeof(issuer), &authority->certificate.subject) < 0)
        return host_error(HOST_EXIT_FAILED, "the CA's name cannot be read");
    if (strlen(subject->common_name) > PKI_DEVICE_ID_MAX ||
        strpbrk(subject->common_name, ",=+\"\\<>;"))
        return host_error(HOST_EXIT_USAGE, "'%s' cannot be a certificate's name",
                          subject->common_name);
    snprintf(name, sizeof(name), "CN=%s", subject->common_name);
    mbedtls_pk_init(&key);
    status = generate_key(&key, random);
    if (status == HOST_EXIT_OK)
        status = write_certificate(&key, name, &authority->key, issuer, subject, random,
                                   certificate_pem);
    if (status == HOST_EXIT_OK)
        status = key_pem(&key, key_pem_out);
    mbedtls_pk_free(&key);
    if (status != HOST_EXIT_OK) {
        free(*certificate_pem);
        *certificate_pem = NULL;
    }
    return status;
}

int pki_issue_files(pki_authority *authority, host_random *random, const pki_subject *subject,
                    const char *folder, const char *stem)
{
    char *certificate_path = NULL, *key_path = NULL, *certificate = NULL, *private_key = NULL;
    char certificate_name[PKI_DEVICE_ID_MAX + 8], key_name[PKI_DEVICE_ID_MAX + 8];
    int status;

    if (strlen(stem) > PKI_DEVICE_ID_MAX)
        return host_error(HOST_EXIT_USAGE, "'%s' is too long for a file name", stem);
    snprintf(certificate_name, sizeof(certificate_name), "%s.crt", stem);
    snprintf(key_name, sizeof(key_name), "%s.key", stem);
    status = fresh_paths(folder, certificate_name, key_name, &certificate_path, &key_path);
    if (status == HOST_EXIT_OK)
        status = pki_issue(authority, random, subject, &certificate, &private_key);
    if (status == HOST_EXIT_OK)
        status = write_pair(certificate_path, key_path, certificate, private_key);
    free_secret(private_key);
    free(certificate);
    free(certificate_path);
    free(key_path);
    return status;
}
