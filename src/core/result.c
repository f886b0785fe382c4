/* Results and their explanations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private/error.h"
#include "private/result.h"

certpin_result *certpin_result_new(void)
{
    /* Not calloc: the chain's pins and subjects (4 KiB of the result) are read only below
     * chain_len, which is 0 here; zeroing them is a cost of every connection. */
    certpin_result *r = malloc(sizeof(*r));
    if (r != NULL) {
        r->policy = NULL;
        r->explanation = NULL;
        certpin_result_reset(r);
    }
    return r;
}

void certpin_result_reset(certpin_result *r)
{
    if (r == NULL) {
        return;
    }
    certpin_policy_free(r->policy);
    if (r->explanation != NULL) {
        free(r->explanation);
    }
    r->verdict = CERTPIN_NOT_CHECKED;
    r->policy = NULL;
    r->entry = NULL;
    r->warnings = 0;
    r->depth = -1;
    r->port = 0;
    r->host[0] = '\0';
    r->reason[0] = '\0';
    r->chain_len = 0;
    r->explanation = NULL;
}

void certpin_result_free(certpin_result *r)
{
    if (r == NULL) {
        return;
    }
    certpin_result_reset(r);
    free(r);
}

int certpin_verdict_accepted(certpin_verdict v)
{
    return v == CERTPIN_ACCEPTED_NOT_PINNED || v == CERTPIN_ACCEPTED_EXPIRED ||
           v == CERTPIN_ACCEPTED_PINNED || v == CERTPIN_ACCEPTED_REPORT_ONLY;
}

const char *certpin_verdict_str(certpin_verdict v)
{
    switch (v) {
    case CERTPIN_NOT_CHECKED: return "not-checked";
    case CERTPIN_REJECTED_DENIED: return "rejected-denied";
    case CERTPIN_REJECTED_UNPINNED_HOST: return "rejected-unpinned-host";
    case CERTPIN_ACCEPTED_NOT_PINNED: return "accepted-not-pinned";
    case CERTPIN_ACCEPTED_EXPIRED: return "accepted-expired";
    case CERTPIN_ACCEPTED_PINNED: return "accepted-pinned";
    case CERTPIN_ACCEPTED_REPORT_ONLY: return "accepted-report-only";
    case CERTPIN_REJECTED_NO_MATCH: return "rejected-no-match";
    case CERTPIN_REJECTED_ERROR: return "rejected-error";
    case CERTPIN_REJECTED_UNVERIFIED: return "rejected-unverified";
    default: return "unknown";
    }
}

certpin_verdict certpin_result_verdict(const certpin_result *r)
{
    return r == NULL ? CERTPIN_NOT_CHECKED : r->verdict;
}
const char *certpin_result_host(const certpin_result *r) { return r->host; }
int certpin_result_port(const certpin_result *r) { return r->port; }
const certpin_entry *certpin_result_entry(const certpin_result *r) { return r->entry; }
const certpin_policy *certpin_result_policy(const certpin_result *r) { return r->policy; }
unsigned certpin_result_warnings(const certpin_result *r) { return r->warnings; }
int certpin_result_depth(const certpin_result *r) { return r->depth; }
const char *certpin_result_reason(const certpin_result *r) { return r->reason; }
size_t certpin_result_chain_len(const certpin_result *r) { return r->chain_len; }

const unsigned char *certpin_result_chain_pin(const certpin_result *r, size_t i)
{
    return i < r->chain_len ? r->chain[i] : NULL;
}

const char *certpin_result_chain_subject(const certpin_result *r, size_t i)
{
    return i < r->chain_len ? r->subjects[i] : "";
}

static void set_outcome(certpin_result *r, certpin_verdict v, const char *host, int port,
                        const char *reason)
{
    char canon[CERTPIN_HOST_MAX];
    certpin_result_reset(r);
    r->verdict = v;
    r->port = port;
    if (host != NULL) {
        if (certpin_host_canonical(host, canon, NULL) == CERTPIN_OK) {
            cp_strlcpy(r->host, canon, sizeof(r->host));
        } else {
            cp_strlcpy(r->host, host, sizeof(r->host));
        }
    }
    cp_strlcpy(r->reason, reason, sizeof(r->reason));
}

void cp_result_set_unverified(certpin_result *r, const char *host, int port, const char *reason)
{
    set_outcome(r, CERTPIN_REJECTED_UNVERIFIED, host, port, reason);
}

