/* Test servers for the libcurl integration, in-process on loopback:
 *
 * - an HTTPS server (TLS 1.2/1.3, HTTP/1.1 with keep-alive, and HTTP/2 through nghttp2 when asked
 *   to offer it by ALPN) serving one of the test PKI's identities (tests/tls/harness.h), which can
 *   be switched between connections. Every identity shares one session cache and one set of ticket
 *   keys, so that switching to the rogue identity makes a server that would resume the legit
 *   server's sessions (and the other way round). It records every application byte that arrives
 *   after a handshake, every request (its path and X-API-Key header), the connections, the
 *   completed and the resumed handshakes, and the ALPN protocol chosen. GET /redirect answers 302
 *   to the location set with http_server_set_redirect; any other request 200 with a short body.
 * - an HTTPS proxy (TLS, then one CONNECT request, then a relay) that only ever connects to
 *   loopback: whatever host a CONNECT names, it connects to 127.0.0.1 (::1 for an IPv6 proxy) at
 *   the port named.
 *
 * Every server stops by itself: accept and I/O time-outs, a lifetime limit, and stop() shuts the
 * open connections down and joins every thread. */
#ifndef CERTPIN_TEST_CURL_SERVER_H
#define CERTPIN_TEST_CURL_SERVER_H

#include "harness.h"

typedef struct http_server http_server;

typedef struct http_server_opts {
    int family; /* 0: AF_INET */
    identity id;
    int h2;          /* offer h2 by ALPN (else http/1.1 only) */
    int max_version; /* 0: TLS 1.3 */
} http_server_opts;

http_server *http_server_start(const http_server_opts *o);
void http_server_set_identity(http_server *s, identity id);
/* Location for GET /redirect (copied). */
void http_server_set_redirect(http_server *s, const char *location);
int http_server_port(const http_server *s);

typedef struct http_server_stats {
    unsigned connections;    /* TCP connections accepted */
    unsigned hellos;         /* of which began with a TLS handshake record (a ClientHello) */
    unsigned handshakes;     /* TLS handshakes completed */
    unsigned resumed;        /* of which resumed */
    unsigned h2;             /* of which negotiated h2 */
    unsigned requests;       /* complete requests received */
    unsigned long app_bytes; /* application bytes received after handshakes, in all */
    char paths[1024];        /* the requests' paths, space-separated, in order of arrival */
    char api_key[128];       /* the last X-API-Key header received, "" if none */
} http_server_stats;

/* Waits until the connections accepted so far are all finished with their handshake and have been
 * quiet for a moment (up to 5 s), then copies the counters. */
void http_server_stats_get(http_server *s, http_server_stats *out);
/* Number of requests for this exact path so far. */
unsigned http_server_path_count(http_server *s, const char *path);
void http_server_stop(http_server *s);

typedef struct https_proxy https_proxy;

/* A proxy on 127.0.0.1 (or ::1) serving the identity's chain (its own certificate). */
https_proxy *https_proxy_start(int family, identity id);
int https_proxy_port(const https_proxy *p);
/* CONNECT requests that were answered 200. */
unsigned https_proxy_tunnels(https_proxy *p);
void https_proxy_stop(https_proxy *p);

#endif /* CERTPIN_TEST_CURL_SERVER_H */
