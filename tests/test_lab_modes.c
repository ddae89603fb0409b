/* test_lab_modes.c — modes of a prior (lab_modes.h) against known truth.
 *
 * Planted clusters: Chimera C(1,3,3) (3 cells of K_{3,3}, 18 units), ferromagnetic Ising
 * couplings J = −1 inside each cell, none between cells, one field h_c per cell.  The local
 * minima are exactly the 2³ states with every cell aligned (any other state has a unit whose
 * flip lowers the energy), and at β = 3 a state one flip away costs ΔE ≥ 6, so basin masses are
 * the aligned states' probabilities to ~1e-7: cell c is up with probability 1/(1 + e^{12βh_c})
 * and cells are independent.  Both the exact table (2^18 states descended) and the estimate from
 * exact samples must match that product; energies must differ by Σ 12 h_c over the cells up.
 * Descent on a random frustrated cut: every mode is a local minimum, descent never raises the
 * energy, a minimum does not move.  Visits and tunnelling: hand-made chains of known minima. */
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

#include "lab_modes.h"

static const double H[3] = {0.03, -0.05, 0.0};
static const double BETA = 3.0;

static struct bm *planted(int *cell)
{
    struct bm *bm = bm_new(graph_chimera(1, 3, 3));
    assert_non_null(bm);
    double *h = calloc((size_t)bm->n, sizeof(double)), *J = calloc((size_t)bm->ne, sizeof(double));
    for (int i = 0; i < bm->n; i++) {
        int c[4];
        assert_int_equal(graph_linear_to_chimera(1, 3, 3, bm->g->label[i], c), 0);
        cell[i] = c[0] * 3 + c[1];
        h[i] = H[cell[i]];
    }
    for (long e = 0; e < bm->ne; e++)
        if (cell[bm->g->edges[e][0]] == cell[bm->g->edges[e][1]]) J[e] = -1.0;
    bm_from_ising(bm, h, J);
    free(h); free(J);
    return bm;
}

/* Which cells of minimum z are up (bit c), or -1 when some cell is not aligned. */
static int cell_pattern(const uint8_t *z, const int *cell, int n)
{
    int up[3] = {-1, -1, -1};
    for (int i = 0; i < n; i++) {
        if (up[cell[i]] < 0) up[cell[i]] = z[i];
        else if (up[cell[i]] != z[i]) return -1;
    }
    return up[0] | up[1] << 1 | up[2] << 2;
}

static double truth_mass(int pat)
{
    double m = 1;
    for (int c = 0; c < 3; c++) {
        double pu = 1 / (1 + exp(12 * BETA * H[c]));
        m *= (pat >> c & 1) ? pu : 1 - pu;
    }
    return m;
}

static void check_table(const struct lab_modes *m, const struct bm *bm, const int *cell, bool exact)
{
    assert_int_equal(m->nmodes, 8);
    double e_down = 0, total = 0;
    for (long k = 0; k < m->nmodes; k++)
        if (cell_pattern(m->z + (size_t)k * m->n, cell, m->n) == 0) e_down = m->energy[k];
    for (long k = 0; k < m->nmodes; k++) {
        int pat = cell_pattern(m->z + (size_t)k * m->n, cell, m->n);
        assert_true(pat >= 0);
        double de = 0;
        for (int c = 0; c < 3; c++) if (pat >> c & 1) de += 12 * H[c];
        assert_float_equal(m->energy[k] - e_down, de, 1e-9);
        double want = truth_mass(pat);
        if (exact) assert_float_equal(m->mass[k], want, 1e-5);
        else assert_true(fabs(m->mass[k] - want) < 4 * m->mass_err[k] + 1e-9);
        assert_int_equal(lab_modes_find(m, m->z + (size_t)k * m->n), k);
        if (k > 0) assert_true(m->mass[k] <= m->mass[k - 1]);
        total += m->mass[k];
    }
    assert_float_equal(total, 1, 1e-9);
    double major;
    assert_int_equal(lab_modes_major(m, 0.01, &major), 8);   /* the lightest holds 1.8 % */
    assert_int_equal(lab_modes_major(m, 0.1, NULL), 4);   /* 0.32, 0.32, 0.11, 0.11 */
    (void)bm;
}

static void test_planted_exact(void **state)
{
    int cell[18];
    struct bm *bm = planted(cell);
    struct lab_modes m;
    lab_modes_init(&m);
    assert_int_equal(lab_modes_exact(&m, bm, BETA, 2), 0);
    assert_true(m.exact);
    check_table(&m, bm, cell, true);
    lab_modes_free(&m);
    bm_free(bm);
}

