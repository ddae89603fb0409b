/* cmd_schedule.c — the `schedule` command group (build, edit, show, validate, save/load anneal
 * schedules; pick the solver whose limits apply; session section: schedule_sess.c), and the
 * `sampler beta` command (β_eff of the current sampler's samples by maximum pseudo-likelihood,
 * with the freeze-out estimate of the schedule).  The current schedule is app->st.schedule. */
#include "cmd.h"
#include "cmd_int.h"
#include "anneal.h"
#include "beta.h"
#include "figs.h"
#include "sampler.h"
#include "schedule.h"
#include "session.h"
#include "solver.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static struct sched *cur(struct qv_app *app)
{
    if (!app->st.schedule) {
        app->st.schedule = sched_new();
        sched_forward(app->st.schedule, 20);
        snprintf(app->st.schedule->name, sizeof app->st.schedule->name, "standard 20");
    }
    return app->st.schedule;
}

static void changed(struct qv_app *app)
{
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
}

/* Limits in force for schedule s: its solver's, else the defaults.  *owned gets the loaded
 * object (free with solver_free) or NULL. */
static const struct solver_props *limits_of(struct qv_app *app, const char *name,
                                            struct solver_props **owned)
{
    *owned = NULL;
    if (!name || !*name || !strcmp(name, "default")) return solver_defaults();
    *owned = solver_load(name);
    return *owned;
}

static int pos_num(struct qv_app *app, const struct cmd_args *a, int i, double *v)
{
    return cmd_pos_double(app, a, i, v);
}

static void print_validation(struct qv_app *app, const struct sched *s, const struct solver_props *sp)
{
    struct sched_violation v[16];
    int n = sched_validate(s, sp, v, 16);
    if (n == 0) {
        qv_printf(app, "valid for %s (%d of %d points, %g µs, max slope %g µs⁻¹)", sp->name, s->n,
                  sp->max_anneal_schedule_points, sched_duration(s), 1.0 / sp->annealing_time_range[0]);
        return;
    }
    for (int i = 0; i < n && i < 16; i++)
        qv_warn(app, "%s: %s", sched_rule_name(v[i].rule), v[i].msg);
    if (n > 16) qv_warn(app, "… and %d more violations", n - 16);
}

/* A small ASCII plot of s(t): rows s = 1 … 0, columns t = 0 … T; 'o' marks points. */
static void plot(struct qv_app *app, const struct sched *s)
{
    enum { W = 56, H = 9 };
    if (s->n < 1) return;
    double T = sched_duration(s), t0 = s->n ? s->pt[0].t : 0;
    if (!(T > t0) || !isfinite(T)) return;
    char grid[H][W + 1];
    for (int r = 0; r < H; r++) {
        memset(grid[r], ' ', W);
        grid[r][W] = 0;
    }
    for (int c = 0; c < W; c++) {
        double t = t0 + (T - t0) * c / (W - 1);
        double sv = sched_s_at(s, t);
        if (!isfinite(sv)) continue;
        int r = (int)lround((1 - QV_MAX(0.0, QV_MIN(1.0, sv))) * (H - 1));
        grid[r][c] = '*';
    }
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(s->pt[i].t) || !isfinite(s->pt[i].s)) continue;
        int c = (int)lround((s->pt[i].t - t0) / (T - t0) * (W - 1));
        int r = (int)lround((1 - QV_MAX(0.0, QV_MIN(1.0, s->pt[i].s))) * (H - 1));
        if (c >= 0 && c < W) grid[r][c] = 'o';
    }
    for (int r = 0; r < H; r++)
        qv_printf(app, "  %4s |%s", r == 0 ? "s=1" : r == H - 1 ? "0" : "", grid[r]);
    qv_printf(app, "       +%.*s", W, "--------------------------------------------------------");
    qv_printf(app, "        t = %-10g%*s%g µs", t0, W - 22, "", T);
}

static void print_table(struct qv_app *app, const struct sched *s)
{
    qv_printf(app, "schedule %s: %d points, %g µs%s%s", s->name[0] ? s->name : "(unnamed)", s->n,
              sched_duration(s), sched_is_reverse(s) ? ", reverse anneal" : "",
              s->solver[0] ? "" : "");
    qv_printf(app, "   #      t (µs)        s");
    for (int i = 0; i < s->n; i++)
        qv_printf(app, "  %2d  %10.4g  %7.4g", i, s->pt[i].t, s->pt[i].s);
    char c[256];   /* the advanced controls, when set */
    if (cmd_sched_ctl_line(s, c, sizeof c), c[0]) qv_printf(app, "  %s", c);
}

