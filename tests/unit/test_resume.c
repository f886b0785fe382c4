/* Tests of the resumption decision (src/core/resume.c): which tagged sessions may be resumed, with
 * each refusal's exact words (the adapters hand them to the application), the order the checks
 * run in, and tags made from real check results.
 *
 * Policy A and policy B pin the same host with different keys: a tag made under one is worthless
 * under the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certpin/certpin.h"
#include "private/resume.h"
#include "synthetic.h"

#define NOT_VERIFIED "session was not verified by certpin under this policy for this host ("
#define NOT_RESUMED "): not resumed; drop it and connect again for a full handshake"

static const char a_json[] =
    "{\"certpin\": 1, \"domains\": [\n"
    " {\"host\": \"api.example.com\", \"pins\": [\"@xleaf\", \"@xbackup\"]}]}\n";
static const char b_json[] =
    "{\"certpin\": 1, \"domains\": [\n"
    " {\"host\": \"api.example.com\", \"pins\": [\"@yleaf\", \"@ybackup\"]}]}\n";

typedef enum which { NONE = 0, POLICY_A, POLICY_B } which;

typedef struct resume_case {
    const char *name;
    const char *host; /* the host asked for; NULL: none */
    which policy;     /* in force */
    which tagged;     /* the policy the tag was made under; NONE: no tag */
    const char *tag_host;
    certpin_verdict verdict;
    const char *untagged;
    int allowed;
    const char *why;       /* the refusal, word for word ("" when allowed) */
    const char *canonical; /* when allowed */
} resume_case;

static const char no_host[] = "no host to check: call set_host(name) first";
static const char host_what[] = "the host name set to verify";

static const resume_case cases[] = {
    /* what is resumed: the same policy, the same host, an accepting verdict */
    {"pinned", "api.example.com", POLICY_A, POLICY_A, "api.example.com", CERTPIN_ACCEPTED_PINNED,
     NULL, 1, "", "api.example.com"},
    {"not pinned", "api.example.com", POLICY_A, POLICY_A, "api.example.com",
     CERTPIN_ACCEPTED_NOT_PINNED, NULL, 1, "", "api.example.com"},
    {"expired", "api.example.com", POLICY_A, POLICY_A, "api.example.com", CERTPIN_ACCEPTED_EXPIRED,
     NULL, 1, "", "api.example.com"},
    {"report-only", "api.example.com", POLICY_A, POLICY_A, "api.example.com",
     CERTPIN_ACCEPTED_REPORT_ONLY, NULL, 1, "", "api.example.com"},
    {"the host asked for is canonicalised", "API.Example.COM.", POLICY_B, POLICY_B,
     "api.example.com", CERTPIN_ACCEPTED_PINNED, NULL, 1, "", "api.example.com"},

    /* what is not: each twin differs from "pinned" in one thing */
    {"no host", NULL, POLICY_A, POLICY_A, "api.example.com", CERTPIN_ACCEPTED_PINNED, NULL, 0,
     no_host, NULL},
    {"host with a port", "api.example.com:443", POLICY_A, POLICY_A, "api.example.com",
     CERTPIN_ACCEPTED_PINNED, NULL, 0,
     "the host name set to verify is not a valid host name: session not resumed", NULL},
    {"empty host", "", POLICY_A, POLICY_A, "api.example.com", CERTPIN_ACCEPTED_PINNED, NULL, 0,
     "the host name set to verify is not a valid host name: session not resumed", NULL},
    {"no policy", "api.example.com", NONE, POLICY_A, "api.example.com", CERTPIN_ACCEPTED_PINNED,
     NULL, 0, "no policy: certpin refuses to resume a session", NULL},
    {"no tag", "api.example.com", POLICY_A, NONE, NULL, CERTPIN_NOT_CHECKED, NULL, 0,
     NOT_VERIFIED "it carries no certpin tag" NOT_RESUMED, NULL},
    {"no tag, the stack's words", "api.example.com", POLICY_A, NONE, NULL, CERTPIN_NOT_CHECKED,
     "it comes from elsewhere", 0, NOT_VERIFIED "it comes from elsewhere" NOT_RESUMED, NULL},
    {"another policy", "api.example.com", POLICY_B, POLICY_A, "api.example.com",
     CERTPIN_ACCEPTED_PINNED, NULL, 0,
     NOT_VERIFIED "it was verified under another policy" NOT_RESUMED, NULL},
    {"another host", "api.example.com", POLICY_A, POLICY_A, "www.example.com",
     CERTPIN_ACCEPTED_PINNED, NULL, 0,
     NOT_VERIFIED "it was verified for www.example.com" NOT_RESUMED, NULL},
    {"a parent of the host", "api.example.com", POLICY_A, POLICY_A, "example.com",
     CERTPIN_ACCEPTED_PINNED, NULL, 0, NOT_VERIFIED "it was verified for example.com" NOT_RESUMED,
     NULL},
    {"rejected", "api.example.com", POLICY_A, POLICY_A, "api.example.com",
     CERTPIN_REJECTED_NO_MATCH, NULL, 0,
     NOT_VERIFIED "its verdict was rejected-no-match" NOT_RESUMED, NULL},
    {"rejected, error", "api.example.com", POLICY_A, POLICY_A, "api.example.com",
     CERTPIN_REJECTED_ERROR, NULL, 0, NOT_VERIFIED "its verdict was rejected-error" NOT_RESUMED,
     NULL},
    {"never checked", "api.example.com", POLICY_A, POLICY_A, "api.example.com", CERTPIN_NOT_CHECKED,
     NULL, 0, NOT_VERIFIED "its verdict was not-checked" NOT_RESUMED, NULL},

    /* the order: the first failing check speaks */
    {"no host before no policy", NULL, NONE, NONE, NULL, CERTPIN_NOT_CHECKED, NULL, 0, no_host,
     NULL},
    {"invalid host before no policy", "a b", NONE, NONE, NULL, CERTPIN_NOT_CHECKED, NULL, 0,
     "the host name set to verify is not a valid host name: session not resumed", NULL},
    {"no policy before no tag", "api.example.com", NONE, NONE, NULL, CERTPIN_NOT_CHECKED, NULL, 0,
     "no policy: certpin refuses to resume a session", NULL},
    {"policy before host", "api.example.com", POLICY_B, POLICY_A, "www.example.com",
     CERTPIN_ACCEPTED_PINNED, NULL, 0,
     NOT_VERIFIED "it was verified under another policy" NOT_RESUMED, NULL},
    {"host before verdict", "api.example.com", POLICY_A, POLICY_A, "www.example.com",
     CERTPIN_REJECTED_NO_MATCH, NULL, 0,
     NOT_VERIFIED "it was verified for www.example.com" NOT_RESUMED, NULL},
};

