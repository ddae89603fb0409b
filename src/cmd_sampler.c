/* cmd_sampler.c — the `sampler` command group (use, set, info, list, reset, check) and the
 * top-level `sample N` command.  The current sampler lives in app->st.sampler; sampler_current()
 * (sampler_sess.c, with the session section) creates the default on first use. */
#include "cmd.h"
#include "ocean.h"
#include "sampler.h"
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void state_changed(struct qv_app *app)
{
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
}

static void print_info(struct qv_app *app, const struct sampler *s)
{
    char desc[1024];
    s->vt->describe(s->impl, desc, sizeof desc);
    qv_printf(app, "sampler %s — %s", s->vt->name, s->vt->summary);
    qv_printf(app, "  options: %s", desc);
    for (int i = 0; s->vt->keys && s->vt->keys[i]; i++)
        qv_printf(app, "  --%-16s %s", s->vt->keys[i], s->vt->key_help ? s->vt->key_help[i] : "");
}

/* ---------------------------------------------------------------- sampler use / set */

/* Every option any registered sampler accepts (the parser needs them declared), built from the
 * samplers' own key lists before main() runs — the command table is static, and a sampler added
 * to the registry brings its keys with it.  Each key's help names the samplers that accept it
 * and gives the first one's line; the sampler itself then rejects keys it does not know, naming
 * the ones it accepts. */
#define USE_OPTS_MAX 64
static struct cmd_opt use_opts[USE_OPTS_MAX + 1];
static char use_help[USE_OPTS_MAX][192];

__attribute__((constructor)) static void use_opts_build(void)
{
    int n = 0;
    for (int r = 0; sampler_registry[r]; r++) {
        const struct sampler_vtab *vt = sampler_registry[r];
        for (int k = 0; vt->keys && vt->keys[k]; k++) {
            int i = 0;
            while (i < n && strcmp(use_opts[i].name, vt->keys[k])) i++;
            if (i == n) {
                if (n == USE_OPTS_MAX) return;   /* test_sampler_iface checks every key is here */
                use_opts[n] = (struct cmd_opt){vt->keys[k], CMD_OPT_STR, use_help[n], NULL};
                snprintf(use_help[n], sizeof use_help[n], "%s: %s", vt->name,
                         vt->key_help ? vt->key_help[k] : "");
                n++;
                continue;
            }
            /* "gibbs: help" → "gibbs, pt: help" */
            char *colon = strstr(use_help[i], ": ");
            char rest[192];
            snprintf(rest, sizeof rest, "%s", colon ? colon : "");
            *colon = 0;
            size_t o = strlen(use_help[i]);
            snprintf(use_help[i] + o, sizeof use_help[i] - o, ", %s%s", vt->name, rest);
        }
    }
}

static int run_use(struct qv_app *app, const struct cmd_args *a)
{
    struct sampler *s = sampler_new(a->pos[0], sampler_seed(app->st.seed));
    if (!s) return qv_error(app, "sampler use: %s", qv_errmsg());
    for (int i = 0; i < a->nopt; i++)
        if (sampler_set(s, a->opt[i].opt->name, a->opt[i].val)) {
            sampler_free(s);
            return qv_error(app, "sampler use: %s", qv_errmsg());
        }
    sampler_free(app->st.sampler);   /* only now: a failed `use` keeps the old sampler */
    app->st.sampler = s;
    char desc[1024];
    s->vt->describe(s->impl, desc, sizeof desc);
    qv_printf(app, "sampler %s: %s", s->vt->name, desc);
    state_changed(app);
    return 0;
}

static int run_set(struct qv_app *app, const struct cmd_args *a)
{
    if (a->npos % 2)
        return qv_error(app, "sampler set: needs KEY VALUE pairs, got %d words", a->npos);
    struct sampler *s = sampler_current(app);
    /* validate on a copy first so that a bad pair leaves the sampler unchanged */
    struct sampler *c = sampler_clone_config(s, s->seed);
    if (!c) return qv_error(app, "sampler set: %s", qv_errmsg());
    for (int i = 0; i < a->npos; i += 2)
        if (sampler_set(c, a->pos[i], a->pos[i + 1])) {
            sampler_free(c);
            return qv_error(app, "sampler set: %s", qv_errmsg());
        }
    sampler_free(c);
    for (int i = 0; i < a->npos; i += 2) sampler_set(s, a->pos[i], a->pos[i + 1]);
    char desc[1024];
    s->vt->describe(s->impl, desc, sizeof desc);
    qv_printf(app, "sampler %s: %s", s->vt->name, desc);
    state_changed(app);
    return 0;
}

