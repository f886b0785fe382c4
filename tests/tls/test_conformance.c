/* The conformance suite: one table of scenarios, run against every adapter built (a column per
 * TLS stack: conformance.h) over live loopback connections to the harness's OpenSSL server, over
 * TLS 1.2 and, where the stack speaks it, TLS 1.3, with the same expected result for each. The
 * outcome that counts is the server's: whether any application byte reached it, which every stack
 * can show. Where an attack works against the stack alone, a control row proves it (the same
 * connection without certpin gets through).
 *
 * Not here: the mitmproxy row (an interception proxy whose CA the device trusts) is the shell
 * suite tests/intercept, which runs mitmdump against every stack's example client (OpenSSL,
 * libcurl, mbedTLS, GnuTLS) and certpin check --tls STACK; the OpenSSL adapter's own API (verify
 * callbacks, several hosts, per-connection attachment, policy swaps under load) is
 * tests/tls/test_tls_*.c. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "conformance.h"

/* ---- the columns built in this flavour ------------------------------------------------------ */

static const column *const columns[] = {
#ifdef CERTPIN_TEST_OPENSSL
    &column_openssl,
#endif
#ifdef CERTPIN_TEST_CURL
    &column_curl,
#endif
#ifdef CERTPIN_TEST_MBEDTLS
    &column_mbedtls,
#endif
#ifdef CERTPIN_TEST_GNUTLS
    &column_gnutls,
#endif
};
#define COLUMNS (sizeof(columns) / sizeof(columns[0]))

void outcome_from_result(const certpin_result *r, conn_outcome *out)
{
    const certpin_policy *p;
    if (r == NULL) {
        out->verdict = CERTPIN_NOT_CHECKED;
        return;
    }
    out->has_result = 1;
    out->verdict = certpin_result_verdict(r);
    out->warnings = certpin_result_warnings(r);
    out->depth = certpin_result_depth(r);
    (void)snprintf(out->host, sizeof(out->host), "%s", certpin_result_host(r));
    (void)snprintf(out->reason, sizeof(out->reason), "%s", certpin_result_reason(r));
    p = certpin_result_policy(r);
    (void)snprintf(out->policy_id, sizeof(out->policy_id), "%s",
                   p != NULL ? certpin_policy_id_hex(p) : "");
}

/* ---- the table ---------------------------------------------------------------------------- */

#define API_PINNED(...)                                                                            \
    {                                                                                              \
        .entries = { {.host = "api.example.com", __VA_ARGS__} }                                    \
    }

/* Where the session a resumption row offers comes from. */
typedef enum source {
    SRC_NONE = 0,
    SRC_PINNED_API, /* a pinned connection (policy A) to the legit server for api.example.com */
    SRC_PINNED_WWW, /* the same for www.example.com */
    SRC_PLAIN_ROGUE /* the stack without certpin, same trust, to the rogue server */
} source;

typedef struct scenario {
    const char *name;
    identity serve;
    const char *trust;
    policy_spec policy;
    int null_policy;
    host_given given;
    const char *host;
    const char *ip;
    int family;
    int verify_off;
    int needs_ip_san; /* only columns whose stack matches IP subjectAltNames */
    /* resumption */
    source src;
    int switch_policy; /* the context's policy is B when the session is offered */
    offer_way offer;
    int needs_owned_sessions;
    int swap_in_plain; /* after the pinned session, one from a plain connection to the rogue
                          server is set with the stack's own call */
    int replace_verify;
    int needs_guard; /* only columns whose adapter guards the end of the handshake */

    /* expectations, the same for every column */
    int accepted; /* the handshake succeeds and the request reaches the server */
    certpin_verdict verdict;
    unsigned warnings; /* bits that must be set */
    int check_depth;
    int depth;
    int resumed;  /* the server resumed the session */
    int no_hello; /* refused before the ClientHello: nothing reached the server */
    certpin_verdict
        dropped_verdict;     /* where the stack drops a stale session and makes a full handshake
                        instead (drops_stale_sessions), the verdict of that handshake */
    int control_accepts;     /* control: without certpin the stack lets the request through */
    const char *served[6];   /* PKI names of the chain the report says was served */
    const char *verified[6]; /* and verified */
} scenario;

