/* Session resumption skips certificate verification: a session certpin did not accept under the
 * current policy for this host must not be offered. The rogue server shares the legit server's
 * session cache and ticket keys (one server SSL_CTX, certificate chosen per connection), so each
 * resumption would succeed without certpin: every refusal has a control that proves it. Each case
 * runs over TLS 1.2 and TLS 1.3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "harness_openssl.h"

typedef enum source {
    SRC_PINNED_API = 0, /* a pinned connection (policy A) to the legit server for api.example.com */
    SRC_PINNED_WWW,     /* the same for www.example.com */
    SRC_PLAIN_ROGUE     /* a plain OpenSSL connection, same trust, to the rogue server */
} source;

typedef struct resume_case {
    const char *name;
    source src;
    int switch_to_b;   /* the context's policy is B when the session is offered */
    identity offer_to; /* what the (shared) server serves when the session is offered */
    int other_server;  /* offer to a server that has never seen the session */
    const char *host;  /* the offering connection's host; NULL: api.example.com */

    /* expectations */
    int control_resumes; /* first: plain OpenSSL resumes the session and its request arrives */
    int refused;         /* refused at the ClientHello: nothing sent, verdict error */
    int accepted;
    int resumed; /* accepted by resumption: verdict carried, CERTPIN_WARN_RESUMED */
    certpin_verdict verdict;
    int retry_full;    /* offering the refused session again makes a full handshake, accepted */
    int swap_in_clock; /* the first check's clock swaps the context to policy B mid-check */
} resume_case;

static const resume_case cases[] = {
    /* (a) a session from before a policy change */
    {.name = "before-policy-change",
     .src = SRC_PINNED_API,
     .switch_to_b = 1,
     .offer_to = ID_ROGUE,
     .control_resumes = 1,
     .refused = 1,
     .verdict = CERTPIN_REJECTED_ERROR},
    /* (b) a session from an unpinned SSL_CTX with the same trust */
    {.name = "from-unpinned-ctx",
     .src = SRC_PLAIN_ROGUE,
     .offer_to = ID_ROGUE,
     .control_resumes = 1,
     .refused = 1,
     .verdict = CERTPIN_REJECTED_ERROR},
    /* (c) a session for another host */
    {.name = "for-another-host",
     .src = SRC_PINNED_WWW,
     .offer_to = ID_ROGUE,
     .control_resumes = 1,
     .refused = 1,
     .verdict = CERTPIN_REJECTED_ERROR},
    /* the positive twin: same policy, same host */
    {.name = "same-policy-same-host",
     .src = SRC_PINNED_API,
     .offer_to = ID_LEGIT,
     .accepted = 1,
     .resumed = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    /* a valid tag, but the server declines: the full handshake's check decides */
    {.name = "declined-then-rogue",
     .src = SRC_PINNED_API,
     .other_server = 1,
     .offer_to = ID_ROGUE,
     .verdict = CERTPIN_REJECTED_NO_MATCH},
    {.name = "declined-then-legit",
     .src = SRC_PINNED_API,
     .other_server = 1,
     .offer_to = ID_LEGIT,
     .accepted = 1,
     .verdict = CERTPIN_ACCEPTED_PINNED},
    /* a policy change refuses even a legit session; the application then connects again */
    {.name = "policy-change-legit-then-retry",
     .src = SRC_PINNED_API,
     .switch_to_b = 1,
     .offer_to = ID_LEGIT,
     .control_resumes = 1,
     .refused = 1,
     .verdict = CERTPIN_REJECTED_ERROR,
     .retry_full = 1},
    /* the policy is swapped to B while the first check runs (from its clock): the verdict was
     * made under A, so the session is A's and B must refuse it */
    {.name = "swap-during-first-check",
     .src = SRC_PINNED_API,
     .swap_in_clock = 1,
     .offer_to = ID_ROGUE,
     .control_resumes = 1,
     .refused = 1,
     .verdict = CERTPIN_REJECTED_ERROR},
};

#define CASES (sizeof(cases) / sizeof(cases[0]))

static const policy_spec policy_a = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                {.host = "www.example.com", .pins = {"CA1_INT", "BACKUP"}}}};
/* B accepts the legit chain too (its root), but not the rogue one. */
static const policy_spec policy_b = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_ROOT", "BACKUP"}},
                {.host = "www.example.com", .pins = {"CA1_ROOT", "BACKUP"}}}};

