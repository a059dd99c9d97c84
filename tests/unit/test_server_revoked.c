/*
 * What the server knows of revoked devices (server/revoked.h), from folders written by the
 * project's own PKI code (`cellota certs`): nothing revoked after init; a `revoke` while the
 * list is open is seen without reopening it; a serial named in the list but absent from the CRL
 * revokes nothing; a CRL signed by another CA is refused at open and, written over a good one,
 * keeps what was known; a certificate is matched by serial and issuer.
 */
#include "test.h"

#include "common/cli.h"
#include "common/file.h"
#include "pki/certificates.h"
#include "pki/revocation.h"
#include "server/revoked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The list looks at its files at most once a second. */
static void let_a_second_pass(void)
{
    struct timespec pause = {1, 100 * 1000000L};
    nanosleep(&pause, NULL);
}

static void issue(pki_authority *authority, host_random *random, const char *folder,
                  const char *id)
{
    pki_subject subject = {id, NULL, false, 30};
    CHECK_EQ_INT(pki_issue_files(authority, random, &subject, folder, id), HOST_EXIT_OK);
}

static bool load_certificate(const char *folder, const char *id, mbedtls_x509_crt *certificate)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.crt", folder, id);
    mbedtls_x509_crt_init(certificate);
    return mbedtls_x509_crt_parse_file(certificate, path) == 0;
}

static void test_revocation_seen_while_open(void)
{
    char folder[] = "/tmp/cellota-revoked-XXXXXX", rogue[] = "/tmp/cellota-rogue-XXXXXX";
    char error[512], path[256], line[128];
    pki_authority authority, other;
    host_random random;
    mbedtls_x509_crt a_certificate, b_certificate, rogue_certificate;
    revocations *list;

    CHECK(mkdtemp(folder) && mkdtemp(rogue));
    CHECK_EQ_INT(host_random_open(&random, "test_server_revoked"), HOST_EXIT_OK);
    CHECK_EQ_INT(pki_authority_create(folder, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(pki_authority_load(&authority, folder), HOST_EXIT_OK);
    CHECK_EQ_INT(pki_write_crl(&authority, &random, folder), HOST_EXIT_OK); /* as init does */
    CHECK_EQ_INT(pki_authority_create(rogue, &random), HOST_EXIT_OK);
    CHECK_EQ_INT(pki_authority_load(&other, rogue), HOST_EXIT_OK);
    issue(&authority, &random, folder, "dev-a");
    issue(&authority, &random, folder, "dev-b");
    issue(&other, &random, rogue, "dev-b"); /* the same name from another CA */

    list = revocations_open(folder, error, sizeof(error));
    CHECK(list != NULL);
    if (!list) {
        fprintf(stderr, "revocations_open: %s\n", error);
        return;
    }
    CHECK_EQ_INT(revocations_count(list), 0);
    CHECK(!revocations_device(list, "dev-a"));
    CHECK(!revocations_device(list, "dev-b"));

    /* revoked while the list is open: seen once a second has passed */
    CHECK_EQ_INT(pki_revoke(&authority, &random, folder, "dev-b"), HOST_EXIT_OK);
    let_a_second_pass();
    CHECK(revocations_device(list, "dev-b"));
    CHECK(!revocations_device(list, "dev-a"));
    CHECK(!revocations_device(list, "dev-"));
    CHECK(!revocations_device(list, ""));
    CHECK_EQ_INT(revocations_count(list), 1);
    CHECK(load_certificate(folder, "dev-a", &a_certificate));
    CHECK(load_certificate(folder, "dev-b", &b_certificate));
    CHECK(load_certificate(rogue, "dev-b", &rogue_certificate));
    CHECK(revocations_certificate(list, &b_certificate));
    CHECK(!revocations_certificate(list, &a_certificate));
    /* another CA's certificate is not ours to revoke, whatever its serial */
    CHECK(!revocations_certificate(list, &rogue_certificate));

    /* the list alone revokes nothing: dev-a's serial named, not in the signed CRL */
    snprintf(path, sizeof(path), "%s/revoked", folder);
    FILE *file = fopen(path, "a");
    CHECK(file != NULL);
    if (file) {
        for (size_t i = 0; i < a_certificate.serial.len; i++)
            fprintf(file, "%02x", a_certificate.serial.p[i]);
        fprintf(file, " dev-a\n");
        fclose(file);
    }
    let_a_second_pass();
    CHECK(!revocations_device(list, "dev-a"));
    CHECK(revocations_device(list, "dev-b"));

    /* a CRL signed by another CA over ours (listing dev-a too): refused, dev-b stays revoked */
    CHECK_EQ_INT(pki_write_crl(&other, &random, folder), HOST_EXIT_OK);
    let_a_second_pass();
    CHECK(!revocations_device(list, "dev-a"));
    CHECK(revocations_device(list, "dev-b"));
    revocations_close(list);

    /* ... and refused at open */
    CHECK(revocations_open(folder, error, sizeof(error)) == NULL);
    CHECK(strstr(error, "not signed by the CA") != NULL);
    /* a damaged list is refused at open, with its line */
    CHECK_EQ_INT(pki_write_crl(&authority, &random, folder), HOST_EXIT_OK);
    snprintf(line, sizeof(line), "not-hex dev-c\n");
    file = fopen(path, "a");
    if (file) {
        fputs(line, file);
        fclose(file);
    }
    CHECK(revocations_open(folder, error, sizeof(error)) == NULL);
    CHECK(strstr(error, "is not 'SERIAL ID'") != NULL);
    /* no CA: nothing to check a CRL with */
    snprintf(path, sizeof(path), "%s/ca.crt", folder);
    CHECK_EQ_INT(unlink(path), 0);
    CHECK(revocations_open(folder, error, sizeof(error)) == NULL);
    CHECK(strstr(error, "ca.crt") != NULL);

    mbedtls_x509_crt_free(&a_certificate);
    mbedtls_x509_crt_free(&b_certificate);
    mbedtls_x509_crt_free(&rogue_certificate);
    pki_authority_free(&authority);
    pki_authority_free(&other);
    host_random_close(&random);
    char command[160];
    snprintf(command, sizeof(command), "rm -rf %s %s", folder, rogue);
    CHECK_EQ_INT(system(command), 0);
}

/* A folder without crl.pem or revoked (older `cellota certs init`): nothing revoked. */
static void test_no_crl(void)
{
    char folder[] = "/tmp/cellota-revoked-XXXXXX", error[512], command[160];
    host_random random;
    CHECK(mkdtemp(folder));
    CHECK_EQ_INT(host_random_open(&random, "test_server_revoked"), HOST_EXIT_OK);
    CHECK_EQ_INT(pki_authority_create(folder, &random), HOST_EXIT_OK);
    revocations *list = revocations_open(folder, error, sizeof(error));
    CHECK(list != NULL);
    CHECK(!revocations_device(list, "dev-a"));
    CHECK_EQ_INT(revocations_count(list), 0);
    revocations_close(list);
    host_random_close(&random);
    snprintf(command, sizeof(command), "rm -rf %s", folder);
    CHECK_EQ_INT(system(command), 0);
}

int main(void)
{
    RUN(test_revocation_seen_while_open);
    RUN(test_no_crl);
    return test_summary();
}
