/* Pins: SHA-256 over a DER SubjectPublicKeyInfo (RFC 7469 section 2.4), as text "sha256/<base64>"
 * (RFC 7469's pin-sha256 value, OkHttp's form) or curl's "sha256//<base64>". */
#include <stdio.h>
#include <string.h>

#include "private/crypto.h"
#include "private/error.h"
#include "private/safety.h"

certpin_status certpin_pin_from_spki(const unsigned char *spki, size_t spki_len,
                                     unsigned char pin[CERTPIN_PIN_LEN])
{
    CP_ENSURE(spki != NULL && spki_len > 0 && pin != NULL, CERTPIN_E_ARG);
    return cp_sha256(spki, spki_len, pin);
}

/* Standard base64 as RFC 4648 section 4 writes it: a non-empty multiple of four characters of the
 * standard alphabet, with at most two '=' and only at the end. The backends' decoders are all more
 * lenient (white space, line breaks, missing padding, '=' anywhere), so the form is checked here,
 * once, for every backend, before any of them decodes. */
static int is_strict_base64(const char *text, size_t len)
{
    /* 1 for the characters of the standard alphabet (a table, not strspn: glibc's strspn builds
     * its own table on every call, and a policy of a million entries has two million pins) */
    static const unsigned char in_alphabet[256] = {
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
        ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
        ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
        ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
        ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
        ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
        ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1,
    };
    size_t pad = 0;
    size_t i;
    if (len == 0 || len % 4 != 0) {
        return 0;
    }
    while (pad < 2 && text[len - 1 - pad] == '=') {
        pad++;
    }
    for (i = 0; i < len - pad; i++) {
        if (!in_alphabet[(unsigned char)text[i]]) {
            return 0;
        }
    }
    return 1;
}

static int is_hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return s[64] == '\0';
}

certpin_status certpin_pin_parse(const char *text, unsigned char pin[CERTPIN_PIN_LEN],
                                 certpin_error *err)
{
    char q[96];
    const char *b64;
    const char *slash;
    unsigned char buf[64];
    size_t n = 0;
    size_t b64_len;
    char again[45];

    if (text == NULL || pin == NULL) {
        return cp_error(err, CERTPIN_E_ARG, "no pin given");
    }
    /* q, the pin as quoted in messages, is made only for a message */
    slash = strchr(text, '/');
    if (slash == NULL) {
        cp_quote(text, q, sizeof(q));
        if (is_hex64(text)) {
            return cp_error(err, CERTPIN_E_PIN,
                            "pin %s is hex: write it as sha256/<base64> (certpin pin --format "
                            "okhttp prints that form)",
                            q);
        }
        return cp_error(err, CERTPIN_E_PIN,
                        "pin %s has no algorithm: write it as sha256/<base64 of the SHA-256 of "
                        "the SubjectPublicKeyInfo>",
                        q);
    }
    if ((size_t)(slash - text) != 6 || strncmp(text, "sha256", 6) != 0) {
        char alg[32];
        size_t len = (size_t)(slash - text);
        if (len >= sizeof(alg)) {
            len = sizeof(alg) - 1;
        }
        memcpy(alg, text, len);
        alg[len] = '\0';
        cp_quote(text, q, sizeof(q));
        cp_quote(alg, again, sizeof(again));
        return cp_error(err, CERTPIN_E_PIN,
                        "pin %s uses the unknown algorithm %s: only sha256 pins exist (RFC 7469)",
                        q, again);
    }
    b64 = slash + 1;
    b64_len = strlen(b64);
    /* curl's sha256//<base64>. A base64 pin may itself start with '/' (a first byte of 0xfc or
     * more), so "sha256//" followed by 43 more characters is the OkHttp form of such a pin: the
     * second slash is curl's only when it is not part of the 44 characters of base64. */
    if (*b64 == '/' && b64_len != 44) {
        b64++;
        b64_len--;
    }
    if (!is_strict_base64(b64, b64_len) ||
        cp_base64_decode(b64, b64_len, buf, sizeof(buf), &n) != CERTPIN_OK) {
        cp_quote(text, q, sizeof(q));
        return cp_error(err, CERTPIN_E_PIN,
                        "pin %s is not base64: after \"sha256/\" come 44 characters of standard "
                        "base64 (A-Z a-z 0-9 + /, ending in '=')",
                        q);
    }
    if (n != CERTPIN_PIN_LEN) {
        cp_quote(text, q, sizeof(q));
        return cp_error(err, CERTPIN_E_PIN,
                        "pin %s decodes to %zu bytes, not 32: a SHA-256 pin is 32 bytes (44 "
                        "characters of base64)",
                        q, n);
    }
    /* Refuse non-canonical base64 (unused bits set in the last character): such a pin would
     * compare equal to the canonical one but differ from it as text, which misleads reviews. */
    CP_GUARD(cp_base64_encode32(buf, again));
    if (b64_len != 44 || memcmp(again, b64, 44) != 0) {
        cp_quote(text, q, sizeof(q));
        return cp_error(err, CERTPIN_E_PIN,
                        "pin %s is not canonical base64: did you mean sha256/%s?", q, again);
    }
    memcpy(pin, buf, CERTPIN_PIN_LEN);
    return CERTPIN_OK;
}

certpin_status certpin_pin_format(const unsigned char pin[CERTPIN_PIN_LEN], certpin_pin_style style,
                                  char *out, size_t out_len)
{
    char b64[45];
    static const char hex[] = "0123456789abcdef";
    size_t i;

    CP_ENSURE(pin != NULL && out != NULL && out_len >= CERTPIN_PIN_STR_MAX, CERTPIN_E_ARG);
    switch (style) {
    case CERTPIN_PIN_OKHTTP:
    case CERTPIN_PIN_CURL:
        CP_GUARD(cp_base64_encode32(pin, b64));
        (void)snprintf(out, out_len, "%s%s", style == CERTPIN_PIN_CURL ? "sha256//" : "sha256/",
                       b64);
        return CERTPIN_OK;
    case CERTPIN_PIN_HEX:
        for (i = 0; i < CERTPIN_PIN_LEN; i++) {
            out[2 * i] = hex[pin[i] >> 4];
            out[2 * i + 1] = hex[pin[i] & 0xf];
        }
        out[64] = '\0';
        return CERTPIN_OK;
    default: return CERTPIN_E_ARG;
    }
}
