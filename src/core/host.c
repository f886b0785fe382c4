/* Host names and host patterns: canonical forms and matching.
 *
 * A pin lookup is only as good as the agreement between the name certpin looks up and the name
 * the connection went to. So every spelling that resolvers read differently from a plain string
 * compare (numeric hosts in inet_aton's octal, hex or short forms, zone ids, trailing garbage) is
 * refused rather than guessed at, and every spelling that means the same name (case, one trailing
 * dot, Unicode and its A-label, IPv4-mapped IPv6) has one canonical form.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <idn2.h>
#include <libpsl.h>

#include "private/error.h"
#include "private/host.h"

/* RFC 1035 section 2.3.4: 255 octets on the wire are 253 characters in text without the root
 * dot; 63 octets a label. */
#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63

/* IDNA2008 through UTS #46 non-transitional processing, as curl does: "ß" stays "ß" (faß.de is
 * xn--fa-hia.de, not fass.de), and there is no fallback to transitional processing, which would
 * send the same Unicode name to a different host. */
#define IDN_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

/* cp_quote writes at most 64 input bytes as \xNN, two quotes, "..." and a NUL. */
#define QUOTED_MAX (64 * 4 + 8)

/* What is being canonicalised, for messages: the word ("host" or "pattern") and the whole input
 * as the user wrote it (for a pattern, with its wildcard prefix). */
typedef struct subject {
    const char *what;
    const char *whole;
} subject;

static certpin_status refuse(const subject *s, certpin_error *err, const char *fmt, ...)
    CP_PRINTF(3, 4);

static certpin_status refuse(const subject *s, certpin_error *err, const char *fmt, ...)
{
    char quoted[QUOTED_MAX];
    char why[384];
    va_list ap;

    if (err == NULL) {
        return CERTPIN_E_HOST;
    }
    cp_quote(s->whole, quoted, sizeof(quoted));
    va_start(ap, fmt);
    (void)vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return cp_error(err, CERTPIN_E_HOST, "%s %s %s", s->what, quoted, why);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_ldh(char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-'; }

/* ASCII only: tolower() follows the locale, and a Turkish locale would turn 'I' into a
 * dotless i that is not in any DNS name. */
static char lower(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (char)(c | 0x20);
    }
    return c;
}

static int contains(const char *s, size_t len, char c) { return memchr(s, c, len) != NULL; }

/* WHATWG URL "ends in a number": a last label of decimal digits, or "0x" with hex digits (or
 * none). Resolvers (inet_aton) read such a name as an IPv4 address, so it can never be a name. */
static int numeric_label(const char *label, size_t len)
{
    size_t i = 0;

    if (len == 0) {
        return 0;
    }
    if (len >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
        for (i = 2; i < len && is_hex(label[i]); i++) {
        }
        return i == len;
    }
    for (i = 0; i < len && is_digit(label[i]); i++) {
    }
    return i == len;
}

static const char *last_label(const char *s, size_t len, size_t *label_len)
{
    size_t i = len;

    while (i > 0 && s[i - 1] != '.') {
        i--;
    }
    *label_len = len - i;
    return s + i;
}

/* Things that are not part of a host name at all (a URL pasted whole, a port, a path, blanks).
 * Run on the bytes as written, before libidn2 sees them: libidn2 passes some through (spaces,
 * ':') and fails on others with "A-label roundtrip failed", which helps nobody. UTF-8 never has
 * an ASCII byte inside a multi-byte character, so the scan is valid on Unicode input too. */
static certpin_status check_shape(const subject *s, const char *in, size_t len, int *non_ascii,
                                  certpin_error *err)
{
    size_t i;
    size_t colons = 0;

    *non_ascii = 0;
    if (len == 0) {
        return refuse(s, err, "is empty");
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\0') {
            return refuse(s, err, "has a NUL byte at offset %zu", i);
        }
        if (c == ' ') {
            return refuse(s, err, "has a space: give the name alone");
        }
        if (c < 0x20 || c == 0x7f) {
            return refuse(s, err, "has a control character (\\x%02x)", (unsigned)c);
        }
        if (c >= 0x80) {
            *non_ascii = 1;
        }
        colons += c == ':';
    }
    for (i = 0; i + 2 < len; i++) {
        if (in[i] == ':' && in[i + 1] == '/' && in[i + 2] == '/') {
            return refuse(s, err, "has a scheme: give the name alone, without \"%.*s\"",
                          (int)(i + 3), in);
        }
    }
    for (i = 0; i < len; i++) {
        if (in[i] == '/' || in[i] == '?' || in[i] == '#') {
            return refuse(s, err, "has a path ('%c'): give the name alone", in[i]);
        }
    }
    if (in[0] == '[') {
        const char *close = memchr(in, ']', len);
        size_t after;
        if (close == NULL) {
            return refuse(s, err, "has a '[' without its ']'");
        }
        after = (size_t)(close - in) + 1;
        if (after < len && in[after] == ':') {
            return refuse(s, err, "has a port: give the name alone");
        }
        if (after < len) {
            return refuse(s, err, "has text after the ']' of its IPv6 address");
        }
        return CERTPIN_OK;
    }
    /* An IPv6 address has at least two colons; one colon is a name or IPv4 address and a port
     * (RFC 3986 section 3.2.2 wants brackets around an IPv6 address that has a port). */
    if (colons == 1) {
        return refuse(s, err, "has a port: give the name alone");
    }
    return CERTPIN_OK;
}

