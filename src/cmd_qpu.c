/* cmd_qpu.c — the `qpu` command group (config, solvers, use, info, emulate) and the top-level
 * `serve-qpu` command, plus the `--fit-solver` selection used by `prior new`.  The SAPI client
 * lives in app->sapi and the in-process emulator in app->emu; neither is part of a session.
 * Nothing printed here contains the API token. */
#include "bm.h"
#include "cmd.h"
#include "emu.h"
#include "graph.h"
#include "sapi.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void client_warn(void *ud, const char *line)
{
    qv_warn((struct qv_app *)ud, "%s", line);
}

/* Replace app->sapi by a client for cfg (the token is wiped from cfg afterwards). */
static int install_client(struct qv_app *app, struct sapi_config *cfg)
{
    struct sapi_client *c = sapi_client_new(cfg);
    memset(cfg->token, 0, sizeof cfg->token);
    if (!c) return -1;
    sapi_client_free(app->sapi);
    app->sapi = c;
    sapi_client_set_log(c, client_warn, app);
    sapi_client_set_cancel(c, &app->cancel);
    return 0;
}

static const char *topology_of(const struct graph *g)
{
    return g->kind == GRAPH_CHIMERA ? "chimera" : g->kind == GRAPH_PEGASUS ? "pegasus"
         : g->kind == GRAPH_ZEPHYR ? "zephyr" : NULL;
}

/* solver=default (neither `qpu use` nor the configuration named one): pick the first online QPU
 * whose topology is the current prior's, so that `qpu emulate; sampler use qpu` with a Chimera
 * prior lands on the 2000Q rather than on the first solver listed.  No prior of a lattice family,
 * or no such solver: the client's own default stays (first online QPU).  Called on a client
 * that has just been created, before anything chose a solver. */
static void pick_default_solver(struct qv_app *app, struct sapi_client *c)
{
    const char *want = app->st.prior ? topology_of(app->st.prior->g) : NULL;
    if (!want || sapi_client_config(c)->solver[0]) return;
    struct sapi_solver_brief *L;
    int n;
    if (sapi_list_solvers(c, false, &L, &n)) {
        qv_clearerr();   /* unreachable server: the first real request reports it */
        return;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(L[i].category, "qpu") && !strcmp(L[i].topology, want) &&
            (!L[i].status[0] || !strcmp(L[i].status, "ONLINE"))) {
            if (sapi_use(c, L[i].name)) qv_clearerr();   /* listed but unreadable: keep the default */
            break;
        }
    free(L);
}

static struct sapi_client *need_client(struct qv_app *app)
{
    if (app->sapi) {
        sapi_client_set_cancel(app->sapi, &app->cancel);
        return app->sapi;
    }
    struct sapi_config cfg;
    if (dwconf_load(&cfg, NULL, NULL) || install_client(app, &cfg)) {
        memset(cfg.token, 0, sizeof cfg.token);
        qv_error(app, "%s", qv_errmsg());
        return NULL;
    }
    pick_default_solver(app, app->sapi);
    return app->sapi;
}

/* ---------------------------------------------------------------- qpu config */

static int run_config(struct qv_app *app, const struct cmd_args *a)
{
    double jt = cmd_float(a, "timeout", -1), rt = cmd_float(a, "request-timeout", -1);
    long retries = cmd_int(a, "retries", -1);
    if (cmd_has(a, "timeout") && !(jt >= 0)) return qv_error(app, "qpu config: --timeout must be >= 0 seconds (0 = no limit)");
    if (cmd_has(a, "request-timeout") && !(rt > 0)) return qv_error(app, "qpu config: --request-timeout must be a positive number of seconds");
    if (cmd_has(a, "retries") && (retries < 0 || retries > 100)) return qv_error(app, "qpu config: --retries must be in 0..100");
    if (cmd_has(a, "config") || cmd_has(a, "profile") || cmd_has(a, "endpoint") || !app->sapi) {
        struct sapi_config cfg;
        if (dwconf_load(&cfg, cmd_str(a, "config", NULL), cmd_str(a, "profile", NULL))) {
            memset(cfg.token, 0, sizeof cfg.token);
            return qv_error(app, "qpu config: %s", qv_errmsg());
        }
        if (cmd_has(a, "endpoint")) {
            snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", cmd_str(a, "endpoint", ""));
            snprintf(cfg.endpoint_src, sizeof cfg.endpoint_src, "--endpoint");
        }
        if (install_client(app, &cfg)) {   /* "qpu: endpoint …": say "qpu config" once */
            const char *m = qv_errmsg();
            return qv_error(app, "qpu config: %s", strncmp(m, "qpu: ", 5) ? m : m + 5);
        }
    }
    sapi_client_set_limits(app->sapi, jt, rt, (int)retries);
    char buf[2048];
    sapi_config_describe(sapi_client_config(app->sapi), buf, sizeof buf);
    qv_printf(app, "%s", buf);
    return 0;
}

