/* tui_keys.c — the workbench's keys.  One binding table maps a key to the command line it runs
 * (as tmux binds keys to commands): the F-keys are `view …` commands, so a script can do what a
 * key does, and the same table writes the keys part of the F1 overlay.  Keys the table does not
 * hold go to the schedule editor when it is open, then to readline (translated back into the
 * byte sequences readline binds by default). */
#include "tui_priv.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

struct tui_binding {
    int key;              /* curses key code */
    const char *name;     /* as the overlay shows it */
    const char *line;     /* command line run on the key; NULL = the help overlay itself */
    const char *help;     /* what it does, for the overlay */
};

static const struct tui_binding bindings[] = {
    {KEY_F(1), "F1", NULL, "this help (also ? on an empty line)"},
    {KEY_F(2), "F2", "view overview", "every panel that fits"},
    {KEY_F(3), "F3", "view loss", "the loss curves"},
    {KEY_F(4), "F4", "view latent", "latent activity on the qubit graph"},
    {KEY_F(5), "F5", "view digits", "the image grid"},
    {KEY_F(6), "F6", "view schedule --edit", "the schedule editor"},
    {KEY_F(7), "F7", "view log", "the log"},
    {KEY_F(9), "F9", "view --toggle log", "loss: linear / log y axis"},
    {KEY_F(10), "F10", "view --toggle ema", "loss: EMA smoothing on / off"},
    {KEY_F(11), "F11", "view --toggle window", "loss: whole run / recent window"},
    {KEY_F(12), "F12", "view --toggle x", "loss: x axis step / epoch"},
};

/* Keys that belong to readline or the panels, for the overlay only. */
static const char *const other_keys[] = {
    "  Enter          run the command line (';' separates commands)",
    "  Tab            complete commands, subcommands, options, files, names",
    "  Up/Down, C-r   history (kept under the state directory, secrets redacted)",
    "  Ctrl-C         stop the running job (checkpoint kept); clears the line when idle",
    "  Ctrl-D, quit   leave",
    "  PgUp/PgDn      scroll the log",
    "  Schedule editor (F6): Left/Right select a point, Up/Down move s, < > move t, a add,",
    "                 x delete, p pause, q quench, r reverse, f forward, Esc done",
    "                 (each runs a `schedule move|add|del|pause|quench|reverse|forward` line)",
    "                 g G h-gain ±0.1 at the point, o O anneal offset ±0.02 of the last",
    "                 `schedule offset` group, s run `schedule try` (result kept beside the plot)",
    "                 c chip view: each qubit's anneal offset on the prior's layout; arrows or",
    "                 n N move the cursor, o O ± one step (the solver's anneal_offset_step),",
    "                 z clear; out-of-range qubits marked; c or Esc back to the curve",
    NULL,
};

void tui_key_help(void (*emit)(void *ud, const char *text), void *ud)
{
    emit(ud, "Keys (each function key runs the command shown)");
    for (size_t i = 0; i < QV_ARRAY_LEN(bindings); i++) {
        char buf[160];
        snprintf(buf, sizeof buf, "  %-4s %-22s %s", bindings[i].name,
                 bindings[i].line ? bindings[i].line : "", bindings[i].help);
        emit(ud, buf);
    }
    for (int i = 0; other_keys[i]; i++)
        emit(ud, other_keys[i]);
}

static void open_help(struct tui *t)
{
    t->help = true;
    t->help_scroll = 0;
    t->dirty = true;
}

/* The help overlay takes every key: scrolling, or any other key closes it. */
static void help_key(struct tui *t, int ch)
{
    switch (ch) {
    case KEY_UP: t->help_scroll--; break;
    case KEY_DOWN: t->help_scroll++; break;
    case KEY_PPAGE: t->help_scroll -= 10; break;
    case KEY_NPAGE: case ' ': t->help_scroll += 10; break;
    default: t->help = false; break;
    }
    t->dirty = true;
}

static void scroll_log(struct tui *t, int dir)
{
    int h = rect_visible(&t->lo.r[PANEL_LOG]) ? t->lo.r[PANEL_LOG].h - 1 : 10;
    t->log_scroll += dir * (h > 2 ? h / 2 : 1);
    if (t->log_scroll < 0) t->log_scroll = 0;
    t->dirty = true;
}

/* Everything else is line editing: curses key codes back into readline's default sequences
 * (keypad() is on, so F-keys and arrows arrive decoded). */
static void edit_key(struct tui *t, int ch)
{
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
        tui_rl_feed(&esc, 1);
        tui_rl_pump();
        tui_handle_key(t, nx);
        return;
    }
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
        tui_rl_feed(seq, (int)strlen(seq));
    } else if (ch >= 0 && ch < 256) {
        char c = (char)ch;
        tui_rl_feed(&c, 1);
    } else {
        return;   /* other function keys: ignored */
    }
    tui_rl_pump();
}

void tui_handle_key(struct tui *t, int ch)
{
    if (ch == KEY_RESIZE) {
        t->dirty = true;
        t->last_draw = 0;
        return;
    }
    if (t->help) {
        help_key(t, ch);
        return;
    }
    if (t->compl && ch != '\t') {
        tui_free_compl(t);
        t->dirty = true;
    }
    bool sched_shown = rect_visible(&t->lo.r[PANEL_SCHED]) || t->focus == PANEL_SCHED;
    if (t->sched_edit && sched_shown && panel_sched_key(t, ch)) {
        t->dirty = true;
        return;
    }
    for (size_t i = 0; i < QV_ARRAY_LEN(bindings); i++) {
        if (bindings[i].key != ch) continue;
        if (bindings[i].line) tui_dispatch(t, bindings[i].line);   /* as if typed, not logged */
        else open_help(t);
        t->dirty = true;
        return;
    }
    switch (ch) {
    case KEY_PPAGE: scroll_log(t, 1); return;
    case KEY_NPAGE: scroll_log(t, -1); return;
    case '?':
        if (tui_rl_line_empty()) { open_help(t); return; }
        break;
    default:
        break;
    }
    edit_key(t, ch);
}
