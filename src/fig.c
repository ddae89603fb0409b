/* fig.c — the figure library: series storage, axis limits and ticks, layout, and the PNG writer
 * (cairo image surface → cairo_surface_write_to_png_stream → qv_atomic, so a reader sees the old
 * file or the whole new one).  Drawing of panels and series: fig_draw.c. */
#include "fig_int.h"

#include <fontconfig/fontconfig.h>
#include <pthread.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A palette for series in order of addition (blue, orange, green, red, purple, brown, pink,
 * grey, olive, cyan): distinct on a projector and in greyscale print by lightness order. */
static const double palette[10][3] = {
    {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81},
};

struct fig *fig_new(int width, int height, int rows, int cols)
{
    if (width < 16 || height < 16 || width > FIG_MAX_SIDE || height > FIG_MAX_SIDE) {
        qv_seterr("figure: size %d×%d out of range 16..%d", width, height, FIG_MAX_SIDE);
        return NULL;
    }
    if (rows < 1 || cols < 1 || rows * cols > FIG_MAX_PANELS) {
        qv_seterr("figure: %d×%d panels out of range (1..%d panels)", rows, cols, FIG_MAX_PANELS);
        return NULL;
    }
    struct fig *f = qv_calloc(1, sizeof *f);
    f->w = width;
    f->h = height;
    f->rows = rows;
    f->cols = cols;
    f->p = qv_calloc((size_t)(rows * cols), sizeof *f->p);
    return f;
}

static void series_free(struct fig_series *s)
{
    free(s->label);
    free(s->x);
    free(s->y);
    free(s->v);
    free(s->gx);
    free(s->gy);
    free(s->edges);
}

void fig_free(struct fig *f)
{
    if (!f) return;
    for (int i = 0; i < f->rows * f->cols; i++) {
        struct fig_panel *p = &f->p[i];
        for (int s = 0; s < p->ns; s++) series_free(&p->ser[s]);
        free(p->title);
        free(p->xlabel);
        free(p->ylabel);
    }
    free(f->p);
    free(f->title);
    free(f);
}

static void set_text(char **dst, const char *s)
{
    if (!s) return;
    free(*dst);
    *dst = s[0] ? qv_strdup(s) : NULL;
}

void fig_title(struct fig *f, const char *title)
{
    free(f->title);
    f->title = title && title[0] ? qv_strdup(title) : NULL;
}

struct fig_panel *fig_panel(struct fig *f, int i)
{
    if (i < 0 || i >= f->rows * f->cols) {
        qv_seterr("figure: panel %d out of range 0..%d", i, f->rows * f->cols - 1);
        return NULL;
    }
    return &f->p[i];
}

void figp_labels(struct fig_panel *p, const char *title, const char *xlabel, const char *ylabel)
{
    set_text(&p->title, title);
    set_text(&p->xlabel, xlabel);
    set_text(&p->ylabel, ylabel);
}

void figp_xlim(struct fig_panel *p, double lo, double hi)
{
    if (!(isfinite(lo) && isfinite(hi) && lo < hi)) return;
    p->xset = true;
    p->xlo = lo;
    p->xhi = hi;
}

void figp_ylim(struct fig_panel *p, double lo, double hi)
{
    if (!(isfinite(lo) && isfinite(hi) && lo < hi)) return;
    p->yset = true;
    p->ylo = lo;
    p->yhi = hi;
}

void figp_logy(struct fig_panel *p, bool on) { p->logy = on; }

void figp_axes_off(struct fig_panel *p, bool equal_aspect)
{
    p->axes_off = true;
    p->equal = equal_aspect;
}

/* A new series of kind k with the next palette colour; NULL with an error when full. */
static struct fig_series *add_series(struct fig_panel *p, enum fig_kind k, const char *label)
{
    if (p->ns >= FIG_MAX_SERIES) {
        qv_seterr("figure: more than %d series in a panel", FIG_MAX_SERIES);
        return NULL;
    }
    struct fig_series *s = &p->ser[p->ns];
    memset(s, 0, sizeof *s);
    s->kind = k;
    s->label = label && label[0] ? qv_strdup(label) : NULL;
    memcpy(s->rgb, palette[p->ns % 10], sizeof s->rgb);
    s->width = 2.0;
    p->ns++;
    return s;
}

