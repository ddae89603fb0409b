/* bench_layers.c — forward + backward time per image of the network stacks issue 20 compares, at
 * batch 100 on one thread (OpenBLAS limited to 1):
 *   mlp      encoder 784-512-256-288 (tanh, tanh, linear) and decoder 288-256-512-784
 *   conv     encoder 1×28×28 →(4×4, s2, p1) 32×14×14 →(4×4, s2, p1) 64×7×7 → dense 288 (linear);
 *            decoder dense 288 → 64×7×7 (tanh) →(convT) 32×14×14 →(convT) 1×28×28 (linear)
 *   conv+bn  the same with batch norm (training mode) before every hidden tanh
 * The gradient with respect to the image is not computed (as in training); everything else is.  Then the
 * four conv layers alone at B = 100 in one call (chunks of several images per sgemm, nn_conv.h)
 * against 100 calls with B = 1 (one small sgemm per image), and the same stacks in PyTorch
 * (bench/peer_layers_torch.py, Debian's python3-torch) on 1 thread, with the ratios.
 * Times: process CPU time per image (one thread, so a loaded machine cannot inflate it) and wall
 * clock, best of 3 runs of STEPS steps.
 * Usage: bench_layers [STEPS=30] */
#include "nn.h"
#include "nn_bn.h"
#include "nn_conv.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 100
#define MAXL 12

enum kind { K_DENSE, K_CONV, K_BN };

struct layer {
    enum kind kind;
    struct nn_dense d;
    struct nn_conv c;
    struct nn_bn b;
    float *stats;        /* batch norm: this block's batch statistics */
    int out;             /* floats per row of the output */
};

