/* Unit tests for pins (src/core/pin.c and the base64 of the crypto backend): certpin_pin_from_spki,
 * certpin_pin_parse, certpin_pin_format. A pin is SHA-256 over the DER SubjectPublicKeyInfo
 * (RFC 7469 section 2.4) written sha256/<base64>; curl's sha256//<base64> is accepted on input.
 * Every accepted spelling has refused twins next to it; each refusal must say what is wrong and
 * quote the pin.
 *
 * Expected values come from outside certpin: `printf abc | openssl dgst -sha256 -binary | base64`
 * and FIPS 180-2's test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certpin/certpin.h"

#define CASES_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* SHA-256("abc") (FIPS 180-2 appendix B.1) */
#define ABC_HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC_B64 "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
/* The same bytes with the two unused bits of the last character set: decodes to the same 32 bytes.
 */
#define ABC_B64_NONCANON "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa1="
/* SHA-256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") (FIPS 180-2 B.2) */
#define LONG_MSG_B64 "JI1qYdIGOLjlwCaTDD5gOaM85Flk/yFn9uzt1BnbBsE="
/* SHA-256("abd") */
#define ABD_B64 "pS0VnyYrLG3bckphhAvvw26zDIiHekAwtly+himESck="
#define ZERO_B64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define FF_B64 "//////////////////////////////////////////8="
#define SEQ_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define SEQ_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
/* 31, 33 and 48 zero bytes, and SHA-384("abc") */
#define B64_31 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define B64_33 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define SHA384_ABC_B64 "ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
#define SHA1_ABC_B64 "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Test helper: 64 lower-case hex digits into 32 bytes (the expected values are written in hex,
 * independently of certpin's base64). */
static void from_hex(const char *hex, unsigned char out[CERTPIN_PIN_LEN])
{
    size_t i;
    assert_int_equal(strlen(hex), 64);
    for (i = 0; i < CERTPIN_PIN_LEN; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        out[i] = (unsigned char)(hi * 16 + lo);
    }
}

/* ---- certpin_pin_parse ---------------------------------------------------------------------- */

typedef struct parse_case {
    const char *name;
    const char *text;
    certpin_status status;
    const char *want_hex;   /* the 32 bytes, when status is CERTPIN_OK */
    const char *message[2]; /* substrings err.text must hold (NULL: none) */
    int quoted;             /* err.text quotes the whole input as "..." */
} parse_case;

