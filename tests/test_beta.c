/* test_beta.c — β_eff by maximum pseudo-likelihood (samplers-and-metrics.md §5.2).
 *
 * Truth: samples of known β.  Exact draws (bm_sample_exact) at β = 0.7 on a 12-unit cut of
 * Chimera and Gibbs-sampler draws (the `gibbs` sampler, long chains) at β = 1.5 on C(2,2,4)
 * (32 units): the MPL estimate recovers β within 5 %, and the bootstrap error is positive and
 * small.  The estimating equation is checked directly (its value at the estimate is ~0 and it
 * changes sign around it).  Degenerate inputs: samples that are all local minima → β = ∞;
 * all local maxima → β = 0; no samples → error.  The Ising form (beta_estimate_ising on h, J)
 * agrees with the binary form on the same states. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beta.h"
#include "rng.h"
#include "sampler.h"

#ifndef QVAE_SANITIZE
#define QVAE_SANITIZE 0
#endif

static struct bm *random_bm(struct graph *g, uint64_t seed, double scale)
{
    struct bm *bm = bm_new(g);
    struct rng r;
    rng_init(&r, seed, 1);
    for (int i = 0; i < bm->n; i++) bm->b[i] = scale * (2 * rng_uniform(&r) - 1);
    for (long e = 0; e < bm->ne; e++) bm->w[e] = scale * (2 * rng_uniform(&r) - 1);
    return bm;
}

static void test_exact_samples(void **state)
{
    struct graph *c = graph_chimera(2, 2, 4);
    struct graph *g = graph_random_connected_subgraph(c, 12, 3);
    graph_free(c);
    assert_non_null(g);
    struct bm *bm = random_bm(g, 4, 2.0);
    const double beta = 0.7;
    long n = QVAE_SANITIZE ? 10000 : 20000;
    uint8_t *z = malloc((size_t)n * bm->n);
    struct rng r;
    rng_init(&r, 9, 0);
    assert_int_equal(bm_sample_exact(bm, beta, n, &r, z), 0);
    struct beta_result br;
    assert_int_equal(beta_estimate(bm, z, n, 100, 1, &br), 0);
    print_message("exact draws at β = %.2f: MPL %.4f ± %.4f (%d replicates)\n", beta, br.beta, br.err, br.nboot);
    assert_true(fabs(br.beta - beta) < 0.05 * beta);
    assert_true(br.err > 0 && br.err < 0.05 * beta);
    assert_int_equal(br.nboot, 100);
    /* the same estimate without bootstrap, and deterministic for a seed */
    double b2;
    assert_int_equal(beta_mpl(bm, z, n, NULL, &b2), 0);
    assert_true(fabs(b2 - br.beta) < 1e-9);
    struct beta_result br2;
    assert_int_equal(beta_estimate(bm, z, n, 100, 1, &br2), 0);
    assert_true(br2.err == br.err);
    /* weights: doubling every weight changes nothing; zero weight on half = that half alone */
    double *w = malloc(sizeof(double) * n);
    for (long i = 0; i < n; i++) w[i] = 2.0;
    assert_int_equal(beta_mpl(bm, z, n, w, &b2), 0);
    assert_true(fabs(b2 - br.beta) < 1e-9);
    for (long i = 0; i < n; i++) w[i] = i < n / 2;
    double bh, bw;
    assert_int_equal(beta_mpl(bm, z, n / 2, NULL, &bh), 0);
    assert_int_equal(beta_mpl(bm, z, n, w, &bw), 0);
    assert_true(fabs(bh - bw) < 1e-9);
    /* Ising form on the same states */
    double *h = malloc(sizeof(double) * bm->n), *J = malloc(sizeof(double) * bm->ne);
    bm_to_ising(bm, h, J, NULL);
    struct beta_result bi;
    assert_int_equal(beta_estimate_ising(bm->g, h, J, z, n, 0, 1, &bi), 0);
    assert_true(fabs(bi.beta - br.beta) < 1e-6 * br.beta);
    free(h);
    free(J);
    free(w);
    free(z);
    bm_free(bm);
}

static void test_gibbs_samples(void **state)
{
    struct bm *bm = random_bm(graph_chimera(2, 2, 4), 6, 1.0);
    const double beta = 1.5;
    struct sampler *s = sampler_new("gibbs", 5);
    if (!s) { print_message("gibbs sampler not registered: skipped\n"); bm_free(bm); skip(); }
    assert_int_equal(sampler_set(s, "chains", "200"), 0);
    assert_int_equal(sampler_set(s, "sweeps", "20"), 0);
    assert_int_equal(sampler_set(s, "thin", "5"), 0);
    assert_int_equal(sampler_set(s, "burnin", "500"), 0);
    struct samples o;
    samples_init(&o);
    struct sample_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    long n = QVAE_SANITIZE ? 4000 : 10000;
    if (sampler_sample(s, bm, beta, n, &ctx, &o)) fail_msg("%s", qv_errmsg());
    struct beta_result br;
    assert_int_equal(beta_estimate(bm, o.z, o.count, 50, 2, &br), 0);
    print_message("gibbs draws at β = %.2f: MPL %.4f ± %.4f\n", beta, br.beta, br.err);
    assert_true(fabs(br.beta - beta) < 0.05 * beta);
    samples_free(&o);
    sampler_free(s);
    bm_free(bm);
}

static void test_degenerate(void **state)
{
    /* 2 units, W = 2 (ferromagnetic), b = −1: z = 00 and 11 are the local minima
     * (E(11) = −b0 − b1 − W = 0, E(00) = 0), 01/10 have E = 1 and are local maxima. */
    long labels[2] = {0, 1}, ed[1][2] = {{0, 1}};
    struct graph *g = graph_from_edges(2, labels, 1, (const long (*)[2])ed);
    struct bm *bm = bm_new(g);
    bm->b[0] = bm->b[1] = -1;
    bm->w[0] = 2;
    uint8_t mins[8] = {0, 0, 1, 1, 0, 0, 1, 1}, maxs[4] = {0, 1, 1, 0};
    struct beta_result br;
    assert_int_equal(beta_estimate(bm, mins, 4, 10, 1, &br), 0);
    assert_true(isinf(br.beta) && br.beta > 0);
    assert_int_equal(beta_estimate(bm, maxs, 2, 10, 1, &br), 0);
    assert_true(br.beta == 0);
    assert_int_equal(beta_estimate(bm, mins, 0, 10, 1, &br), -1);
    assert_non_null(strstr(qv_errmsg(), "no samples"));
    /* samples 00, 01, 11, 00 have flip costs {1,1}, {−1,−1}, {1,1}, {1,1}: the estimating
     * equation 6/(1+e^β) − 2/(1+e^−β) = 0 has the root e^β = 3 */
    uint8_t mix[8] = {0, 0, 0, 1, 1, 1, 0, 0};
    assert_int_equal(beta_estimate(bm, mix, 4, 0, 1, &br), 0);
    assert_true(fabs(br.beta - log(3.0)) < 1e-9);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_samples),
        cmocka_unit_test(test_gibbs_samples),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
