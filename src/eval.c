/* eval.c — importance-weighted and exact log-likelihood of a DVAE, active units.  See eval.h. */
#include "eval.h"
#include "par.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_STREAM 0x6576616cULL   /* "eval": rng streams EVAL_STREAM + example index */

static int prior_check(const struct dvae *m, const struct bm *bm)
{
    if (m->cfg.prior == DVAE_PRIOR_BM) {
        if (!bm) return qv_seterr("eval: the model needs its Boltzmann-machine prior (prior new …)");
        if (bm->n != m->cfg.n)
            return qv_seterr("eval: the prior has %d units but the model has %d latents", bm->n, m->cfg.n);
    }
    return 0;
}

/* log-sum-exp accumulator over a stream of log-weights (max-shifted, double) */
struct lse { double max, sum; };
static void lse_init(struct lse *a) { a->max = -INFINITY; a->sum = 0.0; }
static void lse_add(struct lse *a, double v)
{
    if (v <= a->max) a->sum += exp(v - a->max);
    else { a->sum = a->sum * exp(a->max - v) + 1.0; a->max = v; }
}
static double lse_value(const struct lse *a) { return a->max + log(a->sum); }

/* Images [lo, hi) on model m (one thread).  report: this share's progress is reported, scaled by
 * `scale` (the shares advance at about the same rate). */
static int iw_range(struct dvae *m, const struct bm *bm, double logz, const float *x, long lo,
                    long hi, long N, long K, const struct eval_ctx *ctx, double *ll, bool report,
                    double scale)
{
    const int n = m->cfg.n, D = m->cfg.D, cap = m->cfg.bmax;
    const double shift = m->cfg.prior == DVAE_PRIOR_BM ? -logz : 0.0;
    float *z = qv_malloc(sizeof(float) * (size_t)cap * n);
    double *lq = qv_malloc(sizeof(double) * (size_t)cap);
    double *lp = qv_malloc(sizeof(double) * (size_t)cap);
    double *lx = qv_malloc(sizeof(double) * (size_t)cap);
    int rc = 0;
    for (long i = lo; i < hi; i++) {
        if (ctx && ctx->cancel && atomic_load(ctx->cancel)) { rc = -1; break; }
        const float *xi = x + (size_t)i * D;
        struct rng r;
        rng_init(&r, ctx ? ctx->seed : 0, EVAL_STREAM + (uint64_t)i);
        struct lse acc;
        lse_init(&acc);
        for (long k0 = 0; k0 < K; k0 += cap) {
            int nb = (int)QV_MIN((long)cap, K - k0);
            /* z ~ q(z|x) and log q(z|x), drawn in double (hierarchical groups in order) */
            dvae_post_sample(m, xi, nb, &r, z, lq);
            dvae_prior_logp(m, bm, nb, z, lp);
            nn_bernoulli_ll(dvae_decode(m, nb, z), xi, 0, nb, D, lx, NULL, 0.0f);
            for (int b = 0; b < nb; b++) lse_add(&acc, lx[b] + lp[b] + shift - lq[b]);
        }
        ll[i] = lse_value(&acc) - log((double)K);
        if (report && ctx && ctx->progress)
            ctx->progress(ctx->ud, QV_MIN((double)(i + 1 - lo) * scale, (double)N), (double)N);
    }
    free(z); free(lq); free(lp); free(lx);
    return rc;
}

struct iw_job {
    struct dvae **models;
    const struct bm *bm;
    double logz;
    const float *x;
    long lo, N, K;    /* this process's images [lo, lo + N) */
    int T;
    const struct eval_ctx *ctx;
    double *ll;
    int rc[EVAL_MAX_THREADS];
};

static void iw_job_run(void *p, long t)
{
    struct iw_job *j = p;
    long lo = j->lo + j->N * t / j->T, hi = j->lo + j->N * (t + 1) / j->T;
    j->rc[t] = iw_range(j->models[t], j->bm, j->logz, j->x, lo, hi, j->N, j->K, j->ctx, j->ll, t == 0,
                        (double)j->T);
}

