/* The conformance suite's columns: one client per TLS stack, each connecting through that stack's
 * certpin adapter to the harness's OpenSSL server, with the same options and the same outcome.
 * A new adapter is a new column (column_<stack>.c and a line in test_conformance.c), never a copy
 * of the scenarios. */
#ifndef CERTPIN_TEST_TLS_CONFORMANCE_H
#define CERTPIN_TEST_TLS_CONFORMANCE_H

#include <stddef.h>

#include "harness.h"

typedef enum host_given {
    GIVE_NAME = 0, /* the stack is asked to verify host (and SNI is host) */
    GIVE_NONE,     /* no host set to verify (SNI is still sent where the stack allows) */
    GIVE_IP        /* the stack is asked to verify ip */
} host_given;

/* How the offered session reaches the stack. */
typedef enum offer_way {
    OFFER_CERTPIN = 0, /* through certpin where the adapter owns session setting */
    OFFER_DIRECT       /* with the stack's own call (SSL_set_session, mbedtls_ssl_set_session,
                          gnutls_session_set_data), bypassing certpin where it can be bypassed */
} offer_way;

typedef struct conn_opts {
    int port;
    int family;        /* AF_INET or AF_INET6 */
    int tls13;         /* 0: TLS 1.2 only; 1: TLS 1.3 only */
    const char *trust; /* PKI file name */
    certpin_ctx *pin;  /* NULL: the stack without certpin (a control) */
    host_given given;
    const char *host; /* default api.example.com */
    const char *ip;
    int verify_off;      /* the application turns the stack's verification off */
    const void *session; /* a session from this column's earlier connection (borrowed) */
    offer_way offer;
    const void *session2; /* then this one too, with the stack's own call (which replaces the
                             first in the stack) */
    int want_session;     /* fill outcome.session */
    int replace_verify;   /* after attaching, the application sets the stack's verification
                             callback itself (which replaces certpin's) */
} conn_opts;

typedef struct conn_outcome {
    int connected;  /* the handshake succeeded */
    int replied;    /* the request was sent and the server's reply read */
    int resumed;    /* the stack says the session was resumed (-1: it cannot say) */
    int has_result; /* the adapter had a result for the connection */
    certpin_verdict verdict;
    unsigned warnings;
    int depth;
    char host[CERTPIN_HOST_MAX];
    char reason[512];
    char policy_id[65];
    char error[512]; /* the stack's error, for messages */
    void *session;   /* with want_session, when the connection left one (column's type) */
} conn_outcome;

typedef struct column {
    const char *name;
    int tls13;             /* the stack speaks TLS 1.3 */
    int ip_san;            /* the stack matches IP addresses against iPAddress subjectAltNames */
    int owns_sessions;     /* certpin offers sessions through its own call (a direct offer is
                              refused even for a session certpin verified) */
    int sees_direct_offer; /* a session offered with the stack's own call is refused before the
                              ClientHello (GnuTLS: only at the end of the handshake, as it has
                              no public way to tell a client offers a session) */
    int binds_tls13_resumption; /* under TLS 1.3 too, a resumed session is checked to be the one
                              certpin offered (GnuTLS: a TLS 1.2 check only) */
    int guards_handshake;     /* the adapter fails a handshake its check did not run in (the OpenSSL
                                 adapter instead reports not-checked: see certpin/openssl.h) */
    int offers_sessions;      /* the application offers a given session (libcurl: its cache does) */
    int drops_stale_sessions; /* a session certpin would not resume is dropped before the
                              ClientHello and the connection makes a full, checked handshake,
                              instead of failing (libcurl) */
    int gives_no_host;        /* the application can connect without a host to verify */
    int verifies_when_off;    /* with the application's verification off, certpin still verifies
                                 and decides (libcurl: refuses every transfer) */
    /* How the stack reports a handshake certpin failed: one of these is in conn_outcome.error. */
    const char *refusal[3];
    /* Connects, handshakes, sends "GET /secret API-KEY" on success and reads the reply. Fills out
     * (always). Returns 0 only on a harness failure. */
    int (*run)(const conn_opts *o, conn_outcome *out);
    void (*session_free)(void *session);
} column;

/* Copies what every column reports of a result into out. */
void outcome_from_result(const certpin_result *r, conn_outcome *out);

extern const column column_openssl;
extern const column column_curl;
extern const column column_mbedtls;
extern const column column_gnutls;

#endif /* CERTPIN_TEST_TLS_CONFORMANCE_H */
