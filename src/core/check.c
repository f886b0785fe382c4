/* The check: one decision for every TLS stack (the table in the README, in its order). */
#include <string.h>

#include "private/crypto.h"
#include "private/error.h"
#include "private/result.h"

static void begin(certpin_result *r, const certpin_policy *policy, int port)
{
    /* A result reused with the policy it already holds keeps its reference: the same state as
     * dropping it and taking another, without two atomic operations on the policy's count. */
    certpin_policy *held = r->policy;
    if (held != NULL && held == policy) {
        r->policy = NULL;
    } else {
        held = certpin_policy_ref((certpin_policy *)policy);
    }
    certpin_result_reset(r);
    r->policy = held;
    r->port = port;
}

static certpin_status fail(certpin_result *r, certpin_status st, const char *reason)
{
    r->verdict = CERTPIN_REJECTED_ERROR;
    cp_strlcpy(r->reason, reason, sizeof(r->reason));
    return st;
}

static int chain_has(const certpin_result *r, const unsigned char *pin)
{
    size_t i;
    for (i = 0; i < r->chain_len; i++) {
        if (memcmp(r->chain[i], pin, CERTPIN_PIN_LEN) == 0) {
            return (int)i + 1;
        }
    }
    return 0;
}

certpin_status certpin_check(const certpin_policy *policy, const char *host, int port,
                             const certpin_cert *chain, size_t chain_len, int64_t now,
                             certpin_result *r)
{
    certpin_error err;
    cp_sha256_run run;
    cp_host_kind kind;
    const certpin_entry *e;
    const certpin_entry *denied;
    size_t i;
    size_t on_chain = 0;
    int depth = -1;

    if (r == NULL) {
        return CERTPIN_E_ARG;
    }
    begin(r, policy, port);
    if (policy == NULL) {
        return fail(r, CERTPIN_E_ARG, "no policy: certpin refuses rather than run unpinned");
    }
    if (host == NULL || host[0] == '\0') {
        return fail(r, CERTPIN_E_ARG,
                    "no host name to look up: the application must say which "
                    "host it connects to");
    }
    if (cp_host_canonical(host, r->host, &kind, &err) != CERTPIN_OK) {
        r->host[0] = '\0';
        return fail(r, err.status, err.text);
    }
    if (chain == NULL || chain_len == 0) {
        return fail(r, CERTPIN_E_ARG, "no verified chain was given to check");
    }
    if (chain_len > CP_MAX_CHAIN) {
        return fail(r, CERTPIN_E_ARG,
                    "the verified chain is longer than the 16 certificates "
                    "certpin checks");
    }
    /* One run for the whole chain: the crypto library's per-call set-up is paid once. */
    (void)cp_sha256_run_begin(&run);
    for (i = 0; i < chain_len; i++) {
        certpin_status st;
        if (chain[i].spki == NULL || chain[i].spki_len == 0) {
            return fail(r, CERTPIN_E_ARG, "a certificate of the chain has no public key");
        }
        st = cp_sha256_run_next(&run, chain[i].spki, chain[i].spki_len, r->chain[i]);
        if (st != CERTPIN_OK) {
            return fail(r, st, "SHA-256 failed in the crypto library");
        }
        if (chain[i].subject != NULL) {
            cp_strlcpy(r->subjects[i], chain[i].subject, CP_SUBJECT_MAX);
        } else {
            r->subjects[i][0] = '\0';
        }
    }
    r->chain_len = chain_len;

    /* Deny pins name keys known to be compromised: those of every matching entry apply, in every
     * mode, also after expiry. */
    denied =
        cp_policy_find_denied(policy, r->host, kind, (const cp_pin *)r->chain, chain_len, &depth);
    if (denied != NULL) {
        r->entry = denied;
        r->depth = depth;
        r->verdict = CERTPIN_REJECTED_DENIED;
        return CERTPIN_OK;
    }
    e = cp_policy_lookup(policy, r->host, kind);
    r->entry = e;
    if (e == NULL) {
        r->verdict = policy->unpinned == CERTPIN_UNPINNED_DENY ? CERTPIN_REJECTED_UNPINNED_HOST
                                                               : CERTPIN_ACCEPTED_NOT_PINNED;
        return CERTPIN_OK;
    }
    if (e->mode == CERTPIN_MODE_OFF) {
        r->verdict = CERTPIN_ACCEPTED_NOT_PINNED;
        return CERTPIN_OK;
    }
    if (e->expires != 0 && now >= e->expires) {
        if (e->on_expiry == CERTPIN_ON_EXPIRY_UNPIN) {
            r->verdict = CERTPIN_ACCEPTED_EXPIRED;
            return CERTPIN_OK;
        }
        r->warnings |= CERTPIN_WARN_EXPIRED_ENFORCED;
    }
    for (i = 0; i < e->pin_count; i++) {
        int at = chain_has(r, e->pins[i]);
        if (at != 0) {
            on_chain++;
            if (depth < 0 || at - 1 < depth) {
                depth = at - 1;
            }
        }
    }
    if (on_chain > 0) {
        if (on_chain == e->pin_count) {
            r->warnings |= CERTPIN_WARN_NO_BACKUP;
        }
        r->depth = depth;
        r->verdict = CERTPIN_ACCEPTED_PINNED;
        return CERTPIN_OK;
    }
    r->verdict = e->mode == CERTPIN_MODE_REPORT_ONLY ? CERTPIN_ACCEPTED_REPORT_ONLY
                                                     : CERTPIN_REJECTED_NO_MATCH;
    return CERTPIN_OK;
}