static int run_info(struct qv_app *app, const struct cmd_args *a)
{
    print_info(app, sampler_current(app));
    return 0;
}

static int run_list(struct qv_app *app, const struct cmd_args *a)
{
    const char *cur = app->st.sampler ? app->st.sampler->vt->name : "";
    for (int i = 0; sampler_registry[i]; i++)
        qv_printf(app, "%c %-8s %s", strcmp(cur, sampler_registry[i]->name) ? ' ' : '*',
                  sampler_registry[i]->name, sampler_registry[i]->summary);
    return 0;
}

static int run_reset(struct qv_app *app, const struct cmd_args *a)
{
    struct sampler *s = sampler_current(app);
    s->vt->reset(s->impl);
    qv_printf(app, "sampler %s: persistent state dropped", s->vt->name);
    return 0;
}

/* ---------------------------------------------------------------- sampler check */

/* Plug-in KL(q̂‖p) and total variation of the (weighted) histogram of z against p [2^n]. */
static void hist_kl_tv(int n, const double *p, const struct samples *smp, double *kl, double *tv)
{
    size_t ns = (size_t)1 << n;
    double *q = qv_calloc(ns, sizeof *q);
    double *w = qv_mallocarray((size_t)smp->count + 1, sizeof *w);
    samples_weights(smp, w);
    double tot = 0;
    for (long s = 0; s < smp->count; s++) {
        size_t x = 0;
        for (int i = 0; i < n; i++) x |= (size_t)smp->z[(size_t)s * n + i] << i;
        q[x] += w[s];
        tot += w[s];
    }
    free(w);
    double k = 0, t = 0;
    for (size_t x = 0; x < ns; x++) {
        double qq = q[x] / tot;
        if (qq > 0 && p[x] > 0) k += qq * log(qq / p[x]);
        else if (qq > 0) k = INFINITY;
        t += fabs(qq - p[x]);
    }
    free(q);
    *kl = k;
    *tv = t / 2;
}

/* The check model: a random connected cut of `units` units of the current prior's graph with
 * the prior's parameters, or random parameters on C(1,1,4) (8 units) when there is no prior. */
static struct bm *check_model(struct qv_app *app, int units, uint64_t seed, char *what, size_t wn)
{
    const struct bm *pr = app->st.prior;
    if (!pr || pr->n <= units) {
        if (pr) {
            struct bm *c = bm_clone(pr);
            snprintf(what, wn, "the whole prior (%s, %d units)", pr->g->desc, pr->n);
            return c;
        }
        struct bm *bm = bm_new(graph_chimera(1, 1, 4));
        if (!bm || bm_random(bm, 1.0, seed)) {
            bm_free(bm);
            return NULL;
        }
        snprintf(what, wn, "C(1,1,4) with random parameters (scale 1; no prior)");
        return bm;
    }
    struct graph *sub = graph_random_connected_subgraph(pr->g, units, seed);
    if (!sub) return NULL;
    struct bm *bm = bm_new(sub);
    if (!bm) return NULL;
    int *orig = qv_mallocarray((size_t)bm->n, sizeof *orig);
    for (int i = 0; i < bm->n; i++) {
        orig[i] = graph_find_label(pr->g, sub->label[i]);
        bm->b[i] = orig[i] >= 0 ? pr->b[orig[i]] : 0;
    }
    for (long k = 0; k < bm->ne; k++) {
        int u = orig[sub->edges[k][0]], v = orig[sub->edges[k][1]];
        long e = u >= 0 && v >= 0 ? graph_edge_index(pr->g, u, v) : -1;
        bm->w[k] = e >= 0 ? pr->w[e] : 0;
    }
    free(orig);
    snprintf(what, wn, "a random connected cut of %d units of %s (prior's parameters)", bm->n,
             pr->g->desc);
    return bm;
}

struct prog_ud {
    struct qv_app *app;
    const char *job;
    const char *unit;
};

static void on_progress(void *ud, double done, double total)
{
    struct prog_ud *p = ud;
    qv_progress(p->app, p->job, done, total, p->unit);
}

