/* Full TLS 1.3 handshakes over loopback with P-256 (certificates and key exchange), each followed
 * by one small HTTP/1.1 exchange, against an in-process OpenSSL server on 127.0.0.1: plain OpenSSL
 * and OpenSSL with certpin's adapter; libcurl plain, with its own CURLOPT_PINNEDPUBLICKEY (a pin
 * of the leaf) and with certpin's libcurl integration. No resumption anywhere: the server issues
 * no tickets and keeps no session cache, the clients offer none.
 *
 * The five variants run in rounds: in a round, one handshake of each variant in a random order,
 * five times over; a variant's time in the round is the median of
 * its five (so that a handshake the scheduler interrupted does not make the round). For each
 * round, a pinned variant's ratio to its unpinned twin is the twin's time over its own:
 * handshakes a second pinned over handshakes a second unpinned, 1 meaning no cost and 0.99 a cost
 * of 1%. The figure is the mean of the per-round ratios with its 95% confidence interval from
 * Student's t (the rounds are many; a ratio of neighbours in time cancels what the machine does
 * to both). Everything stops by itself: the server polls with a time-out and has a
 * lifetime; every socket has I/O time-outs. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench.h"
#include "certpin/certpin.h"
#include "certpin/curl.h"
#include "certpin/openssl.h"

#define HOST "api.example.com"
#define IO_TIMEOUT_S 5
#define SERVER_LIFETIME_S 900
#define MAX_ROUNDS 2000
#define MAX_BATCH 9

static const char request[] = "GET / HTTP/1.1\r\nHost: " HOST "\r\nAccept: */*\r\n\r\n";
static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/* ---- the server --------------------------------------------------------------------------- */

typedef struct server {
    SSL_CTX *ctx;
    int fd;
    int port;
    atomic_int stop;
    atomic_uint served;
    atomic_uint failed;
    pthread_t thread;
} server;

static void set_timeouts(int fd)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Reads until the end of the request's head; returns 0 on failure. */
static int read_request(SSL *ssl)
{
    char buf[4096];
    size_t have = 0;
    while (have < sizeof(buf) - 1) {
        int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
        if (n <= 0) {
            return 0;
        }
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL) {
            return 1;
        }
    }
    return 0;
}

static void serve_one(server *s, int fd)
{
    SSL *ssl = SSL_new(s->ctx);
    int ok = 0;
    set_timeouts(fd);
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1 && read_request(ssl) &&
        SSL_write(ssl, response, (int)strlen(response)) == (int)strlen(response)) {
        (void)SSL_shutdown(ssl);
        ok = 1;
    }
    atomic_fetch_add(ok ? &s->served : &s->failed, 1);
    SSL_free(ssl);
    ERR_clear_error();
    (void)close(fd);
}

static void *server_main(void *arg)
{
    server *s = arg;
    double deadline = bench_now_ns() + SERVER_LIFETIME_S * 1e9;
    while (!atomic_load(&s->stop) && bench_now_ns() < deadline) {
        struct pollfd p = {s->fd, POLLIN, 0};
        int fd;
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        fd = accept(s->fd, NULL, NULL);
        if (fd >= 0) {
            serve_one(s, fd);
        }
    }
    return NULL;
}

static int server_start(server *s, const bench_chain *chain)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || SSL_CTX_set_min_proto_version(s->ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set1_groups_list(s->ctx, "P-256") != 1 ||
        SSL_CTX_use_certificate(s->ctx, chain->cert[0]) != 1 ||
        SSL_CTX_use_PrivateKey(s->ctx, chain->key[0]) != 1 ||
        SSL_CTX_add1_chain_cert(s->ctx, chain->cert[1]) != 1) {
        return 0;
    }
    /* full handshakes only */
    (void)SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
    (void)SSL_CTX_set_num_tickets(s->ctx, 0);
    (void)SSL_CTX_set_options(s->ctx, SSL_OP_NO_TICKET);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(s->fd, 64) != 0 || getsockname(s->fd, (struct sockaddr *)&addr, &len) != 0) {
        return 0;
    }
    s->port = ntohs(addr.sin_port);
    return pthread_create(&s->thread, NULL, server_main, s) == 0;
}

