/* test_samplers.c — the classical samplers against exact enumeration (issue 3 "Correctness").
 *
 * Distribution test: on three random connected cuts (12, 14, 16 units) of Chimera, Pegasus and
 * Zephyr with random b, W ~ U(−1, 1), at β = 1 and β = 3, gibbs, pt, pa and sa (annealed from
 * D-Wave's hot β to the target β, Metropolis, long enough) each draw N = 10^5 samples and the
 * empirical histogram q̂ is compared with the exact p_β (bm_probs_exact).
 * Estimator: the plug-in KL(q̂‖p) of an N-sample histogram is biased upwards even for perfect
 * samples (≈ (support − 1)/2N, up to ~0.1 here), so the test subtracts the plug-in KL of N
 * independent exact draws (bm_sample_exact, same N) — the value a perfect sampler gets — and
 * requires the excess KL < 0.01; it also requires total variation excess < 0.02.
 * log Z: pa and ais within 0.02 nats of bm_logz_exact on the same instances; on C(6,6,4)
 * (288 units) pa and ais agree within 0.1 nats and within 4 combined standard errors.
 * The kernel's two ways to e^{−x} (the field's exp; the product of Boltzmann factors), each
 * rule, on blocks of chains directly, against the same exact p_β.
 * Reproducibility: same seed → identical bytes for every sampler, and 1 thread = 2 threads.
 * Bad input: unknown options name the accepted keys, zero samples, NaN β, bad values. */
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

#include "sampler.h"
#include "samp_kernel.h"
#include "rng.h"
#include "simd.h"

#define NSAMP 100000L

static struct bm *random_bm(int topo, int n, uint64_t seed, double s)
{
    return test_random_cut_bm(topo, n, seed, s, 7);
}

/* Plug-in KL(q̂‖p) and TV of the (weighted) histogram of z against p. */
static void kl_tv(const struct bm *bm, const double *p, const uint8_t *z, const double *logw,
                  long N, double *kl, double *tv)
{
    size_t ns = (size_t)1 << bm->n;
    double *q = calloc(ns, sizeof *q);
    double tot = 0;
    for (long s = 0; s < N; s++) {
        size_t x = 0;
        for (int i = 0; i < bm->n; i++) x |= (size_t)z[(size_t)s * bm->n + i] << i;
        double w = logw ? exp(logw[s]) : 1.0;
        q[x] += w;
        tot += w;
    }
    double k = 0, t = 0;
    for (size_t x = 0; x < ns; x++) {
        double qq = q[x] / tot;
        if (qq > 0) k += qq * log(qq / p[x]);
        t += fabs(qq - p[x]);
    }
    free(q);
    *kl = k;
    *tv = t / 2;
}

static struct sampler *make(const char *name, uint64_t seed, const char *opts)
{
    struct sampler *s = sampler_new(name, seed);
    assert_non_null(s);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", opts);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = 0;
        if (sampler_set(s, tok, eq + 1)) fail_msg("%s", qv_errmsg());
    }
    return s;
}

/* The sanitizer build runs shorter chains (same sample count N): still far past equilibration
 * on 12–16 units, as the excess KL of the release build with these settings shows. */
static const char *const kl_samplers[][2] = {
#if QVAE_SANITIZE
    {"gibbs", "chains=1000 burnin=500 sweeps=1 thin=1"},
    {"pt", "replicas=8 beta_low=0.15 systems=200 burnin=200 thin=1"},
    {"pa", "runs=4 population=25000 steps=20 sweeps=1"},
    {"sa", "sweeps=100 sweeps_per_beta=10 accept=metropolis"},
#else
    {"gibbs", "chains=1000 burnin=2000 sweeps=1 thin=2"},
    {"pt", "replicas=8 beta_low=0.15 systems=200 burnin=300 thin=2"},
    {"pa", "runs=4 population=25000 steps=40 sweeps=1"},
    {"sa", "sweeps=200 sweeps_per_beta=10 accept=metropolis"},
#endif
    {"exact", ""},
};

