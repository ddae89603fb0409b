/* test_dvae_groups.c — the hierarchical posterior (--groups) and the centred encoder input, against
 * a reference written here from the model's weights alone, in double:
 *  - per-row terms, the ELBO and the importance-weighted bound of dvae_batch_run equal the
 *    reference's (groups 1, 2 and 3 with a non-contiguous partition; Bernoulli closed form and
 *    per-sample, BM relaxed proxy; K = 1 and K = 3; 1 and 2 data-parallel blocks);
 *  - the analytic gradients (every network parameter, b and W) equal central finite differences
 *    of the reference loss (the gradient passing from a later group's encoder back to the earlier
 *    groups' ζ is what this checks beyond the one-group tests);
 *  - exact sampling: log q(z|x) of dvae_post_sample equals the reference's, q sums to 1 over all
 *    2^n states, and the sampled states' frequencies match q (total variation);
 *  - eval ll with K large converges to the exact log p(x) by enumeration within 0.01 nats;
 *  - batch norm (--bn): gradients against central differences of the training-mode loss (each
 *    data-parallel block normalised by its own rows), the same bits on 1 and 2 threads, running
 *    statistics that follow the batches, and the batch-1 error;
 *  - the overlapping relaxations (power, exp) with the relaxed priors (a Bernoulli prior's factorial
 *    mixture; a BM prior's mean-field Z(ζ), at enough sweeps for the envelope theorem): the IW
 *    bound's value and its gradients against a reference that draws ζ by inverting the mixture CDF
 *    at the sample's own CDF level (so its pathwise derivative is the implicit one);
 *  - convolutions (--conv, 4×4 images): gradients against central differences, with and without
 *    batch norm, K = 1 and 3, 1 and 2 blocks;
 *  - bad partitions and the analytic KL with groups are refused with clear errors. */
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

#define D_ 16
#define MAXN 12

/* A tiny model: D = 16, hidden 7,5, n latents in L groups (group_of may be NULL), centred on a
 * random mean image, with random biases so every path carries signal. */
static struct dvae *group_model_cfg(enum dvae_prior prior, int n, int L, const int *group_of, bool bn,
                                    const char *conv)
{
    struct dvae_config c;
    dvae_config_default(&c);
    c.D = D_;
    c.n = n;
    c.nhidden = 2;
    c.hidden[0] = 7;
    c.hidden[1] = 5;
    c.tau = 0.6f;
    c.prior = prior;
    c.bmax = 64;
    c.groups = L;
    c.group_of = group_of;
    c.center = true;
    c.bn = bn;
    c.h = c.w = 4;
    if (conv) assert_int_equal(dvae_parse_conv(conv, &c), 0);
    struct dvae *m = dvae_new(&c, 42);
    assert_non_null(m);
    struct rng r;
    rng_init(&r, 5, 5);
    float mean[D_];
    for (int i = 0; i < D_; i++) mean[i] = (float)(0.05 + 0.9 * rng_uniform(&r));
    dvae_set_data_mean(m, mean);
    for (int g = 0; g < m->ngroup; g++)
        for (int i = 0; i < m->enc[g].nl; i++)
            for (int j = 0; j < m->enc[g].L[i].out; j++) m->enc[g].L[i].b[j] = (float)(rng_uniform(&r) - 0.5);
    for (int j = 0; j < m->dec.L[0].out; j++) m->dec.L[0].b[j] = (float)(rng_uniform(&r) - 0.5);
    if (m->prior_a)
        for (int i = 0; i < n; i++) m->prior_a[i] = (float)(2 * rng_uniform(&r) - 1);
    return m;
}

static struct dvae *group_model_bn(enum dvae_prior prior, int n, int L, const int *group_of, bool bn)
{
    return group_model_cfg(prior, n, L, group_of, bn, NULL);
}

static struct dvae *group_model(enum dvae_prior prior, int n, int L, const int *group_of)
{
    return group_model_bn(prior, n, L, group_of, false);
}

static double sp(double v) { return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)); }

/* y = act(x·w + b) for one row, in double. */
static void ref_dense(const struct nn_dense *L, const double *x, double *y)
{
    for (int o = 0; o < L->out; o++) {
        double a = L->b[o];
        for (int i = 0; i < L->in; i++) a += x[i] * L->w[(size_t)i * L->out + o];
        y[o] = L->act == NN_ACT_TANH ? tanh(a) : a;
    }
}

