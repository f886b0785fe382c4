/* The libcurl integration on one connection: a pinned handle completes a GET to the legit server
 * (HTTP/1.1 and HTTP/2) and refuses the rogue one (a chain from a second CA the handle also
 * trusts) before any request byte; IP addresses; CURLOPT_SSL_VERIFYPEER and _VERIFYHOST off; URLs
 * that are not https; the application's own SSL_CTX and pre-request functions; misuse (freeing
 * too early, duplicated handles, replaced callbacks). Every refusal has a control: the same
 * transfer with plain libcurl sends its request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "curl_test.h"

#define API "api.example.com"

static const policy_spec pinned = {
    .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                {.host = "127.0.0.1", .pins = {"CA1_INT", "BACKUP"}},
                {.host = "::1", .pins = {"CA1_INT", "BACKUP"}}}};

/* A server, a handle that maps api.example.com to it, and (pin != NULL) certpin attached. */
typedef struct fixture {
    http_server *server;
    CURL *easy;
    certpin_ctx *pin;
    certpin_curl *pc;
    struct curl_slist *headers;
} fixture;

static void fixture_start(fixture *f, identity id, int h2, int pinned_handle)
{
    http_server_opts o = {.id = id, .h2 = h2};
    memset(f, 0, sizeof(*f));
    f->server = http_server_start(&o);
    assert_non_null(f->server);
    f->easy = test_easy("trust-both.pem", h2);
    test_map_host(f->easy, API, http_server_port(f->server), 0);
    f->headers = curl_slist_append(NULL, "X-API-Key: secret-key");
    (void)curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
    if (pinned_handle) {
        f->pin = test_ctx(&pinned);
        f->pc = test_attach(f->easy, f->pin);
    }
}

static void fixture_stop(fixture *f)
{
    test_easy_free(f->easy);
    certpin_curl_free(f->pc);
    certpin_ctx_free(f->pin);
    curl_slist_free_all(f->headers);
    http_server_stop(f->server);
}

static const char *api_url(fixture *f)
{
    return test_url(API, http_server_port(f->server), "/data");
}

/* ---- legit and rogue, HTTP/1.1 and HTTP/2 -------------------------------------------------- */

typedef struct chain_case {
    const char *name;
    identity id;
    int h2;
    int accepted;
    certpin_verdict verdict;
} chain_case;

static const chain_case chain_cases[] = {
    {"legit-http1.1", ID_LEGIT, 0, 1, CERTPIN_ACCEPTED_PINNED},
    {"legit-h2", ID_LEGIT, 1, 1, CERTPIN_ACCEPTED_PINNED},
    {"rogue-http1.1", ID_ROGUE, 0, 0, CERTPIN_REJECTED_NO_MATCH},
    {"rogue-h2", ID_ROGUE, 1, 0, CERTPIN_REJECTED_NO_MATCH},
    {"padded-http1.1", ID_PADDED, 0, 0, CERTPIN_REJECTED_NO_MATCH},
    {"padded-h2", ID_PADDED, 1, 0, CERTPIN_REJECTED_NO_MATCH},
    {"untrusted-h2", ID_UNTRUSTED, 1, 0, CERTPIN_REJECTED_UNVERIFIED},
};

static void chains(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++) {
        const chain_case *c = &chain_cases[i];
        fixture f;
        xfer x;
        http_server_stats st;

        /* The control: plain libcurl with the same trust completes the request, whatever the
         * chain (except the one no CA vouches for). */
        fixture_start(&f, c->id, c->h2, 0);
        test_perform(f.easy, api_url(&f), &x);
        http_server_stats_get(f.server, &st);
        if (c->id != ID_UNTRUSTED) {
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(st.requests, 1);
            assert_int_equal(st.h2, (unsigned)c->h2);
        }
        fixture_stop(&f);

        fixture_start(&f, c->id, c->h2, 1);
        test_perform(f.easy, api_url(&f), &x);
        http_server_stats_get(f.server, &st);
        if ((x.rc == CURLE_OK) != c->accepted || test_verdict(f.pc) != c->verdict) {
            test_show(c->name, &x, f.pc);
        }
        assert_int_equal(test_verdict(f.pc), c->verdict);
        if (c->accepted) {
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(x.status, 200);
            assert_int_equal(x.http_version, c->h2 ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1);
            assert_int_equal(st.requests, 1);
            assert_string_equal(st.api_key, "secret-key");
            assert_string_equal(certpin_result_host(certpin_curl_result(f.pc)), API);
            assert_int_equal(certpin_result_port(certpin_curl_result(f.pc)),
                             http_server_port(f.server));
        } else {
            /* curl reports a peer verification failure like any other; certpin's result tells
             * what it was. Not one byte of the request reached the server. */
            assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
            assert_int_equal(st.handshakes, 0);
            assert_int_equal(st.app_bytes, 0);
            assert_int_equal(st.requests, 0);
            assert_non_null(
                strstr(certpin_result_explain((certpin_result *)certpin_curl_result(f.pc)),
                       c->id == ID_UNTRUSTED ? "own verification" : "pin check failed"));
        }
        fixture_stop(&f);
    }
}

