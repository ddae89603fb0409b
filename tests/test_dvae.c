/* test_dvae.c — the DVAE objective and its evaluation on tiny models:
 *  - central finite differences of the relaxed ELBO loss (GumBolt relaxation, encoder, decoder,
 *    prior) against dvae_batch_run's gradients, for the closed-form Bernoulli prior and for a
 *    Boltzmann-machine prior whose negative phase is exact (bm_marginals_exact; the loss includes
 *    the exact log Z, so the FD of the loss is the true gradient);
 *  - the same check with the batch cut into data-parallel blocks, and block runs on 1 and on
 *    several threads giving identical bits, for the gradients and for the Adam step that follows
 *    (checked element by element against a scalar Adam with decay on kernels only);
 *  - the NaN/Inf check done while the blocks are summed catches a non-finite gradient anywhere;
 *  - the importance-weighted log-likelihood converges to the exact log p(x) obtained by
 *    enumerating all 2^n latent states, within 0.01 nats at large K;
 *  - the discrete validation pass against a recomputation from encoder, decoder and prior, and
 *    as the τ → 0 limit of the relaxed one;
 *  - active units and bad input (K = 0, prior size mismatch).
 * Importance-weighted training: test_dvae_iw.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dvae.h"
#include "eval.h"
#include "graph.h"
#include "test_dvae_util.h"

/* loss = mean(−rec + β·kl) (+ β log Z) with gradients off */
static double loss_at(struct dvae *m, const struct bm *bm, int B, const float *x,
                      const float *noise, double beta)
{
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = beta};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    double l = -io.rec + beta * io.kl;
    if (bm) {
        double lz;
        assert_int_equal(bm_logz_exact(bm, 1.0, &lz), 0);
        l += beta * lz;
    }
    return l;
}

struct plain_ref { const struct bm *bm; int B; const float *x, *noise; double beta; };
static double plain_loss(struct dvae *m, void *ctx)
{
    const struct plain_ref *r = ctx;
    return loss_at(m, r->bm, r->B, r->x, r->noise, r->beta);
}

static void check_grad(enum dvae_prior prior, int shards, enum dvae_kl kl)
{
    const int B = 6, D = 16, n = prior == DVAE_PRIOR_BM ? 8 : 10;
    const double beta = 0.7;
    struct dvae *m = tiny_model(prior, n, 0.6f);
    m->cfg.kl = kl;
    assert_int_equal(dvae_set_parallel(m, shards, shards), 0);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    float x[6 * 16], noise[6 * 10];
    make_batch(B, D, n, x, noise);
    double neg_mean[8], neg_corr[16], g_b[8], g_w[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = beta, .grad = true,
                            .neg_mean = neg_mean, .neg_corr = neg_corr, .g_b = g_b, .g_w = g_w};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    float *g = malloc(sizeof(float) * m->nparams);
    memcpy(g, m->grads, sizeof(float) * m->nparams);
    struct plain_ref r = {.bm = bm, .B = B, .x = x, .noise = noise, .beta = beta};
    double worst, rel = fd_compare(m, bm, g, g_b, g_w, plain_loss, &r, &worst);
    print_message("%s prior (%s): network gradient relative error %.2e (worst scaled %.2f)\n",
                  prior == DVAE_PRIOR_BM ? "BM" : "Bernoulli",
                  prior == DVAE_PRIOR_BM ? dvae_kl_name(kl) : "closed form", rel, worst);
    assert_true(rel < 1e-2);
    assert_true(worst < 1.0);
    bm_free(bm);
    free(g);
    dvae_free(m);
}

static void test_grad_bernoulli(void **s) { (void)s; check_grad(DVAE_PRIOR_BERNOULLI, 1, DVAE_KL_RELAXED); }
static void test_grad_bm(void **s) { (void)s; check_grad(DVAE_PRIOR_BM, 1, DVAE_KL_RELAXED); }
static void test_grad_bernoulli_blocks(void **s) { (void)s; check_grad(DVAE_PRIOR_BERNOULLI, 4, DVAE_KL_RELAXED); }
static void test_grad_bm_blocks(void **s) { (void)s; check_grad(DVAE_PRIOR_BM, 3, DVAE_KL_RELAXED); }
static void test_grad_bm_analytic(void **s) { (void)s; check_grad(DVAE_PRIOR_BM, 1, DVAE_KL_ANALYTIC); }
static void test_grad_bm_analytic_blocks(void **s) { (void)s; check_grad(DVAE_PRIOR_BM, 3, DVAE_KL_ANALYTIC); }