static void ref_net(const struct dvae_net *N, const double *in, double *out)
{
    double a[64], b[64];
    const double *x = in;
    for (int i = 0; i < N->nl; i++) {
        double *y = i == N->nl - 1 ? out : (i % 2 ? b : a);
        ref_dense(&N->L[i], x, y);
        x = y;
    }
}

/* The posterior for one row, group by group: logits l [n] and the sample ζ [n] (relaxed at τ from
 * logistic noise, or hard = [l + noise > 0]). */
static void ref_post(const struct dvae *m, const float *x, const double *noise, bool hard, double *l,
                     double *zeta)
{
    const int D = m->cfg.D;
    double in[D_ + MAXN], lg[MAXN];
    for (int g = 0; g < m->ngroup; g++) {
        for (int i = 0; i < D; i++) in[i] = x[i] - (double)m->xmean[i];
        for (int j = 0; j < m->gstart[g]; j++) in[D + j] = zeta[m->gunits[j]];
        ref_net(&m->enc[g], in, lg);
        for (int j = m->gstart[g]; j < m->gstart[g + 1]; j++) {
            const int u = m->gunits[j];
            l[u] = lg[j - m->gstart[g]];
            zeta[u] = hard ? (l[u] + noise[u] > 0) : 1.0 / (1.0 + exp(-(l[u] + noise[u]) / m->cfg.tau));
        }
    }
}

/* log p(x|ζ) (Bernoulli pixels from the decoder). */
static double ref_rec(const struct dvae *m, const float *x, const double *zeta)
{
    double px[D_], s = 0.0;
    ref_net(&m->dec, zeta, px);
    for (int d = 0; d < m->cfg.D; d++) s += x[d] * px[d] - sp(px[d]);
    return s;
}

/* −log p(ζ) without log Z: E(ζ) for a BM, −Σ ζ a − softplus(a) for a Bernoulli prior. */
static double ref_neglogp(const struct dvae *m, const struct bm *bm, const double *z)
{
    double e = 0.0;
    if (bm) {
        for (int i = 0; i < bm->n; i++) e -= bm->b[i] * z[i];
        const int (*ed)[2] = (const int (*)[2])bm->g->edges;
        for (long k = 0; k < bm->ne; k++) e -= bm->w[k] * z[ed[k][0]] * z[ed[k][1]];
        return e;
    }
    for (int i = 0; i < m->cfg.n; i++) e -= z[i] * m->prior_a[i] - sp(m->prior_a[i]);
    return e;
}

struct ref { const struct bm *bm; int G, K; const float *x, *noise; double beta; };

/* rec and kl of row b (image b/K): kl = log q(ζ|x) + (−log p(ζ)), or for a Bernoulli prior with
 * K = 1 the closed-form KL of each unit's Bernoulli at its own logit. */
static void ref_row(const struct dvae *m, const struct ref *r, int b, double *rec, double *kl)
{
    const int n = m->cfg.n;
    double noise[MAXN], l[MAXN], z[MAXN];
    for (int i = 0; i < n; i++) noise[i] = r->noise[(size_t)b * n + i];
    const float *x = r->x + (size_t)(b / r->K) * m->cfg.D;
    ref_post(m, x, noise, false, l, z);
    *rec = ref_rec(m, x, z);
    double k = 0.0;
    if (!r->bm && r->K == 1) {
        for (int i = 0; i < n; i++) {
            const double q = 1.0 / (1.0 + exp(-l[i])), a = m->prior_a[i];
            k += q * (l[i] - a) - sp(l[i]) + sp(a);
        }
    } else {
        for (int i = 0; i < n; i++) k += z[i] * l[i] - sp(l[i]);
        k += ref_neglogp(m, r->bm, z);
    }
    *kl = k;
}

