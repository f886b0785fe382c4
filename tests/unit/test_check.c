/* Tests of the check (src/core/check.c) and of results (src/core/result.c): the decision table,
 * in its order, on synthetic chains.
 *
 * A "key" is a name; its SPKI is arbitrary distinct bytes derived from the name (the core only
 * hashes them) and its pin is computed with certpin_pin_from_spki + certpin_pin_format. Policies
 * are JSON templates in which "@name" stands for the pin of key name, or are made with the
 * builder. Chains are written as key names, leaf first ("leaf int root"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certpin/certpin.h"
#include "synthetic.h"

/* "2030-01-01" means up to 00:00:00 UTC the day after: 2030-01-02T00:00:00Z. */
#define EXP ((int64_t)1893542400)
#define T0 ((int64_t)1750000000) /* 2025-06-15: before the expiry */

/* ---- the policies -------------------------------------------------------------------------- */

static const char main_json[] =
    "{\"certpin\": 1, \"unpinned\": \"allow\", \"domains\": [\n"
    /* 0 */ " {\"host\": \"api.example.com\", \"pins\": [\"@leaf\", \"@backup\"]},\n"
    /* 1 */ " {\"host\": \"**.example.com\", \"pins\": [\"@root\", \"@backup2\"],"
    "  \"deny\": [\"@deny\"]},\n"
    /* 2 */ " {\"host\": \"int.example.com\", \"pins\": [\"@int\", \"@backup\"]},\n"
    /* 3 */ " {\"host\": \"ro.example.com\", \"mode\": \"report-only\","
    "  \"pins\": [\"@leaf\", \"@backup\"], \"deny\": [\"@deny2\"]},\n"
    /* 4 */ " {\"host\": \"off.example.com\", \"mode\": \"off\", \"deny\": [\"@deny2\"]},\n"
    /* 5 */ " {\"host\": \"exp.example.com\", \"expires\": \"2030-01-01\", \"on_expiry\": "
    "\"unpin\","
    "  \"pins\": [\"@leaf\", \"@backup\"], \"deny\": [\"@deny2\"]},\n"
    /* 6 */ " {\"host\": \"expenf.example.com\", \"expires\": \"2030-01-01\","
    "  \"on_expiry\": \"enforce\", \"pins\": [\"@leaf\", \"@backup\"]},\n"
    /* 7 */ " {\"host\": \"nobackup.example.com\", \"pins\": [\"@leaf\", \"@int\"]},\n"
    /* 8 */ " {\"host\": \"deep.example.com\", \"pins\": [\"@root\", \"@int\", \"@backup\"]},\n"
    /* 9 */ " {\"host\": \"single.example.com\", \"pins\": [\"@leaf\"]},\n"
    /* 10 */ " {\"host\": \"roexp.example.com\", \"mode\": \"report-only\","
    "  \"expires\": \"2030-01-01\", \"pins\": [\"@leaf\", \"@backup\"]}\n"
    "]}\n";

enum { P_NONE = 0, P_MAIN, P_DENY, P_COUNT };

static certpin_policy *policies[P_COUNT];

/* unpinned: deny, from the builder: one pinned entry and a `mode: off` carve-out with a deny pin.
 */
static certpin_policy *build_deny(void)
{
    certpin_builder *b = certpin_builder_new();
    certpin_domain d;
    certpin_error err;
    certpin_policy *p;
    char leaf[CERTPIN_PIN_STR_MAX];
    char backup[CERTPIN_PIN_STR_MAX];
    char deny[CERTPIN_PIN_STR_MAX];
    const char *pins[2];
    const char *denies[1];

    assert_non_null(b);
    pin_of("leaf", leaf);
    pin_of("backup", backup);
    pin_of("deny", deny);
    pins[0] = leaf;
    pins[1] = backup;
    denies[0] = deny;
    assert_int_equal(certpin_builder_set_unpinned(b, CERTPIN_UNPINNED_DENY), CERTPIN_OK);
    memset(&d, 0, sizeof(d));
    d.host = "api.example.com";
    d.pins = pins;
    d.pin_count = 2;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_OK);
    memset(&d, 0, sizeof(d));
    d.host = "corp.example";
    d.include_subdomains = 1;
    d.mode = CERTPIN_MODE_OFF;
    d.deny = denies;
    d.deny_count = 1;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_OK);
    p = certpin_builder_build(b, &err);
    certpin_builder_free(b);
    assert_non_null(p);
    return p;
}

static int setup(void **state)
{
    (void)state;
    policies[P_NONE] = NULL;
    policies[P_MAIN] = load_expanded("main.json", main_json);
    policies[P_DENY] = build_deny();
    return 0;
}

