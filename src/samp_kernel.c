/* samp_kernel.c — the lane-parallel Monte Carlo engine shared by the classical samplers: model
 * flattening, per-lane xoshiro128+ seeding, the sweeps and lane energies (through the SIMD
 * kernel table of simd.h: kern_isa.c, one copy per instruction set), thread counts, and
 * D-Wave's default SA β range.  See samp_kernel.h. */
#include "samp_kernel.h"
#include "qv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- model */

#if defined(QVAE_SANITIZE) && QVAE_SANITIZE
static void sk_model_check(const struct sk_model *m);
#else
#define sk_model_check(m) ((void)0)
#endif

static bool coloring_proper(const struct graph *g)
{
    if (!g->color || g->ncolors <= 0) return false;
    for (int i = 0; i < g->nv; i++)
        if (g->color[i] < 0 || g->color[i] >= g->ncolors) return false;
    for (long k = 0; k < g->ne; k++)
        if (g->color[g->edges[k][0]] == g->color[g->edges[k][1]]) return false;
    return true;
}

int sk_model_init(struct sk_model *m, const struct bm *bm)
{
    memset(m, 0, sizeof *m);
    if (!bm || !bm->g) return qv_seterr("sampler: no Boltzmann machine");
    if (bm->n <= 0) return qv_seterr("sampler: the Boltzmann machine has no units");
    if (bm_check_finite(bm)) return -1;
    m->kern = simd_kernels();
    if (!m->kern) return qv_seterr("sampler: %s", simd_isa_error());
    const struct graph *g = bm->g;
    int n = bm->n;
    m->n = n;
    m->ne = bm->ne;
    int *col = qv_mallocarray((size_t)n, sizeof *col);
    int ncol = 0;
    if (coloring_proper(g)) {
        memcpy(col, g->color, (size_t)n * sizeof *col);
        ncol = g->ncolors;
    } else {
        /* greedy colouring in node order: smallest colour unused by coloured neighbours */
        int maxdeg = 0;
        for (int i = 0; i < n; i++)
            maxdeg = QV_MAX(maxdeg, (int)(g->adj_start[i + 1] - g->adj_start[i]));
        bool *used = qv_calloc((size_t)maxdeg + 2, 1);
        for (int i = 0; i < n; i++) col[i] = -1;
        for (int i = 0; i < n; i++) {
            memset(used, 0, (size_t)maxdeg + 2);
            for (long k = g->adj_start[i]; k < g->adj_start[i + 1]; k++) {
                int c = col[g->adj[k]];
                if (c >= 0 && c <= maxdeg + 1) used[c] = true;
            }
            int c = 0;
            while (used[c]) c++;
            col[i] = c;
            ncol = QV_MAX(ncol, c + 1);
        }
        free(used);
    }
    m->ncolors = ncol;
    m->cstart = qv_calloc((size_t)ncol + 1, sizeof *m->cstart);
    m->order = qv_mallocarray((size_t)n, sizeof *m->order);
    for (int i = 0; i < n; i++) m->cstart[col[i] + 1]++;
    for (int c = 0; c < ncol; c++) m->cstart[c + 1] += m->cstart[c];
    int *fill = qv_mallocarray((size_t)ncol, sizeof *fill);
    for (int c = 0; c < ncol; c++) fill[c] = m->cstart[c];
    for (int i = 0; i < n; i++) m->order[fill[col[i]]++] = i;
    free(fill);
    free(col);
    m->adj_start = qv_mallocarray((size_t)n + 1, sizeof *m->adj_start);
    memcpy(m->adj_start, g->adj_start, ((size_t)n + 1) * sizeof *m->adj_start);
    size_t na = (size_t)(2 * bm->ne);
    m->adj = qv_mallocarray(na ? na : 1, sizeof *m->adj);
    if (na) memcpy(m->adj, g->adj, na * sizeof *m->adj);
    m->wadj = qv_mallocarray(na ? na : 1, sizeof *m->wadj);
    m->b = qv_mallocarray((size_t)n, sizeof *m->b);
    m->bd = qv_mallocarray((size_t)n, sizeof *m->bd);
    m->wd = qv_mallocarray(na ? na : 1, sizeof *m->wd);
    sk_model_update(m, bm);
    sk_model_check(m);
    return 0;
}

void sk_model_update(struct sk_model *m, const struct bm *bm)
{
    const struct graph *g = bm->g;
    for (int i = 0; i < m->n; i++) {
        m->bd[i] = bm->b[i];
        m->b[i] = (float)bm->b[i];
    }
    for (long k = 0; k < 2 * m->ne; k++) {
        m->wd[k] = bm->w[g->adj_edge[k]];
        m->wadj[k] = (float)m->wd[k];
    }
    m->fmax = 0;
    for (int i = 0; i < m->n; i++) {
        float r = fabsf(m->b[i]);
        for (long k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) r += fabsf(m->wadj[k]);
        m->fmax = QV_MAX(m->fmax, r);
    }
}

