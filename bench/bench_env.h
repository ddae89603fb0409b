/* bench_env.h — what every benchmark figure is printed beside (issue 21): the CPU model, the
 * SIMD path of the sampler kernels, OpenBLAS's kernel set and the thread count.  Header-only,
 * shared by the bench programs. */
#ifndef QV_BENCH_ENV_H
#define QV_BENCH_ENV_H

#include "qv.h"
#include "simd.h"

#include <cblas.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The CPU's model name from /proc/cpuinfo, its "(R)"/"(TM)"/"CPU" noise removed. */
static inline const char *bench_cpu_model(void)
{
    static char model[128];
    if (model[0]) return model;
    snprintf(model, sizeof model, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !c) continue;
        char *o = model;
        for (const char *p = c + 2; *p && *p != '\n' && o < model + sizeof model - 1; p++) {
            if (!strncmp(p, "(R)", 3) || !strncmp(p, "(TM)", 4)) {
                p += p[1] == 'R' ? 2 : 3;
                continue;
            }
            if (*p == ' ' && o > model && o[-1] == ' ') continue;
            *o++ = *p;
        }
        *o = 0;
        break;
    }
    if (f) fclose(f);
    return model;
}

/* "[<cpu> | <path> | OpenBLAS <kernels> | <t> thr]" for the SIMD path in use. */
static inline const char *bench_tag(int threads)
{
    static char tag[256];
    const struct simd_kernels *k = simd_kernels();
    const char *core = openblas_get_corename();
    snprintf(tag, sizeof tag, "[%s | %s | OpenBLAS %s | %d thr]", bench_cpu_model(),
             k ? k->name : "?", core ? core : "?", threads);
    return tag;
}

/* Median of n values (sorts them). */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The machine's own 2-thread speed-up on work that shares nothing (a private arithmetic loop per
 * thread, median of 3): what a shared or CPU-limited machine allows at best, to read every
 * "2 threads = …x one" figure against. */
static void bench_spin_job(void *p, long j)
{
    double x = 0;
    for (long i = 0; i < 60000000L; i++) x += (double)i * 1e-9;
    ((volatile double *)p)[j] = x;
}
static inline double bench_ideal_scaling(void)
{
    static double ratio;
    if (ratio > 0) return ratio;
    volatile double sink[2];
    double r[3];
    for (int rep = 0; rep < 3; rep++) {
        double t0 = qv_now();
        qv_parallel(1, 2, bench_spin_job, (void *)sink);   /* two jobs on one thread */
        double t1 = qv_now();
        qv_parallel(2, 2, bench_spin_job, (void *)sink);   /* one job on each of two threads */
        r[rep] = (t1 - t0) / (qv_now() - t1);
    }
    ratio = bench_median(r, 3);
    return ratio;
}

/* One header line: the machine, the paths it runs, the default. */
static inline void bench_print_env(void)
{
    char have[64];
    simd_cpu_paths(have, sizeof have);
    const struct simd_kernels *k = simd_kernels();
    const char *core = openblas_get_corename();
    printf("machine: %s; SIMD paths %s (default %s); OpenBLAS kernels %s; %d CPUs; "
           "2 threads on work that shares nothing: %.2fx one\n", bench_cpu_model(), have,
           k ? k->name : "?", core ? core : "?", qv_ncpu(), bench_ideal_scaling());
}

#endif
