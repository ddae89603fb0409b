/* nn_conv.h — 2-D convolution and transposed convolution layers on OpenBLAS (float32), with the
 * conventions of nn.h: parameters and gradients live in the model's flat vectors (_size, _bind),
 * _forward / _backward on a batch, backward overwrites the parameter gradients and writes the
 * input gradient if asked.
 *
 * Layout (row-major, NCHW per row): a batch of B images of C channels of H × W pixels is a
 * [B × C·H·W] matrix, element (b, c, y, x) at ((b·C + c)·H + y)·W + x, so a conv layer can sit
 * wherever a dense layer sits (the dense layer sees the same rows as flat vectors).
 *
 *   convolution      x [B × cin·h·w] → y [B × cout·hout·wout],   hout = (h + 2·pad − k)/stride + 1
 *     y(b,o,i,j) = act(bias(o) + Σ_{c,u,v} w(o,c,u,v) · x(b, c, i·stride − pad + u, j·stride − pad + v))
 *     weights w [cout × cin·k·k] (element (o,c,u,v) at (o·cin + c)·k·k + u·k + v), bias [cout]
 *   transposed conv  x [B × cin·h·w] → y [B × cout·hout·wout],   hout = (h − 1)·stride − 2·pad + k
 *     the adjoint of the convolution from cout×hout×wout to cin×h×w with the same k, stride, pad:
 *     every input pixel (b,c,i,j) adds x(b,c,i,j)·w(c,o,u,v) to y(b, o, i·stride − pad + u, j·stride − pad + v)
 *     weights w [cin × cout·k·k] (element (c,o,u,v) at (c·cout + o)·k·k + u·k + v), bias [cout]
 * Out-of-image taps read zeros (padding) or are dropped.  A convolution and a transposed
 * convolution with swapped channel counts and the same k, stride, pad share one weight layout, so
 * one weight vector w gives ⟨conv(x), y⟩ = ⟨x, convT(y)⟩ (bias 0, linear activation): the
 * decoder's 64×7×7 → 32×14×14 (4×4, stride 2, pad 1) is the mirror of the encoder's.
 *
 * Computation (im2col + sgemm, batched): the layer's "grid" is the set of positions the kernel
 * visits — the output pixels of a convolution, the input pixels of a transposed one — and its
 * "image" the other side.  im2col lays the image's k×k patches of n images side by side as
 * col [C_img·k·k × n·G] (G = grid pixels per image, column b·G + g), so each pass is one sgemm per
 * chunk of n images rather than one per image, plus a cheap transpose between [n × C × G] and
 * [C × n·G].  n is chosen so that a chunk's matrices fit in about 1 MB of cache (9 images of the
 * encoder's 32 → 64 layer, 27 of its first): faster than the whole batch at once, whose col
 * matrix alone is 10 MB (nn_conv.c gives the figures; bench_layers compares with B = 1 calls).
 *
 * Work buffers belong to the caller: nn_conv_work_floats(L, B) floats for a batch of B, used by
 * both passes and holding nothing between them.  The layer itself is read-only during forward and
 * backward (backward writes only gw, gb, which the caller gives each thread its own copy of, as
 * for nn_dense), so calls on distinct rows with distinct y/dy/dx/work buffers may run concurrently. */
#ifndef QV_NN_CONV_H
#define QV_NN_CONV_H

#include "nn.h"

/* Geometry of one layer; h, w are the input's height and width. */
struct nn_conv_spec {
    int cin, h, w;      /* input channels and size */
    int cout;           /* output channels */
    int k;              /* square kernel k × k */
    int stride, pad;    /* stride ≥ 1, zero padding 0 ≤ pad < k */
    bool transposed;    /* false: convolution; true: transposed convolution */
};

struct nn_conv {
    struct nn_conv_spec s;
    int hout, wout;
    int in, out;        /* floats per row: cin·h·w and cout·hout·wout */
    enum nn_act act;
    float *w, *b;       /* see the header comment for w's layout; b [cout] (parameter vector) */
    float *gw, *gb;     /* same shapes, in the gradient vector */
};

/* Output size of a convolution / transposed convolution along one axis (may be ≤ 0 for a
 * geometry that does not fit: nn_conv_check says why). */
static inline int nn_conv_out_dim(int n, int k, int stride, int pad)
{
    return (n + 2 * pad - k) / stride + 1;
}
static inline int nn_convt_out_dim(int n, int k, int stride, int pad)
{
    return (n - 1) * stride - 2 * pad + k;
}

/* 0 if the geometry is valid (positive sizes, stride ≥ 1, 0 ≤ pad < k, an output of at least one
 * pixel, a kernel no larger than the padded input); -1 + error "conv: <problem>" otherwise.
 * Sets *hout, *wout (either may be NULL) when valid. */
int nn_conv_check(const struct nn_conv_spec *s, int *hout, int *wout);
/* Floats the layer occupies in the parameter vector (w then b, each rounded to 16); the spec must
 * have passed nn_conv_check. */
size_t nn_conv_size(const struct nn_conv_spec *s);
/* Check the spec and point the layer at params / grads (either may be NULL while planning). */
int nn_conv_bind(struct nn_conv *L, const struct nn_conv_spec *s, enum nn_act act, float *params,
                 float *grads);
/* Glorot-uniform (tanh/linear) or He-uniform (ReLU family) weights with the fans a pixel of the
 * layer actually sees, zero biases. */
void nn_conv_init(struct nn_conv *L, struct rng *r);
/* Floats of caller-owned scratch that forward and backward need for a batch of B. */
size_t nn_conv_work_floats(const struct nn_conv *L, int B);

/* y [B × out] = act(layer(x [B × in])).  work: nn_conv_work_floats(L, B) floats. */
void nn_conv_forward(const struct nn_conv *L, int B, const float *x, float *y, float *work);
/* Backward.  y is the forward output; dy [B × out] holds dLoss/dy on entry and is overwritten with
 * dLoss/d(pre-activation).  Overwrites gw, gb and, if dx is not NULL, writes dx [B × in]. */
void nn_conv_backward(const struct nn_conv *L, int B, const float *x, const float *y, float *dy,
                      float *dx, float *work);

#endif
