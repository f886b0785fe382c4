/* Finding where a JSON path is in a policy's text, for messages.
 *
 * jansson, which parses and decides, gives positions only for syntax errors; its values carry
 * none. So when a loaded policy has findings, the text is read once more by yajl's event parser,
 * whose callbacks can ask how many bytes it has consumed: each value's path is tracked, and the
 * paths that have findings get their line and column. yajl only locates, it never decides, and it
 * runs only when there is something to report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "private/arena.h"
#include "private/error.h"
#include "private/policy.h"

#define MAX_DEPTH 32
#define PATH_MAX_LEN 160

typedef struct want {
    char path[PATH_MAX_LEN]; /* the finding's path, or an ancestor's when it is not in the text */
    size_t diag;
    int about_key;   /* the finding is about the key itself (an unknown key) */
    size_t key_at;   /* byte offset of the key naming this path; SIZE_MAX: not seen */
    size_t value_at; /* byte offset of the value at this path; SIZE_MAX: not seen */
    size_t offset;   /* the one of the two the message points at */
} want;

typedef struct frame {
    int is_array;
    long index;      /* current element index in an array */
    size_t path_len; /* length of the path of this container */
} frame;

typedef struct locator {
    yajl_handle h;
    const char *buf;
    size_t last_end;
    char path[PATH_MAX_LEN];
    size_t path_len;
    frame stack[MAX_DEPTH];
    int depth;
    want *wants;
    size_t n_wants;
} locator;

static int cmp_want(const void *a, const void *b)
{
    return strcmp(((const want *)a)->path, ((const want *)b)->path);
}

/* bsearch's comparison of a path (the key) with a want. */
static int cmp_path_want(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const want *)elem)->path);
}

/* Records where the key (is_key) or the value at the current path starts. A finding about a
 * value points at the value; one about an unknown key, at the key. */
static void mark(locator *l, size_t offset, int is_key)
{
    want *w;
    size_t i;
    w = bsearch(l->path, l->wants, l->n_wants, sizeof(want), cmp_path_want);
    if (w == NULL) {
        return;
    }
    /* several findings may share a path: bsearch lands on any one of them */
    while (w > l->wants && strcmp((w - 1)->path, l->path) == 0) {
        w--;
    }
    for (i = (size_t)(w - l->wants); i < l->n_wants && strcmp(l->wants[i].path, l->path) == 0;
         i++) {
        size_t *slot = is_key ? &l->wants[i].key_at : &l->wants[i].value_at;
        if (*slot == SIZE_MAX) {
            *slot = offset;
        }
    }
}

/* Before a value: in an array, the element's path is the container's plus [i]. */
static void begin_value(locator *l)
{
    frame *f;
    if (l->depth == 0) {
        return;
    }
    f = &l->stack[l->depth - 1];
    if (f->is_array) {
        int n = snprintf(l->path + f->path_len, sizeof(l->path) - f->path_len, "[%ld]", f->index);
        f->index++;
        l->path_len = f->path_len + (n > 0 ? (size_t)n : 0);
        if (l->path_len >= sizeof(l->path)) {
            l->path_len = sizeof(l->path) - 1;
        }
    }
}

/* Where the token yajl just reported starts: after the end of the previous one, past white
 * space and separators. Then remember where this one ends. */
static size_t here(locator *l)
{
    size_t at = l->last_end;
    size_t end = yajl_get_bytes_consumed(l->h);
    while (at < end && l->buf[at] != '\0' && strchr(" \t\r\n,:", l->buf[at]) != NULL) {
        at++;
    }
    l->last_end = end;
    return at;
}

static int scalar(locator *l)
{
    begin_value(l);
    mark(l, here(l), 0);
    return 1;
}

static int on_null(void *ctx) { return scalar(ctx); }
static int on_bool(void *ctx, int b)
{
    (void)b;
    return scalar(ctx);
}
static int on_number(void *ctx, const char *s, size_t n)
{
    (void)s;
    (void)n;
    return scalar(ctx);
}
static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    (void)s;
    (void)n;
    return scalar(ctx);
}

static int open_container(locator *l, int is_array)
{
    frame *f;
    begin_value(l);
    mark(l, here(l), 0);
    if (l->depth == MAX_DEPTH) {
        return 0; /* deeper than any policy: stop locating */
    }
    f = &l->stack[l->depth++];
    f->is_array = is_array;
    f->index = 0;
    f->path_len = l->path_len;
    return 1;
}

