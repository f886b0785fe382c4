/* The certpin command: certificates, keys and CSRs read from files with OpenSSL's parsers (PEM
 * blocks with PEM_read_bio, then d2i_* on the block's DER; DER files with d2i_* directly). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "cli.h"

/* What certpin says instead of reading an encrypted key: it never asks for passphrases. */
#define ENCRYPTED_HINT                                                                             \
    "certpin does not decrypt keys; give it the public key instead "                               \
    "(openssl pkey -in KEY -pubout)"

static int push(cli_items *items, cli_item item)
{
    if (items->count == items->cap) {
        size_t cap = items->cap == 0 ? 8 : items->cap * 2;
        cli_item *bigger = realloc(items->items, cap * sizeof(*bigger));
        if (bigger == NULL) {
            return -1;
        }
        items->items = bigger;
        items->cap = cap;
    }
    items->items[items->count++] = item;
    return 0;
}

static void item_free(cli_item *item)
{
    X509_free(item->cert);
    X509_REQ_free(item->csr);
    EVP_PKEY_free(item->pkey);
    memset(item, 0, sizeof(*item));
}

void cli_items_free(cli_items *items)
{
    size_t i;
    for (i = 0; i < items->count; i++) {
        item_free(&items->items[i]);
    }
    free(items->items);
    memset(items, 0, sizeof(*items));
}

/* OpenSSL's reason for the last failure, then a clean error queue. */
static const char *openssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r != NULL ? r : "not valid DER";
}

/* Appends item, or frees it when out of memory. Returns 1 (one item), or -1. */
static int add(cli_items *items, const char *file, cli_item item)
{
    if (push(items, item) != 0) {
        item_free(&item);
        cli_error("%s: out of memory", file);
        return -1;
    }
    return 1;
}

/* Every parser below must have used exactly the bytes it was given. */
static int check_consumed(const char *file, int block, const char *what,
                          const unsigned char *end_parsed, const unsigned char *end)
{
    if (end_parsed != end) {
        cli_error("%s: PEM block %d (%s): %ld bytes after the end of the DER object", file, block,
                  what, (long)(end - end_parsed));
        return -1;
    }
    return 0;
}

/* A PEM private key in a traditional format ("RSA PRIVATE KEY", ...). */
static EVP_PKEY *traditional_key(const char *name, const unsigned char **p, long len)
{
    int type;
    if (strcmp(name, "RSA PRIVATE KEY") == 0) {
        type = EVP_PKEY_RSA;
    } else if (strcmp(name, "EC PRIVATE KEY") == 0) {
        type = EVP_PKEY_EC;
    } else {
        type = EVP_PKEY_DSA;
    }
    return d2i_PrivateKey(type, NULL, p, len);
}

static int is_traditional_key(const char *name)
{
    return strcmp(name, "RSA PRIVATE KEY") == 0 || strcmp(name, "EC PRIVATE KEY") == 0 ||
           strcmp(name, "DSA PRIVATE KEY") == 0;
}

static int is_parameters(const char *name)
{
    size_t n = strlen(name);
    return n >= 11 && strcmp(name + n - 11, " PARAMETERS") == 0;
}

/* Decodes one PEM block. Returns 1 when it added an item, 0 when it skipped the block (parameters,
 * CRLs, ...), -1 after printing an error. */
