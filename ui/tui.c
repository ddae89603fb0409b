/* tui.c — the curses workbench's core: the engine's output arrives through a sink that copies it
 * into a queue the UI thread drains (tui_queue.c), long commands run on a worker thread, and
 * the main loop ties terminal input, the queue and redrawing together.  Only this thread
 * touches curses and readline.  Around it: tui_keys.c (key bindings → command lines),
 * tui_rl.c (readline as the line editor), tui_screen.c (drawing), panel_*.c (the panels),
 * layout.c (where they go), plot*.c (pure rendering).
 *
 * Loop: poll(stdin, queue pipe) with a short timeout → drain events into the panels' data →
 * handle keys (readline, panel keys, F-keys) → redraw at most every 50 ms (the command line is
 * redrawn at once on every key).  Ctrl-C (SIGINT) sets app->cancel for a running job, or clears
 * the line. */
#include "tui.h"
#include "tui_priv.h"
#include "cmd.h"
#include "frontend.h"
#include "solver.h"

#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TUI_FRAME 0.05   /* seconds between full redraws (≤ 20 per second) */
#define TUI_DEFAULT_STARTUP "data load mnist; prior new chimera 2 2 4; model new --hidden 200; data show 16"

static volatile sig_atomic_t g_sigint, g_sigterm;
static int g_sig_wake = -1;

/* --- small UI-thread helpers ------------------------------------------------------------- */

static void log_append(struct tui *t, enum qv_level level, const char *text)
{
    if (t->log_n == TUI_LOG_CAP) {
        free(t->log[t->log_head].text);
        t->log_head = (t->log_head + 1) % TUI_LOG_CAP;
        t->log_n--;
    }
    long i = (t->log_head + t->log_n) % TUI_LOG_CAP;
    char *s = qv_strdup(text);
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    t->log[i].level = level;
    t->log[i].text = s;
    t->log_n++;
    if (level == QV_LOG_ERROR)
        tui_set_msg(t, true, "%s", s);
    t->dirty = true;
}

void tui_log(struct tui *t, enum qv_level level, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_append(t, level, buf);
}

void tui_set_msg(struct tui *t, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->msg_error = error;
    t->dirty = true;
}

void tui_refresh_snapshot(struct tui *t)
{
    if (t->job_running)   /* the worker may be changing app->st: wait for its snapshot */
        return;
    tui_snapshot_free(t->snap);
    t->snap = tui_snapshot_take(t->app);
    panel_sched_validate(t);
    t->dirty = true;
}

/* --- sink (any thread) ------------------------------------------------------------------- */

static void sink_log(void *ud, enum qv_level level, const char *line)
{
    struct tui *t = ud;
    tq_push_log(&t->q, level, line);
}

static void sink_event(void *ud, const struct qv_event *ev)
{
    struct tui *t = ud;
    if (ev->kind == QV_EV_STATE) {
        /* snapshot on the emitting thread: it is the one changing the state */
        tq_push_snapshot(&t->q, tui_snapshot_take(t->app));
        return;
    }
    tq_push_event(&t->q, ev);
}

/* --- jobs -------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct tui *t = arg;
    struct tui_snapshot *snap = NULL;
    int rc = tui_job_body(t->app, t->job_line, t->job_keep_going, &snap);
    tq_push_snapshot(&t->q, snap);
    tq_push_jobend(&t->q, rc);
    return NULL;
}

static void start_job(struct tui *t, const char *line, const char *name, bool keep_going)
{
    free(t->job_line);
    t->job_line = qv_strdup(line);
    t->job_keep_going = keep_going;
    if (name) {
        snprintf(t->job_name, sizeof t->job_name, "%s", name);
    } else {
        size_t k = strspn(line, " \t");
        size_t e = strcspn(line + k, " \t;");
        snprintf(t->job_name, sizeof t->job_name, "%.*s", (int)(e < 31 ? e : 31), line + k);
    }
    atomic_store(&t->app->cancel, 0);
    atomic_store(&t->app->pause, 0);
    t->prog_active = false;
    /* signals (Ctrl-C, resize) must reach the UI thread, not the worker */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&t->job_thread, NULL, worker_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        tui_log(t, QV_LOG_ERROR, "%s: cannot start a worker thread: %s", t->job_name, strerror(rc));
        return;
    }
    t->job_running = true;
    t->dirty = true;
}

