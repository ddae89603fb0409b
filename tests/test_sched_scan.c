/* test_sched_scan.c — `schedule scan`'s engine (sched_scan.h) against the known physics of the
 * 6-spin minimum-gap instance of test_sqa.c (two 3-spin ferromagnetic clusters coupled
 * antiferromagnetically, small opposite fields; 64 states, exact Boltzmann by enumeration):
 * a scan of the pause point (0.2 … 0.8 by 0.1) of a 20 µs anneal with a 50 µs pause finds KL*
 * (to the nearest Boltzmann distribution, min over β, by enumeration) lowest with the pause
 * just after (within 0.15 of) the minimum gap of H(s) = −A/2 Σσx + B/2 E(σ), found here by
 * exact diagonalisation of the 64×64 matrix.
 * Also: knob parsing and application, scan values, the figure seam, kept results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal.h"
#include "sampler.h"
#include "sched_scan.h"
#include "schedule.h"

#ifndef QVAE_SANITIZE
#define QVAE_SANITIZE 0
#endif
#define READS (QVAE_SANITIZE ? 2000L : 3000L)

static struct bm *two_clusters(double jin, double jx, double hb)
{
    long labels[6] = {0, 1, 2, 3, 4, 5};
    long ed[9][2] = {{0, 1}, {1, 2}, {0, 2}, {3, 4}, {4, 5}, {3, 5}, {0, 3}, {1, 4}, {2, 5}};
    struct graph *g = graph_from_edges(6, labels, 9, (const long (*)[2])ed);
    assert_non_null(g);
    struct bm *bm = bm_new(g);
    double h[6], J[9];
    for (int i = 0; i < 6; i++) h[i] = i < 3 ? hb : -hb / 2;
    for (long e = 0; e < g->ne; e++)
        J[e] = (g->edges[e][0] < 3) == (g->edges[e][1] < 3) ? jin : jx;
    bm_from_ising(bm, h, J);
    return bm;
}

/* The gap E1 − E0 of the real symmetric a [n×n] (destroyed) by cyclic Jacobi rotations. */
static double gap_of(double *a, int n)
{
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
        if (off < 1e-22) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double th = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), sn = t * c;
                for (int k = 0; k < n; k++) {
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - sn * akq;
                    a[k * n + q] = sn * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - sn * aqk;
                    a[q * n + k] = sn * apk + c * aqk;
                }
            }
    }
    double m0 = INFINITY, m1 = INFINITY;
    for (int i = 0; i < n; i++) {
        double d = a[i * n + i];
        if (d < m0) { m1 = m0; m0 = d; }
        else if (d < m1) m1 = d;
    }
    return m1 - m0;
}

/* s of the minimum gap of H(s) for the problem scaled by `scale` (what sqa programs). */
static double min_gap_s(const struct bm *bm, double scale, const struct anneal_table *t)
{
    int n = bm->n, N = 1 << n;
    double *E = malloc(sizeof(double) * N), *H = malloc(sizeof(double) * N * N);
    uint8_t z[6];
    for (int x = 0; x < N; x++) {
        for (int i = 0; i < n; i++) z[i] = x >> i & 1;
        E[x] = scale * bm_energy(bm, z);   /* E_ising up to a constant: the gap ignores it */
    }
    double best = INFINITY, sbest = 0;
    for (double sv = 0.1; sv < 0.9; sv += 0.01) {
        double A = anneal_A(t, sv), B = anneal_B(t, sv);
        memset(H, 0, sizeof(double) * N * N);
        for (int x = 0; x < N; x++) {
            H[x * N + x] = B / 2 * E[x];
            for (int i = 0; i < n; i++) H[x * N + (x ^ (1 << i))] += -A / 2;
        }
        double g = gap_of(H, N);
        if (g < best) { best = g; sbest = sv; }
    }
    free(E);
    free(H);
    return sbest;
}

