/* figs.h — the workbench's standard figures, drawn with fig.h and written as PNG: the loss curves
 * of a session (from its metrics.csv), an anneal schedule s(t) with its segments named, and the
 * latent map (a value per unit on the qubit graph's layout).  The commands that write them:
 * `view loss --png F`, `schedule show --png F`, `eval units --png F`.  Library code: nothing
 * prints; each returns 0 or -1 with one error line naming the file. */
#ifndef QV_FIGS_H
#define QV_FIGS_H

#include "qv.h"

struct sched;
struct solver_props;
struct graph;

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

#endif
