/* bm.c — Boltzmann machines on a graph: parameters in the binary (b, W) and Ising (h, J)
 * conventions, batch energies and sufficient statistics, and exact log Z / probabilities /
 * marginals / samples by enumeration for n <= BM_EXACT_MAX.
 *
 * Enumeration: the 2^n states are cut into 2^H chunks (high bits fixed); inside a chunk the low
 * L = n − H bits run through a Gray code, so each step flips one unit and updates the energy and
 * the local fields f_i = b_i + Σ_j W_ij z_j of its neighbours in O(degree).  Chunks are shared
 * between threads through an atomic counter, and every chunk keeps its own partial results,
 * merged in chunk order afterwards — results are bit-identical for any thread count. */
#include "bm.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>   /* C11 threads: <pthread.h> would pull <sched.h>, shadowed by src/sched.h */
#include <stdatomic.h>
#include <unistd.h>

/* ---- construction ---- */

struct bm *bm_new(struct graph *g)
{
    if (!g) return NULL;
    struct bm *bm = qv_calloc(1, sizeof *bm);
    bm->g = g;
    bm->n = g->nv;
    bm->ne = g->ne;
    bm->b = qv_calloc((size_t)QV_MAX(bm->n, 1), sizeof(double));
    bm->w = qv_calloc((size_t)QV_MAX(bm->ne, 1), sizeof(double));
    return bm;
}

struct bm *bm_clone(const struct bm *bm)
{
    if (!bm) return NULL;
    struct bm *c = bm_new(graph_clone(bm->g));
    memcpy(c->b, bm->b, (size_t)bm->n * sizeof(double));
    memcpy(c->w, bm->w, (size_t)bm->ne * sizeof(double));
    return c;
}

void bm_free(struct bm *bm)
{
    if (!bm) return;
    graph_free(bm->g);
    free(bm->b);
    free(bm->w);
    free(bm);
}

int bm_check_finite(const struct bm *bm)
{
    for (int i = 0; i < bm->n; i++)
        if (!isfinite(bm->b[i]))
            return qv_seterr("prior: bias b[%d] (qubit %ld) is %s", i, bm->g->label[i],
                             isnan(bm->b[i]) ? "NaN" : "infinite");
    for (long k = 0; k < bm->ne; k++)
        if (!isfinite(bm->w[k]))
            return qv_seterr("prior: coupling W[%ld] (qubits %ld–%ld) is %s", k,
                             bm->g->label[bm->g->edges[k][0]], bm->g->label[bm->g->edges[k][1]],
                             isnan(bm->w[k]) ? "NaN" : "infinite");
    return 0;
}

/* ---- conventions ---- */

void bm_to_ising(const struct bm *bm, double *h, double *J, double *offset)
{
    double off = 0;
    for (int i = 0; i < bm->n; i++) { h[i] = -bm->b[i] / 2; off -= bm->b[i] / 2; }
    for (long k = 0; k < bm->ne; k++) {
        double w = bm->w[k];
        J[k] = -w / 4;
        h[bm->g->edges[k][0]] -= w / 4;
        h[bm->g->edges[k][1]] -= w / 4;
        off -= w / 4;
    }
    if (offset) *offset = off;
}

/* Inverse of bm_to_ising: W = −4J, b_i = −2h_i + 2 Σ_j J_ij. */
void bm_from_ising(struct bm *bm, const double *h, const double *J)
{
    for (int i = 0; i < bm->n; i++) bm->b[i] = -2 * h[i];
    for (long k = 0; k < bm->ne; k++) {
        bm->w[k] = -4 * J[k];
        bm->b[bm->g->edges[k][0]] += 2 * J[k];
        bm->b[bm->g->edges[k][1]] += 2 * J[k];
    }
}

/* ---- energies and statistics ---- */

