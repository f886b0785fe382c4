/* The core's crypto interface: SHA-256 and base64, nothing else. One backend per build, chosen by
 * the flavour (CERTPIN_FLAVOR): src/crypto/crypto_openssl.c (OpenSSL EVP), crypto_mbedtls.c
 * (mbedTLS), crypto_gnutls.c (GnuTLS and nettle). The core calls only these functions, so it
 * includes no TLS library header, and adapters, which hand the core bytes, work with any of them.
 */
#ifndef CP_CRYPTO_H
#define CP_CRYPTO_H

#include <stddef.h>

#include "certpin/core.h"

/* SHA-256 of data into out. Thread-safe. */
certpin_status cp_sha256(const unsigned char *data, size_t len, unsigned char out[32]);

/* Several SHA-256 in a row on one thread (the keys of a chain), paying once what cp_sha256 pays
 * per call (finding the thread's context):
 *   cp_sha256_run_begin(&run);               (its failure is returned again by every _next)
 *   cp_sha256_run_next(&run, data, len, out); ...
 * A run holds nothing to release. A run that succeeds leaves the crypto library's error queue as it
 * was; one that fails may leave the library's reasons on it (cp_sha256 does not: it keeps the queue
 * as it found it). */
typedef struct cp_sha256_run {
    void *ctx;
    certpin_status status;
} cp_sha256_run;
certpin_status cp_sha256_run_begin(cp_sha256_run *run);
certpin_status cp_sha256_run_next(cp_sha256_run *run, const unsigned char *data, size_t len,
                                  unsigned char out[32]);

/* Incremental SHA-256 for the policy identity. */
typedef struct cp_sha256_ctx cp_sha256_ctx;
cp_sha256_ctx *cp_sha256_new(void);
certpin_status cp_sha256_update(cp_sha256_ctx *c, const void *data, size_t len);
certpin_status cp_sha256_final(cp_sha256_ctx *c, unsigned char out[32]);
void cp_sha256_free(cp_sha256_ctx *c);

/* Standard base64 (RFC 4648 section 4, with padding) of 32 bytes: writes 44 characters and a NUL
 * into out (at least 45 bytes). */
certpin_status cp_base64_encode32(const unsigned char in[32], char out[45]);

/* Decodes standard base64 text into out. The caller has checked its form (RFC 4648 section 4: a
 * multiple of four characters of the standard alphabet, '=' padding only at the end; see
 * src/core/pin.c), which every backend's decoder is more lenient about. Sets *out_len to the
 * decoded length. Returns CERTPIN_E_PIN when the backend refuses text or it would not fit in
 * out_cap. */
certpin_status cp_base64_decode(const char *text, size_t text_len, unsigned char *out,
                                size_t out_cap, size_t *out_len);

/* A name for the backend in messages ("OpenSSL 3.0.11", "mbed TLS 2.28.3", "GnuTLS 3.7.9"). */
const char *cp_crypto_backend(void);

#endif /* CP_CRYPTO_H */
