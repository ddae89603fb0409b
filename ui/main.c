/* main.c — the qvae program: chooses a front end.
 *   qvae                      the workbench (curses TUI) when stdin and stdout are terminals;
 *                             commands read from stdin otherwise
 *   qvae -c 'cmd; cmd'        run commands (repeatable), exit 0 or 1 at the first error
 *   qvae FILE.qv              run a script ('#' comments); --keep-going runs past errors
 *   qvae WORDS…               run WORDS as one command (e.g. `qvae serve-qpu --port 8080`)
 *   qvae --plain              a plain readline prompt instead of the TUI */
#include "app.h"
#include "cmd.h"
#include "frontend.h"
#include "nn.h"
#include "par.h"
#include "tui.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: qvae [--plain]                 interactive workbench\n"
            "       qvae [-k] -c 'CMD; CMD' …        run commands\n"
            "       qvae [-k] FILE.qv                run a script\n"
            "       qvae COMMAND [ARGS…]             run one command\n"
            "       … | qvae [-k]                    run commands from standard input\n"
            "options: -k, --keep-going  continue after an error (exit status is still 1)\n"
            "         -h, --help        this text; inside qvae, 'help' lists commands\n"
            "         --version         print the version\n");
}

static bool is_regular_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A lone argument naming a file (a path or *.qv) rather than a command. */
static bool looks_like_script(const char *p)
{
    size_t l = strlen(p);
    return strchr(p, '/') || (l > 3 && !strcmp(p + l - 3, ".qv"));
}

/* Ranks other than 0 of an MPI job: the job speaks through rank 0, so they show only errors of
 * their own (e.g. unreadable data), marked with the rank.  An error line is held until the ranks
 * next agree on success (par_agree): shown if rank 0 passed, dropped if rank 0 failed too (then
 * it showed the same error).  Up to 4 lines are held. */
static struct qv_sink rank_sink_next;
static struct { void *ud; int n; char line[4][1200]; } rank_held;

static void rank_log(void *ud, enum qv_level level, const char *line)
{
    if (level != QV_LOG_ERROR || rank_held.n == 4) return;
    rank_held.ud = ud;
    snprintf(rank_held.line[rank_held.n++], sizeof rank_held.line[0], "rank %d: %s", par_rank(), line);
}

static void rank_agreed(int low)
{
    for (int i = 0; i < rank_held.n && low != 0; i++)
        rank_sink_next.log(rank_held.ud, QV_LOG_ERROR, rank_held.line[i]);
    rank_held.n = 0;
}

static void rank_event(void *ud, const struct qv_event *ev) { (void)ud; (void)ev; }

int main(int argc, char **argv)
{
    nn_blas_pick_core(argv);   /* may re-execute: before any state exists */
    nn_fp_flush_denormals();   /* before any thread: workers inherit it (nn.h) */
    setlocale(LC_ALL, "");
    struct qv_app app;
    app_init(&app, &qv_workbench);
    frontend_sink_init(&app);
    frontend_install_sigint(&app);

    bool keep_going = false, plain = false;
    int ncmd = 0, first_word = -1;
    const char **cmds = qv_calloc((size_t)argc + 1, sizeof(char *));   /* aborts with a message */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (first_word >= 0) break;
        if (!strcmp(a, "-c")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: -c needs a command string\n");
                free(cmds);
                return 2;
            }
            cmds[ncmd++] = argv[++i];
        } else if (!strcmp(a, "-k") || !strcmp(a, "--keep-going")) {
            keep_going = true;
        } else if (!strcmp(a, "--plain")) {
            plain = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(cmds);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("qvae %s\n", QV_VERSION);
            free(cmds);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "error: unknown option %s (try qvae --help)\n", a);
            free(cmds);
            return 2;
        } else {
            first_word = i;
        }
    }

    char perr[200];
    if (par_init(&argc, &argv, perr, sizeof perr)) {   /* MPI only under mpirun (par.h) */
        fprintf(stderr, "error: %s\n", perr);
        free(cmds);
        app_free(&app);
        return 1;
    }
    if (!par_root()) {
        rank_sink_next = app.sink;
        app.sink.log = rank_log;
        app.sink.event = rank_event;
        par_set_agree_hook(rank_agreed);
    }
    int status = 0;
    if (ncmd > 0) {
        for (int i = 0; i < ncmd; i++) {
            int rc = cmd_run_line(&app, cmds[i], keep_going);
            if (rc == CMD_QUIT) break;
            if (rc) {
                status = 1;
                if (!keep_going) break;
            }
        }
    } else if (first_word >= 0 && is_regular_file(argv[first_word]) && first_word == argc - 1) {
        FILE *f = fopen(argv[first_word], "r");
        if (!f) {
            fprintf(stderr, "error: %s: cannot open\n", argv[first_word]);
            status = 1;
        } else {
            status = frontend_run_stream(&app, f, argv[first_word], keep_going);
            fclose(f);
        }
    } else if (first_word >= 0 && first_word == argc - 1 && looks_like_script(argv[first_word])) {
        /* `qvae typo.qv`: a missing script, not an unknown command */
        fprintf(stderr, "error: %s: %s\n", argv[first_word],
                access(argv[first_word], F_OK) ? strerror(errno) : "not a regular file");
        status = 1;
    } else if (first_word >= 0) {
        /* the remaining words form one command; quote each so spaces survive */
        size_t len = 1;   /* a quote becomes the 4 characters '\'' */
        for (int i = first_word; i < argc; i++) len += strlen(argv[i]) * 4 + 3;
        char *line = qv_malloc(len);
        size_t o = 0;
        for (int i = first_word; i < argc; i++) {
            line[o++] = '\'';
            for (const char *p = argv[i]; *p; p++) {
                if (*p == '\'') { memcpy(line + o, "'\\''", 4); o += 4; }
                else line[o++] = *p;
            }
            line[o++] = '\'';
            line[o++] = ' ';
        }
        line[o] = 0;
        int rc = cmd_run_one(&app, line);
        status = rc == -1 ? 1 : 0;
        free(line);
    } else if (!isatty(STDIN_FILENO)) {
        status = frontend_run_stream(&app, stdin, "stdin", keep_going);
    } else if (plain || !isatty(STDOUT_FILENO)) {
        app.interactive = true;
        status = repl_main(&app);
    } else {
        app.interactive = true;
        status = tui_main(&app);
    }
    free(cmds);
    app_free(&app);
    par_finalize();
    return status;
}
