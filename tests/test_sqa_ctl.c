/* test_sqa_ctl.c — the advanced anneal controls (schedule.h struct sched_ctl) in the sqa
 * emulator, against independent truth:
 * - h-gain 0 for the whole anneal: the samples of a problem with fields have the statistics of
 *   the same problem with h = 0 (magnetisations and the coupling energy within 4.5 σ of sampling
 *   error), while g = 1 keeps the fields' effect (the test can fail).
 * - anneal offsets: the 3-qubit example of D-Wave's problem-solving handbook ("Anneal Offsets":
 *   h = {0, 0.9, −1}, J01 = J12 = −1, programmed as given): advancing qubit 2 by +0.2 makes it
 *   freeze before its neighbours decide, so it follows its own field (σ2 = +1) far more often
 *   than without the offset, and the ground state +1 +1 +1 becomes more frequent — the direction
 *   the handbook reports (0.66 → 0.98 for P(σ2 = +1) on the QPU).  A delay (−0.2) does not.
 * - flux biases: on an uncoupled qubit a flux bias Φ polarises it like the h it is equivalent to
 *   at the schedule's freeze-out point (dwave-system's conversion h = −Φ0 Φ / (M_AFM I_p(s*)))
 *   and in the documented direction (sign opposite to h).
 * - fast anneal: runs with its own time range (a 0.05 µs two-point anneal, refused without the
 *   flag by the 0.5 µs standard limit) and refuses what the rule refuses (three points, h ≠ 0,
 *   reverse, too fast for fast_anneal_time_range, an h-gain schedule).
 * - controls keep the sweep kernel's paths bit-identical (every SIMD path this CPU runs).
 * - validation and JSON of the controls (h-gain end time and range, offset ranges, round trip). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "anneal.h"
#include "sampler.h"
#include "schedule.h"
#include "simd.h"
#include "solver.h"
#include "sqa_ctl.h"

#ifndef QVAE_SANITIZE
#define QVAE_SANITIZE 0
#endif
#define READS (QVAE_SANITIZE ? 1500L : 3000L)

/* A graph on labels 0..n−1 with the given edges and Ising h, J. */
static struct bm *ising(int n, int ne, const long (*ed)[2], const double *h, const double *J)
{
    long lab[16];
    for (int i = 0; i < n; i++) lab[i] = i;
    struct graph *g = graph_from_edges(n, lab, ne, ed);
    assert_non_null(g);
    struct bm *bm = bm_new(g);
    double Jg[16] = {0};
    for (int k = 0; k < ne; k++) {
        int u = graph_find_label(g, ed[k][0]), v = graph_find_label(g, ed[k][1]);
        Jg[graph_edge_index(g, u, v)] = J[k];
    }
    bm_from_ising(bm, h, Jg);
    return bm;
}

/* sqa programming the problem exactly as given (β = β_eff = 1, as the emulator runs it). */
static struct sampler *sqa_exact(uint64_t seed, const char *trotter)
{
    struct sampler *s = sampler_new("sqa", seed);
    assert_non_null(s);
    assert_int_equal(sampler_set(s, "noise", "0"), 0);
    assert_int_equal(sampler_set(s, "trotter", trotter), 0);
    assert_int_equal(sampler_set(s, "beta_eff", "1"), 0);
    assert_int_equal(sampler_set(s, "sweeps_per_us", "5"), 0);
    return s;
}

static void draw(struct sampler *s, const struct bm *bm, long count, const struct sched *sc, struct samples *o)
{
    struct sample_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.schedule = sc;
    samples_init(o);
    if (sampler_sample(s, bm, 1.0, count, &ctx, o)) fail_msg("sqa: %s", qv_errmsg());
}

/* Mean of spin i (±1) over the samples. */
static double mag(const struct samples *o, int i)
{
    double m = 0;
    for (long c = 0; c < o->count; c++) m += o->z[(size_t)c * o->n + i] ? 1 : -1;
    return m / (double)o->count;
}

