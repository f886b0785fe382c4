/* The libcurl integration: hands the origin's TLS connection of a curl easy handle (curl's OpenSSL
 * backend) to the OpenSSL adapter, and refuses, before the request, a transfer over a connection
 * the adapter did not verify. Every pin decision is the core's, through the adapter; this file only
 * says which TLS connection is the origin's, for which host, and when curl may send. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "certpin/curl.h"
#include "certpin/openssl.h"
#include "private/error.h"
#include "private/host.h"
#include "private/openssl.h"
#include "private/result.h"
#include "private/safety.h"

struct certpin_curl {
    atomic_size_t refs; /* the application's, and one per callback running */
    uint64_t id;        /* what the handle's callbacks carry: never reused */
    CURL *easy;         /* kept, not owned */
    certpin_ctx *pin;   /* a reference */
    /* Where CURLINFO_PRIMARY_IP of easy points. curl calls CURLOPT_PREREQFUNCTION with that same
     * pointer for easy, and with another for any other handle (a curl_easy_duphandle copy carries
     * certpin's callbacks and id): how the pre-request check knows whose request it is without
     * touching another thread's handle. */
    const char *primary_ip;
    curl_ssl_ctx_callback app_ssl_ctx;
    void *app_ssl_ctx_data;
    curl_prereq_callback app_prereq;
    void *app_prereq_data;
    certpin_result *result;
    int fresh_connect; /* certpin set CURLOPT_FORBID_REUSE and _FRESH_CONNECT */
    /* The last URL of the handle's own transfers and what url_of made of it: each transfer asks
     * twice (its connection, its request), and most transfers ask about the same URL as the one
     * before. Used only for the attachment's own handle, on its thread. */
    char *url_text;
    struct url_info *url_parsed;
};

/* What one TLS connection of a pinned handle keeps in its SSL_CTX's ex_data (curl 7.88 makes one
 * SSL_CTX per connection, and calls CURLOPT_SSL_CTX_FUNCTION for each). */
typedef struct conn_rec {
    uint64_t id;                 /* the attachment whose callback prepared the SSL_CTX */
    int own_handle;              /* made for the attachment's own handle, not a DoH or copy */
    certpin_ctx *pin;            /* a reference */
    char host[CERTPIN_HOST_MAX]; /* the URL's host, canonical; "" when it has none usable */
    int host_is_ip;
    int port;          /* the URL's port */
    char refusal[600]; /* why the URL's host cannot be checked, or "" */
    void (*app_info)(const SSL *ssl, int where, int ret); /* the application's, chained */
} conn_rec;

/* What a connection's SSL keeps once its handshake started. */
typedef struct ssl_rec {
    int origin; /* certpin checks this connection as the origin's */
    int done;   /* the handshake finished: its result was recorded */
} ssl_rec;

#define PREREQ_ABORT CURL_PREREQFUNC_ABORT
#define PREREQ_OK CURL_PREREQFUNC_OK

/* ---- the registry: attachments by id ------------------------------------------------------ */

