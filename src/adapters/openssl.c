/* The OpenSSL adapter (OpenSSL 3.0 and later): gets the chain OpenSSL verified, hands the core the
 * DER SubjectPublicKeyInfo of each certificate, and turns the core's verdict into a failed
 * handshake. Every decision is the core's; this file only extracts bytes and fails closed. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "certpin/openssl.h"
#include "private/error.h"
#include "private/openssl.h"
#include "private/peer.h"
#include "private/result.h"
#include "private/resume.h"
#include "private/safety.h"

/* The ClientHello checkpoint is a custom extension that is never sent: its add callback is the one
 * hook OpenSSL calls on every ClientHello, after it chose the session to offer and before any byte
 * of the ClientHello is written. 0xFF00-0xFFFF is IANA's private-use range (RFC 8446 section
 * 4.2); 0xFF01 is renegotiation_info, so stay clear of it. */
#define CHECKPOINT_EXT_TYPE 0xFF5Au

/* A chain of up to this many certificates, with this many bytes of keys, is described on the
 * stack; a longer one (only a served chain can be: the core refuses verified chains longer than
 * CP_MAX_CHAIN) takes one heap allocation. */
#define VIEW_LOCAL_CERTS 8
#define VIEW_LOCAL_SPKI 2048

/* A host name as the application set it, before canonicalisation (which the core does). */
#define ASKED_HOST_MAX 512

/* What attach_ctx keeps in SSL_CTX ex_data. Its presence means "prepared". */
typedef struct ctx_state {
    certpin_ctx *pin; /* may be NULL: only per-connection attachment */
} ctx_state;

/* What a connection keeps in SSL ex_data, made when first needed. */
typedef struct conn_state {
    certpin_result *result;
    certpin_ctx *pin; /* certpin_openssl_attach's override, or NULL */
    int checkpoint;   /* the SSL was made after its SSL_CTX was prepared: it has the checkpoint */
    int port;         /* the port for reports, set by an integration; 0: the socket's */
    char *refusal;    /* set by an integration: refuse the connection with this reason */
} conn_state;

/* SSL ex_data of an SSL made from a prepared SSL_CTX that needed no state yet: the SSL has the
 * checkpoint, which an SSL made before attach_ctx does not (SSL_new copies the SSL_CTX's custom
 * extensions). Not allocated, never freed. */
static char born_prepared;

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int ctx_index = -1;
static int conn_index = -1;
/* What an accepted full handshake leaves on its SSL_SESSION (a cp_session_tag): resuming the
 * session skips the certificate, so the ClientHello checkpoint resumes only what certpin accepted
 * under the same policy for the same host. */
static int session_index = -1;

/* ---- ex_data ------------------------------------------------------------------------------- */

static void ctx_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                           void *argp)
{
    ctx_state *cs = ptr;
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (cs != NULL) {
        certpin_ctx_free(cs->pin);
        free(cs);
    }
}

static void conn_state_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                           void *argp)
{
    SSL *ssl = parent;
    (void)ptr;
    (void)argl;
    (void)argp;
    if (ssl != NULL && SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index) != NULL) {
        (void)CRYPTO_set_ex_data(ad, idx, &born_prepared);
    }
}

static void conn_state_destroy(conn_state *st)
{
    if (st != NULL && (void *)st != (void *)&born_prepared) {
        certpin_result_free(st->result);
        certpin_ctx_free(st->pin);
        free(st->refusal);
        free(st);
    }
}

static void conn_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                            void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    conn_state_destroy(ptr);
}

/* SSL_dup copies ex_data: the copy gets its own state (the override, a fresh result), never a
 * second pointer to this one. */
static int conn_state_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                          long argl, void *argp)
{
    conn_state *src = *from_d;
    conn_state *dst;
    (void)to;
    (void)from;
    (void)idx;
    (void)argl;
    (void)argp;
    if (src == NULL || (void *)src == (void *)&born_prepared) {
        return 1;
    }
    dst = calloc(1, sizeof(*dst));
    if (dst == NULL) {
        return 0;
    }
    dst->result = certpin_result_new();
    if (dst->result == NULL) {
        free(dst);
        return 0;
    }
    dst->pin = certpin_ctx_ref(src->pin);
    dst->checkpoint = src->checkpoint;
    dst->port = src->port;
    if (src->refusal != NULL) {
        dst->refusal = strdup(src->refusal);
        if (dst->refusal == NULL) {
            conn_state_destroy(dst);
            return 0;
        }
    }
    *from_d = dst;
    return 1;
}

