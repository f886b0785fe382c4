/* Synthetic keys and chains for the core's unit tests: see synthetic.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "synthetic.h"

size_t spki_of(const char *name, unsigned char *out, size_t cap)
{
    int n = snprintf((char *)out, cap, "synthetic-spki:%s", name);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

void raw_pin_of(const char *name, unsigned char pin[CERTPIN_PIN_LEN])
{
    unsigned char spki[128];
    size_t len = spki_of(name, spki, sizeof(spki));
    assert_int_equal(certpin_pin_from_spki(spki, len, pin), CERTPIN_OK);
}

void pin_of(const char *name, char out[CERTPIN_PIN_STR_MAX])
{
    unsigned char pin[CERTPIN_PIN_LEN];
    raw_pin_of(name, pin);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, out, CERTPIN_PIN_STR_MAX),
                     CERTPIN_OK);
}

void make_chain(test_chain *ch, const char *spec)
{
    const char *p = spec;
    memset(ch, 0, sizeof(*ch));
    while (*p != '\0') {
        char name[32];
        size_t n = 0;
        while (*p == ' ') {
            p++;
        }
        while (*p != '\0' && *p != ' ') {
            assert_true(n + 1 < sizeof(name));
            name[n++] = *p++;
        }
        if (n == 0) {
            break;
        }
        name[n] = '\0';
        assert_true(ch->len < MAX_TEST_CHAIN);
        ch->certs[ch->len].spki = ch->spki[ch->len];
        ch->certs[ch->len].spki_len = spki_of(name, ch->spki[ch->len], sizeof(ch->spki[0]));
        (void)snprintf(ch->subject[ch->len], sizeof(ch->subject[0]), "CN=%s", name);
        ch->certs[ch->len].subject = ch->subject[ch->len];
        ch->len++;
    }
}

void expand(const char *tmpl, char *out, size_t cap)
{
    size_t o = 0;
    const char *p = tmpl;
    while (*p != '\0') {
        if (*p == '@') {
            char name[32];
            char pin[CERTPIN_PIN_STR_MAX];
            size_t n = 0;
            size_t plen;
            p++;
            while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
                assert_true(n + 1 < sizeof(name));
                name[n++] = *p++;
            }
            name[n] = '\0';
            pin_of(name, pin);
            plen = strlen(pin);
            assert_true(o + plen < cap);
            memcpy(out + o, pin, plen);
            o += plen;
            continue;
        }
        assert_true(o + 1 < cap);
        out[o++] = *p++;
    }
    out[o] = '\0';
}

certpin_policy *load_expanded(const char *source, const char *tmpl)
{
    char json[8192];
    certpin_error err;
    certpin_policy *p;
    expand(tmpl, json, sizeof(json));
    memset(&err, 0, sizeof(err));
    p = certpin_policy_load_buffer(json, strlen(json), source, NULL, &err);
    if (p == NULL) {
        print_error("%s:%d: %s: %s\n", source, err.line, err.path, err.text);
    }
    assert_non_null(p);
    return p;
}
