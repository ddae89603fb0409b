/* panel_chip.c — the schedule editor's chip view (key c in the editor): the prior's units at
 * their places on the Chimera/Pegasus/Zephyr layout, each coloured by its own anneal offset
 * (blue: advanced, i.e. negative, frozen earlier; red: delayed; a dim dot: none; a red ✗:
 * outside the solver's anneal_offset_ranges for that qubit), with a cursor
 * on one qubit.  The arrow keys move the cursor to the nearest unit in that direction on the
 * layout, n / N step through the units in label order (units sharing a character cell stay
 * reachable), o / O change the qubit's offset by one step (the solver's anneal_offset_step, else
 * 0.01), z clears it; any other value is a typed `schedule offset Q V`.  Like every editor key, each change is a `schedule offset Q V` line
 * run as if typed, checked against the solver's anneal_offset_ranges when it names them.
 * Offsets are keyed by the qubit's hardware label (graph->label), the number a QPU and
 * `schedule offset` use, not by the unit's index in the prior. */
#include "tui_priv.h"
#include "solver.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step of o / O: the solver's quantisation of offsets when it gives one that is not finer than
 * a hundredth of the range, else 0.01 (offsets span a few hundredths of s on real QPUs). */
static double chip_step(const struct solver_props *sp)
{
    if (sp && sp->anneal_offset_step > 1e-4 && sp->anneal_offset_step < 0.1) return sp->anneal_offset_step;
    return 0.01;
}

static bool chip_range(const struct solver_props *sp, long q, double *lo, double *hi)
{
    if (!sp || !sp->anneal_offset_ranges || q < 0 || q >= sp->n_anneal_offset_ranges) return false;
    *lo = sp->anneal_offset_ranges[q][0];
    *hi = sp->anneal_offset_ranges[q][1];
    return true;
}

bool panel_chip_available(const struct tui *t)
{
    const struct tui_snapshot *s = t->snap;
    return s && s->nv > 0 && s->x && s->y && s->label;
}

/* Colour of an offset v relative to the largest magnitude shown: blue for v < 0, red for v > 0,
 * stronger with |v| (256 colours), or plain blue / red (8 colours). */
static int offset_color(const struct tui *t, double v, double vmax)
{
    double a = vmax > 0 ? fmin(1, fabs(v) / vmax) : 0;
    if (t->colors >= 256) {
        int lo = 90, r, g, b;
        if (v < 0) { r = lo - (int)(a * 60); g = lo + (int)(a * 40); b = lo + (int)(a * 165); }
        else       { r = lo + (int)(a * 165); g = lo - (int)(a * 30); b = lo - (int)(a * 60); }
        return color_rgb_to_256(r, g, b);
    }
    return v < 0 ? COLOR_BLUE : COLOR_RED;
}

void panel_chip_draw(struct tui *t, const struct sched *sch, int x0, int y0, int cols, int rows)
{
    const struct tui_snapshot *s = t->snap;
    if (!panel_chip_available(t) || cols < 2 || rows < 1)
        return;
    int nv = s->nv;
    if (t->chip_sel < 0 || t->chip_sel >= nv) t->chip_sel = 0;
    int *cell = qv_mallocarray((size_t)nv, sizeof(int));
    graph_place(nv, s->x, s->y, cols, rows, cell);
    size_t nc = (size_t)cols * rows;
    double *sum = qv_calloc(nc, sizeof(double));
    int *cnt = qv_calloc(nc, sizeof(int)), *nz = qv_calloc(nc, sizeof(int)), *bad = qv_calloc(nc, sizeof(int));
    double vmax = 0, lo, hi;
    for (int i = 0; i < nv; i++) {
        double v = sched_offset_of(sch, s->label[i]);
        vmax = fmax(vmax, fabs(v));
        sum[cell[i]] += v;
        cnt[cell[i]]++;
        nz[cell[i]] += v != 0;
        bad[cell[i]] += v != 0 && chip_range(t->sched_sp, s->label[i], &lo, &hi) && (v < lo || v > hi);
    }
    int selc = cell[t->chip_sel];
    for (size_t c = 0; c < nc; c++) {
        if (!cnt[c])
            continue;
        int y = y0 + (int)(c / cols), x = x0 + (int)(c % cols);
        double v = sum[c] / cnt[c];
        unsigned long sel = (int)c == selc ? A_REVERSE | A_BOLD : 0;
        if (bad[c]) {   /* outside the solver's range: the rule the status row names */
            tui_attr(t, tui_color(t, TC_ERR), -1, A_BOLD | sel);
            mvaddstr(y, x, t->utf8 ? "\xe2\x9c\x97" : "x");   /* ✗ */
        } else if (!nz[c]) {
            tui_attr(t, sel ? tui_color(t, TC_WARN) : tui_color(t, TC_DIM), -1, sel);
            mvaddstr(y, x, t->utf8 ? "\xc2\xb7" : ".");
        } else {
            tui_attr(t, t->colors ? offset_color(t, v, vmax) : -1, -1, A_BOLD | sel);
            mvaddstr(y, x, t->utf8 ? "\xe2\x97\x8f" : (v < 0 ? "-" : "+"));   /* ● */
        }
    }
    tui_attr_reset();
    free(sum);
    free(cnt);
    free(nz);
    free(bad);
    free(cell);
}

