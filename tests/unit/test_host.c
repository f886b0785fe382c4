/* Host names and patterns (src/core/host.c): canonical forms, pattern syntax, matching and the
 * public-suffix test. Every case is a row of a table; each security rule has a row that fails
 * when the rule is taken out (marked "rule:" below).
 *
 * NUL: the contract (cp_host_canonical, certpin_host_canonical) takes C strings, so a name with
 * an embedded NUL cannot reach it: it ends at the NUL, and the part before is judged alone. The
 * check inside host.c (over the length it was given) is there for a future length-taking entry
 * point; a policy loader must refuse a JSON string whose json_string_length differs from its
 * strlen before it gets here.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certpin/core.h"
#include "private/error.h"
#include "private/host.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *status_name(certpin_status st) { return certpin_status_str(st); }

static const char *kind_name(cp_host_kind k)
{
    switch (k) {
    case CP_HOST_NAME: return "name";
    case CP_HOST_IPV4: return "ipv4";
    case CP_HOST_IPV6: return "ipv6";
    default: return "?";
    }
}

static const char *match_name(certpin_match m)
{
    switch (m) {
    case CERTPIN_MATCH_EXACT: return "exact";
    case CERTPIN_MATCH_ONE_LABEL: return "one-label";
    case CERTPIN_MATCH_SUBTREE: return "subtree";
    default: return "?";
    }
}

/* ---------------------------------------------------------------------------------------------
 * cp_host_canonical
 * ------------------------------------------------------------------------------------------ */

typedef struct canon_case {
    const char *in;
    certpin_status status;
    const char *want; /* the canonical form on success, a substring of err.text on failure */
    cp_host_kind kind;
} canon_case;

#define OK_NAME(in, out)                                                                           \
    {                                                                                              \
        in, CERTPIN_OK, out, CP_HOST_NAME                                                          \
    }
#define OK_V4(in, out)                                                                             \
    {                                                                                              \
        in, CERTPIN_OK, out, CP_HOST_IPV4                                                          \
    }
#define OK_V6(in, out)                                                                             \
    {                                                                                              \
        in, CERTPIN_OK, out, CP_HOST_IPV6                                                          \
    }
#define BAD(in, text)                                                                              \
    {                                                                                              \
        in, CERTPIN_E_HOST, text, CP_HOST_NAME                                                     \
    }

#define NUMERIC "is a numeric address in a non-standard spelling"
#define NOT_LDH "has a character that is not a letter, digit or hyphen"
#define HYPHEN "starts or ends with a hyphen"
#define BAD_IDN "is not a valid internationalised name (IDNA2008)"

