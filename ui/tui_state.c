/* tui_state.c — the UI thread's copies of engine data: state snapshots (names, the prior's
 * node coordinates, the schedule), the metric history behind the loss plot, and the settings
 * carried by `view` events. */
#include "tui_priv.h"
#include "sampler.h"
#include "bm.h"
#include "data.h"
#include "dvae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tui_snapshot *tui_snapshot_take(struct qv_app *app)
{
    struct tui_snapshot *s = qv_calloc(1, sizeof *s);
    const struct qv_state *st = &app->st;
    if (st->data)
        snprintf(s->data, sizeof s->data, "%s", st->data->name);
    snprintf(s->prior, sizeof s->prior, "%s", st->prior_desc);
    snprintf(s->session, sizeof s->session, "%s", app->session_name);
    if (st->sampler && st->sampler->vt) {
        char d[160] = "";
        if (st->sampler->vt->describe)
            st->sampler->vt->describe(st->sampler->impl, d, sizeof d);
        snprintf(s->sampler, sizeof s->sampler, "%s%s%s", st->sampler->vt->name, *d ? " " : "", d);
    }
    if (st->prior && st->prior->g && st->prior->g->nv > 0 && st->prior->g->x && st->prior->g->y) {
        const struct graph *g = st->prior->g;
        s->nv = g->nv;
        s->x = qv_mallocarray((size_t)g->nv, sizeof(float));
        s->y = qv_mallocarray((size_t)g->nv, sizeof(float));
        memcpy(s->x, g->x, (size_t)g->nv * sizeof(float));
        memcpy(s->y, g->y, (size_t)g->nv * sizeof(float));
        s->label = qv_mallocarray((size_t)g->nv, sizeof(long));
        for (int i = 0; i < g->nv; i++) s->label[i] = g->label ? g->label[i] : i;
    }
    s->bernoulli_n = st->prior_bernoulli_n;
    if (st->model)
        dvae_describe(st->model, s->model, sizeof s->model);
    if (st->schedule) {
        s->have_sched = true;
        memcpy(&s->sched, st->schedule, sizeof s->sched);   /* plain data */
        if (s->sched.n < 0) s->sched.n = 0;
        if (s->sched.n > SCHED_CAP) s->sched.n = SCHED_CAP;
    }
    return s;
}

void tui_snapshot_free(struct tui_snapshot *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->y);
    free(s->label);
    free(s);
}

/* --- metric history ---------------------------------------------------------------------- */

static double neg(double v) { return isfinite(v) ? -v : NAN; }

void tui_metrics_add(struct tui_metrics *m, const struct qv_metrics *x)
{
    /* A step counter going backwards means a new model/run: start a fresh history. */
    if (m->n > 0 && x->step < m->step[m->n - 1] && x->step >= 0)
        m->n = 0;
    if (m->n == m->cap) {
        long nc = m->cap ? m->cap * 2 : 1024;
        m->step = qv_realloc(m->step, (size_t)nc * sizeof(double));
        m->epoch = qv_realloc(m->epoch, (size_t)nc * sizeof(double));
        for (int s = 0; s < SER_N; s++)
            m->v[s] = qv_realloc(m->v[s], (size_t)nc * sizeof(double));
        m->cap = nc;
    }
    long i = m->n++;
    m->step[i] = (double)x->step;
    m->epoch[i] = x->epoch;
    /* An event with a validation result is an epoch summary whose training terms are epoch
     * averages: plotting them among the per-window values would draw a sawtooth, so only its
     * validation values are kept. */
    bool summary = isfinite(x->val_elbo) || isfinite(x->val_elbo_z) || isfinite(x->val_ll);
    m->v[SER_ELBO][i] = summary ? NAN : neg(x->elbo);
    m->v[SER_REC][i] = summary ? NAN : neg(x->rec);
    m->v[SER_KL][i] = !summary && isfinite(x->kl) ? x->kl : NAN;
    m->v[SER_VAL_ELBO][i] = neg(x->val_elbo);
    m->v[SER_VAL_Z][i] = neg(x->val_elbo_z);
    m->v[SER_VAL_LL][i] = neg(x->val_ll);
    if (isfinite(x->ips) && x->ips > 0) m->ips = x->ips;
    if (isfinite(x->lr)) m->lr = x->lr;
    if (x->active_units >= 0) m->active_units = x->active_units;
}

void tui_metrics_free(struct tui_metrics *m)
{
    free(m->step);
    free(m->epoch);
    for (int s = 0; s < SER_N; s++)
        free(m->v[s]);
    memset(m, 0, sizeof *m);
}

/* --- view settings ----------------------------------------------------------------------- */

/* `view --toggle X`: flip one loss-panel setting (the F9–F12 keys) */
static void toggle(struct tui *t, const char *what)
{
    if (!strcmp(what, "log")) t->lopt.logy = !t->lopt.logy;
    else if (!strcmp(what, "ema")) t->lopt.ema = t->lopt.ema > 0 ? 0 : 0.9;
    else if (!strcmp(what, "window")) t->lopt.window = t->lopt.window ? 0 : (t->lopt.x_epoch ? 2 : 500);
    else if (!strcmp(what, "x")) {
        t->lopt.x_epoch = !t->lopt.x_epoch;
        t->lopt.window = 0;   /* a step window means nothing in epochs */
    }
}

void tui_apply_view_opts(struct tui *t, const char *opts)
{
    if (!opts)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", opts);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "logy")) t->lopt.logy = atoi(v) != 0;
        else if (!strcmp(k, "ema")) { double e = atof(v); t->lopt.ema = e >= 0 && e < 1 ? e : 0; }
        else if (!strcmp(k, "window")) { long w = atol(v); t->lopt.window = w > 0 ? w : 0; }
        else if (!strcmp(k, "x")) t->lopt.x_epoch = !strcmp(v, "epoch");
        else if (!strcmp(k, "mean")) t->lat_show_mean = atoi(v) != 0;
        else if (!strcmp(k, "edit")) t->sched_edit = atoi(v) != 0;
        else if (!strcmp(k, "toggle")) toggle(t, v);
    }
}
