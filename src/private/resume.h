/* Session resumption: resuming a TLS session skips the server's certificate, so a session may be
 * resumed only under the verdict certpin reached on it in the full handshake, under the policy now
 * in force, for the host now asked for. The one decision every adapter takes; each adapter only
 * finds the tag on its stack's session object and fails the handshake its stack's way. */
#ifndef CP_RESUME_H
#define CP_RESUME_H

#include <stddef.h>

#include "certpin/core.h"

/* What an accepted full handshake leaves on its session: certpin's verdict, the id of the policy
 * it was reached under and the canonical host it was reached for. A value: adapters copy it. */
typedef struct cp_session_tag {
    unsigned char policy_id[32];
    char host[CERTPIN_HOST_MAX]; /* canonical */
    certpin_verdict verdict;
} cp_session_tag;

/* The host the application asked the stack to verify, and how the refusals name it; the strings
 * are borrowed for the call. */
typedef struct cp_resume_host {
    const char *name; /* as given (canonicalised here); NULL when the application gave none */
    const char *none; /* when name is NULL: the whole refusal, saying what to call */
    const char *what; /* the subject of "... is not a valid host name: session not resumed" */
} cp_resume_host;

/* Fills tag from r, the result of a check that accepted the connection; r must hold a policy
 * (certpin_result_policy(r) != NULL). */
void cp_session_tag_set(cp_session_tag *tag, const certpin_result *r);

/* Whether a session carrying tag may be resumed under policy (the context's current one, which may
 * be NULL) for the host asked: the host is a valid host name, there is a policy, the tag was made
 * under that policy for that host, and its verdict accepted the connection, checked in that order.
 * tag may be NULL (a session certpin never tagged): then untagged says, in the refusal's
 * parentheses, where such a session comes from (NULL: "it carries no certpin tag").
 * Returns 1 when allowed: canonical (if not NULL, CERTPIN_HOST_MAX bytes) holds the canonical host
 * and why (why_len > 0) is empty. Returns 0 when refused: why holds the reason, and canonical is
 * the empty string. Thread-safe. */
int cp_resume_allowed(const certpin_policy *policy, const cp_resume_host *host,
                      const cp_session_tag *tag, const char *untagged,
                      char canonical[CERTPIN_HOST_MAX], char *why, size_t why_len);

#endif /* CP_RESUME_H */
