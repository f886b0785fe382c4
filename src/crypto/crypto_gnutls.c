/* The GnuTLS crypto backend (GnuTLS 3.7, nettle 3.8): SHA-256 from GnuTLS's hash API (which
 * honours GnuTLS's FIPS mode and crypto configuration), base64 from nettle, GnuTLS's own crypto
 * library (GnuTLS exports no plain base64: only PEM and SRP's alphabet). A library built in this
 * flavour links no OpenSSL. */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/base64.h>

#include "private/crypto.h"

struct cp_sha256_ctx {
    gnutls_hash_hd_t hd;
};

certpin_status cp_sha256(const unsigned char *data, size_t len, unsigned char out[32])
{
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) == 0 ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

cp_sha256_ctx *cp_sha256_new(void)
{
    cp_sha256_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    if (gnutls_hash_init(&c->hd, GNUTLS_DIG_SHA256) != 0) {
        /* GnuTLS 3.7 keeps the handle it allocated when the digest's own initialisation fails
         * (an allocation failure: tests/unit/test_oom.c): free it (c->hd is NULL when it made
         * none). */
        gnutls_free(c->hd);
        free(c);
        return NULL;
    }
    return c;
}

certpin_status cp_sha256_update(cp_sha256_ctx *c, const void *data, size_t len)
{
    return gnutls_hash(c->hd, data, len) == 0 ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

certpin_status cp_sha256_final(cp_sha256_ctx *c, unsigned char out[32])
{
    gnutls_hash_output(c->hd, out);
    return CERTPIN_OK;
}

void cp_sha256_free(cp_sha256_ctx *c)
{
    if (c == NULL) {
        return;
    }
    gnutls_hash_deinit(c->hd, NULL);
    free(c);
}

certpin_status cp_base64_encode32(const unsigned char in[32], char out[45])
{
    base64_encode_raw(out, 32, in); /* exactly BASE64_ENCODE_RAW_LENGTH(32) = 44 characters */
    out[44] = '\0';
    return CERTPIN_OK;
}

certpin_status cp_base64_decode(const char *text, size_t text_len, unsigned char *out,
                                size_t out_cap, size_t *out_len)
{
    struct base64_decode_ctx ctx;
    uint8_t buf[192];
    size_t n = 0;

    *out_len = 0;
    if (BASE64_DECODE_LENGTH(text_len) > sizeof(buf)) {
        return CERTPIN_E_PIN;
    }
    /* The form is checked (see private/crypto.h). nettle refuses, at the '=', text whose unused
     * bits are set; the core decodes such text to name its canonical form in the error
     * (certpin_pin_parse), as the OpenSSL and mbedTLS decoders let it. So the padding is left
     * out, the unused bits stay in the context, and base64_decode_final (which says whether any
     * are left) is not asked: the core's re-encoding refuses non-canonical text. */
    while (text_len > 0 && text[text_len - 1] == '=') {
        text_len--;
    }
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &n, buf, text_len, text) || n > out_cap) {
        return CERTPIN_E_PIN;
    }
    memcpy(out, buf, n);
    *out_len = n;
    return CERTPIN_OK;
}

const char *cp_crypto_backend(void) { return "GnuTLS " GNUTLS_VERSION; }
