/* panel_sched.c — the anneal-schedule editor: s(t) of app->st.schedule plotted with its points;
 * with the panel in edit mode (view schedule, F6) the keyboard selects and moves points and
 * inserts pause / quench / reverse segments, each key running a `schedule move|add|del|pause|…`
 * command line, so the editor can do nothing a script cannot;
 * every change is validated live with sched_validate against the schedule's solver limits, the
 * offending segment is painted red and the rule shown in the status line.  The edited schedule
 * is the one the next sqa / qpu sample uses.  Edits are refused while a job runs (the job may be
 * reading the schedule). */
#include "tui_priv.h"
#include "cmd.h"
#include "solver.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct solver_props *limits(struct tui *t, const struct sched *s)
{
    if (!s->solver[0])
        return NULL;
    if (strcmp(t->sched_sp_name, s->solver) != 0) {
        solver_free(t->sched_sp);
        t->sched_sp = solver_load(s->solver);   /* NULL: fall back to the defaults */
        snprintf(t->sched_sp_name, sizeof t->sched_sp_name, "%s", s->solver);
    }
    return t->sched_sp;
}

void panel_sched_validate(struct tui *t)
{
    t->sched_rule[0] = 0;
    t->sched_bad_seg = t->sched_bad_pt = -1;
    t->sched_nviol = 0;
    if (!t->snap || !t->snap->have_sched)
        return;
    const struct sched *s = &t->snap->sched;
    struct sched_violation v[4];
    int n = sched_validate(s, limits(t, s), v, 4);
    t->sched_nviol = n;
    if (n > 0) {
        snprintf(t->sched_rule, sizeof t->sched_rule, "%s: %s", sched_rule_name(v[0].rule), v[0].msg);
        t->sched_bad_seg = v[0].segment;
        t->sched_bad_pt = v[0].point;
    }
    if (t->sched_sel >= s->n) t->sched_sel = s->n - 1;
    if (t->sched_sel < 0) t->sched_sel = 0;
}

