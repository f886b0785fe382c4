/* Tests of contexts (src/core/ctx.c): the current policy, the clock, the report callback, policy
 * swaps under load, and references.
 *
 * Keys are names with arbitrary SPKI bytes derived from them (the core only hashes them); policies
 * are JSON templates in which "@name" stands for the pin of key name. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "certpin/certpin.h"
#include "synthetic.h"

/* "2030-01-01" means up to 00:00:00 UTC the day after: 2030-01-02T00:00:00Z. */
#define EXP ((int64_t)1893542400)
#define T0 ((int64_t)1750000000)

#define THREADS 4
#define CHECKS_PER_THREAD 20000

static const char main_json[] =
    "{\"certpin\": 1, \"unpinned\": \"allow\", \"domains\": [\n"
    " {\"host\": \"api.example.com\", \"pins\": [\"@leaf\", \"@backup\"]},\n"
    " {\"host\": \"**.example.com\", \"pins\": [\"@root\", \"@backup\"], \"deny\": [\"@deny\"]},\n"
    " {\"host\": \"ro.example.com\", \"mode\": \"report-only\", \"pins\": [\"@leaf\", "
    "\"@backup\"]},\n"
    " {\"host\": \"off.example.com\", \"mode\": \"off\"},\n"
    " {\"host\": \"exp.example.com\", \"expires\": \"2030-01-01\","
    "  \"pins\": [\"@leaf\", \"@backup\"]},\n"
    " {\"host\": \"old.example.com\", \"expires\": \"2000-01-01\","
    "  \"pins\": [\"@leaf\", \"@backup\"]}\n"
    "]}\n";

static const char deny_json[] =
    "{\"certpin\": 1, \"unpinned\": \"deny\", \"domains\": [\n"
    " {\"host\": \"api.example.com\", \"pins\": [\"@leaf\", \"@backup\"]}\n"
    "]}\n";

/* The swap test: A pins chain X, B pins chain Y, for the same host. */
static const char a_json[] =
    "{\"certpin\": 1, \"domains\": [\n"
    " {\"host\": \"api.example.com\", \"pins\": [\"@xleaf\", \"@xbackup\"]}]}\n";
static const char b_json[] =
    "{\"certpin\": 1, \"domains\": [\n"
    " {\"host\": \"api.example.com\", \"pins\": [\"@yleaf\", \"@ybackup\"]}]}\n";

static int64_t fixed_clock(void *arg) { return *(const int64_t *)arg; }

static certpin_conn conn_for(const char *host, int port, const test_chain *verified,
                             const test_chain *served)
{
    certpin_conn c;
    memset(&c, 0, sizeof(c));
    c.host = host;
    c.port = port;
    c.verified_chain = verified->certs;
    c.verified_len = verified->len;
    if (served != NULL) {
        c.served_chain = served->certs;
        c.served_len = served->len;
    }
    return c;
}

/* ---- the clock ----------------------------------------------------------------------------- */

typedef struct clock_case {
    const char *name;
    const char *host;
    int injected; /* 0: the system clock */
    int64_t now;
    const char *chain;
    certpin_verdict verdict;
} clock_case;

static const clock_case clocks[] = {
    {"injected, one second before expiry", "exp.example.com", 1, EXP - 1, "other",
     CERTPIN_REJECTED_NO_MATCH},
    {"injected, at expiry", "exp.example.com", 1, EXP, "other", CERTPIN_ACCEPTED_EXPIRED},
    {"injected, before expiry, pinned", "exp.example.com", 1, EXP - 1, "leaf",
     CERTPIN_ACCEPTED_PINNED},
    /* expired in 2000 by the system clock; the injected clock says 1999 */
    {"system clock, long expired", "old.example.com", 0, 0, "other", CERTPIN_ACCEPTED_EXPIRED},
    {"injected, before the old expiry", "old.example.com", 1, 946771200 - 1, "other",
     CERTPIN_REJECTED_NO_MATCH},
    {"injected, at the old expiry", "old.example.com", 1, 946771200, "other",
     CERTPIN_ACCEPTED_EXPIRED},
};

