/* test_simd.c — the SIMD paths (simd.h, kern_isa.c, kern_isa_sqa.c, issue 21).
 *
 * Same samples on every path: gibbs (heat-bath), sa (Metropolis), pt, pa and sqa (vector path
 * P = 16, 32, and the ring walk P = 6) give byte-identical samples and energies for a seed on
 * every instruction set this CPU runs (the kernels are written to compute the same bits; the
 * first path run is the reference).
 * exp: simd_expf against libm's exp in double, ≤ 1 ulp on [−87, 88], the clamps and NaN; nn.h's
 * scalar and vector exp are the same function (identical bits).
 * RNG: the lane stream against a scalar xoshiro128+ written here from its published definition
 * (Blackman & Vigna: result s0 + s3; t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
 * s2 ^= t; s3 = rotl(s3, 11)).
 * Choice of path: names parse, an unsupported path is refused with an error, and the paths
 * reported as supported agree with what the CPU runs. */
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

#include "nn.h"
#include "sampler.h"
#include "schedule.h"
#include "simd.h"

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
        assert_int_equal(sampler_set(s, tok, eq + 1), 0);
    }
    return s;
}

/* Samples of one sampler configuration on the path in use. */
static void draw(const char *name, const char *opts, const struct bm *bm, long count,
                 const struct sched *sc, struct samples *out)
{
    struct sampler *s = make(name, 11, opts);
    struct sample_ctx ctx = {.threads = 2, .schedule = sc};
    samples_init(out);
    assert_int_equal(sampler_sample(s, bm, 1.3, count, &ctx, out), 0);
    /* a second call continues the chains (PCD) and must agree too */
    struct samples more;
    samples_init(&more);
    assert_int_equal(sampler_sample(s, bm, 1.3, count, &ctx, &more), 0);
    memcpy(out->z, more.z, (size_t)count * bm->n);   /* keep the second call's states */
    memcpy(out->energy, more.energy, (size_t)count * sizeof(double));
    samples_free(&more);
    sampler_free(s);
}

static void test_same_samples_every_path(void **st)
{
    (void)st;
    /* weights of scale 1: the classical samplers multiply Boltzmann factors (struct sk_fac);
     * scale 40: a product could leave float's range, so they take the field's exp; C(17,17,4),
     * 2312 units: a block's states outgrow 128 kB, so AVX2 reads them as lane bits */
    struct bm *models[3] = {bm_new(graph_chimera(4, 4, 4)), bm_new(graph_chimera(4, 4, 4)),
                            bm_new(graph_chimera(17, 17, 4))};
    assert_int_equal(bm_random(models[0], 1.0, 3), 0);
    assert_int_equal(bm_random(models[1], 40.0, 3), 0);
    assert_int_equal(bm_random(models[2], 1.0, 3), 0);
    struct sched sc;
    sched_init(&sc);
    assert_int_equal(sched_forward(&sc, 2), 0);
    static const char *const cfg[][2] = {
        {"gibbs", "chains=40 sweeps=3 burnin=7"},
        {"sa", "sweeps=40"},
        {"sa", "sweeps=40 accept=gibbs"},
        {"pt", "replicas=4 systems=3 burnin=10"},
        {"pa", "runs=2 steps=10"},
        {"sqa", "trotter=16 beta_eff=3 noise=0.02"},
        {"sqa", "trotter=32 beta_eff=3 noise=0"},
        {"sqa", "trotter=6 beta_eff=3 noise=0"},
    };
    const long count = 40;
    int npaths = 0;
    for (size_t k = 0; k < 3 * QV_ARRAY_LEN(cfg); k++) {
        const struct bm *bm = models[k / QV_ARRAY_LEN(cfg)];
        const char *const *cf = cfg[k % QV_ARRAY_LEN(cfg)];
        if (bm != models[0] && !strcmp(cf[0], "sqa")) continue;   /* sqa has no factor path */
        if (bm == models[2] && strcmp(cf[0], "gibbs") && strcmp(cf[0], "sa")) continue;
        struct samples ref;
        bool have_ref = false;
        for (int isa = 0; isa < SIMD_NISA; isa++) {
            if (simd_select((enum simd_isa)isa)) continue;   /* the CPU lacks it */
            if (k == 0) npaths++;
            struct samples out;
            draw(cf[0], cf[1], bm, count, &sc, &out);
            if (!have_ref) {
                /* a real sample set: the chains do not all sit in one state */
                long differ = 0;
                for (long c = 1; c < count; c++)
                    differ += memcmp(out.z, out.z + (size_t)c * bm->n, (size_t)bm->n) != 0;
                assert_true(differ > count / 2);
                ref = out;
                have_ref = true;
                continue;
            }
            assert_memory_equal(ref.z, out.z, (size_t)count * bm->n);
            assert_memory_equal(ref.energy, out.energy, (size_t)count * sizeof(double));
            samples_free(&out);
        }
        assert_true(have_ref);
        printf("%-5s %-36s %4d units, W scale %-2s identical on %d path(s)\n", cf[0], cf[1],
               bm->n, bm == models[1] ? "40" : "1", npaths);
        samples_free(&ref);
    }
    for (int k = 0; k < 3; k++) bm_free(models[k]);
    simd_select(simd_kernels_for(SIMD_AVX512) ? SIMD_AVX512
                : simd_kernels_for(SIMD_AVX2) ? SIMD_AVX2 : SIMD_SSE2);
}

