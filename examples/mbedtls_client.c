/* mbedtls_client: an mbedTLS 2.28 client whose connection is pinned by certpin.
 *
 *   mbedtls_client POLICY.json CAFILE HOST ADDRESS PORT
 *
 * Connects to ADDRESS:PORT, verifies the server as HOST against CAFILE and the policy, sends one
 * request and prints certpin's verdict. Exit status: 0 accepted, 1 rejected, 2 usage or setup.
 * Build it against libcertpin-mbedtls (pkg-config certpin-mbedtls): it links no OpenSSL.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <certpin/certpin.h>
#include <certpin/mbedtls.h>

int main(int argc, char **argv)
{
    certpin_error err;
    certpin_policy *policy;
    certpin_ctx *pin;
    certpin_mbedtls *cm = NULL;
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    const certpin_result *result;
    const char *host;
    char request[512];
    unsigned char reply[256];
    char text[160];
    int ret;
    int accepted;

    if (argc != 6) {
        fprintf(stderr, "usage: %s POLICY.json CAFILE HOST ADDRESS PORT\n", argv[0]);
        return 2;
    }
    host = argv[3];

    /* The policy. One that does not load is an error, never "no pinning". */
    policy = certpin_policy_load_file(argv[1], NULL, &err);
    if (policy == NULL) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.source, err.line, err.column, err.text);
        return 2;
    }
    pin = certpin_ctx_new(policy); /* the context takes its own reference */
    certpin_policy_free(policy);

    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);

    /* mbedTLS's own verification stays on (REQUIRED; certpin would insist anyway): pinning narrows
     * it, never replaces it. TLS 1.2: the highest version mbedTLS 2.28 speaks. */
    if (pin == NULL ||
        mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                              (const unsigned char *)"mbedtls_client", 14) != 0 ||
        mbedtls_x509_crt_parse_file(&ca, argv[2]) != 0 ||
        mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        fprintf(stderr, "cannot set up mbedTLS\n");
        return 2;
    }
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);

    /* One connection. mbedtls_ssl_set_hostname names the host mbedTLS verifies and certpin looks
     * up (and the SNI): without it mbedTLS checks no name, and certpin refuses. certpin is attached
     * after the BIO is set: it wraps the send callback to guard the handshake. */
    if (mbedtls_ssl_setup(&ssl, &conf) != 0 || mbedtls_ssl_set_hostname(&ssl, host) != 0 ||
        mbedtls_net_connect(&net, argv[4], argv[5], MBEDTLS_NET_PROTO_TCP) != 0) {
        fprintf(stderr, "cannot connect to %s port %s\n", argv[4], argv[5]);
        return 2;
    }
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
    if (certpin_mbedtls_attach(&ssl, pin, &cm, &err) != CERTPIN_OK) {
        fprintf(stderr, "certpin: %s\n", err.text);
        return 2;
    }
    do {
        ret = mbedtls_ssl_handshake(&ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);

    /* certpin's verdict on this connection. A handshake that certpin refused never completes, so
     * nothing was sent; a verdict other than accepted means: do not use the connection. */
    result = certpin_mbedtls_result(cm);
    accepted = ret == 0 && certpin_verdict_accepted(certpin_result_verdict(result));
    printf("certpin: %s\n", certpin_verdict_str(certpin_result_verdict(result)));
    if (accepted) {
        snprintf(request, sizeof(request), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
        if (mbedtls_ssl_write(&ssl, (const unsigned char *)request, strlen(request)) > 0 &&
            (ret = mbedtls_ssl_read(&ssl, reply, sizeof(reply) - 1)) > 0) {
            reply[ret] = '\0';
            reply[strcspn((char *)reply, "\r\n")] = '\0';
            printf("server: %s\n", (char *)reply);
        }
        (void)mbedtls_ssl_close_notify(&ssl);
    } else {
        /* What the chain was and what the policy expected, in words; and mbedTLS's error. */
        fprintf(stderr, "%s\n", certpin_result_explain((certpin_result *)result));
        mbedtls_strerror(ret, text, sizeof(text));
        fprintf(stderr, "mbedTLS: -0x%04x %s\n", (unsigned)-ret, text);
    }

    certpin_mbedtls_free(cm);
    mbedtls_ssl_free(&ssl);
    mbedtls_net_free(&net);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    certpin_ctx_free(pin);
    return accepted ? 0 : 1;
}
