/* Revoked devices, from the certificates folder (revoked.h). */
#include "revoked.h"

#include "common/file.h"
#include "common/hex.h"

#include <mbedtls/md.h>
#include <mbedtls/x509_crl.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIST_LINE_MAX 256
#define ID_MAX 64
#define SERIAL_MAX 20

typedef struct known {
    mbedtls_x509_crl crl;
    bool has_crl;
    char (*ids)[ID_MAX + 1]; /* sorted */
    size_t count;
} known;

struct revocations {
    char *ca_path, *crl_path, *list_path;
    mbedtls_x509_crt ca;
    pthread_mutex_t lock;
    known now;
    host_file_mark crl_mark, list_mark;
    struct timespec checked_at;
};

static void known_free(known *state)
{
    if (state->has_crl)
        mbedtls_x509_crl_free(&state->crl);
    free(state->ids);
    memset(state, 0, sizeof(*state));
}

/* The CRL is the CA's: the same issuer name, and its signature verifies with the CA's key. */
static bool crl_signed_by(const mbedtls_x509_crl *crl, mbedtls_x509_crt *ca)
{
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(crl->sig_md);
    if (crl->issuer_raw.len != ca->subject_raw.len ||
        memcmp(crl->issuer_raw.p, ca->subject_raw.p, crl->issuer_raw.len) != 0 || !md ||
        mbedtls_md(md, crl->tbs.p, crl->tbs.len, hash) != 0)
        return false;
    return mbedtls_pk_verify_ext(crl->sig_pk, crl->sig_opts, &ca->pk, crl->sig_md, hash,
                                 mbedtls_md_get_size(md), crl->sig.p, crl->sig.len) == 0;
}

static bool serial_in_crl(const mbedtls_x509_crl *crl, const uint8_t *serial, size_t length)
{
    for (const mbedtls_x509_crl_entry *entry = &crl->entry; entry; entry = entry->next)
        if (entry->serial.len == length && length > 0 &&
            memcmp(entry->serial.p, serial, length) == 0)
            return true;
    return false;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The list's ids whose serials the CRL holds, sorted. */
static int read_list(const char *path, const mbedtls_x509_crl *crl, known *state, char *error,
                     size_t error_size)
{
    FILE *file = fopen(path, "r");
    char line[LIST_LINE_MAX];
    size_t capacity = 0, number = 0;
    if (!file) {
        if (errno == ENOENT)
            return 0;
        snprintf(error, error_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), file)) {
        uint8_t serial[SERIAL_MAX];
        char *space = strchr(line, ' ');
        size_t hex_length, id_length;
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        hex_length = space ? (size_t)(space - line) : 0;
        id_length = space ? strlen(space + 1) : 0;
        if (!space || hex_length == 0 || hex_length % 2 || hex_length > 2 * SERIAL_MAX ||
            id_length == 0 || id_length > ID_MAX ||
            !host_hex_decode(line, hex_length, serial, hex_length / 2)) {
            snprintf(error, error_size, "'%s' line %zu is not 'SERIAL ID'", path, number);
            fclose(file);
            return -1;
        }
        if (!crl || !serial_in_crl(crl, serial, hex_length / 2))
            continue; /* listed but not in the signed CRL: not revoked */
        if (state->count == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 16;
            char(*grown)[ID_MAX + 1] = realloc(state->ids, grown_capacity * sizeof(*grown));
            if (!grown) {
                snprintf(error, error_size, "out of memory");
                fclose(file);
                return -1;
            }
            state->ids = grown;
            capacity = grown_capacity;
        }
        snprintf(state->ids[state->count++], ID_MAX + 1, "%s", space + 1);
    }
    fclose(file);
    if (state->count)
        qsort(state->ids, state->count, sizeof(*state->ids), compare_ids);
    return 0;
}

/* Reads crl.pem and the list into `state`. */
static int load(revocations *list, known *state, char *error, size_t error_size)
{
    memset(state, 0, sizeof(*state));
    if (access(list->crl_path, F_OK) == 0) {
        mbedtls_x509_crl_init(&state->crl);
        state->has_crl = true;
        int result = mbedtls_x509_crl_parse_file(&state->crl, list->crl_path);
        if (result != 0) {
            snprintf(error, error_size, "'%s' is not a CRL (mbedTLS -0x%04x)", list->crl_path,
                     (unsigned)-result);
            known_free(state);
            return -1;
        }
        if (!crl_signed_by(&state->crl, &list->ca)) {
            snprintf(error, error_size, "'%s' is not signed by the CA '%s'", list->crl_path,
                     list->ca_path);
            known_free(state);
            return -1;
        }
    }
    if (read_list(list->list_path, state->has_crl ? &state->crl : NULL, state, error,
                  error_size) != 0) {
        known_free(state);
        return -1;
    }
    return 0;
}