static void server_stop(server *s)
{
    atomic_store(&s->stop, 1);
    (void)pthread_join(s->thread, NULL);
    (void)close(s->fd);
    SSL_CTX_free(s->ctx);
}

/* ---- the clients -------------------------------------------------------------------------- */

enum { V_OPENSSL, V_OPENSSL_CERTPIN, V_CURL, V_CURL_PIN, V_CURL_CERTPIN, VARIANTS };

static const char *const variant_names[VARIANTS] = {"OpenSSL", "OpenSSL + certpin adapter",
                                                    "libcurl", "libcurl + CURLOPT_PINNEDPUBLICKEY",
                                                    "libcurl + certpin_curl_attach"};

typedef struct clients {
    int port;
    SSL_CTX *plain;
    SSL_CTX *pinned;
    CURL *easy[VARIANTS]; /* the libcurl variants */
    certpin_curl *attached;
    struct curl_slist *resolve;
    certpin_ctx *pin;
} clients;

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

static SSL_CTX *client_ctx(const bench_chain *chain)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "P-256") != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), chain->cert[2]) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    (void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

static int tcp_connect(int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    set_timeouts(fd);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

/* One connection with OpenSSL: handshake, request, response. */
static int openssl_once(SSL_CTX *ctx, int port, certpin_verdict *verdict)
{
    char buf[512];
    size_t have = 0;
    int fd = tcp_connect(port);
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
    int ok = ssl != NULL && SSL_set1_host(ssl, HOST) == 1 &&
             SSL_set_tlsext_host_name(ssl, HOST) == 1 && SSL_set_fd(ssl, fd) == 1 &&
             SSL_connect(ssl) == 1 &&
             SSL_write(ssl, request, (int)strlen(request)) == (int)strlen(request);
    while (ok && have < sizeof(buf) - 1) {
        int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
        if (n <= 0) {
            break;
        }
        have += (size_t)n;
        buf[have] = '\0';
        if (have >= strlen(response)) {
            break;
        }
    }
    ok = ok && have == strlen(response) && memcmp(buf, response, have) == 0;
    if (verdict != NULL && ssl != NULL) {
        *verdict = certpin_result_verdict(certpin_openssl_result(ssl));
    }
    if (ok) {
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ERR_clear_error();
    if (fd >= 0) {
        (void)close(fd);
    }
    return ok;
}

static CURL *curl_easy_for(const clients *c, const bench_chain *chain)
{
    char url[128];
    struct curl_blob ca;
    CURL *easy = curl_easy_init();
    (void)snprintf(url, sizeof(url), "https://" HOST ":%d/", c->port);
    ca.data = chain->root_pem;
    ca.len = chain->root_pem_len;
    ca.flags = CURL_BLOB_COPY;
    if (easy == NULL || curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_RESOLVE, c->resolve) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3)) !=
            CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_SSL_EC_CURVES, "P-256") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, (long)IO_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK) {
        curl_easy_cleanup(easy);
        return NULL;
    }
    return easy;
}

static int curl_once(CURL *easy)
{
    long status = 0;
    return curl_easy_perform(easy) == CURLE_OK &&
           curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
}

static int run_variant(clients *c, int v)
{
    certpin_verdict verdict = CERTPIN_NOT_CHECKED;
    int ok;
    switch (v) {
    case V_OPENSSL: return openssl_once(c->plain, c->port, NULL);
    case V_OPENSSL_CERTPIN:
        ok = openssl_once(c->pinned, c->port, &verdict);
        return ok && verdict == CERTPIN_ACCEPTED_PINNED;
    case V_CURL_CERTPIN:
        /* every pinned handshake must have been pinned, not merely have succeeded */
        ok = curl_once(c->easy[v]);
        return ok &&
               certpin_result_verdict(certpin_curl_result(c->attached)) == CERTPIN_ACCEPTED_PINNED;
    default: return curl_once(c->easy[v]);
    }
}

static certpin_ctx *pin_context(const bench_chain *chain)
{
    certpin_policy *p = bench_pinned_policy(chain, HOST, 9);
    certpin_ctx *ctx = p != NULL ? certpin_ctx_new(p) : NULL;
    certpin_policy_free(p);
    return ctx;
}