static double *dup_doubles(const double *a, long n)
{
    double *d = qv_mallocarray((size_t)n, sizeof *d);
    memcpy(d, a, (size_t)n * sizeof *d);
    return d;
}

/* Line and scatter: n points, x finite. */
static int add_xy(struct fig_panel *p, enum fig_kind k, const double *x, const double *y, long n,
                  const char *label)
{
    if (n < 1 || !x || !y) return qv_seterr("figure: a %s needs at least one point",
                                            k == FIG_LINE ? "line" : "scatter");
    if (!qv_size_ok((size_t)n, 2 * sizeof(double), (size_t)1 << 30, "figure: series")) return -1;
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i])) return qv_seterr("figure: x[%ld] is not a finite number", i);
    struct fig_series *s = add_series(p, k, label);
    if (!s) return -1;
    s->n = n;
    s->x = dup_doubles(x, n);
    s->y = dup_doubles(y, n);
    if (k == FIG_SCATTER) s->marker = 3;
    return p->ns - 1;
}

int figp_line(struct fig_panel *p, const double *x, const double *y, long n, const char *label)
{
    return add_xy(p, FIG_LINE, x, y, n, label);
}

int figp_scatter(struct fig_panel *p, const double *x, const double *y, long n, const char *label)
{
    return add_xy(p, FIG_SCATTER, x, y, n, label);
}

int figp_bars(struct fig_panel *p, const double *edges, const double *heights, int nbins,
              const char *label)
{
    if (nbins < 1 || !edges || !heights) return qv_seterr("figure: a histogram needs at least one bin");
    for (int i = 0; i <= nbins; i++)
        if (!isfinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1])))
            return qv_seterr("figure: histogram edge %d is not finite and increasing", i);
    struct fig_series *s = add_series(p, FIG_BARS, label);
    if (!s) return -1;
    s->n = nbins;
    s->x = dup_doubles(edges, nbins + 1L);
    s->y = dup_doubles(heights, nbins);
    s->width = 1.5;
    return p->ns - 1;
}

int figp_hist(struct fig_panel *p, const double *values, long n, int nbins, double lo, double hi,
              bool density, const char *label)
{
    if (nbins < 1 || nbins > 100000) return qv_seterr("figure: histogram bins %d out of range 1..100000", nbins);
    if (n < 1 || !values) return qv_seterr("figure: a histogram needs at least one value");
    if (!(lo < hi)) {   /* the data's range */
        lo = INFINITY;
        hi = -INFINITY;
        for (long i = 0; i < n; i++)
            if (isfinite(values[i])) {
                lo = QV_MIN(lo, values[i]);
                hi = QV_MAX(hi, values[i]);
            }
        if (!(lo <= hi)) return qv_seterr("figure: a histogram needs a finite value");
        if (lo == hi) { lo -= 0.5; hi += 0.5; }
    }
    if (!isfinite(lo) || !isfinite(hi)) return qv_seterr("figure: histogram range is not finite");
    double *edges = qv_mallocarray((size_t)nbins + 1, sizeof *edges);
    double *h = qv_calloc((size_t)nbins, sizeof *h);
    double bw = (hi - lo) / nbins;
    for (int b = 0; b <= nbins; b++) edges[b] = lo + bw * b;
    edges[nbins] = hi;
    long counted = 0;
    for (long i = 0; i < n; i++) {
        double v = values[i];
        if (!(v >= lo && v <= hi)) continue;
        long b = (long)((v - lo) / bw);
        h[b < nbins ? b : nbins - 1] += 1;   /* v = hi falls in the last bin */
        counted++;
    }
    if (density && counted > 0)
        for (int b = 0; b < nbins; b++) h[b] /= (double)counted * bw;
    int rc = figp_bars(p, edges, h, nbins, label);
    free(edges);
    free(h);
    return rc;
}

int figp_vline(struct fig_panel *p, double x, const char *label)
{
    if (!isfinite(x)) return qv_seterr("figure: a vertical line needs a finite x");
    struct fig_series *s = add_series(p, FIG_VLINE, label);
    if (!s) return -1;
    s->n = 1;
    s->x = dup_doubles(&x, 1);
    s->width = 1.5;
    s->dashed = true;
    return p->ns - 1;
}

