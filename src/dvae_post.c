/* dvae_post.c — the approximate posterior q(z|x): the centred encoder input, the hierarchical
 * groups (each group's encoder sees the image and the earlier groups' samples), the relaxation,
 * the backward pass through all of it, and exact sampling with log q for evaluation.  Layout and
 * contracts: dvae.h.
 *
 * Buffers, for a block of rows [r0, r0 + nb) with K rows per image (images e0 = r0/K …):
 *   ein[0]  [rows × D]          centred images, one row per image (group 0 runs once per image)
 *   ein[g]  [rows × (D + n_<g)] for g ≥ 1: the row's centred image, then ζ of groups < g in group
 *                               order (gunits[0 .. gstart[g]))
 *   enc[g].h[last]              the group's logits [rows × n_g]
 *   lx      [rows × n]          every row's logits in unit order (scattered from the groups)
 *   dacc    [rows × n]          ∂loss/∂ζ, growing as later groups pass gradients back
 *   dlg     [rows × n]          one group's logit gradients, gathered (and summed over K samples
 *                               for group 0) */
#include "dvae.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The centred image x − mean into dst [D] (mean is zero without centring). */
static void center_row(const struct dvae *m, const float *x, float *dst)
{
    const int D = m->cfg.D;
    for (int i = 0; i < D; i++) dst[i] = x[i] - m->xmean[i];
}

/* Group g's encoder input for rows [r0, r0 + rows) (group 0: images [e0, e0 + rows)), ζ of the
 * earlier groups taken from zeta (the block's rows, row r0 first). */
static const float *group_input(struct dvae *m, int g, int r0, int rows, int K, const float *x,
                                const float *zeta)
{
    const int D = m->cfg.D, n = m->cfg.n;
    if (g == 0) {
        const int e0 = r0 / K;
        /* without centring and groups the image itself is the input (no copy) */
        if (!m->cfg.center) return x;
        float *in = m->ein[0] + (size_t)e0 * D;
        for (int e = 0; e < rows; e++) center_row(m, x + (size_t)e * D, in + (size_t)e * D);
        return in;
    }
    const int w = D + m->gstart[g];
    float *in = m->ein[g] + (size_t)r0 * w;
    for (int r = 0; r < rows; r++) {
        float *row = in + (size_t)r * w;
        center_row(m, x + (size_t)(r / K) * D, row);
        const float *zr = zeta + (size_t)r * n;
        for (int j = 0; j < m->gstart[g]; j++) row[D + j] = zr[m->gunits[j]];
    }
    return in;
}

/* ζ of group g's units in rows [0, nb) of the block: soft σ((l + g)/τ), hard [l + g > 0], or
 * hard from double noise. */
static void group_relax(const struct dvae *m, int g, int nb, const float *l, const float *noise,
                        const double *dnoise, bool hard, float inv_tau, float *zeta)
{
    const int n = m->cfg.n;
    for (int r = 0; r < nb; r++) {
        const size_t o = (size_t)r * n;
        for (int j = m->gstart[g]; j < m->gstart[g + 1]; j++) {
            const int i = m->gunits[j];
            if (dnoise) zeta[o + i] = (double)l[o + i] + dnoise[o + i] > 0.0 ? 1.0f : 0.0f;
            else if (hard) zeta[o + i] = l[o + i] + noise[o + i] > 0.0f ? 1.0f : 0.0f;
            else zeta[o + i] = nn_fsigmoid((l[o + i] + noise[o + i]) * inv_tau);
        }
    }
}

/* Mixture relaxation of group g's units (all units when g < 0) in rows [0, nb) of the block:
 * z = [u < q] with u = σ(−noise) (the same z as [l + noise > 0]), ζ₀ from ρ; ∂ζ/∂l into dzdl. */
static void mix_relax(const struct dvae *m, int g, int nb, const float *l, const float *noise,
                      const float *rho, float *zeta, float *dzdl, float *ubuf)
{
    const int n = m->cfg.n;
    if (g < 0) {
        const size_t bn = (size_t)nb * n;
        for (size_t i = 0; i < bn; i++) ubuf[i] = nn_fsigmoid(-noise[i]);
        relax_sample(&m->rx, nb, n, l, ubuf, rho, zeta, dzdl);
        return;
    }
    for (int r = 0; r < nb; r++) {
        const size_t o = (size_t)r * n;
        for (int j = m->gstart[g]; j < m->gstart[g + 1]; j++) {
            const size_t i = o + (size_t)m->gunits[j];
            double d;
            zeta[i] = (float)relax_sample1(&m->rx, l[i], nn_fsigmoid(-noise[i]), rho[i], &d);
            dzdl[i] = (float)d;
        }
    }
}