static void test_ctx_clock(void **state)
{
    certpin_policy *p = load_expanded("main.json", main_json);
    certpin_ctx *ctx = certpin_ctx_new(p);
    certpin_result *r = certpin_result_new();
    int64_t now;
    size_t i;
    (void)state;

    assert_non_null(ctx);
    assert_non_null(r);
    for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        const clock_case *c = &clocks[i];
        test_chain ch;
        certpin_conn conn;
        certpin_status st;
        now = c->now;
        certpin_ctx_set_time_fn(ctx, c->injected ? fixed_clock : NULL, &now);
        if (c->injected) {
            CHECK(c->name, certpin_ctx_now(ctx) == c->now);
        } else {
            int64_t sys = (int64_t)time(NULL);
            int64_t got = certpin_ctx_now(ctx);
            CHECK(c->name, got >= sys - 5 && got <= sys + 5);
        }
        make_chain(&ch, c->chain);
        conn = conn_for(c->host, 443, &ch, NULL);
        st = certpin_ctx_check(ctx, &conn, r);
        CHECK(c->name, st == CERTPIN_OK);
        if (certpin_result_verdict(r) != c->verdict) {
            print_error("case \"%s\": %s, expected %s\n", c->name,
                        certpin_verdict_str(certpin_result_verdict(r)),
                        certpin_verdict_str(c->verdict));
            fail();
        }
        CHECK(c->name, certpin_result_policy(r) == p);
    }
    certpin_result_free(r);
    certpin_ctx_free(ctx);
    certpin_policy_free(p);
}

/* ---- reports ------------------------------------------------------------------------------- */

typedef struct report_log {
    int calls;
    certpin_verdict verdict;
    const certpin_result *result;
    char host[CERTPIN_HOST_MAX];
    int port;
    const certpin_cert *served;
    size_t served_len;
    const certpin_cert *verified;
    size_t verified_len;
    const certpin_entry *entry;
    char pattern[CERTPIN_HOST_MAX];
    char first_subject[48];
} report_log;

static void record(const certpin_report *rep, void *arg)
{
    report_log *log = arg;
    log->calls++;
    log->result = rep->result;
    log->verdict = certpin_result_verdict(rep->result);
    (void)snprintf(log->host, sizeof(log->host), "%s", rep->host != NULL ? rep->host : "(null)");
    log->port = rep->port;
    log->served = rep->served_chain;
    log->served_len = rep->served_len;
    log->verified = rep->verified_chain;
    log->verified_len = rep->verified_len;
    log->entry = rep->entry;
    (void)snprintf(log->pattern, sizeof(log->pattern), "%s",
                   rep->entry != NULL ? certpin_entry_pattern(rep->entry) : "");
    (void)snprintf(log->first_subject, sizeof(log->first_subject), "%s",
                   rep->verified_len > 0 && rep->verified_chain[0].subject != NULL
                       ? rep->verified_chain[0].subject
                       : "");
}

enum { USE_MAIN = 0, USE_DENY, USE_NONE };

typedef struct report_case {
    const char *name;
    int policy;
    const char *host;
    const char *chain;
    int64_t now;
    certpin_verdict verdict;
    int reported;
    const char *canonical; /* the host the report names */
    const char *entry;     /* pattern of the report's entry, NULL: none */
} report_case;

static const report_case reports[] = {
    {"pinned: not reported", USE_MAIN, "api.example.com", "leaf int root", T0,
     CERTPIN_ACCEPTED_PINNED, 0, NULL, NULL},
    {"not pinned (unpinned allow): not reported", USE_MAIN, "other.org", "leaf", T0,
     CERTPIN_ACCEPTED_NOT_PINNED, 0, NULL, NULL},
    {"not pinned (mode off): not reported", USE_MAIN, "off.example.com", "leaf", T0,
     CERTPIN_ACCEPTED_NOT_PINNED, 0, NULL, NULL},
    {"report-only: reported", USE_MAIN, "RO.example.com.", "other int root", T0,
     CERTPIN_ACCEPTED_REPORT_ONLY, 1, "ro.example.com", "ro.example.com"},
    {"expired: reported", USE_MAIN, "exp.example.com", "other int", EXP, CERTPIN_ACCEPTED_EXPIRED,
     1, "exp.example.com", "exp.example.com"},
    {"no match: reported", USE_MAIN, "API.EXAMPLE.COM", "other int root", T0,
     CERTPIN_REJECTED_NO_MATCH, 1, "api.example.com", "api.example.com"},
    {"denied: reported", USE_MAIN, "api.example.com", "leaf deny root", T0, CERTPIN_REJECTED_DENIED,
     1, "api.example.com", "**.example.com"},
    {"unpinned host (unpinned deny): reported", USE_DENY, "other.org", "leaf", T0,
     CERTPIN_REJECTED_UNPINNED_HOST, 1, "other.org", NULL},
    {"error (bad host): reported", USE_MAIN, "127.1", "leaf", T0, CERTPIN_REJECTED_ERROR, 1, "",
     NULL},
    {"error (no policy): reported", USE_NONE, "api.example.com", "leaf", T0, CERTPIN_REJECTED_ERROR,
     1, NULL, NULL},
};

