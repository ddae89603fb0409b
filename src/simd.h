/* simd.h — the SIMD math shared by the hot kernels (samp_kernel's sweeps, sqa's slice updates)
 * and by nn's elementwise math: GCC/Clang vector types, a branch-free exp, and the per-lane
 * xoshiro128+ random stream; plus the runtime choice of instruction set (simd.c).
 *
 * Everything here is written with vector extensions and bit operations only, so it is branch-free
 * by construction and lowers to whatever vectors the translation unit is compiled for: one zmm
 * register per 16 floats with AVX-512, two ymm with AVX2, four xmm with SSE2.  No operation
 * depends on the width (no FMA contraction: the build is -std=c11, i.e. -ffp-contract=off), so a
 * kernel computes bit-identical results on every path.
 *
 * Dispatch: the kernel translation unit (src/kern_isa.c) is compiled once per instruction set
 * (Makefile: SIMD_ISAS) and exports one struct simd_kernels each; simd_kernels() returns the table
 * chosen once (the best the CPU runs, or QVAE_ISA=sse2|avx2|avx512). */
#ifndef QV_SIMD_H
#define QV_SIMD_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- vector types ----------------------------------------------------------------------------
 * A block of the samplers is SIMD_W = 16 lanes of 32 bits (one cache line).  Code works on it as
 * SIMD_NB native vectors of SIMD_NL lanes (the widest the translation unit's target has: 16 with
 * AVX-512, 8 with AVX, 4 otherwise): GCC lowers wider-than-native comparisons lane by lane, so
 * every vector here is native. */
#define SIMD_W 16
#if defined(__AVX512F__)
#define SIMD_NL 16
#elif defined(__AVX__)
#define SIMD_NL 8
#else
#define SIMD_NL 4
#endif
#define SIMD_NB (SIMD_W / SIMD_NL)
typedef float    simd_v  __attribute__((vector_size(SIMD_NL * 4)));
typedef int32_t  simd_vi __attribute__((vector_size(SIMD_NL * 4)));
typedef uint32_t simd_vu __attribute__((vector_size(SIMD_NL * 4)));

#define SIMD_INLINE static inline __attribute__((always_inline))
/* Before a loop over the vectors of a block or worldline (a compile-time count ≤ 16): unrolled
 * completely, the vectors stay in registers (GCC's -O2 leaves such loops rolled, in memory). */
#define SIMD_UNROLL _Pragma("GCC unroll 16")

/* Loads and stores through memcpy: any alignment, no aliasing questions; compiles to one move. */
SIMD_INLINE simd_v simd_load(const float *p) { simd_v v; memcpy(&v, p, sizeof v); return v; }
SIMD_INLINE void simd_store(float *p, simd_v v) { memcpy(p, &v, sizeof v); }
SIMD_INLINE simd_vu simd_loadu(const uint32_t *p) { simd_vu v; memcpy(&v, p, sizeof v); return v; }
SIMD_INLINE void simd_storeu(uint32_t *p, simd_vu v) { memcpy(p, &v, sizeof v); }
SIMD_INLINE simd_v simd_set1(float x)   /* a broadcast ({0} + x would add 0: not exact for −0) */
{
    simd_v v = {0};   /* every lane is overwritten; initialised for -O1's may-be-uninitialised */
    for (int l = 0; l < SIMD_NL; l++) v[l] = x;
    return v;
}

/* acc + w·z where the product is exact (z ∈ {0, 1} or ±1): a fused multiply-add, where the
 * target has one, then rounds once exactly as the multiply-then-add of the others. */
SIMD_INLINE simd_v simd_madd_exact(simd_v w, simd_v z, simd_v acc)
{
#if defined(__AVX512F__)
    return (simd_v)_mm512_fmadd_ps((__m512)w, (__m512)z, (__m512)acc);
#elif defined(__FMA__)
    return (simd_v)_mm256_fmadd_ps((__m256)w, (__m256)z, (__m256)acc);
#else
    return acc + w * z;
#endif
}

/* Bit l of the result = lane l of the comparison result m is true. */
SIMD_INLINE uint32_t simd_movemask(simd_vi m)
{
#if defined(__AVX512F__)
    return (uint32_t)_mm512_movepi32_mask((__m512i)m);
#elif defined(__AVX__)
    return (uint32_t)_mm256_movemask_ps((__m256)m);
#else
    return (uint32_t)_mm_movemask_ps((__m128)m);
#endif
}

/* Lane l all ones iff bit l of bits is set (the inverse of simd_movemask). */
SIMD_INLINE simd_vi simd_bitmask(uint32_t bits)
{
    simd_vi sel;
    for (int l = 0; l < SIMD_NL; l++) sel[l] = 1 << l;
    return (sel & (int32_t)bits) == sel;
}

