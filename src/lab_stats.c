/* lab_stats.c — quality measures of sample sets against a reference (lab_stats.h). */
#include "lab_stats.h"
#include "beta.h"
#include "rng.h"
#include "qv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------- pure measures */

void lab_kl_tv_core(const double *q, const double *logp, long k, double *kl, double *tv)
{
    double d = 0, absdiff = 0, pin = 0;
    for (long i = 0; i < k; i++) {
        double p = exp(logp[i]);
        if (q[i] > 0) d += q[i] * (log(q[i]) - logp[i]);
        absdiff += fabs(q[i] - p);
        pin += p;
    }
    if (kl) *kl = d;
    /* states outside the support carry p's remaining mass, where q is 0; the clamp absorbs the
     * rounding of 1 − Σp when the support holds nearly all of it */
    if (tv) *tv = 0.5 * (absdiff + fmax(0.0, 1.0 - pin));
}

struct state_cmp { const uint8_t *z; int n; };

static int cmp_state(const void *a, const void *b, void *ctx)
{
    const struct state_cmp *c = ctx;
    long i = *(const long *)a, j = *(const long *)b;
    int r = memcmp(c->z + (size_t)i * c->n, c->z + (size_t)j * c->n, (size_t)c->n);
    return r ? r : (i > j) - (i < j);
}

int lab_kl_tv(const uint8_t *z, int n, const double *energy, const double *w, long count,
              double beta, double logz, double *kl, double *tv, long *distinct)
{
    if (count < 1) return qv_seterr("KL: no samples");
    long *idx = qv_mallocarray((size_t)count, sizeof(long));
    for (long k = 0; k < count; k++) idx[k] = k;
    struct state_cmp c = {z, n};
    qsort_r(idx, (size_t)count, sizeof(long), cmp_state, &c);
    /* one entry per distinct state: its summed weight and log p */
    double *q = qv_mallocarray((size_t)count, sizeof(double));
    double *lp = qv_mallocarray((size_t)count, sizeof(double));
    long k = 0;
    double wsum = 0;
    for (long a = 0; a < count; a++) {
        long i = idx[a];
        double wi = w ? w[i] : 1.0;
        wsum += wi;
        if (a > 0 && !memcmp(z + (size_t)i * n, z + (size_t)idx[a - 1] * n, (size_t)n)) {
            q[k - 1] += wi;
            continue;
        }
        q[k] = wi;
        lp[k] = -beta * energy[i] - logz;
        k++;
    }
    int rc = 0;
    if (!(wsum > 0)) rc = qv_seterr("KL: the sample weights sum to zero");
    else {
        for (long i = 0; i < k; i++) q[i] /= wsum;
        lab_kl_tv_core(q, lp, k, kl, tv);
        if (distinct) *distinct = k;
    }
    free(idx); free(q); free(lp);
    return rc;
}

struct wval { double x, w; };

static int cmp_wval(const void *a, const void *b)
{
    double x = ((const struct wval *)a)->x, y = ((const struct wval *)b)->x;
    return (x > y) - (x < y);
}

/* Sorted values with weights normalised to 1; NULL for an empty or weightless set. */
static struct wval *sorted_weighted(const double *v, const double *w, long n)
{
    if (n < 1) return NULL;
    struct wval *s = qv_mallocarray((size_t)n, sizeof *s);
    double t = 0;
    for (long i = 0; i < n; i++) { s[i].x = v[i]; s[i].w = w ? w[i] : 1.0; t += s[i].w; }
    if (!(t > 0)) { free(s); return NULL; }
    for (long i = 0; i < n; i++) s[i].w /= t;
    qsort(s, (size_t)n, sizeof *s, cmp_wval);
    return s;
}

double lab_wasserstein1(const double *a, const double *wa, long na, const double *b,
                        const double *wb, long nb)
{
    struct wval *A = sorted_weighted(a, wa, na), *B = sorted_weighted(b, wb, nb);
    if (!A || !B) { free(A); free(B); return NAN; }
    /* merge the two step functions: between consecutive jump points x, |F_a − F_b| is constant */
    double fa = 0, fb = 0, d = 0, x = fmin(A[0].x, B[0].x);
    long i = 0, j = 0;
    while (i < na || j < nb) {
        double nx = (j >= nb || (i < na && A[i].x <= B[j].x)) ? A[i].x : B[j].x;
        d += fabs(fa - fb) * (nx - x);
        x = nx;
        while (i < na && A[i].x == x) fa += A[i++].w;
        while (j < nb && B[j].x == x) fb += B[j++].w;
    }
    free(A); free(B);
    return d;
}

