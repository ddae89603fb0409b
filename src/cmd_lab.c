/* cmd_lab.c — the sampler lab: `compare` (samplers or anneal schedules side by side on the
 * current prior, measured against a reference: lab_stats.h) and `prior modes` (the prior's local
 * minima, their basin masses and each sampler's tour among them: lab_modes.h; registered in
 * cmd_prior.c's group).  The energy histograms go to the log as text and, as one QV_EV_HIST
 * event, to the workbench's histogram panel; compare_hist() is the one producer of those series
 * (a figure writer takes them from there too). */
#include "cmd.h"
#include "dvae.h"
#include "fig.h"
#include "figs.h"
#include "lab_modes.h"
#include "lab_stats.h"
#include "schedule.h"
#include "session.h"
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAB_MAX_SETS 12     /* samplers or schedules in one comparison */
#define LAB_SEED_SALT 0x1ab0000ULL

/* One compared run: a sampler (and schedule) with its samples and their measures. */
struct cmp_set {
    char name[64];            /* "gibbs", "sqa:pause" */
    struct sampler *smp;      /* owned */
    struct sched *sched;      /* owned, or NULL: the workbench's schedule */
    struct samples s;
    long chains;              /* interleave of s (lab_stats.h), 0 = independent draws */
    struct lab_measures m;
    struct lab_visits v;
};

struct cmp_run {
    const struct bm *bm;      /* the current prior (not owned) */
    double beta;
    long count;
    double min_mass;
    struct lab_ref ref;
    struct lab_modes modes;   /* from the reference samples */
    int nsets;
    struct cmp_set set[LAB_MAX_SETS];
};

static void run_free(struct cmp_run *r)
{
    for (int i = 0; i < r->nsets; i++) {
        sampler_free(r->set[i].smp);
        sched_free(r->set[i].sched);
        samples_free(&r->set[i].s);
        lab_visits_free(&r->set[i].v);
    }
    lab_ref_free(&r->ref);
    lab_modes_free(&r->modes);
    r->nsets = 0;
}

static const struct bm *need_prior(struct qv_app *app, const char *cmd)
{
    if (app->st.prior) return app->st.prior;
    if (app->st.prior_bernoulli_n > 0)
        qv_error(app, "%s: the prior is bernoulli %d (independent units): nothing to compare on; "
                      "create a graph prior with `prior new chimera …`", cmd, app->st.prior_bernoulli_n);
    else
        qv_error(app, "%s: no prior (try `prior new chimera 2 3 4; prior random`)", cmd);
    return NULL;
}

/* A sampler of that name: the current sampler's options when it is the same kind (its chains
 * and estimates are not taken), else the defaults.  NULL with the error reported. */
static struct sampler *lab_sampler(struct qv_app *app, const char *cmd, const char *name,
                                   uint64_t seed)
{
    const struct sampler_vtab *vt = sampler_lookup(name);
    if (!vt) {
        char known[256] = "";
        for (int i = 0; sampler_registry[i]; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     sampler_registry[i]->name);
        qv_error(app, "%s: unknown sampler '%s' (%s)", cmd, name, known);
        return NULL;
    }
    struct sampler *cur = app->st.sampler;
    struct sampler *s = cur && cur->vt == vt ? sampler_clone_config(cur, seed)
                                             : sampler_new(vt->name, seed);
    if (!s) qv_error(app, "%s: %s", cmd, qv_errmsg());
    return s;
}

/* The interleave of a sampler's output (samp_gibbs.c: chains, samp_pt.c: systems); 0 for the
 * samplers whose samples are independent reads or a weighted population. */
