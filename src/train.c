/* train.c — the DVAE training loop, validation, checkpoints, metrics.csv, and the "model" and
 * "trainer" session modules.  Design and reproducibility contract: train.h. */
#include "train.h"
#include "data.h"
#include "png.h"
#include "sampler.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rng stream bases, one family per purpose, offset by the epoch */
#define TR_PERM   0x7065726d00000000ULL   /* "perm": data order of epoch e */
#define TR_NOISE  0x6e6f697300000000ULL   /* "nois": GumBolt noise of epoch e */
#define TR_VAL    0x76616c0000000000ULL   /* "val": validation noise */
#define TR_IMG    0x696d670000000000ULL   /* "img": Bernoulli-prior samples for the digit grid */
#define TR_GRID   16                      /* digits generated after every epoch */

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
    t->val_elbo = t->val_elbo_z = t->logz = t->logz_err = NAN;
    return t;
}

void trainer_free(struct trainer *t)
{
    if (!t) return;
    nn_adam_free(&t->adam);
    free(t->pm);
    free(t->pv);
    free(t);
}

/* ---- helpers ----------------------------------------------------------------------------------- */

/* Checks that model, prior and data fit together; error message names the problem. */
static int check_setup(struct qv_app *app, bool need_data)
{
    struct dvae *m = app->st.model;
    if (!m) return qv_seterr("no model: create one with `model new` (after `prior new …`)");
    if (need_data && !app->st.data) return qv_seterr("no data: load a dataset first (`data load …`)");
    if (need_data && app->st.data->d != m->cfg.D)
        return qv_seterr("the data has %d pixels per image but the model expects %d",
                         app->st.data->d, m->cfg.D);
    const struct bm *bm = app->st.prior;
    if (m->cfg.prior == DVAE_PRIOR_BM) {
        if (!bm) return qv_seterr("the model has a Boltzmann-machine prior but none is defined (`prior new …`)");
        if (bm->n != m->cfg.n)
            return qv_seterr("the prior has %d units but the model has %d latents (`model new` again)",
                             bm->n, m->cfg.n);
    } else {
        if (bm)
            return qv_seterr("the prior is a Boltzmann machine but the model was built for a "
                             "Bernoulli prior (`model new` again)");
        if (app->st.prior_bernoulli_n > 0 && app->st.prior_bernoulli_n != m->cfg.n)
            return qv_seterr("the prior has %d units but the model has %d latents (`model new` again)",
                             app->st.prior_bernoulli_n, m->cfg.n);
    }
    return 0;
}

/* Weighted sufficient statistics of prior samples (PA-style log-weights or uniform). */
static void neg_stats(const struct bm *bm, const struct samples *s, double *mean, double *corr)
{
    const int n = bm->n;
    memset(mean, 0, sizeof(double) * (size_t)n);
    memset(corr, 0, sizeof(double) * (size_t)bm->ne);
    double wmax = -INFINITY, wsum = 0;
    if (s->logw)
        for (long c = 0; c < s->count; c++) wmax = fmax(wmax, s->logw[c]);
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    for (long c = 0; c < s->count; c++) {
        double w = s->logw ? exp(s->logw[c] - wmax) : 1.0;
        const uint8_t *z = s->z + (size_t)c * n;
        for (int i = 0; i < n; i++)
            if (z[i]) mean[i] += w;
        for (long k = 0; k < bm->ne; k++)
            if (z[ed[k][0]] & z[ed[k][1]]) corr[k] += w;
        wsum += w;
    }
    for (int i = 0; i < n; i++) mean[i] /= wsum;
    for (long k = 0; k < bm->ne; k++) corr[k] /= wsum;
}

static int ensure_sampler(struct qv_app *app)
{
    return sampler_current(app) ? 0 : -1;   /* the one creation path and seed rule */
}

/* log Z of the prior for reporting: exact up to 20 units, else a small population annealing run. */
static void quick_logz(struct qv_app *app, const struct bm *bm, uint64_t seed, double *logz, double *err)
{
    struct logz_result r;
    struct logz_opts o = {.population = 2000, .steps = 100, .sweeps = 1, .seed = seed,
                          .cancel = &app->cancel};
    const char *method = bm->n <= 20 ? "exact" : "pa";
    if (bm_logz(bm, 1.0, method, &o, &r) == 0) {
        *logz = r.logz;
        *err = r.err;
    } else {
        *logz = *err = NAN;
    }
}

