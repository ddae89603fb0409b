/* simd.c — the choice of SIMD path: which of the kernel tables compiled into this binary
 * (src/kern_isa.c, built once per instruction set) the CPU can run, and which one is used.
 * The choice is made once, at the first call, from cpuid (GCC's __builtin_cpu_supports, which
 * also checks that the OS saves the wide registers) and the environment variable QVAE_ISA. */
#include "simd.h"
#include "qv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

extern const struct simd_kernels simd_kernels_sse2, simd_kernels_avx2, simd_kernels_avx512;
static const struct simd_kernels *const tables[SIMD_NISA] = {
    &simd_kernels_sse2, &simd_kernels_avx2, &simd_kernels_avx512,
};

static const char *const names[SIMD_NISA] = {"sse2", "avx2", "avx512"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic(const struct simd_kernels *) current;
static char env_err[160];

const char *simd_isa_name(enum simd_isa isa)
{
    return (unsigned)isa < SIMD_NISA ? names[isa] : "?";
}

void simd_cpu_paths(char *buf, size_t n)
{
    size_t o = 0;
    if (n) buf[0] = 0;
    for (int i = 0; i < SIMD_NISA && o < n; i++)
        if (simd_cpu_has((enum simd_isa)i))
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? " " : "", simd_isa_name((enum simd_isa)i));
}

int simd_isa_parse(const char *s)
{
    for (int i = 0; i < SIMD_NISA; i++)
        if (s && !strcasecmp(s, names[i])) return i;
    return -1;
}

bool simd_cpu_has(enum simd_isa isa)
{
    __builtin_cpu_init();
    switch (isa) {
    case SIMD_SSE2: return __builtin_cpu_supports("sse2");
    /* x86-64-v3, what the AVX2 objects are compiled for (its other parts, BMI1, LZCNT, MOVBE,
     * F16C, come with these on every such CPU; the kernels convert no half floats) */
    case SIMD_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("bmi2");
    /* x86-64-v4 */
    case SIMD_AVX512:
        return simd_cpu_has(SIMD_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd");
    default: return false;
    }
}

const struct simd_kernels *simd_kernels_for(enum simd_isa isa)
{
    if ((unsigned)isa >= SIMD_NISA || !simd_cpu_has(isa)) return NULL;
    return tables[isa];
}

static void choose(void)
{
    const struct simd_kernels *best = tables[SIMD_SSE2];
    for (int i = SIMD_NISA - 1; i >= 0; i--)
        if (simd_kernels_for((enum simd_isa)i)) {
            best = tables[i];
            break;
        }
    const char *env = getenv("QVAE_ISA");
    if (env && *env) {
        int isa = simd_isa_parse(env);
        if (isa < 0) {
            snprintf(env_err, sizeof env_err,
                     "QVAE_ISA: unknown instruction set '%.40s' (sse2, avx2 or avx512)", env);
            best = NULL;
        } else if (!simd_kernels_for((enum simd_isa)isa)) {
            snprintf(env_err, sizeof env_err, "QVAE_ISA: %s: this CPU does not support it",
                     names[isa]);
            best = NULL;
        } else {
            best = tables[isa];
        }
    }
    atomic_store(&current, best);
}

const struct simd_kernels *simd_kernels(void)
{
    pthread_once(&once, choose);
    return atomic_load(&current);
}

int simd_select(enum simd_isa isa)
{
    pthread_once(&once, choose);
    const struct simd_kernels *k = simd_kernels_for(isa);
    if (!k) return qv_seterr("SIMD path %s: this CPU does not support it", simd_isa_name(isa));
    atomic_store(&current, k);
    env_err[0] = 0;
    return 0;
}

const char *simd_isa_error(void)
{
    pthread_once(&once, choose);
    return env_err[0] ? env_err : NULL;
}