/* −mean over images of log (1/K) Σ_k exp(rec − β·kl) (+ β log Z): the loss training minimises. */
static double ref_loss(struct dvae *m, void *ctx)
{
    const struct ref *r = ctx;
    double loss = 0.0;
    for (int e = 0; e < r->G; e++) {
        double t[8], mx = -INFINITY, s = 0.0;
        for (int k = 0; k < r->K; k++) {
            double rec, kl;
            ref_row(m, r, e * r->K + k, &rec, &kl);
            t[k] = rec - r->beta * kl;
            mx = fmax(mx, t[k]);
        }
        for (int k = 0; k < r->K; k++) s += exp(t[k] - mx);
        loss -= (mx + log(s / r->K)) / r->G;
    }
    if (r->bm) {
        double lz;
        assert_int_equal(bm_logz_exact(r->bm, 1.0, &lz), 0);
        loss += r->beta * lz;
    }
    return loss;
}

/* One training pass (the BM's negative phase exact): a copy of the network gradients (caller
 * frees) and the BM's g_b [8], g_w [16]. */
static float *grad_pass(struct dvae *m, const struct bm *bm, int B, int K, const float *x,
                        const float *noise, double beta, double *g_b, double *g_w)
{
    double neg_mean[8], neg_corr[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct dvae_batch io = {.B = B, .iw = K, .x = x, .noise = noise, .kl_weight = beta, .grad = true,
                            .neg_mean = neg_mean, .neg_corr = neg_corr, .g_b = g_b, .g_w = g_w};
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    assert_true(io.grads_finite);
    float *g = malloc(sizeof(float) * m->nparams);
    memcpy(g, m->grads, sizeof(float) * m->nparams);
    return g;
}

/* Values and gradients of one configuration against the reference. */
static void check_groups(enum dvae_prior prior, int L, const int *group_of, int K, int shards)
{
    const int n = prior == DVAE_PRIOR_BM ? 8 : 9, G = 4, B = G * K;
    const double beta = 0.7;
    struct dvae *m = group_model(prior, n, L, group_of);
    assert_int_equal(dvae_set_parallel(m, shards, shards), 0);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    float x[4 * D_], noise[12 * MAXN];
    struct rng r;
    rng_init(&r, 11, 0);
    for (int i = 0; i < G * D_; i++) x[i] = rng_uniform(&r) < 0.35 ? 1.0f : 0.0f;
    dvae_noise(&r, noise, (size_t)B * n);
    struct ref ref = {.bm = bm, .G = G, .K = K, .x = x, .noise = noise, .beta = beta};

    double ex[12];
    struct dvae_batch v = {.B = B, .iw = K, .x = x, .noise = noise, .kl_weight = 1.0, .ex_elbo = ex};
    assert_int_equal(dvae_batch_run(m, bm, &v), 0);
    for (int b = 0; b < B; b++) {
        double rec, kl;
        ref_row(m, &ref, b, &rec, &kl);
        assert_true(fabs(ex[b] - (rec - kl)) < 1e-3);
    }
    struct ref r1 = ref;
    r1.beta = 1.0;
    double want = -ref_loss(m, &r1);
    if (bm) {
        double lz;
        assert_int_equal(bm_logz_exact(bm, 1.0, &lz), 0);
        want += lz;   /* the pass reports the bound without −log Z */
    }
    print_message("%s prior, %d group(s), K=%d: bound %.5f, reference %.5f\n", bm ? "BM" : "Bernoulli",
                  m->ngroup, K, v.elbo, want);
    assert_true(fabs(v.elbo - want) < 1e-3);

    double g_b[8], g_w[16];
    float *g = grad_pass(m, bm, B, K, x, noise, beta, g_b, g_w);
    double worst, rel = fd_compare(m, bm, g, g_b, g_w, ref_loss, &ref, &worst);
    print_message("  %d block(s): gradient relative error %.2e (worst scaled %.2f)\n", shards, rel, worst);
    assert_true(rel < 1e-2);
    assert_true(worst < 1.0);
    free(g);
    bm_free(bm);
    dvae_free(m);
}

/* units 0,3,6 | 1,4,7 | 2,5,8 (…): every group non-contiguous */
static const int part3[MAXN] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};