static void test_ctx_reports(void **state)
{
    certpin_policy *pols[2];
    certpin_result *r = certpin_result_new();
    size_t i;
    (void)state;

    pols[USE_MAIN] = load_expanded("main.json", main_json);
    pols[USE_DENY] = load_expanded("deny.json", deny_json);
    assert_non_null(r);
    for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        const report_case *c = &reports[i];
        certpin_ctx *ctx = certpin_ctx_new(c->policy == USE_NONE ? NULL : pols[c->policy]);
        report_log log;
        test_chain verified;
        test_chain served;
        certpin_conn conn;
        int64_t now = c->now;
        certpin_status st;

        assert_non_null(ctx);
        memset(&log, 0, sizeof(log));
        certpin_ctx_set_time_fn(ctx, fixed_clock, &now);
        certpin_ctx_set_report_fn(ctx, record, &log);
        make_chain(&verified, c->chain);
        make_chain(&served, "served1 served2");
        conn = conn_for(c->host, 8443, &verified, &served);
        st = certpin_ctx_check(ctx, &conn, r);
        if (certpin_result_verdict(r) != c->verdict) {
            print_error("case \"%s\": %s, expected %s\n", c->name,
                        certpin_verdict_str(certpin_result_verdict(r)),
                        certpin_verdict_str(c->verdict));
            fail();
        }
        CHECK(c->name, (st == CERTPIN_OK) == (c->verdict != CERTPIN_REJECTED_ERROR));
        if (!c->reported) {
            CHECK(c->name, log.calls == 0);
            certpin_ctx_free(ctx);
            continue;
        }
        CHECK(c->name, log.calls == 1);
        CHECK(c->name, log.result == r);
        CHECK(c->name, log.verdict == c->verdict);
        if (c->canonical != NULL) {
            CHECK(c->name, strcmp(log.host, c->canonical) == 0);
        }
        CHECK(c->name, log.port == 8443);
        CHECK(c->name, log.served == served.certs && log.served_len == 2);
        CHECK(c->name, log.verified == verified.certs && log.verified_len == verified.len);
        CHECK(c->name, strcmp(log.first_subject, verified.subject[0]) == 0);
        CHECK(c->name, log.entry == certpin_result_entry(r));
        if (c->entry != NULL) {
            CHECK(c->name, strcmp(log.pattern, c->entry) == 0);
        } else {
            CHECK(c->name, log.entry == NULL);
        }
        certpin_ctx_free(ctx);
    }
    certpin_result_free(r);
    certpin_policy_free(pols[USE_MAIN]);
    certpin_policy_free(pols[USE_DENY]);
}

