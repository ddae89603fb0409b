/* test_png.c — the PNG grid writer: write, read back with libpng, compare every pixel with the
 * grid geometry computed by hand (margins, scale, empty cells, clamping); errors leave no file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png.h"

static char tmpdir[1024];

static void test_grid_roundtrip(void **st)
{
    (void)st;
    /* 5 images of 3×4, pixel (i, y, x) = (i*12 + y*4 + x) / 59; grid 2 rows × 3 cols */
    enum { N = 5, H = 3, W = 4, ROWS = 2, COLS = 3, M = 2, S = 3 };
    float px[N * H * W];
    for (int i = 0; i < N * H * W; i++) px[i] = (float)i / (N * H * W - 1);
    px[0] = -0.5f;          /* clamped to 0 */
    px[1] = 1.7f;           /* clamped to 1 */
    px[2] = NAN;            /* drawn as 0 */
    char path[1200];
    snprintf(path, sizeof path, "%s/grid.png", tmpdir);
    assert_int_equal(png_write_grid(path, px, N, H, W, ROWS, COLS, M, S), 0);
    unsigned char *img;
    int w, h;
    assert_int_equal(png_read_grey(path, &img, &w, &h), 0);
    assert_int_equal(w, COLS * (W * S + M) + M);
    assert_int_equal(h, ROWS * (H * S + M) + M);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int cx = (x - M) / (W * S + M), ox = (x - M) % (W * S + M);
            int cy = (y - M) / (H * S + M), oy = (y - M) % (H * S + M);
            int want;
            if (x < M || y < M || ox >= W * S || oy >= H * S) want = 128;   /* margin */
            else {
                int k = cy * COLS + cx;
                if (k >= N) want = 0;   /* empty cell */
                else {
                    float v = px[(k * H + oy / S) * W + ox / S];
                    want = !(v > 0) ? 0 : v >= 1 ? 255 : (int)lrintf(v * 255);
                }
            }
            if (img[y * w + x] != want)
                fail_msg("pixel (%d,%d) = %d, want %d", x, y, img[y * w + x], want);
        }
    free(img);
    /* automatic near-square layout: 5 images → 3 cols × 2 rows, no margin, scale 1 */
    assert_int_equal(png_write_grid(path, px, N, H, W, 0, 0, 0, 1), 0);
    assert_int_equal(png_read_grey(path, &img, &w, &h), 0);
    assert_int_equal(w, 3 * W);
    assert_int_equal(h, 2 * H);
    assert_int_equal(img[0 * w + W + 1], (int)lrintf(px[12 + 1] * 255));   /* image 1, (0,1) */
    free(img);
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
    float px[4] = {0, 0.5f, 1, 0};
    char path[1400], sub[1200];
    snprintf(sub, sizeof sub, "%s/errs", tmpdir);
    mkdir(sub, 0755);
    snprintf(path, sizeof path, "%s/nodir/x.png", sub);
    assert_int_equal(png_write_grid(path, px, 1, 2, 2, 1, 1, 0, 1), -1);
    assert_non_null(strstr(qv_errmsg(), "nodir/x.png"));
    snprintf(path, sizeof path, "%s/x.png", sub);
    assert_int_equal(png_write_grid(path, px, 1, 2, 2, 1, 1, 0, 0), -1);
    assert_non_null(strstr(qv_errmsg(), "scale"));
    assert_int_equal(png_write_grid(path, px, 0, 2, 2, 1, 1, 0, 1), -1);
    assert_int_equal(count_files(sub), 0);   /* nothing left behind */
    /* reading something that is not a PNG */
    FILE *f = fopen(path, "w");
    fputs("not a png", f);
    fclose(f);
    unsigned char *img;
    int w, h;
    assert_int_equal(png_read_grey(path, &img, &w, &h), -1);
    assert_non_null(strstr(qv_errmsg(), "x.png"));
}

int main(void)
{
    const char *t = getenv("QVAE_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_png.%d", t && *t ? t : "/tmp", (int)getpid());
    mkdir(tmpdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_roundtrip),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return rc;
}
