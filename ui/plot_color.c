/* plot_color.c — colour mapping for the TUI: nearest xterm-256 palette entries, a sequential
 * (viridis-like) colormap for heatmaps, grey ramps for images, and the 8-colour fallback.
 * Pure functions (no curses); see plot.h.
 *
 * The xterm palette: indices 16..231 are a 6×6×6 cube, index = 16 + 36r + 6g + b, each channel
 * level one of {0, 95, 135, 175, 215, 255}; 232..255 are greys 8, 18, …, 238. */
#include "plot.h"

#include <math.h>

static const int cube_level[6] = { 0, 95, 135, 175, 215, 255 };

static int nearest_cube(int c)
{
    int best = 0, bd = 1 << 30;
    for (int i = 0; i < 6; i++) {
        int d = c - cube_level[i];
        d = d < 0 ? -d : d;
        if (d < bd) { bd = d; best = i; }
    }
    return best;
}

static int clamp255(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

void color_256_to_rgb(int idx, int *r, int *g, int *b)
{
    if (idx >= 232 && idx <= 255) {
        int v = 8 + 10 * (idx - 232);
        *r = *g = *b = v;
    } else if (idx >= 16 && idx <= 231) {
        int k = idx - 16;
        *r = cube_level[k / 36];
        *g = cube_level[(k / 6) % 6];
        *b = cube_level[k % 6];
    } else {
        *r = *g = *b = 0;
    }
}

int color_rgb_to_256(int r, int g, int b)
{
    r = clamp255(r); g = clamp255(g); b = clamp255(b);
    int ri = nearest_cube(r), gi = nearest_cube(g), bi = nearest_cube(b);
    int cube = 16 + 36 * ri + 6 * gi + bi;
    int dr = r - cube_level[ri], dg = g - cube_level[gi], db = b - cube_level[bi];
    long dcube = (long)dr * dr + (long)dg * dg + (long)db * db;
    /* best grey of the ramp for the mean intensity */
    int avg = (r + g + b) / 3;
    int k = (int)lround((avg - 8) / 10.0);
    if (k < 0) k = 0;
    if (k > 23) k = 23;
    int gv = 8 + 10 * k;
    long dgrey = (long)(r - gv) * (r - gv) + (long)(g - gv) * (g - gv) + (long)(b - gv) * (b - gv);
    return dgrey < dcube ? 232 + k : cube;
}

static double clamp01(double v)
{
    if (!(v == v)) return 0;   /* NaN */
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

int color_ramp_256(double v)
{
    /* A viridis-like ramp (purple → blue → teal → green → yellow) picked from the 6×6×6 cube so
     * that lightness (luma) strictly increases: interpolating viridis and taking the nearest
     * palette entry does not, because the cube is coarse. */
    static const int ramp[13] = { 53, 54, 24, 25, 31, 37, 72, 78, 113, 149, 185, 220, 226 };
    return ramp[color_level(v, 13)];
}

int color_ramp_8(double v, int *shade)
{
    /* curses COLOR_BLUE 4, COLOR_CYAN 6, COLOR_GREEN 2, COLOR_YELLOW 3, COLOR_RED 1 */
    static const int col[5] = { 4, 6, 2, 3, 1 };
    int l = color_level(v, 5);
    if (shade)
        *shade = color_level(v, 4);
    return col[l];
}

int color_level(double v, int levels)
{
    if (levels <= 1)
        return 0;
    int l = (int)lround(clamp01(v) * (levels - 1));
    return l < 0 ? 0 : l >= levels ? levels - 1 : l;
}

int color_grey_256(int level, int levels)
{
    if (levels <= 1 || level <= 0)
        return 16;
    if (level >= levels - 1)
        return 231;
    int g = (int)lround(255.0 * level / (levels - 1));
    return color_rgb_to_256(g, g, g);
}