static void session_tag_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                             void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    free(ptr);
}

/* TLS 1.3 tickets (and TLS 1.2 ticket renewals) are copies of the handshake's session
 * (ssl_session_dup): the tag must follow them, as its own copy. If the copy fails, so does
 * OpenSSL's dup, and the ticket is not stored. */
static int session_tag_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                           long argl, void *argp)
{
    const cp_session_tag *src = *from_d;
    cp_session_tag *dst;
    (void)to;
    (void)from;
    (void)idx;
    (void)argl;
    (void)argp;
    if (src == NULL) {
        return 1;
    }
    dst = malloc(sizeof(*dst));
    if (dst == NULL) {
        return 0;
    }
    memcpy(dst, src, sizeof(*dst));
    *from_d = dst;
    return 1;
}

static void make_indexes(void)
{
    ctx_index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, ctx_state_free);
    conn_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, conn_state_new,
                                         conn_state_dup, conn_state_free);
    session_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_SESSION, 0, NULL, NULL,
                                            session_tag_dup, session_tag_free);
}

static int indexes_ready(void)
{
    if (pthread_once(&index_once, make_indexes) != 0) {
        return 0;
    }
    return ctx_index >= 0 && conn_index >= 0 && session_index >= 0;
}

/* The connection's state; made when create is set and none exists yet. NULL when there is none
 * (or no memory). */
static conn_state *conn_get(SSL *ssl, int create)
{
    void *p;
    conn_state *st;
    if (conn_index < 0) {
        return NULL;
    }
    p = SSL_get_ex_data(ssl, conn_index);
    if (p != NULL && p != (void *)&born_prepared) {
        return p;
    }
    if (!create) {
        return NULL;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return NULL;
    }
    st->result = certpin_result_new();
    st->checkpoint = p == (void *)&born_prepared;
    if (st->result == NULL || !SSL_set_ex_data(ssl, conn_index, st)) {
        conn_state_destroy(st);
        return NULL;
    }
    return st;
}

static int conn_born_prepared(const SSL *ssl)
{
    return conn_index >= 0 && SSL_get_ex_data(ssl, conn_index) != NULL;
}

static ctx_state *ctx_get(const SSL_CTX *ctx)
{
    return ctx_index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, ctx_index);
}

/* The certpin context that applies to ssl: its own override, else its SSL_CTX's. */
static certpin_ctx *pin_for(SSL *ssl)
{
    conn_state *st = conn_get(ssl, 0);
    ctx_state *cs;
    if (st != NULL && st->pin != NULL) {
        return st->pin;
    }
    cs = ctx_get(SSL_get_SSL_CTX(ssl));
    return cs != NULL ? cs->pin : NULL;
}

/* ---- what the application asked for --------------------------------------------------------- */

/* The one host the application asked OpenSSL to verify (RFC 6125 section 6: the reference
 * identity comes from the client, never from the server). Writes it to host, or a reason saying
 * what to call to why and returns 0. */
static int asked_host(X509_VERIFY_PARAM *param, char host[ASKED_HOST_MAX], char *why,
                      size_t why_len)
{
    const char *name = param != NULL ? X509_VERIFY_PARAM_get0_host(param, 0) : NULL;
    char *ip = NULL;
    int ok = 0;

    /* With no IP address set, get1_ip_asc queues ERR_R_PASSED_NULL_PARAMETER, which would be the
     * first error the application sees for a failed handshake: keep the queue as it was. */
    if (param != NULL) {
        (void)ERR_set_mark();
        ip = X509_VERIFY_PARAM_get1_ip_asc(param);
        (void)ERR_pop_to_mark();
    }

    host[0] = '\0';
    if (name != NULL && X509_VERIFY_PARAM_get0_host(param, 1) != NULL) {
        (void)snprintf(why, why_len,
                       "more than one host name is set to verify (SSL_add1_host): certpin checks "
                       "exactly one; call SSL_set1_host(ssl, name) with the name you connect to");
    } else if (name != NULL && ip != NULL) {
        (void)snprintf(why, why_len,
                       "both a host name and an IP address are set to verify: certpin checks "
                       "exactly one; set either SSL_set1_host(ssl, name) or "
                       "X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), address)");
    } else if (name == NULL && ip == NULL) {
        (void)snprintf(why, why_len,
                       "no host to check: call SSL_set1_host(ssl, name) (or "
                       "X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), address)) before the "
                       "handshake; certpin never takes the name from the server");
    } else if (strlen(name != NULL ? name : ip) >= ASKED_HOST_MAX) {
        (void)snprintf(why, why_len, "the host name set to verify is too long");
    } else {
        cp_strlcpy(host, name != NULL ? name : ip, ASKED_HOST_MAX);
        ok = 1;
    }
    OPENSSL_free(ip);
    return ok;
}

