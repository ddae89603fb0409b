/* samp_sa.c — the `sa` sampler: simulated annealing, one independent read per sample, each from
 * a uniformly random state, with Metropolis or Gibbs (heat-bath) acceptance and a geometric or
 * linear β schedule, like D-Wave's SimulatedAnnealingSampler (annealing.md §5.1).
 *
 * β range: "target" (default) anneals from D-Wave's hot β to the β asked of sample(), so the
 * reads approximate the Boltzmann distribution there when the schedule is long enough; "auto"
 * is D-Wave's full default range [hot, cold] (an optimiser: cold finds low-energy states);
 * "LO,HI" is explicit.  Sweeps visit units by colour class (a fixed sequential order). */
#include "samp_kernel.h"
#include "qv.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum sa_range { SA_TARGET, SA_AUTO, SA_EXPLICIT };

#define SA_FAC_BYTES (128.0 * 1024 * 1024)   /* factor tables of one call, all β steps */
#define SA_STEPS 16   /* β steps per kernel call (and per check for cancellation) */
#define SA_CHUNK_BYTES (512.0 * 1024)   /* sa_group: the tables of one call's steps, at most */

struct sa {
    uint64_t seed;
    uint64_t calls;
    long sweeps, sweeps_per_beta, threads;
    bool linear;
    enum sk_rule rule;
    enum sa_range range;
    double lo, hi;
};

static const char *const sa_keys[] = {"sweeps", "sweeps_per_beta", "schedule", "beta_range",
                                      "accept", "threads", NULL};
static const char *const sa_help[] = {
    "total sweeps per read (default 1000)",
    "sweeps at each β of the schedule; must divide sweeps (default 1)",
    "geometric or linear spacing of β (default geometric)",
    "target (hot → the sample β, default), auto (D-Wave's default range) or LO,HI",
    "metropolis or gibbs acceptance (default metropolis)",
    "worker threads, 0 = all cores when it pays (default 0)",
    NULL,
};

static void *sa_create(uint64_t seed)
{
    struct sa *s = qv_calloc(1, sizeof *s);
    s->seed = seed;
    s->sweeps = 1000;
    s->sweeps_per_beta = 1;
    s->rule = SK_METROPOLIS;
    s->range = SA_TARGET;
    return s;
}

static void *sa_clone(const void *impl, uint64_t seed)
{
    const struct sa *o = impl;
    struct sa *s = sa_create(seed);
    s->sweeps = o->sweeps;
    s->sweeps_per_beta = o->sweeps_per_beta;
    s->threads = o->threads;
    s->linear = o->linear;
    s->rule = o->rule;
    s->range = o->range;
    s->lo = o->lo;
    s->hi = o->hi;
    return s;
}

/* In the emulator: a longer anneal than the default, at the freeze-out β it is given. */
static int sa_stand_in(void *impl, const char *solver, long reads, double *beta)
{
    ((struct sa *)impl)->sweeps = 200;
    return 0;
}

static int sa_set(void *impl, const char *key, const char *val)
{
    struct sa *s = impl;
    if (!strcmp(key, "sweeps")) return sk_parse_long("sa", key, val, 1, 1000000000, &s->sweeps);
    if (!strcmp(key, "sweeps_per_beta"))
        return sk_parse_long("sa", key, val, 1, 1000000000, &s->sweeps_per_beta);
    if (!strcmp(key, "threads")) return sk_parse_long("sa", key, val, 0, 256, &s->threads);
    if (!strcmp(key, "schedule")) {
        if (!strcmp(val, "geometric")) s->linear = false;
        else if (!strcmp(val, "linear")) s->linear = true;
        else return qv_seterr("sampler sa: --schedule: geometric or linear, got '%s'", val);
        return 0;
    }
    if (!strcmp(key, "accept")) {
        if (!strcmp(val, "metropolis")) s->rule = SK_METROPOLIS;
        else if (!strcmp(val, "gibbs")) s->rule = SK_HEATBATH;
        else return qv_seterr("sampler sa: --accept: metropolis or gibbs, got '%s'", val);
        return 0;
    }
    if (!strcmp(key, "beta_range")) {
        if (!strcmp(val, "target")) { s->range = SA_TARGET; return 0; }
        if (!strcmp(val, "auto")) { s->range = SA_AUTO; return 0; }
        char buf[128];
        snprintf(buf, sizeof buf, "%s", val);
        char *comma = strchr(buf, ',');
        double lo, hi;
        if (!comma) goto bad;
        *comma = 0;
        if (qv_parse_double(buf, &lo) || qv_parse_double(comma + 1, &hi)) goto bad;
        if (!(lo >= 0 && hi >= lo && isfinite(hi))) goto bad;
        s->range = SA_EXPLICIT;
        s->lo = lo;
        s->hi = hi;
        return 0;
    bad:
        return qv_seterr("sampler sa: --beta_range: target, auto or LO,HI with 0 <= LO <= HI, "
                         "got '%s'", val);
    }
    return qv_seterr("sampler sa: unknown option --%s", key);
}

