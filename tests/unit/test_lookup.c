/* Tests of the lookup of the deciding entry (src/core/policy.c, visit_matches and the pattern
 * matching of src/core/host.c): an exact entry wins; otherwise the matching pattern with the most
 * fixed labels; on a tie `*.` beats `**.` (and include_subdomains, which is `**.`).
 *
 * One policy with many overlapping patterns, loaded twice (from JSON and from the builder), and a
 * table of hosts with the pattern that must decide. Each entry i pins its own synthetic key
 * "k<i>", so every row is also run through certpin_check: the key of the deciding entry is
 * accepted, and the key of the "rival" (the entry that would decide if the precedence were
 * wrong) is refused, because the winning entry alone decides the pins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certpin/certpin.h"
#include "private/map.h"
#include "private/policy.h"
#include "synthetic.h"

#define NOW ((int64_t)1750000000) /* 2025-06-15: before any expiry, none is set here anyway */

/* ---- synthetic keys ------------------------------------------------------------------------ */

/* Checks host with a one-certificate chain holding key name. */
static certpin_status check_with(const certpin_policy *p, const char *host, const char *name,
                                 certpin_result *r)
{
    unsigned char spki[128];
    certpin_cert cert;
    cert.spki = spki;
    cert.spki_len = spki_of(name, spki, sizeof(spki));
    cert.subject = name;
    return certpin_check(p, host, 443, &cert, 1, NOW, r);
}

/* ---- the policy ---------------------------------------------------------------------------- */

typedef struct pattern_row {
    const char *host; /* as written in the policy */
    int include_subdomains;
    const char *display; /* certpin_entry_pattern */
    certpin_match match;
    size_t fixed_labels;
} pattern_row;

static const pattern_row patterns[] = {
    {"api.example.com", 0, "api.example.com", CERTPIN_MATCH_EXACT, 3},
    {"*.example.com", 0, "*.example.com", CERTPIN_MATCH_ONE_LABEL, 2},
    {"**.example.com", 0, "**.example.com", CERTPIN_MATCH_SUBTREE, 2},
    /* ties with the exact entry on fixed labels: the exact entry must still win */
    {"**.api.example.com", 0, "**.api.example.com", CERTPIN_MATCH_SUBTREE, 3},
    /* more fixed labels than *.example.com for www.example.com, though it is a `**.` */
    {"**.www.example.com", 0, "**.www.example.com", CERTPIN_MATCH_SUBTREE, 3},
    {"*.a.com", 0, "*.a.com", CERTPIN_MATCH_ONE_LABEL, 2},
    {"**.foo.com", 0, "**.foo.com", CERTPIN_MATCH_SUBTREE, 2},
    /* the tie of `*.` and `**.` over one base */
    {"*.b.foo.com", 0, "*.b.foo.com", CERTPIN_MATCH_ONE_LABEL, 3},
    {"**.b.foo.com", 0, "**.b.foo.com", CERTPIN_MATCH_SUBTREE, 3},
    /* the same tie with include_subdomains instead of `**.` */
    {"*.inc.example.org", 0, "*.inc.example.org", CERTPIN_MATCH_ONE_LABEL, 3},
    {"inc.example.org", 1, "**.inc.example.org", CERTPIN_MATCH_SUBTREE, 3},
    {"**.evil.com", 0, "**.evil.com", CERTPIN_MATCH_SUBTREE, 2},
    {"Example.NET.", 0, "example.net", CERTPIN_MATCH_EXACT, 2},
    {"b\xc3\xbc"
     "cher.example",
     0, "xn--bcher-kva.example", CERTPIN_MATCH_EXACT, 2},
    {"127.0.0.1", 0, "127.0.0.1", CERTPIN_MATCH_EXACT, 1},
    {"2001:DB8:0:0:0:0:0:1", 0, "2001:db8::1", CERTPIN_MATCH_EXACT, 1},
};

#define N_PATTERNS (sizeof(patterns) / sizeof(patterns[0]))