static long chain_stride(const struct sampler *s)
{
    const char *key = !strcmp(s->vt->name, "gibbs") ? "chains=" : !strcmp(s->vt->name, "pt") ? "systems=" : NULL;
    if (!key) return 0;
    char desc[512];
    s->vt->describe(s->impl, desc, sizeof desc);
    const char *p = strstr(desc, key);
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* Load a named schedule: a path, else one saved in the session, else a preset (the order of
 * `schedule load`). */
static struct sched *load_named_schedule(struct qv_app *app, const char *name)
{
    char path[4200], dir[4096];
    size_t len = strlen(name);
    bool saved = false;
    if (strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".json"))) {
        snprintf(path, sizeof path, "%s", name);
    } else {
        if (session_current_dir(app, dir, sizeof dir) == 0) {
            snprintf(path, sizeof path, "%s/schedules/%s.json", dir, name);
            saved = qv_file_exists(path);
        }
        if (!saved) snprintf(path, sizeof path, "%s/assets/schedules/%s.json", qv_home(), name);
    }
    if (!qv_file_exists(path)) {
        qv_error(app, "compare: --schedules: no schedule '%s' (not saved in this session, not a "
                      "preset; see `schedule list`)", name);
        return NULL;
    }
    struct sched *s = sched_new();
    if (sched_load_file(s, path)) {
        qv_error(app, "compare: --schedules: %s", qv_errmsg());
        sched_free(s);
        return NULL;
    }
    if (!s->name[0]) snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

/* Split a comma list into at most max words (in buf). */
static int split_list(char *buf, const char **out, int max)
{
    int k = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (k == max) return -1;
        out[k++] = t;
    }
    return k;
}

struct prog_ud { struct qv_app *app; const char *job; };

static void on_progress(void *ud, double done, double total)
{
    const struct prog_ud *p = ud;
    qv_progress(p->app, p->job, done, total, "steps");
}

/* Draw the set's samples and measure them. */
static int run_set(struct qv_app *app, struct cmp_run *r, struct cmp_set *c, uint64_t seed)
{
    struct prog_ud pu = {app, c->name};
    struct sample_ctx ctx = {.progress = on_progress, .ud = &pu, .cancel = &app->cancel,
                             .app = app, .schedule = c->sched};
    samples_init(&c->s);
    if (sampler_sample(c->smp, r->bm, r->beta, r->count, &ctx, &c->s))
        return qv_error(app, "compare: %s: %s", c->name, qv_errmsg());
    c->chains = chain_stride(c->smp);
    if (lab_measure(&r->ref, r->bm, &c->s, c->chains, seed, &c->m) ||
        lab_visits(&c->v, &r->modes, r->bm, &c->s, c->chains, r->min_mass, 0))
        return qv_error(app, "compare: %s: %s", c->name, qv_errmsg());
    return 0;
}

/* The reference: exact when asked or when enumeration is quick, else a long PA run. */
static int make_ref(struct qv_app *app, struct cmp_run *r, const char *kind, int reps,
                    long pa_steps, uint64_t seed)
{
    bool exact = kind ? !strcmp(kind, "exact") : bm_exact_enum_units(r->bm) <= 24;
    int rc;
    if (exact) {
        rc = lab_ref_exact(&r->ref, r->bm, r->beta, r->count, reps, seed, &app->cancel);
    } else {
        struct prog_ud pu = {app, "reference pa"};
        struct logz_opts o = {.population = r->count, .steps = pa_steps, .seed = seed,
                              .cancel = &app->cancel, .progress = on_progress, .ud = &pu};
        rc = lab_ref_pa(&r->ref, r->bm, r->beta, r->count, &o);
    }
    if (rc || lab_modes_from_samples(&r->modes, r->bm, &r->ref.s, 0))
        return qv_error(app, "compare: %s", qv_errmsg());
    return 0;
}

/* ---------------------------------------------------------------- the histogram series */

/* The energy histograms of the reference and every set on common bins: names [1 + nsets] (the
 * reference first), mass [(1 + nsets) × nbins] malloc'ed, bin range [*lo, *hi]. */
static int compare_hist(const struct cmp_run *r, int nbins, double *lo, double *hi,
                        const char **names, double **mass)
{
    const struct samples *sets[LAB_MAX_SETS + 1];
    sets[0] = &r->ref.s;
    names[0] = r->ref.exact ? "exact" : "pa ref";
    for (int i = 0; i < r->nsets; i++) { sets[i + 1] = &r->set[i].s; names[i + 1] = r->set[i].name; }
    *mass = qv_mallocarray((size_t)(r->nsets + 1) * nbins, sizeof(double));
    *lo = *hi = 0;
    if (lab_hist_series(sets, r->nsets + 1, nbins, lo, hi, *mass)) {
        free(*mass);
        *mass = NULL;
        return -1;
    }
    return 0;
}

