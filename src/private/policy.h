/* The loaded policy: immutable once built. */
#ifndef CP_POLICY_H
#define CP_POLICY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "certpin/core.h"
#include "host.h"
#include "map.h"

typedef unsigned char cp_pin[CERTPIN_PIN_LEN];

struct certpin_entry {
    char *pattern;      /* display form: "api.example.com", "*.example.com", "**.example.com" */
    const char *base;   /* canonical base name: points into pattern, after the prefix */
    certpin_match match;
    size_t fixed_labels;
    size_t index;       /* domains[index] */
    int line;           /* line of the entry in the source, 0 when unknown */
    certpin_mode mode;
    certpin_on_expiry on_expiry;
    int64_t expires;    /* 0: never */
    size_t pin_count;
    size_t deny_count;
    cp_pin *pins;       /* pin_count pins, then deny_count deny pins, in one allocation */
    cp_pin *deny;       /* points into pins */
};

struct certpin_policy {
    atomic_size_t refs;
    unsigned char id[32];
    char id_hex[65];
    char *source;
    certpin_unpinned unpinned;
    size_t entry_count;
    certpin_entry *entries;
    int any_deny;       /* some entry has deny pins: the check must collect every match */
    cp_map exact;       /* base -> entry, for each match kind */
    cp_map one_label;
    cp_map subtree;
    certpin_diags *warnings;
};

/* A policy under construction, shared by the JSON loader and the builder. */
typedef struct cp_policy_draft {
    certpin_unpinned unpinned;
    size_t count;
    size_t cap;
    certpin_entry *entries;
} cp_policy_draft;

void cp_draft_init(cp_policy_draft *d);
void cp_draft_clear(cp_policy_draft *d);

/* Checks one domain and appends it to d. path names the entry in messages ("domains[3]"); diags
 * receives warnings (may be NULL); strict turns lint-only findings into errors. On error err is
 * filled (err->path set relative to path) and d is unchanged. */
certpin_status cp_draft_add(cp_policy_draft *d, const certpin_domain *dom, const char *path, int line,
                            int strict, int64_t now, const char *source, certpin_diags *diags,
                            certpin_error *err);

/* Turns a draft into a policy (the draft is emptied): indexes entries, refuses duplicate patterns,
 * computes the identity. source is copied. warnings (may be NULL) is taken over. */
certpin_policy *cp_draft_finish(cp_policy_draft *d, const char *source, certpin_diags *warnings,
                                certpin_diags *all, certpin_error *err);

/* The deciding entry for a canonical host (see certpin_policy_lookup). */
const certpin_entry *cp_policy_lookup(const certpin_policy *p, const char *host, cp_host_kind kind);

/* The first entry matching host, most specific first, that has a deny pin on chain; NULL if none.
 * *depth receives the depth of the denied certificate. */
const certpin_entry *cp_policy_find_denied(const certpin_policy *p, const char *host,
                                           cp_host_kind kind, const cp_pin *chain, size_t chain_len,
                                           int *depth);

/* Sets line and column of every diagnostic from index `from` on that has a JSON path and no line,
 * by finding that path in the JSON text buf (see locate.c). */
void cp_locate_diags(const char *buf, size_t len, certpin_diags *diags, size_t from);

/* Reads the JSON text buf[len] again with yajl and compares every value with root, jansson's
 * parse of the same text (see crosscheck.c for why). Returns 1 when both read the same thing, 0
 * otherwise (also when yajl cannot run: out of memory). */
struct json_t;
int cp_json_crosscheck(const char *buf, size_t len, struct json_t *root);

#endif /* CP_POLICY_H */
