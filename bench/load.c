/* Loading a policy of 10 000 and 1 000 000 entries (two pins each) from a JSON file, beside
 * jansson's own parse of the same file: the floor for any policy kept in JSON. Each load runs in
 * a new process made for it (this program again: the heap of one does not shape the next, nor does
 * this one's), jansson and certpin in turn, so that a ratio is taken between neighbours. In each
 * child: the time of the call, the peak resident memory during it (the kernel's VmHWM, reset just
 * before the call, less the resident set at that moment), and the heap still in use after it
 * (glibc's mallinfo2): for certpin, what the loaded policy keeps once the JSON tree is freed.
 *
 * jansson's floor is the faster of json_load_file and reading the file whole then json_loadb
 * (what certpin does), both with JSON_REJECT_DUPLICATES as certpin parses. certpin's second
 * reading of the text with yajl (src/core/crosscheck.c) is timed on its own too, to show its
 * share. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "certpin/certpin.h"
#include "private/host.h"
#include "private/policy.h"

#define MAX_ROUNDS 32

enum { OP_JANSSON_FILE, OP_JANSSON_BUFFER, OP_CERTPIN, OP_CROSSCHECK, OPS };

typedef struct child_result {
    int ok;
    double seconds;
    int64_t peak;        /* bytes */
    int64_t retained;    /* bytes */
    double free_seconds; /* jansson: json_decref of the tree afterwards (not in seconds) */
} child_result;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)size + 1)) == NULL) {
        if (f != NULL) {
            (void)fclose(f);
        }
        return NULL;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        (void)fclose(f);
        return NULL;
    }
    (void)fclose(f);
    *len = (size_t)size;
    return buf;
}

/* In the child: one operation, measured. */
static child_result run_op(int op, const char *path, size_t entries)
{
    child_result r;
    json_error_t jerr;
    certpin_error err;
    int64_t rss0;
    int64_t heap0;
    double t0;
    char *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    certpin_policy *policy = NULL;

    memset(&r, 0, sizeof(r));
    if (op == OP_CROSSCHECK) {
        buf = read_file(path, &len);
        root = buf != NULL ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
        if (root == NULL) {
            return r;
        }
    }
    if (!bench_rss_reset_peak()) {
        return r;
    }
    rss0 = bench_rss_now();
    heap0 = bench_heap_in_use();
    t0 = bench_now_ns();
    switch (op) {
    case OP_JANSSON_FILE:
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        r.ok = root != NULL;
        break;
    case OP_JANSSON_BUFFER:
        buf = read_file(path, &len);
        root = buf != NULL ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
        free(buf);
        buf = NULL;
        r.ok = root != NULL;
        break;
    case OP_CERTPIN:
        policy = certpin_policy_load_file(path, NULL, &err);
        r.ok = policy != NULL && certpin_policy_entry_count(policy) == entries;
        if (policy == NULL) {
            (void)fprintf(stderr, "certpin-bench: load: %s\n", err.text);
        }
        break;
    case OP_CROSSCHECK: r.ok = cp_json_crosscheck(buf, len, root); break;
    default: break;
    }
    r.seconds = (bench_now_ns() - t0) / 1e9;
    r.peak = bench_rss_peak() - rss0;
    r.retained = bench_heap_in_use() - heap0;
    if (op == OP_JANSSON_FILE || op == OP_JANSSON_BUFFER) {
        /* what a loader that keeps its own form of the policy pays after the parse: certpin's load
         * includes it */
        t0 = bench_now_ns();
        json_decref(root);
        r.free_seconds = (bench_now_ns() - t0) / 1e9;
    }
    /* nothing is freed: the process ends */
    (void)policy;
    return r;
}

/* One measurement in a new process: this program again (/proc/self/exe --load-child), so that
 * the heap and the resident set it starts from are its own, not a copy of this one's (a forked
 * child would reuse the parent's freed, resident heap, and its peak would not show). It writes
 * its result to the pipe it gets as standard output. */
