/* test_emu_ctl.c — `serve-qpu` honours the advanced anneal controls a client sends (the sqa
 * annealer behind the emulated Advantage_system4.1, over loopback through the SAPI client):
 * - the 3-qubit anneal-offset example of D-Wave's problem-solving handbook on a path a—b—c of
 *   the working graph (h = 0, 0.9, −1; J = −1, −1): anneal_offsets +0.2 on c raises P(c = +1)
 *   and the ground state's share, as the handbook reports for the QPU;
 * - h_gain_schedule 0 for the whole anneal: a qubit with h = −1 comes back unbiased (its mean
 *   within 5 σ of 0) while without the gain it is polarised;
 * - flux_biases polarise an h = 0 qubit in the documented direction (Φ > 0 → +1);
 * - what SAPI refuses is refused with its message: flux_biases with auto_scale on, a per-qubit
 *   array of the wrong length, an offset outside its qubit's range, an h-gain that does not end
 *   with the anneal, fast_anneal with three points. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "sapi.h"
#include "solver.h"

#define TOKEN "TEST-ctl-0123456789"
#define READS 600

static struct emu_server *emu;
static struct sapi_client *cli;
static const struct solver_props *sp;
static int qa, qb, qc;   /* a path a—b—c of active qubits, no a—c coupler */

static long coupler(int u, int v)
{
    for (long k = 0; k < sp->nc; k++)
        if ((sp->couplers[k][0] == u && sp->couplers[k][1] == v) || (sp->couplers[k][0] == v && sp->couplers[k][1] == u))
            return k;
    return -1;
}

static int setup(void **st)
{
    const char *names[1] = {"Advantage_system4.1"};
    struct emu_opts o = {.port = 0, .token = TOKEN, .solvers = names, .nsolvers = 1, .seed = 9, .sampler = "sqa"};
    emu = emu_start(&o);
    if (!emu) { print_message("emu_start: %s\n", qv_errmsg()); return -1; }
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(emu));
    snprintf(cfg.token, sizeof cfg.token, "%s", TOKEN);
    cfg.job_timeout = 120;
    cli = sapi_client_new(&cfg);
    sp = cli ? sapi_current_solver(cli) : NULL;
    if (!sp) return -1;
    /* the first coupler (a, b) whose b has a further neighbour c not coupled to a, with ranges */
    for (long k = 0; k < sp->nc; k++) {
        int a = sp->couplers[k][0], b = sp->couplers[k][1];
        for (long m = 0; m < sp->nc; m++) {
            int c = sp->couplers[m][0] == b ? sp->couplers[m][1] : sp->couplers[m][1] == b ? sp->couplers[m][0] : -1;
            if (c < 0 || c == a || coupler(a, c) >= 0 || sp->anneal_offset_ranges[c][1] < 0.2) continue;
            qa = a; qb = b; qc = c;
            return 0;
        }
    }
    return -1;
}

static int teardown(void **st)
{
    sapi_client_free(cli);
    emu_stop(emu);
    return 0;
}

/* Submit h on (a, b, c) and J on a—b, b—c with extra params (JSON text, may be ""); answers
 * raw.  Returns 0 and the answer, or -1 with the error. */
static int run(const double h[3], const double J[2], const char *extra, cJSON *arrays, struct sapi_answer *ans)
{
    double *lin = malloc(sizeof(double) * (size_t)sp->nq), *quad = calloc((size_t)sp->nc, sizeof(double));
    int q3[3] = {qa, qb, qc};
    for (int i = 0; i < sp->nq; i++) {
        lin[i] = NAN;
        for (int j = 0; j < 3; j++)
            if (sp->qubits[i] == q3[j]) lin[i] = h[j];
    }
    quad[coupler(qa, qb)] = J[0];
    quad[coupler(qb, qc)] = J[1];
    char text[512];
    snprintf(text, sizeof text, "{\"num_reads\": %d, \"answer_mode\": \"raw\"%s%s%s}", READS,
             strstr(extra, "anneal_schedule") ? "" : ", \"annealing_time\": 20", *extra ? ", " : "", extra);
    cJSON *params = cJSON_Parse(text);
    assert_non_null(params);
    for (cJSON *it = arrays ? arrays->child : NULL; it; it = it->next)
        cJSON_AddItemToObject(params, it->string, cJSON_Duplicate(it, 1));
    struct sapi_job job = {.sp = sp, .lin = lin, .quad = quad, .params = params};
    int rc = sapi_sample(cli, &job, 1, ans);
    cJSON_Delete(params);
    free(lin);
    free(quad);
    return rc;
}

