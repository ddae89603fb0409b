/* panel_loss.c — loss curves: −ELBO, −reconstruction, KL (prior term) per training step and
 * validation −ELBO / −log-likelihood when evaluated, as braille line plots (2×4 dots a cell)
 * with linear or log y, optional EMA smoothing, whole run or a recent window, step or epoch on
 * x, and a legend with the current values.  Data: struct tui_metrics (QV_EV_METRICS). */
#include "tui_priv.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "val -ELBO(z)": validation with discrete latents; the relaxed one can sit nats below it */
static const char *const ser_name[SER_N] = { "-ELBO", "-rec", "KL", "val -ELBO", "val -ELBO(z)", "val -LL" };
static const int ser_color[SER_N] = { TC_S0, TC_S1, TC_S2, TC_S3, TC_S5, TC_S4 };

/* Last finite value of a series, NAN if none. */
static double last_value(const struct tui_metrics *m, int s)
{
    for (long i = m->n - 1; i >= 0; i--)
        if (isfinite(m->v[s][i]))
            return m->v[s][i];
    return NAN;
}

/* Legend with the current values, in the title row from column x0 + 8 to x0 + w - 1. */
static void draw_legend(struct tui *t, const struct tui_metrics *m, int y, int x0, int w)
{
    int lx = x0 + 8, maxx = x0 + w - 1;
    for (int s = 0; s < SER_N; s++) {
        double v = last_value(m, s);
        if (!isfinite(v) || lx >= maxx - 6)
            continue;
        char num[32], buf[64];
        plot_fmt_num(v, num, sizeof num);
        snprintf(buf, sizeof buf, " %s %s ", ser_name[s], num);
        tui_attr(t, tui_color(t, ser_color[s]), -1, A_BOLD);
        lx += tui_put(y, lx, buf, maxx - lx);
    }
    tui_attr_reset();
}

/* The braille canvas [ch rows × cw cells] at (py0, px0), each cell in its series' colour. */
static void blit(struct tui *t, const struct braille *b, int py0, int px0, int cw, int ch)
{
    for (int row = 0; row < ch; row++)
        for (int col = 0; col < cw; col++) {
            size_t c = (size_t)row * cw + col;
            if (!b->mask[c])
                continue;
            tui_attr(t, tui_color(t, ser_color[b->color[c] - 1]), -1, 0);
            if (t->utf8) {
                char g[4];
                braille_utf8(b->mask[c], g);
                mvaddstr(py0 + row, px0 + col, g);
            } else {
                mvaddstr(py0 + row, px0 + col, __builtin_popcount(b->mask[c]) > 2 ? "*" : ".");
            }
        }
    tui_attr_reset();
}

/* y labels (top, middle, bottom of [lo, hi]) right-aligned in ylab columns left of x0 + ylab,
 * with the axis line. */
static void draw_y_axis(struct tui *t, int py0, int x0, int ylab, int ch, double lo, double hi)
{
    double ys[3] = { hi, (lo + hi) / 2, lo };
    int yrow[3] = { py0, py0 + (ch - 1) / 2, py0 + ch - 1 };
    for (int k = 0; k < 3; k++) {
        char num[32];
        plot_fmt_num(t->lopt.logy ? pow(10, ys[k]) : ys[k], num, sizeof num);
        int nw = tui_text_width(num);
        tui_put(yrow[k], x0 + ylab - (nw < ylab ? nw : ylab), num, ylab);
        mvaddstr(yrow[k], x0 + ylab, t->utf8 ? "\xe2\x94\xa4" : "+");
    }
    for (int row = 0; row < ch; row++)
        if (row != 0 && row != (ch - 1) / 2 && row != ch - 1)
            mvaddstr(py0 + row, x0 + ylab, t->utf8 ? "\xe2\x94\x82" : "|");
}

/* Under the plot (row ay, cw columns from px0): the x range [xa, xb] at both ends and, between
 * them when there is room, the display mode and the training speed. */
