/* kern_isa_sqa.c — the sweep of the sqa sampler (path-integral Monte Carlo, samp_sqa.c) in
 * explicit vector code over the Trotter slices of a spin; compiled once per instruction set like
 * kern_isa.c.  P a multiple of SIMD_W up to 64 (16 and 32 are the usual choices) runs on whole
 * vectors held in registers (neighbouring slices by lane shuffles), with the imaginary-time bonds
 * and segments as 64-bit slice masks; any other P runs the scalar ring walk.  Both are written
 * so that every path computes the same bits: the same arithmetic per slice, and sums in a fixed
 * order (Hillis–Steele prefix sums on the vector path, sequential ones on the ring walk, a fixed
 * tree for a whole worldline). */
#include "simd_sqa.h"

#define MAXV (64 / SIMD_NL)   /* native vectors per worldline on the vector path: P ≤ 64 */

/* The read's generator: SIMD_W lanes as SIMD_NB native vectors. */
struct gen { simd_vu s[SIMD_NB][4]; };

/* SIMD_W uniforms in [0, 1): lane l of one step of every generator. */
SIMD_INLINE void draw16(struct gen *g, float *out)
{
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++)
        simd_store(out + h * SIMD_NL, simd_uniform(simd_xoshiro_next(g->s[h]), false));
}

/* Uniforms into out[0 .. n rounded up to SIMD_W). */
SIMD_INLINE void fill_u(struct gen *g, float *out, int n)
{
    for (int i = 0; i < n; i += SIMD_W) draw16(g, out + i);
}

/* Single uniforms, SIMD_W drawn at a time. */
struct ubuf { float u[SIMD_W]; int pos; };
SIMD_INLINE float unif(struct gen *g, struct ubuf *b)
{
    if (b->pos >= SIMD_W) {
        draw16(g, b->u);
        b->pos = 0;
    }
    return b->u[b->pos++];
}

/* Heat-bath flip of a cluster of spin value sk with integrated field F: accepted iff
 * u·(1 + e^{−2 a sk F}) < 1. */
SIMD_INLINE bool cluster_flip(float u, float a, float sk, float F)
{
    return u * (1.0f + simd_expf(-2.0f * a * sk * F)) < 1.0f;
}

/* Local heat-bath moves of slice parity `par` of one worldline held in registers, sv [nv]
 * (slice k = lane k mod SIMD_NL of vector k / SIMD_NL), fields fv [nv]: ΔS of flipping slice k is
 * 2 s_k (K (s_{k−1} + s_{k+1}) − a f_k), periodic in k. */
SIMD_INLINE void local_vec(simd_v *sv, const simd_v *fv, const simd_v *uv, int nv, int par,
                           float a, float K)
{
    /* lanes of parity par (SIMD_NL is even, so lane parity = slice parity) */
    const simd_vi pm = simd_bitmask(par ? 0xAAAAAAAAu : 0x55555555u);
    simd_v nb[MAXV];
    SIMD_UNROLL
    for (int v = 0; v < nv; v++)   /* neighbours from the state before this half-sweep */
        nb[v] = simd_from_left(sv[(v + nv - 1) % nv], sv[v]) + simd_from_right(sv[v], sv[(v + 1) % nv]);
    SIMD_UNROLL
    for (int v = 0; v < nv; v++) {
        const simd_v dS = 2.0f * sv[v] * (K * nb[v] - a * fv[v]);
        const simd_vi flip = pm & (uv[v] * (1.0f + simd_exp(dS)) < 1.0f);
        sv[v] = simd_sel(flip, -sv[v], sv[v]);
    }
}

/* Σ of the slices of a worldline in a fixed order: slices k ≡ l (mod SIMD_W) summed in k order
 * per lane l, then a fixed pairwise tree over the SIMD_W lanes. */
SIMD_INLINE float sum_all(const simd_v *fv, int nv)
{
    float t[SIMD_W];
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) {
        simd_v acc = fv[h];
        SIMD_UNROLL
        for (int v = h + SIMD_NB; v < nv; v += SIMD_NB) acc += fv[v];
        simd_store(t + h * SIMD_NL, acc);
    }
    for (int w = SIMD_W / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) t[j] += t[j + w];
    return t[0];
}