static const scenario scenarios[] = {
    /* the legit chain pinned at each depth (the root is only in the client's trust store) */
    {.name = "legit-pin-leaf",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"LEAF", "BACKUP"}),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .check_depth = 1,
     .depth = 0},
    {.name = "legit-pin-intermediate",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .check_depth = 1,
     .depth = 1},
    {.name = "legit-pin-root-not-sent",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_ROOT", "BACKUP"}),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .check_depth = 1,
     .depth = 2},
    {.name = "legit-every-pin-on-chain",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "LEAF"}),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .warnings = CERTPIN_WARN_NO_BACKUP},

    /* a leaf for the same name from a second CA the client also trusts */
    {.name = "rogue-second-ca",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .verdict = CERTPIN_REJECTED_NO_MATCH,
     .control_accepts = 1,
     .served = {"ROGUE", "CA2_INT"},
     .verified = {"ROGUE", "CA2_INT", "CA2_ROOT"}},

    /* chain padding (CVE-2016-2402): the pinned CAs appended to what the rogue server sends; only
     * the path verification used may be pinned */
    {.name = "padded-chain",
     .serve = ID_PADDED,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "CA1_ROOT"}),
     .verdict = CERTPIN_REJECTED_NO_MATCH,
     .control_accepts = 1,
     .served = {"ROGUE", "CA2_INT", "CA1_INT", "CA1_ROOT"},
     .verified = {"ROGUE", "CA2_INT", "CA2_ROOT"}},

    /* deny pins win over a matching pin, at any depth */
    {.name = "deny-leaf-while-int-pinned",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}, .deny = {"LEAF"}),
     .verdict = CERTPIN_REJECTED_DENIED,
     .check_depth = 1,
     .depth = 0},
    {.name = "deny-root-not-sent",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"LEAF", "BACKUP"}, .deny = {"CA1_ROOT"}),
     .verdict = CERTPIN_REJECTED_DENIED,
     .check_depth = 1,
     .depth = 2},

    /* expiry of the entry, and of the certificate */
    {.name = "expired-entry-unpins",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}, .expires = "2020-01-01",
                          .on_expiry = CERTPIN_ON_EXPIRY_UNPIN),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_EXPIRED},
    {.name = "expired-entry-enforced",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}, .expires = "2020-01-01",
                          .on_expiry = CERTPIN_ON_EXPIRY_ENFORCE),
     .verdict = CERTPIN_REJECTED_NO_MATCH,
     .warnings = CERTPIN_WARN_EXPIRED_ENFORCED},
    {.name = "expired-certificate",
     .serve = ID_EXPIRED,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .verdict = CERTPIN_REJECTED_UNVERIFIED},

    /* report-only */
    {.name = "report-only",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}, .mode = CERTPIN_MODE_REPORT_ONLY),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_REPORT_ONLY,
     .served = {"ROGUE", "CA2_INT"},
     .verified = {"ROGUE", "CA2_INT", "CA2_ROOT"}},

    /* hosts no entry lists */
    {.name = "unlisted-host-deny",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.unpinned = CERTPIN_UNPINNED_DENY,
                .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}}}},
     .host = "localhost",
     .verdict = CERTPIN_REJECTED_UNPINNED_HOST},
    {.name = "unlisted-host-allow",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}}}},
     .host = "localhost",
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_NOT_PINNED},
    {.name = "wildcard-entry-rogue",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = {.entries = {{.host = "*.example.com", .pins = {"CA1_INT", "BACKUP"}}}},
     .host = "www.example.com",
     .verdict = CERTPIN_REJECTED_NO_MATCH},

    /* no host given to verify: fail closed, never the server's name */
    {.name = "no-host-given",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .given = GIVE_NONE,
     .verdict = CERTPIN_REJECTED_ERROR},
    {.name = "no-policy",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .null_policy = 1,
     .verdict = CERTPIN_REJECTED_ERROR},

    /* verification turned off by the application: certpin verifies anyway */
    {.name = "verify-off-legit",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .verify_off = 1,
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    {.name = "verify-off-rogue",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .verify_off = 1,
     .verdict = CERTPIN_REJECTED_NO_MATCH,
     .control_accepts = 1},
    {.name = "verify-off-untrusted",
     .serve = ID_UNTRUSTED,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA3_LEAF", "BACKUP"}),
     .verify_off = 1,
     .verdict = CERTPIN_REJECTED_UNVERIFIED,
     .control_accepts = 1},

    /* the stack's own verification fails: not a pin decision, even with the leaf pinned */
    {.name = "untrusted-chain",
     .serve = ID_UNTRUSTED,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA3_LEAF", "BACKUP"}),
     .verdict = CERTPIN_REJECTED_UNVERIFIED},
    {.name = "wrong-host-name",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries = {{.host = "evil.example.org", .pins = {"CA1_INT", "BACKUP"}}}},
     .host = "evil.example.org",
     .verdict = CERTPIN_REJECTED_UNVERIFIED},

    /* the application replaces certpin's verification callback after attaching: where the adapter
     * guards the handshake, it fails (certpin's check did not run) */
    {.name = "verification-replaced-rogue",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .replace_verify = 1,
     .needs_guard = 1,
     .verdict = CERTPIN_REJECTED_ERROR},
    {.name = "verification-replaced-legit",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .replace_verify = 1,
     .needs_guard = 1,
     .verdict = CERTPIN_REJECTED_ERROR},

    /* IP literals (stacks that match iPAddress subjectAltNames) */
    {.name = "ipv4-literal",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries = {{.host = "127.0.0.1", .pins = {"CA1_INT", "BACKUP"}}}},
     .given = GIVE_IP,
     .ip = "127.0.0.1",
     .needs_ip_san = 1,
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    {.name = "ipv6-literal-rogue",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = {.entries = {{.host = "::1", .pins = {"CA1_INT", "BACKUP"}}}},
     .family = AF_INET6,
     .given = GIVE_IP,
     .ip = "::1",
     .needs_ip_san = 1,
     .verdict = CERTPIN_REJECTED_NO_MATCH},

    /* resumption skips the certificate: only a session certpin verified under the current policy
     * for this host may be resumed (policy A pins CA1_INT, B pins CA1_ROOT) */
    {.name = "resume-same-policy-same-host",
     .serve = ID_LEGIT,
     .trust = "trust-both.pem",
     .src = SRC_PINNED_API,
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .warnings = CERTPIN_WARN_RESUMED,
     .resumed = 1},
    {.name = "resume-after-policy-change",
     .no_hello = 1,
     .dropped_verdict = CERTPIN_REJECTED_NO_MATCH,
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .src = SRC_PINNED_API,
     .switch_policy = 1,
     .verdict = CERTPIN_REJECTED_ERROR,
     .control_accepts = 1},
    {.name = "resume-from-unpinned-connection",
     .no_hello = 1,
     .dropped_verdict = CERTPIN_REJECTED_NO_MATCH,
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .src = SRC_PLAIN_ROGUE,
     .offer = OFFER_DIRECT,
     .verdict = CERTPIN_REJECTED_ERROR,
     .control_accepts = 1},
    {.name = "resume-for-another-host",
     .no_hello = 1,
     .dropped_verdict = CERTPIN_REJECTED_NO_MATCH,
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .src = SRC_PINNED_WWW,
     .verdict = CERTPIN_REJECTED_ERROR,
     .control_accepts = 1},
    /* certpin's session offered, then another (from a plain connection to the rogue server) set
     * over it with the stack's own call: the one resumed must be certpin's */
    {.name = "resume-swapped-after-offer",
     .no_hello = 1,
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .src = SRC_PINNED_API,
     .swap_in_plain = 1,
     .verdict = CERTPIN_REJECTED_ERROR},
    /* where certpin owns session setting, the stack's own call is refused even for a session
     * certpin verified (it carries no verdict) */
    {.name = "resume-offered-past-certpin",
     .no_hello = 1,
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .src = SRC_PINNED_API,
     .offer = OFFER_DIRECT,
     .needs_owned_sessions = 1,
     .verdict = CERTPIN_REJECTED_ERROR,
     .control_accepts = 1},
};
#define SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const policy_spec policy_a = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                {.host = "www.example.com", .pins = {"CA1_INT", "BACKUP"}}}};
static const policy_spec policy_b = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_ROOT", "BACKUP"}},
                {.host = "www.example.com", .pins = {"CA1_ROOT", "BACKUP"}}}};

