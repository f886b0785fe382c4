/* Connection reuse skips the handshake, and with it certpin's check: a pinned handle must never
 * send a request over a connection certpin did not verify under the policy now in force for the
 * URL's host. Each case runs over HTTP/1.1 and HTTP/2, first with a control that shows curl does
 * reuse the connection (CURLINFO_NUM_CONNECTS 0, the server sees the request on the same
 * connection), then with certpin: the request never reaches the server, and a retry makes a new
 * connection that certpin checks (a refusal does not brick the handle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "curl_test.h"

#define API "api.example.com"

static const policy_spec pin_ca1 = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}}}};
/* Accepts the rogue chain: a policy the application trusted before it learnt better. */
static const policy_spec pin_ca2 = {
    .entries = {{.host = "api.example.com", .pins = {"CA2_INT", "BACKUP"}}}};
/* Accepts the legit chain by its root: a different policy that the legit chain also passes. */
static const policy_spec pin_ca1_root = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_ROOT", "BACKUP"}}}};

static const char *proto(int h2) { return h2 ? "h2" : "http/1.1"; }

static CURL *handle(http_server *s, int h2, CURLSH *share)
{
    CURL *easy = test_easy("trust-both.pem", h2);
    test_map_host(easy, API, http_server_port(s), 0);
    if (share != NULL) {
        assert_int_equal(curl_easy_setopt(easy, CURLOPT_SHARE, share), CURLE_OK);
    }
    return easy;
}

static const char *url(http_server *s, const char *path)
{
    return test_url(API, http_server_port(s), path);
}

static CURLSH *connection_share(void)
{
    CURLSH *share = curl_share_init();
    assert_non_null(share);
    assert_int_equal(curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT), CURLSHE_OK);
    return share;
}

/* A handle that shares curl's connection cache with an unpinned handle: the unpinned handle's
 * connection to the rogue server is there to be reused. */
static void shared_connection_cache(void **state)
{
    int h2;
    (void)state;
    for (h2 = 0; h2 <= 1; h2++) {
        http_server_opts o = {.id = ID_ROGUE, .h2 = h2};
        http_server *s = http_server_start(&o);
        CURLSH *share = connection_share();
        CURL *plain = handle(s, h2, share);
        CURL *control = handle(s, h2, share);
        CURL *pinned = handle(s, h2, share);
        certpin_ctx *pin = test_ctx(&pin_ca1);
        certpin_curl *pc = test_attach(pinned, pin);
        http_server_stats before;
        http_server_stats st;
        xfer x;

        test_perform(plain, url(s, "/plain"), &x);
        assert_int_equal(x.rc, CURLE_OK);

        /* Control: another unpinned handle reuses the connection and its request arrives. */
        test_perform(control, url(s, "/control"), &x);
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(x.new_connects, 0);
        http_server_stats_get(s, &before);
        assert_int_equal(before.connections, 1);
        assert_int_equal(http_server_path_count(s, "/control"), 1);

        /* The pinned handle: curl offers it the same connection; certpin refuses it. */
        test_perform(pinned, url(s, "/pinned"), &x);
        http_server_stats_get(s, &st);
        if (x.rc != CURLE_ABORTED_BY_CALLBACK) {
            test_show(proto(h2), &x, pc);
        }
        assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
        assert_int_equal(x.new_connects, 0);
        assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_ERROR);
        assert_non_null(strstr(test_reason(pc), "did not verify"));
        assert_int_equal(st.connections, 1);
        assert_int_equal(st.app_bytes, before.app_bytes);
        assert_int_equal(http_server_path_count(s, "/pinned"), 0);

        /* Again: a new connection, which certpin checks and refuses; still nothing sent. */
        test_perform(pinned, url(s, "/pinned"), &x);
        http_server_stats_get(s, &st);
        assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
        assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_NO_MATCH);
        assert_int_equal(st.app_bytes, before.app_bytes);
        assert_int_equal(http_server_path_count(s, "/pinned"), 0);

        test_easy_free(plain);
        test_easy_free(control);
        test_easy_free(pinned);
        certpin_curl_free(pc);
        certpin_ctx_free(pin);
        curl_share_cleanup(share);
        http_server_stop(s);
    }
}

