/* panel_hist.c — the energy histograms of the last `compare` overlaid: one braille line per set
 * (the reference first) through its bin fractions at the bin centres, in the series colours,
 * with the names as a legend in the title row.  Data: t->hist (QV_EV_HIST, cmd_lab.c); the same
 * series are printed as text in the log, so --plain and -c show them too. */
#include "tui_priv.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int set_color[] = { TC_S0, TC_S1, TC_S2, TC_S3, TC_S4, TC_S5 };
#define NCOLORS ((int)(sizeof set_color / sizeof set_color[0]))

/* Legend "name name …" in the sets' colours, from column x to maxx on row y. */
static void draw_legend(struct tui *t, int y, int x, int maxx)
{
    char names[512];
    snprintf(names, sizeof names, "%s", t->hist_names);
    int i = 0;
    for (char *save = NULL, *s = strtok_r(names, ",", &save); s; s = strtok_r(NULL, ",", &save), i++) {
        char buf[80];
        snprintf(buf, sizeof buf, " %s ", s);
        if (x >= maxx - 4) break;
        tui_attr(t, tui_color(t, set_color[i % NCOLORS]), -1, A_BOLD);
        x += tui_put(y, x, buf, maxx - x);
    }
    tui_attr_reset();
}

void panel_hist_draw(struct tui *t, const struct rect *r)
{
    char extra[96];
    snprintf(extra, sizeof extra, " %s, fraction per energy bin", t->hist_title);
    tui_title(t, r, "hist", t->hist ? extra : NULL, t->focus == PANEL_HIST);
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0);
    int ylab = 7, cw = w - ylab - 1, ch = r->h - 3;
    if (cw < 4 || ch < 2)
        return;
    if (!t->hist) {
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        tui_put(r->y + 1 + ch / 2, x0 + 2, "no comparison yet \xe2\x80\x94 type  compare gibbs pt pa", w - 3);
        tui_attr_reset();
        return;
    }
    draw_legend(t, r->y + 1, x0 + ylab + 1, x0 + w);
    int nb = t->hist_bins;
    double *x = qv_mallocarray((size_t)nb, sizeof(double)), *y = qv_mallocarray((size_t)nb, sizeof(double));
    double width = (t->hist_hi - t->hist_lo) / nb, top = 0;
    for (long k = 0; k < (long)t->hist_sets * nb; k++)
        if (t->hist[k] > top) top = t->hist[k];
    double lo = 0, hi = top > 0 ? top : 1;
    struct braille b;
    braille_init(&b, cw, ch);
    for (int s = t->hist_sets - 1; s >= 0; s--) {   /* the reference drawn last: on top */
        for (int k = 0; k < nb; k++) {
            x[k] = t->hist_lo + (k + 0.5) * width;
            y[k] = t->hist[(size_t)s * nb + k];
        }
        plot_series(&b, x, y, nb, t->hist_lo, t->hist_hi, lo, hi, false, (uint8_t)(s % NCOLORS + 1));
    }
    free(x);
    free(y);
    int px0 = x0 + ylab + 1, py0 = r->y + 2;
    for (int row = 0; row < ch; row++)
        for (int col = 0; col < cw; col++) {
            size_t c = (size_t)row * cw + col;
            if (!b.mask[c]) continue;
            tui_attr(t, tui_color(t, set_color[b.color[c] - 1]), -1, 0);
            if (t->utf8) {
                char g[4];
                braille_utf8(b.mask[c], g);
                mvaddstr(py0 + row, px0 + col, g);
            } else {
                mvaddstr(py0 + row, px0 + col, __builtin_popcount(b.mask[c]) > 2 ? "*" : ".");
            }
        }
    braille_free(&b);
    tui_attr(t, tui_color(t, TC_DIM), -1, 0);
    char num[32];
    plot_fmt_num(hi, num, sizeof num);
    tui_put(py0, x0, num, ylab);
    tui_put(py0 + ch - 1, x0, "0", ylab);
    plot_fmt_num(t->hist_lo, num, sizeof num);
    tui_put(py0 + ch, px0, num, cw / 2);
    char r1[48];
    plot_fmt_num(t->hist_hi, num, sizeof num);
    snprintf(r1, sizeof r1, "%s energy", num);
    int w1 = tui_text_width(r1);
    if (w1 < cw / 2) tui_put(py0 + ch, px0 + cw - w1, r1, w1);
    tui_attr_reset();
}