/* dvae_post_forward at relaxation temperature 1/inv_tau (GumBolt; rho selects the mixture). */
static void post_forward(struct dvae *m, int r0, int nb, int K, const float *x, const float *noise,
                         const float *rho, const double *dnoise, bool hard, float inv_tau,
                         float *zeta, const struct dvae_scr *sc)
{
    const bool mix = rho && !hard && !dnoise;
    float *dzdl = mix ? m->dzdl + (size_t)r0 * m->cfg.n : NULL;
    float *ubuf = mix ? m->ubuf + (size_t)r0 * m->cfg.n : NULL;
    const int n = m->cfg.n, L = m->ngroup, ni = nb / K, e0 = r0 / K;
    float *l = m->lx + (size_t)r0 * n;
    for (int g = 0; g < L; g++) {
        const int rows = g == 0 ? ni : nb, row0 = g == 0 ? e0 : r0;
        const int ng = m->gstart[g + 1] - m->gstart[g];
        const float *in = group_input(m, g, r0, rows, K, x, zeta);
        const float *lg = dvae_net_forward(&m->enc[g], row0, rows, in, sc);
        /* scatter into unit order; group 0's row per image serves its K rows */
        for (int r = 0; r < nb; r++) {
            const float *src = lg + (size_t)(g == 0 ? r / K : r) * ng;
            float *dst = l + (size_t)r * n;
            if (L == 1) memcpy(dst, src, sizeof(float) * n);
            else
                for (int j = 0; j < ng; j++) dst[m->gunits[m->gstart[g] + j]] = src[j];
        }
        if (L > 1 && mix) mix_relax(m, g, nb, l, noise, rho, zeta, dzdl, ubuf);
        else if (L > 1) group_relax(m, g, nb, l, noise, dnoise, hard, inv_tau, zeta);
    }
    if (L > 1) return;
    if (mix) {
        mix_relax(m, -1, nb, l, noise, rho, zeta, dzdl, ubuf);
        return;
    }
    /* one group: the whole block at once, vectorised */
    const size_t bn = (size_t)nb * n;
    if (dnoise || hard) {
        group_relax(m, 0, nb, l, noise, dnoise, hard, inv_tau, zeta);
        return;
    }
    size_t i = 0;
    for (; i + NN_VL <= bn; i += NN_VL)
        nn_vstore(zeta + i, nn_vsigmoid((nn_vload(l + i) + nn_vload(noise + i)) * inv_tau));
    for (; i < bn; i++) zeta[i] = nn_fsigmoid((l[i] + noise[i]) * inv_tau);
}

void dvae_post_forward(struct dvae *m, int r0, int nb, int K, const float *x, const float *noise,
                       const float *rho, const double *dnoise, bool hard, float *zeta,
                       const struct dvae_scr *sc)
{
    post_forward(m, r0, nb, K, x, noise, rho, dnoise, hard, 1.0f / m->cfg.tau, zeta, sc);
}

/* Chains group g's ζ gradient (dz, complete once the later groups are done) to its logits, adds
 * it to dl, and gathers the group's logit gradients [rows × n_g] into dlg (group 0: summed over
 * each image's K rows, in row order). */
static float *group_chain(struct dvae *m, int g, int r0, int nb, int K, const float *noise,
                          bool hard, const float *zeta, const float *dz, float *dl)
{
    const int n = m->cfg.n, a = m->gstart[g], ng = m->gstart[g + 1] - a;
    const float inv_tau = 1.0f / m->cfg.tau;
    const float *l = m->lx + (size_t)r0 * n;
    const float *dzdl = dvae_mixture(m) && !hard ? m->dzdl + (size_t)r0 * n : NULL;
    for (int r = 0; r < nb; r++)
        for (int j = a; j < a + ng && dz; j++) {
            const size_t i = (size_t)r * n + (size_t)m->gunits[j];
            if (dzdl) {   /* the mixture's implicit ∂ζ/∂l */
                dl[i] += dz[i] * dzdl[i];
                continue;
            }
            float z = hard ? nn_fsigmoid((l[i] + noise[i]) * inv_tau) : zeta[i];
            dl[i] += dz[i] * z * (1.0f - z) * inv_tau;
        }
    float *dlg = m->dlg + (size_t)r0 * n;
    const int rows = g == 0 ? nb / K : nb;
    for (int e = 0; e < rows; e++) {
        float *d = dlg + (size_t)e * ng;
        const int k0 = g == 0 ? e * K : e, kn = g == 0 ? K : 1;
        for (int k = 0; k < kn; k++) {
            const float *s = dl + (size_t)(k0 + k) * n;
            for (int j = 0; j < ng; j++) {
                const float v = s[m->gunits[a + j]];
                d[j] = k ? d[j] + v : v;
            }
        }
    }
    return dlg;
}

