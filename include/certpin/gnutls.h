/* certpin: the GnuTLS adapter (GnuTLS 3.7, TLS 1.2 and 1.3; written and tested against Debian 12's
 * libgnutls28-dev 3.7.9).
 *
 * How it works. certpin_gnutls_attach() installs a verification function on one session
 * (gnutls_session_set_verify_function), which GnuTLS calls when the server's certificate arrives.
 * A verification function of one's own *replaces* GnuTLS's automatic chain and host name
 * verification (gnutls_session_set_verify_cert), so certpin runs it itself:
 * gnutls_certificate_verify_peers() with the host name given to certpin and the TLS server key
 * purpose, against the session's credentials (their trust list, flags and limits), exactly as
 * gnutls_session_set_verify_cert(session, host, 0) would. A failure fails the handshake
 * (GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, verdict CERTPIN_REJECTED_UNVERIFIED).
 *
 * The verified path. GnuTLS hands over the chain as the server sent it, which a server can pad with
 * any certificate, pinned ones included (CVE-2016-2402). certpin pins only the certificates on the
 * path verification actually used: the (certificate, issuer) pairs GnuTLS reports to a verification
 * output function (gnutls_session_set_verify_output_function), from the leaf to the trust anchor.
 * That function takes no user pointer, so certpin's is per thread; it is set on the session at
 * attach: do not set your own afterwards (certpin then sees no path and refuses).
 *
 * The keys. GnuTLS has no call that gives a certificate's SubjectPublicKeyInfo as it is encoded in
 * the certificate; certpin takes GnuTLS's DER encoding of the key (gnutls_pubkey_export2), which
 * is the certificate's for RSA, EC (named curves) and EdDSA keys, DER being unique. A key encoded
 * otherwise in a certificate would not match its pin (the connection fails, never the reverse).
 *
 * The host is the one given to certpin_gnutls_attach(), both verified and looked up (and not the
 * name the server supplies). NULL fails every handshake closed.
 *
 * Last set wins. A later gnutls_session_set_verify_cert() or gnutls_session_set_verify_function()
 * by the application silently removes certpin's function. certpin detects it: it also installs a
 * handshake hook (gnutls_handshake_set_hook_function) that, before the client's Finished is sent,
 * fails every handshake in which certpin's check did not run and that did not resume a session
 * certpin offered; the result says so (CERTPIN_REJECTED_ERROR). Do not set a handshake hook of your
 * own after attaching: it replaces certpin's, and then only full handshakes are checked.
 *
 * Resumption skips the verification function, in TLS 1.2 and 1.3. Save and offer sessions through
 * certpin: certpin_gnutls_session_save() (instead of gnutls_session_get_data2) keeps certpin's
 * verdict, the policy identity, the host and the server's certificate with the session data, and
 * certpin_gnutls_session_set() (instead of gnutls_session_set_data) offers it. Its ClientHello goes
 * out only if that verdict holds under the policy then in force for the same host; and a resumed
 * handshake passes the hook only if it resumed that session (the same server certificate: a TLS
 * 1.2 check only, as a TLS 1.3 client learns the certificate of a resumed session only after its
 * Finished; under TLS 1.3 a session set with gnutls_session_set_data *after*
 * certpin_gnutls_session_set in the same handshake passes as the one certpin offered). A
 * session set with gnutls_session_set_data() is refused by the hook, before the client's Finished:
 * no application data is ever sent on it (TLS 1.3 early data is sent before any check: do not use
 * GNUTLS_ENABLE_EARLY_DATA with certpin).
 *
 * certpin's state lives in the session (as the data of a TLS extension certpin registers for the
 * session and never sends, 0xFF5A from the private-use range): gnutls_deinit frees it.
 */
#ifndef CERTPIN_GNUTLS_H
#define CERTPIN_GNUTLS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A session saved by certpin_gnutls_session_save(): GnuTLS's session data and certpin's verdict. */
typedef struct certpin_gnutls_session certpin_gnutls_session;

/* Pins session (a client session, before its handshake) with pin, for host: the name the
 * application connects to (copied), which certpin verifies and looks up; NULL makes every
 * handshake fail closed. Takes its own reference to pin, kept until gnutls_deinit(session).
 * Installs the session's verification function, verification output function and handshake hook
 * (see above). Attaching again replaces the context and host. Fails with CERTPIN_E_ARG (err says
 * why), CERTPIN_E_NOMEM or CERTPIN_E_CRYPTO (GnuTLS refused), changing nothing that matters: the
 * session is then not pinned. Not thread-safe with respect to other uses of session. */
CERTPIN_API certpin_status certpin_gnutls_attach(gnutls_session_t session, certpin_ctx *pin,
                                                 const char *host, certpin_error *err);

/* The session's result: certpin's verdict on its last handshake (CERTPIN_NOT_CHECKED before one),
 * the entry, the explanation. Borrowed from session, valid until its next handshake or
 * gnutls_deinit. NULL when certpin is not attached to session. */
CERTPIN_API const certpin_result *certpin_gnutls_result(gnutls_session_t session);

/* Saves session's resumption data (gnutls_session_get_data2) with certpin's verdict, for
 * certpin_gnutls_session_set. Call after a handshake that certpin accepted (CERTPIN_E_ARG
 * otherwise: nothing is saved); under TLS 1.3, after the server's ticket arrived (after the first
 * gnutls_record_recv). *out receives a new session (yours: certpin_gnutls_session_free). */
CERTPIN_API certpin_status certpin_gnutls_session_save(gnutls_session_t session,
                                                       certpin_gnutls_session **out);

/* Offers saved on session's next handshake (gnutls_session_set_data). Its ClientHello goes out
 * only if certpin accepted the session under the policy then in force for the host given at
 * attach; otherwise the handshake fails before anything is sent (CERTPIN_REJECTED_ERROR,
 * reported): drop the session and connect again without it. Returns CERTPIN_E_ARG when that is
 * already the case now, CERTPIN_OK when it will be offered as things stand, CERTPIN_E_CRYPTO when
 * GnuTLS refuses the data. saved is borrowed for the call. */
CERTPIN_API certpin_status certpin_gnutls_session_set(gnutls_session_t session,
                                                      const certpin_gnutls_session *saved);

/* Frees a saved session. NULL-safe. */
CERTPIN_API void certpin_gnutls_session_free(certpin_gnutls_session *saved);

/* The pin of a certificate: SHA-256 over GnuTLS's DER SubjectPublicKeyInfo of its key (see
 * above). */
CERTPIN_API certpin_status certpin_gnutls_cert_pin(gnutls_x509_crt_t crt,
                                                   unsigned char pin[CERTPIN_PIN_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* CERTPIN_GNUTLS_H */