static size_t index_of(const char *display)
{
    size_t i;
    for (i = 0; i < N_PATTERNS; i++) {
        if (strcmp(patterns[i].display, display) == 0) {
            return i;
        }
    }
    print_error("no pattern %s in the test policy\n", display);
    fail();
    return 0;
}

static void key_name(char *out, size_t cap, const char *prefix, size_t i)
{
    int n = snprintf(out, cap, "%s%zu", prefix, i);
    assert_true(n > 0 && (size_t)n < cap);
}

static certpin_policy *load_json_policy(void)
{
    char json[8192];
    size_t used = 0;
    size_t i;
    certpin_error err;
    certpin_policy *p;

    used += (size_t)snprintf(json + used, sizeof(json) - used,
                             "{\"certpin\": 1, \"unpinned\": \"allow\", \"domains\": [\n");
    for (i = 0; i < N_PATTERNS; i++) {
        char k[16];
        char b[16];
        char pk[CERTPIN_PIN_STR_MAX];
        char pb[CERTPIN_PIN_STR_MAX];
        key_name(k, sizeof(k), "k", i);
        key_name(b, sizeof(b), "b", i);
        pin_of(k, pk);
        pin_of(b, pb);
        used += (size_t)snprintf(
            json + used, sizeof(json) - used,
            "  {\"host\": \"%s\",%s \"pins\": [\"%s\", \"%s\"]}%s\n", patterns[i].host,
            patterns[i].include_subdomains ? " \"include_subdomains\": true," : "", pk, pb,
            i + 1 < N_PATTERNS ? "," : "");
        assert_true(used < sizeof(json));
    }
    used += (size_t)snprintf(json + used, sizeof(json) - used, "]}\n");
    assert_true(used < sizeof(json));
    memset(&err, 0, sizeof(err));
    p = certpin_policy_load_buffer(json, used, "lookup.json", NULL, &err);
    if (p == NULL) {
        print_error("lookup.json: %s: %s\n", err.path, err.text);
    }
    assert_non_null(p);
    return p;
}

/* The test policy, then filler entries that no host of the table reaches ("f<i>.filler.test"). */
static certpin_policy *build_policy_with(certpin_unpinned unpinned, size_t filler)
{
    certpin_builder *b = certpin_builder_new();
    certpin_policy *p;
    certpin_error err;
    size_t i;

    assert_non_null(b);
    assert_int_equal(certpin_builder_set_unpinned(b, unpinned), CERTPIN_OK);
    for (i = 0; i < N_PATTERNS; i++) {
        char k[16];
        char bk[16];
        char pk[CERTPIN_PIN_STR_MAX];
        char pb[CERTPIN_PIN_STR_MAX];
        const char *pins[2];
        certpin_domain d;
        key_name(k, sizeof(k), "k", i);
        key_name(bk, sizeof(bk), "b", i);
        pin_of(k, pk);
        pin_of(bk, pb);
        pins[0] = pk;
        pins[1] = pb;
        memset(&d, 0, sizeof(d));
        d.host = patterns[i].host;
        d.include_subdomains = patterns[i].include_subdomains;
        d.pins = pins;
        d.pin_count = 2;
        if (certpin_builder_add(b, &d, &err) != CERTPIN_OK) {
            print_error("builder: %s: %s\n", patterns[i].host, err.text);
            fail();
        }
    }
    for (i = 0; i < filler; i++) {
        char host[64];
        char pk[CERTPIN_PIN_STR_MAX];
        char pb[CERTPIN_PIN_STR_MAX];
        const char *pins[2];
        certpin_domain d;
        (void)snprintf(host, sizeof(host), "%sf%zu.filler.test",
                       i % 3 == 0   ? ""
                       : i % 3 == 1 ? "*."
                                    : "**.",
                       i);
        pin_of(host, pk);
        pin_of(host + 1, pb);
        pins[0] = pk;
        pins[1] = pb;
        memset(&d, 0, sizeof(d));
        d.host = host;
        d.pins = pins;
        d.pin_count = 2;
        if (certpin_builder_add(b, &d, &err) != CERTPIN_OK) {
            print_error("builder: %s: %s\n", host, err.text);
            fail();
        }
    }
    p = certpin_builder_build(b, &err);
    certpin_builder_free(b);
    assert_non_null(p);
    return p;
}

