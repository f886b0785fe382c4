/* certpin: the TLS-agnostic policy core. Include <certpin/certpin.h> rather than this file.
 *
 * This header includes no TLS library header: adapters (certpin/openssl.h, ...) hand the core
 * the DER SubjectPublicKeyInfo of each certificate on the chain that the TLS stack verified, and
 * the core decides. See certpin.h for the conventions (ownership, NULL, threads, time).
 */
#ifndef CERTPIN_CORE_H
#define CERTPIN_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------------------------ */

/* What a public function returns. CERTPIN_OK is 0; every other value is a failure. */
typedef enum certpin_status {
    CERTPIN_OK = 0,
    CERTPIN_E_ARG,     /* a parameter is invalid (NULL where not allowed, out of range) */
    CERTPIN_E_NOMEM,   /* an allocation failed; nothing was changed */
    CERTPIN_E_IO,      /* a file could not be read */
    CERTPIN_E_SYNTAX,  /* the policy is not valid JSON (line and column are set) */
    CERTPIN_E_POLICY,  /* the policy is valid JSON but not a valid policy (path and line set) */
    CERTPIN_E_VERSION, /* the policy's format version is newer than this library reads */
    CERTPIN_E_PIN,     /* a pin string is malformed */
    CERTPIN_E_HOST,    /* a host name or pattern is malformed */
    CERTPIN_E_TIME,    /* a time string is malformed */
    CERTPIN_E_CRYPTO,  /* the crypto library failed */
    CERTPIN_E_INTERNAL /* a bug in certpin: please report it */
} certpin_status;

/* A short English name for a status ("out of memory", ...). Never NULL. */
CERTPIN_API const char *certpin_status_str(certpin_status status);

/* An error: what went wrong and where in the *input* (not in certpin's source). Filled by
 * functions that take a certpin_error *; the pointer may be NULL when the caller does not care.
 * Strings are always NUL-terminated and truncated if too long. */
typedef struct certpin_error {
    certpin_status status;
    char source[256]; /* file name, or the name given for a buffer; "" when none */
    int line;         /* 1-based; 0 when unknown */
    int column;       /* 1-based; 0 when unknown */
    char path[128]; /* JSON path of the offending value, e.g. "domains[3].pins[1]"; "" when none */
    char text[512]; /* what is wrong and what to do, in words a person can act on */
} certpin_error;

/* ---------------------------------------------------------------------------------------------
 * Pins
 * ------------------------------------------------------------------------------------------ */

#define CERTPIN_PIN_LEN 32 /* SHA-256 */

/* Room for any pin string certpin_pin_format() writes, with its NUL: the longest is the hex
 * style's 64 digits + 1 ("sha256//" + 44 + 1 is 53). */
#define CERTPIN_PIN_STR_MAX 65

typedef enum certpin_pin_style {
    CERTPIN_PIN_OKHTTP = 0, /* sha256/<base64>   (RFC 7469, OkHttp; the default) */
    CERTPIN_PIN_CURL,       /* sha256//<base64>  (curl's --pinnedpubkey) */
    CERTPIN_PIN_HEX         /* 64 lower-case hex digits */
} certpin_pin_style;

/* Computes the pin of a DER SubjectPublicKeyInfo: SHA-256 over exactly those bytes.
 * spki is borrowed for the call. Thread-safe. Fails with CERTPIN_E_ARG or CERTPIN_E_CRYPTO. */
CERTPIN_API certpin_status certpin_pin_from_spki(const unsigned char *spki, size_t spki_len,
                                                 unsigned char pin[CERTPIN_PIN_LEN]);

/* Parses "sha256/<base64>" or curl's "sha256//<base64>" into 32 bytes. On failure err->text
 * quotes the pin and says what is wrong (not base64; decodes to N bytes, not 32; unknown
 * algorithm). */
CERTPIN_API certpin_status certpin_pin_parse(const char *text, unsigned char pin[CERTPIN_PIN_LEN],
                                             certpin_error *err);

