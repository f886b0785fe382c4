/* Counting allocations: this program replaces malloc, calloc, realloc and the aligned allocators
 * (ELF interposition, which glibc supports: libcertpin, OpenSSL, jansson and libcurl all allocate
 * through these) and forwards each call to glibc's own allocator. While counting is on, each call
 * that returns memory is counted; sizes are not (the heap's size comes from mallinfo2 and the
 * kernel's VmHWM: see memory.c). free is glibc's own. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static atomic_int counting;
static atomic_ullong calls;

static void *counted(void *p)
{
    if (p != NULL && atomic_load_explicit(&counting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    }
    return p;
}

void *malloc(size_t size) { return counted(__libc_malloc(size)); }

void *calloc(size_t n, size_t size) { return counted(__libc_calloc(n, size)); }

void *realloc(void *p, size_t size) { return counted(__libc_realloc(p, size)); }

void *memalign(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }

void *aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }

int posix_memalign(void **out, size_t alignment, size_t size)
{
    void *p;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) {
        return EINVAL;
    }
    p = memalign(alignment, size);
    if (p == NULL) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void alloc_count_enable(int on) { atomic_store(&counting, on); }

uint64_t alloc_count_calls(void) { return atomic_load(&calls); }
