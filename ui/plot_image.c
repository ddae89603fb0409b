/* plot_image.c — half-block rendering of image grids (generated or data digits): two pixel rows
 * per character cell, drawn by the digits panel as '▀' with foreground = upper pixel and
 * background = lower pixel.  Pure functions (no curses); see plot.h. */
#include "plot.h"

#include <string.h>

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

int img_grid_fit(int n, int h, int w, int cols, int rows, int *gc, int *gr, int *scale,
                 int *iw, int *ih)
{
    static const int scales[3] = { 1, 2, 4 };
    int want = n < 4 ? n : 4;
    *gc = *gr = 0;
    *scale = 1;
    *iw = *ih = 0;
    if (n <= 0 || h <= 0 || w <= 0 || cols <= 0 || rows <= 0)
        return 0;
    for (int k = 0; k < 3; k++) {
        int s = scales[k];
        int cw = ceil_div(w, s), chh = ceil_div(ceil_div(h, s), 2);
        int c = (cols + 1) / (cw + 1), r = rows / chh;
        *gc = c; *gr = r; *scale = s; *iw = cw; *ih = chh;
        if (c * r >= want && c > 0 && r > 0)
            break;
    }
    if (*gc <= 0 || *gr <= 0) {
        *gc = *gr = 0;
        return 0;
    }
    /* do not leave whole empty rows of the grid */
    if (*gc > n) *gc = n;
    int needr = ceil_div(n, *gc);
    if (*gr > needr) *gr = needr;
    return n < *gc * *gr ? n : *gc * *gr;
}

/* Mean of the s×s block at pixel (py,px) of one image, clipped to the image; -1 if empty. */
static double block_mean(const float *img, int h, int w, int py, int px, int s)
{
    double sum = 0;
    int cnt = 0;
    for (int y = py; y < py + s && y < h; y++)
        for (int x = px; x < px + s && x < w; x++) {
            sum += img[(size_t)y * w + x];
            cnt++;
        }
    return cnt ? sum / cnt : -1;
}

void img_render(const float *values, int n, int h, int w, int gc, int gr, int scale,
                int cols, int rows, int levels, int8_t *top, int8_t *bot)
{
    size_t ncell = (size_t)cols * (size_t)rows;
    memset(top, -1, ncell);
    memset(bot, -1, ncell);
    if (scale < 1 || gc < 1 || gr < 1)
        return;
    int iw = ceil_div(w, scale), ih = ceil_div(ceil_div(h, scale), 2);
    int shown = n < gc * gr ? n : gc * gr;
    for (int k = 0; k < shown; k++) {
        const float *img = values + (size_t)k * h * w;
        int c0 = (k % gc) * (iw + 1), r0 = (k / gc) * ih;
        for (int cy = 0; cy < ih; cy++) {
            int row = r0 + cy;
            if (row >= rows)
                break;
            for (int cx = 0; cx < iw; cx++) {
                int col = c0 + cx;
                if (col >= cols)
                    break;
                double t = block_mean(img, h, w, 2 * cy * scale, cx * scale, scale);
                double b = block_mean(img, h, w, (2 * cy + 1) * scale, cx * scale, scale);
                size_t c = (size_t)row * cols + col;
                top[c] = (int8_t)color_level(t < 0 ? 0 : t, levels);
                bot[c] = (int8_t)color_level(b < 0 ? 0 : b, levels);
            }
        }
    }
}
