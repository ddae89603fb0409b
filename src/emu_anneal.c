/* emu_anneal.c — answering a problem: the Ising problem on the active qubits (QUBO converted,
 * auto_scale applied), the emulated annealer (`sqa` with the solver's schedule, A(s)/B(s) and
 * temperature; classical stand-ins at the freeze-out β), energies of the submitted problem,
 * histogram or raw rows, the qp answer encoding (qpu-protocol §1.8) and the timing model. */
#include "emu_int.h"
#include "anneal.h"
#include "bm.h"
#include "sampler.h"
#include "sapi_codec.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct timing_out { double prog, anneal, readout, delay, sampling, access; };

static void timing_model(const struct solver_props *sp, const struct job_params *jp, int nact,
                         struct timing_out *t)
{
    const struct solver_timing *tm = &sp->timing;
    if (tm->present) {
        double ra_prog = jp->reverse ? (jp->reinit ? tm->ra_with_reinit_prog_delta : tm->ra_without_reinit_prog_delta) : 0;
        double ra_delay = jp->reverse ? (jp->reinit ? tm->ra_with_reinit_delay_delta : tm->ra_without_reinit_delay_delta) : 0;
        t->prog = tm->typical_programming_time + ra_prog + jp->prog_therm;
        int nr = tm->n_readout_params / 2;
        double x = nact > 0 ? (double)nact : 1.0;
        bool loglog = !strcmp(tm->readout_time_model, "pwl_log_log");
        if (loglog) x = log10(x);
        const double *q = tm->readout_params, *r = tm->readout_params + nr;
        double y = nr ? r[0] : 0;
        if (nr && x >= q[nr - 1]) y = r[nr - 1];
        else for (int i = 0; i + 1 < nr; i++)
            if (x >= q[i] && x <= q[i + 1]) { y = r[i] + (r[i + 1] - r[i]) * (x - q[i]) / (q[i + 1] - q[i]); break; }
        t->readout = loglog ? pow(10, y) : y;
        t->delay = tm->qpu_delay_time_per_sample + ra_delay + jp->read_therm;
    } else {   /* 2020-era 2000Q answers: typical values from the recorded DW_2000Q_5 answer */
        t->prog = 8361 + jp->prog_therm;
        t->readout = 274;
        t->delay = 21 + jp->read_therm;
    }
    t->anneal = jp->anneal_time;
    t->sampling = (double)jp->num_reads * (t->anneal + t->readout + t->delay);
    t->access = t->prog + t->sampling;
}

