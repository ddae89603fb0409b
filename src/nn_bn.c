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

/* μ and the biased σ² of channel c over the B rows (two passes: the mean first, then the squared
 * deviations, which stays accurate when |μ| ≫ σ). */
static void channel_stats(const struct nn_bn *L, int B, const float *x, int c, double *mu, double *var)
{
    const int C = L->c, hw = L->hw;
    double s = 0.0, q = 0.0;
    for (int b = 0; b < B; b++) {
        const float *xr = x + ((size_t)b * C + c) * hw;
        for (int i = 0; i < hw; i++) s += xr[i];
    }
    const double n = (double)B * hw, m = s / n;
    for (int b = 0; b < B; b++) {
        const float *xr = x + ((size_t)b * C + c) * hw;
        for (int i = 0; i < hw; i++) q += ((double)xr[i] - m) * ((double)xr[i] - m);
    }
    *mu = m;
    *var = q / n;
}

int nn_bn_forward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x, float *y,
                  float *batch)
{
    const int C = L->c, hw = L->hw;
    if (mode == NN_BN_TRAIN && B < 2)
        return qv_seterr("batch norm: needs a batch of at least 2 in training mode");
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
            for (int i = 0; i < hw; i++) y[o + i] = x[o + i] * scale + shift;
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
    for (int c = 0; c < C; c++) {
        const float *st = mode == NN_BN_TRAIN ? batch : L->run;
        const double mu = st[c], s = 1.0 / sqrt((double)st[C + c] + L->eps);
        /* With x̂ = (x − μ)·s and d = dL/d(pre-activation): dβ = Σ d, dγ = Σ d·x̂. */
        double sd = 0.0, sdx = 0.0;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * C + c) * hw;
            for (int i = 0; i < hw; i++) {
                sd += dy[o + i];
                sdx += (double)dy[o + i] * ((x[o + i] - mu) * s);
            }
        }
        L->gbeta[c] = (float)sd;
        L->ggamma[c] = (float)sdx;
        if (!dx) continue;
        /* Evaluation: μ, σ² are constants, dx = γ·s·d.  Training: μ and σ² depend on every x of
         * the channel; differentiating through both gives
         *     dx = γ·s · (d − Σd/n − x̂·Σ(d·x̂)/n). */
        const float g = (float)(L->gamma[c] * s);
        const float md = mode == NN_BN_TRAIN ? (float)(sd / n) : 0.0f;
        const float mx = mode == NN_BN_TRAIN ? (float)(sdx / n) : 0.0f;
        const float fmu = (float)mu, fs = (float)s;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * C + c) * hw;
            for (int i = 0; i < hw; i++) {
                float xh = (x[o + i] - fmu) * fs;
                dx[o + i] = g * (dy[o + i] - md - xh * mx);
            }
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
