/* certpin: the libcurl integration (libcurl 7.80 and later with its OpenSSL backend; written
 * and tested against Debian 12's libcurl4-openssl-dev, curl 7.88.1).
 *
 * certpin_curl_attach() makes a curl easy handle enforce a certpin context on every HTTPS
 * transfer: the origin server's TLS connection is checked inside the handshake by the OpenSSL
 * adapter (certpin/openssl.h), and no request is sent over a connection that certpin did not
 * verify under the context's current policy for the URL's host. It takes two of the handle's
 * callbacks:
 *
 *   CURLOPT_SSL_CTX_FUNCTION  (curl 7.88 calls it for every new TLS connection, with a fresh
 *                             SSL_CTX): certpin prepares the SSL_CTX for the adapter. When the
 *                             handshake starts it decides which TLS connection this is (below),
 *                             sets the host for OpenSSL to verify and certpin to look up
 *                             (X509_VERIFY_PARAM_set1_host, or set1_ip_asc for an IP address: curl
 *                             checks the name itself after the handshake and sets none), drops a
 *                             cached session certpin would not resume, and refuses the connection
 *                             when CURLOPT_SSL_VERIFYPEER is off.
 *   CURLOPT_PREREQFUNCTION    (called after a connection was made *or reused*, before the first
 *                             request byte): aborts the transfer unless the URL is https and the
 *                             connection's SSL (CURLINFO_TLS_SSL_PTR) carries certpin's accepted
 *                             verdict for the URL's host under the policy now in force. This is
 *                             what stops a reused connection (a shared connection cache, a policy
 *                             change, a connection made before attaching) from carrying a request.
 *
 * Which connection is the origin's. The host checked is the host of the URL the transfer is
 * connecting for (CURLINFO_EFFECTIVE_URL as curl parsed it: after a redirect, the new URL's host;
 * CURLOPT_CONNECT_TO and CURLOPT_RESOLVE change where curl connects, not the host checked). A TLS
 * connection whose server name (the SNI curl sends: the host curl itself verifies) is not the
 * URL's host, or that sends none when the URL's host is a name, is an HTTPS proxy's: certpin
 * leaves it to curl's own verification (CURLOPT_PROXY_SSL_VERIFYPEER, CURLOPT_PROXY_CAINFO;
 * CURLOPT_PROXY_PINNEDPUBLICKEY pins it) and never judges it by the origin's entry. The origin's
 * TLS connection inside the proxy's tunnel is checked as usual. Limit: curl sends no server name
 * for an IP address, so an HTTPS proxy given as an IP address in front of an origin given as an
 * IP address cannot be told from the origin; certpin then checks both against the origin's entry
 * (the proxy fails unless its certificate is valid for, and pinned as, the origin's address).
 *
 * What a pinned handle refuses (the transfer fails before any request byte is sent):
 *   - a pin failure (any rejected verdict): curl returns CURLE_PEER_FAILED_VERIFICATION, as for
 *     any certificate problem (inside an HTTPS proxy's tunnel curl 7.88 reports every certificate
 *     failure as CURLE_SSL_CONNECT_ERROR); certpin_curl_result() tells it apart and explains it;
 *   - CURLOPT_SSL_VERIFYPEER off: pinning narrows verification, it never runs without it
 *     (CURLE_SSL_CONNECT_ERROR, the result says why). With CURLOPT_SSL_VERIFYHOST off, OpenSSL
 *     still verifies the host name for certpin;
 *   - a URL that is not https (http://, a redirect to one, any other scheme): certpin pins TLS, so
 *     a pinned handle sends nothing in the clear (CURLE_ABORTED_BY_CALLBACK);
 *   - a connection, reused from curl's connection cache, that certpin did not verify under the
 *     policy now in force for this host (CURLE_ABORTED_BY_CALLBACK); the retry connects afresh
 *     (see certpin_curl_result()).
 * TLS session resumption skips certificate verification: certpin resumes only sessions it
 * verified under the current policy for the same host. curl keeps its own session cache
 * (per handle, or shared with CURLSH_SHARE CURL_LOCK_DATA_SSL_SESSION) and offers what it has;
 * certpin drops any other session before the ClientHello, so the connection makes a full
 * handshake (and the session curl stores afterwards replaces the dropped one).
 *
 * Ownership and lifetime. certpin_curl_attach() returns an object you own. The handle's
 * callbacks find it through a number that is never reused, not through its address: calling
 * certpin_curl_free() while the handle still has certpin's callbacks makes the handle refuse
 * every transfer (rather than touch freed memory). Free it after curl_easy_cleanup(), or after
 * certpin_curl_detach(). curl_easy_duphandle() copies the callbacks, not the attachment: a copy's
 * transfers are refused until you call certpin_curl_attach() on it. curl_easy_reset() removes
 * the callbacks: attach again. Connections and sessions outlive the object in curl's caches; what
 * they carry is reference-counted.
 *
 * Threads. A certpin_curl belongs to its easy handle: use it from the thread that uses the handle
 * (libcurl's own rule for easy handles). The certpin context may be shared by any number of
 * handles and threads, and its policy swapped at any time (certpin_ctx_set_policy): a connection
 * verified under the old policy then carries no further request.
 *
 * Options certpin takes. CURLOPT_SSL_CTX_FUNCTION/_DATA and CURLOPT_PREREQFUNCTION/_DATA. Give
 * your own functions to certpin (certpin_curl_set_ssl_ctx_function, _set_prereq_function): it
 * calls them. Setting either option yourself after attaching replaces certpin's: with
 * CURLOPT_SSL_CTX_FUNCTION replaced, no connection carries certpin's verdict and every transfer is
 * refused; with CURLOPT_PREREQFUNCTION replaced, reused connections and resumed sessions are no
 * longer checked before the request, so do not. CURLOPT_PRIVATE stays yours.
 */