typedef struct run {
    const resume_case *c;
    int version;
    char name[96];
} run;

static int failures;

static void check(int ok, const run *r, const char *what, const client_outcome *out)
{
    if (ok) {
        return;
    }
    failures++;
    print_error("%s: %s\n  connected=%d reused=%d verdict=%s warnings=0x%x\n  reason: %s\n"
                "  ssl error: %s\n",
                r->name, what, out->connected, out->reused, certpin_verdict_str(out->verdict),
                out->warnings, out->reason, out->ssl_error);
}

/* Connects once to srv and returns the session it leaves (the caller frees it). */
static SSL_SESSION *obtain(const run *r, tls_server *srv, certpin_ctx *pin_a)
{
    client_opts o;
    client_outcome out;
    unsigned before = server_conns_with_data(srv);
    memset(&o, 0, sizeof(o));
    o.port = server_port(srv);
    o.version = r->version;
    o.trust = "trust-both.pem";
    o.want_session = 1;
    switch (r->c->src) {
    case SRC_PINNED_WWW:
        o.host = "www.example.com";
        o.pin = pin_a;
        server_set_identity(srv, ID_LEGIT);
        break;
    case SRC_PLAIN_ROGUE: server_set_identity(srv, ID_ROGUE); break;
    case SRC_PINNED_API:
    default:
        o.pin = pin_a;
        server_set_identity(srv, ID_LEGIT);
        break;
    }
    assert_true(client_run(&o, &out));
    check(out.connected && out.replied, r, "the first connection should succeed", &out);
    check(out.session != NULL && SSL_SESSION_is_resumable(out.session), r,
          "the first connection should leave a resumable session", &out);
    if (r->version == TLS1_3_VERSION) {
        /* TLS 1.3 sessions are the tickets that arrive after the handshake: copies of the
         * handshake's session (ssl_session_dup), which the tag must follow. */
        check(out.session_replaced, r, "TLS 1.3: the session should be a ticket's copy", &out);
    }
    assert_true(server_wait(srv, 1));
    check(server_conns_with_data(srv) == before + 1, r,
          "the first connection's request should reach the server", &out);
    return out.session;
}

typedef struct swap_clock_arg {
    certpin_ctx *pin;
    certpin_policy *to;
    int done;
} swap_clock_arg;

static int64_t swap_clock(void *arg)
{
    swap_clock_arg *a = arg;
    if (!a->done) {
        a->done = 1;
        (void)certpin_ctx_set_policy(a->pin, a->to);
    }
    return (int64_t)time(NULL);
}

