/* test_fig.c — the figure library: 1-2-5 ticks against hand-worked ranges; PNGs written, read
 * back with libpng and checked pixel by pixel against geometry found in the picture itself (the
 * frame is located by its long dark runs, not asked of the library): a line y = x lies on the
 * frame's diagonal, y = 10^x on a log axis too, a histogram bar reaches its count, overlaid
 * histograms blend (35 % each), an image's pixels and a graph's nodes carry their colours, a
 * schedule's pause is drawn where it is; errors (unwritable path, bad sizes) are one line naming
 * the thing and leave no file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* cmocka before 1.1.6 has no assert_double_equal */
#ifndef assert_double_equal
#define assert_double_equal(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (double)(eps))
#endif
#include <dirent.h>
#include <libpng16/png.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fig.h"
#include "figs.h"
#include "schedule.h"

static char tmpdir[1024];

struct rgb_img { unsigned char *p; int w, h; };

static void read_rgb(const char *path, struct rgb_img *im)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&pi, path));
    pi.format = PNG_FORMAT_RGB;
    im->p = malloc(PNG_IMAGE_SIZE(pi));
    assert_true(png_image_finish_read(&pi, NULL, im->p, 0, NULL));
    im->w = (int)pi.width;
    im->h = (int)pi.height;
}

static const unsigned char *px(const struct rgb_img *im, int x, int y)
{
    return im->p + ((size_t)y * im->w + x) * 3;
}

static bool dark(const unsigned char *c) { return c[0] < 60 && c[1] < 60 && c[2] < 60; }
static bool red(const unsigned char *c) { return c[0] > 180 && c[1] < 90 && c[2] < 90; }

/* The frame of a single-axes figure: the columns and rows with dark runs longer than half the
 * picture (the frame's sides; text and ticks are short). */