/* The peer's port, for reports: the one an integration set, else the socket's; 0 when the SSL is
 * not on a socket. */
static int peer_port(SSL *ssl)
{
    conn_state *st = conn_get(ssl, 0);
    if (st != NULL && st->port > 0) {
        return st->port;
    }
    return cp_fd_peer_port(SSL_get_fd(ssl));
}

/* ---- chains as the core sees them ----------------------------------------------------------- */

/* A list of certificates: head (if not NULL), then rest[from..]. */
typedef struct cert_list {
    X509 *head;
    STACK_OF(X509) * rest;
    int from;
} cert_list;

static size_t list_len(const cert_list *l)
{
    int n = l->rest != NULL ? sk_X509_num(l->rest) : 0;
    size_t len = l->head != NULL ? 1 : 0;
    if (n > l->from) {
        len += (size_t)(n - l->from);
    }
    return len;
}

static X509 *list_at(const cert_list *l, size_t i)
{
    if (l->head != NULL) {
        if (i == 0) {
            return l->head;
        }
        i--;
    }
    return sk_X509_value(l->rest, l->from + (int)i);
}

typedef struct chain_view {
    certpin_cert *certs;
    size_t len;
    void *heap; /* NULL when everything is in the local arrays */
    certpin_cert local_certs[VIEW_LOCAL_CERTS];
    char local_subjects[VIEW_LOCAL_CERTS][CP_SUBJECT_MAX];
    unsigned char local_spki[VIEW_LOCAL_SPKI];
} chain_view;

static int spki_len(X509 *x, size_t *len)
{
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), NULL);
    if (n <= 0) {
        return 0;
    }
    *len = (size_t)n;
    return 1;
}

/* Describes each certificate by its SubjectPublicKeyInfo exactly as DER-encoded in the
 * certificate (RFC 7469 section 2.4) and its subject (for messages). */
static certpin_status view_build(chain_view *v, const cert_list *l)
{
    size_t n = list_len(l);
    size_t total = 0;
    size_t i;
    unsigned char *spki;
    char *subjects;

    v->certs = NULL;
    v->len = 0;
    v->heap = NULL;
    if (n == 0) {
        return CERTPIN_OK;
    }
    for (i = 0; i < n; i++) {
        size_t len;
        if (!spki_len(list_at(l, i), &len)) {
            return CERTPIN_E_CRYPTO;
        }
        CP_ENSURE(total <= SIZE_MAX - len, CERTPIN_E_NOMEM);
        total += len;
    }
    if (n <= VIEW_LOCAL_CERTS && total <= VIEW_LOCAL_SPKI) {
        v->certs = v->local_certs;
        subjects = &v->local_subjects[0][0];
        spki = v->local_spki;
    } else {
        size_t per = sizeof(certpin_cert) + CP_SUBJECT_MAX;
        CP_ENSURE(n <= (SIZE_MAX - total) / per, CERTPIN_E_NOMEM);
        v->heap = malloc(n * per + total);
        CP_ENSURE_REF(v->heap, CERTPIN_E_NOMEM);
        v->certs = v->heap;
        subjects = (char *)(v->certs + n);
        spki = (unsigned char *)(subjects + n * CP_SUBJECT_MAX);
    }
    for (i = 0; i < n; i++) {
        X509 *x = list_at(l, i);
        char *subject = subjects + i * CP_SUBJECT_MAX;
        unsigned char *p = spki;
        int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p);
        if (len <= 0) {
            free(v->heap);
            v->heap = NULL;
            return CERTPIN_E_CRYPTO;
        }
        if (X509_NAME_oneline(X509_get_subject_name(x), subject, CP_SUBJECT_MAX) == NULL) {
            subject[0] = '\0';
        }
        v->certs[i].spki = spki;
        v->certs[i].spki_len = (size_t)len;
        v->certs[i].subject = subject;
        spki = p;
    }
    v->len = n;
    return CERTPIN_OK;
}