static void test_one_group_bernoulli(void **s) { (void)s; check_groups(DVAE_PRIOR_BERNOULLI, 1, NULL, 1, 1); }
static void test_groups_bernoulli(void **s) { (void)s; check_groups(DVAE_PRIOR_BERNOULLI, 3, part3, 1, 2); }
static void test_groups_bernoulli_iw(void **s) { (void)s; check_groups(DVAE_PRIOR_BERNOULLI, 3, part3, 3, 1); }
static void test_groups_bm(void **s) { (void)s; check_groups(DVAE_PRIOR_BM, 2, NULL, 1, 1); }
static void test_groups_bm_blocks(void **s) { (void)s; check_groups(DVAE_PRIOR_BM, 3, part3, 1, 2); }
static void test_groups_bm_iw(void **s) { (void)s; check_groups(DVAE_PRIOR_BM, 3, part3, 3, 2); }

/* Exact sampling: log q of every state from the reference sums to 1; dvae_post_sample's log q of
 * its draws equals the reference's; the draws' frequencies match q. */
static void test_post_sample_exact(void **state)
{
    (void)state;
    const int n = 6, S = 1 << n, K = 60, rounds = 1000;
    struct dvae *m = group_model(DVAE_PRIOR_BERNOULLI, n, 3, part3);
    float x[D_];
    struct rng r;
    rng_init(&r, 2, 2);
    for (int i = 0; i < D_; i++) x[i] = rng_uniform(&r) < 0.4 ? 1.0f : 0.0f;
    /* q(z|x) = Π_g Π_{i∈g} Bernoulli(σ(l_i(x, z_<g))) for every z, from the reference */
    double q[64], tot = 0.0;
    for (int s = 0; s < S; s++) {
        double z[MAXN], l[MAXN], noise[MAXN], lq = 0.0;
        /* hard with noise ±∞-like: z is the state itself, the logits those it implies */
        for (int i = 0; i < n; i++) noise[i] = ((s >> i) & 1) ? 1e30 : -1e30;
        ref_post(m, x, noise, true, l, z);
        for (int i = 0; i < n; i++) {
            assert_true(z[i] == ((s >> i) & 1));
            lq += z[i] * l[i] - sp(l[i]);
        }
        q[s] = exp(lq);
        tot += q[s];
    }
    assert_true(fabs(tot - 1.0) < 1e-9);
    float z[60 * MAXN];
    double lq[60], hist[64] = {0};
    for (int t = 0; t < rounds; t++) {
        dvae_post_sample(m, x, K, &r, z, lq);
        for (int k = 0; k < K; k++) {
            int s = 0;
            for (int i = 0; i < n; i++) s |= (z[k * n + i] != 0.0f) << i;
            assert_true(fabs(lq[k] - log(q[s])) < 1e-4);
            hist[s] += 1.0 / ((double)K * rounds);
        }
    }
    double tv = 0.0;
    for (int s = 0; s < S; s++) tv += 0.5 * fabs(hist[s] - q[s]);
    print_message("hierarchical posterior, 3 groups: TV(samples, q) = %.4f over %d draws\n", tv, K * rounds);
    /* 60,000 draws over 64 states: the expected TV of an exact sampler is about 0.01 */
    assert_true(tv < 0.03);
    dvae_free(m);
}

/* eval ll with the hierarchical posterior converges to exact log p(x) by enumeration. */
static void test_eval_exact_groups(void **state)
{
    (void)state;
    const int n = 12, N = 3;
    struct dvae *m = group_model(DVAE_PRIOR_BM, n, 2, NULL);
    struct bm *bm = tiny_bm(1, 2, 3, 4, 0.7);
    assert_int_equal(bm->n, n);
    double logz, exact[3], iw[3];
    assert_int_equal(bm_logz_exact(bm, 1.0, &logz), 0);
    float x[3 * D_];
    struct rng r;
    rng_init(&r, 8, 1);
    for (int i = 0; i < N * D_; i++) x[i] = rng_uniform(&r) < 0.35 ? 1.0f : 0.0f;
    assert_int_equal(eval_exact_ll(m, bm, logz, x, N, exact), 0);
    struct eval_ctx ctx = {.seed = 77, .threads = 2};
    assert_int_equal(eval_iw_ll(m, bm, logz, x, N, 200000, &ctx, iw), 0);
    double gap = 0;
    for (int i = 0; i < N; i++) gap += fabs(exact[i] - iw[i]) / N;
    print_message("2 groups, BM prior: K=200000 mean |IW − exact| = %.4f (exact %.3f)\n", gap, exact[0]);
    assert_true(gap < 0.01);
    bm_free(bm);
    dvae_free(m);
}