static certpin_policy *build_policy(certpin_unpinned unpinned)
{
    return build_policy_with(unpinned, 0);
}

/* ---- the lookup table ---------------------------------------------------------------------- */

typedef struct lookup_case {
    const char *host;  /* as the application gives it */
    const char *want;  /* pattern of the deciding entry; NULL: none */
    const char *rival; /* an entry that also matches (or looks as if it did) but must not decide */
    certpin_status error; /* not CERTPIN_OK: the host is refused */
} lookup_case;

static const lookup_case lookups[] = {
    /* exact wins, over `**.` of the same name (same fixed labels), `*.` and `**.` of the parent */
    {"api.example.com", "api.example.com", "**.api.example.com", CERTPIN_OK},
    {"api.example.com", "api.example.com", "*.example.com", CERTPIN_OK},
    {"API.EXAMPLE.COM.", "api.example.com", "**.api.example.com", CERTPIN_OK},
    {"Api.Example.Com", "api.example.com", "*.example.com", CERTPIN_OK},
    {"v1.api.example.com", "**.api.example.com", "**.example.com", CERTPIN_OK},
    {"x.v1.api.example.com", "**.api.example.com", "**.example.com", CERTPIN_OK},
    {"apiexample.com", NULL, "**.example.com", CERTPIN_OK},
    /* `*.` beats `**.` on a tie; `*.` is exactly one more label */
    {"web.example.com", "*.example.com", "**.example.com", CERTPIN_OK},
    {"WEB.example.com.", "*.example.com", "**.example.com", CERTPIN_OK},
    {"example.com", "**.example.com", "*.example.com", CERTPIN_OK},
    {"a.b.example.com", "**.example.com", "*.example.com", CERTPIN_OK},
    {"evilexample.com", NULL, "**.example.com", CERTPIN_OK},
    {"example.com.evil.com", "**.evil.com", "**.example.com", CERTPIN_OK},
    /* most fixed labels: **.www.example.com (3) beats *.example.com (2) */
    {"www.example.com", "**.www.example.com", "*.example.com", CERTPIN_OK},
    {"x.www.example.com", "**.www.example.com", "**.example.com", CERTPIN_OK},
    {"wwww.example.com", "*.example.com", "**.www.example.com", CERTPIN_OK},
    /* *.a.com: one more label, never a.com itself nor two more labels */
    {"x.a.com", "*.a.com", NULL, CERTPIN_OK},
    {"a.com", NULL, "*.a.com", CERTPIN_OK},
    {"x.y.a.com", NULL, "*.a.com", CERTPIN_OK},
    {"xa.com", NULL, "*.a.com", CERTPIN_OK},
    /* **.foo.com: label boundaries only */
    {"foo.com", "**.foo.com", NULL, CERTPIN_OK},
    {"bar.foo.com", "**.foo.com", NULL, CERTPIN_OK},
    {"evilfoo.com", NULL, "**.foo.com", CERTPIN_OK},
    {"bar.foo.com.evil.com", "**.evil.com", "**.foo.com", CERTPIN_OK},
    {"foo.com.evil.com", "**.evil.com", "**.foo.com", CERTPIN_OK},
    {"evil.com", "**.evil.com", NULL, CERTPIN_OK},
    {"notevil.com", NULL, "**.evil.com", CERTPIN_OK},
    /* the `*.`/`**.` tie over b.foo.com, and `**.` with more labels beating a shorter `**.` */
    {"c.b.foo.com", "*.b.foo.com", "**.b.foo.com", CERTPIN_OK},
    {"b.foo.com", "**.b.foo.com", "**.foo.com", CERTPIN_OK},
    {"d.c.b.foo.com", "**.b.foo.com", "**.foo.com", CERTPIN_OK},
    {"xb.foo.com", "**.foo.com", "**.b.foo.com", CERTPIN_OK},
    /* include_subdomains is `**.`: it loses the tie to `*.` too */
    {"x.inc.example.org", "*.inc.example.org", "**.inc.example.org", CERTPIN_OK},
    {"inc.example.org", "**.inc.example.org", "*.inc.example.org", CERTPIN_OK},
    {"y.x.inc.example.org", "**.inc.example.org", "*.inc.example.org", CERTPIN_OK},
    {"xinc.example.org", NULL, "**.inc.example.org", CERTPIN_OK},
    {"example.org", NULL, "**.inc.example.org", CERTPIN_OK},
    /* canonical forms at check time: case, trailing dot, IDN */
    {"EXAMPLE.net.", "example.net", NULL, CERTPIN_OK},
    {"www.example.net", NULL, "example.net", CERTPIN_OK},
    {"b\xc3\xbc"
     "cher.example",
     "xn--bcher-kva.example", NULL, CERTPIN_OK},
    {"XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example", NULL, CERTPIN_OK},
    {"bucher.example", NULL, "xn--bcher-kva.example", CERTPIN_OK},
    /* IP literals: one canonical form each, matched exactly and never by a wildcard */
    {"127.0.0.1", "127.0.0.1", NULL, CERTPIN_OK},
    {"::ffff:127.0.0.1", "127.0.0.1", NULL, CERTPIN_OK},
    {"[::ffff:127.0.0.1]", "127.0.0.1", NULL, CERTPIN_OK},
    {"127.0.0.2", NULL, "127.0.0.1", CERTPIN_OK},
    {"2001:db8::1", "2001:db8::1", NULL, CERTPIN_OK},
    {"[2001:DB8::0:1]", "2001:db8::1", NULL, CERTPIN_OK},
    {"2001:db8::2", NULL, "2001:db8::1", CERTPIN_OK},
    /* refused spellings: an error, never "unpinned" */
    {"127.1", NULL, "127.0.0.1", CERTPIN_E_HOST},
    {"0x7f.0.0.1", NULL, "127.0.0.1", CERTPIN_E_HOST},
    {"0177.0.0.1", NULL, "127.0.0.1", CERTPIN_E_HOST},
    {"2130706433", NULL, "127.0.0.1", CERTPIN_E_HOST},
    {"127.0.0.1.", NULL, "127.0.0.1", CERTPIN_E_HOST},
    {"fe80::1%eth0", NULL, NULL, CERTPIN_E_HOST},
    {"api.example.com:443", NULL, "api.example.com", CERTPIN_E_HOST},
    {"api..example.com", NULL, "api.example.com", CERTPIN_E_HOST},
    {"https://api.example.com", NULL, "api.example.com", CERTPIN_E_HOST},
    {"*.example.com", NULL, "*.example.com", CERTPIN_E_HOST},
};

