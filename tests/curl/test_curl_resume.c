/* TLS session resumption skips certificate verification. curl keeps its own session cache, here
 * shared between handles (CURLSH, CURL_LOCK_DATA_SSL_SESSION), and offers whatever it holds for the
 * host and port. The server shares one session cache and one set of ticket keys between its
 * identities, so a session from the rogue server resumes: the controls show it (an unpinned handle
 * resumes and its request arrives). A pinned handle drops a session certpin did not verify under
 * its policy for the host, makes a full handshake, and the rogue chain is refused before any
 * request byte; the handle is not bricked by the session curl keeps offering (a legit server is
 * then accepted, and the session curl stores in its place resumes). Over TLS 1.2 (session IDs:
 * curl turns tickets off) and TLS 1.3 (tickets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "curl_test.h"

#define API "api.example.com"

static const policy_spec pin_ca1 = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}}}};
static const policy_spec pin_ca1_root = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_ROOT", "BACKUP"}}}};

static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};

static CURL *handle(http_server *s, CURLSH *share)
{
    CURL *easy = test_easy("trust-both.pem", 0);
    test_map_host(easy, API, http_server_port(s), 0);
    assert_int_equal(curl_easy_setopt(easy, CURLOPT_SHARE, share), CURLE_OK);
    return easy;
}

static const char *url(http_server *s, const char *path)
{
    return test_url(API, http_server_port(s), path);
}

static CURLSH *session_share(void)
{
    CURLSH *share = curl_share_init();
    assert_non_null(share);
    assert_int_equal(curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION),
                     CURLSHE_OK);
    return share;
}

/* One transfer on a new handle (so that no connection is reused: each easy handle has its own
 * connection cache), pinned with pin when not NULL. */
static void one(http_server *s, CURLSH *share, certpin_ctx *pin, const char *path, xfer *x,
                certpin_verdict *verdict, unsigned *warnings)
{
    CURL *easy = handle(s, share);
    certpin_curl *pc = pin != NULL ? test_attach(easy, pin) : NULL;
    test_perform(easy, url(s, path), x);
    if (pc != NULL) {
        *verdict = test_verdict(pc);
        *warnings = certpin_result_warnings(certpin_curl_result(pc));
        if (getenv("CERTPIN_TEST_VERBOSE") != NULL) {
            test_show(path, x, pc);
        }
    }
    test_easy_free(easy);
    certpin_curl_free(pc);
}

static void shared_session_cache(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        http_server_opts o = {.id = ID_ROGUE, .max_version = versions[i]};
        http_server *s = http_server_start(&o);
        CURLSH *share = session_share();
        certpin_ctx *pin = test_ctx(&pin_ca1);
        certpin_verdict verdict = CERTPIN_NOT_CHECKED;
        unsigned warnings = 0;
        http_server_stats before;
        http_server_stats st;
        xfer x;

        /* An unpinned handle's full handshake with the rogue server leaves a session in the
         * shared cache. */
        one(s, share, NULL, "/plain", &x, &verdict, &warnings);
        assert_int_equal(x.rc, CURLE_OK);
        http_server_stats_get(s, &st);
        assert_int_equal(st.resumed, 0);

        /* Control: another unpinned handle resumes it, and its request arrives. */
        one(s, share, NULL, "/control", &x, &verdict, &warnings);
        assert_int_equal(x.rc, CURLE_OK);
        http_server_stats_get(s, &before);
        assert_int_equal(before.resumed, 1);
        assert_int_equal(http_server_path_count(s, "/control"), 1);

        /* A pinned handle: the session is dropped, the full handshake shows the rogue chain. */
        one(s, share, pin, "/pinned", &x, &verdict, &warnings);
        http_server_stats_get(s, &st);
        assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
        assert_int_equal(verdict, CERTPIN_REJECTED_NO_MATCH);
        assert_int_equal(st.resumed, before.resumed);
        assert_int_equal(st.handshakes, before.handshakes);
        assert_int_equal(st.app_bytes, before.app_bytes);
        assert_int_equal(http_server_path_count(s, "/pinned"), 0);

        /* Not bricked: curl still offers the rogue session, certpin drops it again, and the legit
         * server is accepted on a full handshake... */
        http_server_set_identity(s, ID_LEGIT);
        one(s, share, pin, "/legit", &x, &verdict, &warnings);
        http_server_stats_get(s, &st);
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(verdict, CERTPIN_ACCEPTED_PINNED);
        assert_int_equal(warnings & CERTPIN_WARN_RESUMED, 0);
        assert_int_equal(st.resumed, before.resumed);

        /* ...whose session replaced the rogue one in curl's cache, and resumes. */
        one(s, share, pin, "/resumed", &x, &verdict, &warnings);
        http_server_stats_get(s, &st);
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(verdict, CERTPIN_ACCEPTED_PINNED);
        assert_int_equal(warnings & CERTPIN_WARN_RESUMED, CERTPIN_WARN_RESUMED);
        assert_int_equal(st.resumed, before.resumed + 1);

        curl_share_cleanup(share);
        certpin_ctx_free(pin);
        http_server_stop(s);
    }
}

/* A session certpin verified under the old policy is not resumed under the new one. */
static void policy_change_drops_session(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        http_server_opts o = {.id = ID_LEGIT, .max_version = versions[i]};
        http_server *s = http_server_start(&o);
        CURLSH *share = session_share();
        certpin_ctx *pin = test_ctx(&pin_ca1);
        certpin_policy *after = policy_build(&pin_ca1_root);
        certpin_verdict verdict = CERTPIN_NOT_CHECKED;
        unsigned warnings = 0;
        http_server_stats st;
        xfer x;

        one(s, share, pin, "/first", &x, &verdict, &warnings);
        assert_int_equal(x.rc, CURLE_OK);
        /* Control: the same policy resumes. */
        one(s, share, pin, "/control", &x, &verdict, &warnings);
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(warnings & CERTPIN_WARN_RESUMED, CERTPIN_WARN_RESUMED);
        http_server_stats_get(s, &st);
        assert_int_equal(st.resumed, 1);

        assert_int_equal(certpin_ctx_set_policy(pin, after), CERTPIN_OK);
        one(s, share, pin, "/after", &x, &verdict, &warnings);
        http_server_stats_get(s, &st);
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(verdict, CERTPIN_ACCEPTED_PINNED);
        assert_int_equal(warnings & CERTPIN_WARN_RESUMED, 0);
        assert_int_equal(st.resumed, 1);

        certpin_policy_free(after);
        curl_share_cleanup(share);
        certpin_ctx_free(pin);
        http_server_stop(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_session_cache),
        cmocka_unit_test(policy_change_drops_session),
    };
    return cmocka_run_group_tests(tests, test_group_setup, test_group_teardown);
}
