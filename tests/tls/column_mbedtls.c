/* The conformance suite's mbedTLS column: a TLS 1.2 client on mbedTLS 2.28 sockets
 * (mbedtls_net_*), pinned with certpin_mbedtls_attach. Turning verification off is
 * MBEDTLS_SSL_VERIFY_NONE; a session is offered with certpin_mbedtls_session_set or, directly,
 * mbedtls_ssl_set_session. Writes go out at most SHORT_WRITE bytes at a time, as a congested
 * socket takes them: mbedTLS then hands each record to the send callback in pieces, and certpin's
 * guard must take a ClientHello sent in pieces for the one ClientHello it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "certpin/mbedtls.h"
#include "conformance.h"

#define SHORT_WRITE 40

static int short_send(void *ctx, const unsigned char *buf, size_t len)
{
    return mbedtls_net_send(ctx, buf, len < SHORT_WRITE ? len : SHORT_WRITE);
}

/* What a connection leaves: the raw session, and certpin's tagged one when it accepted. */
typedef struct mb_session {
    mbedtls_ssl_session raw;
    certpin_mbedtls_session *tagged;
} mb_session;

static void session_free(void *p)
{
    mb_session *s = p;
    if (s != NULL) {
        mbedtls_ssl_session_free(&s->raw);
        certpin_mbedtls_session_free(s->tagged);
        free(s);
    }
}

static void set_error(conn_outcome *out, const char *what, int ret)
{
    char text[160];
    mbedtls_strerror(ret, text, sizeof(text));
    (void)snprintf(out->error, sizeof(out->error), "%s: -0x%04x %s", what, (unsigned)-ret, text);
}

/* An application's verification callback that keeps mbedTLS's flags. */
static int accept_all(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    (void)p;
    (void)crt;
    (void)depth;
    (void)flags;
    return 0;
}

static int run(const conn_opts *o, conn_outcome *out)
{
    const char *host = o->host != NULL ? o->host : "api.example.com";
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    certpin_mbedtls *cm = NULL;
    certpin_error err;
    char port[16];
    int ret;

    memset(out, 0, sizeof(*out));
    out->depth = -1;
    out->resumed = -1; /* mbedTLS cannot say: the server's count does */
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    (void)snprintf(port, sizeof(port), "%d", o->port);

    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                              (const unsigned char *)"certpin", 7) != 0 ||
        mbedtls_x509_crt_parse_file(&ca, pki_path(o->trust)) != 0 ||
        mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        harness_die("mbedTLS set-up");
    }
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&conf, o->verify_off ? MBEDTLS_SSL_VERIFY_NONE
                                                   : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    if (mbedtls_ssl_setup(&ssl, &conf) != 0) {
        harness_die("mbedtls_ssl_setup");
    }
    if (o->given != GIVE_NONE &&
        mbedtls_ssl_set_hostname(&ssl, o->given == GIVE_IP ? o->ip : host) != 0) {
        harness_die("mbedtls_ssl_set_hostname");
    }
    ret = mbedtls_net_connect(&net, o->family == AF_INET6 ? "::1" : "127.0.0.1", port,
                              MBEDTLS_NET_PROTO_TCP);
    if (ret != 0) {
        set_error(out, "connect", ret);
        (void)fprintf(stderr, "harness: %s\n", out->error);
        return 0;
    }
    harness_set_timeouts(net.fd);
    mbedtls_ssl_set_bio(&ssl, &net, short_send, mbedtls_net_recv, NULL);
    if (o->pin != NULL && certpin_mbedtls_attach(&ssl, o->pin, &cm, &err) != CERTPIN_OK) {
        (void)fprintf(stderr, "certpin_mbedtls_attach: %s\n", err.text);
        harness_die("certpin_mbedtls_attach");
    }
    if (o->replace_verify) {
        mbedtls_ssl_set_verify(&ssl, accept_all, NULL);
    }
    if (o->session != NULL) {
        const mb_session *s = o->session;
        if (o->offer == OFFER_CERTPIN && cm != NULL && s->tagged != NULL) {
            /* Refused: nothing is offered, and the handshake is a full one. */
            (void)certpin_mbedtls_session_set(cm, s->tagged);
        } else if (mbedtls_ssl_set_session(&ssl, &s->raw) != 0) {
            harness_die("mbedtls_ssl_set_session");
        }
    }
    if (o->session2 != NULL &&
        mbedtls_ssl_set_session(&ssl, &((const mb_session *)o->session2)->raw) != 0) {
        harness_die("mbedtls_ssl_set_session");
    }
    do {
        ret = mbedtls_ssl_handshake(&ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret == 0) {
        static const char request[] = "GET /secret API-KEY\n";
        unsigned char reply[64];
        out->connected = 1;
        if (mbedtls_ssl_write(&ssl, (const unsigned char *)request, strlen(request)) > 0 &&
            mbedtls_ssl_read(&ssl, reply, sizeof(reply)) > 0) {
            out->replied = 1;
        }
        if (o->want_session) {
            mb_session *s = calloc(1, sizeof(*s));
            if (s == NULL) {
                harness_die("calloc");
            }
            mbedtls_ssl_session_init(&s->raw);
            if (mbedtls_ssl_get_session(&ssl, &s->raw) != 0) {
                harness_die("mbedtls_ssl_get_session");
            }
            if (cm != NULL && certpin_mbedtls_session_save(cm, &s->tagged) != CERTPIN_OK) {
                s->tagged = NULL;
            }
            out->session = s;
        }
        (void)mbedtls_ssl_close_notify(&ssl);
    } else {
        set_error(out, "mbedtls_ssl_handshake", ret);
    }
    if (cm != NULL) {
        outcome_from_result(certpin_mbedtls_result(cm), out);
    }
    certpin_mbedtls_free(cm);
    mbedtls_ssl_free(&ssl);
    mbedtls_net_free(&net);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return 1;
}

const column column_mbedtls = {
    .name = "mbedtls",
    .tls13 = 0,
    .ip_san = 0,
    .owns_sessions = 1,
    .sees_direct_offer = 1,
    .binds_tls13_resumption = 0,
    .guards_handshake = 1,
    .offers_sessions = 1,
    .drops_stale_sessions = 0,
    .gives_no_host = 1,
    .verifies_when_off = 1,
    /* MBEDTLS_ERR_X509_FATAL_ERROR from the callback, MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED from
     * the guard */
    .refusal = {"-0x3000", "-0x7800"},
    .run = run,
    .session_free = session_free,
};
