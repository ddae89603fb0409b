/* app.c — workbench state lifetime, the state lock, and the output sink.  The modules that put
 * objects into the state are listed by the front end (modules.c), not known here. */
#include "app.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void default_log(void *ud, enum qv_level level, const char *line)
{
    FILE *f = level == QV_LOG_ERROR || level == QV_LOG_WARN ? stderr : stdout;
    if (level == QV_LOG_ERROR) fputs("error: ", f);
    else if (level == QV_LOG_WARN) fputs("warning: ", f);
    fputs(line, f);
    fputc('\n', f);
    fflush(f);
}

static void state_defaults(struct qv_state *st)
{
    memset(st, 0, sizeof *st);
    st->seed = 1;
}

void app_init(struct qv_app *app, const struct qv_registry *reg)
{
    memset(app, 0, sizeof *app);
    app->reg = reg;
    state_defaults(&app->st);
    app->sink.log = default_log;
    snprintf(app->session_name, sizeof app->session_name, "scratch");
    const char *e = getenv("QVAE_SESSIONS");
    if (e && *e) snprintf(app->session_dir, sizeof app->session_dir, "%s", e);
    else snprintf(app->session_dir, sizeof app->session_dir, "%s/sessions", qv_home());
    atomic_store(&app->cancel, 0);
    atomic_store(&app->pause, 0);
    pthread_mutex_init(&app->st_lock, NULL);
    atomic_store(&app->job_active, false);
    atomic_store(&app->st_waiting, 0);
    atomic_store(&app->st_reclaim, false);
}

void app_state_free(struct qv_app *app, struct qv_state *st)
{
    /* Free in reverse load order: dependants before what they depend on. */
    const struct qv_module *const *m = app->reg ? app->reg->modules : NULL;
    int n = 0;
    while (m && m[n]) n++;
    for (int i = n - 1; i >= 0; i--)
        if (m[i]->free) m[i]->free(st);
    state_defaults(st);
}

void app_free(struct qv_app *app)
{
    app_state_free(app, &app->st);
    if (app->reg && app->reg->teardown) app->reg->teardown(app);   /* outside sessions */
    pthread_mutex_destroy(&app->st_lock);
}

/* ---- the state lock ---- */

void app_job_begin(struct qv_app *app)
{
    pthread_mutex_lock(&app->st_lock);
    app->job_owner = pthread_self();
    atomic_store(&app->job_active, true);   /* publishes job_owner */
}

void app_job_end(struct qv_app *app)
{
    atomic_store(&app->job_active, false);
    pthread_mutex_unlock(&app->st_lock);
}

int app_state_lock(struct qv_app *app, double timeout)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);   /* pthread_mutex_timedlock's clock */
    double whole = floor(timeout);
    dl.tv_sec += (time_t)whole;
    dl.tv_nsec += (long)((timeout - whole) * 1e9);
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    while (atomic_load(&app->st_reclaim))   /* the job is taking its turn back: let it */
        sched_yield();
    atomic_fetch_add(&app->st_waiting, 1);
    int rc = pthread_mutex_timedlock(&app->st_lock, &dl);
    atomic_fetch_sub(&app->st_waiting, 1);
    if (rc == ETIMEDOUT) return qv_seterr("the running job is busy (no safe point for %g s); try again", timeout);
    if (rc) return qv_seterr("state lock: %s", strerror(rc));
    return 0;
}

void app_state_unlock(struct qv_app *app)
{
    pthread_mutex_unlock(&app->st_lock);
}

/* A safe point of the job: when another thread waits for the state, hand it the lock and take
 * it back once that thread is done.  Only the job's own thread yields (helper threads of
 * qv_parallel also poll qv_cancelled, and do not hold the lock). */
static void job_yield(struct qv_app *app)
{
    if (!app || !atomic_load(&app->job_active) || atomic_load(&app->st_waiting) == 0) return;
    if (!pthread_equal(app->job_owner, pthread_self())) return;
    pthread_mutex_unlock(&app->st_lock);
    while (atomic_load(&app->st_waiting) > 0)   /* the waiter has the lock (or gave up) … */
        sched_yield();
    /* … and we wait for it to finish; a waiter arriving now lets us go first, so that a
     * front end asking in a loop cannot starve the job */
    atomic_store(&app->st_reclaim, true);
    pthread_mutex_lock(&app->st_lock);
    atomic_store(&app->st_reclaim, false);
}

/* ---- output ---- */

static void sink_log(struct qv_app *app, enum qv_level level, const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    /* one call per line so front ends can keep a line-oriented log */
    char *p = buf;
    for (;;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (app && app->sink.log) app->sink.log(app->sink.ud, level, p);
        else default_log(NULL, level, p);
        if (!nl) break;
        p = nl + 1;
        if (!*p) break;
    }
}

void qv_printf(struct qv_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sink_log(app, QV_LOG_INFO, fmt, ap);
    va_end(ap);
}

void qv_warn(struct qv_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sink_log(app, QV_LOG_WARN, fmt, ap);
    va_end(ap);
}

int qv_error(struct qv_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sink_log(app, QV_LOG_ERROR, fmt, ap);
    va_end(ap);
    return -1;
}

int qv_fail(struct qv_app *app)
{
    return qv_error(app, "%s", qv_errmsg());
}

void qv_emit(struct qv_app *app, const struct qv_event *ev)
{
    job_yield(app);
    if (app && app->sink.event) app->sink.event(app->sink.ud, ev);
}

void qv_progress(struct qv_app *app, const char *job, double done, double total, const char *unit)
{
    struct qv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = QV_EV_PROGRESS;
    ev.job = job;
    ev.done = done;
    ev.total = total;
    ev.unit = unit;
    qv_emit(app, &ev);
}

bool qv_cancelled(struct qv_app *app)
{
    job_yield(app);
    return app && atomic_load(&app->cancel) != 0;
}

bool qv_wait_if_paused(struct qv_app *app)
{
    job_yield(app);
    while (app && atomic_load(&app->pause) && !atomic_load(&app->cancel)) {
        job_yield(app);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return qv_cancelled(app);
}
