/* train.c — the DVAE training loop: steps, epochs (validation and the quick log Z from
 * train_val.c), checkpoints, metrics.csv, the best-validation copy.  Design and reproducibility
 * contract: train.h. */
#include "train.h"
#include "train_int.h"
#include "data.h"
#include "par.h"
#include "sampler.h"
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rng stream bases, one family per purpose, offset by the epoch */
#define TR_PERM   0x7065726d00000000ULL   /* "perm": data order of epoch e */
#define TR_NOISE  0x6e6f697300000000ULL   /* "nois": GumBolt noise of epoch e */
/* "rown": the noise of image b of step s, stream TR_ROWNOISE + s·2²⁰ + b (batches < 2²⁰ images) */
#define TR_ROWNOISE 0x726f776e00000000ULL

void train_opts_default(struct train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->lr = 3e-3;
    o->batch = 100;
    o->iw = 1;
    o->kl_warmup = 0;
    o->neg = 100;
    o->wd = 1e-4f;
    o->wd_prior = 1e-4;
    o->log_every = 50;
    o->save = true;
    o->val_every = 1;
}

struct trainer *trainer_new(const struct dvae *m, const struct bm *bm, uint64_t seed)
{
    struct trainer *t = qv_calloc(1, sizeof *t);
    if (nn_adam_init(&t->adam, m->nparams) < 0) { free(t); return NULL; }
    t->seed = seed;
    rng_init(&t->rng, seed, TR_NOISE);
    if (m->cfg.prior == DVAE_PRIOR_BM && bm) {
        t->pn = bm->n + bm->ne;
        t->pm = qv_calloc((size_t)t->pn, sizeof(double));
        t->pv = qv_calloc((size_t)t->pn, sizeof(double));
    }
    t->val_elbo = t->val_elbo_z = t->logz = t->logz_err = t->best_val = NAN;
    return t;
}

void trainer_free(struct trainer *t)
{
    if (!t) return;
    nn_adam_free(&t->adam);
    free(t->pm);
    free(t->pv);
    free(t->best);
    free(t->best_prior);
    free(t);
}

