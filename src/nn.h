/* nn.h — small dense neural networks on OpenBLAS (float32): fully connected layers with forward
 * and backward, activations (tanh, ReLU, leaky ReLU), the Bernoulli log-likelihood from logits,
 * Adam with L2 weight decay, initialisation, and one arena allocation carved into tensors.
 *
 * Layout conventions (row-major everywhere):
 *   activations  x [B × in], y [B × out]      (one example per row, B = batch)
 *   dense layer  w [in × out], b [out]         (y = act(x·w + b), so both passes are plain sgemm)
 * A model keeps all its parameters in one contiguous vector and all gradients in a parallel vector
 * of the same layout, so the optimiser runs one fused loop over both.
 *
 * The elementwise math below (exp, log, sigmoid, softplus, tanh) is written with arithmetic and
 * bit operations only, no libm calls, so that loops over it vectorise at -O2 (libm calls do not
 * vectorise without -ffast-math).  Accuracy: exp ≤ 1 ulp (simd.h's, shared with the samplers),
 * the others within ~2e-7 absolute. */
#ifndef QV_NN_H
#define QV_NN_H

#include "qv.h"
#include "rng.h"
#include "simd.h"
#include <string.h>

enum nn_act { NN_ACT_LINEAR, NN_ACT_TANH, NN_ACT_RELU, NN_ACT_LEAKY };
#define NN_LEAKY_SLOPE 0.01f

/* "tanh", "relu", "leaky" (or "lrelu"), "linear" → act; -1 + error otherwise. */
int nn_act_parse(const char *s, enum nn_act *out);
const char *nn_act_name(enum nn_act a);

/* ---- arena: one aligned allocation carved into tensors ------------------------------------
 * Two passes with the same sequence of takes: first with a planning arena (base NULL) that only
 * counts, then nn_arena_alloc() and the real takes.  Every tensor starts 64-byte aligned. */
struct nn_arena {
    float *base;      /* NULL while planning */
    size_t cap;       /* floats allocated */
    size_t used;      /* floats handed out (rounded up to 16 per take) */
};
void   nn_arena_plan(struct nn_arena *a);
int    nn_arena_alloc(struct nn_arena *a, size_t nfloats);  /* zeroed; error if too large */
float *nn_arena_take(struct nn_arena *a, size_t n);          /* NULL while planning */
void   nn_arena_free(struct nn_arena *a);
static inline size_t nn_round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* ---- dense layer --------------------------------------------------------------------------- */
struct nn_dense {
    int in, out;
    enum nn_act act;
    float *w, *b;     /* [in × out], [out]  (inside the model's parameter vector) */
    float *gw, *gb;   /* same shapes, inside the gradient vector */
};
/* Floats a layer occupies in the parameter vector (w then b, each rounded to 16). */
size_t nn_dense_size(int in, int out);
/* Point the layer at params+off / grads+off. */
void nn_dense_bind(struct nn_dense *L, int in, int out, enum nn_act act, float *params,
                   float *grads);
/* Glorot-uniform weights (tanh/linear) or He-uniform (ReLU family), zero biases. */
void nn_dense_init(struct nn_dense *L, struct rng *r);
/* y [B × out] = act(x [B × in] · w + b). */
void nn_dense_forward(const struct nn_dense *L, int B, const float *x, float *y);
/* Backward.  y is the forward output, dy [B × out] holds dLoss/dy on entry and is overwritten
 * with dLoss/d(pre-activation).  Writes (overwrites) gw = xᵀ·dpre, gb = Σ_rows dpre and, if dx
 * is not NULL, dx [B × in] = dpre · wᵀ. */
void nn_dense_backward(const struct nn_dense *L, int B, const float *x, const float *y, float *dy,
                       float *dx);

/* Elementwise activation (in place) and its derivative expressed through the output y:
 * d[i] *= act'(y[i]). */
void nn_act_forward(enum nn_act a, float *y, size_t n);
void nn_act_backward(enum nn_act a, const float *y, float *d, size_t n);

/* ---- Bernoulli likelihood from logits -------------------------------------------------------
 * log p(x|l) = Σ_d x_d l_d − softplus(l_d)   for x ∈ [0,1] (exact for binary x).
 * logit [B × D]; row r of x starts at x + r·xstride (xstride = D, or 0 to score every row
 * against one image); ll[b] (may be NULL) = per-example log-likelihood.  If dlogit is not NULL
 * it receives scale·(σ(l) − x) = scale·∂(−log p)/∂l.  Returns Σ_b ll[b]. */
