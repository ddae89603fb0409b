/* test_sapi_emu_batch.c — the emulator as a drop-in SAPI, seen through qvae's own client: a batch
 * whose middle problem is invalid fails naming that problem (the reply is aligned with the jobs)
 * while an all-valid batch completes; an empty problem is refused with a clear message; two
 * emulators started with the same seed hand out different UUID4 problem ids; the graph id is the
 * same for the same working graph and changes when one coupler is removed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu.h"
#include "sapi.h"
#include "solver.h"

#define TOKEN "TEST-batch-0123456789"

static char spec[1024];   /* DW_2000Q_5, shipped or from the shared data */

static struct emu_server *start(const char *solver, uint64_t seed)
{
    const char *names[1] = {solver};
    struct emu_opts o = {.port = 0, .token = TOKEN, .solvers = names, .nsolvers = 1, .seed = seed, .sampler = "sa"};
    struct emu_server *e = emu_start(&o);
    if (!e) fail_msg("emu_start: %s", qv_errmsg());
    return e;
}

static struct sapi_client *client(const struct emu_server *e)
{
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(e));
    snprintf(cfg.token, sizeof cfg.token, "%s", TOKEN);
    cfg.backoff_base = 0.01;
    cfg.backoff_max = 0.2;
    cfg.poll_wait = 2;
    cfg.job_timeout = 60;
    struct sapi_client *c = sapi_client_new(&cfg);
    assert_non_null(c);
    return c;
}

/* h on the working qubits of the first Chimera cell (labels < 8), J on its couplers. */
static void cell_problem(const struct solver_props *sp, double *lin, double *quad)
{
    for (int i = 0; i < sp->nq; i++) lin[i] = sp->qubits[i] < 8 ? 0.25 * (i % 3) - 0.25 : NAN;
    for (long k = 0; k < sp->nc; k++) quad[k] = sp->couplers[k][1] < 8 ? (k % 2 ? 0.5 : -1.0) : 0.0;
}

static bool is_uuid4(const char *s)
{
    if (strlen(s) != 36 || s[14] != '4' || !strchr("89ab", s[19])) return false;
    for (int i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !strchr("0123456789abcdef", s[i])) return false;
    return true;
}

static void test_batch(void **st)
{
    (void)st;
    struct emu_server *e = start(spec, 7);
    struct sapi_client *c = client(e);
    const struct solver_props *sp = sapi_current_solver(c);
    assert_non_null(sp);
    double *lin = malloc(sizeof(double) * (size_t)sp->nq), *quad = malloc(sizeof(double) * (size_t)sp->nc);
    cell_problem(sp, lin, quad);
    cJSON *ok = cJSON_Parse("{\"num_reads\": 20}"), *bad = cJSON_Parse("{\"num_reads\": 0}");
    struct sapi_job jobs[3] = {{.sp = sp, .lin = lin, .quad = quad, .params = ok},
                               {.sp = sp, .lin = lin, .quad = quad, .params = bad},
                               {.sp = sp, .lin = lin, .quad = quad, .params = ok, .qubo = true}};
    char ids[3][64];
    assert_int_equal(sapi_submit(c, jobs, 3, ids), -1);
    if (!strstr(qv_errmsg(), "problem 2 of 3: HTTP 400: Parameter num_reads"))
        fail_msg("batch error: %s", qv_errmsg());
    /* the same batch without the bad job: every problem answered */
    jobs[1] = jobs[2];
    struct sapi_answer a[2];
    assert_int_equal(sapi_sample(c, jobs, 2, a), 0);
    for (int k = 0; k < 2; k++) {
        long sum = 0;
        for (long r = 0; r < a[k].nsol; r++) sum += a[k].occ[r];
        assert_int_equal(sum, 20);
        sapi_answer_free(&a[k]);
    }
    /* an empty problem (no active qubit): refused, saying so */
    for (int i = 0; i < sp->nq; i++) lin[i] = NAN;
    for (long k = 0; k < sp->nc; k++) quad[k] = 0;
    assert_int_equal(sapi_submit(c, jobs, 1, ids), -1);
    if (!strstr(qv_errmsg(), "HTTP 400: Problem is empty: no active qubits")) fail_msg("empty: %s", qv_errmsg());
    cJSON_Delete(ok); cJSON_Delete(bad);
    free(lin); free(quad);
    sapi_client_free(c);
    emu_stop(e);
}

