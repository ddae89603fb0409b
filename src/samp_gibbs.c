/* samp_gibbs.c — the `gibbs` sampler: block Gibbs by colour class with persistent chains (PCD).
 * The chains survive between calls (and in sessions), so the trainer's negative phase continues
 * where the previous step left off.  A call runs `sweeps` sweeps on every chain and takes one
 * state per chain; if more samples than chains are asked, it keeps going `thin` sweeps per
 * further state.  Chain c owns random stream c of the sampler's seed: results are identical for
 * any thread count. */
#include "samp_kernel.h"
#include "session.h"
#include "qv.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct gibbs {
    uint64_t seed;
    long chains;
    long sweeps, thin, burnin;
    long threads;
    /* persistent chains: nb blocks of SK_W lanes, lane l of block b is chain b*SK_W + l */
    int n;            /* units the chains were made for (0 = none yet) */
    long nb;
    float *z;         /* [nb][n][SK_W] */
    uint32_t *rs;     /* [nb][4][SK_W] */
    bool burnt;       /* burn-in done */
};

static const char *const gibbs_keys[] = {"chains", "sweeps", "thin", "burnin", "threads", NULL};
static const char *const gibbs_help[] = {
    "persistent chains (default 100)",
    "sweeps per call before the first state of each chain is taken (default 1)",
    "sweeps between further states of a chain when more samples than chains are asked (default 1)",
    "sweeps run once when the chains are (re)initialised (default 100)",
    "worker threads, 0 = all cores when it pays (default 0)",
    NULL,
};

static void *gibbs_create(uint64_t seed)
{
    struct gibbs *g = qv_calloc(1, sizeof *g);
    g->seed = seed;
    g->chains = 100;
    g->sweeps = 1;
    g->thin = 1;
    g->burnin = 100;
    return g;
}

static void *gibbs_clone(const void *impl, uint64_t seed)
{
    const struct gibbs *o = impl;
    struct gibbs *g = gibbs_create(seed);
    g->chains = o->chains;
    g->sweeps = o->sweeps;
    g->thin = o->thin;
    g->burnin = o->burnin;
    g->threads = o->threads;
    return g;
}

static void gibbs_drop(struct gibbs *g)
{
    free(g->z);
    free(g->rs);
    g->z = NULL;
    g->rs = NULL;
    g->n = 0;
    g->nb = 0;
    g->burnt = false;
}

static int gibbs_set(void *impl, const char *key, const char *val)
{
    struct gibbs *g = impl;
    long v;
    if (!strcmp(key, "chains")) {
        if (sk_parse_long("gibbs", key, val, 1, 10000000, &v)) return -1;
        if (v != g->chains) gibbs_drop(g);
        g->chains = v;
    } else if (!strcmp(key, "sweeps")) {
        if (sk_parse_long("gibbs", key, val, 1, 100000000, &g->sweeps)) return -1;
    } else if (!strcmp(key, "thin")) {
        if (sk_parse_long("gibbs", key, val, 1, 100000000, &g->thin)) return -1;
    } else if (!strcmp(key, "burnin")) {
        if (sk_parse_long("gibbs", key, val, 0, 100000000, &g->burnin)) return -1;
    } else if (!strcmp(key, "threads")) {
        if (sk_parse_long("gibbs", key, val, 0, 256, &g->threads)) return -1;
    } else {
        return qv_seterr("sampler gibbs: unknown option --%s", key);
    }
    return 0;
}

/* In the emulator: one chain per read, burnt in longer than the default. */
static int gibbs_stand_in(void *impl, const char *solver, long reads, double *beta)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", reads);
    ((struct gibbs *)impl)->burnin = 200;
    return gibbs_set(impl, "chains", buf);
}

static void gibbs_describe(void *impl, char *buf, size_t n)
{
    struct gibbs *g = impl;
    snprintf(buf, n, "chains=%ld sweeps=%ld thin=%ld burnin=%ld threads=%ld", g->chains,
             g->sweeps, g->thin, g->burnin, g->threads);
}

