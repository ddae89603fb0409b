/* png.h — PNG grids of greyscale images (libpng), written atomically.
 * (Named like libpng's header: src/ files get this one with #include "png.h"; from ui/ use
 * "../src/png.h", since -I/usr/include/libpng16 precedes -Isrc.) */
#ifndef QV_PNG_H
#define QV_PNG_H

#include "qv.h"

/* Write n images (pixels: n×h×w greys in [0,1], row-major; values outside are clamped) as a
 * rows×cols grid: each image is scaled by the integer `scale` (nearest neighbour) and cells are
 * separated by `margin` pixels of mid grey (also around the border).  Cells beyond n stay
 * background (black).  rows or cols may be 0: then chosen to make the grid near-square.
 * 8-bit greyscale PNG; temp file + fsync + rename.  Returns 0 or -1 (qv_seterr). */
int png_write_grid(const char *path, const float *pixels, int n, int h, int w, int rows, int cols,
                   int margin, int scale);

/* Read an 8-bit greyscale PNG (tests, round trips): *out malloc'ed [height×width]. */
int png_read_grey(const char *path, unsigned char **out, int *width, int *height);

#endif