static void test_hgain_zero_ignores_h(void **state)
{
    /* a frustrated triangle plus a pendant, strong fields */
    const long ed[4][2] = {{0, 1}, {1, 2}, {0, 2}, {2, 3}};
    const double J[4] = {0.5, 0.5, 0.5, -0.7}, h[4] = {0.8, -0.6, 0.4, 0.9}, h0[4] = {0};
    struct bm *bh = ising(4, 4, ed, h, J), *bz = ising(4, 4, ed, h0, J);
    struct sched sc, sg;
    sched_init(&sc);
    sched_forward(&sc, 20);
    sched_copy(&sg, &sc);
    const struct sched_point g0[2] = {{0, 0}, {20, 0}};
    assert_int_equal(sched_set_hgain(&sg, g0, 2), 0);
    struct samples a, b, c;
    struct sampler *s1 = sqa_exact(3, "8"), *s2 = sqa_exact(4, "8"), *s3 = sqa_exact(5, "8");
    draw(s1, bh, READS, &sg, &a);     /* fields, gain 0 */
    draw(s2, bz, READS, &sc, &b);     /* no fields */
    draw(s3, bh, READS, &sc, &c);     /* fields, gain 1 */
    assert_non_null(strstr(a.info, "h-gain"));
    double worst = 0, moved = 0;
    for (int i = 0; i < 4; i++) {
        double ma = mag(&a, i), mb = mag(&b, i), mc = mag(&c, i);
        double se = sqrt((2 - ma * ma - mb * mb) / (double)READS);   /* σ of a difference of means */
        worst = fmax(worst, fabs(ma - mb) / se);
        moved = fmax(moved, fabs(mc - mb));
    }
    /* the coupling energy Σ J σσ has the same mean too */
    double ea = 0, eb = 0, va = 0;
    for (long k = 0; k < READS; k++) {
        double x = 0, y = 0;
        for (int e = 0; e < 4; e++) {
            int u = (int)ed[e][0], v = (int)ed[e][1];
            x += J[e] * (a.z[k * 4 + u] == a.z[k * 4 + v] ? 1 : -1);
            y += J[e] * (b.z[k * 4 + u] == b.z[k * 4 + v] ? 1 : -1);
        }
        ea += x; eb += y; va += x * x;
    }
    ea /= READS; eb /= READS; va = va / READS - ea * ea;
    double ze = fabs(ea - eb) / sqrt(2 * va / READS);
    print_message("h-gain 0 vs h = 0: worst magnetisation difference %.2f σ, coupling energy %.2f σ; "
                  "gain 1 moves a magnetisation by %.3f\n", worst, ze, moved);
    assert_true(worst < 4.5);
    assert_true(ze < 4.5);
    assert_true(moved > 0.3);
    samples_free(&a); samples_free(&b); samples_free(&c);
    sampler_free(s1); sampler_free(s2); sampler_free(s3);
    bm_free(bh); bm_free(bz);
}

/* P(σ2 = +1) and P(ground state +1 +1 +1) of the handbook's 3-qubit example with offset o on
 * qubit 2. */
static void three_qubit(double o, const char *trotter, double *p2, double *pg)
{
    const long ed[2][2] = {{0, 1}, {1, 2}};
    const double J[2] = {-1, -1}, h[3] = {0, 0.9, -1};
    struct bm *bm = ising(3, 2, ed, h, J);
    struct sched sc;
    sched_init(&sc);
    sched_forward(&sc, 20);
    if (o != 0) assert_int_equal(sched_set_offset(&sc, 2, o), 0);
    struct sampler *s = sqa_exact(31, trotter);
    struct samples r;
    draw(s, bm, READS, &sc, &r);
    long up = 0, gs = 0;
    for (long c = 0; c < r.count; c++) {
        up += r.z[c * 3 + 2];
        gs += r.z[c * 3] && r.z[c * 3 + 1] && r.z[c * 3 + 2];
    }
    *p2 = (double)up / (double)r.count;
    *pg = (double)gs / (double)r.count;
    samples_free(&r);
    sampler_free(s);
    bm_free(bm);
}

