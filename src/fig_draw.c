/* fig_draw.c — layout and drawing of figures on a cairo image surface: per panel the margins
 * (measured from the tick labels actually drawn), the frame, ticks and labels, the series
 * clipped to the plot area, and the legend; colour maps and colour bars. */
#include "fig_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIG_TICKLEN 5.0
#define FIG_MAXTICKS 64

/* Colour maps as piecewise-linear ramps through a few anchors (t in [0, 1]). */
void fig_cmap_rgb(enum fig_cmap m, double t, double rgb[3])
{
    static const double viridis[5][3] = {   /* dark purple → blue → teal → green → yellow */
        {0.267, 0.005, 0.329}, {0.231, 0.322, 0.546}, {0.128, 0.567, 0.551},
        {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144},
    };
    static const double diverging[3][3] = { {0.23, 0.30, 0.75}, {0.87, 0.87, 0.87}, {0.71, 0.02, 0.15} };
    if (!(t >= 0)) t = 0;   /* also NaN */
    if (t > 1) t = 1;
    if (m == FIG_CMAP_GREY) {
        rgb[0] = rgb[1] = rgb[2] = t;
        return;
    }
    const double (*a)[3] = m == FIG_CMAP_VIRIDIS ? viridis : diverging;
    int na = m == FIG_CMAP_VIRIDIS ? 5 : 3;
    double u = t * (na - 1);
    int k = (int)u;
    if (k >= na - 1) k = na - 2;
    double f = u - k;
    for (int c = 0; c < 3; c++) rgb[c] = a[k][c] * (1 - f) + a[k + 1][c] * f;
}

/* Text at (x, y) anchored by ax (0 left, 0.5 centre, 1 right) and ay (0 top, 0.5 middle,
 * 1 bottom of the font's box), rotated by `rot` radians about the anchor. */
static void text(cairo_t *cr, double x, double y, const char *s, double ax, double ay, double rot)
{
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, s, &te);
    cairo_font_extents(cr, &fe);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    cairo_move_to(cr, -ax * te.x_advance, -ay * (fe.ascent + fe.descent) + fe.ascent);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

static double text_w(cairo_t *cr, const char *s)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

