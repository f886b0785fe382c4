/* Fuzz target: a policy file. Exercises certpin_policy_load_buffer (jansson parsing, every value
 * check of policy_json.c and policy.c, host patterns, pins, times, the public suffix check, the
 * locator of locate.c with yajl), in strict (lint) and application mode, then lookups and
 * certpin_policy_id_hex on what loaded. Properties: a refused policy has at least one error
 * finding; a loaded one has none; loading is deterministic (the same text gives the same id);
 * jansson and yajl never read a text differently (crosscheck.c: with no allocation failing, a
 * "read-mismatch" is a disagreement between the two parsers, found by differential fuzzing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certpin/certpin.h"

static const char *const hosts[] = {"api.example.com",
                                    "a.b.example.com",
                                    "example.com",
                                    "127.0.0.1",
                                    "::1",
                                    "xn--fa-hia.de",
                                    "com"};

static void use(const certpin_policy *p)
{
    size_t i;
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        (void)certpin_policy_lookup(p, hosts[i], NULL);
    }
    (void)certpin_policy_id_hex(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int strict;
    char first_id[65] = "";
    for (strict = 0; strict <= 1; strict++) {
        certpin_load_options opts;
        certpin_error err;
        certpin_policy *p;
        memset(&opts, 0, sizeof(opts));
        opts.strict = strict;
        opts.now = 1800000000;
        opts.diags = certpin_diags_new();
        if (opts.diags == NULL) {
            return 0;
        }
        p = certpin_policy_load_buffer((const char *)data, size, "fuzz.json", &opts, &err);
        for (size_t i = 0; i < certpin_diags_count(opts.diags); i++) {
            if (strcmp(certpin_diags_get(opts.diags, i)->code, "read-mismatch") == 0) {
                abort(); /* jansson and yajl disagree on this text */
            }
        }
        if (p == NULL && err.status != CERTPIN_E_NOMEM && certpin_diags_errors(opts.diags) == 0) {
            abort(); /* refused without saying why */
        }
        if (p != NULL) {
            if (certpin_diags_errors(opts.diags) != 0) {
                abort(); /* loaded although an error was found */
            }
            use(p);
            if (first_id[0] != '\0' && strcmp(first_id, certpin_policy_id_hex(p)) != 0) {
                abort(); /* strictness changed the rules */
            }
            memcpy(first_id, certpin_policy_id_hex(p), sizeof(first_id));
            certpin_policy_free(p);
        }
        certpin_diags_free(opts.diags);
    }
    return 0;
}
