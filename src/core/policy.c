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

void certpin_policy_free(certpin_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    if (atomic_fetch_sub_explicit(&policy->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    free(policy->entries);
    free(policy->pins);
    free(policy->strings);
    cp_map_clear(&policy->index);
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
 * Stops when visit returns non-zero. Costs one probe per label, whatever the policy's size: one
 * pass over the host hashes every suffix, and every slot to be probed is asked for before the
 * first is compared, so that in a policy larger than the caches the probes wait for memory
 * together rather than one after another. */
typedef int (*visit_fn)(const certpin_entry *e, void *arg);

typedef struct probe {
    uint64_t hash;
    size_t at; /* the suffix of host that starts here */
    certpin_match kind;
} probe;

/* The probes of host in the order of precedence: the exact entry, then for each suffix from host
 * itself down to its last label the `*.` entry (for the parent only) and the `**.` entry. At most
 * CP_NAME_MAX_LABELS + 2. */
static size_t list_probes(const char *host, size_t len, cp_host_kind kind, probe *probes)
{
    size_t labels = 1;
    size_t n = 0;
    size_t i;
    probes[n++] = (probe){0, 0, CERTPIN_MATCH_EXACT};
    if (kind != CP_HOST_NAME) {
        return n; /* no wildcard matches an IP literal */
    }
    probes[n++] = (probe){0, 0, CERTPIN_MATCH_SUBTREE};
    for (i = 0; i < len && labels < CP_NAME_MAX_LABELS; i++) {
        if (host[i] != '.') {
            continue;
        }
        if (labels++ == 1) {
            probes[n++] = (probe){0, i + 1, CERTPIN_MATCH_ONE_LABEL};
        }
        probes[n++] = (probe){0, i + 1, CERTPIN_MATCH_SUBTREE};
    }
    return n;
}

static void visit_matches(const certpin_policy *p, const char *host, cp_host_kind kind,
                          visit_fn visit, void *arg)
{
    probe probes[CP_NAME_MAX_LABELS + 2];
    size_t len = strlen(host);
    size_t n;
    size_t i;
    size_t e;

    if (p->index.count == 0) {
        return;
    }
    /* In a small index the slots are in the caches: probe in turn, and stop at the first hit (the
     * exact entry, often). */
    if (!cp_map_is_large(&p->index)) {
        const char *suffix = host;
        int first = 1;
        e = cp_map_get(&p->index, cp_map_hash(host, len, CERTPIN_MATCH_EXACT), host, len,
                       CERTPIN_MATCH_EXACT);
        if ((e != CP_MAP_NONE && visit(&p->entries[e], arg)) || kind != CP_HOST_NAME) {
            return;
        }
        for (;;) {
            size_t slen = len - (size_t)(suffix - host);
            if (!first) {
                const char *parent_of_host = strchr(host, '.');
                if (parent_of_host != NULL && parent_of_host + 1 == suffix) {
                    e = cp_map_get(&p->index, cp_map_hash(suffix, slen, CERTPIN_MATCH_ONE_LABEL),
                                   suffix, slen, CERTPIN_MATCH_ONE_LABEL);
                    if (e != CP_MAP_NONE && visit(&p->entries[e], arg)) {
                        return;
                    }
                }
            }
            e = cp_map_get(&p->index, cp_map_hash(suffix, slen, CERTPIN_MATCH_SUBTREE), suffix,
                           slen, CERTPIN_MATCH_SUBTREE);
            if (e != CP_MAP_NONE && visit(&p->entries[e], arg)) {
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
    /* In a large one, ask for every slot first: the probes then wait for memory together. */
    n = list_probes(host, len, kind, probes);
    for (i = 0; i < n; i++) {
        probes[i].hash = cp_map_hash(host + probes[i].at, len - probes[i].at, probes[i].kind);
        cp_map_prefetch(&p->index, probes[i].hash);
    }
    for (i = 0; i < n; i++) {
        const char *key = host + probes[i].at;
        e = cp_map_get(&p->index, probes[i].hash, key, len - probes[i].at, probes[i].kind);
        if (e != CP_MAP_NONE && visit(&p->entries[e], arg)) {
            return;
        }
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

void cp_draft_init(cp_policy_draft *d) { memset(d, 0, sizeof(*d)); }

void cp_draft_clear(cp_policy_draft *d)
{
    free(d->entries);
    free(d->strings);
    free(d->pins);
    cp_draft_init(d);
}

void cp_draft_drop_last(cp_policy_draft *d)
{
    if (d->count > 0) {
        d->count--;
        d->strings_len = d->entries[d->count].pattern_at;
        d->pins_len = d->entries[d->count].pins_at;
    }
}

certpin_status cp_draft_copy(cp_policy_draft *dst, const cp_policy_draft *src)
{
    cp_draft_init(dst);
    dst->unpinned = src->unpinned;
    dst->entries = malloc(src->count > 0 ? src->count * sizeof(cp_draft_entry) : 1);
    dst->strings = malloc(src->strings_len > 0 ? src->strings_len : 1);
    dst->pins = malloc(src->pins_len > 0 ? src->pins_len * sizeof(cp_pin) : 1);
    if (dst->entries == NULL || dst->strings == NULL || dst->pins == NULL) {
        cp_draft_clear(dst);
        return CERTPIN_E_NOMEM;
    }
    if (src->count > 0) {
        memcpy(dst->entries, src->entries, src->count * sizeof(cp_draft_entry));
    }
    if (src->strings_len > 0) {
        memcpy(dst->strings, src->strings, src->strings_len);
    }
    if (src->pins_len > 0) {
        memcpy(dst->pins, src->pins, src->pins_len * sizeof(cp_pin));
    }
    dst->count = dst->cap = src->count;
    dst->strings_len = dst->strings_cap = src->strings_len;
    dst->pins_len = dst->pins_cap = src->pins_len;
    return CERTPIN_OK;
}

/* Makes room for n more items of size bytes in the pool *buf of *cap items holding len. */
static certpin_status reserve(void **buf, size_t *cap, size_t len, size_t n, size_t size)
{
    size_t want;
    void *grown;
    if (n <= *cap - len) {
        return CERTPIN_OK;
    }
    if (n > SIZE_MAX / size - len) {
        return CERTPIN_E_NOMEM;
    }
    want = *cap < 64 ? 64 : *cap;
    while (want < len + n) {
        want = want > SIZE_MAX / size / 2 ? len + n : want * 2;
    }
    grown = realloc(*buf, want * size);
    if (grown == NULL) {
        return CERTPIN_E_NOMEM;
    }
    *buf = grown;
    *cap = want;
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

/* Where cp_draft_add reports to. */
typedef struct reporter {
    certpin_diags *diags;
    certpin_error *err;
    const char *source;
    int line;
    const char *path; /* of the entry: "domains[3]" */
} reporter;

/* Reports a finding about field (and index, when >= 0) of the entry: an error (into err, the first
 * one, and diags) or a warning/note (into diags). The path is written only for a finding. */
static certpin_status finding(const reporter *to, certpin_severity sev, const char *field,
                              long index, const char *code, certpin_status status, const char *msg)
{
    char p[160];
    sub_path(p, sizeof(p), to->path, field, index);
    if (sev == CERTPIN_SEV_ERROR && to->err != NULL && to->err->status == CERTPIN_OK) {
        (void)cp_error_at(to->err, status, to->source, to->line, 0, p, "%s", msg);
    }
    if (cp_diags_add(to->diags, sev, to->source, to->line, 0, p, code, "%s", msg) != CERTPIN_OK) {
        return cp_error(to->err, CERTPIN_E_NOMEM, "out of memory");
    }
    return CERTPIN_OK;
}

static int64_t now_or(int64_t now) { return now != 0 ? now : (int64_t)time(NULL); }

/* In cp_draft_add: records a finding; when it cannot be recorded (out of memory), gives back what
 * the entry under construction took from the pools and returns. */
#define FINDING(args)                                                                              \
    do {                                                                                           \
        certpin_status finding_st_ = finding args;                                                 \
        if (finding_st_ != CERTPIN_OK) {                                                           \
            d->strings_len = strings_at;                                                           \
            d->pins_len = pins_at;                                                                 \
            return finding_st_;                                                                    \
        }                                                                                          \
    } while (0)

certpin_status cp_draft_add(cp_policy_draft *d, const certpin_domain *dom, const char *path,
                            int line, int strict, int64_t now, const char *source,
                            certpin_diags *diags, certpin_error *err)
{
    cp_draft_entry de;
    certpin_entry e;
    char base[CERTPIN_HOST_MAX];
    char msg[1200];
    certpin_error sub;
    cp_host_kind kind;
    cp_pin *pins = NULL;
    size_t strings_at = d->strings_len;
    size_t pins_at = d->pins_len;
    size_t i;
    size_t j;
    size_t prefix;
    size_t base_len;
    int bad = 0;
    certpin_severity lint_sev = strict ? CERTPIN_SEV_ERROR : CERTPIN_SEV_WARNING;
    reporter to;

    if (err != NULL) {
        err->status = CERTPIN_OK;
    }
    to.diags = diags;
    to.err = err;
    to.source = source;
    to.line = line;
    to.path = path;
    memset(&e, 0, sizeof(e));
    if (dom == NULL || dom->host == NULL) {
        FINDING((&to, CERTPIN_SEV_ERROR, "host", -1, "missing-host", CERTPIN_E_POLICY,
                 "every entry needs a \"host\""));
        return CERTPIN_E_POLICY;
    }
    if (dom->mode > CERTPIN_MODE_OFF || dom->on_expiry > CERTPIN_ON_EXPIRY_ENFORCE ||
        (dom->pin_count > 0 && dom->pins == NULL) || (dom->deny_count > 0 && dom->deny == NULL)) {
        return cp_error(err, CERTPIN_E_ARG, "invalid mode, on_expiry or pin array");
    }

    if (cp_pattern_parse(dom->host, dom->include_subdomains, base, &e.match, &kind, &sub) !=
        CERTPIN_OK) {
        FINDING((&to, CERTPIN_SEV_ERROR, "host", -1, "bad-host", sub.status, sub.text));
        bad = 1;
    } else {
        if (e.match != CERTPIN_MATCH_EXACT && cp_host_is_public_suffix(base)) {
            (void)snprintf(msg, sizeof(msg),
                           "the pattern \"%s%s\" spans the public suffix \"%s\": it would pin "
                           "every site under it; pin your own domain instead",
                           e.match == CERTPIN_MATCH_ONE_LABEL ? "*." : "**.", base, base);
            FINDING((&to, lint_sev, "host", -1, "public-suffix", CERTPIN_E_POLICY, msg));
            bad |= strict;
        }
        prefix = e.match == CERTPIN_MATCH_ONE_LABEL ? 2 : e.match == CERTPIN_MATCH_SUBTREE ? 3 : 0;
        base_len = strlen(base);
        if (reserve((void **)&d->strings, &d->strings_cap, d->strings_len, prefix + base_len + 1,
                    1) != CERTPIN_OK) {
            return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        }
        memcpy(d->strings + d->strings_len, prefix == 2 ? "*." : "**.", prefix);
        memcpy(d->strings + d->strings_len + prefix, base, base_len + 1);
        d->strings_len += prefix + base_len + 1;
        e.fixed_labels = cp_host_labels(base);
    }

    e.mode = dom->mode;
    e.on_expiry = dom->on_expiry;
    e.line = line;
    if (dom->expires != NULL) {
        if (certpin_time_parse(dom->expires, &e.expires, &sub) != CERTPIN_OK) {
            FINDING((&to, CERTPIN_SEV_ERROR, "expires", -1, "bad-time", sub.status, sub.text));
            bad = 1;
        } else if (e.mode != CERTPIN_MODE_OFF) {
            int64_t left = e.expires - now_or(now);
            if (left <= 0) {
                (void)snprintf(msg, sizeof(msg), "the entry has expired (%s): %s", dom->expires,
                               e.on_expiry == CERTPIN_ON_EXPIRY_UNPIN
                                   ? "with on_expiry \"unpin\" it is no longer enforced"
                                   : "with on_expiry \"enforce\" it is still enforced");
                FINDING((&to, CERTPIN_SEV_WARNING, "expires", -1, "expired", CERTPIN_OK, msg));
            } else if (left < (int64_t)EXPIRY_WARNING_DAYS * 86400) {
                (void)snprintf(msg, sizeof(msg),
                               "the entry expires in %lld day(s) (%s): renew the pins and the date",
                               (long long)((left + 86399) / 86400), dom->expires);
                FINDING((&to, CERTPIN_SEV_WARNING, "expires", -1, "expires-soon", CERTPIN_OK, msg));
            }
        }
    }

    if (dom->pin_count + dom->deny_count > 0) {
        if (reserve((void **)&d->pins, &d->pins_cap, d->pins_len, dom->pin_count + dom->deny_count,
                    sizeof(cp_pin)) != CERTPIN_OK) {
            d->strings_len = strings_at;
            return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        }
        pins = d->pins + d->pins_len;
        memset(pins, 0, (dom->pin_count + dom->deny_count) * sizeof(cp_pin));
        d->pins_len += dom->pin_count + dom->deny_count;
    }
    for (i = 0; i < dom->pin_count + dom->deny_count; i++) {
        int is_deny = i >= dom->pin_count;
        size_t k = is_deny ? i - dom->pin_count : i;
        const char *text = is_deny ? dom->deny[k] : dom->pins[k];
        const char *field = is_deny ? "deny" : "pins";
        if (certpin_pin_parse(text, pins[i], &sub) != CERTPIN_OK) {
            FINDING((&to, CERTPIN_SEV_ERROR, field, (long)k, "bad-pin", sub.status, sub.text));
            bad = 1;
            continue;
        }
        for (j = 0; j < i; j++) {
            int j_deny = j >= dom->pin_count;
            if (memcmp(pins[i], pins[j], CERTPIN_PIN_LEN) != 0) {
                continue;
            }
            if (is_deny != j_deny) {
                (void)snprintf(msg, sizeof(msg),
                               "this key is both pinned (%s%spins[%zu]) and "
                               "denied: decide which",
                               path, *path ? "." : "", is_deny ? j : k);
                FINDING((&to, CERTPIN_SEV_ERROR, field, (long)k, "pinned-and-denied",
                         CERTPIN_E_POLICY, msg));
                bad = 1;
            } else {
                (void)snprintf(msg, sizeof(msg), "repeats %s%s%s[%zu]: a repeated pin is no backup",
                               path, *path ? "." : "", is_deny ? "deny" : "pins",
                               is_deny ? j - dom->pin_count : j);
                FINDING((&to, CERTPIN_SEV_ERROR, field, (long)k, "duplicate-pin", CERTPIN_E_POLICY,
                         msg));
                bad = 1;
            }
            break;
        }
    }
    e.pin_count = dom->pin_count;
    e.deny_count = dom->deny_count;

    if (e.mode != CERTPIN_MODE_OFF && dom->pin_count == 0) {
        FINDING((&to, CERTPIN_SEV_ERROR, "pins", -1, "no-pins", CERTPIN_E_POLICY,
                 "an entry that is not \"mode\": \"off\" needs pins: at least two, the "
                 "key in use and a backup (certpin pin KEY)"));
        bad = 1;
    } else if (e.mode == CERTPIN_MODE_ENFORCE && dom->pin_count == 1) {
        FINDING((&to, lint_sev, "pins", -1, "too-few-pins", CERTPIN_E_POLICY,
                 "an enforced entry needs at least two distinct pins: with one, a lost or "
                 "rotated key locks every client out; add a backup key's pin "
                 "(certpin pin on a key that is not deployed)"));
        bad |= strict;
    }
    if (e.mode == CERTPIN_MODE_OFF) {
        FINDING((&to, CERTPIN_SEV_NOTE, "mode", -1, "mode-off", CERTPIN_OK,
                 "explicitly unpinned (mode \"off\"): names it matches are not pinned"));
    }

    if (bad) {
        d->strings_len = strings_at;
        d->pins_len = pins_at;
        return err != NULL && err->status != CERTPIN_OK ? err->status : CERTPIN_E_POLICY;
    }
    if (d->count == d->cap &&
        reserve((void **)&d->entries, &d->cap, d->count, 1, sizeof(cp_draft_entry)) != CERTPIN_OK) {
        d->strings_len = strings_at;
        d->pins_len = pins_at;
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    e.index = d->count;
    de.e = e;
    de.pattern_at = strings_at;
    de.pins_at = pins_at;
    d->entries[d->count++] = de;
    return CERTPIN_OK;
}

/* The identity: SHA-256 over a length-framed canonical serialisation of everything that can
 * change a decision, so equal rules give equal identities wherever they came from. The
 * serialisation is gathered in a buffer and hashed a buffer at a time: a call into the crypto
 * library costs as much as hashing a few hundred bytes, and a policy has millions of fields. */
typedef struct id_writer {
    cp_sha256_ctx *c;
    certpin_status st;
    size_t len;
    unsigned char buf[16384];
} id_writer;

static void id_flush(id_writer *w)
{
    if (w->st == CERTPIN_OK && w->len > 0) {
        w->st = cp_sha256_update(w->c, w->buf, w->len);
    }
    w->len = 0;
}

static void id_bytes(id_writer *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        size_t n = sizeof(w->buf) - w->len;
        if (n == 0) {
            id_flush(w);
            continue;
        }
        if (n > len) {
            n = len;
        }
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        p += n;
        len -= n;
    }
}

static void id_field(id_writer *w, const void *data, size_t len)
{
    unsigned char n[4];
    n[0] = (unsigned char)(len >> 24);
    n[1] = (unsigned char)(len >> 16);
    n[2] = (unsigned char)(len >> 8);
    n[3] = (unsigned char)len;
    id_bytes(w, n, sizeof(n));
    id_bytes(w, data, len);
}

/* Writes v in decimal as printf's "%lld" does; returns the length. out holds 21 bytes. */
static size_t put_decimal(char *out, int64_t v)
{
    char digits[20];
    size_t n = 0;
    size_t len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        out[len++] = '-';
    }
    while (n > 0) {
        out[len++] = digits[--n];
    }
    return len;
}

static certpin_status compute_id(certpin_policy *p)
{
    static const char hex[] = "0123456789abcdef";
    id_writer *w = malloc(sizeof(*w));
    certpin_status st;
    size_t i;
    char num[128];

    if (w == NULL) {
        return CERTPIN_E_NOMEM;
    }
    w->c = cp_sha256_new();
    w->st = CERTPIN_OK;
    w->len = 0;
    if (w->c == NULL) {
        free(w);
        return CERTPIN_E_CRYPTO;
    }
    (void)snprintf(num, sizeof(num), "certpin-policy/%d/%d", CERTPIN_FORMAT_VERSION,
                   (int)p->unpinned);
    id_field(w, num, strlen(num));
    for (i = 0; i < p->entry_count; i++) {
        const certpin_entry *e = &p->entries[i];
        /* "%d/%d/%lld/%zu/%zu" of mode, on_expiry, expires, pin_count, deny_count */
        size_t n = put_decimal(num, (int64_t)e->mode);
        num[n++] = '/';
        n += put_decimal(num + n, (int64_t)e->on_expiry);
        num[n++] = '/';
        n += put_decimal(num + n, e->expires);
        num[n++] = '/';
        n += put_decimal(num + n, (int64_t)e->pin_count);
        num[n++] = '/';
        n += put_decimal(num + n, (int64_t)e->deny_count);
        id_field(w, e->pattern, strlen(e->pattern));
        id_field(w, num, n);
        if (e->pin_count + e->deny_count > 0) {
            id_field(w, e->pins, (e->pin_count + e->deny_count) * sizeof(cp_pin));
        }
    }
    id_flush(w);
    st = w->st;
    if (st == CERTPIN_OK) {
        st = cp_sha256_final(w->c, p->id);
    }
    cp_sha256_free(w->c);
    free(w);
    for (i = 0; st == CERTPIN_OK && i < 32; i++) {
        p->id_hex[2 * i] = hex[p->id[i] >> 4];
        p->id_hex[2 * i + 1] = hex[p->id[i] & 0xf];
    }
    p->id_hex[64] = '\0';
    return st;
}

certpin_status cp_policy_index(certpin_policy *p, const char *pool, cp_dup_fn dup, void *arg)
{
    /* Entries are hashed a batch at a time and their slots asked for before any is written, so
     * that in an index larger than the caches the insertions wait for memory together. */
    enum { BATCH = 16 };
    uint64_t hashes[BATCH] = {0};
    size_t lens[BATCH] = {0};
    size_t i;
    size_t k;
    CP_GUARD(cp_map_init(&p->index, p->entry_count, pool));
    for (i = 0; i < p->entry_count; i += BATCH) {
        for (k = 0; k < BATCH && i + k < p->entry_count; k++) {
            const certpin_entry *e = &p->entries[i + k];
            lens[k] = strlen(e->base);
            hashes[k] = cp_map_hash(e->base, lens[k], e->match);
            cp_map_prefetch(&p->index, hashes[k]);
        }
        for (k = 0; k < BATCH && i + k < p->entry_count; k++) {
            const certpin_entry *e = &p->entries[i + k];
            size_t prev;
            CP_GUARD(cp_map_put(&p->index, hashes[k], (size_t)(e->base - pool), lens[k], e->match,
                                i + k, &prev));
            if (prev != CP_MAP_NONE) {
                if (dup == NULL) {
                    return CERTPIN_E_POLICY;
                }
                CP_GUARD(dup(e, &p->entries[prev], arg));
            }
        }
    }
    return CERTPIN_OK;
}

/* What cp_draft_finish reports a duplicate pattern to. */
typedef struct dup_report {
    const char *source;
    certpin_diags *all;
    certpin_error *err;
    int seen;
} dup_report;

static certpin_status report_dup(const certpin_entry *e, const certpin_entry *first, void *arg)
{
    dup_report *r = arg;
    char path[64];
    char msg[300];
    (void)snprintf(path, sizeof(path), "domains[%zu].host", e->index);
    (void)snprintf(msg, sizeof(msg),
                   "the pattern \"%s\" is already the pattern of domains[%zu]: merge the two "
                   "entries",
                   e->pattern, first->index);
    if (!r->seen) {
        (void)cp_error_at(r->err, CERTPIN_E_POLICY, r->source, e->line, 0, path, "%s", msg);
    }
    r->seen = 1;
    if (cp_diags_add(r->all, CERTPIN_SEV_ERROR, r->source, e->line, 0, path, "duplicate-pattern",
                     "%s", msg) != CERTPIN_OK) {
        return CERTPIN_E_NOMEM;
    }
    return CERTPIN_OK;
}

/* realloc to a smaller size, which cannot fail for want of memory in practice; if it does, the
 * block stays as it was (larger), which is as good. */
static void *shrink(void *block, size_t size)
{
    void *smaller = size > 0 ? realloc(block, size) : NULL;
    return smaller != NULL ? smaller : block;
}

certpin_policy *cp_draft_finish(cp_policy_draft *d, const char *source, certpin_diags *warnings,
                                certpin_diags *all, certpin_error *err)
{
    certpin_policy *p = calloc(1, sizeof(*p));
    dup_report dups;
    certpin_status st;
    size_t i;

    if (p == NULL || (p->source = strdup(source != NULL ? source : "<buffer>")) == NULL) {
        free(p);
        cp_draft_clear(d);
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&p->refs, 1);
    p->unpinned = d->unpinned;
    /* The draft's memory becomes the policy's: the pools as they are (shrunk to fit), and the
     * entries turned into their final form where they lie (a final entry is smaller than a draft
     * entry, so entry i is written below where entry i + 1 is read). Nothing is copied whole. */
    p->strings = shrink(d->strings, d->strings_len);
    p->pins = d->pins_len > 0 ? shrink(d->pins, d->pins_len * sizeof(cp_pin)) : NULL;
    if (d->pins_len == 0) {
        free(d->pins);
    }
    for (i = 0; i < d->count; i++) {
        cp_draft_entry de;
        certpin_entry e;
        size_t prefix;
        memcpy(&de, (char *)d->entries + i * sizeof(cp_draft_entry), sizeof(de));
        prefix = de.e.match == CERTPIN_MATCH_ONE_LABEL ? 2
                 : de.e.match == CERTPIN_MATCH_SUBTREE ? 3
                                                       : 0;
        e = de.e;
        e.pattern = p->strings + de.pattern_at;
        e.base = e.pattern + prefix;
        e.pins = e.pin_count + e.deny_count > 0 ? (const cp_pin *)(p->pins + de.pins_at) : NULL;
        e.deny = e.pins != NULL ? e.pins + e.pin_count : NULL; /* no offset on NULL */
        p->any_deny |= e.deny_count > 0;
        memcpy((char *)d->entries + i * sizeof(certpin_entry), &e, sizeof(e));
    }
    p->entries = d->count > 0 ? shrink(d->entries, d->count * sizeof(certpin_entry)) : NULL;
    if (d->count == 0) {
        free(d->entries);
    }
    p->entry_count = d->count;
    cp_draft_init(d);

    dups.source = p->source;
    dups.all = all;
    dups.err = err;
    dups.seen = 0;
    st = cp_policy_index(p, p->strings != NULL ? p->strings : "", report_dup, &dups);
    if (st == CERTPIN_E_NOMEM) {
        (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
        goto fail;
    }
    if (st != CERTPIN_OK) {
        (void)cp_error(err, CERTPIN_E_INTERNAL, "policy index failure");
        goto fail;
    }
    if (dups.seen) {
        goto fail;
    }
    if (compute_id(p) != CERTPIN_OK) {
        (void)cp_error(err, CERTPIN_E_CRYPTO, "cannot compute the policy identity (SHA-256)");
        goto fail;
    }
    p->warnings = warnings;
    return p;
fail:
    certpin_policy_free(p); /* warnings are still the caller's */
    return NULL;
}