double bm_energy(const struct bm *bm, const uint8_t *z)
{
    double e = 0;
    for (int i = 0; i < bm->n; i++) if (z[i]) e -= bm->b[i];
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    for (long k = 0; k < bm->ne; k++) if (z[ed[k][0]] && z[ed[k][1]]) e -= bm->w[k];
    return e;
}

void bm_energy_batch(const struct bm *bm, const uint8_t *z, long count, double *e)
{
    for (long s = 0; s < count; s++) e[s] = bm_energy(bm, z + (size_t)s * bm->n);
}

void bm_energy_f(const struct bm *bm, const float *z, long count, double *e)
{
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    for (long s = 0; s < count; s++) {
        const float *zs = z + (size_t)s * bm->n;
        double acc = 0;
        for (int i = 0; i < bm->n; i++) acc -= bm->b[i] * zs[i];
        for (long k = 0; k < bm->ne; k++) acc -= bm->w[k] * ((double)zs[ed[k][0]] * zs[ed[k][1]]);
        e[s] = acc;
    }
}

void bm_stats(const struct bm *bm, const uint8_t *z, long count, double *mean, double *corr)
{
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    /* integer counts, then one division: exact for any count below 2^53 */
    long *ci = qv_calloc((size_t)QV_MAX(bm->n, 1), sizeof(long));
    long *ce = qv_calloc((size_t)QV_MAX(bm->ne, 1), sizeof(long));
    for (long s = 0; s < count; s++) {
        const uint8_t *zs = z + (size_t)s * bm->n;
        for (int i = 0; i < bm->n; i++) ci[i] += zs[i] != 0;
        for (long k = 0; k < bm->ne; k++) ce[k] += (zs[ed[k][0]] != 0) & (zs[ed[k][1]] != 0);
    }
    double inv = count > 0 ? 1.0 / (double)count : 0;
    for (int i = 0; i < bm->n; i++) mean[i] = (double)ci[i] * inv;
    for (long k = 0; k < bm->ne; k++) corr[k] = (double)ce[k] * inv;
    free(ci);
    free(ce);
}

void bm_stats_f(const struct bm *bm, const float *z, long count, double *mean, double *corr)
{
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    for (int i = 0; i < bm->n; i++) mean[i] = 0;
    for (long k = 0; k < bm->ne; k++) corr[k] = 0;
    for (long s = 0; s < count; s++) {
        const float *zs = z + (size_t)s * bm->n;
        for (int i = 0; i < bm->n; i++) mean[i] += zs[i];
        for (long k = 0; k < bm->ne; k++) corr[k] += (double)zs[ed[k][0]] * zs[ed[k][1]];
    }
    double inv = count > 0 ? 1.0 / (double)count : 0;
    for (int i = 0; i < bm->n; i++) mean[i] *= inv;
    for (long k = 0; k < bm->ne; k++) corr[k] *= inv;
}

/* ---- exact enumeration ---- */

static atomic_int exact_threads;

void bm_set_exact_threads(int threads) { atomic_store(&exact_threads, threads < 0 ? 0 : threads); }

static int n_threads(long nchunks)
{
    int t = atomic_load(&exact_threads);
    if (t <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        t = c > 0 ? (int)QV_MIN(c, 8) : 1;
    }
    return (int)QV_MIN((long)t, nchunks);
}

enum enum_mode { EN_LOGZ, EN_PROBS, EN_MARG, EN_SAMPLE };



struct enum_job {
    const struct bm *bm;
    enum enum_mode mode;
    double beta;
    int n, L;
    long nchunks;
    double *adjw;        /* [2 ne] W of each CSR adjacency */
    double *cmax, *csum; /* [nchunks] chunk log-mass = cmax + log(csum) */
    double logz;         /* MARG / SAMPLE: reference */
    double *p;           /* PROBS: [2^n] receives −βE, normalised afterwards */
    double *acc;         /* MARG: [nchunks × (n + ne)] */
    /* SAMPLE: sorted uniforms, per-chunk ranges and starting cumulative mass */
    const double *u;
    long *ubeg, *uend;
    double *cstart;
    uint32_t *state_out; /* [count] state index for each sorted uniform */
    atomic_long next;
};

