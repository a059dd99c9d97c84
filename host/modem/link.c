/*
 * A socket behind the modem: a real non-blocking TCP connection to a server, seen through a
 * radio. Bytes read from the kernel take their air time at the downlink rate and then half the
 * round trip before the modem holds them; bytes the device sends take their air time at the
 * uplink rate and half the round trip before they are written to the kernel. Connecting takes a
 * round trip. The modem's receive buffer is bounded: while it is full, nothing more is read, so
 * TCP flow control pushes back on the server as it would through a real modem.
 *
 * TLS (when the device opens an SSL socket) is terminated here with mbedTLS: the handshake and
 * the records travel through the same radio model, and the modem holds the decrypted bytes.
 * Certificates are verified only when the device asks for it and a CA file was given.
 *
 * Faults at this layer: close_after_bytes ends every connection after that many bytes from the
 * server, as if the server closed it.
 */
#include "emulator_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define LINK_MARKS 64
#define SEGMENT 1460u /* bytes per radio transfer: one TCP segment */
#define CONNECT_TIMEOUT_US 60000000ull
#define TLS_RECORD_ROOM 18432u

typedef struct radio_mark {
    uint64_t end; /* stream position just after the bytes this mark covers */
    uint64_t at_us;
} radio_mark;

typedef struct mark_queue {
    radio_mark marks[LINK_MARKS];
    int head, count;
} mark_queue;

typedef struct link_tls {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config config;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context own_key;
    bool handshake_done;
    size_t pending_write; /* length of an ssl_write to repeat after WANT_WRITE */
} link_tls;

struct modem_link {
    modem_emulator *emulator;
    link_owner owner;
    int index;
    link_state state;
    link_failure failure;
    link_failure pending_failure; /* known failure, reported after a round trip */
    int fd;
    char address[64];
    uint16_t port;
    uint64_t started_us;
    bool kernel_connected;
    uint64_t report_us; /* when the connect (or its failure) reaches the modem */
    bool reported;

    byte_ring down; /* raw bytes from the server, visible or still in the air */
    mark_queue down_marks;
    uint64_t down_visible_end;
    uint64_t down_read_total; /* raw bytes read from the kernel */
    uint64_t radio_down_free_us;
    bool eof; /* the kernel said the server closed */
    uint64_t eof_visible_us;
    bool eof_reported;

    byte_ring plain;    /* TLS: decrypted bytes the modem holds */
    byte_ring up_plain; /* TLS: bytes the device sent, not yet encrypted */
    byte_ring up;       /* raw bytes to the server, in the air or due */
    mark_queue up_marks;
    uint64_t radio_up_free_us;
    uint64_t sent_total;

    link_tls *tls;
    bool verify;
    /* the modem's certificates for this connection, NUL-terminated copies (NULL: none) and
     * whether the device named one the store lacks */
    char *ca_pem, *own_pem, *own_key_pem;
    size_t ca_size, own_size, own_key_size;
    bool ca_missing, client_missing;
    char server_name[128];
    int tls_max_minor;

    /* closed by its owner with bytes still on their way up: kept (its owner gone) until they
     * are out, as a TCP close sends what was written before the FIN */
    bool lingering;
    uint64_t linger_until_us;
};

/* ---- marks -------------------------------------------------------------------------------------
 */

static void mark_push(mark_queue *queue, uint64_t end, uint64_t at_us)
{
    if (queue->count == LINK_MARKS) {
        /* merge into the newest mark: those bytes become visible a little later, never earlier */
        radio_mark *last = &queue->marks[(queue->head + queue->count - 1) % LINK_MARKS];
        last->end = end;
        last->at_us = at_us;
        return;
    }
    queue->marks[(queue->head + queue->count) % LINK_MARKS] = (radio_mark){end, at_us};
    queue->count++;
}

static const radio_mark *mark_front(const mark_queue *queue)
{
    return queue->count ? &queue->marks[queue->head] : NULL;
}

static void mark_pop(mark_queue *queue)
{
    queue->head = (queue->head + 1) % LINK_MARKS;
    queue->count--;
}

