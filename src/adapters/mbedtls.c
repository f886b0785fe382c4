/* The mbedTLS adapter (mbedTLS 2.28): records the chain mbedTLS verified, hands the core the DER
 * SubjectPublicKeyInfo of each certificate, and turns the core's verdict into a failed handshake;
 * a guard on the connection's send callback fails every handshake certpin did not clear (see
 * certpin/mbedtls.h). Every decision is the core's; this file extracts bytes and fails closed.
 *
 * mbedTLS 2.x has no accessors for what a connection is doing, and documents its structures'
 * fields: this file reads ssl->state, ssl->out_msgtype, ssl->hostname, ssl->f_vrfy and the BIO
 * fields, ssl->conf->endpoint/transport/authmode/f_vrfy, and session_negotiate's id and ticket. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "certpin/mbedtls.h"
#include "private/error.h"
#include "private/peer.h"
#include "private/result.h"
#include "private/resume.h"
#include "private/safety.h"

#if MBEDTLS_VERSION_MAJOR != 2 || MBEDTLS_VERSION_MINOR < 28
#error "the certpin mbedTLS adapter is written for mbedTLS 2.28"
#endif
#if !defined(MBEDTLS_X509_CRT_PARSE_C) || !defined(MBEDTLS_SSL_CLI_C)
#error "the certpin mbedTLS adapter needs MBEDTLS_X509_CRT_PARSE_C and MBEDTLS_SSL_CLI_C"
#endif

/* A saved session, with certpin's tag: its verdict, the policy and host it was reached for. */
struct certpin_mbedtls_session {
    mbedtls_ssl_session session;
    cp_session_tag tag;
};

/* The session certpin_mbedtls_session_set offered: its tag, and what identifies it in the
 * ClientHello (its id, or its ticket), so that a session set over it with mbedtls_ssl_set_session
 * is not taken for it. */
typedef struct offer {
    int set;
    cp_session_tag tag;
    size_t id_len;
    unsigned char id[32];
    unsigned char *ticket; /* a copy; NULL without a ticket */
    size_t ticket_len;
} offer;

/* Where a handshake stands for the guard. */
typedef enum hs_state {
    HS_NONE = 0, /* no ClientHello seen yet */
    HS_HELLO,    /* the ClientHello went out; nothing decided */
    HS_VERIFIED, /* certpin's callback accepted the chain in this handshake */
    HS_CLEARED,  /* the guard cleared the handshake: its sends go out */
    HS_REFUSED   /* refused: nothing more goes out until the next ClientHello */
} hs_state;

struct certpin_mbedtls {
    mbedtls_ssl_context *ssl;
    certpin_ctx *pin;
    certpin_result *result;

    /* The application's BIO and per-connection verification callback, which certpin wraps. */
    void *p_bio;
    mbedtls_ssl_send_t *f_send;
    mbedtls_ssl_recv_t *f_recv;
    mbedtls_ssl_recv_timeout_t *f_recv_timeout;
    int (*app_vrfy)(void *, mbedtls_x509_crt *, int, uint32_t *);
    void *app_p_vrfy;

    hs_state hs;
    offer next;    /* set by certpin_mbedtls_session_set for the next ClientHello */
    offer offered; /* what this handshake's ClientHello offered (set: certpin's session) */
    size_t hello_id_len;
    unsigned char hello_id[32]; /* the session id the ClientHello carried */

    /* The chain being verified, indexed by depth (0 = leaf): its keys and subjects point into
     * mbedTLS's certificates, valid during the verification that calls the callback. */
    size_t chain_len;
    uint32_t chain_flags;
    int app_failed;
    certpin_cert chain[CP_MAX_CHAIN];
    char subjects[CP_MAX_CHAIN][CP_SUBJECT_MAX];
};

static int guard_send(void *p, const unsigned char *buf, size_t len);

/* ---- small helpers ------------------------------------------------------------------------- */

static void offer_clear(offer *o)
{
    free(o->ticket);
    memset(o, 0, sizeof(*o));
}