static void test_offset_advances_freeze(void **state)
{
    const char *paths[2] = {"8", "16"};   /* the kernel's ring walk and its vector path */
    for (int k = 0; k < 2; k++) {
        double p0, g0, pa, ga, pd, gd;
        three_qubit(0, paths[k], &p0, &g0);
        three_qubit(0.2, paths[k], &pa, &ga);
        three_qubit(-0.2, paths[k], &pd, &gd);
        print_message("P = %s: P(σ2 = +1) no offset %.3f, advanced +0.2 %.3f, delayed −0.2 %.3f; "
                      "P(ground) %.3f, %.3f, %.3f\n", paths[k], p0, pa, pd, g0, ga, gd);
        double se = sqrt(0.25 / READS);
        assert_true(pa > p0 + 8 * se);    /* advanced: follows its own field */
        assert_true(ga > g0 + 8 * se);
        assert_true(pd < pa - 8 * se);
    }
}

static void test_flux_bias_field(void **state)
{
    const long ed[1][2] = {{0, 1}};
    const double J[1] = {0}, h0[2] = {0, 0};
    struct sched sc;
    sched_init(&sc);
    sched_forward(&sc, 20);
    struct freezeout fo;
    const struct solver_props *sp = solver_defaults();
    const struct anneal_table *t = anneal_table_for(sp);
    assert_int_equal(anneal_freezeout(&sc, sp, t, &fo), 0);
    /* flux Φ equivalent to h = −0.1 at s* (dwave-system: B/2 h = −I_p Φ0 Φ) */
    double mafm = sqa_mafm_ph(sp->name) * 1e-12;
    double ip = sqrt(anneal_B(t, fo.s_star) * 1e9 * ANNEAL_H_PLANCK / (2 * mafm));
    double heq = -0.1, phi = -heq * mafm * ip / SQA_PHI0;
    struct sched sf;
    sched_copy(&sf, &sc);
    assert_int_equal(sched_set_flux(&sf, 0, phi), 0);
    const double hh[2] = {heq, 0};
    struct bm *bz = ising(2, 1, ed, h0, J), *bh = ising(2, 1, ed, hh, J);
    struct samples a, b;
    struct sampler *s1 = sqa_exact(41, "8"), *s2 = sqa_exact(42, "8");
    draw(s1, bz, READS, &sf, &a);
    draw(s2, bh, READS, &sc, &b);
    double ma = mag(&a, 0), mb = mag(&b, 0), m1 = mag(&a, 1);
    print_message("flux bias %.3g Φ0 (≙ h = %g at s* = %.3f): ⟨σ0⟩ %.3f; with that h instead %.3f; "
                  "unbiased qubit %.3f\n", phi, heq, fo.s_star, ma, mb, m1);
    assert_true(phi > 0 && phi < 1e-3);
    assert_true(ma > 0.25);                       /* Φ > 0 favours σ = +1, as h < 0 does */
    assert_true(fabs(ma - mb) < 0.12);            /* quasi-static equivalence at freeze-out */
    assert_true(fabs(m1) < 5 / sqrt((double)READS));
    samples_free(&a); samples_free(&b);
    sampler_free(s1); sampler_free(s2);
    bm_free(bz); bm_free(bh);
}

static void expect_refused(struct sampler *s, const struct bm *bm, const struct sched *sc, const char *what)
{
    struct sample_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.schedule = sc;
    struct samples o;
    samples_init(&o);
    assert_int_equal(sampler_sample(s, bm, 1.0, 4, &ctx, &o), -1);
    if (!strstr(qv_errmsg(), what)) fail_msg("expected '%s' in: %s", what, qv_errmsg());
    assert_non_null(strstr(qv_errmsg(), "fast anneal"));
    samples_free(&o);
}

