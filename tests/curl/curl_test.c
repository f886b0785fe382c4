/* What the libcurl integration's tests share (see curl_test.h). */
#include "curl_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HANDLES 64

/* Each handle's CURLOPT_RESOLVE list, freed with the handle. */
static struct {
    CURL *easy;
    struct curl_slist *resolve;
} handles[MAX_HANDLES];

static size_t write_body(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer *x = userp;
    size_t have = strlen(x->body);
    size_t n = size * nmemb;
    size_t room = sizeof(x->body) - 1 - have;
    memcpy(x->body + have, data, n < room ? n : room);
    x->body[have + (n < room ? n : room)] = '\0';
    return n;
}

CURL *test_easy(const char *trust, int http2)
{
    CURL *easy = curl_easy_init();
    size_t i;
    if (easy == NULL || curl_easy_setopt(easy, CURLOPT_CAINFO, pki_path(trust)) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CAPATH, NULL) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, 20L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, 10L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                         http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1) != CURLE_OK) {
        (void)fprintf(stderr, "test_easy: cannot set up a handle\n");
        abort();
    }
    if (getenv("CERTPIN_TEST_VERBOSE") != NULL) {
        (void)curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
    }
    for (i = 0; i < MAX_HANDLES; i++) {
        if (handles[i].easy == NULL) {
            handles[i].easy = easy;
            handles[i].resolve = NULL;
            return easy;
        }
    }
    abort();
}

void test_map_host(CURL *easy, const char *host, int port, int ipv6)
{
    char entry[300];
    size_t i;
    (void)snprintf(entry, sizeof(entry), "%s:%d:%s", host, port, ipv6 ? "[::1]" : "127.0.0.1");
    for (i = 0; i < MAX_HANDLES; i++) {
        if (handles[i].easy == easy) {
            struct curl_slist *l = curl_slist_append(handles[i].resolve, entry);
            if (l == NULL) {
                abort();
            }
            handles[i].resolve = l;
            (void)curl_easy_setopt(easy, CURLOPT_RESOLVE, l);
            return;
        }
    }
    abort();
}

void test_easy_free(CURL *easy)
{
    size_t i;
    curl_easy_cleanup(easy);
    for (i = 0; i < MAX_HANDLES; i++) {
        if (handles[i].easy == easy) {
            curl_slist_free_all(handles[i].resolve);
            handles[i].easy = NULL;
            handles[i].resolve = NULL;
        }
    }
}

const char *test_url(const char *host, int port, const char *path)
{
    static char slots[4][512];
    static unsigned next;
    char *out = slots[next++ % 4];
    (void)snprintf(out, sizeof(slots[0]), "https://%s:%d%s", host, port, path);
    return out;
}

void test_perform(CURL *easy, const char *url, xfer *out)
{
    memset(out, 0, sizeof(*out));
    (void)curl_easy_setopt(easy, CURLOPT_URL, url);
    (void)curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
    (void)curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, out->error);
    out->rc = curl_easy_perform(easy);
    (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
    (void)curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &out->http_version);
    (void)curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &out->new_connects);
    (void)curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
}

certpin_ctx *test_ctx(const policy_spec *spec)
{
    certpin_policy *p = policy_build(spec);
    certpin_ctx *c = certpin_ctx_new(p);
    certpin_policy_free(p);
    if (c == NULL) {
        abort();
    }
    return c;
}

certpin_curl *test_attach(CURL *easy, certpin_ctx *pin)
{
    certpin_curl *pc = NULL;
    certpin_error err;
    if (certpin_curl_attach(easy, pin, &pc, &err) != CERTPIN_OK) {
        (void)fprintf(stderr, "certpin_curl_attach: %s\n", err.text);
        abort();
    }
    return pc;
}

certpin_verdict test_verdict(certpin_curl *pc)
{
    return certpin_result_verdict(certpin_curl_result(pc));
}

const char *test_reason(certpin_curl *pc) { return certpin_result_reason(certpin_curl_result(pc)); }

void test_show(const char *what, const xfer *x, certpin_curl *pc)
{
    (void)fprintf(stderr, "%s: curl %d (%s) status %ld http %ld connects %ld: %s\n", what,
                  (int)x->rc, curl_easy_strerror(x->rc), x->status, x->http_version,
                  x->new_connects, x->error);
    if (pc != NULL) {
        (void)fprintf(stderr, "  certpin: %s %s\n",
                      certpin_verdict_str(certpin_result_verdict(certpin_curl_result(pc))),
                      certpin_result_reason(certpin_curl_result(pc)));
    }
}

int test_group_setup(void **state)
{
    (void)state;
    /* A server writing to a connection the client closed must not kill the test. */
    (void)signal(SIGPIPE, SIG_IGN);
    if (!pki_init()) {
        exit(77);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return -1;
    }
    return 0;
}

int test_group_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}
