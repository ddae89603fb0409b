/* samp_pa_samp.c — population annealing as `prior logz --method pa|ais` (samp_pa_logz) and as
 * the `pa` / `ais` samplers (samplers-and-metrics.md §1–2), on the engine of samp_pa.c.
 *
 * log Z: ln Ẑ = ln mean_k Ẑ_k over the K runs (Ẑ is unbiased per run), error bar = sd of
 * ln Ẑ_k / √K.  Family diagnostics: R/ρ_t = 1/Σν_i² and e^{S_f} per run (ν_i = fraction of a run
 * descending from initial member i).  The `pa` sampler returns all K·R final states with
 * log-weights ln Ẑ_k − ln Ẑ (states of one run are equally weighted after resampling).
 *
 * Inside an MPI job every rank calls these collectively with the same arguments and gets the
 * same result: log Z and the diagnostics are global, and the sampler's states are gathered so
 * that every rank returns all of them (the caller never knows the population was split). */
#include "samp_pa.h"
#include "qv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- gather */

/* The run member behind sample s: runs interleaved so that any prefix covers every run. */
static void sample_member(const struct pa_engine *P, long s, long count, long *k, long *i)
{
    long g = (s % P->K) * P->R + (s / P->K) % P->R;
    if (count > P->T) g = s % P->T;
    *k = g / P->R;
    *i = g % P->R;
}

/* Records: the packed state, the energy and the log-weight ((W + 2)·8 bytes). */
int pa_engine_gather(const struct pa_engine *P, long count, struct samples *out)
{
    int size = P->ranks, me = P->rank, n = P->m.n;
    size_t ws = (size_t)P->W * sizeof(uint64_t), rec = ws + 2 * sizeof(double);
    long *cnt = qv_calloc((size_t)size * 2, sizeof *cnt), *cur = cnt + size, k, i;
    for (long s = 0; s < count; s++) {
        sample_member(P, s, count, &k, &i);
        cnt[pa_owner(P->R, size, i)]++;
    }
    unsigned char *sb = qv_mallocarray((size_t)QV_MAX(cnt[me], 1), rec);
    unsigned char *rb = qv_mallocarray((size_t)QV_MAX(count, 1), rec), *q = sb;
    for (long s = 0; s < count; s++) {
        sample_member(P, s, count, &k, &i);
        if (pa_owner(P->R, size, i) != me) continue;
        long l = k * P->nl + (i - P->lo);
        double lw = P->resample ? P->lnz_run[k] - P->logz : P->logw[l] + n * log(2.0) - P->logz;
        pa_member_get(P, l, (uint64_t *)(void *)q);
        memcpy(q + ws, &P->e[l], sizeof(double));
        memcpy(q + ws + sizeof(double), &lw, sizeof lw);
        q += rec;
    }
    int rc = pa_gather_rec(sb, rb, cnt, rec);
    for (long at = 0, r = 0; r < size; r++) {   /* cur[r]: where rank r's records start */
        cur[r] = at;
        at += cnt[r];
    }
    for (long s = 0; s < count && !rc; s++) {
        sample_member(P, s, count, &k, &i);
        const unsigned char *p = rb + (size_t)cur[pa_owner(P->R, size, i)]++ * rec;
        const uint64_t *w = (const uint64_t *)(const void *)p;
        for (int u = 0; u < n; u++) out->z[(size_t)s * n + u] = (uint8_t)((w[u >> 6] >> (u & 63)) & 1);
        memcpy(&out->energy[s], p + ws, sizeof(double));
        memcpy(&out->logw[s], p + ws + sizeof(double), sizeof(double));
    }
    free(sb);
    free(rb);
    free(cnt);
    return rc;
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
        char rk[96] = "";
        if (P.ranks > 1)
            snprintf(rk, sizeof rk, " over %d ranks (%.1f members moved per step)", P.ranks,
                     P.moved);
        if (resample)
            snprintf(r->info, sizeof r->info,
                     "pa: %ld runs x %ld%s, %ld steps x %ld sweeps; R/rho_t %.1f, e^S_f %.1f, "
                     "%ld families", P.K, P.R, rk, P.steps, P.sweeps, P.ess, P.fam_entropy,
                     P.families);
        else
            snprintf(r->info, sizeof r->info, "ais: %ld chains%s, %ld steps x %ld sweeps; ESS %.1f",
                     P.T, P.ranks > 1 ? " (split over ranks)" : "", P.steps, P.sweeps, P.ess);
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
    if (rc == 0)   /* agreed by every rank: the gather is collective */
        rc = pa_agree(samples_alloc(out, P.m.n, count, true));
    if (rc == 0) rc = pa_engine_gather(&P, count, out);
    if (rc == 0) {
        /* a digest of what every rank returns: equal runs print equal digests */
        uint32_t dg = qv_crc32(out->z, (size_t)count * (size_t)P.m.n);
        dg ^= qv_crc32(out->energy, (size_t)count * sizeof *out->energy);
        dg ^= qv_crc32(out->logw, (size_t)count * sizeof *out->logw);
        char rk[96] = "";
        if (P.ranks > 1 && p->resample)
            snprintf(rk, sizeof rk, " over %d ranks (%.1f members moved per step)", P.ranks,
                     P.moved);
        else if (P.ranks > 1)
            snprintf(rk, sizeof rk, " over %d ranks", P.ranks);
        if (p->resample)
            snprintf(out->info, sizeof out->info,
                     "pa: log Z = %.5f +- %.5f; %ld runs x %ld%s, %ld steps; R/rho_t %.1f, "
                     "e^S_f %.1f, %ld families; digest %08x", P.logz, P.err, P.K, P.R, rk,
                     P.steps, P.ess, P.fam_entropy, P.families, dg);
        else
            snprintf(out->info, sizeof out->info,
                     "ais: log Z = %.5f +- %.5f; %ld chains%s, %ld steps; weight ESS %.1f; "
                     "digest %08x", P.logz, P.err, P.T, rk, P.steps, P.ess, dg);
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
