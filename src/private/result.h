/* Results: the core fills them; adapters set the outcomes that are not pin decisions. */
#ifndef CP_RESULT_H
#define CP_RESULT_H

#include "certpin/core.h"
#include "policy.h"

#define CP_MAX_CHAIN 16 /* longest verified chain the check accepts */
#define CP_SUBJECT_MAX 256

struct certpin_result {
    certpin_verdict verdict;
    certpin_policy *policy;     /* a reference, or NULL */
    const certpin_entry *entry; /* in policy */
    unsigned warnings;
    int depth;
    int port;
    char host[CERTPIN_HOST_MAX];
    char reason[512];
    size_t chain_len;
    /* cp_result_copy copies every field above as it is; those below are its own to copy */
    cp_pin chain[CP_MAX_CHAIN];
    char subjects[CP_MAX_CHAIN][CP_SUBJECT_MAX];
    char *explanation; /* made on demand */
};

/* Sets the verdict CERTPIN_REJECTED_UNVERIFIED: the TLS stack's own verification failed, before
 * any pin decision. host may be NULL. */
void cp_result_set_unverified(certpin_result *r, const char *host, int port, const char *reason);
/* Sets CERTPIN_REJECTED_ERROR (fail closed) with a reason. */
void cp_result_set_error(certpin_result *r, const char *host, int port, const char *reason);
/* Sets a verdict carried by a resumed session's tag (adds CERTPIN_WARN_RESUMED); takes a reference
 * to policy. */
void cp_result_set_resumed(certpin_result *r, certpin_policy *policy, const char *host, int port,
                           certpin_verdict v);

/* Makes dst a copy of src (its own reference to the policy; the explanation is made again on
 * demand). */
void cp_result_copy(certpin_result *dst, const certpin_result *src);

/* Calls ctx's report callback for r if it is one that is reported (everything but accepted-pinned
 * and accepted-not-pinned). Adapters call it for the outcomes they set themselves. */
void cp_ctx_report(certpin_ctx *ctx, const certpin_conn *conn, const certpin_result *r);
/* Non-zero when ctx has a report callback: what only a report uses (the served chain) need not be
 * gathered otherwise. */
int cp_ctx_reports(const certpin_ctx *ctx);

#endif /* CP_RESULT_H */
