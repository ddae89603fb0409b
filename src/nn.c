/* nn.c — dense layers (products by kern_isa_gemm.c on AVX2 / AVX-512, else OpenBLAS), activations, Bernoulli log-likelihood, Adam, arena.
 * Shapes and conventions: nn.h.  The transcendental elementwise work (tanh, the likelihood) runs
 * on NN_VL-lane vectors (nn.h's vector-extension math), because GCC's -O2 vectoriser does not
 * turn loops of libm calls or of branchy scalar code into SIMD. */
#include "nn.h"
#include "simd.h"
#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef __AVX__
#include <immintrin.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define NN_BLK NN_VL

/* Profiling (train.h): time inside sgemm, counted only while nn_profile is set (per thread). */
_Thread_local bool nn_profile = false;
_Thread_local double nn_sgemm_seconds = 0.0;

static void sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, const float *A,
                  int lda, const float *B, int ldb, float *C, int ldc)
{
    double t0 = nn_profile ? qv_now() : 0.0;
    /* the AVX2 / AVX-512 paths' own products (kern_isa_gemm.c: no packing of the weights per
     * block, one summation order on both paths); SSE2 and the unused TT case: OpenBLAS */
    const struct simd_kernels *k = simd_kernels();
    if (!k->gemm || k->gemm(ta == CblasTrans, tb == CblasTrans, M, N, K, A, lda, B, ldb, C, ldc) < 0)
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
    if (nn_profile) nn_sgemm_seconds += qv_now() - t0;
}

int nn_blas_threads(int n)
{
    int old = openblas_get_num_threads();
    if (n != old) openblas_set_num_threads(n);
    return old;
}

/* OpenBLAS's x86-64 kernel sets with AVX2 or better; any other name on an AVX2 CPU is a
 * misdetection (OpenBLAS 0.3.21's names: driver/others/dynamic.c). */
static const char *const nn_avx2_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
                                            "SapphireRapids"};

const char *nn_blas_core_upgrade(const char *core, bool avx2_fma, bool avx512)
{
    if (!core || !avx2_fma) return NULL;
    for (size_t i = 0; i < sizeof nn_avx2_cores / sizeof nn_avx2_cores[0]; i++)
        if (!strcasecmp(core, nn_avx2_cores[i])) return NULL;
    return avx512 ? "SkylakeX" : "Haswell";
}

void nn_blas_pick_core(char **argv)
{
#if defined(__x86_64__) && defined(__linux__)
    if (getenv("OPENBLAS_CORETYPE")) return;   /* the user's choice, or ours after re-exec */
    __builtin_cpu_init();
    /* libgcc's checks include the OS's XSAVE support for the AVX/AVX-512 register state. */
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    const char *core = openblas_get_corename();
    const char *up = nn_blas_core_upgrade(core, avx2, avx512);
    if (!up) return;
    if (setenv("QVAE_BLAS_DETECTED", core, 1) || setenv("OPENBLAS_CORETYPE", up, 1)) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): keep OpenBLAS's kernels, slower but correct. */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("QVAE_BLAS_DETECTED");
#else
    (void)argv;
#endif
}

/* OpenBLAS's pthread build starts its worker threads when the library loads, before main(), so
 * they keep the float mode they started with.  Stopping the pool makes OpenBLAS start a new one at
 * its next threaded call, from the calling thread, whose mode the new workers inherit.  The symbol
 * is OpenBLAS's own fork handler; a build without it (OpenMP, whose threads start lazily anyway)
 * is left as it is. */
static void nn_blas_restart_pool(void)
{
    int (*shutdown)(void);
    void *sym = dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (!sym) return;
    memcpy(&shutdown, &sym, sizeof shutdown);   /* object → function pointer without a cast */
    shutdown();
}

