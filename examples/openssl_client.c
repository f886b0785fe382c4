/* openssl_client: an OpenSSL client whose connections are pinned by certpin.
 *
 *   openssl_client POLICY.json CAFILE HOST ADDRESS PORT
 *
 * Connects to ADDRESS:PORT, verifies the server as HOST against CAFILE and the policy, sends one
 * request and prints certpin's verdict. Exit status: 0 accepted, 1 rejected, 2 usage or setup.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <certpin/certpin.h>
#include <certpin/openssl.h>

static int tcp_connect(const char *address, const char *port)
{
    struct addrinfo hints;
    struct addrinfo *res;
    struct addrinfo *ai;
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(address, port, &hints, &res) != 0) {
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv)
{
    certpin_error err;
    certpin_policy *policy;
    certpin_ctx *pin;
    SSL_CTX *ctx;
    SSL *ssl;
    const certpin_result *result;
    const char *host;
    char request[512];
    char reply[256];
    int n;
    int fd;
    int connected;
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

    /* OpenSSL's own verification stays on: pinning narrows it, never replaces it. Attach certpin
     * before making connections from the SSL_CTX. */
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || pin == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_load_verify_locations(ctx, argv[2], NULL) != 1 ||
        certpin_openssl_attach_ctx(ctx, pin) != CERTPIN_OK) {
        ERR_print_errors_fp(stderr);
        return 2;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

    /* One connection. SSL_set1_host names the host OpenSSL verifies and certpin looks up: the
     * name the server sends never chooses the pins. SNI tells the server which site we want. */
    ssl = SSL_new(ctx);
    fd = tcp_connect(argv[4], argv[5]);
    if (ssl == NULL || fd < 0 || SSL_set1_host(ssl, host) != 1 ||
        SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set_fd(ssl, fd) != 1) {
        fprintf(stderr, "cannot connect to %s port %s\n", argv[4], argv[5]);
        return 2;
    }
    connected = SSL_connect(ssl) == 1;

    /* certpin's verdict on this connection. A handshake that certpin refused never completes, so
     * nothing was sent; a verdict other than accepted means: do not use the connection. */
    result = certpin_openssl_result(ssl);
    accepted = connected && certpin_verdict_accepted(certpin_result_verdict(result));
    printf("certpin: %s\n", certpin_verdict_str(certpin_result_verdict(result)));
    if (accepted) {
        snprintf(request, sizeof(request), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
        if (SSL_write(ssl, request, (int)strlen(request)) > 0 &&
            (n = SSL_read(ssl, reply, sizeof(reply) - 1)) > 0) {
            reply[n] = '\0';
            reply[strcspn(reply, "\r\n")] = '\0';
            printf("server: %s\n", reply);
        }
        SSL_shutdown(ssl);
    } else if (result != NULL) {
        /* What the chain was and what the policy expected, in words. */
        fprintf(stderr, "%s\n", certpin_result_explain((certpin_result *)result));
    } else {
        ERR_print_errors_fp(stderr);
    }

    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    certpin_ctx_free(pin);
    return accepted ? 0 : 1;
}
