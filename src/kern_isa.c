/* kern_isa.c — the sampler kernels of samp_kernel.h in explicit vector code: heat-bath and
 * Metropolis sweeps of a block of SIMD_W chains, and the block's energies.  This file is
 * compiled once per instruction set (Makefile: SIMD_ISAS, with -DSIMD_ISA_NAME=sse2|avx2|avx512)
 * and each copy exports its table simd_kernels_<name>; simd.c picks one at run time.
 *
 * Bit-identical on every path: the code is the same vector arithmetic in the same order; the only
 * width-dependent instruction is the fused multiply-add of the field sums, used where exact
 * (w·z with z ∈ {0, 1} is exact, so fma(w, z, acc) rounds once like acc + w·z).
 *
 * Block layout (samp_kernel.h): z[i·SIMD_W + l] ∈ {0, 1} unit i of lane l, one 64-byte line per
 * unit; rs[r·SIMD_W + l] word r of lane l's xoshiro128+ state. */
#include "simd.h"
#include "simd_sqa.h"
#include "samp_kernel.h"

#include <stdint.h>
#include <stdlib.h>

#define SIMD_STR2(x) #x
#define SIMD_STR(x) SIMD_STR2(x)

_Static_assert(SK_W == SIMD_W, "a sampler block is one SIMD vector of lanes");

/* acc + (lanes of zb set ? w : 0): with AVX-512 a neighbour's block state can be read as its
 * 16-bit lane mask (2 bytes instead of a 64-byte line: a P16 block's states then fit in L1)
 * and added under that mask; the same sums as w·z + acc with z ∈ {0, 1}, so the same bits. */
#if SIMD_NL == 16
#define SK_BITS 1
SIMD_INLINE simd_v add_masked(simd_v acc, uint16_t zb, simd_v w)
{
    return (simd_v)_mm512_mask_add_ps((__m512)acc, (__mmask16)zb, (__m512)acc, (__m512)w);
}
/* acc · (lanes of zb set ? f : 1): the factor path's product, read the same way. */
SIMD_INLINE simd_v mul_masked(simd_v acc, uint16_t zb, simd_v f)
{
    return (simd_v)_mm512_mask_mul_ps((__m512)acc, (__mmask16)zb, (__m512)acc, (__m512)f);
}
#else
#define SK_BITS 0
SIMD_INLINE simd_v add_masked(simd_v acc, uint16_t zb, simd_v w)   /* never called: zb is NULL */
{
    (void)zb;
    (void)w;
    __builtin_unreachable();
    return acc;
}
SIMD_INLINE simd_v mul_masked(simd_v acc, uint16_t zb, simd_v f)   /* never called: zb is NULL */
{
    (void)zb;
    (void)f;
    __builtin_unreachable();
    return acc;
}
#endif

/* acc · (lane's bit of zw set ? f : 1) for native vector h of a block, with AVX2: the factor path
 * reads the neighbours' states as 32-bit words of lane bits (4 bytes a unit instead of a 64-byte
 * line: a P16 block's states, 22 kB, stay in L1 where the lines, 360 kB, streamed from L2 —
 * the loads were the hot spot).  Lane l of vector h is bit 8h + l, shifted into the sign bit,
 * which the blend reads; the factor is exactly f or 1, as mul_factor's. */
#define SK_WORDS_FROM (128 * 1024)   /* bytes of a block's float states above which: words */
#if SIMD_NL == 8
#define SK_WORDS 1
SIMD_INLINE simd_v mul_bits(simd_v acc, uint32_t zw, simd_v f, int h)
{
    const __m256i sh = h ? _mm256_setr_epi32(23, 22, 21, 20, 19, 18, 17, 16)
                         : _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
    const __m256i m = _mm256_sllv_epi32(_mm256_set1_epi32((int)zw), sh);
    return acc * (simd_v)_mm256_blendv_ps(_mm256_set1_ps(1.0f), (__m256)f, _mm256_castsi256_ps(m));
}
#else
#define SK_WORDS 0   /* sweep() reads the float lines; sweep_bits() reads the words this way */
SIMD_INLINE simd_v mul_bits(simd_v acc, uint32_t zw, simd_v f, int h)
{
    return acc * simd_sel(simd_bitmask(zw >> (h * SIMD_NL)), f, simd_set1(1.0f));
}
#endif

