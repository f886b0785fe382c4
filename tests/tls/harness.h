/* The TLS test harness: the test PKI, policies from PKI pin names, an in-process OpenSSL server
 * on loopback that records whether any application byte reached it, and a client that connects
 * through the OpenSSL adapter. Every server stops by itself (accept and read time-outs, joined
 * threads); nothing outlives the test process. */
#ifndef CERTPIN_TEST_TLS_HARNESS_H
#define CERTPIN_TEST_TLS_HARNESS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "certpin/certpin.h"
#include "certpin/openssl.h"

/* ---- the PKI (tests/pki/make-pki.sh, found through $CERTPIN_TEST_PKI) ---------------------- */

/* Loads pins.env. Returns 0 (and says why on stderr) when the PKI is missing. */
int pki_init(void);
/* The absolute path of a PKI file, in a static buffer of its own per call slot (4 slots). */
const char *pki_path(const char *file);
/* The pin of a PKI name as pins.env spells it without its prefix ("CA1_INT"); aborts if absent. */
const char *pki_pin(const char *name);
/* The pin of a PKI name as 32 bytes. */
void pki_pin_bytes(const char *name, unsigned char out[CERTPIN_PIN_LEN]);

/* ---- policies -------------------------------------------------------------------------------- */

typedef struct entry_spec {
    const char *host;         /* NULL ends the list */
    const char *pins[4];      /* PKI names; NULL ends */
    const char *deny[3];
    const char *expires;      /* NULL: never */
    certpin_on_expiry on_expiry;
    certpin_mode mode;
} entry_spec;

typedef struct policy_spec {
    certpin_unpinned unpinned;
    entry_spec entries[4];
} policy_spec;

/* Builds a policy with certpin_builder_*; aborts on failure (a test bug). */
certpin_policy *policy_build(const policy_spec *spec);

/* ---- the server ------------------------------------------------------------------------------ */

/* What the server serves: a chain bundle and its key. */
typedef enum identity {
    ID_LEGIT = 0,  /* chain-legit.pem: leaf + ca1-int */
    ID_ROGUE,      /* chain-rogue.pem: rogue + ca2-int */
    ID_PADDED,     /* chain-padded.pem: rogue + ca2-int + ca1-int + ca1-root */
    ID_UNTRUSTED,  /* chain-untrusted.pem: ca3-leaf */
    ID_EXPIRED,    /* chain-expired.pem: expired + ca1-int */
    ID_COUNT
} identity;

typedef struct tls_server tls_server;

/* Starts a server on 127.0.0.1 (family AF_INET) or ::1 (AF_INET6), port 0, TLS 1.2 and 1.3, with
 * a session cache and session tickets. Every identity shares them: switching the identity
 * between connections makes a rogue server that would resume the legit server's sessions.
 * Returns NULL when the family is unavailable. */
tls_server *server_start(int family, identity id);
void server_set_identity(tls_server *s, identity id);
int server_port(const tls_server *s);
/* Waits (up to 10 s) until n connections in all have been handled; returns 0 on time-out. */
int server_wait(tls_server *s, unsigned n);
/* Connections on which at least one application byte arrived. */
unsigned server_conns_with_data(tls_server *s);
/* Connections whose first record was a handshake record (a ClientHello). */
unsigned server_hellos(tls_server *s);
/* Connections the server resumed. */
unsigned server_resumed(tls_server *s);
void server_stop(tls_server *s);

/* ---- the client ------------------------------------------------------------------------------ */

typedef enum host_mode {
    HOST_NAME = 0,     /* SSL_set1_host(host) */
    HOST_NONE,         /* nothing set to verify (SNI still sent) */
    HOST_TWO,          /* SSL_set1_host(host) + SSL_add1_host(host2) */
    HOST_NAME_AND_IP,  /* SSL_set1_host(host) + set1_ip_asc(ip) */
    HOST_IP            /* X509_VERIFY_PARAM_set1_ip_asc(ip) only */
} host_mode;

typedef enum app_cb {
    APP_CB_NONE = 0,
    APP_CB_COUNT,       /* counts calls, returns preverify_ok */
    APP_CB_REJECT_LEAF, /* rejects depth 0 */
    APP_CB_ACCEPT_ALL   /* returns 1 whatever OpenSSL found */
} app_cb;

typedef struct client_opts {
    int port;
    int family;              /* 0: AF_INET */
    int version;             /* TLS1_2_VERSION or TLS1_3_VERSION */
    const char *trust;       /* PKI file name */
    certpin_ctx *pin;        /* attached to the SSL_CTX; NULL: plain OpenSSL */
    int prepare_only;        /* attach_ctx(NULL) and certpin_openssl_attach(ssl, pin) instead */
    int ssl_before_attach;   /* SSL_new first, certpin_openssl_attach_ctx(ctx, pin) after (wrong) */
    SSL_CTX *ctx;            /* use this SSL_CTX (trust, version, certpin already set) */
    host_mode hosts;
    const char *host;        /* default "api.example.com"; also the SNI */
    const char *host2;
    const char *ip;
    int verify_none;
    app_cb cb;
    SSL_SESSION *session;    /* offered (borrowed) */
    int want_session;        /* return SSL_get1_session after the exchange */
} client_opts;

typedef struct client_outcome {
    int connected;           /* SSL_connect returned 1 */
    int replied;             /* the server's reply arrived */
    int reused;              /* SSL_session_reused */
    int has_result;          /* certpin_openssl_result was not NULL */
    certpin_verdict verdict;
    unsigned warnings;
    int depth;
    int port;                /* certpin_result_port */
    char host[CERTPIN_HOST_MAX];
    char reason[512];
    char policy_id[65];      /* "" when the result holds no policy */
    char explain[2048];
    char ssl_error[256];     /* the first OpenSSL error, "" if none */
    long verify_result;      /* SSL_get_verify_result */
    int ssl_get_error;       /* SSL_get_error of a failed SSL_connect */
    int app_cb_calls;
    SSL_SESSION *session;    /* with want_session; the caller frees it */
    int session_replaced;    /* the session after the exchange is not the handshake's (a ticket) */
} client_outcome;

/* Makes a client SSL_CTX: trust, exactly version, verify mode and callback; attaches pin (which
 * may be NULL: prepare only) unless plain is set. */
SSL_CTX *client_ctx_new(const char *trust, int version, int verify_none, app_cb cb,
                        certpin_ctx *pin, int plain);
/* Connects, handshakes, and on success sends "GET /secret API-KEY" and reads the reply. Fills out
 * (always). Returns 0 only on a harness failure (socket). */
int client_run(const client_opts *o, client_outcome *out);

/* "tls1.2" / "tls1.3" */
const char *version_name(int version);

#endif /* CERTPIN_TEST_TLS_HARNESS_H */