revocations *revocations_open(const char *folder, char *error, size_t error_size)
{
    revocations *list = calloc(1, sizeof(*list));
    if (!list) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    mbedtls_x509_crt_init(&list->ca);
    pthread_mutex_init(&list->lock, NULL);
    list->ca_path = host_path_join(folder, "ca.crt");
    list->crl_path = host_path_join(folder, "crl.pem");
    list->list_path = host_path_join(folder, "revoked");
    if (!list->ca_path || !list->crl_path || !list->list_path) {
        snprintf(error, error_size, "out of memory");
        revocations_close(list);
        return NULL;
    }
    int result = mbedtls_x509_crt_parse_file(&list->ca, list->ca_path);
    if (result != 0) {
        snprintf(error, error_size, "'%s' is not a CA certificate (mbedTLS -0x%04x)",
                 list->ca_path, (unsigned)-result);
        revocations_close(list);
        return NULL;
    }
    host_file_mark_of(list->crl_path, &list->crl_mark);
    host_file_mark_of(list->list_path, &list->list_mark);
    if (load(list, &list->now, error, error_size) != 0) {
        revocations_close(list);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &list->checked_at);
    return list;
}

void revocations_close(revocations *list)
{
    if (!list)
        return;
    known_free(&list->now);
    mbedtls_x509_crt_free(&list->ca);
    pthread_mutex_destroy(&list->lock);
    free(list->ca_path);
    free(list->crl_path);
    free(list->list_path);
    free(list);
}

/* Under the lock: read the files again when one changed (looked at once a second at most). */
static void refresh(revocations *list)
{
    struct timespec now;
    host_file_mark crl_mark, list_mark;
    char error[512];
    known fresh;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - list->checked_at.tv_sec < 1)
        return;
    list->checked_at = now;
    host_file_mark_of(list->crl_path, &crl_mark);
    host_file_mark_of(list->list_path, &list_mark);
    if (host_file_mark_same(&crl_mark, &list->crl_mark) && host_file_mark_same(&list_mark, &list->list_mark))
        return;
    /* Marked before the reading, so a file that is refused is not read again every second;
     * the next change to it is. */
    list->crl_mark = crl_mark;
    list->list_mark = list_mark;
    if (load(list, &fresh, error, sizeof(error)) != 0) {
        fprintf(stderr, "cellota-server: revocation: %s; keeping the %zu revoked devices known\n",
                error, list->now.count);
        return;
    }
    known_free(&list->now);
    list->now = fresh;
    printf("revocation: %zu devices revoked (%s read again)\n", list->now.count, list->crl_path);
    fflush(stdout);
}

bool revocations_device(revocations *list, const char *id)
{
    if (!list || !id || strlen(id) > ID_MAX)
        return false;
    pthread_mutex_lock(&list->lock);
    refresh(list);
    bool found = list->now.count &&
                 bsearch(id, list->now.ids, list->now.count, sizeof(*list->now.ids), compare_ids);
    pthread_mutex_unlock(&list->lock);
    return found;
}

bool revocations_certificate(revocations *list, const mbedtls_x509_crt *certificate)
{
    if (!list || !certificate)
        return false;
    pthread_mutex_lock(&list->lock);
    refresh(list);
    bool found = list->now.has_crl && certificate->issuer_raw.len == list->ca.subject_raw.len &&
                 memcmp(certificate->issuer_raw.p, list->ca.subject_raw.p,
                        certificate->issuer_raw.len) == 0 &&
                 serial_in_crl(&list->now.crl, certificate->serial.p, certificate->serial.len);
    pthread_mutex_unlock(&list->lock);
    return found;
}

size_t revocations_count(revocations *list)
{
    if (!list)
        return 0;
    pthread_mutex_lock(&list->lock);
    refresh(list);
    size_t count = list->now.count;
    pthread_mutex_unlock(&list->lock);
    return count;
}