/* The training-mode loss of a batch-normalised model, from the pass itself: −bound (β = 1) + log Z. */
struct bn_ref { const struct bm *bm; struct dvae_batch io; };
static double bn_loss(struct dvae *m, void *ctx)
{
    struct bn_ref *r = ctx;
    struct dvae_batch io = r->io;   /* grad on: training mode; m->grads is scratch here */
    assert_int_equal(dvae_batch_run(m, r->bm, &io), 0);
    double l = -io.elbo;
    if (r->bm) {
        double lz;
        assert_int_equal(bm_logz_exact(r->bm, 1.0, &lz), 0);
        l += lz;
    }
    return l;
}

static void check_bn_conv(enum dvae_prior prior, int L, int K, int shards, bool bn, const char *conv)
{
    const int n = prior == DVAE_PRIOR_BM ? 8 : 9, G = 6, B = G * K;
    struct dvae *m = group_model_cfg(prior, n, L, L == 3 ? part3 : NULL, bn, conv);
    assert_int_equal(dvae_set_parallel(m, shards, 1), 0);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    float x[6 * D_], noise[18 * MAXN];
    struct rng r;
    rng_init(&r, 12, 0);
    for (int i = 0; i < G * D_; i++) x[i] = rng_uniform(&r) < 0.35 ? 1.0f : 0.0f;
    dvae_noise(&r, noise, (size_t)B * n);
    double neg_mean[8], neg_corr[16], g_b[8], g_w[16];
    if (bm) assert_int_equal(bm_marginals_exact(bm, 1.0, neg_mean, neg_corr), 0);
    struct bn_ref ref = {.bm = bm, .io = {.B = B, .iw = K, .x = x, .noise = noise, .kl_weight = 1.0,
                                          .grad = true, .neg_mean = neg_mean, .neg_corr = neg_corr,
                                          .g_b = g_b, .g_w = g_w}};
    struct dvae_batch io = ref.io;
    assert_int_equal(dvae_batch_run(m, bm, &io), 0);
    float *g = malloc(sizeof(float) * m->nparams);
    memcpy(g, m->grads, sizeof(float) * m->nparams);
    double gb[8], gw[16];
    memcpy(gb, g_b, sizeof gb);
    memcpy(gw, g_w, sizeof gw);
    /* the same pass on 2 threads: the same bits (gradients and running statistics) */
    float *run1 = malloc(sizeof(float) * (m->nbn + 1));
    if (m->nbn) memcpy(run1, m->bnrun, sizeof(float) * m->nbn);
    struct dvae *m2 = group_model_cfg(prior, n, L, L == 3 ? part3 : NULL, bn, conv);
    assert_int_equal(dvae_set_parallel(m2, shards, 2), 0);
    struct dvae_batch io2 = ref.io;
    assert_int_equal(dvae_batch_run(m2, bm, &io2), 0);
    assert_memory_equal(g, m2->grads, sizeof(float) * m->nparams);
    if (m->nbn) assert_memory_equal(run1, m2->bnrun, sizeof(float) * m->nbn);
    /* the running statistics moved off their start (a fresh model's: means 0, variances 1) */
    struct dvae *m0 = group_model_cfg(prior, n, L, L == 3 ? part3 : NULL, bn, conv);
    if (bn) assert_true(memcmp(run1, m0->bnrun, sizeof(float) * m->nbn) != 0);
    dvae_free(m0);
    double worst, rel = fd_compare(m, bm, g, gb, gw, bn_loss, &ref, &worst);
    print_message("%s%s, %s prior, %d group(s), K=%d, %d block(s): gradient relative error "
                  "%.2e (worst scaled %.2f)\n", bn ? "batch norm" : "", conv ? " conv" : "",
                  bm ? "BM" : "Bernoulli", m->ngroup, K, shards, rel, worst);
    assert_true(rel < 1e-2);
    assert_true(worst < 1.0);
    /* forward-only passes use the running statistics: another function of the same batch */
    struct dvae_batch ev = {.B = B, .iw = K, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, bm, &ev), 0);
    if (bn) assert_true(fabs(ev.elbo - io.elbo) > 1e-4);
    else assert_true(fabs(ev.elbo - io.elbo) < 1e-9);
    free(run1);
    free(g);
    dvae_free(m2);
    bm_free(bm);
    dvae_free(m);
}

