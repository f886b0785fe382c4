/* Loading a policy from JSON (jansson, with JSON_REJECT_DUPLICATES). Every finding is collected
 * (lint shows them all); the first error is the one returned; a policy with any error is refused
 * whole: a typo must never silently turn pinning off. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "private/error.h"
#include "private/policy.h"
#include "private/safety.h"

#define MAX_POLICY_BYTES ((size_t)256 * 1024 * 1024)

typedef struct loader {
    const char *source;
    int strict;
    int64_t now;
    certpin_diags *found;
    certpin_status first; /* status of the first error */
    int nomem;
    /* The pattern of every entry whose host could be read, also of entries with other errors:
     * a policy refused for a typo still gets its duplicate patterns reported. */
    struct seen_pattern *seen;
    size_t seen_count;
} loader;

typedef struct seen_pattern {
    char key[CERTPIN_HOST_MAX + 4]; /* the display pattern: "*.example.com" */
    size_t index;                   /* domains[index] */
} seen_pattern;

static void add(loader *l, certpin_severity sev, certpin_status st, const char *path,
                const char *code, const char *fmt, ...) CP_PRINTF(6, 7);

static void add(loader *l, certpin_severity sev, certpin_status st, const char *path,
                const char *code, const char *fmt, ...)
{
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (sev == CERTPIN_SEV_ERROR && l->first == CERTPIN_OK) {
        l->first = st;
    }
    if (cp_diags_add(l->found, sev, l->source, 0, 0, path, code, "%s", msg) != CERTPIN_OK) {
        l->nomem = 1;
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    default: return "something else";
    }
}

/* Edit distance, to suggest the key a typo meant ("inlude_subdomains"). */
static size_t distance(const char *a, const char *b)
{
    size_t row[40];
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t i;
    size_t j;
    if (la >= CP_ARRAY_LEN(row) || lb >= CP_ARRAY_LEN(row)) {
        return (size_t)-1;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) {
                best = row[j] + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* Reports key (at path) unless it is one of known: an unknown key, with the known key it most
 * likely meant. */
static void check_key(loader *l, const char *key, const char *path, const char *const *known,
                      size_t n_known)
{
    size_t i;
    size_t best = (size_t)-1;
    const char *guess = NULL;
    char p[160];
    char list[200] = "";
    char q[96];
    size_t used = 0;
    for (i = 0; i < n_known; i++) {
        if (strcmp(key, known[i]) == 0) {
            return;
        }
    }
    for (i = 0; i < n_known; i++) {
        size_t d = distance(key, known[i]);
        if (d < best) {
            best = d;
            guess = known[i];
        }
        used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
                                 i ? ", " : "", known[i]);
        if (used >= sizeof(list)) {
            used = sizeof(list) - 1;
        }
    }
    (void)snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
    cp_quote(key, q, sizeof(q));
    if (guess != NULL && best <= 2) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "unknown-key",
            "unknown key %s: did you mean \"%s\"? (a misspelt key would silently change "
            "what is pinned, so it is refused)",
            q, guess);
    } else {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "unknown-key",
            "unknown key %s: the keys here are %s", q, list);
    }
}

static void check_keys(loader *l, const json_t *obj, const char *path, const char *const *known,
                       size_t n_known)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        check_key(l, key, path, known, n_known);
        (void)value;
    }
}

/* Reads v, the value of key (NULL when absent), which must be one of choices; returns its index,
 * dflt when absent, -1 on error (reported). */
