/* panel_sched.c — the anneal-schedule editor: s(t) of app->st.schedule plotted with its points
 * and its h-gain curve g(t) (green, own scale); beside it the last few `schedule try` results
 * (KL*, β_eff, mode coverage, the energy histogram of the samples over the reference's);
 * with the panel in edit mode (view schedule, F6) the keyboard selects and moves points and
 * inserts pause / quench / reverse segments, each key running a `schedule move|add|del|pause|…`
 * command line, so the editor can do nothing a script cannot;
 * every change is validated live with sched_validate against the schedule's solver limits, the
 * offending segment is painted red and the rule shown in the status line.  The edited schedule
 * is the one the next sqa / qpu sample uses.  Edits are refused while a job runs (the job may be
 * reading the schedule).  Keys beyond the points: g / G raise / lower the h-gain at the selected
 * point's time, o / O the anneal offset of the qubit group last set (`schedule offset A-B V`),
 * c the chip view (panel_chip.c: each qubit's own offset on the layout, a cursor to edit it),
 * s runs `schedule try` on the worker (the hand-tuning loop). */
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

/* g(t) on the canvas in colour 3, on the scale [min(0, g), max(1, g)] of the chart's height. */
static void draw_hgain(struct braille *b, const struct sched *s, int W, int H, double T)
{
    const struct sched_ctl *c = &s->ctl;
    double lo = 0, hi = 1;
    for (int i = 0; i < c->nhg; i++) { lo = fmin(lo, c->hg[i].s); hi = fmax(hi, c->hg[i].s); }
    for (int i = 0; i + 1 < c->nhg; i++) {
        int x0 = (int)lround(c->hg[i].t / T * (W - 1)), x1 = (int)lround(c->hg[i + 1].t / T * (W - 1));
        int y0 = (int)lround((hi - c->hg[i].s) / (hi - lo) * (H - 1));
        int y1 = (int)lround((hi - c->hg[i + 1].s) / (hi - lo) * (H - 1));
        braille_line(b, x0, y0, x1, y1, 3);
    }
}

