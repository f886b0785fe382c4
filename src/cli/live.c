/* The certpin command: live connections, shared by `probe` and the live form of `check`. Looks
 * the name up, connects without blocking (poll() enforces the time-out), runs the TLS handshake
 * on an SSL_CTX with the OpenSSL adapter attached, exactly as an application would, and says in
 * words what went wrong when it does. Also runs a list of jobs on a bounded number of threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cli.h"

/* How long to wait, after a TLS 1.3 handshake in which the server asked for a client certificate
 * that we did not send, for the server's verdict on it (it comes after our Finished). */
#define SETTLE_SECONDS 1.0

/* ---- HOST[:PORT] ----------------------------------------------------------------------------- */

static int parse_port(const char *text, char out[CLI_PORT_MAX])
{
    char *end;
    long v;

    if (text[0] < '0' || text[0] > '9') {
        return -1;
    }
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 65535) {
        return -1;
    }
    (void)snprintf(out, CLI_PORT_MAX, "%ld", v);
    return 0;
}

static int is_ipv6(const char *text)
{
    unsigned char buf[16];
    return inet_pton(AF_INET6, text, buf) == 1;
}

int cli_target_parse(const char *cmd, const char *what, const char *arg, const char *default_port,
                     int canonicalise, cli_target *t)
{
    char name[CERTPIN_HOST_MAX];
    const char *port = NULL;
    size_t len;
    unsigned char ip4[4];

    memset(t, 0, sizeof(*t));
    t->arg = arg;
    if (arg[0] == '[') {
        /* [IPV6] or [IPV6]:PORT, as in a URL (RFC 3986 section 3.2.2). */
        const char *close = strchr(arg, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            return cli_usage_error(cmd, "%s '%s': expected [IPV6] or [IPV6]:PORT", what, arg);
        }
        len = (size_t)(close - arg - 1);
        if (len == 0 || len >= sizeof(name)) {
            return cli_usage_error(cmd, "%s '%s': expected [IPV6] or [IPV6]:PORT", what, arg);
        }
        memcpy(name, arg + 1, len);
        name[len] = '\0';
        if (!is_ipv6(name)) {
            return cli_usage_error(cmd, "%s '%s': '%s' between brackets is not an IPv6 address",
                                   what, arg, name);
        }
        port = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(arg, ':');
        /* One colon separates a port; more than one is an IPv6 address without a port (write
         * [::1]:443 for a port). */
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            len = (size_t)(colon - arg);
            port = colon + 1;
        } else {
            len = strlen(arg);
        }
        if (len >= sizeof(name)) {
            return cli_usage_error(cmd, "%s '%s': the name is too long", what, arg);
        }
        memcpy(name, arg, len);
        name[len] = '\0';
    }
    if (name[0] == '\0') {
        return cli_usage_error(cmd, "%s '%s': no host name or address", what, arg);
    }
    if (port != NULL) {
        if (parse_port(port, t->port) != 0) {
            return cli_usage_error(cmd, "%s '%s': '%s' is not a port (1 to 65535)", what, arg,
                                   port);
        }
    } else if (default_port != NULL) {
        cli_copy(t->port, default_port, sizeof(t->port));
    }
    if (canonicalise) {
        certpin_error err;
        memset(&err, 0, sizeof(err));
        if (certpin_host_canonical(name, t->host, &err) != CERTPIN_OK) {
            return cli_usage_error(cmd, "%s '%s': %s", what, arg, err.text);
        }
    } else {
        if (strpbrk(name, " \t\r\n/") != NULL) {
            return cli_usage_error(cmd, "%s '%s': not a host name or address", what, arg);
        }
        cli_copy(t->host, name, sizeof(t->host));
    }
    t->is_ip = is_ipv6(t->host) || inet_pton(AF_INET, t->host, ip4) == 1;
    return CLI_EXIT_OK;
}

/* ---- time-outs ------------------------------------------------------------------------------- */

