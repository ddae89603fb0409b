/* train_grid.c — generated digits: the grid emitted (and written to the session's grids/) after
 * every training epoch, and `sample N --png FILE` with a model.  Contracts: train.h. */
#include "train.h"
#include "data.h"
#include "png.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TR_IMG    0x696d670000000000ULL   /* "img": Bernoulli-prior samples for the digit grid */
#define TR_GRID   16                      /* digits generated after every epoch */

/* Generated digits: prior samples → decoder means; emitted as an IMAGES event and written to the
 * session's grids/ folder (best effort). */
void train_emit_grid(struct qv_app *app, const uint8_t *zneg, long nneg, long epoch)
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
                png_write_grid(path, img, have, ds->h, ds->w, TRAIN_GRID_ROWS,
                               (have + TRAIN_GRID_ROWS - 1) / TRAIN_GRID_ROWS, TRAIN_GRID_MARGIN,
                               TRAIN_GRID_SCALE);
            }
        }
    }
    free(z);
    free(img);
}

int train_decode_images(struct qv_app *app, const uint8_t *z, long count, float **out, int *cnt_out,
                        int *h_out, int *w_out)
{
    *out = NULL;
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
    free(zf);
    /* the digits panel shows them too (its own copy) */
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_IMAGES;
    ev.job = "samples";
    ev.n = cnt;
    ev.h = h;
    ev.w = w;
    ev.values = img;
    qv_emit(app, &ev);
    *out = img;
    *cnt_out = cnt;
    *h_out = h;
    *w_out = w;
    return 0;
}

int train_sample_images(struct qv_app *app, const uint8_t *z, long count, const char *png)
{
    float *img;
    int cnt, h, w;
    if (train_decode_images(app, z, count, &img, &cnt, &h, &w)) return -1;
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
    return rc;
}