/* Inclusive prefix sums cum[k] = f_0 + … + f_k of a worldline's fields fv [nv] by Hillis–Steele
 * (log2 P steps, each adding the value d = 1, 2, 4, … slices back, lane by lane): the same
 * additions in the same order on every path, and no chain of P dependent additions. */
SIMD_INLINE void prefix_vec(const simd_v *fv, int nv, float *cum)
{
    const simd_v zero = simd_set1(0.0f);
    simd_v c[MAXV];
    SIMD_UNROLL
    for (int v = 0; v < nv; v++) c[v] = fv[v];
    SIMD_UNROLL
    for (int j = 0; j < 6; j++) {
        const int d = 1 << j;
        if (d >= nv * SIMD_NL) break;
        simd_v back[MAXV];   /* slices k − d (0 before slice 0) */
        SIMD_UNROLL
        for (int v = 0; v < nv; v++) {
            if (d < SIMD_NL)   /* lane l: slice l − d of this vector or NL + l − d of the one before */
                back[v] = simd_shift_in(v ? c[v - 1] : zero, c[v], d);
            else
                back[v] = v >= d / SIMD_NL ? c[v - d / SIMD_NL] : zero;
        }
        SIMD_UNROLL
        for (int v = 0; v < nv; v++) c[v] += back[v];
    }
    SIMD_UNROLL
    for (int v = 0; v < nv; v++) simd_store(cum + v * SIMD_NL, c[v]);
}

/* The imaginary-time cluster move of one worldline on the vector path (see samp_sqa.c):
 * bonds between equal neighbouring slices with probability pbond, then a heat-bath flip of every
 * segment (or of the whole worldline when no bond is missing). */
SIMD_INLINE void cluster_vec(const struct sqa_sweep *s, float *restrict si, const simd_v *sv,
                             const simd_v *fv, int nv, float pbond, struct gen *g, struct ubuf *ub)
{
    const int P = nv * SIMD_NL;
    const uint64_t full = P == 64 ? ~0ULL : (1ULL << P) - 1;
    uint64_t keep = 0;   /* bit k: bond between slices k and k+1 (mod P) */
    SIMD_UNROLL
    for (int v = 0; v < nv; v++) {
        const simd_v u = simd_uniform(simd_xoshiro_next(g->s[v % SIMD_NB]), false);
        const simd_vi kb = (sv[v] == simd_from_right(sv[v], sv[(v + 1) % nv])) & (u < pbond);
        keep |= (uint64_t)simd_movemask(kb) << (v * SIMD_NL);
    }
    const uint64_t brk = ~keep & full;
    const float a = s->a;
    if (!brk) {   /* one cluster: the whole worldline */
        const float sk = si[0];
        if (cluster_flip(unif(g, ub), a, sk, sum_all(fv, nv)))
            SIMD_UNROLL
            for (int v = 0; v < nv; v++) simd_store(si + v * SIMD_NL, simd_set1(-sk));
        return;
    }
    /* segments end at the missing bonds; a segment's field is a difference of prefix sums */
    float *restrict cum = s->pad;
    prefix_vec(fv, nv, cum);
    float xs[64 + SIMD_W];
    uint64_t ms[64];
    int nseg = 0;
    const int first = __builtin_ctzll(brk);
    int prev = first;
    for (uint64_t rest = brk & (brk - 1); rest; rest &= rest - 1) {   /* segment prev+1 .. b */
        const int b = __builtin_ctzll(rest);
        xs[nseg] = -2.0f * a * si[b] * (cum[b] - cum[prev]);
        ms[nseg++] = (full >> (P - (b - prev))) << (prev + 1);
        prev = b;
    }
    /* the segment that wraps: prev+1 .. P−1 and 0 .. first */
    uint64_t m = full >> (P - 1 - first);
    if (prev + 1 < P) m |= full >> (prev + 1) << (prev + 1);
    xs[nseg] = -2.0f * a * si[first] * (cum[P - 1] - cum[prev] + cum[first]);
    ms[nseg++] = m;
    for (int j = nseg; j % SIMD_W; j++) xs[j] = 0.0f;   /* the last chunk's unused lanes */
    uint64_t flip = 0;
    for (int j0 = 0; j0 < nseg; j0 += SIMD_W) {   /* one uniform per segment, SIMD_W at a time */
        uint32_t acc = 0;
        SIMD_UNROLL
        for (int h = 0; h < SIMD_NB; h++) {
            const simd_v u = simd_uniform(simd_xoshiro_next(g->s[h]), false);
            const simd_v x = simd_load(xs + j0 + h * SIMD_NL);
            acc |= simd_movemask(u * (1.0f + simd_exp(x)) < 1.0f) << (h * SIMD_NL);
        }
        for (int j = j0; acc && j < nseg; j++, acc >>= 1)
            flip |= ms[j] & (0 - (uint64_t)(acc & 1));
    }
    const simd_vi sign = (simd_vi)simd_set1(-0.0f);
    SIMD_UNROLL
    for (int v = 0; v < nv; v++) {
        const simd_vi mk = simd_bitmask((uint32_t)(flip >> (v * SIMD_NL)));
        float *p = si + v * SIMD_NL;
        simd_store(p, (simd_v)((simd_vi)simd_load(p) ^ (mk & sign)));
    }
}

