/* test_bm.c — Boltzmann machines: Ising <-> binary conversion (energies equal up to the offset on
 * random states, exact round trip), batch energies and statistics against hand computation,
 * exact log Z / probabilities / marginals against a brute-force enumeration written here
 * independently (direct energy of every state, no Gray code), exact sampling (deterministic,
 * thread-count independent, statistically right), NaN/Inf and size errors, the binary form. */
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

#include "bm.h"
#include "rng.h"

/* A random BM on a connected cut of n units from a topology, parameters ~ U(-s, s). */
static struct bm *random_bm(int topo, int n, uint64_t seed, double s)
{
    return test_random_cut_bm(topo, n, seed, s, 99);
}

/* Brute force, independent of bm.c: energy of state bits x from the edge list. */
static double bf_energy(const struct bm *bm, uint64_t x)
{
    double e = 0;
    for (int i = 0; i < bm->n; i++) if ((x >> i) & 1) e -= bm->b[i];
    for (long k = 0; k < bm->ne; k++)
        if (((x >> bm->g->edges[k][0]) & 1) && ((x >> bm->g->edges[k][1]) & 1)) e -= bm->w[k];
    return e;
}

static double bf_logz(const struct bm *bm, double beta)
{
    uint64_t N = 1ull << bm->n;
    double m = -INFINITY;
    for (uint64_t x = 0; x < N; x++) m = fmax(m, -beta * bf_energy(bm, x));
    long double s = 0;
    for (uint64_t x = 0; x < N; x++) s += expl(-beta * bf_energy(bm, x) - m);
    return m + (double)logl(s);
}

static void test_ising_conversion(void **st)
{
    (void)st;
    struct rng r;
    rng_init(&r, 5, 0);
    for (int topo = 0; topo < 3; topo++) {
        struct bm *bm = random_bm(topo, 20, 11 + topo, 1.5);
        double *h = malloc(bm->n * sizeof(double)), *J = malloc(bm->ne * sizeof(double)), off;
        bm_to_ising(bm, h, J, &off);
        uint8_t z[64];
        for (int t = 0; t < 200; t++) {
            for (int i = 0; i < bm->n; i++) z[i] = rng_u64(&r) & 1;
            double es = off;
            for (int i = 0; i < bm->n; i++) es += h[i] * (2 * z[i] - 1);
            for (long k = 0; k < bm->ne; k++)
                es += J[k] * (2 * z[bm->g->edges[k][0]] - 1) * (2 * z[bm->g->edges[k][1]] - 1);
            assert_float_equal(bm_energy(bm, z), es, 1e-12);
        }
        /* spot check the published formulas */
        assert_float_equal(J[0], -bm->w[0] / 4, 0);
        double hi = -bm->b[0] / 2;
        for (long a = bm->g->adj_start[0]; a < bm->g->adj_start[1]; a++) hi -= bm->w[bm->g->adj_edge[a]] / 4;
        assert_float_equal(h[0], hi, 1e-14);
        /* round trip */
        struct bm *c = bm_clone(bm);
        memset(c->b, 0, bm->n * sizeof(double));
        memset(c->w, 0, bm->ne * sizeof(double));
        bm_from_ising(c, h, J);
        for (int i = 0; i < bm->n; i++) assert_float_equal(c->b[i], bm->b[i], 1e-13);
        for (long k = 0; k < bm->ne; k++) assert_float_equal(c->w[k], bm->w[k], 1e-13);
        bm_free(c);
        free(h); free(J);
        bm_free(bm);
    }
}