static int after_edit(struct qv_app *app, struct sched *s)
{
    print_table(app, s);
    struct solver_props *own;
    const struct solver_props *sp = limits_of(app, s->solver, &own);
    if (sp) print_validation(app, s, sp);
    solver_free(own);
    changed(app);
    return 0;
}

struct sched *cmd_sched_cur(struct qv_app *app) { return cur(app); }
int cmd_sched_after_edit(struct qv_app *app, struct sched *s) { return after_edit(app, s); }

/* ---------------------------------------------------------------- builders */

static int run_new(struct qv_app *app, const struct cmd_args *a)
{
    if (strcmp(a->pos[0], "forward") != 0)
        return qv_error(app, "schedule new: unknown kind '%s' (only: forward; then pause, quench, "
                             "reverse edit it)", a->pos[0]);
    double T;
    if (pos_num(app, a, 1, &T)) return -1;
    struct sched w;
    sched_copy(&w, cur(app));
    if (sched_forward(&w, T)) return qv_fail(app);
    sched_copy(app->st.schedule, &w);
    return after_edit(app, app->st.schedule);
}

static int run_forward(struct qv_app *app, const struct cmd_args *a)
{
    double T;
    if (pos_num(app, a, 0, &T)) return -1;
    struct sched w;
    sched_copy(&w, cur(app));
    if (sched_forward(&w, T)) return qv_fail(app);
    sched_copy(app->st.schedule, &w);
    return after_edit(app, app->st.schedule);
}

static int run_pause(struct qv_app *app, const struct cmd_args *a)
{
    double sp, d;
    if (pos_num(app, a, 0, &sp) || pos_num(app, a, 1, &d)) return -1;
    if (sched_pause(cur(app), sp, d)) return qv_fail(app);
    return after_edit(app, app->st.schedule);
}

static int run_quench(struct qv_app *app, const struct cmd_args *a)
{
    double sq;
    if (pos_num(app, a, 0, &sq)) return -1;
    double slope = cmd_float(a, "slope", 0);
    /* 0 (the default) means "the steepest allowed"; given explicitly it must be positive */
    if (!isfinite(slope) || slope < 0 || (cmd_has(a, "slope") && slope <= 0))
        return qv_error(app, "schedule quench: --slope must be a positive number, got %g", slope);
    struct sched *s = cur(app);
    struct solver_props *own;
    const struct solver_props *lim = limits_of(app, s->solver, &own);
    if (!lim) return qv_fail(app);
    int rc = sched_quench(s, sq, slope, lim);
    solver_free(own);
    if (rc) return qv_fail(app);
    return after_edit(app, s);
}

static int run_reverse(struct qv_app *app, const struct cmd_args *a)
{
    double st, hold;
    if (pos_num(app, a, 0, &st) || pos_num(app, a, 1, &hold)) return -1;
    double ramp = cmd_float(a, "ramp", 0);
    if (!isfinite(ramp) || ramp < 0) return qv_error(app, "schedule reverse: --ramp must be a time >= 0 µs");
    struct sched *s = cur(app);
    struct solver_props *own;
    const struct solver_props *lim = limits_of(app, s->solver, &own);
    if (!lim) return qv_fail(app);
    int rc = sched_reverse(s, st, hold, ramp, lim);
    solver_free(own);
    if (rc) return qv_fail(app);
    if (cmd_has(a, "no-reinit")) s->reinitialize = false;
    else s->reinitialize = true;
    return after_edit(app, s);
}

/* ---------------------------------------------------------------- point editing */

static int run_add(struct qv_app *app, const struct cmd_args *a)
{
    double t, sv;
    if (pos_num(app, a, 0, &t) || pos_num(app, a, 1, &sv)) return -1;
    if (sched_add(cur(app), t, sv) < 0) return qv_fail(app);
    return after_edit(app, app->st.schedule);
}

static int pos_index(struct qv_app *app, const struct cmd_args *a, int i, int *out)
{
    long v;
    if (cmd_pos_long(app, a, i, &v)) return -1;
    if (v < 0 || v > 1000000) return qv_error(app, "%s: point index must be >= 0, got %ld", a->path, v);
    *out = (int)v;
    return 0;
}

static int run_del(struct qv_app *app, const struct cmd_args *a)
{
    int i = 0;
    if (pos_index(app, a, 0, &i)) return -1;
    if (sched_del(cur(app), i)) return qv_fail(app);
    return after_edit(app, app->st.schedule);
}

static int run_move(struct qv_app *app, const struct cmd_args *a)
{
    int i = 0;
    double t, sv;
    if (pos_index(app, a, 0, &i) || pos_num(app, a, 1, &t) || pos_num(app, a, 2, &sv)) return -1;
    if (sched_move(cur(app), i, t, sv) < 0) return qv_fail(app);
    return after_edit(app, app->st.schedule);
}

/* ---------------------------------------------------------------- show / validate */

