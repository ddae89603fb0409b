/* simd_sqa.h — what one sweep of the sqa sampler (samp_sqa.c) hands its kernel
 * (kern_isa_sqa.c, compiled once per instruction set like kern_isa.c), and the naming of the
 * per-instruction-set kernel copies. */
#ifndef QV_SIMD_SQA_H
#define QV_SIMD_SQA_H

#include "simd.h"

/* Kernel translation units are compiled with -DSIMD_ISA_NAME=sse2|avx2|avx512 and
 * -DSIMD_ISA_ENUM=SIMD_SSE2|…; KNAME(f) is f_<name>, so the copies link side by side. */
#ifdef SIMD_ISA_NAME
#define SIMD_CAT2(a, b) a##_##b
#define SIMD_CAT(a, b) SIMD_CAT2(a, b)
#define KNAME(x) SIMD_CAT(x, SIMD_ISA_NAME)
void KNAME(sqa_sweep)(const struct sqa_sweep *s);
#endif

/* One sweep of one read (samp_sqa.c's header comment has the model): for every spin i in order,
 * its P slice fields, then local heat-bath moves on even and odd slices (when `local`), then the
 * imaginary-time cluster move (when `cluster`).  Spins are ±1 floats, slice-minor:
 * sp[i·P + k] is slice k of spin i. */
struct sqa_sweep {
    int n, P;                    /* spins, Trotter slices (even) */
    const long *adj_start;       /* [n+1] the graph's CSR */
    const int *adj;              /* [2 ne] */
    const float *h, *Jadj;       /* [n], [2 ne]: this read's programmed (noisy) problem */
    float a, K, pbond;           /* the step: a = β B/(2P), K slice coupling, bond probability */
    /* Per-spin K and bond probability [n] for spins on their own s_i(t) (anneal offsets), and
     * the spins that sit this sweep out (their own freeze-out clock), all three set or all
     * NULL: every spin uses K and pbond (the common case; no per-spin loads). */
    const float *Kv, *pbv;
    const uint8_t *skip;
    bool local, cluster;         /* which moves run */
    float *sp;                   /* [n × P] state, updated */
    uint32_t *rs;                /* [4 × SIMD_W] the read's lane RNG, advanced */
    /* scratch, with Pr = P rounded up to SIMD_W: f, u [Pr]; pad [Pr + 2]; u2 [2 Pr]; bond [Pr] */
    float *f, *pad, *u, *u2;
    uint8_t *bond;
};

#endif