/* Energy and local fields of the state with bits = idx, from scratch. */
static double state_init(const struct bm *bm, uint32_t idx, uint8_t *z, double *f)
{
    const struct graph *g = bm->g;
    for (int i = 0; i < bm->n; i++) { z[i] = (idx >> i) & 1; f[i] = bm->b[i]; }
    double e = 0;
    for (int i = 0; i < bm->n; i++) if (z[i]) e -= bm->b[i];
    for (long k = 0; k < bm->ne; k++) {
        int a = g->edges[k][0], b = g->edges[k][1];
        if (z[b]) f[a] += bm->w[k];
        if (z[a]) f[b] += bm->w[k];
        if (z[a] & z[b]) e -= bm->w[k];
    }
    return e;
}

static void run_chunk(struct enum_job *J, long c, uint8_t *z, double *f, double *start)
{
    const struct bm *bm = J->bm;
    const struct graph *g = bm->g;
    const long *as = g->adj_start;
    const int *adj = g->adj;
    const long *ae = g->adj_edge;
    const double *aw = J->adjw;
    const double beta = J->beta;
    int n = J->n, L = J->L;
    uint32_t idx = (uint32_t)c << L;
    double e = state_init(bm, idx, z, f);
    uint64_t steps = (uint64_t)1 << L;
    double m = -INFINITY, s = 0;

    if (J->mode == EN_LOGZ || J->mode == EN_PROBS) {
        double *p = J->p;
        for (uint64_t t = 0;; t++) {
            double x = -beta * e;
            if (p) p[idx] = x;
            if (x > m) { s = s * exp(m - x) + 1; m = x; } else s += exp(x - m);
            if (t + 1 == steps) break;
            int i = __builtin_ctzll(t + 1);
            double d;
            if (z[i]) { e += f[i]; z[i] = 0; d = -1; } else { e -= f[i]; z[i] = 1; d = 1; }
            idx ^= (uint32_t)1 << i;
            for (long a = as[i]; a < as[i + 1]; a++) f[adj[a]] += d * aw[a];
        }
        J->cmax[c] = m;
        J->csum[c] = s;
        return;
    }
    if (J->mode == EN_MARG) {
        /* Running-mass trick: a unit (or edge product) that is 1 over a run of consecutive
         * states contributes (mass at the end of the run) − (mass at its start), so each flip
         * costs O(degree), not O(n + ne) per state. */
        double *acc = J->acc + (size_t)c * (size_t)(n + bm->ne);
        double *st_n = start, *st_e = start + n;
        const double lz = J->logz;
        double W = 0;
        for (int i = 0; i < n; i++) st_n[i] = 0;
        for (long k = 0; k < bm->ne; k++) st_e[k] = 0;
        for (uint64_t t = 0;; t++) {
            W += exp(-beta * e - lz);
            if (t + 1 == steps) break;
            int i = __builtin_ctzll(t + 1);
            double d;
            if (z[i]) {
                acc[i] += W - st_n[i];
                for (long a = as[i]; a < as[i + 1]; a++) if (z[adj[a]]) acc[n + ae[a]] += W - st_e[ae[a]];
                e += f[i]; z[i] = 0; d = -1;
            } else {
                st_n[i] = W;
                for (long a = as[i]; a < as[i + 1]; a++) if (z[adj[a]]) st_e[ae[a]] = W;
                e -= f[i]; z[i] = 1; d = 1;
            }
            for (long a = as[i]; a < as[i + 1]; a++) f[adj[a]] += d * aw[a];
        }
        for (int i = 0; i < n; i++) if (z[i]) acc[i] += W - st_n[i];
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
        cum += exp(-beta * e - lz);
        while (next < end && J->u[next] < cum) J->state_out[next++] = idx;
        if (next >= end || t + 1 == steps) break;
        int i = __builtin_ctzll(t + 1);
        double d;
        if (z[i]) { e += f[i]; z[i] = 0; d = -1; } else { e -= f[i]; z[i] = 1; d = 1; }
        idx ^= (uint32_t)1 << i;
        for (long a = as[i]; a < as[i + 1]; a++) f[adj[a]] += d * aw[a];
    }
    while (next < end) J->state_out[next++] = idx;   /* rounding leftovers: last state */
}

