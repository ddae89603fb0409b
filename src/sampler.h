/* sampler.h — one interface for every sampler: exact, gibbs (PCD), sa, pt, pa, ais, sqa, qpu.
 * CONTRACT shared by training, evaluation, benchmarks, the annealer and the QPU modules: the
 * trainer and the evaluator never know which sampler they drive.
 *
 * A sampler instance = a vtable + private state (options, persistent chains, β_eff estimate).
 * sample(bm, β, count) returns `count` states approximately distributed as
 * p_β(z) ∝ exp(−β E(z)) (bm.h convention), their energies E(z) (not multiplied by β), and
 * optional per-sample log-weights (PA/AIS style, NULL when uniform).  Physical samplers (sqa,
 * qpu) sample β_eff·H of whatever they program; they program the problem scaled by β/β_eff
 * (clipped to the device's ranges), β_eff being their maintained estimate. */
#ifndef QV_SAMPLER_H
#define QV_SAMPLER_H
#include "bm.h"
#include <stdatomic.h>

struct sched;
struct sapi_client;
struct cJSON;
struct sess_io;

struct samples {
    int n;               /* units per state */
    long count;          /* states */
    uint8_t *z;          /* [count × n] 0/1 */
    double *energy;      /* [count] E(z) */
    double *logw;        /* [count] log-weights or NULL */
    double seconds;      /* wall time of the call */
    double beta_eff;     /* physical samplers: estimate used; else NAN */
    char info[512];      /* one-line diagnostics ("swap rate 0.31, round trips 12") */
};
void samples_init(struct samples *s);          /* zeroed, beta_eff NAN */
int  samples_alloc(struct samples *s, int n, long count, bool with_logw);   /* (re)allocates */
void samples_free(struct samples *s);
/* The one weighted-statistics routine for sample sets: w [count] ← exp(logw − max logw), or 1
 * without log-weights (the shift keeps every weight ≤ 1 and their ratios exact). */
void samples_weights(const struct samples *s, double *w);
/* Weighted mean and standard deviation of the energies, and their min and max (any may be
 * NULL); NAN for an empty set. */
void samples_energy_stats(const struct samples *s, double *mean, double *sd, double *emin, double *emax);
/* Fill s->energy[k] = E(z_k) under bm (every sampler does this before returning). */
void samples_energies(const struct bm *bm, struct samples *s);

/* What a physical sampler reports after a call (sample_ctx.report). */
struct sampler_report {
    double beta_eff, beta_err;    /* the estimate it now holds, its one-sigma error (NAN) */
    double programming, anneal, readout, access, total_real;   /* µs per job/read, NAN unknown */
};

/* What a sample() call may use besides the problem.  Samplers read only these fields; when a
 * caller gives `app`, sampler_sample fills what it left NULL from the workbench (the current
 * schedule, the qpu module's connection, app->cancel) before the sampler sees the context. */
struct sample_ctx {
    void (*progress)(void *ud, double done, double total);   /* may be NULL */
    void *ud;
    atomic_int *cancel;           /* may be NULL; sample() returns -1 "cancelled" when set */
    int threads;                  /* 0 = default (both cores where it pays) */
    const struct sched *schedule; /* anneal schedule for sqa/qpu (NULL = their default) */
    const uint8_t *initial;       /* reverse anneal initial states [count × n] or NULL */
    struct sapi_client *client;   /* samplers with needs_client: the SAPI connection (not owned) */
    /* Output, each may be NULL: a diagnostic line for the log, and a physical sampler's β_eff
     * and timing after a call (for the status line and the TUI). */
    void (*note)(void *out_ud, const char *line);
    void (*report)(void *out_ud, const struct sampler_report *r);
    void *out_ud;
    struct qv_app *app;           /* the workbench, or NULL: sampler_sample fills the fields
                                     above from it; samplers never see it */
};

