/* The policy swapped (certpin_ctx_set_policy) while connections run: several client threads share
 * one SSL_CTX and one certpin context; a swapper thread alternates policy A (pins the legit
 * intermediate) and policy B (pins another CA). Every connection's result must name exactly one
 * of them, with the verdict that policy gives, and the server must have received a request from
 * exactly the connections that were accepted. Runs over TLS 1.2 and TLS 1.3. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "harness_openssl.h"

#define CLIENTS 4
#define CONNECTIONS 40 /* per client */

typedef struct conn_record {
    int connected;
    int replied;
    certpin_verdict verdict;
    char policy_id[65];
} conn_record;

typedef struct client_thread {
    pthread_t thread;
    SSL_CTX *ctx;
    int port;
    int version;
    conn_record records[CONNECTIONS];
    int harness_failures;
} client_thread;

static atomic_int clients_running;

static void *client_main(void *arg)
{
    client_thread *t = arg;
    size_t i;
    for (i = 0; i < CONNECTIONS; i++) {
        client_opts o;
        client_outcome out;
        memset(&o, 0, sizeof(o));
        o.ctx = t->ctx;
        o.port = t->port;
        o.version = t->version;
        if (!client_run(&o, &out)) {
            t->harness_failures++;
            continue;
        }
        t->records[i].connected = out.connected;
        t->records[i].replied = out.replied;
        t->records[i].verdict = out.verdict;
        (void)snprintf(t->records[i].policy_id, sizeof(t->records[i].policy_id), "%s",
                       out.policy_id);
    }
    atomic_fetch_sub(&clients_running, 1);
    return NULL;
}

typedef struct swapper {
    pthread_t thread;
    certpin_ctx *pin;
    certpin_policy *a;
    certpin_policy *b;
    unsigned swaps;
} swapper;

static void *swapper_main(void *arg)
{
    swapper *s = arg;
    struct timespec pause = {0, 300 * 1000};
    while (atomic_load(&clients_running) > 0) {
        (void)certpin_ctx_set_policy(s->pin, s->swaps % 2 == 0 ? s->b : s->a);
        s->swaps++;
        (void)nanosleep(&pause, NULL);
    }
    return NULL;
}

/* OpenSSL caches a certificate's extensions (its key identifiers among them) on first use, behind
 * double-checked locking that ThreadSanitizer, which does not see OpenSSL's unlocked read, reports
 * as a race between the threads' first verifications against the shared trust anchor. Cache them
 * before the threads start: what is under test is certpin's context, not OpenSSL's cache. */
static void warm_trust_store(SSL_CTX *ctx)
{
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    int i;
    for (i = 0; objects != NULL && i < sk_X509_OBJECT_num(objects); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
        if (x != NULL) {
            (void)X509_check_purpose(x, -1, 0);
        }
    }
}

static void swap_while_connecting(void **state)
{
    int version = *(const int *)*state;
    static const policy_spec spec_a = {
        .entries = {{.host = "api.example.com", .pins = {"CA1_INT", "BACKUP"}}}};
    static const policy_spec spec_b = {
        .entries = {{.host = "api.example.com", .pins = {"CA2_INT", "BACKUP"}}}};
    tls_server *srv = server_start(AF_INET, ID_LEGIT);
    certpin_policy *a = policy_build(&spec_a);
    certpin_policy *b = policy_build(&spec_b);
    certpin_ctx *pin = certpin_ctx_new(a);
    SSL_CTX *ctx = client_ctx_new("trust-ca1.pem", version, 0, APP_CB_NONE, pin, 0);
    static client_thread clients[CLIENTS];
    swapper sw;
    unsigned accepted = 0;
    unsigned under_a = 0;
    unsigned under_b = 0;
    unsigned bad = 0;
    size_t i;
    size_t j;

    assert_non_null(srv);
    assert_non_null(pin);
    warm_trust_store(ctx);
    atomic_store(&clients_running, CLIENTS);
    memset(&sw, 0, sizeof(sw));
    sw.pin = pin;
    sw.a = a;
    sw.b = b;
    for (i = 0; i < CLIENTS; i++) {
        memset(&clients[i], 0, sizeof(clients[i]));
        clients[i].ctx = ctx;
        clients[i].port = server_port(srv);
        clients[i].version = version;
        assert_int_equal(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    assert_int_equal(pthread_create(&sw.thread, NULL, swapper_main, &sw), 0);
    for (i = 0; i < CLIENTS; i++) {
        (void)pthread_join(clients[i].thread, NULL);
    }
    (void)pthread_join(sw.thread, NULL);
    assert_true(server_wait(srv, CLIENTS * CONNECTIONS));

    for (i = 0; i < CLIENTS; i++) {
        assert_int_equal(clients[i].harness_failures, 0);
        for (j = 0; j < CONNECTIONS; j++) {
            const conn_record *r = &clients[i].records[j];
            int is_a = strcmp(r->policy_id, certpin_policy_id_hex(a)) == 0;
            int is_b = strcmp(r->policy_id, certpin_policy_id_hex(b)) == 0;
            int ok;
            if (is_a) {
                ok = r->verdict == CERTPIN_ACCEPTED_PINNED && r->connected && r->replied;
                under_a++;
            } else if (is_b) {
                ok = r->verdict == CERTPIN_REJECTED_NO_MATCH && !r->connected;
                under_b++;
            } else {
                ok = 0;
            }
            accepted += (unsigned)r->connected;
            if (!ok) {
                bad++;
                print_error("client %zu connection %zu: policy %.16s... verdict %s connected %d\n",
                            i, j, r->policy_id, certpin_verdict_str(r->verdict), r->connected);
            }
        }
    }
    print_message("%s: %u swaps; %u connections under A (accepted), %u under B (rejected)\n",
                  version_name(version), sw.swaps, under_a, under_b);
    assert_int_equal(bad, 0);
    /* Both policies must really have been in play, or the test proves nothing. */
    assert_true(under_a > 0);
    assert_true(under_b > 0);
    assert_int_equal(server_conns_with_data(srv), accepted);

    server_stop(srv);
    SSL_CTX_free(ctx);
    certpin_ctx_free(pin);
    certpin_policy_free(a);
    certpin_policy_free(b);
}

int main(void)
{
    static const int tls12 = TLS1_2_VERSION;
    static const int tls13 = TLS1_3_VERSION;
    const struct CMUnitTest tests[] = {
        {"swap-while-connecting/tls1.2", swap_while_connecting, NULL, NULL, (void *)&tls12},
        {"swap-while-connecting/tls1.3", swap_while_connecting, NULL, NULL, (void *)&tls13},
    };
    if (!pki_init()) {
        return 77;
    }
    return cmocka_run_group_tests_name("tls_swap", tests, NULL, NULL);
}
