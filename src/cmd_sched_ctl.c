/* cmd_sched_ctl.c — the advanced anneal controls of the current schedule (`schedule hgain`,
 * `offset`, `flux`, `fast`; schedule.h struct sched_ctl) and the hand-tuning loop: `schedule
 * try` runs the physical sampler on the prior with the schedule and keeps the result beside it
 * (the editor's run key), `schedule scan` sweeps one knob (sched_scan.h).  The command table
 * entries are in cmd_schedule.c. */
#include "cmd_int.h"
#include "figs.h"
#include "bm.h"
#include "graph.h"
#include "sampler.h"
#include "sched_scan.h"
#include "schedule.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- controls */

void cmd_sched_ctl_line(const struct sched *s, char *buf, size_t n)
{
    const struct sched_ctl *c = &s->ctl;
    buf[0] = 0;
    if (!c->fast_anneal && !sched_has_controls(s)) return;
    size_t l = (size_t)snprintf(buf, n, "controls:%s", c->fast_anneal ? " fast anneal;" : "");
    if (c->nhg && l < n) {
        l += (size_t)snprintf(buf + l, n - l, " h-gain");
        for (int i = 0; i < c->nhg && l < n; i++)
            l += (size_t)snprintf(buf + l, n - l, " %g:%g", c->hg[i].t, c->hg[i].s);
        if (l < n) l += (size_t)snprintf(buf + l, n - l, ";");
    }
    if (c->noff && l < n) l += (size_t)snprintf(buf + l, n - l, " %d anneal offsets (q%ld %+g …);", c->noff,
                                                  c->off[0].q, c->off[0].v);
    if (c->nflux && l < n) snprintf(buf + l, n - l, " %d flux biases (q%ld %g Φ0 …)", c->nflux, c->flux[0].q,
                                    c->flux[0].v);
}

static int done_edit(struct qv_app *app, struct sched *s, const struct sched *w)
{
    sched_copy(s, w);
    return cmd_sched_after_edit(app, s);
}

int cmd_schedule_hgain(struct qv_app *app, const struct cmd_args *a)
{
    struct sched *s = cmd_sched_cur(app);
    struct sched *w = sched_new();
    sched_copy(w, s);
    struct sched_point p[SCHED_HG_CAP];
    int n = 0, rc = 0;
    double g;
    if (a->npos == 1 && !strcmp(a->pos[0], "off")) {
        w->ctl.nhg = 0;
    } else if (a->npos == 1 && qv_parse_double(a->pos[0], &g) == 0) {   /* a constant gain */
        p[0] = (struct sched_point){s->n ? s->pt[0].t : 0, g};
        p[1] = (struct sched_point){sched_duration(s), g};
        rc = sched_set_hgain(w, p, 2);
    } else {
        for (int i = 0; i < a->npos && !rc; i++) {
            char *end;
            p[n].t = strtod(a->pos[i], &end);
            if (*end != ':' || end == a->pos[i]) rc = qv_seterr("point '%s' is not T:G", a->pos[i]);
            else if (qv_parse_double(end + 1, &p[n].s)) rc = qv_preferr("point '%s'", a->pos[i]);
            if (++n == SCHED_HG_CAP && i + 1 < a->npos) rc = qv_seterr("more than %d points", SCHED_HG_CAP);
        }
        if (!rc) rc = sched_set_hgain(w, p, n);
    }
    if (rc) {
        sched_free(w);
        return qv_error(app, "schedule hgain: %s", qv_errmsg());
    }
    rc = done_edit(app, s, w);
    sched_free(w);
    return rc;
}

