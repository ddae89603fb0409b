/* test_tui_plot.c — pure rendering helpers of the TUI against independent truth: braille dot
 * bits and glyphs (Unicode braille block numbering), line rasterisation, series plotting and EMA
 * (hand-computed values), xterm-256 palette mapping (the palette's defining formulas), the
 * colormap, half-block rendering of a known image, graph-to-screen placement, and fitting UTF-8
 * text to a column count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "graph.h"
#include "tui_priv.h"

static void test_braille_bits(void **state)
{
    (void)state;
    /* Unicode: dots 1-2-3 left column top→down = bits 0,1,2; dots 4-5-6 right = bits 3,4,5;
     * dot 7 = bit 6 (left, row 4), dot 8 = bit 7 (right, row 4). */
    assert_int_equal(braille_bit(0, 0), 0x01);
    assert_int_equal(braille_bit(0, 1), 0x02);
    assert_int_equal(braille_bit(0, 2), 0x04);
    assert_int_equal(braille_bit(1, 0), 0x08);
    assert_int_equal(braille_bit(1, 1), 0x10);
    assert_int_equal(braille_bit(1, 2), 0x20);
    assert_int_equal(braille_bit(0, 3), 0x40);
    assert_int_equal(braille_bit(1, 3), 0x80);
    char g[4];
    braille_utf8(0xFF, g);
    assert_string_equal(g, "\xE2\xA3\xBF");   /* U+28FF ⣿ */
    braille_utf8(0x00, g);
    assert_string_equal(g, "\xE2\xA0\x80");   /* U+2800 blank */
    braille_utf8(0x47, g);
    assert_string_equal(g, "\xE2\xA1\x87");   /* U+2847 ⡇: left column full */

    struct braille b;
    braille_init(&b, 3, 2);                     /* 6×8 dots */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 2; x++)
            braille_set(&b, 2 + x, 4 + y, 5);   /* fill cell (1,1) */
    braille_set(&b, -1, 0, 1);                  /* outside: ignored */
    braille_set(&b, 6, 0, 1);
    braille_set(&b, 0, 8, 1);
    for (int c = 0; c < 6; c++) {
        assert_int_equal(b.mask[c], c == 4 ? 0xFF : 0);
        assert_int_equal(b.color[c], c == 4 ? 5 : 0);
    }
    /* a horizontal line on dot row 0 lights bits 0x01|0x08 in each top cell */
    braille_clear(&b);
    braille_line(&b, 0, 0, 5, 0, 1);
    for (int c = 0; c < 3; c++)
        assert_int_equal(b.mask[c], 0x09);
    /* a vertical line down dot column 1 lights the right column of the first cells */
    braille_clear(&b);
    braille_line(&b, 1, 7, 1, 0, 2);
    assert_int_equal(b.mask[0], 0x08 | 0x10 | 0x20 | 0x80);
    assert_int_equal(b.mask[3], 0x08 | 0x10 | 0x20 | 0x80);
    /* the diagonal (0,0)→(5,5) hits exactly the dots (i,i) */
    braille_clear(&b);
    braille_line(&b, 0, 0, 5, 5, 1);
    int count = 0;
    for (int c = 0; c < 6; c++)
        count += __builtin_popcount(b.mask[c]);
    assert_int_equal(count, 6);
    assert_int_equal(b.mask[0], 0x01 | 0x10);   /* (0,0) and (1,1) */
    braille_free(&b);
}