/* The peer's port, for reports: known when the BIO is mbedTLS's own socket. Its callbacks share
 * one context, so it is an mbedtls_net_context when any of them is mbedtls_net's own (an
 * application may wrap one of them: to log, or to pace its writes). */
static int peer_port(const certpin_mbedtls *cm)
{
    const mbedtls_net_context *net = cm->p_bio;
    int is_net = cm->f_send == mbedtls_net_send || cm->f_recv == mbedtls_net_recv ||
                 cm->f_recv_timeout == mbedtls_net_recv_timeout;
    return is_net && net != NULL ? cp_fd_peer_port(net->fd) : 0;
}

/* The host the application asked mbedTLS to verify (RFC 6125 section 6: the reference identity
 * comes from the client, never from the server), or NULL with the reason in why. */
static const char *asked_host(const certpin_mbedtls *cm, const char **why)
{
    if (cm->ssl->hostname == NULL || cm->ssl->hostname[0] == '\0') {
        *why = "no host to check: call mbedtls_ssl_set_hostname(ssl, name) with the name you "
               "connect to before the handshake (without it mbedTLS checks no name at all); "
               "certpin never takes the name from the server";
        return NULL;
    }
    return cm->ssl->hostname;
}

static void refuse(certpin_mbedtls *cm, int unverified, const char *reason)
{
    const char *why = NULL;
    certpin_conn conn;

    memset(&conn, 0, sizeof(conn));
    conn.port = peer_port(cm);
    conn.host = asked_host(cm, &why);
    if (unverified) {
        cp_result_set_unverified(cm->result, conn.host, conn.port, reason);
    } else {
        cp_result_set_error(cm->result, conn.host, conn.port, reason);
    }
    cp_ctx_report(cm->pin, &conn, cm->result);
    cm->hs = HS_REFUSED;
}

/* Whether tag was reached under the policy now in force for the host now set (the core decides);
 * the reason if not. */
static int tag_current(certpin_mbedtls *cm, const cp_session_tag *tag, char *why, size_t why_len)
{
    certpin_policy *policy = certpin_ctx_get_policy(cm->pin);
    cp_resume_host asked;
    int ok;

    asked.none = NULL;
    asked.name = asked_host(cm, &asked.none);
    asked.what = "the host name set to verify";
    ok = cp_resume_allowed(policy, &asked, tag, NULL, NULL, why, why_len);
    certpin_policy_free(policy);
    return ok;
}

/* ---- the verification callback ------------------------------------------------------------- */

static void describe_flags(uint32_t flags, const char *what, char *out, size_t out_len)
{
    char info[320];
    char *nl;
    if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0) {
        info[0] = '\0';
    }
    /* verify_info writes one line per flag: make them one sentence. */
    while ((nl = strchr(info, '\n')) != NULL) {
        *nl = nl[1] != '\0' ? ';' : '\0';
    }
    (void)snprintf(out, out_len, "%s (flags 0x%08x): %s", what, (unsigned)flags, info);
}

/* Decides at the leaf, on the chain recorded from the trust anchor down. Returns 0 to go on. */
static int decide(certpin_mbedtls *cm, mbedtls_x509_crt *leaf)
{
    certpin_cert served[CP_MAX_CHAIN];
    char reason[512];
    const char *why = NULL;
    const char *host = asked_host(cm, &why);
    const mbedtls_x509_crt *c;
    certpin_conn conn;
    size_t i;

    memset(&conn, 0, sizeof(conn));
    conn.host = host;
    conn.port = peer_port(cm);
    /* What the server sent, for reports: the chain mbedTLS parsed, leaf first. */
    for (c = leaf, i = 0; c != NULL && c->raw.p != NULL && i < CP_MAX_CHAIN; c = c->next, i++) {
        served[i].spki = c->pk_raw.p;
        served[i].spki_len = c->pk_raw.len;
        served[i].subject = NULL;
    }
    conn.served_chain = served;
    conn.served_len = i;

    if (cm->chain_flags != 0 || cm->app_failed) {
        /* Pinning narrows mbedTLS's verification, never replaces it: a chain with a flag at any
         * depth is not a verified chain, even if the application's callback cleared the flag. */
        describe_flags(cm->chain_flags,
                       cm->app_failed ? "the application's verification callback refused the chain"
                                      : "mbedTLS's verification failed",
                       reason, sizeof(reason));
        cp_result_set_unverified(cm->result, host, conn.port, reason);
        cp_ctx_report(cm->pin, &conn, cm->result);
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    }
    if (host == NULL) {
        cp_result_set_error(cm->result, NULL, conn.port, why);
        cp_ctx_report(cm->pin, &conn, cm->result);
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    }
    conn.verified_chain = cm->chain;
    conn.verified_len = cm->chain_len;
    if (certpin_ctx_check(cm->pin, &conn, cm->result) != CERTPIN_OK ||
        !certpin_verdict_accepted(certpin_result_verdict(cm->result))) {
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    }
    cm->hs = HS_VERIFIED;
    return 0;
}

