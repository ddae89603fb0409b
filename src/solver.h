/* solver.h — properties of a D-Wave QPU solver, parsed from a SAPI solver definition (the JSON
 * object GET /sapi/solvers/remote/ returns per solver, v2 "id" or v3 "identity" form; see shared
 * docs qpu-protocol.md §1.4).  Used by schedule validation (limits), the sqa emulator
 * (temperature, A/B table, ranges), the SAPI client and the SAPI emulator (qubits, couplers,
 * accepted parameters, timing model).
 * CONTRACT shared with the QPU engineer: fields below are stable; more may be added at the end.
 *
 * Ownership: solver_parse*()/solver_load*() return a new object owned by the caller; free with
 * solver_free().  Arrays inside are owned by the struct.
 *
 * qvae extension: a property file may carry a top-level object "x_qvae" (ignored by SAPI
 * clients) with {"temperature_mk": 15.4, "annealing_schedule": "advantage4", "freezeout_s": 0.612,
 * "source": "…"}.
 * Without it, the temperature and A/B table are chosen by solver name (solver_guess_physics). */
#ifndef QV_SOLVER_H
#define QV_SOLVER_H
#include "qv.h"

struct cJSON;

/* problem_timing_data (timing model 1.0.x); present=false when the definition has none
 * (e.g. DW_2000Q_5 from 2020). Times in µs. */
struct solver_timing {
    bool present;
    char version[16];
    double typical_programming_time;
    double ra_with_reinit_prog_delta, ra_without_reinit_prog_delta;
    double default_programming_thermalization, default_annealing_time;
    char readout_time_model[24];             /* "pwl_log_log" | "pwl_linear" */
    int n_readout_params;
    double *readout_params;                  /* [n_readout_params]: first half q, second half t */
    double qpu_delay_time_per_sample;
    double ra_with_reinit_delay_delta, ra_without_reinit_delay_delta;
    double default_readout_thermalization;
    double decorrelation_max_nominal_anneal_time;
    double decorrelation_time_range[2];
};

struct solver_props {
    char name[64];                  /* "Advantage_system4.1" (v2 id or v3 identity.name) */
    char graph_id[32];              /* v3 identity.version.graph_id, "" for v2 */
    char status[16];                /* "ONLINE" / "OFFLINE" / "" */
    char description[128];
    char category[16];              /* "qpu" */
    char chip_id[64];
    char topology[16];              /* "chimera" | "pegasus" | "zephyr" | "" */
    int nshape, shape[4];           /* chimera [16,16,4]; pegasus [16]; zephyr [12,4] */
    int num_qubits;                 /* working + non-working (qubit labels are < num_qubits) */
    int nq;                         /* working qubits */
    int *qubits;                    /* [nq] ascending, as sent */
    long nc;                        /* couplers */
    int (*couplers)[2];             /* [nc] q1 < q2, in the server's order (NOT sorted) */
    double h_range[2], j_range[2];
    bool has_extended_j;  double extended_j_range[2];
    bool has_per_qubit_coupling; double per_qubit_coupling_range[2];
    bool has_per_group_coupling; double per_group_coupling_range[2];
    double annealing_time_range[2]; /* µs: [min, max]; max slope of a schedule = 1/min */
    bool has_fast_anneal; double fast_anneal_time_range[2];
    double default_annealing_time;
    int max_anneal_schedule_points;
    int max_h_gain_schedule_points;
    double h_gain_schedule_range[2];
    long num_reads_range[2];
    double problem_run_duration_range[2];   /* µs */
    double default_programming_thermalization, default_readout_thermalization;
    double programming_thermalization_range[2], readout_thermalization_range[2];
    double anneal_offset_step, anneal_offset_step_phi0;
    int n_anneal_offset_ranges;             /* = num_qubits when present, else 0 */
    double (*anneal_offset_ranges)[2];
    int nparams;                            /* accepted parameter names (properties.parameters) */
    char **params;
    int nproblem_types;
    char **problem_types;                   /* "ising", "qubo" */
    char **tags; int ntags;
    bool vfyc;
    struct solver_timing timing;
    /* Physics not in SAPI (x_qvae extension, else guessed from the name): */
    double temperature_mk;                  /* operating temperature, mK */
    char anneal_table[32];                  /* A(s)/B(s) table name: "dw2000q6", "advantage4" */
    double freezeout_s;                     /* single-qubit freeze-out point s* of a 20 µs anneal */
    struct cJSON *json;                     /* the whole solver object as read (owned), for
                                               serving it back (emulator) or extra fields */
};

/* Parse one solver object (takes a copy; obj is not kept).  Missing required keys ("properties",
 * a name, h_range, j_range, annealing_time_range, max_anneal_schedule_points) are errors; other
 * keys default to the Advantage-like values of solver_defaults(). */
struct solver_props *solver_parse(const struct cJSON *obj);
struct solver_props *solver_parse_text(const char *text, size_t len);
/* Load from a file (may be .gz).  The file holds one solver object, or a list of them and then
 * the first is taken. */
struct solver_props *solver_load_file(const char *path);
/* Load by name: an existing path, else <home>/assets/solvers/NAME.json (exact name, or a
 * case-insensitive unique prefix of a file there). */
struct solver_props *solver_load(const char *name);
/* Names of the shipped property files (without .json), malloc'ed NULL-terminated list. */
char **solver_list(void);
void solver_list_free(char **list);
void solver_free(struct solver_props *sp);

/* Default limits used when no solver is selected: Advantage_system4.1's published values,
 * no qubit/coupler lists.  Static object, do not free. */
const struct solver_props *solver_defaults(void);

/* Temperature (mK), A/B table name and freeze-out s* for a solver name when the file does not
 * say (published figures, annealing.md §4.2–4.3; the 2000Q ones are third-party/guessed). */
void solver_guess_physics(const char *name, double *temperature_mk, char *table, size_t tablesz,
                          double *freezeout_s);

/* Position of hardware qubit q in ->qubits, or -1 (binary search). */
int solver_qubit_index(const struct solver_props *sp, int q);
/* Is parameter name accepted (in properties.parameters, or starts with "x_")? */
bool solver_accepts_param(const struct solver_props *sp, const char *param);

/* Ocean's max_num_reads: min(num_reads_range[1], floor((duration_max − prog_therm) /
 * (anneal_time + readout_therm))); negative arguments = the solver's defaults. */
long solver_max_num_reads(const struct solver_props *sp, double anneal_time,
                          double readout_therm, double prog_therm);
/* Run duration of qpu-protocol §2.4: (anneal + readout_therm)·reads + prog_therm. */
double solver_run_duration(const struct solver_props *sp, double anneal_time, long num_reads,
                           double readout_therm, double prog_therm);
/* QPU access-time estimate, timing model 1.0.x (qpu-protocol §2.4).  reverse: the schedule
 * starts at s = 1; reinit: reinitialize_state.  Negative thermalizations = defaults.
 * Returns NAN with an error when the solver has no timing data. */
double solver_estimate_access_time(const struct solver_props *sp, int num_qubits_used,
                                   long num_reads, double anneal_time, bool reverse, bool reinit,
                                   double readout_therm, double prog_therm,
                                   bool reduce_intersample_correlation);

#endif
