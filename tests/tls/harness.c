/* The TLS test harness (see harness.h). */
#include "harness.h"
#include "server_base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>

#define MAX_PINS 32

/* ---- the PKI ------------------------------------------------------------------------------- */

static char pki_dir[1024];
static struct {
    char name[32];
    char value[64];
} pins[MAX_PINS];
static size_t pin_count;

_Noreturn void harness_die(const char *what)
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
    tv.tv_sec = HARNESS_IO_TIMEOUT_S;
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

struct tls_server {
    base_server base;
    ident_set idents;
    /* under base.lock */
    unsigned hellos;
    unsigned with_data;
    unsigned resumed;
};

/* One connection: the handshake, then one read answered "OK\n" if anything arrived. */
static void server_conn(base_server *b, int fd)
{
    tls_server *s = b->owner;
    SSL *ssl = ident_set_ssl(&s->idents);
    int data = 0;
    int reused = 0;
    int hello = base_peek_hello(fd);
    int ok = ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1;

    base_handshake_ended(b);
    if (ok) {
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
    (void)pthread_mutex_lock(&b->lock);
    s->hellos += (unsigned)hello;
    s->with_data += (unsigned)data;
    s->resumed += (unsigned)reused;
    (void)pthread_mutex_unlock(&b->lock);
}

tls_server *server_start(int family, identity id)
{
    tls_server *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        harness_die("calloc");
    }
    ident_set_load(&s->idents, id, 0, "certpin-tests");
    if (!base_start(&s->base, family, server_conn, s)) {
        ident_set_free(&s->idents);
        free(s);
        return NULL;
    }
    return s;
}

void server_set_identity(tls_server *s, identity id) { ident_set_serve(&s->idents, id); }

int server_port(const tls_server *s) { return s->base.port; }

int server_wait(tls_server *s, unsigned n) { return base_wait(&s->base, n); }

/* A counter of the server's, read under its lock. */
static unsigned server_count(tls_server *s, const unsigned *counter)
{
    unsigned n;
    (void)pthread_mutex_lock(&s->base.lock);
    n = *counter;
    (void)pthread_mutex_unlock(&s->base.lock);
    return n;
}

unsigned server_conns_with_data(tls_server *s) { return server_count(s, &s->with_data); }

unsigned server_hellos(tls_server *s) { return server_count(s, &s->hellos); }

unsigned server_resumed(tls_server *s) { return server_count(s, &s->resumed); }

void server_stop(tls_server *s)
{
    if (s == NULL) {
        return;
    }
    base_stop(&s->base);
    ident_set_free(&s->idents);
    free(s);
}

const char *version_name(int version) { return version == TLS1_3_VERSION ? "tls1.3" : "tls1.2"; }
