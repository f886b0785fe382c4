/* gnutls_client: a GnuTLS 3.7 client whose connection is pinned by certpin.
 *
 *   gnutls_client POLICY.json CAFILE HOST ADDRESS PORT
 *
 * Connects to ADDRESS:PORT, verifies the server as HOST against CAFILE and the policy, sends one
 * request and prints certpin's verdict. Exit status: 0 accepted, 1 rejected, 2 usage or setup.
 * Build it against libcertpin-gnutls (pkg-config certpin-gnutls): it links no OpenSSL.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include <certpin/certpin.h>
#include <certpin/gnutls.h>

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
    gnutls_certificate_credentials_t cred;
    gnutls_session_t session;
    const certpin_result *result;
    const char *host;
    char request[512];
    char reply[256];
    ssize_t n;
    int ret;
    int fd;
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

    if (pin == NULL || gnutls_certificate_allocate_credentials(&cred) < 0 ||
        gnutls_certificate_set_x509_trust_file(cred, argv[2], GNUTLS_X509_FMT_PEM) <= 0 ||
        gnutls_init(&session, GNUTLS_CLIENT) < 0 || gnutls_set_default_priority(session) < 0 ||
        gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
        gnutls_server_name_set(session, GNUTLS_NAME_DNS, host, strlen(host)) < 0) {
        fprintf(stderr, "cannot set up GnuTLS\n");
        return 2;
    }

    /* certpin's verification function replaces GnuTLS's automatic one
     * (gnutls_session_set_verify_cert) and runs it itself, for host: the name certpin verifies and
     * looks up, never one the server supplies. Attach it last: whichever verification function is
     * set last wins. */
    if (certpin_gnutls_attach(session, pin, host, &err) != CERTPIN_OK) {
        fprintf(stderr, "certpin: %s\n", err.text);
        return 2;
    }
    fd = tcp_connect(argv[4], argv[5]);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s port %s\n", argv[4], argv[5]);
        return 2;
    }
    gnutls_transport_set_int(session, fd);
    do {
        ret = gnutls_handshake(session);
    } while (ret < 0 && !gnutls_error_is_fatal(ret));

    /* certpin's verdict on this connection. A handshake that certpin refused never completes, so
     * nothing was sent; a verdict other than accepted means: do not use the connection. */
    result = certpin_gnutls_result(session);
    accepted = ret == 0 && certpin_verdict_accepted(certpin_result_verdict(result));
    printf("certpin: %s\n", certpin_verdict_str(certpin_result_verdict(result)));
    if (accepted) {
        snprintf(request, sizeof(request), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
        n = 0;
        if (gnutls_record_send(session, request, strlen(request)) > 0) {
            /* Under TLS 1.3 the server's session tickets may come first: GnuTLS then asks to be
             * called again. */
            do {
                n = gnutls_record_recv(session, reply, sizeof(reply) - 1);
            } while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
        }
        if (n > 0) {
            reply[n] = '\0';
            reply[strcspn(reply, "\r\n")] = '\0';
            printf("server: %s\n", reply);
        }
        (void)gnutls_bye(session, GNUTLS_SHUT_WR);
    } else {
        /* What the chain was and what the policy expected, in words; and GnuTLS's error. */
        fprintf(stderr, "%s\n", certpin_result_explain((certpin_result *)result));
        fprintf(stderr, "GnuTLS: %s\n", gnutls_strerror(ret));
    }

    gnutls_deinit(session); /* frees certpin's state for the session */
    close(fd);
    gnutls_certificate_free_credentials(cred);
    certpin_ctx_free(pin);
    return accepted ? 0 : 1;
}