/* Unicode to A-labels. UTS #46 mapping (inside libidn2) also folds case and maps the full-width
 * and ideographic full stops (U+FF0E, U+3002, U+FF61) to '.', so "example\uff0ecom" is
 * "example.com" here exactly as in curl and browsers. */
static certpin_status to_alabels(const subject *s, const char *in, char buf[CERTPIN_HOST_MAX],
                                 size_t *len, certpin_error *err)
{
    char *ascii = NULL;
    int rc = idn2_to_ascii_8z(in, &ascii, IDN_FLAGS);
    size_t n = (rc == IDN2_OK && ascii != NULL) ? strlen(ascii) : 0;

    *len = 0;
    /* One trailing dot more than a name may have: it is dropped later. */
    if (rc == IDN2_OK && ascii != NULL && n <= NAME_MAX_LEN + 1) {
        memcpy(buf, ascii, n + 1);
        *len = n;
    }
    idn2_free(ascii);
    switch (rc) {
    case IDN2_OK:
        if (n > NAME_MAX_LEN + 1) {
            return refuse(s, err, "is longer than %d characters as A-labels", NAME_MAX_LEN);
        }
        return CERTPIN_OK;
    case IDN2_MALLOC: return cp_error(err, CERTPIN_E_NOMEM, "out of memory converting a host name");
    case IDN2_TOO_BIG_DOMAIN:
        /* libidn2 says "longer than 255" but refuses anything over 253 (RFC 1035 2.3.4). */
        return refuse(s, err, "is longer than %d characters as A-labels", NAME_MAX_LEN);
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT:
        return refuse(s, err, "has a label longer than %d characters as an A-label", LABEL_MAX_LEN);
    default:
        return refuse(s, err, "is not a valid internationalised name (IDNA2008): %s",
                      idn2_strerror(rc));
    }
}

static certpin_status put_n(const char *canon, size_t n, cp_host_kind k, char out[CERTPIN_HOST_MAX],
                            cp_host_kind *kind, certpin_error *err)
{
    if (n >= CERTPIN_HOST_MAX) {
        return cp_error(err, CERTPIN_E_INTERNAL, "canonical host of %zu characters", n);
    }
    memcpy(out, canon, n + 1);
    if (kind != NULL) {
        *kind = k;
    }
    return CERTPIN_OK;
}

static certpin_status put(const char *canon, cp_host_kind k, char out[CERTPIN_HOST_MAX],
                          cp_host_kind *kind, certpin_error *err)
{
    return put_n(canon, strlen(canon), k, out, kind, err);
}

/* IPv6 literals compare in inet_ntop's form (RFC 5952: lower case, "::" for the longest run of
 * zeros). An IPv4-mapped address (RFC 4291 section 2.5.5.2) is the IPv4 host it maps to, so it
 * takes the IPv4 form: the pins of 127.0.0.1 apply to ::ffff:127.0.0.1. */
