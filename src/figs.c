/* figs.c — the standard figures (figs.h): loss curves from metrics.csv, an anneal schedule,
 * the latent map.  Each builds a struct fig, writes it and frees it. */
#include "figs.h"
#include "fig.h"
#include "graph.h"
#include "schedule.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loss ------------------------------------------------------------------------------------- */

/* Series of metrics.csv: epoch [n] and the −value of columns elbo, val_elbo, val_elbo_z (NaN where
 * a row has none). */
struct loss_rows {
    long n, cap;
    double *epoch, *train, *val, *valz;
    bool has_z;
};

static void rows_push(struct loss_rows *r, double ep, double tr, double va, double vz)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->epoch = qv_realloc(r->epoch, (size_t)r->cap * sizeof(double));
        r->train = qv_realloc(r->train, (size_t)r->cap * sizeof(double));
        r->val = qv_realloc(r->val, (size_t)r->cap * sizeof(double));
        r->valz = qv_realloc(r->valz, (size_t)r->cap * sizeof(double));
    }
    r->epoch[r->n] = ep;
    r->train[r->n] = -tr;
    r->val[r->n] = -va;
    r->valz[r->n++] = -vz;
}

static void rows_free(struct loss_rows *r)
{
    free(r->epoch); free(r->train); free(r->val); free(r->valz);
}

/* Field i of a comma-separated line as a number (NaN when empty or absent). */
static double csv_field(const char *line, int i)
{
    for (int k = 0; k < i && line; k++) {
        line = strchr(line, ',');
        if (line) line++;
    }
    if (!line || *line == ',' || *line == '\n' || !*line) return NAN;
    char *end;
    double v = strtod(line, &end);
    return end == line ? NAN : v;
}

/* Column index of name in the header, or -1. */
static int csv_col(const char *head, const char *name)
{
    size_t nl = strlen(name);
    int i = 0;
    for (const char *p = head; p; i++) {
        if (!strncmp(p, name, nl) && (p[nl] == ',' || p[nl] == '\n' || p[nl] == '\r' || !p[nl])) return i;
        p = strchr(p, ',');
        if (p) p++;
    }
    return -1;
}

static int read_metrics(const char *path, struct loss_rows *r)
{
    unsigned char *buf;
    size_t len;
    memset(r, 0, sizeof *r);
    if (qv_read_file(path, false, &buf, &len)) return -1;
    char *text = (char *)buf, *nl = strchr(text, '\n');
    int ce = csv_col(text, "epoch"), ct = csv_col(text, "elbo"), cv = csv_col(text, "val_elbo");
    int cz = csv_col(text, "val_elbo_z");
    if (!nl || ce < 0 || ct < 0 || cv < 0) {
        free(buf);
        return qv_seterr("%s: not a metrics.csv (no epoch, elbo and val_elbo columns)", path);
    }
    r->has_z = cz >= 0;
    for (char *line = nl + 1; *line; ) {
        char *next = strchr(line, '\n');
        if (next) *next = 0;
        double ep = csv_field(line, ce);
        if (isfinite(ep))
            rows_push(r, ep, csv_field(line, ct), csv_field(line, cv), cz >= 0 ? csv_field(line, cz) : NAN);
        if (!next) break;
        line = next + 1;
    }
    free(buf);
    if (r->n == 0) {
        rows_free(r);
        return qv_seterr("%s: no rows yet (train first)", path);
    }
    return 0;
}

/* Only the rows where v is a number: a line through them (a validation value per epoch). */
static int line_of(struct fig_panel *p, const double *x, const double *v, long n, const char *label, double marker)
{
    double *xs = qv_mallocarray((size_t)n, sizeof *xs), *ys = qv_mallocarray((size_t)n, sizeof *ys);
    long m = 0;
    for (long i = 0; i < n; i++)
        if (isfinite(v[i])) { xs[m] = x[i]; ys[m++] = v[i]; }
    int s = m ? figp_line(p, xs, ys, m, label) : -2;
    if (s >= 0) figp_style(p, s, 0, marker);
    free(xs);
    free(ys);
    return s == -2 ? 0 : s;
}