static int decode_block(const char *file, int block, const char *name, const char *header,
                        const unsigned char *data, long len, cli_items *items)
{
    const unsigned char *p = data;
    const unsigned char *end = data + len;
    cli_item item;

    memset(&item, 0, sizeof(item));
    if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
        (is_traditional_key(name) && strstr(header, "ENCRYPTED") != NULL)) {
        cli_error("%s: PEM block %d (%s): the private key is encrypted; %s", file, block, name,
                  ENCRYPTED_HINT);
        return -1;
    }
    if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0 ||
        strcmp(name, "TRUSTED CERTIFICATE") == 0) {
        item.kind = CLI_ITEM_CERT;
        item.cert = strcmp(name, "TRUSTED CERTIFICATE") == 0 ? d2i_X509_AUX(NULL, &p, len)
                                                             : d2i_X509(NULL, &p, len);
        if (item.cert == NULL) {
            cli_error("%s: PEM block %d (%s): not a valid certificate: %s", file, block, name,
                      openssl_reason());
            return -1;
        }
    } else if (strcmp(name, "CERTIFICATE REQUEST") == 0 ||
               strcmp(name, "NEW CERTIFICATE REQUEST") == 0) {
        item.kind = CLI_ITEM_CSR;
        item.csr = d2i_X509_REQ(NULL, &p, len);
        if (item.csr == NULL) {
            cli_error("%s: PEM block %d (%s): not a valid CSR: %s", file, block, name,
                      openssl_reason());
            return -1;
        }
    } else if (strcmp(name, "PUBLIC KEY") == 0 || strcmp(name, "RSA PUBLIC KEY") == 0) {
        item.kind = CLI_ITEM_PUBKEY;
        item.pkey = strcmp(name, "PUBLIC KEY") == 0 ? d2i_PUBKEY(NULL, &p, len)
                                                    : d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
        if (item.pkey == NULL) {
            cli_error("%s: PEM block %d (%s): not a valid public key: %s", file, block, name,
                      openssl_reason());
            return -1;
        }
    } else if (strcmp(name, "PRIVATE KEY") == 0 || is_traditional_key(name)) {
        item.kind = CLI_ITEM_PRIVKEY;
        if (strcmp(name, "PRIVATE KEY") == 0) {
            PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
            if (p8 != NULL) {
                item.pkey = EVP_PKCS82PKEY(p8);
                PKCS8_PRIV_KEY_INFO_free(p8);
            }
        } else {
            item.pkey = traditional_key(name, &p, len);
        }
        if (item.pkey == NULL) {
            cli_error("%s: PEM block %d (%s): not a valid private key: %s", file, block, name,
                      openssl_reason());
            return -1;
        }
    } else if (strcmp(name, "OPENSSH PRIVATE KEY") == 0) {
        cli_error("%s: PEM block %d (%s): OpenSSH's own key format is not read; give certpin the "
                  "public key as PEM (ssh-keygen -e -m PKCS8 -f KEY)",
                  file, block, name);
        return -1;
    } else {
        if (!is_parameters(name)) {
            fprintf(stderr,
                    "certpin: %s: PEM block %d (%s) skipped: not a certificate, key or CSR\n", file,
                    block, name);
        }
        return 0;
    }
    ERR_clear_error();
    if (check_consumed(file, block, name, p, end) != 0) {
        item_free(&item);
        return -1;
    }
    return add(items, file, item);
}

/* Decodes the PEM blocks of bio. Returns the number of errors; *blocks is the number of blocks
 * seen (0: not PEM at all), *added the number of items. */
