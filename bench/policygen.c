/* The policies the benchmark loads and looks hosts up in: n entries, a third of each kind, two
 * generated pins each (see bench.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void bench_entry_host(size_t i, char out[BENCH_HOST_MAX])
{
    static const char *const prefix[3] = {"api.", "*.", "**."};
    (void)snprintf(out, BENCH_HOST_MAX, "%sd%zu.example.com", prefix[i % 3], i);
}

void bench_lookup_host(size_t i, int kind, char out[BENCH_HOST_MAX])
{
    switch (kind) {
    case BENCH_HIT_EXACT: (void)snprintf(out, BENCH_HOST_MAX, "api.d%zu.example.com", i); break;
    case BENCH_HIT_ONE_LABEL: (void)snprintf(out, BENCH_HOST_MAX, "www.d%zu.example.com", i); break;
    case BENCH_HIT_SUBTREE: (void)snprintf(out, BENCH_HOST_MAX, "a.b.d%zu.example.com", i); break;
    default: (void)snprintf(out, BENCH_HOST_MAX, "a.b.d%zu.example.net", i); break;
    }
}

char *bench_policy_json(size_t n, uint64_t seed, size_t *len)
{
    size_t cap = 256 + n * 160;
    size_t used = 0;
    char *buf = malloc(cap);
    size_t i;
    if (buf == NULL) {
        return NULL;
    }
    used += (size_t)snprintf(
        buf, cap, "{\n  \"certpin\": 1,\n  \"unpinned\": \"allow\",\n  \"domains\": [\n");
    for (i = 0; i < n; i++) {
        char host[BENCH_HOST_MAX];
        char pin1[72];
        char pin2[72];
        int w;
        bench_entry_host(i, host);
        bench_random_pin(&seed, pin1);
        bench_random_pin(&seed, pin2);
        w = snprintf(buf + used, cap - used,
                     "    {\"host\": \"%s\", \"pins\": [\"%s\", \"%s\"]}%s\n", host, pin1, pin2,
                     i + 1 < n ? "," : "");
        if (w < 0 || (size_t)w >= cap - used) {
            free(buf);
            return NULL;
        }
        used += (size_t)w;
    }
    used += (size_t)snprintf(buf + used, cap - used, "  ]\n}\n");
    *len = used;
    return buf;
}
