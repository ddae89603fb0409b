/* figs.h — the workbench's standard figures, drawn with fig.h and written as PNG: the loss curves
 * of a session (from its metrics.csv), an anneal schedule s(t) with its segments named, and the
 * latent map (a value per unit on the qubit graph's layout).  The commands that write them:
 * `view loss --png F`, `schedule show --png F`, `eval units --png F`; and `compare … --png F`,
 * `prior modes … --png F`, `view csv FILE --x C --y C [--by C] --png F` (any CSV with a header).
 * Library code: nothing prints; each returns 0 or -1 with one error line naming the file. */
#ifndef QV_FIGS_H
#define QV_FIGS_H

#include "qv.h"

struct sched;
struct solver_props;
struct graph;
struct fig;

/* Train −ELBO (each logged window) and validation −ELBO (relaxed, and with discrete z when the
 * file has it) against epoch, from a metrics.csv as train.c writes it.  logy: logarithmic y. */
int figs_loss(const char *csv_path, const char *title, bool logy, const char *png);

/* s(t) of schedule s, t in µs: points marked, segments coloured by kind (ramp, pause = flat,
 * quench = the steepest slope the limits allow, reverse = s falling) and red where sched_validate
 * finds a violation; the freeze-out point s* as a dashed line when known (s_star NaN: none).
 * sp: the limits (NULL = solver_defaults()). */
int figs_schedule(const struct sched *s, const struct solver_props *sp, double s_star, const char *png);

/* The latent map: value [n] per unit drawn on g's layout (g NULL: a near-square grid of units, as
 * for a Bernoulli prior), beside a histogram of the values.  what names the value ("activity
 * Var E_q[z]"). */
int figs_latent(const struct graph *g, const float *value, int n, const char *what, const char *png);

/* The sampler comparison: names [nsets] (the reference first), energy histograms mass
 * [nsets × nbins] on nbins equal bins over [lo, hi] overlaid in one panel; in a second, score
 * [nsets − 1] per sampler (excess KL, or W1 without an exact reference; NaN: none) as labelled
 * markers at x = 1 … nsets − 1 with a dashed zero line.  title may be NULL. */
int figs_compare(const char *const *names, int nsets, int nbins, double lo, double hi,
                 const double *mass, const double *score, const char *score_name, const char *title,
                 const char *png);

/* The modes of a prior: basin mass (log axis) against the minimum's energy, [nmodes] each, the
 * modes holding >= min_mass marked large, error bars ± err (err NULL, or ≤ 0 / NaN entries:
 * none), the threshold as a dashed line. */
/* `schedule scan --png`: the quality measure q [n] (NaN: not measured) against the knob's values
 * x [n], with markers.  0, or -1 with an error naming png. */
int figs_scan(const double *x, const double *q, int n, const char *knob, const char *measure,
              const char *title, const char *png);
int figs_modes(const double *energy, const double *mass, const double *err, long nmodes,
               double min_mass, const char *title, const char *png);
/* `prior modes --digits`: the decoded modes img [count × h × w] (pixel means in [0, 1]), one panel
 * each titled with its rank, energy and basin mass (± err[k] when > 0; err may be NULL), in the
 * order given (heaviest first), under title.  At most FIG_MAX_PANELS are drawn. */
int figs_mode_digits(const float *img, int count, int h, int w, const double *energy, const double *mass,
                     const double *err, const char *title, const char *png);

/* Any CSV with a header line: the points (x, y) of two columns, one series per distinct value of
 * a third (in order of first appearance), rows with an empty x or y cell skipped. */
#define FIGS_CSV_MAX_SERIES 32
struct figs_csv_series {
    char name[64];            /* the --by value, or the y column's name */
    long n, cap;
    double *x, *y;            /* [n], owned */
    double xmin, xmax, ymin, ymax;
};
struct figs_csv {
    int nseries;
    long points;
    struct figs_csv_series s[FIGS_CSV_MAX_SERIES];
};
/* Read path; bycol may be NULL (one series).  -1 with one line: the file unreadable, a column
 * missing (naming those there are), a cell not a number (path:line), no rows.  c is then empty;
 * else free with figs_csv_free. */
int figs_csv_read(struct figs_csv *c, const char *path, const char *xcol, const char *ycol, const char *bycol);
void figs_csv_free(struct figs_csv *c);
/* One line per series, a legend when there are several; caller owns the figure (fig_free).
 * NULL with an error. */
struct fig *figs_csv_fig(const struct figs_csv *c, const char *title, const char *xlabel, const char *ylabel);
int figs_csv_png(const struct figs_csv *c, const char *title, const char *xlabel, const char *ylabel,
                 const char *png);

#endif