/* `schedule offset|flux GROUP V` or `… clear`. */
static int per_qubit(struct qv_app *app, const struct cmd_args *a, bool flux)
{
    const char *what = flux ? "schedule flux" : "schedule offset";
    struct sched *s = cmd_sched_cur(app);
    struct sched *w = sched_new();
    sched_copy(w, s);
    long q0, q1;
    double v;
    int rc = 0;
    if (a->npos == 1 && !strcmp(a->pos[0], "clear")) {
        if (flux) w->ctl.nflux = 0;
        else w->ctl.noff = 0;
    } else if (a->npos != 2 || sched_parse_group(a->pos[0], &q0, &q1)) {
        rc = qv_seterr("give a qubit Q or a group A-B (0 ≤ A ≤ B ≤ %ld) and a value, or clear", SCHED_QUBIT_MAX);
    } else if (qv_parse_double(a->pos[1], &v) == 0) {
        if (v != 0 && q1 - q0 >= SCHED_QCAP)   /* before a loop over a huge group */
            rc = qv_seterr("%s: more than %d qubits with a non-zero value", flux ? "flux bias" : "anneal offset",
                           SCHED_QCAP);
        else if (v == 0) {   /* clearing: the set entries in the group, not every number in it */
            struct sched_qval *l = flux ? w->ctl.flux : w->ctl.off;
            int n = flux ? w->ctl.nflux : w->ctl.noff, k = 0;
            for (int i = 0; i < n; i++)
                if (l[i].q < q0 || l[i].q > q1) l[k++] = l[i];
            *(flux ? &w->ctl.nflux : &w->ctl.noff) = k;
        } else {
            for (long q = q0; q <= q1 && !rc; q++) rc = flux ? sched_set_flux(w, q, v) : sched_set_offset(w, q, v);
        }
        if (!flux) { w->ctl.grp0 = q0; w->ctl.grp1 = q1; }
        const struct bm *bm = app->st.prior;
        long in = 0;
        for (int i = 0; bm && i < bm->g->nv; i++) {
            long q = bm->g->label ? bm->g->label[i] : i;
            in += q >= q0 && q <= q1;
        }
        if (!rc && bm && !in) qv_warn(app, "%s: no unit of the prior is a qubit in %ld-%ld (kept for the QPU)", what, q0, q1);
    } else {
        rc = -1;
    }
    if (rc) {
        sched_free(w);
        return qv_error(app, "%s: %s", what, qv_errmsg());
    }
    rc = done_edit(app, s, w);
    sched_free(w);
    return rc;
}

int cmd_schedule_offset(struct qv_app *app, const struct cmd_args *a) { return per_qubit(app, a, false); }
int cmd_schedule_flux(struct qv_app *app, const struct cmd_args *a) { return per_qubit(app, a, true); }

int cmd_schedule_fast(struct qv_app *app, const struct cmd_args *a)
{
    bool on = !strcmp(a->pos[0], "on");
    if (!on && strcmp(a->pos[0], "off")) return qv_error(app, "schedule fast: expected on or off, got '%s'", a->pos[0]);
    struct sched *s = cmd_sched_cur(app);
    s->ctl.fast_anneal = on;
    return cmd_sched_after_edit(app, s);
}

/* ---------------------------------------------------------------- try and scan */

struct lab_run {
    struct qv_app *app;
    const struct bm *bm;
    double beta;
    long count;
    struct sampler *smp, *own;   /* the sampler used; own when made here */
    struct sched_ref R;
    struct sample_ctx ctx;
};

static void on_progress(void *ud, double done, double total)
{
    qv_progress(ud, "schedule", done, total, "samples");
}

/* Prior, sampler (the current one when it is sqa or qpu, else a fresh sqa) and reference. */
static int lab_open(struct qv_app *app, const struct cmd_args *a, const char *what, struct lab_run *L)
{
    memset(L, 0, sizeof *L);
    sched_ref_init(&L->R);
    L->app = app;
    L->bm = app->st.prior;
    if (!L->bm) return qv_error(app, "%s: no Boltzmann-machine prior (try `prior new chimera 1 1 4; prior random`)", what);
    L->count = cmd_int(a, "count", 1000);
    L->beta = cmd_float(a, "beta", 1.0);
    if (L->count < 10 || L->count > 10000000) return qv_error(app, "%s: --count must be in [10, 10000000]", what);
    if (!(L->beta > 0) || !isfinite(L->beta)) return qv_error(app, "%s: --beta must be a positive number", what);
    struct sampler *cur = app->st.sampler;
    if (cur && (!strcmp(cur->vt->name, "sqa") || !strcmp(cur->vt->name, "qpu"))) {
        L->smp = cur;
    } else {
        L->own = L->smp = sampler_new("sqa", app->st.seed ^ 0x5c4eULL);
        if (!L->smp) return qv_error(app, "%s: %s", what, qv_errmsg());
    }
    L->ctx = (struct sample_ctx){.progress = on_progress, .ud = app, .cancel = &app->cancel, .app = app};
    if (sched_ref_build(&L->R, L->bm, L->beta, L->count, app->st.seed ^ 0x7e5fULL, &app->cancel))
        return qv_error(app, "%s: reference: %s", what, qv_errmsg());
    return 0;
}