/* Writes a pin as text into out (at least CERTPIN_PIN_STR_MAX bytes). */
CERTPIN_API certpin_status certpin_pin_format(const unsigned char pin[CERTPIN_PIN_LEN],
                                              certpin_pin_style style, char *out, size_t out_len);

/* ---------------------------------------------------------------------------------------------
 * Host names
 * ------------------------------------------------------------------------------------------ */

#define CERTPIN_HOST_MAX 256 /* buffer size for a canonical host name, with its NUL */

/* Canonicalises a host name as certpin compares it: Unicode to A-labels (IDNA2008,
 * non-transitional, with libidn2), ASCII lower case, one trailing dot dropped; an IPv6 literal
 * without brackets in its shortest form, an IPv4-mapped IPv6 address as IPv4. Rejects empty
 * labels, characters other than letters, digits and hyphens, ports, schemes, paths, spaces, NUL,
 * zone ids, and numeric hosts spelt other than as a dotted quad (127.1, 0x7f.0.0.1, 0177.0.0.1).
 * out must hold CERTPIN_HOST_MAX bytes. Thread-safe. */
CERTPIN_API certpin_status certpin_host_canonical(const char *host, char out[CERTPIN_HOST_MAX],
                                                  certpin_error *err);

/* ---------------------------------------------------------------------------------------------
 * Diagnostics: every error and warning found while loading a policy
 * ------------------------------------------------------------------------------------------ */

typedef enum certpin_severity {
    CERTPIN_SEV_ERROR = 0, /* the policy is refused */
    CERTPIN_SEV_WARNING,   /* the policy loads, but something deserves attention */
    CERTPIN_SEV_NOTE       /* worth knowing (e.g. an explicit `mode: off` carve-out) */
} certpin_severity;

typedef struct certpin_diag {
    certpin_severity severity;
    const char *source; /* file name or buffer name; never NULL */
    int line;           /* 1-based, 0 when unknown */
    int column;         /* 1-based, 0 when unknown */
    const char *path;   /* JSON path, "" for syntax errors and whole-policy findings */
    const char *code;   /* a stable identifier, e.g. "too-few-pins", "public-suffix" */
    const char *message;
} certpin_diag;

/* A list of diagnostics. Owned by whoever created it; NULL-safe free. */
typedef struct certpin_diags certpin_diags;

CERTPIN_API certpin_diags *certpin_diags_new(void);
CERTPIN_API void certpin_diags_free(certpin_diags *diags);
CERTPIN_API size_t certpin_diags_count(const certpin_diags *diags);
/* The i-th diagnostic, in the order found; borrowed, valid until diags is freed. */
CERTPIN_API const certpin_diag *certpin_diags_get(const certpin_diags *diags, size_t i);
CERTPIN_API size_t certpin_diags_errors(const certpin_diags *diags);

/* ---------------------------------------------------------------------------------------------
 * Policies
 * ------------------------------------------------------------------------------------------ */

/* The highest policy format version ("certpin": N) this library reads. */
#define CERTPIN_FORMAT_VERSION 1

/* An immutable, reference-counted policy. Safe to share between threads once loaded. */
typedef struct certpin_policy certpin_policy;

/* One entry ("domains[i]") of a policy. Borrowed from its policy. */
typedef struct certpin_entry certpin_entry;

typedef enum certpin_unpinned {
    CERTPIN_UNPINNED_ALLOW = 0,
    CERTPIN_UNPINNED_DENY
} certpin_unpinned;
typedef enum certpin_mode {
    CERTPIN_MODE_ENFORCE = 0,
    CERTPIN_MODE_REPORT_ONLY,
    CERTPIN_MODE_OFF
} certpin_mode;
typedef enum certpin_on_expiry {
    CERTPIN_ON_EXPIRY_UNPIN = 0,
    CERTPIN_ON_EXPIRY_ENFORCE
} certpin_on_expiry;
typedef enum certpin_match {
    CERTPIN_MATCH_EXACT = 0, /* api.example.com */
    CERTPIN_MATCH_ONE_LABEL, /* *.example.com: exactly one more label */
    CERTPIN_MATCH_SUBTREE    /* **.example.com or include_subdomains: the name and all below */
} certpin_match;