static void test_pause_scan_finds_gap(void **state)
{
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    const double beta = 2.0;
    struct sampler *s = sampler_new("sqa", 7);
    assert_non_null(s);
    const char *opt[][2] = {{"noise", "0"}, {"trotter", "8"}, {"sweeps_per_us", "5"}, {"beta_eff", "5.4"}};
    for (int i = 0; i < 4; i++) assert_int_equal(sampler_set(s, opt[i][0], opt[i][1]), 0);
    double sgap = min_gap_s(bm, beta / 5.4, anneal_table_for(NULL));
    struct sched base;
    sched_init(&base);
    sched_forward(&base, 20);
    struct sched_knob_spec k;
    assert_int_equal(sched_knob_parse("pause-s", &k), 0);
    k.pause_len = 50;
    double x[32];
    int nx = sched_scan_values(0.2, 0.8, 0.1, x, 32);
    assert_int_equal(nx, 7);
    struct sched_ref R;
    sched_ref_init(&R);
    assert_int_equal(sched_ref_build(&R, bm, beta, READS, 3, NULL), 0);
    assert_true(R.ref.exact);
    struct sched_scan sc;
    if (sched_scan_run(s, bm, beta, READS, &base, &k, x, nx, NULL, &R, NULL, 11, &sc)) fail_msg("%s", qv_errmsg());
    assert_int_equal(sc.n, nx);
    double q[32];
    assert_string_equal(sched_scan_series(&sc, q), "KL*");
    int best = 0;
    for (int i = 0; i < nx; i++) {
        print_message("pause at s = %.2f: KL* %.4f (at β %.3f; MPL β_eff %.3f), modes %ld/%ld\n", x[i], q[i],
                      sc.t[i].beta_kl, sc.t[i].beta_eff, sc.t[i].covered, sc.t[i].major);
        if (q[i] < q[best]) best = i;
    }
    print_message("minimum gap at s = %.2f; lowest KL with the pause at s = %.2f\n", sgap, x[best]);
    assert_true(x[best] >= sgap - 1e-9 && x[best] <= sgap + 0.15 + 1e-9);   /* just after the gap */
    assert_true(q[best] < q[0] - 0.02);         /* a pause well before the gap helps less */
    assert_true(q[best] < q[nx - 1] - 0.02);    /* and one after freeze-out not at all */
    /* a kept result: histograms of the samples and the reference, each summing to 1 */
    struct sched_result r;
    sched_result_fill(&r, &sc.t[best], &R, "sqa");
    double ms = 0, mr = 0;
    for (int b = 0; b < SCHED_RES_BINS; b++) { ms += r.mass[b]; mr += r.ref[b]; }
    assert_true(fabs(ms - 1) < 1e-5 && fabs(mr - 1) < 1e-5);
    assert_true(r.lo < r.hi && r.kl == q[best]);
    sched_scan_free(&sc);
    sched_ref_free(&R);
    sampler_free(s);
    bm_free(bm);
}

static void test_knobs(void **state)
{
    struct sched_knob_spec k;
    assert_int_equal(sched_knob_parse("offset:4-7", &k), 0);
    assert_true(k.knob == SK_OFFSET && k.q0 == 4 && k.q1 == 7);
    const char *bad[] = {"offset", "offset:7-4", "offset:x", "pause", "frobnicate"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(sched_knob_parse(bad[i], &k), -1);
        assert_non_null(strstr(qv_errmsg(), "schedule scan"));
    }
    double x[4];
    assert_int_equal(sched_scan_values(0, 1, 0.1, x, 4), -1);     /* too many */
    assert_int_equal(sched_scan_values(1, 0, 0.1, x, 4), -1);
    assert_int_equal(sched_scan_values(0, 0.3, 0.1, x, 4), 4);    /* 0.3 included despite rounding */
    struct sched base, out;
    sched_init(&base);
    sched_forward(&base, 20);
    const struct sched_point g[2] = {{0, 1}, {20, 0.5}};
    sched_set_hgain(&base, g, 2);
    assert_int_equal(sched_knob_parse("pause-s", &k), 0);
    assert_int_equal(sched_knob_apply(&base, &k, 0.5, NULL, &out), 0);
    assert_true(sched_duration(&out) == 40 && out.ctl.hg[1].t == 40);     /* h-gain stretched */
    assert_int_equal(sched_knob_parse("h-gain", &k), 0);
    assert_int_equal(sched_knob_apply(&base, &k, 0, NULL, &out), 0);
    assert_true(sched_hgain_at(&out, 7) == 0);
    assert_int_equal(sched_knob_parse("offset:2-3", &k), 0);
    assert_int_equal(sched_knob_apply(&base, &k, -0.1, NULL, &out), 0);
    assert_true(sched_offset_of(&out, 2) == -0.1 && sched_offset_of(&out, 3) == -0.1 && out.ctl.noff == 2);
    assert_int_equal(sched_knob_parse("quench-s", &k), 0);
    assert_int_equal(sched_knob_apply(&base, &k, 1.5, NULL, &out), -1);
    assert_non_null(strstr(qv_errmsg(), "quench-s = 1.5"));
    struct sched_result r = {.kl = 1};
    for (int i = 0; i < SCHED_RES_CAP + 2; i++) {
        r.kl = i;
        sched_results_push(&base, &r);
    }
    assert_int_equal(base.res.n, SCHED_RES_CAP);
    assert_true(base.res.r[0].kl == 2 && base.res.r[SCHED_RES_CAP - 1].kl == SCHED_RES_CAP + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knobs),
        cmocka_unit_test(test_pause_scan_finds_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
