/* eval.h — evaluating a trained DVAE: the importance-weighted log-likelihood with discrete latents
 * (Burda et al.; samplers-and-metrics.md §6.1), the exact log-likelihood by enumerating every
 * latent state (tiny models, tests), and active units (§6.2).
 *
 *   log p(x) ≈ LSE_k[ log p(x|z_k) + log p(z_k) − log q(z_k|x) ] − log K,   z_k ~ q(z|x)
 * with log p(z) = −E(z) − log Z for a BM prior (log Z supplied by the caller: exact/PA/AIS) and the
 * closed form for a Bernoulli prior.  Example i draws its latents from its own rng stream
 * (seed, i), so results do not depend on chunking or on which examples are evaluated together. */
#ifndef QV_EVAL_H
#define QV_EVAL_H

#include "dvae.h"
#include <stdatomic.h>

#define EVAL_MAX_THREADS 64

struct eval_ctx {
    uint64_t seed;
    atomic_int *cancel;                                   /* may be NULL */
    void (*progress)(void *ud, double done, double total); /* may be NULL */
    void *ud;
    int threads;   /* images evaluated side by side (0 or 1: one thread; at most
                    * EVAL_MAX_THREADS); every thread gets its own copy of the model, and the
                    * result does not depend on the count */
};

/* x [N × D] binary images; ll [N] out.  K ≥ 1.  logz ignored for a Bernoulli prior.
 * Returns 0, or -1 with an error (cancelled, K < 1, prior mismatch, out of memory). */
int eval_iw_ll(struct dvae *m, const struct bm *bm, double logz, const float *x, long N, long K,
               const struct eval_ctx *ctx, double *ll);
/* Exact log p(x) by summing over all 2^n latent states (n ≤ 24); same arguments. */
int eval_exact_ll(struct dvae *m, const struct bm *bm, double logz, const float *x, long N,
                  double *ll);
/* Active units: for each latent u, mean[u] and var[u] over the N images of E_q[z_u|x] = σ(l_u(x)).
 * Returns the number of units with var > threshold. */
int eval_units(struct dvae *m, const float *x, long N, double threshold, double *mean, double *var);

#endif
