/* Fuzz target: the check itself with arbitrary chains against a fixed policy. The input is a
 * host name, a NUL, then certificates as length-prefixed SPKI blobs (one length byte each).
 * Exercises certpin_check (host canonicalisation at check time, lookup, deny pins of every
 * matching entry, expiry, report-only, the chain bound) and certpin_result_explain. Properties
 * (an oracle computed here from the chain's pins): accepted-pinned only when a certificate on the
 * chain has a pin of the deciding entry; rejected-denied only when one has a denied pin; every
 * verdict is one of the documented ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certpin/certpin.h"

#define MAX_CERTS 24

/* The pins of the SPKI blobs "k1".."k4" in the policy below. */
static const char policy_text[] =
    "{\"certpin\": 1, \"unpinned\": \"allow\", \"domains\": ["
    "{\"host\": \"api.example.com\", \"pins\": [\"@k1\", \"@k2\"]},"
    "{\"host\": \"**.example.com\", \"pins\": [\"@k3\", \"@k2\"], \"deny\": [\"@k4\"]},"
    "{\"host\": \"*.ro.example.com\", \"mode\": \"report-only\", \"pins\": [\"@k1\", \"@k3\"]},"
    "{\"host\": \"old.example.com\", \"expires\": \"2020-01-01\", \"pins\": [\"@k1\", \"@k3\"]},"
    "{\"host\": \"127.0.0.1\", \"pins\": [\"@k1\", \"@k2\"]}]}";

static certpin_policy *policy;
static certpin_result *result;
static unsigned char key_pins[5][CERTPIN_PIN_LEN];

static void init(void)
{
    char json[2048];
    size_t o = 0;
    const char *p;
    int i;
    for (i = 1; i <= 4; i++) {
        char spki[3] = {'k', (char)('0' + i), '\0'};
        if (certpin_pin_from_spki((const unsigned char *)spki, 2, key_pins[i]) != CERTPIN_OK) {
            abort();
        }
    }
    for (p = policy_text; *p != '\0'; p++) {
        if (*p == '@') {
            char text[CERTPIN_PIN_STR_MAX];
            int k = p[2] - '0';
            p += 2;
            if (certpin_pin_format(key_pins[k], CERTPIN_PIN_OKHTTP, text, sizeof(text)) !=
                CERTPIN_OK) {
                abort();
            }
            memcpy(json + o, text, strlen(text));
            o += strlen(text);
            continue;
        }
        json[o++] = *p;
    }
    json[o] = '\0';
    policy = certpin_policy_load_buffer(json, o, "fuzz-policy.json", NULL, NULL);
    result = certpin_result_new();
    if (policy == NULL || result == NULL) {
        abort();
    }
}

static int chain_has(const certpin_cert *chain, size_t n, const unsigned char *pin)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char got[CERTPIN_PIN_LEN];
        if (certpin_pin_from_spki(chain[i].spki, chain[i].spki_len, got) == CERTPIN_OK &&
            memcmp(got, pin, CERTPIN_PIN_LEN) == 0) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    certpin_cert chain[MAX_CERTS];
    const uint8_t *nul = memchr(data, '\0', size);
    char host[300];
    size_t n = 0;
    size_t at;
    certpin_verdict v;
    const certpin_entry *e;
    if (policy == NULL) {
        init();
    }
    if (nul == NULL || (size_t)(nul - data) >= sizeof(host)) {
        return 0;
    }
    memcpy(host, data, (size_t)(nul - data) + 1);
    at = (size_t)(nul - data) + 1;
    while (at < size && n < MAX_CERTS) {
        size_t len = data[at++];
        if (len > size - at) {
            len = size - at;
        }
        chain[n].spki = data + at;
        chain[n].spki_len = len;
        chain[n].subject = NULL;
        n++;
        at += len;
    }
    (void)certpin_check(policy, host, 443, chain, n, 1800000000, result);
    v = certpin_result_verdict(result);
    e = certpin_result_entry(result);
    if (v == CERTPIN_ACCEPTED_PINNED) {
        size_t i;
        int any = 0;
        if (e == NULL) {
            abort();
        }
        for (i = 0; i < certpin_entry_pin_count(e); i++) {
            any |= chain_has(chain, n, certpin_entry_pin(e, i));
        }
        if (!any) {
            abort(); /* accepted without a pinned key on the chain */
        }
    }
    if (v == CERTPIN_REJECTED_DENIED && !chain_has(chain, n, key_pins[4])) {
        abort();
    }
    if (chain_has(chain, n, key_pins[4]) && v != CERTPIN_REJECTED_ERROR) {
        /* the denied key under the **.example.com tree: refused whatever else decides */
        char canon[CERTPIN_HOST_MAX];
        size_t len;
        if (certpin_host_canonical(host, canon, NULL) == CERTPIN_OK) {
            len = strlen(canon);
            if ((strcmp(canon, "example.com") == 0 ||
                 (len > 12 && strcmp(canon + len - 12, ".example.com") == 0)) &&
                v != CERTPIN_REJECTED_DENIED) {
                abort();
            }
        }
    }
    (void)certpin_result_explain(result);
    return 0;
}