static void test_resume_table(void **state)
{
    certpin_policy *a = load_expanded("a.json", a_json);
    certpin_policy *b = load_expanded("b.json", b_json);
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const resume_case *c = &cases[i];
        const certpin_policy *in_force = c->policy == POLICY_A   ? a
                                         : c->policy == POLICY_B ? b
                                                                 : NULL;
        cp_resume_host host = {c->host, no_host, host_what};
        cp_session_tag tag;
        char canonical[CERTPIN_HOST_MAX];
        char why[512];
        int allowed;

        memset(&tag, 0, sizeof(tag));
        if (c->tagged != NONE) {
            memcpy(tag.policy_id, certpin_policy_id(c->tagged == POLICY_A ? a : b),
                   sizeof(tag.policy_id));
            (void)snprintf(tag.host, sizeof(tag.host), "%s", c->tag_host);
            tag.verdict = c->verdict;
        }
        memset(canonical, 'x', sizeof(canonical));
        memset(why, 'x', sizeof(why));
        allowed = cp_resume_allowed(in_force, &host, c->tagged != NONE ? &tag : NULL, c->untagged,
                                    canonical, why, sizeof(why));
        if (strcmp(why, c->why) != 0) {
            print_error("case \"%s\": why is \"%s\"\n", c->name, why);
        }
        CHECK(c->name, allowed == c->allowed);
        CHECK(c->name, strcmp(why, c->why) == 0);
        CHECK(c->name, strcmp(canonical, c->allowed ? c->canonical : "") == 0);
        /* canonical is optional */
        CHECK(c->name, cp_resume_allowed(in_force, &host, c->tagged != NONE ? &tag : NULL,
                                         c->untagged, NULL, why, sizeof(why)) == c->allowed);
    }
    certpin_policy_free(a);
    certpin_policy_free(b);
}