static int gibbs_init_chains(struct gibbs *g, const struct sk_model *m)
{
    gibbs_drop(g);
    if (!qv_size_ok((size_t)((g->chains + SK_W - 1) / SK_W) * SK_W, (size_t)m->n * sizeof(float),
                    (size_t)1 << 32, "sampler gibbs: chains"))
        return -1;
    g->n = m->n;
    g->nb = (g->chains + SK_W - 1) / SK_W;
    g->z = qv_alloc_aligned((size_t)g->nb * (size_t)m->n * SK_W * sizeof(float));
    g->rs = qv_alloc_aligned((size_t)g->nb * 4 * SK_W * sizeof(uint32_t));
    for (long b = 0; b < g->nb; b++)
        for (int l = 0; l < SK_W; l++)
            sk_lane_seed(m, g->z + (size_t)b * m->n * SK_W, g->rs + (size_t)b * 4 * SK_W, l,
                         g->seed, (uint64_t)(b * SK_W + l), true);
    g->burnt = false;
    return 0;
}

struct gibbs_job {
    struct gibbs *g;
    const struct sk_model *m;
    const struct sk_fac *fac;   /* the factors at beta (every chain runs at it) */
    float beta;
    long count, rounds, first;
    struct samples *out;
    const struct sample_ctx *ctx;
    atomic_long done;      /* sweeps done over all blocks (progress) */
    atomic_int stop;
    pthread_t caller;
    double total;
};

/* Run `ns` sweeps on block b in chunks so that cancel and progress stay responsive. */
static bool run_sweeps(struct gibbs_job *J, float *z, uint32_t *rs, const float *beta, long ns)
{
    long chunk = QV_MAX(1L, 2000000L / QV_MAX(1, J->m->n) / SK_W);
    while (ns > 0) {
        if (atomic_load(&J->stop) || sk_cancelled(J->ctx)) {
            atomic_store(&J->stop, 1);
            return false;
        }
        long k = QV_MIN(ns, chunk);
        sk_sweep(J->m, J->fac, z, rs, beta, SK_HEATBATH, (int)k);
        ns -= k;
        long d = atomic_fetch_add(&J->done, k) + k;
        if (J->ctx && J->ctx->progress && pthread_equal(pthread_self(), J->caller))
            J->ctx->progress(J->ctx->ud, (double)d, J->total);
    }
    return true;
}

static void gibbs_block(void *p, long b)
{
    struct gibbs_job *J = p;
    struct gibbs *g = J->g;
    int n = J->m->n;
    float *z = g->z + (size_t)b * n * SK_W;
    uint32_t *rs = g->rs + (size_t)b * 4 * SK_W;
    float beta[SK_W];
    for (int l = 0; l < SK_W; l++) beta[l] = J->beta;
    double e[SK_W];
    for (long r = 0; r < J->rounds; r++) {
        if (!run_sweeps(J, z, rs, beta, r == 0 ? J->first : g->thin)) return;
        sk_energy(J->m, z, e);
        for (int l = 0; l < SK_W; l++) {
            long c = b * SK_W + l;
            long idx = r * g->chains + c;
            if (c >= g->chains || idx >= J->count) continue;
            sk_get_lane(J->m, z, l, J->out->z + (size_t)idx * n);
            J->out->energy[idx] = e[l];
        }
    }
}

static int gibbs_sample(void *impl, const struct bm *bm, double beta, long count,
                        const struct sample_ctx *ctx, struct samples *out)
{
    struct gibbs *g = impl;
    struct sk_model m;
    if (sk_model_init(&m, bm)) return -1;
    if ((g->n != m.n || !g->z) && gibbs_init_chains(g, &m)) {
        sk_model_free(&m);
        return -1;
    }
    if (samples_alloc(out, m.n, count, false)) {
        sk_model_free(&m);
        return -1;
    }
    struct sk_fac fac;
    sk_fac_init(&fac, &m);
    sk_fac_set(&fac, &m, (float)beta);
    struct gibbs_job J = {.g = g, .m = &m, .fac = &fac, .beta = (float)beta, .count = count,
                          .out = out, .ctx = ctx, .caller = pthread_self()};
    J.rounds = (count + g->chains - 1) / g->chains;
    J.first = g->sweeps + (g->burnt ? 0 : g->burnin);
    J.total = (double)g->nb * (double)(J.first + (J.rounds - 1) * g->thin);
    int nt = sk_threads(ctx && ctx->threads > 0 ? ctx->threads : (int)g->threads, g->nb,
                        (double)m.n * SK_W * (double)(J.first + (J.rounds - 1) * g->thin));
    qv_parallel(nt, g->nb, gibbs_block, &J);
    sk_fac_free(&fac);
    sk_model_free(&m);
    if (atomic_load(&J.stop)) {
        /* chains advanced unevenly: still valid Markov chains, keep them */
        return qv_seterr("sample: cancelled");
    }
    g->burnt = true;
    snprintf(out->info, sizeof out->info, "gibbs: %ld chains, %ld sweeps + %ld x %ld thinning",
             g->chains, J.first, J.rounds - 1, g->thin);
    return 0;
}