/* a > b ? a : b and a < b ? a : b per lane (one instruction; NaN in b passes through). */
SIMD_INLINE simd_v simd_max(simd_v a, simd_v b)
{
#if SIMD_NL == 16
    return (simd_v)_mm512_max_ps((__m512)a, (__m512)b);
#elif SIMD_NL == 8
    return (simd_v)_mm256_max_ps((__m256)a, (__m256)b);
#else
    return (simd_v)_mm_max_ps((__m128)a, (__m128)b);
#endif
}
SIMD_INLINE simd_v simd_min(simd_v a, simd_v b)
{
#if SIMD_NL == 16
    return (simd_v)_mm512_min_ps((__m512)a, (__m512)b);
#elif SIMD_NL == 8
    return (simd_v)_mm256_min_ps((__m256)a, (__m256)b);
#else
    return (simd_v)_mm_min_ps((__m128)a, (__m128)b);
#endif
}

/* Lanes moved across a pair of vectors (a ring of slices held in registers), by constant lane
 * lists (__builtin_shufflevector: GCC ≥ 12 and Clang):
 *   simd_shift_in(p, c, d) = {p[NL−d], …, p[NL−1], c[0], …, c[NL−1−d]}   (d = 1, 2, 4, 8 < NL)
 *   simd_from_right(c, q)  = {c[1], …, c[NL−1], q[0]}. */
#if SIMD_NL == 16
#define SIMD_SH1 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
#define SIMD_SH2 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29
#define SIMD_SH4 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27
#define SIMD_SH8 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23
#define SIMD_SHR 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#elif SIMD_NL == 8
#define SIMD_SH1 7, 8, 9, 10, 11, 12, 13, 14
#define SIMD_SH2 6, 7, 8, 9, 10, 11, 12, 13
#define SIMD_SH4 4, 5, 6, 7, 8, 9, 10, 11
#define SIMD_SHR 1, 2, 3, 4, 5, 6, 7, 8
#else
#define SIMD_SH1 3, 4, 5, 6
#define SIMD_SH2 2, 3, 4, 5
#define SIMD_SHR 1, 2, 3, 4
#endif
SIMD_INLINE simd_v simd_shift_in(simd_v p, simd_v c, int d)
{
    switch (d) {
    case 1: return __builtin_shufflevector(p, c, SIMD_SH1);
    case 2: return __builtin_shufflevector(p, c, SIMD_SH2);
#if SIMD_NL > 4
    case 4: return __builtin_shufflevector(p, c, SIMD_SH4);
#endif
#if SIMD_NL > 8
    case 8: return __builtin_shufflevector(p, c, SIMD_SH8);
#endif
    default: return c;   /* not reached: d is a power of two below SIMD_NL */
    }
}
SIMD_INLINE simd_v simd_from_left(simd_v p, simd_v c) { return simd_shift_in(p, c, 1); }
SIMD_INLINE simd_v simd_from_right(simd_v c, simd_v q) { return __builtin_shufflevector(c, q, SIMD_SHR); }

/* m ? a : b per lane, m a comparison result (all ones / all zeros per lane).  AVX's blend is
 * one instruction where and/andnot/or are three (the sweeps' decisions are made of these). */
SIMD_INLINE simd_v simd_sel(simd_vi m, simd_v a, simd_v b)
{
#if SIMD_NL == 8
    return (simd_v)_mm256_blendv_ps((__m256)b, (__m256)a, (__m256)m);
#else
    return (simd_v)(((simd_vi)a & m) | ((simd_vi)b & ~m));
#endif
}

/* ---- exp, generic over the vector type --------------------------------------------------------
 * x clamped to [−87, 88] (so 2^n stays a normal float); n = round(x·log2 e) by adding 1.5·2^23
 * (the float addition rounds to the nearest integer and leaves n in the low mantissa bits: no
 * float → int conversion, so NaN needs no special case and stays NaN); x = n·ln2 + r with ln2
 * split in two constants (Cephes), so r is exact to ~1e-11; e^r by Cephes' degree-6 polynomial;
 * 2^n built in the exponent bits.  At most 1 ulp from the exact value on the whole range
 * (test_simd).  SIMD_DEF_EXP(name, VF, VI, MAX, MIN) defines `static inline VF name(VF x)` for a float
 * vector type VF and the int32 vector type VI of the same length, given MAX(a, b) = a > b ? a : b
 * and MIN(a, b) = a < b ? a : b per lane (x86's maxps/minps: the second operand when either is
 * NaN); a one-lane vector gives the scalar version, bit for bit every lane of the vector ones. */
