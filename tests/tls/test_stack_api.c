/* The mbedTLS and GnuTLS adapters' own functions, beside the conformance suite: the pins they
 * compute against the openssl command's (pins.env: GnuTLS re-encodes the key, which must give the
 * certificate's bytes for the PKI's EC and RSA keys), what attaching refuses, saving the session
 * of a connection certpin did not accept, and the stack-specific pitfalls no other stack has (a
 * BIO replaced after attaching; a handshake hook replaced after attaching). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#ifdef CERTPIN_TEST_MBEDTLS
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "certpin/mbedtls.h"
#endif
#ifdef CERTPIN_TEST_GNUTLS
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "certpin/gnutls.h"
#endif

#if defined(CERTPIN_TEST_MBEDTLS) || defined(CERTPIN_TEST_GNUTLS)
static const struct {
    const char *file;
    const char *name;
} pki_certs[] = {
    {"ca1-root.pem", "CA1_ROOT"}, {"ca1-int.pem", "CA1_INT"},   {"leaf.pem", "LEAF"},
    {"leaf2.pem", "LEAF2"},       {"ca2-root.pem", "CA2_ROOT"}, {"ca2-int.pem", "CA2_INT"},
    {"rogue.pem", "ROGUE"},       {"ca3-root.pem", "CA3_ROOT"}, {"ca3-leaf.pem", "CA3_LEAF"},
    {"expired.pem", "EXPIRED"},
};
#define PKI_CERTS (sizeof(pki_certs) / sizeof(pki_certs[0]))
#endif

static certpin_ctx *pinned_ctx(certpin_policy **policy)
{
    static const policy_spec api_int = {
        .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}}}};
    certpin_ctx *ctx;
    *policy = policy_build(&api_int);
    ctx = certpin_ctx_new(*policy);
    assert_non_null(ctx);
    return ctx;
}

/* ---- mbedTLS --------------------------------------------------------------------------------- */

#ifdef CERTPIN_TEST_MBEDTLS
static void mbedtls_cert_pins_match_openssl(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < PKI_CERTS; i++) {
        mbedtls_x509_crt crt;
        unsigned char pin[CERTPIN_PIN_LEN];
        unsigned char want[CERTPIN_PIN_LEN];
        mbedtls_x509_crt_init(&crt);
        assert_int_equal(mbedtls_x509_crt_parse_file(&crt, pki_path(pki_certs[i].file)), 0);
        assert_int_equal(certpin_mbedtls_cert_pin(&crt, pin), CERTPIN_OK);
        pki_pin_bytes(pki_certs[i].name, want);
        assert_memory_equal(pin, want, CERTPIN_PIN_LEN);
        mbedtls_x509_crt_free(&crt);
    }
}

typedef struct mb {
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_context net;
} mb;

static void mb_init(mb *m, int endpoint, int transport)
{
    mbedtls_ssl_config_init(&m->conf);
    mbedtls_ssl_init(&m->ssl);
    mbedtls_x509_crt_init(&m->ca);
    mbedtls_entropy_init(&m->entropy);
    mbedtls_ctr_drbg_init(&m->drbg);
    mbedtls_net_init(&m->net);
    assert_int_equal(mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func, &m->entropy,
                                           (const unsigned char *)"t", 1),
                     0);
    assert_int_equal(mbedtls_x509_crt_parse_file(&m->ca, pki_path("trust-both.pem")), 0);
    assert_int_equal(
        mbedtls_ssl_config_defaults(&m->conf, endpoint, transport, MBEDTLS_SSL_PRESET_DEFAULT), 0);
    mbedtls_ssl_conf_min_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&m->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&m->conf, &m->ca, NULL);
    mbedtls_ssl_conf_rng(&m->conf, mbedtls_ctr_drbg_random, &m->drbg);
    assert_int_equal(mbedtls_ssl_setup(&m->ssl, &m->conf), 0);
}

static void mb_free(mb *m)
{
    mbedtls_ssl_free(&m->ssl);
    mbedtls_net_free(&m->net);
    mbedtls_ssl_config_free(&m->conf);
    mbedtls_x509_crt_free(&m->ca);
    mbedtls_ctr_drbg_free(&m->drbg);
    mbedtls_entropy_free(&m->entropy);
}

