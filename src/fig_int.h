/* fig_int.h — the figure library's insides, shared by fig.c (series, limits, output) and
 * fig_draw.c (layout and drawing).  Not for other modules: use fig.h. */
#ifndef QV_FIG_INT_H
#define QV_FIG_INT_H

#include "fig.h"
#include <cairo.h>

#define FIG_MAX_SERIES 32

enum fig_kind { FIG_LINE, FIG_SCATTER, FIG_BARS, FIG_VLINE, FIG_IMAGE, FIG_GRAPH };

struct fig_series {
    enum fig_kind kind;
    char *label;              /* legend text, or NULL */
    double rgb[3];
    double width;             /* line width, pixels */
    double marker;            /* marker radius, pixels (0 = none) */
    bool dashed;
    long n;                   /* points; bins (bars); pixels (image); nodes (graph) */
    double *x, *y;            /* line/scatter [n]; bars: x = edges [n + 1], y = heights [n];
                               * vline: x[0] */
    float *v;                 /* image [h × w]; graph node values [n] (may be NULL) */
    float *gx, *gy;           /* graph node coordinates [n], in [0, 1], y down */
    int (*edges)[2];          /* graph edges [ne] */
    long ne;
    int h, w;                 /* image */
    double b[4];              /* image bounds x0, x1, y0, y1 */
    enum fig_cmap cmap;
    double vmin, vmax;
};

struct fig_panel {
    char *title, *xlabel, *ylabel;
    bool xset, yset, logy, axes_off, equal;
    double xlo, xhi, ylo, yhi;            /* fixed limits (data units) */
    struct fig_series ser[FIG_MAX_SERIES];
    int ns;
    /* the last rendering: plot area in pixels, data limits (y in log10 on a log axis) */
    bool laid;
    double ax0, ay0, ax1, ay1;
    double lx0, lx1, ly0, ly1;
};

struct fig {
    int w, h, rows, cols;
    char *title;
    struct fig_panel *p;      /* [rows × cols] */
};

/* fig.c */
void fig_limits(struct fig_panel *p);
void fig_map(const struct fig_panel *p, double x, double y, double *px, double *py);
/* fig_draw.c: the whole figure on a new RGB24 image surface (NULL with an error). */
cairo_surface_t *fig_render(struct fig *f);
void fig_cmap_rgb(enum fig_cmap m, double t, double rgb[3]);

#endif