static void run_case(void **state)
{
    const run *r = *state;
    const resume_case *c = r->c;
    tls_server *srv = server_start(AF_INET, ID_LEGIT);
    tls_server *other = c->other_server ? server_start(AF_INET, c->offer_to) : NULL;
    tls_server *target = other != NULL ? other : srv;
    certpin_policy *a = policy_build(&policy_a);
    certpin_policy *b = policy_build(&policy_b);
    certpin_ctx *pin = certpin_ctx_new(a);
    SSL_SESSION *sess;
    client_opts o;
    client_outcome out;
    unsigned handled = 0;
    unsigned data;
    unsigned hellos;

    swap_clock_arg sw;
    failures = 0;
    assert_non_null(srv);
    assert_non_null(pin);
    sw.pin = pin;
    sw.to = b;
    sw.done = 0;
    if (c->swap_in_clock) {
        certpin_ctx_set_time_fn(pin, swap_clock, &sw);
    }
    sess = obtain(r, srv, pin);
    assert_non_null(sess);
    handled = 1;
    assert_true(server_wait(srv, handled));
    server_set_identity(srv, c->offer_to);

    memset(&o, 0, sizeof(o));
    o.port = server_port(target);
    o.version = r->version;
    o.trust = "trust-both.pem";
    o.host = c->host;
    o.session = sess;

    if (c->control_resumes) {
        data = server_conns_with_data(srv);
        assert_true(client_run(&o, &out));
        assert_true(server_wait(srv, ++handled));
        check(out.connected && out.reused, r, "control: plain OpenSSL should resume", &out);
        check(server_conns_with_data(srv) == data + 1, r,
              "control: the request should reach the server", &out);
    }

    if (c->switch_to_b) {
        assert_int_equal(certpin_ctx_set_policy(pin, b), CERTPIN_OK);
    }
    o.pin = pin;
    data = server_conns_with_data(target);
    hellos = server_hellos(target);
    assert_true(client_run(&o, &out));
    if (target == srv) {
        assert_true(server_wait(srv, ++handled));
    } else {
        assert_true(server_wait(target, 1));
    }
    if (getenv("CERTPIN_TEST_VERBOSE") != NULL) {
        print_message("%s: connected=%d reused=%d verdict=%s warnings=0x%x reason=\"%s\" "
                      "ssl_error=\"%s\" SSL_get_error=%d\n",
                      r->name, out.connected, out.reused, certpin_verdict_str(out.verdict),
                      out.warnings, out.reason, out.ssl_error, out.ssl_get_error);
    }
    check(out.verdict == c->verdict, r, "wrong verdict", &out);
    if (c->accepted) {
        check(out.connected && out.replied, r, "the connection should succeed", &out);
        check(server_conns_with_data(target) == data + 1, r, "the request should reach the server",
              &out);
        check(out.reused == c->resumed, r, "resumed or not, as expected", &out);
        check(((out.warnings & CERTPIN_WARN_RESUMED) != 0) == c->resumed, r,
              "CERTPIN_WARN_RESUMED should say whether the verdict came from a session", &out);
        check(strcmp(out.policy_id, certpin_policy_id_hex(a)) == 0, r,
              "the result should name policy A", &out);
        check(strcmp(out.host, "api.example.com") == 0, r, "the result's host", &out);
    } else {
        check(!out.connected, r, "the handshake should fail", &out);
        check(server_conns_with_data(target) == data, r, "an application byte reached the server",
              &out);
    }
    if (c->refused) {
        check(strstr(out.reason, "not resumed") != NULL, r,
              "the reason should say the session was not resumed", &out);
        check(strstr(out.ssl_error, "callback failed") != NULL, r,
              "the refusal shows as OpenSSL's \"callback failed\"", &out);
        check(server_hellos(target) == hellos, r,
              "no ClientHello (and so no session ticket) should reach the server", &out);
    }
    if (c->retry_full) {
        /* OpenSSL marks a session not resumable when a handshake that offered it fails
         * (ssl3_send_alert -> SSL_CTX_remove_session): the same SSL_SESSION, offered again,
         * is not sent, and the connection makes a full, checked handshake. */
        server_set_identity(srv, c->offer_to);
        data = server_conns_with_data(target);
        check(!SSL_SESSION_is_resumable(sess), r, "the refused session should be spent", &out);
        assert_true(client_run(&o, &out));
        assert_true(server_wait(srv, ++handled));
        check(out.connected && !out.reused && out.verdict == CERTPIN_ACCEPTED_PINNED, r,
              "the retry should be a full handshake, accepted under the new policy", &out);
        check(strcmp(out.policy_id, certpin_policy_id_hex(b)) == 0, r,
              "the retry's result should name policy B", &out);
        check(server_conns_with_data(target) == data + 1, r,
              "the retry's request should reach the server", &out);
    }
    SSL_SESSION_free(sess);
    server_stop(other);
    server_stop(srv);
    certpin_ctx_free(pin);
    certpin_policy_free(a);
    certpin_policy_free(b);
    assert_int_equal(failures, 0);
}

static run runs[CASES * 2];
static struct CMUnitTest tests[CASES * 2];

int main(void)
{
    size_t i;
    if (!pki_init()) {
        return 77;
    }
    for (i = 0; i < CASES * 2; i++) {
        run *r = &runs[i];
        r->c = &cases[i / 2];
        r->version = i % 2 == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
        (void)snprintf(r->name, sizeof(r->name), "%s/%s", r->c->name, version_name(r->version));
        tests[i].name = r->name;
        tests[i].test_func = run_case;
        tests[i].setup_func = NULL;
        tests[i].teardown_func = NULL;
        tests[i].initial_state = r;
    }
    return _cmocka_run_group_tests("tls_resume", tests, CASES * 2, NULL, NULL);
}
