/* bm_exact.c — exact log Z, probabilities, marginals and samples of a Boltzmann machine by
 * enumeration, for up to BM_EXACT_MAX enumerated units (bm.h).
 *
 * Enumeration: a maximal independent set B of units is summed out analytically (given the
 * others they are independent Bernoullis), and the 2^nA states of the remaining nA units are cut
 * into 2^H chunks (high bits fixed); inside a chunk the low L = nA − H bits run through a Gray
 * code, so each step flips one unit and updates the energy, the local fields
 * f_i = b_i + Σ_j W_ij z_j of its neighbours and their summed-out terms in O(degree).  Chunks
 * are shared between the threads of qv_parallel through an atomic counter, and every chunk
 * keeps its own partial results, merged in chunk order afterwards — results are bit-identical
 * for any thread count. */
#include "bm.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

static atomic_int exact_threads;

void bm_set_exact_threads(int threads) { atomic_store(&exact_threads, threads < 0 ? 0 : threads); }

static int n_threads(long nchunks)
{
    int t = atomic_load(&exact_threads);
    if (t <= 0) t = qv_ncpu();
    return (int)QV_MIN((long)t, nchunks);
}

static inline double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static inline double sigmoid(double x)
{
    if (x >= 0) return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

/* Greedy maximum independent set: repeatedly take a unit of least remaining degree and drop its
 * neighbours (O(n^2); only used for n <= 2048).  inB [n] out; returns its size. */
static int greedy_mis(const struct graph *g, unsigned char *inB)
{
    int n = g->nv, nb = 0;
    int *deg = qv_mallocarray((size_t)n + 1, sizeof(int));
    unsigned char *gone = qv_calloc((size_t)n + 1, 1);
    for (int v = 0; v < n; v++) deg[v] = graph_degree(g, v);
    memset(inB, 0, (size_t)n);
    for (;;) {
        int best = -1;
        for (int v = 0; v < n; v++) if (!gone[v] && (best < 0 || deg[v] < deg[best])) best = v;
        if (best < 0) break;
        inB[best] = 1; nb++; gone[best] = 1;
        for (long a = g->adj_start[best]; a < g->adj_start[best + 1]; a++) {
            int u = g->adj[a];
            if (gone[u]) continue;
            gone[u] = 1;
            for (long b = g->adj_start[u]; b < g->adj_start[u + 1]; b++) deg[g->adj[b]]--;
        }
    }
    free(deg);
    free(gone);
    return nb;
}

/* Units summed out analytically (set B): the larger of a maximal independent set grown from the
 * largest colour class and a greedy minimum-degree one.  Given the enumerated units A, the units of B are independent, so
 *     Σ_{z_B} exp(−βE(z)) = exp(−βE(z_A, z_B = 0)) · Π_{j∈B} (1 + exp(β f_j)),
 * f_j = b_j + Σ_{i∈A} W_ij z_i, and only the 2^|A| states of A are visited (an RBM-style
 * trick: a Chimera cut of 28 units enumerates about 2^14 states).  inB [n]; returns |B|. */
static int pick_summed(const struct bm *bm, unsigned char *inB)
{
    const struct graph *g = bm->g;
    int n = bm->n, nb = 0;
    memset(inB, 0, (size_t)n);
    if (n == 0) return 0;
    long *cnt = qv_calloc((size_t)g->ncolors + 1, sizeof(long));
    for (int v = 0; v < n; v++) if (g->color[v] >= 0 && g->color[v] < g->ncolors) cnt[g->color[v]]++;
    int best = 0;
    for (int c = 1; c < g->ncolors; c++) if (cnt[c] > cnt[best]) best = c;
    free(cnt);
    /* two passes: the colour class first, then any unit with no neighbour in B (maximality);
     * the neighbour test keeps B independent even if a colouring were not proper */
    for (int pass = 0; pass < 2; pass++)
        for (int v = 0; v < n; v++) {
            if (inB[v] || (pass == 0 && g->color[v] != best)) continue;
            bool free_ = true;
            for (long a = g->adj_start[v]; a < g->adj_start[v + 1] && free_; a++) free_ = !inB[g->adj[a]];
            if (free_) { inB[v] = 1; nb++; }
        }
    if (n <= 2048) {
        unsigned char *alt = qv_malloc((size_t)n);
        int na = greedy_mis(g, alt);
        if (na > nb) { memcpy(inB, alt, (size_t)n); nb = na; }
        free(alt);
    }
    return nb;
}

int bm_exact_enum_units(const struct bm *bm)
{
    unsigned char *inB = qv_malloc((size_t)bm->n + 1);
    int nb = pick_summed(bm, inB);
    free(inB);
    return bm->n - nb;
}

enum enum_mode { EN_LOGZ, EN_PROBS, EN_MARG, EN_SAMPLE };

struct enum_job {
    const struct bm *bm;
    enum enum_mode mode;
    double beta;
    int n, nA, L;
    int *A;              /* [nA] enumerated units: Gray-code bit q is unit A[q] */
    unsigned char *inB;  /* [n] summed-out units (all 0 for PROBS) */
    long nchunks;
    double *adjw;        /* [2 ne] W of each CSR adjacency */
    bool fast;           /* every β f_j of a summed-out unit stays within ±600: multiplicative path */
    double *facp, *facm; /* fast: [2 ne] exp(±β W) of each adjacency */
    double *cmax, *csum; /* [nchunks] chunk log-mass = cmax + log(csum) */
    double logz;         /* MARG / SAMPLE: reference */
    double *p;           /* PROBS: [2^n] receives the log-weights, normalised afterwards */
    double *acc;         /* MARG: [nchunks × (n + ne)] */
    /* SAMPLE: sorted uniforms, per-chunk ranges and starting cumulative mass */
    const double *u;
    long *ubeg, *uend;
    double *cstart;
    uint32_t *state_out; /* [count] A-state index for each sorted uniform */
    atomic_long next;
};

/* Per-thread scratch.  Summed-out units keep either sp_j = softplus(β f_j) (general path) or
 * g_j = exp(β f_j) with Q = Π (1 + g_j) (fast path: multiplicative updates, one log a state). */
struct enum_ws { uint8_t *z; double *f, *sp, *sig, *st, *gB; double Q; };

/* z (B units 0), local fields f, energy E(z_A, 0) and Σ_B softplus(β f_j) of A-state idx. */
static double state_init(const struct enum_job *J, uint32_t idx, struct enum_ws *w, double *spsum)
{
    const struct bm *bm = J->bm;
    const struct graph *g = bm->g;
    uint8_t *z = w->z;
    double *f = w->f;
    for (int i = 0; i < bm->n; i++) { z[i] = 0; f[i] = bm->b[i]; }
    for (int q = 0; q < J->nA; q++) z[J->A[q]] = (idx >> q) & 1;
    double e = 0;
    for (int i = 0; i < bm->n; i++) if (z[i]) e -= bm->b[i];
    for (long k = 0; k < bm->ne; k++) {
        int a = g->edges[k][0], b = g->edges[k][1];
        if (z[b]) f[a] += bm->w[k];
        if (z[a]) f[b] += bm->w[k];
        if (z[a] & z[b]) e -= bm->w[k];
    }
    double s = 0, Q = 1;
    for (int j = 0; j < bm->n; j++) {
        if (!J->inB[j]) continue;
        if (J->fast) {
            w->gB[j] = exp(J->beta * f[j]);
            w->sig[j] = w->gB[j] / (1 + w->gB[j]);
            Q *= 1 + w->gB[j];
        } else {
            w->sp[j] = softplus(J->beta * f[j]);
            w->sig[j] = sigmoid(J->beta * f[j]);
            s += w->sp[j];
        }
    }
    w->Q = Q;
    *spsum = J->fast ? log(Q) : s;
    return e;
}

/* Flip unit i (enumerated): energy, fields and the summed-out terms of its neighbours. */
static inline double flip(const struct enum_job *J, struct enum_ws *w, int i, double e, double *spsum)
{
    const struct graph *g = J->bm->g;
    uint8_t *z = w->z;
    double *f = w->f, d;
    if (z[i]) { e += f[i]; z[i] = 0; d = -1; } else { e -= f[i]; z[i] = 1; d = 1; }
    if (J->fast) {
        const double *fac = d > 0 ? J->facp : J->facm;
        double Q = w->Q;
        for (long a = g->adj_start[i]; a < g->adj_start[i + 1]; a++) {
            int j = g->adj[a];
            f[j] += d * J->adjw[a];
            if (J->inB[j]) {
                double gn = w->gB[j] * fac[a];
                Q *= (1 + gn) / (1 + w->gB[j]);
                w->gB[j] = gn;
            }
        }
        w->Q = Q;
        *spsum = log(Q);
        return e;
    }
    for (long a = g->adj_start[i]; a < g->adj_start[i + 1]; a++) {
        int j = g->adj[a];
        f[j] += d * J->adjw[a];
        if (J->inB[j]) {
            *spsum -= w->sp[j];
            w->sp[j] = softplus(J->beta * f[j]);
            *spsum += w->sp[j];
        }
    }
    return e;
}

static void run_chunk(struct enum_job *J, long c, struct enum_ws *w)
{
    const struct bm *bm = J->bm;
    const struct graph *g = bm->g;
    const long *as = g->adj_start;
    const int *adj = g->adj;
    const long *ae = g->adj_edge;
    const double beta = J->beta;
    int n = J->n, L = J->L;
    uint8_t *z = w->z;
    uint32_t idx = (uint32_t)c << L;
    double sps;
    double e = state_init(J, idx, w, &sps);
    uint64_t steps = (uint64_t)1 << L;

    if (J->mode == EN_LOGZ || J->mode == EN_PROBS) {
        double *p = J->p, m = -INFINITY, s = 0;
        for (uint64_t t = 0;; t++) {
            double x = sps - beta * e;
            if (p) p[idx] = x;
            if (x > m) { s = s * exp(m - x) + 1; m = x; } else s += exp(x - m);
            if (t + 1 == steps) break;
            int q = __builtin_ctzll(t + 1);
            idx ^= (uint32_t)1 << q;
            e = flip(J, w, J->A[q], e, &sps);
        }
        J->cmax[c] = m;
        J->csum[c] = s;
        return;
    }
    if (J->mode == EN_MARG) {
        /* Running-mass trick: a quantity that stays constant over a run of consecutive states
         * contributes value × (mass at the end of the run − mass at its start), so a flip costs
         * O(degree) (O(degree²) next to summed-out units), not O(n + ne) per state.
         * A units and A–A edges: z_i, z_i z_j.  B units j: σ(β f_j) and, on their edges,
         * z_i σ(β f_j); both change only when a neighbour of j flips. */
        double *acc = J->acc + (size_t)c * (size_t)(n + bm->ne);
        double *st_n = w->st, *st_e = w->st + n, *sig = w->sig;
        const double lz = J->logz;
        double W = 0;
        for (int i = 0; i < n; i++) st_n[i] = 0;
        for (long k = 0; k < bm->ne; k++) st_e[k] = 0;
        for (uint64_t t = 0;; t++) {
            W += exp(sps - beta * e - lz);
            if (t + 1 == steps) break;
            int q = __builtin_ctzll(t + 1);
            int i = J->A[q];
            for (long a = as[i]; a < as[i + 1]; a++) {
                int j = adj[a];
                if (!J->inB[j]) continue;
                double mass = W - st_n[j];
                acc[j] += sig[j] * mass;
                for (long b = as[j]; b < as[j + 1]; b++) if (z[adj[b]]) acc[n + ae[b]] += sig[j] * mass;
                st_n[j] = W;
            }
            if (z[i]) {
                acc[i] += W - st_n[i];
                for (long a = as[i]; a < as[i + 1]; a++) if (z[adj[a]]) acc[n + ae[a]] += W - st_e[ae[a]];
            } else {
                st_n[i] = W;
                for (long a = as[i]; a < as[i + 1]; a++) if (z[adj[a]]) st_e[ae[a]] = W;
            }
            idx ^= (uint32_t)1 << q;
            e = flip(J, w, i, e, &sps);
            for (long a = as[i]; a < as[i + 1]; a++) {
                int j = adj[a];
                if (J->inB[j]) sig[j] = J->fast ? w->gB[j] / (1 + w->gB[j]) : sigmoid(beta * w->f[j]);
            }
        }
        for (int i = 0; i < n; i++) {
            if (J->inB[i]) {
                double mass = W - st_n[i];
                acc[i] += sig[i] * mass;
                for (long b = as[i]; b < as[i + 1]; b++) if (z[adj[b]]) acc[n + ae[b]] += sig[i] * mass;
            } else if (z[i]) {
                acc[i] += W - st_n[i];
            }
        }
        for (long k = 0; k < bm->ne; k++)
            if (z[g->edges[k][0]] & z[g->edges[k][1]]) acc[n + k] += W - st_e[k];
        return;
    }
    /* EN_SAMPLE: walk the cumulative mass and hand out the sorted uniforms of this chunk. */
    long next = J->ubeg[c], end = J->uend[c];
    if (next >= end) return;
    double cum = J->cstart[c];
    const double lz = J->logz;
    for (uint64_t t = 0;; t++) {
        cum += exp(sps - beta * e - lz);
        while (next < end && J->u[next] < cum) J->state_out[next++] = idx;
        if (next >= end || t + 1 == steps) break;
        int q = __builtin_ctzll(t + 1);
        idx ^= (uint32_t)1 << q;
        e = flip(J, w, J->A[q], e, &sps);
    }
    while (next < end) J->state_out[next++] = idx;   /* rounding leftovers: last state */
}

static void enum_worker(struct enum_job *J)
{
    size_t n = (size_t)J->n + 1;
    struct enum_ws w;
    w.z = qv_malloc(n);
    w.f = qv_mallocarray(n, sizeof(double));
    w.sp = qv_calloc(n, sizeof(double));
    w.sig = qv_calloc(n, sizeof(double));
    w.st = qv_mallocarray(n + (size_t)J->bm->ne, sizeof(double));
    w.gB = qv_calloc(n, sizeof(double));
    w.Q = 1;
    for (;;) {
        long c = atomic_fetch_add(&J->next, 1);
        if (c >= J->nchunks) break;
        run_chunk(J, c, &w);
    }
    free(w.z); free(w.f); free(w.sp); free(w.sig); free(w.st); free(w.gB);
}

static void enum_share(void *ctx, long share)
{
    enum_worker(ctx);
}

/* One share per thread (qv_parallel); each pulls chunks from the shared counter. */
static void enum_run(struct enum_job *J)
{
    atomic_store(&J->next, 0);
    int nt = n_threads(J->nchunks);
    qv_parallel(nt, nt, enum_share, J);
}

static void enum_done(struct enum_job *J)
{
    free(J->adjw); free(J->cmax); free(J->csum); free(J->acc); free(J->A); free(J->inB);
    free(J->facp); free(J->facm);
    J->adjw = J->cmax = J->csum = J->acc = J->facp = J->facm = NULL;
    J->A = NULL;
    J->inB = NULL;
}

/* sum_out: use the independent set B (all modes but PROBS). */
static int enum_setup(struct enum_job *J, const struct bm *bm, double beta, enum enum_mode mode)
{
    memset(J, 0, sizeof *J);
    if (!isfinite(beta)) return qv_seterr("exact enumeration: beta must be finite");
    if (bm_check_finite(bm) < 0) return -1;
    /* |βE| <= β(Σ|b| + Σ|W|): keep every log-weight finite */
    double bound = 0;
    for (int i = 0; i < bm->n; i++) bound += fabs(bm->b[i]);
    for (long k = 0; k < bm->ne; k++) bound += fabs(bm->w[k]);
    if (!(fabs(beta) * bound < 1e300))
        return qv_seterr("exact enumeration: parameters too large (beta·(Σ|b| + Σ|W|) = %g)",
                         fabs(beta) * bound);
    J->inB = qv_calloc((size_t)bm->n + 1, 1);
    int nb = mode == EN_PROBS ? 0 : pick_summed(bm, J->inB);
    J->nA = bm->n - nb;
    if (J->nA > BM_EXACT_MAX) {
        free(J->inB);
        J->inB = NULL;
        if (nb)
            return qv_seterr("exact enumeration: %d units leave %d to enumerate after summing out an "
                             "independent set of %d, more than the %d that can be enumerated",
                             bm->n, J->nA, nb, BM_EXACT_MAX);
        return qv_seterr("exact enumeration: %d units, more than the %d that can be enumerated",
                         bm->n, BM_EXACT_MAX);
    }
    J->A = qv_mallocarray((size_t)J->nA + 1, sizeof(int));
    for (int i = 0, q = 0; i < bm->n; i++) if (!J->inB[i]) J->A[q++] = i;
    J->bm = bm;
    J->mode = mode;
    J->beta = beta;
    J->n = bm->n;
    int H = J->nA <= 14 ? 0 : QV_MAX(4, J->nA - 18);
    J->L = J->nA - H;
    J->nchunks = 1L << H;
    J->adjw = qv_mallocarray((size_t)QV_MAX(2 * bm->ne, 1), sizeof(double));
    for (long a = 0; a < 2 * bm->ne; a++) J->adjw[a] = bm->w[bm->g->adj_edge[a]];
    /* fast path when exp(β f_j) and Π (1 + exp(β f_j)) cannot over- or underflow:
     * Σ_{j∈B} β (|b_j| + Σ_i |W_ij|) < 600 bounds both (|β f_j| and log Q below 600) */
    double fb = 0;
    for (int j = 0; j < bm->n; j++) {
        if (!J->inB[j]) continue;
        fb += fabs(bm->b[j]);
        for (long a = bm->g->adj_start[j]; a < bm->g->adj_start[j + 1]; a++) fb += fabs(J->adjw[a]);
    }
    J->fast = nb > 0 && fabs(beta) * fb < 600;
    if (J->fast) {
        J->facp = qv_mallocarray((size_t)QV_MAX(2 * bm->ne, 1), sizeof(double));
        J->facm = qv_mallocarray((size_t)QV_MAX(2 * bm->ne, 1), sizeof(double));
        for (long a = 0; a < 2 * bm->ne; a++) {
            J->facp[a] = exp(beta * J->adjw[a]);
            J->facm[a] = exp(-beta * J->adjw[a]);
        }
    }
    J->cmax = qv_mallocarray((size_t)J->nchunks, sizeof(double));
    J->csum = qv_mallocarray((size_t)J->nchunks, sizeof(double));
    return 0;
}

/* log of the total mass of the chunks (merged in chunk order). */
static double merge_logz(const struct enum_job *J)
{
    double m = -INFINITY;
    for (long c = 0; c < J->nchunks; c++) m = fmax(m, J->cmax[c]);
    double s = 0;
    for (long c = 0; c < J->nchunks; c++) s += J->csum[c] * exp(J->cmax[c] - m);
    return m + log(s);
}

int bm_logz_exact(const struct bm *bm, double beta, double *logz)
{
    struct enum_job J;
    if (enum_setup(&J, bm, beta, EN_LOGZ) < 0) return -1;
    enum_run(&J);
    *logz = merge_logz(&J);
    enum_done(&J);
    return 0;
}

int bm_probs_exact(const struct bm *bm, double beta, double *p)
{
    if (bm->n > BM_EXACT_MAX)
        return qv_seterr("exact probabilities: %d units, more than the %d whose 2^n states fit",
                         bm->n, BM_EXACT_MAX);
    struct enum_job J;
    if (enum_setup(&J, bm, beta, EN_PROBS) < 0) return -1;
    J.p = p;
    enum_run(&J);
    double lz = merge_logz(&J);
    size_t N = (size_t)1 << bm->n;
    for (size_t i = 0; i < N; i++) p[i] = exp(p[i] - lz);
    enum_done(&J);
    return 0;
}

/* mean or corr may be NULL when not wanted. */
int bm_marginals_exact(const struct bm *bm, double beta, double *mean, double *corr)
{
    struct enum_job J;
    if (enum_setup(&J, bm, beta, EN_LOGZ) < 0) return -1;
    enum_run(&J);
    J.logz = merge_logz(&J);
    J.mode = EN_MARG;
    size_t w = (size_t)bm->n + (size_t)bm->ne;
    J.acc = qv_calloc((size_t)J.nchunks * w + 1, sizeof(double));
    enum_run(&J);
    for (size_t k = 0; k < w; k++) {
        double s = 0;
        for (long c = 0; c < J.nchunks; c++) s += J.acc[(size_t)c * w + k];
        if (k < (size_t)bm->n) { if (mean) mean[k] = s; }
        else if (corr) corr[k - (size_t)bm->n] = s;
    }
    enum_done(&J);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bm_sample_exact(const struct bm *bm, double beta, long count, struct rng *r, uint8_t *z_out)
{
    if (count < 0) return qv_seterr("exact sampling: negative sample count %ld", count);
    if (!qv_size_ok((size_t)count, 20, (size_t)1 << 32, "exact sampling")) return -1;
    struct enum_job J;
    if (enum_setup(&J, bm, beta, EN_LOGZ) < 0) return -1;
    if (count == 0) { enum_done(&J); return 0; }
    enum_run(&J);
    J.logz = merge_logz(&J);
    /* count sorted uniforms, split between chunks by the chunks' masses */
    double *u = qv_mallocarray((size_t)count, sizeof(double));
    for (long s = 0; s < count; s++) u[s] = rng_uniform(r);
    qsort(u, (size_t)count, sizeof(double), cmp_double);
    J.u = u;
    J.ubeg = qv_mallocarray((size_t)J.nchunks, sizeof(long));
    J.uend = qv_mallocarray((size_t)J.nchunks, sizeof(long));
    J.cstart = qv_mallocarray((size_t)J.nchunks, sizeof(double));
    J.state_out = qv_mallocarray((size_t)count, sizeof(uint32_t));
    double cum = 0;
    long pos = 0;
    for (long c = 0; c < J.nchunks; c++) {
        J.cstart[c] = cum;
        cum += J.csum[c] * exp(J.cmax[c] - J.logz);
        J.ubeg[c] = pos;
        if (c == J.nchunks - 1) pos = count;
        else while (pos < count && u[pos] < cum) pos++;
        J.uend[c] = pos;
    }
    J.mode = EN_SAMPLE;
    enum_run(&J);
    /* the states come out in enumeration order: shuffle them so the samples are i.i.d. */
    for (long s = count - 1; s > 0; s--) {
        long j = (long)rng_below(r, (uint64_t)s + 1);
        uint32_t t = J.state_out[s]; J.state_out[s] = J.state_out[j]; J.state_out[j] = t;
    }
    /* expand: enumerated units from the index, summed-out units drawn given them */
    const struct graph *g = bm->g;
    for (long s = 0; s < count; s++) {
        uint8_t *z = z_out + (size_t)s * bm->n;
        memset(z, 0, (size_t)bm->n);
        for (int q = 0; q < J.nA; q++) z[J.A[q]] = (J.state_out[s] >> q) & 1;
        for (int j = 0; j < bm->n; j++) {
            if (!J.inB[j]) continue;
            double f = bm->b[j];
            for (long a = g->adj_start[j]; a < g->adj_start[j + 1]; a++)
                if (z[g->adj[a]]) f += J.adjw[a];
            z[j] = rng_uniform(r) < sigmoid(beta * f);
        }
    }
    free(u); free(J.ubeg); free(J.uend); free(J.cstart); free(J.state_out);
    enum_done(&J);
    return 0;
}