static void test_energy_stats(void **st)
{
    (void)st;
    /* path 0-1-2 with b = (1, -2, 0.5), W01 = 3, W12 = -1 */
    long e[][2] = {{0, 1}, {1, 2}};
    struct bm *bm = bm_new(graph_from_edges(3, NULL, 2, (const long (*)[2])e));
    bm->b[0] = 1; bm->b[1] = -2; bm->b[2] = 0.5;
    bm->w[graph_edge_index(bm->g, 0, 1)] = 3;
    bm->w[graph_edge_index(bm->g, 1, 2)] = -1;
    uint8_t z[4 * 3] = {0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
    double en[4];
    bm_energy_batch(bm, z, 4, en);
    assert_float_equal(en[0], 0, 0);
    assert_float_equal(en[1], -(1 - 2) - 3, 1e-15);            /* 2 - 3 = -2 */
    assert_float_equal(en[2], -(1 - 2 + 0.5) - 3 + 1, 1e-15);  /* -1.5 */
    assert_float_equal(en[3], -(-2 + 0.5) + 1, 1e-15);         /* 2.5 */
    float zf[12];
    for (int i = 0; i < 12; i++) zf[i] = z[i];
    double ef[4];
    bm_energy_f(bm, zf, 4, ef);
    for (int i = 0; i < 4; i++) assert_float_equal(ef[i], en[i], 1e-12);
    /* relaxed state: E = -(b·z) - Σ W z_i z_j with z = (0.5, 0.25, 1) */
    float zr[3] = {0.5f, 0.25f, 1.0f};
    bm_energy_f(bm, zr, 1, ef);
    assert_float_equal(ef[0], -(0.5 - 0.5 + 0.5) - 3 * 0.125 + 0.25, 1e-12);
    double mean[3], corr[2];
    bm_stats(bm, z, 4, mean, corr);
    assert_float_equal(mean[0], 0.5, 0);    /* states 110, 111 */
    assert_float_equal(mean[1], 0.75, 0);   /* 110, 111, 011 */
    assert_float_equal(mean[2], 0.5, 0);    /* 111, 011 */
    assert_float_equal(corr[0], 0.5, 0);    /* z0 z1: 110, 111 */
    assert_float_equal(corr[1], 0.5, 0);    /* z1 z2: 111, 011 */
    double mf[3], cf[2];
    bm_stats_f(bm, zf, 4, mf, cf);
    assert_memory_equal(mf, mean, sizeof mf);
    assert_memory_equal(cf, corr, sizeof cf);
    bm_stats(bm, z, 0, mean, corr);
    assert_float_equal(mean[0], 0, 0);
    bm_free(bm);
}

static void test_exact_vs_bruteforce(void **st)
{
    (void)st;
    /* sizes cover the single-chunk (n <= 14) and multi-chunk paths */
    /* scale 40 pushes β f beyond ±600: the general (softplus) path instead of the fast one */
    const int sizes[] = {1, 5, 12, 16, 18};
    for (int big = 0; big < 2; big++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int topo = 0; topo < 3; topo++) {
            int n = sizes[si];
            struct bm *bm = random_bm(topo, n, 100 + si * 3 + topo + 50 * big, big ? 40.0 : 1.0);
            for (int bi = 0; bi < 2; bi++) {
                double beta = bi ? 3.0 : 1.0;
                double lz, ref = bf_logz(bm, beta);
                assert_int_equal(bm_logz_exact(bm, beta, &lz), 0);
                assert_float_equal(lz, ref, 1e-9 * fmax(1, fabs(ref)));
                size_t N = (size_t)1 << n;
                double *p = malloc(N * sizeof(double));
                assert_int_equal(bm_probs_exact(bm, beta, p), 0);
                double mean_bf[32] = {0}, *corr_bf = calloc(bm->ne + 1, sizeof(double));
                double sum = 0;
                for (size_t x = 0; x < N; x++) {
                    double q = exp(-beta * bf_energy(bm, x) - ref);
                    assert_float_equal(p[x], q, 1e-9 * q + 1e-300);
                    sum += p[x];
                    for (int i = 0; i < n; i++) if ((x >> i) & 1) mean_bf[i] += q;
                    for (long k = 0; k < bm->ne; k++)
                        if (((x >> bm->g->edges[k][0]) & 1) && ((x >> bm->g->edges[k][1]) & 1)) corr_bf[k] += q;
                }
                assert_float_equal(sum, 1.0, 1e-9);
                double mean[32], *corr = calloc(bm->ne + 1, sizeof(double));
                assert_int_equal(bm_marginals_exact(bm, beta, mean, corr), 0);
                for (int i = 0; i < n; i++) assert_float_equal(mean[i], mean_bf[i], 1e-9);
                for (long k = 0; k < bm->ne; k++) assert_float_equal(corr[k], corr_bf[k], 1e-9);
                free(p); free(corr); free(corr_bf);
            }
            bm_free(bm);
        }
    /* hand-computable: independent units, log Z = Σ log(1 + e^{β b_i}) */
    struct bm *bm = bm_new(graph_from_edges(20, NULL, 0, NULL));
    double want = 0;
    for (int i = 0; i < 20; i++) { bm->b[i] = 0.3 * i - 2; want += log1p(exp(2 * bm->b[i])); }
    double lz, mean[20];
    assert_int_equal(bm_logz_exact(bm, 2.0, &lz), 0);
    assert_float_equal(lz, want, 1e-10);
    assert_int_equal(bm_marginals_exact(bm, 2.0, mean, NULL), 0);
    for (int i = 0; i < 20; i++) assert_float_equal(mean[i], 1 / (1 + exp(-2 * bm->b[i])), 1e-10);
    bm_free(bm);
    /* zero parameters: log Z = n log 2 at any β */
    bm = bm_new(graph_chimera(1, 2, 4));
    assert_int_equal(bm_logz_exact(bm, 5.0, &lz), 0);
    assert_float_equal(lz, 16 * log(2.0), 1e-12);
    bm_free(bm);
}

static void test_threads_identical(void **st)
{
    (void)st;
    struct bm *bm = random_bm(1, 20, 7, 1.0);
    double l1, l2, m1[20], m2[20], *c1 = malloc(bm->ne * sizeof(double)), *c2 = malloc(bm->ne * sizeof(double));
    bm_set_exact_threads(1);
    assert_int_equal(bm_logz_exact(bm, 1.3, &l1), 0);
    assert_int_equal(bm_marginals_exact(bm, 1.3, m1, c1), 0);
    uint8_t *z1 = malloc(5000 * 20), *z2 = malloc(5000 * 20);
    struct rng r;
    rng_init(&r, 42, 0);
    assert_int_equal(bm_sample_exact(bm, 1.3, 5000, &r, z1), 0);
    bm_set_exact_threads(2);
    assert_int_equal(bm_logz_exact(bm, 1.3, &l2), 0);
    assert_int_equal(bm_marginals_exact(bm, 1.3, m2, c2), 0);
    rng_init(&r, 42, 0);
    assert_int_equal(bm_sample_exact(bm, 1.3, 5000, &r, z2), 0);
    bm_set_exact_threads(0);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(m1, m2, sizeof m1);
    assert_memory_equal(c1, c2, bm->ne * sizeof(double));
    assert_memory_equal(z1, z2, 5000 * 20);
    free(z1); free(z2); free(c1); free(c2);
    bm_free(bm);
}

static void test_sample_exact(void **st)
{
    (void)st;
    /* small model: empirical distribution vs exact, total variation; 8 units = 256 states,
     * 2e5 samples: expected TV ≈ 0.5 Σ sqrt(2p/(πN)) <= 0.02 */
    for (int topo = 0; topo < 3; topo++) {
        struct bm *bm = random_bm(topo, 8, 300 + topo, 1.0);
        long N = 200000;
        uint8_t *z = malloc((size_t)N * 8);
        struct rng r;
        rng_init(&r, 9, topo);
        assert_int_equal(bm_sample_exact(bm, 1.0, N, &r, z), 0);
        double p[256], cnt[256] = {0};
        assert_int_equal(bm_probs_exact(bm, 1.0, p), 0);
        for (long s = 0; s < N; s++) {
            int x = 0;
            for (int i = 0; i < 8; i++) { assert_true(z[s * 8 + i] <= 1); x |= z[s * 8 + i] << i; }
            cnt[x]++;
        }
        double tv = 0;
        for (int x = 0; x < 256; x++) tv += fabs(cnt[x] / N - p[x]);
        tv /= 2;
        assert_true(tv < 0.03);
        /* the samples are shuffled: the first and second halves have the same statistics */
        double m1 = 0, m2 = 0;
        for (long s = 0; s < N / 2; s++) { m1 += z[s * 8]; m2 += z[(s + N / 2) * 8]; }
        double pm = 0;
        for (int x = 0; x < 256; x++) if (x & 1) pm += p[x];
        double sd = sqrt(pm * (1 - pm) / (N / 2));
        assert_true(fabs(m1 / (N / 2) - pm) < 5 * sd);
        assert_true(fabs(m2 / (N / 2) - pm) < 5 * sd);
        free(z);
        bm_free(bm);
    }
    /* multi-chunk path (20 units): sample means within 5 sigma of the exact marginals */
    struct bm *bm = random_bm(0, 20, 77, 1.0);
    long N = 100000;
    uint8_t *z = malloc((size_t)N * 20);
    struct rng r;
    rng_init(&r, 10, 0);
    assert_int_equal(bm_sample_exact(bm, 3.0, N, &r, z), 0);
    double mean[20], *corr = malloc(bm->ne * sizeof(double)), sm[20], *sc = malloc(bm->ne * sizeof(double));
    assert_int_equal(bm_marginals_exact(bm, 3.0, mean, corr), 0);
    bm_stats(bm, z, N, sm, sc);
    for (int i = 0; i < 20; i++) assert_true(fabs(sm[i] - mean[i]) < 5 * sqrt(mean[i] * (1 - mean[i]) / N) + 1e-9);
    for (long k = 0; k < bm->ne; k++) assert_true(fabs(sc[k] - corr[k]) < 5 * sqrt(corr[k] * (1 - corr[k]) / N) + 1e-9);
    /* energies of samples agree with a direct evaluation */
    double e = bm_energy(bm, z);
    uint64_t x = 0;
    for (int i = 0; i < 20; i++) x |= (uint64_t)z[i] << i;
    assert_float_equal(e, bf_energy(bm, x), 1e-12);
    assert_int_equal(bm_sample_exact(bm, 3.0, 0, &r, z), 0);
    assert_int_equal(bm_sample_exact(bm, 3.0, -1, &r, z), -1);
    free(z); free(corr); free(sc);
    bm_free(bm);
}

static void test_bad_input(void **st)
{
    (void)st;
    struct bm *bm = random_bm(0, 12, 5, 1.0);
    double lz, mean[12], corr[64];
    assert_int_equal(bm_check_finite(bm), 0);
    bm->b[3] = NAN;
    assert_int_equal(bm_check_finite(bm), -1);
    assert_non_null(strstr(qv_errmsg(), "b[3]"));
    assert_non_null(strstr(qv_errmsg(), "NaN"));
    assert_int_equal(bm_logz_exact(bm, 1.0, &lz), -1);
    bm->b[3] = 0;
    bm->w[2] = -INFINITY;
    assert_int_equal(bm_check_finite(bm), -1);
    assert_non_null(strstr(qv_errmsg(), "infinite"));
    assert_int_equal(bm_marginals_exact(bm, 1.0, mean, corr), -1);
    bm->w[2] = 0;
    assert_int_equal(bm_logz_exact(bm, NAN, &lz), -1);
    assert_int_equal(bm_random(bm, NAN, 1), -1);
    assert_int_equal(bm_random(bm, -1, 1), -1);
    bm_free(bm);
    bm = bm_new(graph_chimera(4, 4, 4));   /* 128 units: 64 left after summing out a class */
    assert_int_equal(bm_logz_exact(bm, 1.0, &lz), -1);
    assert_non_null(strstr(qv_errmsg(), "28"));
    assert_int_equal(bm_marginals_exact(bm, 1.0, NULL, NULL), -1);
    bm_free(bm);
    bm = bm_new(graph_chimera(2, 2, 4));   /* 32 units: fine for log Z, not for 2^32 probabilities */
    assert_int_equal(bm_probs_exact(bm, 1.0, NULL), -1);
    assert_non_null(strstr(qv_errmsg(), "28"));
    bm_free(bm);
    assert_null(bm_new(graph_chimera(0, 1, 1)));
}

static void test_random_and_blob(void **st)
{
    (void)st;
    struct bm *bm = bm_new(graph_pegasus(3, PEGASUS_NICE));
    assert_int_equal(bm_random(bm, 0.5, 123), 0);
    struct bm_ranges r;
    bm_ranges(bm, &r);
    assert_true(r.hmin >= -0.5 && r.hmax <= 0.5 && r.jmin >= -0.5 && r.jmax <= 0.5);
    assert_true(r.jmax - r.jmin > 0.5);   /* spread, not constant */
    assert_float_equal(r.wmin, -4 * r.jmax, 1e-12);
    struct bm *b2 = bm_new(graph_pegasus(3, PEGASUS_NICE));
    bm_random(b2, 0.5, 123);
    assert_memory_equal(b2->b, bm->b, bm->n * sizeof(double));
    assert_memory_equal(b2->w, bm->w, bm->ne * sizeof(double));
    bm_free(b2);
    unsigned char *buf;
    size_t len;
    assert_int_equal(bm_serialize(bm, &buf, &len), 0);
    struct bm *c = bm_deserialize(buf, len);
    assert_non_null(c);
    assert_int_equal(c->n, bm->n);
    assert_memory_equal(c->b, bm->b, bm->n * sizeof(double));
    assert_memory_equal(c->w, bm->w, bm->ne * sizeof(double));
    assert_string_equal(c->g->desc, "pegasus 3 nice");
    bm_free(c);
    assert_null(bm_deserialize(buf, len - 8));
    double nan = NAN;
    memcpy(buf + len - 8, &nan, 8);
    assert_null(bm_deserialize(buf, len));
    free(buf);
    bm_free(bm);
}

/* Independent reference for bipartite models beyond brute force: enumerate colour class `keep`
 * (2^|keep| states, direct energies) and sum the other class out analytically. */
static double rbm_logz(const struct bm *bm, double beta, int keep)
{
    const struct graph *g = bm->g;
    int A[64], nA = 0;
    for (int i = 0; i < bm->n; i++) if (g->color[i] == keep) A[nA++] = i;
    double m = -INFINITY, *x = malloc(((size_t)1 << nA) * sizeof(double));
    uint8_t z[64];
    for (uint64_t s = 0; s < (1ull << nA); s++) {
        memset(z, 0, sizeof z);
        for (int q = 0; q < nA; q++) z[A[q]] = (s >> q) & 1;
        double v = -beta * bm_energy(bm, z);   /* other class at 0 */
        for (int j = 0; j < bm->n; j++) {
            if (g->color[j] == keep) continue;
            double f = bm->b[j];
            for (long a = g->adj_start[j]; a < g->adj_start[j + 1]; a++)
                if (z[g->adj[a]]) f += bm->w[g->adj_edge[a]];
            v += log1p(exp(beta * f));
        }
        x[s] = v;
        m = fmax(m, v);
    }
    double sum = 0;
    for (uint64_t s = 0; s < (1ull << nA); s++) sum += exp(x[s] - m);
    free(x);
    return m + log(sum);
}

/* 32- and 40-unit Chimera models (beyond 2^28 states): log Z against the independent reference
 * that keeps the other colour class; marginals against finite differences of that reference
 * (d log Z / d b_i = β <z_i>, d log Z / d W_ij = β <z_i z_j>); sample means against marginals. */
static void test_large_exact(void **st)
{
    (void)st;
    struct graph *g = graph_chimera(2, 2, 4);
    struct bm *bm = bm_new(g);
    assert_int_equal(bm_exact_enum_units(bm), 16);
    double lz;
    assert_int_equal(bm_logz_exact(bm, 1.0, &lz), 0);
    assert_float_equal(lz, 32 * log(2.0), 1e-10);
    bm_random(bm, 1.0, 17);
    for (int bi = 0; bi < 2; bi++) {
        double beta = bi ? 3.0 : 1.0;
        assert_int_equal(bm_logz_exact(bm, beta, &lz), 0);
        double r0 = rbm_logz(bm, beta, 0), r1 = rbm_logz(bm, beta, 1);
        assert_float_equal(r0, r1, 1e-9 * fabs(r0));
        assert_float_equal(lz, r1, 1e-9 * fabs(r1));
        double mean[32], corr[128];
        assert_int_equal(bm_marginals_exact(bm, beta, mean, corr), 0);
        const double h = 1e-5;
        for (int i = 0; i < 32; i += 7) {
            double b0 = bm->b[i];
            bm->b[i] = b0 + h; double up = rbm_logz(bm, beta, 1);
            bm->b[i] = b0 - h; double dn = rbm_logz(bm, beta, 1);
            bm->b[i] = b0;
            assert_float_equal(mean[i], (up - dn) / (2 * h * beta), 1e-6);
        }
        for (long k = 0; k < bm->ne; k += 15) {
            double w0 = bm->w[k];
            bm->w[k] = w0 + h; double up = rbm_logz(bm, beta, 1);
            bm->w[k] = w0 - h; double dn = rbm_logz(bm, beta, 1);
            bm->w[k] = w0;
            assert_float_equal(corr[k], (up - dn) / (2 * h * beta), 1e-6);
        }
        long N = 40000;
        uint8_t *zs = malloc((size_t)N * 32);
        struct rng r;
        rng_init(&r, 3, bi);
        assert_int_equal(bm_sample_exact(bm, beta, N, &r, zs), 0);
        double sm[32], *sc = malloc(bm->ne * sizeof(double));
        bm_stats(bm, zs, N, sm, sc);
        for (int i = 0; i < 32; i++) assert_true(fabs(sm[i] - mean[i]) < 5 * sqrt(mean[i] * (1 - mean[i]) / N) + 1e-9);
        for (long k = 0; k < bm->ne; k++) assert_true(fabs(sc[k] - corr[k]) < 5 * sqrt(corr[k] * (1 - corr[k]) / N) + 1e-9);
        free(zs); free(sc);
    }
    bm_free(bm);
    /* a 40-unit connected cut of C(4,4,4): thread counts agree bit for bit */
    struct graph *c4 = graph_chimera(4, 4, 4);
    bm = bm_new(graph_random_connected_subgraph(c4, 40, 8));
    graph_free(c4);
    bm_random(bm, 1.0, 4);
    assert_true(bm_exact_enum_units(bm) <= 24);
    double l1, l2, l12;
    bm_set_exact_threads(1);
    assert_int_equal(bm_logz_exact(bm, 1.0, &l1), 0);
    bm_set_exact_threads(2);
    assert_int_equal(bm_logz_exact(bm, 1.0, &l2), 0);
    bm_set_exact_threads(12);   /* more threads than cores, and than the old pool's 8 slots */
    assert_int_equal(bm_logz_exact(bm, 1.0, &l12), 0);
    bm_set_exact_threads(0);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(&l1, &l12, sizeof l1);
    bm_free(bm);
}

/* Corrupted or truncated blobs (as a damaged session could hold) are refused or give a valid
 * model, never a crash: random byte flips and every truncation length. */
static void test_corrupt_blobs(void **st)
{
    (void)st;
    struct bm *bm = random_bm(2, 14, 3, 1.0);
    unsigned char *buf;
    size_t len;
    assert_int_equal(bm_serialize(bm, &buf, &len), 0);
    unsigned char *c = malloc(len);
    struct rng r;
    rng_init(&r, 1, 2);
    int ok = 0;
    for (int t = 0; t < 3000; t++) {
        memcpy(c, buf, len);
        int nflip = 1 + (int)rng_below(&r, 3);
        for (int f = 0; f < nflip; f++) c[rng_below(&r, len)] ^= (unsigned char)(1 + rng_below(&r, 255));
        struct bm *x = bm_deserialize(c, len);
        if (x) {
            ok++;
            assert_true(graph_coloring_ok(x->g));
            double lz;
            /* finite but absurd parameters are refused by name, never a NaN log Z */
            if (bm_logz_exact(x, 1.0, &lz) == 0) assert_true(isfinite(lz));
            else assert_non_null(strstr(qv_errmsg(), "too large"));
            bm_free(x);
        }
    }
    for (size_t l = 0; l < len; l += 7) assert_null(bm_deserialize(buf, l));
    (void)ok;
    free(c);
    free(buf);
    bm_free(bm);
}

/* Weighted statistics: a sample of weight e^{log 3} counts as three copies (the shift by the
 * largest log-weight cancels); no weights is bm_stats. */
static void test_stats_weighted(void **state)
{
    (void)state;
    struct bm *bm = bm_new(graph_chimera(1, 1, 2));
    const int n = bm->n;
    uint8_t z[3 * 4] = {1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0}, zd[5 * 4];
    const double logw[3] = {log(3.0) + 700, 700, 700};   /* huge but equal shifts: no overflow */
    const int copies[3] = {3, 1, 1};
    int k = 0;
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < copies[s]; c++, k++) memcpy(zd + k * n, z + s * n, (size_t)n);
    double mw[4], cw[4], md[4], cd[4];
    bm_stats_weighted(bm, z, logw, 3, mw, cw);
    bm_stats(bm, zd, 5, md, cd);
    for (int i = 0; i < n; i++) assert_true(fabs(mw[i] - md[i]) < 1e-12);
    for (long e = 0; e < bm->ne; e++) assert_true(fabs(cw[e] - cd[e]) < 1e-12);
    bm_stats_weighted(bm, z, NULL, 3, mw, cw);
    bm_stats(bm, z, 3, md, cd);
    assert_memory_equal(mw, md, sizeof(double) * (size_t)n);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ising_conversion),
        cmocka_unit_test(test_energy_stats),
        cmocka_unit_test(test_exact_vs_bruteforce),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_sample_exact),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_random_and_blob),
        cmocka_unit_test(test_corrupt_blobs),
        cmocka_unit_test(test_large_exact),
        cmocka_unit_test(test_stats_weighted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
