/* tui.c — the curses workbench: ncursesw owns the terminal, GNU readline edits the command
 * line through its callback interface (fed from curses input, drawn by us), long commands run
 * on a worker thread, and the engine's output arrives through a sink that copies it into a
 * queue the UI thread drains (tui_queue.c).  Only this thread touches curses and readline.
 *
 * Loop: poll(stdin, queue pipe) with a short timeout → drain events into the panels' data →
 * handle keys (readline, panel keys, F-keys) → redraw at most every 50 ms (the command line is
 * redrawn at once on every key).  Ctrl-C (SIGINT) sets app->cancel for a running job, or clears
 * the line.  Panels: ui/panel_*.c; layout: ui/layout.c; pure rendering: ui/plot*.c. */
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
#include <readline/readline.h>
#include <readline/history.h>

#define TUI_FRAME 0.05   /* seconds between full redraws (≤ 20 per second) */
#define TUI_DEFAULT_STARTUP "data load mnist; prior new chimera 2 2 4; model new --hidden 200; data show 16"

static struct tui *g_tui;                 /* readline callbacks carry no user data */
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
    case QV_EV_SAMPLER:
        t->beta_eff = ev->beta_eff;
        t->beta_err = ev->beta_err;
        t->qpu = ev->qpu;
        break;
    case QV_EV_VIEW: {
        int p = layout_panel_lookup(ev->job);
        if (!t->sched_edit)
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

/* --- drawing ----------------------------------------------------------------------------- */

static void draw_cmdline(struct tui *t)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (rows < 1 || cols < 4)
        return;
    int y = rows - 1;
    tui_attr_reset();
    move(y, 0);
    clrtoeol();
    const char *prompt = rl_display_prompt ? rl_display_prompt : "qvae> ";
    tui_attr(t, tui_color(t, TC_ACCENT), -1, A_BOLD);
    int pw = tui_put(y, 0, prompt, cols - 2);
    tui_attr_reset();
    const char *line = rl_line_buffer ? rl_line_buffer : "";
    int avail = cols - pw - 1;
    /* scroll horizontally so the cursor stays visible */
    size_t start = 0;
    char *upto = strndup(line, (size_t)(rl_point >= 0 ? rl_point : 0));
    while (tui_put(-1, -1, upto + start, 1 << 20) > avail && upto[start]) {
        size_t k = tui_fit_bytes(upto + start, 1);
        start += k ? k : 1;
    }
    int cx = pw + tui_put(-1, -1, upto + start, 1 << 20);
    free(upto);
    tui_put(y, pw, line + start, avail);
    if (t->sched_edit && rl_end == 0) {
        tui_attr(t, tui_color(t, TC_WARN), -1, 0);
        tui_put(y, pw + 1, "editing the schedule: arrows, < >, a x p q r f \xe2\x80\x94 Esc returns here", avail - 1);
        tui_attr_reset();
    } else if (rl_end == 0 && !t->job_running && rl_display_prompt && !strcmp(rl_display_prompt, "qvae> ")) {
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        tui_put(y, pw + 1, "help \xc2\xb7 train 5 \xc2\xb7 sample 16 \xc2\xb7 Tab completes \xc2\xb7 F1 keys", avail - 1);
        tui_attr_reset();
    }
    move(y, cx < cols ? cx : cols - 1);
}

static void draw_completions(struct tui *t)
{
    if (!t->compl || t->compl_n <= 0)
        return;
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    int maxlen = 1;
    for (int i = 0; i < t->compl_n; i++) {
        int w = tui_text_width(t->compl[i]);
        if (w > maxlen) maxlen = w;
    }
    int colw = maxlen + 2, per = (cols - 2) / colw;
    if (per < 1) per = 1;
    int need = (t->compl_n + per - 1) / per, maxr = rows / 3;
    if (maxr < 1) maxr = 1;
    int nr = need < maxr ? need : maxr;
    int y0 = rows - 1 - nr;
    if (y0 < 0) return;
    tui_attr(t, -1, t->colors >= 256 ? 236 : (t->colors ? COLOR_BLUE : -1), t->colors ? 0 : A_REVERSE);
    for (int r = 0; r < nr; r++)
        tui_fill(y0 + r, 0, cols, " ");
    int shown = 0;
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < per; c++) {
            int i = r * per + c;
            if (i >= t->compl_n) break;
            if (r == nr - 1 && need > nr && c == per - 1) {
                char more[32];
                snprintf(more, sizeof more, "+%d more", t->compl_n - shown);
                tui_put(y0 + r, 1 + c * colw, more, colw);
                break;
            }
            tui_put(y0 + r, 1 + c * colw, t->compl[i], colw - 1);
            shown++;
        }
    tui_attr_reset();
}

