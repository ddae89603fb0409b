/* relax.h — relaxations of binary latents z ∈ {0,1} to continuous ζ ∈ [0,1] (shared docs model.md
 * §2, §2c): the concrete (GumBolt) relaxation and its straight-through variant, and the
 * overlapping (mixture) relaxations of DVAE/DVAE++/DVAE#.  Library math only: no state, no
 * allocation, no threads; every batch entry point is elementwise over a row-major [rows × n] block
 * and reentrant, so a model can call it per row block on several threads.
 *
 * Mixture kinds.  A smoothing density r(ζ|0) on [0,1] concentrated near 0, r(ζ|1) = r(1−ζ|0), and
 * per unit with logit l, q = σ(l), the relaxed posterior
 *     q(ζ|l) = (1−q) r(ζ|0) + q r(ζ|1),      F(ζ; q) = (1−q) F₀(ζ) + q F₁(ζ),  F₁(ζ) = 1 − F₀(1−ζ).
 *   power      r(ζ|0) = λ (ζ+ε)^(λ−1) / D,  λ = 1/β, ε = RELAX_POWER_EPS, D = (1+ε)^λ − ε^λ;
 *              F₀(ζ) = ((ζ+ε)^λ − ε^λ) / D, inverse ζ = (ε^λ + ρD)^β − ε.  As ε → 0 this is
 *              DVAE#'s λζ^(λ−1) with inverse CDF ρ^β.  The offset ε guards the ζ^(λ−1) pole at 0;
 *              here it is part of the density (shifted and renormalised) rather than patched into
 *              the log-density only, so density, CDF, sampler and implicit gradient stay one
 *              consistent distribution, the density is finite on all of [0,1] (≈ 4.7e5 at ζ = 0 for
 *              β = 30) and the shifted bias b(ζ) below is bounded by (1−λ)·log(1+1/ε) ≈ 16.
 *              Default β = 30.
 *   exp        r(ζ|0) = β e^(−βζ) / K,  K = 1 − e^(−β);  F₀(ζ) = (1 − e^(−βζ)) / K.  Default β = 12.
 *   spike-exp  DVAE's spike-and-exponential: r(ζ|0) = δ(ζ) (all mass at ζ = 0) and
 *              r(ζ|1) = β e^(β(ζ−1)) / K on [0,1] — not r(1−ζ|0): the two components do not
 *              overlap, so ζ > 0 ⇔ z = 1.  Densities are with respect to the measure "atom at 0 +
 *              Lebesgue on (0,1]": q(0|l) = 1 − q, q(ζ|l) = q r(ζ|1) for ζ > 0.  Default β = 5.
 * Sampling (model.md §2c): z = [u < q], ζ₀ = F₀⁻¹(ρ) from r(·|0) (spike-exp: from r(·|1) mirrored),
 * ζ = ζ₀ if z = 0 else 1 − ζ₀.  ζ is not a differentiable function of (l, u, ρ); the gradient
 * holds the mixture CDF at the drawn ζ (implicit reparameterisation): F(ζ; q) = const gives
 *     ∂F/∂ζ dζ + ∂F/∂q dq = 0,  ∂F/∂ζ = q(ζ|l),  ∂F/∂q = F₁(ζ) − F₀(ζ), so
 *     ∂ζ/∂q = (F₀(ζ) − F₁(ζ)) / q(ζ|l)  (≥ 0: more weight on z = 1 moves ζ up),
 *     ∂ζ/∂l = ∂ζ/∂q · q(1−q) = (F₀(ζ) − F₁(ζ)) · q(1−q) / q(ζ|l).
 * Spike-exp: ∂ζ/∂l = 0 at ζ = 0, else (1 − F₁(ζ)) (1−q) / r(ζ|1) = (1−q) (e^(β(1−ζ)) − 1) / β.
 * log q(ζ|l) = logaddexp(log(1−q) + log r(ζ|0), log q + log r(ζ|1)); with w = q r(ζ|1) / q(ζ|l)
 * (the posterior weight of z = 1 given ζ):  ∂/∂l = w − q,  ∂/∂ζ = (1−w) ∂log r(ζ|0) + w ∂log r(ζ|1).
 * Shifted bias of the relaxed Boltzmann prior (bm_mf.h): b(ζ) = log r(ζ|1) − log r(ζ|0).
 *
 * GumBolt / straight-through (β = 1/τ): ζ = σ(β(l + log u − log(1−u))), ∂ζ/∂l = β ζ (1−ζ); st puts
 * the binary z = [l + log u − log(1−u) > 0] in ζ and keeps GumBolt's ∂ζ/∂l at the same noise.
 * They have no r(ζ|z) mixture: the log-density and bias entry points refuse them.
 *
 * Accuracy: the one-unit functions work in double (expm1/log1p wherever a difference of nearly
 * equal numbers would cancel) and are the reference; the batch sampler and log q run power and exp
 * in float SIMD (nn.h's exp/log with Kahan's expm1/log1p), ζ within ~2e-6 of its distance to the
 * nearer end, ∂ζ/∂l within 1e-4 relative (plus ~6e-7 absolute on F₀ − F₁), log q within 4e-6 per
 * unit (summed per row in double); the other batch entry points call the double functions.  All
 * tested for l ∈ [−30, 30], β ∈ (0, 100], ζ ∈ [0, 1] including both ends; float outputs saturate
 * at ±FLT_MAX, so no output is NaN or Inf on that range. */
