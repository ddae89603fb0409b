/* plot_graph.c — placement of a prior's units on a character grid for the latent-activity panel:
 * graph nodes at their drawing coordinates (Chimera/Pegasus/Zephyr layouts from graph.h), or a
 * near-square grid for a factorised Bernoulli prior.  Pure functions (no curses); see plot.h. */
#include "plot.h"

#include <math.h>

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

int graph_place(int nv, const float *x, const float *y, int cols, int rows, int *cell)
{
    if (cols < 1 || rows < 1)
        return -1;
    /* A character cell is about twice as tall as wide: a unit square spans 2k columns, k rows. */
    double k = cols / 2.0 < rows ? cols / 2.0 : rows;
    double spanc = 2 * k, spanr = k;
    double offc = (cols - spanc) / 2, offr = (rows - spanr) / 2;
    for (int i = 0; i < nv; i++) {
        double fx = isfinite(x[i]) ? x[i] : 0, fy = isfinite(y[i]) ? y[i] : 0;
        fx = fx < 0 ? 0 : fx > 1 ? 1 : fx;
        fy = fy < 0 ? 0 : fy > 1 ? 1 : fy;
        int c = clampi((int)floor(offc + fx * (spanc - 1) + 0.5), 0, cols - 1);
        int r = clampi((int)floor(offr + fy * (spanr - 1) + 0.5), 0, rows - 1);
        cell[i] = r * cols + c;
    }
    return 0;
}

int grid_place(int n, int cols, int rows, int *cell)
{
    if (cols < 1 || rows < 1)
        return -1;
    if (n <= 0)
        return 0;
    int gc = (int)ceil(sqrt((double)n));
    int gr = (n + gc - 1) / gc;
    int cw = cols >= 2 * gc ? 2 : 1;   /* two columns per unit look square when they fit */
    int offc = cols >= cw * gc ? (cols - cw * gc) / 2 : 0;
    int offr = rows >= gr ? (rows - gr) / 2 : 0;
    for (int i = 0; i < n; i++) {
        int gx = i % gc, gy = i / gc;
        int c = cols >= cw * gc ? offc + gx * cw : (int)((long)gx * cols / gc);
        int r = rows >= gr ? offr + gy : (int)((long)gy * rows / gr);
        cell[i] = clampi(r, 0, rows - 1) * cols + clampi(c, 0, cols - 1);
    }
    return 0;
}