/* Text form for the log (and --plain / -c): one row per bin, one column per set, each an
 * eighth-block bar scaled to the largest bin of all sets and the fraction. */
static void print_hist(struct qv_app *app, int nsets, int nbins, double lo, double hi,
                       const char **names, const double *mass)
{
    static const char *const eighth[9] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"};
    const int bar = 5;   /* cells per bar */
    double top = 0;
    for (long k = 0; k < (long)nsets * nbins; k++) top = fmax(top, mass[k]);
    char line[1024];
    int o = snprintf(line, sizeof line, "  %9s ", "E");
    for (int i = 0; i < nsets; i++) o += snprintf(line + o, sizeof line - (size_t)o, " %-12.12s", names[i]);
    qv_printf(app, "%s", line);
    for (int b = 0; b < nbins; b++) {
        o = snprintf(line, sizeof line, "  %9.3f ", lo + (b + 0.5) * (hi - lo) / nbins);
        for (int i = 0; i < nsets && o < (int)sizeof line - 64; i++) {
            double v = mass[(size_t)i * nbins + b];
            int units = top > 0 ? (int)lround(v / top * bar * 8) : 0;
            o += snprintf(line + o, sizeof line - (size_t)o, " ");
            for (int c = 0; c < bar; c++) {
                int u = units - c * 8;
                o += snprintf(line + o, sizeof line - (size_t)o, "%s", eighth[u <= 0 ? 0 : u >= 8 ? 8 : u]);
            }
            o += snprintf(line + o, sizeof line - (size_t)o, " %5.3f ", v);
        }
        qv_printf(app, "%s", line);
    }
}

/* The series to the front end: QV_EV_HIST (app.h). */
static void emit_hist(struct qv_app *app, const char *title, int nsets, int nbins, double lo,
                      double hi, const char **names, const double *mass)
{
    float *v = qv_mallocarray((size_t)nsets * nbins, sizeof(float));
    for (long k = 0; k < (long)nsets * nbins; k++) v[k] = (float)mass[k];
    char joined[512] = "";
    for (int i = 0; i < nsets; i++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "," : "", names[i]);
    struct qv_event ev = {.kind = QV_EV_HIST, .job = title, .unit = joined, .n = nsets,
                          .w = nbins, .values = v, .done = lo, .total = hi};
    qv_emit(app, &ev);
    free(v);
}

/* ---------------------------------------------------------------- compare: the table */

static void fmt_num(char *buf, size_t n, const char *fmt, double v)
{
    if (isnan(v)) snprintf(buf, n, "-");
    else snprintf(buf, n, fmt, v);
}

static void print_table(struct qv_app *app, const struct cmp_run *r)
{
    const struct lab_ref *f = &r->ref;
    long major = lab_modes_major(&r->modes, r->min_mass, NULL);
    if (f->exact)
        qv_printf(app, "reference: exact, log Z %.6f; an exact sampler's own KL at %ld samples "
                       "%.4g ± %.2g, TV %.4g (mean of %d draws: subtracted as excess; %.2f s)",
                  f->logz, f->count, f->kl0, f->kl0_sd, f->tv0, f->reps, f->seconds);
    else
        qv_printf(app, "reference: population annealing, log Z %.6f ± %.3g, %ld weighted samples "
                       "(no KL/TV: the prior is not enumerable; %.2f s)", f->logz, f->logz_err,
                  f->s.count, f->seconds);
    qv_printf(app, "modes: %ld minima in the reference samples, %ld holding >= %g of the mass",
              r->modes.nmodes, major, r->min_mass);
    qv_printf(app, "%-12s %8s %8s %7s %7s %10s %8s %8s %12s %8s %7s %7s %9s %8s", "sampler", "KL",
              "xsKL", "TV", "xsTV", "E mean", "E std", "W1", "beta_eff", "resid", "modes", "tau_E",
              "ESS/s", "wall s");
    for (int i = 0; i < r->nsets; i++) {
        const struct lab_measures *m = &r->set[i].m;
        char kl[16], xkl[16], tv[16], xtv[16], be[32], tau[16], ess[16], cov[16];
        fmt_num(kl, sizeof kl, "%.4f", m->kl);
        fmt_num(xkl, sizeof xkl, "%+.4f", m->kl_excess);
        fmt_num(tv, sizeof tv, "%.3f", m->tv);
        fmt_num(xtv, sizeof xtv, "%+.3f", m->tv_excess);
        if (isnan(m->beta_err)) fmt_num(be, sizeof be, "%.4g", m->beta_eff);
        else snprintf(be, sizeof be, "%.3f±%.3f", m->beta_eff, m->beta_err);
        fmt_num(tau, sizeof tau, "%.2f", m->tau);
        fmt_num(ess, sizeof ess, "%.3g", m->ess_per_s);
        snprintf(cov, sizeof cov, "%ld/%ld", r->set[i].v.covered, r->set[i].v.major);
        qv_printf(app, "%-12.12s %8s %8s %7s %7s %10.4f %8.4f %8.4f %12s %8.4f %7s %7s %9s %8.3f",
                  r->set[i].name, kl, xkl, tv, xtv, m->e_mean, m->e_sd, m->w1, be, m->resid, cov,
                  tau, ess, m->seconds);
    }
    qv_printf(app, "KL, TV: empirical vs exact over full states; xs: minus the exact sampler's at "
                   "this count.  W1: energy distance to the reference.  resid: lowest energy minus "
                   "the best of all.  modes: major modes visited.  tau_E: integrated autocorrelation "
                   "of the energy (Sokal window; 1 = independent reads).");
}

