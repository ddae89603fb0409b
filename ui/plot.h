/* plot.h — pure rendering helpers for the TUI panels: a braille dot canvas and line plots
 * (loss curves), value→colour mapping for the xterm 256-colour palette with an 8-colour
 * fallback (latent heatmaps), half-block image grids (digits) and placement of graph nodes on a
 * character grid (latent activity on the qubit layout).
 *
 * Nothing here touches curses: every function fills plain arrays that the panels then draw, so
 * all of it is unit-tested without a terminal (tests/test_tui_plot.c). */
#ifndef QV_PLOT_H
#define QV_PLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* --- braille canvas ---------------------------------------------------------------------- */

/* A canvas of cw×ch character cells = (2cw)×(4ch) dots; dot (0,0) is top-left.
 * mask[cell] is the braille dot pattern (glyph U+2800 + mask); color[cell] the colour index of
 * the last series that set a dot in that cell (0 = none). */
struct braille {
    int cw, ch;          /* size in cells */
    uint8_t *mask;       /* [ch*cw] */
    uint8_t *color;      /* [ch*cw] */
};

void braille_init(struct braille *b, int cw, int ch);   /* zeroed canvas; cw,ch >= 0 */
void braille_free(struct braille *b);
void braille_clear(struct braille *b);
/* The mask bit of dot (dx,dy) within its cell (dx 0..1, dy 0..3). */
uint8_t braille_bit(int dx, int dy);
/* Set a dot; dots outside the canvas are ignored. */
void braille_set(struct braille *b, int x, int y, uint8_t color);
/* Straight line between two dots (inclusive), clipped to the canvas. */
void braille_line(struct braille *b, int x0, int y0, int x1, int y1, uint8_t color);
/* UTF-8 encoding of the glyph for a mask into out[4] (3 bytes + NUL). */
void braille_utf8(uint8_t mask, char out[4]);

/* --- line plots -------------------------------------------------------------------------- */

/* Data range of finite y values (and > 0 when logy).  Returns false when there are none. */
bool plot_range(const double *y, long n, bool logy, double *lo, double *hi);
/* Expand [lo,hi] into a displayable range: padded, non-degenerate (log: in log10 units when
 * logy, so callers pass log10 values). */
void plot_pad_range(double *lo, double *hi);
/* Exponential moving average, NaN-transparent: out[i] = a*out[i-1] + (1-a)*y[i] over finite
 * samples (out[i] = NaN where y[i] is NaN); out may alias y.  a in [0,1). */
void plot_ema(const double *y, double *out, long n, double a);
/* Rasterise one series (x[n], y[n]) into the canvas: points mapped from the data window
 * [x0,x1]×[y0,y1] (y0,y1 already log10 when logy) to dots, consecutive finite points joined by
 * lines; NaN (or ≤0 with logy) breaks the line.  Returns the number of points drawn. */
long plot_series(struct braille *b, const double *x, const double *y, long n,
                 double x0, double x1, double y0, double y1, bool logy, uint8_t color);
/* Short human number for axis labels ("1.2k", "0.031", "-95.3") into buf. */
void plot_fmt_num(double v, char *buf, size_t n);

/* --- colours ----------------------------------------------------------------------------- */

/* Nearest xterm-256 palette index (16..255: 6×6×6 cube or the grey ramp) to an RGB colour. */
int color_rgb_to_256(int r, int g, int b);
/* RGB of a palette index 16..255 (cube or grey ramp). */
void color_256_to_rgb(int idx, int *r, int *g, int *b);
/* Sequential colormap (viridis-like, dark blue → yellow) for v in [0,1] (clamped; NaN → 0):
 * a 256-palette index.  Monotonic in lightness. */
int color_ramp_256(double v);
/* 8-colour fallback: level 0..4 of v (blue, cyan, green, yellow, red as COLOR_ numbers 4,6,2,3,1)
 * returned as the curses colour number; *shade gets 0..3 for a shade glyph ░▒▓█. */
int color_ramp_8(double v, int *shade);
/* Quantise v in [0,1] to 0..levels-1 (clamped, NaN → 0). */
int color_level(double v, int levels);
/* Grey level (0..levels-1) → 256-palette index: 16 (black), the grey ramp 232..255, 231 (white). */
int color_grey_256(int level, int levels);

/* --- half-block images ------------------------------------------------------------------- */

/* Choose how to tile n images of h×w pixels into an area of cols×rows cells, two pixel rows per
 * cell, with 1 column gap between images, downsampling by `scale` (1, 2 or 4, smallest that
 * fits at least min(n, 4) images, else the largest).  Outputs the grid (gc × gr images), the
 * scale, and the cell size of one image (iw × ih).  Returns the number of images shown. */
int img_grid_fit(int n, int h, int w, int cols, int rows, int *gc, int *gr, int *scale,
                 int *iw, int *ih);
/* Render images into a cell buffer of cols×rows: top[c], bot[c] get grey levels 0..levels-1 of
 * the upper and lower pixel of each cell (averaged over scale×scale blocks), or -1 where there
 * is no image.  values: [n*h*w] in [0,1] row-major. */
void img_render(const float *values, int n, int h, int w, int gc, int gr, int scale,
                int cols, int rows, int levels, int8_t *top, int8_t *bot);

/* --- graph placement --------------------------------------------------------------------- */

/* Place nv nodes with drawing coordinates x,y in [0,1] (y down) on a cols×rows cell grid,
 * keeping the aspect ratio (a cell is ~2× taller than wide, so a unit square spans 2k columns by
 * k rows), centred.  cell[i] = row*cols + col.  Returns 0, or -1 when cols or rows < 1. */
int graph_place(int nv, const float *x, const float *y, int cols, int rows, int *cell);
/* Grid placement for a factorised (Bernoulli) prior of n units: near-square grid. */
int grid_place(int n, int cols, int rows, int *cell);

#endif