static void lab_close(struct lab_run *L)
{
    sched_ref_free(&L->R);
    sampler_free(L->own);
}

static void fmt_q(char *b, size_t n, double v) { snprintf(b, n, isfinite(v) ? "%.4g" : "–", v); }

int cmd_schedule_try(struct qv_app *app, const struct cmd_args *a)
{
    struct lab_run L;
    if (lab_open(app, a, "schedule try", &L)) { lab_close(&L); return -1; }
    struct sched *s = cmd_sched_cur(app);
    struct sched_trial t;
    if (sched_trial_run(L.smp, L.bm, L.beta, L.count, s, &L.R, &L.ctx, app->st.seed, &t)) {
        lab_close(&L);
        return qv_error(app, "schedule try: %s", qv_errmsg());
    }
    struct sched_result r;
    sched_result_fill(&r, &t, &L.R, L.smp->vt->name);
    sched_results_push(s, &r);
    char kl[32], w1[32], be[32];
    fmt_q(kl, sizeof kl, t.kl);
    fmt_q(w1, sizeof w1, t.w1);
    fmt_q(be, sizeof be, t.beta_eff);
    qv_printf(app, "schedule try: %s with %s, %ld samples at β = %g against the %s reference",
              s->name, L.smp->vt->name, t.count, L.beta, L.R.ref.exact ? "exact" : "PA");
    qv_printf(app, "  KL* %s, W1 energy %s, β_eff %s, ⟨E⟩ %.4g, residual %.4g, modes %ld/%ld",
              kl, w1, be, t.e_mean, t.resid, t.covered, t.major);
    sched_trial_free(&t);
    lab_close(&L);
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
    return 0;
}

/* The quality measure against the knob: rows high → low, one column per value. */
static void scan_plot(struct qv_app *app, const double *x, const double *q, int n, const char *name)
{
    enum { H = 8 };
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(q[i])) { lo = fmin(lo, q[i]); hi = fmax(hi, q[i]); }
    if (!(hi >= lo)) return;
    if (hi == lo) hi = lo + 1e-12;
    int cw = n > 30 ? 1 : 2;
    for (int r = 0; r < H; r++) {
        char row[256];
        int l = 0;
        for (int i = 0; i < n && l < (int)sizeof row - 8; i++) {
            int rr = isfinite(q[i]) ? (int)lround((hi - q[i]) / (hi - lo) * (H - 1)) : -1;
            l += snprintf(row + l, sizeof row - (size_t)l, "%-*s", cw, rr == r ? "*" : (r == H - 1 ? "." : ""));
        }
        char lab[24] = "";
        if (r == 0 || r == H - 1) snprintf(lab, sizeof lab, "%.4g", r == 0 ? hi : lo);
        qv_printf(app, "  %10s |%s", lab, row);
    }
    qv_printf(app, "  %-10s  %-8g%*s%g  (%s against the knob)", "", x[0], QV_MAX(1, cw * n - 16), "",
              x[n - 1], name);
}

