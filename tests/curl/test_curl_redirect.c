/* Redirects (CURLOPT_FOLLOWLOCATION): the legit api.example.com answers GET /redirect with 302 to
 * https://www.example.com:PORT/landing, served by another server. The new connection is checked
 * against the new URL's host: the policy's entry for api.example.com would accept the rogue chain
 * (it pins both CAs), the one for www.example.com does not, so a check against the old host would
 * let the rogue server have the request. The control (plain libcurl) follows and sends its request
 * to the rogue server; the pinned handle refuses it before any request byte. Over HTTP/1.1 and
 * HTTP/2; and a redirect to http:// is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "curl_test.h"

static const policy_spec pinned = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "CA2_INT"}},
                {.host = "www.example.com", .pins = {"CA1_INT", "BACKUP"}}}};

typedef struct servers {
    http_server *api;
    http_server *www;
} servers;

static void servers_start(servers *s, identity www_id, int h2, const char *scheme)
{
    http_server_opts a = {.id = ID_LEGIT, .h2 = h2};
    http_server_opts w = {.id = www_id, .h2 = h2};
    char location[256];
    s->api = http_server_start(&a);
    s->www = http_server_start(&w);
    (void)snprintf(location, sizeof(location), "%s://www.example.com:%d/landing", scheme,
                   http_server_port(s->www));
    http_server_set_redirect(s->api, location);
}

static void servers_stop(servers *s)
{
    http_server_stop(s->api);
    http_server_stop(s->www);
}

static CURL *handle(servers *s, int h2)
{
    CURL *easy = test_easy("trust-both.pem", h2);
    test_map_host(easy, "api.example.com", http_server_port(s->api), 0);
    test_map_host(easy, "www.example.com", http_server_port(s->www), 0);
    assert_int_equal(curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L), CURLE_OK);
    return easy;
}

static const char *start_url(servers *s)
{
    return test_url("api.example.com", http_server_port(s->api), "/redirect");
}

static void redirect_to_other_host(void **state)
{
    identity id;
    int h2;
    (void)state;
    for (id = ID_LEGIT; id <= ID_ROGUE; id++) {
        for (h2 = 0; h2 <= 1; h2++) {
            servers s;
            CURL *easy;
            certpin_ctx *pin = test_ctx(&pinned);
            certpin_curl *pc;
            http_server_stats st;
            xfer x;

            /* Control: plain libcurl follows and sends its request to either server. */
            servers_start(&s, id, h2, "https");
            easy = handle(&s, h2);
            test_perform(easy, start_url(&s), &x);
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(x.status, 200);
            test_easy_free(easy);
            assert_int_equal(http_server_path_count(s.www, "/landing"), 1);
            servers_stop(&s);

            servers_start(&s, id, h2, "https");
            easy = handle(&s, h2);
            pc = test_attach(easy, pin);
            test_perform(easy, start_url(&s), &x);
            http_server_stats_get(s.www, &st);
            assert_int_equal(http_server_path_count(s.api, "/redirect"), 1);
            assert_string_equal(certpin_result_host(certpin_curl_result(pc)), "www.example.com");
            if (id == ID_LEGIT) {
                assert_int_equal(x.rc, CURLE_OK);
                assert_int_equal(x.status, 200);
                assert_int_equal(test_verdict(pc), CERTPIN_ACCEPTED_PINNED);
                assert_int_equal(st.requests, 1);
            } else {
                if (x.rc != CURLE_PEER_FAILED_VERIFICATION) {
                    test_show("rogue www", &x, pc);
                }
                assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
                assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_NO_MATCH);
                assert_int_equal(st.handshakes, 0);
                assert_int_equal(st.app_bytes, 0);
            }
            test_easy_free(easy);
            certpin_curl_free(pc);
            certpin_ctx_free(pin);
            servers_stop(&s);
        }
    }
}

/* A redirect to http:// would send the request in the clear: refused before it is sent. */
static void redirect_to_http(void **state)
{
    servers s;
    CURL *easy;
    certpin_ctx *pin = test_ctx(&pinned);
    certpin_curl *pc;
    http_server_stats st;
    xfer x;
    (void)state;
    servers_start(&s, ID_LEGIT, 0, "http");
    easy = handle(&s, 0);
    pc = test_attach(easy, pin);
    test_perform(easy, start_url(&s), &x);
    http_server_stats_get(s.www, &st);
    assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
    assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_ERROR);
    assert_non_null(strstr(test_reason(pc), "http URL"));
    assert_int_equal(st.app_bytes, 0);
    test_easy_free(easy);
    certpin_curl_free(pc);
    certpin_ctx_free(pin);
    servers_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redirect_to_other_host),
        cmocka_unit_test(redirect_to_http),
    };
    return cmocka_run_group_tests(tests, test_group_setup, test_group_teardown);
}