static void run_lookup_table(const certpin_policy *p, certpin_unpinned unpinned)
{
    certpin_result *r = certpin_result_new();
    size_t i;

    assert_non_null(r);
    for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
        const lookup_case *c = &lookups[i];
        const certpin_entry *e;
        certpin_error err;
        certpin_status st;
        char key[16];

        memset(&err, 0, sizeof(err));
        e = certpin_policy_lookup(p, c->host, &err);
        if (c->error != CERTPIN_OK) {
            CHECK(c->host, e == NULL);
            CHECK(c->host, err.status == c->error);
            CHECK(c->host, err.text[0] != '\0');
            /* at check time: an error and a refusal, whatever "unpinned" says */
            st = check_with(p, c->host, "k0", r);
            CHECK(c->host, st != CERTPIN_OK);
            CHECK(c->host, certpin_result_verdict(r) == CERTPIN_REJECTED_ERROR);
            CHECK(c->host, !certpin_verdict_accepted(certpin_result_verdict(r)));
            CHECK(c->host, certpin_result_entry(r) == NULL);
            CHECK(c->host, certpin_result_reason(r)[0] != '\0');
            continue;
        }
        CHECK(c->host, err.status == CERTPIN_OK);
        if (c->want == NULL) {
            if (e != NULL) {
                print_error("case \"%s\": decided by %s, expected none\n", c->host,
                            certpin_entry_pattern(e));
                fail();
            }
            /* no entry: the policy's "unpinned" decides */
            st = check_with(p, c->host, c->rival != NULL ? "k-none" : "k0", r);
            CHECK(c->host, st == CERTPIN_OK);
            CHECK(c->host, certpin_result_entry(r) == NULL);
            CHECK(c->host, certpin_result_verdict(r) == (unpinned == CERTPIN_UNPINNED_ALLOW
                                                             ? CERTPIN_ACCEPTED_NOT_PINNED
                                                             : CERTPIN_REJECTED_UNPINNED_HOST));
            if (c->rival != NULL) {
                /* the key of the look-alike entry changes nothing */
                key_name(key, sizeof(key), "k", index_of(c->rival));
                st = check_with(p, c->host, key, r);
                CHECK(c->host, st == CERTPIN_OK);
                CHECK(c->host, certpin_result_entry(r) == NULL);
            }
            continue;
        }
        if (e == NULL || strcmp(certpin_entry_pattern(e), c->want) != 0) {
            print_error("case \"%s\": decided by %s, expected %s\n", c->host,
                        e != NULL ? certpin_entry_pattern(e) : "(none)", c->want);
            fail();
        }
        CHECK(c->host, certpin_entry_index(e) == index_of(c->want));

        /* the deciding entry's own key is accepted ... */
        key_name(key, sizeof(key), "k", index_of(c->want));
        st = check_with(p, c->host, key, r);
        CHECK(c->host, st == CERTPIN_OK);
        CHECK(c->host, certpin_result_verdict(r) == CERTPIN_ACCEPTED_PINNED);
        CHECK(c->host, certpin_result_entry(r) == e);
        CHECK(c->host, certpin_entry_matches(e, certpin_result_host(r)));
        /* ... and the rival's is not: the winning entry alone decides the pins */
        if (c->rival != NULL) {
            key_name(key, sizeof(key), "k", index_of(c->rival));
            st = check_with(p, c->host, key, r);
            CHECK(c->host, st == CERTPIN_OK);
            CHECK(c->host, certpin_result_verdict(r) == CERTPIN_REJECTED_NO_MATCH);
            CHECK(c->host, certpin_result_entry(r) == e);
        }
        /* a key no entry pins */
        st = check_with(p, c->host, "k-none", r);
        CHECK(c->host, st == CERTPIN_OK);
        CHECK(c->host, certpin_result_verdict(r) == CERTPIN_REJECTED_NO_MATCH);
    }
    certpin_result_free(r);
}