static cJSON *timing_json(const struct timing_out *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "qpu_sampling_time", round(t->sampling * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_anneal_time_per_sample", t->anneal);
    cJSON_AddNumberToObject(o, "qpu_readout_time_per_sample", round(t->readout * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_access_time", round(t->access * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_access_overhead_time", 1000.0);
    cJSON_AddNumberToObject(o, "qpu_programming_time", round(t->prog * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_delay_time_per_sample", round(t->delay * 100) / 100);
    cJSON_AddNumberToObject(o, "total_post_processing_time", 0.0);
    cJSON_AddNumberToObject(o, "post_processing_overhead_time", 0.0);
    return o;
}

struct row_sort { double e; long idx; };
static int cmp_row(const void *a, const void *b)
{
    const struct row_sort *x = a, *y = b;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The problem's active part: labels of active qubits (ascending, as qubits[] is) with their
 * wire positions, the couplers with a non-zero J between them, and the graph/bm on them. */
struct active {
    int nact;
    long *lab; int *wire;          /* [nact] */
    long ne;
    long (*ed)[2]; long *ek;       /* [ne] label pairs and their coupler index */
    struct graph *g;
    struct bm *bm;
    int *node;                     /* [nact] bm node of active qubit a */
};

static void active_free(struct active *A)
{
    if (A->bm) bm_free(A->bm); else graph_free(A->g);
    free(A->lab); free(A->wire); free(A->ed); free(A->ek); free(A->node);
}

/* Build the bm of a problem with its Ising (h, J), auto-scaled into the solver's ranges when
 * asked (qpu-protocol §2.5 without the per-qubit coupling term).  -1 + error. */
static int active_build(const struct emu_solver *S, const struct emu_problem *p, bool auto_scale, struct active *A)
{
    const struct solver_props *sp = S->sp;
    memset(A, 0, sizeof *A);
    A->lab = qv_mallocarray((size_t)sp->nq + 1, sizeof *A->lab);
    A->wire = qv_mallocarray((size_t)sp->nq + 1, sizeof *A->wire);
    for (int i = 0; i < sp->nq; i++)
        if (!isnan(p->lin[i])) { A->lab[A->nact] = sp->qubits[i]; A->wire[A->nact] = i; A->nact++; }
    A->ed = qv_mallocarray((size_t)sp->nc + 1, sizeof *A->ed);
    A->ek = qv_mallocarray((size_t)sp->nc + 1, sizeof *A->ek);
    for (long k = 0; k < sp->nc; k++) {
        if (p->quad[k] == 0) continue;
        int pa = S->pos[sp->couplers[k][0]], pb = S->pos[sp->couplers[k][1]];
        if (pa < 0 || pb < 0 || isnan(p->lin[pa]) || isnan(p->lin[pb])) continue;
        A->ed[A->ne][0] = sp->couplers[k][0]; A->ed[A->ne][1] = sp->couplers[k][1]; A->ek[A->ne] = k; A->ne++;
    }
    A->g = graph_from_edges(A->nact, A->lab, A->ne, (const long (*)[2])A->ed);
    A->bm = A->g ? bm_new(A->g) : NULL;
    if (!A->bm) return -1;
    A->node = qv_mallocarray((size_t)A->nact + 1, sizeof *A->node);
    for (int a = 0; a < A->nact; a++) A->node[a] = graph_find_label(A->g, A->lab[a]);
    /* Ising problem on the bm's node/edge order (QUBO converted: h = Q_ii/2 + Σ Q_ij/4, J = Q_ij/4) */
    double *h = qv_calloc((size_t)A->nact + 1, sizeof *h);
    double *J = qv_calloc((size_t)A->bm->ne + 1, sizeof *J);
    for (int a = 0; a < A->nact; a++) h[A->node[a]] = p->qubo ? p->lin[A->wire[a]] / 2 : p->lin[A->wire[a]];
    for (long m = 0; m < A->ne; m++) {
        int u = graph_find_label(A->g, A->ed[m][0]), v = graph_find_label(A->g, A->ed[m][1]);
        long gi = graph_edge_index(A->g, u, v);
        double q = p->quad[A->ek[m]];
        if (p->qubo) { J[gi] += q / 4; h[u] += q / 4; h[v] += q / 4; }
        else J[gi] += q;
    }
    if (auto_scale) {
        double r = 0;
        for (int u = 0; u < A->nact; u++) r = fmax(r, fmax(h[u] / sp->h_range[1], h[u] / sp->h_range[0]));
        for (long m = 0; m < A->bm->ne; m++) r = fmax(r, fmax(J[m] / sp->j_range[1], J[m] / sp->j_range[0]));
        if (r > 0) {
            for (int u = 0; u < A->nact; u++) h[u] /= r;
            for (long m = 0; m < A->bm->ne; m++) J[m] /= r;
        }
    }
    bm_from_ising(A->bm, h, J);
    free(h); free(J);
    return 0;
}

/* The solver's annealer, created on first use, set up by its own stand_in hook (sampler.h) to
 * answer num_reads reads for this solver; *beta: the freeze-out β of the emulated anneal, which a
 * sampler that emulates the anneal itself (sqa) replaces. */
static struct sampler *annealer(struct emu_server *e, int si, long num_reads, double *beta)
{
    struct emu_solver *S = &e->sv[si];
    if (!S->smp) {
        struct sampler *ns = sampler_new(e->sampler, e->seed + 1000003u * (uint64_t)(si + 1));
        if (!ns) return NULL;
        S->smp = ns;
    }
    if (sampler_stand_in(S->smp, S->spec, num_reads, beta)) return NULL;
    return S->smp;
}

/* Rows of the answer: energies of the submitted (unscaled) problem for each read, values ±1
 * (ising) or 0/1 (qubo); histogram mode keeps distinct rows by ascending energy with counts.
 * Outputs obits[rows][nact], oen[rows], occ[rows] (malloc'ed); returns the row count. */
static long answer_rows(const struct emu_problem *p, const struct active *A, const struct samples *out, bool raw,
                        uint8_t **obits, double **oen, int **occ)
{
    long R = out->count;
    int nact = A->nact;
    uint8_t *bits = qv_mallocarray((size_t)R * (size_t)nact + 1, 1);
    double *en = qv_mallocarray((size_t)R + 1, sizeof *en);
    for (long r = 0; r < R; r++) {
        const uint8_t *z = out->z + (size_t)r * A->bm->n;
        uint8_t *row = bits + (size_t)r * nact;
        double E = 0;
        for (int a = 0; a < nact; a++) {
            row[a] = z[A->node[a]];
            E += p->lin[A->wire[a]] * (p->qubo ? row[a] : (row[a] ? 1.0 : -1.0));
        }
        for (long m = 0; m < A->ne; m++) {
            int ua = graph_find_label(A->g, A->ed[m][0]), ub = graph_find_label(A->g, A->ed[m][1]);
            double xa = p->qubo ? z[ua] : (z[ua] ? 1.0 : -1.0), xb = p->qubo ? z[ub] : (z[ub] ? 1.0 : -1.0);
            E += p->quad[A->ek[m]] * xa * xb;
        }
        en[r] = E;
    }
    *occ = qv_mallocarray((size_t)R + 1, sizeof **occ);
    if (raw) {
        for (long r = 0; r < R; r++) (*occ)[r] = 1;
        *obits = bits; *oen = en;
        return R;
    }
    struct row_sort *rs = qv_mallocarray((size_t)R + 1, sizeof *rs);
    for (long r = 0; r < R; r++) { rs[r].e = en[r]; rs[r].idx = r; }
    qsort(rs, (size_t)R, sizeof *rs, cmp_row);
    *obits = qv_mallocarray((size_t)R * (size_t)nact + 1, 1);
    *oen = qv_mallocarray((size_t)R + 1, sizeof **oen);
    long nrow = 0;
    for (long i = 0; i < R; i++) {
        const uint8_t *row = bits + (size_t)rs[i].idx * nact;
        long found = -1;
        for (long j = nrow - 1; j >= 0 && (*oen)[j] == rs[i].e; j--)
            if (!memcmp(*obits + (size_t)j * nact, row, (size_t)nact)) { found = j; break; }
        if (found >= 0) { (*occ)[found]++; continue; }
        memcpy(*obits + (size_t)nrow * nact, row, (size_t)nact);
        (*oen)[nrow] = rs[i].e;
        (*occ)[nrow] = 1;
        nrow++;
    }
    free(rs); free(bits); free(en);
    return nrow;
}

/* Anneal one problem: returns the answer object or NULL with the error (→ FAILED). */
static cJSON *anneal_problem(struct emu_server *e, const struct emu_problem *p, double *access_us)
{
    const struct emu_solver *S = &e->sv[p->solver];
    const struct solver_props *sp = S->sp;
    struct job_params jp;
    if (emu_validate_params(sp, p->params, p->qubo, p->lin, p->quad, &jp)) return NULL;
    struct active A;
    cJSON *ans = NULL;
    uint8_t *init = NULL;
    struct samples out;
    samples_init(&out);
    if (active_build(S, p, jp.auto_scale, &A)) goto done;
    /* Classical stand-ins sample at the freeze-out β of a standard anneal (β_phys·B(s*)/2 with
     * the published Advantage freeze-out point s* ≈ 0.612, annealing.md §4.1). */
    const struct anneal_table *tab = anneal_table_for(sp);
    double beta_fo = tab ? anneal_beta_phys(sp->temperature_mk) * anneal_B(tab, 0.612) / 2 : 6.0;
    qv_clearerr();
    double beta = beta_fo;
    struct sampler *smp = annealer(e, p->solver, jp.num_reads, &beta);
    if (!smp) goto done;
    if (jp.initial) {
        init = qv_mallocarray((size_t)jp.num_reads * (size_t)A.nact + 1, 1);
        for (int a = 0; a < A.nact; a++) {
            int x = cJSON_GetArrayItem(jp.initial, (int)A.lab[a])->valueint;
            for (long r = 0; r < jp.num_reads; r++) init[(size_t)r * A.nact + A.node[a]] = x > 0;
        }
    }
    struct sample_ctx ctx = {.schedule = &jp.sched, .initial = init, .threads = 0};
    if (sampler_sample(smp, A.bm, beta, jp.num_reads, &ctx, &out)) goto done;
    uint8_t *obits; double *oen; int *occ;
    long nrow = answer_rows(p, &A, &out, jp.raw, &obits, &oen, &occ);
    if (jp.max_answers > 0 && nrow > jp.max_answers) nrow = jp.max_answers;
    int *act = qv_mallocarray((size_t)A.nact + 1, sizeof *act);
    for (int a = 0; a < A.nact; a++) act[a] = (int)A.lab[a];
    ans = cJSON_CreateObject();
    sapi_answer_encode(ans, sp->num_qubits, A.nact, act, nrow, obits, oen, occ);
    struct timing_out tmo;
    timing_model(sp, &jp, A.nact, &tmo);
    cJSON_AddItemToObject(ans, "timing", timing_json(&tmo));
    *access_us = tmo.access;
    free(act); free(occ); free(obits); free(oen);
done:
    samples_free(&out);
    free(init);
    active_free(&A);
    return ans;
}

int emu_worker_main(void *arg)
{
    struct emu_server *e = arg;
    mtx_lock(&e->mu);
    for (;;) {
        struct emu_problem *p = NULL;
        while (!e->stop) {
            for (int i = 0; i < e->npr && !p; i++)
                if (e->pr[i]->st == P_PENDING) p = e->pr[i];
            if (p) break;
            cnd_wait(&e->cv, &e->mu);
        }
        if (e->stop) break;
        p->st = P_PROGRESS;
        e->stats.problems++;
        mtx_unlock(&e->mu);
        double t0 = qv_now(), access = 0;
        cJSON *ans = anneal_problem(e, p, &access);
        double dt = qv_now() - t0;
        char err[256] = "";
        if (!ans) snprintf(err, sizeof err, "%s", qv_errmsg());
        if (e->realtime && ans && access * 1e-6 > dt) emu_sleep(access * 1e-6 - dt);
        mtx_lock(&e->mu);
        e->stats.anneal_seconds += dt;
        if (ans) { p->answer = ans; p->st = P_COMPLETED; e->stats.completed++; }
        else { snprintf(p->errmsg, sizeof p->errmsg, "%s", err); p->st = P_FAILED; }
        emu_now_iso(p->solved, sizeof p->solved);
        cnd_broadcast(&e->cv);
    }
    mtx_unlock(&e->mu);
    return 0;
}

/* ---------------------------------------------------------------- advanced controls */

/* A per-qubit array of params (num_qubits numbers, null or 0 = none) into the schedule's list
 * for the active qubits; an offset outside its qubit's range is refused on any qubit. */
static int qubit_array(const struct solver_props *sp, const cJSON *a, const char *key, const double *lin,
                       struct sched *s)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != sp->num_qubits)
        return qv_seterr("Parameter %s must list %d numbers (one per qubit)", key, sp->num_qubits);
    bool off = !strcmp(key, "anneal_offsets");
    int q = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        double x = 0;
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) x = v->valuedouble;
        else if (!cJSON_IsNull(v)) return qv_seterr("Parameter %s: value %d is not a number", key, q);
        const double *r = off && q < sp->n_anneal_offset_ranges ? sp->anneal_offset_ranges[q] : NULL;
        if (x != 0 && r && (x < r[0] || x > r[1]))
            return qv_seterr("Parameter %s: %g on qubit %d is outside its range [%g, %g]", key, x, q, r[0], r[1]);
        int w = solver_qubit_index(sp, q);
        if (x != 0 && w >= 0 && !isnan(lin[w]) && (off ? sched_set_offset(s, q, x) : sched_set_flux(s, q, x)))
            return qv_preferr("Parameter %s", key);
        q++;
    }
    return 0;
}

int emu_params_ctl(const struct solver_props *sp, const cJSON *params, bool fast, const double *lin,
                   struct job_params *jp)
{
    struct sched *s = &jp->sched;
    s->ctl.fast_anneal = fast;
    const cJSON *ao = cJSON_GetObjectItemCaseSensitive(params, "anneal_offsets");
    const cJSON *fb = cJSON_GetObjectItemCaseSensitive(params, "flux_biases");
    const cJSON *hg = cJSON_GetObjectItemCaseSensitive(params, "h_gain_schedule");
    if (ao && !cJSON_IsNull(ao) && qubit_array(sp, ao, "anneal_offsets", lin, s)) return -1;
    if (fb && !cJSON_IsNull(fb)) {
        if (jp->auto_scale) return qv_seterr("Parameter flux_biases cannot be used with auto_scale (set auto_scale false)");
        if (qubit_array(sp, fb, "flux_biases", lin, s)) return -1;
    }
    if (hg && !cJSON_IsNull(hg)) {
        struct sched_point pts[SCHED_HG_CAP];
        int n = 0;
        const cJSON *e;
        if (!cJSON_IsArray(hg) || cJSON_GetArraySize(hg) > SCHED_HG_CAP)
            return qv_seterr("Parameter h_gain_schedule must be a list of at most %d [time, gain] points", SCHED_HG_CAP);
        cJSON_ArrayForEach(e, hg) {
            const cJSON *t = cJSON_GetArrayItem(e, 0), *g = cJSON_GetArrayItem(e, 1);
            if (cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(t) || !cJSON_IsNumber(g))
                return qv_seterr("Parameter h_gain_schedule: point %d is not a [time, gain] pair", n);
            pts[n++] = (struct sched_point){t->valuedouble, g->valuedouble};
        }
        if (sched_set_hgain(s, pts, n)) return qv_preferr("Parameter h_gain_schedule");
    }
    return 0;
}

int emu_check_ctl(const struct solver_props *sp, const struct job_params *jp)
{
    struct sched_violation v[16];
    int nv = sched_validate(&jp->sched, sp, v, 16);
    for (int i = 0; i < QV_MIN(nv, 16); i++)
        if (v[i].rule == SCHED_RULE_FAST || v[i].rule == SCHED_RULE_HGAIN || v[i].rule == SCHED_RULE_OFFSET)
            return qv_seterr("%s", v[i].msg);
    return 0;
}
