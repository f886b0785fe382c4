/* The certpin command: live connections on each TLS stack (--tls openssl|mbedtls|gnutls), each
 * with that stack's certpin adapter attached as an application would, so that a user can see what
 * each stack accepts. OpenSSL's connection is live.c's; this file makes the mbedTLS and GnuTLS
 * ones and gives all three the same view: certpin's result, the chain the server sent and the
 * chain the stack verified (as OpenSSL X509 objects, which the command prints), the protocol. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef CERTPIN_CLI_MBEDTLS
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#include <certpin/mbedtls.h>
#endif
#ifdef CERTPIN_CLI_GNUTLS
#include <gnutls/gnutls.h>

#include <certpin/gnutls.h>
#endif

#include "cli.h"

/* The system trust store for the stacks that read one file (Debian's bundle, which
 * update-ca-certificates makes): OpenSSL uses its default paths. */
#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct cli_client {
    cli_tls tls;
    SSL_CTX *ssl_ctx; /* openssl */
    certpin_ctx *pin;
    STACK_OF(X509) * anchors; /* the trust store, to show the anchor of a verified chain */
#ifdef CERTPIN_CLI_MBEDTLS
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    int mbedtls_ready;
#endif
#ifdef CERTPIN_CLI_GNUTLS
    gnutls_certificate_credentials_t cred;
#endif
};

int cli_tls_parse(const char *cmd, const char *text, cli_tls *out)
{
    if (strcmp(text, "openssl") == 0) {
        *out = CLI_TLS_OPENSSL;
        return CLI_EXIT_OK;
    }
    if (strcmp(text, "mbedtls") == 0) {
#ifdef CERTPIN_CLI_MBEDTLS
        *out = CLI_TLS_MBEDTLS;
        return CLI_EXIT_OK;
#else
        return cli_usage_error(cmd, "--tls mbedtls: this certpin was built without mbedTLS");
#endif
    }
    if (strcmp(text, "gnutls") == 0) {
#ifdef CERTPIN_CLI_GNUTLS
        *out = CLI_TLS_GNUTLS;
        return CLI_EXIT_OK;
#else
        return cli_usage_error(cmd, "--tls gnutls: this certpin was built without GnuTLS");
#endif
    }
    return cli_usage_error(cmd, "--tls '%s': use openssl, mbedtls or gnutls", text);
}

const char *cli_tls_name(cli_tls tls)
{
    switch (tls) {
    case CLI_TLS_MBEDTLS: return "mbedtls";
    case CLI_TLS_GNUTLS: return "gnutls";
    case CLI_TLS_OPENSSL:
    default: return "openssl";
    }
}

const char *cli_tls_library(cli_tls tls)
{
    switch (tls) {
#ifdef CERTPIN_CLI_MBEDTLS
    case CLI_TLS_MBEDTLS: return "mbed TLS " MBEDTLS_VERSION_STRING;
#endif
#ifdef CERTPIN_CLI_GNUTLS
    case CLI_TLS_GNUTLS: return "GnuTLS " GNUTLS_VERSION;
#endif
    case CLI_TLS_OPENSSL:
    default: return OpenSSL_version(OPENSSL_VERSION);
    }
}

/* The certificates of a PEM file (the trust store), for naming the anchor of a verified chain. */
static STACK_OF(X509) * read_anchors(const char *file)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(file, "r");
    X509 *x;
    if (sk == NULL || f == NULL) {
        if (f != NULL) {
            (void)fclose(f);
        }
        return sk;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            break;
        }
    }
    ERR_clear_error(); /* the end of the file */
    (void)fclose(f);
    return sk;
}

void cli_client_free(cli_client *cl)
{
    if (cl == NULL) {
        return;
    }
    SSL_CTX_free(cl->ssl_ctx);
    certpin_ctx_free(cl->pin);
    sk_X509_pop_free(cl->anchors, X509_free);
#ifdef CERTPIN_CLI_MBEDTLS
    if (cl->mbedtls_ready) {
        mbedtls_ssl_config_free(&cl->conf);
        mbedtls_x509_crt_free(&cl->ca);
        mbedtls_ctr_drbg_free(&cl->drbg);
        mbedtls_entropy_free(&cl->entropy);
    }
#endif
#ifdef CERTPIN_CLI_GNUTLS
    if (cl->cred != NULL) {
        gnutls_certificate_free_credentials(cl->cred);
    }
#endif
    free(cl);
}