/* Eight-level bars of a histogram [SCHED_RES_BINS] squeezed into w cells. */
static void spark(const float *m, int w, bool utf8, char *out, size_t n)
{
    static const char *const lv[9] = {" ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
                                      "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char *const av[9] = {" ", ".", ".", ":", ":", "|", "|", "#", "#"};
    float mx = 0;
    for (int b = 0; b < SCHED_RES_BINS; b++) mx = fmaxf(mx, m[b]);
    size_t l = 0;
    out[0] = 0;
    for (int c = 0; c < w && l + 4 < n; c++) {
        int b0 = c * SCHED_RES_BINS / w, b1 = (c + 1) * SCHED_RES_BINS / w;
        float v = 0;
        for (int b = b0; b < (b1 > b0 ? b1 : b0 + 1); b++) v += m[b];
        int k = mx > 0 ? (int)ceilf(v / (float)(b1 > b0 ? b1 - b0 : 1) / mx * 8) : 0;
        k = k < 0 ? 0 : k > 8 ? 8 : k;
        l += (size_t)snprintf(out + l, n - l, "%s", utf8 ? lv[k] : av[k]);
    }
}

/* The kept results, newest first: a header line and the samples' / reference's histograms. */
static void draw_results(struct tui *t, const struct sched *s, int x, int y, int w, int h)
{
    for (int row = 0; row < h; row++)
        mvaddstr(y + row, x - 1, t->utf8 ? "\xe2\x94\x82" : "|");
    int yy = y;
    for (int k = s->res.n - 1; k >= 0 && yy + 2 < y + h; k--) {
        const struct sched_result *r = &s->res.r[k];
        char line[200], kl[24];
        snprintf(kl, sizeof kl, isfinite(r->kl) ? "KL* %.3g" : "W1 %.3g", isfinite(r->kl) ? r->kl : r->w1);
        snprintf(line, sizeof line, "#%ld %s  \xce\xb2 %.3g  modes %ld/%ld  %s", r->seq, kl, r->beta_eff,
                 r->covered, r->major, r->label);
        tui_attr(t, k == s->res.n - 1 ? tui_color(t, TC_ACCENT) : tui_color(t, TC_DEFAULT), -1, A_BOLD);
        tui_put(yy++, x, line, w);
        char bar[SCHED_RES_BINS * 4 * 3];
        int bw = w - 4 < SCHED_RES_BINS * 2 ? w - 4 : SCHED_RES_BINS * 2;
        spark(r->mass, bw, t->utf8, bar, sizeof bar);
        tui_attr(t, tui_color(t, TC_OK), -1, 0);
        tui_put(yy, x, "smp", 4);
        tui_put(yy++, x + 4, bar, bw);
        spark(r->ref, bw, t->utf8, bar, sizeof bar);
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        tui_put(yy, x, "ref", 4);
        tui_put(yy++, x + 4, bar, bw);
    }
    tui_attr_reset();
}

/* The editor's status row: the selection, the controls, the first violated rule or "valid". */
static void draw_status_row(struct tui *t, const struct sched *s, int x0, int w, int sy)
{
    char info[160] = "";
    size_t l = 0;
    bool chip = t->sched_chip && panel_chip_available(t);
    if (chip)
        panel_chip_status(t, s, info, sizeof info), l = strlen(info);
    else if (t->sched_edit && t->sched_sel >= 0 && t->sched_sel < s->n)
        l += (size_t)snprintf(info, sizeof info, "point %d/%d t=%g s=%.3g  ", t->sched_sel + 1, s->n,
                              s->pt[t->sched_sel].t, s->pt[t->sched_sel].s);
    if (s->ctl.nhg && !chip && l < sizeof info)
        l += (size_t)snprintf(info + l, sizeof info - l, "g(t) %.3g  ",
                              sched_hgain_at(s, t->sched_sel >= 0 && t->sched_sel < s->n ? s->pt[t->sched_sel].t : 0));
    if (s->ctl.noff && !chip && l < sizeof info)
        l += (size_t)snprintf(info + l, sizeof info - l, "offsets q%ld-%ld %+.3g  ", s->ctl.grp0, s->ctl.grp1,
                              sched_offset_of(s, s->ctl.grp0));
    if (s->ctl.fast_anneal && l < sizeof info) snprintf(info + l, sizeof info - l, "fast  ");
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
            if (chip)
                tui_put(sy, x + 9, "\xe2\x86\x90\xe2\x86\x91\xe2\x86\x93\xe2\x86\x92 qubit  n N next  o O offset \xc2\xb1step  z zero  c curve  s run  Esc done",
                        x0 + w - x - 9);
            else
            tui_put(sy, x + 9, "\xe2\x86\x90\xe2\x86\x92 select \xe2\x86\x91\xe2\x86\x93 s  < > t  a add  x del  p pause  q quench  r reverse  f forward  g G gain  o O offset  c chip  s run  Esc done",
                    x0 + w - x - 9);
        }
    }
    tui_attr_reset();
}