static certpin_status canon_ipv6(const subject *s, const char *in, size_t len,
                                 char out[CERTPIN_HOST_MAX], cp_host_kind *kind, certpin_error *err)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    const char *zone = memchr(in, '%', len);

    /* RFC 6874 zone ids name an interface of one machine: the same text is another host on the
     * next machine, and no certificate names one. */
    if (zone != NULL) {
        return refuse(s, err, "has a zone id (\"%.*s\"): give the address alone",
                      (int)(len - (size_t)(zone - in)), zone);
    }
    if (len >= sizeof(text)) {
        return refuse(s, err, "is not a valid IPv6 address");
    }
    memcpy(text, in, len);
    text[len] = '\0';
    if (inet_pton(AF_INET6, text, addr) != 1) {
        return refuse(s, err, "is not a valid IPv6 address");
    }
    if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
        if (inet_ntop(AF_INET, addr + 12, text, sizeof(text)) == NULL) {
            return cp_error(err, CERTPIN_E_INTERNAL, "inet_ntop failed on an IPv4 address");
        }
        return put(text, CP_HOST_IPV4, out, kind, err);
    }
    if (inet_ntop(AF_INET6, addr, text, sizeof(text)) == NULL) {
        return cp_error(err, CERTPIN_E_INTERNAL, "inet_ntop failed on an IPv6 address");
    }
    return put(text, CP_HOST_IPV6, out, kind, err);
}

/* A numeric host must be a strict dotted quad, which is all glibc's inet_pton(AF_INET) takes (no
 * leading zeros, four parts, decimal). Everything else that inet_aton takes ("127.1",
 * "0x7f.0.0.1", "0177.0.0.1", "2130706433") is refused: a pin written for one spelling would not
 * match the other, and "010" is 8 to a resolver but 10 to a reader. A trailing dot is refused
 * too: glibc's getaddrinfo sends "127.0.0.1." to DNS as a name while browsers read it as
 * 127.0.0.1, so nobody can say which host it is. */
static certpin_status canon_ipv4(const subject *s, const char *in, size_t len, int trailing_dot,
                                 char out[CERTPIN_HOST_MAX], cp_host_kind *kind, certpin_error *err)
{
    char text[CERTPIN_HOST_MAX];
    struct in_addr addr;

    memcpy(text, in, len);
    text[len] = '\0';
    if (!trailing_dot && inet_pton(AF_INET, text, &addr) == 1) {
        if (inet_ntop(AF_INET, &addr, text, sizeof(text)) == NULL) {
            return cp_error(err, CERTPIN_E_INTERNAL, "inet_ntop failed on an IPv4 address");
        }
        return put(text, CP_HOST_IPV4, out, kind, err);
    }
    if (trailing_dot && inet_pton(AF_INET, text, &addr) == 1) {
        return refuse(s, err,
                      "is a numeric address in a non-standard spelling (a trailing dot): write it "
                      "as a dotted quad without the dot (\"%s\")",
                      text);
    }
    /* inet_aton is asked only to tell the user what resolvers would make of it. */
    if (inet_aton(text, &addr) != 0) {
        char meant[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &addr, meant, sizeof(meant)) == NULL) {
            meant[0] = '\0';
        }
        return refuse(s, err,
                      "is a numeric address in a non-standard spelling (resolvers read it as %s): "
                      "write it as a dotted quad, four decimal numbers 0-255 without leading zeros",
                      meant);
    }
    return refuse(s, err,
                  "ends in a number, so it is a numeric address in a non-standard spelling, not a "
                  "name: write it as a dotted quad, four decimal numbers 0-255 without leading "
                  "zeros");
}

/* An A-label must decode: "xn--zz" is not the name of anything a Unicode spelling could reach
 * (RFC 5891 section 5.4), and libidn2 already refuses it inside a Unicode name, so the ASCII
 * spelling is held to the same rule. Costs an allocation only for A-labels. */