static int run_show(struct qv_app *app, const struct cmd_args *a)
{
    struct sched *s = cur(app);
    print_table(app, s);
    plot(app, s);
    struct solver_props *own;
    const struct solver_props *sp = limits_of(app, s->solver, &own);
    if (!sp) {
        qv_warn(app, "schedule: solver %s: %s (using the default limits)", s->solver, qv_errmsg());
        sp = solver_defaults();
    }
    qv_printf(app, "limits: %s%s; run: %ld reads%s%s", sp->name, s->solver[0] ? "" : " (no solver chosen)",
              s->num_reads, sched_is_reverse(s) ? (s->initial_state ? ", initial state given" : ", no initial state") : "",
              sched_is_reverse(s) ? (s->reinitialize ? ", reinitialize" : ", no reinitialize") : "");
    print_validation(app, s, sp);
    struct freezeout fo = {.s_star = NAN};
    if (s->n >= 2 && anneal_freezeout(s, sp, NULL, &fo) == 0)
        qv_printf(app, "freeze-out estimate: s* = %.3f at t = %.3g µs, β_eff ≈ %.3g (T = %g mK, A/B = %.2g)",
                  fo.s_star, fo.t_star, fo.beta_eff, sp->temperature_mk, fo.a_over_b);
    else qv_clearerr();
    int rc = 0;   /* --png F: the same schedule as a figure (figs.c) */
    if (cmd_has(a, "png") && figs_schedule(s, sp, fo.s_star, cmd_str(a, "png", "")))
        rc = qv_error(app, "schedule show: --png: %s", qv_errmsg());
    else if (cmd_has(a, "png"))
        qv_printf(app, "wrote the schedule to %s", cmd_str(a, "png", ""));
    solver_free(own);
    return rc;
}

static int run_validate(struct qv_app *app, const struct cmd_args *a)
{
    struct sched *s = cur(app);
    const char *name = cmd_str(a, "solver", s->solver);
    struct solver_props *own;
    const struct solver_props *sp = limits_of(app, name, &own);
    if (!sp) return qv_error(app, "schedule validate: %s", qv_errmsg());
    struct sched w;
    sched_copy(&w, s);
    if (cmd_has(a, "reads")) {
        long r = cmd_int(a, "reads", 1);
        if (r < 1) { solver_free(own); return qv_error(app, "schedule validate: --reads must be >= 1"); }
        w.num_reads = r;
    }
    struct sched_violation v[32];
    int n = sched_validate(&w, sp, v, 32);
    if (n == 0) {
        qv_printf(app, "schedule valid for %s: %d points (at most %d), %g µs (at most %g), max slope %g µs⁻¹",
                  sp->name, w.n, sp->max_anneal_schedule_points + (sched_is_reverse(&w) ? 1 : 0),
                  sched_duration(&w), sp->annealing_time_range[1], 1.0 / sp->annealing_time_range[0]);
        solver_free(own);
        return 0;
    }
    for (int i = 0; i < n && i < 32; i++) {
        char where[48] = "";
        if (v[i].segment >= 0) snprintf(where, sizeof where, " [segment %d]", v[i].segment);
        else if (v[i].point >= 0) snprintf(where, sizeof where, " [point %d]", v[i].point);
        qv_error(app, "schedule validate: %s%s: %s", sched_rule_name(v[i].rule), where, v[i].msg);
    }
    qv_error(app, "schedule validate: %d violation%s for %s", n, n == 1 ? "" : "s", sp->name);
    solver_free(own);
    return -1;
}

/* ---------------------------------------------------------------- save / load / list */