int eval_iw_ll(struct dvae *m, const struct bm *bm, double logz, const float *x, long N, long K,
               const struct eval_ctx *ctx, double *ll)
{
    if (K < 1) return qv_seterr("eval: --k must be at least 1 (got %ld)", K);
    if (prior_check(m, bm) < 0) return -1;
    /* Threads split the images; each image's samples come from its own stream and go through the
     * same batch shapes on every thread, so the figures are the same for any thread count. */
    /* An MPI job splits the images across ranks the same way (par_share), then gathers the
     * per-image figures: ll is the same whatever the rank and thread counts. */
    long lo = 0, hi = N;
    par_share(N, &lo, &hi);
    const long NR = hi - lo;
    int T = ctx && ctx->threads > 1 ? (int)QV_MIN((long)QV_MIN(ctx->threads, EVAL_MAX_THREADS), NR) : 1;
    if (T < 1) T = 1;
    struct dvae *models[EVAL_MAX_THREADS] = {m};
    for (int t = 1; t < T; t++)
        if (!(models[t] = dvae_clone(m))) {
            for (int u = 1; u < t; u++) dvae_free(models[u]);
            return qv_preferr("eval: model copy for thread %d", t + 1);
        }
    struct iw_job j = {.models = models, .bm = bm, .logz = logz, .x = x, .lo = lo, .N = NR, .K = K,
                       .T = T, .ctx = ctx, .ll = ll};
    int blas = T > 1 ? nn_blas_threads(1) : 0;
    if (NR > 0) qv_parallel(T, T, iw_job_run, &j);
    if (T > 1) nn_blas_threads(blas);
    int rc = 0;
    for (int t = 0; t < T && NR > 0; t++) rc |= j.rc[t];
    for (int t = 1; t < T; t++) dvae_free(models[t]);
    if (par_agree(rc == 0) >= 0) return qv_seterr("eval: cancelled");
    if (par_size() > 1) {
        const int P = par_size();
        size_t *cd = qv_malloc(sizeof(size_t) * 2 * (size_t)P);
        for (int r = 0; r < P; r++) {
            cd[P + r] = sizeof(double) * (size_t)(N * r / P);
            cd[r] = sizeof(double) * (size_t)(N * (r + 1) / P) - cd[P + r];
        }
        char err[200];
        rc = par_allgather_bytes(ll, cd, cd + P, err, sizeof err);
        free(cd);
        if (rc) return qv_seterr("eval: %s", err);
    }
    return 0;
}

int eval_exact_ll(struct dvae *m, const struct bm *bm, double logz, const float *x, long N,
                  double *ll)
{
    const int n = m->cfg.n, D = m->cfg.D, cap = m->cfg.bmax;
    if (n > 24) return qv_seterr("eval: exact likelihood needs at most 24 latents (model has %d)", n);
    if (prior_check(m, bm) < 0) return -1;
    const double shift = m->cfg.prior == DVAE_PRIOR_BM ? -logz : 0.0;
    const long S = 1L << n;
    float *z = qv_malloc(sizeof(float) * (size_t)cap * n);
    double *lp = qv_malloc(sizeof(double) * (size_t)cap);
    double *lx = qv_malloc(sizeof(double) * (size_t)cap);
    for (long i = 0; i < N; i++) {
        const float *xi = x + (size_t)i * D;
        struct lse acc;
        lse_init(&acc);
        for (long s0 = 0; s0 < S; s0 += cap) {
            int nb = (int)QV_MIN((long)cap, S - s0);
            for (int b = 0; b < nb; b++)
                for (int u = 0; u < n; u++) z[(size_t)b * n + u] = (float)(((s0 + b) >> u) & 1);
            dvae_prior_logp(m, bm, nb, z, lp);
            nn_bernoulli_ll(dvae_decode(m, nb, z), xi, 0, nb, D, lx, NULL, 0.0f);
            for (int b = 0; b < nb; b++) lse_add(&acc, lx[b] + lp[b] + shift);
        }
        ll[i] = lse_value(&acc);
    }
    free(z); free(lp); free(lx);
    return 0;
}

int eval_units(struct dvae *m, const float *x, long N, double threshold, double *mean, double *var)
{
    const int n = m->cfg.n, D = m->cfg.D, cap = m->cfg.bmax;
    float *q = qv_malloc(sizeof(float) * (size_t)cap * n);
    double *s1 = qv_calloc((size_t)n, sizeof(double)), *s2 = qv_calloc((size_t)n, sizeof(double));
    for (long i0 = 0; i0 < N; i0 += cap) {
        int nb = (int)QV_MIN((long)cap, N - i0);
        dvae_encode(m, nb, x + (size_t)i0 * D, q);
        for (int b = 0; b < nb; b++)
            for (int u = 0; u < n; u++) {
                double v = q[(size_t)b * n + u];
                s1[u] += v;
                s2[u] += v * v;
            }
    }
    int active = 0;
    for (int u = 0; u < n; u++) {
        double mu = N > 0 ? s1[u] / N : 0.0, v = N > 0 ? s2[u] / N - mu * mu : 0.0;
        if (v < 0.0) v = 0.0;
        if (mean) mean[u] = mu;
        if (var) var[u] = v;
        if (v > threshold) active++;
    }
    free(q); free(s1); free(s2);
    return active;
}