static void test_lookup_json(void **state)
{
    certpin_policy *p = load_json_policy();
    (void)state;
    assert_int_equal(certpin_policy_entry_count(p), N_PATTERNS);
    run_lookup_table(p, CERTPIN_UNPINNED_ALLOW);
    certpin_policy_free(p);
}

static void test_lookup_builder(void **state)
{
    certpin_policy *allow = build_policy(CERTPIN_UNPINNED_ALLOW);
    certpin_policy *deny = build_policy(CERTPIN_UNPINNED_DENY);
    certpin_policy *json = load_json_policy();
    (void)state;
    /* the same rules from JSON and from the builder are the same policy */
    assert_memory_equal(certpin_policy_id(allow), certpin_policy_id(json), 32);
    assert_memory_not_equal(certpin_policy_id(allow), certpin_policy_id(deny), 32);
    run_lookup_table(allow, CERTPIN_UNPINNED_ALLOW);
    run_lookup_table(deny, CERTPIN_UNPINNED_DENY);
    certpin_policy_free(allow);
    certpin_policy_free(deny);
    certpin_policy_free(json);
}

/* The same table against an index too large for the caches, where a lookup asks for every slot
 * it will probe before it compares any (visit_matches): the same precedence. */
static void test_lookup_large_index(void **state)
{
    certpin_policy *allow = build_policy_with(CERTPIN_UNPINNED_ALLOW, 40000);
    certpin_policy *deny = build_policy_with(CERTPIN_UNPINNED_DENY, 40000);
    (void)state;
    assert_true(cp_map_is_large(&allow->index));
    run_lookup_table(allow, CERTPIN_UNPINNED_ALLOW);
    run_lookup_table(deny, CERTPIN_UNPINNED_DENY);
    certpin_policy_free(allow);
    certpin_policy_free(deny);
}

