/* Session resumption: whether a tagged session may be resumed, for every adapter. */
#include <stdio.h>
#include <string.h>

#include "private/error.h"
#include "private/resume.h"

/* A refusal on the tag's account: what the parentheses say differs, the rest is one sentence. */
#define NOT_VERIFIED "session was not verified by certpin under this policy for this host ("
#define NOT_RESUMED "): not resumed; drop it and connect again for a full handshake"

void cp_session_tag_set(cp_session_tag *tag, const certpin_result *r)
{
    memcpy(tag->policy_id, certpin_policy_id(certpin_result_policy(r)), sizeof(tag->policy_id));
    cp_strlcpy(tag->host, certpin_result_host(r), sizeof(tag->host));
    tag->verdict = certpin_result_verdict(r);
}

int cp_resume_allowed(const certpin_policy *policy, const cp_resume_host *host,
                      const cp_session_tag *tag, const char *untagged,
                      char canonical[CERTPIN_HOST_MAX], char *why, size_t why_len)
{
    char asked[CERTPIN_HOST_MAX];

    if (canonical != NULL) {
        canonical[0] = '\0';
    }
    /* The host is the application's, never the server's (RFC 6125 section 6), and the tag holds
     * the canonical form: compare like with like. */
    if (host->name == NULL) {
        (void)snprintf(why, why_len, "%s", host->none);
        return 0;
    }
    if (certpin_host_canonical(host->name, asked, NULL) != CERTPIN_OK) {
        (void)snprintf(why, why_len, "%s is not a valid host name: session not resumed",
                       host->what);
        return 0;
    }
    if (policy == NULL) {
        (void)snprintf(why, why_len, "no policy: certpin refuses to resume a session");
        return 0;
    }
    /* The session skips the certificate: only the verdict of its full handshake stands for it,
     * and only while the pins that verdict was reached under are the ones in force. */
    if (tag == NULL) {
        (void)snprintf(why, why_len, NOT_VERIFIED "%s" NOT_RESUMED,
                       untagged != NULL ? untagged : "it carries no certpin tag");
        return 0;
    }
    if (memcmp(tag->policy_id, certpin_policy_id(policy), sizeof(tag->policy_id)) != 0) {
        (void)snprintf(why, why_len,
                       NOT_VERIFIED "it was verified under another policy" NOT_RESUMED);
        return 0;
    }
    if (strcmp(tag->host, asked) != 0) {
        (void)snprintf(why, why_len, NOT_VERIFIED "it was verified for %s" NOT_RESUMED, tag->host);
        return 0;
    }
    if (!certpin_verdict_accepted(tag->verdict)) {
        (void)snprintf(why, why_len, NOT_VERIFIED "its verdict was %s" NOT_RESUMED,
                       certpin_verdict_str(tag->verdict));
        return 0;
    }
    if (why_len > 0) {
        why[0] = '\0';
    }
    if (canonical != NULL) {
        memcpy(canonical, asked, sizeof(asked));
    }
    return 1;
}