static const char *const help_keys[] = {
    "Keys",
    "  Enter          run the command line (';' separates commands)",
    "  Tab            complete commands, subcommands, options, files, names",
    "  Up/Down, C-r   history (kept under the state directory, secrets redacted)",
    "  Ctrl-C         stop the running job (checkpoint kept); clears the line when idle",
    "  Ctrl-D, quit   leave",
    "  F1, ?          this help (? on an empty line)",
    "  F2 overview  F3 loss  F4 latent  F5 digits  F6 schedule editor  F7 log",
    "  F9 linear/log y   F10 EMA smoothing   F11 whole run / recent window   F12 x: step/epoch",
    "  PgUp/PgDn      scroll the log",
    "  Schedule editor (F6): Left/Right select a point, Up/Down move s, < > move t, a add,",
    "                 x delete, p pause, q quench, r reverse, f forward, Esc done",
    "",
    "Commands (help COMMAND for details; unique prefixes work)",
    NULL,
};

static void draw_help(struct tui *t)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    int w = cols - 4 < 100 ? cols - 4 : 100, h = rows - 4;
    if (w < 20 || h < 5)
        return;
    int x0 = (cols - w) / 2, y0 = 2;
    /* collect lines */
    char *lines[256];
    int n = 0;
    for (int i = 0; help_keys[i] && n < 200; i++)
        lines[n++] = qv_strdup(help_keys[i]);
    for (int i = 0; cmd_root[i] && n < 250; i++) {
        const struct cmd_entry *e = cmd_root[i];
        if (e->flags & CMD_HIDDEN) continue;
        char buf[512];
        snprintf(buf, sizeof buf, "  %-10s %s", e->name, e->summary ? e->summary : "");
        lines[n++] = qv_strdup(buf);
        if (e->sub && n < 250) {
            size_t o = (size_t)snprintf(buf, sizeof buf, "             ");
            for (int k = 0; e->sub[k].name && o < sizeof buf - 40; k++)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", k ? " \xc2\xb7 " : "", e->sub[k].name);
            lines[n++] = qv_strdup(buf);
        }
    }
    if (t->help_scroll > n - (h - 2)) t->help_scroll = n - (h - 2);
    if (t->help_scroll < 0) t->help_scroll = 0;
    tui_attr(t, -1, t->colors >= 256 ? 235 : -1, 0);
    for (int r = 0; r < h; r++)
        tui_fill(y0 + r, x0, w, " ");
    tui_attr(t, COLOR_BLACK, tui_color(t, TC_ACCENT), A_BOLD);
    tui_fill(y0, x0, w, " ");
    tui_put(y0, x0 + 1, " qvae help \xe2\x80\x94 Esc closes, arrows/PgUp/PgDn scroll", w - 2);
    for (int r = 0; r < h - 1 && t->help_scroll + r < n; r++) {
        const char *s = lines[t->help_scroll + r];
        bool head = s[0] && s[0] != ' ';
        if (head) tui_attr(t, tui_color(t, TC_ACCENT), t->colors >= 256 ? 235 : -1, A_BOLD);
        else tui_attr(t, -1, t->colors >= 256 ? 235 : -1, 0);
        tui_put(y0 + 1 + r, x0 + 1, s, w - 2);
    }
    tui_attr_reset();
    for (int i = 0; i < n; i++)
        free(lines[i]);
}

