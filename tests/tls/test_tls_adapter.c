/* The OpenSSL adapter against real TLS servers on loopback: the scenarios only OpenSSL can express
 * (the application's per-depth verify callbacks, several hosts or a host and an IP set to verify,
 * per-connection attachment, OpenSSL's own reporting), and the reports' details, each over TLS 1.2
 * and TLS 1.3. The scenarios every stack shares (the chains, deny pins, expiry, report-only,
 * unlisted hosts, no host, verification off, resumption, ...) are the conformance suite's
 * (test_conformance.c), which runs them against this adapter as one of its columns. The outcome
 * that counts is the server's: whether any application byte reached it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "harness_openssl.h"

/* Pins of a policy entry: the pinned name and a backup key, as a real policy has. */
#define API_PINNED(...)                                                                            \
    {                                                                                              \
        .entries = { {.host = "api.example.com", __VA_ARGS__} }                                    \
    }

typedef struct scenario {
    const char *name;
    identity serve;
    const char *trust;
    policy_spec policy;
    int prepare_only; /* attach_ctx(NULL) + certpin_openssl_attach(ssl) */
    host_mode hosts;
    const char *host; /* NULL: api.example.com */
    const char *host2;
    const char *ip;
    int family; /* 0: AF_INET */
    int verify_none;
    app_cb cb;

    /* expectations */
    int accepted; /* the handshake succeeds and the request reaches the server */
    certpin_verdict verdict;
    unsigned warnings; /* bits that must be set */
    int check_depth;
    size_t decided_by; /* the index of the entry the report names (a deny pin's entry) */
    int depth;
    const char *reason_has;
    int min_cb_calls;
} scenario;

static const scenario scenarios[] = {
    /* entries and their deny pins */
    {.name = "legit-trust-both",
     .serve = ID_LEGIT,
     .trust = "trust-both.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    {.name = "wildcard-entry",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries = {{.host = "*.example.com", .pins = {"CA1_INT", "BACKUP"}}}},
     .host = "www.example.com",
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    {.name = "deny-inherited-from-parent",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries =
                    {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                     {.host = "**.example.com", .pins = {"CA1_ROOT", "BACKUP"}, .deny = {"LEAF"}}}},
     .verdict = CERTPIN_REJECTED_DENIED,
     .check_depth = 1,
     .depth = 0,
     .decided_by = 1},
    {.name = "deny-of-unrelated-entry-ignored",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries =
                    {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                     {.host = "**.example.org", .pins = {"CA1_ROOT", "BACKUP"}, .deny = {"LEAF"}}}},
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},

    /* an expired entry kept enforced */
    {.name = "expired-entry-enforced-match",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}, .expires = "2020-01-01",
                          .on_expiry = CERTPIN_ON_EXPIRY_ENFORCE),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .warnings = CERTPIN_WARN_EXPIRED_ENFORCED},

    /* what the application asked OpenSSL to verify must be exactly one host */
    {.name = "two-hosts-set",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .hosts = HOST_TWO,
     .host2 = "www.example.com",
     .verdict = CERTPIN_REJECTED_ERROR,
     .reason_has = "SSL_add1_host"},
    {.name = "host-and-ip-set",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .hosts = HOST_NAME_AND_IP,
     .ip = "127.0.0.1",
     .verdict = CERTPIN_REJECTED_ERROR,
     .reason_has = "exactly one"},
    {.name = "no-host-verify-none",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .hosts = HOST_NONE,
     .verify_none = 1,
     .verdict = CERTPIN_REJECTED_ERROR,
     .reason_has = "SSL_set1_host"},

    /* the application's per-depth verify callback is chained */
    {.name = "app-callback-called",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .cb = APP_CB_COUNT,
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .min_cb_calls = 3},
    {.name = "app-callback-rejects",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .cb = APP_CB_REJECT_LEAF,
     .verdict = CERTPIN_REJECTED_UNVERIFIED,
     .min_cb_calls = 1},
    {.name = "app-callback-overrides-untrusted",
     .serve = ID_UNTRUSTED,
     .trust = "trust-ca1.pem",
     .policy = API_PINNED(.pins = {"CA3_LEAF", "BACKUP"}),
     .cb = APP_CB_ACCEPT_ALL,
     .verdict = CERTPIN_REJECTED_UNVERIFIED,
     .reason_has = "verify callback",
     .min_cb_calls = 1},

    /* IP literals */
    {.name = "ipv4-literal-rogue",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .policy = {.entries = {{.host = "127.0.0.1", .pins = {"CA1_INT", "BACKUP"}}}},
     .hosts = HOST_IP,
     .ip = "127.0.0.1",
     .verdict = CERTPIN_REJECTED_NO_MATCH},
    {.name = "ipv6-literal",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .policy = {.entries = {{.host = "::1", .pins = {"CA1_INT", "BACKUP"}}}},
     .family = AF_INET6,
     .hosts = HOST_IP,
     .ip = "::1",
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},

    /* a per-connection context on an SSL_CTX that was only prepared */
    {.name = "per-connection-legit",
     .serve = ID_LEGIT,
     .trust = "trust-ca1.pem",
     .prepare_only = 1,
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    {.name = "per-connection-rogue",
     .serve = ID_ROGUE,
     .trust = "trust-both.pem",
     .prepare_only = 1,
     .policy = API_PINNED(.pins = {"CA1_INT", "BACKUP"}),
     .verdict = CERTPIN_REJECTED_NO_MATCH},
};