bool nn_fp_flush_denormals(void)
{
#if defined(__SSE__)
    /* FTZ (bit 15): denormal results become 0; DAZ (bit 6): denormal inputs read as 0. */
    _mm_setcsr(_mm_getcsr() | 0x8040u);
    nn_blas_restart_pool();
    return true;
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1ul << 24)));   /* FZ */
    nn_blas_restart_pool();
    return true;
#else
    return false;
#endif
}

bool nn_fp_denormals_flushed(void)
{
    volatile float tiny = 1e-39f;   /* below FLT_MIN (1.18e-38): a denormal */
    volatile float one = 1.0f;
    return tiny * one == 0.0f;
}

void nn_blas_describe(char *buf, size_t len)
{
    const char *det = getenv("QVAE_BLAS_DETECTED"), *set = getenv("OPENBLAS_CORETYPE");
    const char *core = openblas_get_corename();
    int n = snprintf(buf, len, "BLAS: %s; kernels %s", openblas_get_config(), core ? core : "?");
    if (n < 0 || (size_t)n >= len) return;
    if (det && set)
        snprintf(buf + n, len - (size_t)n, " (chosen by qvae: OpenBLAS detected %s on this CPU)", det);
    else if (set)
        snprintf(buf + n, len - (size_t)n, " (OPENBLAS_CORETYPE=%s)", set);
}

int nn_act_parse(const char *s, enum nn_act *out)
{
    if (!strcasecmp(s, "tanh")) *out = NN_ACT_TANH;
    else if (!strcasecmp(s, "relu")) *out = NN_ACT_RELU;
    else if (!strcasecmp(s, "leaky") || !strcasecmp(s, "lrelu") || !strcasecmp(s, "leaky-relu"))
        *out = NN_ACT_LEAKY;
    else if (!strcasecmp(s, "linear") || !strcasecmp(s, "none")) *out = NN_ACT_LINEAR;
    else return qv_seterr("--act: unknown activation '%s' (tanh, relu, leaky)", s);
    return 0;
}

const char *nn_act_name(enum nn_act a)
{
    switch (a) {
    case NN_ACT_TANH: return "tanh";
    case NN_ACT_RELU: return "relu";
    case NN_ACT_LEAKY: return "leaky";
    default: return "linear";
    }
}

/* ---- arena --------------------------------------------------------------------------------- */

void nn_arena_plan(struct nn_arena *a) { a->base = NULL; a->cap = 0; a->used = 0; }

int nn_arena_alloc(struct nn_arena *a, size_t nfloats)
{
    if (!qv_size_ok(nfloats, sizeof(float), (size_t)8 << 30, "model memory")) return -1;
    a->base = qv_alloc_aligned(nfloats * sizeof(float) + 64);
    a->cap = nfloats;
    a->used = 0;
    return 0;
}

float *nn_arena_take(struct nn_arena *a, size_t n)
{
    size_t r = nn_round16(n);
    float *p = a->base ? a->base + a->used : NULL;
    a->used += r;
    if (a->base && a->used > a->cap) abort();   /* plan and carve disagree: programming error */
    return p;
}

void nn_arena_free(struct nn_arena *a)
{
    qv_free_aligned(a->base);
    a->base = NULL;
    a->cap = a->used = 0;
}

/* ---- dense layer --------------------------------------------------------------------------- */

size_t nn_dense_size(int in, int out)
{
    return nn_round16((size_t)in * out) + nn_round16((size_t)out);
}

void nn_dense_bind(struct nn_dense *L, int in, int out, enum nn_act act, float *params,
                   float *grads)
{
    L->in = in;
    L->out = out;
    L->act = act;
    size_t wo = nn_round16((size_t)in * out);
    L->w = params;
    L->b = params ? params + wo : NULL;
    L->gw = grads;
    L->gb = grads ? grads + wo : NULL;
}

