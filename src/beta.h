/* beta.h — effective inverse temperature β_eff of a set of samples on a Boltzmann machine, by
 * maximum pseudo-likelihood (samplers-and-metrics.md §5.2, the dwave-system estimating
 * equation), with a bootstrap error bar.
 *
 * With ΔE_i(z) = E(z with unit i flipped) − E(z) (bm.h energy), MPL solves
 *     Σ_samples w Σ_i ΔE_i / (1 + exp(β ΔE_i)) = 0,
 * whose left side is strictly decreasing in β (unique root).  When every ΔE_i ≥ 0 (all samples
 * are local minima) the root is at β = +∞; when every ΔE_i ≤ 0, at β = 0 — both are reported
 * (beta = INFINITY / 0) rather than treated as errors. */
#ifndef QV_BETA_H
#define QV_BETA_H
#include "bm.h"

struct beta_result {
    double beta;        /* MPL estimate (may be INFINITY) */
    double err;         /* bootstrap standard deviation (0 if nboot < 2, NAN if undefined) */
    int nboot;          /* bootstrap replicates used */
    bool linearised;    /* bootstrap by one Newton step from the full estimate (large inputs) */
};

/* MPL estimate of β for `count` states z [count × n] (0/1), weights w [count] or NULL. */
int beta_mpl(const struct bm *bm, const uint8_t *z, long count, const double *w, double *beta);
/* MPL with `nboot` bootstrap replicates (0 = none).  Deterministic for a given seed. */
int beta_estimate(const struct bm *bm, const uint8_t *z, long count, int nboot, uint64_t seed,
                  struct beta_result *r);
/* Same on an Ising problem (h[n], J[ne] over bm->g's edges) and spins given as 0/1 z:
 * ΔE from E_s = Σ h s + Σ J s s (used by samplers that program scaled problems). */
int beta_estimate_ising(const struct graph *g, const double *h, const double *J, const uint8_t *z,
                        long count, int nboot, uint64_t seed, struct beta_result *r);

#endif