void panel_sched_draw(struct tui *t, const struct rect *r)
{
    const struct sched *s = t->snap && t->snap->have_sched ? &t->snap->sched : NULL;
    char extra[160];
    if (s)
        snprintf(extra, sizeof extra, "%s%s%d points, T = %g \xc2\xb5s%s", s->name, s->name[0] ? " \xe2\x80\x94 " : "",
                 s->n, sched_duration(s), !t->sched_edit ? "  (F6 edit)"
                 : t->sched_chip && panel_chip_available(t) ? "  [EDITING: anneal offsets per qubit]" : "  [EDITING]");
    else
        snprintf(extra, sizeof extra, "none \xe2\x80\x94 type  schedule forward 20  or F6 then f");
    tui_title(t, r, "schedule", extra, t->focus == PANEL_SCHED || t->sched_edit);
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0);
    int rw = s && s->res.n > 0 && w >= 56 ? (w * 2 / 5 < 48 ? w * 2 / 5 : 48) : 0;   /* results column */
    int ylab = 4, cw = w - ylab - 2 - rw, ch = r->h - 3;
    if (!s || s->n < 1 || cw < 4 || ch < 2) {
        if (t->sched_edit && r->h > 2) {
            tui_attr(t, tui_color(t, TC_DIM), -1, 0);
            tui_put(r->y + 2, x0 + 2, "f: forward anneal  Esc: leave the editor", w - 3);
            tui_attr_reset();
        }
        return;
    }
    if (t->sched_chip && panel_chip_available(t)) {   /* the chip view in the chart's place */
        panel_chip_draw(t, s, x0 + 1, r->y + 1, w - 2 - rw, ch + 1);
        if (rw) draw_results(t, s, x0 + w - rw + 1, r->y + 1, rw - 1, r->h - 2);
        draw_status_row(t, s, x0, w, r->y + ch + 2);
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
    if (s->ctl.nhg > 1) draw_hgain(&b, s, W, H, T);
    for (int i = 0; i + 1 < s->n; i++)
        braille_line(&b, px[i], py[i], px[i + 1], py[i + 1], (uint8_t)(i == t->sched_bad_seg ? 2 : 1));
    int gx = x0 + ylab + 1, gy = r->y + 1;
    for (int row = 0; row < ch; row++)
        for (int col = 0; col < cw; col++) {
            size_t c = (size_t)row * cw + col;
            if (!b.mask[c])
                continue;
            tui_attr(t, b.color[c] == 2 ? tui_color(t, TC_ERR) : b.color[c] == 3 ? tui_color(t, TC_OK)
                     : tui_color(t, TC_ACCENT), -1, b.color[c] == 2 ? A_BOLD : 0);
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
    if (rw) draw_results(t, s, x0 + w - rw + 1, r->y + 1, rw - 1, r->h - 2);
    draw_status_row(t, s, x0, w, gy + ch + 1);
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

int panel_sched_cmd(struct tui *t, const char *fmt, ...)
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
    if (panel_sched_cmd(t, "schedule move %d %.17g %.17g", i, nt, ns)) return -1;
    t->sched_sel = point_at(s, nt, ns, i);
    return 0;
}

/* g / G: the h-gain at the selected point's time ± 0.1, the curve resampled at the schedule's
 * point times (g = 1 everywhere when there was none). */
static int edit_gain(struct tui *t, const struct sched *s, int i, double dg)
{
    if (s->n > SCHED_HG_CAP) {
        snprintf(t->sched_err, sizeof t->sched_err, "schedule hgain: more than %d points", SCHED_HG_CAP);
        return -1;
    }
    char line[SCHED_HG_CAP * 48 + 32];
    size_t l = (size_t)snprintf(line, sizeof line, "schedule hgain");
    for (int k = 0; k < s->n && l < sizeof line; k++) {
        double g = sched_hgain_at(s, s->pt[k].t) + (k == i ? dg : 0);
        l += (size_t)snprintf(line + l, sizeof line - l, " %.10g:%.4g", s->pt[k].t, g);
    }
    return panel_sched_cmd(t, "%s", line);
}

bool panel_sched_key(struct tui *t, int key)
{
    if (!t->sched_edit)
        return false;
    if (t->sched_chip && (key == 27 || key == 'c')) {   /* back to the curve, still editing */
        t->sched_chip = false;
        t->dirty = true;
        return true;
    }
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
            if (panel_sched_cmd(t, "schedule forward 20") == 0)
                tui_refresh_snapshot(t);
            else
                tui_set_msg(t, true, "%s", t->sched_err);
        } else {
            tui_set_msg(t, true, "schedule: none yet \xe2\x80\x94 press f for a forward anneal");
        }
        return true;
    }
    if (key == 'c') {
        if (!panel_chip_available(t)) {
            tui_set_msg(t, true, "schedule: no prior graph for per-qubit offsets \xe2\x80\x94 prior new chimera 2 2 4");
            return true;
        }
        t->sched_chip = true;
        t->dirty = true;
        return true;
    }
    if (t->sched_chip && key != 's' && panel_chip_key(t, key))
        return true;
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
        if ((rc = panel_sched_cmd(t, "schedule add %.17g %.17g", nt, ns)) == 0) t->sched_sel = point_at(s, nt, ns, i);
        break;
    }
    case 'x': case KEY_DC: case KEY_BACKSPACE: case 127:
        rc = panel_sched_cmd(t, "schedule del %d", i);
        break;
    case 'p': rc = panel_sched_cmd(t, "schedule pause %.17g %.17g", sel_s, hold); break;
    case 'q': rc = panel_sched_cmd(t, "schedule quench %.17g", sel_s); break;
    case 'r': rc = panel_sched_cmd(t, "schedule reverse %.17g %.17g", sel_s, hold); break;
    case 'f': rc = panel_sched_cmd(t, "schedule forward %.17g", T > 0 ? T : 20); break;
    case 'g': rc = edit_gain(t, s, i, 0.1); break;
    case 'G': rc = edit_gain(t, s, i, -0.1); break;
    case 'o': case 'O': {
        double v = sched_offset_of(s, s->ctl.grp0) + (key == 'o' ? 0.02 : -0.02);
        rc = panel_sched_cmd(t, "schedule offset %ld-%ld %.4g", s->ctl.grp0, s->ctl.grp1, fabs(v) < 1e-9 ? 0 : v);
        break;
    }
    case 's':   /* the hand-tuning loop: a measured run on the worker, results beside the plot */
        tui_dispatch(t, "schedule try");
        return true;
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
