/* The OpenSSL client of the TLS tests: connects through the OpenSSL adapter (harness_openssl.c). */
#ifndef CERTPIN_TEST_TLS_HARNESS_OPENSSL_H
#define CERTPIN_TEST_TLS_HARNESS_OPENSSL_H

#include <openssl/ssl.h>

#include "certpin/openssl.h"
#include "harness.h"

/* ---- the client ------------------------------------------------------------------------------ */

typedef enum host_mode {
    HOST_NAME = 0,    /* SSL_set1_host(host) */
    HOST_NONE,        /* nothing set to verify (SNI still sent) */
    HOST_TWO,         /* SSL_set1_host(host) + SSL_add1_host(host2) */
    HOST_NAME_AND_IP, /* SSL_set1_host(host) + set1_ip_asc(ip) */
    HOST_IP           /* X509_VERIFY_PARAM_set1_ip_asc(ip) only */
} host_mode;

typedef enum app_cb {
    APP_CB_NONE = 0,
    APP_CB_COUNT,       /* counts calls, returns preverify_ok */
    APP_CB_REJECT_LEAF, /* rejects depth 0 */
    APP_CB_ACCEPT_ALL   /* returns 1 whatever OpenSSL found */
} app_cb;

typedef struct client_opts {
    int port;
    int family;            /* 0: AF_INET */
    int version;           /* TLS1_2_VERSION or TLS1_3_VERSION */
    const char *trust;     /* PKI file name */
    certpin_ctx *pin;      /* attached to the SSL_CTX; NULL: plain OpenSSL */
    int prepare_only;      /* attach_ctx(NULL) and certpin_openssl_attach(ssl, pin) instead */
    int ssl_before_attach; /* SSL_new first, certpin_openssl_attach_ctx(ctx, pin) after (wrong) */
    SSL_CTX *ctx;          /* use this SSL_CTX (trust, version, certpin already set) */
    host_mode hosts;
    const char *host; /* default "api.example.com"; also the SNI */
    const char *host2;
    const char *ip;
    int verify_none;
    app_cb cb;
    SSL_SESSION *session; /* offered (borrowed) */
    int want_session;     /* return SSL_get1_session after the exchange */
} client_opts;

typedef struct client_outcome {
    int connected;  /* SSL_connect returned 1 */
    int replied;    /* the server's reply arrived */
    int reused;     /* SSL_session_reused */
    int has_result; /* certpin_openssl_result was not NULL */
    certpin_verdict verdict;
    unsigned warnings;
    int depth;
    int port; /* certpin_result_port */
    char host[CERTPIN_HOST_MAX];
    char reason[512];
    char policy_id[65]; /* "" when the result holds no policy */
    char explain[2048];
    char ssl_error[256]; /* the first OpenSSL error, "" if none */
    long verify_result;  /* SSL_get_verify_result */
    int ssl_get_error;   /* SSL_get_error of a failed SSL_connect */
    int app_cb_calls;
    SSL_SESSION *session; /* with want_session; the caller frees it */
    int session_replaced; /* the session after the exchange is not the handshake's (a ticket) */
} client_outcome;

/* Makes a client SSL_CTX: trust, exactly version, verify mode and callback; attaches pin (which
 * may be NULL: prepare only) unless plain is set. */
SSL_CTX *client_ctx_new(const char *trust, int version, int verify_none, app_cb cb,
                        certpin_ctx *pin, int plain);
/* Connects, handshakes, and on success sends "GET /secret API-KEY" and reads the reply. Fills out
 * (always). Returns 0 only on a harness failure (socket). */
int client_run(const client_opts *o, client_outcome *out);

#endif /* CERTPIN_TEST_TLS_HARNESS_OPENSSL_H */
