/* cmd_view.c — `view NAME` (focus a panel of the terminal workbench and set its display
 * options) and `tour` (a guided demonstration for teaching: train, curves and digits, then a
 * standard, a paused and a quenched anneal on the emulated annealer, each step explained).
 *
 * Library code: `view` never draws.  It emits QV_EV_VIEW with the panel name and a
 * "key=value …" settings string; the TUI applies it and batch front ends ignore it.  `tour`
 * runs real commands through cmd_run_one (it is CMD_LONG, so the TUI runs it on the worker
 * thread) and keeps going past steps whose module is missing, logging their errors. */
#include "cmd.h"
#include "figs.h"
#include "session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The panels `view` focuses: the one list of their names (the TUI's panel ids follow it). */
const char *const cmd_view_panels[] = { "overview", "loss", "latent", "digits", "schedule", "hist", "log", NULL };

/* Exact name or unique prefix ("all" = overview); NULL with an error otherwise. */
static const char *view_lookup(const char *name)
{
    if (!strcmp(name, "all"))
        return "overview";
    char list[128];
    int i = qv_unique_prefix(name, qv_name_of_strv, cmd_view_panels, list, sizeof list);
    if (i >= 0)
        return cmd_view_panels[i];
    qv_seterr("view: %s: %s panel (%s)", name, i == -2 ? "ambiguous" : "unknown", list);
    return NULL;
}

static void emit_view(struct qv_app *app, const char *panel, const char *opts)
{
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_VIEW;
    ev.job = panel;
    ev.unit = opts;
    qv_emit(app, &ev);
}

/* `view loss --png F [--log]`: the session's loss curves as a PNG (from its metrics.csv, so it
 * reads no app->st and runs during a job like every view).  The terminal is not touched. */
static int view_png(struct qv_app *app, const char *panel, const struct cmd_args *a)
{
    const char *png = cmd_str(a, "png", "");
    if (strcmp(panel, "loss"))
        return qv_error(app, "view: --png: only the loss panel is written here (the schedule: `schedule "
                             "show --png F`, the latent map: `eval units --png F`)");
    char dir[4096], csv[4200], title[192];
    if (session_current_dir(app, dir, sizeof dir) < 0) return qv_error(app, "view: --png: %s", qv_errmsg());
    snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
    snprintf(title, sizeof title, "loss — session %s", app->session_name);
    if (figs_loss(csv, title, cmd_has(a, "log"), png)) return qv_error(app, "view: --png: %s", qv_errmsg());
    qv_printf(app, "wrote the loss curves of session %s to %s", app->session_name, png);
    return 0;
}

/* `view csv FILE --x C --y C [--by C] [--png F]`: any CSV with a header, one line per value of
 * --by; without --png a text summary of the series (the file is read, nothing drawn). */
static int view_csv(struct qv_app *app, const struct cmd_args *a)
{
    if (a->npos != 2) return qv_error(app, "view csv: give the file: view csv FILE --x COL --y COL");
    const char *path = a->pos[1], *xc = cmd_str(a, "x", NULL), *yc = cmd_str(a, "y", NULL);
    if (!xc || !yc) return qv_error(app, "view csv: %s: name the columns with --x COL --y COL", path);
    struct figs_csv *c = qv_calloc(1, sizeof *c);   /* ~3 kB of series heads: not on the stack */
    int rc = 0;
    if (figs_csv_read(c, path, xc, yc, cmd_str(a, "by", NULL))) {
        rc = qv_error(app, "view csv: %s", qv_errmsg());
    } else if (cmd_has(a, "png")) {
        const char *png = cmd_str(a, "png", "");
        if (figs_csv_png(c, cmd_str(a, "title", path), cmd_str(a, "xlabel", xc), cmd_str(a, "ylabel", yc), png))
            rc = qv_error(app, "view csv: --png: %s", qv_errmsg());
        else
            qv_printf(app, "view csv: wrote %d series, %ld points of %s against %s to %s", c->nseries,
                      c->points, yc, xc, png);
    } else {
        qv_printf(app, "%s: %d series, %ld points of %s against %s", path, c->nseries, c->points, yc, xc);
        for (int i = 0; i < c->nseries; i++) {
            const struct figs_csv_series *s = &c->s[i];
            qv_printf(app, "  %-16s %6ld points  %s %.6g … %.6g  %s %.6g … %.6g (last %.6g)", s->name,
                      s->n, xc, s->xmin, s->xmax, yc, s->ymin, s->ymax, s->y[s->n - 1]);
        }
    }
    figs_csv_free(c);
    free(c);
    return rc;
}

