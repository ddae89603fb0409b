/* sched_scan.c — knobs of a schedule, the reference of a prior, one measured trial of a physical
 * sampler under a schedule (sched_scan.h has the measures). */
#include "sched_scan.h"
#include "bm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const knob_names[] = {
    [SK_PAUSE_S] = "pause-s", [SK_PAUSE_LEN] = "pause-len", [SK_QUENCH_S] = "quench-s",
    [SK_REVERSE_S] = "reverse-s", [SK_OFFSET] = "offset", [SK_HGAIN] = "h-gain",
};

const char *sched_knob_name(enum sched_knob k)
{
    return k >= SK_PAUSE_S && k <= SK_HGAIN ? knob_names[k] : "?";
}

int sched_parse_group(const char *g, long *q0, long *q1)
{
    char *end;
    errno = 0;
    *q0 = strtol(g, &end, 10);
    *q1 = *q0;
    if (end != g && *end == '-') {
        const char *b = end + 1;
        *q1 = strtol(b, &end, 10);
        if (end == b) return -1;
    }
    /* bounded, so a loop over a group's qubits ends (and q + 1 cannot overflow) */
    if (errno || end == g || *end || *q0 < 0 || *q1 < *q0 || *q1 > SCHED_QUBIT_MAX) return -1;
    return 0;
}

int sched_knob_parse(const char *text, struct sched_knob_spec *k)
{
    memset(k, 0, sizeof *k);
    k->pause_len = 20;
    k->pause_s = 0.5;
    k->hold = 20;
    if (!strncmp(text, "offset:", 7)) {
        k->knob = SK_OFFSET;
        if (sched_parse_group(text + 7, &k->q0, &k->q1))
            return qv_seterr("schedule scan: knob %s: the group must be Q or A-B (qubit numbers, A ≤ B)", text);
        return 0;
    }
    if (!strcmp(text, "offset"))
        return qv_seterr("schedule scan: knob offset needs a group of qubits, e.g. offset:0-7");
    for (int i = SK_PAUSE_S; i <= SK_HGAIN; i++)
        if (i != SK_OFFSET && !strcmp(text, knob_names[i])) {
            k->knob = (enum sched_knob)i;
            return 0;
        }
    return qv_seterr("schedule scan: unknown knob '%s' (pause-s, pause-len, quench-s, reverse-s, "
                     "offset:A-B, h-gain)", text);
}

int sched_knob_apply(const struct sched *base, const struct sched_knob_spec *k, double x,
                     const struct solver_props *sp, struct sched *out)
{
    sched_copy(out, base);
    int rc = 0;
    switch (k->knob) {
    case SK_PAUSE_S: rc = sched_pause(out, x, k->pause_len); break;
    case SK_PAUSE_LEN: rc = x > 0 ? sched_pause(out, k->pause_s, x) : 0; break;
    case SK_QUENCH_S: rc = sched_quench(out, x, 0, sp); break;
    case SK_REVERSE_S:
        rc = sched_reverse(out, x, k->hold, 0, sp);
        out->ctl.nhg = 0;   /* the h-gain's end time no longer matches */
        break;
    case SK_OFFSET:
        for (long q = k->q0; q <= k->q1 && !rc; q++) rc = sched_set_offset(out, q, x);
        break;
    case SK_HGAIN: {
        const struct sched_point g[2] = {{out->n ? out->pt[0].t : 0, x}, {sched_duration(out), x}};
        rc = sched_set_hgain(out, g, 2);
        break;
    }
    }
    if (rc) return qv_preferr("%s = %g", sched_knob_name(k->knob), x);
    snprintf(out->name, sizeof out->name, "%.40s, %s %g", base->name[0] ? base->name : "schedule",
             sched_knob_name(k->knob), x);
    return 0;
}

void sched_ref_init(struct sched_ref *r)
{
    memset(r, 0, sizeof *r);
    lab_ref_init(&r->ref);
    lab_modes_init(&r->modes);
    r->e_best = NAN;
}

void sched_ref_free(struct sched_ref *r)
{
    lab_ref_free(&r->ref);
    lab_modes_free(&r->modes);
    r->e_best = NAN;
}

int sched_ref_build(struct sched_ref *r, const struct bm *bm, double beta, long count, uint64_t seed,
                    atomic_int *cancel)
{
    sched_ref_free(r);
    int rc;
    if (bm_exact_enum_units(bm) <= BM_EXACT_MAX) {
        rc = lab_ref_exact(&r->ref, bm, beta, count, 1, seed, cancel);
    } else {
        struct logz_opts o = {.seed = seed, .cancel = cancel};
        rc = lab_ref_pa(&r->ref, bm, beta, count, &o);
    }
    if (rc) return -1;
    rc = bm->n <= LAB_MODES_EXACT_MAX ? lab_modes_exact(&r->modes, bm, beta, 0)
                                      : lab_modes_from_samples(&r->modes, bm, &r->ref.s, 0);
    if (rc) return -1;
    r->e_best = INFINITY;
    for (long c = 0; c < r->ref.s.count; c++) r->e_best = fmin(r->e_best, r->ref.s.energy[c]);
    for (long m = 0; m < r->modes.nmodes; m++) r->e_best = fmin(r->e_best, r->modes.energy[m]);
    return 0;
}

