/* kern_isa_gemm.c — the dense layers' matrix products (nn.c) in explicit AVX2 / AVX-512 code,
 * compiled once per instruction set like kern_isa.c (SSE2 has no FMA: that path keeps OpenBLAS).
 *
 * Why not OpenBLAS here: a training block multiplies 50–100 rows by weight matrices of up to
 * 784 × 512, and sgemm packs the whole weight operand on every call — as much memory traffic as
 * the product itself at these row counts, and paid once per data-parallel block, so two blocks
 * pack every weight twice per step (the largest part of what two threads lost against one).
 * These kernels read the weights where they lie: a 3-vector column panel of B (or a few rows of
 * it) stays in L1/L2 while the rows of A stream past, and nothing is packed.
 *
 * Each element's sum has one fixed order, whatever M, the blocking or the path:
 *   NN, TN  c = fma(a_{K−1}, b_{K−1}, … fma(a_0, b_0, 0)) — k ascending, one FMA chain;
 *   NT      16 partial sums s_l = the FMA chain over k ≡ l (mod 16), k ascending, then the
 *           fixed tree ((s_l + s_{l+8}) + …) folding 16 → 8 → 4 → 2 → 1.
 * So a row's result does not depend on which block or how many rows it was computed with, and
 * the AVX2 and AVX-512 paths give the same bits for NN and TN (tests/test_gemm.c checks both);
 * NT is AVX-512's only (see gemm_nt). */
#include "simd.h"
#include "simd_sqa.h"   /* KNAME */

#if defined(__AVX512F__)
/* ---- AVX-512: 16-float vectors, 8-row tiles ------------------------------------------------ */
#define GW 16
#define GR 8
typedef __m512 gv;
typedef __mmask16 gm;
static inline gm gmask(int n) { return n >= 16 ? (gm)0xffff : n <= 0 ? (gm)0 : (gm)((1u << n) - 1u); }
#define G_ZERO() _mm512_setzero_ps()
#define G_LD(p) _mm512_loadu_ps(p)
#define G_LDM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define G_STM(p, v, m) _mm512_mask_storeu_ps((p), (m), (v))
#define G_SET1(x) _mm512_set1_ps(x)
#define G_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define HAVE_GEMM 1
#elif defined(__AVX2__) && defined(__FMA__)
/* ---- AVX2 + FMA: 8-float vectors, 4-row tiles (16 ymm registers) ----------------------------- */
#define GW 8
#define GR 4
typedef __m256 gv;
typedef __m256i gm;
static inline gm gmask(int n)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
}
#define G_ZERO() _mm256_setzero_ps()
#define G_LD(p) _mm256_loadu_ps(p)
#define G_LDM(p, m) _mm256_maskload_ps((p), (m))
#define G_STM(p, v, m) _mm256_maskstore_ps((p), (m), (v))
#define G_SET1(x) _mm256_set1_ps(x)
#define G_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define HAVE_GEMM 1
#else
#define HAVE_GEMM 0
#endif

#if HAVE_GEMM

/* ---- NN and TN: C [M × N] (=|+=) A·B, A(i, k) at A[i·sai + k·sak], B row-major --------------
 * A tile is R rows × 3 vectors of C; the panel's last vectors may be partial (masks m1, m2, all
 * three given).  acc: continue the chains stored in C (a later k-block), else start from 0. */
#define GEMM_PANEL (3 * GW)
#define GEMM_KB 128    /* k-block: a 128 × 3-vector panel of B stays in L1 across a row block */
#define GEMM_MB 64     /* row block: its 64 × 128 floats of A stay in L2 across the panels */

struct panel { gm m0, m1, m2; bool full; };

#define R_DECL(r) gv c##r##0, c##r##1, c##r##2;
#define R_INIT(r)                                                                                \
    if (acc) {                                                                                   \
        c##r##0 = G_LDM(C + (r) * ldc, pn->m0);                                                  \
        c##r##1 = G_LDM(C + (r) * ldc + GW, pn->m1);                                             \
        c##r##2 = G_LDM(C + (r) * ldc + 2 * GW, pn->m2);                                         \
    } else {                                                                                     \
        c##r##0 = c##r##1 = c##r##2 = G_ZERO();                                                  \
    }
#define R_STEP(r)                                                                                \
    {                                                                                            \
        const gv a = G_SET1(A[(r) * sai + k * sak]);                                             \
        c##r##0 = G_FMA(a, b0, c##r##0);                                                         \
        c##r##1 = G_FMA(a, b1, c##r##1);                                                         \
        c##r##2 = G_FMA(a, b2, c##r##2);                                                         \
    }