/* The analytic BM term is the exact discrete KL without log Z: for each example,
 * Σ_z q(z|x) [log q(z|x) + E(z)] by enumerating all 2^8 states of C(1,1,4), in double.  It does
 * not depend on the noise, while the reconstruction still does; the relaxed proxy differs from it
 * at τ = 0.6; and the discrete pass (which scores sampled z either way) ignores the setting. */
static void test_bm_analytic_kl_value(void **state)
{
    (void)state;
    const int B = 3, D = 16, n = 8;
    struct dvae *m = tiny_model(DVAE_PRIOR_BM, n, 0.6f);
    struct bm *bm = tiny_bm(1, 1, 4, 9, 0.8);
    float x[3 * 16], noise[3 * 8], noise2[3 * 8], q[3 * 8];
    make_batch(B, D, n, x, noise);
    for (int i = 0; i < B * n; i++) noise2[i] = -noise[i];
    dvae_encode(m, B, x, q);
    double want = 0.0;
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    for (int b = 0; b < B; b++)
        for (int s = 0; s < 1 << n; s++) {
            double lq = 0.0, e = 0.0;
            for (int i = 0; i < n; i++) {
                int zi = (s >> i) & 1;
                double qi = q[b * n + i];
                lq += log(zi ? qi : 1.0 - qi);
                e -= bm->b[i] * zi;
            }
            for (long k = 0; k < bm->ne; k++) e -= bm->w[k] * ((s >> ed[k][0]) & 1) * ((s >> ed[k][1]) & 1);
            want += exp(lq) * (lq + e);
        }
    want /= B;
    m->cfg.kl = DVAE_KL_ANALYTIC;
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    print_message("analytic BM term %.6f, enumeration %.6f\n", io.kl, want);
    assert_true(fabs(io.kl - want) < 1e-4 * (1.0 + fabs(want)));
    struct dvae_batch io2 = {.B = B, .x = x, .noise = noise2, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, bm, &io2), 0);
    assert_true(io2.kl == io.kl);
    assert_true(fabs(io2.rec - io.rec) > 1e-3);
    struct dvae_batch dz = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0, .discrete = true};
    assert_int_equal(dvae_batch_run(m, bm, &dz), 0);
    m->cfg.kl = DVAE_KL_RELAXED;
    struct dvae_batch ir = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, bm, &ir), 0);
    assert_true(fabs(ir.kl - want) > 1e-3);
    struct dvae_batch dz2 = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0, .discrete = true};
    assert_int_equal(dvae_batch_run(m, bm, &dz2), 0);
    assert_true(dz2.elbo == dz.elbo);
    enum dvae_kl k;
    assert_int_equal(dvae_kl_parse("analytic", &k), 0);
    assert_int_equal(k, DVAE_KL_ANALYTIC);
    assert_int_equal(dvae_kl_parse("exact", &k), -1);
    bm_free(bm);
    dvae_free(m);
}

/* One gradient pass with the batch in `shards` blocks on `threads` threads; copies out grads,
 * g_b, g_w and the ELBO. */
struct pass { float *g, *p; double gb[8], gw[16], elbo, rec, kl; };

/* One Adam step by the textbook formula (first step: m = (1−β1)g, v = (1−β2)g²), decay on
 * kernels only, in double; checks every parameter of m against it. */