static void test_series(void **state)
{
    (void)state;
    struct braille b;
    braille_init(&b, 10, 5);   /* 20×20 dots */
    double x[3] = { 0, 1, 2 }, y[3] = { 5, 5, 5 };
    /* constant 5 in [0,10]: dot row round((10-5)*19/10) = 10 (cell row 2, dot row 2) */
    assert_int_equal(plot_series(&b, x, y, 3, 0, 2, 0, 10, false, 3), 3);
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 10; c++) {
            uint8_t m = b.mask[r * 10 + c];
            if (r == 2) assert_int_equal(m, 0x04 | 0x20);
            else assert_int_equal(m, 0);
        }
    /* NaN breaks the line: two isolated points at the ends */
    braille_clear(&b);
    double y2[3] = { 0, NAN, 10 };
    assert_int_equal(plot_series(&b, x, y2, 3, 0, 2, 0, 10, false, 1), 2);
    assert_int_equal(b.mask[4 * 10 + 0], 0x40);   /* (0,19): bottom-left dot */
    assert_int_equal(b.mask[0 * 10 + 9], 0x08);   /* (19,0): top-right dot */
    int total = 0;
    for (int c = 0; c < 50; c++) total += __builtin_popcount(b.mask[c]);
    assert_int_equal(total, 2);
    /* log y: values 1, 10, 100 over [0,2] decades land on bottom, middle, top rows */
    braille_clear(&b);
    double y3[3] = { 1, 10, 100 }, lo, hi;
    assert_true(plot_range(y3, 3, true, &lo, &hi));
    assert_float_equal(lo, 0, 1e-12);
    assert_float_equal(hi, 2, 1e-12);
    assert_int_equal(plot_series(&b, x, y3, 3, 0, 2, lo, hi, true, 1), 3);
    assert_true(b.mask[4 * 10 + 0] & 0x40);
    assert_true(b.mask[0 * 10 + 9] & 0x08);
    /* non-positive values are skipped on a log axis */
    double y4[2] = { -1, 0 };
    assert_false(plot_range(y4, 2, true, &lo, &hi));
    assert_true(plot_range(y4, 2, false, &lo, &hi));
    assert_float_equal(lo, -1, 0);
    assert_float_equal(hi, 0, 0);
    braille_free(&b);

    double a = 3, c = 3;
    plot_pad_range(&a, &c);
    assert_true(a < 3 && c > 3);
}

static void test_ema(void **state)
{
    (void)state;
    double y[5] = { 1, 2, NAN, 3, 5 }, out[5];
    plot_ema(y, out, 5, 0.5);
    assert_float_equal(out[0], 1, 1e-12);
    assert_float_equal(out[1], 1.5, 1e-12);
    assert_true(isnan(out[2]));
    assert_float_equal(out[3], 2.25, 1e-12);
    assert_float_equal(out[4], 3.625, 1e-12);
    plot_ema(y, y, 5, 0);          /* a = 0: identity, in place */
    assert_float_equal(y[4], 5, 0);
    char buf[32];
    plot_fmt_num(12345, buf, sizeof buf);
    assert_string_equal(buf, "12.3k");
    plot_fmt_num(-95.25, buf, sizeof buf);
    assert_string_equal(buf, "-95.25");
    plot_fmt_num(-195.3, buf, sizeof buf);
    assert_string_equal(buf, "-195.3");
    plot_fmt_num(0.0312, buf, sizeof buf);
    assert_string_equal(buf, "0.031");
}

static void test_colors(void **state)
{
    (void)state;
    /* xterm palette: 16 + 36r + 6g + b over levels {0,95,135,175,215,255}; greys 8+10k at 232+k */
    assert_int_equal(color_rgb_to_256(0, 0, 0), 16);
    assert_int_equal(color_rgb_to_256(255, 255, 255), 231);
    assert_int_equal(color_rgb_to_256(255, 0, 0), 196);
    assert_int_equal(color_rgb_to_256(0, 255, 0), 46);
    assert_int_equal(color_rgb_to_256(0, 0, 255), 21);
    assert_int_equal(color_rgb_to_256(95, 135, 175), 67);
    assert_int_equal(color_rgb_to_256(128, 128, 128), 244);
    assert_int_equal(color_rgb_to_256(8, 8, 8), 232);
    assert_int_equal(color_rgb_to_256(238, 238, 238), 255);
    assert_int_equal(color_rgb_to_256(300, -5, 0), 196);   /* clamped */
    /* every palette entry maps back to itself */
    for (int i = 16; i < 256; i++) {
        int r, g, b;
        color_256_to_rgb(i, &r, &g, &b);
        assert_int_equal(color_rgb_to_256(r, g, b), i);
    }
    /* the ramp gets strictly lighter from 0 to 1 (luma of the palette colour) and is not grey */
    double prev = -1, first = 0, last = 0;
    for (int k = 0; k <= 12; k++) {
        int r, g, b;
        color_256_to_rgb(color_ramp_256(k / 12.0), &r, &g, &b);
        double luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        assert_true(luma > prev);
        assert_false(r == g && g == b);
        prev = luma;
        if (k == 0) first = luma;
        last = luma;
    }
    assert_true(last - first > 150);
    assert_int_equal(color_ramp_256(NAN), color_ramp_256(0));
    assert_int_equal(color_ramp_256(7), color_ramp_256(1));
    /* levels and greys */
    assert_int_equal(color_level(0, 5), 0);
    assert_int_equal(color_level(1, 5), 4);
    assert_int_equal(color_level(0.5, 5), 2);
    assert_int_equal(color_level(-3, 5), 0);
    assert_int_equal(color_grey_256(0, 12), 16);
    assert_int_equal(color_grey_256(11, 12), 231);
    int prevg = -1;
    for (int l = 1; l < 11; l++) {
        int idx = color_grey_256(l, 12), r, g, b;
        color_256_to_rgb(idx, &r, &g, &b);
        assert_true(r == g && g == b);
        assert_true(r > prevg);
        prevg = r;
    }
    int shade;
    assert_int_equal(color_ramp_8(0, &shade), 4);   /* blue */
    assert_int_equal(shade, 0);
    assert_int_equal(color_ramp_8(1, &shade), 1);   /* red */
    assert_int_equal(shade, 3);
}

