/* test_tui_race.c — commands typed while a job runs (the TUI's job rules, ui/tui_job.c) against
 * the worker that changes the same state: `sampler info`, `schedule show`, `model info` and
 * `data info` run in a loop on this thread while a worker runs `tour` (which frees the sampler
 * with `sampler use sqa|gibbs` and rewrites the schedule) and `train`.  `make tsan` builds this
 * with ThreadSanitizer, where any data race or use-after-free fails the run; here we check that
 * every command ran whole and the job succeeded.  A job that reaches no safe point makes a
 * state command fail with one error line after the wait, while flag commands (echo, train
 * pause|resume) still run at once; a paused job hands the state over while it waits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui_priv.h"
#include "cmd.h"
#include "sampler.h"

/* A sink that counts lines (any thread). */
struct tally {
    pthread_mutex_t mu;
    long sampler_hdr;     /* "sampler NAME — summary" (sampler info) */
    long sched_limits;    /* "limits: …" (schedule show) */
    long model_lines, data_lines, errors, failed_steps, epochs;
    char last_error[512];
};

static void tally_log(void *ud, enum qv_level level, const char *line)
{
    struct tally *t = ud;
    pthread_mutex_lock(&t->mu);
    if (!strncmp(line, "sampler ", 8) && strstr(line, " \xe2\x80\x94 ")) t->sampler_hdr++;
    if (!strncmp(line, "limits: ", 8)) t->sched_limits++;
    if (!strncmp(line, "model: ", 7)) t->model_lines++;
    if (!strncmp(line, "data: ", 6) || !strncmp(line, "dataset ", 8)) t->data_lines++;
    if (strstr(line, "did not work here")) t->failed_steps++;
    if (!strncmp(line, "epoch ", 6)) t->epochs++;
    if (level == QV_LOG_ERROR) {
        t->errors++;
        snprintf(t->last_error, sizeof t->last_error, "%s", line);
    }
    pthread_mutex_unlock(&t->mu);
}

static void tally_event(void *ud, const struct qv_event *ev) { (void)ud; (void)ev; }

struct job { struct qv_app *app; const char *line; int rc; atomic_int done; };

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct tui_snapshot *snap = NULL;
    j->rc = tui_job_body(j->app, j->line, false, &snap);
    tui_snapshot_free(snap);
    atomic_store(&j->done, 1);
    return NULL;
}

static void setup_app(struct qv_app *app, struct tally *ty)
{
    memset(ty, 0, sizeof *ty);
    pthread_mutex_init(&ty->mu, NULL);
    app_init(app, &qv_workbench);
    app->sink.log = tally_log;
    app->sink.event = tally_event;
    app->sink.ud = ty;
}

static int run_locked(struct qv_app *app, const char *line, double wait)
{
    struct tui_line_kind k;
    assert_int_equal(tui_line_classify(line, &k), 0);
    assert_true(k.all_while);       /* the TUI accepts these during a job */
    return tui_run_during_job(app, line, &k, wait);
}

static void test_info_while_tour_and_train(void **state)
{
    (void)state;
    struct qv_app app;
    struct tally ty;
    setup_app(&app, &ty);
    /* a small data split keeps the tour's 3 epochs short (no sampler yet: the first
     * `sampler info` and the tour's training race to create the default one) */
    if (cmd_run_line(&app, "seed 3; data load mnist", false) != 0) {
        app_free(&app);
        skip();   /* no MNIST here */
    }
    assert_int_equal(cmd_run_line(&app, "data split 300 100 100; prior new chimera 1 1 4; "
                                        "model new --hidden 16", false), 0);
    struct job j = {.app = &app, .line = "tour --pause 0; train 1"};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, job_main, &j), 0);
    long rounds = 0;
    while (!atomic_load(&j.done)) {
        assert_int_equal(run_locked(&app, "sampler info; schedule show", 30), 0);
        assert_int_equal(run_locked(&app, "model info; data info; sampler list", 30), 0);
        rounds++;
        struct timespec ts = {0, 20 * 1000 * 1000};   /* faster than anyone types */
        nanosleep(&ts, NULL);
    }
    pthread_join(th, NULL);
    assert_int_equal(j.rc, 0);
    assert_true(rounds >= 3);   /* the loop overlapped the job */
    assert_int_equal(ty.failed_steps, 0);
    assert_int_equal(ty.epochs, 3 + 1);
    assert_true(ty.sampler_hdr >= rounds);   /* every `sampler info` printed its header */
    assert_true(ty.sched_limits >= rounds);  /* … and every `schedule show` its limits */
    assert_int_equal(ty.errors, 0);
    assert_non_null(app.st.sampler);
    assert_string_equal(app.st.sampler->vt->name, "gibbs");   /* the tour restores it */
    app_free(&app);
}

