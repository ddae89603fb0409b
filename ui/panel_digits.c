/* panel_digits.c — a grid of images (generated or data digits) from QV_EV_IMAGES drawn with
 * half blocks: '▀' whose foreground is the upper pixel and background the lower one, in grey
 * levels of the 256-colour ramp (black/white with 8 colours, ▀▄█ without colours, an ASCII
 * density ramp without UTF-8).  Downsamples ×2 or ×4 when the panel is small. */
#include "tui_priv.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void panel_digits_draw(struct tui *t, const struct rect *r)
{
    char extra[128] = "";
    if (t->img && t->img_n > 0)
        snprintf(extra, sizeof extra, "%s (%d)", t->img_title[0] ? t->img_title : "images", t->img_n);
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0), h = r->h - 1;
    if (!t->img || t->img_n <= 0) {
        tui_title(t, r, "digits", NULL, t->focus == PANEL_DIGITS);
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        tui_put(r->y + 1 + h / 2, x0 + 2, "no digits yet \xe2\x80\x94 train or  sample 16", w - 3);
        tui_attr_reset();
        return;
    }
    int gc, gr, scale, iw, ih;
    int shown = img_grid_fit(t->img_n, t->img_h, t->img_w, w - 1, h, &gc, &gr, &scale, &iw, &ih);
    if (shown < t->img_n) {
        size_t l = strlen(extra);
        snprintf(extra + l, sizeof extra - l, ", showing %d", shown);
    }
    if (scale > 1) {
        size_t l = strlen(extra);
        snprintf(extra + l, sizeof extra - l, " at 1/%d", scale);
    }
    tui_title(t, r, "digits", extra, t->focus == PANEL_DIGITS);
    if (shown <= 0)
        return;
    int cols = w - 1, rows = h;
    int levels = !t->utf8 ? 10 : t->colors >= 256 ? 12 : 2;
    int8_t *top = qv_malloc((size_t)cols * rows), *bot = qv_malloc((size_t)cols * rows);
    img_render(t->img, t->img_n, t->img_h, t->img_w, gc, gr, scale, cols, rows, levels, top, bot);
    static const char ramp[] = " .:-=+*#%@";
    for (int row = 0; row < rows; row++)
        for (int col = 0; col < cols; col++) {
            size_t c = (size_t)row * cols + col;
            if (top[c] < 0)
                continue;
            int y = r->y + 1 + row, x = x0 + 1 + col;
            if (t->utf8 && t->colors >= 256) {
                tui_attr(t, color_grey_256(top[c], levels), color_grey_256(bot[c], levels), 0);
                mvaddstr(y, x, "\xe2\x96\x80");
            } else if (t->utf8 && t->colors) {
                tui_attr(t, top[c] ? COLOR_WHITE : COLOR_BLACK, bot[c] ? COLOR_WHITE : COLOR_BLACK, 0);
                mvaddstr(y, x, "\xe2\x96\x80");
            } else if (t->utf8) {
                static const char *const q[4] = { " ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88" };
                tui_attr_reset();
                mvaddstr(y, x, q[(top[c] ? 2 : 0) + (bot[c] ? 1 : 0)]);
            } else {
                int avg = (top[c] + bot[c] + 1) / 2;
                char s[2] = { ramp[avg * 9 / (levels - 1)], 0 };
                tui_attr_reset();
                mvaddstr(y, x, s);
            }
        }
    tui_attr_reset();
    free(top);
    free(bot);
}
