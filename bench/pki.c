/* An in-memory PKI for the benchmark: three certificates (root, intermediate, leaf) with P-256 or
 * RSA-2048 keys, made with OpenSSL at start-up. Nothing is written to disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"
#include "certpin/certpin.h"

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    int ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *host, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name;
    X509V3_CTX v3;
    char san[300];
    int ok;
    if (x == NULL) {
        return NULL;
    }
    name = X509_get_subject_name(x);
    ok = X509_set_version(x, X509_VERSION_3) == 1 &&
         ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) != NULL &&
         X509_set_pubkey(x, key) == 1 &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"certpin bench",
                                    -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) == 1 &&
         X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) == 1;
    if (ok) {
        X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
        ok = add_ext(x, &v3, NID_subject_key_identifier, "hash") &&
             add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
    }
    if (ok && host == NULL) {
        ok = add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else if (ok) {
        (void)snprintf(san, sizeof(san), "DNS:%s", host);
        ok = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, &v3, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
             add_ext(x, &v3, NID_ext_key_usage, "serverAuth") &&
             add_ext(x, &v3, NID_subject_alt_name, san);
    }
    if (!ok || X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static EVP_PKEY *make_key(const char *keytype)
{
    if (strcmp(keytype, "P-256") == 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    if (strcmp(keytype, "RSA-2048") == 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    }
    return NULL;
}

int bench_chain_make(bench_chain *c, const char *keytype, const char *host)
{
    static const char *const names[3] = {NULL, "certpin bench intermediate CA",
                                         "certpin bench root CA"};
    BIO *mem;
    char *pem;
    long pem_len;
    int i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < 3; i++) {
        c->key[i] = make_key(keytype);
        if (c->key[i] == NULL) {
            goto fail;
        }
    }
    c->cert[2] = make_cert(c->key[2], names[2], NULL, NULL, NULL, 1);
    c->cert[1] =
        c->cert[2] != NULL ? make_cert(c->key[1], names[1], c->cert[2], c->key[2], NULL, 2) : NULL;
    c->cert[0] =
        c->cert[1] != NULL ? make_cert(c->key[0], host, c->cert[1], c->key[1], host, 3) : NULL;
    if (c->cert[0] == NULL) {
        goto fail;
    }
    for (i = 0; i < 3; i++) {
        unsigned char pin[CERTPIN_PIN_LEN];
        unsigned char *p = NULL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->cert[i]), &p);
        if (n <= 0) {
            goto fail;
        }
        c->spki[i] = p;
        c->spki_len[i] = (size_t)n;
        if (X509_NAME_oneline(X509_get_subject_name(c->cert[i]), c->subject[i],
                              (int)sizeof(c->subject[i])) == NULL ||
            certpin_pin_from_spki(c->spki[i], c->spki_len[i], pin) != CERTPIN_OK ||
            certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, c->pin[i], sizeof(c->pin[i])) !=
                CERTPIN_OK ||
            (i == 0 && certpin_pin_format(pin, CERTPIN_PIN_CURL, c->curl_pin,
                                          sizeof(c->curl_pin)) != CERTPIN_OK)) {
            goto fail;
        }
    }
    mem = BIO_new(BIO_s_mem());
    if (mem == NULL || PEM_write_bio_X509(mem, c->cert[2]) != 1 ||
        (pem_len = BIO_get_mem_data(mem, &pem)) <= 0 ||
        (c->root_pem = malloc((size_t)pem_len + 1)) == NULL) {
        BIO_free(mem);
        goto fail;
    }
    memcpy(c->root_pem, pem, (size_t)pem_len);
    c->root_pem[pem_len] = '\0';
    c->root_pem_len = (size_t)pem_len;
    BIO_free(mem);
    return 1;
fail:
    (void)fprintf(stderr, "certpin-bench: cannot make a %s chain\n", keytype);
    ERR_print_errors_fp(stderr);
    bench_chain_free(c);
    return 0;
}

void bench_chain_free(bench_chain *c)
{
    int i;
    for (i = 0; i < 3; i++) {
        X509_free(c->cert[i]);
        EVP_PKEY_free(c->key[i]);
        OPENSSL_free(c->spki[i]);
    }
    free(c->root_pem);
    memset(c, 0, sizeof(*c));
}

void bench_random_pin(uint64_t *state, char out[72])
{
    unsigned char bytes[CERTPIN_PIN_LEN];
    size_t i;
    for (i = 0; i < sizeof(bytes); i += 8) {
        uint64_t r = bench_rand(state);
        memcpy(bytes + i, &r, 8);
    }
    if (certpin_pin_format(bytes, CERTPIN_PIN_OKHTTP, out, 72) != CERTPIN_OK) {
        out[0] = '\0';
    }
}

certpin_policy *bench_pinned_policy(const bench_chain *chain, const char *host, uint64_t seed)
{
    char backup[72];
    const char *pins[2];
    certpin_domain d;
    certpin_error err;
    certpin_builder *b = certpin_builder_new();
    certpin_policy *p = NULL;
    bench_random_pin(&seed, backup);
    pins[0] = chain->pin[1];
    pins[1] = backup;
    memset(&d, 0, sizeof(d));
    d.host = host;
    d.pins = pins;
    d.pin_count = 2;
    if (b != NULL && certpin_builder_add(b, &d, &err) == CERTPIN_OK) {
        p = certpin_builder_build(b, &err);
    }
    certpin_builder_free(b);
    return p;
}