void nn_dense_init(struct nn_dense *L, struct rng *r)
{
    /* Uniform(−a, a): Glorot a = √(6/(in+out)) keeps tanh units in their linear range at the
     * start; He a = √(6/in) compensates ReLU's halving of the variance. */
    double a = (L->act == NN_ACT_RELU || L->act == NN_ACT_LEAKY) ? sqrt(6.0 / L->in)
                                                                  : sqrt(6.0 / (L->in + L->out));
    size_t nw = (size_t)L->in * L->out;
    for (size_t i = 0; i < nw; i++) L->w[i] = (float)((2.0 * rng_uniform(r) - 1.0) * a);
    memset(L->b, 0, sizeof(float) * (size_t)L->out);
}

void nn_act_forward(enum nn_act a, float *y, size_t n)
{
    size_t i = 0;
    switch (a) {
    case NN_ACT_TANH:
        for (; i + NN_BLK <= n; i += NN_BLK) nn_vstore(y + i, nn_vtanh(nn_vload(y + i)));
        for (; i < n; i++) y[i] = nn_ftanh(y[i]);
        break;
    case NN_ACT_RELU:
        for (; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case NN_ACT_LEAKY:
        for (; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : NN_LEAKY_SLOPE * y[i];
        break;
    default:
        break;
    }
}

void nn_act_backward(enum nn_act a, const float *y, float *d, size_t n)
{
    switch (a) {
    case NN_ACT_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= 1.0f - y[i] * y[i];
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = y[i] > 0.0f ? d[i] : 0.0f;
        break;
    case NN_ACT_LEAKY:
        for (size_t i = 0; i < n; i++) d[i] = y[i] > 0.0f ? d[i] : NN_LEAKY_SLOPE * d[i];
        break;
    default:
        break;
    }
}

void nn_dense_forward(const struct nn_dense *L, int B, const float *x, float *y)
{
    const int in = L->in, out = L->out;
    /* y = x·w  ([B × in]·[in × out]), then one fused pass adds the bias and the activation. */
    sgemm(CblasNoTrans, CblasNoTrans, B, out, in, x, in, L->w, out, y, out);
    for (int r = 0; r < B; r++) {
        float *yr = y + (size_t)r * out;
        const float *b = L->b;
        for (int j = 0; j < out; j++) yr[j] += b[j];
        nn_act_forward(L->act, yr, (size_t)out);
    }
}

void nn_dense_backward(const struct nn_dense *L, int B, const float *x, const float *y, float *dy,
                       float *dx)
{
    const int in = L->in, out = L->out;
    nn_act_backward(L->act, y, dy, (size_t)B * out);
    /* gb = Σ_rows dpre */
    memset(L->gb, 0, sizeof(float) * (size_t)out);
    for (int r = 0; r < B; r++) {
        const float *dr = dy + (size_t)r * out;
        for (int j = 0; j < out; j++) L->gb[j] += dr[j];
    }
    /* gw [in × out] = xᵀ [in × B] · dpre [B × out] */
    sgemm(CblasTrans, CblasNoTrans, in, out, B, x, in, dy, out, L->gw, out);
    /* dx [B × in] = dpre [B × out] · wᵀ [out × in] */
    if (dx)
        sgemm(CblasNoTrans, CblasTrans, B, in, out, dy, out, L->w, out, dx, in);
}

/* ---- Bernoulli likelihood -------------------------------------------------------------------- */

double nn_bernoulli_ll(const float *logit, const float *x, size_t xstride, int B, int D,
                       double *ll, float *dlogit, float scale)
{
    double total = 0.0;
    for (int r = 0; r < B; r++) {
        const float *l = logit + (size_t)r * D;
        const float *xr = x + (size_t)r * xstride;
        float *g = dlogit ? dlogit + (size_t)r * D : NULL;
        nn_vf acc = nn_vset1(0.0f);
        int i = 0;
        /* x·l − softplus(l); with e = e^−|l|: softplus = max(l,0) + log(1+e) and
         * σ(l) = 1/(1+e) for l ≥ 0, e/(1+e) otherwise — one exp serves both. */
        for (; i + NN_BLK <= D; i += NN_BLK) {
            nn_vf li = nn_vload(l + i), xi = nn_vload(xr + i);
            nn_vf e = nn_vexp(-nn_vabs(li));
            acc += xi * li - (nn_vmax0(li) + nn_vlog(1.0f + e));
            if (g) {
                nn_vf inv = 1.0f / (1.0f + e);
                nn_vstore(g + i, scale * (nn_vsel(li >= 0.0f, inv, e * inv) - xi));
            }
        }
        double s = 0.0;
        for (int k = 0; k < NN_BLK; k++) s += acc[k];
        for (; i < D; i++) {
            float li = l[i], al = li < 0.0f ? -li : li;
            float e = nn_fexp(-al);
            s += xr[i] * li - ((li > 0.0f ? li : 0.0f) + nn_flog(1.0f + e));
            if (g) {
                float inv = 1.0f / (1.0f + e);
                g[i] = scale * ((li >= 0.0f ? inv : e * inv) - xr[i]);
            }
        }
        if (ll) ll[r] = s;
        total += s;
    }
    return total;
}

/* ---- Adam ------------------------------------------------------------------------------------ */

int nn_adam_init(struct nn_adam *o, size_t n)
{
    memset(o, 0, sizeof *o);
    if (!qv_size_ok(n, 2 * sizeof(float), (size_t)8 << 30, "optimiser state")) return -1;
    o->n = n;
    o->m = qv_alloc_aligned(n * sizeof(float) + 64);
    o->v = qv_alloc_aligned(n * sizeof(float) + 64);
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    return 0;
}

void nn_adam_free(struct nn_adam *o)
{
    qv_free_aligned(o->m);
    qv_free_aligned(o->v);
    o->m = o->v = NULL;
    o->n = 0;
}

void nn_adam_begin(struct nn_adam *o, double lr)
{
    o->t++;
    double c1 = 1.0 - pow(o->beta1, (double)o->t), c2 = 1.0 - pow(o->beta2, (double)o->t);
    o->lr_t = (float)(lr * sqrt(c2) / c1);
}

void nn_sigmoid_n(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + NN_VL <= n; i += NN_VL) nn_vstore(y + i, nn_vsigmoid(nn_vload(x + i)));
    for (; i < n; i++) y[i] = nn_fsigmoid(x[i]);
}

void nn_softplus_n(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + NN_VL <= n; i += NN_VL) nn_vstore(y + i, nn_vsoftplus(nn_vload(x + i)));
    for (; i < n; i++) y[i] = nn_fsoftplus(x[i]);
}

/* The square root is the one step the -O2 vectoriser will not take (sqrtf may set errno), so
 * the AVX path spells it out; other targets run the scalar loop. */
void nn_adam_update(struct nn_adam *o, float *p, const float *g, size_t off, size_t len, float wd)
{
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;
    const float lr = o->lr_t, eps = (float)o->eps;
    float *m = o->m + off, *v = o->v + off, *pp = p + off;
    const float *gg = g + off;
    size_t i = 0;
#ifdef __AVX__
    for (; i + NN_VL <= len; i += NN_VL) {
        nn_vf pi = nn_vload(pp + i);
        nn_vf gi = nn_vload(gg + i) + wd * pi;
        nn_vf mi = b1 * nn_vload(m + i) + c1 * gi;
        nn_vf vi = b2 * nn_vload(v + i) + c2 * gi * gi;
        nn_vstore(m + i, mi);
        nn_vstore(v + i, vi);
        nn_vf sq = (nn_vf)_mm256_sqrt_ps((__m256)vi);
        nn_vstore(pp + i, pi - lr * mi / (sq + eps));
    }
#endif
    for (; i < len; i++) {
        float gi = gg[i] + wd * pp[i];
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        pp[i] -= lr * mi / (sqrtf(vi) + eps);
    }
}
