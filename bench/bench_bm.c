/* bench_bm.c — exact enumeration speed: log Z (independent set summed out, Gray code over the
 * rest; 1 and 2 threads) on cuts of Chimera, Pegasus and Zephyr up to 48 units, the raw
 * all-states Gray-code walk (bm_probs_exact), and a NumPy peer (vectorised brute force over all
 * 2^20 states of the same model, python3-numpy) with the ratio and a cross-check of log Z. */
#include "bm.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct bm *model(int n, uint64_t seed)
{
    struct graph *g = graph_chimera(4, 4, 4);
    struct graph *s = graph_random_connected_subgraph(g, n, seed);
    graph_free(g);
    struct bm *bm = bm_new(s);
    bm_random(bm, 1.0, seed);
    return bm;
}

static double time_logz(const struct bm *bm, int threads, double *lz, int reps)
{
    bm_set_exact_threads(threads);
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = qv_now();
        if (bm_logz_exact(bm, 1.0, lz)) { fprintf(stderr, "%s\n", qv_errmsg()); exit(1); }
        best = fmin(best, qv_now() - t0);
    }
    bm_set_exact_threads(0);
    return best;
}

static const char *peer_py =
    "import sys, time, numpy as np\n"
    "d = open(sys.argv[1]).read().split()\n"
    "n, ne = int(d[0]), int(d[1]); p = 2\n"
    "b = np.array([float(x) for x in d[p:p+n]]); p += n\n"
    "E = [(int(d[p+3*k]), int(d[p+3*k+1]), float(d[p+3*k+2])) for k in range(ne)]\n"
    "best = 1e9\n"
    "for rep in range(3):\n"
    "    t0 = time.perf_counter()\n"
    "    idx = np.arange(1 << n, dtype=np.int64)\n"
    "    Z = ((idx[:, None] >> np.arange(n)) & 1).astype(np.float64)\n"
    "    e = -(Z @ b)\n"
    "    for u, v, w in E: e -= w * Z[:, u] * Z[:, v]\n"
    "    x = -e; m = x.max(); lz = m + np.log(np.exp(x - m).sum())\n"
    "    best = min(best, time.perf_counter() - t0)\n"
    "print('%.12f %.6f' % (lz, best))\n";

int main(void)
{
    printf("exact log Z (bm_logz_exact): Gray code over the units left after summing out a maximal\n"
           "independent set analytically; best of runs\n");
    printf("%-26s %6s %6s %11s %11s %12s\n", "model", "units", "enum", "1 thread", "2 threads", "ns/state(2t)");
    double lz20 = NAN, t20 = NAN;
    struct { const char *name; struct graph *g; int n; } M[] = {
        {"chimera C4 cut", graph_chimera(4, 4, 4), 20},
        {"chimera C4 cut", graph_chimera(4, 4, 4), 28},
        {"chimera C(2,3,4) (whole)", graph_chimera(2, 3, 4), 48},
        {"pegasus P4 cut", graph_pegasus(4, PEGASUS_FABRIC), 28},
        {"zephyr Z2 cut", graph_zephyr(2, 4), 28},
        {"pegasus P4 cut", graph_pegasus(4, PEGASUS_FABRIC), 36},
    };
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++) {
        struct graph *s = M[i].n < M[i].g->nv ? graph_random_connected_subgraph(M[i].g, M[i].n, 5) : graph_clone(M[i].g);
        graph_free(M[i].g);
        struct bm *bm = bm_new(s);
        bm_random(bm, 1.0, 5);
        int ne = bm_exact_enum_units(bm);
        double lz1, lz2, t1 = time_logz(bm, 1, &lz1, 3), t2 = time_logz(bm, 2, &lz2, 3);
        if (lz1 != lz2) printf("  WARNING: thread counts disagree: %.17g vs %.17g\n", lz1, lz2);
        printf("%-26s %6d %6d %9.4f s %9.4f s %12.2f\n", M[i].name, bm->n, ne, t1, t2, t2 / ldexp(1, ne) * 1e9);
        bm_free(bm);
    }
    /* raw Gray-code speed: all 2^n states (bm_probs_exact visits every state) */
    printf("all 2^n states (bm_probs_exact):\n");
    for (int n = 20; n <= 24; n += 4) {
        struct bm *bm = model(n, 5);
        double *p = malloc(sizeof(double) << n);
        double best = INFINITY;
        for (int r = 0; r < 3; r++) {
            double t0 = qv_now();
            bm_probs_exact(bm, 1.0, p);
            best = fmin(best, qv_now() - t0);
        }
        printf("%-26s %6d %6d %23.4f s %12.2f\n", "chimera C4 cut", n, n, best, best / ldexp(1, n) * 1e9);
        if (n == 20) {
            t20 = best;
            bm_logz_exact(bm, 1.0, &lz20);
            FILE *f = fopen("/tmp/qvae_bench_bm.txt", "w");
            if (f) {
                fprintf(f, "%d %ld\n", bm->n, bm->ne);
                for (int k = 0; k < bm->n; k++) fprintf(f, "%.17g\n", bm->b[k]);
                for (long k = 0; k < bm->ne; k++)
                    fprintf(f, "%d %d %.17g\n", bm->g->edges[k][0], bm->g->edges[k][1], bm->w[k]);
                fclose(f);
            }
        }
        free(p);
        bm_free(bm);
    }
    FILE *py = fopen("/tmp/qvae_bench_bm.py", "w");
    if (!py) return 0;
    fputs(peer_py, py);
    fclose(py);
    /* Debian's python3-numpy lives under /usr/bin/python3 (a pyenv python3 on PATH may lack it) */
    FILE *p = popen("PY=/usr/bin/python3; [ -x $PY ] || PY=python3; "
                    "$PY /tmp/qvae_bench_bm.py /tmp/qvae_bench_bm.txt 2>/dev/null", "r");
    double plz, pt;
    if (p && fscanf(p, "%lf %lf", &plz, &pt) == 2) {
        printf("peer NumPy brute force over all 2^20 states: %.4f s (log Z %.10f, ours %.10f, diff %.1e)\n",
               pt, plz, lz20, fabs(plz - lz20));
        printf("ratio NumPy / qvae all-states enumeration (2^20): %.1fx\n", pt / t20);
    } else {
        printf("peer NumPy: not available (apt-get install python3-numpy)\n");
    }
    if (p) pclose(p);
    remove("/tmp/qvae_bench_bm.py");
    remove("/tmp/qvae_bench_bm.txt");
    return 0;
}
