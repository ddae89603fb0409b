/* test_gemm.c — the dense layers' own matrix products (kern_isa_gemm.c, the simd_kernels table's
 * gemm on the AVX2 and AVX-512 paths; SSE2 has none and nn.c uses OpenBLAS there).
 *
 * Against independent truth: every element of NN (y = x·w), TN (∂w = xᵀ·dy) and NT (dx = dy·wᵀ)
 * against a double-precision sum written here, within a bound of the float rounding of a K-term
 * sum (K·2⁻²³·Σ|a·b|, generous), over shapes that hit every edge of the tiling: rows not a
 * multiple of the 4/8-row tile, columns not a multiple of the 16/8-float vectors or of the
 * 3-vector panel, K across the 128-wide k-blocks and not a multiple of NT's 16 lanes, K = 1, K = 0,
 * strided operands (ld > width), and C's elements outside the product left untouched.
 * The promises that make training's bits independent of the block count and the path:
 *   - a row computed alone, or within any row range, equals the same row of the full product
 *     (no element's order depends on M or on where the rows start);
 *   - the AVX2 and AVX-512 paths give identical bits for NN and TN (when this CPU runs both);
 *     NT is AVX-512's only — AVX2 refuses it (-1) and nn.c uses OpenBLAS there;
 *   - NN and TN agree bit for bit with one FMA chain in k order computed here with fmaf.
 * And TT is refused (-1, nn.c then uses OpenBLAS). */
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

#include "rng.h"
#include "simd.h"

typedef int (*gemm_fn)(bool, bool, int, int, int, const float *, int, const float *, int, float *, int);
/* element (i, k) of op(A): A row-major with leading dimension lda, transposed if t */
static float at(const float *A, int lda, bool t, int i, int k)
{
    return t ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
}

static void fill(float *x, size_t n, struct rng *r)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(rng_uniform(r) * 2.0 - 1.0);
}

struct prob {
    bool ta, tb;
    int M, N, K, lda, ldb, ldc;
    float *A, *B, *C;
};

/* A problem with leading dimensions `pad` floats wider than needed; C pre-filled with a marker. */
static void prob_init(struct prob *p, bool ta, bool tb, int M, int N, int K, int pad, struct rng *r)
{
    *p = (struct prob){.ta = ta, .tb = tb, .M = M, .N = N, .K = K};
    const int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    p->lda = ac + pad;
    p->ldb = bc + pad;
    p->ldc = N + pad;
    p->A = malloc(sizeof(float) * ((size_t)ar * p->lda + 1));
    p->B = malloc(sizeof(float) * ((size_t)br * p->ldb + 1));
    p->C = malloc(sizeof(float) * ((size_t)M * p->ldc + 1));
    fill(p->A, (size_t)ar * p->lda + 1, r);
    fill(p->B, (size_t)br * p->ldb + 1, r);
    for (size_t i = 0; i < (size_t)M * p->ldc + 1; i++) p->C[i] = 12345.0f;
}

static void prob_free(struct prob *p)
{
    free(p->A);
    free(p->B);
    free(p->C);
}

/* every element within the rounding bound of the double sum; the padding untouched */
static void check_against_double(const struct prob *p)
{
    for (int i = 0; i < p->M; i++) {
        for (int j = 0; j < p->N; j++) {
            double s = 0.0, mag = 0.0;
            for (int k = 0; k < p->K; k++) {
                const double v = (double)at(p->A, p->lda, p->ta, i, k) * at(p->B, p->ldb, !p->tb, j, k);
                s += v;
                mag += fabs(v);
            }
            const double got = p->C[(size_t)i * p->ldc + j], tol = (p->K + 2) * 0x1p-23 * mag + 1e-30;
            if (fabs(got - s) > tol)
                fail_msg("%s%s M=%d N=%d K=%d: C[%d][%d] = %.9g, double sum %.9g (tol %.3g)",
                         p->ta ? "T" : "N", p->tb ? "T" : "N", p->M, p->N, p->K, i, j, got, s, tol);
        }
        for (int j = p->N; j < p->ldc && i < p->M - 1; j++)
            assert_true(p->C[(size_t)i * p->ldc + j] == 12345.0f);
    }
    assert_true(p->C[(size_t)p->M * p->ldc] == 12345.0f);
}

/* NN / TN: the documented order, one FMA chain over k from 0 */
static void check_fma_chain(const struct prob *p)
{
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->N; j++) {
            float c = 0.0f;
            for (int k = 0; k < p->K; k++)
                c = fmaf(at(p->A, p->lda, p->ta, i, k), at(p->B, p->ldb, !p->tb, j, k), c);
            if (memcmp(&c, &p->C[(size_t)i * p->ldc + j], sizeof c) != 0)
                fail_msg("%s%s M=%d N=%d K=%d: C[%d][%d] = %a, the FMA chain gives %a", p->ta ? "T" : "N",
                         p->tb ? "T" : "N", p->M, p->N, p->K, i, j, p->C[(size_t)i * p->ldc + j], c);
        }
}

