/* bm_mf.c — the relaxed Boltzmann prior: mean-field log Z(ζ) over colour classes, its m-fixed
 * gradients, and the exact spike-and-exponential case.  Math and conventions in bm_mf.h. */
#include "bm_mf.h"
#include "qv.h"

#include <math.h>

size_t bm_mf_scratch_size(const struct bm *bm) { return 4 * (size_t)bm->n; }

static inline double mf_xlogx(double x) { return x > 0 ? x * log(x) : 0; }

static inline double mf_sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }

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

/* Mean field for one row: m [n] from the shifted biases bz. */
static void mf_sweeps(const struct bm *bm, const double *bz, int sweeps, double *m)
{
    const struct graph *g = bm->g;
    for (int i = 0; i < bm->n; i++) m[i] = mf_sigmoid(bm->b[i] + bz[i]);
    for (int s = 0; s < sweeps; s++)
        for (int c = 0; c < g->ncolors; c++)
            for (int i = 0; i < bm->n; i++) {
                if (g->color[i] != c) continue;
                double a = bm->b[i] + bz[i];
                for (long k = g->adj_start[i]; k < g->adj_start[i + 1]; k++)
                    a += bm->w[g->adj_edge[k]] * m[g->adj[k]];
                m[i] = mf_sigmoid(a);
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
    for (int r = 0; r < rows; r++) {
        const float *zr = zeta + (size_t)r * n;
        float *mr = m ? m + (size_t)r * n : NULL, *dr = dzeta ? dzeta + (size_t)r * n : NULL;
        if (rx->kind == RELAX_SPIKE_EXP) {
            logp[r] = mf_spike_row(bm, rx, zr, mr, dr);
            continue;
        }
        double *bz = scratch, *d0 = scratch + n, *d1 = scratch + 2 * (size_t)n, *mm = scratch + 3 * (size_t)n;
        double lr0 = mf_shift(rx, n, zr, bz, d0, d1);
        mf_sweeps(bm, bz, sweeps, mm);
        logp[r] = mf_bound(bm, bz, lr0, mm);
        for (int i = 0; i < n; i++) {
            if (mr) mr[i] = (float)mm[i];
            if (dr) dr[i] = (float)(mm[i] * d1[i] + (1.0 - mm[i]) * d0[i]);
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