/* ---------------------------------------------------------------- qpu solvers / use / info */

static void shape_text(const struct sapi_solver_brief *b, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < b->nshape && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%d", i ? "x" : "", b->shape[i]);
}

static int run_solvers(struct qv_app *app, const struct cmd_args *a)
{
    struct sapi_client *c = need_client(app);
    if (!c) return -1;
    struct sapi_solver_brief *L;
    int n;
    if (sapi_list_solvers(c, cmd_has(a, "refresh"), &L, &n)) return qv_error(app, "%s", qv_errmsg());
    qv_printf(app, "%-34s %-8s %-16s %7s %6s", "solver", "status", "topology", "qubits", "load");
    for (int i = 0; i < n; i++) {
        char sh[32], topo[48], load[16];
        shape_text(&L[i], sh, sizeof sh);
        snprintf(topo, sizeof topo, "%s %s", L[i].topology[0] ? L[i].topology : L[i].category, sh);
        if (isfinite(L[i].avg_load)) snprintf(load, sizeof load, "%.2f", L[i].avg_load);
        else snprintf(load, sizeof load, "-");
        qv_printf(app, "%-34s %-8s %-16s %7d %6s", L[i].name, L[i].status[0] ? L[i].status : "-", topo,
                  L[i].num_qubits, load);
    }
    if (!n) qv_printf(app, "(no solvers)");
    free(L);
    return 0;
}

static void print_solver(struct qv_app *app, const struct solver_props *sp)
{
    char shape[48] = "";
    size_t o = 0;
    for (int i = 0; i < sp->nshape; i++) o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%d", i ? "x" : "", sp->shape[i]);
    qv_printf(app, "solver %s%s%s: %s %s, %d working qubits of %d, %ld couplers", sp->name,
              sp->graph_id[0] ? " graph " : "", sp->graph_id, sp->topology, shape, sp->nq,
              sp->num_qubits, sp->nc);
    qv_printf(app, "  h_range [%g, %g], j_range [%g, %g], annealing_time [%g, %g] us (default %g), "
              "schedule points <= %d, num_reads [%ld, %ld]",
              sp->h_range[0], sp->h_range[1], sp->j_range[0], sp->j_range[1], sp->annealing_time_range[0],
              sp->annealing_time_range[1], sp->default_annealing_time, sp->max_anneal_schedule_points,
              sp->num_reads_range[0], sp->num_reads_range[1]);
    qv_printf(app, "  temperature %.1f mK (A/B table %s), timing model %s", sp->temperature_mk,
              sp->anneal_table[0] ? sp->anneal_table : "-", sp->timing.present ? sp->timing.version : "none");
}

static int run_use(struct qv_app *app, const struct cmd_args *a)
{
    struct sapi_client *c = need_client(app);
    if (!c) return -1;
    if (sapi_use(c, a->pos[0])) return qv_error(app, "%s", qv_errmsg());
    print_solver(app, sapi_current_solver(c));
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
    return 0;
}