void sched_trial_free(struct sched_trial *t)
{
    free(t->energy);
    t->energy = NULL;
    t->count = 0;
}

/* KL of the samples to the nearest Boltzmann distribution: min over β of KL(q‖p_β) =
 * −H(q) + β⟨E⟩_q + log Z(β), convex in β (log Z is), so a golden-section search on log β over
 * [1e-3, 1e3] finds it; one exact log Z per step.  The minimiser matches ⟨E⟩_β to ⟨E⟩_q (the
 * maximum-likelihood β), finite even when every sample is a local minimum (where MPL says ∞). */
static double kl_nearest(const struct bm *bm, const struct samples *s, double beta0, double *beta_at)
{
    double lz0, kl0, tv, em = 0;
    if (bm_logz_exact(bm, beta0, &lz0)) return NAN;
    if (lab_kl_tv(s->z, s->n, s->energy, NULL, s->count, beta0, lz0, &kl0, &tv, NULL)) return NAN;
    for (long c = 0; c < s->count; c++) em += s->energy[c] / (double)s->count;
    double negH = kl0 - beta0 * em - lz0;
    const double gr = 0.5 * (sqrt(5.0) - 1);
    double a = log(1e-3), b = log(1e3), c = b - gr * (b - a), d = a + gr * (b - a), fc, fd, lz;
    if (bm_logz_exact(bm, exp(c), &lz)) return NAN;
    fc = negH + exp(c) * em + lz;
    if (bm_logz_exact(bm, exp(d), &lz)) return NAN;
    fd = negH + exp(d) * em + lz;
    for (int it = 0; it < 60 && b - a > 1e-4; it++) {
        bool left = fc < fd;   /* the minimum is in [a, d]: c becomes the new d */
        if (left) { b = d; d = c; fd = fc; c = b - gr * (b - a); }
        else { a = c; c = d; fc = fd; d = a + gr * (b - a); }
        if (bm_logz_exact(bm, exp(left ? c : d), &lz)) return NAN;
        if (left) fc = negH + exp(c) * em + lz;
        else fd = negH + exp(d) * em + lz;
    }
    *beta_at = exp(fc < fd ? c : d);
    return fmax(0.0, fmin(fc, fd));
}

int sched_trial_run(struct sampler *smp, const struct bm *bm, double beta, long count,
                    const struct sched *sc, const struct sched_ref *R, const struct sample_ctx *ctx0,
                    uint64_t seed, struct sched_trial *t)
{
    memset(t, 0, sizeof *t);
    t->x = t->kl = t->beta_kl = t->w1 = t->beta_eff = t->beta_err = t->resid = NAN;
    snprintf(t->label, sizeof t->label, "%s", sc->name);
    struct sample_ctx ctx;
    if (ctx0) memcpy(&ctx, ctx0, sizeof ctx);
    else memset(&ctx, 0, sizeof ctx);
    ctx.schedule = sc;
    struct samples s;
    samples_init(&s);
    if (sampler_sample(smp, bm, beta, count, &ctx, &s)) return -1;
    struct lab_measures m;
    int rc = lab_measure(&R->ref, bm, &s, 0, seed, &m);
    if (!rc) {
        t->beta_eff = m.beta_eff;
        t->beta_err = m.beta_err;
        t->w1 = m.w1;
        t->e_mean = m.e_mean;
        t->e_sd = m.e_sd;
        t->resid = m.e_mean - fmin(R->e_best, m.e_min);
        if (R->ref.exact) t->kl = kl_nearest(bm, &s, beta, &t->beta_kl);
        qv_clearerr();
        struct lab_visits v;
        memset(&v, 0, sizeof v);
        if (R->modes.nmodes && lab_visits(&v, &R->modes, bm, &s, 0, 0.01, 0) == 0) {
            t->major = v.major;
            t->covered = v.covered;
        }
        lab_visits_free(&v);
        t->count = s.count;
        t->energy = qv_mallocarray((size_t)s.count, sizeof(double));
        memcpy(t->energy, s.energy, (size_t)s.count * sizeof(double));
    }
    samples_free(&s);
    return rc;
}