/* Sorted by id (ids only grow, so an addition appends). A handle's callbacks carry an id, never
 * an address: an attachment freed while its handle still has the callbacks is simply not found,
 * and the transfer is refused. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static certpin_curl **registry;
static size_t registry_len;
static size_t registry_cap;
static uint64_t registry_next_id = 1;

static void pc_unref(certpin_curl *pc)
{
    if (pc != NULL && atomic_fetch_sub(&pc->refs, 1) == 1) {
        certpin_ctx_free(pc->pin);
        certpin_result_free(pc->result);
        free(pc->url_text);
        free(pc->url_parsed);
        free(pc);
    }
}

static size_t registry_find(uint64_t id)
{
    size_t lo = 0;
    size_t hi = registry_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (registry[mid]->id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static certpin_status registry_add(certpin_curl *pc)
{
    certpin_status st = CERTPIN_OK;
    (void)pthread_mutex_lock(&registry_lock);
    if (registry_len == registry_cap) {
        size_t cap = registry_cap == 0 ? 8 : registry_cap * 2;
        certpin_curl **grown = cap <= SIZE_MAX / sizeof(certpin_curl *)
                                   ? realloc(registry, cap * sizeof(certpin_curl *))
                                   : NULL;
        if (grown == NULL) {
            st = CERTPIN_E_NOMEM;
        } else {
            registry = grown;
            registry_cap = cap;
        }
    }
    if (st == CERTPIN_OK) {
        pc->id = registry_next_id++;
        registry[registry_len++] = pc;
    }
    (void)pthread_mutex_unlock(&registry_lock);
    return st;
}

static void registry_remove(uint64_t id)
{
    size_t i;
    (void)pthread_mutex_lock(&registry_lock);
    i = registry_find(id);
    if (i < registry_len && registry[i]->id == id) {
        memmove(&registry[i], &registry[i + 1], (registry_len - i - 1) * sizeof(certpin_curl *));
        registry_len--;
    }
    (void)pthread_mutex_unlock(&registry_lock);
}

/* The attachment with this id, with a reference the caller drops (pc_unref); NULL when freed. */
static certpin_curl *registry_get(uint64_t id)
{
    certpin_curl *pc = NULL;
    size_t i;
    (void)pthread_mutex_lock(&registry_lock);
    i = registry_find(id);
    if (i < registry_len && registry[i]->id == id) {
        pc = registry[i];
        atomic_fetch_add(&pc->refs, 1);
    }
    (void)pthread_mutex_unlock(&registry_lock);
    return pc;
}

/* The id travels as curl's callback data pointer: it is a number, never dereferenced. */
static void *id_ptr(uint64_t id)
{
    return (void *)(uintptr_t)id; /* NOLINT(performance-no-int-to-ptr): a number, see above */
}

static uint64_t ptr_id(void *p) { return (uint64_t)(uintptr_t)p; }

/* ---- ex_data ------------------------------------------------------------------------------- */

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int rec_index = -1;
static int ssl_index = -1;

static void conn_rec_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                          void *argp)
{
    conn_rec *rec = ptr;
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (rec != NULL) {
        certpin_ctx_free(rec->pin);
        free(rec);
    }
}

static void ssl_rec_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    free(ptr);
}

/* SSL_dup copies ex_data pointers: the copy must not share (and later free) this record. curl does
 * not dup, and a copy starts its own handshake, so it starts without one. */
static int ssl_rec_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                       long argl, void *argp)
{
    (void)to;
    (void)from;
    (void)idx;
    (void)argl;
    (void)argp;
    *from_d = NULL;
    return 1;
}

static void make_indexes(void)
{
    rec_index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, conn_rec_free);
    ssl_index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, ssl_rec_dup, ssl_rec_free);
}

static int indexes_ready(void)
{
    if (pthread_once(&index_once, make_indexes) != 0) {
        return 0;
    }
    return rec_index >= 0 && ssl_index >= 0;
}

/* ---- the URL a transfer is for -------------------------------------------------------------- */

struct url_info {
    int https;
    char scheme[16];
    char host[CERTPIN_HOST_MAX]; /* canonical; "" when none usable */
    int host_is_ip;
    int port;
    char why[600]; /* when host is "" */
};
typedef struct url_info url_info;