static int run_info(struct qv_app *app, const struct cmd_args *a)
{
    struct sapi_client *c = need_client(app);
    if (!c) return -1;
    const struct sapi_config *cfg = sapi_client_config(c);
    qv_printf(app, "endpoint %s (%s); token %s%s%s%s", cfg->endpoint, cfg->endpoint_src,
              cfg->token[0] ? "set" : "not set", cfg->token[0] ? " (from " : "",
              cfg->token[0] ? cfg->token_src : "", cfg->token[0] ? ")" : "");
    if (app->emu) {
        char f[256];
        emu_describe_faults(app->emu, f, sizeof f);
        qv_printf(app, "emulator on 127.0.0.1:%d (faults: %s)", emu_port(app->emu), f);
    }
    const struct solver_props *sp = a->npos ? sapi_solver(c, a->pos[0]) : sapi_current_solver(c);
    if (!sp) return qv_error(app, "%s", qv_errmsg());
    print_solver(app, sp);
    struct sapi_stats st;
    sapi_client_stats(c, &st);
    qv_printf(app, "session: %ld requests, %ld retries, %ld problems, QPU access %.1f ms total", st.requests,
              st.retries, st.jobs, st.total_access_us / 1000);
    if (isfinite(st.last.qpu_access_time))
        qv_printf(app, "last job: programming %.0f us, anneal %.2f us/read, readout %.2f us/read, "
                  "delay %.2f us/read, sampling %.0f us, access %.0f us",
                  st.last.qpu_programming_time, st.last.qpu_anneal_time_per_sample,
                  st.last.qpu_readout_time_per_sample, st.last.qpu_delay_time_per_sample,
                  st.last.qpu_sampling_time, st.last.qpu_access_time);
    return 0;
}

/* ---------------------------------------------------------------- emulator */

static int split_solvers(const char *list, char ***out)
{
    int n = 0;
    *out = NULL;
    if (!list || !*list) return 0;
    char *copy = qv_strdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        *out = qv_realloc(*out, (size_t)(n + 1) * sizeof **out);
        (*out)[n++] = qv_strdup(t);
    }
    free(copy);
    return n;
}

static struct emu_server *start_emu(struct qv_app *app, const struct cmd_args *a, const char *token,
                                    const char *cmdname)
{
    char **names = NULL;
    int n = split_solvers(cmd_str(a, "solver", NULL), &names);
    long port = cmd_int(a, "port", 0);
    struct emu_opts o = {.port = (int)port, .token = token, .solvers = (const char *const *)names,
                         .nsolvers = n, .sampler = cmd_str(a, "sampler", NULL),
                         .seed = app->st.seed * 0x9e3779b97f4a7c15ULL + 0xe,
                         .realtime = cmd_has(a, "realtime"), .faults = cmd_str(a, "fault", NULL),
                         .max_body = (size_t)cmd_int(a, "max-body", 0)};
    struct emu_server *e = NULL;
    if (port < 0 || port > 65535) qv_error(app, "%s: --port must be in 0..65535", cmdname);
    else if (cmd_int(a, "max-body", 0) < 0) qv_error(app, "%s: --max-body must be a positive number of bytes", cmdname);
    else if (!(e = emu_start(&o))) qv_error(app, "%s: %s", cmdname, qv_errmsg());
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return e;
}

static int run_emulate(struct qv_app *app, const struct cmd_args *a)
{
    if (cmd_has(a, "stop")) {
        if (!app->emu) return qv_error(app, "qpu emulate --stop: no emulator is running");
        sapi_client_free(app->sapi);
        app->sapi = NULL;
        emu_stop(app->emu);
        app->emu = NULL;
        qv_printf(app, "emulator stopped");
        return 0;
    }
    if (app->emu) {
        if (cmd_has(a, "port") || cmd_has(a, "solver") || cmd_has(a, "sampler") || cmd_has(a, "realtime") ||
            cmd_has(a, "max-body"))
            return qv_error(app, "qpu emulate: an emulator is already running on port %d (use --stop first)",
                            emu_port(app->emu));
        if (cmd_has(a, "fault") && emu_set_faults(app->emu, cmd_str(a, "fault", "")))
            return qv_error(app, "qpu emulate: %s", qv_errmsg());
        char f[256];
        emu_describe_faults(app->emu, f, sizeof f);
        qv_printf(app, "emulator on %s (faults: %s)", emu_endpoint(app->emu), f);
        return 0;
    }
    /* a fresh random token shared by the in-process client and server; never shown */
    unsigned char rnd[24];
    char token[64];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)app;
        memcpy(rnd, &t, 8); memset(rnd + 8, 0x5a, 16);
    }
    snprintf(token, sizeof token, "EMU-");
    for (int i = 0; i < 24; i++) snprintf(token + 4 + 2 * i, 3, "%02x", rnd[i]);
    struct emu_server *e = start_emu(app, a, token, "qpu emulate");
    if (!e) { memset(token, 0, sizeof token); return -1; }
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(e));
    snprintf(cfg.endpoint_src, sizeof cfg.endpoint_src, "qpu emulate");
    snprintf(cfg.token, sizeof cfg.token, "%s", token);
    snprintf(cfg.token_src, sizeof cfg.token_src, "qpu emulate");
    memset(token, 0, sizeof token);
    if (cmd_has(a, "timeout")) cfg.job_timeout = cmd_float(a, "timeout", 600);
    if (cmd_has(a, "retries")) cfg.max_retries = (int)cmd_int(a, "retries", 6);
    cfg.backoff_base = 0.02;
    cfg.backoff_max = 2;
    if (install_client(app, &cfg)) { emu_stop(e); return qv_error(app, "qpu emulate: %s", qv_errmsg()); }
    app->emu = e;
    char desc[1024], f[256];
    emu_describe(e, desc, sizeof desc);
    emu_describe_faults(e, f, sizeof f);
    qv_printf(app, "emulator on %s (faults: %s); connected", emu_endpoint(e), f);
    qv_printf(app, "%s", desc);
    pick_default_solver(app, app->sapi);
    const struct solver_props *sp = sapi_current_solver(app->sapi);
    if (!sp) return qv_error(app, "qpu emulate: %s", qv_errmsg());
    qv_printf(app, "using %s", sp->name);
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
    return 0;
}