/* A paused job hands over the state while it waits: commands run at once, then `train stop`
 * ends it early. */
static void test_paused_job_yields(void **state)
{
    (void)state;
    struct qv_app app;
    struct tally ty;
    setup_app(&app, &ty);
    if (cmd_run_line(&app, "seed 4; data load mnist", false) != 0) {
        app_free(&app);
        skip();
    }
    assert_int_equal(cmd_run_line(&app, "data split 300 100 100; prior new chimera 1 1 4; "
                                        "model new --hidden 16", false), 0);
    struct job j = {.app = &app, .line = "train 200"};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, job_main, &j), 0);
    for (;;) {   /* training under way (train clears pause and cancel when it starts) */
        pthread_mutex_lock(&ty.mu);
        long e = ty.epochs;
        pthread_mutex_unlock(&ty.mu);
        if (e >= 1 || atomic_load(&j.done)) break;
        sched_yield();
    }
    assert_false(atomic_load(&j.done));
    assert_int_equal(run_locked(&app, "train pause", 1), 0);
    assert_int_equal(run_locked(&app, "sampler info", 30), 0);   /* the step in flight ends */
    pthread_mutex_lock(&ty.mu);
    long paused_at = ty.epochs;
    pthread_mutex_unlock(&ty.mu);
    for (int i = 0; i < 5; i++)   /* a paused job that kept the lock would time these out */
        assert_int_equal(run_locked(&app, "sampler info; model info", 2), 0);
    pthread_mutex_lock(&ty.mu);
    assert_int_equal(ty.epochs, paused_at);   /* and it stayed paused */
    pthread_mutex_unlock(&ty.mu);
    assert_int_equal(run_locked(&app, "train stop", 1), 0);
    pthread_join(th, NULL);
    assert_true(ty.epochs < 200);
    assert_true(ty.sampler_hdr >= 5);
    assert_int_equal(ty.errors, 0);
    app_free(&app);
}

/* A job holding the state without a safe point: a state command waits, then fails with one
 * error line and changes nothing; flag commands run at once. */
struct holder { struct qv_app *app; atomic_int go, release; };

static void *hold_main(void *arg)
{
    struct holder *h = arg;
    app_job_begin(h->app);
    atomic_store(&h->go, 1);
    while (!atomic_load(&h->release)) {   /* busy, never at a safe point */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    app_job_end(h->app);
    return NULL;
}

static void test_busy_job(void **state)
{
    (void)state;
    struct qv_app app;
    struct tally ty;
    setup_app(&app, &ty);
    struct holder h = {.app = &app};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, hold_main, &h), 0);
    while (!atomic_load(&h.go)) sched_yield();
    assert_int_equal(run_locked(&app, "echo hello; train pause; train resume", 0.2), 0);
    assert_int_equal(atomic_load(&app.pause), 0);
    assert_int_equal(ty.errors, 0);
    assert_int_equal(run_locked(&app, "sampler info", 0.2), -1);
    assert_int_equal(ty.errors, 1);
    assert_non_null(strstr(ty.last_error, "sampler: the running job is busy"));
    assert_null(app.st.sampler);   /* nothing ran */
    assert_int_equal(ty.sampler_hdr, 0);
    atomic_store(&h.release, 1);
    pthread_join(th, NULL);
    /* the job over, the same command runs */
    assert_int_equal(run_locked(&app, "sampler info", 0.2), 0);
    assert_int_equal(ty.sampler_hdr, 1);
    app_free(&app);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_job),
        cmocka_unit_test(test_paused_job_yields),
        cmocka_unit_test(test_info_while_tour_and_train),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