/* Options for loading. Zero-initialise, then set what you need. */
typedef struct certpin_load_options {
    /* Lint mode: findings that only warn when an application loads a shipped policy (a wildcard
     * over a public suffix, an enforced entry with fewer than two pins) become errors. */
    int strict;
    /* Seconds since the epoch used for "expires soon" warnings; 0 means the current time. */
    int64_t now;
    /* Where every error and warning goes, in addition to the policy's own warning list and err.
     * Borrowed for the call; may be NULL. */
    certpin_diags *diags;
} certpin_load_options;

/* Loads a policy from a JSON file. opts may be NULL. Returns a new policy (one reference, yours)
 * or NULL with err filled (the first error; every error goes to opts->diags). A policy that
 * cannot be read is never an empty policy: the caller gets NULL and keeps what it had. */
CERTPIN_API CERTPIN_WARN_UNUSED certpin_policy *
certpin_policy_load_file(const char *path, const certpin_load_options *opts, certpin_error *err);

/* As certpin_policy_load_file, from a buffer (borrowed for the call, need not be NUL-terminated).
 * source_name names the buffer in messages; may be NULL ("<buffer>"). */
CERTPIN_API CERTPIN_WARN_UNUSED certpin_policy *
certpin_policy_load_buffer(const char *buf, size_t len, const char *source_name,
                           const certpin_load_options *opts, certpin_error *err);

/* Takes one more reference. Returns policy. NULL-safe. Thread-safe. */
CERTPIN_API certpin_policy *certpin_policy_ref(certpin_policy *policy);
/* Drops one reference; frees the policy with the last. NULL-safe. Thread-safe. */
CERTPIN_API void certpin_policy_free(certpin_policy *policy);

/* The policy's identity: SHA-256 over a canonical form of its content (so the same rules give the
 * same identity whether they came from a file, a buffer or the builder). */
CERTPIN_API const unsigned char *certpin_policy_id(const certpin_policy *policy);
/* The identity as 64 hex digits (borrowed from the policy). */
CERTPIN_API const char *certpin_policy_id_hex(const certpin_policy *policy);
/* The name the policy was loaded from ("policy.json", "<buffer>", "<builder>"). */
CERTPIN_API const char *certpin_policy_source(const certpin_policy *policy);
CERTPIN_API certpin_unpinned certpin_policy_unpinned(const certpin_policy *policy);
CERTPIN_API size_t certpin_policy_entry_count(const certpin_policy *policy);
/* Entry i in policy order (domains[i]); NULL when out of range. */
CERTPIN_API const certpin_entry *certpin_policy_entry(const certpin_policy *policy, size_t i);
/* Warnings and notes found when the policy loaded (errors never reach a loaded policy). */
CERTPIN_API const certpin_diags *certpin_policy_warnings(const certpin_policy *policy);

/* The entry that decides host (exact entry first, then the matching pattern with the most fixed
 * labels; on a tie `*.` beats `**.`), or NULL when none matches. host is canonicalised first;
 * an invalid host gives NULL and err. */
CERTPIN_API const certpin_entry *certpin_policy_lookup(const certpin_policy *policy,
                                                       const char *host, certpin_error *err);

