/* sched_ctl.c — editing the advanced anneal controls of a schedule (schedule.h struct
 * sched_ctl): the h-gain curve and the per-qubit anneal offsets and flux biases, kept as sorted
 * lists of the non-zero values.  Their JSON and validation are in sched.c. */
#include "schedule.h"

#include <math.h>
#include <string.h>

int sched_set_hgain(struct sched *s, const struct sched_point *pts, int n)
{
    if (n < 0 || n > SCHED_HG_CAP) return qv_seterr("h-gain schedule: %d points (at most %d)", n, SCHED_HG_CAP);
    for (int i = 0; i < n; i++) {
        if (!isfinite(pts[i].t) || !isfinite(pts[i].s))
            return qv_seterr("h-gain schedule: point %d: t and g must be finite numbers", i);
        if (pts[i].t < 0) return qv_seterr("h-gain schedule: point %d: negative time t = %g µs", i, pts[i].t);
        if (i > 0 && !(pts[i].t > pts[i - 1].t))
            return qv_seterr("h-gain schedule: point %d: time %g µs is not after the previous point's %g µs",
                             i, pts[i].t, pts[i - 1].t);
    }
    if (n == 1) return qv_seterr("h-gain schedule: needs at least 2 points (or none: g = 1)");
    memmove(s->ctl.hg, pts, (size_t)n * sizeof *pts);
    s->ctl.nhg = n;
    return 0;
}

double sched_hgain_at(const struct sched *s, double t)
{
    const struct sched_ctl *c = &s->ctl;
    if (c->nhg < 1) return 1.0;
    if (t <= c->hg[0].t) return c->hg[0].s;
    for (int i = 1; i < c->nhg; i++)
        if (t <= c->hg[i].t) {
            double w = (t - c->hg[i - 1].t) / (c->hg[i].t - c->hg[i - 1].t);
            return c->hg[i - 1].s + w * (c->hg[i].s - c->hg[i - 1].s);
        }
    return c->hg[c->nhg - 1].s;
}

void sched_hgain_fit(struct sched *s, double old_end)
{
    struct sched_ctl *c = &s->ctl;
    double end = sched_duration(s), last = c->nhg ? c->hg[c->nhg - 1].t : 0;
    if (c->nhg < 2 || !(last > 0) || !(end > 0) || last == end || last != old_end) return;
    for (int i = 0; i < c->nhg; i++) c->hg[i].t *= end / last;
    c->hg[c->nhg - 1].t = end;   /* exactly, whatever the rounding */
}

/* Set or clear entry q of a sorted list of per-qubit values. */
static int qlist_set(struct sched_qval *list, int *n, const char *what, long q, double v)
{
    if (q < 0) return qv_seterr("%s: qubit %ld: must be a qubit number ≥ 0", what, q);
    if (!isfinite(v)) return qv_seterr("%s: qubit %ld: value must be a finite number", what, q);
    int i = 0;
    while (i < *n && list[i].q < q) i++;
    bool have = i < *n && list[i].q == q;
    if (v == 0) {
        if (have) memmove(list + i, list + i + 1, (size_t)(*n - i - 1) * sizeof *list), (*n)--;
        return 0;
    }
    if (have) { list[i].v = v; return 0; }
    if (*n >= SCHED_QCAP) return qv_seterr("%s: more than %d qubits with a non-zero value", what, SCHED_QCAP);
    memmove(list + i + 1, list + i, (size_t)(*n - i) * sizeof *list);
    list[i] = (struct sched_qval){q, v};
    (*n)++;
    return 0;
}

static double qlist_get(const struct sched_qval *list, int n, long q)
{
    for (int i = 0; i < n && list[i].q <= q; i++)
        if (list[i].q == q) return list[i].v;
    return 0;
}

int sched_set_offset(struct sched *s, long q, double v)
{
    return qlist_set(s->ctl.off, &s->ctl.noff, "anneal offset", q, v);
}
int sched_set_flux(struct sched *s, long q, double v)
{
    return qlist_set(s->ctl.flux, &s->ctl.nflux, "flux bias", q, v);
}
double sched_offset_of(const struct sched *s, long q) { return qlist_get(s->ctl.off, s->ctl.noff, q); }
double sched_flux_of(const struct sched *s, long q) { return qlist_get(s->ctl.flux, s->ctl.nflux, q); }
bool sched_has_controls(const struct sched *s) { return s->ctl.nhg || s->ctl.noff || s->ctl.nflux; }
