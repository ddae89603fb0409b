/* samp_pa.c — the population annealing engine (samplers-and-metrics.md §1) and the AIS engine
 * it shares (§2): K independent populations of R members annealed from β = 0 (uniform states,
 * exact) to the target β on a linear grid; each step reweights by exp(−Δβ E), accumulates
 * ln Q̂ = ln mean exp(−Δβ E) into ln Z, resamples (PA: systematic) or carries the weights (AIS),
 * then runs heat-bath sweeps at the new β.  samp_pa_samp.c turns it into log Z and a sampler.
 *
 * Across the ranks of an MPI job (samp_pa.h) each run's members are split over the ranks; a PA
 * step normalises the weights globally (the minimum energy, then the per-rank weight sums
 * gathered and added in rank order, so every rank computes the same bits), places the R
 * systematic points on the global cumulative weight (each rank counts the points that fall on
 * its own members), keeps surviving parents in their slots and their extra children in the
 * slots of culled members, and sends what is left over to the ranks short of their share
 * (pa_plan + one Alltoallv of packed members).  Family ids are global member indices.
 *
 * Memory: a member is its state (n bits: a block keeps one 16-bit lane mask per unit), energy,
 * family, lane RNG and the step's weight and indices — about 100 bytes for 288 units; sweeps
 * unpack one block of SK_W lanes at a time into a per-thread float buffer.  Nothing is O(R²)
 * and nothing is allocated per member.
 *
 * Lane RNG streams come from the member's global identity (stream + k·R + i), never from the
 * rank, so the β = 0 population is the same for any rank count; one rank reproduces the plain
 * binary bit for bit, and a given rank count reproduces itself. */
#include "samp_pa.h"
#include "qv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- lanes */

_Static_assert(SK_W == 16, "a block's lanes are the 16 bits of a uint16_t");

/* Block b's floats [n × SK_W] ↔ its lane masks: one 16-bit word per unit. */
static void unpack_block(const struct pa_engine *P, long b, float *restrict z)
{
    const uint16_t *m = P->zb + (size_t)b * P->m.n;
    for (int i = 0; i < P->m.n; i++)
        for (int l = 0; l < SK_W; l++) z[(size_t)i * SK_W + l] = (float)((m[i] >> l) & 1);
}

static void pack_block(const struct pa_engine *P, long b, const float *restrict z)
{
    uint16_t *m = P->zb + (size_t)b * P->m.n;
    for (int i = 0; i < P->m.n; i++) {
        unsigned v = 0;
        for (int l = 0; l < SK_W; l++) v |= (unsigned)(z[(size_t)i * SK_W + l] != 0.0f) << l;
        m[i] = (uint16_t)v;
    }
}

/* Local member l's state as W 64-bit words (unit i = bit i%64 of word i/64), and back. */
void pa_member_get(const struct pa_engine *P, long l, uint64_t *w)
{
    const uint16_t *m = P->zb + (size_t)(l / SK_W) * P->m.n;
    int ln = (int)(l % SK_W);
    memset(w, 0, (size_t)P->W * sizeof *w);
    for (int i = 0; i < P->m.n; i++) w[i >> 6] |= (uint64_t)((m[i] >> ln) & 1) << (i & 63);
}

static void member_set(struct pa_engine *P, long l, const uint64_t *w)
{
    uint16_t *m = P->zb + (size_t)(l / SK_W) * P->m.n;
    int ln = (int)(l % SK_W);
    for (int i = 0; i < P->m.n; i++)
        m[i] = (uint16_t)((m[i] & ~(1u << ln)) | (unsigned)((w[i >> 6] >> (i & 63)) & 1) << ln);
}

/* The RNG stream of local lane l: its member's global index, or a padding lane's own number. */
static uint64_t lane_stream(const struct pa_engine *P, long l)
{
    if (l < P->L) return P->stream + (uint64_t)((l / P->nl) * P->R + P->lo + l % P->nl);
    return P->stream + (uint64_t)P->T + (uint64_t)P->rank * SK_W + (uint64_t)(l - P->L);
}

struct step_job {
    struct pa_engine *P;
    float beta;
    struct sk_fac fac;   /* the model's factors at beta (every member runs at it) */
    long sweeps;
    bool seed;      /* first call: seed the lanes with uniform states */
    int nt;
    float **buf;    /* [nt] one block of floats [n × SK_W] per thread */
};