int train_val_elbo(struct qv_app *app, int split, long limit, double logz, double *out, double *out_z)
{
    if (check_setup(app, true) < 0) return -1;
    struct dvae *m = app->st.model;
    const struct dataset *ds = app->st.data;
    long N = QV_MIN(ds->split_count[split], limit);
    if (N <= 0) return qv_seterr("the %s split is empty", data_split_name((enum data_split)split));
    const int cap = QV_MIN(m->cfg.bmax, 100), n = m->cfg.n, D = m->cfg.D;
    float *x = qv_malloc(sizeof(float) * (size_t)cap * D);
    float *noise = qv_malloc(sizeof(float) * (size_t)cap * n);
    long *idx = qv_malloc(sizeof(long) * (size_t)cap);
    struct rng r;
    rng_init(&r, app->st.trainer ? app->st.trainer->seed : app->st.seed, TR_VAL);
    double tot = 0, totz = 0;
    int rc = 0;
    for (long i0 = 0; i0 < N; i0 += cap) {
        int nb = (int)QV_MIN((long)cap, N - i0);
        for (int b = 0; b < nb; b++) idx[b] = i0 + b;
        data_batch(ds, (enum data_split)split, idx, nb, 0, x);
        dvae_noise(&r, noise, (size_t)nb * n);
        /* one batch of images and noise serves both passes */
        struct dvae_batch io = {.B = nb, .x = x, .noise = noise, .kl_weight = 1.0};
        if (dvae_batch_run(m, app->st.prior, &io) < 0) { rc = -1; break; }
        tot += io.elbo * nb;
        /* straight-through already ran on z, and unless an analytic BM term was charged at q the
         * two passes would be the same arithmetic */
        if (out_z && m->cfg.relax == DVAE_RELAX_ST &&
            !(m->cfg.prior == DVAE_PRIOR_BM && m->cfg.kl == DVAE_KL_ANALYTIC)) {
            totz += io.elbo * nb;
        } else if (out_z) {
            io.discrete = true;
            if (dvae_batch_run(m, app->st.prior, &io) < 0) { rc = -1; break; }
            totz += io.elbo * nb;
        }
    }
    const double lz = m->cfg.prior == DVAE_PRIOR_BM ? logz : 0.0;
    if (!rc) *out = tot / N - lz;
    if (!rc && out_z) *out_z = totz / N - lz;
    free(x); free(noise); free(idx);
    return rc;
}

/* Generated digits: prior samples → decoder means; emitted as an IMAGES event and written to the
 * session's grids/ folder (best effort). */