int lab_iat(const double *x, long count, long chains, double c, double *tau, long *window)
{
    if (chains < 1) return qv_seterr("autocorrelation: %ld chains", chains);
    if (c <= 0) c = 5;
    long L = count / chains;   /* full rows only: every chain has L states */
    if (window) *window = 0;
    if (L < 2) { *tau = 1; return 0; }
    double *mean = qv_calloc((size_t)chains, sizeof(double));
    for (long t = 0; t < L; t++)
        for (long ch = 0; ch < chains; ch++) mean[ch] += x[t * chains + ch];
    for (long ch = 0; ch < chains; ch++) mean[ch] /= (double)L;
    double c0 = 0;
    for (long t = 0; t < L; t++)
        for (long ch = 0; ch < chains; ch++) {
            double d = x[t * chains + ch] - mean[ch];
            c0 += d * d;
        }
    if (!(c0 > 0)) {   /* the energy never moved: nothing to tell mixing from being stuck */
        free(mean);
        *tau = NAN;
        return 0;
    }
    double s = 1;
    long M = 1;
    for (; M < L; M++) {
        double ct = 0;
        for (long t = 0; t + M < L; t++)
            for (long ch = 0; ch < chains; ch++)
                ct += (x[t * chains + ch] - mean[ch]) * (x[(t + M) * chains + ch] - mean[ch]);
        s += 2 * ct / c0;
        if ((double)M >= c * s) break;
    }
    free(mean);
    *tau = s < 1 ? 1 : s;   /* below 1 only by noise on anticorrelated chains: report no gain */
    if (window) *window = M;
    return 0;
}

double lab_kish_ess(const double *w, long count)
{
    if (!w) return (double)count;
    double s = 0, s2 = 0;
    for (long i = 0; i < count; i++) { s += w[i]; s2 += w[i] * w[i]; }
    return s2 > 0 ? s * s / s2 : 0;
}

/* ------------------------------------------------------------------ reference and measures */

void lab_ref_init(struct lab_ref *r)
{
    memset(r, 0, sizeof *r);
    samples_init(&r->s);
    r->kl0 = r->tv0 = r->kl0_sd = NAN;
}

void lab_ref_free(struct lab_ref *r)
{
    samples_free(&r->s);
    lab_ref_init(r);
}

int lab_ref_exact(struct lab_ref *r, const struct bm *bm, double beta, long count, int reps,
                  uint64_t seed, atomic_int *cancel)
{
    lab_ref_free(r);
    double t0 = qv_now();
    int units = bm_exact_enum_units(bm);
    if (units > BM_EXACT_MAX)
        return qv_seterr("reference exact: the prior enumerates 2^%d states, more than 2^%d "
                         "(use --ref pa)", units, BM_EXACT_MAX);
    if (count < 1 || reps < 1) return qv_seterr("reference exact: count and reps must be >= 1");
    if (!qv_size_ok((size_t)count * (size_t)reps, (size_t)bm->n, (size_t)1 << 31, "reference exact"))
        return -1;
    if (bm_logz_exact(bm, beta, &r->logz)) return -1;
    if (samples_alloc(&r->s, bm->n, count * reps, false)) return -1;
    double sum = 0, sum2 = 0, tvsum = 0;
    for (int k = 0; k < reps; k++) {
        if (cancel && atomic_load(cancel)) { lab_ref_free(r); return qv_seterr("cancelled"); }
        struct rng g;
        rng_init(&g, seed, (uint64_t)k);
        uint8_t *z = r->s.z + (size_t)k * (size_t)count * (size_t)bm->n;
        if (bm_sample_exact(bm, beta, count, &g, z)) { lab_ref_free(r); return -1; }
        double *e = r->s.energy + (size_t)k * (size_t)count;
        bm_energy_batch(bm, z, count, e);
        double kl, tv;
        if (lab_kl_tv(z, bm->n, e, NULL, count, beta, r->logz, &kl, &tv, NULL)) {
            lab_ref_free(r);
            return -1;
        }
        sum += kl; sum2 += kl * kl; tvsum += tv;
    }
    r->exact = true;
    r->beta = beta;
    r->logz_err = 0;
    r->count = count;
    r->reps = reps;
    r->kl0 = sum / reps;
    r->tv0 = tvsum / reps;
    r->kl0_sd = reps > 1 ? sqrt(fmax(0.0, (sum2 - sum * sum / reps) / (reps - 1))) : NAN;
    r->seconds = r->s.seconds = qv_now() - t0;
    return 0;
}

int lab_ref_pa(struct lab_ref *r, const struct bm *bm, double beta, long count,
               const struct logz_opts *o)
{
    lab_ref_free(r);
    double t0 = qv_now();
    struct logz_opts def = {0};
    if (!o) o = &def;
    struct logz_result lz;
    if (bm_logz(bm, beta, "pa", o, &lz)) return qv_preferr("reference pa");
    struct sampler *s = sampler_new("pa", o->seed + 1);
    if (!s) return -1;
    char buf[32];
    int rc = 0;
    if (o->steps > 0) {
        snprintf(buf, sizeof buf, "%ld", o->steps);
        rc = sampler_set(s, "steps", buf);
    }
    struct sample_ctx ctx = {.cancel = o->cancel, .threads = o->threads,
                             .progress = o->progress, .ud = o->ud};
    if (!rc) rc = sampler_sample(s, bm, beta, count, &ctx, &r->s);
    sampler_free(s);
    if (rc) { lab_ref_free(r); return qv_preferr("reference pa"); }
    r->exact = false;
    r->beta = beta;
    r->logz = lz.logz;
    r->logz_err = lz.err;
    r->count = count;
    r->reps = 0;
    r->seconds = qv_now() - t0;
    return 0;
}

