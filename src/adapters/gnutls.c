/* The GnuTLS adapter (GnuTLS 3.7): runs GnuTLS's verification in the session's verification
 * function, takes the path it used from the verification output function, hands the core each
 * certificate's DER SubjectPublicKeyInfo and turns the verdict into a failed handshake; a hook
 * before the client's Finished fails every handshake certpin did not clear (see certpin/gnutls.h).
 * Every decision is the core's; this file extracts bytes and fails closed. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "certpin/gnutls.h"
#include "private/crypto.h"
#include "private/error.h"
#include "private/peer.h"
#include "private/result.h"
#include "private/resume.h"
#include "private/safety.h"

/* The extension certpin registers on a session to keep its state there (gnutls_ext_set_data) and
 * to see each ClientHello (its send function, which never sends anything). Private use (RFC 8446
 * section 4.2); the OpenSSL adapter's checkpoint uses the same number, never on the wire either. */
#define STATE_EXT_TYPE 0xFF5A

/* The (certificate, issuer) pairs one verification reports; more means a path certpin does not
 * check (the core takes CP_MAX_CHAIN certificates). */
#define MAX_PAIRS 32

/* What certpin keeps with a saved session: its tag, and the server's certificate, which binds a
 * resumption to the session certpin offered. */
typedef struct session_tag {
    cp_session_tag tag;
    unsigned char leaf_sha256[32]; /* SHA-256 of the server's certificate (DER) */
} session_tag;

struct certpin_gnutls_session {
    gnutls_datum_t data; /* gnutls_session_get_data2's */
    session_tag tag;
};

typedef enum hs_state {
    HS_NONE = 0, /* no ClientHello yet */
    HS_HELLO,    /* the ClientHello went out */
    HS_VERIFIED, /* certpin's verification function accepted the chain in this handshake */
    HS_CLEARED,  /* the hook let the client's Finished go */
    HS_REFUSED
} hs_state;

typedef struct state {
    certpin_ctx *pin;
    char *host; /* as given, or NULL */
    int port;   /* the peer's, for reports (at the ClientHello) */
    certpin_result *result;
    hs_state hs;
    int next_set; /* certpin_gnutls_session_set offered next_tag for the next ClientHello */
    session_tag next_tag;
    int offered; /* this handshake's ClientHello offered offered_tag */
    session_tag offered_tag;
} state;

/* What the verification output function collects, for the thread that is verifying. */
typedef struct pair {
    gnutls_datum_t cert;
    gnutls_datum_t issuer;
    unsigned output;
} pair;

typedef struct collector {
    pair pairs[MAX_PAIRS];
    size_t n;
    int overflow;
} collector;

static _Thread_local collector *current_collector;

/* ---- state --------------------------------------------------------------------------------- */

static void state_free(gnutls_ext_priv_data_t p)
{
    state *st = p;
    if (st != NULL) {
        certpin_result_free(st->result);
        certpin_ctx_free(st->pin);
        free(st->host);
        free(st);
    }
}

static state *state_get(gnutls_session_t session)
{
    gnutls_ext_priv_data_t p = NULL;
    if (gnutls_ext_get_data(session, STATE_EXT_TYPE, &p) < 0) {
        return NULL;
    }
    return p;
}

static void refuse(state *st, int unverified, const char *reason, const certpin_conn *conn)
{
    certpin_conn none;
    if (conn == NULL) {
        memset(&none, 0, sizeof(none));
        none.host = st->host;
        none.port = st->port;
        conn = &none;
    }
    if (unverified) {
        cp_result_set_unverified(st->result, st->host, conn->port, reason);
    } else {
        cp_result_set_error(st->result, st->host, conn->port, reason);
    }
    cp_ctx_report(st->pin, conn, st->result);
    st->hs = HS_REFUSED;
}

/* Whether tag was reached under policy for the host certpin checks (the core decides). */
static int tag_current_under(const state *st, const certpin_policy *policy,
                             const cp_session_tag *tag, char *why, size_t why_len)
{
    cp_resume_host asked;
    asked.name = st->host;
    asked.none = "no host given to certpin_gnutls_attach: session not resumed";
    asked.what = "the host given to certpin_gnutls_attach";
    return cp_resume_allowed(policy, &asked, tag, NULL, NULL, why, why_len);
}