void cp_result_set_error(certpin_result *r, const char *host, int port, const char *reason)
{
    set_outcome(r, CERTPIN_REJECTED_ERROR, host, port, reason);
}

void cp_result_set_resumed(certpin_result *r, certpin_policy *policy, const char *host, int port,
                           certpin_verdict v)
{
    set_outcome(r, v, host, port, "");
    r->policy = certpin_policy_ref(policy);
    r->warnings |= CERTPIN_WARN_RESUMED;
    if (policy != NULL && r->host[0] != '\0') {
        r->entry = certpin_policy_lookup(policy, r->host, NULL);
    }
}

void cp_result_copy(certpin_result *dst, const certpin_result *src)
{
    size_t i;
    if (dst == src) {
        return;
    }
    certpin_result_reset(dst);
    /* What a result holds: every field before the chain (a field added there is copied too), its
     * own reference to the policy, and the chain's pins and subjects up to chain_len (nothing
     * reads past it). The copy makes its own explanation on demand. */
    memcpy(dst, src, offsetof(certpin_result, chain));
    dst->policy = certpin_policy_ref(src->policy);
    for (i = 0; i < src->chain_len && i < CP_MAX_CHAIN; i++) {
        memcpy(dst->chain[i], src->chain[i], sizeof(dst->chain[i]));
        memcpy(dst->subjects[i], src->subjects[i], sizeof(dst->subjects[i]));
    }
}

/* ---- explanations ------------------------------------------------------------------------- */

typedef struct sb {
    char *buf;
    size_t len;
    size_t cap;
    int failed;
} sb;

static void put(sb *s, const char *fmt, ...) CP_PRINTF(2, 3);

static void put(sb *s, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (;;) {
        if (s->failed) {
            return;
        }
        va_start(ap, fmt);
        n = vsnprintf(s->buf != NULL ? s->buf + s->len : NULL, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            s->failed = 1;
            return;
        }
        if ((size_t)n < s->cap - s->len) {
            s->len += (size_t)n;
            return;
        }
        {
            size_t cap = (s->cap + (size_t)n + 1) * 2;
            char *b = realloc(s->buf, cap);
            if (b == NULL) {
                s->failed = 1;
                return;
            }
            s->buf = b;
            s->cap = cap;
        }
    }
}

static void put_pin(sb *s, const unsigned char *pin)
{
    char text[CERTPIN_PIN_STR_MAX];
    if (certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text)) != CERTPIN_OK) {
        cp_strlcpy(text, "(unprintable)", sizeof(text));
    }
    put(s, "%s", text);
}

static void put_time(sb *s, int64_t t)
{
    char out[32];
    struct tm tm;
    time_t tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        put(s, "%lld", (long long)t);
        return;
    }
    put(s, "%s", out);
}

static void put_chain(sb *s, const certpin_result *r)
{
    size_t i;
    int width = 0;
    put(s, "  verified chain:\n");
    for (i = 0; i < r->chain_len; i++) {
        int n = (int)strlen(r->subjects[i]);
        if (n > width) {
            width = n;
        }
    }
    for (i = 0; i < r->chain_len; i++) {
        const char *label = i == 0 ? "(leaf)" : i + 1 == r->chain_len ? "(trust anchor)" : "";
        if (r->chain_len == 1) {
            label = "(leaf, trust anchor)";
        }
        put(s, "    ");
        put_pin(s, r->chain[i]);
        put(s, "  %-*s  %s", width, r->subjects[i][0] != '\0' ? r->subjects[i] : "", label);
        if ((int)i == r->depth && r->verdict == CERTPIN_REJECTED_DENIED) {
            put(s, "  <- denied");
        } else if ((int)i == r->depth && r->verdict == CERTPIN_ACCEPTED_PINNED) {
            put(s, "  <- pinned");
        }
        /* trim trailing blanks left by the padding */
        while (s->len > 0 && !s->failed && s->buf[s->len - 1] == ' ') {
            s->buf[--s->len] = '\0';
        }
        put(s, "\n");
    }
}

