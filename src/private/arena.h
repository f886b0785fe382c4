/* A bump allocator that yajl allocates from (yajl_alloc_funcs), so that yajl never meets a failed
 * allocation: yajl 2.1 does not check malloc's result everywhere (yajl_alloc writes through it),
 * so a failure inside yajl would crash the process. certpin makes one checked allocation, large
 * enough for any parse of the text (see cp_arena_for_json), and yajl works inside it. */
#ifndef CP_ARENA_H
#define CP_ARENA_H

#include <stddef.h>

#include <yajl/yajl_common.h>

typedef struct cp_arena {
    unsigned char *base;
    size_t cap;
    size_t used;
    size_t last; /* offset of the last allocation's header, for growing it in place */
} cp_arena;

/* Makes an arena for parsing len bytes of JSON with yajl, nesting at most max_depth deep (the
 * callbacks stop deeper documents). Returns 0 when out of memory. */
int cp_arena_for_json(cp_arena *a, size_t len, size_t max_depth);
void cp_arena_release(cp_arena *a);
/* Fills funcs to allocate from a (funcs->ctx = a). */
void cp_arena_funcs(cp_arena *a, yajl_alloc_funcs *funcs);

#endif /* CP_ARENA_H */