static certpin_status check_alabel(const subject *s, const char *label, size_t len,
                                   certpin_error *err)
{
    char text[LABEL_MAX_LEN + 1];
    char *ascii = NULL;
    int rc;

    memcpy(text, label, len);
    text[len] = '\0';
    rc = idn2_to_ascii_8z(text, &ascii, IDN_FLAGS);
    idn2_free(ascii);
    if (rc == IDN2_MALLOC) {
        return cp_error(err, CERTPIN_E_NOMEM, "out of memory checking an A-label");
    }
    if (rc != IDN2_OK) {
        return refuse(s, err, "has an invalid A-label (\"%s\"): %s", text, idn2_strerror(rc));
    }
    return CERTPIN_OK;
}

/* RFC 1123 section 2.1 host names (letters, digits, hyphens; labels 1-63, not starting or ending
 * with a hyphen), which is also all RFC 6125 section 6.4 lets a certificate's DNS-ID match.
 * Underscores are refused: they appear in SRV and DKIM owner names, never in a host a TLS client
 * connects to, and no public CA issues for them. */
static certpin_status check_name(const subject *s, const char *name, size_t len, int check_alabels,
                                 certpin_error *err)
{
    size_t i;
    size_t start = 0;

    for (i = 0; i < len; i++) {
        if (name[i] != '.' && !is_ldh(name[i])) {
            return refuse(s, err, "has a character that is not a letter, digit or hyphen ('%c')",
                          name[i]);
        }
    }
    for (i = 0; i <= len; i++) {
        size_t n;
        if (i < len && name[i] != '.') {
            continue;
        }
        n = i - start;
        if (n == 0) {
            return refuse(s, err, "has an empty label");
        }
        if (n > LABEL_MAX_LEN) {
            return refuse(s, err, "has a label of %zu characters (at most %d)", n, LABEL_MAX_LEN);
        }
        if (name[start] == '-' || name[i - 1] == '-') {
            return refuse(s, err, "has a label that starts or ends with a hyphen (\"%.*s\")",
                          (int)n, name + start);
        }
        if (check_alabels && n >= 4 && memcmp(name + start, "xn--", 4) == 0) {
            certpin_status st = check_alabel(s, name + start, n, err);
            if (st != CERTPIN_OK) {
                return st;
            }
        }
        start = i + 1;
    }
    if (len > NAME_MAX_LEN) {
        return refuse(s, err, "is %zu characters long (at most %d)", len, NAME_MAX_LEN);
    }
    return CERTPIN_OK;
}

/* The common case in one pass: a name of ASCII letters, digits and hyphens whose labels are
 * well-formed, none an A-label ("xn--"), the last not starting with a digit (so never a numeric
 * host), at most one trailing dot. Writes its canonical form (lower case, the trailing dot
 * dropped) to buf and returns 1. Returns 0 for anything else, which then takes the whole pipeline
 * below: that gives it its canonical form or its error, and for every name accepted here it gives
 * the same form (check_shape finds nothing in these bytes, no conversion applies, check_name
 * passes), so this is a shortcut, never a second opinion. */
static int plain_name(const char *in, size_t len, char buf[CERTPIN_HOST_MAX], size_t *out_len)
{
    /* For each byte: its lower-case form if it may stand in such a name as it is or in upper
     * case (letters, digits, '-', '.'), else 0. */
    static const unsigned char plain[256] = {
        ['-'] = '-', ['.'] = '.', ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
        ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b',
        ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i',
        ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
        ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w',
        ['x'] = 'x', ['y'] = 'y', ['z'] = 'z', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
        ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
        ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
        ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
        ['Z'] = 'z',
    };
    size_t i;
    size_t start = 0;

    if (len > 0 && in[len - 1] == '.') {
        len--;
    }
    if (len == 0 || len > NAME_MAX_LEN) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = plain[(unsigned char)in[i]];
        size_t n = i - start;
        if (c == 0) {
            return 0;
        }
        buf[i] = (char)c;
        if (c != '.') {
            continue;
        }
        if (n == 0 || n > LABEL_MAX_LEN || buf[start] == '-' || buf[i - 1] == '-' ||
            (n >= 4 && memcmp(buf + start, "xn--", 4) == 0)) {
            return 0;
        }
        start = i + 1;
    }
    /* the last label */
    if (len == start || len - start > LABEL_MAX_LEN || buf[start] == '-' || buf[len - 1] == '-' ||
        is_digit(buf[start]) || (len - start >= 4 && memcmp(buf + start, "xn--", 4) == 0)) {
        return 0;
    }
    buf[len] = '\0';
    *out_len = len;
    return 1;
}

