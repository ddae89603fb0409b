/* test_sqa.c — the `sqa` annealer emulator against exact physics on small instances (issue 5
 * "Physics the tests must show").
 *
 * Instance: two 3-spin ferromagnetic clusters coupled antiferromagnetically, small opposite
 * fields (6 spins, 64 states, exact Boltzmann by enumeration; its quantum spectrum by exact
 * diagonalisation of H(s) = −A/2 Σσx + B/2 (Σ h σz + Σ J σzσz) with the solver's A(s), B(s)).
 * - Slow forward anneal (100 µs): the plug-in KL of the samples to Boltzmann at the MPL-fitted
 *   β_eff is < 0.05 (the KL of the same number of exact draws, the finite-sample floor, is
 *   printed), and the fitted β_eff is within 10 % of the β asked (the rescaling by the emulator's
 *   own β_eff works).
 * - Pause: with a stiffer problem (β = 2) the 20 µs anneal is visibly not Boltzmann; a 50 µs
 *   pause placed after the minimum gap (found by exact diagonalisation) lowers the KL at the
 *   fitted β_eff by at least 0.03.
 * - Quench at s = 0.3 gives a higher mean energy than the full anneal.
 * - Reverse anneal from a high-energy classical state: to s = 0.9 every read comes back to it;
 *   to s = 0.2 almost none does (the state is forgotten: mean Hamming distance ≈ 3 of 6).
 * Also: same seed → same samples for 1 and 2 threads; β_eff bookkeeping (samples.beta_eff,
 * re-estimation, clipping to h_range/j_range); bad options; cancellation.
 * Everything runs with P = 8 (the sweep kernel's scalar ring walk); the slow-anneal, quench and
 * reverse-anneal physics again with P = 16 (its vector path) on every SIMD path the CPU runs. */
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
#include "simd.h"
#include "beta.h"
#include "rng.h"
#include "sampler.h"
#include "schedule.h"
#include "solver.h"

#ifndef QVAE_SANITIZE
#define QVAE_SANITIZE 0
#endif
#define READS (QVAE_SANITIZE ? 2000L : 4000L)

/* Two FM triangles {0,1,2}, {3,4,5} (J = jin), AFM rungs i—i+3 (J = jx), h = +hb on the first,
 * −hb/2 on the second (Ising convention of bm.h). */
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

static double kl_hist(const struct bm *bm, const uint8_t *z, long cnt, double beta)
{
    int n = bm->n;
    size_t N = (size_t)1 << n;
    double *p = malloc(N * sizeof *p), *q = calloc(N, sizeof *q);
    assert_int_equal(bm_probs_exact(bm, beta, p), 0);
    for (long c = 0; c < cnt; c++) {
        size_t x = 0;
        for (int i = 0; i < n; i++) x |= (size_t)z[(size_t)c * n + i] << i;
        q[x] += 1.0 / (double)cnt;
    }
    double kl = 0;
    for (size_t i = 0; i < N; i++)
        if (q[i] > 0) kl += q[i] * log(q[i] / p[i]);
    free(p);
    free(q);
    return kl;
}

/* KL of `cnt` exact draws: what a perfect sampler scores with this many samples. */
static double kl_floor(const struct bm *bm, long cnt, double beta)
{
    uint8_t *z = malloc((size_t)cnt * bm->n);
    struct rng r;
    rng_init(&r, 99, 0);
    assert_int_equal(bm_sample_exact(bm, beta, cnt, &r, z), 0);
    double kl = kl_hist(bm, z, cnt, beta);
    free(z);
    return kl;
}

/* Trotter slices of the tests: 8 runs the kernel's scalar ring walk, 16 its vector path. */
static const char *trotter = "8";

static struct sampler *sqa_new(uint64_t seed, const char *extra[])
{
    struct sampler *s = sampler_new("sqa", seed);
    assert_non_null(s);
    assert_int_equal(sampler_set(s, "noise", "0"), 0);
    assert_int_equal(sampler_set(s, "trotter", trotter), 0);
    for (int i = 0; extra && extra[i]; i += 2)
        if (sampler_set(s, extra[i], extra[i + 1])) fail_msg("%s", qv_errmsg());
    return s;
}

static void draw(struct sampler *s, const struct bm *bm, double beta, long count,
                 const struct sched *sc, const uint8_t *initial, int threads, struct samples *out)
{
    struct sample_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.schedule = sc;
    ctx.initial = initial;
    ctx.threads = threads;
    if (sampler_sample(s, bm, beta, count, &ctx, out)) fail_msg("sqa: %s", qv_errmsg());
}

static double mean_energy(const struct samples *o)
{
    double m = 0;
    for (long c = 0; c < o->count; c++) m += o->energy[c];
    return m / (double)o->count;
}

