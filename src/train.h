/* train.h — the training loop for app->st.model: mini-batches in a deterministic order per
 * (seed, epoch), relaxation noise from a stream per (seed, step, image) (drawn on the step's
 * threads, so the bits do not depend on their count), the negative phase from whichever sampler
 * is in app->st.sampler, Adam, KL warm-up, metrics (events + the session's metrics.csv),
 * validation ELBO and a grid of generated digits every epoch, and a checkpoint (session save) at
 * the end of every epoch.
 *
 * Reproducibility: everything random in a step derives from (seed, epoch) streams plus the state
 * carried in struct trainer (noise rng, batch position) and the sampler's persistent chains, all
 * of which sessions save — so `train 4` equals `train 2; session save; session load; train 2`
 * bit for bit.  A step's batch is cut into t->shards data-parallel blocks (one thread each); the
 * count is part of the saved state, because it changes the order of the gradient sums.  In an MPI
 * job (par.h) the blocks are shared among the ranks and every rank sums all of them in block
 * order (dvae_pass.c), so the bits depend on the block count only: `mpirun -np 2 … --threads 1`
 * equals `--threads 2`, and a session moves between rank counts.  Only rank 0 writes metrics.csv,
 * grids and checkpoints; the negative phase, log Z and validation run alike on every rank. */
#ifndef QV_TRAIN_H
#define QV_TRAIN_H

#include "app.h"
#include "dvae.h"

/* Learning-rate multiplier over the progress p ∈ [0, 1] of one `train` call (its epochs, or its
 * --time budget — then the schedule follows the clock):
 *  const   1
 *  dvae    DVAE#'s piecewise one: 1/10 for p < 2 %, 1 to 60 %, 1/3 to 75 %, 1/10 to 95 %, 1/33 after
 *  cosine  (1 + cos πp)/2 */
enum train_lrs { TRAIN_LRS_CONST, TRAIN_LRS_DVAE, TRAIN_LRS_COSINE };
int train_lrs_parse(const char *s, enum train_lrs *out);   /* -1 + error "--lr-schedule: …" */
double train_lrs_mult(enum train_lrs s, double p);

struct train_opts {
    long epochs;          /* epochs to run now (continuing from the trainer's position) */
    double lr;            /* Adam learning rate (3e-3) */
    int batch;            /* examples per step (100) */
    double kl_warmup;     /* epochs over which the KL weight ramps 0 → 1 (0 = none) */
    double kl_frac;       /* > 0: the KL weight is min(1, p / kl_frac) over this call's progress p
                           * instead (DVAE#: 0.3 of the run) */
    enum train_lrs lr_schedule;   /* multiplier of lr over this call (const) */
    long val_every;       /* validate every N epochs (and at the call's last; 1) */
    uint64_t seed;        /* data order / noise seed (a new trainer only; default app seed) */
    bool seed_set;
    long neg;             /* negative-phase samples per step (100) */
    float wd;             /* L2 weight decay on network kernels (1e-4) */
    double wd_prior;      /* L2 weight decay on BM couplings (1e-4) */
    int log_every;        /* steps per metrics row/event (50) */
    bool save;            /* checkpoint into the session at every epoch end (true) */
    long max_steps;       /* stop after this many steps in this call (0 = no limit; benchmarks) */
    double max_seconds;   /* stop at the first epoch end after this many seconds (0 = no limit) */
    bool cpu_clock;       /* max_seconds (and metrics.csv's seconds) count this process's CPU
                           * time, not wall time: equal budgets for runs sharing a busy machine */
    bool quiet;           /* no per-epoch text lines */
    int threads;          /* data-parallel blocks = threads per step, per rank in an MPI job
                           * (0: the trainer's, or the default for a new one: min(CPUs, 4,
                           * batch/25), at least 1; one per rank in an MPI job) */
    int iw;               /* importance samples per image (1: the ELBO; K > 1: the IW bound,
                           * batch·K rows per step, ≤ the model's batch capacity) */
    bool rws;             /* reweighted wake-sleep on binary z (dvae_batch.rws; needs iw ≥ 2) */
};
void train_opts_default(struct train_opts *o);

