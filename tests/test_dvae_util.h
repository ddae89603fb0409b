/* test_dvae_util.h — helpers shared by the DVAE tests (header-only; include after cmocka.h):
 * a seeded Chimera Boltzmann machine, and the comparison of analytic gradients with central finite
 * differences of a loss over every network parameter and, for a BM prior, over b and W. */
#ifndef QV_TEST_DVAE_UTIL_H
#define QV_TEST_DVAE_UTIL_H
#include <math.h>
#include "dvae.h"
#include "graph.h"

static inline struct bm *tiny_bm(int m_, int n_, int t, uint64_t seed, double scale)
{
    struct bm *bm = bm_new(graph_chimera(m_, n_, t));
    assert_non_null(bm);
    struct rng r;
    rng_init(&r, seed, 1);
    for (int i = 0; i < bm->n; i++) bm->b[i] = scale * (2 * rng_uniform(&r) - 1);
    for (long k = 0; k < bm->ne; k++) bm->w[k] = scale * (2 * rng_uniform(&r) - 1);
    return bm;
}

/* Compares analytic and FD gradients; returns ‖fd − an‖ / ‖fd‖ and checks elementwise. */
struct cmp { double num, den, worst; };
static inline void cmp_add(struct cmp *c, double fd, double an)
{
    c->num += (fd - an) * (fd - an);
    c->den += fd * fd;
    double e = fabs(fd - an) / (2e-3 + 0.05 * fabs(fd));
    if (e > c->worst) c->worst = e;
}

/* Central differences of a loss over every network parameter (padding skipped) and, for a BM
 * prior, over b and W, compared with the analytic gradients g [nparams] and g_b [n], g_w [ne].
 * Returns the network's relative error (and its worst scaled element in *worst); asserts the BM
 * parameters' relative error below 1e-3. */
typedef double (*fd_loss)(struct dvae *m, void *ctx);

static inline double fd_compare(struct dvae *m, struct bm *bm, const float *g, const double *g_b,
                         const double *g_w, fd_loss f, void *ctx, double *worst)
{
    struct cmp c = {0};
    const float eps = 2e-3f;
    for (size_t k = 0; k < m->nparams; k++) {
        if (g[k] == 0.0f && m->params[k] == 0.0f) continue;   /* padding */
        float save = m->params[k];
        m->params[k] = save + eps;
        double lp = f(m, ctx);
        m->params[k] = save - eps;
        double lm = f(m, ctx);
        m->params[k] = save;
        cmp_add(&c, (lp - lm) / (2 * eps), g[k]);
    }
    if (bm) {
        struct cmp cb = {0};
        const double e2 = 1e-4;
        for (int i = 0; i < bm->n + bm->ne; i++) {
            double *pp = i < bm->n ? &bm->b[i] : &bm->w[i - bm->n];
            double save = *pp;
            *pp = save + e2; double lp = f(m, ctx);
            *pp = save - e2; double lm = f(m, ctx);
            *pp = save;
            cmp_add(&cb, (lp - lm) / (2 * e2), i < bm->n ? g_b[i] : g_w[i - bm->n]);
        }
        double relb = sqrt(cb.num / cb.den);
        print_message("BM prior: b, W gradient relative error %.2e\n", relb);
        assert_true(relb < 1e-3);
    }
    *worst = c.worst;
    return sqrt(c.num / c.den);
}

static inline struct dvae *tiny_model(enum dvae_prior prior, int n, float tau)
{
    struct dvae_config c;
    dvae_config_default(&c);
    c.D = 16;
    c.n = n;
    c.nhidden = 2;
    c.hidden[0] = 11;
    c.hidden[1] = 9;
    c.tau = tau;
    c.prior = prior;
    c.bmax = 64;
    struct dvae *m = dvae_new(&c, 42);
    assert_non_null(m);
    /* non-zero biases and prior logits so every gradient path carries signal */
    struct rng r;
    rng_init(&r, 5, 5);
    for (int i = 0; i < m->enc[0].nl; i++) {
        for (int j = 0; j < m->enc[0].L[i].out; j++) m->enc[0].L[i].b[j] = (float)(rng_uniform(&r) - 0.5);
        for (int j = 0; j < m->dec.L[i].out; j++) m->dec.L[i].b[j] = (float)(rng_uniform(&r) - 0.5);
    }
    if (m->prior_a)
        for (int i = 0; i < n; i++) m->prior_a[i] = (float)(2 * rng_uniform(&r) - 1);
    return m;
}

static inline void make_batch(int B, int D, int n, float *x, float *noise)
{
    struct rng r;
    rng_init(&r, 11, 0);
    for (int i = 0; i < B * D; i++) x[i] = rng_uniform(&r) < 0.35 ? 1.0f : 0.0f;
    dvae_noise(&r, noise, (size_t)B * n);
}

#endif