SIMD_INLINE void gen_load(struct gen *g, const uint32_t *rs)
{
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) simd_xoshiro_load(g->s[h], rs, h);
}
SIMD_INLINE void gen_store(const struct gen *g, uint32_t *rs)
{
    SIMD_UNROLL
    for (int h = 0; h < SIMD_NB; h++) simd_xoshiro_store(g->s[h], rs, h);
}

/* The vector path: P = nv·SIMD_NL slices, P a multiple of SIMD_W (nv constant after inlining).
 * per_spin (constant after inlining): the step has per-spin K, p_bond and skips (anneal
 * offsets); without it the step's scalars stay hoisted out of the spin loop, as they were before
 * the controls existed. */
SIMD_INLINE void sweep_vec(const struct sqa_sweep *s, int nv, bool per_spin)
{
    const int P = nv * SIMD_NL;
    struct gen g;
    gen_load(&g, s->rs);
    struct ubuf ub = {.pos = SIMD_W};
    /* Local moves pay only while the slices are loosely coupled; once p_bond ≥ 1/2 a flip
     * inside a domain costs ≥ e^{−4K} ≈ 1/4 and the cluster move does the work (each move keeps
     * detailed balance on its own, so choosing by the step's parameters is valid). */
    for (int i = 0; i < s->n; i++) {
        if (per_spin && s->skip[i]) continue;
        const float K = per_spin ? s->Kv[i] : s->K, pb = per_spin ? s->pbv[i] : s->pbond;
        const bool do_local = s->local && (pb < 0.5f || !s->cluster);
        float *restrict si = s->sp + (size_t)i * P;
        simd_v fv[MAXV];
        SIMD_UNROLL
        for (int v = 0; v < nv; v++) fv[v] = simd_set1(s->h[i]);
        for (long e = s->adj_start[i]; e < s->adj_start[i + 1]; e++) {
            const simd_v Jv = simd_set1(s->Jadj[e]);
            const float *restrict sj = s->sp + (size_t)s->adj[e] * P;
            SIMD_UNROLL
            for (int v = 0; v < nv; v++) fv[v] = simd_madd_exact(Jv, simd_load(sj + v * SIMD_NL), fv[v]);
        }
        simd_v sv[MAXV];
        SIMD_UNROLL
        for (int v = 0; v < nv; v++) sv[v] = simd_load(si + v * SIMD_NL);
        if (do_local) {
            simd_v uv[MAXV];
            SIMD_UNROLL
            for (int v = 0; v < nv; v++) uv[v] = simd_uniform(simd_xoshiro_next(g.s[v % SIMD_NB]), false);
            local_vec(sv, fv, uv, nv, 0, s->a, K);
            local_vec(sv, fv, uv, nv, 1, s->a, K);
            SIMD_UNROLL
            for (int v = 0; v < nv; v++) simd_store(si + v * SIMD_NL, sv[v]);
        }
        if (s->cluster) cluster_vec(s, si, sv, fv, nv, pb, &g, &ub);
    }
    gen_store(&g, s->rs);
}

