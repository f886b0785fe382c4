/* Test servers for the libcurl integration (see curl_server.h). */
#include "curl_server.h"
#include "server_base.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#define REQ_MAX 8192
#define H2_STREAMS 32

/* ---- the HTTPS server ---------------------------------------------------------------------- */

struct http_server {
    base_server base;
    ident_set idents;
    int h2;
    pthread_mutex_t lock;
    char redirect[512];
    http_server_stats stats;
};

static void stats_add_bytes(http_server *s, size_t n)
{
    (void)pthread_mutex_lock(&s->lock);
    s->stats.app_bytes += n;
    (void)pthread_mutex_unlock(&s->lock);
    base_touch(&s->base);
}

static void stats_add_request(http_server *s, const char *path, const char *api_key)
{
    size_t len;
    (void)pthread_mutex_lock(&s->lock);
    s->stats.requests++;
    len = strlen(s->stats.paths);
    (void)snprintf(s->stats.paths + len, sizeof(s->stats.paths) - len, "%s%s", len > 0 ? " " : "",
                   path);
    if (api_key != NULL) {
        (void)snprintf(s->stats.api_key, sizeof(s->stats.api_key), "%s", api_key);
    }
    (void)pthread_mutex_unlock(&s->lock);
    base_touch(&s->base);
}

/* The response to a request for path: (status, location or NULL, body). */
static int response_for(http_server *s, const char *path, char *location, size_t location_len,
                        const char **body)
{
    int status = 200;
    location[0] = '\0';
    *body = ident_set_serving(&s->idents) == ID_LEGIT ? "hello from the legit server\n"
                                                      : "hello from another server\n";
    (void)pthread_mutex_lock(&s->lock);
    if (strcmp(path, "/redirect") == 0 && s->redirect[0] != '\0') {
        status = 302;
        (void)snprintf(location, location_len, "%s", s->redirect);
        *body = "";
    }
    (void)pthread_mutex_unlock(&s->lock);
    return status;
}

/* HTTP/1.1: requests without a body, answered in order, until the client closes. */
static void serve_h1(http_server *s, SSL *ssl)
{
    char buf[REQ_MAX + 1];
    size_t have = 0;
    for (;;) {
        char *end;
        int n = SSL_read(ssl, buf + have, (int)(REQ_MAX - have));
        if (n <= 0) {
            return;
        }
        stats_add_bytes(s, (size_t)n);
        have += (size_t)n;
        buf[have] = '\0';
        while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            char path[256] = "";
            char key[128] = "";
            char location[512];
            char head[1024];
            const char *body;
            const char *line;
            size_t used = (size_t)(end - buf) + 4;
            int status;
            int hn;
            *end = '\0';
            (void)sscanf(buf, "%*s %255s", path);
            for (line = strstr(buf, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
                if (strncasecmp(line + 2, "X-API-Key:", 10) == 0) {
                    (void)sscanf(line + 12, " %127[^\r\n]", key);
                }
            }
            stats_add_request(s, path, key[0] != '\0' ? key : NULL);
            status = response_for(s, path, location, sizeof(location), &body);
            hn = snprintf(head, sizeof(head),
                          "HTTP/1.1 %d %s\r\n%s%s%sContent-Type: text/plain\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          status, status == 200 ? "OK" : "Found",
                          location[0] != '\0' ? "Location: " : "", location,
                          location[0] != '\0' ? "\r\n" : "", strlen(body), body);
            if (hn <= 0 || SSL_write(ssl, head, hn) <= 0) {
                return;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            buf[have] = '\0';
        }
        if (have == REQ_MAX) {
            return;
        }
    }
}

/* HTTP/2 through nghttp2's server session. */
typedef struct h2_stream {
    int32_t id;
    char path[256];
    char key[128];
    const char *body;
    size_t body_off;
} h2_stream;

typedef struct h2_conn {
    http_server *s;
    SSL *ssl;
    h2_stream streams[H2_STREAMS];
} h2_conn;

static h2_stream *h2_find(h2_conn *c, int32_t id, int create)
{
    size_t i;
    for (i = 0; i < H2_STREAMS; i++) {
        if (c->streams[i].id == id) {
            return &c->streams[i];
        }
    }
    if (!create) {
        return NULL;
    }
    for (i = 0; i < H2_STREAMS; i++) {
        if (c->streams[i].id == 0) {
            memset(&c->streams[i], 0, sizeof(c->streams[i]));
            c->streams[i].id = id;
            return &c->streams[i];
        }
    }
    return NULL;
}

static ssize_t h2_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
    h2_conn *c = user_data;
    int n;
    (void)session;
    (void)flags;
    n = SSL_write(c->ssl, data, (int)length);
    return n > 0 ? (ssize_t)n : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int h2_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    h2_conn *c = user_data;
    h2_stream *st;
    (void)session;
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    st = h2_find(c, frame->hd.stream_id, 1);
    if (st == NULL) {
        return 0;
    }
    if (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen < sizeof(st->path)) {
        memcpy(st->path, value, valuelen);
        st->path[valuelen] = '\0';
    } else if (namelen == 9 && memcmp(name, "x-api-key", 9) == 0 && valuelen < sizeof(st->key)) {
        memcpy(st->key, value, valuelen);
        st->key[valuelen] = '\0';
    }
    return 0;
}