/* Whether tag was reached under the policy now in force for the host certpin checks. */
static int tag_current(const state *st, const cp_session_tag *tag, char *why, size_t why_len)
{
    certpin_policy *policy = certpin_ctx_get_policy(st->pin);
    int ok = tag_current_under(st, policy, tag, why, why_len);
    certpin_policy_free(policy);
    return ok;
}

/* SHA-256 of the server's certificate, as GnuTLS keeps it with the session (also a resumed one). */
static int peer_leaf_sha256(gnutls_session_t session, unsigned char out[32])
{
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);
    return peers != NULL && n > 0 && cp_sha256(peers[0].data, peers[0].size, out) == CERTPIN_OK;
}

/* The peer's port, for reports, when the session's transport is a socket
 * (gnutls_transport_set_int); 0 otherwise. */
static int peer_port(gnutls_session_t session)
{
    return cp_fd_peer_port(gnutls_transport_get_int(session));
}

/* ---- certificates as the core sees them ---------------------------------------------------- */

typedef struct cert_view {
    gnutls_datum_t spki[CP_MAX_CHAIN];
    char subjects[CP_MAX_CHAIN][CP_SUBJECT_MAX];
    certpin_cert certs[CP_MAX_CHAIN];
    size_t len;
} cert_view;

static int spki_of(gnutls_x509_crt_t crt, gnutls_datum_t *spki)
{
    gnutls_pubkey_t key = NULL;
    int ok = gnutls_pubkey_init(&key) >= 0 && gnutls_pubkey_import_x509(key, crt, 0) >= 0 &&
             gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, spki) >= 0;
    gnutls_pubkey_deinit(key);
    return ok;
}

/* Appends the certificate der to v. Returns 0 on failure. */
static int view_add(cert_view *v, const gnutls_datum_t *der)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t dn = {NULL, 0};
    size_t i = v->len;
    int ok;

    if (i >= CP_MAX_CHAIN) {
        return 0;
    }
    ok = gnutls_x509_crt_init(&crt) >= 0 &&
         gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0 && spki_of(crt, &v->spki[i]);
    if (ok) {
        if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
            (void)snprintf(v->subjects[i], CP_SUBJECT_MAX, "%.*s", (int)dn.size, (char *)dn.data);
            gnutls_free(dn.data);
        } else {
            v->subjects[i][0] = '\0';
        }
        v->certs[i].spki = v->spki[i].data;
        v->certs[i].spki_len = v->spki[i].size;
        v->certs[i].subject = v->subjects[i];
        v->len++;
    }
    gnutls_x509_crt_deinit(crt);
    return ok;
}

static void view_free(cert_view *v)
{
    size_t i;
    for (i = 0; i < v->len; i++) {
        gnutls_free(v->spki[i].data);
    }
    v->len = 0;
}

