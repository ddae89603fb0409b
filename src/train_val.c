/* train_val.c — what the training loop and the commands share besides the loop: the check that
 * model, prior and data fit together, the quick log Z shown with the losses, and the validation
 * ELBO (relaxed and with discrete latents).  Contracts: train.h, train_int.h. */
#include "train.h"
#include "train_int.h"
#include "data.h"
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

#define TR_VAL    0x76616c0000000000ULL   /* "val": the validation noise stream */

/* Checks that model, prior and data fit together; error message names the problem. */
int train_check_setup(struct qv_app *app, bool need_data)
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

/* log Z of the prior for reporting: exact up to 20 units, else a small population annealing run. */
void train_quick_logz(struct qv_app *app, const struct bm *bm, uint64_t seed, double *logz, double *err)
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
    if (train_check_setup(app, true) < 0) return -1;
    struct dvae *m = app->st.model;
    const struct dataset *ds = app->st.data;
    long N = QV_MIN(ds->split_count[split], limit);
    if (N <= 0) return qv_seterr("the %s split is empty", data_split_name((enum data_split)split));
    const int cap = QV_MIN(m->cfg.bmax, 100), n = m->cfg.n, D = m->cfg.D;
    float *x = qv_malloc(sizeof(float) * (size_t)cap * D);
    float *noise = qv_malloc(sizeof(float) * (size_t)cap * n * dvae_noise_planes(m));
    long *idx = qv_malloc(sizeof(long) * (size_t)cap);
    struct rng r;
    rng_init(&r, app->st.trainer ? app->st.trainer->seed : app->st.seed, TR_VAL);
    double tot = 0, totz = 0;
    int rc = 0;
    for (long i0 = 0; i0 < N; i0 += cap) {
        int nb = (int)QV_MIN((long)cap, N - i0);
        for (int b = 0; b < nb; b++) idx[b] = i0 + b;
        data_batch(ds, (enum data_split)split, idx, nb, 0, x);
        dvae_noise_rows(m, &r, noise, (size_t)nb);
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