static void check_adam_first_step(const struct dvae *m, const float *p0, const float *g, double lr,
                                  double wd)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr_t = lr * sqrt(1 - b2) / (1 - b1);
    char *kernel = calloc(m->nparams, 1);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < m->enc[0].nl; i++) {
            const struct nn_dense *L = k ? &m->dec.L[i] : &m->enc[0].L[i];
            memset(kernel + (L->w - m->params), 1, (size_t)L->in * L->out);
        }
    for (size_t k = 0; k < m->nparams; k++) {
        double gk = g[k] + (kernel[k] ? wd * p0[k] : 0.0);
        double mk = (1 - b1) * gk, vk = (1 - b2) * gk * gk;
        double want = p0[k] - lr_t * mk / (sqrt(vk) + eps);
        assert_true(fabs(m->params[k] - want) <= 1e-6 * (1 + fabs(want)));
    }
    free(kernel);
}
static void block_pass(enum dvae_prior prior, int shards, int threads, struct pass *out)
{
    const int B = 13, D = 16, n = 8;
    memset(out, 0, sizeof *out);
    struct dvae *m = tiny_model(prior, n, 0.6f);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    assert_int_equal(dvae_set_parallel(m, shards, threads), 0);
    float x[13 * 16], noise[13 * 8];
    make_batch(B, D, n, x, noise);
    double neg_mean[8], neg_corr[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = 0.7, .grad = true,
                            .neg_mean = neg_mean, .neg_corr = neg_corr, .g_b = out->gb, .g_w = out->gw};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    assert_true(io.grads_finite);
    out->g = malloc(sizeof(float) * m->nparams);
    memcpy(out->g, m->grads, sizeof(float) * m->nparams);
    /* then one Adam step on the same threads (a large decay so that its placement shows) */
    float *p0 = malloc(sizeof(float) * m->nparams);
    memcpy(p0, m->params, sizeof(float) * m->nparams);
    struct nn_adam adam;
    assert_int_equal(nn_adam_init(&adam, m->nparams), 0);
    dvae_adam_step(m, &adam, 0.01, 0.5f);
    check_adam_first_step(m, p0, out->g, 0.01, 0.5);
    out->p = malloc(sizeof(float) * m->nparams);
    memcpy(out->p, m->params, sizeof(float) * m->nparams);
    nn_adam_free(&adam);
    free(p0);
    out->elbo = io.elbo;
    out->rec = io.rec;
    out->kl = io.kl;
    bm_free(bm);
    dvae_free(m);
}

static void check_blocks(enum dvae_prior prior)
{
    struct dvae *probe = tiny_model(prior, 8, 0.6f);
    const size_t np = probe->nparams;
    dvae_free(probe);
    struct pass one, b3t1, b3t3, b2t2;
    block_pass(prior, 1, 1, &one);
    block_pass(prior, 3, 1, &b3t1);
    block_pass(prior, 3, 3, &b3t3);
    block_pass(prior, 2, 2, &b2t2);
    /* the thread count never changes a bit */
    assert_memory_equal(b3t1.g, b3t3.g, sizeof(float) * np);
    assert_memory_equal(b3t1.p, b3t3.p, sizeof(float) * np);
    assert_memory_equal(b3t1.gb, b3t3.gb, sizeof b3t1.gb);
    assert_memory_equal(b3t1.gw, b3t3.gw, sizeof b3t1.gw);
    assert_true(b3t1.elbo == b3t3.elbo);
    /* the block count changes only rounding: of the sums, and of sgemm, whose kernels may round a
     * row differently in a block of another height */
    const struct pass *cmp[2] = {&b3t1, &b2t2};
    for (int c = 0; c < 2; c++) {
        double num = 0, den = 0;
        for (size_t k = 0; k < np; k++) {
            double d = (double)cmp[c]->g[k] - one.g[k];
            num += d * d;
            den += (double)one.g[k] * one.g[k];
        }
        assert_true(den > 0);
        assert_true(sqrt(num / den) < 1e-5);
        assert_true(fabs(cmp[c]->elbo - one.elbo) < 1e-6 * (1 + fabs(one.elbo)));
        if (prior == DVAE_PRIOR_BM)
            for (int i = 0; i < 8; i++) assert_true(fabs(cmp[c]->gb[i] - one.gb[i]) < 1e-6);
    }
    free(one.g); free(b3t1.g); free(b3t3.g); free(b2t2.g);
    free(one.p); free(b3t1.p); free(b3t3.p); free(b2t2.p);
}

static void test_blocks_bernoulli(void **s) { (void)s; check_blocks(DVAE_PRIOR_BERNOULLI); }
static void test_blocks_bm(void **s) { (void)s; check_blocks(DVAE_PRIOR_BM); }

