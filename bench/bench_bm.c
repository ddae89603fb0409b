/* bench_bm.c — exact enumeration speed (Gray-code log Z, ns per state, 1 and 2 threads) on
 * connected Chimera cuts of 20, 24 and 28 units, and a NumPy peer (vectorised brute force over
 * all 2^20 states of the same model, python3-numpy) with the ratio and a cross-check of log Z. */
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
    printf("exact enumeration (bm_logz_exact, Gray code, incremental energies), best of runs\n");
    printf("%6s %10s %12s %12s %10s\n", "units", "states", "1 thread", "2 threads", "ns/state(2t)");
    double lz20 = NAN, t20 = NAN;
    const int sizes[] = {20, 24, 28};
    for (int i = 0; i < 3; i++) {
        int n = sizes[i];
        struct bm *bm = model(n, 5);
        double lz1, lz2;
        int reps = n >= 28 ? 1 : 3;
        double t1 = time_logz(bm, 1, &lz1, reps), t2 = time_logz(bm, 2, &lz2, reps);
        if (lz1 != lz2) printf("  WARNING: thread counts disagree: %.17g vs %.17g\n", lz1, lz2);
        double states = ldexp(1, n);
        printf("%6d %10.0f %10.4f s %10.4f s %10.2f\n", n, states, t1, t2, t2 / states * 1e9);
        if (n == 20) {
            lz20 = lz2; t20 = t2;
            FILE *f = fopen("/tmp/qvae_bench_bm.txt", "w");
            if (f) {
                fprintf(f, "%d %ld\n", bm->n, bm->ne);
                for (int k = 0; k < bm->n; k++) fprintf(f, "%.17g\n", bm->b[k]);
                for (long k = 0; k < bm->ne; k++)
                    fprintf(f, "%d %d %.17g\n", bm->g->edges[k][0], bm->g->edges[k][1], bm->w[k]);
                fclose(f);
            }
        }
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
        printf("peer NumPy brute force, 20 units: %.4f s (log Z %.10f, ours %.10f, diff %.1e)\n",
               pt, plz, lz20, fabs(plz - lz20));
        printf("ratio NumPy / qvae (2 threads), 20 units: %.1fx\n", pt / t20);
    } else {
        printf("peer NumPy: not available (apt-get install python3-numpy)\n");
    }
    if (p) pclose(p);
    remove("/tmp/qvae_bench_bm.py");
    remove("/tmp/qvae_bench_bm.txt");
    return 0;
}