static void mbedtls_attach_refusals(void **state)
{
    certpin_policy *policy;
    certpin_ctx *ctx = pinned_ctx(&policy);
    certpin_mbedtls *cm = (certpin_mbedtls *)&cm; /* must be reset to NULL on failure */
    certpin_error err;
    mb m;
    (void)state;

    /* no BIO yet */
    mb_init(&m, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM);
    assert_int_equal(certpin_mbedtls_attach(&m.ssl, ctx, &cm, &err), CERTPIN_E_ARG);
    assert_null(cm);
    assert_non_null(strstr(err.text, "mbedtls_ssl_set_bio"));
    /* then attached, and not twice */
    mbedtls_ssl_set_bio(&m.ssl, &m.net, mbedtls_net_send, mbedtls_net_recv, NULL);
    assert_int_equal(certpin_mbedtls_attach(&m.ssl, ctx, &cm, &err), CERTPIN_OK);
    assert_non_null(cm);
    assert_int_equal(certpin_result_verdict(certpin_mbedtls_result(cm)), CERTPIN_NOT_CHECKED);
    {
        certpin_mbedtls *again = NULL;
        certpin_mbedtls_session *s = NULL;
        assert_int_equal(certpin_mbedtls_attach(&m.ssl, ctx, &again, &err), CERTPIN_E_ARG);
        assert_null(again);
        /* nothing accepted yet: no session to save */
        assert_int_equal(certpin_mbedtls_session_save(cm, &s), CERTPIN_E_ARG);
        assert_null(s);
    }
    certpin_mbedtls_free(cm);
    mb_free(&m);

    /* a server's configuration, DTLS */
    mb_init(&m, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM);
    mbedtls_ssl_set_bio(&m.ssl, &m.net, mbedtls_net_send, mbedtls_net_recv, NULL);
    assert_int_equal(certpin_mbedtls_attach(&m.ssl, ctx, &cm, &err), CERTPIN_E_ARG);
    assert_non_null(strstr(err.text, "client"));
    mb_free(&m);
    mb_init(&m, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM);
    mbedtls_ssl_set_bio(&m.ssl, &m.net, mbedtls_net_send, mbedtls_net_recv, NULL);
    assert_int_equal(certpin_mbedtls_attach(&m.ssl, ctx, &cm, &err), CERTPIN_E_ARG);
    assert_non_null(strstr(err.text, "DTLS"));
    mb_free(&m);

    assert_int_equal(certpin_mbedtls_attach(NULL, ctx, &cm, &err), CERTPIN_E_ARG);
    certpin_ctx_free(ctx);
    certpin_policy_free(policy);
}

/* mbedtls_ssl_set_bio after attaching removes the guard: certpin then refuses every full
 * handshake, saying why, rather than pin without seeing resumptions. */
static void mbedtls_bio_replaced_after_attach(void **state)
{
    tls_server *srv = server_start(AF_INET, ID_LEGIT);
    certpin_policy *policy;
    certpin_ctx *ctx = pinned_ctx(&policy);
    certpin_mbedtls *cm = NULL;
    certpin_error err;
    char port[16];
    mb m;
    int ret;
    (void)state;

    assert_non_null(srv);
    mb_init(&m, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM);
    assert_int_equal(mbedtls_ssl_set_hostname(&m.ssl, "api.example.com"), 0);
    (void)snprintf(port, sizeof(port), "%d", server_port(srv));
    assert_int_equal(mbedtls_net_connect(&m.net, "127.0.0.1", port, MBEDTLS_NET_PROTO_TCP), 0);
    harness_set_timeouts(m.net.fd);
    mbedtls_ssl_set_bio(&m.ssl, &m.net, mbedtls_net_send, mbedtls_net_recv, NULL);
    assert_int_equal(certpin_mbedtls_attach(&m.ssl, ctx, &cm, &err), CERTPIN_OK);
    mbedtls_ssl_set_bio(&m.ssl, &m.net, mbedtls_net_send, mbedtls_net_recv, NULL);
    do {
        ret = mbedtls_ssl_handshake(&m.ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    assert_int_not_equal(ret, 0);
    assert_int_equal(certpin_result_verdict(certpin_mbedtls_result(cm)), CERTPIN_REJECTED_ERROR);
    assert_non_null(
        strstr(certpin_result_reason(certpin_mbedtls_result(cm)), "mbedtls_ssl_set_bio"));
    assert_true(server_wait(srv, 1));
    assert_int_equal(server_conns_with_data(srv), 0);
    certpin_mbedtls_free(cm);
    mb_free(&m);
    server_stop(srv);
    certpin_ctx_free(ctx);
    certpin_policy_free(policy);
}
#endif

/* ---- GnuTLS ---------------------------------------------------------------------------------- */

#ifdef CERTPIN_TEST_GNUTLS
static void gnutls_cert_pins_match_openssl(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < PKI_CERTS; i++) {
        gnutls_x509_crt_t crt;
        gnutls_datum_t pem = {NULL, 0};
        unsigned char pin[CERTPIN_PIN_LEN];
        unsigned char want[CERTPIN_PIN_LEN];
        assert_int_equal(gnutls_load_file(pki_path(pki_certs[i].file), &pem), 0);
        assert_int_equal(gnutls_x509_crt_init(&crt), 0);
        assert_int_equal(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM), 0);
        assert_int_equal(certpin_gnutls_cert_pin(crt, pin), CERTPIN_OK);
        pki_pin_bytes(pki_certs[i].name, want);
        assert_memory_equal(pin, want, CERTPIN_PIN_LEN);
        gnutls_x509_crt_deinit(crt);
        gnutls_free(pem.data);
    }
}

