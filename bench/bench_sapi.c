/* bench_sapi.c — SAPI client/emulator speed: round-trip overhead of a 100-read job against the
 * local emulator (wall time minus the emulator's annealing compute time, i.e. HTTP, JSON,
 * base64, zlib, polling and decoding), and answer decoding speed (reads decoded per second for
 * a 100-read raw answer on the full DW_2000Q_5 / Advantage graphs). */
#include "emu.h"
#include "sapi.h"
#include "sapi_codec.h"
#include "solver.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void round_trip(const char *solver, const char *sampler, int nact_target, int reps)
{
    const char *names[1] = {solver};
    struct emu_opts o = {.token = "BENCH", .solvers = names, .nsolvers = 1, .seed = 1, .sampler = sampler};
    struct emu_server *e = emu_start(&o);
    if (!e) { printf("  emulator: %s\n", qv_errmsg()); return; }
    struct sapi_config cfg;
    sapi_config_init(&cfg);
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "%s", emu_endpoint(e));
    snprintf(cfg.token, sizeof cfg.token, "BENCH");
    struct sapi_client *c = sapi_client_new(&cfg);
    const struct solver_props *sp = sapi_current_solver(c);
    if (!sp) { printf("  %s\n", qv_errmsg()); sapi_client_free(c); emu_stop(e); return; }
    double *lin = malloc(sizeof(double) * (size_t)sp->nq), *quad = calloc((size_t)sp->nc, sizeof(double));
    int nact = 0;
    for (int i = 0; i < sp->nq; i++) {
        lin[i] = nact < nact_target ? 0.1 * ((i % 7) - 3) : NAN;
        if (!isnan(lin[i])) nact++;
    }
    int *pos = sapi_qubit_pos(sp);
    for (long k = 0; k < sp->nc; k++) {
        int a = pos[sp->couplers[k][0]], b = pos[sp->couplers[k][1]];
        if (!isnan(lin[a]) && !isnan(lin[b])) quad[k] = (k % 2) ? 0.5 : -0.5;
    }
    free(pos);
    cJSON *params = cJSON_Parse("{\"num_reads\": 100, \"answer_mode\": \"raw\"}");
    struct sapi_job job = {.sp = sp, .lin = lin, .quad = quad, .params = params};
    double *over = malloc(sizeof(double) * (size_t)reps), *wall = malloc(sizeof(double) * (size_t)reps);
    for (int r = -2; r < reps; r++) {   /* two warm-up jobs */
        struct emu_stats s0, s1;
        emu_get_stats(e, &s0);
        double t0 = qv_now();
        struct sapi_answer a;
        if (sapi_sample(c, &job, 1, &a)) { printf("  %s\n", qv_errmsg()); break; }
        double dt = qv_now() - t0;
        emu_get_stats(e, &s1);
        sapi_answer_free(&a);
        if (r >= 0) { wall[r] = dt; over[r] = dt - (s1.anneal_seconds - s0.anneal_seconds); }
    }
    qsort(over, (size_t)reps, sizeof *over, cmp_d);
    qsort(wall, (size_t)reps, sizeof *wall, cmp_d);
    printf("  %-22s %4d active qubits, 100 reads (%s): round trip median %.2f ms, overhead median %.2f ms "
           "(p90 %.2f ms), %d jobs\n", sp->name, nact, sampler, wall[reps / 2] * 1e3, over[reps / 2] * 1e3,
           over[reps * 9 / 10] * 1e3, reps);
    free(over); free(wall); free(lin); free(quad);
    cJSON_Delete(params);
    sapi_client_free(c);
    emu_stop(e);
}