int figs_loss(const char *csv_path, const char *title, bool logy, const char *png)
{
    struct loss_rows r;
    if (read_metrics(csv_path, &r)) return -1;
    struct fig *f = fig_new(900, 560, 1, 1);
    struct fig_panel *p = fig_panel(f, 0);
    figp_labels(p, title, "epoch", logy ? "nats (log scale)" : "nats");
    figp_logy(p, logy);
    int rc = line_of(p, r.epoch, r.train, r.n, "train −ELBO", 0) < 0 ||
             line_of(p, r.epoch, r.val, r.n, "valid −ELBO (relaxed)", 3) < 0 ||
             (r.has_z && line_of(p, r.epoch, r.valz, r.n, "valid −ELBO (discrete z)", 3) < 0) ? -1 : 0;
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    rows_free(&r);
    return rc;
}

/* ---- schedule --------------------------------------------------------------------------------- */

enum seg_kind { SEG_RAMP, SEG_PAUSE, SEG_QUENCH, SEG_REVERSE, SEG_INVALID, SEG_KINDS };

static enum seg_kind seg_kind(const struct sched_point *a, const struct sched_point *b, double max_slope)
{
    double ds = b->s - a->s, dt = b->t - a->t;
    if (ds < 0) return SEG_REVERSE;
    if (ds == 0) return SEG_PAUSE;
    if (dt > 0 && ds / dt >= 0.99 * max_slope) return SEG_QUENCH;
    return SEG_RAMP;
}

int figs_schedule(const struct sched *s, const struct solver_props *sp, double s_star, const char *png)
{
    if (s->n < 2) return qv_seterr("%s: the schedule has %d point(s); a figure needs 2", png, s->n);
    if (!sp) sp = solver_defaults();
    double max_slope = 1.0 / sp->annealing_time_range[0];
    struct sched_violation viol[SCHED_CAP];
    int nv = sched_validate(s, sp, viol, SCHED_CAP);
    bool *bad = qv_calloc((size_t)s->n, 1);
    for (int i = 0; i < QV_MIN(nv, SCHED_CAP); i++)
        if (viol[i].segment >= 0 && viol[i].segment < s->n) bad[viol[i].segment] = true;
    /* one polyline per kind, broken by NaN between its segments: [3 × segments] */
    static const char *const names[SEG_KINDS] = { "ramp", "pause", "quench", "reverse", "violates a rule" };
    static const double colour[SEG_KINDS][3] = {
        {0.12, 0.47, 0.71}, {0.17, 0.63, 0.17}, {0.58, 0.40, 0.74}, {1.00, 0.50, 0.05}, {0.84, 0.15, 0.16},
    };
    int ns = s->n - 1;
    double *x = qv_mallocarray((size_t)3 * ns, sizeof *x), *y = qv_mallocarray((size_t)3 * ns, sizeof *y);
    struct fig *f = fig_new(900, 520, 1, 1);
    struct fig_panel *p = fig_panel(f, 0);
    char title[192];
    snprintf(title, sizeof title, "anneal schedule %s — %s", s->name[0] ? s->name : "(unnamed)",
             nv ? "violates the limits" : "valid");
    figp_labels(p, title, "t (µs)", "s");
    figp_ylim(p, -0.02, 1.06);
    int rc = 0;
    for (int k = 0; k < SEG_KINDS && !rc; k++) {
        long m = 0;
        for (int i = 0; i < ns; i++) {
            enum seg_kind sk = bad[i] ? SEG_INVALID : seg_kind(&s->pt[i], &s->pt[i + 1], max_slope);
            if ((int)sk != k) continue;
            x[m] = s->pt[i].t; y[m++] = s->pt[i].s;
            x[m] = s->pt[i + 1].t; y[m++] = s->pt[i + 1].s;
            x[m] = s->pt[i + 1].t; y[m++] = NAN;
        }
        if (!m) continue;
        int id = figp_line(p, x, y, m, names[k]);
        rc = id < 0 || figp_color(p, id, colour[k][0], colour[k][1], colour[k][2]) || figp_style(p, id, 2.5, 0);
    }
    for (int i = 0; i < s->n && !rc; i++) { x[i] = s->pt[i].t; y[i] = s->pt[i].s; }
    int pts = rc ? -1 : figp_scatter(p, x, y, s->n, NULL);
    rc = rc || pts < 0 || figp_color(p, pts, 0.1, 0.1, 0.1) || figp_style(p, pts, 0, 3.5);
    if (!rc && isfinite(s_star)) {
        double fx[2] = { s->pt[0].t, sched_duration(s) }, fy[2] = { s_star, s_star };
        char lab[64];
        snprintf(lab, sizeof lab, "freeze-out s* ≈ %.3f", s_star);
        int id = figp_line(p, fx, fy, 2, lab);
        rc = id < 0 || figp_color(p, id, 0.4, 0.4, 0.4) || figp_dashed(p, id, true) || figp_style(p, id, 1.2, 0);
    }
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    free(x);
    free(y);
    free(bad);
    return rc;
}

