/* Policies: entries, their index, their identity, and the lookup of the deciding entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private/crypto.h"
#include "private/error.h"
#include "private/policy.h"
#include "private/safety.h"

#define EXPIRY_WARNING_DAYS 30

/* ---- accessors ---------------------------------------------------------------------------- */

certpin_policy *certpin_policy_ref(certpin_policy *policy)
{
    if (policy != NULL) {
        atomic_fetch_add_explicit(&policy->refs, 1, memory_order_relaxed);
    }
    return policy;
}

static void entry_clear(certpin_entry *e)
{
    free(e->pattern);
    free(e->pins);
    memset(e, 0, sizeof(*e));
}

void certpin_policy_free(certpin_policy *policy)
{
    size_t i;
    if (policy == NULL) {
        return;
    }
    if (atomic_fetch_sub_explicit(&policy->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    for (i = 0; i < policy->entry_count; i++) {
        entry_clear(&policy->entries[i]);
    }
    free(policy->entries);
    cp_map_clear(&policy->exact);
    cp_map_clear(&policy->one_label);
    cp_map_clear(&policy->subtree);
    certpin_diags_free(policy->warnings);
    free(policy->source);
    free(policy);
}

const unsigned char *certpin_policy_id(const certpin_policy *policy)
{
    return policy == NULL ? NULL : policy->id;
}

const char *certpin_policy_id_hex(const certpin_policy *policy)
{
    return policy == NULL ? "" : policy->id_hex;
}

const char *certpin_policy_source(const certpin_policy *policy)
{
    return policy == NULL ? "" : policy->source;
}

certpin_unpinned certpin_policy_unpinned(const certpin_policy *policy)
{
    return policy == NULL ? CERTPIN_UNPINNED_DENY : policy->unpinned;
}

size_t certpin_policy_entry_count(const certpin_policy *policy)
{
    return policy == NULL ? 0 : policy->entry_count;
}

const certpin_entry *certpin_policy_entry(const certpin_policy *policy, size_t i)
{
    if (policy == NULL || i >= policy->entry_count) {
        return NULL;
    }
    return &policy->entries[i];
}

const certpin_diags *certpin_policy_warnings(const certpin_policy *policy)
{
    return policy == NULL ? NULL : policy->warnings;
}

const char *certpin_entry_pattern(const certpin_entry *e) { return e->pattern; }
size_t certpin_entry_index(const certpin_entry *e) { return e->index; }
certpin_match certpin_entry_match(const certpin_entry *e) { return e->match; }
certpin_mode certpin_entry_mode(const certpin_entry *e) { return e->mode; }
certpin_on_expiry certpin_entry_on_expiry(const certpin_entry *e) { return e->on_expiry; }
int64_t certpin_entry_expires(const certpin_entry *e) { return e->expires; }
size_t certpin_entry_pin_count(const certpin_entry *e) { return e->pin_count; }
size_t certpin_entry_deny_count(const certpin_entry *e) { return e->deny_count; }
size_t certpin_entry_fixed_labels(const certpin_entry *e) { return e->fixed_labels; }

const unsigned char *certpin_entry_pin(const certpin_entry *e, size_t i)
{
    return i < e->pin_count ? e->pins[i] : NULL;
}

const unsigned char *certpin_entry_deny(const certpin_entry *e, size_t i)
{
    return i < e->deny_count ? e->deny[i] : NULL;
}

int certpin_entry_matches(const certpin_entry *e, const char *canonical_host)
{
    if (e == NULL || canonical_host == NULL) {
        return 0;
    }
    return cp_pattern_matches(e->base, e->match, canonical_host);
}

/* ---- lookup ------------------------------------------------------------------------------- */

/* Visits every entry that matches host, most specific first: the exact entry; then, for each
 * suffix of host from the host itself down to its last label, the `*.` entry over it (when it is
 * the parent: exactly one more label) and the `**.` entry over it. That order is the precedence
 * of the lookup (most fixed labels; on a tie `*.` beats `**.`), so the first visited decides.
 * Stops when visit returns non-zero. Costs one map probe per label, whatever the policy's size. */
typedef int (*visit_fn)(const certpin_entry *e, void *arg);

static void visit_matches(const certpin_policy *p, const char *host, cp_host_kind kind,
                          visit_fn visit, void *arg)
{
    size_t len = strlen(host);
    const char *suffix = host;
    const certpin_entry *e;
    int first = 1;

    e = cp_map_get(&p->exact, host, len);
    if (e != NULL && visit(e, arg)) {
        return;
    }
    if (kind != CP_HOST_NAME) {
        return; /* no wildcard matches an IP literal */
    }
    for (;;) {
        size_t slen = len - (size_t)(suffix - host);
        if (!first) {
            const char *parent_of_host = strchr(host, '.');
            if (parent_of_host != NULL && parent_of_host + 1 == suffix) {
                e = cp_map_get(&p->one_label, suffix, slen);
                if (e != NULL && visit(e, arg)) {
                    return;
                }
            }
        }
        e = cp_map_get(&p->subtree, suffix, slen);
        if (e != NULL && visit(e, arg)) {
            return;
        }
        suffix = strchr(suffix, '.');
        if (suffix == NULL) {
            return;
        }
        suffix++;
        first = 0;
    }
}

static int take_first(const certpin_entry *e, void *arg)
{
    *(const certpin_entry **)arg = e;
    return 1;
}

const certpin_entry *cp_policy_lookup(const certpin_policy *p, const char *host, cp_host_kind kind)
{
    const certpin_entry *found = NULL;
    visit_matches(p, host, kind, take_first, &found);
    return found;
}

typedef struct deny_search {
    const cp_pin *chain;
    size_t chain_len;
    const certpin_entry *entry;
    int depth;
} deny_search;

static int find_denied(const certpin_entry *e, void *arg)
{
    deny_search *s = arg;
    size_t i;
    size_t j;
    for (i = 0; i < s->chain_len; i++) {
        for (j = 0; j < e->deny_count; j++) {
            if (memcmp(s->chain[i], e->deny[j], CERTPIN_PIN_LEN) == 0) {
                s->entry = e;
                s->depth = (int)i;
                return 1;
            }
        }
    }
    return 0;
}

const certpin_entry *cp_policy_find_denied(const certpin_policy *p, const char *host,
                                           cp_host_kind kind, const cp_pin *chain, size_t chain_len,
                                           int *depth)
{
    deny_search s = {chain, chain_len, NULL, -1};
    if (!p->any_deny) {
        return NULL;
    }
    visit_matches(p, host, kind, find_denied, &s);
    *depth = s.depth;
    return s.entry;
}

const certpin_entry *certpin_policy_lookup(const certpin_policy *policy, const char *host,
                                           certpin_error *err)
{
    char canon[CERTPIN_HOST_MAX];
    cp_host_kind kind;
    if (policy == NULL || host == NULL) {
        (void)cp_error(err, CERTPIN_E_ARG, "no policy or no host given");
        return NULL;
    }
    if (cp_host_canonical(host, canon, &kind, err) != CERTPIN_OK) {
        return NULL;
    }
    return cp_policy_lookup(policy, canon, kind);
}

/* ---- drafts: checking entries and making the policy --------------------------------------- */

void cp_draft_init(cp_policy_draft *d)
{
    memset(d, 0, sizeof(*d));
}

void cp_draft_clear(cp_policy_draft *d)
{
    size_t i;
    for (i = 0; i < d->count; i++) {
        entry_clear(&d->entries[i]);
    }
    free(d->entries);
    cp_draft_init(d);
}

/* Reports a finding about the entry at path: an error (into err, the first one, and diags) or a
 * warning/note (into diags). */
static certpin_status finding(certpin_diags *diags, certpin_error *err, certpin_severity sev,
                              const char *source, int line, const char *path, const char *code,
                              certpin_status status, const char *msg)
{
    if (sev == CERTPIN_SEV_ERROR && err != NULL && err->status == CERTPIN_OK) {
        (void)cp_error_at(err, status, source, line, 0, path, "%s", msg);
    }
    if (cp_diags_add(diags, sev, source, line, 0, path, code, "%s", msg) != CERTPIN_OK) {
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    return CERTPIN_OK;
}

static void sub_path(char *out, size_t cap, const char *path, const char *field, long index)
{
    if (index >= 0) {
        (void)snprintf(out, cap, "%s%s%s[%ld]", path, *path ? "." : "", field, index);
    } else {
        (void)snprintf(out, cap, "%s%s%s", path, *path ? "." : "", field);
    }
}

static int64_t now_or(int64_t now)
{
    return now != 0 ? now : (int64_t)time(NULL);
}

/* In cp_draft_add: records a finding; when it cannot be recorded (out of memory), drops the entry
 * under construction and returns. */
#define FINDING(args)                                                                              \
    do {                                                                                           \
        certpin_status finding_st_ = finding args;                                                 \
        if (finding_st_ != CERTPIN_OK) {                                                           \
            entry_clear(&e);                                                                       \
            return finding_st_;                                                                    \
        }                                                                                          \
    } while (0)

certpin_status cp_draft_add(cp_policy_draft *d, const certpin_domain *dom, const char *path, int line,
                            int strict, int64_t now, const char *source, certpin_diags *diags,
                            certpin_error *err)
{
    certpin_entry e;
    char base[CERTPIN_HOST_MAX];
    char p[160];
    char msg[1200];
    certpin_error sub;
    cp_host_kind kind;
    size_t i;
    size_t j;
    size_t prefix;
    size_t base_len;
    int bad = 0;
    certpin_severity lint_sev = strict ? CERTPIN_SEV_ERROR : CERTPIN_SEV_WARNING;

    if (err != NULL) {
        err->status = CERTPIN_OK;
    }
    memset(&e, 0, sizeof(e));
    memset(&sub, 0, sizeof(sub));
    if (dom == NULL || dom->host == NULL) {
        sub_path(p, sizeof(p), path, "host", -1);
        FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "missing-host",
                         CERTPIN_E_POLICY, "every entry needs a \"host\""));
        return CERTPIN_E_POLICY;
    }
    if (dom->mode > CERTPIN_MODE_OFF || dom->on_expiry > CERTPIN_ON_EXPIRY_ENFORCE ||
        (dom->pin_count > 0 && dom->pins == NULL) || (dom->deny_count > 0 && dom->deny == NULL)) {
        return cp_error(err, CERTPIN_E_ARG, "invalid mode, on_expiry or pin array");
    }

    sub_path(p, sizeof(p), path, "host", -1);
    if (cp_pattern_parse(dom->host, dom->include_subdomains, base, &e.match, &kind, &sub) !=
        CERTPIN_OK) {
        FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "bad-host", sub.status,
                         sub.text));
        bad = 1;
    } else {
        if (e.match != CERTPIN_MATCH_EXACT && cp_host_is_public_suffix(base)) {
            (void)snprintf(msg, sizeof(msg),
                           "the pattern \"%s%s\" spans the public suffix \"%s\": it would pin "
                           "every site under it; pin your own domain instead",
                           e.match == CERTPIN_MATCH_ONE_LABEL ? "*." : "**.", base, base);
            FINDING((diags, err, lint_sev, source, line, p, "public-suffix", CERTPIN_E_POLICY,
                             msg));
            bad |= strict;
        }
        prefix = e.match == CERTPIN_MATCH_ONE_LABEL ? 2 : e.match == CERTPIN_MATCH_SUBTREE ? 3 : 0;
        base_len = strlen(base);
        e.pattern = malloc(prefix + base_len + 1);
        if (e.pattern == NULL) {
            return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        }
        memcpy(e.pattern, prefix == 2 ? "*." : "**.", prefix);
        memcpy(e.pattern + prefix, base, base_len + 1);
        e.base = e.pattern + prefix;
        e.fixed_labels = cp_host_labels(base);
    }

    e.mode = dom->mode;
    e.on_expiry = dom->on_expiry;
    e.line = line;
    if (dom->expires != NULL) {
        sub_path(p, sizeof(p), path, "expires", -1);
        if (certpin_time_parse(dom->expires, &e.expires, &sub) != CERTPIN_OK) {
            FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "bad-time", sub.status,
                             sub.text));
            bad = 1;
        } else if (e.mode != CERTPIN_MODE_OFF) {
            int64_t left = e.expires - now_or(now);
            if (left <= 0) {
                (void)snprintf(msg, sizeof(msg),
                               "the entry has expired (%s): %s", dom->expires,
                               e.on_expiry == CERTPIN_ON_EXPIRY_UNPIN
                                   ? "with on_expiry \"unpin\" it is no longer enforced"
                                   : "with on_expiry \"enforce\" it is still enforced");
                FINDING((diags, err, CERTPIN_SEV_WARNING, source, line, p, "expired",
                                 CERTPIN_OK, msg));
            } else if (left < (int64_t)EXPIRY_WARNING_DAYS * 86400) {
                (void)snprintf(msg, sizeof(msg),
                               "the entry expires in %lld day(s) (%s): renew the pins and the date",
                               (long long)((left + 86399) / 86400), dom->expires);
                FINDING((diags, err, CERTPIN_SEV_WARNING, source, line, p, "expires-soon",
                                 CERTPIN_OK, msg));
            }
        }
    }

    if (dom->pin_count + dom->deny_count > 0) {
        e.pins = calloc(dom->pin_count + dom->deny_count, sizeof(cp_pin));
        if (e.pins == NULL) {
            entry_clear(&e);
            return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        }
    }
    e.deny = e.pins != NULL ? e.pins + dom->pin_count : NULL; /* no offset on NULL */
    for (i = 0; i < dom->pin_count + dom->deny_count; i++) {
        int is_deny = i >= dom->pin_count;
        size_t k = is_deny ? i - dom->pin_count : i;
        const char *text = is_deny ? dom->deny[k] : dom->pins[k];
        sub_path(p, sizeof(p), path, is_deny ? "deny" : "pins", (long)k);
        if (certpin_pin_parse(text, e.pins[i], &sub) != CERTPIN_OK) {
            FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "bad-pin", sub.status,
                             sub.text));
            bad = 1;
            continue;
        }
        for (j = 0; j < i; j++) {
            int j_deny = j >= dom->pin_count;
            if (memcmp(e.pins[i], e.pins[j], CERTPIN_PIN_LEN) != 0) {
                continue;
            }
            if (is_deny != j_deny) {
                (void)snprintf(msg, sizeof(msg), "this key is both pinned (%s%spins[%zu]) and "
                               "denied: decide which", path, *path ? "." : "", is_deny ? j : k);
                FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "pinned-and-denied",
                                 CERTPIN_E_POLICY, msg));
                bad = 1;
            } else {
                (void)snprintf(msg, sizeof(msg), "repeats %s%s%s[%zu]: a repeated pin is no backup",
                               path, *path ? "." : "", is_deny ? "deny" : "pins",
                               is_deny ? j - dom->pin_count : j);
                FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "duplicate-pin",
                                 CERTPIN_E_POLICY, msg));
                bad = 1;
            }
            break;
        }
    }
    e.pin_count = dom->pin_count;
    e.deny_count = dom->deny_count;

    sub_path(p, sizeof(p), path, "pins", -1);
    if (e.mode != CERTPIN_MODE_OFF && dom->pin_count == 0) {
        FINDING((diags, err, CERTPIN_SEV_ERROR, source, line, p, "no-pins", CERTPIN_E_POLICY,
                         "an entry that is not \"mode\": \"off\" needs pins: at least two, the "
                         "key in use and a backup (certpin pin KEY)"));
        bad = 1;
    } else if (e.mode == CERTPIN_MODE_ENFORCE && dom->pin_count == 1) {
        FINDING((diags, err, lint_sev, source, line, p, "too-few-pins", CERTPIN_E_POLICY,
                         "an enforced entry needs at least two distinct pins: with one, a lost or "
                         "rotated key locks every client out; add a backup key's pin "
                         "(certpin pin on a key that is not deployed)"));
        bad |= strict;
    }
    if (e.mode == CERTPIN_MODE_OFF) {
        sub_path(p, sizeof(p), path, "mode", -1);
        FINDING((diags, err, CERTPIN_SEV_NOTE, source, line, p, "mode-off", CERTPIN_OK,
                         "explicitly unpinned (mode \"off\"): names it matches are not pinned"));
    }

    if (bad) {
        entry_clear(&e);
        return err != NULL && err->status != CERTPIN_OK ? err->status : CERTPIN_E_POLICY;
    }
    if (d->count == d->cap) {
        size_t cap = d->cap == 0 ? 16 : d->cap * 2;
        certpin_entry *n = realloc(d->entries, cap * sizeof(*n));
        if (n == NULL) {
            entry_clear(&e);
            return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        }
        d->entries = n;
        d->cap = cap;
    }
    e.index = d->count;
    d->entries[d->count++] = e;
    return CERTPIN_OK;
}

