/* nn_bn.c — batch normalisation (per feature or per channel), training and evaluation modes.
 * Conventions, the momentum rule and the data-parallel contract: nn_bn.h.
 *
 * Element (b, c, i) of a [B × c·hw] batch is at (b·C + c)·hw + i.  Each channel is handled on its
 * own (its B·hw values are strided by C·hw between rows); sums run in double, so the statistics of
 * a channel of 100·196 values keep float precision. */
#include "nn_bn.h"
#include <math.h>
#include <string.h>

size_t nn_bn_size(int c) { return 2 * nn_round16((size_t)c); }

void nn_bn_bind(struct nn_bn *L, int c, int hw, enum nn_act act, float *params, float *grads,
                float *run)
{
    L->c = c;
    L->hw = hw;
    L->act = act;
    L->eps = NN_BN_EPS;
    L->momentum = NN_BN_MOMENTUM;
    size_t off = nn_round16((size_t)c);
    L->gamma = params;
    L->beta = params ? params + off : NULL;
    L->ggamma = grads;
    L->gbeta = grads ? grads + off : NULL;
    L->run = run;
}

void nn_bn_init(struct nn_bn *L)
{
    for (int c = 0; c < L->c; c++) {
        L->gamma[c] = 1.0f;
        L->beta[c] = 0.0f;
        if (L->run) {
            L->run[c] = 0.0f;
            L->run[L->c + c] = 1.0f;
        }
    }
}

/* Segment kernels on NN_VL-lane vectors (a channel's values in one row are contiguous, hw of
 * them): a scalar running sum would be one long chain of dependent adds, several times slower
 * than the convolutions around the layer.  Each segment's partial sums are float (at most a few
 * hundred terms) and are added up across rows in double. */
static double seg_sum(const float *x, int n)
{
    nn_vf acc = nn_vset1(0.0f);
    int i = 0;
    for (; i + NN_VL <= n; i += NN_VL) acc += nn_vload(x + i);
    float s = 0.0f;
    for (int k = 0; k < NN_VL; k++) s += acc[k];
    for (; i < n; i++) s += x[i];
    return s;
}

static double seg_dev2(const float *x, int n, float m)   /* Σ (x − m)² */
{
    nn_vf acc = nn_vset1(0.0f);
    int i = 0;
    for (; i + NN_VL <= n; i += NN_VL) {
        nn_vf d = nn_vload(x + i) - m;
        acc += d * d;
    }
    float s = 0.0f;
    for (int k = 0; k < NN_VL; k++) s += acc[k];
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s;
}

static void seg_affine(const float *x, float *y, int n, float a, float b)   /* y = a·x + b */
{
    int i = 0;
    for (; i + NN_VL <= n; i += NN_VL) nn_vstore(y + i, nn_vload(x + i) * a + b);
    for (; i < n; i++) y[i] = x[i] * a + b;
}

/* *sd += Σ d, *sdx += Σ d·(x − mu)·s */
static void seg_grad(const float *d, const float *x, int n, float mu, float s, double *sd, double *sdx)
{
    nn_vf a = nn_vset1(0.0f), b = nn_vset1(0.0f);
    int i = 0;
    for (; i + NN_VL <= n; i += NN_VL) {
        nn_vf di = nn_vload(d + i);
        a += di;
        b += di * ((nn_vload(x + i) - mu) * s);
    }
    float u = 0.0f, v = 0.0f;
    for (int k = 0; k < NN_VL; k++) u += a[k], v += b[k];
    for (; i < n; i++) u += d[i], v += d[i] * ((x[i] - mu) * s);
    *sd += u;
    *sdx += v;
}

/* dx = g·(d − md − x̂·mx) with x̂ = (x − mu)·s */
static void seg_dx(const float *d, const float *x, float *dx, int n, float g, float md, float mu,
                   float s, float mx)
{
    int i = 0;
    for (; i + NN_VL <= n; i += NN_VL)
        nn_vstore(dx + i, g * (nn_vload(d + i) - md - (nn_vload(x + i) - mu) * s * mx));
    for (; i < n; i++) dx[i] = g * (d[i] - md - (x[i] - mu) * s * mx);
}

/* μ and the biased σ² of channel c over the B rows (two passes: the mean first, then the squared
 * deviations, which stays accurate when |μ| ≫ σ). */
static void channel_stats(const struct nn_bn *L, int B, const float *x, int c, double *mu, double *var)
{
    const int C = L->c, hw = L->hw;
    double s = 0.0, q = 0.0;
    for (int b = 0; b < B; b++) s += seg_sum(x + ((size_t)b * C + c) * hw, hw);
    const double n = (double)B * hw, m = s / n;
    for (int b = 0; b < B; b++) q += seg_dev2(x + ((size_t)b * C + c) * hw, hw, (float)m);
    *mu = m;
    *var = q / n;
}

