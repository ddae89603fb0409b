/* test_tui_layout.c — the workbench layout at many terminal sizes: every visible panel inside
 * the screen, no two panels overlapping, each visible panel at least its minimum size, the
 * command line on the last row, a "too small" result below the minimum, and panel-name lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "layout.h"
#include "cmd.h"

static void check_layout(int rows, int cols, int focus)
{
    struct layout lo;
    int rc = layout_compute(rows, cols, focus, &lo);
    if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
        assert_int_equal(rc, -1);
        assert_true(lo.too_small);
        return;
    }
    assert_int_equal(rc, 0);
    assert_false(lo.too_small);
    int visible = 0;
    for (int p = 0; p < PANEL_N; p++) {
        const struct rect *r = &lo.r[p];
        if (!rect_visible(r))
            continue;
        visible++;
        assert_true(r->x >= 0 && r->y >= 0);
        assert_true(r->x + r->w <= cols);
        assert_true(r->y + r->h <= rows);
        int mh, mw;
        layout_min_size(p, &mh, &mw);
        if (r->h < mh || r->w < mw)
            fail_msg("%dx%d focus %d: panel %s is %dx%d, minimum %dx%d", cols, rows, focus,
                     layout_panel_name(p), r->w, r->h, mw, mh);
        for (int q = p + 1; q < PANEL_N; q++)
            if (rect_overlap(r, &lo.r[q]))
                fail_msg("%dx%d focus %d: %s overlaps %s", cols, rows, focus, layout_panel_name(p),
                         layout_panel_name(q));
    }
    /* status on top, command line at the bottom, full width */
    assert_int_equal(lo.r[PANEL_CMD].y, rows - 1);
    assert_int_equal(lo.r[PANEL_CMD].w, cols);
    assert_int_equal(lo.r[PANEL_STATUS].y, 0);
    if (focus == PANEL_OVERVIEW) {
        assert_true(rect_visible(&lo.r[PANEL_LOSS]));
        assert_true(rect_visible(&lo.r[PANEL_LOG]));
        assert_true(rect_visible(&lo.r[PANEL_DIGITS]));
        assert_true(visible >= 5);
    } else if (focus != PANEL_STATUS && focus != PANEL_CMD) {
        assert_true(rect_visible(&lo.r[focus]));
    }
}

static void test_many_sizes(void **state)
{
    (void)state;
    int focuses[] = { PANEL_OVERVIEW, PANEL_LOSS, PANEL_LATENT, PANEL_DIGITS, PANEL_SCHED, PANEL_LOG };
    for (int rows = 1; rows <= 120; rows += (rows < 30 ? 1 : 7))
        for (int cols = 1; cols <= 300; cols += (cols < 130 ? 1 : 13))
            for (size_t f = 0; f < sizeof focuses / sizeof focuses[0]; f++)
                check_layout(rows, cols, focuses[f]);
}

static void test_full_area_used(void **state)
{
    (void)state;
    /* 120x40 overview: panels tile the whole screen (every cell belongs to exactly one panel) */
    struct layout lo;
    assert_int_equal(layout_compute(40, 120, PANEL_OVERVIEW, &lo), 0);
    long area = 0;
    for (int p = 0; p < PANEL_N; p++)
        if (rect_visible(&lo.r[p]))
            area += (long)lo.r[p].h * lo.r[p].w;
    assert_int_equal(area, 40L * 120);
    /* all five content panels at 120x40 */
    assert_true(rect_visible(&lo.r[PANEL_SCHED]));
    assert_true(rect_visible(&lo.r[PANEL_LATENT]));
    /* focused digits take the width, with a log strip */
    assert_int_equal(layout_compute(40, 120, PANEL_DIGITS, &lo), 0);
    assert_int_equal(lo.r[PANEL_DIGITS].w, 120);
    assert_true(rect_visible(&lo.r[PANEL_LOG]));
    assert_false(rect_visible(&lo.r[PANEL_LOSS]));
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(layout_panel_lookup("loss"), PANEL_LOSS);
    assert_int_equal(layout_panel_lookup("sched"), PANEL_SCHED);
    assert_int_equal(layout_panel_lookup("schedule"), PANEL_SCHED);
    assert_int_equal(layout_panel_lookup("dig"), PANEL_DIGITS);
    assert_int_equal(layout_panel_lookup("all"), PANEL_OVERVIEW);
    assert_int_equal(layout_panel_lookup("overview"), PANEL_OVERVIEW);
    assert_int_equal(layout_panel_lookup("l"), -2);        /* loss, latent, log: ambiguous */
    assert_int_equal(layout_panel_lookup("nosuch"), -2);
    assert_string_equal(layout_panel_name(PANEL_LATENT), "latent");
    /* the panel ids follow the view command's list, so names and ids agree both ways */
    for (int p = PANEL_LOSS; p <= PANEL_LOG; p++) {
        assert_string_equal(layout_panel_name(p), cmd_view_panels[p]);
        assert_int_equal(layout_panel_lookup(cmd_view_panels[p]), p);
    }
    assert_null(cmd_view_panels[PANEL_LOG + 1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_sizes),
        cmocka_unit_test(test_full_area_used),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
