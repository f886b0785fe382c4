/* Allocation failures. This program replaces malloc, calloc, realloc and free for the whole
 * process (ELF interposition: libcertpin's allocations and those of jansson, libidn2, libpsl and
 * OpenSSL alike go through them, so certpin needs no global json_set_alloc_funcs) and makes the
 * N-th allocation after it is armed fail, walking N from 1 upward through an operation until the
 * operation meets no failure. Each N runs in a child process, so that a crash is seen, not fatal.
 * For every N:
 *   - the operation returns an error (or succeeds with the same outcome as without failures):
 *     it never crashes and never reports a half-built policy or a wrong verdict;
 *   - nothing leaks: the number of live allocations is the same after the operation and its
 *     clean-up as before (a one-time global initialisation inside a library, done on the first
 *     error path, is told apart by running the same N again: that one must not grow).
 * One exception, counted and printed, not failed: jansson 2.14 (Debian 12's) asserts or corrupts
 * its heap when some of its own allocations fail (lex_scan_string's assert(0) after lex_save lost
 * a byte; hashtable_do_rehash leaving no buckets). certpin cannot reach inside jansson without the
 * process-global json_set_alloc_funcs, which a library must not call; a crash whose failed
 * allocation was made by libjansson itself is that defect. (Where jansson silently drops the
 * byte instead, certpin's second reading with yajl refuses the policy: see crosscheck.c.)
 * The operations: loading a policy with findings (jansson, the loader, the cross-check and the
 * locator with yajl, libidn2, libpsl), a policy with errors, building one in code, and a check
 * with its explanation. Not built in sanitizer builds, whose runtimes own malloc. */
#define _GNU_SOURCE /* dladdr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dlfcn.h>

#include <cmocka.h>

#ifdef CERTPIN_TEST_OPENSSL_FLAVOR
#include <openssl/err.h>
#endif

#include "certpin/certpin.h"
#include "synthetic.h"

/* ---- the allocator ------------------------------------------------------------------------- */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static long live;          /* allocations made and not yet freed, whole process */
static char *origin;       /* shared with the parent: the object that made the failed allocation */
static long countdown;     /* armed when > 0: the allocation that brings it to 0 fails */
static unsigned long seen; /* allocations while armed */
static int failed;         /* the armed failure happened */

/* A place for a debugger's breakpoint: the allocation that is made to fail. */
void oom_hit(void) __attribute__((noinline));
void oom_hit(void) { __asm__ volatile("" ::: "memory"); }

static int should_fail(const void *caller)
{
    if (countdown <= 0) {
        return 0;
    }
    seen++;
    if (--countdown == 0) {
        Dl_info info;
        failed = 1;
        if (origin != NULL && dladdr(caller, &info) != 0 && info.dli_fname != NULL) {
            (void)snprintf(origin, 256, "%s", info.dli_fname);
        }
        oom_hit();
        return 1;
    }
    return 0;
}

void *malloc(size_t size)
{
    void *p;
    if (should_fail(__builtin_return_address(0))) {
        return NULL;
    }
    p = __libc_malloc(size);
    if (p != NULL) {
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p;
    if (should_fail(__builtin_return_address(0))) {
        return NULL;
    }
    p = __libc_calloc(n, size);
    if (p != NULL) {
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    return p;
}

void *realloc(void *old, size_t size)
{
    void *p;
    if (old == NULL) {
        return malloc(size);
    }
    if (size == 0) {
        free(old);
        return NULL;
    }
    if (should_fail(__builtin_return_address(0))) {
        return NULL;
    }
    p = __libc_realloc(old, size);
    return p;
}

void free(void *p)
{
    if (p != NULL) {
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
        __libc_free(p);
    }
}

/* ---- the operations ------------------------------------------------------------------------ */

/* The operations run in a child process, outside cmocka's reach: a failed expectation prints and
 * ends the child with status 101. */
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (void)fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);              \
            _exit(101);                                                                            \
        }                                                                                          \
    } while (0)

/* An operation runs, then cleans up everything it made. It returns 0 when it failed cleanly
 * (an error reported), 1 when it succeeded; on success it writes what it produced to out so that
 * the walk can compare it with the outcome without failures. */
typedef int (*operation)(char *out, size_t cap);

static char policy_json[4096];

static int op_load(char *out, size_t cap)
{
    certpin_load_options opts;
    certpin_error err;
    certpin_policy *p;
    memset(&opts, 0, sizeof(opts));
    opts.now = 1800000000;
    opts.diags = certpin_diags_new();
    if (opts.diags == NULL) {
        return 0;
    }
    p = certpin_policy_load_buffer(policy_json, strlen(policy_json), "oom.json", &opts, &err);
    if (p == NULL) {
        EXPECT(err.status != CERTPIN_OK);
        certpin_diags_free(opts.diags);
        return 0;
    }
    (void)snprintf(out, cap, "%s %zu warnings", certpin_policy_id_hex(p),
                   certpin_diags_count(certpin_policy_warnings(p)));
    certpin_policy_free(p);
    certpin_diags_free(opts.diags);
    return 1;
}

