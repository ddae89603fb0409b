/* bm_mf.h — the relaxed Boltzmann prior of DVAE# ("marginal" form, shared docs model.md §2c): a
 * proper density p(ζ) for relaxed latents ζ ∈ [0,1]^n under a Boltzmann-machine prior, with log of
 * the ζ-dependent partition function by mean field.  Library math only; reentrant (the caller owns
 * the scratch), so a model can run row blocks on several threads.
 *
 * With the joint p(z, ζ) = e^(−E(z)) Π_i r(ζ_i|z_i) / Z,  E(z) = −Σ b_i z_i − Σ_(i,j) W_ij z_i z_j
 * (struct bm, edges in g->edges order) and a mixture relaxation r (relax.h), summing z out gives
 *     p(ζ) = Z(ζ) / Z · Π_i r(ζ_i|0),
 *     Z(ζ) = Σ_z exp(Σ_i (b_i + b_i(ζ)) z_i + Σ W_ij z_i z_j),   b_i(ζ) = log r(ζ_i|1) − log r(ζ_i|0),
 * i.e. the same machine with its biases shifted by b(ζ).  Z is the prior's own partition function
 * (the caller's log Z estimate; its gradient is the usual negative phase).  Everything here is
 *     logp̃(ζ) = log Z(ζ) + Σ_i log r(ζ_i|0)   so that   log p(ζ) = logp̃(ζ) − log Z.
 *
 * Mean field.  log Z(ζ) ≥ B(m) = Σ_i (b_i + b_i(ζ)) m_i + Σ W_ij m_i m_j + Σ_i H(m_i) for every
 * m ∈ [0,1]^n (Gibbs' variational principle; H the Bernoulli entropy), so the value returned is a
 * lower bound on logp̃ for any number of sweeps.  m starts at the uncoupled solution σ(b + b(ζ)),
 * then each sweep visits the colour classes in order and sets m_i = σ(b_i + b_i(ζ) + Σ_j W_ij m_j);
 * the updates are done in place, one unit after another, so each is coordinate ascent on B
 * whatever the colouring (within a class of a proper colouring they are independent, so this is
 * DVAE#'s parallel per-class update: both shores of Chimera, four classes on Pegasus/Zephyr).
 * B never decreases from one sweep to the next (up to the float rounding of the updates, which run
 * NN_VL rows at a time in float SIMD; B itself is evaluated in double at the m they produce, so it
 * is a lower bound exactly).
 *
 * Gradients, m held fixed (DVAE#'s estimator; at a converged fixed point ∂B/∂m = 0, so these equal
 * the total derivatives of the bound — the envelope theorem):
 *     ∂logp̃/∂b_i = m_i,   ∂logp̃/∂W_ij = m_i m_j   (positive phase of the prior's gradient),
 *     ∂logp̃/∂ζ_i = m_i ∂log r(ζ_i|1) + (1 − m_i) ∂log r(ζ_i|0)   (through b(ζ) and Σ log r(ζ|0)).
 *
 * Spike-and-exponential (relax.h): r(ζ|0) is an atom at 0 and r(ζ|1) has no mass there, so ζ fixes
 * z* = [ζ > 0] and Z(ζ) has one term: logp̃ = −E(z*) + Σ_(i: ζ_i > 0) log r(ζ_i|1), exactly (no mean
 * field); m = z*, ∂logp̃/∂ζ_i = β for ζ_i > 0 and 0 at the atom.
 *
 * In a training step (rows = images × K samples, n latents, κ the KL warm-up coefficient):
 *   relax_sample(rx, rows, n, l, u, rho, zeta, dzdl);           u, rho uniforms [rows × n]
 *   decoder at ζ → log p(x|ζ) [rows], g_dec = ∂/∂ζ [rows × n]
 *   relax_logq(rx, rows, n, l, zeta, logq, gq_l, gq_z);
 *   bm_mf_logp(bm, rx, sweeps, rows, zeta, lpt, m, gp_z, scratch);
 *   log w = log p(x|ζ) + κ (lpt − log Z − logq);  ω = softmax of log w over each image's K rows
 *   ∂/∂ζ = ω (g_dec + κ (gp_z − gq_z));  ∂/∂l = ∂/∂ζ · dzdl − ω κ gq_l   (ascent on the bound)
 *   prior: bm_mf_accum(bm, rows, m, ω κ, gb, gw), minus κ Σ ω × the negative phase ⟨z⟩, ⟨z z⟩. */
#ifndef QV_BM_MF_H
#define QV_BM_MF_H

#include "bm.h"
#include "relax.h"

#define BM_MF_SWEEPS 5   /* default mean-field sweeps (DVAE#) */

/* Doubles of scratch one calling thread needs for bm (about 4·NN_VL·n + ne/2: 75 kB for 288 units
 * with AVX). */
size_t bm_mf_scratch_size(const struct bm *bm);

/* For rows of relaxed samples zeta [rows × n] (n = bm->n, row-major):
 *   logp [rows]          ← logp̃(ζ_r) = log Z_MF(ζ_r) + Σ_i log r(ζ_ri|0)  (subtract log Z);
 *   m [rows × n]         ← mean-field marginals (may be NULL; use bm_mf_accum for ∂/∂b, ∂/∂W);
 *   dzeta [rows × n]     ← ∂logp̃/∂ζ with m fixed (may be NULL).
 * sweeps ≥ 0 (BM_MF_SWEEPS by default); scratch: bm_mf_scratch_size(bm) doubles, caller-owned.
 * -1 + error for gumbolt/st (no r(ζ|z)) or sweeps < 0; nothing is written then. */
int bm_mf_logp(const struct bm *bm, const struct relax *rx, int sweeps, int rows, const float *zeta,
               double *logp, float *m, float *dzeta, double *scratch);

/* The bound at a given m [n] for one row ζ [n]: B(m) + Σ_i log r(ζ_i|0) (power and exp; NaN for
 * the other kinds); scratch as above.  bm_mf_logp returns this at its final m. */
double bm_mf_bound(const struct bm *bm, const struct relax *rx, const float *zeta, const double *m,
                   double *scratch);

/* Positive-phase accumulation: gb [n] += Σ_r w_r m_ri,  gw [ne] += Σ_r w_r m_ru m_rv (edge (u,v));
 * w [rows] per-row weights (e.g. normalised importance weights), NULL for 1. */
void bm_mf_accum(const struct bm *bm, int rows, const float *m, const double *w, double *gb,
                 double *gw);

#endif