/* What url_of makes of url (see there). */
static void parse_url(const char *url, url_info *u)
{
    CURLU *h = curl_url();
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    certpin_error err;
    cp_host_kind kind;

    memset(u, 0, sizeof(*u));
    (void)snprintf(u->why, sizeof(u->why), "the transfer's URL has no host certpin can check");
    if (h == NULL || url == NULL ||
        curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        curl_url_cleanup(h);
        return;
    }
    cp_strlcpy(u->scheme, scheme, sizeof(u->scheme));
    u->https = strcmp(scheme, "https") == 0;
#ifdef CURLU_PUNYCODE
    /* The A-label form, as curl converts the name it connects to (libidn2, IDNA2008). */
    if (curl_url_get(h, CURLUPART_HOST, &host, CURLU_PUNYCODE) != CURLUE_OK) {
        host = NULL;
    }
#endif
    if (host == NULL && curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        host = NULL;
    }
    if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port != NULL) {
        char *end;
        long n = strtol(port, &end, 10);
        u->port = (*end == '\0' && n > 0 && n <= 65535) ? (int)n : 0; /* 0: unknown, for reports */
    }
    if (host != NULL) {
        if (cp_host_canonical(host, u->host, &kind, &err) == CERTPIN_OK) {
            u->host_is_ip = kind != CP_HOST_NAME;
        } else {
            (void)snprintf(u->why, sizeof(u->why),
                           "the URL's host is not a host certpin can check: "
                           "%s",
                           err.text);
            u->host[0] = '\0';
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
}

/* The URL curl is connecting (or sending) for: CURLINFO_EFFECTIVE_URL, which curl 7.88 updates to
 * the new URL before it connects for a redirect, parsed by curl's own parser. For the
 * attachment's own handle the answer for the last URL is kept, and given again while the URL is
 * the same (the parse is a pure function of the text). */
static void url_of(certpin_curl *pc, CURL *easy, url_info *u)
{
    char *url = NULL;
    int own = pc != NULL && easy == pc->easy;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK) {
        url = NULL;
    }
    if (own && url != NULL && pc->url_text != NULL && pc->url_parsed != NULL &&
        strcmp(url, pc->url_text) == 0) {
        *u = *pc->url_parsed;
        return;
    }
    parse_url(url, u);
    if (own && url != NULL) {
        char *text = strdup(url);
        url_info *parsed = pc->url_parsed != NULL ? pc->url_parsed : malloc(sizeof(*parsed));
        free(pc->url_text);
        pc->url_text = NULL;
        pc->url_parsed = parsed;
        if (text != NULL && parsed != NULL) {
            *parsed = *u;
            pc->url_text = text; /* kept only when both are there */
        } else {
            free(text);
        }
    }
}

/* ---- the handshake ------------------------------------------------------------------------ */

/* Records the adapter's result for the attachment, if the connection is its own handle's. Runs in
 * the handshake, on the thread of the handle that makes the connection. */
static void record_result(const conn_rec *rec, const SSL *ssl)
{
    const certpin_result *r = certpin_openssl_result(ssl);
    certpin_curl *pc;
    if (!rec->own_handle || r == NULL || certpin_result_verdict(r) == CERTPIN_NOT_CHECKED) {
        return;
    }
    pc = registry_get(rec->id);
    if (pc != NULL) {
        cp_result_copy(pc->result, r);
        pc_unref(pc);
    }
}

/* Which TLS connection is this? The one whose server name (the SNI curl sends, which is the
 * host curl verifies after the handshake) is the URL's host; with no server name (curl sends none
 * for an IP address), the one of a URL whose host is an IP address. Anything else is an HTTPS
 * proxy's connection, which certpin leaves to curl. */
static int is_origin(const conn_rec *rec, const SSL *ssl)
{
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char canonical[CERTPIN_HOST_MAX];
    if (rec->host[0] == '\0') {
        return 1; /* refused below: better than guessing */
    }
    if (sni == NULL) {
        return rec->host_is_ip;
    }
    return certpin_host_canonical(sni, canonical, NULL) == CERTPIN_OK &&
           strcmp(canonical, rec->host) == 0;
}