/* The whole pipeline over the len bytes of in, which must be followed by a NUL (libidn2 reads C
 * strings). Taking a length lets a NUL inside the name be refused rather than cut it short, for a
 * caller that has one (a JSON string); through the C-string entry points len is strlen(in).
 * s->whole is what messages quote. Writes out only on success, so out may alias in. */
static certpin_status canonicalise_as(const subject *s, const char *in, size_t len,
                                      char out[CERTPIN_HOST_MAX], cp_host_kind *kind,
                                      certpin_error *err, int shortcut)
{
    char buf[CERTPIN_HOST_MAX];
    size_t n = 0;
    size_t i;
    size_t last_len;
    const char *last;
    int non_ascii;
    int converted;
    int trailing_dot = 0;
    certpin_status st;

    if (shortcut && plain_name(in, len, buf, &n)) {
        return put_n(buf, n, CP_HOST_NAME, out, kind, err);
    }
    st = check_shape(s, in, len, &non_ascii, err);
    if (st != CERTPIN_OK) {
        return st;
    }
    converted = non_ascii;
    if (converted) {
        /* check_shape refused NUL, so in is a C string of exactly len bytes here. */
        st = to_alabels(s, in, buf, &n, err);
        if (st != CERTPIN_OK) {
            return st;
        }
        /* UTS #46 maps some characters to ASCII punctuation (full-width ':' or '/'): look again. */
        st = check_shape(s, buf, n, &non_ascii, err);
        if (st != CERTPIN_OK) {
            return st;
        }
    } else {
        if (len > NAME_MAX_LEN + 1) {
            return refuse(s, err, "is %zu characters long (at most %d)", len, NAME_MAX_LEN);
        }
        memcpy(buf, in, len);
        buf[len] = '\0';
        n = len;
    }
    if (n == 0) {
        return refuse(s, err, "is empty"); /* check_shape refuses it already */
    }
    for (i = 0; i < n; i++) {
        buf[i] = lower(buf[i]);
    }

    if (buf[0] == '[') {
        /* check_shape made sure the ']' is the last character. */
        if (n < 2 || !contains(buf + 1, n - 2, ':')) {
            return refuse(s, err, "has brackets, which are for IPv6 addresses only");
        }
        return canon_ipv6(s, buf + 1, n - 2, out, kind, err);
    }
    if (contains(buf, n, ':')) {
        return canon_ipv6(s, buf, n, out, kind, err);
    }

    /* RFC 1034 section 3.1: a trailing dot makes the name absolute; the name is the same. */
    if (buf[n - 1] == '.') {
        n--;
        buf[n] = '\0';
        trailing_dot = 1;
    }
    last = last_label(buf, n, &last_len);
    if (numeric_label(last, last_len)) {
        return canon_ipv4(s, buf, n, trailing_dot, out, kind, err);
    }
    /* libidn2 has checked the A-labels it produced, and the ASCII ones it was given. */
    st = check_name(s, buf, n, !converted, err);
    if (st != CERTPIN_OK) {
        return st;
    }
    return put(buf, CP_HOST_NAME, out, kind, err);
}

static certpin_status canonicalise(const subject *s, const char *in, size_t len,
                                   char out[CERTPIN_HOST_MAX], cp_host_kind *kind,
                                   certpin_error *err)
{
    return canonicalise_as(s, in, len, out, kind, err, 1);
}

certpin_status cp_host_canonical_without_shortcut(const char *in, char out[CERTPIN_HOST_MAX],
                                                  cp_host_kind *kind, certpin_error *err)
{
    subject s;
    certpin_status st;

    s.what = "host";
    s.whole = in;
    st = canonicalise_as(&s, in, strlen(in), out, kind, err, 0);
    if (st != CERTPIN_OK) {
        out[0] = '\0';
    }
    return st;
}