/* ---------------------------------------------------------------- compare */

/* Parse the shared numbers: count, beta, min-mass.  -1 with the error reported. */
static int lab_numbers(struct qv_app *app, const struct cmd_args *a, const char *cmd, long def_count,
                       long *count, double *beta, double *min_mass)
{
    *count = cmd_int(a, "count", def_count);
    if (*count <= 0 || *count > 10000000)
        return qv_error(app, "%s: --count must be an integer in 1..10000000, got %ld", cmd, *count);
    *beta = cmd_float(a, "beta", 1.0);
    if (!isfinite(*beta) || *beta < 0)
        return qv_error(app, "%s: --beta must be a finite number >= 0, got %g", cmd, *beta);
    *min_mass = cmd_float(a, "min-mass", 0.01);
    if (!(*min_mass > 0 && *min_mass <= 1))
        return qv_error(app, "%s: --min-mass must be in (0, 1], got %g", cmd, *min_mass);
    return 0;
}

/* The sets to run: one per sampler named, or one per schedule (sqa or qpu). */
static int build_sets(struct qv_app *app, const struct cmd_args *a, struct cmp_run *r)
{
    uint64_t seed = sampler_seed(app->st.seed) ^ LAB_SEED_SALT;
    const char *sch = cmd_str(a, "schedules", NULL);
    if (!sch) {
        if (a->npos == 0)
            return qv_error(app, "compare: name the samplers (e.g. `compare gibbs pt pa sqa`) or "
                                 "give --schedules a,b");
        if (a->npos > LAB_MAX_SETS) return qv_error(app, "compare: at most %d samplers", LAB_MAX_SETS);
        for (int i = 0; i < a->npos; i++) {
            struct cmp_set *c = &r->set[r->nsets];
            if (!(c->smp = lab_sampler(app, "compare", a->pos[i], seed + (uint64_t)i))) return -1;
            r->nsets++;
            snprintf(c->name, sizeof c->name, "%s", c->smp->vt->name);
        }
        return 0;
    }
    if (a->npos > 1) return qv_error(app, "compare: --schedules runs one sampler (sqa or qpu)");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", sch);
    const char *names[LAB_MAX_SETS];
    int k = split_list(buf, names, LAB_MAX_SETS);
    if (k < 1) return qv_error(app, "compare: --schedules: give 1 to %d names, comma-separated", LAB_MAX_SETS);
    for (int i = 0; i < k; i++) {
        struct cmp_set *c = &r->set[r->nsets];
        if (!(c->smp = lab_sampler(app, "compare", a->npos ? a->pos[0] : "sqa", seed + (uint64_t)i))) return -1;
        r->nsets++;
        if (strcmp(c->smp->vt->name, "sqa") && strcmp(c->smp->vt->name, "qpu"))
            return qv_error(app, "compare: --schedules: %s does not follow a schedule (sqa or qpu)",
                            c->smp->vt->name);
        if (!(c->sched = load_named_schedule(app, names[i]))) return -1;
        snprintf(c->name, sizeof c->name, "%s:%s", c->smp->vt->name, names[i]);
    }
    return 0;
}