int cli_parse_timeout(const char *cmd, const char *text, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || v <= 0 || v > 3600) {
        return cli_usage_error(cmd,
                               "--timeout '%s': expected a number of seconds, more than 0 "
                               "and at most 3600",
                               text);
    }
    *out = v;
    return CLI_EXIT_OK;
}

void cli_seconds_text(double seconds, char *out, size_t out_len)
{
    (void)snprintf(out, out_len, "%g second%s", seconds, seconds == 1.0 ? "" : "s");
}

static double now_mono(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until fd is ready for events or the deadline passes. Returns 1 ready, 0 time-out, -1
 * error (errno). */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        struct pollfd p;
        double left = deadline - now_mono();
        int ms;
        int rc;

        if (left <= 0) {
            return 0;
        }
        ms = left > (double)(INT_MAX / 1000) ? INT_MAX : (int)(left * 1000.0) + 1;
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        rc = poll(&p, 1, ms);
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

/* ---- failures in words ----------------------------------------------------------------------- */

const char *cli_failure_code(cli_failure f)
{
    switch (f) {
    case CLI_FAILURE_NONE: return "none";
    case CLI_FAILURE_NAME: return "name-not-found";
    case CLI_FAILURE_REFUSED: return "refused";
    case CLI_FAILURE_UNREACHABLE: return "unreachable";
    case CLI_FAILURE_TIMEOUT: return "timeout";
    case CLI_FAILURE_CONNECT: return "connect";
    case CLI_FAILURE_TLS_ALERT: return "tls-alert";
    case CLI_FAILURE_TLS_CLOSED: return "tls-closed";
    case CLI_FAILURE_TLS: return "tls";
    case CLI_FAILURE_SETUP: return "setup";
    default: return "?";
    }
}

const char *cli_alert_name(int alert)
{
    /* The registry of TLS alerts (RFC 8446 section 6, RFC 5246 section 7.2, RFC 7301, RFC 8446
     * 6.2's certificate_required); OpenSSL 3.0's SSL_alert_desc_string_long misses the newer
     * ones. */
    switch (alert) {
    case 0: return "close notify";
    case 10: return "unexpected message";
    case 20: return "bad record MAC";
    case 21: return "decryption failed";
    case 22: return "record overflow";
    case 30: return "decompression failure";
    case 40: return "handshake failure";
    case 41: return "no certificate";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 47: return "illegal parameter";
    case 48: return "unknown CA";
    case 49: return "access denied";
    case 50: return "decode error";
    case 51: return "decrypt error";
    case 60: return "export restriction";
    case 70: return "protocol version";
    case 71: return "insufficient security";
    case 80: return "internal error";
    case 86: return "inappropriate fallback";
    case 90: return "user canceled";
    case 100: return "no renegotiation";
    case 109: return "missing extension";
    case 110: return "unsupported extension";
    case 111: return "certificate unobtainable";
    case 112: return "unrecognized name";
    case 113: return "bad certificate status response";
    case 114: return "bad certificate hash value";
    case 115: return "unknown PSK identity";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return "unknown alert";
    }
}

static void set_failure(cli_conn *c, cli_failure f, const char *fmt, ...) CLI_PRINTF(3, 4);

static void set_failure(cli_conn *c, cli_failure f, const char *fmt, ...)
{
    va_list ap;
    c->failure = f;
    va_start(ap, fmt);
    (void)vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
}

/* strerror for worker threads (the XSI strerror_r: _GNU_SOURCE is not defined). */
static const char *errno_text(int err, char *buf, size_t len)
{
    if (strerror_r(err, buf, len) != 0) {
        (void)snprintf(buf, len, "error %d", err);
    }
    return buf;
}

/* Sets c->addr ("127.0.0.1", "::1") and c->peer ("127.0.0.1 port 443"). */
static void describe_addr(cli_conn *c, const struct sockaddr *sa, socklen_t len)
{
    char port[NI_MAXSERV];
    if (getnameinfo(sa, len, c->addr, sizeof(c->addr), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        cli_copy(c->addr, "?", sizeof(c->addr));
        cli_copy(port, "?", sizeof(port));
    }
    (void)snprintf(c->peer, sizeof(c->peer), "%s port %s", c->addr, port);
}

/* ---- the TLS context ------------------------------------------------------------------------- */

static int conn_index = -1;
static pthread_once_t conn_index_once = PTHREAD_ONCE_INIT;

static void make_conn_index(void) { conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

static cli_conn *conn_of(const SSL *ssl)
{
    return conn_index < 0 ? NULL : SSL_get_ex_data(ssl, conn_index);
}

/* Remembers the alert the server sent (a TLS 1.3 alert other than close_notify and user_canceled
 * is always fatal; in TLS 1.2 only fatal ones end the handshake). */
static void info_callback(const SSL *ssl, int where, int ret)
{
    cli_conn *c;
    /* SSL_CB_READ_ALERT is two bits (SSL_CB_ALERT | SSL_CB_READ): an alert we write has one. */
    if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT || (c = conn_of(ssl)) == NULL) {
        return;
    }
    if ((ret >> 8) == SSL3_AL_FATAL && c->alert < 0) {
        c->alert = ret & 0xff;
    }
}

/* The server asked for a client certificate: we have none to give, as an application without one
 * would. */
static int client_cert_callback(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    cli_conn *c = conn_of(ssl);
    (void)x509;
    (void)pkey;
    if (c != NULL) {
        c->cert_requested = 1;
    }
    return 0;
}

SSL_CTX *cli_tls_ctx(const char *cafile, certpin_ctx *pin, int64_t at)
{
    SSL_CTX *ctx;
    int ok;

    if (pthread_once(&conn_index_once, make_conn_index) != 0 || conn_index < 0) {
        cli_error("cannot set up OpenSSL");
        return NULL;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        cli_error("cannot set up OpenSSL: %s", ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    ok = cafile != NULL ? SSL_CTX_load_verify_file(ctx, cafile)
                        : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        unsigned long e = ERR_peek_last_error();
        const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
        cli_error("%s: cannot load the trust store: %s",
                  cafile != NULL ? cafile : "system default paths",
                  why != NULL ? why : "no certificates");
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* OpenSSL's own verification stays on (pinning narrows it, never replaces it), and the
     * adapter runs inside it, as in any application that attaches certpin. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (at != 0) {
        X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), (time_t)at);
    }
    SSL_CTX_set_info_callback(ctx, info_callback);
    SSL_CTX_set_client_cert_cb(ctx, client_cert_callback);
    if (certpin_openssl_attach_ctx(ctx, pin) != CERTPIN_OK) {
        cli_error("cannot attach certpin to the OpenSSL context");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- connecting ------------------------------------------------------------------------------ */

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Connects to one address. Returns the socket, or -1 with the failure set (and *stop when the
 * deadline passed: no other address is worth trying). */
static int connect_one(cli_conn *c, const struct addrinfo *ai, double deadline,
                       const char *timeout_text, int *stop)
{
    int fd;
    int err = 0;
    socklen_t len = sizeof(err);
    char why[128];

    describe_addr(c, ai->ai_addr, ai->ai_addrlen);
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0 || set_nonblocking(fd) != 0) {
        set_failure(c, CLI_FAILURE_CONNECT, "cannot make a socket for %s: %s", c->peer,
                    errno_text(errno, why, sizeof(why)));
        if (fd >= 0) {
            (void)close(fd);
        }
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        return fd;
    }
    if (errno == EINPROGRESS) {
        int ready = wait_fd(fd, POLLOUT, deadline);
        if (ready == 0) {
            set_failure(c, CLI_FAILURE_TIMEOUT, "timed out after %s connecting to %s", timeout_text,
                        c->peer);
            *stop = 1;
            (void)close(fd);
            return -1;
        }
        if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err == 0) {
            return fd;
        }
    } else {
        err = errno;
    }
    (void)close(fd);
    switch (err) {
    case ECONNREFUSED:
        set_failure(c, CLI_FAILURE_REFUSED, "connection refused by %s (nothing listens there)",
                    c->peer);
        break;
    case ENETUNREACH:
        set_failure(c, CLI_FAILURE_UNREACHABLE, "network unreachable: no route to %s", c->peer);
        break;
    case EHOSTUNREACH:
        set_failure(c, CLI_FAILURE_UNREACHABLE, "host unreachable: %s", c->peer);
        break;
    case ETIMEDOUT:
        set_failure(c, CLI_FAILURE_TIMEOUT, "timed out connecting to %s (the system gave up)",
                    c->peer);
        break;
    default:
        set_failure(c, CLI_FAILURE_CONNECT, "cannot connect to %s: %s", c->peer,
                    errno_text(err, why, sizeof(why)));
        break;
    }
    return -1;
}

/* Looks up dial's name and connects to its first address that answers. Returns the socket or
 * -1. */
static int tcp_connect(cli_conn *c, const cli_target *dial, double deadline,
                       const char *timeout_text)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    int rc;
    int fd = -1;
    int stop = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (dial->is_ip ? AI_NUMERICHOST : 0);
    rc = getaddrinfo(dial->host, dial->port, &hints, &res);
    if (rc != 0) {
        char buf[128];
        const char *why = rc == EAI_SYSTEM ? errno_text(errno, buf, sizeof(buf)) : gai_strerror(rc);
        if (rc == EAI_MEMORY) {
            set_failure(c, CLI_FAILURE_SETUP, "out of memory looking up %s", dial->host);
        } else {
            set_failure(c, CLI_FAILURE_NAME, "name not found: %s (%s)", dial->host, why);
        }
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0 && !stop; ai = ai->ai_next) {
        fd = connect_one(c, ai, deadline, timeout_text, &stop);
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        c->failure = CLI_FAILURE_NONE;
        c->message[0] = '\0';
    }
    return fd;
}

/* ---- the handshake --------------------------------------------------------------------------- */

/* Why SSL_connect failed, in words, when it was not certpin's (the caller reads certpin's result
 * first). */
static void tls_failure(cli_conn *c, int ssl_error, int saved_errno, unsigned long e,
                        const char *when)
{
    int reason = ERR_GET_REASON(e);

    if (c->alert >= 0) {
        set_failure(c, CLI_FAILURE_TLS_ALERT, "TLS alert %d (%s) from the server %s%s", c->alert,
                    cli_alert_name(c->alert), c->peer, when);
    } else if (ssl_error == SSL_ERROR_SYSCALL && saved_errno == ECONNRESET) {
        set_failure(c, CLI_FAILURE_TLS_CLOSED, "the server %s reset the connection%s", c->peer,
                    when);
    } else if (ssl_error == SSL_ERROR_SYSCALL ||
               (ssl_error == SSL_ERROR_SSL && ERR_GET_LIB(e) == ERR_LIB_SSL &&
                reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        set_failure(c, CLI_FAILURE_TLS_CLOSED,
                    "the server %s closed the connection%s without a TLS alert", c->peer, when);
    } else if (ssl_error == SSL_ERROR_SSL && ERR_GET_LIB(e) == ERR_LIB_SSL &&
               (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG)) {
        set_failure(c, CLI_FAILURE_TLS,
                    "the server %s does not speak TLS (OpenSSL: %s): is this the right port?",
                    c->peer, ERR_reason_error_string(e));
    } else {
        const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
        set_failure(c, CLI_FAILURE_TLS, "TLS handshake with %s failed%s: %s", c->peer, when,
                    why != NULL ? why : "unknown error");
    }
}

/* In TLS 1.3 the server judges a client certificate after our Finished: SSL_connect has
 * returned by then, and an application learns of the refusal on its first read. Wait a moment
 * for it, so that the command reports what the application would meet. */
static void settle(cli_conn *c, double deadline)
{
    double until = now_mono() + SETTLE_SECONDS;
    unsigned char byte;

    if (until > deadline) {
        until = deadline;
    }
    for (;;) {
        int n;
        int e;
        ERR_clear_error();
        n = SSL_read(c->ssl, &byte, 1);
        if (n > 0) {
            return; /* the server talks: it took the connection */
        }
        e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, until) != 1) {
                return;
            }
            continue;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            return;
        }
        tls_failure(c, e, errno, ERR_peek_last_error(),
                    " after the handshake (it had asked for a client certificate, and certpin "
                    "sends none)");
        c->handshake_done = 0;
        ERR_clear_error();
        return;
    }
}