static const canon_case canon_cases[] = {
    /* Case and the trailing dot. rule: lower case; rule: exactly one trailing dot dropped. */
    OK_NAME("api.example.com", "api.example.com"),
    OK_NAME("API.Example.COM.", "api.example.com"),
    OK_NAME("API.EXAMPLE.COM", "api.example.com"),
    OK_NAME("localhost", "localhost"),
    OK_NAME("a", "a"),
    OK_NAME("a.com.", "a.com"),
    BAD("a.com..", "host \"a.com..\" has an empty label"),
    BAD("a.com...", "has an empty label"),

    /* Things that are not a host name. */
    BAD("api.example.com:443", "host \"api.example.com:443\" has a port: give the name alone"),
    BAD("example.com:", "has a port"),
    BAD("127.0.0.1:443", "has a port"),
    BAD("[::1]:443", "has a port"),
    BAD("1:2", "has a port"),
    BAD("https://x", "host \"https://x\" has a scheme"),
    BAD("HTTPS://API.EXAMPLE.COM/", "has a scheme"),
    BAD("example.com/path", "has a path ('/')"),
    BAD("example.com?q=1", "has a path ('?')"),
    BAD("example.com#top", "has a path ('#')"),
    BAD("a b.com", "host \"a b.com\" has a space"),
    BAD(" a.com", "has a space"),
    BAD("a.com ", "has a space"),
    BAD("a\tb.com", "has a control character (\\x09)"),
    BAD("a.com\n", "has a control character (\\x0a)"),
    BAD("a\x7f.com", "has a control character (\\x7f)"),

    /* Characters. rule: letters, digits and hyphens only. */
    BAD("a_b.com", "host \"a_b.com\" " NOT_LDH " ('_')"),
    BAD("_dmarc.example.com", NOT_LDH " ('_')"),
    BAD("*.example.com", NOT_LDH " ('*')"),
    BAD("a*.com", NOT_LDH " ('*')"),
    BAD("a@b.com", NOT_LDH " ('@')"),
    BAD("a%20b.com", NOT_LDH " ('%')"),
    BAD("a\\b.com", NOT_LDH " ('\\')"),
    BAD("a\"b.com", NOT_LDH " ('\"')"),
    BAD("a]b.com", NOT_LDH " (']')"),

    /* Empty labels. rule: no empty label. */
    BAD("", "host \"\" is empty"),
    BAD(".", "host \".\" has an empty label"),
    BAD("..", "has an empty label"),
    BAD(".a.com", "has an empty label"),
    BAD("a..b", "host \"a..b\" has an empty label"),
    BAD("a.com..", "has an empty label"),

    /* Hyphens. rule: not at a label's edge (RFC 1123 2.1); inside, even doubled, in ASCII. */
    BAD("-a.com", HYPHEN " (\"-a\")"),
    BAD("a-.com", HYPHEN " (\"a-\")"),
    BAD("x.-b.com", HYPHEN),
    BAD("a.com-", HYPHEN),
    BAD("-", HYPHEN),
    OK_NAME("a-b.com", "a-b.com"),
    OK_NAME("a--b.com", "a--b.com"),
    OK_NAME("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
    OK_NAME("123.example", "123.example"),
    OK_NAME("1.2.3.0xg", "1.2.3.0xg"),

    /* A-labels as written. rule: an A-label must decode (RFC 5891 5.4). */
    OK_NAME("xn--bcher-kva.example", "xn--bcher-kva.example"),
    OK_NAME("XN--BCHER-KVA.EXAMPLE.", "xn--bcher-kva.example"),
    OK_NAME("xn--fa-hia.de", "xn--fa-hia.de"),
    BAD("xn--zz.com", "has an invalid A-label (\"xn--zz\")"),
    BAD("xn--.com", HYPHEN " (\"xn--\")"),
    BAD("xn--a.com", "has an invalid A-label"),
    BAD("www.xn--bcher-kva-.example", HYPHEN),
    BAD("xn--ls8h.la", "has an invalid A-label"), /* an emoji: not IDNA2008 */

    /* Unicode. rule: non-transitional (faß.de is not fass.de); UTS #46 full stops. */
    OK_NAME("bücher.example", "xn--bcher-kva.example"),
    OK_NAME("BÜCHER.Example.", "xn--bcher-kva.example"),
    OK_NAME("faß.de", "xn--fa-hia.de"),
    OK_NAME("FASS.de", "fass.de"),
    OK_NAME("example\uff0ecom", "example.com"), /* U+FF0E fullwidth full stop */
    OK_NAME("example\u3002com", "example.com"), /* U+3002 ideographic full stop */
    OK_NAME("example\uff61com", "example.com"), /* U+FF61 halfwidth ideographic stop */
    OK_NAME("b\u00fccher\uff0eexample\uff0e", "xn--bcher-kva.example"),
    BAD("b\u00fccher.example\uff0e\uff0e", "has an empty label"),
    BAD("\uff0eexample.com", "has an empty label"),
    OK_NAME("\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "example.com"), /* fullwidth */
    OK_NAME("ex\u00adample.com", "example.com"), /* soft hyphen: UTS #46 ignores it */
    OK_NAME("\u200bexample.com", "example.com"), /* zero-width space: ignored too */
    OK_NAME("www.b\u00fccher.example", "www.xn--bcher-kva.example"),
    BAD("bücher.example:443", "has a port"),
    BAD("bücher .example", "has a space"),
    BAD("bücher.example/x", "has a path"),
    BAD("ü_x.com", NOT_LDH " ('_')"),
    BAD("\uff0a.example.com", NOT_LDH " ('*')"), /* fullwidth asterisk is mapped to '*' */
    BAD("ü-.com", BAD_IDN),
    BAD("ab--c.bücher", BAD_IDN), /* libidn2 refuses "--" at 3-4 in a Unicode name */
    BAD("\xc3(.com", BAD_IDN),    /* not UTF-8 */
    BAD("\xf0\x9f\x92\xa9.la", BAD_IDN),
    BAD("ü\u200d.com", BAD_IDN), /* a ZWJ outside its CONTEXTJ rule */
    BAD("\u200b", "is empty"),   /* nothing left once mapped */

    /* IPv4. rule: a strict dotted quad; every other numeric spelling is refused. */
    OK_V4("127.0.0.1", "127.0.0.1"),
    OK_V4("192.0.2.255", "192.0.2.255"),
    OK_V4("0.0.0.0", "0.0.0.0"),
    OK_V4("255.255.255.255", "255.255.255.255"),
    OK_V4("\uff11\uff12\uff17.\uff10.\uff10.\uff11", "127.0.0.1"), /* fullwidth digits */
    BAD("127.1", "host \"127.1\" " NUMERIC " (resolvers read it as 127.0.0.1)"),
    BAD("0x7f.0.0.1", NUMERIC " (resolvers read it as 127.0.0.1)"),
    BAD("0X7F.0.0.1", NUMERIC),
    BAD("0177.0.0.1", NUMERIC " (resolvers read it as 127.0.0.1)"),
    BAD("2130706433", NUMERIC " (resolvers read it as 127.0.0.1)"),
    BAD("0x7f000001", NUMERIC),
    BAD("127.000.0.1", NUMERIC),
    BAD("127.0.0.010", NUMERIC " (resolvers read it as 127.0.0.8)"),
    BAD("1.2.3.04", NUMERIC),
    BAD("127.0.0.1.", NUMERIC " (a trailing dot)"),
    BAD("127.1.", NUMERIC),
    BAD("127.0.0.1..", "has an empty label"),
    BAD("256.0.0.1", NUMERIC),
    BAD("1.2.3.4.5", NUMERIC),
    BAD("example.123", "ends in a number"),
    BAD("a.0x", "ends in a number"),
    BAD("0x", "ends in a number"),
    BAD("a.0x1f", "ends in a number"),
    BAD("1..1", "ends in a number"),
    BAD("\uff11\uff12\uff17.\uff11", NUMERIC),

    /* IPv6. rule: inet_ntop form, brackets dropped, mapped IPv4 as IPv4, zone ids refused. */
    OK_V6("::1", "::1"),
    OK_V6("[::1]", "::1"),
    OK_V6("0:0:0:0:0:0:0:1", "::1"),
    OK_V6("[0:0:0:0:0:0:0:1]", "::1"),
    OK_V6("2001:DB8::1", "2001:db8::1"),
    OK_V6("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    OK_V6("::", "::"),
    OK_V4("::ffff:127.0.0.1", "127.0.0.1"),
    OK_V4("[::ffff:7f00:1]", "127.0.0.1"),
    OK_V4("::FFFF:7F00:1", "127.0.0.1"),
    OK_V4("0:0:0:0:0:ffff:7f00:1", "127.0.0.1"),
    OK_V6("::127.0.0.1", "::127.0.0.1"),              /* IPv4-compatible: not mapped */
    OK_V6("64:ff9b::192.0.2.1", "64:ff9b::c000:201"), /* NAT64: another host */
    BAD("fe80::1%eth0", "host \"fe80::1%eth0\" has a zone id (\"%eth0\")"),
    BAD("[fe80::1%25eth0]", "has a zone id (\"%25eth0\")"),
    BAD("[::1", "has a '[' without its ']'"),
    BAD("[::1]x", "has text after the ']'"),
    BAD("[::1].", "has text after the ']'"),
    BAD("[127.0.0.1]", "has brackets, which are for IPv6 addresses only"),
    BAD("[example.com]", "has brackets"),
    BAD("[]", "has brackets"),
    BAD("::1::2", "is not a valid IPv6 address"),
    BAD("::1.", "is not a valid IPv6 address"),
    BAD(":::", "is not a valid IPv6 address"),
    BAD("::ffff:0177.0.0.1", "is not a valid IPv6 address"),
    BAD("::ffff:127.1", "is not a valid IPv6 address"),
    BAD("1:2:3:4:5:6:7:8:9", "is not a valid IPv6 address"),
    BAD("0000000000000000000000000000000000000000000000000000::1", "not a valid IPv6 address"),
    BAD("a:b:example.com", "is not a valid IPv6 address"),
};

static int check_canon_row(const canon_case *c)
{
    char out[CERTPIN_HOST_MAX];
    char pub[CERTPIN_HOST_MAX];
    char quoted[300];
    cp_host_kind kind = CP_HOST_IPV6;
    certpin_error err;
    certpin_error pub_err;
    certpin_status st;

    memset(&err, 0, sizeof(err));
    memset(out, 'X', sizeof(out));
    st = cp_host_canonical(c->in, out, &kind, &err);
    cp_quote(c->in, quoted, sizeof(quoted));
    if (st != c->status) {
        print_error("%s: status %s, want %s (%s)\n", quoted, status_name(st),
                    status_name(c->status), st == CERTPIN_OK ? out : err.text);
        return 1;
    }
    if (st == CERTPIN_OK && (strcmp(out, c->want) != 0 || kind != c->kind)) {
        print_error("%s: got \"%s\" (%s), want \"%s\" (%s)\n", quoted, out, kind_name(kind),
                    c->want, kind_name(c->kind));
        return 1;
    }
    if (st != CERTPIN_OK) {
        if (strstr(err.text, c->want) == NULL || strstr(err.text, quoted) == NULL ||
            err.status != st || out[0] != '\0' || kind != CP_HOST_NAME) {
            print_error("%s: message \"%s\" lacks \"%s\" or the quoted input, or out/kind set\n",
                        quoted, err.text, c->want);
            return 1;
        }
    }
    /* Without an error object: same status, no crash. */
    if (cp_host_canonical(c->in, out, &kind, NULL) != c->status) {
        print_error("%s: different status without an error object\n", quoted);
        return 1;
    }
    /* The public wrapper says the same. */
    memset(&pub_err, 0, sizeof(pub_err));
    if (certpin_host_canonical(c->in, pub, &pub_err) != c->status ||
        (c->status == CERTPIN_OK && strcmp(pub, c->want) != 0) ||
        (c->status != CERTPIN_OK && strcmp(pub_err.text, err.text) != 0)) {
        print_error("%s: certpin_host_canonical disagrees\n", quoted);
        return 1;
    }
    /* A canonical form is a fixed point. */
    if (c->status == CERTPIN_OK) {
        cp_host_kind again_kind;
        char again[CERTPIN_HOST_MAX];
        if (cp_host_canonical(c->want, again, &again_kind, &err) != CERTPIN_OK ||
            strcmp(again, c->want) != 0 || again_kind != c->kind) {
            print_error("%s: canonical form \"%s\" is not stable\n", quoted, c->want);
            return 1;
        }
    }
    return 0;
}

static void test_canonical_table(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(canon_cases); i++) {
        failures += check_canon_row(&canon_cases[i]);
    }
    assert_int_equal(failures, 0);
}

/* Lengths (RFC 1035 2.3.4), built rather than spelt out: labels of label_len 'a's separated by
 * dots, total characters long, after an optional prefix, with an optional trailing dot. */
typedef struct length_case {
    const char *prefix;
    size_t label_len;
    size_t total; /* length of the generated part, prefix excluded */
    int trailing_dot;
    certpin_status status;
    size_t want_len;  /* of the canonical form on success */
    const char *text; /* substring of the message on failure */
} length_case;

static const length_case length_cases[] = {
    /* rule: labels of at most 63. */
    {"", 63, 63, 0, CERTPIN_OK, 63, NULL},
    {"", 64, 64, 0, CERTPIN_E_HOST, 0, "has a label of 64 characters (at most 63)"},
    {"", 63, 127, 0, CERTPIN_OK, 127, NULL},
    {"", 64, 129, 0, CERTPIN_E_HOST, 0, "has a label of 64 characters"},
    /* rule: names of at most 253, a trailing dot not counted. */
    {"", 63, 253, 0, CERTPIN_OK, 253, NULL},
    {"", 63, 253, 1, CERTPIN_OK, 253, NULL},
    {"", 63, 254, 0, CERTPIN_E_HOST, 0, "is 254 characters long (at most 253)"},
    {"", 63, 254, 1, CERTPIN_E_HOST, 0, "is 255 characters long (at most 253)"},
    {"", 10, 253, 0, CERTPIN_OK, 253, NULL},
    {"", 10, 1000, 0, CERTPIN_E_HOST, 0, "is 1000 characters long"},
    /* The limit applies to the A-label form: "ü." is "xn--tda." (8 characters). */
    {"\u00fc.", 63, 245, 0, CERTPIN_OK, 253, NULL},
    {"\u00fc.", 63, 246, 0, CERTPIN_E_HOST, 0, "is longer than 253 characters as A-labels"},
    {"\u00fc.", 63, 245, 1, CERTPIN_OK, 253, NULL},
    {"\u00fc.", 63, 600, 0, CERTPIN_E_HOST, 0, "is longer than 253 characters as A-labels"},
    /* A Unicode label whose A-label would pass 63. */
    {"\u00fc", 60, 60, 0, CERTPIN_E_HOST, 0, "has a label longer than 63 characters as an A-label"},
    {"\u00fc", 55, 55, 0, CERTPIN_OK, 63, NULL},
    {"\u00fc", 56, 56, 0, CERTPIN_E_HOST, 0, "has a label longer than 63 characters"},
};

static void build_name(char *buf, size_t cap, const length_case *c)
{
    size_t o = strlen(c->prefix);
    size_t i;

    assert_true(o + c->total + 2 <= cap);
    memcpy(buf, c->prefix, o);
    for (i = 0; i < c->total; i++) {
        /* Every (label_len + 1)-th character is a dot, never the last one. */
        buf[o++] = ((i + 1) % (c->label_len + 1) == 0 && i + 1 < c->total) ? '.' : 'a';
    }
    if (c->trailing_dot) {
        buf[o++] = '.';
    }
    buf[o] = '\0';
}

static void test_lengths(void **state)
{
    char in[1100];
    char out[CERTPIN_HOST_MAX];
    certpin_error err;
    cp_host_kind kind;
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(length_cases); i++) {
        const length_case *c = &length_cases[i];
        certpin_status st;
        build_name(in, sizeof(in), c);
        memset(&err, 0, sizeof(err));
        st = cp_host_canonical(in, out, &kind, &err);
        if (st != c->status || (st == CERTPIN_OK && strlen(out) != c->want_len) ||
            (st != CERTPIN_OK && strstr(err.text, c->text) == NULL)) {
            print_error("length row %zu (%zu chars): status %s, out %zu chars, message \"%s\"\n", i,
                        strlen(in), status_name(st), strlen(out), err.text);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_arguments(void **state)
{
    char out[CERTPIN_HOST_MAX];
    char buf[CERTPIN_HOST_MAX];
    certpin_error err;
    certpin_match match;
    cp_host_kind kind;

    (void)state;
    assert_int_equal(cp_host_canonical(NULL, out, &kind, &err), CERTPIN_E_ARG);
    assert_int_equal(err.status, CERTPIN_E_ARG);
    assert_string_equal(out, "");
    assert_int_equal(cp_host_canonical("a.com", NULL, &kind, &err), CERTPIN_E_ARG);
    assert_int_equal(certpin_host_canonical(NULL, out, NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_host_canonical("a.com", NULL, &err), CERTPIN_E_ARG);
    assert_int_equal(cp_host_canonical("A.com", out, NULL, NULL), CERTPIN_OK);
    assert_string_equal(out, "a.com");
    assert_int_equal(cp_pattern_parse(NULL, 0, out, &match, &kind, &err), CERTPIN_E_ARG);
    assert_int_equal(cp_pattern_parse("a.com", 0, NULL, &match, &kind, &err), CERTPIN_E_ARG);
    assert_int_equal(cp_pattern_parse("a.com", 0, out, NULL, &kind, &err), CERTPIN_E_ARG);
    assert_int_equal(cp_pattern_parse("*.A.com", 0, out, &match, NULL, NULL), CERTPIN_OK);
    assert_string_equal(out, "a.com");

    /* out may be the input buffer. */
    (void)snprintf(buf, sizeof(buf), "%s", "API.Example.COM.");
    assert_int_equal(cp_host_canonical(buf, buf, &kind, &err), CERTPIN_OK);
    assert_string_equal(buf, "api.example.com");
    (void)snprintf(buf, sizeof(buf), "%s", "B\u00dcCHER.example");
    assert_int_equal(cp_host_canonical(buf, buf, &kind, &err), CERTPIN_OK);
    assert_string_equal(buf, "xn--bcher-kva.example");
    (void)snprintf(buf, sizeof(buf), "%s", "[::FFFF:7F00:1]");
    assert_int_equal(cp_host_canonical(buf, buf, &kind, &err), CERTPIN_OK);
    assert_string_equal(buf, "127.0.0.1");

    /* Messages quote at most 64 bytes of the input and escape what is not printable. */
    (void)snprintf(buf, sizeof(buf), "%s", "a\x01");
    assert_int_equal(cp_host_canonical(buf, out, &kind, &err), CERTPIN_E_HOST);
    assert_non_null(strstr(err.text, "\"a\\x01\""));
}

/* ---------------------------------------------------------------------------------------------
 * cp_pattern_parse
 * ------------------------------------------------------------------------------------------ */

typedef struct pattern_case {
    const char *in;
    int include_subdomains;
    certpin_status status;
    const char *want; /* the canonical base on success, a substring of err.text on failure */
    certpin_match match;
    cp_host_kind kind;
} pattern_case;

#define P_OK(in, sub, base, match, kind)                                                           \
    {                                                                                              \
        in, sub, CERTPIN_OK, base, match, kind                                                     \
    }
#define P_BAD(in, sub, text)                                                                       \
    {                                                                                              \
        in, sub, CERTPIN_E_HOST, text, CERTPIN_MATCH_EXACT, CP_HOST_NAME                           \
    }

#define EXACT CERTPIN_MATCH_EXACT
#define ONE CERTPIN_MATCH_ONE_LABEL
#define TREE CERTPIN_MATCH_SUBTREE
#define NOT_LEADING "has a wildcard that is not a leading \"*.\" or \"**.\""
#define ONLY_ITSELF "an address matches only itself"

static const pattern_case pattern_cases[] = {
    P_OK("api.example.com", 0, "api.example.com", EXACT, CP_HOST_NAME),
    P_OK("API.Example.COM.", 0, "api.example.com", EXACT, CP_HOST_NAME),
    P_OK("*.example.com", 0, "example.com", ONE, CP_HOST_NAME),
    P_OK("**.example.com", 0, "example.com", TREE, CP_HOST_NAME),
    P_OK("**.EXAMPLE.com.", 0, "example.com", TREE, CP_HOST_NAME),
    /* rule: include_subdomains on an exact name is "**.". */
    P_OK("example.com", 1, "example.com", TREE, CP_HOST_NAME),
    P_OK("*.b\u00fccher.example", 0, "xn--bcher-kva.example", ONE, CP_HOST_NAME),
    P_OK("**.fa\u00df.de", 0, "xn--fa-hia.de", TREE, CP_HOST_NAME),
    P_OK("*.example\uff0ecom", 0, "example.com", ONE, CP_HOST_NAME),
    P_OK("*.com", 0, "com", ONE, CP_HOST_NAME), /* parses; the loader warns (public suffix) */
    P_OK("127.0.0.1", 0, "127.0.0.1", EXACT, CP_HOST_IPV4),
    P_OK("[::1]", 0, "::1", EXACT, CP_HOST_IPV6),
    P_OK("::ffff:127.0.0.1", 0, "127.0.0.1", EXACT, CP_HOST_IPV4),

    /* rule: include_subdomains and a wildcard together are refused. */
    P_BAD("*.example.com", 1, "has both a wildcard and include_subdomains: use one or the other"),
    P_BAD("**.example.com", 1, "use one or the other"),

    /* rule: a wildcard is a whole leading label, "*." or "**.", and nothing else. */
    P_BAD("*", 0, "pattern \"*\" is a wildcard alone"),
    P_BAD("**", 0, "is a wildcard alone"),
    P_BAD("*", 1, "is a wildcard alone"),
    P_BAD("*.", 0, "is a wildcard without a name after it"),
    P_BAD("**.", 0, "is a wildcard without a name after it"),
    P_BAD("a.*.com", 0, "pattern \"a.*.com\" " NOT_LEADING),
    P_BAD("f*.com", 0, NOT_LEADING),
    P_BAD("*a.com", 0, NOT_LEADING),
    P_BAD("a.com*", 0, NOT_LEADING),
    P_BAD("*.*.com", 0, NOT_LEADING),
    P_BAD("**.*.com", 0, NOT_LEADING),
    P_BAD("*.**.com", 0, NOT_LEADING),
    P_BAD("***.a.com", 0, NOT_LEADING),
    P_BAD("***", 0, NOT_LEADING),
    P_BAD("*.a.com.*", 0, NOT_LEADING),
    P_BAD("*\uff0eexample.com", 0, NOT_LEADING),      /* "*" and a fullwidth stop */
    P_BAD("\uff0a.example.com", 0, NOT_LDH " ('*')"), /* a fullwidth asterisk is no wildcard */
    P_BAD("**.\uff0a.example.com", 0, NOT_LDH " ('*')"),

    /* rule: no wildcard over an address. */
    P_BAD("*.127.0.0.1", 0, "pattern \"*.127.0.0.1\" is an IP address with a wildcard"),
    P_BAD("**.127.0.0.1", 0, ONLY_ITSELF),
    P_BAD("**.::1", 0, ONLY_ITSELF),
    P_BAD("*.[::1]", 0, ONLY_ITSELF),
    P_BAD("*.::ffff:127.0.0.1", 0, ONLY_ITSELF),
    P_BAD("127.0.0.1", 1, ONLY_ITSELF),
    P_BAD("::1", 1, ONLY_ITSELF),
    P_BAD("*.0.0.1", 0, NUMERIC),

    /* The base is held to the host rules; messages quote the whole pattern. */
    P_BAD("*.a_b.com", 0, "pattern \"*.a_b.com\" " NOT_LDH " ('_')"),
    P_BAD("*.example.com:443", 0, "pattern \"*.example.com:443\" has a port"),
    P_BAD("**.https://example.com", 0, "has a scheme"),
    P_BAD("*.-a.com", 0, HYPHEN),
    P_BAD("*..a.com", 0, "has an empty label"),
    P_BAD("**..", 0, "has an empty label"),
    P_BAD("*.a.com..", 0, "has an empty label"),
    P_BAD("*.xn--zz.com", 0, "has an invalid A-label"),
    P_BAD("*.fe80::1%eth0", 0, "has a zone id"),
    P_BAD("", 0, "pattern \"\" is empty"),
    P_BAD("", 1, "is empty"),
};

static void test_pattern_table(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(pattern_cases); i++) {
        const pattern_case *c = &pattern_cases[i];
        char base[CERTPIN_HOST_MAX];
        char quoted[300];
        certpin_match match = CERTPIN_MATCH_SUBTREE;
        cp_host_kind kind = CP_HOST_IPV6;
        certpin_error err;
        certpin_status st;

        memset(&err, 0, sizeof(err));
        memset(base, 'X', sizeof(base));
        cp_quote(c->in, quoted, sizeof(quoted));
        st = cp_pattern_parse(c->in, c->include_subdomains, base, &match, &kind, &err);
        if (st != c->status) {
            print_error("pattern %s (sub %d): status %s, want %s (%s)\n", quoted,
                        c->include_subdomains, status_name(st), status_name(c->status),
                        st == CERTPIN_OK ? base : err.text);
            failures++;
        } else if (st == CERTPIN_OK &&
                   (strcmp(base, c->want) != 0 || match != c->match || kind != c->kind)) {
            print_error("pattern %s (sub %d): got \"%s\" %s %s, want \"%s\" %s %s\n", quoted,
                        c->include_subdomains, base, match_name(match), kind_name(kind), c->want,
                        match_name(c->match), kind_name(c->kind));
            failures++;
        } else if (st != CERTPIN_OK && (strstr(err.text, c->want) == NULL ||
                                        strstr(err.text, quoted) == NULL || base[0] != '\0')) {
            print_error("pattern %s: message \"%s\" lacks \"%s\" or the pattern, or base set\n",
                        quoted, err.text, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---------------------------------------------------------------------------------------------
 * cp_pattern_matches, through the parser and the canonicaliser as the check uses them
 * ------------------------------------------------------------------------------------------ */

typedef struct match_case {
    const char *pattern;
    int include_subdomains;
    const char *host;
    int want;
} match_case;

static const match_case match_cases[] = {
    /* Exact. */
    {"api.example.com", 0, "api.example.com", 1},
    {"api.example.com", 0, "API.Example.COM.", 1},
    {"API.EXAMPLE.COM.", 0, "api.example.com", 1},
    {"api.example.com", 0, "x.api.example.com", 0},
    {"api.example.com", 0, "example.com", 0},
    {"api.example.com", 0, "api.example.co", 0},
    {"api.example.com", 0, "api.example.com.evil.com", 0},
    {"api.example.com", 0, "evilapi.example.com", 0},

    /* rule: "*." is exactly one more label. */
    {"*.a.com", 0, "x.a.com", 1},
    {"*.a.com", 0, "X.A.COM.", 1},
    {"*.a.com", 0, "xn--bcher-kva.a.com", 1},
    {"*.a.com", 0, "a.com", 0},
    {"*.a.com", 0, "x.y.a.com", 0},
    {"*.a.com", 0, "xa.com", 0},
    {"*.a.com", 0, "com", 0},
    /* rule: the suffix compare is on a label boundary and anchored at the end. */
    {"*.foo.com", 0, "bar.foo.com", 1},
    {"*.foo.com", 0, "evilfoo.com", 0},
    {"*.foo.com", 0, "bar.evilfoo.com", 0},
    {"*.foo.com", 0, "bar.foo.com.evil.com", 0},
    {"*.foo.com", 0, "foo.com.evil.com", 0},
    {"*.foo.com", 0, "bar.foo.co", 0},

    /* rule: "**." is the name and everything below it, on label boundaries. */
    {"**.foo.com", 0, "foo.com", 1},
    {"**.foo.com", 0, "bar.foo.com", 1},
    {"**.foo.com", 0, "a.b.c.foo.com", 1},
    {"**.foo.com", 0, "FOO.COM.", 1},
    {"**.foo.com", 0, "evilfoo.com", 0},
    {"**.foo.com", 0, "bar.evilfoo.com", 0},
    {"**.foo.com", 0, "bar.foo.com.evil.com", 0},
    {"**.foo.com", 0, "foo.com.evil.com", 0},
    {"**.foo.com", 0, "oo.com", 0},
    {"**.foo.com", 0, "com", 0},
    {"foo.com", 1, "foo.com", 1},
    {"foo.com", 1, "bar.foo.com", 1},
    {"foo.com", 1, "evilfoo.com", 0},
    {"foo.com", 1, "bar.foo.com.evil.com", 0},

    /* Unicode and A-labels are one name; non-transitional: faß.de is not fass.de. */
    {"b\u00fccher.example", 0, "xn--bcher-kva.example", 1},
    {"xn--bcher-kva.example", 0, "B\u00dcCHER.example", 1},
    {"*.b\u00fccher.example", 0, "www.xn--bcher-kva.example", 1},
    {"**.b\u00fccher.example", 0, "a.b.b\u00fccher\u3002example", 1},
    {"fa\u00df.de", 0, "xn--fa-hia.de", 1},
    {"fa\u00df.de", 0, "fass.de", 0},
    {"fass.de", 0, "fa\u00df.de", 0},
    {"bucher.example", 0, "b\u00fccher.example", 0},
    {"example.com", 0, "example\uff0ecom", 1},
    {"**.example.com", 0, "www\u3002example\u3002com", 1},

    /* Addresses: one spelling each; mapped IPv6 is its IPv4 address. */
    {"127.0.0.1", 0, "127.0.0.1", 1},
    {"127.0.0.1", 0, "::ffff:127.0.0.1", 1},
    {"127.0.0.1", 0, "[::ffff:7f00:1]", 1},
    {"::ffff:127.0.0.1", 0, "127.0.0.1", 1},
    {"::1", 0, "[::1]", 1},
    {"::1", 0, "0:0:0:0:0:0:0:1", 1},
    {"[::1]", 0, "::1", 1},
    {"2001:db8::1", 0, "2001:DB8:0:0:0:0:0:1", 1},
    {"127.0.0.1", 0, "127.0.0.2", 0},
    {"127.0.0.1", 0, "::127.0.0.1", 0},
    {"::1", 0, "::2", 0},
    {"**.com", 0, "127.0.0.1", 0},
};

static void test_match_table(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(match_cases); i++) {
        const match_case *c = &match_cases[i];
        char base[CERTPIN_HOST_MAX];
        char host[CERTPIN_HOST_MAX];
        certpin_match match;
        cp_host_kind kind;
        certpin_error err;
        int got;

        if (cp_pattern_parse(c->pattern, c->include_subdomains, base, &match, &kind, &err) !=
            CERTPIN_OK) {
            print_error("pattern \"%s\" refused: %s\n", c->pattern, err.text);
            failures++;
            continue;
        }
        if (cp_host_canonical(c->host, host, &kind, &err) != CERTPIN_OK) {
            print_error("host \"%s\" refused: %s\n", c->host, err.text);
            failures++;
            continue;
        }
        got = cp_pattern_matches(base, match, host);
        if (got != c->want) {
            print_error("\"%s\" (sub %d) vs \"%s\": got %d, want %d\n", c->pattern,
                        c->include_subdomains, c->host, got, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Straight calls, for what the parser never produces but a caller could pass. */
typedef struct raw_match_case {
    const char *base;
    certpin_match match;
    const char *host;
    int want;
} raw_match_case;

static const raw_match_case raw_match_cases[] = {
    /* rule: an address matches only exact entries, even where the text would line up. */
    {"0.0.1", CERTPIN_MATCH_ONE_LABEL, "127.0.0.1", 0},
    {"0.1", CERTPIN_MATCH_SUBTREE, "10.0.0.1", 0},
    {"1", CERTPIN_MATCH_SUBTREE, "127.0.0.1", 0},
    {"::1", CERTPIN_MATCH_SUBTREE, "::1", 0},
    {"127.0.0.1", CERTPIN_MATCH_SUBTREE, "127.0.0.1", 0},
    {"127.0.0.1", CERTPIN_MATCH_EXACT, "127.0.0.1", 1},
    {"::1", CERTPIN_MATCH_EXACT, "::1", 1},
    /* Hosts are canonical already: no case folding here. */
    {"a.com", CERTPIN_MATCH_EXACT, "A.com", 0},
    {"a.com", CERTPIN_MATCH_SUBTREE, "a.com", 1},
    {"a.com", CERTPIN_MATCH_ONE_LABEL, "a.com", 0},
    {"a.com", CERTPIN_MATCH_ONE_LABEL, ".a.com", 0},
    {"a.com", CERTPIN_MATCH_ONE_LABEL, "b.a.com", 1},
    {"a.com", CERTPIN_MATCH_ONE_LABEL, "ba.com", 0},
    {"a.com", CERTPIN_MATCH_SUBTREE, "ba.com", 0},
    {"", CERTPIN_MATCH_SUBTREE, "", 0},
    {"", CERTPIN_MATCH_EXACT, "", 0},
    {"", CERTPIN_MATCH_SUBTREE, "a.", 0},
    {NULL, CERTPIN_MATCH_EXACT, "a.com", 0},
    {"a.com", CERTPIN_MATCH_EXACT, NULL, 0},
    {"a.com", (certpin_match)99, "a.com", 0},
};

static void test_raw_match_table(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(raw_match_cases); i++) {
        const raw_match_case *c = &raw_match_cases[i];
        int got = cp_pattern_matches(c->base, c->match, c->host);
        if (got != c->want) {
            print_error("raw row %zu: \"%s\" %s vs \"%s\": got %d, want %d\n", i,
                        c->base != NULL ? c->base : "(null)", match_name(c->match),
                        c->host != NULL ? c->host : "(null)", got, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---------------------------------------------------------------------------------------------
 * cp_host_is_public_suffix, cp_host_labels
 * ------------------------------------------------------------------------------------------ */

typedef struct suffix_case {
    const char *base;
    int want;
} suffix_case;

static const suffix_case suffix_cases[] = {
    /* rule: a single label is always too wide, listed or not. */
    {"com", 1},
    {"uk", 1},
    {"lan", 1},
    {"internal", 1},
    {"xn--p1ai", 1},
    /* The ICANN section, its wildcard rules ("*.ck") and exceptions ("!www.ck"). */
    {"co.uk", 1},
    {"foo.ck", 1},
    {"www.ck", 0},
    {"xn--55qx5d.cn", 1},
    /* rule: the private section counts. */
    {"github.io", 1},
    {"blogspot.com", 1},
    {"s3.amazonaws.com", 1},
    /* Registrable names. */
    {"example.com", 0},
    {"example.co.uk", 0},
    {"foo.github.io", 0},
    {"foo.lan", 0},
    {"xn--bcher-kva.example", 0},
    /* rule: an address is never a public suffix. */
    {"127.0.0.1", 0},
    {"::1", 0},
    {"2001:db8::1", 0},
    /* No name: the caller warns. */
    {"", 1},
    {NULL, 1},
};

static int check_suffixes(void)
{
    size_t i;
    int failures = 0;

    for (i = 0; i < ARRAY_LEN(suffix_cases); i++) {
        int got = cp_host_is_public_suffix(suffix_cases[i].base);
        if (got != suffix_cases[i].want) {
            print_error("public suffix \"%s\": got %d, want %d\n",
                        suffix_cases[i].base != NULL ? suffix_cases[i].base : "(null)", got,
                        suffix_cases[i].want);
            failures++;
        }
    }
    return failures;
}

static void test_public_suffix_table(void **state)
{
    (void)state;
    assert_int_equal(check_suffixes(), 0);
}

/* The list is loaded once, on first use, whichever thread gets there first. */
static void *suffix_thread(void *arg)
{
    int *failures = arg;
    int i;

    for (i = 0; i < 20; i++) {
        *failures += check_suffixes();
        *failures += check_canon_row(&canon_cases[(size_t)i % ARRAY_LEN(canon_cases)]);
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t threads[8];
    int failures[8] = {0};
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(threads); i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, suffix_thread, &failures[i]), 0);
    }
    for (i = 0; i < ARRAY_LEN(threads); i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(failures[i], 0);
    }
}

typedef struct labels_case {
    const char *canonical;
    size_t want;
} labels_case;

static const labels_case labels_cases[] = {
    {"a.b.c", 3},     {"com", 1}, {"example.com", 2},       {"xn--bcher-kva.example", 2},
    {"127.0.0.1", 1}, {"::1", 1}, {"64:ff9b::c000:201", 1}, {"", 0},
    {NULL, 0},
};

static void test_labels_table(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(labels_cases); i++) {
        size_t got = cp_host_labels(labels_cases[i].canonical);
        if (got != labels_cases[i].want) {
            print_error("labels of \"%s\": got %zu, want %zu\n",
                        labels_cases[i].canonical != NULL ? labels_cases[i].canonical : "(null)",
                        got, labels_cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* The one-pass shortcut for plain ASCII names (host.c, plain_name) against the whole pipeline:
 * the same status, canonical form, kind and message for every row above and for generated names
 * over the bytes the shortcut takes (letters of both cases, digits, '-', '.') and a few it does
 * not, with labels and names around every length limit. */
static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int shortcut_agrees(const char *in)
{
    char fast[CERTPIN_HOST_MAX];
    char full[CERTPIN_HOST_MAX];
    cp_host_kind fast_kind;
    cp_host_kind full_kind;
    certpin_error fast_err;
    certpin_error full_err;
    certpin_status a;
    certpin_status b;

    memset(&fast_err, 0, sizeof(fast_err));
    memset(&full_err, 0, sizeof(full_err));
    a = cp_host_canonical(in, fast, &fast_kind, &fast_err);
    b = cp_host_canonical_without_shortcut(in, full, &full_kind, &full_err);
    if (a != b || strcmp(fast, full) != 0 || (a == CERTPIN_OK && fast_kind != full_kind) ||
        strcmp(fast_err.text, full_err.text) != 0) {
        print_error("shortcut differs on \"%s\": %s \"%s\" (%s) vs %s \"%s\" (%s)\n", in,
                    status_name(a), fast, fast_err.text, status_name(b), full, full_err.text);
        return 1;
    }
    return 0;
}

static void test_shortcut_agrees(void **state)
{
    static const char alphabet[] = "abcxyzABCXYZ0189-.-..";
    static const char *const rare[] = {"xn--", "XN--", "0x", "_", " ", ":", "\xc3\xa9", "*"};
    uint64_t seed = 7;
    char in[400];
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < ARRAY_LEN(canon_cases); i++) {
        failures += shortcut_agrees(canon_cases[i].in);
    }
    for (i = 0; i < 200000 && failures < 10; i++) {
        size_t len = 0;
        size_t target =
            (size_t)(next_rand(&seed) % 4 == 0 ? next_rand(&seed) % 300 : next_rand(&seed) % 40);
        while (len < target && len + 8 < sizeof(in)) {
            uint64_t r = next_rand(&seed);
            if (r % 64 == 0) {
                const char *t = rare[(r >> 8) % ARRAY_LEN(rare)];
                memcpy(in + len, t, strlen(t));
                len += strlen(t);
            } else if (r % 64 == 1) {
                /* a label at the length limit, or just over it */
                size_t n = 62 + (size_t)((r >> 8) % 3);
                memset(in + len, 'q', n < sizeof(in) - len - 8 ? n : 0);
                len += n < sizeof(in) - len - 8 ? n : 0;
            } else {
                in[len++] = alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
            }
        }
        in[len] = '\0';
        failures += shortcut_agrees(in);
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_table),     cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_arguments),           cmocka_unit_test(test_pattern_table),
        cmocka_unit_test(test_match_table),         cmocka_unit_test(test_raw_match_table),
        cmocka_unit_test(test_public_suffix_table), cmocka_unit_test(test_threads),
        cmocka_unit_test(test_labels_table),        cmocka_unit_test(test_shortcut_agrees),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