/* ulps between two floats of the same sign */
static double ulps(float a, double exact)
{
    float e = (float)exact;
    float next = nextafterf(e, INFINITY);
    return fabs((double)a - exact) / ((double)next - (double)e);
}

static void test_exp(void **st)
{
    (void)st;
    double worst = 0;
    for (int j = 0; j <= 2000000; j++) {
        float x = -87.0f + 175.0f * (float)j / 2000000.0f;
        double u = ulps(simd_expf(x), exp((double)x));
        if (u > worst) worst = u;
    }
    printf("simd_expf: worst error %.2f ulp on [-87, 88]\n", worst);
    assert_true(worst <= 1.0);
    /* the argument is clamped to [−87, 88]; NaN stays NaN */
    assert_true(simd_expf(-1000.0f) == simd_expf(-87.0f));
    assert_true(simd_expf(1000.0f) == simd_expf(88.0f));
    assert_true(isnan(simd_expf(NAN)));
    assert_true(simd_expf(0.0f) == 1.0f);
    /* nn.h's scalar and vector exp are this function: identical bits, lane by lane */
    float xs[NN_VL];
    for (int j = 0; j < 10000; j++) {
        for (int l = 0; l < NN_VL; l++) xs[l] = -90.0f + 0.0183f * (float)(j * NN_VL + l) / 4.0f;
        float ys[NN_VL];
        nn_vstore(ys, nn_vexp(nn_vload(xs)));
        for (int l = 0; l < NN_VL; l++) {
            float a = simd_expf(xs[l]), b = nn_fexp(xs[l]);
            assert_memory_equal(&ys[l], &a, sizeof a);
            assert_memory_equal(&b, &a, sizeof a);
        }
    }
}

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void test_lane_rng(void **st)
{
    (void)st;
    uint32_t rs[4 * SIMD_W], ref[SIMD_W][4];
    struct rng r;
    rng_init(&r, 42, 0);
    for (int l = 0; l < SIMD_W; l++)
        for (int w = 0; w < 4; w++) ref[l][w] = rs[w * SIMD_W + l] = (uint32_t)rng_u64(&r) | 1;
    simd_vu s[SIMD_NB][4];
    for (int h = 0; h < SIMD_NB; h++) simd_xoshiro_load(s[h], rs, h);
    for (int step = 0; step < 1000; step++) {
        uint32_t out[SIMD_W];
        float u[SIMD_W];
        for (int h = 0; h < SIMD_NB; h++) {
            simd_vu v = simd_xoshiro_next(s[h]);
            memcpy(out + h * SIMD_NL, &v, sizeof v);
            simd_store(u + h * SIMD_NL, simd_uniform(v, true));
        }
        for (int l = 0; l < SIMD_W; l++) {
            uint32_t *q = ref[l];
            uint32_t want = q[0] + q[3], t = q[1] << 9;
            q[2] ^= q[0];
            q[3] ^= q[1];
            q[1] ^= q[2];
            q[0] ^= q[3];
            q[2] ^= t;
            q[3] = rotl(q[3], 11);
            assert_int_equal(out[l], want);
            /* open uniform: the top 24 bits, centred in their bin, never 0 or 1 */
            assert_true(u[l] == ((float)(want >> 8) + 0.5f) * 0x1p-24f);
            assert_true(u[l] > 0.0f && u[l] < 1.0f);
        }
    }
}

static void test_choice(void **st)
{
    (void)st;
    assert_int_equal(simd_isa_parse("avx2"), SIMD_AVX2);
    assert_int_equal(simd_isa_parse("AVX512"), SIMD_AVX512);
    assert_int_equal(simd_isa_parse("sse2"), SIMD_SSE2);
    assert_int_equal(simd_isa_parse("neon"), -1);
    assert_int_equal(simd_isa_parse(NULL), -1);
    assert_true(simd_cpu_has(SIMD_SSE2));   /* every x86-64 CPU */
    const struct simd_kernels *cur = simd_kernels();
    assert_non_null(cur);
    for (int isa = 0; isa < SIMD_NISA; isa++) {
        const struct simd_kernels *k = simd_kernels_for((enum simd_isa)isa);
        assert_int_equal(k != NULL, simd_cpu_has((enum simd_isa)isa));
        if (k) {
            assert_int_equal(k->isa, isa);
            assert_string_equal(k->name, simd_isa_name((enum simd_isa)isa));
        } else {
            assert_int_equal(simd_select((enum simd_isa)isa), -1);
            assert_non_null(strstr(qv_errmsg(), "does not support"));
        }
    }
    /* without QVAE_ISA the best path is in use */
    if (!getenv("QVAE_ISA")) {
        int best = simd_cpu_has(SIMD_AVX512) ? SIMD_AVX512 : simd_cpu_has(SIMD_AVX2) ? SIMD_AVX2 : SIMD_SSE2;
        assert_int_equal(cur->isa, best);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice),
        cmocka_unit_test(test_lane_rng),
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_same_samples_every_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
