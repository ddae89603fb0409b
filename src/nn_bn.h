/* nn_bn.h — batch normalisation before the nonlinearity, with the conventions of nn.h (γ, β in
 * the model's flat parameter vector, their gradients in the parallel vector):
 *
 *   y = act(γ_c · (a − μ_c)/√(σ²_c + ε) + β_c)
 *
 * per feature of dense activations a [B × C] (hw = 1), or per channel of convolution activations
 * a [B × C × hw] (NCHW rows as in nn_conv.h; the statistics run over the B·hw values of the
 * channel).  The layer applies its own activation, so a normalised layer is a dense or conv layer
 * with NN_ACT_LINEAR followed by nn_bn with the nonlinearity.
 *
 * Modes.  Training: μ, σ² are the statistics of the rows given (σ² the biased variance, 1/n), and
 * the backward pass is exact, through μ and σ².  Evaluation: μ, σ² are the running statistics and
 * the layer is an affine map per channel.
 *
 * Running statistics live in a buffer the owner keeps beside the parameters and saves with the
 * model: run [2·C] = running means then running variances (initialised 0 and 1), updated after a
 * training step by nn_bn_update_running with the convention
 *     run ← momentum · run + (1 − momentum) · batch
 * (Keras/TensorFlow's; DVAE#'s momentum 0.8 keeps 80 % of the old value and equals PyTorch's
 * momentum 0.2), where the batch variance entering it is the unbiased one, n/(n − 1) · σ², as both
 * frameworks do.
 *
 * Data-parallel blocks and reentrancy.  The forward pass does not touch the running statistics: in
 * training mode it writes the statistics it used into a caller-owned `batch` buffer
 * [nn_bn_stats_floats(C)], which the backward pass reads.  Each thread of a data-parallel step
 * therefore normalises its own block of rows by that block's statistics ("ghost batch norm":
 * deterministic for a fixed partition of the batch, and the gradient is exact for the function
 * each block computes), with its own y/dy/dx/batch buffers and gradient copy; the forward and
 * backward calls are then reentrant.  Every block needs at least 2 rows (the batch-1 error), so
 * the owner should not split a batch into more blocks than half its rows.  After the step, one thread folds the blocks' statistics into
 * the running buffer with nn_bn_update_running, which pools them into the statistics of the whole
 * batch (exactly: the pooled mean and the pooled variance with the between-block spread), so the
 * running statistics do not depend on the number of threads. */
#ifndef QV_NN_BN_H
#define QV_NN_BN_H

#include "nn.h"

#define NN_BN_MOMENTUM 0.8f   /* DVAE#'s release */
#define NN_BN_EPS 1e-2f

enum nn_bn_mode { NN_BN_TRAIN, NN_BN_EVAL };

struct nn_bn {
    int c, hw;              /* channels (features) and values per channel per row */
    enum nn_act act;
    float eps, momentum;    /* NN_BN_EPS, NN_BN_MOMENTUM after bind; the owner may change them */
    float *gamma, *beta;    /* [c] each, inside the parameter vector */
    float *ggamma, *gbeta;  /* [c] each, inside the gradient vector */
    float *run;             /* [2·c] running means then variances (owner's buffer) */
};

/* Floats the layer occupies in the parameter vector (γ then β, each rounded to 16). */
size_t nn_bn_size(int c);
/* Floats of a running-statistics buffer and of a block's batch-statistics buffer: 2·c. */
static inline size_t nn_bn_stats_floats(int c) { return 2 * (size_t)c; }
/* Point the layer at params / grads / run (any may be NULL while planning). */
void nn_bn_bind(struct nn_bn *L, int c, int hw, enum nn_act act, float *params, float *grads,
                float *run);
/* γ = 1, β = 0, running means 0 and variances 1. */
void nn_bn_init(struct nn_bn *L);

/* y [B × c·hw] = the normalised, scaled, shifted, activated x (must not alias y).  Training mode
 * writes the statistics used into batch [2·c] (means, biased variances) and needs B ≥ 2: with
 * fewer rows it returns -1 with the error "batch norm: needs a batch of at least 2 in training
 * mode" and writes nothing.  Evaluation mode uses run and ignores batch (may be NULL). */
int nn_bn_forward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x, float *y,
                  float *batch);
/* Backward of the forward call with the same mode, x, y and batch.  dy [B × c·hw] holds dLoss/dy
 * on entry and is overwritten with dLoss/d(pre-activation).  Overwrites ggamma, gbeta and, if dx
 * is not NULL, writes dx [B × c·hw] (training mode: through μ and σ² of the block). */
void nn_bn_backward(const struct nn_bn *L, enum nn_bn_mode mode, int B, const float *x,
                    const float *y, float *dy, float *dx, const float *batch);
/* Fold the training statistics of nblocks blocks (batch[i] from nn_bn_forward over rows[i] ≥ 1
 * rows; Σ rows ≥ 2) into the running statistics, as one batch of all their rows. */
void nn_bn_update_running(const struct nn_bn *L, int nblocks, const float *const *batch,
                          const int *rows);

#endif