static uint64_t air_time_us(uint64_t bytes, uint32_t bits_per_second)
{
    return bits_per_second ? bytes * 8000000ull / bits_per_second : 0;
}

/* ---- raw send path (shared by TCP and the TLS BIO)
 * ------------------------------------------------ */

static size_t raw_send(modem_link *link, const uint8_t *data, size_t length)
{
    modem_emulator *emulator = link->emulator;
    size_t accepted = ring_push(&link->up, data, length);
    uint64_t start;
    if (accepted == 0)
        return 0;
    start = link->radio_up_free_us > emulator->now_us ? link->radio_up_free_us : emulator->now_us;
    link->radio_up_free_us = start + air_time_us(accepted, emulator->uplink_bps);
    mark_push(&link->up_marks, link->up.consumed + link->up.length,
              link->radio_up_free_us + emulator->one_way_us);
    return accepted;
}

static size_t visible_raw(const modem_link *link)
{
    return link->down_visible_end > link->down.consumed
               ? (size_t)(link->down_visible_end - link->down.consumed)
               : 0;
}

static bool eof_visible(const modem_link *link)
{
    return link->eof && link->emulator->now_us >= link->eof_visible_us &&
           link->down_visible_end >= link->down.consumed + link->down.length;
}

/* ---- TLS
 * ----------------------------------------------------------------------------------------- */

static int tls_bio_send(void *context, const unsigned char *data, size_t length)
{
    modem_link *link = context;
    size_t sent = raw_send(link, data, length);
    return sent ? (int)sent : MBEDTLS_ERR_SSL_WANT_WRITE;
}

static int tls_bio_receive(void *context, unsigned char *buffer, size_t length)
{
    modem_link *link = context;
    size_t available = visible_raw(link);
    if (available == 0)
        return eof_visible(link) ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    if (length > available)
        length = available;
    return (int)ring_pop(&link->down, buffer, length);
}

static int tls_entropy(void *context, unsigned char *output, size_t length)
{
    /* the emulator's seeded generator: reproducible runs; this is a test tool, not a modem */
    modem_emulator *emulator = context;
    size_t index;
    for (index = 0; index < length; index++)
        output[index] = (unsigned char)(emulator_random(emulator) >> 56);
    return 0;
}

static void tls_free(link_tls *tls)
{
    if (!tls)
        return;
    mbedtls_ssl_free(&tls->ssl);
    mbedtls_ssl_config_free(&tls->config);
    mbedtls_ctr_drbg_free(&tls->drbg);
    mbedtls_x509_crt_free(&tls->ca);
    mbedtls_x509_crt_free(&tls->own);
    mbedtls_pk_free(&tls->own_key);
    free(tls);
}

