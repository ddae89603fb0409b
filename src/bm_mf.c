/* bm_mf.c — the relaxed Boltzmann prior: mean-field log Z(ζ) over colour classes, its m-fixed
 * gradients, and the exact spike-and-exponential case.  Math and conventions in bm_mf.h. */
#include "bm_mf.h"
#include "nn.h"
#include "qv.h"

#include <math.h>

/* Scratch: per lane (row of a group) the shifted biases and both log-density slopes in double
 * [3 × NN_VL × n], m of one row in double [n], then floats: b [n], W [ne], shifted biases and m
 * of the group [2 × n × NN_VL]. */
size_t bm_mf_scratch_size(const struct bm *bm)
{
    size_t n = (size_t)bm->n, nf = n + (size_t)bm->ne + 2 * n * NN_VL;
    return 3 * NN_VL * n + n + (nf + 1) / 2;
}

static inline double mf_xlogx(double x) { return x > 0 ? x * log(x) : 0; }

/* B(m) + Σ log r(ζ|0) from the shifted biases bz [n] and Σ log r(ζ_i|0). */
static double mf_bound(const struct bm *bm, const double *bz, double lr0, const double *m)
{
    double s = lr0;
    for (int i = 0; i < bm->n; i++)
        s += (bm->b[i] + bz[i]) * m[i] - mf_xlogx(m[i]) - mf_xlogx(1.0 - m[i]);
    for (long e = 0; e < bm->ne; e++) s += bm->w[e] * m[bm->g->edges[e][0]] * m[bm->g->edges[e][1]];
    return s;
}

/* Shifted biases bz [n] = b(ζ), and d0, d1 [n] = ∂log r(ζ|0), ∂log r(ζ|1); returns Σ log r(ζ|0). */
static double mf_shift(const struct relax *rx, int n, const float *zeta, double *bz, double *d0,
                       double *d1)
{
    double lr0 = 0;
    for (int i = 0; i < n; i++) {
        double a0 = relax_logr1(rx, 0, zeta[i], &d0[i]);
        double a1 = relax_logr1(rx, 1, zeta[i], &d1[i]);
        bz[i] = a1 - a0;
        lr0 += a0;
    }
    return lr0;
}

double bm_mf_bound(const struct bm *bm, const struct relax *rx, const float *zeta, const double *m,
                   double *scratch)
{
    if (rx->kind != RELAX_POWER && rx->kind != RELAX_EXP) return NAN;
    double *bz = scratch, *d0 = scratch + bm->n, *d1 = scratch + 2 * (size_t)bm->n;
    double lr0 = mf_shift(rx, bm->n, zeta, bz, d0, d1);
    return mf_bound(bm, bz, lr0, m);
}

/* Mean field for NN_VL rows at once, one row per vector lane: the rows share the graph and the
 * parameters, only their shifted biases differ, so every update is the same gather on all lanes.
 * bf [n], wf [ne]: b and W as floats; bzf, m [n × NN_VL] (unit-major, lanes innermost).  The
 * field and sigmoid are float (nn.h's inline exp): the bound is then evaluated in double at these m,
 * so it stays a lower bound and the m-fixed gradients stay exact for them. */
static void mf_sweeps(const struct graph *g, const float *bf, const float *wf, const float *bzf,
                      int sweeps, float *m)
{
    for (int i = 0; i < g->nv; i++)
        nn_vstore(m + (size_t)i * NN_VL, nn_vsigmoid(bf[i] + nn_vload(bzf + (size_t)i * NN_VL)));
    for (int s = 0; s < sweeps; s++)
        for (int c = 0; c < g->ncolors; c++)
            for (int i = 0; i < g->nv; i++) {
                if (g->color[i] != c) continue;
                nn_vf a = bf[i] + nn_vload(bzf + (size_t)i * NN_VL);
                for (long k = g->adj_start[i]; k < g->adj_start[i + 1]; k++)
                    a += wf[g->adj_edge[k]] * nn_vload(m + (size_t)g->adj[k] * NN_VL);
                nn_vstore(m + (size_t)i * NN_VL, nn_vsigmoid(a));
            }
}