static int enum_worker(void *arg)
{
    struct enum_job *J = arg;
    uint8_t *z = qv_malloc((size_t)J->n + 1);
    double *f = qv_mallocarray((size_t)J->n + 1, sizeof(double));
    double *start = qv_mallocarray((size_t)J->n + (size_t)J->bm->ne + 1, sizeof(double));
    for (;;) {
        long c = atomic_fetch_add(&J->next, 1);
        if (c >= J->nchunks) break;
        run_chunk(J, c, z, f, start);
    }
    free(z); free(f); free(start);
    return 0;
}

static void enum_run(struct enum_job *J)
{
    atomic_store(&J->next, 0);
    int nt = n_threads(J->nchunks);
    if (nt <= 1) { enum_worker(J); return; }
    thrd_t th[8];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (thrd_create(&th[started], enum_worker, J) == thrd_success) started++;
    enum_worker(J);
    for (int t = 0; t < started; t++) thrd_join(th[t], NULL);
}

static int enum_setup(struct enum_job *J, const struct bm *bm, double beta, enum enum_mode mode)
{
    memset(J, 0, sizeof *J);
    if (bm->n > BM_EXACT_MAX)
        return qv_seterr("exact enumeration: %d units, more than the %d that can be enumerated",
                         bm->n, BM_EXACT_MAX);
    if (!isfinite(beta)) return qv_seterr("exact enumeration: beta must be finite");
    if (bm_check_finite(bm) < 0) return -1;
    J->bm = bm;
    J->mode = mode;
    J->beta = beta;
    J->n = bm->n;
    int H = bm->n <= 14 ? 0 : QV_MAX(4, bm->n - 20);
    J->L = bm->n - H;
    J->nchunks = 1L << H;
    J->adjw = qv_mallocarray((size_t)QV_MAX(2 * bm->ne, 1), sizeof(double));
    for (long a = 0; a < 2 * bm->ne; a++) J->adjw[a] = bm->w[bm->g->adj_edge[a]];
    J->cmax = qv_mallocarray((size_t)J->nchunks, sizeof(double));
    J->csum = qv_mallocarray((size_t)J->nchunks, sizeof(double));
    return 0;
}

static void enum_done(struct enum_job *J)
{
    free(J->adjw); free(J->cmax); free(J->csum); free(J->acc);
    J->adjw = J->cmax = J->csum = J->acc = NULL;
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
    for (long s = 0; s < count; s++)
        for (int i = 0; i < bm->n; i++) z_out[(size_t)s * bm->n + i] = (J.state_out[s] >> i) & 1;
    free(u); free(J.ubeg); free(J.uend); free(J.cstart); free(J.state_out);
    enum_done(&J);
    return 0;
}

/* ---- random parameters, ranges ---- */

int bm_random(struct bm *bm, double scale, uint64_t seed)
{
    if (!isfinite(scale) || scale < 0) return qv_seterr("prior random: --scale must be a finite number >= 0");
    struct rng r;
    rng_init(&r, seed, 0xb0);
    double *h = qv_mallocarray((size_t)QV_MAX(bm->n, 1), sizeof(double));
    double *J = qv_mallocarray((size_t)QV_MAX(bm->ne, 1), sizeof(double));
    for (int i = 0; i < bm->n; i++) h[i] = scale * (2 * rng_uniform(&r) - 1);
    for (long k = 0; k < bm->ne; k++) J[k] = scale * (2 * rng_uniform(&r) - 1);
    bm_from_ising(bm, h, J);
    free(h); free(J);
    return 0;
}