static int teardown(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < P_COUNT; i++) {
        certpin_policy_free(policies[i]);
        policies[i] = NULL;
    }
    return 0;
}

/* ---- the decision table -------------------------------------------------------------------- */

enum chain_shape {
    CHAIN_AS_WRITTEN = 0,
    CHAIN_NULL,      /* chain pointer NULL, length 0 */
    CHAIN_EMPTY,     /* a chain pointer, length 0 */
    CHAIN_NULL_SPKI, /* the first certificate has no SPKI pointer */
    CHAIN_ZERO_SPKI  /* the first certificate has an SPKI of length 0 */
};

typedef struct check_case {
    const char *name;
    int policy;
    const char *host;
    const char *chain;
    int shape;
    int64_t now;
    certpin_status status;
    certpin_verdict verdict;
    int depth;
    unsigned warnings;
    const char *entry; /* pattern of certpin_result_entry, NULL: none */
} check_case;

#define C16 "c1 c2 c3 c4 c5 c6 c7 c8 c9 c10 c11 c12 c13 c14 c15"

static const check_case cases[] = {
    /* 1. deny pins: of every matching entry, before anything else */
    {"parent entry denies, a pin of the deciding entry matches", P_MAIN, "api.example.com",
     "leaf deny root", 0, T0, CERTPIN_OK, CERTPIN_REJECTED_DENIED, 1, 0, "**.example.com"},
    {"twin: same chain without the denied key", P_MAIN, "api.example.com", "leaf int root", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 0, 0, "api.example.com"},
    {"denied key at the leaf", P_MAIN, "api.example.com", "deny int root", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_DENIED, 0, 0, "**.example.com"},
    {"denied key at the anchor, the anchor is pinned", P_MAIN, "z.example.com", "leaf root deny", 0,
     T0, CERTPIN_OK, CERTPIN_REJECTED_DENIED, 2, 0, "**.example.com"},
    {"twin: pinned anchor, nothing denied", P_MAIN, "z.example.com", "leaf int root", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 2, 0, "**.example.com"},
    {"deny in report-only", P_MAIN, "ro.example.com", "other deny2", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_DENIED, 1, 0, "ro.example.com"},
    {"deny in report-only, a pin matches", P_MAIN, "ro.example.com", "leaf deny2", 0, T0,
     CERTPIN_OK, CERTPIN_REJECTED_DENIED, 1, 0, "ro.example.com"},
    {"deny of the parent in report-only", P_MAIN, "ro.example.com", "other int deny", 0, T0,
     CERTPIN_OK, CERTPIN_REJECTED_DENIED, 2, 0, "**.example.com"},
    {"twin: report-only without a denied key", P_MAIN, "ro.example.com", "other int", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_REPORT_ONLY, -1, 0, "ro.example.com"},
    {"deny in mode off", P_MAIN, "off.example.com", "other deny2", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_DENIED, 1, 0, "off.example.com"},
    {"deny of the parent in mode off", P_MAIN, "off.example.com", "deny int", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_DENIED, 0, 0, "**.example.com"},
    {"twin: mode off without a denied key", P_MAIN, "off.example.com", "other int", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, "off.example.com"},
    {"deny after expiry (on_expiry unpin)", P_MAIN, "exp.example.com", "leaf deny2", 0, EXP,
     CERTPIN_OK, CERTPIN_REJECTED_DENIED, 1, 0, "exp.example.com"},
    {"deny of the parent after expiry", P_MAIN, "exp.example.com", "other deny", 0, EXP + 86400,
     CERTPIN_OK, CERTPIN_REJECTED_DENIED, 1, 0, "**.example.com"},
    {"twin: expired without a denied key", P_MAIN, "exp.example.com", "other int", 0, EXP,
     CERTPIN_OK, CERTPIN_ACCEPTED_EXPIRED, -1, 0, "exp.example.com"},
    {"deny pins of entries that do not match do not apply", P_MAIN, "example.org", "deny deny2", 0,
     T0, CERTPIN_OK, CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, NULL},
    {"deny of **.example.com does not reach evilexample.com", P_MAIN, "evilexample.com", "deny", 0,
     T0, CERTPIN_OK, CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, NULL},
    {"deny of a mode-off carve-out under unpinned deny", P_DENY, "x.corp.example", "other deny", 0,
     T0, CERTPIN_OK, CERTPIN_REJECTED_DENIED, 1, 0, "**.corp.example"},
    {"twin: the carve-out without a denied key", P_DENY, "x.corp.example", "other", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, "**.corp.example"},

    /* 2. no entry matches */
    {"unpinned deny refuses a host no entry covers", P_DENY, "other.org", "leaf", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_UNPINNED_HOST, -1, 0, NULL},
    {"unpinned deny: a look-alike name is not covered", P_DENY, "api.example.com.evil.com", "leaf",
     0, T0, CERTPIN_OK, CERTPIN_REJECTED_UNPINNED_HOST, -1, 0, NULL},
    {"twin: unpinned deny, the covered host", P_DENY, "api.example.com", "leaf", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 0, 0, "api.example.com"},
    {"twin: unpinned deny, a key that is not pinned", P_DENY, "api.example.com", "other", 0, T0,
     CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, 0, "api.example.com"},
    {"unpinned allow accepts a host no entry covers", P_MAIN, "other.org", "leaf", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, NULL},

    /* 3. mode off */
    {"mode off accepts any chain", P_MAIN, "off.example.com", "leaf int root", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, "off.example.com"},
    {"mode off under unpinned deny", P_DENY, "corp.example", "x", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_NOT_PINNED, -1, 0, "**.corp.example"},

    /* 4. expiry: "2030-01-01" lasts through that day */
    {"one second before expiry: enforced", P_MAIN, "exp.example.com", "other int", 0, EXP - 1,
     CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, 0, "exp.example.com"},
    {"at expiry: unpinned", P_MAIN, "exp.example.com", "other int", 0, EXP, CERTPIN_OK,
     CERTPIN_ACCEPTED_EXPIRED, -1, 0, "exp.example.com"},
    {"a year after expiry: unpinned", P_MAIN, "exp.example.com", "other", 0, EXP + 365 * 86400,
     CERTPIN_OK, CERTPIN_ACCEPTED_EXPIRED, -1, 0, "exp.example.com"},
    {"before expiry, pinned key", P_MAIN, "exp.example.com", "leaf int", 0, EXP - 1, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 0, 0, "exp.example.com"},
    {"after expiry the pinned key changes nothing", P_MAIN, "exp.example.com", "leaf int", 0, EXP,
     CERTPIN_OK, CERTPIN_ACCEPTED_EXPIRED, -1, 0, "exp.example.com"},
    {"on_expiry enforce, one second before", P_MAIN, "expenf.example.com", "other int", 0, EXP - 1,
     CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, 0, "expenf.example.com"},
    {"on_expiry enforce, at expiry: still enforced", P_MAIN, "expenf.example.com", "other int", 0,
     EXP, CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, CERTPIN_WARN_EXPIRED_ENFORCED,
     "expenf.example.com"},
    {"on_expiry enforce, at expiry, pinned", P_MAIN, "expenf.example.com", "leaf int", 0, EXP,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 0, CERTPIN_WARN_EXPIRED_ENFORCED, "expenf.example.com"},
    {"report-only before expiry", P_MAIN, "roexp.example.com", "other", 0, EXP - 1, CERTPIN_OK,
     CERTPIN_ACCEPTED_REPORT_ONLY, -1, 0, "roexp.example.com"},
    {"report-only at expiry", P_MAIN, "roexp.example.com", "other", 0, EXP, CERTPIN_OK,
     CERTPIN_ACCEPTED_EXPIRED, -1, 0, "roexp.example.com"},

    /* 5. a pin matches: the lowest matching depth */
    {"pinned leaf", P_MAIN, "api.example.com", "leaf int root", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 0, 0, "api.example.com"},
    {"pinned intermediate", P_MAIN, "int.example.com", "leaf int root", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 1, 0, "int.example.com"},
    {"pinned anchor (subtree entry)", P_MAIN, "a.b.example.com", "leaf int root", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 2, 0, "**.example.com"},
    {"two pins on the chain: the lower depth", P_MAIN, "deep.example.com", "leaf int root", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 1, 0, "deep.example.com"},
    {"twin: only the anchor pin on the chain", P_MAIN, "deep.example.com", "leaf other root", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 2, 0, "deep.example.com"},
    {"pinned key alone (chain of one)", P_MAIN, "int.example.com", "int", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 0, 0, "int.example.com"},
    {"the parent's pins do not count for the deciding entry", P_MAIN, "api.example.com",
     "other int root", 0, T0, CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, 0, "api.example.com"},
    {"a subdomain carries other pins than its parent", P_MAIN, "int.example.com", "leaf x root", 0,
     T0, CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, 0, "int.example.com"},
    {"every pin on the chain: no backup", P_MAIN, "nobackup.example.com", "leaf int root", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 0, CERTPIN_WARN_NO_BACKUP, "nobackup.example.com"},
    {"twin: one pin off the chain is a backup", P_MAIN, "nobackup.example.com", "leaf other root",
     0, T0, CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 0, 0, "nobackup.example.com"},
    {"a single pin on the chain: no backup", P_MAIN, "single.example.com", "x leaf", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 1, CERTPIN_WARN_NO_BACKUP, "single.example.com"},
    {"twin: the single pin not on the chain", P_MAIN, "single.example.com", "x other", 0, T0,
     CERTPIN_OK, CERTPIN_REJECTED_NO_MATCH, -1, 0, "single.example.com"},
    {"16 certificates, the pin at depth 15", P_MAIN, "int.example.com", C16 " int", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 15, 0, "int.example.com"},

    /* 6. report-only */
    {"report-only, no pin matches", P_MAIN, "ro.example.com", "other int root", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_REPORT_ONLY, -1, 0, "ro.example.com"},
    {"twin: report-only, a pin matches", P_MAIN, "ro.example.com", "leaf int root", 0, T0,
     CERTPIN_OK, CERTPIN_ACCEPTED_PINNED, 0, 0, "ro.example.com"},

    /* 7. no pin matches */
    {"no pin matches", P_MAIN, "api.example.com", "other", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_NO_MATCH, -1, 0, "api.example.com"},
    {"a backup pin is a pin", P_MAIN, "api.example.com", "backup", 0, T0, CERTPIN_OK,
     CERTPIN_ACCEPTED_PINNED, 0, 0, "api.example.com"},
    {"canonical host at check time", P_MAIN, "API.Example.COM.", "other", 0, T0, CERTPIN_OK,
     CERTPIN_REJECTED_NO_MATCH, -1, 0, "api.example.com"},

    /* errors: never accepted */
    {"no policy", P_NONE, "api.example.com", "leaf", 0, T0, CERTPIN_E_ARG, CERTPIN_REJECTED_ERROR,
     -1, 0, NULL},
    {"no host", P_MAIN, NULL, "leaf", 0, T0, CERTPIN_E_ARG, CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"empty host", P_MAIN, "", "leaf", 0, T0, CERTPIN_E_ARG, CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"no chain", P_MAIN, "api.example.com", "", CHAIN_NULL, T0, CERTPIN_E_ARG,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"empty chain", P_MAIN, "api.example.com", "", CHAIN_EMPTY, T0, CERTPIN_E_ARG,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"empty chain, unpinned host", P_MAIN, "other.org", "", CHAIN_EMPTY, T0, CERTPIN_E_ARG,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"17 certificates", P_MAIN, "int.example.com", C16 " c16 int", 0, T0, CERTPIN_E_ARG,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"17 certificates, unpinned host", P_MAIN, "other.org", C16 " c16 int", 0, T0, CERTPIN_E_ARG,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"a certificate without SPKI", P_MAIN, "api.example.com", "leaf int", CHAIN_NULL_SPKI, T0,
     CERTPIN_E_ARG, CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"a certificate with an empty SPKI", P_MAIN, "api.example.com", "leaf int", CHAIN_ZERO_SPKI, T0,
     CERTPIN_E_ARG, CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"numeric host in a short spelling", P_MAIN, "127.1", "leaf", 0, T0, CERTPIN_E_HOST,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"numeric host in a short spelling, unpinned deny", P_DENY, "127.1", "leaf", 0, T0,
     CERTPIN_E_HOST, CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"host with a port", P_MAIN, "api.example.com:443", "leaf", 0, T0, CERTPIN_E_HOST,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
    {"bad host with a denied key", P_MAIN, "api..example.com", "deny", 0, T0, CERTPIN_E_HOST,
     CERTPIN_REJECTED_ERROR, -1, 0, NULL},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static certpin_status run_case(const check_case *c, test_chain *ch, certpin_result *r)
{
    const certpin_cert *certs;
    size_t len;

    make_chain(ch, c->chain);
    certs = ch->certs;
    len = ch->len;
    switch (c->shape) {
    case CHAIN_NULL:
        certs = NULL;
        len = 0;
        break;
    case CHAIN_EMPTY: len = 0; break;
    case CHAIN_NULL_SPKI: ch->certs[0].spki = NULL; break;
    case CHAIN_ZERO_SPKI: ch->certs[0].spki_len = 0; break;
    default: break;
    }
    return certpin_check(policies[c->policy], c->host, 8443, certs, len, c->now, r);
}

static void test_decision_table(void **state)
{
    certpin_result *r = certpin_result_new();
    test_chain ch;
    size_t i;
    (void)state;

    assert_non_null(r);
    for (i = 0; i < N_CASES; i++) {
        const check_case *c = &cases[i];
        const certpin_entry *e;
        certpin_status st = run_case(c, &ch, r);
        certpin_verdict v = certpin_result_verdict(r);

        if (st != c->status || v != c->verdict) {
            print_error("case \"%s\": status %d verdict %s, expected status %d verdict %s\n%s",
                        c->name, (int)st, certpin_verdict_str(v), (int)c->status,
                        certpin_verdict_str(c->verdict), certpin_result_explain(r));
            fail();
        }
        CHECK(c->name, certpin_result_depth(r) == c->depth);
        CHECK(c->name, certpin_result_warnings(r) == c->warnings);
        e = certpin_result_entry(r);
        if (c->entry == NULL) {
            CHECK(c->name, e == NULL);
        } else {
            CHECK(c->name, e != NULL && strcmp(certpin_entry_pattern(e), c->entry) == 0);
        }
        CHECK(c->name, certpin_result_port(r) == 8443);
        CHECK(c->name, certpin_result_policy(r) == policies[c->policy]);
        CHECK(c->name, certpin_result_explain(r)[0] != '\0');
        if (c->status != CERTPIN_OK) {
            /* fails closed */
            CHECK(c->name, !certpin_verdict_accepted(v));
            CHECK(c->name, certpin_result_reason(r)[0] != '\0');
            CHECK(c->name, certpin_result_chain_len(r) == 0);
            continue;
        }
        CHECK(c->name, certpin_result_reason(r)[0] == '\0');
        {
            char canon[CERTPIN_HOST_MAX];
            size_t k;
            assert_int_equal(certpin_host_canonical(c->host, canon, NULL), CERTPIN_OK);
            CHECK(c->name, strcmp(certpin_result_host(r), canon) == 0);
            CHECK(c->name, certpin_result_chain_len(r) == ch.len);
            for (k = 0; k < ch.len; k++) {
                unsigned char pin[CERTPIN_PIN_LEN];
                assert_int_equal(certpin_pin_from_spki(ch.certs[k].spki, ch.certs[k].spki_len, pin),
                                 CERTPIN_OK);
                CHECK(c->name, memcmp(certpin_result_chain_pin(r, k), pin, sizeof(pin)) == 0);
                CHECK(c->name, strcmp(certpin_result_chain_subject(r, k), ch.subject[k]) == 0);
            }
            CHECK(c->name, certpin_result_chain_pin(r, ch.len) == NULL);
        }
    }
    certpin_result_free(r);
}

/* There is nowhere to put a verdict: the call fails. */
static void test_null_result(void **state)
{
    test_chain ch;
    (void)state;
    make_chain(&ch, "leaf");
    assert_int_equal(certpin_check(policies[P_MAIN], "api.example.com", 0, ch.certs, 1, T0, NULL),
                     CERTPIN_E_ARG);
}

/* ---- verdicts ------------------------------------------------------------------------------ */

static void test_verdicts(void **state)
{
    static const struct {
        certpin_verdict v;
        int accepted;
        const char *name;
    } verdicts[] = {
        {CERTPIN_NOT_CHECKED, 0, "not-checked"},
        {CERTPIN_REJECTED_DENIED, 0, "rejected-denied"},
        {CERTPIN_REJECTED_UNPINNED_HOST, 0, "rejected-unpinned-host"},
        {CERTPIN_ACCEPTED_NOT_PINNED, 1, "accepted-not-pinned"},
        {CERTPIN_ACCEPTED_EXPIRED, 1, "accepted-expired"},
        {CERTPIN_ACCEPTED_PINNED, 1, "accepted-pinned"},
        {CERTPIN_ACCEPTED_REPORT_ONLY, 1, "accepted-report-only"},
        {CERTPIN_REJECTED_NO_MATCH, 0, "rejected-no-match"},
        {CERTPIN_REJECTED_ERROR, 0, "rejected-error"},
        {CERTPIN_REJECTED_UNVERIFIED, 0, "rejected-unverified"},
        {(certpin_verdict)99, 0, "unknown"},
        {(certpin_verdict)-1, 0, "unknown"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
        CHECK(verdicts[i].name, certpin_verdict_accepted(verdicts[i].v) == verdicts[i].accepted);
        CHECK(verdicts[i].name, strcmp(certpin_verdict_str(verdicts[i].v), verdicts[i].name) == 0);
    }
}

/* ---- explanations -------------------------------------------------------------------------- */

static void must_contain(const char *what, const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL) {
        print_error("%s: the explanation lacks \"%s\":\n%s", what, needle, text);
        fail();
    }
}

static void must_not_contain(const char *what, const char *text, const char *needle)
{
    if (strstr(text, needle) != NULL) {
        print_error("%s: the explanation has \"%s\":\n%s", what, needle, text);
        fail();
    }
}

/* The line of text that contains needle, copied to line. */
static void line_with(const char *text, const char *needle, char *line, size_t cap)
{
    const char *at = strstr(text, needle);
    const char *start;
    const char *end;
    size_t n;
    assert_non_null(at);
    start = at;
    while (start > text && start[-1] != '\n') {
        start--;
    }
    end = strchr(at, '\n');
    n = end != NULL ? (size_t)(end - start) : strlen(start);
    assert_true(n < cap);
    memcpy(line, start, n);
    line[n] = '\0';
}

static void test_explain_no_match(void **state)
{
    static const char *const keys[] = {"other", "int", "root"};
    certpin_result *r = certpin_result_new();
    test_chain ch;
    char pin[CERTPIN_PIN_STR_MAX];
    char line[512];
    const char *text;
    size_t i;
    (void)state;

    make_chain(&ch, "other int root");
    assert_int_equal(
        certpin_check(policies[P_MAIN], "API.example.com", 443, ch.certs, ch.len, T0, r),
        CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_NO_MATCH);
    text = certpin_result_explain(r);
    must_contain("no-match", text, "pin check failed for api.example.com");
    must_contain("no-match", text, "verified chain:");
    must_contain("no-match", text,
                 "policy entry api.example.com (main.json, domains[0]) "
                 "expects one of:");
    for (i = 0; i < 3; i++) {
        pin_of(keys[i], pin);
        must_contain("no-match", text, pin);
        line_with(text, pin, line, sizeof(line));
        must_contain("no-match: chain line", line, ch.subject[i]);
        must_contain("no-match: chain line", line,
                     i == 0   ? "(leaf)"
                     : i == 2 ? "(trust anchor)"
                              : "CN=int");
        must_not_contain("no-match: chain line", line, i == 1 ? "(" : "<-");
    }
    /* the expected pins, listed after the entry line */
    text = strstr(text, "expects one of:");
    assert_non_null(text);
    pin_of("leaf", pin);
    must_contain("no-match: expected", text, pin);
    pin_of("backup", pin);
    must_contain("no-match: expected", text, pin);
    /* the parent's pins are not what api.example.com expects */
    pin_of("root", pin);
    must_not_contain("no-match: expected", text, pin);
    /* the same pointer until the result is reused */
    assert_ptr_equal(certpin_result_explain(r), certpin_result_explain(r));
    certpin_result_free(r);
}

static void test_explain_denied(void **state)
{
    certpin_result *r = certpin_result_new();
    test_chain ch;
    char pin[CERTPIN_PIN_STR_MAX];
    char line[512];
    const char *text;
    (void)state;

    make_chain(&ch, "leaf deny root");
    assert_int_equal(
        certpin_check(policies[P_MAIN], "api.example.com", 443, ch.certs, ch.len, T0, r),
        CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_DENIED);
    text = certpin_result_explain(r);
    must_contain("denied", text, "denied key is on the verified chain for api.example.com");
    must_contain("denied", text, "policy entry **.example.com (main.json, domains[1]) denies:");
    pin_of("deny", pin);
    line_with(text, pin, line, sizeof(line));
    must_contain("denied: the chain line of the denied key", line, "CN=deny");
    must_contain("denied: the chain line of the denied key", line, "<- denied");
    text = strstr(text, "denies:");
    assert_non_null(text);
    must_contain("denied: the deny pins", text, pin);
    pin_of("leaf", pin);
    line_with(certpin_result_explain(r), pin, line, sizeof(line));
    must_not_contain("denied: the leaf line", line, "<-");

    /* twin: the accepted chain names the pinned key, not a denied one */
    make_chain(&ch, "other leaf root");
    assert_int_equal(
        certpin_check(policies[P_MAIN], "api.example.com", 443, ch.certs, ch.len, T0, r),
        CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    text = certpin_result_explain(r);
    must_not_contain("pinned", text, "denied");
    must_not_contain("pinned", text, "failed");
    must_contain("pinned", text, "depth 1");
    line_with(text, pin, line, sizeof(line));
    must_contain("pinned: the pinned line", line, "<- pinned");
    certpin_result_free(r);
}

typedef struct explain_case {
    const char *name;
    int policy;
    const char *host;
    const char *chain;
    int64_t now;
    certpin_verdict verdict;
    const char *has[3];
    const char *lacks;
} explain_case;

static const explain_case explains[] = {
    {"chain of one",
     P_MAIN,
     "api.example.com",
     "other",
     T0,
     CERTPIN_REJECTED_NO_MATCH,
     {"(leaf, trust anchor)", "pin check failed", NULL},
     "(trust anchor)\n"},
    {"builder source",
     P_DENY,
     "api.example.com",
     "other x",
     T0,
     CERTPIN_REJECTED_NO_MATCH,
     {"policy entry api.example.com (<builder>, domains[0]) expects one of:", "(leaf)",
      "(trust anchor)"},
     "report-only"},
    {"report-only",
     P_MAIN,
     "ro.example.com",
     "other",
     T0,
     CERTPIN_ACCEPTED_REPORT_ONLY,
     {"pin check failed for ro.example.com (report-only",
      "policy entry ro.example.com (main.json, domains[3]) expects one of:", NULL},
     "denied"},
    {"expired",
     P_MAIN,
     "exp.example.com",
     "other",
     EXP,
     CERTPIN_ACCEPTED_EXPIRED,
     {"expired at 2030-01-02T00:00:00Z", "exp.example.com (main.json, domains[5])", "unpin"},
     "failed"},
    {"expired, enforced",
     P_MAIN,
     "expenf.example.com",
     "other",
     EXP,
     CERTPIN_REJECTED_NO_MATCH,
     {"pin check failed for expenf.example.com", "keeps it enforced", NULL},
     "backup"},
    {"no backup",
     P_MAIN,
     "nobackup.example.com",
     "leaf int",
     T0,
     CERTPIN_ACCEPTED_PINNED,
     {"none is a backup", "matches a pin of entry nobackup.example.com", NULL},
     "expired"},
    {"mode off",
     P_MAIN,
     "off.example.com",
     "other",
     T0,
     CERTPIN_ACCEPTED_NOT_PINNED,
     {"not pinned", "mode \"off\"", NULL},
     "failed"},
    {"unpinned allow",
     P_MAIN,
     "other.org",
     "other",
     T0,
     CERTPIN_ACCEPTED_NOT_PINNED,
     {"no entry of the policy (main.json) covers it", NULL, NULL},
     "mode"},
    {"unpinned deny",
     P_DENY,
     "other.org",
     "other",
     T0,
     CERTPIN_REJECTED_UNPINNED_HOST,
     {"no entry of the policy (<builder>) covers other.org", "\"deny\"", "CN=other"},
     "accepted"},
    {"error",
     P_MAIN,
     "127.1",
     "leaf",
     T0,
     CERTPIN_REJECTED_ERROR,
     {"cannot check", "127.1", NULL},
     "accepted"},
};

static void test_explain_table(void **state)
{
    certpin_result *r = certpin_result_new();
    test_chain ch;
    size_t i;
    size_t k;
    (void)state;
    for (i = 0; i < sizeof(explains) / sizeof(explains[0]); i++) {
        const explain_case *c = &explains[i];
        const char *text;
        make_chain(&ch, c->chain);
        (void)certpin_check(policies[c->policy], c->host, 443, ch.certs, ch.len, c->now, r);
        CHECK(c->name, certpin_result_verdict(r) == c->verdict);
        text = certpin_result_explain(r);
        for (k = 0; k < 3 && c->has[k] != NULL; k++) {
            must_contain(c->name, text, c->has[k]);
        }
        must_not_contain(c->name, text, c->lacks);
    }
    certpin_result_free(r);
}

/* ---- results are reused -------------------------------------------------------------------- */

static void test_result_reuse(void **state)
{
    certpin_result *r = certpin_result_new();
    test_chain ch;
    const char *text;
    (void)state;

    assert_non_null(r);
    /* a new result is a failure until a check runs */
    assert_int_equal(certpin_result_verdict(r), CERTPIN_NOT_CHECKED);
    assert_false(certpin_verdict_accepted(certpin_result_verdict(r)));
    assert_int_equal(certpin_result_depth(r), -1);
    assert_null(certpin_result_entry(r));
    assert_null(certpin_result_policy(r));
    must_contain("new", certpin_result_explain(r), "no pin check ran");

    /* 1: pinned, no backup, explanation made */
    make_chain(&ch, "leaf int root");
    assert_int_equal(
        certpin_check(policies[P_MAIN], "nobackup.example.com", 1, ch.certs, ch.len, T0, r),
        CERTPIN_OK);
    assert_int_equal(certpin_result_warnings(r), CERTPIN_WARN_NO_BACKUP);
    must_contain("first", certpin_result_explain(r), "nobackup.example.com");

    /* 2: the same result, an unpinned host: nothing of the first check is left */
    make_chain(&ch, "other");
    assert_int_equal(certpin_check(policies[P_MAIN], "other.org", 2, ch.certs, ch.len, T0, r),
                     CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_NOT_PINNED);
    assert_null(certpin_result_entry(r));
    assert_int_equal(certpin_result_warnings(r), 0);
    assert_int_equal(certpin_result_depth(r), -1);
    assert_int_equal(certpin_result_port(r), 2);
    assert_int_equal(certpin_result_chain_len(r), 1);
    assert_string_equal(certpin_result_host(r), "other.org");
    text = certpin_result_explain(r);
    must_not_contain("second", text, "nobackup");
    must_not_contain("second", text, "backup");
    must_contain("second", text, "other.org");

    /* 3: expired but enforced, then a plain pinned check: the warning goes */
    make_chain(&ch, "other");
    assert_int_equal(
        certpin_check(policies[P_MAIN], "expenf.example.com", 3, ch.certs, ch.len, EXP, r),
        CERTPIN_OK);
    assert_int_equal(certpin_result_warnings(r), CERTPIN_WARN_EXPIRED_ENFORCED);
    must_contain("third", certpin_result_explain(r), "keeps it enforced");
    make_chain(&ch, "leaf other");
    assert_int_equal(
        certpin_check(policies[P_MAIN], "api.example.com", 4, ch.certs, ch.len, EXP, r),
        CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    assert_int_equal(certpin_result_warnings(r), 0);
    must_not_contain("fourth", certpin_result_explain(r), "enforced");

    /* 4: then an error under another policy: no entry, no depth, no chain, no host */
    assert_int_equal(certpin_check(policies[P_DENY], NULL, 5, ch.certs, ch.len, T0, r),
                     CERTPIN_E_ARG);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_ERROR);
    assert_null(certpin_result_entry(r));
    assert_int_equal(certpin_result_depth(r), -1);
    assert_int_equal(certpin_result_chain_len(r), 0);
    assert_string_equal(certpin_result_host(r), "");
    assert_ptr_equal(certpin_result_policy(r), policies[P_DENY]);
    must_contain("fifth", certpin_result_explain(r), "cannot check");
    must_not_contain("fifth", certpin_result_explain(r), "api.example.com");

    /* 5: and a good check again: the reason is gone */
    assert_int_equal(certpin_check(policies[P_DENY], "api.example.com", 6, ch.certs, ch.len, T0, r),
                     CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    assert_string_equal(certpin_result_reason(r), "");
    assert_int_equal(certpin_result_depth(r), 0);

    /* 6: after a bad host the host is empty, not the previous one */
    assert_int_equal(certpin_check(policies[P_DENY], "127.1", 7, ch.certs, ch.len, T0, r),
                     CERTPIN_E_HOST);
    assert_string_equal(certpin_result_host(r), "");
    assert_null(certpin_result_entry(r));

    /* reset forgets everything, including the policy reference */
    certpin_result_reset(r);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_NOT_CHECKED);
    assert_null(certpin_result_policy(r));
    assert_null(certpin_result_entry(r));
    must_contain("reset", certpin_result_explain(r), "no pin check ran");
    certpin_result_free(r);
    certpin_result_free(NULL);
    certpin_result_reset(NULL);
}

/* The result keeps its policy alive: the caller may drop its own reference. */
static void test_result_holds_policy(void **state)
{
    certpin_result *r = certpin_result_new();
    certpin_policy *p = load_expanded("main.json", main_json);
    test_chain ch;
    (void)state;
    make_chain(&ch, "other");
    assert_int_equal(certpin_check(p, "api.example.com", 443, ch.certs, ch.len, T0, r), CERTPIN_OK);
    certpin_policy_free(p);
    assert_string_equal(certpin_entry_pattern(certpin_result_entry(r)), "api.example.com");
    must_contain("after free", certpin_result_explain(r), "(main.json, domains[0])");
    certpin_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_table), cmocka_unit_test(test_null_result),
        cmocka_unit_test(test_verdicts),       cmocka_unit_test(test_explain_no_match),
        cmocka_unit_test(test_explain_denied), cmocka_unit_test(test_explain_table),
        cmocka_unit_test(test_result_reuse),   cmocka_unit_test(test_result_holds_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