static void test_fast_anneal(void **state)
{
    const long ed[2][2] = {{0, 1}, {1, 2}};
    const double J[2] = {-1, 0.5}, h0[3] = {0}, h1[3] = {0.3, 0, 0};
    struct bm *bm = ising(3, 2, ed, h0, J), *bh = ising(3, 2, ed, h1, J);
    struct sched f;
    sched_init(&f);
    sched_forward(&f, 0.05);
    struct sched_violation v[4];
    assert_int_equal(sched_validate(&f, NULL, v, 4), 1);     /* standard protocol: too steep */
    assert_int_equal(v[0].rule, SCHED_RULE_SLOPE);
    f.ctl.fast_anneal = true;
    assert_int_equal(sched_validate(&f, NULL, v, 4), 0);     /* fast_anneal_time_range [0.005, …] */
    struct sampler *s = sqa_exact(51, "8");
    struct samples o;
    draw(s, bm, 200, &f, &o);
    assert_non_null(strstr(o.info, "fast anneal"));
    assert_non_null(strstr(o.info, "over 0.05 µs"));
    samples_free(&o);
    struct sched bad;
    sched_copy(&bad, &f);
    sched_add(&bad, 0.02, 0.5);
    expect_refused(s, bm, &bad, "exactly 2 points");
    expect_refused(s, bh, &f, "linear biases");
    sched_copy(&bad, &f);
    sched_forward(&bad, 0.004);
    expect_refused(s, bm, &bad, "slope");
    sched_copy(&bad, &f);
    const struct sched_point g[2] = {{0, 1}, {0.05, 1}};
    sched_set_hgain(&bad, g, 2);
    expect_refused(s, bm, &bad, "h_gain");
    sched_init(&bad);
    bad.ctl.fast_anneal = true;
    bad.initial_state = true;
    const struct sched_point rev[2] = {{0, 1}, {0.05, 1}};
    sched_set_points(&bad, rev, 2);
    expect_refused(s, bm, &bad, "reverse");
    sampler_free(s);
    bm_free(bm);
    bm_free(bh);
}

/* Offsets, h-gain and flux biases together: the same samples on every SIMD path. */
static void test_controls_identical_paths(void **state)
{
    const long ed[4][2] = {{0, 1}, {1, 2}, {0, 2}, {2, 3}};
    const double J[4] = {0.5, 0.5, 0.5, -0.7}, h[4] = {0.2, -0.6, 0.4, 0.1};
    struct bm *bm = ising(4, 4, ed, h, J);
    struct sched sc;
    sched_init(&sc);
    sched_forward(&sc, 10);
    const struct sched_point g[3] = {{0, 0.5}, {5, 1.5}, {10, 1}};
    sched_set_hgain(&sc, g, 3);
    sched_set_offset(&sc, 1, 0.1);
    sched_set_offset(&sc, 3, -0.05);
    sched_set_flux(&sc, 2, 2e-5);
    uint8_t *first = NULL;
    int npaths = 0;
    for (int isa = 0; isa < SIMD_NISA; isa++) {
        if (simd_select((enum simd_isa)isa)) continue;
        struct sampler *s = sqa_exact(61, "16");
        struct samples o;
        draw(s, bm, 64, &sc, &o);
        if (!first) {
            first = malloc((size_t)64 * 4);
            memcpy(first, o.z, (size_t)64 * 4);
        } else {
            assert_memory_equal(first, o.z, (size_t)64 * 4);
        }
        npaths++;
        samples_free(&o);
        sampler_free(s);
    }
    print_message("controls: identical samples on %d SIMD paths\n", npaths);
    assert_true(npaths >= 1);
    free(first);
    bm_free(bm);
}