static void test_blocks_bad(void **state)
{
    (void)state;
    struct dvae *m = tiny_model(DVAE_PRIOR_BERNOULLI, 8, 0.6f);
    assert_int_equal(dvae_set_parallel(m, 0, 1), -1);
    assert_non_null(strstr(qv_errmsg(), "data-parallel blocks"));
    assert_int_equal(dvae_set_parallel(m, DVAE_MAX_SHARDS + 1, 1), -1);
    assert_int_equal(m->nshard, 1);
    /* more blocks than rows: every row still counted once */
    assert_int_equal(dvae_set_parallel(m, 4, 2), 0);
    float x[2 * 16], noise[2 * 8];
    make_batch(2, 16, 8, x, noise);
    struct dvae_batch io = {.B = 2, .x = x, .noise = noise, .kl_weight = 1.0, .grad = true};
    assert_int_equal(dvae_batch_run(m, NULL, &io), 0);
    double e4 = io.elbo;
    assert_int_equal(dvae_set_parallel(m, 1, 1), 0);
    struct dvae_batch io1 = {.B = 2, .x = x, .noise = noise, .kl_weight = 1.0, .grad = true};
    assert_int_equal(dvae_batch_run(m, NULL, &io1), 0);
    assert_true(fabs(io1.elbo - e4) < 1e-6 * (1 + fabs(e4)));
    dvae_free(m);
}

/* A NaN in any gradient element, first, middle or last of the parameters, is flagged by the check
 * that runs while the blocks are summed, whatever the block and thread counts. */
static void test_grads_finite(void **state)
{
    (void)state;
    float x[13 * 16], noise[13 * 8];
    make_batch(13, 16, 8, x, noise);
    const int cfg[3][2] = {{1, 1}, {3, 1}, {3, 3}};
    for (int c = 0; c < 3; c++)
        for (int where = 0; where < 3; where++) {
            struct dvae *m = tiny_model(DVAE_PRIOR_BERNOULLI, 8, 0.6f);
            assert_int_equal(dvae_set_parallel(m, cfg[c][0], cfg[c][1]), 0);
            /* a NaN parameter poisons its own gradient: the first, one in the middle (the
             * decoder's output bias) and the last real one (a prior logit; padding follows) */
            if (where == 0) m->params[0] = NAN;
            if (where == 1) m->prior_a[m->cfg.n - 1] = NAN;   /* the last (then padding) */
            if (where == 2) m->dec.L[m->dec.nl - 1].b[3] = NAN;
            struct dvae_batch io = {.B = 13, .x = x, .noise = noise, .kl_weight = 1.0, .grad = true};
            assert_int_equal(dvae_batch_run(m, NULL, &io), 0);
            bool any = false;
            for (size_t k = 0; k < m->nparams; k++) any |= !isfinite(m->grads[k]);
            assert_true(any);
            assert_false(io.grads_finite);
            dvae_free(m);
        }
}

/* Straight-through (--relax st): the forward pass is the discrete pass, and the gradient is the
 * exact gradient of the surrogate in which the decoder and the prior term see z_h + ζ(θ) − ζ(θ0)
 * (z_h = [l + g > 0] and ζ0 frozen at the current parameters), computed here from the encoder, the
 * decoder and the prior separately and differentiated by finite differences. */
struct st_ref { const float *x, *noise, *zh, *s0; double beta; const struct bm *bm; int B; };

static double st_loss(struct dvae *m, void *ctx)
{
    const struct st_ref *r = ctx;
    const int B = r->B;
    const int n = m->cfg.n, D = m->cfg.D;
    float q[6 * 10], zin[6 * 10];
    const float *l = dvae_encode(m, B, r->x, q);
    for (int i = 0; i < B * n; i++) {
        double s = 1 / (1 + exp(-((double)l[i] + r->noise[i]) / m->cfg.tau));
        zin[i] = (float)(r->zh[i] + s - r->s0[i]);
    }
    double kl = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            double qi = q[b * n + i], li = l[b * n + i], z = zin[b * n + i];
            if (r->bm) {
                kl += z * li - (li > 0 ? li + log1p(exp(-li)) : log1p(exp(li)));   /* log q proxy */
                kl -= r->bm->b[i] * z;
            } else {
                double p = 1 / (1 + exp(-(double)m->prior_a[i]));
                kl += qi * log(qi / p) + (1 - qi) * log((1 - qi) / (1 - p));
            }
        }
    if (r->bm) {
        const int (*ed)[2] = (const int (*)[2])r->bm->g->edges;
        for (int b = 0; b < B; b++)
            for (long k = 0; k < r->bm->ne; k++)
                kl -= r->bm->w[k] * zin[b * n + ed[k][0]] * zin[b * n + ed[k][1]];
    }
    const float *px = dvae_decode(m, B, zin);
    double rec = 0;
    for (int i = 0; i < B * D; i++) {
        double t = px[i];
        rec += r->x[i] * t - (t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)));
    }
    double loss = (-rec + r->beta * kl) / B;
    if (r->bm) {
        double lz;
        assert_int_equal(bm_logz_exact(r->bm, 1.0, &lz), 0);
        loss += r->beta * lz;
    }
    return loss;
}