static void test_slow_anneal_boltzmann(void **state)
{
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    const char *opt[] = {"sweeps_per_us", "2", NULL};
    struct sampler *s = sqa_new(1, opt);
    struct sched sc;
    sched_init(&sc);
    sched_forward(&sc, 100);
    struct samples o;
    samples_init(&o);
    draw(s, bm, 1.0, READS, &sc, NULL, 0, &o);
    struct beta_result br;
    assert_int_equal(beta_estimate(bm, o.z, o.count, 50, 3, &br), 0);
    double kl = kl_hist(bm, o.z, o.count, br.beta), fl = kl_floor(bm, o.count, br.beta);
    print_message("slow anneal: fitted β_eff %.3f ± %.3f, KL %.4f (exact-draw floor %.4f); %s\n", br.beta,
                  br.err, kl, fl, o.info);
    assert_true(kl < 0.05);
    assert_true(fabs(br.beta - 1.0) < 0.1);
    assert_true(isfinite(o.beta_eff) && o.beta_eff > 1);
    samples_free(&o);
    sampler_free(s);
    bm_free(bm);
}

/* Two lowest eigenvalues of the real symmetric matrix a [n×n] (destroyed) by cyclic Jacobi. */
static void lowest_two(double *a, int n, double *e0, double *e1)
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
    *e0 = m0;
    *e1 = m1;
}

/* s of the minimum gap of H(s) for the problem scaled by `scale` (what sqa programs). */
static double min_gap_s(const struct bm *bm, double scale, const struct anneal_table *t, double *gmin)
{
    int n = bm->n, N = 1 << n;
    double *h = malloc(sizeof(double) * n), *J = malloc(sizeof(double) * bm->ne);
    bm_to_ising(bm, h, J, NULL);
    double *E = malloc(sizeof(double) * N);
    for (int x = 0; x < N; x++) {
        double e = 0;
        for (int i = 0; i < n; i++) e += h[i] * ((x >> i & 1) ? 1 : -1);
        for (long k = 0; k < bm->ne; k++)
            e += J[k] * ((x >> bm->g->edges[k][0] & 1) ? 1 : -1) * ((x >> bm->g->edges[k][1] & 1) ? 1 : -1);
        E[x] = scale * e;
    }
    double *H = malloc(sizeof(double) * N * N), best = INFINITY, sbest = 0;
    for (double sv = 0.1; sv < 0.9; sv += 0.01) {
        double A = anneal_A(t, sv), B = anneal_B(t, sv);
        memset(H, 0, sizeof(double) * N * N);
        for (int x = 0; x < N; x++) {
            H[x * N + x] = B / 2 * E[x];
            for (int i = 0; i < n; i++) H[x * N + (x ^ (1 << i))] += -A / 2;
        }
        double e0, e1;
        lowest_two(H, N, &e0, &e1);
        if (e1 - e0 < best) { best = e1 - e0; sbest = sv; }
    }
    free(h); free(J); free(E); free(H);
    *gmin = best;
    return sbest;
}

static void test_pause_after_gap(void **state)
{
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    const double beta = 2.0;
    const char *opt[] = {"sweeps_per_us", "5", "beta_eff", "5.4", NULL};   /* fixed scale β/5.4 */
    const struct anneal_table *t = anneal_table_for(NULL);
    assert_non_null(t);
    double gmin, sgap = min_gap_s(bm, beta / 5.4, t, &gmin);
    double sp = sgap + 0.05;
    struct sched plain, paused;
    sched_init(&plain);
    sched_forward(&plain, 20);
    sched_copy(&paused, &plain);
    assert_int_equal(sched_pause(&paused, sp, 50), 0);
    double kl[2], fb[2];
    for (int k = 0; k < 2; k++) {
        struct sampler *s = sqa_new(7, opt);
        struct samples o;
        samples_init(&o);
        draw(s, bm, beta, READS, k ? &paused : &plain, NULL, 0, &o);
        struct beta_result br;
        assert_int_equal(beta_estimate(bm, o.z, o.count, 0, 3, &br), 0);
        assert_true(isfinite(br.beta));
        fb[k] = br.beta;
        kl[k] = kl_hist(bm, o.z, o.count, br.beta);
        samples_free(&o);
        sampler_free(s);
    }
    print_message("minimum gap %.4g GHz at s = %.2f; KL at fitted β_eff: no pause %.4f (β %.3f), "
                  "pause at s = %.2f for 50 µs %.4f (β %.3f)\n", gmin, sgap, kl[0], fb[0], sp, kl[1], fb[1]);
    assert_true(sgap > 0.2 && sgap < 0.7);
    assert_true(kl[1] < kl[0] - 0.03);
    bm_free(bm);
}

