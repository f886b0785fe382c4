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

/* An entry of a loaded policy. Its pattern and pins live in the policy's pools (one allocation for
 * every pattern, one for every pin: see cp_draft_finish). */
struct certpin_entry {
    const char *pattern; /* display form: "api.example.com", "*.example.com", "**.example.com" */
    const char *base;    /* canonical base name: pattern after its prefix */
    const cp_pin *pins;  /* pin_count pins, then deny_count deny pins; NULL when neither */
    const cp_pin *deny;  /* pins + pin_count */
    int64_t expires;     /* 0: never */
    size_t index;        /* domains[index] */
    size_t fixed_labels;
    size_t pin_count;
    size_t deny_count;
    certpin_match match;
    certpin_mode mode;
    certpin_on_expiry on_expiry;
    int line; /* line of the entry in the source, 0 when unknown */
};

struct certpin_policy {
    atomic_size_t refs;
    unsigned char id[32];
    char id_hex[65];
    char *source;
    certpin_unpinned unpinned;
    size_t entry_count;
    certpin_entry *entries;
    cp_pin *pins;  /* every entry's pins, then its deny pins */
    char *strings; /* every entry's pattern, NUL-terminated */
    int any_deny;  /* some entry has deny pins: the check must collect every match */
    cp_map index;  /* (match, base) -> entry */
    certpin_diags *warnings;
};

/* A policy under construction, shared by the JSON loader and the builder. Patterns and pins go
 * to two pools that grow as entries are added; an entry's pointers are set when the policy is
 * made, in one allocation (cp_draft_finish). */
typedef struct cp_draft_entry {
    certpin_entry e;   /* pattern, base, pins and deny not set */
    size_t pattern_at; /* the pattern (NUL-terminated) in strings */
    size_t pins_at;    /* the first pin in pins */
} cp_draft_entry;

typedef struct cp_policy_draft {
    certpin_unpinned unpinned;
    size_t count;
    size_t cap;
    cp_draft_entry *entries;
    char *strings;
    size_t strings_len;
    size_t strings_cap;
    cp_pin *pins;
    size_t pins_len; /* in pins */
    size_t pins_cap;
} cp_policy_draft;

void cp_draft_init(cp_policy_draft *d);
void cp_draft_clear(cp_policy_draft *d);
/* Removes the entry added last (its pattern and pins too). */
void cp_draft_drop_last(cp_policy_draft *d);
/* Makes dst (initialised or cleared) a copy of src. On failure dst is empty. */
certpin_status cp_draft_copy(cp_policy_draft *dst, const cp_policy_draft *src);

/* Checks one domain and appends it to d. path names the entry in messages ("domains[3]"); diags
 * receives warnings (may be NULL); strict turns lint-only findings into errors. On error err is
 * filled (err->path set relative to path) and d is unchanged. */
certpin_status cp_draft_add(cp_policy_draft *d, const certpin_domain *dom, const char *path,
                            int line, int strict, int64_t now, const char *source,
                            certpin_diags *diags, certpin_error *err);

/* Turns a draft into a policy (the draft is emptied, also on failure): indexes entries, refuses
 * duplicate patterns, computes the identity. source is copied. warnings (may be NULL) is taken
 * over on success. */
certpin_policy *cp_draft_finish(cp_policy_draft *d, const char *source, certpin_diags *warnings,
                                certpin_diags *all, certpin_error *err);

/* Indexes p's entries, whose base names must all lie in pool (the policy's patterns): fills
 * p->index. For an entry whose pattern an earlier one has, calls dup (which returns CERTPIN_OK to
 * go on) or, with dup NULL, fails with CERTPIN_E_POLICY. cp_draft_finish's indexing, and for
 * white-box tests. */
typedef certpin_status (*cp_dup_fn)(const certpin_entry *dup, const certpin_entry *first,
                                    void *arg);
certpin_status cp_policy_index(certpin_policy *p, const char *pool, cp_dup_fn dup, void *arg);

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
