/* graph_topo.c — the hardware topologies: Chimera C(m,n,t), Pegasus P(m) (fabric / full / nice)
 * and Zephyr Z(m,t).  Coordinates ↔ linear labels, node attributes (colour, drawing position)
 * from labels, and the generators, which only list labels and edges and leave the CSR form to
 * the core's builder (graph.c).  Rules and test vectors: topologies.md §3. */
#include "graph.h"
#include "graph_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- coordinates ---- */

long graph_chimera_to_linear(int m, int n, int t, const int c[4])
{
    if (c[0] < 0 || c[0] >= m || c[1] < 0 || c[1] >= n || c[2] < 0 || c[2] > 1 || c[3] < 0 || c[3] >= t)
        return -1;
    return (((long)c[0] * n + c[1]) * 2 + c[2]) * t + c[3];
}

int graph_linear_to_chimera(int m, int n, int t, long r, int c[4])
{
    if (m < 1 || n < 1 || t < 1 || r < 0 || r >= 2L * m * n * t) return -1;
    c[3] = (int)(r % t); r /= t;
    c[2] = (int)(r % 2); r /= 2;
    c[1] = (int)(r % n);
    c[0] = (int)(r / n);
    return 0;
}

static const int peg_s0[12] = {2, 2, 2, 2, 10, 10, 10, 10, 6, 6, 6, 6};
static const int peg_s1[12] = {6, 6, 6, 6, 2, 2, 2, 2, 10, 10, 10, 10};

long graph_pegasus_to_linear(int m, const int c[4])
{
    if (m < 2 || c[0] < 0 || c[0] > 1 || c[1] < 0 || c[1] >= m || c[2] < 0 || c[2] >= 12 ||
        c[3] < 0 || c[3] >= m - 1)
        return -1;
    return (((long)c[0] * m + c[1]) * 12 + c[2]) * (m - 1) + c[3];
}

int graph_linear_to_pegasus(int m, long r, int c[4])
{
    if (m < 2 || r < 0 || r >= 24L * m * (m - 1)) return -1;
    c[3] = (int)(r % (m - 1)); r /= (m - 1);
    c[2] = (int)(r % 12); r /= 12;
    c[1] = (int)(r % m);
    c[0] = (int)(r / m);
    return 0;
}

int graph_nice_to_pegasus(int m, const int nc[5], int c[4])
{
    int t = nc[0], y = nc[1], x = nc[2], u = nc[3], k = nc[4];
    if (m < 2 || t < 0 || t > 2 || y < 0 || y >= m - 1 || x < 0 || x >= m - 1 || u < 0 || u > 1 ||
        k < 0 || k > 3)
        return -1;
    c[0] = u;
    c[3] = u ? x : y;
    if (t == 0) { c[1] = u ? y + 1 : x; c[2] = 4 + k; }
    else if (t == 1) { c[1] = u ? y + 1 : x; c[2] = u ? k : 8 + k; }
    else { c[1] = u ? y : x + 1; c[2] = u ? 8 + k : k; }
    return 0;
}

int graph_pegasus_to_nice(int m, const int c[4], int nc[5])
{
    int u = c[0], w = c[1], k = c[2], z = c[3];
    if (graph_pegasus_to_linear(m, c) < 0) return -1;
    int t = ((2 - u - (2 * u - 1) * (k / 4)) % 3 + 3) % 3;
    int y, x, kk;
    if (t == 0) { y = u ? w - 1 : z; x = u ? z : w; kk = k - 4; }
    else if (t == 1) { y = u ? w - 1 : z; x = u ? z : w; kk = u ? k : k - 8; }
    else { y = u ? w : z; x = u ? z : w - 1; kk = u ? k - 8 : k; }
    if (y < 0 || y >= m - 1 || x < 0 || x >= m - 1 || kk < 0 || kk > 3) return -1;
    nc[0] = t; nc[1] = y; nc[2] = x; nc[3] = u; nc[4] = kk;
    return 0;
}

long graph_zephyr_to_linear(int m, int t, const int c[5])
{
    long M = 2L * m + 1;
    if (m < 1 || t < 1 || c[0] < 0 || c[0] > 1 || c[1] < 0 || c[1] >= M || c[2] < 0 || c[2] >= t ||
        c[3] < 0 || c[3] > 1 || c[4] < 0 || c[4] >= m)
        return -1;
    return ((((long)c[0] * M + c[1]) * t + c[2]) * 2 + c[3]) * m + c[4];
}

