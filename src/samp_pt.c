/* samp_pt.c — the `pt` sampler: parallel tempering (replica exchange) with a geometric ladder
 * β_p = β·r^{p/(M−1)}, p = 0..M−1 (p = 0 is the target β, r = --beta_low), one heat-bath sweep of
 * every replica then deterministic even/odd neighbour swaps accepted with
 * min(1, exp[(β_p − β_{p+1})(E_p − E_{p+1})]).  Samples are the target-β replica of each of
 * --systems independent PT runs, every --thin sweeps after --burnin.  Reports swap rates and
 * round trips (coldest → hottest → coldest).
 *
 * Replicas live in kernel lanes with their own β (lanes of a block may sit at different β), so a
 * swap only exchanges β values, never states.  Replica k of system s is stream s·M + k. */
#include "samp_kernel.h"
#include "qv.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pt {
    uint64_t seed, calls;
    long replicas, systems, burnin, thin, threads;
    double beta_low;
};

static const char *const pt_keys[] = {"replicas", "beta_low", "systems", "burnin", "thin",
                                      "threads", NULL};
static const char *const pt_help[] = {
    "temperatures in the ladder (default 16)",
    "hottest β as a fraction of the target β (default 0.1)",
    "independent PT runs sampled round-robin (default 4)",
    "sweeps before the first sample (default 500)",
    "sweeps between samples of one run (default 1)",
    "worker threads, 0 = all cores when it pays (default 0)",
    NULL,
};

static void *pt_create(uint64_t seed)
{
    struct pt *p = qv_calloc(1, sizeof *p);
    p->seed = seed;
    p->replicas = 16;
    p->systems = 4;
    p->burnin = 500;
    p->thin = 1;
    p->beta_low = 0.1;
    return p;
}

static void *pt_clone(const void *impl, uint64_t seed)
{
    const struct pt *o = impl;
    struct pt *p = pt_create(seed);
    p->replicas = o->replicas;
    p->systems = o->systems;
    p->burnin = o->burnin;
    p->thin = o->thin;
    p->threads = o->threads;
    p->beta_low = o->beta_low;
    return p;
}

static int pt_set(void *impl, const char *key, const char *val)
{
    struct pt *p = impl;
    if (!strcmp(key, "replicas")) return sk_parse_long("pt", key, val, 1, 4096, &p->replicas);
    if (!strcmp(key, "systems")) return sk_parse_long("pt", key, val, 1, 1000000, &p->systems);
    if (!strcmp(key, "burnin")) return sk_parse_long("pt", key, val, 0, 1000000000, &p->burnin);
    if (!strcmp(key, "thin")) return sk_parse_long("pt", key, val, 1, 1000000000, &p->thin);
    if (!strcmp(key, "threads")) return sk_parse_long("pt", key, val, 0, 256, &p->threads);
    if (!strcmp(key, "beta_low")) return sk_parse_double("pt", key, val, 1e-6, 1.0, &p->beta_low);
    return qv_seterr("sampler pt: unknown option --%s", key);
}

static void pt_describe(void *impl, char *buf, size_t n)
{
    struct pt *p = impl;
    snprintf(buf, n, "replicas=%ld beta_low=%.12g systems=%ld burnin=%ld thin=%ld threads=%ld",
             p->replicas, p->beta_low, p->systems, p->burnin, p->thin, p->threads);
}

struct pt_job {
    const struct pt *p;
    const struct sk_model *m;
    long M, S, spb, bps, nblocks, njobs;   /* systems per block (M ≤ W) or blocks per system */
    double *ladder;         /* [M] */
    float *z;               /* [nblocks][n][W] */
    uint32_t *rs;           /* [nblocks][4][W] */
    float *bl;              /* [nblocks][W] current β of each lane */
    double *e;              /* [nblocks][W] energies */
    int *at;                /* [S][M] replica at ladder position */
    int *pos;               /* [S][M] position of replica */
    int8_t *dir;            /* [S][M] round-trip labels */
    long *acc, *att;        /* [S][M-1] */
    long *trips;            /* [S] */
    long count, rounds;
    uint64_t call;
    struct samples *out;
    const struct sample_ctx *ctx;
    atomic_long done;
    atomic_int stop;
    pthread_t caller;
    double total;
};

static void loc(const struct pt_job *J, long s, long k, long *blk, int *lane)
{
    if (J->spb > 0) {
        long g = s * J->M + k;   /* packed: spb whole systems per block */
        *blk = s / J->spb;
        *lane = (int)(g - *blk * J->spb * J->M);
    } else {
        *blk = s * J->bps + k / SK_W;
        *lane = (int)(k % SK_W);
    }
}

static void systems_of_job(const struct pt_job *J, long job, long *s0, long *s1, long *b0, long *b1)
{
    if (J->spb > 0) {
        *s0 = job * J->spb;
        *s1 = QV_MIN(J->S, *s0 + J->spb);
        *b0 = job;
        *b1 = job + 1;
    } else {
        *s0 = job;
        *s1 = job + 1;
        *b0 = job * J->bps;
        *b1 = *b0 + J->bps;
    }
}