static bool name_ok(const char *n)
{
    if (!*n || strlen(n) > 100 || n[0] == '.') return false;
    for (const char *p = n; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')) return false;
    return true;
}

/* <session folder>/schedules/NAME.json; the folders are created only when saving. */
static int saved_path(struct qv_app *app, const char *name, char *buf, size_t n, bool create)
{
    char dir[PATH_MAX];
    if (create) {
        if (session_current_dir(app, dir, sizeof dir)) return -1;
        if (qv_path(buf, n, "%s/schedules", dir) || qv_mkdirs(buf)) return -1;
    } else if (qv_path(dir, sizeof dir, "%s/%s", app->session_dir, app->session_name)) {
        return -1;
    }
    return qv_path(buf, n, "%s/schedules/%s.json", dir, name);
}

static int run_save(struct qv_app *app, const struct cmd_args *a)
{
    const char *name = a->pos[0];
    char path[PATH_MAX];
    if (strchr(name, '/')) snprintf(path, sizeof path, "%s", name);
    else {
        if (!name_ok(name)) return qv_error(app, "schedule save: '%s': use letters, digits, '-', '_' and '.'", name);
        if (saved_path(app, name, path, sizeof path, true)) return qv_fail(app);
    }
    struct sched *s = cur(app);
    if (s->n < 1) return qv_error(app, "schedule save: the schedule is empty");
    if (sched_save_file(s, path)) return qv_error(app, "schedule save: %s", qv_errmsg());
    if (!strchr(name, '/')) snprintf(s->name, sizeof s->name, "%s", name);
    qv_printf(app, "schedule saved to %s", path);
    changed(app);
    return 0;
}

static int run_load(struct qv_app *app, const struct cmd_args *a)
{
    const char *name = a->pos[0];
    char path[PATH_MAX] = "";
    if (strchr(name, '/') || (strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".json") && qv_file_exists(name))) {
        snprintf(path, sizeof path, "%s", name);
    } else {
        if (!name_ok(name)) return qv_error(app, "schedule load: '%s': not a schedule name", name);
        char p1[PATH_MAX];
        if (saved_path(app, name, p1, sizeof p1, false) == 0 && qv_file_exists(p1)) snprintf(path, sizeof path, "%s", p1);
        else if (qv_path(p1, sizeof p1, "%s/assets/schedules/%s.json", qv_home(), name) == 0 && qv_file_exists(p1))
            snprintf(path, sizeof path, "%s", p1);
        else
            return qv_error(app, "schedule load: no schedule '%s' (not saved in this session, not a preset; "
                                 "see `schedule list`)", name);
    }
    struct sched w;
    sched_copy(&w, cur(app));
    if (sched_load_file(&w, path)) return qv_error(app, "schedule load: %s", qv_errmsg());
    /* a preset reverse anneal is meant to start from the sampler's states */
    if (sched_is_reverse(&w) && !strchr(name, '/')) w.initial_state = true;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    snprintf(w.name, sizeof w.name, "%.*s", (int)(strlen(base) > 5 && !strcmp(base + strlen(base) - 5, ".json") ? strlen(base) - 5 : strlen(base)), base);
    sched_copy(app->st.schedule, &w);
    return after_edit(app, app->st.schedule);
}

static void list_dir(struct qv_app *app, const char *dir, const char *what)
{
    DIR *d = opendir(dir);
    if (!d) {
        qv_printf(app, "%s: (none)", what);
        return;
    }
    struct dirent *de;
    char line[1024] = "";
    int n = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || strcmp(de->d_name + l - 5, ".json")) continue;
        size_t o = strlen(line);
        snprintf(line + o, sizeof line - o, "%s%.*s", n ? ", " : "", (int)(l - 5), de->d_name);
        n++;
    }
    closedir(d);
    qv_printf(app, "%s: %s", what, n ? line : "(none)");
}

static int run_list(struct qv_app *app, const struct cmd_args *a)
{
    char p[PATH_MAX];
    if (qv_path(p, sizeof p, "%s/assets/schedules", qv_home()) == 0) list_dir(app, p, "presets");
    if (qv_path(p, sizeof p, "%s/%s/schedules", app->session_dir, app->session_name) == 0)
        list_dir(app, p, "saved in this session");
    char **sl = solver_list();
    char line[512] = "";
    for (char **q = sl; *q; q++) {
        size_t o = strlen(line);
        snprintf(line + o, sizeof line - o, "%s%s", q == sl ? "" : ", ", *q);
    }
    qv_printf(app, "solvers: %s", line[0] ? line : "(none)");
    solver_list_free(sl);
    return 0;
}

/* ---------------------------------------------------------------- solver / params */

static int run_solver(struct qv_app *app, const struct cmd_args *a)
{
    struct sched *s = cur(app);
    if (a->npos == 1) {
        const char *name = a->pos[0];
        if (!strcmp(name, "default")) {
            s->solver[0] = 0;
        } else {
            struct solver_props *sp = solver_load(name);
            if (!sp) return qv_error(app, "schedule solver: %s", qv_errmsg());
            solver_free(sp);
            if (strlen(name) >= sizeof s->solver) return qv_error(app, "schedule solver: name too long");
            snprintf(s->solver, sizeof s->solver, "%s", name);
        }
        changed(app);
    }
    struct solver_props *own;
    const struct solver_props *sp = limits_of(app, s->solver, &own);
    if (!sp) return qv_error(app, "schedule solver: %s", qv_errmsg());
    qv_printf(app, "solver %s: %s %d qubits / %ld couplers; annealing_time_range [%g, %g] µs (max slope %g µs⁻¹), "
              "max_anneal_schedule_points %d, h_range [%g, %g], j_range [%g, %g], run duration <= %g µs, %g mK",
              sp->name, sp->topology[0] ? sp->topology : "", sp->nq, sp->nc, sp->annealing_time_range[0],
              sp->annealing_time_range[1], 1.0 / sp->annealing_time_range[0], sp->max_anneal_schedule_points,
              sp->h_range[0], sp->h_range[1], sp->j_range[0], sp->j_range[1], sp->problem_run_duration_range[1],
              sp->temperature_mk);
    print_validation(app, s, sp);
    solver_free(own);
    return 0;
}

