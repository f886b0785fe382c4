/* The certpin command: what the subcommands share (reading inputs, printing, option errors).
 * Only the public certpin API is used here: the command links the shared library like any other
 * program would. */
#ifndef CERTPIN_CLI_H
#define CERTPIN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <certpin/certpin.h>
#include <certpin/openssl.h>

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Exit statuses shared by every subcommand (see docs/certpin.1, EXIT STATUS). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,      /* pin: a file failed; lint: errors; check: rejected by the policy */
    CLI_EXIT_USAGE = 2,     /* bad command line, unreadable input; check: policy error */
    CLI_EXIT_UNVERIFIED = 3 /* check, probe: the chain failed OpenSSL's own verification, or the
                               connection failed (network, TLS) before a pin decision */
};

/* The subcommands: argv[0] is the subcommand's name. */
int cli_cmd_pin(int argc, char **argv);
int cli_cmd_lint(int argc, char **argv);
int cli_cmd_check(int argc, char **argv);
int cli_cmd_probe(int argc, char **argv);

/* Their help texts, printed by `certpin CMD --help` and `certpin help CMD`. */
void cli_help_pin(FILE *out);
void cli_help_lint(FILE *out);
void cli_help_check(FILE *out);
void cli_help_probe(FILE *out);

/* ---- messages ------------------------------------------------------------------------------ */

/* "certpin: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "warning: <message>\n" on stderr. */
void cli_warning(const char *fmt, ...) CLI_PRINTF(1, 2);
/* A warning of a live check: "warning: MESSAGE" on err and, when array is not NULL, {code,
 * message} appended to it (the --json output's warnings). */
void cli_add_warning(FILE *err, json_t *array, const char *code, const char *message);
/* "certpin CMD: <message>" and "Try 'certpin CMD --help'." on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* The message for getopt_long's return value '?' or ':' (opterr must be 0, optstring must start
 * with ':'); returns CLI_EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);

/* Prints one diagnostic in the lint format (docs/certpin.1, DIAGNOSTICS):
 *   SOURCE:LINE:COL: error: message [code]                     (JSON syntax errors: no path)
 *   SOURCE: PATH: warning: message [code] (line N, column C)   (a finding about a value)
 *   SOURCE: note: message [code]                               (the whole policy)
 * fallback names the source when the diagnostic has none. */
void cli_print_diag(FILE *out, const certpin_diag *d, const char *fallback);
/* Prints every diagnostic of diags; when there is no error among them but err holds one (the
 * loader failed before it could record it), prints err too. Returns the number of errors printed.
 */
size_t cli_print_diags(FILE *out, const certpin_diags *diags, const certpin_error *err,
                       const char *fallback);
/* "error", "warning", "note". */
const char *cli_severity_str(certpin_severity sev);

/* ---- inputs -------------------------------------------------------------------------------- */

/* Largest input file read (a policy, a chain, a bundle). */
#define CLI_MAX_INPUT ((size_t)64 * 1024 * 1024)

/* Reads a whole file ("-": standard input) into a new buffer (NUL-terminated, *len without the
 * NUL). Returns 0, or -1 after printing why on stderr. */
int cli_read_file(const char *path, unsigned char **buf, size_t *len);
/* The name of an input in messages: "<stdin>" for "-". */
const char *cli_input_name(const char *path);

/* Where a policy comes from: a file, or standard input for "-" (read once, kept for a second
 * load). Zero-initialise, set path. */
typedef struct cli_source {
    const char *path;
    unsigned char *buf;
    size_t len;
    int read;
} cli_source;

/* certpin_policy_load_file, or certpin_policy_load_buffer on standard input named "<stdin>". */
certpin_policy *cli_policy_load(cli_source *src, const certpin_load_options *opts,
                                certpin_error *err);
void cli_source_free(cli_source *src);

/* What an input file may hold, one item per PEM block or DER object. */
typedef enum cli_item_kind {
    CLI_ITEM_CERT = 0,
    CLI_ITEM_PUBKEY,
    CLI_ITEM_PRIVKEY,
    CLI_ITEM_CSR
} cli_item_kind;