static void check_st(enum dvae_prior prior)
{
    const int B = 6, D = 16, n = prior == DVAE_PRIOR_BM ? 8 : 10;
    struct dvae *m = tiny_model(prior, n, 0.6f);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    m->cfg.relax = DVAE_RELAX_ST;
    float x[6 * 16], noise[6 * 10], q[6 * 10], zh[6 * 10], s0[6 * 10];
    make_batch(B, D, n, x, noise);
    double neg_mean[8], neg_corr[16], g_b[8], g_w[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = 0.7, .grad = true,
                            .neg_mean = neg_mean, .neg_corr = neg_corr, .g_b = g_b, .g_w = g_w};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    float *g = malloc(sizeof(float) * m->nparams);
    memcpy(g, m->grads, sizeof(float) * m->nparams);
    /* forward = the discrete pass on the same noise */
    struct dvae_batch dz = {.B = B, .x = x, .noise = noise, .kl_weight = 0.7, .discrete = true};
    assert_int_equal(dvae_batch_run(m, bm, &dz), 0);
    assert_true(fabs(io.elbo - dz.elbo) < 1e-9 * (1 + fabs(dz.elbo)));
    const float *l = dvae_encode(m, B, x, q);
    int ones = 0;
    for (int i = 0; i < B * n; i++) {
        zh[i] = l[i] + noise[i] > 0 ? 1.0f : 0.0f;
        s0[i] = (float)(1 / (1 + exp(-((double)l[i] + noise[i]) / m->cfg.tau)));
        ones += zh[i] > 0;
    }
    assert_true(ones > 0 && ones < B * n);
    struct st_ref r = {.x = x, .noise = noise, .zh = zh, .s0 = s0, .beta = 0.7, .bm = bm, .B = B};
    double worst, rel = fd_compare(m, bm, g, g_b, g_w, st_loss, &r, &worst);
    print_message("straight-through, %s prior: gradient vs the surrogate's, relative error %.2e\n",
                  bm ? "BM" : "Bernoulli", rel);
    assert_true(rel < 1e-2);
    assert_true(worst < 1.0);
    bm_free(bm);
    enum dvae_relax rx;
    assert_int_equal(dvae_relax_parse("st", &rx), 0);
    assert_int_equal(rx, DVAE_RELAX_ST);
    assert_int_equal(dvae_relax_parse("rebar", &rx), -1);
    free(g);
    dvae_free(m);
}

static void test_st_bernoulli(void **s) { (void)s; check_st(DVAE_PRIOR_BERNOULLI); }
static void test_st_bm(void **s) { (void)s; check_st(DVAE_PRIOR_BM); }

/* The Bernoulli KL term is the closed form: check it against a direct double computation. */
static void test_bernoulli_kl_value(void **state)
{
    (void)state;
    const int B = 3, D = 16, n = 10;
    struct dvae *m = tiny_model(DVAE_PRIOR_BERNOULLI, n, 0.5f);
    float x[3 * 16], noise[3 * 10], q[3 * 10];
    make_batch(B, D, n, x, noise);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, NULL, &io), 0);
    dvae_encode(m, B, x, q);
    double kl = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            double qi = q[b * n + i], p = 1 / (1 + exp(-(double)m->prior_a[i]));
            kl += qi * log(qi / p) + (1 - qi) * log((1 - qi) / (1 - p));
        }
    assert_true(fabs(kl / B - io.kl) < 1e-4);
    assert_true(fabs(io.elbo - (io.rec - io.kl)) < 1e-9);
    dvae_free(m);
}

