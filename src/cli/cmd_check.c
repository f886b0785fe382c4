/* certpin check: verify a chain for a host with OpenSSL, then apply a policy, exactly as the
 * OpenSSL adapter does inside a handshake (certpin_openssl_check_store_ctx). */
#include <arpa/inet.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cli.h"

void cli_help_check(FILE *out)
{
    fputs("Usage: certpin check --policy POLICY --chain CHAIN [--cafile FILE] [--at TIME]\n"
          "                     [--json] HOST\n"
          "\n"
          "Verifies CHAIN (what a server sends, leaf first, PEM) for HOST with OpenSSL: trust\n"
          "(FILE, or the system trust store), validity at TIME, the host name or IP address,\n"
          "purpose TLS server. Then applies POLICY to the chain OpenSSL built, with the code the\n"
          "OpenSSL adapter runs in a handshake, and prints the verdict.\n"
          "\n"
          "Options:\n"
          "  -p, --policy POLICY  the policy file (JSON)\n"
          "  -c, --chain CHAIN    the certificates the server sends, leaf first\n"
          "      --cafile FILE    trust the certificates of FILE instead of the system store\n"
          "  -t, --at TIME        verify and judge expiry at TIME (RFC 3339 or YYYY-MM-DD)\n"
          "  -j, --json           print one JSON object instead (see json-output.md)\n"
          "  -h, --help           show this help\n"
          "\n"
          "Exit status: 0 accepted (pinned, not pinned, expired entry, report-only), 1 rejected\n"
          "by the policy, 2 usage error or a policy that does not load, 3 the chain failed\n"
          "OpenSSL's own verification (not a pin decision).\n",
          out);
}

typedef struct check_opts {
    const char *policy;
    const char *chain;
    const char *cafile;
    const char *host;
    int json;
    int64_t now;
} check_opts;

enum { OPT_CAFILE = 256 };