int cmd_schedule_scan(struct qv_app *app, const struct cmd_args *a)
{
    struct sched_knob_spec k;
    if (sched_knob_parse(a->pos[0], &k)) return qv_fail(app);
    k.pause_len = cmd_float(a, "len", k.pause_len);
    k.pause_s = cmd_float(a, "at", k.pause_s);
    k.hold = cmd_float(a, "hold", k.hold);
    double lo, hi, st;
    char tail;
    if (sscanf(a->pos[1], "%lf:%lf:%lf%c", &lo, &hi, &st, &tail) != 3)
        return qv_error(app, "schedule scan: range '%s' is not a:b:step", a->pos[1]);
    double x[201];
    int nx = sched_scan_values(lo, hi, st, x, 201);
    if (nx < 0) return qv_fail(app);
    struct lab_run L;
    if (lab_open(app, a, "schedule scan", &L)) { lab_close(&L); return -1; }
    struct sched *base = cmd_sched_cur(app);
    struct solver_props *own = base->solver[0] ? solver_load(base->solver) : NULL;
    qv_clearerr();
    struct sched_scan sc;
    int rc = sched_scan_run(L.smp, L.bm, L.beta, L.count, base, &k, x, nx, own, &L.R, &L.ctx,
                            app->st.seed, &sc);
    solver_free(own);
    if (rc) { lab_close(&L); return qv_error(app, "schedule scan: %s", qv_errmsg()); }
    qv_printf(app, "schedule scan %s %s on %s: %s, %ld samples per value at β = %g, %s reference",
              a->pos[0], a->pos[1], base->name, L.smp->vt->name, L.count, L.beta, L.R.ref.exact ? "exact" : "PA");
    qv_printf(app, "  %10s  %10s  %10s  %10s  %10s  %10s  %7s", sched_knob_name(k.knob),
              sc.exact ? "KL*" : "W1 energy", "β_eff", "⟨E⟩", "residual", "W1", "modes");
    double *q = qv_mallocarray((size_t)sc.n + 1, sizeof *q);
    const char *qname = sched_scan_series(&sc, q);
    int best = -1;
    for (int i = 0; i < sc.n; i++) {
        const struct sched_trial *t = &sc.t[i];
        char qs[32], be[32];
        fmt_q(qs, sizeof qs, q[i]);
        fmt_q(be, sizeof be, t->beta_eff);
        qv_printf(app, "  %10.4g  %10s  %10s  %10.4g  %10.4g  %10.4g  %3ld/%-3ld", t->x, qs, be, t->e_mean,
                  t->resid, t->w1, t->covered, t->major);
        if (isfinite(q[i]) && (best < 0 || q[i] < q[best])) best = i;
    }
    scan_plot(app, sc.x, q, sc.n, qname);
    char title[160];
    snprintf(title, sizeof title, "schedule scan of %s: %s with %s", base->name, qname, L.smp->vt->name);
    if (cmd_has(a, "png") &&
        figs_scan(sc.x, q, sc.n, sched_knob_name(k.knob), qname, title, cmd_str(a, "png", "")) < 0)
        rc = qv_error(app, "schedule scan: --png: %s", qv_errmsg());
    if (best >= 0) qv_printf(app, "  best: %s = %g (%s %.4g)", sched_knob_name(k.knob), sc.x[best], qname, q[best]);
    free(q);
    sched_scan_free(&sc);
    lab_close(&L);
    return rc;
}

/* the options of `schedule try` and `schedule scan` (cmd_schedule.c's table) */
const struct cmd_opt cmd_sched_lab_opts[] = {
    {"count", CMD_OPT_INT, "samples per run (default 1000)", NULL},
    {"beta", CMD_OPT_FLOAT, "β asked of the sampler (default 1)", NULL},
    {"len", CMD_OPT_FLOAT, "pause-s: pause length in µs (default 20)", NULL},
    {"at", CMD_OPT_FLOAT, "pause-len: where the pause sits in s (default 0.5)", NULL},
    {"hold", CMD_OPT_FLOAT, "reverse-s: hold at the target in µs (default 20)", NULL},
    {NULL, 0, NULL, NULL},
};
/* the options of `schedule show` */
const struct cmd_opt cmd_sched_show_opts[] = {
    {"png", CMD_OPT_PATH, "also write s(t) as a PNG figure", NULL},
    {NULL, 0, NULL, NULL},
};

/* `schedule scan`: the same and --png */
const struct cmd_opt cmd_sched_scan_opts[] = {
    {"count", CMD_OPT_INT, "samples per run (default 1000)", NULL},
    {"beta", CMD_OPT_FLOAT, "β asked of the sampler (default 1)", NULL},
    {"len", CMD_OPT_FLOAT, "pause-s: pause length in µs (default 20)", NULL},
    {"at", CMD_OPT_FLOAT, "pause-len: where the pause sits in s (default 0.5)", NULL},
    {"hold", CMD_OPT_FLOAT, "reverse-s: hold at the target in µs (default 20)", NULL},
    {"png", CMD_OPT_PATH, "also write the measure against the knob as a PNG figure", NULL},
    {NULL, 0, NULL, NULL},
};
