/* png.c — libpng writer of image grids (and a reader for round-trip checks).
 * The grid is composed in memory as one 8-bit buffer, then written through qv_atomic (a
 * temporary beside the target, fsync'ed and renamed), so a reader never sees half a PNG. */
#include "png.h"

#include <math.h>
#include <libpng16/png.h>   /* not <png.h>: -Isrc would find this module's own png.h */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PNG_MARGIN_GREY 128

static unsigned char grey8(float v)
{
    if (!(v > 0.0f)) return 0;   /* also NaN */
    if (v >= 1.0f) return 255;
    return (unsigned char)lrintf(v * 255.0f);
}

/* libpng reports errors by longjmp; keep the message for qv_seterr. */
static void png_err_cb(png_structp p, png_const_charp msg)
{
    char *buf = png_get_error_ptr(p);
    if (buf) snprintf(buf, 256, "%s", msg);
    png_longjmp(p, 1);
}
static void png_warn_cb(png_structp p, png_const_charp msg) { (void)p; (void)msg; }

/* libpng's output goes straight into the atomic file; a failed write becomes a png_error. */
static void png_out_cb(png_structp p, png_bytep data, size_t n)
{
    if (qv_atomic_write(png_get_io_ptr(p), data, n)) png_error(p, qv_errmsg());
}
static void png_flush_cb(png_structp p) { (void)p; }

/* Encode img [height × width] 8-bit grey into f.  -1 with err set (f is then aborted). */
static int write_png_file(struct qv_atomic *f, const unsigned char *img, int width, int height,
                          char *err)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err, png_err_cb, png_warn_cb);
    if (!png) return -1;
    png_infop info = png_create_info_struct(png);
    /* assigned after setjmp and read in its error branch: volatile, or longjmp may restore a
     * stale register copy (C11 7.13.2.1) and the branch would leak or free garbage */
    png_bytep *volatile rowp = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        free(rowp);
        png_destroy_write_struct(&png, info ? &info : NULL);
        return -1;
    }
    rowp = malloc((size_t)height * sizeof *rowp);
    if (!rowp) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rowp[y] = (png_bytep)img + (size_t)y * width;
    png_set_write_fn(png, f, png_out_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rowp);
    png_write_end(png, NULL);
    free(rowp);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int png_write_grid(const char *path, const float *pixels, int n, int h, int w, int rows, int cols,
                   int margin, int scale)
{
    if (n < 1 || h < 1 || w < 1) return qv_seterr("%s: nothing to write (%d images of %d×%d)", path, n, h, w);
    if (scale < 1 || scale > 64) return qv_seterr("%s: scale %d out of range 1..64", path, scale);
    if (margin < 0 || margin > 256) return qv_seterr("%s: margin %d out of range 0..256", path, margin);
    if (rows < 0 || cols < 0) return qv_seterr("%s: negative grid size", path);
    if (rows == 0 && cols == 0) {
        cols = (int)ceil(sqrt((double)n));
        rows = (n + cols - 1) / cols;
    } else if (rows == 0) {
        rows = (n + cols - 1) / cols;
    } else if (cols == 0) {
        cols = (n + rows - 1) / rows;
    }
    long width = (long)cols * (w * scale + margin) + margin;
    long height = (long)rows * (h * scale + margin) + margin;
    if (width > 65536 || height > 65536)
        return qv_seterr("%s: grid of %ld×%ld pixels is too large", path, width, height);
    unsigned char *img = qv_malloc((size_t)width * (size_t)height);
    memset(img, PNG_MARGIN_GREY, (size_t)width * (size_t)height);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int k = r * cols + c;
            long x0 = margin + (long)c * (w * scale + margin);
            long y0 = margin + (long)r * (h * scale + margin);
            for (int y = 0; y < h * scale; y++) {
                unsigned char *row = img + (size_t)(y0 + y) * width + x0;
                if (k >= n) {
                    memset(row, 0, (size_t)w * scale);
                    continue;
                }
                const float *src = pixels + ((size_t)k * h + y / scale) * w;
                for (int x = 0; x < w * scale; x++) row[x] = grey8(src[x / scale]);
            }
        }

    char err[256] = "write failed";
    struct qv_atomic f;
    if (qv_atomic_open(&f, path)) {
        free(img);
        return -1;
    }
    int rc = write_png_file(&f, img, (int)width, (int)height, err);
    free(img);
    if (rc) {   /* a failed write already names the path (it came through qv_atomic_write) */
        qv_atomic_abort(&f);
        size_t pl = strlen(path);
        if (strncmp(err, path, pl) == 0 && err[pl] == ':') return qv_seterr("%s", err);
        return qv_seterr("%s: %s", path, err);
    }
    return qv_atomic_commit(&f);
}

int png_read_grey(const char *path, unsigned char **out, int *width, int *height)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path))
        return qv_seterr("%s: %s", path, im.message);
    im.format = PNG_FORMAT_GRAY;
    size_t sz = PNG_IMAGE_SIZE(im);
    unsigned char *buf = qv_malloc(sz ? sz : 1);
    if (!png_image_finish_read(&im, NULL, buf, 0, NULL)) {
        free(buf);
        qv_seterr("%s: %s", path, im.message);
        png_image_free(&im);
        return -1;
    }
    *out = buf;
    *width = (int)im.width;
    *height = (int)im.height;
    return 0;
}