#ifndef CERTPIN_CURL_H
#define CERTPIN_CURL_H

#include <curl/curl.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What certpin_curl_attach() returns: the attachment of a certpin context to one easy handle. */
typedef struct certpin_curl certpin_curl;

/* Pins every transfer of easy with pin from the next transfer on: sets easy's
 * CURLOPT_SSL_CTX_FUNCTION, CURLOPT_SSL_CTX_DATA, CURLOPT_PREREQFUNCTION and
 * CURLOPT_PREREQDATA. Takes its own reference to pin. *out receives the attachment (yours: free
 * it with certpin_curl_free after curl_easy_cleanup(easy)). easy is kept (not owned).
 *
 * Fails, changing nothing, with CERTPIN_E_ARG (err says why) when easy or pin or out is NULL, when
 * libcurl's TLS backend is not the OpenSSL this library uses (another backend, or another copy of
 * OpenSSL), or when libcurl lacks CURLOPT_PREREQFUNCTION (before 7.80); CERTPIN_E_NOMEM. Attach
 * before the handle's first transfer, or the connections it already made are refused (as any
 * connection certpin did not verify). Attaching the same handle again replaces the earlier
 * attachment (free that one). Not thread-safe with respect to other uses of easy. */
CERTPIN_API certpin_status certpin_curl_attach(CURL *easy, certpin_ctx *pin, certpin_curl **out,
                                               certpin_error *err);

/* Removes certpin's callbacks from the attachment's handle, which must still exist, putting back
 * the functions given with certpin_curl_set_ssl_ctx_function / _set_prereq_function (or none).
 * The handle is then no longer pinned. The attachment stays valid (its result too) until freed. */
CERTPIN_API certpin_status certpin_curl_detach(certpin_curl *pc);

/* Frees the attachment and drops its reference to the context. NULL-safe. See the header's
 * comment for when: a handle whose callbacks are still certpin's refuses every transfer after
 * this. */
CERTPIN_API void certpin_curl_free(certpin_curl *pc);

/* Has certpin call fn (with userptr, kept) for every new TLS connection of the handle, as curl
 * would call a CURLOPT_SSL_CTX_FUNCTION: after certpin prepared the SSL_CTX, before curl makes the
 * connection's SSL. A non-zero CURLcode from fn fails the connection, as in curl. fn may change
 * the SSL_CTX as it likes except its certificate verification callback
 * (SSL_CTX_set_cert_verify_callback): replacing it leaves the connection without certpin's
 * verdict, so every transfer is refused. Callbacks given to SSL_CTX_set_verify and
 * SSL_CTX_set_info_callback still run. NULL fn: none. */
CERTPIN_API certpin_status certpin_curl_set_ssl_ctx_function(certpin_curl *pc,
                                                             curl_ssl_ctx_callback fn,
                                                             void *userptr);

/* Has certpin call fn (with userptr, kept) as CURLOPT_PREREQFUNCTION after its own check passed;
 * fn's return value is then the callback's. NULL fn: none. */
CERTPIN_API certpin_status certpin_curl_set_prereq_function(certpin_curl *pc,
                                                            curl_prereq_callback fn, void *userptr);

/* The result of the handle's last decision: the check of its last TLS connection to an origin, or
 * the refusal of a transfer before its request (a reused connection certpin did not verify under
 * this policy for this host, a URL that is not https, CURLOPT_SSL_VERIFYPEER off, ...; the verdict
 * is then CERTPIN_REJECTED_ERROR and certpin_result_reason says what happened). For an accepted
 * reused connection, the result of the check that connection passed. CERTPIN_NOT_CHECKED before
 * the first decision. A transfer that failed before it reached TLS (a name that does not resolve)
 * leaves the previous result: read this after curl reported a failure that concerns it
 * (CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_ABORTED_BY_CALLBACK).
 *
 * A refusal does not brick the handle. curl closes a refused HTTP/1.1 connection but would keep
 * a refused HTTP/2 connection in its cache and offer it again: after a refusal certpin sets
 * CURLOPT_FORBID_REUSE (so that curl closes the refused connection, unless another transfer is
 * using it) and CURLOPT_FRESH_CONNECT (so that the retry makes a connection certpin checks), and
 * sets both back to 0 at the next request it lets through. An application that sets either
 * option itself should set it before each transfer.
 *
 * Borrowed from pc: valid until the handle's next transfer or certpin_curl_free. Never NULL. */
CERTPIN_API const certpin_result *certpin_curl_result(certpin_curl *pc);

#ifdef __cplusplus
}
#endif

#endif /* CERTPIN_CURL_H */