/* ---- IP addresses -----------------------------------------------------------------------------
 */

static void ip_literals(void **state)
{
    static const struct {
        int family;
        const char *host;
        const char *canonical;
    } cases[] = {{AF_INET, "127.0.0.1", "127.0.0.1"}, {AF_INET6, "[::1]", "::1"}};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        identity id;
        for (id = ID_LEGIT; id <= ID_ROGUE; id++) {
            http_server_opts o = {.family = cases[i].family, .id = id, .h2 = 1};
            http_server *s = http_server_start(&o);
            CURL *easy;
            certpin_ctx *pin;
            certpin_curl *pc;
            xfer x;
            http_server_stats st;
            if (s == NULL) {
                continue; /* no IPv6 here */
            }
            easy = test_easy("trust-both.pem", 1);
            pin = test_ctx(&pinned);
            pc = test_attach(easy, pin);
            test_perform(easy, test_url(cases[i].host, http_server_port(s), "/ip"), &x);
            http_server_stats_get(s, &st);
            assert_string_equal(certpin_result_host(certpin_curl_result(pc)), cases[i].canonical);
            if (id == ID_LEGIT) {
                assert_int_equal(x.rc, CURLE_OK);
                assert_int_equal(test_verdict(pc), CERTPIN_ACCEPTED_PINNED);
                assert_int_equal(st.requests, 1);
            } else {
                assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
                assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_NO_MATCH);
                assert_int_equal(st.app_bytes, 0);
            }
            test_easy_free(easy);
            certpin_curl_free(pc);
            certpin_ctx_free(pin);
            http_server_stop(s);
        }
    }
}

/* ---- CURLOPT_SSL_VERIFYPEER and CURLOPT_SSL_VERIFYHOST off --------------------------------- */

static void verifypeer_off(void **state)
{
    identity id;
    (void)state;
    for (id = ID_LEGIT; id <= ID_ROGUE; id++) {
        int h2;
        for (h2 = 0; h2 <= 1; h2++) {
            fixture f;
            xfer x;
            http_server_stats st;

            /* Control: curl tells OpenSSL not to verify, and sends the request to anyone. */
            fixture_start(&f, id, h2, 0);
            (void)curl_easy_setopt(f.easy, CURLOPT_SSL_VERIFYPEER, 0L);
            test_perform(f.easy, api_url(&f), &x);
            http_server_stats_get(f.server, &st);
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(st.requests, 1);
            fixture_stop(&f);

            /* A pinned handle refuses rather than run unpinned: nothing is sent, not even the
             * ClientHello. */
            fixture_start(&f, id, h2, 1);
            (void)curl_easy_setopt(f.easy, CURLOPT_SSL_VERIFYPEER, 0L);
            test_perform(f.easy, api_url(&f), &x);
            http_server_stats_get(f.server, &st);
            assert_int_equal(x.rc, CURLE_SSL_CONNECT_ERROR);
            assert_int_equal(test_verdict(f.pc), CERTPIN_REJECTED_ERROR);
            assert_non_null(strstr(test_reason(f.pc), "CURLOPT_SSL_VERIFYPEER"));
            assert_int_equal(st.connections, 1);
            assert_int_equal(st.hellos, 0);
            assert_int_equal(st.handshakes, 0);
            assert_int_equal(st.app_bytes, 0);
            fixture_stop(&f);
        }
    }
}

