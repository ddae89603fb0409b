/* test_bm_mf.c — the relaxed Boltzmann prior (bm_mf.h) against independent truth: mean-field
 * logp̃(ζ) never above the exact value by enumeration (bm_logz_exact of the machine with biases
 * shifted by b(ζ), the shift computed here from naive densities) on 16-unit cuts of Chimera,
 * Pegasus and Zephyr, monotone in the sweep count, within 0.5 nats when weakly coupled; gradients
 * by the envelope theorem at a converged fixed point and by finite differences of the bound at
 * fixed m; the exact spike-and-exponential case; row batches = single rows = two threads; errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bm_mf.h"
#include "relax.h"
#include "rng.h"

typedef long double LD;
static const enum relax_kind MIX[2] = {RELAX_POWER, RELAX_EXP};

static struct relax mk(enum relax_kind k, double beta)
{
    struct relax r;
    assert_int_equal(relax_init(&r, k, beta), 0);
    return r;
}

/* r(x|0) straight from the definitions in relax.h (power, exp). */
static LD t_r0(enum relax_kind k, LD beta, LD x)
{
    if (k == RELAX_POWER) {
        LD lam = 1.0L / beta, e = 1e-7L, D = powl(1 + e, lam) - powl(e, lam);
        return lam * powl(x + e, lam - 1) / D;
    }
    return beta * expl(-beta * x) / (1 - expl(-beta));
}

/* ζ [n] drawn from the relaxation with logits uniform in [−3, 3]. */
static void draw_zeta(const struct relax *r, int n, uint64_t seed, float *z)
{
    struct rng rg;
    rng_init(&rg, seed, 3);
    for (int i = 0; i < n; i++) {
        double l = 6 * rng_uniform(&rg) - 3, u = rng_uniform(&rg), rho = rng_uniform(&rg);
        z[i] = (float)relax_sample1(r, l, u, rho, NULL);
    }
}

/* Exact logp̃(ζ) = log Z(ζ) + Σ log r(ζ_i|0): bm's exact enumeration of the machine with biases
 * shifted by b(ζ), the shift computed here from the naive densities. */
static double exact_logp(const struct bm *bm, const struct relax *r, const float *z)
{
    struct bm *c = bm_clone(bm);
    LD lr0 = 0;
    for (int i = 0; i < bm->n; i++) {
        LD a0 = logl(t_r0(r->kind, r->beta, z[i])), a1 = logl(t_r0(r->kind, r->beta, 1 - (LD)z[i]));
        c->b[i] += (double)(a1 - a0);
        lr0 += a0;
    }
    double lz;
    assert_int_equal(bm_logz_exact(c, 1.0, &lz), 0);
    bm_free(c);
    return lz + (double)lr0;
}

/* Mean field never exceeds the exact value (any sweep count), never loses from one sweep to the
 * next, and comes within 0.5 nats on a weakly coupled machine — Chimera, Pegasus and Zephyr cuts. */