static int yesno(struct qv_app *app, const char *opt, const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true")) *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "false")) *out = false;
    else return qv_error(app, "schedule params: --%s: expected yes or no, got '%s'", opt, v);
    return 0;
}

static int run_params(struct qv_app *app, const struct cmd_args *a)
{
    struct sched w;
    sched_copy(&w, cur(app));
    if (cmd_has(a, "reads")) {
        long r = cmd_int(a, "reads", 1);
        if (r < 1 || r > 1000000000) return qv_error(app, "schedule params: --reads must be a positive integer");
        w.num_reads = r;
    }
    const char *fl[] = {"readout-therm", "programming-therm"};
    double *dst[] = {&w.readout_thermalization, &w.programming_thermalization};
    for (int i = 0; i < 2; i++)
        if (cmd_has(a, fl[i])) {
            double v = cmd_float(a, fl[i], -1);
            if (!isfinite(v)) return qv_error(app, "schedule params: --%s must be a number (µs, negative = default)", fl[i]);
            *dst[i] = v;
        }
    if (cmd_has(a, "initial") && yesno(app, "initial", cmd_str(a, "initial", ""), &w.initial_state)) return -1;
    if (cmd_has(a, "reinit") && yesno(app, "reinit", cmd_str(a, "reinit", ""), &w.reinitialize)) return -1;
    sched_copy(app->st.schedule, &w);
    qv_printf(app, "schedule run parameters: reads %ld, readout thermalization %g µs, programming thermalization %g µs "
              "(negative = solver default), initial state %s, reinitialize %s", w.num_reads,
              w.readout_thermalization, w.programming_thermalization, w.initial_state ? "yes" : "no",
              w.reinitialize ? "yes" : "no");
    changed(app);
    return 0;
}

/* ---------------------------------------------------------------- sampler beta */

struct prog { struct qv_app *app; };
static void on_progress(void *ud, double done, double total)
{
    struct prog *p = ud;
    qv_progress(p->app, "sample", done, total, "samples");
}

int cmd_sampler_beta_run(struct qv_app *app, const struct cmd_args *a)
{
    const struct bm *bm = app->st.prior;
    if (!bm) return qv_error(app, "sampler beta: no Boltzmann-machine prior (try `prior new chimera 2; prior random`)");
    /* the default sampler (gibbs) when none was chosen, as `sample` and `sampler info` do */
    struct sampler *s = sampler_current(app);
    if (!s) return qv_error(app, "sampler beta: %s", qv_errmsg());
    long n = cmd_int(a, "samples", 1000);
    if (n < 2 || n > 10000000) return qv_error(app, "sampler beta: --samples must be in [2, 10000000], got %ld", n);
    long nboot = cmd_int(a, "boot", 100);
    if (nboot < 0 || nboot > 100000) return qv_error(app, "sampler beta: --boot must be in [0, 100000]");
    double beta = cmd_float(a, "beta", 1.0);
    if (!isfinite(beta) || beta <= 0) return qv_error(app, "sampler beta: --beta must be a positive number");
    struct samples out;
    samples_init(&out);
    struct prog pu = {app};
    struct sample_ctx ctx = {.progress = on_progress, .ud = &pu, .cancel = &app->cancel, .app = app,
                             .schedule = app->st.schedule};
    if (sampler_sample(s, bm, beta, n, &ctx, &out)) {
        samples_free(&out);
        return qv_error(app, "sampler beta: %s", qv_errmsg());
    }
    struct beta_result br;
    if (beta_estimate(bm, out.z, out.count, (int)nboot, app->st.seed ^ 0xbe7a, &br)) {
        samples_free(&out);
        return qv_fail(app);
    }
    if (out.logw) {
        /* importance-weighted samples (ais): the point estimate uses the weights; the bootstrap
         * spread above (unweighted) is kept as a rough error bar */
        double *w = qv_mallocarray((size_t)out.count, sizeof *w);
        samples_weights(&out, w);
        double bw;
        if (beta_mpl(bm, out.z, out.count, w, &bw) == 0) br.beta = bw;
        free(w);
    }
    qv_printf(app, "sampler beta: %s, %ld samples at β = %g on %s", s->vt->name, out.count, beta,
              app->st.prior_desc[0] ? app->st.prior_desc : bm->g->desc);
    if (isinf(br.beta))
        qv_printf(app, "  β_eff = ∞ (MPL): every sample is a local minimum — the samples are colder than any finite β");
    else
        qv_printf(app, "  β_eff = %.4g ± %.2g (maximum pseudo-likelihood, %d bootstrap replicates%s); β_eff/β = %.3f",
                  br.beta, br.err, br.nboot, br.linearised ? ", linearised" : "", br.beta / beta);
    if (isfinite(out.beta_eff))
        qv_printf(app, "  the sampler programmed the problem scaled by β/β_eff with its own β_eff = %.4g", out.beta_eff);
    const struct sched *sc = app->st.schedule;
    struct sched def;
    if (!sc) {
        sched_init(&def);
        sched_forward(&def, 20);
        sc = &def;
    }
    struct solver_props *own;
    const struct solver_props *sp = limits_of(app, sc->solver, &own);
    struct freezeout fo;
    if (sp && sc->n >= 2 && anneal_freezeout(sc, sp, NULL, &fo) == 0)
        qv_printf(app, "  freeze-out estimate for the schedule (%s, %g mK): s* = %.3f, β_eff(hardware units) ≈ %.3g",
                  sp->name, sp->temperature_mk, fo.s_star, fo.beta_eff);
    else qv_clearerr();
    solver_free(own);
    struct qv_event ev = {.kind = QV_EV_SAMPLER, .beta_eff = br.beta, .beta_err = br.err};
    ev.qpu.programming = ev.qpu.anneal = ev.qpu.readout = ev.qpu.access = ev.qpu.total_real = NAN;
    qv_emit(app, &ev);
    samples_free(&out);
    return 0;
}