/* acc · (z ? f : 1) for z ∈ {0, 1}: f·z + (1 − z) is exactly f or 1 (both terms exact, one of
 * them 0), with or without a fused multiply-add, so every path multiplies by the same factor. */
SIMD_INLINE simd_v mul_factor(simd_v acc, simd_v z, simd_v f)
{
    return acc * simd_madd_exact(f, z, simd_set1(1.0f) - z);
}

/* The factor path's e^{−x} of unit i as two partial products E·E2 (two halve the chain, as the
 * field's two sums): E = c_i and E2 = 1, times f_ij of every neighbour j in state 1. */
SIMD_INLINE void factor_product(const struct sk_model *m, const float *restrict f, int i,
                                const float *restrict z, const uint16_t *restrict zb,
                                const uint16_t *restrict zw, simd_v E[SIMD_NB], simd_v E2[SIMD_NB])
{
    const int *restrict adj = m->adj;
    long k = m->adj_start[i];
    const long ke = m->adj_start[i + 1];
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) {
        E[h] = simd_set1(f[2 * m->ne + i]);
        E2[h] = simd_set1(1.0f);
    }
    if (zb) {
        for (; k + 1 < ke; k += 2) {
            E[0] = mul_masked(E[0], zb[adj[k]], simd_set1(f[k]));
            E2[0] = mul_masked(E2[0], zb[adj[k + 1]], simd_set1(f[k + 1]));
        }
        if (k < ke) E[0] = mul_masked(E[0], zb[adj[k]], simd_set1(f[k]));
        return;
    }
    if (zw) {
        for (; k + 1 < ke; k += 2) {
            const simd_v f1 = simd_set1(f[k]), f2 = simd_set1(f[k + 1]);
            const uint32_t w1 = zw[adj[k]], w2 = zw[adj[k + 1]];
            SIMD_UNROLL
            for (int h = 0; h < SIMD_NB; h++) {
                E[h] = mul_bits(E[h], w1, f1, h);
                E2[h] = mul_bits(E2[h], w2, f2, h);
            }
        }
        if (k < ke) {
            const simd_v f1 = simd_set1(f[k]);
            const uint32_t w1 = zw[adj[k]];
            SIMD_UNROLL
            for (int h = 0; h < SIMD_NB; h++) E[h] = mul_bits(E[h], w1, f1, h);
        }
        return;
    }
    for (; k + 1 < ke; k += 2) {
        const simd_v f1 = simd_set1(f[k]), f2 = simd_set1(f[k + 1]);
        const float *zn = z + (size_t)adj[k] * SIMD_W, *zn2 = z + (size_t)adj[k + 1] * SIMD_W;
        SIMD_UNROLL
        for (int h = 0; h < SIMD_NB; h++) {
            E[h] = mul_factor(E[h], simd_load(zn + h * SIMD_NL), f1);
            E2[h] = mul_factor(E2[h], simd_load(zn2 + h * SIMD_NL), f2);
        }
    }
    if (k < ke) {
        const simd_v f1 = simd_set1(f[k]);
        const float *zn = z + (size_t)adj[k] * SIMD_W;
        SIMD_UNROLL
        for (int h = 0; h < SIMD_NB; h++) E[h] = mul_factor(E[h], simd_load(zn + h * SIMD_NL), f1);
    }
}

/* Native vector h of unit i's states: from the lane bits when the sweep keeps them (zb, zw;
 * the float lines are then written once, at the end of the call: a P16 block's lines are
 * 360 kB of stores per sweep that nothing inside the sweep reads), else from the line. */
SIMD_INLINE simd_v unit_state(const float *restrict zi, const uint16_t *restrict zb,
                              const uint16_t *restrict zw, int i, int h)
{
    const simd_v one = simd_set1(1.0f);
    if (zb) return (simd_v)((simd_vi)one & simd_bitmask(zb[i]));
    if (zw) return (simd_v)((simd_vi)one & simd_bitmask(zw[i] >> (h * SIMD_NL)));
    return simd_load(zi + h * SIMD_NL);
}

