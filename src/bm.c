/* bm.c — Boltzmann machines on a graph: parameters in the binary (b, W) and Ising (h, J)
 * conventions, batch energies and sufficient statistics, random parameters, and the binary and
 * text forms.  Exact enumeration (log Z, probabilities, marginals, samples): bm_exact.c. */
#include "bm.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void bm_stats_weighted(const struct bm *bm, const uint8_t *z, const double *logw, long count,
                       double *mean, double *corr)
{
    if (!logw) {
        bm_stats(bm, z, count, mean, corr);
        return;
    }
    const int n = bm->n;
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    memset(mean, 0, sizeof(double) * (size_t)n);
    memset(corr, 0, sizeof(double) * (size_t)bm->ne);
    double wmax = -INFINITY, wsum = 0;
    for (long c = 0; c < count; c++) wmax = fmax(wmax, logw[c]);
    for (long c = 0; c < count; c++) {
        const double w = exp(logw[c] - wmax);   /* max-shifted: no overflow */
        const uint8_t *zs = z + (size_t)c * n;
        for (int i = 0; i < n; i++)
            if (zs[i]) mean[i] += w;
        for (long k = 0; k < bm->ne; k++)
            if (zs[ed[k][0]] & zs[ed[k][1]]) corr[k] += w;
        wsum += w;
    }
    for (int i = 0; i < n; i++) mean[i] /= wsum;
    for (long k = 0; k < bm->ne; k++) corr[k] /= wsum;
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

/* ---- text form ---- */

int bm_format_text(const struct bm *bm, bool binary, char **out, size_t *len)
{
    const struct graph *g = bm->g;
    size_t cap = 256 + ((size_t)bm->n + (size_t)bm->ne) * 64, o = 0;
    char *b = qv_malloc(cap);
    double *h = NULL, *J = NULL, off = 0;
    if (!binary) {
        h = qv_mallocarray((size_t)bm->n + 1, sizeof(double));
        J = qv_mallocarray((size_t)bm->ne + 1, sizeof(double));
        bm_to_ising(bm, h, J, &off);
    }
    o += (size_t)snprintf(b + o, cap - o, "# qvae prior %s: %d units, %ld couplers\n", g->desc, bm->n, bm->ne);
    if (binary)
        o += (size_t)snprintf(b + o, cap - o, "# binary: E(z) = -sum b_i z_i - sum W_ij z_i z_j, z in {0,1}\n");
    else
        o += (size_t)snprintf(b + o, cap - o, "# ising: E(s) = sum h_i s_i + sum J_ij s_i s_j, s in {-1,+1}; "
                              "E(z) = E(s) + %.17g\n", off);
    for (int i = 0; i < bm->n; i++)
        o += (size_t)snprintf(b + o, cap - o, "%s %ld %.17g\n", binary ? "b" : "h", g->label[i],
                              binary ? bm->b[i] : h[i]);
    for (long k = 0; k < bm->ne; k++)
        o += (size_t)snprintf(b + o, cap - o, "%s %ld %ld %.17g\n", binary ? "W" : "J",
                              g->label[g->edges[k][0]], g->label[g->edges[k][1]], binary ? bm->w[k] : J[k]);
    free(h);
    free(J);
    *out = b;
    *len = o;
    return 0;
}

int bm_parse_text(struct bm *bm, const char *path)
{
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, true, &buf, &len) < 0) return -1;
    const struct graph *g = bm->g;
    double *x = qv_calloc((size_t)bm->n + 1, sizeof(double));    /* h or b */
    double *y = qv_calloc((size_t)bm->ne + 1, sizeof(double));   /* J or W */
    int conv = 0;   /* 1 ising, 2 binary */
    long line = 0;
    int rc = -1;
    char *cur = (char *)buf, *p;
    while ((p = qv_next_line(&cur))) {
        line++;
        char *tok[5], *save = NULL;
        int nt = 0;
        for (char *s = strtok_r(p, " \t\r", &save); s && nt < 5; s = strtok_r(NULL, " \t\r", &save)) tok[nt++] = s;
        if (nt == 0) continue;
        bool lin = !strcmp(tok[0], "h") || !strcmp(tok[0], "b");
        bool quad = !strcmp(tok[0], "J") || !strcmp(tok[0], "W");
        if ((!lin && !quad) || nt != (lin ? 3 : 4)) {
            qv_seterr("%s:%ld: expected \"h|b LABEL VALUE\" or \"J|W LABEL LABEL VALUE\"", path, line);
            goto out;
        }
        int c = (tok[0][0] == 'h' || tok[0][0] == 'J') ? 1 : 2;
        if (conv && c != conv) {
            qv_seterr("%s:%ld: mixes the Ising (h, J) and binary (b, W) conventions", path, line);
            goto out;
        }
        conv = c;
        long lab[2];
        double v;
        for (int k = 0; k < (lin ? 1 : 2); k++)
            if (qv_parse_long(tok[1 + k], &lab[k]) < 0) {
                qv_seterr("%s:%ld: '%s' is not a qubit label", path, line, tok[1 + k]);
                goto out;
            }
        if (qv_parse_double(tok[lin ? 2 : 3], &v) < 0) {
            qv_seterr("%s:%ld: '%s' is not a finite number", path, line, tok[lin ? 2 : 3]);
            goto out;
        }
        int u = graph_find_label(g, lab[0]);
        if (u < 0) { qv_seterr("%s:%ld: qubit %ld is not in the prior's graph", path, line, lab[0]); goto out; }
        if (lin) { x[u] = v; continue; }
        int w = graph_find_label(g, lab[1]);
        if (w < 0) { qv_seterr("%s:%ld: qubit %ld is not in the prior's graph", path, line, lab[1]); goto out; }
        long e = graph_edge_index(g, u, w);
        if (e < 0) {
            qv_seterr("%s:%ld: qubits %ld and %ld are not coupled in the prior's graph", path, line, lab[0], lab[1]);
            goto out;
        }
        y[e] = v;
    }
    if (conv == 1) bm_from_ising(bm, x, y);
    else {
        memcpy(bm->b, x, (size_t)bm->n * sizeof(double));
        memcpy(bm->w, y, (size_t)bm->ne * sizeof(double));
    }
    rc = 0;
out:
    free(buf);
    free(x);
    free(y);
    return rc;
}