int trainer_restore_best(const struct trainer *t, struct dvae *m, struct bm *bm)
{
    if (!t || !t->best) return qv_seterr("no best-validation parameters kept yet (train validates every epoch)");
    if (t->adam.n != m->nparams || (t->pn && (!bm || t->pn != bm->n + bm->ne)))
        return qv_seterr("the best-validation parameters belong to a model of another shape");
    memcpy(m->params, t->best, sizeof(float) * m->nparams);
    if (t->pn) {
        memcpy(bm->b, t->best_prior, sizeof(double) * (size_t)bm->n);
        memcpy(bm->w, t->best_prior + bm->n, sizeof(double) * (size_t)bm->ne);
    }
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static int ensure_sampler(struct qv_app *app)
{
    return sampler_current(app) ? 0 : -1;   /* the one creation path and seed rule */
}

/* Appends to the session's metrics.csv.  *with_z: the file has the val_elbo_z column (a file begun
 * before that column existed keeps its 11 columns, so every row matches its header). */
static FILE *open_metrics(struct qv_app *app, bool *with_z)
{
    char dir[4096], path[4200], head[256] = "";
    *with_z = true;
    if (session_current_dir(app, dir, sizeof dir) < 0) return NULL;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *old = fopen(path, "r");
    if (old) {
        if (fgets(head, sizeof head, old) && head[0]) *with_z = strstr(head, ",val_elbo_z") != NULL;
        fclose(old);
    }
    FILE *f = fopen(path, "a");
    if (f && !head[0])
        fputs("step,epoch,elbo,rec,kl,kl_weight,lr,images_per_s,val_elbo,active_units,seconds,"
              "val_elbo_z\n", f);
    return f;
}

/* ---- the loop ----------------------------------------------------------------------------------- */

/* The state of one train_run call: the model and its data, the step's buffers, the logging window
 * and the epoch's sums.  Steps below take it whole; only train_run creates and frees it. */
struct loop {
    struct qv_app *app;
    const struct train_opts *o;
    struct dvae *m;
    struct bm *bm;
    const struct dataset *ds;
    struct trainer *t;
    bool isbm;
    int n, D, B, K;
    long ntrain, nbatch;
    float *x;                   /* [B × D] the step's images */
    float *noise;               /* [planes × B·K × n] relaxation noise, K rows per image */
    long *perm;                 /* [ntrain] the epoch's data order */
    double *nmean, *ncorr;      /* BM: negative-phase ⟨z_i⟩ [n], ⟨z_u z_v⟩ [ne] */
    double *gb, *gw;            /* BM: gradients wrt b [n], W [ne] */
    struct samples smp;         /* the last negative-phase samples (also the digit grid's) */
    struct sample_ctx sctx;
    FILE *csv;                  /* the session's metrics.csv (NULL: not written) */
    bool csv_z;
    double lz;                  /* the latest log Z estimate (0 for a Bernoulli prior) */
    double klw;                 /* the step's KL weight */
    double lr;                  /* the step's learning rate (o->lr × the schedule's multiplier) */
    long done_steps, total_steps, end_epoch;
    double t_start, t_sample;
    double t_budget0;   /* the budget clock at the start (loop_clock) */
    bool budget_spent;  /* epoch_end's one reading of the clock passed --time: stop after it */
    /* the logging window: sums over steps, activity E_q[z_u] moments s1, s2 [n] over rows */
    long win_steps, win_rows;
    double win_elbo, win_rec, win_kl, win_t0;
    double *s1, *s2;
    float *act;                 /* [2n] activity event: variance then mean */
    float *qbuf;                /* [B × n] */
    /* the epoch's sums */
    double ep_elbo, ep_rec, ep_kl;
    long ep_steps;
};

/* The options against the model and data: an error line naming the problem, or 0. */
static int loop_check(struct qv_app *app, const struct train_opts *o)
{
    if (train_check_setup(app, true) < 0) return qv_error(app, "train: %s", qv_errmsg());
    const struct dvae *m = app->st.model;
    const bool isbm = m->cfg.prior == DVAE_PRIOR_BM;
    const int B = o->batch, K = o->iw;
    if (o->epochs < 1) return qv_error(app, "train: EPOCHS must be at least 1");
    if (B < 1 || B > DVAE_MAX_ROWS)
        return qv_error(app, "train: --batch must be 1..%d, got %d", DVAE_MAX_ROWS, B);
    if (K < 1 || (long)B * K > DVAE_MAX_ROWS)
        return qv_error(app, "train: --iw must be 1..%d with --batch %d (batch × samples ≤ %d "
                        "rows), got %d", DVAE_MAX_ROWS / B, B, DVAE_MAX_ROWS, K);
    if (o->rws && K < 2)
        return qv_error(app, "train: --rws weighs importance samples: give --iw 2 or more");
    if (K > 1 && isbm && m->cfg.kl == DVAE_KL_ANALYTIC && !o->rws)
        return qv_error(app, "train: --iw needs a per-sample prior term: the analytic KL has none "
                        "(--kl relaxed)");
    if (!(o->lr > 0) || !isfinite(o->lr)) return qv_error(app, "train: --lr must be a positive number");
    if (o->kl_warmup < 0) return qv_error(app, "train: --kl-warmup must be >= 0");
    if (!(o->kl_frac >= 0 && o->kl_frac <= 1))
        return qv_error(app, "train: --kl-frac must be in [0, 1] (a fraction of this run)");
    if (o->val_every < 1) return qv_error(app, "train: --val-every must be at least 1 epoch");
    if (isbm && (o->neg < 1 || o->neg > 1000000))
        return qv_error(app, "train: --neg must be 1..1000000");
    const long ntrain = app->st.data->split_count[DATA_TRAIN];
    if (ntrain / B < 1)
        return qv_error(app, "train: the training split has %ld images, fewer than one batch of %d", ntrain, B);
    return 0;
}

/* The trainer to continue (or a new one when the model's shape changed), with this run's
 * settings and data-parallel blocks.  -1 with the error reported. */
static int loop_trainer(struct qv_app *app, const struct train_opts *o)
{
    struct dvae *m = app->st.model;
    struct bm *bm = app->st.prior;
    const bool isbm = m->cfg.prior == DVAE_PRIOR_BM;
    struct trainer *t = app->st.trainer;
    if (t && (t->adam.n != m->nparams || (isbm && t->pn != bm->n + bm->ne))) {
        trainer_free(t);
        t = app->st.trainer = NULL;
    }
    if (!t) {
        t = trainer_new(m, bm, o->seed_set ? o->seed : app->st.seed);
        if (!t) return qv_fail(app);
        app->st.trainer = t;
    } else if (o->seed_set && o->seed != t->seed && t->step > 0) {
        qv_warn(app, "train: --seed ignored: this trainer continues with seed %" PRIu64
                " (`model new` starts afresh)", t->seed);
    } else if (o->seed_set && t->step == 0) {
        t->seed = o->seed;
        rng_init(&t->rng, t->seed, TR_NOISE);
    }
    t->lr = o->lr; t->batch = o->batch; t->iw = o->iw; t->kl_warmup = o->kl_warmup; t->wd = o->wd;
    t->wd_prior = o->wd_prior; t->neg = o->neg;
    /* in an MPI job of P ranks, --threads T means T blocks per rank: P·T blocks in all, cut as
     * a single process with --threads P·T cuts them (the block count is what the bits depend on) */
    const int P = par_size();
    if (o->threads > 0) t->shards = o->threads * P;
    if (t->shards < 1)
        t->shards = P > 1 ? P : QV_MAX(1, QV_MIN(QV_MIN(qv_ncpu(), 4), o->batch / 25));
    if (t->shards > DVAE_MAX_SHARDS) t->shards = DVAE_MAX_SHARDS;
    if (dvae_set_parallel(m, t->shards, (t->shards + P - 1) / P) < 0) return qv_fail(app);
    return 0;
}

static void loop_init(struct loop *L, struct qv_app *app, const struct train_opts *o)
{
    memset(L, 0, sizeof *L);
    L->app = app;
    L->o = o;
    L->m = app->st.model;
    L->bm = app->st.prior;
    L->ds = app->st.data;
    L->t = app->st.trainer;
    L->isbm = L->m->cfg.prior == DVAE_PRIOR_BM;
    L->n = L->m->cfg.n;
    L->D = L->m->cfg.D;
    L->B = o->batch;
    L->K = o->iw;
    L->ntrain = L->ds->split_count[DATA_TRAIN];
    L->nbatch = L->ntrain / L->B;
    const size_t n = (size_t)L->n;
    L->x = qv_malloc(sizeof(float) * (size_t)L->B * L->D);
    L->noise = qv_malloc(sizeof(float) * (size_t)L->B * L->K * n * dvae_noise_planes(L->m));
    L->perm = qv_malloc(sizeof(long) * (size_t)L->ntrain);
    L->act = qv_malloc(sizeof(float) * 2 * n);
    L->qbuf = qv_malloc(sizeof(float) * (size_t)L->B * n);
    L->s1 = qv_calloc(n, sizeof(double));
    L->s2 = qv_calloc(n, sizeof(double));
    samples_init(&L->smp);
    if (L->isbm) {
        L->nmean = qv_malloc(sizeof(double) * n);
        L->ncorr = qv_malloc(sizeof(double) * (size_t)L->bm->ne);
        L->gb = qv_malloc(sizeof(double) * n);
        L->gw = qv_malloc(sizeof(double) * (size_t)L->bm->ne);
    }
    L->csv = par_root() ? open_metrics(app, &L->csv_z) : NULL;   /* one writer per job */
    L->sctx = (struct sample_ctx){.cancel = &app->cancel, .app = app};
    L->total_steps = o->epochs * L->nbatch - L->t->batch_pos;
    L->t_start = L->win_t0 = qv_now();
    L->t_budget0 = o->cpu_clock ? qv_cpu_now() : L->t_start;
}

/* Seconds of this call's budget clock on this rank: wall time, or the process's CPU time
 * (--clock cpu).  Rows of metrics.csv use it; decisions use loop_clock. */
static double loop_clock_here(const struct loop *L)
{
    return (L->o->cpu_clock ? qv_cpu_now() : qv_now()) - L->t_budget0;
}

static void loop_free(struct loop *L)
{
    if (L->csv && fclose(L->csv) != 0)
        qv_warn(L->app, "train: metrics.csv: closing failed: %s", strerror(errno));
    samples_free(&L->smp);
    free(L->x); free(L->noise); free(L->perm); free(L->nmean); free(L->ncorr); free(L->gb);
    free(L->gw); free(L->act); free(L->qbuf); free(L->s1); free(L->s2);
}

/* Seconds of the budget clock, by rank 0's clock in an MPI job: the --time schedule and stop
 * must be one decision for all ranks (a collective: call it at the same points on every rank). */
static double loop_clock(const struct loop *L)
{
    double el = loop_clock_here(L);
    par_bcast_double(&el);
    return el;
}

/* Writes one metrics.csv row; a failing write (disk full, file gone) is reported once and the
 * file dropped — training goes on, the checkpoint is not affected. */
static void csv_row(struct loop *L, const char *fmt, ...)
{
    if (!L->csv) return;
    va_list ap;
    va_start(ap, fmt);
    int rc = vfprintf(L->csv, fmt, ap);
    va_end(ap);
    if (rc < 0 || fflush(L->csv) != 0) {
        qv_warn(L->app, "train: metrics.csv: writing failed (%s); no more rows this run",
                strerror(errno));
        fclose(L->csv);
        L->csv = NULL;
    }
}

/* The epoch's data order (a seeded shuffle) and, at its start, its noise stream. */
static void epoch_begin(struct loop *L, long e)
{
    struct rng pr;
    rng_init(&pr, L->t->seed, TR_PERM + (uint64_t)e);
    long *perm = L->perm;
    for (long i = 0; i < L->ntrain; i++) perm[i] = i;
    for (long i = L->ntrain - 1; i > 0; i--) {
        long j = (long)rng_below(&pr, (uint64_t)i + 1), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    if (L->t->batch_pos == 0) rng_init(&L->t->rng, L->t->seed, TR_NOISE + (uint64_t)e);
    L->ep_elbo = L->ep_rec = L->ep_kl = 0;
    L->ep_steps = 0;
}

/* The negative phase: prior samples from the session's sampler → nmean, ncorr.  0, 1 (cancelled)
 * or -1 (reported; the training survives as a stopped, resumable run). */
static int step_negative(struct loop *L)
{
    double ts = qv_now();
    int rc = sampler_sample(L->app->st.sampler, L->bm, 1.0, L->o->neg, &L->sctx, &L->smp);
    L->t_sample += qv_now() - ts;
    if (rc < 0) {
        if (qv_cancelled(L->app)) return 1;
        qv_error(L->app, "train: step %ld: negative phase: %s", L->t->step + 1, qv_errmsg());
        return -1;
    }
    bm_stats_weighted(L->bm, L->smp.z, L->smp.logw, L->smp.count, L->nmean, L->ncorr);
    return 0;
}

/* The model's gradients for the step's batch; refuses (error, nothing applied) a non-finite loss
 * or gradient.  io receives the pass's outputs. */
static int step_gradients(struct loop *L, struct dvae_batch *io, long e)
{
    const int B = L->B, K = L->K;
    *io = (struct dvae_batch){.B = B * K, .iw = K, .rws = L->o->rws, .x = L->x, .noise = L->noise, .kl_weight = L->klw,
                              .grad = true, .neg_mean = L->nmean, .neg_corr = L->ncorr,
                              .g_b = L->gb, .g_w = L->gw};
    if (dvae_batch_run(L->m, L->bm, io) < 0) return qv_error(L->app, "train: %s", qv_errmsg());
    /* the network's gradients were checked while the blocks were summed; on the error path only,
     * look again to tell NaN from Inf */
    const struct dvae *m = L->m;
    double gsum = 0.0;
    for (size_t k = 0; !io->grads_finite && k < m->nparams; k++)
        if (!isfinite(m->grads[k])) gsum = isnan(m->grads[k]) || isnan(gsum) ? NAN : INFINITY;
    if (L->isbm) {
        for (long k = 0; k < L->n; k++) gsum += L->gb[k] * 0.0;
        for (long k = 0; k < L->bm->ne; k++) gsum += L->gw[k] * 0.0;
    }
    if (isfinite(io->elbo) && isfinite(gsum)) return 0;
    return qv_error(L->app, "train: step %ld (epoch %ld): %s in the %s; stopped before applying it — "
                    "the model keeps its last good parameters and the last checkpoint is untouched",
                    L->t->step + 1, e + 1, isnan(io->elbo) || isnan(gsum) ? "NaN" : "Inf",
                    !isfinite(io->elbo) ? "loss" : "gradient");
}

/* Activity over the logging window: moments of E_q[z_u] = σ(l_u) over the batch's rows. */
static void step_activity(struct loop *L)
{
    const int B = L->B, n = L->n;
    float *q = L->qbuf;
    if (L->K == 1) {
        const float *l = L->m->lx;   /* the step's logits [B × n] */
        size_t bn = (size_t)B * n, i = 0;
        for (; i + NN_VL <= bn; i += NN_VL) nn_vstore(q + i, nn_vsigmoid(nn_vload(l + i)));
        for (; i < bn; i++) q[i] = nn_fsigmoid(l[i]);
    } else {
        /* K rows per image: the first sample's logits (a later group's depend on the sample) */
        for (int b = 0; b < B; b++)
            for (int u = 0; u < n; u++)
                q[(size_t)b * n + u] = nn_fsigmoid(L->m->lx[((size_t)b * L->K) * n + u]);
    }
    for (int b = 0; b < B; b++)
        for (int u = 0; u < n; u++) {
            double v = q[(size_t)b * n + u];
            L->s1[u] += v;
            L->s2[u] += v * v;
        }
    L->win_rows += B;
}

/* Adam on the BM parameters (double precision: b then W), L2 decay on the couplings only. */
static void prior_adam_step(struct trainer *t, struct bm *bm, const double *gb, const double *gw,
                            double lr, double wd)
{
    const int n = bm->n;
    const double b1 = 0.9, b2 = 0.999;
    t->pt++;
    double lr_t = lr * sqrt(1 - pow(b2, (double)t->pt)) / (1 - pow(b1, (double)t->pt));
    for (long k = 0; k < t->pn; k++) {
        double *p = k < n ? &bm->b[k] : &bm->w[k - n];
        double g = k < n ? gb[k] : gw[k - n] + wd * *p;
        t->pm[k] = b1 * t->pm[k] + (1 - b1) * g;
        t->pv[k] = b2 * t->pv[k] + (1 - b2) * g * g;
        *p -= lr_t * t->pm[k] / (sqrt(t->pv[k]) + 1e-8);
    }
}

/* The logging window's metrics and activity events and its metrics.csv row; then a new window. */
static void window_report(struct loop *L, long e)
{
    struct trainer *t = L->t;
    const int n = L->n;
    double now = qv_now();
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_METRICS;
    ev.m.step = t->step;
    ev.m.epoch = (double)e + (double)t->batch_pos / (double)L->nbatch;
    ev.m.elbo = L->win_elbo / L->win_steps;
    ev.m.rec = L->win_rec / L->win_steps;
    ev.m.kl = L->win_kl / L->win_steps;
    ev.m.lr = L->lr;
    ev.m.ips = (double)L->win_steps * L->B / fmax(now - L->win_t0, 1e-9);
    ev.m.val_elbo = ev.m.val_elbo_z = NAN;
    ev.m.val_ll = NAN;
    int nact = 0;
    for (int u = 0; u < n; u++) {
        double mu = L->s1[u] / L->win_rows, v = fmax(0.0, L->s2[u] / L->win_rows - mu * mu);
        L->act[u] = (float)v;
        L->act[n + u] = (float)mu;
        if (v > 0.01) nact++;
    }
    ev.m.active_units = nact;
    qv_emit(L->app, &ev);
    struct qv_event ea;
    memset(&ea, 0, sizeof ea);
    ea.kind = QV_EV_ACTIVITY;
    ea.n = n;
    ea.values = L->act;
    ea.values2 = L->act + n;
    ea.ival = nact;
    qv_emit(L->app, &ea);
    csv_row(L, "%ld,%.4f,%.4f,%.4f,%.4f,%.4f,%g,%.1f,,%d,%.3f%s\n", t->step, ev.m.epoch, ev.m.elbo,
            ev.m.rec, ev.m.kl, L->klw, L->lr, ev.m.ips, nact, loop_clock_here(L), L->csv_z ? "," : "");
    L->win_elbo = L->win_rec = L->win_kl = 0;
    L->win_steps = L->win_rows = 0;
    memset(L->s1, 0, sizeof(double) * (size_t)n);
    memset(L->s2, 0, sizeof(double) * (size_t)n);
    L->win_t0 = now;
}

/* The step's images and their relaxation noise, split over the model's threads: image b is
 * binarised from its own stream (data_batch) and its K rows' noise drawn from the stream of
 * (seed, step, b), so the bits depend neither on the thread count nor on a refused step. */
struct prep_ctx { struct loop *L; long e, parts; };

static void prep_job(void *p, long part)
{
    const struct prep_ctx *c = p;
    struct loop *L = c->L;
    const long b0 = L->B * part / c->parts, b1 = L->B * (part + 1) / c->parts;
    if (b1 <= b0) return;
    const long *idx = L->perm + L->t->batch_pos * L->B;
    data_batch(L->ds, DATA_TRAIN, idx + b0, (int)(b1 - b0), c->e, L->x + (size_t)b0 * L->D);
    for (long b = b0; b < b1; b++) {
        struct rng r;
        rng_init(&r, L->t->seed, TR_ROWNOISE + ((uint64_t)L->t->step << 20) + (uint64_t)b);
        dvae_noise_part(L->m, &r, L->noise, (size_t)L->B * L->K, (size_t)b * L->K, (size_t)L->K);
    }
}

/* One optimiser step on the batch at t->batch_pos of epoch e: 0 done, 1 cancelled, -1 error. */
static int train_step(struct loop *L, long e)
{
    struct trainer *t = L->t;
    const struct train_opts *o = L->o;
    const int T = QV_MAX(1, L->m->nthread);
    struct prep_ctx pc = {.L = L, .e = e, .parts = T};
    qv_parallel(T, T, prep_job, &pc);
    /* this call's progress: its steps, or its clock under --time */
    const double p = o->max_seconds > 0 ? loop_clock(L) / o->max_seconds
                                        : (double)L->done_steps / (double)QV_MAX(L->total_steps, 1);
    L->lr = o->lr * train_lrs_mult(o->lr_schedule, p);
    if (o->kl_frac > 0) L->klw = QV_MIN(1.0, p / o->kl_frac);
    else L->klw = o->kl_warmup > 0
                      ? QV_MIN(1.0, (double)(t->step + 1) / (o->kl_warmup * (double)L->nbatch))
                      : 1.0;
    int rc = L->isbm ? step_negative(L) : 0;
    struct dvae_batch io;
    if (rc == 0) rc = step_gradients(L, &io, e);
    if (rc != 0) return rc;
    step_activity(L);
    dvae_adam_step(L->m, &t->adam, L->lr, o->wd);
    if (L->isbm) prior_adam_step(t, L->bm, L->gb, L->gw, L->lr, o->wd_prior);
    t->step++;
    t->batch_pos++;
    L->done_steps++;
    L->ep_elbo += io.elbo - L->lz; L->ep_rec += io.rec; L->ep_kl += io.kl + L->lz; L->ep_steps++;
    L->win_elbo += io.elbo - L->lz; L->win_rec += io.rec; L->win_kl += io.kl + L->lz; L->win_steps++;
    if (L->done_steps % 10 == 0 || t->batch_pos == L->nbatch)
        qv_progress(L->app, "train", (double)L->done_steps, (double)L->total_steps, "steps");
    if (L->win_steps >= o->log_every || t->batch_pos == L->nbatch) window_report(L, e);
    return 0;
}

/* The epoch's metrics event, metrics.csv row and text line. */
static void epoch_report(struct loop *L, double val, double valz)
{
    struct trainer *t = L->t;
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_METRICS;
    ev.m.step = t->step;
    ev.m.epoch = (double)t->epoch;
    ev.m.elbo = L->ep_steps ? L->ep_elbo / L->ep_steps : NAN;
    ev.m.rec = L->ep_steps ? L->ep_rec / L->ep_steps : NAN;
    ev.m.kl = L->ep_steps ? L->ep_kl / L->ep_steps : NAN;
    ev.m.lr = L->lr;
    ev.m.ips = NAN;
    ev.m.val_elbo = val;
    ev.m.val_elbo_z = valz;
    ev.m.val_ll = NAN;
    ev.m.active_units = -1;
    qv_emit(L->app, &ev);
    char zcol[32] = "";
    if (L->csv_z) snprintf(zcol, sizeof zcol, ",%.4f", valz);
    csv_row(L, "%ld,%.4f,,,,,%g,,%.4f,,%.3f%s\n", t->step, (double)t->epoch, L->lr, val,
            loop_clock_here(L), zcol);
    if (par_root()) train_emit_grid(L->app, L->smp.z, L->smp.count, t->epoch);
    if (!L->o->quiet) {
        char lzs[96] = "";
        if (L->isbm) snprintf(lzs, sizeof lzs, "  log Z %.2f±%.2f", t->logz, t->logz_err);
        char vs[64] = "  (not validated)";
        if (isfinite(val)) snprintf(vs, sizeof vs, "  valid elbo %.2f (z %.2f)", val, valz);
        qv_printf(L->app, "epoch %ld: train elbo %.2f (rec %.2f, kl %.2f)%s%s  %.0f img/s",
                  t->epoch, ev.m.elbo, ev.m.rec, ev.m.kl, vs, lzs,
                  (double)L->done_steps * L->B / fmax(qv_now() - L->t_start, 1e-9));
    }
}

/* A copy of the parameters when the discrete validation ELBO beats the best so far. */
static void keep_best(struct loop *L, double valz)
{
    struct trainer *t = L->t;
    if (!isfinite(valz) || (isfinite(t->best_val) && valz <= t->best_val)) return;
    if (!t->best) t->best = qv_malloc(sizeof(float) * L->m->nparams);
    memcpy(t->best, L->m->params, sizeof(float) * L->m->nparams);
    if (L->isbm) {
        if (!t->best_prior) t->best_prior = qv_malloc(sizeof(double) * (size_t)t->pn);
        memcpy(t->best_prior, L->bm->b, sizeof(double) * (size_t)L->n);
        memcpy(t->best_prior + L->n, L->bm->w, sizeof(double) * (size_t)L->bm->ne);
    }
    t->best_val = valz;
    t->best_epoch = t->epoch;
}

/* End of an epoch: finiteness check, log Z, both validation ELBOs, the report and the checkpoint.
 * 0 or -1 (reported; nothing checkpointed). */
static int epoch_end(struct loop *L)
{
    struct qv_app *app = L->app;
    struct trainer *t = L->t;
    t->epoch++;
    t->batch_pos = 0;
    nn_profile = false;
    if (dvae_check_finite(L->m) < 0 || (L->bm && bm_check_finite(L->bm) < 0))
        return qv_error(app, "train: epoch %ld: %s; not checkpointed (the session keeps the previous epoch)",
                        t->epoch, qv_errmsg());
    if (L->isbm) {
        train_quick_logz(app, L->bm, t->seed + (uint64_t)t->epoch, &t->logz, &t->logz_err);
        L->lz = isfinite(t->logz) ? t->logz : 0.0;
    }
    /* both validation ELBOs on the same images and noise: the relaxed one is the objective,
     * the discrete one is what `eval ll` scores (the gap between them is the relaxation's) */
    double val = NAN, valz = NAN;
    /* one reading decides both this epoch's validation and the stop, so the last row of
     * metrics.csv (written after it) never shows less than the budget */
    L->budget_spent = L->o->max_seconds > 0 && loop_clock(L) >= L->o->max_seconds;
    const bool last = t->epoch == L->end_epoch || L->budget_spent;
    if (L->ds->split_count[DATA_VALID] > 0 && (last || t->epoch % L->o->val_every == 0)) {
        if (train_val_elbo(app, DATA_VALID, 10000, L->isbm ? t->logz : 0.0, &val, &valz) < 0)
            val = valz = NAN;
        t->val_elbo = val;
        t->val_elbo_z = valz;
        keep_best(L, valz);
    }
    epoch_report(L, val, valz);
    if (L->o->save) {
        char name[sizeof app->session_name];   /* a copy: session_save rewrites the name */
        snprintf(name, sizeof name, "%s", app->session_name);
        if (session_save(app, name, NULL) < 0) return qv_error(app, "train: checkpoint: %s", qv_errmsg());
    }
    nn_profile = true;
    return 0;
}

/* Everything train_run checks and builds before the first step: -1 with the error reported. */
static int run_setup(struct qv_app *app, const struct train_opts *o)
{
    if (loop_check(app, o) < 0) return -1;
    struct dvae *m = app->st.model;
    if (m->cfg.prior == DVAE_PRIOR_BM && ensure_sampler(app) < 0) return qv_fail(app);
    /* the work buffers grow to the batch × samples this run needs (the capacity is saved) */
    if (dvae_reserve(m, o->batch * o->iw) < 0) return qv_error(app, "train: %s", qv_errmsg());
    return loop_trainer(app, o);
}

int train_run(struct qv_app *app, const struct train_opts *o)
{
    /* a setup that fails on one rank (its data, its memory) stops every rank before the first
     * collective of a step, rather than leaving the others waiting in it */
    if (par_agree(run_setup(app, o) == 0) >= 0) return -1;   /* reported by the rank that failed */
    struct dvae *m = app->st.model;
    const bool isbm = m->cfg.prior == DVAE_PRIOR_BM;
    atomic_store(&app->cancel, 0);
    /* every block runs single-threaded sgemm (dvae_set_parallel); with one block OpenBLAS's own
     * threads would wait on the other core for these small products (2.4× slower, loaded) */
    const int blas_prev = nn_blas_threads(1);
    samp_pa_local(true);   /* PA negative phases and log Z: the same on every rank (sampler.h) */
    struct loop L;
    loop_init(&L, app, o);
    struct trainer *t = L.t;
    /* the KL shown per step includes the latest log Z estimate (refreshed every epoch) */
    if (isbm && !isfinite(t->logz)) train_quick_logz(app, L.bm, t->seed + (uint64_t)t->epoch, &t->logz, &t->logz_err);
    L.lz = isbm && isfinite(t->logz) ? t->logz : 0.0;
    const long end_epoch = L.end_epoch = t->epoch + o->epochs;
    nn_sgemm_seconds = 0;
    nn_profile = true;
    int status = 0;
    while (t->epoch < end_epoch && status == 0) {
        const long e = t->epoch;
        epoch_begin(&L, e);
        while (t->batch_pos < L.nbatch && status == 0) {
            if (par_any(qv_wait_if_paused(app) != 0)) status = 1;   /* every rank stops at one step */
            else if (o->max_steps > 0 && L.done_steps >= o->max_steps) status = 2;
            else status = train_step(&L, e);
        }
        if (status != 0) break;
        status = epoch_end(&L);
        if (status == 0 && L.budget_spent) break;
    }
    nn_profile = false;
    t->t_total = qv_now() - L.t_start;
    t->t_sample = L.t_sample;
    t->t_sgemm = nn_sgemm_seconds;
    t->steps_timed = L.done_steps;
    loop_free(&L);
    nn_blas_threads(blas_prev);
    samp_pa_local(false);
    return status == 2 ? 0 : status;
}