/* --png: the histograms overlaid beside each sampler's excess KL (W1 without an exact reference). */
static int compare_png(struct qv_app *app, const struct cmp_run *r, const char *png, int nbins,
                       double lo, double hi, const char **names, const double *mass)
{
    double score[LAB_MAX_SETS];
    for (int i = 0; i < r->nsets; i++) score[i] = r->ref.exact ? r->set[i].m.kl_excess : r->set[i].m.w1;
    const char *what = r->ref.exact ? "excess KL" : "W1 of the energies";
    char title[320];
    snprintf(title, sizeof title, "compare: %ld samples each at beta %g — %.160s", r->count, r->beta,
             app->st.prior_desc[0] ? app->st.prior_desc : r->bm->g->desc);
    if (figs_compare(names, r->nsets + 1, nbins, lo, hi, mass, score, what, title, png))
        return qv_error(app, "compare: --png: %s", qv_errmsg());
    qv_printf(app, "compare: wrote the histograms and %s per sampler to %s", what, png);
    return 0;
}

static int run_compare(struct qv_app *app, const struct cmd_args *a)
{
    const struct bm *bm = need_prior(app, "compare");
    if (!bm) return -1;
    struct cmp_run *r = qv_calloc(1, sizeof *r);
    lab_ref_init(&r->ref);
    lab_modes_init(&r->modes);
    r->bm = bm;
    long reps = cmd_int(a, "reps", 3), bins = cmd_int(a, "bins", 16), steps = cmd_int(a, "ref-steps", 1000);
    int rc = lab_numbers(app, a, "compare", 10000, &r->count, &r->beta, &r->min_mass);
    if (!rc && (reps < 1 || reps > 100 || bins < 2 || bins > 200 || steps < 1))
        rc = qv_error(app, "compare: --reps must be in 1..100, --bins in 2..200, --ref-steps >= 1");
    if (!rc) rc = build_sets(app, a, r);
    uint64_t seed = sampler_seed(app->st.seed) ^ (LAB_SEED_SALT + 0x100);
    if (!rc) rc = make_ref(app, r, cmd_str(a, "ref", NULL), (int)reps, steps, seed);
    for (int i = 0; !rc && i < r->nsets; i++) {
        if (qv_cancelled(app)) rc = qv_error(app, "compare: cancelled");
        else rc = run_set(app, r, &r->set[i], seed + 1 + (uint64_t)i);
    }
    if (!rc) {
        struct lab_measures all[LAB_MAX_SETS];
        for (int i = 0; i < r->nsets; i++) all[i] = r->set[i].m;
        double ref_min;
        samples_energy_stats(&r->ref.s, NULL, NULL, &ref_min, NULL);
        lab_resid(all, r->nsets, ref_min);
        for (int i = 0; i < r->nsets; i++) r->set[i].m.resid = all[i].resid;
        qv_printf(app, "compare: %d run%s x %ld samples of %s (%d units) at beta %g", r->nsets,
                  r->nsets == 1 ? "" : "s", r->count,
                  app->st.prior_desc[0] ? app->st.prior_desc : bm->g->desc, bm->n, r->beta);
        print_table(app, r);
        const char *names[LAB_MAX_SETS + 1];
        double lo, hi, *mass;
        if (compare_hist(r, (int)bins, &lo, &hi, names, &mass)) {
            rc = qv_error(app, "compare: %s", qv_errmsg());
        } else {
            qv_printf(app, "energy histograms (fraction of samples per bin):");
            print_hist(app, r->nsets + 1, (int)bins, lo, hi, names, mass);
            emit_hist(app, "compare", r->nsets + 1, (int)bins, lo, hi, names, mass);
            const char *png = cmd_str(a, "png", NULL);
            if (png) rc = compare_png(app, r, png, (int)bins, lo, hi, names, mass);
            free(mass);
        }
    }
    run_free(r);
    free(r);
    return rc;
}