static void gnutls_attach_refusals(void **state)
{
    certpin_policy *policy;
    certpin_ctx *ctx = pinned_ctx(&policy);
    certpin_gnutls_session *saved = NULL;
    gnutls_session_t session;
    certpin_error err;
    (void)state;

    assert_int_equal(certpin_gnutls_attach(NULL, ctx, "api.example.com", &err), CERTPIN_E_ARG);
    assert_int_equal(gnutls_init(&session, GNUTLS_CLIENT), 0);
    assert_null(certpin_gnutls_result(session));
    assert_int_equal(certpin_gnutls_attach(session, NULL, "api.example.com", &err), CERTPIN_E_ARG);
    assert_int_equal(certpin_gnutls_attach(session, ctx, "api.example.com", &err), CERTPIN_OK);
    /* attaching again replaces the context and host, and keeps one state */
    assert_int_equal(certpin_gnutls_attach(session, ctx, "www.example.com", &err), CERTPIN_OK);
    assert_non_null(certpin_gnutls_result(session));
    assert_int_equal(certpin_result_verdict(certpin_gnutls_result(session)), CERTPIN_NOT_CHECKED);
    /* nothing accepted yet: no session to save */
    assert_int_equal(certpin_gnutls_session_save(session, &saved), CERTPIN_E_ARG);
    assert_null(saved);
    gnutls_deinit(session); /* frees certpin's state: valgrind and ASan see to it */
    certpin_ctx_free(ctx);
    certpin_policy_free(policy);
}

static int app_hook(gnutls_session_t session, unsigned int htype, unsigned when,
                    unsigned int incoming, const gnutls_datum_t *msg)
{
    (void)session;
    (void)htype;
    (void)when;
    (void)incoming;
    (void)msg;
    return 0;
}

/* A handshake hook set after attaching replaces certpin's (documented): full handshakes are still
 * checked by certpin's verification function, so the rogue chain is still refused. */
static void gnutls_hook_replaced_full_handshake_checked(void **state)
{
    tls_server *srv = server_start(AF_INET, ID_ROGUE);
    certpin_policy *policy;
    certpin_ctx *ctx = pinned_ctx(&policy);
    gnutls_certificate_credentials_t cred;
    gnutls_session_t session;
    struct sockaddr_storage ss;
    socklen_t len;
    certpin_error err;
    int fd;
    int ret;
    (void)state;

    assert_non_null(srv);
    assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
    assert_true(gnutls_certificate_set_x509_trust_file(cred, pki_path("trust-both.pem"),
                                                       GNUTLS_X509_FMT_PEM) > 0);
    assert_int_equal(gnutls_init(&session, GNUTLS_CLIENT), 0);
    assert_int_equal(gnutls_set_default_priority(session), 0);
    assert_int_equal(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred), 0);
    assert_int_equal(certpin_gnutls_attach(session, ctx, "api.example.com", &err), CERTPIN_OK);
    gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH, app_hook);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    len = harness_loopback(AF_INET, server_port(srv), &ss);
    assert_true(fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0);
    harness_set_timeouts(fd);
    gnutls_transport_set_int(session, fd);
    do {
        ret = gnutls_handshake(session);
    } while (ret < 0 && !gnutls_error_is_fatal(ret));
    assert_int_not_equal(ret, 0);
    assert_int_equal(certpin_result_verdict(certpin_gnutls_result(session)),
                     CERTPIN_REJECTED_NO_MATCH);
    assert_true(server_wait(srv, 1));
    assert_int_equal(server_conns_with_data(srv), 0);
    gnutls_deinit(session);
    (void)close(fd);
    gnutls_certificate_free_credentials(cred);
    server_stop(srv);
    certpin_ctx_free(ctx);
    certpin_policy_free(policy);
}
#endif

int main(void)
{
    static const struct CMUnitTest tests[] = {
#ifdef CERTPIN_TEST_MBEDTLS
        cmocka_unit_test(mbedtls_cert_pins_match_openssl),
        cmocka_unit_test(mbedtls_attach_refusals),
        cmocka_unit_test(mbedtls_bio_replaced_after_attach),
#endif
#ifdef CERTPIN_TEST_GNUTLS
        cmocka_unit_test(gnutls_cert_pins_match_openssl),
        cmocka_unit_test(gnutls_attach_refusals),
        cmocka_unit_test(gnutls_hook_replaced_full_handshake_checked),
#endif
    };
    if (!pki_init()) {
        return 77;
    }
    (void)signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
