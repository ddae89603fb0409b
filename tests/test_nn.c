/* test_nn.c — unit tests of src/nn.c: the vectorisable exp/log/sigmoid/softplus/tanh against libm,
 * dense layers (every activation) against central finite differences, the Bernoulli
 * log-likelihood against its double-precision formula and finite differences, Adam against the
 * published update written out in double precision, and the arena's alignment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include "nn.h"
#include "qv.h"
#include <cblas.h>

static void test_fast_math(void **state)
{
    (void)state;
    double emax = 0, lmax = 0, smax = 0, spmax = 0, tmax = 0;
    for (int i = -200000; i <= 200000; i++) {
        float x = (float)i * 4e-4f;   /* [-80, 80] */
        double e = exp((double)x);
        double re = fabs(nn_fexp(x) - e) / e;
        if (re > emax) emax = re;
        double s = 1.0 / (1.0 + exp(-(double)x));
        smax = fmax(smax, fabs(nn_fsigmoid(x) - s));
        double sp = x > 0 ? x + log1p(exp(-(double)x)) : log1p(exp((double)x));
        spmax = fmax(spmax, fabs(nn_fsoftplus(x) - sp) / fmax(1.0, fabs(sp)));
        tmax = fmax(tmax, fabs(nn_ftanh(x) - tanh((double)x)));
    }
    for (int i = 1; i <= 100000; i++) {
        float x = (float)pow(10.0, -30.0 + 60.0 * i / 100000.0);
        double lg = log((double)x);
        lmax = fmax(lmax, fabs(nn_flog(x) - lg) / fmax(1.0, fabs(lg)));
    }
    assert_true(emax < 4e-7);
    assert_true(lmax < 4e-7);
    assert_true(smax < 3e-7);
    assert_true(spmax < 4e-7);
    assert_true(tmax < 4e-7);
    /* the SIMD versions compute the same values as the scalar ones */
    float in[NN_VL], out[NN_VL];
    for (int j = 0; j < 1000; j++) {
        for (int k = 0; k < NN_VL; k++) in[k] = (float)(j * NN_VL + k - 4000) * 0.021f;
        nn_vstore(out, nn_vexp(nn_vload(in)));
        for (int k = 0; k < NN_VL; k++) assert_true(out[k] == nn_fexp(in[k]));
        nn_vstore(out, nn_vtanh(nn_vload(in)));
        for (int k = 0; k < NN_VL; k++) assert_true(out[k] == nn_ftanh(in[k]));
        nn_vstore(out, nn_vsoftplus(nn_vload(in)));
        for (int k = 0; k < NN_VL; k++) assert_true(out[k] == nn_fsoftplus(in[k]));
    }
}

/* Loss Σ c ⊙ y of a layer's output, in double. */
static double layer_loss(const struct nn_dense *L, int B, const float *x, const float *c, float *y)
{
    nn_dense_forward(L, B, x, y);
    double s = 0;
    for (int i = 0; i < B * L->out; i++) s += (double)c[i] * y[i];
    return s;
}

static void check_dense(enum nn_act act)
{
    const int in = 13, out = 11, B = 5;   /* odd sizes exercise the scalar tails */
    size_t np = nn_dense_size(in, out);
    float *p = calloc(np, sizeof(float)), *g = calloc(np, sizeof(float));
    float *x = malloc(sizeof(float) * B * in), *c = malloc(sizeof(float) * B * out);
    float *y = malloc(sizeof(float) * B * out), *dy = malloc(sizeof(float) * B * out);
    float *dx = malloc(sizeof(float) * B * in);
    struct nn_dense L;
    nn_dense_bind(&L, in, out, act, p, g);
    struct rng r;
    rng_init(&r, 7, act);
    nn_dense_init(&L, &r);
    for (int j = 0; j < out; j++) L.b[j] = (float)(rng_uniform(&r) - 0.5);
    for (int i = 0; i < B * in; i++) x[i] = (float)(2 * rng_uniform(&r) - 1);
    for (int i = 0; i < B * out; i++) c[i] = (float)(2 * rng_uniform(&r) - 1);
    layer_loss(&L, B, x, c, y);
    memcpy(dy, c, sizeof(float) * B * out);
    nn_dense_backward(&L, B, x, y, dy, dx);
    const float eps = 1e-3f;
    double worst = 0;
    /* parameters (w then b) */
    for (int k = 0; k < in * out + out; k++) {
        float *pp = k < in * out ? &L.w[k] : &L.b[k - in * out];
        float ga = k < in * out ? L.gw[k] : L.gb[k - in * out];
        float save = *pp;
        *pp = save + eps; double lp = layer_loss(&L, B, x, c, y);
        *pp = save - eps; double lm = layer_loss(&L, B, x, c, y);
        *pp = save;
        double fd = (lp - lm) / (2 * eps);
        worst = fmax(worst, fabs(fd - ga) / (1e-2 + fabs(fd)));
    }
    /* inputs */
    for (int k = 0; k < B * in; k++) {
        float save = x[k];
        x[k] = save + eps; double lp = layer_loss(&L, B, x, c, y);
        x[k] = save - eps; double lm = layer_loss(&L, B, x, c, y);
        x[k] = save;
        double fd = (lp - lm) / (2 * eps);
        worst = fmax(worst, fabs(fd - dx[k]) / (1e-2 + fabs(fd)));
    }
    print_message("dense %s: worst relative FD error %.2e\n", nn_act_name(act), worst);
    assert_true(worst < 2e-2);
    free(p); free(g); free(x); free(c); free(y); free(dy); free(dx);
}