static child_result in_child(int op, const char *path, size_t entries)
{
    child_result r;
    int fds[2];
    pid_t pid;
    int status = 0;
    memset(&r, 0, sizeof(r));
    if (pipe(fds) != 0) {
        return r;
    }
    (void)fflush(NULL);
    pid = fork();
    if (pid < 0) {
        (void)close(fds[0]);
        (void)close(fds[1]);
        return r;
    }
    if (pid == 0) {
        char op_text[16];
        char entries_text[32];
        (void)close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
            _exit(1);
        }
        (void)snprintf(op_text, sizeof(op_text), "%d", op);
        (void)snprintf(entries_text, sizeof(entries_text), "%zu", entries);
        (void)execl("/proc/self/exe", "certpin-bench", "--load-child", op_text, path, entries_text,
                    (char *)NULL);
        _exit(127);
    }
    (void)close(fds[1]);
    if (read(fds[0], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
        memset(&r, 0, sizeof(r));
    }
    (void)close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        r.ok = 0;
    }
    return r;
}

int bench_load_child(int argc, char **argv)
{
    child_result r;
    json_error_t jerr;
    json_t *warm;
    char canonical[CERTPIN_HOST_MAX];
    unsigned char pin[CERTPIN_PIN_LEN];
    if (argc != 5) {
        return 2;
    }
    /* What a process does once, not for each load: jansson seeds its hash function from the
     * system, certpin reads the public suffix list and fetches its digest. */
    warm = json_loads("{\"a\": [1]}", 0, &jerr);
    json_decref(warm);
    (void)certpin_host_canonical("warm.example.com", canonical, NULL);
    (void)cp_host_is_public_suffix("warm.example.com");
    (void)certpin_pin_from_spki((const unsigned char *)"warm", 4, pin);
    r = run_op(atoi(argv[2]), argv[3], (size_t)strtoull(argv[4], NULL, 10));
    if (fwrite(&r, sizeof(r), 1, stdout) != 1 || fflush(stdout) != 0) {
        return 1;
    }
    return 0;
}

/* The public-suffix test of every wildcard entry's base, as the loader makes it (libpsl): one of
 * the parts of a load, timed alone. */
static double psl_seconds(size_t entries)
{
    char host[BENCH_HOST_MAX];
    uint64_t acc = 0;
    double t0 = bench_now_ns();
    size_t i;
    for (i = 0; i < entries; i++) {
        if (i % 3 != 0) {
            bench_entry_host(i, host);
            acc += (uint64_t)cp_host_is_public_suffix(strchr(host, '.') + 1);
        }
    }
    bench_sink(acc);
    return (bench_now_ns() - t0) / 1e9;
}

