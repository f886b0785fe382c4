/* The OpenSSL crypto backend: SHA-256 from EVP with the digest fetched once (from the
 * application's OSSL_LIB_CTX and property query when it gave one) and, per thread, one context
 * initialised once that each hash copies (EVP_MD_CTX_copy_ex: with OpenSSL 3.0 a little cheaper
 * than initialising a context again, and like it one allocation inside OpenSSL; certpin itself
 * allocates nothing per hash); base64 from EVP_EncodeBlock/EVP_DecodeBlock.
 *
 * OpenSSL's error queue: a hash that succeeds queues nothing, so the check's hashes (the
 * cp_sha256_run_* functions, on every handshake) take no mark: the mark and its pop cost more
 * than a third of what certpin adds to the hashing itself (bench/, check section). When one of
 * them fails (an allocation inside OpenSSL), the check fails closed and OpenSSL's reasons stay on
 * the thread's queue, as OpenSSL's own functions leave them: the handshake fails with them. The
 * other functions here, used outside handshakes' hot path, keep the queue as they found it
 * (ERR_set_mark / ERR_pop_to_mark) even when they fail. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "certpin/crypto_openssl.h"
#include "private/crypto.h"

struct cp_sha256_ctx {
    EVP_MD_CTX *md_ctx;
};

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static OSSL_LIB_CTX *config_libctx;
static char *config_propq;
static EVP_MD *sha256_md; /* set once under config_lock, read-only afterwards */
static int sha256_fetched;
/* sha256_md once fetched, published for the lock-free fast path (release/acquire): a check
 * takes no lock. */
static _Atomic(const EVP_MD *) sha256_ready;

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static int tls_key_ok;

/* A thread's contexts: template is initialised for SHA-256 once; work receives a copy of it for
 * each hash. */
typedef struct thread_ctx {
    EVP_MD_CTX *template;
    EVP_MD_CTX *work;
} thread_ctx;

/* The calling thread's contexts once made: get_thread_ctx's fast path, without pthread_once and
 * pthread_getspecific (the key remains what frees them when the thread exits). */
static _Thread_local thread_ctx *tls_cached;

static void free_thread_ctx(void *p)
{
    thread_ctx *t = p;
    if (t != NULL) {
        if (tls_cached == t) {
            tls_cached = NULL; /* the destructor runs on the exiting thread itself */
        }
        EVP_MD_CTX_free(t->template);
        EVP_MD_CTX_free(t->work);
        free(t);
    }
}

static void make_key(void) { tls_key_ok = pthread_key_create(&tls_key, free_thread_ctx) == 0; }

static const EVP_MD *get_md(void)
{
    const EVP_MD *md = atomic_load_explicit(&sha256_ready, memory_order_acquire);
    if (md != NULL) {
        return md;
    }
    (void)pthread_mutex_lock(&config_lock);
    if (!sha256_fetched) {
        sha256_md = EVP_MD_fetch(config_libctx, "SHA2-256", config_propq);
        sha256_fetched = sha256_md != NULL;
    }
    md = sha256_md;
    if (md != NULL) {
        atomic_store_explicit(&sha256_ready, md, memory_order_release);
    }
    (void)pthread_mutex_unlock(&config_lock);
    return md;
}

certpin_status certpin_crypto_openssl_configure(OSSL_LIB_CTX *libctx, const char *propq)
{
    EVP_MD *md;
    char *copy = NULL;
    certpin_status st = CERTPIN_OK;

    (void)pthread_mutex_lock(&config_lock);
    if (sha256_fetched) {
        st = CERTPIN_E_ARG;
        goto out;
    }
    if (propq != NULL && (copy = strdup(propq)) == NULL) {
        st = CERTPIN_E_NOMEM;
        goto out;
    }
    md = EVP_MD_fetch(libctx, "SHA2-256", propq);
    if (md == NULL) {
        free(copy);
        st = CERTPIN_E_CRYPTO;
        goto out;
    }
    config_libctx = libctx;
    free(config_propq);
    config_propq = copy;
    sha256_md = md;
    sha256_fetched = 1;
    atomic_store_explicit(&sha256_ready, md, memory_order_release);
out:
    (void)pthread_mutex_unlock(&config_lock);
    return st;
}