static void emit_grid(struct qv_app *app, const uint8_t *zneg, long nneg, long epoch)
{
    struct dvae *m = app->st.model;
    const struct dataset *ds = app->st.data;
    const int n = m->cfg.n, cnt = (int)QV_MIN((long)TR_GRID, m->cfg.bmax);
    float *z = qv_malloc(sizeof(float) * (size_t)cnt * n);
    float *img = qv_malloc(sizeof(float) * (size_t)cnt * m->cfg.D);
    int have = 0;
    if (m->cfg.prior == DVAE_PRIOR_BM) {
        have = (int)QV_MIN((long)cnt, nneg);
        for (int i = 0; i < have * n; i++) z[i] = zneg[i];
    } else {
        struct rng r;
        rng_init(&r, app->st.trainer->seed, TR_IMG + (uint64_t)epoch);
        for (int b = 0; b < cnt; b++)
            for (int i = 0; i < n; i++)
                z[(size_t)b * n + i] = rng_uniformf(&r) < nn_fsigmoid(m->prior_a[i]) ? 1.0f : 0.0f;
        have = cnt;
    }
    if (have > 0) {
        dvae_decode_means(m, have, z, img);
        struct qv_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = QV_EV_IMAGES;
        char title[64];
        snprintf(title, sizeof title, "generated, epoch %ld", epoch);
        ev.job = title;
        ev.n = have;
        ev.h = ds->h;
        ev.w = ds->w;
        ev.values = img;
        qv_emit(app, &ev);
        char dir[4096], path[4200];
        if (session_current_dir(app, dir, sizeof dir) == 0) {
            snprintf(path, sizeof path, "%s/grids", dir);
            if (qv_mkdirs(path) == 0) {
                snprintf(path, sizeof path, "%s/grids/epoch-%04ld.png", dir, epoch);
                png_write_grid(path, img, have, ds->h, ds->w, 2, (have + 1) / 2, 1, 2);
            }
        }
    }
    free(z);
    free(img);
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

int train_run(struct qv_app *app, const struct train_opts *o)
{
    if (check_setup(app, true) < 0) return qv_error(app, "train: %s", qv_errmsg());
    struct dvae *m = app->st.model;
    struct bm *bm = app->st.prior;
    const struct dataset *ds = app->st.data;
    const bool isbm = m->cfg.prior == DVAE_PRIOR_BM;
    const int n = m->cfg.n, D = m->cfg.D, B = o->batch, K = o->iw;
    if (o->epochs < 1) return qv_error(app, "train: EPOCHS must be at least 1");
    if (B < 1 || B > DVAE_MAX_ROWS)
        return qv_error(app, "train: --batch must be 1..%d, got %d", DVAE_MAX_ROWS, B);
    if (K < 1 || (long)B * K > DVAE_MAX_ROWS)
        return qv_error(app, "train: --iw must be 1..%d with --batch %d (batch × samples ≤ %d "
                        "rows), got %d", DVAE_MAX_ROWS / B, B, DVAE_MAX_ROWS, K);
    if (K > 1 && isbm && m->cfg.kl == DVAE_KL_ANALYTIC)
        return qv_error(app, "train: --iw needs a per-sample prior term: the analytic KL has none "
                        "(--kl relaxed)");
    if (!(o->lr > 0) || !isfinite(o->lr)) return qv_error(app, "train: --lr must be a positive number");
    if (o->kl_warmup < 0) return qv_error(app, "train: --kl-warmup must be >= 0");
    if (isbm && (o->neg < 1 || o->neg > 1000000))
        return qv_error(app, "train: --neg must be 1..1000000");
    const long ntrain = ds->split_count[DATA_TRAIN];
    const long nbatch = ntrain / B;
    if (nbatch < 1)
        return qv_error(app, "train: the training split has %ld images, fewer than one batch of %d", ntrain, B);
    if (isbm && ensure_sampler(app) < 0) return qv_fail(app);
    /* the work buffers grow to the batch × samples this run needs (the capacity is saved) */
    if (dvae_reserve(m, B * K) < 0) return qv_error(app, "train: %s", qv_errmsg());

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
    t->lr = o->lr; t->batch = B; t->iw = K; t->kl_warmup = o->kl_warmup; t->wd = o->wd;
    t->wd_prior = o->wd_prior; t->neg = o->neg;
    if (o->threads > 0) t->shards = o->threads;
    if (t->shards < 1) t->shards = QV_MAX(1, QV_MIN(QV_MIN(qv_ncpu(), 4), B / 25));
    if (t->shards > DVAE_MAX_SHARDS) t->shards = DVAE_MAX_SHARDS;
    if (dvae_set_parallel(m, t->shards, t->shards) < 0) return qv_fail(app);
    atomic_store(&app->cancel, 0);

    float *x = qv_malloc(sizeof(float) * (size_t)B * D);
    float *noise = qv_malloc(sizeof(float) * (size_t)B * K * n);   /* K rows per image */
    long *perm = qv_malloc(sizeof(long) * (size_t)ntrain);
    double *nmean = NULL, *ncorr = NULL, *gb = NULL, *gw = NULL;
    float *act = qv_malloc(sizeof(float) * 2 * (size_t)n), *qbuf = qv_malloc(sizeof(float) * (size_t)B * n);
    double *s1 = qv_calloc((size_t)n, sizeof(double)), *s2 = qv_calloc((size_t)n, sizeof(double));
    struct samples smp;
    samples_init(&smp);
    if (isbm) {
        nmean = qv_malloc(sizeof(double) * (size_t)n);
        ncorr = qv_malloc(sizeof(double) * (size_t)bm->ne);
        gb = qv_malloc(sizeof(double) * (size_t)n);
        gw = qv_malloc(sizeof(double) * (size_t)bm->ne);
    }
    bool csv_z;
    FILE *csv = open_metrics(app, &csv_z);
    struct sample_ctx sctx = {.cancel = &app->cancel, .app = app};

    /* the KL shown per step includes the latest log Z estimate (refreshed every epoch) */
    if (isbm && !isfinite(t->logz)) quick_logz(app, bm, t->seed + (uint64_t)t->epoch, &t->logz, &t->logz_err);
    double lz = isbm && isfinite(t->logz) ? t->logz : 0.0;
    const long end_epoch = t->epoch + o->epochs;
    const long total_steps = o->epochs * nbatch - t->batch_pos;
    long done_steps = 0, win_steps = 0, win_rows = 0;
    double win_elbo = 0, win_rec = 0, win_kl = 0, win_t0 = qv_now(), t_start = qv_now();
    double t_sample = 0;
    nn_sgemm_seconds = 0;
    nn_profile = true;
    int status = 0;
    long sn = n;

    while (t->epoch < end_epoch && status == 0) {
        const long e = t->epoch;
        struct rng pr;
        rng_init(&pr, t->seed, TR_PERM + (uint64_t)e);
        for (long i = 0; i < ntrain; i++) perm[i] = i;
        for (long i = ntrain - 1; i > 0; i--) {
            long j = (long)rng_below(&pr, (uint64_t)i + 1), tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        if (t->batch_pos == 0) rng_init(&t->rng, t->seed, TR_NOISE + (uint64_t)e);
        double ep_elbo = 0, ep_rec = 0, ep_kl = 0;
        long ep_steps = 0;
        for (; t->batch_pos < nbatch; ) {
            if (qv_wait_if_paused(app)) { status = 1; break; }
            if (o->max_steps > 0 && done_steps >= o->max_steps) { status = 2; break; }
            data_batch(ds, DATA_TRAIN, perm + t->batch_pos * B, B, e, x);
            struct rng save_rng = t->rng;
            dvae_noise(&t->rng, noise, (size_t)B * K * n);
            double klw = o->kl_warmup > 0
                             ? QV_MIN(1.0, (double)(t->step + 1) / (o->kl_warmup * (double)nbatch))
                             : 1.0;
            if (isbm) {
                double ts = qv_now();
                int rc = sampler_sample(app->st.sampler, bm, 1.0, o->neg, &sctx, &smp);
                t_sample += qv_now() - ts;
                if (rc < 0) {
                    t->rng = save_rng;
                    if (qv_cancelled(app)) { status = 1; break; }
                    qv_error(app, "train: step %ld: negative phase: %s", t->step + 1, qv_errmsg());
                    status = -1;
                    break;
                }
                neg_stats(bm, &smp, nmean, ncorr);
            }
            struct dvae_batch io = {.B = B * K, .iw = K, .x = x, .noise = noise, .kl_weight = klw, .grad = true,
                                    .neg_mean = nmean, .neg_corr = ncorr, .g_b = gb, .g_w = gw};
            if (dvae_batch_run(m, bm, &io) < 0) {
                qv_error(app, "train: %s", qv_errmsg());
                status = -1;
                break;
            }
            /* the network's gradients were checked while the blocks were summed; on the error
             * path only, look again to tell NaN from Inf */
            double gsum = 0.0;
            for (size_t k = 0; !io.grads_finite && k < m->nparams; k++)
                if (!isfinite(m->grads[k])) gsum = isnan(m->grads[k]) || isnan(gsum) ? NAN : INFINITY;
            if (isbm)
                for (long k = 0; k < sn; k++) gsum += gb[k] * 0.0;
            if (isbm)
                for (long k = 0; k < bm->ne; k++) gsum += gw[k] * 0.0;
            if (!isfinite(io.elbo) || !isfinite(gsum)) {
                t->rng = save_rng;
                qv_error(app, "train: step %ld (epoch %ld): %s in the %s; stopped before applying it — "
                         "the model keeps its last good parameters and the last checkpoint is untouched",
                         t->step + 1, e + 1, isnan(io.elbo) || isnan(gsum) ? "NaN" : "Inf",
                         !isfinite(io.elbo) ? "loss" : "gradient");
                status = -1;
                break;
            }
            /* activity: E_q[z_u] = σ(l_u) over the logging window */
            {
                const float *l = m->eh[m->nl - 1];
                size_t bn = (size_t)B * n, i = 0;
                for (; i + NN_VL <= bn; i += NN_VL) nn_vstore(qbuf + i, nn_vsigmoid(nn_vload(l + i)));
                for (; i < bn; i++) qbuf[i] = nn_fsigmoid(l[i]);
                for (int b = 0; b < B; b++)
                    for (int u = 0; u < n; u++) {
                        double v = qbuf[(size_t)b * n + u];
                        s1[u] += v;
                        s2[u] += v * v;
                    }
                win_rows += B;
            }
            dvae_adam_step(m, &t->adam, o->lr, o->wd);
            if (isbm) {
                /* Adam on the BM parameters (double), L2 decay on the couplings only */
                t->pt++;
                const double b1 = 0.9, b2 = 0.999;
                double lr_t = o->lr * sqrt(1 - pow(b2, (double)t->pt)) / (1 - pow(b1, (double)t->pt));
                for (long k = 0; k < t->pn; k++) {
                    double *p = k < n ? &bm->b[k] : &bm->w[k - n];
                    double g = k < n ? gb[k] : gw[k - n] + o->wd_prior * *p;
                    t->pm[k] = b1 * t->pm[k] + (1 - b1) * g;
                    t->pv[k] = b2 * t->pv[k] + (1 - b2) * g * g;
                    *p -= lr_t * t->pm[k] / (sqrt(t->pv[k]) + 1e-8);
                }
            }
            t->step++;
            t->batch_pos++;
            done_steps++;
            ep_elbo += io.elbo - lz; ep_rec += io.rec; ep_kl += io.kl + lz; ep_steps++;
            win_elbo += io.elbo - lz; win_rec += io.rec; win_kl += io.kl + lz; win_steps++;
            if (done_steps % 10 == 0 || t->batch_pos == nbatch)
                qv_progress(app, "train", (double)done_steps, (double)total_steps, "steps");
            if (win_steps >= o->log_every || t->batch_pos == nbatch) {
                double now = qv_now();
                struct qv_event ev;
                memset(&ev, 0, sizeof ev);
                ev.kind = QV_EV_METRICS;
                ev.m.step = t->step;
                ev.m.epoch = (double)e + (double)t->batch_pos / (double)nbatch;
                ev.m.elbo = win_elbo / win_steps;
                ev.m.rec = win_rec / win_steps;
                ev.m.kl = win_kl / win_steps;
                ev.m.lr = o->lr;
                ev.m.ips = (double)win_steps * B / fmax(now - win_t0, 1e-9);
                ev.m.val_elbo = ev.m.val_elbo_z = NAN;
                ev.m.val_ll = NAN;
                int nact = 0;
                for (int u = 0; u < n; u++) {
                    double mu = s1[u] / win_rows, v = fmax(0.0, s2[u] / win_rows - mu * mu);
                    act[u] = (float)v;
                    act[n + u] = (float)mu;
                    if (v > 0.01) nact++;
                }
                ev.m.active_units = nact;
                qv_emit(app, &ev);
                struct qv_event ea;
                memset(&ea, 0, sizeof ea);
                ea.kind = QV_EV_ACTIVITY;
                ea.n = n;
                ea.values = act;
                ea.values2 = act + n;
                ea.ival = nact;
                qv_emit(app, &ea);
                if (csv) {
                    fprintf(csv, "%ld,%.4f,%.4f,%.4f,%.4f,%.4f,%g,%.1f,,%d,%.3f%s\n", t->step, ev.m.epoch,
                            ev.m.elbo, ev.m.rec, ev.m.kl, klw, o->lr, ev.m.ips, nact, now - t_start,
                            csv_z ? "," : "");
                    fflush(csv);
                }
                win_elbo = win_rec = win_kl = 0;
                win_steps = win_rows = 0;
                memset(s1, 0, sizeof(double) * (size_t)n);
                memset(s2, 0, sizeof(double) * (size_t)n);
                win_t0 = now;
            }
        }
        if (status != 0 || t->batch_pos < nbatch) break;
        /* ---- end of epoch: validation, digits, checkpoint ---- */
        t->epoch++;
        t->batch_pos = 0;
        nn_profile = false;
        if (dvae_check_finite(m) < 0 || (bm && bm_check_finite(bm) < 0)) {
            qv_error(app, "train: epoch %ld: %s; not checkpointed (the session keeps the previous epoch)",
                     t->epoch, qv_errmsg());
            status = -1;
            break;
        }
        if (isbm) {
            quick_logz(app, bm, t->seed + (uint64_t)t->epoch, &t->logz, &t->logz_err);
            lz = isfinite(t->logz) ? t->logz : 0.0;
        }
        /* both validation ELBOs on the same images and noise: the relaxed one is the objective,
         * the discrete one is what `eval ll` scores (the gap between them is the relaxation's) */
        double val = NAN, valz = NAN;
        if (ds->split_count[DATA_VALID] > 0 &&
            train_val_elbo(app, DATA_VALID, 10000, isbm ? t->logz : 0.0, &val, &valz) < 0)
            val = valz = NAN;
        t->val_elbo = val;
        t->val_elbo_z = valz;
        struct qv_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = QV_EV_METRICS;
        ev.m.step = t->step;
        ev.m.epoch = (double)t->epoch;
        ev.m.elbo = ep_steps ? ep_elbo / ep_steps : NAN;
        ev.m.rec = ep_steps ? ep_rec / ep_steps : NAN;
        ev.m.kl = ep_steps ? ep_kl / ep_steps : NAN;
        ev.m.lr = o->lr;
        ev.m.ips = NAN;
        ev.m.val_elbo = val;
        ev.m.val_elbo_z = valz;
        ev.m.val_ll = NAN;
        ev.m.active_units = -1;
        qv_emit(app, &ev);
        if (csv) {
            fprintf(csv, "%ld,%.4f,,,,,%g,,%.4f,,%.3f", t->step, (double)t->epoch, o->lr, val,
                    qv_now() - t_start);
            if (csv_z) fprintf(csv, ",%.4f", valz);
            fputc('\n', csv);
            fflush(csv);
        }
        emit_grid(app, smp.z, smp.count, t->epoch);
        if (!o->quiet) {
            char lzs[96] = "";
            if (isbm) snprintf(lzs, sizeof lzs, "  log Z %.2f±%.2f", t->logz, t->logz_err);
            qv_printf(app, "epoch %ld: train elbo %.2f (rec %.2f, kl %.2f)  valid elbo %.2f (z %.2f)%s  %.0f img/s",
                      t->epoch, ev.m.elbo, ev.m.rec, ev.m.kl, val, valz, lzs,
                      (double)done_steps * B / fmax(qv_now() - t_start, 1e-9));
        }
        if (o->save) {
            char name[sizeof app->session_name];   /* a copy: session_save rewrites the name */
            snprintf(name, sizeof name, "%s", app->session_name);
            if (session_save(app, name, NULL) < 0) {
                qv_error(app, "train: checkpoint: %s", qv_errmsg());
                status = -1;
                break;
            }
        }
        nn_profile = true;
        if (o->max_seconds > 0 && qv_now() - t_start >= o->max_seconds) break;
    }
    nn_profile = false;
    t->t_total = qv_now() - t_start;
    t->t_sample = t_sample;
    t->t_sgemm = nn_sgemm_seconds;
    t->steps_timed = done_steps;
    if (csv) fclose(csv);
    samples_free(&smp);
    free(x); free(noise); free(perm); free(nmean); free(ncorr); free(gb); free(gw);
    free(act); free(qbuf); free(s1); free(s2);
    if (status == 2) status = 0;
    return status;
}

int train_sample_images(struct qv_app *app, const uint8_t *z, long count, const char *png)
{
    struct dvae *m = app->st.model;
    if (!m) return qv_error(app, "sample: --png: no model to decode the samples into digits (`model new`)");
    const int n = m->cfg.n, D = m->cfg.D, cap = m->cfg.bmax;
    if (z && m->cfg.prior != DVAE_PRIOR_BM)
        return qv_error(app, "sample: the model was built for a Bernoulli prior (`model new` again)");
    if (!z && m->cfg.prior != DVAE_PRIOR_BERNOULLI)
        return qv_error(app, "sample: the model needs its Boltzmann-machine prior");
    if (z && app->st.prior && app->st.prior->n != n)
        return qv_error(app, "sample: the prior has %d units but the model has %d latents",
                        app->st.prior->n, n);
    const int cnt = (int)QV_MIN(count, 1024L);
    int h = 1, w = D;
    if (app->st.data && app->st.data->d == D) { h = app->st.data->h; w = app->st.data->w; }
    else for (int s = 1; s * s <= D; s++) if (s * s == D) { h = w = s; }
    float *img = qv_malloc(sizeof(float) * (size_t)cnt * D);
    float *zf = qv_malloc(sizeof(float) * (size_t)cap * n);
    struct rng r;
    rng_init(&r, app->st.seed, TR_IMG - 1);
    for (int i0 = 0; i0 < cnt; i0 += cap) {
        int nb = QV_MIN(cap, cnt - i0);
        for (int b = 0; b < nb; b++)
            for (int i = 0; i < n; i++)
                zf[(size_t)b * n + i] = z ? (float)z[(size_t)(i0 + b) * n + i]
                                          : (rng_uniformf(&r) < nn_fsigmoid(m->prior_a[i]) ? 1.0f : 0.0f);
        dvae_decode_means(m, nb, zf, img + (size_t)i0 * D);
    }
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_IMAGES;
    ev.job = "samples";
    ev.n = cnt;
    ev.h = h;
    ev.w = w;
    ev.values = img;
    qv_emit(app, &ev);
    int rc = 0;
    if (png) {
        int cols = 1;
        while (cols * cols < cnt) cols++;
        int rows = (cnt + cols - 1) / cols;
        if (png_write_grid(png, img, cnt, h, w, rows, cols, 1, 2) < 0)
            rc = qv_error(app, "sample: --png: %s", qv_errmsg());
        else
            qv_printf(app, "sample: %d decoded digits written to %s", cnt, png);
    }
    free(img);
    free(zf);
    return rc;
}

/* ---- session modules ---------------------------------------------------------------------------- */

static int model_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    const struct dvae *m = st->model;
    if (!m) return 0;
    const struct dvae_config *c = &m->cfg;
    cJSON_AddNumberToObject(sec, "pixels", c->D);
    cJSON_AddNumberToObject(sec, "latents", c->n);
    cJSON *h = cJSON_AddArrayToObject(sec, "hidden");
    for (int i = 0; i < c->nhidden; i++) cJSON_AddItemToArray(h, cJSON_CreateNumber(c->hidden[i]));
    cJSON_AddStringToObject(sec, "act", nn_act_name(c->act));
    cJSON_AddStringToObject(sec, "relax", dvae_relax_name(c->relax));
    cJSON_AddNumberToObject(sec, "tau", c->tau);
    cJSON_AddStringToObject(sec, "kl", dvae_kl_name(c->kl));
    cJSON_AddStringToObject(sec, "prior", c->prior == DVAE_PRIOR_BM ? "boltzmann" : "bernoulli");
    cJSON_AddNumberToObject(sec, "batch_capacity", c->bmax);
    cJSON_AddNumberToObject(sec, "parameters", (double)m->nparams);
    return sess_blob_put(io, "weights", m->params, sizeof(float) * m->nparams);
}

static int json_num(const cJSON *sec, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, key);
    if (!cJSON_IsNumber(v)) return qv_seterr("model: session field '%s' is missing or not a number", key);
    *out = v->valuedouble;
    return 0;
}

