/* samp_qpu.c — the `qpu` sampler: samples the prior on a D-Wave QPU (or the SAPI emulator) over
 * SAPI.  The prior's graph is mapped natively onto the solver's working graph (same topology
 * family; coordinates carried over, e.g. a Chimera 4×4×4 prior sits in the corner of a C16);
 * every node must be a working qubit and every edge a working coupler, else the missing ones
 * are reported (`prior new … --fit-solver` builds a prior that fits).
 *
 * Scale (sampler.h convention): the QPU samples ≈ exp(−β_eff·E_s) of what it is programmed with,
 * so we program (β/β_eff)·(h, J) with auto_scale off, clipped to h_range / j_range.  β_eff starts
 * at the freeze-out estimate β_phys(T)·B(s*)/2 of the solver (annealing.md §4.1) and is re-
 * estimated by maximum pseudo-likelihood on the programmed problem (beta.h) every call,
 * smoothed in log space.  Reads: answer_mode raw, num_reads = count (split into several jobs of
 * one POST when above the solver's limit).  Anneal: the current schedule (sample_ctx.schedule,
 * anneal_schedule) else annealing_time.  Reverse anneals take initial_state from ctx->initial or
 * the persistent chains (the previous call's samples), `chains` jobs per call. */
#include "anneal.h"
#include "beta.h"
#include "graph.h"
#include "rng.h"
#include "sampler.h"
#include "sapi.h"
#include "schedule.h"
#include "session.h"
#include "solver.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qpu {
    uint64_t seed;
    /* options */
    char solver[128];           /* "" = the client's current solver */
    double annealing_time;      /* µs, 0 = solver default (when no schedule) */
    double beta_fixed;          /* > 0 fixes β_eff */
    long chains;                /* reverse anneal: initial states (jobs) per call */
    long max_reads;             /* per job, 0 = solver's num_reads_range max */
    char label[64];
    /* state */
    long calls;
    double beta_eff, beta_err;
    uint8_t *last; long clast; int nlast;
    char placed[160];           /* where a small Chimera prior was moved (qpu_map_elsewhere), or "" */
    struct rng rng;
    /* mapping cache */
    const struct solver_props *sp;
    const struct graph *g; int g_nv; long g_ne;
    int *node_wire;             /* [n] wire position of node i */
    long *edge_coupler;         /* [ne] solver coupler index of edge k */
};

static const char *const qpu_keys[] = {"solver", "annealing_time", "beta_eff", "chains",
                                       "max_reads", "label", NULL};
static const char *const qpu_help[] = {
    "solver name (default: the one chosen by `qpu use`, else the config's, else the first online QPU)",
    "anneal time in µs when no schedule is set (default: the solver's default_annealing_time)",
    "fixed β_eff used to scale the problem (default auto: freeze-out estimate, then MPL)",
    "reverse anneals: initial states (one job each) per call (default 1)",
    "reads per job (default: the solver's maximum)",
    "problem label shown in the D-Wave dashboard (default qvae)",
};

static void *qpu_create(uint64_t seed)
{
    struct qpu *q = qv_calloc(1, sizeof *q);
    q->seed = seed;
    q->chains = 1;
    q->beta_eff = q->beta_err = NAN;
    snprintf(q->label, sizeof q->label, "qvae");
    rng_init(&q->rng, seed, 0x9b0);
    return q;
}

static void *qpu_clone(const void *impl, uint64_t seed)
{
    const struct qpu *o = impl;
    struct qpu *q = qpu_create(seed);
    memcpy(q->solver, o->solver, sizeof q->solver);
    q->annealing_time = o->annealing_time;
    q->beta_fixed = o->beta_fixed;
    q->chains = o->chains;
    q->max_reads = o->max_reads;
    memcpy(q->label, o->label, sizeof q->label);
    return q;
}

static void map_free(struct qpu *q)
{
    free(q->node_wire); free(q->edge_coupler);
    q->node_wire = NULL; q->edge_coupler = NULL;
    q->sp = NULL; q->g = NULL;
    q->placed[0] = 0;
}

static void qpu_reset(void *impl)
{
    struct qpu *q = impl;
    free(q->last);
    q->last = NULL; q->clast = 0; q->nlast = 0;
    q->beta_eff = q->beta_err = NAN;
    q->calls = 0;
    map_free(q);
}

static void qpu_destroy(void *impl)
{
    struct qpu *q = impl;
    qpu_reset(q);
    free(q);
}

