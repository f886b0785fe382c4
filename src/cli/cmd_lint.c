/* certpin lint: every error and warning of a policy file, and which entry decides a host. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_help_lint(FILE *out)
{
    fputs("Usage: certpin lint [--json] [--at TIME] POLICY\n"
          "       certpin lint --explain HOST [--json] [--at TIME] POLICY\n"
          "\n"
          "Loads POLICY as strictly as possible and prints every diagnostic, one a line:\n"
          "  POLICY:LINE:COL: error: MESSAGE [CODE]                   (JSON syntax)\n"
          "  POLICY: PATH: error: MESSAGE [CODE] (line N, column C)   (a value, e.g. "
          "domains[3].pins[1])\n"
          "  POLICY: warning: MESSAGE [CODE]                           (the whole policy)\n"
          "then a summary line. Findings that only warn when an application loads the policy\n"
          "(a wildcard over a public suffix, an enforced entry with fewer than two pins) are\n"
          "errors here.\n"
          "\n"
          "Options:\n"
          "  -e, --explain HOST  also explain which entries match HOST, which one decides and\n"
          "                      why, and what it asks for (as an application loads the policy)\n"
          "  -j, --json          print one JSON object instead (see json-output.md)\n"
          "  -t, --at TIME       judge expiry at TIME (RFC 3339 or YYYY-MM-DD), not now\n"
          "  -h, --help          show this help\n"
          "\n"
          "Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error or POLICY\n"
          "cannot be read.\n",
          out);
}

typedef struct lint_opts {
    const char *path;
    const char *explain_host;
    int json;
    int64_t now;
} lint_opts;

/* Which entries match a host and which one decides. */
typedef struct explanation {
    char host[CERTPIN_HOST_MAX];
    const certpin_policy *policy;
    const certpin_entry **matches;
    size_t match_count;
    const certpin_entry *decider;
    char why[256];
} explanation;

/* The entry with the most fixed labels among the matches other than decider; NULL when none. */
static const certpin_entry *runner_up(const explanation *ex)
{
    const certpin_entry *best = NULL;
    size_t i;
    for (i = 0; i < ex->match_count; i++) {
        const certpin_entry *e = ex->matches[i];
        if (e != ex->decider &&
            (best == NULL || certpin_entry_fixed_labels(e) > certpin_entry_fixed_labels(best))) {
            best = e;
        }
    }
    return best;
}

/* Says why the library's choice decides, in the words of the lookup rule (exact first, then the
 * most fixed labels, then `*.` over `**.`). */
static void explain_why(explanation *ex)
{
    const certpin_entry *next;
    size_t fixed;

    if (ex->decider == NULL) {
        ex->why[0] = '\0';
        return;
    }
    fixed = certpin_entry_fixed_labels(ex->decider);
    next = runner_up(ex);
    if (certpin_entry_match(ex->decider) == CERTPIN_MATCH_EXACT) {
        (void)snprintf(ex->why, sizeof(ex->why), "%s",
                       next == NULL ? "the only matching entry, an exact name"
                                    : "an exact name wins over every pattern");
    } else if (next == NULL) {
        (void)snprintf(ex->why, sizeof(ex->why), "the only matching entry");
    } else if (certpin_entry_fixed_labels(next) < fixed) {
        (void)snprintf(ex->why, sizeof(ex->why),
                       "the most fixed labels (%zu; domains[%zu] %s has %zu)", fixed,
                       certpin_entry_index(next), certpin_entry_pattern(next),
                       certpin_entry_fixed_labels(next));
    } else {
        (void)snprintf(ex->why, sizeof(ex->why),
                       "a tie at %zu fixed labels with domains[%zu] %s, and `*.` beats `**.` on a "
                       "tie",
                       fixed, certpin_entry_index(next), certpin_entry_pattern(next));
    }
}