static void job_finished(struct tui *t, int rc)
{
    if (!t->job_running)
        return;
    pthread_join(t->job_thread, NULL);
    t->job_running = false;
    t->prog_active = false;
    bool cancelled = atomic_load(&t->app->cancel) != 0;
    atomic_store(&t->app->cancel, 0);
    atomic_store(&t->app->pause, 0);
    if (!strcmp(t->job_name, "startup")) {
        tui_log(t, QV_LOG_INFO, "Ready. Try  train 5  (live loss curves and digits),  sample 16,  "
                                "schedule forward 20  then F6 to edit it,  tour,  help  (F1: keys).");
    } else if (cancelled) {
        tui_set_msg(t, false, "%s stopped", t->job_name);
    } else if (rc == 0 || rc == CMD_QUIT) {
        tui_set_msg(t, false, "%s done", t->job_name);
    }
    if (rc == CMD_QUIT)
        t->quit = true;
    if (t->quit_after_job)
        t->quit = true;
    t->dirty = true;
}

static void request_quit(struct tui *t)
{
    if (t->job_running) {
        atomic_store(&t->app->cancel, 1);
        atomic_store(&t->app->pause, 0);
        t->quit_after_job = true;
        tui_set_msg(t, false, "stopping %s, then quitting…", t->job_name);
    } else {
        t->quit = true;
    }
}

/* Decide where a typed line runs: long commands on the worker, the rest here; while a job
 * runs only CMD_WHILEJOB commands are accepted. */
static void dispatch(struct tui *t, const char *line)
{
    struct qv_app *app = t->app;
    struct tui_line_kind k;
    if (tui_line_classify(line, &k) < 0) {
        qv_error(app, "%s", qv_errmsg());
        return;
    }
    if (k.empty)
        return;
    if (t->job_running) {
        if (k.has_quit) { request_quit(t); return; }
        if (!k.all_while) {
            qv_error(app, "%s: wait for the running %s to finish, or stop it with Ctrl-C / train stop "
                          "(meanwhile: train pause|resume|stop, view, help)", k.blocked, t->job_name);
            return;
        }
        if (tui_run_during_job(app, line, &k, TUI_STATE_WAIT) == CMD_QUIT)
            request_quit(t);
        return;
    }
    if (k.is_long) {
        start_job(t, line, NULL, false);
        return;
    }
    atomic_store(&app->cancel, 0);
    int rc = cmd_run_line(app, line, false);
    if (rc == CMD_QUIT)
        t->quit = true;
    tui_refresh_snapshot(t);
}

void tui_dispatch(struct tui *t, const char *line) { dispatch(t, line); }
void tui_request_quit(struct tui *t) { request_quit(t); }

/* --- applying queued output -------------------------------------------------------------- */

static void apply_event(struct tui *t, struct tq_item *it)
{
    struct qv_event *ev = &it->ev;
    double now = qv_now();
    switch (ev->kind) {
    case QV_EV_PROGRESS: {
        const char *job = ev->job ? ev->job : "";
        if (!t->prog_active || strcmp(job, t->prog_job) != 0 || ev->done < t->prog_dlast) {
            snprintf(t->prog_job, sizeof t->prog_job, "%s", job);
            t->prog_t0 = t->prog_tlast = now;
            t->prog_dlast = ev->done;
            t->prog_rate = 0;
        } else if (now - t->prog_tlast >= 0.25) {
            double inst = (ev->done - t->prog_dlast) / (now - t->prog_tlast);
            t->prog_rate = t->prog_rate > 0 ? 0.6 * t->prog_rate + 0.4 * inst : inst;
            t->prog_tlast = now;
            t->prog_dlast = ev->done;
        }
        snprintf(t->prog_unit, sizeof t->prog_unit, "%s", ev->unit ? ev->unit : "");
        t->prog_done = ev->done;
        t->prog_total = ev->total;
        t->prog_active = t->job_running;
        break;
    }
    case QV_EV_METRICS:
        tui_metrics_add(&t->met, &ev->m);
        break;
    case QV_EV_ACTIVITY:
        if (it->values && ev->n > 0) {
            free(t->act); free(t->act_mean);
            t->act = it->values; it->values = NULL;
            t->act_mean = it->values2; it->values2 = NULL;
            t->act_n = ev->n;
            t->act_active = ev->ival;
        }
        break;
    case QV_EV_IMAGES:
        if (it->values && ev->n > 0) {
            free(t->img);
            t->img = it->values; it->values = NULL;
            t->img_n = ev->n; t->img_h = ev->h; t->img_w = ev->w;
            snprintf(t->img_title, sizeof t->img_title, "%s", ev->job ? ev->job : "");
            t->img_seq++;
        }
        break;
    case QV_EV_HIST:   /* a comparison finished: its histograms take the screen */
        if (it->values && ev->n > 0 && ev->w > 0) {
            free(t->hist);
            t->hist = it->values; it->values = NULL;
            t->hist_sets = ev->n; t->hist_bins = ev->w;
            t->hist_lo = ev->done; t->hist_hi = ev->total;
            snprintf(t->hist_names, sizeof t->hist_names, "%s", ev->unit ? ev->unit : "");
            snprintf(t->hist_title, sizeof t->hist_title, "%s", ev->job ? ev->job : "");
            if (!t->sched_edit) t->focus = PANEL_HIST;
        }
        break;
    case QV_EV_SAMPLER:
        t->beta_eff = ev->beta_eff;
        t->beta_err = ev->beta_err;
        t->qpu = ev->qpu;
        break;
    case QV_EV_VIEW: {
        int p = layout_panel_lookup(ev->job);   /* -2: keep the focus (`view --toggle …`) */
        if (!t->sched_edit && p != -2)
            t->sched_prev_focus = p == PANEL_SCHED ? t->focus : p;
        if (p != -2 && p != PANEL_STATUS && p != PANEL_CMD)
            t->focus = p;
        bool was_editing = t->sched_edit;
        tui_apply_view_opts(t, ev->unit);
        if (t->sched_edit && !was_editing)
            t->focus = PANEL_SCHED;                 /* view schedule --edit */
        else if (p != PANEL_SCHED && p != -2)
            t->sched_edit = false;                  /* another panel: the editor closes */
        if (t->sched_edit)
            panel_sched_validate(t);
        break;
    }
    default:
        break;
    }
    t->dirty = true;
}

