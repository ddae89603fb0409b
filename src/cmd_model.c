/* cmd_model.c — the `model`, `train` and `eval` command groups: build a DVAE for the current prior
 * and data, train it (stop/pause/resume while it runs), and evaluate it (IW log-likelihood with the
 * prior's log Z, active units). */
#include "cmd.h"
#include "cmd_int.h"
#include "data.h"
#include "eval.h"
#include "figs.h"
#include "graph.h"
#include "sampler.h"
#include "train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void emit_state(struct qv_app *app)
{
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_STATE;
    qv_emit(app, &ev);
}

/* ---- model ---------------------------------------------------------------------------------------- */

static int run_model_info(struct qv_app *app, const struct cmd_args *a)
{
    if (!app->st.model) {
        qv_printf(app, "no model (create one with `model new`)");
        return 0;
    }
    char d[256];
    dvae_describe(app->st.model, d, sizeof d);
    qv_printf(app, "model: %s", d);
    qv_printf(app, "work buffers: %d rows (batch × importance samples; `train` grows them)",
              app->st.model->cfg.bmax);
    const struct trainer *t = app->st.trainer;
    if (t)
        qv_printf(app, "trained: %ld steps, %ld epochs%s (seed %" PRIu64 ", %d thread%s per step%s)",
                  t->step, t->epoch, t->batch_pos ? " and part of one" : "", t->seed,
                  QV_MAX(t->shards, 1), t->shards > 1 ? "s" : "",
                  t->iw > 1 ? ", last run importance-weighted" : "");
    qv_printf(app, "digest %016" PRIx64 " (parameters, statistics, prior, Adam, counters)", model_digest(&app->st));
    if (t && isfinite(t->val_elbo_z))
        qv_printf(app, "last validation elbo %.3f (discrete z: %.3f)", t->val_elbo, t->val_elbo_z);
    if (t && t->best)
        qv_printf(app, "best validation elbo (discrete z) %.3f at epoch %ld (`model best` restores it)",
                  t->best_val, t->best_epoch);
    else if (t && isfinite(t->val_elbo))   /* a session saved before the discrete figure existed */
        qv_printf(app, "last validation elbo %.3f", t->val_elbo);
    return 0;
}

static int run_model_best(struct qv_app *app, const struct cmd_args *a)
{
    const struct trainer *t = app->st.trainer;
    if (!app->st.model) return qv_error(app, "model best: no model");
    if (trainer_restore_best(t, app->st.model, app->st.prior) < 0)
        return qv_error(app, "model best: %s", qv_errmsg());
    qv_printf(app, "model best: parameters of epoch %ld restored (validation elbo, discrete z: %.3f)",
              t->best_epoch, t->best_val);
    emit_state(app);
    return 0;
}

static int run_model_new(struct qv_app *app, const struct cmd_args *a)
{
    struct dvae_config c;
    dvae_config_default(&c);
    if (!app->st.prior && app->st.prior_bernoulli_n <= 0)
        return qv_error(app, "model new: no prior: create one first (`prior new bernoulli 288` or "
                             "`prior new chimera 6 6 4`)");
    if (!app->st.data)
        return qv_error(app, "model new: no data: load a dataset first (`data load …`) so the model "
                             "knows the image size");
    c.D = app->st.data->d;
    c.h = app->st.data->h;
    c.w = app->st.data->w;
    if (app->st.prior) {
        c.prior = DVAE_PRIOR_BM;
        c.n = app->st.prior->n;
    } else {
        c.prior = DVAE_PRIOR_BERNOULLI;
        c.n = app->st.prior_bernoulli_n;
    }
    if (cmd_has(a, "hidden") && dvae_parse_hidden(cmd_str(a, "hidden", ""), &c) < 0)
        return qv_error(app, "model new: %s", qv_errmsg());
    if (cmd_has(a, "act") && nn_act_parse(cmd_str(a, "act", "tanh"), &c.act) < 0)
        return qv_error(app, "model new: %s", qv_errmsg());
    if (cmd_has(a, "relax-beta")) {
        c.relax_beta = (float)cmd_float(a, "relax-beta", 0);
        if (!(c.relax_beta > 0)) return qv_error(app, "model new: --relax-beta must be > 0");
    }
    if (cmd_has(a, "relax") && dvae_relax_parse(cmd_str(a, "relax", "gumbolt"), &c.relax) < 0)
        return qv_error(app, "model new: %s", qv_errmsg());
    double tau = cmd_float(a, "tau", 0.5);
    if (dvae_tau_check(tau) < 0) return qv_error(app, "model new: %s", qv_errmsg());
    c.tau = (float)tau;
    if (cmd_has(a, "kl") && dvae_kl_parse(cmd_str(a, "kl", "relaxed"), &c.kl) < 0)
        return qv_error(app, "model new: %s", qv_errmsg());
    if (cmd_has(a, "kl") && c.prior != DVAE_PRIOR_BM)
        return qv_error(app, "model new: --kl applies to a Boltzmann-machine prior (a Bernoulli prior's "
                             "KL is always the exact closed form)");
    long bmax = cmd_int(a, "max-batch", 500);
    if (bmax < 1 || bmax > DVAE_MAX_ROWS)
        return qv_error(app, "model new: --max-batch must be 1..%d", DVAE_MAX_ROWS);
    c.bmax = (int)bmax;
    if (cmd_has(a, "conv") && dvae_parse_conv(cmd_str(a, "conv", ""), &c) < 0)
        return qv_error(app, "model new: %s", qv_errmsg());
    c.center = !cmd_has(a, "no-center");
    c.bn = cmd_has(a, "bn");
    int *group_of = NULL;
    if (cmd_has(a, "groups") && cmd_parse_groups(app, cmd_str(a, "groups", "1"), &c, &group_of) < 0) {
        free(group_of);
        return qv_error(app, "model new: %s", qv_errmsg());
    }
    uint64_t seed = cmd_has(a, "seed") ? (uint64_t)cmd_int(a, "seed", 1) : app->st.seed;
    struct dvae *m = dvae_new(&c, seed);
    free(group_of);
    if (!m) return qv_error(app, "model new: %s", qv_errmsg());
    if (c.center) {
        /* the training split's mean image: the encoder's centre and the decoder's output bias */
        const struct dataset *ds = app->st.data;
        float *mean = qv_calloc((size_t)c.D, sizeof(float));
        data_pixel_means(ds, DATA_TRAIN, mean);
        dvae_set_data_mean(m, mean);
        free(mean);
    }
    trainer_free(app->st.trainer);
    app->st.trainer = NULL;
    dvae_free(app->st.model);
    app->st.model = m;
    char d[256];
    dvae_describe(m, d, sizeof d);
    qv_printf(app, "model: %s", d);
    emit_state(app);
    return 0;
}