static int explain_compute(const certpin_policy *policy, const char *host, explanation *ex)
{
    size_t n = certpin_policy_entry_count(policy);
    certpin_error err;
    size_t i;

    memset(&err, 0, sizeof(err));
    memset(ex, 0, sizeof(*ex));
    ex->policy = policy;
    if (certpin_host_canonical(host, ex->host, &err) != CERTPIN_OK) {
        return cli_usage_error("lint", "--explain: %s", err.text);
    }
    ex->matches = calloc(n > 0 ? n : 1, sizeof(const certpin_entry *));
    if (ex->matches == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_FAIL;
    }
    for (i = 0; i < n; i++) {
        const certpin_entry *e = certpin_policy_entry(policy, i);
        if (e != NULL && certpin_entry_matches(e, ex->host)) {
            ex->matches[ex->match_count++] = e;
        }
    }
    ex->decider = certpin_policy_lookup(policy, ex->host, &err);
    explain_why(ex);
    return CLI_EXIT_OK;
}

/* How long until (or since) t, in whole days. */
static long days_between(int64_t from, int64_t to)
{
    int64_t d = to > from ? to - from : from - to;
    return (long)(d / 86400);
}

static void print_pins(const certpin_entry *e)
{
    size_t i;
    size_t n = certpin_entry_pin_count(e);
    printf("  pins (%zu):\n", n);
    for (i = 0; i < n; i++) {
        char text[CLI_PIN_BUF];
        cli_pin_text(certpin_entry_pin(e, i), CERTPIN_PIN_OKHTTP, text, sizeof(text));
        printf("    %s\n", text);
    }
}

static void print_deny(const explanation *ex)
{
    size_t total = 0;
    size_t i;
    size_t j;

    for (i = 0; i < ex->match_count; i++) {
        total += certpin_entry_deny_count(ex->matches[i]);
    }
    if (total == 0) {
        return;
    }
    printf("deny pins of every matching entry (%zu): a chain holding one of these keys is "
           "rejected (rejected-denied)\n",
           total);
    for (i = 0; i < ex->match_count; i++) {
        const certpin_entry *e = ex->matches[i];
        for (j = 0; j < certpin_entry_deny_count(e); j++) {
            char text[CLI_PIN_BUF];
            cli_pin_text(certpin_entry_deny(e, j), CERTPIN_PIN_OKHTTP, text, sizeof(text));
            printf("    %s  (domains[%zu] %s)\n", text, certpin_entry_index(e),
                   certpin_entry_pattern(e));
        }
    }
}

static void print_mode(const certpin_entry *e, int64_t now)
{
    int64_t expires = certpin_entry_expires(e);
    int expired = expires != 0 && now >= expires;
    char when[32];

    switch (certpin_entry_mode(e)) {
    case CERTPIN_MODE_OFF:
        printf("  mode: off: pinning is off for this host; a verified chain is accepted "
               "(accepted-not-pinned) unless a deny pin is on it\n");
        break;
    case CERTPIN_MODE_REPORT_ONLY:
        printf("  mode: report-only: a verified chain without a pinned key is reported and "
               "accepted (accepted-report-only)\n");
        break;
    case CERTPIN_MODE_ENFORCE:
    default:
        printf("  mode: enforce: a verified chain is accepted only when one of its keys has one "
               "of the pins (else rejected-no-match)\n");
        break;
    }
    if (expires == 0) {
        printf("  expires: never\n");
        return;
    }
    cli_time_text(expires, when, sizeof(when));
    if (!expired) {
        printf("  expires: %s (in %ld days); then on_expiry %s: %s\n", when,
               days_between(now, expires), cli_on_expiry_str(certpin_entry_on_expiry(e)),
               certpin_entry_on_expiry(e) == CERTPIN_ON_EXPIRY_UNPIN
                   ? "the pins stop applying (accepted-expired)"
                   : "the pins stay enforced");
    } else if (certpin_entry_on_expiry(e) == CERTPIN_ON_EXPIRY_UNPIN) {
        printf("  expires: %s: expired %ld days ago; on_expiry unpin: the pins no longer apply "
               "(accepted-expired)\n",
               when, days_between(expires, now));
    } else {
        printf("  expires: %s: expired %ld days ago; on_expiry enforce: the pins are still "
               "enforced (warning expired-enforced)\n",
               when, days_between(expires, now));
    }
}