static bool same_first_word(const char *a, const char *b)
{
    size_t la = strcspn(a, " "), lb = strcspn(b, " ");
    return la == lb && !strncmp(a, b, la);
}

static void drain(struct tui *t)
{
    long dropped = 0;
    struct tq_item *it = tq_take_all(&t->q, &dropped);
    while (it) {
        struct tq_item *next = it->next;
        switch (it->kind) {
        case TQ_LOG: log_append(t, it->level, it->text); break;
        case TQ_EVENT: apply_event(t, it); break;
        case TQ_SNAPSHOT:
            if (t->snap && !same_first_word(t->snap->sampler, it->snap->sampler)) {
                /* another sampler: its predecessor's β_eff and QPU timing no longer apply */
                t->beta_eff = t->beta_err = NAN;
                t->qpu.anneal = t->qpu.access = NAN;
            }
            tui_snapshot_free(t->snap);
            t->snap = it->snap;
            it->snap = NULL;
            panel_sched_validate(t);
            t->dirty = true;
            break;
        case TQ_JOBEND: job_finished(t, it->rc); break;
        }
        tq_item_free(it);
        it = next;
    }
    if (dropped)
        tui_log(t, QV_LOG_WARN, "%ld log lines dropped (output faster than the screen)", dropped);
}

/* --- signals ----------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGINT) g_sigint = 1;
    else g_sigterm = 1;
    if (g_sig_wake >= 0) {
        char c = 2;
        ssize_t r = write(g_sig_wake, &c, 1);
        (void)r;
    }
    errno = saved;
}

static void handle_signals(struct tui *t)
{
    if (g_sigint) {
        g_sigint = 0;
        if (t->job_running) {
            atomic_store(&t->app->cancel, 1);
            atomic_store(&t->app->pause, 0);
            tui_set_msg(t, false, "stopping %s…", t->job_name);
        } else {
            tui_rl_reset_line(t);
            tui_set_msg(t, false, "(quit or Ctrl-D leaves qvae)");
        }
        t->dirty = true;
    }
    if (g_sigterm) {
        g_sigterm = 0;
        request_quit(t);
    }
}

/* --- main -------------------------------------------------------------------------------- */

static bool locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
}

/* The handlers replaced while the workbench runs (Ctrl-C and termination only set flags and
 * wake the loop), restored on the way out. */
struct saved_signals { struct sigaction intr, term, hup; };

static void signals_install(struct saved_signals *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old->intr);
    sigaction(SIGTERM, &sa, &old->term);
    sigaction(SIGHUP, &sa, &old->hup);
}

static void signals_restore(const struct saved_signals *old)
{
    sigaction(SIGINT, &old->intr, NULL);
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGHUP, &old->hup, NULL);
    g_sig_wake = -1;
}

static struct tui *tui_new(struct qv_app *app)
{
    struct tui *t = qv_calloc(1, sizeof *t);
    t->app = app;
    t->focus = PANEL_OVERVIEW;
    t->sched_prev_focus = PANEL_OVERVIEW;
    t->beta_eff = t->beta_err = NAN;
    t->qpu.anneal = t->qpu.access = t->qpu.programming = t->qpu.readout = t->qpu.total_real = NAN;
    t->sched_bad_seg = t->sched_bad_pt = -1;
    if (tq_init(&t->q) != 0) {
        free(t);
        return NULL;
    }
    t->utf8 = locale_is_utf8();
    tui_set_ascii(!t->utf8);
    return t;
}