static bool has_rule(const struct sched *s, const struct solver_props *sp, enum sched_rule r)
{
    struct sched_violation v[16];
    int n = sched_validate(s, sp, v, 16);
    for (int i = 0; i < n && i < 16; i++)
        if (v[i].rule == r) return true;
    return false;
}

static void test_validate_and_json(void **state)
{
    struct sched s;
    sched_init(&s);
    sched_forward(&s, 20);
    const struct sched_point g[3] = {{0, 0}, {10, 2}, {20, 1}};
    assert_int_equal(sched_set_hgain(&s, g, 3), 0);
    assert_false(has_rule(&s, NULL, SCHED_RULE_HGAIN));
    const struct sched_point late[2] = {{0, 1}, {25, 1}}, big[2] = {{0, 1}, {20, 4}};
    sched_set_hgain(&s, late, 2);
    assert_true(has_rule(&s, NULL, SCHED_RULE_HGAIN));        /* must end at the schedule's end */
    sched_set_hgain(&s, big, 2);
    assert_true(has_rule(&s, NULL, SCHED_RULE_HGAIN));        /* g outside [−3, 3] */
    const struct sched_point unordered[2] = {{5, 1}, {1, 1}};
    assert_int_equal(sched_set_hgain(&s, unordered, 2), -1);
    assert_non_null(strstr(qv_errmsg(), "h-gain"));
    sched_set_hgain(&s, g, 3);
    /* offsets against a solver's per-qubit ranges; q = 30 of Advantage_system4.1 is active */
    struct solver_props *adv = solver_load("Advantage_system4.1");
    assert_non_null(adv);
    assert_true(adv->n_anneal_offset_ranges > 30);
    double hi = adv->anneal_offset_ranges[30][1];
    assert_int_equal(sched_set_offset(&s, 30, hi / 2), 0);
    assert_false(has_rule(&s, adv, SCHED_RULE_OFFSET));
    assert_int_equal(sched_set_offset(&s, 30, hi + 0.1), 0);
    assert_true(has_rule(&s, adv, SCHED_RULE_OFFSET));
    assert_int_equal(sched_set_offset(&s, 30, hi / 2), 0);
    assert_int_equal(sched_set_offset(&s, -1, 0.1), -1);
    assert_int_equal(sched_set_flux(&s, 7, NAN), -1);
    assert_int_equal(sched_set_flux(&s, 7, 1e-4), 0);
    assert_int_equal(sched_set_offset(&s, 12, 0.05), 0);
    assert_int_equal(sched_set_offset(&s, 12, 0), 0);          /* 0 clears */
    assert_int_equal(s.ctl.noff, 1);
    /* JSON round trip */
    cJSON *o = sched_to_cjson(&s);
    struct sched r;
    sched_init(&r);
    assert_int_equal(sched_from_cjson(&r, o), 0);
    cJSON_Delete(o);
    assert_int_equal(r.ctl.nhg, 3);
    assert_true(r.ctl.hg[1].t == 10 && r.ctl.hg[1].s == 2);
    assert_true(sched_offset_of(&r, 30) == hi / 2);
    assert_true(sched_flux_of(&r, 7) == 1e-4);
    assert_true(sched_hgain_at(&r, 5) == 1.0 && sched_hgain_at(&r, 15) == 1.5);
    const char *badj = "{\"anneal_schedule\": [[0,0],[20,1]], \"anneal_offsets\": [[3, \"x\"]]}";
    assert_int_equal(sched_from_json_text(&r, badj, strlen(badj)), -1);
    assert_non_null(strstr(qv_errmsg(), "anneal_offsets"));
    solver_free(adv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_and_json),
        cmocka_unit_test(test_fast_anneal),
        cmocka_unit_test(test_controls_identical_paths),
        cmocka_unit_test(test_hgain_zero_ignores_h),
        cmocka_unit_test(test_offset_advances_freeze),
        cmocka_unit_test(test_flux_bias_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
