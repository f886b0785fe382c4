/* A bump allocator for yajl: see private/arena.h. Every block has a header holding its size;
 * the last block grows in place, any other is copied; free gives back only the last block.
 *
 * How large: yajl allocates its handle and lexer (a few hundred bytes), a byte stack of nesting
 * levels (128 bytes a step; the callbacks stop before 128 levels) and the buffer it decodes
 * escaped strings into, which doubles from 2 KiB until it holds the longest string: at most
 * 2 * (2 KiB + 2 * len) bytes over all its growth. Four times the text plus 64 KiB covers it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "private/arena.h"

#define ALIGN 16u
#define HEADER ALIGN /* the size of the block, in a header that keeps the block aligned */

static size_t round_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

int cp_arena_for_json(cp_arena *a, size_t len, size_t max_depth)
{
    size_t cap;
    memset(a, 0, sizeof(*a));
    if (len > (SIZE_MAX - 65536 - 128 * max_depth) / 4) {
        return 0;
    }
    cap = 4 * len + 65536 + 128 * max_depth;
    a->base = malloc(cap);
    if (a->base == NULL) {
        return 0;
    }
    a->cap = cap;
    a->last = SIZE_MAX;
    return 1;
}

void cp_arena_release(cp_arena *a)
{
    free(a->base);
    memset(a, 0, sizeof(*a));
}

static size_t block_size(const unsigned char *p)
{
    size_t n;
    memcpy(&n, p - HEADER, sizeof(n));
    return n;
}

static void *arena_malloc(void *ctx, size_t n)
{
    cp_arena *a = ctx;
    size_t need = HEADER + round_up(n);
    unsigned char *p;
    if (n > a->cap || need > a->cap - a->used) {
        return NULL; /* cannot happen within the bound above */
    }
    p = a->base + a->used;
    memcpy(p, &n, sizeof(n));
    a->last = a->used;
    a->used += need;
    return p + HEADER;
}

static void *arena_realloc(void *ctx, void *ptr, size_t n)
{
    cp_arena *a = ctx;
    unsigned char *p = ptr;
    unsigned char *q;
    size_t old;
    if (p == NULL) {
        return arena_malloc(ctx, n);
    }
    old = block_size(p);
    if ((size_t)(p - HEADER - a->base) == a->last) {
        size_t need = HEADER + round_up(n);
        if (n <= a->cap && need <= a->cap - a->last) {
            memcpy(p - HEADER, &n, sizeof(n));
            a->used = a->last + need;
            return p;
        }
        return NULL;
    }
    if (n <= old) {
        return p;
    }
    q = arena_malloc(ctx, n);
    if (q != NULL) {
        memcpy(q, p, old);
    }
    return q;
}

static void arena_free(void *ctx, void *ptr)
{
    cp_arena *a = ctx;
    unsigned char *p = ptr;
    if (p != NULL && (size_t)(p - HEADER - a->base) == a->last) {
        a->used = a->last;
        a->last = SIZE_MAX;
    }
}

void cp_arena_funcs(cp_arena *a, yajl_alloc_funcs *funcs)
{
    funcs->malloc = arena_malloc;
    funcs->realloc = arena_realloc;
    funcs->free = arena_free;
    funcs->ctx = a;
}