static ssize_t h2_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                            size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                            void *user_data)
{
    h2_stream *st = source->ptr;
    size_t left = strlen(st->body) - st->body_off;
    size_t n = left < length ? left : length;
    (void)session;
    (void)stream_id;
    (void)user_data;
    memcpy(buf, st->body + st->body_off, n);
    st->body_off += n;
    if (st->body_off == strlen(st->body)) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static int h2_on_frame(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    h2_conn *c = user_data;
    h2_stream *st;
    char location[512];
    char status_text[8];
    nghttp2_nv nv[3];
    size_t nvlen = 0;
    nghttp2_data_provider data;
    int status;

    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        return 0;
    }
    st = h2_find(c, frame->hd.stream_id, 0);
    if (st == NULL) {
        return 0;
    }
    stats_add_request(c->s, st->path, st->key[0] != '\0' ? st->key : NULL);
    status = response_for(c->s, st->path, location, sizeof(location), &st->body);
    (void)snprintf(status_text, sizeof(status_text), "%d", status);
    nv[nvlen++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status_text, 7, strlen(status_text),
                               NGHTTP2_NV_FLAG_NONE};
    nv[nvlen++] = (nghttp2_nv){(uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10,
                               NGHTTP2_NV_FLAG_NONE};
    if (location[0] != '\0') {
        nv[nvlen++] = (nghttp2_nv){(uint8_t *)"location", (uint8_t *)location, 8, strlen(location),
                                   NGHTTP2_NV_FLAG_NONE};
    }
    data.source.ptr = st;
    data.read_callback = h2_read_body;
    return nghttp2_submit_response(session, frame->hd.stream_id, nv, nvlen, &data) == 0
               ? 0
               : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int h2_on_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                       void *user_data)
{
    h2_conn *c = user_data;
    h2_stream *st = h2_find(c, stream_id, 0);
    (void)session;
    (void)error_code;
    if (st != NULL) {
        st->id = 0;
    }
    return 0;
}

static void serve_h2(http_server *s, SSL *ssl)
{
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_session *session = NULL;
    nghttp2_settings_entry iv = {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100};
    h2_conn *c = calloc(1, sizeof(*c));
    unsigned char buf[4096];

    if (c == NULL || nghttp2_session_callbacks_new(&cbs) != 0) {
        harness_die("nghttp2 callbacks");
    }
    c->s = s;
    c->ssl = ssl;
    nghttp2_session_callbacks_set_send_callback(cbs, h2_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_close);
    if (nghttp2_session_server_new(&session, cbs, c) != 0) {
        harness_die("nghttp2 session");
    }
    nghttp2_session_callbacks_del(cbs);
    if (nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, &iv, 1) == 0) {
        while (nghttp2_session_want_read(session) || nghttp2_session_want_write(session)) {
            int n;
            if (nghttp2_session_send(session) != 0) {
                break;
            }
            n = SSL_read(ssl, buf, sizeof(buf));
            if (n <= 0) {
                break;
            }
            stats_add_bytes(s, (size_t)n);
            if (nghttp2_session_mem_recv(session, buf, (size_t)n) < 0) {
                break;
            }
        }
    }
    nghttp2_session_del(session);
    free(c);
}

