/* test_lab_stats.c — the lab's quality measures (lab_stats.h) against independent truth.
 *
 * - KL and TV: hand-computed two- and three-state examples; on a 12-unit Chimera cut, KL/TV of
 *   exact draws against the full probability table of bm_probs_exact (summed over all 2^12
 *   states by brute force, not through log Z and the support).
 * - Wasserstein-1: point masses, a shifted set (distance = shift), hand-computed weighted sets.
 * - Integrated autocorrelation time: AR(1) series x_t = φ x_{t−1} + ε_t, τ = (1+φ)/(1−φ), on
 *   interleaved chains; independent draws give τ ≈ 1; a constant series gives NAN.
 * - Excess KL: a fresh exact sample set has excess KL within the exact reference's spread; draws
 *   at the wrong β have a clearly positive one.
 * - Histogram series and Kish's ESS on hand examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_stats.h"

static void test_kl_tv_hand(void **state)
{
    /* q = (½, ½) on two states of p = (¼, ½), p has ¼ elsewhere:
     * KL = ½ ln 2 + ½ ln 1, TV = ½ (¼ + 0 + ¼) */
    double q[2] = {0.5, 0.5}, lp[2] = {log(0.25), log(0.5)}, kl, tv;
    lab_kl_tv_core(q, lp, 2, &kl, &tv);
    assert_float_equal(kl, 0.5 * log(2.0), 1e-12);
    assert_float_equal(tv, 0.25, 1e-12);
    /* states given as samples: 1-unit "states" 0,0,0,1 with energies 0 and 1 at β = ln 3,
     * log Z = log(1 + 1/3): p = (¾, ¼) — the sample set is exact: KL = TV = 0 */
    uint8_t z[4] = {0, 0, 0, 1};
    double e[4] = {0, 0, 0, 1};
    long k;
    assert_int_equal(lab_kl_tv(z, 1, e, NULL, 4, log(3.0), log(4.0 / 3), &kl, &tv, &k), 0);
    assert_int_equal(k, 2);
    assert_float_equal(kl, 0, 1e-12);
    assert_float_equal(tv, 0, 1e-12);
    /* weights: state 0 carries 1 + 1 + 0, state 1 carries 2 → q = (½, ½) against (¾, ¼) */
    double w[4] = {1, 1, 0, 2};
    assert_int_equal(lab_kl_tv(z, 1, e, w, 4, log(3.0), log(4.0 / 3), &kl, &tv, NULL), 0);
    assert_float_equal(kl, 0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25), 1e-12);
    assert_float_equal(tv, 0.25, 1e-12);
    assert_int_equal(lab_kl_tv(z, 1, e, NULL, 0, 1, 0, &kl, &tv, NULL), -1);
}

static void test_kl_tv_table(void **state)
{
    struct bm *bm = test_random_cut_bm(0, 12, 21, 1.0, 1);
    const double beta = 1.3;
    const long N = 3000;
    size_t S = (size_t)1 << bm->n;
    double *p = malloc(S * sizeof(double));
    assert_int_equal(bm_probs_exact(bm, beta, p), 0);
    uint8_t *z = malloc((size_t)N * bm->n);
    double *e = malloc(N * sizeof(double));
    struct rng r;
    rng_init(&r, 5, 0);
    assert_int_equal(bm_sample_exact(bm, beta, N, &r, z), 0);
    bm_energy_batch(bm, z, N, e);
    /* brute force: counts per state index, sums over the whole table */
    double *q = calloc(S, sizeof(double));
    for (long s = 0; s < N; s++) {
        size_t idx = 0;
        for (int i = 0; i < bm->n; i++) idx |= (size_t)z[(size_t)s * bm->n + i] << i;
        q[idx] += 1.0 / N;
    }
    double kl_ref = 0, tv_ref = 0;
    for (size_t x = 0; x < S; x++) {
        if (q[x] > 0) kl_ref += q[x] * log(q[x] / p[x]);
        tv_ref += 0.5 * fabs(q[x] - p[x]);
    }
    double logz, kl, tv;
    assert_int_equal(bm_logz_exact(bm, beta, &logz), 0);
    assert_int_equal(lab_kl_tv(z, bm->n, e, NULL, N, beta, logz, &kl, &tv, NULL), 0);
    assert_float_equal(kl, kl_ref, 1e-9);
    assert_float_equal(tv, tv_ref, 1e-9);
    free(p); free(z); free(e); free(q);
    bm_free(bm);
}