int graph_linear_to_zephyr(int m, int t, long r, int c[5])
{
    long M = 2L * m + 1;
    if (m < 1 || t < 1 || r < 0 || r >= 4L * t * m * M) return -1;
    c[4] = (int)(r % m); r /= m;
    c[3] = (int)(r % 2); r /= 2;
    c[2] = (int)(r % t); r /= t;
    c[1] = (int)(r % M);
    c[0] = (int)(r / M);
    return 0;
}

/* ---- node attributes from labels (colour, drawing position) ---- */

/* Terminal Chimera cross placer (topologies.md §3.5), normalised by 1/(max(m,n)(t+3) - 3). */
static void chimera_place(int m, int n, int t, int i, int j, int u, int k, float *x, float *y)
{
    int c = t / 2, L = t + 3, p = k < c ? k : k + 1;
    double col = (double)j * L + (u == 0 ? p : c);
    double row = (double)i * L + (u == 0 ? c : p);
    double s = (double)QV_MAX(m, n) * L - 3;
    if (s <= 0) s = 1;
    *x = (float)fmin(1.0, col / s);
    *y = (float)fmin(1.0, row / s);
}

static void pegasus_raw(int m, long lab, double *x, double *y)
{
    int c[4] = {0};
    graph_linear_to_pegasus(m, lab, c);
    int u = c[0], w = c[1], k = c[2], z = c[3];
    double e = (k % 2 == 0) ? 0.1 : -0.1;
    if (u == 0) { *x = 12.0 * w + k + e; *y = -(12.0 * z + peg_s0[k] + 5.5); }
    else { *x = 12.0 * z + peg_s1[k] + 5.5; *y = -(12.0 * w + k + e); }
}

static void zephyr_raw(int m, int t, long lab, double *x, double *y)
{
    int c[5] = {0};
    graph_linear_to_zephyr(m, t, lab, c);
    int u = c[0], w = c[1], k = c[2], j = c[3], z = c[4];
    double W = 2.0 * t * w + 2.0 * k + 0.625 * j + 0.125;
    double Z = (2.0 * z + j + 1) * 2.0 * t - 0.5;
    if (u == 0) { *x = W; *y = -Z; }
    else { *x = Z; *y = -W; }
}

/* Fill color/x/y of every node from its label, for the three topology kinds.  Pegasus and
 * Zephyr positions are normalised over the full topology, so subgraphs keep their place. */
void graph_topo_attrs(struct graph *g)
{
    if (g->kind == GRAPH_CHIMERA) {
        g->ncolors = 2;
        for (int v = 0; v < g->nv; v++) {
            int c[4] = {0};
            graph_linear_to_chimera(g->m, g->n, g->t, g->label[v], c);
            g->color[v] = (c[0] ^ c[1] ^ c[2]) & 1;
            chimera_place(g->m, g->n, g->t, c[0], c[1], c[2], c[3], &g->x[v], &g->y[v]);
        }
        return;
    }
    long total;
    if (g->kind == GRAPH_PEGASUS) total = 24L * g->m * (g->m - 1);
    else total = 4L * g->t * g->m * (2L * g->m + 1);
    double minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    for (long l = 0; l < total; l++) {
        double x, y;
        if (g->kind == GRAPH_PEGASUS) pegasus_raw(g->m, l, &x, &y); else zephyr_raw(g->m, g->t, l, &x, &y);
        minx = fmin(minx, x); maxx = fmax(maxx, x); miny = fmin(miny, y); maxy = fmax(maxy, y);
    }
    double sx = maxx > minx ? maxx - minx : 1, sy = maxy > miny ? maxy - miny : 1;
    g->ncolors = 4;
    for (int v = 0; v < g->nv; v++) {
        double x, y;
        if (g->kind == GRAPH_PEGASUS) {
            int c[4] = {0}, nc[5];
            graph_linear_to_pegasus(g->m, g->label[v], c);
            g->color[v] = 2 * c[0] + ((c[2] ^ c[3]) & 1);
            if (g->pvar == PEGASUS_NICE && graph_pegasus_to_nice(g->m, c, nc) == 0) {
                /* Chimera placer on a C(3(m-1), 3(m-1), 4) grid, tile (3y+2-t, 3x+t). */
                int M = 3 * (g->m - 1);
                chimera_place(M, M, 4, 3 * nc[1] + 2 - nc[0], 3 * nc[2] + nc[0], nc[3], nc[4],
                              &g->x[v], &g->y[v]);
                continue;
            }
            pegasus_raw(g->m, g->label[v], &x, &y);
        } else {
            int c[5] = {0};
            graph_linear_to_zephyr(g->m, g->t, g->label[v], c);
            g->color[v] = c[3] + ((c[1] + 2 * (c[4] + c[0]) + c[3]) & 2);
            zephyr_raw(g->m, g->t, g->label[v], &x, &y);
        }
        g->x[v] = (float)((x - minx) / sx);
        g->y[v] = (float)((maxy - y) / sy);
    }
}