static int choice_of(loader *l, const json_t *v, const char *path, const char *key,
                     const char *const *choices, size_t n, int dflt)
{
    char p[160];
    size_t i;
    if (v == NULL) {
        return dflt;
    }
    if (!json_is_string(v)) {
        (void)snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "wrong-type",
            "expected a string (\"%s\" or \"%s\"%s), got %s", choices[0], choices[1],
            n > 2 ? " or ..." : "", type_name(v));
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(json_string_value(v), choices[i]) == 0) {
            return (int)i;
        }
    }
    {
        char q[96];
        char list[120] = "";
        size_t used = 0;
        (void)snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
        cp_quote(json_string_value(v), q, sizeof(q));
        for (i = 0; i < n && used < sizeof(list); i++) {
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
                                     i == 0       ? ""
                                     : i + 1 == n ? " or "
                                                  : ", ",
                                     choices[i]);
        }
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "bad-value", "%s is not %s", q, list);
    }
    return -1;
}

/* Reads v, the value of key (NULL when absent), an array of strings, into *out: borrowed pointers
 * to the strings, in local (local_cap of them) when they fit, else in a new allocation (*out !=
 * local: free it). */
static int strings_of(loader *l, const json_t *v, const char *path, const char *key,
                      const char **local, size_t local_cap, const char ***out, size_t *n)
{
    char p[160];
    size_t size;
    size_t i;
    int ok = 1;

    *out = NULL;
    *n = 0;
    if (v == NULL) {
        return 1;
    }
    if (!json_is_array(v)) {
        (void)snprintf(p, sizeof(p), "%s.%s", path, key);
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "wrong-type",
            "expected an array of \"sha256/<base64>\" strings, got %s", type_name(v));
        return 0;
    }
    size = json_array_size(v);
    if (size == 0) {
        return 1;
    }
    *out = size <= local_cap ? local : calloc(size, sizeof(char *));
    if (*out == NULL) {
        l->nomem = 1;
        return 0;
    }
    for (i = 0; i < size; i++) {
        const json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            char pi[200];
            (void)snprintf(pi, sizeof(pi), "%s.%s[%zu]", path, key, i);
            add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, pi, "wrong-type",
                "expected a \"sha256/<base64>\" string, got %s", type_name(s));
            ok = 0;
            continue;
        }
        (*out)[(*n)++] = json_string_value(s);
    }
    return ok;
}

static const char *const root_keys[] = {"certpin", "unpinned", "domains"};
static const char *const domain_keys[] = {"host",    "include_subdomains", "pins", "deny",
                                          "expires", "on_expiry",          "mode"};
static const char *const unpinned_names[] = {"allow", "deny"};
static const char *const mode_names[] = {"enforce", "report-only", "off"};
static const char *const expiry_names[] = {"unpin", "enforce"};

static void remember_pattern(loader *l, const char *host, int include_subdomains, size_t index)
{
    char base[CERTPIN_HOST_MAX];
    certpin_match match;
    cp_host_kind kind;
    certpin_error ignored;
    seen_pattern *sp;
    if (l->seen == NULL ||
        cp_pattern_parse(host, include_subdomains, base, &match, &kind, &ignored) != CERTPIN_OK) {
        return; /* a bad host is reported with its entry */
    }
    sp = &l->seen[l->seen_count];
    (void)snprintf(sp->key, sizeof(sp->key), "%s%s",
                   match == CERTPIN_MATCH_ONE_LABEL ? "*."
                   : match == CERTPIN_MATCH_SUBTREE ? "**."
                                                    : "",
                   base);
    sp->index = index;
    l->seen_count++;
}