/* ---- entry accessors ----------------------------------------------------------------------- */

static void test_fixed_labels(void **state)
{
    certpin_policy *p = load_json_policy();
    size_t i;
    (void)state;
    for (i = 0; i < N_PATTERNS; i++) {
        const certpin_entry *e = certpin_policy_entry(p, i);
        CHECK(patterns[i].host, e != NULL);
        CHECK(patterns[i].host, strcmp(certpin_entry_pattern(e), patterns[i].display) == 0);
        CHECK(patterns[i].host, certpin_entry_index(e) == i);
        CHECK(patterns[i].host, certpin_entry_match(e) == patterns[i].match);
        CHECK(patterns[i].host, certpin_entry_fixed_labels(e) == patterns[i].fixed_labels);
    }
    assert_null(certpin_policy_entry(p, N_PATTERNS));
    certpin_policy_free(p);
}

typedef struct matches_case {
    const char *pattern; /* display pattern of an entry of the test policy */
    const char *host;    /* canonical */
    int want;
} matches_case;

static const matches_case matches[] = {
    {"api.example.com", "api.example.com", 1},
    {"api.example.com", "x.api.example.com", 0},
    {"api.example.com", "pi.example.com", 0},
    {"api.example.com", "api.example.com.evil.com", 0},
    {"api.example.com", "API.EXAMPLE.COM", 0}, /* not canonical: the caller canonicalises */
    {"*.example.com", "x.example.com", 1},
    {"*.example.com", "example.com", 0},
    {"*.example.com", "a.b.example.com", 0},
    {"*.example.com", "xexample.com", 0},
    {"*.example.com", ".example.com", 0},
    {"**.example.com", "example.com", 1},
    {"**.example.com", "x.example.com", 1},
    {"**.example.com", "a.b.c.example.com", 1},
    {"**.example.com", "evilexample.com", 0},
    {"**.example.com", "example.com.evil.com", 0},
    {"**.example.com", "com", 0},
    {"**.example.com", "", 0},
    {"*.a.com", "x.a.com", 1},
    {"*.a.com", "a.com", 0},
    {"*.a.com", "x.y.a.com", 0},
    {"**.foo.com", "foo.com", 1},
    {"**.foo.com", "bar.foo.com", 1},
    {"**.foo.com", "evilfoo.com", 0},
    {"**.foo.com", "bar.foo.com.evil.com", 0},
    {"**.inc.example.org", "inc.example.org", 1},
    {"**.inc.example.org", "a.inc.example.org", 1},
    {"**.inc.example.org", "xinc.example.org", 0},
    {"127.0.0.1", "127.0.0.1", 1},
    {"127.0.0.1", "127.0.0.2", 0},
    {"127.0.0.1", "::ffff:127.0.0.1", 0}, /* canonical form is the caller's job */
    {"2001:db8::1", "2001:db8::1", 1},
    {"2001:db8::1", "2001:db8::2", 0},
};