/* The discrete validation pass (io.discrete): per example, log p(x|z) − log q(z|x) + log p̃(z) with
 * z = [l + g > 0], recomputed here from the encoder, the decoder and the prior separately; the
 * relaxed pass approaches it as τ → 0 on the same noise; it has no gradient. */
static void check_discrete(enum dvae_prior prior)
{
    const int B = 4, D = 16, n = 12;
    struct dvae *m = tiny_model(prior, n, 0.5f);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 2, 3, 4, 0.7) : NULL;
    float x[4 * 16], noise[4 * 12], q[4 * 12], l[4 * 12], z[4 * 12];
    double ex[4], lp[4];
    make_batch(B, D, n, x, noise);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0, .discrete = true,
                            .ex_elbo = ex};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    memcpy(l, dvae_encode(m, B, x, q), sizeof l);
    for (int i = 0; i < B * n; i++) z[i] = l[i] + noise[i] > 0 ? 1.0f : 0.0f;
    const float *px = dvae_decode(m, B, z);
    dvae_prior_logp(m, bm, B, z, lp);
    int ones = 0;
    for (int b = 0; b < B; b++) {
        double e = 0;
        for (int d = 0; d < D; d++) {
            double t = px[b * D + d];
            e += x[b * D + d] * t - (t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)));
        }
        for (int i = 0; i < n; i++) {
            double qi = q[b * n + i], zi = z[b * n + i];
            ones += zi > 0;
            if (bm) {
                e -= zi * log(qi) + (1 - zi) * log1p(-qi);   /* − log q(z|x) */
            } else {
                double p = 1 / (1 + exp(-(double)m->prior_a[i]));
                e -= qi * log(qi / p) + (1 - qi) * log((1 - qi) / (1 - p));   /* closed-form KL */
            }
        }
        if (bm) e += lp[b];
        assert_true(fabs(e - ex[b]) < 1e-3 * (1 + fabs(e)));
    }
    assert_true(ones > 0 && ones < B * n);   /* both states occur: the check sees the threshold */

    /* τ → 0: the relaxed ELBO on the same noise becomes the discrete one */
    m->cfg.tau = 1e-5f;
    struct dvae_batch rel = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, bm, &rel), 0);
    assert_true(fabs(rel.elbo - io.elbo) < 1e-3 * (1 + fabs(io.elbo)));
    m->cfg.tau = 0.5f;
    assert_int_equal(dvae_batch_run(m, bm, &rel), 0);
    assert_true(fabs(rel.elbo - io.elbo) > 1e-2);   /* at τ = 0.5 they differ */

    double nm[12] = {0}, nc[64] = {0}, db[12], dw[64];
    struct dvae_batch bad = {.B = B, .x = x, .noise = noise, .kl_weight = 1.0, .discrete = true,
                             .grad = true, .neg_mean = nm, .neg_corr = nc, .g_b = db, .g_w = dw};
    assert_int_equal(dvae_batch_run(m, bm, &bad), -1);
    assert_non_null(strstr(qv_errmsg(), "discrete latents have no reparameterised gradient"));
    bm_free(bm);
    dvae_free(m);
}
static void test_discrete_bernoulli(void **s) { (void)s; check_discrete(DVAE_PRIOR_BERNOULLI); }
static void test_discrete_bm(void **s) { (void)s; check_discrete(DVAE_PRIOR_BM); }