static int clients_make(clients *c, const bench_chain *chain, int port)
{
    char entry[128];
    certpin_error err;
    memset(c, 0, sizeof(c[0]));
    c->port = port;
    (void)snprintf(entry, sizeof(entry), HOST ":%d:127.0.0.1", port);
    c->resolve = curl_slist_append(NULL, entry);
    c->pin = pin_context(chain);
    c->plain = client_ctx(chain);
    c->pinned = client_ctx(chain);
    if (c->resolve == NULL || c->pin == NULL || c->plain == NULL || c->pinned == NULL ||
        certpin_openssl_attach_ctx(c->pinned, c->pin) != CERTPIN_OK) {
        return 0;
    }
    c->easy[V_CURL] = curl_easy_for(c, chain);
    c->easy[V_CURL_PIN] = curl_easy_for(c, chain);
    c->easy[V_CURL_CERTPIN] = curl_easy_for(c, chain);
    if (c->easy[V_CURL] == NULL || c->easy[V_CURL_PIN] == NULL || c->easy[V_CURL_CERTPIN] == NULL ||
        curl_easy_setopt(c->easy[V_CURL_PIN], CURLOPT_PINNEDPUBLICKEY, chain->curl_pin) !=
            CURLE_OK) {
        return 0;
    }
    if (certpin_curl_attach(c->easy[V_CURL_CERTPIN], c->pin, &c->attached, &err) != CERTPIN_OK) {
        (void)fprintf(stderr, "certpin-bench: handshake: certpin_curl_attach: %s\n", err.text);
        return 0;
    }
    return 1;
}

static void clients_free(clients *c)
{
    int v;
    for (v = 0; v < VARIANTS; v++) {
        curl_easy_cleanup(c->easy[v]);
    }
    certpin_curl_free(c->attached);
    curl_slist_free_all(c->resolve);
    SSL_CTX_free(c->plain);
    SSL_CTX_free(c->pinned);
    certpin_ctx_free(c->pin);
}

/* The calling thread's CPU time: what the client itself spends on a connection (the server, on
 * another thread, does the same work for every variant). */
static double thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the trials --------------------------------------------------------------------------- */

