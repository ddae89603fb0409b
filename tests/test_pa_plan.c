/* test_pa_plan.c — the arithmetic of distributed population annealing (samp_pa.h), checked
 * against brute force: pa_split/pa_owner partition every run exactly (shares differ by at most
 * one, every member has one owner, also with fewer members than ranks); pa_plan's send/receive
 * counts equal those of matching the surplus children one by one, in global order, to the open
 * slots, for random counts on 1–9 ranks, agree between sender and receiver, and leave every
 * rank with its share; unequal totals and negative counts are errors; resampling split over the
 * ranks gives the one-process systematic counts (boundary rounding aside).  In one process the
 * engine's gathered samples carry the energies of their own states (packing, placement and
 * gather keep state and energy together) and reproduce themselves for a seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "samp_pa.h"
#include "graph.h"
#include "qv.h"
#include "testutil.h"

static void test_split_owner(void **st)
{
    (void)st;
    for (int size = 1; size <= 9; size++)
        for (long R = 1; R <= 40; R++) {
            long at = 0, mn = R, mx = 0;
            for (int r = 0; r < size; r++) {
                long lo, n;
                pa_split(R, size, r, &lo, &n);
                assert_int_equal(lo, at);   /* contiguous, in rank order */
                for (long i = lo; i < lo + n; i++) assert_int_equal(pa_owner(R, size, i), r);
                at += n;
                mn = QV_MIN(mn, n);
                mx = QV_MAX(mx, n);
            }
            assert_int_equal(at, R);
            assert_true(mx - mn <= 1);
        }
}

/* Brute force: list every surplus child by its rank and every open slot by its rank, both in
 * global order, and pair them one by one: M[src·size + dst] moves. */
static void brute_plan(int size, const long *have, const long *want, long *M)
{
    long nu = 0, ns = 0, tot = 0;
    for (int r = 0; r < size; r++) tot += have[r] + want[r];
    int *unit = malloc((size_t)(tot + 1) * sizeof *unit), *slot = malloc((size_t)(tot + 1) * sizeof *slot);
    for (int r = 0; r < size; r++) {
        for (long c = want[r]; c < have[r]; c++) unit[nu++] = r;
        for (long c = have[r]; c < want[r]; c++) slot[ns++] = r;
    }
    assert_int_equal(nu, ns);
    memset(M, 0, (size_t)size * size * sizeof *M);
    for (long u = 0; u < nu; u++) M[unit[u] * size + slot[u]]++;
    free(unit);
    free(slot);
}

static void test_plan_brute_force(void **st)
{
    (void)st;
    struct rng r;
    rng_init(&r, 24, 2);
    long have[9], want[9], send[9], recv[9], M[81];
    for (int trial = 0; trial < 3000; trial++) {
        int size = 1 + (int)(rng_u64(&r) % 9);
        long R = (long)(rng_u64(&r) % 60), lo;
        for (int q = 0; q < size; q++) pa_split(R, size, q, &lo, &want[q]);
        /* children: R points thrown on the ranks at random (resampling can pile them up) */
        memset(have, 0, sizeof have);
        for (long j = 0; j < R; j++) have[rng_u64(&r) % (uint64_t)size]++;
        brute_plan(size, have, want, M);
        for (int me = 0; me < size; me++) {
            assert_int_equal(pa_plan(size, have, want, me, send, recv), 0);
            long out = 0, in = 0;
            for (int q = 0; q < size; q++) {
                assert_int_equal(send[q], M[me * size + q]);
                assert_int_equal(recv[q], M[q * size + me]);
                out += send[q];
                in += recv[q];
            }
            assert_int_equal(have[me] - out + in, want[me]);
            assert_true(out == 0 || in == 0);   /* nobody both sends and receives */
            assert_int_equal(send[me], 0);
        }
    }
}

static void test_plan_errors(void **st)
{
    (void)st;
    long have[2] = {3, 2}, want[2] = {2, 2}, send[2], recv[2];
    assert_int_equal(pa_plan(2, have, want, 0, send, recv), -1);
    assert_non_null(strstr(qv_errmsg(), "5 children for 4 places"));
    long neg[2] = {-1, 5};
    assert_int_equal(pa_plan(2, neg, want, 0, send, recv), -1);
}