static const parse_case parse_cases[] = {
    {"okhttp form", "sha256/" ABC_B64, CERTPIN_OK, ABC_HEX, {NULL, NULL}, 0},
    {"curl form", "sha256//" ABC_B64, CERTPIN_OK, ABC_HEX, {NULL, NULL}, 0},
    {"three slashes", "sha256///" ABC_B64, CERTPIN_E_PIN, NULL, {"not base64", NULL}, 1},
    {"all zero",
     "sha256/" ZERO_B64,
     CERTPIN_OK,
     "0000000000000000000000000000000000000000000000000000000000000000",
     {NULL, NULL},
     0},
    {"sequence", "sha256/" SEQ_B64, CERTPIN_OK, SEQ_HEX, {NULL, NULL}, 0},
    /* A base64 pin that starts with '/' (first byte 0xfc..0xff): "sha256//..." is then the OkHttp
     * form, and curl writes "sha256///...". */
    {"leading slash, okhttp form",
     "sha256/" FF_B64,
     CERTPIN_OK,
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     {NULL, NULL},
     0},
    {"leading slash, curl form",
     "sha256//" FF_B64,
     CERTPIN_OK,
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     {NULL, NULL},
     0},
    {"leading slash, four slashes",
     "sha256///" FF_B64,
     CERTPIN_E_PIN,
     NULL,
     {"not base64", NULL},
     1},
    {"leading slash, one character short",
     "sha256//////////////////////////////////////////8=",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", NULL},
     1},

    /* Algorithm. */
    {"upper-case algorithm",
     "SHA256/" ABC_B64,
     CERTPIN_E_PIN,
     NULL,
     {"unknown algorithm \"SHA256\"", NULL},
     1},
    {"sha1 pin",
     "sha1/" SHA1_ABC_B64,
     CERTPIN_E_PIN,
     NULL,
     {"unknown algorithm \"sha1\"", NULL},
     1},
    {"sha384 pin",
     "sha384/" SHA384_ABC_B64,
     CERTPIN_E_PIN,
     NULL,
     {"unknown algorithm \"sha384\"", NULL},
     0},
    {"sha2566 prefix", "sha2566/" ABC_B64, CERTPIN_E_PIN, NULL, {"unknown algorithm", NULL}, 1},
    {"sha25 prefix", "sha25/" ABC_B64, CERTPIN_E_PIN, NULL, {"unknown algorithm", NULL}, 1},
    {"empty algorithm", "/" ABC_B64, CERTPIN_E_PIN, NULL, {"unknown algorithm", NULL}, 1},
    {"leading space", " sha256/" ABC_B64, CERTPIN_E_PIN, NULL, {"unknown algorithm", NULL}, 1},
    {"colon instead of slash", "sha256:" ZERO_B64, CERTPIN_E_PIN, NULL, {"no algorithm", NULL}, 1},
    {"HPKP header syntax", "pin-sha256=\"" ABC_B64 "\"", CERTPIN_E_PIN, NULL, {NULL, NULL}, 0},
    {"bare base64", ZERO_B64, CERTPIN_E_PIN, NULL, {"no algorithm", "sha256/"}, 1},
    {"empty string", "", CERTPIN_E_PIN, NULL, {"no algorithm", NULL}, 1},

    /* Hex instead of base64. */
    {"hex", ABC_HEX, CERTPIN_E_PIN, NULL, {"hex", "sha256/<base64>"}, 1},
    {"upper-case hex",
     "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
     CERTPIN_E_PIN,
     NULL,
     {"hex", "sha256/<base64>"},
     1},
    {"63 hex digits",
     "a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     CERTPIN_E_PIN,
     NULL,
     {"no algorithm", NULL},
     1},
    {"hex after sha256/",
     "sha256/" ABC_HEX,
     CERTPIN_E_PIN,
     NULL,
     {"decodes to 48 bytes, not 32", NULL},
     0},

    /* Length. */
    {"31 bytes", "sha256/" B64_31, CERTPIN_E_PIN, NULL, {"decodes to 31 bytes, not 32", NULL}, 1},
    {"33 bytes", "sha256/" B64_33, CERTPIN_E_PIN, NULL, {"decodes to 33 bytes, not 32", NULL}, 1},
    {"48 bytes (SHA-384 under sha256/)",
     "sha256/" SHA384_ABC_B64,
     CERTPIN_E_PIN,
     NULL,
     {"decodes to 48 bytes, not 32", NULL},
     0},
    {"20 bytes (SHA-1 under sha256/)",
     "sha256/" SHA1_ABC_B64,
     CERTPIN_E_PIN,
     NULL,
     {"decodes to 20 bytes, not 32", NULL},
     1},
    {"nothing after the prefix", "sha256/", CERTPIN_E_PIN, NULL, {"not base64", NULL}, 1},
    {"nothing after the curl prefix", "sha256//", CERTPIN_E_PIN, NULL, {"not base64", NULL}, 1},
    {"far too long",
     "sha256/" SHA384_ABC_B64 SHA384_ABC_B64 SHA384_ABC_B64 SHA384_ABC_B64 SHA384_ABC_B64,
     CERTPIN_E_PIN,
     NULL,
     {"not base64", "...\""},
     0},

    /* Base64 spelling. */
    {"non-canonical",
     "sha256/" ABC_B64_NONCANON,
     CERTPIN_E_PIN,
     NULL,
     {"not canonical", "did you mean sha256/" ABC_B64 "?"},
     1},
    {"non-canonical curl form",
     "sha256//" ABC_B64_NONCANON,
     CERTPIN_E_PIN,
     NULL,
     {"not canonical", "did you mean sha256/" ABC_B64 "?"},
     1},
    {"non-canonical zero",
     "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
     CERTPIN_E_PIN,
     NULL,
     {"not canonical", "did you mean sha256/" ZERO_B64 "?"},
     1},
    {"missing padding",
     "sha256/ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", NULL},
     1},
    {"double padding", "sha256/" ABC_B64 "=", CERTPIN_E_PIN, NULL, {"not base64", NULL}, 1},
    {"padding in the middle",
     "sha256/AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", NULL},
     1},
    {"base64url alphabet",
     "sha256/ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", NULL},
     1},
    {"trailing newline", "sha256/" ABC_B64 "\n", CERTPIN_E_PIN, NULL, {"not base64", "\\x0a"}, 0},
    {"trailing space", "sha256/" ABC_B64 " ", CERTPIN_E_PIN, NULL, {"not base64", NULL}, 1},
    {"space inside",
     "sha256/ungWv48Bz+pBQUDeXa4iI7ADY OWF3qctBD/YfIAFa0=",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", NULL},
     1},
    {"space after the prefix", "sha256/ " ABC_B64, CERTPIN_E_PIN, NULL, {"not base64", NULL}, 1},
    {"non-ASCII",
     "sha256/ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAF\xc3\xa9=",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", "\\xc3\\xa9"},
     0},
    {"quote in the pin",
     "sha256/ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAF\"=",
     CERTPIN_E_PIN,
     NULL,
     {"not base64", "\\\""},
     0},
};

