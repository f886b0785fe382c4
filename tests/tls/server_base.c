/* What the in-process test servers share (see server_base.h). */
#include "server_base.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define LIFETIME_S 120

/* ---- identities ------------------------------------------------------------------------------ */

static const struct {
    const char *chain;
    const char *key;
} ident_files[ID_COUNT] = {
    {"chain-legit.pem", "leaf.key"},      {"chain-rogue.pem", "rogue.key"},
    {"chain-padded.pem", "rogue.key"},    {"chain-untrusted.pem", "ca3-leaf.key"},
    {"chain-expired.pem", "expired.key"},
};

void ident_load(ident_data *d, identity id)
{
    FILE *f = fopen(pki_path(ident_files[id].chain), "r");
    X509 *x;
    if (f == NULL) {
        harness_die(ident_files[id].chain);
    }
    d->leaf = PEM_read_X509(f, NULL, NULL, NULL);
    d->chain = sk_X509_new_null();
    if (d->leaf == NULL || d->chain == NULL) {
        harness_die(ident_files[id].chain);
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(d->chain, x)) {
            harness_die("push");
        }
    }
    ERR_clear_error(); /* the end of the file */
    (void)fclose(f);
    f = fopen(pki_path(ident_files[id].key), "r");
    if (f == NULL) {
        harness_die(ident_files[id].key);
    }
    d->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    (void)fclose(f);
    if (d->key == NULL) {
        harness_die(ident_files[id].key);
    }
}

void ident_free(ident_data *d)
{
    X509_free(d->leaf);
    EVP_PKEY_free(d->key);
    sk_X509_pop_free(d->chain, X509_free);
}

int ident_use(SSL *ssl, const ident_data *d)
{
    return SSL_use_certificate(ssl, d->leaf) == 1 && SSL_use_PrivateKey(ssl, d->key) == 1 &&
           SSL_set1_chain(ssl, d->chain) == 1;
}

SSL_CTX *base_ssl_ctx(int max_version, const char *session_id_context)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, max_version != 0 ? max_version : TLS1_3_VERSION) ||
        !SSL_CTX_set_session_id_context(ctx, (const unsigned char *)session_id_context,
                                        (unsigned)strlen(session_id_context))) {
        harness_die("server SSL_CTX");
    }
    (void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    /* Send exactly the bundle's certificates, nothing OpenSSL would add. */
    (void)SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    return ctx;
}

void ident_set_load(ident_set *t, identity serve, int max_version, const char *session_id_context)
{
    int i;
    t->ctx = base_ssl_ctx(max_version, session_id_context);
    for (i = 0; i < ID_COUNT; i++) {
        ident_load(&t->ids[i], (identity)i);
    }
    atomic_init(&t->serve, (int)serve);
}

void ident_set_free(ident_set *t)
{
    int i;
    for (i = 0; i < ID_COUNT; i++) {
        ident_free(&t->ids[i]);
    }
    SSL_CTX_free(t->ctx);
}

void ident_set_serve(ident_set *t, identity id) { atomic_store(&t->serve, (int)id); }

identity ident_set_serving(ident_set *t) { return (identity)atomic_load(&t->serve); }

SSL *ident_set_ssl(ident_set *t)
{
    SSL *ssl = SSL_new(t->ctx);
    if (ssl != NULL && !ident_use(ssl, &t->ids[atomic_load(&t->serve)])) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

int base_peek_hello(int fd)
{
    unsigned char type = 0;
    return recv(fd, &type, 1, MSG_PEEK) == 1 && type == 22;
}

/* ---- the loopback TCP server ------------------------------------------------------------------
 */

/* A listening socket on loopback, port 0; its port in *port. -1 when the family is missing. */
static int listen_loopback(int family, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = harness_loopback(family, 0, &ss);
    int one = 1;
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
        (void)close(fd);
        return -1;
    }
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        harness_die("getsockname");
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 a;
        memcpy(&a, &ss, sizeof(a));
        *port = ntohs(a.sin6_port);
    } else {
        struct sockaddr_in a;
        memcpy(&a, &ss, sizeof(a));
        *port = ntohs(a.sin_port);
    }
    return fd;
}

typedef struct conn_arg {
    base_server *b;
    int fd;
} conn_arg;