static int run_check(struct qv_app *app, const struct cmd_args *a)
{
    double beta = cmd_float(a, "beta", 1.0);
    long N = cmd_int(a, "samples", 100000);
    long units = cmd_int(a, "units", 12);
    if (!isfinite(beta) || beta < 0)
        return qv_error(app, "sampler check: --beta must be a finite number >= 0, got %g", beta);
    if (N < 1 || N > 100000000)
        return qv_error(app, "sampler check: --samples must be in 1..100000000, got %ld", N);
    if (units < 2 || units > 20)
        return qv_error(app, "sampler check: --units must be in 2..20, got %ld", units);
    struct sampler *cur = sampler_current(app);
    uint64_t seed = (uint64_t)cmd_int(a, "seed", (long)(app->st.seed & 0x7fffffff));
    char what[256];
    struct bm *bm = check_model(app, (int)units, seed, what, sizeof what);
    if (!bm) return qv_error(app, "sampler check: %s", qv_errmsg());
    if (bm->n > 20) {
        bm_free(bm);
        return qv_error(app, "sampler check: the prior has %d units; too many to enumerate", bm->n);
    }
    /* a fresh copy: the check must not disturb the current sampler's persistent chains */
    struct sampler *s = sampler_clone_config(cur, cur->seed ^ 0xC4ECull);
    if (!s) {
        bm_free(bm);
        return qv_error(app, "sampler check: %s", qv_errmsg());
    }
    size_t ns = (size_t)1 << bm->n;
    double *p = qv_mallocarray(ns, sizeof *p);
    uint8_t *zi = qv_malloc((size_t)N * (size_t)bm->n);
    struct samples out;
    samples_init(&out);
    struct prog_ud pu = {app, "sample", "sweeps"};
    struct sample_ctx ctx = {.progress = on_progress, .ud = &pu, .cancel = &app->cancel, .app = app};
    int rc = bm_probs_exact(bm, beta, p);
    struct rng r;
    rng_init(&r, seed, 0xC4EC);
    if (!rc) rc = bm_sample_exact(bm, beta, N, &r, zi);
    if (!rc) rc = sampler_sample(s, bm, beta, N, &ctx, &out);
    if (rc) {
        rc = qv_error(app, "sampler check: %s", qv_errmsg());
    } else {
        double kl, tv, kl0, tv0;
        hist_kl_tv(bm->n, p, &out, &kl, &tv);
        const struct samples iid = {.n = bm->n, .count = N, .z = zi};   /* unweighted */
        hist_kl_tv(bm->n, p, &iid, &kl0, &tv0);
        qv_printf(app, "sampler check: %s vs exact enumeration on %s, beta %g, %ld samples",
                  s->vt->name, what, beta, N);
        qv_printf(app, "  KL(empirical || exact) %.5f   total variation %.5f   (%.2f s)", kl, tv,
                  out.seconds);
        qv_printf(app, "  exact i.i.d. draws, same count: KL %.5f   TV %.5f", kl0, tv0);
        qv_printf(app, "  excess over i.i.d. (the sampler's own error): KL %+.5f   TV %+.5f  %s",
                  kl - kl0, tv - tv0, kl - kl0 < 0.01 ? "ok" : "POOR");
        if (out.info[0]) qv_printf(app, "  %s", out.info);
    }
    samples_free(&out);
    free(zi);
    free(p);
    sampler_free(s);
    bm_free(bm);
    return rc;
}

/* ---------------------------------------------------------------- sample N */

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* `sample … --export F.json [--binary]`: the states as a dimod SampleSet (ocean.h), with their
 * energies E(z) — the energies of the BQM `prior export --format …` writes. */
static int export_samples(struct qv_app *app, const struct bm *bm, const struct samples *s,
                          const struct cmd_args *a)
{
    const char *path = cmd_str(a, "export", "");
    enum ocean_vartype vt = cmd_has(a, "binary") ? OCEAN_BINARY : OCEAN_SPIN;
    char *txt = NULL;
    size_t len;
    if (ocean_sampleset_format(bm->g->label, s->n, s->z, s->count, s->energy, s->logw, vt, &txt, &len) ||
        qv_write_file_atomic(path, txt, len)) {
        free(txt);
        return qv_error(app, "sample: --export: %s", qv_errmsg());
    }
    free(txt);
    qv_printf(app, "  wrote %ld %s samples as a dimod SampleSet to %s", s->count, ocean_vartype_name(vt), path);
    return 0;
}

/* `sample N [--beta B]`: draw N states from the prior with the current sampler and print energy
 * statistics.  Kept in one function so that the model layer can extend it (decode digits). */