static void test_parse_case(void **state)
{
    const parse_case *c = *state;
    certpin_error err;
    unsigned char got[CERTPIN_PIN_LEN];
    unsigned char untouched[CERTPIN_PIN_LEN];
    certpin_status st;
    size_t i;

    memset(&err, 0, sizeof(err));
    memset(got, 0xa5, sizeof(got));
    memset(untouched, 0xa5, sizeof(untouched));
    st = certpin_pin_parse(c->text, got, &err);
    if (st != c->status) {
        print_error("%s: status %d (%s), want %d; err.text: %s\n", c->name, (int)st,
                    certpin_status_str(st), (int)c->status, err.text);
        fail();
    }
    if (c->status == CERTPIN_OK) {
        unsigned char want[CERTPIN_PIN_LEN];
        from_hex(c->want_hex, want);
        assert_memory_equal(got, want, CERTPIN_PIN_LEN);
        return;
    }
    assert_int_equal(err.status, c->status);
    assert_memory_equal(got, untouched, CERTPIN_PIN_LEN); /* a failed call changes nothing */
    for (i = 0; i < CASES_LEN(c->message); i++) {
        if (c->message[i] != NULL && strstr(err.text, c->message[i]) == NULL) {
            print_error("%s: err.text \"%s\" lacks \"%s\"\n", c->name, err.text, c->message[i]);
            fail();
        }
    }
    if (c->quoted) {
        char quoted[160];
        (void)snprintf(quoted, sizeof(quoted), "pin \"%s\"", c->text);
        if (strstr(err.text, quoted) == NULL) {
            print_error("%s: err.text \"%s\" does not quote the pin as %s\n", c->name, err.text,
                        quoted);
            fail();
        }
    }
}

static void test_parse_null_arguments(void **state)
{
    certpin_error err;
    unsigned char pin[CERTPIN_PIN_LEN];
    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(certpin_pin_parse(NULL, pin, &err), CERTPIN_E_ARG);
    assert_int_equal(err.status, CERTPIN_E_ARG);
    assert_int_equal(certpin_pin_parse("sha256/" ABC_B64, NULL, &err), CERTPIN_E_ARG);
    /* err may be NULL, for success and failure */
    assert_int_equal(certpin_pin_parse("sha256/" ABC_B64, pin, NULL), CERTPIN_OK);
    assert_int_equal(certpin_pin_parse("sha256/" ABC_B64_NONCANON, pin, NULL), CERTPIN_E_PIN);
}

/* ---- certpin_pin_from_spki ------------------------------------------------------------------ */

typedef struct spki_case {
    const char *name;
    const char *data;
    size_t len;
    certpin_status status;
    const char *want_b64; /* compared through certpin_pin_parse, itself tested above */
} spki_case;

