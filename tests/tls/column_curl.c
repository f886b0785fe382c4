/* The conformance suite's libcurl column: one HTTPS transfer of a curl easy handle pinned with
 * certpin_curl_attach (libcurl's OpenSSL backend), to https://HOST:PORT/ resolved to the loopback
 * server (CURLOPT_RESOLVE), or to the IP literal. The harness's server answers "OK" without an HTTP
 * status line: an HTTP/0.9 reply, which the column allows.
 *
 * What libcurl cannot express, and the suite leaves out for this column: no host (a URL always has
 * one); verification turned off (certpin refuses every transfer with CURLOPT_SSL_VERIFYPEER off,
 * so those rows' verdicts differ: see certpin/curl.h); offering a given session (curl's own cache
 * chooses: the column's "session" is a share handle holding that cache). A session certpin would
 * not resume is dropped rather than refused, and the connection makes a full, checked handshake:
 * the suite accepts that verdict for this column (drops_stale_sessions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "certpin/curl.h"
#include "conformance.h"

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    *(int *)arg = 1;
    return size * n;
}

/* The other end's replacement of certpin's CURLOPT_SSL_CTX_FUNCTION: does nothing. */
static CURLcode own_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
    (void)easy;
    (void)ssl_ctx;
    (void)arg;
    return CURLE_OK;
}

static void session_free(void *session) { curl_share_cleanup(session); }

static int run(const conn_opts *o, conn_outcome *out)
{
    const char *host = o->host != NULL ? o->host : "api.example.com";
    CURL *easy = curl_easy_init();
    CURLSH *share = (CURLSH *)o->session;
    certpin_curl *pinned = NULL;
    struct curl_slist *resolve = NULL;
    certpin_error err;
    char url[256];
    char entry[300];
    char curl_error[CURL_ERROR_SIZE] = "";
    int got = 0;
    CURLcode rc;

    memset(out, 0, sizeof(*out));
    out->depth = -1;
    out->resumed = -1; /* curl does not say: the server's count does */
    if (easy == NULL) {
        harness_die("curl_easy_init");
    }
    if (o->given == GIVE_IP) {
        (void)snprintf(url, sizeof(url),
                       o->family == AF_INET6 ? "https://[%s]:%d/" : "https://%s:%d/", o->ip,
                       o->port);
    } else {
        (void)snprintf(url, sizeof(url), "https://%s:%d/", host, o->port);
        (void)snprintf(entry, sizeof(entry), "%s:%d:%s", host, o->port,
                       o->family == AF_INET6 ? "[::1]" : "127.0.0.1");
        resolve = curl_slist_append(NULL, entry);
    }
    if (share == NULL && o->want_session) {
        /* The session a later connection offers is the one curl keeps in its cache: share it. */
        share = curl_share_init();
        if (share == NULL ||
            curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
            harness_die("curl_share_init");
        }
    }
    if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CAINFO, pki_path(o->trust)) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_SSLVERSION,
                         o->tls13
                             ? CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3
                             : CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HTTP09_ALLOWED, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &got) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_error) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, 20L) != CURLE_OK ||
        (share != NULL && curl_easy_setopt(easy, CURLOPT_SHARE, share) != CURLE_OK) ||
        (o->verify_off && curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK)) {
        harness_die("curl_easy_setopt");
    }
    if (o->pin != NULL && certpin_curl_attach(easy, o->pin, &pinned, &err) != CERTPIN_OK) {
        (void)fprintf(stderr, "certpin_curl_attach: %s\n", err.text);
        harness_die("certpin_curl_attach");
    }
    if (o->replace_verify &&
        curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, own_ssl_ctx) != CURLE_OK) {
        harness_die("CURLOPT_SSL_CTX_FUNCTION");
    }
    rc = curl_easy_perform(easy);
    if (rc == CURLE_OK) {
        out->connected = 1;
        out->replied = got;
    } else {
        (void)snprintf(out->error, sizeof(out->error), "curl: %s (%s)", curl_easy_strerror(rc),
                       curl_error);
    }
    if (pinned != NULL) {
        outcome_from_result(certpin_curl_result(pinned), out);
    }
    curl_easy_cleanup(easy);
    certpin_curl_free(pinned);
    curl_slist_free_all(resolve);
    if (o->want_session && o->session == NULL) {
        out->session = share;
    }
    return 1;
}

const column column_curl = {
    .name = "curl",
    .tls13 = 1,
    .ip_san = 1,
    .owns_sessions = 0,
    .sees_direct_offer = 0,
    .binds_tls13_resumption = 1,
    .guards_handshake = 1,
    .offers_sessions = 0,
    .drops_stale_sessions = 1,
    .gives_no_host = 0,
    .verifies_when_off = 0,
    .refusal = {"SSL peer certificate", "aborted by an application callback", "SSL connect error"},
    .run = run,
    .session_free = session_free,
};