static void test_entry_matches(void **state)
{
    certpin_policy *p = load_json_policy();
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
        const certpin_entry *e = certpin_policy_entry(p, index_of(matches[i].pattern));
        if ((certpin_entry_matches(e, matches[i].host) != 0) != matches[i].want) {
            print_error("case %s ~ \"%s\": expected %d\n", matches[i].pattern, matches[i].host,
                        matches[i].want);
            fail();
        }
    }
    assert_int_equal(certpin_entry_matches(NULL, "api.example.com"), 0);
    assert_int_equal(certpin_entry_matches(certpin_policy_entry(p, 0), NULL), 0);
    certpin_policy_free(p);
}

/* ---- no wildcard ever covers an IP address ------------------------------------------------- */

typedef struct refused_case {
    const char *host;
    int include_subdomains;
} refused_case;

/* Patterns the loader and the builder refuse: a wildcard or include_subdomains on an address,
 * and wildcards anywhere but as a whole leading label. */
static const refused_case refused[] = {
    {"*.0.0.1", 0},
    {"**.127.0.0.1", 0},
    {"127.0.0.1", 1},
    {"*.127.0.0.1", 0},
    {"**.[::1]", 0},
    {"*.::1", 0},
    {"2001:db8::1", 1},
    {"**.10.0.0.1", 0},
    {"a.*.example.com", 0},
    {"f*.example.com", 0},
    {"*.*.example.com", 0},
    {"*", 0},
    {"**", 0},
    {"*.", 0},
    {"*.example.com", 1},
};

static void test_refused_patterns(void **state)
{
    size_t i;
    char pk[CERTPIN_PIN_STR_MAX];
    char pb[CERTPIN_PIN_STR_MAX];
    const char *pins[2];
    (void)state;
    pin_of("k0", pk);
    pin_of("b0", pb);
    pins[0] = pk;
    pins[1] = pb;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        certpin_builder *b = certpin_builder_new();
        certpin_domain d;
        certpin_error err;
        certpin_policy *p;
        char json[512];
        int n;

        assert_non_null(b);
        memset(&d, 0, sizeof(d));
        memset(&err, 0, sizeof(err));
        d.host = refused[i].host;
        d.include_subdomains = refused[i].include_subdomains;
        d.pins = pins;
        d.pin_count = 2;
        CHECK(refused[i].host, certpin_builder_add(b, &d, &err) == CERTPIN_E_HOST);
        CHECK(refused[i].host, err.text[0] != '\0');
        /* nothing was added */
        p = certpin_builder_build(b, &err);
        CHECK(refused[i].host, p != NULL && certpin_policy_entry_count(p) == 0);
        certpin_policy_free(p);
        certpin_builder_free(b);

        n = snprintf(json, sizeof(json),
                     "{\"certpin\": 1, \"domains\": [{\"host\": \"%s\",%s \"pins\": [\"%s\", "
                     "\"%s\"]}]}",
                     refused[i].host,
                     refused[i].include_subdomains ? " \"include_subdomains\": true," : "", pk, pb);
        assert_true(n > 0 && (size_t)n < sizeof(json));
        memset(&err, 0, sizeof(err));
        p = certpin_policy_load_buffer(json, (size_t)n, "refused.json", NULL, &err);
        CHECK(refused[i].host, p == NULL);
        CHECK(refused[i].host, err.status != CERTPIN_OK);
        certpin_policy_free(p);
    }
}

/* White box: even if the index held a wildcard entry over a numeric base (which the loader
 * refuses, see above), an IP host never reaches the wildcard maps, and pattern matching refuses
 * it on its own. */