static void verifyhost_off(void **state)
{
    /* The legit chain, for a name it is not valid for. The policy would accept its key. */
    static const policy_spec evil = {
        .entries = {{.host = "evil.example.org", .pins = {"CA1_INT", "BACKUP"}}}};
    http_server_opts o = {.id = ID_LEGIT};
    http_server *s = http_server_start(&o);
    const char *url = test_url("evil.example.org", http_server_port(s), "/");
    CURL *easy;
    certpin_ctx *pin;
    certpin_curl *pc;
    xfer x;
    http_server_stats st;
    (void)state;

    /* Control: curl does not check the name, and sends the request. */
    easy = test_easy("trust-both.pem", 0);
    test_map_host(easy, "evil.example.org", http_server_port(s), 0);
    (void)curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    test_perform(easy, url, &x);
    assert_int_equal(x.rc, CURLE_OK);
    test_easy_free(easy);
    http_server_stats_get(s, &st);
    assert_int_equal(st.requests, 1);

    /* certpin has OpenSSL verify the name all the same. */
    easy = test_easy("trust-both.pem", 0);
    test_map_host(easy, "evil.example.org", http_server_port(s), 0);
    (void)curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    pin = test_ctx(&evil);
    pc = test_attach(easy, pin);
    test_perform(easy, url, &x);
    assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
    assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_UNVERIFIED);
    assert_non_null(strstr(test_reason(pc), "hostname mismatch"));
    http_server_stats_get(s, &st);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.handshakes, 1);
    test_easy_free(easy);
    certpin_curl_free(pc);
    certpin_ctx_free(pin);
    http_server_stop(s);
}

/* ---- not https ------------------------------------------------------------------------------ */

static void plain_http_refused(void **state)
{
    fixture f;
    xfer x;
    http_server_stats st;
    char url[128];
    (void)state;
    fixture_start(&f, ID_LEGIT, 0, 1);
    (void)snprintf(url, sizeof(url), "http://%s:%d/data", API, http_server_port(f.server));
    test_perform(f.easy, url, &x);
    http_server_stats_get(f.server, &st);
    assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
    assert_int_equal(test_verdict(f.pc), CERTPIN_REJECTED_ERROR);
    assert_non_null(strstr(test_reason(f.pc), "http URL"));
    assert_int_equal(st.app_bytes, 0);
    assert_int_equal(st.handshakes, 0);
    fixture_stop(&f);
}

/* ---- the application's own functions -------------------------------------------------------- */

static int app_ctx_calls;
static CURLcode app_ctx_result;

static void app_info(const SSL *ssl, int where, int ret)
{
    (void)ssl;
    (void)ret;
    if (where & SSL_CB_HANDSHAKE_DONE) {
        app_ctx_calls += 100;
    }
}

static CURLcode app_ssl_ctx(CURL *easy, void *sslctx, void *userptr)
{
    (void)easy;
    assert_ptr_equal(userptr, &app_ctx_calls);
    app_ctx_calls++;
    /* An application's own info callback: certpin chains it. */
    SSL_CTX_set_info_callback(sslctx, app_info);
    return app_ctx_result;
}

static int app_prereq_calls;

static int app_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                      int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    assert_ptr_equal(clientp, &app_prereq_calls);
    app_prereq_calls++;
    return CURL_PREREQFUNC_OK;
}

static void app_functions_chained(void **state)
{
    identity id;
    (void)state;
    for (id = ID_LEGIT; id <= ID_ROGUE; id++) {
        fixture f;
        xfer x;
        http_server_stats st;
        fixture_start(&f, id, 1, 1);
        app_ctx_calls = 0;
        app_prereq_calls = 0;
        app_ctx_result = CURLE_OK;
        assert_int_equal(certpin_curl_set_ssl_ctx_function(f.pc, app_ssl_ctx, &app_ctx_calls),
                         CERTPIN_OK);
        assert_int_equal(certpin_curl_set_prereq_function(f.pc, app_prereq, &app_prereq_calls),
                         CERTPIN_OK);
        test_perform(f.easy, api_url(&f), &x);
        http_server_stats_get(f.server, &st);
        if (id == ID_LEGIT) {
            assert_int_equal(x.rc, CURLE_OK);
            assert_int_equal(app_ctx_calls, 101); /* its SSL_CTX function, its info callback */
            assert_int_equal(app_prereq_calls, 1);
        } else {
            assert_int_equal(x.rc, CURLE_PEER_FAILED_VERIFICATION);
            assert_int_equal(app_ctx_calls, 1);
            assert_int_equal(app_prereq_calls, 0);
            assert_int_equal(st.app_bytes, 0);
        }
        fixture_stop(&f);
    }
}