/* A tick label: as many decimals as the step needs; %g for very large or small values. */
static void tick_label(double v, double step, bool logy, char *buf, size_t n)
{
    if (logy) v = pow(10, v);
    double a = fabs(v);
    if (logy || (a >= 1e6 || (a > 0 && a < 1e-4) || step < 1e-4)) {
        snprintf(buf, n, "%g", v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, n, "%.*f", dec, v);
}

struct ticks {
    int n;
    double v[FIG_MAXTICKS];
    double step;
    char lab[FIG_MAXTICKS][32];
};

/* Ticks of a log axis over [lo, hi] (log10 units): decades (every k-th when there are many)
 * over 3 decades and more, 1-2-5 × 10^k over one to three, and below one decade nice linear
 * steps of the values themselves (140, 150, … on a loss curve). */
static void log_ticks(struct ticks *t, double lo, double hi, int want)
{
    t->n = 0;
    t->step = 1;
    if (hi - lo >= 3) {
        double st = QV_MAX(1.0, ceil((hi - lo) / 8.0));
        for (double k = ceil(lo - 1e-9); k <= hi + 1e-9 && t->n < FIG_MAXTICKS; k += st) t->v[t->n++] = k;
    } else if (hi - lo >= 1) {
        static const double m[3] = { 1, 2, 5 };
        for (double k = floor(lo); k <= ceil(hi); k++)
            for (int i = 0; i < 3 && t->n < FIG_MAXTICKS; i++) {
                double v = k + log10(m[i]);
                if (v >= lo - 1e-9 && v <= hi + 1e-9) t->v[t->n++] = v;
            }
    } else {
        double vals[FIG_MAXTICKS], st;
        int n = fig_nice_ticks(pow(10, lo), pow(10, hi), want, vals, FIG_MAXTICKS, &st);
        for (int i = 0; i < n; i++)
            if (vals[i] > 0) t->v[t->n++] = log10(vals[i]);
    }
}

static void make_ticks(struct ticks *t, double lo, double hi, int want, bool logy)
{
    if (logy) {
        log_ticks(t, lo, hi, want);
    } else {
        t->n = fig_nice_ticks(lo, hi, want, t->v, FIG_MAXTICKS, &t->step);
    }
    for (int i = 0; i < t->n; i++) tick_label(t->v[i], t->step, logy, t->lab[i], sizeof t->lab[i]);
}

/* ---- series ----------------------------------------------------------------------------------- */

static void set_rgb(cairo_t *cr, const double c[3], double alpha)
{
    cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

static void marker(cairo_t *cr, double x, double y, double r)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
}

static bool point_ok(const struct fig_panel *p, double y)
{
    return isfinite(y) && (!p->logy || y > 0);
}

/* A run of consecutive points in one pixel column (draw_xy): first, lowest y, highest y, last,
 * each with its index so they are emitted in the order the series visits them. */
struct run {
    long n, col;
    bool pen;                        /* the path has a current point to draw from */
    long idx[4];                     /* first, min, max, last */
    double x[4], y[4];
};

static void run_point(cairo_t *cr, struct run *r, double x, double y)
{
    if (r->pen) cairo_line_to(cr, x, y);
    else cairo_move_to(cr, x, y);
    r->pen = true;
}

static void run_flush(cairo_t *cr, struct run *r)
{
    if (!r->n) return;
    int ord[4] = {0, 1, 2, 3};
    for (int a = 1; a < 4; a++)   /* four entries: insertion sort by index */
        for (int b = a; b > 0 && r->idx[ord[b]] < r->idx[ord[b - 1]]; b--) {
            int t = ord[b]; ord[b] = ord[b - 1]; ord[b - 1] = t;
        }
    long prev = -1;
    for (int k = 0; k < 4; k++) {
        if (r->idx[ord[k]] == prev) continue;
        prev = r->idx[ord[k]];
        run_point(cr, r, r->x[ord[k]], r->y[ord[k]]);
    }
    r->n = 0;
}

static void run_add(cairo_t *cr, struct run *r, long i, double x, double y)
{
    long col = (long)floor(x);
    if (r->n && col != r->col) run_flush(cr, r);
    if (!r->n) {
        r->col = col;
        for (int k = 0; k < 4; k++) { r->idx[k] = i; r->x[k] = x; r->y[k] = y; }
    } else {
        if (y < r->y[1]) { r->idx[1] = i; r->x[1] = x; r->y[1] = y; }
        if (y > r->y[2]) { r->idx[2] = i; r->x[2] = x; r->y[2] = y; }
        r->idx[3] = i; r->x[3] = x; r->y[3] = y;
    }
    r->n++;
}

static void draw_xy(cairo_t *cr, const struct fig_panel *p, const struct fig_series *s)
{
    set_rgb(cr, s->rgb, 1);
    cairo_set_line_width(cr, s->width);
    if (s->dashed) cairo_set_dash(cr, (double[]){ 6, 4 }, 2, 0);
    if (s->kind == FIG_LINE) {
        /* Consecutive points in one device-pixel column are drawn as that run's first, lowest,
         * highest and last point, in their order: the same picture (the column's vertical
         * extent and its links to the neighbours), but a 2-million-point series strokes a few
         * thousand segments instead of tessellating 2 million (42 s → well under a second). */
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);   /* a run's turns keep the full width */
        struct run r = {.n = 0};
        for (long i = 0; i < s->n; i++) {
            if (!point_ok(p, s->y[i])) { run_flush(cr, &r); r.pen = false; continue; }
            double px, py;
            fig_map(p, s->x[i], s->y[i], &px, &py);
            run_add(cr, &r, i, px, py);
        }
        run_flush(cr, &r);
        cairo_stroke(cr);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    }
    cairo_set_dash(cr, NULL, 0, 0);
    if (s->marker > 0) {
        for (long i = 0; i < s->n; i++) {
            if (!point_ok(p, s->y[i])) continue;
            double px, py;
            fig_map(p, s->x[i], s->y[i], &px, &py);
            marker(cr, px, py, s->marker);
        }
        cairo_fill(cr);
    }
}

/* A step histogram: translucent fill (so several overlay), then its outline.  Empty bins
 * (height 0, or ≤ 0 on a log axis) break the outline. */