/* Systematic resampling split over ranks as the engine does it (each rank's weight sum, the sums
 * added in rank order, each rank counting the points on its own stretch) gives the counts of the
 * one-process resampling of the whole population — the documented algorithm — up to a point
 * that rounding moves across a rank boundary, and always exactly R children. */
static void test_split_resampling(void **st)
{
    (void)st;
    struct rng r;
    rng_init(&r, 24, 3);
    enum { RMAX = 300 };
    double w[RMAX], sums[9];
    long c1[RMAX], c2[RMAX];
    for (int trial = 0; trial < 2000; trial++) {
        int size = 1 + (int)(rng_u64(&r) % 9);
        long R = 1 + (long)(rng_u64(&r) % RMAX), lo, n;
        for (long i = 0; i < R; i++) {   /* weights as exp(−Δβ ΔE): some tiny, one exactly 1 */
            double x = rng_uniform(&r);
            w[i] = x < 0.2 ? 1e-12 * x : exp(-8 * x);
        }
        w[rng_u64(&r) % (uint64_t)R] = 1.0;
        double u = rng_uniform(&r), one = 0;
        for (long i = 0; i < R; i++) one += w[i];
        pa_count_children(w, R, 0, 0, R, u, one / (double)R, c1);
        double sum = 0;
        for (int q = 0; q < size; q++) {
            pa_split(R, size, q, &lo, &n);
            sums[q] = 0;
            for (long i = lo; i < lo + n; i++) sums[q] += w[i];
            sum += sums[q];
        }
        double step = sum / (double)R, pfx = 0;
        long last = QV_MIN(R, (long)size) - 1, total = 0, diff = 0;
        for (int q = 0; q < size; q++) {
            pa_split(R, size, q, &lo, &n);
            double nxt = pfx + sums[q];
            long j0 = q > last ? R : pa_points_below(pfx, u, step, R);
            long j1 = q >= last ? R : pa_points_below(nxt, u, step, R);
            pa_count_children(w + lo, n, pfx, j0, j1, u, step, c2 + lo);
            pfx = nxt;
        }
        for (long i = 0; i < R; i++) {
            assert_true(c2[i] >= 0);
            total += c2[i];
            diff += labs(c2[i] - c1[i]);
        }
        assert_int_equal(total, R);
        assert_true(diff <= 2 * (size - 1));
        if (size == 1) assert_memory_equal(c1, c2, (size_t)R * sizeof *c1);
    }
}

/* One process: every gathered sample's energy is E(z) of its own state, log-weights are the
 * run weights, and a second run with the same seed returns the same bits. */
static void test_engine_gather(void **st)
{
    (void)st;
    struct bm *bm = test_random_cut_bm(0, 70, 5, 1.0, 1);   /* 70 units: two state words */
    struct samples a, b;
    samples_init(&a);
    samples_init(&b);
    for (int pass = 0; pass < 2; pass++) {
        struct pa_engine P = {.beta = 1.0, .R = 37, .K = 3, .steps = 20, .sweeps = 1,
                              .resample = true, .seed = 9, .stream = 7, .threads = 2};
        assert_int_equal(pa_engine_run(&P, bm), 0);
        struct samples *s = pass ? &b : &a;
        assert_int_equal(samples_alloc(s, bm->n, 100, true), 0);
        assert_int_equal(pa_engine_gather(&P, 100, s), 0);
        for (long k = 0; k < 100; k++) {   /* 100 ≤ K·R: sample k is of run k % K */
            assert_true(fabs(s->energy[k] - bm_energy(bm, s->z + (size_t)k * bm->n)) < 1e-9);
            assert_true(fabs(s->logw[k] - (P.lnz_run[k % 3] - P.logz)) < 1e-12);
        }
        assert_true(P.families >= 3 && P.families <= 3 * 37);
        pa_engine_free(&P);
    }
    assert_memory_equal(a.z, b.z, (size_t)100 * bm->n);
    assert_memory_equal(a.energy, b.energy, 100 * sizeof(double));
    samples_free(&a);
    samples_free(&b);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_owner),
        cmocka_unit_test(test_plan_brute_force),
        cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_split_resampling),
        cmocka_unit_test(test_engine_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