static void find_frame(const struct rgb_img *im, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = *y0 = INT32_MAX;
    *x1 = *y1 = -1;
    for (int x = 0; x < im->w; x++) {
        int run = 0, best = 0;
        for (int y = 0; y < im->h; y++) {
            run = dark(px(im, x, y)) ? run + 1 : 0;
            if (run > best) best = run;
        }
        if (best > im->h / 2) { if (x < *x0) *x0 = x; if (x > *x1) *x1 = x; }
    }
    for (int y = 0; y < im->h; y++) {
        int run = 0, best = 0;
        for (int x = 0; x < im->w; x++) {
            run = dark(px(im, x, y)) ? run + 1 : 0;
            if (run > best) best = run;
        }
        if (best > im->w / 2) { if (y < *y0) *y0 = y; if (y > *y1) *y1 = y; }
    }
    assert_true(*x0 < *x1 && *y0 < *y1);
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void test_ticks(void **st)
{
    (void)st;
    double t[16], step;
    /* [0, 1], about 5: step 0.2, 0 … 1 */
    assert_int_equal(fig_nice_ticks(0, 1, 5, t, 16, &step), 6);
    assert_double_equal(step, 0.2, 1e-12);
    for (int i = 0; i < 6; i++) assert_double_equal(t[i], 0.2 * i, 1e-12);
    /* [0.13, 0.87]: 0.74 / 5 = 0.148 → 0.2; ticks inside only */
    assert_int_equal(fig_nice_ticks(0.13, 0.87, 5, t, 16, &step), 4);
    assert_double_equal(t[0], 0.2, 1e-12);
    assert_double_equal(t[3], 0.8, 1e-12);
    /* [-3, 97]: 100 / 5 = 20 → 20 (a 2 × 10^k step); 0, 20, …, 80 */
    assert_int_equal(fig_nice_ticks(-3, 97, 5, t, 16, &step), 5);
    assert_double_equal(step, 20, 1e-9);
    assert_double_equal(t[0], 0, 0);
    assert_false(signbit(t[0]));   /* never "-0" */
    /* [-0.003, 0.0041], 6: 0.0071 / 6 = 0.00118 → 0.002 */
    assert_int_equal(fig_nice_ticks(-0.003, 0.0041, 6, t, 16, &step), 4);
    assert_double_equal(step, 0.002, 1e-15);
    assert_double_equal(t[0], -0.002, 1e-15);
    /* 3 → 5 × 10^k: [0, 30], 10 → 3 → 5 */
    fig_nice_ticks(0, 30, 10, t, 16, &step);
    assert_double_equal(step, 5, 1e-12);
    double lo = 0.13, hi = 0.87;
    fig_nice_range(&lo, &hi, 5);
    assert_double_equal(lo, 0, 1e-12);
    assert_double_equal(hi, 1, 1e-12);
    lo = 101; hi = 949;   /* 848 / 5 → 200: [0, 1000] */
    fig_nice_range(&lo, &hi, 5);
    assert_double_equal(lo, 0, 1e-9);
    assert_double_equal(hi, 1000, 1e-9);
}

/* A red line through (x, y) [n] on fixed axes [0, 1]² (log y: [1, 1000]); every column of the
 * frame's inside holds red pixels, all within 2 pixels of the frame's diagonal, and none lies
 * outside the frame (clipping). */
static void check_diagonal(bool logy)
{
    struct fig *f = fig_new(420, 320, 1, 1);
    assert_non_null(f);
    struct fig_panel *p = fig_panel(f, 0);
    figp_labels(p, logy ? "y = 10^(3x)" : "y = x", "x", "y");
    double x[3] = { -0.2, 0.5, 1.2 }, y[3];
    for (int i = 0; i < 3; i++) y[i] = logy ? pow(10, 3 * x[i]) : x[i];
    int s = figp_line(p, x, y, 3, NULL);
    assert_int_equal(s, 0);
    figp_color(p, s, 1, 0, 0);
    figp_xlim(p, 0, 1);
    figp_logy(p, logy);
    if (logy) figp_ylim(p, 1, 1000); else figp_ylim(p, 0, 1);
    char path[1200];
    tmp_path(path, sizeof path, logy ? "logy.png" : "diag.png");
    char err[256];
    assert_int_equal(fig_write_png(f, path, err, sizeof err), 0);
    struct rgb_img im;
    read_rgb(path, &im);
    assert_int_equal(im.w, 420);
    assert_int_equal(im.h, 320);
    int x0, y0, x1, y1;
    find_frame(&im, &x0, &y0, &x1, &y1);
    assert_true(x1 - x0 > 200 && y1 - y0 > 150);   /* most of the picture is axes */
    for (int c = x0 + 3; c <= x1 - 3; c++) {
        double want = y1 - (double)(c - x0) / (x1 - x0) * (y1 - y0);
        int hits = 0;
        for (int r = y0 + 1; r < y1; r++)
            if (red(px(&im, c, r))) {
                hits++;
                if (fabs(r - want) > 2.5) fail_msg("column %d: red at row %d, diagonal at %.1f", c, r, want);
            }
        if (!hits) fail_msg("column %d: no line pixel", c);
    }
    for (int r = 0; r < im.h; r++)
        for (int c = 0; c < im.w; c++)
            if ((c < x0 - 1 || c > x1 + 1 || r < y0 - 1 || r > y1 + 1) && red(px(&im, c, r)))
                fail_msg("line pixel outside the frame at (%d, %d)", c, r);
    /* the axes carry tick labels: dark pixels left of the frame and below it */
    int left = 0, below = 0;
    for (int r = y0; r <= y1; r++)
        for (int c = 0; c < x0 - 6; c++) left += dark(px(&im, c, r));
    for (int r = y1 + 6; r < im.h; r++)
        for (int c = x0; c <= x1; c++) below += dark(px(&im, c, r));
    assert_true(left > 20);
    assert_true(below > 20);
    free(im.p);
    fig_free(f);
}

static void test_line_diagonal(void **st) { (void)st; check_diagonal(false); }
static void test_line_logy(void **st) { (void)st; check_diagonal(true); }

/* Histogram of 6 values in bins [0,1), [1,2), [2,3]: counts 1, 3, 2 on y ∈ [0, 4].  The middle
 * bar's top edge sits 3/4 up the frame; inside it the fill is a tint of the bar's colour. */
static void test_hist_bar(void **st)
{
    (void)st;
    struct fig *f = fig_new(400, 300, 1, 1);
    struct fig_panel *p = fig_panel(f, 0);
    const double v[6] = { 0.5, 1.2, 1.5, 1.7, 2.1, 3.0 };
    int s = figp_hist(p, v, 6, 3, 0, 3, false, "counts");
    assert_int_equal(s, 0);
    figp_color(p, s, 0, 0, 1);
    figp_xlim(p, 0, 3);
    figp_ylim(p, 0, 4);
    char path[1200], err[256];
    tmp_path(path, sizeof path, "hist.png");
    assert_int_equal(fig_write_png(f, path, err, sizeof err), 0);
    struct rgb_img im;
    read_rgb(path, &im);
    int x0, y0, x1, y1;
    find_frame(&im, &x0, &y0, &x1, &y1);
    const double count[3] = { 1, 3, 2 };
    for (int b = 0; b < 3; b++) {
        int c = x0 + (int)((b + 0.3) / 3 * (x1 - x0));   /* left of centre: clear of the legend */
        int top = -1;
        for (int r = y0 + 2; r < y1 && top < 0; r++) {
            const unsigned char *q = px(&im, c, r);
            if (q[2] > 150 && q[0] < 120 && q[1] < 120) top = r;   /* the solid blue outline */
        }
        double want = y1 - count[b] / 4 * (y1 - y0);
        if (!(top >= 0 && fabs(top - want) <= 2.5)) fail_msg("bin %d: top at %d, want %.1f", b, top, want);
        const unsigned char *in = px(&im, c, (top + y1) / 2);   /* fill: 35 % blue over white */
        assert_true(in[2] > 240 && in[0] > 150 && in[0] < 190 && in[0] == in[1]);
    }
    free(im.p);
    /* density: heights integrate to 1 — 1/6, 3/6, 2/6 per unit width; empty data is an error */
    assert_int_equal(figp_hist(p, v, 6, 3, 0, 3, true, NULL), 1);
    assert_int_equal(figp_hist(p, v, 0, 3, 0, 3, true, NULL), -1);
    fig_free(f);
}

/* Two overlaid histograms, red over [0, 2) and blue over [1, 3), height 1 on y ∈ [0, 2]: each fill
 * is 35 % of its colour over what lies below, so the overlap shows both — white → red tint
 * (255, 166, 166) → with blue over it (166, 108, 197). */
static void test_hist_overlay(void **st)
{
    (void)st;
    struct fig *f = fig_new(400, 300, 1, 1);
    struct fig_panel *p = fig_panel(f, 0);
    const double ea[2] = { 0, 2 }, eb[2] = { 1, 3 }, h[1] = { 1 };
    figp_color(p, figp_bars(p, ea, h, 1, NULL), 1, 0, 0);
    figp_color(p, figp_bars(p, eb, h, 1, NULL), 0, 0, 1);
    figp_xlim(p, 0, 3);
    figp_ylim(p, 0, 2);
    char path[1200];
    tmp_path(path, sizeof path, "overlay.png");
    assert_int_equal(fig_write_png(f, path, NULL, 0), 0);
    struct rgb_img im;
    read_rgb(path, &im);
    int x0, y0, x1, y1;
    find_frame(&im, &x0, &y0, &x1, &y1);
    int r = y1 - (y1 - y0) / 4;   /* y = 0.5: inside both bars */
    const double xs[3] = { 0.5, 1.5, 2.5 };
    const int want[3][3] = { { 255, 166, 166 }, { 166, 108, 197 }, { 166, 166, 255 } };
    for (int k = 0; k < 3; k++) {
        const unsigned char *q = px(&im, x0 + (int)(xs[k] / 3 * (x1 - x0)), r);
        for (int c = 0; c < 3; c++)
            if (abs(q[c] - want[k][c]) > 3)
                fail_msg("x = %g: (%d, %d, %d), want (%d, %d, %d)", xs[k], q[0], q[1], q[2], want[k][0],
                         want[k][1], want[k][2]);
    }
    free(im.p);
    fig_free(f);
}

/* A 2×2 grey image [0 1; 1 0.5] filling an axes-less square panel: each quadrant its grey. */
static void test_image_graph(void **st)
{
    (void)st;
    struct fig *f = fig_new(400, 200, 1, 2);
    struct fig_panel *p = fig_panel(f, 0);
    figp_axes_off(p, true);
    const float img[4] = { 0, 1, 1, 0.5f };
    assert_int_equal(figp_image(p, img, 2, 2, 0, 2, 0, 2, FIG_CMAP_GREY, 0, 1), 0);
    /* graph: two nodes joined, values 0 and 1 through viridis */
    struct fig_panel *q = fig_panel(f, 1);
    figp_axes_off(q, false);
    const float gx[2] = { 0.1f, 0.9f }, gy[2] = { 0.5f, 0.5f }, val[2] = { 0, 1 };
    const int e[1][2] = { { 0, 1 } };
    assert_int_equal(figp_graph(q, gx, gy, 2, e, 1, val, FIG_CMAP_VIRIDIS, 0, 1), 0);
    const int bad[1][2] = { { 0, 2 } };
    assert_int_equal(figp_graph(q, gx, gy, 2, bad, 1, val, FIG_CMAP_VIRIDIS, 0, 1), -1);
    assert_non_null(strstr(qv_errmsg(), "edge 0"));
    char path[1200], err[256];
    tmp_path(path, sizeof path, "image.png");
    assert_int_equal(fig_write_png(f, path, err, sizeof err), 0);
    struct rgb_img im;
    read_rgb(path, &im);
    double ax0, ay0, ax1, ay1;
    assert_int_equal(figp_plot_area(p, &ax0, &ay0, &ax1, &ay1), 0);
    assert_double_equal(ax1 - ax0, ay1 - ay0, 1e-9);   /* equal aspect on a square image */
    const int want[2][2] = { { 0, 255 }, { 255, 128 } };
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            int x = (int)(ax0 + (c + 0.5) * (ax1 - ax0) / 2), y = (int)(ay0 + (r + 0.5) * (ay1 - ay0) / 2);
            const unsigned char *q3 = px(&im, x, y);
            assert_true(abs(q3[0] - want[r][c]) <= 1 && q3[0] == q3[1] && q3[1] == q3[2]);
        }
    /* the graph's nodes: viridis' ends, dark purple (0.267, 0.005, 0.329) and yellow */
    assert_int_equal(figp_plot_area(q, &ax0, &ay0, &ax1, &ay1), 0);
    int purple = 0, yellow = 0;
    for (int y = (int)ay0; y < (int)ay1; y++)
        for (int x = (int)ax0; x < (int)ax1; x++) {
            const unsigned char *c = px(&im, x, y);
            purple += abs(c[0] - 68) <= 2 && c[1] <= 3 && abs(c[2] - 84) <= 2;
            yellow += c[0] >= 250 && abs(c[1] - 231) <= 2 && abs(c[2] - 37) <= 2;
        }
    assert_true(purple > 4);
    assert_true(yellow > 4);
    free(im.p);
    fig_free(f);
}