/* ---- latent map ------------------------------------------------------------------------------- */

int figs_latent(const struct graph *g, const float *value, int n, const char *what, const char *png)
{
    if (n < 1) return qv_seterr("%s: no units to draw", png);
    if (g && g->nv != n) return qv_seterr("%s: %d values for a graph of %d units", png, n, g->nv);
    struct fig *f = fig_new(1100, 520, 1, 2);
    struct fig_panel *map = fig_panel(f, 0), *hist = fig_panel(f, 1);
    char title[160];
    snprintf(title, sizeof title, "latent units on %s — %s", g ? g->desc : "a grid", what);
    figp_labels(map, title, NULL, NULL);
    figp_axes_off(map, !g);
    int rc;
    if (g) {
        rc = figp_graph(map, g->x, g->y, g->nv, (const int (*)[2])g->edges, g->ne, value, FIG_CMAP_VIRIDIS, 0, 0) < 0;
    } else {   /* a near-square grid, unit i at row i / cols; cells beyond n stay NaN (black) */
        int cols = (int)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
        float *img = qv_mallocarray((size_t)rows * cols, sizeof *img);
        for (int i = 0; i < rows * cols; i++) img[i] = i < n ? value[i] : NAN;
        rc = figp_image(map, img, rows, cols, 0, cols, 0, rows, FIG_CMAP_VIRIDIS, 0, 0) < 0;
        free(img);
    }
    double *v = qv_mallocarray((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) v[i] = value[i];
    figp_labels(hist, "distribution over units", what, "units");
    if (!rc) rc = figp_hist(hist, v, n, QV_MIN(40, QV_MAX(5, n / 4)), 0, 0, false, NULL) < 0;
    free(v);
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    return rc ? -1 : 0;
}

/* ---- compare ---------------------------------------------------------------------------------- */

int figs_compare(const char *const *names, int nsets, int nbins, double lo, double hi,
                 const double *mass, const double *score, const char *score_name, const char *title,
                 const char *png)
{
    if (nsets < 2 || nbins < 1 || !(hi > lo))
        return qv_seterr("%s: nothing to compare (%d sets, %d bins over [%g, %g])", png, nsets, nbins, lo, hi);
    struct fig *f = fig_new(1200, 520, 1, 2);
    if (!f) return -1;
    struct fig_panel *h = fig_panel(f, 0), *q = fig_panel(f, 1);
    if (title) fig_title(f, title);
    figp_labels(h, "energy histograms", "energy", "fraction of samples");
    double *edges = qv_mallocarray((size_t)nbins + 1, sizeof *edges);
    for (int b = 0; b <= nbins; b++) edges[b] = lo + (hi - lo) * b / nbins;
    int rc = 0;
    for (int i = 0; i < nsets && !rc; i++)
        rc = figp_bars(h, edges, mass + (size_t)i * nbins, nbins, names[i]) < 0;
    free(edges);
    /* the scores at x = 1 … nsets − 1; a grey zero line first takes the reference's palette slot,
     * so each sampler has the same colour in both panels */
    char ylab[64];
    snprintf(ylab, sizeof ylab, "%s against %s", score_name, names[0]);
    figp_labels(q, score_name, "sampler", ylab);
    double zx[2] = {0.5, nsets - 0.5}, zy[2] = {0, 0};
    int z = rc ? -1 : figp_line(q, zx, zy, 2, NULL);
    rc = z < 0 || figp_color(q, z, 0.6, 0.6, 0.6) || figp_dashed(q, z, true);
    figp_xlim(q, 0.5, nsets - 0.5);
    for (int i = 1; i < nsets && !rc; i++) {
        char lab[96];
        double x = i, y = score[i - 1];
        snprintf(lab, sizeof lab, "%d %s: %.4g", i, names[i], y);
        int s = isfinite(y) ? figp_scatter(q, &x, &y, 1, lab) : figp_line(q, &x, (double[]){NAN}, 1, lab);
        rc = s < 0 || figp_style(q, s, 0, 6);
    }
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    return rc ? -1 : 0;
}

/* ---- modes ------------------------------------------------------------------------------------ */

int figs_modes(const double *energy, const double *mass, const double *err, long nmodes,
               double min_mass, const char *title, const char *png)
{
    if (nmodes < 1) return qv_seterr("%s: no modes to draw", png);
    struct fig *f = fig_new(900, 560, 1, 1);
    if (!f) return -1;
    struct fig_panel *p = fig_panel(f, 0);
    figp_labels(p, title, "energy of the local minimum", "basin mass (log scale)");
    figp_logy(p, true);
    /* major and minor modes as two scatter series; error bars as one polyline broken by NaN
     * [3 per mode], the lower end kept above 0 for the log axis */
    double *x = qv_mallocarray((size_t)3 * nmodes, sizeof *x), *y = qv_mallocarray((size_t)3 * nmodes, sizeof *y);
    double floor_m = INFINITY, emin = INFINITY, emax = -INFINITY;
    for (long k = 0; k < nmodes; k++) {
        if (mass[k] > 0) floor_m = fmin(floor_m, mass[k]);
        emin = fmin(emin, energy[k]);
        emax = fmax(emax, energy[k]);
    }
    floor_m = isfinite(floor_m) ? floor_m / 2 : 1e-6;
    int rc = 0;
    for (int major = 1; major >= 0 && !rc; major--) {
        long m = 0;
        for (long k = 0; k < nmodes; k++)
            if ((mass[k] >= min_mass) == major && mass[k] > 0) { x[m] = energy[k]; y[m++] = mass[k]; }
        if (!m) continue;
        char lab[64];
        snprintf(lab, sizeof lab, major ? "major (mass >= %g)" : "minor", min_mass);
        int s = figp_scatter(p, x, y, m, lab);
        rc = s < 0 || figp_style(p, s, 0, major ? 6 : 3);
    }
    long m = 0;
    for (long k = 0; k < nmodes && err; k++) {
        if (!(err[k] > 0) || !isfinite(err[k]) || !(mass[k] > 0)) continue;
        x[m] = energy[k]; y[m++] = fmax(mass[k] - err[k], floor_m);
        x[m] = energy[k]; y[m++] = mass[k] + err[k];
        x[m] = energy[k]; y[m++] = NAN;
    }
    if (m && !rc) {
        int s = figp_line(p, x, y, m, "± 1 s.e.");
        rc = s < 0 || figp_color(p, s, 0.2, 0.2, 0.2) || figp_style(p, s, 1.2, 0);
    }
    double lx[2] = {emin, emax}, ly[2] = {min_mass, min_mass};
    if (!rc && emax > emin) {
        int s = figp_line(p, lx, ly, 2, "major threshold");
        rc = s < 0 || figp_color(p, s, 0.5, 0.5, 0.5) || figp_dashed(p, s, true);
    }
    free(x);
    free(y);
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    return rc ? -1 : 0;
}

int figs_mode_digits(const float *img, int count, int h, int w, const double *energy, const double *mass,
                     const double *err, const char *title, const char *png)
{
    if (count < 1 || h < 1 || w < 1) return qv_seterr("%s: no decoded modes to draw", png);
    if (count > FIG_MAX_PANELS) count = FIG_MAX_PANELS;
    int cols = 1;
    while (cols * cols < count) cols++;
    int rows = (count + cols - 1) / cols;
    /* 200 px per digit panel leaves room for its two-line title; at least 640 px for the title */
    struct fig *f = fig_new(QV_MAX(640, 200 * cols), 60 + 220 * rows, rows, cols);
    if (!f) return -1;
    fig_title(f, title);
    int rc = 0;
    for (int k = 0; k < count && !rc; k++) {
        struct fig_panel *p = fig_panel(f, k);
        char lab[96];
        if (err && err[k] > 0 && isfinite(err[k]))
            snprintf(lab, sizeof lab, "mode %d: E %.4g, mass %.3g \xc2\xb1 %.2g", k + 1, energy[k], mass[k], err[k]);
        else
            snprintf(lab, sizeof lab, "mode %d: E %.4g, mass %.3g", k + 1, energy[k], mass[k]);
        figp_labels(p, lab, NULL, NULL);
        figp_axes_off(p, true);
        rc = figp_image(p, img + (size_t)k * h * w, h, w, 0, w, 0, h, FIG_CMAP_GREY, 0, 1) < 0;
    }
    for (int k = count; k < rows * cols; k++)   /* the grid's unused cells stay blank */
        figp_axes_off(fig_panel(f, k), true);
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    return rc ? -1 : 0;
}

int figs_scan(const double *x, const double *q, int n, const char *knob, const char *measure,
              const char *title, const char *png)
{
    if (n < 1) return qv_seterr("%s: no scan values to draw", png);
    struct fig *f = fig_new(900, 520, 1, 1);
    if (!f) return -1;
    struct fig_panel *p = fig_panel(f, 0);
    figp_labels(p, title, knob, measure);
    int s = figp_line(p, x, q, n, measure);
    int rc = s < 0 || figp_style(p, s, 2, 4);
    if (!rc) rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    return rc ? -1 : 0;
}

/* ---- any CSV ---------------------------------------------------------------------------------- */

#define CSV_MAX_FIELDS 256

/* Split line (modified in place) at commas into fields [max], blanks and a trailing CR trimmed;
 * returns the field count.  No quoting: the workbench's CSVs have none. */
static int csv_split(char *line, char **field, int max)
{
    int n = 0;
    for (char *p = line; n < max; ) {
        char *c = strchr(p, ',');
        if (c) *c = 0;
        while (*p == ' ' || *p == '\t') p++;
        char *e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = 0;
        field[n++] = p;
        if (!c) break;
        p = c + 1;
    }
    return n;
}

static int csv_find(char **head, int nh, const char *name, const char *path, const char *opt)
{
    for (int i = 0; i < nh; i++)
        if (!strcmp(head[i], name)) return i;
    char list[512] = "";
    for (int i = 0; i < nh; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", head[i]);
    return qv_seterr("%s: %s: no column '%s' (columns: %s)", path, opt, name, list);
}

static struct figs_csv_series *csv_series(struct figs_csv *c, const char *name)
{
    for (int i = 0; i < c->nseries; i++)
        if (!strcmp(c->s[i].name, name)) return &c->s[i];
    if (c->nseries == FIGS_CSV_MAX_SERIES) return NULL;
    struct figs_csv_series *s = &c->s[c->nseries++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->xmin = s->ymin = INFINITY;
    s->xmax = s->ymax = -INFINITY;
    return s;
}

static void series_push(struct figs_csv_series *s, double x, double y)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->x = qv_realloc(s->x, (size_t)s->cap * sizeof *s->x);
        s->y = qv_realloc(s->y, (size_t)s->cap * sizeof *s->y);
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
    s->xmin = fmin(s->xmin, x); s->xmax = fmax(s->xmax, x);
    s->ymin = fmin(s->ymin, y); s->ymax = fmax(s->ymax, y);
}

/* A cell as a finite number: 0, 1 when empty (no point), -1 with "path:line: …". */
static int csv_num(const char *cell, const char *col, const char *path, long line, double *v)
{
    if (!*cell) return 1;
    char *end;
    *v = strtod(cell, &end);
    if (*end || !isfinite(*v))
        return qv_seterr("%s:%ld: column %s: '%.40s%s' is not a finite number", path, line, col, cell,
                         strlen(cell) > 40 ? "…" : "");
    return 0;
}

static int csv_rows(struct figs_csv *c, char *text, const char *path, int cx, int cy, int cb,
                    const char *xcol, const char *ycol)
{
    char *field[CSV_MAX_FIELDS];
    int need = QV_MAX(cx, QV_MAX(cy, cb)) + 1;
    long lineno = 1;
    for (char *line = text; line && *line; lineno++) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        int nf = csv_split(line, field, CSV_MAX_FIELDS);
        if (nf == 1 && !*field[0]) { line = next; continue; }   /* blank line */
        if (nf < need)
            return qv_seterr("%s:%ld: %d field%s, the columns asked for need %d", path, lineno + 1, nf,
                             nf == 1 ? "" : "s", need);
        double x = 0, y = 0;
        int ex = csv_num(field[cx], xcol, path, lineno + 1, &x), ey = ex < 0 ? 0 : csv_num(field[cy], ycol, path, lineno + 1, &y);
        if (ex < 0 || ey < 0) return -1;
        if (!ex && !ey) {
            struct figs_csv_series *s = csv_series(c, cb >= 0 ? field[cb] : ycol);
            if (!s) return qv_seterr("%s:%ld: more than %d distinct values of --by", path, lineno + 1, FIGS_CSV_MAX_SERIES);
            series_push(s, x, y);
            c->points++;
        }
        line = next;
    }
    return 0;
}

int figs_csv_read(struct figs_csv *c, const char *path, const char *xcol, const char *ycol, const char *bycol)
{
    memset(c, 0, sizeof *c);
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, false, &buf, &len)) return -1;
    char *text = (char *)buf, *nl = strchr(text, '\n');
    if (nl) *nl = 0;
    char *head[CSV_MAX_FIELDS];
    int nh = csv_split(text, head, CSV_MAX_FIELDS);
    int cx = -1, cy = -1, cb = -1, rc = 0;
    if (nh == 1 && !*head[0]) rc = qv_seterr("%s: empty file (a CSV needs a header line)", path);
    if (!rc && (cx = csv_find(head, nh, xcol, path, "--x")) < 0) rc = -1;
    if (!rc && (cy = csv_find(head, nh, ycol, path, "--y")) < 0) rc = -1;
    if (!rc && bycol && (cb = csv_find(head, nh, bycol, path, "--by")) < 0) rc = -1;
    if (!rc && nl) rc = csv_rows(c, nl + 1, path, cx, cy, cb, xcol, ycol);
    if (!rc && c->points == 0) rc = qv_seterr("%s: no rows with numbers in both %s and %s", path, xcol, ycol);
    free(buf);
    if (rc) figs_csv_free(c);
    return rc;
}