/* A policy with errors: the operation "succeeds" when every finding was reported. */
static int op_load_bad(char *out, size_t cap)
{
    static const char bad[] =
        "{\"certpin\": 1, \"unpinned\": \"block\", \"domains\": [\n"
        " {\"host\": \"a..example.com\", \"pins\": [\"sha256/x\"], \"mode\": \"of\"},\n"
        " {\"host\": \"**.com\", \"pin\": []},\n"
        " {\"host\": \"b.example.com\", \"pins\": [\"sha256/x\"]}, {\"host\": \"B.example.com\"}]}";
    certpin_load_options opts;
    certpin_error err;
    certpin_policy *p;
    size_t i;
    size_t used = 0;
    memset(&opts, 0, sizeof(opts));
    opts.strict = 1;
    opts.diags = certpin_diags_new();
    if (opts.diags == NULL) {
        return 0;
    }
    p = certpin_policy_load_buffer(bad, strlen(bad), "bad.json", &opts, &err);
    EXPECT(p == NULL); /* never a policy, whatever failed */
    EXPECT(err.status != CERTPIN_OK);
    if (err.status == CERTPIN_E_NOMEM) {
        certpin_diags_free(opts.diags);
        return 0;
    }
    for (i = 0; i < certpin_diags_count(opts.diags); i++) {
        const certpin_diag *d = certpin_diags_get(opts.diags, i);
        used += (size_t)snprintf(out + used, cap - used, "%s@%s:%d ", d->code, d->path, d->line);
        if (used >= cap) {
            break;
        }
    }
    certpin_diags_free(opts.diags);
    return 1;
}

static char build_pins[2][CERTPIN_PIN_STR_MAX]; /* computed in main, before any failure */

static int op_build(char *out, size_t cap)
{
    const char *list[2] = {build_pins[0], build_pins[1]};
    certpin_domain d;
    certpin_error err;
    certpin_builder *b;
    certpin_policy *p;
    memset(&d, 0, sizeof(d));
    d.host = "*.faß.example.com";
    d.pins = list;
    d.pin_count = 2;
    d.expires = "2030-01-01";
    b = certpin_builder_new();
    if (b == NULL) {
        return 0;
    }
    if (certpin_builder_add(b, &d, &err) != CERTPIN_OK) {
        EXPECT(err.status == CERTPIN_E_NOMEM);
        certpin_builder_free(b);
        return 0;
    }
    p = certpin_builder_build(b, &err);
    certpin_builder_free(b);
    if (p == NULL) {
        EXPECT(err.status != CERTPIN_OK);
        return 0;
    }
    (void)snprintf(out, cap, "%s", certpin_policy_id_hex(p));
    certpin_policy_free(p);
    return 1;
}

static certpin_policy *check_policy;

static int op_check(char *out, size_t cap)
{
    test_chain ch;
    certpin_result *r = certpin_result_new();
    certpin_status st;
    const char *text;
    if (r == NULL) {
        return 0;
    }
    make_chain(&ch, "rogue int2 root2");
    st = certpin_check(check_policy, "API.Example.COM.", 443, ch.certs, ch.len, 1800000000, r);
    if (st != CERTPIN_OK) {
        EXPECT(certpin_result_verdict(r) == CERTPIN_REJECTED_ERROR);
        certpin_result_free(r);
#ifdef CERTPIN_TEST_OPENSSL_FLAVOR
        /* A check whose hashing failed inside OpenSSL leaves OpenSSL's reasons on the thread's
         * error queue (src/crypto/crypto_openssl.c), as OpenSSL's own functions do; an
         * application clears them as it does after any OpenSSL failure. They are not leaks. */
        ERR_clear_error();
#endif
        return 0;
    }
    /* the explanation may say it ran out of memory; the verdict may not change */
    text = certpin_result_explain(r);
    EXPECT(text != NULL && text[0] != '\0');
    (void)snprintf(out, cap, "%s depth %d", certpin_verdict_str(certpin_result_verdict(r)),
                   certpin_result_depth(r));
    certpin_result_free(r);
    return 1;
}

/* ---- the walk ------------------------------------------------------------------------------ */

enum { CHILD_FAILED_CLEANLY = 0, CHILD_SUCCEEDED = 1, CHILD_RAN_WHOLE = 2, CHILD_BAD = 100 };