cli_client *cli_client_new(cli_tls tls, const char *cafile, certpin_ctx *pin, int64_t at)
{
    cli_client *cl = calloc(1, sizeof(*cl));
    const char *trust = cafile != NULL ? cafile : SYSTEM_BUNDLE;

    if (cl == NULL) {
        cli_error("out of memory");
        return NULL;
    }
    /* A server that closes the connection while we write must not kill the command (write() on
     * a closed socket raises SIGPIPE), whichever stack writes: OpenSSL and mbedTLS 2.28 write
     * with write() (GnuTLS is also told GNUTLS_NO_SIGNAL). */
    (void)signal(SIGPIPE, SIG_IGN);
    cl->tls = tls;
    cl->pin = certpin_ctx_ref(pin);
    if (tls == CLI_TLS_OPENSSL) {
        cl->ssl_ctx = cli_tls_ctx(cafile, pin, at);
        if (cl->ssl_ctx == NULL) {
            cli_client_free(cl);
            return NULL;
        }
        return cl;
    }
    if (at != 0) {
        cli_error("--at sets the verification time of OpenSSL only: mbedTLS and GnuTLS verify at "
                  "the current time");
        cli_client_free(cl);
        return NULL;
    }
    cl->anchors = read_anchors(trust);
#ifdef CERTPIN_CLI_MBEDTLS
    if (tls == CLI_TLS_MBEDTLS) {
        int ret;
        mbedtls_ssl_config_init(&cl->conf);
        mbedtls_x509_crt_init(&cl->ca);
        mbedtls_entropy_init(&cl->entropy);
        mbedtls_ctr_drbg_init(&cl->drbg);
        cl->mbedtls_ready = 1;
        /* A bundle may hold a certificate mbedTLS cannot parse: it reports how many (> 0) and
         * keeps the others. */
        ret = mbedtls_x509_crt_parse_file(&cl->ca, trust);
        if (ret < 0 || cl->ca.raw.p == NULL) {
            char text[160];
            mbedtls_strerror(ret, text, sizeof(text));
            cli_error("%s: cannot load the trust store: %s", trust, text);
            cli_client_free(cl);
            return NULL;
        }
        if (mbedtls_ctr_drbg_seed(&cl->drbg, mbedtls_entropy_func, &cl->entropy,
                                  (const unsigned char *)"certpin", 7) != 0 ||
            mbedtls_ssl_config_defaults(&cl->conf, MBEDTLS_SSL_IS_CLIENT,
                                        MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
            cli_error("cannot set up mbedTLS");
            cli_client_free(cl);
            return NULL;
        }
        mbedtls_ssl_conf_min_version(&cl->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_authmode(&cl->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&cl->conf, &cl->ca, NULL);
        mbedtls_ssl_conf_rng(&cl->conf, mbedtls_ctr_drbg_random, &cl->drbg);
        return cl;
    }
#endif
#ifdef CERTPIN_CLI_GNUTLS
    if (tls == CLI_TLS_GNUTLS) {
        int ret = gnutls_certificate_allocate_credentials(&cl->cred);
        if (ret >= 0) {
            ret = cafile != NULL ? gnutls_certificate_set_x509_trust_file(cl->cred, cafile,
                                                                          GNUTLS_X509_FMT_PEM)
                                 : gnutls_certificate_set_x509_system_trust(cl->cred);
        }
        if (ret <= 0) {
            cli_error("%s: cannot load the trust store: %s",
                      cafile != NULL ? cafile : "the system trust store",
                      ret < 0 ? gnutls_strerror(ret) : "no certificates");
            cli_client_free(cl);
            return NULL;
        }
        return cl;
    }
#endif
    cli_error("this certpin was built without %s", cli_tls_name(tls));
    cli_client_free(cl);
    return NULL;
}

/* ---- what every connection gives ------------------------------------------------------------- */

static void push_der(STACK_OF(X509) * sk, const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = len <= (size_t)INT32_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (x != NULL && !sk_X509_push(sk, x)) {
        X509_free(x);
    }
    ERR_clear_error();
}

/* The certificate of served or of the trust store whose key has pin. */
static X509 *find_pin(const cli_client *cl, STACK_OF(X509) * served, const unsigned char *pin)
{
    STACK_OF(X509) * lists[2];
    int l;
    int i;
    lists[0] = served;
    lists[1] = cl->anchors;
    for (l = 0; l < 2; l++) {
        for (i = 0; lists[l] != NULL && i < sk_X509_num(lists[l]); i++) {
            unsigned char p[CERTPIN_PIN_LEN];
            X509 *x = sk_X509_value(lists[l], i);
            if (certpin_openssl_cert_pin(x, p) == CERTPIN_OK &&
                memcmp(p, pin, CERTPIN_PIN_LEN) == 0) {
                return x;
            }
        }
    }
    return NULL;
}

/* The verified chain of an mbedTLS or GnuTLS connection, as certpin's result names it (the keys
 * of the path the stack verified): each certificate found among those the server sent and the
 * trust store. NULL when one is not found (then only the result's pins show it). */
static STACK_OF(X509) * verified_from_result(const cli_client *cl, const cli_session *s)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    size_t i;
    for (i = 0; sk != NULL && i < certpin_result_chain_len(s->result); i++) {
        X509 *x = find_pin(cl, s->served, certpin_result_chain_pin(s->result, i));
        if (x == NULL || !X509_up_ref(x)) {
            sk_X509_pop_free(sk, X509_free);
            return NULL;
        }
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            return NULL;
        }
    }
    return sk;
}

