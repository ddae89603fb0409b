/* anneal.h — annealing functions A(s), B(s) (GHz, D-Wave convention of annealing.md §4.1:
 * H(s) = −A(s)/2 Σσx + B(s)/2 (Σ h σz + Σ J σzσz)), their interpolation, the physical inverse
 * temperature of a solver, and the freeze-out model shared by the sqa emulator and the
 * freeze-out estimate of β_eff.
 *
 * Freeze-out / relaxation model (documented calibration, [D] = our own modelling choice):
 * the system relaxes at a rate proportional to A(s)² (incoherent tunnelling ∝ Δ²), expressed as
 * MC sweeps per µs:  ν(s) = min(ν0, (A(s)/A_c)²),  with A_c calibrated per table so that a
 * linear 20 µs anneal has exactly one sweep left after the solver's published single-qubit
 * freeze-out point s*_ref (Advantage_system4.1: 0.612).  ν0 ("sweeps_per_us") only sets the MC
 * resolution early in the anneal; the freeze-out point does not depend on it.  The freeze-out of
 * an arbitrary schedule is the last time t* with ∫_{t*}^{t_f} (A(s(t))/A_c)² dt ≥ 1, so a pause
 * after s*_ref (long enough) moves s* to the pause and an early quench moves it earlier. */
#ifndef QV_ANNEAL_H
#define QV_ANNEAL_H
#include "qv.h"

struct sched;
struct solver_props;

#define ANNEAL_H_PLANCK 6.62607004e-34   /* J s (annealing.md constants) */
#define ANNEAL_K_B      1.3806503e-23    /* J/K */

struct anneal_table {
    char name[64];        /* "dw2000q6", "advantage4", or the file name */
    int n;                /* rows, s strictly increasing from 0 to 1 */
    double *s, *A, *B;    /* [n] GHz */
    double s_freeze;      /* calibration point s*_ref used for a_c */
    double a_c;           /* A_c of the relaxation model, GHz (see above) */
};

/* Load a CSV table: a header line naming the columns (s, A…, B…; any order; extra columns
 * ignored), then rows of numbers.  Errors name the file and the problem (missing column, bad
 * number at line L, s not increasing, s not covering [0, 1], negative A or B). */
struct anneal_table *anneal_table_load(const char *path, double s_freeze);
void anneal_table_free(struct anneal_table *t);
/* Shipped table by name from <home>/assets/annealing/NAME.csv, loaded once and cached for the
 * process (thread-safe; never freed).  NULL + error if missing. */
const struct anneal_table *anneal_table_get(const char *name);
/* Same, a name or CSV path, calibrated at freeze-out point s_freeze (cached per pair). */
const struct anneal_table *anneal_table_calibrated(const char *name, double s_freeze);
/* The table for a solver (its anneal_table name, calibrated at its freezeout_s); sp NULL =
 * solver_defaults(). */
const struct anneal_table *anneal_table_for(const struct solver_props *sp);

double anneal_A(const struct anneal_table *t, double s);   /* GHz, linear interpolation */
double anneal_B(const struct anneal_table *t, double s);

/* β_phys = h/(k_B T) in GHz⁻¹ (3.116 GHz⁻¹ at 15.4 mK). */
double anneal_beta_phys(double temperature_mk);
/* MC sweep rate of the relaxation model at s, sweeps per µs (see above). */
double anneal_rate(const struct anneal_table *t, double s, double nu0);

struct freezeout {
    double s_star;        /* freeze-out point */
    double t_star;        /* µs into the schedule */
    double beta_eff;      /* β_phys·B(s*)/2, in problem (Ising h, J) units */
    double a_over_b;      /* A(s*)/B(s*): how classical the frozen state is */
};
/* Freeze-out estimate of a schedule on a solver (its temperature; sp NULL = solver_defaults())
 * with A(s)/B(s) table t (NULL = the solver's).  Errors on a schedule with < 2 points. */
int anneal_freezeout(const struct sched *s, const struct solver_props *sp,
                     const struct anneal_table *t, struct freezeout *out);

#endif
