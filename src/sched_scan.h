/* sched_scan.h — the engine of the schedule hand-tuning loop (issue 23 item 3): a trial runs a
 * physical sampler (sqa, qpu, the emulator behind qpu) on the prior under one schedule and
 * measures its samples against a reference (lab_stats.h); a scan runs trials along one knob of
 * the schedule.  No printing: `schedule scan` and the TUI's schedule editor format the numbers.
 *
 * Quality measure.  With an enumerable prior: KL* = min over β of KL(samples ‖ Boltzmann at β),
 * exact log Z — how far the samples are from *any* Boltzmann distribution, which is what a
 * schedule changes (the temperature mismatch is β_eff's, the MPL fit reported beside it; the
 * minimising β matches the mean energy and stays finite when MPL's does not).
 * Otherwise the proxy is the Wasserstein-1 distance of the energy distribution to a population-
 * annealing reference at the β asked.  Mode coverage: the reference's modes holding ≥ 1 % of the
 * mass (lab_modes.h; exact when n ≤ LAB_MODES_EXACT_MAX) and how many the samples visit.
 * Residual energy: mean energy minus the best energy seen (reference or samples). */
#ifndef QV_SCHED_SCAN_H
#define QV_SCHED_SCAN_H
#include "lab_modes.h"
#include "lab_stats.h"
#include "schedule.h"

struct solver_props;

enum sched_knob { SK_PAUSE_S, SK_PAUSE_LEN, SK_QUENCH_S, SK_REVERSE_S, SK_OFFSET, SK_HGAIN };

struct sched_knob_spec {
    enum sched_knob knob;
    long q0, q1;          /* offset: the group of qubits q0..q1 (graph labels) */
    double pause_len;     /* pause-s: length of the pause, µs (default 20) */
    double pause_s;       /* pause-len: where the pause sits (default 0.5) */
    double hold;          /* reverse-s: hold at the target, µs (default 20) */
};
/* "pause-s", "pause-len", "quench-s", "reverse-s", "h-gain", "offset:A-B" or "offset:Q"; the
 * defaults above.  -1 + error naming the knob. */
int sched_knob_parse(const char *text, struct sched_knob_spec *k);
/* A qubit group "Q" or "A-B" (A ≤ B, numbers ≥ 0) into q0..q1; -1 (no error set) when malformed. */
#define SCHED_QUBIT_MAX 16777215L   /* largest qubit number of a group (QPUs have < 10^4) */
int sched_parse_group(const char *g, long *q0, long *q1);
const char *sched_knob_name(enum sched_knob k);
/* The schedule of knob value x built on base (out may not alias base): pause-s inserts a pause
 * of pause_len at s = x; pause-len one of x µs at pause_s; quench-s quenches from s = x;
 * reverse-s replaces it by a reverse anneal to x (hold, fastest ramps); offset sets x on the
 * group; h-gain a constant gain x over the anneal. */
int sched_knob_apply(const struct sched *base, const struct sched_knob_spec *k, double x,
                     const struct solver_props *sp, struct sched *out);

/* The reference of a prior at β: exact (enumerable) or PA, with its mode table. */
struct sched_ref {
    struct lab_ref ref;
    struct lab_modes modes;
    double e_best;        /* lowest energy in the reference (exact: the ground energy found) */
};
void sched_ref_init(struct sched_ref *r);
void sched_ref_free(struct sched_ref *r);
/* count: samples per trial (the exact reference's expected-KL figures are for that count). */
int sched_ref_build(struct sched_ref *r, const struct bm *bm, double beta, long count, uint64_t seed,
                    atomic_int *cancel);

struct sched_trial {
    double x;             /* knob value (NAN for a run from the editor) */
    char label[64];       /* the schedule's name */
    double kl;            /* KL* (exact reference), else NAN */
    double beta_kl;       /* the β at which KL* is reached */
    double w1;            /* Wasserstein-1 of the energies to the reference (the proxy) */
    double beta_eff, beta_err;
    double e_mean, e_sd, resid;
    long major, covered;  /* reference modes with ≥ 1 % of the mass, and how many were visited */
    long count;
    double *energy;       /* [count] the samples' energies (owned; histograms) */
};
void sched_trial_free(struct sched_trial *t);
/* One trial: count samples of bm at β from smp under schedule sc (ctx0 supplies progress,
 * cancel and client; its schedule is replaced), measured against R. */
int sched_trial_run(struct sampler *smp, const struct bm *bm, double beta, long count,
                    const struct sched *sc, const struct sched_ref *R, const struct sample_ctx *ctx0,
                    uint64_t seed, struct sched_trial *t);

/* A trial as a kept result (schedule.h struct sched_result): its numbers, and histograms of its
 * energies and the reference's on common bins spanning both. */
void sched_result_fill(struct sched_result *r, const struct sched_trial *t, const struct sched_ref *R,
                       const char *sampler);
/* Append r to s->res; beyond SCHED_RES_CAP the oldest drops out. */
void sched_results_push(struct sched *s, const struct sched_result *r);

/* A scan: one trial per knob value, all against one reference. */
struct sched_scan {
    int n;
    double *x;                /* [n] knob values */
    struct sched_trial *t;    /* [n] */
    bool exact;               /* KL available (else the W1 proxy) */
};
void sched_scan_free(struct sched_scan *sc);
/* Trials of knob k at x [nx] on base (limits sp, NULL = defaults), against R. */
int sched_scan_run(struct sampler *smp, const struct bm *bm, double beta, long count,
                   const struct sched *base, const struct sched_knob_spec *k, const double *x, int nx,
                   const struct solver_props *sp, const struct sched_ref *R,
                   const struct sample_ctx *ctx0, uint64_t seed, struct sched_scan *out);
/* The series a figure draws (the seam for `--png`): the quality measure per knob value into
 * q [n] (KL*, else the W1 proxy); returns its name ("KL*" or "W1 energy"). */
const char *sched_scan_series(const struct sched_scan *sc, double *q);

/* The values a:b:step of a scan (inclusive of b within rounding), at most max; -1 + error. */
int sched_scan_values(double a, double b, double step, double *x, int max);

#endif