/* Thread j: its contiguous range of blocks — unpack, sweep, energies, pack. */
static void step_chunk(void *p, long j)
{
    struct step_job *S = p;
    struct pa_engine *P = S->P;
    float *z = S->buf[j];
    float bl[SK_W];
    for (int l = 0; l < SK_W; l++) bl[l] = S->beta;
    for (long b = P->nb * j / S->nt; b < P->nb * (j + 1) / S->nt; b++) {
        uint32_t *rs = P->rs + (size_t)b * 4 * SK_W;
        if (S->seed) {
            for (int l = 0; l < SK_W; l++)
                sk_lane_seed(&P->m, z, rs, l, P->seed, lane_stream(P, b * SK_W + l), true);
        } else {
            unpack_block(P, b, z);
        }
        if (S->sweeps > 0) sk_sweep(&P->m, &S->fac, z, rs, bl, SK_HEATBATH, (int)S->sweeps);
        sk_energy(&P->m, z, P->e + b * SK_W);
        if (S->seed || S->sweeps > 0) pack_block(P, b, z);
    }
}

static void copy_member(struct pa_engine *P, long src, long dst)
{
    const uint16_t *ms = P->zb + (size_t)(src / SK_W) * P->m.n;
    uint16_t *md = P->zb + (size_t)(dst / SK_W) * P->m.n;
    int ls = (int)(src % SK_W), ld = (int)(dst % SK_W);
    for (int i = 0; i < P->m.n; i++)
        md[i] = (uint16_t)((md[i] & ~(1u << ld)) | (unsigned)((ms[i] >> ls) & 1) << ld);
    P->e[dst] = P->e[src];
    P->fam[dst] = P->fam[src];
}

/* ---------------------------------------------------------------- resampling */

/* Work arrays of the resampling step, allocated once per run of the engine. */
struct pa_work {
    double *w;           /* [L] weights of the step */
    double *smine, *sall;/* [K], [ranks × K] local weight sums */
    long *cnt;           /* [L] children per local member */
    long *out;           /* [L] surplus parents of run k, from k·nl on */
    long *slot;          /* [L] slots of run k waiting for a member from another rank */
    long *have, *hall;   /* [K], [ranks × K] children per rank */
    long *want, *plan;   /* [ranks] shares; [K × 2 × ranks] send/recv per run */
    long *peer, *cur;    /* [3 × ranks] per-peer counts; [K] cursors */
    unsigned char *sbuf, *rbuf;
    size_t scap, rcap;   /* bytes allocated in sbuf, rbuf */
};

/* Number of j in [0, R) with (u + j)·step < x: the same comparison the counting loop makes, so
 * two ranks sharing a boundary x agree on the point that falls on it. */
long pa_points_below(double x, double u, double step, long R)
{
    double g = x / step - u;
    long j = g <= 0 ? 0 : g >= (double)R ? R : (long)g;
    while (j > 0 && (u + (double)(j - 1)) * step >= x) j--;
    while (j < R && (u + (double)j) * step < x) j++;
    return j;
}

/* Children per local member of run k: this rank owns the points [j0, j1) that fall in its
 * stretch [pfx, pfx + Σw) of the global cumulative weight; its last member takes any point
 * rounding left over. */
void pa_count_children(const double *w, long nl, double pfx, long j0, long j1, double u,
                       double step, long *cnt)
{
    double cum = pfx;
    long j = j0;
    for (long i = 0; i < nl; i++) {
        cum += w[i];
        long c = 0;
        while (j < j1 && (u + (double)j) * step < cum) {
            c++;
            j++;
        }
        cnt[i] = c;
    }
    if (nl > 0) cnt[nl - 1] += j1 - j;
}

/* In place: a parent keeps its slot, its extra children overwrite culled members' slots; extras
 * beyond those slots are listed in out (to send), slots beyond the extras in slot (to fill). */
static void place_children(struct pa_engine *P, long k, struct pa_work *X)
{
    long base = k * P->nl, nd = 0, d = 0, no = 0;
    long *cnt = X->cnt + base, *dead = X->slot + base, *out = X->out + base;
    for (long i = 0; i < P->nl; i++)
        if (cnt[i] == 0) dead[nd++] = base + i;
    for (long i = 0; i < P->nl; i++)
        for (long c = 1; c < cnt[i]; c++) {
            if (d < nd) copy_member(P, base + i, dead[d++]);
            else out[no++] = base + i;
        }
    memmove(dead, dead + d, (size_t)(nd - d) * sizeof *dead);
    X->have[k] = P->nl + no - (nd - d);
}