static void check_iw(enum dvae_prior prior)
{
    const int n = 12, D = 16, N = 3;
    struct dvae *m = tiny_model(prior, n, 0.5f);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 2, 3, 4, 0.7) : NULL;
    double logz = 0;
    if (bm) {
        assert_int_equal(bm->n, n);
        assert_int_equal(bm_logz_exact(bm, 1.0, &logz), 0);
    }
    float x[3 * 16], noise[3 * 12];
    make_batch(N, D, n, x, noise);
    double exact[3], iw[3];
    assert_int_equal(eval_exact_ll(m, bm, logz, x, N, exact), 0);
    const long Ks[] = {1, 30, 1000, 1000000};
    double prev_gap = INFINITY;
    for (int j = 0; j < 4; j++) {
        struct eval_ctx ctx = {.seed = 77};
        assert_int_equal(eval_iw_ll(m, bm, logz, x, N, Ks[j], &ctx, iw), 0);
        double gap = 0;
        for (int i = 0; i < N; i++) gap += fabs(exact[i] - iw[i]) / N;
        print_message("%s prior: K=%ld mean |IW − exact| = %.4f (exact %.3f)\n",
                      bm ? "BM" : "Bernoulli", Ks[j], gap, exact[0]);
        if (j > 0) assert_true(gap < prev_gap + 1e-3);
        prev_gap = gap;
    }
    assert_true(prev_gap < 0.01);
    /* images on several threads (each with its own model copy): the same bits */
    double iw1[3], iw3[3];
    struct eval_ctx c1 = {.seed = 5, .threads = 1}, c3 = {.seed = 5, .threads = 3};
    assert_int_equal(eval_iw_ll(m, bm, logz, x, N, 700, &c1, iw1), 0);
    assert_int_equal(eval_iw_ll(m, bm, logz, x, N, 700, &c3, iw3), 0);
    assert_memory_equal(iw1, iw3, sizeof iw1);
    /* K = 0 is an error, not a crash */
    struct eval_ctx ctx = {.seed = 1};
    assert_int_equal(eval_iw_ll(m, bm, logz, x, N, 0, &ctx, iw), -1);
    bm_free(bm);
    dvae_free(m);
}

static void test_iw_bernoulli(void **s) { (void)s; check_iw(DVAE_PRIOR_BERNOULLI); }
static void test_iw_bm(void **s) { (void)s; check_iw(DVAE_PRIOR_BM); }

/* dvae_reserve grows the work buffers and keeps the parameters: the same batch gives the same
 * bits before and after, a batch above the old capacity then runs, and a request above the limit
 * fails with the model unchanged. */
static void test_reserve(void **state)
{
    (void)state;
    const int D = 16, n = 8, B = 40, big = 200;
    struct dvae *m = tiny_model(DVAE_PRIOR_BM, n, 0.5f);   /* capacity 64 rows */
    struct bm *bm = tiny_bm(1, 1, 4, 3, 0.3);            /* 8 units */
    float *x = malloc(sizeof(float) * big * D), *noise = malloc(sizeof(float) * big * n);
    double mean[8] = {0}, corr[16] = {0}, gb[8], gw[16], ex0[40], ex1[40];
    make_batch(big, D, n, x, noise);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = 0.7, .grad = true,
                            .neg_mean = mean, .neg_corr = corr, .g_b = gb, .g_w = gw,
                            .ex_elbo = ex0};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    float *g0 = malloc(sizeof(float) * m->nparams), *p0 = malloc(sizeof(float) * m->nparams);
    memcpy(g0, m->grads, sizeof(float) * m->nparams);
    memcpy(p0, m->params, sizeof(float) * m->nparams);
    const double elbo0 = io.elbo;

    io.B = big;
    assert_int_equal(dvae_batch_run(m, bm, &io), -1);    /* above the capacity of 64 */
    assert_int_equal(dvae_reserve(m, 32), 0);            /* already holds it: nothing changes */
    assert_int_equal(m->cfg.bmax, 64);
    assert_int_equal(dvae_reserve(m, big), 0);
    assert_int_equal(m->cfg.bmax, big);
    assert_memory_equal(m->params, p0, sizeof(float) * m->nparams);

    io.B = B;
    io.ex_elbo = ex1;
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    assert_true(io.elbo == elbo0);
    assert_memory_equal(ex1, ex0, sizeof ex0);
    assert_memory_equal(m->grads, g0, sizeof(float) * m->nparams);
    io.B = big;
    io.ex_elbo = NULL;
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);     /* now fits */
    assert_true(io.grads_finite);
    /* and after a reserve the data-parallel blocks write into the new gradient vector */
    assert_int_equal(dvae_set_parallel(m, 2, 2), 0);
    assert_int_equal(dvae_reserve(m, 2 * big), 0);
    io.B = B;
    io.ex_elbo = ex1;
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    assert_true(fabs(io.elbo - elbo0) < 1e-9 * fabs(elbo0));
    for (size_t i = 0; i < m->nparams; i++)
        assert_true(fabsf(m->grads[i] - g0[i]) <= 1e-5f * (1 + fabsf(g0[i])));

    assert_int_equal(dvae_reserve(m, DVAE_MAX_ROWS + 1), -1);
    assert_non_null(strstr(qv_errmsg(), "rows per pass"));
    assert_int_equal(m->cfg.bmax, 2 * big);
    assert_memory_equal(m->params, p0, sizeof(float) * m->nparams);
    free(g0);
    free(p0);
    free(x);
    free(noise);
    bm_free(bm);
    dvae_free(m);

    /* memory refused (work buffers of 100,000 rows × 2¹⁷ pixels are far above the 8 GiB a model
     * may take): error, and the model keeps its buffers and parameters and still runs */
    struct dvae_config c;
    dvae_config_default(&c);
    c.D = 1 << 17;
    c.n = 8;
    c.nhidden = 1;
    c.hidden[0] = 4;
    c.bmax = 2;
    m = dvae_new(&c, 7);
    assert_non_null(m);
    float *xb = calloc((size_t)2 * c.D, sizeof(float)), nz[16];
    for (int i = 0; i < 16; i++) nz[i] = 0.5f;
    struct dvae_batch one = {.B = 2, .x = xb, .noise = nz, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, NULL, &one), 0);
    const double e0 = one.elbo;
    p0 = malloc(sizeof(float) * m->nparams);
    memcpy(p0, m->params, sizeof(float) * m->nparams);
    assert_int_equal(dvae_reserve(m, DVAE_MAX_ROWS), -1);
    assert_non_null(strstr(qv_errmsg(), "model memory"));
    assert_int_equal(m->cfg.bmax, 2);
    assert_memory_equal(m->params, p0, sizeof(float) * m->nparams);
    assert_int_equal(dvae_batch_run(m, NULL, &one), 0);
    assert_true(one.elbo == e0);
    free(p0);
    free(xb);
    dvae_free(m);
}