static int model_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    if (!sec || !cJSON_GetObjectItemCaseSensitive(sec, "latents")) return 0;   /* no model saved */
    struct dvae_config c;
    dvae_config_default(&c);
    double v = 0;
    if (json_num(sec, "pixels", &v)) return -1;
    c.D = (int)v;
    if (json_num(sec, "latents", &v)) return -1;
    c.n = (int)v;
    if (json_num(sec, "tau", &v)) return -1;
    c.tau = (float)v;
    const cJSON *rx = cJSON_GetObjectItemCaseSensitive(sec, "relax");
    if (rx && (!cJSON_IsString(rx) || dvae_relax_parse(rx->valuestring, &c.relax)))
        return qv_seterr("model: bad 'relax' (gumbolt or st)");
    /* absent in sessions saved before the analytic term existed: they trained with the proxy */
    const cJSON *kl = cJSON_GetObjectItemCaseSensitive(sec, "kl");
    if (kl && (!cJSON_IsString(kl) || dvae_kl_parse(kl->valuestring, &c.kl)))
        return qv_seterr("model: bad 'kl' (relaxed or analytic)");
    if (json_num(sec, "batch_capacity", &v)) return -1;
    c.bmax = (int)v;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(sec, "hidden");
    int nh = cJSON_GetArraySize(h);
    if (!cJSON_IsArray(h) || nh < 1 || nh > DVAE_MAX_HIDDEN) return qv_seterr("model: bad 'hidden' list");
    c.nhidden = nh;
    for (int i = 0; i < nh; i++) {
        const cJSON *w = cJSON_GetArrayItem(h, i);
        if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 16384)
            return qv_seterr("model: bad hidden width");
        c.hidden[i] = (int)w->valuedouble;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(sec, "act");
    if (!cJSON_IsString(a) || nn_act_parse(a->valuestring, &c.act)) return qv_seterr("model: bad 'act'");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(sec, "prior");
    if (!cJSON_IsString(p)) return qv_seterr("model: bad 'prior'");
    c.prior = !strcmp(p->valuestring, "boltzmann") ? DVAE_PRIOR_BM : DVAE_PRIOR_BERNOULLI;
    struct dvae *m = dvae_new(&c, 0);
    if (!m) return -1;
    void *blob = NULL;
    size_t len = 0;
    if (sess_blob_get(io, "weights", &blob, &len) < 0) { dvae_free(m); return -1; }
    if (len != sizeof(float) * m->nparams) {
        free(blob);
        dvae_free(m);
        return qv_seterr("model: weights blob has %zu bytes, the configuration needs %zu", len,
                         sizeof(float) * m->nparams);
    }
    memcpy(m->params, blob, len);
    free(blob);
    if (dvae_check_finite(m) < 0) { dvae_free(m); return -1; }
    st->model = m;
    return 0;
}