/* The positive twins: with the legit server, a pinned handle refuses the unpinned handle's
 * connection once, then connects itself and succeeds; a pinned handle reuses the connection of
 * another pinned handle whose policy has the same identity (the same rules, another context). */
static void shared_connection_cache_legit(void **state)
{
    int h2;
    (void)state;
    for (h2 = 0; h2 <= 1; h2++) {
        http_server_opts o = {.id = ID_LEGIT, .h2 = h2};
        http_server *s = http_server_start(&o);
        CURLSH *share = connection_share();
        CURL *plain = handle(s, h2, share);
        CURL *pinned = handle(s, h2, share);
        CURL *twin = handle(s, h2, share);
        CURL *other = handle(s, h2, share);
        certpin_ctx *pin = test_ctx(&pin_ca1);
        certpin_ctx *same_rules = test_ctx(&pin_ca1);
        certpin_ctx *other_rules = test_ctx(&pin_ca1_root);
        certpin_curl *pc = test_attach(pinned, pin);
        certpin_curl *twin_pc = test_attach(twin, same_rules);
        certpin_curl *other_pc = test_attach(other, other_rules);
        xfer x;

        test_perform(plain, url(s, "/plain"), &x);
        assert_int_equal(x.rc, CURLE_OK);
        test_perform(pinned, url(s, "/pinned"), &x);
        assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
        test_perform(pinned, url(s, "/pinned"), &x);
        if (x.rc != CURLE_OK) {
            test_show(proto(h2), &x, pc);
        }
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(x.new_connects, 1);
        assert_int_equal(test_verdict(pc), CERTPIN_ACCEPTED_PINNED);
        assert_int_equal(http_server_path_count(s, "/pinned"), 1);

        /* The pinned connection is now in the shared cache (for HTTP/1.1 the unpinned one was
         * closed; for HTTP/2 the freshest is offered first). */
        test_perform(twin, url(s, "/twin"), &x);
        if (x.rc != CURLE_OK) {
            test_show("twin", &x, twin_pc);
        }
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(x.new_connects, 0);
        assert_int_equal(test_verdict(twin_pc), CERTPIN_ACCEPTED_PINNED);

        /* Another policy identity does not reuse it. */
        test_perform(other, url(s, "/other"), &x);
        assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
        assert_int_equal(test_verdict(other_pc), CERTPIN_REJECTED_ERROR);
        assert_non_null(strstr(test_reason(other_pc), "another policy"));
        assert_int_equal(http_server_path_count(s, "/other"), 0);

        test_easy_free(plain);
        test_easy_free(pinned);
        test_easy_free(twin);
        test_easy_free(other);
        certpin_curl_free(pc);
        certpin_curl_free(twin_pc);
        certpin_curl_free(other_pc);
        certpin_ctx_free(pin);
        certpin_ctx_free(same_rules);
        certpin_ctx_free(other_rules);
        curl_share_cleanup(share);
        http_server_stop(s);
    }
}

/* A handle used without certpin, then attached: its own cached connection is not certpin's. */
static void attached_after_use(void **state)
{
    int h2;
    (void)state;
    for (h2 = 0; h2 <= 1; h2++) {
        http_server_opts o = {.id = ID_ROGUE, .h2 = h2};
        http_server *s = http_server_start(&o);
        CURL *easy = handle(s, h2, NULL);
        certpin_ctx *pin = test_ctx(&pin_ca1);
        certpin_curl *pc;
        http_server_stats before;
        http_server_stats st;
        xfer x;

        test_perform(easy, url(s, "/before"), &x);
        assert_int_equal(x.rc, CURLE_OK);
        /* Control: the next transfer reuses the connection. */
        test_perform(easy, url(s, "/control"), &x);
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(x.new_connects, 0);
        http_server_stats_get(s, &before);

        pc = test_attach(easy, pin);
        test_perform(easy, url(s, "/after"), &x);
        http_server_stats_get(s, &st);
        assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
        assert_int_equal(x.new_connects, 0);
        assert_int_equal(st.app_bytes, before.app_bytes);
        assert_int_equal(http_server_path_count(s, "/after"), 0);

        test_easy_free(easy);
        certpin_curl_free(pc);
        certpin_ctx_free(pin);
        http_server_stop(s);
    }
}