static void test_halfblock(void **state)
{
    (void)state;
    /* one 4×4 image, levels 2 (0/1):
     *   row0 1 1 0 0      cell row 0: top = row0, bottom = row1
     *   row1 0 1 1 0
     *   row2 1 0 1 0      cell row 1: top = row2, bottom = row3
     *   row3 0 0 0 1 */
    float img[16] = { 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1 };
    int gc, gr, scale, iw, ih;
    assert_int_equal(img_grid_fit(1, 4, 4, 10, 5, &gc, &gr, &scale, &iw, &ih), 1);
    assert_int_equal(scale, 1);
    assert_int_equal(iw, 4);
    assert_int_equal(ih, 2);
    int8_t top[50], bot[50];
    img_render(img, 1, 4, 4, gc, gr, scale, 10, 5, 2, top, bot);
    int8_t et[2][4] = { { 1, 1, 0, 0 }, { 1, 0, 1, 0 } }, eb[2][4] = { { 0, 1, 1, 0 }, { 0, 0, 0, 1 } };
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 10; c++) {
            if (r < 2 && c < 4) {
                assert_int_equal(top[r * 10 + c], et[r][c]);
                assert_int_equal(bot[r * 10 + c], eb[r][c]);
            } else {
                assert_int_equal(top[r * 10 + c], -1);
                assert_int_equal(bot[r * 10 + c], -1);
            }
        }
    /* scale 2 averages 2×2 blocks: top-left block mean = (1+1+0+1)/4 = .75 → level 3 of 5 (round 3.0) */
    img_render(img, 1, 4, 4, 1, 1, 2, 10, 5, 5, top, bot);
    assert_int_equal(top[0], 3);                  /* rows 0-1, cols 0-1 */
    assert_int_equal(top[1], 1);                  /* rows 0-1, cols 2-3: .25 → 1 */
    assert_int_equal(bot[0], 1);                  /* rows 2-3, cols 0-1: .25 */
    assert_int_equal(bot[1], 2);                  /* rows 2-3, cols 2-3: .5 */
    assert_int_equal(top[2], -1);
    /* two images side by side with one blank column */
    float two[32];
    memcpy(two, img, sizeof img);
    for (int i = 0; i < 16; i++) two[16 + i] = 1.0f - img[i];
    assert_int_equal(img_grid_fit(2, 4, 4, 9, 2, &gc, &gr, &scale, &iw, &ih), 2);
    assert_int_equal(gc, 2);
    assert_int_equal(gr, 1);
    img_render(two, 2, 4, 4, gc, gr, scale, 9, 2, 2, top, bot);
    assert_int_equal(top[4], -1);                 /* the gap */
    assert_int_equal(top[5], 0);                  /* 1 - 1 */
    assert_int_equal(bot[5], 1);                  /* 1 - 0 */
    /* MNIST 28×28 × 16 at 120×40: full resolution, 4 per row, 2 rows */
    assert_int_equal(img_grid_fit(16, 28, 28, 120, 40, &gc, &gr, &scale, &iw, &ih), 8);
    assert_int_equal(scale, 1);
    assert_int_equal(gc, 4);
    assert_int_equal(ih, 14);
    /* a small panel downsamples: 50×12 cells can't hold 4 at scale 1 */
    assert_true(img_grid_fit(16, 28, 28, 50, 12, &gc, &gr, &scale, &iw, &ih) >= 4);
    assert_true(scale >= 2);
    assert_int_equal(img_grid_fit(16, 28, 28, 3, 1, &gc, &gr, &scale, &iw, &ih), 0);
}