static void draw(struct tui *t)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    layout_compute(rows, cols, t->focus, &t->lo);
    if (t->lo.too_small) {
        char m[128];
        snprintf(m, sizeof m, "terminal too small: %dx%d (qvae needs %dx%d)", cols, rows, LAYOUT_MIN_COLS,
                 LAYOUT_MIN_ROWS);
        tui_attr(t, tui_color(t, TC_WARN), -1, A_BOLD);
        tui_put(rows > 2 ? rows / 2 - 1 : 0, 0, m, cols);
        tui_attr_reset();
    } else {
        const struct rect *r = t->lo.r;
        panel_status_draw(t, &r[PANEL_STATUS]);
        if (rect_visible(&r[PANEL_LOSS])) panel_loss_draw(t, &r[PANEL_LOSS]);
        if (rect_visible(&r[PANEL_LOG])) panel_log_draw(t, &r[PANEL_LOG]);
        if (rect_visible(&r[PANEL_DIGITS])) panel_digits_draw(t, &r[PANEL_DIGITS]);
        if (rect_visible(&r[PANEL_LATENT])) panel_latent_draw(t, &r[PANEL_LATENT]);
        if (rect_visible(&r[PANEL_SCHED])) panel_sched_draw(t, &r[PANEL_SCHED]);
        draw_completions(t);
        if (t->help) draw_help(t);
    }
    draw_cmdline(t);
    refresh();
    t->dirty = false;
    t->last_draw = qv_now();
}

/* --- readline glue ----------------------------------------------------------------------- */

static unsigned char rl_inbuf[256];
static int rl_inhead, rl_inlen;

static void rl_feed(const char *bytes, int n)
{
    for (int i = 0; i < n && rl_inlen < (int)sizeof rl_inbuf; i++)
        rl_inbuf[(rl_inhead + rl_inlen++) % sizeof rl_inbuf] = (unsigned char)bytes[i];
}

static int tui_rl_getc(FILE *f)
{
    (void)f;
    if (rl_inlen == 0)
        return EOF;
    int c = rl_inbuf[rl_inhead];
    rl_inhead = (rl_inhead + 1) % (int)sizeof rl_inbuf;
    rl_inlen--;
    return c;
}

static int tui_rl_avail(void)
{
    return rl_inlen > 0;
}

static void tui_rl_redisplay(void)
{
    if (!g_tui)
        return;
    draw_cmdline(g_tui);
    refresh();
}

static void free_compl(struct tui *t)
{
    if (t->compl) {
        for (int i = 0; t->compl[i]; i++) free(t->compl[i]);
        free(t->compl);
    }
    t->compl = NULL;
    t->compl_n = 0;
}

static void tui_rl_display_matches(char **matches, int num, int maxlen)
{
    (void)maxlen;
    struct tui *t = g_tui;
    free_compl(t);
    t->compl = qv_calloc((size_t)num + 1, sizeof(char *));
    for (int i = 0; i < num; i++)
        t->compl[i] = qv_strdup(matches[i + 1]);
    t->compl_n = num;
    draw(t);
}

static char **cand_list;
static int cand_idx;

static char *cand_gen(const char *text, int state)
{
    (void)text; (void)state;
    if (!cand_list || !cand_list[cand_idx])
        return NULL;
    return strdup(cand_list[cand_idx++]);
}

static void free_cands(void)
{
    if (cand_list) {
        for (int i = 0; cand_list[i]; i++) free(cand_list[i]);
        free(cand_list);
    }
    cand_list = NULL;
    cand_idx = 0;
}

static char **tui_complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    free_cands();
    cand_list = cmd_complete_line(g_tui->app, rl_line_buffer, (size_t)start, text);
    if (!cand_list || !cand_list[0])
        return NULL;
    size_t l = strlen(cand_list[0]);
    if (!cand_list[1] && l && cand_list[0][l - 1] == '/')
        rl_completion_suppress_append = 1;
    return rl_completion_matches(text, cand_gen);
}

static void on_line(char *line)
{
    struct tui *t = g_tui;
    free_compl(t);
    if (!line) {          /* Ctrl-D on an empty line */
        request_quit(t);
        return;
    }
    t->msg[0] = 0;
    t->log_scroll = 0;
    if (line[strspn(line, " \t")]) {
        char red[4096];
        cmd_redact(line, red, sizeof red);
        HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
        if (!last || strcmp(last->line, red) != 0) {
            add_history(red);
            /* append at once so a crash or a killed terminal keeps the history */
            const char *hist = frontend_history_path();
            if (append_history(1, hist) == 0)
                history_truncate_file(hist, 2000);
        }
        tui_log(t, QV_LOG_DEBUG, "> %s", red);
        dispatch(t, line);
    }
    free(line);
    t->dirty = true;
}

static void rl_pump(void)
{
    for (int guard = 0; rl_inlen > 0 && guard < 512; guard++)
        rl_callback_read_char();
}

/* --- keys -------------------------------------------------------------------------------- */

static void set_focus(struct tui *t, int p)
{
    t->focus = p;
    t->dirty = true;
}