static void put_entry(sb *s, const certpin_result *r, const char *what)
{
    const certpin_entry *e = r->entry;
    size_t i;
    size_t n = what[0] == 'd' ? e->deny_count : e->pin_count;
    put(s, "  policy entry %s (%s, domains[%zu]) %s:\n", e->pattern,
        certpin_policy_source(r->policy), e->index, what);
    for (i = 0; i < n; i++) {
        put(s, "    ");
        put_pin(s, what[0] == 'd' ? e->deny[i] : e->pins[i]);
        put(s, "\n");
    }
}

static void explain(sb *s, const certpin_result *r)
{
    const certpin_entry *e = r->entry;
    const char *host = r->host[0] != '\0' ? r->host : "(no host)";
    switch (r->verdict) {
    case CERTPIN_NOT_CHECKED:
        put(s, "certpin: no pin check ran for this connection: treat it as a failure\n");
        return;
    case CERTPIN_REJECTED_ERROR: put(s, "certpin: cannot check %s: %s\n", host, r->reason); return;
    case CERTPIN_REJECTED_UNVERIFIED:
        put(s,
            "certpin: the chain for %s failed the TLS library's own verification: %s\n"
            "  (this is not a pin decision: fix the chain, the trust store or the name)\n",
            host, r->reason);
        return;
    case CERTPIN_REJECTED_DENIED:
        put(s, "certpin: a denied key is on the verified chain for %s\n", host);
        put_chain(s, r);
        put_entry(s, r, "denies");
        return;
    case CERTPIN_REJECTED_UNPINNED_HOST:
        put(s,
            "certpin: no entry of the policy (%s) covers %s, and it says \"unpinned\": \"deny\"\n",
            certpin_policy_source(r->policy), host);
        put_chain(s, r);
        return;
    case CERTPIN_ACCEPTED_NOT_PINNED:
        if (e != NULL) {
            put(s,
                "certpin: %s accepted, not pinned: entry %s (%s, domains[%zu]) has mode \"off\"\n",
                host, e->pattern, certpin_policy_source(r->policy), e->index);
        } else {
            put(s, "certpin: %s accepted, not pinned: no entry of the policy (%s) covers it\n",
                host, certpin_policy_source(r->policy));
        }
        return;
    case CERTPIN_ACCEPTED_EXPIRED:
        put(s, "certpin: %s accepted, not enforced: entry %s (%s, domains[%zu]) expired at ", host,
            e->pattern, certpin_policy_source(r->policy), e->index);
        put_time(s, e->expires);
        put(s, " and says \"on_expiry\": \"unpin\"\n");
        return;
    case CERTPIN_ACCEPTED_PINNED:
        put(s,
            "certpin: %s accepted: the key at depth %d matches a pin of entry %s (%s, "
            "domains[%zu])\n",
            host, r->depth, e != NULL ? e->pattern : "?", certpin_policy_source(r->policy),
            e != NULL ? e->index : 0);
        if (r->chain_len > 0) {
            put_chain(s, r);
        }
        return;
    case CERTPIN_ACCEPTED_REPORT_ONLY:
        put(s, "certpin: pin check failed for %s (report-only: reported, the connection goes on)\n",
            host);
        put_chain(s, r);
        put_entry(s, r, "expects one of");
        return;
    case CERTPIN_REJECTED_NO_MATCH:
        put(s, "certpin: pin check failed for %s\n", host);
        put_chain(s, r);
        put_entry(s, r, "expects one of");
        return;
    default: put(s, "certpin: unknown verdict\n"); return;
    }
}

const char *certpin_result_explain(certpin_result *r)
{
    sb s = {NULL, 0, 0, 0};
    if (r == NULL) {
        return "certpin: no result\n";
    }
    if (r->explanation != NULL) {
        return r->explanation;
    }
    explain(&s, r);
    if (r->warnings & CERTPIN_WARN_EXPIRED_ENFORCED) {
        put(&s, "  warning: the entry has expired; \"on_expiry\": \"enforce\" keeps it enforced\n");
    }
    if (r->warnings & CERTPIN_WARN_NO_BACKUP) {
        put(&s, "  warning: every pin of the entry is on this chain, so none is a backup: add the "
                "pin of a key that is not deployed\n");
    }
    if (r->warnings & CERTPIN_WARN_RESUMED) {
        put(&s, "  (decided when the resumed TLS session was first verified, under this policy)\n");
    }
    if (s.failed) {
        free(s.buf);
        return "certpin: (out of memory while explaining the result)\n";
    }
    r->explanation = s.buf;
    return r->explanation != NULL ? r->explanation : "";
}