/* A check without a connection fails closed (and there is nothing to report). */
static void test_ctx_bad_args(void **state)
{
    certpin_policy *p = load_expanded("main.json", main_json);
    certpin_ctx *ctx = certpin_ctx_new(p);
    certpin_result *r = certpin_result_new();
    test_chain ch;
    certpin_conn conn;
    (void)state;

    make_chain(&ch, "leaf");
    conn = conn_for("api.example.com", 443, &ch, NULL);
    assert_int_equal(certpin_ctx_check(ctx, NULL, r), CERTPIN_E_ARG);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_ERROR);
    assert_int_equal(certpin_ctx_check(NULL, &conn, r), CERTPIN_E_ARG);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_ERROR);
    assert_int_equal(certpin_ctx_check(ctx, &conn, NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_ctx_set_policy(NULL, p), CERTPIN_E_ARG);
    assert_null(certpin_ctx_get_policy(NULL));
    /* twin: the same connection with a result is pinned */
    assert_int_equal(certpin_ctx_check(ctx, &conn, r), CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    certpin_ctx_free(NULL);
    certpin_result_free(r);
    certpin_ctx_free(ctx);
    certpin_policy_free(p);
}

/* ---- a context without a policy fails closed ----------------------------------------------- */

static void test_ctx_null_policy(void **state)
{
    static const char *const hosts[] = {"api.example.com", "other.org", "off.example.com"};
    certpin_policy *p = load_expanded("main.json", main_json);
    certpin_ctx *empty = certpin_ctx_new(NULL);
    certpin_ctx *ctx = certpin_ctx_new(p);
    certpin_result *r = certpin_result_new();
    test_chain ch;
    size_t i;
    (void)state;

    assert_non_null(empty);
    assert_null(certpin_ctx_get_policy(empty));
    make_chain(&ch, "leaf int root");
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        certpin_conn conn = conn_for(hosts[i], 443, &ch, NULL);
        /* twin: with the policy, every one of these hosts is accepted */
        CHECK(hosts[i], certpin_ctx_check(ctx, &conn, r) == CERTPIN_OK);
        CHECK(hosts[i], certpin_verdict_accepted(certpin_result_verdict(r)));
        /* never set */
        CHECK(hosts[i], certpin_ctx_check(empty, &conn, r) != CERTPIN_OK);
        CHECK(hosts[i], certpin_result_verdict(r) == CERTPIN_REJECTED_ERROR);
        CHECK(hosts[i], !certpin_verdict_accepted(certpin_result_verdict(r)));
        CHECK(hosts[i], certpin_result_reason(r)[0] != '\0');
    }
    /* set, then cleared: pinning is never turned off by a NULL policy */
    assert_int_equal(certpin_ctx_set_policy(ctx, NULL), CERTPIN_OK);
    assert_null(certpin_ctx_get_policy(ctx));
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        certpin_conn conn = conn_for(hosts[i], 443, &ch, NULL);
        CHECK(hosts[i], certpin_ctx_check(ctx, &conn, r) != CERTPIN_OK);
        CHECK(hosts[i], certpin_result_verdict(r) == CERTPIN_REJECTED_ERROR);
        CHECK(hosts[i], certpin_result_policy(r) == NULL);
    }
    /* and set again */
    assert_int_equal(certpin_ctx_set_policy(empty, p), CERTPIN_OK);
    {
        certpin_conn conn = conn_for("api.example.com", 443, &ch, NULL);
        certpin_policy *got = certpin_ctx_get_policy(empty);
        assert_ptr_equal(got, p);
        certpin_policy_free(got);
        assert_int_equal(certpin_ctx_check(empty, &conn, r), CERTPIN_OK);
        assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    }
    certpin_result_free(r);
    certpin_ctx_free(ctx);
    certpin_ctx_free(empty);
    certpin_policy_free(p);
}

/* ---- references ---------------------------------------------------------------------------- */

static void test_ctx_refcounts(void **state)
{
    certpin_policy *a = load_expanded("a.json", a_json);
    certpin_policy *b = load_expanded("b.json", b_json);
    certpin_ctx *ctx = certpin_ctx_new(a);
    certpin_result *r = certpin_result_new();
    test_chain x;
    certpin_conn conn;
    unsigned char a_id[32];
    (void)state;

    memcpy(a_id, certpin_policy_id(a), sizeof(a_id));
    make_chain(&x, "xleaf xint");
    conn = conn_for("api.example.com", 443, &x, NULL);
    assert_int_equal(certpin_ctx_check(ctx, &conn, r), CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);

    /* drop every reference but the result's: ours, then the context's (by a swap and a free) */
    certpin_policy_free(a);
    assert_int_equal(certpin_ctx_set_policy(ctx, b), CERTPIN_OK);
    certpin_ctx_free(ctx);
    assert_string_equal(certpin_entry_pattern(certpin_result_entry(r)), "api.example.com");
    assert_memory_equal(certpin_policy_id(certpin_result_policy(r)), a_id, sizeof(a_id));
    assert_string_equal(certpin_policy_source(certpin_result_policy(r)), "a.json");
    assert_non_null(strstr(certpin_result_explain(r), "a.json"));

    /* a context reference outlives the creator's */
    ctx = certpin_ctx_new(b);
    certpin_policy_free(b); /* the context holds b now */
    assert_ptr_equal(certpin_ctx_ref(ctx), ctx);
    certpin_ctx_free(ctx);
    assert_int_equal(certpin_ctx_check(ctx, &conn, r), CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_NO_MATCH);
    assert_string_equal(certpin_policy_source(certpin_result_policy(r)), "b.json");
    certpin_ctx_free(ctx);
    /* the result holds b after the context is gone */
    assert_string_equal(certpin_entry_pattern(certpin_result_entry(r)), "api.example.com");
    certpin_result_free(r);
}

