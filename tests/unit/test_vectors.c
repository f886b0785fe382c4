/* The library against pins published by others ($CERTPIN_VECTORS, ../shared/vectors; see its
 * README.md). For every certificate: certpin_openssl_cert_pin gives the published pin, and a
 * policy that pins it accepts a chain holding that certificate (accepted-pinned at depth 0).
 * For curl's expect_match=no rows (test2042's deliberately wrong pin): the pin differs, and a
 * policy pinning the wrong pin (and a backup) rejects the chain: rejected-no-match. Skips (77) with
 * a message when the vectors are absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certpin/certpin.h"
#include "certpin/openssl.h"

#define MAX_COLS 16
#define LINE_MAX_LEN 4096

/* A pin no certificate has, as the backup pin of every test policy. */
#define BACKUP_PIN "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static const char *vectors;

typedef struct table {
    char header[LINE_MAX_LEN];
    char *cols[MAX_COLS];
    size_t ncols;
} table;

/* Splits line at tabs in place (strips the line end). */
static size_t split(char *line, char **cols)
{
    size_t n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < MAX_COLS) {
        cols[n++] = p;
        p = strchr(p, '\t');
        if (p == NULL) {
            break;
        }
        *p++ = '\0';
    }
    return n;
}

static int column(const table *t, const char *name)
{
    size_t i;
    for (i = 0; i < t->ncols; i++) {
        if (strcmp(t->cols[i], name) == 0) {
            return (int)i;
        }
    }
    print_error("no column %s\n", name);
    fail();
    return -1;
}

static X509 *load_cert(const char *dir, const char *file)
{
    char path[1024];
    FILE *f;
    X509 *x;
    (void)snprintf(path, sizeof(path), "%s/%s/%s", vectors, dir, file);
    f = fopen(path, "r");
    if (f == NULL) {
        print_error("cannot open %s\n", path);
        fail();
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    (void)fclose(f);
    if (x == NULL) {
        print_error("no certificate in %s\n", path);
        fail();
    }
    return x;
}

/* The verdict of a policy pinning pin (and a backup) for api.example.com, on a one-certificate
 * chain holding x. */
static certpin_verdict verdict_for(X509 *x, const char *pin)
{
    char json[512];
    certpin_error err;
    certpin_policy *p;
    certpin_result *r = certpin_result_new();
    certpin_cert cert;
    unsigned char *der = NULL;
    int len;
    certpin_verdict v;

    assert_non_null(r);
    (void)snprintf(json, sizeof(json),
                   "{\"certpin\": 1, \"domains\": [{\"host\": \"api.example.com\", "
                   "\"pins\": [\"%s\", \"" BACKUP_PIN "\"]}]}",
                   pin);
    p = certpin_policy_load_buffer(json, strlen(json), "vectors.json", NULL, &err);
    if (p == NULL) {
        print_error("policy: %s\n", err.text);
        fail();
    }
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    assert_true(len > 0);
    cert.spki = der;
    cert.spki_len = (size_t)len;
    cert.subject = NULL;
    assert_int_equal(certpin_check(p, "api.example.com", 443, &cert, 1, 1700000000, r), CERTPIN_OK);
    v = certpin_result_verdict(r);
    if (v == CERTPIN_ACCEPTED_PINNED) {
        assert_int_equal(certpin_result_depth(r), 0);
    }
    OPENSSL_free(der);
    certpin_result_free(r);
    certpin_policy_free(p);
    return v;
}

static void pin_text(X509 *x, char out[CERTPIN_PIN_STR_MAX])
{
    unsigned char pin[CERTPIN_PIN_LEN];
    assert_int_equal(certpin_openssl_cert_pin(x, pin), CERTPIN_OK);
    assert_int_equal(certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, out, CERTPIN_PIN_STR_MAX),
                     CERTPIN_OK);
}

static FILE *open_table(const char *dir, table *t)
{
    char path[1024];
    FILE *f;
    (void)snprintf(path, sizeof(path), "%s/%s/expected.tsv", vectors, dir);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(t->header, sizeof(t->header), f));
    t->ncols = split(t->header, t->cols);
    return f;
}

static void letsencrypt(void **state)
{
    table t;
    char line[LINE_MAX_LEN];
    char *cols[MAX_COLS];
    char got[CERTPIN_PIN_STR_MAX];
    char want[CERTPIN_PIN_STR_MAX + 8];
    FILE *f = open_table("letsencrypt", &t);
    int cf = column(&t, "cert_file");
    int pf = column(&t, "expected_sha256_pin");
    size_t rows = 0;
    (void)state;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = split(line, cols);
        X509 *x;
        if (n <= (size_t)cf || n <= (size_t)pf) {
            continue;
        }
        x = load_cert("letsencrypt", cols[cf]);
        pin_text(x, got);
        (void)snprintf(want, sizeof(want), "sha256/%s", cols[pf]);
        if (strcmp(got, want) != 0) {
            print_error("%s: %s, published %s\n", cols[cf], got, want);
            fail();
        }
        assert_int_equal(verdict_for(x, want), CERTPIN_ACCEPTED_PINNED);
        X509_free(x);
        rows++;
    }
    (void)fclose(f);
    assert_true(rows >= 8);
}

static void curl(void **state)
{
    table t;
    char line[LINE_MAX_LEN];
    char *cols[MAX_COLS];
    char got[CERTPIN_PIN_STR_MAX];
    char want[CERTPIN_PIN_STR_MAX + 8];
    FILE *f = open_table("curl", &t);
    int cf = column(&t, "saved_cert_file");
    int pf = column(&t, "expected_pin");
    int mf = column(&t, "expect_match");
    size_t yes = 0;
    size_t no = 0;
    (void)state;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = split(line, cols);
        X509 *x;
        int match;
        if (n <= (size_t)cf || n <= (size_t)pf || n <= (size_t)mf) {
            continue;
        }
        match = strcmp(cols[mf], "yes") == 0;
        x = load_cert("curl", cols[cf]);
        pin_text(x, got);
        (void)snprintf(want, sizeof(want), "sha256/%s", cols[pf]);
        if ((strcmp(got, want) == 0) != match) {
            print_error("%s: %s, published %s, expect_match %s\n", cols[cf], got, want, cols[mf]);
            fail();
        }
        assert_int_equal(verdict_for(x, want),
                         match ? CERTPIN_ACCEPTED_PINNED : CERTPIN_REJECTED_NO_MATCH);
        X509_free(x);
        if (match) {
            yes++;
        } else {
            no++;
        }
    }
    (void)fclose(f);
    assert_true(yes >= 5);
    assert_true(no >= 5);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(letsencrypt),
        cmocka_unit_test(curl),
    };
    char probe[1024] = "";
    FILE *f;
    vectors = getenv("CERTPIN_VECTORS");
    if (vectors != NULL) {
        (void)snprintf(probe, sizeof(probe), "%s/curl/expected.tsv", vectors);
    }
    if (vectors == NULL || (f = fopen(probe, "r")) == NULL) {
        (void)printf(
            "SKIP: no published vectors at '%s' (set CERTPIN_VECTORS to ../shared/vectors)\n",
            vectors != NULL ? vectors : "");
        return 77;
    }
    (void)fclose(f);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
