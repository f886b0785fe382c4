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
    fputs("Usage: certpin check --policy POLICY [--cafile FILE] [--connect ADDR[:PORT]]\n"
          "                     [--tls openssl|mbedtls|gnutls] [--timeout S] [--at TIME]\n"
          "                     [--require-pinned] [--json] HOST[:PORT]...\n"
          "       certpin check --policy POLICY --chain CHAIN [--cafile FILE] [--at TIME]\n"
          "                     [--require-pinned] [--json] HOST\n"
          "\n"
          "Connects to each HOST (port 443 unless given; [IPV6]:PORT) with OpenSSL and the\n"
          "certpin OpenSSL adapter, as an application attaching POLICY would: OpenSSL verifies\n"
          "the chain the server sends (trust in FILE or the system store, validity, the name or\n"
          "address HOST, purpose TLS server), then POLICY decides on the chain OpenSSL built.\n"
          "With --tls mbedtls or gnutls, the same with that stack and its certpin adapter, to\n"
          "see what each stack accepts (the output names the stack).\n"
          "Up to 8 hosts are checked at once; with several, each gets one line, in order.\n"
          "With --chain, verifies CHAIN (what a server sends, leaf first, PEM) for HOST offline\n"
          "instead, with the code the adapter runs in a handshake.\n"
          "\n"
          "Options:\n"
          "  -p, --policy POLICY    the policy file (JSON)\n"
          "  -c, --chain CHAIN      check these certificates (leaf first) instead of connecting\n"
          "      --cafile FILE      trust the certificates of FILE instead of the system store\n"
          "      --connect ADDR[:PORT]  dial ADDR instead of HOST; SNI, verification and the\n"
          "                         policy still use HOST (as curl's --connect-to)\n"
          "      --tls STACK        connect with openssl (the default), mbedtls (TLS 1.2) or\n"
          "                         gnutls, each with its certpin adapter\n"
          "      --timeout S        give up on a host after S seconds of connecting and TLS\n"
          "                         handshake (default 10)\n"
          "  -t, --at TIME          verify and judge expiry at TIME (RFC 3339 or YYYY-MM-DD)\n"
          "      --require-pinned   a host that no policy entry covers fails (exit 1)\n"
          "  -j, --json             print JSON instead: one object, or an array of one object\n"
          "                         per HOST when there are several (see json-output.md)\n"
          "  -h, --help             show this help\n"
          "\n"
          "Exit status: 0 accepted (pinned, not pinned, expired entry, report-only), 1 rejected\n"
          "by the policy, 2 usage error or a policy that does not load, 3 the chain failed\n"
          "OpenSSL's own verification, or the connection failed (name, refused, time-out, TLS)\n"
          "before a pin decision. With several hosts, the worst: 2, then 1, then 3, then 0.\n",
          out);
}

typedef struct check_opts {
    const char *policy;
    const char *chain;
    const char *cafile;
    const char *connect;
    char **hosts;
    size_t host_count;
    int json;
    int require_pinned;
    int at_given;
    int timeout_given;
    double timeout;
    int64_t now;
    cli_tls tls;
    int tls_given;
} check_opts;

enum { OPT_CAFILE = 256, OPT_CONNECT, OPT_TIMEOUT, OPT_REQUIRE_PINNED, OPT_TLS };