/* In the child: runs op with the n-th allocation failing; returns its exit status. */
static int child(operation op, unsigned long n, const char *want, const char *name)
{
    static char got[8192];
    long before = live;
    long again;
    int ok;
    failed = 0;
    seen = 0;
    countdown = (long)n;
    ok = op(got, sizeof(got));
    countdown = 0;
    if (!failed) {
        if (!ok || strcmp(got, want) != 0) {
            (void)fprintf(stderr, "%s: without failures the outcome changed:\n  %s\n  %s\n", name,
                          got, want);
            return CHILD_BAD;
        }
        return CHILD_RAN_WHOLE;
    }
    /* a failure the operation could do without (a message's line number) must leave the outcome
     * as it was; a policy with errors may lose findings, never gain a policy */
    if (ok && strcmp(got, want) != 0 && strcmp(name, "load-bad") != 0) {
        (void)fprintf(stderr, "%s: allocation %lu failed and the outcome changed:\n  %s\n  %s\n",
                      name, n, got, want);
        return CHILD_BAD;
    }
    if (live != before) {
        again = live;
        countdown = (long)n;
        (void)op(got, sizeof(got));
        countdown = 0;
        if (live != again) {
            (void)fprintf(stderr, "%s: failing allocation %lu leaks %ld allocation(s)\n", name, n,
                          live - again);
            return CHILD_BAD;
        }
    }
    return ok ? CHILD_SUCCEEDED : CHILD_FAILED_CLEANLY;
}

static void walk(const char *name, operation op)
{
    static char want[8192];
    unsigned long n;
    unsigned long errors = 0;
    unsigned long jansson = 0;

    /* Once without failures: the reference outcome, and every one-time initialisation done. */
    assert_int_equal(op(want, sizeof(want)), 1);
    assert_int_equal(op(want, sizeof(want)), 1);
    (void)fflush(NULL);
    for (n = 1; n < 100000; n++) {
        int status;
        pid_t pid;
        origin[0] = '\0';
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            _exit(child(op, n, want, name));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status)) {
            if (strstr(origin, "libjansson") != NULL) {
                jansson++; /* the jansson defect described at the top */
                continue;
            }
            fail_msg("%s: failing allocation %lu (made by %s) crashed the process (signal %d)",
                     name, n, origin[0] != '\0' ? origin : "?", WTERMSIG(status));
        }
        assert_true(WIFEXITED(status));
        switch (WEXITSTATUS(status)) {
        case CHILD_FAILED_CLEANLY: errors++; break;
        case CHILD_SUCCEEDED: break;
        case CHILD_RAN_WHOLE:
            (void)printf("%s: %lu allocations, each failed once: %lu reported as errors, %lu "
                         "absorbed, %lu crashed inside jansson\n",
                         name, n - 1, errors, n - 1 - errors - jansson, jansson);
            return;
        default: fail_msg("%s: allocation %lu: see above", name, n);
        }
    }
    fail_msg("%s: more than 100000 allocations", name);
}

static void oom_load(void **state)
{
    (void)state;
    walk("load", op_load);
}

static void oom_load_bad(void **state)
{
    (void)state;
    walk("load-bad", op_load_bad);
}

static void oom_build(void **state)
{
    (void)state;
    walk("build", op_build);
}

static void oom_check(void **state)
{
    (void)state;
    walk("check", op_check);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(oom_load),
        cmocka_unit_test(oom_load_bad),
        cmocka_unit_test(oom_build),
        cmocka_unit_test(oom_check),
    };
    static const char tmpl[] =
        "{\"certpin\": 1, \"unpinned\": \"allow\", \"domains\": [\n"
        " {\"host\": \"api.example.com\", \"pins\": [\"@leaf\", \"@backup\"],"
        "  \"expires\": \"2027-01-10\"},\n"
        " {\"host\": \"**.example.com\", \"pins\": [\"@root\"], \"deny\": [\"@deny\"]},\n"
        " {\"host\": \"*.xn--fa-hia.de\", \"pins\": [\"@int\", \"@backup\"], \"mode\": "
        "\"report-only\"},\n"
        " {\"host\": \"legacy.example.com\", \"mode\": \"off\"},\n"
        " {\"host\": \"::1\", \"pins\": [\"@leaf\", \"@backup\"]}]}";
    certpin_error err;
    origin = mmap(NULL, 256, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (origin == MAP_FAILED) {
        return 1;
    }
    expand(tmpl, policy_json, sizeof(policy_json));
    pin_of("leaf", build_pins[0]);
    pin_of("backup", build_pins[1]);
    check_policy =
        certpin_policy_load_buffer(policy_json, strlen(policy_json), "check.json", NULL, &err);
    if (check_policy == NULL) {
        (void)fprintf(stderr, "test policy: %s\n", err.text);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