static void explain_print(const explanation *ex, const char *given, int64_t now)
{
    size_t i;

    if (strcmp(given, ex->host) == 0) {
        printf("host %s\n", ex->host);
    } else {
        printf("host %s (canonical: %s)\n", given, ex->host);
    }
    if (ex->match_count == 0) {
        if (certpin_policy_unpinned(ex->policy) == CERTPIN_UNPINNED_DENY) {
            printf("no entry matches: the policy says \"unpinned\": \"deny\", so every connection "
                   "to %s is refused (rejected-unpinned-host)\n",
                   ex->host);
        } else {
            printf("no entry matches: the policy says \"unpinned\": \"allow\", so a chain that "
                   "verifies is accepted without a pin check (accepted-not-pinned)\n");
        }
        return;
    }
    printf("matching entries (%zu):\n", ex->match_count);
    for (i = 0; i < ex->match_count; i++) {
        const certpin_entry *e = ex->matches[i];
        printf("  domains[%zu]  %s  (%s; %zu fixed labels)\n", certpin_entry_index(e),
               certpin_entry_pattern(e), cli_match_str(certpin_entry_match(e)),
               certpin_entry_fixed_labels(e));
    }
    if (ex->decider == NULL) {
        printf("deciding entry: none (the library's lookup found none: please report this)\n");
        return;
    }
    printf("deciding entry: domains[%zu] %s: %s\n", certpin_entry_index(ex->decider),
           certpin_entry_pattern(ex->decider), ex->why);
    print_mode(ex->decider, now);
    print_pins(ex->decider);
    print_deny(ex);
}

static json_t *explain_json(const explanation *ex, const char *given, int64_t now)
{
    json_t *obj = json_object();
    json_t *matches = json_array();
    json_t *deny = json_array();
    json_t *decider = json_null();
    size_t i;
    size_t j;

    if (obj == NULL || matches == NULL || deny == NULL) {
        json_decref(obj);
        json_decref(matches);
        json_decref(deny);
        return NULL;
    }
    for (i = 0; i < ex->match_count; i++) {
        const certpin_entry *e = ex->matches[i];
        json_t *m = json_object();
        (void)json_object_set_new(m, "index", json_integer((json_int_t)certpin_entry_index(e)));
        (void)json_object_set_new(m, "pattern", cli_json_string(certpin_entry_pattern(e)));
        (void)json_object_set_new(m, "match", json_string(cli_match_name(certpin_entry_match(e))));
        (void)json_object_set_new(m, "fixed_labels",
                                  json_integer((json_int_t)certpin_entry_fixed_labels(e)));
        (void)json_array_append_new(matches, m);
        for (j = 0; j < certpin_entry_deny_count(e); j++) {
            char text[CLI_PIN_BUF];
            cli_pin_text(certpin_entry_deny(e, j), CERTPIN_PIN_OKHTTP, text, sizeof(text));
            (void)json_array_append_new(deny, json_string(text));
        }
    }
    if (ex->decider != NULL) {
        int64_t expires = certpin_entry_expires(ex->decider);
        decider = cli_entry_json(ex->decider);
        (void)json_object_set_new(decider, "reason", json_string(ex->why));
        (void)json_object_set_new(decider, "expired", json_boolean(expires != 0 && now >= expires));
    }
    (void)json_object_set_new(obj, "host", cli_json_string(given));
    (void)json_object_set_new(obj, "canonical_host", json_string(ex->host));
    (void)json_object_set_new(obj, "matches", matches);
    (void)json_object_set_new(obj, "entry", decider);
    (void)json_object_set_new(obj, "deny", deny);
    (void)json_object_set_new(
        obj, "unpinned",
        json_string(certpin_policy_unpinned(ex->policy) == CERTPIN_UNPINNED_DENY ? "deny"
                                                                                 : "allow"));
    return obj;
}