static int qpu_set(void *impl, const char *key, const char *val)
{
    struct qpu *q = impl;
    double d; long l;
    if (!val) return qv_seterr("sampler qpu: --%s: missing value", key);
    if (!strcmp(key, "solver")) {
        if (strlen(val) >= sizeof q->solver) return qv_seterr("sampler qpu: --solver: name too long");
        snprintf(q->solver, sizeof q->solver, "%s", strcmp(val, "default") ? val : "");
        map_free(q);
        q->beta_eff = NAN;
    } else if (!strcmp(key, "annealing_time")) {
        if (!strcmp(val, "default")) d = 0;
        else if (qv_parse_double(val, &d) || d < 0)
            return qv_seterr("sampler qpu: --annealing_time: must be a non-negative number of µs or default");
        q->annealing_time = d;
    } else if (!strcmp(key, "beta_eff")) {
        if (!strcmp(val, "auto")) q->beta_fixed = 0;
        else if (qv_parse_double(val, &d) || d <= 0) return qv_seterr("sampler qpu: --beta_eff: must be a positive number or auto");
        else q->beta_fixed = d;
        q->beta_eff = NAN;
    } else if (!strcmp(key, "chains")) {
        if (qv_parse_long(val, &l) || l < 1 || l > 1000) return qv_seterr("sampler qpu: --chains: must be an integer in [1, 1000]");
        q->chains = l;
    } else if (!strcmp(key, "max_reads")) {
        if (qv_parse_long(val, &l) || l < 0) return qv_seterr("sampler qpu: --max_reads: must be a non-negative integer");
        q->max_reads = l;
    } else if (!strcmp(key, "label")) {
        if (strlen(val) >= sizeof q->label || strpbrk(val, " \t\n"))
            return qv_seterr("sampler qpu: --label: at most %zu characters, no blanks", sizeof q->label - 1);
        snprintf(q->label, sizeof q->label, "%s", val);
    } else {
        return qv_seterr("sampler qpu: unknown option --%s", key);
    }
    return 0;
}

static void qpu_describe(void *impl, char *buf, size_t n)
{
    struct qpu *q = impl;
    char be[48], at[32];
    if (q->beta_fixed > 0) snprintf(be, sizeof be, "%g", q->beta_fixed);
    else snprintf(be, sizeof be, "auto");   /* the estimate itself is in the sample info line */
    if (q->annealing_time > 0) snprintf(at, sizeof at, "%g", q->annealing_time);
    else snprintf(at, sizeof at, "default");
    snprintf(buf, n, "solver=%s annealing_time=%s beta_eff=%s chains=%ld max_reads=%ld label=%s",
             q->solver[0] ? q->solver : "default", at, be, q->chains, q->max_reads, q->label);
}

/* ---------------------------------------------------------------- mapping */

/* Hardware label of prior node label `lab` in the solver's topology; -1 if it cannot sit there. */
static long map_label(const struct graph *g, const struct solver_props *sp, long lab)
{
    int c[5];
    switch (g->kind) {
    case GRAPH_EDGELIST:
        return lab;
    case GRAPH_CHIMERA:
        if (strcmp(sp->topology, "chimera") || sp->nshape < 1) return -2;
        {
            int M = sp->shape[0], N = sp->nshape > 1 ? sp->shape[1] : M, T = sp->nshape > 2 ? sp->shape[2] : 4;
            if (graph_linear_to_chimera(g->m, g->n, g->t, lab, c)) return -1;
            if (c[0] >= M || c[1] >= N || c[3] >= T) return -1;
            return graph_chimera_to_linear(M, N, T, c);
        }
    case GRAPH_PEGASUS:
        if (strcmp(sp->topology, "pegasus") || sp->nshape < 1) return -2;
        if (graph_linear_to_pegasus(g->m, lab, c)) return -1;
        if (c[1] >= sp->shape[0] || c[3] >= sp->shape[0] - 1) return -1;
        return graph_pegasus_to_linear(sp->shape[0], c);
    case GRAPH_ZEPHYR:
        if (strcmp(sp->topology, "zephyr") || sp->nshape < 1) return -2;
        {
            int M = sp->shape[0], T = sp->nshape > 1 ? sp->shape[1] : 4;
            if (graph_linear_to_zephyr(g->m, g->t, lab, c)) return -1;
            /* (u, w, k, j, z): w < 2M+1, k < T, z < M; w shifts with the size difference */
            if (c[1] >= 2 * M + 1 || c[2] >= T || c[4] >= M) return -1;
            return graph_zephyr_to_linear(M, T, c);
        }
    }
    return -1;
}

