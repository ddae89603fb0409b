/* samp_pa.c — population annealing (samplers-and-metrics.md §1) and the engine it shares with
 * AIS (§2): K independent populations of R members annealed from β = 0 (uniform states, exact)
 * to the target β on a linear grid; each step reweights by exp(−Δβ E), accumulates
 * ln Q̂ = ln mean exp(−Δβ E) into ln Z, resamples (PA: systematic, in place, so that surviving
 * parents keep their slot) or carries the weights (AIS), then runs heat-bath sweeps at the new β.
 *
 * log Z: ln Ẑ = ln mean_k Ẑ_k over the K runs (Ẑ is unbiased per run), error bar = sd of
 * ln Ẑ_k / √K.  Family diagnostics: R/ρ_t = 1/Σν_i² and e^{S_f} per run (ν_i = fraction of a run
 * descending from initial member i).  The `pa` sampler returns all K·R final states with
 * log-weights ln Ẑ_k − ln Ẑ (states of one run are equally weighted after resampling). */
#include "samp_kernel.h"
#include "qv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- engine */

struct step_job {
    struct pa_engine *P;
    float beta;
    long sweeps;
};

static void step_block(void *p, long b)
{
    struct step_job *S = p;
    struct pa_engine *P = S->P;
    float *z = P->z + (size_t)b * P->m.n * SK_W;
    if (S->sweeps > 0) {
        float bl[SK_W];
        for (int l = 0; l < SK_W; l++) bl[l] = S->beta;
        sk_sweep(&P->m, z, P->rs + (size_t)b * 4 * SK_W, bl, SK_HEATBATH, (int)S->sweeps);
    }
    sk_energy(&P->m, z, P->e + b * SK_W);
}

static void copy_member(struct pa_engine *P, long src, long dst)
{
    int n = P->m.n;
    sk_copy_lane(n, P->z + (size_t)(src / SK_W) * n * SK_W, (int)(src % SK_W),
                 P->z + (size_t)(dst / SK_W) * n * SK_W, (int)(dst % SK_W));
    P->e[dst] = P->e[src];
    P->fam[dst] = P->fam[src];
}

/* Systematic resampling of one run (members base..base+R−1) with weights w[R] (any positive
 * scale), in place: a parent with c ≥ 1 children keeps its slot, extra children overwrite the
 * slots of parents with none, so only culled members are copied. */
static void resample_run(struct pa_engine *P, long base, const double *w, double sum,
                         struct rng *r, long *cnt, long *dead)
{
    long R = P->R;
    double u = rng_uniform(r), cum = 0, step = sum / (double)R;
    long j = 0;   /* next point (u + j)·sum/R */
    for (long i = 0; i < R; i++) {
        cum += w[i];
        long c = 0;
        while (j < R && (u + (double)j) * step < cum) {
            c++;
            j++;
        }
        cnt[i] = c;
    }
    cnt[R - 1] += R - j;   /* rounding guard: all R points placed */
    long nd = 0;
    for (long i = 0; i < R; i++)
        if (cnt[i] == 0) dead[nd++] = i;
    long d = 0;
    for (long i = 0; i < R; i++)
        for (long c = 1; c < cnt[i]; c++) copy_member(P, base + i, base + dead[d++]);
}

/* Family statistics of a finished PA run: the effective population (mean 1/Σν²) and the
 * exponential of the family entropy, averaged over the K runs, and the number of families. */
static void pa_family_stats(struct pa_engine *P)
{
    long *fc = qv_calloc((size_t)P->R, sizeof *fc);
    double ess = 0, ent = 0;
    long fams = 0;
    for (long k = 0; k < P->K; k++) {
        memset(fc, 0, (size_t)P->R * sizeof *fc);
        for (long i = 0; i < P->R; i++) fc[P->fam[k * P->R + i]]++;
        double s2 = 0, sf = 0;
        for (long i = 0; i < P->R; i++) {
            if (!fc[i]) continue;
            double nu = (double)fc[i] / (double)P->R;
            s2 += nu * nu;
            sf -= nu * log(nu);
            fams++;
        }
        ess += 1.0 / s2 / (double)P->K;
        ent += exp(sf) / (double)P->K;
    }
    free(fc);
    P->ess = ess;
    P->fam_entropy = ent;
    P->families = fams;
}

