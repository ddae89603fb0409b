/* dvae_net.c — one network of the DVAE (a group's encoder or the decoder): optional convolutions
 * (before the dense layers in the encoder; transposed, after them, in the decoder), a stack of
 * dense layers, every layer but the last optionally batch-normalised before its nonlinearity
 * (DVAE#'s networks), laid out in the model's parameter vector, with forward and backward passes
 * over a block of rows.  Contracts: dvae.h (struct dvae_net); layers: nn.h, nn_conv.h, nn_bn.h.
 *
 * A normalised layer is  a = layer(x) (linear, into a/ca), then  h = act(γ (a − μ)/√(σ² + ε) + β)
 * (nn_bn, per feature after a dense layer, per channel after a convolution).  In training passes
 * μ, σ² are the block's own statistics ("ghost batch norm": each data-parallel block normalises
 * its rows, so the arithmetic depends on the block count alone), written to the block's stats
 * buffer for the backward pass and the running averages; forward-only passes use the running
 * statistics.
 *
 * The layers in pass order are numbered 0..nconv+nl−1: the convolutions first in the encoder,
 * last in the decoder.  Helpers below address "step" k of that order. */
#include "dvae.h"
#include <stdlib.h>
#include <string.h>

/* step k of the pass order: a convolution (its index in *j) or a dense layer */
static bool step_is_conv(const struct dvae_net *N, int k, int *j)
{
    const int first_dense = N->conv_last ? 0 : N->nconv;
    if (k >= first_dense && k < first_dense + N->nl) {
        *j = k - first_dense;
        return false;
    }
    *j = N->conv_last ? k - N->nl : k;
    return true;
}

static int steps(const struct dvae_net *N) { return N->nconv + N->nl; }

/* The encoder's convolution geometry (input image 1×h×w; the decoder mirrors it) into sp, and
 * the features it ends with (channels × height × width) in *F.  -1 + error if it does not fit. */
static int conv_geometry(const struct dvae_config *c, struct nn_conv_spec *sp, int *F)
{
    int cin = 1, hh = c->h, ww = c->w;
    for (int j = 0; j < c->nconv; j++) {
        sp[j] = (struct nn_conv_spec){.cin = cin, .h = hh, .w = ww, .cout = c->conv[j].ch,
                                      .k = c->conv[j].k, .stride = c->conv[j].stride,
                                      .pad = c->conv[j].pad};
        if (nn_conv_check(&sp[j], &hh, &ww) < 0) return qv_preferr("model: --conv layer %d", j + 1);
        cin = c->conv[j].ch;
    }
    *F = cin * hh * ww;
    return 0;
}

/* Binds the convolutions of an encoder or (transposed, mirrored) a decoder. */
static int bind_convs(struct dvae_net *N, const struct dvae_config *c, bool decoder, float *params,
                      float *grads, size_t *off, size_t *boff)
{
    struct nn_conv_spec sp[DVAE_MAX_CONV];
    int F;
    if (conv_geometry(c, sp, &F) < 0) return -1;
    for (int j = 0; j < c->nconv; j++) {
        struct nn_conv_spec s = sp[decoder ? c->nconv - 1 - j : j];
        if (decoder) {
            /* transposed: from the encoder layer's output back to its input */
            int ho, wo;
            nn_conv_check(&s, &ho, &wo);
            s = (struct nn_conv_spec){.cin = s.cout, .h = ho, .w = wo, .cout = s.cin, .k = s.k,
                                      .stride = s.stride, .pad = s.pad, .transposed = true};
        }
        const bool last = decoder && j == c->nconv - 1, norm = c->bn && !last;
        if (nn_conv_bind(&N->C[j], &s, last || norm ? NN_ACT_LINEAR : c->act,
                         params ? params + *off : NULL, grads ? grads + *off : NULL) < 0)
            return qv_preferr("model: --conv layer %d", j + 1);
        if (decoder && last && (N->C[j].hout != c->h || N->C[j].wout != c->w))
            return qv_seterr("model: --conv: the transposed convolutions give %d×%d images, not %d×%d",
                             N->C[j].hout, N->C[j].wout, c->h, c->w);
        *off += nn_conv_size(&s);
        if (!norm) continue;
        nn_bn_bind(&N->CN[j], s.cout, N->C[j].hout * N->C[j].wout, c->act,
                   params ? params + *off : NULL, grads ? grads + *off : NULL, NULL);
        *off += nn_bn_size(s.cout);
        N->cboff[j] = *boff;
        *boff += nn_bn_stats_floats(s.cout);
    }
    return 0;
}