static void handshake_start(conn_rec *rec, SSL *ssl)
{
    ssl_rec *sr;
    const char *refusal = NULL;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    SSL_SESSION *sess;
    int host_set;

    if (SSL_is_server(ssl) || SSL_get_ex_data(ssl, ssl_index) != NULL) {
        return;
    }
    sr = calloc(1, sizeof(*sr));
    if (sr == NULL || !SSL_set_ex_data(ssl, ssl_index, sr)) {
        /* The connection then carries no verdict, and its transfer is refused before the
         * request: failing here is safe. */
        free(sr);
        return;
    }
    if (!is_origin(rec, ssl)) {
        return;
    }
    sr->origin = 1;

    /* curl checks the host name itself after the handshake and sets none for OpenSSL: set the
     * URL's host, so that OpenSSL verifies it (RFC 6125 section 6: the reference identity is the
     * client's) and the adapter looks it up. Whatever the application or curl set before is
     * replaced: exactly one host is checked. */
    if (rec->host_is_ip) {
        host_set = X509_VERIFY_PARAM_set1_host(param, NULL, 0) == 1 &&
                   X509_VERIFY_PARAM_set1_ip_asc(param, rec->host) == 1;
    } else {
        host_set = X509_VERIFY_PARAM_set1_ip(param, NULL, 0) == 1 &&
                   X509_VERIFY_PARAM_set1_host(param, rec->host, 0) == 1;
    }
    if (rec->host[0] == '\0') {
        refusal = rec->refusal;
    } else if (!host_set) {
        refusal = "OpenSSL could not be given the host to verify";
    } else if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) {
        /* curl asks OpenSSL not to verify and does not load its trust store: pinning narrows
         * verification, it never runs instead of it. */
        refusal = "CURLOPT_SSL_VERIFYPEER is off: certpin pins only connections that are verified; "
                  "turn it on (pinning narrows certificate verification, it never replaces it)";
    }
    if (cp_openssl_attach_conn(ssl, rec->pin, rec->port, refusal) != CERTPIN_OK) {
        return; /* no verdict: the transfer is refused before its request */
    }
    /* curl offers the session its cache holds for this host and port, whoever made it. Offer only
     * one certpin would resume; drop any other before the ClientHello is built, so that the
     * connection makes a full handshake and curl replaces the session afterwards (refusing it at
     * the ClientHello instead would refuse every connection for as long as curl keeps it). */
    sess = SSL_get_session(ssl);
    if (refusal == NULL && sess != NULL && SSL_SESSION_is_resumable(sess) &&
        !cp_openssl_session_resumable(ssl, sess)) {
        (void)SSL_set_session(ssl, NULL);
    }
    if (rec->own_handle) {
        certpin_curl *pc = registry_get(rec->id);
        if (pc != NULL) {
            certpin_result_reset(pc->result);
            pc_unref(pc);
        }
    }
}

/* The SSL_CTX's info callback: OpenSSL calls it with SSL_CB_HANDSHAKE_START before it builds the
 * ClientHello (and after curl set the server name and the cached session), and with
 * SSL_CB_CONNECT_EXIT each time SSL_connect returns. OpenSSL passes its own, modifiable SSL. */
static void info_callback(const SSL *cssl, int where, int ret)
{
    SSL *ssl = (SSL *)cssl;
    conn_rec *rec = rec_index >= 0 ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), rec_index) : NULL;
    ssl_rec *sr;

    if (rec == NULL) {
        return;
    }
    if (where & SSL_CB_HANDSHAKE_START) {
        handshake_start(rec, ssl);
    }
    sr = SSL_get_ex_data(ssl, ssl_index);
    if (sr != NULL && sr->origin && !sr->done &&
        (where & (SSL_CB_CONNECT_EXIT | SSL_CB_HANDSHAKE_DONE))) {
        /* A refused handshake ends with a CONNECT_EXIT, after which curl frees the SSL: keep its
         * result now. Once the handshake is done, the result no longer changes. */
        record_result(rec, ssl);
        if (where & SSL_CB_HANDSHAKE_DONE) {
            sr->done = 1;
        }
    }
    if (rec->app_info != NULL) {
        rec->app_info(ssl, where, ret);
    }
}

/* CURLOPT_SSL_CTX_FUNCTION: curl 7.88 calls it for every new TLS connection (the origin's, an
 * HTTPS proxy's, a DoH server's), with a new SSL_CTX, before it makes the SSL. */