/* ---------------------------------------------------------------- factors */

void sk_fac_init(struct sk_fac *F, const struct sk_model *m)
{
    F->beta = NAN;
    F->ok = false;
    F->f = qv_mallocarray((size_t)(2 * m->ne + m->n), sizeof *F->f);
}

bool sk_fac_set(struct sk_fac *F, const struct sk_model *m, float beta)
{
    F->beta = beta;
    /* every partial product of unit i lies within e^{±β(|b_i| + Σ|W_ij|)} */
    F->ok = isfinite(beta) && beta >= 0 && beta * m->fmax <= SK_FAC_MAX;
    if (!F->ok) return false;
    m->kern->factors(m->wadj, 2 * m->ne, beta, F->f);
    m->kern->factors(m->b, m->n, beta, F->f + 2 * m->ne);
    return true;
}

void sk_fac_free(struct sk_fac *F)
{
    free(F->f);
    F->f = NULL;
    F->ok = false;
}

void sk_model_free(struct sk_model *m)
{
    free(m->order);
    free(m->cstart);
    free(m->adj_start);
    free(m->adj);
    free(m->wadj);
    free(m->b);
    free(m->bd);
    free(m->wd);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- lanes */

void sk_lane_seed(const struct sk_model *m, float *z, uint32_t *rs, int lane, uint64_t seed,
                  uint64_t stream, bool init_z)
{
    struct rng r;
    rng_init(&r, seed, stream);
    uint64_t a = rng_u64(&r), b = rng_u64(&r);
    if (!(a | b)) a = 1;   /* xoshiro's all-zero state is a fixed point */
    rs[0 * SK_W + lane] = (uint32_t)a;
    rs[1 * SK_W + lane] = (uint32_t)(a >> 32);
    rs[2 * SK_W + lane] = (uint32_t)b;
    rs[3 * SK_W + lane] = (uint32_t)(b >> 32);
    if (init_z && z) {
        uint64_t bits = 0;
        for (int i = 0; i < m->n; i++) {
            if ((i & 63) == 0) bits = rng_u64(&r);
            z[(size_t)i * SK_W + lane] = (float)(bits & 1);
            bits >>= 1;
        }
    }
}

void sk_get_lane(const struct sk_model *m, const float *z, int l, uint8_t *out)
{
    for (int i = 0; i < m->n; i++) out[i] = z[(size_t)i * SK_W + l] != 0.0f;
}

void sk_copy_lane(int n, const float *zs, int ls, float *zd, int ld)
{
    for (int i = 0; i < n; i++) zd[(size_t)i * SK_W + ld] = zs[(size_t)i * SK_W + ls];
}

/* ---------------------------------------------------------------- sweeps */

/* The sweep and energy loops (kern_isa.c) run compiled optimised and uninstrumented even in the
 * sanitizer build (instrumented they run ~40× slower, far over the test suite's time budget);
 * instead sk_model_init checks there every index of the flattened model they read. */
#if defined(QVAE_SANITIZE) && QVAE_SANITIZE
static void sk_model_check(const struct sk_model *m)
{
    if (m->n <= 0 || m->ncolors <= 0 || m->cstart[0] != 0 || m->cstart[m->ncolors] != m->n ||
        m->adj_start[0] != 0 || m->adj_start[m->n] != 2 * m->ne)
        abort();
    for (int i = 0; i < m->n; i++)
        if (m->order[i] < 0 || m->order[i] >= m->n || m->adj_start[i + 1] < m->adj_start[i])
            abort();
    for (long k = 0; k < 2 * m->ne; k++)
        if (m->adj[k] < 0 || m->adj[k] >= m->n) abort();
}
#endif

void sk_sweep(const struct sk_model *m, const struct sk_fac *fac, float *restrict z,
              uint32_t *restrict rs, const float *restrict beta, enum sk_rule rule, int nsweeps)
{
    if (fac && !fac->ok) fac = NULL;
    for (int l = 0; fac && l < SK_W; l++)
        if (beta[l] != fac->beta) fac = NULL;
    m->kern->sweep(m, fac, 1, z, rs, beta, rule == SK_METROPOLIS, nsweeps);
}

void sk_sweep_steps(const struct sk_model *m, const struct sk_fac *facs, long nsteps,
                    float *restrict z, uint32_t *restrict rs, enum sk_rule rule, int nsweeps)
{
    bool ok = true;
    for (long s = 0; s < nsteps; s++) ok = ok && facs[s].ok;
    if (ok && nsteps > 0) {
        m->kern->sweep(m, facs, nsteps, z, rs, NULL, rule == SK_METROPOLIS, nsweeps);
        return;
    }
    float beta[SK_W];   /* a step whose factors are not usable: every step by itself */
    for (long s = 0; s < nsteps; s++) {
        for (int l = 0; l < SK_W; l++) beta[l] = facs[s].beta;
        sk_sweep(m, &facs[s], z, rs, beta, rule, nsweeps);
    }
}

_Static_assert(SK_W <= 16, "a block's lanes are the bits of a uint16_t");

void sk_bits_from_lines(const struct sk_model *m, const float *z, uint16_t *zs)
{
    for (int i = 0; i < m->n; i++) {
        unsigned w = 0;
        for (int l = 0; l < SK_W; l++) w |= (unsigned)(z[(size_t)i * SK_W + l] != 0.0f) << l;
        zs[i] = (uint16_t)w;
    }
}

void sk_lines_from_bits(const struct sk_model *m, const uint16_t *zs, float *z)
{
    for (int i = 0; i < m->n; i++)
        for (int l = 0; l < SK_W; l++) z[(size_t)i * SK_W + l] = (float)((zs[i] >> l) & 1);
}

void sk_sweep_bits(const struct sk_model *m, const struct sk_fac *facs, long nsteps, uint16_t *zs,
                   uint32_t *restrict rs, enum sk_rule rule, int nsweeps)
{
    m->kern->sweep_bits(m, facs, nsteps, zs, rs, rule == SK_METROPOLIS, nsweeps);
}

void sk_energy(const struct sk_model *m, const float *restrict z, double *restrict e)
{
    m->kern->energy(m, z, e);
}

/* ---------------------------------------------------------------- threads */

int sk_threads(int requested, long njobs, double work_per_job)
{
    long ncpu = qv_ncpu();
    int t = requested > 0 ? requested : (int)QV_MIN(ncpu, 64);
    if (requested <= 0 && work_per_job * (double)njobs < 2e5) t = 1;   /* thread start > work */
    if (t > njobs) t = (int)QV_MAX(njobs, 1);
    return t;
}

/* ---------------------------------------------------------------- β range */

void sk_default_beta_range_ising(int n, long ne, const int (*edges)[2], const double *h,
                                 const double *J, double *hot, double *cold)
{
    double *sum = qv_calloc((size_t)n, sizeof *sum);
    double *mn = qv_mallocarray((size_t)n, sizeof *mn);
    bool any = false;
    for (int i = 0; i < n; i++) {
        sum[i] = fabs(h[i]);
        mn[i] = h[i] != 0 ? fabs(h[i]) : INFINITY;
        if (h[i] != 0) any = true;
    }
    for (long k = 0; k < ne; k++) {
        double a = fabs(J[k]);
        if (a == 0) continue;
        any = true;
        for (int e = 0; e < 2; e++) {
            int v = edges[k][e];
            sum[v] += a;
            if (a < mn[v]) mn[v] = a;
        }
    }
    if (!any) {
        *hot = 0.1;
        *cold = 1.0;
    } else {
        double mx = 0, gmin = INFINITY;
        for (int i = 0; i < n; i++) {
            mx = QV_MAX(mx, sum[i]);
            gmin = QV_MIN(gmin, mn[i]);
        }
        long cnt = 0;
        for (int i = 0; i < n; i++)
            if (mn[i] == gmin) cnt++;
        *hot = mx > 0 ? log(2.0) / (2 * mx) : 1.0;
        *cold = log((double)cnt / 0.01) / (2 * gmin);
    }
    free(sum);
    free(mn);
}

void sk_default_beta_range(const struct bm *bm, double *hot, double *cold)
{
    double *h = qv_mallocarray((size_t)bm->n, sizeof *h);
    double *J = qv_mallocarray((size_t)(bm->ne ? bm->ne : 1), sizeof *J);
    double off;
    bm_to_ising(bm, h, J, &off);
    sk_default_beta_range_ising(bm->n, bm->ne, (const int (*)[2])bm->g->edges, h, J, hot, cold);
    free(h);
    free(J);
}

/* ---------------------------------------------------------------- helpers */

bool sk_cancelled(const struct sample_ctx *ctx)
{
    return ctx && ctx->cancel && atomic_load(ctx->cancel);
}

int sk_parse_long(const char *who, const char *key, const char *val, long lo, long hi, long *out)
{
    long v;
    if (!val || qv_parse_long(val, &v) || v < lo || v > hi)
        return qv_seterr("sampler %s: --%s: must be an integer in [%ld, %ld], got '%s'", who, key,
                         lo, hi, val ? val : "");
    *out = v;
    return 0;
}

int sk_parse_double(const char *who, const char *key, const char *val, double lo, double hi,
                    double *out)
{
    double v;
    if (!val || qv_parse_double(val, &v) || !(v >= lo && v <= hi))
        return qv_seterr("sampler %s: --%s: must be a number in [%g, %g], got '%s'", who, key, lo,
                         hi, val ? val : "");
    *out = v;
    return 0;
}

double sk_logsumexp(const double *x, long n)
{
    double mx = -INFINITY;
    for (long i = 0; i < n; i++) mx = QV_MAX(mx, x[i]);
    if (!isfinite(mx)) return mx;
    double s = 0;
    for (long i = 0; i < n; i++) s += exp(x[i] - mx);
    return mx + log(s);
}
