/* Host lookup at 10 to 1 000 000 entries: an exact hit, a *. hit, a **. hit and a miss, through
 * certpin_policy_lookup (canonicalisation included, as in every check).
 *
 * Each figure cycles through 65 536 different hosts drawn at random from the whole policy (or as
 * many as it has), in a random order: at a million entries those hosts touch far more memory than
 * the caches hold, so each lookup pays what a lookup in a large policy really pays (misses to
 * memory), not what the same host looked up again would. The sizes are measured in interleaved
 * rounds, and the 1M/10 ratio is the median of per-round ratios. The same host again and again
 * ("hot") is shown beside it, and so is the floor under a lookup in a policy that does not fit
 * in the caches: one random read from memory (a chase through a random cycle of 64-byte lines
 * over 64 MiB, each read's address coming from the one before, as a lookup's key comes from its
 * slot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "certpin/certpin.h"

#define MAX_SIZES 6
#define MAX_ROUNDS 64

static const char *const kind_names[BENCH_KINDS] = {"exact", "one_label", "subtree", "miss"};

typedef struct lookup_loop {
    const certpin_policy *policy;
    const char *hosts; /* count hosts of BENCH_HOST_MAX bytes */
    size_t count;      /* a power of two */
} lookup_loop;

typedef struct size_set {
    size_t entries;
    certpin_policy *policy;
    char *hosts[BENCH_KINDS];
} size_set;

static void loop_lookup(void *p, size_t iters)
{
    const lookup_loop *l = p;
    uint64_t acc = 0;
    size_t mask = l->count - 1;
    size_t i;
    for (i = 0; i < iters; i++) {
        acc += (uint64_t)(uintptr_t)certpin_policy_lookup(
            l->policy, l->hosts + (i & mask) * BENCH_HOST_MAX, NULL);
    }
    bench_sink(acc);
}

/* An entry index of kind (0, 1, 2) below n, at random. */
static size_t pick(uint64_t *seed, size_t n, int kind)
{
    size_t of_kind = (n - (size_t)kind + 2) / 3;
    return (size_t)kind + 3 * (size_t)(bench_rand(seed) % of_kind);
}

static int make_set(size_set *s, size_t entries, size_t count, uint64_t seed)
{
    certpin_error err;
    size_t len;
    char *json = bench_policy_json(entries, seed, &len);
    int k;
    size_t i;
    memset(s, 0, sizeof(*s));
    s->entries = entries;
    if (json == NULL) {
        return 0;
    }
    s->policy = certpin_policy_load_buffer(json, len, "bench", NULL, &err);
    free(json);
    if (s->policy == NULL) {
        (void)fprintf(stderr, "certpin-bench: lookup: policy of %zu entries: %s\n", entries,
                      err.text);
        return 0;
    }
    for (k = 0; k < BENCH_KINDS; k++) {
        s->hosts[k] = malloc(count * BENCH_HOST_MAX);
        if (s->hosts[k] == NULL) {
            return 0;
        }
        for (i = 0; i < count; i++) {
            char *h = s->hosts[k] + i * BENCH_HOST_MAX;
            const certpin_entry *e;
            size_t at =
                k == BENCH_MISS ? (size_t)(bench_rand(&seed) % entries) : pick(&seed, entries, k);
            bench_lookup_host(at, k, h);
            e = certpin_policy_lookup(s->policy, h, NULL);
            if ((k == BENCH_MISS) != (e == NULL) || (e != NULL && certpin_entry_index(e) != at)) {
                (void)fprintf(stderr, "certpin-bench: lookup: %s decided by the wrong entry\n", h);
                return 0;
            }
        }
    }
    return 1;
}

/* One dependent random read from memory, in ns: a chase through a random cycle of cache lines
 * over bytes bytes. */