/* ---- generators ---- */

struct edge_buf { int (*e)[2]; long n, cap; };
static void eb_push(struct edge_buf *b, int u, int v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1024;
        b->e = qv_realloc(b->e, (size_t)b->cap * sizeof *b->e);
    }
    b->e[b->n][0] = u; b->e[b->n][1] = v; b->n++;
}

struct graph *graph_chimera(int m, int n, int t)
{
    if (m < 1 || n < 1 || t < 1) {
        qv_seterr("chimera: sizes must be positive integers (got M=%d N=%d T=%d)", m, n, t);
        return NULL;
    }
    double dnv = 2.0 * m * n * t, dne = (double)m * n * t * t + (m - 1.0) * n * t + m * (n - 1.0) * t;
    if (graph_size_check(dnv, dne, "chimera") < 0) return NULL;
    int nv = (int)dnv;
    long *labels = qv_mallocarray((size_t)nv, sizeof(long));
    for (int v = 0; v < nv; v++) labels[v] = v;
    struct edge_buf b = {0};
    b.cap = (long)dne; b.e = qv_mallocarray((size_t)QV_MAX(b.cap, 1), sizeof *b.e);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            int c0[4] = {i, j, 0, 0}, c1[4] = {i, j, 1, 0};
            for (int k0 = 0; k0 < t; k0++)
                for (int k1 = 0; k1 < t; k1++) {
                    c0[3] = k0; c1[3] = k1;
                    eb_push(&b, (int)graph_chimera_to_linear(m, n, t, c0), (int)graph_chimera_to_linear(m, n, t, c1));
                }
            for (int k = 0; k < t; k++) {
                int a[4] = {i, j, 0, k}, d[4] = {i + 1, j, 0, k};
                if (i < m - 1) eb_push(&b, (int)graph_chimera_to_linear(m, n, t, a), (int)graph_chimera_to_linear(m, n, t, d));
                int h[4] = {i, j, 1, k}, r[4] = {i, j + 1, 1, k};
                if (j < n - 1) eb_push(&b, (int)graph_chimera_to_linear(m, n, t, h), (int)graph_chimera_to_linear(m, n, t, r));
            }
        }
    struct graph *g = graph_build(GRAPH_CHIMERA, nv, labels, b.n, b.e);
    if (!g) return NULL;
    g->m = m; g->n = n; g->t = t;
    snprintf(g->desc, sizeof g->desc, "chimera %d %d %d", m, n, t);
    graph_topo_attrs(g);
    return g;
}

static bool peg_ok(int m, const int lo[2], const int hi[2], int u, int w, int k, int z)
{
    if (u < 0 || u > 1 || w < 0 || w >= m || k < 0 || k >= 12 || z < 0 || z >= m - 1) return false;
    if (w == 0 && k < lo[u]) return false;
    if (w == m - 1 && k >= 12 - hi[u]) return false;
    return true;
}

static const char *const peg_var_name[] = {"fabric", "full", "nice"};

/* Turn label-pair edges over a full index range [0,total) into a compact graph on the used
 * labels (nodes = endpoints of edges). */
static struct graph *build_from_label_edges(enum graph_kind kind, long total, struct edge_buf *b)
{
    int *map = qv_mallocarray((size_t)QV_MAX(total, 1), sizeof(int));
    for (long l = 0; l < total; l++) map[l] = -1;
    for (long k = 0; k < b->n; k++) { map[b->e[k][0]] = 0; map[b->e[k][1]] = 0; }
    int nv = 0;
    for (long l = 0; l < total; l++) if (map[l] == 0) map[l] = nv++;
    long *labels = qv_mallocarray((size_t)QV_MAX(nv, 1), sizeof(long));
    for (long l = 0; l < total; l++) if (map[l] >= 0) labels[map[l]] = l;
    for (long k = 0; k < b->n; k++) { b->e[k][0] = map[b->e[k][0]]; b->e[k][1] = map[b->e[k][1]]; }
    free(map);
    return graph_build(kind, nv, labels, b->n, b->e);
}