static void kl_topology(int topo)
{
    static const char *tn[] = {"chimera", "pegasus", "zephyr"};
    static const int sizes[3] = {12, 14, 16};
    static const double betas[2] = {1.0, 3.0};
    uint8_t *zi = malloc((size_t)NSAMP * 16);
    for (int inst = 0; inst < 3; inst++) {
        struct bm *bm = random_bm(topo, sizes[inst], 1000 + 17 * topo + inst, 1.0);
        double *p = malloc(((size_t)1 << bm->n) * sizeof *p);
        for (int bi = 0; bi < 2; bi++) {
            double beta = betas[bi];
            assert_int_equal(bm_probs_exact(bm, beta, p), 0);
            struct rng r;
            rng_init(&r, 5, (uint64_t)(inst * 2 + bi));
            assert_int_equal(bm_sample_exact(bm, beta, NSAMP, &r, zi), 0);
            double kl0, tv0;
            kl_tv(bm, p, zi, NULL, NSAMP, &kl0, &tv0);
            for (size_t k = 0; k < QV_ARRAY_LEN(kl_samplers); k++) {
                struct sampler *s = make(kl_samplers[k][0], 42 + inst, kl_samplers[k][1]);
                struct samples out;
                samples_init(&out);
                if (sampler_sample(s, bm, beta, NSAMP, NULL, &out)) fail_msg("%s", qv_errmsg());
                assert_int_equal(out.count, NSAMP);
                double kl, tv;
                kl_tv(bm, p, out.z, out.logw, NSAMP, &kl, &tv);
                printf("%-8s n=%2d beta=%g %-6s KL %.5f (iid %.5f, excess %+.5f)  TV %.4f "
                       "(iid %.4f)  %s\n", tn[topo], bm->n, beta, kl_samplers[k][0], kl, kl0,
                       kl - kl0, tv, tv0, out.info);
                assert_true(kl - kl0 < 0.01);
                assert_true(tv - tv0 < 0.02);
                /* energies are E(z) of the returned states */
                assert_true(fabs(out.energy[7] - bm_energy(bm, out.z + 7 * (size_t)bm->n)) < 1e-9);
                samples_free(&out);
                sampler_free(s);
            }
        }
        free(p);
        bm_free(bm);
    }
    free(zi);
}

/* The kernel's two ways to e^{−x} (kern_isa.c): the field's exp, and the product of the Boltzmann
 * factors of struct sk_fac — each rule, each way, against exact enumeration (sk_sweep directly on
 * blocks of chains, so both ways run whatever the sampler would pick); factors that could leave
 * float's range, or given with a β other than the lanes', are not used (the same bytes as none). */
static void kernel_draw(const struct sk_model *m, const struct sk_fac *fac, float beta,
                        enum sk_rule rule, uint8_t *zs)
{
    const long nb = 63, per = NSAMP / (nb * SK_W) + 1;   /* 1008 chains × 100 samples */
    float *z = qv_alloc_aligned((size_t)m->n * SK_W * sizeof(float));
    uint32_t rs[4 * SK_W];
    float bl[SK_W];
    for (int l = 0; l < SK_W; l++) bl[l] = beta;
    long c = 0;
    for (long b = 0; b < nb && c < NSAMP; b++) {
        for (int l = 0; l < SK_W; l++) sk_lane_seed(m, z, rs, l, 77, (uint64_t)(b * SK_W + l), true);
        sk_sweep(m, fac, z, rs, bl, rule, 300);
        for (long r = 0; r < per && c < NSAMP; r++) {
            sk_sweep(m, fac, z, rs, bl, rule, 2);
            for (int l = 0; l < SK_W && c < NSAMP; l++, c++) sk_get_lane(m, z, l, zs + (size_t)c * m->n);
        }
    }
    assert_int_equal(c, NSAMP);
    free(z);
}