/* A random order of the variants (Fisher-Yates): no variant always follows the same one. */
static void shuffle(int order[VARIANTS], uint64_t *seed)
{
    int i;
    for (i = 0; i < VARIANTS; i++) {
        order[i] = i;
    }
    for (i = VARIANTS - 1; i > 0; i--) {
        int j = (int)(bench_rand(seed) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void put_ratio(json_t *out, const char *key, const double *r, size_t n, FILE *table,
                      const char *what)
{
    double mean;
    double half;
    char name[96];
    bench_mean_ci95(r, n, &mean, &half);
    bench_put(out, key, mean);
    (void)snprintf(name, sizeof(name), "%s_ci95_low", key);
    bench_put(out, name, mean - half);
    (void)snprintf(name, sizeof(name), "%s_ci95_high", key);
    bench_put(out, name, mean + half);
    if (table != NULL) {
        (void)fprintf(table, "  %-34s %.4f  (95%% CI %.4f .. %.4f)\n", what, mean, mean - half,
                      mean + half);
    }
}

int bench_handshake(const bench_opts *o, json_t *out, FILE *table)
{
    static const char *const keys[VARIANTS] = {
        "handshake_us_openssl", "handshake_us_openssl_certpin", "handshake_us_curl",
        "handshake_us_curl_pin", "handshake_us_curl_certpin"};
    size_t rounds = o->quick ? 4 : 600;
    size_t warmup = o->quick ? 1 : 5;
    size_t batch = o->quick ? 1 : 5;
    static double per[VARIANTS][MAX_ROUNDS];
    static double cpu[VARIANTS][MAX_ROUNDS]; /* the client thread's CPU time */
    static double r_adapter[MAX_ROUNDS];
    static double r_curl_certpin[MAX_ROUNDS];
    static double r_curl_pin[MAX_ROUNDS];
    bench_chain chain;
    server srv;
    clients c;
    size_t r;
    size_t k;
    size_t i;
    int v;
    int ok = 0;
    int started = 0;
    uint64_t seed = 1234;

    memset(&c, 0, sizeof(c));
    if (!bench_chain_make(&chain, "P-256", HOST)) {
        return 0;
    }
    if (!server_start(&srv, &chain)) {
        (void)fprintf(stderr, "certpin-bench: handshake: cannot start the server\n");
        ERR_print_errors_fp(stderr);
        goto out;
    }
    started = 1;
    if (!clients_make(&c, &chain, srv.port)) {
        (void)fprintf(stderr, "certpin-bench: handshake: cannot set up the clients\n");
        ERR_print_errors_fp(stderr);
        goto out;
    }
    for (r = 0; r < warmup + rounds; r++) {
        double t[VARIANTS][MAX_BATCH];
        double tc[VARIANTS][MAX_BATCH];
        /* one handshake of each variant in a random order, batch times over; each variant's
         * time in the round is the median of its batch (a handshake the scheduler interrupted
         * does not make the round) */
        for (i = 0; i < batch; i++) {
            int order[VARIANTS];
            shuffle(order, &seed);
            for (k = 0; k < VARIANTS; k++) {
                double t0;
                double c0;
                v = order[k];
                c0 = thread_cpu_ns();
                t0 = bench_now_ns();
                if (!run_variant(&c, v)) {
                    (void)fprintf(
                        stderr,
                        "certpin-bench: handshake: %s failed or was not pinned (round %zu)\n",
                        variant_names[v], r);
                    ERR_print_errors_fp(stderr);
                    goto out;
                }
                t[v][i] = (bench_now_ns() - t0) / 1000.0;
                tc[v][i] = (thread_cpu_ns() - c0) / 1000.0;
            }
        }
        if (r >= warmup) {
            size_t at = r - warmup;
            for (v = 0; v < VARIANTS; v++) {
                per[v][at] = bench_median(t[v], batch);
                cpu[v][at] = bench_median(tc[v], batch);
            }
            r_adapter[at] = per[V_OPENSSL][at] / per[V_OPENSSL_CERTPIN][at];
            r_curl_certpin[at] = per[V_CURL][at] / per[V_CURL_CERTPIN][at];
            r_curl_pin[at] = per[V_CURL][at] / per[V_CURL_PIN][at];
        }
    }
    if (table != NULL) {
        (void)fprintf(table,
                      "\n4. Full TLS 1.3 handshakes over loopback, P-256, each with one HTTP/1.1 "
                      "exchange (%zu rounds, the median of %zu per variant in each)\n",
                      rounds, batch);
    }
    for (v = 0; v < VARIANTS; v++) {
        double sorted[MAX_ROUNDS];
        double med;
        double cpu_med;
        char key[80];
        memcpy(sorted, per[v], rounds * sizeof(double));
        med = bench_median(sorted, rounds);
        bench_put(out, keys[v], med);
        memcpy(sorted, cpu[v], rounds * sizeof(double));
        cpu_med = bench_median(sorted, rounds);
        (void)snprintf(key, sizeof(key), "%s_client_cpu", keys[v]);
        bench_put(out, key, cpu_med);
        if (table != NULL) {
            (void)fprintf(table, "  %-34s %8.1f us (median), the client's CPU %7.1f us\n",
                          variant_names[v], med, cpu_med);
        }
    }
    if (table != NULL) {
        (void)fprintf(table, "  handshakes a second, pinned / unpinned twin (mean of per-round "
                             "ratios):\n");
    }
    put_ratio(out, "handshake_ratio_certpin", r_adapter, rounds, table,
              "OpenSSL + adapter / OpenSSL");
    put_ratio(out, "handshake_ratio_curl_certpin", r_curl_certpin, rounds, table,
              "libcurl + certpin / libcurl");
    put_ratio(out, "handshake_ratio_curl_pin", r_curl_pin, rounds, table,
              "libcurl + PINNEDPUBLICKEY / libcurl");
    (void)json_object_set_new(out, "handshake_rounds", json_integer((json_int_t)rounds));
    (void)json_object_set_new(out, "handshake_batch", json_integer((json_int_t)batch));
    (void)json_object_set_new(out, "handshake_server_failures",
                              json_integer((json_int_t)atomic_load(&srv.failed)));
    ok = 1;
out:
    clients_free(&c);
    if (started) {
        server_stop(&srv);
    }
    bench_chain_free(&chain);
    return ok;
}