#define R_STORE(r)                                                                               \
    G_STM(C + (r) * ldc, c##r##0, pn->m0);                                                       \
    G_STM(C + (r) * ldc + GW, c##r##1, pn->m1);                                                  \
    G_STM(C + (r) * ldc + 2 * GW, c##r##2, pn->m2);

#define ROWS1(X) X(0)
#define ROWS4(X) X(0) X(1) X(2) X(3)
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#if GR == 8
#define ROWSR ROWS8
#else
#define ROWSR ROWS4
#endif

#define AB_TILE(NAME, ROWS)                                                                      \
    static void NAME(int K, const float *A, long sai, long sak, const float *B, long ldb,          \
                     float *C, long ldc, const struct panel *pn, bool acc)                       \
    {                                                                                            \
        ROWS(R_DECL)                                                                             \
        ROWS(R_INIT)                                                                             \
        if (pn->full) {                                                                          \
            for (long k = 0; k < K; k++) {                                                       \
                const float *b = B + k * ldb;                                                    \
                const gv b0 = G_LD(b), b1 = G_LD(b + GW), b2 = G_LD(b + 2 * GW);                 \
                ROWS(R_STEP)                                                                     \
            }                                                                                    \
        } else {                                                                                 \
            for (long k = 0; k < K; k++) {                                                       \
                const float *b = B + k * ldb;                                                    \
                const gv b0 = G_LDM(b, pn->m0), b1 = G_LDM(b + GW, pn->m1),                      \
                         b2 = G_LDM(b + 2 * GW, pn->m2);                                         \
                ROWS(R_STEP)                                                                     \
            }                                                                                    \
        }                                                                                        \
        ROWS(R_STORE)                                                                            \
    }

AB_TILE(ab_tile_r, ROWSR)
AB_TILE(ab_tile_1, ROWS1)

static void gemm_ab(int M, int N, int K, const float *A, long sai, long sak, const float *B,
                    long ldb, float *C, long ldc)
{
    for (int i0 = 0; i0 < M; i0 += GEMM_MB) {
        const int i1 = M - i0 < GEMM_MB ? M : i0 + GEMM_MB;
        for (int k0 = 0; k0 < K; k0 += GEMM_KB) {
            const int kk = K - k0 < GEMM_KB ? K - k0 : GEMM_KB;
            for (int j = 0; j < N; j += GEMM_PANEL) {
                const int n = N - j;
                const struct panel pn = {gmask(n), gmask(n - GW), gmask(n - 2 * GW), n >= GEMM_PANEL};
                const float *Bk = B + (long)k0 * ldb + j;
                int i = i0;
                for (; i + GR <= i1; i += GR)
                    ab_tile_r(kk, A + i * sai + k0 * sak, sai, sak, Bk, ldb, C + (long)i * ldc + j,
                              ldc, &pn, k0 > 0);
                for (; i < i1; i++)
                    ab_tile_1(kk, A + i * sai + k0 * sak, sai, sak, Bk, ldb, C + (long)i * ldc + j,
                              ldc, &pn, k0 > 0);
            }
        }
    }
}

#if GW == 16
/* ---- NT (AVX-512 only): C [M × N] = A·Bᵀ, A [M × K] and B [N × K] row-major ----------------
 * Dot products along k in 4 × 4 tiles (4 rows of A × 4 rows of B, 16 of the 32 zmm registers);
 * each element is a 16-lane partial sum folded by the fixed tree at the end.  Rows past the edge
 * repeat the last row (computed, not stored).  AVX2 has no NT: a 2 × 3 tile of ymm pairs ran at
 * 47 % of the AVX2 peak, 1.7× OpenBLAS's Haswell kernel (50 × 784 × 512: 0.94 against 0.55 ms),
 * so gemm refuses NT there and nn.c keeps OpenBLAS. */
#define NT_T 4

/* the fixed fold of a 16-lane partial sum: lanes l and l + 8, then l + 4, l + 2, l + 1 */
static inline float fold16(__m512 s)
{
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}

static void nt_tile(int K, const float *const *a, const float *const *b, float out[NT_T][NT_T])
{
    __m512 s[NT_T][NT_T];
    SIMD_UNROLL
    for (int x = 0; x < NT_T; x++)
        for (int y = 0; y < NT_T; y++) s[x][y] = _mm512_setzero_ps();
    int k = 0;
    for (; k < K; k += 16) {
        /* whole vectors, then the masked tail (zeros add nothing to a chain) */
        const __mmask16 m = gmask(K - k);
        __m512 av[NT_T];
        SIMD_UNROLL
        for (int x = 0; x < NT_T; x++) av[x] = _mm512_maskz_loadu_ps(m, a[x] + k);
        SIMD_UNROLL
        for (int y = 0; y < NT_T; y++) {
            const __m512 by = _mm512_maskz_loadu_ps(m, b[y] + k);
            SIMD_UNROLL
            for (int x = 0; x < NT_T; x++) s[x][y] = _mm512_fmadd_ps(av[x], by, s[x][y]);
        }
    }
    for (int x = 0; x < NT_T; x++)
        for (int y = 0; y < NT_T; y++) out[x][y] = fold16(s[x][y]);
}

static void gemm_nt(int M, int N, int K, const float *A, long lda, const float *B, long ldb,
                    float *C, long ldc)
{
    for (int p = 0; p < N; p += NT_T)
        for (int i = 0; i < M; i += NT_T) {
            const float *a[NT_T], *b[NT_T];
            for (int t = 0; t < NT_T; t++) {
                a[t] = A + (long)(i + t < M ? i + t : M - 1) * lda;
                b[t] = B + (long)(p + t < N ? p + t : N - 1) * ldb;
            }
            float out[NT_T][NT_T];
            nt_tile(K, a, b, out);
            for (int x = 0; x < NT_T && i + x < M; x++)
                for (int y = 0; y < NT_T && p + y < N; y++) C[(long)(i + x) * ldc + p + y] = out[x][y];
        }
}
#endif

int KNAME(gemm)(bool ta, bool tb, int M, int N, int K, const float *A, int lda, const float *B,
                int ldb, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0) {   /* an empty sum */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(long)i * ldc + j] = 0.0f;
        return 0;
    }
    if (!ta && !tb) gemm_ab(M, N, K, A, lda, 1, B, ldb, C, ldc);
    else if (ta && !tb) gemm_ab(M, N, K, A, 1, lda, B, ldb, C, ldc);
#if GW == 16
    else if (!ta && tb) gemm_nt(M, N, K, A, lda, B, ldb, C, ldc);
#endif
    else return -1;   /* TT; and NT on AVX2 (see gemm_nt) */
    return 0;
}

#endif