static void check_bn(enum dvae_prior prior, int L, int K, int shards)
{
    check_bn_conv(prior, L, K, shards, true, NULL);
}

static void test_bn_bernoulli(void **s) { (void)s; check_bn(DVAE_PRIOR_BERNOULLI, 1, 1, 1); }
static void test_bn_bm_groups_blocks(void **s) { (void)s; check_bn(DVAE_PRIOR_BM, 3, 1, 2); }
static void test_bn_bm_iw(void **s) { (void)s; check_bn(DVAE_PRIOR_BM, 2, 3, 2); }
/* 1×4×4 → 3×2×2 (k 2, stride 2) → 2×2×2 (k 3, stride 1, pad 1) → dense; the decoder mirrors */
static void test_conv_bernoulli(void **s) { (void)s; check_bn_conv(DVAE_PRIOR_BERNOULLI, 1, 1, 1, false, "3:2:2:0,2:3:1:1"); }
static void test_conv_bn_bm_iw(void **s) { (void)s; check_bn_conv(DVAE_PRIOR_BM, 1, 3, 2, true, "3:2:2:0,2:3:1:1"); }

static void test_conv_bad(void **state)
{
    (void)state;
    struct dvae_config c;
    dvae_config_default(&c);
    c.D = D_;
    c.n = 4;
    c.h = c.w = 4;
    assert_int_equal(dvae_parse_conv("3:5:1:0", &c), 0);   /* a 5×5 kernel on a 4×4 image */
    assert_null(dvae_new(&c, 1));
    assert_non_null(strstr(qv_errmsg(), "model: --conv layer 1"));
    assert_int_equal(dvae_parse_conv("3:2:2", &c), -1);
    assert_non_null(strstr(qv_errmsg(), "CHANNELS:KERNEL:STRIDE:PAD"));
    assert_int_equal(dvae_parse_conv("3:2:2:0", &c), 0);
    c.groups = 2;
    assert_null(dvae_new(&c, 1));
    assert_non_null(strstr(qv_errmsg(), "--conv works with one latent group"));
}

static void test_bn_batch1(void **state)
{
    (void)state;
    struct dvae *m = group_model_bn(DVAE_PRIOR_BERNOULLI, 9, 1, NULL, true);
    float x[2 * D_] = {0}, noise[2 * MAXN] = {0};
    struct dvae_batch io = {.B = 1, .x = x, .noise = noise, .kl_weight = 1.0, .grad = true};
    assert_int_equal(dvae_batch_run(m, NULL, &io), -1);
    assert_non_null(strstr(qv_errmsg(), "batch norm: needs a batch of at least 2 in training mode"));
    /* two images in two blocks: one each, refused too; evaluation of one image is fine */
    assert_int_equal(dvae_set_parallel(m, 2, 1), 0);
    io.B = 2;
    assert_int_equal(dvae_batch_run(m, NULL, &io), -1);
    struct dvae_batch ev = {.B = 1, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, NULL, &ev), 0);
    dvae_free(m);
}

/* ---- mixture relaxations ------------------------------------------------------------------- */
struct mix_ref { const struct bm *bm; int G, K; const float *x; double beta; const double *lev; };