/* hw = 1, a dense layer's features: a channel's B values are one per row, C floats apart, and
 * the segment kernels above would run once per value (a call and a horizontal sum each: 17 ns a
 * value, as much time as the layer's product).  Here the passes go along the rows, BN_CHUNK
 * channels at a time, with the same arithmetic per value (float terms, double sums in row order),
 * so the results are those of the segment kernels. */
#define BN_CHUNK 64

/* One chunk of channels [c0, c0 + nc).  Inlined with nc = BN_CHUNK, a constant, so that GCC's
 * -O2 vectoriser (which leaves loops needing a remainder alone) runs the j loops in vectors; each
 * j is its own channel, so the vectors do the scalar code's arithmetic, value for value. */
static inline __attribute__((always_inline)) void
dense_forward_chunk(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x, float *y,
                    float *batch, int c0, const int nc)
{
    const int C = L->c;
    float scale[BN_CHUNK], shift[BN_CHUNK];
    double mu[BN_CHUNK], var[BN_CHUNK];
    if (mode == NN_BN_TRAIN) {
        double sum[BN_CHUNK] = {0}, dev[BN_CHUNK] = {0};
        float m[BN_CHUNK];
        for (int b = 0; b < B; b++) {
            const float *xr = x + (size_t)b * C + c0;
            for (int j = 0; j < nc; j++) sum[j] += xr[j];
        }
        for (int j = 0; j < nc; j++) m[j] = (float)(sum[j] / B);
        for (int b = 0; b < B; b++) {
            const float *xr = x + (size_t)b * C + c0;
            for (int j = 0; j < nc; j++) {
                const float d = xr[j] - m[j], d2 = d * d;
                dev[j] += d2;
            }
        }
        for (int j = 0; j < nc; j++) {
            batch[c0 + j] = (float)(sum[j] / B);
            batch[C + c0 + j] = (float)(dev[j] / B);
            mu[j] = batch[c0 + j];
            var[j] = batch[C + c0 + j];
        }
    } else {
        for (int j = 0; j < nc; j++) {
            mu[j] = L->run[c0 + j];
            var[j] = L->run[C + c0 + j];
        }
    }
    for (int j = 0; j < nc; j++) {
        const float s = (float)(1.0 / sqrt(var[j] + L->eps));
        scale[j] = L->gamma[c0 + j] * s;
        shift[j] = L->beta[c0 + j] - (float)mu[j] * scale[j];
    }
    for (int b = 0; b < B; b++) {
        const float *xr = x + (size_t)b * C + c0;
        float *yr = y + (size_t)b * C + c0;
        for (int j = 0; j < nc; j++) yr[j] = xr[j] * scale[j] + shift[j];
    }
}

static void dense_forward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x,
                          float *y, float *batch)
{
    int c0 = 0;
    for (; c0 + BN_CHUNK <= L->c; c0 += BN_CHUNK)
        dense_forward_chunk(L, mode, B, x, y, batch, c0, BN_CHUNK);
    if (c0 < L->c) dense_forward_chunk(L, mode, B, x, y, batch, c0, L->c - c0);
}

static inline __attribute__((always_inline)) void
dense_backward_chunk(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x,
                     const float *dy, float *dx, const float *batch, int c0, const int nc)
{
    const int C = L->c;
    const double n = (double)B;
    const float *st = mode == NN_BN_TRAIN ? batch : L->run;
    float mu[BN_CHUNK], s[BN_CHUNK], g[BN_CHUNK], md[BN_CHUNK], mx[BN_CHUNK];
    double sd[BN_CHUNK] = {0}, sdx[BN_CHUNK] = {0};
    for (int j = 0; j < nc; j++) {
        mu[j] = st[c0 + j];
        s[j] = (float)(1.0 / sqrt((double)st[C + c0 + j] + L->eps));
    }
    for (int b = 0; b < B; b++) {
        const float *dr = dy + (size_t)b * C + c0, *xr = x + (size_t)b * C + c0;
        for (int j = 0; j < nc; j++) {
            const float t = dr[j] * ((xr[j] - mu[j]) * s[j]);
            sd[j] += dr[j];
            sdx[j] += t;
        }
    }
    for (int j = 0; j < nc; j++) {
        L->gbeta[c0 + j] = (float)sd[j];
        L->ggamma[c0 + j] = (float)sdx[j];
        g[j] = L->gamma[c0 + j] * s[j];
        md[j] = mode == NN_BN_TRAIN ? (float)(sd[j] / n) : 0.0f;
        mx[j] = mode == NN_BN_TRAIN ? (float)(sdx[j] / n) : 0.0f;
    }
    if (!dx) return;
    for (int b = 0; b < B; b++) {
        const float *dr = dy + (size_t)b * C + c0, *xr = x + (size_t)b * C + c0;
        float *dxr = dx + (size_t)b * C + c0;
        for (int j = 0; j < nc; j++)
            dxr[j] = g[j] * (dr[j] - md[j] - (xr[j] - mu[j]) * s[j] * mx[j]);
    }
}

