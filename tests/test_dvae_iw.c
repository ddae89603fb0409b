/* test_dvae_iw.c — training on the importance-weighted bound (io->iw = K): per-row terms, the
 * bound and its gradients (central finite differences) against a reference assembled from the
 * model's parts; the same with data-parallel blocks; bad shapes; reweighted wake-sleep. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dvae.h"
#include "graph.h"
#include "test_dvae_util.h"

/* ---- importance-weighted training (io->iw = K) -------------------------------------------------
 * Reference assembled from the model's parts, not from dvae_batch_run: for image e and sample k,
 * l = encoder(x_e), ζ = σ((l + g_ek)/τ), rec = log p(x_e | decoder(ζ)), kl = log q(ζ|x) − log p(ζ)
 * with log q(ζ|x) = Σ ζ l − softplus(l) and log p(ζ) = −E(ζ) (BM, without log Z) or
 * Σ ζ a − softplus(a) (Bernoulli); bound_e = log (1/K) Σ_k exp(rec − β·kl), in double. */
struct iw_ref { const struct bm *bm; int G, K; const float *x, *noise; double beta; };

/* The reference's per-row terms for latents z [G·K × n] (relaxed or binary) of the images x
 * [G × D] with encoder logits l [G × n]: rec = log p(x|z), lq = Σ z l − softplus(l), lp = log p(z)
 * (BM without log Z), all in double. */
static void ref_rows(struct dvae *m, const struct bm *bm, int G, int K, const float *x, const float *l,
                     const float *z, double *rec, double *lq, double *lp)
{
    const int n = m->cfg.n, D = m->cfg.D, B = G * K;
    const float *px = dvae_decode(m, B, z);
    dvae_prior_logp(m, bm, B, z, lp);
    for (int b = 0; b < B; b++) {
        const float *xr = x + (size_t)(b / K) * D, *pr = px + (size_t)b * D;
        double s = 0.0, q = 0.0;
        for (int d = 0; d < D; d++) s += xr[d] * pr[d] - log1p(exp(pr[d]));
        for (int i = 0; i < n; i++) {
            double li = l[(b / K) * n + i];
            q += z[b * n + i] * li - log1p(exp(li));
        }
        rec[b] = s;
        lq[b] = q;
    }
}

static void iw_parts(struct dvae *m, const struct iw_ref *r, double *rec, double *kl)
{
    const int n = m->cfg.n, B = r->G * r->K;
    float *l = malloc(sizeof(float) * (size_t)r->G * n), *zeta = malloc(sizeof(float) * (size_t)B * n);
    memcpy(l, dvae_encode(m, r->G, r->x, NULL), sizeof(float) * (size_t)r->G * n);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            double v = ((double)l[(b / r->K) * n + i] + r->noise[b * n + i]) / m->cfg.tau;
            zeta[b * n + i] = (float)(1.0 / (1.0 + exp(-v)));
        }
    double lq[24], lp[24];
    ref_rows(m, r->bm, r->G, r->K, r->x, l, zeta, rec, lq, lp);
    for (int b = 0; b < B; b++) kl[b] = lq[b] - lp[b];
    free(l); free(zeta);
}

/* β·log Z of a BM prior (exact), 0 without one: the loss term the prior's normaliser adds */
static double beta_logz(const struct bm *bm, double beta)
{
    double lz = 0.0;
    if (bm) assert_int_equal(bm_logz_exact(bm, 1.0, &lz), 0);
    return beta * lz;
}

/* The tests' batch: a tiny model of `shards` blocks, its BM prior (NULL for Bernoulli), G = 4
 * images x [4 × 16] and noise [20 × n] for K = 5 samples each. */
static struct dvae *iw_fixture(enum dvae_prior prior, int shards, struct bm **bm, float *x, float *noise)
{
    const int n = prior == DVAE_PRIOR_BM ? 8 : 10;
    struct dvae *m = tiny_model(prior, n, 0.6f);
    assert_int_equal(dvae_set_parallel(m, shards, shards), 0);
    *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    make_batch(4, 16, n, x, noise);
    struct rng rn;
    rng_init(&rn, 3, 3);
    dvae_noise(&rn, noise, (size_t)20 * n);
    return m;
}

static double iw_bound(const double *rec, const double *kl, int K, double beta)
{
    double mx = -INFINITY, s = 0.0;
    for (int k = 0; k < K; k++) mx = fmax(mx, rec[k] - beta * kl[k]);
    for (int k = 0; k < K; k++) s += exp(rec[k] - beta * kl[k] - mx);
    return mx + log(s / K);
}

/* −mean_e bound_e(β) + β log Z: the loss IW training minimises */
static double iw_loss(struct dvae *m, void *ctx)
{
    const struct iw_ref *r = ctx;
    double rec[24], kl[24], loss = 0.0;
    iw_parts(m, r, rec, kl);
    for (int e = 0; e < r->G; e++) loss -= iw_bound(rec + e * r->K, kl + e * r->K, r->K, r->beta) / r->G;
    return loss + beta_logz(r->bm, r->beta);
}

