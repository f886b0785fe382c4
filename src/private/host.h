/* Host names and host patterns: canonical forms and matching (RFC 6125 section 6.4 for the name
 * rules, OkHttp's CertificatePinner for the pattern syntax). */
#ifndef CP_HOST_H
#define CP_HOST_H

#include <stddef.h>

#include "certpin/core.h"

typedef enum cp_host_kind { CP_HOST_NAME = 0, CP_HOST_IPV4, CP_HOST_IPV6 } cp_host_kind;

/* Canonicalises a host name given at check time (or in a pattern, after its prefix is removed):
 * - IPv6 (contains ':'): brackets dropped, zone ids refused, inet_pton/inet_ntop canonical form;
 *   an IPv4-mapped address (::ffff:a.b.c.d) becomes its IPv4 form (kind CP_HOST_IPV4);
 * - a name whose last label is numeric (decimal, 0x.. hex or leading-zero octal: WHATWG's rule)
 *   is an IPv4 literal and must be a strict dotted quad (inet_pton), else CERTPIN_E_HOST;
 * - otherwise: non-ASCII input to A-labels with libidn2 (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT,
 *   IDNA2008 as curl does), then ASCII lower case, one trailing dot dropped, then the checks: no
 *   empty label, labels of 1..63 letters/digits/hyphens not starting or ending with '-', total
 *   length <= 253; no port, scheme, path, space or NUL (each with its own message).
 * err->text says what is wrong and quotes the input (escaped). */
certpin_status cp_host_canonical(const char *in, char out[CERTPIN_HOST_MAX], cp_host_kind *kind,
                                 certpin_error *err);

/* As cp_host_canonical with every name taking the whole pipeline, not the one-pass shortcut for
 * plain ASCII names: for the tests that hold the two to the same answers. in must not be NULL. */
certpin_status cp_host_canonical_without_shortcut(const char *in, char out[CERTPIN_HOST_MAX],
                                                  cp_host_kind *kind, certpin_error *err);

/* Parses a policy host pattern: "name", "*.name" (exactly one more label), "**.name" (the name and
 * every name below it); include_subdomains on an exact name means "**.". Writes the canonical base
 * name (without prefix) to base, the match kind to *match. Wildcards are refused on IP literals, in
 * any other position ("a.*.com", "f*.com", "*.*.com") and alone ("*", "**"). */
certpin_status cp_pattern_parse(const char *in, int include_subdomains, char base[CERTPIN_HOST_MAX],
                                certpin_match *match, cp_host_kind *kind, certpin_error *err);

/* Number of labels of a canonical name ("a.b.c" -> 3; an IP literal counts as 1). */
size_t cp_host_labels(const char *canonical);

/* Non-zero when a wildcard over canonical base would span a public suffix: base is a single label
 * (any TLD), or libpsl (psl_latest(NULL): the system list from Debian's publicsuffix package when
 * it is newer than the built-in one) says it is a public suffix, ICANN or private section, without
 * the implicit "*" rule. */
int cp_host_is_public_suffix(const char *canonical_base);

/* Non-zero when pattern (base, match) covers the canonical host. */
int cp_pattern_matches(const char *base, certpin_match match, const char *host);

#endif /* CP_HOST_H */
