/* The TLS test harness (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define MAX_PINS 32
#define MAX_WORKERS 1024
#define IO_TIMEOUT_S 5
#define SERVER_LIFETIME_S 120

/* ---- the PKI ------------------------------------------------------------------------------- */

static char pki_dir[1024];
static struct {
    char name[32];
    char value[64];
} pins[MAX_PINS];
static size_t pin_count;

void harness_die(const char *what)
{
    (void)fprintf(stderr, "harness: %s\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

int pki_init(void)
{
    const char *dir = getenv("CERTPIN_TEST_PKI");
    char path[1200];
    char line[256];
    FILE *f;

    if (dir == NULL || dir[0] == '\0') {
        (void)fprintf(stderr, "CERTPIN_TEST_PKI is not set: run the tests with ctest (fixture "
                              "pki) or set it to a directory made by tests/pki/make-pki.sh\n");
        return 0;
    }
    (void)snprintf(pki_dir, sizeof(pki_dir), "%s", dir);
    (void)snprintf(path, sizeof(path), "%s/pins.env", pki_dir);
    f = fopen(path, "r");
    if (f == NULL) {
        (void)fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
        return 0;
    }
    pin_count = 0;
    while (fgets(line, sizeof(line), f) != NULL && pin_count < MAX_PINS) {
        char *eq = strchr(line, '=');
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        if (strncmp(line, "PIN_", 4) != 0 || eq == NULL) {
            continue;
        }
        *eq = '\0';
        if (strlen(line + 4) >= sizeof(pins[0].name) || strlen(eq + 1) >= sizeof(pins[0].value)) {
            continue;
        }
        memcpy(pins[pin_count].name, line + 4, strlen(line + 4) + 1);
        memcpy(pins[pin_count].value, eq + 1, strlen(eq + 1) + 1);
        pin_count++;
    }
    (void)fclose(f);
    return pin_count > 0;
}

const char *pki_path(const char *file)
{
    static _Thread_local char slots[4][1200];
    static _Thread_local unsigned next;
    char *out = slots[next++ % 4];
    (void)snprintf(out, sizeof(slots[0]), "%s/%s", pki_dir, file);
    return out;
}

const char *pki_pin(const char *name)
{
    size_t i;
    for (i = 0; i < pin_count; i++) {
        if (strcmp(pins[i].name, name) == 0) {
            return pins[i].value;
        }
    }
    (void)fprintf(stderr, "harness: no pin %s in pins.env\n", name);
    abort();
}

void pki_pin_bytes(const char *name, unsigned char out[CERTPIN_PIN_LEN])
{
    if (certpin_pin_parse(pki_pin(name), out, NULL) != CERTPIN_OK) {
        harness_die("pins.env holds a pin certpin cannot parse");
    }
}

/* ---- policies ------------------------------------------------------------------------------ */

certpin_policy *policy_build(const policy_spec *spec)
{
    certpin_builder *b = certpin_builder_new();
    certpin_policy *p;
    certpin_error err;
    size_t i;

    if (b == NULL || certpin_builder_set_unpinned(b, spec->unpinned) != CERTPIN_OK) {
        harness_die("builder");
    }
    for (i = 0; i < 4 && spec->entries[i].host != NULL; i++) {
        const entry_spec *e = &spec->entries[i];
        const char *pin_text[4];
        const char *deny_text[3];
        certpin_domain d;
        size_t n;

        memset(&d, 0, sizeof(d));
        for (n = 0; n < 4 && e->pins[n] != NULL; n++) {
            pin_text[n] = pki_pin(e->pins[n]);
        }
        d.pins = pin_text;
        d.pin_count = n;
        for (n = 0; n < 3 && e->deny[n] != NULL; n++) {
            deny_text[n] = pki_pin(e->deny[n]);
        }
        d.deny = n > 0 ? deny_text : NULL;
        d.deny_count = n;
        d.host = e->host;
        d.expires = e->expires;
        d.on_expiry = e->on_expiry;
        d.mode = e->mode;
        if (certpin_builder_add(b, &d, &err) != CERTPIN_OK) {
            (void)fprintf(stderr, "harness: entry %s: %s\n", e->host, err.text);
            abort();
        }
    }
    p = certpin_builder_build(b, &err);
    if (p == NULL) {
        (void)fprintf(stderr, "harness: build: %s\n", err.text);
        abort();
    }
    certpin_builder_free(b);
    return p;
}

/* ---- sockets ------------------------------------------------------------------------------- */

void harness_set_timeouts(int fd)
{
    struct timeval tv;
    tv.tv_sec = IO_TIMEOUT_S;
    tv.tv_usec = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A loopback address of family with port. */
socklen_t harness_loopback(int family, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof(a));
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons((uint16_t)port);
        memcpy(ss, &a, sizeof(a));
        return sizeof(a);
    } else {
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        memcpy(ss, &a, sizeof(a));
        return sizeof(a);
    }
}

/* ---- the server ---------------------------------------------------------------------------- */

typedef struct ident_data {
    X509 *leaf;
    EVP_PKEY *key;
    STACK_OF(X509) * chain;
} ident_data;

struct tls_server {
    int fd;
    int port;
    SSL_CTX *ctx;
    ident_data ids[ID_COUNT];
    atomic_int serve;
    atomic_int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned handled;
    unsigned hellos;
    unsigned with_data;
    unsigned resumed;
    pthread_t workers[MAX_WORKERS];
    size_t worker_count;
};

static const struct {
    const char *chain;
    const char *key;
} ident_files[ID_COUNT] = {
    {"chain-legit.pem", "leaf.key"},      {"chain-rogue.pem", "rogue.key"},
    {"chain-padded.pem", "rogue.key"},    {"chain-untrusted.pem", "ca3-leaf.key"},
    {"chain-expired.pem", "expired.key"},
};

static void ident_load(ident_data *d, const char *chain_file, const char *key_file)
{
    FILE *f = fopen(pki_path(chain_file), "r");
    X509 *x;
    if (f == NULL) {
        harness_die(chain_file);
    }
    d->leaf = PEM_read_X509(f, NULL, NULL, NULL);
    d->chain = sk_X509_new_null();
    if (d->leaf == NULL || d->chain == NULL) {
        harness_die(chain_file);
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(d->chain, x)) {
            harness_die("push");
        }
    }
    ERR_clear_error(); /* the end of the file */
    (void)fclose(f);
    f = fopen(pki_path(key_file), "r");
    if (f == NULL) {
        harness_die(key_file);
    }
    d->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    (void)fclose(f);
    if (d->key == NULL) {
        harness_die(key_file);
    }
}