void panel_sched_draw(struct tui *t, const struct rect *r)
{
    const struct sched *s = t->snap && t->snap->have_sched ? &t->snap->sched : NULL;
    char extra[160];
    if (s)
        snprintf(extra, sizeof extra, "%s%s%d points, T = %g \xc2\xb5s%s", s->name, s->name[0] ? " \xe2\x80\x94 " : "",
                 s->n, sched_duration(s), t->sched_edit ? "  [EDITING]" : "  (F6 edit)");
    else
        snprintf(extra, sizeof extra, "none \xe2\x80\x94 type  schedule forward 20  or F6 then f");
    tui_title(t, r, "schedule", extra, t->focus == PANEL_SCHED || t->sched_edit);
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0);
    int ylab = 4, cw = w - ylab - 2, ch = r->h - 3;
    if (!s || s->n < 1 || cw < 4 || ch < 2) {
        if (t->sched_edit && r->h > 2) {
            tui_attr(t, tui_color(t, TC_DIM), -1, 0);
            tui_put(r->y + 2, x0 + 2, "f: forward anneal  Esc: leave the editor", w - 3);
            tui_attr_reset();
        }
        return;
    }
    double T = sched_duration(s);
    if (!(T > 0)) T = 1;
    struct braille b;
    braille_init(&b, cw, ch);
    int W = 2 * cw, H = 4 * ch;
    int *px = qv_mallocarray((size_t)s->n, sizeof(int)), *py = qv_mallocarray((size_t)s->n, sizeof(int));
    for (int i = 0; i < s->n; i++) {
        double ft = isfinite(s->pt[i].t) ? s->pt[i].t : 0, fs = isfinite(s->pt[i].s) ? s->pt[i].s : 0;
        px[i] = (int)lround(ft / T * (W - 1));
        py[i] = (int)lround((1 - fs) * (H - 1));
    }
    for (int i = 0; i + 1 < s->n; i++)
        braille_line(&b, px[i], py[i], px[i + 1], py[i + 1], (uint8_t)(i == t->sched_bad_seg ? 2 : 1));
    int gx = x0 + ylab + 1, gy = r->y + 1;
    for (int row = 0; row < ch; row++)
        for (int col = 0; col < cw; col++) {
            size_t c = (size_t)row * cw + col;
            if (!b.mask[c])
                continue;
            tui_attr(t, b.color[c] == 2 ? tui_color(t, TC_ERR) : tui_color(t, TC_ACCENT), -1,
                     b.color[c] == 2 ? A_BOLD : 0);
            if (t->utf8) {
                char g[4];
                braille_utf8(b.mask[c], g);
                mvaddstr(gy + row, gx + col, g);
            } else {
                mvaddstr(gy + row, gx + col, "*");
            }
        }
    braille_free(&b);
    /* point markers on top */
    for (int i = 0; i < s->n; i++) {
        int cx = px[i] / 2, cy = py[i] / 4;
        if (cx < 0) cx = 0;
        if (cx >= cw) cx = cw - 1;
        if (cy < 0) cy = 0;
        if (cy >= ch) cy = ch - 1;
        bool sel = t->sched_edit && i == t->sched_sel;
        bool bad = i == t->sched_bad_pt;
        if (sel) tui_attr(t, COLOR_BLACK, tui_color(t, TC_WARN), A_BOLD);
        else tui_attr(t, bad ? tui_color(t, TC_ERR) : tui_color(t, TC_WARN), -1, A_BOLD);
        mvaddstr(gy + cy, gx + cx, t->utf8 ? (sel ? "\xe2\x97\x86" : "\xe2\x97\x8f") : (sel ? "@" : "o"));
    }
    free(px);
    free(py);
    /* axes */
    tui_attr(t, tui_color(t, TC_DIM), -1, 0);
    tui_put(gy, x0, "1.0", ylab);
    tui_put(gy + ch - 1, x0, "0.0", ylab);
    if (ch >= 5) tui_put(gy + (ch - 1) / 2, x0, "s", ylab);
    for (int row = 0; row < ch; row++)
        mvaddstr(gy + row, x0 + ylab, t->utf8 ? "\xe2\x94\x82" : "|");
    char tl[48];
    snprintf(tl, sizeof tl, "%g \xc2\xb5s", sched_duration(s));
    tui_put(gy + ch, gx, "0", cw);
    int tw = tui_text_width(tl);
    if (tw < cw - 2) tui_put(gy + ch, gx + cw - tw, tl, tw);
    tui_attr_reset();
    /* editor status row: selection and the first violated rule */
    int sy = gy + ch + 1;
    char info[96] = "";
    if (t->sched_edit && t->sched_sel >= 0 && t->sched_sel < s->n)
        snprintf(info, sizeof info, "point %d/%d t=%g s=%.3g  ", t->sched_sel + 1, s->n,
                 s->pt[t->sched_sel].t, s->pt[t->sched_sel].s);
    int x = x0 + 1;
    x += tui_put(sy, x, info, w - 2);
    if (t->sched_nviol > 0) {
        tui_attr(t, tui_color(t, TC_ERR), -1, A_BOLD);
        char m[300];
        snprintf(m, sizeof m, "%s %s", t->utf8 ? "\xe2\x9c\x97" : "x", t->sched_rule);
        tui_put(sy, x, m, x0 + w - x);
    } else {
        tui_attr(t, tui_color(t, TC_OK), -1, 0);
        tui_put(sy, x, t->utf8 ? "\xe2\x9c\x93 valid" : "valid", x0 + w - x);
        if (t->sched_edit) {
            tui_attr(t, tui_color(t, TC_DIM), -1, 0);
            tui_put(sy, x + 9, "\xe2\x86\x90\xe2\x86\x92 select \xe2\x86\x91\xe2\x86\x93 s  < > t  a add  x del  p pause  q quench  r reverse  f forward  Esc done",
                    x0 + w - x - 9);
        }
    }
    tui_attr_reset();
}

/* --- editing ----------------------------------------------------------------------------- */

/* ---- editing: every key is a `schedule …` command line, run as if typed (the line goes to the
 * log as a command; its table printout does not, so holding an arrow key does not flood the log;
 * an error is kept in t->sched_err for the status line). */

static void edit_sink(void *ud, enum qv_level level, const char *line)
{
    struct tui *t = ud;
    if (level == QV_LOG_ERROR) snprintf(t->sched_err, sizeof t->sched_err, "%s", line);
}

static int edit_cmd(struct tui *t, const char *fmt, ...) QV_PRINTF(2, 3);
static int edit_cmd(struct tui *t, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    tui_log(t, QV_LOG_DEBUG, "> %s", line);
    struct qv_sink saved = t->app->sink;
    /* the caller refreshes the snapshot and redraws, so the command's "state changed" event
     * is not needed */
    t->app->sink = (struct qv_sink){.log = edit_sink, .event = NULL, .ud = t};
    t->sched_err[0] = 0;
    int rc = cmd_run_line(t->app, line, false);
    t->app->sink = saved;
    return rc ? -1 : 0;
}

/* Index of the point at (pt, ps) after an edit (the command keeps points in time order); def
 * when it is not found. */
static int point_at(const struct sched *s, double pt, double ps, int def)
{
    for (int k = 0; k < s->n; k++)
        if (s->pt[k].t == pt && s->pt[k].s == ps) return k;
    return def;
}