/* One sweep-set of a block.  Per unit i (colour classes in turn): field x = β·(b_i + Σ W_ij z_j)
 * over SIMD_W lanes, one uniform u per lane, then
 *   heat-bath:   z_i = [u·(1 + e^{−x}) < 1]   (u < σ(x) without a division)
 *   Metropolis:  flip z_i iff u < e^{d}, d = −βΔE = x (0→1) or −x (1→0).
 * Two ways to e^{−x}.  Without fac: the field by multiply-adds, then the exp.  With fac (the
 * Boltzmann factors of one β shared by every lane, samp_kernel.h's struct sk_fac): E = c_i ·
 * Π_{j: z_j = 1} f_ij, a product of selected factors, and Metropolis as u < E (1→0) or
 * u·E < 1 (0→1).  The exp sits on the one dependency chain of a unit (neighbour states → e^{−x}
 * → decision → the state the next colour class reads), and out-of-order execution does not reach
 * past it to the next unit: on a Zen 3 EPYC the avx2 path spent 2.1 ns per heat-bath update on
 * C16 with it, 1.2 with the product (bench_samplers).
 * A block is SIMD_NB native vectors; every loop over h is unrolled, so the block's RNG state
 * and fields live in registers.  With zb (AVX-512 only: SIMD_NB = 1) the neighbours' states are
 * read from their lane masks zb [n], with zw (AVX2/SSE2, factor path) from lane words zw [n];
 * while either is given it is the state, and the float lines z (NULL in sweep_bits) are not
 * written until the call's end. */
SIMD_INLINE void sweep_body(const struct sk_model *m, const struct sk_fac *fac, long nfac,
                            float *restrict z, uint32_t *restrict rs, const float *restrict beta,
                            int metropolis, int nsweeps, uint16_t *restrict zb,
                            uint16_t *restrict zw)
{
    simd_vu s[SIMD_NB][4];
    simd_v bt[SIMD_NB];
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) {
        simd_xoshiro_load(s[h], rs, h);
        bt[h] = beta ? simd_load(beta + h * SIMD_NL) : simd_set1(0.0f);   /* unused with fac */
    }
    const simd_v one = simd_set1(1.0f);
    const int *restrict order = m->order;
    const long *restrict as = m->adj_start;
    const int *restrict adj = m->adj;
    const float *restrict wadj = m->wadj;
    const float *restrict b = m->b;
    const int n = m->cstart[m->ncolors];
    const long nsteps = fac ? nfac : 1;
    for (long st = 0; st < nsteps; st++)
    for (int sw = 0; sw < nsweeps; sw++) {
        /* classes in turn = the order array front to back (cstart only delimits them) */
        for (int idx = 0; idx < n; idx++) {
            const int i = order[idx];
            /* two partial sums halve the dependency chain (degree 15 on Pegasus) */
            simd_v acc[SIMD_NB], acc2[SIMD_NB];
            SIMD_UNROLL
            for (int h = 0; h < SIMD_NB; h++) {
                acc[h] = simd_set1(b[i]);
                acc2[h] = simd_set1(0.0f);
            }
            long k = as[i];
            const long ke = as[i + 1];
            if (fac) {
                factor_product(m, fac[st].f, i, z, zb, zw, acc, acc2);
                float *restrict zi = z ? z + (size_t)i * SIMD_W : NULL;   /* NULL: bits only */
                uint32_t bits = 0;
                SIMD_UNROLL
                for (int h = 0; h < SIMD_NB; h++) {
                    const simd_v E = acc[h] * acc2[h];   /* e^{−x} */
                    const simd_v u = simd_uniform(simd_xoshiro_next(s[h]), true);
                    simd_v znew;
                    if (metropolis) {
                        const simd_v zo = unit_state(zi, zb, zw, i, h);
                        const simd_vi on = zo != 0.0f;   /* 1→0: u < E;  0→1: u < 1/E */
                        const simd_vi flip = (simd_vi)simd_sel(on, (simd_v)(u < E), (simd_v)(u * E < 1.0f));
                        znew = simd_sel(flip, one - zo, zo);
                    } else {
                        znew = (simd_v)((simd_vi)one & (u * (one + E) < 1.0f));
                    }
                    if (!zb && !zw) simd_store(zi + h * SIMD_NL, znew);
                    if (zb) zb[i] = (uint16_t)simd_movemask(znew != 0.0f);
                    if (zw) bits |= simd_movemask(znew != 0.0f) << (h * SIMD_NL);
                }
                if (zw) zw[i] = (uint16_t)bits;
                continue;
            }
            if (zb) {
                for (; k + 1 < ke; k += 2) {
                    acc[0] = add_masked(acc[0], zb[adj[k]], simd_set1(wadj[k]));
                    acc2[0] = add_masked(acc2[0], zb[adj[k + 1]], simd_set1(wadj[k + 1]));
                }
                if (k < ke) acc[0] = add_masked(acc[0], zb[adj[k]], simd_set1(wadj[k]));
                k = ke;
            }
            for (; k + 1 < ke; k += 2) {
                const simd_v w = simd_set1(wadj[k]), w2 = simd_set1(wadj[k + 1]);
                const float *zn = z + (size_t)adj[k] * SIMD_W, *zn2 = z + (size_t)adj[k + 1] * SIMD_W;
                SIMD_UNROLL
                for (int h = 0; h < SIMD_NB; h++) {
                    acc[h] = simd_madd_exact(w, simd_load(zn + h * SIMD_NL), acc[h]);
                    acc2[h] = simd_madd_exact(w2, simd_load(zn2 + h * SIMD_NL), acc2[h]);
                }
            }
            if (k < ke) {
                const simd_v w = simd_set1(wadj[k]);
                const float *zn = z + (size_t)adj[k] * SIMD_W;
                SIMD_UNROLL
                for (int h = 0; h < SIMD_NB; h++)
                    acc[h] = simd_madd_exact(w, simd_load(zn + h * SIMD_NL), acc[h]);
            }
            float *restrict zi = z + (size_t)i * SIMD_W;
            SIMD_UNROLL
            for (int h = 0; h < SIMD_NB; h++) {
                const simd_v x = bt[h] * (acc[h] + acc2[h]);
                const simd_v u = simd_uniform(simd_xoshiro_next(s[h]), true);
                simd_v znew;
                if (metropolis) {
                    const simd_v zo = unit_state(zi, zb, zw, i, h);
                    const simd_v d = x - 2.0f * x * zo;
                    znew = simd_sel(u < simd_exp(d), one - zo, zo);
                } else {
                    znew = (simd_v)((simd_vi)one & (u * (one + simd_exp(-x)) < 1.0f));
                }
                if (!zb) simd_store(zi + h * SIMD_NL, znew);
                if (zb) zb[i] = (uint16_t)simd_movemask(znew != 0.0f);
            }
        }
    }
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) simd_xoshiro_store(s[h], rs, h);
}