#ifndef QV_RELAX_H
#define QV_RELAX_H

#include <stdbool.h>

enum relax_kind { RELAX_GUMBOLT, RELAX_ST, RELAX_POWER, RELAX_EXP, RELAX_SPIKE_EXP };
#define RELAX_NKINDS 5
#define RELAX_BETA_MAX 100.0
#define RELAX_POWER_EPS 1e-7

/* A relaxation and the constants derived from its β (filled by relax_init; plain value type). */
struct relax {
    enum relax_kind kind;
    double beta;
    double lam;      /* power: λ = 1/β */
    double c0, c1;   /* power: ε^λ, (1+ε)^λ */
    double d;        /* power: D = c1 − c0 (normaliser) */
    double k;        /* exp, spike-exp: K = 1 − e^(−β) */
    double logn;     /* log of the normaliser: power log(λ/D), exp/spike-exp log(β/K) */
    double le0, le1; /* power: log ε, log(1+ε) */
};

/* "gumbolt", "st", "power", "exp", "spike-exp" ↔ kind; parse: -1 + "--relax: unknown …". */
const char *relax_name(enum relax_kind k);
int relax_parse(const char *s, enum relax_kind *out);
/* Default β: gumbolt/st 2 (τ = 0.5), power 30, exp 12, spike-exp 5. */
double relax_default_beta(enum relax_kind k);
/* Parses a --relax-beta value: -1 + "--relax-beta must be > 0" (or a range error). */
int relax_parse_beta(const char *s, double *out);
/* Fills r.  β ≤ 0, not finite or > RELAX_BETA_MAX, or power with β < 1 (λ > 1 would make r(ζ|0)
 * increasing, a relaxation of z = 1): -1 + "--relax-beta …".  For the default, pass
 * relax_default_beta(kind). */
int relax_init(struct relax *r, enum relax_kind kind, double beta);
/* true for power, exp, spike-exp (the kinds with r(ζ|z) and a log-density). */
bool relax_is_mixture(enum relax_kind k);

/* ---- one unit, double (tests, and callers that need full precision) ------------------------ */
/* Sample ζ from uniforms u (picks z) and rho (picks ζ₀), both in [0,1]; *dzdl (may be NULL) =
 * ∂ζ/∂l as above.  For gumbolt/st rho is unused. */
double relax_sample1(const struct relax *r, double l, double u, double rho, double *dzdl);
/* Implicit ∂ζ/∂l at a given ζ (mixture kinds; gumbolt/st: β ζ(1−ζ) of the given ζ). */
double relax_dzdl1(const struct relax *r, double l, double zeta);
/* Mixture CDF F(ζ; σ(l)) (mixture kinds; spike-exp includes the atom: F(0) = 1 − q). */
double relax_cdf1(const struct relax *r, double l, double zeta);
/* log q(ζ|l); dl, dz (may be NULL) = ∂/∂l, ∂/∂ζ.  Mixture kinds only (gumbolt/st: NaN). */
double relax_logq1(const struct relax *r, double l, double zeta, double *dl, double *dz);
/* log r(ζ|z) for z = 0, 1 and d/dζ (may be NULL).  Spike-exp: log r(ζ|0) is 0 at ζ = 0 (the
 * atom) and −∞ elsewhere, log r(ζ|1) is −∞ at ζ = 0. */
double relax_logr1(const struct relax *r, int z, double zeta, double *dz);

/* ---- batches: [rows × n] row-major, float in/out, double sums -------------------------------
 * All arrays hold rows·n elements unless stated; outputs may be NULL where marked. */
/* zeta ← samples; dzdl (may be NULL) ← ∂ζ/∂l (evaluated at the unrounded sample).  Uniforms u
 * (z = [u < q]) and rho (ζ₀ = F₀⁻¹(rho)) in [0, 1), e.g. rng_uniformf; rho may be NULL for
 * gumbolt/st (which read u as the logistic noise's uniform). */
void relax_sample(const struct relax *r, int rows, int n, const float *l, const float *u,
                  const float *rho, float *zeta, float *dzdl);
/* logq [rows] ← Σ_i log q(ζ_i|l_i) per row (double); dl, dz (may be NULL) ← elementwise
 * ∂log q/∂l, ∂log q/∂ζ.  -1 + error for gumbolt/st. */
int relax_logq(const struct relax *r, int rows, int n, const float *l, const float *zeta,
               double *logq, float *dl, float *dz);
/* For the relaxed Boltzmann prior: logr0 [rows] (may be NULL) ← Σ_i log r(ζ_i|0) per row;
 * bias ← b(ζ) = log r(ζ|1) − log r(ζ|0); dbias (may be NULL) ← ∂b/∂ζ; dlogr0 (may be NULL) ←
 * ∂log r(ζ|0)/∂ζ.  Power and exp only: -1 + error for gumbolt/st and for spike-exp, whose b(ζ)
 * is ±∞ (bm_mf.h treats it exactly instead). */
int relax_bias(const struct relax *r, int rows, int n, const float *zeta, double *logr0,
               float *bias, float *dbias, float *dlogr0);

#endif
