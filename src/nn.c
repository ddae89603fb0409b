/* nn.c — dense layers on OpenBLAS sgemm, activations, Bernoulli log-likelihood, Adam, arena.
 * Shapes and conventions: nn.h.  Elementwise loops run in blocks of 8 with a fixed inner trip
 * count so that GCC's -O2 vectoriser (very-cheap cost model) turns them into SIMD code. */
#include "nn.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NN_BLK 8

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
        for (; i + NN_BLK <= n; i += NN_BLK)
            for (int k = 0; k < NN_BLK; k++) y[i + k] = nn_ftanh(y[i + k]);
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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in, 1.0f, x, in, L->w, out,
                0.0f, y, out);
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
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B, 1.0f, x, in, dy, out, 0.0f,
                L->gw, out);
    /* dx [B × in] = dpre [B × out] · wᵀ [out × in] */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out, 1.0f, dy, out, L->w, out,
                    0.0f, dx, in);
}

/* ---- Bernoulli likelihood -------------------------------------------------------------------- */

double nn_bernoulli_ll(const float *logit, const float *x, int B, int D, double *ll,
                       float *dlogit, float scale)
{
    double total = 0.0;
    float tmp[NN_BLK];
    for (int r = 0; r < B; r++) {
        const float *l = logit + (size_t)r * D;
        const float *xr = x + (size_t)r * D;
        float *g = dlogit ? dlogit + (size_t)r * D : NULL;
        float acc[NN_BLK] = {0};
        int i = 0;
        /* x·l − softplus(l); with e = e^−|l|: softplus = max(l,0) + log(1+e) and
         * σ(l) = 1/(1+e) for l ≥ 0, e/(1+e) otherwise — one exp serves both. */
        for (; i + NN_BLK <= D; i += NN_BLK) {
            for (int k = 0; k < NN_BLK; k++) {
                float li = l[i + k], al = li < 0.0f ? -li : li;
                float e = nn_fexp(-al);
                float sp = (li > 0.0f ? li : 0.0f) + nn_flog(1.0f + e);
                acc[k] += xr[i + k] * li - sp;
                float inv = 1.0f / (1.0f + e);
                tmp[k] = li >= 0.0f ? inv : e * inv;
            }
            if (g)
                for (int k = 0; k < NN_BLK; k++) g[i + k] = scale * (tmp[k] - xr[i + k]);
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

/* Fast reciprocal square root is avoided: sqrt via the exponent-halving trick plus Newton would
 * cost accuracy; instead the block loop computes 1/(√v + eps) with sqrtf, which GCC vectorises
 * (vsqrtps) because the argument is provably non-negative here only with -fno-math-errno — so we
 * use __builtin_sqrtf on a value clamped at 0, which is the same instruction either way. */
void nn_adam_update(struct nn_adam *o, float *p, const float *g, size_t off, size_t len, float wd)
{
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;
    const float lr = o->lr_t, eps = (float)o->eps;
    float *m = o->m + off, *v = o->v + off, *pp = p + off;
    const float *gg = g + off;
    for (size_t i = 0; i < len; i++) {
        float gi = gg[i] + wd * pp[i];
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        pp[i] -= lr * mi / (__builtin_sqrtf(vi) + eps);
    }
}