/* ---- the report callback ------------------------------------------------------------------- */

static struct {
    int calls;
    char host[CERTPIN_HOST_MAX];
    int port;
    char entry[CERTPIN_HOST_MAX];
    certpin_verdict verdict;
    size_t served_len;
    size_t verified_len;
    unsigned char served[8][CERTPIN_PIN_LEN];
    unsigned char verified[8][CERTPIN_PIN_LEN];
} rep;

static void chain_pins(const certpin_cert *chain, size_t len, unsigned char out[8][CERTPIN_PIN_LEN])
{
    size_t i;
    for (i = 0; i < len && i < 8; i++) {
        if (certpin_pin_from_spki(chain[i].spki, chain[i].spki_len, out[i]) != CERTPIN_OK) {
            memset(out[i], 0, CERTPIN_PIN_LEN);
        }
    }
}

static void on_report(const certpin_report *r, void *arg)
{
    (void)arg;
    rep.calls++;
    (void)snprintf(rep.host, sizeof(rep.host), "%s", r->host);
    rep.port = r->port;
    (void)snprintf(rep.entry, sizeof(rep.entry), "%s",
                   r->entry != NULL ? certpin_entry_pattern(r->entry) : "");
    rep.verdict = certpin_result_verdict(r->result);
    rep.served_len = r->served_len;
    rep.verified_len = r->verified_len;
    chain_pins(r->served_chain, r->served_len, rep.served);
    chain_pins(r->verified_chain, r->verified_len, rep.verified);
}