/* Fractions per bin of e [n] (weights w or NULL) on [lo, hi]. */
static void hist(const double *e, const double *w, long n, double lo, double hi, float *out)
{
    double tot = 0, m[SCHED_RES_BINS] = {0};
    for (long i = 0; i < n; i++) {
        int b = (int)((e[i] - lo) / (hi - lo) * SCHED_RES_BINS);
        b = b < 0 ? 0 : b >= SCHED_RES_BINS ? SCHED_RES_BINS - 1 : b;
        double wi = w ? w[i] : 1.0;
        m[b] += wi;
        tot += wi;
    }
    for (int b = 0; b < SCHED_RES_BINS; b++) out[b] = tot > 0 ? (float)(m[b] / tot) : 0.0f;
}

void sched_result_fill(struct sched_result *r, const struct sched_trial *t, const struct sched_ref *R,
                       const char *sampler)
{
    memset(r, 0, sizeof *r);
    snprintf(r->label, sizeof r->label, "%.47s", t->label);
    snprintf(r->sampler, sizeof r->sampler, "%s", sampler ? sampler : "");
    r->kl = t->kl;
    r->w1 = t->w1;
    r->beta_eff = t->beta_eff;
    r->e_mean = t->e_mean;
    r->resid = t->resid;
    r->major = t->major;
    r->covered = t->covered;
    const struct samples *rs = &R->ref.s;
    double lo = INFINITY, hi = -INFINITY;
    for (long i = 0; i < t->count; i++) { lo = fmin(lo, t->energy[i]); hi = fmax(hi, t->energy[i]); }
    for (long i = 0; i < rs->count; i++) { lo = fmin(lo, rs->energy[i]); hi = fmax(hi, rs->energy[i]); }
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    hi += (hi - lo) * 1e-9;   /* the maximum falls in the last bin */
    r->lo = lo;
    r->hi = hi;
    hist(t->energy, NULL, t->count, lo, hi, r->mass);
    double *w = NULL;
    if (rs->logw) {
        w = qv_mallocarray((size_t)rs->count, sizeof *w);
        samples_weights(rs, w);
    }
    hist(rs->energy, w, rs->count, lo, hi, r->ref);
    free(w);
}

void sched_results_push(struct sched *s, const struct sched_result *r)
{
    struct sched_results *q = &s->res;
    if (q->n == SCHED_RES_CAP) {
        memmove(q->r, q->r + 1, (SCHED_RES_CAP - 1) * sizeof *q->r);
        q->n--;
    }
    q->r[q->n] = *r;
    q->r[q->n++].seq = ++q->runs;
}

void sched_scan_free(struct sched_scan *sc)
{
    for (int i = 0; i < sc->n; i++) sched_trial_free(&sc->t[i]);
    free(sc->t);
    free(sc->x);
    memset(sc, 0, sizeof *sc);
}

int sched_scan_run(struct sampler *smp, const struct bm *bm, double beta, long count,
                   const struct sched *base, const struct sched_knob_spec *k, const double *x, int nx,
                   const struct solver_props *sp, const struct sched_ref *R,
                   const struct sample_ctx *ctx0, uint64_t seed, struct sched_scan *out)
{
    memset(out, 0, sizeof *out);
    out->x = qv_mallocarray((size_t)nx + 1, sizeof *out->x);
    out->t = qv_calloc((size_t)nx + 1, sizeof *out->t);
    out->exact = R->ref.exact;
    struct sched *w = sched_new();
    int rc = 0;
    for (int i = 0; i < nx && !rc; i++) {
        rc = sched_knob_apply(base, k, x[i], sp, w);
        if (!rc) rc = sched_trial_run(smp, bm, beta, count, w, R, ctx0, seed + (uint64_t)i, &out->t[i]);
        if (!rc) {
            out->t[i].x = x[i];
            out->x[i] = x[i];
            out->n = i + 1;
        }
    }
    sched_free(w);
    if (rc) sched_scan_free(out);
    return rc;
}

const char *sched_scan_series(const struct sched_scan *sc, double *q)
{
    for (int i = 0; i < sc->n; i++) q[i] = sc->exact ? sc->t[i].kl : sc->t[i].w1;
    return sc->exact ? "KL*" : "W1 energy";
}

int sched_scan_values(double a, double b, double step, double *x, int max)
{
    if (!isfinite(a) || !isfinite(b) || !isfinite(step) || step <= 0 || b < a)
        return qv_seterr("schedule scan: range a:b:step needs finite a ≤ b and step > 0");
    int n = 0;
    for (int i = 0;; i++) {
        double v = a + i * step;
        if (v > b + 1e-9 * fmax(1.0, fabs(step))) break;
        if (n == max) return qv_seterr("schedule scan: more than %d values in %g:%g:%g", max, a, b, step);
        x[n++] = v;
    }
    return n;
}
