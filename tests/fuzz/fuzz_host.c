/* Fuzz target: host names and host patterns. The input is "PATTERN\nHOST". Exercises
 * cp_host_canonical (libidn2, IP literal rules, label checks), cp_pattern_parse and
 * cp_pattern_matches. Properties:
 * - canonicalisation is idempotent: a canonical name canonicalises to itself, of the same kind;
 * - matching agrees with a plain reference written here from the rules in the README
 *   (exact: equal; "*.": exactly one more non-empty label; "**.": equal or any labels more),
 *   so a clever shortcut in host.c cannot drift from the documented rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "private/host.h"

static int ends_with_label(const char *host, const char *base, size_t *prefix_len)
{
    size_t h = strlen(host);
    size_t b = strlen(base);
    if (h <= b + 1 || host[h - b - 1] != '.' || strcmp(host + h - b, base) != 0) {
        return 0;
    }
    *prefix_len = h - b - 1;
    return 1;
}

static int reference_match(const char *base, certpin_match match, const char *host)
{
    size_t n;
    switch (match) {
    case CERTPIN_MATCH_EXACT: return strcmp(host, base) == 0;
    case CERTPIN_MATCH_ONE_LABEL:
        return ends_with_label(host, base, &n) && n > 0 && memchr(host, '.', n) == NULL;
    case CERTPIN_MATCH_SUBTREE: return strcmp(host, base) == 0 || ends_with_label(host, base, &n);
    default: return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *host;
    char canon[CERTPIN_HOST_MAX];
    char again[CERTPIN_HOST_MAX];
    char base[CERTPIN_HOST_MAX];
    cp_host_kind kind;
    cp_host_kind kind2;
    cp_host_kind pkind;
    certpin_match match;
    certpin_error err;
    int host_ok;
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    host = strchr(text, '\n');
    if (host != NULL) {
        *host++ = '\0';
    } else {
        host = text;
    }
    host_ok = cp_host_canonical(host, canon, &kind, &err) == CERTPIN_OK;
    if (host_ok) {
        if (cp_host_canonical(canon, again, &kind2, &err) != CERTPIN_OK ||
            strcmp(canon, again) != 0 || kind != kind2) {
            abort();
        }
    }
    if (cp_pattern_parse(text, 0, base, &match, &pkind, &err) == CERTPIN_OK && host_ok) {
        if ((cp_pattern_matches(base, match, canon) != 0) != reference_match(base, match, canon)) {
            abort();
        }
        if (pkind != CP_HOST_NAME && match != CERTPIN_MATCH_EXACT) {
            abort(); /* a wildcard over an IP literal */
        }
    }
    free(text);
    return 0;
}