static void *grow(unsigned char *p, size_t *cap, size_t need)
{
    if (need <= *cap) return p;
    *cap = need + need / 2;
    return qv_realloc(p, *cap);
}

/* Exchange records: the state words, the energy, the family ((W + 2)·8 bytes). */
static void pack_member(const struct pa_engine *P, long l, unsigned char *q)
{
    size_t ws = (size_t)P->W * sizeof(uint64_t);
    int64_t f = P->fam[l];
    pa_member_get(P, l, (uint64_t *)(void *)q);
    memcpy(q + ws, &P->e[l], sizeof(double));
    memcpy(q + ws + sizeof(double), &f, sizeof f);
}

static void unpack_member(struct pa_engine *P, const unsigned char *q, long l)
{
    size_t ws = (size_t)P->W * sizeof(uint64_t);
    int64_t f;
    member_set(P, l, (const uint64_t *)(const void *)q);
    memcpy(&P->e[l], q + ws, sizeof(double));
    memcpy(&f, q + ws + sizeof(double), sizeof f);
    P->fam[l] = (int)f;
}

/* Rebalancing: every rank's children counts (one Allgather of K longs), the plan of each run,
 * then one Alltoallv of packed members (state words, energy, family: (W + 2)·8 bytes each),
 * grouped by peer rank and by run within a peer.  *moved += members this rank received. */
static int rebalance(struct pa_engine *P, struct pa_work *X, long *moved)
{
    int size = P->ranks, me = P->rank;
    long K = P->K, *plan = X->plan;   /* run k: send [k·2·size, +size), recv [+size, +2·size) */
    if (pa_gather_l(X->have, (int)K, X->hall)) return -1;
    long *scnt = X->peer, *rcnt = X->peer + size, *h = X->peer + 2 * size;
    memset(scnt, 0, (size_t)size * 2 * sizeof *scnt);
    for (long k = 0; k < K; k++) {
        long *snd = plan + k * 2 * size, *rcv = snd + size;
        for (int r = 0; r < size; r++) h[r] = X->hall[(long)r * K + k];
        if (pa_plan(size, h, X->want, me, snd, rcv)) return -1;   /* same verdict on every rank */
        for (int r = 0; r < size; r++) {
            scnt[r] += snd[r];
            rcnt[r] += rcv[r];
        }
    }
    size_t rec = ((size_t)P->W + 2) * sizeof(uint64_t);
    long ns = 0, nr = 0;
    for (int r = 0; r < size; r++) {
        ns += scnt[r];
        nr += rcnt[r];
    }
    X->sbuf = grow(X->sbuf, &X->scap, (size_t)QV_MAX(ns, 1) * rec);
    X->rbuf = grow(X->rbuf, &X->rcap, (size_t)QV_MAX(nr, 1) * rec);
    unsigned char *q = X->sbuf;
    memset(X->cur, 0, (size_t)K * sizeof *X->cur);   /* next surplus parent of each run */
    for (int r = 0; r < size; r++)
        for (long k = 0; k < K; k++)
            for (long c = 0; c < plan[k * 2 * size + r]; c++, q += rec)
                pack_member(P, X->out[k * P->nl + X->cur[k]++], q);
    if (pa_exchange(X->sbuf, scnt, X->rbuf, rcnt, rec)) return -1;
    q = X->rbuf;
    memset(X->cur, 0, (size_t)K * sizeof *X->cur);   /* next open slot of each run */
    for (int r = 0; r < size; r++)
        for (long k = 0; k < K; k++)
            for (long c = 0; c < plan[k * 2 * size + size + r]; c++, q += rec)
                unpack_member(P, q, X->slot[k * P->nl + X->cur[k]++]);
    *moved += nr;
    return 0;
}

/* One PA step's reweighting and resampling of every run (Δβ = db); ln Q̂ goes into lnz_run.
 * emin[K] holds the global minimum energy of each run. */