static int cmp_seen(const void *a, const void *b)
{
    const seen_pattern *x = a;
    const seen_pattern *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

typedef struct dup_pair {
    const seen_pattern *dup;
    const seen_pattern *orig;
} dup_pair;

static int cmp_dup(const void *a, const void *b)
{
    size_t x = ((const dup_pair *)a)->dup->index;
    size_t y = ((const dup_pair *)b)->dup->index;
    return (x > y) - (x < y);
}

/* Reports every entry whose pattern an earlier entry already has, in the order of the entries.
 * Only needed when the policy has other errors: otherwise cp_draft_finish finds duplicates as it
 * indexes the entries. */
static void report_duplicates(loader *l)
{
    size_t i;
    size_t first = 0;
    size_t n = 0;
    dup_pair *dups;
    if (l->seen_count < 2) {
        return;
    }
    dups = calloc(l->seen_count, sizeof(dup_pair));
    if (dups == NULL) {
        l->nomem = 1;
        return;
    }
    qsort(l->seen, l->seen_count, sizeof(seen_pattern), cmp_seen);
    for (i = 1; i < l->seen_count; i++) {
        if (strcmp(l->seen[i].key, l->seen[first].key) != 0) {
            first = i;
            continue;
        }
        dups[n].dup = &l->seen[i];
        dups[n].orig = &l->seen[first];
        n++;
    }
    qsort(dups, n, sizeof(dup_pair), cmp_dup);
    for (i = 0; i < n; i++) {
        char path[64];
        (void)snprintf(path, sizeof(path), "domains[%zu].host", dups[i].dup->index);
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, path, "duplicate-pattern",
            "the pattern \"%s\" is already the pattern of domains[%zu]: merge the two entries",
            dups[i].dup->key, dups[i].orig->index);
    }
    free(dups);
}

/* Runs an entry that already has an error through the draft's checks on a scratch draft, and
 * keeps what they find, but for the findings about how many pins the entry needs when its mode or
 * its pins could not be read (they would guess). */
static void check_refused_entry(loader *l, const certpin_domain *dom, const char *path,
                                int counts_known)
{
    cp_policy_draft scratch;
    certpin_diags *more = certpin_diags_new();
    certpin_error ignored;
    size_t i;
    if (more == NULL) {
        l->nomem = 1;
        return;
    }
    cp_draft_init(&scratch);
    (void)cp_draft_add(&scratch, dom, path, 0, l->strict, l->now, l->source, more, &ignored);
    for (i = 0; i < certpin_diags_count(more); i++) {
        const certpin_diag *g = certpin_diags_get(more, i);
        if (!counts_known &&
            (strcmp(g->code, "no-pins") == 0 || strcmp(g->code, "too-few-pins") == 0)) {
            continue;
        }
        if (cp_diags_add(l->found, g->severity, g->source, g->line, g->column, g->path, g->code,
                         "%s", g->message) != CERTPIN_OK) {
            l->nomem = 1;
        }
    }
    cp_draft_clear(&scratch);
    certpin_diags_free(more);
}

/* "domains[<index>]" into out (at least 32 bytes). */
static void domain_path(char *out, size_t index)
{
    char digits[24];
    size_t n = 0;
    size_t len = 8;
    memcpy(out, "domains[", 8);
    do {
        digits[n++] = (char)('0' + index % 10);
        index /= 10;
    } while (index != 0);
    while (n > 0) {
        out[len++] = digits[--n];
    }
    out[len++] = ']';
    out[len] = '\0';
}