#define LONG_MSG "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static const spki_case spki_cases[] = {
    {"sha256 abc", "abc", 3, CERTPIN_OK, ABC_B64},
    {"sha256 abd differs", "abd", 3, CERTPIN_OK, ABD_B64},
    {"sha256 448-bit message", LONG_MSG, sizeof(LONG_MSG) - 1, CERTPIN_OK, LONG_MSG_B64},
    {"hashes exactly len bytes", "abcd", 3, CERTPIN_OK, ABC_B64},
    {"NUL byte counts", "abc\0", 4, CERTPIN_OK, NULL},
    {"NULL spki", NULL, 3, CERTPIN_E_ARG, NULL},
    {"empty spki", "abc", 0, CERTPIN_E_ARG, NULL},
};

static void test_spki_case(void **state)
{
    const spki_case *c = *state;
    unsigned char got[CERTPIN_PIN_LEN];
    unsigned char untouched[CERTPIN_PIN_LEN];
    unsigned char abc[CERTPIN_PIN_LEN];
    certpin_status st;

    memset(got, 0x5a, sizeof(got));
    memset(untouched, 0x5a, sizeof(untouched));
    from_hex(ABC_HEX, abc);
    st = certpin_pin_from_spki((const unsigned char *)c->data, c->len, got);
    assert_int_equal(st, c->status);
    if (c->status != CERTPIN_OK) {
        assert_memory_equal(got, untouched, CERTPIN_PIN_LEN);
        return;
    }
    if (c->want_b64 != NULL) {
        unsigned char want[CERTPIN_PIN_LEN];
        char text[CERTPIN_PIN_STR_MAX];
        (void)snprintf(text, sizeof(text), "sha256/%s", c->want_b64);
        assert_int_equal(certpin_pin_parse(text, want, NULL), CERTPIN_OK);
        assert_memory_equal(got, want, CERTPIN_PIN_LEN);
    } else {
        /* adversarial twins of "abc": any change of the input changes the pin */
        assert_memory_not_equal(got, abc, CERTPIN_PIN_LEN);
    }
}

static void test_spki_null_output(void **state)
{
    (void)state;
    assert_int_equal(certpin_pin_from_spki((const unsigned char *)"abc", 3, NULL), CERTPIN_E_ARG);
}

/* ---- certpin_pin_format --------------------------------------------------------------------- */

typedef struct format_case {
    const char *name;
    const char *hex;
    const char *b64;
} format_case;

static const format_case format_cases[] = {
    {"format abc", ABC_HEX, ABC_B64},
    {"format zero", "0000000000000000000000000000000000000000000000000000000000000000", ZERO_B64},
    {"format 0xff", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", FF_B64},
    {"format sequence", SEQ_HEX, SEQ_B64},
};

static void test_format_case(void **state)
{
    const format_case *c = *state;
    unsigned char pin[CERTPIN_PIN_LEN];
    unsigned char back[CERTPIN_PIN_LEN];
    char out[CERTPIN_PIN_STR_MAX];
    char want[CERTPIN_PIN_STR_MAX];
    certpin_error err;

    from_hex(c->hex, pin);

    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, out, sizeof(out)), CERTPIN_OK);
    (void)snprintf(want, sizeof(want), "sha256/%s", c->b64);
    assert_string_equal(out, want);
    memset(back, 0, sizeof(back));
    assert_int_equal(certpin_pin_parse(out, back, NULL), CERTPIN_OK);
    assert_memory_equal(back, pin, CERTPIN_PIN_LEN);

    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_CURL, out, sizeof(out)), CERTPIN_OK);
    (void)snprintf(want, sizeof(want), "sha256//%s", c->b64);
    assert_string_equal(out, want);
    memset(back, 0, sizeof(back));
    assert_int_equal(certpin_pin_parse(out, back, NULL), CERTPIN_OK);
    assert_memory_equal(back, pin, CERTPIN_PIN_LEN);

    /* hex comes out as 64 lower-case digits; on input it is refused with a hint */
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_HEX, out, sizeof(out)), CERTPIN_OK);
    assert_string_equal(out, c->hex);
    memset(&err, 0, sizeof(err));
    assert_int_equal(certpin_pin_parse(out, back, &err), CERTPIN_E_PIN);
    assert_non_null(strstr(err.text, "hex"));
}