/* The bits-only sweep (sa's groups) against the float-line sweep on the path in use: the same
 * states and RNG words after two β steps of 3 sweeps, for both rules, from the same seeds. */
static void test_kernel_bits(void **st)
{
    (void)st;
    struct bm *bm = random_bm(0, 12, 4243, 1.0);
    struct sk_model m;
    assert_int_equal(sk_model_init(&m, bm), 0);
    struct sk_fac fac[2];
    for (int k = 0; k < 2; k++) {
        sk_fac_init(&fac[k], &m);
        assert_true(sk_fac_set(&fac[k], &m, k ? 1.7f : 0.6f));
    }
    float *z = qv_alloc_aligned((size_t)m.n * SK_W * sizeof(float));
    float *z2 = qv_alloc_aligned((size_t)m.n * SK_W * sizeof(float));
    uint16_t *zs = malloc((size_t)m.n * sizeof *zs);
    uint32_t rs[4 * SK_W], rs2[4 * SK_W];
    for (int way = 0; way < 2; way++) {
        const enum sk_rule rule = way ? SK_METROPOLIS : SK_HEATBATH;
        for (int l = 0; l < SK_W; l++) sk_lane_seed(&m, z, rs, l, 91, (uint64_t)l, true);
        memcpy(rs2, rs, sizeof rs);
        sk_bits_from_lines(&m, z, zs);
        sk_lines_from_bits(&m, zs, z2);   /* the round trip is exact */
        assert_memory_equal(z, z2, (size_t)m.n * SK_W * sizeof(float));
        sk_sweep_steps(&m, fac, 2, z, rs, rule, 3);
        sk_sweep_bits(&m, fac, 2, zs, rs2, rule, 3);
        sk_lines_from_bits(&m, zs, z2);
        assert_memory_equal(z, z2, (size_t)m.n * SK_W * sizeof(float));
        assert_memory_equal(rs, rs2, sizeof rs);
        long ones = 0;   /* the sweeps moved the states (not all 0 or all 1) */
        for (long k = 0; k < (long)m.n * SK_W; k++) ones += z[k] != 0.0f;
        assert_true(ones > 0 && ones < (long)m.n * SK_W);
    }
    free(zs);
    free(z);
    free(z2);
    for (int k = 0; k < 2; k++) sk_fac_free(&fac[k]);
    sk_model_free(&m);
    bm_free(bm);
}