typedef struct worker_arg {
    tls_server *s;
    int fd;
} worker_arg;

static void *server_conn(void *arg)
{
    worker_arg *w = arg;
    tls_server *s = w->s;
    const ident_data *id = &s->ids[atomic_load(&s->serve)];
    SSL *ssl = SSL_new(s->ctx);
    int data = 0;
    int reused = 0;
    int hello = 0;
    unsigned char type;

    /* Record type 22 (RFC 8446 section 5.1): what a ClientHello arrives in. */
    if (recv(w->fd, &type, 1, MSG_PEEK) == 1 && type == 22) {
        hello = 1;
    }
    if (ssl != NULL && SSL_use_certificate(ssl, id->leaf) == 1 &&
        SSL_use_PrivateKey(ssl, id->key) == 1 && SSL_set1_chain(ssl, id->chain) == 1 &&
        SSL_set_fd(ssl, w->fd) == 1 && SSL_accept(ssl) == 1) {
        char buf[256];
        int n;
        reused = SSL_session_reused(ssl);
        n = SSL_read(ssl, buf, sizeof(buf));
        if (n > 0) {
            data = 1;
            (void)SSL_write(ssl, "OK\n", 3);
        }
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    (void)close(w->fd);
    ERR_clear_error();
    free(w);
    (void)pthread_mutex_lock(&s->lock);
    s->handled++;
    s->hellos += (unsigned)hello;
    s->with_data += (unsigned)data;
    s->resumed += (unsigned)reused;
    (void)pthread_cond_broadcast(&s->cond);
    (void)pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *server_main(void *arg)
{
    tls_server *s = arg;
    time_t deadline = time(NULL) + SERVER_LIFETIME_S;
    size_t i;

    while (!atomic_load(&s->stop) && time(NULL) < deadline) {
        struct pollfd p;
        worker_arg *w;
        int c;
        p.fd = s->fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        c = accept(s->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        harness_set_timeouts(c);
        w = malloc(sizeof(*w));
        if (w == NULL) {
            (void)close(c);
            continue;
        }
        w->s = s;
        w->fd = c;
        if (s->worker_count < MAX_WORKERS &&
            pthread_create(&s->workers[s->worker_count], NULL, server_conn, w) == 0) {
            s->worker_count++;
        } else {
            (void)server_conn(w);
        }
    }
    for (i = 0; i < s->worker_count; i++) {
        (void)pthread_join(s->workers[i], NULL);
    }
    return NULL;
}

tls_server *server_start(int family, identity id)
{
    tls_server *s = calloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    socklen_t len;
    int i;
    int one = 1;

    if (s == NULL) {
        harness_die("calloc");
    }
    s->fd = socket(family, SOCK_STREAM, 0);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    (void)setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    len = harness_loopback(family, 0, &ss);
    if (bind(s->fd, (struct sockaddr *)&ss, len) != 0 || listen(s->fd, 64) != 0) {
        (void)close(s->fd);
        free(s);
        return NULL;
    }
    len = sizeof(ss);
    if (getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0) {
        harness_die("getsockname");
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 a;
        memcpy(&a, &ss, sizeof(a));
        s->port = ntohs(a.sin6_port);
    } else {
        struct sockaddr_in a;
        memcpy(&a, &ss, sizeof(a));
        s->port = ntohs(a.sin_port);
    }
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || !SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(s->ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_session_id_context(s->ctx, (const unsigned char *)"certpin-tests", 13)) {
        harness_die("server SSL_CTX");
    }
    (void)SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_SERVER);
    /* Send exactly the bundle's certificates, nothing OpenSSL would add. */
    (void)SSL_CTX_set_mode(s->ctx, SSL_MODE_NO_AUTO_CHAIN);
    for (i = 0; i < ID_COUNT; i++) {
        ident_load(&s->ids[i], ident_files[i].chain, ident_files[i].key);
    }
    atomic_init(&s->serve, (int)id);
    atomic_init(&s->stop, 0);
    (void)pthread_mutex_init(&s->lock, NULL);
    (void)pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        harness_die("pthread_create");
    }
    return s;
}

void server_set_identity(tls_server *s, identity id) { atomic_store(&s->serve, (int)id); }

int server_port(const tls_server *s) { return s->port; }

int server_wait(tls_server *s, unsigned n)
{
    struct timespec until;
    int ok = 1;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    (void)pthread_mutex_lock(&s->lock);
    while (s->handled < n && ok) {
        ok = pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0;
    }
    ok = s->handled >= n;
    (void)pthread_mutex_unlock(&s->lock);
    return ok;
}

unsigned server_conns_with_data(tls_server *s)
{
    unsigned n;
    (void)pthread_mutex_lock(&s->lock);
    n = s->with_data;
    (void)pthread_mutex_unlock(&s->lock);
    return n;
}

unsigned server_hellos(tls_server *s)
{
    unsigned n;
    (void)pthread_mutex_lock(&s->lock);
    n = s->hellos;
    (void)pthread_mutex_unlock(&s->lock);
    return n;
}

unsigned server_resumed(tls_server *s)
{
    unsigned n;
    (void)pthread_mutex_lock(&s->lock);
    n = s->resumed;
    (void)pthread_mutex_unlock(&s->lock);
    return n;
}

void server_stop(tls_server *s)
{
    int i;
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stop, 1);
    (void)pthread_join(s->thread, NULL);
    (void)close(s->fd);
    for (i = 0; i < ID_COUNT; i++) {
        X509_free(s->ids[i].leaf);
        EVP_PKEY_free(s->ids[i].key);
        sk_X509_pop_free(s->ids[i].chain, X509_free);
    }
    SSL_CTX_free(s->ctx);
    (void)pthread_mutex_destroy(&s->lock);
    (void)pthread_cond_destroy(&s->cond);
    free(s);
}

const char *version_name(int version) { return version == TLS1_3_VERSION ? "tls1.3" : "tls1.2"; }