static void view_free(chain_view *v)
{
    free(v->heap);
    v->heap = NULL;
}

/* ---- the check, shared by the handshake and certpin_openssl_check_store_ctx ----------------- */

static void set_unverified(certpin_result *r, const char *host, int port, X509_STORE_CTX *sctx,
                           int overridden)
{
    int err = X509_STORE_CTX_get_error(sctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(sctx);
    char subject[CP_SUBJECT_MAX] = "";
    char reason[512];

    if (cur == NULL ||
        X509_NAME_oneline(X509_get_subject_name(cur), subject, sizeof(subject)) == NULL) {
        subject[0] = '\0';
    }
    if (overridden) {
        /* Pinning narrows OpenSSL's verification, never replaces it: a chain that failed and was
         * let through by the application's verify callback is not a verified chain. */
        (void)snprintf(reason, sizeof(reason),
                       "OpenSSL's verification failed at depth %d (%s): %s; the application's "
                       "verify callback let it through, but certpin only pins chains that verified",
                       X509_STORE_CTX_get_error_depth(sctx), subject,
                       X509_verify_cert_error_string(err));
    } else {
        (void)snprintf(reason, sizeof(reason), "OpenSSL's verification failed at depth %d (%s): %s",
                       X509_STORE_CTX_get_error_depth(sctx), subject,
                       X509_verify_cert_error_string(err));
    }
    cp_result_set_unverified(r, host, port, reason);
}

/* The chains of sctx as the core sees them: the one OpenSSL built from its trust store, and, when
 * want_served is set, the one the server sent (for reports only: nobody else sees it, so without a
 * report callback it is not described at all, and stays empty). */
static certpin_status views_build(X509_STORE_CTX *sctx, int verified_ok, int want_served,
                                  chain_view *verified, chain_view *served)
{
    cert_list verified_list;
    cert_list served_list;
    certpin_status st;

    /* Never what the server sent: a server can append any certificate, pinned ones included, to
     * its chain (CVE-2016-2402). After a failure the built chain is partial: none is given. */
    verified_list.head = NULL;
    verified_list.rest = verified_ok ? X509_STORE_CTX_get0_chain(sctx) : NULL;
    verified_list.from = 0;
    /* In a handshake the untrusted list is everything the server sent, leaf first; a caller of
     * certpin_openssl_check_store_ctx may have left the leaf out of it. */
    served_list.head = want_served ? X509_STORE_CTX_get0_cert(sctx) : NULL;
    served_list.rest = want_served ? X509_STORE_CTX_get0_untrusted(sctx) : NULL;
    served_list.from = 0;
    if (served_list.head != NULL && served_list.rest != NULL && sk_X509_num(served_list.rest) > 0 &&
        X509_cmp(sk_X509_value(served_list.rest, 0), served_list.head) == 0) {
        served_list.from = 1;
    }
    st = view_build(verified, &verified_list);
    if (st != CERTPIN_OK) {
        return st;
    }
    st = view_build(served, &served_list);
    if (st != CERTPIN_OK) {
        view_free(verified);
    }
    return st;
}

/* Runs OpenSSL's verification on sctx, then the core on the chain OpenSSL built, for the host in
 * param. result receives the outcome. Returns the core's convention: CERTPIN_OK when a verdict
 * was reached (read it), another status when the check could not run (REJECTED_ERROR). */
static certpin_status verify_and_check(certpin_ctx *pin, X509_STORE_CTX *sctx,
                                       X509_VERIFY_PARAM *param, int port, certpin_result *result)
{
    char host[ASKED_HOST_MAX];
    char why[320];
    int have_host = asked_host(param, host, why, sizeof(why));
    int ok = X509_verify_cert(sctx);
    /* A callback that returns 1 for an error leaves the error set: OpenSSL did not verify. */
    int verified_ok = ok > 0 && X509_STORE_CTX_get_error(sctx) == X509_V_OK;
    chain_view verified;
    chain_view served;
    certpin_conn conn;
    certpin_status st;

    memset(&conn, 0, sizeof(conn));
    conn.host = host;
    conn.port = port;
    st = views_build(sctx, verified_ok, cp_ctx_reports(pin), &verified, &served);
    if (st != CERTPIN_OK) {
        cp_result_set_error(result, have_host ? host : NULL, port,
                            st == CERTPIN_E_NOMEM ? "out of memory while reading the chain"
                                                  : "OpenSSL could not encode a public key of "
                                                    "the chain");
        cp_ctx_report(pin, &conn, result);
        return st;
    }
    conn.served_chain = served.certs;
    conn.served_len = served.len;
    if (!verified_ok) {
        set_unverified(result, have_host ? host : NULL, port, sctx, ok > 0);
        cp_ctx_report(pin, &conn, result);
        st = CERTPIN_OK;
    } else if (!have_host) {
        cp_result_set_error(result, NULL, port, why);
        cp_ctx_report(pin, &conn, result);
        st = CERTPIN_E_ARG;
    } else {
        conn.verified_chain = verified.certs;
        conn.verified_len = verified.len;
        st = certpin_ctx_check(pin, &conn, result);
    }
    view_free(&served);
    view_free(&verified);
    return st;
}

/* ---- the handshake -------------------------------------------------------------------------- */

/* Under SSL_VERIFY_NONE OpenSSL still runs the certificate callback but ignores its failure
 * (tls_post_process_server_certificate aborts only when verify_mode != SSL_VERIFY_NONE, and reads
 * the mode after the callback returns): a pinned connection that failed must not go on. */
static void fail_handshake(SSL *ssl, X509_STORE_CTX *sctx)
{
    if (X509_STORE_CTX_get_error(sctx) == X509_V_OK) {
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
    }
}

static void tag_session(SSL *ssl, const certpin_result *result)
{
    SSL_SESSION *sess = SSL_get_session(ssl);
    cp_session_tag *tag;
    cp_session_tag *old;

    if (sess == NULL || certpin_result_policy(result) == NULL) {
        return;
    }
    /* Without a tag the session is simply never resumed by certpin: failing here is safe. */
    tag = malloc(sizeof(*tag));
    if (tag == NULL) {
        return;
    }
    cp_session_tag_set(tag, result);
    old = SSL_SESSION_get_ex_data(sess, session_index);
    if (!SSL_SESSION_set_ex_data(sess, session_index, tag)) {
        free(tag);
        return;
    }
    free(old);
}

static int verify_callback(X509_STORE_CTX *sctx, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    certpin_ctx *pin;
    conn_state *st;
    certpin_status status;
    (void)arg;

    if (ssl == NULL) {
        return X509_verify_cert(sctx);
    }
    pin = pin_for(ssl);
    if (pin == NULL) {
        return X509_verify_cert(sctx);
    }
    st = conn_get(ssl, 1);
    if (st == NULL) {
        fail_handshake(ssl, sctx);
        return 0;
    }
    if (SSL_is_server(ssl)) {
        cp_result_set_error(st->result, NULL, 0,
                            "certpin pins the certificates of servers: it was attached to a "
                            "server's SSL_CTX, where it cannot check a client certificate");
        fail_handshake(ssl, sctx);
        return 0;
    }
    if (!st->checkpoint) {
        /* Such an SSL has no ClientHello checkpoint and could resume a session certpin never
         * checked: refuse every handshake, so the mistake shows at once. */
        cp_result_set_error(st->result, NULL, 0,
                            "this SSL was made before certpin_openssl_attach_ctx() prepared its "
                            "SSL_CTX: attach first, then call SSL_new()");
        fail_handshake(ssl, sctx);
        return 0;
    }
    if (st->refusal != NULL) {
        /* The checkpoint refused the ClientHello already; this is a second line. */
        cp_result_set_error(st->result, NULL, peer_port(ssl), st->refusal);
        fail_handshake(ssl, sctx);
        return 0;
    }
    status = verify_and_check(pin, sctx, SSL_get0_param(ssl), peer_port(ssl), st->result);
    if (status != CERTPIN_OK || !certpin_verdict_accepted(certpin_result_verdict(st->result))) {
        fail_handshake(ssl, sctx);
        return 0;
    }
    tag_session(ssl, st->result);
    return 1;
}

/* Decides whether sess may be offered on ssl: only a session certpin accepted under the current
 * policy for the host this connection asks for (the core decides). Sets result either way; reports
 * a refusal when report is set. */
static int resumption_allowed(certpin_ctx *pin, SSL *ssl, const SSL_SESSION *sess,
                              certpin_result *result, int report)
{
    certpin_policy *policy = certpin_ctx_get_policy(pin);
    const cp_session_tag *tag = SSL_SESSION_get_ex_data(sess, session_index);
    int port = peer_port(ssl);
    char host[ASKED_HOST_MAX];
    char no_host[512];
    char canonical[CERTPIN_HOST_MAX];
    char why[512];
    cp_resume_host asked;
    int allowed;
    certpin_conn conn;

    asked.name = asked_host(SSL_get0_param(ssl), host, no_host, sizeof(no_host)) ? host : NULL;
    asked.none = no_host;
    asked.what = "the host name set to verify";
    allowed = cp_resume_allowed(policy, &asked, tag,
                                "it carries no certpin tag: it comes from another SSL_CTX, from "
                                "before attaching, or from storage",
                                canonical, why, sizeof(why));
    if (allowed) {
        cp_result_set_resumed(result, policy, canonical, port, tag->verdict);
    } else {
        cp_result_set_error(result, asked.name, port, why);
        if (report) {
            memset(&conn, 0, sizeof(conn));
            conn.port = port;
            conn.host = certpin_result_host(result);
            cp_ctx_report(pin, &conn, result);
        }
    }
    certpin_policy_free(policy);
    return allowed;
}

static int client_hello_checkpoint(SSL *ssl, unsigned int ext_type, unsigned int context,
                                   const unsigned char **out, size_t *outlen, X509 *x,
                                   size_t chainidx, int *al, void *add_arg)
{
    certpin_ctx *pin;
    conn_state *st;
    SSL_SESSION *sess;
    (void)ext_type;
    (void)context;
    (void)out;
    (void)outlen;
    (void)x;
    (void)chainidx;
    (void)add_arg;

    if (SSL_is_server(ssl)) {
        return 0;
    }
    pin = pin_for(ssl);
    if (pin == NULL) {
        return 0;
    }
    st = conn_get(ssl, 1);
    if (st == NULL) {
        *al = SSL_AD_INTERNAL_ERROR;
        return -1;
    }
    if (st->refusal != NULL) {
        certpin_conn conn;
        memset(&conn, 0, sizeof(conn));
        conn.port = peer_port(ssl);
        cp_result_set_error(st->result, NULL, conn.port, st->refusal);
        cp_ctx_report(pin, &conn, st->result);
        *al = SSL_AD_INTERNAL_ERROR;
        return -1;
    }
    /* By now OpenSSL has replaced a session it will not offer (not resumable, wrong version)
     * with a fresh one, so this is the session the ClientHello would carry. */
    sess = SSL_get_session(ssl);
    if (sess == NULL || !SSL_SESSION_is_resumable(sess)) {
        certpin_result_reset(st->result);
        return 0;
    }
    if (resumption_allowed(pin, ssl, sess, st->result, 1)) {
        return 0; /* should the server decline, the full handshake's check overwrites the result */
    }
    *al = SSL_AD_INTERNAL_ERROR;
    return -1;
}

/* ---- public functions ----------------------------------------------------------------------- */

certpin_status certpin_openssl_attach_ctx(SSL_CTX *ctx, certpin_ctx *pin)
{
    ctx_state *cs;
    CP_ENSURE_REF(ctx, CERTPIN_E_ARG);
    CP_ENSURE(indexes_ready(), CERTPIN_E_NOMEM);

    cs = ctx_get(ctx);
    if (cs == NULL) {
        /* An SSL_CTX takes one extension of a type: register it once, however often this is
         * called (a second registration would fail). */
        if (!SSL_CTX_has_client_custom_ext(ctx, CHECKPOINT_EXT_TYPE) &&
            !SSL_CTX_add_custom_ext(ctx, CHECKPOINT_EXT_TYPE, SSL_EXT_CLIENT_HELLO,
                                    client_hello_checkpoint, NULL, NULL, NULL, NULL)) {
            return CERTPIN_E_CRYPTO;
        }
        cs = calloc(1, sizeof(*cs));
        CP_ENSURE_REF(cs, CERTPIN_E_NOMEM);
        if (!SSL_CTX_set_ex_data(ctx, ctx_index, cs)) {
            free(cs);
            return CERTPIN_E_NOMEM;
        }
    }
    SSL_CTX_set_cert_verify_callback(ctx, verify_callback, NULL);
    (void)certpin_ctx_ref(pin);
    certpin_ctx_free(cs->pin);
    cs->pin = pin;
    return CERTPIN_OK;
}

certpin_status certpin_openssl_attach(SSL *ssl, certpin_ctx *pin)
{
    conn_state *st;
    CP_ENSURE(ssl != NULL && pin != NULL, CERTPIN_E_ARG);
    /* Only an SSL made after its SSL_CTX was prepared has the ClientHello checkpoint. */
    CP_ENSURE(ctx_get(SSL_get_SSL_CTX(ssl)) != NULL && conn_born_prepared(ssl), CERTPIN_E_ARG);
    st = conn_get(ssl, 1);
    CP_ENSURE_REF(st, CERTPIN_E_NOMEM);
    (void)certpin_ctx_ref(pin);
    certpin_ctx_free(st->pin);
    st->pin = pin;
    return CERTPIN_OK;
}

certpin_status cp_openssl_attach_conn(SSL *ssl, certpin_ctx *pin, int port, const char *refusal)
{
    conn_state *st;
    char *copy = NULL;
    CP_ENSURE(port >= 0, CERTPIN_E_ARG);
    if (refusal != NULL) {
        copy = strdup(refusal);
        CP_ENSURE_REF(copy, CERTPIN_E_NOMEM);
    }
    if (certpin_openssl_attach(ssl, pin) != CERTPIN_OK || (st = conn_get(ssl, 0)) == NULL) {
        free(copy);
        return CERTPIN_E_ARG;
    }
    st->port = port;
    free(st->refusal);
    st->refusal = copy;
    return CERTPIN_OK;
}

int cp_openssl_session_resumable(SSL *ssl, const SSL_SESSION *sess)
{
    certpin_ctx *pin;
    certpin_result *scratch;
    int ok;
    if (ssl == NULL || sess == NULL || !indexes_ready()) {
        return 0;
    }
    pin = pin_for(ssl);
    if (pin == NULL) {
        return 0;
    }
    scratch = certpin_result_new();
    if (scratch == NULL) {
        return 0;
    }
    ok = resumption_allowed(pin, ssl, sess, scratch, 0);
    certpin_result_free(scratch);
    return ok;
}

const certpin_result *certpin_openssl_result(const SSL *ssl)
{
    conn_state *st;
    if (ssl == NULL) {
        return NULL;
    }
    st = conn_get((SSL *)ssl, 0);
    if (st == NULL || pin_for((SSL *)ssl) == NULL) {
        return NULL;
    }
    return st->result;
}

certpin_status certpin_openssl_check_store_ctx(certpin_ctx *pin, X509_STORE_CTX *store_ctx,
                                               int port, certpin_result *result)
{
    CP_ENSURE(result != NULL, CERTPIN_E_ARG);
    if (pin == NULL || store_ctx == NULL) {
        cp_result_set_error(result, NULL, port, "no certpin context or X509_STORE_CTX given");
        return CERTPIN_E_ARG;
    }
    return verify_and_check(pin, store_ctx, X509_STORE_CTX_get0_param(store_ctx), port, result);
}

certpin_status certpin_openssl_cert_pin(X509 *cert, unsigned char pin[CERTPIN_PIN_LEN])
{
    unsigned char local[VIEW_LOCAL_SPKI];
    unsigned char *buf = local;
    unsigned char *p;
    size_t len;
    certpin_status st;

    CP_ENSURE(cert != NULL && pin != NULL, CERTPIN_E_ARG);
    CP_ENSURE(spki_len(cert, &len), CERTPIN_E_CRYPTO);
    if (len > sizeof(local)) {
        buf = malloc(len);
        CP_ENSURE_REF(buf, CERTPIN_E_NOMEM);
    }
    p = buf;
    if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &p) != (int)len) {
        st = CERTPIN_E_CRYPTO;
    } else {
        st = certpin_pin_from_spki(buf, len, pin);
    }
    if (buf != local) {
        free(buf);
    }
    return st;
}