static const char *kind_name(enum graph_kind k)
{
    return k == GRAPH_CHIMERA ? "chimera" : k == GRAPH_PEGASUS ? "pegasus" : k == GRAPH_ZEPHYR ? "zephyr" : "edge-list";
}

/* Map graph g onto sp.  node_wire[nv] / edge_coupler[ne] filled; missing ones counted and the
 * first few listed in report.  Returns 0 when everything fits, 1 when some are missing, -1 on a
 * topology mismatch (error set). */
static int map_graph(const struct graph *g, const struct solver_props *sp, int *node_wire,
                     long *edge_coupler, char *report, size_t rn, int *miss_q, long *miss_c)
{
    int *pos = sapi_qubit_pos(sp);
    struct sapi_coupler_index ix;
    sapi_coupler_index_build(sp, &ix);
    long *hw = qv_mallocarray((size_t)g->nv + 1, sizeof *hw);
    *miss_q = 0; *miss_c = 0;
    char mq[256] = "", mc[256] = "";
    size_t oq = 0, oc = 0;
    long nlisted = 0;   /* missing couplers between present qubits seen (at most 4 listed) */
    int rc = 0;
    for (int i = 0; i < g->nv; i++) {
        hw[i] = map_label(g, sp, g->label[i]);
        if (hw[i] == -2) {
            rc = qv_seterr("qpu: prior graph is %s but solver %s is %s", kind_name(g->kind), sp->name,
                           sp->topology[0] ? sp->topology : "of unknown topology");
            goto out;
        }
        node_wire[i] = hw[i] >= 0 && hw[i] < sp->num_qubits ? pos[hw[i]] : -1;
        if (node_wire[i] < 0) {
            /* a label the solver's topology does not have at all (hw -1) is named by the prior's label */
            if (*miss_q < 6 && oq < sizeof mq)
                oq += (size_t)snprintf(mq + oq, sizeof mq - oq, hw[i] >= 0 ? "%s%ld" : "%sprior label %ld",
                                       oq ? ", " : "", hw[i] >= 0 ? hw[i] : (long)g->label[i]);
            (*miss_q)++;
        }
    }
    for (long k = 0; k < g->ne; k++) {
        int u = g->edges[k][0], v = g->edges[k][1];
        edge_coupler[k] = hw[u] >= 0 && hw[v] >= 0 ? sapi_coupler_find(&ix, (int)hw[u], (int)hw[v]) : -1;
        if (edge_coupler[k] < 0) {
            /* list couplers between present qubits; the others follow from the missing qubits */
            if (node_wire[u] >= 0 && node_wire[v] >= 0 && nlisted++ < 4 && oc < sizeof mc)
                oc += (size_t)snprintf(mc + oc, sizeof mc - oc, "%s(%ld,%ld)", oc ? ", " : "", hw[u], hw[v]);
            (*miss_c)++;
        }
    }
    if (*miss_q || *miss_c) {
        snprintf(report, rn, "%d qubit%s missing%s%s%s, %ld coupler%s missing%s%s%s", *miss_q, *miss_q == 1 ? "" : "s",
                 *miss_q ? " (" : "", mq, *miss_q ? (*miss_q > 6 ? ", …)" : ")") : "",
                 *miss_c, *miss_c == 1 ? "" : "s", mc[0] ? " (" : "", mc,
                 mc[0] ? (*miss_c > (nlisted < 4 ? nlisted : 4) ? ", …)" : ")") : "");
        rc = 1;
    }
out:
    free(hw); free(pos);
    sapi_coupler_index_free(&ix);
    return rc;
}

/* Chimera cell (r0, c0) of the chip as the origin of a smaller Chimera prior g: its labels
 * translated into the chip's linear indices (lab[nv]).  True when every qubit works and every
 * edge is a working coupler there. */
static bool chimera_place(const struct graph *g, const struct solver_props *sp, const int dims[3],
                          int r0, int c0, const struct sapi_coupler_index *ix, long *lab)
{
    for (int i = 0; i < g->nv; i++) {
        int c[4];
        if (graph_linear_to_chimera(g->m, g->n, g->t, g->label[i], c)) return false;
        c[0] += r0;
        c[1] += c0;
        lab[i] = graph_chimera_to_linear(dims[0], dims[1], dims[2], c);
        if (lab[i] < 0 || solver_qubit_index(sp, (int)lab[i]) < 0) return false;
    }
    for (long k = 0; k < g->ne; k++)
        if (sapi_coupler_find(ix, (int)lab[g->edges[k][0]], (int)lab[g->edges[k][1]]) < 0) return false;
    return true;
}

