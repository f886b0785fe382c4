/* Building a policy in code: the same checks as the JSON loader (cp_draft_add). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private/error.h"
#include "private/policy.h"

struct certpin_builder {
    cp_policy_draft draft;
    certpin_diags *warnings;
};

certpin_builder *certpin_builder_new(void)
{
    certpin_builder *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return NULL;
    }
    cp_draft_init(&b->draft);
    b->warnings = certpin_diags_new();
    if (b->warnings == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

void certpin_builder_free(certpin_builder *b)
{
    if (b == NULL) {
        return;
    }
    cp_draft_clear(&b->draft);
    certpin_diags_free(b->warnings);
    free(b);
}

certpin_status certpin_builder_set_unpinned(certpin_builder *b, certpin_unpinned unpinned)
{
    if (b == NULL || (unpinned != CERTPIN_UNPINNED_ALLOW && unpinned != CERTPIN_UNPINNED_DENY)) {
        return CERTPIN_E_ARG;
    }
    b->draft.unpinned = unpinned;
    return CERTPIN_OK;
}

certpin_status certpin_builder_add(certpin_builder *b, const certpin_domain *domain,
                                   certpin_error *err)
{
    char path[64];
    certpin_diags *found;
    certpin_status st;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    if (b == NULL || domain == NULL) {
        return cp_error(err, CERTPIN_E_ARG, "no builder or no domain given");
    }
    found = certpin_diags_new();
    if (found == NULL) {
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    (void)snprintf(path, sizeof(path), "domains[%zu]", b->draft.count);
    st = cp_draft_add(&b->draft, domain, path, 0, 0, 0, "<builder>", found, err);
    if (st == CERTPIN_OK && cp_diags_append(b->warnings, found) != CERTPIN_OK) {
        /* keep "a failed call changes nothing": drop the entry just added */
        cp_draft_drop_last(&b->draft);
        st = cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    }
    certpin_diags_free(found);
    return st;
}

certpin_policy *certpin_builder_build(certpin_builder *b, certpin_error *err)
{
    cp_policy_draft copy;
    certpin_diags *warnings;
    certpin_policy *p;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    if (b == NULL) {
        (void)cp_error(err, CERTPIN_E_ARG, "no builder given");
        return NULL;
    }
    warnings = certpin_diags_new();
    if (warnings == NULL || cp_draft_copy(&copy, &b->draft) != CERTPIN_OK) {
        goto nomem;
    }
    if (cp_diags_append(warnings, b->warnings) != CERTPIN_OK) {
        cp_draft_clear(&copy);
        goto nomem;
    }
    p = cp_draft_finish(&copy, "<builder>", warnings, NULL, err);
    if (p == NULL) {
        certpin_diags_free(warnings);
    }
    return p;
nomem:
    certpin_diags_free(warnings);
    (void)cp_error(err, CERTPIN_E_NOMEM, "out of memory");
    return NULL;
}
