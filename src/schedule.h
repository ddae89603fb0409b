/* schedule.h — anneal schedules: a list of (t µs, s) points as a QPU accepts them
 * (`anneal_schedule` = [[t, s], …], piecewise linear), builders for the standard shapes
 * (forward, pause, quench, reverse), point editing, JSON load/save, and validation exactly as a
 * QPU enforces it (qpu-protocol.md §2.2–2.4).
 * CONTRACT for the TUI schedule editor (redraws from app->st.schedule, calls sched_validate live)
 * and for the sqa / qpu samplers (follow s(t) via sched_s_at).
 *
 * Editing functions never leave a schedule half-changed: on error they return -1 with
 * qv_seterr() and the schedule is exactly as before.  Editing does not require validity (a user
 * builds a schedule point by point); only NaN/Inf, negative time and s outside [0, 1] are refused
 * outright, everything else is reported by sched_validate. */
#ifndef QV_SCHEDULE_H
#define QV_SCHEDULE_H
#include "qv.h"

struct solver_props;
struct graph;
struct cJSON;

#define SCHED_CAP 64          /* editing capacity (a QPU accepts max_anneal_schedule_points, ~12) */
#define SCHED_HG_CAP 32       /* h-gain points (a QPU accepts max_h_gain_schedule_points, ~20) */
#define SCHED_QCAP 256        /* qubits with a non-zero anneal offset / flux bias */

struct sched_point { double t, s; };   /* t in µs, s in [0, 1] */
struct sched_qval { long q; double v; };   /* qubit (graph label) and its value */

/* The advanced anneal controls a QPU accepts besides the schedule (qpu-protocol.md §2, the
 * D-Wave docs' "annealing implementation and controls"), followed by the sqa emulator:
 * - h_gain_schedule: g(t) as (t µs, g) points, linear in between; H = B(s)/2 (g(t) Σ h σz +
 *   Σ J σzσz).  nhg = 0 means g ≡ 1.
 * - anneal_offsets: qubit q anneals on its own s_q(t) = clip(s(t) + offset_q, 0, 1); a positive
 *   offset advances it (it freezes earlier), a negative one delays it (D-Wave problem-solving
 *   handbook, "Anneal Offsets").  Only non-zero entries are kept, sorted by q.
 * - flux_biases: Φ_q in units of the flux quantum Φ0, an extra longitudinal field
 *   −I_p(s_q) Φ0 Φ_q σz_q (sign opposite to h; samp_sqa.c has the conversion).
 * - fast_anneal: the fast-anneal protocol — exactly two points, times in the solver's
 *   fast_anneal_time_range, no h (h = 0), no h-gain, no reverse anneal. */
struct sched_ctl {
    bool fast_anneal;
    int nhg;
    struct sched_point hg[SCHED_HG_CAP];   /* .s holds g */
    int noff, nflux;
    struct sched_qval off[SCHED_QCAP], flux[SCHED_QCAP];
    long grp0, grp1;           /* the qubit group last given an offset (the editor's o / O keys) */
};

/* Results of trying the schedule (`schedule try`, the editor's run key), newest last, kept with
 * it so the editor shows the last few side by side (sched_scan.h has the measures; not saved). */
#define SCHED_RES_CAP 4
#define SCHED_RES_BINS 24
struct sched_result {
    long seq;                  /* 1, 2, … in the order the runs happened */
    char label[48];            /* the schedule's name when it ran */
    char sampler[16];
    double kl, w1, beta_eff, e_mean, resid;   /* NAN when not available */
    long major, covered;       /* reference modes ≥ 1 % and how many were visited */
    double lo, hi;             /* energy range of the histograms */
    float mass[SCHED_RES_BINS], ref[SCHED_RES_BINS];   /* fraction per bin: samples, reference */
};
struct sched_results { int n; long runs; struct sched_result r[SCHED_RES_CAP]; };

