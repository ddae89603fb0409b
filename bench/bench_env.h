/* bench_env.h — what every benchmark figure is printed beside (issue 21): the CPU model, the
 * SIMD path of the sampler kernels, OpenBLAS's kernel set and the thread count.  Header-only,
 * shared by the bench programs. */
#ifndef QV_BENCH_ENV_H
#define QV_BENCH_ENV_H

#include "simd.h"

#include <cblas.h>
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

/* One header line: the machine, the paths it runs, the default. */
static inline void bench_print_env(void)
{
    char have[64] = "";
    for (int i = 0; i < SIMD_NISA; i++)
        if (simd_cpu_has((enum simd_isa)i))
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", *have ? " " : "",
                     simd_isa_name((enum simd_isa)i));
    const struct simd_kernels *k = simd_kernels();
    const char *core = openblas_get_corename();
    printf("machine: %s; SIMD paths %s (default %s); OpenBLAS kernels %s; %d CPUs\n",
           bench_cpu_model(), have, k ? k->name : "?", core ? core : "?", qv_ncpu());
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

#endif
