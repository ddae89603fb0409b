/* beta.c — β_eff by maximum pseudo-likelihood with bootstrap errors (see beta.h). */
#include "beta.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Flip costs ΔE [count × n] of the binary energy of bm.h. */
static float *flip_costs_bm(const struct bm *bm, const uint8_t *z, long count)
{
    const struct graph *g = bm->g;
    int n = bm->n;
    float *d = qv_mallocarray((size_t)count * (size_t)n, sizeof(float));
    for (long c = 0; c < count; c++) {
        const uint8_t *x = z + (size_t)c * n;
        for (int i = 0; i < n; i++) {
            double u = bm->b[i];
            for (long k = g->adj_start[i]; k < g->adj_start[i + 1]; k++)
                if (x[g->adj[k]]) u += bm->w[g->adj_edge[k]];
            d[(size_t)c * n + i] = (float)((2.0 * x[i] - 1.0) * u);
        }
    }
    return d;
}

/* Flip costs of the Ising energy E_s = Σ h s + Σ J s s. */
static float *flip_costs_ising(const struct graph *g, const double *h, const double *J,
                               const uint8_t *z, long count)
{
    int n = g->nv;
    float *d = qv_mallocarray((size_t)count * (size_t)n, sizeof(float));
    for (long c = 0; c < count; c++) {
        const uint8_t *x = z + (size_t)c * n;
        for (int i = 0; i < n; i++) {
            double f = h[i];
            for (long k = g->adj_start[i]; k < g->adj_start[i + 1]; k++)
                f += J[g->adj_edge[k]] * (x[g->adj[k]] ? 1.0 : -1.0);
            double si = x[i] ? 1.0 : -1.0;
            d[(size_t)c * n + i] = (float)(-2.0 * si * f);
        }
    }
    return d;
}

/* f(β) = Σ_s w_s Σ_i ΔE/(1+e^{βΔE}) and f'(β). */
static void mpl_f(const float *d, long count, int n, const double *w, double beta, double *f, double *fp)
{
    double F = 0, FP = 0;
    for (long c = 0; c < count; c++) {
        double ws = w ? w[c] : 1.0;
        if (ws == 0) continue;
        double a = 0, ap = 0;
        const float *dc = d + (size_t)c * n;
        for (int i = 0; i < n; i++) {
            double e = dc[i];
            if (e == 0) continue;
            double x = beta * e;
            if (x > 700) continue;                   /* contributes ~0 */
            double ex = exp(x), q = 1.0 / (1.0 + ex);
            a += e * q;
            ap -= e * e * ex * q * q;
        }
        F += ws * a;
        FP += ws * ap;
    }
    *f = F;
    if (fp) *fp = FP;
}

/* Root of f on [0, ∞): safeguarded Newton inside a bisection bracket. */
static double mpl_solve(const float *d, long count, int n, const double *w)
{
    double f0, fp;
    mpl_f(d, count, n, w, 0.0, &f0, NULL);
    if (!(f0 > 0)) return 0.0;
    /* Is there any negative flip cost with positive weight? Else β = ∞. */
    bool any_neg = false;
    for (long c = 0; c < count && !any_neg; c++) {
        if (w && w[c] == 0) continue;
        for (int i = 0; i < n; i++)
            if (d[(size_t)c * n + i] < 0) { any_neg = true; break; }
    }
    if (!any_neg) return INFINITY;
    double lo = 0, hi = 1, fh;
    for (;;) {
        mpl_f(d, count, n, w, hi, &fh, NULL);
        if (fh < 0) break;
        lo = hi;
        hi *= 2;
        if (hi > 1e6) return INFINITY;
    }
    double b = 0.5 * (lo + hi);
    for (int it = 0; it < 100; it++) {
        double f;
        mpl_f(d, count, n, w, b, &f, &fp);
        if (f > 0) lo = b; else hi = b;
        double nb = fp < 0 ? b - f / fp : NAN;
        if (!(nb > lo && nb < hi)) nb = 0.5 * (lo + hi);
        if (fabs(nb - b) <= 1e-12 * fabs(nb) || hi - lo <= 1e-12 * hi) { b = nb; break; }
        b = nb;
    }
    return b;
}

static int estimate(const float *d, long count, int n, int nboot, uint64_t seed, struct beta_result *r)
{
    memset(r, 0, sizeof *r);
    r->beta = mpl_solve(d, count, n, NULL);
    r->err = nboot >= 2 ? NAN : 0;
    if (nboot < 2 || !isfinite(r->beta)) return 0;
    struct rng g;
    rng_init(&g, seed, 0xbe7a);
    double *cnt = qv_calloc((size_t)count, sizeof(double));
    double sum = 0, sum2 = 0;
    int used = 0;
    bool lin = (double)count * n * nboot > 4e7;   /* full re-solves would take seconds */
    double *gs = NULL, *gps = NULL;
    if (lin) {
        gs = qv_mallocarray((size_t)count, sizeof(double));
        gps = qv_mallocarray((size_t)count, sizeof(double));
        double one = 1.0;
        for (long c = 0; c < count; c++) {
            double wc[1] = {one};
            mpl_f(d + (size_t)c * n, 1, n, wc, r->beta, &gs[c], &gps[c]);
        }
    }
    for (int b = 0; b < nboot; b++) {
        memset(cnt, 0, (size_t)count * sizeof(double));
        for (long c = 0; c < count; c++) cnt[rng_below(&g, (uint64_t)count)] += 1;
        double est;
        if (lin) {
            double f = 0, fp = 0;
            for (long c = 0; c < count; c++) { f += cnt[c] * gs[c]; fp += cnt[c] * gps[c]; }
            est = fp < 0 ? r->beta - f / fp : NAN;
        } else {
            est = mpl_solve(d, count, n, cnt);
        }
        if (!isfinite(est)) continue;
        sum += est;
        sum2 += est * est;
        used++;
    }
    if (used >= 2) {
        double m = sum / used;
        r->err = sqrt(fmax(0, (sum2 - used * m * m) / (used - 1)));
    }
    r->nboot = used;
    r->linearised = lin;
    free(cnt);
    free(gs);
    free(gps);
    return 0;
}

int beta_mpl(const struct bm *bm, const uint8_t *z, long count, const double *w, double *beta)
{
    if (count <= 0) return qv_seterr("beta: no samples");
    float *d = flip_costs_bm(bm, z, count);
    *beta = mpl_solve(d, count, bm->n, w);
    free(d);
    return 0;
}

int beta_estimate(const struct bm *bm, const uint8_t *z, long count, int nboot, uint64_t seed,
                  struct beta_result *r)
{
    if (count <= 0) return qv_seterr("beta: no samples");
    float *d = flip_costs_bm(bm, z, count);
    int rc = estimate(d, count, bm->n, nboot, seed, r);
    free(d);
    return rc;
}

int beta_estimate_ising(const struct graph *g, const double *h, const double *J, const uint8_t *z,
                        long count, int nboot, uint64_t seed, struct beta_result *r)
{
    if (count <= 0) return qv_seterr("beta: no samples");
    float *d = flip_costs_ising(g, h, J, z, count);
    int rc = estimate(d, count, g->nv, nboot, seed, r);
    free(d);
    return rc;
}