static void test_graph_place(void **state)
{
    (void)state;
    /* corners of the unit square on 20×10 cells span the whole grid (2:1 cells) */
    float x[4] = { 0, 1, 0, 1 }, y[4] = { 0, 0, 1, 1 };
    int cell[4];
    assert_int_equal(graph_place(4, x, y, 20, 10, cell), 0);
    assert_int_equal(cell[0], 0);
    assert_int_equal(cell[1], 19);
    assert_int_equal(cell[2], 9 * 20);
    assert_int_equal(cell[3], 9 * 20 + 19);
    /* a wide area keeps the aspect: centred horizontally */
    assert_int_equal(graph_place(4, x, y, 60, 10, cell), 0);
    assert_int_equal(cell[0] % 60, 20);
    assert_int_equal(cell[1] % 60, 39);
    assert_int_equal(graph_place(4, x, y, 0, 10, cell), -1);

    /* a real Chimera C(2,2,4): on a big grid every qubit has its own cell, inside the area, and
     * the order of x coordinates is kept */
    struct graph *g = graph_chimera(2, 2, 4);
    assert_non_null(g);
    int *c = calloc((size_t)g->nv, sizeof(int));
    assert_int_equal(graph_place(g->nv, g->x, g->y, 128, 64, c), 0);
    for (int i = 0; i < g->nv; i++) {
        assert_true(c[i] >= 0 && c[i] < 128 * 64);
        for (int j = i + 1; j < g->nv; j++) {
            assert_true(c[i] != c[j]);
            if (g->x[i] < g->x[j]) assert_true(c[i] % 128 <= c[j] % 128);
        }
    }
    free(c);
    graph_free(g);

    /* Bernoulli grid: 10 units → 4 columns × 3 rows, two character columns per unit */
    int gcell[10];
    assert_int_equal(grid_place(10, 20, 5, gcell), 0);
    assert_int_equal(gcell[0], 1 * 20 + 6);
    assert_int_equal(gcell[1], 1 * 20 + 8);
    assert_int_equal(gcell[4], 2 * 20 + 6);
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++)
            assert_true(gcell[i] != gcell[j]);
    /* too many units for the area: still inside */
    int many[400];
    assert_int_equal(grid_place(400, 10, 5, many), 0);
    for (int i = 0; i < 400; i++)
        assert_true(many[i] >= 0 && many[i] < 50);
}

/* Text fitting by terminal columns (tui_draw.c): "…" is 3 bytes and 1 column, CJK 2 columns,
 * a character never split. */
static void test_text_fit(void **state)
{
    (void)state;
    if (!setlocale(LC_CTYPE, "C.UTF-8")) skip();
    assert_int_equal(tui_fit_bytes("a\xe2\x80\xa6" "b", 1), 1);
    assert_int_equal(tui_fit_bytes("a\xe2\x80\xa6" "b", 2), 4);
    assert_int_equal(tui_fit_bytes("a\xe2\x80\xa6" "b", 9), 5);
    assert_int_equal(tui_fit_bytes("\xe6\x97\xa5\xe6\x9c\xac", 3), 3);   /* 日本: one fits */
    assert_int_equal(tui_fit_bytes("x", 0), 0);
    assert_int_equal(tui_text_width("a\xe2\x80\xa6" "b"), 3);
    assert_int_equal(tui_text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);
    setlocale(LC_CTYPE, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_braille_bits),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_ema),
        cmocka_unit_test(test_colors),
        cmocka_unit_test(test_halfblock),
        cmocka_unit_test(test_graph_place),
        cmocka_unit_test(test_text_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