static int resample_all(struct pa_engine *P, struct pa_work *X, double db, const double *emin,
                        struct rng *rr, long *moved)
{
    long K = P->K, nl = P->nl, R = P->R;
    int size = P->ranks, me = P->rank;
    /* w_i = exp(−Δβ (E_i − E_min)) ≤ 1 (the global maximum weight is exactly 1) */
    for (long k = 0; k < K; k++) {
        double s = 0;
        for (long i = 0; i < nl; i++) {
            X->w[k * nl + i] = exp(-db * (P->e[k * nl + i] - emin[k]));
            s += X->w[k * nl + i];
        }
        X->smine[k] = s;
    }
    if (pa_gather_d(X->smine, (int)K, X->sall)) return -1;
    long last = QV_MIN(R, (long)size) - 1;   /* the last rank holding members */
    for (long k = 0; k < K; k++) {
        /* the global sum in rank order; pfx/nxt bound this rank's stretch, computed by the
         * same additions on the neighbouring ranks */
        double sum = 0, pfx = 0, nxt = 0;
        for (int r = 0; r < size; r++) {
            if (r == me) pfx = sum;
            sum += X->sall[(long)r * K + k];
            if (r == me) nxt = sum;
        }
        P->lnz_run[k] += log(sum / (double)R) - db * emin[k];
        double u = rng_uniform(rr), step = sum / (double)R;
        long j0 = pa_points_below(pfx, u, step, R);
        long j1 = me >= last ? R : pa_points_below(nxt, u, step, R);
        if (me > last) j0 = j1 = R;
        pa_count_children(X->w + k * nl, nl, pfx, j0, j1, u, step, X->cnt + k * nl);
        place_children(P, k, X);
    }
    return size > 1 ? rebalance(P, X, moved) : 0;
}

/* ---------------------------------------------------------------- results */

/* Family statistics of a finished PA run over the whole job: per run, the count of every
 * family (R ints, summed over the ranks), the effective population R/ρ_t = 1/Σν² and e^{S_f};
 * their means over the K runs, and the surviving families of all runs. */