static void test_kernel_factors(void **st)
{
    (void)st;
    struct bm *bm = random_bm(0, 12, 4242, 1.0);
    struct sk_model m;
    assert_int_equal(sk_model_init(&m, bm), 0);
    struct sk_fac fac;
    sk_fac_init(&fac, &m);
    double *p = malloc(((size_t)1 << bm->n) * sizeof *p);
    uint8_t *zs = malloc((size_t)NSAMP * bm->n);
    for (int bi = 0; bi < 2; bi++) {
        const float beta = bi ? 3.0f : 1.0f;
        assert_true(sk_fac_set(&fac, &m, beta));
        assert_int_equal(bm_probs_exact(bm, beta, p), 0);
        struct rng r;
        rng_init(&r, 6, (uint64_t)bi);
        assert_int_equal(bm_sample_exact(bm, beta, NSAMP, &r, zs), 0);
        double kl0, tv0;
        kl_tv(bm, p, zs, NULL, NSAMP, &kl0, &tv0);
        for (int way = 0; way < 4; way++) {
            const enum sk_rule rule = way & 1 ? SK_METROPOLIS : SK_HEATBATH;
            kernel_draw(&m, way & 2 ? &fac : NULL, beta, rule, zs);
            double kl, tv;
            kl_tv(bm, p, zs, NULL, NSAMP, &kl, &tv);
            printf("kernel beta=%g %-10s %-8s KL excess %+.5f  TV excess %+.4f\n", beta,
                   rule == SK_METROPOLIS ? "metropolis" : "heat-bath", way & 2 ? "factors" : "exp",
                   kl - kl0, tv - tv0);
            assert_true(kl - kl0 < 0.01);
            assert_true(tv - tv0 < 0.02);
        }
    }
    /* factors that are not used: the same bytes as the exp path */
    uint8_t *za = malloc((size_t)NSAMP * bm->n);
    assert_true(sk_fac_set(&fac, &m, 1.5f));
    kernel_draw(&m, NULL, 2.0f, SK_METROPOLIS, za);
    kernel_draw(&m, &fac, 2.0f, SK_METROPOLIS, zs);   /* made for another β */
    assert_memory_equal(za, zs, (size_t)NSAMP * bm->n);
    const float big = 1.01f * SK_FAC_MAX / m.fmax;   /* a product could leave float's range */
    assert_false(sk_fac_set(&fac, &m, big));
    kernel_draw(&m, NULL, big, SK_HEATBATH, za);
    kernel_draw(&m, &fac, big, SK_HEATBATH, zs);
    assert_memory_equal(za, zs, (size_t)NSAMP * bm->n);
    assert_true(sk_fac_set(&fac, &m, 0.99f * SK_FAC_MAX / m.fmax));
    /* the factors are what the kernel uses: all set to 1 (every field 0), the units are fair
     * coins, far (in total variation) from the model's p at β = 1 */
    assert_true(sk_fac_set(&fac, &m, 1.0f));
    for (long k = 0; k < 2 * m.ne + m.n; k++) fac.f[k] = 1.0f;
    kernel_draw(&m, &fac, 1.0f, SK_HEATBATH, zs);
    long ones = 0;
    for (long k = 0; k < NSAMP * bm->n; k++) ones += zs[k];
    assert_true(fabs((double)ones / (double)(NSAMP * bm->n) - 0.5) < 0.005);
    assert_int_equal(bm_probs_exact(bm, 1.0, p), 0);
    double kl, tv;
    kl_tv(bm, p, zs, NULL, NSAMP, &kl, &tv);
    printf("kernel: every factor 1: TV %.3f from the model\n", tv);
    assert_true(tv > 0.3);
    free(za);
    free(zs);
    free(p);
    sk_fac_free(&fac);
    sk_model_free(&m);
    bm_free(bm);
}

static void test_kl_chimera(void **st) { (void)st; kl_topology(0); }
static void test_kl_pegasus(void **st) { (void)st; kl_topology(1); }
static void test_kl_zephyr(void **st) { (void)st; kl_topology(2); }

static void test_logz_small(void **st)
{
    (void)st;
    for (int topo = 0; topo < 3; topo++)
        for (int inst = 0; inst < 3; inst++) {
            struct bm *bm = random_bm(topo, 12 + 2 * inst, 2000 + 10 * topo + inst, 1.0);
            for (int bi = 0; bi < 2; bi++) {
                double beta = bi ? 3.0 : 1.0, ex;
                assert_int_equal(bm_logz_exact(bm, beta, &ex), 0);
                struct logz_opts o = {.population = 8000, .steps = 100, .sweeps = 2, .seed = 3};
                struct logz_result pa, ais;
                assert_int_equal(bm_logz(bm, beta, "pa", &o, &pa), 0);
                struct logz_opts oa = {.population = 2000, .steps = 1000, .sweeps = 1, .seed = 3};
                assert_int_equal(bm_logz(bm, beta, "ais", &oa, &ais), 0);
                struct logz_result exr;
                assert_int_equal(bm_logz(bm, beta, "exact", NULL, &exr), 0);
                assert_true(fabs(exr.logz - ex) < 1e-12);
                printf("topo %d n=%d beta=%g exact %.5f  pa %.5f +- %.5f  ais %.5f +- %.5f\n",
                       topo, bm->n, beta, ex, pa.logz, pa.err, ais.logz, ais.err);
                assert_true(fabs(pa.logz - ex) < 0.02);
                assert_true(fabs(ais.logz - ex) < 0.02);
            }
            bm_free(bm);
        }
}

