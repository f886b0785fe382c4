/* The OpenSSL adapter's functions themselves: pins of certificates against the openssl command's
 * (pins.env), attaching (twice, per connection, in the wrong order), the result accessor, and
 * certpin_openssl_check_store_ctx on chains outside a handshake (the `certpin check --chain`
 * path), the padded chain included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "harness_openssl.h"

static X509 *load_cert(const char *file)
{
    FILE *f = fopen(pki_path(file), "r");
    X509 *x;
    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    (void)fclose(f);
    assert_non_null(x);
    return x;
}

/* A macro, so that tables can use it in constant initialisers. */
#define API_INT                                                                                    \
    {                                                                                              \
        .entries = { {.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}} }                  \
    }

static const policy_spec api_int = API_INT;
static const policy_spec api_ca2 = {
    .entries = {{.host = "api.example.com", .pins = {"CA2_INT", "BACKUP"}}}};

/* ---- pins ---------------------------------------------------------------------------------- */

static void cert_pin_matches_openssl_pipeline(void **state)
{
    static const struct {
        const char *file;
        const char *name;
    } certs[] = {
        {"ca1-root.pem", "CA1_ROOT"}, {"ca1-int.pem", "CA1_INT"},   {"leaf.pem", "LEAF"},
        {"leaf2.pem", "LEAF2"},       {"ca2-root.pem", "CA2_ROOT"}, {"ca2-int.pem", "CA2_INT"},
        {"rogue.pem", "ROGUE"},       {"ca3-root.pem", "CA3_ROOT"}, {"ca3-leaf.pem", "CA3_LEAF"},
        {"expired.pem", "EXPIRED"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        X509 *x = load_cert(certs[i].file);
        unsigned char pin[CERTPIN_PIN_LEN];
        char text[CERTPIN_PIN_STR_MAX];
        assert_int_equal(certpin_openssl_cert_pin(x, pin), CERTPIN_OK);
        assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text)),
                         CERTPIN_OK);
        assert_string_equal(text, pki_pin(certs[i].name));
        X509_free(x);
    }
    assert_int_equal(certpin_openssl_cert_pin(NULL, (unsigned char[CERTPIN_PIN_LEN]){0}),
                     CERTPIN_E_ARG);
}

/* ---- attaching ----------------------------------------------------------------------------- */