static int chain_is(unsigned char got[8][CERTPIN_PIN_LEN], size_t got_len,
                    const char *const want[6])
{
    size_t n = 0;
    size_t i;
    while (n < 6 && want[n] != NULL) {
        n++;
    }
    if (got_len != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char pin[CERTPIN_PIN_LEN];
        pki_pin_bytes(want[i], pin);
        if (memcmp(pin, got[i], CERTPIN_PIN_LEN) != 0) {
            return 0;
        }
    }
    return 1;
}

/* ---- running one cell ---------------------------------------------------------------------- */

typedef struct cell {
    const scenario *sc;
    const column *col;
    int tls13;
    char name[128];
} cell;

static int failures;

static void check(int ok, const cell *c, const char *what, const conn_outcome *out)
{
    if (ok) {
        return;
    }
    failures++;
    print_error("%s: %s\n  connected=%d replied=%d verdict=%s warnings=0x%x depth=%d\n"
                "  reason: %s\n  stack: %s\n",
                c->name, what, out->connected, out->replied, certpin_verdict_str(out->verdict),
                out->warnings, out->depth, out->reason, out->error);
}

static void base_opts(const cell *c, tls_server *srv, conn_opts *o)
{
    const scenario *sc = c->sc;
    memset(o, 0, sizeof(*o));
    o->port = server_port(srv);
    o->family = sc->family != 0 ? sc->family : AF_INET;
    o->tls13 = c->tls13;
    o->trust = sc->trust;
    o->given = sc->given;
    o->host = sc->host;
    o->ip = sc->ip;
    o->verify_off = sc->verify_off;
    o->offer = sc->offer;
    o->replace_verify = sc->replace_verify;
}

/* The first connection of a resumption row: returns the session it leaves (the column's type). */
static void *obtain_session(const cell *c, tls_server *srv, certpin_ctx *pin_a)
{
    conn_opts o;
    conn_outcome out;
    base_opts(c, srv, &o);
    o.want_session = 1;
    o.offer = OFFER_CERTPIN;
    switch (c->sc->src) {
    case SRC_PINNED_WWW:
        o.host = "www.example.com";
        o.pin = pin_a;
        server_set_identity(srv, ID_LEGIT);
        break;
    case SRC_PLAIN_ROGUE: server_set_identity(srv, ID_ROGUE); break;
    case SRC_PINNED_API:
    case SRC_NONE:
    default:
        o.pin = pin_a;
        server_set_identity(srv, ID_LEGIT);
        break;
    }
    assert_true(c->col->run(&o, &out));
    check(out.connected && out.replied && out.session != NULL, c,
          "the first connection should succeed and leave a session", &out);
    return out.session;
}