static void app_ssl_ctx_error_fails(void **state)
{
    fixture f;
    xfer x;
    (void)state;
    fixture_start(&f, ID_LEGIT, 0, 1);
    app_ctx_calls = 0;
    app_ctx_result = CURLE_SSL_CERTPROBLEM;
    assert_int_equal(certpin_curl_set_ssl_ctx_function(f.pc, app_ssl_ctx, &app_ctx_calls),
                     CERTPIN_OK);
    test_perform(f.easy, api_url(&f), &x);
    assert_int_equal(x.rc, CURLE_SSL_CERTPROBLEM);
    assert_int_equal(app_ctx_calls, 1);
    app_ctx_result = CURLE_OK;
    fixture_stop(&f);
}

static CURLcode replacing_ssl_ctx(CURL *easy, void *sslctx, void *userptr)
{
    (void)easy;
    (void)sslctx;
    (void)userptr;
    return CURLE_OK;
}

/* The application sets CURLOPT_SSL_CTX_FUNCTION itself after attaching: certpin no longer sees
 * the handshake, so no connection carries its verdict and the request is never sent. */
static void ssl_ctx_function_replaced(void **state)
{
    identity id;
    (void)state;
    for (id = ID_LEGIT; id <= ID_ROGUE; id++) {
        fixture f;
        xfer x;
        http_server_stats st;
        fixture_start(&f, id, 0, 1);
        (void)curl_easy_setopt(f.easy, CURLOPT_SSL_CTX_FUNCTION, replacing_ssl_ctx);
        test_perform(f.easy, api_url(&f), &x);
        http_server_stats_get(f.server, &st);
        assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
        assert_int_equal(test_verdict(f.pc), CERTPIN_REJECTED_ERROR);
        assert_non_null(strstr(test_reason(f.pc), "did not verify"));
        assert_int_equal(st.handshakes, 1); /* curl's own handshake, unpinned... */
        assert_int_equal(st.app_bytes, 0);  /* ...carries no request */
        fixture_stop(&f);
    }
}

/* An application's info callback that has OpenSSL verify another name when the handshake
 * starts (after certpin set the URL's host): certpin then checks the chain for that name, but
 * the request is for the URL's host, whose entry never judged the connection. */
static void set_other_host(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (where & SSL_CB_HANDSHAKE_START) {
        (void)SSL_set1_host((SSL *)ssl, "www.example.com");
    }
}

static CURLcode other_host_ctx(CURL *easy, void *sslctx, void *userptr)
{
    (void)easy;
    (void)userptr;
    SSL_CTX_set_info_callback(sslctx, set_other_host);
    return CURLE_OK;
}

static void host_changed_under_certpin(void **state)
{
    /* www.example.com's entry accepts the rogue chain; api.example.com's does not. */
    static const policy_spec lax_www = {
        .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}},
                    {.host = "www.example.com", .pins = {"CA2_INT", "BACKUP"}}}};
    http_server_opts o = {.id = ID_ROGUE};
    http_server *s = http_server_start(&o);
    CURL *easy = test_easy("trust-both.pem", 0);
    certpin_ctx *pin = test_ctx(&lax_www);
    certpin_curl *pc = test_attach(easy, pin);
    http_server_stats st;
    xfer x;
    (void)state;
    test_map_host(easy, API, http_server_port(s), 0);
    assert_int_equal(certpin_curl_set_ssl_ctx_function(pc, other_host_ctx, NULL), CERTPIN_OK);
    test_perform(easy, test_url(API, http_server_port(s), "/data"), &x);
    http_server_stats_get(s, &st);
    assert_int_equal(st.handshakes, 1); /* accepted, under www.example.com's entry... */
    assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK); /* ...but not for api.example.com */
    assert_int_equal(test_verdict(pc), CERTPIN_REJECTED_ERROR);
    assert_non_null(strstr(test_reason(pc), "another host (www.example.com)"));
    assert_int_equal(st.app_bytes, 0);
    test_easy_free(easy);
    certpin_curl_free(pc);
    certpin_ctx_free(pin);
    http_server_stop(s);
}

/* ---- lifetime and misuse -------------------------------------------------------------------- */

static void freed_attachment_refuses(void **state)
{
    fixture f;
    xfer x;
    http_server_stats st;
    (void)state;
    fixture_start(&f, ID_LEGIT, 0, 1);
    certpin_curl_free(f.pc); /* too early: the handle still has certpin's callbacks */
    f.pc = NULL;
    test_perform(f.easy, api_url(&f), &x);
    http_server_stats_get(f.server, &st);
    assert_int_not_equal(x.rc, CURLE_OK);
    assert_int_equal(st.app_bytes, 0);
    fixture_stop(&f);
}