void bm_ranges(const struct bm *bm, struct bm_ranges *r)
{
    double *h = qv_mallocarray((size_t)QV_MAX(bm->n, 1), sizeof(double));
    double *J = qv_mallocarray((size_t)QV_MAX(bm->ne, 1), sizeof(double));
    bm_to_ising(bm, h, J, &r->offset);
    r->bmin = r->hmin = r->wmin = r->jmin = INFINITY;
    r->bmax = r->hmax = r->wmax = r->jmax = -INFINITY;
    for (int i = 0; i < bm->n; i++) {
        r->bmin = fmin(r->bmin, bm->b[i]); r->bmax = fmax(r->bmax, bm->b[i]);
        r->hmin = fmin(r->hmin, h[i]); r->hmax = fmax(r->hmax, h[i]);
    }
    for (long k = 0; k < bm->ne; k++) {
        r->wmin = fmin(r->wmin, bm->w[k]); r->wmax = fmax(r->wmax, bm->w[k]);
        r->jmin = fmin(r->jmin, J[k]); r->jmax = fmax(r->jmax, J[k]);
    }
    /* + 0.0 turns −0 (from −b/2 with b = 0) into 0 for printing */
    r->bmin += 0.0; r->bmax += 0.0; r->hmin += 0.0; r->hmax += 0.0; r->offset += 0.0;
    r->wmin += 0.0; r->wmax += 0.0; r->jmin += 0.0; r->jmax += 0.0;
    if (bm->n == 0) r->bmin = r->bmax = r->hmin = r->hmax = 0;
    if (bm->ne == 0) r->wmin = r->wmax = r->jmin = r->jmax = 0;
    free(h); free(J);
}

/* ---- binary form ---- */

#define BM_MAGIC "QVBMPAR1"

int bm_serialize(const struct bm *bm, unsigned char **out, size_t *len)
{
    unsigned char *gb;
    size_t gl;
    if (graph_serialize(bm->g, &gb, &gl) < 0) return -1;
    size_t pl = 8 + 16 + ((size_t)bm->n + (size_t)bm->ne) * sizeof(double);
    unsigned char *b = qv_malloc(gl + pl), *p = b;
    memcpy(p, gb, gl); p += gl;
    free(gb);
    memcpy(p, BM_MAGIC, 8); p += 8;
    int64_t n = bm->n, ne = bm->ne;
    memcpy(p, &n, 8); p += 8;
    memcpy(p, &ne, 8); p += 8;
    memcpy(p, bm->b, (size_t)bm->n * sizeof(double)); p += (size_t)bm->n * sizeof(double);
    memcpy(p, bm->w, (size_t)bm->ne * sizeof(double));
    *out = b;
    *len = gl + pl;
    return 0;
}

struct bm *bm_deserialize(const unsigned char *buf, size_t len)
{
    size_t used;
    struct graph *g = graph_deserialize(buf, len, &used);
    if (!g) return NULL;
    const unsigned char *p = buf + used;
    size_t rest = len - used;
    int64_t n, ne;
    if (rest < 24 || memcmp(p, BM_MAGIC, 8) != 0) {
        graph_free(g);
        qv_seterr("prior data: missing parameters");
        return NULL;
    }
    memcpy(&n, p + 8, 8);
    memcpy(&ne, p + 16, 8);
    if (n != g->nv || ne != g->ne || rest != 24 + ((size_t)n + (size_t)ne) * sizeof(double)) {
        graph_free(g);
        qv_seterr("prior data: parameter block does not match the graph");
        return NULL;
    }
    struct bm *bm = bm_new(g);
    memcpy(bm->b, p + 24, (size_t)n * sizeof(double));
    memcpy(bm->w, p + 24 + (size_t)n * sizeof(double), (size_t)ne * sizeof(double));
    if (bm_check_finite(bm) < 0) { bm_free(bm); return NULL; }
    return bm;
}
