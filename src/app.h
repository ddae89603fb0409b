/* app.h — the workbench state that commands act on, the output sink through which the engine
 * talks to whichever front end runs it (batch printer or TUI), and the module interface that
 * gives sessions, reset and teardown one place each (the list itself: modules.c).
 *
 * Ownership: struct qv_app owns every object reachable from app->st; each module frees what it
 * put there in its .free hook.  Front ends own the sink.  The engine never draws: it calls
 * qv_printf/qv_error/qv_emit, and the sink decides (print to stdout, or copy into the TUI's
 * queue).  Sinks must copy event payloads before returning — pointers are only valid during the
 * call. */
#ifndef QV_APP_H
#define QV_APP_H

#include "qv.h"
#include <stdatomic.h>
#include <limits.h>
#include <pthread.h>

struct cJSON;
struct qv_app;
struct sess_io;

enum qv_level { QV_LOG_INFO, QV_LOG_WARN, QV_LOG_ERROR, QV_LOG_DEBUG };

enum qv_event_kind {
    QV_EV_PROGRESS,   /* a long job advanced: job, done, total, unit */
    QV_EV_METRICS,    /* a training step or validation result */
    QV_EV_ACTIVITY,   /* per-latent-unit activity and mean: n, values, values2 */
    QV_EV_IMAGES,     /* a grid of images: n, h, w, values (n*h*w in [0,1]), title */
    QV_EV_STATE,      /* dataset / prior / model / sampler / schedule changed: redraw status */
    QV_EV_SAMPLER,    /* sampler diagnostics: beta_eff, beta_err, qpu timing fields */
    QV_EV_JOB_DONE,   /* a long job finished (status in ival: 0 ok, -1 error, 1 cancelled) */
    QV_EV_VIEW,       /* `view NAME`: job = panel name, unit = "key=value …" settings (TUI only) */
    QV_EV_HIST,       /* energy histograms overlaid: job = title, n sets × w bins of mass in
                         values, bin range [done, total], unit = the sets' names, ','-separated */
};

struct qv_metrics {
    long   step;          /* optimiser steps so far */
    double epoch;         /* fractional epoch */
    double elbo;          /* nats per example, higher is better (train batch) */
    double rec;           /* reconstruction term  E_q log p(x|z), nats */
    double kl;            /* KL / prior term, nats */
    double lr;
    double ips;           /* images per second */
    double val_elbo;      /* NAN unless this event carries a validation result */
    double val_elbo_z;    /* the same with discrete latents (what eval ll scores), or NAN */
    double val_ll;        /* NAN unless an IW log-likelihood was computed */
    int    active_units;  /* -1 unknown */
};

struct qv_qpu_timing {    /* microseconds, NAN when unknown */
    double programming, anneal, readout, access, total_real;
};

struct qv_event {
    enum qv_event_kind kind;
    const char *job;        /* PROGRESS: "train", "sample", "eval", "fetch" …; IMAGES: title */
    double done, total;     /* PROGRESS */
    const char *unit;       /* PROGRESS: "epoch", "bytes", "samples" */
    struct qv_metrics m;    /* METRICS */
    int n, h, w;            /* ACTIVITY: n units; IMAGES: n images of h×w */
    const float *values;    /* ACTIVITY: activity per unit [n]; IMAGES: pixels [n*h*w] */
    const float *values2;   /* ACTIVITY: mean of E_q[z_u] per unit [n] (may be NULL) */
    int ival;               /* ACTIVITY: active-unit count; JOB_DONE: status */
    double beta_eff, beta_err;          /* SAMPLER */
    struct qv_qpu_timing qpu;           /* SAMPLER */
};

struct qv_sink {
    void (*log)(void *ud, enum qv_level level, const char *line);
    void (*event)(void *ud, const struct qv_event *ev);
    void *ud;
};

/* Opaque engine objects; each module's header defines its own. */
struct dataset; struct graph; struct bm; struct sampler; struct dvae; struct trainer;
struct sched; struct sapi_client; struct solver; struct emu_server;

/* Everything a session save/load carries, and that `session load` swaps in one piece. */
struct qv_state {
    uint64_t seed;                 /* master seed (`seed N`) */
    struct dataset *data;          /* data module */
    struct bm *prior;              /* prior module: Boltzmann machine (NULL for bernoulli) */
    int prior_bernoulli_n;         /* >0 when the prior is a factorised Bernoulli of n units */
#define QV_PRIOR_BERNOULLI_MAX (1 << 24)
    char prior_desc[128];          /* "chimera 6 6 4", "bernoulli 288", … (for sessions/status) */
    struct sampler *sampler;       /* sampler module (current sampler with its options/chains) */
    struct dvae *model;            /* dvae module */
    struct trainer *trainer;       /* train module (optimiser state, step counter, metrics) */
    struct sched *schedule;        /* anneal module: the current anneal schedule */
    void *ext[8];                  /* spare slots for modules, indexed by enum in their header */
};