static void test_mf_bound(void **st)
{
    (void)st;
    const int S[] = {0, 1, 2, 5, 20};
    double worst_weak = 0, worst_strong = 0;
    for (int topo = 0; topo < 3; topo++)
        for (int k = 0; k < 2; k++)
            for (int seed = 1; seed <= 3; seed++)
                for (int strong = 0; strong < 2; strong++) {
                    struct bm *bm = test_random_cut_bm(topo, 16, 100 * topo + seed, strong ? 1.5 : 0.1, 5);
                    struct relax r = mk(MIX[k], relax_default_beta(MIX[k]));
                    float z[16];
                    double *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), prev = -INFINITY, lp;
                    draw_zeta(&r, 16, 7 * seed + topo, z);
                    if (seed == 3)                          /* b(ζ) = 0: the prior's own mean field */
                        for (int i = 0; i < 16; i++) z[i] = 0.5f;
                    double ex = exact_logp(bm, &r, z);
                    for (int si = 0; si < 5; si++) {
                        assert_int_equal(bm_mf_logp(bm, &r, S[si], 1, z, &lp, NULL, NULL, scr), 0);
                        if (lp > ex + 1e-9 || lp < prev - 1e-10)
                            fail_msg("topo %d %s seed %d: %d sweeps %.12f, exact %.12f, previous %.12f",
                                     topo, relax_name(r.kind), seed, S[si], lp, ex, prev);
                        prev = lp;
                        if (S[si] == BM_MF_SWEEPS) {
                            if (strong) worst_strong = fmax(worst_strong, ex - lp);
                            else worst_weak = fmax(worst_weak, ex - lp);
                        }
                    }
                    free(scr);
                    bm_free(bm);
                }
    printf("mean field (%d sweeps) below exact by at most %.4f nats (|W| ≤ 0.1), %.4f (|W| ≤ 1.5)\n",
           BM_MF_SWEEPS, worst_weak, worst_strong);
    assert_true(worst_weak < 0.5);
}

/* The gradients hold m fixed.  A finite difference of the bound with m re-converged is a different
 * quantity in general (it includes ∂B/∂m · ∂m/∂θ); at a converged fixed point ∂B/∂m = 0, so by the
 * envelope theorem the two agree — tested here after many sweeps on weakly coupled machines. */
static void test_mf_envelope(void **st)
{
    (void)st;
    enum { SW = 3000 };
    for (int topo = 0; topo < 3; topo++)
        for (int k = 0; k < 2; k++) {
            struct bm *bm = test_random_cut_bm(topo, 16, 40 + topo, 0.3, 6);
            struct relax r = mk(MIX[k], relax_default_beta(MIX[k]));
            float z[16], m[16], dz[16];
            double *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), lp, lpp, lpm, h = 1e-5;
            draw_zeta(&r, 16, 11 + topo, z);
            assert_int_equal(bm_mf_logp(bm, &r, SW, 1, z, &lp, m, dz, scr), 0);
            for (int i = 0; i < bm->n; i++) {
                double b0 = bm->b[i];
                bm->b[i] = b0 + h; bm_mf_logp(bm, &r, SW, 1, z, &lpp, NULL, NULL, scr);
                bm->b[i] = b0 - h; bm_mf_logp(bm, &r, SW, 1, z, &lpm, NULL, NULL, scr);
                bm->b[i] = b0;
                double fd = (lpp - lpm) / (2 * h);
                if (fabs(fd - m[i]) > 1e-5) fail_msg("topo %d %s ∂/∂b_%d: m %.8f, FD %.8f", topo, relax_name(r.kind), i, m[i], fd);
                float z0 = z[i];
                if (fminf(z0, 1 - z0) < 1e-3f) continue;
                float zp = z0 * (1 + 1e-4f), zm = z0 * (1 - 1e-4f);
                if (z0 > 0.5f) zp = 1 - (1 - z0) * (1 - 1e-4f), zm = 1 - (1 - z0) * (1 + 1e-4f);
                z[i] = zp; bm_mf_logp(bm, &r, SW, 1, z, &lpp, NULL, NULL, scr);
                z[i] = zm; bm_mf_logp(bm, &r, SW, 1, z, &lpm, NULL, NULL, scr);
                z[i] = z0;
                fd = (lpp - lpm) / ((double)zp - zm);
                if (fabs(fd - dz[i]) > 1e-4 * fmax(1, fabs(fd)))
                    fail_msg("topo %d %s ∂/∂ζ_%d (ζ = %g): %.8f, FD %.8f", topo, relax_name(r.kind), i, z0, dz[i], fd);
            }
            for (long e = 0; e < bm->ne; e++) {
                double w0 = bm->w[e], want = (double)m[bm->g->edges[e][0]] * m[bm->g->edges[e][1]];
                bm->w[e] = w0 + h; bm_mf_logp(bm, &r, SW, 1, z, &lpp, NULL, NULL, scr);
                bm->w[e] = w0 - h; bm_mf_logp(bm, &r, SW, 1, z, &lpm, NULL, NULL, scr);
                bm->w[e] = w0;
                if (fabs((lpp - lpm) / (2 * h) - want) > 1e-5)
                    fail_msg("topo %d ∂/∂W_%ld: %.8f, FD %.8f", topo, e, want, (lpp - lpm) / (2 * h));
            }
            free(scr);
            bm_free(bm);
        }
}

