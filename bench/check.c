/* The check on a verified chain of three certificates, beside its floor: SHA-256 over the same
 * three SubjectPublicKeyInfos with OpenSSL used the best way it allows: the digest fetched once,
 * and either one EVP_MD_CTX re-initialised for each key or each key's context copied from one
 * initialised once (both are measured; the faster is the floor). certpin cannot check a chain
 * without hashing every key on it, so the floor is what any SPKI pinning with this crypto library
 * costs, and the ratio is what certpin adds. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co.: shown for reference only */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bench.h"
#include "certpin/certpin.h"
#include "private/error.h"
#include "private/host.h"
#include "private/policy.h"

#define HOST "api.example.com"
#define MAX_ROUNDS 301

typedef struct check_arg {
    const bench_chain *chain;
    certpin_cert certs[3];
    certpin_policy *policy;
    certpin_ctx *ctx;
    certpin_conn conn;
    certpin_result *result;
    int64_t now;
    EVP_MD *md;
    EVP_MD_CTX *md_ctx;
    EVP_MD_CTX *md_template; /* initialised once, copied for each key */
} check_arg;

static void loop_floor(void *p, size_t iters)
{
    check_arg *a = p;
    unsigned char out[32];
    unsigned int n;
    uint64_t acc = 0;
    size_t i;
    size_t k;
    for (i = 0; i < iters; i++) {
        for (k = 0; k < 3; k++) {
            (void)EVP_DigestInit_ex2(a->md_ctx, a->md, NULL);
            (void)EVP_DigestUpdate(a->md_ctx, a->chain->spki[k], a->chain->spki_len[k]);
            (void)EVP_DigestFinal_ex(a->md_ctx, out, &n);
            acc += out[0];
        }
    }
    bench_sink(acc);
}

static void loop_floor_copy(void *p, size_t iters)
{
    check_arg *a = p;
    unsigned char out[32];
    unsigned int n;
    uint64_t acc = 0;
    size_t i;
    size_t k;
    for (i = 0; i < iters; i++) {
        for (k = 0; k < 3; k++) {
            (void)EVP_MD_CTX_copy_ex(a->md_ctx, a->md_template);
            (void)EVP_DigestUpdate(a->md_ctx, a->chain->spki[k], a->chain->spki_len[k]);
            (void)EVP_DigestFinal_ex(a->md_ctx, out, &n);
            acc += out[0];
        }
    }
    bench_sink(acc);
}

static void loop_lowlevel(void *p, size_t iters)
{
    check_arg *a = p;
    unsigned char out[32];
    SHA256_CTX c;
    uint64_t acc = 0;
    size_t i;
    size_t k;
    for (i = 0; i < iters; i++) {
        for (k = 0; k < 3; k++) {
            (void)SHA256_Init(&c);
            (void)SHA256_Update(&c, a->chain->spki[k], a->chain->spki_len[k]);
            (void)SHA256_Final(out, &c);
            acc += out[0];
        }
    }
    bench_sink(acc);
}

/* Parts of what the check does beyond hashing, each alone (the library's internal functions: the
 * bench is linked with its objects): where the time above the floor goes. */
static void loop_part_errmark(void *p, size_t iters)
{
    size_t i;
    (void)p;
    for (i = 0; i < iters; i++) {
        (void)ERR_set_mark();
        (void)ERR_pop_to_mark();
    }
}

static void loop_part_canonical(void *p, size_t iters)
{
    char out[CERTPIN_HOST_MAX];
    cp_host_kind kind;
    uint64_t acc = 0;
    size_t i;
    (void)p;
    for (i = 0; i < iters; i++) {
        (void)cp_host_canonical(HOST, out, &kind, NULL);
        acc += (uint64_t)out[1];
    }
    bench_sink(acc);
}

static void loop_part_lookup(void *p, size_t iters)
{
    check_arg *a = p;
    uint64_t acc = 0;
    size_t i;
    for (i = 0; i < iters; i++) {
        acc += (uint64_t)(uintptr_t)cp_policy_lookup(a->policy, HOST, CP_HOST_NAME);
    }
    bench_sink(acc);
}

static void loop_part_subjects(void *p, size_t iters)
{
    check_arg *a = p;
    char out[3][256];
    uint64_t acc = 0;
    size_t i;
    size_t k;
    for (i = 0; i < iters; i++) {
        for (k = 0; k < 3; k++) {
            cp_strlcpy(out[k], a->certs[k].subject, sizeof(out[k]));
        }
        acc += (uint64_t)out[2][1];
    }
    bench_sink(acc);
}