/* ---------------------------------------------------------------- table */

static const struct cmd_opt quench_opts[] = {
    {"slope", CMD_OPT_FLOAT, "ramp slope in µs⁻¹ (default: the steepest allowed, 1/min annealing time)", NULL},
    {NULL, 0, NULL, NULL},
};
static const struct cmd_opt reverse_opts[] = {
    {"ramp", CMD_OPT_FLOAT, "duration of each ramp in µs (default: the fastest allowed)", NULL},
    {"no-reinit", CMD_OPT_FLAG, "reads continue from the previous read's state (reinitialize_state false)", NULL},
    {NULL, 0, NULL, NULL},
};
static const struct cmd_opt validate_opts[] = {
    {"solver", CMD_OPT_STR, "check against this solver's limits (default: the schedule's solver)", NULL},
    {"reads", CMD_OPT_INT, "reads per call for the run-duration limit (default: schedule params)", NULL},
    {NULL, 0, NULL, NULL},
};
static const struct cmd_opt params_opts[] = {
    {"reads", CMD_OPT_INT, "reads per call (run-duration limit)", NULL},
    {"readout-therm", CMD_OPT_FLOAT, "readout thermalization µs (negative = solver default)", NULL},
    {"programming-therm", CMD_OPT_FLOAT, "programming thermalization µs (negative = solver default)", NULL},
    {"initial", CMD_OPT_STR, "reverse anneals get an initial state", "yes|no"},
    {"reinit", CMD_OPT_STR, "reverse anneals reinitialise every read", "yes|no"},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_entry schedule_sub[] = {
    {.name = "new", .usage = "schedule new forward T", .summary = "a linear forward anneal (0,0) → (T,1)",
     .help = "Replaces the points by [[0, 0], [T, 1]] (T in µs).  Then `schedule pause`,\n"
             "`schedule quench` or point editing change it.",
     .min_pos = 2, .max_pos = 2, .complete = CMD_COMPLETE_WORDS, .words = "forward", .run = run_new},
    {.name = "forward", .usage = "schedule forward T", .summary = "same as `schedule new forward T`",
     .help = "Replaces the schedule by the two points (0, 0) and (T, 1): a linear anneal of T µs.",
     .min_pos = 1, .max_pos = 1, .run = run_forward},
    {.name = "pause", .usage = "schedule pause S_P DURATION",
     .summary = "insert a flat segment at s = S_P lasting DURATION µs",
     .help = "Finds where the schedule first reaches S_P, holds s there for DURATION µs and shifts\n"
             "the rest of the schedule later.  Pausing shortly after the minimum gap lets the\n"
             "state thermalise (samplers-and-metrics.md §4.4).",
     .min_pos = 2, .max_pos = 2, .run = run_pause},
    {.name = "quench", .usage = "schedule quench S_Q [--slope MAX]",
     .summary = "from where s reaches S_Q, ramp to s = 1 as fast as allowed",
     .help = "Replaces the rest of the schedule by a ramp of slope MAX µs⁻¹ (default: the solver's\n"
             "limit 1/min annealing time; end time rounded up to 0.01 µs).",
     .min_pos = 1, .max_pos = 1, .opts = quench_opts, .run = run_quench},
    {.name = "reverse", .usage = "schedule reverse S_TARGET HOLD [--ramp T] [--no-reinit]",
     .summary = "reverse anneal 1 → S_TARGET, hold HOLD µs, back to 1",
     .help = "Starts from a classical state (the sampler's previous samples, or the states given\n"
             "to it) at s = 1.  A target near 1 keeps the state; a low target forgets it.",
     .min_pos = 2, .max_pos = 2, .opts = reverse_opts, .run = run_reverse},
    {.name = "add", .usage = "schedule add T S", .summary = "insert a point (kept in time order)",
     .help = "T >= 0 µs, S in [0, 1]; a point already at time T is an error.  Bad input keeps the\n"
             "schedule as it was; QPU rules are checked by `schedule validate`.",
     .min_pos = 2, .max_pos = 2, .run = run_add},
    {.name = "del", .usage = "schedule del I", .summary = "delete point I (0-based)",
     .help = "Indices are those of `schedule show`; a schedule keeps at least 2 points.",
     .min_pos = 1, .max_pos = 1, .run = run_del},
    {.name = "move", .usage = "schedule move I T S", .summary = "move point I to (T, S)",
     .help = "T >= 0 µs, S in [0, 1]; the points are kept in time order.  Bad input keeps the\n"
             "schedule as it was.",
     .min_pos = 3, .max_pos = 3, .run = run_move},
    {.name = "show", .usage = "schedule show [--png FILE]", .summary = "table, plot, validity and freeze-out estimate",
     .help = "Prints the points, an ASCII plot of s(t), whether the schedule is valid for the\n"
             "chosen solver (`schedule solver`) and the freeze-out estimate s*, β_eff.  --png also\n"
             "writes s(t) as a figure: segments named (ramp, pause, quench, reverse, red where a\n"
             "rule is broken), t in µs, s* dashed.",
     .opts = cmd_sched_show_opts, .run = run_show, .flags = CMD_WHILEJOB},
    {.name = "validate", .usage = "schedule validate [--solver NAME] [--reads N]",
     .summary = "check every rule a QPU enforces (fails when one is broken)",
     .help = "Rules (qpu-protocol.md §2.2–2.4): 2 ≤ points ≤ max_anneal_schedule_points (+1 for\n"
             "reverse), t strictly increasing, first point at t = 0 ((0, 0) for forward), first s\n"
             "0 or 1, last t ≤ max annealing time, last s = 1, forward s never decreases, every\n"
             "slope ≤ 1/min annealing time, reverse needs an initial state, and\n"
             "(T + readout thermalization)·reads + programming thermalization ≤ the run-duration\n"
             "limit.  Each violation names the rule and the point or segment.",
     .max_pos = 0, .opts = validate_opts, .complete = CMD_COMPLETE_SOLVER, .run = run_validate,
     .flags = CMD_WHILEJOB},
    {.name = "save", .usage = "schedule save NAME", .summary = "save as JSON [[t, s], …] in the session's schedules/",
     .help = "NAME of letters, digits, '-', '_' and '.' goes to the session's schedules/NAME.json;\n"
             "a NAME containing '/' is a file path.  The file is written atomically.",
     .min_pos = 1, .max_pos = 1, .complete = CMD_COMPLETE_SCHEDULE, .run = run_save},
    {.name = "load", .usage = "schedule load NAME",
     .summary = "load a saved schedule, a preset (assets/schedules) or a JSON file",
     .help = "Presets: standard (20 µs), pause (mid-anneal pause), quench, reverse.  On any error\n"
             "the current schedule is kept.  A reverse schedule loaded by name starts from the\n"
             "sampler's states (initial state: yes); one loaded from a file path needs\n"
             "`schedule params --initial yes` to validate.",
     .min_pos = 1, .max_pos = 1, .complete = CMD_COMPLETE_SCHEDULE, .run = run_load},
    {.name = "list", .usage = "schedule list", .summary = "presets, saved schedules and shipped solvers",
     .help = "Names `schedule load` and `schedule solver` accept: presets in assets/schedules, the\n"
             "schedules saved in this session, and the solver property files in assets/solvers.",
     .run = run_list, .flags = CMD_WHILEJOB},
    {.name = "solver", .usage = "schedule solver [NAME|default]",
     .summary = "pick the solver whose limits (and physics for sqa) apply",
     .help = "NAME is a property file in assets/solvers (DW_2000Q_5, Advantage_system4.1,\n"
             "Advantage2_system1.5; unique prefixes work) or a path to a SAPI solver JSON.",
     .max_pos = 1, .complete = CMD_COMPLETE_SOLVER, .words = "default", .run = run_solver},
    {.name = "params", .usage = "schedule params [--reads N] [--readout-therm US] [--programming-therm US] [--initial yes|no] [--reinit yes|no]",
     .summary = "run parameters checked with the schedule (reads, thermalization, reverse options)",
     .help = "Without options shows them.  They enter the run-duration limit of `schedule validate`\n"
             "and the reverse-anneal rules (an initial state is required for a reverse anneal).",
     .max_pos = 0, .opts = params_opts, .run = run_params},
    {.name = "hgain", .usage = "schedule hgain off|G|T:G [T:G …]", .summary = "h-gain schedule g(t): h scaled by g, J not",
     .help = "A constant G over the anneal, or points T:G (first T = 0, last = the schedule's end,\n"
             "G within the solver's h_gain_schedule_range).  sqa follows it; qpu sends it.",
     .min_pos = 1, .max_pos = -1, .run = cmd_schedule_hgain},
    {.name = "offset", .usage = "schedule offset clear|Q|A-B [OFFSET]", .summary = "per-qubit anneal offsets",
     .help = "Qubit Q (or A..B) anneals on s(t) + OFFSET: positive advances it (it freezes earlier),\n"
             "negative delays it.  Ranges per qubit come from the solver (anneal_offset_ranges).",
     .min_pos = 1, .max_pos = 2, .run = cmd_schedule_offset},
    {.name = "flux", .usage = "schedule flux clear|Q|A-B [PHI]", .summary = "per-qubit flux biases (Φ0)",
     .help = "An extra longitudinal field −I_p(s) Φ0 PHI σz (sign opposite to h; 1e-4 Φ0 ≈ h = −0.14\n"
             "at s = 0.61 on Advantage_system4.1).  Not with auto_scale on a QPU.",
     .min_pos = 1, .max_pos = 2, .run = cmd_schedule_flux},
    {.name = "fast", .usage = "schedule fast on|off", .summary = "the fast-anneal protocol",
     .help = "Exactly two points, times in fast_anneal_time_range (down to 5 ns), h = 0, no h-gain, no reverse.",
     .min_pos = 1, .max_pos = 1, .complete = CMD_COMPLETE_WORDS, .words = "on|off", .run = cmd_schedule_fast},
    {.name = "try", .usage = "schedule try [--count N] [--beta B]",
     .summary = "sample the prior with this schedule and measure it (kept for the editor)",
     .help = "Runs sqa (or the current qpu sampler) and reports KL* (to the nearest Boltzmann, by\n"
             "enumeration (else the W1 energy distance to a PA reference), β_eff, ⟨E⟩, residual\n"
             "energy and mode coverage; the last 4 results show beside the schedule editor.",
     .max_pos = 0, .opts = cmd_sched_lab_opts, .run = cmd_schedule_try, .flags = CMD_LONG},
    {.name = "scan", .usage = "schedule scan KNOB a:b:step [--count N] [--beta B] [--len US] [--at S] [--hold US] [--png F]",
     .summary = "sweep one knob: pause-s, pause-len, quench-s, reverse-s, offset:A-B, h-gain",
     .help = "One `schedule try` per value on the current schedule: the table and the measure against the knob.",
     .min_pos = 2, .max_pos = 2, .opts = cmd_sched_scan_opts, .run = cmd_schedule_scan, .flags = CMD_LONG},
    {.name = NULL},
};

const struct cmd_entry cmd_schedule_entry = {
    .name = "schedule", .usage = "schedule [new|pause|quench|reverse|add|del|move|show|validate|save|load|list|solver|params|hgain|offset|flux|fast|try|scan] …",
    .summary = "edit the anneal schedule used by sqa and qpu",
    .help = "A schedule is a list of (t µs, s) points, linear in between, as a QPU accepts it.\n"
            "Without a subcommand shows it (like `schedule show`).",
    .sub = schedule_sub, .max_pos = 0, .run = run_show, .flags = CMD_WHILEJOB,
};

/* `sampler beta` is a child of the `sampler` group: cmd_sampler.c lists it with these. */
const struct cmd_opt cmd_sampler_beta_opts[] = {
    {"samples", CMD_OPT_INT, "samples to draw (default 1000)", NULL},
    {"boot", CMD_OPT_INT, "bootstrap replicates (default 100)", NULL},
    {"beta", CMD_OPT_FLOAT, "β asked of the sampler (default 1)", NULL},
    {NULL, 0, NULL, NULL},
};
const char cmd_sampler_beta_help[] =
    "Draws N samples from the prior with the current sampler (and schedule), fits β_eff\n"
    "by maximum pseudo-likelihood with a bootstrap error bar, and prints the freeze-out\n"
    "estimate of the schedule.  A correct classical sampler gives β_eff ≈ β; a physical\n"
    "one (sqa, qpu) shows how well its β_eff rescaling works.";
