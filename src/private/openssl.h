/* What integrations built on the OpenSSL adapter (adapters/curl.c) need of a connection beyond
 * the public API. Not exported. */
#ifndef CP_OPENSSL_H
#define CP_OPENSSL_H

#include <openssl/ssl.h>

#include "certpin/core.h"

/* As certpin_openssl_attach(ssl, pin), and: port is the port reports name (an integration whose
 * SSL is not on a socket knows it; 0 keeps the socket's); refusal, when not NULL, makes the
 * ClientHello checkpoint refuse the connection before anything is sent, with the verdict
 * CERTPIN_REJECTED_ERROR and refusal (copied) as the reason. Call before the handshake. */
certpin_status cp_openssl_attach_conn(SSL *ssl, certpin_ctx *pin, int port, const char *refusal);

/* Non-zero when the ClientHello checkpoint would let ssl offer sess: certpin verified it, under
 * the policy now in force, for the host set on ssl. Reports nothing, changes nothing. */
int cp_openssl_session_resumable(SSL *ssl, const SSL_SESSION *sess);

#endif /* CP_OPENSSL_H */