static int run_size(const bench_opts *o, const char *dir, size_t entries, const char *key,
                    json_t *out, FILE *table)
{
    char path[1024];
    size_t len;
    char *json = bench_policy_json(entries, 77, &len);
    FILE *f;
    size_t rounds = o->quick ? 1 : entries >= 1000000 ? 5 : 15;
    double secs[OPS][MAX_ROUNDS];
    double frees[MAX_ROUNDS];
    double ratio[MAX_ROUNDS];
    child_result last[OPS];
    double med[OPS];
    double floor_s;
    double psl;
    int floor_op;
    size_t r;
    int k;
    char name[80];
    int ok = 0;

    (void)snprintf(path, sizeof(path), "%s/policy-%zu.json", dir, entries);
    f = json != NULL ? fopen(path, "wb") : NULL;
    if (f == NULL || fwrite(json, 1, len, f) != len || fclose(f) != 0) {
        (void)fprintf(stderr, "certpin-bench: load: cannot write %s\n", path);
        free(json);
        return 0;
    }
    free(json);
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < OPS; k++) {
            int op = (int)(((size_t)k + r) % OPS);
            last[op] = in_child(op, path, entries);
            if (!last[op].ok) {
                (void)fprintf(stderr, "certpin-bench: load: measurement %d of %s failed\n", op,
                              path);
                goto out;
            }
            secs[op][r] = last[op].seconds;
            if (op == OP_JANSSON_FILE) {
                frees[r] = last[op].free_seconds;
            }
        }
    }
    for (k = 0; k < OPS; k++) {
        double sorted[MAX_ROUNDS];
        memcpy(sorted, secs[k], rounds * sizeof(double));
        med[k] = bench_median(sorted, rounds);
    }
    floor_op = med[OP_JANSSON_BUFFER] < med[OP_JANSSON_FILE] ? OP_JANSSON_BUFFER : OP_JANSSON_FILE;
    floor_s = med[floor_op];
    for (r = 0; r < rounds; r++) {
        ratio[r] = secs[OP_CERTPIN][r] / secs[floor_op][r];
    }
    (void)snprintf(name, sizeof(name), "load_s_%s", key);
    bench_put(out, name, med[OP_CERTPIN]);
    (void)snprintf(name, sizeof(name), "jansson_parse_s_%s", key);
    bench_put(out, name, floor_s);
    (void)snprintf(name, sizeof(name), "jansson_parse_method_%s", key);
    (void)json_object_set_new(
        out, name,
        json_string(floor_op == OP_JANSSON_BUFFER ? "read + json_loadb" : "json_load_file"));
    (void)snprintf(name, sizeof(name), "load_ratio_%s", key);
    bench_put(out, name, bench_median(ratio, rounds));
    (void)snprintf(name, sizeof(name), "jansson_free_s_%s", key);
    bench_put(out, name, bench_median(frees, rounds));
    (void)snprintf(name, sizeof(name), "crosscheck_s_%s", key);
    bench_put(out, name, med[OP_CROSSCHECK]);
    psl = psl_seconds(entries);
    (void)snprintf(name, sizeof(name), "public_suffix_s_%s", key);
    bench_put(out, name, psl);
    (void)snprintf(name, sizeof(name), "load_peak_mb_%s", key);
    bench_put(out, name, (double)last[OP_CERTPIN].peak / 1048576.0);
    (void)snprintf(name, sizeof(name), "jansson_peak_mb_%s", key);
    bench_put(out, name, (double)last[floor_op].peak / 1048576.0);
    (void)snprintf(name, sizeof(name), "load_bytes_per_entry_%s", key);
    bench_put(out, name, (double)last[OP_CERTPIN].retained / (double)entries);
    (void)snprintf(name, sizeof(name), "load_bytes_per_entry_beyond_pins_%s", key);
    bench_put(out, name,
              (double)last[OP_CERTPIN].retained / (double)entries - 2.0 * CERTPIN_PIN_LEN);
    (void)snprintf(name, sizeof(name), "jansson_tree_bytes_per_entry_%s", key);
    bench_put(out, name, (double)last[floor_op].retained / (double)entries);
    (void)snprintf(name, sizeof(name), "policy_file_mb_%s", key);
    bench_put(out, name, (double)len / 1048576.0);
    if (table != NULL) {
        (void)fprintf(
            table,
            "  %8zu entries (%.1f MB of JSON):\n"
            "    jansson alone (%s)  %8.3f s   peak %7.1f MB   tree %5.0f B/entry\n"
            "      (json_load_file %.3f s, read + json_loadb %.3f s)\n"
            "    certpin_policy_load_file        %8.3f s   peak %7.1f MB   keeps %5.0f B/entry"
            " (%.0f beyond the pins)\n"
            "      ratio to jansson %.2f; parts, each alone: the second reading with yajl %.3f s,\n"
            "      the public-suffix tests %.3f s, freeing jansson's tree %.3f s\n",
            entries, (double)len / 1048576.0,
            floor_op == OP_JANSSON_BUFFER ? "read + json_loadb" : "json_load_file   ", floor_s,
            (double)last[floor_op].peak / 1048576.0,
            (double)last[floor_op].retained / (double)entries, med[OP_JANSSON_FILE],
            med[OP_JANSSON_BUFFER], med[OP_CERTPIN], (double)last[OP_CERTPIN].peak / 1048576.0,
            (double)last[OP_CERTPIN].retained / (double)entries,
            (double)last[OP_CERTPIN].retained / (double)entries - 2.0 * CERTPIN_PIN_LEN,
            bench_median(ratio, rounds), med[OP_CROSSCHECK], psl, bench_median(frees, rounds));
    }
    ok = 1;
out:
    (void)unlink(path);
    return ok;
}

int bench_load(const bench_opts *o, json_t *out, FILE *table)
{
    char dir[1024];
    size_t small = o->quick ? 1000 : 10000;
    size_t large = o->quick ? 10000 : 1000000;
    int ok;
    (void)snprintf(dir, sizeof(dir), "%s/certpin-bench.XXXXXX", o->tmpdir);
    if (mkdtemp(dir) == NULL) {
        (void)fprintf(stderr, "certpin-bench: load: cannot make a directory in %s\n", o->tmpdir);
        return 0;
    }
    if (table != NULL) {
        (void)fprintf(table, "\n3. Loading a policy (two pins an entry), each load in a child "
                             "process; median times, ratio of neighbours\n");
    }
    /* --quick loads smaller policies under the same keys: the figures' names do not change */
    ok = run_size(o, dir, small, "10k", out, table) && run_size(o, dir, large, "1m", out, table);
    (void)json_object_set_new(out, "load_large_entries", json_integer((json_int_t)large));
    (void)rmdir(dir);
    return ok;
}
