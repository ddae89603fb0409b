/* tui_priv.h — internals of the curses workbench shared by ui/tui*.c and ui/panel_*.c: the
 * event queue filled by the sink (any thread) and drained by the UI thread, the UI-thread copy
 * of everything the panels draw (metric history, latest images and activity, a snapshot of the
 * workbench state), and the panel draw functions.
 *
 * Threading: only the UI thread touches curses, readline and struct tui (except the queue,
 * which has its own mutex).  The engine's objects in app->st are read only through state
 * snapshots taken by the thread that changes them (see tui_snapshot_take). */
#ifndef QV_TUI_PRIV_H
#define QV_TUI_PRIV_H

#include "app.h"
#include "layout.h"
#include "plot.h"
#include "schedule.h"

#include <pthread.h>

/* --- event queue (tui_queue.c) ----------------------------------------------------------- */

enum tq_kind { TQ_LOG, TQ_EVENT, TQ_SNAPSHOT, TQ_JOBEND };

struct tui_snapshot;

struct tq_item {
    enum tq_kind kind;
    enum qv_level level;         /* TQ_LOG */
    char *text;                  /* TQ_LOG: the line; TQ_EVENT: job/title; owned */
    char *text2;                 /* TQ_EVENT: unit; owned */
    struct qv_event ev;          /* TQ_EVENT: copy; pointers below replace the payload ones */
    float *values, *values2;     /* owned copies of ev.values / ev.values2 */
    struct tui_snapshot *snap;   /* TQ_SNAPSHOT: owned */
    int rc;                      /* TQ_JOBEND: cmd_run_line result */
    struct tq_item *next;
};

struct tui_queue {
    pthread_mutex_t mu;
    struct tq_item *head, *tail;
    long count;
    long dropped;                /* log lines dropped when the queue overflowed */
    int wake_fd[2];              /* self-pipe: a byte per push wakes the UI thread's poll() */
};

int  tq_init(struct tui_queue *q);     /* -1 with error when the pipe fails */
void tq_free(struct tui_queue *q);
/* Push copies; never blocks on the UI.  IMAGES/ACTIVITY events replace a pending one of the
 * same kind (newest wins); log lines beyond TQ_MAX_PENDING are dropped and counted. */
#define TQ_MAX_PENDING 20000
void tq_push_log(struct tui_queue *q, enum qv_level level, const char *line);
void tq_push_event(struct tui_queue *q, const struct qv_event *ev);
void tq_push_snapshot(struct tui_queue *q, struct tui_snapshot *snap);   /* takes ownership */
void tq_push_jobend(struct tui_queue *q, int rc);
/* Take the whole pending list (caller frees each item with tq_item_free). */
struct tq_item *tq_take_all(struct tui_queue *q, long *dropped);
void tq_item_free(struct tq_item *it);
void tq_wake(struct tui_queue *q);

/* --- state snapshot (tui_state.c) -------------------------------------------------------- */

struct tui_snapshot {
    char data[96];               /* dataset name or "" */
    char prior[128];             /* prior description or "" */
    char model[128];             /* model description or "" */
    char sampler[192];           /* "gibbs sweeps=1 …" or "" */
    char session[128];
    int nv;                      /* prior graph nodes (0: none or Bernoulli) */
    float *x, *y;                /* [nv] drawing coordinates (owned) */
    long *label;                 /* [nv] hardware labels, the qubit numbers of offsets (owned) */
    int bernoulli_n;             /* >0 for a Bernoulli prior */
    bool have_sched;
    struct sched sched;          /* copy of app->st.schedule */
};

/* Copy what the panels need out of app->st.  Must run on the thread that may be changing the
 * state (the UI thread when no job runs, or the emitting thread inside the sink). */
struct tui_snapshot *tui_snapshot_take(struct qv_app *app);
void tui_snapshot_free(struct tui_snapshot *s);

/* --- job rules (tui_job.c) --------------------------------------------------------------- */

struct tui_line_kind {
    bool empty;                  /* nothing to run */
    bool is_long;                /* a CMD_LONG command: runs on the worker */
    bool all_while;              /* every command is CMD_WHILEJOB */
    bool needs_state;            /* some command reads or changes app->st (not CMD_NOSTATE) */
    bool has_quit;
    char blocked[64];            /* the first command not allowed during a job */
};
/* Classify a command line by its commands' flags; -1 with error when it does not split. */
int tui_line_classify(const char *line, struct tui_line_kind *k);
/* The worker: run the line holding the state lock; *snap (if given) receives the state at the
 * end, taken under the lock. */
