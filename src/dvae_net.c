/* dvae_net.c — one network of the DVAE (a group's encoder or the decoder): a stack of dense layers,
 * the hidden ones optionally batch-normalised before their nonlinearity (DVAE#'s networks), laid
 * out in the model's parameter vector, with forward and backward passes over a block of rows.
 * Contracts: dvae.h (struct dvae_net); batch norm: nn_bn.h.
 *
 * A hidden layer i with batch norm is  a_i = h_{i−1}·w + b  (linear, into N->a[i]), then
 * h_i = act(γ (a_i − μ)/√(σ² + ε) + β)  (nn_bn, into N->h[i]).  In training passes μ, σ² are the
 * block's own statistics ("ghost batch norm": each data-parallel block normalises its rows, so the
 * arithmetic depends on the block count alone), written to the block's stats buffer for the
 * backward pass and the running averages; forward-only passes use the running statistics. */
#include "dvae.h"
#include <string.h>

void dvae_net_bind(struct dvae_net *N, const struct dvae_config *c, const int *w, float *params,
                   float *grads, size_t *off, size_t *boff)
{
    N->nl = c->nhidden + 1;
    N->bn = c->bn;
    for (int i = 0; i < N->nl; i++) {
        const bool hidden = i < N->nl - 1, norm = hidden && c->bn;
        nn_dense_bind(&N->L[i], w[i], w[i + 1], hidden && !norm ? c->act : NN_ACT_LINEAR,
                      params ? params + *off : NULL, grads ? grads + *off : NULL);
        *off += nn_dense_size(w[i], w[i + 1]);
        if (!norm) continue;
        /* the running statistics are bound by dvae_net_bind_running once the buffer exists */
        nn_bn_bind(&N->N[i], w[i + 1], 1, c->act, params ? params + *off : NULL,
                   grads ? grads + *off : NULL, NULL);
        *off += nn_bn_size(w[i + 1]);
        N->boff[i] = *boff;
        *boff += nn_bn_stats_floats(w[i + 1]);
    }
}

void dvae_net_bind_running(struct dvae_net *N, float *run)
{
    for (int i = 0; N->bn && i < N->nl - 1; i++) N->N[i].run = run + N->boff[i];
}

void dvae_net_take(struct dvae_net *N, struct nn_arena *a, int rows)
{
    for (int i = 0; i < N->nl; i++) {
        N->h[i] = nn_arena_take(a, (size_t)rows * N->L[i].out);
        N->a[i] = N->bn && i < N->nl - 1 ? nn_arena_take(a, (size_t)rows * N->L[i].out) : NULL;
    }
}

void dvae_net_init(struct dvae_net *N, struct rng *r)
{
    for (int i = 0; i < N->nl; i++) {
        nn_dense_init(&N->L[i], r);
        if (N->bn && i < N->nl - 1) nn_bn_init(&N->N[i]);
    }
}

const float *dvae_net_forward(const struct dvae_net *N, int row0, int rows, const float *in,
                              float *stats)
{
    for (int i = 0; i < N->nl; i++) {
        const size_t o = (size_t)row0 * N->L[i].out;
        float *out = N->h[i] + o;
        if (N->bn && i < N->nl - 1) {
            nn_dense_forward(&N->L[i], rows, in, N->a[i] + o);
            /* rows ≥ 2 per training block is checked before any pass (dvae_batch_run) */
            nn_bn_forward(&N->N[i], stats ? NN_BN_TRAIN : NN_BN_EVAL, rows, N->a[i] + o, out,
                          stats ? stats + N->boff[i] : NULL);
        } else {
            nn_dense_forward(&N->L[i], rows, in, out);
        }
        in = out;
    }
    return in;
}

float *dvae_net_backward(const struct dvae_net *N, const struct dvae *m, float *g, int row0,
                         int rows, const float *in, float *dy, float *s1, float *s2, bool want_dx,
                         const float *stats)
{
    for (int i = N->nl - 1; i >= 0; i--) {
        const size_t o = (size_t)row0 * N->L[i].out;
        struct nn_dense L = N->L[i];   /* a view whose gradients point into g */
        L.gw = g + (L.gw - m->grads);
        L.gb = g + (L.gb - m->grads);
        const float *lin = i > 0 ? N->h[i - 1] + (size_t)row0 * N->L[i - 1].out : in;
        const float *y = N->h[i] + o;
        if (N->bn && i < N->nl - 1) {
            /* through the normalisation first: dy on h_i → ∂loss/∂a_i in the other buffer */
            struct nn_bn B = N->N[i];
            B.ggamma = g + (B.ggamma - m->grads);
            B.gbeta = g + (B.gbeta - m->grads);
            float *da = dy == s1 ? s2 : s1;
            nn_bn_backward(&B, stats ? NN_BN_TRAIN : NN_BN_EVAL, rows, N->a[i] + o, y, dy, da,
                           stats ? stats + N->boff[i] : NULL);
            dy = da;
            y = N->a[i] + o;   /* the dense layer is linear: its output is a_i */
        }
        float *dst = i > 0 || want_dx ? (dy == s1 ? s2 : s1) : NULL;
        nn_dense_backward(&L, rows, lin, y, dy, dst);
        dy = dst;
    }
    return dy;
}

void dvae_net_adam(const struct dvae_net *N, void (*seg)(void *ctx, const float *p, size_t len, float wd),
                   void *ctx, float wd)
{
    for (int i = 0; i < N->nl; i++) {
        const struct nn_dense *L = &N->L[i];
        seg(ctx, L->w, (size_t)L->in * L->out, wd);
        seg(ctx, L->b, (size_t)L->out, 0.0f);
        if (N->bn && i < N->nl - 1) {   /* γ, β: no decay, like biases */
            seg(ctx, N->N[i].gamma, (size_t)N->N[i].c, 0.0f);
            seg(ctx, N->N[i].beta, (size_t)N->N[i].c, 0.0f);
        }
    }
}

bool dvae_net_owns(const struct dvae_net *N, const float *p)
{
    const struct nn_dense *last = &N->L[N->nl - 1];
    return p >= N->L[0].w && p < last->b + last->out;
}
