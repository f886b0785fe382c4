/* Clocks and statistics for the benchmark. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

double bench_now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, size_t n)
{
    qsort(values, n, sizeof(double), cmp_double);
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

double bench_t975(size_t df)
{
    /* Student's t, two-sided 95%: exact to 3 decimals up to 30 degrees of freedom, then the
     * Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5), whose
     * error there is below 1e-4. */
    static const double table[31] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                     2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                     2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                     2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    const double z = 1.959963984540054;
    double v;
    double z3 = z * z * z;
    double z5 = z3 * z * z;
    double z7 = z5 * z * z;
    double z9 = z7 * z * z;
    if (df == 0) {
        return INFINITY;
    }
    if (df <= 30) {
        return table[df];
    }
    v = (double)df;
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
           (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
           (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
}

void bench_mean_ci95(const double *values, size_t n, double *mean, double *half_width)
{
    double sum = 0;
    double ss = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        sum += values[i];
    }
    *mean = n > 0 ? sum / (double)n : NAN;
    if (n < 2) {
        *half_width = INFINITY;
        return;
    }
    for (i = 0; i < n; i++) {
        ss += (values[i] - *mean) * (values[i] - *mean);
    }
    *half_width = bench_t975(n - 1) * sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static volatile uint64_t sink;

void bench_sink(uint64_t v) { sink += v; }

double bench_time_loop(bench_loop_fn fn, void *arg, size_t iters)
{
    double t0 = bench_now_ns();
    double t1;
    fn(arg, iters);
    t1 = bench_now_ns();
    return (t1 - t0) / (double)iters;
}

size_t bench_calibrate(bench_loop_fn fn, void *arg, double target_ns)
{
    size_t iters = 1;
    for (;;) {
        double t0 = bench_now_ns();
        double spent;
        fn(arg, iters);
        spent = bench_now_ns() - t0;
        if (spent >= target_ns / 8 || iters >= ((size_t)1 << 40)) {
            double per = spent / (double)iters;
            double n = per > 0 ? target_ns / per : (double)iters * 8;
            return n < 1 ? 1 : (size_t)n;
        }
        iters *= 2;
    }
}

void bench_put(json_t *out, const char *key, double value)
{
    double rounded = value;
    if (isfinite(value) && value != 0) {
        double scale = pow(10, 3 - floor(log10(fabs(value))));
        rounded = round(value * scale) / scale;
    }
    if (!isfinite(rounded)) {
        (void)json_object_set_new(out, key, json_null());
        return;
    }
    (void)json_object_set_new(out, key, json_real(rounded));
}