static void test_c664_pa_ais(void **st)
{
    (void)st;
    struct bm *bm = bm_new(graph_chimera(6, 6, 4));
    assert_int_equal(bm_random(bm, 0.5, 11), 0);
#if QVAE_SANITIZE
    struct logz_opts o = {.population = 4000, .steps = 100, .sweeps = 2, .seed = 1};
    struct logz_opts oa = {.population = 1000, .steps = 1000, .sweeps = 1, .seed = 1};
#else
    struct logz_opts o = {.population = 20000, .steps = 200, .sweeps = 2, .seed = 1};
    struct logz_opts oa = {.population = 4000, .steps = 3000, .sweeps = 1, .seed = 1};
#endif
    struct logz_result pa, ais;
    assert_int_equal(bm_logz(bm, 1.0, "pa", &o, &pa), 0);
    assert_int_equal(bm_logz(bm, 1.0, "ais", &oa, &ais), 0);
    double se = sqrt(pa.err * pa.err + ais.err * ais.err);
    printf("C(6,6,4): pa %.4f +- %.4f (%s)\n          ais %.4f +- %.4f (%s)\n", pa.logz, pa.err,
           pa.info, ais.logz, ais.err, ais.info);
    assert_true(isfinite(pa.err) && isfinite(ais.err));
    assert_true(fabs(pa.logz - ais.logz) < 0.1);
    assert_true(fabs(pa.logz - ais.logz) < 4 * se + 1e-3);
    bm_free(bm);
}

/* Same seed → same bytes; 1 thread and 2 threads → same bytes. */
static void test_reproducible(void **st)
{
    (void)st;
    struct bm *bm = bm_new(graph_chimera(4, 4, 4));
    assert_int_equal(bm_random(bm, 1.0, 5), 0);
    static const char *const cfg[][2] = {
        {"gibbs", "chains=100 sweeps=5 burnin=10"},
        {"sa", "sweeps=50"},
        {"pt", "replicas=6 systems=5 burnin=20"},
        {"pa", "runs=2 steps=20"},
        {"ais", "runs=2 steps=20"},
        {"exact", ""},
    };
    for (size_t k = 0; k < QV_ARRAY_LEN(cfg); k++) {
        if (!strcmp(cfg[k][0], "exact")) continue;   /* 128 units: too many to enumerate */
        struct samples a, b, c;
        samples_init(&a);
        samples_init(&b);
        samples_init(&c);
        struct sampler *s1 = make(cfg[k][0], 9, cfg[k][1]);
        struct sampler *s2 = make(cfg[k][0], 9, cfg[k][1]);
        struct sampler *s3 = make(cfg[k][0], 10, cfg[k][1]);
        struct sample_ctx one = {.threads = 1}, two = {.threads = 2};
        assert_int_equal(sampler_sample(s1, bm, 1.5, 250, &one, &a), 0);
        assert_int_equal(sampler_sample(s2, bm, 1.5, 250, &two, &b), 0);
        assert_int_equal(sampler_sample(s3, bm, 1.5, 250, &two, &c), 0);
        assert_memory_equal(a.z, b.z, (size_t)250 * bm->n);
        assert_memory_equal(a.energy, b.energy, 250 * sizeof(double));
        assert_true(memcmp(a.z, c.z, (size_t)250 * bm->n) != 0);
        /* the second call continues (PCD chains, next stream) and is reproducible too */
        assert_int_equal(sampler_sample(s1, bm, 1.5, 250, &two, &a), 0);
        assert_int_equal(sampler_sample(s2, bm, 1.5, 250, &one, &b), 0);
        assert_memory_equal(a.z, b.z, (size_t)250 * bm->n);
        if (a.logw) assert_memory_equal(a.logw, b.logw, 250 * sizeof(double));
        printf("%-6s reproducible; %s\n", cfg[k][0], a.info);
        samples_free(&a);
        samples_free(&b);
        samples_free(&c);
        sampler_free(s1);
        sampler_free(s2);
        sampler_free(s3);
    }
    /* log Z estimates do not depend on the thread count either */
    struct logz_opts o1 = {.population = 2000, .steps = 30, .seed = 4, .threads = 1};
    struct logz_opts o2 = o1;
    o2.threads = 2;
    struct logz_result r1, r2;
    assert_int_equal(bm_logz(bm, 1.0, "pa", &o1, &r1), 0);
    assert_int_equal(bm_logz(bm, 1.0, "pa", &o2, &r2), 0);
    assert_true(r1.logz == r2.logz && r1.err == r2.err);
    bm_free(bm);
}