#define SIMD_DEF_EXP(name, VF, VI, MAX, MIN)                                                       \
    SIMD_INLINE VF name(VF x)                                                                      \
    {                                                                                              \
        x = MIN((VF){0} + 88.0f, MAX((VF){0} - 87.0f, x));   /* NaN passes through */           \
        const VF y = x * 1.44269504088896341f + 12582912.0f;                                       \
        const VF nf = y - 12582912.0f;                                                             \
        VF r = x - nf * 0.693359375f;                                                              \
        r = r + nf * 2.12194440e-4f;                                                               \
        VF p = (VF){0} + 1.9875691500e-4f;                                                         \
        p = p * r + 1.3981999507e-3f;                                                              \
        p = p * r + 8.3334519073e-3f;                                                              \
        p = p * r + 4.1665795894e-2f;                                                              \
        p = p * r + 1.6666665459e-1f;                                                              \
        p = p * r + 5.0000001201e-1f;                                                              \
        p = p * r * r + r + 1.0f;                                                                  \
        return p * (VF)((((VI)y - 0x4B400000) + 127) << 23);                                       \
    }

SIMD_DEF_EXP(simd_exp, simd_v, simd_vi, simd_max, simd_min)

typedef float   simd_f1 __attribute__((vector_size(4)));
typedef int32_t simd_i1 __attribute__((vector_size(4)));
SIMD_INLINE simd_f1 simd_max1(simd_f1 a, simd_f1 b) { return (simd_f1){a[0] > b[0] ? a[0] : b[0]}; }
SIMD_INLINE simd_f1 simd_min1(simd_f1 a, simd_f1 b) { return (simd_f1){a[0] < b[0] ? a[0] : b[0]}; }
SIMD_DEF_EXP(simd_exp_v1, simd_f1, simd_i1, simd_max1, simd_min1)
/* The scalar exp: the same operations on one lane, so scalar and vector code agree bit for bit. */
SIMD_INLINE float simd_expf(float x) { return simd_exp_v1((simd_f1){x})[0]; }

/* ---- log, generic over the vector type ---------------------------------------------------------
 * For x > 0 and normal: x = 2^e·m with m in [√½, √2) (the mantissa in [½, 1), doubled below √½),
 * log(1 + f) for f = m − 1 by Cephes' degree-8 polynomial in f plus −f²/2, and e·ln2 added in the
 * same two parts as the exp's.  SIMD_DEF_LOG(name, VF, VI, SEL) defines `static inline VF name(VF x)`
 * given SEL(m, a, b) = m ? a : b per lane; the one-lane instance is the scalar log (nn's scalar
 * tails), bit for bit every lane of the vector ones. */
#define SIMD_DEF_LOG(name, VF, VI, SEL)                                                            \
    SIMD_INLINE VF name(VF x)                                                                      \
    {                                                                                              \
        const VI bits = (VI)x;                                                                     \
        VI e = ((bits >> 23) & 0xff) - 126;                                                        \
        VF m = (VF)((bits & (int32_t)0x807fffff) | 0x3f000000);                                    \
        const VI lo = m < 0.707106781186547524f;                                                   \
        e = e + lo;                                    /* lo lanes are −1 */                       \
        m = SEL(lo, m + m - 1.0f, m - 1.0f);                                                       \
        const VF z = m * m;                                                                        \
        VF y = (VF){0} + 7.0376836292e-2f;                                                         \
        y = y * m - 1.1514610310e-1f;                                                              \
        y = y * m + 1.1676998740e-1f;                                                              \
        y = y * m - 1.2420140846e-1f;                                                              \
        y = y * m + 1.4249322787e-1f;                                                              \
        y = y * m - 1.6668057665e-1f;                                                              \
        y = y * m + 2.0000714765e-1f;                                                              \
        y = y * m - 2.4999993993e-1f;                                                              \
        y = y * m + 3.3333331174e-1f;                                                              \
        y = y * m * z;                                                                             \
        const VF ef = __builtin_convertvector(e, VF);                                              \
        y += -2.12194440e-4f * ef;                                                                 \
        y += -0.5f * z;                                                                            \
        return m + y + 0.693359375f * ef;                                                          \
    }


SIMD_INLINE simd_f1 simd_sel1(simd_i1 m, simd_f1 a, simd_f1 b) { return m[0] ? a : b; }
SIMD_DEF_LOG(simd_log_v1, simd_f1, simd_i1, simd_sel1)
/* The scalar log: the same operations on one lane. */
SIMD_INLINE float simd_logf(float x) { return simd_log_v1((simd_f1){x})[0]; }

/* ---- per-lane xoshiro128+ ---------------------------------------------------------------------
 * One independent generator per lane; s[r] holds word r of the lanes' 128-bit states (in memory
 * a block's state is [4][SIMD_W] uint32, native vector h covering lanes h·SIMD_NL …).  Returns
 * the next 32-bit output of each lane. */