/* Separate bodies for the two rules, the two ways to e^{−x} and the two state readings:
 * constants inside each.  fac: NULL, or nfac tables used in turn, nsweeps sweeps each (sa's β
 * steps: one conversion of the states to bits and back per call, not per step). */
static void sweep(const struct sk_model *m, const struct sk_fac *fac, long nfac, float *z,
                  uint32_t *rs, const float *beta, int metropolis, int nsweeps)
{
    const int n = m->n;
    uint16_t *zb = SK_BITS ? malloc((size_t)n * sizeof *zb) : NULL;   /* NULL: read floats */
    if (zb)
        for (int i = 0; i < n; i++) zb[i] = (uint16_t)simd_movemask(simd_load(z + (size_t)i * SIMD_W) != 0.0f);
    /* words where the lines outgrow L2's comfort (P16: 360 kB; on C16, 128 kB, both ran alike) */
    const bool words = SK_WORDS && fac && (size_t)n * SIMD_W * sizeof(float) > SK_WORDS_FROM;
    uint16_t *zw = words ? malloc((size_t)n * sizeof *zw) : NULL;
    for (int i = 0; zw && i < n; i++) {
        uint32_t w = 0;
        for (int h = 0; h < SIMD_NB; h++)
            w |= simd_movemask(simd_load(z + (size_t)i * SIMD_W + h * SIMD_NL) != 0.0f) << (h * SIMD_NL);
        zw[i] = (uint16_t)w;
    }
    if (fac) {
        if (zb && metropolis) sweep_body(m, fac, nfac, z, rs, beta, 1, nsweeps, zb, NULL);
        else if (zb) sweep_body(m, fac, nfac, z, rs, beta, 0, nsweeps, zb, NULL);
        else if (zw && metropolis) sweep_body(m, fac, nfac, z, rs, beta, 1, nsweeps, NULL, zw);
        else if (zw) sweep_body(m, fac, nfac, z, rs, beta, 0, nsweeps, NULL, zw);
        else if (metropolis) sweep_body(m, fac, nfac, z, rs, beta, 1, nsweeps, NULL, NULL);
        else sweep_body(m, fac, nfac, z, rs, beta, 0, nsweeps, NULL, NULL);
    } else {
        if (zb && metropolis) sweep_body(m, NULL, 0, z, rs, beta, 1, nsweeps, zb, NULL);
        else if (zb) sweep_body(m, NULL, 0, z, rs, beta, 0, nsweeps, zb, NULL);
        else if (metropolis) sweep_body(m, NULL, 0, z, rs, beta, 1, nsweeps, NULL, NULL);
        else sweep_body(m, NULL, 0, z, rs, beta, 0, nsweeps, NULL, NULL);
    }
    /* the bits were the state during the call: back to the float lines */
    for (int i = 0; (zb || zw) && i < n; i++)
        SIMD_UNROLL
        for (int h = 0; h < SIMD_NB; h++)
            simd_store(z + (size_t)i * SIMD_W + h * SIMD_NL,
                       unit_state(NULL, zb, zw, i, h));
    free(zb);
    free(zw);
}