static int run_view(struct qv_app *app, const struct cmd_args *a)
{
    if (a->npos && !strcmp(a->pos[0], "csv")) return view_csv(app, a);
    if (a->npos > 1) return qv_error(app, "view: one panel at a time (or `view csv FILE`)");
    if (cmd_has(a, "x") && strcmp(cmd_str(a, "x", ""), "step") && strcmp(cmd_str(a, "x", ""), "epoch"))
        return qv_error(app, "view: --x: unknown value '%s' (one of step|epoch)", cmd_str(a, "x", ""));
    for (int i = 0; i < 5; i++) {
        static const char *const csv_only[5] = {"y", "by", "title", "xlabel", "ylabel"};
        if (cmd_has(a, csv_only[i])) return qv_error(app, "view: --%s: only for `view csv FILE`", csv_only[i]);
    }
    /* `view --toggle X` alone flips a setting where the user is ("" = keep the focus) */
    const char *panel = a->npos ? view_lookup(a->pos[0]) : cmd_has(a, "toggle") ? "" : "overview";
    if (!panel)
        return qv_fail(app);
    char opts[256] = "";
    size_t o = 0;
#define ADD(...) (o += (size_t)snprintf(opts + o, o < sizeof opts ? sizeof opts - o : 0, __VA_ARGS__))
    if (cmd_has(a, "log") && cmd_has(a, "linear"))
        return qv_error(app, "view: --log and --linear exclude each other");
    if (cmd_has(a, "log")) ADD("logy=1 ");
    if (cmd_has(a, "linear")) ADD("logy=0 ");
    if (cmd_has(a, "ema")) {
        double e = cmd_float(a, "ema", 0);
        if (!(e >= 0 && e < 1))
            return qv_error(app, "view: --ema: must be in [0, 1) (0 = off), got %g", e);
        ADD("ema=%g ", e);
    }
    if (cmd_has(a, "window") && cmd_has(a, "all"))
        return qv_error(app, "view: --window and --all exclude each other");
    if (cmd_has(a, "window")) {
        long w = cmd_int(a, "window", 0);
        if (w < 0)
            return qv_error(app, "view: --window: must be ≥ 0 (0 = whole run), got %ld", w);
        ADD("window=%ld ", w);
    }
    if (cmd_has(a, "all")) ADD("window=0 ");
    if (cmd_has(a, "x")) ADD("x=%s ", cmd_str(a, "x", "step"));   /* step|epoch, checked above */
    if (cmd_has(a, "mean") && cmd_has(a, "activity"))
        return qv_error(app, "view: --mean and --activity exclude each other");
    if (cmd_has(a, "mean")) ADD("mean=1 ");
    if (cmd_has(a, "activity")) ADD("mean=0 ");
    if (cmd_has(a, "toggle")) ADD("toggle=%s ", cmd_str(a, "toggle", ""));   /* checked by cmd_parse */
    if (cmd_has(a, "edit")) {
        if (strcmp(panel, "schedule"))
            return qv_error(app, "view: --edit: only the schedule panel is editable");
        ADD("edit=1 ");
    }
#undef ADD
    if (cmd_has(a, "png")) return view_png(app, panel, a);
    emit_view(app, panel, opts);
    if (!app->in_tui)
        qv_printf(app, "view %s: panels are drawn by the terminal workbench only (run qvae in a terminal)",
                  *panel ? panel : "--toggle");
    return 0;
}

