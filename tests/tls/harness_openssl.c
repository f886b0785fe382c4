/* The OpenSSL client of the TLS tests (see harness_openssl.h). */
#include "harness_openssl.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* ---- the client ---------------------------------------------------------------------------- */

static atomic_int app_cb_calls;

static int cb_count(int ok, X509_STORE_CTX *sctx)
{
    (void)sctx;
    atomic_fetch_add(&app_cb_calls, 1);
    return ok;
}

static int cb_reject_leaf(int ok, X509_STORE_CTX *sctx)
{
    atomic_fetch_add(&app_cb_calls, 1);
    if (X509_STORE_CTX_get_error_depth(sctx) == 0) {
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    return ok;
}

static int cb_accept_all(int ok, X509_STORE_CTX *sctx)
{
    (void)ok;
    (void)sctx;
    atomic_fetch_add(&app_cb_calls, 1);
    return 1;
}

SSL_CTX *client_ctx_new(const char *trust, int version, int verify_none, app_cb cb,
                        certpin_ctx *pin, int plain)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_verify_cb fn = NULL;
    certpin_status st;

    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, version) ||
        !SSL_CTX_set_max_proto_version(ctx, version) ||
        SSL_CTX_load_verify_locations(ctx, pki_path(trust), NULL) != 1) {
        harness_die("client SSL_CTX");
    }
    switch (cb) {
    case APP_CB_COUNT: fn = cb_count; break;
    case APP_CB_REJECT_LEAF: fn = cb_reject_leaf; break;
    case APP_CB_ACCEPT_ALL: fn = cb_accept_all; break;
    case APP_CB_NONE:
    default: fn = NULL; break;
    }
    SSL_CTX_set_verify(ctx, verify_none ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, fn);
    if (!plain) {
        st = certpin_openssl_attach_ctx(ctx, pin);
        if (st != CERTPIN_OK) {
            (void)fprintf(stderr, "attach_ctx: %s\n", certpin_status_str(st));
            abort();
        }
    }
    return ctx;
}

static void copy_result(const SSL *ssl, client_outcome *out)
{
    const certpin_result *r = certpin_openssl_result(ssl);
    const certpin_policy *p;
    if (r == NULL) {
        out->verdict = CERTPIN_NOT_CHECKED;
        return;
    }
    out->has_result = 1;
    out->verdict = certpin_result_verdict(r);
    out->warnings = certpin_result_warnings(r);
    out->depth = certpin_result_depth(r);
    out->port = certpin_result_port(r);
    (void)snprintf(out->host, sizeof(out->host), "%s", certpin_result_host(r));
    (void)snprintf(out->reason, sizeof(out->reason), "%s", certpin_result_reason(r));
    p = certpin_result_policy(r);
    (void)snprintf(out->policy_id, sizeof(out->policy_id), "%s",
                   p != NULL ? certpin_policy_id_hex(p) : "");
    /* certpin_result_explain caches its text in the result, which the SSL owns. */
    (void)snprintf(out->explain, sizeof(out->explain), "%s",
                   certpin_result_explain((certpin_result *)r));
}

static int set_hosts(SSL *ssl, const client_opts *o, const char *host)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (o->hosts != HOST_IP && SSL_set_tlsext_host_name(ssl, host) != 1) {
        return 0;
    }
    switch (o->hosts) {
    case HOST_NAME: return SSL_set1_host(ssl, host) == 1;
    case HOST_NONE: return 1;
    case HOST_TWO: return SSL_set1_host(ssl, host) == 1 && SSL_add1_host(ssl, o->host2) == 1;
    case HOST_NAME_AND_IP:
        return SSL_set1_host(ssl, host) == 1 && X509_VERIFY_PARAM_set1_ip_asc(param, o->ip) == 1;
    case HOST_IP: return X509_VERIFY_PARAM_set1_ip_asc(param, o->ip) == 1;
    default: return 0;
    }
}

int client_run(const client_opts *o, client_outcome *out)
{
    const char *host = o->host != NULL ? o->host : "api.example.com";
    int family = o->family != 0 ? o->family : AF_INET;
    SSL_CTX *ctx = o->ctx;
    struct sockaddr_storage ss;
    socklen_t len;
    SSL *ssl;
    int fd;
    int r;

    memset(out, 0, sizeof(*out));
    out->depth = -1;
    if (ctx == NULL) {
        ctx =
            client_ctx_new(o->trust, o->version, o->verify_none, o->cb,
                           o->prepare_only ? NULL : o->pin, o->pin == NULL || o->ssl_before_attach);
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL) {
        harness_die("SSL_new");
    }
    if (o->ssl_before_attach && certpin_openssl_attach_ctx(ctx, o->pin) != CERTPIN_OK) {
        harness_die("certpin_openssl_attach_ctx");
    }
    if (o->prepare_only && certpin_openssl_attach(ssl, o->pin) != CERTPIN_OK) {
        harness_die("certpin_openssl_attach");
    }
    if (!set_hosts(ssl, o, host)) {
        harness_die("setting the host");
    }
    if (o->session != NULL && SSL_set_session(ssl, o->session) != 1) {
        harness_die("SSL_set_session");
    }
    fd = socket(family, SOCK_STREAM, 0);
    len = harness_loopback(family, o->port, &ss);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
        (void)fprintf(stderr, "harness: connect: %s\n", strerror(errno));
        if (fd >= 0) {
            (void)close(fd);
        }
        SSL_free(ssl);
        if (o->ctx == NULL) {
            SSL_CTX_free(ctx);
        }
        return 0;
    }
    harness_set_timeouts(fd);
    (void)SSL_set_fd(ssl, fd);
    atomic_store(&app_cb_calls, 0);
    ERR_clear_error();
    r = SSL_connect(ssl);
    out->app_cb_calls = atomic_load(&app_cb_calls);
    if (r == 1) {
        static const char request[] = "GET /secret API-KEY\n";
        char buf[64];
        /* A reference, so that a ticket's copy cannot be allocated at the same address. */
        SSL_SESSION *handshake_session = SSL_get1_session(ssl);
        out->connected = 1;
        out->reused = SSL_session_reused(ssl);
        if (SSL_write(ssl, request, (int)strlen(request)) > 0 &&
            SSL_read(ssl, buf, sizeof(buf)) > 0) {
            out->replied = 1;
        }
        out->session_replaced = SSL_get_session(ssl) != handshake_session;
        SSL_SESSION_free(handshake_session);
    } else {
        unsigned long e = ERR_peek_error();
        out->ssl_get_error = SSL_get_error(ssl, r);
        if (e != 0) {
            ERR_error_string_n(e, out->ssl_error, sizeof(out->ssl_error));
        }
    }
    out->verify_result = SSL_get_verify_result(ssl);
    copy_result(ssl, out);
    if (o->want_session) {
        out->session = SSL_get1_session(ssl);
    }
    if (r == 1) {
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    (void)close(fd);
    if (o->ctx == NULL) {
        SSL_CTX_free(ctx);
    }
    ERR_clear_error();
    return 1;
}