/* After the default 5 sweeps (not converged, strong couplings): the returned value is the bound at
 * the returned m, and ∂/∂ζ is the derivative of that bound with m held fixed. */
static void test_mf_fixed_m(void **st)
{
    (void)st;
    for (int topo = 0; topo < 3; topo++)
        for (int k = 0; k < 2; k++) {
            struct bm *bm = test_random_cut_bm(topo, 20, 60 + topo, 1.5, 8);
            struct relax r = mk(MIX[k], k == 0 ? 40 : 10);
            float z[20], m[20], dz[20];
            double md[20], *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), lp;
            draw_zeta(&r, 20, 21 + topo, z);
            z[0] = 0; z[1] = 1; z[2] = 1e-6f;                    /* the ends and next to them */
            assert_int_equal(bm_mf_logp(bm, &r, BM_MF_SWEEPS, 1, z, &lp, m, dz, scr), 0);
            for (int i = 0; i < 20; i++) md[i] = m[i];
            double b = bm_mf_bound(bm, &r, z, md, scr);
            assert_true(fabs(b - lp) < 1e-5 * fmax(1, fabs(lp)));   /* m rounded to float */
            for (int i = 2; i < 20; i++) {
                float z0 = z[i], zp = z0 * (1 + 1e-4f), zm = z0 * (1 - 1e-4f);
                if (z0 > 0.5f) zp = 1 - (1 - z0) * (1 - 1e-4f), zm = 1 - (1 - z0) * (1 + 1e-4f);
                if (zp == zm) continue;
                z[i] = zp; double bp = bm_mf_bound(bm, &r, z, md, scr);
                z[i] = zm; double bmn = bm_mf_bound(bm, &r, z, md, scr);
                z[i] = z0;
                double fd = (bp - bmn) / ((double)zp - zm);
                if (fabs(fd - dz[i]) > 1e-3 * fmax(1, fabs(fd)))
                    fail_msg("topo %d %s ∂/∂ζ_%d (ζ = %g), m fixed: %.8g, FD %.8g", topo, relax_name(r.kind), i, z0, dz[i], fd);
            }
            free(scr);
            bm_free(bm);
        }
}

/* Spike-and-exponential: exact, −E(z*) + Σ_(ζ_i > 0) log r(ζ_i|1) with z* = [ζ > 0]. */
static void test_mf_spike(void **st)
{
    (void)st;
    struct bm *bm = test_random_cut_bm(1, 24, 5, 1.0, 9);
    struct relax r = mk(RELAX_SPIKE_EXP, 5);
    float z[24], m[24], dz[24];
    uint8_t zs[24];
    double *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), lp;
    draw_zeta(&r, 24, 77, z);
    LD want = 0;
    for (int i = 0; i < 24; i++) {
        zs[i] = z[i] > 0;
        if (zs[i]) want += logl(5 * expl(5 * ((LD)z[i] - 1)) / (1 - expl(-5.0L)));
    }
    want -= bm_energy(bm, zs);
    assert_int_equal(bm_mf_logp(bm, &r, 0, 1, z, &lp, m, dz, scr), 0);
    assert_true(fabs(lp - (double)want) < 1e-9);
    for (int i = 0; i < 24; i++) assert_true(m[i] == zs[i] && dz[i] == (zs[i] ? 5.0f : 0.0f));
    free(scr);
    bm_free(bm);
}