static void sa_describe(void *impl, char *buf, size_t n)
{
    struct sa *s = impl;
    char range[96];
    if (s->range == SA_TARGET) snprintf(range, sizeof range, "target");
    else if (s->range == SA_AUTO) snprintf(range, sizeof range, "auto");
    else snprintf(range, sizeof range, "%.12g,%.12g", s->lo, s->hi);
    snprintf(buf, n, "sweeps=%ld sweeps_per_beta=%ld schedule=%s beta_range=%s accept=%s "
             "threads=%ld", s->sweeps, s->sweeps_per_beta, s->linear ? "linear" : "geometric",
             range, s->rule == SK_METROPOLIS ? "metropolis" : "gibbs", s->threads);
}

struct sa_job {
    const struct sa *s;
    const struct sk_model *m;
    const float *betas;     /* [nbetas] */
    const struct sk_fac *facs;   /* [nbetas] the model's factors at each β, or NULL */
    long nbetas, count;
    uint64_t call;
    struct samples *out;
    const struct sample_ctx *ctx;
    long nblocks, ngroups, chunk;   /* sa_group: blocks, groups (one a thread), steps a call */
    atomic_long done;
    atomic_int stop;
    pthread_t caller;
    double total;
};

/* Energies and states of block b's lanes that are samples. */
static void sa_emit(struct sa_job *J, long b, const float *z)
{
    const struct sk_model *m = J->m;
    double e[SK_W];
    sk_energy(m, z, e);
    for (int l = 0; l < SK_W; l++) {
        long idx = b * SK_W + l;
        if (idx >= J->count) continue;
        sk_get_lane(m, z, l, J->out->z + (size_t)idx * m->n);
        J->out->energy[idx] = e[l];
    }
}

/* Stop asked (by another thread or the caller's cancel flag)? */
static bool sa_stopped(struct sa_job *J)
{
    if (atomic_load(&J->stop) || sk_cancelled(J->ctx)) {
        atomic_store(&J->stop, 1);
        return true;
    }
    return false;
}

static void sa_progress(struct sa_job *J, long steps)
{
    long d = atomic_fetch_add(&J->done, steps) + steps;
    if (J->ctx && J->ctx->progress && pthread_equal(pthread_self(), J->caller))
        J->ctx->progress(J->ctx->ud, (double)d, J->total);
}

/* Every β step's factors usable: thread g takes its group of blocks, held as lane bits, through
 * J->chunk steps at a time, so a step's table is read once per group instead of once per block
 * (P16: 346 kB a step; for each block to stream all 200 steps' tables was half of sa's time).
 * The same samples as block by block: each block has its own RNG streams and state. */
static void sa_group(void *p, long g)
{
    struct sa_job *J = p;
    const struct sk_model *m = J->m;
    const int n = m->n;
    const long b0 = g * J->nblocks / J->ngroups, G = (g + 1) * J->nblocks / J->ngroups - b0;
    float *z = qv_alloc_aligned((size_t)n * SK_W * sizeof(float));
    uint16_t *zs = qv_mallocarray((size_t)(G * n), sizeof *zs);
    uint32_t *rs = qv_mallocarray((size_t)(G * 4 * SK_W), sizeof *rs);
    for (long j = 0; j < G; j++) {
        for (int l = 0; l < SK_W; l++)
            sk_lane_seed(m, z, rs + j * 4 * SK_W, l, J->s->seed,
                         (J->call << 40) | (uint64_t)((b0 + j) * SK_W + l), true);
        sk_bits_from_lines(m, z, zs + j * n);
    }
    for (long k = 0; k < J->nbetas && !sa_stopped(J); k += J->chunk) {
        const long ns = QV_MIN(J->chunk, J->nbetas - k);
        for (long j = 0; j < G; j++)
            sk_sweep_bits(m, &J->facs[k], ns, zs + j * n, rs + j * 4 * SK_W, J->s->rule,
                          (int)J->s->sweeps_per_beta);
        sa_progress(J, ns * G);
    }
    for (long j = 0; j < G; j++) {
        sk_lines_from_bits(m, zs + j * n, z);
        sa_emit(J, b0 + j, z);
    }
    free(z);
    free(zs);
    free(rs);
}

static void sa_block(void *p, long b)
{
    struct sa_job *J = p;
    const struct sk_model *m = J->m;
    int n = m->n;
    float *z = qv_alloc_aligned((size_t)n * SK_W * sizeof(float));
    uint32_t rs[4 * SK_W];
    for (int l = 0; l < SK_W; l++)
        sk_lane_seed(m, z, rs, l, J->s->seed, (J->call << 40) | (uint64_t)(b * SK_W + l), true);
    float beta[SK_W];
    /* SA_STEPS β steps per kernel call: the kernel keeps the states in bit form across them */
    for (long k = 0; k < J->nbetas && !sa_stopped(J); k += SA_STEPS) {
        const long ns = QV_MIN(SA_STEPS, J->nbetas - k);
        if (J->facs) {
            sk_sweep_steps(m, &J->facs[k], ns, z, rs, J->s->rule, (int)J->s->sweeps_per_beta);
        } else {
            for (long j = k; j < k + ns; j++) {
                for (int l = 0; l < SK_W; l++) beta[l] = J->betas[j];
                sk_sweep(m, NULL, z, rs, beta, J->s->rule, (int)J->s->sweeps_per_beta);
            }
        }
        sa_progress(J, ns);
    }
    sa_emit(J, b, z);
    free(z);
}

