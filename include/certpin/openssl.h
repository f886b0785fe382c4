/* certpin: the OpenSSL adapter (OpenSSL 3.0 and later).
 *
 * How it works. certpin_openssl_attach_ctx() installs a certificate verification callback on the
 * SSL_CTX (SSL_CTX_set_cert_verify_callback). Inside the handshake it runs OpenSSL's own chain and
 * host name verification (X509_verify_cert, which also calls any per-depth verify callback the
 * application set with SSL_CTX_set_verify: the adapter chains to it), and only when that succeeded
 * it hands the chain OpenSSL *built* (X509_STORE_CTX_get0_chain) to the core: never the
 * certificates the server sent. A rejection fails the handshake before the application can send a
 * byte, whatever verify mode the application set: under SSL_VERIFY_NONE a pinned connection is
 * switched to SSL_VERIFY_PEER when it fails, so OpenSSL does not ignore the failure.
 *
 * The host looked up is the one the application asked OpenSSL to verify: SSL_set1_host() (or
 * X509_VERIFY_PARAM_set1_host / set1_ip_asc on SSL_get0_param(ssl)). With none set, or with more
 * than one (SSL_add1_host), the connection fails closed. A name the server supplies never chooses
 * the entry.
 *
 * Resumption skips certificate verification. Every SSL_SESSION the adapter accepts carries a tag
 * (policy identity, canonical host, verdict); when a ClientHello would offer a session whose tag
 * does not match the current policy and host (a session from before a policy change, from an
 * unpinned context, for another host), the handshake is refused before anything is sent beyond
 * the ClientHello. Drop such sessions and connect again for a full handshake.
 *
 * Do not call SSL_CTX_set_cert_verify_callback() after attaching: it would replace certpin's
 * callback. certpin_openssl_result() then reports CERTPIN_NOT_CHECKED, which an application
 * should treat as a failure.
 */
#ifndef CERTPIN_OPENSSL_H
#define CERTPIN_OPENSSL_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Attaches pin to every connection made from ctx from now on (call it before SSL_new). Takes its
 * own reference to pin; pin may be NULL to only prepare ctx for per-connection attachment with
 * certpin_openssl_attach(). Calling it again replaces the context. Not thread-safe with respect to
 * other changes of ctx (as with any SSL_CTX setting). */
CERTPIN_API certpin_status certpin_openssl_attach_ctx(SSL_CTX *ctx, certpin_ctx *pin);

/* Attaches pin to one connection, overriding the SSL_CTX's context. ssl must come from an
 * SSL_CTX prepared by certpin_openssl_attach_ctx (CERTPIN_E_ARG otherwise). Takes its own
 * reference to pin. Call before the handshake. */
CERTPIN_API certpin_status certpin_openssl_attach(SSL *ssl, certpin_ctx *pin);

/* The connection's result: the verdict, the entry, the explanation. Borrowed from ssl, valid
 * until SSL_free (or the next handshake). NULL when certpin is not attached to ssl. */
CERTPIN_API const certpin_result *certpin_openssl_result(const SSL *ssl);

/* Verifies a chain outside a handshake, exactly as the handshake callback does: X509_verify_cert
 * on store_ctx (initialised by the caller with the trust store, the leaf, the untrusted
 * certificates, and the verify parameters: host or IP, time), then the pin check on the chain
 * OpenSSL built, for the host set in the parameters. now is the time for entry expiry.
 * result receives the outcome: CERTPIN_REJECTED_UNVERIFIED with the reason when OpenSSL's own
 * verification failed. Returns CERTPIN_OK when a verdict was reached. */
CERTPIN_API certpin_status certpin_openssl_check_store_ctx(certpin_ctx *pin,
                                                           X509_STORE_CTX *store_ctx, int port,
                                                           certpin_result *result);

/* The DER SubjectPublicKeyInfo of a certificate and its pin (exactly the bytes in the
 * certificate). */
CERTPIN_API certpin_status certpin_openssl_cert_pin(X509 *cert, unsigned char pin[CERTPIN_PIN_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* CERTPIN_OPENSSL_H */