static void draw_bars(cairo_t *cr, const struct fig_panel *p, const struct fig_series *s)
{
    double base = p->ay1, bx;
    if (!p->logy) {
        fig_map(p, 0, 0, &bx, &base);
        base = QV_MIN(QV_MAX(base, p->ay0), p->ay1);
    }
    for (long i = 0; i < s->n; i++) {
        if (!point_ok(p, s->y[i]) || s->y[i] == 0) continue;
        double xa, xb, ya;
        fig_map(p, s->x[i], s->y[i], &xa, &ya);
        fig_map(p, s->x[i + 1], s->y[i], &xb, &ya);
        cairo_rectangle(cr, xa, ya, xb - xa, base - ya);
    }
    set_rgb(cr, s->rgb, 0.35);
    cairo_fill(cr);
    set_rgb(cr, s->rgb, 1);
    cairo_set_line_width(cr, s->width);
    bool open = false;
    for (long i = 0; i < s->n; i++) {
        if (!point_ok(p, s->y[i]) || s->y[i] == 0) continue;
        double xa, xb, ya;
        fig_map(p, s->x[i], s->y[i], &xa, &ya);
        fig_map(p, s->x[i + 1], s->y[i], &xb, &ya);
        if (!open) cairo_move_to(cr, xa, base);
        cairo_line_to(cr, xa, ya);
        cairo_line_to(cr, xb, ya);
        open = i + 1 < s->n && point_ok(p, s->y[i + 1]) && s->y[i + 1] != 0;
        if (!open) cairo_line_to(cr, xb, base);
    }
    cairo_stroke(cr);
}

static void draw_vline(cairo_t *cr, const struct fig_panel *p, const struct fig_series *s)
{
    double px, py;
    fig_map(p, s->x[0], p->logy ? 1 : 0, &px, &py);
    set_rgb(cr, s->rgb, 1);
    cairo_set_line_width(cr, s->width);
    if (s->dashed) cairo_set_dash(cr, (double[]){ 6, 4 }, 2, 0);
    cairo_move_to(cr, px, p->ay0);
    cairo_line_to(cr, px, p->ay1);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

static uint32_t cmap_px(const struct fig_series *s, float v)
{
    double rgb[3];
    fig_cmap_rgb(s->cmap, (v - s->vmin) / (s->vmax - s->vmin), rgb);
    return 0xff000000u | (uint32_t)lrint(rgb[0] * 255) << 16 | (uint32_t)lrint(rgb[1] * 255) << 8 |
           (uint32_t)lrint(rgb[2] * 255);
}

static void draw_image(cairo_t *cr, const struct fig_panel *p, const struct fig_series *s)
{
    cairo_surface_t *im = cairo_image_surface_create(CAIRO_FORMAT_RGB24, s->w, s->h);
    if (cairo_surface_status(im) != CAIRO_STATUS_SUCCESS) { cairo_surface_destroy(im); return; }
    unsigned char *d = cairo_image_surface_get_data(im);
    int stride = cairo_image_surface_get_stride(im);
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++) {
            uint32_t px = cmap_px(s, s->v[(size_t)y * s->w + x]);
            memcpy(d + (size_t)y * stride + (size_t)x * 4, &px, 4);
        }
    cairo_surface_mark_dirty(im);
    double xa, ya, xb, yb;
    fig_map(p, s->b[0], s->b[3], &xa, &ya);   /* row 0 at the top: y1 */
    fig_map(p, s->b[1], s->b[2], &xb, &yb);
    cairo_save(cr);
    cairo_translate(cr, xa, ya);
    cairo_scale(cr, (xb - xa) / s->w, (yb - ya) / s->h);
    cairo_set_source_surface(cr, im, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, s->w, s->h);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(im);
}

/* A vertical colour bar in [x, x + w] × [y0, y1] with vmax at the top, vmin at the bottom. */
static void colour_bar(cairo_t *cr, const struct fig_series *s, double x, double w, double y0, double y1)
{
    const int steps = 64;
    double h = (y1 - y0) / steps;
    for (int i = 0; i < steps; i++) {
        double rgb[3];
        fig_cmap_rgb(s->cmap, 1 - (i + 0.5) / steps, rgb);
        set_rgb(cr, rgb, 1);
        cairo_rectangle(cr, x, y0 + i * h, w, h + 0.5);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y0 + 0.5, w - 1, y1 - y0 - 1);
    cairo_stroke(cr);
    char buf[32];
    cairo_set_source_rgb(cr, 0, 0, 0);
    snprintf(buf, sizeof buf, "%.3g", s->vmax);
    text(cr, x + w + 4, y0, buf, 0, 0, 0);
    snprintf(buf, sizeof buf, "%.3g", s->vmin);
    text(cr, x + w + 4, y1, buf, 0, 1, 0);
}

