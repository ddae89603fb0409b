/* bench_relax.c — cost of the overlapping relaxations and the relaxed Boltzmann prior per latent
 * unit, at the sizes a DVAE step uses: 288 units (Chimera C(6,6,4), and a 288-unit cut of Pegasus
 * P6), 1000 rows (batch 100 × 10 importance samples).  Reports ns per unit (per row for the prior)
 * for the sampler with its implicit gradient, log q(ζ|l) with both derivatives, the shifted bias,
 * and the mean-field log Z(ζ) with gradients; best of 5 runs in thread CPU time, one thread. */
#include "bm_mf.h"
#include "nn.h"
#include "relax.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROWS = 1000, REPS = 5 };

/* Thread CPU time, not wall-clock: the machine is shared, and a step waiting for a core is not
 * this code's cost. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double best_of(void (*fn)(void *), void *ctx)
{
    double best = INFINITY;
    for (int r = 0; r < REPS; r++) {
        double t0 = cpu_now();
        fn(ctx);
        best = fmin(best, cpu_now() - t0);
    }
    return best;
}

struct ctx {
    const struct relax *rx;
    const struct bm *bm;
    int n, sweeps;
    float *l, *u, *rho, *z, *a, *b, *c;
    double *rows, *scr;
};

static void run_sample(void *p)
{
    struct ctx *C = p;
    relax_sample(C->rx, ROWS, C->n, C->l, C->u, C->rho, C->z, C->a);
}

static void run_logq(void *p)
{
    struct ctx *C = p;
    relax_logq(C->rx, ROWS, C->n, C->l, C->z, C->rows, C->a, C->b);
}

static void run_bias(void *p)
{
    struct ctx *C = p;
    relax_bias(C->rx, ROWS, C->n, C->z, C->rows, C->a, C->b, C->c);
}

static void run_mf(void *p)
{
    struct ctx *C = p;
    bm_mf_logp(C->bm, C->rx, C->sweeps, ROWS, C->z, C->rows, C->a, C->b, C->scr);
}

static struct bm *prior(int pegasus)
{
    struct graph *g = pegasus ? graph_pegasus(6, PEGASUS_FABRIC) : graph_chimera(6, 6, 4);
    if (pegasus) {
        struct graph *s = graph_random_connected_subgraph(g, 288, 1);
        graph_free(g);
        g = s;
    }
    struct bm *bm = bm_new(g);
    bm_random(bm, 0.5, 2);
    return bm;
}

int main(void)
{
    const int n = 288;
    size_t N = (size_t)ROWS * n;
    struct ctx C = {.n = n};
    C.l = malloc(N * sizeof(float)); C.u = malloc(N * sizeof(float)); C.rho = malloc(N * sizeof(float));
    C.z = malloc(N * sizeof(float)); C.a = malloc(N * sizeof(float)); C.b = malloc(N * sizeof(float));
    C.c = malloc(N * sizeof(float)); C.rows = malloc(ROWS * sizeof(double));
    struct rng r;
    rng_init(&r, 1, 0);
    for (size_t i = 0; i < N; i++) {
        C.l[i] = (float)(8 * rng_uniform(&r) - 4);
        C.u[i] = rng_uniformf(&r);
        C.rho[i] = rng_uniformf(&r);
    }
    printf("relaxations: %d rows × %d units, ns per unit, best of %d in thread CPU time, one thread\n"
           "(sample and log q of power/exp: float SIMD, %d lanes; everything else: double)\n", ROWS, n, REPS, NN_VL);
    printf("%-10s %5s %14s %14s %14s\n", "kind", "beta", "sample+dζ/dl", "log q+grads", "b(ζ)+grads");
    const enum relax_kind K[] = {RELAX_GUMBOLT, RELAX_POWER, RELAX_EXP, RELAX_SPIKE_EXP};
    for (int k = 0; k < 4; k++) {
        struct relax rx;
        relax_init(&rx, K[k], relax_default_beta(K[k]));
        C.rx = &rx;
        double ts = best_of(run_sample, &C);
        double tq = relax_is_mixture(K[k]) ? best_of(run_logq, &C) : NAN;
        double tb = K[k] == RELAX_POWER || K[k] == RELAX_EXP ? best_of(run_bias, &C) : NAN;
        char q[32] = "-", b[32] = "-";                    /* "-": the kind has no such term */
        if (tq == tq) snprintf(q, sizeof q, "%.1f", tq * 1e9 / N);
        if (tb == tb) snprintf(b, sizeof b, "%.1f", tb * 1e9 / N);
        printf("%-10s %5g %14.1f %14s %14s\n", relax_name(K[k]), rx.beta, ts * 1e9 / N, q, b);
    }
    printf("\nrelaxed prior log Z(ζ) by mean field (bm_mf_logp, with m and ∂/∂ζ): ns per row\n");
    printf("%-22s %6s %7s %12s %12s\n", "prior", "edges", "sweeps", "power β=30", "exp β=12");
    for (int peg = 0; peg < 2; peg++) {
        C.bm = prior(peg);
        C.scr = malloc(bm_mf_scratch_size(C.bm) * sizeof(double));
        for (int sw = 0; sw <= 5; sw += 5) {
            double t[2];
            for (int k = 0; k < 2; k++) {
                struct relax rx;
                relax_init(&rx, k ? RELAX_EXP : RELAX_POWER, k ? 12 : 30);
                C.rx = &rx;
                relax_sample(&rx, ROWS, n, C.l, C.u, C.rho, C.z, NULL);
                C.sweeps = sw;
                t[k] = best_of(run_mf, &C);
            }
            printf("%-22s %6ld %7d %12.0f %12.0f\n", peg ? "Pegasus P6 cut, 288" : "Chimera C(6,6,4)",
                   C.bm->ne, sw, t[0] * 1e9 / ROWS, t[1] * 1e9 / ROWS);
        }
        free(C.scr);
        bm_free((struct bm *)C.bm);
    }
    free(C.l); free(C.u); free(C.rho); free(C.z); free(C.a); free(C.b); free(C.c); free(C.rows);
    return 0;
}