/* The status row's text for the chip view: the selected qubit, its offset and range. */
void panel_chip_status(struct tui *t, const struct sched *sch, char *buf, size_t n)
{
    const struct tui_snapshot *s = t->snap;
    if (!panel_chip_available(t)) {
        snprintf(buf, n, "no prior graph  ");
        return;
    }
    if (t->chip_sel < 0 || t->chip_sel >= s->nv) t->chip_sel = 0;
    long q = s->label[t->chip_sel];
    double lo, hi;
    size_t l = (size_t)snprintf(buf, n, "qubit %ld offset %+.4g", q, sched_offset_of(sch, q));
    if (l < n && chip_range(t->sched_sp, q, &lo, &hi))
        l += (size_t)snprintf(buf + l, n - l, " [%+.3g, %+.3g]", lo, hi);
    if (l < n) snprintf(buf + l, n - l, "  %d set  ", sch->ctl.noff);
}

/* Unit nearest to `from` in direction (dx, dy) on the layout: among the units whose offset from
 * `from` points into that half-plane by more than it strays sideways, the closest, sideways
 * distance counted double; `from` when there is none. */
static int chip_neighbour(const struct tui_snapshot *s, int from, int dx, int dy)
{
    int best = from;
    double bd = INFINITY;
    for (int i = 0; i < s->nv; i++) {
        double ex = s->x[i] - s->x[from], ey = s->y[i] - s->y[from];
        double along = ex * dx + ey * dy, side = fabs(ex * dy - ey * dx);
        if (i == from || !(along > 1e-9) || side > 2 * along) continue;
        double d = along + 2 * side;
        if (d < bd) { bd = d; best = i; }
    }
    return best;
}

bool panel_chip_key(struct tui *t, int key)
{
    const struct tui_snapshot *s = t->snap;
    struct sched *sch = t->app->st.schedule;
    if (!panel_chip_available(t) || !sch) {
        t->sched_chip = false;
        return false;
    }
    int i = t->chip_sel >= 0 && t->chip_sel < s->nv ? t->chip_sel : 0;
    long q = s->label[i];
    double step = chip_step(t->sched_sp), v = sched_offset_of(sch, q), lo, hi;
    int rc = 0;
    switch (key) {
    case KEY_LEFT: case 'h': t->chip_sel = chip_neighbour(s, i, -1, 0); break;
    case KEY_RIGHT: case 'l': t->chip_sel = chip_neighbour(s, i, 1, 0); break;
    case KEY_UP: case 'k': t->chip_sel = chip_neighbour(s, i, 0, -1); break;
    case KEY_DOWN: case 'j': t->chip_sel = chip_neighbour(s, i, 0, 1); break;
    case 'n': t->chip_sel = (i + 1) % s->nv; break;
    case 'N': t->chip_sel = (i + s->nv - 1) % s->nv; break;
    case 'o': case 'O': {
        double nv = v + (key == 'o' ? step : -step);
        if (fabs(nv) < 1e-9) nv = 0;
        if (chip_range(t->sched_sp, q, &lo, &hi)) nv = fmin(hi, fmax(lo, nv));
        rc = panel_sched_cmd(t, "schedule offset %ld %.6g", q, nv);
        break;
    }
    case 'z': rc = panel_sched_cmd(t, "schedule offset %ld 0", q); break;
    default:
        return false;
    }
    tui_refresh_snapshot(t);
    if (rc < 0) {
        tui_set_msg(t, true, "%s", t->sched_err);
    } else {
        char st[160];
        panel_chip_status(t, &t->snap->sched, st, sizeof st);
        tui_set_msg(t, false, "%s", st);
    }
    return true;
}