/* The calling thread's contexts, made on first use and freed when the thread exits. */
static thread_ctx *get_thread_ctx(const EVP_MD *md)
{
    thread_ctx *t = tls_cached;
    if (t != NULL) {
        return t;
    }
    if (pthread_once(&tls_once, make_key) != 0 || !tls_key_ok) {
        return NULL;
    }
    t = pthread_getspecific(tls_key);
    if (t != NULL) {
        tls_cached = t;
        return t;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->template = EVP_MD_CTX_new();
    t->work = EVP_MD_CTX_new();
    if (t->template == NULL || t->work == NULL || EVP_DigestInit_ex2(t->template, md, NULL) != 1 ||
        pthread_setspecific(tls_key, t) != 0) {
        free_thread_ctx(t);
        return NULL;
    }
    tls_cached = t;
    return t;
}

certpin_status cp_sha256_run_begin(cp_sha256_run *run)
{
    const EVP_MD *md;
    run->ctx = NULL;
    md = get_md();
    if (md == NULL) {
        run->status = CERTPIN_E_CRYPTO;
        return run->status;
    }
    run->ctx = get_thread_ctx(md);
    run->status = run->ctx != NULL ? CERTPIN_OK : CERTPIN_E_NOMEM;
    return run->status;
}

certpin_status cp_sha256_run_next(cp_sha256_run *run, const unsigned char *data, size_t len,
                                  unsigned char out[32])
{
    thread_ctx *t = run->ctx;
    unsigned int n = 0;
    if (run->status != CERTPIN_OK) {
        return run->status;
    }
    if (EVP_MD_CTX_copy_ex(t->work, t->template) != 1 ||
        EVP_DigestUpdate(t->work, data, len) != 1 || EVP_DigestFinal_ex(t->work, out, &n) != 1 ||
        n != 32) {
        return CERTPIN_E_CRYPTO;
    }
    return CERTPIN_OK;
}

certpin_status cp_sha256(const unsigned char *data, size_t len, unsigned char out[32])
{
    cp_sha256_run run;
    certpin_status st;
    (void)ERR_set_mark();
    st = cp_sha256_run_begin(&run);
    if (st == CERTPIN_OK) {
        st = cp_sha256_run_next(&run, data, len, out);
    }
    (void)ERR_pop_to_mark();
    return st;
}

static cp_sha256_ctx *sha256_new(void)
{
    const EVP_MD *md = get_md();
    cp_sha256_ctx *c;
    if (md == NULL) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->md_ctx = EVP_MD_CTX_new();
    if (c->md_ctx == NULL || EVP_DigestInit_ex2(c->md_ctx, md, NULL) != 1) {
        cp_sha256_free(c);
        return NULL;
    }
    return c;
}

cp_sha256_ctx *cp_sha256_new(void)
{
    cp_sha256_ctx *c;
    (void)ERR_set_mark();
    c = sha256_new();
    (void)ERR_pop_to_mark();
    return c;
}

certpin_status cp_sha256_update(cp_sha256_ctx *c, const void *data, size_t len)
{
    int ok;
    (void)ERR_set_mark();
    ok = EVP_DigestUpdate(c->md_ctx, data, len) == 1;
    (void)ERR_pop_to_mark();
    return ok ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

certpin_status cp_sha256_final(cp_sha256_ctx *c, unsigned char out[32])
{
    unsigned int n = 0;
    int ok;
    (void)ERR_set_mark();
    ok = EVP_DigestFinal_ex(c->md_ctx, out, &n) == 1 && n == 32;
    (void)ERR_pop_to_mark();
    return ok ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

void cp_sha256_free(cp_sha256_ctx *c)
{
    if (c == NULL) {
        return;
    }
    EVP_MD_CTX_free(c->md_ctx);
    free(c);
}

certpin_status cp_base64_encode32(const unsigned char in[32], char out[45])
{
    return EVP_EncodeBlock((unsigned char *)out, in, 32) == 44 ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

certpin_status cp_base64_decode(const char *text, size_t text_len, unsigned char *out,
                                size_t out_cap, size_t *out_len)
{
    /* The form is checked (see private/crypto.h); EVP_DecodeBlock counts the padding as output
     * bytes, which are dropped here. */
    unsigned char buf[192];
    size_t pad = 0;
    int n;

    *out_len = 0;
    if (text_len == 0 || text_len % 4 != 0 || text_len > sizeof(buf) / 3 * 4) {
        return CERTPIN_E_PIN;
    }
    while (pad < 2 && text[text_len - 1 - pad] == '=') {
        pad++;
    }
    n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)text_len);
    if (n < 0 || (size_t)n < pad || (size_t)n - pad > out_cap) {
        return CERTPIN_E_PIN;
    }
    memcpy(out, buf, (size_t)n - pad);
    *out_len = (size_t)n - pad;
    return CERTPIN_OK;
}

const char *cp_crypto_backend(void) { return OpenSSL_version(OPENSSL_VERSION); }