static void test_units_and_mismatch(void **state)
{
    (void)state;
    const int D = 16, n = 8, N = 40;
    struct dvae *m = tiny_model(DVAE_PRIOR_BM, n, 0.5f);
    float *x = malloc(sizeof(float) * N * D), noise[40 * 8];
    make_batch(N, D, n, x, noise);
    double mean[8], var[8];
    int act = eval_units(m, x, N, 0.0, mean, var);
    assert_int_equal(act, n);    /* random encoder: every unit varies a little */
    act = eval_units(m, x, N, 1.0, mean, var);
    assert_int_equal(act, 0);    /* variance of a probability is at most 1/4 */
    for (int u = 0; u < n; u++) assert_true(mean[u] > 0 && mean[u] < 1);
    /* a prior of the wrong size is refused with a message */
    struct bm *bm = tiny_bm(1, 2, 3, 1, 0.1);   /* 12 units */
    struct dvae_batch io = {.B = 4, .x = x, .noise = noise, .kl_weight = 1};
    assert_int_equal(dvae_batch_run(m, bm, &io), -1);
    assert_non_null(strstr(qv_errmsg(), "12 units"));
    assert_int_equal(dvae_batch_run(m, NULL, &io), -1);
    bm_free(bm);
    free(x);
    dvae_free(m);
    /* bad configurations */
    struct dvae_config c;
    dvae_config_default(&c);
    assert_int_equal(dvae_parse_hidden("512,x", &c), -1);
    assert_int_equal(dvae_parse_hidden("300,200,100", &c), 0);
    assert_int_equal(c.nhidden, 3);
    c.tau = 0;
    assert_null(dvae_new(&c, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_bernoulli),
        cmocka_unit_test(test_grad_bm),
        cmocka_unit_test(test_grad_bernoulli_blocks),
        cmocka_unit_test(test_grad_bm_blocks),
        cmocka_unit_test(test_grad_bm_analytic),
        cmocka_unit_test(test_grad_bm_analytic_blocks),
        cmocka_unit_test(test_bm_analytic_kl_value),
        cmocka_unit_test(test_st_bernoulli),
        cmocka_unit_test(test_st_bm),
        cmocka_unit_test(test_blocks_bernoulli),
        cmocka_unit_test(test_blocks_bm),
        cmocka_unit_test(test_blocks_bad),
        cmocka_unit_test(test_grads_finite),
        cmocka_unit_test(test_bernoulli_kl_value),
        cmocka_unit_test(test_discrete_bernoulli),
        cmocka_unit_test(test_discrete_bm),
        cmocka_unit_test(test_iw_bernoulli),
        cmocka_unit_test(test_iw_bm),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_units_and_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
