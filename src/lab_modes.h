/* lab_modes.h — the modes of a Boltzmann machine prior (bm.h convention): local minima reached
 * by steepest descent, the mass of their basins, and which of them a sampler's chains visit and
 * how often they hop between them.
 *
 * Descent: from a state z, repeatedly flip the single unit with the most negative energy change
 * ΔE_i = (2z_i − 1)·f_i, f_i = b_i + Σ_j W_ij z_j (ties: the lowest unit index), until no flip
 * lowers the energy by more than LAB_DESCENT_TOL.  Every state thus has exactly one mode, and the
 * basin of a mode is the set of states that descend to it, so basin masses under p_β sum to 1:
 *   exact      (n ≤ LAB_MODES_EXACT_MAX) every one of the 2^n states descends, weighted by its
 *              exact probability (bm_probs_exact);
 *   estimated  from reference samples: the (weighted) fraction descending to each mode, with its
 *              binomial standard error √(m(1−m)/N_eff). */
#ifndef QV_LAB_MODES_H
#define QV_LAB_MODES_H
#include "sampler.h"

#define LAB_MODES_EXACT_MAX 22
#define LAB_DESCENT_TOL 1e-12

struct lab_modes {
    int n;               /* units */
    long nmodes;
    uint8_t *z;          /* [nmodes × n] the minima, heaviest basin first */
    double *energy;      /* [nmodes] E of each minimum */
    double *mass;        /* [nmodes] basin mass */
    double *mass_err;    /* [nmodes] standard error (0 when exact) */
    long *by_state;      /* [nmodes] mode indices sorted by state bytes (lab_modes_find) */
    bool exact;
    double n_eff;        /* samples behind an estimate (Kish ESS), 0 when exact */
};
void lab_modes_init(struct lab_modes *m);
void lab_modes_free(struct lab_modes *m);

/* Steepest descent of z [n] in place (see above); returns the number of flips. */
long lab_descend(const struct bm *bm, uint8_t *z);
/* Descend every sample of s on `threads` threads (0 = default): minima [s->count × n] out. */
void lab_descend_all(const struct bm *bm, const struct samples *s, int threads, uint8_t *minima);
/* The mode table estimated from reference samples s (weights honoured). */
int lab_modes_from_samples(struct lab_modes *m, const struct bm *bm, const struct samples *s,
                           int threads);
/* The exact mode table at β by descending all 2^n states (n ≤ LAB_MODES_EXACT_MAX). */
int lab_modes_exact(struct lab_modes *m, const struct bm *bm, double beta, int threads);
/* Index of the mode whose minimum is zmin [n], or -1 when the table does not hold it. */
long lab_modes_find(const struct lab_modes *m, const uint8_t *zmin);
/* Modes holding at least min_mass; their summed mass into *mass (may be NULL). */
long lab_modes_major(const struct lab_modes *m, double min_mass, double *mass);

/* What a sampler's samples do among the modes of a table. */
struct lab_visits {
    long nmodes;         /* = the table's */
    double *frac;        /* [nmodes + 1] (weighted) fraction of samples per mode; last = other
                            minima the table does not hold */
    long major, covered; /* modes with mass ≥ min_mass, and how many of them were visited */
    double covered_mass; /* reference mass of the visited major modes */
    long hops;           /* consecutive states of a chain in different basins (tunnelling) */
    long steps;          /* consecutive pairs examined: count − chains */
};
void lab_visits_free(struct lab_visits *v);
/* s laid out as chains interleaved (sample k in chain k mod chains; chains < 1 or ≥ count:
 * independent draws, no chain order, hops 0). */
int lab_visits(struct lab_visits *v, const struct lab_modes *m, const struct bm *bm,
               const struct samples *s, long chains, double min_mass, int threads);

#endif