static const struct cmd_opt model_new_opts[] = {
    {"hidden", CMD_OPT_LIST, "hidden widths of the encoder, input side first (default 512,256); the decoder mirrors them", NULL},
    {"act", CMD_OPT_STR, "activation: tanh (default), relu, leaky", NULL},
    {"relax", CMD_OPT_STR, "relaxation of the discrete latents: gumbolt (default), st (straight-through), "
                           "or the overlapping power, exp, spike-exp (DVAE#)", "gumbolt|st|power|exp|spike-exp"},
    {"relax-beta", CMD_OPT_FLOAT, "sharpness β of power (30), exp (12), spike-exp (5)", NULL},
    {"tau", CMD_OPT_FLOAT, "relaxation temperature (default 0.5)", NULL},
    {"kl", CMD_OPT_STR, "a BM prior's term: relaxed (GumBolt proxy at ζ, default) or analytic (exact KL)", "relaxed|analytic"},
    {"groups", CMD_OPT_LIST, "hierarchical posterior: L latent groups (default 1; a BM prior's colour "
                             "classes in order) or a partition 0-143/144-287", NULL},
    {"conv", CMD_OPT_LIST, "convolutions before the encoder's dense layers, CH:K:STRIDE:PAD each "
                           "(e.g. 32:4:2:1,64:4:2:1: 28×28 → 14×14 → 7×7); the decoder mirrors them", NULL},
    {"bn", CMD_OPT_FLAG, "batch norm before every hidden nonlinearity (DVAE#; each data-parallel "
                         "block normalises its own rows in training, running averages at evaluation)", NULL},
    {"no-center", CMD_OPT_FLAG, "feed the encoder x itself, not x − mean(x), and start the decoder's "
                                "output bias at 0 instead of logit(mean pixel)", NULL},
    {"max-batch", CMD_OPT_INT, "rows the work buffers hold at first (default 500; `train` "
                               "grows them to batch × --iw)", NULL},
    {"seed", CMD_OPT_INT, "initialisation seed (default: the master seed)", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_entry model_sub[] = {
    {.name = "new",
     .usage = "model new [--hidden 512,256] [--act tanh] [--relax gumbolt|st|power|exp|spike-exp] [--relax-beta B] [--tau 0.5] [--kl relaxed|analytic] [--groups 1] [--bn] [--conv 32:4:2:1,64:4:2:1] [--no-center]",
     .summary = "build a discrete VAE for the current prior and data",
     .help = "Encoder MLP (pixels → hidden → one logit per latent unit), GumBolt concrete relaxation\n"
             "with temperature τ, decoder MLP (latents → hidden reversed → pixel logits).  The number\n"
             "of latents is the prior's node count; a Bernoulli prior (`prior new bernoulli N`) has its\n"
             "own learnable logits, a Boltzmann-machine prior is trained through the selected sampler.\n"
             "τ = 0.5: GumBolt's good range (≤ 0.5); smaller τ means less bias, noisier gradients.\n"
             "--kl analytic charges a BM prior the exact KL of the factorial posterior, E(q) − H[q]\n"
             "(+ log Z), instead of GumBolt's one-sample proxy at ζ; ζ then only feeds the decoder.\n"
             "--relax st (straight-through) feeds the binary z = [l + g > 0] forward and takes the\n"
             "GumBolt ζ's slope backward: the decoder learns on the latents it is judged on.\n"
             "--groups L: a hierarchical posterior (DVAE++/DVAE#): group g's encoder sees the image and\n"
             "the samples of groups < g; L = 2 on Chimera splits the two shores.  The encoder sees the\n"
             "centred image x − mean(x) and the decoder's output bias starts at logit(mean pixel)\n"
             "unless --no-center.  --bn normalises every hidden layer's pre-activations (DVAE#).\n"
             "--conv puts strided convolutions before the encoder's dense layers and their transposed\n"
             "mirror after the decoder's (one latent group).\n"
             "Replaces the current model and its optimiser state.",
     .max_pos = 0, .opts = model_new_opts, .run = run_model_new},
    {.name = "best", .usage = "model best", .summary = "restore the best-validation parameters",
     .help = "Puts back the network (and Boltzmann-machine prior) parameters saved when the discrete\n"
             "validation ELBO was last at its best during `train`: choose checkpoints by validation,\n"
             "then score the test set once.",
     .max_pos = 0, .run = run_model_best},
    {.name = "info", .usage = "model info", .summary = "describe the current model",
     .help = "Layer sizes, activation, relaxation and τ, the prior (Bernoulli or the Boltzmann machine\n"
             "and its graph), parameter count, and how far the trainer has got (steps, epochs, seed).",
     .max_pos = 0, .run = run_model_info, .flags = CMD_WHILEJOB},
    {NULL},
};

const struct cmd_entry cmd_model_entry = {
    .name = "model", .usage = "model [new|info]", .summary = "the discrete VAE: build or describe",
    .help = "`model` alone describes the current model.", .sub = model_sub, .max_pos = 0,
    .run = run_model_info, .flags = CMD_WHILEJOB,
};

/* ---- train ---------------------------------------------------------------------------------------- */

/* train --sweeps K: the session's sampler (created by the one path, sampler_current) sweeps K. */
static int set_sweeps(struct qv_app *app, long k)
{
    if (k < 1) return qv_error(app, "train: --sweeps must be a positive integer");
    struct sampler *s = sampler_current(app);
    if (!s) return qv_fail(app);
    char v[32];
    snprintf(v, sizeof v, "%ld", k);
    if (sampler_set(s, "sweeps", v) < 0) return qv_error(app, "train: --sweeps: %s", qv_errmsg());
    return 0;
}

static int run_train(struct qv_app *app, const struct cmd_args *a)
{
    long epochs;
    if (cmd_has(a, "ranks")) return cmd_launch_ranks(app, a, true);
    if (cmd_pos_long(app, a, 0, &epochs)) return -1;
    if (epochs < 1 || epochs > 1000000) return qv_error(app, "train: EPOCHS must be 1..1000000, got %ld", epochs);
    struct train_opts o;
    train_opts_default(&o);
    o.epochs = epochs;
    o.lr = cmd_float(a, "lr", o.lr);
    long b = cmd_int(a, "batch", o.batch);
    if (b < 1 || b > DVAE_MAX_ROWS)
        return qv_error(app, "train: --batch must be 1..%d, got %ld", DVAE_MAX_ROWS, b);
    o.batch = (int)b;
    o.kl_warmup = cmd_float(a, "kl-warmup", 0);
    o.kl_frac = cmd_float(a, "kl-frac", 0);
    o.val_every = cmd_int(a, "val-every", 1);
    if (cmd_has(a, "lr-schedule") && train_lrs_parse(cmd_str(a, "lr-schedule", "const"), &o.lr_schedule) < 0)
        return qv_error(app, "train: %s", qv_errmsg());
    if (cmd_has(a, "seed")) {
        long s = cmd_int(a, "seed", 1);
        if (s < 0) return qv_error(app, "train: --seed must be >= 0");
        o.seed = (uint64_t)s;
        o.seed_set = true;
    }
    o.neg = cmd_int(a, "neg", o.neg);
    long iw = cmd_int(a, "iw", 1);
    if (iw < 1 || iw > 100000) return qv_error(app, "train: --iw must be a positive number of samples, got %ld", iw);
    o.iw = (int)iw;
    o.rws = cmd_has(a, "rws");
    o.wd = (float)cmd_float(a, "wd", o.wd);
    o.wd_prior = cmd_float(a, "wd-prior", o.wd_prior);
    if (!(o.wd >= 0) || !(o.wd_prior >= 0)) return qv_error(app, "train: weight decay must be >= 0");
    long le = cmd_int(a, "log-every", o.log_every);
    if (le < 1 || le > 1000000) return qv_error(app, "train: --log-every must be 1..1000000");
    o.log_every = (int)le;
    o.max_steps = cmd_int(a, "max-steps", 0);
    if (o.max_steps < 0) return qv_error(app, "train: --max-steps must be >= 0");
    o.max_seconds = cmd_float(a, "time", 0);
    if (!(o.max_seconds >= 0)) return qv_error(app, "train: --time must be >= 0 seconds");
    o.cpu_clock = cmd_has(a, "clock") && !strcmp(cmd_str(a, "clock", "wall"), "cpu");
    o.save = !cmd_has(a, "no-save");
    o.quiet = cmd_has(a, "quiet");
    if (cmd_has(a, "threads")) {
        long th = cmd_int(a, "threads", 1);
        if (th < 1 || th > DVAE_MAX_SHARDS)
            return qv_error(app, "train: --threads must be 1..%d, got %ld", DVAE_MAX_SHARDS, th);
        o.threads = (int)th;
    }
    if (cmd_has(a, "sweeps") && set_sweeps(app, cmd_int(a, "sweeps", 1)) < 0) return -1;
    /* --tau, --relax, --kl change the model from here on: all parsed before any is applied, and a
     * train that fails before its first step puts them back */
    struct dvae *m = app->st.model;
    float tau_was = m ? m->cfg.tau : 0.0f, tau_new = tau_was;
    enum dvae_kl kl_was = m ? m->cfg.kl : DVAE_KL_RELAXED, kl_new = kl_was;
    enum dvae_relax rx_was = m ? m->cfg.relax : DVAE_RELAX_GUMBOLT, rx_new = rx_was;
    long step_was = app->st.trainer ? app->st.trainer->step : 0;   /* a new trainer starts at 0 */
    if (cmd_has(a, "tau")) {
        double tau = cmd_float(a, "tau", 0.5);
        if (dvae_tau_check(tau) < 0) return qv_error(app, "train: %s", qv_errmsg());
        tau_new = (float)tau;
    }
    if (cmd_has(a, "relax") && dvae_relax_parse(cmd_str(a, "relax", "gumbolt"), &rx_new) < 0)
        return qv_error(app, "train: %s", qv_errmsg());
    if (cmd_has(a, "kl") && dvae_kl_parse(cmd_str(a, "kl", "relaxed"), &kl_new) < 0)
        return qv_error(app, "train: %s", qv_errmsg());
    if (m && rx_new != rx_was &&
        (relax_is_mixture((enum relax_kind)rx_new) || relax_is_mixture((enum relax_kind)rx_was)))
        return qv_error(app, "train: --relax switches between gumbolt and st; the model was built for %s "
                             "(`model new --relax %s` builds another)", dvae_relax_name(rx_was),
                        dvae_relax_name(rx_new));
    if ((cmd_has(a, "tau") || cmd_has(a, "relax") || cmd_has(a, "kl")) && !m)
        return qv_error(app, "train: no model (`model new` first)");
    if (cmd_has(a, "kl") && m->cfg.prior != DVAE_PRIOR_BM)
        return qv_error(app, "train: --kl applies to a Boltzmann-machine prior (a Bernoulli prior's KL "
                             "is always the exact closed form)");
    if (m && kl_new == DVAE_KL_ANALYTIC && m->ngroup > 1)
        return qv_error(app, "train: the analytic KL needs a factorial posterior (--groups 1), not %d "
                             "groups", m->ngroup);
    if (m) {
        /* the relaxation is a training-time device (evaluation uses discrete z), so lowering τ
         * late in a run moves the decoder towards the binary latents it is judged on */
        if (tau_new != tau_was)
            qv_printf(app, "relaxation temperature %g -> %g", (double)tau_was, (double)tau_new);
        if (rx_new != rx_was)
            qv_printf(app, "relaxation %s -> %s", dvae_relax_name(rx_was), dvae_relax_name(rx_new));
        if (kl_new != kl_was)
            qv_printf(app, "prior term %s -> %s", dvae_kl_name(kl_was), dvae_kl_name(kl_new));
        m->cfg.tau = tau_new;
        m->cfg.relax = rx_new;
        m->cfg.kl = kl_new;
    }
    int rc = train_run(app, &o);
    if (rc < 0) {
        /* a train that failed before its first step leaves the model as it was */
        if (app->st.model && (app->st.trainer ? app->st.trainer->step : 0) == step_was) {
            app->st.model->cfg.tau = tau_was;
            app->st.model->cfg.kl = kl_was;
            app->st.model->cfg.relax = rx_was;
        }
        return -1;
    }
    const struct trainer *t = app->st.trainer;
    if (rc == 1) {
        qv_printf(app, "training stopped at step %ld (epoch %ld, batch %ld); `train N` continues", t->step,
                  t->epoch + 1, t->batch_pos);
        return 0;
    }
    if (t->t_total > 0 && t->steps_timed > 0)
        qv_printf(app, "trained %ld steps in %.1f s (%.0f img/s): sgemm %.0f%%, sampler %.0f%%, rest %.0f%%",
                  t->steps_timed, t->t_total, t->steps_timed * (double)o.batch / t->t_total,
                  100 * t->t_sgemm / t->t_total, 100 * t->t_sample / t->t_total,
                  100 * (t->t_total - t->t_sgemm - t->t_sample) / t->t_total);
    return 0;
}

static int run_train_stop(struct qv_app *app, const struct cmd_args *a)
{
    atomic_store(&app->pause, 0);
    atomic_store(&app->cancel, 1);
    qv_printf(app, "stopping training (the position is kept; `train N` continues)");
    return 0;
}

static int run_train_pause(struct qv_app *app, const struct cmd_args *a)
{
    atomic_store(&app->pause, 1);
    qv_printf(app, "training paused (`train resume` continues, `train stop` ends it)");
    return 0;
}

static int run_train_resume(struct qv_app *app, const struct cmd_args *a)
{
    atomic_store(&app->pause, 0);
    qv_printf(app, "training resumed");
    return 0;
}

static const struct cmd_opt train_opts_tab[] = {
    {"lr", CMD_OPT_FLOAT, "Adam learning rate (default 3e-3)", NULL},
    {"batch", CMD_OPT_INT, "images per step (default 100)", NULL},
    {"iw", CMD_OPT_INT, "importance samples per image: train on the IW bound (default 1, the ELBO)", NULL},
    {"rws", CMD_OPT_FLAG, "with --iw K: reweighted wake-sleep on binary latents (no relaxation)", NULL},
    {"kl-warmup", CMD_OPT_FLOAT, "epochs over which the KL weight ramps from 0 to 1 (default 0)", NULL},
    {"kl-frac", CMD_OPT_FLOAT, "ramp the KL weight over this fraction of this run instead (DVAE#: 0.3)", NULL},
    {"lr-schedule", CMD_OPT_STR, "lr multiplier over this run: const (default), dvae (DVAE#'s steps), cosine", "const|dvae|cosine"},
    {"val-every", CMD_OPT_INT, "validate every N epochs and at the run's end (default 1)", NULL},
    {"seed", CMD_OPT_INT, "data order and noise seed of a new run (default: the master seed)", NULL},
    {"sweeps", CMD_OPT_INT, "sampler sweeps per step (sets the sampler's `sweeps` option)", NULL},
    {"neg", CMD_OPT_INT, "negative-phase prior samples per step (default 100)", NULL},
    {"wd", CMD_OPT_FLOAT, "L2 weight decay on network kernels (default 1e-4)", NULL},
    {"wd-prior", CMD_OPT_FLOAT, "L2 weight decay on the prior's couplings (default 1e-4)", NULL},
    {"log-every", CMD_OPT_INT, "steps per metrics event and metrics.csv row (default 50)", NULL},
    {"max-steps", CMD_OPT_INT, "stop after this many steps (benchmarks; default no limit)", NULL},
    {"time", CMD_OPT_FLOAT, "stop at the first epoch end after this many seconds", NULL},
    {"clock", CMD_OPT_STR, "what --time and metrics.csv's seconds count: wall (default) or cpu, this process's CPU time (equal budgets on a shared machine)", "wall|cpu"},
    {"no-save", CMD_OPT_FLAG, "do not checkpoint into the session at epoch ends", NULL},
    {"quiet", CMD_OPT_FLAG, "no per-epoch lines", NULL},
    {"threads", CMD_OPT_INT, "data-parallel threads per step (default: the trainer's; new: min(CPUs, 4, batch/25))", NULL},
    {"tau", CMD_OPT_FLOAT, "set the model's relaxation temperature from here on (saved with the model)", NULL},
    {"kl", CMD_OPT_STR, "set a BM prior's term from here on: relaxed or analytic (saved with the model)", "relaxed|analytic"},
    {"relax", CMD_OPT_STR, "set the relaxation from here on: gumbolt or st (saved with the model)",
     "gumbolt|st|power|exp|spike-exp"},
    {"ranks", CMD_OPT_INT, "run as an MPI job of N ranks × --threads blocks on this session (mpirun)", NULL},
    {"hostfile", CMD_OPT_PATH, "with --ranks: mpirun's host file", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_entry train_sub[] = {
    {.name = "stop", .usage = "train stop", .summary = "stop the running training (resumable)",
     .help = "Ends the running `train` after the current step (Ctrl-C does the same).  The last\n"
             "end-of-epoch checkpoint stays in the session; a later `train N` continues from the\n"
             "trainer's position.",
     .max_pos = 0, .run = run_train_stop, .flags = CMD_WHILEJOB | CMD_NOSTATE},
    {.name = "pause", .usage = "train pause", .summary = "pause the running training",
     .help = "Holds the running `train` between steps without losing anything; `train resume`\n"
             "continues it, `train stop` ends it.",
     .max_pos = 0, .run = run_train_pause, .flags = CMD_WHILEJOB | CMD_NOSTATE},
    {.name = "resume", .usage = "train resume", .summary = "resume a paused training",
     .help = "Continues a `train` held by `train pause`; the result equals an uninterrupted run.",
     .max_pos = 0, .run = run_train_resume, .flags = CMD_WHILEJOB | CMD_NOSTATE},
    {NULL},
};

const struct cmd_entry cmd_train_entry = {
    .name = "train",
    .usage = "train EPOCHS [--lr 3e-3] [--batch 100] [--kl-warmup E] [--seed S] [--sweeps K] [--tau T]"
             " [--kl relaxed|analytic] [--relax gumbolt|st|power|exp|spike-exp] [--iw K [--rws]]"
             " [--lr-schedule const|dvae|cosine] [--kl-frac F] [--val-every N] [--ranks N [--hostfile F]]",
    .summary = "train the model for EPOCHS more epochs (train stop|pause|resume)",
    .help = "Continues from the trainer's position: `train 2; train 2` equals `train 4`, also across\n"
            "`session save` / `session load`.  Each step: a batch in a fixed order per (seed, epoch),\n"
            "dynamic binarisation, GumBolt noise, the prior's negative phase from the selected sampler\n"
            "(persistent Gibbs chains by default), Adam.  Every --log-every steps: a metrics event\n"
            "and a row in the session's metrics.csv (elbo, rec, kl, lr, images/s, active units).\n"
            "Every epoch: validation ELBO, relaxed and with discrete z (\"z\": what eval ll scores; the\n"
            "relaxed one can sit nats above it), a BM prior's log Z from a short population annealing\n"
            "run (exact up to 20 units), 16 generated digits, and a checkpoint of the session.\n"
            "A NaN or Inf in a step stops training before the bad update; nothing is saved.\n"
            "--threads N cuts every batch into N blocks run side by side and sums their gradients in a\n"
            "fixed order: the count is saved with the trainer (the sums' order changes the last bits),\n"
            "so a resumed run keeps it unless --threads is given again.\n"
            "--tau T lowers (or raises) the GumBolt temperature for this and later training: a last\n"
            "phase at a lower τ narrows the gap between the relaxed ELBO and the discrete model.\n"
            "--kl relaxed|analytic and --relax gumbolt|st switch how a BM prior is charged and how the\n"
            "(a model built with a mixture relaxation, power|exp|spike-exp, keeps it)\n"
            "latents are relaxed from here on (see `help model new`).\n"
            "--iw K trains on the importance-weighted bound log (1/K) Σ_k p(x,ζ_k)/q(ζ_k|x) with K\n"
            "relaxed samples per image (Burda et al.; the prior term per sample, so a Bernoulli prior\n"
            "uses GumBolt's form instead of its closed form): tighter than the ELBO and closer to what\n"
            "`eval ll` scores, at about (K+1)/2 times the cost of a step (the train ELBO shown is then\n"
            "that bound; validation stays single-sample).  Not with --kl analytic.\n"
            "--rws (with --iw K): reweighted wake-sleep on binary z = [l + g > 0] — the decoder and\n"
            "the prior follow the IW bound of the discrete model (what `eval ll` scores; nothing\n"
            "relaxed), the encoder maximises Σ_k w̃_k log q(z_k|x), the inclusive KL to the posterior\n"
            "(the proposal importance sampling wants); a last phase after relaxed training.\n"
            "--lr-schedule dvae|cosine scales --lr over this run (its epochs, or its --time budget):\n"
            "DVAE#'s steps 1/10, 1, 1/3, 1/10, 1/33 at 2, 60, 75, 95 %, or a cosine to 0.  --kl-frac F\n"
            "ramps the KL weight over the first F of the run.  The parameters at the best discrete\n"
            "validation ELBO are kept in the session: `model best` puts them back.",
    .sub = train_sub, .min_pos = 1, .max_pos = 1, .opts = train_opts_tab, .run = run_train,
    .flags = CMD_LONG,
};

/* ---- eval ----------------------------------------------------------------------------------------- */

static int parse_split(struct qv_app *app, const char *cmd, const char *s, enum data_split *sp)
{
    if (!strcmp(s, "train")) *sp = DATA_TRAIN;
    else if (!strcmp(s, "valid") || !strcmp(s, "validation")) *sp = DATA_VALID;
    else if (!strcmp(s, "test")) *sp = DATA_TEST;
    else return qv_error(app, "%s: --split: unknown split '%s' (train, valid, test)", cmd, s);
    return 0;
}

struct prog { struct qv_app *app; const char *job; const char *unit; double last; };
static void prog_cb(void *ud, double done, double total)
{
    struct prog *p = ud;
    double now = qv_now();
    if (done < total && now - p->last < 0.2) return;
    p->last = now;
    qv_progress(p->app, p->job, done, total, p->unit);
}

/* Loads N binarised images of a split (fixed binarisation: epoch 0). */
static float *load_split(const struct dataset *ds, enum data_split sp, long N)
{
    float *x = qv_malloc(sizeof(float) * (size_t)N * ds->d);
    long idx[256];
    for (long i0 = 0; i0 < N; i0 += 256) {
        int nb = (int)QV_MIN(256L, N - i0);
        for (int b = 0; b < nb; b++) idx[b] = i0 + b;
        data_batch(ds, sp, idx, nb, 0, x + (size_t)i0 * ds->d);
    }
    return x;
}

static int check_model_data(struct qv_app *app, const char *cmd)
{
    struct dvae *m = app->st.model;
    if (!m) return qv_error(app, "%s: no model (`model new`, `train`, or `session load`)", cmd);
    if (!app->st.data) return qv_error(app, "%s: no data: load a dataset first (`data load …`)", cmd);
    if (app->st.data->d != m->cfg.D)
        return qv_error(app, "%s: the data has %d pixels per image but the model expects %d", cmd,
                        app->st.data->d, m->cfg.D);
    if (m->cfg.prior == DVAE_PRIOR_BM && (!app->st.prior || app->st.prior->n != m->cfg.n))
        return qv_error(app, "%s: the model needs its %d-unit Boltzmann-machine prior (prior has %d)", cmd,
                        m->cfg.n, app->st.prior ? app->st.prior->n : 0);
    return 0;
}

/* log Z of the prior for eval ll by `method` (pa, ais, exact, or both: PA and AIS side by side,
 * PA's value with the error bar widened to the larger of the two spreads and their disagreement —
 * both under-estimate log Z on average, and their spreads understate it on sharp priors). */
static int eval_logz(struct qv_app *app, const struct cmd_args *a, const char *method, uint64_t seed,
                     double *logz, double *err)
{
    const bool both = !strcmp(method, "both");
    struct logz_result r[2];
    for (int k = 0; k < (both ? 2 : 1); k++) {
        const char *mk = both ? (k ? "ais" : "pa") : method;
        struct prog p = {app, "log Z", "steps", 0};
        struct logz_opts lo = {.population = cmd_int(a, "population", 0), .steps = cmd_int(a, "steps", 0),
                               .seed = seed, .cancel = &app->cancel, .progress = prog_cb, .ud = &p};
        if (bm_logz(app->st.prior, 1.0, mk, &lo, &r[k]) < 0) return qv_error(app, "eval ll: %s", qv_errmsg());
        qv_printf(app, "log Z = %.4f ± %.4f (%s, %.1f s; %s)", r[k].logz, r[k].err, mk, r[k].seconds, r[k].info);
    }
    *logz = r[0].logz;
    *err = r[0].err;
    if (both) {
        *err = fmax(fmax(r[0].err, r[1].err), fabs(r[0].logz - r[1].logz));
        qv_printf(app, "log Z = %.4f ± %.4f (PA's value; the bar is the larger of PA's and AIS's spreads and "
                       "their disagreement, %.4f)", *logz, *err, fabs(r[0].logz - r[1].logz));
    }
    return 0;
}

static int run_eval_ll(struct qv_app *app, const struct cmd_args *a)
{
    long K = cmd_int(a, "k", 5000);
    if (cmd_has(a, "ranks")) return cmd_launch_ranks(app, a, false);
    if (K < 1) return qv_error(app, "eval ll: --k must be at least 1, got %ld", K);
    if (check_model_data(app, "eval ll") < 0) return -1;
    enum data_split sp = DATA_TEST;
    if (parse_split(app, "eval ll", cmd_str(a, "split", "test"), &sp) < 0) return -1;
    struct dvae *m = app->st.model;
    const struct dataset *ds = app->st.data;
    long N = ds->split_count[sp];
    if (cmd_has(a, "n")) {
        long nn = cmd_int(a, "n", N);
        if (nn < 1) return qv_error(app, "eval ll: --n must be at least 1");
        N = QV_MIN(N, nn);
    }
    if (N < 1) return qv_error(app, "eval ll: the %s split is empty", data_split_name(sp));
    long threads = cmd_int(a, "threads", QV_MIN(qv_ncpu(), 8));
    if (threads < 1 || threads > EVAL_MAX_THREADS)
        return qv_error(app, "eval ll: --threads must be 1..%d, got %ld", EVAL_MAX_THREADS, threads);
    uint64_t seed = cmd_has(a, "seed") ? (uint64_t)cmd_int(a, "seed", 1) : app->st.seed;
    double logz = 0, lzerr = 0;
    const char *method = cmd_str(a, "logz", "pa");
    atomic_store(&app->cancel, 0);
    if (m->cfg.prior == DVAE_PRIOR_BM && eval_logz(app, a, method, seed, &logz, &lzerr) < 0) return -1;
    float *x = load_split(ds, sp, N);
    double *ll = qv_malloc(sizeof(double) * (size_t)N);
    struct prog p = {app, "eval", "images", 0};
    struct eval_ctx ctx = {.seed = seed, .cancel = &app->cancel, .progress = prog_cb, .ud = &p,
                           .threads = threads};
    double t0 = qv_now();
    int rc = eval_iw_ll(m, app->st.prior, logz, x, N, K, &ctx, ll);
    if (rc == 0) {
        double s = 0, s2 = 0;
        for (long i = 0; i < N; i++) s += ll[i];
        double mean = s / N;
        for (long i = 0; i < N; i++) s2 += (ll[i] - mean) * (ll[i] - mean);
        double se = N > 1 ? sqrt(s2 / (N - 1) / N) : NAN;
        qv_printf(app, "%s LL = %.3f ± %.3f (standard error over %ld images, K = %ld, %.1f s)%s",
                  data_split_name(sp), mean, se, N, K, qv_now() - t0,
                  m->cfg.prior == DVAE_PRIOR_BM ? "" : "; Bernoulli prior: log Z exact");
        if (m->cfg.prior == DVAE_PRIOR_BM)
            qv_printf(app, "log Z error bar: LL ± %.3f (every image shifts by −log Z)", lzerr);
        struct qv_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = QV_EV_METRICS;
        ev.m.step = app->st.trainer ? app->st.trainer->step : 0;
        ev.m.epoch = app->st.trainer ? (double)app->st.trainer->epoch : 0;
        ev.m.elbo = ev.m.rec = ev.m.kl = ev.m.lr = ev.m.ips = ev.m.val_elbo = ev.m.val_elbo_z = NAN;
        ev.m.val_ll = mean;
        ev.m.active_units = -1;
        qv_emit(app, &ev);
    }
    free(x);
    free(ll);
    return rc < 0 ? qv_error(app, "eval ll: %s", qv_errmsg()) : 0;
}

static int run_eval_units(struct qv_app *app, const struct cmd_args *a)
{
    double th = cmd_float(a, "threshold", 0.01);
    if (!(th >= 0)) return qv_error(app, "eval units: --threshold must be >= 0");
    if (check_model_data(app, "eval units") < 0) return -1;
    enum data_split sp = DATA_TEST;
    if (parse_split(app, "eval units", cmd_str(a, "split", "test"), &sp) < 0) return -1;
    struct dvae *m = app->st.model;
    const struct dataset *ds = app->st.data;
    long N = ds->split_count[sp];
    if (cmd_has(a, "n")) N = QV_MIN(N, QV_MAX(1L, cmd_int(a, "n", N)));
    if (N < 1) return qv_error(app, "eval units: the %s split is empty", data_split_name(sp));
    float *x = load_split(ds, sp, N);
    const int n = m->cfg.n;
    double *mean = qv_malloc(sizeof(double) * (size_t)n), *var = qv_malloc(sizeof(double) * (size_t)n);
    int act = eval_units(m, x, N, th, mean, var);
    qv_printf(app, "active units: %d of %d (variance over %ld %s images of E_q[z_u] > %g)", act, n, N,
              data_split_name(sp), th);
    float *vals = qv_malloc(sizeof(float) * 2 * (size_t)n);
    for (int u = 0; u < n; u++) {
        vals[u] = (float)var[u];
        vals[n + u] = (float)mean[u];
    }
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_ACTIVITY;
    ev.n = n;
    ev.values = vals;
    ev.values2 = vals + n;
    ev.ival = act;
    qv_emit(app, &ev);
    int rc = 0;   /* --png F: the latent map as a figure (figs.c) */
    if (cmd_has(a, "png") && figs_latent(app->st.prior ? app->st.prior->g : NULL, vals, n,
                                         "activity Var_x E_q[z_u]", cmd_str(a, "png", "")))
        rc = qv_error(app, "eval units: --png: %s", qv_errmsg());
    free(vals); free(mean); free(var); free(x);
    return rc;
}

static const struct cmd_opt eval_ll_opts[] = {
    {"k", CMD_OPT_INT, "importance samples per image (default 5000)", NULL},
    {"split", CMD_OPT_STR, "train, valid or test (default test)", NULL},
    {"logz", CMD_OPT_STR, "log Z of a BM prior: pa (default), ais, exact, or both (PA and AIS side by "
                          "side, the bar widened to their disagreement)", "pa|ais|exact|both"},
    {"n", CMD_OPT_INT, "evaluate only the first N images of the split", NULL},
    {"seed", CMD_OPT_INT, "seed of the importance samples and of log Z (default: master seed)", NULL},
    {"population", CMD_OPT_INT, "PA population / AIS chains for log Z (default: the estimator's)", NULL},
    {"steps", CMD_OPT_INT, "β steps for log Z (default: the estimator's)", NULL},
    {"threads", CMD_OPT_INT, "images evaluated side by side (default: the CPUs, at most 8; same result)", NULL},
    {"ranks", CMD_OPT_INT, "run as an MPI job of N ranks (mpirun; same result)", NULL},
    {"hostfile", CMD_OPT_PATH, "with --ranks: mpirun's host file", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_opt eval_units_opts[] = {
    {"threshold", CMD_OPT_FLOAT, "variance above which a unit counts as active (default 0.01)", NULL},
    {"split", CMD_OPT_STR, "train, valid or test (default test)", NULL},
    {"n", CMD_OPT_INT, "use only the first N images of the split", NULL},
    {"png", CMD_OPT_PATH, "write the latent map (activity per unit on the qubit graph) as a PNG", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_entry eval_sub[] = {
    {.name = "ll", .usage = "eval ll [--k 5000] [--split test] [--logz pa|ais|exact|both] [--n N] [--ranks N]",
     .summary = "importance-weighted test log-likelihood with its error bars",
     .help = "log p(x) ≈ LSE_k[log p(x|z_k) + log p(z_k) − log q(z_k|x)] − log K with discrete\n"
             "z_k ~ q(z|x).  A Boltzmann-machine prior needs log Z: estimated here by population\n"
             "annealing (pa), annealed importance sampling (ais) or enumeration (exact, ≤ 28 units);\n"
             "its error bar shifts every image's LL alike and is reported separately from the standard\n"
             "error over images.  Test images are binarised once (fixed seed).",
     .max_pos = 0, .opts = eval_ll_opts, .complete = CMD_COMPLETE_NONE, .run = run_eval_ll,
     .flags = CMD_LONG},
    {.name = "units", .usage = "eval units [--threshold 0.01] [--split test] [--n N] [--png FILE]",
     .summary = "count active latent units (variance over the data of E_q[z_u] > threshold)",
     .help = "A unit u is active when Var_x(E_q[z_u | x]) over the split exceeds the threshold\n"
             "(Burda et al.; 0.01 by default), computed over --n images of the split (all by default).",
     .max_pos = 0, .opts = eval_units_opts, .run = run_eval_units, .flags = CMD_LONG},
    {NULL},
};

const struct cmd_entry cmd_eval_entry = {
    .name = "eval", .usage = "eval ll|units …", .summary = "evaluate the model: log-likelihood, active units",
    .help = "`eval ll` estimates the test log-likelihood by importance weighting with discrete latents\n"
            "and the prior's log Z (exact, PA or AIS), with both error bars; `eval units` counts\n"
            "active latent units.",
    .sub = eval_sub,
};