/* Entry accessors. Everything returned is borrowed from the entry's policy. */
CERTPIN_API const char *certpin_entry_pattern(const certpin_entry *entry); /* "**.example.com" */
CERTPIN_API size_t certpin_entry_index(const certpin_entry *entry);        /* i of domains[i] */
CERTPIN_API certpin_match certpin_entry_match(const certpin_entry *entry);
CERTPIN_API certpin_mode certpin_entry_mode(const certpin_entry *entry);
CERTPIN_API certpin_on_expiry certpin_entry_on_expiry(const certpin_entry *entry);
/* Seconds since the epoch at which the entry expires; 0 when it never does. */
CERTPIN_API int64_t certpin_entry_expires(const certpin_entry *entry);
CERTPIN_API size_t certpin_entry_pin_count(const certpin_entry *entry);
CERTPIN_API const unsigned char *certpin_entry_pin(const certpin_entry *entry, size_t i);
CERTPIN_API size_t certpin_entry_deny_count(const certpin_entry *entry);
CERTPIN_API const unsigned char *certpin_entry_deny(const certpin_entry *entry, size_t i);
/* Non-zero when the entry's pattern covers host (which must already be canonical). */
CERTPIN_API int certpin_entry_matches(const certpin_entry *entry, const char *canonical_host);
/* Number of fixed labels of the pattern ("*.example.com": 2), which ranks matching patterns. */
CERTPIN_API size_t certpin_entry_fixed_labels(const certpin_entry *entry);

/* ---------------------------------------------------------------------------------------------
 * Building a policy in code
 * ------------------------------------------------------------------------------------------ */

typedef struct certpin_builder certpin_builder;

/* One domain entry for the builder. Every pointer is borrowed for the call (copied). */
typedef struct certpin_domain {
    const char *host;        /* "api.example.com", "*.example.com", "**.example.com" */
    int include_subdomains;  /* on an exact name: the same as "**." */
    const char *const *pins; /* "sha256/..." strings */
    size_t pin_count;
    const char *const *deny; /* may be NULL when deny_count is 0 */
    size_t deny_count;
    const char *expires; /* "YYYY-MM-DD" or RFC 3339; NULL: never */
    certpin_on_expiry on_expiry;
    certpin_mode mode;
} certpin_domain;

CERTPIN_API certpin_builder *certpin_builder_new(void);
CERTPIN_API void certpin_builder_free(certpin_builder *builder);
CERTPIN_API certpin_status certpin_builder_set_unpinned(certpin_builder *builder,
                                                        certpin_unpinned unpinned);
/* Adds an entry after checking it as the loader would. On failure nothing is added. */
CERTPIN_API certpin_status certpin_builder_add(certpin_builder *builder,
                                               const certpin_domain *domain, certpin_error *err);
/* Makes the policy (a new reference, yours). The builder stays usable and unchanged. */
CERTPIN_API CERTPIN_WARN_UNUSED certpin_policy *certpin_builder_build(certpin_builder *builder,
                                                                      certpin_error *err);

/* ---------------------------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------------------------ */

/* Parses "YYYY-MM-DD" (meaning 00:00:00 UTC the day after: the end of that day) or an RFC 3339
 * date-time ("2027-06-30T12:00:00Z", "...+02:00", fractions ignored) into seconds since the epoch.
 */
CERTPIN_API certpin_status certpin_time_parse(const char *text, int64_t *out, certpin_error *err);

/* Where a check gets "now": the application may supply its own clock (a trusted network time, a
 * monotonic floor). Returns seconds since the epoch. */
typedef int64_t (*certpin_time_fn)(void *arg);

/* ---------------------------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------------------------ */

/* The outcome of a check, decided in this order (see the README's decision table). */
typedef enum certpin_verdict {
    CERTPIN_NOT_CHECKED = 0,        /* no check ran (yet): treat as a failure */
    CERTPIN_REJECTED_DENIED,        /* a deny pin of a matching entry is on the chain */
    CERTPIN_REJECTED_UNPINNED_HOST, /* no entry matches and the policy says unpinned: deny */
    CERTPIN_ACCEPTED_NOT_PINNED,    /* no entry matches (unpinned: allow) or mode off */
    CERTPIN_ACCEPTED_EXPIRED,       /* the entry expired with on_expiry: unpin */
    CERTPIN_ACCEPTED_PINNED,        /* a pin matches */
    CERTPIN_ACCEPTED_REPORT_ONLY,   /* no pin matches, mode report-only */
    CERTPIN_REJECTED_NO_MATCH,      /* no pin matches */
    CERTPIN_REJECTED_ERROR,         /* the check could not run (bad host, no host, ...): refused */
    CERTPIN_REJECTED_UNVERIFIED /* the TLS stack's own verification failed: not a pin decision */
} certpin_verdict;