/* The output buffer must hold CERTPIN_PIN_STR_MAX bytes; the style must be one of the three. */
static void test_format_arguments(void **state)
{
    unsigned char pin[CERTPIN_PIN_LEN];
    char out[CERTPIN_PIN_STR_MAX + 8];
    (void)state;
    memset(pin, 7, sizeof(pin));
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_CURL, out, CERTPIN_PIN_STR_MAX),
                     CERTPIN_OK);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_CURL, out, CERTPIN_PIN_STR_MAX - 1),
                     CERTPIN_E_ARG);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, out, 0), CERTPIN_E_ARG);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, NULL, sizeof(out)), CERTPIN_E_ARG);
    assert_int_equal(certpin_pin_format(NULL, CERTPIN_PIN_OKHTTP, out, sizeof(out)), CERTPIN_E_ARG);
    assert_int_equal(certpin_pin_format(pin, (certpin_pin_style)3, out, sizeof(out)),
                     CERTPIN_E_ARG);
    assert_int_equal(certpin_pin_format(pin, (certpin_pin_style)-1, out, sizeof(out)),
                     CERTPIN_E_ARG);
}

/* Round trip over many pins: every byte value in every position, both text styles. */
static void test_format_round_trip_many(void **state)
{
    unsigned char pin[CERTPIN_PIN_LEN];
    unsigned char back[CERTPIN_PIN_LEN];
    char out[CERTPIN_PIN_STR_MAX];
    unsigned seed = 12345u;
    size_t n;
    size_t i;
    (void)state;
    for (n = 0; n < 512; n++) {
        for (i = 0; i < CERTPIN_PIN_LEN; i++) {
            seed = seed * 1103515245u + 12345u;
            pin[i] = (unsigned char)(n < 256 ? (n + i) & 0xff : (seed >> 16) & 0xff);
        }
        assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, out, sizeof(out)), CERTPIN_OK);
        assert_int_equal(strlen(out), 7 + 44);
        assert_int_equal(certpin_pin_parse(out, back, NULL), CERTPIN_OK);
        assert_memory_equal(back, pin, CERTPIN_PIN_LEN);
        assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_CURL, out, sizeof(out)), CERTPIN_OK);
        assert_int_equal(strlen(out), 8 + 44);
        assert_int_equal(certpin_pin_parse(out, back, NULL), CERTPIN_OK);
        assert_memory_equal(back, pin, CERTPIN_PIN_LEN);
        assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_HEX, out, sizeof(out)), CERTPIN_OK);
        assert_int_equal(strlen(out), 64);
        from_hex(out, back);
        assert_memory_equal(back, pin, CERTPIN_PIN_LEN);
    }
}

/* ---- main ----------------------------------------------------------------------------------- */

#define MAX_TESTS 128

static void add_case(struct CMUnitTest *tests, size_t *n, const char *name, CMUnitTestFunction f,
                     const void *state)
{
    assert_true(*n < MAX_TESTS);
    tests[*n].name = name;
    tests[*n].test_func = f;
    tests[*n].setup_func = NULL;
    tests[*n].teardown_func = NULL;
    tests[*n].initial_state = (void *)state;
    (*n)++;
}

int main(void)
{
    struct CMUnitTest tests[MAX_TESTS];
    size_t n = 0;
    size_t i;

    for (i = 0; i < CASES_LEN(parse_cases); i++) {
        add_case(tests, &n, parse_cases[i].name, test_parse_case, &parse_cases[i]);
    }
    add_case(tests, &n, "parse NULL arguments", test_parse_null_arguments, NULL);
    for (i = 0; i < CASES_LEN(spki_cases); i++) {
        add_case(tests, &n, spki_cases[i].name, test_spki_case, &spki_cases[i]);
    }
    add_case(tests, &n, "spki NULL output", test_spki_null_output, NULL);
    for (i = 0; i < CASES_LEN(format_cases); i++) {
        add_case(tests, &n, format_cases[i].name, test_format_case, &format_cases[i]);
    }
    add_case(tests, &n, "format arguments", test_format_arguments, NULL);
    add_case(tests, &n, "format round trip many", test_format_round_trip_many, NULL);
    return _cmocka_run_group_tests("test_pin", tests, n, NULL, NULL);
}