struct net {
    int n;
    struct layer L[MAXL];
    float *params, *grads, *run, *work;
    float *a[MAXL + 1], *d[MAXL + 1];   /* activations and their gradients [BATCH × width] */
    int in;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Layer descriptions: dense "D out act", conv "C cout k s p act" / "T ..." (transposed), batch
 * norm "N act" (over the previous layer's channels). */
struct desc { char kind; int out, k, s, p; enum nn_act act; };

static void net_build(struct net *N, int in_c, int in_h, const struct desc *ds, int nd, int B)
{
    memset(N, 0, sizeof *N);
    N->n = nd;
    N->in = in_c * in_h * in_h;
    size_t np = 0, nrun = 0, nwork = 0;
    /* two passes: sizes with NULL buffers, then binding into the allocations */
    for (int pass = 0; pass < 2; pass++) {
        size_t off = 0, roff = 0;
        int c = in_c, h = in_h, width = N->in;
        for (int i = 0; i < nd; i++) {
            struct layer *L = &N->L[i];
            const struct desc *q = &ds[i];
            float *p = pass ? N->params + off : NULL, *g = pass ? N->grads + off : NULL;
            L->kind = q->kind == 'D' ? K_DENSE : q->kind == 'N' ? K_BN : K_CONV;
            if (L->kind == K_DENSE) {
                nn_dense_bind(&L->d, width, q->out, q->act, p, g);
                off += nn_dense_size(width, q->out);
                width = L->out = q->out;
                c = q->out, h = 1;
                if (q->k) c = q->k, h = q->s;   /* the next layers see it as k channels of s × s */
            } else if (L->kind == K_BN) {
                nn_bn_bind(&L->b, c, h * h, q->act, p, g, pass ? N->run + roff : NULL);
                off += nn_bn_size(c);
                roff += nn_bn_stats_floats(c);
                L->out = width;
                if (pass) L->stats = calloc(nn_bn_stats_floats(c), sizeof(float));
            } else {
                struct nn_conv_spec s = {c, h, h, q->out, q->k, q->s, q->p, q->kind == 'T'};
                if (nn_conv_bind(&L->c, &s, q->act, p, g)) { fprintf(stderr, "error: %s\n", qv_errmsg()); exit(1); }
                off += nn_conv_size(&s);
                c = q->out, h = L->c.hout;
                width = L->out = L->c.out;
                size_t w = nn_conv_work_floats(&L->c, B);
                nwork = w > nwork ? w : nwork;
            }
        }
        np = off, nrun = roff;
        if (!pass) {
            N->params = qv_alloc_aligned(np * sizeof(float) + 64);
            N->grads = qv_alloc_aligned(np * sizeof(float) + 64);
            N->run = qv_alloc_aligned(nrun * sizeof(float) + 64);
            N->work = qv_alloc_aligned(nwork * sizeof(float) + 64);
        }
    }
    struct rng r;
    rng_init(&r, 1, 0);
    int width = N->in;
    for (int i = 0; i <= nd; i++) {
        N->a[i] = qv_alloc_aligned((size_t)B * width * sizeof(float) + 64);
        N->d[i] = qv_alloc_aligned((size_t)B * width * sizeof(float) + 64);
        if (i == nd) break;
        struct layer *L = &N->L[i];
        if (L->kind == K_DENSE) nn_dense_init(&L->d, &r);
        else if (L->kind == K_CONV) nn_conv_init(&L->c, &r);
        else nn_bn_init(&L->b);
        width = L->out;
    }
    for (int i = 0; i < B * N->in; i++) N->a[0][i] = rng_uniform(&r) < 0.15 ? 1.0f : 0.0f;
}

static void net_free(struct net *N)
{
    for (int i = 0; i <= N->n; i++) { qv_free_aligned(N->a[i]); qv_free_aligned(N->d[i]); }
    for (int i = 0; i < N->n; i++) free(N->L[i].stats);
    qv_free_aligned(N->params); qv_free_aligned(N->grads); qv_free_aligned(N->run); qv_free_aligned(N->work);
}

/* One forward + backward of layers [lo, hi) on rows [r0, r0 + B) (the input gradient of layer 0,
 * the image, is skipped), with dLoss/d(output) = 1/width (any fixed values cost the same). */
static void net_step(struct net *N, int lo, int hi, int r0, int B)
{
    for (int i = lo; i < hi; i++) {
        struct layer *L = &N->L[i];
        int win = i ? N->L[i - 1].out : N->in;
        const float *x = N->a[i] + (size_t)r0 * win;
        float *y = N->a[i + 1] + (size_t)r0 * L->out;
        if (L->kind == K_DENSE) nn_dense_forward(&L->d, B, x, y);
        else if (L->kind == K_CONV) nn_conv_forward(&L->c, B, x, y, N->work);
        else nn_bn_forward(&L->b, NN_BN_TRAIN, B, x, y, L->stats);
    }
    int wtop = N->L[hi - 1].out;
    float *dtop = N->d[hi] + (size_t)r0 * wtop;
    for (size_t j = 0; j < (size_t)B * wtop; j++) dtop[j] = 1.0f / (float)wtop;
    for (int i = hi - 1; i >= lo; i--) {
        struct layer *L = &N->L[i];
        int win = i ? N->L[i - 1].out : N->in;
        const float *x = N->a[i] + (size_t)r0 * win, *y = N->a[i + 1] + (size_t)r0 * L->out;
        float *dy = N->d[i + 1] + (size_t)r0 * L->out, *dx = i > 0 ? N->d[i] + (size_t)r0 * win : NULL;
        if (L->kind == K_DENSE) nn_dense_backward(&L->d, B, x, y, dy, dx);
        else if (L->kind == K_CONV) nn_conv_backward(&L->c, B, x, y, dy, dx, N->work);
        else nn_bn_backward(&L->b, NN_BN_TRAIN, B, x, y, dy, dx, L->stats);
    }
}

/* Best of 3 runs of `steps` steps: µs per image by CPU time and by wall clock.  per_image: the
 * step is 100 calls with B = 1 instead of one with B = 100. */
static void timeit(struct net *N, int lo, int hi, bool per_image, int steps, double *cpu_us, double *wall_us)
{
    *cpu_us = *wall_us = INFINITY;
    net_step(N, lo, hi, 0, BATCH);   /* warm-up */
    for (int rep = 0; rep < 3; rep++) {
        double c0 = cpu_now(), w0 = qv_now();
        for (int s = 0; s < steps; s++) {
            if (per_image)
                for (int r = 0; r < BATCH; r++) net_step(N, lo, hi, r, 1);
            else
                net_step(N, lo, hi, 0, BATCH);
        }
        double dc = (cpu_now() - c0) / steps / BATCH * 1e6, dw = (qv_now() - w0) / steps / BATCH * 1e6;
        *cpu_us = fmin(*cpu_us, dc);
        *wall_us = fmin(*wall_us, dw);
    }
}

static int run_torch(const char *net, int steps, double *cpu_us, double *wall_us)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 %s/bench/peer_layers_torch.py %s %d 2>/dev/null",
             qv_home(), net, steps);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int ok = fscanf(p, "cpu_us_per_image %lf wall_us_per_image %lf", cpu_us, wall_us) == 2;
    return pclose(p) == 0 && ok ? 0 : -1;
}

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) snprintf(buf, n, "%s", c + 2);
            buf[strcspn(buf, "\n")] = 0;
            break;
        }
    fclose(f);
}