void dvae_post_backward(struct dvae *m, float *g, int r0, int nb, int K, const float *x,
                        const float *noise, bool hard, const float *zeta, float *dz, float *dl,
                        float *s1, float *s2, const struct dvae_scr *sc)
{
    const int n = m->cfg.n, D = m->cfg.D, L = m->ngroup;
    for (int gi = L - 1; gi >= 0; gi--) {
        float *dlg = group_chain(m, gi, r0, nb, K, noise, hard, zeta, dz, dl);
        if (gi == 0) {
            /* the input the forward pass saw: the centred copy, or the images themselves */
            const int e0 = r0 / K;
            const float *in = m->cfg.center ? m->ein[0] + (size_t)e0 * D : x;
            dvae_net_backward(&m->enc[0], m, g, e0, nb / K, in, dlg, s1, s2, false, sc);
            return;
        }
        const int w = D + m->gstart[gi];
        const float *in = m->ein[gi] + (size_t)r0 * w;
        const float *dx = dvae_net_backward(&m->enc[gi], m, g, r0, nb, in, dlg, s1, s2, dz != NULL, sc);
        /* the earlier groups' share of the input gradient: columns D.. of dx */
        for (int r = 0; r < nb && dz; r++) {
            const float *src = dx + (size_t)r * w + D;
            float *dst = dz + (size_t)r * n;
            for (int j = 0; j < m->gstart[gi]; j++) dst[m->gunits[j]] += src[j];
        }
    }
}

const float *dvae_encode(struct dvae *m, int B, const float *x, float *q)
{
    /* the mean path: each group's q feeds the later groups (ζ := q), so the forward pass runs
     * with zero noise at τ = 1 — σ(l) — and the relaxed values are the means */
    const int n = m->cfg.n;
    float *zero = qv_calloc((size_t)B * n, sizeof(float));
    float *qq = q ? q : qv_malloc(sizeof(float) * (size_t)B * n);
    const struct dvae_scr sc = {.work = m->cwork[0]};
    post_forward(m, 0, B, 1, x, zero, NULL, NULL, false, 1.0f, qq, &sc);
    if (!q) free(qq);
    free(zero);
    return m->lx;
}

void dvae_post_sample(struct dvae *m, const float *x, int K, struct rng *r, float *z, double *lq)
{
    const int n = m->cfg.n;
    const size_t kn = (size_t)K * n;
    double *dn = qv_malloc(sizeof(double) * kn);
    /* logistic noise log u − log(1−u) from 53-bit uniforms u ∈ (0, 1): z = [l + noise > 0] is
     * Bernoulli(σ(l)) for every logit a float can hold (a 24-bit u could not switch on a unit
     * with q below 2⁻²⁴, whose weight would still use the true log q) */
    for (size_t i = 0; i < kn; i++) {
        double u = ((double)(rng_u64(r) >> 11) + 0.5) * 0x1.0p-53;
        dn[i] = log(u) - log1p(-u);
    }
    const struct dvae_scr sc = {.work = m->cwork[0]};
    dvae_post_forward(m, 0, K, K, x, NULL, NULL, dn, true, z, &sc);
    const float *l = m->lx;
    for (int k = 0; k < K; k++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) {
            const double li = l[(size_t)k * n + i];
            /* log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l), in double */
            const double sp = li > 0 ? li + log1p(exp(-li)) : log1p(exp(li));
            s += z[(size_t)k * n + i] ? li - sp : -sp;
        }
        lq[k] = s;
    }
    free(dn);
}

void dvae_set_data_mean(struct dvae *m, const float *mean)
{
    if (!m->cfg.center) return;
    const int D = m->cfg.D;
    memcpy(m->xmean, mean, sizeof(float) * D);
    /* logit(mean) clamped: an always-blank pixel would otherwise start at −∞ */
    struct nn_dense *out = &m->dec.L[m->dec.nl - 1];
    for (int i = 0; i < D; i++) {
        double p = mean[i], v = log(p + 1e-12) - log1p(-p + 1e-12);
        out->b[i] = (float)fmax(-9.0, fmin(9.0, v));
    }
}