static void attach_errors(void **state)
{
    SSL_CTX *plain = SSL_CTX_new(TLS_client_method());
    SSL_CTX *late = SSL_CTX_new(TLS_client_method());
    certpin_policy *p = policy_build(&api_int);
    certpin_ctx *pin = certpin_ctx_new(p);
    SSL *ssl_plain;
    SSL *ssl_early;
    SSL *ssl_after;
    (void)state;

    assert_int_equal(certpin_openssl_attach_ctx(NULL, pin), CERTPIN_E_ARG);
    /* an SSL_CTX that was never prepared */
    ssl_plain = SSL_new(plain);
    assert_int_equal(certpin_openssl_attach(ssl_plain, pin), CERTPIN_E_ARG);
    assert_null(certpin_openssl_result(ssl_plain));
    /* an SSL made before its SSL_CTX was prepared has no ClientHello checkpoint */
    ssl_early = SSL_new(late);
    assert_int_equal(certpin_openssl_attach_ctx(late, NULL), CERTPIN_OK);
    assert_int_equal(certpin_openssl_attach(ssl_early, pin), CERTPIN_E_ARG);
    ssl_after = SSL_new(late);
    assert_null(certpin_openssl_result(ssl_after)); /* prepared, nothing attached */
    assert_int_equal(certpin_openssl_attach(ssl_after, NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_openssl_attach(NULL, pin), CERTPIN_E_ARG);
    assert_int_equal(certpin_openssl_attach(ssl_after, pin), CERTPIN_OK);
    assert_int_equal(certpin_openssl_attach(ssl_after, pin), CERTPIN_OK); /* again: replaces */
    assert_non_null(certpin_openssl_result(ssl_after));
    assert_int_equal(certpin_result_verdict(certpin_openssl_result(ssl_after)),
                     CERTPIN_NOT_CHECKED);
    assert_null(certpin_openssl_result(NULL));
    {
        /* SSL_dup copies ex_data: the copy needs its own state, not a second pointer to it. */
        SSL *dup = SSL_dup(ssl_after);
        assert_non_null(dup);
        assert_non_null(certpin_openssl_result(dup));
        assert_ptr_not_equal(certpin_openssl_result(dup), certpin_openssl_result(ssl_after));
        SSL_free(dup);
    }
    SSL_free(ssl_plain);
    SSL_free(ssl_early);
    SSL_free(ssl_after);
    SSL_CTX_free(plain);
    SSL_CTX_free(late);
    certpin_ctx_free(pin);
    certpin_policy_free(p);
}

/* Calling attach_ctx again replaces the context (and registers nothing twice); NULL detaches. */
static void attach_ctx_twice(void **state)
{
    int version = *(const int *)*state;
    tls_server *srv = server_start(AF_INET, ID_LEGIT);
    certpin_policy *pa = policy_build(&api_int);
    certpin_policy *pb = policy_build(&api_ca2);
    certpin_ctx *a = certpin_ctx_new(pa);
    certpin_ctx *b = certpin_ctx_new(pb);
    SSL_CTX *ctx = client_ctx_new("trust-ca1.pem", version, 0, APP_CB_NONE, a, 0);
    client_opts o;
    client_outcome out;

    assert_int_equal(certpin_openssl_attach_ctx(ctx, a), CERTPIN_OK);
    memset(&o, 0, sizeof(o));
    o.ctx = ctx;
    o.port = server_port(srv);
    o.version = version;
    assert_true(client_run(&o, &out));
    assert_true(out.connected);
    assert_int_equal(out.verdict, CERTPIN_ACCEPTED_PINNED);
    assert_string_equal(out.policy_id, certpin_policy_id_hex(pa));
    assert_int_equal(out.port, server_port(srv)); /* read from the socket */

    assert_int_equal(certpin_openssl_attach_ctx(ctx, b), CERTPIN_OK);
    assert_true(client_run(&o, &out));
    assert_false(out.connected);
    assert_int_equal(out.verdict, CERTPIN_REJECTED_NO_MATCH);
    assert_string_equal(out.policy_id, certpin_policy_id_hex(pb));

    assert_int_equal(certpin_openssl_attach_ctx(ctx, NULL), CERTPIN_OK);
    assert_true(client_run(&o, &out));
    assert_true(out.connected);
    assert_false(out.has_result);

    assert_true(server_wait(srv, 3));
    assert_int_equal(server_conns_with_data(srv), 2);
    server_stop(srv);
    SSL_CTX_free(ctx);
    certpin_ctx_free(a);
    certpin_ctx_free(b);
    certpin_policy_free(pa);
    certpin_policy_free(pb);
}

/* An SSL made before attach_ctx has no checkpoint against resumption: it fails closed. */
static void ssl_made_before_attach_fails_closed(void **state)
{
    int version = *(const int *)*state;
    tls_server *srv = server_start(AF_INET, ID_LEGIT);
    certpin_policy *p = policy_build(&api_int);
    certpin_ctx *pin = certpin_ctx_new(p);
    client_opts o;
    client_outcome out;

    memset(&o, 0, sizeof(o));
    o.port = server_port(srv);
    o.version = version;
    o.trust = "trust-ca1.pem";
    o.pin = pin;
    o.ssl_before_attach = 1;
    assert_true(client_run(&o, &out));
    assert_true(server_wait(srv, 1));
    assert_false(out.connected);
    assert_int_equal(out.verdict, CERTPIN_REJECTED_ERROR);
    assert_non_null(strstr(out.reason, "before"));
    assert_int_equal(server_conns_with_data(srv), 0);
    server_stop(srv);
    certpin_ctx_free(pin);
    certpin_policy_free(p);
}

/* certpin pins servers: attached to a server's SSL_CTX that asks for client certificates, it
 * refuses every client certificate, even one that verifies and is pinned for the name the server
 * set to verify. In memory (a BIO pair), both ends in this thread. */
static void attached_to_server_fails_closed(void **state)
{
    int version = *(const int *)*state;
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    certpin_policy *p = policy_build(&api_int);
    certpin_ctx *pin = certpin_ctx_new(p);
    const certpin_result *r;
    SSL *srv;
    SSL *cli;
    BIO *sb;
    BIO *cb;
    int s_done = 0;
    int c_done = 0;
    int s_failed = 0;
    int i;

    assert_non_null(sctx);
    assert_non_null(cctx);
    assert_true(SSL_CTX_set_min_proto_version(sctx, version) == 1 &&
                SSL_CTX_set_max_proto_version(sctx, version) == 1);
    assert_true(SSL_CTX_use_certificate_chain_file(sctx, pki_path("chain-legit.pem")) == 1);
    assert_true(SSL_CTX_use_PrivateKey_file(sctx, pki_path("leaf.key"), SSL_FILETYPE_PEM) == 1);
    assert_true(SSL_CTX_load_verify_locations(sctx, pki_path("trust-ca1.pem"), NULL) == 1);
    SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    assert_int_equal(certpin_openssl_attach_ctx(sctx, pin), CERTPIN_OK);
    /* the client presents the legit chain, pinned (CA1_INT) for the name the server verifies */
    assert_true(SSL_CTX_use_certificate_chain_file(cctx, pki_path("chain-legit.pem")) == 1);
    assert_true(SSL_CTX_use_PrivateKey_file(cctx, pki_path("leaf.key"), SSL_FILETYPE_PEM) == 1);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);

    srv = SSL_new(sctx);
    cli = SSL_new(cctx);
    assert_non_null(srv);
    assert_non_null(cli);
    assert_true(SSL_set1_host(srv, "api.example.com") == 1);
    /* the leaf is a server certificate: let the server's verification accept it as a client's,
     * so that only certpin stands between this client and the server */
    assert_true(X509_VERIFY_PARAM_set_purpose(SSL_get0_param(srv), X509_PURPOSE_ANY) == 1);
    assert_true(BIO_new_bio_pair(&sb, 0, &cb, 0) == 1);
    SSL_set_bio(srv, sb, sb);
    SSL_set_bio(cli, cb, cb);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    for (i = 0; i < 100 && !s_failed && !(s_done && c_done); i++) {
        if (!c_done) {
            int rc = SSL_do_handshake(cli);
            c_done = rc == 1;
            if (rc <= 0 && SSL_get_error(cli, rc) != SSL_ERROR_WANT_READ) {
                break;
            }
        }
        if (!s_done) {
            int rc = SSL_do_handshake(srv);
            s_done = rc == 1;
            s_failed = rc <= 0 && SSL_get_error(srv, rc) != SSL_ERROR_WANT_READ;
        }
    }
    ERR_clear_error();
    assert_false(s_done);
    assert_true(s_failed);
    r = certpin_openssl_result(srv);
    assert_non_null(r);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_ERROR);
    assert_non_null(strstr(certpin_result_reason(r), "pins the certificates of servers"));
    SSL_free(cli);
    SSL_free(srv);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    certpin_ctx_free(pin);
    certpin_policy_free(p);
}