/* The scalar path, any even P: the same moves, the cluster found by walking the ring. */
static void sweep_ring(const struct sqa_sweep *s)
{
    const int P = s->P;
    const float a = s->a;
    struct gen g;
    gen_load(&g, s->rs);
    float *restrict f = s->f, *restrict pad = s->pad, *restrict u = s->u, *restrict u2 = s->u2;
    uint8_t *restrict bond = s->bond;
    for (int i = 0; i < s->n; i++) {
        if (s->skip && s->skip[i]) continue;
        const float K = s->Kv ? s->Kv[i] : s->K, pb = s->pbv ? s->pbv[i] : s->pbond;
        const bool do_local = s->local && (pb < 0.5f || !s->cluster);
        float *restrict si = s->sp + (size_t)i * P;
        for (int k = 0; k < P; k++) f[k] = s->h[i];
        for (long e = s->adj_start[i]; e < s->adj_start[i + 1]; e++) {
            const float Jv = s->Jadj[e];
            const float *restrict sj = s->sp + (size_t)s->adj[e] * P;
            for (int k = 0; k < P; k++) f[k] += Jv * sj[k];
        }
        if (do_local) {
            fill_u(&g, u, P);
            for (int par = 0; par < 2; par++) {
                pad[0] = si[P - 1];
                for (int k = 0; k < P; k++) pad[k + 1] = si[k];
                pad[P + 1] = si[0];
                for (int k = par; k < P; k += 2) {
                    const float sk = pad[k + 1];
                    const float dS = 2.0f * sk * (K * (pad[k] + pad[k + 2]) - a * f[k]);
                    si[k] = u[k] * (1.0f + simd_expf(dS)) < 1.0f ? -sk : sk;
                }
            }
        }
        if (!s->cluster) continue;
        fill_u(&g, u2, 2 * P);   /* u2[0..P) bonds, u2[P..2P) segment flips */
        const float *u3 = u2 + P;
        for (int k = 0; k < P; k++) bond[k] = (si[k] == si[k + 1 == P ? 0 : k + 1]) & (u2[k] < pb);
        int k0 = -1;
        for (int k = 0; k < P && k0 < 0; k++)
            if (!bond[k]) k0 = k;
        if (k0 < 0) {   /* one cluster: the whole worldline */
            float F = 0;
            for (int k = 0; k < P; k++) F += f[k];
            const float sk = si[0];
            if (cluster_flip(u3[0], a, sk, F))
                for (int k = 0; k < P; k++) si[k] = -sk;
            continue;
        }
        int nseg = 0, k = (k0 + 1) % P;
        for (int done = 0; done < P;) {   /* segment k .. (next missing bond) */
            float F = 0;
            int len = 0, kk = k;
            for (bool b = true; b;) {
                F += f[kk];
                len++;
                b = bond[kk];
                kk = kk + 1 == P ? 0 : kk + 1;
            }
            const float sk = si[k];
            if (cluster_flip(u3[nseg < P ? nseg : P - 1], a, sk, F))
                for (int c = 0, m = k; c < len; c++, m = m + 1 == P ? 0 : m + 1) si[m] = -sk;
            nseg++;
            done += len;
            k = kk;
        }
    }
    gen_store(&g, s->rs);
}

void KNAME(sqa_sweep)(const struct sqa_sweep *s)
{
    const bool ps = s->Kv != NULL;   /* samp_sqa.c sets Kv, pbv and skip together */
    switch (s->P) {   /* constant vector counts: worldlines stay in registers */
    case 16: if (ps) sweep_vec(s, 16 / SIMD_NL, true); else sweep_vec(s, 16 / SIMD_NL, false); break;
    case 32: if (ps) sweep_vec(s, 32 / SIMD_NL, true); else sweep_vec(s, 32 / SIMD_NL, false); break;
    case 48: if (ps) sweep_vec(s, 48 / SIMD_NL, true); else sweep_vec(s, 48 / SIMD_NL, false); break;
    case 64: if (ps) sweep_vec(s, 64 / SIMD_NL, true); else sweep_vec(s, 64 / SIMD_NL, false); break;
    default: sweep_ring(s); break;
    }
}
