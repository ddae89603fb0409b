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