int tui_job_body(struct qv_app *app, const char *line, bool keep_going, struct tui_snapshot **snap);
/* Run a line of CMD_WHILEJOB commands on this thread while a job runs: under the state lock
 * when it needs the state; one error line and nothing run when the job reaches no safe point
 * within `wait` seconds. */
#define TUI_STATE_WAIT 5.0
int tui_run_during_job(struct qv_app *app, const char *line, const struct tui_line_kind *k,
                       double wait);

/* --- UI-thread data ---------------------------------------------------------------------- */

enum tui_series_id { SER_ELBO, SER_REC, SER_KL, SER_VAL_ELBO, SER_VAL_Z, SER_VAL_LL, SER_N };

struct tui_metrics {             /* metric history: one row per QV_EV_METRICS */
    long n, cap;
    double *step, *epoch;        /* [cap] */
    double *v[SER_N];            /* [cap] plotted as losses (−ELBO, −rec, KL, −val ELBO relaxed and discrete, −val LL) */
    double ips, lr;
    int active_units;
};

struct tui_loss_opts {
    bool logy;
    double ema;                  /* 0 = off */
    long window;                 /* 0 = whole run, else last N steps (or epochs with x_epoch) */
    bool x_epoch;
};

struct tui_log_line { enum qv_level level; char *text; };

#define TUI_LOG_CAP 4000

struct tui {
    struct qv_app *app;
    struct tui_queue q;
    struct qv_sink saved_sink;

    /* terminal */
    bool utf8;                   /* UTF-8 locale: braille, half blocks, box drawing */
    int colors;                  /* 0, 8 or 256 */
    struct layout lo;
    int focus;                   /* PANEL_OVERVIEW or a panel id */
    bool dirty;                  /* panels need redrawing */
    double last_draw;

    /* job */
    bool job_running;
    pthread_t job_thread;
    char *job_line;
    char job_name[32];
    bool job_keep_going;
    bool quit_after_job;
    bool quit;

    /* data for panels */
    struct tui_metrics met;
    struct tui_loss_opts lopt;
    int img_n, img_h, img_w;
    float *img;                  /* [n*h*w] */
    char img_title[64];
    long img_seq;
    int act_n, act_active;
    float *act, *act_mean;       /* [act_n] */
    bool lat_show_mean;
    float *hist;                 /* [hist_sets × hist_bins] mass per bin (QV_EV_HIST) */
    int hist_sets, hist_bins;
    double hist_lo, hist_hi;     /* bin range */
    char hist_names[512];        /* the sets' names, ','-separated */
    char hist_title[64];
    struct tui_snapshot *snap;   /* latest state snapshot (owned) */

    /* status */
    char prog_job[32], prog_unit[16];
    double prog_done, prog_total, prog_rate, prog_t0, prog_tlast, prog_dlast;
    bool prog_active;
    double beta_eff, beta_err;
    struct qv_qpu_timing qpu;
    char msg[256];               /* status-line message (errors, editor rule) */
    bool msg_error;

    /* log */
    struct tui_log_line log[TUI_LOG_CAP];
    long log_n, log_head;        /* ring */
    long log_scroll;             /* rows scrolled back from the end */

    /* overlays */
    bool help;
    int help_scroll;
    char **compl;                /* completion matches to show (owned), NULL-terminated */
    int compl_n;

    /* schedule editor */
    bool sched_edit;
    int sched_prev_focus;        /* focus to return to when the editor closes */
    int sched_sel;
    char sched_rule[256];        /* first violation message ("" = valid) */
    char sched_err[256];         /* the last editor command's error line ("" = none) */
    int sched_bad_seg, sched_bad_pt;
    int sched_nviol;
    struct solver_props *sched_sp;   /* limits of sched.solver (NULL = solver_defaults()) */
    char sched_sp_name[64];
    bool sched_chip;             /* the editor shows the chip layout (per-qubit offsets), key c */
    int chip_sel;                /* the chip view's cursor: a unit index of the prior */
};