/* Ids of two emulators started identically (same seed): all UUID4, none shared. */
static void test_ids_unique(void **st)
{
    (void)st;
    enum { N = 8 };
    char ids[2][N][64];
    for (int s = 0; s < 2; s++) {
        struct emu_server *e = start(spec, 7);
        struct sapi_client *c = client(e);
        const struct solver_props *sp = sapi_current_solver(c);
        double *lin = malloc(sizeof(double) * (size_t)sp->nq), *quad = malloc(sizeof(double) * (size_t)sp->nc);
        cell_problem(sp, lin, quad);
        cJSON *p = cJSON_Parse("{\"num_reads\": 1}");
        struct sapi_job jobs[N];
        for (int k = 0; k < N; k++) jobs[k] = (struct sapi_job){.sp = sp, .lin = lin, .quad = quad, .params = p};
        assert_int_equal(sapi_submit(c, jobs, N, ids[s]), 0);
        cJSON_Delete(p);
        free(lin); free(quad);
        sapi_client_free(c);
        emu_stop(e);
    }
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < N; k++) {
            if (!is_uuid4(ids[s][k])) fail_msg("not a UUID4: %s", ids[s][k]);
            for (int t = 0; t < 2; t++)
                for (int m = 0; m < N; m++)
                    if ((t != s || m != k) && !strcmp(ids[s][k], ids[t][m])) fail_msg("id %s repeats", ids[s][k]);
        }
}

/* The graph id a client sees for the solver served from `solver`. */
static void graph_id_of(const char *solver, char out[32])
{
    struct emu_server *e = start(solver, 1);
    struct sapi_client *c = client(e);
    const struct solver_props *sp = sapi_current_solver(c);
    assert_non_null(sp);
    snprintf(out, 32, "%s", sp->graph_id);
    sapi_client_free(c);
    emu_stop(e);
}

static void test_graph_id(void **st)
{
    (void)st;
    char g1[32], g2[32], g3[32];
    graph_id_of(spec, g1);
    graph_id_of(spec, g2);
    assert_string_equal(g1, g2);                    /* stable for one graph */
    assert_int_equal(strlen(g1), 10);
    assert_int_equal(strspn(g1, "0123456789abcdef"), 10);
    /* the same solver with its last coupler removed */
    struct solver_props *sp = solver_load(spec);
    assert_non_null(sp);
    cJSON *j = cJSON_Duplicate(sp->json, 1);
    solver_free(sp);
    cJSON *cp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "properties"), "couplers");
    assert_true(cJSON_GetArraySize(cp) > 1);
    cJSON_DeleteItemFromArray(cp, cJSON_GetArraySize(cp) - 1);
    char path[] = "/tmp/qvae_gid_XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    char *text = cJSON_PrintUnformatted(j);
    assert_non_null(text);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(text);
    cJSON_Delete(j);
    graph_id_of(path, g3);
    unlink(path);
    if (!strcmp(g1, g3)) fail_msg("graph id %s unchanged after removing a coupler", g1);
}

int main(void)
{
    struct solver_props *sp = solver_load("DW_2000Q_5");
    if (sp) snprintf(spec, sizeof spec, "DW_2000Q_5");
    else {
        const char *sh = getenv("QVAE_SHARED");
        snprintf(spec, sizeof spec, "%s/data/sapi/dw2000q5_solver.json", sh ? sh : "../shared");
        sp = solver_load(spec);
    }
    if (!sp) {
        printf("skip: no DW_2000Q_5 solver properties (assets/solvers/ or QVAE_SHARED)\n");
        return 77;
    }
    solver_free(sp);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_ids_unique),
        cmocka_unit_test(test_graph_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