static void test_quench_energy(void **state)
{
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    const char *opt[] = {"sweeps_per_us", "5", "beta_eff", "5.4", NULL};
    struct sched full, q;
    sched_init(&full);
    sched_forward(&full, 20);
    sched_copy(&q, &full);
    assert_int_equal(sched_quench(&q, 0.3, 0, NULL), 0);
    double m[2];
    for (int k = 0; k < 2; k++) {
        struct sampler *s = sqa_new(11, opt);
        struct samples o;
        samples_init(&o);
        draw(s, bm, 1.0, READS / 2, k ? &q : &full, NULL, 0, &o);
        m[k] = mean_energy(&o);
        samples_free(&o);
        sampler_free(s);
    }
    print_message("mean energy: full anneal %.3f, quench at s = 0.3 %.3f\n", m[0], m[1]);
    assert_true(m[1] > m[0] + 1.0);
    bm_free(bm);
}

static void test_reverse_anneal(void **state)
{
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    const char *opt[] = {"sweeps_per_us", "5", "beta_eff", "5.4", NULL};
    const uint8_t z0[6] = {0, 1, 0, 1, 0, 0};    /* a high-energy state: both clusters broken */
    long n = READS / 4;
    uint8_t *init = malloc((size_t)n * 6);
    for (long c = 0; c < n; c++) memcpy(init + c * 6, z0, 6);
    double targets[2] = {0.9, 0.2}, same[2], ham[2];
    for (int k = 0; k < 2; k++) {
        struct sched r;
        sched_init(&r);
        assert_int_equal(sched_reverse(&r, targets[k], 20, 0, NULL), 0);
        struct sampler *s = sqa_new(13, opt);
        struct samples o;
        samples_init(&o);
        draw(s, bm, 1.0, n, &r, init, 0, &o);
        long eq = 0, d = 0;
        for (long c = 0; c < n; c++) {
            int dd = 0;
            for (int i = 0; i < 6; i++) dd += o.z[c * 6 + i] != z0[i];
            d += dd;
            eq += dd == 0;
        }
        same[k] = (double)eq / n;
        ham[k] = (double)d / n;
        assert_non_null(strstr(o.info, "reverse from given"));
        samples_free(&o);
        sampler_free(s);
    }
    print_message("reverse anneal: s_target 0.9 keeps %.1f%% (Hamming %.2f); s_target 0.2 keeps %.1f%% (Hamming %.2f)\n",
                  100 * same[0], ham[0], 100 * same[1], ham[1]);
    assert_true(same[0] > 0.95);
    assert_true(same[1] < 0.1 && ham[1] > 2.0);
    free(init);
    bm_free(bm);
}

/* Without reinitialisation each read of a chain starts from the previous read's output; with
 * s_target = 0.9 nothing moves either way, and from the sampler's previous samples too. */
static void test_reverse_sources(void **state)
{
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    const char *opt[] = {"sweeps_per_us", "5", "beta_eff", "5.4", "reinit", "0", NULL};
    struct sampler *s = sqa_new(17, opt);
    struct sched fwd, rev;
    sched_init(&fwd);
    sched_forward(&fwd, 20);
    sched_init(&rev);
    sched_reverse(&rev, 0.9, 5, 0, NULL);
    struct samples a, b;
    samples_init(&a);
    samples_init(&b);
    draw(s, bm, 1.0, 40, &fwd, NULL, 0, &a);
    draw(s, bm, 1.0, 40, &rev, NULL, 0, &b);       /* from the previous call's samples */
    assert_non_null(strstr(b.info, "reverse from previous samples"));
    /* read 0 of each chain of 16 restarts from previous sample 0, 16, 32; the rest continue */
    assert_memory_equal(b.z, a.z, 6);
    for (long c = 1; c < 16; c++) assert_memory_equal(b.z + c * 6, a.z, 6);
    samples_free(&a);
    samples_free(&b);
    s->vt->reset(s->impl);
    samples_init(&b);
    draw(s, bm, 1.0, 8, &rev, NULL, 0, &b);
    assert_non_null(strstr(b.info, "reverse from random"));
    samples_free(&b);
    sampler_free(s);
    bm_free(bm);
}