static int run_serve(struct qv_app *app, const struct cmd_args *a)
{
    const char *tok = getenv("QVAE_EMU_TOKEN");
    struct emu_server *e = start_emu(app, a, tok, "serve-qpu");
    if (!e) return -1;
    char desc[1024];
    emu_describe(e, desc, sizeof desc);
    qv_printf(app, "serving SAPI on %s (%s); Ctrl-C stops", emu_endpoint(e),
              tok && *tok ? "token from QVAE_EMU_TOKEN" : "any non-empty token accepted");
    qv_printf(app, "%s", desc);
    while (!qv_cancelled(app)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    struct emu_stats st;
    emu_get_stats(e, &st);
    emu_stop(e);
    qv_printf(app, "emulator stopped: %ld requests, %ld problems answered, %ld faults injected",
              st.requests, st.completed, st.faults_injected);
    return 0;
}

/* ---------------------------------------------------------------- --fit-solver */

/* A Chimera prior smaller than a Chimera chip is moved, whole, onto the first defect-free
 * region (cells scanned row by row from the origin), where it keeps every unit and coupler; the
 * result's labels and dimensions are the chip's, so the sampler maps it as is.  NULL (no error)
 * when g is not such a prior or no region is free of defects. */
static struct graph *place_on_chip(const struct graph *g, const struct solver_props *sp, char *rep,
                                   size_t rn)
{
    int dims[3] = {sp->shape[0], sp->nshape > 1 ? sp->shape[1] : sp->shape[0], sp->nshape > 2 ? sp->shape[2] : 4};
    long *lab = qv_mallocarray((size_t)g->nv + 1, sizeof *lab);
    struct graph *f = NULL;
    int r0 = 0, c0 = 0;
    if (qpu_place_chimera(g, sp, lab, &r0, &c0)) {
        long (*ed)[2] = qv_mallocarray((size_t)g->ne + 1, sizeof *ed);
        for (long k = 0; k < g->ne; k++) {
            ed[k][0] = lab[g->edges[k][0]];
            ed[k][1] = lab[g->edges[k][1]];
        }
        f = graph_from_edges(g->nv, lab, g->ne, (const long (*)[2])ed);
        free(ed);
    }
    if (f) {   /* the family and drawing stay the prior's; the dimensions become the chip's */
        f->kind = GRAPH_CHIMERA;
        f->m = dims[0], f->n = dims[1], f->t = dims[2];
        snprintf(f->desc, sizeof f->desc, "%.30s at cell %d,%d", g->desc, r0, c0);
        for (int i = 0; i < f->nv; i++) {
            int o = graph_find_label(f, lab[i]);
            f->x[o] = g->x[i];
            f->y[o] = g->y[i];
            f->color[o] = g->color[i];
        }
        f->ncolors = g->ncolors;
        snprintf(rep, rn, "placed on %s at Chimera cell (%d, %d), where all %d qubits and %ld couplers work",
                 sp->name, r0, c0, g->nv, g->ne);
    }
    free(lab);
    return f;
}

/* Called by `prior new … --fit-solver`: replace *g by a graph that works on the current solver —
 * the whole prior moved onto a defect-free region when it is a smaller Chimera lattice and one
 * exists, else its subgraph that works where it stands.  Returns 0 (g replaced or unchanged) or
 * -1 with the error reported. */
int qpu_fit_prior(struct qv_app *app, struct graph **g)
{
    struct sapi_client *c = need_client(app);
    if (!c) return -1;
    const struct solver_props *sp = sapi_current_solver(c);
    if (!sp) return qv_error(app, "prior new --fit-solver: %s", qv_errmsg());
    char rep[800];
    struct graph *f = qpu_fit_graph(*g, sp, rep, sizeof rep), *p;
    if (f && (f->nv < (*g)->nv || f->ne < (*g)->ne) && (p = place_on_chip(*g, sp, rep, sizeof rep))) {
        graph_free(f);   /* something had to go where it stands: a whole copy elsewhere is better */
        f = p;
    }
    if (!f) return qv_error(app, "prior new --fit-solver: %s", qv_errmsg());
    graph_free(*g);
    *g = f;
    qv_printf(app, "%s", rep);
    return 0;
}

/* ---------------------------------------------------------------- tables */

static const struct cmd_opt config_opts[] = {
    {"config", CMD_OPT_PATH, "dwave.conf file to read (default: the usual locations)", NULL},
    {"profile", CMD_OPT_STR, "profile (section) of dwave.conf", NULL},
    {"endpoint", CMD_OPT_STR, "SAPI endpoint URL (overrides the file and DWAVE_API_ENDPOINT)", NULL},
    {"timeout", CMD_OPT_FLOAT, "seconds to wait for one problem's answer (default 600, 0 = no limit)", NULL},
    {"request-timeout", CMD_OPT_FLOAT, "seconds for one HTTP request, long-poll wait excluded (default 60)", NULL},
    {"retries", CMD_OPT_INT, "retries of a failed request (default 6)", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_opt solvers_opts[] = {
    {"refresh", CMD_OPT_FLAG, "ask the server again instead of the 5-minute cache", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_opt emulate_opts[] = {
    {"max-body", CMD_OPT_INT, "request body limit in bytes, wire and inflated (default 16 MiB)", NULL},
    {"port", CMD_OPT_INT, "TCP port on 127.0.0.1 (default: any free port)", NULL},
    {"solver", CMD_OPT_LIST, "solver property files or shipped names, comma-separated (default: all shipped)", NULL},
    {"fault", CMD_OPT_STR, "fault injection: latency=S, 503=P, 429=P, 500=P, drop=P, malformed=P, truncated=P, KIND*N (next N), KIND@N (N-th request), none", NULL},
    {"sampler", CMD_OPT_STR, "annealer behind the emulator (default sqa)", NULL},
    {"realtime", CMD_OPT_FLAG, "wait the emulated QPU access time before answering", NULL},
    {"timeout", CMD_OPT_FLOAT, "client: seconds to wait for one answer (default 600)", NULL},
    {"retries", CMD_OPT_INT, "client: retries of a failed request (default 6)", NULL},
    {"stop", CMD_OPT_FLAG, "stop the running emulator and disconnect", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_opt serve_opts[] = {
    {"max-body", CMD_OPT_INT, "request body limit in bytes, wire and inflated (default 16 MiB)", NULL},
    {"port", CMD_OPT_INT, "TCP port on 127.0.0.1 (default: any free port, printed)", NULL},
    {"solver", CMD_OPT_LIST, "solver property files or shipped names, comma-separated (default: all shipped)", NULL},
    {"fault", CMD_OPT_STR, "fault injection (see `help qpu emulate`)", NULL},
    {"sampler", CMD_OPT_STR, "annealer behind the emulator (default sqa)", NULL},
    {"realtime", CMD_OPT_FLAG, "wait the emulated QPU access time before answering", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct cmd_entry qpu_sub[] = {
    {.name = "config", .usage = "qpu config [--config FILE] [--profile NAME] [--endpoint URL] [--timeout S] [--retries N]",
     .summary = "show or (re)load the SAPI connection settings",
     .help = "Settings are resolved like D-Wave's own tools: dwave.conf (the named file, else\n"
             "DWAVE_CONFIG_FILE, else /etc/xdg/dwave, ~/.config/dwave and ./dwave.conf), its profile\n"
             "(--profile, DWAVE_PROFILE, [defaults] profile=, else the first section), then\n"
             "DWAVE_API_TOKEN, DWAVE_API_ENDPOINT, DWAVE_API_REGION, DWAVE_API_SOLVER on top.\n"
             "The token is never shown; TLS certificates are always verified.",
     .min_pos = 0, .max_pos = 0, .opts = config_opts, .run = run_config},
    {.name = "solvers", .usage = "qpu solvers [--refresh]", .summary = "list the solvers of the endpoint",
     .help = "Name, status, topology, qubit count and load of each solver (cached; --refresh asks\n"
             "the server again).  Needs a token: DWAVE_API_TOKEN, dwave.conf or `qpu emulate`.",
     .min_pos = 0, .max_pos = 0, .opts = solvers_opts, .run = run_solvers, .flags = CMD_LONG},
    {.name = "use", .usage = "qpu use NAME", .summary = "choose the solver the qpu sampler uses",
     .help = "Fetches the solver's properties (cached for an hour): working qubits and couplers,\n"
             "ranges, anneal limits.  The prior must be a subgraph of its working graph.",
     .min_pos = 1, .max_pos = 1, .complete = CMD_COMPLETE_SOLVER, .run = run_use, .flags = CMD_LONG},
    {.name = "info", .usage = "qpu info [NAME]",
     .summary = "connection, solver properties and QPU timing of the last job",
     .help = "NAME (default: the chosen solver) selects whose properties are shown: working qubits\n"
             "and couplers, h/j ranges, annealing-time range; then the last job's QPU timing.",
     .min_pos = 0, .max_pos = 1, .complete = CMD_COMPLETE_SOLVER, .run = run_info, .flags = CMD_LONG},
    {.name = "emulate", .usage = "qpu emulate [--port N] [--solver FILE,…] [--fault SPEC] [--stop]",
     .summary = "start the local SAPI emulator and connect to it",
     .help = "Starts an HTTP server on 127.0.0.1 that speaks D-Wave's SAPI (the same one `qvae\n"
             "serve-qpu` runs) with the shipped solver property files, answers problems with the\n"
             "emulated annealer (sqa) and connects the qpu sampler to it with a private token.\n"
             "While it runs, `qpu emulate --fault SPEC` changes fault injection, e.g.\n"
             "  --fault 503*2          the next two requests get 503 Service Unavailable\n"
             "  --fault 429=0.2,latency=0.1   20% rate-limited replies, 100 ms added latency\n"
             "  --fault drop@5          drop the connection of the 5th request from now\n"
             "  --fault malformed*1 | truncated*1 | drop*1 | none",
     .min_pos = 0, .max_pos = 0, .opts = emulate_opts, .complete = CMD_COMPLETE_SOLVER,
     .run = run_emulate},
    {0},
};

const struct cmd_entry cmd_qpu_entry = {
    .name = "qpu", .usage = "qpu SUBCOMMAND …",
    .summary = "D-Wave QPU access over SAPI: config, solvers, use, info, emulate",
    .help = "The qpu sampler (`sampler use qpu`) sends the prior to a D-Wave QPU, or to the local\n"
            "emulator started by `qpu emulate`.",
    .sub = qpu_sub,
};

const struct cmd_entry cmd_serve_qpu_entry = {
    .name = "serve-qpu", .usage = "serve-qpu [--port N] [--solver FILE,…] [--fault SPEC]",
    .summary = "run the SAPI emulator as a server until Ctrl-C",
    .help = "Serves D-Wave's Solver API on 127.0.0.1 only (never another interface) for any SAPI\n"
            "client, e.g. DWAVE_API_ENDPOINT=http://127.0.0.1:PORT/sapi/.  Clients must send a\n"
            "token: the one in QVAE_EMU_TOKEN when set, else any non-empty token is accepted.",
    .min_pos = 0, .max_pos = 0, .opts = serve_opts, .run = run_serve, .flags = CMD_LONG,
};