static const struct cmd_opt compare_opts[] = {
    {"count", CMD_OPT_INT, "samples per sampler (and per exact reference draw; default 10000)", NULL},
    {"beta", CMD_OPT_FLOAT, "inverse temperature of the target distribution (default 1)", NULL},
    {"ref", CMD_OPT_STR, "reference: exact enumeration (default when it enumerates <= 2^24 states) or a long PA run", "exact|pa"},
    {"schedules", CMD_OPT_LIST, "compare these anneal schedules (saved or preset names) with sqa or qpu", NULL},
    {"reps", CMD_OPT_INT, "exact draws of --count averaged for the exact sampler's own KL (default 3)", NULL},
    {"ref-steps", CMD_OPT_INT, "beta steps of the PA reference (default 1000)", NULL},
    {"bins", CMD_OPT_INT, "energy histogram bins (default 16)", NULL},
    {"min-mass", CMD_OPT_FLOAT, "basin mass that makes a mode major, for mode coverage (default 0.01)", NULL},
    {"png", CMD_OPT_PATH, "write the histograms and each sampler's excess KL (or W1) as a PNG", NULL},
    {NULL, 0, NULL, NULL},
};

const struct cmd_entry cmd_compare_entry = {
    .name = "compare",
    .usage = "compare [SAMPLER …] [--count N] [--beta B] [--ref exact|pa] [--schedules a,b,c] [--png F]",
    .summary = "run samplers or anneal schedules side by side on the prior and measure them",
    .help = "Each sampler (or each schedule, with sqa or qpu) draws --count samples of the current\n"
            "prior at --beta; one table compares them against a reference: exact enumeration when\n"
            "the prior is enumerable (KL and TV over full states, and the same minus an exact\n"
            "sampler's own at that count), else a long population-annealing run (log Z ± error).\n"
            "Columns: energy mean/std, Wasserstein-1 distance of the energies to the reference,\n"
            "fitted beta_eff, residual energy, major modes visited, energy autocorrelation time and\n"
            "effective samples per second, wall time.  The energy histograms are printed and drawn\n"
            "in the hist panel.  A sampler of the current sampler's kind uses its options.",
    .min_pos = 0, .max_pos = LAB_MAX_SETS, .opts = compare_opts, .complete = CMD_COMPLETE_SAMPLER,
    .run = run_compare, .flags = CMD_LONG,
};

/* ---------------------------------------------------------------- prior modes */

/* The mode table: exact basins when --from exact and the prior is small enough, else estimated
 * from --count samples of the reference sampler (exact when enumerable, else pa). */
static int modes_table(struct qv_app *app, const struct cmd_args *a, const struct bm *bm,
                       double beta, long count, struct lab_modes *m, const char **how)
{
    const char *from = cmd_str(a, "from", bm_exact_enum_units(bm) <= BM_EXACT_MAX ? "exact" : "pa");
    uint64_t seed = sampler_seed(app->st.seed) ^ (LAB_SEED_SALT + 0x200);
    const struct sampler_vtab *vt = sampler_lookup(from);
    if (vt && !strcmp(vt->name, "exact") && bm->n <= LAB_MODES_EXACT_MAX) {
        *how = "exact basins (every state descended)";
        if (lab_modes_exact(m, bm, beta, 0)) return qv_error(app, "prior modes: %s", qv_errmsg());
        return 0;
    }
    struct sampler *s = lab_sampler(app, "prior modes", from, seed);
    if (!s) return -1;
    struct samples smp;
    samples_init(&smp);
    struct prog_ud pu = {app, "modes"};
    struct sample_ctx ctx = {.progress = on_progress, .ud = &pu, .cancel = &app->cancel, .app = app};
    int rc = sampler_sample(s, bm, beta, count, &ctx, &smp);
    if (!rc) rc = lab_modes_from_samples(m, bm, &smp, 0);
    if (rc) qv_error(app, "prior modes: %s: %s", s->vt->name, qv_errmsg());
    *how = s->vt->name;
    samples_free(&smp);
    sampler_free(s);
    return rc;
}