static void check_iw_train(enum dvae_prior prior, int shards)
{
    const int G = 4, K = 5, B = G * K, D = 16;
    const double beta = 0.7;
    struct bm *bm;
    float x[4 * 16], noise[20 * 10], xr[20 * 16];
    struct dvae *m = iw_fixture(prior, shards, &bm, x, noise);
    struct iw_ref r = {.bm = bm, .G = G, .K = K, .x = x, .noise = noise, .beta = beta};
    double rec[20], kl[20], ex[20], want = 0.0;
    iw_parts(m, &r, rec, kl);
    for (int e = 0; e < G; e++) want += iw_bound(rec + e * K, kl + e * K, K, 1.0) / G;

    /* values: the per-row terms and the bound (β = 1 in the reported objective) */
    struct dvae_batch v = {.B = B, .x = x, .noise = noise, .kl_weight = beta, .iw = K, .ex_elbo = ex};
    assert_int_equal(dvae_batch_run(m, bm, &v), 0);
    for (int b = 0; b < B; b++) assert_true(fabs(ex[b] - (rec[b] - kl[b])) < 1e-3);
    print_message("%s prior, K=%d: IW bound %.5f, reference %.5f; mean row ELBO %.5f\n",
                  bm ? "BM" : "Bernoulli", K, v.elbo, want, v.rec - v.kl);
    assert_true(fabs(v.elbo - want) < 1e-3);
    assert_true(v.elbo > v.rec - v.kl + 0.01);   /* the bound is tighter than the mean ELBO */
    /* a BM model with K = 1 on the images repeated K times gives the same rows (the proxy is
     * the same term); a Bernoulli model then uses its closed form instead of the sample's */
    for (int b = 0; b < B; b++) memcpy(xr + b * D, x + (b / K) * D, sizeof(float) * D);
    double ex1[20];
    struct dvae_batch v1 = {.B = B, .x = xr, .noise = noise, .kl_weight = 1.0, .ex_elbo = ex1};
    assert_int_equal(dvae_batch_run(m, bm, &v1), 0);
    assert_true(fabs(v1.rec - v.rec) < 1e-4);
    if (bm) for (int b = 0; b < B; b++) assert_true(fabs(ex1[b] - ex[b]) < 1e-4);

    /* gradients against central differences of the reference loss */
    double neg_mean[8], neg_corr[16], g_b[8], g_w[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = beta, .grad = true, .iw = K,
                            .neg_mean = neg_mean, .neg_corr = neg_corr, .g_b = g_b, .g_w = g_w};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    assert_true(io.grads_finite);
    float *g = malloc(sizeof(float) * m->nparams);
    memcpy(g, m->grads, sizeof(float) * m->nparams);
    double worst, rel = fd_compare(m, bm, g, g_b, g_w, iw_loss, &r, &worst);
    print_message("%s prior, K=%d, %d block(s): IW gradient relative error %.2e (worst scaled %.2f)\n",
                  bm ? "BM" : "Bernoulli", K, shards, rel, worst);
    assert_true(rel < 1e-2);
    assert_true(worst < 1.0);

    /* bad shapes: rows that are not whole images; the analytic KL has no per-sample term */
    struct dvae_batch bad = {.B = B - 1, .x = x, .noise = noise, .kl_weight = 1.0, .iw = K};
    assert_int_equal(dvae_batch_run(m, bm, &bad), -1);
    assert_non_null(strstr(qv_errmsg(), "importance samples"));
    if (bm) {
        m->cfg.kl = DVAE_KL_ANALYTIC;
        bad.B = B;
        assert_int_equal(dvae_batch_run(m, bm, &bad), -1);
        assert_non_null(strstr(qv_errmsg(), "analytic"));
    }
    free(g);
    bm_free(bm);
    dvae_free(m);
}

/* ---- reweighted wake-sleep (io->rws) -------------------------------------------------------------
 * With binary z = [l + g > 0] held fixed and the weights w̃ ∝ exp(rec − β·(log q − log p)) held
 * at the current parameters, the update is the gradient of
 *   −(1/G) Σ_e Σ_k w̃_ek [log p(x_e|z_ek) + β·log p(z_ek) + log q(z_ek|x_e)] + β·log Z:
 * the IW bound's gradient for the decoder and the prior, the inclusive-KL (wake) step for the
 * encoder.  The reference evaluates that surrogate from the model's parts. */
struct rws_ref { const struct bm *bm; int G, K; const float *x, *z; const double *w; double beta; };

static void rws_parts(struct dvae *m, const struct rws_ref *r, double *rec, double *lq, double *lp)
{
    const int n = m->cfg.n;
    float *l = malloc(sizeof(float) * (size_t)r->G * n);
    memcpy(l, dvae_encode(m, r->G, r->x, NULL), sizeof(float) * (size_t)r->G * n);
    ref_rows(m, r->bm, r->G, r->K, r->x, l, r->z, rec, lq, lp);
    free(l);
}