/* The identity: SHA-256 over a length-framed canonical serialisation of everything that can
 * change a decision, so equal rules give equal identities wherever they came from. */
static certpin_status hash_field(cp_sha256_ctx *c, const void *data, size_t len)
{
    unsigned char n[4];
    n[0] = (unsigned char)(len >> 24);
    n[1] = (unsigned char)(len >> 16);
    n[2] = (unsigned char)(len >> 8);
    n[3] = (unsigned char)len;
    CP_GUARD(cp_sha256_update(c, n, sizeof(n)));
    return cp_sha256_update(c, data, len);
}

static certpin_status compute_id(certpin_policy *p)
{
    static const char hex[] = "0123456789abcdef";
    cp_sha256_ctx *c = cp_sha256_new();
    certpin_status st = CERTPIN_OK;
    size_t i;
    char num[64];

    if (c == NULL) {
        return CERTPIN_E_CRYPTO;
    }
    (void)snprintf(num, sizeof(num), "certpin-policy/%d/%d", CERTPIN_FORMAT_VERSION, (int)p->unpinned);
    st = hash_field(c, num, strlen(num));
    for (i = 0; st == CERTPIN_OK && i < p->entry_count; i++) {
        const certpin_entry *e = &p->entries[i];
        (void)snprintf(num, sizeof(num), "%d/%d/%lld/%zu/%zu", (int)e->mode, (int)e->on_expiry,
                       (long long)e->expires, e->pin_count, e->deny_count);
        st = hash_field(c, e->pattern, strlen(e->pattern));
        if (st == CERTPIN_OK) {
            st = hash_field(c, num, strlen(num));
        }
        if (st == CERTPIN_OK && e->pin_count + e->deny_count > 0) {
            st = hash_field(c, e->pins, (e->pin_count + e->deny_count) * sizeof(cp_pin));
        }
    }
    if (st == CERTPIN_OK) {
        st = cp_sha256_final(c, p->id);
    }
    cp_sha256_free(c);
    for (i = 0; st == CERTPIN_OK && i < 32; i++) {
        p->id_hex[2 * i] = hex[p->id[i] >> 4];
        p->id_hex[2 * i + 1] = hex[p->id[i] & 0xf];
    }
    p->id_hex[64] = '\0';
    return st;
}