/* [vmin, vmax] of values [n] when the caller gave none (vmin ≥ vmax). */
static void value_range(const float *v, long n, double *vmin, double *vmax)
{
    if (*vmin < *vmax) return;
    double lo = INFINITY, hi = -INFINITY;
    for (long i = 0; v && i < n; i++)
        if (isfinite(v[i])) {
            lo = QV_MIN(lo, v[i]);
            hi = QV_MAX(hi, v[i]);
        }
    if (!(lo <= hi)) { lo = 0; hi = 1; }
    if (lo == hi) hi = lo + 1;
    *vmin = lo;
    *vmax = hi;
}

int figp_image(struct fig_panel *p, const float *values, int h, int w, double x0, double x1,
               double y0, double y1, enum fig_cmap cmap, double vmin, double vmax)
{
    if (h < 1 || w < 1 || (long)h * w > (1L << 26) || !values)
        return qv_seterr("figure: image of %d×%d pixels out of range", h, w);
    if (!(isfinite(x0) && isfinite(x1) && isfinite(y0) && isfinite(y1) && x0 < x1 && y0 < y1))
        return qv_seterr("figure: image bounds must be finite with x0 < x1, y0 < y1");
    struct fig_series *s = add_series(p, FIG_IMAGE, NULL);
    if (!s) return -1;
    s->h = h;
    s->w = w;
    s->n = (long)h * w;
    s->v = qv_mallocarray((size_t)s->n, sizeof *s->v);
    memcpy(s->v, values, (size_t)s->n * sizeof *s->v);
    s->b[0] = x0; s->b[1] = x1; s->b[2] = y0; s->b[3] = y1;
    s->cmap = cmap;
    value_range(values, s->n, &vmin, &vmax);
    s->vmin = vmin;
    s->vmax = vmax;
    if (!p->xset) figp_xlim(p, x0, x1);
    if (!p->yset) figp_ylim(p, y0, y1);
    return p->ns - 1;
}

int figp_graph(struct fig_panel *p, const float *x, const float *y, int nv, const int (*edges)[2],
               long ne, const float *value, enum fig_cmap cmap, double vmin, double vmax)
{
    if (nv < 1 || !x || !y || ne < 0 || (ne > 0 && !edges))
        return qv_seterr("figure: a graph needs nodes with coordinates");
    for (long k = 0; k < ne; k++)
        if (edges[k][0] < 0 || edges[k][0] >= nv || edges[k][1] < 0 || edges[k][1] >= nv)
            return qv_seterr("figure: graph edge %ld names a node outside 0..%d", k, nv - 1);
    struct fig_series *s = add_series(p, FIG_GRAPH, NULL);
    if (!s) return -1;
    s->n = nv;
    s->gx = qv_mallocarray((size_t)nv, sizeof *s->gx);
    s->gy = qv_mallocarray((size_t)nv, sizeof *s->gy);
    memcpy(s->gx, x, (size_t)nv * sizeof *s->gx);
    memcpy(s->gy, y, (size_t)nv * sizeof *s->gy);
    s->ne = ne;
    if (ne > 0) {
        s->edges = qv_mallocarray((size_t)ne, sizeof *s->edges);
        memcpy(s->edges, edges, (size_t)ne * sizeof *s->edges);
    }
    if (value) {
        s->v = qv_mallocarray((size_t)nv, sizeof *s->v);
        memcpy(s->v, value, (size_t)nv * sizeof *s->v);
    }
    s->cmap = cmap;
    value_range(value, nv, &vmin, &vmax);
    s->vmin = vmin;
    s->vmax = vmax;
    return p->ns - 1;
}

static struct fig_series *series_at(struct fig_panel *p, int s)
{
    if (s < 0 || s >= p->ns) {
        qv_seterr("figure: series %d out of range 0..%d", s, p->ns - 1);
        return NULL;
    }
    return &p->ser[s];
}

int figp_color(struct fig_panel *p, int s, double r, double g, double b)
{
    struct fig_series *se = series_at(p, s);
    if (!se) return -1;
    se->rgb[0] = r < 0 ? 0 : r > 1 ? 1 : r;
    se->rgb[1] = g < 0 ? 0 : g > 1 ? 1 : g;
    se->rgb[2] = b < 0 ? 0 : b > 1 ? 1 : b;
    return 0;
}

int figp_style(struct fig_panel *p, int s, double width, double marker)
{
    struct fig_series *se = series_at(p, s);
    if (!se) return -1;
    if (width > 0 && width < 100) se->width = width;
    if (marker >= 0 && marker < 100) se->marker = marker;
    return 0;
}