/* PCD: a gibbs call continues from the previous chains; reset restarts them. */
static void test_pcd(void **st)
{
    (void)st;
    struct bm *bm = bm_new(graph_chimera(2, 2, 4));
    assert_int_equal(bm_random(bm, 1.0, 6), 0);
    struct sampler *s = make("gibbs", 3, "chains=20 sweeps=1 burnin=0");
    struct samples a, b;
    samples_init(&a);
    samples_init(&b);
    assert_int_equal(sampler_sample(s, bm, 1.0, 20, NULL, &a), 0);
    assert_int_equal(sampler_sample(s, bm, 1.0, 20, NULL, &b), 0);
    assert_true(memcmp(a.z, b.z, (size_t)20 * bm->n) != 0);
    s->vt->reset(s->impl);
    assert_int_equal(sampler_sample(s, bm, 1.0, 20, NULL, &b), 0);
    assert_memory_equal(a.z, b.z, (size_t)20 * bm->n);
    /* more samples than chains: 3 states per chain, thinned */
    assert_int_equal(sampler_sample(s, bm, 1.0, 55, NULL, &b), 0);
    assert_int_equal(b.count, 55);
    samples_free(&a);
    samples_free(&b);
    sampler_free(s);
    bm_free(bm);
}

static void test_beta_range(void **st)
{
    (void)st;
    /* annealing.md §5.1: h = {0.5, −0.5}, J = {−1} → [0.231049, 5.298317] */
    int edges[1][2] = {{0, 1}};
    double h[2] = {0.5, -0.5}, J[1] = {-1}, hot, cold;
    sk_default_beta_range_ising(2, 1, (const int (*)[2])edges, h, J, &hot, &cold);
    assert_true(fabs(hot - 0.231049) < 1e-6);
    assert_true(fabs(cold - 5.298317) < 1e-6);
    double z[2] = {0, 0}, zj[1] = {0};
    sk_default_beta_range_ising(2, 1, (const int (*)[2])edges, z, zj, &hot, &cold);
    assert_true(hot == 0.1 && cold == 1.0);
}

static void expect_err(int rc, const char *needle)
{
    assert_int_equal(rc, -1);
    if (!strstr(qv_errmsg(), needle)) fail_msg("error '%s' lacks '%s'", qv_errmsg(), needle);
}