#define SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- the report callback ------------------------------------------------------------------- */

static struct {
    int calls;
    int port;
    certpin_verdict verdict;
    char entry[CERTPIN_HOST_MAX];
} rep;

static void on_report(const certpin_report *r, void *arg)
{
    (void)arg;
    rep.calls++;
    rep.port = r->port;
    rep.verdict = certpin_result_verdict(r->result);
    (void)snprintf(rep.entry, sizeof(rep.entry), "%s",
                   r->entry != NULL ? certpin_entry_pattern(r->entry) : "");
}

/* ---- running one row ----------------------------------------------------------------------- */

typedef struct row {
    const scenario *sc;
    int version;
    char name[96];
} row;

static int failures;

static void check(int ok, const row *rw, const char *what, const client_outcome *out)
{
    if (ok) {
        return;
    }
    failures++;
    print_error("%s/%s: %s\n  connected=%d replied=%d verdict=%s warnings=0x%x depth=%d\n"
                "  reason: %s\n  ssl error: %s (verify result %ld)\n",
                rw->sc->name, version_name(rw->version), what, out->connected, out->replied,
                certpin_verdict_str(out->verdict), out->warnings, out->depth, out->reason,
                out->ssl_error, out->verify_result);
}

static void run_row(void **state)
{
    const row *rw = *state;
    const scenario *sc = rw->sc;
    int family = sc->family != 0 ? sc->family : AF_INET;
    tls_server *srv = server_start(family, sc->serve);
    certpin_policy *policy = NULL;
    certpin_ctx *pin = NULL;
    client_opts o;
    client_outcome out;
    unsigned data;
    int reported;

    failures = 0;
    if (srv == NULL) {
        print_message("%s: address family unavailable, skipped\n", rw->name);
        skip();
    }
    policy = policy_build(&sc->policy);
    pin = certpin_ctx_new(policy);
    assert_non_null(pin);
    certpin_ctx_set_report_fn(pin, on_report, NULL);
    memset(&rep, 0, sizeof(rep));
    memset(&o, 0, sizeof(o));
    o.port = server_port(srv);
    o.family = family;
    o.version = rw->version;
    o.trust = sc->trust;
    o.pin = pin;
    o.prepare_only = sc->prepare_only;
    o.hosts = sc->hosts;
    o.host = sc->host;
    o.host2 = sc->host2;
    o.ip = sc->ip;
    o.verify_none = sc->verify_none;
    o.cb = sc->cb;
    assert_true(client_run(&o, &out));
    assert_true(server_wait(srv, 1));
    data = server_conns_with_data(srv);
    server_stop(srv);

    if (getenv("CERTPIN_TEST_VERBOSE") != NULL) {
        print_message("%s: connected=%d verdict=%s reason=\"%s\" ssl_error=\"%s\" verify=%ld\n",
                      rw->name, out.connected, certpin_verdict_str(out.verdict), out.reason,
                      out.ssl_error, out.verify_result);
    }
    if (sc->accepted) {
        check(out.connected && out.replied, rw, "the handshake should succeed", &out);
        check(data == 1, rw, "the request should reach the server", &out);
    } else {
        check(!out.connected, rw, "the handshake should fail", &out);
        check(data == 0, rw, "an application byte reached the server", &out);
    }
    check(out.has_result, rw, "certpin_openssl_result should not be NULL", &out);
    check(out.verdict == sc->verdict, rw, "wrong verdict", &out);
    check((out.warnings & sc->warnings) == sc->warnings, rw, "a warning is missing", &out);
    if (sc->check_depth) {
        check(out.depth == sc->depth, rw, "wrong depth", &out);
    }
    if (sc->reason_has != NULL) {
        check(strstr(out.reason, sc->reason_has) != NULL, rw, "the reason does not say why", &out);
    }
    if (!sc->accepted) {
        /* What the application sees first on OpenSSL's error queue. */
        check(strstr(out.ssl_error, "certificate verify failed") != NULL, rw,
              "the first OpenSSL error should be \"certificate verify failed\"", &out);
    }
    if (!sc->accepted && sc->verdict != CERTPIN_REJECTED_UNVERIFIED) {
        check(out.verify_result == X509_V_ERR_APPLICATION_VERIFICATION, rw,
              "SSL_get_verify_result should say application verification failure", &out);
    }
    reported = sc->verdict != CERTPIN_ACCEPTED_PINNED && sc->verdict != CERTPIN_ACCEPTED_NOT_PINNED;
    check(rep.calls == (reported ? 1 : 0), rw,
          "the report callback ran the wrong number of "
          "times",
          &out);
    if (reported && rep.calls == 1) {
        check(rep.verdict == out.verdict, rw, "the report carries another verdict", &out);
        check(rep.port == o.port, rw, "the report carries the wrong port", &out);
        /* Verdicts that an entry decided name it: the policy's first, or decided_by. */
        if (sc->verdict == CERTPIN_REJECTED_NO_MATCH || sc->verdict == CERTPIN_REJECTED_DENIED ||
            sc->verdict == CERTPIN_ACCEPTED_EXPIRED ||
            sc->verdict == CERTPIN_ACCEPTED_REPORT_ONLY) {
            const char *want = certpin_entry_pattern(certpin_policy_entry(policy, sc->decided_by));
            check(strcmp(rep.entry, want) == 0, rw, "the report carries the wrong entry", &out);
        }
    }
    if (sc->min_cb_calls > 0) {
        check(out.app_cb_calls >= sc->min_cb_calls, rw,
              "the application's verify callback was not called", &out);
    }
    certpin_ctx_free(pin);
    certpin_policy_free(policy);
    assert_int_equal(failures, 0);
}

static row rows[SCENARIOS * 2];
static struct CMUnitTest tests[SCENARIOS * 2];

int main(void)
{
    size_t i;
    int rc;
    if (!pki_init()) {
        return 77;
    }
    for (i = 0; i < SCENARIOS * 2; i++) {
        row *rw = &rows[i];
        rw->sc = &scenarios[i / 2];
        rw->version = i % 2 == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
        (void)snprintf(rw->name, sizeof(rw->name), "%s/%s", rw->sc->name,
                       version_name(rw->version));
        tests[i].name = rw->name;
        tests[i].test_func = run_row;
        tests[i].setup_func = NULL;
        tests[i].teardown_func = NULL;
        tests[i].initial_state = rw;
    }
    rc = _cmocka_run_group_tests("tls_adapter", tests, SCENARIOS * 2, NULL, NULL);
    (void)printf("tls_adapter: %zu scenarios x 2 versions\n", SCENARIOS);
    return rc;
}
