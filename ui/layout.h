/* layout.h — where each panel of the workbench goes for a terminal of a given size.  A pure
 * function of (rows, cols, focused panel): no curses, unit-tested at many sizes
 * (tests/test_tui_layout.c: rectangles inside the screen, no overlap, minimum sizes). */
#ifndef QV_LAYOUT_H
#define QV_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS 60
#define LAYOUT_MIN_ROWS 16

enum panel_id {
    PANEL_STATUS,   /* top two rows: dataset, model, sampler, job progress */
    PANEL_LOSS,     /* loss curves */
    PANEL_LATENT,   /* latent activity on the prior's graph */
    PANEL_DIGITS,   /* image grid */
    PANEL_SCHED,    /* anneal-schedule editor */
    PANEL_HIST,     /* energy histograms of `compare` (shown when focused) */
    PANEL_LOG,      /* scrollable log */
    PANEL_CMD,      /* the command line (bottom row) */
    PANEL_N,
};
#define PANEL_OVERVIEW (-1)   /* focus value: every panel that fits */

struct rect { int y, x, h, w; };   /* h == 0 or w == 0: panel hidden */

struct layout {
    int rows, cols;
    bool too_small;           /* below LAYOUT_MIN_*: only a message is drawn */
    struct rect r[PANEL_N];
};

/* Minimum size of a visible panel (including its title row). */
void layout_min_size(enum panel_id p, int *h, int *w);
/* Compute the layout; focus = PANEL_OVERVIEW or a panel id (that panel gets the main area,
 * with a log strip below when there is room).  Returns 0, or -1 when too small. */
int layout_compute(int rows, int cols, int focus, struct layout *lo);
/* Panel name ("loss") and lookup by name or unique prefix (the names of cmd_view_panels);
 * "overview"/"all" → PANEL_OVERVIEW.  layout_panel_lookup returns -2 when unknown. */
const char *layout_panel_name(int p);
int layout_panel_lookup(const char *name);
bool rect_visible(const struct rect *r);
bool rect_overlap(const struct rect *a, const struct rect *b);

#endif