int cli_conn_open(const cli_target *target, const cli_target *via, double timeout, double *deadline,
                  cli_conn *c)
{
    char timeout_text[64];
    cli_target dial = via != NULL ? *via : *target;

    *deadline = now_mono() + timeout;
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->alert = -1;
    cli_seconds_text(timeout, timeout_text, sizeof(timeout_text));
    if (dial.port[0] == '\0') {
        cli_copy(dial.port, target->port, sizeof(dial.port)); /* --connect ADDR: HOST's port */
    }
    c->fd = tcp_connect(c, &dial, *deadline, timeout_text);
    return c->fd < 0 ? -1 : 0;
}

void cli_conn_fail(cli_conn *c, cli_failure f, const char *what) { set_failure(c, f, "%s", what); }

double cli_now(void) { return now_mono(); }

void cli_connect(SSL_CTX *ctx, const cli_target *target, const cli_target *via, double timeout,
                 cli_conn *c)
{
    char timeout_text[64];
    double deadline;

    cli_seconds_text(timeout, timeout_text, sizeof(timeout_text));
    if (cli_conn_open(target, via, timeout, &deadline, c) != 0) {
        return;
    }
    c->ssl = SSL_new(ctx);
    /* The name the application asks for decides everything: SNI (RFC 6066 section 3: never an IP
     * literal), the name OpenSSL verifies (no partial wildcards, as curl and the offline check),
     * and the entry certpin looks up. A name the server sends never does. */
    if (c->ssl == NULL || !SSL_set_ex_data(c->ssl, conn_index, c) ||
        SSL_set_fd(c->ssl, c->fd) != 1 ||
        (target->is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), target->host) != 1
                       : (SSL_set1_host(c->ssl, target->host) != 1 ||
                          SSL_set_tlsext_host_name(c->ssl, target->host) != 1))) {
        set_failure(c, CLI_FAILURE_SETUP, "cannot set up the TLS connection: %s",
                    ERR_reason_error_string(ERR_get_error()));
        ERR_clear_error();
        return;
    }
    SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (;;) {
        int rc;
        int e;
        int saved_errno;

        ERR_clear_error();
        errno = 0;
        rc = SSL_connect(c->ssl);
        if (rc == 1) {
            c->handshake_done = 1;
            break;
        }
        saved_errno = errno;
        e = SSL_get_error(c->ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int ready = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (ready == 1) {
                continue;
            }
            if (ready == 0) {
                set_failure(c, CLI_FAILURE_TIMEOUT,
                            "timed out after %s in the TLS handshake with %s (the server "
                            "accepted the connection but did not finish a TLS handshake)",
                            timeout_text, c->peer);
            } else {
                char why[128];
                set_failure(c, CLI_FAILURE_CONNECT, "cannot wait for %s: %s", c->peer,
                            errno_text(errno, why, sizeof(why)));
            }
            return;
        }
        tls_failure(c, e, saved_errno, ERR_peek_last_error(), " during the TLS handshake");
        ERR_clear_error();
        return;
    }
    if (c->cert_requested && SSL_version(c->ssl) == TLS1_3_VERSION) {
        settle(c, deadline);
    }
}

