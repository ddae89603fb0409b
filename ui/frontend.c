/* frontend.c — the batch sink, script/stdin runner, SIGINT handling and the plain readline
 * prompt.  Curses-free: used by `qvae -c`, `qvae FILE.qv`, piped stdin and `qvae --plain`. */
#include "frontend.h"
#include "cmd.h"
#include "rlglue.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

static const char *pos_file;
static long pos_line;
static bool progress_shown;

void frontend_set_position(const char *file, long line)
{
    pos_file = file;
    pos_line = line;
}

static void end_progress(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = false;
    }
}

static void batch_log(void *ud, enum qv_level level, const char *line)
{
    end_progress();
    FILE *f = level == QV_LOG_INFO || level == QV_LOG_DEBUG ? stdout : stderr;
    if (level == QV_LOG_ERROR) {
        if (pos_file) fprintf(f, "error: %s:%ld: %s\n", pos_file, pos_line, line);
        else fprintf(f, "error: %s\n", line);
    } else if (level == QV_LOG_WARN) {
        fprintf(f, "warning: %s\n", line);
    } else {
        fprintf(f, "%s\n", line);
    }
    fflush(f);
}

static void batch_event(void *ud, const struct qv_event *ev)
{
    static double last;
    if (ev->kind != QV_EV_PROGRESS || !isatty(STDERR_FILENO)) return;
    double now = qv_now();
    bool final = ev->total > 0 && ev->done >= ev->total;
    /* libcurl reports a finished transfer several times: draw the full bar once */
    static double final_done = -1, final_total = -1;
    if (final && ev->done == final_done && ev->total == final_total) return;
    if (final) { final_done = ev->done; final_total = ev->total; }
    if (!final && now - last < 0.1) return;
    last = now;
    int width = 30, fill = ev->total > 0 ? (int)(width * ev->done / ev->total) : 0;
    if (fill > width) fill = width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %.0f/%.0f %s", ev->job ? ev->job : "", bar, ev->done, ev->total,
            ev->unit ? ev->unit : "");
    progress_shown = true;
    if (final) end_progress();
    fflush(stderr);
}

void frontend_sink_init(struct qv_app *app)
{
    app->sink.log = batch_log;
    app->sink.event = batch_event;
    app->sink.ud = app;
}

static struct qv_app *sig_app;

static void on_sigint(int sig)
{
    if (sig_app && !atomic_load(&sig_app->cancel)) {
        atomic_store(&sig_app->cancel, 1);
        return;
    }
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
}

void frontend_install_sigint(struct qv_app *app)
{
    sig_app = app;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int frontend_run_stream(struct qv_app *app, FILE *f, const char *name, bool keep_going)
{
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int status = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        frontend_set_position(name, lineno);
        atomic_store(&app->cancel, 0);
        int rc = cmd_run_line(app, line, keep_going);
        if (rc == CMD_QUIT) break;
        if (rc) {
            status = 1;
            if (!keep_going) break;
        }
    }
    frontend_set_position(NULL, 0);
    free(line);
    return status;
}

const char *frontend_history_path(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/history", qv_state_dir());
    return buf;
}

int repl_main(struct qv_app *app)
{
    rlglue_init(app);
    printf("qvae %s — type 'help' for commands, 'quit' to leave.\n", QV_VERSION);
    char *line;
    while ((line = readline("qvae> "))) {
        char red[4096];
        rlglue_history_add(line, red, sizeof red);
        atomic_store(&app->cancel, 0);
        int rc = cmd_run_line(app, line, true);
        free(line);
        if (rc == CMD_QUIT) break;
    }
    rlglue_free();
    return 0;   /* errors were shown; leaving the prompt is a normal end */
}