static const struct cmd_opt view_opts[] = {
    {"log", CMD_OPT_FLAG, "loss: logarithmic y axis", NULL},
    {"linear", CMD_OPT_FLAG, "loss: linear y axis", NULL},
    {"ema", CMD_OPT_FLOAT, "loss: EMA smoothing of the training curves, factor in [0,1) (0 = off)", NULL},
    {"window", CMD_OPT_INT, "loss: show only the last N steps (epochs with --x epoch); 0 = whole run", NULL},
    {"all", CMD_OPT_FLAG, "loss: show the whole run", NULL},
    /* no word list: `view csv` takes a column name here; the loss panel's words are checked in run_view */
    {"x", CMD_OPT_STR, "loss: x axis, step or epoch; csv: the x column", NULL},
    {"y", CMD_OPT_STR, "csv: the y column", NULL},
    {"by", CMD_OPT_STR, "csv: one line per distinct value of this column", NULL},
    {"title", CMD_OPT_STR, "csv: the figure's title (default the file name)", NULL},
    {"xlabel", CMD_OPT_STR, "csv: x axis label (default the column name)", NULL},
    {"ylabel", CMD_OPT_STR, "csv: y axis label (default the column name)", NULL},
    {"mean", CMD_OPT_FLAG, "latent: colour units by their mean E_q[z]", NULL},
    {"activity", CMD_OPT_FLAG, "latent: colour units by activity (variance of E_q[z] over data)", NULL},
    {"edit", CMD_OPT_FLAG, "schedule: edit the schedule with the keyboard (Esc ends)", NULL},
    {"png", CMD_OPT_PATH, "loss: write the train/validation curves against epoch as a PNG (with --log: log y); "
                          "csv: write the lines as a PNG", NULL},
    {"toggle", CMD_OPT_STR, "loss: flip log/linear y, EMA on/off, recent window/whole run, or step/epoch x; "
                            "without a panel the focus stays", "log|ema|window|x"},
    {NULL, 0, NULL, NULL},
};

const struct cmd_entry cmd_view_entry = {
    /* `view csv FILE …` is the panel word csv and its file: the second positional */
    .name = "view", .usage = "view [overview|loss|latent|digits|schedule|hist|log] [FILE] [--log|--linear] [--ema A] "
                             "[--window N|--all] [--x AXIS] [--mean|--activity] [--edit] "
                             "[--toggle log|ema|window|x] [--png FILE] [--y COL] [--by COL] [--title T] "
                             "[--xlabel L] [--ylabel L]",
    .summary = "focus a panel of the workbench and set how it draws",
    .help = "`view loss` gives the loss curves the screen (with the log below), `view` or `view overview`\n"
            "shows every panel that fits.  The function keys of the workbench run view commands (F1\n"
            "lists which).  In scripts and `qvae -c` the command is accepted and does nothing,\n"
            "except `view loss --png F`, which writes the session's loss curves as a PNG.\n"
            "--x is step or epoch for the loss panel.  `view csv FILE --x COL --y COL [--by COL]` reads any CSV with a header (metrics.csv,\n"
            "bench/paper_table.sh's curves.csv): one line per value of --by, written with --png F,\n"
            "else summarised (series, points, x and y ranges).",
    .min_pos = 0, .max_pos = 2, .opts = view_opts, .complete = CMD_COMPLETE_PANEL,
    .run = run_view, .flags = CMD_WHILEJOB | CMD_NOSTATE,
};

/* --- tour -------------------------------------------------------------------------------- */

struct tour_step {
    const char *say;    /* explanation printed first (NULL = none) */
    const char *cmd;    /* command to run (NULL = none) */
    const char *view;   /* panel to focus before running (NULL = keep) */
};