int figp_dashed(struct fig_panel *p, int s, bool on)
{
    struct fig_series *se = series_at(p, s);
    if (!se) return -1;
    se->dashed = on;
    return 0;
}

/* ---- ticks ------------------------------------------------------------------------------------ */

/* The 1-2-5 × 10^k step nearest above span / want. */
static double nice_step(double span, int want)
{
    if (!(span > 0) || !isfinite(span)) return 1;
    double raw = span / (want > 0 ? want : 5);
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

int fig_nice_ticks(double lo, double hi, int want, double *ticks, int max, double *step)
{
    double st = nice_step(hi - lo, want);
    if (step) *step = st;
    if (!(hi >= lo) || !isfinite(lo) || !isfinite(hi)) return 0;
    int n = 0;
    for (double k = ceil(lo / st - 1e-9); n < max; k++) {
        double t = k * st;
        if (t > hi + 1e-9 * st) break;
        ticks[n++] = fabs(t) < 1e-9 * st ? 0.0 : t;   /* no "-0" */
    }
    return n;
}

void fig_nice_range(double *lo, double *hi, int want)
{
    double st = nice_step(*hi - *lo, want);
    *lo = floor(*lo / st + 1e-9) * st;
    *hi = ceil(*hi / st - 1e-9) * st;
}

/* ---- limits ----------------------------------------------------------------------------------- */

static void grow(double *lo, double *hi, double v)
{
    if (!isfinite(v)) return;
    *lo = QV_MIN(*lo, v);
    *hi = QV_MAX(*hi, v);
}

/* The data limits of a panel (y in log10 on a log axis): fixed ones, else fitted. */
void fig_limits(struct fig_panel *p)
{
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    bool base0 = false;
    for (int i = 0; i < p->ns; i++) {
        const struct fig_series *s = &p->ser[i];
        long nx = s->kind == FIG_BARS ? s->n + 1 : s->kind == FIG_VLINE ? 1 : s->kind == FIG_IMAGE ? 0 : s->n;
        if (s->kind == FIG_GRAPH) nx = 0;
        for (long k = 0; k < nx; k++) grow(&xl, &xh, s->x[k]);
        if (s->kind == FIG_LINE || s->kind == FIG_SCATTER || s->kind == FIG_BARS)
            for (long k = 0; k < s->n; k++) {
                double v = s->y[k];
                if (p->logy) v = v > 0 ? log10(v) : NAN;
                grow(&yl, &yh, v);
            }
        if (s->kind == FIG_BARS && !p->logy) { grow(&yl, &yh, 0); base0 = true; }
    }
    if (p->xset) { xl = p->xlo; xh = p->xhi; }
    else {
        if (!(xl <= xh)) { xl = 0; xh = 1; }
        if (xl == xh) { xl -= 0.5; xh += 0.5; }
        fig_nice_range(&xl, &xh, 6);
    }
    if (p->yset) {
        yl = p->logy ? log10(QV_MAX(p->ylo, 1e-300)) : p->ylo;
        yh = p->logy ? log10(QV_MAX(p->yhi, 1e-300)) : p->yhi;
        if (!(yl < yh)) yh = yl + 1;
    } else if (p->logy) {   /* whole decades when the data span one or more, else a padded fit */
        if (!(yl <= yh)) { yl = 0; yh = 1; }
        if (yh - yl >= 1) {
            yl = floor(yl);
            yh = ceil(yh);
        } else {
            double pad = 0.04 * QV_MAX(yh - yl, 0.05);
            yl -= pad;
            yh += pad;
        }
    } else {
        if (!(yl <= yh)) { yl = 0; yh = 1; }
        if (yl == yh) { yl -= 0.5; yh += 0.5; }
        double pad = 0.04 * (yh - yl);   /* keeps curves off the frame */
        if (!(base0 && yl == 0)) yl -= pad;
        yh += pad;
        fig_nice_range(&yl, &yh, 5);
        if (base0 && yl < 0 && yl > -pad * 2) yl = 0;
    }
    p->lx0 = xl;
    p->lx1 = xh;
    p->ly0 = yl;
    p->ly1 = yh;
}

int figp_plot_area(const struct fig_panel *p, double *x0, double *y0, double *x1, double *y1)
{
    if (!p->laid) return qv_seterr("figure: not drawn yet");
    *x0 = p->ax0; *y0 = p->ay0; *x1 = p->ax1; *y1 = p->ay1;
    return 0;
}

int figp_to_pixel(const struct fig_panel *p, double x, double y, double *px, double *py)
{
    if (!p->laid) return qv_seterr("figure: not drawn yet");
    fig_map(p, x, y, px, py);
    return 0;
}

void fig_map(const struct fig_panel *p, double x, double y, double *px, double *py)
{
    double yv = p->logy ? (y > 0 ? log10(y) : -INFINITY) : y;
    *px = p->ax0 + (x - p->lx0) / (p->lx1 - p->lx0) * (p->ax1 - p->ax0);
    *py = p->ay1 - (yv - p->ly0) / (p->ly1 - p->ly0) * (p->ay1 - p->ay0);
}

/* ---- output ----------------------------------------------------------------------------------- */

/* Figures are drawn one at a time: cairo's toy text keeps fontconfig caches that are released
 * after each figure (cairo_debug_reset_static_data + FcFini), which is only safe with no other
 * cairo drawing under way.  Releasing them keeps leak checkers (the ASan build) quiet; the next
 * figure loads them again (a few milliseconds). */
static pthread_mutex_t fig_lock = PTHREAD_MUTEX_INITIALIZER;

static void fig_release_fonts(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

static cairo_status_t png_out(void *closure, const unsigned char *data, unsigned int len)
{
    return qv_atomic_write(closure, data, len) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

static int report(const char *path, char *err, size_t errn)
{
    const char *m = qv_errmsg();
    size_t pl = strlen(path);
    if (strncmp(m, path, pl) != 0 || m[pl] != ':') qv_preferr("%s", path);
    if (err && errn) snprintf(err, errn, "%s", qv_errmsg());
    return -1;
}

/* Writes the rendered surface through qv_atomic; -1 with the error set. */
static int write_surface(cairo_surface_t *sf, const char *path)
{
    struct qv_atomic a;
    if (qv_atomic_open(&a, path)) return -1;
    qv_clearerr();
    cairo_status_t st = cairo_surface_write_to_png_stream(sf, png_out, &a);
    if (st != CAIRO_STATUS_SUCCESS) {
        if (!qv_errmsg()[0]) qv_seterr("%s: %s", path, cairo_status_to_string(st));
        qv_atomic_abort(&a);
        return -1;
    }
    return qv_atomic_commit(&a);
}

int fig_write_png(struct fig *f, const char *path, char *err, size_t errn)
{
    if (!path || !path[0]) {
        qv_seterr("figure: no file name");
        if (err && errn) snprintf(err, errn, "%s", qv_errmsg());
        return -1;
    }
    pthread_mutex_lock(&fig_lock);
    cairo_surface_t *sf = fig_render(f);
    int rc = sf ? write_surface(sf, path) : -1;
    cairo_surface_destroy(sf);
    fig_release_fonts();
    pthread_mutex_unlock(&fig_lock);
    return rc ? report(path, err, errn) : 0;
}

int fig_render_rgb(struct fig *f, unsigned char **out, int *width, int *height)
{
    pthread_mutex_lock(&fig_lock);
    cairo_surface_t *sf = fig_render(f);
    if (!sf) {
        fig_release_fonts();
        pthread_mutex_unlock(&fig_lock);
        return -1;
    }
    cairo_surface_flush(sf);
    int w = cairo_image_surface_get_width(sf), h = cairo_image_surface_get_height(sf);
    int stride = cairo_image_surface_get_stride(sf);
    const unsigned char *d = cairo_image_surface_get_data(sf);
    unsigned char *rgb = qv_mallocarray((size_t)w * (size_t)h, 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t px;   /* CAIRO_FORMAT_RGB24: native-endian 0x00RRGGBB */
            memcpy(&px, d + (size_t)y * stride + (size_t)x * 4, 4);
            unsigned char *o = rgb + ((size_t)y * w + x) * 3;
            o[0] = (unsigned char)(px >> 16);
            o[1] = (unsigned char)(px >> 8);
            o[2] = (unsigned char)px;
        }
    cairo_surface_destroy(sf);
    fig_release_fonts();
    pthread_mutex_unlock(&fig_lock);
    *out = rgb;
    *width = w;
    *height = h;
    return 0;
}