/* Mean of qubit q over the reads, and the fraction of reads with (a, b, c) = (+1, +1, +1). */
static double mean_of(const struct sapi_answer *a, int q, double *ground)
{
    int k = -1, ka = -1, kb = -1;
    for (int i = 0; i < a->nact; i++) {
        if (a->active[i] == q) k = i;
        if (a->active[i] == qa) ka = i;
        if (a->active[i] == qb) kb = i;
    }
    assert_true(k >= 0 && ka >= 0 && kb >= 0);
    double m = 0, g = 0;
    for (long r = 0; r < a->nsol; r++) {
        const int8_t *s = a->sol + r * a->nact;
        m += s[k];
        g += s[ka] > 0 && s[kb] > 0 && s[k] > 0;
    }
    if (ground) *ground = g / (double)a->nsol;
    return m / (double)a->nsol;
}

/* {"key": [num_qubits values], …}: value v on qubit q, 0 elsewhere. */
static cJSON *per_qubit(const char *key, int q, double v, int len)
{
    cJSON *o = cJSON_CreateObject(), *l = cJSON_AddArrayToObject(o, key);
    for (int i = 0; i < len; i++) cJSON_AddItemToArray(l, cJSON_CreateNumber(i == q ? v : 0));
    return o;
}

static void test_offsets_and_gain(void **st)
{
    const double h[3] = {0, 0.9, -1}, J[2] = {-1, -1};
    struct sapi_answer a0, a1;
    assert_int_equal(run(h, J, "\"auto_scale\": false", NULL, &a0), 0);
    cJSON *off = per_qubit("anneal_offsets", qc, 0.2, sp->num_qubits);
    if (run(h, J, "\"auto_scale\": false", off, &a1)) fail_msg("%s", qv_errmsg());
    cJSON_Delete(off);
    double g0, g1, m0 = mean_of(&a0, qc, &g0), m1 = mean_of(&a1, qc, &g1);
    print_message("path %d—%d—%d: P(c = +1) %.3f → %.3f with offset +0.2; ground %.3f → %.3f\n", qa, qb, qc,
                  (1 + m0) / 2, (1 + m1) / 2, g0, g1);
    assert_true((1 + m1) / 2 > (1 + m0) / 2 + 0.15);
    assert_true(g1 > g0 + 0.15);
    sapi_answer_free(&a0);
    sapi_answer_free(&a1);
    /* h-gain 0: qubit c (h = −1, uncoupled) is unbiased; gain 1: polarised */
    const double hc[3] = {0, 0, -1}, J0[2] = {0.0001, 0.0001};
    assert_int_equal(run(hc, J0, "\"auto_scale\": false, \"h_gain_schedule\": [[0, 0], [20, 0]]", NULL, &a0), 0);
    assert_int_equal(run(hc, J0, "\"auto_scale\": false, \"h_gain_schedule\": [[0, 1], [20, 1]]", NULL, &a1), 0);
    m0 = mean_of(&a0, qc, NULL);
    m1 = mean_of(&a1, qc, NULL);
    print_message("h = −1: ⟨σ⟩ %.3f with h-gain 0, %.3f with h-gain 1\n", m0, m1);
    assert_true(fabs(m0) < 5 / sqrt((double)READS));
    assert_true(m1 > 0.9);
    sapi_answer_free(&a0);
    sapi_answer_free(&a1);
    /* a flux bias of 1e-4 Φ0 on an h = 0 qubit favours +1 */
    const double hz[3] = {0, 0, 0};
    cJSON *fb = per_qubit("flux_biases", qc, 1e-4, sp->num_qubits);
    assert_int_equal(run(hz, J0, "\"auto_scale\": false", fb, &a0), 0);
    cJSON_Delete(fb);
    m0 = mean_of(&a0, qc, NULL);
    print_message("flux bias 1e-4 Φ0: ⟨σ⟩ %.3f\n", m0);
    assert_true(m0 > 0.5);
    sapi_answer_free(&a0);
}

static void expect_400(const double h[3], const double J[2], const char *extra, cJSON *arrays, const char *what)
{
    struct sapi_answer a;
    assert_int_equal(run(h, J, extra, arrays, &a), -1);
    if (!strstr(qv_errmsg(), what)) fail_msg("expected '%s' in: %s", what, qv_errmsg());
    cJSON_Delete(arrays);
}

static void test_refusals(void **st)
{
    const double h[3] = {0, 0.5, -0.5}, J[2] = {-1, -1}, h0[3] = {0, 0, 0};
    expect_400(h, J, "", per_qubit("flux_biases", qc, 1e-5, sp->num_qubits), "flux_biases cannot be used with auto_scale");
    expect_400(h, J, "", per_qubit("anneal_offsets", qc, 0.1, 7), "must list");
    expect_400(h, J, "", per_qubit("anneal_offsets", qc, 5, sp->num_qubits), "outside its range");
    expect_400(h, J, "\"h_gain_schedule\": [[0, 1], [30, 1]]", NULL, "must end at the anneal schedule's last time 20");
    expect_400(h0, J, "\"fast_anneal\": true, \"anneal_schedule\": [[0,0],[0.02,0.5],[0.05,1]]",
               NULL, "exactly 2 points");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_offsets_and_gain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