static CURLcode ssl_ctx_function(CURL *easy, void *sslctx, void *userptr)
{
    SSL_CTX *ctx = sslctx;
    certpin_curl *pc = registry_get(ptr_id(userptr));
    conn_rec *rec;
    url_info u;
    CURLcode rc = CURLE_OK;
    void (*info)(const SSL *, int, int);

    if (pc == NULL) {
        return CURLE_SSL_CONNECT_ERROR; /* certpin_curl_free'd while still attached: refuse */
    }
    rec = calloc(1, sizeof(*rec));
    if (rec == NULL || !indexes_ready() || certpin_openssl_attach_ctx(ctx, NULL) != CERTPIN_OK) {
        free(rec);
        pc_unref(pc);
        return CURLE_OUT_OF_MEMORY;
    }
    url_of(pc, easy, &u);
    rec->id = pc->id;
    rec->own_handle = easy == pc->easy;
    rec->pin = certpin_ctx_ref(pc->pin);
    cp_strlcpy(rec->host, u.host, sizeof(rec->host));
    rec->host_is_ip = u.host_is_ip;
    rec->port = u.port;
    cp_strlcpy(rec->refusal, u.why, sizeof(rec->refusal));
    if (!SSL_CTX_set_ex_data(ctx, rec_index, rec)) {
        conn_rec_free(NULL, rec, NULL, 0, 0, NULL);
        pc_unref(pc);
        return CURLE_OUT_OF_MEMORY;
    }
    /* (SSL_CTX_set_ex_data freed nothing: a new SSL_CTX has no record yet.) A certificate must not
     * change under a connection certpin verified. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_info_callback(ctx, info_callback);

    if (pc->app_ssl_ctx != NULL) {
        rc = pc->app_ssl_ctx(easy, sslctx, pc->app_ssl_ctx_data);
    }
    /* The application's function may have set an info callback of its own: chain it. */
    info = SSL_CTX_get_info_callback(ctx);
    if (info != info_callback) {
        rec->app_info = info;
        SSL_CTX_set_info_callback(ctx, info_callback);
    }
    pc_unref(pc);
    return rc;
}

/* ---- before the request --------------------------------------------------------------------- */

static void refuse(certpin_curl *pc, const url_info *u, const char *fmt, ...) CP_PRINTF(3, 4);

static void refuse(certpin_curl *pc, const url_info *u, const char *fmt, ...)
{
    char reason[512];
    certpin_conn conn;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    cp_result_set_error(pc->result, u->host[0] != '\0' ? u->host : NULL, u->port, reason);
    memset(&conn, 0, sizeof(conn));
    conn.host = certpin_result_host(pc->result);
    conn.port = u->port;
    cp_ctx_report(pc->pin, &conn, pc->result);
}

/* Whether the request may go over the connection curl is about to use: it must be the TLS
 * connection certpin verified, under the policy now in force, for the URL's host. Sets
 * pc->result either way. */
static int request_allowed(certpin_curl *pc)
{
    struct curl_tlssessioninfo *tsi = NULL;
    const certpin_result *r;
    certpin_policy *policy;
    const certpin_policy *verified_under;
    url_info u;
    int ok = 0;

    url_of(pc, pc->easy, &u);
    if (!u.https) {
        refuse(pc, &u, "certpin pins HTTPS: a pinned handle sends no request to a %s URL",
               u.scheme[0] != '\0' ? u.scheme : "non-https");
        return 0;
    }
    if (u.host[0] == '\0') {
        refuse(pc, &u, "%s", u.why);
        return 0;
    }
    if (curl_easy_getinfo(pc->easy, CURLINFO_TLS_SSL_PTR, &tsi) != CURLE_OK || tsi == NULL ||
        tsi->backend != CURLSSLBACKEND_OPENSSL || tsi->internals == NULL) {
        refuse(pc, &u, "%s", "curl is about to send the request over a connection without TLS");
        return 0;
    }
    r = certpin_openssl_result(tsi->internals);
    if (r == NULL || certpin_result_verdict(r) == CERTPIN_NOT_CHECKED) {
        refuse(pc, &u, "%s",
               "certpin did not verify the connection curl is about to use (one reused from "
               "another handle or from before certpin was attached, or CURLOPT_SSL_CTX_FUNCTION "
               "was replaced): request not sent");
        return 0;
    }
    if (!certpin_verdict_accepted(certpin_result_verdict(r))) {
        refuse(pc, &u, "the connection's verdict is %s: request not sent",
               certpin_verdict_str(certpin_result_verdict(r)));
        return 0;
    }
    policy = certpin_ctx_get_policy(pc->pin);
    verified_under = certpin_result_policy(r);
    if (policy == NULL) {
        refuse(pc, &u, "%s", "the certpin context has no policy: request not sent");
    } else if (verified_under == NULL ||
               memcmp(certpin_policy_id(verified_under), certpin_policy_id(policy), 32) != 0) {
        refuse(pc, &u,
               "certpin verified the connection curl is about to use under another policy (%s), "
               "not the one now in force: request not sent",
               verified_under != NULL ? certpin_policy_id_hex(verified_under) : "none");
    } else if (strcmp(certpin_result_host(r), u.host) != 0) {
        refuse(pc, &u,
               "certpin verified the connection curl is about to use for another host (%s), not "
               "the URL's: request not sent",
               certpin_result_host(r));
    } else {
        cp_result_copy(pc->result, r);
        ok = 1;
    }
    certpin_policy_free(policy);
    return ok;
}

