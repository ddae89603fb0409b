/* sqa_ctl.h — the advanced anneal controls (schedule.h struct sched_ctl) as the sqa emulator
 * (samp_sqa.c) applies them at each Monte Carlo step.
 *
 * Model.  Qubit i anneals on its own s_i = clip(s + offset_i, 0, 1) with its own A(s_i), B(s_i)
 * (the solver's table).  Its persistent current is I_p(s_i) = sqrt(B(s_i) / (2 M_AFM)), so a
 * coupler's energy M_AFM I_p,i I_p,j is (sqrt(B_i B_j) / 2) J_ij and a linear bias's is
 * (B_i / 2) g(t) h_i.  A flux bias Φ_i (units of Φ0) adds −I_p(s_i) Φ0 Φ_i σz_i (dwave-system's
 * temperatures.py, `Ip_in_units_of_B` / `h_to_fluxbias`: B(s)/2 h = −I_p(s) Φ0 Φ).  Written
 * with the step's global s (a = β B(s)/(2P) as without controls) and r_i = sqrt(B(s_i)/B(s)),
 * the classical field of spin i in the action is a·r_i·(r_i g h_i + Σ_j r_j J_ij σ_j + φ_i):
 * the kernel runs unchanged on the step's fields
 *     hs_i = r_i² g h_i − r_i c(s) Φ_i,   Js_ij = r_i r_j J_ij,
 * with c(s) = Φ0 / (M_AFM I_p(s)) (the h-equivalent of one Φ0 at s), and per-spin
 * K_i = −½ ln tanh(β A(s_i)/(2P)), p_bond,i = 1 − tanh(β A(s_i)/(2P)) when offsets are set.
 * Without offsets r_i = 1: K and p_bond stay scalars and J is not copied.
 *
 * Freeze-out per qubit: the relaxation model of anneal.h runs on each qubit's own clock, rate
 * ν(s_i).  The plan's steps come at the fastest rate any qubit has, ν(s + min(0, min offset));
 * qubit i takes part in a step when its own accumulated ν(s_i)/ν(step) reaches 1, and sits
 * the step out otherwise.  So an advanced qubit (positive offset) stops moving while the others
 * still relax — it freezes earlier, as on hardware — and a delayed one keeps relaxing after them. */
#ifndef QV_SQA_CTL_H
#define QV_SQA_CTL_H
#include "qv.h"

struct sched;
struct graph;
struct anneal_table;

#define SQA_PHI0 2.067833848e-15   /* magnetic flux quantum h/2e, Wb */

struct sqa_ctl {
    const struct sched *s;         /* borrowed: the schedule with the controls */
    const struct graph *g;         /* borrowed */
    const struct anneal_table *t;  /* borrowed */
    double bphys;                  /* β_phys, GHz⁻¹ */
    int P;                         /* Trotter slices */
    double mafm;                   /* M_AFM, H */
    double nu0;                    /* sweeps per µs early in the anneal (anneal_rate) */
    double minoff;                 /* min(0, smallest offset): the plan's rate is ν(s + minoff) */
    int noff, nflux;
    int *off_node, *flux_node;     /* [noff], [nflux] nodes of the problem with a control */
    double *off, *flux;            /* their offsets, flux biases (Φ0) */
    long ignored;                  /* controls on qubits that are not in the problem */
};

/* The controls of schedule s on the problem graph g (labels = qubit numbers).  Returns false
 * (nothing allocated) when the schedule has no h-gain, offset or flux bias. */
bool sqa_ctl_init(struct sqa_ctl *c, const struct sched *s, const struct graph *g,
                  const struct anneal_table *t, double bphys, int P, double mafm_ph, double nu0);
void sqa_ctl_free(struct sqa_ctl *c);

/* A read's scratch for the step fields: hs [n]; with offsets Js [2 ne], Kv, pbv, r, clock [n]
 * and skip [n]. */
struct sqa_ctl_work { float *hs, *Js, *Kv, *pbv, *r, *clock; uint8_t *skip; };
void sqa_ctl_work_init(const struct sqa_ctl *c, struct sqa_ctl_work *w);
void sqa_ctl_work_free(struct sqa_ctl_work *w);
/* Start of a read: every qubit's clock at 0. */
void sqa_ctl_read_start(const struct sqa_ctl *c, struct sqa_ctl_work *w);

/* The fields of one step at global anneal fraction sv with gain gv, from a read's programmed
 * problem h [n], Jadj [2 ne], into w.  Returns true when offsets are set (the kernel takes
 * w->Js, Kv, pbv, skip), false when the read's Jadj and the step's scalar K, p_bond stand. */
bool sqa_ctl_step(const struct sqa_ctl *c, double sv, double gv, float K, float pbond,
                  const float *h, const float *Jadj, struct sqa_ctl_work *w);

/* M_AFM in pH of a solver by name (annealing.md §4.3 published values; 1.647, Advantage 4.1's,
 * for any other, as dwave-system defaults to). */
double sqa_mafm_ph(const char *solver);

#endif