static void gibbs_reset(void *impl)
{
    gibbs_drop(impl);
}

static void gibbs_destroy(void *impl)
{
    gibbs_drop(impl);
    free(impl);
}

/* Blob "gibbs_chains": per chain n bytes of z then 4 u32 of RNG state (little endian as in
 * memory), chains in order. */
static int gibbs_save(void *impl, struct cJSON *sec, struct sess_io *io)
{
    struct gibbs *g = impl;
    if (!g->z) return 0;
    size_t per = (size_t)g->n + 16;
    size_t len = per * (size_t)g->chains;
    uint8_t *buf = qv_malloc(len);
    for (long c = 0; c < g->chains; c++) {
        long b = c / SK_W;
        int l = (int)(c % SK_W);
        uint8_t *p = buf + per * (size_t)c;
        for (int i = 0; i < g->n; i++) p[i] = g->z[((size_t)b * g->n + i) * SK_W + l] != 0;
        for (int r = 0; r < 4; r++) {
            uint32_t v = g->rs[((size_t)b * 4 + r) * SK_W + l];
            memcpy(p + g->n + 4 * r, &v, 4);
        }
    }
    int rc = sess_blob_put(io, "gibbs_chains", buf, len);
    free(buf);
    if (rc) return -1;
    cJSON_AddNumberToObject(sec, "chain_units", g->n);
    cJSON_AddNumberToObject(sec, "chain_count", (double)g->chains);
    cJSON_AddBoolToObject(sec, "burnt", g->burnt);
    return 0;
}

static int gibbs_load(void *impl, const struct cJSON *sec, struct sess_io *io)
{
    struct gibbs *g = impl;
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(sec, "chain_units");
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(sec, "chain_count");
    if (!cJSON_IsNumber(jn) || !cJSON_IsNumber(jc)) return 0;   /* no chains saved */
    int n = jn->valueint;
    long chains = (long)jc->valuedouble;
    if (n <= 0 || chains != g->chains)
        return qv_seterr("sampler gibbs: saved chains do not match the options (%ld chains)",
                         g->chains);
    void *data;
    size_t len;
    if (sess_blob_get(io, "gibbs_chains", &data, &len)) return -1;
    size_t per = (size_t)n + 16;
    if (len != per * (size_t)chains) {
        free(data);
        return qv_seterr("sampler gibbs: chain blob has %zu bytes, expected %zu", len,
                         per * (size_t)chains);
    }
    gibbs_drop(g);
    g->n = n;
    g->nb = (chains + SK_W - 1) / SK_W;
    g->z = qv_alloc_aligned((size_t)g->nb * (size_t)n * SK_W * sizeof(float));
    g->rs = qv_alloc_aligned((size_t)g->nb * 4 * SK_W * sizeof(uint32_t));
    const uint8_t *p0 = data;
    for (long c = 0; c < g->nb * SK_W; c++) {
        long b = c / SK_W;
        int l = (int)(c % SK_W);
        if (c >= chains) {   /* padding lanes: any valid non-zero RNG state */
            for (int r = 0; r < 4; r++) g->rs[((size_t)b * 4 + r) * SK_W + l] = 0x9E3779B9u + (uint32_t)r;
            continue;
        }
        const uint8_t *p = p0 + per * (size_t)c;
        for (int i = 0; i < n; i++) g->z[((size_t)b * n + i) * SK_W + l] = p[i] ? 1.0f : 0.0f;
        for (int r = 0; r < 4; r++) memcpy(&g->rs[((size_t)b * 4 + r) * SK_W + l], p + n + 4 * r, 4);
    }
    free(data);
    const cJSON *jb = cJSON_GetObjectItemCaseSensitive(sec, "burnt");
    g->burnt = cJSON_IsTrue(jb);
    return 0;
}

const struct sampler_vtab samp_gibbs_vtab = {
    .name = "gibbs",
    .summary = "block Gibbs by colour class with persistent chains (PCD)",
    .keys = gibbs_keys,
    .key_help = gibbs_help,
    .create = gibbs_create,
    .clone_config = gibbs_clone,
    .stand_in = gibbs_stand_in,
    .set = gibbs_set,
    .describe = gibbs_describe,
    .sample = gibbs_sample,
    .reset = gibbs_reset,
    .destroy = gibbs_destroy,
    .save = gibbs_save,
    .load = gibbs_load,
};