static int parse_args(int argc, char **argv, check_opts *o)
{
    static const struct option options[] = {
        {"policy", required_argument, NULL, 'p'},
        {"chain", required_argument, NULL, 'c'},
        {"cafile", required_argument, NULL, OPT_CAFILE},
        {"at", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->now = (int64_t)time(NULL);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:c:t:jh", options, NULL)) != -1) {
        switch (c) {
        case 'p': o->policy = optarg; break;
        case 'c': o->chain = optarg; break;
        case OPT_CAFILE: o->cafile = optarg; break;
        case 't':
            if (cli_parse_time("check", optarg, &o->now) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            break;
        case 'j': o->json = 1; break;
        case 'h': cli_help_check(stdout); return -1;
        default: return cli_bad_option("check", c, argv);
        }
    }
    if (o->policy == NULL) {
        return cli_usage_error("check", "--policy POLICY is required");
    }
    if (o->chain == NULL) {
        return cli_usage_error("check", "--chain CHAIN is required");
    }
    if (optind >= argc) {
        return cli_usage_error("check", "no HOST given");
    }
    if (optind + 1 < argc) {
        return cli_usage_error("check", "one HOST at a time (got '%s' too)", argv[optind + 1]);
    }
    o->host = argv[optind];
    return CLI_EXIT_OK;
}

static int64_t fixed_time(void *arg)
{
    return *(const int64_t *)arg;
}

/* The policy, as an application loads it; its warnings on stderr. NULL after printing errors. */
static certpin_policy *load_policy(const check_opts *o)
{
    certpin_load_options opts;
    certpin_error err;
    certpin_diags *diags = certpin_diags_new();
    certpin_policy *policy;
    cli_source src;
    size_t i;

    if (diags == NULL) {
        cli_error("out of memory");
        return NULL;
    }
    memset(&opts, 0, sizeof(opts));
    memset(&err, 0, sizeof(err));
    memset(&src, 0, sizeof(src));
    src.path = o->policy;
    opts.now = o->now;
    opts.diags = diags;
    policy = cli_policy_load(&src, &opts, &err);
    if (policy == NULL) {
        (void)cli_print_diags(stderr, diags, &err, o->policy);
    } else {
        for (i = 0; i < certpin_diags_count(diags); i++) {
            const certpin_diag *d = certpin_diags_get(diags, i);
            if (d != NULL && d->severity == CERTPIN_SEV_WARNING) {
                cli_print_diag(stderr, d, o->policy);
            }
        }
    }
    certpin_diags_free(diags);
    cli_source_free(&src);
    return policy;
}

/* The certificates of CHAIN, leaf first. Returns 0, or -1 after printing why. */
static int load_chain(const char *path, STACK_OF(X509) **out)
{
    cli_items items;
    STACK_OF(X509) *chain;
    size_t i;
    int errors;

    memset(&items, 0, sizeof(items));
    errors = cli_items_read(path, &items);
    if (errors != 0) {
        cli_items_free(&items);
        return -1;
    }
    chain = sk_X509_new_null();
    if (chain == NULL) {
        cli_items_free(&items);
        cli_error("out of memory");
        return -1;
    }
    for (i = 0; i < items.count; i++) {
        cli_item *it = &items.items[i];
        if (it->kind != CLI_ITEM_CERT) {
            cli_error("%s: item %zu is a %s, not a certificate: CHAIN holds the certificates a "
                      "server sends, leaf first",
                      cli_input_name(path), i, cli_item_kind_str(it->kind));
            sk_X509_pop_free(chain, X509_free);
            cli_items_free(&items);
            return -1;
        }
        if (sk_X509_push(chain, it->cert) <= 0) {
            sk_X509_pop_free(chain, X509_free);
            cli_items_free(&items);
            cli_error("out of memory");
            return -1;
        }
        it->cert = NULL; /* now the stack's */
    }
    cli_items_free(&items);
    *out = chain;
    return 0;
}

static X509_STORE *load_store(const char *cafile)
{
    X509_STORE *store = X509_STORE_new();
    int ok;

    if (store == NULL) {
        cli_error("out of memory");
        return NULL;
    }
    ok = cafile != NULL ? X509_STORE_load_file(store, cafile) : X509_STORE_set_default_paths(store);
    if (ok != 1) {
        unsigned long e = ERR_peek_last_error();
        const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
        cli_error("%s: cannot load the trust store: %s",
                  cafile != NULL ? cafile : "system default paths",
                  why != NULL ? why : "no certificates");
        ERR_clear_error();
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

/* What OpenSSL must verify, as libssl sets it for a client: purpose TLS server, the host name (no
 * partial wildcards such as f*.example.com) or IP address, the time. */
static int set_params(X509_STORE_CTX *sctx, const char *canonical, int64_t now)
{
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
    unsigned char ip[16];
    int is_ip = strchr(canonical, ':') != NULL || inet_pton(AF_INET, canonical, ip) == 1;

    if (X509_STORE_CTX_set_default(sctx, "ssl_server") != 1 ||
        X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER) != 1) {
        return -1;
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, canonical) != 1
              : X509_VERIFY_PARAM_set1_host(param, canonical, 0) != 1) {
        return -1;
    }
    X509_VERIFY_PARAM_set_time(param, (time_t)now);
    return 0;
}

/* "entry **.example.com, policy.json domains[2]" */
static void entry_name(const certpin_result *r, char *out, size_t out_len)
{
    const certpin_entry *e = certpin_result_entry(r);
    const certpin_policy *p = certpin_result_policy(r);
    if (e == NULL) {
        (void)snprintf(out, out_len, "no entry");
        return;
    }
    (void)snprintf(out, out_len, "entry %s, %s domains[%zu]", certpin_entry_pattern(e),
                   p != NULL ? certpin_policy_source(p) : "?", certpin_entry_index(e));
}

/* The first line's words after "HOST: ". */
static void summary(certpin_result *r, char *out, size_t out_len)
{
    const certpin_entry *e = certpin_result_entry(r);
    char name[512];
    char when[32];

    entry_name(r, name, sizeof(name));
    switch (certpin_result_verdict(r)) {
    case CERTPIN_ACCEPTED_PINNED:
        (void)snprintf(out, out_len, "accepted (pinned by %s, at depth %d)", name,
                       certpin_result_depth(r));
        break;
    case CERTPIN_ACCEPTED_NOT_PINNED:
        if (e == NULL) {
            (void)snprintf(out, out_len,
                           "accepted (not pinned: no entry matches and the policy "
                           "allows unpinned hosts)");
        } else {
            (void)snprintf(out, out_len, "accepted (not pinned: %s, has mode off)", name);
        }
        break;
    case CERTPIN_ACCEPTED_EXPIRED:
        cli_time_text(e != NULL ? certpin_entry_expires(e) : 0, when, sizeof(when));
        (void)snprintf(out, out_len,
                       "accepted (not pinned: %s, expired at %s and its on_expiry is unpin)", name,
                       when);
        break;
    case CERTPIN_ACCEPTED_REPORT_ONLY:
        (void)snprintf(out, out_len,
                       "accepted (report-only: no key on the chain has a pin of %s; reported, "
                       "not enforced)",
                       name);
        break;
    case CERTPIN_REJECTED_DENIED:
        (void)snprintf(out, out_len,
                       "rejected (denied: a deny pin of %s is on the chain at depth %d)", name,
                       certpin_result_depth(r));
        break;
    case CERTPIN_REJECTED_UNPINNED_HOST:
        (void)snprintf(out, out_len,
                       "rejected (unpinned host: no entry matches and the policy denies unpinned "
                       "hosts)");
        break;
    case CERTPIN_REJECTED_NO_MATCH:
        (void)snprintf(out, out_len,
                       "rejected (no match: no key on the verified chain has a pin "
                       "of %s)",
                       name);
        break;
    case CERTPIN_REJECTED_UNVERIFIED:
        (void)snprintf(out, out_len, "not verified: %s", certpin_result_reason(r));
        break;
    case CERTPIN_REJECTED_ERROR:
    case CERTPIN_NOT_CHECKED:
    default:
        (void)snprintf(out, out_len, "rejected (the check could not run: %s)",
                       certpin_result_reason(r)[0] != '\0'
                           ? certpin_result_reason(r)
                           : certpin_verdict_str(certpin_result_verdict(r)));
        break;
    }
}

static int exit_status(certpin_verdict v)
{
    if (certpin_verdict_accepted(v)) {
        return CLI_EXIT_OK;
    }
    return v == CERTPIN_REJECTED_UNVERIFIED ? CLI_EXIT_UNVERIFIED : CLI_EXIT_FAIL;
}

#define NOT_A_PIN_DECISION                                                                         \
    "This is not a pin decision: the chain failed OpenSSL's own verification (trust, validity, "   \
    "host name), so the policy was not consulted."

/* The result's warnings, as {code, message} pairs; written to stderr and, when array is not NULL,
 * appended to it. */
static void warnings(certpin_result *r, const char *host, json_t *array)
{
    unsigned w = certpin_result_warnings(r);
    const certpin_entry *e = certpin_result_entry(r);
    char name[512];
    char message[1024];
    char when[32];

    entry_name(r, name, sizeof(name));
    if ((w & CERTPIN_WARN_NO_BACKUP) != 0) {
        (void)snprintf(message, sizeof(message),
                       "%s: every pin of %s is on this chain: none is a backup; add the pin of a "
                       "key that is not deployed yet (kept offline), so that a lost key can be "
                       "replaced without locking clients out",
                       host, name);
        cli_warning("%s", message);
        (void)json_array_append_new(
            array, json_pack("{s:s, s:s}", "code", "no-backup", "message", message));
    }
    if ((w & CERTPIN_WARN_EXPIRED_ENFORCED) != 0) {
        cli_time_text(e != NULL ? certpin_entry_expires(e) : 0, when, sizeof(when));
        (void)snprintf(message, sizeof(message),
                       "%s: %s expired at %s, but its on_expiry is enforce: its pins are still "
                       "enforced; renew the entry",
                       host, name, when);
        cli_warning("%s", message);
        (void)json_array_append_new(
            array, json_pack("{s:s, s:s}", "code", "expired-enforced", "message", message));
    }
    if ((w & CERTPIN_WARN_RESUMED) != 0) {
        (void)snprintf(message, sizeof(message), "%s: the verdict came from a resumed session",
                       host);
        cli_warning("%s", message);
        (void)json_array_append_new(array,
                                    json_pack("{s:s, s:s}", "code", "resumed", "message", message));
    }
}

static void print_served(STACK_OF(X509) *chain)
{
    int i;
    printf("served chain (as in CHAIN, leaf first):\n");
    for (i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        unsigned char pin[CERTPIN_PIN_LEN];
        char text[CLI_PIN_BUF] = "?";
        char subject[1024];
        if (certpin_openssl_cert_pin(x, pin) == CERTPIN_OK) {
            cli_pin_text(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text));
        }
        cli_name_rfc2253(X509_get_subject_name(x), subject, sizeof(subject));
        printf("  %d  %s  %s\n", i, text, subject);
    }
}

static int on_verified_chain(const certpin_result *r, const unsigned char pin[CERTPIN_PIN_LEN])
{
    size_t i;
    for (i = 0; i < certpin_result_chain_len(r); i++) {
        if (memcmp(certpin_result_chain_pin(r, i), pin, CERTPIN_PIN_LEN) == 0) {
            return 1;
        }
    }
    return 0;
}

static int is_entry_pin(const certpin_entry *e, const unsigned char pin[CERTPIN_PIN_LEN])
{
    size_t i;
    for (i = 0; i < certpin_entry_pin_count(e); i++) {
        if (memcmp(certpin_entry_pin(e, i), pin, CERTPIN_PIN_LEN) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A padded chain: the server sent a certificate with a pinned key that OpenSSL did not build into
 * the verified chain. Say so, since the served chain "has the pin" and the rejection surprises. */
static void note_unused_pins(const certpin_result *r, STACK_OF(X509) *served)
{
    const certpin_entry *e = certpin_result_entry(r);
    int i;

    if (e == NULL) {
        return;
    }
    for (i = 0; i < sk_X509_num(served); i++) {
        X509 *x = sk_X509_value(served, i);
        unsigned char pin[CERTPIN_PIN_LEN];
        char subject[1024];
        if (certpin_openssl_cert_pin(x, pin) != CERTPIN_OK || !is_entry_pin(e, pin) ||
            on_verified_chain(r, pin)) {
            continue;
        }
        cli_name_rfc2253(X509_get_subject_name(x), subject, sizeof(subject));
        printf("note: CHAIN holds a certificate with a pinned key (position %d, %s) that is not on "
               "the chain OpenSSL verified: only the verified chain counts\n",
               i, subject);
    }
}

static void print_text(certpin_result *r, const char *host, STACK_OF(X509) *served)
{
    char line[2048];
    certpin_verdict v = certpin_result_verdict(r);
    const char *explain;

    summary(r, line, sizeof(line));
    printf("%s: %s\n", host, line);
    if (v == CERTPIN_REJECTED_UNVERIFIED) {
        printf("%s\n", NOT_A_PIN_DECISION);
        print_served(served);
        return;
    }
    explain = certpin_result_explain(r);
    if (explain[0] != '\0') {
        size_t n = strlen(explain);
        printf("%s%s", explain, explain[n - 1] == '\n' ? "" : "\n");
    }
    if (v == CERTPIN_REJECTED_NO_MATCH || v == CERTPIN_ACCEPTED_REPORT_ONLY) {
        note_unused_pins(r, served);
    }
}

static json_t *chain_json(const certpin_result *r)
{
    json_t *array = json_array();
    size_t i;
    for (i = 0; array != NULL && i < certpin_result_chain_len(r); i++) {
        char text[CLI_PIN_BUF];
        cli_pin_text(certpin_result_chain_pin(r, i), CERTPIN_PIN_OKHTTP, text, sizeof(text));
        (void)json_array_append_new(
            array, json_pack("{s:I, s:o, s:s}", "depth", (json_int_t)i, "subject",
                             cli_json_string(certpin_result_chain_subject(r, i)), "pin", text));
    }
    return array;
}

static json_t *served_json(STACK_OF(X509) *chain)
{
    json_t *array = json_array();
    int i;
    for (i = 0; array != NULL && i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        unsigned char pin[CERTPIN_PIN_LEN];
        char text[CLI_PIN_BUF] = "?";
        char subject[1024];
        if (certpin_openssl_cert_pin(x, pin) == CERTPIN_OK) {
            cli_pin_text(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text));
        }
        cli_name_rfc2253(X509_get_subject_name(x), subject, sizeof(subject));
        (void)json_array_append_new(array, json_pack("{s:i, s:o, s:s}", "depth", i, "subject",
                                                     cli_json_string(subject), "pin", text));
    }
    return array;
}

static json_t *result_json(certpin_result *r, const check_opts *o, STACK_OF(X509) *served,
                           json_t *warning_list)
{
    certpin_verdict v = certpin_result_verdict(r);
    const certpin_entry *e = certpin_result_entry(r);
    const certpin_policy *p = certpin_result_policy(r);
    int depth = certpin_result_depth(r);
    char at[32];
    json_t *obj = json_object();

    cli_time_text(o->now, at, sizeof(at));
    if (obj == NULL) {
        json_decref(warning_list);
        return NULL;
    }
    (void)json_object_set_new(obj, "host", cli_json_string(o->host));
    (void)json_object_set_new(obj, "canonical_host", cli_json_string(certpin_result_host(r)));
    (void)json_object_set_new(obj, "verdict", json_string(certpin_verdict_str(v)));
    (void)json_object_set_new(obj, "accepted", json_boolean(certpin_verdict_accepted(v)));
    (void)json_object_set_new(obj, "exit", json_integer(exit_status(v)));
    (void)json_object_set_new(obj, "entry", e != NULL ? cli_entry_json(e) : json_null());
    (void)json_object_set_new(obj, "depth", depth >= 0 ? json_integer(depth) : json_null());
    (void)json_object_set_new(obj, "chain", chain_json(r));
    (void)json_object_set_new(obj, "served_chain", served_json(served));
    (void)json_object_set_new(obj, "warnings", warning_list);
    (void)json_object_set_new(obj, "reason", cli_json_string(certpin_result_reason(r)));
    (void)json_object_set_new(obj, "explanation", cli_json_string(certpin_result_explain(r)));
    (void)json_object_set_new(obj, "policy", cli_json_string(o->policy));
    (void)json_object_set_new(obj, "policy_id",
                              p != NULL ? json_string(certpin_policy_id_hex(p)) : json_null());
    (void)json_object_set_new(obj, "at", json_string(at));
    return obj;
}

/* Verifies and checks; prints the outcome. Returns the exit status. */
static int run(const check_opts *o, certpin_policy *policy, const char *canonical,
               STACK_OF(X509) *chain, X509_STORE *store)
{
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    certpin_ctx *ctx = certpin_ctx_new(policy);
    certpin_result *result = certpin_result_new();
    json_t *warning_list = o->json ? json_array() : NULL;
    int64_t now = o->now;
    int rc = CLI_EXIT_USAGE;

    if (sctx == NULL || ctx == NULL || result == NULL ||
        X509_STORE_CTX_init(sctx, store, sk_X509_value(chain, 0), chain) != 1 ||
        set_params(sctx, canonical, now) != 0) {
        const char *why = ERR_reason_error_string(ERR_get_error());
        cli_error("cannot set up the verification: %s", why != NULL ? why : "out of memory");
        goto out;
    }
    certpin_ctx_set_time_fn(ctx, fixed_time, &now);
    (void)certpin_openssl_check_store_ctx(ctx, sctx, 0, result);
    ERR_clear_error();
    rc = exit_status(certpin_result_verdict(result));
    warnings(result, canonical, warning_list);
    if (o->json) {
        if (cli_json_print(result_json(result, o, chain, warning_list)) != 0) {
            rc = CLI_EXIT_USAGE;
        }
        warning_list = NULL;
    } else {
        print_text(result, o->host, chain);
    }
out:
    json_decref(warning_list);
    certpin_result_free(result);
    certpin_ctx_free(ctx);
    X509_STORE_CTX_free(sctx);
    return rc;
}

int cli_cmd_check(int argc, char **argv)
{
    check_opts o;
    certpin_error err;
    char canonical[CERTPIN_HOST_MAX];
    certpin_policy *policy;
    STACK_OF(X509) *chain = NULL;
    X509_STORE *store;
    int rc = parse_args(argc, argv, &o);

    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    memset(&err, 0, sizeof(err));
    if (certpin_host_canonical(o.host, canonical, &err) != CERTPIN_OK) {
        return cli_usage_error("check", "HOST: %s", err.text);
    }
    policy = load_policy(&o);
    if (policy == NULL) {
        return CLI_EXIT_USAGE;
    }
    if (load_chain(o.chain, &chain) != 0) {
        certpin_policy_free(policy);
        return CLI_EXIT_USAGE;
    }
    store = load_store(o.cafile);
    if (store == NULL) {
        sk_X509_pop_free(chain, X509_free);
        certpin_policy_free(policy);
        return CLI_EXIT_USAGE;
    }
    rc = run(&o, policy, canonical, chain, store);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
    }
    X509_STORE_free(store);
    sk_X509_pop_free(chain, X509_free);
    certpin_policy_free(policy);
    return rc;
}