static json_t *diags_json(const certpin_diags *diags, const certpin_error *err)
{
    json_t *array = json_array();
    size_t n = certpin_diags_count(diags);
    size_t i;

    for (i = 0; array != NULL && i < n; i++) {
        const certpin_diag *d = certpin_diags_get(diags, i);
        json_t *o = json_object();
        if (d == NULL) {
            json_decref(o);
            continue;
        }
        (void)json_object_set_new(o, "severity", json_string(cli_severity_str(d->severity)));
        (void)json_object_set_new(o, "line", json_integer(d->line));
        (void)json_object_set_new(o, "column", json_integer(d->column));
        (void)json_object_set_new(o, "path", cli_json_string(d->path));
        (void)json_object_set_new(o, "code", cli_json_string(d->code));
        (void)json_object_set_new(o, "message", cli_json_string(d->message));
        (void)json_array_append_new(array, o);
    }
    if (array != NULL && certpin_diags_errors(diags) == 0 && err->status != CERTPIN_OK) {
        json_t *o = json_object();
        (void)json_object_set_new(o, "severity", json_string("error"));
        (void)json_object_set_new(o, "line", json_integer(err->line));
        (void)json_object_set_new(o, "column", json_integer(err->column));
        (void)json_object_set_new(o, "path", cli_json_string(err->path));
        (void)json_object_set_new(o, "code", json_string(""));
        (void)json_object_set_new(o, "message", cli_json_string(err->text));
        (void)json_array_append_new(array, o);
    }
    return array;
}

static size_t count_severity(const certpin_diags *diags, certpin_severity sev)
{
    size_t n = certpin_diags_count(diags);
    size_t count = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        const certpin_diag *d = certpin_diags_get(diags, i);
        count += d != NULL && d->severity == sev;
    }
    return count;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int parse_args(int argc, char **argv, lint_opts *o)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"explain", required_argument, NULL, 'e'},
        {"at", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->now = (int64_t)time(NULL);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":je:t:h", options, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = 1; break;
        case 'e': o->explain_host = optarg; break;
        case 't':
            if (cli_parse_time("lint", optarg, &o->now) != CLI_EXIT_OK) {
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h': cli_help_lint(stdout); return -1;
        default: return cli_bad_option("lint", c, argv);
        }
    }
    if (optind >= argc) {
        return cli_usage_error("lint", "no POLICY given");
    }
    if (optind + 1 < argc) {
        return cli_usage_error("lint", "one POLICY at a time (got '%s' too)", argv[optind + 1]);
    }
    o->path = argv[optind];
    return CLI_EXIT_OK;
}

/* The policy as an application would load it, for --explain when the strict load failed on
 * lint-only findings. NULL when it does not load at all. */
static certpin_policy *load_lenient(cli_source *src, int64_t now)
{
    certpin_load_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.now = now;
    return cli_policy_load(src, &opts, NULL);
}

static json_t *lint_json(const lint_opts *o, const certpin_policy *policy,
                         const certpin_diags *diags, const certpin_error *err, size_t errors,
                         json_t *explain)
{
    json_t *obj = json_object();
    if (obj == NULL) {
        json_decref(explain);
        return NULL;
    }
    (void)json_object_set_new(obj, "policy", cli_json_string(o->path));
    (void)json_object_set_new(obj, "errors", json_integer((json_int_t)errors));
    (void)json_object_set_new(obj, "warnings",
                              json_integer((json_int_t)count_severity(diags, CERTPIN_SEV_WARNING)));
    (void)json_object_set_new(obj, "notes",
                              json_integer((json_int_t)count_severity(diags, CERTPIN_SEV_NOTE)));
    (void)json_object_set_new(obj, "policy_id",
                              policy != NULL ? json_string(certpin_policy_id_hex(policy))
                                             : json_null());
    (void)json_object_set_new(obj, "diagnostics", diags_json(diags, err));
    if (o->explain_host != NULL) {
        (void)json_object_set_new(obj, "explain", explain != NULL ? explain : json_null());
    }
    return obj;
}