static void draw_x_axis(struct tui *t, const struct tui_metrics *m, int ay, int px0, int cw, double xa,
                        double xb)
{
    char l0[32], l1[48];
    if (t->lopt.x_epoch) {
        plot_fmt_num(xa, l0, sizeof l0);
        plot_fmt_num(xb, l1, sizeof l1);
    } else {   /* steps are whole numbers */
        snprintf(l0, sizeof l0, "%.0f", xa);
        snprintf(l1, sizeof l1, "%.0f", xb);
    }
    strncat(l1, t->lopt.x_epoch ? " epoch" : " step", sizeof l1 - strlen(l1) - 1);
    tui_put(ay, px0, l0, cw);
    int w1 = tui_text_width(l1);
    if (w1 < cw - tui_text_width(l0) - 1)
        tui_put(ay, px0 + cw - w1, l1, w1);
    char mid[160];
    size_t o = (size_t)snprintf(mid, sizeof mid, "%s y", t->lopt.logy ? "log" : "linear");
    if (t->lopt.ema > 0)
        o += (size_t)snprintf(mid + o, sizeof mid - o, " \xc2\xb7 EMA %g", t->lopt.ema);
    if (t->lopt.window > 0)
        o += (size_t)snprintf(mid + o, sizeof mid - o, " \xc2\xb7 last %ld %s", t->lopt.window,
                              t->lopt.x_epoch ? "epochs" : "steps");
    int room = cw - tui_text_width(l0) - w1 - 4;
    if (m->ips > 0 && o < sizeof mid) {
        char sp[64];
        snprintf(sp, sizeof sp, " \xc2\xb7 %.0f img/s \xc2\xb7 lr %.2g", m->ips, m->lr);
        if (tui_text_width(mid) + tui_text_width(sp) <= room)
            snprintf(mid + o, sizeof mid - o, "%s", sp);
    }
    int mw = tui_text_width(mid);
    if (mw <= room)
        tui_put(ay, px0 + (cw - mw) / 2, mid, mw);
}

void panel_loss_draw(struct tui *t, const struct rect *r)
{
    const struct tui_metrics *m = &t->met;
    tui_title(t, r, "loss", NULL, t->focus == PANEL_LOSS);
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0);
    draw_legend(t, m, r->y, x0, w);

    int ylab = 8, cw = w - ylab - 1, ch = r->h - 2;
    if (cw < 4 || ch < 2)
        return;
    if (m->n == 0) {
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        tui_put(r->y + 1 + ch / 2, x0 + 2, "no training yet \xe2\x80\x94 type  train 5", w - 3);
        tui_attr_reset();
        return;
    }
    /* x axis and window */
    const double *xs = t->lopt.x_epoch ? m->epoch : m->step;
    double xa = xs[0], xb = xs[m->n - 1];
    if (t->lopt.window > 0 && xb - t->lopt.window > xa)
        xa = xb - t->lopt.window;
    if (!(xb > xa)) xb = xa + 1;

    /* compact finite points per series inside the window (EMA on the training series) */
    double *cy[SER_N];
    long cn[SER_N];
    bool any = false;
    double lo = 0, hi = 0;
    for (int s = 0; s < SER_N; s++) {
        cy[s] = qv_mallocarray((size_t)m->n * 2 + 1, sizeof(double));
        cn[s] = 0;
        double *px = cy[s] + m->n;   /* x values stored after the y values */
        for (long i = 0; i < m->n; i++) {
            double v = m->v[s][i];
            if (!isfinite(v) || (t->lopt.logy && v <= 0))
                continue;
            cy[s][cn[s]] = v;
            px[cn[s]] = xs[i];
            cn[s]++;
        }
        if (t->lopt.ema > 0 && s <= SER_KL)
            plot_ema(cy[s], cy[s], cn[s], t->lopt.ema);
        /* y range over the window only; points left of it are still drawn (clipped) so the
         * curves enter from the left edge, and the EMA runs over the whole history */
        long first = 0;
        while (first < cn[s] && px[first] < xa) first++;
        double a, b;
        if (plot_range(cy[s] + first, cn[s] - first, t->lopt.logy, &a, &b)) {
            if (!any) { lo = a; hi = b; any = true; }
            else { if (a < lo) lo = a; if (b > hi) hi = b; }
        }
    }
    if (!any) {
        for (int s = 0; s < SER_N; s++) free(cy[s]);
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        tui_put(r->y + 1 + ch / 2, x0 + 2, "no plottable values (log y needs positive losses)", w - 3);
        tui_attr_reset();
        return;
    }
    plot_pad_range(&lo, &hi);
    struct braille b;
    braille_init(&b, cw, ch);
    for (int s = SER_N - 1; s >= 0; s--)   /* −ELBO drawn last: on top */
        plot_series(&b, cy[s] + m->n, cy[s], cn[s], xa, xb, lo, hi, t->lopt.logy, (uint8_t)(s + 1));
    for (int s = 0; s < SER_N; s++) free(cy[s]);

    int px0 = x0 + ylab + 1, py0 = r->y + 1;
    blit(t, &b, py0, px0, cw, ch);
    braille_free(&b);
    tui_attr(t, tui_color(t, TC_DIM), -1, 0);
    draw_y_axis(t, py0, x0, ylab, ch, lo, hi);
    draw_x_axis(t, m, py0 + ch, px0, cw, xa, xb);
    tui_attr_reset();
}