/* Nodes in a square frame of the plot area (a colour bar on the right when valued). */
static void draw_graph(cairo_t *cr, const struct fig_panel *p, const struct fig_series *s, double fs)
{
    double bar = s->v ? fs * 5 : 0;
    double aw = p->ax1 - p->ax0 - bar, ah = p->ay1 - p->ay0;
    double side = QV_MIN(aw, ah);
    if (side < 4) return;
    double r = QV_MIN(8.0, QV_MAX(1.2, 0.3 * side / sqrt((double)s->n)));
    double ox = p->ax0 + (aw - side) / 2 + r, oy = p->ay0 + (ah - side) / 2 + r, sc = side - 2 * r;
    cairo_set_source_rgba(cr, 0.55, 0.55, 0.55, 0.6);
    cairo_set_line_width(cr, QV_MAX(0.4, r / 4));
    for (long k = 0; k < s->ne; k++) {
        int a = s->edges[k][0], b = s->edges[k][1];
        cairo_move_to(cr, ox + s->gx[a] * sc, oy + s->gy[a] * sc);
        cairo_line_to(cr, ox + s->gx[b] * sc, oy + s->gy[b] * sc);
    }
    cairo_stroke(cr);
    for (long i = 0; i < s->n; i++) {
        double rgb[3] = { 0.5, 0.5, 0.5 };
        if (s->v) fig_cmap_rgb(s->cmap, (s->v[i] - s->vmin) / (s->vmax - s->vmin), rgb);
        set_rgb(cr, rgb, 1);
        marker(cr, ox + s->gx[i] * sc, oy + s->gy[i] * sc, r);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, QV_MAX(0.3, r / 5));
        cairo_stroke(cr);
    }
    if (s->v) colour_bar(cr, s, p->ax1 - bar + fs * 0.5, fs, p->ay0 + fs, p->ay1 - fs);
}

/* ---- panels ----------------------------------------------------------------------------------- */

/* Data points (and bar tops) of the panel inside the pixel box [x, x + w] × [y, y + h]. */
static long points_in(const struct fig_panel *p, double x, double y, double w, double h)
{
    long c = 0;
    for (int i = 0; i < p->ns; i++) {
        const struct fig_series *s = &p->ser[i];
        if (s->kind != FIG_LINE && s->kind != FIG_SCATTER && s->kind != FIG_BARS) continue;
        for (long k = 0; k < s->n; k++) {
            double px, py;
            if (!point_ok(p, s->y[k])) continue;
            fig_map(p, s->kind == FIG_BARS ? (s->x[k] + s->x[k + 1]) / 2 : s->x[k], s->y[k], &px, &py);
            if (s->kind == FIG_BARS) c += px >= x && px <= x + w && py <= y + h;   /* bar reaches in */
            else c += px >= x && px <= x + w && py >= y && py <= y + h;
            if (k + 1 < s->n && s->kind == FIG_LINE && point_ok(p, s->y[k + 1])) {   /* midpoints too */
                double qx, qy;
                fig_map(p, s->x[k + 1], s->y[k + 1], &qx, &qy);
                qx = (px + qx) / 2; qy = (py + qy) / 2;
                c += qx >= x && qx <= x + w && qy >= y && qy <= y + h;
            }
        }
    }
    return c;
}

/* The legend's corner: of top-right, top-left, bottom-right, bottom-left the first that covers
 * the fewest data points. */
static void legend_corner(const struct fig_panel *p, double w, double h, double pad, double *x, double *y)
{
    const double cx[4] = { p->ax1 - w - pad, p->ax0 + pad, p->ax1 - w - pad, p->ax0 + pad };
    const double cy[4] = { p->ay0 + pad, p->ay0 + pad, p->ay1 - h - pad, p->ay1 - h - pad };
    long best = -1;
    for (int k = 0; k < 4; k++) {
        long c = points_in(p, cx[k], cy[k], w, h);
        if (best < 0 || c < best) { best = c; *x = cx[k]; *y = cy[k]; }
    }
}

