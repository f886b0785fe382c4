/* Reading a policy twice, with two parsers, and refusing it unless both read the same thing.
 *
 * Why: jansson 2.14 (Debian 12's) drops a character of a string when its string buffer cannot
 * grow (lex_save ignores strbuffer_append_byte's failure), so under memory pressure
 * "api.example.com" can load as "api.example.co": a valid policy, pinning another host (jansson
 * issue 362, open since 2017; fixes proposed in pull requests 735 and 747). A pinning
 * library must not load a policy other than the one written. So after jansson has parsed the
 * text, yajl's event parser reads it again and every event is compared with jansson's tree, in
 * document order (jansson keeps object members in insertion order, and duplicate keys are
 * refused): the same structure, the same keys and strings byte for byte, the same numbers and
 * literals. A policy is loaded only when both agree; otherwise the load fails, as it would for
 * any other allocation failure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yajl/yajl_parse.h>

#include "private/arena.h"
#include "private/policy.h"

#define MAX_DEPTH 64

typedef struct frame {
    json_t *node;
    void *iter;   /* objects: the next member */
    size_t index; /* arrays: the next element */
} frame;

typedef struct walker {
    json_t *root;
    int root_seen;
    json_t *pending; /* the value a key of the current object announced */
    frame stack[MAX_DEPTH];
    int depth;
    int mismatch;
} walker;

/* The jansson value the next yajl value event stands for; NULL when there is none. */
static json_t *next_value(walker *w)
{
    frame *f;
    json_t *v;
    if (w->depth == 0) {
        if (w->root_seen) {
            return NULL;
        }
        w->root_seen = 1;
        return w->root;
    }
    f = &w->stack[w->depth - 1];
    if (json_is_array(f->node)) {
        return json_array_get(f->node, f->index++);
    }
    v = w->pending;
    w->pending = NULL;
    return v;
}

static int fail(walker *w)
{
    w->mismatch = 1;
    return 0; /* stops yajl */
}

static int on_null(void *ctx)
{
    walker *w = ctx;
    json_t *v = next_value(w); /* once: jansson's json_is_* macros use their argument twice */
    return json_is_null(v) ? 1 : fail(w);
}

static int on_bool(void *ctx, int b)
{
    walker *w = ctx;
    json_t *v = next_value(w);
    return (b ? json_is_true(v) : json_is_false(v)) ? 1 : fail(w);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    walker *w = ctx;
    json_t *v = next_value(w);
    char text[64];
    char *end;
    if (v == NULL || len >= sizeof(text)) {
        return fail(w);
    }
    memcpy(text, s, len);
    text[len] = '\0';
    errno = 0;
    if (json_is_integer(v)) {
        long long n = strtoll(text, &end, 10);
        return (errno == 0 && *end == '\0' && n == json_integer_value(v)) ? 1 : fail(w);
    }
    if (json_is_real(v)) {
        double d = strtod(text, &end);
        /* the same conversion jansson makes (strtod): the same value */
        return (*end == '\0' && d == json_real_value(v)) ? 1 : fail(w);
    }
    return fail(w);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    walker *w = ctx;
    json_t *v = next_value(w);
    return (json_is_string(v) && json_string_length(v) == len &&
            memcmp(json_string_value(v), s, len) == 0)
               ? 1
               : fail(w);
}

static int open_container(walker *w, int is_array)
{
    json_t *v = next_value(w);
    frame *f;
    if (w->depth == MAX_DEPTH || (is_array ? !json_is_array(v) : !json_is_object(v))) {
        return fail(w);
    }
    f = &w->stack[w->depth++];
    f->node = v;
    f->index = 0;
    f->iter = is_array ? NULL : json_object_iter(v);
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, 0); }
static int on_start_array(void *ctx) { return open_container(ctx, 1); }

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    walker *w = ctx;
    frame *f;
    const char *k;
    if (w->depth == 0) {
        return fail(w);
    }
    f = &w->stack[w->depth - 1];
    if (!json_is_object(f->node) || f->iter == NULL) {
        return fail(w);
    }
    k = json_object_iter_key(f->iter);
    if (strlen(k) != len || memcmp(k, key, len) != 0) {
        return fail(w);
    }
    w->pending = json_object_iter_value(f->iter);
    f->iter = json_object_iter_next(f->node, f->iter);
    return 1;
}

static int on_end_map(void *ctx)
{
    walker *w = ctx;
    if (w->depth == 0 || !json_is_object(w->stack[w->depth - 1].node) ||
        w->stack[w->depth - 1].iter != NULL) {
        return fail(w); /* jansson has members yajl did not see */
    }
    w->depth--;
    return 1;
}

static int on_end_array(void *ctx)
{
    walker *w = ctx;
    frame *f;
    if (w->depth == 0) {
        return fail(w);
    }
    f = &w->stack[w->depth - 1];
    if (!json_is_array(f->node) || f->index != json_array_size(f->node)) {
        return fail(w);
    }
    w->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,       NULL,           on_number,    on_string,
    on_start_map, on_key,  on_end_map, on_start_array, on_end_array,
};

int cp_json_crosscheck(const char *buf, size_t len, json_t *root)
{
    walker w;
    cp_arena arena;
    yajl_alloc_funcs funcs;
    yajl_handle h;
    yajl_status st;
    memset(&w, 0, sizeof(w));
    w.root = root;
    if (!cp_arena_for_json(&arena, len, MAX_DEPTH)) {
        return 0;
    }
    cp_arena_funcs(&arena, &funcs);
    h = yajl_alloc(&callbacks, &funcs, &w);
    if (h == NULL) {
        cp_arena_release(&arena);
        return 0;
    }
    st = yajl_parse(h, (const unsigned char *)buf, len);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }
    yajl_free(h);
    cp_arena_release(&arena);
    return st == yajl_status_ok && !w.mismatch && w.root_seen && w.depth == 0;
}