int cmd_sample_run(struct qv_app *app, const struct cmd_args *a)
{
    long n;
    if (cmd_pos_long(app, a, 0, &n)) return -1;
    if (n <= 0) return qv_error(app, "sample: the number of samples must be positive, got %ld", n);
    if (n > 100000000) return qv_error(app, "sample: at most 100000000 samples, got %ld", n);
    double beta = cmd_float(a, "beta", 1.0);
    if (!isfinite(beta) || beta < 0)
        return qv_error(app, "sample: --beta must be a finite number >= 0, got %g", beta);
    if (cmd_has(a, "binary") && !cmd_has(a, "export"))
        return qv_error(app, "sample: --binary goes with --export F.json");
    const struct bm *bm = app->st.prior;
    if (!bm) {
        if (app->st.prior_bernoulli_n > 0 && app->st.model)   /* decode Bernoulli draws (train.c) */
            return train_sample_images(app, NULL, n, cmd_str(a, "png", NULL));
        if (app->st.prior_bernoulli_n > 0)
            return qv_error(app, "sample: the prior is bernoulli %d (independent units): nothing "
                                 "to sample with a Markov chain", app->st.prior_bernoulli_n);
        return qv_error(app, "sample: no prior (try `prior new chimera 4; prior random`)");
    }
    struct sampler *s = sampler_current(app);
    if (!s) return qv_error(app, "sample: %s", qv_errmsg());
    struct samples out;
    samples_init(&out);
    struct prog_ud pu = {app, "sample", "sweeps"};
    struct sample_ctx ctx = {.progress = on_progress, .ud = &pu, .cancel = &app->cancel, .app = app};
    if (sampler_sample(s, bm, beta, n, &ctx, &out)) {
        samples_free(&out);
        return qv_error(app, "%s", qv_errmsg());
    }
    /* energy statistics (weighted when the sampler returns weights) */
    double m, sd, emin, emax;
    samples_energy_stats(&out, &m, &sd, &emin, &emax);
    /* distinct states: sort row hashes (64-bit FNV-1a; collisions are negligible here) */
    uint64_t *hs = qv_mallocarray((size_t)out.count, sizeof *hs);
    for (long k = 0; k < out.count; k++) {
        uint64_t h = 1469598103934665603ull;
        const uint8_t *z = out.z + (size_t)k * out.n;
        for (int i = 0; i < out.n; i++) h = (h ^ z[i]) * 1099511628211ull;
        hs[k] = h;
    }
    qsort(hs, (size_t)out.count, sizeof *hs, cmp_u64);
    long distinct = out.count ? 1 : 0;
    for (long k = 1; k < out.count; k++) distinct += hs[k] != hs[k - 1];
    free(hs);
    double ones = 0;
    for (size_t k = 0; k < (size_t)out.count * out.n; k++) ones += out.z[k];
    qv_printf(app, "sample: %ld states of %d units from %s at beta %g in %.3f s (%s)", out.count,
              out.n, app->st.prior_desc[0] ? app->st.prior_desc : bm->g->desc, beta, out.seconds,
              s->vt->name);
    qv_printf(app, "  energy mean %.4f  std %.4f  min %.4f  max %.4f%s", m, sd, emin, emax,
              out.logw ? "  (importance-weighted)" : "");
    qv_printf(app, "  distinct states %ld   mean activity %.4f", distinct,
              ones / ((double)out.count * out.n));
    if (out.info[0]) qv_printf(app, "  %s", out.info);
    struct qv_event ev = {.kind = QV_EV_SAMPLER, .beta_eff = out.beta_eff, .beta_err = NAN};
    ev.qpu.programming = ev.qpu.anneal = ev.qpu.readout = ev.qpu.access = ev.qpu.total_real = NAN;
    qv_emit(app, &ev);
    int rc = cmd_has(a, "export") ? export_samples(app, bm, &out, a) : 0;
    if (!rc && (app->st.model || cmd_has(a, "png")))   /* decode to digits with the model (train.c) */
        rc = train_sample_images(app, out.z, out.count, cmd_str(a, "png", NULL));
    samples_free(&out);
    return rc;
}

/* ---------------------------------------------------------------- tables */

static const struct cmd_opt check_opts[] = {
    {"beta", CMD_OPT_FLOAT, "inverse temperature (default 1)", NULL},
    {"samples", CMD_OPT_INT, "samples to draw (default 100000)", NULL},
    {"units", CMD_OPT_INT, "units of the cut of the prior (default 12, at most 20)", NULL},
    {"seed", CMD_OPT_INT, "seed of the cut and of the reference draws (default: the master seed)", NULL},
    {NULL, 0, NULL, NULL},
};

extern const struct cmd_opt cmd_sampler_beta_opts[];   /* cmd_schedule.c */
extern const char cmd_sampler_beta_help[];
int cmd_sampler_beta_run(struct qv_app *app, const struct cmd_args *a);