static void load_domain(loader *l, cp_policy_draft *d, const json_t *obj, size_t index)
{
    char path[64];
    certpin_domain dom;
    const char *pins_local[8];
    const char *deny_local[8];
    const char **pins = NULL;
    const char **deny = NULL;
    const json_t *host_v = NULL;
    const json_t *sub_v = NULL;
    const json_t *expires_v = NULL;
    const json_t *mode_v = NULL;
    const json_t *on_expiry_v = NULL;
    const json_t *pins_v = NULL;
    const json_t *deny_v = NULL;
    const json_t *v;
    const char *key;
    json_t *value;
    int ok = 1;
    int mode;
    int on_expiry;
    int pins_ok;
    int deny_ok;
    certpin_error err;

    domain_path(path, index);
    memset(&dom, 0, sizeof(dom));
    if (!json_is_object(obj)) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, path, "wrong-type",
            "expected an object {\"host\": ..., \"pins\": [...]}, got %s", type_name(obj));
        return;
    }
    /* One pass over the members: each known key's value, and every unknown key reported (in the
     * order of the object, before anything else about the entry). */
    json_object_foreach((json_t *)obj, key, value)
    {
        if (strcmp(key, "host") == 0) {
            host_v = value;
        } else if (strcmp(key, "pins") == 0) {
            pins_v = value;
        } else if (strcmp(key, "include_subdomains") == 0) {
            sub_v = value;
        } else if (strcmp(key, "deny") == 0) {
            deny_v = value;
        } else if (strcmp(key, "expires") == 0) {
            expires_v = value;
        } else if (strcmp(key, "on_expiry") == 0) {
            on_expiry_v = value;
        } else if (strcmp(key, "mode") == 0) {
            mode_v = value;
        } else {
            check_key(l, key, path, domain_keys, CP_ARRAY_LEN(domain_keys));
        }
    }

    v = host_v;
    if (v == NULL) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, path, "missing-host",
            "the entry has no \"host\": add the name it pins, e.g. \"api.example.com\"");
        ok = 0;
    } else if (!json_is_string(v)) {
        char p[96];
        (void)snprintf(p, sizeof(p), "%s.host", path);
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "wrong-type",
            "expected a host name string, got %s", type_name(v));
        ok = 0;
    } else {
        dom.host = json_string_value(v);
    }
    v = sub_v;
    if (v != NULL && !json_is_boolean(v)) {
        char p[96];
        (void)snprintf(p, sizeof(p), "%s.include_subdomains", path);
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "wrong-type",
            "expected true or false, got %s", type_name(v));
        ok = 0;
    }
    dom.include_subdomains = v != NULL && json_is_true(v);
    v = expires_v;
    if (v != NULL && !json_is_string(v)) {
        char p[96];
        (void)snprintf(p, sizeof(p), "%s.expires", path);
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, p, "wrong-type",
            "expected a date string (\"2027-06-30\" or RFC 3339), got %s", type_name(v));
        ok = 0;
    } else if (v != NULL) {
        dom.expires = json_string_value(v);
    }
    mode = choice_of(l, mode_v, path, "mode", mode_names, CP_ARRAY_LEN(mode_names),
                     CERTPIN_MODE_ENFORCE);
    on_expiry = choice_of(l, on_expiry_v, path, "on_expiry", expiry_names,
                          CP_ARRAY_LEN(expiry_names), CERTPIN_ON_EXPIRY_UNPIN);
    pins_ok = strings_of(l, pins_v, path, "pins", pins_local, CP_ARRAY_LEN(pins_local), &pins,
                         &dom.pin_count);
    deny_ok = strings_of(l, deny_v, path, "deny", deny_local, CP_ARRAY_LEN(deny_local), &deny,
                         &dom.deny_count);
    ok &= mode >= 0 && on_expiry >= 0 && pins_ok && deny_ok;
    if (!ok && dom.host != NULL && !l->nomem) {
        /* The entry is refused already; its readable values are still checked, so that lint
         * lists every error at once. */
        dom.mode = mode >= 0 ? (certpin_mode)mode : CERTPIN_MODE_ENFORCE;
        dom.on_expiry = on_expiry >= 0 ? (certpin_on_expiry)on_expiry : CERTPIN_ON_EXPIRY_UNPIN;
        dom.pins = pins;
        dom.deny = deny;
        check_refused_entry(l, &dom, path, mode >= 0 && pins_ok);
    }
    if (ok) {
        dom.mode = (certpin_mode)mode;
        dom.on_expiry = (certpin_on_expiry)on_expiry;
        dom.pins = pins;
        dom.deny = deny;
        size_t errors_before = certpin_diags_errors(l->found);
        certpin_status st;
        err.status = CERTPIN_OK;
        st = cp_draft_add(d, &dom, path, 0, l->strict, l->now, l->source, l->found, &err);
        if (st != CERTPIN_OK && certpin_diags_errors(l->found) == errors_before) {
            /* refused without a finding (a finding that could not be recorded): never let the
             * entry go missing from a policy that loads */
            l->nomem = 1;
        } else if (st != CERTPIN_OK && l->first == CERTPIN_OK) {
            l->first = err.status != CERTPIN_OK ? err.status : CERTPIN_E_POLICY;
        }
    }
    if (pins != pins_local) {
        free(pins);
    }
    if (deny != deny_local) {
        free(deny);
    }
}