static int sa_sample(void *impl, const struct bm *bm, double beta, long count,
                     const struct sample_ctx *ctx, struct samples *out)
{
    struct sa *s = impl;
    if (s->sweeps % s->sweeps_per_beta)
        return qv_seterr("sampler sa: --sweeps_per_beta (%ld) must divide --sweeps (%ld)",
                         s->sweeps_per_beta, s->sweeps);
    struct sk_model m;
    if (sk_model_init(&m, bm)) return -1;
    double hot, cold;
    sk_default_beta_range(bm, &hot, &cold);
    double lo, hi;
    if (s->range == SA_AUTO) { lo = hot; hi = cold; }
    else if (s->range == SA_EXPLICIT) { lo = s->lo; hi = s->hi; }
    else { hi = beta; lo = QV_MIN(hot, beta); }
    long nb = s->sweeps / s->sweeps_per_beta;
    float *betas = qv_mallocarray((size_t)nb, sizeof *betas);
    for (long k = 0; k < nb; k++) {
        double f = nb == 1 ? 1.0 : (double)k / (double)(nb - 1);
        double bk;
        if (nb == 1) bk = hi;
        else if (s->linear || lo <= 0) bk = lo + (hi - lo) * f;
        else bk = lo * pow(hi / lo, f);
        betas[k] = (float)bk;
    }
    if (samples_alloc(out, m.n, count, false)) {
        free(betas);
        sk_model_free(&m);
        return -1;
    }
    long nblocks = (count + SK_W - 1) / SK_W;
    /* Every block runs the same β steps: the factors of each step are built once, when they
     * fit in SA_FAC_BYTES (C16: 56 kB a step; P16: 346 kB), else each sweep takes the exp path. */
    struct sk_fac *facs = NULL;
    if ((double)nb * (double)(2 * m.ne + m.n) * sizeof(float) <= SA_FAC_BYTES) {
        facs = qv_mallocarray((size_t)nb, sizeof *facs);
        for (long k = 0; k < nb; k++) {
            sk_fac_init(&facs[k], &m);
            sk_fac_set(&facs[k], &m, betas[k]);
        }
    }
    struct sa_job J = {.s = s, .m = &m, .betas = betas, .facs = facs, .nbetas = nb,
                       .count = count, .call = s->calls++, .out = out, .ctx = ctx,
                       .caller = pthread_self()};
    J.total = (double)nblocks * (double)nb;
    int nt = sk_threads(ctx && ctx->threads > 0 ? ctx->threads : (int)s->threads, nblocks,
                        (double)m.n * SK_W * (double)s->sweeps);
    /* blocks as lane bits where the path reads those faster (kern->bits_from) */
    bool use_bits = facs != NULL && (size_t)m.n * SK_W * sizeof(float) > m.kern->bits_from;
    for (long k = 0; use_bits && k < nb; k++) use_bits = facs[k].ok;
    if (use_bits) {
        J.nblocks = nblocks;
        J.ngroups = nt;
        J.chunk = QV_MAX(1L, QV_MIN((long)SA_STEPS,
                                    (long)(SA_CHUNK_BYTES / ((2.0 * m.ne + m.n) * sizeof(float)))));
        qv_parallel(nt, nt, sa_group, &J);
    } else {
        qv_parallel(nt, nblocks, sa_block, &J);
    }
    for (long k = 0; facs && k < nb; k++) sk_fac_free(&facs[k]);
    free(facs);
    free(betas);
    sk_model_free(&m);
    if (atomic_load(&J.stop)) return qv_seterr("sample: cancelled");
    snprintf(out->info, sizeof out->info, "sa: %ld reads, %ld sweeps, beta %.4g -> %.4g (%s, %s)",
             count, s->sweeps, lo, hi, s->linear ? "linear" : "geometric",
             s->rule == SK_METROPOLIS ? "metropolis" : "gibbs");
    return 0;
}

static void sa_reset(void *impl)
{
    ((struct sa *)impl)->calls = 0;
}

static void sa_destroy(void *impl)
{
    free(impl);
}

const struct sampler_vtab samp_sa_vtab = {
    .name = "sa",
    .summary = "simulated annealing (Metropolis or Gibbs; geometric or linear β schedule)",
    .keys = sa_keys,
    .key_help = sa_help,
    .create = sa_create,
    .clone_config = sa_clone,
    .stand_in = sa_stand_in,
    .set = sa_set,
    .describe = sa_describe,
    .sample = sa_sample,
    .reset = sa_reset,
    .destroy = sa_destroy,
};
