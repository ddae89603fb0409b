/* fig.h — figures as PNG files for slides and reports: a small plotting library over cairo
 * (image surface, written as PNG through cairo_surface_write_to_png_stream, libpng underneath).
 *
 * A figure is a grid of rows × cols panels.  Each panel has x/y axes with "nice" ticks (steps of
 * 1, 2 or 5 × 10^k, or decades on a log y axis), tick labels, axis titles, a title and a legend
 * (drawn when any series has a label), and holds any mix of series:
 *   line      polyline through (x, y), optional markers; NaN y breaks the line (gaps)
 *   bars      a step histogram over bin edges, filled with transparency so several overlay
 *   scatter   markers only
 *   vline     a vertical dashed marker line at one x
 *   image     an h × w heat map stretched over given data bounds (grey or a colour map)
 *   graph     nodes at layout coordinates (a qubit graph) coloured by a value, edges in grey
 * Every series copies its data: the caller's arrays may be freed right after the call.  Colours
 * follow a fixed palette in the order series are added (figp_color overrides).
 *
 * Usage:
 *     struct fig *f = fig_new(800, 500, 1, 1);
 *     struct fig_panel *p = fig_panel(f, 0);
 *     figp_labels(p, "loss", "epoch", "nats");
 *     figp_line(p, x, y, n, "train");
 *     if (fig_write_png(f, "loss.png", err, sizeof err)) … err holds "loss.png: …"
 *     fig_free(f);
 *
 * A grid of digits (or of any images): one panel per image, each figp_axes_off(p, true) with a
 * grey figp_image and a title (a mode's weight, a label) — rows × cols panels of one figure.
 *
 * Axis limits: fitted to the data (with 4 % padding, widened to whole ticks) unless set by
 * figp_xlim / figp_ylim.  Data coordinates map to pixels after layout; figp_plot_area gives the
 * pixel rectangle of a panel's axes (for tests and for callers that annotate).
 * Library code: nothing here prints or exits; errors set qv_seterr (fig_write_png also copies
 * the message to err). */
#ifndef QV_FIG_H
#define QV_FIG_H

#include "qv.h"

struct fig;
struct fig_panel;

#define FIG_MAX_SIDE 8192     /* pixels, either side */
#define FIG_MAX_PANELS 64

/* Colour maps for image and graph series. */
enum fig_cmap { FIG_CMAP_GREY, FIG_CMAP_VIRIDIS, FIG_CMAP_DIVERGING };

/* A width × height pixel figure of rows × cols panels (row-major: panel i at row i / cols).
 * NULL with an error on sizes out of range. */
struct fig *fig_new(int width, int height, int rows, int cols);
void fig_free(struct fig *f);
/* A title over the whole figure (copied; NULL clears). */
void fig_title(struct fig *f, const char *title);
/* Panel i (0-based, row-major); NULL with an error when out of range.  Owned by f. */
struct fig_panel *fig_panel(struct fig *f, int i);

/* Panel text (each copied; NULL leaves as is). */
void figp_labels(struct fig_panel *p, const char *title, const char *xlabel, const char *ylabel);
/* Fixed axis limits (lo < hi, finite; other values are ignored); else fitted to the data. */
void figp_xlim(struct fig_panel *p, double lo, double hi);
void figp_ylim(struct fig_panel *p, double lo, double hi);
/* Logarithmic y axis (data ≤ 0 are left out of lines, bars start at the axis bottom). */
void figp_logy(struct fig_panel *p, bool on);
/* No axes, ticks or frame (images, graphs, digit grids); the plot area then fills the panel
 * below its title.  With equal aspect, data units have the same length in x and y. */
void figp_axes_off(struct fig_panel *p, bool equal_aspect);

/* Series.  Each returns its index in the panel (≥ 0) or -1 with an error (n < 1, too many
 * series, non-finite x).  label may be NULL (not in the legend).  x, y: [n]. */
int figp_line(struct fig_panel *p, const double *x, const double *y, long n, const char *label);
int figp_scatter(struct fig_panel *p, const double *x, const double *y, long n, const char *label);
/* A histogram from its bins: edges [nbins + 1] increasing, heights [nbins]. */
int figp_bars(struct fig_panel *p, const double *edges, const double *heights, int nbins,
              const char *label);
/* A histogram of values [n] in nbins equal bins over [lo, hi] (lo ≥ hi: the data's range);
 * density: heights are probability densities (integrate to 1 over the counted values), else
 * counts.  Values outside [lo, hi] and NaN are not counted. */
int figp_hist(struct fig_panel *p, const double *values, long n, int nbins, double lo, double hi,
              bool density, const char *label);
int figp_vline(struct fig_panel *p, double x, const char *label);
/* An image [h × w] (row 0 at the top) drawn over data x ∈ [x0, x1], y ∈ [y0, y1]; values mapped
 * through cmap from [vmin, vmax] (vmin ≥ vmax: the data's range; grey: vmin black, vmax white).
 * Pixels stay sharp (nearest neighbour).  Sets the axis limits to the bounds if not set. */
int figp_image(struct fig_panel *p, const float *values, int h, int w, double x0, double x1,
               double y0, double y1, enum fig_cmap cmap, double vmin, double vmax);
/* A graph: node coordinates x, y [nv] in [0, 1] with y down (struct graph's layout), edges
 * [ne] pairs of node indices, value [nv] coloured through cmap from [vmin, vmax] (value NULL:
 * every node mid-grey).  Drawn in its own square frame inside the plot area (call
 * figp_axes_off first).  A colour bar at the right names vmin and vmax. */
int figp_graph(struct fig_panel *p, const float *x, const float *y, int nv, const int (*edges)[2],
               long ne, const float *value, enum fig_cmap cmap, double vmin, double vmax);

/* Style of series s: colour (r, g, b in [0, 1]), line width in pixels (≤ 0 keeps), marker
 * radius in pixels (0 = none; lines get markers at every point). */
int figp_color(struct fig_panel *p, int s, double r, double g, double b);
int figp_style(struct fig_panel *p, int s, double width, double marker);
/* Dashed line (vlines are dashed by default). */
int figp_dashed(struct fig_panel *p, int s, bool on);

/* Render and write a PNG atomically (a temporary beside path, renamed over it).  0, or -1 with
 * one line "PATH: problem" in err (err may be NULL; errn its size) and in qv_errmsg(). */
int fig_write_png(struct fig *f, const char *path, char *err, size_t errn);
/* Render into an RGB buffer (tests, other encoders): *out malloc'ed [height × width × 3]. */
int fig_render_rgb(struct fig *f, unsigned char **out, int *width, int *height);
/* The pixel rectangle of panel p's plot area in the last rendering (x0 < x1 left to right,
 * y0 < y1 top to bottom), and the pixel of data point (x, y).  -1 before any rendering. */
int figp_plot_area(const struct fig_panel *p, double *x0, double *y0, double *x1, double *y1);
int figp_to_pixel(const struct fig_panel *p, double x, double y, double *px, double *py);

/* Nice ticks for [lo, hi]: about `want` values at a 1-2-5 × 10^k step, all within [lo, hi]
 * (with a tolerance of 1e-9 steps).  Writes up to max ticks, returns the count; *step the step.
 * Used for the axes; exposed for tests. */
int fig_nice_ticks(double lo, double hi, int want, double *ticks, int max, double *step);
/* The nice range around [lo, hi]: lo rounded down and hi up to whole steps. */
void fig_nice_range(double *lo, double *hi, int want);

#endif