int pa_engine_run(struct pa_engine *P, const struct bm *bm)
{
    if (P->R < 1 || P->K < 1 || P->steps < 1 || P->sweeps < 0)
        return qv_seterr("population annealing: population, runs and steps must be positive");
    if (!isfinite(P->beta) || P->beta < 0)
        return qv_seterr("population annealing: beta must be finite and >= 0");
    if (sk_model_init(&P->m, bm)) return -1;
    int n = P->m.n;
    P->T = P->R * P->K;
    P->nb = (P->T + SK_W - 1) / SK_W;
    if (!qv_size_ok((size_t)P->nb * SK_W, (size_t)n * sizeof(float), (size_t)1 << 33,
                    "population annealing: population")) {
        sk_model_free(&P->m);
        return -1;
    }
    P->z = qv_alloc_aligned((size_t)P->nb * n * SK_W * sizeof(float));
    P->rs = qv_alloc_aligned((size_t)P->nb * 4 * SK_W * sizeof(uint32_t));
    P->e = qv_calloc((size_t)P->nb * SK_W, sizeof *P->e);
    P->logw = qv_calloc((size_t)P->T, sizeof *P->logw);
    P->fam = qv_mallocarray((size_t)P->T, sizeof *P->fam);
    P->lnz_run = qv_calloc((size_t)P->K, sizeof *P->lnz_run);
    for (long g = 0; g < P->nb * SK_W; g++)
        sk_lane_seed(&P->m, P->z + (size_t)(g / SK_W) * n * SK_W,
                     P->rs + (size_t)(g / SK_W) * 4 * SK_W, (int)(g % SK_W), P->seed,
                     P->stream + (uint64_t)g, true);
    for (long g = 0; g < P->T; g++) P->fam[g] = (int)(g % P->R);
    for (long k = 0; k < P->K; k++) P->lnz_run[k] = n * log(2.0);

    int nt = sk_threads(P->threads, P->nb, (double)n * SK_W * (double)(P->sweeps + 1));
    struct step_job S = {.P = P, .beta = 0, .sweeps = 0};
    qv_parallel(nt, P->nb, step_block, &S);   /* energies of the uniform start */

    struct rng rr;
    rng_init(&rr, P->seed, P->stream ^ 0x5A5A5A5A00000000ull);
    double *a = qv_mallocarray((size_t)P->R, sizeof *a);
    long *cnt = qv_mallocarray((size_t)P->R, sizeof *cnt);
    long *dead = qv_mallocarray((size_t)P->R, sizeof *dead);
    int rc = 0;
    double bprev = 0;
    for (long t = 1; t <= P->steps; t++) {
        if (P->cancel && atomic_load(P->cancel)) {
            rc = qv_seterr("cancelled");
            break;
        }
        double bt = P->beta * (double)t / (double)P->steps;
        double db = bt - bprev;
        for (long k = 0; k < P->K; k++) {
            long base = k * P->R;
            if (!P->resample) {   /* AIS: ln Z comes from the carried weights at the end */
                for (long i = 0; i < P->R; i++) P->logw[base + i] -= db * P->e[base + i];
                continue;
            }
            /* w_i = exp(−Δβ (E_i − E_min)) ≤ 1; ln Q̂ = ln mean w − Δβ E_min */
            double emin = INFINITY, sum = 0;
            for (long i = 0; i < P->R; i++) emin = QV_MIN(emin, P->e[base + i]);
            for (long i = 0; i < P->R; i++) {
                a[i] = exp(-db * (P->e[base + i] - emin));
                sum += a[i];
            }
            P->lnz_run[k] += log(sum / (double)P->R) - db * emin;
            resample_run(P, base, a, sum, &rr, cnt, dead);
        }
        S.beta = (float)bt;
        S.sweeps = P->sweeps;
        qv_parallel(nt, P->nb, step_block, &S);
        bprev = bt;
        if (P->progress) P->progress(P->ud, (double)t, (double)P->steps);
    }
    free(a);
    free(cnt);
    free(dead);
    if (rc) return rc;

    if (P->resample) {
        P->logz = sk_logsumexp(P->lnz_run, P->K) - log((double)P->K);
        double mean = 0, var = 0;
        for (long k = 0; k < P->K; k++) mean += P->lnz_run[k] / (double)P->K;
        for (long k = 0; k < P->K; k++) var += (P->lnz_run[k] - mean) * (P->lnz_run[k] - mean);
        P->err = P->K > 1 ? sqrt(var / (double)(P->K - 1) / (double)P->K) : NAN;
        pa_family_stats(P);
    } else {
        /* AIS: pool every chain; ln Ẑ = n ln2 + ln mean w, delta-method error sd(w)/(√N mean w) */
        double lse = sk_logsumexp(P->logw, P->T);
        P->logz = n * log(2.0) + lse - log((double)P->T);
        double mx = -INFINITY;
        for (long g = 0; g < P->T; g++) mx = QV_MAX(mx, P->logw[g]);
        double s1 = 0, s2 = 0;
        for (long g = 0; g < P->T; g++) {
            double w = exp(P->logw[g] - mx);
            s1 += w;
            s2 += w * w;
        }
        double N = (double)P->T;
        double mw = s1 / N, vw = QV_MAX(0.0, s2 / N - mw * mw) * N / QV_MAX(N - 1, 1.0);
        P->err = sqrt(vw / N) / mw;
        P->ess = s1 * s1 / s2;
        for (long k = 0; k < P->K; k++)
            P->lnz_run[k] = n * log(2.0) + sk_logsumexp(P->logw + k * P->R, P->R) -
                            log((double)P->R);
    }
    return 0;
}