/* Per sampler of --samplers: its visits to the table's modes and its hops between basins. */
static int modes_visits(struct qv_app *app, const struct cmd_args *a, const struct bm *bm,
                        double beta, long count, double min_mass, const struct lab_modes *m,
                        struct cmp_set *sets, int *nsets)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", cmd_str(a, "samplers", "gibbs,pt"));
    const char *names[LAB_MAX_SETS];
    int k = split_list(buf, names, LAB_MAX_SETS);
    if (k < 0) return qv_error(app, "prior modes: --samplers: at most %d", LAB_MAX_SETS);
    uint64_t seed = sampler_seed(app->st.seed) ^ (LAB_SEED_SALT + 0x300);
    for (int i = 0; i < k; i++) {
        struct cmp_set *c = &sets[i];
        if (!(c->smp = lab_sampler(app, "prior modes", names[i], seed + (uint64_t)i))) return -1;
        *nsets = i + 1;
        snprintf(c->name, sizeof c->name, "%s", c->smp->vt->name);
        struct prog_ud pu = {app, c->name};
        struct sample_ctx ctx = {.progress = on_progress, .ud = &pu, .cancel = &app->cancel, .app = app};
        if (sampler_sample(c->smp, bm, beta, count, &ctx, &c->s))
            return qv_error(app, "prior modes: %s: %s", c->name, qv_errmsg());
        c->chains = chain_stride(c->smp);
        if (lab_visits(&c->v, m, bm, &c->s, c->chains, min_mass, 0))
            return qv_error(app, "prior modes: %s: %s", c->name, qv_errmsg());
    }
    return 0;
}

static void print_modes(struct qv_app *app, const struct lab_modes *m, double min_mass, long top,
                        const struct cmp_set *sets, int nsets)
{
    double major_mass;
    long major = lab_modes_major(m, min_mass, &major_mass);
    qv_printf(app, "  %4s %11s %8s %8s %6s", "#", "energy", "mass", "± err", "on");
    char line[1024];
    for (long k = 0; k < m->nmodes && k < top; k++) {
        long on = 0;
        for (int i = 0; i < m->n; i++) on += m->z[(size_t)k * m->n + i];
        int o = snprintf(line, sizeof line, "  %4ld %11.4f %8.4f %8.4f %6ld", k + 1, m->energy[k],
                         m->mass[k], m->mass_err[k], on);
        for (int i = 0; i < nsets && o < (int)sizeof line - 32; i++)
            o += snprintf(line + o, sizeof line - (size_t)o, "  %s %.4f", sets[i].name, sets[i].v.frac[k]);
        qv_printf(app, "%s", line);
    }
    if (m->nmodes > top) qv_printf(app, "  … %ld more (--top)", m->nmodes - top);
    qv_printf(app, "modes holding >= %g of the mass: %ld of %ld, together %.4f", min_mass, major,
              m->nmodes, major_mass);
    for (int i = 0; i < nsets; i++) {
        const struct lab_visits *v = &sets[i].v;
        char hops[128] = "independent draws: no chains to tunnel along";
        if (v->steps > 0)
            snprintf(hops, sizeof hops, "hops between basins %ld in %ld chain steps (%.3g per step)",
                     v->hops, v->steps, (double)v->hops / (double)v->steps);
        qv_printf(app, "  %-8s visits %ld of %ld major modes (reference mass %.4f); %.4f of its "
                       "samples elsewhere; %s", sets[i].name, v->covered, v->major, v->covered_mass,
                  v->frac[v->nmodes], hops);
    }
}