bool qpu_place_chimera(const struct graph *g, const struct solver_props *sp, long *lab, int *r0, int *c0)
{
    const int dims[3] = {sp->shape[0], sp->nshape > 1 ? sp->shape[1] : sp->shape[0],
                         sp->nshape > 2 ? sp->shape[2] : 4};
    if (g->kind != GRAPH_CHIMERA || strcmp(sp->topology, "chimera") || sp->nshape < 1 || g->t > dims[2] ||
        g->m > dims[0] || g->n > dims[1])
        return false;
    struct sapi_coupler_index ix;
    if (sapi_coupler_index_build(sp, &ix)) return false;
    bool found = false;
    for (int r = 0; r + g->m <= dims[0] && !found; r++)
        for (int c = 0; c + g->n <= dims[1] && !found; c++)
            if ((found = chimera_place(g, sp, dims, r, c, &ix, lab))) {
                *r0 = r;
                *c0 = c;
            }
    sapi_coupler_index_free(&ix);
    return found;
}

/* ---------------------------------------------------------------- sample */

/* A smaller Chimera prior that does not fit where its labels put it (a broken qubit or coupler):
 * the same prior on the first defect-free cells of the chip (qpu_place_chimera).  0 mapped there,
 * 1 no such place. */
static int qpu_map_elsewhere(struct qpu *q, const struct bm *bm, const struct solver_props *sp)
{
    long *lab = qv_mallocarray((size_t)bm->n + 1, sizeof *lab);
    int r0, c0, rc = 1;
    if (qpu_place_chimera(bm->g, sp, lab, &r0, &c0)) {
        int *pos = sapi_qubit_pos(sp);
        struct sapi_coupler_index ix;
        sapi_coupler_index_build(sp, &ix);
        for (int i = 0; i < bm->n; i++) q->node_wire[i] = pos[lab[i]];   /* by hardware label */
        for (long k = 0; k < bm->ne; k++)
            q->edge_coupler[k] = sapi_coupler_find(&ix, (int)lab[bm->g->edges[k][0]], (int)lab[bm->g->edges[k][1]]);
        sapi_coupler_index_free(&ix);
        free(pos);
        snprintf(q->placed, sizeof q->placed, "placed at Chimera cell (%d, %d) of %s, clear of defects",
                 r0, c0, sp->name);
        rc = 0;
    }
    free(lab);
    return rc;
}

/* The prior's nodes and edges on the solver's qubits and couplers (cached per solver object and
 * graph), moved onto defect-free cells when a small Chimera prior hits a defect where it stands.
 * -1 + error when the prior does not fit. */
static int qpu_map(struct qpu *q, const struct bm *bm, const struct solver_props *sp)
{
    if (q->sp == sp && q->g == bm->g && q->g_nv == bm->g->nv && q->g_ne == bm->g->ne) return 0;
    map_free(q);
    q->node_wire = qv_mallocarray((size_t)bm->n + 1, sizeof *q->node_wire);
    q->edge_coupler = qv_mallocarray((size_t)bm->ne + 1, sizeof *q->edge_coupler);
    char rep[600];
    int mq;
    long mc;
    int rc = map_graph(bm->g, sp, q->node_wire, q->edge_coupler, rep, sizeof rep, &mq, &mc);
    if (rc > 0) rc = qpu_map_elsewhere(q, bm, sp);
    if (rc) {
        map_free(q);
        if (rc > 0)
            return qv_seterr("qpu: prior %s does not fit solver %s: %s; use `prior new … --fit-solver`",
                             bm->g->desc, sp->name, rep);
        return -1;
    }
    q->sp = sp; q->g = bm->g; q->g_nv = bm->g->nv; q->g_ne = bm->g->ne;
    return 0;
}

/* A reverse anneal's initial state for job k: the caller's, else persistent chain k, else random
 * (qubits outside the prior: 3, "unused"). */