static int family_stats(struct pa_engine *P)
{
    int *fc = qv_mallocarray((size_t)P->R, sizeof *fc);
    double ess = 0, ent = 0;
    long fams = 0;
    int rc = 0;
    for (long k = 0; k < P->K && !rc; k++) {
        memset(fc, 0, (size_t)P->R * sizeof *fc);
        for (long i = 0; i < P->nl; i++) fc[P->fam[k * P->nl + i]]++;
        rc = pa_sum_int(fc, P->R);
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
    return rc;
}

/* ln Σ exp(x) over the n local values of every rank: the global maximum first, then the
 * per-rank sums of exp(x − max) added in rank order. */
static int global_lse(const double *x, long n, int ranks, double *out)
{
    double mx = -INFINITY, s = 0;
    for (long i = 0; i < n; i++) mx = QV_MAX(mx, x[i]);
    if (pa_max(&mx, 1)) return -1;
    if (isfinite(mx))
        for (long i = 0; i < n; i++) s += exp(x[i] - mx);
    double *all = qv_mallocarray((size_t)ranks, sizeof *all), tot = 0;
    int rc = pa_gather_d(&s, 1, all);
    for (int r = 0; r < ranks; r++) tot += all[r];
    free(all);
    *out = isfinite(mx) ? mx + log(tot) : mx;
    return rc;
}

static int pa_results(struct pa_engine *P)
{
    P->logz = sk_logsumexp(P->lnz_run, P->K) - log((double)P->K);
    double mean = 0, var = 0;
    for (long k = 0; k < P->K; k++) mean += P->lnz_run[k] / (double)P->K;
    for (long k = 0; k < P->K; k++) var += (P->lnz_run[k] - mean) * (P->lnz_run[k] - mean);
    P->err = P->K > 1 ? sqrt(var / (double)(P->K - 1) / (double)P->K) : NAN;
    return family_stats(P);
}

/* AIS: pool every chain; ln Ẑ = n ln2 + ln mean w, delta-method error sd(w)/(√N mean w). */
static int ais_results(struct pa_engine *P)
{
    int n = P->m.n;
    double lse, st[2] = {0, 0}, mx;
    if (global_lse(P->logw, P->L, P->ranks, &lse)) return -1;
    P->logz = n * log(2.0) + lse - log((double)P->T);
    mx = -INFINITY;
    for (long g = 0; g < P->L; g++) mx = QV_MAX(mx, P->logw[g]);
    if (pa_max(&mx, 1)) return -1;
    for (long g = 0; g < P->L; g++) {
        double w = exp(P->logw[g] - mx);
        st[0] += w;
        st[1] += w * w;
    }
    double *all = qv_mallocarray((size_t)P->ranks * 2, sizeof *all), s1 = 0, s2 = 0;
    int rc = pa_gather_d(st, 2, all);
    for (int r = 0; r < P->ranks; r++) {
        s1 += all[2 * r];
        s2 += all[2 * r + 1];
    }
    free(all);
    double N = (double)P->T;
    double mw = s1 / N, vw = QV_MAX(0.0, s2 / N - mw * mw) * N / QV_MAX(N - 1, 1.0);
    P->err = sqrt(vw / N) / mw;
    P->ess = s1 * s1 / s2;
    for (long k = 0; k < P->K && !rc; k++) {
        rc = global_lse(P->logw + k * P->nl, P->nl, P->ranks, &lse);
        P->lnz_run[k] = n * log(2.0) + lse - log((double)P->R);
    }
    return rc;
}

/* ---------------------------------------------------------------- run */

static void work_init(struct pa_work *X, const struct pa_engine *P)
{
    size_t L = (size_t)QV_MAX(P->L, 1), K = (size_t)P->K, S = (size_t)P->ranks;
    memset(X, 0, sizeof *X);
    X->w = qv_mallocarray(L, sizeof *X->w);
    X->smine = qv_mallocarray(K, sizeof *X->smine);
    X->sall = qv_mallocarray(K * S, sizeof *X->sall);
    X->cnt = qv_mallocarray(L, sizeof *X->cnt);
    X->out = qv_mallocarray(L, sizeof *X->out);
    X->slot = qv_mallocarray(L, sizeof *X->slot);
    X->have = qv_mallocarray(K, sizeof *X->have);
    X->hall = qv_mallocarray(K * S, sizeof *X->hall);
    X->want = qv_mallocarray(S, sizeof *X->want);
    X->plan = qv_mallocarray(K * 2 * S, sizeof *X->plan);
    X->peer = qv_mallocarray(3 * S, sizeof *X->peer);
    X->cur = qv_mallocarray(K, sizeof *X->cur);
    for (int r = 0; r < P->ranks; r++) {
        long lo;
        pa_split(P->R, P->ranks, r, &lo, &X->want[r]);
    }
}

static void work_free(struct pa_work *X)
{
    void *p[] = {X->w, X->smine, X->sall, X->cnt, X->out, X->slot, X->have,
                 X->hall, X->want, X->plan, X->peer, X->cur, X->sbuf, X->rbuf};
    for (size_t i = 0; i < sizeof p / sizeof *p; i++) free(p[i]);
}

/* Shape and allocation of this rank's share; -1 with an error for a population too large. */
static int engine_alloc(struct pa_engine *P)
{
    int n = P->m.n;
    P->ranks = pa_ranks();
    P->T = P->R * P->K;
    P->rank = pa_rank();
    pa_split(P->R, P->ranks, P->rank, &P->lo, &P->nl);
    P->L = P->nl * P->K;
    P->nb = QV_MAX(1, (P->L + SK_W - 1) / SK_W);
    P->W = (n + 63) / 64;
    /* per lane: packed state, RNG, energy, family; per member: weight, 3 indices, AIS logw */
    size_t per = ((size_t)n + 7) / 8 + 16 + 8 + 4 + 8 + 3 * 8 + 8;
    if (P->R > 0x7fffffff)
        return qv_seterr("population annealing: at most 2147483647 members per run");
    if (!qv_size_ok((size_t)P->nb * SK_W, per, (size_t)1 << 35, "population annealing: population"))
        return -1;
    P->zb = qv_alloc_aligned((size_t)P->nb * (size_t)n * sizeof *P->zb);
    P->rs = qv_alloc_aligned((size_t)P->nb * 4 * SK_W * sizeof(uint32_t));
    P->e = qv_calloc((size_t)P->nb * SK_W, sizeof *P->e);
    P->fam = qv_calloc((size_t)P->nb * SK_W, sizeof *P->fam);
    P->logw = P->resample ? NULL : qv_calloc((size_t)QV_MAX(P->L, 1), sizeof *P->logw);
    P->lnz_run = qv_calloc((size_t)P->K, sizeof *P->lnz_run);
    for (long l = 0; l < P->L; l++) P->fam[l] = (int)(P->lo + l % P->nl);
    for (long k = 0; k < P->K; k++) P->lnz_run[k] = n * log(2.0);
    return 0;
}

/* The β loop.  Each step agrees on cancellation and the runs' minimum energies in one
 * reduction (K + 1 doubles), then reweights/resamples (PA) or carries weights (AIS). */
static int anneal(struct pa_engine *P, struct step_job *S)
{
    struct rng rr;   /* the resampling uniforms: the same stream on every rank */
    rng_init(&rr, P->seed, P->stream ^ 0x5A5A5A5A00000000ull);
    struct pa_work X;
    work_init(&X, P);
    double *v = qv_mallocarray((size_t)P->K + 1, sizeof *v);
    long moved = 0;
    int rc = 0;
    double bprev = 0;
    for (long t = 1; t <= P->steps && !rc; t++) {
        double bt = P->beta * (double)t / (double)P->steps;
        double db = bt - bprev;
        for (long k = 0; k < P->K; k++) {
            v[k] = INFINITY;
            for (long i = 0; i < P->nl; i++) v[k] = QV_MIN(v[k], P->e[k * P->nl + i]);
        }
        v[P->K] = P->cancel && atomic_load(P->cancel) ? -1.0 : 0.0;
        if ((rc = pa_min(v, (int)P->K + 1))) break;
        if (v[P->K] < 0) {
            rc = qv_seterr("cancelled");
            break;
        }
        if (P->resample) {
            if ((rc = resample_all(P, &X, db, v, &rr, &moved))) break;
        } else {
            for (long l = 0; l < P->L; l++) P->logw[l] -= db * P->e[l];
        }
        S->beta = (float)bt;
        if (P->sweeps > 0) sk_fac_set(&S->fac, &P->m, S->beta);
        S->sweeps = P->sweeps;
        S->seed = false;
        qv_parallel(S->nt, S->nt, step_chunk, S);
        bprev = bt;
        if (P->progress) P->progress(P->ud, (double)t, (double)P->steps);
    }
    free(v);
    work_free(&X);
    if (rc) return rc;
    double mv = (double)moved, *all = qv_mallocarray((size_t)P->ranks, sizeof *all);
    rc = pa_gather_d(&mv, 1, all);
    P->moved = 0;
    for (int r = 0; r < P->ranks; r++) P->moved += all[r] / (double)P->steps;
    free(all);
    return rc;
}

int pa_engine_run(struct pa_engine *P, const struct bm *bm)
{
    if (P->R < 1 || P->K < 1 || P->steps < 1 || P->sweeps < 0)
        return qv_seterr("population annealing: population, runs and steps must be positive");
    if (!isfinite(P->beta) || P->beta < 0)
        return qv_seterr("population annealing: beta must be finite and >= 0");
    int rc = sk_model_init(&P->m, bm);
    if (!rc) rc = engine_alloc(P);
    if ((rc = pa_agree(rc))) return rc;
    int n = P->m.n;
    struct step_job S = {.P = P, .seed = true};
    sk_fac_init(&S.fac, &P->m);
    S.nt = sk_threads(P->threads, P->nb, (double)n * SK_W * (double)(P->sweeps + 1));
    S.buf = qv_mallocarray((size_t)S.nt, sizeof *S.buf);
    for (int j = 0; j < S.nt; j++) S.buf[j] = qv_alloc_aligned((size_t)n * SK_W * sizeof(float));
    qv_parallel(S.nt, S.nt, step_chunk, &S);   /* uniform states, their energies */
    rc = anneal(P, &S);
    for (int j = 0; j < S.nt; j++) free(S.buf[j]);
    free(S.buf);
    sk_fac_free(&S.fac);
    if (rc) return rc;
    return P->resample ? pa_results(P) : ais_results(P);
}

void pa_engine_free(struct pa_engine *P)
{
    if (P->m.n) sk_model_free(&P->m);
    free(P->zb);
    free(P->rs);
    free(P->e);
    free(P->logw);
    free(P->fam);
    free(P->lnz_run);
    P->zb = NULL;
    P->rs = NULL;
    P->e = P->logw = P->lnz_run = NULL;
    P->fam = NULL;
}