void pa_engine_lane(const struct pa_engine *P, long g, uint8_t *out)
{
    sk_get_lane(&P->m, P->z + (size_t)(g / SK_W) * P->m.n * SK_W, (int)(g % SK_W), out);
}

void pa_engine_free(struct pa_engine *P)
{
    if (P->m.n) sk_model_free(&P->m);
    free(P->z);
    free(P->rs);
    free(P->e);
    free(P->logw);
    free(P->fam);
    free(P->lnz_run);
    P->z = NULL;
    P->rs = NULL;
    P->e = P->logw = P->lnz_run = NULL;
    P->fam = NULL;
}

/* ---------------------------------------------------------------- log Z */

int samp_pa_logz(const struct bm *bm, double beta, const struct logz_opts *o,
                 struct logz_result *r, bool resample)
{
    struct pa_engine P = {0};
    P.beta = beta;
    P.K = resample ? 8 : 1;
    long pop = o->population > 0 ? o->population : 20000;
    P.R = QV_MAX(1, pop / P.K);
    P.steps = o->steps > 0 ? o->steps : (resample ? 200 : 2000);
    P.sweeps = o->sweeps > 0 ? o->sweeps : 2;
    P.resample = resample;
    P.seed = o->seed;
    P.stream = (uint64_t)1 << 48;
    P.threads = o->threads;
    P.cancel = o->cancel;
    P.progress = o->progress;
    P.ud = o->ud;
    double t0 = qv_now();
    int rc = pa_engine_run(&P, bm);
    if (rc == 0) {
        r->logz = P.logz;
        r->err = P.err;
        r->ess = P.ess;
        r->seconds = qv_now() - t0;
        if (resample)
            snprintf(r->info, sizeof r->info,
                     "pa: %ld runs x %ld, %ld steps x %ld sweeps; R/rho_t %.1f, e^S_f %.1f, "
                     "%ld families", P.K, P.R, P.steps, P.sweeps, P.ess, P.fam_entropy,
                     P.families);
        else
            snprintf(r->info, sizeof r->info, "ais: %ld chains, %ld steps x %ld sweeps; ESS %.1f",
                     P.T, P.steps, P.sweeps, P.ess);
    }
    pa_engine_free(&P);
    return rc;
}

/* ---------------------------------------------------------------- sampler */

struct pa_samp {
    uint64_t seed, calls;
    long population, runs, steps, sweeps, threads;
    bool resample;
};

static const char *const pa_keys[] = {"population", "runs", "steps", "sweeps", "threads", NULL};
static const char *const pa_help[] = {
    "members per run, 0 = just enough for the samples asked (default 0)",
    "independent runs (error bar, run weights; default 4)",
    "β steps from 0 to the target (default 100)",
    "heat-bath sweeps after each step (default 2)",
    "worker threads, 0 = all cores when it pays (default 0)",
    NULL,
};

void *samp_pop_create(uint64_t seed, bool resample)
{
    struct pa_samp *p = qv_calloc(1, sizeof *p);
    p->seed = seed;
    p->runs = 4;
    p->steps = resample ? 100 : 1000;
    p->sweeps = resample ? 2 : 1;
    p->resample = resample;
    return p;
}