static int decode_pem(const char *file, BIO *bio, cli_items *items, int *blocks, int *added)
{
    int errors = 0;

    *blocks = 0;
    *added = 0;
    for (;;) {
        char *name = NULL;
        char *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        int rc;

        if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            cli_error("%s: PEM block %d: malformed PEM: %s", file, *blocks + 1, openssl_reason());
            errors++;
            break;
        }
        ++*blocks;
        rc = decode_block(file, *blocks, name, header, data, len, items);
        if (rc < 0) {
            errors++;
        } else {
            *added += rc;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    return errors;
}

/* An X509_SIG whose algorithm is a password-based encryption scheme: an encrypted PKCS#8 key. */
static int is_encrypted_pkcs8(const unsigned char **p, long len)
{
    X509_SIG *sig = d2i_X509_SIG(NULL, p, len);
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;
    int pbe;

    if (sig == NULL) {
        return 0;
    }
    X509_SIG_get0(sig, &alg, NULL);
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    pbe = EVP_PBE_find(EVP_PBE_TYPE_OUTER, OBJ_obj2nid(obj), NULL, NULL, NULL);
    X509_SIG_free(sig);
    return pbe;
}

/* The DER object at *p, up to q, was item: moves *p past it and keeps the item. */
static int found(cli_items *items, const char *file, const unsigned char **p,
                 const unsigned char *q, cli_item item)
{
    ERR_clear_error();
    *p = q;
    return add(items, file, item);
}

/* Decodes one DER object at *p (len bytes left) and moves *p past it. Returns 1 (an item), 0 (not
 * recognised: *p unchanged), -1 (an error printed; *p moved past the object). The order matters
 * only for speed: each parser refuses the others' structures. */
static int decode_der_one(const char *file, size_t offset, const unsigned char **p, long len,
                          cli_items *items)
{
    const unsigned char *q;
    cli_item item;

    memset(&item, 0, sizeof(item));
    q = *p;
    item.kind = CLI_ITEM_CERT;
    if ((item.cert = d2i_X509(NULL, &q, len)) != NULL) {
        return found(items, file, p, q, item);
    }
    q = *p;
    item.kind = CLI_ITEM_CSR;
    if ((item.csr = d2i_X509_REQ(NULL, &q, len)) != NULL) {
        return found(items, file, p, q, item);
    }
    q = *p;
    item.kind = CLI_ITEM_PUBKEY;
    if ((item.pkey = d2i_PUBKEY(NULL, &q, len)) != NULL) {
        return found(items, file, p, q, item);
    }
    q = *p;
    if (is_encrypted_pkcs8(&q, len)) {
        ERR_clear_error();
        *p = q;
        cli_error("%s: DER object at offset %zu: the private key is encrypted (PKCS#8); %s", file,
                  offset, ENCRYPTED_HINT);
        return -1;
    }
    q = *p;
    item.kind = CLI_ITEM_PRIVKEY;
    if ((item.pkey = d2i_AutoPrivateKey(NULL, &q, len)) != NULL) {
        return found(items, file, p, q, item);
    }
    q = *p;
    item.kind = CLI_ITEM_PUBKEY; /* PKCS#1 RSAPublicKey */
    if ((item.pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, len)) != NULL) {
        return found(items, file, p, q, item);
    }
    ERR_clear_error();
    return 0;
}

static int decode_der(const char *file, const unsigned char *buf, size_t len, cli_items *items,
                      int *added)
{
    const unsigned char *p = buf;
    int errors = 0;

    *added = 0;
    while ((size_t)(p - buf) < len) {
        size_t offset = (size_t)(p - buf);
        int rc = decode_der_one(file, offset, &p, (long)(len - offset), items);
        if (rc == 0) {
            if (offset > 0) {
                cli_error("%s: %zu bytes at offset %zu are not a certificate, key or CSR", file,
                          len - offset, offset);
                errors++;
            }
            break;
        }
        if (rc < 0) {
            errors++;
        } else {
            *added += rc;
        }
    }
    return errors;
}

int cli_items_read(const char *path, cli_items *items)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int errors;

    if (cli_read_file(path, &buf, &len) != 0) {
        return -1;
    }
    errors = cli_items_parse(cli_input_name(path), buf, len, items);
    free(buf);
    return errors;
}

int cli_items_parse(const char *file, const unsigned char *buf, size_t len, cli_items *items)
{
    BIO *bio;
    int blocks = 0;
    int added = 0;
    int errors;

    if (len == 0) {
        cli_error("%s: empty file: expected certificates, public keys, private keys or CSRs "
                  "(PEM or DER)",
                  file);
        return 1;
    }
    if (len > INT_MAX) {
        cli_error("%s: too large", file);
        return 1;
    }
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL) {
        cli_error("%s: out of memory", file);
        return 1;
    }
    errors = decode_pem(file, bio, items, &blocks, &added);
    BIO_free(bio);
    if (blocks == 0 && errors == 0) {
        errors = decode_der(file, buf, len, items, &added);
    }
    if (added == 0 && errors == 0) {
        cli_error("%s: no certificate, public key, private key or CSR found: expected PEM "
                  "(-----BEGIN CERTIFICATE-----, PUBLIC KEY, PRIVATE KEY, CERTIFICATE REQUEST, "
                  "...) or DER",
                  file);
        errors = 1;
    }
    return errors;
}