/* The policy changes while the handle keeps a connection verified under the old one. */
typedef struct change_case {
    const char *name;
    identity id;
    const policy_spec *before;
    const policy_spec *after;
    int retry_accepted; /* after the refusal, a new connection passes the new policy */
} change_case;

static const change_case change_cases[] = {
    /* The application learnt that CA 2 is compromised: the rogue connection it had accepted under
     * the old policy must carry nothing more. */
    {"rogue-revoked", ID_ROGUE, &pin_ca2, &pin_ca1, 0},
    /* A policy the legit chain passes too: one refusal, then a new connection. */
    {"legit-repinned", ID_LEGIT, &pin_ca1, &pin_ca1_root, 1},
};

static void policy_change(void **state)
{
    size_t i;
    int h2;
    (void)state;
    for (i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
        for (h2 = 0; h2 <= 1; h2++) {
            const change_case *c = &change_cases[i];
            http_server_opts o = {.id = c->id, .h2 = h2};
            http_server *s = http_server_start(&o);
            CURL *easy = handle(s, h2, NULL);
            certpin_ctx *pin = test_ctx(c->before);
            certpin_curl *pc = test_attach(easy, pin);
            certpin_policy *after = policy_build(c->after);
            http_server_stats before;
            http_server_stats st;
            xfer x;

            test_perform(easy, url(s, "/first"), &x);
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(test_verdict(pc), CERTPIN_ACCEPTED_PINNED);
            /* Control: under the same policy, the next transfer reuses the connection. */
            test_perform(easy, url(s, "/control"), &x);
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(x.new_connects, 0);
            http_server_stats_get(s, &before);
            assert_int_equal(before.connections, 1);

            assert_int_equal(certpin_ctx_set_policy(pin, after), CERTPIN_OK);
            test_perform(easy, url(s, "/after"), &x);
            http_server_stats_get(s, &st);
            if (x.rc != CURLE_ABORTED_BY_CALLBACK) {
                test_show(c->name, &x, pc);
            }
            assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
            assert_int_equal(x.new_connects, 0);
            assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_ERROR);
            assert_non_null(strstr(test_reason(pc), "another policy"));
            assert_int_equal(st.app_bytes, before.app_bytes);
            assert_int_equal(http_server_path_count(s, "/after"), 0);

            /* The retry connects afresh, and the new policy decides. */
            test_perform(easy, url(s, "/retry"), &x);
            assert_int_equal(x.new_connects, 1);
            if (c->retry_accepted) {
                assert_int_equal(x.rc, CURLE_OK);
                assert_int_equal(test_verdict(pc), CERTPIN_ACCEPTED_PINNED);
                assert_string_equal(
                    certpin_policy_id_hex(certpin_result_policy(certpin_curl_result(pc))),
                    certpin_policy_id_hex(after));
                assert_int_equal(http_server_path_count(s, "/retry"), 1);
                /* ...and the handle reuses connections again. */
                test_perform(easy, url(s, "/again"), &x);
                if (x.rc != CURLE_OK) {
                    test_show("again", &x, pc);
                }
                assert_int_equal(x.rc, CURLE_OK);
                assert_int_equal(x.new_connects, 0);
            } else {
                assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
                assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_NO_MATCH);
                assert_int_equal(http_server_path_count(s, "/retry"), 0);
                http_server_stats_get(s, &st);
                assert_int_equal(st.app_bytes, before.app_bytes);
            }

            certpin_policy_free(after);
            test_easy_free(easy);
            certpin_curl_free(pc);
            certpin_ctx_free(pin);
            http_server_stop(s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_connection_cache),
        cmocka_unit_test(shared_connection_cache_legit),
        cmocka_unit_test(attached_after_use),
        cmocka_unit_test(policy_change),
    };
    return cmocka_run_group_tests(tests, test_group_setup, test_group_teardown);
}