static void pt_swaps(struct pt_job *J, long s, struct rng *r, long parity)
{
    long M = J->M;
    int *at = J->at + s * M, *pos = J->pos + s * M;
    for (long q = parity; q + 1 < M; q += 2) {
        long bi, bj;
        int li, lj;
        int ri = at[q], rj = at[q + 1];
        loc(J, s, ri, &bi, &li);
        loc(J, s, rj, &bj, &lj);
        double ei = J->e[bi * SK_W + li], ej = J->e[bj * SK_W + lj];
        double d = (J->ladder[q] - J->ladder[q + 1]) * (ei - ej);
        J->att[s * (M - 1) + q]++;
        if (d >= 0 || rng_uniform(r) < exp(d)) {
            J->acc[s * (M - 1) + q]++;
            at[q] = rj;
            at[q + 1] = ri;
            pos[ri] = (int)q + 1;
            pos[rj] = (int)q;
            J->bl[bi * SK_W + li] = (float)J->ladder[q + 1];
            J->bl[bj * SK_W + lj] = (float)J->ladder[q];
        }
    }
    /* round trips: label +1 when a replica touches the coldest end, −1 at the hottest; a
     * replica labelled −1 that reaches the coldest end has completed a round trip */
    int8_t *dir = J->dir + s * M;
    if (M > 1) {
        int c = at[0], h = at[M - 1];
        if (dir[c] == -1) J->trips[s]++;
        dir[c] = 1;
        if (dir[h] == 1) dir[h] = -1;
    }
}

static void pt_group(void *vp, long job)
{
    struct pt_job *J = vp;
    const struct sk_model *m = J->m;
    int n = m->n;
    long s0, s1, b0, b1;
    systems_of_job(J, job, &s0, &s1, &b0, &b1);
    struct rng *rr = qv_mallocarray((size_t)(s1 - s0), sizeof *rr);
    for (long s = s0; s < s1; s++)
        rng_init(&rr[s - s0], J->p->seed, (J->call << 40) | ((uint64_t)1 << 39) | (uint64_t)s);
    long sweep = 0;
    for (long r = 0; r < J->rounds; r++) {
        long ns = r == 0 ? J->p->burnin + 1 : J->p->thin;
        for (long t = 0; t < ns; t++, sweep++) {
            if ((sweep & 7) == 0 && (atomic_load(&J->stop) || sk_cancelled(J->ctx))) {
                atomic_store(&J->stop, 1);
                free(rr);
                return;
            }
            for (long b = b0; b < b1; b++) {
                float *z = J->z + (size_t)b * n * SK_W;
                sk_sweep(m, NULL, z, J->rs + (size_t)b * 4 * SK_W, J->bl + b * SK_W, SK_HEATBATH, 1);
                sk_energy(m, z, J->e + b * SK_W);
            }
            for (long s = s0; s < s1; s++) pt_swaps(J, s, &rr[s - s0], sweep & 1);
            long d = atomic_fetch_add(&J->done, b1 - b0) + (b1 - b0);
            if ((sweep & 15) == 0 && J->ctx && J->ctx->progress &&
                pthread_equal(pthread_self(), J->caller))
                J->ctx->progress(J->ctx->ud, (double)d, J->total);
        }
        for (long s = s0; s < s1; s++) {
            long idx = r * J->S + s;
            if (idx >= J->count) continue;
            long blk;
            int lane;
            loc(J, s, J->at[s * J->M], &blk, &lane);
            sk_get_lane(m, J->z + (size_t)blk * n * SK_W, lane, J->out->z + (size_t)idx * n);
            J->out->energy[idx] = J->e[blk * SK_W + lane];   /* of the last sweep: swaps move β only */
        }
    }
    free(rr);
}