int dvae_net_bind(struct dvae_net *N, const struct dvae_config *c, const int *w, bool conv,
                  bool decoder, float *params, float *grads, size_t *off, size_t *boff)
{
    N->nl = c->nhidden + 1;
    N->bn = c->bn;
    N->nconv = conv ? c->nconv : 0;
    N->conv_last = decoder;
    int wd[DVAE_MAX_HIDDEN + 2];   /* the dense widths, the convolutions' features at their side */
    memcpy(wd, w, sizeof(int) * (size_t)(N->nl + 1));
    if (N->nconv) {
        struct nn_conv_spec sp[DVAE_MAX_CONV];
        if (conv_geometry(c, sp, &wd[decoder ? N->nl : 0]) < 0) return -1;
    }
    w = wd;
    if (N->nconv && !decoder && bind_convs(N, c, false, params, grads, off, boff) < 0) return -1;
    for (int i = 0; i < N->nl; i++) {
        /* the network's last layer is linear; the decoder's last dense layer feeds its convs */
        const bool last = i == N->nl - 1 && !(decoder && N->nconv), norm = !last && c->bn;
        nn_dense_bind(&N->L[i], w[i], w[i + 1], last || norm ? NN_ACT_LINEAR : c->act,
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
    if (N->nconv && decoder && bind_convs(N, c, true, params, grads, off, boff) < 0) return -1;
    return 0;
}

/* normalised: step k has batch norm (the bn struct in *B) */
static struct nn_bn *step_bn(const struct dvae_net *N, int k, size_t *boff)
{
    int j;
    if (!N->bn || k == steps(N) - 1) return NULL;
    if (step_is_conv(N, k, &j)) {
        *boff = N->cboff[j];
        return (struct nn_bn *)&N->CN[j];
    }
    *boff = N->boff[j];
    return (struct nn_bn *)&N->N[j];
}

void dvae_net_bind_running(struct dvae_net *N, float *run)
{
    size_t o;
    for (int k = 0; k < steps(N); k++) {
        struct nn_bn *B = step_bn(N, k, &o);
        if (B) B->run = run ? run + o : NULL;
    }
}

/* in/out floats per row of step k; its output and pre-normalisation buffers */
static int step_out(const struct dvae_net *N, int k)
{
    int j;
    return step_is_conv(N, k, &j) ? N->C[j].out : N->L[j].out;
}

static int step_in(const struct dvae_net *N, int k)
{
    int j;
    return step_is_conv(N, k, &j) ? N->C[j].in : N->L[j].in;
}

static float **step_h(struct dvae_net *N, int k, float ***a)
{
    int j;
    if (step_is_conv(N, k, &j)) {
        *a = &N->ca[j];
        return &N->ch[j];
    }
    *a = &N->a[j];
    return &N->h[j];
}

void dvae_net_take(struct dvae_net *N, struct nn_arena *a, int rows)
{
    size_t o;
    for (int k = 0; k < steps(N); k++) {
        float **pa, **ph = step_h(N, k, &pa);
        *ph = nn_arena_take(a, (size_t)rows * step_out(N, k));
        *pa = step_bn(N, k, &o) ? nn_arena_take(a, (size_t)rows * step_out(N, k)) : NULL;
    }
}

size_t dvae_net_work(const struct dvae_net *N, int rows)
{
    size_t w = 0;
    for (int j = 0; j < N->nconv; j++) w = QV_MAX(w, nn_conv_work_floats(&N->C[j], rows));
    return w;
}

int dvae_net_widest(const struct dvae_net *N)
{
    int w = 0;
    for (int k = 0; k < steps(N); k++) w = QV_MAX(w, QV_MAX(step_in(N, k), step_out(N, k)));
    return w;
}

void dvae_net_init(struct dvae_net *N, struct rng *r)
{
    size_t o;
    for (int k = 0; k < steps(N); k++) {
        int j;
        if (step_is_conv(N, k, &j)) nn_conv_init(&N->C[j], r);
        else nn_dense_init(&N->L[j], r);
        struct nn_bn *B = step_bn(N, k, &o);
        if (B) nn_bn_init(B);
    }
}

const float *dvae_net_forward(const struct dvae_net *N, int row0, int rows, const float *in,
                              const struct dvae_scr *sc)
{
    for (int k = 0; k < steps(N); k++) {
        const size_t o = (size_t)row0 * step_out(N, k);
        float **pa, **ph = step_h((struct dvae_net *)N, k, &pa);
        size_t bo;
        const struct nn_bn *B = step_bn(N, k, &bo);
        float *out = *ph + o, *lin = B ? *pa + o : out;
        int j;
        if (step_is_conv(N, k, &j)) nn_conv_forward(&N->C[j], rows, in, lin, sc->work);
        else nn_dense_forward(&N->L[j], rows, in, lin);
        /* rows ≥ 2 per training block is checked before any pass (dvae_batch_run) */
        if (B)
            nn_bn_forward(B, sc->stats ? NN_BN_TRAIN : NN_BN_EVAL, rows, lin, out,
                          sc->stats ? sc->stats + bo : NULL);
        in = out;
    }
    return in;
}

float *dvae_net_backward(const struct dvae_net *N, const struct dvae *m, float *g, int row0,
                         int rows, const float *in, float *dy, float *s1, float *s2, bool want_dx,
                         const struct dvae_scr *sc)
{
    for (int k = steps(N) - 1; k >= 0; k--) {
        const size_t o = (size_t)row0 * step_out(N, k);
        float **pa, **ph = step_h((struct dvae_net *)N, k, &pa);
        const float *y = *ph + o;
        size_t bo;
        const struct nn_bn *Bn = step_bn(N, k, &bo);
        if (Bn) {
            /* through the normalisation first: dy on h → ∂loss/∂a in the other buffer */
            struct nn_bn B = *Bn;
            B.ggamma = g + (B.ggamma - m->grads);
            B.gbeta = g + (B.gbeta - m->grads);
            float *da = dy == s1 ? s2 : s1;
            nn_bn_backward(&B, sc->stats ? NN_BN_TRAIN : NN_BN_EVAL, rows, *pa + o, y, dy, da,
                           sc->stats ? sc->stats + bo : NULL);
            dy = da;
            y = *pa + o;   /* the layer itself is linear: its output is a */
        }
        const float *lin = in;
        if (k > 0) {
            float **qa, **qh = step_h((struct dvae_net *)N, k - 1, &qa);
            lin = *qh + (size_t)row0 * step_out(N, k - 1);
        }
        float *dst = k > 0 || want_dx ? (dy == s1 ? s2 : s1) : NULL;
        int j;
        if (step_is_conv(N, k, &j)) {
            struct nn_conv C = N->C[j];   /* a view whose gradients point into g */
            C.gw = g + (C.gw - m->grads);
            C.gb = g + (C.gb - m->grads);
            nn_conv_backward(&C, rows, lin, y, dy, dst, sc->work);
        } else {
            struct nn_dense L = N->L[j];
            L.gw = g + (L.gw - m->grads);
            L.gb = g + (L.gb - m->grads);
            nn_dense_backward(&L, rows, lin, y, dy, dst);
        }
        dy = dst;
    }
    return dy;
}

void dvae_net_adam(const struct dvae_net *N, void (*seg)(void *ctx, const float *p, size_t len, float wd),
                   void *ctx, float wd)
{
    size_t o;
    for (int k = 0; k < steps(N); k++) {
        int j;
        if (step_is_conv(N, k, &j)) {
            const struct nn_conv *C = &N->C[j];
            seg(ctx, C->w, (size_t)C->s.cin * C->s.cout * C->s.k * C->s.k, wd);
            seg(ctx, C->b, (size_t)C->s.cout, 0.0f);
        } else {
            const struct nn_dense *L = &N->L[j];
            seg(ctx, L->w, (size_t)L->in * L->out, wd);
            seg(ctx, L->b, (size_t)L->out, 0.0f);
        }
        const struct nn_bn *B = step_bn(N, k, &o);
        if (B) {   /* γ, β: no decay, like biases */
            seg(ctx, B->gamma, (size_t)B->c, 0.0f);
            seg(ctx, B->beta, (size_t)B->c, 0.0f);
        }
    }
}

bool dvae_net_owns(const struct dvae_net *N, const float *p)
{
    /* the network's parameters are one contiguous span from its first step's weights */
    int j;
    const float *lo = step_is_conv(N, 0, &j) ? N->C[j].w : N->L[j].w;
    const int kl = steps(N) - 1;
    const float *hi = step_is_conv(N, kl, &j) ? N->C[j].b + N->C[j].s.cout : N->L[j].b + N->L[j].out;
    return p >= lo && p < hi;
}
