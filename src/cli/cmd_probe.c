/* certpin probe: connects to a server as a pinned application would, shows the chain it sent and
 * the chain OpenSSL verified, and proposes a policy entry to paste. The connection is made with the
 * OpenSSL adapter attached under a policy without entries, so "verified" means exactly what it
 * means to an application that attaches certpin. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cli.h"

void cli_help_probe(FILE *out)
{
    fputs("Usage: certpin probe [--cafile FILE] [--connect ADDR[:PORT]] [--timeout S]\n"
          "                     [--tls openssl|mbedtls|gnutls]\n"
          "                     [--backup FILE] [--json] HOST[:PORT]\n"
          "\n"
          "Connects to HOST (port 443 unless given; [IPV6]:PORT) with OpenSSL and shows the\n"
          "chain the server sent and the chain OpenSSL verified: each certificate's pin,\n"
          "subject, issuer, key type and size, and days until it expires. Then proposes a\n"
          "policy entry for HOST with the pins of the issuing CA and the root, to paste into\n"
          "a policy's \"domains\", and reminds you to add the pin of a backup key that is not\n"
          "deployed. When verification fails, shows the chain the server sent and why it\n"
          "failed; pins proposed from it are marked UNVERIFIED.\n"
          "\n"
          "Options:\n"
          "      --cafile FILE      trust the certificates of FILE instead of the system store\n"
          "      --connect ADDR[:PORT]  dial ADDR instead of HOST; SNI and verification still\n"
          "                         use HOST (as curl's --connect-to)\n"
          "      --tls STACK        connect with openssl (the default), mbedtls (TLS 1.2) or\n"
          "                         gnutls, each with its certpin adapter: the chain shown as\n"
          "                         verified is the one that stack verified\n"
          "      --timeout S        give up after S seconds of connecting and TLS handshake\n"
          "                         (default 10)\n"
          "  -b, --backup FILE      add the pins of FILE's keys (not deployed, kept offline) to\n"
          "                         the proposed entry as backup pins\n"
          "  -j, --json             print one JSON object instead (see json-output.md)\n"
          "  -h, --help             show this help\n"
          "\n"
          "Exit status: 0 connected and verified, 2 usage error or an unusable FILE, 3 the\n"
          "chain failed OpenSSL's verification or the connection failed (name, refused,\n"
          "time-out, TLS).\n",
          out);
}

typedef struct probe_opts {
    const char *cafile;
    const char *connect;
    const char *backup;
    const char *host;
    double timeout;
    cli_tls tls;
    int tls_given;
    int json;
} probe_opts;

enum { OPT_CAFILE = 256, OPT_CONNECT, OPT_TIMEOUT, OPT_TLS };

static int parse_args(int argc, char **argv, probe_opts *o)
{
    static const struct option options[] = {
        {"cafile", required_argument, NULL, OPT_CAFILE},
        {"connect", required_argument, NULL, OPT_CONNECT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"tls", required_argument, NULL, OPT_TLS},
        {"backup", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->timeout = CLI_DEFAULT_TIMEOUT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:jh", options, NULL)) != -1) {
        switch (c) {
        case OPT_CAFILE: o->cafile = optarg; break;
        case OPT_CONNECT: o->connect = optarg; break;
        case OPT_TIMEOUT:
            if (cli_parse_timeout("probe", optarg, &o->timeout) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_TLS:
            if (cli_tls_parse("probe", optarg, &o->tls) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            o->tls_given = 1;
            break;
        case 'b': o->backup = optarg; break;
        case 'j': o->json = 1; break;
        case 'h': cli_help_probe(stdout); return -1;
        default: return cli_bad_option("probe", c, argv);
        }
    }
    if (optind >= argc) {
        return cli_usage_error("probe", "no HOST given");
    }
    if (optind + 1 < argc) {
        return cli_usage_error("probe", "one HOST at a time (got '%s' too)", argv[optind + 1]);
    }
    o->host = argv[optind];
    return CLI_EXIT_OK;
}

/* ---- the proposal ---------------------------------------------------------------------------- */