typedef struct cli_item {
    cli_item_kind kind;
    X509 *cert;     /* CLI_ITEM_CERT */
    X509_REQ *csr;  /* CLI_ITEM_CSR */
    EVP_PKEY *pkey; /* CLI_ITEM_PUBKEY, CLI_ITEM_PRIVKEY */
} cli_item;

typedef struct cli_items {
    size_t count;
    size_t cap;
    cli_item *items;
} cli_items;

/* Reads every certificate, public key, private key and CSR of a file ("-": standard input), PEM
 * (any number of blocks) or DER (one or more concatenated objects), with OpenSSL's parsers.
 * Appends what it recognises to items and returns the number of errors, each printed on stderr
 * naming the file (an encrypted key, a block that does not parse, a file with nothing usable);
 * -1 when the file cannot be read. */
int cli_items_read(const char *path, cli_items *items);
/* The same for the bytes buf[len] of a file named file (in messages). */
int cli_items_parse(const char *file, const unsigned char *buf, size_t len, cli_items *items);
void cli_items_free(cli_items *items);
/* The item's pin: the certificate's SPKI exactly as in the certificate, the CSR's, or the key's
 * public half. Returns CERTPIN_OK or the library's status. */
certpin_status cli_item_pin(const cli_item *item, unsigned char pin[CERTPIN_PIN_LEN]);
/* "CN=api.example.com", "public key EC P-256", "private key RSA 2048", "CSR CN=...". */
void cli_item_describe(const cli_item *item, char *out, size_t out_len);
/* A key's type and size: "EC P-256", "RSA 2048", "ED25519". */
void cli_key_describe(EVP_PKEY *pkey, char *out, size_t out_len);
/* "certificate", "public-key", "private-key", "csr". */
const char *cli_item_kind_str(cli_item_kind kind);
/* The subject of a name in RFC 2253 form (UTF-8 kept, control characters escaped);
 * "(empty subject)" when empty. */
void cli_name_rfc2253(const X509_NAME *name, char *out, size_t out_len);

/* ---- output -------------------------------------------------------------------------------- */

/* Room for a pin in any style. */
#define CLI_PIN_BUF CERTPIN_PIN_STR_MAX

/* A pin as text in the given style ("?" if the library fails). out: CLI_PIN_BUF bytes. */
void cli_pin_text(const unsigned char pin[CERTPIN_PIN_LEN], certpin_pin_style style, char *out,
                  size_t out_len);
/* Seconds since the epoch as "2027-06-30T00:00:00Z". out: at least 32 bytes. */
void cli_time_text(int64_t t, char *out, size_t out_len);
/* A JSON string of s; bytes that are not valid UTF-8 become '?', so output stays valid JSON.
 * Returns a new reference (NULL only when out of memory). */
json_t *cli_json_string(const char *s);
/* Writes value to stdout, indented, with a final newline, and drops the reference.
 * Returns 0, or -1 after printing why. */
int cli_json_print(json_t *value);

/* "enforce", "report-only", "off". */
const char *cli_mode_str(certpin_mode mode);
/* "unpin", "enforce". */
const char *cli_on_expiry_str(certpin_on_expiry on_expiry);
/* "exact name", "one label below", "the name and every name below". */
const char *cli_match_str(certpin_match match);

/* An entry as JSON: {pattern, index, match, mode, expires, on_expiry, pins, deny}; expires is
 * RFC 3339 or null. Returns a new reference, NULL when out of memory. */
json_t *cli_entry_json(const certpin_entry *entry);
/* "exact", "one-label", "subtree" (the JSON names of certpin_match). */
const char *cli_match_name(certpin_match match);

/* Parses a --at TIME value (certpin_time_parse). Returns 0, or a usage error status. */
int cli_parse_time(const char *cmd, const char *text, int64_t *out);
/* snprintf(dst, dst_len, "%s", src): a copy, truncated if need be, always NUL-terminated. */
void cli_copy(char *dst, const char *src, size_t dst_len);

/* ---- live connections (live.c) ------------------------------------------------------------- */

#define CLI_DEFAULT_PORT "443"
#define CLI_DEFAULT_TIMEOUT 10.0 /* seconds, for connecting and the TLS handshake of one host */
#define CLI_MAX_THREADS 8        /* hosts checked at once */
#define CLI_PORT_MAX 8

