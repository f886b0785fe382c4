/* Measuring memory: the heap in use from glibc (mallinfo2), the peak resident set from the kernel
 * (VmHWM, reset through /proc/self/clear_refs). Each measurement runs in a child process made for
 * it (see load.c), so that one's heap does not shape the next. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int64_t bench_heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return (int64_t)(m.uordblks + m.hblkhd);
}

static int64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t n = strlen(key);
    int64_t v = -1;
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, n) == 0 && line[n] == ':') {
            v = strtoll(line + n + 1, NULL, 10);
            break;
        }
    }
    (void)fclose(f);
    return v;
}

int64_t bench_rss_now(void)
{
    int64_t kb = status_kb("VmRSS");
    return kb < 0 ? -1 : kb * 1024;
}

int64_t bench_rss_peak(void)
{
    int64_t kb = status_kb("VmHWM");
    return kb < 0 ? -1 : kb * 1024;
}

int bench_rss_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL) {
        return 0;
    }
    if (fputs("5", f) == EOF) {
        (void)fclose(f);
        return 0;
    }
    return fclose(f) == 0;
}