static void draw_legend(cairo_t *cr, const struct fig_panel *p, double fs)
{
    int nl = 0;
    double tw = 0;
    for (int i = 0; i < p->ns; i++)
        if (p->ser[i].label) { nl++; tw = QV_MAX(tw, text_w(cr, p->ser[i].label)); }
    if (!nl) return;
    double row = fs * 1.35, sw = fs * 2, pad = fs * 0.5;
    double w = pad * 3 + sw + tw, h = row * nl + pad, x = 0, y = 0;
    legend_corner(p, w, h, pad, &x, &y);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double cy = y + pad / 2 + row / 2;
    for (int i = 0; i < p->ns; i++) {
        const struct fig_series *s = &p->ser[i];
        if (!s->label) continue;
        double sx = x + pad;
        if (s->kind == FIG_BARS) {
            set_rgb(cr, s->rgb, 0.35);
            cairo_rectangle(cr, sx, cy - fs * 0.4, sw, fs * 0.8);
            cairo_fill_preserve(cr);
            set_rgb(cr, s->rgb, 1);
            cairo_set_line_width(cr, 1);
            cairo_stroke(cr);
        } else if (s->kind == FIG_SCATTER) {
            set_rgb(cr, s->rgb, 1);
            marker(cr, sx + sw / 2, cy, QV_MAX(2.5, s->marker));
            cairo_fill(cr);
        } else {
            set_rgb(cr, s->rgb, 1);
            cairo_set_line_width(cr, s->width);
            if (s->dashed) cairo_set_dash(cr, (double[]){ 6, 4 }, 2, 0);
            cairo_move_to(cr, sx, cy);
            cairo_line_to(cr, sx + sw, cy);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
            if (s->marker > 0) { marker(cr, sx + sw / 2, cy, s->marker); cairo_fill(cr); }
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        text(cr, sx + sw + pad, cy, s->label, 0, 0.5, 0);
        cy += row;
    }
}

/* Light grid lines at the ticks, under the series. */
static void draw_grid(cairo_t *cr, const struct fig_panel *p, const struct ticks *tx, const struct ticks *ty)
{
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    for (int i = 0; i < tx->n; i++) {
        double px, py;
        fig_map(p, tx->v[i], p->logy ? 1 : 0, &px, &py);
        cairo_move_to(cr, floor(px) + 0.5, p->ay0);
        cairo_line_to(cr, floor(px) + 0.5, p->ay1);
    }
    for (int i = 0; i < ty->n; i++) {
        double py = p->ay1 - (ty->v[i] - p->ly0) / (p->ly1 - p->ly0) * (p->ay1 - p->ay0);
        cairo_move_to(cr, p->ax0, floor(py) + 0.5);
        cairo_line_to(cr, p->ax1, floor(py) + 0.5);
    }
    cairo_stroke(cr);
}

/* Frame, ticks and tick labels, over the series (a bar's outline never hides the axis). */
static void draw_axes(cairo_t *cr, const struct fig_panel *p, const struct ticks *tx, const struct ticks *ty)
{
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, floor(p->ax0) + 0.5, floor(p->ay0) + 0.5, floor(p->ax1) - floor(p->ax0),
                    floor(p->ay1) - floor(p->ay0));
    for (int i = 0; i < tx->n; i++) {
        double px, py;
        fig_map(p, tx->v[i], p->logy ? 1 : 0, &px, &py);
        cairo_move_to(cr, floor(px) + 0.5, floor(p->ay1) + 0.5);
        cairo_line_to(cr, floor(px) + 0.5, floor(p->ay1) + 0.5 + FIG_TICKLEN);
        text(cr, px, p->ay1 + FIG_TICKLEN + 2, tx->lab[i], 0.5, 0, 0);
    }
    for (int i = 0; i < ty->n; i++) {
        double py = p->ay1 - (ty->v[i] - p->ly0) / (p->ly1 - p->ly0) * (p->ay1 - p->ay0);
        cairo_move_to(cr, floor(p->ax0) + 0.5, floor(py) + 0.5);
        cairo_line_to(cr, floor(p->ax0) + 0.5 - FIG_TICKLEN, floor(py) + 0.5);
        text(cr, p->ax0 - FIG_TICKLEN - 3, py, ty->lab[i], 1, 0.5, 0);
    }
    cairo_stroke(cr);
}