/* A HOST[:PORT] argument ([IPV6]:PORT for an IPv6 address with a port; an IPv6 address without
 * brackets has no port), split. */
typedef struct cli_target {
    const char *arg;             /* the argument as given (borrowed from argv) */
    char host[CERTPIN_HOST_MAX]; /* canonical (certpin_host_canonical), or as given for --connect */
    char port[CLI_PORT_MAX];     /* decimal; "" when none was given and there is no default */
    int is_ip;                   /* host is an IPv4 or IPv6 address */
} cli_target;

/* Parses arg into t. what names the argument in messages ("HOST", "--connect"); default_port
 * (may be NULL) is used when arg has none; canonicalise: the host becomes certpin's canonical
 * form (a HOST that names what to verify), else it is kept as given (an address to dial).
 * Returns 0, or a usage error status after printing why. */
int cli_target_parse(const char *cmd, const char *what, const char *arg, const char *default_port,
                     int canonicalise, cli_target *t);
/* Parses a --timeout value: seconds, more than 0, at most 3600. */
int cli_parse_timeout(const char *cmd, const char *text, double *out);
/* "2 seconds", "1 second", "0.5 seconds". */
void cli_seconds_text(double seconds, char *out, size_t out_len);

/* Why a live connection failed before (or after) certpin could decide. */
typedef enum cli_failure {
    CLI_FAILURE_NONE = 0,
    CLI_FAILURE_NAME,        /* the name lookup failed */
    CLI_FAILURE_REFUSED,     /* nothing listens on that port */
    CLI_FAILURE_UNREACHABLE, /* no route to the network or the host */
    CLI_FAILURE_TIMEOUT,     /* connecting or the handshake took longer than --timeout */
    CLI_FAILURE_CONNECT,     /* another socket error */
    CLI_FAILURE_TLS_ALERT,   /* the server sent a fatal TLS alert */
    CLI_FAILURE_TLS_CLOSED,  /* the server closed or reset the connection during the handshake */
    CLI_FAILURE_TLS,         /* another TLS failure (not a TLS server, no common protocol...) */
    CLI_FAILURE_SETUP        /* out of memory or the like: not the network's doing */
} cli_failure;

/* "name-not-found", "refused", "unreachable", "timeout", "connect", "tls-alert", "tls-closed",
 * "tls", "setup" (the JSON codes); "none". */
const char *cli_failure_code(cli_failure f);
/* The name of a TLS alert description ("handshake failure", "certificate required"). */
const char *cli_alert_name(int alert);

/* One live connection. */
typedef struct cli_conn {
    SSL *ssl;            /* NULL when the connection failed before TLS */
    int fd;              /* -1 when none */
    int handshake_done;  /* SSL_connect succeeded (and the server did not refuse right after) */
    cli_failure failure; /* CLI_FAILURE_NONE when the handshake was done */
    int alert;           /* the description of the fatal alert the server sent; -1: none */
    int cert_requested;  /* the server asked for a client certificate */
    char addr[64];       /* the address last dialled: "127.0.0.1", "::1"; "" when none */
    char peer[128];      /* the same with its port: "127.0.0.1 port 4433" */
    char message[768];   /* the failure in words; "" when none */
} cli_conn;

/* The SSL_CTX the live commands connect with, as an application would make it: TLS 1.2 or later,
 * OpenSSL's verification (SSL_VERIFY_PEER) against cafile (NULL: the system trust store) at time
 * at (0: now), pin attached with certpin_openssl_attach_ctx. Ignores SIGPIPE. NULL after
 * printing why. */
SSL_CTX *cli_tls_ctx(const char *cafile, certpin_ctx *pin, int64_t at);
/* Connects to via (NULL: to target) and runs the TLS handshake for target (SNI, the name or
 * address OpenSSL verifies, the host certpin looks up), all within timeout seconds. A failed
 * handshake may still have c->ssl (read certpin_openssl_result(c->ssl) first: a certpin rejection
 * also fails the handshake). Thread-safe for distinct c. Close with cli_conn_close. */
