/* sqa_ctl.c — the advanced anneal controls applied per Monte Carlo step of the sqa emulator
 * (the model and its sources are in sqa_ctl.h). */
#include "sqa_ctl.h"
#include "anneal.h"
#include "graph.h"
#include "schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double sqa_mafm_ph(const char *solver)
{
    static const struct { const char *prefix; double mafm; } pub[] = {
        {"Advantage_system4", 1.647}, {"Advantage_system6", 1.554},
        {"Advantage2_system1", 0.528}, {"Advantage2_system4", 0.514},
    };
    for (size_t i = 0; solver && i < sizeof pub / sizeof *pub; i++)
        if (!strncmp(solver, pub[i].prefix, strlen(pub[i].prefix))) return pub[i].mafm;
    return 1.647;
}

/* Nodes of g carrying the entries of a per-qubit list; entries on other qubits are counted. */
static int pick(const struct graph *g, const struct sched_qval *list, int n, int **node, double **val,
                long *ignored)
{
    *node = qv_mallocarray((size_t)n + 1, sizeof **node);
    *val = qv_mallocarray((size_t)n + 1, sizeof **val);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int v = graph_find_label(g, list[i].q);
        if (v < 0) { (*ignored)++; continue; }
        (*node)[k] = v;
        (*val)[k++] = list[i].v;
    }
    return k;
}

bool sqa_ctl_init(struct sqa_ctl *c, const struct sched *s, const struct graph *g,
                  const struct anneal_table *t, double bphys, int P, double mafm_ph, double nu0)
{
    memset(c, 0, sizeof *c);
    if (!s || !sched_has_controls(s)) return false;
    c->s = s;
    c->g = g;
    c->t = t;
    c->bphys = bphys;
    c->P = P;
    c->mafm = mafm_ph * 1e-12;
    c->nu0 = nu0;
    c->noff = pick(g, s->ctl.off, s->ctl.noff, &c->off_node, &c->off, &c->ignored);
    c->nflux = pick(g, s->ctl.flux, s->ctl.nflux, &c->flux_node, &c->flux, &c->ignored);
    for (int k = 0; k < c->noff; k++) c->minoff = fmin(c->minoff, c->off[k]);
    return true;
}

void sqa_ctl_free(struct sqa_ctl *c)
{
    free(c->off_node);
    free(c->off);
    free(c->flux_node);
    free(c->flux);
    memset(c, 0, sizeof *c);
}

/* K and bond probability of the slice coupling at transverse field A (as samp_sqa.c's plan). */
static void slice_coupling(double bphys, double A, int P, float *K, float *pb)
{
    double th = tanh(bphys * A / (2.0 * P));
    double k = th > 0 ? -0.5 * log(th) : 40.0;
    *K = (float)(k > 40 ? 40 : k);
    *pb = (float)(1.0 - th);
}

void sqa_ctl_work_init(const struct sqa_ctl *c, struct sqa_ctl_work *w)
{
    size_t n = (size_t)c->g->nv + 1;
    memset(w, 0, sizeof *w);
    w->hs = qv_mallocarray(n, sizeof(float));
    if (!c->noff) return;
    w->Js = qv_mallocarray((size_t)(2 * c->g->ne + 1), sizeof(float));
    w->Kv = qv_mallocarray(n, sizeof(float));
    w->pbv = qv_mallocarray(n, sizeof(float));
    w->r = qv_mallocarray(n, sizeof(float));
    w->clock = qv_mallocarray(n, sizeof(float));
    w->skip = qv_mallocarray(n, 1);
}

void sqa_ctl_work_free(struct sqa_ctl_work *w)
{
    free(w->hs); free(w->Js); free(w->Kv); free(w->pbv); free(w->r); free(w->clock); free(w->skip);
    memset(w, 0, sizeof *w);
}

void sqa_ctl_read_start(const struct sqa_ctl *c, struct sqa_ctl_work *w)
{
    if (w->clock) memset(w->clock, 0, (size_t)c->g->nv * sizeof(float));
}

static double clip01(double x) { return fmin(1.0, fmax(0.0, x)); }

/* Which qubits take part in this step: each on its own clock ν(s_i)/ν(step) (see header). */
static void step_clocks(const struct sqa_ctl *c, double sv, struct sqa_ctl_work *w)
{
    int n = c->g->nv;
    double rstep = anneal_rate(c->t, clip01(sv + c->minoff), c->nu0);
    float base = (float)(rstep > 0 ? anneal_rate(c->t, sv, c->nu0) / rstep : 1.0);
    for (int i = 0; i < n; i++) w->r[i] = base;   /* r holds the clock increment for now */
    for (int k = 0; k < c->noff; k++)
        w->r[c->off_node[k]] = (float)(rstep > 0 ? anneal_rate(c->t, clip01(sv + c->off[k]), c->nu0) / rstep : 1.0);
    for (int i = 0; i < n; i++) {
        w->clock[i] += w->r[i];
        w->skip[i] = w->clock[i] < 1.0f;
        if (!w->skip[i]) w->clock[i] -= 1.0f;
    }
}

bool sqa_ctl_step(const struct sqa_ctl *c, double sv, double gv, float K, float pbond,
                  const float *h, const float *Jadj, struct sqa_ctl_work *w)
{
    const struct graph *g = c->g;
    int n = g->nv;
    double B = anneal_B(c->t, sv);
    bool offs = c->noff > 0;
    float *hs = w->hs, *Js = w->Js, *Kv = w->Kv, *pbv = w->pbv, *r = w->r;
    if (offs) {
        step_clocks(c, sv, w);
        for (int i = 0; i < n; i++) { r[i] = 1.0f; Kv[i] = K; pbv[i] = pbond; }
        for (int k = 0; k < c->noff; k++) {
            int i = c->off_node[k];
            double si = clip01(sv + c->off[k]);
            r[i] = (float)sqrt(anneal_B(c->t, si) / B);
            slice_coupling(c->bphys, anneal_A(c->t, si), c->P, &Kv[i], &pbv[i]);
        }
        for (int i = 0; i < n; i++)
            for (long e = g->adj_start[i]; e < g->adj_start[i + 1]; e++)
                Js[e] = r[i] * r[g->adj[e]] * Jadj[e];
    }
    for (int i = 0; i < n; i++) {
        float ri = offs ? r[i] : 1.0f;
        hs[i] = (float)(ri * ri * gv) * h[i];
    }
    if (c->nflux) {
        /* I_p(s) in A from B(s) in GHz; c(s) = Φ0 / (M_AFM I_p(s)) in h units of the step */
        double ip = sqrt(B * 1e9 * ANNEAL_H_PLANCK / (2.0 * c->mafm));
        double cs = SQA_PHI0 / (c->mafm * ip);
        for (int k = 0; k < c->nflux; k++) {
            int i = c->flux_node[k];
            hs[i] -= (float)((offs ? r[i] : 1.0) * cs * c->flux[k]);
        }
    }
    return offs;
}
