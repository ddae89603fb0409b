/* cmd_prior.c — the `prior` command group (new chimera|pegasus|zephyr|bernoulli|edges, cut,
 * random, export, import, info, logz); its session section is in prior_sess.c.  The prior lives in
 * app->st.prior (a Boltzmann machine) or, for the factorised baseline, app->st.prior_bernoulli_n. */
#include "cmd.h"
#include "bm.h"
#include "ocean.h"
#include "sampler.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void prior_changed(struct qv_app *app)
{
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
}

/* Replace the current prior with bm (takes ownership). */
static void prior_install(struct qv_app *app, struct bm *bm)
{
    bm_free(app->st.prior);
    app->st.prior = bm;
    app->st.prior_bernoulli_n = 0;
    snprintf(app->st.prior_desc, sizeof app->st.prior_desc, "%s", bm->g->desc);
    prior_changed(app);
    qv_printf(app, "prior %s: %d units, %ld couplers, %d colours (parameters zero)", bm->g->desc,
              bm->n, bm->ne, bm->g->ncolors);
}

/* Positional i as an int in [lo, hi]. */
static int pos_int(struct qv_app *app, const struct cmd_args *a, int i, const char *name, long lo,
                   long hi, int *out)
{
    long v;
    if (cmd_pos_long(app, a, i, &v)) return -1;
    if (v < lo || v > hi)
        return qv_error(app, "%s: %s must be an integer in %ld..%ld, got %ld", a->path, name, lo, hi, v);
    *out = (int)v;
    return 0;
}

static struct bm *need_bm(struct qv_app *app, const char *cmd)
{
    if (app->st.prior) return app->st.prior;
    if (app->st.prior_bernoulli_n > 0)
        qv_error(app, "%s: the prior is bernoulli %d (no couplers); create a graph prior with "
                      "`prior new chimera|pegasus|zephyr …`", cmd, app->st.prior_bernoulli_n);
    else
        qv_error(app, "%s: no prior (try `prior new chimera 4`)", cmd);
    return NULL;
}

/* ---------------------------------------------------------------- prior new … */

int qpu_fit_prior(struct qv_app *app, struct graph **g);   /* cmd_qpu.c: --fit-solver */

static int install_graph(struct qv_app *app, const struct cmd_args *a, struct graph *g)
{
    if (!g) return qv_error(app, "prior new: %s", qv_errmsg());
    if (cmd_has(a, "fit-solver") && qpu_fit_prior(app, &g)) { graph_free(g); return -1; }
    prior_install(app, bm_new(g));
    return 0;
}

/* Sizes are checked by the graph constructors (memory); this bound only keeps them in int. */
#define DIM_MAX 1000000L

static int run_new_chimera(struct qv_app *app, const struct cmd_args *a)
{
    int m = 0, n, t = 4;
    if (pos_int(app, a, 0, "M", 1, DIM_MAX, &m)) return -1;
    n = m;
    if (a->npos > 1 && pos_int(app, a, 1, "N", 1, DIM_MAX, &n)) return -1;
    if (a->npos > 2 && pos_int(app, a, 2, "T", 1, DIM_MAX, &t)) return -1;
    return install_graph(app, a, graph_chimera(m, n, t));
}

static int run_new_pegasus(struct qv_app *app, const struct cmd_args *a)
{
    int m = 0;
    if (pos_int(app, a, 0, "M", 2, DIM_MAX, &m)) return -1;
    const char *v = cmd_str(a, "variant", "fabric");
    enum pegasus_variant pv;
    if (!strcmp(v, "fabric")) pv = PEGASUS_FABRIC;
    else if (!strcmp(v, "full")) pv = PEGASUS_FULL;
    else if (!strcmp(v, "nice")) pv = PEGASUS_NICE;
    else return qv_error(app, "prior new pegasus: --variant: unknown '%s' (fabric, full, nice)", v);
    return install_graph(app, a, graph_pegasus(m, pv));
}

static int run_new_zephyr(struct qv_app *app, const struct cmd_args *a)
{
    int m = 0, t = 4;
    if (pos_int(app, a, 0, "M", 1, DIM_MAX, &m)) return -1;
    if (a->npos > 1 && pos_int(app, a, 1, "T", 1, DIM_MAX, &t)) return -1;
    return install_graph(app, a, graph_zephyr(m, t));
}