static void decode_speed(const char *solver)
{
    struct solver_props *sp = solver_load(solver);
    if (!sp) { printf("  %s\n", qv_errmsg()); return; }
    int nact = sp->nq;
    long R = 100;
    int *act = malloc(sizeof(int) * (size_t)nact);
    uint8_t *bits = malloc((size_t)nact * (size_t)R);
    double *en = malloc(sizeof(double) * (size_t)R);
    int *occ = malloc(sizeof(int) * (size_t)R);
    for (int k = 0; k < nact; k++) act[k] = sp->qubits[k];
    for (long i = 0; i < (long)nact * R; i++) bits[i] = (uint8_t)((i * 2654435761u >> 7) & 1);
    for (long r = 0; r < R; r++) { en[r] = -r; occ[r] = 1; }
    cJSON *ans = cJSON_CreateObject();
    sapi_answer_encode(ans, sp->num_qubits, nact, act, R, bits, en, occ);
    char *text = cJSON_PrintUnformatted(ans);
    int iters = 0;
    double t0 = qv_now(), t;
    do {   /* parse the JSON text and decode, as the client does */
        cJSON *j = cJSON_Parse(text);
        struct sapi_answer a;
        sapi_answer_decode(j, false, true, &a);
        sapi_answer_free(&a);
        cJSON_Delete(j);
        iters++;
        t = qv_now() - t0;
    } while (t < 1.0);
    double per = t / iters;
    printf("  decode %-20s %d active x 100 reads (%zu bytes JSON): %.3f ms per answer, %.0f k reads/s, %.0f MB/s\n",
           sp->name, nact, strlen(text), per * 1e3, R / per / 1e3, strlen(text) / per / 1e6);
    /* peer: the numpy decoder D-Wave's Ocean client uses (json + base64 + frombuffer + unpackbits) */
    char tmpl[] = "/tmp/bench_sapi_XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "w");
        fputs(text, f);
        fclose(f);
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "%s" " -c 'import json,base64,time,numpy as np\n"
                 "t=open(\"%s\").read()\n"
                 "def dec():\n"
                 " a=json.loads(t); act=np.frombuffer(base64.b64decode(a[\"active_variables\"]),\"<i4\")\n"
                 " en=np.frombuffer(base64.b64decode(a[\"energies\"]),\"<f8\"); oc=np.frombuffer(base64.b64decode(a[\"num_occurrences\"]),\"<i4\")\n"
                 " b=np.frombuffer(base64.b64decode(a[\"solutions\"]),np.uint8).reshape(len(en),-1)\n"
                 " s=np.unpackbits(b,axis=1)[:, :len(act)].astype(np.int8)*2-1\n"
                 " return s\n"
                 "n=0; t0=time.perf_counter()\n"
                 "while time.perf_counter()-t0<1.0: dec(); n+=1\n"
                 "print((time.perf_counter()-t0)/n)' 2>/dev/null",
                 access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3", tmpl);
        FILE *pp = popen(cmd, "r");
        double py = 0;
        if (pp && fscanf(pp, "%lf", &py) == 1 && py > 0)
            printf("    peer numpy (Ocean's decode_qp_numpy recipe): %.3f ms per answer; qvae is %.2fx %s\n",
                   py * 1e3, py > per ? py / per : per / py, py > per ? "faster" : "slower");
        else
            printf("    peer numpy: not available (python3-numpy)\n");
        if (pp) pclose(pp);
        remove(tmpl);
    }
    /* problem encoding: all qubits active */
    double *lin = malloc(sizeof(double) * (size_t)sp->nq), *quad = malloc(sizeof(double) * (size_t)sp->nc);
    for (int i = 0; i < sp->nq; i++) lin[i] = 0.25;
    for (long k = 0; k < sp->nc; k++) quad[k] = -0.5;
    int *pos = sapi_qubit_pos(sp);
    iters = 0; t0 = qv_now();
    do {
        char *lb, *qb;
        sapi_qp_encode(sp->nq, lin, sp->nc, (const int (*)[2])sp->couplers, pos, quad, &lb, &qb);
        size_t n = strlen(lb) + strlen(qb);
        unsigned char *z; size_t zn;
        char *both = malloc(n + 1);
        memcpy(both, lb, strlen(lb)); memcpy(both + strlen(lb), qb, strlen(qb) + 1);
        sapi_deflate(both, n, &z, &zn);
        free(z); free(both); free(lb); free(qb);
        iters++;
        t = qv_now() - t0;
    } while (t < 1.0);
    printf("  encode %-20s all %d qubits, %ld couplers (qp + base64 + deflate): %.3f ms per problem\n",
           sp->name, sp->nq, sp->nc, t / iters * 1e3);
    free(pos); free(lin); free(quad);
    free(text); cJSON_Delete(ans);
    free(act); free(bits); free(en); free(occ);
    solver_free(sp);
}

int main(void)
{
    printf("SAPI client <-> emulator on 127.0.0.1 (libcurl + libmicrohttpd, deflate bodies, long polling)\n");
    round_trip("DW_2000Q_5", "sa", 32, 50);
    round_trip("DW_2000Q_5", "sa", 512, 30);
    round_trip("Advantage_system4.1", "sa", 512, 30);
    round_trip("DW_2000Q_5", "sqa", 32, 10);
    printf("answer decoding (cJSON parse + base64 + bit unpacking), problem encoding\n");
    decode_speed("DW_2000Q_5");
    decode_speed("Advantage_system4.1");
    return 0;
}