int lab_measure(const struct lab_ref *ref, const struct bm *bm, const struct samples *s,
                long chains, uint64_t seed, struct lab_measures *m)
{
    memset(m, 0, sizeof *m);
    m->kl = m->tv = m->kl_excess = m->tv_excess = m->beta_eff = m->beta_err = NAN;
    m->tau = m->ess = m->ess_per_s = m->resid = m->w1 = NAN;
    if (s->count < 1) return qv_seterr("measure: no samples");
    if (s->n != bm->n) return qv_seterr("measure: samples of %d units, prior of %d", s->n, bm->n);
    m->count = s->count;
    m->seconds = s->seconds;
    samples_energy_stats(s, &m->e_mean, &m->e_sd, &m->e_min, NULL);
    double *w = NULL;
    if (s->logw) {
        w = qv_mallocarray((size_t)s->count, sizeof(double));
        samples_weights(s, w);
    }
    double *rw = NULL;
    if (ref->s.logw) {
        rw = qv_mallocarray((size_t)ref->s.count, sizeof(double));
        samples_weights(&ref->s, rw);
    }
    m->w1 = lab_wasserstein1(s->energy, w, s->count, ref->s.energy, rw, ref->s.count);
    free(rw);
    int rc = 0;
    if (ref->exact) {
        rc = lab_kl_tv(s->z, s->n, s->energy, w, s->count, ref->beta, ref->logz, &m->kl, &m->tv,
                       &m->distinct);
        m->kl_excess = m->kl - ref->kl0;
        m->tv_excess = m->tv - ref->tv0;
    }
    if (!rc) {
        if (w) {
            rc = beta_mpl(bm, s->z, s->count, w, &m->beta_eff);
        } else {
            struct beta_result br;
            rc = beta_estimate(bm, s->z, s->count, 20, seed, &br);
            m->beta_eff = br.beta;
            m->beta_err = br.err;
        }
    }
    if (!rc) {
        if (w) {
            m->ess = lab_kish_ess(w, s->count);
            m->tau = (double)s->count / m->ess;
        } else {
            long ch = chains < 1 || chains > s->count ? s->count : chains;
            rc = lab_iat(s->energy, s->count, ch, 5, &m->tau, NULL);
            m->ess = (double)s->count / m->tau;
        }
        m->ess_per_s = s->seconds > 0 ? m->ess / s->seconds : NAN;
    }
    free(w);
    return rc;
}

void lab_resid(struct lab_measures *m, int nsets, double best_other)
{
    double best = best_other;
    for (int i = 0; i < nsets; i++)
        if (isnan(best) || m[i].e_min < best) best = m[i].e_min;
    for (int i = 0; i < nsets; i++) m[i].resid = m[i].e_min - best;
}

int lab_hist_series(const struct samples *const *sets, int nsets, int nbins, double *lo,
                    double *hi, double *mass)
{
    if (nsets < 1 || nbins < 1) return qv_seterr("histogram: no sets or no bins");
    if (!(*lo < *hi)) {
        double a = INFINITY, b = -INFINITY;
        for (int i = 0; i < nsets; i++)
            for (long k = 0; k < sets[i]->count; k++) {
                a = fmin(a, sets[i]->energy[k]);
                b = fmax(b, sets[i]->energy[k]);
            }
        if (!isfinite(a)) return qv_seterr("histogram: no energies");
        if (!(b > a)) { a -= 0.5; b += 0.5; }
        *lo = a;
        *hi = b;
    }
    double width = (*hi - *lo) / nbins;
    for (int i = 0; i < nsets; i++) {
        const struct samples *s = sets[i];
        double *row = mass + (size_t)i * nbins;
        memset(row, 0, (size_t)nbins * sizeof(double));
        double *w = NULL;
        if (s->logw) {
            w = qv_mallocarray((size_t)s->count + 1, sizeof(double));
            samples_weights(s, w);
        }
        for (long k = 0; k < s->count; k++) {
            double wk = w ? w[k] : 1.0;
            long b = (long)floor((s->energy[k] - *lo) / width);
            if (b < 0 || b > nbins) continue;   /* outside a caller's fixed range */
            if (b == nbins) b = nbins - 1;      /* the top edge belongs to the last bin */
            row[b] += wk;
        }
        /* fractions of the whole set, so mass outside a fixed range shows as a shortfall */
        double all = w ? 0 : (double)s->count;
        if (w) for (long k = 0; k < s->count; k++) all += w[k];
        if (all > 0) for (int b = 0; b < nbins; b++) row[b] /= all;
        free(w);
    }
    return 0;
}
