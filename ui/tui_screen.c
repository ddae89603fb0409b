/* tui_screen.c — drawing the whole workbench screen: the panels in their layout rectangles, the
 * completion list above the command line, the F1 help overlay and the command line itself
 * (readline's buffer, scrolled so the cursor stays visible).  UI thread only. */
#include "tui_priv.h"
#include "cmd.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>

void tui_draw_cmdline(struct tui *t)
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

/* The overlay's lines: the keys (from the binding table), then the command list (cmd_list_help). */
struct help_lines { char *v[256]; int n; };

static void help_add(void *ud, const char *text)
{
    struct help_lines *h = ud;
    if (h->n < (int)QV_ARRAY_LEN(h->v)) h->v[h->n++] = qv_strdup(text);
}

static void draw_help(struct tui *t)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    int w = cols - 4 < 100 ? cols - 4 : 100, h = rows - 4;
    if (w < 20 || h < 5)
        return;
    int x0 = (cols - w) / 2, y0 = 2;
    struct help_lines L = {.n = 0};
    tui_key_help(help_add, &L);
    help_add(&L, "");
    cmd_list_help(true, help_add, &L);
    int n = L.n;
    if (t->help_scroll > n - (h - 2)) t->help_scroll = n - (h - 2);
    if (t->help_scroll < 0) t->help_scroll = 0;
    tui_attr(t, -1, t->colors >= 256 ? 235 : -1, 0);
    for (int r = 0; r < h; r++)
        tui_fill(y0 + r, x0, w, " ");
    tui_attr(t, COLOR_BLACK, tui_color(t, TC_ACCENT), A_BOLD);
    tui_fill(y0, x0, w, " ");
    tui_put(y0, x0 + 1, " qvae help \xe2\x80\x94 Esc closes, arrows/PgUp/PgDn scroll", w - 2);
    for (int r = 0; r < h - 1 && t->help_scroll + r < n; r++) {
        const char *s = L.v[t->help_scroll + r];
        bool head = s[0] && s[0] != ' ';
        if (head) tui_attr(t, tui_color(t, TC_ACCENT), t->colors >= 256 ? 235 : -1, A_BOLD);
        else tui_attr(t, -1, t->colors >= 256 ? 235 : -1, 0);
        tui_put(y0 + 1 + r, x0 + 1, s, w - 2);
    }
    tui_attr_reset();
    for (int i = 0; i < n; i++)
        free(L.v[i]);
}

void tui_draw(struct tui *t)
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
        if (rect_visible(&r[PANEL_HIST])) panel_hist_draw(t, &r[PANEL_HIST]);
        draw_completions(t);
        if (t->help) draw_help(t);
    }
    tui_draw_cmdline(t);
    refresh();
    t->dirty = false;
    t->last_draw = qv_now();
}