static cJSON *qpu_initial_state(struct qpu *q, const struct bm *bm, const struct solver_props *sp,
                                const struct sample_ctx *ctx, int k, long count)
{
    cJSON *is = cJSON_CreateArray();
    int *vals = qv_mallocarray((size_t)sp->num_qubits + 1, sizeof *vals);
    for (int i = 0; i < sp->num_qubits; i++) vals[i] = 3;
    for (int i = 0; i < bm->n; i++) {
        int z;
        if (ctx->initial) z = ctx->initial[(size_t)(k % count) * bm->n + i];
        else if (q->last && q->nlast == bm->n && q->clast > 0) z = q->last[(size_t)(k % q->clast) * bm->n + i];
        else z = (int)(rng_u64(&q->rng) & 1);
        vals[sp->qubits[q->node_wire[i]]] = z ? 1 : -1;
    }
    for (int i = 0; i < sp->num_qubits; i++) cJSON_AddItemToArray(is, cJSON_CreateNumber(vals[i]));
    free(vals);
    return is;
}

/* The answers' raw rows (histograms expanded) → z of the prior's nodes in out (allocated for
 * count reads); QPU access and programming time summed into acc, prog; the last job's timing in
 * *tsum.  -1 + error when an answer lacks a prior qubit or holds too few reads. */
static int qpu_decode(const struct qpu *q, const struct bm *bm, const struct solver_props *sp,
                      const struct sapi_answer *ans, int njobs, long count, struct samples *out,
                      double *acc, double *prog, struct sapi_timing *tsum)
{
    if (samples_alloc(out, bm->n, count, false)) return -1;
    long done = 0;
    for (int k = 0; k < njobs; k++) {
        const struct sapi_answer *a = &ans[k];
        int *col = qv_mallocarray((size_t)bm->n + 1, sizeof *col);
        for (int i = 0; i < bm->n; i++) {
            int lab = sp->qubits[q->node_wire[i]];
            col[i] = -1;
            int lo = 0, hi = a->nact - 1;
            while (lo <= hi) {
                int mid = (lo + hi) / 2;
                if (a->active[mid] == lab) { col[i] = mid; break; }
                if (a->active[mid] < lab) lo = mid + 1; else hi = mid - 1;
            }
            if (col[i] < 0) {
                free(col);
                return qv_seterr("qpu: answer does not include qubit %d of the prior", lab);
            }
        }
        for (long r = 0; r < a->nsol && done < count; r++)
            for (int o = 0; o < a->occ[r] && done < count; o++) {
                uint8_t *z = out->z + (size_t)done * bm->n;
                const int8_t *s = a->sol + (size_t)r * a->nact;
                for (int i = 0; i < bm->n; i++) z[i] = s[col[i]] > 0;
                done++;
            }
        free(col);
        if (isfinite(a->timing.qpu_access_time)) *acc += a->timing.qpu_access_time;
        if (isfinite(a->timing.qpu_programming_time)) *prog += a->timing.qpu_programming_time;
        *tsum = a->timing;
    }
    if (done < count) return qv_seterr("qpu: answers hold %ld reads, %ld were asked", done, count);
    return 0;
}

/* β_eff (fixed, estimated, or the freeze-out guess) and the problem programmed for target β:
 * (h, J)·β/β_eff clipped to the solver's ranges, into lin [nq] (NaN elsewhere) and quad [nc], and
 * the prior's own programmed fields into hp [n], Jp [ne].  Returns the scale; *clipped counts the
 * clipped values. */
static double qpu_program(struct qpu *q, const struct bm *bm, const struct solver_props *sp,
                          double beta, double *lin, double *quad, double *hp, double *Jp,
                          long *clipped)
{
    double h_raw_offset;
    double *h = qv_mallocarray((size_t)bm->n + 1, sizeof *h);
    double *J = qv_mallocarray((size_t)bm->ne + 1, sizeof *J);
    bm_to_ising(bm, h, J, &h_raw_offset);
    if (q->beta_fixed > 0) q->beta_eff = q->beta_fixed;
    else if (!isfinite(q->beta_eff)) {
        const struct anneal_table *tab = anneal_table_for(sp);
        q->beta_eff = tab ? anneal_beta_phys(sp->temperature_mk) * anneal_B(tab, 0.612) / 2 : 5.0;
        if (!isfinite(q->beta_eff) || q->beta_eff <= 0) q->beta_eff = 5.0;
        qv_clearerr();
    }
    const double scale = beta / q->beta_eff;
    const double *jr = sp->j_range;
    for (int i = 0; i < sp->nq; i++) lin[i] = NAN;
    for (int i = 0; i < bm->n; i++) {
        double v = scale * h[i];
        if (v < sp->h_range[0]) { v = sp->h_range[0]; (*clipped)++; }
        if (v > sp->h_range[1]) { v = sp->h_range[1]; (*clipped)++; }
        hp[i] = v;
        lin[q->node_wire[i]] = v;
    }
    for (long k = 0; k < bm->ne; k++) {
        double v = scale * J[k];
        if (v < jr[0]) { v = jr[0]; (*clipped)++; }
        if (v > jr[1]) { v = jr[1]; (*clipped)++; }
        Jp[k] = v;
        quad[q->edge_coupler[k]] += v;
    }
    free(h);
    free(J);
    return scale;
}