static void test_planted_sampled(void **state)
{
    int cell[18];
    struct bm *bm = planted(cell);
    struct samples s;
    samples_init(&s);
    const long N = 20000;
    assert_int_equal(samples_alloc(&s, bm->n, N, false), 0);
    struct rng r;
    rng_init(&r, 4, 0);
    assert_int_equal(bm_sample_exact(bm, BETA, N, &r, s.z), 0);
    struct lab_modes m;
    lab_modes_init(&m);
    assert_int_equal(lab_modes_from_samples(&m, bm, &s, 0), 0);
    assert_false(m.exact);
    assert_float_equal(m.n_eff, N, 1e-6);
    check_table(&m, bm, cell, false);
    lab_modes_free(&m);
    samples_free(&s);
    bm_free(bm);
}

static void test_descent_frustrated(void **state)
{
    struct bm *bm = test_random_cut_bm(0, 14, 6, 1.0, 3);
    struct lab_modes m;
    lab_modes_init(&m);
    assert_int_equal(lab_modes_exact(&m, bm, 1.0, 1), 0);
    assert_true(m.nmodes >= 1);
    for (long k = 0; k < m.nmodes; k++) {
        uint8_t z[14];
        memcpy(z, m.z + (size_t)k * 14, 14);
        double e = bm_energy(bm, z);
        for (int i = 0; i < 14; i++) {   /* no single flip lowers a minimum */
            z[i] ^= 1;
            assert_true(bm_energy(bm, z) >= e - 1e-9);
            z[i] ^= 1;
        }
        assert_int_equal(lab_descend(bm, z), 0);
    }
    struct rng r;
    rng_init(&r, 2, 0);
    for (int t = 0; t < 200; t++) {
        uint8_t z[14];
        for (int i = 0; i < 14; i++) z[i] = (uint8_t)(rng_u64(&r) & 1);
        double e0 = bm_energy(bm, z);
        long flips = lab_descend(bm, z);
        assert_true(bm_energy(bm, z) <= e0 + 1e-12);
        assert_true(flips == 0 || bm_energy(bm, z) < e0);
        assert_true(lab_modes_find(&m, z) >= 0);   /* every minimum reached is in the table */
    }
    lab_modes_free(&m);
    /* too large for the exact table */
    struct bm *big = bm_new(graph_chimera(2, 2, 4));
    assert_int_equal(lab_modes_exact(&m, big, 1.0, 1), -1);
    bm_free(big);
    bm_free(bm);
}

static void test_visits(void **state)
{
    int cell[18];
    struct bm *bm = planted(cell);
    struct lab_modes m;
    lab_modes_init(&m);
    assert_int_equal(lab_modes_exact(&m, bm, BETA, 1), 0);
    /* two interleaved chains of minima: chain 0 = A A B B A, chain 1 = B ×5, where A and B are
     * the two heaviest modes; a state one flip off A descends to A */
    struct samples s;
    samples_init(&s);
    assert_int_equal(samples_alloc(&s, bm->n, 10, false), 0);
    const uint8_t *A = m.z, *B = m.z + bm->n;
    const uint8_t *seq[10] = {A, B, A, B, B, B, B, B, A, B};
    for (int k = 0; k < 10; k++) memcpy(s.z + (size_t)k * bm->n, seq[k], (size_t)bm->n);
    s.z[0] ^= 1;
    struct lab_visits v;
    assert_int_equal(lab_visits(&v, &m, bm, &s, 2, 0.01, 1), 0);
    assert_int_equal(v.steps, 8);
    assert_int_equal(v.hops, 2);
    assert_float_equal(v.frac[0], 0.3, 1e-12);
    assert_float_equal(v.frac[1], 0.7, 1e-12);
    assert_int_equal(v.major, 8);
    assert_int_equal(v.covered, 2);
    assert_float_equal(v.covered_mass, m.mass[0] + m.mass[1], 1e-12);
    lab_visits_free(&v);
    /* independent draws: no chain order */
    assert_int_equal(lab_visits(&v, &m, bm, &s, 0, 0.01, 1), 0);
    assert_int_equal(v.steps, 0);
    assert_int_equal(v.hops, 0);
    lab_visits_free(&v);
    samples_free(&s);
    lab_modes_free(&m);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_exact),
        cmocka_unit_test(test_planted_sampled),
        cmocka_unit_test(test_descent_frustrated),
        cmocka_unit_test(test_visits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