SIMD_INLINE simd_vu simd_xoshiro_next(simd_vu s[4])
{
    simd_vu r = s[0] + s[3];
    simd_vu t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 11) | (s[3] >> 21);
    return r;
}
/* The top 24 bits of r as a float uniform: in [0, 1) (open = false) or (0, 1) (open = true,
 * centred in its 2^-24 bin, so 0 never comes out: u < p then means probability p exactly). */
SIMD_INLINE simd_v simd_uniform(simd_vu r, bool open)
{
    simd_v u = __builtin_convertvector((simd_vi)(r >> 8), simd_v);
    return (open ? u + 0.5f : u) * 0x1p-24f;
}
/* Load / store the generator state of native vector h of a block from rs [4][SIMD_W]. */
SIMD_INLINE void simd_xoshiro_load(simd_vu s[4], const uint32_t *rs, int h)
{
    for (int r = 0; r < 4; r++) s[r] = simd_loadu(rs + r * SIMD_W + h * SIMD_NL);
}
SIMD_INLINE void simd_xoshiro_store(const simd_vu s[4], uint32_t *rs, int h)
{
    for (int r = 0; r < 4; r++) simd_storeu(rs + r * SIMD_W + h * SIMD_NL, s[r]);
}

/* ---- the kernel table and the choice of instruction set ------------------------------------ */
struct sk_model;
struct sk_fac;
struct sqa_sweep;

enum simd_isa { SIMD_SSE2 = 0, SIMD_AVX2 = 1, SIMD_AVX512 = 2, SIMD_NISA };

struct simd_kernels {
    enum simd_isa isa;
    const char *name;          /* "sse2", "avx2", "avx512" */
    /* samp_kernel.h: nsweeps sweeps of one block of SIMD_W chains (metropolis 0: heat-bath);
     * fac: NULL (fields and exp at the lanes' β) or nfac tables of Boltzmann factors (struct
     * sk_fac), used in turn for nsweeps sweeps each (beta unused) */
    void (*sweep)(const struct sk_model *m, const struct sk_fac *fac, long nfac, float *z,
                  uint32_t *rs, const float *beta, int metropolis, int nsweeps);
    /* bytes of a block's float lines (n · 64) above which its lane bits are the faster reading
     * of the factor path: 0 with AVX-512's masks; AVX2's word blends beat its float loads only
     * past L2's comfort (P16 yes, C16 no); SSE2 never (SIZE_MAX) */
    size_t bits_from;
    /* the same on a block held as lane bits zs [n] only; fac required (every table ok) */
    void (*sweep_bits)(const struct sk_model *m, const struct sk_fac *fac, long nfac,
                       uint16_t *zs, uint32_t *rs, int metropolis, int nsweeps);
    /* out[k] = e^{−β·w[k]}, k < n (struct sk_fac's factors) */
    void (*factors)(const float *w, long n, float beta, float *out);
    /* samp_kernel.h: energies e[SIMD_W] of a block's lanes */
    void (*energy)(const struct sk_model *m, const float *z, double *e);
    /* samp_sqa.c: one sqa sweep of one read (struct sqa_sweep in simd_sqa.h) */
    void (*sqa_sweep)(const struct sqa_sweep *s);
    /* nn.c's dense products (kern_isa_gemm.c): C [M × N] = op(A)·op(B), row-major, op = ᵀ where
     * ta / tb; NN and TN, NT on AVX-512 only; -1 for what the path does not do (nn.c then calls
     * OpenBLAS).  Every element in one fixed summation order, the same on both paths; NULL on
     * SSE2 (no FMA). */
    int (*gemm)(bool ta, bool tb, int M, int N, int K, const float *A, int lda, const float *B,
                int ldb, float *C, int ldc);
};

/* The table in use: chosen at the first call (thread-safe) from cpuid and QVAE_ISA; if QVAE_ISA
 * names a path the CPU cannot run or an unknown one, the best path is used and
 * simd_isa_error() says why (callers report it; library code prints nothing). */
const struct simd_kernels *simd_kernels(void);
/* The table of one path, or NULL if this CPU (or this build) cannot run it. */
const struct simd_kernels *simd_kernels_for(enum simd_isa isa);
/* Use `isa` from now on (tests and benchmarks compare paths); -1 + error if unsupported. */
int simd_select(enum simd_isa isa);
/* Parse "sse2" / "avx2" / "avx512"; -1 if unknown. */
int simd_isa_parse(const char *s);
const char *simd_isa_name(enum simd_isa isa);
/* Does this CPU (and OS: saved vector registers) run the path? */
bool simd_cpu_has(enum simd_isa isa);
/* The paths this CPU runs, space-separated ("sse2 avx2 avx512"), into buf [n]. */
void simd_cpu_paths(char *buf, size_t n);
/* Non-NULL when QVAE_ISA was set but could not be honoured: "QVAE_ISA: <problem>". */
const char *simd_isa_error(void);

#endif
