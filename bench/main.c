/* certpin-bench: what certpin costs, beside what it cannot cost less than.
 *
 *   certpin-bench [--json] [--quick] [--only check,lookup,load,handshake]
 *
 * Prints a table (with --json, one JSON object, and the table on standard error) of: the check
 * against SHA-256 of the same keys; host lookup at 10 to 1 000 000 entries; loading a policy
 * against jansson's own parse; handshakes over loopback with and without pinning. Every server it
 * starts listens on 127.0.0.1 only and stops by itself; temporary files go to $TMPDIR (default
 * /tmp) and are removed. Exit status 0, or 1 when a measurement could not be made, 2 on a usage
 * error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <curl/curl.h>

#include "bench.h"
#include "certpin/certpin.h"

static void usage(FILE *f)
{
    (void)fputs("usage: certpin-bench [--json] [--quick] [--only SECTION[,SECTION...]]\n"
                "  sections: check, lookup, load, handshake (default: all)\n"
                "  --json   one JSON object on standard output (the table goes to standard error)\n"
                "  --quick  seconds instead of minutes: proves that it runs, measures little\n",
                f);
}

static int parse_sections(const char *list, unsigned *out)
{
    char buf[128];
    char *save = NULL;
    char *tok;
    if (strlen(list) >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, list, strlen(list) + 1);
    *out = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "check") == 0) {
            *out |= BENCH_CHECK;
        } else if (strcmp(tok, "lookup") == 0) {
            *out |= BENCH_LOOKUP;
        } else if (strcmp(tok, "load") == 0) {
            *out |= BENCH_LOAD;
        } else if (strcmp(tok, "handshake") == 0) {
            *out |= BENCH_HANDSHAKE;
        } else {
            return 0;
        }
    }
    return *out != 0;
}

static void cpu_model(char *out, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    (void)snprintf(out, cap, "unknown");
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon += 2;
            colon[strcspn(colon, "\n")] = '\0';
            (void)snprintf(out, cap, "%s", colon);
            break;
        }
    }
    (void)fclose(f);
}

static void machine(json_t *out, FILE *table, const bench_opts *o)
{
    json_t *m = json_object();
    struct utsname u;
    char cpu[256];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_model(cpu, sizeof(cpu));
    if (uname(&u) != 0) {
        memset(&u, 0, sizeof(u));
    }
    (void)json_object_set_new(m, "cpu", json_string(cpu));
    (void)json_object_set_new(m, "cores", json_integer(cores));
    (void)json_object_set_new(m, "kernel", json_string(u.release));
    (void)json_object_set_new(m, "openssl", json_string(OpenSSL_version(OPENSSL_VERSION)));
    (void)json_object_set_new(m, "libcurl",
                              json_string(curl_version_info(CURLVERSION_NOW)->version));
    (void)json_object_set_new(m, "jansson", json_string(jansson_version_str()));
    (void)json_object_set_new(m, "certpin", json_string(certpin_version()));
    (void)json_object_set_new(out, "machine", m);
    (void)json_object_set_new(out, "quick", json_boolean(o->quick));
    if (table != NULL) {
        (void)fprintf(table,
                      "certpin-bench%s: %s, %ld cores, Linux %s, %s, libcurl %s, jansson %s\n\n",
                      o->quick ? " (--quick: figures are not meaningful)" : "", cpu, cores,
                      u.release, OpenSSL_version(OPENSSL_VERSION),
                      curl_version_info(CURLVERSION_NOW)->version, jansson_version_str());
    }
}

int main(int argc, char **argv)
{
    bench_opts o;
    json_t *out;
    FILE *table;
    int i;
    int ok = 1;

    if (argc > 1 && strcmp(argv[1], "--load-child") == 0) {
        return bench_load_child(argc, argv);
    }
    memset(&o, 0, sizeof(o));
    o.sections = BENCH_ALL;
    o.tmpdir = getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] != '\0' ? getenv("TMPDIR") : "/tmp";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            o.json = 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            o.quick = 1;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            if (!parse_sections(argv[++i], &o.sections)) {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        (void)fputs("certpin-bench: curl_global_init failed\n", stderr);
        return 1;
    }
    out = json_object();
    table = o.json ? stderr : stdout;
    machine(out, table, &o);
    if (o.sections & BENCH_CHECK) {
        ok = bench_check(&o, out, table);
    }
    if (ok && (o.sections & BENCH_LOOKUP)) {
        ok = bench_lookup(&o, out, table);
    }
    if (ok && (o.sections & BENCH_LOAD)) {
        ok = bench_load(&o, out, table);
    }
    if (ok && (o.sections & BENCH_HANDSHAKE)) {
        ok = bench_handshake(&o, out, table);
    }
    if (o.json) {
        (void)json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        (void)fputc('\n', stdout);
    }
    json_decref(out);
    curl_global_cleanup();
    return ok ? 0 : 1;
}