static void model_free_st(struct qv_state *st)
{
    dvae_free(st->model);
    st->model = NULL;
}

const struct qv_module dvae_module = {"model", model_save, model_load, model_free_st};

static void put_u64(cJSON *o, const char *k, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%016" PRIx64, v);
    cJSON_AddStringToObject(o, k, b);
}

static int get_u64(const cJSON *o, const char *k, uint64_t *v)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);
    char *end;
    if (!cJSON_IsString(s) || !*s->valuestring) return qv_seterr("trainer: session field '%s' is missing", k);
    *v = strtoull(s->valuestring, &end, 16);
    if (*end) return qv_seterr("trainer: session field '%s' is not hexadecimal", k);
    return 0;
}

static int trainer_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    const struct trainer *t = st->trainer;
    if (!t || !st->model) return 0;
    put_u64(sec, "seed", t->seed);
    cJSON_AddNumberToObject(sec, "step", (double)t->step);
    cJSON_AddNumberToObject(sec, "epoch", (double)t->epoch);
    cJSON_AddNumberToObject(sec, "batch_pos", (double)t->batch_pos);
    for (int i = 0; i < 4; i++) {
        char k[16];
        snprintf(k, sizeof k, "rng%d", i);
        put_u64(sec, k, t->rng.s[i]);
    }
    cJSON_AddNumberToObject(sec, "adam_t", (double)t->adam.t);
    cJSON_AddNumberToObject(sec, "prior_adam_t", (double)t->pt);
    cJSON_AddNumberToObject(sec, "prior_parameters", (double)t->pn);
    cJSON_AddNumberToObject(sec, "lr", t->lr);
    cJSON_AddNumberToObject(sec, "batch", t->batch);
    cJSON_AddNumberToObject(sec, "iw", t->iw);
    cJSON_AddNumberToObject(sec, "kl_warmup", t->kl_warmup);
    cJSON_AddNumberToObject(sec, "neg", (double)t->neg);
    cJSON_AddNumberToObject(sec, "shards", t->shards);
    if (isfinite(t->val_elbo)) cJSON_AddNumberToObject(sec, "val_elbo", t->val_elbo);
    if (isfinite(t->val_elbo_z)) cJSON_AddNumberToObject(sec, "val_elbo_z", t->val_elbo_z);
    size_t nb = sizeof(float) * t->adam.n;
    unsigned char *buf = qv_malloc(2 * nb + 1);
    memcpy(buf, t->adam.m, nb);
    memcpy(buf + nb, t->adam.v, nb);
    int rc = sess_blob_put(io, "adam", buf, 2 * nb);
    free(buf);
    if (rc == 0 && t->pn > 0) {
        size_t pb = sizeof(double) * (size_t)t->pn;
        unsigned char *b2 = qv_malloc(2 * pb);
        memcpy(b2, t->pm, pb);
        memcpy(b2 + pb, t->pv, pb);
        rc = sess_blob_put(io, "prior_adam", b2, 2 * pb);
        free(b2);
    }
    return rc;
}