static void test_ip_never_wildcard_whitebox(void **state)
{
    static const struct {
        const char *host;
        cp_host_kind kind;
    } hosts[] = {
        {"127.0.0.1", CP_HOST_IPV4},
        {"10.0.0.1", CP_HOST_IPV4},
        {"::10.0.0.1", CP_HOST_IPV6},
    };
    certpin_policy p;
    certpin_entry entries[2];
    certpin_entry *one = &entries[0];
    certpin_entry *sub = &entries[1];
    static const char pool[] = "*.0.0.1\0**.0.0.1";
    size_t i;
    (void)state;

    memset(&p, 0, sizeof(p));
    memset(entries, 0, sizeof(entries));
    one->pattern = pool;
    one->base = pool + 2;
    one->match = CERTPIN_MATCH_ONE_LABEL;
    one->fixed_labels = 3;
    sub->pattern = pool + 8;
    sub->base = pool + 8 + 3;
    sub->match = CERTPIN_MATCH_SUBTREE;
    sub->fixed_labels = 3;
    sub->index = 1;
    p.entries = entries;
    p.entry_count = 2;
    assert_int_equal(cp_policy_index(&p, pool, NULL, NULL), CERTPIN_OK);
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        CHECK(hosts[i].host, cp_policy_lookup(&p, hosts[i].host, hosts[i].kind) == NULL);
        CHECK(hosts[i].host, !certpin_entry_matches(one, hosts[i].host));
        CHECK(hosts[i].host, !certpin_entry_matches(sub, hosts[i].host));
    }
    /* the twin: the same index does answer for a name (the maps are live) */
    CHECK("x.0.0.1 as a name", cp_policy_lookup(&p, "x.0.0.1", CP_HOST_NAME) == one);
    cp_map_clear(&p.index);
}

/* The key "b9" of the test policy has a pin whose base64 starts with '/', so its OkHttp form is
 * "sha256//...": the loader must read it as that pin, not as curl's prefix (a bug that once made
 * this whole policy fail to load). */
static void test_policy_pin_with_leading_slash(void **state)
{
    certpin_policy *p;
    char text[CERTPIN_PIN_STR_MAX];
    unsigned char spki[128];
    unsigned char pin[CERTPIN_PIN_LEN];
    (void)state;
    pin_of("b9", text);
    assert_int_equal(strncmp(text, "sha256//", 8), 0);
    assert_int_equal(strlen(text), 7 + 44);
    assert_int_equal(certpin_pin_from_spki(spki, spki_of("b9", spki, sizeof(spki)), pin),
                     CERTPIN_OK);
    p = load_json_policy();
    assert_int_equal(certpin_entry_pin_count(certpin_policy_entry(p, 9)), 2);
    assert_memory_equal(certpin_entry_pin(certpin_policy_entry(p, 9), 1), pin, CERTPIN_PIN_LEN);
    certpin_policy_free(p);
}

static void test_lookup_args(void **state)
{
    certpin_policy *p = load_json_policy();
    certpin_error err;
    (void)state;
    memset(&err, 0, sizeof(err));
    assert_null(certpin_policy_lookup(NULL, "api.example.com", &err));
    assert_int_equal(err.status, CERTPIN_E_ARG);
    memset(&err, 0, sizeof(err));
    assert_null(certpin_policy_lookup(p, NULL, &err));
    assert_int_equal(err.status, CERTPIN_E_ARG);
    memset(&err, 0, sizeof(err));
    assert_null(certpin_policy_lookup(p, "", &err));
    assert_int_equal(err.status, CERTPIN_E_HOST);
    /* err may be NULL */
    assert_null(certpin_policy_lookup(p, "127.1", NULL));
    assert_non_null(certpin_policy_lookup(p, "api.example.com", NULL));
    certpin_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_json),
        cmocka_unit_test(test_lookup_builder),
        cmocka_unit_test(test_lookup_large_index),
        cmocka_unit_test(test_fixed_labels),
        cmocka_unit_test(test_entry_matches),
        cmocka_unit_test(test_refused_patterns),
        cmocka_unit_test(test_ip_never_wildcard_whitebox),
        cmocka_unit_test(test_policy_pin_with_leading_slash),
        cmocka_unit_test(test_lookup_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