static void tui_free(struct tui *t)
{
    tq_free(&t->q);
    for (long i = 0; i < t->log_n; i++)
        free(t->log[(t->log_head + i) % TUI_LOG_CAP].text);
    tui_metrics_free(&t->met);
    free(t->img);
    free(t->hist);
    free(t->act);
    free(t->act_mean);
    free(t->job_line);
    tui_snapshot_free(t->snap);
    solver_free(t->sched_sp);
    free(t);
}

/* curses on the terminal; NULL for a terminal it cannot drive (unknown, or without cursor
 * addressing), which then gets the plain readline prompt. */
static SCREEN *curses_start(struct tui *t)
{
    set_escdelay(25);
    SCREEN *scr = newterm(NULL, stdout, stdin);
    char *cup = scr ? tigetstr("cup") : NULL;
    if (!scr || !cup || cup == (char *)-1) {
        if (scr) { endwin(); delscreen(scr); }
        return NULL;
    }
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(1);
    tui_colors_init(t);
    return scr;
}

/* poll(stdin, queue pipe) → drain the queue → keys → signals → redraw when due; until quit or
 * the terminal goes away. */
static void main_loop(struct tui *t)
{
    struct pollfd fds[2];
    while (!t->quit) {
        int timeout = 200;
        if (t->dirty) {
            double wait = TUI_FRAME - (qv_now() - t->last_draw);
            timeout = wait > 0 ? (int)(wait * 1000) + 1 : 0;
        }
        fds[0].fd = STDIN_FILENO; fds[0].events = POLLIN; fds[0].revents = 0;
        fds[1].fd = t->q.wake_fd[0]; fds[1].events = POLLIN; fds[1].revents = 0;
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        drain(t);
        bool gone = false;
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            int ch, got = 0;
            while ((ch = getch()) != ERR) {
                tui_handle_key(t, ch);
                got++;
                if (t->quit) break;
            }
            if (!got && (fds[0].revents & (POLLHUP | POLLERR)))
                gone = true;
        } else if (n < 0) {
            /* EINTR: probably SIGWINCH; ncurses reports KEY_RESIZE through getch */
            int ch;
            while ((ch = getch()) != ERR)
                tui_handle_key(t, ch);
        }
        handle_signals(t);   /* after the keys typed before Ctrl-C */
        if (gone) {   /* the terminal went away */
            request_quit(t);
            if (t->job_running) {
                pthread_join(t->job_thread, NULL);
                t->job_running = false;
            }
            break;
        }
        if (t->dirty && qv_now() - t->last_draw >= TUI_FRAME)
            tui_draw(t);
    }
}

int tui_main(struct qv_app *app)
{
    struct tui *t = tui_new(app);
    if (!t) {
        fprintf(stderr, "error: %s\n", qv_errmsg());
        return 1;
    }
    g_sig_wake = t->q.wake_fd[1];
    struct saved_signals old;
    signals_install(&old);
    SCREEN *scr = curses_start(t);
    if (!scr) {
        signals_restore(&old);
        tui_free(t);
        fprintf(stderr, "qvae: terminal '%s' cannot show the workbench; using the plain prompt\n",
                getenv("TERM") ? getenv("TERM") : "");
        return repl_main(app);
    }
    tui_rl_install(t);   /* readline as a line-editing engine only, with the history */

    /* the engine now talks to us */
    t->saved_sink = app->sink;
    app->sink.log = sink_log;
    app->sink.event = sink_event;
    app->sink.ud = t;
    app->in_tui = true;
    app->interactive = true;

    tui_log(t, QV_LOG_INFO, "qvae %s \xe2\x80\x94 a workbench for discrete VAEs with Boltzmann-machine priors on qubit graphs.",
            QV_VERSION);
    const char *startup = getenv("QVAE_TUI_STARTUP");
    if (!startup) startup = TUI_DEFAULT_STARTUP;
    t->snap = tui_snapshot_take(app);
    if (*startup) {
        tui_log(t, QV_LOG_INFO, "Setting up: %s", startup);
        start_job(t, startup, "startup", true);
    }
    tui_draw(t);
    main_loop(t);

    /* shut down: stop the job, restore the terminal, keep the history */
    if (t->job_running) {
        atomic_store(&app->cancel, 1);
        atomic_store(&app->pause, 0);
        pthread_join(t->job_thread, NULL);
        t->job_running = false;
    }
    tui_rl_remove(t);
    if (!isendwin())
        endwin();
    delscreen(scr);
    app->sink = t->saved_sink;
    app->in_tui = false;
    signals_restore(&old);

    /* print what is still queued (e.g. the last job's messages) to the normal output */
    long dropped;
    struct tq_item *it = tq_take_all(&t->q, &dropped);
    while (it) {
        struct tq_item *next = it->next;
        if (it->kind == TQ_LOG && app->sink.log)
            app->sink.log(app->sink.ud, it->level, it->text);
        tq_item_free(it);
        it = next;
    }
    tui_free(t);
    return 0;
}
