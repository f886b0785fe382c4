/* The conformance suite's GnuTLS column: a GnuTLS 3.7 client (TLS 1.2 or 1.3 by priority string)
 * pinned with certpin_gnutls_attach. As an application would, it asks GnuTLS to verify the host
 * (gnutls_session_set_verify_cert) before attaching, which certpin's function replaces; turning
 * verification off is not asking. A session is offered with certpin_gnutls_session_set or,
 * directly, gnutls_session_set_data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "certpin/gnutls.h"
#include "conformance.h"

typedef struct gt_session {
    gnutls_datum_t raw;
    certpin_gnutls_session *tagged;
} gt_session;

static void session_free(void *p)
{
    gt_session *s = p;
    if (s != NULL) {
        gnutls_free(s->raw.data);
        certpin_gnutls_session_free(s->tagged);
        free(s);
    }
}

static int run(const conn_opts *o, conn_outcome *out)
{
    const char *host = o->host != NULL ? o->host : "api.example.com";
    const char *name = o->given == GIVE_NAME ? host : o->given == GIVE_IP ? o->ip : NULL;
    gnutls_certificate_credentials_t cred;
    gnutls_session_t session;
    struct sockaddr_storage ss;
    socklen_t len;
    certpin_error err;
    int fd;
    int ret;

    memset(out, 0, sizeof(*out));
    out->depth = -1;
    if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
        gnutls_certificate_set_x509_trust_file(cred, pki_path(o->trust), GNUTLS_X509_FMT_PEM) <=
            0 ||
        gnutls_init(&session, GNUTLS_CLIENT) < 0 ||
        gnutls_priority_set_direct(
            session, o->tls13 ? "NORMAL:-VERS-ALL:+VERS-TLS1.3" : "NORMAL:-VERS-ALL:+VERS-TLS1.2",
            NULL) < 0 ||
        gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) < 0) {
        harness_die("GnuTLS set-up");
    }
    if (o->given == GIVE_NAME &&
        gnutls_server_name_set(session, GNUTLS_NAME_DNS, host, strlen(host)) < 0) {
        harness_die("gnutls_server_name_set");
    }
    if (!o->verify_off) {
        gnutls_session_set_verify_cert(session, name, 0);
    }
    if (o->pin != NULL && certpin_gnutls_attach(session, o->pin, name, &err) != CERTPIN_OK) {
        (void)fprintf(stderr, "certpin_gnutls_attach: %s\n", err.text);
        harness_die("certpin_gnutls_attach");
    }
    if (o->replace_verify) {
        gnutls_session_set_verify_cert(session, name, 0);
    }
    if (o->session != NULL) {
        const gt_session *s = o->session;
        if (o->offer == OFFER_CERTPIN && o->pin != NULL && s->tagged != NULL) {
            (void)certpin_gnutls_session_set(session, s->tagged);
        } else if (gnutls_session_set_data(session, s->raw.data, s->raw.size) < 0) {
            harness_die("gnutls_session_set_data");
        }
    }
    if (o->session2 != NULL) {
        const gt_session *s2 = o->session2;
        if (gnutls_session_set_data(session, s2->raw.data, s2->raw.size) < 0) {
            harness_die("gnutls_session_set_data");
        }
    }
    fd = socket(o->family, SOCK_STREAM, 0);
    len = harness_loopback(o->family, o->port, &ss);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
        (void)fprintf(stderr, "harness: connect failed\n");
        if (fd >= 0) {
            (void)close(fd);
        }
        gnutls_deinit(session);
        gnutls_certificate_free_credentials(cred);
        return 0;
    }
    harness_set_timeouts(fd);
    gnutls_transport_set_int(session, fd);
    do {
        ret = gnutls_handshake(session);
    } while (ret < 0 && !gnutls_error_is_fatal(ret));
    if (ret == 0) {
        static const char request[] = "GET /secret API-KEY\n";
        char reply[64];
        out->connected = 1;
        out->resumed = gnutls_session_is_resumed(session) != 0;
        ssize_t n = 0;
        if (gnutls_record_send(session, request, strlen(request)) > 0) {
            /* Under TLS 1.3 the server's tickets come first: GnuTLS then asks to call again. */
            do {
                n = gnutls_record_recv(session, reply, sizeof(reply));
            } while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
            if (n <= 0) {
                (void)snprintf(out->error, sizeof(out->error), "gnutls_record_recv: %s",
                               gnutls_strerror((int)n));
            }
        }
        out->replied = n > 0;
        if (o->want_session) {
            /* Under TLS 1.3 the session is the ticket, which came with the reply. */
            gt_session *s = calloc(1, sizeof(*s));
            if (s == NULL || gnutls_session_get_data2(session, &s->raw) < 0) {
                harness_die("gnutls_session_get_data2");
            }
            if (o->pin != NULL && certpin_gnutls_session_save(session, &s->tagged) != CERTPIN_OK) {
                s->tagged = NULL;
            }
            out->session = s;
        }
        (void)gnutls_bye(session, GNUTLS_SHUT_WR);
    } else {
        (void)snprintf(out->error, sizeof(out->error), "gnutls_handshake: %s",
                       gnutls_strerror(ret));
    }
    if (o->pin != NULL) {
        outcome_from_result(certpin_gnutls_result(session), out);
    }
    gnutls_deinit(session);
    (void)close(fd);
    gnutls_certificate_free_credentials(cred);
    return 1;
}

const column column_gnutls = {
    .name = "gnutls",
    .tls13 = 1,
    .ip_san = 1,
    .owns_sessions = 1,
    .sees_direct_offer = 0,
    .binds_tls13_resumption = 0,
    .guards_handshake = 1,
    .offers_sessions = 1,
    .drops_stale_sessions = 0,
    .gives_no_host = 1,
    .verifies_when_off = 1,
    .refusal = {"Error in the certificate"},
    .run = run,
    .session_free = session_free,
};