/* Panel p in the cell [cx, cx + cw] × [cy, cy + ch]. */
static void draw_panel(cairo_t *cr, struct fig_panel *p, double cx, double cy, double cw, double ch, double fs)
{
    fig_limits(p);
    struct ticks tx, ty;
    double pad = fs * 0.6, top = cy + pad + (p->title ? fs * 1.6 : 0);
    if (p->axes_off) {
        tx.n = ty.n = 0;
        p->ax0 = cx + pad; p->ax1 = cx + cw - pad; p->ay0 = top; p->ay1 = cy + ch - pad;
        if (p->equal) {   /* same pixels per data unit on both axes, centred */
            double sx = (p->ax1 - p->ax0) / (p->lx1 - p->lx0), sy = (p->ay1 - p->ay0) / (p->ly1 - p->ly0);
            double s = QV_MIN(sx, sy), w = s * (p->lx1 - p->lx0), h = s * (p->ly1 - p->ly0);
            p->ax0 += (p->ax1 - p->ax0 - w) / 2; p->ax1 = p->ax0 + w;
            p->ay0 += (p->ay1 - p->ay0 - h) / 2; p->ay1 = p->ay0 + h;
        }
    } else {
        make_ticks(&tx, p->lx0, p->lx1, QV_MAX(2, (int)(cw / (fs * 7))), false);
        make_ticks(&ty, p->ly0, p->ly1, QV_MAX(2, (int)(ch / (fs * 3.5))), p->logy);
        double lw = 0;
        for (int i = 0; i < ty.n; i++) lw = QV_MAX(lw, text_w(cr, ty.lab[i]));
        p->ax0 = cx + pad + (p->ylabel ? fs * 1.5 : 0) + lw + FIG_TICKLEN + 4;
        p->ax1 = cx + cw - pad - fs * 0.8;   /* room for the last x label's right half */
        p->ay0 = top;
        p->ay1 = cy + ch - pad - FIG_TICKLEN - fs * 1.4 - (p->xlabel ? fs * 1.5 : 0);
    }
    if (p->ax1 - p->ax0 < 4 || p->ay1 - p->ay0 < 4) { p->laid = false; return; }
    p->laid = true;
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (p->title) {
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        text(cr, (p->ax0 + p->ax1) / 2, cy + pad, p->title, 0.5, 0, 0);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
    if (!p->axes_off) {
        draw_grid(cr, p, &tx, &ty);
        cairo_set_source_rgb(cr, 0, 0, 0);
        if (p->xlabel) text(cr, (p->ax0 + p->ax1) / 2, cy + ch - pad, p->xlabel, 0.5, 1, 0);
        if (p->ylabel) text(cr, cx + pad, (p->ay0 + p->ay1) / 2, p->ylabel, 0.5, 0, -M_PI / 2);
    }
    cairo_save(cr);
    if (!p->axes_off) {
        cairo_rectangle(cr, p->ax0, p->ay0, p->ax1 - p->ax0, p->ay1 - p->ay0);
        cairo_clip(cr);
    }
    for (int i = 0; i < p->ns; i++) {
        const struct fig_series *s = &p->ser[i];
        switch (s->kind) {
        case FIG_LINE: case FIG_SCATTER: draw_xy(cr, p, s); break;
        case FIG_BARS: draw_bars(cr, p, s); break;
        case FIG_VLINE: draw_vline(cr, p, s); break;
        case FIG_IMAGE: draw_image(cr, p, s); break;
        case FIG_GRAPH: draw_graph(cr, p, s, fs); break;
        }
    }
    cairo_restore(cr);
    if (!p->axes_off) draw_axes(cr, p, &tx, &ty);
    draw_legend(cr, p, fs);
}

cairo_surface_t *fig_render(struct fig *f)
{
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, f->w, f->h);
    if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
        qv_seterr("figure: %s", cairo_status_to_string(cairo_surface_status(sf)));
        cairo_surface_destroy(sf);
        return NULL;
    }
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double cw = (double)f->w / f->cols;
    double fs = QV_MIN(16.0, QV_MAX(9.0, QV_MIN(cw, (double)f->h / f->rows) / 32));
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, fs);
    double top = 0;
    if (f->title) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, fs * 1.2);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        text(cr, f->w / 2.0, fs * 0.5, f->title, 0.5, 0, 0);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, fs);
        top = fs * 2.2;
    }
    double ch = (f->h - top) / f->rows;
    for (int i = 0; i < f->rows * f->cols; i++)
        draw_panel(cr, &f->p[i], (i % f->cols) * cw, top + (i / f->cols) * ch, cw, ch, fs);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        qv_seterr("figure: drawing failed: %s", cairo_status_to_string(st));
        cairo_surface_destroy(sf);
        return NULL;
    }
    return sf;
}