void cli_conn_close(cli_conn *c)
{
    if (c->ssl != NULL) {
        if (c->handshake_done) {
            (void)SSL_shutdown(c->ssl); /* one close_notify; the socket is non-blocking */
        }
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        (void)close(c->fd);
        c->fd = -1;
    }
    ERR_clear_error();
}

/* ---- bounded parallelism --------------------------------------------------------------------- */

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t finished_one;
    size_t n;
    size_t next;
    unsigned char *finished;
    cli_job_fn job;
    void *arg;
} pool;

static void *worker(void *p)
{
    pool *pl = p;
    for (;;) {
        size_t i;
        (void)pthread_mutex_lock(&pl->lock);
        i = pl->next < pl->n ? pl->next++ : pl->n;
        (void)pthread_mutex_unlock(&pl->lock);
        if (i >= pl->n) {
            return NULL;
        }
        pl->job(pl->arg, i);
        (void)pthread_mutex_lock(&pl->lock);
        pl->finished[i] = 1;
        (void)pthread_cond_broadcast(&pl->finished_one);
        (void)pthread_mutex_unlock(&pl->lock);
    }
}

int cli_parallel(size_t n, size_t max_threads, cli_job_fn job, cli_job_fn done, void *arg)
{
    pool pl;
    pthread_t threads[CLI_MAX_THREADS];
    size_t started = 0;
    size_t want = n < max_threads ? n : max_threads;
    size_t i;

    if (want > CLI_MAX_THREADS) {
        want = CLI_MAX_THREADS;
    }
    memset(&pl, 0, sizeof(pl));
    pl.finished = calloc(n > 0 ? n : 1, 1);
    if (pl.finished == NULL) {
        return -1;
    }
    pl.n = n;
    pl.job = job;
    pl.arg = arg;
    if (pthread_mutex_init(&pl.lock, NULL) != 0) {
        free(pl.finished);
        return -1;
    }
    if (pthread_cond_init(&pl.finished_one, NULL) != 0) {
        (void)pthread_mutex_destroy(&pl.lock);
        free(pl.finished);
        return -1;
    }
    for (i = 0; i < want; i++) {
        if (pthread_create(&threads[started], NULL, worker, &pl) == 0) {
            started++;
        }
    }
    if (started == 0) {
        (void)worker(&pl); /* no thread to be had: do the jobs here, one after the other */
    }
    /* Results come out in the order given, each as soon as it and those before it are done. */
    for (i = 0; i < n; i++) {
        (void)pthread_mutex_lock(&pl.lock);
        while (!pl.finished[i]) {
            (void)pthread_cond_wait(&pl.finished_one, &pl.lock);
        }
        (void)pthread_mutex_unlock(&pl.lock);
        done(arg, i);
    }
    for (i = 0; i < started; i++) {
        (void)pthread_join(threads[i], NULL);
    }
    (void)pthread_cond_destroy(&pl.finished_one);
    (void)pthread_mutex_destroy(&pl.lock);
    free(pl.finished);
    return 0;
}