/* The pattern of every entry whose host can be read, also of entries with other errors, for
 * report_duplicates: a policy refused for a typo still gets its duplicate patterns reported. */
static void collect_patterns(loader *l, const json_t *domains)
{
    size_t i;
    l->seen = calloc(json_array_size(domains) + 1, sizeof(seen_pattern));
    if (l->seen == NULL) {
        l->nomem = 1;
        return;
    }
    for (i = 0; i < json_array_size(domains); i++) {
        const json_t *obj = json_array_get(domains, i);
        const json_t *host;
        const json_t *sub;
        if (!json_is_object(obj)) {
            continue;
        }
        host = json_object_get(obj, "host");
        sub = json_object_get(obj, "include_subdomains");
        if (host != NULL && json_is_string(host)) {
            remember_pattern(l, json_string_value(host), sub != NULL && json_is_true(sub), i);
        }
    }
}

static void load_root(loader *l, cp_policy_draft *d, const json_t *root)
{
    const json_t *v;
    const json_t *domains;
    size_t i;
    int unpinned;

    if (!json_is_object(root)) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, "", "wrong-type",
            "a policy is a JSON object {\"certpin\": 1, \"domains\": [...]}, not %s",
            type_name(root));
        return;
    }
    v = json_object_get(root, "certpin");
    if (v == NULL) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, "", "missing-version",
            "the policy has no format version: add \"certpin\": %d", CERTPIN_FORMAT_VERSION);
        return;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, "certpin", "bad-version",
            "the format version must be a whole number from 1 (this certpin reads %d)",
            CERTPIN_FORMAT_VERSION);
        return;
    }
    if (json_integer_value(v) > CERTPIN_FORMAT_VERSION) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_VERSION, "certpin", "newer-version",
            "the policy is in format %lld, newer than this certpin %s reads (format %d only): "
            "it needs a newer certpin (one that reads format %lld), or write the policy in "
            "format %d",
            (long long)json_integer_value(v), CERTPIN_VERSION_STRING, CERTPIN_FORMAT_VERSION,
            (long long)json_integer_value(v), CERTPIN_FORMAT_VERSION);
        return; /* the rest may mean something this version does not know */
    }
    check_keys(l, root, "", root_keys, CP_ARRAY_LEN(root_keys));
    unpinned = choice_of(l, json_object_get(root, "unpinned"), "", "unpinned", unpinned_names,
                         CP_ARRAY_LEN(unpinned_names), CERTPIN_UNPINNED_ALLOW);
    if (unpinned >= 0) {
        d->unpinned = (certpin_unpinned)unpinned;
    }
    domains = json_object_get(root, "domains");
    if (domains == NULL) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, "", "missing-domains",
            "the policy has no \"domains\": add the list of entries, [] if none");
        return;
    }
    if (!json_is_array(domains)) {
        add(l, CERTPIN_SEV_ERROR, CERTPIN_E_POLICY, "domains", "wrong-type",
            "expected an array of entries, got %s", type_name(domains));
        return;
    }
    if (json_array_size(domains) == 0) {
        add(l, CERTPIN_SEV_WARNING, CERTPIN_OK, "domains", "empty",
            "the policy has no entries: nothing is pinned");
    }
    for (i = 0; i < json_array_size(domains) && !l->nomem; i++) {
        load_domain(l, d, json_array_get(domains, i), i);
    }
    /* Only a policy with errors needs its duplicates found here: otherwise cp_draft_finish finds
     * them as it indexes the entries. */
    if (certpin_diags_errors(l->found) > 0 && !l->nomem) {
        collect_patterns(l, domains);
        if (!l->nomem) {
            report_duplicates(l);
        }
    }
}