static int pt_sample(void *impl, const struct bm *bm, double beta, long count,
                     const struct sample_ctx *ctx, struct samples *out)
{
    struct pt *p = impl;
    struct sk_model m;
    if (sk_model_init(&m, bm)) return -1;
    struct pt_job J = {.p = p, .m = &m, .M = p->replicas, .S = p->systems, .count = count,
                       .call = p->calls++, .out = out, .ctx = ctx, .caller = pthread_self()};
    long M = J.M, S = J.S;
    if (M <= SK_W) {
        J.spb = SK_W / M;
        J.nblocks = (S + J.spb - 1) / J.spb;
        J.njobs = J.nblocks;
    } else {
        J.bps = (M + SK_W - 1) / SK_W;
        J.nblocks = S * J.bps;
        J.njobs = S;
    }
    if (!qv_size_ok((size_t)J.nblocks * SK_W, (size_t)m.n * sizeof(float), (size_t)1 << 33,
                    "sampler pt: replicas") ||
        samples_alloc(out, m.n, count, false)) {
        sk_model_free(&m);
        return -1;
    }
    J.ladder = qv_mallocarray((size_t)M, sizeof *J.ladder);
    for (long q = 0; q < M; q++)
        J.ladder[q] = M == 1 ? beta : beta * pow(p->beta_low, (double)q / (double)(M - 1));
    J.z = qv_alloc_aligned((size_t)J.nblocks * m.n * SK_W * sizeof(float));
    J.rs = qv_alloc_aligned((size_t)J.nblocks * 4 * SK_W * sizeof(uint32_t));
    J.bl = qv_calloc((size_t)J.nblocks * SK_W, sizeof *J.bl);
    J.e = qv_calloc((size_t)J.nblocks * SK_W, sizeof *J.e);
    J.at = qv_mallocarray((size_t)(S * M), sizeof *J.at);
    J.pos = qv_mallocarray((size_t)(S * M), sizeof *J.pos);
    J.dir = qv_calloc((size_t)(S * M), 1);
    J.acc = qv_calloc((size_t)(S * QV_MAX(M - 1, 1)), sizeof *J.acc);
    J.att = qv_calloc((size_t)(S * QV_MAX(M - 1, 1)), sizeof *J.att);
    J.trips = qv_calloc((size_t)S, sizeof *J.trips);
    /* padding lanes: seeded (valid RNG state), β = 0, never read */
    for (long b = 0; b < J.nblocks; b++)
        for (int l = 0; l < SK_W; l++)
            sk_lane_seed(&m, J.z + (size_t)b * m.n * SK_W, J.rs + (size_t)b * 4 * SK_W, l,
                         p->seed, ((J.call << 40) | ((uint64_t)1 << 38)) + (uint64_t)(b * SK_W + l),
                         true);
    for (long s = 0; s < S; s++)
        for (long k = 0; k < M; k++) {
            long blk;
            int lane;
            loc(&J, s, k, &blk, &lane);
            sk_lane_seed(&m, J.z + (size_t)blk * m.n * SK_W, J.rs + (size_t)blk * 4 * SK_W, lane,
                         p->seed, (J.call << 40) | (uint64_t)(s * M + k), true);
            J.bl[blk * SK_W + lane] = (float)J.ladder[k];
            J.at[s * M + k] = (int)k;
            J.pos[s * M + k] = (int)k;
        }
    J.rounds = (count + S - 1) / S;
    J.total = (double)J.nblocks * (double)(p->burnin + 1 + (J.rounds - 1) * p->thin);
    int nt = sk_threads(ctx && ctx->threads > 0 ? ctx->threads : (int)p->threads, J.njobs,
                        (double)m.n * SK_W * (double)(J.nblocks / J.njobs) *
                            (double)(p->burnin + J.rounds * p->thin) * 2);
    qv_parallel(nt, J.njobs, pt_group, &J);
    int rc = 0;
    if (atomic_load(&J.stop)) {
        rc = qv_seterr("sample: cancelled");
    } else {
        double rmin = 1, rmean = 0;
        long trips = 0;
        for (long q = 0; q + 1 < M; q++) {
            long a = 0, t = 0;
            for (long s = 0; s < S; s++) {
                a += J.acc[s * (M - 1) + q];
                t += J.att[s * (M - 1) + q];
            }
            double rate = t ? (double)a / (double)t : 0;
            rmin = QV_MIN(rmin, rate);
            rmean += rate / (double)(M - 1);
        }
        for (long s = 0; s < S; s++) trips += J.trips[s];
        if (M > 1)
            snprintf(out->info, sizeof out->info,
                     "pt: %ld x %ld replicas, beta %.4g..%.4g, swap rate mean %.3f min %.3f, "
                     "round trips %ld", S, M, J.ladder[M - 1], J.ladder[0], rmean, rmin, trips);
        else
            snprintf(out->info, sizeof out->info, "pt: %ld single-replica runs (plain Gibbs)", S);
    }
    free(J.ladder);
    free(J.z);
    free(J.rs);
    free(J.bl);
    free(J.e);
    free(J.at);
    free(J.pos);
    free(J.dir);
    free(J.acc);
    free(J.att);
    free(J.trips);
    sk_model_free(&m);
    return rc;
}

static void pt_reset(void *impl)
{
    ((struct pt *)impl)->calls = 0;
}

static void pt_destroy(void *impl)
{
    free(impl);
}

const struct sampler_vtab samp_pt_vtab = {
    .name = "pt",
    .summary = "parallel tempering on a geometric ladder (swap rates, round trips)",
    .keys = pt_keys,
    .key_help = pt_help,
    .create = pt_create,
    .clone_config = pt_clone,
    .set = pt_set,
    .describe = pt_describe,
    .sample = pt_sample,
    .reset = pt_reset,
    .destroy = pt_destroy,
};