struct sched {
    int n;
    struct sched_point pt[SCHED_CAP];
    char name[64];             /* preset/saved name or how it was built ("forward 20") */
    char solver[64];           /* solver whose limits are in force ("" = solver_defaults()) */
    /* Run parameters checked together with the schedule (run-duration limit, reverse rules): */
    long num_reads;            /* reads per call (default 100) */
    double readout_thermalization;      /* µs, < 0 = solver default */
    double programming_thermalization;  /* µs, < 0 = solver default */
    bool initial_state;        /* reverse anneal: an initial state will be supplied (given
                                  states or the sampler's previous samples) */
    bool reinitialize;         /* reverse anneal: reinitialize_state (default true) */
    struct sched_ctl ctl;      /* advanced controls (all off after sched_init) */
    struct sched_results res;  /* the last tries (plain data, not in JSON) */
};

void sched_init(struct sched *s);                 /* empty, defaults for run parameters */
struct sched *sched_new(void);                    /* sched_init'ed; free with sched_free */
void sched_free(struct sched *s);
void sched_copy(struct sched *dst, const struct sched *src);

/* Builders (replace the points; previous points kept on error). */
int sched_forward(struct sched *s, double T);                         /* (0,0) → (T,1) */
/* Both act at the END of the first stretch spent at s (a hold already there is kept).
 * Insert a flat segment at s_p lasting `duration` µs into the current schedule (the current one
 * must reach s_p; a forward anneal is made first when empty); a hold already at s_p grows by
 * duration.  Later points shift by duration. */
int sched_pause(struct sched *s, double s_p, double duration);
/* Replace everything after the point where s reaches s_q (after any hold there) by the steepest
 * allowed ramp to s = 1: slope `max_slope` µs⁻¹ (≤ 0 = 1/min_annealing_time of the limits). */
int sched_quench(struct sched *s, double s_q, double max_slope, const struct solver_props *sp);
/* Reverse anneal 1 → s_target over `ramp` µs, hold `hold` µs, back to 1 over `ramp` µs;
 * ramp ≤ 0 = the fastest allowed ramp (|Δs|·min_annealing_time).  Sets initial_state. */
int sched_reverse(struct sched *s, double s_target, double hold, double ramp,
                  const struct solver_props *sp);

/* Point editing: add keeps time order (inserts by t; equal t is an error); del/move by index. */
int sched_add(struct sched *s, double t, double sv);
int sched_del(struct sched *s, int i);
int sched_move(struct sched *s, int i, double t, double sv);
/* Replace all points (checks finiteness, t ≥ 0, s in [0,1], 2 ≤ n ≤ SCHED_CAP, t strictly
 * increasing).  Used by load and by the TUI editor. */
int sched_set_points(struct sched *s, const struct sched_point *pts, int n);

/* JSON: the QPU form [[t, s], …].  Also accepts {"anneal_schedule": [[t, s], …], …} with
 * optional "initial_state", "reinitialize_state", "num_reads" (what sched_to_json_full writes).
 * Error messages name the offending element. */
int sched_from_json_text(struct sched *s, const char *text, size_t len);
char *sched_to_json(const struct sched *s);        /* "[[0,0],[20,1]]", malloc'ed */
struct cJSON *sched_to_cjson(const struct sched *s);           /* the full object form */
int sched_from_cjson(struct sched *s, const struct cJSON *obj);  /* list or object form */
int sched_load_file(struct sched *s, const char *path);
/* The advanced controls as SAPI parameters added to params (qpu-protocol.md §2.1): fast_anneal,
 * h_gain_schedule, and anneal_offsets / flux_biases as arrays of num_qubits values (0 = none),
 * each control on unit label q moved to the hardware qubit qubit_of[node] of the node g gives that
 * label.  Returns how many per-qubit controls name no node of g (not sent). */
int sched_ctl_to_params(const struct sched *s, const struct graph *g, const int *qubit_of, int num_qubits,
                        struct cJSON *params);