/* ---- swapping the policy under load -------------------------------------------------------- */

typedef struct swap_shared {
    certpin_ctx *ctx;
    certpin_policy *a;
    certpin_policy *b;
    unsigned char a_id[32];
    unsigned char b_id[32];
    atomic_int running;
    atomic_long under_a;
    atomic_long under_b;
    atomic_long mixed;
    atomic_long swaps;
} swap_shared;

static void *checker(void *arg)
{
    swap_shared *s = arg;
    certpin_result *r = certpin_result_new();
    test_chain x;
    certpin_conn conn;
    int i;

    if (r == NULL) {
        atomic_fetch_add(&s->mixed, 1);
        return NULL;
    }
    make_chain(&x, "xleaf xint xroot");
    conn = conn_for("api.example.com", 443, &x, NULL);
    for (i = 0; i < CHECKS_PER_THREAD; i++) {
        certpin_status st = certpin_ctx_check(s->ctx, &conn, r);
        const certpin_policy *p = certpin_result_policy(r);
        const unsigned char *id = certpin_policy_id(p);
        const certpin_entry *e = certpin_result_entry(r);
        certpin_verdict v = certpin_result_verdict(r);
        int ok = st == CERTPIN_OK && id != NULL && e == certpin_policy_entry(p, 0);
        if (ok && memcmp(id, s->a_id, 32) == 0) {
            ok = v == CERTPIN_ACCEPTED_PINNED && certpin_result_depth(r) == 0;
            atomic_fetch_add(&s->under_a, 1);
        } else if (ok && memcmp(id, s->b_id, 32) == 0) {
            ok = v == CERTPIN_REJECTED_NO_MATCH && certpin_result_depth(r) == -1;
            atomic_fetch_add(&s->under_b, 1);
        } else {
            ok = 0;
        }
        if (!ok) {
            atomic_fetch_add(&s->mixed, 1);
        }
    }
    certpin_result_free(r);
    return NULL;
}

static void *swapper(void *arg)
{
    swap_shared *s = arg;
    long n = 0;
    /* bounded: the checkers end the loop, and a cap ends it if they never do */
    while (atomic_load(&s->running) && n < 100L * THREADS * CHECKS_PER_THREAD) {
        if (certpin_ctx_set_policy(s->ctx, (n & 1) ? s->a : s->b) != CERTPIN_OK) {
            atomic_fetch_add(&s->mixed, 1);
        }
        n++;
    }
    atomic_store(&s->swaps, n);
    return NULL;
}

static void test_ctx_swap_under_load(void **state)
{
    swap_shared s;
    pthread_t checkers[THREADS];
    pthread_t swap;
    int i;
    (void)state;

    memset(&s, 0, sizeof(s));
    s.a = load_expanded("a.json", a_json);
    s.b = load_expanded("b.json", b_json);
    memcpy(s.a_id, certpin_policy_id(s.a), 32);
    memcpy(s.b_id, certpin_policy_id(s.b), 32);
    assert_memory_not_equal(s.a_id, s.b_id, 32);
    s.ctx = certpin_ctx_new(s.a);
    assert_non_null(s.ctx);
    atomic_init(&s.running, 1);
    atomic_init(&s.under_a, 0);
    atomic_init(&s.under_b, 0);
    atomic_init(&s.mixed, 0);
    atomic_init(&s.swaps, 0);

    assert_int_equal(pthread_create(&swap, NULL, swapper, &s), 0);
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&checkers[i], NULL, checker, &s), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(checkers[i], NULL), 0);
    }
    atomic_store(&s.running, 0);
    assert_int_equal(pthread_join(swap, NULL), 0);

    print_message("swap: %ld checks under A, %ld under B, %ld policy swaps\n",
                  (long)atomic_load(&s.under_a), (long)atomic_load(&s.under_b),
                  (long)atomic_load(&s.swaps));
    assert_int_equal(atomic_load(&s.mixed), 0);
    assert_int_equal(atomic_load(&s.under_a) + atomic_load(&s.under_b),
                     (long)THREADS * CHECKS_PER_THREAD);
    assert_true(atomic_load(&s.swaps) > 0);
    certpin_ctx_free(s.ctx);
    certpin_policy_free(s.a);
    certpin_policy_free(s.b);
}

/* A swap while a check runs (from the check's own clock), with the context holding the only
 * reference to the old policy: the check must finish on the policy it started with. */