/* The schedule's advanced controls (schedule.h) into params, on the qubits the units sit on. */
static void qpu_ctl_params(const struct qpu *q, const struct bm *bm, const struct solver_props *sp,
                           const struct sched *sc, cJSON *p)
{
    int *hw = qv_mallocarray((size_t)bm->n + 1, sizeof *hw);
    for (int i = 0; i < bm->n; i++) hw[i] = sp->qubits[q->node_wire[i]];
    sched_ctl_to_params(sc, bm->g, hw, sp->num_qubits, p);
    free(hw);
}

static int qpu_sample(void *impl, const struct bm *bm, double beta, long count,
                      const struct sample_ctx *ctx, struct samples *out)
{
    struct qpu *q = impl;
    double t0 = qv_now();
    if (count < 1) return qv_seterr("sampler qpu: count must be positive");
    struct sapi_client *c = ctx ? ctx->client : NULL;   /* sampler_sample checked it */
    if (!c) return qv_seterr("sampler qpu: not connected");
    const struct solver_props *sp = q->solver[0] ? sapi_solver(c, q->solver) : sapi_current_solver(c);
    if (!sp) return -1;

    if (qpu_map(q, bm, sp) < 0) return -1;

    /* β_eff and the programmed problem: lin [nq] (NaN: unused qubit), quad [nc]; hp, Jp the
     * prior's own fields as programmed */
    double *lin = qv_mallocarray((size_t)sp->nq + 1, sizeof *lin);
    double *quad = qv_calloc((size_t)sp->nc + 1, sizeof *quad);
    double *hp = qv_mallocarray((size_t)bm->n + 1, sizeof *hp);
    double *Jp = qv_mallocarray((size_t)bm->ne + 1, sizeof *Jp);
    long clipped = 0;
    const double scale = qpu_program(q, bm, sp, beta, lin, quad, hp, Jp, &clipped);

    /* parameters */
    /* the caller's schedule (sampler_sample fills in the workbench's current one) */
    const struct sched *sc = ctx ? ctx->schedule : NULL;
    bool reverse = sc && sc->n >= 2 && sched_is_reverse(sc);
    long per_job_max = q->max_reads > 0 ? q->max_reads : sp->num_reads_range[1];
    double anneal_t = sc && sc->n >= 2 ? sched_duration(sc) : q->annealing_time > 0 ? q->annealing_time : sp->default_annealing_time;
    long lim = solver_max_num_reads(sp, anneal_t, -1, -1);
    if (lim > 0 && lim < per_job_max) per_job_max = lim;
    if (per_job_max < 1) per_job_max = 1;
    int njobs = (int)((count + per_job_max - 1) / per_job_max);
    if (reverse && njobs < q->chains) njobs = (int)QV_MIN(q->chains, count);
    struct sapi_job *jobs = qv_calloc((size_t)njobs, sizeof *jobs);
    cJSON **params = qv_calloc((size_t)njobs, sizeof *params);
    struct sapi_answer *ans = qv_calloc((size_t)njobs, sizeof *ans);
    int rc = -1;
    char *sched_text = sc && sc->n >= 2 ? sched_to_json(sc) : NULL;
    for (int k = 0; k < njobs; k++) {
        long nr = count / njobs + (k < count % njobs ? 1 : 0);
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "num_reads", (double)nr);
        cJSON_AddBoolToObject(p, "auto_scale", 0);
        cJSON_AddStringToObject(p, "answer_mode", "raw");
        if (sched_text) cJSON_AddItemToObject(p, "anneal_schedule", cJSON_Parse(sched_text));
        else if (q->annealing_time > 0) cJSON_AddNumberToObject(p, "annealing_time", q->annealing_time);
        if (sc) qpu_ctl_params(q, bm, sp, sc, p);
        if (reverse) {
            cJSON *is = qpu_initial_state(q, bm, sp, ctx, k, count);
            cJSON_AddItemToObject(p, "initial_state", is);
            cJSON_AddBoolToObject(p, "reinitialize_state", sc->reinitialize);
        }
        params[k] = p;
        jobs[k] = (struct sapi_job){.sp = sp, .qubo = false, .lin = lin, .quad = quad, .offset = 0,
                                    .params = p, .label = q->label};
    }
    free(sched_text);
    /* the caller's cancel flag (train stop, Ctrl-C) aborts the wait and cancels the problems */
    sapi_client_set_cancel(c, ctx ? ctx->cancel : NULL);
    if (sapi_sample(c, jobs, njobs, ans)) {
        sapi_client_set_cancel(c, NULL);   /* never keep the caller's flag */
        goto out;
    }

    struct sapi_timing tsum;
    sapi_timing_init(&tsum);
    double acc = 0, prog = 0;
    if (qpu_decode(q, bm, sp, ans, njobs, count, out, &acc, &prog, &tsum)) goto out_ans;
    bm_energy_batch(bm, out->z, count, out->energy);

    /* β_eff: MPL on the programmed problem, smoothed in log space */
    if (q->beta_fixed <= 0 && count >= 8) {
        struct beta_result br;
        if (!beta_estimate_ising(bm->g, hp, Jp, out->z, count, 0, q->seed + (uint64_t)q->calls, &br) &&
            isfinite(br.beta) && br.beta > 0) {
            /* samples follow exp(−β_eff·E_prog) with E_prog = scale·E: MPL measures β_eff directly */
            double w = q->calls == 0 ? 0.5 : 0.2;
            q->beta_eff = exp((1 - w) * log(q->beta_eff) + w * log(br.beta));
            q->beta_err = br.err;
        }
        qv_clearerr();
    }
    q->calls++;
    free(q->last);
    q->last = qv_mallocarray((size_t)count * bm->n + 1, 1);
    memcpy(q->last, out->z, (size_t)count * bm->n);
    q->clast = count; q->nlast = bm->n;
    out->beta_eff = q->beta_eff;
    out->seconds = qv_now() - t0;
    snprintf(out->info, sizeof out->info, "%s: %d job%s, QPU access %.1f ms (programming %.1f ms), "
             "scale %.3g, %ld clipped, beta_eff %.3g%s%s",
             sp->name, njobs, njobs == 1 ? "" : "s", acc / 1000, prog / 1000, scale, clipped, q->beta_eff,
             q->placed[0] ? "; " : "", q->placed);
    if (ctx && ctx->note && (q->calls <= 3 || q->calls % 100 == 0)) {
        char line[256];
        snprintf(line, sizeof line, "qpu call %ld: %s; last job: programming %.0f us, anneal %.2f "
                 "us/read, readout %.2f us/read, access %.0f us", q->calls, sp->name,
                 tsum.qpu_programming_time, tsum.qpu_anneal_time_per_sample,
                 tsum.qpu_readout_time_per_sample, tsum.qpu_access_time);
        ctx->note(ctx->out_ud, line);
    }
    if (ctx && ctx->report) {
        struct sampler_report r = {q->beta_eff, q->beta_err, tsum.qpu_programming_time,
                                   tsum.qpu_anneal_time_per_sample,
                                   tsum.qpu_readout_time_per_sample, acc, tsum.total_real_time};
        ctx->report(ctx->out_ud, &r);
    }
    rc = 0;