void figs_csv_free(struct figs_csv *c)
{
    for (int i = 0; i < c->nseries; i++) { free(c->s[i].x); free(c->s[i].y); }
    memset(c, 0, sizeof *c);
}

struct fig *figs_csv_fig(const struct figs_csv *c, const char *title, const char *xlabel, const char *ylabel)
{
    struct fig *f = fig_new(900, 560, 1, 1);
    if (!f) return NULL;
    struct fig_panel *p = fig_panel(f, 0);
    figp_labels(p, title, xlabel, ylabel);
    for (int i = 0; i < c->nseries; i++) {
        /* one series per --by value, label NULL when there is only the one (no legend needed) */
        int s = figp_line(p, c->s[i].x, c->s[i].y, c->s[i].n, c->nseries > 1 ? c->s[i].name : NULL);
        if (s < 0 || figp_style(p, s, 2, c->s[i].n <= 40 ? 3 : 0)) {
            fig_free(f);
            return NULL;
        }
    }
    return f;
}

int figs_csv_png(const struct figs_csv *c, const char *title, const char *xlabel, const char *ylabel,
                 const char *png)
{
    struct fig *f = figs_csv_fig(c, title, xlabel, ylabel);
    if (!f) return -1;
    int rc = fig_write_png(f, png, NULL, 0);
    fig_free(f);
    return rc;
}