/* Spike-and-exponential: exact, z* = [ζ > 0]. */
static double mf_spike_row(const struct bm *bm, const struct relax *rx, const float *zeta,
                           float *m, float *dzeta)
{
    double s = 0;
    for (int i = 0; i < bm->n; i++) {
        bool on = zeta[i] > 0;
        if (on) s += bm->b[i] + relax_logr1(rx, 1, zeta[i], NULL);
        if (m) m[i] = on ? 1.0f : 0.0f;
        if (dzeta) dzeta[i] = on ? (float)rx->beta : 0.0f;
    }
    for (long e = 0; e < bm->ne; e++)
        if (zeta[bm->g->edges[e][0]] > 0 && zeta[bm->g->edges[e][1]] > 0) s += bm->w[e];
    return s;
}

int bm_mf_logp(const struct bm *bm, const struct relax *rx, int sweeps, int rows, const float *zeta,
               double *logp, float *m, float *dzeta, double *scratch)
{
    if (!relax_is_mixture(rx->kind))
        return qv_seterr("relaxed prior: %s has no r(ζ|z) (use --relax power, exp or spike-exp)",
                         relax_name(rx->kind));
    if (sweeps < 0) return qv_seterr("relaxed prior: mean-field sweeps must be >= 0 (got %d)", sweeps);
    int n = bm->n;
    if (rx->kind == RELAX_SPIKE_EXP) {
        for (int r = 0; r < rows; r++)
            logp[r] = mf_spike_row(bm, rx, zeta + (size_t)r * n, m ? m + (size_t)r * n : NULL,
                                   dzeta ? dzeta + (size_t)r * n : NULL);
        return 0;
    }
    double *bz = scratch, *d0 = bz + (size_t)NN_VL * n, *d1 = d0 + (size_t)NN_VL * n;
    double *mm = d1 + (size_t)NN_VL * n, lr0[NN_VL];
    float *bf = (float *)(mm + n), *wf = bf + n, *bzf = wf + bm->ne, *mf = bzf + (size_t)n * NN_VL;
    for (int i = 0; i < n; i++) bf[i] = (float)bm->b[i];
    for (long e = 0; e < bm->ne; e++) wf[e] = (float)bm->w[e];
    for (int r0 = 0; r0 < rows; r0 += NN_VL) {
        int k = rows - r0 < NN_VL ? rows - r0 : NN_VL;     /* rows in this group; idle lanes: b(ζ) = 0 */
        for (int j = 0; j < NN_VL; j++) {
            size_t o = (size_t)j * n;
            if (j < k) lr0[j] = mf_shift(rx, n, zeta + (size_t)(r0 + j) * n, bz + o, d0 + o, d1 + o);
            for (int i = 0; i < n; i++) bzf[(size_t)i * NN_VL + j] = j < k ? (float)bz[o + i] : 0.0f;
        }
        mf_sweeps(bm->g, bf, wf, bzf, sweeps, mf);
        for (int j = 0; j < k; j++) {
            size_t o = (size_t)j * n, ro = (size_t)(r0 + j) * n;
            for (int i = 0; i < n; i++) mm[i] = mf[(size_t)i * NN_VL + j];
            logp[r0 + j] = mf_bound(bm, bz + o, lr0[j], mm);
            for (int i = 0; i < n; i++) {
                if (m) m[ro + i] = (float)mm[i];
                if (dzeta) dzeta[ro + i] = (float)(mm[i] * d1[o + i] + (1.0 - mm[i]) * d0[o + i]);
            }
        }
    }
    return 0;
}

void bm_mf_accum(const struct bm *bm, int rows, const float *m, const double *w, double *gb,
                 double *gw)
{
    for (int r = 0; r < rows; r++) {
        const float *mr = m + (size_t)r * bm->n;
        double wr = w ? w[r] : 1.0;
        for (int i = 0; i < bm->n; i++) gb[i] += wr * mr[i];
        for (long e = 0; e < bm->ne; e++)
            gw[e] += wr * (double)mr[bm->g->edges[e][0]] * mr[bm->g->edges[e][1]];
    }
}