/* ζ with F(ζ; σ(l)) = level, by bisection in double (F increases in ζ). */
static double inv_cdf(const struct relax *rx, double l, double level)
{
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (relax_cdf1(rx, l, mid) < level) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

static double mix_loss(struct dvae *m, void *ctx)
{
    const struct mix_ref *r = ctx;
    const int n = m->cfg.n, D = m->cfg.D;
    double loss = 0.0, *scr = malloc(sizeof(double) * (r->bm ? bm_mf_scratch_size(r->bm) : 1));
    for (int e = 0; e < r->G; e++) {
        double t[8], mx = -INFINITY, s = 0.0;
        for (int k = 0; k < r->K; k++) {
            const int b = e * r->K + k;
            const float *x = r->x + (size_t)e * D;
            double in[D_ + MAXN], lg[MAXN], l[MAXN], z[MAXN];
            float zf[MAXN];
            for (int g = 0; g < m->ngroup; g++) {
                for (int i = 0; i < D; i++) in[i] = x[i] - (double)m->xmean[i];
                for (int j = 0; j < m->gstart[g]; j++) in[D + j] = z[m->gunits[j]];
                ref_net(&m->enc[g], in, lg);
                for (int j = m->gstart[g]; j < m->gstart[g + 1]; j++) {
                    const int u = m->gunits[j];
                    l[u] = lg[j - m->gstart[g]];
                    z[u] = inv_cdf(&m->rx, l[u], r->lev[(size_t)b * n + u]);
                }
            }
            double kl = 0.0, lp = 0.0;
            for (int i = 0; i < n; i++) {
                kl += relax_logq1(&m->rx, l[i], z[i], NULL, NULL);
                zf[i] = (float)z[i];
                if (!r->bm) lp += relax_logq1(&m->rx, m->prior_a[i], z[i], NULL, NULL);
            }
            if (r->bm) assert_int_equal(bm_mf_logp(r->bm, &m->rx, m->cfg.mf_sweeps, 1, zf, &lp, NULL, NULL, scr), 0);
            t[k] = ref_rec(m, x, z) - r->beta * (kl - lp);
            mx = fmax(mx, t[k]);
        }
        for (int k = 0; k < r->K; k++) s += exp(t[k] - mx);
        loss -= (mx + log(s / r->K)) / r->G;
    }
    free(scr);
    if (r->bm) {
        double lz;
        assert_int_equal(bm_logz_exact(r->bm, 1.0, &lz), 0);
        loss += r->beta * lz;
    }
    return loss;
}

static void check_mix(enum dvae_prior prior, enum dvae_relax kind, int L, int K, int shards)
{
    const int n = prior == DVAE_PRIOR_BM ? 8 : 9, G = 4, B = G * K;
    const double beta = 0.7;
    struct dvae_config c;
    dvae_config_default(&c);
    c.D = D_; c.n = n; c.nhidden = 2; c.hidden[0] = 7; c.hidden[1] = 5; c.prior = prior;
    c.bmax = 64; c.groups = L; c.group_of = L == 3 ? part3 : NULL; c.center = true;
    c.relax = kind;
    /* moderate sharpness: ζ stays well inside (0, 1) in float, where FD steps resolve ζ(l) */
    c.relax_beta = kind == DVAE_RELAX_POWER ? 3.0f : 6.0f;
    c.mf_sweeps = 400;                                       /* converged: the envelope theorem */
    struct dvae *m = dvae_new(&c, 42);
    assert_non_null(m);
    assert_int_equal(dvae_set_parallel(m, shards, shards), 0);
    struct rng r;
    rng_init(&r, 21, 0);
    if (m->prior_a)
        for (int i = 0; i < n; i++) m->prior_a[i] = (float)(2 * rng_uniform(&r) - 1);
    struct bm *bm = prior == DVAE_PRIOR_BM ? tiny_bm(1, 1, 4, 9, 0.8) : NULL;
    float x[4 * D_], noise[2 * 12 * MAXN];
    for (int i = 0; i < G * D_; i++) x[i] = rng_uniform(&r) < 0.35 ? 1.0f : 0.0f;
    assert_int_equal(dvae_noise_planes(m), 2);
    dvae_noise_rows(m, &r, noise, (size_t)B);
    /* ρ inside [0.2, 0.8]: ζ₀ = ρ^β then stays ≥ 0.008 from either end, where the reference's
     * float ζ (bm_mf_logp takes floats) still resolves the finite-difference steps (with ρ over all
     * of (0, 1), power's ζ within ~1e-7 of 1 rounds to 1.0f and the reference loses its slope) */
    for (int i = 0; i < B * n; i++) noise[B * n + i] = 0.2f + 0.6f * noise[B * n + i];
    double g_b[8], g_w[16];
    float *g = grad_pass(m, bm, B, K, x, noise, beta, g_b, g_w);
    /* the sample's CDF levels: the reference keeps them while the parameters move */
    double lev[12 * MAXN];
    for (int i = 0; i < B * n; i++) lev[i] = relax_cdf1(&m->rx, m->lx[i], m->zeta[i]);
    struct mix_ref ref = {.bm = bm, .G = G, .K = K, .x = x, .beta = beta, .lev = lev};
    struct mix_ref r1 = ref;
    r1.beta = 1.0;
    struct dvae_batch v = {.B = B, .iw = K, .x = x, .noise = noise, .kl_weight = 1.0};
    assert_int_equal(dvae_batch_run(m, bm, &v), 0);
    double want = -mix_loss(m, &r1);
    if (bm) {
        double lz;
        assert_int_equal(bm_logz_exact(bm, 1.0, &lz), 0);
        want += lz;
    }
    print_message("%s, %s prior, %d group(s), K=%d: bound %.5f, reference %.5f\n", dvae_relax_name(kind),
                  bm ? "BM" : "Bernoulli", m->ngroup, K, v.elbo, want);
    assert_true(fabs(v.elbo - want) < 2e-3);
    double worst, rel = fd_compare(m, bm, g, g_b, g_w, mix_loss, &ref, &worst);
    print_message("  %d block(s): gradient relative error %.2e (worst scaled %.2f)\n", shards, rel, worst);
    assert_true(rel < 2e-2);
    assert_true(worst < 1.0);
    free(g);
    bm_free(bm);
    dvae_free(m);
}

static void test_mix_power_bernoulli_iw(void **s) { (void)s; check_mix(DVAE_PRIOR_BERNOULLI, DVAE_RELAX_POWER, 3, 3, 1); }
static void test_mix_power_bm(void **s) { (void)s; check_mix(DVAE_PRIOR_BM, DVAE_RELAX_POWER, 1, 1, 1); }
static void test_mix_exp_bm_groups_iw(void **s) { (void)s; check_mix(DVAE_PRIOR_BM, DVAE_RELAX_EXP, 2, 3, 2); }

static void test_bad_partitions(void **state)
{
    (void)state;
    struct dvae_config c;
    dvae_config_default(&c);
    c.D = D_;
    c.n = 4;
    c.nhidden = 1;
    c.hidden[0] = 5;
    c.groups = 2;
    const int empty[4] = {0, 0, 0, 0}, out[4] = {0, 1, 2, 1};
    c.group_of = empty;
    assert_null(dvae_new(&c, 1));
    assert_non_null(strstr(qv_errmsg(), "group 1 of 2 has no units"));
    c.group_of = out;
    assert_null(dvae_new(&c, 1));
    assert_non_null(strstr(qv_errmsg(), "unit 2 is in group 2"));
    c.group_of = NULL;
    c.groups = 5;
    assert_null(dvae_new(&c, 1));
    assert_non_null(strstr(qv_errmsg(), "--groups must be"));
    c.groups = 2;
    c.prior = DVAE_PRIOR_BM;
    c.kl = DVAE_KL_ANALYTIC;
    assert_null(dvae_new(&c, 1));
    assert_non_null(strstr(qv_errmsg(), "analytic KL needs a factorial posterior"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_group_bernoulli),
        cmocka_unit_test(test_groups_bernoulli),
        cmocka_unit_test(test_groups_bernoulli_iw),
        cmocka_unit_test(test_groups_bm),
        cmocka_unit_test(test_groups_bm_blocks),
        cmocka_unit_test(test_groups_bm_iw),
        cmocka_unit_test(test_post_sample_exact),
        cmocka_unit_test(test_eval_exact_groups),
        cmocka_unit_test(test_bn_bernoulli),
        cmocka_unit_test(test_bn_bm_groups_blocks),
        cmocka_unit_test(test_bn_bm_iw),
        cmocka_unit_test(test_bn_batch1),
        cmocka_unit_test(test_conv_bernoulli),
        cmocka_unit_test(test_conv_bn_bm_iw),
        cmocka_unit_test(test_conv_bad),
        cmocka_unit_test(test_mix_power_bernoulli_iw),
        cmocka_unit_test(test_mix_power_bm),
        cmocka_unit_test(test_mix_exp_bm_groups_iw),
        cmocka_unit_test(test_bad_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
