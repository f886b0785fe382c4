/* The TLS test harness: the test PKI, policies from PKI pin names, and an in-process OpenSSL server
 * on loopback that records whether any application byte reached it (the server side of every
 * stack's tests). The OpenSSL client is in harness_openssl.h, the other stacks' in their columns
 * of the conformance suite. Every server stops by itself (accept and read time-outs, joined
 * threads); nothing outlives the test process. */
#ifndef CERTPIN_TEST_TLS_HARNESS_H
#define CERTPIN_TEST_TLS_HARNESS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "certpin/certpin.h"

/* ---- shared by the clients ------------------------------------------------------------------ */

#include <sys/socket.h>

/* Says what failed (and OpenSSL's errors) and aborts: a harness failure, not a test result. */
_Noreturn void harness_die(const char *what);
/* Send and receive time-outs on a socket (HARNESS_IO_TIMEOUT_S), so that nothing waits for ever. */
#define HARNESS_IO_TIMEOUT_S 5
void harness_set_timeouts(int fd);
/* A loopback address of family (AF_INET: 127.0.0.1, AF_INET6: ::1) with port. */
socklen_t harness_loopback(int family, int port, struct sockaddr_storage *ss);

/* ---- the PKI (tests/pki/make-pki.sh, found through $CERTPIN_TEST_PKI) ---------------------- */

/* Loads pins.env. Returns 0 (and says why on stderr) when the PKI is missing. */
int pki_init(void);
/* The absolute path of a PKI file, in a static buffer of its own per call slot (4 slots). */
const char *pki_path(const char *file);
/* The pin of a PKI name as pins.env spells it without its prefix ("CA1_INT"); aborts if absent. */
const char *pki_pin(const char *name);
/* The pin of a PKI name as 32 bytes. */
void pki_pin_bytes(const char *name, unsigned char out[CERTPIN_PIN_LEN]);

/* ---- policies -------------------------------------------------------------------------------- */

typedef struct entry_spec {
    const char *host;    /* NULL ends the list */
    const char *pins[4]; /* PKI names; NULL ends */
    const char *deny[3];
    const char *expires; /* NULL: never */
    certpin_on_expiry on_expiry;
    certpin_mode mode;
} entry_spec;

typedef struct policy_spec {
    certpin_unpinned unpinned;
    entry_spec entries[4];
} policy_spec;

/* Builds a policy with certpin_builder_*; aborts on failure (a test bug). */
certpin_policy *policy_build(const policy_spec *spec);

/* ---- the server ------------------------------------------------------------------------------ */

/* What the server serves: a chain bundle and its key. */
typedef enum identity {
    ID_LEGIT = 0, /* chain-legit.pem: leaf + ca1-int */
    ID_ROGUE,     /* chain-rogue.pem: rogue + ca2-int */
    ID_PADDED,    /* chain-padded.pem: rogue + ca2-int + ca1-int + ca1-root */
    ID_UNTRUSTED, /* chain-untrusted.pem: ca3-leaf */
    ID_EXPIRED,   /* chain-expired.pem: expired + ca1-int */
    ID_COUNT
} identity;

/* (Built on server_base.h, which the libcurl tests' servers share.) */
typedef struct tls_server tls_server;

/* Starts a server on 127.0.0.1 (family AF_INET) or ::1 (AF_INET6), port 0, TLS 1.2 and 1.3, with
 * a session cache and session tickets. Every identity shares them: switching the identity
 * between connections makes a rogue server that would resume the legit server's sessions.
 * Returns NULL when the family is unavailable. */
tls_server *server_start(int family, identity id);
void server_set_identity(tls_server *s, identity id);
int server_port(const tls_server *s);
/* Waits (up to 10 s) until n connections in all have been handled; returns 0 on time-out. */
int server_wait(tls_server *s, unsigned n);
/* Connections on which at least one application byte arrived. */
unsigned server_conns_with_data(tls_server *s);
/* Connections whose first record was a handshake record (a ClientHello). */
unsigned server_hellos(tls_server *s);
/* Connections the server resumed. */
unsigned server_resumed(tls_server *s);
void server_stop(tls_server *s);

/* "tls1.2" / "tls1.3" */
const char *version_name(int version);

#endif /* CERTPIN_TEST_TLS_HARNESS_H */
