/* lab_modes.c — local minima of a prior, their basin masses and the chains' tours among them
 * (lab_modes.h). */
#include "lab_modes.h"
#include "qv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lab_modes_init(struct lab_modes *m) { memset(m, 0, sizeof *m); }

void lab_modes_free(struct lab_modes *m)
{
    free(m->z); free(m->energy); free(m->mass); free(m->mass_err); free(m->by_state);
    lab_modes_init(m);
}

/* f [n] local fields of z: f_i = b_i + Σ_j W_ij z_j. */
static void fields(const struct bm *bm, const uint8_t *z, double *f)
{
    const struct graph *g = bm->g;
    for (int i = 0; i < bm->n; i++) {
        double s = bm->b[i];
        for (long a = g->adj_start[i]; a < g->adj_start[i + 1]; a++)
            if (z[g->adj[a]]) s += bm->w[g->adj_edge[a]];
        f[i] = s;
    }
}

/* The descent with caller scratch f [n]. */
static long descend_ws(const struct bm *bm, uint8_t *z, double *f)
{
    const struct graph *g = bm->g;
    fields(bm, z, f);
    long flips = 0;
    for (;;) {
        int best = -1;
        double dbest = -LAB_DESCENT_TOL;
        for (int i = 0; i < bm->n; i++) {
            double d = z[i] ? f[i] : -f[i];   /* ΔE of flipping unit i */
            if (d < dbest) { dbest = d; best = i; }   /* strict: ties keep the lowest index */
        }
        if (best < 0) return flips;
        z[best] ^= 1;
        double sgn = z[best] ? 1.0 : -1.0;
        for (long a = g->adj_start[best]; a < g->adj_start[best + 1]; a++)
            f[g->adj[a]] += sgn * bm->w[g->adj_edge[a]];
        flips++;
    }
}

long lab_descend(const struct bm *bm, uint8_t *z)
{
    double *f = qv_mallocarray((size_t)bm->n + 1, sizeof(double));
    long k = descend_ws(bm, z, f);
    free(f);
    return k;
}

#define DESCENT_BLOCK 256   /* samples per parallel job */

struct descent_job {
    const struct bm *bm;
    const uint8_t *z;    /* [count × n] starts, or NULL: job enumerates state indices */
    long count;
    uint8_t *out;        /* [count × n] */
};

static void descent_block(void *ctx, long job)
{
    const struct descent_job *J = ctx;
    int n = J->bm->n;
    double *f = qv_mallocarray((size_t)n + 1, sizeof(double));
    long end = QV_MIN(J->count, (job + 1) * DESCENT_BLOCK);
    for (long k = job * DESCENT_BLOCK; k < end; k++) {
        uint8_t *z = J->out + (size_t)k * n;
        if (J->z) memcpy(z, J->z + (size_t)k * n, (size_t)n);
        else for (int i = 0; i < n; i++) z[i] = (uint8_t)((k >> i) & 1);   /* bit i = z_i */
        descend_ws(J->bm, z, f);
    }
    free(f);
}

static void run_descent(const struct bm *bm, const uint8_t *z, long count, int threads,
                        uint8_t *out)
{
    struct descent_job J = {bm, z, count, out};
    long jobs = (count + DESCENT_BLOCK - 1) / DESCENT_BLOCK;
    int t = threads > 0 ? threads : qv_ncpu();
    qv_parallel((int)QV_MIN((long)t, jobs), jobs, descent_block, &J);
}

void lab_descend_all(const struct bm *bm, const struct samples *s, int threads, uint8_t *minima)
{
    run_descent(bm, s->z, s->count, threads, minima);
}

struct sort_ctx { const uint8_t *z; int n; const double *key; };

static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const struct sort_ctx *c = ctx;
    long i = *(const long *)a, j = *(const long *)b;
    int r = memcmp(c->z + (size_t)i * c->n, c->z + (size_t)j * c->n, (size_t)c->n);
    return r ? r : (i > j) - (i < j);
}