static void test_dense_linear(void **s) { (void)s; check_dense(NN_ACT_LINEAR); }
static void test_dense_tanh(void **s) { (void)s; check_dense(NN_ACT_TANH); }
static void test_dense_relu(void **s) { (void)s; check_dense(NN_ACT_RELU); }
static void test_dense_leaky(void **s) { (void)s; check_dense(NN_ACT_LEAKY); }

static void test_bernoulli(void **state)
{
    (void)state;
    const int B = 3, D = 21;
    float l[3 * 21], x[3 * 21], g[3 * 21];
    double ll[3];
    struct rng r;
    rng_init(&r, 3, 0);
    for (int i = 0; i < B * D; i++) {
        l[i] = (float)(12 * rng_uniform(&r) - 6);
        x[i] = rng_uniform(&r) < 0.4 ? 1.0f : 0.0f;
    }
    double tot = nn_bernoulli_ll(l, x, D, B, D, ll, g, 0.5f);
    double check = 0;
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int d = 0; d < D; d++) {
            double li = l[b * D + d], p = 1 / (1 + exp(-li));
            s += x[b * D + d] ? log(p) : log1p(-p);
        }
        assert_true(fabs(s - ll[b]) < 1e-4);
        check += s;
    }
    assert_true(fabs(check - tot) < 1e-4);
    /* gradient = 0.5 ∂(−Σ ll)/∂l */
    for (int i = 0; i < B * D; i++) {
        float save = l[i];
        const float eps = 1e-2f;
        l[i] = save + eps; double lp = nn_bernoulli_ll(l, x, D, B, D, NULL, NULL, 0);
        l[i] = save - eps; double lm = nn_bernoulli_ll(l, x, D, B, D, NULL, NULL, 0);
        l[i] = save;
        double fd = -0.5 * (lp - lm) / (2 * eps);
        assert_true(fabs(fd - g[i]) < 2e-3);
    }
    /* xstride 0 scores every row against row 0 */
    double ll0[3];
    nn_bernoulli_ll(l, x, 0, B, D, ll0, NULL, 0);
    double s1 = 0;
    for (int d = 0; d < D; d++) {
        double li = l[D + d], p = 1 / (1 + exp(-li));
        s1 += x[d] ? log(p) : log1p(-p);
    }
    assert_true(fabs(ll0[1] - s1) < 1e-4);
}

static void test_adam(void **state)
{
    (void)state;
    const size_t n = 37;   /* not a multiple of the vector width */
    struct nn_adam o;
    assert_int_equal(nn_adam_init(&o, n), 0);
    float p[37], g[37];
    double pd[37], m[37] = {0}, v[37] = {0};
    for (size_t i = 0; i < n; i++) { p[i] = (float)(0.1 * i - 1.5); pd[i] = p[i]; }
    const double lr = 3e-3, wd = 1e-2;
    for (int t = 1; t <= 5; t++) {
        for (size_t i = 0; i < n; i++) g[i] = (float)sin(0.7 * i + t);
        nn_adam_begin(&o, lr);
        nn_adam_update(&o, p, g, 0, 20, (float)wd);
        nn_adam_update(&o, p, g, 20, n - 20, 0.0f);
        for (size_t i = 0; i < n; i++) {
            double gi = g[i] + (i < 20 ? wd * pd[i] : 0.0);
            m[i] = 0.9 * m[i] + 0.1 * gi;
            v[i] = 0.999 * v[i] + 0.001 * gi * gi;
            double mh = m[i] / (1 - pow(0.9, t)), vh = v[i] / (1 - pow(0.999, t));
            pd[i] -= lr * mh / (sqrt(vh) + 1e-8);
        }
    }
    for (size_t i = 0; i < n; i++) assert_true(fabs(p[i] - pd[i]) < 1e-5);
    assert_int_equal(o.t, 5);
    nn_adam_free(&o);
}

