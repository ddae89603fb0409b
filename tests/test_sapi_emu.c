/* test_sapi_emu.c — the SAPI client against the emulator over loopback: list solvers, submit,
 * poll, decode (energies equal local recomputation), histogram and raw answers, a reverse anneal
 * with an initial state, the qpu sampler end to end, cancel, and every fault with its message:
 * 401 bad token, 400 invalid schedule, 429 and 503 retried then succeeding, 500 on POST not
 * re-sent, timeout, malformed base64, truncated answer, dropped connections. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "bm.h"
#include "emu.h"
#include "graph.h"
#include "rng.h"
#include "sampler.h"
#include "sapi.h"
#include "schedule.h"
#include "solver.h"

#define TOKEN "TEST-0123456789abcdef"

static char solver_spec[1024];
static struct emu_server *emu;

static struct sapi_client *client(const char *token, double job_timeout)
{
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(emu));
    snprintf(cfg.token, sizeof cfg.token, "%s", token);
    cfg.backoff_base = 0.01;
    cfg.backoff_max = 0.2;
    cfg.poll_wait = 2;
    cfg.job_timeout = job_timeout;
    struct sapi_client *c = sapi_client_new(&cfg);
    assert_non_null(c);
    return c;
}

static int setup(void **st)
{
    /* a shipped property file, else the real definition from the shared data */
    struct solver_props *sp = solver_load("DW_2000Q_5");
    if (sp) snprintf(solver_spec, sizeof solver_spec, "DW_2000Q_5");
    else {
        const char *sh = getenv("QVAE_SHARED");
        snprintf(solver_spec, sizeof solver_spec, "%s/data/sapi/dw2000q5_solver.json", sh ? sh : "../shared");
        sp = solver_load_file(solver_spec);
    }
    if (!sp) return -1;
    solver_free(sp);
    const char *names[1] = {solver_spec};
    /* sa behind the emulator keeps this protocol test fast; test_qpu_sampler runs one sqa one */
    struct emu_opts o = {.port = 0, .token = TOKEN, .solvers = names, .nsolvers = 1, .seed = 7, .sampler = "sa"};
    emu = emu_start(&o);
    if (!emu) { print_message("emu_start: %s\n", qv_errmsg()); return -1; }
    return 0;
}

static int teardown(void **st)
{
    emu_stop(emu);
    return 0;
}

/* A problem on the first `nq` working qubits of a cell-aligned patch: h, J random in ±range. */
struct prob { double *lin, *quad; int nact; };

static void make_problem(const struct solver_props *sp, int maxlab, double range, uint64_t seed, struct prob *p)
{
    struct rng r;
    rng_init(&r, seed, 1);
    p->lin = malloc(sizeof(double) * (size_t)sp->nq);
    p->quad = calloc((size_t)sp->nc, sizeof(double));
    p->nact = 0;
    for (int i = 0; i < sp->nq; i++) {
        p->lin[i] = sp->qubits[i] < maxlab ? range * (2 * rng_uniform(&r) - 1) : NAN;
        if (!isnan(p->lin[i])) p->nact++;
    }
    int *pos = sapi_qubit_pos(sp);
    for (long k = 0; k < sp->nc; k++) {
        int a = sp->couplers[k][0], b = sp->couplers[k][1];
        if (a < maxlab && b < maxlab && pos[a] >= 0 && pos[b] >= 0) p->quad[k] = range * (2 * rng_uniform(&r) - 1);
    }
    free(pos);
}

static double energy_of(const struct solver_props *sp, const struct prob *p, const struct sapi_answer *a, long r, bool qubo)
{
    const int8_t *s = a->sol + r * a->nact;
    double *x = calloc((size_t)sp->num_qubits, sizeof(double));
    for (int k = 0; k < a->nact; k++) x[a->active[k]] = s[k];
    double E = 0;
    for (int i = 0; i < sp->nq; i++) if (!isnan(p->lin[i])) E += p->lin[i] * x[sp->qubits[i]];
    for (long k = 0; k < sp->nc; k++) E += p->quad[k] * x[sp->couplers[k][0]] * x[sp->couplers[k][1]];
    free(x);
    return E;
}