static int parse_args(int argc, char **argv, check_opts *o)
{
    static const struct option options[] = {
        {"policy", required_argument, NULL, 'p'},
        {"chain", required_argument, NULL, 'c'},
        {"cafile", required_argument, NULL, OPT_CAFILE},
        {"connect", required_argument, NULL, OPT_CONNECT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"tls", required_argument, NULL, OPT_TLS},
        {"at", required_argument, NULL, 't'},
        {"require-pinned", no_argument, NULL, OPT_REQUIRE_PINNED},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->now = (int64_t)time(NULL);
    o->timeout = CLI_DEFAULT_TIMEOUT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:c:t:jh", options, NULL)) != -1) {
        switch (c) {
        case 'p': o->policy = optarg; break;
        case 'c': o->chain = optarg; break;
        case OPT_CAFILE: o->cafile = optarg; break;
        case OPT_CONNECT: o->connect = optarg; break;
        case OPT_TIMEOUT:
            if (cli_parse_timeout("check", optarg, &o->timeout) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            o->timeout_given = 1;
            break;
        case 't':
            if (cli_parse_time("check", optarg, &o->now) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            o->at_given = 1;
            break;
        case OPT_TLS:
            if (cli_tls_parse("check", optarg, &o->tls) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            o->tls_given = 1;
            break;
        case OPT_REQUIRE_PINNED: o->require_pinned = 1; break;
        case 'j': o->json = 1; break;
        case 'h': cli_help_check(stdout); return -1;
        default: return cli_bad_option("check", c, argv);
        }
    }
    if (o->policy == NULL) {
        return cli_usage_error("check", "--policy POLICY is required");
    }
    if (optind >= argc) {
        return cli_usage_error("check", "no HOST given");
    }
    o->hosts = argv + optind;
    o->host_count = (size_t)(argc - optind);
    if (o->chain != NULL) {
        if (o->host_count > 1) {
            return cli_usage_error("check", "--chain checks one HOST at a time (got '%s' too)",
                                   o->hosts[1]);
        }
        if (o->connect != NULL) {
            return cli_usage_error("check", "--connect dials a server: it does not go with "
                                            "--chain, which checks a chain from a file");
        }
        if (o->timeout_given) {
            return cli_usage_error("check", "--timeout is for connections: it does not go with "
                                            "--chain");
        }
        if (o->tls_given) {
            return cli_usage_error("check", "--tls chooses the stack of a connection: it does not "
                                            "go with --chain (OpenSSL verifies CHAIN)");
        }
    }
    return CLI_EXIT_OK;
}

static int64_t fixed_time(void *arg) { return *(const int64_t *)arg; }

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
static int load_chain(const char *path, STACK_OF(X509) * *out)
{
    cli_items items;
    STACK_OF(X509) * chain;
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
#define NOT_CHECKED "This is not a pin decision: the connection failed before certpin saw a chain."

/* What one HOST came to, offline or live: what the output is made of. */
typedef struct outcome {
    const char *arg;            /* HOST as given */
    const char *canonical;      /* the host looked up (canonical) */
    certpin_result *result;     /* the verdict; NOT_CHECKED when the connection failed before */
    STACK_OF(X509) * served;    /* the certificates the server sent (CHAIN offline); may be NULL */
    const cli_conn *conn;       /* the live connection; NULL offline */
    const cli_session *session; /* its stack's view (protocol); NULL offline */
    int name_stack;             /* --tls was given: the output names the stack */
    int require_pinned;
    const char *served_label; /* "as in CHAIN", "as the server sent it" */
} outcome;

/* The connection's failure, when it counts: a certpin rejection fails the handshake too, and then
 * the verdict says why; a failure before the check, or after certpin accepted, is the outcome. */
static cli_failure failure_of(const outcome *o)
{
    certpin_verdict v = certpin_result_verdict(o->result);
    if (o->conn == NULL) {
        return CLI_FAILURE_NONE;
    }
    if (v == CERTPIN_NOT_CHECKED || certpin_verdict_accepted(v)) {
        return o->conn->failure;
    }
    return CLI_FAILURE_NONE;
}

/* --require-pinned: no entry covers the host (an entry with mode off, or expired with on_expiry
 * unpin, covers it: those are decisions the policy made). */
static int refused_unpinned(const outcome *o)
{
    return o->require_pinned && certpin_result_verdict(o->result) == CERTPIN_ACCEPTED_NOT_PINNED &&
           certpin_result_entry(o->result) == NULL;
}

static int outcome_exit(const outcome *o)
{
    if (failure_of(o) != CLI_FAILURE_NONE) {
        return CLI_EXIT_UNVERIFIED;
    }
    if (refused_unpinned(o)) {
        return CLI_EXIT_FAIL;
    }
    return exit_status(certpin_result_verdict(o->result));
}

/* Whether the outcome lets a client go on. */
static int outcome_accepted(const outcome *o) { return outcome_exit(o) == CLI_EXIT_OK; }

/* The words after "HOST: " on the result line. */
static void outcome_line(const outcome *o, char *out, size_t out_len)
{
    char verdict[2048];
    certpin_verdict v = certpin_result_verdict(o->result);

    if (failure_of(o) != CLI_FAILURE_NONE) {
        if (v == CERTPIN_NOT_CHECKED) {
            (void)snprintf(out, out_len, "not checked: %s", o->conn->message);
        } else {
            summary(o->result, verdict, sizeof(verdict));
            (void)snprintf(out, out_len,
                           "connection failed after the pin check: %s; certpin's verdict before "
                           "that: %s",
                           o->conn->message, verdict);
        }
        return;
    }
    if (refused_unpinned(o)) {
        (void)snprintf(out, out_len,
                       "rejected (not pinned: no entry matches, and --require-pinned refuses "
                       "unpinned hosts)");
        return;
    }
    summary(o->result, out, out_len);
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

static int on_served_chain(STACK_OF(X509) * served, const unsigned char pin[CERTPIN_PIN_LEN])
{
    int i;
    for (i = 0; served != NULL && i < sk_X509_num(served); i++) {
        unsigned char p[CERTPIN_PIN_LEN];
        if (certpin_openssl_cert_pin(sk_X509_value(served, i), p) == CERTPIN_OK &&
            memcmp(p, pin, CERTPIN_PIN_LEN) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A backup pin is one whose key is deployed nowhere the client can see: on neither the chain the
 * server sent nor the chain OpenSSL built (a root is rarely sent but always deployed). Judged for
 * an entry whose pins were compared. */
static int lacks_backup(const outcome *o)
{
    const certpin_entry *e = certpin_result_entry(o->result);
    certpin_verdict v = certpin_result_verdict(o->result);
    size_t i;

    if (e == NULL || (v != CERTPIN_ACCEPTED_PINNED && v != CERTPIN_ACCEPTED_REPORT_ONLY &&
                      v != CERTPIN_REJECTED_NO_MATCH)) {
        return 0;
    }
    for (i = 0; i < certpin_entry_pin_count(e); i++) {
        const unsigned char *pin = certpin_entry_pin(e, i);
        if (!on_verified_chain(o->result, pin) && !on_served_chain(o->served, pin)) {
            return 0;
        }
    }
    return 1;
}

/* The outcome's warnings, as {code, message} pairs: written to err and, when array is not NULL,
 * appended to it. */
static void warnings(const outcome *o, FILE *err, json_t *array)
{
    certpin_result *r = o->result;
    unsigned w = certpin_result_warnings(r);
    const certpin_entry *e = certpin_result_entry(r);
    char name[512];
    char message[1024];
    char when[32];

    entry_name(r, name, sizeof(name));
    if (lacks_backup(o)) {
        (void)snprintf(message, sizeof(message),
                       "%s: every pin of %s is on the chain the server sent or the chain OpenSSL "
                       "verified: none is a backup; add the pin of a key that is not deployed "
                       "yet (kept offline), so that a lost key can be replaced without locking "
                       "clients out",
                       o->canonical, name);
        cli_add_warning(err, array, "no-backup", message);
    }
    if ((w & CERTPIN_WARN_EXPIRED_ENFORCED) != 0) {
        cli_time_text(e != NULL ? certpin_entry_expires(e) : 0, when, sizeof(when));
        (void)snprintf(message, sizeof(message),
                       "%s: %s expired at %s, but its on_expiry is enforce: its pins are still "
                       "enforced; renew the entry",
                       o->canonical, name, when);
        cli_add_warning(err, array, "expired-enforced", message);
    }
    if ((w & CERTPIN_WARN_RESUMED) != 0) {
        (void)snprintf(message, sizeof(message), "%s: the verdict came from a resumed session",
                       o->canonical);
        cli_add_warning(err, array, "resumed", message);
    }
}

static void print_served(FILE *out, const outcome *o)
{
    int i;
    if (o->served == NULL || sk_X509_num(o->served) == 0) {
        fprintf(out, "the server sent no certificate\n");
        return;
    }
    fprintf(out, "served chain (%s, leaf first):\n", o->served_label);
    for (i = 0; i < sk_X509_num(o->served); i++) {
        X509 *x = sk_X509_value(o->served, i);
        unsigned char pin[CERTPIN_PIN_LEN];
        char text[CLI_PIN_BUF] = "?";
        char subject[1024];
        if (certpin_openssl_cert_pin(x, pin) == CERTPIN_OK) {
            cli_pin_text(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text));
        }
        cli_name_rfc2253(X509_get_subject_name(x), subject, sizeof(subject));
        fprintf(out, "  %d  %s  %s\n", i, text, subject);
    }
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
static void note_unused_pins(FILE *out, const outcome *o)
{
    const certpin_entry *e = certpin_result_entry(o->result);
    int i;

    if (e == NULL || o->served == NULL) {
        return;
    }
    for (i = 0; i < sk_X509_num(o->served); i++) {
        X509 *x = sk_X509_value(o->served, i);
        unsigned char pin[CERTPIN_PIN_LEN];
        char subject[1024];
        if (certpin_openssl_cert_pin(x, pin) != CERTPIN_OK || !is_entry_pin(e, pin) ||
            on_verified_chain(o->result, pin)) {
            continue;
        }
        cli_name_rfc2253(X509_get_subject_name(x), subject, sizeof(subject));
        fprintf(out,
                "note: %s a certificate with a pinned key (position %d, %s) that is not on the "
                "chain OpenSSL verified: only the verified chain counts\n",
                o->conn != NULL ? "the server sent" : "CHAIN holds", i, subject);
    }
}

/* The result line alone (several hosts), or with everything after it (one host). */
static void print_text(FILE *out, const outcome *o, int brief)
{
    char line[4096];
    certpin_verdict v = certpin_result_verdict(o->result);
    const char *explain;

    outcome_line(o, line, sizeof(line));
    if (o->name_stack && o->session != NULL) {
        if (brief) {
            fprintf(out, "%s: %s [tls: %s]\n", o->arg, line, cli_tls_name(o->session->tls));
            return;
        }
        fprintf(out, "%s: %s\n", o->arg, line);
        fprintf(out, "tls: %s (%s)%s%s%s%s\n", cli_tls_name(o->session->tls),
                cli_tls_library(o->session->tls), o->session->protocol[0] != '\0' ? ", " : "",
                o->session->protocol, o->session->cipher[0] != '\0' ? ", " : "",
                o->session->cipher);
    } else {
        fprintf(out, "%s: %s\n", o->arg, line);
    }
    if (brief) {
        return;
    }
    if (failure_of(o) != CLI_FAILURE_NONE && v == CERTPIN_NOT_CHECKED) {
        fprintf(out, "%s\n", NOT_CHECKED);
        if (o->served != NULL && sk_X509_num(o->served) > 0) {
            print_served(out, o);
        }
        return;
    }
    if (v == CERTPIN_REJECTED_UNVERIFIED) {
        fprintf(out, "%s\n", NOT_A_PIN_DECISION);
        print_served(out, o);
        return;
    }
    if (refused_unpinned(o)) {
        const certpin_policy *p = certpin_result_policy(o->result);
        fprintf(out,
                "certpin: no entry of the policy (%s) covers %s; the policy allows unpinned "
                "hosts, but --require-pinned makes that a failure\n",
                p != NULL ? certpin_policy_source(p) : "?", o->canonical);
        return;
    }
    explain = certpin_result_explain(o->result);
    if (explain[0] != '\0') {
        size_t n = strlen(explain);
        fprintf(out, "%s%s", explain, explain[n - 1] == '\n' ? "" : "\n");
    }
    if (v == CERTPIN_REJECTED_NO_MATCH || v == CERTPIN_ACCEPTED_REPORT_ONLY) {
        note_unused_pins(out, o);
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

static json_t *served_json(STACK_OF(X509) * chain)
{
    json_t *array = json_array();
    int i;
    for (i = 0; array != NULL && chain != NULL && i < sk_X509_num(chain); i++) {
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

/* {code, message[, alert, alert_name]}, or null. */
static json_t *failure_json(const outcome *o)
{
    cli_failure f = failure_of(o);
    json_t *obj;

    if (f == CLI_FAILURE_NONE && !refused_unpinned(o)) {
        return json_null();
    }
    if (f == CLI_FAILURE_NONE) {
        return json_pack("{s:s, s:s}", "code", "not-pinned", "message",
                         "no entry of the policy covers the host, and --require-pinned refuses "
                         "unpinned hosts");
    }
    obj = json_pack("{s:s, s:o}", "code", cli_failure_code(f), "message",
                    cli_json_string(o->conn != NULL ? o->conn->message : ""));
    if (obj != NULL && o->conn != NULL && f == CLI_FAILURE_TLS_ALERT) {
        (void)json_object_set_new(obj, "alert", json_integer(o->conn->alert));
        (void)json_object_set_new(obj, "alert_name", json_string(cli_alert_name(o->conn->alert)));
    }
    return obj;
}

static json_t *outcome_json(const outcome *o, const check_opts *opts, json_t *warning_list)
{
    certpin_result *r = o->result;
    certpin_verdict v = certpin_result_verdict(r);
    const certpin_entry *e = certpin_result_entry(r);
    const certpin_policy *p = certpin_result_policy(r);
    int depth = certpin_result_depth(r);
    const char *canonical =
        certpin_result_host(r)[0] != '\0' ? certpin_result_host(r) : o->canonical;
    char at[32];
    json_t *obj = json_object();

    cli_time_text(opts->now, at, sizeof(at));
    if (obj == NULL) {
        json_decref(warning_list);
        return NULL;
    }
    (void)json_object_set_new(obj, "host", cli_json_string(o->arg));
    (void)json_object_set_new(obj, "canonical_host", cli_json_string(canonical));
    (void)json_object_set_new(obj, "verdict", json_string(certpin_verdict_str(v)));
    (void)json_object_set_new(obj, "accepted", json_boolean(outcome_accepted(o)));
    (void)json_object_set_new(obj, "exit", json_integer(outcome_exit(o)));
    (void)json_object_set_new(obj, "failure", failure_json(o));
    (void)json_object_set_new(obj, "entry", e != NULL ? cli_entry_json(e) : json_null());
    (void)json_object_set_new(obj, "depth", depth >= 0 ? json_integer(depth) : json_null());
    (void)json_object_set_new(obj, "chain", chain_json(r));
    (void)json_object_set_new(obj, "served_chain", served_json(o->served));
    (void)json_object_set_new(obj, "warnings", warning_list);
    (void)json_object_set_new(obj, "reason", cli_json_string(certpin_result_reason(r)));
    (void)json_object_set_new(
        obj, "explanation",
        cli_json_string(v == CERTPIN_NOT_CHECKED ? "" : certpin_result_explain(r)));
    (void)json_object_set_new(obj, "policy", cli_json_string(opts->policy));
    (void)json_object_set_new(obj, "policy_id",
                              p != NULL ? json_string(certpin_policy_id_hex(p)) : json_null());
    (void)json_object_set_new(obj, "at", json_string(at));
    if (o->conn != NULL) {
        const cli_conn *c = o->conn;
        const char *version =
            o->session != NULL && o->session->protocol[0] != '\0' ? o->session->protocol : NULL;
        (void)json_object_set_new(
            obj, "tls",
            json_string(cli_tls_name(o->session != NULL ? o->session->tls : CLI_TLS_OPENSSL)));
        (void)json_object_set_new(
            obj, "connect", opts->connect != NULL ? cli_json_string(opts->connect) : json_null());
        (void)json_object_set_new(obj, "address",
                                  c->addr[0] != '\0' ? json_string(c->addr) : json_null());
        (void)json_object_set_new(obj, "protocol",
                                  version != NULL ? json_string(version) : json_null());
    }
    return obj;
}

/* Writes the outcome: warnings to err, the text or (when json_out is not NULL) the JSON object to
 * out or *json_out. Returns the exit status. */
static int render(const outcome *o, const check_opts *opts, int brief, FILE *out, FILE *err,
                  json_t **json_out)
{
    json_t *warning_list = json_out != NULL ? json_array() : NULL;

    warnings(o, err, warning_list);
    if (json_out != NULL) {
        *json_out = outcome_json(o, opts, warning_list);
    } else {
        print_text(out, o, brief);
    }
    return outcome_exit(o);
}

/* ---- the offline form: --chain --------------------------------------------------------------- */

static int run_offline(const check_opts *o, certpin_policy *policy, const char *canonical)
{
    STACK_OF(X509) *chain = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *sctx = NULL;
    certpin_ctx *ctx = NULL;
    certpin_result *result = NULL;
    json_t *json = NULL;
    int64_t now = o->now;
    int rc = CLI_EXIT_USAGE;
    outcome oc;

    if (load_chain(o->chain, &chain) != 0 || (store = load_store(o->cafile)) == NULL) {
        goto out;
    }
    sctx = X509_STORE_CTX_new();
    ctx = certpin_ctx_new(policy);
    result = certpin_result_new();
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

    memset(&oc, 0, sizeof(oc));
    oc.arg = o->hosts[0];
    oc.canonical = canonical;
    oc.result = result;
    oc.served = chain;
    oc.require_pinned = o->require_pinned;
    oc.served_label = "as in CHAIN";
    rc = render(&oc, o, 0, stdout, stderr, o->json ? &json : NULL);
    if (o->json && cli_json_print(json) != 0) {
        rc = CLI_EXIT_USAGE;
    }
out:
    certpin_result_free(result);
    certpin_ctx_free(ctx);
    X509_STORE_CTX_free(sctx);
    X509_STORE_free(store);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

/* ---- the live form: connect to each HOST ----------------------------------------------------- */

typedef struct live_host {
    cli_target target;
    char *out; /* what goes to stdout (text form) */
    size_t out_len;
    char *err; /* what goes to stderr */
    size_t err_len;
    json_t *json; /* --json: the host's object */
    int exit;
} live_host;

typedef struct live_run {
    const check_opts *opts;
    cli_client *client;
    const cli_target *via; /* --connect, or NULL */
    live_host *hosts;
    json_t *array; /* --json with several hosts */
    int exit;
} live_run;

/* The worse of two exit statuses: a usage or policy error, then a rejection, then a failure to
 * connect or verify (no pin decision), then success. A rejection outranks a network failure: it
 * is the finding a pinning check exists for. */
static int worse(int a, int b)
{
    static const int rank[] = {0, 2, 3, 1}; /* of exit statuses 0, 1, 2, 3 */
    int ra = a >= 0 && a <= 3 ? rank[a] : 3;
    int rb = b >= 0 && b <= 3 ? rank[b] : 3;
    return ra >= rb ? a : b;
}

/* One host, on a worker thread: connects, and writes what is to be printed into h. */
static void check_one(void *arg, size_t i)
{
    live_run *run = arg;
    live_host *h = &run->hosts[i];
    const check_opts *o = run->opts;
    certpin_result *placeholder = NULL;
    FILE *out = open_memstream(&h->out, &h->out_len);
    FILE *err = open_memstream(&h->err, &h->err_len);
    cli_session sess;
    outcome oc;

    if (out == NULL || err == NULL) {
        if (out != NULL) {
            (void)fclose(out);
        }
        if (err != NULL) {
            (void)fclose(err);
        }
        h->exit = CLI_EXIT_USAGE;
        return;
    }
    cli_client_connect(run->client, &h->target, run->via, o->timeout, &sess);
    memset(&oc, 0, sizeof(oc));
    oc.arg = h->target.arg;
    oc.canonical = h->target.host;
    oc.conn = &sess.conn;
    oc.session = &sess;
    oc.name_stack = o->tls_given;
    oc.require_pinned = o->require_pinned;
    oc.served_label = "as the server sent it";
    /* certpin's own verdict on this connection, as an application reads it from the stack's
     * adapter; and the certificates the server sent (kept even when the handshake failed). */
    oc.result = (certpin_result *)sess.result;
    oc.served = sess.served;
    if (oc.result == NULL) {
        placeholder = certpin_result_new();
        oc.result = placeholder;
    }
    if (oc.result == NULL) {
        fprintf(err, "certpin: out of memory\n");
        h->exit = CLI_EXIT_USAGE;
    } else {
        h->exit = render(&oc, o, o->host_count > 1, out, err, o->json ? &h->json : NULL);
    }
    if (sess.conn.failure == CLI_FAILURE_SETUP) {
        h->exit = worse(h->exit, CLI_EXIT_USAGE);
    }
    certpin_result_free(placeholder);
    cli_session_close(&sess);
    (void)fclose(out);
    (void)fclose(err);
}

/* On the main thread, in order: prints what check_one made. */
static void print_one(void *arg, size_t i)
{
    live_run *run = arg;
    live_host *h = &run->hosts[i];

    if (h->err != NULL) {
        (void)fwrite(h->err, 1, h->err_len, stderr);
    }
    if (run->opts->json) {
        if (run->array != NULL) {
            (void)json_array_append_new(run->array, h->json);
        } else if (cli_json_print(h->json) != 0) {
            h->exit = CLI_EXIT_USAGE;
        }
        h->json = NULL;
    } else if (h->out != NULL) {
        (void)fwrite(h->out, 1, h->out_len, stdout);
    }
    (void)fflush(stdout);
    (void)fflush(stderr);
    run->exit = worse(run->exit, h->exit);
    free(h->out);
    free(h->err);
    h->out = NULL;
    h->err = NULL;
}

static int run_live(const check_opts *o, certpin_policy *policy)
{
    live_run run;
    cli_target via;
    certpin_ctx *ctx = NULL;
    int64_t now = o->now;
    size_t i;
    int rc;

    memset(&run, 0, sizeof(run));
    run.opts = o;
    run.hosts = calloc(o->host_count > 0 ? o->host_count : 1, sizeof(*run.hosts));
    if (run.hosts == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    /* Every argument is checked before the first connection. */
    for (i = 0; i < o->host_count; i++) {
        rc = cli_target_parse("check", "HOST", o->hosts[i], CLI_DEFAULT_PORT, 1,
                              &run.hosts[i].target);
        if (rc != CLI_EXIT_OK) {
            free(run.hosts);
            return rc;
        }
    }
    if (o->connect != NULL) {
        rc = cli_target_parse("check", "--connect", o->connect, NULL, 0, &via);
        if (rc != CLI_EXIT_OK) {
            free(run.hosts);
            return rc;
        }
        run.via = &via;
    }
    ctx = certpin_ctx_new(policy);
    if (ctx == NULL) {
        cli_error("out of memory");
        free(run.hosts);
        return CLI_EXIT_USAGE;
    }
    if (o->at_given) {
        certpin_ctx_set_time_fn(ctx, fixed_time, &now);
    }
    run.client = cli_client_new(o->tls, o->cafile, ctx, o->at_given ? o->now : 0);
    if (run.client == NULL) {
        certpin_ctx_free(ctx);
        free(run.hosts);
        return CLI_EXIT_USAGE;
    }
    json_object_seed(0); /* jansson seeds its hash once: here at the latest, before the threads */
    if (o->json && o->host_count > 1) {
        run.array = json_array();
    }
    if (cli_parallel(o->host_count, CLI_MAX_THREADS, check_one, print_one, &run) != 0) {
        cli_error("out of memory");
        run.exit = CLI_EXIT_USAGE;
    }
    if (run.array != NULL && cli_json_print(run.array) != 0) {
        run.exit = worse(run.exit, CLI_EXIT_USAGE);
    }
    for (i = 0; i < o->host_count; i++) {
        json_decref(run.hosts[i].json);
        free(run.hosts[i].out);
        free(run.hosts[i].err);
    }
    cli_client_free(run.client);
    certpin_ctx_free(ctx);
    free(run.hosts);
    return run.exit;
}

int cli_cmd_check(int argc, char **argv)
{
    check_opts o;
    certpin_policy *policy;
    char canonical[CERTPIN_HOST_MAX];
    int rc = parse_args(argc, argv, &o);

    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    if (o.host_count == 0 || o.hosts == NULL) {
        return cli_usage_error("check", "no HOST given");
    }
    if (o.chain != NULL) {
        certpin_error err;
        memset(&err, 0, sizeof(err));
        if (certpin_host_canonical(o.hosts[0], canonical, &err) != CERTPIN_OK) {
            return cli_usage_error("check", "HOST: %s", err.text);
        }
    }
    policy = load_policy(&o);
    if (policy == NULL) {
        return CLI_EXIT_USAGE;
    }
    rc = o.chain != NULL ? run_offline(&o, policy, canonical) : run_live(&o, policy);
    certpin_policy_free(policy);
    return rc;
}