static void test_bad_input(void **st)
{
    (void)st;
    assert_null(sampler_new("nosuch", 1));
    assert_non_null(strstr(qv_errmsg(), "gibbs"));
    struct sampler *s = sampler_new("gib", 1);   /* unique prefix */
    assert_non_null(s);
    expect_err(sampler_set(s, "bogus", "1"), "--bogus");
    assert_non_null(strstr(qv_errmsg(), "--chains"));
    expect_err(sampler_set(s, "chains", "0"), "--chains");
    expect_err(sampler_set(s, "chains", "abc"), "--chains");
    expect_err(sampler_set(s, "sweeps", "nan"), "--sweeps");
    struct bm *bm = bm_new(graph_chimera(1, 1, 4));
    struct samples out;
    samples_init(&out);
    expect_err(sampler_sample(s, bm, 1.0, 0, NULL, &out), "positive");
    expect_err(sampler_sample(s, bm, NAN, 10, NULL, &out), "beta");
    expect_err(sampler_sample(s, bm, INFINITY, 10, NULL, &out), "beta");
    expect_err(sampler_sample(s, NULL, 1.0, 10, NULL, &out), "prior");
    bm->b[0] = NAN;
    assert_int_equal(sampler_sample(s, bm, 1.0, 10, NULL, &out), -1);
    bm->b[0] = 0;
    sampler_free(s);
    s = sampler_new("sa", 1);
    expect_err(sampler_set(s, "beta_range", "3,1"), "--beta_range");
    expect_err(sampler_set(s, "accept", "sometimes"), "--accept");
    assert_int_equal(sampler_set(s, "sweeps", "10"), 0);
    assert_int_equal(sampler_set(s, "sweeps_per_beta", "3"), 0);
    expect_err(sampler_sample(s, bm, 1.0, 10, NULL, &out), "divide");
    sampler_free(s);
    s = sampler_new("exact", 1);
    expect_err(sampler_set(s, "chains", "3"), "--chains");
    sampler_free(s);
    /* C(4,4,4): 128 units, 64 left after summing out one colour class: too many to enumerate */
    struct bm *big = bm_new(graph_chimera(4, 4, 4));
    s = sampler_new("exact", 1);
    expect_err(sampler_sample(s, big, 1.0, 10, NULL, &out), "2^64");
    sampler_free(s);
    /* too large for memory: a clear error, not an abort */
    struct bm *c4 = bm_new(graph_chimera(4, 4, 4));
    s = sampler_new("gibbs", 1);
    assert_int_equal(sampler_set(s, "chains", "10000000"), 0);
    expect_err(sampler_sample(s, c4, 1.0, 10, NULL, &out), "GiB");
    sampler_free(s);
    s = sampler_new("exact", 1);
    expect_err(sampler_sample(s, bm, 1.0, 1000000000, NULL, &out), "GiB");
    sampler_free(s);
    bm_free(c4);
    struct logz_result r;
    expect_err(bm_logz(big, 1.0, "magic", NULL, &r), "magic");
    expect_err(bm_logz(big, NAN, "pa", NULL, &r), "beta");
    /* cancel flag */
    atomic_int cancel = 1;
    struct sample_ctx ctx = {.cancel = &cancel};
    s = sampler_new("sa", 1);
    expect_err(sampler_sample(s, big, 1.0, 10, &ctx, &out), "cancel");
    sampler_free(s);
    samples_free(&out);
    bm_free(big);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_beta_range),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_pcd),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_logz_small),
        cmocka_unit_test(test_c664_pa_ais),
        cmocka_unit_test(test_kernel_factors),
        cmocka_unit_test(test_kernel_bits),
        cmocka_unit_test(test_kl_chimera),
        cmocka_unit_test(test_kl_pegasus),
        cmocka_unit_test(test_kl_zephyr),
    };
    const char *filter = getenv("QVAE_TEST_FILTER");   /* e.g. "test_kl_*" while developing */
    if (filter && *filter) cmocka_set_test_filter(filter);
    int fails = cmocka_run_group_tests(tests, NULL, NULL);
    /* The exactness tests again on every other SIMD path this CPU runs (test_simd checks that
     * the paths give identical samples; this checks the distributions themselves). */
    const struct CMUnitTest exact[] = {
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_kernel_factors),
        cmocka_unit_test(test_kernel_bits),
        cmocka_unit_test(test_kl_chimera),
        cmocka_unit_test(test_kl_pegasus),
        cmocka_unit_test(test_kl_zephyr),
    };
    const struct simd_kernels *first = simd_kernels();
    for (int isa = 0; isa < SIMD_NISA; isa++) {
        if (!first || (enum simd_isa)isa == first->isa || simd_select((enum simd_isa)isa)) continue;
        char name[64];
        snprintf(name, sizeof name, "exactness on the %s path", simd_isa_name((enum simd_isa)isa));
        fails += _cmocka_run_group_tests(name, exact, QV_ARRAY_LEN(exact), NULL, NULL);
    }
    return fails;
}