/* The error returned: the first error found, with its place. */
static void first_error(const loader *l, certpin_error *err)
{
    size_t i;
    for (i = 0; i < certpin_diags_count(l->found); i++) {
        const certpin_diag *g = certpin_diags_get(l->found, i);
        if (g->severity == CERTPIN_SEV_ERROR) {
            (void)cp_error_at(err, l->first != CERTPIN_OK ? l->first : CERTPIN_E_POLICY, g->source,
                              g->line, g->column, g->path, "%s", g->message);
            return;
        }
    }
    (void)cp_error_at(err, CERTPIN_E_POLICY, l->source, 0, 0, "", "the policy was refused");
}

certpin_policy *certpin_policy_load_buffer(const char *buf, size_t len, const char *source_name,
                                           const certpin_load_options *opts, certpin_error *err)
{
    loader l;
    cp_policy_draft d;
    json_error_t jerr;
    json_t *root;
    const char *nul;
    certpin_policy *policy = NULL;
    certpin_diags *warnings = NULL;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    memset(&l, 0, sizeof(l));
    l.source = source_name != NULL ? source_name : "<buffer>";
    l.strict = opts != NULL && opts->strict;
    l.now = opts != NULL ? opts->now : 0;
    if (buf == NULL) {
        (void)cp_error(err, CERTPIN_E_ARG, "no policy text given");
        return NULL;
    }
    l.found = certpin_diags_new();
    if (l.found == NULL) {
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        return NULL;
    }
    cp_draft_init(&d);
    nul = memchr(buf, '\0', len);
    if (nul != NULL) {
        /* jansson skips NUL bytes between tokens (and yajl refuses them): a policy is text, and
         * one that holds a NUL byte is refused with its place, before either parser sees it */
        int line = 1;
        int column = 1;
        const char *q;
        for (q = buf; q < nul; q++) {
            line += *q == '\n';
            column = *q == '\n' ? 1 : column + 1;
        }
        (void)cp_error_at(err, CERTPIN_E_SYNTAX, l.source, line, column, "",
                          "a NUL byte: a policy is JSON text; is this the right file?");
        (void)cp_diags_add(l.found, CERTPIN_SEV_ERROR, l.source, line, column, "", "syntax",
                           "a NUL byte: a policy is JSON text; is this the right file?");
        root = NULL;
        goto out;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        enum json_error_code code = json_error_code(&jerr);
        int dup = code == json_error_duplicate_key;
        certpin_status st = code == json_error_out_of_memory ? CERTPIN_E_NOMEM : CERTPIN_E_SYNTAX;
        (void)cp_error_at(err, st, l.source, jerr.line, jerr.column, "", "%s%s", jerr.text,
                          dup ? ": a key may appear only once in an object" : "");
        (void)cp_diags_add(l.found, CERTPIN_SEV_ERROR, l.source, jerr.line, jerr.column, "",
                           dup ? "duplicate-key" : "syntax", "%s%s", jerr.text,
                           dup ? ": a key may appear only once in an object" : "");
        goto out;
    }
    if (!cp_json_crosscheck(buf, len, root)) {
        /* jansson and yajl read the text differently: only a failed allocation inside one of
         * them does that (see crosscheck.c). Never load what may not be what was written. */
        (void)cp_error_at(err, CERTPIN_E_NOMEM, l.source, 0, 0, "",
                          "the policy could not be read reliably (out of memory?): refused");
        (void)cp_diags_add(l.found, CERTPIN_SEV_ERROR, l.source, 0, 0, "", "read-mismatch",
                           "the policy could not be read reliably (out of memory?): refused");
        goto out;
    }
    load_root(&l, &d, root);
    if (l.nomem) {
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        goto out;
    }
    if (certpin_diags_errors(l.found) == 0 &&
        json_array_size(json_object_get(root, "domains")) != d.count) {
        /* cannot happen: an entry left out without an error */
        (void)cp_error(err, CERTPIN_E_INTERNAL,
                       "an entry of the policy was lost while loading: refused");
        goto out;
    }
    if (certpin_diags_errors(l.found) == 0) {
        certpin_error ferr;
        memset(&ferr, 0, sizeof(ferr));
        policy = cp_draft_finish(&d, l.source, NULL, l.found, &ferr);
        if (policy == NULL && certpin_diags_errors(l.found) == 0) {
            /* not a finding about the policy: out of memory or a crypto failure */
            if (err != NULL) {
                *err = ferr;
            }
            goto out;
        }
        if (policy == NULL) {
            l.first = ferr.status;
        }
    }
    cp_locate_diags(buf, len, l.found, 0);
    if (policy == NULL) {
        first_error(&l, err);
        goto out;
    }
    warnings = certpin_diags_new();
    if (warnings == NULL || cp_diags_append(warnings, l.found) != CERTPIN_OK) {
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        certpin_diags_free(warnings);
        certpin_policy_free(policy);
        policy = NULL;
        goto out;
    }
    policy->warnings = warnings;
out:
    if (opts != NULL && opts->diags != NULL &&
        cp_diags_append(opts->diags, l.found) != CERTPIN_OK) {
        certpin_policy_free(policy);
        policy = NULL;
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    json_decref(root);
    cp_draft_clear(&d);
    certpin_diags_free(l.found);
    free(l.seen);
    return policy;
}

/* A file that cannot be read: the error, and the same as a finding for lint. */
static void io_failure(const char *path, const certpin_load_options *opts, certpin_error *err,
                       certpin_status st, const char *fmt, ...) CP_PRINTF(5, 6);

static void io_failure(const char *path, const certpin_load_options *opts, certpin_error *err,
                       certpin_status st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)cp_error_at(err, st, path, 0, 0, "", "%s", msg);
    (void)cp_diags_add(opts != NULL ? opts->diags : NULL, CERTPIN_SEV_ERROR, path, 0, 0, "", "io",
                       "%s", msg);
}

