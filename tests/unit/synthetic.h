/* Synthetic keys and chains for the core's unit tests. The core only hashes a certificate's SPKI
 * bytes, so a key here is a name: its "SPKI" is the bytes "synthetic-spki:<name>", and its pin is
 * SHA-256 over them. A chain is written "leaf int root"; a policy template names pins "@name".
 * Every helper fails the running cmocka test on misuse. */
#ifndef CERTPIN_TEST_SYNTHETIC_H
#define CERTPIN_TEST_SYNTHETIC_H

#include <stddef.h>

#include "certpin/certpin.h"

#define CHECK(name, cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("case \"%s\": %s\n", (name), #cond);                                       \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define MAX_TEST_CHAIN 20

/* Writes the SPKI bytes of key name into out[cap]; returns their length. */
size_t spki_of(const char *name, unsigned char *out, size_t cap);
/* The pin of key name, as bytes and as policy text (sha256/<base64>). */
void raw_pin_of(const char *name, unsigned char pin[CERTPIN_PIN_LEN]);
void pin_of(const char *name, char out[CERTPIN_PIN_STR_MAX]);

typedef struct test_chain {
    certpin_cert certs[MAX_TEST_CHAIN];
    unsigned char spki[MAX_TEST_CHAIN][64];
    char subject[MAX_TEST_CHAIN][48];
    size_t len;
} test_chain;

/* Fills ch from "name name ...", leaf first; each certificate's subject is "CN=name". */
void make_chain(test_chain *ch, const char *spec);
/* Copies tmpl into out[cap] with every "@name" replaced by the pin of key name. */
void expand(const char *tmpl, char *out, size_t cap);
/* Loads the policy tmpl (expanded, at most 8 KiB) under the name source; fails the test (printing
 * why) when it does not load. */
certpin_policy *load_expanded(const char *source, const char *tmpl);

#endif /* CERTPIN_TEST_SYNTHETIC_H */