/* The socket blocking again, with what is left of the deadline as its time-outs. */
static int blocking_until(int fd, double deadline)
{
    struct timeval tv;
    double left = deadline - cli_now();
    int flags = fcntl(fd, F_GETFL);
    if (left < 0.001) {
        left = 0.001;
    }
    tv.tv_sec = (time_t)left;
    tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
    return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 &&
                   setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
                   setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0
               ? 0
               : -1;
}

/* ---- mbedTLS ----------------------------------------------------------------------------------
 */

#ifdef CERTPIN_CLI_MBEDTLS
typedef struct mb_conn {
    mbedtls_ssl_context ssl;
    mbedtls_net_context net;
    certpin_mbedtls *cm;
} mb_conn;

static void mb_close(mb_conn *m)
{
    if (m == NULL) {
        return;
    }
    certpin_mbedtls_free(m->cm);
    mbedtls_ssl_free(&m->ssl);
    free(m);
}

static void connect_mbedtls(const cli_client *cl, const cli_target *target, double deadline,
                            cli_session *s)
{
    cli_conn *c = &s->conn;
    mb_conn *m = calloc(1, sizeof(*m));
    certpin_error err;
    char text[160];
    char message[512];
    int ret;

    if (m == NULL) {
        cli_conn_fail(c, CLI_FAILURE_SETUP, "out of memory");
        return;
    }
    s->stack = m;
    mbedtls_ssl_init(&m->ssl);
    m->net.fd = c->fd; /* the socket stays c's: cli_conn_close closes it */
    /* The name the application asks for is what mbedTLS verifies (and sends as SNI) and what
     * certpin looks up; mbedTLS 2.28 matches no IP address subjectAltName. */
    if (mbedtls_ssl_setup(&m->ssl, &cl->conf) != 0 ||
        mbedtls_ssl_set_hostname(&m->ssl, target->host) != 0 ||
        blocking_until(c->fd, deadline) != 0) {
        cli_conn_fail(c, CLI_FAILURE_SETUP, "cannot set up the mbedTLS connection");
        return;
    }
    mbedtls_ssl_set_bio(&m->ssl, &m->net, mbedtls_net_send, mbedtls_net_recv, NULL);
    if (certpin_mbedtls_attach(&m->ssl, cl->pin, &m->cm, &err) != CERTPIN_OK) {
        cli_conn_fail(c, CLI_FAILURE_SETUP, err.text);
        return;
    }
    errno = 0;
    do {
        ret = mbedtls_ssl_handshake(&m->ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    s->result = certpin_mbedtls_result(m->cm);
    {
        /* After a failed handshake the certificates are the negotiation's (2.x: a public field). */
        const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&m->ssl);
        if (crt == NULL && m->ssl.session_negotiate != NULL) {
            crt = m->ssl.session_negotiate->peer_cert;
        }
        s->served = sk_X509_new_null();
        for (; s->served != NULL && crt != NULL && crt->raw.p != NULL; crt = crt->next) {
            push_der(s->served, crt->raw.p, crt->raw.len);
        }
    }
    if (ret == 0) {
        c->handshake_done = 1;
        cli_copy(s->protocol, mbedtls_ssl_get_version(&m->ssl), sizeof(s->protocol));
        cli_copy(s->cipher, mbedtls_ssl_get_ciphersuite(&m->ssl), sizeof(s->cipher));
        return;
    }
    mbedtls_strerror(ret, text, sizeof(text));
    if ((ret == MBEDTLS_ERR_NET_RECV_FAILED || ret == MBEDTLS_ERR_NET_SEND_FAILED) &&
        (errno == EAGAIN || errno == EWOULDBLOCK)) {
        (void)snprintf(message, sizeof(message),
                       "timed out in the TLS handshake with %s (mbedTLS: %s)", c->peer, text);
        cli_conn_fail(c, CLI_FAILURE_TIMEOUT, message);
    } else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        /* mbedTLS 2.28 keeps the alert record it failed on: level, then description */
        c->alert = m->ssl.in_msg != NULL ? m->ssl.in_msg[1] : -1;
        (void)snprintf(message, sizeof(message),
                       "TLS alert %d (%s) from the server %s during the TLS handshake", c->alert,
                       cli_alert_name(c->alert), c->peer);
        cli_conn_fail(c, CLI_FAILURE_TLS_ALERT, message);
    } else if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_NET_CONN_RESET) {
        (void)snprintf(message, sizeof(message),
                       "the server %s closed the connection during the TLS handshake", c->peer);
        cli_conn_fail(c, CLI_FAILURE_TLS_CLOSED, message);
    } else {
        (void)snprintf(message, sizeof(message),
                       "TLS handshake with %s failed: mbedTLS: -0x%04x %s", c->peer, (unsigned)-ret,
                       text);
        cli_conn_fail(c, CLI_FAILURE_TLS, message);
    }
}
#endif

