/* The conformance suite's OpenSSL column: the harness's OpenSSL client (harness_openssl.c). The
 * adapter tags the SSL_SESSION itself, so a session offered with SSL_set_session is what certpin
 * checks at the ClientHello: OFFER_DIRECT and OFFER_CERTPIN are the same call. */
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "harness_openssl.h"

static int run(const conn_opts *o, conn_outcome *out)
{
    client_opts co;
    client_outcome c;

    memset(&co, 0, sizeof(co));
    memset(out, 0, sizeof(*out));
    co.port = o->port;
    co.family = o->family;
    co.version = o->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    co.trust = o->trust;
    co.pin = o->pin;
    co.host = o->host;
    co.ip = o->ip;
    co.hosts = o->given == GIVE_NONE ? HOST_NONE : o->given == GIVE_IP ? HOST_IP : HOST_NAME;
    co.verify_none = o->verify_off;
    /* SSL_set_session replaces the session to offer: the last one set counts. */
    co.session = (SSL_SESSION *)(o->session2 != NULL ? o->session2 : o->session);
    co.want_session = o->want_session;
    if (!client_run(&co, &c)) {
        return 0;
    }
    out->connected = c.connected;
    out->replied = c.replied;
    out->resumed = c.reused;
    out->has_result = c.has_result;
    out->verdict = c.verdict;
    out->warnings = c.warnings;
    out->depth = c.depth;
    (void)snprintf(out->host, sizeof(out->host), "%s", c.host);
    (void)snprintf(out->reason, sizeof(out->reason), "%s", c.reason);
    (void)snprintf(out->policy_id, sizeof(out->policy_id), "%s", c.policy_id);
    (void)snprintf(out->error, sizeof(out->error), "%s", c.ssl_error);
    out->session = c.session;
    return 1;
}

static void session_free(void *session) { SSL_SESSION_free(session); }

const column column_openssl = {
    .name = "openssl",
    .tls13 = 1,
    .ip_san = 1,
    .owns_sessions = 0,
    .sees_direct_offer = 1,
    .binds_tls13_resumption = 1,
    .guards_handshake = 0,
    .offers_sessions = 1,
    .drops_stale_sessions = 0,
    .gives_no_host = 1,
    .verifies_when_off = 1,
    .refusal = {"certificate verify failed", "callback failed"},
    .run = run,
    .session_free = session_free,
};