/* Drawing helpers (tui_draw.c). */
void tui_colors_init(struct tui *t);
void tui_set_ascii(bool ascii);                    /* no UTF-8 locale: transliterate text */
int  tui_pair(struct tui *t, int fg, int bg);      /* colour pair for (fg,bg), 0 when none */
void tui_attr(struct tui *t, int fg, int bg, unsigned long attrs);
void tui_attr_reset(void);
/* UTF-8 text clipped to maxw display columns at (y,x); returns columns used. */
int  tui_put(int y, int x, const char *s, int maxw);
int  tui_text_width(const char *s);
/* Byte length of the longest prefix of s that fits in maxw columns. */
size_t tui_fit_bytes(const char *s, int maxw);
void tui_fill(int y, int x, int w, const char *ch);
/* Panel title bar: reverse-video name, with extra text right after. */
void tui_title(struct tui *t, const struct rect *r, const char *name, const char *extra, bool focused);
void tui_hline(struct tui *t, int y, int x, int w);
/* Named colours independent of the palette size. */
enum tui_color { TC_DEFAULT = -1, TC_DIM = 1000, TC_ERR, TC_WARN, TC_OK, TC_ACCENT,
                 TC_S0, TC_S1, TC_S2, TC_S3, TC_S4, TC_S5 };
int tui_color(struct tui *t, int named);

/* Panels (ui/panel_*.c): draw into their rectangle on stdscr. */
void panel_status_draw(struct tui *t, const struct rect *r);
void panel_log_draw(struct tui *t, const struct rect *r);
void panel_loss_draw(struct tui *t, const struct rect *r);
void panel_latent_draw(struct tui *t, const struct rect *r);
void panel_digits_draw(struct tui *t, const struct rect *r);
void panel_sched_draw(struct tui *t, const struct rect *r);
void panel_hist_draw(struct tui *t, const struct rect *r);
/* Schedule editor key handling (panel_sched.c): true when the key was consumed. */
bool panel_sched_key(struct tui *t, int key);
/* Re-run validation of the snapshot's schedule into t->sched_* (panel_sched.c). */
void panel_sched_validate(struct tui *t);
/* Run one editor command line as if typed; its error is kept in t->sched_err (panel_sched.c). */
int panel_sched_cmd(struct tui *t, const char *fmt, ...) QV_PRINTF(2, 3);
/* The editor's chip view (panel_chip.c): per-qubit anneal offsets on the prior's layout. */
bool panel_chip_available(const struct tui *t);
void panel_chip_draw(struct tui *t, const struct sched *sch, int x0, int y0, int cols, int rows);
void panel_chip_status(struct tui *t, const struct sched *sch, char *buf, size_t n);
bool panel_chip_key(struct tui *t, int key);

/* UI-thread helpers (tui.c). */
void tui_log(struct tui *t, enum qv_level level, const char *fmt, ...) QV_PRINTF(3, 4);
void tui_set_msg(struct tui *t, bool error, const char *fmt, ...) QV_PRINTF(3, 4);
void tui_refresh_snapshot(struct tui *t);
/* Run a command line as typed (on the worker when it is long); ask the main loop to end. */
void tui_dispatch(struct tui *t, const char *line);
void tui_request_quit(struct tui *t);
/* The screen (tui_screen.c): everything, or only the command line (after each key). */
void tui_draw(struct tui *t);
void tui_draw_cmdline(struct tui *t);
/* Keys (tui_keys.c): one key from curses; the keys part of the help overlay, line by line. */
void tui_handle_key(struct tui *t, int ch);
void tui_key_help(void (*emit)(void *ud, const char *text), void *ud);
/* Readline as the line editor (tui_rl.c).  Bytes fed are read by readline on the next pump. */
void tui_rl_install(struct tui *t);
void tui_rl_remove(struct tui *t);
void tui_rl_feed(const char *bytes, int n);
void tui_rl_pump(void);
bool tui_rl_line_empty(void);
void tui_rl_reset_line(struct tui *t);   /* abandon the line and any readline mode */
void tui_free_compl(struct tui *t);      /* the completion list shown above the line */
/* Metric history (tui_state.c). */
void tui_metrics_add(struct tui_metrics *m, const struct qv_metrics *x);
void tui_metrics_free(struct tui_metrics *m);
/* Apply `view` settings ("logy=1 ema=0.9 window=200 x=epoch mean=1 edit=1") (tui_state.c). */
void tui_apply_view_opts(struct tui *t, const char *opts);

#endif