static double memory_read_ns(size_t bytes, size_t steps)
{
    size_t lines = bytes / 64;
    size_t *next = malloc(lines * 64);
    size_t *order = malloc(lines * sizeof(size_t));
    uint64_t seed = 99;
    size_t i;
    size_t at = 0;
    double t0;
    double ns = -1;
    if (next != NULL && order != NULL) {
        for (i = 0; i < lines; i++) {
            order[i] = i;
        }
        for (i = lines - 1; i > 0; i--) {
            size_t j = (size_t)(bench_rand(&seed) % (i + 1));
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (i = 0; i < lines; i++) {
            next[order[i] * 8] = order[(i + 1) % lines] * 8;
        }
        for (i = 0; i < lines; i++) { /* once round, so that the pages are there */
            at = next[at];
        }
        t0 = bench_now_ns();
        for (i = 0; i < steps; i++) {
            at = next[at];
        }
        ns = (bench_now_ns() - t0) / (double)steps;
        bench_sink(at);
    }
    free(next);
    free(order);
    return ns;
}

static void free_set(size_set *s)
{
    int k;
    certpin_policy_free(s->policy);
    for (k = 0; k < BENCH_KINDS; k++) {
        free(s->hosts[k]);
    }
}

static const char *size_key(size_t entries, char out[24])
{
    if (entries >= 1000000 && entries % 1000000 == 0) {
        (void)snprintf(out, 24, "%zum", entries / 1000000);
    } else if (entries >= 1000 && entries % 1000 == 0) {
        (void)snprintf(out, 24, "%zuk", entries / 1000);
    } else {
        (void)snprintf(out, 24, "%zu", entries);
    }
    return out;
}

int bench_lookup(const bench_opts *o, json_t *out, FILE *table)
{
    static const size_t full_sizes[MAX_SIZES] = {10, 100, 1000, 10000, 100000, 1000000};
    static const size_t quick_sizes[MAX_SIZES] = {10, 100, 1000, 10000, 0, 0};
    const size_t *sizes = o->quick ? quick_sizes : full_sizes;
    size_t count = o->quick ? 1024 : 65536;
    size_t rounds = o->quick ? 3 : 21;
    size_set sets[MAX_SIZES];
    size_t n_sizes = 0;
    /* ns per lookup: [size][kind][round], and the mean over the kinds per round */
    static double ns[MAX_SIZES][BENCH_KINDS][MAX_ROUNDS];
    static double mean[MAX_SIZES][MAX_ROUNDS];
    static double hot[MAX_SIZES][BENCH_KINDS][MAX_ROUNDS];
    double ratio[MAX_ROUNDS];
    double hot_ratio[MAX_ROUNDS];
    double hot_mean[MAX_SIZES][MAX_ROUNDS];
    double med[MAX_SIZES][BENCH_KINDS];
    double med_hot[MAX_SIZES][BENCH_KINDS];
    double med_mean[MAX_SIZES];
    double memory_ns;
    json_t *curve = json_array();
    size_t largest;
    size_t s;
    size_t r;
    int k;
    int ok = 0;
    char key[64];
    char name[24];

    memset(sets, 0, sizeof(sets));
    while (n_sizes < MAX_SIZES && sizes[n_sizes] != 0) {
        if (!make_set(&sets[n_sizes], sizes[n_sizes], count, 1000 + n_sizes)) {
            n_sizes++;
            goto out;
        }
        n_sizes++;
    }
    largest = n_sizes - 1;
    for (r = 0; r < rounds; r++) {
        for (s = 0; s < n_sizes; s++) {
            size_t at = (s + r) % n_sizes;
            mean[at][r] = 0;
            hot_mean[at][r] = 0;
            for (k = 0; k < BENCH_KINDS; k++) {
                lookup_loop l = {sets[at].policy, sets[at].hosts[k], count};
                lookup_loop one = {sets[at].policy, sets[at].hosts[k], 1};
                ns[at][k][r] = bench_time_loop(loop_lookup, &l, count);
                hot[at][k][r] = bench_time_loop(loop_lookup, &one, count / 4);
                mean[at][r] += ns[at][k][r] / BENCH_KINDS;
                hot_mean[at][r] += hot[at][k][r] / BENCH_KINDS;
            }
        }
        ratio[r] = mean[largest][r] / mean[0][r];
        hot_ratio[r] = hot_mean[largest][r] / hot_mean[0][r];
    }
    for (s = 0; s < n_sizes; s++) {
        json_t *point = json_object();
        (void)json_object_set_new(point, "entries", json_integer((json_int_t)sets[s].entries));
        for (k = 0; k < BENCH_KINDS; k++) {
            med[s][k] = bench_median(ns[s][k], rounds);
            med_hot[s][k] = bench_median(hot[s][k], rounds);
            bench_put(point, kind_names[k], med[s][k]);
            (void)snprintf(key, sizeof(key), "%s_hot", kind_names[k]);
            bench_put(point, key, med_hot[s][k]);
            (void)snprintf(key, sizeof(key), "lookup_ns_%s_%s", kind_names[k],
                           size_key(sets[s].entries, name));
            bench_put(out, key, med[s][k]);
        }
        med_mean[s] = bench_median(mean[s], rounds);
        bench_put(point, "mean", med_mean[s]);
        bench_put(point, "mean_hot", bench_median(hot_mean[s], rounds));
        (void)snprintf(key, sizeof(key), "lookup_hot_ns_%s", size_key(sets[s].entries, name));
        bench_put(out, key, bench_median(hot_mean[s], rounds));
        (void)json_array_append_new(curve, point);
        (void)snprintf(key, sizeof(key), "lookup_ns_%s", size_key(sets[s].entries, name));
        bench_put(out, key, med_mean[s]);
    }
    /* In --quick the largest size stands in for a million (the JSON says which). */
    if (sets[largest].entries != 1000000) {
        bench_put(out, "lookup_ns_1m", med_mean[largest]);
    }
    memory_ns = memory_read_ns(o->quick ? ((size_t)4 << 20) : ((size_t)64 << 20),
                               o->quick ? 100000 : 2000000);
    bench_put(out, "memory_read_ns", memory_ns);
    bench_put(out, "lookup_1m_in_memory_reads", med_mean[largest] / memory_ns);
    bench_put(out, "lookup_ratio_1m_10", bench_median(ratio, rounds));
    bench_put(out, "lookup_hot_ratio_1m_10", bench_median(hot_ratio, rounds));
    (void)json_object_set_new(out, "lookup_large_entries",
                              json_integer((json_int_t)sets[largest].entries));
    (void)json_object_set_new(out, "lookup_curve", json_incref(curve));
    if (table != NULL) {
        (void)fprintf(table,
                      "\n2. Host lookup, ns (certpin_policy_lookup; %zu different hosts in "
                      "turn; hot: one host again and again)\n"
                      "  %9s  %8s %8s %8s %8s  %8s   %s\n",
                      count, "entries", "exact", "*.", "**.", "miss", "mean",
                      "hot (exact *. **. miss)");
        for (s = 0; s < n_sizes; s++) {
            (void)fprintf(table,
                          "  %9zu  %8.0f %8.0f %8.0f %8.0f  %8.0f   %4.0f %4.0f %4.0f %4.0f\n",
                          sets[s].entries, med[s][0], med[s][1], med[s][2], med[s][3], med_mean[s],
                          med_hot[s][0], med_hot[s][1], med_hot[s][2], med_hot[s][3]);
        }
        (void)fprintf(table,
                      "  %zu / 10 entries: ratio %.2f (median of per-round ratios of the "
                      "means)\n",
                      sets[largest].entries, bench_median(ratio, rounds));
        (void)fprintf(table,
                      "  one random read from memory (64 MiB, dependent): %.0f ns; a hit in a "
                      "large policy reads two lines (slot, key), a miss one\n",
                      memory_ns);
    }
    ok = 1;
out:
    json_decref(curve);
    for (s = 0; s < n_sizes; s++) {
        free_set(&sets[s]);
    }
    return ok;
}
