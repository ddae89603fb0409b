/* test_figs_csv.c — figs_csv (`view csv`): a CSV read back into its series (values, order of
 * first appearance of --by, empty cells skipped), and drawn: rendered to RGB, every point of
 * y = 2x + 1 and the midpoints between them carry the first palette colour at the pixel the panel
 * maps them to, while the pixel of a point off the line does not; the second series of --by
 * takes the second colour.  Errors: one line naming the file, the column (and those there are),
 * the line of a bad cell. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fig.h"
#include "figs.h"

static char path[256];

static void write_csv(const char *text)
{
    snprintf(path, sizeof path, "/tmp/test_figs_csv_%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The colour at data point (x, y) of panel 0: the nearest pixel within 1 of the mapped point
 * whose colour is within 40 of rgb (anti-aliased line edges). */
static bool coloured(struct fig *f, const unsigned char *img, int w, double x, double y, const int rgb[3])
{
    double px, py;
    assert_int_equal(figp_to_pixel(fig_panel(f, 0), x, y, &px, &py), 0);
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const unsigned char *c = img + ((size_t)(lround(py) + dy) * w + lround(px) + dx) * 3;
            if (abs(c[0] - rgb[0]) < 40 && abs(c[1] - rgb[1]) < 40 && abs(c[2] - rgb[2]) < 40) return true;
        }
    return false;
}

static void test_read_and_draw(void **state)
{
    (void)state;
    /* a: y = 2x + 1 at x = 0 … 8; b: y = 17 − 2x; a row with an empty y; CRLF and blanks */
    write_csv("run, x ,y\r\na,0,1\nb,0,17\na,2,5\nb,2,13\na,4,9\n\nb,4,9\na,6,13\nb,6,5\na,8,17\nb,8,1\na,9,\n");
    struct figs_csv c;
    assert_int_equal(figs_csv_read(&c, path, "x", "y", "run"), 0);
    assert_int_equal(c.nseries, 2);
    assert_int_equal(c.points, 10);
    assert_string_equal(c.s[0].name, "a");
    assert_string_equal(c.s[1].name, "b");
    for (int i = 0; i < 5; i++) {
        assert_true(c.s[0].x[i] == 2 * i && c.s[0].y[i] == 4 * i + 1);
        assert_true(c.s[1].y[i] == 17 - 4 * i);
    }
    assert_true(c.s[1].ymin == 1 && c.s[1].ymax == 17 && c.s[0].xmax == 8);
    struct fig *f = figs_csv_fig(&c, "t", "x", "y");
    assert_non_null(f);
    unsigned char *img;
    int w, h;
    assert_int_equal(fig_render_rgb(f, &img, &w, &h), 0);
    static const int blue[3] = {31, 120, 181}, orange[3] = {255, 128, 13};
    /* the inner points and the midpoints between them (x = 0 and 8 lie on the frame: the x axis
     * fits the data exactly) */
    for (double x = 1; x <= 7; x += 1) {
        if (fabs(x - 4) < 0.5) continue;   /* the crossing: b is drawn over a */
        if (!coloured(f, img, w, x, 2 * x + 1, blue)) fail_msg("a at x = %g", x);
        if (!coloured(f, img, w, x, 17 - 2 * x, orange)) fail_msg("b at x = %g", x);
    }
    assert_false(coloured(f, img, w, 2, 14, blue));    /* off both lines */
    assert_false(coloured(f, img, w, 6, 3, blue));
    free(img);
    fig_free(f);
    figs_csv_free(&c);
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    struct figs_csv c;
    char want[512];
    write_csv("t,loss\n1,2\n2,x3\n");
    assert_int_equal(figs_csv_read(&c, path, "t", "nope", NULL), -1);
    snprintf(want, sizeof want, "%s: --y: no column 'nope' (columns: t, loss)", path);
    assert_string_equal(qv_errmsg(), want);
    assert_int_equal(figs_csv_read(&c, path, "t", "loss", NULL), -1);
    snprintf(want, sizeof want, "%s:3: column loss: 'x3' is not a finite number", path);
    assert_string_equal(qv_errmsg(), want);
    assert_int_equal(c.nseries, 0);
    write_csv("t,loss\n1,\n");
    assert_int_equal(figs_csv_read(&c, path, "t", "loss", NULL), -1);
    snprintf(want, sizeof want, "%s: no rows with numbers in both t and loss", path);
    assert_string_equal(qv_errmsg(), want);
    write_csv("t,loss,run\n1,2\n");
    assert_int_equal(figs_csv_read(&c, path, "t", "loss", "run"), -1);
    snprintf(want, sizeof want, "%s:2: 2 fields, the columns asked for need 3", path);
    assert_string_equal(qv_errmsg(), want);
    unlink(path);
    assert_int_equal(figs_csv_read(&c, path, "t", "loss", NULL), -1);
    assert_non_null(strstr(qv_errmsg(), path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_and_draw),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