static void test_list_and_sample(void **st)
{
    struct sapi_client *c = client(TOKEN, 60);
    struct sapi_solver_brief *L; int n;
    assert_int_equal(sapi_list_solvers(c, false, &L, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(L[0].name, "DW_2000Q_5");
    assert_string_equal(L[0].topology, "chimera");
    assert_int_equal(L[0].nshape, 3);
    assert_int_equal(L[0].shape[0], 16);
    assert_int_equal(L[0].num_qubits, 2048);
    assert_string_equal(L[0].status, "ONLINE");
    free(L);
    const struct solver_props *sp = sapi_current_solver(c);
    assert_non_null(sp);
    assert_int_equal(sp->nq, 2030);
    assert_int_equal(sp->nc, 5909);
    assert_ptr_equal(sapi_solver(c, "DW_2000Q_5"), sp);   /* cached */

    struct prob p;
    make_problem(sp, 64, 1.0, 11, &p);
    /* histogram (default answer mode) */
    cJSON *params = cJSON_Parse("{\"num_reads\": 200, \"annealing_time\": 20}");
    struct sapi_job job = {.sp = sp, .lin = p.lin, .quad = p.quad, .params = params, .label = "t1"};
    struct sapi_answer a;
    assert_int_equal(sapi_sample(c, &job, 1, &a), 0);
    assert_int_equal(a.total_reads, 200);
    assert_int_equal(a.nact, p.nact);
    for (long r = 0; r < a.nsol; r++) {
        assert_true(fabs(a.energies[r] - energy_of(sp, &p, &a, r, false)) < 1e-9);
        if (r) assert_true(a.energies[r] >= a.energies[r - 1]);
        for (long q = 0; q < r; q++) assert_memory_not_equal(a.sol + r * a.nact, a.sol + q * a.nact, (size_t)a.nact);
    }
    /* timing fields from the timing model: access = programming + sampling */
    assert_true(a.timing.qpu_access_time > 0);
    assert_true(fabs(a.timing.qpu_access_time - a.timing.qpu_programming_time - a.timing.qpu_sampling_time) < 0.1);
    assert_true(a.timing.qpu_anneal_time_per_sample == 20);
    sapi_answer_free(&a);
    cJSON_Delete(params);

    /* raw, qubo, max_answers */
    params = cJSON_Parse("{\"num_reads\": 30, \"answer_mode\": \"raw\", \"max_answers\": 25}");
    job.params = params;
    job.qubo = true;
    assert_int_equal(sapi_sample(c, &job, 1, &a), 0);
    assert_int_equal(a.nsol, 25);
    for (long r = 0; r < a.nsol; r++) {
        assert_int_equal(a.occ[r], 1);
        for (int k = 0; k < a.nact; k++) assert_true(a.sol[r * a.nact + k] == 0 || a.sol[r * a.nact + k] == 1);
        assert_true(fabs(a.energies[r] - energy_of(sp, &p, &a, r, true)) < 1e-9);
    }
    sapi_answer_free(&a);
    cJSON_Delete(params);

    /* two problems in one POST */
    params = cJSON_Parse("{\"num_reads\": 10}");
    struct sapi_job jobs[2] = {job, job};
    jobs[0].params = jobs[1].params = params;
    jobs[1].qubo = false;
    struct sapi_answer two[2];
    assert_int_equal(sapi_sample(c, jobs, 2, two), 0);
    assert_int_equal(two[0].total_reads, 10);
    assert_int_equal(two[1].total_reads, 10);
    sapi_answer_free(&two[0]); sapi_answer_free(&two[1]);
    cJSON_Delete(params);
    free(p.lin); free(p.quad);
    sapi_client_free(c);
}

static void test_reverse_anneal(void **st)
{
    struct sapi_client *c = client(TOKEN, 60);
    const struct solver_props *sp = sapi_current_solver(c);
    struct prob p;
    make_problem(sp, 32, 0.5, 12, &p);
    /* initial state: all +1 on active qubits, 3 elsewhere */
    cJSON *params = cJSON_Parse("{\"num_reads\": 20, \"anneal_schedule\": [[0,1],[2,0.6],[8,0.6],[10,1]],"
                                " \"reinitialize_state\": true}");
    cJSON *is = cJSON_AddArrayToObject(params, "initial_state");
    int *pos = sapi_qubit_pos(sp);
    for (int q = 0; q < sp->num_qubits; q++)
        cJSON_AddItemToArray(is, cJSON_CreateNumber(pos[q] >= 0 && !isnan(p.lin[pos[q]]) ? 1 : 3));
    free(pos);
    struct sapi_job job = {.sp = sp, .lin = p.lin, .quad = p.quad, .params = params};
    struct sapi_answer a;
    if (sapi_sample(c, &job, 1, &a)) fail_msg("%s", qv_errmsg());
    /* initial_state makes raw the default answer mode: one row per read */
    assert_int_equal(a.nsol, 20);
    for (long r = 0; r < a.nsol; r++) assert_true(fabs(a.energies[r] - energy_of(sp, &p, &a, r, false)) < 1e-9);
    sapi_answer_free(&a);

    /* a reverse schedule without initial_state is refused with the validator's message */
    cJSON_DeleteItemFromObject(params, "initial_state");
    assert_int_equal(sapi_sample(c, &job, 1, &a), -1);
    assert_non_null(strstr(qv_errmsg(), "HTTP 400"));
    assert_non_null(strstr(qv_errmsg(), "initial"));
    cJSON_Delete(params);
    free(p.lin); free(p.quad);
    sapi_client_free(c);
}

static void test_errors(void **st)
{
    struct sapi_client *bad = client("WRONG-token", 60);
    struct sapi_solver_brief *L; int n;
    assert_int_equal(sapi_list_solvers(bad, false, &L, &n), -1);
    assert_non_null(strstr(qv_errmsg(), "HTTP 401: Invalid token or access denied"));
    assert_null(strstr(qv_errmsg(), "WRONG-token"));
    sapi_client_free(bad);

    struct sapi_client *c = client(TOKEN, 60);
    const struct solver_props *sp = sapi_current_solver(c);
    assert_null(sapi_solver(c, "No_Such_Solver"));
    assert_non_null(strstr(qv_errmsg(), "HTTP 404: Solver does not exist"));
    struct prob p;
    make_problem(sp, 16, 1.0, 13, &p);
    struct sapi_answer a;
    struct { const char *params, *want; } bad_params[] = {
        /* slope 2.5 > 1/min_annealing_time = 1 µs⁻¹ */
        {"{\"anneal_schedule\": [[0,0],[10,0.5],[10.2,1]]}", "slope"},
        {"{\"anneal_schedule\": [[0,0],[5,0.6],[4,1]]}", "anneal_schedule"},
        {"{\"annealing_time\": 20, \"anneal_schedule\": [[0,0],[20,1]]}", "mutually exclusive"},
        {"{\"num_reads\": 0}", "num_reads"},
        {"{\"annealing_time\": 5000}", "annealing_time"},
        {"{\"num_reads\": 10000, \"annealing_time\": 2000}", "Upper limit on user-specified timing related parameters exceeded"},
        {"{\"bogus\": 1}", "bogus"},
        {"{\"auto_scale\": false}", NULL},   /* fine: |h|, |J| <= 1 */
    };
    for (size_t i = 0; i < sizeof bad_params / sizeof *bad_params; i++) {
        cJSON *params = cJSON_Parse(bad_params[i].params);
        struct sapi_job job = {.sp = sp, .lin = p.lin, .quad = p.quad, .params = params};
        int rc = sapi_sample(c, &job, 1, &a);
        if (!bad_params[i].want) { assert_int_equal(rc, 0); sapi_answer_free(&a); }
        else {
            assert_int_equal(rc, -1);
            if (!strstr(qv_errmsg(), bad_params[i].want) || !strstr(qv_errmsg(), "HTTP 400"))
                fail_msg("params %s: message '%s'", bad_params[i].params, qv_errmsg());
        }
        cJSON_Delete(params);
    }
    /* out-of-range h with auto_scale off */
    p.lin[0] = 3.0;
    cJSON *params = cJSON_Parse("{\"auto_scale\": false}");
    struct sapi_job job = {.sp = sp, .lin = p.lin, .quad = p.quad, .params = params};
    assert_int_equal(sapi_sample(c, &job, 1, &a), -1);
    assert_non_null(strstr(qv_errmsg(), "out of h_range"));
    cJSON_Delete(params);
    free(p.lin); free(p.quad);
    sapi_client_free(c);
}

static int sample_once(struct sapi_client *c, const struct solver_props *sp, struct prob *p)
{
    cJSON *params = cJSON_Parse("{\"num_reads\": 10}");
    struct sapi_job job = {.sp = sp, .lin = p->lin, .quad = p->quad, .params = params};
    struct sapi_answer a;
    int rc = sapi_sample(c, &job, 1, &a);
    if (!rc) sapi_answer_free(&a);
    cJSON_Delete(params);
    return rc;
}

static void test_faults(void **st)
{
    struct sapi_client *c = client(TOKEN, 60);
    const struct solver_props *sp = sapi_current_solver(c);
    struct prob p;
    make_problem(sp, 16, 1.0, 14, &p);
    struct sapi_stats s0, s1;
    struct emu_stats e0, e1;

    /* 503 and 429 are retried (also the POST: the server refused it) and then succeed */
    const char *retried[] = {"503*2", "429*3"};
    for (int i = 0; i < 2; i++) {
        sapi_client_stats(c, &s0);
        assert_int_equal(emu_set_faults(emu, retried[i]), 0);
        if (sample_once(c, sp, &p)) fail_msg("%s: %s", retried[i], qv_errmsg());
        sapi_client_stats(c, &s1);
        if (s1.retries - s0.retries < (i == 1 ? 3 : 2)) fail_msg("%s: %ld retries", retried[i], s1.retries - s0.retries);
    }
    /* a dropped GET is retried (by libcurl on a reused connection, else by us) */
    emu_get_stats(emu, &e0);
    assert_int_equal(emu_set_faults(emu, "drop*1"), 0);
    struct sapi_solver_brief *L0; int n0;
    if (sapi_list_solvers(c, true, &L0, &n0)) fail_msg("drop on GET: %s", qv_errmsg());
    free(L0);
    emu_get_stats(emu, &e1);
    assert_int_equal(e1.faults_injected - e0.faults_injected, 1);
    /* a dropped POST is never re-sent blindly: clear error, no problem created */
    emu_get_stats(emu, &e0);
    assert_int_equal(emu_set_faults(emu, "drop*1"), 0);
    assert_int_equal(sample_once(c, sp, &p), -1);
    assert_non_null(strstr(qv_errmsg(), "POST problems/: connection dropped"));
    /* 500 on POST: may have been applied, so not retried */
    assert_int_equal(emu_set_faults(emu, "500*1"), 0);
    assert_int_equal(sample_once(c, sp, &p), -1);
    assert_non_null(strstr(qv_errmsg(), "HTTP 500"));
    emu_get_stats(emu, &e1);
    assert_int_equal(e1.problems, e0.problems);
    /* retries exhausted: the message says so */
    assert_int_equal(emu_set_faults(emu, "503*50"), 0);
    assert_int_equal(sample_once(c, sp, &p), -1);
    assert_non_null(strstr(qv_errmsg(), "HTTP 503: Service temporarily unavailable (emulated) (gave up after 6 retries)"));
    assert_int_equal(emu_set_faults(emu, "none"), 0);
    /* malformed and truncated answers */
    assert_int_equal(emu_set_faults(emu, "malformed*1"), 0);
    assert_int_equal(sample_once(c, sp, &p), -1);
    assert_non_null(strstr(qv_errmsg(), "answer: solutions: base64: invalid character"));
    assert_int_equal(emu_set_faults(emu, "truncated*1"), 0);
    assert_int_equal(sample_once(c, sp, &p), -1);
    assert_non_null(strstr(qv_errmsg(), "answer: solutions: truncated"));
    assert_int_equal(emu_set_faults(emu, "bogus*1"), -1);
    sapi_client_free(c);

    /* timeout: replies slower than the request timeout */
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(emu));
    snprintf(cfg.token, sizeof cfg.token, "%s", TOKEN);
    cfg.request_timeout = 0.3;
    cfg.max_retries = 1;
    cfg.backoff_base = 0.01;
    c = sapi_client_new(&cfg);
    assert_int_equal(emu_set_faults(emu, "latency=1"), 0);
    struct sapi_solver_brief *L; int n;
    assert_int_equal(sapi_list_solvers(c, true, &L, &n), -1);
    assert_non_null(strstr(qv_errmsg(), "timed out"));
    assert_int_equal(emu_set_faults(emu, "none"), 0);
    sapi_client_free(c);
    free(p.lin); free(p.quad);
}

static void test_cancel(void **st)
{
    struct sapi_client *c = client(TOKEN, 60);
    const struct solver_props *sp = sapi_current_solver(c);
    struct prob p;
    make_problem(sp, 16, 1.0, 15, &p);
    atomic_int flag;
    atomic_store(&flag, 1);
    cJSON *params = cJSON_Parse("{\"num_reads\": 10}");
    struct sapi_job job = {.sp = sp, .lin = p.lin, .quad = p.quad, .params = params};
    char id[1][64];
    assert_int_equal(sapi_submit(c, &job, 1, id), 0);
    sapi_client_set_cancel(c, &flag);
    struct sapi_answer a;
    assert_int_equal(sapi_wait(c, id[0], false, &a), -1);
    assert_non_null(strstr(qv_errmsg(), "cancelled"));
    sapi_client_set_cancel(c, NULL);
    /* cancelling an unknown problem: a clear 404 */
    assert_int_equal(sapi_cancel(c, "00000000-0000-4000-8000-000000000000"), -1);
    assert_non_null(strstr(qv_errmsg(), "HTTP 404"));
    cJSON_Delete(params);
    free(p.lin); free(p.quad);
    sapi_client_free(c);
}

static void test_qpu_sampler(void **st)
{
    struct qv_app app;
    app_init(&app, &qv_workbench);
    app.sapi = client(TOKEN, 60);
    const struct solver_props *sp = sapi_current_solver(app.sapi);
    /* a Chimera 2x2x4 prior sits in the corner of the C16; fit it to the working graph */
    struct graph *g = graph_chimera(2, 2, 4);
    char rep[800];
    struct graph *f = qpu_fit_graph(g, sp, rep, sizeof rep);
    assert_non_null(f);
    graph_free(g);
    struct bm *bm = bm_new(f);
    struct rng r;
    rng_init(&r, 3, 3);
    for (int i = 0; i < bm->n; i++) bm->b[i] = 0.4 * (2 * rng_uniform(&r) - 1);
    for (long k = 0; k < bm->ne; k++) bm->w[k] = 0.8 * (2 * rng_uniform(&r) - 1);
    struct sampler *s = sampler_new("qpu", 5);
    assert_non_null(s);
    struct samples out;
    samples_init(&out);
    struct sample_ctx ctx = {.app = &app, .cancel = &app.cancel};
    for (int call = 0; call < 3; call++) {
        if (sampler_sample(s, bm, 1.0, 64, &ctx, &out)) fail_msg("qpu sample: %s", qv_errmsg());
        assert_int_equal(out.count, 64);
        assert_int_equal(out.n, bm->n);
        for (long i = 0; i < out.count; i++)
            assert_true(fabs(out.energy[i] - bm_energy(bm, out.z + i * bm->n)) < 1e-9);
        assert_true(isfinite(out.beta_eff) && out.beta_eff > 0);
    }
    /* reverse anneal from the persistent chains */
    struct sched *rs = sched_new();
    struct sched_point pts[4] = {{0, 1}, {2, 0.6}, {8, 0.6}, {10, 1}};
    assert_int_equal(sched_set_points(rs, pts, 4), 0);
    ctx.schedule = rs;
    assert_int_equal(sampler_set(s, "chains", "2"), 0);
    if (sampler_sample(s, bm, 1.0, 32, &ctx, &out)) fail_msg("qpu reverse: %s", qv_errmsg());
    assert_int_equal(out.count, 32);
    sched_free(rs);
    /* a prior that does not fit is reported with the missing qubits/couplers */
    struct bm *big = bm_new(graph_pegasus(2, PEGASUS_FABRIC));
    ctx.schedule = NULL;
    assert_int_equal(sampler_sample(s, big, 1.0, 8, &ctx, &out), -1);
    assert_non_null(strstr(qv_errmsg(), "pegasus"));
    bm_free(big);
    struct bm *whole = bm_new(graph_chimera(16, 16, 4));
    assert_int_equal(sampler_sample(s, whole, 1.0, 8, &ctx, &out), -1);
    assert_non_null(strstr(qv_errmsg(), "18 qubits missing"));
    assert_non_null(strstr(qv_errmsg(), "--fit-solver"));
    bm_free(whole);
    sapi_client_free(app.sapi);
    app.sapi = NULL;

    /* the emulated annealer proper (sqa with the solver's schedule and temperature) */
    const char *names[1] = {solver_spec};
    struct emu_opts o = {.port = 0, .token = TOKEN, .solvers = names, .nsolvers = 1, .seed = 9, .sampler = "sqa"};
    struct emu_server *sq = emu_start(&o);
    assert_non_null(sq);
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(sq));
    snprintf(cfg.token, sizeof cfg.token, "%s", TOKEN);
    app.sapi = sapi_client_new(&cfg);
    if (sampler_sample(s, bm, 1.0, 16, &ctx, &out)) fail_msg("qpu via sqa: %s", qv_errmsg());
    assert_int_equal(out.count, 16);
    for (long i = 0; i < out.count; i++)
        assert_true(fabs(out.energy[i] - bm_energy(bm, out.z + i * bm->n)) < 1e-9);
    struct emu_stats es;
    emu_get_stats(sq, &es);
    assert_int_equal(es.completed, 1);
    sapi_client_free(app.sapi);
    app.sapi = NULL;
    emu_stop(sq);

    samples_free(&out);
    sampler_free(s);
    bm_free(bm);
    app_free(&app);
}

int main(void)
{
    struct solver_props *sp = solver_load("DW_2000Q_5");
    if (!sp) {
        const char *sh = getenv("QVAE_SHARED");
        char path[1024];
        snprintf(path, sizeof path, "%s/data/sapi/dw2000q5_solver.json", sh ? sh : "../shared");
        sp = solver_load_file(path);
    }
    if (!sp) {
        printf("skip: no DW_2000Q_5 solver properties (assets/solvers/ or QVAE_SHARED)\n");
        return 77;
    }
    solver_free(sp);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_sample),
        cmocka_unit_test(test_reverse_anneal),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_qpu_sampler),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