const char *cli_item_kind_str(cli_item_kind kind)
{
    switch (kind) {
    case CLI_ITEM_CERT: return "certificate";
    case CLI_ITEM_PUBKEY: return "public-key";
    case CLI_ITEM_PRIVKEY: return "private-key";
    case CLI_ITEM_CSR: return "csr";
    default: return "?";
    }
}

static certpin_status pin_of_der(unsigned char *der, int der_len,
                                 unsigned char pin[CERTPIN_PIN_LEN])
{
    certpin_status st;
    if (der_len <= 0 || der == NULL) {
        ERR_clear_error();
        return CERTPIN_E_CRYPTO;
    }
    st = certpin_pin_from_spki(der, (size_t)der_len, pin);
    OPENSSL_free(der);
    return st;
}

certpin_status cli_item_pin(const cli_item *item, unsigned char pin[CERTPIN_PIN_LEN])
{
    unsigned char *der = NULL;
    int der_len;

    switch (item->kind) {
    case CLI_ITEM_CERT: return certpin_openssl_cert_pin(item->cert, pin);
    case CLI_ITEM_CSR: {
        X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(item->csr);
        if (xpk == NULL) {
            return CERTPIN_E_CRYPTO;
        }
        der_len = i2d_X509_PUBKEY(xpk, &der);
        return pin_of_der(der, der_len, pin);
    }
    case CLI_ITEM_PUBKEY:
    case CLI_ITEM_PRIVKEY:
        der_len = i2d_PUBKEY(item->pkey, &der);
        return pin_of_der(der, der_len, pin);
    default: return CERTPIN_E_INTERNAL;
    }
}

void cli_name_rfc2253(const X509_NAME *name, char *out, size_t out_len)
{
    /* RFC 2253 escaping of specials and control characters, but UTF-8 kept as it is. */
    const unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    if (bio == NULL || name == NULL || X509_NAME_print_ex(bio, name, 0, flags) < 0) {
        BIO_free(bio);
        ERR_clear_error();
        (void)snprintf(out, out_len, "(unprintable subject)");
        return;
    }
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL) {
        (void)snprintf(out, out_len, "(empty subject)");
    } else {
        (void)snprintf(out, out_len, "%.*s", n > INT_MAX ? INT_MAX : (int)n, data);
    }
    BIO_free(bio);
}

void cli_key_describe(EVP_PKEY *pkey, char *out, size_t out_len)
{
    const char *type = EVP_PKEY_get0_type_name(pkey);

    if (type == NULL) {
        type = OBJ_nid2sn(EVP_PKEY_get_base_id(pkey));
    }
    if (type == NULL) {
        type = "unknown";
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[80];
        size_t glen = 0;
        const char *nist = NULL;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1) {
            (void)snprintf(group, sizeof(group), "explicit parameters");
        } else {
            nist = EC_curve_nid2nist(OBJ_txt2nid(group));
        }
        ERR_clear_error();
        (void)snprintf(out, out_len, "EC %s", nist != NULL ? nist : group);
    } else if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS") ||
               EVP_PKEY_is_a(pkey, "DSA")) {
        (void)snprintf(out, out_len, "%s %d", type, EVP_PKEY_get_bits(pkey));
    } else {
        (void)snprintf(out, out_len, "%s", type);
    }
}

void cli_item_describe(const cli_item *item, char *out, size_t out_len)
{
    char buf[1024];

    switch (item->kind) {
    case CLI_ITEM_CERT: cli_name_rfc2253(X509_get_subject_name(item->cert), out, out_len); break;
    case CLI_ITEM_CSR:
        cli_name_rfc2253(X509_REQ_get_subject_name(item->csr), buf, sizeof(buf));
        (void)snprintf(out, out_len, "CSR %s", buf);
        break;
    case CLI_ITEM_PUBKEY:
    case CLI_ITEM_PRIVKEY:
        cli_key_describe(item->pkey, buf, sizeof(buf));
        (void)snprintf(out, out_len, "%s key %s",
                       item->kind == CLI_ITEM_PUBKEY ? "public" : "private", buf);
        break;
    default: (void)snprintf(out, out_len, "?"); break;
    }
}