int cmd_prior_modes(struct qv_app *app, const struct cmd_args *a)
{
    const struct bm *bm = need_prior(app, "prior modes");
    if (!bm) return -1;
    long count, top = cmd_int(a, "top", 20);
    double beta, min_mass;
    if (lab_numbers(app, a, "prior modes", 10000, &count, &beta, &min_mass)) return -1;
    if (top < 1) return qv_error(app, "prior modes: --top must be a positive integer, got %ld", top);
    const char *digits = cmd_str(a, "digits", NULL);
    if (digits && !app->st.model)
        return qv_error(app, "prior modes: --digits: no model to decode the modes (`model new`, `train`)");
    if (digits && app->st.model->cfg.n != bm->n)
        return qv_error(app, "prior modes: --digits: the model has %d latents, the prior %d units",
                        app->st.model->cfg.n, bm->n);
    struct lab_modes m;
    lab_modes_init(&m);
    const char *how = "";
    struct cmp_set *sets = qv_calloc(LAB_MAX_SETS, sizeof *sets);
    int nsets = 0;
    int rc = modes_table(app, a, bm, beta, count, &m, &how);
    if (!rc) rc = modes_visits(app, a, bm, beta, count, min_mass, &m, sets, &nsets);
    if (!rc) {
        qv_printf(app, "prior modes: %ld local minima (steepest single flips, ties to the lowest "
                       "unit) of %s at beta %g; masses from %s%s", m.nmodes,
                  app->st.prior_desc[0] ? app->st.prior_desc : bm->g->desc, beta, how,
                  m.exact ? "" : " samples");
        print_modes(app, &m, min_mass, top, sets, nsets);
    }
    const char *png = cmd_str(a, "png", NULL);
    if (!rc && png) {
        char title[320];
        snprintf(title, sizeof title, "modes of %.160s at beta %g (masses from %s)",
                 app->st.prior_desc[0] ? app->st.prior_desc : bm->g->desc, beta, how);
        if (figs_modes(m.energy, m.mass, m.mass_err, m.nmodes, min_mass, title, png))
            rc = qv_error(app, "prior modes: --png: %s", qv_errmsg());
        else
            qv_printf(app, "prior modes: wrote the mode masses against energy to %s", png);
    }
    if (!rc && digits) {
        long show = QV_MAX(1L, QV_MIN(lab_modes_major(&m, min_mass, NULL), top));
        float *img;
        int cnt, h, w;
        rc = train_decode_images(app, m.z, QV_MIN(show, (long)FIG_MAX_PANELS), &img, &cnt, &h, &w);
        if (!rc) {
            char title[320];
            snprintf(title, sizeof title, "what each mode of %.150s draws (masses from %s)",
                     app->st.prior_desc[0] ? app->st.prior_desc : bm->g->desc, how);
            if (figs_mode_digits(img, cnt, h, w, m.energy, m.mass, m.mass_err, title, digits))
                rc = qv_error(app, "prior modes: --digits: %s", qv_errmsg());
            else
                qv_printf(app, "prior modes: the %d heaviest modes decoded by the model, heaviest first, "
                               "written to %s", cnt, digits);
            free(img);
        }
    }
    for (int i = 0; i < nsets; i++) {
        sampler_free(sets[i].smp);
        samples_free(&sets[i].s);
        lab_visits_free(&sets[i].v);
    }
    free(sets);
    lab_modes_free(&m);
    return rc;
}

const struct cmd_opt cmd_prior_modes_opts[] = {
    {"from", CMD_OPT_STR, "reference sampler for the masses (default exact when enumerable, else pa)", NULL},
    {"count", CMD_OPT_INT, "samples of the reference and of each sampler compared (default 10000)", NULL},
    {"beta", CMD_OPT_FLOAT, "inverse temperature (default 1)", NULL},
    {"min-mass", CMD_OPT_FLOAT, "basin mass that makes a mode major (default 0.01)", NULL},
    {"samplers", CMD_OPT_LIST, "samplers whose visits and tunnelling are counted (default gibbs,pt)", NULL},
    {"top", CMD_OPT_INT, "modes listed (default 20)", NULL},
    {"digits", CMD_OPT_PATH, "decode the major modes with the model: one titled panel per mode (energy, mass) in a PNG", NULL},
    {"png", CMD_OPT_PATH, "write the modes (basin mass against energy, major ones marked) as a PNG", NULL},
    {NULL, 0, NULL, NULL},
};

const char cmd_prior_modes_help[] =
    "Descends from every reference sample by steepest single flips (ties: the lowest unit) to a\n"
    "local minimum; the basin masses are the fractions of samples per minimum (± binomial error),\n"
    "or exact when --from exact and the prior has at most 22 units (all 2^n states descended).\n"
    "For each of --samplers: the fraction of its samples per mode, the major modes it visits,\n"
    "and its hops between basins along each chain (tunnelling).  With a trained model, --digits\n"
    "F.png decodes each major mode into a digit image; --png F draws the modes' masses against\n"
    "their energies.";