/* ---- certpin_openssl_check_store_ctx ------------------------------------------------------- */

typedef struct store_case {
    const char *name;
    const char *leaf;
    const char *untrusted[4];
    const char *trust[2];
    const char *host; /* NULL: none */
    const char *ip;
    policy_spec policy;
    certpin_status status;
    certpin_verdict verdict;
    const char *chain[4]; /* PKI names of the chain the result saw; NULL: not checked */
    size_t served_len;    /* in the report, when one is made (0: not checked) */
} store_case;

static const store_case store_cases[] = {
    {.name = "legit",
     .leaf = "leaf.pem",
     .untrusted = {"ca1-int.pem"},
     .trust = {"ca1-root.pem"},
     .host = "api.example.com",
     .policy = API_INT,
     .verdict = CERTPIN_ACCEPTED_PINNED,
     .chain = {"LEAF", "CA1_INT", "CA1_ROOT"}},
    {.name = "padded (CVE-2016-2402)",
     .leaf = "rogue.pem",
     .untrusted = {"ca2-int.pem", "ca1-int.pem", "ca1-root.pem"},
     .trust = {"ca1-root.pem", "ca2-root.pem"},
     .host = "api.example.com",
     .policy = {.entries = {{.host = "api.example.com", .pins = {"CA1_INT", "CA1_ROOT"}}}},
     .verdict = CERTPIN_REJECTED_NO_MATCH,
     .chain = {"ROGUE", "CA2_INT", "CA2_ROOT"},
     .served_len = 4},
    {.name = "leaf also in the untrusted list",
     .leaf = "rogue.pem",
     .untrusted = {"rogue.pem", "ca2-int.pem"},
     .trust = {"ca1-root.pem", "ca2-root.pem"},
     .host = "api.example.com",
     .policy = API_INT,
     .verdict = CERTPIN_REJECTED_NO_MATCH,
     .served_len = 2},
    {.name = "untrusted",
     .leaf = "ca3-leaf.pem",
     .trust = {"ca1-root.pem"},
     .host = "api.example.com",
     .policy = {.entries = {{.host = "api.example.com", .pins = {"CA3_LEAF", "BACKUP"}}}},
     .verdict = CERTPIN_REJECTED_UNVERIFIED},
    {.name = "no host",
     .leaf = "leaf.pem",
     .untrusted = {"ca1-int.pem"},
     .trust = {"ca1-root.pem"},
     .policy = API_INT,
     .status = CERTPIN_E_ARG,
     .verdict = CERTPIN_REJECTED_ERROR},
    {.name = "ip literal",
     .leaf = "leaf.pem",
     .untrusted = {"ca1-int.pem"},
     .trust = {"ca1-root.pem"},
     .ip = "127.0.0.1",
     .policy = {.entries = {{.host = "127.0.0.1", .pins = {"CA1_INT", "BACKUP"}}}},
     .verdict = CERTPIN_ACCEPTED_PINNED},
};