static void test_arena(void **state)
{
    (void)state;
    struct nn_arena a;
    nn_arena_plan(&a);
    assert_null(nn_arena_take(&a, 3));
    nn_arena_take(&a, 17);
    size_t need = a.used;
    assert_int_equal(need, 16 + 32);
    assert_int_equal(nn_arena_alloc(&a, need), 0);
    float *x = nn_arena_take(&a, 3), *y = nn_arena_take(&a, 17);
    assert_true(((uintptr_t)x & 63) == 0 && ((uintptr_t)y & 63) == 0);
    assert_true(y - x == 16);
    nn_arena_free(&a);
    enum nn_act act;
    assert_int_equal(nn_act_parse("tanh", &act), 0);
    assert_int_equal(act, NN_ACT_TANH);
    assert_int_equal(nn_act_parse("sigmoidish", &act), -1);
}

/* The kernel choice of nn_blas_pick_core: only a pre-AVX2 detection on an AVX2 CPU is changed. */
static void test_blas_core(void **state)
{
    (void)state;
    assert_string_equal(nn_blas_core_upgrade("Prescott", true, true), "SkylakeX");
    assert_string_equal(nn_blas_core_upgrade("Prescott", true, false), "Haswell");
    assert_string_equal(nn_blas_core_upgrade("Sandybridge", true, false), "Haswell");
    assert_string_equal(nn_blas_core_upgrade("Nehalem", true, true), "SkylakeX");
    assert_null(nn_blas_core_upgrade("Prescott", false, false));     /* an old CPU: keep */
    assert_null(nn_blas_core_upgrade("SkylakeX", true, true));
    assert_null(nn_blas_core_upgrade("Haswell", true, true));       /* OpenBLAS's choice stands */
    assert_null(nn_blas_core_upgrade("zen", true, false));
    assert_null(nn_blas_core_upgrade("SapphireRapids", true, true));
    assert_null(nn_blas_core_upgrade(NULL, true, true));
}

static void *flushed_in_thread(void *out)
{
    *(bool *)out = nn_fp_denormals_flushed();
    return NULL;
}

/* Flush-to-zero: off in a fresh process (IEEE), on after nn_fp_flush_denormals in this thread and
 * in a thread created afterwards (main() relies on that inheritance for the worker threads). */
static void test_denormals(void **state)
{
    (void)state;
    volatile float half = 0.5f, m = FLT_MIN;
    assert_false(nn_fp_denormals_flushed());
    assert_true(m * half > 0.0f);   /* a denormal, kept */
    if (!nn_fp_flush_denormals()) skip();
    assert_true(nn_fp_denormals_flushed());
    assert_true(m * half == 0.0f);
    bool in_thread = false;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, flushed_in_thread, &in_thread), 0);
    pthread_join(t, NULL);
    assert_true(in_thread);
    /* OpenBLAS's own worker threads, started before this test, flush too: every product of
     * A (64×256 of 1e-20) and B (256×512 of 1e-20) is 1e-40, a denormal that becomes 0, so C is
     * 0 (IEEE would give 256 × 1e-40 ≈ 2.6e-38 everywhere).  Large enough for OpenBLAS to split. */
    if (qv_ncpu() < 2) return;
    int old = nn_blas_threads(2);
    enum { M = 64, K = 256, N = 512 };
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
    float *c = malloc(sizeof(float) * M * N);
    assert_true(a && b && c);
    for (int i = 0; i < M * K; i++) a[i] = 1e-20f;
    for (int i = 0; i < K * N; i++) b[i] = 1e-20f;
    for (int rep = 0; rep < 4; rep++) {
        for (int i = 0; i < M * N; i++) c[i] = 1.0f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c,
                    N);
        int nonzero = 0;
        for (int i = 0; i < M * N; i++) nonzero += c[i] != 0.0f;
        assert_int_equal(nonzero, 0);
    }
    nn_blas_threads(old);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_math),
        cmocka_unit_test(test_dense_linear),
        cmocka_unit_test(test_dense_tanh),
        cmocka_unit_test(test_dense_relu),
        cmocka_unit_test(test_dense_leaky),
        cmocka_unit_test(test_bernoulli),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_blas_core),
        cmocka_unit_test(test_denormals),   /* last: it changes this process's float mode */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