certpin_status cp_host_canonical(const char *in, char out[CERTPIN_HOST_MAX], cp_host_kind *kind,
                                 certpin_error *err)
{
    subject s;
    certpin_status st;

    if (kind != NULL) {
        *kind = CP_HOST_NAME;
    }
    if (in == NULL || out == NULL) {
        if (out != NULL) {
            out[0] = '\0';
        }
        return cp_error(err, CERTPIN_E_ARG, "no host name given");
    }
    s.what = "host";
    s.whole = in;
    /* out is cleared only after a failure: it may be the input buffer. */
    st = canonicalise(&s, in, strlen(in), out, kind, err);
    if (st != CERTPIN_OK) {
        out[0] = '\0';
    }
    return st;
}

certpin_status certpin_host_canonical(const char *host, char out[CERTPIN_HOST_MAX],
                                      certpin_error *err)
{
    cp_host_kind kind;

    return cp_host_canonical(host, out, &kind, err);
}

/* OkHttp's CertificatePinner syntax: the wildcard is a whole leading label and nothing else;
 * RFC 6125 section 7.2 explains why partial-label wildcards ("f*.com") are a bad idea. */
static certpin_status parse_pattern(const subject *s, const char *in, int include_subdomains,
                                    char base[CERTPIN_HOST_MAX], certpin_match *match,
                                    cp_host_kind *kind, certpin_error *err)
{
    const char *rest = in;
    certpin_match m = CERTPIN_MATCH_EXACT;
    certpin_status st;

    if (strncmp(in, "**.", 3) == 0) {
        m = CERTPIN_MATCH_SUBTREE;
        rest = in + 3;
    } else if (strncmp(in, "*.", 2) == 0) {
        m = CERTPIN_MATCH_ONE_LABEL;
        rest = in + 2;
    }
    if (strcmp(in, "*") == 0 || strcmp(in, "**") == 0) {
        return refuse(s, err,
                      "is a wildcard alone, which would cover every host: name the domain it "
                      "covers (\"*.example.com\" or \"**.example.com\")");
    }
    if (strchr(rest, '*') != NULL) {
        return refuse(s, err,
                      "has a wildcard that is not a leading \"*.\" or \"**.\": \"*.name\" covers "
                      "one more label, \"**.name\" the name and every name below it, and nothing "
                      "else is allowed");
    }
    if (m != CERTPIN_MATCH_EXACT && rest[0] == '\0') {
        return refuse(s, err, "is a wildcard without a name after it");
    }
    if (m != CERTPIN_MATCH_EXACT && include_subdomains) {
        return refuse(s, err,
                      "has both a wildcard and include_subdomains: use one or the other "
                      "(\"**.name\" is the same as \"name\" with include_subdomains)");
    }
    st = canonicalise(s, rest, strlen(rest), base, kind, err);
    if (st != CERTPIN_OK) {
        return st;
    }
    /* An address names one host; there is nothing below it to cover. */
    if (*kind != CP_HOST_NAME && (m != CERTPIN_MATCH_EXACT || include_subdomains)) {
        return refuse(s, err,
                      "is an IP address with a wildcard or include_subdomains: an address matches "
                      "only itself");
    }
    *match = include_subdomains ? CERTPIN_MATCH_SUBTREE : m;
    return CERTPIN_OK;
}

certpin_status cp_pattern_parse(const char *in, int include_subdomains, char base[CERTPIN_HOST_MAX],
                                certpin_match *match, cp_host_kind *kind, certpin_error *err)
{
    subject s;
    char canon[CERTPIN_HOST_MAX];
    certpin_match m = CERTPIN_MATCH_EXACT;
    cp_host_kind k = CP_HOST_NAME;
    certpin_status st;

    if (kind != NULL) {
        *kind = CP_HOST_NAME;
    }
    if (in == NULL || base == NULL || match == NULL) {
        if (base != NULL) {
            base[0] = '\0';
        }
        return cp_error(err, CERTPIN_E_ARG, "no host pattern given");
    }
    s.what = "pattern";
    s.whole = in;
    /* Into a buffer of its own: base may be the input, which the messages quote. */
    st = parse_pattern(&s, in, include_subdomains, canon, &m, &k, err);
    if (st != CERTPIN_OK) {
        base[0] = '\0';
        return st;
    }
    memcpy(base, canon, strlen(canon) + 1);
    *match = m;
    if (kind != NULL) {
        *kind = k;
    }
    return CERTPIN_OK;
}