struct graph *graph_pegasus(int m, enum pegasus_variant v)
{
    if (m < 2) {
        qv_seterr("pegasus: M must be an integer >= 2 (got %d)", m);
        return NULL;
    }
    if ((int)v < 0 || (int)v > PEGASUS_NICE) {
        qv_seterr("pegasus: unknown variant %d", (int)v);
        return NULL;
    }
    double dnv = 24.0 * m * (m - 1), dne = 12.0 * (15.0 * (m - 1.0) * (m - 1.0) + m);
    if (graph_size_check(dnv, dne, "pegasus") < 0) return NULL;
    int lo[2], hi[2];
    if (v == PEGASUS_FABRIC) { lo[0] = lo[1] = 2; hi[0] = hi[1] = 2; }
    else if (v == PEGASUS_FULL) { lo[0] = lo[1] = hi[0] = hi[1] = 0; }
    else { lo[0] = 4; lo[1] = 8; hi[0] = 8; hi[1] = 4; }
    struct edge_buf b = {0};
    b.cap = (long)dne + 16; b.e = qv_mallocarray((size_t)b.cap, sizeof *b.e);
#define PL(u, w, k, z) ((int)(((((long)(u) * m + (w)) * 12 + (k)) * (m - 1)) + (z)))
    for (int u = 0; u < 2; u++)
        for (int w = 0; w < m; w++)
            for (int k = 0; k < 12; k++)
                for (int z = 0; z < m - 1; z++) {
                    if (!peg_ok(m, lo, hi, u, w, k, z)) continue;
                    if (peg_ok(m, lo, hi, u, w, k, z + 1)) eb_push(&b, PL(u, w, k, z), PL(u, w, k, z + 1));
                    if (k % 2 == 0 && peg_ok(m, lo, hi, u, w, k + 1, z)) eb_push(&b, PL(u, w, k, z), PL(u, w, k + 1, z));
                }
    for (int w = 0; w < m; w++)
        for (int k = 0; k < 12; k++)
            for (int z = 0; z < m - 1; z++) {
                if (!peg_ok(m, lo, hi, 0, w, k, z)) continue;
                for (int kk = 0; kk < 12; kk++) {
                    int w2 = z + (kk < peg_s0[k] ? 1 : 0), z2 = w - (k < peg_s1[kk] ? 1 : 0);
                    if (peg_ok(m, lo, hi, 1, w2, kk, z2)) eb_push(&b, PL(0, w, k, z), PL(1, w2, kk, z2));
                }
            }
#undef PL
    struct graph *g = build_from_label_edges(GRAPH_PEGASUS, 24L * m * (m - 1), &b);
    if (!g) return NULL;
    g->m = m; g->pvar = v;
    if (v == PEGASUS_FABRIC) snprintf(g->desc, sizeof g->desc, "pegasus %d", m);
    else snprintf(g->desc, sizeof g->desc, "pegasus %d %s", m, peg_var_name[v]);
    graph_topo_attrs(g);
    return g;
}

struct graph *graph_zephyr(int m, int t)
{
    if (m < 1 || t < 1) {
        qv_seterr("zephyr: sizes must be positive integers (got M=%d T=%d)", m, t);
        return NULL;
    }
    double dnv = 4.0 * t * m * (2.0 * m + 1), dne = 2.0 * t * ((8.0 * t + 8) * m * m + 3.0 * t);
    if (graph_size_check(dnv, dne, "zephyr") < 0) return NULL;
    struct edge_buf b = {0};
    b.cap = (long)dne + 16; b.e = qv_mallocarray((size_t)b.cap, sizeof *b.e);
    int M = 2 * m + 1;
#define ZL(u, w, k, j, z) ((int)((((((long)(u) * M + (w)) * t + (k)) * 2 + (j)) * m) + (z)))
    for (int u = 0; u < 2; u++)
        for (int w = 0; w < M; w++)
            for (int k = 0; k < t; k++) {
                for (int j = 0; j < 2; j++)
                    for (int z = 0; z < m - 1; z++) eb_push(&b, ZL(u, w, k, j, z), ZL(u, w, k, j, z + 1));
                for (int a = 0; a < 2; a++)
                    for (int z = a; z < m; z++) eb_push(&b, ZL(u, w, k, 0, z), ZL(u, w, k, 1, z - a));
            }
    for (int w = 0; w < m; w++)
        for (int z = 0; z < m; z++)
            for (int h = 0; h < t; h++)
                for (int k = 0; k < t; k++)
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 2; j++)
                            for (int a = 0; a < 2; a++)
                                for (int bb = 0; bb < 2; bb++)
                                    eb_push(&b, ZL(0, 2 * w + 1 + a * (2 * i - 1), k, j, z),
                                            ZL(1, 2 * z + 1 + bb * (2 * j - 1), h, i, w));
#undef ZL
    struct graph *g = build_from_label_edges(GRAPH_ZEPHYR, 4L * t * m * M, &b);
    if (!g) return NULL;
    g->m = m; g->t = t;
    snprintf(g->desc, sizeof g->desc, "zephyr %d %d", m, t);
    graph_topo_attrs(g);
    return g;
}