struct trainer {
    uint64_t seed;
    long step;            /* optimiser steps taken */
    long epoch;           /* completed epochs */
    long batch_pos;       /* steps done inside the current epoch */
    struct rng rng;       /* the epoch's stream (saved and digested; since the step's noise comes
                           * from per-(step, image) streams it no longer advances per step) */
    struct nn_adam adam;  /* network (+ Bernoulli prior) moments, m->nparams floats */
    long pn;              /* BM prior parameters n + ne (0 for a Bernoulli prior) */
    double *pm, *pv;      /* [pn] Adam moments of the BM parameters (b then W) */
    long pt;              /* BM Adam steps */
    /* settings of the last run (shown and saved) */
    double lr, kl_warmup, wd_prior;
    float wd;
    int batch;
    int iw;               /* importance samples per image of the last run */
    long neg;
    int shards;           /* data-parallel blocks per batch (dvae_set_parallel); saved, because
                           * the arithmetic of a step depends on it */
    /* last results */
    double val_elbo, val_elbo_z, logz, logz_err;   /* validation: relaxed, discrete z */
    /* the best validation so far (discrete z ELBO, the figure `eval ll` tightens) and a copy of
     * the model and BM prior parameters then: `model best` restores them (saved with the session) */
    double best_val;      /* NAN: none yet */
    long best_epoch;
    float *best;          /* [adam.n] network parameters, or NULL */
    double *best_prior;   /* [pn] b then W, or NULL */
    /* time split of the last run, seconds: total, sampler, sgemm */
    double t_total, t_sample, t_sgemm;
    long steps_timed;
};

struct trainer *trainer_new(const struct dvae *m, const struct bm *bm, uint64_t seed);
void trainer_free(struct trainer *t);
/* Puts the best-validation parameters back into m (and bm); error if none were kept or the
 * shapes changed. */
int trainer_restore_best(const struct trainer *t, struct dvae *m, struct bm *bm);

/* Runs o->epochs epochs.  Returns 0 (done), 1 (stopped by app->cancel: position kept, resumable)
 * or -1 with the error reported (qv_error).  Never checkpoints a model with NaN/Inf in it. */
int train_run(struct qv_app *app, const struct train_opts *o);

/* Validation ELBO (nats per image at β = 1) over up to `limit` images of split: *out the relaxed
 * objective and, when out_z is not NULL, *out_z the single-sample ELBO of binary z = [l + g > 0]
 * on the same images and noise (what `eval ll` tightens); for a BM prior log Z comes from logz
 * (caller's estimate).  Noise and binarisation are fixed (seeded), so successive epochs are
 * compared on the same bits. */
int train_val_elbo(struct qv_app *app, int split, long limit, double logz, double *out, double *out_z);

/* The digit grid after epoch `epoch`: up to 16 prior states (zneg [nneg × n], a BM prior's latest
 * negative-phase samples; a Bernoulli prior draws its own) decoded to digit means, emitted as an
 * IMAGES event and written to the session's grids/epoch-NNNN.png (best effort: a failure to
 * write costs the picture, never the training). */
void train_emit_grid(struct qv_app *app, const uint8_t *zneg, long nneg, long epoch);
/* The epoch grid's layout in grids/epoch-NNNN.png (readers such as cmd_launch.c cut it back into
 * digits): TRAIN_GRID_ROWS rows, each digit scaled TRAIN_GRID_SCALE times, TRAIN_GRID_MARGIN
 * pixels between and around them. */
#define TRAIN_GRID_ROWS 2
#define TRAIN_GRID_SCALE 2
#define TRAIN_GRID_MARGIN 1
/* `sample N --png FILE` with a model: decode prior states z [count × n] (NULL: draw them from a
 * Bernoulli prior) to digit means, emit an IMAGES event (at most 1024 images) and write a PNG grid
 * if png is not NULL.  Errors: no model, size mismatch, PNG write failure (reported, returns -1). */
int train_sample_images(struct qv_app *app, const uint8_t *z, long count, const char *png);
/* The decoding part of train_sample_images: *img [*cnt × h·w] (caller frees; *cnt = min(count,
 * 1024)), the IMAGES event emitted; -1 with the error reported (img NULL). */
int train_decode_images(struct qv_app *app, const uint8_t *z, long count, float **img, int *cnt,
                        int *h, int *w);

/* `model info`'s digest: FNV-1a 64 over the model's parameters (networks and a Bernoulli prior's
 * logits), mean image, batch-norm running statistics, a BM prior's b and W, and the trainer's step
 * counters, noise stream, block count and Adam moments — two runs that agree on it agree on every
 * bit a further step would read.  st->model must not be NULL. */
uint64_t model_digest(const struct qv_state *st);

/* Session modules "model" and "trainer" (registered in qv_modules[]). */
extern const struct qv_module dvae_module, trainer_module;

#endif