double nn_bernoulli_ll(const float *logit, const float *x, size_t xstride, int B, int D,
                       double *ll, float *dlogit, float scale);

/* ---- Adam with L2 weight decay ---------------------------------------------------------------
 * Moments for a parameter vector of n floats.  The weight decay is added to the gradient (the
 * DVAE# convention: wd·‖θ‖²/2 in the loss), per segment, so biases can be exempt.  One step is
 * nn_adam_begin() then nn_adam_update() over each segment. */
struct nn_adam {
    size_t n;
    float *m, *v;          /* [n] first and second moments (owned) */
    long t;                /* steps taken */
    double beta1, beta2, eps;
    float lr_t;            /* step size with bias corrections, set by nn_adam_begin */
};
int  nn_adam_init(struct nn_adam *o, size_t n);   /* beta 0.9/0.999, eps 1e-8 */
void nn_adam_free(struct nn_adam *o);
void nn_adam_begin(struct nn_adam *o, double lr);
/* p[off..off+len) -= lr_t · m̂/(√v̂ + eps) with g + wd·p as the gradient. */
void nn_adam_update(struct nn_adam *o, float *p, const float *g, size_t off, size_t len, float wd);

/* Profiling: seconds spent in sgemm by the thread that set nn_profile (thread-local: the blocks of
 * a data-parallel step that run on other threads are not counted, so the figure is that thread's
 * wall-clock share, comparable with its total). */
extern _Thread_local bool nn_profile;
extern _Thread_local double nn_sgemm_seconds;

/* ---- vectorisable scalar math ---------------------------------------------------------------- */
/* exp: simd.h's (≤ 1 ulp; the samplers use the same function) */
static inline float nn_fexp(float x) { return simd_expf(x); }

/* log: simd.h's (x > 0, normal; the samplers' thresholds use the same function) */
static inline float nn_flog(float x) { return simd_logf(x); }

/* SIMD versions, NN_VL lanes (8 with AVX, else 4), written with GCC/Clang vector extensions
 * (lowered to scalar code where the target has no vectors).  Loads and stores go through memcpy
 * (unaligned-safe). */
#ifdef __AVX__
#define NN_VL 8
#else
#define NN_VL 4
#endif
typedef float   nn_vf __attribute__((vector_size(NN_VL * 4)));
typedef int32_t nn_vi __attribute__((vector_size(NN_VL * 4)));
static inline nn_vf nn_vload(const float *p) { nn_vf v; memcpy(&v, p, sizeof v); return v; }
static inline void nn_vstore(float *p, nn_vf v) { memcpy(p, &v, sizeof v); }
static inline nn_vf nn_vset1(float x) { return (nn_vf){0} + x; }
/* m ? a : b with m a comparison result (all ones / all zeros per lane) */
static inline nn_vf nn_vsel(nn_vi m, nn_vf a, nn_vf b)
{
    return (nn_vf)(((nn_vi)a & m) | ((nn_vi)b & ~m));
}
static inline nn_vf nn_vmax0(nn_vf x) { return nn_vsel(x > 0.0f, x, nn_vset1(0.0f)); }
static inline nn_vf nn_vabs(nn_vf x) { return (nn_vf)((nn_vi)x & 0x7fffffff); }

/* a > b ? a : b, a < b ? a : b per lane (maxps / minps) */
static inline nn_vf nn_vmax(nn_vf a, nn_vf b)
{
#ifdef __AVX__
    return (nn_vf)_mm256_max_ps((__m256)a, (__m256)b);
#else
    return (nn_vf)_mm_max_ps((__m128)a, (__m128)b);
#endif
}
static inline nn_vf nn_vmin(nn_vf a, nn_vf b)
{
#ifdef __AVX__
    return (nn_vf)_mm256_min_ps((__m256)a, (__m256)b);
#else
    return (nn_vf)_mm_min_ps((__m128)a, (__m128)b);
#endif
}
/* simd.h's exp on NN_VL lanes: the bits of nn_fexp */
SIMD_DEF_EXP(nn_vexp, nn_vf, nn_vi, nn_vmax, nn_vmin)

