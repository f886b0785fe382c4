/* What the libcurl integration's tests share: easy handles set up for the test PKI and loopback
 * servers, one transfer with its outcome, and the certpin result of a handle. */
#ifndef CERTPIN_TEST_CURL_TEST_H
#define CERTPIN_TEST_CURL_TEST_H

#include <curl/curl.h>

#include "certpin/curl.h"
#include "curl_server.h"

/* A handle that trusts the PKI file trust (both CAs: "trust-both.pem"), with time-outs, no
 * proxy from the environment, no signals, HTTP/1.1 unless http2 is set (then h2 over TLS), and
 * names mapped to 127.0.0.1 by map_host. */
CURL *test_easy(const char *trust, int http2);
/* CURLOPT_RESOLVE host:port -> 127.0.0.1 (or ::1 with ipv6); the list is kept with the handle
 * and freed by test_easy_free. */
void test_map_host(CURL *easy, const char *host, int port, int ipv6);
void test_easy_free(CURL *easy);

typedef struct xfer {
    CURLcode rc;
    long status;
    long http_version; /* CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0 */
    long new_connects; /* CURLINFO_NUM_CONNECTS */
    char body[256];
    char error[CURL_ERROR_SIZE];
} xfer;

/* https://HOST:PORT/PATH. */
const char *test_url(const char *host, int port, const char *path);
/* One transfer of url on easy. */
void test_perform(CURL *easy, const char *url, xfer *out);

/* A certpin context for a policy (see policy_spec in harness.h). */
certpin_ctx *test_ctx(const policy_spec *spec);
/* Attaches pin to easy; aborts on failure. */
certpin_curl *test_attach(CURL *easy, certpin_ctx *pin);

/* The verdict and reason of pc's result. */
certpin_verdict test_verdict(certpin_curl *pc);
const char *test_reason(certpin_curl *pc);

/* Prints what a transfer and its result were, for failures. */
void test_show(const char *what, const xfer *x, certpin_curl *pc);

/* cmocka setup: pki_init (skips the whole group, exit 77, when the PKI is missing). */
int test_group_setup(void **state);
int test_group_teardown(void **state);

#endif /* CERTPIN_TEST_CURL_TEST_H */