out_ans:
    sapi_client_set_cancel(c, NULL);   /* never keep the caller's flag */
    for (int k = 0; k < njobs; k++) sapi_answer_free(&ans[k]);
out:
    for (int k = 0; k < njobs; k++) cJSON_Delete(params[k]);
    free(params); free(jobs); free(ans);
    free(lin); free(quad); free(hp); free(Jp);
    return rc;
}

/* ---------------------------------------------------------------- sessions: chains + β_eff */

static int qpu_save(void *impl, cJSON *sec, struct sess_io *io)
{
    struct qpu *q = impl;
    if (isfinite(q->beta_eff)) cJSON_AddNumberToObject(sec, "beta_eff_estimate", q->beta_eff);
    if (!q->last || q->clast < 1) return 0;
    /* persistent chains (the last reads): the initial states of the next reverse anneal */
    if (sess_blob_put(io, "qpu_chains", q->last, (size_t)q->clast * (size_t)q->nlast)) return -1;
    cJSON_AddNumberToObject(sec, "chain_units", q->nlast);
    cJSON_AddNumberToObject(sec, "chain_count", (double)q->clast);
    return 0;
}

static int qpu_load(void *impl, const cJSON *sec, struct sess_io *io)
{
    struct qpu *q = impl;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(sec, "beta_eff_estimate");
    if (cJSON_IsNumber(b) && b->valuedouble > 0) q->beta_eff = b->valuedouble;
    const cJSON *nu = cJSON_GetObjectItemCaseSensitive(sec, "chain_units");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(sec, "chain_count");
    if (!cJSON_IsNumber(nu) || !cJSON_IsNumber(nc)) return 0;
    if (nu->valuedouble < 1 || nc->valuedouble < 1 || nu->valuedouble * nc->valuedouble > 1e9)
        return qv_seterr("sampler qpu: chain_units/chain_count out of range");
    void *data; size_t len;
    if (sess_blob_get(io, "qpu_chains", &data, &len)) return -1;
    if (len != (size_t)nu->valuedouble * (size_t)nc->valuedouble) {
        free(data);
        return qv_seterr("sampler qpu: qpu_chains blob has %zu bytes, expected %.0f", len,
                         nu->valuedouble * nc->valuedouble);
    }
    free(q->last);
    q->last = data;
    q->nlast = (int)nu->valuedouble;
    q->clast = (long)nc->valuedouble;
    return 0;
}