/* Non-zero for the verdicts under which the connection goes on. */
CERTPIN_API int certpin_verdict_accepted(certpin_verdict verdict);
/* "accepted-pinned", "rejected-no-match", ... (the names in the README and the JSON output). */
CERTPIN_API const char *certpin_verdict_str(certpin_verdict verdict);

/* Warning bits of a result. */
#define CERTPIN_WARN_NO_BACKUP 0x1u /* every pin of the entry is on the chain: none is a backup */
#define CERTPIN_WARN_EXPIRED_ENFORCED                                                              \
    0x2u                          /* the entry expired, on_expiry: enforce kept it enforced */
#define CERTPIN_WARN_RESUMED 0x4u /* the verdict was carried by a resumed session's tag */

/* A reusable result object. Create one per connection (or per thread) and reuse it: a check fills
 * it without allocating. Not thread-safe: one result, one user at a time. */
typedef struct certpin_result certpin_result;

CERTPIN_API certpin_result *certpin_result_new(void);
CERTPIN_API void certpin_result_free(certpin_result *result);
/* Forgets the last outcome (verdict NOT_CHECKED) and drops the policy reference it held. */
CERTPIN_API void certpin_result_reset(certpin_result *result);

CERTPIN_API certpin_verdict certpin_result_verdict(const certpin_result *result);
/* The canonical host that was looked up ("" when none). */
CERTPIN_API const char *certpin_result_host(const certpin_result *result);
/* The port given to the check (0 when none). */
CERTPIN_API int certpin_result_port(const certpin_result *result);
/* The deciding entry, NULL when none matched; borrowed from certpin_result_policy(result). */
CERTPIN_API const certpin_entry *certpin_result_entry(const certpin_result *result);
/* The policy that decided, kept alive by the result until it is reset, reused or freed. */
CERTPIN_API const certpin_policy *certpin_result_policy(const certpin_result *result);
CERTPIN_API unsigned certpin_result_warnings(const certpin_result *result);
/* Depth (0 = leaf) of the certificate whose key matched a pin, or of the denied one; -1 if none. */
CERTPIN_API int certpin_result_depth(const certpin_result *result);
/* For REJECTED_ERROR and REJECTED_UNVERIFIED: what went wrong, in words. "" otherwise. */
CERTPIN_API const char *certpin_result_reason(const certpin_result *result);
/* Number of certificates on the verified chain the check saw, and the pin of the i-th. */
CERTPIN_API size_t certpin_result_chain_len(const certpin_result *result);
CERTPIN_API const unsigned char *certpin_result_chain_pin(const certpin_result *result, size_t i);
/* The subject the adapter gave for the i-th certificate ("" when none). */
CERTPIN_API const char *certpin_result_chain_subject(const certpin_result *result, size_t i);

/* A multi-line explanation a person can act on (what the chain was, what the entry expected).
 * Borrowed from the result, valid until the result is reused, reset or freed. Never NULL. */
CERTPIN_API const char *certpin_result_explain(certpin_result *result);

/* ---------------------------------------------------------------------------------------------
 * The check
 * ------------------------------------------------------------------------------------------ */

/* One certificate of a chain as the core sees it. Everything is borrowed for the call. */
typedef struct certpin_cert {
    const unsigned char *spki; /* DER SubjectPublicKeyInfo; required */
    size_t spki_len;
    const char *subject; /* for messages only; may be NULL */
} certpin_cert;

/* The core check. host: the name the application asked for (canonicalised here). chain: the chain
 * the TLS stack *verified*, leaf first, up to and including the trust anchor. now: seconds since
 * the epoch. port: for reports, 0 when unknown. result receives the outcome and a reference to
 * policy. Returns CERTPIN_OK when a verdict was reached (accepted or rejected: read the verdict);
 * any other status means the check could not run and the verdict is CERTPIN_REJECTED_ERROR.
 * Thread-safe for concurrent calls on one policy with distinct results. */