static void test_w1(void **state)
{
    double a[2] = {0, 1}, b[1] = {0.5}, wa[2] = {3, 1}, c[1] = {1};
    assert_float_equal(lab_wasserstein1(a, NULL, 2, b, NULL, 1), 0.5, 1e-12);
    /* (¾ at 0, ¼ at 1) against 1: ¾ of the mass moves by 1 */
    assert_float_equal(lab_wasserstein1(a, wa, 2, c, NULL, 1), 0.75, 1e-12);
    /* a set against itself shifted by 2.5: every unit of mass moves 2.5 */
    struct rng r;
    rng_init(&r, 1, 0);
    double x[500], y[500];
    for (int i = 0; i < 500; i++) { x[i] = rng_normal(&r); y[i] = x[i] + 2.5; }
    assert_float_equal(lab_wasserstein1(x, NULL, 500, y, NULL, 500), 2.5, 1e-9);
    assert_float_equal(lab_wasserstein1(y, NULL, 500, x, NULL, 500), 2.5, 1e-9);
    assert_true(isnan(lab_wasserstein1(x, NULL, 0, y, NULL, 500)));
}

/* AR(1) on `chains` interleaved chains, each started from its stationary law. */
static double ar1_tau(double phi, long chains, long len, uint64_t seed)
{
    double *x = malloc((size_t)(chains * len) * sizeof(double));
    struct rng r;
    rng_init(&r, seed, 0);
    for (long c = 0; c < chains; c++) {
        double v = rng_normal(&r) / sqrt(1 - phi * phi);
        for (long t = 0; t < len; t++) {
            v = phi * v + rng_normal(&r);
            x[t * chains + c] = v;
        }
    }
    double tau;
    long M;
    assert_int_equal(lab_iat(x, chains * len, chains, 5, &tau, &M), 0);
    assert_true(M >= 5 * tau - 1e-9 || M == len - 1);   /* Sokal's rule stopped the window */
    free(x);
    return tau;
}

static void test_iat(void **state)
{
    for (int k = 0; k < 3; k++) {
        double phi = (double[]){0.5, 0.8, 0.9}[k];
        double want = (1 + phi) / (1 - phi);
        double tau = ar1_tau(phi, 4, 50000, 11 + k);
        /* the windowed estimator's relative sd is ~ sqrt(2(2M+1)/N) ≈ 2–3 % here */
        assert_true(fabs(tau - want) < 0.08 * want);
    }
    assert_true(fabs(ar1_tau(0.0, 8, 20000, 3) - 1) < 0.05);
    double flat[10] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, tau;
    assert_int_equal(lab_iat(flat, 10, 2, 5, &tau, NULL), 0);
    assert_true(isnan(tau));
    assert_int_equal(lab_iat(flat, 10, 10, 5, &tau, NULL), 0);   /* one state per chain */
    assert_float_equal(tau, 1, 0);
    assert_int_equal(lab_iat(flat, 10, 0, 5, &tau, NULL), -1);
}