static int trainer_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    if (!sec || !cJSON_GetObjectItemCaseSensitive(sec, "step")) return 0;
    if (!st->model) return qv_seterr("trainer: saved optimiser state but no model");
    uint64_t seed;
    if (get_u64(sec, "seed", &seed)) return -1;
    double step = 0, epoch = 0, pos = 0, at = 0, pt = 0, pn = 0;
    if (json_num(sec, "step", &step) || json_num(sec, "epoch", &epoch) ||
        json_num(sec, "batch_pos", &pos) || json_num(sec, "adam_t", &at) ||
        json_num(sec, "prior_adam_t", &pt) || json_num(sec, "prior_parameters", &pn))
        return qv_preferr("trainer");
    struct trainer *t = qv_calloc(1, sizeof *t);
    if (nn_adam_init(&t->adam, st->model->nparams) < 0) { free(t); return -1; }
    t->seed = seed;
    t->step = (long)step;
    t->epoch = (long)epoch;
    t->batch_pos = (long)pos;
    t->adam.t = (long)at;
    t->pt = (long)pt;
    t->pn = (long)pn;
    t->val_elbo = t->val_elbo_z = t->logz = t->logz_err = NAN;
    double v = 0;
    if (!json_num(sec, "lr", &v)) t->lr = v;
    if (!json_num(sec, "batch", &v)) t->batch = (int)v;
    t->iw = !json_num(sec, "iw", &v) && v >= 1 && v <= 100000 ? (int)v : 1;
    if (!json_num(sec, "kl_warmup", &v)) t->kl_warmup = v;
    if (!json_num(sec, "neg", &v)) t->neg = (long)v;
    if (!json_num(sec, "shards", &v)) {
        if (!(v >= 1 && v <= DVAE_MAX_SHARDS)) {
            trainer_free(t);
            return qv_seterr("trainer: session field 'shards' must be 1..%d", DVAE_MAX_SHARDS);
        }
        t->shards = (int)v;
    } else {
        t->shards = 1;   /* sessions from before data-parallel steps ran one block */
    }
    if (!json_num(sec, "val_elbo", &v)) t->val_elbo = v;
    if (!json_num(sec, "val_elbo_z", &v)) t->val_elbo_z = v;
    qv_clearerr();
    for (int i = 0; i < 4; i++) {
        char k[16];
        snprintf(k, sizeof k, "rng%d", i);
        if (get_u64(sec, k, &t->rng.s[i])) { trainer_free(t); return -1; }
    }
    void *blob = NULL;
    size_t len = 0;
    size_t nb = sizeof(float) * t->adam.n;
    if (sess_blob_get(io, "adam", &blob, &len) < 0) { trainer_free(t); return -1; }
    if (len != 2 * nb) {
        free(blob);
        trainer_free(t);
        return qv_seterr("trainer: optimiser blob has %zu bytes, expected %zu", len, 2 * nb);
    }
    memcpy(t->adam.m, blob, nb);
    memcpy(t->adam.v, (unsigned char *)blob + nb, nb);
    free(blob);
    if (t->pn > 0) {
        if (t->pn > 100000000) { trainer_free(t); return qv_seterr("trainer: bad prior_parameters"); }
        size_t pb = sizeof(double) * (size_t)t->pn;
        if (sess_blob_get(io, "prior_adam", &blob, &len) < 0) { trainer_free(t); return -1; }
        if (len != 2 * pb) {
            free(blob);
            trainer_free(t);
            return qv_seterr("trainer: prior optimiser blob has %zu bytes, expected %zu", len, 2 * pb);
        }
        t->pm = qv_malloc(pb);
        t->pv = qv_malloc(pb);
        memcpy(t->pm, blob, pb);
        memcpy(t->pv, (unsigned char *)blob + pb, pb);
        free(blob);
    }
    st->trainer = t;
    return 0;
}

static void trainer_free_st(struct qv_state *st)
{
    trainer_free(st->trainer);
    st->trainer = NULL;
}

const struct qv_module trainer_module = {"trainer", trainer_save, trainer_load, trainer_free_st};