/* A canonical name never ends in a numeric label (that is refused unless it is an IPv4 address)
 * and never has a ':' (only an IPv6 address has one). */
static int canonical_is_ip(const char *canonical, size_t len)
{
    size_t last_len;
    const char *last = last_label(canonical, len, &last_len);

    return contains(canonical, len, ':') || numeric_label(last, last_len);
}

size_t cp_host_labels(const char *canonical)
{
    size_t len;
    size_t n = 1;
    size_t i;

    if (canonical == NULL || canonical[0] == '\0') {
        return 0;
    }
    len = strlen(canonical);
    if (canonical_is_ip(canonical, len)) {
        return 1;
    }
    for (i = 0; i < len; i++) {
        n += canonical[i] == '.';
    }
    return n;
}

/* Loaded once for the life of the process and never freed: policies are loaded from any thread
 * at any time, and a context freed under a concurrent lookup would be a use after free. */
static const psl_ctx_t *psl_ctx;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void)
{
    /* psl_latest(NULL) takes the newer of libpsl's built-in list and the distribution's file
     * (Debian's publicsuffix package, /usr/share/publicsuffix), so a policy linted today is
     * judged by the list the system updates, not the one libpsl was built with. */
    psl_ctx_t *latest = psl_latest(NULL);

    psl_ctx = latest != NULL ? latest : psl_builtin();
}

/* A wildcard over a public suffix covers names of unrelated owners, which no pin can speak for.
 * Both sections of the list count: the private one ("github.io", "blogspot.com") is exactly the
 * case of one suffix shared by strangers. The implicit "*" rule is left out (PSL_TYPE_NO_STAR_RULE)
 * so that libpsl answers from listed rules only; the single-label case it would cover ("lan",
 * "internal", any unlisted TLD) is decided here first, since a wildcard over a TLD is always too
 * wide, listed or not. */
int cp_host_is_public_suffix(const char *canonical_base)
{
    size_t len;

    /* No name: say yes, so that a caller that warns on a wide wildcard warns. */
    if (canonical_base == NULL || canonical_base[0] == '\0') {
        return 1;
    }
    len = strlen(canonical_base);
    if (canonical_is_ip(canonical_base, len)) {
        return 0;
    }
    if (!contains(canonical_base, len, '.')) {
        return 1;
    }
    if (pthread_once(&psl_once, psl_load) != 0 || psl_ctx == NULL) {
        /* Without a list nothing can be ruled out: err on the side of the warning. */
        return 1;
    }
    return psl_is_public_suffix2(psl_ctx, canonical_base, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) !=
           0;
}

/* Matching is on label boundaries only: a suffix compare without the '.' would let
 * "evilfoo.com" match "**.foo.com". Wildcards never match an address (RFC 6125 section 6.4.3
 * wildcards are for DNS names; "*.0.0.1" is not a set of hosts). */
int cp_pattern_matches(const char *base, certpin_match match, const char *host)
{
    size_t blen;
    size_t hlen;
    size_t prefix;

    if (base == NULL || host == NULL || base[0] == '\0') {
        return 0;
    }
    switch (match) {
    case CERTPIN_MATCH_EXACT: return strcmp(base, host) == 0;
    case CERTPIN_MATCH_ONE_LABEL:
    case CERTPIN_MATCH_SUBTREE: break;
    default: return 0;
    }
    blen = strlen(base);
    hlen = strlen(host);
    if (canonical_is_ip(host, hlen) || canonical_is_ip(base, blen)) {
        return 0;
    }
    if (match == CERTPIN_MATCH_SUBTREE && strcmp(base, host) == 0) {
        return 1;
    }
    /* host is "<prefix>.<base>" with a non-empty prefix. */
    if (hlen < blen + 2) {
        return 0;
    }
    prefix = hlen - blen - 1;
    if (host[prefix] != '.' || memcmp(host + prefix + 1, base, blen) != 0) {
        return 0;
    }
    if (match == CERTPIN_MATCH_ONE_LABEL) {
        return !contains(host, prefix, '.');
    }
    return 1;
}