/* mbedTLS calls this for each certificate of the chain it built, from the trust anchor
 * (depth = length - 1) down to the leaf (depth 0), with the flags its verification set. An error
 * returned here ends the verification and fails the handshake under every authmode; it must not
 * be MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, which OPTIONAL ignores. */
static int verify_cb(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    certpin_mbedtls *cm = p;
    uint32_t own = *flags;
    int (*app)(void *, mbedtls_x509_crt *, int, uint32_t *) = cm->app_vrfy;
    void *app_p = cm->app_p_vrfy;
    size_t d;
    int ret;

    if (app == NULL) {
        app = cm->ssl->conf->f_vrfy;
        app_p = cm->ssl->conf->p_vrfy;
    }
    if (depth < 0 || (size_t)depth >= CP_MAX_CHAIN) {
        refuse(cm, 0, "the verified chain is longer than the 16 certificates certpin checks");
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    }
    d = (size_t)depth;
    if (cm->chain_len == 0 || d + 1 > cm->chain_len) {
        /* The first call of a verification: the trust anchor (or the top of a partial chain). */
        cm->chain_len = d + 1;
        cm->chain_flags = 0;
        cm->app_failed = 0;
    }
    if (app != NULL) {
        ret = app(app_p, crt, depth, flags);
        if (ret != 0) {
            cm->chain_len = 0;
            refuse(cm, 1, "the application's verification callback failed");
            return ret;
        }
        if ((*flags & ~own) != 0) {
            cm->app_failed = 1;
        }
    }
    cm->chain_flags |= own | *flags;
    cm->chain[d].spki = crt->pk_raw.p;
    cm->chain[d].spki_len = crt->pk_raw.len;
    if (mbedtls_x509_dn_gets(cm->subjects[d], CP_SUBJECT_MAX, &crt->subject) < 0) {
        cm->subjects[d][0] = '\0';
    }
    cm->chain[d].subject = cm->subjects[d];
    if (d != 0) {
        return 0;
    }
    if (cm->ssl->f_send != guard_send) {
        /* Without the guard a resumed handshake would go unchecked: refuse them all, loudly. */
        cm->chain_len = 0;
        refuse(cm, 0,
               "mbedtls_ssl_set_bio was called after certpin_mbedtls_attach, which removed "
               "certpin's guard: set the BIO first, then attach");
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    }
    ret = decide(cm, crt);
    cm->chain_len = 0;
    if (ret != 0) {
        cm->hs = HS_REFUSED;
    }
    return ret;
}

/* ---- the guard ----------------------------------------------------------------------------- */

/* The ClientHello is going out: a new handshake. Decides whether the session it offers (if any)
 * may be offered. Returns 0 to send it. */
