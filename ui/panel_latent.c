/* panel_latent.c — latent activity: the prior's units drawn at their positions on the
 * Chimera/Pegasus/Zephyr layout (graph x/y from the state snapshot), coloured by activity
 * (variance of E_q[z_u] over data, normalised by the largest) or by mean E_q[z_u], with the
 * active-unit count; a near-square grid for a factorised Bernoulli prior.  Several units sharing
 * a cell (big graphs, small panels) are averaged.  Data: QV_EV_ACTIVITY. */
#include "tui_priv.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void panel_latent_draw(struct tui *t, const struct rect *r)
{
    const struct tui_snapshot *s = t->snap;
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0), h = r->h - 1;
    int nunits = s && s->nv > 0 ? s->nv : (s && s->bernoulli_n > 0 ? s->bernoulli_n : t->act_n);
    bool have = t->act && t->act_n > 0 && t->act_n == nunits;
    char extra[128];
    if (have)
        snprintf(extra, sizeof extra, "%d units, %d active \xe2\x80\x94 %s", t->act_n, t->act_active,
                 t->lat_show_mean ? "mean E_q[z]" : "activity Var E_q[z]");
    else if (nunits > 0)
        snprintf(extra, sizeof extra, "%d units \xe2\x80\x94 activity after training", nunits);
    else
        snprintf(extra, sizeof extra, "no prior \xe2\x80\x94 prior new chimera 2 2 4");
    tui_title(t, r, "latent", extra, t->focus == PANEL_LATENT);
    if (nunits <= 0 || w < 4 || h < 2)
        return;
    int cols = w - 1, rows = h;
    int *cell = qv_mallocarray((size_t)nunits, sizeof(int));
    bool on_graph = s && s->nv == nunits && s->x && s->y;
    if (on_graph)
        graph_place(nunits, s->x, s->y, cols, rows, cell);
    else
        grid_place(nunits, cols, rows, cell);
    /* aggregate values per cell */
    size_t nc = (size_t)cols * rows;
    double *sum = qv_calloc(nc, sizeof(double));
    int *cnt = qv_calloc(nc, sizeof(int));
    double vmax = 0;
    if (have && !t->lat_show_mean)
        for (int i = 0; i < nunits; i++)
            if (isfinite(t->act[i]) && t->act[i] > vmax) vmax = t->act[i];
    for (int i = 0; i < nunits; i++) {
        double v = 0;
        if (have) {
            if (t->lat_show_mean) v = t->act_mean ? t->act_mean[i] : NAN;
            else v = vmax > 0 ? t->act[i] / vmax : 0;
        }
        sum[cell[i]] += isfinite(v) ? v : 0;
        cnt[cell[i]]++;
    }
    for (size_t c = 0; c < nc; c++) {
        if (!cnt[c])
            continue;
        int y = r->y + 1 + (int)(c / cols), x = x0 + 1 + (int)(c % cols);
        double v = sum[c] / cnt[c];
        if (!have) {
            tui_attr(t, tui_color(t, TC_DIM), -1, 0);
            mvaddstr(y, x, t->utf8 ? "\xc2\xb7" : ".");
        } else if (t->colors >= 256) {
            tui_attr(t, color_ramp_256(v), -1, A_BOLD);
            mvaddstr(y, x, t->utf8 ? "\xe2\x97\x8f" : "o");   /* ● */
        } else {
            int shade;
            int col = color_ramp_8(v, &shade);
            tui_attr(t, t->colors ? col : -1, -1, 0);
            static const char *const sh[4] = { "\xe2\x96\x91", "\xe2\x96\x92", "\xe2\x96\x93", "\xe2\x96\x88" };
            static const char *const ash[4] = { ".", ":", "o", "#" };
            mvaddstr(y, x, t->utf8 ? sh[shade] : ash[shade]);
        }
    }
    tui_attr_reset();
    free(sum);
    free(cnt);
    free(cell);
}
