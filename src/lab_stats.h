/* lab_stats.h — how good is a sample set: quality measures of samples of a Boltzmann machine
 * (bm.h convention, p_β(z) ∝ exp(−βE(z))) against a reference, for `compare` and the schedule
 * lab.  No printing: every function fills numbers the command layer formats.
 *
 * Reference (struct lab_ref):
 *   exact  the prior is enumerable (bm_exact_enum_units ≤ BM_EXACT_MAX, which covers a 48-unit
 *          Chimera cut through the colour-class trick): log Z exact, so the probability of any
 *          state is known, log p(z) = −βE(z) − log Z, without a 2^n table.  KL and TV are taken
 *          over full states (no marginalisation), on the states the sample set holds:
 *              KL(q‖p) = Σ_{x∈S} q(x) log(q(x)/p(x)),
 *              TV(q,p) = ½ [Σ_{x∈S} |q(x) − p(x)| + (1 − Σ_{x∈S} p(x))],
 *          q = the (weighted) empirical distribution on its support S.  Both are biased upward at
 *          a finite count N even for a perfect sampler (KL ≈ (k−1)/2N when N ≫ the k states that
 *          matter, larger when the support is undersampled), so the reference also holds the
 *          expected KL and TV of an exact sampler at the same N, measured by drawing `reps` sets
 *          of N from bm_sample_exact: excess KL = KL − that mean.  Reference energies = the
 *          pooled exact draws.
 *   pa     otherwise: a long population-annealing run gives log Z ± error and the reference
 *          energy distribution (weighted samples); KL/TV are NAN.
 *
 * Mixing: the integrated autocorrelation time τ of the energy series of MCMC chains by Sokal's
 * windowed estimator — τ(M) = 1 + 2 Σ_{t=1}^{M} ρ(t), the smallest window M ≥ c·τ(M) (c = 5) —
 * with ρ the autocorrelation averaged over chains (each chain about its own mean).  Sample sets
 * are laid out as the samplers write them: sample k belongs to chain k mod chains, so chain c's
 * series is c, c + chains, c + 2·chains, …  ESS = N/τ (weighted sets: Kish's (Σw)²/Σw²). */
#ifndef QV_LAB_STATS_H
#define QV_LAB_STATS_H
#include "sampler.h"

/* ----------------------------------------------------------------------- pure measures */

/* KL(q‖p) and TV(q,p) of a distribution q on k distinct states against p, from q[k] (summing to
 * 1) and logp[k] = log p of the same states; p's mass off those states counts in TV. */
void lab_kl_tv_core(const double *q, const double *logp, long k, double *kl, double *tv);
/* The same for a sample set: distinct states found by sorting, q from the weights w [count]
 * (NULL = equal), logp = −β·energy − logz.  *distinct (may be NULL) gets k. */
int lab_kl_tv(const uint8_t *z, int n, const double *energy, const double *w, long count,
              double beta, double logz, double *kl, double *tv, long *distinct);
/* Wasserstein-1 distance between two weighted 1-D distributions (a[na] with weights wa or NULL,
 * b[nb] with wb or NULL): ∫ |F_a(x) − F_b(x)| dx.  NAN when either is empty. */
double lab_wasserstein1(const double *a, const double *wa, long na, const double *b,
                        const double *wb, long nb);
/* Integrated autocorrelation time of chains interleaved series (x[count], chain = k mod chains),
 * Sokal's window with constant c (≤ 0: 5).  *window (may be NULL) gets M.  Chains shorter than 2
 * give τ = 1 (independent draws).  -1 with error when chains < 1. */
int lab_iat(const double *x, long count, long chains, double c, double *tau, long *window);
/* Kish's effective sample size (Σw)²/Σw² (w NULL: count). */
double lab_kish_ess(const double *w, long count);

/* ------------------------------------------------------------------ reference and measures */

struct lab_ref {
    bool exact;            /* enumerable: KL/TV available */
    double beta;
    double logz, logz_err; /* err 0 when exact */
    struct samples s;      /* reference samples: reps × count exact draws, or the PA run's */
    long count;            /* the sample count the excess figures are for */
    int reps;              /* exact draws averaged into kl0/tv0 */
    double kl0, tv0;       /* expected KL/TV of an exact sampler at `count` (NAN for pa) */
    double kl0_sd;         /* their spread over the reps (NAN when reps < 2) */
    double seconds;
};
void lab_ref_init(struct lab_ref *r);
void lab_ref_free(struct lab_ref *r);
/* Exact reference for sample sets of `count` states: log Z, then `reps` (≥ 1) sets of `count`
 * exact draws (rng stream r of seed).  -1 with error when the prior is not enumerable. */
int lab_ref_exact(struct lab_ref *r, const struct bm *bm, double beta, long count, int reps,
                  uint64_t seed, atomic_int *cancel);
/* PA reference: log Z ± error by bm_logz "pa" with opts o, and `count` weighted PA samples
 * (population o->population or count, o->steps steps) for the energy distribution. */
int lab_ref_pa(struct lab_ref *r, const struct bm *bm, double beta, long count,
               const struct logz_opts *o);

struct lab_measures {
    long count;
    double seconds;          /* wall time of the sampler call */
    double e_mean, e_sd, e_min;
    double w1;               /* Wasserstein-1 of the energy distribution to the reference's */
    double kl, tv;           /* against exact (NAN with a pa reference) */
    double kl_excess, tv_excess;
    long distinct;           /* distinct states (exact reference) */
    double beta_eff, beta_err;   /* MPL fit of β to the samples (beta.h), 20 bootstraps */
    double tau;              /* IAT of the energy (1 for independent draws) */
    double ess, ess_per_s;
    double resid;            /* e_min − the best energy over every set compared (lab_resid) */
};
/* Measure s (its energies filled) against ref.  chains: the interleave of s (lab_iat); < 1 or
 * ≥ count for independent draws.  Weighted sets (PA, AIS) use Kish's ESS instead of τ. */
int lab_measure(const struct lab_ref *ref, const struct bm *bm, const struct samples *s,
                long chains, uint64_t seed, struct lab_measures *m);
/* resid of each m[i] against the lowest e_min among them and best_other (NAN = none). */
void lab_resid(struct lab_measures *m, int nsets, double best_other);

/* The histogram series of several energy sets on common bins — what the terminal panel and a
 * PNG figure draw.  sets[i] (weights honoured), nbins bins spanning [*lo, *hi] (computed from
 * the data when *lo ≥ *hi); mass [nsets × nbins] gets each set's fraction per bin. */
int lab_hist_series(const struct samples *const *sets, int nsets, int nbins, double *lo,
                    double *hi, double *mass);

#endif
