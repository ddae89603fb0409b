/* tui_rl.c — GNU readline as the workbench's line editor, through its callback interface: no
 * terminal of its own and no signal handling; curses keys arrive as the byte sequences readline
 * binds by default (tui_rl_feed, tui_rl_pump), the line is drawn by tui_draw_cmdline, and
 * completion candidates are shown by the TUI instead of printed.  Completion and history are
 * the front ends' shared glue (rlglue.c).  UI thread only. */
#include "tui_priv.h"
#include "cmd.h"
#include "rlglue.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>
#include <readline/history.h>

static struct tui *rl_tui;   /* readline callbacks carry no user data */
static FILE *rl_null;        /* readline's output stream: nothing of it reaches the screen */

/* ---- input: a small ring of bytes readline reads from ---- */

static unsigned char rl_inbuf[256];
static int rl_inhead, rl_inlen;

void tui_rl_feed(const char *bytes, int n)
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

void tui_rl_pump(void)
{
    for (int guard = 0; rl_inlen > 0 && guard < 512; guard++)
        rl_callback_read_char();
}

bool tui_rl_line_empty(void)
{
    return rl_end == 0;
}

/* ---- output: our drawing instead of readline's ---- */

static void tui_rl_redisplay(void)
{
    if (!rl_tui)
        return;
    tui_draw_cmdline(rl_tui);
    refresh();
}

void tui_free_compl(struct tui *t)
{
    if (t->compl) {
        for (int i = 0; t->compl[i]; i++) free(t->compl[i]);
        free(t->compl);
    }
    t->compl = NULL;
    t->compl_n = 0;
}

/* matches[0] is the common prefix; the candidates follow */
static void tui_rl_display_matches(char **matches, int num, int maxlen)
{
    (void)maxlen;
    struct tui *t = rl_tui;
    tui_free_compl(t);
    t->compl = qv_calloc((size_t)num + 1, sizeof(char *));
    for (int i = 0; i < num; i++)
        t->compl[i] = qv_strdup(matches[i + 1]);
    t->compl_n = num;
    tui_draw(t);
}

/* ---- a finished line ---- */

static void on_line(char *line)
{
    struct tui *t = rl_tui;
    tui_free_compl(t);
    if (!line) {          /* Ctrl-D on an empty line */
        tui_request_quit(t);
        return;
    }
    t->msg[0] = 0;
    t->log_scroll = 0;
    char red[4096];
    rlglue_history_add(line, red, sizeof red);
    if (red[0]) {
        tui_log(t, QV_LOG_DEBUG, "> %s", red);
        tui_dispatch(t, line);
    }
    free(line);
    t->dirty = true;
}

/* ---- life cycle ---- */

void tui_rl_install(struct tui *t)
{
    rl_tui = t;
    rlglue_init(t->app);
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_null = fopen("/dev/null", "w");
    if (rl_null) rl_outstream = rl_null;
    rl_getc_function = tui_rl_getc;
    rl_input_available_hook = tui_rl_avail;
    rl_redisplay_function = tui_rl_redisplay;
    rl_completion_display_matches_hook = tui_rl_display_matches;
    rl_callback_handler_install("qvae> ", on_line);
    rl_variable_bind("bell-style", "none");
    rl_variable_bind("page-completions", "off");
    rl_completion_query_items = 0;
}

void tui_rl_reset_line(struct tui *t)
{
    /* abandon the line and any readline mode (i-search, numeric argument …) */
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    rl_replace_line("", 0);
    rl_point = rl_end = rl_mark = 0;
    rl_callback_handler_install("qvae> ", on_line);
    tui_free_compl(t);
}

void tui_rl_remove(struct tui *t)
{
    rl_callback_handler_remove();
    rlglue_free();
    tui_free_compl(t);
    rl_outstream = stdout;
    if (rl_null) fclose(rl_null);
    rl_null = NULL;
    rl_tui = NULL;
}