static void run_cell(void **state)
{
    const cell *c = *state;
    const scenario *sc = c->sc;
    int family = sc->family != 0 ? sc->family : AF_INET;
    tls_server *srv = server_start(family, sc->src != SRC_NONE ? ID_LEGIT : sc->serve);
    certpin_policy *policy = NULL;
    certpin_policy *b = NULL;
    certpin_ctx *pin;
    void *session = NULL;
    void *session2 = NULL;
    unsigned handled = 0;
    unsigned data;
    unsigned resumed;
    unsigned hellos;
    conn_opts o;
    conn_outcome out;

    failures = 0;
    if (srv == NULL) {
        print_message("%s: address family unavailable, skipped\n", c->name);
        skip();
    }
    if (sc->src != SRC_NONE) {
        policy = policy_build(&policy_a);
        b = policy_build(&policy_b);
    } else if (!sc->null_policy) {
        policy = policy_build(&sc->policy);
    }
    pin = certpin_ctx_new(policy);
    assert_non_null(pin);
    certpin_ctx_set_report_fn(pin, on_report, NULL);

    if (sc->src != SRC_NONE) {
        session = obtain_session(c, srv, pin);
        assert_true(server_wait(srv, ++handled));
        if (sc->swap_in_plain) {
            cell plain = *c;
            scenario from_plain = *sc;
            from_plain.src = SRC_PLAIN_ROGUE;
            plain.sc = &from_plain;
            session2 = obtain_session(&plain, srv, pin);
            assert_true(server_wait(srv, ++handled));
        }
        server_set_identity(srv, sc->serve);
    }
    base_opts(c, srv, &o);
    o.session = session;
    o.session2 = session2;

    if (sc->control_accepts) {
        /* Without certpin the stack lets it through: the row guards against a real attack. */
        data = server_conns_with_data(srv);
        assert_true(c->col->run(&o, &out));
        assert_true(server_wait(srv, ++handled));
        check(out.connected && server_conns_with_data(srv) == data + 1, c,
              "control: without certpin the request should reach the server", &out);
        if (out.session != NULL) {
            c->col->session_free(out.session);
        }
    }
    if (sc->switch_policy) {
        assert_int_equal(certpin_ctx_set_policy(pin, b), CERTPIN_OK);
    }
    memset(&rep, 0, sizeof(rep));
    o.pin = pin;
    data = server_conns_with_data(srv);
    resumed = server_resumed(srv);
    hellos = server_hellos(srv);
    assert_true(c->col->run(&o, &out));
    assert_true(server_wait(srv, ++handled));
    if (getenv("CERTPIN_TEST_VERBOSE") != NULL) {
        print_message("%s: connected=%d verdict=%s reason=\"%s\" stack=\"%s\"\n", c->name,
                      out.connected, certpin_verdict_str(out.verdict), out.reason, out.error);
    }

    if (sc->accepted) {
        check(out.connected && out.replied, c, "the handshake should succeed", &out);
        check(server_conns_with_data(srv) == data + 1, c, "the request should reach the server",
              &out);
    } else {
        int k;
        int said = 0;
        check(!out.connected, c, "the handshake should fail", &out);
        check(server_conns_with_data(srv) == data, c, "an application byte reached the server",
              &out);
        for (k = 0; k < 3 && c->col->refusal[k] != NULL; k++) {
            said |= strstr(out.error, c->col->refusal[k]) != NULL;
        }
        check(said, c, "the stack should report certpin's refusal its own way", &out);
    }
    check(out.has_result, c, "the adapter should have a result", &out);
    check(out.verdict == sc->verdict ||
              (c->col->drops_stale_sessions && sc->dropped_verdict != CERTPIN_NOT_CHECKED &&
               out.verdict == sc->dropped_verdict),
          c, "wrong verdict", &out);
    check((out.warnings & sc->warnings) == sc->warnings, c, "a warning is missing", &out);
    if (sc->check_depth) {
        check(out.depth == sc->depth, c, "wrong depth", &out);
    }
    if (sc->no_hello && !c->col->drops_stale_sessions &&
        ((sc->offer == OFFER_CERTPIN && !sc->swap_in_plain) || c->col->sees_direct_offer)) {
        check(server_hellos(srv) == hellos, c,
              "refused before the ClientHello: nothing should reach the server", &out);
    }
    if (sc->src != SRC_NONE) {
        check((server_resumed(srv) == resumed + 1) == sc->resumed, c,
              sc->resumed ? "the server should have resumed the session"
                          : "the server should not have resumed the session",
              &out);
    }
    if (sc->verdict != CERTPIN_ACCEPTED_PINNED && sc->verdict != CERTPIN_ACCEPTED_NOT_PINNED) {
        check(rep.calls == 1 && rep.verdict == out.verdict, c,
              "the report callback should run once, with the verdict", &out);
        check(rep.calls == 1 && rep.port == o.port, c, "the report should name the port", &out);
        if (sc->verdict == CERTPIN_REJECTED_NO_MATCH || sc->verdict == CERTPIN_REJECTED_DENIED ||
            sc->verdict == CERTPIN_ACCEPTED_EXPIRED ||
            sc->verdict == CERTPIN_ACCEPTED_REPORT_ONLY) {
            check(rep.calls == 1 && strcmp(rep.entry, certpin_entry_pattern(
                                                          certpin_policy_entry(policy, 0))) == 0,
                  c, "the report should name the deciding entry", &out);
        }
    } else {
        check(rep.calls == 0, c, "the report callback should not run", &out);
    }
    if (sc->served[0] != NULL) {
        check(rep.calls == 1 && chain_is(rep.served, rep.served_len, sc->served), c,
              "the report's served chain is not what the server sent", &out);
        check(rep.calls == 1 && chain_is(rep.verified, rep.verified_len, sc->verified), c,
              "the report's verified chain is not the path verification used", &out);
        check(rep.calls == 1 && strcmp(rep.host, o.host != NULL ? o.host : "api.example.com") == 0,
              c, "the report carries the wrong host", &out);
    }
    if (out.session != NULL) {
        c->col->session_free(out.session);
    }
    if (session != NULL) {
        c->col->session_free(session);
    }
    if (session2 != NULL) {
        c->col->session_free(session2);
    }
    server_stop(srv);
    certpin_ctx_free(pin);
    certpin_policy_free(policy);
    certpin_policy_free(b);
    assert_int_equal(failures, 0);
}

