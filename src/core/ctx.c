/* Contexts: the current policy (swapped atomically), the clock, the report callback. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "private/result.h"

struct certpin_ctx {
    atomic_size_t refs;
    /* The policy pointer and its reference are taken together under the lock: a lone atomic load
     * followed by a reference count increment could race with a swap that frees the policy. */
    pthread_mutex_t lock;
    certpin_policy *policy;
    certpin_time_fn time_fn;
    void *time_arg;
    certpin_report_fn report_fn;
    void *report_arg;
};

certpin_ctx *certpin_ctx_new(certpin_policy *policy)
{
    certpin_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->policy = certpin_policy_ref(policy);
    return c;
}

certpin_ctx *certpin_ctx_ref(certpin_ctx *c)
{
    if (c != NULL) {
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    }
    return c;
}

void certpin_ctx_free(certpin_ctx *c)
{
    if (c == NULL || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    certpin_policy_free(c->policy);
    (void)pthread_mutex_destroy(&c->lock);
    free(c);
}

certpin_status certpin_ctx_set_policy(certpin_ctx *c, certpin_policy *policy)
{
    certpin_policy *old;
    if (c == NULL) {
        return CERTPIN_E_ARG;
    }
    (void)certpin_policy_ref(policy);
    (void)pthread_mutex_lock(&c->lock);
    old = c->policy;
    c->policy = policy;
    (void)pthread_mutex_unlock(&c->lock);
    certpin_policy_free(old); /* checks in flight hold their own references */
    return CERTPIN_OK;
}

certpin_policy *certpin_ctx_get_policy(certpin_ctx *c)
{
    certpin_policy *p;
    if (c == NULL) {
        return NULL;
    }
    (void)pthread_mutex_lock(&c->lock);
    p = certpin_policy_ref(c->policy);
    (void)pthread_mutex_unlock(&c->lock);
    return p;
}

void certpin_ctx_set_time_fn(certpin_ctx *c, certpin_time_fn fn, void *arg)
{
    if (c != NULL) {
        c->time_fn = fn;
        c->time_arg = arg;
    }
}

void certpin_ctx_set_report_fn(certpin_ctx *c, certpin_report_fn fn, void *arg)
{
    if (c != NULL) {
        c->report_fn = fn;
        c->report_arg = arg;
    }
}

int64_t certpin_ctx_now(const certpin_ctx *c)
{
    if (c != NULL && c->time_fn != NULL) {
        return c->time_fn(c->time_arg);
    }
    return (int64_t)time(NULL);
}

int cp_ctx_reports(const certpin_ctx *c) { return c != NULL && c->report_fn != NULL; }

void cp_ctx_report(certpin_ctx *c, const certpin_conn *conn, const certpin_result *r)
{
    certpin_report rep;
    certpin_verdict v = certpin_result_verdict(r);
    if (c == NULL || c->report_fn == NULL || v == CERTPIN_ACCEPTED_PINNED ||
        v == CERTPIN_ACCEPTED_NOT_PINNED) {
        return;
    }
    rep.result = r;
    rep.host = certpin_result_host(r);
    rep.port = conn != NULL ? conn->port : certpin_result_port(r);
    rep.served_chain = conn != NULL ? conn->served_chain : NULL;
    rep.served_len = conn != NULL ? conn->served_len : 0;
    rep.verified_chain = conn != NULL ? conn->verified_chain : NULL;
    rep.verified_len = conn != NULL ? conn->verified_len : 0;
    rep.entry = certpin_result_entry(r);
    c->report_fn(&rep, c->report_arg);
}

certpin_status certpin_ctx_check(certpin_ctx *c, const certpin_conn *conn, certpin_result *r)
{
    certpin_policy *p;
    certpin_status st;
    int owned;
    if (c == NULL || conn == NULL || r == NULL) {
        if (r != NULL) {
            cp_result_set_error(r, NULL, 0, "no certpin context or connection given");
        }
        return CERTPIN_E_ARG;
    }
    /* The policy is held for the check: by r's own reference when r already holds the current
     * policy (the check keeps it: a result reused connection after connection pays no reference
     * counting), else by one taken here under the lock. */
    (void)pthread_mutex_lock(&c->lock);
    p = c->policy;
    owned = p != r->policy;
    if (owned) {
        (void)certpin_policy_ref(p);
    }
    (void)pthread_mutex_unlock(&c->lock);
    st = certpin_check(p, conn->host, conn->port, conn->verified_chain, conn->verified_len,
                       certpin_ctx_now(c), r);
    if (owned) {
        certpin_policy_free(p); /* r holds its own reference */
    }
    cp_ctx_report(c, conn, r);
    return st;
}