struct qv_app {
    struct qv_state st;
    struct qv_sink sink;
    char session_name[128];        /* current session ("scratch" until saved/loaded) */
    char session_dir[PATH_MAX];    /* parent folder of sessions */
    bool interactive;              /* a person at a terminal (progress bars allowed) */
    bool in_tui;
    atomic_int cancel;             /* set by Ctrl-C / `train stop`; long loops poll it */
    atomic_int pause;              /* set by `train pause` */
    struct sapi_client *sapi;      /* QPU connection (not part of a session: holds a token) */
    struct emu_server *emu;        /* emulator started by `qpu emulate` */
    void *ui;                      /* front end private data */
    const struct qv_registry *reg; /* modules whose hooks free the state (app_init; not owned) */
    /* The state lock (see app_job_begin).  job_owner is valid while job_active. */
    pthread_mutex_t st_lock;
    pthread_t job_owner;
    atomic_bool job_active;
    atomic_int st_waiting;         /* threads waiting in app_state_lock */
    atomic_bool st_reclaim;        /* the job is taking the lock back after a yield */
};

/* reg: the modules whose hooks free the state, and the teardown (&qv_workbench for the
 * workbench; NULL for none).  Not owned. */
void app_init(struct qv_app *app, const struct qv_registry *reg);
void app_free(struct qv_app *app);
/* Free only the session-carried state (app->st) and reset it to defaults. */
void app_state_free(struct qv_app *app, struct qv_state *st);

/* The state lock: how a front end lets a few commands (CMD_WHILEJOB) run on its own thread
 * while a long job runs on a worker against the same app->st.
 *
 * The worker holds the lock for its whole job (app_job_begin … app_job_end) and lets it go
 * only at its safe points — qv_cancelled, qv_wait_if_paused, qv_emit, qv_progress — where
 * every pointer in app->st is valid and no command is half done.  Another thread that wants
 * to read or change app->st takes the lock with app_state_lock, which makes the worker yield at
 * its next safe point; it fails after `timeout` seconds with "the running job is busy" when the
 * worker reaches none (a long wait on the network).  Without a job both are uncontended. */
void app_job_begin(struct qv_app *app);
void app_job_end(struct qv_app *app);
int  app_state_lock(struct qv_app *app, double timeout);
void app_state_unlock(struct qv_app *app);

/* Output.  qv_error() prefixes "error: " only in the sink's rendering (level ERROR); it
 * returns -1 so handlers can `return qv_error(app, …)`.  qv_fail() reports qv_errmsg(). */
void qv_printf(struct qv_app *app, const char *fmt, ...) QV_PRINTF(2, 3);
void qv_warn(struct qv_app *app, const char *fmt, ...) QV_PRINTF(2, 3);
int  qv_error(struct qv_app *app, const char *fmt, ...) QV_PRINTF(2, 3);
int  qv_fail(struct qv_app *app);
void qv_emit(struct qv_app *app, const struct qv_event *ev);
void qv_progress(struct qv_app *app, const char *job, double done, double total, const char *unit);
bool qv_cancelled(struct qv_app *app);
/* Blocks while paused (polls cancel); returns true if cancelled. */
bool qv_wait_if_paused(struct qv_app *app);

/* Module registry: one entry per engine module that carries state.  Hooks may be NULL.
 * save: write the module's section (a cJSON object) and any blobs via sess_io;
 * load: read it into `st` (a fresh state, NOT app->st) — on error the caller discards st,
 *       so the current state is untouched;
 * free: release the module's objects in st. */
struct qv_module {
    const char *name;
    int  (*save)(struct qv_app *app, const struct qv_state *st, struct cJSON *sec, struct sess_io *io);
    int  (*load)(struct qv_app *app, struct qv_state *st, const struct cJSON *sec, struct sess_io *io);
    void (*free)(struct qv_state *st);
};
/* A front end's set of modules, and the release of what lives in app outside sessions
 * (connections, servers; may be NULL) at app_free. */
struct qv_registry {
    const struct qv_module *const *modules;   /* NULL-terminated, in load order */
    void (*teardown)(struct qv_app *app);
};
/* The workbench's (modules.c). */
extern const struct qv_module *const qv_modules[];
extern const struct qv_registry qv_workbench;

#endif