void *samp_pop_clone(const void *impl, uint64_t seed)
{
    const struct pa_samp *o = impl;
    struct pa_samp *p = samp_pop_create(seed, o->resample);
    p->population = o->population;
    p->runs = o->runs;
    p->steps = o->steps;
    p->sweeps = o->sweeps;
    p->threads = o->threads;
    return p;
}

static void *pa_create(uint64_t seed)
{
    return samp_pop_create(seed, true);
}

int samp_pop_set(void *impl, const char *key, const char *val)
{
    struct pa_samp *p = impl;
    const char *who = p->resample ? "pa" : "ais";
    if (!strcmp(key, "population")) return sk_parse_long(who, key, val, 0, 100000000, &p->population);
    if (!strcmp(key, "runs")) return sk_parse_long(who, key, val, 1, 1000, &p->runs);
    if (!strcmp(key, "steps")) return sk_parse_long(who, key, val, 1, 100000000, &p->steps);
    if (!strcmp(key, "sweeps")) return sk_parse_long(who, key, val, 0, 1000000, &p->sweeps);
    if (!strcmp(key, "threads")) return sk_parse_long(who, key, val, 0, 256, &p->threads);
    return qv_seterr("sampler %s: unknown option --%s", who, key);
}

void samp_pop_describe(void *impl, char *buf, size_t n)
{
    struct pa_samp *p = impl;
    snprintf(buf, n, "population=%ld runs=%ld steps=%ld sweeps=%ld threads=%ld", p->population,
             p->runs, p->steps, p->sweeps, p->threads);
}

int samp_pop_sample(void *impl, const struct bm *bm, double beta, long count,
                    const struct sample_ctx *ctx, struct samples *out)
{
    struct pa_samp *p = impl;
    struct pa_engine P = {0};
    P.beta = beta;
    P.K = p->runs;
    P.R = p->population > 0 ? p->population : (count + P.K - 1) / P.K;
    P.steps = p->steps;
    P.sweeps = p->sweeps;
    P.resample = p->resample;
    P.seed = p->seed;
    P.stream = (p->calls++) << 40;
    P.threads = ctx && ctx->threads > 0 ? ctx->threads : (int)p->threads;
    P.cancel = ctx ? ctx->cancel : NULL;
    P.progress = ctx ? ctx->progress : NULL;
    P.ud = ctx ? ctx->ud : NULL;
    int rc = pa_engine_run(&P, bm);
    if (rc == 0) rc = samples_alloc(out, P.m.n, count, true);
    if (rc == 0) {
        /* interleave runs so that any prefix of the output covers every run evenly */
        long T = P.T;
        for (long s = 0; s < count; s++) {
            long g = (s % P.K) * P.R + (s / P.K) % P.R;
            if (count > T) g = s % T;
            pa_engine_lane(&P, g, out->z + (size_t)s * P.m.n);
            out->energy[s] = P.e[g];
            out->logw[s] = p->resample ? P.lnz_run[g / P.R] - P.logz
                                       : P.logw[g] + P.m.n * log(2.0) - P.logz;
        }
        if (p->resample)
            snprintf(out->info, sizeof out->info,
                     "pa: log Z = %.5f +- %.5f; %ld runs x %ld, %ld steps; R/rho_t %.1f, "
                     "e^S_f %.1f, %ld families", P.logz, P.err, P.K, P.R, P.steps, P.ess,
                     P.fam_entropy, P.families);
        else
            snprintf(out->info, sizeof out->info,
                     "ais: log Z = %.5f +- %.5f; %ld chains, %ld steps; weight ESS %.1f", P.logz,
                     P.err, P.T, P.steps, P.ess);
    }
    pa_engine_free(&P);
    return rc;
}

void samp_pop_reset(void *impl)
{
    ((struct pa_samp *)impl)->calls = 0;
}

void samp_pop_destroy(void *impl)
{
    free(impl);
}

const struct sampler_vtab samp_pa_vtab = {
    .name = "pa",
    .summary = "population annealing: weighted population, log Z with error bar, families",
    .keys = pa_keys,
    .key_help = pa_help,
    .create = pa_create,
    .clone_config = samp_pop_clone,
    .set = samp_pop_set,
    .describe = samp_pop_describe,
    .sample = samp_pop_sample,
    .reset = samp_pop_reset,
    .destroy = samp_pop_destroy,
};