static int run_new_edges(struct qv_app *app, const struct cmd_args *a)
{
    return install_graph(app, a, graph_load_edges(a->pos[0]));
}

static int run_new_bernoulli(struct qv_app *app, const struct cmd_args *a)
{
    int n = 0;
    if (pos_int(app, a, 0, "N", 1, QV_PRIOR_BERNOULLI_MAX, &n)) return -1;
    bm_free(app->st.prior);
    app->st.prior = NULL;
    app->st.prior_bernoulli_n = n;
    snprintf(app->st.prior_desc, sizeof app->st.prior_desc, "bernoulli %d", n);
    prior_changed(app);
    qv_printf(app, "prior bernoulli %d: %d independent units", n, n);
    return 0;
}

static const struct cmd_opt new_fit_opts[] = {
    {"fit-solver", CMD_OPT_FLAG, "drop the qubits and couplers that do not work on the current QPU solver (qpu use)", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_opt new_pegasus_opts[] = {
    {"fit-solver", CMD_OPT_FLAG, "drop the qubits and couplers that do not work on the current QPU solver (qpu use)", NULL},
    {"variant", CMD_OPT_STR, "fabric (default: the qubits of a real Advantage chip), full, or nice", "fabric|full|nice"},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_entry prior_new_sub[] = {
    {.name = "chimera", .usage = "prior new chimera M [N [T]]",
     .summary = "Chimera C(M,N,T) prior (N defaults to M, T to 4)",
     .help = "M×N unit cells, each a complete bipartite K(T,T); 2·M·N·T units.  C(16,16,4) is the\n"
             "D-Wave 2000Q graph; C(6,6,4) (288 units) is the QVAE paper's prior.  Bipartite: an RBM.",
     .min_pos = 1, .max_pos = 3, .opts = new_fit_opts, .run = run_new_chimera},
    {.name = "pegasus", .usage = "prior new pegasus M [--variant fabric|full|nice]",
     .summary = "Pegasus P(M) prior (P16 fabric = the 5640 qubits of Advantage)",
     .help = "fabric: the qubits of a real chip (24M(M-1) - 8(M-1)); full: every index (24M(M-1));\n"
             "nice: the 24(M-1)^2 qubits with nice coordinates (3 Chimera-like slices).\n"
             "Not bipartite (odd couplers close triangles): 4 colour classes.",
     .min_pos = 1, .max_pos = 1, .opts = new_pegasus_opts, .run = run_new_pegasus},
    {.name = "zephyr", .usage = "prior new zephyr M [T]",
     .summary = "Zephyr Z(M,T) prior (T defaults to 4; Z(12,4) = Advantage2)",
     .help = "4·T·M·(2M+1) units, degree up to 4T+4.  Not bipartite: 4 colour classes.",
     .min_pos = 1, .max_pos = 2, .opts = new_fit_opts, .run = run_new_zephyr},
    {.name = "bernoulli", .usage = "prior new bernoulli N",
     .summary = "factorised Bernoulli prior of N units (the no-coupling baseline)",
     .help = "N (1..16777216) independent units with biases and no couplings: the baseline a\n"
             "Boltzmann-machine prior is compared against.  The latent panel draws it as a grid.",
     .min_pos = 1, .max_pos = 1, .run = run_new_bernoulli},
    {.name = "edges", .usage = "prior new edges FILE",
     .summary = "prior on any graph, from a text edge list",
     .help = "FILE has one \"U V\" pair of non-negative integer qubit labels per line; a line with a\n"
             "single label adds an isolated unit; '#' starts a comment.  Repeated edges merge.",
     .min_pos = 1, .max_pos = 1, .complete = CMD_COMPLETE_FILE, .run = run_new_edges},
    {0},
};

/* ---------------------------------------------------------------- prior cut / random */

static uint64_t opt_seed(const struct qv_app *app, const struct cmd_args *a, uint64_t salt)
{
    if (cmd_has(a, "seed")) return (uint64_t)cmd_int(a, "seed", 0);
    return app->st.seed * 0x9e3779b97f4a7c15ULL + salt;
}

static int run_cut(struct qv_app *app, const struct cmd_args *a)
{
    struct bm *bm = need_bm(app, "prior cut");
    if (!bm) return -1;
    int n = 0;
    if (pos_int(app, a, 0, "N", 1, bm->n, &n)) return -1;
    if (cmd_has(a, "seed") && cmd_int(a, "seed", 0) < 0)
        return qv_error(app, "prior cut: --seed must be a non-negative integer");
    struct graph *g = graph_random_connected_subgraph(bm->g, n, opt_seed(app, a, 0xc07));
    if (!g) return qv_error(app, "prior cut: %s", qv_errmsg());
    /* keep the parameters of the kept units and couplers */
    struct bm *nb = bm_new(g);
    for (int i = 0; i < g->nv; i++) nb->b[i] = bm->b[graph_find_label(bm->g, g->label[i])];
    for (long k = 0; k < g->ne; k++) {
        int u = graph_find_label(bm->g, g->label[g->edges[k][0]]);
        int v = graph_find_label(bm->g, g->label[g->edges[k][1]]);
        nb->w[k] = bm->w[graph_edge_index(bm->g, u, v)];
    }
    bm_free(app->st.prior);
    app->st.prior = nb;
    snprintf(app->st.prior_desc, sizeof app->st.prior_desc, "%s", g->desc);
    prior_changed(app);
    qv_printf(app, "prior %s: %d units, %ld couplers (a connected cut; parameters kept)", g->desc,
              nb->n, nb->ne);
    return 0;
}

static int run_random(struct qv_app *app, const struct cmd_args *a)
{
    struct bm *bm = need_bm(app, "prior random");
    if (!bm) return -1;
    double scale = cmd_float(a, "scale", 1.0);
    /* beyond ~1e6 the binary form (b = -2h - 2ΣJ, W = 4J) and energies overflow or lose all
     * precision, so a huge scale is refused here rather than failing later in a sampler */
    if (!isfinite(scale) || scale < 0 || scale > 1e6)
        return qv_error(app, "prior random: --scale must be a number in [0, 1e6], got %g", scale);
    if (cmd_has(a, "seed") && cmd_int(a, "seed", 0) < 0)
        return qv_error(app, "prior random: --seed must be a non-negative integer");
    if (bm_random(bm, scale, opt_seed(app, a, 0x4a)) < 0) return qv_error(app, "%s", qv_errmsg());
    prior_changed(app);
    qv_printf(app, "prior %s: random h, J uniform in [-%g, %g]", app->st.prior_desc, scale, scale);
    return 0;
}

static const struct cmd_opt random_opts[] = {
    {"scale", CMD_OPT_FLOAT, "half-width of the uniform range of h and J (default 1)", NULL},
    {"seed", CMD_OPT_INT, "random seed (default: derived from the master seed)", NULL},
    {NULL, 0, NULL, NULL},
};
static const struct cmd_opt cut_opts[] = {
    {"seed", CMD_OPT_INT, "random seed (default: derived from the master seed)", NULL},
    {NULL, 0, NULL, NULL},
};

/* ---------------------------------------------------------------- prior export / import */

/* --format text|coo|bqm-json of export/import (text when absent); -1 with the error reported. */
static int opt_format(struct qv_app *app, const struct cmd_args *a, const char *cmd, enum ocean_format *f)
{
    *f = OCEAN_TEXT;
    if (cmd_has(a, "format") && ocean_format_parse(cmd_str(a, "format", "text"), f))
        return qv_error(app, "%s: %s", cmd, qv_errmsg());
    return 0;
}

static int run_export(struct qv_app *app, const struct cmd_args *a)
{
    struct bm *bm = need_bm(app, "prior export");
    if (!bm) return -1;
    enum ocean_format fmt;
    if (opt_format(app, a, "prior export", &fmt)) return -1;
    char *txt = NULL;
    size_t len;
    bool binary = cmd_has(a, "binary");
    int rc;
    if (fmt == OCEAN_TEXT) {
        rc = bm_format_text(bm, binary, &txt, &len);
    } else {   /* dimod's formats: BINARY a = −b, q = −W; SPIN h, J and the offset (ocean.h) */
        struct ocean_bqm q;
        rc = ocean_bqm_from_bm(bm, binary ? OCEAN_BINARY : OCEAN_SPIN, &q);
        if (!rc) rc = fmt == OCEAN_COO ? ocean_coo_format(&q, &txt, &len) : ocean_bqm_json_format(&q, &txt, &len);
        ocean_bqm_free(&q);
    }
    if (rc < 0 || qv_write_file_atomic(a->pos[0], txt, len) < 0) {
        free(txt);
        return qv_error(app, "prior export: %s", qv_errmsg());
    }
    free(txt);
    if (fmt == OCEAN_TEXT)
        qv_printf(app, "wrote %d %s and %ld %s to %s", bm->n, binary ? "biases b" : "fields h", bm->ne,
                  binary ? "couplings W" : "couplings J", a->pos[0]);
    else {
        double off = 0;
        if (!binary && fmt == OCEAN_COO) {   /* the offset of bm_to_ising (h, J scratch) */
            double *h = qv_mallocarray((size_t)bm->n, sizeof *h), *J = qv_mallocarray((size_t)QV_MAX(bm->ne, 1), sizeof *J);
            bm_to_ising(bm, h, J, &off);
            free(h);
            free(J);
        }
        qv_printf(app, "wrote a %s BQM of %d variables and %ld interactions (%s) to %s%s", binary ? "BINARY" : "SPIN",
                  bm->n, bm->ne, fmt == OCEAN_COO ? "COO" : "BQM JSON", a->pos[0],
                  off != 0 ? "; COO has no offset line: E(z) = E_file(s) + offset" : "");
        if (off != 0) qv_printf(app, "  offset %.17g", off);
    }
    return 0;
}

/* `prior import F --format coo|bqm-json [--vartype V] [--new]`: dimod's formats. */
static int import_ocean(struct qv_app *app, const struct cmd_args *a, enum ocean_format fmt)
{
    const char *path = a->pos[0];
    enum ocean_vartype vt;
    if (cmd_has(a, "vartype") && fmt != OCEAN_COO)
        return qv_error(app, "prior import: --vartype goes with --format coo (BQM JSON names its vartype)");
    if (cmd_has(a, "vartype") && ocean_vartype_parse(cmd_str(a, "vartype", ""), &vt))
        return qv_error(app, "prior import: --%s", qv_errmsg());
    if (!cmd_has(a, "new") && !need_bm(app, "prior import")) return -1;
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, false, &buf, &len)) return qv_error(app, "prior import: %s", qv_errmsg());
    struct ocean_bqm q;
    int rc = fmt == OCEAN_COO ? ocean_coo_parse((const char *)buf, path, cmd_has(a, "vartype") ? &vt : NULL, &q)
                              : ocean_bqm_json_parse((const char *)buf, len, path, &q);
    free(buf);
    if (rc) return qv_error(app, "prior import: %s", qv_errmsg());
    if (cmd_has(a, "new")) {
        struct bm *nb = ocean_bqm_new_bm(&q, path);
        if (!nb) rc = qv_error(app, "prior import: %s", qv_errmsg());
        else {
            bm_free(app->st.prior);
            app->st.prior = nb;
            app->st.prior_bernoulli_n = 0;
            snprintf(app->st.prior_desc, sizeof app->st.prior_desc, "%s", nb->g->desc);
        }
    } else if (ocean_bqm_to_bm(&q, app->st.prior, path)) {
        rc = qv_error(app, "prior import: %s", qv_errmsg());
    }
    if (!rc) {
        prior_changed(app);
        qv_printf(app, "prior %s: %s BQM of %d variables, %ld interactions read from %s%s", app->st.prior_desc,
                  ocean_vartype_name(q.vt), q.nv, q.nq, path,
                  q.offset != 0 ? " (its offset is dropped: it shifts every energy alike)" : "");
    }
    ocean_bqm_free(&q);
    return rc;
}

static int run_import(struct qv_app *app, const struct cmd_args *a)
{
    enum ocean_format fmt;
    if (opt_format(app, a, "prior import", &fmt)) return -1;
    if (fmt != OCEAN_TEXT) return import_ocean(app, a, fmt);
    if (cmd_has(a, "new") || cmd_has(a, "vartype"))
        return qv_error(app, "prior import: --new and --vartype go with --format coo|bqm-json");
    struct bm *bm = need_bm(app, "prior import");
    if (!bm) return -1;
    if (bm_parse_text(bm, a->pos[0]) < 0) return qv_error(app, "prior import: %s", qv_errmsg());
    prior_changed(app);
    qv_printf(app, "prior %s: parameters read from %s", app->st.prior_desc, a->pos[0]);
    return 0;
}

static const struct cmd_opt export_opts[] = {
    {"binary", CMD_OPT_FLAG, "write b, W (binary units) instead of h, J (Ising spins); with --format coo|bqm-json a BINARY BQM", NULL},
    {"format", CMD_OPT_STR, "text (qvae's h/J lines, default), coo or bqm-json (dimod's formats)", "text|coo|bqm-json"},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_opt import_opts[] = {
    {"format", CMD_OPT_STR, "text (default), coo or bqm-json (dimod's formats)", "text|coo|bqm-json"},
    {"vartype", CMD_OPT_STR, "coo: SPIN or BINARY when the file has no '# vartype=' header", "spin|binary"},
    {"new", CMD_OPT_FLAG, "coo/bqm-json: a new prior on the file's own graph (its labels and interactions)", NULL},
    {NULL, 0, NULL, NULL},
};

/* ---------------------------------------------------------------- prior info */

static int run_info(struct qv_app *app, const struct cmd_args *a)
{
    if (app->st.prior_bernoulli_n > 0 && !app->st.prior) {
        qv_printf(app, "prior bernoulli %d: %d independent units, no couplers",
                  app->st.prior_bernoulli_n, app->st.prior_bernoulli_n);
        return 0;
    }
    struct bm *bm = need_bm(app, "prior info");
    if (!bm) return -1;
    const struct graph *g = bm->g;
    static const char *const kinds[] = {"edge list", "chimera", "pegasus", "zephyr"};
    long lmin = g->nv ? g->label[g->label_order[0]] : 0, lmax = g->nv ? g->label[g->label_order[g->nv - 1]] : 0;
    qv_printf(app, "prior %s (%s): %d units, %ld couplers, qubit labels %ld..%ld", g->desc,
              kinds[g->kind], g->nv, g->ne, lmin, lmax);
    long *hist = qv_calloc((size_t)g->maxdeg + 1, sizeof(long));
    graph_degree_hist(g, hist);
    char buf[1024];
    size_t o = 0;
    for (int d = 0; d <= g->maxdeg && o < sizeof buf; d++)
        if (hist[d]) o += (size_t)snprintf(buf + o, sizeof buf - o, " %d:%ld", d, hist[d]);
    free(hist);
    qv_printf(app, "degree histogram (degree:units):%s", buf);
    long *cc = qv_calloc((size_t)g->ncolors + 1, sizeof(long));
    for (int v = 0; v < g->nv; v++) cc[g->color[v]]++;
    o = 0;
    buf[0] = 0;
    for (int c = 0; c < g->ncolors && o < sizeof buf; c++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, " %ld", cc[c]);
    free(cc);
    qv_printf(app, "colours: %d classes of sizes%s (%s)", g->ncolors, buf,
              graph_coloring_ok(g) ? "proper" : "NOT proper");
    struct bm_ranges r;
    bm_ranges(bm, &r);
    qv_printf(app, "binary: b in [%.6g, %.6g], W in [%.6g, %.6g]", r.bmin, r.bmax, r.wmin, r.wmax);
    qv_printf(app, "ising:  h in [%.6g, %.6g], J in [%.6g, %.6g], offset %.6g", r.hmin, r.hmax,
              r.jmin, r.jmax, r.offset);
    return 0;
}

/* ---------------------------------------------------------------- prior logz */

static void logz_progress(void *ud, double done, double total)
{
    qv_progress(ud, "logz", done, total, "steps");
}

static int run_logz(struct qv_app *app, const struct cmd_args *a)
{
    struct bm *bm = need_bm(app, "prior logz");
    if (!bm) return -1;
    const char *method = cmd_str(a, "method", bm_exact_enum_units(bm) <= 24 ? "exact" : "pa");
    if (strcmp(method, "exact") && strcmp(method, "pa") && strcmp(method, "ais"))
        return qv_error(app, "prior logz: --method: unknown '%s' (exact, pa, ais)", method);
    double beta = cmd_float(a, "beta", 1.0);
    if (!isfinite(beta) || beta < 0)
        return qv_error(app, "prior logz: --beta must be a finite number >= 0, got %g", beta);
    struct logz_opts o = {0};
    o.population = cmd_int(a, "population", 0);
    o.steps = cmd_int(a, "steps", 0);
    long sw = cmd_int(a, "sweeps", 0);
    if (o.population < 0 || o.steps < 0 || sw < 0 || sw > INT_MAX)
        return qv_error(app, "prior logz: --population, --steps and --sweeps must be positive integers");
    o.sweeps = (int)sw;
    if (cmd_has(a, "seed") && cmd_int(a, "seed", 0) < 0)
        return qv_error(app, "prior logz: --seed must be a non-negative integer");
    o.seed = opt_seed(app, a, 0x1e2);
    o.cancel = &app->cancel;
    o.progress = logz_progress;
    o.ud = app;
    struct logz_result r;
    if (bm_logz(bm, beta, method, &o, &r) < 0) {
        const char *msg = qv_errmsg();   /* bm_logz's messages already start with "logz: " */
        return qv_error(app, "prior %s%s", strncmp(msg, "logz: ", 6) ? "logz: " : "", msg);
    }
    if (!strcmp(method, "exact"))
        qv_printf(app, "log Z = %.10g at beta %g (exact, %.3f s)", r.logz, beta, r.seconds);
    else
        qv_printf(app, "log Z = %.8g ± %.3g at beta %g (%s, ESS %.4g, %.3f s)%s%s", r.logz, r.err,
                  beta, method, r.ess, r.seconds, r.info[0] ? " — " : "", r.info);
    return 0;
}

static const struct cmd_opt logz_opts[] = {
    {"method", CMD_OPT_STR, "exact (enumeration of up to 2^28 states; the default when it is quick), pa (population annealing) or ais", "exact|pa|ais"},
    {"beta", CMD_OPT_FLOAT, "inverse temperature (default 1)", NULL},
    {"population", CMD_OPT_INT, "PA population / AIS chains (default: the sampler's)", NULL},
    {"steps", CMD_OPT_INT, "number of beta steps (default: the sampler's)", NULL},
    {"sweeps", CMD_OPT_INT, "sweeps per beta step (default: the sampler's)", NULL},
    {"seed", CMD_OPT_INT, "random seed (default: derived from the master seed)", NULL},
    {NULL, 0, NULL, NULL},
};

/* ---------------------------------------------------------------- the group */

extern const struct cmd_opt cmd_prior_modes_opts[];   /* cmd_lab.c */
extern const char cmd_prior_modes_help[];
int cmd_prior_modes(struct qv_app *app, const struct cmd_args *a);

static const struct cmd_entry prior_sub[] = {
    {.name = "new", .usage = "prior new chimera|pegasus|zephyr|bernoulli|edges …",
     .summary = "create a new prior (parameters zero)", .sub = prior_new_sub,
     .help = "Replaces the current prior.  Sizes that are zero, negative or too large for memory\n"
             "are refused with an error and the old prior is kept."},
    {.name = "random", .usage = "prior random [--scale X] [--seed S]",
     .summary = "random Ising parameters h, J ~ U(-X, X) (for experiments)",
     .help = "Draws h_i and J_ij uniformly in [-X, X] (X = --scale, default 1) and stores them in\n"
             "the binary convention (W = -4J, b = -2h + 2ΣJ).  Same seed, same parameters.",
     .min_pos = 0, .max_pos = 0, .opts = random_opts, .run = run_random},
    {.name = "cut", .usage = "prior cut N [--seed S]",
     .summary = "keep a random connected piece of N units of the current prior",
     .help = "Grows a connected induced subgraph from a random unit (parameters are kept).  Useful\n"
             "to check samplers against exact enumeration: `prior cut 16; sampler check`.",
     .min_pos = 1, .max_pos = 1, .opts = cut_opts, .run = run_cut},
    {.name = "export", .usage = "prior export FILE [--binary] [--format text|coo|bqm-json]",
     .summary = "write the parameters as text, or as a dimod BQM (COO or JSON)",
     .help = "text: one parameter a line, \"h LABEL VALUE\" and \"J LABEL LABEL VALUE\" (Ising, D-Wave's\n"
             "sign, E(s) = Σ h s + Σ J s s), or with --binary \"b …\" and \"W …\"; the header comment gives\n"
             "the constant offset between the conventions.  coo: dimod.serialization.coo's text\n"
             "(\"# vartype=SPIN\", then \"i j bias\" lines, linear terms as \"i i bias\"); bqm-json:\n"
             "BinaryQuadraticModel.to_serializable() as JSON.  Both SPIN (h, J and the offset) or with\n"
             "--binary BINARY (a = −b, q = −W), labels = qubit labels; the BQM's energy of every\n"
             "state equals the prior's E(z).  README \"Ocean interchange\" has a worked example.",
     .min_pos = 1, .max_pos = 1, .opts = export_opts, .complete = CMD_COMPLETE_FILE, .run = run_export},
    {.name = "import", .usage = "prior import FILE [--format text|coo|bqm-json] [--vartype spin|binary] [--new]",
     .summary = "set the parameters of the prior from a text file or a dimod BQM",
     .help = "text reads the format of `prior export` (h/J or b/W lines, not mixed); coo and\n"
             "bqm-json read dimod's (COO needs a '# vartype=' header or --vartype).  Every qubit and\n"
             "coupler named must exist in the current graph; parameters not listed become 0.  With\n"
             "--new the prior is replaced by one on the file's own graph.  A BQM's offset is dropped\n"
             "(it shifts every energy alike); repeated terms add up, as in dimod.",
     .min_pos = 1, .max_pos = 1, .opts = import_opts, .complete = CMD_COMPLETE_FILE, .run = run_import},
    {.name = "info", .usage = "prior info", .summary = "units, couplers, degree histogram, colours, parameter ranges",
     .help = "Describes the current prior: graph and size, qubit labels, the degree histogram\n"
             "(degree:units), the colour classes samplers update in blocks, and the h, J ranges.",
     .min_pos = 0, .max_pos = 0, .run = run_info},
    {.name = "logz", .usage = "prior logz [--method exact|pa|ais] [--beta B]",
     .summary = "log partition function of the prior (exact, or estimated with an error bar)",
     .help = "exact enumerates all 2^n states (n <= 28, default for n <= 24); pa (population\n"
             "annealing, the default above 24 units) and ais print an estimate with a one-sigma\n"
             "error bar and the effective sample size.",
     .min_pos = 0, .max_pos = 0, .opts = logz_opts, .run = run_logz, .flags = CMD_LONG},
    {.name = "modes", .usage = "prior modes [--from SAMPLER] [--count N] [--min-mass M] [--digits F.png]",
     .summary = "local minima of the prior, their basin masses, and which modes samplers visit",
     .help = cmd_prior_modes_help, .min_pos = 0, .max_pos = 0, .opts = cmd_prior_modes_opts,
     .run = cmd_prior_modes, .flags = CMD_LONG},   /* cmd_lab.c */
    {0},
};

const struct cmd_entry cmd_prior_entry = {
    .name = "prior", .usage = "prior new|random|cut|export|import|info|logz|modes …",
    .summary = "the latent prior: a Boltzmann machine on a qubit graph, or Bernoulli",
    .help = "The prior p(z) = exp(-E(z))/Z with E(z) = -Σ b_i z_i - Σ W_ij z_i z_j over the edges of\n"
            "a Chimera, Pegasus, Zephyr or edge-list graph (samplers see the Ising form h, J).",
    .sub = prior_sub,
};