static double rws_loss(struct dvae *m, void *ctx)
{
    const struct rws_ref *r = ctx;
    double rec[24], lq[24], lp[24], loss = 0.0;
    rws_parts(m, r, rec, lq, lp);
    for (int b = 0; b < r->G * r->K; b++) loss -= r->w[b] * (rec[b] + r->beta * lp[b] + lq[b]) / r->G;
    return loss + beta_logz(r->bm, r->beta);
}

static void check_rws(enum dvae_prior prior, int shards)
{
    const int G = 4, K = 5, B = G * K, n = prior == DVAE_PRIOR_BM ? 8 : 10;
    const double beta = 0.7;
    struct bm *bm;
    float x[4 * 16], noise[20 * 10], z[20 * 10];
    struct dvae *m = iw_fixture(prior, shards, &bm, x, noise);
    /* the binary samples the pass draws, and their weights at the current parameters */
    const float *l = dvae_encode(m, G, x, NULL);
    int ones = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            z[b * n + i] = l[(b / K) * n + i] + noise[b * n + i] > 0.0f ? 1.0f : 0.0f;
            ones += z[b * n + i] != 0.0f;
        }
    assert_true(ones > B * n / 10 && ones < B * n * 9 / 10);   /* both states are drawn */
    double w[20], rec[20], lq[20], lp[20], bound = 0.0;
    struct rws_ref r = {.bm = bm, .G = G, .K = K, .x = x, .z = z, .w = w, .beta = beta};
    rws_parts(m, &r, rec, lq, lp);
    for (int e = 0; e < G; e++) {
        double mx = -INFINITY, sw = 0.0, mb = -INFINITY, sb = 0.0;
        for (int k = 0; k < K; k++) {
            const int b = e * K + k;
            mx = fmax(mx, rec[b] - beta * (lq[b] - lp[b]));
            mb = fmax(mb, rec[b] - (lq[b] - lp[b]));
        }
        for (int k = 0; k < K; k++) {
            const int b = e * K + k;
            sw += w[b] = exp(rec[b] - beta * (lq[b] - lp[b]) - mx);
            sb += exp(rec[b] - (lq[b] - lp[b]) - mb);
        }
        for (int k = 0; k < K; k++) w[e * K + k] /= sw;
        bound += (mb + log(sb / K)) / G;
    }
    double neg_mean[8], neg_corr[16], g_b[8], g_w[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct dvae_batch io = {.B = B, .x = x, .noise = noise, .kl_weight = beta, .grad = true, .iw = K,
                            .rws = true, .neg_mean = neg_mean, .neg_corr = neg_corr, .g_b = g_b, .g_w = g_w};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    assert_true(io.grads_finite);
    /* the reported objective: the discrete model's IW bound */
    print_message("%s prior, rws: bound %.5f, reference %.5f\n", bm ? "BM" : "Bernoulli", io.elbo, bound);
    assert_true(fabs(io.elbo - bound) < 1e-3);
    float *g = malloc(sizeof(float) * m->nparams);
    memcpy(g, m->grads, sizeof(float) * m->nparams);
    double worst, rel = fd_compare(m, bm, g, g_b, g_w, rws_loss, &r, &worst);
    print_message("%s prior, rws, %d block(s): gradient relative error %.2e (worst scaled %.2f)\n",
                  bm ? "BM" : "Bernoulli", shards, rel, worst);
    assert_true(rel < 1e-2);
    assert_true(worst < 1.0);
    /* one sample per image has nothing to reweigh */
    struct dvae_batch bad = io;
    bad.iw = 1;
    assert_int_equal(dvae_batch_run(m, bm, &bad), -1);
    assert_non_null(strstr(qv_errmsg(), "wake-sleep"));
    free(g);
    bm_free(bm);
    dvae_free(m);
}

static void test_rws_bernoulli(void **s) { (void)s; check_rws(DVAE_PRIOR_BERNOULLI, 1); }
static void test_rws_bm(void **s) { (void)s; check_rws(DVAE_PRIOR_BM, 1); }
static void test_rws_bm_blocks(void **s) { (void)s; check_rws(DVAE_PRIOR_BM, 2); }

static void test_iw_train_bernoulli(void **s) { (void)s; check_iw_train(DVAE_PRIOR_BERNOULLI, 1); }
static void test_iw_train_bm(void **s) { (void)s; check_iw_train(DVAE_PRIOR_BM, 1); }
static void test_iw_train_bm_blocks(void **s) { (void)s; check_iw_train(DVAE_PRIOR_BM, 3); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iw_train_bernoulli),
        cmocka_unit_test(test_iw_train_bm),
        cmocka_unit_test(test_iw_train_bm_blocks),
        cmocka_unit_test(test_rws_bernoulli),
        cmocka_unit_test(test_rws_bm),
        cmocka_unit_test(test_rws_bm_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