certpin_policy *certpin_policy_load_file(const char *path, const certpin_load_options *opts,
                                         certpin_error *err)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    size_t first = 65536;
    struct stat st;
    certpin_policy *p;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    if (path == NULL) {
        (void)cp_error(err, CERTPIN_E_ARG, "no policy file given");
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        io_failure(path, opts, err, CERTPIN_E_IO, "cannot open the policy file: %s",
                   strerror(errno));
        return NULL;
    }
    /* A regular file is read into a buffer of its size (one byte more, to see the end) rather
     * than one that doubles: a policy of a million entries is 150 MB. */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size < SIZE_MAX / 2) {
        first = (size_t)st.st_size + 1;
    }
    for (;;) {
        size_t n;
        if (len == cap) {
            char *nb;
            cap = cap == 0 ? first : cap * 2;
            if (cap > MAX_POLICY_BYTES) {
                free(buf);
                (void)fclose(f);
                io_failure(path, opts, err, CERTPIN_E_IO,
                           "the policy file is larger than %zu MiB: not a policy",
                           MAX_POLICY_BYTES >> 20);
                return NULL;
            }
            if ((nb = realloc(buf, cap)) == NULL) {
                free(buf);
                (void)fclose(f);
                io_failure(path, opts, err, CERTPIN_E_NOMEM,
                           "out of memory reading the policy file");
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        (void)fclose(f);
        io_failure(path, opts, err, CERTPIN_E_IO, "cannot read the policy file: %s", strerror(e));
        return NULL;
    }
    (void)fclose(f);
    p = certpin_policy_load_buffer(buf, len, path, opts, err);
    free(buf);
    return p;
}