struct sampler_vtab {
    const char *name;             /* "gibbs" */
    const char *summary;          /* one line for `sampler use` help */
    const char *const *keys;      /* accepted option names, NULL-terminated */
    const char *const *key_help;  /* one line per key, same order */
    void *(*create)(uint64_t seed);
    /* A new instance with impl's options and none of its state (chains, β_eff, caches). */
    void *(*clone_config)(const void *impl, uint64_t seed);
    /* Set an option from text; -1 with error "sampler gibbs: --sweeps: must be a positive integer". */
    int  (*set)(void *impl, const char *key, const char *val);
    /* Describe current options "sweeps=1 chains=100 …" into buf. */
    void (*describe)(void *impl, char *buf, size_t n);
    int  (*sample)(void *impl, const struct bm *bm, double beta, long count,
                   const struct sample_ctx *ctx, struct samples *out);
    void (*reset)(void *impl);    /* drop persistent state (chains, β_eff) */
    void (*destroy)(void *impl);
    /* Optional persistence of chains/estimates in sessions (NULL = nothing to save). */
    int  (*save)(void *impl, struct cJSON *sec, struct sess_io *io);
    int  (*load)(void *impl, const struct cJSON *sec, struct sess_io *io);
    bool needs_client;            /* sample() needs ctx->client (a SAPI connection) */
    /* Optional: set this instance up to stand in for the QPU solver `solver` (a solver_load
     * spec) answering `reads` reads per job in the SAPI emulator.  *beta holds the freeze-out
     * β of the emulated anneal; a sampler that emulates the anneal itself replaces it. */
    int  (*stand_in)(void *impl, const char *solver, long reads, double *beta);
};

struct sampler {
    const struct sampler_vtab *vt;
    void *impl;
    uint64_t seed;
};

/* Registry (sampler.c): every sampler vtab; sampler_lookup by exact name or unique prefix. */
extern const struct sampler_vtab *const sampler_registry[];   /* NULL-terminated */
const struct sampler_vtab *sampler_lookup(const char *name);
struct sampler *sampler_new(const char *name, uint64_t seed);  /* NULL + error if unknown */
void sampler_free(struct sampler *s);
/* The stand_in hook (no-op when the sampler has none); -1 with error. */
int  sampler_stand_in(struct sampler *s, const char *solver, long reads, double *beta);
/* A fresh sampler of s's kind and options, without its chains or estimates, seeded with seed. */
struct sampler *sampler_clone_config(const struct sampler *s, uint64_t seed);
int  sampler_set(struct sampler *s, const char *key, const char *val);
/* Apply "key=value key=value …" (describe() text, as sessions store it); -1 at the first bad
 * pair, which may leave earlier pairs applied. */
int  sampler_set_desc(struct sampler *s, const char *desc);
int  sampler_sample(struct sampler *s, const struct bm *bm, double beta, long count,
                    const struct sample_ctx *ctx, struct samples *out);

/* log Z estimates. method: "exact", "pa", "ais". */
struct logz_opts {
    long population;   /* PA population / AIS chains (0 = default) */
    long steps;        /* β steps (0 = default) */
    int sweeps;        /* sweeps per step (0 = default) */
    uint64_t seed;
    int threads;
    atomic_int *cancel;
    void (*progress)(void *ud, double done, double total);
    void *ud;
};
struct logz_result {
    double logz, err;  /* estimate and one-sigma error bar (0 for exact) */
    double ess;        /* PA: effective population / AIS: ESS of weights */
    double seconds;
    char info[256];
};
int bm_logz(const struct bm *bm, double beta, const char *method, const struct logz_opts *o,
            struct logz_result *r);
/* Inside an MPI job population annealing splits its population over the ranks (samp_pa_mpi.c);
 * between samp_pa_local(true) and samp_pa_local(false) (nestable, main thread) it runs on each
 * rank alone instead, every rank computing the same thing: the trainer's rule that a step's
 * results depend on the block count, never on the rank count. */
void samp_pa_local(bool on);

/* --- the sampler module of the workbench state (sampler_sess.c) --- */
struct qv_app;
struct cmd_args;
/* The seed of a sampler created by the workbench, from the master seed (`seed N`): the default
 * sampler and `sampler use` both use it, so results never depend on which command made it. */
uint64_t sampler_seed(uint64_t master);
/* The current sampler app->st.sampler, created as the default (gibbs, sampler_seed) on first
 * use — the one creation path.  NULL only on error. */
struct sampler *sampler_current(struct qv_app *app);
/* Fill what ctx left NULL from the workbench: schedule = app->st.schedule, cancel =
 * &app->cancel, note/report to the app's log and QV_EV_SAMPLER events, and for a sampler that
 * needs_client the qpu module's connection (qpu_client).
 * -1 with error when that connection cannot be made. */
int sampler_ctx_fill(struct qv_app *app, const struct sampler *s, struct sample_ctx *ctx);
/* (cmd_sampler.c) */
/* The `sample N [--beta B]` handler: one function, meant to be extended (decode digits). */
int cmd_sample_run(struct qv_app *app, const struct cmd_args *a);

#endif