/* CURLOPT_PREREQFUNCTION: after a connection was made or reused, before the request. */
static int prereq_function(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                           int local_port)
{
    certpin_curl *pc = registry_get(ptr_id(clientp));
    int rc = PREREQ_ABORT;

    if (pc == NULL) {
        return PREREQ_ABORT; /* certpin_curl_free'd while still attached */
    }
    if (primary_ip != pc->primary_ip) {
        /* Called for another handle (a copy): its state is not ours to read. */
        pc_unref(pc);
        return PREREQ_ABORT;
    }
    if (request_allowed(pc)) {
        if (pc->fresh_connect) {
            /* Set after a refusal (below); this request's connection is certpin's: back to
             * reusing connections. */
            (void)curl_easy_setopt(pc->easy, CURLOPT_FORBID_REUSE, 0L);
            (void)curl_easy_setopt(pc->easy, CURLOPT_FRESH_CONNECT, 0L);
            pc->fresh_connect = 0;
        }
        rc = pc->app_prereq != NULL ? pc->app_prereq(pc->app_prereq_data, primary_ip, local_ip,
                                                     primary_port, local_port)
                                    : PREREQ_OK;
    } else {
        /* curl closes a refused HTTP/1.1 connection, but keeps a refused multiplexed (HTTP/2) one
         * in its cache and would offer it again, to every later transfer: with FORBID_REUSE set
         * when the refused transfer ends, curl closes the connection (unless another transfer is
         * using it), and FRESH_CONNECT has the retry make a connection certpin checks. */
        (void)curl_easy_setopt(pc->easy, CURLOPT_FORBID_REUSE, 1L);
        (void)curl_easy_setopt(pc->easy, CURLOPT_FRESH_CONNECT, 1L);
        pc->fresh_connect = 1;
    }
    pc_unref(pc);
    return rc;
}

/* ---- public functions ----------------------------------------------------------------------- */

/* libcurl's TLS backend must be the OpenSSL this library uses: curl's SSL_CTX and SSL are handed
 * to the adapter. curl names it "OpenSSL/<OPENSSL_VERSION_STRING>". */
static int backend_usable(CURL *easy, certpin_error *err)
{
    struct curl_tlssessioninfo *tsi = NULL;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    char expected[64];

    (void)snprintf(expected, sizeof(expected), "OpenSSL/%s",
                   OpenSSL_version(OPENSSL_VERSION_STRING));
    if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &tsi) != CURLE_OK || tsi == NULL ||
        tsi->backend != CURLSSLBACKEND_OPENSSL) {
        cp_error(err, CERTPIN_E_ARG,
                 "libcurl's TLS backend is not OpenSSL (%s): certpin's libcurl integration needs "
                 "libcurl built with OpenSSL (Debian: libcurl4-openssl-dev)",
                 v != NULL && v->ssl_version != NULL ? v->ssl_version : "none");
        return 0;
    }
    if (v == NULL || v->ssl_version == NULL || strcmp(v->ssl_version, expected) != 0) {
        cp_error(err, CERTPIN_E_ARG,
                 "libcurl uses %s, certpin %s: both must use the same OpenSSL library",
                 v != NULL && v->ssl_version != NULL ? v->ssl_version : "no TLS library", expected);
        return 0;
    }
    return 1;
}

static int install(certpin_curl *pc)
{
    return curl_easy_setopt(pc->easy, CURLOPT_PREREQFUNCTION, prereq_function) == CURLE_OK &&
           curl_easy_setopt(pc->easy, CURLOPT_PREREQDATA, id_ptr(pc->id)) == CURLE_OK &&
           curl_easy_setopt(pc->easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_function) == CURLE_OK &&
           curl_easy_setopt(pc->easy, CURLOPT_SSL_CTX_DATA, id_ptr(pc->id)) == CURLE_OK;
}