typedef struct clock_swap {
    certpin_ctx *ctx;
    certpin_policy *to;
    int done;
} clock_swap;

static int64_t swapping_clock(void *arg)
{
    clock_swap *cs = arg;
    if (!cs->done) {
        cs->done = 1;
        (void)certpin_ctx_set_policy(cs->ctx, cs->to);
        certpin_policy_free(cs->to); /* the context holds the only reference now */
    }
    return T0;
}

static void test_ctx_swap_during_check(void **state)
{
    certpin_policy *a = load_expanded("a.json", a_json);
    certpin_policy *b = load_expanded("b.json", b_json);
    unsigned char a_id[32];
    certpin_ctx *ctx = certpin_ctx_new(a);
    certpin_result *r = certpin_result_new();
    clock_swap cs;
    test_chain x;
    certpin_conn conn;
    (void)state;

    assert_non_null(ctx);
    assert_non_null(r);
    memcpy(a_id, certpin_policy_id(a), 32);
    certpin_policy_free(a); /* the context holds the only reference to A */
    cs.ctx = ctx;
    cs.to = b;
    cs.done = 0;
    certpin_ctx_set_time_fn(ctx, swapping_clock, &cs);
    make_chain(&x, "xleaf xint xroot");
    conn = conn_for("api.example.com", 443, &x, NULL);
    assert_int_equal(certpin_ctx_check(ctx, &conn, r), CERTPIN_OK);
    assert_int_equal(cs.done, 1);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    assert_memory_equal(certpin_policy_id(certpin_result_policy(r)), a_id, 32);
    certpin_result_free(r);
    certpin_ctx_free(ctx);
}

/* ---- concurrent checks on one policy ------------------------------------------------------- */

typedef struct conc_case {
    const char *host;
    const char *chain;
    certpin_verdict verdict;
    int depth;
} conc_case;

static const conc_case conc[] = {
    {"api.example.com", "leaf int root", CERTPIN_ACCEPTED_PINNED, 0},
    {"api.example.com", "other int root", CERTPIN_REJECTED_NO_MATCH, -1},
    {"api.example.com", "leaf deny root", CERTPIN_REJECTED_DENIED, 1},
    {"z.example.com", "leaf int root", CERTPIN_ACCEPTED_PINNED, 2},
    {"ro.example.com", "other", CERTPIN_ACCEPTED_REPORT_ONLY, -1},
    {"other.org", "deny", CERTPIN_ACCEPTED_NOT_PINNED, -1},
};

#define N_CONC (sizeof(conc) / sizeof(conc[0]))

typedef struct conc_shared {
    const certpin_policy *policy;
    test_chain chains[N_CONC];
    atomic_long wrong;
} conc_shared;

static void *conc_worker(void *arg)
{
    conc_shared *s = arg;
    certpin_result *r = certpin_result_new();
    int i;
    if (r == NULL) {
        atomic_fetch_add(&s->wrong, 1);
        return NULL;
    }
    for (i = 0; i < CHECKS_PER_THREAD; i++) {
        const conc_case *c = &conc[(size_t)i % N_CONC];
        const test_chain *ch = &s->chains[(size_t)i % N_CONC];
        certpin_status st = certpin_check(s->policy, c->host, 443, ch->certs, ch->len, T0, r);
        if (st != CERTPIN_OK || certpin_result_verdict(r) != c->verdict ||
            certpin_result_depth(r) != c->depth) {
            atomic_fetch_add(&s->wrong, 1);
        }
    }
    certpin_result_free(r);
    return NULL;
}

static void test_concurrent_checks(void **state)
{
    conc_shared s;
    pthread_t t[THREADS];
    certpin_policy *p = load_expanded("main.json", main_json);
    size_t i;
    (void)state;

    memset(&s, 0, sizeof(s));
    s.policy = p;
    atomic_init(&s.wrong, 0);
    for (i = 0; i < N_CONC; i++) {
        make_chain(&s.chains[i], conc[i].chain);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, conc_worker, &s), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    assert_int_equal(atomic_load(&s.wrong), 0);
    certpin_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctx_clock),
        cmocka_unit_test(test_ctx_reports),
        cmocka_unit_test(test_ctx_bad_args),
        cmocka_unit_test(test_ctx_null_policy),
        cmocka_unit_test(test_ctx_refcounts),
        cmocka_unit_test(test_ctx_swap_under_load),
        cmocka_unit_test(test_ctx_swap_during_check),
        cmocka_unit_test(test_concurrent_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
