/* certpin: the mbedTLS adapter (mbedTLS 2.28, TLS 1.2; written and tested against Debian 12's
 * libmbedtls-dev 2.28.3).
 *
 * How it works. certpin_mbedtls_attach() installs a verification callback on one connection
 * (mbedtls_ssl_set_verify). mbedTLS calls it for each certificate of the chain it *built* from its
 * trust store, from the trust anchor down to the leaf, with the flags its own verification set
 * (chain, validity, and the host name given to mbedtls_ssl_set_hostname). certpin records each
 * certificate's SubjectPublicKeyInfo (its raw bytes, pk_raw) and flags, and at the leaf hands the
 * chain to the core, but only when every certificate's flags are 0: pins are never trusted on a
 * chain mbedTLS did not verify. A rejection *returns an error* from the callback
 * (MBEDTLS_ERR_X509_FATAL_ERROR), which fails the handshake whatever the authmode: mbedTLS ignores
 * MBEDTLS_ERR_X509_CERT_VERIFY_FAILED and flags under MBEDTLS_SSL_VERIFY_OPTIONAL. The
 * application's own verification callback (mbedtls_ssl_conf_verify, or mbedtls_ssl_set_verify
 * before attaching) still runs, first, for every certificate; a chain it lets through that
 * mbedTLS's flags refuse is still refused.
 *
 * The authmode. Under MBEDTLS_SSL_VERIFY_NONE mbedTLS verifies nothing and calls no callback, and
 * under OPTIONAL it goes on after a failed verification. certpin sets MBEDTLS_SSL_VERIFY_REQUIRED
 * for each handshake of an attached connection (mbedtls_ssl_set_hs_authmode, at its
 * ClientHello): pinning narrows verification, it never runs without it. So, as with OpenSSL's
 * SSL_VERIFY_NONE, an application that turned verification off still gets it.
 *
 * The host. mbedTLS checks a name only when mbedtls_ssl_set_hostname() was called, and certpin
 * looks up exactly that name: without one the handshake fails closed. A name the server supplies
 * never chooses the entry. mbedTLS 2.28 does not match IP addresses against iPAddress
 * subjectAltNames, so a connection to an IP literal fails mbedTLS's own name check.
 *
 * The guard. Some handshakes never call the verification callback: a resumed session (mbedTLS has
 * no public "was this resumed"), a ciphersuite without certificates (PSK), an authmode set to NONE
 * after certpin set it, a callback replaced after attaching. So certpin also wraps the
 * connection's send callback (the BIO set with mbedtls_ssl_set_bio, which must be set before
 * attaching) and lets nothing but the ClientHello and alerts out of a handshake it has not cleared:
 * either its callback accepted the chain in this handshake (and mbedTLS's later checks of the
 * leaf, key usage and curve, left the verification result at 0), or the handshake resumed a
 * session that certpin_mbedtls_session_set() offered, tagged with certpin's accepted verdict under
 * the policy in force for this host. Anything else fails the handshake
 * (MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED) before the client's Finished, so no application byte is
 * ever sent on it, and the result says why.
 *
 * Resumption. Save and offer sessions through certpin: certpin_mbedtls_session_save() (instead of
 * mbedtls_ssl_get_session) keeps certpin's verdict with the session, and
 * certpin_mbedtls_session_set() (instead of mbedtls_ssl_set_session) offers it; its ClientHello
 * goes out only when that verdict was reached under the current policy for the same host. A
 * session offered with mbedtls_ssl_set_session() is refused at the ClientHello too: in both cases
 * nothing is sent and the connection must start again without the session.
 *
 * Do not, after attaching: call mbedtls_ssl_set_bio() (it removes the guard: certpin then fails
 * every full handshake, saying so, but can no longer see a resumed one) or mbedtls_ssl_set_verify()
 * (certpin's check no longer runs: the guard fails the handshake). Renegotiation (off unless the
 * application enables it) goes through the same callback and guard as the first handshake; no test
 * covers it yet. DTLS and server connections are refused.
 */
