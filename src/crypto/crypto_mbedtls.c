/* The mbedTLS crypto backend (mbedTLS 2.28): SHA-256 from mbedtls_sha256_*_ret, base64 from
 * mbedtls_base64_*. A library built in this flavour links no OpenSSL. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "private/crypto.h"

struct cp_sha256_ctx {
    mbedtls_sha256_context sha;
};

certpin_status cp_sha256(const unsigned char *data, size_t len, unsigned char out[32])
{
    return mbedtls_sha256_ret(data, len, out, 0) == 0 ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

cp_sha256_ctx *cp_sha256_new(void)
{
    cp_sha256_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    mbedtls_sha256_init(&c->sha);
    if (mbedtls_sha256_starts_ret(&c->sha, 0) != 0) {
        cp_sha256_free(c);
        return NULL;
    }
    return c;
}

certpin_status cp_sha256_update(cp_sha256_ctx *c, const void *data, size_t len)
{
    return mbedtls_sha256_update_ret(&c->sha, data, len) == 0 ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

certpin_status cp_sha256_final(cp_sha256_ctx *c, unsigned char out[32])
{
    return mbedtls_sha256_finish_ret(&c->sha, out) == 0 ? CERTPIN_OK : CERTPIN_E_CRYPTO;
}

void cp_sha256_free(cp_sha256_ctx *c)
{
    if (c == NULL) {
        return;
    }
    mbedtls_sha256_free(&c->sha);
    free(c);
}

certpin_status cp_base64_encode32(const unsigned char in[32], char out[45])
{
    size_t olen = 0;
    /* mbedtls_base64_encode writes the NUL too, and wants room for it. */
    if (mbedtls_base64_encode((unsigned char *)out, 45, &olen, in, 32) != 0 || olen != 44) {
        return CERTPIN_E_CRYPTO;
    }
    return CERTPIN_OK;
}

certpin_status cp_base64_decode(const char *text, size_t text_len, unsigned char *out,
                                size_t out_cap, size_t *out_len)
{
    size_t olen = 0;
    *out_len = 0;
    /* MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL as well as INVALID_CHARACTER: either way not a pin. */
    if (mbedtls_base64_decode(out, out_cap, &olen, (const unsigned char *)text, text_len) != 0) {
        return CERTPIN_E_PIN;
    }
    *out_len = olen;
    return CERTPIN_OK;
}

const char *cp_crypto_backend(void) { return "mbed TLS " MBEDTLS_VERSION_STRING; }
