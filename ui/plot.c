/* plot.c — braille dot canvas and line-plot rasterisation for the loss-curve panel.
 * Pure functions (no curses); see plot.h. */
#include "plot.h"
#include "qv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- braille canvas ---------------------------------------------------------------------- */

void braille_init(struct braille *b, int cw, int ch)
{
    b->cw = cw > 0 ? cw : 0;
    b->ch = ch > 0 ? ch : 0;
    size_t n = (size_t)b->cw * (size_t)b->ch;
    b->mask = qv_calloc(n ? n : 1, 1);
    b->color = qv_calloc(n ? n : 1, 1);
}

void braille_free(struct braille *b)
{
    free(b->mask);
    free(b->color);
    b->mask = b->color = NULL;
    b->cw = b->ch = 0;
}

void braille_clear(struct braille *b)
{
    size_t n = (size_t)b->cw * (size_t)b->ch;
    if (n) {
        memset(b->mask, 0, n);
        memset(b->color, 0, n);
    }
}

uint8_t braille_bit(int dx, int dy)
{
    /* Unicode braille numbering: dots 1,2,3 down the left column, 4,5,6 down the right, then
     * dots 7 (left) and 8 (right) on the fourth row. */
    static const uint8_t bits[4][2] = { { 0x01, 0x08 }, { 0x02, 0x10 }, { 0x04, 0x20 }, { 0x40, 0x80 } };
    if (dx < 0 || dx > 1 || dy < 0 || dy > 3)
        return 0;
    return bits[dy][dx];
}

void braille_set(struct braille *b, int x, int y, uint8_t color)
{
    if (x < 0 || y < 0 || x >= 2 * b->cw || y >= 4 * b->ch)
        return;
    size_t c = (size_t)(y / 4) * (size_t)b->cw + (size_t)(x / 2);
    b->mask[c] |= braille_bit(x % 2, y % 4);
    b->color[c] = color;
}

void braille_line(struct braille *b, int x0, int y0, int x1, int y1, uint8_t color)
{
    /* Bresenham; the canvas is small so clipping per dot is cheap enough, but skip lines that
     * are entirely outside to bound the work for wild data. */
    int W = 2 * b->cw, H = 4 * b->ch;
    if ((x0 < 0 && x1 < 0) || (y0 < 0 && y1 < 0) || (x0 >= W && x1 >= W) || (y0 >= H && y1 >= H))
        return;
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (long guard = 0; guard < 4L * (W + H) + 8; guard++) {
        braille_set(b, x0, y0, color);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
    }
}

void braille_utf8(uint8_t mask, char out[4])
{
    unsigned cp = 0x2800u + mask;            /* U+2800..U+28FF: 3-byte UTF-8 */
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    out[3] = 0;
}

/* --- line plots -------------------------------------------------------------------------- */

static bool usable(double v, bool logy)
{
    return isfinite(v) && (!logy || v > 0);
}

bool plot_range(const double *y, long n, bool logy, double *lo, double *hi)
{
    bool any = false;
    double a = 0, b = 0;
    for (long i = 0; i < n; i++) {
        if (!usable(y[i], logy))
            continue;
        double v = logy ? log10(y[i]) : y[i];
        if (!any) { a = b = v; any = true; }
        else { if (v < a) a = v; if (v > b) b = v; }
    }
    if (any) { *lo = a; *hi = b; }
    return any;
}

void plot_pad_range(double *lo, double *hi)
{
    double a = *lo, b = *hi;
    if (!(b > a)) {
        double m = fabs(a) > 1e-12 ? fabs(a) * 0.05 : 0.5;
        a -= m; b += m;
    } else {
        double p = (b - a) * 0.05;
        a -= p; b += p;
    }
    *lo = a; *hi = b;
}

void plot_ema(const double *y, double *out, long n, double a)
{
    bool started = false;
    double s = 0;
    for (long i = 0; i < n; i++) {
        double v = y[i];
        if (!isfinite(v)) { out[i] = NAN; continue; }
        s = started ? a * s + (1 - a) * v : v;
        started = true;
        out[i] = s;
    }
}

long plot_series(struct braille *b, const double *x, const double *y, long n,
                 double x0, double x1, double y0, double y1, bool logy, uint8_t color)
{
    int W = 2 * b->cw, H = 4 * b->ch;
    if (W <= 0 || H <= 0 || !(x1 > x0) || !(y1 > y0))
        return 0;
    double sx = (W - 1) / (x1 - x0), sy = (H - 1) / (y1 - y0);
    long drawn = 0;
    bool have = false;
    int px = 0, py = 0;
    for (long i = 0; i < n; i++) {
        if (!usable(y[i], logy) || !isfinite(x[i])) { have = false; continue; }
        double v = logy ? log10(y[i]) : y[i];
        double fx = (x[i] - x0) * sx, fy = (y1 - v) * sy;
        /* clamp far-out values so int conversion is defined; clipping happens per dot */
        if (fx < -1e6) fx = -1e6; else if (fx > 1e6) fx = 1e6;
        if (fy < -1e6) fy = -1e6; else if (fy > 1e6) fy = 1e6;
        int cx = (int)lround(fx), cy = (int)lround(fy);
        if (have)
            braille_line(b, px, py, cx, cy, color);
        else
            braille_set(b, cx, cy, color);
        px = cx; py = cy; have = true;
        drawn++;
    }
    return drawn;
}

void plot_fmt_num(double v, char *buf, size_t n)
{
    double a = fabs(v);
    if (!isfinite(v)) snprintf(buf, n, "%s", isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
    else if (a >= 1e6) snprintf(buf, n, "%.3g", v);
    else if (a >= 1e4) snprintf(buf, n, "%.1fk", v / 1e3);
    else if (a >= 100) snprintf(buf, n, "%.1f", v);
    else if (a >= 1) snprintf(buf, n, "%.2f", v);
    else if (a >= 1e-3 || a == 0) snprintf(buf, n, "%.3f", v);
    else snprintf(buf, n, "%.2g", v);
}