static void test_threads_and_bookkeeping(void **state)
{
    struct graph *g = graph_chimera(2, 2, 4);
    struct bm *bm = bm_new(g);
    struct rng r;
    rng_init(&r, 5, 0);
    for (int i = 0; i < bm->n; i++) bm->b[i] = 4 * (rng_uniform(&r) - 0.5);
    for (long e = 0; e < bm->ne; e++) bm->w[e] = 8 * (rng_uniform(&r) - 0.5);
    struct samples o1, o2;
    samples_init(&o1);
    samples_init(&o2);
    const char *opt[] = {"sweeps_per_us", "5", "noise", "0.03", NULL};
    struct sampler *s1 = sqa_new(21, opt), *s2 = sqa_new(21, opt);
    draw(s1, bm, 1.0, 24, NULL, NULL, 1, &o1);
    draw(s2, bm, 1.0, 24, NULL, NULL, 2, &o2);
    assert_memory_equal(o1.z, o2.z, (size_t)24 * bm->n);
    /* the first call uses the freeze-out estimate of the default 20 µs anneal, then MPL */
    struct sched sc;
    sched_init(&sc);
    sched_forward(&sc, 20);
    struct freezeout fo;
    assert_int_equal(anneal_freezeout(&sc, NULL, NULL, &fo), 0);
    assert_true(fabs(o1.beta_eff - fo.beta_eff) < 1e-9);
    double next = o1.beta_eff;
    samples_free(&o1);
    draw(s1, bm, 1.0, 24, NULL, NULL, 1, &o1);
    assert_true(o1.beta_eff != next && o1.beta_eff > 0);
    /* energies are E(z) of the unscaled problem */
    for (long c = 0; c < o1.count; c++)
        assert_true(fabs(o1.energy[c] - bm_energy(bm, o1.z + c * bm->n)) < 1e-9);
    /* a huge β asks for more than the ranges allow: clipped, reported */
    samples_free(&o1);
    draw(s1, bm, 1000.0, 8, NULL, NULL, 1, &o1);
    assert_non_null(strstr(o1.info, "clipped"));
    samples_free(&o1);
    samples_free(&o2);
    sampler_free(s1);
    sampler_free(s2);
    bm_free(bm);
}

static void test_options_and_cancel(void **state)
{
    struct sampler *s = sampler_new("sqa", 1);
    assert_non_null(s);
    const char *bad[][2] = {{"trotter", "7"}, {"trotter", "x"}, {"noise", "-1"}, {"sweeps_per_us", "0"},
                            {"solver", "NoSuchQPU"}, {"table", "no_such_table"}, {"frobnicate", "1"},
                            {"beta_eff", "nan"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(sampler_set(s, bad[i][0], bad[i][1]), -1);
        assert_non_null(strstr(qv_errmsg(), "sqa"));
    }
    assert_int_equal(sampler_set(s, "solver", "DW_2000Q_5"), 0);
    char desc[512];
    s->vt->describe(s->impl, desc, sizeof desc);
    assert_non_null(strstr(desc, "solver=DW_2000Q_5"));
    assert_non_null(strstr(desc, "noise=0.02"));
    struct bm *bm = two_clusters(-1, 0.3, 0.1);
    struct samples o;
    samples_init(&o);
    struct sample_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    atomic_int cancel = 1;
    ctx.cancel = &cancel;
    assert_int_equal(sampler_sample(s, bm, 1.0, 10, &ctx, &o), -1);
    assert_non_null(strstr(qv_errmsg(), "cancelled"));
    ctx.cancel = NULL;
    assert_int_equal(sampler_sample(s, bm, NAN, 10, &ctx, &o), -1);
    assert_int_equal(sampler_sample(s, bm, 1.0, 4, &ctx, &o), 0);
    assert_non_null(strstr(o.info, "T=12 mK"));     /* the 2000Q's temperature */
    samples_free(&o);
    sampler_free(s);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_and_cancel),
        cmocka_unit_test(test_threads_and_bookkeeping),
        cmocka_unit_test(test_reverse_sources),
        cmocka_unit_test(test_slow_anneal_boltzmann),
        cmocka_unit_test(test_pause_after_gap),
        cmocka_unit_test(test_quench_energy),
        cmocka_unit_test(test_reverse_anneal),
    };
    int fails = cmocka_run_group_tests(tests, NULL, NULL);
    /* The physics tests again with P = 16 (the kernel's vector path) on every SIMD path this CPU
     * runs (test_simd checks that the paths give identical samples; this checks the
     * distributions themselves). */
    const struct CMUnitTest physics[] = {
        cmocka_unit_test(test_slow_anneal_boltzmann),
        cmocka_unit_test(test_quench_energy),
        cmocka_unit_test(test_reverse_anneal),
    };
    trotter = "16";
    for (int isa = 0; isa < SIMD_NISA; isa++) {
        if (simd_select((enum simd_isa)isa)) continue;
        char name[64];
        snprintf(name, sizeof name, "physics, P = 16, %s path", simd_isa_name((enum simd_isa)isa));
        fails += _cmocka_run_group_tests(name, physics, QV_ARRAY_LEN(physics), NULL, NULL);
    }
    return fails;
}