/* simd.h's log on NN_VL lanes: the bits of nn_flog */
SIMD_DEF_LOG(nn_vlog, nn_vf, nn_vi, nn_vsel)
static inline nn_vf nn_vsigmoid(nn_vf x) { return 1.0f / (1.0f + nn_vexp(-x)); }
static inline nn_vf nn_vsoftplus(nn_vf x)
{
    return nn_vmax0(x) + nn_vlog(1.0f + nn_vexp(-nn_vabs(x)));
}
static inline nn_vf nn_vtanh(nn_vf x)
{
    x = nn_vsel(x < -9.0f, nn_vset1(-9.0f), x);
    x = nn_vsel(x > 9.0f, nn_vset1(9.0f), x);
    return 1.0f - 2.0f / (nn_vexp(2.0f * x) + 1.0f);
}

/* y[i] = σ(x[i]) and softplus(x[i]), i < n: the vector lanes and the scalar tail give the bits of
 * nn_fsigmoid / nn_fsoftplus, so a loop may take its values from here instead */
void nn_sigmoid_n(const float *x, float *y, size_t n);
void nn_softplus_n(const float *x, float *y, size_t n);

static inline float nn_fsigmoid(float x) { return 1.0f / (1.0f + nn_fexp(-x)); }
/* softplus(x) = log(1 + e^x) = max(x,0) + log(1 + e^−|x|) */
static inline float nn_fsoftplus(float x)
{
    float ax = x < 0.0f ? -x : x;
    return (x > 0.0f ? x : 0.0f) + nn_flog(1.0f + nn_fexp(-ax));
}
static inline float nn_ftanh(float x)
{
    x = x < -9.0f ? -9.0f : x;
    x = x > 9.0f ? 9.0f : x;
    return 1.0f - 2.0f / (nn_fexp(2.0f * x) + 1.0f);
}

/* Set OpenBLAS's thread count; returns the previous one (for restoring). */
int nn_blas_threads(int n);

/* OpenBLAS's kernel set.  Debian's OpenBLAS is built for many CPUs and picks its kernels from the
 * CPU's model number when it loads; a CPU newer than the library (seen here: an AVX-512 Xeon that
 * OpenBLAS 0.3.21 does not know) falls back to "Prescott", SSE3 kernels (sgemm measured at 24
 * against 152 GFLOP/s for SkylakeX's; training 2.4–2.7 times slower).  The choice is made before
 * main() and cannot be changed after, so nn_blas_pick_core re-executes the program with
 * OPENBLAS_CORETYPE set when the detected kernels lack AVX2 but the CPU (and the OS) support it.
 * A user's own OPENBLAS_CORETYPE wins. */

/* The kernel set for a CPU whose OpenBLAS detection gave `core`: "SkylakeX" (AVX-512 F/BW/DQ/VL),
 * "Haswell" (AVX2 + FMA), or NULL to keep `core` (already an AVX2 set, or the CPU has no AVX2). */
const char *nn_blas_core_upgrade(const char *core, bool avx2_fma, bool avx512);
/* At the top of main(): re-execute argv with better kernels when nn_blas_core_upgrade says so
 * (records the original detection in QVAE_BLAS_DETECTED); returns if nothing is to be done or the
 * exec failed (then OpenBLAS's own choice stands). */
void nn_blas_pick_core(char **argv);
/* Denormal floats.  Weights of the encoder's first layer that see a pixel which is 0 in every
 * image (MNIST's border) get no data gradient, and the L2 decay inside Adam drives them and their
 * Adam moments geometrically to zero, through the range below FLT_MIN (1.2e-38): a 913-epoch
 * Chimera model held 29,129 such weights (of 401,408) and 74,325 such Adam moments.  x86 cores
 * handle denormal operands and results in microcode, many times slower, and sgemm and Adam touch
 * these every step: that model trained at 8,100 img/s with IEEE denormals and 11,800 with them
 * flushed, with the same losses to the printed digits.  nn_fp_flush_denormals sets flush-to-zero
 * and denormals-are-zero (x86 MXCSR; FZ on AArch64) for the calling thread, and threads created
 * later inherit the mode (POSIX), so main() calls it before starting any thread; OpenBLAS's pool,
 * started when the library loaded, is restarted so that it inherits the mode too (without that,
 * the half of a 2-thread sgemm done by the pool kept denormals: test_nn).  Returns false where not
 * supported.  nn_fp_denormals_flushed tells whether the calling thread flushes. */
bool nn_fp_flush_denormals(void);
bool nn_fp_denormals_flushed(void);
/* One line describing the BLAS in use, for `version`: library, kernels, who chose them. */
void nn_blas_describe(char *buf, size_t len);

#endif