int main(int argc, char **argv)
{
    nn_blas_pick_core(argv);   /* as qvae does; the PyTorch peer inherits OPENBLAS_CORETYPE */
    nn_fp_flush_denormals();
    openblas_set_num_threads(1);
    int steps = argc > 1 ? atoi(argv[1]) : 30;
    if (steps < 1) steps = 1;
    char cpu[256], blas[256];
    cpu_model(cpu, sizeof cpu);
    nn_blas_describe(blas, sizeof blas);
    printf("layers: forward+backward per image, batch %d, 1 thread, best of 3 × %d steps\n%s\n%s\n", BATCH,
           steps, cpu, blas);
    /* dense "D out (reshape c, h) act"; conv "C/T cout k s p act"; batch norm "N act" */
    const struct desc mlp[] = {
        {'D', 512, 0, 0, 0, NN_ACT_TANH}, {'D', 256, 0, 0, 0, NN_ACT_TANH}, {'D', 288, 0, 0, 0, NN_ACT_LINEAR},
        {'D', 256, 0, 0, 0, NN_ACT_TANH}, {'D', 512, 0, 0, 0, NN_ACT_TANH}, {'D', 784, 0, 0, 0, NN_ACT_LINEAR},
    };
    const struct desc conv[] = {
        {'C', 32, 4, 2, 1, NN_ACT_TANH},  {'C', 64, 4, 2, 1, NN_ACT_TANH}, {'D', 288, 0, 0, 0, NN_ACT_LINEAR},
        {'D', 3136, 64, 7, 0, NN_ACT_TANH}, {'T', 32, 4, 2, 1, NN_ACT_TANH}, {'T', 1, 4, 2, 1, NN_ACT_LINEAR},
    };
    const struct desc convbn[] = {
        {'C', 32, 4, 2, 1, NN_ACT_LINEAR},   {'N', 0, 0, 0, 0, NN_ACT_TANH},
        {'C', 64, 4, 2, 1, NN_ACT_LINEAR},   {'N', 0, 0, 0, 0, NN_ACT_TANH},
        {'D', 288, 0, 0, 0, NN_ACT_LINEAR},  {'D', 3136, 64, 7, 0, NN_ACT_LINEAR},
        {'N', 0, 0, 0, 0, NN_ACT_TANH},      {'T', 32, 4, 2, 1, NN_ACT_LINEAR},
        {'N', 0, 0, 0, 0, NN_ACT_TANH},      {'T', 1, 4, 2, 1, NN_ACT_LINEAR},
    };
    struct { const char *name; const struct desc *d; int n; } nets[] = {
        {"mlp", mlp, 6}, {"conv", conv, 6}, {"conv+bn", convbn, 10},
    };
    double qc[3], qw[3], tc[3] = {NAN, NAN, NAN}, tw[3];
    printf("%-28s %12s %12s %12s %12s %10s\n", "network (enc+dec)", "qvae µs/img", "(wall)", "torch µs/img",
           "(wall)", "qvae/torch");
    for (int i = 0; i < 3; i++) {
        struct net N;
        net_build(&N, 1, 28, nets[i].d, nets[i].n, BATCH);
        timeit(&N, 0, N.n, false, steps, &qc[i], &qw[i]);
        net_free(&N);
        bool t = run_torch(nets[i].name, steps, &tc[i], &tw[i]) == 0;
        if (t)
            printf("%-28s %12.1f %12.1f %12.1f %12.1f %10.2f\n", nets[i].name, qc[i], qw[i], tc[i], tw[i], qc[i] / tc[i]);
        else
            printf("%-28s %12.1f %12.1f %12s %12s %10s\n", nets[i].name, qc[i], qw[i], "n/a", "", "");
    }
    printf("conv / mlp time: qvae %.2f", qc[1] / qc[0]);
    if (isfinite(tc[0]) && tc[0] > 0 && isfinite(tc[1])) printf(", torch %.2f", tc[1] / tc[0]);
    printf("; conv+bn / conv: qvae %.2f\n", qc[2] / qc[1]);

    /* the conv layers alone (encoder layers 0-1, decoder layers 4-5): one batched call against
     * one call per image */
    struct net N;
    net_build(&N, 1, 28, conv, 6, BATCH);
    double bc[2], bw[2], pc[2], pw[2];
    timeit(&N, 0, 2, false, steps, &bc[0], &bw[0]);
    timeit(&N, 0, 2, true, steps, &pc[0], &pw[0]);
    timeit(&N, 4, 6, false, steps, &bc[1], &bw[1]);
    timeit(&N, 4, 6, true, steps, &pc[1], &pw[1]);
    net_free(&N);
    printf("%-28s %12s %12s %10s\n", "conv layers only", "B=100 µs/img", "B=1 µs/img", "per-image/batched");
    printf("%-28s %12.1f %12.1f %10.2f\n", "encoder conv 1→32→64", bc[0], pc[0], pc[0] / bc[0]);
    printf("%-28s %12.1f %12.1f %10.2f\n", "decoder convT 64→32→1", bc[1], pc[1], pc[1] / bc[1]);
    return 0;
}