/* One connection: the server's conn_fn, then the socket closed and counted. */
static void *base_conn(void *arg)
{
    conn_arg *w = arg;
    base_server *b = w->b;
    int fd = w->fd;
    size_t i;
    free(w);
    b->serve(b, fd);
    (void)pthread_mutex_lock(&b->lock);
    for (i = 0; i < b->open_count; i++) {
        if (b->open_fds[i] == fd) {
            b->open_fds[i] = b->open_fds[--b->open_count];
            break;
        }
    }
    (void)close(fd);
    b->finished++;
    (void)pthread_cond_broadcast(&b->cond);
    (void)pthread_mutex_unlock(&b->lock);
    ERR_clear_error();
    return NULL;
}

static void *base_main(void *arg)
{
    base_server *b = arg;
    time_t deadline = time(NULL) + LIFETIME_S;
    while (!atomic_load(&b->stop) && time(NULL) < deadline) {
        struct pollfd p;
        conn_arg *w;
        int c;
        int threaded;
        p.fd = b->fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        c = accept(b->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        harness_set_timeouts(c);
        w = malloc(sizeof(*w));
        if (w == NULL) {
            (void)close(c);
            continue;
        }
        w->b = b;
        w->fd = c;
        (void)pthread_mutex_lock(&b->lock);
        b->in_handshake++;
        b->open_fds[b->open_count++] = c;
        threaded = b->worker_count < BASE_MAX_CONNS &&
                   pthread_create(&b->workers[b->worker_count], NULL, base_conn, w) == 0;
        if (threaded) {
            b->worker_count++;
        }
        (void)pthread_mutex_unlock(&b->lock);
        if (!threaded) {
            /* No thread for it: served here, before the next connection is accepted. */
            (void)base_conn(w);
        }
    }
    return NULL;
}

int base_start(base_server *b, int family, conn_fn serve, void *owner)
{
    memset(b, 0, sizeof(*b));
    b->family = family != 0 ? family : AF_INET;
    b->fd = listen_loopback(b->family, &b->port);
    if (b->fd < 0) {
        return 0;
    }
    b->serve = serve;
    b->owner = owner;
    atomic_init(&b->stop, 0);
    (void)pthread_mutex_init(&b->lock, NULL);
    (void)pthread_cond_init(&b->cond, NULL);
    (void)clock_gettime(CLOCK_MONOTONIC, &b->last_activity);
    if (pthread_create(&b->thread, NULL, base_main, b) != 0) {
        harness_die("pthread_create");
    }
    return 1;
}

void base_touch(base_server *b)
{
    (void)pthread_mutex_lock(&b->lock);
    (void)clock_gettime(CLOCK_MONOTONIC, &b->last_activity);
    (void)pthread_cond_broadcast(&b->cond);
    (void)pthread_mutex_unlock(&b->lock);
}

void base_handshake_ended(base_server *b)
{
    (void)pthread_mutex_lock(&b->lock);
    b->in_handshake--;
    (void)clock_gettime(CLOCK_MONOTONIC, &b->last_activity);
    (void)pthread_cond_broadcast(&b->cond);
    (void)pthread_mutex_unlock(&b->lock);
}

void base_settle(base_server *b)
{
    struct timespec start;
    (void)clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        long quiet_ms;
        long waited_ms;
        unsigned busy;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        (void)pthread_mutex_lock(&b->lock);
        busy = b->in_handshake;
        quiet_ms = (now.tv_sec - b->last_activity.tv_sec) * 1000 +
                   (now.tv_nsec - b->last_activity.tv_nsec) / 1000000;
        (void)pthread_mutex_unlock(&b->lock);
        waited_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if ((busy == 0 && quiet_ms >= 100) || waited_ms > 5000) {
            return;
        }
        (void)usleep(20000);
    }
}

int base_wait(base_server *b, unsigned n)
{
    struct timespec until;
    int ok = 1;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    (void)pthread_mutex_lock(&b->lock);
    while (b->finished < n && ok) {
        ok = pthread_cond_timedwait(&b->cond, &b->lock, &until) == 0;
    }
    ok = b->finished >= n;
    (void)pthread_mutex_unlock(&b->lock);
    return ok;
}

void base_stop(base_server *b)
{
    size_t i;
    atomic_store(&b->stop, 1);
    (void)pthread_join(b->thread, NULL);
    (void)pthread_mutex_lock(&b->lock);
    for (i = 0; i < b->open_count; i++) {
        (void)shutdown(b->open_fds[i], SHUT_RDWR);
    }
    (void)pthread_mutex_unlock(&b->lock);
    for (i = 0; i < b->worker_count; i++) {
        (void)pthread_join(b->workers[i], NULL);
    }
    (void)close(b->fd);
    (void)pthread_mutex_destroy(&b->lock);
    (void)pthread_cond_destroy(&b->cond);
}