#define MAX_PROPOSED 16

/* One pin of the proposed entry, and where it comes from. */
typedef struct proposed_pin {
    char pin[CLI_PIN_BUF];
    const char *role;   /* "issuing-ca", "root", "leaf", "backup" */
    int depth;          /* on the chain it comes from; -1 for a backup */
    char subject[1100]; /* the certificate's subject, or what the backup file holds */
} proposed_pin;

typedef struct proposal {
    int from_verified; /* 0: from the chain the server sent, which did not verify */
    proposed_pin pins[MAX_PROPOSED];
    size_t count;
    size_t backups;          /* backup pins given with --backup */
    size_t deployed_backups; /* of which on a chain: not backups at all */
} proposal;

static int has_pin(const proposal *p, const char *pin)
{
    size_t i;
    for (i = 0; i < p->count; i++) {
        if (strcmp(p->pins[i].pin, pin) == 0) {
            return 1;
        }
    }
    return 0;
}

static void propose(proposal *p, const char *pin, const char *role, int depth, const char *subject)
{
    proposed_pin *pp;
    if (p->count >= MAX_PROPOSED || has_pin(p, pin)) {
        return;
    }
    pp = &p->pins[p->count++];
    cli_copy(pp->pin, pin, sizeof(pp->pin));
    pp->role = role;
    pp->depth = depth;
    cli_copy(pp->subject, subject, sizeof(pp->subject));
}

