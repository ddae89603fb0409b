/* emu_valid.c — checking one job of a POST problems/ body the way SAPI does: the solver and its
 * graph id, the problem type, the qp data (qpu-protocol §1.5, with clear messages for biases on
 * qubits and couplings on couplers outside the problem's active set, and for an empty problem)
 * and the parameters against the solver's ranges (§2).  Errors go to qv_seterr; the caller
 * turns them into the job's error object in the batch reply. */
#include "emu_int.h"
#include "sapi_codec.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parameters */

static int get_bool(const cJSON *p, const char *k, bool def, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v); return 0; }
    return qv_seterr("Parameter %s must be a boolean", k);
}

static int get_number(const cJSON *p, const char *k, double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) { *out = v->valuedouble; return 0; }
    return qv_seterr("Parameter %s must be a number", k);
}

static int check_range(const char *k, double v, const double r[2])
{
    if (v < r[0] || v > r[1])
        return qv_seterr("Parameter %s = %g is out of range [%g, %g]", k, v, r[0], r[1]);
    return 0;
}

int emu_validate_params(const struct solver_props *sp, const cJSON *params, bool qubo,
                        const double *lin, const double *quad, struct job_params *jp)
{
    memset(jp, 0, sizeof *jp);
    if (params && !cJSON_IsObject(params)) return qv_seterr("params must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
        if (!solver_accepts_param(sp, it->string))
            return qv_seterr("Parameter %s is not supported by solver %s", it->string, sp->name);
    double d;
    if (get_number(params, "num_reads", 1, &d)) return -1;
    if (d != floor(d)) return qv_seterr("Parameter num_reads must be an integer");
    jp->num_reads = (long)d;
    double rr[2] = {(double)sp->num_reads_range[0], (double)sp->num_reads_range[1]};
    if (check_range("num_reads", d, rr)) return -1;
    bool fast;
    if (get_bool(params, "fast_anneal", false, &fast)) return -1;
    if (get_bool(params, "auto_scale", true, &jp->auto_scale)) return -1;
    if (get_bool(params, "reinitialize_state", true, &jp->reinit)) return -1;
    if (get_bool(params, "reduce_intersample_correlation", false, &jp->reduce_corr)) return -1;
    if (get_number(params, "programming_thermalization", sp->default_programming_thermalization, &jp->prog_therm)) return -1;
    if (check_range("programming_thermalization", jp->prog_therm, sp->programming_thermalization_range)) return -1;
    if (get_number(params, "readout_thermalization", sp->default_readout_thermalization, &jp->read_therm)) return -1;
    if (check_range("readout_thermalization", jp->read_therm, sp->readout_thermalization_range)) return -1;
    const cJSON *am = cJSON_GetObjectItemCaseSensitive(params, "answer_mode");
    const cJSON *is = cJSON_GetObjectItemCaseSensitive(params, "initial_state");
    jp->initial = is && !cJSON_IsNull(is) ? is : NULL;
    jp->raw = jp->initial != NULL;
    if (am && !cJSON_IsNull(am)) {
        if (!cJSON_IsString(am) || (strcmp(am->valuestring, "raw") && strcmp(am->valuestring, "histogram")))
            return qv_seterr("Parameter answer_mode must be \"raw\" or \"histogram\"");
        jp->raw = !strcmp(am->valuestring, "raw");
    }
    if (get_number(params, "max_answers", 0, &d)) return -1;
    if (d < 0 || d != floor(d) || (d == 0 && cJSON_GetObjectItemCaseSensitive(params, "max_answers")))
        return qv_seterr("Parameter max_answers must be a positive integer");
    jp->max_answers = (long)d;
    if (jp->raw && jp->max_answers > jp->num_reads)
        return qv_seterr("Parameter max_answers (%ld) exceeds num_reads (%ld) in raw answer mode",
                         jp->max_answers, jp->num_reads);

    const cJSON *at = cJSON_GetObjectItemCaseSensitive(params, "annealing_time");
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(params, "anneal_schedule");
    bool have_at = at && !cJSON_IsNull(at), have_as = as && !cJSON_IsNull(as);
    if (have_at && have_as) return qv_seterr("annealing_time and anneal_schedule are mutually exclusive");
    sched_init(&jp->sched);
    jp->sched.num_reads = jp->num_reads;
    jp->sched.readout_thermalization = jp->read_therm;
    jp->sched.programming_thermalization = jp->prog_therm;
    jp->sched.initial_state = jp->initial != NULL;
    jp->sched.reinitialize = jp->reinit;
    if (emu_params_ctl(sp, params, fast, lin, jp)) return -1;
    if (have_as) {
        if (!cJSON_IsArray(as)) return qv_seterr("Parameter anneal_schedule must be a list of [time, s] points");
        if (sched_from_cjson(&jp->sched, as)) return qv_preferr("anneal_schedule");
        jp->sched.num_reads = jp->num_reads;
        jp->sched.readout_thermalization = jp->read_therm;
        jp->sched.programming_thermalization = jp->prog_therm;
        jp->sched.initial_state = jp->initial != NULL;
        jp->sched.reinitialize = jp->reinit;
        struct sched_violation v;
        if (sched_validate(&jp->sched, sp, &v, 1) > 0) return qv_seterr("anneal_schedule: %s", v.msg);
        jp->have_schedule = true;
        jp->reverse = sched_is_reverse(&jp->sched);
        jp->anneal_time = sched_duration(&jp->sched);
        if (fast && jp->sched.n != 2) return qv_seterr("fast_anneal requires an anneal_schedule of exactly 2 points");
    } else {
        if (get_number(params, "annealing_time", sp->default_annealing_time, &jp->anneal_time)) return -1;
        if (check_range("annealing_time", jp->anneal_time,
                        fast && sp->has_fast_anneal ? sp->fast_anneal_time_range : sp->annealing_time_range))
            return -1;
        if (sched_forward(&jp->sched, jp->anneal_time)) return qv_preferr("annealing_time");
        double dur = solver_run_duration(sp, jp->anneal_time, jp->num_reads, jp->read_therm, jp->prog_therm);
        if (dur > sp->problem_run_duration_range[1])
            return qv_seterr("Upper limit on user-specified timing related parameters exceeded: %.0f > %.0f",
                             dur, sp->problem_run_duration_range[1]);
    }
    if (jp->initial && !jp->reverse)
        return qv_seterr("initial_state requires a reverse anneal_schedule (starting at s = 1)");
    if (jp->initial) {
        if (!cJSON_IsArray(jp->initial) || cJSON_GetArraySize(jp->initial) != sp->num_qubits)
            return qv_seterr("Parameter initial_state must list %d values (one per qubit, 3 = unused)", sp->num_qubits);
        for (int i = 0; i < sp->nq; i++) {
            if (isnan(lin[i])) continue;
            const cJSON *v = cJSON_GetArrayItem(jp->initial, sp->qubits[i]);
            int x = cJSON_IsNumber(v) ? v->valueint : 99;
            bool ok = qubo ? (x == 0 || x == 1) : (x == -1 || x == 1);
            if (!ok)
                return qv_seterr("Parameter initial_state: active qubit %d has value %d (expected %s)",
                                 sp->qubits[i], x, qubo ? "0 or 1" : "-1 or +1");
        }
    }
    if (emu_check_ctl(sp, jp)) return -1;
    if (fast) {
        for (int i = 0; i < sp->nq; i++)
            if (!isnan(lin[i]) && lin[i] != 0)
                return qv_seterr("fast_anneal requires all linear biases to be zero");
        if (jp->reverse) return qv_seterr("fast_anneal does not support reverse annealing");
    }
    if (!jp->auto_scale && !qubo) {
        for (int i = 0; i < sp->nq; i++)
            if (!isnan(lin[i]) && (lin[i] < sp->h_range[0] || lin[i] > sp->h_range[1]))
                return qv_seterr("h value %g on qubit %d is out of h_range [%g, %g] (auto_scale is off)",
                                 lin[i], sp->qubits[i], sp->h_range[0], sp->h_range[1]);
        const double *jr = sp->has_extended_j ? sp->extended_j_range : sp->j_range;
        for (long k = 0; k < sp->nc; k++)
            if (quad[k] < jr[0] || quad[k] > jr[1])
                return qv_seterr("J value %g on coupler (%d, %d) is out of range [%g, %g] (auto_scale is off)",
                                 quad[k], sp->couplers[k][0], sp->couplers[k][1], jr[0], jr[1]);
    }
    return 0;
}

/* ---------------------------------------------------------------- one job */


static double f64_at(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* data.lin with one value per qubit label (num_qubits of them) instead of one per working
 * qubit: name the first label outside the working graph that carries a bias. */
static int lin_label_space(const struct emu_solver *S, const unsigned char *lb)
{
    const struct solver_props *sp = S->sp;
    for (int q = 0; q < sp->num_qubits; q++)
        if (S->pos[q] < 0 && !isnan(f64_at(lb + 8 * (size_t)q)))
            return qv_seterr("h on inactive qubit %d: qubit %d is not in the working graph of solver %s",
                             q, q, sp->name);
    return qv_seterr("data.lin holds %d values, one per qubit label; the qp format wants one per "
                     "working qubit (%d)", sp->num_qubits, sp->nq);
}

/* data.quad with one value per coupler (nc) instead of one per active coupler: name the first
 * coupler with a non-zero J that has an inactive end. */
static int quad_all_couplers(const struct emu_solver *S, const unsigned char *lb, const unsigned char *qb,
                             long nactive)
{
    const struct solver_props *sp = S->sp;
    for (long k = 0; k < sp->nc; k++) {
        int a = sp->couplers[k][0], b = sp->couplers[k][1];
        bool ia = isnan(f64_at(lb + 8 * (size_t)S->pos[a])), ib = isnan(f64_at(lb + 8 * (size_t)S->pos[b]));
        double J = f64_at(qb + 8 * (size_t)k);
        if ((ia || ib) && J != 0)
            return qv_seterr("J = %g on inactive coupler (%d, %d): qubit %d has no bias (NaN in data.lin)",
                             J, a, b, ia ? a : b);
    }
    return qv_seterr("data.quad holds %ld values, one per coupler; the qp format wants one per active "
                     "coupler (%ld)", sp->nc, nactive);
}

/* Decode the qp data into p->lin, p->quad with the checks above and the empty-problem check. */
static int decode_qp(const struct emu_solver *S, const char *lin_b64, const char *quad_b64, struct emu_problem *p)
{
    const struct solver_props *sp = S->sp;
    unsigned char *lb = NULL, *qb = NULL;
    size_t ln = 0, qn = 0;
    int rc = 0;
    if (sapi_b64_decode(lin_b64, &lb, &ln)) return qv_preferr("data.lin");
    if (sp->num_qubits != sp->nq && ln == (size_t)sp->num_qubits * 8) { rc = lin_label_space(S, lb); goto out; }
    if (sapi_qp_decode(lin_b64, quad_b64, sp->nq, sp->nc, (const int (*)[2])sp->couplers, S->pos, &p->lin, &p->quad)) {
        rc = -1;
        if (ln != (size_t)sp->nq * 8 || sapi_b64_decode(quad_b64, &qb, &qn) || qn != (size_t)sp->nc * 8) goto out;
        long nactive = 0;
        for (long k = 0; k < sp->nc; k++)
            nactive += !isnan(f64_at(lb + 8 * (size_t)S->pos[sp->couplers[k][0]]))
                    && !isnan(f64_at(lb + 8 * (size_t)S->pos[sp->couplers[k][1]]));
        if (nactive != sp->nc) rc = quad_all_couplers(S, lb, qb, nactive);
        goto out;
    }
    int nact = 0;
    for (int i = 0; i < sp->nq; i++) nact += !isnan(p->lin[i]);
    if (!nact)
        rc = qv_seterr("Problem is empty: no active qubits (every data.lin value is NaN; a bias on a qubit "
                       "outside the working graph cannot be encoded)");
out:
    free(lb); free(qb);
    return rc;
}

struct emu_problem *emu_job_parse(const struct emu_server *e, const cJSON *job, unsigned *code)
{
    *code = 400;
    if (!cJSON_IsObject(job)) { qv_seterr("Each problem must be a JSON object"); return NULL; }
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(job, "solver");
    const cJSON *nm = cJSON_IsString(sv) ? sv : cJSON_GetObjectItemCaseSensitive(sv, "name");
    int si = cJSON_IsString(nm) ? emu_find_solver(e, nm->valuestring) : -1;
    if (si < 0) {
        *code = 404;
        qv_seterr("Solver does not exist or apitoken does not have access");
        return NULL;
    }
    const struct emu_solver *S = &e->sv[si];
    const struct solver_props *sp = S->sp;
    const cJSON *gid = emu_path_get(sv, "version.graph_id");
    if (cJSON_IsObject(sv) && gid && (!cJSON_IsString(gid) || strcmp(gid->valuestring, S->graph_id))) {
        qv_seterr("Solver %s graph_id %s does not match the current graph (%s)", sp->name,
                  cJSON_IsString(gid) ? gid->valuestring : "(not a string)", S->graph_id);
        return NULL;
    }
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(job, "type");
    bool supported = false;
    for (int i = 0; cJSON_IsString(ty) && i < sp->nproblem_types; i++)
        if (!strcmp(sp->problem_types[i], ty->valuestring)) supported = true;
    if (!supported) {
        qv_seterr("Problem type (%s) is not supported by the solver.", cJSON_IsString(ty) ? ty->valuestring : "missing");
        return NULL;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(job, "data");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(data, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "qp")) {
        qv_seterr("Problem data format must be \"qp\" for solver %s", sp->name);
        return NULL;
    }
    const cJSON *lb = cJSON_GetObjectItemCaseSensitive(data, "lin"), *qb = cJSON_GetObjectItemCaseSensitive(data, "quad");
    if (!cJSON_IsString(lb) || (qb && !cJSON_IsString(qb))) {
        qv_seterr("Problem data must carry base64 lin and quad");
        return NULL;
    }
    struct emu_problem *p = qv_calloc(1, sizeof *p);
    p->solver = si;
    p->qubo = !strcmp(ty->valuestring, "qubo");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(job, "params");
    p->params = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
    struct job_params jp;
    if (decode_qp(S, lb->valuestring, qb ? qb->valuestring : "", p)
        || emu_validate_params(sp, p->params, p->qubo, p->lin, p->quad, &jp)) {
        emu_problem_free(p);
        return NULL;
    }
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(job, "label");
    if (cJSON_IsString(label)) p->label = qv_strdup(label->valuestring);
    return p;
}