static void print_summary(const lint_opts *o, const certpin_policy *policy,
                          const certpin_diags *diags, size_t errors)
{
    size_t warnings = count_severity(diags, CERTPIN_SEV_WARNING);
    size_t notes = count_severity(diags, CERTPIN_SEV_NOTE);

    if (errors > 0 || policy == NULL) {
        printf("%s: %zu %s, %zu %s: the policy is refused\n", o->path, errors,
               plural(errors, "error", "errors"), warnings,
               plural(warnings, "warning", "warnings"));
        return;
    }
    printf("%s: ok: %zu %s, unpinned hosts: %s; %zu %s, %zu %s\n", o->path,
           certpin_policy_entry_count(policy),
           plural(certpin_policy_entry_count(policy), "entry", "entries"),
           certpin_policy_unpinned(policy) == CERTPIN_UNPINNED_DENY ? "deny" : "allow", warnings,
           plural(warnings, "warning", "warnings"), notes, plural(notes, "note", "notes"));
}

/* Everything one lint run finds. */
typedef struct lint_run {
    cli_source src;
    certpin_diags *diags;
    certpin_error err;
    certpin_policy *policy;  /* loaded under lint's rules, or NULL */
    certpin_policy *lenient; /* loaded as an application would, for --explain only */
    size_t errors;
    explanation ex;
} lint_run;

static void run_free(lint_run *r)
{
    free(r->ex.matches);
    certpin_policy_free(r->lenient);
    certpin_policy_free(r->policy);
    certpin_diags_free(r->diags);
    cli_source_free(&r->src);
}

/* Loads the policy strictly, then (for --explain) works out the explanation. Returns an exit
 * status when lint must stop there (an unreadable policy, a bad HOST), else CLI_EXIT_OK. */
static int lint_load(const lint_opts *o, lint_run *r)
{
    certpin_load_options opts;
    const certpin_policy *p;

    r->src.path = o->path;
    r->diags = certpin_diags_new();
    if (r->diags == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_FAIL;
    }
    memset(&opts, 0, sizeof(opts));
    opts.strict = 1;
    opts.now = o->now;
    opts.diags = r->diags;
    r->policy = cli_policy_load(&r->src, &opts, &r->err);
    if (r->policy == NULL && r->err.status == CERTPIN_E_IO) {
        (void)cli_print_diags(stderr, r->diags, &r->err, o->path);
        return CLI_EXIT_USAGE;
    }
    r->errors = certpin_diags_errors(r->diags);
    if (r->errors == 0 && r->policy == NULL) {
        r->errors = 1;
    }
    if (o->explain_host == NULL) {
        return CLI_EXIT_OK;
    }
    p = r->policy;
    if (p == NULL) {
        r->lenient = load_lenient(&r->src, o->now);
        p = r->lenient;
    }
    if (p == NULL) {
        return CLI_EXIT_OK;
    }
    return explain_compute(p, o->explain_host, &r->ex);
}

static int lint_print(const lint_opts *o, lint_run *r)
{
    if (o->json) {
        json_t *explain = NULL;
        if (r->ex.policy != NULL) {
            explain = explain_json(&r->ex, o->explain_host, o->now);
        }
        return cli_json_print(lint_json(o, r->policy, r->diags, &r->err, r->errors, explain));
    }
    (void)cli_print_diags(stdout, r->diags, &r->err, o->path);
    print_summary(o, r->policy, r->diags, r->errors);
    if (o->explain_host == NULL) {
        return 0;
    }
    printf("\n");
    if (r->ex.policy == NULL) {
        printf("cannot explain %s: the policy does not load\n", o->explain_host);
        return 0;
    }
    if (r->lenient != NULL) {
        printf("(explained as an application loads the policy: lint-only errors above are "
               "warnings there)\n");
    }
    explain_print(&r->ex, o->explain_host, o->now);
    return 0;
}

int cli_cmd_lint(int argc, char **argv)
{
    lint_opts o;
    lint_run r;
    int rc = parse_args(argc, argv, &o);

    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    memset(&r, 0, sizeof(r));
    rc = lint_load(&o, &r);
    if (rc == CLI_EXIT_OK) {
        if (lint_print(&o, &r) != 0) {
            r.errors++;
        }
        rc = r.errors > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    run_free(&r);
    return rc;
}