static int same_der(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
    return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

/* The path verification used, leaf first: from the server's leaf, each certificate's issuer as
 * the last successful pair reported it (GnuTLS may try a path, fail, and try another: the pairs of
 * the last attempt come last), up to the trust anchor, which reports no issuer of its own. */
static int path_build(const collector *c, const gnutls_datum_t *leaf, cert_view *v)
{
    const gnutls_datum_t *cur = leaf;
    size_t steps;

    if (!view_add(v, cur)) {
        return 0;
    }
    for (steps = 0; steps < CP_MAX_CHAIN; steps++) {
        const gnutls_datum_t *next = NULL;
        size_t i;
        for (i = c->n; i-- > 0;) {
            if (c->pairs[i].output == 0 && same_der(&c->pairs[i].cert, cur) &&
                !same_der(&c->pairs[i].issuer, cur)) {
                next = &c->pairs[i].issuer;
                break;
            }
        }
        if (next == NULL) {
            return 1;
        }
        if (!view_add(v, next)) {
            return 0;
        }
        cur = next;
    }
    return 0; /* longer than certpin checks, or a loop */
}

static void collector_free(collector *c)
{
    size_t i;
    for (i = 0; i < c->n; i++) {
        gnutls_free(c->pairs[i].cert.data);
        gnutls_free(c->pairs[i].issuer.data);
    }
    c->n = 0;
}

/* GnuTLS calls this for each (certificate, issuer) pair it checks, on the verifying thread. */
static int output_fn(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_x509_crl_t crl,
                     unsigned int verification_output)
{
    collector *c = current_collector;
    pair *p;
    (void)crl;
    if (c == NULL || cert == NULL || issuer == NULL) {
        return 0;
    }
    if (c->n >= MAX_PAIRS) {
        c->overflow = 1;
        return 0;
    }
    p = &c->pairs[c->n];
    memset(p, 0, sizeof(*p));
    if (gnutls_x509_crt_export2(cert, GNUTLS_X509_FMT_DER, &p->cert) < 0 ||
        gnutls_x509_crt_export2(issuer, GNUTLS_X509_FMT_DER, &p->issuer) < 0) {
        gnutls_free(p->cert.data);
        gnutls_free(p->issuer.data);
        c->overflow = 1;
        return 0;
    }
    p->output = verification_output;
    c->n++;
    return 0;
}

/* ---- the verification function ------------------------------------------------------------- */

static int verify_fn(gnutls_session_t session)
{
    state *st = state_get(session);
    gnutls_typed_vdata_st data[2];
    const gnutls_datum_t *peers;
    unsigned npeers = 0;
    unsigned status = 0;
    unsigned i;
    collector *c;
    cert_view *served;
    cert_view *verified;
    certpin_conn conn;
    char reason[512];
    int ret = GNUTLS_E_CERTIFICATE_ERROR;

    if (st == NULL) {
        return GNUTLS_E_CERTIFICATE_ERROR; /* certpin's function without certpin's state */
    }
    c = calloc(1, sizeof(*c));
    served = calloc(1, sizeof(*served));
    verified = calloc(1, sizeof(*verified));
    memset(&conn, 0, sizeof(conn));
    conn.host = st->host;
    conn.port = st->port;
    if (c == NULL || served == NULL || verified == NULL) {
        refuse(st, 0, "out of memory while verifying", NULL);
        goto out;
    }
    peers = gnutls_certificate_get_peers(session, &npeers);
    /* The chain as sent is described only for a report, its only reader (never checked: see
     * below): each certificate imported, its key exported, its subject printed. */
    for (i = 0; cp_ctx_reports(st->pin) && peers != NULL && i < npeers && i < CP_MAX_CHAIN; i++) {
        (void)view_add(served, &peers[i]);
    }
    conn.served_chain = served->certs;
    conn.served_len = served->len;
    if (st->host == NULL) {
        refuse(st, 0,
               "no host given to certpin_gnutls_attach: certpin checks exactly the host "
               "the application connects to, never a name the server supplies",
               &conn);
        goto out;
    }
    if (peers == NULL || npeers == 0 || gnutls_certificate_type_get(session) != GNUTLS_CRT_X509) {
        refuse(st, 1, "the server sent no X.509 certificate", &conn);
        goto out;
    }

    /* GnuTLS's own verification, as gnutls_session_set_verify_cert(session, host, 0) does it:
     * the chain against the credentials' trust list, the host name, the server key purpose. The
     * output function reports the path it used. */
    memset(data, 0, sizeof(data));
    data[0].type = GNUTLS_DT_DNS_HOSTNAME;
    data[0].data = (unsigned char *)st->host;
    data[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
    data[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
    current_collector = c;
    ret = gnutls_certificate_verify_peers(session, data, 2, &status);
    current_collector = NULL;
    if (ret < 0 || status != 0) {
        gnutls_datum_t text = {NULL, 0};
        if (ret >= 0 &&
            gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
            (void)snprintf(reason, sizeof(reason), "GnuTLS's verification failed: %.*s",
                           (int)text.size, (char *)text.data);
            gnutls_free(text.data);
        } else {
            (void)snprintf(reason, sizeof(reason), "GnuTLS's verification failed: %s",
                           gnutls_strerror(ret < 0 ? ret : GNUTLS_E_CERTIFICATE_ERROR));
        }
        refuse(st, 1, reason, &conn);
        ret = GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
        goto out;
    }
    /* Never the chain as sent: a server can append any certificate to it (CVE-2016-2402). */
    if (c->overflow || !path_build(c, &peers[0], verified)) {
        refuse(st, 0,
               "certpin could not follow the path GnuTLS verified (was "
               "gnutls_session_set_verify_output_function called after certpin_gnutls_attach?)",
               &conn);
        ret = GNUTLS_E_CERTIFICATE_ERROR;
        goto out;
    }
    conn.verified_chain = verified->certs;
    conn.verified_len = verified->len;
    if (certpin_ctx_check(st->pin, &conn, st->result) != CERTPIN_OK ||
        !certpin_verdict_accepted(certpin_result_verdict(st->result))) {
        st->hs = HS_REFUSED;
        ret = GNUTLS_E_CERTIFICATE_ERROR;
        goto out;
    }
    st->hs = HS_VERIFIED;
    ret = 0;
out:
    if (c != NULL) {
        collector_free(c);
    }
    if (served != NULL) {
        view_free(served);
    }
    if (verified != NULL) {
        view_free(verified);
    }
    free(c);
    free(served);
    free(verified);
    return ret;
}

/* ---- the ClientHello and the client's Finished --------------------------------------------- */

/* Called for each ClientHello certpin's extension could go into: a new handshake. Sends nothing. */
static int hello_send(gnutls_session_t session, gnutls_buffer_t extdata)
{
    state *st = state_get(session);
    char why[512];
    (void)extdata;

    if (st == NULL) {
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    certpin_result_reset(st->result);
    st->hs = HS_HELLO;
    st->port = peer_port(session);
    st->offered = st->next_set;
    st->offered_tag = st->next_tag;
    st->next_set = 0;
    if (st->offered && !tag_current(st, &st->offered_tag.tag, why, sizeof(why))) {
        /* Refused before the ClientHello is written: nothing is sent. */
        refuse(st, 0, why, NULL);
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    return 0;
}

static int hello_recv(gnutls_session_t session, const unsigned char *data, size_t len)
{
    (void)session;
    (void)data;
    (void)len;
    return GNUTLS_E_RECEIVED_ILLEGAL_EXTENSION; /* certpin never sends it: a server cannot answer */
}

/* Before the client's Finished (TLS 1.2 and 1.3, full or resumed) and so before any application
 * data: the handshake goes on only if certpin cleared it. */
static int hook_fn(gnutls_session_t session, unsigned int htype, unsigned when,
                   unsigned int incoming, const gnutls_datum_t *msg)
{
    state *st;
    char why[512];
    unsigned char leaf[32];
    (void)msg;

    if (incoming || when != GNUTLS_HOOK_PRE || htype != GNUTLS_HANDSHAKE_FINISHED) {
        return 0;
    }
    st = state_get(session);
    if (st == NULL) {
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    if (st->hs == HS_VERIFIED || st->hs == HS_CLEARED) {
        st->hs = HS_CLEARED;
        return 0;
    }
    if (st->hs == HS_REFUSED) {
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    if (gnutls_session_is_resumed(session)) {
        /* One policy for the decision and for the result it leaves. */
        certpin_policy *policy = certpin_ctx_get_policy(st->pin);
        if (!st->offered) {
            refuse(st, 0,
                   "session was not verified by certpin under this policy for this host (a "
                   "session set with gnutls_session_set_data, not certpin_gnutls_session_set, "
                   "was resumed): drop it and connect again for a full handshake",
                   NULL);
        } else if (peer_leaf_sha256(session, leaf)
                       ? memcmp(leaf, st->offered_tag.leaf_sha256, sizeof(leaf)) != 0
                       : gnutls_protocol_get_version(session) != GNUTLS_TLS1_3) {
            /* The server's certificate binds the resumed session to the one certpin offered. A
             * TLS 1.3 client gets it back only after its Finished (the handshake's authentication
             * is the PSK's until then): there the tag alone decides. */
            refuse(st, 0,
                   "the session resumed is not the one certpin_gnutls_session_set offered "
                   "(gnutls_session_set_data was called after it): connect again",
                   NULL);
        } else if (!tag_current_under(st, policy, &st->offered_tag.tag, why, sizeof(why))) {
            refuse(st, 0, why, NULL);
        } else {
            cp_result_set_resumed(st->result, policy, st->offered_tag.tag.host, st->port,
                                  st->offered_tag.tag.verdict);
            st->hs = HS_CLEARED;
        }
        certpin_policy_free(policy);
        return st->hs == HS_CLEARED ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
    }
    refuse(st, 0,
           "certpin's verification did not run in this handshake: the application replaced "
           "it after certpin_gnutls_attach (gnutls_session_set_verify_cert, "
           "gnutls_session_set_verify_function), which removes certpin's check",
           NULL);
    return GNUTLS_E_CERTIFICATE_ERROR;
}

/* ---- public functions ---------------------------------------------------------------------- */

certpin_status certpin_gnutls_attach(gnutls_session_t session, certpin_ctx *pin, const char *host,
                                     certpin_error *err)
{
    state *st;
    char *copy = NULL;
    int ret;

    if (session == NULL || pin == NULL) {
        return cp_error(err, CERTPIN_E_ARG,
                        "certpin_gnutls_attach needs a session and a certpin "
                        "context");
    }
    if (host != NULL && (copy = strdup(host)) == NULL) {
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    st = state_get(session);
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL || (st->result = certpin_result_new()) == NULL) {
            free(st);
            free(copy);
            return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        }
        ret = gnutls_session_ext_register(session, "certpin", STATE_EXT_TYPE, GNUTLS_EXT_TLS,
                                          hello_recv, hello_send, state_free, NULL, NULL,
                                          GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_TLS);
        if (ret < 0) {
            state_free(st);
            free(copy);
            return cp_error(err, CERTPIN_E_CRYPTO, "GnuTLS refused certpin's extension: %s",
                            gnutls_strerror(ret));
        }
        gnutls_ext_set_data(session, STATE_EXT_TYPE, st);
        if (state_get(session) != st) {
            state_free(st);
            free(copy);
            return cp_error(err, CERTPIN_E_CRYPTO, "GnuTLS did not keep certpin's state");
        }
    }
    (void)certpin_ctx_ref(pin);
    certpin_ctx_free(st->pin);
    st->pin = pin;
    free(st->host);
    st->host = copy;
    gnutls_session_set_verify_function(session, verify_fn);
    gnutls_session_set_verify_output_function(session, output_fn);
    gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_PRE, hook_fn);
    return CERTPIN_OK;
}

const certpin_result *certpin_gnutls_result(gnutls_session_t session)
{
    state *st = session != NULL ? state_get(session) : NULL;
    return st != NULL ? st->result : NULL;
}

certpin_status certpin_gnutls_session_save(gnutls_session_t session, certpin_gnutls_session **out)
{
    state *st;
    certpin_gnutls_session *s;
    const certpin_policy *policy;

    CP_ENSURE(session != NULL && out != NULL, CERTPIN_E_ARG);
    *out = NULL;
    st = state_get(session);
    CP_ENSURE(st != NULL && st->hs == HS_CLEARED, CERTPIN_E_ARG);
    policy = certpin_result_policy(st->result);
    CP_ENSURE(policy != NULL && certpin_verdict_accepted(certpin_result_verdict(st->result)),
              CERTPIN_E_ARG);
    s = calloc(1, sizeof(*s));
    CP_ENSURE_REF(s, CERTPIN_E_NOMEM);
    if (gnutls_session_get_data2(session, &s->data) < 0 ||
        !peer_leaf_sha256(session, s->tag.leaf_sha256)) {
        certpin_gnutls_session_free(s);
        return CERTPIN_E_CRYPTO;
    }
    cp_session_tag_set(&s->tag.tag, st->result);
    *out = s;
    return CERTPIN_OK;
}

certpin_status certpin_gnutls_session_set(gnutls_session_t session,
                                          const certpin_gnutls_session *saved)
{
    state *st;
    char why[512];

    CP_ENSURE(session != NULL && saved != NULL, CERTPIN_E_ARG);
    st = state_get(session);
    CP_ENSURE(st != NULL, CERTPIN_E_ARG);
    if (gnutls_session_set_data(session, saved->data.data, saved->data.size) < 0) {
        return CERTPIN_E_CRYPTO;
    }
    /* Offered either way: the ClientHello decides, as when the policy changes before it. */
    st->next_set = 1;
    st->next_tag = saved->tag;
    return tag_current(st, &saved->tag.tag, why, sizeof(why)) ? CERTPIN_OK : CERTPIN_E_ARG;
}

void certpin_gnutls_session_free(certpin_gnutls_session *saved)
{
    if (saved == NULL) {
        return;
    }
    gnutls_free(saved->data.data);
    free(saved);
}

certpin_status certpin_gnutls_cert_pin(gnutls_x509_crt_t crt, unsigned char pin[CERTPIN_PIN_LEN])
{
    gnutls_datum_t spki = {NULL, 0};
    certpin_status st;
    CP_ENSURE(crt != NULL && pin != NULL, CERTPIN_E_ARG);
    CP_ENSURE(spki_of(crt, &spki), CERTPIN_E_CRYPTO);
    st = certpin_pin_from_spki(spki.data, spki.size, pin);
    gnutls_free(spki.data);
    return st;
}