/* Batches: rows at once = rows one by one = rows on two threads with their own scratch;
 * bm_mf_accum against a direct sum. */
struct mf_job { const struct bm *bm; const struct relax *r; const float *z; double *lp; float *m, *dz; double *scr; };

static void mf_job_run(void *ctx, long j)
{
    struct mf_job *J = ctx;
    int n = J->bm->n;
    bm_mf_logp(J->bm, J->r, BM_MF_SWEEPS, 1, J->z + j * n, J->lp + j, J->m + j * n, J->dz + j * n,
               J->scr + j * bm_mf_scratch_size(J->bm));
}

static void test_mf_batch(void **st)
{
    (void)st;
    enum { R = 6 };
    struct graph *g = graph_zephyr(2, 4);
    struct bm *bm = bm_new(g);
    assert_int_equal(bm_random(bm, 0.8, 3), 0);
    int n = bm->n;
    struct relax r = mk(RELAX_POWER, 30);
    size_t ss = bm_mf_scratch_size(bm);
    float *z = malloc(sizeof(float) * R * n), *m1 = malloc(sizeof(float) * R * n), *m2 = malloc(sizeof(float) * R * n);
    float *d1 = malloc(sizeof(float) * R * n), *d2 = malloc(sizeof(float) * R * n);
    double l1[R], l2[R], w[R], *scr = malloc(sizeof(double) * ss * R);
    for (int j = 0; j < R; j++) draw_zeta(&r, n, 300 + j, z + j * n), w[j] = 0.1 * (j + 1);
    assert_int_equal(bm_mf_logp(bm, &r, BM_MF_SWEEPS, R, z, l1, m1, d1, scr), 0);
    struct mf_job J = {bm, &r, z, l2, m2, d2, scr};
    qv_parallel(2, R, mf_job_run, &J);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_memory_equal(m1, m2, sizeof(float) * R * n);
    assert_memory_equal(d1, d2, sizeof(float) * R * n);
    double *gb = calloc(n, sizeof(double)), *gw = calloc(bm->ne, sizeof(double));
    bm_mf_accum(bm, R, m1, w, gb, gw);
    for (int i = 0; i < n; i += 7) {
        double s = 0;
        for (int j = 0; j < R; j++) s += w[j] * m1[j * n + i];
        assert_true(fabs(gb[i] - s) < 1e-12);
    }
    for (long e = 0; e < bm->ne; e += 11) {
        double s = 0;
        for (int j = 0; j < R; j++) s += w[j] * m1[j * n + bm->g->edges[e][0]] * m1[j * n + bm->g->edges[e][1]];
        assert_true(fabs(gw[e] - s) < 1e-12);
    }
    free(z); free(m1); free(m2); free(d1); free(d2); free(scr); free(gb); free(gw);
    bm_free(bm);
}

static void test_mf_errors(void **st)
{
    (void)st;
    struct bm *bm = test_random_cut_bm(0, 8, 1, 1.0, 1);
    struct relax g = mk(RELAX_GUMBOLT, 2), p = mk(RELAX_POWER, 30);
    float z[8] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    double lp = 42, *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double));
    assert_int_equal(bm_mf_logp(bm, &g, 5, 1, z, &lp, NULL, NULL, scr), -1);
    assert_string_equal(qv_errmsg(), "relaxed prior: gumbolt has no r(ζ|z) (use --relax power, exp or spike-exp)");
    assert_int_equal(bm_mf_logp(bm, &p, -1, 1, z, &lp, NULL, NULL, scr), -1);
    assert_string_equal(qv_errmsg(), "relaxed prior: mean-field sweeps must be >= 0 (got -1)");
    assert_true(lp == 42);
    free(scr);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mf_bound),
        cmocka_unit_test(test_mf_envelope),
        cmocka_unit_test(test_mf_fixed_m),
        cmocka_unit_test(test_mf_spike),
        cmocka_unit_test(test_mf_batch),
        cmocka_unit_test(test_mf_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
