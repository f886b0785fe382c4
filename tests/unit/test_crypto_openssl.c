/* certpin_crypto_openssl_configure: certpin's SHA-256 comes from the application's OSSL_LIB_CTX
 * and property query (what a FIPS-provider user needs). The order of the tests matters, as in an
 * application: configuring is allowed until certpin first fetches its digest, and only once.
 *
 *   1. a library context with no provider that has SHA-256 is refused, and changes nothing;
 *   2. a property query nothing satisfies ("fips=yes" where no FIPS provider is loaded) is refused;
 *   3. a library context with the default provider, "provider=default": accepted, and pins come out
 *      as SHA-256 ("abc" as in FIPS 180-2);
 *   4. a second configuration is refused: certpin already has its digest;
 *   5. a check leaves OpenSSL's error queue as the application left it: what is on it stays there
 *      (nothing cleared), and nothing is added (certpin runs inside the application's handshakes,
 *      where a stray error would be what SSL_get_error reports).
 * (1) is also the proof that the library context is used at all: the default context, which a
 * backend ignoring libctx would use, has SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "certpin/certpin.h"
#include "certpin/crypto_openssl.h"

/* SHA-256("abc") (FIPS 180-2 appendix B.1) */
static const unsigned char abc_sha256[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

static OSSL_LIB_CTX *empty_ctx; /* only the "base" provider: encoders, no digests */
static OSSL_PROVIDER *empty_base;
static OSSL_LIB_CTX *default_ctx; /* the default provider */
static OSSL_PROVIDER *default_prov;

static void no_digest_in_libctx_refused(void **state)
{
    (void)state;
    empty_ctx = OSSL_LIB_CTX_new();
    assert_non_null(empty_ctx);
    empty_base = OSSL_PROVIDER_load(empty_ctx, "base");
    assert_non_null(empty_base);
    assert_int_equal(certpin_crypto_openssl_configure(empty_ctx, NULL), CERTPIN_E_CRYPTO);
}

static void unsatisfiable_query_refused(void **state)
{
    (void)state;
    assert_int_equal(certpin_crypto_openssl_configure(NULL, "fips=yes"), CERTPIN_E_CRYPTO);
}

static void libctx_and_query_accepted(void **state)
{
    unsigned char pin[CERTPIN_PIN_LEN];
    (void)state;
    default_ctx = OSSL_LIB_CTX_new();
    assert_non_null(default_ctx);
    default_prov = OSSL_PROVIDER_load(default_ctx, "default");
    assert_non_null(default_prov);
    assert_int_equal(certpin_crypto_openssl_configure(default_ctx, "provider=default"), CERTPIN_OK);
    assert_int_equal(certpin_pin_from_spki((const unsigned char *)"abc", 3, pin), CERTPIN_OK);
    assert_memory_equal(pin, abc_sha256, sizeof(pin));
}

static void second_configuration_refused(void **state)
{
    unsigned char pin[CERTPIN_PIN_LEN];
    (void)state;
    assert_int_equal(certpin_crypto_openssl_configure(NULL, NULL), CERTPIN_E_ARG);
    assert_int_equal(certpin_crypto_openssl_configure(empty_ctx, NULL), CERTPIN_E_ARG);
    /* and the digest in use is still the configured one */
    assert_int_equal(certpin_pin_from_spki((const unsigned char *)"abc", 3, pin), CERTPIN_OK);
    assert_memory_equal(pin, abc_sha256, sizeof(pin));
}

static void check_keeps_error_queue(void **state)
{
    static const unsigned char leaf[] = "the leaf's key";
    static const unsigned char issuer[] = "the issuer's key";
    static const unsigned char backup[] = "a backup key";
    char pin_text[2][CERTPIN_PIN_STR_MAX];
    const char *pins[2] = {pin_text[0], pin_text[1]};
    unsigned char pin[CERTPIN_PIN_LEN];
    certpin_cert chain[2];
    certpin_domain d;
    certpin_error err;
    certpin_builder *b = certpin_builder_new();
    certpin_policy *policy;
    certpin_result *r = certpin_result_new();
    unsigned long app_error;
    (void)state;

    assert_non_null(b);
    assert_non_null(r);
    assert_int_equal(certpin_pin_from_spki(issuer, sizeof(issuer), pin), CERTPIN_OK);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, pin_text[0], sizeof(pin_text[0])),
                     CERTPIN_OK);
    assert_int_equal(certpin_pin_from_spki(backup, sizeof(backup), pin), CERTPIN_OK);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, pin_text[1], sizeof(pin_text[1])),
                     CERTPIN_OK);
    memset(&d, 0, sizeof(d));
    d.host = "api.example.com";
    d.pins = pins;
    d.pin_count = 2;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_OK);
    policy = certpin_builder_build(b, &err);
    assert_non_null(policy);
    memset(chain, 0, sizeof(chain));
    chain[0].spki = leaf;
    chain[0].spki_len = sizeof(leaf);
    chain[1].spki = issuer;
    chain[1].spki_len = sizeof(issuer);

    ERR_clear_error();
    ERR_raise(ERR_LIB_USER, 42); /* the application's own error, not yet handled */
    app_error = ERR_peek_last_error();
    assert_int_equal(certpin_check(policy, "api.example.com", 443, chain, 2, 0, r), CERTPIN_OK);
    assert_int_equal(certpin_result_verdict(r), CERTPIN_ACCEPTED_PINNED);
    assert_true(ERR_peek_last_error() == app_error);
    assert_true(ERR_get_error() == app_error);
    assert_true(ERR_peek_error() == 0);

    certpin_result_free(r);
    certpin_policy_free(policy);
    certpin_builder_free(b);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_digest_in_libctx_refused),
        cmocka_unit_test(unsatisfiable_query_refused),
        cmocka_unit_test(libctx_and_query_accepted),
        cmocka_unit_test(second_configuration_refused),
        cmocka_unit_test(check_keeps_error_queue),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    /* certpin keeps the digest (and so default_ctx) until the process ends: freed last */
    OSSL_PROVIDER_unload(empty_base);
    OSSL_LIB_CTX_free(empty_ctx);
    return rc;
}