static void handle_key(struct tui *t, int ch)
{
    if (ch == KEY_RESIZE) {
        t->dirty = true;
        t->last_draw = 0;
        return;
    }
    if (t->help) {
        switch (ch) {
        case KEY_UP: t->help_scroll--; break;
        case KEY_DOWN: t->help_scroll++; break;
        case KEY_PPAGE: t->help_scroll -= 10; break;
        case KEY_NPAGE: case ' ': t->help_scroll += 10; break;
        default: t->help = false; break;
        }
        t->dirty = true;
        return;
    }
    if (t->compl && ch != '\t') {
        free_compl(t);
        t->dirty = true;
    }
    bool sched_shown = rect_visible(&t->lo.r[PANEL_SCHED]) || t->focus == PANEL_SCHED;
    if (t->sched_edit && sched_shown && panel_sched_key(t, ch)) {
        t->dirty = true;
        return;
    }
    switch (ch) {
    case KEY_F(1): t->help = true; t->help_scroll = 0; t->dirty = true; return;
    case KEY_F(2): t->sched_edit = false; set_focus(t, PANEL_OVERVIEW); return;
    case KEY_F(3): t->sched_edit = false; set_focus(t, PANEL_LOSS); return;
    case KEY_F(4): t->sched_edit = false; set_focus(t, PANEL_LATENT); return;
    case KEY_F(5): t->sched_edit = false; set_focus(t, PANEL_DIGITS); return;
    case KEY_F(6):
        if (!t->sched_edit) t->sched_prev_focus = t->focus;
        set_focus(t, PANEL_SCHED);
        t->sched_edit = true;
        panel_sched_validate(t);
        return;
    case KEY_F(7): t->sched_edit = false; set_focus(t, PANEL_LOG); return;
    case KEY_F(9): t->lopt.logy = !t->lopt.logy; t->dirty = true; return;
    case KEY_F(10): t->lopt.ema = t->lopt.ema > 0 ? 0 : 0.9; t->dirty = true; return;
    case KEY_F(11): t->lopt.window = t->lopt.window ? 0 : (t->lopt.x_epoch ? 2 : 500); t->dirty = true; return;
    case KEY_F(12): t->lopt.x_epoch = !t->lopt.x_epoch; t->lopt.window = 0; t->dirty = true; return;
    case KEY_PPAGE: {
        int h = rect_visible(&t->lo.r[PANEL_LOG]) ? t->lo.r[PANEL_LOG].h - 1 : 10;
        t->log_scroll += h > 2 ? h / 2 : 1;
        t->dirty = true;
        return;
    }
    case KEY_NPAGE: {
        int h = rect_visible(&t->lo.r[PANEL_LOG]) ? t->lo.r[PANEL_LOG].h - 1 : 10;
        t->log_scroll -= h > 2 ? h / 2 : 1;
        if (t->log_scroll < 0) t->log_scroll = 0;
        t->dirty = true;
        return;
    }
    case '?':
        if (rl_end == 0) { t->help = true; t->help_scroll = 0; t->dirty = true; return; }
        break;
    default:
        break;
    }
    if (ch == 27) {
        /* ncurses already waited ESCDELAY for the rest of a sequence: when nothing follows this
         * is a lone Esc (dismiss the message), otherwise a Meta prefix for readline (M-b …) */
        int nx = getch();
        if (nx == ERR) {
            t->msg[0] = 0;
            t->dirty = true;
            return;
        }
        char esc = 27;
        rl_feed(&esc, 1);
        rl_pump();
        handle_key(t, nx);
        return;
    }
    /* everything else is line editing: translate curses keys back into the sequences readline
     * binds by default (keypad() is on so F-keys arrive decoded) */
    const char *seq = NULL;
    switch (ch) {
    case KEY_UP: seq = "\033[A"; break;
    case KEY_DOWN: seq = "\033[B"; break;
    case KEY_RIGHT: seq = "\033[C"; break;
    case KEY_LEFT: seq = "\033[D"; break;
    case KEY_HOME: seq = "\033[H"; break;
    case KEY_END: seq = "\033[F"; break;
    case KEY_DC: seq = "\033[3~"; break;
    case KEY_BACKSPACE: seq = "\177"; break;
    case KEY_ENTER: seq = "\r"; break;
    default: break;
    }
    if (seq) {
        rl_feed(seq, (int)strlen(seq));
    } else if (ch >= 0 && ch < 256) {
        char c = (char)ch;
        rl_feed(&c, 1);
    } else {
        return;   /* other function keys: ignored */
    }
    rl_pump();
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
            /* abandon the line and any readline mode (i-search, numeric argument …) */
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_callback_handler_remove();
            rl_replace_line("", 0);
            rl_point = rl_end = rl_mark = 0;
            rl_callback_handler_install("qvae> ", on_line);
            free_compl(t);
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

int tui_main(struct qv_app *app)
{
    struct tui *t = qv_calloc(1, sizeof *t);
    t->app = app;
    t->focus = PANEL_OVERVIEW;
    t->sched_prev_focus = PANEL_OVERVIEW;
    t->beta_eff = t->beta_err = NAN;
    t->qpu.anneal = t->qpu.access = t->qpu.programming = t->qpu.readout = t->qpu.total_real = NAN;
    t->sched_bad_seg = t->sched_bad_pt = -1;
    if (tq_init(&t->q) != 0) {
        fprintf(stderr, "error: %s\n", qv_errmsg());
        free(t);
        return 1;
    }
    g_tui = t;
    g_sig_wake = t->q.wake_fd[1];
    t->utf8 = locale_is_utf8();
    tui_set_ascii(!t->utf8);

    /* signals: Ctrl-C and termination only set flags and wake the loop */
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    /* history */
    using_history();
    qv_mkdirs(qv_state_dir());
    const char *hist = frontend_history_path();
    if (read_history(hist) != 0)
        write_history(hist);   /* create it so lines can be appended */
    stifle_history(2000);

    /* curses; a terminal it cannot drive (unknown or without cursor addressing) gets the plain
     * readline prompt instead */
    set_escdelay(25);
    SCREEN *scr = newterm(NULL, stdout, stdin);
    char *cup = scr ? tigetstr("cup") : NULL;
    if (!scr || !cup || cup == (char *)-1) {
        if (scr) { endwin(); delscreen(scr); }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        g_sig_wake = -1;
        g_tui = NULL;
        tq_free(&t->q);
        free(t);
        fprintf(stderr, "qvae: terminal '%s' cannot show the workbench; using the plain prompt\n",
                getenv("TERM") ? getenv("TERM") : "");
        return repl_main(app);
    }
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(1);
    tui_colors_init(t);

    /* readline as a line-editing engine only: no terminal, no signals, our input and display */
    rl_readline_name = "qvae";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull) rl_outstream = devnull;
    rl_getc_function = tui_rl_getc;
    rl_input_available_hook = tui_rl_avail;
    rl_redisplay_function = tui_rl_redisplay;
    rl_attempted_completion_function = tui_complete;
    rl_completion_display_matches_hook = tui_rl_display_matches;
    rl_callback_handler_install("qvae> ", on_line);
    rl_variable_bind("bell-style", "none");
    rl_variable_bind("page-completions", "off");
    rl_completion_query_items = 0;

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
    draw(t);

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
                handle_key(t, ch);
                got++;
                if (t->quit) break;
            }
            if (!got && (fds[0].revents & (POLLHUP | POLLERR)))
                gone = true;
        } else if (n < 0) {
            /* EINTR: probably SIGWINCH; ncurses reports KEY_RESIZE through getch */
            int ch;
            while ((ch = getch()) != ERR)
                handle_key(t, ch);
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
            draw(t);
    }

    /* shut down: stop the job, restore the terminal, keep the history */
    if (t->job_running) {
        atomic_store(&app->cancel, 1);
        atomic_store(&app->pause, 0);
        pthread_join(t->job_thread, NULL);
        t->job_running = false;
    }
    rl_callback_handler_remove();
    if (!isendwin())
        endwin();
    delscreen(scr);
    app->sink = t->saved_sink;
    app->in_tui = false;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    g_sig_wake = -1;

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
    tq_free(&t->q);
    free_cands();
    free_compl(t);
    for (long i = 0; i < t->log_n; i++)
        free(t->log[(t->log_head + i) % TUI_LOG_CAP].text);
    tui_metrics_free(&t->met);
    free(t->img);
    free(t->act);
    free(t->act_mean);
    free(t->job_line);
    tui_snapshot_free(t->snap);
    solver_free(t->sched_sp);
    rl_outstream = stdout;
    if (devnull) fclose(devnull);
    g_tui = NULL;
    free(t);
    return 0;
}