/* ---- GnuTLS -----------------------------------------------------------------------------------
 */

#ifdef CERTPIN_CLI_GNUTLS
static void connect_gnutls(const cli_client *cl, const cli_target *target, double deadline,
                           cli_session *s)
{
    cli_conn *c = &s->conn;
    gnutls_session_t session = NULL;
    certpin_error err;
    const gnutls_datum_t *peers;
    unsigned npeers = 0;
    unsigned i;
    char message[512];
    int ret;

    if (gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0) {
        cli_conn_fail(c, CLI_FAILURE_SETUP, "cannot set up the GnuTLS session");
        return;
    }
    s->stack = session;
    /* TLS 1.2 or later, as with the other stacks; SNI for a name, never for an IP literal (RFC
     * 6066 section 3). The name or address is what certpin verifies and looks up. */
    if (gnutls_priority_set_direct(session, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL) <
            0 ||
        gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cl->cred) < 0 ||
        (!target->is_ip && gnutls_server_name_set(session, GNUTLS_NAME_DNS, target->host,
                                                  strlen(target->host)) < 0) ||
        blocking_until(c->fd, deadline) != 0) {
        cli_conn_fail(c, CLI_FAILURE_SETUP, "cannot set up the GnuTLS session");
        return;
    }
    if (certpin_gnutls_attach(session, cl->pin, target->host, &err) != CERTPIN_OK) {
        cli_conn_fail(c, CLI_FAILURE_SETUP, err.text);
        return;
    }
    gnutls_transport_set_int(session, c->fd);
    do {
        ret = gnutls_handshake(session);
    } while (ret < 0 && !gnutls_error_is_fatal(ret) && ret != GNUTLS_E_AGAIN);
    s->result = certpin_gnutls_result(session);
    peers = gnutls_certificate_get_peers(session, &npeers);
    s->served = sk_X509_new_null();
    for (i = 0; s->served != NULL && peers != NULL && i < npeers; i++) {
        push_der(s->served, peers[i].data, peers[i].size);
    }
    if (ret == 0) {
        const char *name = gnutls_protocol_get_name(gnutls_protocol_get_version(session));
        char *desc = gnutls_session_get_desc(session);
        c->handshake_done = 1;
        cli_copy(s->protocol, name != NULL ? name : "?", sizeof(s->protocol));
        cli_copy(s->cipher, desc != NULL ? desc : "?", sizeof(s->cipher));
        gnutls_free(desc);
        return;
    }
    if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR) {
        (void)snprintf(message, sizeof(message),
                       "timed out in the TLS handshake with %s (GnuTLS: %s)", c->peer,
                       gnutls_strerror(ret));
        cli_conn_fail(c, CLI_FAILURE_TIMEOUT, message);
    } else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
        c->alert = (int)gnutls_alert_get(session);
        (void)snprintf(message, sizeof(message),
                       "TLS alert %d (%s) from the server %s during the "
                       "TLS handshake",
                       c->alert, cli_alert_name(c->alert), c->peer);
        cli_conn_fail(c, CLI_FAILURE_TLS_ALERT, message);
    } else if (ret == GNUTLS_E_PREMATURE_TERMINATION) {
        (void)snprintf(message, sizeof(message),
                       "the server %s closed the connection during the TLS handshake", c->peer);
        cli_conn_fail(c, CLI_FAILURE_TLS_CLOSED, message);
    } else {
        (void)snprintf(message, sizeof(message), "TLS handshake with %s failed: GnuTLS: %s",
                       c->peer, gnutls_strerror(ret));
        cli_conn_fail(c, CLI_FAILURE_TLS, message);
    }
}
#endif