/* The backward pass of dense_forward: dβ, dγ and dx as nn_bn_backward's loop computes them. */
static void dense_backward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x,
                           const float *dy, float *dx, const float *batch)
{
    int c0 = 0;
    for (; c0 + BN_CHUNK <= L->c; c0 += BN_CHUNK)
        dense_backward_chunk(L, mode, B, x, dy, dx, batch, c0, BN_CHUNK);
    if (c0 < L->c) dense_backward_chunk(L, mode, B, x, dy, dx, batch, c0, L->c - c0);
}

int nn_bn_forward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x, float *y,
                  float *batch)
{
    const int C = L->c, hw = L->hw;
    if (mode == NN_BN_TRAIN && B < 2)
        return qv_seterr("batch norm: needs a batch of at least 2 in training mode");
    if (hw == 1) {
        dense_forward(L, mode, B, x, y, batch);
        nn_act_forward(L->act, y, (size_t)B * C);
        return 0;
    }
    for (int c = 0; c < C; c++) {
        double mu, var;
        if (mode == NN_BN_TRAIN) {
            channel_stats(L, B, x, c, &mu, &var);
            batch[c] = (float)mu;
            batch[C + c] = (float)var;
            mu = batch[c];   /* the values the backward pass will read */
            var = batch[C + c];
        } else {
            mu = L->run[c];
            var = L->run[C + c];
        }
        /* y = γ·(x − μ)·s + β = x·scale + shift */
        const float s = (float)(1.0 / sqrt(var + L->eps));
        const float scale = L->gamma[c] * s, shift = L->beta[c] - (float)mu * scale;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * C + c) * hw;
            seg_affine(x + o, y + o, hw, scale, shift);
        }
    }
    nn_act_forward(L->act, y, (size_t)B * C * hw);
    return 0;
}

void nn_bn_backward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x,
                    const float *y, float *dy, float *dx, const float *batch)
{
    const int C = L->c, hw = L->hw;
    const double n = (double)B * hw;
    nn_act_backward(L->act, y, dy, (size_t)B * C * hw);
    if (hw == 1) {
        dense_backward(L, mode, B, x, dy, dx, batch);
        return;
    }
    for (int c = 0; c < C; c++) {
        const float *st = mode == NN_BN_TRAIN ? batch : L->run;
        const float mu = st[c], s = (float)(1.0 / sqrt((double)st[C + c] + L->eps));
        /* With x̂ = (x − μ)·s and d = dL/d(pre-activation): dβ = Σ d, dγ = Σ d·x̂. */
        double sd = 0.0, sdx = 0.0;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * C + c) * hw;
            seg_grad(dy + o, x + o, hw, mu, s, &sd, &sdx);
        }
        L->gbeta[c] = (float)sd;
        L->ggamma[c] = (float)sdx;
        if (!dx) continue;
        /* Evaluation: μ, σ² are constants, dx = γ·s·d.  Training: μ and σ² depend on every x of
         * the channel; differentiating through both gives
         *     dx = γ·s · (d − Σd/n − x̂·Σ(d·x̂)/n). */
        const float g = L->gamma[c] * s;
        const float md = mode == NN_BN_TRAIN ? (float)(sd / n) : 0.0f;
        const float mx = mode == NN_BN_TRAIN ? (float)(sdx / n) : 0.0f;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * C + c) * hw;
            seg_dx(dy + o, x + o, dx + o, hw, g, md, mu, s, mx);
        }
    }
}

void nn_bn_update_running(const struct nn_bn *L, int nblocks, const float *const *batch,
                          const int *rows)
{
    const int C = L->c;
    double n = 0.0;
    for (int k = 0; k < nblocks; k++) n += (double)rows[k] * L->hw;
    const double m = L->momentum;
    for (int c = 0; c < C; c++) {
        /* Pooled over the blocks: μ = Σ n_k μ_k / n, σ² = Σ n_k (σ²_k + (μ_k − μ)²) / n — the
         * statistics of all rows as one batch; the running variance takes the unbiased n/(n−1)·σ². */
        double mu = 0.0, var = 0.0;
        for (int k = 0; k < nblocks; k++) mu += (double)rows[k] * L->hw * batch[k][c];
        mu /= n;
        for (int k = 0; k < nblocks; k++) {
            double dm = batch[k][c] - mu;
            var += (double)rows[k] * L->hw * (batch[k][C + c] + dm * dm);
        }
        var = var / n * (n / (n - 1.0));
        L->run[c] = (float)(m * L->run[c] + (1.0 - m) * mu);
        L->run[C + c] = (float)(m * L->run[C + c] + (1.0 - m) * var);
    }
}