/* ---- certificates ---------------------------------------------------------------------------- */

void cli_cert_describe(X509 *x, cli_cert_info *info)
{
    unsigned char pin[CERTPIN_PIN_LEN];
    EVP_PKEY *pkey = X509_get0_pubkey(x);
    const ASN1_TIME *not_after = X509_get0_notAfter(x);
    struct tm tm;
    int day = 0;
    int sec = 0;

    memset(info, 0, sizeof(*info));
    cli_copy(info->pin, "?", sizeof(info->pin));
    if (certpin_openssl_cert_pin(x, pin) == CERTPIN_OK) {
        cli_pin_text(pin, CERTPIN_PIN_OKHTTP, info->pin, sizeof(info->pin));
    }
    cli_name_rfc2253(X509_get_subject_name(x), info->subject, sizeof(info->subject));
    cli_name_rfc2253(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
    if (pkey != NULL) {
        cli_key_describe(pkey, info->key, sizeof(info->key));
        info->key_bits = EVP_PKEY_get_bits(pkey);
    } else {
        cli_copy(info->key, "unknown key", sizeof(info->key));
    }
    if (not_after != NULL && ASN1_TIME_to_tm(not_after, &tm) == 1 &&
        strftime(info->not_after, sizeof(info->not_after), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0 &&
        ASN1_TIME_diff(&day, &sec, NULL, not_after) == 1) {
        info->days_left = day;
        info->has_expiry = 1;
    } else {
        cli_copy(info->not_after, "?", sizeof(info->not_after));
    }
    info->self_signed = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
    ERR_clear_error();
}