static void detach_unpins(void **state)
{
    fixture f;
    xfer x;
    (void)state;
    fixture_start(&f, ID_ROGUE, 0, 1);
    app_prereq_calls = 0;
    assert_int_equal(certpin_curl_set_prereq_function(f.pc, app_prereq, &app_prereq_calls),
                     CERTPIN_OK);
    assert_int_equal(certpin_curl_detach(f.pc), CERTPIN_OK);
    test_perform(f.easy, api_url(&f), &x);
    assert_int_equal(x.rc, CURLE_OK); /* plain curl again, with the application's function */
    assert_int_equal(app_prereq_calls, 1);
    assert_int_equal(test_verdict(f.pc), CERTPIN_NOT_CHECKED);
    fixture_stop(&f);
}

static void duplicated_handle(void **state)
{
    fixture f;
    xfer x;
    CURL *copy;
    certpin_curl *copy_pc;
    (void)state;
    fixture_start(&f, ID_LEGIT, 0, 1);
    test_perform(f.easy, api_url(&f), &x);
    assert_int_equal(x.rc, CURLE_OK);

    /* The copy carries certpin's callbacks but not the attachment: refused. */
    copy = curl_easy_duphandle(f.easy);
    assert_non_null(copy);
    test_perform(copy, api_url(&f), &x);
    assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
    assert_int_equal(test_verdict(f.pc), CERTPIN_ACCEPTED_PINNED); /* the original's, untouched */

    /* Attached, it works. */
    copy_pc = test_attach(copy, f.pin);
    test_perform(copy, api_url(&f), &x);
    assert_int_equal(x.rc, CURLE_OK);
    assert_int_equal(test_verdict(copy_pc), CERTPIN_ACCEPTED_PINNED);
    curl_easy_cleanup(copy);
    certpin_curl_free(copy_pc);
    fixture_stop(&f);
}

static void attach_arguments(void **state)
{
    CURL *easy = test_easy("trust-both.pem", 0);
    certpin_ctx *pin = test_ctx(&pinned);
    certpin_curl *pc = (certpin_curl *)&pc;
    certpin_error err;
    (void)state;
    assert_int_equal(certpin_curl_attach(NULL, pin, &pc, &err), CERTPIN_E_ARG);
    assert_int_equal(certpin_curl_attach(easy, NULL, &pc, &err), CERTPIN_E_ARG);
    assert_int_equal(certpin_curl_attach(easy, pin, NULL, NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_curl_detach(NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_curl_set_ssl_ctx_function(NULL, NULL, NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_curl_set_prereq_function(NULL, NULL, NULL), CERTPIN_E_ARG);
    assert_null(certpin_curl_result(NULL));
    certpin_curl_free(NULL);
    assert_int_equal(certpin_curl_attach(easy, pin, &pc, &err), CERTPIN_OK);
    assert_int_equal(test_verdict(pc), CERTPIN_NOT_CHECKED);
    test_easy_free(easy);
    certpin_curl_free(pc);
    certpin_ctx_free(pin);
}

/* ---- reports -------------------------------------------------------------------------------- */

static int reports;
static certpin_verdict reported;

static void on_report(const certpin_report *report, void *arg)
{
    (void)arg;
    reports++;
    reported = certpin_result_verdict(report->result);
}

static void failures_are_reported(void **state)
{
    fixture f;
    xfer x;
    (void)state;
    fixture_start(&f, ID_ROGUE, 1, 1);
    reports = 0;
    certpin_ctx_set_report_fn(f.pin, on_report, NULL);
    test_perform(f.easy, api_url(&f), &x);
    assert_int_equal(reports, 1);
    assert_int_equal(reported, CERTPIN_REJECTED_NO_MATCH);
    fixture_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chains),
        cmocka_unit_test(ip_literals),
        cmocka_unit_test(verifypeer_off),
        cmocka_unit_test(verifyhost_off),
        cmocka_unit_test(plain_http_refused),
        cmocka_unit_test(app_functions_chained),
        cmocka_unit_test(app_ssl_ctx_error_fails),
        cmocka_unit_test(ssl_ctx_function_replaced),
        cmocka_unit_test(host_changed_under_certpin),
        cmocka_unit_test(freed_attachment_refuses),
        cmocka_unit_test(detach_unpins),
        cmocka_unit_test(duplicated_handle),
        cmocka_unit_test(attach_arguments),
        cmocka_unit_test(failures_are_reported),
    };
    return cmocka_run_group_tests(tests, test_group_setup, test_group_teardown);
}
