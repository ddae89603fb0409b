/* bench_sqa.c — speed of the `sqa` annealer emulator: spin-slice updates per nanosecond on a
 * full Chimera C16 (2048 qubits, 6016 couplers, random ±J and small h) with P = 32 Trotter
 * slices, a standard 20 µs forward anneal, one and two threads.  One spin-slice update = one
 * slice of one spin visited by a sweep (local heat-bath + its share of the imaginary-time
 * cluster move).  For scale, the classical `sa` sampler's single-spin updates per ns on the
 * same problem and threads (one SA spin update ≈ one SQA spin-slice update in cost class).
 * Usage: bench_sqa [reads] */
#include "sampler.h"
#include "schedule.h"
#include "rng.h"
#include "qv.h"
#include "bench_env.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds of the whole process (all threads): on a shared machine wall time alone mixes in
 * other people's load. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double run(struct bm *bm, int threads, long reads, const struct sched *sc, long *sweeps, double *cpu)
{
    struct sampler *s = sampler_new("sqa", 42);
    if (!s) { fprintf(stderr, "bench_sqa: %s\n", qv_errmsg()); exit(1); }
    sampler_set(s, "trotter", "32");
    sampler_set(s, "noise", "0.02");
    sampler_set(s, "beta_eff", "5.4");   /* fixed: time the annealing, not the MPL re-estimate */
    struct sample_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.threads = threads;
    ctx.schedule = sc;
    struct samples out;
    samples_init(&out);
    double t0 = qv_now(), c0 = cpu_now();
    if (sampler_sample(s, bm, 1.0, reads, &ctx, &out)) { fprintf(stderr, "bench_sqa: %s\n", qv_errmsg()); exit(1); }
    double dt = qv_now() - t0;
    *cpu = cpu_now() - c0;
    const char *p = strstr(out.info, "P=32, ");
    *sweeps = p ? atol(p + 6) : 0;
    samples_free(&out);
    sampler_free(s);
    return dt;
}

int main(int argc, char **argv)
{
    long reads = argc > 1 ? atol(argv[1]) : 8;
    if (reads < 2) reads = 2;
    struct graph *g = graph_chimera(16, 16, 4);
    if (!g) { fprintf(stderr, "bench_sqa: %s\n", qv_errmsg()); return 1; }
    struct bm *bm = bm_new(g);
    struct rng r;
    rng_init(&r, 1, 0);
    /* Ising J = ±1, h ~ U(−0.1, 0.1) → binary parameters (bm.h convention). */
    double *h = malloc(sizeof(double) * bm->n), *J = malloc(sizeof(double) * bm->ne);
    for (int i = 0; i < bm->n; i++) h[i] = 0.2 * (rng_uniform(&r) - 0.5);
    for (long e = 0; e < bm->ne; e++) J[e] = rng_u64(&r) >> 63 ? 1.0 : -1.0;
    bm_from_ising(bm, h, J);
    free(h);
    free(J);
    struct sched sc;
    sched_init(&sc);
    sched_forward(&sc, 20);
    bench_print_env();
    printf("sqa on Chimera C16 (%d qubits, %ld couplers), P = 32, 20 µs forward anneal, %ld reads; "
           "ns per spin-slice update per thread (process CPU time; median of 3 calls), every SIMD "
           "path side by side\n", bm->n, bm->ne, reads);
    double sqa_rate[3] = {0};
    const struct simd_kernels *dflt = simd_kernels();
    for (int isa = SIMD_NISA - 1; isa >= 0; isa--) {
        if (simd_select((enum simd_isa)isa)) continue;
        double wall1 = NAN;
        for (int t = 1; t <= 2; t++) {
            long sweeps = 0;
            double wall[3], cpu[3];
            for (int rep = 0; rep < 3; rep++) wall[rep] = run(bm, t, reads, &sc, &sweeps, &cpu[rep]);
            double w = bench_median(wall, 3), c = bench_median(cpu, 3);
            double upd = (double)reads * (double)sweeps * bm->n * 32.0;
            char speed[64] = "";
            if (t == 1) wall1 = w;
            else snprintf(speed, sizeof speed, "  2 threads = %.2fx one (wall; machine %.2fx)",
                          wall1 / w, bench_ideal_scaling());
            if (dflt && isa == (int)dflt->isa) sqa_rate[t] = upd / (w * 1e9);
            printf("  %-6s %d thr: %ld sweeps/read, %6.3f ns/spin-slice update (cpu), wall %6.3f%s  %s\n",
                   simd_isa_name((enum simd_isa)isa), t, sweeps, c * 1e9 / upd, w * 1e9 / upd, speed,
                   bench_tag(t));
        }
    }
    if (dflt) simd_select(dflt->isa);
    /* reference: simulated annealing (Metropolis) on the same problem, 1000 sweeps per read */
    for (int t = 1; t <= 2; t++) {
        struct sampler *sa = sampler_new("sa", 7);
        sampler_set(sa, "sweeps", "1000");
        struct sample_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.threads = t;
        struct samples out;
        samples_init(&out);
        long rd = 16 * t;
        double t0 = qv_now();
        if (sampler_sample(sa, bm, 1.0, rd, &ctx, &out)) { fprintf(stderr, "bench_sqa: %s\n", qv_errmsg()); return 1; }
        double dt = qv_now() - t0;
        double rate = (double)rd * 1000.0 * bm->n / (dt * 1e9);
        printf("  reference sa (1000 Metropolis sweeps), threads %d: %.3f spin updates/ns; sqa/sa = %.2f  %s\n", t,
               rate, sqa_rate[t] / rate, bench_tag(t));
        samples_free(&out);
        sampler_free(sa);
    }
    bm_free(bm);
    return 0;
}