static void http_conn(base_server *b, int fd)
{
    http_server *s = b->owner;
    SSL *ssl = ident_set_ssl(&s->idents);
    int ok;
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    int hello = base_peek_hello(fd);
    (void)pthread_mutex_lock(&s->lock);
    s->stats.connections++;
    s->stats.hellos += (unsigned)hello;
    (void)pthread_mutex_unlock(&s->lock);
    ok = ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1;
    if (ok) {
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        (void)pthread_mutex_lock(&s->lock);
        s->stats.handshakes++;
        s->stats.resumed += (unsigned)SSL_session_reused(ssl);
        s->stats.h2 += alpn_len == 2 && memcmp(alpn, "h2", 2) == 0;
        (void)pthread_mutex_unlock(&s->lock);
    }
    base_handshake_ended(b);
    if (ok) {
        if (alpn_len == 2 && memcmp(alpn, "h2", 2) == 0) {
            serve_h2(s, ssl);
        } else {
            serve_h1(s, ssl);
        }
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char h2_first[] = "\x02h2\x08http/1.1";
    static const unsigned char h1_only[] = "\x08http/1.1";
    http_server *s = arg;
    const unsigned char *ours = s->h2 ? h2_first : h1_only;
    unsigned ours_len = s->h2 ? sizeof(h2_first) - 1 : sizeof(h1_only) - 1;
    (void)ssl;
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours, ours_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
}

http_server *http_server_start(const http_server_opts *o)
{
    http_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        harness_die("calloc");
    }
    ident_set_load(&s->idents, o->id, o->max_version, "certpin-curl");
    s->h2 = o->h2;
    SSL_CTX_set_alpn_select_cb(s->idents.ctx, alpn_select, s);
    (void)pthread_mutex_init(&s->lock, NULL);
    if (!base_start(&s->base, o->family, http_conn, s)) {
        ident_set_free(&s->idents);
        (void)pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void http_server_set_identity(http_server *s, identity id) { ident_set_serve(&s->idents, id); }

void http_server_set_redirect(http_server *s, const char *location)
{
    (void)pthread_mutex_lock(&s->lock);
    (void)snprintf(s->redirect, sizeof(s->redirect), "%s", location);
    (void)pthread_mutex_unlock(&s->lock);
}

int http_server_port(const http_server *s) { return s->base.port; }

void http_server_stats_get(http_server *s, http_server_stats *out)
{
    base_settle(&s->base);
    (void)pthread_mutex_lock(&s->lock);
    *out = s->stats;
    (void)pthread_mutex_unlock(&s->lock);
}

unsigned http_server_path_count(http_server *s, const char *path)
{
    http_server_stats st;
    unsigned n = 0;
    char *save = NULL;
    char *tok;
    http_server_stats_get(s, &st);
    for (tok = strtok_r(st.paths, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
        n += strcmp(tok, path) == 0;
    }
    return n;
}

void http_server_stop(http_server *s)
{
    if (s == NULL) {
        return;
    }
    base_stop(&s->base);
    ident_set_free(&s->idents);
    (void)pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- the HTTPS proxy ----------------------------------------------------------------------- */

struct https_proxy {
    base_server base;
    SSL_CTX *ctx;
    ident_data id;
    pthread_mutex_t lock;
    unsigned tunnels;
};

/* Relays between the TLS client and the plain target until either closes or is quiet for the
 * I/O time-out. */
static void relay(SSL *ssl, int client_fd, int target)
{
    unsigned char buf[16384];
    for (;;) {
        struct pollfd p[2];
        int n;
        if (SSL_pending(ssl) == 0) {
            p[0].fd = client_fd;
            p[0].events = POLLIN;
            p[0].revents = 0;
            p[1].fd = target;
            p[1].events = POLLIN;
            p[1].revents = 0;
            if (poll(p, 2, HARNESS_IO_TIMEOUT_S * 1000) <= 0) {
                return;
            }
            if (p[1].revents != 0) {
                ssize_t r = recv(target, buf, sizeof(buf), 0);
                if (r <= 0 || SSL_write(ssl, buf, (int)r) <= 0) {
                    return;
                }
            }
            if (p[0].revents == 0) {
                continue;
            }
        }
        n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0 || send(target, buf, (size_t)n, MSG_NOSIGNAL) != (ssize_t)n) {
            return;
        }
    }
}

static void proxy_conn(base_server *b, int fd)
{
    https_proxy *p = b->owner;
    SSL *ssl = SSL_new(p->ctx);
    char req[2048] = "";
    size_t have = 0;
    int ok =
        ssl != NULL && ident_use(ssl, &p->id) && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1;
    base_handshake_ended(b);
    while (ok && have < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL) {
        int n = SSL_read(ssl, req + have, (int)(sizeof(req) - 1 - have));
        if (n <= 0) {
            ok = 0;
            break;
        }
        have += (size_t)n;
        req[have] = '\0';
    }
    if (ok) {
        char target[300] = "";
        const char *colon;
        int port;
        int t;
        struct sockaddr_storage ss;
        socklen_t len;
        static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        static const char refused[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
        (void)sscanf(req, "CONNECT %299s", target);
        colon = strrchr(target, ':');
        port = colon != NULL ? atoi(colon + 1) : 0;
        /* Loopback only, whatever the request names. */
        t = socket(b->family, SOCK_STREAM, 0);
        len = harness_loopback(b->family, port, &ss);
        if (port <= 0 || port > 65535 || t < 0 || connect(t, (struct sockaddr *)&ss, len) != 0) {
            (void)SSL_write(ssl, refused, (int)strlen(refused));
        } else if (SSL_write(ssl, established, (int)strlen(established)) > 0) {
            (void)pthread_mutex_lock(&p->lock);
            p->tunnels++;
            (void)pthread_mutex_unlock(&p->lock);
            harness_set_timeouts(t);
            relay(ssl, fd, t);
        }
        if (t >= 0) {
            (void)close(t);
        }
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
}

https_proxy *https_proxy_start(int family, identity id)
{
    https_proxy *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        harness_die("calloc");
    }
    p->ctx = base_ssl_ctx(0, "certpin-curl");
    ident_load(&p->id, id);
    (void)pthread_mutex_init(&p->lock, NULL);
    if (!base_start(&p->base, family, proxy_conn, p)) {
        ident_free(&p->id);
        SSL_CTX_free(p->ctx);
        (void)pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

int https_proxy_port(const https_proxy *p) { return p->base.port; }

unsigned https_proxy_tunnels(https_proxy *p)
{
    unsigned n;
    base_settle(&p->base);
    (void)pthread_mutex_lock(&p->lock);
    n = p->tunnels;
    (void)pthread_mutex_unlock(&p->lock);
    return n;
}

void https_proxy_stop(https_proxy *p)
{
    if (p == NULL) {
        return;
    }
    base_stop(&p->base);
    ident_free(&p->id);
    SSL_CTX_free(p->ctx);
    (void)pthread_mutex_destroy(&p->lock);
    free(p);
}