static cell cells[COLUMNS * SCENARIOS * 2];
static struct CMUnitTest tests[COLUMNS * SCENARIOS * 2];

int main(void)
{
    size_t n = 0;
    size_t ci;
    size_t si;
    int v;
    int rc;

    if (!pki_init()) {
        return 77;
    }
    /* A peer that closes while the other side writes (a refused handshake) must not end the test:
     * each stack reports it as an error. */
    (void)signal(SIGPIPE, SIG_IGN);
    for (ci = 0; ci < COLUMNS; ci++) {
        for (si = 0; si < SCENARIOS; si++) {
            const scenario *sc = &scenarios[si];
            if ((sc->needs_ip_san && !columns[ci]->ip_san) ||
                (sc->needs_owned_sessions && !columns[ci]->owns_sessions) ||
                (sc->needs_guard && !columns[ci]->guards_handshake) ||
                (sc->given == GIVE_NONE && !columns[ci]->gives_no_host) ||
                (sc->verify_off && !columns[ci]->verifies_when_off) ||
                ((sc->swap_in_plain || sc->needs_owned_sessions) &&
                 !columns[ci]->offers_sessions)) {
                continue;
            }
            for (v = 0; v <= columns[ci]->tls13; v++) {
                cell *c = &cells[n];
                if (v == 1 && sc->swap_in_plain && !columns[ci]->binds_tls13_resumption) {
                    continue; /* a documented limit of the stack (certpin/gnutls.h) */
                }
                c->sc = sc;
                c->col = columns[ci];
                c->tls13 = v;
                (void)snprintf(c->name, sizeof(c->name), "%s/%s/%s", columns[ci]->name, sc->name,
                               v ? "tls1.3" : "tls1.2");
                tests[n].name = c->name;
                tests[n].test_func = run_cell;
                tests[n].setup_func = NULL;
                tests[n].teardown_func = NULL;
                tests[n].initial_state = c;
                n++;
            }
        }
    }
    rc = _cmocka_run_group_tests("conformance", tests, n, NULL, NULL);
    (void)printf("conformance: %zu scenarios, %zu columns, %zu cells\n", SCENARIOS, COLUMNS, n);
    return rc;
}