static size_t report_served_len;

static void on_report(const certpin_report *r, void *arg)
{
    (void)arg;
    report_served_len = r->served_len;
}

static void check_store_ctx_table(void **state)
{
    size_t i;
    size_t j;
    (void)state;
    for (i = 0; i < sizeof(store_cases) / sizeof(store_cases[0]); i++) {
        const store_case *c = &store_cases[i];
        X509_STORE *store = X509_STORE_new();
        STACK_OF(X509) *untrusted = sk_X509_new_null();
        X509_STORE_CTX *sctx = X509_STORE_CTX_new();
        X509 *leaf = load_cert(c->leaf);
        certpin_policy *p = policy_build(&c->policy);
        certpin_ctx *pin = certpin_ctx_new(p);
        certpin_result *r = certpin_result_new();
        X509_VERIFY_PARAM *param;
        certpin_status st;

        print_message("store case: %s\n", c->name);
        certpin_ctx_set_report_fn(pin, on_report, NULL);
        report_served_len = 0;
        for (j = 0; j < 2 && c->trust[j] != NULL; j++) {
            X509 *x = load_cert(c->trust[j]);
            assert_int_equal(X509_STORE_add_cert(store, x), 1);
            X509_free(x);
        }
        for (j = 0; j < 4 && c->untrusted[j] != NULL; j++) {
            assert_true(sk_X509_push(untrusted, load_cert(c->untrusted[j])) > 0);
        }
        assert_int_equal(X509_STORE_CTX_init(sctx, store, leaf, untrusted), 1);
        param = X509_STORE_CTX_get0_param(sctx);
        if (c->host != NULL) {
            assert_int_equal(X509_VERIFY_PARAM_set1_host(param, c->host, 0), 1);
        }
        if (c->ip != NULL) {
            assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(param, c->ip), 1);
        }
        st = certpin_openssl_check_store_ctx(pin, sctx, 443, r);
        assert_int_equal(st, c->status);
        assert_int_equal(certpin_result_verdict(r), c->verdict);
        if (c->chain[0] != NULL) {
            size_t n = 0;
            while (n < 4 && c->chain[n] != NULL) {
                unsigned char want[CERTPIN_PIN_LEN];
                pki_pin_bytes(c->chain[n], want);
                assert_true(n < certpin_result_chain_len(r));
                assert_memory_equal(certpin_result_chain_pin(r, n), want, CERTPIN_PIN_LEN);
                n++;
            }
            assert_int_equal(certpin_result_chain_len(r), n);
        }
        if (c->served_len != 0) {
            assert_int_equal(report_served_len, c->served_len);
        }
        assert_int_equal(certpin_openssl_check_store_ctx(NULL, sctx, 0, r), CERTPIN_E_ARG);
        assert_int_equal(certpin_result_verdict(r), CERTPIN_REJECTED_ERROR);
        assert_int_equal(certpin_openssl_check_store_ctx(pin, sctx, 0, NULL), CERTPIN_E_ARG);

        certpin_result_free(r);
        certpin_ctx_free(pin);
        certpin_policy_free(p);
        X509_free(leaf);
        X509_STORE_CTX_free(sctx);
        sk_X509_pop_free(untrusted, X509_free);
        X509_STORE_free(store);
    }
}

int main(void)
{
    static const int tls12 = TLS1_2_VERSION;
    static const int tls13 = TLS1_3_VERSION;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cert_pin_matches_openssl_pipeline),
        cmocka_unit_test(attach_errors),
        {"attach_ctx_twice/tls1.2", attach_ctx_twice, NULL, NULL, (void *)&tls12},
        {"attach_ctx_twice/tls1.3", attach_ctx_twice, NULL, NULL, (void *)&tls13},
        {"ssl_made_before_attach_fails_closed/tls1.2", ssl_made_before_attach_fails_closed, NULL,
         NULL, (void *)&tls12},
        {"ssl_made_before_attach_fails_closed/tls1.3", ssl_made_before_attach_fails_closed, NULL,
         NULL, (void *)&tls13},
        cmocka_unit_test(check_store_ctx_table),
        {"attached_to_server_fails_closed/tls1.2", attached_to_server_fails_closed, NULL, NULL,
         (void *)&tls12},
        {"attached_to_server_fails_closed/tls1.3", attached_to_server_fails_closed, NULL, NULL,
         (void *)&tls13},
    };
    if (!pki_init()) {
        return 77;
    }
    return cmocka_run_group_tests_name("tls_api", tests, NULL, NULL);
}