/* The schedule figure (figs.c): forward 20 + pause 0.45 30 = (0,0) (9,0.45) (39,0.45) (50,1) on
 * y ∈ [−0.02, 1.06], x ∈ [0, 50]; the pause is the green segment at s = 0.45 from t = 9 to 39. */
static void test_schedule_figure(void **st)
{
    (void)st;
    struct sched *s = sched_new();
    assert_int_equal(sched_forward(s, 20), 0);
    assert_int_equal(sched_pause(s, 0.45, 30), 0);
    char path[1200];
    tmp_path(path, sizeof path, "sched.png");
    assert_int_equal(figs_schedule(s, NULL, NAN, path), 0);
    struct rgb_img im;
    read_rgb(path, &im);
    int x0, y0, x1, y1;
    find_frame(&im, &x0, &y0, &x1, &y1);
    double row = y1 - (0.45 + 0.02) / 1.08 * (y1 - y0);
    for (double t = 15; t <= 33; t += 1) {
        int c = (int)lround(x0 + t / 50 * (x1 - x0)), hits = 0;
        for (int r = y0; r <= y1; r++) {
            const unsigned char *q = px(&im, c, r);
            if (abs(q[0] - 43) <= 12 && abs(q[1] - 161) <= 12 && abs(q[2] - 43) <= 12) {   /* (0.17, 0.63, 0.17) */
                hits++;
                if (fabs(r - row) > 2.5) fail_msg("t = %g: pause pixel at row %d, want %.1f", t, r, row);
            }
        }
        if (!hits) fail_msg("t = %g: no pause pixel", t);
    }
    free(im.p);
    sched_free(s);
    /* one point is not a figure */
    s = sched_new();
    assert_int_equal(figs_schedule(s, NULL, NAN, path), -1);
    sched_free(s);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_errors(void **st)
{
    (void)st;
    assert_null(fig_new(8, 100, 1, 1));
    assert_non_null(strstr(qv_errmsg(), "size"));
    assert_null(fig_new(100, 100, 0, 1));
    struct fig *f = fig_new(200, 150, 1, 2);
    assert_null(fig_panel(f, 2));
    assert_non_null(strstr(qv_errmsg(), "panel 2"));
    struct fig_panel *p = fig_panel(f, 0);
    double x[2] = { 0, NAN }, y[2] = { 1, 2 };
    assert_int_equal(figp_line(p, x, y, 0, "a"), -1);
    assert_int_equal(figp_line(p, x, y, 2, "a"), -1);   /* x must be finite */
    assert_int_equal(figp_line(p, x, y, 1, "a"), 0);
    assert_int_equal(figp_color(p, 5, 1, 0, 0), -1);
    char sub[1100], path[1300], err[256] = "";
    snprintf(sub, sizeof sub, "%s/errs", tmpdir);
    mkdir(sub, 0755);
    snprintf(path, sizeof path, "%s/nodir/x.png", sub);
    assert_int_equal(fig_write_png(f, path, err, sizeof err), -1);
    assert_int_equal(strncmp(err, path, strlen(path)), 0);   /* "PATH: problem", one line */
    assert_non_null(strstr(err, ": "));
    assert_null(strchr(err, '\n'));
    assert_string_equal(err, qv_errmsg());
    assert_int_equal(fig_write_png(f, sub, err, sizeof err), -1);   /* a folder */
    assert_int_equal(count_files(sub), 0);                          /* no temporary left */
    /* the same figure writes where the folder exists */
    snprintf(path, sizeof path, "%s/keep.png", sub);
    assert_int_equal(fig_write_png(f, path, NULL, 0), 0);
    struct stat a;
    assert_int_equal(stat(path, &a), 0);
    assert_true(a.st_size > 100);
    fig_free(f);
}

int main(void)
{
    const char *t = getenv("QVAE_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_fig.%d", t && *t ? t : "/tmp", (int)getpid());
    mkdir(tmpdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_line_diagonal),
        cmocka_unit_test(test_line_logy),
        cmocka_unit_test(test_hist_bar),
        cmocka_unit_test(test_hist_overlay),
        cmocka_unit_test(test_image_graph),
        cmocka_unit_test(test_schedule_figure),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return rc;
}