/* heaviest first; equal masses by energy, then by state (a total order: output is stable) */
static int cmp_mass(const void *a, const void *b, void *ctx)
{
    const struct sort_ctx *c = ctx;
    long i = *(const long *)a, j = *(const long *)b;
    if (c->key[i] != c->key[j]) return c->key[i] < c->key[j] ? 1 : -1;
    return cmp_rows(a, b, ctx);
}

/* Build the table from `count` minima [count × n] with weights w [count] (NULL = 1 each). */
static void build_table(struct lab_modes *m, const struct bm *bm, const uint8_t *mins,
                        const double *w, long count)
{
    int n = bm->n;
    long *idx = qv_mallocarray((size_t)count + 1, sizeof(long));
    for (long k = 0; k < count; k++) idx[k] = k;
    struct sort_ctx c = {mins, n, NULL};
    qsort_r(idx, (size_t)count, sizeof(long), cmp_rows, &c);
    /* distinct minima: first occurrence and summed weight */
    long *first = qv_mallocarray((size_t)count + 1, sizeof(long));
    double *mass = qv_mallocarray((size_t)count + 1, sizeof(double));
    long k = 0;
    double tot = 0;
    for (long a = 0; a < count; a++) {
        double wi = w ? w[idx[a]] : 1.0;
        tot += wi;
        if (a > 0 && !memcmp(mins + (size_t)idx[a] * n, mins + (size_t)idx[a - 1] * n, (size_t)n)) {
            mass[k - 1] += wi;
            continue;
        }
        first[k] = idx[a];
        mass[k] = wi;
        k++;
    }
    /* order modes by mass */
    long *ord = qv_mallocarray((size_t)k + 1, sizeof(long));
    for (long i = 0; i < k; i++) ord[i] = i;
    uint8_t *zs = qv_mallocarray((size_t)k * n + 1, 1);
    for (long i = 0; i < k; i++) memcpy(zs + (size_t)i * n, mins + (size_t)first[i] * n, (size_t)n);
    struct sort_ctx cm = {zs, n, mass};
    qsort_r(ord, (size_t)k, sizeof(long), cmp_mass, &cm);
    m->n = n;
    m->nmodes = k;
    m->z = qv_mallocarray((size_t)k * n + 1, 1);
    m->energy = qv_mallocarray((size_t)k + 1, sizeof(double));
    m->mass = qv_mallocarray((size_t)k + 1, sizeof(double));
    m->mass_err = qv_calloc((size_t)k + 1, sizeof(double));
    m->by_state = qv_mallocarray((size_t)k + 1, sizeof(long));
    for (long i = 0; i < k; i++) {
        memcpy(m->z + (size_t)i * n, zs + (size_t)ord[i] * n, (size_t)n);
        m->mass[i] = tot > 0 ? mass[ord[i]] / tot : 0;
        m->energy[i] = bm_energy(bm, m->z + (size_t)i * n);
        m->by_state[i] = i;
    }
    struct sort_ctx cs = {m->z, n, NULL};
    qsort_r(m->by_state, (size_t)k, sizeof(long), cmp_rows, &cs);
    free(idx); free(first); free(mass); free(ord); free(zs);
}

int lab_modes_from_samples(struct lab_modes *m, const struct bm *bm, const struct samples *s,
                           int threads)
{
    lab_modes_free(m);
    if (s->count < 1) return qv_seterr("modes: no samples");
    if (s->n != bm->n) return qv_seterr("modes: samples of %d units, prior of %d", s->n, bm->n);
    uint8_t *mins = qv_mallocarray((size_t)s->count * s->n, 1);
    lab_descend_all(bm, s, threads, mins);
    double *w = NULL;
    if (s->logw) {
        w = qv_mallocarray((size_t)s->count, sizeof(double));
        samples_weights(s, w);
    }
    build_table(m, bm, mins, w, s->count);
    double sw = 0, sw2 = 0;
    for (long k = 0; k < s->count; k++) { double x = w ? w[k] : 1; sw += x; sw2 += x * x; }
    m->n_eff = sw2 > 0 ? sw * sw / sw2 : 0;
    for (long i = 0; i < m->nmodes; i++)
        m->mass_err[i] = m->n_eff > 0 ? sqrt(m->mass[i] * (1 - m->mass[i]) / m->n_eff) : NAN;
    m->exact = false;
    free(w);
    free(mins);
    return 0;
}