/* ---- every stack ------------------------------------------------------------------------------
 */

void cli_client_connect(const cli_client *cl, const cli_target *target, const cli_target *via,
                        double timeout, cli_session *s)
{
    double deadline;
    cli_conn *c = &s->conn;

    memset(s, 0, sizeof(*s));
    s->tls = cl->tls;
    if (cl->tls == CLI_TLS_OPENSSL) {
        STACK_OF(X509) * chain;
        cli_connect(cl->ssl_ctx, target, via, timeout, c);
        if (c->ssl == NULL) {
            return;
        }
        s->result = certpin_openssl_result(c->ssl);
        chain = SSL_get_peer_cert_chain(c->ssl);
        s->served = chain != NULL ? X509_chain_up_ref(chain) : NULL;
        if (certpin_verdict_accepted(certpin_result_verdict(s->result)) &&
            (chain = SSL_get0_verified_chain(c->ssl)) != NULL) {
            s->verified = X509_chain_up_ref(chain);
        }
        if (c->handshake_done) {
            cli_copy(s->protocol, SSL_get_version(c->ssl), sizeof(s->protocol));
            cli_copy(s->cipher, SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)),
                     sizeof(s->cipher));
        }
        return;
    }
    if (cli_conn_open(target, via, timeout, &deadline, c) != 0) {
        return;
    }
#ifdef CERTPIN_CLI_MBEDTLS
    if (cl->tls == CLI_TLS_MBEDTLS) {
        connect_mbedtls(cl, target, deadline, s);
    }
#endif
#ifdef CERTPIN_CLI_GNUTLS
    if (cl->tls == CLI_TLS_GNUTLS) {
        connect_gnutls(cl, target, deadline, s);
    }
#endif
    if (s->result != NULL && certpin_verdict_accepted(certpin_result_verdict(s->result))) {
        s->verified = verified_from_result(cl, s);
    }
}

void cli_session_close(cli_session *s)
{
    sk_X509_pop_free(s->served, X509_free);
    sk_X509_pop_free(s->verified, X509_free);
    s->served = NULL;
    s->verified = NULL;
    s->result = NULL;
#ifdef CERTPIN_CLI_MBEDTLS
    if (s->tls == CLI_TLS_MBEDTLS) {
        mb_close(s->stack);
    }
#endif
#ifdef CERTPIN_CLI_GNUTLS
    if (s->tls == CLI_TLS_GNUTLS && s->stack != NULL) {
        if (s->conn.handshake_done) {
            (void)gnutls_bye(s->stack, GNUTLS_SHUT_WR);
        }
        gnutls_deinit(s->stack);
    }
#endif
    s->stack = NULL;
    cli_conn_close(&s->conn);
}