static cp_map *map_for(certpin_policy *p, certpin_match m)
{
    switch (m) {
    case CERTPIN_MATCH_EXACT: return &p->exact;
    case CERTPIN_MATCH_ONE_LABEL: return &p->one_label;
    case CERTPIN_MATCH_SUBTREE: return &p->subtree;
    default: return NULL;
    }
}

certpin_policy *cp_draft_finish(cp_policy_draft *d, const char *source, certpin_diags *warnings,
                                certpin_diags *all, certpin_error *err)
{
    certpin_policy *p = calloc(1, sizeof(*p));
    size_t counts[3] = {0, 0, 0};
    size_t i;
    int dup = 0;

    if (p == NULL || (p->source = strdup(source != NULL ? source : "<buffer>")) == NULL) {
        free(p);
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&p->refs, 1);
    p->unpinned = d->unpinned;
    p->entries = d->entries;
    p->entry_count = d->count;
    cp_draft_init(d);
    p->warnings = warnings;
    for (i = 0; i < p->entry_count; i++) {
        counts[p->entries[i].match]++;
        p->any_deny |= p->entries[i].deny_count > 0;
    }
    if (cp_map_init(&p->exact, counts[0]) != CERTPIN_OK ||
        cp_map_init(&p->one_label, counts[1]) != CERTPIN_OK ||
        cp_map_init(&p->subtree, counts[2]) != CERTPIN_OK) {
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < p->entry_count; i++) {
        certpin_entry *e = &p->entries[i];
        void *prev = NULL;
        char path[64];
        char msg[300];
        if (cp_map_put(map_for(p, e->match), e->base, strlen(e->base), e, &prev) != CERTPIN_OK) {
            (void)cp_error(err, CERTPIN_E_INTERNAL, "policy index failure");
            goto fail;
        }
        if (prev != NULL) {
            const certpin_entry *first = prev;
            (void)snprintf(path, sizeof(path), "domains[%zu].host", e->index);
            (void)snprintf(msg, sizeof(msg),
                           "the pattern \"%s\" is already the pattern of domains[%zu]: merge the "
                           "two entries",
                           e->pattern, first->index);
            if (!dup) {
                (void)cp_error_at(err, CERTPIN_E_POLICY, p->source, e->line, 0, path, "%s", msg);
            }
            if (cp_diags_add(all, CERTPIN_SEV_ERROR, p->source, e->line, 0, path,
                             "duplicate-pattern", "%s", msg) != CERTPIN_OK) {
                (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
                goto fail;
            }
            dup = 1;
        }
    }
    if (dup) {
        goto fail;
    }
    if (compute_id(p) != CERTPIN_OK) {
        (void)cp_error(err, CERTPIN_E_CRYPTO, "cannot compute the policy identity (SHA-256)");
        goto fail;
    }
    return p;
fail:
    p->warnings = NULL; /* still the caller's */
    certpin_policy_free(p);
    return NULL;
}