certpin_status certpin_curl_attach(CURL *easy, certpin_ctx *pin, certpin_curl **out,
                                   certpin_error *err)
{
    certpin_curl *pc;
    char *primary_ip = NULL;

    if (easy == NULL || pin == NULL || out == NULL) {
        return cp_error(err, CERTPIN_E_ARG,
                        "certpin_curl_attach needs a handle, a context and "
                        "where to put the attachment");
    }
    *out = NULL;
    if (!backend_usable(easy, err)) {
        return CERTPIN_E_ARG;
    }
    if (!indexes_ready()) {
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &primary_ip) != CURLE_OK ||
        primary_ip == NULL) {
        return cp_error(err, CERTPIN_E_ARG, "libcurl does not give the handle's primary IP");
    }
    pc = calloc(1, sizeof(*pc));
    if (pc == NULL || (pc->result = certpin_result_new()) == NULL) {
        free(pc);
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    atomic_init(&pc->refs, 1);
    pc->easy = easy;
    pc->pin = certpin_ctx_ref(pin);
    pc->primary_ip = primary_ip;
    if (registry_add(pc) != CERTPIN_OK) {
        pc_unref(pc);
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    /* CURLOPT_PREREQFUNCTION first: libcurl before 7.80 refuses it, and then nothing is set. */
    if (curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, prereq_function) != CURLE_OK) {
        registry_remove(pc->id);
        pc_unref(pc);
        return cp_error(err, CERTPIN_E_ARG,
                        "libcurl has no CURLOPT_PREREQFUNCTION (7.80 and "
                        "later have): certpin cannot check reused "
                        "connections before the request");
    }
    if (!install(pc)) {
        /* The handle keeps certpin's id with no attachment behind it: it refuses every transfer
         * rather than running unpinned. */
        registry_remove(pc->id);
        pc_unref(pc);
        return cp_error(err, CERTPIN_E_ARG,
                        "libcurl refused CURLOPT_SSL_CTX_FUNCTION: the handle "
                        "now refuses every transfer");
    }
    *out = pc;
    return CERTPIN_OK;
}

certpin_status certpin_curl_detach(certpin_curl *pc)
{
    CP_ENSURE_REF(pc, CERTPIN_E_ARG);
    if (curl_easy_setopt(pc->easy, CURLOPT_SSL_CTX_FUNCTION, pc->app_ssl_ctx) != CURLE_OK ||
        curl_easy_setopt(pc->easy, CURLOPT_SSL_CTX_DATA, pc->app_ssl_ctx_data) != CURLE_OK ||
        curl_easy_setopt(pc->easy, CURLOPT_PREREQFUNCTION, pc->app_prereq) != CURLE_OK ||
        curl_easy_setopt(pc->easy, CURLOPT_PREREQDATA, pc->app_prereq_data) != CURLE_OK) {
        return CERTPIN_E_ARG;
    }
    if (pc->fresh_connect) {
        (void)curl_easy_setopt(pc->easy, CURLOPT_FORBID_REUSE, 0L);
        (void)curl_easy_setopt(pc->easy, CURLOPT_FRESH_CONNECT, 0L);
        pc->fresh_connect = 0;
    }
    return CERTPIN_OK;
}

void certpin_curl_free(certpin_curl *pc)
{
    if (pc == NULL) {
        return;
    }
    registry_remove(pc->id);
    pc_unref(pc);
}

certpin_status certpin_curl_set_ssl_ctx_function(certpin_curl *pc, curl_ssl_ctx_callback fn,
                                                 void *userptr)
{
    CP_ENSURE_REF(pc, CERTPIN_E_ARG);
    pc->app_ssl_ctx = fn;
    pc->app_ssl_ctx_data = userptr;
    return CERTPIN_OK;
}

certpin_status certpin_curl_set_prereq_function(certpin_curl *pc, curl_prereq_callback fn,
                                                void *userptr)
{
    CP_ENSURE_REF(pc, CERTPIN_E_ARG);
    pc->app_prereq = fn;
    pc->app_prereq_data = userptr;
    return CERTPIN_OK;
}

const certpin_result *certpin_curl_result(certpin_curl *pc)
{
    return pc != NULL ? pc->result : NULL;
}