int lab_modes_exact(struct lab_modes *m, const struct bm *bm, double beta, int threads)
{
    lab_modes_free(m);
    if (bm->n > LAB_MODES_EXACT_MAX)
        return qv_seterr("modes: exact basins need n <= %d units, the prior has %d",
                         LAB_MODES_EXACT_MAX, bm->n);
    long S = 1L << bm->n;
    double *p = qv_mallocarray((size_t)S, sizeof(double));
    if (bm_probs_exact(bm, beta, p)) { free(p); return -1; }
    uint8_t *mins = qv_mallocarray((size_t)S * bm->n + 1, 1);
    run_descent(bm, NULL, S, threads, mins);
    build_table(m, bm, mins, p, S);
    m->exact = true;
    m->n_eff = 0;
    free(mins);
    free(p);
    return 0;
}

long lab_modes_find(const struct lab_modes *m, const uint8_t *zmin)
{
    long lo = 0, hi = m->nmodes;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        int r = memcmp(m->z + (size_t)m->by_state[mid] * m->n, zmin, (size_t)m->n);
        if (!r) return m->by_state[mid];
        if (r < 0) lo = mid + 1; else hi = mid;
    }
    return -1;
}

long lab_modes_major(const struct lab_modes *m, double min_mass, double *mass)
{
    long k = 0;
    double s = 0;
    for (long i = 0; i < m->nmodes; i++)
        if (m->mass[i] >= min_mass) { k++; s += m->mass[i]; }
    if (mass) *mass = s;
    return k;
}

void lab_visits_free(struct lab_visits *v)
{
    free(v->frac);
    memset(v, 0, sizeof *v);
}

int lab_visits(struct lab_visits *v, const struct lab_modes *m, const struct bm *bm,
               const struct samples *s, long chains, double min_mass, int threads)
{
    memset(v, 0, sizeof *v);
    if (s->count < 1) return qv_seterr("modes: no samples");
    if (s->n != bm->n || m->n != bm->n)
        return qv_seterr("modes: samples of %d units, prior of %d", s->n, bm->n);
    uint8_t *mins = qv_mallocarray((size_t)s->count * s->n, 1);
    lab_descend_all(bm, s, threads, mins);
    double *w = NULL;
    if (s->logw) {
        w = qv_mallocarray((size_t)s->count, sizeof(double));
        samples_weights(s, w);
    }
    long *id = qv_mallocarray((size_t)s->count, sizeof(long));
    v->nmodes = m->nmodes;
    v->frac = qv_calloc((size_t)m->nmodes + 1, sizeof(double));
    double tot = 0;
    for (long k = 0; k < s->count; k++) {
        id[k] = lab_modes_find(m, mins + (size_t)k * s->n);
        double wk = w ? w[k] : 1.0;
        v->frac[id[k] < 0 ? m->nmodes : id[k]] += wk;
        tot += wk;
    }
    for (long i = 0; i <= m->nmodes; i++) v->frac[i] = tot > 0 ? v->frac[i] / tot : 0;
    for (long i = 0; i < m->nmodes; i++) {
        if (m->mass[i] < min_mass) continue;
        v->major++;
        if (v->frac[i] > 0) { v->covered++; v->covered_mass += m->mass[i]; }
    }
    /* tunnelling: chain c's states are c, c + chains, …; a minimum outside the table counts as
     * its own basin (compared by state, not by table index) */
    if (chains >= 1 && chains < s->count) {
        for (long k = chains; k < s->count; k++) {
            v->steps++;
            if (memcmp(mins + (size_t)k * s->n, mins + (size_t)(k - chains) * s->n, (size_t)s->n))
                v->hops++;
        }
    }
    free(id);
    free(w);
    free(mins);
    return 0;
}