static int close_container(locator *l)
{
    (void)here(l);
    if (l->depth > 0) {
        l->depth--;
    }
    l->path_len = l->depth > 0 ? l->stack[l->depth - 1].path_len : 0;
    l->path[l->path_len] = '\0';
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, 0); }
static int on_start_array(void *ctx) { return open_container(ctx, 1); }
static int on_end(void *ctx) { return close_container(ctx); }

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    locator *l = ctx;
    frame *f = &l->stack[l->depth - 1];
    size_t at = f->path_len;
    int n = snprintf(l->path + at, sizeof(l->path) - at, "%s%.*s", at > 0 ? "." : "", (int)len,
                     (const char *)key);
    l->path_len = at + (n > 0 ? (size_t)n : 0);
    if (l->path_len >= sizeof(l->path)) {
        l->path_len = sizeof(l->path) - 1;
    }
    /* A finding about a key (unknown key) points at the key itself. */
    mark(l, here(l), 1);
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,   NULL,           on_number, on_string,
    on_start_map, on_key,  on_end, on_start_array, on_end,
};

/* Turns path into the path of the value that contains it: "domains[1].pins" -> "domains[1]",
 * "domains[1]" -> "domains". Returns 0 (and leaves path alone) at the root. */
static int to_parent(char *path)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] != '.' && path[n - 1] != '[') {
        n--;
    }
    if (n <= 1) {
        return 0;
    }
    path[n - 1] = '\0'; /* cut at the '.' or '[' */
    return 1;
}

static void locate_pass(locator *l, const char *buf, size_t len)
{
    cp_arena arena;
    yajl_alloc_funcs funcs;
    qsort(l->wants, l->n_wants, sizeof(want), cmp_want);
    l->buf = buf;
    l->last_end = 0;
    l->depth = 0;
    l->path_len = 0;
    l->path[0] = '\0';
    if (!cp_arena_for_json(&arena, len, MAX_DEPTH)) {
        return; /* lines are a courtesy: the findings stand without them */
    }
    cp_arena_funcs(&arena, &funcs);
    l->h = yajl_alloc(&callbacks, &funcs, l);
    if (l->h != NULL) {
        (void)yajl_parse(l->h, (const unsigned char *)buf, len);
        (void)yajl_complete_parse(l->h);
        yajl_free(l->h);
        l->h = NULL;
    }
    cp_arena_release(&arena);
}

static int cmp_offset(const void *a, const void *b)
{
    size_t x = ((const want *)a)->offset;
    size_t y = ((const want *)b)->offset;
    return x < y ? -1 : x > y;
}

void cp_locate_diags(const char *buf, size_t len, certpin_diags *diags, size_t from)
{
    locator l;
    size_t n = certpin_diags_count(diags);
    size_t i;
    size_t k = 0;
    int round;
    size_t scanned = 0;
    int line = 1;
    size_t line_start = 0;

    if (from >= n) {
        return;
    }
    memset(&l, 0, sizeof(l));
    l.wants = calloc(n - from, sizeof(want));
    if (l.wants == NULL) {
        return; /* lines are a courtesy: the findings stand without them */
    }
    for (i = from; i < n; i++) {
        const certpin_diag *d = certpin_diags_get(diags, i);
        if (d->path[0] != '\0' && d->line == 0) {
            cp_strlcpy(l.wants[k].path, d->path, sizeof(l.wants[k].path));
            l.wants[k].diag = i;
            l.wants[k].about_key = strcmp(d->code, "unknown-key") == 0;
            l.wants[k].key_at = SIZE_MAX;
            l.wants[k].value_at = SIZE_MAX;
            l.wants[k].offset = SIZE_MAX;
            k++;
        }
    }
    l.n_wants = k;
    if (k == 0) {
        free(l.wants);
        return;
    }
    locate_pass(&l, buf, len);
    /* A finding about something absent ("domains[1].pins" when the entry has no pins) points at
     * the nearest enclosing value that is there. */
    for (round = 0; round < MAX_DEPTH; round++) {
        int again = 0;
        for (i = 0; i < k; i++) {
            want *w = &l.wants[i];
            if (w->key_at == SIZE_MAX && w->value_at == SIZE_MAX && to_parent(w->path)) {
                w->about_key = 0;
                again = 1;
            }
        }
        if (!again) {
            break;
        }
        locate_pass(&l, buf, len);
    }
    for (i = 0; i < k; i++) {
        want *w = &l.wants[i];
        w->offset = (w->about_key || w->value_at == SIZE_MAX) ? w->key_at : w->value_at;
    }
    /* Offsets to lines in one pass over the text. */
    qsort(l.wants, k, sizeof(want), cmp_offset);
    for (i = 0; i < k && l.wants[i].offset != SIZE_MAX; i++) {
        int col;
        while (scanned < l.wants[i].offset && scanned < len) {
            if (buf[scanned] == '\n') {
                line++;
                line_start = scanned + 1;
            }
            scanned++;
        }
        col = (int)(l.wants[i].offset - line_start) + 1;
        cp_diags_set_line(diags, l.wants[i].diag, line, col);
    }
    free(l.wants);
}