const struct sampler_vtab samp_qpu_vtab = {
    .name = "qpu",
    .summary = "a D-Wave QPU over SAPI (or the local emulator): native mapping, β_eff scaling, raw reads",
    .keys = qpu_keys,
    .key_help = qpu_help,
    .create = qpu_create,
    .clone_config = qpu_clone,
    .set = qpu_set,
    .describe = qpu_describe,
    .sample = qpu_sample,
    .reset = qpu_reset,
    .destroy = qpu_destroy,
    .save = qpu_save,
    .load = qpu_load,
    .needs_client = true,
};

/* ---------------------------------------------------------------- --fit-solver */

struct graph *qpu_fit_graph(const struct graph *g, const struct solver_props *sp, char *report, size_t rn)
{
    int *nw = qv_mallocarray((size_t)g->nv + 1, sizeof *nw);
    long *ec = qv_mallocarray((size_t)g->ne + 1, sizeof *ec);
    int mq; long mc;
    int rc = map_graph(g, sp, nw, ec, report, rn, &mq, &mc);
    if (rc < 0) { free(nw); free(ec); return NULL; }
    if (rc == 0) {
        free(nw); free(ec);
        snprintf(report, rn, "fits %s as is (%d qubits, %ld couplers)", sp->name, g->nv, g->ne);
        return graph_clone(g);
    }
    /* keep working qubits, then drop edges without a working coupler */
    long *labels = qv_mallocarray((size_t)g->nv + 1, sizeof *labels);
    long (*ed)[2] = qv_mallocarray((size_t)g->ne + 1, sizeof *ed);
    int nk = 0; long ne = 0;
    for (int i = 0; i < g->nv; i++) if (nw[i] >= 0) labels[nk++] = g->label[i];
    for (long k = 0; k < g->ne; k++)
        if (ec[k] >= 0 && nw[g->edges[k][0]] >= 0 && nw[g->edges[k][1]] >= 0) {
            ed[ne][0] = g->label[g->edges[k][0]]; ed[ne][1] = g->label[g->edges[k][1]]; ne++;
        }
    struct graph *f = graph_from_edges(nk, labels, ne, (const long (*)[2])ed);
    free(labels); free(ed); free(nw); free(ec);
    if (!f) return NULL;
    /* keep the family, dimensions, drawing and colouring of the full lattice */
    f->kind = g->kind; f->m = g->m; f->n = g->n; f->t = g->t; f->pvar = g->pvar;
    snprintf(f->desc, sizeof f->desc, "%.58s fit", g->desc);
    bool colour_ok = g->color != NULL && f->color != NULL;
    for (int i = 0; i < f->nv; i++) {
        int o = graph_find_label(g, f->label[i]);
        if (o < 0) continue;
        if (f->x && g->x) f->x[i] = g->x[o];
        if (f->y && g->y) f->y[i] = g->y[o];
        if (colour_ok) f->color[i] = g->color[o];
    }
    if (colour_ok) f->ncolors = g->ncolors;
    char extra[600];
    snprintf(extra, sizeof extra, "%s", report);
    snprintf(report, rn, "fitted to %s: %d of %d qubits, %ld of %ld couplers kept (%s)", sp->name,
             f->nv, g->nv, f->ne, g->ne, extra);
    return f;
}