CERTPIN_API certpin_status certpin_check(const certpin_policy *policy, const char *host, int port,
                                         const certpin_cert *chain, size_t chain_len, int64_t now,
                                         certpin_result *result);

/* ---------------------------------------------------------------------------------------------
 * Contexts: what adapters attach to a TLS connection
 * ------------------------------------------------------------------------------------------ */

/* What a report carries (RFC 7469 section 3): the host and port, the chain the server served and
 * the chain that was verified, the deciding entry (its pins and expiry) and the result. Borrowed
 * for the duration of the callback. */
typedef struct certpin_report {
    const certpin_result *result;
    const char *host; /* canonical */
    int port;
    const certpin_cert *served_chain; /* as the server sent it; may be NULL with served_len 0 */
    size_t served_len;
    const certpin_cert *verified_chain;
    size_t verified_len;
    const certpin_entry *entry; /* NULL when none matched */
} certpin_report;

/* Called for every result other than accepted-pinned and accepted-not-pinned. It runs inside the
 * TLS handshake on the connection's thread: keep it short, do not block. */
typedef void (*certpin_report_fn)(const certpin_report *report, void *arg);

/* A context: the current policy, the clock and the report callback, shared by every connection an
 * adapter attaches it to. Reference-counted; thread-safe. */
typedef struct certpin_ctx certpin_ctx;

/* Makes a context using policy (takes its own reference; policy may be NULL until set). */
CERTPIN_API certpin_ctx *certpin_ctx_new(certpin_policy *policy);
CERTPIN_API certpin_ctx *certpin_ctx_ref(certpin_ctx *ctx);
CERTPIN_API void certpin_ctx_free(certpin_ctx *ctx);
/* Swaps the policy atomically: a check in flight keeps the policy it started with; every check
 * that starts afterwards uses the new one. Takes its own reference to policy. A NULL policy makes
 * every check fail closed (CERTPIN_REJECTED_ERROR): it never turns pinning off. */
CERTPIN_API certpin_status certpin_ctx_set_policy(certpin_ctx *ctx, certpin_policy *policy);
/* The current policy, with a new reference (yours), or NULL. */
CERTPIN_API certpin_policy *certpin_ctx_get_policy(certpin_ctx *ctx);
/* Sets the clock (NULL: the system clock). arg is kept; the caller keeps it alive. Set it before
 * the context is shared between threads. */
CERTPIN_API void certpin_ctx_set_time_fn(certpin_ctx *ctx, certpin_time_fn fn, void *arg);
/* Sets the report callback (NULL: none). arg is kept. Set it before sharing the context. */
CERTPIN_API void certpin_ctx_set_report_fn(certpin_ctx *ctx, certpin_report_fn fn, void *arg);
/* The context's idea of now. */
CERTPIN_API int64_t certpin_ctx_now(const certpin_ctx *ctx);

/* What an adapter knows about one connection. Everything is borrowed for the call. */
typedef struct certpin_conn {
    const char *host;
    int port;
    const certpin_cert *verified_chain;
    size_t verified_len;
    const certpin_cert *served_chain;
    size_t served_len;
} certpin_conn;

/* Runs certpin_check with the context's current policy and clock, then the report callback.
 * Same return convention as certpin_check. */
CERTPIN_API certpin_status certpin_ctx_check(certpin_ctx *ctx, const certpin_conn *conn,
                                             certpin_result *result);

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------ */

#define CERTPIN_VERSION_MAJOR 0
#define CERTPIN_VERSION_MINOR 1
#define CERTPIN_VERSION_PATCH 0
#define CERTPIN_VERSION_STRING "0.1.0"

/* The version of the library that is running (may differ from CERTPIN_VERSION_STRING, the one
 * compiled against). */
CERTPIN_API const char *certpin_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CERTPIN_CORE_H */