static const struct tour_step tour_steps[] = {
    { "Tour 1/6 \xe2\x80\x94 what you see: a discrete VAE encodes each digit into 0/1 latent units; "
      "their prior is a Boltzmann machine whose units and couplers are the qubits and couplers of a "
      "D-Wave Chimera graph.", NULL, "overview" },
    { "Tour 2/6 \xe2\x80\x94 training for 3 epochs.  The loss panel plots -ELBO (falls as the model "
      "improves), the reconstruction term and the KL/prior term per step, and the validation value "
      "per epoch.  The digits panel shows generated digits after each epoch.", "train 3", "overview" },
    { "Latent activity: each dot is a qubit placed as on the chip, coloured by how much the encoder "
      "uses it (variance of E_q[z]); unused units stay dark.", NULL, "latent" },
    { "Tour 3/6 \xe2\x80\x94 the emulated annealer: simulated quantum annealing follows a schedule "
      "s(t) from a strong transverse field (s = 0) to the problem Hamiltonian (s = 1).",
      "sampler use sqa", "overview" },
    { "Tour 4/6 \xe2\x80\x94 a standard forward anneal of 20 \xc2\xb5s; samples freeze out "
      "somewhere mid-anneal, at an effective inverse temperature \xce\xb2_eff.",
      "schedule forward 20", "schedule" },
    { NULL, "sample 100", NULL },
    { "Tour 5/6 \xe2\x80\x94 a paused anneal: holding s at 0.45 for 50 \xc2\xb5s lets the state "
      "equilibrate near the freeze-out point; compare the energy statistics and \xce\xb2_eff with "
      "the forward anneal.", "schedule pause 0.45 50", "schedule" },
    { NULL, "sample 100", NULL },
    { "Tour 6/6 \xe2\x80\x94 a pause, then a quench: after the 50 \xc2\xb5s hold at s = 0.45 "
      "the anneal jumps to s = 1 as fast as the device allows, freezing the distribution it "
      "equilibrated to at s = 0.45.", "schedule quench 0.45", "schedule" },
    { NULL, "sample 100", NULL },
    { "End of the tour.  Next: train 20 for a better model, F6 to edit the schedule by hand and "
      "sample again, help for every command.", "sampler use gibbs", "overview" },
};

/* Sleep up to `s` seconds in small slices; true when cancelled. */
static bool tour_pause(struct qv_app *app, double s)
{
    double end = qv_now() + s;
    while (qv_now() < end) {
        if (qv_wait_if_paused(app))
            return true;
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return qv_cancelled(app);
}

static int tour_run(struct qv_app *app, const char *cmd)
{
    qv_printf(app, "  > %s", cmd);
    int rc = cmd_run_one(app, cmd);
    if (rc != 0 && !qv_cancelled(app))
        qv_warn(app, "tour: `%s` did not work here; going on", cmd);
    return rc;
}

static int run_tour(struct qv_app *app, const struct cmd_args *a)
{
    double gap = app->in_tui ? cmd_float(a, "pause", 2.0) : 0;
    if (!(gap >= 0 && gap <= 60))
        return qv_error(app, "tour: --pause: must be between 0 and 60 seconds");
    int n = (int)(sizeof tour_steps / sizeof tour_steps[0]);
    /* what the tour needs first: data, a prior, a model */
    if (!app->st.data) tour_run(app, "data load mnist");
    if (!app->st.prior && app->st.prior_bernoulli_n <= 0) tour_run(app, "prior new chimera 2 2 4");
    if (!app->st.model) tour_run(app, "model new --hidden 200");
    for (int i = 0; i < n; i++) {
        if (qv_cancelled(app))
            break;
        const struct tour_step *s = &tour_steps[i];
        qv_progress(app, "tour", i, n, "steps");
        if (s->view)
            emit_view(app, s->view, "");
        if (s->say) {
            qv_printf(app, "%s", s->say);
            if (tour_pause(app, gap))
                break;
        }
        if (s->cmd)
            tour_run(app, s->cmd);
        if (s->view && !s->cmd && tour_pause(app, gap))
            break;
    }
    if (qv_cancelled(app)) {
        qv_printf(app, "tour stopped");
        return 0;
    }
    qv_progress(app, "tour", n, n, "steps");
    return 0;
}

static const struct cmd_opt tour_opts[] = {
    {"pause", CMD_OPT_FLOAT, "seconds to wait after each explanation in the workbench (default 2)", NULL},
    {NULL, 0, NULL, NULL},
};

const struct cmd_entry cmd_tour_entry = {
    .name = "tour", .usage = "tour [--pause S]",
    .summary = "a guided demonstration: training, curves and digits, then anneal schedules compared",
    .help = "Loads MNIST, a Chimera prior and a small model when missing, trains 3 epochs, then samples\n"
            "the prior on the emulated annealer (sqa) with a standard, a paused and a quenched\n"
            "schedule, explaining each step in the log.  Ctrl-C or `train stop` stops it.",
    .min_pos = 0, .max_pos = 0, .opts = tour_opts, .run = run_tour, .flags = CMD_LONG,
};