static void test_excess_kl(void **state)
{
    struct bm *bm = test_random_cut_bm(0, 12, 8, 1.0, 2);
    const double beta = 1.0;
    const long N = 2000;
    struct lab_ref ref;
    lab_ref_init(&ref);
    assert_int_equal(lab_ref_exact(&ref, bm, beta, N, 8, 77, NULL), 0);
    assert_true(ref.exact);
    assert_true(ref.kl0 > 0 && ref.kl0_sd > 0);
    assert_int_equal(ref.s.count, 8 * N);
    /* a fresh exact set (another seed) and a set drawn at the wrong β */
    struct samples s, wrong;
    samples_init(&s);
    samples_init(&wrong);
    assert_int_equal(samples_alloc(&s, bm->n, N, false), 0);
    assert_int_equal(samples_alloc(&wrong, bm->n, N, false), 0);
    struct rng r;
    rng_init(&r, 78, 0);
    assert_int_equal(bm_sample_exact(bm, beta, N, &r, s.z), 0);
    assert_int_equal(bm_sample_exact(bm, 0.5 * beta, N, &r, wrong.z), 0);
    samples_energies(bm, &s);
    samples_energies(bm, &wrong);
    s.seconds = wrong.seconds = 1;
    struct lab_measures m, mw;
    assert_int_equal(lab_measure(&ref, bm, &s, 0, 3, &m), 0);
    assert_int_equal(lab_measure(&ref, bm, &wrong, 0, 3, &mw), 0);
    assert_true(fabs(m.kl_excess) < 4 * ref.kl0_sd + 0.01);
    assert_true(mw.kl_excess > 10 * ref.kl0_sd + 0.05);
    assert_true(mw.w1 > 4 * m.w1);
    /* the MPL fit recovers the β each set was drawn at */
    assert_true(fabs(m.beta_eff - beta) < 0.1 * beta);
    assert_true(fabs(mw.beta_eff - 0.5 * beta) < 0.1 * beta);
    assert_float_equal(m.tau, 1, 0);   /* one chain per draw: independent */
    assert_float_equal(m.ess_per_s, N, 1e-9);
    struct lab_measures both[2] = {m, mw};
    lab_resid(both, 2, NAN);
    assert_true(both[0].resid >= 0 && both[1].resid >= 0);
    assert_true(both[0].resid == 0 || both[1].resid == 0);
    samples_free(&s);
    samples_free(&wrong);
    lab_ref_free(&ref);
    /* a prior too large to enumerate is refused with a pointer to --ref pa */
    struct bm *big = bm_new(graph_chimera(4, 4, 4));
    assert_int_equal(lab_ref_exact(&ref, big, 1, 10, 1, 1, NULL), -1);
    assert_non_null(strstr(qv_errmsg(), "--ref pa"));
    bm_free(big);
    bm_free(bm);
}

static void test_hist_kish(void **state)
{
    struct samples a, b;
    samples_init(&a);
    samples_init(&b);
    assert_int_equal(samples_alloc(&a, 1, 4, false), 0);
    assert_int_equal(samples_alloc(&b, 1, 2, true), 0);
    double ea[4] = {0, 1, 1, 4}, eb[2] = {0, 4};
    memcpy(a.energy, ea, sizeof ea);
    memcpy(b.energy, eb, sizeof eb);
    b.logw[0] = log(3.0);
    b.logw[1] = 0;
    const struct samples *sets[2] = {&a, &b};
    double lo = 0, hi = 0, mass[8];
    assert_int_equal(lab_hist_series(sets, 2, 4, &lo, &hi, mass), 0);
    assert_float_equal(lo, 0, 0);
    assert_float_equal(hi, 4, 0);
    double want[8] = {0.25, 0.5, 0, 0.25, 0.75, 0, 0, 0.25};   /* top edge → last bin */
    for (int i = 0; i < 8; i++) assert_float_equal(mass[i], want[i], 1e-12);
    double w1[4] = {1, 1, 1, 1}, w2[4] = {1, 0, 0, 0}, w3[2] = {2, 1};
    assert_float_equal(lab_kish_ess(w1, 4), 4, 1e-12);
    assert_float_equal(lab_kish_ess(w2, 4), 1, 1e-12);
    assert_float_equal(lab_kish_ess(w3, 2), 9.0 / 5, 1e-12);
    assert_float_equal(lab_kish_ess(NULL, 7), 7, 0);
    samples_free(&a);
    samples_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kl_tv_hand),
        cmocka_unit_test(test_kl_tv_table),
        cmocka_unit_test(test_w1),
        cmocka_unit_test(test_iat),
        cmocka_unit_test(test_excess_kl),
        cmocka_unit_test(test_hist_kish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