static const struct cmd_entry sampler_sub[] = {
    {.name = "use", .usage = "sampler use NAME [--KEY VALUE …]",
     .summary = "select the sampler and its options",
     .help = "Samplers: gibbs (block Gibbs, persistent chains), sa (simulated annealing), pt\n"
             "(parallel tempering), pa (population annealing), ais (annealed importance\n"
             "sampling), exact (enumeration, up to 28 units), sqa (emulated quantum annealer\n"
             "following the anneal schedule), qpu (a D-Wave QPU or `qpu emulate`; see `sampler list`).\n"
             "Options not given keep their defaults; `sampler info` lists a sampler's keys.\n"
             "Example: sampler use gibbs --chains 100 --sweeps 40",
     .min_pos = 1, .max_pos = 1, .opts = use_opts, .complete = CMD_COMPLETE_SAMPLER,
     .run = run_use},
    {.name = "set", .usage = "sampler set KEY VALUE [KEY VALUE …]",
     .summary = "change options of the current sampler (keeps its chains)",
     .help = "Any key the current sampler accepts (see `sampler info`); all pairs are checked\n"
             "before any is applied.  Example: sampler set sweeps 10 thin 2",
     .min_pos = 2, .max_pos = -1, .run = run_set},
    {.name = "info", .usage = "sampler info", .summary = "show the current sampler and its options",
     .help = "Prints the sampler's name and every option with its value (defaults included), as\n"
             "`sampler use NAME --key value` accepts them.  Without `sampler use` it is gibbs.",
     .run = run_info, .flags = CMD_WHILEJOB},
    {.name = "list", .usage = "sampler list", .summary = "list the available samplers",
     .help = "One line per sampler with what it does; `help sampler use` and `sampler info` show\n"
             "the options of the current one.",
     .run = run_list, .flags = CMD_WHILEJOB},
    {.name = "reset", .usage = "sampler reset",
     .summary = "drop persistent state (PCD chains) of the current sampler", .run = run_reset,
     .help = "Keeps the sampler and its options; its next call starts new chains."},
    {.name = "check", .usage = "sampler check [--beta B] [--samples N] [--units K] [--seed S]",
     .summary = "compare the current sampler with exact enumeration (KL, total variation)",
     .help = "Draws N samples with a fresh copy of the current sampler (same options, the\n"
             "current chains are not touched) from a random connected cut of K units of the\n"
             "prior's graph with the prior's parameters (C(1,1,4) with random parameters when\n"
             "there is no prior) and compares the histogram with the exact distribution.\n"
             "An N-sample histogram has a positive KL even for perfect samples, so the same\n"
             "numbers for N exact i.i.d. draws are printed too; their difference is the\n"
             "sampler's own error (ok below 0.01).",
     .max_pos = 0, .opts = check_opts, .run = run_check, .flags = CMD_LONG},
    {.name = "beta", .usage = "sampler beta [--samples N] [--boot B] [--beta B]", .summary = "effective β of the current sampler's samples (maximum pseudo-likelihood)", .help = cmd_sampler_beta_help, .max_pos = 0, .opts = cmd_sampler_beta_opts, .run = cmd_sampler_beta_run, .flags = CMD_LONG},
    {.name = NULL},
};

const struct cmd_entry cmd_sampler_entry = {
    .name = "sampler", .usage = "sampler [use|set|info|list|reset|check] …",
    .summary = "choose and inspect the sampler of the prior",
    .help = "Without a subcommand shows the current sampler (like `sampler info`).",
    .sub = sampler_sub, .max_pos = 0, .run = run_info, .flags = CMD_WHILEJOB,
};

static const struct cmd_opt sample_opts[] = {
    {"beta", CMD_OPT_FLOAT, "inverse temperature (default 1)", NULL},
    {"png", CMD_OPT_PATH, "with a model: decode the samples to digits and write them as a PNG grid", NULL},
    {"export", CMD_OPT_PATH, "write the states, energies and labels as a dimod SampleSet JSON (SPIN)", NULL},
    {"binary", CMD_OPT_FLAG, "--export: 0/1 values (BINARY) instead of ±1 (SPIN)", NULL},
    {NULL, 0, NULL, NULL},
};

const struct cmd_entry cmd_sample_entry = {
    .name = "sample", .usage = "sample N [--beta B] [--png FILE] [--export F.json [--binary]]",
    .summary = "draw N states from the prior with the current sampler",
    .help = "Prints the energy mean, standard deviation, minimum and maximum, the number of\n"
            "distinct states, the mean activity and the sampler's diagnostics.  With a model the\n"
            "states are decoded to digits (decoder means, at most 1024) for the digit panel and,\n"
            "with --png, written as a PNG grid.  --export writes the states as dimod's\n"
            "SampleSet.to_serializable() JSON (energies E(z), one row per state).",
    .min_pos = 1, .max_pos = 1, .opts = sample_opts, .run = cmd_sample_run, .flags = CMD_LONG,
};
