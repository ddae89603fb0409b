/* test_tui_sched.c — the schedule editor's key handling without a terminal: keys select and
 * move points and insert a pause as `schedule …` command lines, each change is validated at once
 * (the violated rule and the offending segment/point are what the panel paints red), edits are
 * refused while a job runs, and Esc leaves the editor.  Truth: the documented rules of
 * schedule.h (final s = 1, slope ≤ 1/min_annealing_time) and hand-computed point lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui_priv.h"
#include "solver.h"

static const char *last_log(const struct tui *t)
{
    return t->log_n ? t->log[(t->log_head + t->log_n - 1) % TUI_LOG_CAP].text : "";
}

static void test_editor(void **state)
{
    (void)state;
    struct qv_app app;
    app_init(&app, &qv_workbench);
    app.st.schedule = sched_new();
    assert_int_equal(sched_forward(app.st.schedule, 20), 0);
    struct tui *t = calloc(1, sizeof *t);
    t->app = &app;
    t->sched_edit = true;
    tui_refresh_snapshot(t);
    assert_non_null(t->snap);
    assert_true(t->snap->have_sched);
    assert_int_equal(t->snap->sched.n, 2);
    assert_int_equal(t->sched_nviol, 0);

    /* select the last point and lower it: the final-s rule fails at that point */
    assert_true(panel_sched_key(t, KEY_RIGHT));
    assert_int_equal(t->sched_sel, 1);
    assert_true(panel_sched_key(t, KEY_DOWN));
    assert_int_equal(strncmp(last_log(t), "> schedule move 1 20 0.9", 24), 0);
    assert_float_equal(app.st.schedule->pt[1].s, 0.95, 1e-12);
    assert_float_equal(t->snap->sched.pt[1].s, 0.95, 1e-12);   /* the panel sees the edit */
    assert_true(t->sched_nviol > 0);
    assert_int_equal(strncmp(t->sched_rule, "final-s", 7), 0);
    if (!strstr(t->msg, "final-s")) fail_msg("msg: [%s] rule: [%s]", t->msg, t->sched_rule);   /* also in the status line */
    assert_true(t->msg_error);
    assert_true(t->sched_bad_pt == 1 || t->sched_bad_seg == 0);
    assert_true(panel_sched_key(t, KEY_UP));
    assert_int_equal(t->sched_nviol, 0);
    assert_string_equal(t->sched_rule, "");
    assert_non_null(strstr(t->msg, "schedule valid"));
    assert_false(t->msg_error);

    /* a pause at s = 0.5 (the selected point has s = 0) lasting T/4 = 5 µs */
    assert_true(panel_sched_key(t, KEY_LEFT));
    assert_int_equal(t->sched_sel, 0);
    assert_true(panel_sched_key(t, 'p'));
    /* every edit is a command line, logged as typed ones are */
    assert_int_equal(strncmp(last_log(t), "> schedule pause 0.5 5", 22), 0);
    const struct sched *s = &t->snap->sched;
    assert_int_equal(s->n, 4);
    assert_float_equal(s->pt[1].t, 10, 1e-9);
    assert_float_equal(s->pt[1].s, 0.5, 1e-12);
    assert_float_equal(s->pt[2].t, 15, 1e-9);
    assert_float_equal(s->pt[2].s, 0.5, 1e-12);
    assert_float_equal(s->pt[3].t, 25, 1e-9);
    assert_int_equal(t->sched_nviol, 0);

    /* a segment steeper than the default limit is reported with its index */
    struct sched_point steep[4] = { { 0, 0 }, { 10, 0.2 }, { 10.05, 0.9 }, { 20, 1 } };
    assert_int_equal(sched_set_points(app.st.schedule, steep, 4), 0);
    tui_refresh_snapshot(t);
    assert_true(t->sched_nviol > 0);
    assert_int_equal(strncmp(t->sched_rule, "slope", 5), 0);
    assert_int_equal(t->sched_bad_seg, 1);

    /* while a job runs the schedule is not touched */
    t->job_running = true;
    assert_true(panel_sched_key(t, KEY_UP));
    assert_float_equal(app.st.schedule->pt[t->sched_sel].s, steep[t->sched_sel].s, 0);
    assert_non_null(strstr(t->msg, "job is running"));
    t->job_running = false;

    /* Esc leaves the editor; then keys are not the editor's */
    assert_true(panel_sched_key(t, 27));
    assert_false(t->sched_edit);
    assert_false(panel_sched_key(t, KEY_UP));

    /* no schedule: a clear message instead of a crash */
    sched_free(app.st.schedule);
    app.st.schedule = NULL;
    tui_refresh_snapshot(t);
    assert_false(t->snap->have_sched);
    t->sched_edit = true;
    assert_true(panel_sched_key(t, 'x'));
    assert_non_null(strstr(t->msg, "none yet"));

    /* a refused edit shows the command's own error */
    app.st.schedule = sched_new();
    assert_int_equal(sched_forward(app.st.schedule, 20), 0);
    tui_refresh_snapshot(t);
    t->sched_sel = 0;
    assert_true(panel_sched_key(t, 'x'));
    assert_non_null(strstr(t->msg, "schedule del: a schedule needs at least 2 points"));
    assert_true(t->msg_error);

    tui_snapshot_free(t->snap);
    solver_free(t->sched_sp);
    for (long i = 0; i < t->log_n; i++)
        free(t->log[(t->log_head + i) % TUI_LOG_CAP].text);
    free(t);
    app_free(&app);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_editor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