static void loop_check(void *p, size_t iters)
{
    check_arg *a = p;
    uint64_t acc = 0;
    size_t i;
    for (i = 0; i < iters; i++) {
        (void)certpin_check(a->policy, HOST, 443, a->certs, 3, a->now, a->result);
        acc += (uint64_t)certpin_result_verdict(a->result);
    }
    bench_sink(acc);
}

static void loop_ctx_check(void *p, size_t iters)
{
    check_arg *a = p;
    uint64_t acc = 0;
    size_t i;
    for (i = 0; i < iters; i++) {
        (void)certpin_ctx_check(a->ctx, &a->conn, a->result);
        acc += (uint64_t)certpin_result_verdict(a->result);
    }
    bench_sink(acc);
}

/* Allocation calls per iteration of fn (the crypto library's included). */
static double allocs_per_iter(bench_loop_fn fn, void *arg, size_t iters)
{
    uint64_t before;
    fn(arg, 16); /* warm: thread-local contexts made on first use are not per-check costs */
    alloc_count_enable(1);
    before = alloc_count_calls();
    fn(arg, iters);
    alloc_count_enable(0);
    return (double)(alloc_count_calls() - before) / (double)iters;
}

static int run_one(const bench_opts *o, const char *keytype, const char *suffix, json_t *out,
                   FILE *table)
{
    enum {
        FLOOR_INIT,
        FLOOR_COPY,
        CHECK,
        CTX_CHECK,
        LOWLEVEL,
        PART_ERRMARK,
        PART_CANONICAL,
        PART_LOOKUP,
        PART_SUBJECTS,
        KINDS
    };
    static const bench_loop_fn loops[KINDS] = {
        loop_floor,        loop_floor_copy,     loop_check,       loop_ctx_check,    loop_lowlevel,
        loop_part_errmark, loop_part_canonical, loop_part_lookup, loop_part_subjects};
    static const char *const part_keys[KINDS] = {[PART_ERRMARK] = "errmark",
                                                 [PART_CANONICAL] = "canonical",
                                                 [PART_LOOKUP] = "lookup",
                                                 [PART_SUBJECTS] = "subjects"};
    bench_chain chain;
    check_arg a;
    size_t rounds = o->quick ? 5 : MAX_ROUNDS;
    double block_ns = o->quick ? 1e5 : 1e6;
    double per[KINDS][MAX_ROUNDS];
    double sorted[MAX_ROUNDS];
    double ratio[2][MAX_ROUNDS];
    size_t floor;
    double med[KINDS];
    double ratio_med[2];
    double floor_allocs;
    double check_allocs;
    size_t iters[KINDS];
    size_t r;
    size_t k;
    char key[64];
    int ok = 0;

    memset(&a, 0, sizeof(a));
    if (!bench_chain_make(&chain, keytype, HOST)) {
        return 0;
    }
    a.chain = &chain;
    for (k = 0; k < 3; k++) {
        a.certs[k].spki = chain.spki[k];
        a.certs[k].spki_len = chain.spki_len[k];
        a.certs[k].subject = chain.subject[k];
    }
    a.now = (int64_t)time(NULL);
    a.policy = bench_pinned_policy(&chain, HOST, 42);
    a.ctx = certpin_ctx_new(a.policy);
    a.result = certpin_result_new();
    a.md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    a.md_ctx = EVP_MD_CTX_new();
    a.md_template = EVP_MD_CTX_new();
    a.conn.host = HOST;
    a.conn.port = 443;
    a.conn.verified_chain = a.certs;
    a.conn.verified_len = 3;
    a.conn.served_chain = a.certs;
    a.conn.served_len = 2;
    if (a.policy == NULL || a.ctx == NULL || a.result == NULL || a.md == NULL || a.md_ctx == NULL ||
        a.md_template == NULL || EVP_DigestInit_ex2(a.md_template, a.md, NULL) != 1) {
        (void)fprintf(stderr, "certpin-bench: check: set-up failed\n");
        goto out;
    }
    if (certpin_check(a.policy, HOST, 443, a.certs, 3, a.now, a.result) != CERTPIN_OK ||
        certpin_result_verdict(a.result) != CERTPIN_ACCEPTED_PINNED) {
        (void)fprintf(stderr, "certpin-bench: check: the chain is not accepted-pinned: %s\n",
                      certpin_result_explain(a.result));
        goto out;
    }
    for (k = 0; k < KINDS; k++) {
        iters[k] = bench_calibrate(loops[k], &a, block_ns);
    }
    /* Rounds of one block each, in an order that turns every round: what the machine does to one
     * block it does to its neighbours, and the per-round ratios cancel it. */
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < KINDS; k++) {
            size_t kind = (k + r) % KINDS;
            per[kind][r] = bench_time_loop(loops[kind], &a, iters[kind]);
        }
    }
    for (k = 0; k < KINDS; k++) {
        memcpy(sorted, per[k], rounds * sizeof(double));
        med[k] = bench_median(sorted, rounds);
    }
    floor = med[FLOOR_COPY] < med[FLOOR_INIT] ? FLOOR_COPY : FLOOR_INIT;
    for (r = 0; r < rounds; r++) {
        ratio[0][r] = per[CHECK][r] / per[floor][r];
        ratio[1][r] = per[CTX_CHECK][r] / per[floor][r];
    }
    ratio_med[0] = bench_median(ratio[0], rounds);
    ratio_med[1] = bench_median(ratio[1], rounds);
    floor_allocs = allocs_per_iter(loop_floor, &a, 1000);
    check_allocs = allocs_per_iter(loop_check, &a, 1000);

    (void)snprintf(key, sizeof(key), "check_ns_%s", suffix);
    bench_put(out, key, med[CHECK]);
    (void)snprintf(key, sizeof(key), "floor_ns_%s", suffix);
    bench_put(out, key, med[floor]);
    (void)snprintf(key, sizeof(key), "floor_method_%s", suffix);
    (void)json_object_set_new(
        out, key, json_string(floor == FLOOR_COPY ? "EVP_MD_CTX_copy_ex" : "EVP_DigestInit_ex2"));
    (void)snprintf(key, sizeof(key), "check_ratio_%s", suffix);
    bench_put(out, key, ratio_med[0]);
    (void)snprintf(key, sizeof(key), "ctx_check_ns_%s", suffix);
    bench_put(out, key, med[CTX_CHECK]);
    (void)snprintf(key, sizeof(key), "ctx_check_ratio_%s", suffix);
    bench_put(out, key, ratio_med[1]);
    (void)snprintf(key, sizeof(key), "sha256_lowlevel_ns_%s", suffix);
    bench_put(out, key, med[LOWLEVEL]);
    (void)snprintf(key, sizeof(key), "check_allocs_%s", suffix);
    bench_put(out, key, check_allocs);
    (void)snprintf(key, sizeof(key), "floor_allocs_%s", suffix);
    bench_put(out, key, floor_allocs);
    /* what the check allocates beyond what the crypto library does for the floor's digests */
    (void)snprintf(key, sizeof(key), "check_allocs_added_%s", suffix);
    (void)json_object_set_new(out, key, json_real(check_allocs - floor_allocs));
    for (k = PART_ERRMARK; k < KINDS; k++) {
        (void)snprintf(key, sizeof(key), "check_part_%s_ns_%s", part_keys[k], suffix);
        bench_put(out, key, med[k]);
    }
    (void)snprintf(key, sizeof(key), "spki_bytes_%s", suffix);
    (void)json_object_set_new(
        out, key,
        json_integer((json_int_t)(chain.spki_len[0] + chain.spki_len[1] + chain.spki_len[2])));
    if (table != NULL) {
        (void)fprintf(table,
                      "  %-8s  floor (EVP, 3 x SHA-256, %zu B)  %7.0f ns   [%.1f allocations]\n"
                      "            (EVP_DigestInit_ex2 %.0f ns, EVP_MD_CTX_copy_ex %.0f ns)\n"
                      "            certpin_check                    %7.0f ns   ratio %.3f   "
                      "[%.1f allocations]\n"
                      "            certpin_ctx_check                %7.0f ns   ratio %.3f\n"
                      "            (SHA-256 without EVP, deprecated  %7.0f ns)\n"
                      "            above the floor, alone: error-queue mark %.0f ns, host %.0f ns, "
                      "lookup %.0f ns, three subjects %.0f ns\n",
                      keytype, chain.spki_len[0] + chain.spki_len[1] + chain.spki_len[2],
                      med[floor], floor_allocs, med[FLOOR_INIT], med[FLOOR_COPY], med[CHECK],
                      ratio_med[0], check_allocs, med[CTX_CHECK], ratio_med[1], med[LOWLEVEL],
                      med[PART_ERRMARK], med[PART_CANONICAL], med[PART_LOOKUP], med[PART_SUBJECTS]);
    }
    ok = 1;
out:
    EVP_MD_CTX_free(a.md_template);
    EVP_MD_CTX_free(a.md_ctx);
    EVP_MD_free(a.md);
    certpin_result_free(a.result);
    certpin_ctx_free(a.ctx);
    certpin_policy_free(a.policy);
    bench_chain_free(&chain);
    return ok;
}

int bench_check(const bench_opts *o, json_t *out, FILE *table)
{
    if (table != NULL) {
        (void)fprintf(table, "1. The check on a verified chain of three certificates "
                             "(median of per-round ratios)\n");
    }
    return run_one(o, "P-256", "p256", out, table) && run_one(o, "RSA-2048", "rsa2048", out, table);
}
