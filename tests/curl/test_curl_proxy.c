/* An HTTPS proxy (CURLOPT_PROXY https://...): curl makes a TLS connection to the proxy, sends
 * CONNECT, then makes the origin's TLS connection inside the tunnel. The proxy's certificate comes
 * from the second CA (trusted for the proxy with CURLOPT_PROXY_CAINFO), and it is valid for
 * api.example.com too: judged by the origin's entry it would fail. certpin leaves the proxy's
 * connection to curl and checks the origin's, inside the tunnel, by the origin's entry: the legit
 * origin is accepted, and the rogue origin is refused before any request byte reaches it (the
 * control, plain libcurl through the same proxy, sends its request to the rogue origin). The proxy
 * is given by IP address (no SNI) and by name (SNI that is not the URL's host), over HTTP/1.1 and
 * HTTP/2 to the origin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "curl_test.h"

#define API "api.example.com"

/* Entries for the proxy's names too, which its certificate (second CA) would fail: they do not
 * apply, the proxy's connection is curl's business. */
static const policy_spec pinned = {
    .unpinned = CERTPIN_UNPINNED_DENY,
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                {.host = "127.0.0.1", .pins = {"CA1_INT", "BACKUP"}},
                {.host = "localhost", .pins = {"CA1_INT", "BACKUP"}}}};

static const char *const proxy_hosts[] = {"127.0.0.1", "localhost"};

static CURL *through_proxy(https_proxy *p, const char *proxy_host, int h2)
{
    CURL *easy = test_easy("trust-both.pem", h2);
    char proxy[128];
    (void)snprintf(proxy, sizeof(proxy), "https://%s:%d", proxy_host, https_proxy_port(p));
    test_map_host(easy, "localhost", https_proxy_port(p), 0);
    assert_int_equal(curl_easy_setopt(easy, CURLOPT_PROXY, proxy), CURLE_OK);
    assert_int_equal(curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, pki_path("trust-both.pem")),
                     CURLE_OK);
    return easy;
}

static void proxy_case(identity origin_id, int h2, const char *proxy_host)
{
    http_server_opts o = {.id = origin_id, .h2 = h2};
    http_server *origin = http_server_start(&o);
    https_proxy *p = https_proxy_start(AF_INET, ID_ROGUE);
    const char *url = test_url(API, http_server_port(origin), "/data");
    certpin_ctx *pin = test_ctx(&pinned);
    certpin_curl *pc;
    CURL *easy;
    xfer x;
    http_server_stats st;

    assert_non_null(p);
    /* Control: plain libcurl through the proxy reaches the origin, whichever it is. */
    easy = through_proxy(p, proxy_host, h2);
    test_perform(easy, url, &x);
    if (x.rc != CURLE_OK) {
        test_show("control", &x, NULL);
    }
    assert_int_equal(x.rc, CURLE_OK);
    test_easy_free(easy);
    http_server_stats_get(origin, &st);
    assert_int_equal(st.requests, 1);
    assert_int_equal(https_proxy_tunnels(p), 1);

    easy = through_proxy(p, proxy_host, h2);
    pc = test_attach(easy, pin);
    test_perform(easy, url, &x);
    http_server_stats_get(origin, &st);
    assert_int_equal(https_proxy_tunnels(p), 2); /* the proxy's connection was not refused */
    assert_string_equal(certpin_result_host(certpin_curl_result(pc)), API);
    if (origin_id == ID_LEGIT) {
        if (x.rc != CURLE_OK) {
            test_show(proxy_host, &x, pc);
        }
        assert_int_equal(x.rc, CURLE_OK);
        assert_int_equal(x.http_version, h2 ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1);
        assert_int_equal(test_verdict(pc), CERTPIN_ACCEPTED_PINNED);
        assert_int_equal(st.requests, 2);
    } else {
        /* Inside a tunnel, curl 7.88 reports any certificate failure of the origin, its own
         * included, as CURLE_SSL_CONNECT_ERROR ("SSL_ERROR_SYSCALL": the proxy connection's TLS
         * layer clears OpenSSL's error queue while the origin's alert goes out through it);
         * certpin's result says what happened. */
        if (x.rc != CURLE_PEER_FAILED_VERIFICATION && x.rc != CURLE_SSL_CONNECT_ERROR) {
            test_show(proxy_host, &x, pc);
        }
        assert_true(x.rc == CURLE_PEER_FAILED_VERIFICATION || x.rc == CURLE_SSL_CONNECT_ERROR);
        assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_NO_MATCH);
        assert_int_equal(st.requests, 1); /* the control's */
        assert_int_equal(st.handshakes, 1);
    }
    test_easy_free(easy);
    certpin_curl_free(pc);
    certpin_ctx_free(pin);
    https_proxy_stop(p);
    http_server_stop(origin);
}

static void legit_origin_through_proxy(void **state)
{
    size_t i;
    int h2;
    (void)state;
    for (i = 0; i < sizeof(proxy_hosts) / sizeof(proxy_hosts[0]); i++) {
        for (h2 = 0; h2 <= 1; h2++) {
            proxy_case(ID_LEGIT, h2, proxy_hosts[i]);
        }
    }
}

static void rogue_origin_through_proxy(void **state)
{
    size_t i;
    int h2;
    (void)state;
    for (i = 0; i < sizeof(proxy_hosts) / sizeof(proxy_hosts[0]); i++) {
        for (h2 = 0; h2 <= 1; h2++) {
            proxy_case(ID_ROGUE, h2, proxy_hosts[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(legit_origin_through_proxy),
        cmocka_unit_test(rogue_origin_through_proxy),
    };
    return cmocka_run_group_tests(tests, test_group_setup, test_group_teardown);
}