static int edit_move(struct tui *t, int i, double nt, double ns)
{
    const struct sched *s = t->app->st.schedule;
    if (!s->n) return 0;
    if (edit_cmd(t, "schedule move %d %.17g %.17g", i, nt, ns)) return -1;
    t->sched_sel = point_at(s, nt, ns, i);
    return 0;
}

bool panel_sched_key(struct tui *t, int key)
{
    if (!t->sched_edit)
        return false;
    if (key == 27 || key == '\r' || key == '\n' || key == KEY_ENTER || key == 'e') {
        t->sched_edit = false;
        t->focus = t->sched_prev_focus == PANEL_STATUS || t->sched_prev_focus == PANEL_CMD
                       ? PANEL_OVERVIEW : t->sched_prev_focus;
        t->msg[0] = 0;
        t->dirty = true;
        return true;
    }
    if (t->job_running) {   /* before touching app->st: the worker holds it */
        tui_set_msg(t, true, "schedule: a job is running; edit after it ends (Esc leaves the editor)");
        return true;
    }
    struct sched *s = t->app->st.schedule;
    if (!s) {
        if (key == 'f') {
            if (edit_cmd(t, "schedule forward 20") == 0)
                tui_refresh_snapshot(t);
            else
                tui_set_msg(t, true, "%s", t->sched_err);
        } else {
            tui_set_msg(t, true, "schedule: none yet \xe2\x80\x94 press f for a forward anneal");
        }
        return true;
    }
    int n = s->n, i = t->sched_sel;
    if (i >= n) i = n - 1;
    if (i < 0) i = 0;
    double T = sched_duration(s);
    double dt = T > 0 ? T / 50 : 1;
    if (dt < 0.1) dt = 0.1;
    /* the s a pause / quench / reverse acts at: the selected point's, else the middle */
    double sel_s = n && s->pt[i].s > 0 && s->pt[i].s < 1 ? s->pt[i].s : 0.5;
    double hold = T > 0 ? fmax(1, T / 4) : 10;
    int rc = 0;
    switch (key) {
    case KEY_LEFT: case 'h': t->sched_sel = i > 0 ? i - 1 : 0; return true;
    case KEY_RIGHT: case 'l': t->sched_sel = i + 1 < n ? i + 1 : i; return true;
    case KEY_UP: case 'k':
        rc = edit_move(t, i, s->pt[i].t, fmin(1, s->pt[i].s + 0.05));
        break;
    case KEY_DOWN: case 'j':
        rc = edit_move(t, i, s->pt[i].t, fmax(0, s->pt[i].s - 0.05));
        break;
    case '<': case ',': case KEY_SLEFT:
        rc = edit_move(t, i, fmax(0, s->pt[i].t - dt), s->pt[i].s);
        break;
    case '>': case '.': case KEY_SRIGHT:
        rc = edit_move(t, i, s->pt[i].t + dt, s->pt[i].s);
        break;
    case 'a': {
        double nt = i + 1 < n ? (s->pt[i].t + s->pt[i + 1].t) / 2 : s->pt[i].t + (T > 0 ? T / 10 : 1);
        double ns = i + 1 < n ? (s->pt[i].s + s->pt[i + 1].s) / 2 : s->pt[i].s;
        if ((rc = edit_cmd(t, "schedule add %.17g %.17g", nt, ns)) == 0) t->sched_sel = point_at(s, nt, ns, i);
        break;
    }
    case 'x': case KEY_DC: case KEY_BACKSPACE: case 127:
        rc = edit_cmd(t, "schedule del %d", i);
        break;
    case 'p': rc = edit_cmd(t, "schedule pause %.17g %.17g", sel_s, hold); break;
    case 'q': rc = edit_cmd(t, "schedule quench %.17g", sel_s); break;
    case 'r': rc = edit_cmd(t, "schedule reverse %.17g %.17g", sel_s, hold); break;
    case 'f': rc = edit_cmd(t, "schedule forward %.17g", T > 0 ? T : 20); break;
    default:
        return false;
    }
    tui_refresh_snapshot(t);   /* re-validates */
    if (rc < 0)   /* the command's own one-line error */
        tui_set_msg(t, true, "%s", t->sched_err);
    else if (t->sched_nviol > 0)   /* the violated rule goes to the status line too */
        tui_set_msg(t, true, "schedule %s", t->sched_rule);
    else
        tui_set_msg(t, false, "schedule valid (%d points, %g \xc2\xb5s)", t->snap->sched.n,
                    sched_duration(&t->snap->sched));
    return true;
}