static bool tls_start(modem_link *link)
{
    modem_emulator *emulator = link->emulator;
    link_tls *tls = calloc(1, sizeof(*tls));
    int minor = link->tls_max_minor ? link->tls_max_minor : MBEDTLS_SSL_MINOR_VERSION_3;
    if (!tls)
        return false;
    link->tls = tls;
    mbedtls_ssl_init(&tls->ssl);
    mbedtls_ssl_config_init(&tls->config);
    mbedtls_ctr_drbg_init(&tls->drbg);
    mbedtls_x509_crt_init(&tls->ca);
    mbedtls_x509_crt_init(&tls->own);
    mbedtls_pk_init(&tls->own_key);
    if (mbedtls_ctr_drbg_seed(&tls->drbg, tls_entropy, emulator, (const unsigned char *)"modem",
                              5) != 0)
        return false;
    if (mbedtls_ssl_config_defaults(&tls->config, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return false;
    mbedtls_ssl_conf_rng(&tls->config, mbedtls_ctr_drbg_random, &tls->drbg);
    mbedtls_ssl_conf_min_version(&tls->config, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_1);
    mbedtls_ssl_conf_max_version(&tls->config, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
    /* A certificate the device named but never wrote, or one that does not parse, fails the
     * connection as the modem's handshake would. */
    if (link->ca_missing || link->client_missing)
        return false;
    if (link->verify && link->ca_pem) {
        if (mbedtls_x509_crt_parse(&tls->ca, (const unsigned char *)link->ca_pem,
                                   link->ca_size + 1) != 0)
            return false;
        mbedtls_ssl_conf_ca_chain(&tls->config, &tls->ca, NULL);
        mbedtls_ssl_conf_authmode(&tls->config, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else if (link->verify && emulator->options.tls_ca_file &&
               mbedtls_x509_crt_parse_file(&tls->ca, emulator->options.tls_ca_file) == 0) {
        mbedtls_ssl_conf_ca_chain(&tls->config, &tls->ca, NULL);
        mbedtls_ssl_conf_authmode(&tls->config, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        mbedtls_ssl_conf_authmode(&tls->config, MBEDTLS_SSL_VERIFY_NONE);
    }
    if (link->own_pem && link->own_key_pem) {
        if (mbedtls_x509_crt_parse(&tls->own, (const unsigned char *)link->own_pem,
                                   link->own_size + 1) != 0 ||
            mbedtls_pk_parse_key(&tls->own_key, (const unsigned char *)link->own_key_pem,
                                 link->own_key_size + 1, NULL, 0) != 0 ||
            mbedtls_ssl_conf_own_cert(&tls->config, &tls->own, &tls->own_key) != 0)
            return false;
    }
    if (mbedtls_ssl_setup(&tls->ssl, &tls->config) != 0)
        return false;
    if (link->server_name[0] && mbedtls_ssl_set_hostname(&tls->ssl, link->server_name) != 0)
        return false;
    mbedtls_ssl_set_bio(&tls->ssl, link, tls_bio_send, tls_bio_receive, NULL);
    return true;
}

/* ---- open and close
 * ------------------------------------------------------------------------------ */

static bool register_link(modem_emulator *emulator, modem_link *link)
{
    if (emulator->link_count == MODEM_LINKS_LIMIT)
        return false;
    emulator->links[emulator->link_count++] = link;
    return true;
}

/* RFC 6761 6.4: a name under "invalid." never resolves, and resolvers should say so at once
 * instead of asking a DNS server. The C library does ask (and where the network is closed the
 * question may wait seconds for no answer), so the modem answers these itself: a test can
 * provoke a DNS failure without depending on a DNS server. */
static bool reserved_invalid(const char *host)
{
    size_t length = strlen(host);
    if (length && host[length - 1] == '.')
        length--;
    return (length == 7 && strncasecmp(host, "invalid", 7) == 0) ||
           (length > 8 && strncasecmp(host + length - 8, ".invalid", 8) == 0);
}

static bool resolve(const char *host, uint16_t port, struct sockaddr_storage *address,
                    socklen_t *length)
{
    struct addrinfo hints, *result = NULL;
    char service[8];
    struct sockaddr_in *ipv4 = (struct sockaddr_in *)address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)address;
    memset(address, 0, sizeof(*address));
    if (inet_pton(AF_INET, host, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons(port);
        *length = sizeof(*ipv4);
        return true;
    }
    if (inet_pton(AF_INET6, host, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons(port);
        *length = sizeof(*ipv6);
        return true;
    }
    if (reserved_invalid(host))
        return false;
    /* A name: getaddrinfo may block on a real DNS server; tests use addresses, "localhost"
     * (which /etc/hosts answers at once) or names under "invalid." (above). */
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &result) != 0 || !result)
        return false;
    memcpy(address, result->ai_addr, result->ai_addrlen);
    *length = result->ai_addrlen;
    freeaddrinfo(result);
    return true;
}

bool emulator_resolve(const modem_emulator *emulator, const char *host, char *text, size_t capacity)
{
    struct sockaddr_storage address;
    socklen_t length;
    const void *raw;
    if (emulator->options.network_disabled)
        return false;
    if (!resolve(host, 0, &address, &length))
        return false;
    raw = address.ss_family == AF_INET
              ? (const void *)&((struct sockaddr_in *)&address)->sin_addr
              : (const void *)&((struct sockaddr_in6 *)&address)->sin6_addr;
    return inet_ntop(address.ss_family, raw, text, (socklen_t)capacity) != NULL;
}

/* A NUL-terminated copy of a stored certificate (mbedTLS parses PEM with its NUL counted). */
static void copy_certificate(const modem_certificate *certificate, char **copy, size_t *size)
{
    *copy = NULL;
    *size = 0;
    if (!certificate || !(*copy = malloc(certificate->size + 1)))
        return;
    memcpy(*copy, certificate->data, certificate->size);
    (*copy)[certificate->size] = '\0';
    *size = certificate->size;
}

modem_link *link_open(modem_emulator *emulator, link_owner owner, int index, const char *host,
                      uint16_t port, const link_options *options, link_failure *failure)
{
    modem_link *link = calloc(1, sizeof(*link));
    struct sockaddr_storage address;
    socklen_t address_length = 0;
    size_t buffer = emulator->profile->socket_buffer;
    if (!link || !register_link(emulator, link)) {
        free(link);
        if (failure)
            *failure = LINK_FAILURE_SOCKET;
        return NULL;
    }
    link->emulator = emulator;
    link->owner = owner;
    link->index = index;
    link->fd = -1;
    link->state = LINK_CONNECTING;
    link->started_us = emulator->now_us;
    link->report_us = emulator->now_us + 2ull * emulator->one_way_us;
    snprintf(link->address, sizeof(link->address), "%s", host);
    link->port = port;
    ring_init(&link->down, options && options->tls ? TLS_RECORD_ROOM : buffer);
    ring_init(&link->plain, buffer);
    ring_init(&link->up_plain, buffer);
    ring_init(&link->up, options && options->tls ? TLS_RECORD_ROOM : buffer);
    link->radio_down_free_us = emulator->now_us;
    link->radio_up_free_us = emulator->now_us;
    if (options && options->tls) {
        /* a TLS ceiling marks the link as TLS; the context is made once TCP is up */
        link->tls_max_minor = options->tls_max_minor ? options->tls_max_minor : 3;
        link->verify = options->verify;
        snprintf(link->server_name, sizeof(link->server_name), "%s",
                 options->server_name ? options->server_name : host);
        link->ca_missing = options->ca_missing;
        link->client_missing = options->client_missing;
        copy_certificate(options->ca, &link->ca_pem, &link->ca_size);
        copy_certificate(options->certificate, &link->own_pem, &link->own_size);
        copy_certificate(options->key, &link->own_key_pem, &link->own_key_size);
    }
    if (emulator->options.network_disabled) {
        link->pending_failure = LINK_FAILURE_REFUSED;
        return link;
    }
    if (!resolve(host, port, &address, &address_length)) {
        /* a DNS lookup takes a round trip too before it fails */
        link->pending_failure = LINK_FAILURE_DNS;
        return link;
    }
    link->fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (link->fd < 0) {
        link->pending_failure = LINK_FAILURE_SOCKET;
        return link;
    }
    {
        int one = 1;
        setsockopt(link->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (emulator->options.source_address && address.ss_family == AF_INET) {
        /* The source address is chosen now, the port at connect: each port can then serve
         * every destination, not one (IP_BIND_ADDRESS_NO_PORT). */
        struct sockaddr_in source;
        int one = 1;
        memset(&source, 0, sizeof(source));
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(emulator->options.source_address);
        setsockopt(link->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(link->fd, (struct sockaddr *)&source, sizeof(source)) != 0) {
            close(link->fd);
            link->fd = -1;
            link->pending_failure = LINK_FAILURE_SOCKET;
            return link;
        }
    }
    if (connect(link->fd, (struct sockaddr *)&address, address_length) == 0) {
        link->kernel_connected = true;
    } else if (errno != EINPROGRESS) {
        link->pending_failure = errno == ECONNREFUSED ? LINK_FAILURE_REFUSED : LINK_FAILURE_TIMEOUT;
        close(link->fd);
        link->fd = -1;
    }
    (void)failure;
    return link;
}

/* How long a closed link may take to send what was written before its close. */
#define LINGER_US 10000000ull

void link_close(modem_emulator *emulator, modem_link *link)
{
    if (!link)
        return;
    if (link->fd >= 0 && link->state == LINK_OPEN && !link->eof &&
        (link->up.length > 0 || link->up_plain.length > 0)) {
        link->lingering = true;
        link->linger_until_us = emulator->now_us + LINGER_US;
        return;
    }
    link_abort(emulator, link);
}

bool link_lingering(const modem_link *link)
{
    return link->lingering;
}

bool link_finished_sending(const modem_emulator *emulator, const modem_link *link)
{
    return (link->up.length == 0 && link->up_plain.length == 0) || link->eof ||
           link->state != LINK_OPEN || emulator->now_us >= link->linger_until_us;
}

void link_abort(modem_emulator *emulator, modem_link *link)
{
    int index;
    if (!link)
        return;
    for (index = 0; index < emulator->link_count; index++) {
        if (emulator->links[index] == link) {
            memmove(&emulator->links[index], &emulator->links[index + 1],
                    (size_t)(emulator->link_count - index - 1) * sizeof(modem_link *));
            emulator->link_count--;
            break;
        }
    }
    if (link->fd >= 0)
        close(link->fd);
    tls_free(link->tls);
    free(link->ca_pem);
    free(link->own_pem);
    if (link->own_key_pem) {
        memset(link->own_key_pem, 0, link->own_key_size);
        free(link->own_key_pem);
    }
    ring_free(&link->down);
    ring_free(&link->plain);
    ring_free(&link->up_plain);
    ring_free(&link->up);
    free(link);
}

/* ---- queries
 * ------------------------------------------------------------------------------------- */

link_state link_get_state(const modem_link *link)
{
    return link->state;
}

link_failure link_get_failure(const modem_link *link)
{
    return link->failure;
}

bool link_usable(const modem_link *link)
{
    return link && (link->state == LINK_OPEN || link->state == LINK_CONNECTING);
}

link_owner link_get_owner(const modem_link *link)
{
    return link->owner;
}

int link_get_index(const modem_link *link)
{
    return link->index;
}

const char *link_remote_address(const modem_link *link)
{
    return link->address;
}

uint16_t link_remote_port(const modem_link *link)
{
    return link->port;
}

size_t link_held(const modem_link *link)
{
    return link->tls_max_minor ? link->plain.length : visible_raw(link);
}

size_t link_read(modem_link *link, uint8_t *buffer, size_t capacity)
{
    size_t held = link_held(link);
    if (capacity > held)
        capacity = held;
    return link->tls_max_minor ? ring_pop(&link->plain, buffer, capacity)
                               : ring_pop(&link->down, buffer, capacity);
}

size_t link_send_room(const modem_link *link)
{
    if (link->state != LINK_OPEN)
        return 0;
    return link->tls_max_minor ? ring_room(&link->up_plain) : ring_room(&link->up);
}

size_t link_send(modem_emulator *emulator, modem_link *link, const uint8_t *data, size_t length)
{
    size_t accepted;
    (void)emulator;
    if (link->state != LINK_OPEN)
        return 0;
    accepted = link->tls_max_minor ? ring_push(&link->up_plain, data, length)
                                   : raw_send(link, data, length);
    link->sent_total += accepted;
    emulator->stats.network_bytes_up += accepted;
    return accepted;
}

size_t link_unacknowledged(const modem_link *link)
{
    return link->up.length + link->up_plain.length;
}

uint64_t link_bytes_sent(const modem_link *link)
{
    return link->sent_total;
}

/* ---- the work
 * ------------------------------------------------------------------------------------- */

static void fail(modem_link *link, link_failure failure)
{
    link->state = LINK_FAILED;
    link->failure = failure;
    if (link->fd >= 0) {
        close(link->fd);
        link->fd = -1;
    }
}

static unsigned poll_connect(modem_link *link)
{
    modem_emulator *emulator = link->emulator;
    if (!link->kernel_connected && link->fd >= 0 && !link->pending_failure) {
        struct pollfd descriptor = {link->fd, POLLOUT, 0};
        if (poll(&descriptor, 1, 0) > 0) {
            int error = 0;
            socklen_t length = sizeof(error);
            getsockopt(link->fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error == 0)
                link->kernel_connected = true;
            else
                link->pending_failure =
                    error == ECONNREFUSED ? LINK_FAILURE_REFUSED : LINK_FAILURE_TIMEOUT;
        } else if (emulator->now_us - link->started_us > CONNECT_TIMEOUT_US) {
            link->pending_failure = LINK_FAILURE_TIMEOUT;
        }
    }
    if (link->reported || emulator->now_us < link->report_us)
        return 0;
    if (link->pending_failure) {
        link->reported = true;
        fail(link, link->pending_failure);
        emulator_note(emulator, "socket to %s:%u failed (%d)", link->address, (unsigned)link->port,
                      (int)link->failure);
        return LINK_EVENT_FAILED;
    }
    if (!link->kernel_connected)
        return 0;
    link->reported = true;
    link->radio_down_free_us = emulator->now_us;
    if (link->tls_max_minor) {
        if (!tls_start(link)) {
            fail(link, LINK_FAILURE_TLS);
            return LINK_EVENT_FAILED;
        }
        return 0; /* the handshake follows */
    }
    link->state = LINK_OPEN;
    emulator_note(emulator, "socket to %s:%u open", link->address, (unsigned)link->port);
    return LINK_EVENT_CONNECTED;
}

/* Reads from the kernel while the radio has capacity and the modem has room. */
static void receive_from_kernel(modem_link *link)
{
    modem_emulator *emulator = link->emulator;
    uint64_t close_after = emulator->options.close_after_bytes;
    while (link->fd >= 0 && !link->eof && link->radio_down_free_us <= emulator->now_us) {
        uint8_t segment[SEGMENT];
        size_t want = ring_room(&link->down);
        ssize_t count;
        if (want > SEGMENT)
            want = SEGMENT;
        if (close_after && want > close_after - link->down_read_total)
            want = (size_t)(close_after - link->down_read_total);
        if (want == 0 && close_after && link->down_read_total >= close_after) {
            /* the fault: the "server" closes here */
            link->eof = true;
            link->eof_visible_us =
                (link->down_marks.count
                     ? link->down_marks
                           .marks[(link->down_marks.head + link->down_marks.count - 1) % LINK_MARKS]
                           .at_us
                     : emulator->now_us + emulator->one_way_us);
            shutdown(link->fd, SHUT_RDWR);
            emulator->stats.fault_closes++;
            emulator_note(emulator, "fault: socket closed after %llu bytes",
                          (unsigned long long)link->down_read_total);
            return;
        }
        if (want == 0)
            return;
        count = recv(link->fd, segment, want, MSG_DONTWAIT);
        if (count > 0) {
            uint64_t start = link->radio_down_free_us;
            ring_push(&link->down, segment, (size_t)count);
            link->down_read_total += (uint64_t)count;
            link->radio_down_free_us = start + air_time_us((uint64_t)count, emulator->downlink_bps);
            mark_push(&link->down_marks, link->down.consumed + link->down.length,
                      link->radio_down_free_us + emulator->one_way_us);
            continue;
        }
        if (count == 0) {
            link->eof = true;
            link->eof_visible_us =
                (link->radio_down_free_us > emulator->now_us ? link->radio_down_free_us
                                                             : emulator->now_us) +
                emulator->one_way_us;
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            /* nothing waiting: the radio idles until now */
            link->radio_down_free_us = emulator->now_us;
            return;
        }
        link->eof = true;
        link->failure = LINK_FAILURE_RESET;
        link->eof_visible_us = emulator->now_us + emulator->one_way_us;
        return;
    }
}

/* Writes the uplink bytes whose air time and latency are over. */
static void send_to_kernel(modem_link *link)
{
    modem_emulator *emulator = link->emulator;
    while (link->fd >= 0 && link->up.length) {
        const radio_mark *mark = mark_front(&link->up_marks);
        uint8_t chunk[4096];
        size_t due, count;
        ssize_t written;
        if (!mark || mark->at_us > emulator->now_us)
            return;
        due = (size_t)(mark->end - link->up.consumed);
        if (due == 0) {
            mark_pop(&link->up_marks);
            continue;
        }
        count = ring_peek(&link->up, 0, chunk, due < sizeof(chunk) ? due : sizeof(chunk));
        written = send(link->fd, chunk, count, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (written > 0) {
            ring_pop(&link->up, NULL, (size_t)written);
            if (link->up.consumed >= mark->end)
                mark_pop(&link->up_marks);
            continue;
        }
        if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        link->eof = true;
        link->failure = LINK_FAILURE_RESET;
        link->eof_visible_us = emulator->now_us + emulator->one_way_us;
        return;
    }
}

void link_break(modem_emulator *emulator, modem_link *link)
{
    if (link->fd < 0 || link->eof || link->state == LINK_FAILED || link->state == LINK_CLOSED)
        return;
    /* as the close_after_bytes fault does, at a moment the owner chose */
    link->eof = true;
    link->failure = LINK_FAILURE_RESET;
    link->eof_visible_us = emulator->now_us + emulator->one_way_us;
    shutdown(link->fd, SHUT_RDWR);
    emulator->stats.fault_closes++;
    emulator_note(emulator, "fault: connection to %s:%u dropped", link->address,
                  (unsigned)link->port);
}

/* Raw bytes whose time has come become visible to the modem. */
static bool advance_visibility(modem_link *link)
{
    const radio_mark *mark;
    bool more = false;
    while ((mark = mark_front(&link->down_marks)) && mark->at_us <= link->emulator->now_us) {
        if (mark->end > link->down_visible_end) {
            if (!link->tls_max_minor) {
                uint64_t count = mark->end - link->down_visible_end;
                link->emulator->stats.network_bytes_down += count;
                link->emulator->bytes_since_boot += count;
            }
            link->down_visible_end = mark->end;
            more = true;
        }
        mark_pop(&link->down_marks);
    }
    return more;
}

static unsigned poll_tls(modem_link *link)
{
    modem_emulator *emulator = link->emulator;
    link_tls *tls = link->tls;
    unsigned events = 0;
    int result;
    if (!tls)
        return 0;
    if (!tls->handshake_done) {
        result = mbedtls_ssl_handshake(&tls->ssl);
        if (result == 0) {
            tls->handshake_done = true;
            link->state = LINK_OPEN;
            emulator_note(emulator, "TLS to %s:%u open (%s)", link->address, (unsigned)link->port,
                          mbedtls_ssl_get_version(&tls->ssl));
            events |= LINK_EVENT_CONNECTED;
        } else if (result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE) {
            if (eof_visible(link) || emulator->now_us - link->started_us > CONNECT_TIMEOUT_US) {
                fail(link, LINK_FAILURE_TLS);
                return LINK_EVENT_FAILED;
            }
            return 0;
        } else {
            char text[120];
            mbedtls_strerror(result, text, sizeof(text));
            emulator_note(emulator, "TLS handshake with %s failed: %s", link->address, text);
            fail(link, LINK_FAILURE_TLS);
            return LINK_EVENT_FAILED;
        }
    }
    /* encrypt what the device sent */
    while (link->up_plain.length) {
        uint8_t chunk[4096];
        size_t length = tls->pending_write ? tls->pending_write
                                           : ring_peek(&link->up_plain, 0, chunk, sizeof(chunk));
        if (tls->pending_write)
            ring_peek(&link->up_plain, 0, chunk, length);
        result = mbedtls_ssl_write(&tls->ssl, chunk, length);
        if (result == MBEDTLS_ERR_SSL_WANT_WRITE || result == MBEDTLS_ERR_SSL_WANT_READ) {
            tls->pending_write = length;
            break;
        }
        tls->pending_write = 0;
        if (result < 0) {
            link->eof = true;
            link->failure = LINK_FAILURE_RESET;
            break;
        }
        ring_pop(&link->up_plain, NULL, (size_t)result);
    }
    /* decrypt what the server sent, as far as the modem has room */
    while (ring_room(&link->plain) > 0) {
        uint8_t chunk[4096];
        size_t room = ring_room(&link->plain);
        result = mbedtls_ssl_read(&tls->ssl, chunk, room < sizeof(chunk) ? room : sizeof(chunk));
        if (result > 0) {
            ring_push(&link->plain, chunk, (size_t)result);
            emulator->stats.network_bytes_down += (uint64_t)result;
            emulator->bytes_since_boot += (uint64_t)result;
            events |= LINK_EVENT_DATA;
            continue;
        }
        if (result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE)
            break;
        /* close_notify, EOF or a broken record: the stream ends here */
        if (result != 0 && result != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            link->failure = LINK_FAILURE_RESET;
        link->eof = true;
        if (link->eof_visible_us < emulator->now_us)
            link->eof_visible_us = emulator->now_us;
        break;
    }
    return events;
}

unsigned link_poll(modem_emulator *emulator, modem_link *link)
{
    unsigned events = 0;
    if (link->state == LINK_FAILED)
        return 0;
    if (link->state == LINK_CONNECTING && !link->reported) {
        events |= poll_connect(link);
        if (link->state == LINK_FAILED || !link->reported)
            return events;
    }
    if (link->state == LINK_CLOSED)
        return 0;
    send_to_kernel(link);
    receive_from_kernel(link);
    if (advance_visibility(link) && !link->tls_max_minor && link->state == LINK_OPEN)
        events |= LINK_EVENT_DATA;
    if (link->tls_max_minor) {
        unsigned tls_events = poll_tls(link);
        events |= tls_events;
        if (link->state == LINK_FAILED)
            return events;
        /* a handshake round may have queued bytes that are due at once (zero latency) */
        send_to_kernel(link);
    }
    if (link->state == LINK_OPEN && link->eof && !link->eof_reported &&
        emulator->now_us >= link->eof_visible_us &&
        (link->tls_max_minor ? (visible_raw(link) == 0 || link->failure) : eof_visible(link))) {
        link->eof_reported = true;
        link->state = LINK_CLOSED;
        if (link->fd >= 0) {
            close(link->fd);
            link->fd = -1;
        }
        emulator_note(emulator, "socket to %s:%u closed by the server", link->address,
                      (unsigned)link->port);
        events |= LINK_EVENT_PEER_CLOSED;
    }
    return events;
}

uint64_t link_next_event_us(const modem_link *link)
{
    const modem_emulator *emulator = link->emulator;
    uint64_t next = UINT64_MAX;
    const radio_mark *mark;
    if (link->state == LINK_FAILED || link->state == LINK_CLOSED)
        return UINT64_MAX;
    if (link->state == LINK_CONNECTING && !link->reported) {
        if (link->pending_failure || link->kernel_connected)
            return link->report_us;
        return emulator->now_us + 1000; /* the kernel has not answered yet: look again */
    }
    if ((mark = mark_front(&link->down_marks)) && mark->at_us < next)
        next = mark->at_us;
    if ((mark = mark_front(&link->up_marks)) && mark->at_us < next)
        next = mark->at_us;
    if (link->eof && !link->eof_reported && link->eof_visible_us < next)
        next = link->eof_visible_us;
    if (link->tls && !link->tls->handshake_done && next == UINT64_MAX)
        next = emulator->now_us + 1000;
    return next;
}

int link_fd(const modem_link *link, short *events)
{
    if (link->fd < 0 || link->state == LINK_FAILED || link->state == LINK_CLOSED)
        return -1;
    *events = 0;
    if (!link->kernel_connected)
        *events |= POLLOUT;
    else if (ring_room(&link->down) > 0 && !link->eof)
        *events |= POLLIN;
    if (link->kernel_connected && link->up.length)
        *events |= POLLOUT;
    return link->fd;
}
