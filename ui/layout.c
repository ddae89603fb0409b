/* layout.c — panel placement for the workbench screen; see layout.h.
 *
 * Overview, wide terminals (≥ 100 columns):      Narrow (60..99 columns):
 *   status (2 rows)                                 status
 *   loss      | digits                              loss
 *   ----------| latent                              log        | digits
 *   log       | schedule                            command line
 *   command line
 * Focused: the focused panel takes the main area, with a log strip under it when there is room. */
#include "layout.h"
#include "cmd.h"

#include <string.h>

/* Panel names are the view command's (cmd_view_panels: "overview", then the panels in the order
 * of enum panel_id); status and command line are not views and have their own. */
const char *layout_panel_name(int p)
{
    if (p == PANEL_OVERVIEW)
        return cmd_view_panels[0];
    if (p == PANEL_STATUS)
        return "status";
    if (p == PANEL_CMD)
        return "command";
    return p > PANEL_STATUS && p < PANEL_CMD ? cmd_view_panels[p] : "?";
}

int layout_panel_lookup(const char *name)
{
    if (!name || !*name)
        return -2;
    if (!strcmp(name, "all"))
        return PANEL_OVERVIEW;
    int i = qv_unique_prefix(name, qv_name_of_strv, cmd_view_panels, NULL, 0);
    return i < 0 ? -2 : i == 0 ? PANEL_OVERVIEW : i;
}

void layout_min_size(enum panel_id p, int *h, int *w)
{
    switch (p) {
    case PANEL_STATUS: *h = 2; *w = LAYOUT_MIN_COLS; break;
    case PANEL_CMD:    *h = 1; *w = LAYOUT_MIN_COLS; break;
    case PANEL_LOSS:   *h = 6; *w = 24; break;
    case PANEL_LATENT: *h = 5; *w = 16; break;
    case PANEL_DIGITS: *h = 5; *w = 16; break;
    case PANEL_SCHED:  *h = 6; *w = 24; break;
    case PANEL_HIST:   *h = 6; *w = 24; break;
    case PANEL_LOG:    *h = 3; *w = 20; break;
    default:           *h = 1; *w = 1; break;
    }
}

bool rect_visible(const struct rect *r)
{
    return r->h > 0 && r->w > 0;
}

bool rect_overlap(const struct rect *a, const struct rect *b)
{
    if (!rect_visible(a) || !rect_visible(b))
        return false;
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static struct rect mk(int y, int x, int h, int w)
{
    struct rect r = { y, x, h, w };
    return r;
}

/* Split a column rect vertically among panels with given weights; panels whose share would be
 * below their minimum height are dropped (weight 0), largest weights first kept. */
static void vsplit(struct layout *lo, struct rect area, const int *ids, const int *weight, int n)
{
    int wsum = 0, keep[8], nk = 0;
    for (int i = 0; i < n; i++) { keep[i] = 1; wsum += weight[i]; }
    for (;;) {
        /* check each kept panel gets at least its minimum */
        int worst = -1;
        nk = 0;
        for (int i = 0; i < n; i++) {
            if (!keep[i]) continue;
            nk++;
            int mh, mw;
            layout_min_size(ids[i], &mh, &mw);
            int share = area.h * weight[i] / (wsum ? wsum : 1);
            if (share < mh || area.w < mw) {
                if (worst < 0 || weight[i] < weight[worst]) worst = i;
            }
        }
        if (worst < 0 || nk == 0)
            break;
        keep[worst] = 0;
        wsum -= weight[worst];
    }
    int y = area.y, left = area.h, wleft = wsum;
    for (int i = 0; i < n; i++) {
        if (!keep[i]) { lo->r[ids[i]] = mk(0, 0, 0, 0); continue; }
        int h = wleft ? left * weight[i] / wleft : left;
        /* last kept panel takes the remainder */
        bool last = true;
        for (int j = i + 1; j < n; j++) if (keep[j]) last = false;
        if (last) h = left;
        lo->r[ids[i]] = mk(y, area.x, h, area.w);
        y += h; left -= h; wleft -= weight[i];
    }
}

int layout_compute(int rows, int cols, int focus, struct layout *lo)
{
    memset(lo, 0, sizeof *lo);
    lo->rows = rows;
    lo->cols = cols;
    if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
        lo->too_small = true;
        return -1;
    }
    lo->r[PANEL_STATUS] = mk(0, 0, 2, cols);
    lo->r[PANEL_CMD] = mk(rows - 1, 0, 1, cols);
    struct rect main = mk(2, 0, rows - 3, cols);

    if (focus == PANEL_LOG) {
        lo->r[PANEL_LOG] = main;
        return 0;
    }
    if (focus >= 0 && focus < PANEL_N && focus != PANEL_STATUS && focus != PANEL_CMD) {
        int logh = main.h >= 20 ? (main.h / 4 < 8 ? main.h / 4 : 8) : 0;
        if (logh >= 3) {
            lo->r[focus] = mk(main.y, 0, main.h - logh, cols);
            lo->r[PANEL_LOG] = mk(main.y + main.h - logh, 0, logh, cols);
        } else {
            lo->r[focus] = main;
        }
        return 0;
    }

    if (cols >= 100) {
        int L = cols * 11 / 20;
        struct rect left = mk(main.y, 0, main.h, L), right = mk(main.y, L, main.h, cols - L);
        int lid[2] = { PANEL_LOSS, PANEL_LOG }, lw[2] = { 3, 2 };
        vsplit(lo, left, lid, lw, 2);
        int rid[3] = { PANEL_DIGITS, PANEL_LATENT, PANEL_SCHED }, rw[3] = { 2, 1, 1 };
        if (main.h >= 24)
            vsplit(lo, right, rid, rw, 3);
        else
            vsplit(lo, right, rid, rw, 2);   /* no room for the schedule: only via `view` */
    } else {
        int toph = main.h / 2;
        lo->r[PANEL_LOSS] = mk(main.y, 0, toph, cols);
        int bh = main.h - toph, L = cols / 2;
        lo->r[PANEL_LOG] = mk(main.y + toph, 0, bh, L);
        lo->r[PANEL_DIGITS] = mk(main.y + toph, L, bh, cols - L);
    }
    return 0;
}