static int chain_has(STACK_OF(X509) * chain, const char *pin)
{
    int i;
    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        cli_cert_info info;
        cli_cert_describe(sk_X509_value(chain, i), &info);
        if (strcmp(info.pin, pin) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The issuing CA and the root of chain: on a verified chain, depth 1 and the trust anchor; on a
 * chain that did not verify, depth 1 and a self-signed last certificate, if the server sent one
 * (it need not be anybody's root). A chain of one certificate gives its own pin. */
static void propose_from(proposal *p, STACK_OF(X509) * chain, int verified)
{
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    int i;

    p->from_verified = verified;
    if (n == 1) {
        cli_cert_info info;
        cli_cert_describe(sk_X509_value(chain, 0), &info);
        propose(p, info.pin, "leaf", 0, info.subject);
        return;
    }
    for (i = 1; i < n; i++) {
        cli_cert_info info;
        int last = i == n - 1;
        cli_cert_describe(sk_X509_value(chain, i), &info);
        if (last && (verified || info.self_signed)) {
            propose(p, info.pin, "root", i, info.subject);
        } else if (i == 1) {
            propose(p, info.pin, "issuing-ca", i, info.subject);
        }
    }
}

/* The pins of the --backup file's items. Returns 0, or -1 after printing why. */
static int propose_backups(proposal *p, const char *path, const cli_items *items,
                           STACK_OF(X509) * served, STACK_OF(X509) * verified)
{
    size_t i;

    for (i = 0; i < items->count; i++) {
        unsigned char pin[CERTPIN_PIN_LEN];
        char text[CLI_PIN_BUF];
        char what[1024];
        char subject[1100];
        if (cli_item_pin(&items->items[i], pin) != CERTPIN_OK) {
            cli_error("%s: item %zu: cannot compute its pin", cli_input_name(path), i);
            return -1;
        }
        cli_pin_text(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text));
        cli_item_describe(&items->items[i], what, sizeof(what));
        (void)snprintf(subject, sizeof(subject), "%s (%s)", what, cli_input_name(path));
        if (!has_pin(p, text)) {
            p->backups++;
            if (chain_has(served, text) || chain_has(verified, text)) {
                p->deployed_backups++;
            }
        }
        propose(p, text, "backup", -1, subject);
    }
    return 0;
}

/* The entry, as it is pasted into "domains". */
static json_t *entry_json(const proposal *p, const char *host)
{
    json_t *pins = json_array();
    size_t i;
    for (i = 0; pins != NULL && i < p->count; i++) {
        (void)json_array_append_new(pins, json_string(p->pins[i].pin));
    }
    return json_pack("{s:o, s:o}", "host", cli_json_string(host), "pins", pins);
}

/* ---- output ---------------------------------------------------------------------------------- */

typedef struct probe {
    const probe_opts *opts;
    cli_target target;
    cli_session sess;
    const certpin_result *result;
    STACK_OF(X509) * served;   /* borrowed from the connection */
    STACK_OF(X509) * verified; /* borrowed from the connection; NULL when it did not verify */
    const char *reason;        /* why verification failed; "" */
    cli_items backup;          /* what --backup holds */
    proposal prop;
    int exit;
} probe;

static void expiry_text(const cli_cert_info *info, char *out, size_t out_len)
{
    if (!info->has_expiry) {
        (void)snprintf(out, out_len, "?");
    } else if (info->days_left >= 0) {
        (void)snprintf(out, out_len, "%s (in %d day%s)", info->not_after, info->days_left,
                       info->days_left == 1 ? "" : "s");
    } else {
        (void)snprintf(out, out_len, "%s (EXPIRED %d day%s ago)", info->not_after, -info->days_left,
                       info->days_left == -1 ? "" : "s");
    }
}

static void print_chain(FILE *out, STACK_OF(X509) * chain, int verified)
{
    int n = sk_X509_num(chain);
    int i;
    for (i = 0; i < n; i++) {
        cli_cert_info info;
        char expires[96];
        cli_cert_describe(sk_X509_value(chain, i), &info);
        expiry_text(&info, expires, sizeof(expires));
        fprintf(out, "  %d  %s%s\n", i, info.pin, verified && i == n - 1 ? "  (trust anchor)" : "");
        fprintf(out, "       subject  %s\n", info.subject);
        fprintf(out, "       issuer   %s\n", info.issuer);
        fprintf(out, "       key      %s\n", info.key);
        fprintf(out, "       expires  %s\n", expires);
    }
}

static const char *role_text(const char *role)
{
    if (strcmp(role, "issuing-ca") == 0) {
        return "issuing CA";
    }
    return role;
}

/* The verifying stack's name in sentences ("OpenSSL verified"). */
static const char *stack_name(const probe *pr)
{
    switch (pr->sess.tls) {
    case CLI_TLS_MBEDTLS: return "mbedTLS";
    case CLI_TLS_GNUTLS: return "GnuTLS";
    case CLI_TLS_OPENSSL:
    default: return "OpenSSL";
    }
}

static void print_proposal(FILE *out, const probe *pr)
{
    const proposal *p = &pr->prop;
    json_t *entry = entry_json(p, pr->target.host);
    char *text = entry != NULL ? json_dumps(entry, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    size_t i;

    json_decref(entry);
    fputc('\n', out);
    if (!p->from_verified) {
        fprintf(out,
                "!!! UNVERIFIED: %s did NOT verify this chain. The entry below is made from\n"
                "!!! what the server SENT, and anyone on the path can send any certificate. Do\n"
                "!!! not ship these pins before you have checked them another way (a connection\n"
                "!!! that verifies, or the keys your CA publishes).\n",
                stack_name(pr));
        fprintf(out, "proposed policy entry (UNVERIFIED: from the chain the server sent):\n");
    } else {
        fprintf(out, "proposed policy entry (from the chain %s verified), for \"domains\":\n",
                stack_name(pr));
    }
    if (text != NULL) {
        const char *line = text;
        while (*line != '\0') {
            size_t len = strcspn(line, "\n");
            fprintf(out, "  %.*s\n", (int)len, line);
            line += len + (line[len] == '\n');
        }
        free(text);
    }
    for (i = 0; i < p->count; i++) {
        const proposed_pin *pp = &p->pins[i];
        if (pp->depth >= 0) {
            fprintf(out, "  %s  %s, depth %d: %s\n", pp->pin, role_text(pp->role), pp->depth,
                    pp->subject);
        } else {
            fprintf(out, "  %s  %s: %s\n", pp->pin, role_text(pp->role), pp->subject);
        }
    }
    if (p->backups == 0 || p->deployed_backups == p->backups) {
        fprintf(out,
                "Add the pin of a backup key that is not deployed anywhere (kept offline), so\n"
                "that a lost or compromised key can be replaced without locking clients out:\n"
                "  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out backup.key\n"
                "  certpin pin backup.key\n"
                "(or run certpin probe --backup backup.key to have it in the entry).\n");
    }
}

static void warnings(const probe *pr, FILE *err, json_t *array)
{
    const proposal *p = &pr->prop;
    char message[1024];

    if (p->count == 0) {
        return;
    }
    if (!p->from_verified) {
        (void)snprintf(message, sizeof(message),
                       "%s: the proposed pins come from a chain that %s did NOT verify (%s): "
                       "check them another way before shipping them",
                       pr->target.host, stack_name(pr),
                       pr->reason[0] != '\0' ? pr->reason : "no verified chain");
        cli_add_warning(err, array, "unverified", message);
    }
    if (p->deployed_backups > 0) {
        (void)snprintf(message, sizeof(message),
                       "%s: a key of --backup %s is on the chain the server sent or the chain "
                       "%s verified: it is deployed, so it is no backup",
                       pr->target.host, pr->opts->backup, stack_name(pr));
        cli_add_warning(err, array, "backup-deployed", message);
    }
    if (p->backups == p->deployed_backups) {
        (void)snprintf(message, sizeof(message),
                       "%s: every pin of the proposed entry is on the chain the server sent or "
                       "the chain %s verified: none is a backup; add the pin of a key that "
                       "is not deployed yet (kept offline): certpin pin backup.key, or probe "
                       "--backup backup.key",
                       pr->target.host, stack_name(pr));
        cli_add_warning(err, array, "no-backup", message);
    }
}

static void print_text(FILE *out, const probe *pr)
{
    const cli_conn *c = &pr->sess.conn;

    if (pr->result == NULL || (!c->handshake_done && pr->served == NULL)) {
        fprintf(out, "%s: not connected: %s\n", pr->target.arg, c->message);
        return;
    }
    fprintf(out, "%s: connected to %s", pr->target.arg, c->peer);
    if (c->handshake_done) {
        fprintf(out, " (%s, %s)", pr->sess.protocol, pr->sess.cipher);
    }
    fputc('\n', out);
    if (pr->opts->tls_given) {
        fprintf(out, "tls: %s (%s)\n", cli_tls_name(pr->sess.tls), cli_tls_library(pr->sess.tls));
    }
    if (pr->verified != NULL) {
        fprintf(out, "verified: %s verified the chain for %s against %s\n", stack_name(pr),
                pr->target.host,
                pr->opts->cafile != NULL ? pr->opts->cafile : "the system trust store");
    } else {
        fprintf(out, "verification FAILED: %s\n",
                pr->reason[0] != '\0' ? pr->reason : "no chain was verified");
    }
    if (c->failure != CLI_FAILURE_NONE && (pr->verified != NULL || pr->reason[0] == '\0')) {
        fprintf(out, "connection failed: %s\n", c->message);
    }
    fputc('\n', out);
    if (pr->served != NULL && sk_X509_num(pr->served) > 0) {
        fprintf(out, "chain the server sent (%d certificate%s, leaf first):\n",
                sk_X509_num(pr->served), sk_X509_num(pr->served) == 1 ? "" : "s");
        print_chain(out, pr->served, 0);
    } else {
        fprintf(out, "the server sent no certificate\n");
    }
    if (pr->verified != NULL) {
        fprintf(out, "chain %s verified (%d certificate%s, leaf first, up to the trust anchor):\n",
                stack_name(pr), sk_X509_num(pr->verified),
                sk_X509_num(pr->verified) == 1 ? "" : "s");
        print_chain(out, pr->verified, 1);
    } else {
        fprintf(out, "chain %s verified: none (verification failed)\n", stack_name(pr));
    }
    if (pr->prop.count > 0) {
        print_proposal(out, pr);
    }
}

static json_t *cert_json(X509 *x, int depth)
{
    cli_cert_info info;
    cli_cert_describe(x, &info);
    return json_pack("{s:i, s:o, s:o, s:s, s:s, s:i, s:o, s:o}", "depth", depth, "subject",
                     cli_json_string(info.subject), "issuer", cli_json_string(info.issuer), "pin",
                     info.pin, "key", info.key, "key_bits", info.key_bits, "not_after",
                     info.has_expiry ? json_string(info.not_after) : json_null(), "days_left",
                     info.has_expiry ? json_integer(info.days_left) : json_null());
}

static json_t *chain_json(STACK_OF(X509) * chain)
{
    json_t *array = json_array();
    int i;
    for (i = 0; array != NULL && chain != NULL && i < sk_X509_num(chain); i++) {
        (void)json_array_append_new(array, cert_json(sk_X509_value(chain, i), i));
    }
    return array;
}

static json_t *proposal_json(const probe *pr)
{
    const proposal *p = &pr->prop;
    json_t *sources = json_array();
    size_t i;

    if (p->count == 0) {
        json_decref(sources);
        return json_null();
    }
    for (i = 0; sources != NULL && i < p->count; i++) {
        const proposed_pin *pp = &p->pins[i];
        (void)json_array_append_new(
            sources, json_pack("{s:s, s:s, s:o, s:o}", "pin", pp->pin, "role", pp->role, "depth",
                               pp->depth >= 0 ? json_integer(pp->depth) : json_null(), "subject",
                               cli_json_string(pp->subject)));
    }
    return json_pack("{s:b, s:o, s:o}", "verified", p->from_verified, "entry",
                     entry_json(p, pr->target.host), "sources", sources);
}

static json_t *failure_json(const cli_conn *c)
{
    json_t *obj;
    if (c->failure == CLI_FAILURE_NONE) {
        return json_null();
    }
    obj = json_pack("{s:s, s:o}", "code", cli_failure_code(c->failure), "message",
                    cli_json_string(c->message));
    if (obj != NULL && c->failure == CLI_FAILURE_TLS_ALERT) {
        (void)json_object_set_new(obj, "alert", json_integer(c->alert));
        (void)json_object_set_new(obj, "alert_name", json_string(cli_alert_name(c->alert)));
    }
    return obj;
}

static json_t *probe_json(const probe *pr, json_t *warning_list)
{
    const cli_conn *c = &pr->sess.conn;
    const char *version = c->handshake_done ? pr->sess.protocol : NULL;
    const char *cipher = c->handshake_done ? pr->sess.cipher : NULL;
    json_t *obj = json_object();

    if (obj == NULL) {
        json_decref(warning_list);
        return NULL;
    }
    (void)json_object_set_new(obj, "host", cli_json_string(pr->target.arg));
    (void)json_object_set_new(obj, "canonical_host", cli_json_string(pr->target.host));
    (void)json_object_set_new(obj, "tls", json_string(cli_tls_name(pr->sess.tls)));
    (void)json_object_set_new(obj, "port", json_integer(strtol(pr->target.port, NULL, 10)));
    (void)json_object_set_new(obj, "connect",
                              pr->opts->connect != NULL ? cli_json_string(pr->opts->connect)
                                                        : json_null());
    (void)json_object_set_new(obj, "address",
                              c->addr[0] != '\0' ? json_string(c->addr) : json_null());
    (void)json_object_set_new(obj, "protocol",
                              version != NULL ? json_string(version) : json_null());
    (void)json_object_set_new(obj, "cipher", cipher != NULL ? json_string(cipher) : json_null());
    (void)json_object_set_new(obj, "verified", json_boolean(pr->verified != NULL));
    (void)json_object_set_new(obj, "reason", cli_json_string(pr->reason));
    (void)json_object_set_new(obj, "failure", failure_json(c));
    (void)json_object_set_new(obj, "served_chain", chain_json(pr->served));
    (void)json_object_set_new(obj, "verified_chain", chain_json(pr->verified));
    (void)json_object_set_new(obj, "proposal", proposal_json(pr));
    (void)json_object_set_new(obj, "warnings", warning_list);
    (void)json_object_set_new(obj, "exit", json_integer(pr->exit));
    return obj;
}

/* ---- the command ----------------------------------------------------------------------------- */

/* A policy without entries: every host is unpinned, so the adapter verifies and accepts what
 * OpenSSL verifies, and reports why when OpenSSL does not. */
static certpin_ctx *empty_ctx(void)
{
    certpin_builder *b = certpin_builder_new();
    certpin_policy *policy = b != NULL ? certpin_builder_build(b, NULL) : NULL;
    certpin_ctx *ctx = policy != NULL ? certpin_ctx_new(policy) : NULL;
    certpin_policy_free(policy);
    certpin_builder_free(b);
    return ctx;
}

/* Reads what the connection gave: the chains, the verdict, the proposal. Returns the exit
 * status. */
static int examine(probe *pr)
{
    cli_conn *c = &pr->sess.conn;
    certpin_verdict v;

    pr->reason = "";
    if (pr->sess.result == NULL) {
        return CLI_EXIT_UNVERIFIED;
    }
    pr->result = pr->sess.result;
    pr->served = pr->sess.served;
    v = certpin_result_verdict(pr->result);
    if (certpin_verdict_accepted(v)) {
        pr->verified = pr->sess.verified;
    } else if (v != CERTPIN_NOT_CHECKED) {
        pr->reason = certpin_result_reason(pr->result);
    }
    if (pr->verified != NULL) {
        propose_from(&pr->prop, pr->verified, 1);
    } else if (pr->served != NULL && sk_X509_num(pr->served) > 0) {
        propose_from(&pr->prop, pr->served, 0);
    }
    if (pr->opts->backup != NULL && pr->prop.count > 0 &&
        propose_backups(&pr->prop, pr->opts->backup, &pr->backup, pr->served, pr->verified) != 0) {
        return CLI_EXIT_USAGE;
    }
    return pr->verified != NULL && c->failure == CLI_FAILURE_NONE ? CLI_EXIT_OK
                                                                  : CLI_EXIT_UNVERIFIED;
}

int cli_cmd_probe(int argc, char **argv)
{
    probe_opts o;
    probe pr;
    cli_target via;
    certpin_ctx *ctx;
    cli_client *client;
    json_t *warning_list;
    int rc = parse_args(argc, argv, &o);

    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    memset(&pr, 0, sizeof(pr));
    pr.opts = &o;
    rc = cli_target_parse("probe", "HOST", o.host, CLI_DEFAULT_PORT, 1, &pr.target);
    if (rc == CLI_EXIT_OK && o.connect != NULL) {
        rc = cli_target_parse("probe", "--connect", o.connect, NULL, 0, &via);
    }
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    /* Before connecting, so that an unusable file is a usage error at once. */
    if (o.backup != NULL && cli_items_read(o.backup, &pr.backup) != 0) {
        cli_items_free(&pr.backup);
        return CLI_EXIT_USAGE;
    }
    ctx = empty_ctx();
    client = ctx != NULL ? cli_client_new(o.tls, o.cafile, ctx, 0) : NULL;
    if (client == NULL) {
        if (ctx == NULL) {
            cli_error("out of memory");
        }
        certpin_ctx_free(ctx);
        cli_items_free(&pr.backup);
        return CLI_EXIT_USAGE;
    }
    cli_client_connect(client, &pr.target, o.connect != NULL ? &via : NULL, o.timeout, &pr.sess);
    pr.exit = examine(&pr);
    warning_list = o.json ? json_array() : NULL;
    if (pr.exit != CLI_EXIT_USAGE) {
        warnings(&pr, stderr, warning_list);
        if (o.json) {
            if (cli_json_print(probe_json(&pr, warning_list)) != 0) {
                pr.exit = CLI_EXIT_USAGE;
            }
            warning_list = NULL;
        } else {
            print_text(stdout, &pr);
        }
    }
    json_decref(warning_list);
    cli_session_close(&pr.sess);
    cli_items_free(&pr.backup);
    cli_client_free(client);
    certpin_ctx_free(ctx);
    return pr.exit;
}