/* rows [r0, r1) computed alone equal the full product's rows, bit for bit */
static void check_row_ranges(gemm_fn g, const struct prob *p)
{
    float *C = malloc(sizeof(float) * (size_t)p->M * p->ldc);
    const int cuts[][2] = {{0, 1}, {1, 2}, {p->M / 2, p->M}, {p->M - 1, p->M}, {p->M / 3, p->M / 3 + 5}};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        int r0 = cuts[c][0], r1 = cuts[c][1] < p->M ? cuts[c][1] : p->M;
        if (r0 >= r1) continue;
        const float *A = p->ta ? p->A + r0 : p->A + (size_t)r0 * p->lda;
        assert_int_equal(g(p->ta, p->tb, r1 - r0, p->N, p->K, A, p->lda, p->B, p->ldb, C, p->ldc), 0);
        for (int i = r0; i < r1; i++)
            assert_memory_equal(C + (size_t)(i - r0) * p->ldc, p->C + (size_t)i * p->ldc,
                                sizeof(float) * (size_t)p->N);
    }
    free(C);
}

static const int shapes[][3] = {
    /* M, N, K: the training block shapes, then every edge of the tiles, panels and k-blocks */
    {50, 512, 784}, {50, 288, 256}, {100, 784, 512}, {1, 1, 1}, {3, 5, 7}, {9, 17, 33},
    {13, 47, 129}, {8, 48, 128}, {7, 49, 127}, {65, 97, 257}, {4, 16, 16}, {5, 15, 15}, {2, 3, 0},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void run_path(enum simd_isa isa, float **out)
{
    const struct simd_kernels *k = simd_kernels_for(isa);
    if (!k) return;
    assert_non_null(k->gemm);
    float one = 1.0f, zero = 0.0f;
    /* gemm itself: NT on AVX-512 only */
    assert_int_equal(k->gemm(false, true, 1, 1, 1, &one, 1, &one, 1, &zero, 1), isa == SIMD_AVX512 ? 0 : -1);
    struct rng r;
    int o = 0;
    for (int mode = 0; mode < (isa == SIMD_AVX512 ? 3 : 2); mode++) {
        const bool ta = mode == 1, tb = mode == 2;
        for (size_t s = 0; s < NSHAPES; s++)
            for (int pad = 0; pad <= 3; pad += 3) {
                rng_init(&r, 7, (uint64_t)(mode * 100 + (int)s * 2 + pad));
                struct prob p;
                prob_init(&p, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], pad, &r);
                assert_int_equal(k->gemm(ta, tb, p.M, p.N, p.K, p.A, p.lda, p.B, p.ldb, p.C, p.ldc), 0);
                check_against_double(&p);
                if (!tb) check_fma_chain(&p);
                check_row_ranges(k->gemm, &p);
                /* keep the results for the cross-path comparison */
                out[o] = malloc(sizeof(float) * (size_t)p.M * p.ldc + sizeof(float));
                memcpy(out[o], p.C, sizeof(float) * (size_t)p.M * p.ldc + sizeof(float));
                o++;
                prob_free(&p);
            }
    }
    float a = 1.0f, c = 0.0f;
    assert_int_equal(k->gemm(true, true, 1, 1, 1, &a, 1, &a, 1, &c, 1), -1);
}

static void test_gemm_paths(void **state)
{
    (void)state;
    enum { NRES = 3 * NSHAPES * 2 };
    float *res[2][NRES] = {{0}};
    assert_null(simd_kernels_for(SIMD_SSE2)->gemm);
    int ran = 0;
    for (int p = 0; p < 2; p++) {
        const enum simd_isa isa = p ? SIMD_AVX512 : SIMD_AVX2;
        if (!simd_kernels_for(isa)) {
            print_message("gemm: %s not run by this CPU\n", simd_isa_name(isa));
            continue;
        }
        run_path(isa, res[p]);
        ran++;
    }
    if (ran == 2) {   /* the same bits on both paths: every element of every NN and TN problem */
        int o = 0;
        for (int mode = 0; mode < 2; mode++)
            for (size_t s = 0; s < NSHAPES; s++)
                for (int pad = 0; pad <= 3; pad += 3, o++) {
                    const size_t n = (size_t)shapes[s][0] * (size_t)(shapes[s][1] + pad);
                    assert_memory_equal(res[0][o], res[1][o], sizeof(float) * n);
                }
    }
    for (int p = 0; p < 2; p++)
        for (int o = 0; o < NRES; o++) free(res[p][o]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