/* A refusal longer than the caller's buffer is cut, and still a refusal. */
static void test_resume_short_buffer(void **state)
{
    certpin_policy *a = load_expanded("a.json", a_json);
    certpin_policy *b = load_expanded("b.json", b_json);
    cp_resume_host host = {"api.example.com", no_host, host_what};
    cp_session_tag tag;
    char why[16];
    (void)state;

    memset(&tag, 0, sizeof(tag));
    memcpy(tag.policy_id, certpin_policy_id(a), sizeof(tag.policy_id));
    (void)snprintf(tag.host, sizeof(tag.host), "api.example.com");
    tag.verdict = CERTPIN_ACCEPTED_PINNED;
    assert_int_equal(cp_resume_allowed(b, &host, &tag, NULL, NULL, why, sizeof(why)), 0);
    assert_string_equal(why, "session was not");
    assert_int_equal(cp_resume_allowed(a, &host, &tag, NULL, NULL, why, sizeof(why)), 1);
    assert_string_equal(why, "");
    certpin_policy_free(a);
    certpin_policy_free(b);
}

/* Tags made from check results, as the adapters make them after a full handshake. */
static void test_resume_tag_from_result(void **state)
{
    certpin_policy *a = load_expanded("a.json", a_json);
    certpin_policy *b = load_expanded("b.json", b_json);
    certpin_ctx *ctx = certpin_ctx_new(a);
    certpin_result *r = certpin_result_new();
    cp_resume_host host = {"Api.Example.com", no_host, host_what};
    cp_session_tag tag;
    test_chain ch;
    certpin_conn conn;
    char canonical[CERTPIN_HOST_MAX];
    char why[512];
    (void)state;

    assert_non_null(ctx);
    assert_non_null(r);
    make_chain(&ch, "xleaf int root");
    memset(&conn, 0, sizeof(conn));
    conn.host = "API.example.com";
    conn.port = 443;
    conn.verified_chain = ch.certs;
    conn.verified_len = ch.len;

    /* accepted under A: resumed under A for that host, not under B nor for another host */
    assert_int_equal(certpin_ctx_check(ctx, &conn, r), CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    cp_session_tag_set(&tag, r);
    assert_memory_equal(tag.policy_id, certpin_policy_id(a), sizeof(tag.policy_id));
    assert_string_equal(tag.host, "api.example.com");
    assert_int_equal(tag.verdict, CERTPIN_ACCEPTED_PINNED);
    assert_int_equal(cp_resume_allowed(a, &host, &tag, NULL, canonical, why, sizeof(why)), 1);
    assert_string_equal(canonical, "api.example.com");
    assert_int_equal(cp_resume_allowed(b, &host, &tag, NULL, canonical, why, sizeof(why)), 0);
    assert_string_equal(why, NOT_VERIFIED "it was verified under another policy" NOT_RESUMED);
    host.name = "www.example.com";
    assert_int_equal(cp_resume_allowed(a, &host, &tag, NULL, canonical, why, sizeof(why)), 0);
    assert_string_equal(why, NOT_VERIFIED "it was verified for api.example.com" NOT_RESUMED);

    /* rejected under B (it pins other keys): the tag carries the rejection */
    host.name = "api.example.com";
    assert_int_equal(certpin_ctx_set_policy(ctx, b), CERTPIN_OK);
    assert_int_equal(certpin_ctx_check(ctx, &conn, r), CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_NO_MATCH);
    cp_session_tag_set(&tag, r);
    assert_memory_equal(tag.policy_id, certpin_policy_id(b), sizeof(tag.policy_id));
    assert_int_equal(cp_resume_allowed(b, &host, &tag, NULL, canonical, why, sizeof(why)), 0);
    assert_string_equal(why, NOT_VERIFIED "its verdict was rejected-no-match" NOT_RESUMED);

    certpin_result_free(r);
    certpin_ctx_free(ctx);
    certpin_policy_free(a);
    certpin_policy_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_table),
        cmocka_unit_test(test_resume_short_buffer),
        cmocka_unit_test(test_resume_tag_from_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
