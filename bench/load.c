#include "bench.h"
int bench_load(const bench_opts *o, json_t *out, FILE *table)
{
    (void)o;
    (void)out;
    (void)table;
    return 1;
}