int sched_save_file(const struct sched *s, const char *path);

/* Queries. */
double sched_duration(const struct sched *s);      /* last t (0 if empty) */
bool sched_is_reverse(const struct sched *s);      /* first s == 1 */
/* s(t) by linear interpolation; clamps outside [t_0, t_last]. */
double sched_s_at(const struct sched *s, double t);

/* ---- advanced controls (edits keep the control as it was on error) ---- */
/* Replace the h-gain schedule (n = 0 clears it: g ≡ 1).  Points need finite t ≥ 0, strictly
 * increasing, finite g; the QPU rules (first t = 0, last t = the schedule's end, g range, point
 * count) are sched_validate's. */
int sched_set_hgain(struct sched *s, const struct sched_point *pts, int n);
/* g(t), linear between points, clamped outside; 1 when there is no h-gain schedule. */
double sched_hgain_at(const struct sched *s, double t);
/* The schedule's end moved from old_end: an h-gain curve that ended at old_end is stretched to
 * end at the new end (point editing and the builders call it, so the curve follows the anneal;
 * a curve that did not match is left for sched_validate to report). */
void sched_hgain_fit(struct sched *s, double old_end);
/* Set (v ≠ 0) or clear (v = 0) the anneal offset / flux bias of qubit q (a graph label ≥ 0). */
int sched_set_offset(struct sched *s, long q, double v);
int sched_set_flux(struct sched *s, long q, double v);
double sched_offset_of(const struct sched *s, long q);   /* 0 when none */
double sched_flux_of(const struct sched *s, long q);
bool sched_has_controls(const struct sched *s);          /* any control besides fast_anneal */

/* ---- validation ---- */
enum sched_rule {
    SCHED_RULE_POINTS,        /* 2 ≤ n ≤ max_anneal_schedule_points (+1 for reverse) */
    SCHED_RULE_FINITE,        /* t and s are finite numbers */
    SCHED_RULE_S_RANGE,       /* 0 ≤ s ≤ 1 */
    SCHED_RULE_TIME_ORDER,    /* t strictly increasing */
    SCHED_RULE_START,         /* first point at t = 0; forward starts at (0, 0) */
    SCHED_RULE_FIRST_S,       /* first s is 0 (forward) or 1 (reverse) */
    SCHED_RULE_MAX_TIME,      /* last t ≤ max annealing time */
    SCHED_RULE_FINAL_S,       /* last s = 1 */
    SCHED_RULE_MONOTONIC,     /* forward: s never decreases */
    SCHED_RULE_SLOPE,         /* |Δs/Δt| ≤ 1/min_annealing_time */
    SCHED_RULE_INITIAL_STATE, /* reverse needs an initial state */
    SCHED_RULE_DURATION,      /* (T + readout_therm)·reads + prog_therm ≤ run-duration limit */
    SCHED_RULE_FAST,          /* fast anneal: exactly 2 points, no h-gain, not reverse, supported */
    SCHED_RULE_HGAIN,         /* h-gain: ≥ 2 points, t from 0 to the schedule's end, g in range */
    SCHED_RULE_OFFSET,        /* each anneal offset within the solver's range for its qubit */
    SCHED_RULE_COUNT
};

struct sched_violation {
    enum sched_rule rule;
    int point;        /* offending point index, or -1 */
    int segment;      /* offending segment i (points i → i+1), or -1 */
    char msg[192];    /* "segment 3 (30 µs → 30.04 µs): slope 2.5 exceeds the maximum slope 2 …" */
};

/* Short name of a rule ("slope", "max-time", …) for tests and the UI legend. */
const char *sched_rule_name(enum sched_rule r);
/* Check every rule against the solver limits (sp NULL = solver_defaults()).  Writes up to maxv
 * violations to out (may be NULL with maxv 0) and returns the total number found (0 = valid). */
int sched_validate(const struct sched *s, const struct solver_props *sp,
                   struct sched_violation *out, int maxv);

#endif
