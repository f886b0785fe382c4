/* What the in-process test servers share (the TLS tests' server in harness.c, the libcurl tests'
 * HTTPS server and proxy in tests/curl/curl_server.c), whatever they serve: the test PKI's
 * identities as certificates and keys, the server SSL_CTX, and a loopback TCP server: a listening
 * socket on 127.0.0.1 or ::1 (port 0) and an accept thread that gives every connection (with the
 * I/O time-outs set) a thread of its own running the server's connection function.
 *
 * Every server stops by itself: the accept thread ends after a lifetime limit, every connection
 * has send and receive time-outs, and base_stop shuts the connections still open down and joins
 * every thread. */
#ifndef CERTPIN_TEST_TLS_SERVER_BASE_H
#define CERTPIN_TEST_TLS_SERVER_BASE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "harness.h"

/* ---- identities ------------------------------------------------------------------------------ */

/* An identity's chain bundle (the leaf, then the certificates sent after it) and its key. */
typedef struct ident_data {
    X509 *leaf;
    EVP_PKEY *key;
    STACK_OF(X509) * chain;
} ident_data;

/* Loads an identity from the PKI; aborts on failure (pki_init must have succeeded). */
void ident_load(ident_data *d, identity id);
void ident_free(ident_data *d);
/* Makes ssl serve the identity: its leaf, its key, and exactly its chain. 1 on success. */
int ident_use(SSL *ssl, const ident_data *d);

/* A server SSL_CTX: TLS 1.2 up to max_version (0: TLS 1.3), a server session cache under
 * session_id_context, session tickets, and no certificate added to what ident_use sets. Aborts on
 * failure. */
SSL_CTX *base_ssl_ctx(int max_version, const char *session_id_context);

/* Every identity loaded, the one served now (switched between connections) and the SSL_CTX they
 * all share: one session cache and one set of ticket keys, so that switching the identity makes a
 * server that would resume the sessions of the one served before. */
typedef struct ident_set {
    SSL_CTX *ctx;
    ident_data ids[ID_COUNT];
    atomic_int serve;
} ident_set;

/* Loads every identity and makes the SSL_CTX (base_ssl_ctx); serves serve. Aborts on failure. */
void ident_set_load(ident_set *t, identity serve, int max_version, const char *session_id_context);
void ident_set_free(ident_set *t);
void ident_set_serve(ident_set *t, identity id);
identity ident_set_serving(ident_set *t);
/* A new SSL for a connection, serving the identity served now; NULL on failure. */
SSL *ident_set_ssl(ident_set *t);

/* 1 when the first byte waiting on a new connection is record type 22 (RFC 8446 section 5.1): a
 * handshake record, what a ClientHello arrives in. Reads nothing (MSG_PEEK). */
int base_peek_hello(int fd);

/* ---- the loopback TCP server ------------------------------------------------------------------
 */

#define BASE_MAX_CONNS 1024

typedef struct base_server base_server;
/* Serves one connection (in a thread of its own), fd set up with the I/O time-outs. It must call
 * base_handshake_ended once, when its TLS handshake has ended (completed or not). The base closes
 * fd when it returns. */
typedef void (*conn_fn)(base_server *b, int fd);

struct base_server {
    int fd; /* listening */
    int port;
    int family;
    conn_fn serve;
    void *owner; /* the server that embeds this base (for conn_fn) */
    atomic_int stop;
    pthread_t thread;
    /* lock guards what follows; conn_fn may take it for its own counters (cond is signalled when
     * finished grows, and at every base_touch or base_handshake_ended). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t workers[BASE_MAX_CONNS];
    size_t worker_count;
    int open_fds[BASE_MAX_CONNS + 1]; /* connections being served, for base_stop */
    size_t open_count;
    unsigned finished;     /* connections served and closed */
    unsigned in_handshake; /* connections accepted whose handshake has not ended yet */
    struct timespec last_activity;
};

/* Starts listening on loopback of family (0: AF_INET), port 0, and the accept thread. Returns 0
 * when the family is unavailable. */
int base_start(base_server *b, int family, conn_fn serve, void *owner);
/* Records activity on a connection (for base_settle). */
void base_touch(base_server *b);
/* Called by conn_fn when its handshake has ended. */
void base_handshake_ended(base_server *b);
/* Waits until no connection is in its handshake and nothing happened for 100 ms (5 s at most). */
void base_settle(base_server *b);
/* Waits (up to 10 s) until n connections in all have been served and closed; returns 0 on
 * time-out. */
int base_wait(base_server *b, unsigned n);
/* Stops accepting, shuts the open connections down, joins every thread, closes the socket. */
void base_stop(base_server *b);

#endif /* CERTPIN_TEST_TLS_SERVER_BASE_H */
