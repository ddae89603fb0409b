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
#else
#define SK_BITS 0
SIMD_INLINE simd_v add_masked(simd_v acc, uint16_t zb, simd_v w)   /* never called: zb is NULL */
{
    (void)zb;
    (void)w;
    __builtin_unreachable();
    return acc;
}
#endif

/* One sweep-set of a block.  Per unit i (colour classes in turn): field x = β·(b_i + Σ W_ij z_j)
 * over SIMD_W lanes, one uniform u per lane, then
 *   heat-bath:   z_i = [u·(1 + e^{−x}) < 1]   (u < σ(x) without a division)
 *   Metropolis:  flip z_i iff u < e^{d}, d = −βΔE = x (0→1) or −x (1→0).
 * A block is SIMD_NB native vectors; every loop over h is unrolled, so the block's RNG state
 * and fields live in registers.  With zb (AVX-512 only: SIMD_NB = 1) the neighbours' states are
 * read from their lane masks zb [n], kept in step with z. */
SIMD_INLINE void sweep_body(const struct sk_model *m, float *restrict z, uint32_t *restrict rs,
                            const float *restrict beta, int metropolis, int nsweeps,
                            uint16_t *restrict zb)
{
    simd_vu s[SIMD_NB][4];
    simd_v bt[SIMD_NB];
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) {
        simd_xoshiro_load(s[h], rs, h);
        bt[h] = simd_load(beta + h * SIMD_NL);
    }
    const simd_v one = simd_set1(1.0f);
    const int *restrict order = m->order;
    const long *restrict as = m->adj_start;
    const int *restrict adj = m->adj;
    const float *restrict wadj = m->wadj;
    const float *restrict b = m->b;
    const int n = m->cstart[m->ncolors];
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
                    const simd_v zo = simd_load(zi + h * SIMD_NL);
                    const simd_v d = x - 2.0f * x * zo;
                    znew = simd_sel(u < simd_exp(d), one - zo, zo);
                } else {
                    znew = (simd_v)((simd_vi)one & (u * (one + simd_exp(-x)) < 1.0f));
                }
                simd_store(zi + h * SIMD_NL, znew);
                if (zb) zb[i] = (uint16_t)simd_movemask(znew != 0.0f);
            }
        }
    }
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) simd_xoshiro_store(s[h], rs, h);
}

/* Separate bodies for the two rules and state readings: constants inside each. */
static void sweep(const struct sk_model *m, float *z, uint32_t *rs, const float *beta,
                  int metropolis, int nsweeps)
{
    const int n = m->n;
    uint16_t *zb = SK_BITS ? malloc((size_t)n * sizeof *zb) : NULL;   /* NULL: read floats */
    if (zb)
        for (int i = 0; i < n; i++) zb[i] = (uint16_t)simd_movemask(simd_load(z + (size_t)i * SIMD_W) != 0.0f);
    if (zb && metropolis) sweep_body(m, z, rs, beta, 1, nsweeps, zb);
    else if (zb) sweep_body(m, z, rs, beta, 0, nsweeps, zb);
    else if (metropolis) sweep_body(m, z, rs, beta, 1, nsweeps, NULL);
    else sweep_body(m, z, rs, beta, 0, nsweeps, NULL);
    free(zb);
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

const struct simd_kernels KNAME(simd_kernels) = {
    .isa = SIMD_ISA_ENUM,
    .name = SIMD_STR(SIMD_ISA_NAME),
    .sweep = sweep,
    .energy = energy,
    .sqa_sweep = KNAME(sqa_sweep),
};