#ifndef CERTPIN_MBEDTLS_H
#define CERTPIN_MBEDTLS_H

#include <mbedtls/ssl.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One connection's attachment: the guard's state and the connection's result. */
typedef struct certpin_mbedtls certpin_mbedtls;

/* A session saved by certpin_mbedtls_session_save(): mbedTLS's session and certpin's verdict on it.
 */
typedef struct certpin_mbedtls_session certpin_mbedtls_session;

/* Pins ssl with pin: installs the verification callback and wraps the send and receive callbacks.
 * ssl must be set up (mbedtls_ssl_setup) with a client, stream (TLS) configuration, and have its
 * BIO set (mbedtls_ssl_set_bio); the host name may be set before or after. Takes its own reference
 * to pin. *out receives the attachment (yours: free it with certpin_mbedtls_free once ssl does no
 * more I/O, before or after mbedtls_ssl_free). ssl is kept, not owned. Attach before the
 * handshake, once per ssl (mbedtls_ssl_session_reset keeps the attachment for the next
 * connection). Fails, changing nothing, with CERTPIN_E_ARG (err says why) or CERTPIN_E_NOMEM.
 * Not thread-safe with respect to other uses of ssl. */
CERTPIN_API certpin_status certpin_mbedtls_attach(mbedtls_ssl_context *ssl, certpin_ctx *pin,
                                                  certpin_mbedtls **out, certpin_error *err);

/* Frees the attachment and drops its reference to the context. NULL-safe. ssl must do no more I/O
 * afterwards (mbedtls_ssl_free does none). */
CERTPIN_API void certpin_mbedtls_free(certpin_mbedtls *cm);

/* The connection's result: certpin's verdict on its last handshake (CERTPIN_NOT_CHECKED before
 * one), the entry, the explanation. A rejection by the guard (see above) is
 * CERTPIN_REJECTED_ERROR with the reason. Borrowed from cm, valid until its next handshake or
 * certpin_mbedtls_free. Never NULL for a non-NULL cm. */
CERTPIN_API const certpin_result *certpin_mbedtls_result(const certpin_mbedtls *cm);

/* Saves the session of cm's connection, with certpin's verdict, for certpin_mbedtls_session_set.
 * Call after a handshake that certpin accepted (CERTPIN_E_ARG otherwise: nothing is saved).
 * *out receives a new session (yours: certpin_mbedtls_session_free). CERTPIN_E_CRYPTO when
 * mbedtls_ssl_get_session fails. */
CERTPIN_API certpin_status certpin_mbedtls_session_save(certpin_mbedtls *cm,
                                                        certpin_mbedtls_session **out);

/* Offers session on cm's next handshake (mbedtls_ssl_set_session). Its ClientHello goes out only
 * if certpin accepted the session under the policy then in force for the host then set on the
 * connection; otherwise the handshake fails before anything is sent (CERTPIN_REJECTED_ERROR,
 * reported, the reason says why): drop the session and connect again without it. Returns
 * CERTPIN_E_ARG when that is already the case now (a policy change, another host), CERTPIN_OK
 * when the session will be offered as things stand. session is borrowed for the call. */
CERTPIN_API certpin_status certpin_mbedtls_session_set(certpin_mbedtls *cm,
                                                       const certpin_mbedtls_session *session);

/* Frees a saved session. NULL-safe. */
CERTPIN_API void certpin_mbedtls_session_free(certpin_mbedtls_session *session);

/* The pin of a certificate: SHA-256 over its SubjectPublicKeyInfo exactly as in the certificate
 * (crt->pk_raw). Only the first certificate of a chain. */
CERTPIN_API certpin_status certpin_mbedtls_cert_pin(const mbedtls_x509_crt *crt,
                                                    unsigned char pin[CERTPIN_PIN_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* CERTPIN_MBEDTLS_H */