void cli_connect(SSL_CTX *ctx, const cli_target *target, const cli_target *via, double timeout,
                 cli_conn *c);
void cli_conn_close(cli_conn *c);
/* Connects c to via (NULL: target) within timeout, before any TLS: c->fd (non-blocking), c->addr,
 * c->peer; *deadline receives the time (cli_now) the whole connection must be done by. Returns 0,
 * or -1 with c's failure set. For the other stacks' connections (stacks.c). */
int cli_conn_open(const cli_target *target, const cli_target *via, double timeout, double *deadline,
                  cli_conn *c);
/* Sets c's failure and its message. */
void cli_conn_fail(cli_conn *c, cli_failure f, const char *what);
/* A monotonic clock in seconds. */
double cli_now(void);

/* ---- the TLS stack of a live connection (stacks.c) ---------------------------------------- */

/* Which TLS stack, with its certpin adapter, makes the live connections (--tls). */
typedef enum cli_tls { CLI_TLS_OPENSSL = 0, CLI_TLS_MBEDTLS, CLI_TLS_GNUTLS } cli_tls;

/* Parses a --tls value ("openssl", "mbedtls", "gnutls"); a usage error (printed) for another, or
 * for a stack this command was built without. */
int cli_tls_parse(const char *cmd, const char *text, cli_tls *out);
/* "openssl", "mbedtls", "gnutls" (the --tls and JSON names). */
const char *cli_tls_name(cli_tls tls);
/* The library and its version: "OpenSSL 3.0.15 3 Sep 2024", "mbed TLS 2.28.3", "GnuTLS 3.7.9". */
const char *cli_tls_library(cli_tls tls);

/* A client on one stack, as an application makes it: TLS 1.2 or later, the stack's verification
 * against cafile (NULL: the system trust store) at time at (0: now; OpenSSL only), pin attached
 * with the stack's adapter. Shared by every connection (and thread). NULL after printing why. */
typedef struct cli_client cli_client;
cli_client *cli_client_new(cli_tls tls, const char *cafile, certpin_ctx *pin, int64_t at);
void cli_client_free(cli_client *cl);

/* What a live connection on any stack gives, besides cli_conn (which cli_client_connect fills as
 * cli_connect does). */
typedef struct cli_session {
    cli_conn conn;
    cli_tls tls;
    const certpin_result *result; /* certpin's verdict on the connection (borrowed); NULL: none */
    STACK_OF(X509) * served;      /* the certificates the server sent (owned); NULL: none */
    STACK_OF(X509) * verified;    /* the chain the stack verified, leaf first, to the trust
                                     anchor, when certpin accepted it (owned); NULL otherwise */
    char protocol[32];            /* "TLSv1.3"; "" when the handshake did not complete */
    char cipher[128];
    void *stack; /* the mbedTLS or GnuTLS connection */
} cli_session;

/* Connects, as cli_connect does, with cl's stack. Thread-safe for distinct s. Close with
 * cli_session_close. */
void cli_client_connect(const cli_client *cl, const cli_target *target, const cli_target *via,
                        double timeout, cli_session *s);
void cli_session_close(cli_session *s);

/* Runs job(arg, i) for every i below n on at most max_threads threads at once (at most
 * CLI_MAX_THREADS), and done(arg, i) on the calling thread, in the order of i, as soon as jobs 0
 * to i have finished. Returns 0, or -1 when out of memory (nothing ran). */
typedef void (*cli_job_fn)(void *arg, size_t i);
int cli_parallel(size_t n, size_t max_threads, cli_job_fn job, cli_job_fn done, void *arg);

/* What probe shows of a certificate. */
typedef struct cli_cert_info {
    char pin[CLI_PIN_BUF];
    char subject[1024];
    char issuer[1024];
    char key[128]; /* "EC P-256", "RSA 2048" */
    int key_bits;
    char not_after[32]; /* RFC 3339, or "?" */
    int days_left;      /* whole days from now until not_after (negative: expired) */
    int has_expiry;
    int self_signed;
} cli_cert_info;

void cli_cert_describe(X509 *x, cli_cert_info *info);

#endif /* CERTPIN_CLI_H */