/* The factor path on a block held only as lane bits zs [n] (bit l of zs[i]: unit i of lane l):
 * no float lines at all, for callers that keep a block's state between calls (sa's β steps). */
static void sweep_bits(const struct sk_model *m, const struct sk_fac *fac, long nfac, uint16_t *zs,
                       uint32_t *rs, int metropolis, int nsweeps)
{
    if (!zs || !fac) __builtin_unreachable();   /* lets GCC drop the float-line paths */
    if (SK_BITS && metropolis) sweep_body(m, fac, nfac, NULL, rs, NULL, 1, nsweeps, zs, NULL);
    else if (SK_BITS) sweep_body(m, fac, nfac, NULL, rs, NULL, 0, nsweeps, zs, NULL);
    else if (metropolis) sweep_body(m, fac, nfac, NULL, rs, NULL, 1, nsweeps, NULL, zs);
    else sweep_body(m, fac, nfac, NULL, rs, NULL, 0, nsweeps, NULL, zs);
}

/* E(z) = −Σ_i z_i (b_i + ½ Σ_j W_ij z_j) per lane, in double (each edge counted from both ends,
 * so it agrees with bm_energy to rounding).  Not a hot loop (once per sample): plain lane loops,
 * the same double operations in the same order on every path. */
static void energy(const struct sk_model *m, const float *restrict z, double *restrict e)
{
    double acc[SIMD_W] = {0};
    for (int i = 0; i < m->n; i++) {
        double f[SIMD_W] = {0};
        for (long k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
            const double w = m->wd[k];
            const float *zn = z + (size_t)m->adj[k] * SIMD_W;
            for (int l = 0; l < SIMD_W; l++) f[l] += w * (double)zn[l];
        }
        const float *zi = z + (size_t)i * SIMD_W;
        for (int l = 0; l < SIMD_W; l++) acc[l] -= (double)zi[l] * (m->bd[i] + 0.5 * f[l]);
    }
    memcpy(e, acc, sizeof acc);
}

/* out[k] = e^{−β·w[k]} for k < n: whole vectors, then the scalar exp (the same bits per lane). */
static void factors(const float *restrict w, long n, float beta, float *restrict out)
{
    long k = 0;
    const simd_v nb = simd_set1(-beta);
    for (; k + SIMD_NL <= n; k += SIMD_NL) simd_store(out + k, simd_exp(nb * simd_load(w + k)));
    for (; k < n; k++) out[k] = simd_expf(-beta * w[k]);
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
int KNAME(gemm)(bool ta, bool tb, int M, int N, int K, const float *A, int lda, const float *B,
                int ldb, float *C, int ldc);
#define KERN_GEMM KNAME(gemm)
#else
#define KERN_GEMM NULL
#endif

const struct simd_kernels KNAME(simd_kernels) = {
    .isa = SIMD_ISA_ENUM,
    .name = SIMD_STR(SIMD_ISA_NAME),
    .sweep = sweep,
    .sweep_bits = sweep_bits,
    .bits_from = SK_BITS ? 0 : SK_WORDS ? SK_WORDS_FROM : SIZE_MAX,
    .factors = factors,
    .energy = energy,
    .sqa_sweep = KNAME(sqa_sweep),
    .gemm = KERN_GEMM,
};