static int client_hello(certpin_mbedtls *cm)
{
    const mbedtls_ssl_session *sn = cm->ssl->session_negotiate;
    int has_ticket = 0;
    char why[512];

    certpin_result_reset(cm->result);
    cm->chain_len = 0;
    /* mbedTLS hands the ClientHello over again when the socket took only part of it (or none):
     * the offer certpin moved out of next the first time is still this ClientHello's, and it is
     * judged again below. */
    if (cm->next.set || cm->hs != HS_HELLO) {
        offer_clear(&cm->offered);
        cm->offered = cm->next; /* takes its ticket copy */
        memset(&cm->next, 0, sizeof(cm->next));
    }
    cm->hs = HS_HELLO;
    cm->hello_id_len = 0;
#if defined(MBEDTLS_SSL_SRV_C) && defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
    /* Pinning never runs without verification (see certpin/mbedtls.h): REQUIRED for this
     * handshake, whatever the configuration says. The certificate comes later. */
    mbedtls_ssl_set_hs_authmode(cm->ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
#endif
    if (sn == NULL) {
        refuse(cm, 0, "internal: no session under negotiation at the ClientHello");
        return MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED;
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    has_ticket = sn->ticket != NULL && sn->ticket_len != 0;
#endif
    if (sn->id_len == 0 && !has_ticket) {
        offer_clear(&cm->offered); /* nothing offered: a full handshake */
        return 0;
    }
    /* A session is offered: resuming it skips the certificate, so it must be the one certpin
     * offered, and certpin's verdict on it must hold under the current policy for this host. */
    if (!cm->offered.set ||
        (has_ticket ? cm->offered.ticket == NULL || cm->offered.ticket_len != sn->ticket_len ||
                          memcmp(cm->offered.ticket, sn->ticket, sn->ticket_len) != 0
                    : cm->offered.id_len != sn->id_len ||
                          memcmp(cm->offered.id, sn->id, sn->id_len) != 0)) {
        refuse(cm, 0,
               "session was not verified by certpin under this policy for this host (it "
               "was offered with mbedtls_ssl_set_session, not certpin_mbedtls_session_set): "
               "not resumed; drop it and connect again for a full handshake");
        return MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED;
    }
    if (!tag_current(cm, &cm->offered.tag, why, sizeof(why))) {
        refuse(cm, 0, why);
        return MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED;
    }
    /* The id the ClientHello carries (for a ticket, the one mbedTLS just made up): a server that
     * resumes echoes it (RFC 5246 section 7.4.1.3, RFC 5077 section 3.4). */
    memcpy(cm->hello_id, sn->id, sizeof(cm->hello_id));
    cm->hello_id_len = sn->id_len;
    return 0;
}

/* The first send after the ClientHello: decides whether this handshake goes on. */
static int clear(certpin_mbedtls *cm)
{
    const mbedtls_ssl_session *sn = cm->ssl->session_negotiate;
    char reason[512];

    if (cm->hs == HS_VERIFIED) {
        /* mbedTLS checks the leaf's key usage and curve after the callback and only flags them;
         * OPTIONAL would go on. */
        if (sn != NULL && sn->verify_result != 0) {
            describe_flags(sn->verify_result, "mbedTLS's verification of the leaf failed", reason,
                           sizeof(reason));
            refuse(cm, 1, reason);
            return 0;
        }
        cm->hs = HS_CLEARED;
        return 1;
    }
    if (cm->offered.set && sn != NULL && cm->hello_id_len != 0 && sn->id_len == cm->hello_id_len &&
        memcmp(sn->id, cm->hello_id, sn->id_len) == 0) {
        /* The server echoed the id: mbedTLS resumed certpin's session. */
        certpin_policy *policy = certpin_ctx_get_policy(cm->pin);
        if (policy != NULL &&
            memcmp(cm->offered.tag.policy_id, certpin_policy_id(policy), 32) == 0) {
            cp_result_set_resumed(cm->result, policy, cm->offered.tag.host, peer_port(cm),
                                  cm->offered.tag.verdict);
            certpin_policy_free(policy);
            cm->hs = HS_CLEARED;
            return 1;
        }
        certpin_policy_free(policy);
        refuse(cm, 0,
               "the policy changed during the handshake: session not resumed; connect "
               "again");
        return 0;
    }
    /* Nothing certpin checked: say what bypassed it. */
    if (cm->ssl->f_vrfy != verify_cb) {
        refuse(cm, 0,
               "certpin's verification callback did not run: mbedtls_ssl_set_verify was "
               "called after certpin_mbedtls_attach, which replaces certpin's callback");
    } else if (sn != NULL && sn->peer_cert == NULL) {
        refuse(cm, 0,
               "the server sent no certificate that certpin could check (a ciphersuite "
               "without certificates?)");
    } else {
        refuse(cm, 0,
               "certpin's verification callback did not run in this handshake (was "
               "MBEDTLS_SSL_VERIFY_NONE set for it after its ClientHello?)");
    }
    return 0;
}

static int guard_send(void *p, const unsigned char *buf, size_t len)
{
    certpin_mbedtls *cm = p;
    mbedtls_ssl_context *ssl = cm->ssl;

    /* Alerts carry no application data (and tell the server why the handshake ends). */
    if (ssl->out_msgtype == MBEDTLS_SSL_MSG_ALERT) {
        return cm->f_send(cm->p_bio, buf, len);
    }
    /* mbedTLS sends the ClientHello after moving to the next state (ssl_write_client_hello). */
    if (ssl->state == MBEDTLS_SSL_SERVER_HELLO && ssl->out_msgtype == MBEDTLS_SSL_MSG_HANDSHAKE) {
        int ret = client_hello(cm);
        return ret != 0 ? ret : cm->f_send(cm->p_bio, buf, len);
    }
    if (cm->hs == HS_VERIFIED || cm->hs == HS_HELLO) {
        (void)clear(cm);
    } else if (cm->hs == HS_NONE) {
        refuse(cm, 0,
               "data before any handshake certpin saw: was certpin attached after the "
               "handshake began?");
    }
    if (cm->hs != HS_CLEARED) {
        return MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED;
    }
    return cm->f_send(cm->p_bio, buf, len);
}

static int guard_recv(void *p, unsigned char *buf, size_t len)
{
    certpin_mbedtls *cm = p;
    return cm->f_recv(cm->p_bio, buf, len);
}

static int guard_recv_timeout(void *p, unsigned char *buf, size_t len, uint32_t timeout)
{
    certpin_mbedtls *cm = p;
    return cm->f_recv_timeout(cm->p_bio, buf, len, timeout);
}

/* ---- public functions ---------------------------------------------------------------------- */

certpin_status certpin_mbedtls_attach(mbedtls_ssl_context *ssl, certpin_ctx *pin,
                                      certpin_mbedtls **out, certpin_error *err)
{
    certpin_mbedtls *cm;

    if (out != NULL) {
        *out = NULL;
    }
    if (ssl == NULL || pin == NULL || out == NULL) {
        return cp_error(err, CERTPIN_E_ARG,
                        "certpin_mbedtls_attach needs an SSL context, a "
                        "certpin context and where to put the attachment");
    }
    if (ssl->conf == NULL) {
        return cp_error(err, CERTPIN_E_ARG,
                        "the SSL context is not set up: call "
                        "mbedtls_ssl_setup(ssl, conf) first");
    }
    if (ssl->conf->endpoint != MBEDTLS_SSL_IS_CLIENT) {
        return cp_error(err, CERTPIN_E_ARG,
                        "certpin pins the certificates of servers: attach it "
                        "to a client connection");
    }
    if (ssl->conf->transport != MBEDTLS_SSL_TRANSPORT_STREAM) {
        return cp_error(err, CERTPIN_E_ARG, "certpin's mbedTLS adapter supports TLS, not DTLS");
    }
    if (ssl->f_send == NULL || ssl->f_send == guard_send || ssl->f_vrfy == verify_cb) {
        return cp_error(err, CERTPIN_E_ARG,
                        ssl->f_send == NULL
                            ? "the SSL context has no BIO: call mbedtls_ssl_set_bio first (certpin "
                              "wraps it)"
                            : "certpin is already attached to this SSL context");
    }
    cm = calloc(1, sizeof(*cm));
    if (cm == NULL || (cm->result = certpin_result_new()) == NULL) {
        free(cm);
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    cm->ssl = ssl;
    cm->pin = certpin_ctx_ref(pin);
    cm->p_bio = ssl->p_bio;
    cm->f_send = ssl->f_send;
    cm->f_recv = ssl->f_recv;
    cm->f_recv_timeout = ssl->f_recv_timeout;
    cm->app_vrfy = ssl->f_vrfy;
    cm->app_p_vrfy = ssl->p_vrfy;
    mbedtls_ssl_set_bio(ssl, cm, guard_send, cm->f_recv != NULL ? guard_recv : NULL,
                        cm->f_recv_timeout != NULL ? guard_recv_timeout : NULL);
    mbedtls_ssl_set_verify(ssl, verify_cb, cm);
    *out = cm;
    return CERTPIN_OK;
}

void certpin_mbedtls_free(certpin_mbedtls *cm)
{
    if (cm == NULL) {
        return;
    }
    offer_clear(&cm->next);
    offer_clear(&cm->offered);
    certpin_result_free(cm->result);
    certpin_ctx_free(cm->pin);
    free(cm);
}

const certpin_result *certpin_mbedtls_result(const certpin_mbedtls *cm)
{
    return cm != NULL ? cm->result : NULL;
}

certpin_status certpin_mbedtls_session_save(certpin_mbedtls *cm, certpin_mbedtls_session **out)
{
    certpin_mbedtls_session *s;
    const certpin_policy *policy;

    CP_ENSURE(cm != NULL && out != NULL, CERTPIN_E_ARG);
    *out = NULL;
    policy = certpin_result_policy(cm->result);
    /* Only a session certpin cleared in a handshake that finished. */
    CP_ENSURE(cm->hs == HS_CLEARED && cm->ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER &&
                  policy != NULL && certpin_verdict_accepted(certpin_result_verdict(cm->result)),
              CERTPIN_E_ARG);
    s = calloc(1, sizeof(*s));
    CP_ENSURE_REF(s, CERTPIN_E_NOMEM);
    mbedtls_ssl_session_init(&s->session);
    if (mbedtls_ssl_get_session(cm->ssl, &s->session) != 0) {
        certpin_mbedtls_session_free(s);
        return CERTPIN_E_CRYPTO;
    }
    cp_session_tag_set(&s->tag, cm->result);
    *out = s;
    return CERTPIN_OK;
}

certpin_status certpin_mbedtls_session_set(certpin_mbedtls *cm,
                                           const certpin_mbedtls_session *session)
{
    char why[512];
    int current;
    offer o;

    CP_ENSURE(cm != NULL && session != NULL, CERTPIN_E_ARG);
    /* Offered either way: the ClientHello decides (as it does when the policy changes before it),
     * so that a session certpin would not resume fails the handshake as with every adapter. */
    current = tag_current(cm, &session->tag, why, sizeof(why));
    memset(&o, 0, sizeof(o));
    o.set = 1;
    o.tag = session->tag;
    o.id_len = session->session.id_len <= sizeof(o.id) ? session->session.id_len : 0;
    memcpy(o.id, session->session.id, o.id_len);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    if (session->session.ticket != NULL && session->session.ticket_len != 0) {
        o.ticket = malloc(session->session.ticket_len);
        CP_ENSURE_REF(o.ticket, CERTPIN_E_NOMEM);
        memcpy(o.ticket, session->session.ticket, session->session.ticket_len);
        o.ticket_len = session->session.ticket_len;
    }
#endif
    if (mbedtls_ssl_set_session(cm->ssl, &session->session) != 0) {
        offer_clear(&o);
        return CERTPIN_E_CRYPTO;
    }
    offer_clear(&cm->next);
    cm->next = o;
    return current ? CERTPIN_OK : CERTPIN_E_ARG;
}

void certpin_mbedtls_session_free(certpin_mbedtls_session *session)
{
    if (session == NULL) {
        return;
    }
    mbedtls_ssl_session_free(&session->session);
    free(session);
}

certpin_status certpin_mbedtls_cert_pin(const mbedtls_x509_crt *crt,
                                        unsigned char pin[CERTPIN_PIN_LEN])
{
    CP_ENSURE(crt != NULL && pin != NULL && crt->pk_raw.p != NULL, CERTPIN_E_ARG);
    return certpin_pin_from_spki(crt->pk_raw.p, crt->pk_raw.len, pin);
}
